"""One HTTP server for the wiki: the chat at ``/`` and a JSON API under ``/api``.

``assistant serve`` runs it (FastAPI, with the Gradio app mounted at ``/``):

* ``POST /api/ask`` — ``{"question": ..., "history": [...]?}`` → the same
  object as ``assistant ask --json``. ``history`` holds earlier questions
  (strings) or chat messages (``{"role": "user", "content": ...}``).
* ``GET /api/health`` — index status, article and chunk counts, embedder,
  version; 503 while the index cannot be used.

Errors are JSON ``{"error": message}``: 422 for a bad body or question, 503
when there is no usable index. No stack trace reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from . import __version__
from .access import error_response, install
from .errors import AssistantError, InvalidQuestion
from .openai_compat import ChatRequest, completion, question_and_history, stream
from .settings import Settings
from .webui import ChatHandlers, create_app

log = logging.getLogger(__name__)


class Message(BaseModel):
    role: str
    content: str


class AskRequest(BaseModel):
    question: str = Field(description="The question, in Chinese or English.")
    history: list[str | Message] = Field(
        default_factory=list, description="Earlier questions or chat messages, oldest first."
    )


def create_server(settings: Settings, handlers: ChatHandlers | None = None) -> FastAPI:
    """The FastAPI app: JSON API plus the Gradio chat mounted at ``/``."""
    h = handlers or ChatHandlers(settings)
    api = FastAPI(title="Article assistant", version=__version__)
    install(api, settings)

    @api.exception_handler(RequestValidationError)
    async def bad_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return error_response(
            request.url.path,
            422,
            f"Bad request body{f' at {where}' if where else ''}: "
            f"{first.get('msg', 'not valid JSON')}",
        )

    def answer(path: str, question: str, earlier: list[str], messages: int) -> Any:
        """The Answer, or the JSON error an edge returns (same rules for both APIs)."""
        if h.assistant is None:
            return error_response(path, 503, h.startup_error)
        if messages > settings.max_history_messages:
            return error_response(
                path, 422, f"History over {settings.max_history_messages} messages."
            )
        try:
            return h.assistant.ask(question, earlier)
        except InvalidQuestion as exc:
            return error_response(path, 422, str(exc))
        except AssistantError as exc:
            return error_response(path, 503, str(exc))

    @api.post("/api/ask")
    def ask(body: AskRequest) -> Any:
        earlier = [
            m if isinstance(m, str) else m.content
            for m in body.history
            if isinstance(m, str) or m.role == "user"
        ]
        result = answer("/api", body.question, earlier, len(body.history))
        return result if isinstance(result, JSONResponse) else result.to_dict()

    @api.post("/v1/chat/completions")
    def chat_completions(body: ChatRequest) -> Any:
        try:
            question, earlier = question_and_history(body)
        except ValueError as exc:
            return error_response("/v1", 422, str(exc))
        result = answer("/v1", question, earlier, len(body.messages) - 1)
        if isinstance(result, JSONResponse):
            return result
        if body.stream:
            return StreamingResponse(stream(result, body.model), media_type="text/event-stream")
        return completion(result, body.model)

    @api.get("/api/health")
    def health() -> Any:
        if h.assistant is None:
            return error_response("/api", 503, h.startup_error)
        index = h.assistant.index
        return {
            "status": "ok",
            "version": __version__,
            "embedder": index.embedder.id,
            "articles": len(index.documents),
            "chunks": len(index.records),
            "updated_at": index.manifest.get("updated_at"),
        }

    return gr.mount_gradio_app(
        api, create_app(settings, h), path="/", max_file_size=settings.max_upload_bytes
    )


def serve(settings: Settings) -> None:
    """Run the server until interrupted."""
    import uvicorn

    uvicorn.run(
        create_server(settings), host=settings.ui_host, port=settings.ui_port, log_level="warning"
    )
