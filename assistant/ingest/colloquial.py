"""Colloquial and dialect wording rewritten in the standard written form.

People type 咋样, 啥, 卖得咋样, 翻了几倍, 係唔係; articles write 怎么样, 什么,
GMV 增长, 是不是. ``standardise`` rewrites a question with the table in
``colloquial.tsv`` (general spoken Mandarin, internet spellings, Cantonese,
e-commerce shorthand — not phrases of one article), longest match first, in
simplified and traditional script alike, so that search and word matching
see the words the articles use.

>>> standardise("小店今年卖得咋样")
'小店今年GMV怎么样'
>>> standardise("服務號係乜嘢？")
'服務號是什麼？'
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path

import opencc

from .text import detect_script


@cache
def _table() -> tuple[re.Pattern[str], dict[str, str]]:
    to_traditional = _traditional()
    table: dict[str, str] = {}
    for line in Path(__file__).with_name("colloquial.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        spoken, tab, written = line.partition("\t")
        if not tab or not spoken.strip():
            logging.getLogger(__name__).warning("colloquial.tsv: ignored line %r", line)
            continue
        table.setdefault(spoken, written)
        table.setdefault(to_traditional.convert(spoken), written)
    alternatives = sorted(table, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, alternatives))), table


@cache
def _traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def standardise(text: str) -> str:
    """``text`` with colloquial words in their written form (see the module doc),
    in the text's own script."""
    pattern, table = _table()
    if not pattern.search(text):
        return text
    hant = detect_script(text) == "zh-Hant"
    return pattern.sub(
        lambda m: _traditional().convert(table[m.group()]) if hant else table[m.group()], text
    )
