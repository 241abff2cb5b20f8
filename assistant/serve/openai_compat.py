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

from ..answer.conversation import message_text, user_turns
from ..answer.response import Answer
from ..errors import AssistantError
from ..ingest.text import segments
from .api_schema import CitationOut

MODEL = "article-assistant"


class ChatMessage(BaseModel):
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    model: str = MODEL
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    sources_in_text: bool = Field(
        default=True,
        description="Extra: false leaves the numbered sources out of the reply text "
        "(a bot that shows `citations` itself); `citations` is sent either way.",
    )


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


def reply_text(answer: Answer, sources_in_text: bool = True) -> str:
    """The reply's text: the notice and the answer, with its sources unless left out."""
    if sources_in_text:
        return answer.render()
    return "\n".join(p for p in (answer.notice, answer.text) if p)


def count_tokens(text: str) -> int:
    """Tokens as the assistant counts them (no language model's tokenizer runs
    here): jieba's words, each Latin word or number one, punctuation none."""
    return sum(1 for w in segments(text) if any(c.isalnum() for c in w))


def usage(request: ChatRequest, content: str) -> dict[str, int]:
    """``usage`` with real counts: the messages' text in, the reply's text out."""
    prompt = sum(count_tokens(message_text(m.content)) for m in request.messages)
    completion_tokens = count_tokens(content)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt + completion_tokens,
    }


def completion(answer: Answer, request: ChatRequest) -> dict[str, Any]:
    """A non-streaming ``chat.completion`` object."""
    content = reply_text(answer, request.sources_in_text)
    model = request.model
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": usage(request, content),
        "citations": [c.to_dict() for c in answer.citations],
        "refused": answer.refused,
    }


def stream(
    events: Iterator[str | Answer], model: str, sources_in_text: bool = True
) -> Iterator[str]:
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
            sources = item.sources_text() if sources_in_text else ""
            if streamed and item.text == streamed.strip():  # the model's answer: add the rest
                rest = "\n\n".join(p for p in (item.notice, sources) if p)
                lines = ["\n\n", rest] if rest else []
            else:  # extractive (or the fallback after a failed model answer)
                text = reply_text(item, sources_in_text)
                lines = (["\n\n"] if streamed else []) + text.splitlines(keepends=True)
            for line in lines:
                yield event({"content": line})
            citations = [c.to_dict() for c in item.citations]
            yield event({}, "stop", citations=citations, refused=item.refused)
    except AssistantError as exc:  # after the headers went out: an error event
        error = {"message": str(exc), "type": "server_error", "code": 503}
        yield f"data: {json.dumps({'error': error}, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"
