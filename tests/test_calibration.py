"""The shipped answerability model is what ``python -m assistant.calibration``
fits on today's pipeline: a change to the features, the matching or the sets
without a new fit fails here (run it, and quote its figures)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answer.chain import Assistant
from assistant.answer.policy import AnswerPolicy, shipped_model
from assistant.calibration import (
    ALWAYS,
    DATA,
    SETS,
    best_threshold,
    collect,
    fit,
    out_of_fold,
    report,
)
from assistant.evaluation import load_items


@pytest.fixture(scope="module")
def samples(built, embedder):
    model = shipped_model()
    policy = AnswerPolicy(answerability=ALWAYS, alias_similarity=model.about["alias_similarity"])
    sets = {name: load_items(DATA / name) for name in SETS}
    return collect(Assistant(built, embedder, policy=policy), sets)


def test_the_shipped_model_is_the_fit_of_todays_pipeline(samples):
    model = shipped_model()
    assert len(samples) == model.about["samples"]
    probs = out_of_fold(samples)
    threshold = best_threshold(samples, probs)
    assert threshold == pytest.approx(model.threshold, abs=1e-3)
    assert report(samples, probs, threshold) == model.about["leave_one_set_out"]
    refit = fit(samples, threshold)
    assert np.allclose(refit.coef, model.coef, atol=1e-3)


def test_cross_validated_figures_beat_answering_everything(samples):
    """The model's out-of-fold decisions get more right than never refusing."""
    cv = shipped_model().about["leave_one_set_out"]["all"]
    right = round(cv["fact_accuracy"] * cv["answerable"]) + cv["unanswerable_refused"]
    always = sum(s.right_if_answered for s in samples)
    assert right > always
