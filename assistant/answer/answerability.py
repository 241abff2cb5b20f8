"""What the answerability model looks at: the features of one question and its passages.

Each is a number the extractive answer computes anyway; the model
(``policy.Answerability``, fitted by ``assistant.calibration``) weighs them
into P(the passages answer the question). Why each one:

* ``best``, ``dense``: how well the best sentence matches (blended score;
  cosine alone) — weak matches are refusals;
* ``missing_names``: names (快手, TikTok) in no passage — asking about
  something else;
* ``top_dense``: the best passage's cosine from retrieval;
* ``unbound``: how specific the rarest question word is that even the
  best-bound of the best sentences lacks (``matching.unbound``; specificity
  is ``text.general_surprisal``, rarity in general Chinese): an answerable
  question in other words lacks everyday words (以后 7.9, 东西 8.1), a near
  miss the specific thing it asks for (佣金 13.1, 日活 17.9), or has its
  words in the passages but not together (体育's 付费额度 asked of 法律);
  ``figure_unbound``: the same among the best sentences holding a
  figure, for a "how much" question (食品生鲜 has no figure, GMV's is not its);
* ``missing_number``: a number of the question (2023年, 35岁) that no passage
  holds — the article speaks of another year or group;
* ``unit_gap``: the question asks for a count in a unit (多少个, 几倍, 多少亿,
  百分之几) and no figure of the best sentences is in that unit (the article
  gives 110%, the question wants 多少个);
* ``slot_gap``: the question asks when, where, who or why, and none of the
  best sentences holds a date, a place, a person's name or a reason
  (送礼物功能是几月几号上线的 against a sentence that gives no date);
* ``figure_gap``: a "how much" question whose best sentences hold no figure;
* ``content_words``: how many words carry the question (log) — a short
  question is easier to cover by chance;
* ``english``: English questions are matched across languages, with lower
  cosines and fewer words;
* the question's type, by its grammar (``question_types``): asking the
  assistant's opinion or a forecast (你觉得, 值不值得, do you think), a
  definition (什么意思, stand for), how to do something (怎么申请), yes or
  no, or why. A news article reports; it seldom defines, advises or
  forecasts — the model learns how much each type says.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from langchain_core.documents import Document

from ..ingest.text import pos_flag, search_tokens, to_simplified
from .matching import Coverage
from .policy import Answerability

FEATURES = (
    "best",
    "dense",
    "missing_names",
    "top_dense",
    "figure_gap",
    "missing_number",
    "unit_gap",
    "slot_gap",
    "content_words",
    "english",
    "asks_opinion",
    "asks_definition",
    "asks_how_to",
    "asks_yes_no",
    "asks_why",
    "unbound",
    "figure_unbound",
)

#: a figure: a number that is not a date (1.92倍, 200%, 4:6, 25個; not 2024年 or 12月)
FIGURE = re.compile(r"\d+(?:\.\d+)?(?:\s*[%％倍:：]|[个個万萬亿億场場人元岁歲天次家])|\d+\.\d+")
# measure words a "how many" question names (a closed grammatical class)
# (哪几个 asks which ones, not how many)
_UNIT_ASKED = re.compile(r"(?:多少|(?<!哪)几)\s*([个倍亿万元块钱人岁场天次家点])")
# another question word: then 几个 is "several", not what is asked
_OTHER_WH = re.compile(r"哪|什么|啥|谁|怎么|如何|为什么|为何")
_PERCENT_ASKED = re.compile(r"百分之(?:多少|几)|几成|多少%|percent", re.IGNORECASE)
_UNIT_FORMS = {"块": "元", "钱": "元", "点": "%"}


class Scored(Protocol):
    """What the features need of a scored sentence."""

    sentence: str
    score: float
    dense: float


_TYPES = {
    "asks_opinion": re.compile(
        r"你(?:们)?(?:觉得|认为|建议|估计|预测|猜|看好|怎么看)|值不值|划算|该不该|"
        r"怎么办|[如怎][何么]应对|前景|能成吗|"
        r"do you think|would you|should (?:i|we)|your (?:opinion|view)|\brecommend\b|worth it",
        re.IGNORECASE,
    ),
    "asks_definition": re.compile(
        r"什么意思|啥意思|指的?是什么|是指什么|的定义|区别|差别|有何不同|stand for|"
        r"what does \S+ mean|define|difference between|what(?: exactly)? is an? ",
        re.IGNORECASE,
    ),
    "asks_how_to": re.compile(
        r"(?:怎么|怎样|如何)(?:申请|开通|设置|操作|办理|注册|开|做|弄)|"
        r"how (?:do|can|should) (?:i|we|you)\b|how to\b",
        re.IGNORECASE,
    ),
    "asks_yes_no": re.compile(
        r"[吗嗎][？?!！。]*$|是不是|是否|有没有|能不能|会不会|可不可以|"
        r"^(?:is|are|does|do|did|can|will|was|were|has|have)\b",
        re.IGNORECASE,
    ),
    "asks_why": re.compile(r"为什么|为啥|为何|原因|\bwhy\b|how come", re.IGNORECASE),
}


def question_types(question: str) -> dict[str, float]:
    """1 for each type the question's grammar shows (see ``_TYPES``), else 0.

    >>> t = question_types("你觉得小店明年能干过抖音吗？")
    >>> t["asks_opinion"], t["asks_yes_no"], t["asks_why"]
    (1.0, 1.0, 0.0)
    """
    text = to_simplified(question).strip()
    return {name: float(bool(pattern.search(text))) for name, pattern in _TYPES.items()}


@dataclass(frozen=True)
class _Nothing:
    sentence: str = ""
    score: float = 0.0
    dense: float = 0.0


def features(
    question: str,
    candidates: Sequence[Scored],
    cover: Coverage,
    passages: list[Document],
    *,
    unbound: float,
    figure_unbound: float,
    content_words: int,
    wants_figure: bool,
    english: bool,
) -> dict[str, float]:
    """The model's inputs for one question (see the module doc); ``candidates``
    are the best sentences, best first."""
    best = candidates[0] if candidates else _Nothing()
    sentences = [c.sentence for c in candidates]
    dense = [d.metadata.get("dense") for d in passages]
    return {
        "best": best.score,
        "dense": max((c.dense for c in candidates), default=0.0),
        "missing_names": float(min(2, len(cover.missing_names))),
        "top_dense": max((float(d) for d in dense if d is not None), default=0.0),
        "missing_number": float(any(t.replace(".", "").isdigit() for t in cover.missing)),
        "unit_gap": float(unit_gap(question, sentences)),
        "slot_gap": float(slot_gap(question, sentences)),
        "figure_gap": float(wants_figure and not any(map(FIGURE.search, sentences))),
        "content_words": math.log1p(content_words),
        "unbound": unbound,
        "figure_unbound": figure_unbound,
        "english": float(english),
        **question_types(question),
    }


def asked_unit(question: str) -> str | None:
    """The unit a "how many" question asks its figure in (个, 倍, %, 亿 …), if any.

    >>> asked_unit("优质内容主播总共有多少个"), asked_unit("GMV翻了几倍"), asked_unit("涨了多少")
    ('个', '倍', None)
    >>> asked_unit("占百分之多少"), asked_unit("具体是多少亿啊"), asked_unit("看哪几个指标")
    ('%', '亿', None)
    >>> asked_unit("几个主流平台里哪家不显示粉丝数")
    """
    if _PERCENT_ASKED.search(question):
        return "%"
    text = to_simplified(question)
    m = _UNIT_ASKED.search(text)
    if m and m.group().startswith("几") and _OTHER_WH.search(text):
        return None  # 几个平台里哪家…: 几 counts the candidates, 哪家 is asked
    return _UNIT_FORMS.get(m.group(1), m.group(1)) if m else None


# what a question asks for, and what in a sentence gives it (by grammar and part
# of speech: ns place names, nr person names)
_SLOTS = {
    "when": re.compile(
        r"什么时候|何时|哪年|哪一年|几月|哪个月|哪天|几号|多久|\bwhen\b|what (?:year|date)",
        re.IGNORECASE,
    ),
    "where": re.compile(
        r"哪里|哪儿|哪个城市|在哪(?![个些一种类])|\bwhere\b|which city", re.IGNORECASE
    ),
    "who": re.compile(r"谁|哪位|\bwho\b", re.IGNORECASE),
    "why": re.compile(r"为什么|为啥|为何|\bwhy\b|how come", re.IGNORECASE),
}
_DATE = re.compile(
    r"\d{4}年|\d{1,2}月|\d{1,2}[日号]|去年|今年|明年|年底|年初|上半年|下半年|春节|多年|\d+年"
)
_REASON = re.compile(r"原因|因为|由于|为了|所以|在于|意味|目的")


def _fills(slot: str, sentence: str) -> bool:
    text = to_simplified(sentence)
    if slot == "when":
        return bool(_DATE.search(text))
    if slot == "why":
        return bool(_REASON.search(text))
    flag = "ns" if slot == "where" else "nr"
    return any(pos_flag(t) == flag for t in search_tokens(text))


def slot_gap(question: str, sentences: list[str]) -> bool:
    """Does the question ask when, where, who or why with no sentence giving it?

    >>> slot_gap("送礼物功能是几月几号上线的", ["送礼物功能已经灰度上线。"])
    True
    >>> slot_gap("微信小店什么时候重新上线", ["去年8月重新上线的微信小店。"])
    False
    """
    text = to_simplified(question)
    asked = [slot for slot, pattern in _SLOTS.items() if pattern.search(text)]
    return any(not any(_fills(slot, s) for s in sentences) for slot in asked)


def unit_gap(question: str, sentences: list[str]) -> bool:
    """Does the question ask for a unit that no figure of ``sentences`` is in?"""
    unit = asked_unit(question)
    if unit is None:
        return False
    forms = {unit, *(k for k, v in _UNIT_FORMS.items() if v == unit)}
    figures = [m.group() for s in sentences for m in FIGURE.finditer(to_simplified(s))]
    return not any(f.rstrip().endswith(tuple(forms)) or (unit == "%" and "%" in f) for f in figures)


@dataclass(frozen=True)
class Verdict:
    """The decision and what drove it (shown as ``evidence`` in ``--json``)."""

    answer: bool
    probability: float
    threshold: float
    values: dict[str, float]
    drivers: dict[str, float]  # each feature's part of the log-odds, largest first

    def evidence(self) -> dict[str, object]:
        return {
            "answerable": self.probability,
            "threshold": self.threshold,
            "features": self.values,
            "drivers": self.drivers,
        }


def decide(model: Answerability, values: dict[str, float]) -> Verdict:
    """Answer when the model's probability reaches its threshold."""
    parts = model.contributions(values)
    drivers = dict(sorted(parts.items(), key=lambda kv: -abs(kv[1])))
    p = model.probability(values)
    return Verdict(p >= model.threshold, p, model.threshold, values, drivers)
