"""English → Chinese domain terms, so that an English question can be matched
word by word against Chinese articles.

The embedder matches meaning across languages, but BM25 and the answerer's
word coverage need the Chinese words: "How much did the number of orders on
WeChat Shop grow?" carries 订单, 微信小店 and 增长. The list lives in
``glossary.tsv``; a help desk extends it with its own terms.

>>> chinese_terms("How many orders did WeChat Shop get?")
['微信小店', '订单']
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path


@cache
def _entries() -> list[tuple[re.Pattern[str], list[str]]]:
    entries = []
    for line in Path(__file__).with_name("glossary.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            logging.getLogger(__name__).warning("glossary.tsv: ignored line %r", line)
            continue
        english, chinese = parts
        # Longest alternatives first, so "wechat shop" wins over "shop".
        terms = sorted(english.split("|"), key=len, reverse=True)
        pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, terms)) + r")\b", re.IGNORECASE)
        entries.append((pattern, chinese.split()))
    return entries


def chinese_terms(text: str) -> list[str]:
    """The Chinese terms for the English phrases in ``text``, in glossary order."""
    found: list[str] = []
    for pattern, chinese in _entries():
        if pattern.search(text):
            found += [c for c in chinese if c not in found]
    return found


# calendar words are capitalised in English without being names
_CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "monday tuesday wednesday thursday friday saturday sunday mon tue wed thu fri sat sun".split()
)
_CAPITALISED = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][a-z]+\b")


def unknown_names(text: str) -> list[str]:
    """Capitalised words inside an English sentence that no glossary phrase
    covers: names (Shopee, Lazada) the articles cannot be matched on, which
    a question asking about something else carries.

    >>> unknown_names("What's the deposit for a store on Shopee in December?")
    ['Shopee']
    >>> unknown_names("How much did WeChat Shop GMV grow?")
    []
    """
    covered = [m.span() for pattern, _ in _entries() for m in pattern.finditer(text)]
    return [
        m.group()
        for m in _CAPITALISED.finditer(text)
        if m.group().lower() not in _CALENDAR
        and not any(start <= m.start() < end for start, end in covered)
    ]


def expand(text: str) -> str:
    """``text`` followed by the Chinese terms of its English phrases (if any)."""
    terms = chinese_terms(text)
    return f"{text} {' '.join(terms)}" if terms else text
