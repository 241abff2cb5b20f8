"""The model-written answer: stream it, check each sentence, keep what is backed.

:func:`generated_answer` reads the model's answer as it streams, cuts it into
sentences and checks each one (:mod:`assistant.answer.citecheck`) before anyone sees
it. It yields the text that passed, sentence by sentence, then the final
:class:`~assistant.answer.response.Answer`:

* sentences that passed keep their ``[n]``, renumbered in order of first
  citation (as extractive answers are), and the passages they lean on are
  marked cited with the backing sentence as the quote to highlight;
* removed sentences are counted (``unsupported``), listed with the reason
  (``removed``) and announced in ``notice``;
* lines that state nothing ("根据文章：") wait for the next backed sentence;
* the model's refusal sentence gives a refusal with the nearest passages;
* when nothing passes, :class:`NothingSupported` tells the caller to answer
  extractively instead; when the model fails after a backed sentence was
  shown, the answer ends there with a notice (what was streamed stays true).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import closing

from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable

from ..errors import AssistantError
from ..ingest.text import Script, to_simplified
from ..settings import Settings
from .citecheck import MARK, CitationChecker, Claim, SentenceStream, normalise_marks
from .llm import LLMUnavailable, answer_inputs, stream_text
from .response import FRAMES, Answer, citation_from, cited_first, refusal

_NOT_WORD = re.compile(r"[\W_]+")
_DIGIT = re.compile(r"\d")
# What a refusal says, in any script (compared without spaces or punctuation).
_REFUSALS = (
    "没有找到 未找到 找不到 无法回答 没有提到 没有提及 未提及 未提到 没有相关 "
    "couldnotfind cannotfind couldntfind cantfind notmentioned doesnotmention "
    "donotmention doesnotsay noinformation"
).split()
#: the longest model answer read; the rest is dropped (the prompt asks for ≤ 4 sentences)
MAX_ANSWER_CHARS = 2000


class NothingSupported(AssistantError):
    """No sentence of the model's answer survived the citation check."""

    def __init__(self, checked: int, removed: list[dict[str, str]]) -> None:
        super().__init__(f"none of {checked} sentences was backed by its passage")
        self.checked = checked
        self.removed = removed


def is_refusal(sentence: str) -> bool:
    """Does the sentence say the passages do not answer (and claim nothing)?

    >>> is_refusal("抱歉，文章中没有找到该问题的答案。"), is_refusal("I could not find it.")
    (True, True)
    >>> is_refusal("订单数量增长了2.25倍[1]。")
    False
    """
    if MARK.search(sentence) or _DIGIT.search(sentence):
        return False
    bare = _NOT_WORD.sub("", to_simplified(sentence).lower())
    return any(core in bare for core in _REFUSALS)


class _Renumber:
    """Model passage numbers → display numbers, in order of first citation."""

    def __init__(self) -> None:
        self.order: list[int] = []

    def __call__(self, sentence: str, cites: list[int]) -> str:
        for n in cites:
            if n not in self.order:
                self.order.append(n)

        def display(m: re.Match[str]) -> str:
            n = int(m.group(1))
            return m.group().replace(f"[{n}]", f"[{self.order.index(n) + 1}]")

        return MARK.sub(display, sentence)


def generated_answer(
    question: str,
    script: Script,
    passages: list[Document],
    *,
    answerer: Callable[[BaseChatModel], Runnable],
    checker: CitationChecker,
    deadline: float,
    settings: Settings,
) -> Iterator[str | Answer]:
    """Pieces of checked text as they pass (str; concatenated they are the
    answer's text), then the final Answer.

    Raises :class:`~assistant.answer.llm.LLMUnavailable` (the model failed before a
    backed sentence was shown) or :class:`NothingSupported` (it answered, but
    nothing it said is backed). A failure after that ends the answer with
    what was shown and a notice.
    """
    started = time.perf_counter()
    sentences = SentenceStream()
    renumber = _Renumber()
    shown: list[str] = []
    claims: list[Claim] = []
    pending: list[str] = []  # lines that state nothing, shown with the next fact
    removed: list[dict[str, str]] = []
    checked, refused, received = 0, False, 0
    failure: LLMUnavailable | None = None

    def judge(raw: str) -> list[str]:
        nonlocal checked, refused
        raw = normalise_marks(raw)
        if is_refusal(raw):
            refused = True
            return []
        claim = checker.check(raw)
        checked += claim.checked
        if not claim.supported:
            removed.append({"text": claim.text, "reason": claim.reason})
            return []
        if claim.checked and claim.cites and not MARK.search(raw):  # cite the backer
            body = raw.rstrip()
            raw = body + "".join(f"[{n}]" for n in claim.cites) + raw[len(body) :]
        piece = renumber(raw, claim.cites)
        if not claim.checked:
            pending.append(piece)
            return []
        out = [*pending, piece]
        pending.clear()
        if not shown:
            out[0] = out[0].lstrip()
        shown.extend(out)
        claims.append(claim)
        return out

    inputs = answer_inputs(question, passages, script)
    try:
        with closing(stream_text(answerer, inputs, deadline, settings)) as chunks:
            for chunk in chunks:
                received += len(chunk)
                for raw in sentences.feed(chunk):
                    yield from judge(raw)
                if received >= MAX_ANSWER_CHARS:
                    failure = LLMUnavailable("the model's answer was too long and was cut")
                    break
            else:
                for raw in sentences.flush():
                    yield from judge(raw)
    except LLMUnavailable as exc:
        if not claims:
            raise
        failure = exc
    if not received and failure is None:
        raise LLMUnavailable("the model sent an empty reply")

    generate_ms = (time.perf_counter() - started) * 1000
    if refused and not claims:
        answer = refusal(question, passages, script, mode="llm")
        answer.timings_ms["generate"] = generate_ms
        yield answer
        return
    if not claims:
        raise NothingSupported(checked, removed)

    if pending:  # trailing lines that state nothing
        yield from pending
        shown.extend(pending)
    order = cited_first(renumber.order, range(1, len(passages) + 1))
    citations = [citation_from(i, passages[n - 1]) for i, n in enumerate(order, start=1)]
    for claim in claims:
        for n, quote in claim.support.items():
            cite = citations[order.index(n)]
            cite.cited = True
            if quote and quote not in cite.quotes:
                cite.quotes.append(quote)
    notices = []
    if removed:
        notices.append(FRAMES[script]["removed"].format(n=len(removed)))
    if failure:
        notices.append(FRAMES[script]["llm_cut"])
    answer = Answer(
        question,
        "".join(shown).strip(),
        False,
        citations,
        script,
        mode="llm",
        checked=checked,
        unsupported=len(removed),
        removed=removed,
        notice=" ".join(notices),
        model_error=str(failure) if failure else "",
    )
    answer.timings_ms["generate"] = generate_ms
    yield answer
