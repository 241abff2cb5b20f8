"""The product's quality gate: the dev question set, through the real pipeline."""

from assistant.evaluation import evaluate, load_items
from tests.conftest import DEV_QUESTIONS


def test_dev_set_passes_the_gate(assistant):
    result = evaluate(assistant, load_items(DEV_QUESTIONS))
    m = result["metrics"]
    failures = [
        (r["id"], r["answer"][:80])
        for r in result["items"]
        if not r["refusal_ok"] or r["facts_ok"] is False
    ]
    assert m["hit@5"] >= 0.95, m
    assert m["fact_accuracy"] >= 0.85, (m, failures)
    assert m["unanswerable_refused"] == m["unanswerable"] > 0, failures
    assert m["answerable_refused"] == 0, failures
    assert m["mean_answer_chars"] <= 200
