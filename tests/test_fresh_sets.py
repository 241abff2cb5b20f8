"""Regression gates on issue 12's fresh sets (``tests/data/fresh``).

Their first-contact scores are in ``FIRST_CONTACT.md``. The answerability
model has since been fitted on a–e and g–k (with the other sets), so their
figures here are tuning figures, the floor they must not fall under; sets f
and l are held out from fitting, and their floors are their first-contact
scores. The honest
estimate is the leave-one-set-out figures the model file records
(``test_calibration``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.evaluation import evaluate, load_items

FRESH = Path(__file__).parent / "data" / "fresh"

# set: (fact accuracy ≥, answerable refused ≤, unanswerable refused ≥, chit-chat right ≥)
FLOORS = {
    "a_questions.jsonl": (0.90, 8, 24, 0),
    "b_questions.jsonl": (0.73, 7, 16, 12),
    "c_questions.jsonl": (0.91, 6, 40, 0),
    "d_questions.jsonl": (0.91, 3, 19, 0),
    # the first contact of the answerability model (FIRST_CONTACT.md), fitted on since
    "e_questions.jsonl": (0.88, 2, 11, 4),
    # the second first contact (FIRST_CONTACT.md): never fitted on; its floor
    # is that first run
    "f_questions.jsonl": (0.85, 6, 10, 4),
    # the third first contact (FIRST_CONTACT.md), fitted on since
    "g_questions.jsonl": (0.91, 3, 12, 4),
    # a seventh writer's near misses and false premises (half unanswerable)
    "h_questions.jsonl": (0.93, 5, 30, 0),
    # the fourth first contact (FIRST_CONTACT.md), fitted on since
    "i_questions.jsonl": (0.89, 4, 12, 4),
    # the fifth first contact (FIRST_CONTACT.md), fitted on since
    "j_questions.jsonl": (0.93, 2, 13, 4),
    # the sixth first contact (FIRST_CONTACT.md), fitted on since
    "k_questions.jsonl": (0.89, 2, 10, 4),
    # the seventh first contact (FIRST_CONTACT.md): never fitted on; its floor
    # is that first run
    "l_questions.jsonl": (0.88, 4, 12, 4),
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_fresh_sets_do_not_regress(assistant, name):
    fact, refused, unanswerable, chat = FLOORS[name]
    m = evaluate(assistant, load_items(FRESH / name))["metrics"]
    assert m["fact_accuracy"] >= fact, m
    assert m["answerable_refused"] <= refused, m
    assert m["unanswerable_refused"] >= unanswerable, m
    assert m["chitchat_ok"] >= chat, m
    assert m["max_answer_chars"] <= 300, m
