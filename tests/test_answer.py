"""The extractive answer, on the real index of the real article."""

import re

import pytest

from assistant.errors import EmptyQuestion, QuestionTooLong
from assistant.ingest.text import search_forms, to_simplified


def _quoted_sentences(text: str) -> list[tuple[str, int]]:
    return [(m.group(1), int(m.group(2))) for m in re.finditer(r"([^\n\[\]]+?)\[(\d+)\]", text)]


def _in(passage: str, quote: str) -> bool:
    return any(q in p for q in search_forms(quote) for p in search_forms(passage))


def test_gmv_question_shows_both_figures_with_their_own_citations(assistant):
    answer = assistant.ask("微信小店的GMV增长了多少？")
    assert not answer.refused
    assert "1.92倍" in answer.text and "200%" in answer.text
    cites = dict(
        (fig, n)
        for quote, n in _quoted_sentences(answer.text)
        for fig in ("1.92倍", "200%")
        if fig in quote
    )
    assert cites["1.92倍"] != cites["200%"]
    # each figure comes with its period
    assert "2023年同期" in answer.text and "2024年12月" in answer.text


def test_every_quote_is_in_the_passage_it_cites(assistant):
    for question in (
        "微信小店的GMV增长了多少？",
        "How much did GMV grow?",
        "影片號推薦演算法看重哪些指標？",
        "视频号对新人创作者有什么扶持？",
    ):
        answer = assistant.ask(question)
        quotes = _quoted_sentences(answer.text)
        assert quotes, question
        for quote, n in quotes:
            citation = answer.citations[n - 1]
            assert citation.n == n and citation.cited
            quote = quote.replace("From the articles (quoted in Chinese):", "")
            # a passage's heading may be quoted too: it is shown with it (title › section)
            assert _in(citation.text, quote) or _in(citation.section, quote.rstrip("。"))


def test_answer_is_short_sentences_not_whole_passages(assistant):
    answer = assistant.ask("视频号直播的位置插件有什么用？")
    body = re.sub(r"\[\d+\]", "", answer.text)
    assert len(body) <= 200
    assert "地域" in body
    assert len(body) < len(answer.citations[0].text)


def test_answer_follows_the_askers_script(assistant):
    simplified = assistant.ask("法律垂类直播的开播上涨了多少？")
    traditional = assistant.ask("法律垂類直播的開播上漲了多少？")
    english = assistant.ask("How much did legal live streams grow?")
    assert "法律垂类直播的开播上涨了2.5倍" in simplified.text
    assert "法律垂類直播的開播上漲了2.5倍" in traditional.text
    assert english.text.startswith("From the articles (quoted in Chinese):")
    assert "2.5倍" in english.text
    assert (simplified.script, traditional.script, english.script) == ("zh-Hans", "zh-Hant", "en")


@pytest.mark.parametrize(
    "question",
    [
        "快手电商的GMV是多少？",
        "视频号的月活跃用户有多少？",
        "How do I reset my WeChat password?",
        "今天天气怎么样？",
    ],
)
def test_unanswerable_is_refused_with_nearest_passages(assistant, question):
    answer = assistant.ask(question)
    assert answer.refused
    assert "没有找到" in answer.text or "not find" in answer.text
    assert answer.citations and not any(c.cited for c in answer.citations)
    assert "[1]" not in answer.text  # nothing is claimed


def test_follow_up_is_resolved_against_the_previous_question(assistant):
    answer = assistant.ask("那订单数量呢？", ["微信小店的GMV增长了多少？"])
    assert "2.25倍" in answer.text and not answer.refused
    assert "订单数量" in answer.standalone and "GMV" in answer.standalone
    answer = assistant.ask("法律类直播呢？", ["视频号内容主播的收入有什么变化？"])
    assert "2.5倍" in answer.text


def test_markup_in_a_question_is_ignored(assistant):
    plain = assistant.ask("微信小店的GMV增长了多少？")
    pasted = assistant.ask("<script>alert(1)</script><p>微信小店的<b>GMV</b>增长了多少？</p>")
    assert pasted.text == plain.text
    assert "<" not in pasted.question


def test_history_limit(assistant):
    no_memory = assistant.__class__(
        assistant.settings.model_copy(update={"max_history_turns": 0}), assistant.embedder
    )
    answer = no_memory.ask("那订单数量呢？", ["微信小店的GMV增长了多少？"])
    assert answer.standalone == "那订单数量呢？"


def test_bad_questions_are_rejected_before_search(assistant):
    with pytest.raises(EmptyQuestion):
        assistant.ask("   \n ")
    with pytest.raises(QuestionTooLong, match="2,000"):
        assistant.ask("长" * 2001)


def test_json_shape_and_timings(assistant):
    data = assistant.ask("女装等类目的保证金最多降多少？").to_dict()
    assert set(data) >= {"question", "answer", "refused", "citations", "timings_ms"}
    assert {"n", "doc_id", "title", "section", "text", "score"} <= set(data["citations"][0])
    assert data["timings_ms"]["total"] >= data["timings_ms"]["retrieve"] > 0


def test_render_lists_the_numbered_sources(assistant):
    text = assistant.ask("微信小店的GMV增长了多少？").render()
    assert "来源:" in text and "[1] 微信公开课2025" in text
    assert "微信小店 › 1. 微信小店GMV规模增长1.92倍" in text


def test_each_step_of_the_chain_returns_a_new_turn_with_its_time(assistant):
    from assistant.answer.chain import Turn

    first = Turn("微信小店的GMV增长了多少？", [], 0.0)
    resolved = assistant._resolve(first)
    retrieved = assistant._retrieve(resolved)
    assert first.query is None and first.timings == {}  # nothing changed in place
    assert resolved.query is not None and resolved.passages == []
    assert retrieved.passages and set(retrieved.timings) == {"retrieve"}
    answer = assistant._extract(retrieved)
    assert set(answer.timings_ms) == {"retrieve", "answer"} and not answer.refused


PASTED = (
    "老师您好，我们是一家做女装的服务商，去年下半年开始在视频号做直播带货，目前团队有十几个人，"
    "主要负责选品、场控和短视频剪辑。最近我们在考虑把更多的预算投到微信生态里，因为客户反馈说"
    "小店的转化还不错，复购也比其他平台高一些。不过老板比较关心成本问题，尤其是开店押的钱，"
    "之前听同行说今年平台对一些类目有调整，但具体的数字大家说法都不一样，有人说降了三成，"
    "有人说降了一半，我们也不确定是不是所有类目都适用，还是只有服饰这类才有。另外我们也想了解"
    "一下平台对新入驻的商家有没有什么扶持，比如流量券或者减免之类的，这个可以后面再说。我们下周"
    "要给老板汇报，所以比较着急，辛苦了，麻烦您帮忙确认一下，非常感谢您百忙之中抽空回复我们的问题，"
    "也祝您工作顺利。我们这边的负责人姓王，如果需要更多信息可以随时联系。微信小店保证金降了多少？"
)


def test_the_question_at_the_end_of_a_pasted_message_is_answered(assistant):
    assert len(PASTED) > 300
    answer = assistant.ask(PASTED)
    assert not answer.refused and "50%" in answer.text
    assert answer.question == "微信小店保证金降了多少？"


@pytest.mark.parametrize(
    "typed, fact",
    [("微信小点的GVM增长了多少", "1.92"), ("视屏号推荐算法看什么指标", "完播率")],
)
def test_typos_are_read_as_the_corpus_words_they_sound_like(assistant, typed, fact):
    answer = assistant.ask(typed)
    assert not answer.refused and fact in to_simplified(answer.text)


def test_spelling_leaves_real_words_and_other_scripts_alone():
    from assistant.answer.spelling import Speller

    speller = Speller(["视频号", "小程式", "城市", "gmv"])
    for text in (
        "那二、三線城市使用者佔比呢？",
        "影片號和視頻號",
        "GMV和gmv",
        "视频号和视频的区别",
    ):
        assert speller.correct(text) == text
