"""The web chat: handlers called directly, and the real app on a loopback port."""

from __future__ import annotations

import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from assistant.ingest.uploads import NameTaken, UploadRejected
from assistant.serve.running import RunningAssistant
from assistant.settings import Settings
from tests.conftest import CORPUS
from tests.servers import free_port
from ui import ChatHandlers, create_app


def _final(handlers: ChatHandlers, question: str, history=None) -> list[str]:
    return list(handlers.reply(question, history or []))


@pytest.fixture(scope="module")
def handlers(tmp_path_factory, assistant) -> ChatHandlers:
    data = tmp_path_factory.mktemp("uidata")
    settings = assistant.settings.model_copy(update={"data_dir": data})
    return ChatHandlers(RunningAssistant(settings, assistant))


@pytest.fixture
def writable(tmp_path, embedder) -> ChatHandlers:
    """Handlers over a private corpus and index, for uploads and re-indexing."""
    shutil.copytree(CORPUS, tmp_path / "corpus")
    settings = Settings(
        corpus_dir=tmp_path / "corpus",
        index_dir=tmp_path / "index",
        data_dir=tmp_path / "data",
        max_upload_bytes=20_000,
    )
    h = ChatHandlers(RunningAssistant(settings))  # no index yet: the page still opens
    assert "assistant index" in h.running.startup_error
    h.reindex()
    return h


def test_reply_streams_then_shows_sources(handlers):
    steps = _final(handlers, "微信小店的GMV增长了多少？")
    assert len(steps) >= 3  # sentence by sentence, then with the sources
    assert "1.92倍" in steps[0] and "来源" not in steps[0]
    assert '<sup><a href="#source-1">[1]</a></sup>' in steps[0]  # a link to its source
    final = steps[-1]
    assert "**来源**" in final and "<mark>" in final and "<details>" in final
    assert "微信小店 › 3. 微信小店带货者GMV涨幅超过200%" in final


def test_follow_up_uses_the_chat_history(handlers):
    history = [
        {"role": "user", "content": "微信小店的GMV增长了多少？"},
        {"role": "assistant", "content": "…"},
    ]
    assert "2.25倍" in _final(handlers, "那订单数量呢？", history)[-1]


def test_not_found_says_so_with_nearest_passages(handlers):
    final = _final(handlers, "快手电商的GMV是多少？")[-1]
    assert "没有找到" in final and "**最接近的段落（并非答案）**" in final and "<sup>" not in final
    assert final.count("<details>") == 3  # every nearest passage, not only a quoted one


def test_markup_in_questions_and_passages_is_text(handlers):
    final = _final(handlers, "<img src=x onerror=alert(1)>视频号对新人创作者有什么扶持？")[-1]
    assert "<img" not in final and "扶持" in final
    # a passage's own markup is escaped too
    from assistant.answer.response import Answer, Citation
    from assistant.serve.webformat import answer_markup

    evil = Citation(
        1,
        "x.md",
        "<script>t</script>",
        "[a](javascript:alert(1))",
        "文本<img src=x onerror=alert(1)>。",
        0.1,
        True,
        ["文本<img src=x onerror=alert(1)>。"],
    )
    markup = answer_markup(Answer("q", "文本<script>x</script>。[1]", False, [evil], "en"))
    for live in ("<script", "<img", "](javascript", "[a]("):
        assert live not in markup


def test_empty_question_is_a_prompt(handlers):
    assert _final(handlers, "   ") == ["Please type a question, e.g. 微信小店的GMV增长了多少？"]


@pytest.mark.parametrize(
    ("lang", "expected"), [("zh", "问题有 2,100 个字符，上限是 2,000"), ("en", "2,100 characters")]
)
def test_a_question_over_the_limit_is_refused_in_the_pages_language(
    handlers, caplog, lang, expected
):
    """Issue 13: a message in the page's language (the page shows it in the
    chat and keeps the text), and one log line with no traceback."""
    with caplog.at_level("INFO"):
        message = handlers.refusal("请" * 2100, lang)
    assert expected in message
    assert handlers.refusal("   ", lang) and handlers.refusal("GMV增长了多少？", lang) is None
    assert len(caplog.records) == 2 and not any(r.exc_info for r in caplog.records)
    assert all("\n" not in r.getMessage() for r in caplog.records)


def test_the_english_pages_status_lines_are_english(writable, tmp_path):
    """Issue 13: no "索引完成 · Indexed" — each status line in one language."""
    page = tmp_path / "note.md"
    page.write_text("# Note\n\nThe note says GMV doubled.\n", encoding="utf-8")
    added = writable.add_article(str(page), lang="en")
    assert added.startswith("✓ Added note.md") and "passages written: 1, deleted: 0" in added
    assert not re.search(r"[\u4e00-\u9fff]", added), added
    zh = writable.reindex(lang="zh")
    assert zh.startswith("索引完成") and "Indexed" not in zh


def test_feedback_is_appended_with_question_answer_and_citations(handlers):
    final = _final(handlers, "女装等类目的保证金最多降多少？")[-1]
    shown = [{"type": "text", "text": final}]  # the message as the page sends it back
    handlers.feedback(True, shown)
    handlers.feedback(False, shown)
    handlers.feedback("", shown)  # Gradio's value when a 👍/👎 is taken back
    lines = handlers.feedback_log.path.read_text(encoding="utf-8").splitlines()[-3:]
    up, down, cleared = (json.loads(line) for line in lines)
    assert (up["rating"], down["rating"], cleared["rating"]) == ("up", "down", "cleared")
    assert up["answer_id"] == down["answer_id"] == cleared["answer_id"]
    assert up["question"] == "女装等类目的保证金最多降多少？"
    assert "50%" in up["answer"] and up["citations"][0]["n"] == 1


def test_feedback_on_an_unknown_message_is_bounded_and_has_no_question(handlers):
    handlers.feedback(False, [{"type": "text", "text": "假" * 1_000_000}])
    handlers.feedback(True, {"nested": ["not", "a", "message"]})
    lines = handlers.feedback_log.path.read_text(encoding="utf-8").splitlines()[-2:]
    forged, odd = (json.loads(line) for line in lines)
    assert forged["question"] == "" and len(forged["answer"]) == 1000
    assert forged["citations"] == [] and odd["answer"] == ""
    assert all(len(line) < 20_000 for line in lines)


def test_knowledge_base_lists_articles(handlers):
    rows = handlers.articles()
    assert rows[0][1] == "wechat-open-class-2025.md" and rows[0][2] > 10


def test_an_uploaded_article_is_added_and_answers(writable, tmp_path):
    good = tmp_path / "mini.md"
    good.write_text(
        "---\ntitle: 小程序新功能\n---\n小程序今年新增了直播挂件功能，商家可以直接开播。\n",
        encoding="utf-8",
    )
    assert "已添加 mini.md" in writable.add_article(str(good))
    assert "直播挂件" in _final(writable, "小程序新增了什么直播功能？")[-1]


def test_a_gbk_upload_is_kept_as_sent_and_listed(writable, tmp_path):
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("视频号团队说，新的电竞直播扶持计划覆盖五百家机构。\n".encode("gbk"))
    assert "已添加 gbk.txt" in writable.add_article(str(gbk))
    corpus = writable.settings.corpus_dir
    assert "五百家" in (corpus / "gbk.txt").read_bytes().decode("gbk")
    assert "gbk.txt" in [row[1] for row in writable.articles()]


def test_an_oversized_upload_is_refused_and_nothing_written(writable, tmp_path):
    big = tmp_path / "big.md"
    big.write_text("长" * 30_000, encoding="utf-8")
    with pytest.raises(UploadRejected, match="limit"):
        writable.add_article(str(big))
    assert not (writable.settings.corpus_dir / "big.md").exists()


def test_a_path_in_the_upload_name_is_dropped(writable, tmp_path):
    corpus = writable.settings.corpus_dir
    evil = tmp_path / "evil.md"
    evil.write_text("越界的文章。内容。", encoding="utf-8")
    message = writable.add_article(str(evil), original_name="../../evil.md")
    assert "已添加 evil.md" in message
    assert (corpus / "evil.md").exists() and not (corpus.parent.parent / "evil.md").exists()


@pytest.mark.parametrize(
    "bad_name, content", [("notes.exe", b"MZ"), ("binary.md", b"\x00\x01" * 10)]
)
def test_a_wrong_type_or_binary_upload_is_refused(writable, tmp_path, bad_name, content):
    path = tmp_path / bad_name
    path.write_bytes(content)
    with pytest.raises(UploadRejected):
        writable.add_article(str(path))
    assert not (writable.settings.corpus_dir / bad_name).exists()


def test_titles_and_names_in_the_status_line_are_text(writable, tmp_path):
    """An article's title is the uploader's text: no image, video or link fires."""
    for i, title in enumerate(
        ['<img src="http://127.0.0.1:9/x">', "![](http://127.0.0.1:9/y)", "<video src=z>"]
    ):
        page = tmp_path / f"t{i}.md"
        page.write_text(f"---\ntitle: '{title}'\n---\n正文一句话。\n", encoding="utf-8")
        message = writable.add_article(str(page))
        assert "<img" not in message and "<video" not in message and "](" not in message
        assert "&lt;" in message or "&#33;&#91;&#93;" in message


def test_parallel_uploads_of_one_name_add_one_and_refuse_the_rest(writable, tmp_path):
    sources = []
    for i in range(10):
        (tmp_path / f"u{i}").mkdir()
        sources.append(tmp_path / f"u{i}" / "same.md")
        sources[-1].write_text(f"# 同名\n\n第{i}版的文章内容。\n", encoding="utf-8")

    def add(path):
        try:
            return writable.add_article(str(path))
        except NameTaken as exc:
            return exc.say("zh")

    with ThreadPoolExecutor(10) as pool:
        messages = list(pool.map(add, sources))
    assert sum("已添加" in m for m in messages) == 1
    assert sum("知识库里已有 same.md" in m for m in messages) == 9  # never overwritten unasked
    corpus = writable.settings.corpus_dir
    assert (corpus / "same.md").read_text(encoding="utf-8") in {
        p.read_text(encoding="utf-8") for p in sources
    }
    assert not list(corpus.glob(".same.md*"))  # no temporary copy left behind


def test_the_launched_app_answers_through_gradio_client(handlers):
    from gradio_client import Client

    app = create_app(handlers.settings, handlers)
    port = free_port()
    app.queue().launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True
    )
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        result = client.predict("How much did GMV grow?", api_name="/reply")
        # plain text, as the CLI prints it: no markup or entities to undo
        assert "1.92" in result and "[1]" in result and "Sources:" in result
        assert not re.search(r"<[a-z/]|&#?\w+;|\*\*", result), result
        assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {
            "/reply"
        }  # knowledge-base actions are not part of the public API
    finally:
        app.close()


def test_read_only_deployment_has_no_knowledge_base_panel(handlers):
    settings = handlers.settings.model_copy(update={"kb_panel": False})
    app = create_app(settings, handlers)
    labels = {getattr(block, "label", None) for block in app.blocks.values()}
    assert "知识库" not in labels
    assert "知识库" in {
        getattr(b, "label", None) for b in create_app(handlers.settings, handlers).blocks.values()
    }


def test_a_thumbs_down_can_say_why_in_either_language(handlers):
    final = _final(handlers, "女装等类目的保证金最多降多少？")[-1]
    shown = [{"type": "text", "text": final}]
    handlers.feedback("引用不对", shown)  # the flag menu's options, 中文 …
    handlers.feedback("Wrong source", shown)  # … or English: one key
    handlers.feedback("made up by a client", shown)  # no reason of ours: nothing said
    lines = handlers.feedback_log.path.read_text(encoding="utf-8").splitlines()[-3:]
    zh, en, forged = (json.loads(line) for line in lines)
    assert zh["rating"] == en["rating"] == "down"
    assert zh["reason"] == en["reason"] == "wrong_source"
    assert zh["question"] == "女装等类目的保证金最多降多少？"
    assert forged["rating"] == "cleared" and "reason" not in forged


def test_an_article_is_removed_from_the_folder_and_the_index_alone(writable, tmp_path):
    """Issue 13: remove from the panel; nothing else is re-embedded."""
    page = tmp_path / "mini.md"
    page.write_text("# 小程序新功能\n\n小程序今年新增了直播挂件功能。\n", encoding="utf-8")
    writable.add_article(str(page))
    before = {row[1]: row[2] for row in writable.articles()}
    message = writable.remove_article("mini.md", lang="en")
    assert message.startswith("✓ Removed mini.md.")
    assert f"passages written: 0, deleted: {before['mini.md']}," in message
    after = {row[1]: row[2] for row in writable.articles()}
    assert after == {k: v for k, v in before.items() if k != "mini.md"}
    assert not (writable.settings.corpus_dir / "mini.md").exists()
    assert "直播挂件" not in _final(writable, "小程序新增了什么直播功能？")[-1]


@pytest.mark.parametrize("doc_id", ["../corpus/../index/manifest.json", "../../x.md", "", "."])
def test_removing_what_is_no_article_changes_nothing(writable, doc_id):
    from assistant.ingest.articles import ArticleNotFound

    listed = writable.articles()
    with pytest.raises(ArticleNotFound):
        writable.remove_article(doc_id)
    assert writable.articles() == listed


def test_an_article_is_replaced_by_an_upload_of_another_type(writable, tmp_path):
    page = tmp_path / "mini.md"
    page.write_text("# 旧版\n\n旧版写的是直播挂件。\n", encoding="utf-8")
    writable.add_article(str(page))
    bad = tmp_path / "new.txt"
    bad.write_bytes(b"\x00\x01" * 10)
    with pytest.raises(UploadRejected, match="cannot be read") as refused:
        writable.add_article(str(bad), replacing="mini.md")
    assert "无法作为文章读取：是二进制数据" in refused.value.say("zh")
    assert (writable.settings.corpus_dir / "mini.md").exists()  # a refused upload: no change
    new = tmp_path / "new.txt"
    new.write_text("新版写的是小程序的电竞直播扶持计划。\n", encoding="utf-8")
    message = writable.add_article(str(new), replacing="mini.md")
    assert message.startswith("✓ 已用新文件替换 mini.md：mini.txt")
    files = {row[1] for row in writable.articles()}
    assert "mini.txt" in files and "mini.md" not in files
    assert "电竞直播" in _final(writable, "小程序有什么电竞直播扶持？")[-1]


def test_replacing_works_with_a_relative_corpus_folder(tmp_path, embedder, monkeypatch):
    """The default settings name corpus/ relative to the current folder (a
    new user's trial: the status line failed on it after the file was swapped)."""
    shutil.copytree(CORPUS, tmp_path / "corpus")
    monkeypatch.chdir(tmp_path)
    settings = Settings(corpus_dir=Path("corpus"), index_dir=Path("index"), data_dir=Path("data"))
    h = ChatHandlers(RunningAssistant(settings))
    h.reindex()
    (tmp_path / "a.md").write_text("# 甲\n\n甲文章说小店满减三天。\n", encoding="utf-8")
    h.add_article(str(tmp_path / "a.md"))
    (tmp_path / "b.txt").write_text("乙文章说小店满减五天。\n", encoding="utf-8")
    message = h.add_article(str(tmp_path / "b.txt"), replacing="a.md", lang="en")
    assert message.startswith("✓ Replaced a.md with a.txt")
    assert {row[1] for row in h.articles()} == {"a.txt", "wechat-open-class-2025.md"}


def test_a_name_taken_is_refused_not_overwritten(writable, tmp_path):
    page = tmp_path / "dup.md"
    page.write_text("# 第一版\n\n第一版内容。\n", encoding="utf-8")
    writable.add_article(str(page))
    page.write_text("# 第二版\n\n第二版内容。\n", encoding="utf-8")
    with pytest.raises(NameTaken, match="already in the knowledge base") as taken:
        writable.add_article(str(page))
    assert "要替换它，请在表中选中它" in taken.value.say("zh")
    assert "第一版" in (writable.settings.corpus_dir / "dup.md").read_text(encoding="utf-8")


def test_a_reason_sent_twice_is_one_record_and_notices_are_not_judged(handlers):
    """Gradio 6 sends a flag-menu reason twice per click; a notice answers nothing."""
    final = _final(handlers, "订单数量增长了多少？")[-1]
    log = handlers.feedback_log.path
    before = len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0
    handlers.feedback("信息过时", [{"type": "text", "text": final}])
    handlers.feedback("信息过时", [{"type": "text", "text": final}])
    notice = handlers.refusal("请" * 2100, "zh")
    assert handlers.feedback(True, notice) == "ignored"
    lines = log.read_text(encoding="utf-8").splitlines()[before:]
    assert len(lines) == 1 and json.loads(lines[0])["reason"] == "out_of_date"
