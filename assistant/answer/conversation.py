"""Follow-up questions in a chat: 那订单数量呢？ after 微信小店的GMV增长了多少？

Without a language model the follow-up is resolved by a rule: a question that
opens with 那/那么/还有/"what about"/"and", ends with 呢, names nothing to look
for (具体都有哪些？), or is very short is read as "the previous question, about
this instead". Retrieval searches the
follow-up together with the previous (already resolved) question; the
answerer weighs the follow-up's own words most (``focus``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..ingest.text import han_count, split_sentences
from .matching import is_content_word, salient_tokens

_OPENERS = re.compile(
    r"^\s*(那么|那麼|那|还有|還有|另外|再问|再問|"
    r"(?:and\s+what\s+about|what\s+about|how\s+about|and\s+for|and|also)\b)[\s,，、]*",
    re.IGNORECASE,
)
_CLOSERS = re.compile(r"[\s?？!！。.,，]*$")
_TAIL = re.compile(r"(呢|的呢|怎么样|怎麼樣|如何)$")


#: a message longer than this, of several sentences, is read as context + question
PASTE_CHARS = 60
_ASKED = ("？", "?")
# a pasted message often comes in quotes: “…请问…怎么解释的？”
_QUOTES = "”\"」』’'）) "
#: at most this many questions in a row at a paste's end are its question
MAX_ASKED_TOGETHER = 3


def pasted(message: str) -> tuple[str, list[str]]:
    """The question of a pasted message, and the sentences before it.

    Help-desk staff paste a customer's message whole. Its question is the
    last sentence that asks (ends in ？ or ?), with the questions right before
    it (…吗？…多少？…多少？ are asked together); the sentences before it are
    context, read like earlier turns of a chat (so that a question leaning on
    them is resolved against them). A short message, or one that asks no
    question, is taken whole.

    >>> message = "您好，我们是做女装的小店，去年下半年开的店，团队十几个人。" + (
    ...     "听说平台今年调了不少政策，老板很关心开店的成本。请问保证金降了多少？谢谢！")
    >>> pasted(message)[0]
    '请问保证金降了多少？'
    >>> len(pasted(message)[1])  # context: the two sentences before it
    2
    >>> pasted(message.replace("谢谢！", "最多降多少？"))[0]  # asked one after another
    '请问保证金降了多少？最多降多少？'
    >>> pasted("转一下客户的话：“" + message.replace("谢谢！", "”"))[0]  # quoted
    '请问保证金降了多少？”'
    >>> pasted("微信小店的GMV增长了多少？")
    ('微信小店的GMV增长了多少？', [])
    """
    sentences = split_sentences(message)
    asked = [i for i, s in enumerate(sentences) if s.rstrip(_QUOTES).endswith(_ASKED)]
    if len(message) <= PASTE_CHARS or len(sentences) < 2 or not asked:
        return message, []
    first = asked[-1]  # questions asked one after another are asked together
    while first - 1 in asked and asked[-1] - first + 1 < MAX_ASKED_TOGETHER:
        first -= 1
    return "".join(sentences[first : asked[-1] + 1]), sentences[:first]


@dataclass(frozen=True)
class Query:
    """What to search for: ``text`` (standalone) and the follow-up's own words."""

    question: str
    text: str
    focus: str = ""


def is_follow_up(question: str) -> bool:
    """Does the question lean on the previous one?

    >>> [is_follow_up(q) for q in ("那订单数量呢？", "法律类直播呢？", "具体都有哪些？")]
    [True, True, True]
    >>> is_follow_up("微信小店的GMV增长了多少？")
    False
    """
    core = _CLOSERS.sub("", question)
    if _OPENERS.match(core) or _TAIL.search(core):
        return True
    if core and not any(map(is_content_word, salient_tokens(core))):
        return True  # names nothing to look for (具体都有哪些？): about the last question
    return 0 < han_count(core) <= 4 and len(core) <= 6


def resolve(question: str, history: list[str] | None = None) -> Query:
    """The standalone query for ``question`` given earlier questions (oldest first).

    >>> resolve("那订单数量呢？", ["微信小店的GMV增长了多少？"]).text
    '订单数量 微信小店的GMV增长了多少'
    """
    earlier = [h for h in (history or []) if h.strip()]
    if not earlier or not is_follow_up(question):
        return Query(question, question)
    focus = _TAIL.sub("", _OPENERS.sub("", _CLOSERS.sub("", question))).strip()
    previous = resolve(earlier[-1], earlier[:-1]).text
    previous = _CLOSERS.sub("", previous)
    if not focus:
        return Query(question, previous)
    return Query(question, f"{focus} {previous}", focus)


def message_text(content: Any) -> str:
    """The plain text of a chat message's content: a string, or content parts
    (``{"type": "text", "text": …}`` from OpenAI clients and Gradio); other
    parts (files, images) have none.

    >>> message_text([{"type": "text", "text": "GMV"}, {"type": "file", "file": {}}, "?"])
    'GMV?'
    """
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        if content.get("type", "text") != "text":
            return ""
        return str(content.get("text") or content.get("content") or "")
    if isinstance(content, list):
        return "".join(message_text(part) for part in content)
    return ""


def user_turns(history: Iterable[Any]) -> list[str]:
    """The user's turns of a chat history, oldest first: plain strings (earlier
    questions) as they are, messages (dicts or objects with ``role`` and
    ``content``) when their role is ``user``.

    >>> user_turns(["a", {"role": "user", "content": "b"}, {"role": "assistant", "content": "c"}])
    ['a', 'b']
    """
    turns = []
    for m in history:
        if isinstance(m, str):
            turns.append(m)
            continue
        role = m.get("role") if isinstance(m, dict) else getattr(m, "role", None)
        content = m.get("content") if isinstance(m, dict) else getattr(m, "content", None)
        if role == "user":
            turns.append(message_text(content))
    return turns
