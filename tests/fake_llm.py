"""A stand-in for a remote language model: a real HTTP server that speaks the
OpenAI chat-completions protocol (JSON and SSE streaming) and replays
scripted replies. It is the one part the tests cannot run for real here.

A test sets ``fake.answer`` (and ``fake.condense``) to a function of the
request that returns a :class:`Reply`; every request is recorded in
``fake.requests`` with its headers.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse

PASSAGE = re.compile(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', re.DOTALL)


@dataclass
class Reply:
    text: str = ""
    status: int = 200
    delay: float = 0.0  # before the first byte
    chunk_delay: float = 0.0  # between streamed pieces
    malformed: bool = False  # a body no client can parse
    keepalive: float = 0.0  # after the text, SSE comments for this many seconds, no [DONE]


@dataclass
class Call:
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def system(self) -> str:
        return next(m["content"] for m in self.body["messages"] if m["role"] == "system")

    @property
    def user(self) -> str:
        return next(m["content"] for m in self.body["messages"] if m["role"] == "user")

    def passages(self) -> dict[int, str]:
        """The numbered passages the prompt gave the model."""
        return {int(n): text for n, text in PASSAGE.findall(self.user)}

    def n_with(self, needle: str) -> int:
        """The number of the passage containing ``needle``."""
        return next(n for n, text in self.passages().items() if needle in text)


@dataclass
class FakeLLM:
    answer: Callable[[Call], Reply] = lambda call: Reply("")
    condense: Callable[[Call], Reply] = lambda call: Reply("")
    requests: list[Call] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def completions(request: Request) -> Any:
            call = Call(await request.json(), dict(request.headers))
            self.requests.append(call)
            is_condense = call.system.startswith("Rewrite the user's last question")
            reply = (self.condense if is_condense else self.answer)(call)
            await asyncio.sleep(reply.delay)
            if reply.status != 200:
                return JSONResponse(
                    {"error": {"message": "scripted failure", "type": "server_error"}},
                    status_code=reply.status,
                )
            if not call.body.get("stream"):
                if reply.malformed:
                    return PlainTextResponse("<html>gateway</html>", media_type="application/json")
                return _completion(call.body.get("model", ""), reply.text)
            return StreamingResponse(
                _sse(call.body.get("model", ""), reply), media_type="text/event-stream"
            )

        return app


def _completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


async def _sse(model: str, reply: Reply):
    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        body = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    if reply.malformed:
        yield "data: {this is not json\n\n"
        return
    for start in range(0, len(reply.text), 5):  # a few characters per token, like a model
        await asyncio.sleep(reply.chunk_delay)
        yield chunk({"content": reply.text[start : start + 5]})
    for _ in range(int(reply.keepalive / 0.2)):  # alive, but saying nothing
        await asyncio.sleep(0.2)
        yield ": keep-alive\n\n"
    yield chunk({}, "stop")
    yield "data: [DONE]\n\n"
