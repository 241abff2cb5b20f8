"""The text lines of a PDF with their place on the page, read by PDFium in a
child process: ``python -I pdf_lines.py MAX_PAGES MAX_CHARS MAX_MEMORY``
reads the PDF on stdin and prints JSON on stdout.

Why a child process: PDFium is C code, and an upload is a stranger's file. A
5 KB PDF whose one page lists a deflated megabyte of text operators 300
times kept PDFium busy for 17 s and took 4.1 GB of memory (it counted one
character); page and character limits cannot see that coming. Here the
process has an address space ceiling (PDFium aborts when it reaches it: 2 s
for that file at 1 GiB) and the parent kills it after a time limit, so the
server never pays more than that. Run by path with ``-I``: it imports only the standard
library and pypdfium2, nothing from the working directory.

Output: ``{"pages": [[line, ...], ...], "image_pages": n, "meta": {...}}``
where a line is ``[text, left, right, top, bottom, font_size, bold]`` in PDF
points (y grows upwards), or ``{"error": "password" | "damaged" | "pages" |
"chars", "detail": ...}``. Joining lines into paragraphs is the parent's
job (:mod:`.documents`), a pure function that tests can call.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

_BREAK = re.compile(r"\r\n|\r|\n")


def page_lines(textpage: Any, raw: Any) -> list[list[Any]]:
    """The lines PDFium finds on a page, each with its box, size and weight."""
    text = textpage.get_text_range()
    lines: list[list[Any]] = []
    start = 0
    for end in [m.start() for m in _BREAK.finditer(text)] + [len(text)]:
        piece = text[start:end]
        offset, start = start, end + (2 if text[end : end + 2] == "\r\n" else 1)
        stripped = piece.strip()
        if not stripped:
            continue
        first = offset + (len(piece) - len(piece.lstrip()))
        last = offset + len(piece.rstrip()) - 1
        i = raw.FPDFText_GetCharIndexFromTextIndex(textpage, first)
        j = raw.FPDFText_GetCharIndexFromTextIndex(textpage, last)
        if i < 0 or j < 0:
            continue
        left, bottom, _, top = textpage.get_charbox(i, loose=True)
        _, bottom_j, right, top_j = textpage.get_charbox(j, loose=True)
        size = raw.FPDFText_GetFontSize(textpage, i)
        bold = min(raw.FPDFText_GetFontWeight(textpage, k) for k in (i, j)) >= 600
        box = [left, right, max(top, top_j), min(bottom, bottom_j), size]
        lines.append([stripped, *(round(v, 1) for v in box), bold])
    return lines


def read(data: bytes, max_pages: int, max_chars: int) -> dict[str, Any]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        kind = "password" if exc.err_code == raw.FPDF_ERR_PASSWORD else "damaged"
        return {"error": kind, "detail": str(exc)}
    if len(pdf) > max_pages:
        return {"error": "pages", "detail": len(pdf)}
    pages, chars, image_pages = [], 0, 0
    for index in range(len(pdf)):
        page = pdf[index]
        lines = page_lines(page.get_textpage(), raw)
        chars += sum(len(line[0]) for line in lines)
        if chars > max_chars:
            return {"error": "chars", "detail": max_chars}
        if not lines:
            images = page.get_objects(filter=(raw.FPDF_PAGEOBJ_IMAGE,), max_depth=3)
            image_pages += next(images, None) is not None
        pages.append(lines)
    info = pdf.get_metadata_dict(skip_empty=True)
    meta = {k: info[k] for k in ("Title", "Author", "CreationDate") if k in info}
    return {"pages": pages, "image_pages": image_pages, "meta": meta}


def main() -> None:
    max_pages, max_chars, max_memory = (int(a) for a in sys.argv[1:4])
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))
    except (ImportError, ValueError, OSError):  # no such limit here (Windows)
        pass
    out = read(sys.stdin.buffer.read(), max_pages, max_chars)
    sys.stdout.write(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
