"""The model-written answer: stream it, check each sentence, keep what is backed.

:func:`generated_answer` reads the model's answer as it streams, cuts it into
sentences and checks each one (:mod:`assistant.citecheck`) before anyone sees
it. It yields the text that passed, sentence by sentence, then the final
:class:`~assistant.response.Answer`:

* sentences that passed keep their ``[n]``, renumbered in order of first
  citation (as extractive answers are), and the passages they lean on are
  marked cited with the backing sentence as the quote to highlight;
* removed sentences are counted (``unsupported``), listed with the reason
  (``removed``) and announced in ``notice``;
* the model's refusal sentence gives a refusal with the nearest passages;
* when nothing passes, :class:`NothingSupported` tells the caller to answer
  extractively instead.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from langchain_core.documents import Document
from langchain_core.runnables import Runnable

from .citecheck import MARK, CitationChecker, Claim, SentenceStream
from .errors import AssistantError
from .llm import answer_inputs, stream_text
from .response import FRAMES, Answer, citation_from
from .settings import Settings
from .text import Script, to_simplified

_NOT_WORD = re.compile(r"[\W_]+")


class NothingSupported(AssistantError):
    """No sentence of the model's answer survived the citation check."""

    def __init__(self, checked: int, removed: list[dict[str, str]]) -> None:
        super().__init__(f"none of {checked} sentences was backed by its passage")
        self.checked = checked
        self.removed = removed


def _bare(text: str) -> str:
    return _NOT_WORD.sub("", to_simplified(text).lower())


_REFUSALS = [_bare(frame["refusal_empty"]) for frame in FRAMES.values()]


def is_refusal(sentence: str) -> bool:
    """Is this the refusal sentence the prompt asks for (in any script)?"""
    bare = _bare(MARK.sub("", sentence))
    return bool(bare) and any(r in bare or (len(bare) > 8 and bare in r) for r in _REFUSALS)


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
    answerer: Runnable,
    checker: CitationChecker,
    deadline: float,
    settings: Settings,
) -> Iterator[str | Answer]:
    """Checked sentences as they pass (str), then the final Answer.

    Raises :class:`~assistant.llm.LLMUnavailable` (the model failed) or
    :class:`NothingSupported` (it answered, but nothing it said is backed).
    """
    started = time.perf_counter()
    sentences = SentenceStream()
    renumber = _Renumber()
    kept: list[tuple[str, Claim]] = []
    removed: list[dict[str, str]] = []
    checked = 0
    refused = False

    def judge(raw: str) -> str | None:
        nonlocal checked, refused
        if is_refusal(raw):
            refused = True
            return None
        claim = checker.check(raw)
        checked += claim.checked
        if not claim.supported:
            removed.append({"text": claim.text, "reason": claim.reason})
            return None
        if claim.checked and claim.cites and not MARK.search(raw):
            raw = raw.rstrip() + "".join(f"[{n}]" for n in claim.cites)  # cite the backer
        shown = renumber(raw, claim.cites)
        kept.append((shown, claim))
        return shown

    inputs = answer_inputs(question, passages, script)
    for chunk in stream_text(answerer, inputs, deadline, settings):
        for raw in sentences.feed(chunk):
            if (shown := judge(raw)) is not None:
                yield shown
    for raw in sentences.flush():
        if (shown := judge(raw)) is not None:
            yield shown

    generate_ms = (time.perf_counter() - started) * 1000
    facts = [claim for _, claim in kept if claim.checked]
    if refused and not facts:
        citations = [citation_from(i + 1, d) for i, d in enumerate(passages[:3])]
        text = FRAMES[script]["refusal" if citations else "refusal_empty"]
        answer = Answer(question, text, True, citations, script, mode="llm")
        answer.timings_ms["generate"] = generate_ms
        yield answer
        return
    if not facts:
        raise NothingSupported(checked, removed)

    order = renumber.order + [n for n in range(1, len(passages) + 1) if n not in renumber.order]
    citations = [citation_from(i, passages[n - 1]) for i, n in enumerate(order, start=1)]
    for _, claim in kept:
        for n, quote in claim.support.items():
            cite = citations[order.index(n)]
            cite.cited = True
            if quote and quote not in cite.quotes:
                cite.quotes.append(quote)
    joiner = " " if script == "en" else ""
    text = joiner.join(shown.strip() for shown, _ in kept)
    notice = FRAMES[script]["removed"].format(n=len(removed)) if removed else ""
    answer = Answer(
        question,
        text,
        False,
        citations,
        script,
        mode="llm",
        checked=checked,
        unsupported=len(removed),
        removed=removed,
        notice=notice,
    )
    answer.timings_ms["generate"] = generate_ms
    yield answer
