from pathlib import Path

import pytest

from assistant.ingest.corpus import (
    UnreadableFile,
    decode,
    drop_placeholders,
    html_to_text,
    load_corpus,
    read_article,
)

WECHAT_PAGE = """<!DOCTYPE html><html><head><title>ignored title</title>
<meta property="og:title" content="小店的新玩法">
<style>.x{color:red}</style><script>var leak = "SCRIPT_TEXT";</script></head>
<body><nav>首页 | 登录 NAV_TEXT</nav>
<div id="js_content">
  <h2>一、背景</h2><p>微信小店<span>GMV</span>增长1.92倍。</p>
  <section><p>第二段文字。</p></section>
  <script>alert("x")</script>
</div><footer>版权 FOOTER_TEXT</footer></body></html>"""


def test_markdown_front_matter_and_body(corpus_copy: Path):
    article = read_article(corpus_copy / "wechat-open-class-2025.md", "a.md")
    assert article.title.startswith("微信公開課2025")
    assert article.meta["source"] == "新榜"
    assert article.meta["language"] == "zh-Hant"
    assert "## 微信小店:" in article.text
    # 現場回傳圖片 is an image placeholder repeated through the article, not content.
    assert "現場回傳圖片" not in article.text


def test_html_main_text_without_scripts_nav_or_styles(tmp_path: Path):
    path = tmp_path / "page.html"
    path.write_text(WECHAT_PAGE, encoding="utf-8")
    article = read_article(path, "page.html")
    assert article.title == "小店的新玩法"
    assert "## 一、背景" in article.text
    assert "微信小店GMV增长1.92倍。" in article.text
    assert "第二段文字。" in article.text
    for leaked in ("SCRIPT_TEXT", "NAV_TEXT", "FOOTER_TEXT", "color:red", "alert"):
        assert leaked not in article.text


def test_html_without_known_container_uses_body():
    text, title = html_to_text("<html><body><h1>标题</h1><p>正文。</p></body></html>")
    assert title == "标题"
    assert text.splitlines() == ["# 标题", "正文。"]


def test_encodings_are_detected(tmp_path: Path):
    simplified = "微信小店的GMV增长了1.92倍，订单数量增长2.25倍。带货者的增长数据也很亮眼。"
    traditional = "微信小店帶貨規模高速增長，再創新高。影片號優質內容主播數量增加了一倍。"
    (tmp_path / "gbk.txt").write_bytes(simplified.encode("gbk"))
    (tmp_path / "gb18030.txt").write_bytes(simplified.encode("gb18030"))
    (tmp_path / "big5.txt").write_bytes(traditional.encode("big5"))
    (tmp_path / "bom.md").write_bytes(b"\xef\xbb\xbf" + simplified.encode("utf-8"))
    (tmp_path / "utf16.txt").write_bytes(traditional.encode("utf-16"))
    load = load_corpus(tmp_path)
    assert load.skipped == []
    texts = {a.doc_id: a.text for a in load.articles}
    assert texts["gbk.txt"] == texts["gb18030.txt"] == texts["bom.md"] == simplified
    assert texts["big5.txt"] == texts["utf16.txt"] == traditional


def test_unreadable_files_are_skipped_with_a_warning_naming_them(tmp_path: Path):
    (tmp_path / "good.txt").write_text("一篇好文章。内容在这里。", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02PNG\x00" * 50)
    (tmp_path / "empty.md").write_text("---\ntitle: 空\n---\n", encoding="utf-8")
    (tmp_path / "bad-front.md").write_text("---\ntitle: [unclosed\n---\n正文。", encoding="utf-8")
    (tmp_path / "notes.xlsx").write_bytes(b"PK\x03\x04")  # not an article type: ignored
    load = load_corpus(tmp_path)
    assert [a.doc_id for a in load.articles] == ["good.txt"]
    reasons = {s.doc_id: s.reason for s in load.skipped}
    assert set(reasons) == {"binary.txt", "empty.md", "bad-front.md"}
    assert "binary" in reasons["binary.txt"]
    assert any(str(s).startswith("skipped binary.txt: binary data") for s in load.skipped)


def test_oversized_file_is_skipped(tmp_path: Path):
    (tmp_path / "big.txt").write_text("大" * 2000, encoding="utf-8")
    load = load_corpus(tmp_path, max_bytes=1000)
    assert load.articles == [] and "limit" in load.skipped[0].reason


def test_decode_rejects_nul_bytes():
    with pytest.raises(UnreadableFile, match="binary"):
        decode(b"abc\x00def")


def test_control_characters_bylines_and_empty_titles(tmp_path: Path):
    path = tmp_path / "a.md"
    path.write_text("---\ntitle:\n---\n正文\x1b[31m红\u202e字。\n作者 | 某人\n", encoding="utf-8")
    article = read_article(path, "a.md")
    assert article.text == "正文[31m红字。"
    assert article.title == "a" and "title" not in article.meta


def test_placeholders_need_repetition():
    lines = ["圖片", "正文一。", "圖片", "正文二。", "圖片", "只出現一次的短行"]
    assert drop_placeholders(lines) == ["正文一。", "正文二。", "只出現一次的短行"]


def test_an_html_tables_rows_name_their_columns(tmp_path):
    """A table row is quoted with its header's words; a layout table is its text."""
    page = tmp_path / "drama.html"
    page.write_text(
        "<html><head><title>短剧数据</title></head><body><article><p>短剧数据如下。</p>"
        "<table><tr><th>题材</th><th>占比</th></tr><tr><td>家庭伦理</td><td>31%</td></tr>"
        "<tr><td>都市<b>情感</b></td><td>24%</td></tr></table>"
        "<table><tr><td>版式表里的一段话。</td></tr></table></article></body></html>",
        encoding="utf-8",
    )
    article = read_article(page, "drama.html")
    assert article.text.split("\n") == [
        "短剧数据如下。",
        "题材：家庭伦理，占比：31%。",
        "题材：都市情感，占比：24%。",  # inline markup (WeChat styles in spans) is no gap
        "版式表里的一段话。",
    ]
