"""Text utilities for Chinese articles: script normalisation, sentences, tokens.

No I/O beyond loading OpenCC and jieba dictionaries once (jieba's from a disk
cache, :mod:`.diskcache`). Three facts decide the design (measured, see
../shared/DESIGN.md):

* Articles may be Taiwan-localised traditional Chinese (影片號 = 视频号,
  元件 = 组件); users write simplified, traditional or English.
* OpenCC ``tw2sp`` maps Taiwan wording back to mainland simplified, but on
  simplified text it corrupts (小程序 → 小进程). So ``t2s`` is always safe and
  ``tw2sp`` is applied only to text that *is* traditional.
* Search indexes both forms so that 视频号 and 影片号 both find a passage.

>>> split_sentences("一。二！三")
['一。', '二！', '三']
"""

from __future__ import annotations

import html
import logging
import math
import re
import unicodedata
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import jieba
import opencc

from .diskcache import jieba_dictionary

if TYPE_CHECKING:
    import jieba.posseg

Script = Literal["zh-Hans", "zh-Hant", "en"]

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
# A sentence: text up to an ending mark (。！？；… and their ASCII cousins),
# plus any closing quotes or brackets that follow it; or a trailing fragment.
_SENTENCE = re.compile(
    r"[^。！？；!?;…\n]*(?:[。！？；!?;]+|…+)[”’」』）)\]\"']*|[^。！？；!?;…\n]+"
)
# Words that are already mainland usage but that tw2sp over-converts
# (指標 → 指针 "pointer", 互動 → 交互, 社群 → 社区); they get plain t2s.
_TW2SP_KEEP = re.compile("(指標|互動|社群)")
_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?(</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_MD_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)")
_URL = re.compile(r"\b(?:https?|javascript|data|file):\S*", re.IGNORECASE)
_PUNCT_TOKEN = re.compile(r"^[\W_]+$")
_STOPWORDS = frozenset(
    "的 了 是 在 有 和 与 及 或 也 都 就 而 被 把 将 对 于 从 到 为 以 之 其 这 那 个 吗 呢 吧 啊 "
    "我 你 他 她 它 们 我们 你们 什么 多少 哪些 哪个 怎么 怎样 如何 为什么 是否 有没有 请问 一下 "
    "the a an of to in on for and or is are was were be been do does did how what which who whom "
    "why when where much many my your i we you it its this that these those there with by about "
    "from as at can could should would will has have had".split()
)


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


@cache
def _dictionary() -> tuple[jieba.Tokenizer, dict[str, str]]:
    """jieba with our domain words, and every word's part-of-speech tag (theirs
    too), read from the disk cache when it can be (see :mod:`.diskcache`)."""
    jieba.setLogLevel(logging.WARNING)
    return jieba_dictionary(Path(__file__).with_name("lexicon.txt"))


def _jieba() -> jieba.Tokenizer:
    return _dictionary()[0]


@cache
def _pos() -> jieba.posseg.POSTokenizer:
    """jieba's part-of-speech segmenter over our tokenizer and tags (the corpus
    scaler uses it; answering needs only :func:`pos_flag`, so ``jieba.posseg``,
    which parses dict.txt when imported, is imported here only)."""
    import jieba.posseg

    pos = jieba.posseg.POSTokenizer(_jieba())
    pos.word_tag_tab = _dictionary()[1]
    return pos


def pos_flag(word: str) -> str | None:
    """jieba's part-of-speech tag of a dictionary word (n, v, vn, a …); None if unknown."""
    return _dictionary()[1].get(word)


#: conversions and word figures kept: the passages' sentences come back with every question
_CONVERSIONS = 50_000


@lru_cache(maxsize=_CONVERSIONS)  # asked for each word of each judged sentence
def general_surprisal(word: str) -> float:
    """How rare ``word`` is in general Chinese: -log of its frequency in jieba's
    dictionary (built from a large general corpus), highest for a word it
    lacks. 以后 (7.9) and 东西 (8.1) are everyday words; 佣金 (13.1) and
    日活 (17.9) name something specific. Used to tell which words a question
    could lack from the article without changing what it asks.

    >>> general_surprisal("以后") < general_surprisal("佣金") < general_surprisal("日活")
    True
    """
    tokenizer = _jieba()
    # our lexicon's words (抖音, 日活) carry made-up counts that force their
    # segmentation: they are domain words, as specific as an unknown one
    count = 0 if word in _lexicon_words() else tokenizer.FREQ.get(word, 0)
    return -math.log((count + 1) / tokenizer.total)


@cache
def _lexicon() -> tuple[tuple[str, str], ...]:
    """(word, part of speech) of each line of our lexicon."""
    lines = Path(__file__).with_name("lexicon.txt").read_text(encoding="utf-8").splitlines()
    return tuple((p[0], p[-1]) for p in (line.split() for line in lines) if p)


def _lexicon_words() -> frozenset[str]:
    return frozenset(word for word, _ in _lexicon())


def lexicon_names() -> list[str]:
    """The proper names of our lexicon (platforms: 抖音, 快手, 淘宝 …, tagged nz)."""
    return [word for word, tag in _lexicon() if tag == "nz"]


def segments(text: str) -> list[str]:
    """``text`` cut into words by jieba (with its HMM for words it does not know);
    the pieces put together are the text."""
    return list(_jieba().cut(text, HMM=True))


def in_dictionary(word: str) -> bool:
    """Is ``word`` a word of jieba's general dictionary (or our lexicon)?"""
    return _jieba().FREQ.get(word, 0) > 0


def sub_words(word: str) -> list[str]:
    """The dictionary words inside a word (男女比例 → 男女, 比例), by jieba's search mode."""
    return [w for w in _jieba().cut_for_search(word, HMM=False) if w != word]


def strip_controls(text: str) -> str:
    """Drop control and format characters (terminal escapes, U+202E) and lone
    surrogates (``"\\ud800"`` in JSON: not text, and unencodable as UTF-8) but
    keep line breaks and tabs: article and question text is data, never commands."""
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs")
    )


def plain_question(text: str) -> str:
    """A question as searched: markup pasted from a web page removed, entities
    decoded, control characters dropped, whitespace collapsed.

    >>> plain_question("<p>微信小店的<b>GMV</b>&nbsp;增长了多少？</p>")
    '微信小店的GMV 增长了多少？'
    >>> plain_question("<script>alert(1)</script>GMV？")
    'GMV？'
    >>> plain_question("[点这里](javascript:alert(1)) 订单数量 https://x.cn/a?b=1 增长了多少？")
    '点这里 订单数量 增长了多少？'
    """
    text = _SCRIPT_OR_STYLE.sub("", text)
    text = html.unescape(re.sub(r"<[^>]*>", "", text))
    text = _MD_LINK.sub(r"\1", text)  # [text](url) → text
    text = _URL.sub(" ", text)
    return " ".join(strip_controls(text).split())


def han_count(text: str) -> int:
    """Number of CJK ideographs in ``text``."""
    return len(_HAN.findall(text))


def is_traditional(text: str) -> bool:
    """True when enough of the Han characters change under ``t2s``.

    A few characters are shared or ambiguous, so one changed character in a
    long text does not make it traditional: 5% of Han characters, or at
    least one for very short texts.
    """
    simplified = _converter("t2s").convert(text)
    changed = sum(1 for a, b in zip(text, simplified, strict=False) if a != b)
    han = han_count(text)
    return changed > 0 and changed >= max(1, 0.05 * han)


def detect_script(text: str) -> Script:
    """The script a question is written in: English, traditional or simplified Chinese."""
    han, latin = han_count(text), len(_LATIN.findall(text))
    if latin > 2 * han:
        return "en"
    return "zh-Hant" if is_traditional(text) else "zh-Hans"


def _tw2sp(text: str) -> str:
    """``tw2sp`` except for the words in ``_TW2SP_KEEP``, which get ``t2s``."""
    parts = _TW2SP_KEEP.split(text)  # odd indexes are the kept words
    return "".join(
        _converter("t2s" if i % 2 else "tw2sp").convert(part) for i, part in enumerate(parts)
    )


def t2s(text: str) -> str:
    """OpenCC ``t2s`` alone: traditional characters as simplified, wording kept
    (影片號 → 影片号), almost always character for character.

    >>> t2s("影片號")
    '影片号'
    """
    return _converter("t2s").convert(text)


@lru_cache(maxsize=_CONVERSIONS)
def to_simplified(text: str) -> str:
    """Mainland simplified form: ``tw2sp`` for traditional text, ``t2s`` otherwise.

    >>> to_simplified("影片號的點選率指標"), to_simplified("小程序")
    ('视频号的点击率指标', '小程序')
    """
    if is_traditional(text):
        return _tw2sp(text)
    return _converter("t2s").convert(text)


def search_forms(text: str) -> list[str]:
    """The simplified forms a text is indexed and searched under (one or two)."""
    return list(_search_forms(text))


@lru_cache(maxsize=_CONVERSIONS)
def _search_forms(text: str) -> tuple[str, ...]:
    plain = _converter("t2s").convert(text)
    if not is_traditional(text):
        return (plain,)
    mainland = _tw2sp(text)
    return (plain,) if mainland == plain else (plain, mainland)


def lower_forms(text: str) -> list[str]:
    """Lower-cased search forms, for matching lower-cased tokens (gmv in GMV)."""
    return search_forms((text or " ").lower())


def to_script(text: str, script: Script) -> str:
    """Render quoted article text in the asker's script (English keeps the original)."""
    if script == "zh-Hans":
        return to_simplified(text)
    if script == "zh-Hant" and not is_traditional(text):
        return _converter("s2t").convert(text)
    return text


def split_sentences(text: str) -> list[str]:
    """Split at sentence ends (。！？；… and ASCII !?;) and line breaks.

    >>> split_sentences("增長1.92倍,訂單2.25倍。“好”！")
    ['增長1.92倍,訂單2.25倍。', '“好”！']
    """
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def tokenize(text: str) -> list[str]:
    """jieba search-mode tokens of already-normalised text, lower-cased,
    without punctuation and stop words. HMM new-word guessing is off: it glues
    unknown runs into odd words (最多降多少 → 最多降)."""
    out = []
    for token in _jieba().cut_for_search(text.lower(), HMM=False):
        token = token.strip()
        if token and token not in _STOPWORDS and not _PUNCT_TOKEN.match(token):
            out.append(token)
    return out


def search_tokens(text: str) -> list[str]:
    """Tokens of every search form of ``text`` (BM25 documents and queries)."""
    forms = search_forms(text)
    tokens = tokenize(forms[0])
    if len(forms) > 1:
        seen = set(tokens)
        tokens += [t for t in tokenize(forms[1]) if t not in seen]
    return tokens
