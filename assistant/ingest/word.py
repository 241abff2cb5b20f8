"""DOCX reports → Markdown-ish text, read with python-docx.

Paragraph styles (``Heading 1``, ``标题 2``, or an outline level set on the
paragraph or its style) become ``#`` headings so that the chunker sees
sections; a table's rows become sentences naming their columns
(``table_lines``); the core properties give
title, author and date (metadata, not body text). python-docx over mammoth:
it hands over each paragraph's style and outline level and the core
properties, where mammoth converts to HTML and knows headings only by style
name. Headers, footers and comments are page furniture and left out.

A DOCX is a zip: a few KB can unpack to gigabytes of XML, so the sizes its
directory declares are checked before anything is unpacked (Python's
zipfile stops at the declared size, so the directory cannot lie its way
past the check); lxml, as python-docx sets it up, expands no entities.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import docx
import lxml.etree
from docx.opc.exceptions import OpcError
from docx.table import Table

from .bounded import UnreadableFile
from .documents import MAX_CHARS, Extracted
from .tables import table_lines

#: XML in a DOCX once unzipped (a 300-page report has ~10 MB), and all of its parts
MAX_DOCX_XML = 50_000_000
MAX_DOCX_UNZIPPED = 300_000_000

_HEADING_STYLE = re.compile(r"^(?:heading|标题|標題)\s*([1-9])$", re.IGNORECASE)


def _docx_level(paragraph: Any) -> int:
    """Heading level of a DOCX paragraph: its style's name or outline level; 0 for text."""
    style = paragraph.style
    if style is not None and (m := _HEADING_STYLE.match((style.name or "").strip())):
        return int(m.group(1))
    for node in (paragraph._p, getattr(style, "element", None)):
        found = node.xpath("./w:pPr/w:outlineLvl/@w:val") if node is not None else []
        if found and found[0].isdigit() and int(found[0]) < 9:
            return int(found[0]) + 1
    return 0


def read_docx(
    data: bytes,
    max_chars: int = MAX_CHARS,
    max_xml: int = MAX_DOCX_XML,
    max_unzipped: int = MAX_DOCX_UNZIPPED,
) -> Extracted:
    """A Word document's text (headings as ``#``, table rows as ``a | b``),
    title and metadata; UnreadableFile with the reason."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile:
        raise UnreadableFile(
            "not a .docx file (Word 2007 or later); save it as .docx",
            zh="不是 .docx 文件（Word 2007 及以后），请另存为 .docx",
        ) from None
    xml = sum(i.file_size for i in infos if i.filename.endswith((".xml", ".rels")))
    total = sum(i.file_size for i in infos)
    if xml > max_xml or total > max_unzipped:
        raise UnreadableFile(
            f"it unzips to {max(xml, total) / 1e6:,.0f} MB (at most {max_xml / 1e6:.0f} MB "
            f"of XML and {max_unzipped / 1e6:.0f} MB in all are read); split it",
            zh=f"解压后有 {max(xml, total) / 1e6:,.0f} MB（最多读取 {max_xml / 1e6:.0f} MB XML、"
            f"共 {max_unzipped / 1e6:.0f} MB），请拆分",
        )
    try:
        document = docx.Document(io.BytesIO(data))
        lines, chars, title = [], 0, ""
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                new = table_lines([_cells(row) for row in block.rows])
            else:
                text = block.text.strip()
                style = (block.style.name or "") if block.style is not None else ""
                title = title or (text if style.lower() == "title" else "")
                level = 1 if style.lower() == "title" else _docx_level(block)
                new = [("#" * level + " " if level and text else "") + text]
            chars += sum(map(len, new))
            if chars > max_chars:
                raise UnreadableFile(
                    f"over {max_chars:,} characters of text; split it",
                    zh=f"文字超过 {max_chars:,} 个字符，请拆分",
                )
            lines += [line for line in new if line.strip()]
        props = document.core_properties
    except (OpcError, KeyError, ValueError, zipfile.BadZipFile, lxml.etree.LxmlError) as exc:
        raise UnreadableFile(
            f"not a readable Word document ({exc})", zh=f"不是可读的 Word 文档（{exc}）"
        ) from exc
    meta = {"author": (props.author or "").strip()}
    if props.created is not None:
        meta["date"] = props.created.date().isoformat()
    return Extracted("\n".join(lines), (props.title or "").strip() or title, _nonempty(meta))


def _cells(row: Any) -> list[str]:
    """A table row's cells' text; a merged cell counts once."""
    cells, previous = [], None
    for cell in row.cells:
        if cell._tc is not previous:  # a merged cell comes once for each column it spans
            cells.append(" ".join(cell.text.split()))
        previous = cell._tc
    return cells


def _nonempty(meta: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in meta.items() if v}
