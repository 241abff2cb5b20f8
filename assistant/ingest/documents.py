"""PDF reports → Markdown-ish text: paragraphs one a line, ``#`` headings.

**PDF: pypdfium2 (PDFium, Chrome's PDF engine).** Measured on the same
Chinese text written by four PDF makers, against pypdf 7.1, pdfminer.six and
pdfplumber 0.11:

=============================  ========  ===========  ============  =========
maker (font)                   pypdfium2 pypdf        pdfminer.six  pdfplumber
=============================  ========  ===========  ============  =========
Chromium print (Noto CJK)      correct   ⼩ ⻓ ⼀ ⼤    ⼩ ⻓ ⼀ ⼤     ⼩ ⻓ ⼀ ⼤
fpdf2 (Noto CJK embedded)      correct   NUL between  nothing       nothing
ReportLab STSong (GB, CID)     correct   correct      correct       correct
ReportLab MSung (Big5, CID)    correct   correct      garbage       garbage
=============================  ========  ===========  ============  =========

The others read Chromium's PDFs with Kangxi radicals for common characters
(增⻓ for 增长, ⼩店 for 小店: NFKC cannot mend ⻓), which no search finds;
pdfminer garbles traditional Chinese in Adobe-CNS1 fonts, this corpus's
script. PDFium was also the fastest (28 ms against 104-197 ms for the
Chromium file). It gives each line's box and font size, from which
:func:`pdf_text` joins lines broken mid-sentence back into paragraphs, drops
page numbers and running heads, and makes larger or bold short lines
headings. It runs in a child process with memory and time limits
(:mod:`.pdf_lines` says why).

A scanned PDF (pages of images, no text), an encrypted one and anything over
the limits raise :class:`UnreadableFile` with the reason and the next step.
DOCX reports are read by :mod:`.word`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import NamedTuple

from .bounded import UnreadableFile

#: pages and characters read at most from one document (a 300-page report has ~300,000)
MAX_PAGES = 1_000
MAX_CHARS = 2_000_000
#: the PDF reader's address space, and its time; past either the file is refused
MAX_PDF_MEMORY = 1 << 30
MAX_PDF_SECONDS = 60.0

_SENTENCE_END = tuple("。！？!?…；;")
_PAGE_NUMBER = re.compile(
    r"^[-–—\s]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*[/／]\s*\d{1,4}|\s*of\s*\d{1,4})?(?:\s*页)?[-–—\s]*$"
    r"|^(?:page|p\.)\s*\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?$",
    re.IGNORECASE,
)
#: what PDF makers write when they know no title or author (ReportLab: "(anonymous)")
_PLACEHOLDER = re.compile(r"^\(?(anonymous|untitled|unknown|unspecified)\)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Extracted:
    """A document's text (``#`` headings kept), title and metadata (author, date)."""

    text: str
    title: str = ""
    meta: dict[str, str] = field(default_factory=dict)


class Line(NamedTuple):
    """A PDF text line: its box in points (``top`` > ``bottom``) and font."""

    text: str
    left: float
    right: float
    top: float
    bottom: float
    size: float
    bold: bool = False


def read_pdf(
    data: bytes,
    max_pages: int = MAX_PAGES,
    max_chars: int = MAX_CHARS,
    max_memory: int = MAX_PDF_MEMORY,
    timeout: float = MAX_PDF_SECONDS,
) -> Extracted:
    """A PDF's text, title and metadata; UnreadableFile with the reason."""
    child = Path(__file__).with_name("pdf_lines.py")
    command = [sys.executable, "-I", str(child), str(max_pages), str(max_chars), str(max_memory)]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise UnreadableFile(
            f"reading the PDF took over {timeout:g} s; split it",
            zh=f"读取 PDF 超过 {timeout:g} 秒，请拆分",
        ) from exc
    except OSError as exc:  # no process could be started (limits of the host)
        raise UnreadableFile(
            f"the PDF reader could not start ({exc}); try again",
            zh=f"PDF 读取程序无法启动（{exc}），请重试",
        ) from exc
    try:
        out = json.loads(done.stdout)
    except ValueError:
        last = (done.stderr.decode(errors="replace").strip().splitlines() or [""])[-1]
        if done.returncode in (-6, 134) or "MemoryError" in last:  # PDFium aborts: no memory
            raise UnreadableFile(
                f"reading the PDF needed over {max_memory >> 20:,} MiB of memory "
                "(a damaged PDF or a decompression bomb)",
                zh=f"读取 PDF 需要超过 {max_memory >> 20:,} MiB 内存（文件损坏或是压缩炸弹）",
            ) from None
        raise UnreadableFile(
            f"the PDF reader failed (exit {done.returncode}: {last})",
            zh=f"PDF 读取失败（退出码 {done.returncode}：{last}）",
        ) from None
    error, detail = out.get("error"), out.get("detail")
    if error == "password":
        raise UnreadableFile(
            "an encrypted PDF (it needs a password); add an unprotected copy",
            zh="是加密的 PDF（需要密码），请添加未加密的副本",
        )
    if error == "pages":
        raise UnreadableFile(
            f"a PDF of {detail:,} pages; at most {max_pages:,} are read: split it",
            zh=f"PDF 有 {detail:,} 页，最多读取 {max_pages:,} 页，请拆分",
        )
    if error == "chars":
        raise UnreadableFile(
            f"over {max_chars:,} characters of text; split it",
            zh=f"文字超过 {max_chars:,} 个字符，请拆分",
        )
    if error:
        raise UnreadableFile(f"not a readable PDF ({detail})", zh=f"不是可读的 PDF（{detail}）")
    pages = [[Line(*line) for line in page] for page in out["pages"]]
    if not any(pages) and out["image_pages"]:
        raise UnreadableFile(
            f"a scanned PDF with no text layer ({_pages(out['image_pages'])} of images); "
            "run OCR on it first",
            zh=f"是扫描版 PDF，没有文字层（{out['image_pages']} 页图片），请先做文字识别（OCR）",
        )
    text = pdf_text(pages)
    info = {k: v.strip() for k, v in out["meta"].items() if not _PLACEHOLDER.search(v.strip())}
    meta = {"author": info["Author"]} if info.get("Author") else {}
    if m := re.match(r"D:(\d{4})(\d\d)(\d\d)", info.get("CreationDate", "")):
        meta["date"] = "-".join(m.groups())
    title = info.get("Title", "")
    if not title or re.search(r"\.\w{2,4}$|^Microsoft (Word|PowerPoint) - ", title):
        title = next((ln.lstrip("# ") for ln in text.split("\n") if ln.startswith("# ")), "")
    return Extracted(text, title, meta)


def _furniture(pages: list[list[Line]]) -> set[tuple[int, int]]:
    """(page, line) of page numbers and of running heads and feet: a first or
    last line that recurs, digits aside, on several pages."""
    drop = {
        (p, i)
        for p, lines in enumerate(pages)
        for i, ln in enumerate(lines)
        if _PAGE_NUMBER.match(ln.text)
    }
    ends: dict[str, list[tuple[int, int]]] = {}
    for p, lines in enumerate(pages):
        kept = [i for i in range(len(lines)) if (p, i) not in drop]
        for i in {*kept[:1], *kept[-1:]}:
            ends.setdefault(re.sub(r"\d+", "#", lines[i].text), []).append((p, i))
    for places in ends.values():
        if len({p for p, _ in places}) >= max(2, 0.4 * len(pages)):
            drop.update(places)
    return drop


def _levels(lines: list[Line], body: float) -> dict[float, int]:
    """Heading level of each font size larger than the body's (largest is 1)."""
    sizes = {round(ln.size) for ln in lines if ln.size >= body * 1.15 and len(ln.text) <= 60}
    sizes = sorted(sizes)
    return {size: min(level, 3) for level, size in enumerate(reversed(sizes), 1)}


def pdf_text(pages: list[list[Line]]) -> str:
    """Lines of PDF pages → paragraphs one a line, ``#`` headings.

    A line is joined to the next when it runs to the right margin and the next
    has the same font, follows at the usual spacing and is not indented; on a
    new page or column, also only when no sentence ended.

    >>> a = Line("微信小店的GMV增长了", 50, 300, 700, 690, 10)
    >>> b = Line("1.92倍。", 50, 90, 688, 678, 10)
    >>> c = Line("第二段。", 70, 110, 676, 666, 10)
    >>> h = Line("一、概况", 50, 90, 730, 716, 16)
    >>> print(pdf_text([[h, a, b, c, Line("- 1 -", 150, 170, 20, 10, 9)]]))
    # 一、概况
    微信小店的GMV增长了1.92倍。
    第二段。
    """
    drop = _furniture(pages)
    flat = [
        (p, ln) for p, lines in enumerate(pages) for i, ln in enumerate(lines) if (p, i) not in drop
    ]
    if not flat:
        return ""
    weights = Counter[float]()
    for _, ln in flat:
        weights[round(ln.size)] += len(ln.text)
    body = weights.most_common(1)[0][0]
    levels = _levels([ln for _, ln in flat], body)
    margin: dict[tuple[int, float], float] = {}
    pitches: dict[tuple[int, float], list[float]] = {}
    for (p, ln), (q, nxt) in zip(flat, flat[1:], strict=False):
        if p == q and round(ln.size) == round(nxt.size) and 0 < ln.top - nxt.top < 3 * ln.size:
            pitches.setdefault((p, round(ln.size)), []).append(ln.top - nxt.top)
    for p, ln in flat:
        for key in ((p, round(ln.size)), (-1, round(ln.size))):
            margin[key] = max(margin.get(key, 0.0), ln.right)
    out: list[str] = []
    for k, (p, ln) in enumerate(flat):
        size = round(ln.size)
        level = levels.get(size, 0)
        if not level and ln.bold and len(ln.text) <= 40 and not ln.text.endswith(_SENTENCE_END):
            level = min(len(set(levels.values())) + 1, 4)
        if k and _joins(flat[k - 1], (p, ln), margin, pitches) and out:
            out[-1] = _glue(out[-1], ln.text)
            continue
        out.append(("#" * level + " " if level else "") + ln.text)
    return "\n".join(out)


def _joins(
    before: tuple[int, Line],
    after: tuple[int, Line],
    margin: dict[tuple[int, float], float],
    pitches: dict[tuple[int, float], list[float]],
) -> bool:
    (p, a), (q, b) = before, after
    size = round(a.size)
    if size != round(b.size) or a.bold != b.bold:
        return False
    lines_on_page = len(pitches.get((p, size), [])) >= 2
    right = margin[(p, size)] if lines_on_page else margin[(-1, size)]
    slack = right - a.right
    first_word = re.match(r"[A-Za-z0-9.%]+", b.text)
    wrapped = first_word is not None and slack < 0.6 * a.size * len(first_word.group()) + a.size
    if slack > 2 * a.size and not wrapped:
        return False  # a short line ends its paragraph (or is a heading)
    if p == q and b.top < a.top:
        usual = median(pitches.get((p, size), [a.top - b.top]))
        return a.top - b.top <= 1.3 * usual and b.left <= a.left + 0.9 * a.size
    return not a.text.endswith(_SENTENCE_END)  # a new page or column


def _glue(left: str, right: str) -> str:
    """Join two pieces of a line: a space only between two Latin words."""
    latin = left[-1:].isascii() and left[-1:] not in "-/" and right[:1].isascii()
    return f"{left} {right}" if latin and right[:1].isalnum() else left + right


def _pages(n: int) -> str:
    """A count of pages in English.

    >>> _pages(1), _pages(3)
    ('1 page', '3 pages')
    """
    return f"{n} page" if n == 1 else f"{n} pages"
