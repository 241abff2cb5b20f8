"""Ordinals read the same way in questions and articles: 方向二, 第二个方向,
首个方向, 方向三、四 and 第三、四个方向 all name numbered items of a noun.

The segmenter cuts 方向二 into 方向 and 二 and the numeral is dropped as a
function word, so "方向二具体讲的是啥？" matched every sentence about 方向.
Each ordinal becomes one key (``方向二``) that a question and a sentence
share however either words it. An ordinal without its noun (那第二个呢？)
takes the noun counted nearby (四个方向) in the message or the turn before.
Read by grammar (numerals, 第, 个, jieba's nouns), not from the articles.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..ingest.text import pos_flag, segments, to_simplified

_CN = "一二三四五六七八九十"
_NUMERAL = re.compile(rf"([{_CN}]|10|[1-9])是?")  # 二, 二是 (方向二是…), 3
_NTH = re.compile(rf"第?([{_CN}]|10|[1-9])个?")  # 第二个, 第三, 四个 (after 第三、)
_FIRST = frozenset({"首个", "首"})
#: words that join two items (三、四; 小程序和服务号)
JOINERS = frozenset("、 和 跟 与 及 以及 同".split())
_COUNTED = re.compile(rf"(?:[{_CN}]|\d+)个")  # 四个 (方向)
_CACHE = 20_000


def _chinese(numeral: str) -> str:
    return _CN[int(numeral) - 1] if numeral.isdigit() else numeral


def _is_noun(word: str) -> bool:
    return len(word) > 1 and (pos_flag(word) or "").startswith("n")


def _numbers(words: list[str], at: int, pattern: re.Pattern[str]) -> tuple[list[str], int]:
    """The numerals from ``words[at]`` on (三、四 / 三和四), and where they end."""
    found = []
    while at < len(words) and (m := pattern.fullmatch(words[at])):
        found.append(_chinese(m.group(1)))
        if at + 2 < len(words) and words[at + 1] in JOINERS and _NTH.fullmatch(words[at + 2]):
            at += 2
            pattern = _NTH
            continue
        at += 1
        break
    return found, at


def _counted_noun(words: list[str]) -> str | None:
    """The noun a count names (四个 方向, 四个 重要 方向)."""
    for i, w in enumerate(words):
        if _COUNTED.fullmatch(w):
            noun = next((x for x in words[i + 1 : i + 3] if _is_noun(x)), None)
            if noun:
                return noun
    return None


def is_ordinal(token: str) -> bool:
    """Is ``token`` an ordinal key (方向二)? It matches only itself: 方向三 is
    not in part 方向二."""
    return len(token) > 2 and token[-1] in _CN and _is_noun(token[:-1])


@lru_cache(maxsize=_CACHE)  # a passage's sentences come back with every question
def ordinals(text: str, context: str = "") -> tuple[str, ...]:
    """The ordinal keys of ``text`` (noun + Chinese numeral).

    >>> ordinals("方向三、四分別是微信對帶貨者的激勵")
    ('方向三', '方向四')
    >>> ordinals("第三、四个方向又是什么？"), ordinals("四个重要方向中的首个方向")
    (('方向三', '方向四'), ('方向一',))
    >>> ordinals("那第二个呢？", context="带货者业务四个方向，第一个是啥？")
    ('方向二',)
    >>> ordinals("视频号一直是重点，唯一一个不显示粉丝数的平台"), ordinals("第一季度")
    ((), ())
    """
    words = [w for w in segments(to_simplified(text).lower()) if w.strip()]
    keys: list[str] = []
    nounless: list[str] = []
    for i, word in enumerate(words):
        if _is_noun(word):  # 方向二, 方向三、四
            numbers, _ = _numbers(words, i + 1, _NUMERAL)
            keys += [word + n for n in numbers]
        elif word.startswith("第"):  # 第二个方向, 第三、四个方向, 第二个
            numbers, end = _numbers(words, i, _NTH)
            noun = words[end] if end < len(words) and _is_noun(words[end]) else None
            if noun and words[end - 1].endswith("个"):
                keys += [noun + n for n in numbers]
            elif noun is None:
                nounless += numbers  # (第一季度 is a name of its own: no key)
        elif word in _FIRST and i + 1 < len(words) and _is_noun(words[i + 1]):
            keys.append(words[i + 1] + "一")
    if nounless:
        before = [w for w in segments(to_simplified(context).lower()) if w.strip()]
        noun = _counted_noun(words) or _counted_noun(before)
        noun = noun or next((k[:-1] for k in ordinals(context)), None)
        keys += [noun + n for n in nounless] if noun else []
    return tuple(dict.fromkeys(keys))


def numbered(keys: tuple[str, ...] | list[str], texts: list[str]) -> list[str]:
    """The keys whose noun ``texts`` number too (方向二 where the article has
    方向三): only there does an ordinal say which item is asked. A paste's
    "第一个问题" against an article that numbers no 问题 is no subject word.

    >>> numbered(["方向五", "问题一"], ["方向二是…", "方向三、四分别是…"])
    ['方向五']
    """
    nouns = {k[:-1] for text in texts for k in ordinals(text)}
    return [k for k in keys if k[:-1] in nouns]
