from pathlib import Path

from assistant.ingest.chunking import chunk_article, chunk_sentences, sections, where
from assistant.ingest.corpus import Article, read_article


def _article(corpus: Path):
    return read_article(corpus / "wechat-open-class-2025.md", "wechat-open-class-2025.md")


def test_section_paths_follow_headings(corpus_copy: Path):
    chunks = chunk_article(_article(corpus_copy))
    by_text = {c.text: c.section for c in chunks}
    section = next(s for t, s in by_text.items() if "帶貨者GMV漲幅超過200%" in t)
    assert section == "微信小店 › 3. 微信小店帶貨者GMV漲幅超過200%。"
    assert any(s.startswith("影片號 › 1. ") for s in by_text.values())


def test_chunks_end_at_sentence_ends_and_respect_size(corpus_copy: Path):
    article = _article(corpus_copy)
    whole = {s for _, sents in sections(article.text) for s in sents}
    chunks = chunk_article(article, size=220, overlap=60)
    assert len(chunks) > 10
    for chunk in chunks:
        assert len(chunk.text) <= 220
        # made of whole sentences of the article, never a cut one
        assert set(chunk_sentences(chunk.text)) <= whole


def test_overlap_repeats_trailing_sentences():
    text = "## 甲\n" + "".join(f"第{i}句話有一些內容。" for i in range(12))
    article = Article("x.md", "x", text, "sha")
    chunks = chunk_article(article, size=60, overlap=20)
    assert len(chunks) > 2
    for first, second in zip(chunks, chunks[1:], strict=False):
        shared = max(n for n in range(len(second.text) + 1) if first.text.endswith(second.text[:n]))
        assert 10 <= shared <= 20  # whole sentences (10 chars each), within the overlap


def test_ids_are_stable_and_depend_on_text(corpus_copy: Path):
    article = _article(corpus_copy)
    first = [c.id for c in chunk_article(article)]
    assert first == [c.id for c in chunk_article(article)]
    assert len(set(first)) == len(first)
    edited = Article(
        article.doc_id, article.title, article.text.replace("1.92倍", "1.93倍"), "other"
    )
    changed = set(first) ^ {c.id for c in chunk_article(edited)}
    assert 0 < len(changed) <= 4  # only the passages holding the edit


def test_plain_text_headings_without_markdown():
    text = "前言一句。\n影片號:\n1. 收入翻倍。\n內容。\n微信小店:\n正文。"
    assert sections(text) == [
        ("", ["前言一句。"]),
        ("影片號 › 1. 收入翻倍。", ["內容。"]),
        ("微信小店", ["正文。"]),
    ]


def test_a_run_on_sentence_is_cut_to_size():
    article = Article("x.txt", "x", "字" * 500, "sha")
    assert all(len(c.text) <= 100 for c in chunk_article(article, size=100, overlap=0))


def test_a_markdown_title_heading_is_not_repeated_in_the_section_path(tmp_path):
    """Issue 13: an upload whose ``# title`` is its title read "标题 › 标题 › 整体数据"."""
    path = tmp_path / "brand.md"
    path.write_text("# 某品牌年度复盘\n\n## 整体数据\n\n全年GMV达到3.6亿元，同比增长45%。\n")
    article = read_article(path, "brand")
    assert article.title == "某品牌年度复盘"
    [chunk] = chunk_article(article)
    assert where(article.title, chunk.section) == "某品牌年度复盘 › 整体数据"
