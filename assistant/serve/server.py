"""One HTTP server for the wiki: the chat, a JSON API and an OpenAI-style API.

``assistant serve`` runs it (FastAPI, with the Gradio app mounted at ``/``):

* ``/`` — the chat (with a login page when ``ASSISTANT_UI_USERS`` is set);
  ``/gradio.js`` loads it as a ``<gradio-app>`` web component.
* ``POST /api/ask`` — ``{"question": ..., "history": [...]?}`` → the same
  object as ``assistant ask --json``. ``history`` holds earlier questions
  (strings) or chat messages (``{"role": "user", "content": ...}``).
* ``GET /api/health`` — index status, article and chunk counts, embedder,
  version; 503 while the index cannot be used.
* ``POST /v1/chat/completions`` — see :mod:`assistant.serve.openai_compat`.
* ``/docs`` — the OpenAPI document of the three (schemas in
  :mod:`assistant.serve.api_schema`).

Errors are JSON ``{"error": message}`` (under ``/v1`` in OpenAI's shape): 422
for a bad body or question, 503 when there is no usable index; tokens, sizes
and rates are checked by :mod:`assistant.serve.access`. No stack trace reaches a
client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..answer.conversation import user_turns
from ..errors import AssistantError, InvalidQuestion
from ..settings import Settings
from .access import AnswerGate, Busy, error_response, install, ui_logins
from .api_schema import AskRequest, AskResponse, Error, Health, OpenAIError, error_responses
from .chatguard import ChatEvents, quiet_gradio_tracebacks
from .openai_compat import (
    ChatCompletion,
    ChatRequest,
    completion,
    question_and_history,
    stream,
)
from .routes_extra import add_fallbacks, add_model_routes
from .running import RunningAssistant
from .webui import APP_CSS, APP_JS, ChatHandlers, create_app

log = logging.getLogger(__name__)

#: imports the frontend from ./assets/, which the mounted Gradio app serves
GRADIO_JS = Path(gr.__file__).parent / "templates" / "frontend" / "gradio.js"
#: Idle keep-alive connections live this long. Uvicorn's 5 s default made the
#: server close a connection just as a client reused it: 1-5 ReadErrors per 4,400
#: requests in the load check; longer than proxies' and clients' own idle limits.
KEEP_ALIVE_S = 75
LOOPBACK = ("127.0.0.1", "localhost", "::1")
LOGIN_MESSAGE = "文章问答助手 · 请登录 / Please sign in"


def create_server(settings: Settings, running: RunningAssistant | None = None) -> FastAPI:
    """The FastAPI app: JSON API plus the Gradio chat mounted at ``/``, both
    answering with ``running`` (started from ``settings`` when not given)."""
    running = running or RunningAssistant(settings)
    chat = create_app(settings, ChatHandlers(running))
    api = FastAPI(title="Article assistant", version=__version__)
    api.add_middleware(  # inside the body limit
        ChatEvents, handlers=lambda: {i: fn.api_name for i, fn in chat.fns.items()}
    )
    install(api, settings)
    quiet_gradio_tracebacks()

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """FastAPI's own errors (a body that is not UTF-8 JSON: 400) in our shape."""
        message = (
            "The request body is not valid JSON (UTF-8)."
            if exc.status_code == 400
            else str(exc.detail)
        )
        return error_response(request.url.path, exc.status_code, message, exc.headers)

    @api.exception_handler(RequestValidationError)
    async def bad_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":  # the body is no JSON at all
            message = 'The request body is not valid JSON; send e.g. {"question": "…"}.'
        else:
            where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
            message = (
                f"Bad request body{f' at {where}' if where else ''}: "
                f"{first.get('msg', 'not valid JSON')}"
            )
        return error_response(request.url.path, 422, message)

    gate = AnswerGate(settings.answer_concurrency, settings.answer_wait)

    async def answer(
        path: str, question: str, earlier: list[str], messages: int, streaming: bool = False
    ) -> Any:
        """The Answer (or, streaming, its events with the gate still held: call
        ``gate.release()`` when they are done), or the JSON error an edge
        returns (same rules for both APIs)."""
        if messages > settings.max_history_messages:
            return error_response(
                path, 422, f"History over {settings.max_history_messages} messages."
            )
        try:
            await gate.acquire()
        except Busy as exc:
            return error_response(path, 503, str(exc), {"Retry-After": "5"})
        keep = False  # a stream keeps its slot until it ends (see released)
        try:
            result = await run_in_threadpool(_answer, question, earlier, streaming)
            keep = streaming
            return result
        except InvalidQuestion as exc:
            return error_response(path, 422, str(exc))
        except AssistantError as exc:
            return error_response(path, 503, str(exc))
        finally:  # also when the client left while the answer was made
            if not keep:
                gate.release()

    def _answer(question: str, earlier: list[str], streaming: bool) -> Any:
        assistant = running.ready()
        if assistant is None:
            raise AssistantError(running.startup_error)
        if streaming:
            return assistant.stream(question, earlier)  # checks the question now
        return assistant.ask(question, earlier)

    @api.post(
        "/api/ask",
        response_model=AskResponse,
        responses=error_responses(Error, 401, 413, 422, 429, 503),
    )
    async def ask(body: AskRequest) -> Any:
        """Answer one question (with earlier turns as ``history``), with citations."""
        earlier = user_turns(body.history)
        result = await answer("/api", body.question, earlier, len(body.history))
        return result if isinstance(result, JSONResponse) else result.to_dict()

    @api.post(
        "/v1/chat/completions",
        response_model=ChatCompletion,
        responses={
            200: {"content": {"text/event-stream": {}}, "description": "With stream: SSE."},
            **error_responses(OpenAIError, 401, 413, 422, 429, 503),
        },
    )
    async def chat_completions(body: ChatRequest) -> Any:
        """OpenAI-compatible chat: the last user message is the question."""
        try:
            question, earlier = question_and_history(body)
        except ValueError as exc:
            return error_response("/v1", 422, str(exc))
        result = await answer("/v1", question, earlier, len(body.messages) - 1, body.stream)
        if isinstance(result, JSONResponse):
            return result
        if body.stream:
            return StreamingResponse(
                released(
                    iterate_in_threadpool(stream(result, body.model, body.sources_in_text)), gate
                ),
                media_type="text/event-stream",
            )
        return completion(result, body)

    @api.get("/gradio.js", include_in_schema=False)
    async def web_component() -> FileResponse:
        """Gradio's ``<gradio-app>`` loader, served here so that a wiki on a closed
        network needs no CDN and always gets the frontend of this server's Gradio."""
        return FileResponse(GRADIO_JS, media_type="text/javascript")

    # Health checks made at the same moment share one probe (one thread): 45
    # checks against a frozen Chroma server took 45 worker threads, and the
    # page waited behind them.
    probe: dict[str, asyncio.Future] = {}

    @api.get("/api/health", response_model=Health, responses=error_responses(Error, 401, 429, 503))
    async def health() -> Any:
        """Whether the index is usable, and what it holds."""
        if "running" not in probe or probe["running"].done():
            probe["running"] = asyncio.ensure_future(run_in_threadpool(_health))
        try:
            return await asyncio.shield(probe["running"])
        except AssistantError as exc:
            return error_response("/api", 503, str(exc))

    def _health() -> dict[str, Any]:
        assistant = running.ready()
        if assistant is None:
            raise AssistantError(running.startup_error)
        assistant.follow_index(force=True)  # a newer (or damaged) manifest shows here
        assistant.index.probe()  # and a store that stopped answering, here
        index = assistant.index
        return {
            "status": "ok",
            "version": __version__,
            "embedder": index.embedder.id,
            "articles": len(index.documents),
            "chunks": len(index.records),
            "updated_at": index.manifest.get("updated_at"),
            "store": "chroma server" if index.location.remote else "local",
            "answers": assistant.mode,
        }

    add_model_routes(api)
    add_fallbacks(api)  # last of the API's routes: what none of them answers

    logins = ui_logins(settings)
    if logins and not settings.tokens():
        log.warning("The chat asks for a login, but /api and /v1 are open without API tokens.")
    if settings.kb_panel and not logins and settings.ui_host not in LOOPBACK:
        log.warning(
            "Anyone who can reach %s may upload and re-index articles: set ASSISTANT_UI_USERS "
            "or ASSISTANT_KB_PANEL=false.",
            settings.ui_host,
        )
    mounted = gr.mount_gradio_app(
        api,
        chat,
        path="/",
        max_file_size=settings.max_upload_bytes,
        auth=logins,
        auth_message=LOGIN_MESSAGE,
        show_error=False,  # only our gr.Error messages reach a client, never internals
        css=APP_CSS,
        js=APP_JS,
    )
    # Gradio checks that a file posted to a handler came in through its upload
    # route only in an app it launched itself; mounted, it took any path on the
    # server (/etc/passwd into the corpus, or served back by the chat). This
    # flag turns its check on; the add handler checks again on its own.
    chat.has_launched = True
    mounted.state.settings = settings  # for server_config
    return mounted


async def released(events: AsyncIterator[str], gate: AnswerGate) -> AsyncIterator[str]:
    """``events``, then the answering slot back to ``gate`` (also when the client left)."""
    try:
        async for event in events:
            yield event
    finally:
        gate.release()


def server_config(app: FastAPI, settings: Settings, port: int | None = None) -> Any:
    """Uvicorn's configuration for ``app``: long keep-alive, and proxy headers
    (``X-Forwarded-For``) believed only from ``ASSISTANT_TRUSTED_PROXIES`` —
    uvicorn's default believed them from loopback, so a local client could
    pose as any address and dodge the rate limit."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=settings.ui_host,
        port=settings.ui_port if port is None else port,
        log_level="warning",
        timeout_keep_alive=KEEP_ALIVE_S,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or "",
    )


def serve(app: FastAPI, settings: Settings) -> None:
    """Run ``app`` (from :func:`create_server`) until interrupted."""
    import uvicorn

    uvicorn.Server(server_config(app, settings)).run()
