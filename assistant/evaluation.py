"""Evaluate the assistant on a JSONL question set (../shared/eval/dev_questions.jsonl).

Each line: ``id``, ``q`` (or ``turns`` for a multi-turn case: the last turn is
asked with the earlier ones as history), ``gold`` (strings one of which a
right passage contains), ``must`` (groups of alternatives, every group to be
matched in the answer) and ``answerable`` (default true); ``expect``
(greeting, thanks, capabilities) marks chit-chat, right when the reply is
of that intent and scored apart from questions.

Strings are compared after script normalisation (t2s, and tw2sp for
traditional text), so a simplified gold string matches a traditional passage.
Metrics: hit@1/3/5 and MRR of the citations, fact accuracy, refusal
accuracy, chit-chat replies right, mean and longest answer, latency p50/p95.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .answer.chain import Assistant
from .answer.response import Answer
from .errors import AssistantError
from .ingest.text import lower_forms


class BadEvalFile(AssistantError):
    """The question file cannot be read or a line is not a question."""


@dataclass(frozen=True)
class EvalItem:
    id: str
    turns: list[str]
    gold: list[str]
    must: list[list[str]]
    answerable: bool
    expect: str | None = None  # chit-chat: the intent the reply must have


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def load_items(path: Path) -> list[EvalItem]:
    """Parse a JSONL question set; raises :class:`BadEvalFile` naming the bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadEvalFile(f"Cannot read {path}: {exc}") from exc
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            turns = raw["turns"] if "turns" in raw else [raw["q"]]
            if not turns or not all(isinstance(t, str) for t in turns):
                raise ValueError("'q' or 'turns' must hold text")
            gold, must = raw.get("gold", []), raw.get("must", [])
            if not _strings(gold) or not all(isinstance(g, list) and _strings(g) for g in must):
                raise ValueError("'gold' must be a list of strings, 'must' a list of lists")
            expect = raw.get("expect")
            if expect is not None and not isinstance(expect, str):
                raise ValueError("'expect' must be text")
            answerable = bool(raw.get("answerable", True)) and expect is None
            items.append(
                EvalItem(str(raw.get("id", number)), turns, gold, must, answerable, expect)
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BadEvalFile(f"{path}:{number}: not a question ({exc})") from exc
    if not items:
        raise BadEvalFile(f"{path} holds no questions")
    return items


def contains(haystack: str, needle: str) -> bool:
    """Is ``needle`` in ``haystack`` in any of their simplified forms?"""
    hay = lower_forms(haystack)
    return any(n in h for n in lower_forms(needle) for h in hay)


def first_hit(answer: Answer, gold: list[str]) -> int | None:
    """1-based rank of the first citation that contains a gold string."""
    for rank, citation in enumerate(answer.citations, start=1):
        if any(contains(citation.text, g) for g in gold):
            return rank
    return None


def facts_ok(answer: Answer, must: list[list[str]]) -> bool:
    """Every ``must`` group has one alternative in the answer text."""
    return not answer.refused and all(
        any(contains(answer.text, alt) for alt in group) for group in must
    )


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0..1) of ``values``; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def evaluate(assistant: Assistant, items: list[EvalItem]) -> dict[str, Any]:
    """Ask every item and compute the metrics; returns ``{"metrics", "items"}``."""
    rows = []
    for item in items:
        answer = assistant.ask(item.turns[-1], item.turns[:-1])
        rank = first_hit(answer, item.gold) if item.answerable else None
        chat = item.expect is not None
        rows.append(
            {
                "id": item.id,
                "question": item.turns[-1],
                "answerable": item.answerable,
                "expect": item.expect,
                "answer": answer.text,
                "refused": answer.refused,
                "hit_rank": rank,
                "facts_ok": facts_ok(answer, item.must) if item.answerable else None,
                "refusal_ok": None if chat else answer.refused != item.answerable,
                "chitchat_ok": answer.evidence.get("intent") == item.expect if chat else None,
                "evidence": answer.evidence,
                "citations": [c.to_dict() for c in answer.citations],
                "latency_ms": round(answer.timings_ms["total"], 2),
            }
        )
    chat = [r for r in rows if r["expect"] is not None]
    rows_q = [r for r in rows if r["expect"] is None]
    answerable = [r for r in rows if r["answerable"]]
    ranks = [r["hit_rank"] for r in answerable]
    n = max(1, len(answerable))
    answered = [len(r["answer"]) for r in rows_q if not r["refused"]]
    latencies = [r["latency_ms"] for r in rows]
    metrics = {
        "questions": len(rows),
        "answerable": len(answerable),
        **{f"hit@{k}": sum(1 for r in ranks if r and r <= k) / n for k in (1, 3, 5)},
        "mrr": sum(1 / r for r in ranks if r) / n,
        "fact_accuracy": sum(1 for r in answerable if r["facts_ok"]) / n,
        "refusal_accuracy": sum(1 for r in rows_q if r["refusal_ok"]) / max(1, len(rows_q)),
        "unanswerable_refused": sum(1 for r in rows_q if not r["answerable"] and r["refused"]),
        "unanswerable": len(rows_q) - len(answerable),
        "chitchat": len(chat),
        "chitchat_ok": sum(1 for r in chat if r["chitchat_ok"]),
        "answerable_refused": sum(1 for r in answerable if r["refused"]),
        "mean_answer_chars": statistics.fmean(answered) if answered else 0.0,
        "max_answer_chars": max(answered, default=0),
        "latency_p50_ms": percentile(latencies, 0.5),
        "latency_p95_ms": percentile(latencies, 0.95),
    }
    return {"metrics": metrics, "items": rows}
