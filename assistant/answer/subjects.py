"""What a clause is about: its subject, the first word that names something.

"小程序在三角模型里负责什么？" asks about 小程序. The article's sentence
that names the model lists 小程序 among others ("微信小店与小程序、服务号共同
构成稳定三角模型"); the one that answers has it as the subject of a clause
("在此基础上，小程序面向公域，…"). Word overlap prefers the first; the
subject tells them apart. Read by grammar (jieba's parts of speech), not by
a list of the articles' words, so it carries over to new articles.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..ingest.text import pos_flag, segments, to_simplified
from .matching import is_function_word
from .ordinals import JOINERS

# clause boundaries; 、 is not one: it separates the items of a list
_CLAUSE = re.compile(r"[,，;；:：。！？!?\n]")
_CACHE = 20_000
# parts of speech of a clause's first word that name nothing to look for (记得, 想)
_NOT_NAMES = frozenset("v vd vi vg a ad d".split())


def _is_frame(words: list[str]) -> bool:
    """A clause that only sets the scene: "在此基础上", "在三角模型里", "那个
    模型里" (it ends with a place word)."""
    return pos_flag(words[-1]) == "f"


def _names(word: str) -> bool:
    return len(word) > 1 and not is_function_word(word) and pos_flag(word) not in _NOT_NAMES


def _after_place(words: list[str]) -> list[str]:
    """The words after a clause's opening place phrase ("三角模型里小程序…" →
    小程序…, "在…上"); "小程序在三角模型里…" opens with its subject, and
    "承接会员运营和外部营销" with a verb, not a place."""
    at = next((i for i, w in enumerate(words) if pos_flag(w) == "f"), None)
    if at is None or at + 1 == len(words):
        return words
    before = words[:at]
    nouns = all((pos_flag(w) or "n")[0] in "nmr" for w in before)
    opens = pos_flag(words[0]) == "p" or (nouns and bool(before))
    return words[at + 1 :] if opens else words


def _subject(clause: str) -> str | None:
    words = [w for w in segments(clause) if w.strip()]
    if not words or _is_frame(words):
        return None
    words = _after_place(words)
    return next((w for w in words if not is_function_word(w) and len(w) > 1), None)


@lru_cache(maxsize=_CACHE)  # a passage's sentences come back with every question
def clause_subjects(text: str) -> tuple[str, ...]:
    """The subject of each clause of ``text`` (simplified, lower-cased).

    >>> clause_subjects("在此基礎上,小程式面向公域,承接會員運營和外部營銷;")
    ('小程序', '承接')
    """
    clauses = _CLAUSE.split(to_simplified(text).lower())
    return tuple(s for s in map(_subject, clauses) if s)


def question_subjects(question: str) -> list[str]:
    """What the question may be asking about: the subject of each of its
    clauses that is not a scene-setter, and the nouns joined by 和/与/、
    anywhere (对小程序和服务号的定位); none when it names nothing (具体有哪些？).

    >>> question_subjects("在三角模型里，微信小店统一承接哪些东西？")
    ['微信小店']
    >>> question_subjects("那个三角模型里，对小程序和服务号的定位分别是什么？")
    ['小程序', '服务号']
    """
    found: list[str] = []
    for clause in _CLAUSE.split(to_simplified(question).lower()):
        words = [w for w in segments(clause) if w.strip()]
        if not words or _is_frame(words):
            continue
        subject = _subject(clause)
        if subject is not None and pos_flag(subject) not in _NOT_NAMES:
            found.append(subject)
        for a, joint, b in zip(words, words[1:], words[2:], strict=False):
            if joint in JOINERS and _names(a) and _names(b):
                found += [a, b]
    return list(dict.fromkeys(found))


def is_subject_of(word: str, text: str) -> bool:
    """Is ``word`` (or a longer name holding it, 小店 in 微信小店) the subject of
    one of the text's clauses?"""
    return any(word in s or (len(s) > 1 and s in word) for s in clause_subjects(text))
