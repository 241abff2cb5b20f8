"""An answer as safe chat markup: Markdown with a little HTML, every piece of
article or question text escaped.

Passages and questions are data. Each is HTML-escaped, and the characters
Markdown would act on (links, emphasis, headings) become numeric entities,
so ``<script>``, ``<img onerror=…>`` and ``[x](javascript:…)`` show as
text. Only the markup written here (``<details>``, ``<mark>``, ``<sup>``)
is live; Gradio's own sanitiser stays on as a second net.

A citation mark ``[n]`` links to source n of the same answer (``#source-n``;
the page's script, ``webassets.APP_JS``, scrolls to the source that opens
with **[n]** and opens its passage). Gradio's sanitiser drops ``id`` and
``data-`` attributes, so the link names its source by number only.
"""

from __future__ import annotations

import html
import re

from ..answer.response import FRAMES, Answer, Citation
from ..ingest.text import to_script

_MD_SPECIAL = re.compile(r"[\\`*_\[\]()#+\-!|~{}:>]")
_MARK = re.compile(r"&#91;(\d+)&#93;")  # an escaped [n] citation mark
_CITE = r'<sup><a href="#source-\1">[\1]</a></sup>'


def escape(text: str) -> str:
    """Text that Markdown and HTML both show literally.

    >>> escape("<b>[x](javascript:1)</b>")
    '&lt;b&gt;&#91;x&#93;&#40;javascript&#58;1&#41;&lt;/b&gt;'
    """
    return _MD_SPECIAL.sub(lambda m: f"&#{ord(m.group())};", html.escape(text, quote=False))


def _highlighted(c: Citation, script: str) -> str:
    """The passage, escaped, with the quoted sentences in ``<mark>``."""
    pieces, rest = [], c.text
    for quote in c.quotes:
        before, found, after = rest.partition(quote)
        if not found:
            continue
        pieces += [
            escape(to_script(before, script)),
            f"<mark>{escape(to_script(quote, script))}</mark>",
        ]
        rest = after
    pieces.append(escape(to_script(rest, script)))
    return "".join(pieces)


def _source(c: Citation, script: str, whole_label: str) -> str:
    where = escape(to_script(c.where, script))
    shown = " ".join(f"<mark>{escape(to_script(q, script))}</mark>" for q in c.quotes)
    if not shown:  # a nearest passage of a refusal: its opening
        opening = to_script(c.text, script)
        shown = escape(opening[:80] + ("…" if len(opening) > 80 else ""))
    return (
        f"<p><b>[{c.n}]</b> {where}<br>{shown}</p>\n"
        f"<details><summary>{whole_label}</summary><p>{_highlighted(c, script)}</p></details>"
    )


def text_body(text: str) -> str:
    """Answer text, escaped, with [n] as superscript links to their sources."""
    return "\n\n".join(_MARK.sub(_CITE, escape(line)) for line in text.split("\n"))


def answer_body(answer: Answer) -> str:
    """The answer's notice (in italics) and sentences."""
    body = text_body(answer.text)
    return f"<i>{escape(answer.notice)}</i>\n\n{body}" if answer.notice else body


def answer_markup(answer: Answer) -> str:
    """The whole chat message: answer, then its cited sources (or nearest passages)."""
    frame = FRAMES[answer.script]
    sources, nearest, whole = frame["sources"], frame["nearest"], frame["whole"]
    cited = (
        answer.citations[:3]
        if answer.refused
        else [c for c in answer.citations if c.cited] or answer.citations[:3]
    )
    parts = [answer_body(answer)]
    if cited:
        parts.append(f"**{nearest if answer.refused else sources}**")
        parts += [_source(c, answer.script, whole) for c in cited]
    return "\n\n".join(parts)
