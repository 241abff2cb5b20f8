"""Word matching between a question and passages, for choosing sentences and refusing.

A question's *salient* words are its jieba tokens minus stop words and the
words that frame a question (什么, 多少, 区别 …). A word matches a text when
it appears in one of the text's simplified forms; a compound the text does
not contain (男女比例) matches in part through its own parts (男女 …), so a
question worded differently from the article is not thrown out. Words are
weighted by their BM25 IDF in the index: GMV counts for more than 微信小店.

For refusing, only content words count: a verb or adverb the article does
not use (视为, 看重) says nothing about whether the answer is there; a noun
it does not know (快手, 月活跃用户) does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache

from langchain_core.documents import Document

from ..ingest.text import (
    general_surprisal,
    in_dictionary,
    lower_forms,
    pos_flag,
    search_tokens,
    segments,
    sub_words,
    to_simplified,
)
from .ordinals import is_ordinal, ordinals

Weight = Callable[[str], float]

# Words that frame a question rather than name its subject: their absence
# from the passages says nothing about whether the answer is there.
_FRAME_WORDS = frozenset(
    "意思 含义 定义 概念 解释 区别 变化 意义 看重 重视 关注 "
    "作用 影响 情况 问题 方面 方式 原因 有用 "
    "什么样 怎么样 多大 几个 同比 环比 "
    "最多 最少 最高 最低 主要 具体 哪里 时候 介绍 说明 告诉 知道 一些 关于 本届 今年 去年 "
    "增加 增长 上涨 下降 降低 提高 涨幅 降幅 数量 人数 比例 占比 多少钱 一共 总共 客户 "
    "大概 大约 目前 现在 能否 vs 你好 您好 哈喽 hi hello".split()
)
_HAN_PAIR = re.compile(r"[\u4e00-\u9fff]{2}")
# an A-not-A question (是不是, 会不会, 有没有, 可不可以): grammar, not subject
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")
# POS flags of words that only shape a sentence (pronouns, conjunctions, adverbs,
# particles, place words): never words to match
_FUNCTION = frozenset("r c d p u y e o f uj ul uz ug ud uv".split())
_VERBS = frozenset("v vd vg vi vq".split())
_NAMES = frozenset("nr ns nt nz".split())
# a demonstrative with a measure word (这回, 那届) points; it names nothing
_DEMONSTRATIVES = frozenset("这那這本此该該")
# POS flags of words that do not name a subject (verbs but verbal nouns, adverbs, …).
_NOT_CONTENT = ("v", "vd", "vg", "vi", "vq", "d", "p", "c", "u", "r", "y", "e", "o", "m", "b")


def is_function_word(token: str) -> bool:
    """A pronoun, conjunction, adverb, particle or place word (咋样, 还是, 必须,
    以后 — by jieba's part of speech), a question's numeral (几倍, 多少) or a
    phrase built on a question word (哪年哪月) or a demonstrative with a measure
    word (这回, 这届): words that shape a question but name nothing to look for.

    >>> [is_function_word(w) for w in ("咋样", "以后", "几倍", "哪年哪月", "这回", "小店", "增长")]
    [True, True, True, True, True, False, False]
    """
    flag = pos_flag(token)
    if flag == "m":
        return any(c in token for c in "几多")
    if any(c in token for c in "哪啥") and flag not in _NAMES:  # 哪年哪月 (哪吒 is a name)
        return True
    if token[0] in _DEMONSTRATIVES and flag in (None, "m", "q", "mq"):  # 这回, 这届
        return True
    return flag in _FUNCTION


def length_weight(token: str) -> float:
    """Fallback word weight when no index statistics are at hand: longer is rarer."""
    return 2.0 if token.isascii() else float(min(len(token), 4))


def text_forms(text: str) -> list[str]:
    """The forms a text's words are matched in: its lower-cased simplified
    forms and its ordinal keys (方向三、四 holds 方向三 and 方向四: ``ordinals``).

    >>> text_forms("方向二是對帶貨者的激勵")
    ['方向二是对带货者的激励', '方向二']
    """
    return [*lower_forms(text), *ordinals(text)]


def _contains(forms: list[str], token: str) -> bool:
    """Is ``token`` in one of ``forms``? A number only as a whole number (the
    1 of 1万 is not in 1000, the 25 of 25岁 is in 25個), or as a year's last
    two digits (24年 is 2024年).

    >>> _contains(["最高能获得1000流量点"], "1"), _contains(["25个类目"], "25")
    (False, True)
    >>> _contains(["2024年12月"], "24")
    True
    """
    if token.replace(".", "").isdigit():
        whole = _whole_number(token)
        return any(whole.search(form) for form in forms)
    return any(token in form for form in forms)


@lru_cache(maxsize=4096)
def _whole_number(token: str) -> re.Pattern[str]:
    century = "(?:19|20)?" if len(token) == 2 else ""
    return re.compile(rf"(?<![\d.]){century}{re.escape(token)}(?![\d]|\.\d)")


def salient_tokens(text: str) -> list[str]:
    """Words that name the question's subject (not 什么/多少/区别 …), without
    the parts jieba's search mode also yields (小店 inside 微信小店).

    An A-not-A verb (是不是, 会不会, 有没有) only asks yes or no.

    >>> salient_tokens("微信小店的GMV增长了多少？")
    ['微信小店', 'gmv']
    >>> salient_tokens("新号是不是更容易出爆款"), salient_tokens("保证金会不会降")
    (['容易'], ['保证金'])
    """
    tokens = [
        t
        for t in dict.fromkeys(search_tokens(_A_NOT_A.sub(" ", text)))
        if t not in _FRAME_WORDS and (len(t) > 1 or t.isascii()) and not is_function_word(t)
    ]
    return [t for t in tokens if not any(t != o and t in o for o in tokens)]


@cache
def _parts(token: str) -> tuple[str, ...]:
    """A token's sub-words that may match alone; none for an ordinal key
    (方向三 must not match in part 方向二)."""
    return () if is_ordinal(token) else tuple(p for p in sub_words(token) if len(p) > 1)


def match(token: str, forms: list[str]) -> float:
    """1 when ``token`` is in one of ``forms``; else the share of its parts that are."""
    if _contains(forms, token):
        return 1.0
    parts = _parts(token)
    if not parts:
        return 0.0
    return sum(1 for p in parts if p in _FRAME_WORDS or _contains(forms, p)) / len(parts)


def corpus_pairs(text: str, forms: list[str]) -> list[str]:
    """Two-character words a dictionary lacks (爆款, 新号) that the passages
    hold: a pair the segmenter made up by its HMM, or two single characters
    side by side, found whole in one of ``forms``. Search mode splits such
    words into characters, which match nothing; the articles' own words say
    which pairs are words.

    >>> corpus_pairs("新号是不是更容易出爆款", ["当一个新号开始发布内容，有更大概率会出现爆款"])
    ['新号', '爆款']
    """
    pieces = segments(_A_NOT_A.sub(" ", text))
    pairs = [
        a + b
        for a, b in zip(pieces, pieces[1:], strict=False)
        if len(a) == len(b) == 1 and not (is_function_word(a) or is_function_word(b))
    ]  # (讲的是: 的 only shapes the sentence)
    unknown = [p for p in pieces if len(p) == 2 and not in_dictionary(to_simplified(p))]
    found = [
        p
        for p in pairs + unknown
        if _HAN_PAIR.fullmatch(p)
        and p not in _FRAME_WORDS
        and not is_function_word(p)
        and _contains(forms, p)
    ]
    return list(dict.fromkeys(found))


def is_content_word(token: str, specific_verb: float = math.inf) -> bool:
    """Does the word name something (noun, name, number, unknown word), not an
    action? A verb counts when it is at least ``specific_verb`` rare in general
    Chinese (退货 14.4, 入驻 13.9 name a subject; 看重 11.6 does not)."""
    flag = pos_flag(token)
    if flag not in _NOT_CONTENT:
        return True
    return flag in _VERBS and general_surprisal(token) >= specific_verb


def is_name(token: str) -> bool:
    """A proper name (our lexicon tags platforms such as 快手 ``nz``) or a word no
    dictionary knows (TikTok, DAU): asking about one the articles never mention
    means asking about something else."""
    flag = pos_flag(token)
    return flag == "nz" or (flag is None and not token.replace(".", "").isdigit())


@dataclass(frozen=True)
class Coverage:
    """Which of the question's content words the passages lack."""

    missing: list[str]

    @property
    def missing_names(self) -> list[str]:
        return [t for t in self.missing if is_name(t)]


def coverage(
    tokens: list[str], passages: list[Document], specific_verb: float = math.inf
) -> Coverage:
    """The content words of ``tokens`` that no passage (text or section) contains,
    even in part."""
    forms = [
        f
        for d in passages
        for text in (d.page_content, d.metadata.get("section", ""))
        for f in text_forms(text)
    ]
    content = [t for t in tokens if is_content_word(t, specific_verb)]
    return Coverage([t for t in content if match(t, forms) < 0.5])


def unbound(
    tokens: list[str],
    sentences: list[tuple[list[str], list[str]]],
    specific_verb: float = math.inf,
) -> float:
    """How specific the question's rarest word is that the best-bound sentence
    lacks: for each sentence (its forms, its heading's forms), the highest
    ``general_surprisal`` of a content word found in neither; the lowest of
    those over the sentences (0 when one sentence holds every word; the
    rarest word when there is no sentence at all).

    A near miss often has all its words in the passages but not together
    (the 付费额度 of 带货者, where the article gives 体育's). An answerable
    question in other words lacks only everyday words (东西, 容易).

    >>> s = [(["体育垂类直播的付费额度增长了190%"], []), (["带货者佣金比例"], [])]
    >>> unbound(["体育", "付费", "额度"], s)
    0.0
    >>> unbound(["带货者", "付费", "额度"], s) > 12
    True
    """
    content = [t for t in tokens if is_content_word(t, specific_verb)]
    if not sentences:
        return max(map(general_surprisal, content), default=0.0)
    return min(
        max(
            (
                general_surprisal(t)
                for t in content
                if max(match(t, forms), match(t, heading)) < 0.5
            ),
            default=0.0,
        )
        for forms, heading in sentences
    )


def lexical(
    tokens: list[str],
    forms: list[str],
    section_forms: list[str],
    weight: Weight,
    section_share: float = 0.5,
) -> float:
    """Weighted share of the tokens in the sentence; a match in its heading
    counts ``section_share`` (half, or all for the items of a list)."""
    total = sum(weight(t) for t in tokens)
    if not total:
        return 0.0
    hits = sum(
        weight(t) * max(match(t, forms), section_share * match(t, section_forms)) for t in tokens
    )
    return hits / total
