"""Every weight and threshold of the extractive answer, in one typed policy.

``AnswerPolicy.from_settings`` builds it; ``compose`` and the functions it
calls take it instead of loose numbers. Each field says where its value
comes from: *learned* (the answerability model, fitted and cross-validated
by ``python -m assistant.calibration``) or *set by hand* with the reason.
The hand-set ones shape which sentence is quoted, not whether to answer;
they were chosen on the dev set (``tests/data/dev_questions.jsonl``) and
are checked by unit tests on made-up passages (``tests/test_policy.py``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

from ..settings import Settings, default

MODEL_FILE = "answerability.json"


@dataclass(frozen=True)
class Scoring:
    """How a sentence is scored against the question (``extractive.score_sentences``)."""

    #: share of the word match in a sentence's score (the rest: cosine); equal
    #: parts, because each alone reached hit@5 0.95 on the dev set
    lexical_weight: float = 0.5
    #: a follow-up's earlier question counts this much in the word match
    context_share: float = 0.2
    #: the retrieval rank's prior: the sentence score is divided by 1 + decay × rank
    rank_decay: float = 0.05
    #: added to a sentence holding a figure when the question asks "how much"
    figure_bonus: float = 0.12
    #: added to a sentence denying a word of a yes/no question (有直播吗 → 没有直播):
    #: a direct answer, counted like the figure a "how much" question asks for
    denial_bonus: float = 0.12
    #: a match in the sentence's heading counts this much (all of it for a list's items)
    heading_share: float = 0.5


@dataclass(frozen=True)
class Selection:
    """Which sentences join the best one, and which neighbours they bring."""

    max_sentences: int = 3
    #: a near-tie: this share of the best score …
    tie_score: float = 0.9
    #: … and this share of the best sentence's own word matches
    tie_words: float = 0.5
    #: a figure from another passage, for "how much": its share of the best score …
    figure_score: float = 0.7
    #: … and of the best sentence's own word matches
    figure_words: float = 0.7
    #: a sentence shorter than this brings the next one (a heading-like line says too little)
    short_sentence: int = 25
    #: the sentence before is brought for its year only when it is at most this long
    year_sentence: int = 40
    #: a heading this long is a statement that may be quoted (shorter: a name, 影片號)
    heading_chars: int = 8


@dataclass(frozen=True)
class Answerability:
    """A logistic regression over the features of ``answerability.features``:
    P(the passages answer the question). Learned, with its threshold, by
    ``python -m assistant.calibration`` (see the numbers in the model file)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    about: dict[str, Any] = field(default_factory=dict, compare=False)

    def contributions(self, values: dict[str, float]) -> dict[str, float]:
        """Each feature's part of the log-odds (standardised value × weight)."""
        return {
            name: (values.get(name, 0.0) - m) / s * c
            for name, m, s, c in zip(self.features, self.mean, self.scale, self.coef, strict=True)
        }

    def probability(self, values: dict[str, float]) -> float:
        z = self.intercept + sum(self.contributions(values).values())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def with_threshold(self, threshold: float | None) -> Answerability:
        return self if threshold is None else replace(self, threshold=threshold)

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "threshold": self.threshold,
            "about": self.about,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answerability:
        return cls(
            tuple(data["features"]),
            tuple(float(x) for x in data["mean"]),
            tuple(float(x) for x in data["scale"]),
            tuple(float(x) for x in data["coef"]),
            float(data["intercept"]),
            float(data["threshold"]),
            data.get("about", {}),
        )


@cache
def shipped_model() -> Answerability:
    """The model fitted by ``assistant.calibration``, shipped with the package."""
    text = resources.files(__package__).joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return Answerability.from_json(json.loads(text))


@dataclass(frozen=True)
class AnswerPolicy:
    """The extractive answer's numbers: scoring, selection, answerability, length."""

    answerability: Answerability = field(default_factory=shipped_model)
    scoring: Scoring = Scoring()
    selection: Selection = Selection()
    #: the answerability features judge the best this many sentences (the
    #: answer quotes up to ``Selection.max_sentences``; a third brings in the
    #: one a reworded question ranks just below)
    judged: int = 3
    #: length budget of the quoted answer (twice this for a list)
    max_chars: int = default("answer_max_chars")
    #: no answer quotes more than this in all, with the sentences that give its
    #: best ones their context (the second and later go when they would pass
    #: it): about a phone screen of Chinese text, the longest issue 12 allows
    longest: int = 300
    #: a message is chit-chat or about the article when its nearest example
    #: (``intents.EXEMPLARS``) is at least this similar: on the labelled lines
    #: of the question sets, greetings and thanks scored ≥ 0.63 and no
    #: question to search for reached 0.6 (``tests/test_intents.py``)
    intent_similarity: float = 0.6
    #: a message naming a word of the articles at least this rare in general
    #: Chinese (``text.general_surprisal``) is no chit-chat: 问题 7.0, 资料 8.8
    #: are everyday words; 算法 11.8, 创作者 13.6, 小店 17.9 name a topic. A
    #: word this rare that the corpus lacks may be a slip for the corpus word it
    #: sounds like (``spelling``: 小点 13.8 → 小店; 时间 7.5 is left alone)
    topic_surprisal: float = 11.5
    #: a verb the passages lack counts as a missing subject word when it is at
    #: least this rare in general Chinese: 退货 14.4, 入驻 13.9, 抽成 16.5 ask
    #: about something the article may not cover; 看重 11.6, 下调 11.8 are
    #: ways of asking (set by hand between the two groups)
    specific_verb: float = 13.0
    #: a word the articles lack stands for the article word this close to it in
    #: meaning (``aliases``); chosen by leave-one-set-out cross-validation
    alias_similarity: float = field(
        default_factory=lambda: float(shipped_model().about.get("alias_similarity", 1.0))
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> AnswerPolicy:
        """The policy with the settings' length budget and threshold override."""
        return cls(
            answerability=shipped_model().with_threshold(settings.answer_threshold),
            max_chars=settings.answer_max_chars,
        )
