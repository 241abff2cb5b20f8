"""Tables as sentences: a report's table rows, read so that a row can be
found and quoted by its column names (DOCX tables and HTML ``<table>``).

A row "家庭伦理 | 31%" says neither what 31 % is nor of what; under the
header row 题材 | 占比 it becomes "题材：家庭伦理，占比：31%。", one sentence
that answers 哪个题材占比31%. Tables without a header row (layout tables,
number grids) stay ``a | b`` lines.
"""

from __future__ import annotations

import re

#: a first row whose cells are all this short and none a number reads as headers
HEADER_CHARS = 20
_NUMBER = re.compile(r"^[\d.,%+\-–~～]+$")


def table_lines(rows: list[list[str]]) -> list[str]:
    """A table as lines of text. Under a header row each row becomes one
    sentence naming its columns — "题材：家庭伦理，占比：31%。" — so that a
    row can be found and quoted by the header's words (哪个题材占比31%?: a bare
    "家庭伦理 | 31%" says neither); other tables, row by row as ``a | b``.

    >>> table_lines([["题材", "占比"], ["家庭伦理", "31%"], ["都市情感", ""]])
    ['题材：家庭伦理，占比：31%。', '题材：都市情感。']
    >>> table_lines([["Region", "GMV"], ["East", "1.2"]])
    ['Region: East, GMV: 1.2.']
    >>> table_lines([["2023", "1.2"], ["2024", "2.3"]])
    ['2023 | 1.2', '2024 | 2.3']
    """
    head = rows[0] if rows else []
    headed = (
        len(rows) > 1
        and len(head) > 1
        and all(0 < len(h) <= HEADER_CHARS and not _NUMBER.match(h) for h in head)
        and all(len(row) == len(head) for row in rows)
    )
    if not headed:
        return [line for row in rows if (line := " | ".join(c for c in row if c))]
    lines = []
    for row in rows[1:]:
        pairs = [(h, v) for h, v in zip(head, row, strict=True) if v]
        if not pairs:
            continue
        chinese = any("\u4e00" <= ch <= "\u9fff" for h, v in pairs for ch in h + v)
        colon, comma, stop = ("：", "，", "。") if chinese else (": ", ", ", ".")
        lines.append(comma.join(f"{h}{colon}{v}" for h, v in pairs) + stop)
    return lines
