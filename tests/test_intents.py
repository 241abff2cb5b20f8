"""The intent classifier, measured on the labelled lines of the question sets
(none of them is one of its examples): ``AnswerPolicy.intent_similarity``
is where chit-chat begins and questions to search for end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.answer.intents import EXEMPLARS

DATA = Path(__file__).parent / "data"


def lines() -> list[dict]:
    out = []
    for path in sorted(DATA.glob("*questions.jsonl")) + sorted(DATA.glob("fresh/*.jsonl")):
        out += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return out


@pytest.fixture(scope="module")
def classified(assistant):
    rows = []
    for row in lines():
        message = row.get("q") or row["turns"][-1]
        rows.append((row, message, assistant.ask(message).evidence.get("intent")))
    return rows


EXAMPLES = {e for texts in EXEMPLARS.values() for e in texts}


def test_no_labelled_line_is_an_example_but_the_plainest_greeting():
    assert EXAMPLES & {row.get("q") for row in lines()} == {"你好"}


def test_greetings_and_thanks_are_recognised(classified):
    chat = [
        (row["expect"], got)
        for row, message, got in classified
        if row.get("expect") and message not in EXAMPLES
    ]
    assert len(chat) >= 14
    social = [(want, got) for want, got in chat if want in ("greeting", "thanks")]
    assert all(want == got for want, got in social), social
    assert sum(want == got for want, got in chat) >= 11, chat  # 'capabilities' is harder


def test_no_question_is_taken_for_chit_chat(classified):
    taken = [
        message
        for row, message, got in classified
        if not row.get("expect") and got in ("greeting", "thanks", "capabilities")
    ]
    assert taken == []


def test_questions_about_the_article_are_recognised(classified):
    about = [got for row, _, got in classified if row.get("kind") == "about-article"]
    assert sum(got == "about" for got in about) >= 6, about
    answerable = [
        message
        for row, message, got in classified
        if got == "about" and row.get("answerable", True) and row.get("kind") != "about-article"
    ]
    # what else reads as "about the article" asks about it too (作者, 稿子, 媒体)
    assert all(any(w in m for w in ("作者", "稿", "媒体", "文章", "报到")) for m in answerable)
