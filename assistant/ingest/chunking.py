"""Article → passages ("chunks") cut at Chinese sentence ends, with section paths.

A chunk never crosses a heading; it grows sentence by sentence up to
``size`` characters, and the next chunk repeats the last sentences of the
previous one up to ``overlap`` characters, so that a fact split across a
boundary is still whole in one chunk. Each chunk keeps the heading path it
sits under (``微信小店 › 3. 微信小店帶貨者GMV漲幅超過200%``).

Ids are a hash of document id, section and text: re-chunking an unchanged
article gives the same ids, so re-indexing it writes nothing.

Headings are Markdown ``#`` lines; in a file without any, a short line ending
with a colon (``影片號:``) opens a section and a short numbered line
(``3. 微信小店帶貨者GMV漲幅超過200%。``) a subsection.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ..settings import default
from .corpus import Article
from .text import split_sentences, to_simplified

# Bump when chunking, normalisation or tokenisation changes what is indexed:
# an index built with another version is rebuilt by the next `assistant index`.
CHUNKER_VERSION = "sentences-v1+text-v3"
SECTION_SEP = " › "


def where(*parts: str) -> str:
    """A place in the corpus as shown to people: its non-empty parts joined.

    >>> where("微信小店", "", "3. 带货者")
    '微信小店 › 3. 带货者'
    """
    return SECTION_SEP.join(part for part in parts if part)


_NUMBERING = re.compile(r"^\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})[.、．:：]\s*")


def heading_text(section: str) -> str:
    """A section path's own heading, without its numbering.

    >>> heading_text("影片號 › 5. AI生成影片內容不會被刻意區分。")
    'AI生成影片內容不會被刻意區分。'
    """
    return _NUMBERING.sub("", section.split(SECTION_SEP)[-1]).strip()


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
_COLON_HEADING = re.compile(r"^(.{1,20})[:：]$")
_ENDS = tuple("。！？；!?;…”’」』）)]\"'")
_NUMBERED_HEADING = re.compile(r"^\d{1,2}[.、．]\s*\S.{0,40}$")


@dataclass(frozen=True)
class Chunk:
    """A passage of an article, the unit that is indexed, retrieved and cited."""

    id: str
    doc_id: str
    title: str
    section: str
    text: str
    ordinal: int

    @property
    def index_text(self) -> str:
        """What is embedded and tokenised: the section path gives short passages context."""
        return f"{self.section}\n{self.text}" if self.section else self.text


def chunk_sentences(text: str) -> list[str]:
    """The sentences of a passage, as the index and the answerer both see them."""
    return [s for line in text.split("\n") for s in split_sentences(line)]


def sentence_id(sentence: str) -> str:
    """Id of a sentence vector: a hash of its normalised text, so a sentence
    repeated by chunk overlap (or in two articles) is embedded once."""
    return hashlib.sha256(to_simplified(sentence).encode()).hexdigest()[:24]


def _heading(line: str, markdown: bool) -> tuple[int, str] | None:
    if markdown:
        m = _MD_HEADING.match(line)
        return (len(m.group(1)), m.group(2).rstrip(":：").strip()) if m else None
    if m := _COLON_HEADING.match(line):
        return 2, m.group(1).strip()
    if _NUMBERED_HEADING.match(line):
        return 3, line
    return None


def sections(text: str, title: str = "") -> list[tuple[str, list[str]]]:
    """Split an article body into ``(section path, sentences)`` in reading order.
    A heading that only repeats the article's ``title`` (a Markdown file's
    ``# title``) is not part of the path: the title leads every path already.

    >>> sections("## 甲:\\n一。二。\\n### 1. 乙\\n三。")
    [('甲', ['一。', '二。']), ('甲 › 1. 乙', ['三。'])]
    >>> sections("# 年度复盘\\n## 整体数据\\n增长45%。", title="年度复盘")
    [('整体数据', ['增长45%。'])]
    """
    lines = [line.strip() for line in text.split("\n")]
    markdown = any(_MD_HEADING.match(line) for line in lines)
    stack: list[tuple[int, str]] = []
    out: list[tuple[str, list[str]]] = [("", [])]
    for line in lines:
        if not line:
            continue
        heading = _heading(line, markdown)
        if heading is None:
            out[-1][1].extend(split_sentences(line))
            continue
        level, name = heading
        stack = [(lvl, t) for lvl, t in stack if lvl < level]
        if name.strip() != title.strip():
            stack.append((level, name))
        out.append((where(*(t for _, t in stack)), []))
    return [(path, sents) for path, sents in out if sents]


def _pieces(sentence: str, size: int) -> list[str]:
    """A sentence longer than ``size`` (a run-on without punctuation) cut to fit."""
    return [sentence[i : i + size] for i in range(0, len(sentence), size)] or [sentence]


def _windows(sentences: list[str], size: int, overlap: int) -> list[list[str]]:
    pieces = [p for s in sentences for p in (_pieces(s, size) if len(s) > size else [s])]
    windows: list[list[str]] = []
    current: list[str] = []
    fresh = 0  # sentences in ``current`` not carried over from the previous window
    for piece in pieces:
        if current and fresh and sum(map(len, current)) + len(piece) > size:
            windows.append(current)
            carried: list[str] = []
            for prev in reversed(current):
                if sum(map(len, carried)) + len(prev) > overlap:
                    break
                carried.insert(0, prev)
            current, fresh = carried, 0
        current.append(piece)
        fresh += 1
    if fresh:
        windows.append(current)
    return windows


def _join(sentences: list[str]) -> str:
    """Concatenate sentences; a line without an ending mark (a subtitle) keeps its break."""
    return "".join(s if s.endswith(_ENDS) else s + "\n" for s in sentences).rstrip("\n")


def chunk_id(doc_id: str, section: str, text: str) -> str:
    """Stable id: the same document, section and text always give the same id."""
    return hashlib.sha256(f"{doc_id}\n{section}\n{text}".encode()).hexdigest()[:24]


def chunk_article(
    article: Article, size: int = default("chunk_size"), overlap: int = default("chunk_overlap")
) -> list[Chunk]:
    """Cut an article into chunks of about ``size`` characters (see module doc)."""
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for section, sentences in sections(article.text, article.title):
        for window in _windows(sentences, size, overlap):
            text = _join(window)
            cid = chunk_id(article.doc_id, section, text)
            while cid in seen:  # the same passage twice in one section
                cid = chunk_id(article.doc_id, section + "\0" + cid, text)
            seen.add(cid)
            chunks.append(Chunk(cid, article.doc_id, article.title, section, text, len(chunks)))
    return chunks
