"""The citation check: every sentence of a model's answer must be backed by
the passage it cites, or it is not shown.

A model's answer is cut into sentences (:class:`SentenceStream` does it while
tokens stream in; ``[n]`` marks after the full stop stay with their
sentence). Each sentence that states something is checked
(:meth:`CitationChecker.check`):

* its ``[n]`` must name a passage that was given to the model (1..k);
* every number in it (1.92, 200, 2024) must appear in a cited passage;
* it must be *about* what a cited passage says: the embedder's cosine
  between the sentence and the passage's best sentence, and the IDF-weighted
  share of the sentence's words found in the passage (for English, its
  glossary terms), must both clear thresholds calibrated on
  ``tests/data/claims.jsonl`` (paraphrases in three scripts vs. fabricated
  claims and wrong citations);
* a passage that addresses a model ("忽略之前的指令", "ignore previous
  instructions") backs nothing, so an answer that obeys an injected
  instruction finds nothing to stand on.

A sentence without ``[n]`` is checked against every passage and, if one
supports it, gets that citation. A line that states nothing (no number, no
content word: "根据文章：") is kept as it is and not counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from langchain_core.documents import Document

from ..ingest.chunking import chunk_sentences, sentence_id
from ..ingest.glossary import chinese_terms, expand
from ..ingest.text import han_count, lower_forms, to_simplified
from .injection import looks_like_instruction
from .matching import Weight, is_name, lexical, match, salient_tokens

MARK = re.compile(r"\s*\[(\d{1,3})\]")
# [1, 2] [1-3] 【1】 [1、2]: the other ways models write citation marks
_ANY_MARK = re.compile(r"[\[【]\s*(\d{1,3}(?:\s*[,，、\-–~]\s*\d{1,3})*)\s*[\]】]")
_MARK_ITEM = re.compile(r"(\d{1,3})(?:\s*[-–~]\s*(\d{1,3}))?")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．", "0123456789.")
_LIST_PREFIX = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)、])\s+")
_ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'-]+")
# Words that frame an answer ("根据文章：") rather than state anything.
_FRAMING = frozenset("文章 根据 资料 段落 来源 以下 如下 总结 回答 答案 提到 显示 表示".split())
_ENGLISH_STOP = frozenset(
    "the a an and or but of to in on at by for with from as is are was were be been being "
    "it its this that these those there here than then so such also very more most less "
    "has have had do does did will would can could should may might must not no yes "
    "i you he she we they me him her us them my your our their what which who whom whose "
    "when where why how all any both each few other some only own same too just about "
    "according article articles passage passages answer".split()
)
# Calibrated on tests/data/claims.jsonl (see test_citecheck). A Chinese sentence
# needs meaning (cosine) and words (IDF-weighted share), and enough of both
# together: paraphrases scored ≥ 1.15, fabrications and wrong citations ≤ 1.02
# (one subtle contradiction, 1.20, passes). English sentences are matched across
# languages (the mean cosine of the sentence and of the sentence with its glossary
# terms) and by those terms: paraphrases ≥ 0.455, wrong ones ≤ 0.43 or few
# terms: a thin margin, so English leans on the number check. Numbers are
# checked apart.
ZH_MIN_DENSE, ZH_MIN_LEXICAL, ZH_MIN_SUM = 0.45, 0.4, 1.1
EN_MIN_DENSE, EN_MIN_LEXICAL = 0.44, 0.6


@dataclass
class Claim:
    """One sentence of the answer and the verdict on it."""

    text: str  # as written, without its [n] marks
    cites: list[int]
    checked: bool = True
    supported: bool = True
    reason: str = ""
    # passage number → the sentence of it that best supports the claim
    support: dict[int, str] = field(default_factory=dict)


def numbers(text: str) -> set[str]:
    """The numbers in ``text``, normalised: full-width digits, ``1,000`` → ``1000``,
    ``1.90`` → ``1.9``, ``05`` → ``5``; a full-width comma separates numbers.

    >>> sorted(numbers("增长１.92倍，超过1,000人，2024-05-01，1,000.50"))
    ['1', '1.92', '1000', '1000.5', '2024', '5']
    >>> sorted(numbers("分别增长了120，150和180"))
    ['120', '150', '180']
    """
    plain = text.translate(_FULL_WIDTH)
    found = set()
    for m in _NUMBER.finditer(plain):
        value = m.group()
        if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", value):
            value = value.replace(",", "")
        for part in value.split(","):
            whole, _, decimals = part.partition(".")
            decimals = decimals.rstrip("0")
            found.add(str(int(whole)) + (f".{decimals}" if decimals else ""))
    return found


def normalise_marks(text: str) -> str:
    """Every citation mark as ``[n]``: ``[1, 2]`` → ``[1][2]``, ``[1-3]`` →
    ``[1][2][3]``, ``【1】`` → ``[1]``.

    >>> normalise_marks("增长1.92倍【1】，订单2.25倍[1, 2]，动销[2-3]。")
    '增长1.92倍[1]，订单2.25倍[1][2]，动销[2][3]。'
    """

    def canon(m: re.Match[str]) -> str:
        cited: list[int] = []
        for first, last in _MARK_ITEM.findall(m.group(1)):
            low, high = int(first), int(last or first)
            cited += range(low, high + 1) if 0 <= high - low <= 10 else [low, high]
        return "".join(f"[{n}]" for n in cited)

    return _ANY_MARK.sub(canon, text)


def split_marks(sentence: str) -> tuple[str, list[int]]:
    """The sentence without its ``[n]`` marks, and the marks in order.

    >>> split_marks("GMV增长1.92倍[1][3]。")
    ('GMV增长1.92倍。', [1, 3])
    """
    cites = [int(n) for n in MARK.findall(sentence)]
    return MARK.sub("", sentence).strip(), list(dict.fromkeys(cites))


class CitationChecker:
    """Checks sentences against the numbered passages the model was given."""

    def __init__(
        self,
        passages: list[Document],
        embed: Callable[[str], np.ndarray],
        sentence_vectors: Callable[[list[str]], dict[str, np.ndarray]],
        weight: Weight,
    ) -> None:
        self.passages = passages
        self.embed = embed
        self.weight = weight
        self._sentences: dict[int, list[str]] = {}
        self._forms: dict[int, list[str]] = {}
        self._numbers: dict[int, set[str]] = {}
        self._vectors: dict[str, np.ndarray] = {}
        for n, doc in enumerate(passages, start=1):
            # a passage that talks to the model (an injection) backs nothing at all
            quarantined = looks_like_instruction(doc.page_content)
            evidence = [] if quarantined else chunk_sentences(doc.page_content)
            self._sentences[n] = evidence
            text = "\n".join(evidence)
            self._forms[n] = lower_forms(text) + lower_forms(doc.metadata.get("section", ""))
            self._numbers[n] = numbers(text)
        self._vectors = sentence_vectors([s for ss in self._sentences.values() for s in ss])

    def check(self, sentence: str) -> Claim:
        """The verdict on one sentence of the answer."""
        text, cites = split_marks(_LIST_PREFIX.sub("", sentence))
        english = han_count(text) == 0
        tokens = self._tokens(text, english)
        figures = numbers(text)
        words = [w for w in _ENGLISH_WORD.findall(text) if w.lower() not in _ENGLISH_STOP]
        claim = Claim(text, cites)
        unknown = [n for n in cites if n not in self._sentences]
        if unknown:  # first: even a line that states nothing may not cite a ghost
            claim.supported = False
            given = len(self.passages)
            claim.reason = f"cites [{unknown[0]}], but only {given} passages were given"
            return claim
        if not tokens and not figures and not (english and words):
            claim.checked = False
            return claim
        candidates = cites or list(self._sentences)
        if english:  # across languages: the claim, and the claim with its Chinese terms
            vector = (self.embed(text) + self.embed(expand(text))) / 2  # averages the cosines
        else:
            vector = self.embed(to_simplified(text))
        verdicts = {n: self._support(n, vector, tokens, english, figures) for n in candidates}
        backing = {n: best for n, (ok, best, _) in verdicts.items() if ok}
        missing = sorted(figures - set().union(*(self._numbers[n] for n in candidates)))
        if missing:
            claim.supported = False
            shown = ", ".join(f"[{n}]" for n in candidates) if cites else "any passage"
            claim.reason = f"{missing[0]} is not in {shown}"
        elif not backing:
            claim.supported = False
            claim.reason = (
                f"not supported by {', '.join(f'[{n}]' for n in cites)}"
                if cites
                else "no citation, and no passage supports it"
            )
        elif not cites:  # uncited: cite the best passage that backs it, figures and all
            whole = [n for n in backing if figures <= self._numbers[n]]
            if whole:
                best = max(whole, key=lambda n: verdicts[n][2])
                claim.cites, claim.support = [best], {best: backing[best]}
            else:
                claim.supported = False
                claim.reason = "no citation, and no one passage holds all of it"
        else:
            claim.support = backing
        return claim

    def _tokens(self, text: str, english: bool) -> list[str]:
        if english:
            acronyms = [w.lower() for w in _ENGLISH_WORD.findall(text) if w.isupper()]
            return chinese_terms(text) + acronyms
        return [
            t
            for t in salient_tokens(text)
            if not t.replace(".", "").isdigit() and to_simplified(t) not in _FRAMING
        ]

    def _support(
        self, n: int, vector: np.ndarray, tokens: list[str], english: bool, figures: set[str]
    ) -> tuple[bool, str, float]:
        """(supports?, the sentence to quote, score) of passage ``n`` for the claim."""
        scored = [
            (float(np.dot(vector, self._vectors[sentence_id(s)])), s)
            for s in self._sentences[n]
            if sentence_id(s) in self._vectors
        ]
        if not scored:
            return False, "", 0.0
        dense = max(d for d, _ in scored)
        # the quote: the sentence holding the claim's figures, then the closest in meaning
        # and words (not merely the closest in meaning: 2024年…高速增长 vs …增长1.92倍)
        best = max(
            scored,
            key=lambda ds: (
                len(figures & numbers(ds[1])),
                ds[0] + lexical(tokens, lower_forms(ds[1]), [], self.weight),
            ),
        )[1]
        forms = self._forms[n]
        lex = lexical(tokens, forms, [], self.weight) if tokens else 0.0
        missing_name = any(is_name(t) and match(t, forms) < 0.5 for t in tokens)
        if english:
            ok = dense >= EN_MIN_DENSE and (lex >= EN_MIN_LEXICAL or not tokens)
        else:
            ok = (
                dense >= ZH_MIN_DENSE
                and lex >= ZH_MIN_LEXICAL
                and dense + lex >= ZH_MIN_SUM
                and not missing_name
            )
        return ok, best, dense + lex


class SentenceStream:
    """Cuts streamed text into sentences as soon as each is complete.

    A sentence ends at 。！？!?; (or ". " in English, not after a list number
    or an abbreviation such as "e.g.") or a line break, plus any citation
    marks right after it. It is released only when the next character shows
    that no more marks follow. Each piece keeps its own whitespace, so the
    pieces put together are the text as written.
    """

    _END = re.compile(r"[。！？!?；;\n]|\.(?=\s)")
    _TRAILING = re.compile(r"(?:\s*[\[【]\s*\d{1,3}(?:\s*[,，、\-–~]\s*\d{1,3})*\s*[\]】])*")
    _OPEN_MARK = re.compile(r"\s*[\[【][\d,，、\-–~\s]*$")
    _NOT_AN_END = re.compile(
        r"(?:^|\n)\s*(?:\d{1,2}|[a-zA-Z])$|\b(?:e\.g|i\.e|vs|etc|U\.S|Mr|Ms|Dr|No|approx)$",
        re.IGNORECASE,
    )

    def __init__(self) -> None:
        self.buffer = ""

    def feed(self, chunk: str) -> list[str]:
        self.buffer += chunk
        out, start = [], 0
        while m := self._END.search(self.buffer, start):
            if m.group() == "." and self._NOT_AN_END.search(self.buffer[: m.start()]):
                start = m.end()  # "1. " opening a list item, or "e.g. "
                continue
            tail = self._TRAILING.match(self.buffer, m.end())
            end = tail.end() if tail else m.end()
            if not self.buffer[:end].strip():  # a bare line break joins the next sentence
                start = end
                continue
            rest = self.buffer[end:]
            if not rest.strip() or self._OPEN_MARK.match(rest):
                break  # marks may still follow
            out.append(self.buffer[:end])
            self.buffer, start = rest, 0
        return out

    def flush(self) -> list[str]:
        last, self.buffer = self.buffer, ""
        return [last] if last.strip() else []
