"""``POST /v1/chat/completions``: the assistant behind the OpenAI chat protocol,
so existing chat widgets and bots can point at it.

The last user message is the question and earlier user messages are its
history. The reply's text is the answer followed by its numbered sources
(the same plain text as ``assistant ask``); the citations also travel as
structured data in an extra ``citations`` field. ``stream: true`` sends
server-sent events: a role delta, the answer's lines, the sources, a final
chunk with ``finish_reason`` and ``citations``, then ``[DONE]``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, Field

from ..answer.conversation import user_turns
from ..answer.response import Answer
from ..errors import AssistantError
from .api_schema import CitationOut

MODEL = "article-assistant"


class ChatMessage(BaseModel):
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    model: str = MODEL
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


class ReplyMessage(BaseModel):
    role: str = "assistant"
    content: str = Field(description="The answer, then its numbered sources.")


class Choice(BaseModel):
    index: int
    message: ReplyMessage
    finish_reason: str


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """A non-streaming reply; with ``stream: true`` the same arrives as SSE chunks."""

    id: str
    object: str = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[CitationOut] = Field(description="Extra: the numbered sources as data.")
    refused: bool = Field(description="Extra: true when the articles do not answer.")


def question_and_history(request: ChatRequest) -> tuple[str, list[str]]:
    """The last user message and the user messages before it."""
    users = user_turns(request.messages)
    if not users:
        raise ValueError("no user message to answer")
    return users[-1], users[:-1]


def completion(answer: Answer, model: str) -> dict[str, Any]:
    """A non-streaming ``chat.completion`` object."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.render()},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "citations": [c.to_dict() for c in answer.citations],
        "refused": answer.refused,
    }


def stream(events: Iterator[str | Answer], model: str) -> Iterator[str]:
    """Server-sent events of a ``chat.completion.chunk`` stream: the model's
    checked sentences as they pass, then the rest of the reply (notice,
    sources); an extractive answer arrives line by line."""
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        chunk = {
            **base,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    streamed = ""
    try:
        for item in events:
            if isinstance(item, str):  # pieces keep their own spacing: just concatenate
                streamed += item
                yield event({"content": item})
                continue
            if streamed and item.text == streamed.strip():  # the model's answer: add the rest
                rest = "\n\n".join(p for p in (item.notice, item.sources_text()) if p)
                lines = ["\n\n", rest]
            else:  # extractive (or the fallback after a failed model answer)
                lines = (["\n\n"] if streamed else []) + item.render().splitlines(keepends=True)
            for line in lines:
                yield event({"content": line})
            citations = [c.to_dict() for c in item.citations]
            yield event({}, "stop", citations=citations, refused=item.refused)
    except AssistantError as exc:  # after the headers went out: an error event
        error = {"message": str(exc), "type": "server_error", "code": 503}
        yield f"data: {json.dumps({'error': error}, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"
