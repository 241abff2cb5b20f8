from assistant.ingest.text import (
    detect_script,
    is_traditional,
    search_forms,
    search_tokens,
    split_sentences,
    to_script,
    to_simplified,
)


def test_detect_script_of_questions():
    assert detect_script("微信小店的GMV增长了多少？") == "zh-Hans"
    assert detect_script("法律垂類直播的開播上漲了多少？") == "zh-Hant"
    assert detect_script("How much did GMV grow?") == "en"
    assert detect_script("GMV") == "en"


def test_tw2sp_only_on_traditional_text():
    # tw2sp on simplified text corrupts 小程序 into 小进程; we must not apply it.
    assert to_simplified("小程序") == "小程序"
    assert to_simplified("小程式連線到微信小店") == "小程序连接到微信小店"
    assert to_simplified("影片號") == "视频号"


def test_words_tw2sp_over_converts_are_kept():
    assert to_simplified("推薦演算法中有幾個明確指標") == "推荐算法中有几个明确指标"
    assert "互动" in to_simplified("粉絲互動率")


def test_both_forms_are_searchable():
    forms = search_forms("影片號的點選率")
    assert forms == ["影片号的点选率", "视频号的点击率"]
    tokens = search_tokens("影片號")
    assert "影片号" in tokens and "视频号" in tokens
    assert search_forms("视频号") == ["视频号"]


def test_render_in_asker_script():
    assert to_script("影片號優質內容", "zh-Hans") == "视频号优质内容"
    assert to_script("影片號優質內容", "zh-Hant") == "影片號優質內容"
    assert to_script("视频号", "zh-Hant") == "視頻號"
    assert to_script("影片號", "en") == "影片號"


def test_split_sentences_keeps_numbers_and_quotes():
    text = "相比2023年同期,GMV增長1.92倍,訂單2.25倍。他說“好”！三是;四是"
    assert split_sentences(text) == [
        "相比2023年同期,GMV增長1.92倍,訂單2.25倍。",
        "他說“好”！",
        "三是;",
        "四是",
    ]


def test_is_traditional_needs_more_than_one_stray_character():
    assert not is_traditional("这是一个很长的简体中文句子，只有一个繁體字在这里面出现而已啦")
    assert is_traditional("這是")


def test_follow_up_openers_need_a_word_boundary():
    from assistant.answer.conversation import resolve

    query = resolve("Android用户有多少？", ["视频号的月活跃用户有多少？"])
    assert "roid" not in query.focus.replace("Android", "")
    assert resolve("And orders?", ["How much did GMV grow?"]).focus == "orders"
