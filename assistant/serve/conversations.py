"""The chats a browser keeps: the list behind "new chat", kept across reloads.

The page stores the list in the browser's ``localStorage`` (Gradio's
``BrowserState``); these pure functions decide what goes in it. A
conversation is the chat's messages (``{"role", "content"}``); the list is
newest first. What comes back from a browser is data from a client: only
well-formed messages are kept, and the list is bounded in count and size, so
that the saved chats (sent with every save) stay far under the chat's request
body limit.

A notice (a question the chat would not take, such as one over the length
limit) is an assistant message that answers no question; it is shown once
and never saved.
"""

from __future__ import annotations

import html
from typing import Any

from ..answer.conversation import message_text

MAX_CHATS = 30
#: characters of message text in all saved chats together (the oldest go first):
#: sent with each answered question, they stay far under the 1 MB chat body limit
#: (mostly Chinese: 3 bytes a character)
MAX_SAVED_CHARS = 150_000
TITLE_CHARS = 40


def answered(history: Any) -> list[dict[str, str]]:
    """The messages worth keeping: each question, and the reply that follows it.

    >>> answered([{"role": "assistant", "content": "too long"},
    ...           {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"},
    ...           {"role": "assistant", "content": "notice"}, {"role": "system", "content": "x"}])
    [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]
    """
    kept: list[dict[str, str]] = []
    for m in history if isinstance(history, list) else []:
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            continue
        follows_question = bool(kept) and kept[-1]["role"] == "user"
        if m["role"] == "assistant" and not follows_question:
            continue  # a notice: it answered no question
        kept.append({"role": m["role"], "content": message_text(m.get("content"))})
    return kept


def title(conversation: list[dict[str, str]]) -> str:
    """The list's line for a conversation: its first question, as plain text.

    >>> title([{"role": "user", "content": "微信小店&#43;GMV &lt;b&gt;"}])
    '微信小店+GMV <b>'
    """
    first = next((m["content"] for m in conversation if m["role"] == "user"), "")
    text = " ".join(html.unescape(first).split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


def saved_chats(value: Any) -> list[list[dict[str, str]]]:
    """The browser's list as this server will use it: well-formed, non-empty chats."""
    chats = [answered(c) for c in value] if isinstance(value, list) else []
    return [c for c in chats if c]


def save(index: Any, history: Any, value: Any) -> tuple[int | None, list[list[dict[str, str]]]]:
    """Put the chat on screen into the list: in place of chat ``index`` (the
    one opened from the list, or saved before), else first. Returns the chat's
    new index (it moves to the top: the list is by last use) and the list.

    >>> i, chats = save(None, [{"role": "user", "content": "q"},
    ...                        {"role": "assistant", "content": "a"}], [])
    >>> i, len(chats)
    (0, 1)
    >>> save(0, [], chats)  # the chat on screen was emptied: so is its place
    (None, [])
    """
    chats = saved_chats(value)
    if isinstance(index, int) and 0 <= index < len(chats):
        chats.pop(index)
    current = answered(history)
    if not current:
        return None, chats
    chats.insert(0, current)
    return 0, _bounded(chats)


def delete(index: Any, value: Any) -> tuple[None, list[list[dict[str, str]]]]:
    """The list without chat ``index`` (the chat on screen was cleared)."""
    chats = saved_chats(value)
    if isinstance(index, int) and 0 <= index < len(chats):
        chats.pop(index)
    return None, chats


def opened(index: Any, value: Any) -> tuple[int | None, list[dict[str, str]]]:
    """Chat ``index`` of the list, to show (and its index), or a new chat."""
    chats = saved_chats(value)
    if isinstance(index, int) and 0 <= index < len(chats):
        return index, chats[index]
    return None, []


def _bounded(chats: list[list[dict[str, str]]]) -> list[list[dict[str, str]]]:
    """At most :data:`MAX_CHATS`, of at most :data:`MAX_SAVED_CHARS` in all
    (the newest first; the newest is always kept, cut to the limit)."""
    kept, used = [], 0
    for chat in chats[:MAX_CHATS]:
        size = sum(len(m["content"]) for m in chat)
        if kept and used + size > MAX_SAVED_CHARS:
            break
        kept.append(chat if size <= MAX_SAVED_CHARS else chat[-2:])
        used += size
    return kept
