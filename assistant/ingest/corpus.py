"""Read the article folder: Markdown (front matter), plain text, saved HTML
pages (WeChat articles with their byline and date), PDF and DOCX reports.

Each file becomes an :class:`Article` (an id, a title, metadata and the body
as text, Markdown ``#`` headings kept so that the chunker sees sections).
Encodings of text files are detected (UTF-8 with or without BOM, UTF-16,
GB18030/GBK, Big5); PDF and DOCX are read, bounded, by :mod:`.documents`
and :mod:`.word`. A file that cannot be read is skipped with a warning that
names it; the others are still returned. Lines repeated through a document as
placeholders (this corpus's 現場回傳圖片, one per picture) are dropped.

Knows nothing about chunks, embeddings or the index.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bs4 import BeautifulSoup
from charset_normalizer import from_bytes

from . import wechat
from .bounded import MAX_META_CHARS, UnreadableFile, check_depth, front_matter
from .documents import read_pdf
from .tables import table_lines
from .text import strip_controls
from .word import read_docx

log = logging.getLogger(__name__)

EXTENSIONS = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")
#: formats read from bytes by their own reader, never through text decoding
BINARY_READERS = {".pdf": read_pdf, ".docx": read_docx}
MAX_FILE_BYTES = 10 * 1024 * 1024

_HTML_DROP = [
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "svg",
    "button",
    "template",
    "select",
    "input",
    "link",
    "meta",
]
_HTML_BLOCKS = [
    "p",
    "div",
    "section",
    "li",
    "blockquote",
    "pre",
    "tr",
    "table",
    "ul",
    "ol",
    "article",
    "main",
    "figure",
    "figcaption",
    "dd",
    "dt",
    "br",
]
# WeChat official-account pages keep the article in #js_content; others in <article>/<main>.
_HTML_MAIN = ["#js_content", "article", "main", "[role=main]", "#content", ".rich_media_content"]
_SENTENCE_END = tuple("。！？；!?;.…:：")
# Byline lines (作者 | 松露 小八): metadata, not content to quote.
_CREDIT = re.compile(
    r"^(作者|編輯|编辑|責編|责编|撰文|攝影|摄影|排版|校對|校对|審核|审核)\s*[|｜:：]"
)


@dataclass(frozen=True)
class Article:
    """One article: ``doc_id`` is its path relative to the corpus folder."""

    doc_id: str
    title: str
    text: str
    sha256: str
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    """A corpus file that was not read, and why."""

    doc_id: str
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.doc_id}: {self.reason}"


@dataclass
class CorpusLoad:
    """The articles that were read and a warning for every file that was not."""

    articles: list[Article]
    skipped: list[Skipped]


def decode(raw: bytes) -> str:
    """Bytes → text: BOMs first, then strict UTF-8, then detection among
    Chinese encodings. Raises :class:`UnreadableFile` for binary data."""
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if raw.startswith(bom):
            return raw.decode(codec)
    if b"\x00" in raw:
        raise UnreadableFile("binary data (NUL bytes), not text", zh="是二进制数据，不是文字")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(raw, cp_isolation=["gb18030", "big5", "cp950", "utf_8"]).best()
    if best is None:
        raise UnreadableFile(
            "unknown text encoding (tried UTF-8, GB18030, Big5)",
            zh="无法识别文字编码（已试 UTF-8、GB18030、Big5）",
        )
    return str(best)


def drop_placeholders(lines: list[str], min_repeats: int = 3, max_len: int = 20) -> list[str]:
    """Remove short lines without sentence punctuation that repeat ``min_repeats``
    or more times: image placeholders such as 現場回傳圖片, not content."""
    counts = Counter(line.strip() for line in lines)
    repeated = {
        text
        for text, n in counts.items()
        if n >= min_repeats
        and 0 < len(text) <= max_len
        and not text.endswith(_SENTENCE_END)
        and not text.startswith("#")
    }
    return [line for line in lines if line.strip() not in repeated]


def html_to_text(html: str) -> tuple[str, str]:
    """Main text of a saved article page as Markdown-ish lines, and its title."""
    text, title, _ = html_article(html)
    return text, title


def html_article(html: str) -> tuple[str, str, dict[str, str]]:
    """Main text of a saved article page as Markdown-ish lines, its title and
    metadata (a WeChat page's author, account, date and link).

    Scripts, styles, navigation and forms are dropped (on a WeChat page also
    its chrome: QR code, 阅读原文, …); ``<h1>``–``<h6>`` become ``#``
    headings; a table's rows become sentences naming their columns
    (:func:`.tables.table_lines`); block elements become lines.
    """
    check_depth(html)
    soup = BeautifulSoup(html, "lxml")
    from_wechat = wechat.is_wechat(soup)
    meta = wechat.wechat_meta(soup) if from_wechat else {}
    title = ""
    for selector in ('meta[property="og:title"]', "#activity-name", "title", "h1"):
        node = soup.select_one(selector)
        if node is not None:
            title = (node.get("content") if node.name == "meta" else node.get_text()) or ""
            title = " ".join(str(title).split())
            if title:
                break
    for tag in soup(_HTML_DROP):
        tag.decompose()
    main = next((n for s in _HTML_MAIN if (n := soup.select_one(s)) is not None), None)
    main = main or soup.body or soup
    if from_wechat:
        wechat.drop_chrome(main)
    for table in reversed(main.find_all("table")):  # inner tables first
        rows = [
            [" ".join(cell.get_text().split()) for cell in tr.find_all(["th", "td"])]
            for tr in table.find_all("tr")
        ]
        table.replace_with("\n" + "\n".join(table_lines(rows)) + "\n")
    for heading in main.find_all(re.compile(r"^h[1-6]$")):
        level = int(heading.name[1])
        heading.insert_before("\n" + "#" * level + " ")
        heading.insert_after("\n")
    for block in main.find_all(_HTML_BLOCKS):
        block.insert_after("\n")
    lines = [" ".join(line.split()) for line in main.get_text().split("\n")]
    chrome = wechat.CHROME_LINES if from_wechat else frozenset()
    return "\n".join(line for line in lines if line and line not in chrome), title, meta


def _clean_lines(text: str) -> str:
    text = strip_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip() for line in text.split("\n") if not _CREDIT.match(line.strip())]
    return "\n".join(drop_placeholders(lines)).strip()


def _txt_title(text: str, fallback: str) -> str:
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    first = first.lstrip("#").strip()
    if first and len(first) <= 50 and not first.endswith(_SENTENCE_END):
        return first
    return fallback


def read_article(path: Path, doc_id: str, max_bytes: int = MAX_FILE_BYTES) -> Article:
    """Read one file into an :class:`Article`; raises :class:`UnreadableFile`."""
    size = path.stat().st_size
    if size > max_bytes:
        raise UnreadableFile(
            f"{size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit",
            zh=f"{size / 1e6:.1f} MB，超过 {max_bytes / 1e6:.0f} MB 的上限",
        )
    raw = path.read_bytes()
    fallback = path.stem.replace("-", " ").replace("_", " ")
    meta: dict[str, str] = {}
    suffix = path.suffix.lower()
    if suffix in BINARY_READERS:
        document = BINARY_READERS[suffix](raw)
        body, title = document.text, " ".join(strip_controls(document.title).split())
        meta = {
            k: " ".join(strip_controls(v).split())[:MAX_META_CHARS]
            for k, v in document.meta.items()
        }
        title = title or _txt_title(body, fallback)
    elif suffix in (".html", ".htm"):
        body, title, meta = html_article(decode(raw))
        title = title or fallback
    elif suffix in (".md", ".markdown"):
        meta, body = front_matter(decode(raw))
        title = meta.pop("title", "") or _txt_title(body, fallback)
    else:
        body = decode(raw)
        title = _txt_title(body, fallback)
    body = _clean_lines(body)
    if not body:
        raise UnreadableFile("no text in it", zh="里面没有文字")
    title = title[:MAX_META_CHARS]
    return Article(doc_id, title, body, hashlib.sha256(raw).hexdigest(), meta)


def load_corpus(corpus_dir: Path, max_bytes: int = MAX_FILE_BYTES) -> CorpusLoad:
    """Every readable article under ``corpus_dir`` (recursively, sorted by path)."""
    articles: list[Article] = []
    skipped: list[Skipped] = []
    paths = sorted(
        p
        for p in corpus_dir.rglob("*")
        if p.is_file()
        and p.suffix.lower() in EXTENSIONS
        and not any(part.startswith(".") for part in p.relative_to(corpus_dir).parts)
    )
    for path in paths:
        doc_id = path.relative_to(corpus_dir).as_posix()
        try:
            doc_id.encode("utf-8")
        except UnicodeEncodeError:  # a file name in another encoding than the system's
            doc_id = doc_id.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            skipped.append(Skipped(doc_id, "file name is not valid UTF-8; rename it"))
            continue
        try:
            articles.append(read_article(path, doc_id, max_bytes))
        except (UnreadableFile, OSError, UnicodeDecodeError) as exc:
            skipped.append(Skipped(doc_id, str(exc).splitlines()[0] if str(exc) else repr(exc)))
            log.info("%s", skipped[-1])  # callers show load.skipped; no double warning
    return CorpusLoad(articles, skipped)
