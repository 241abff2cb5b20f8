"""Who may use the HTTP API and how much: bearer tokens, a per-client rate
limit (the APIs, and the chat's own event routes), body-size limits on every
route, and the headers that decide which wiki origins may
frame the chat (CSP ``frame-ancestors``) — CORS is Starlette's middleware.

Tokens are compared in constant time and never logged or echoed.
"""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable

import anyio
from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import AssistantError
from ..settings import Settings

PROTECTED = ("/api/", "/v1/")
#: Gradio's login form; rate-limited too, so that nobody guesses passwords at full speed
LOGIN = "/login"
#: The chat's own routes (events, uploads); POSTs here count against the rate limit
GRADIO_API = "/gradio_api/"
UPLOAD = "/gradio_api/upload"
KINDS = ("api", "chat", "login", "upload")
#: uploads a client may make per minute, whatever the rate limit: each may
#: leave up to max_upload_bytes (10 MiB) in the upload folder until it is added or swept
UPLOADS_PER_MINUTE = 10
#: clients remembered before those idle for a minute are forgotten (memory)
MAX_CLIENTS = 10_000
#: multipart framing around an uploaded file (boundaries, part headers)
MULTIPART_SLACK = 64 * 1024


class RateLimiter:
    """At most ``per_minute`` requests per key in any 60-second window."""

    def __init__(self, per_minute: int, window: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> float:
        """0 when the request may go on, else the seconds to wait (Retry-After)."""
        if self.per_minute <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            if len(self._hits) > MAX_CLIENTS:  # forget clients idle for a whole window
                self._hits = {
                    k: h for k, h in self._hits.items() if h and h[-1] > now - self.window
                }
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return hits[0] + self.window - now
            hits.append(now)
            return 0.0


class Busy(AssistantError):
    """Every answering slot stayed taken for the whole wait."""

    def __init__(self, waited: float) -> None:
        super().__init__(
            f"Busy answering other questions (waited {waited:g} s); please try again shortly."
        )


class AnswerGate:
    """At most ``slots`` questions answered at once; the rest wait up to
    ``wait`` seconds, holding no thread, then get :class:`Busy`.

    Answers run in worker threads; without a gate a slow model or a frozen
    index server let waiting answers take every thread of the pool, and the
    page, its script and the health check queued behind them.
    """

    def __init__(self, slots: int, wait: float) -> None:
        self.slots, self.wait = slots, wait
        self._free: anyio.Semaphore | None = None  # made in the server's event loop

    async def acquire(self) -> None:
        """Take a slot (release it with :meth:`release`, from any task); Busy after the wait."""
        if self._free is None:
            self._free = anyio.Semaphore(self.slots)
        with anyio.move_on_after(self.wait):
            await self._free.acquire()
            return
        raise Busy(self.wait)

    def release(self) -> None:
        if self._free is not None:
            self._free.release()


def error_response(
    path: str, status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """``{"error": message}``, or under ``/v1`` the OpenAI shape
    ``{"error": {"message", "type", "code"}}`` that OpenAI clients read."""
    if path.startswith("/v1"):
        kind = {401: "authentication_error", 429: "rate_limit_error"}.get(
            status, "invalid_request_error" if status < 500 else "server_error"
        )
        body: dict = {"error": {"message": message, "type": kind, "code": status}}
    else:
        body = {"error": message}
    return JSONResponse(body, status_code=status, headers=headers)


class BodyLimit:
    """Refuse a request body over its route's limit with 413, counting bytes as
    they arrive: a ``Content-Length`` can be left out (chunked) or be a lie.

    The body is read here, up to the limit, and handed on whole; nothing over
    the limit is ever held. (A ``Content-Length`` smaller than the body cannot
    smuggle more: the HTTP parser reads that many bytes and no more.)
    ``limit_for(path)`` gives each route's limit.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = self.limit_for(path)
        too_big = error_response(path, 413, f"Request body over {limit:,} bytes.")
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await too_big(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nobody reads this
                await error_response(path, 400, "The request was not sent whole.")(
                    scope, receive, send
                )
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                await too_big(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, replaying(b"".join(chunks), receive), send)


def replaying(body: bytes, receive: Receive) -> Receive:
    """An ASGI ``receive`` that hands on ``body`` (already read) whole, then
    what the client sends next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def body_limit(settings: Settings) -> Callable[[str], int]:
    """Each route's body limit: the APIs' small one, uploads the upload size
    (plus multipart framing), the chat's events (which carry the chat so far)
    their own."""

    def limit_for(path: str) -> int:
        if path.startswith(PROTECTED):
            return settings.max_body_bytes
        if path.rstrip("/").endswith(UPLOAD):
            return settings.max_upload_bytes + MULTIPART_SLACK
        return settings.max_chat_body_bytes

    return limit_for


def install(api: FastAPI, settings: Settings) -> None:
    """Add CORS, framing headers, and the token / size / rate checks to ``api``."""
    tokens = api_tokens(settings)
    # one budget per client for each: the APIs, the chat's events, uploads, password tries
    limiters = {kind: RateLimiter(settings.rate_limit_per_minute) for kind in KINDS}
    if settings.rate_limit_per_minute:
        limiters["upload"] = RateLimiter(min(UPLOADS_PER_MINUTE, settings.rate_limit_per_minute))
    frame_ancestors = " ".join(["'self'", *settings.allowed_origins])
    api.add_middleware(BodyLimit, limit_for=body_limit(settings))  # innermost: after auth

    @api.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path, method = request.url.path, request.method
        client = request.client.host if request.client else "?"
        if not settings.kb_panel and path.rstrip("/").endswith(UPLOAD):
            return error_response(path, 404, "Uploads are off (ASSISTANT_KB_PANEL=false).")
        api_call = path.startswith(PROTECTED) and method != "OPTIONS"
        kind = (
            "api"
            if api_call
            else "login"
            if method == "POST" and path.rstrip("/") == LOGIN
            else "upload"
            if method == "POST" and path.rstrip("/").endswith(UPLOAD)
            else "chat"
            if method == "POST" and path.startswith(GRADIO_API)
            else None
        )
        # every call counts, refused ones too: wrong tokens and passwords are throttled
        wait = limiters[kind].check(client) if kind else 0.0
        if wait:
            return error_response(
                path,
                429,
                "Too many requests; try again shortly.",
                {"Retry-After": str(max(1, math.ceil(wait)))},
            )
        if api_call and tokens and not authorised(request.headers.get("authorization"), tokens):
            return error_response(
                path,
                401,
                "Missing or wrong API token: send Authorization: Bearer <token>.",
                {"WWW-Authenticate": "Bearer"},
            )
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = f"frame-ancestors {frame_ancestors}"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    api.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["*"],  # Gradio's client sends its own headers; origins stay strict
    )


def api_tokens(settings: Settings) -> list[bytes]:
    """The accepted API tokens (settings and tokens file), read once at start;
    empty = no auth. AssistantError for an unreadable tokens file."""
    try:
        return [t.encode() for t in settings.tokens()]
    except ValueError as exc:
        raise AssistantError(f"API tokens: {exc}") from exc


def ui_logins(settings: Settings) -> list[tuple[str, str]] | None:
    """The web chat's ``(name, password)`` logins for Gradio's ``auth``; None = open."""
    try:
        return settings.ui_logins() or None
    except ValueError as exc:
        raise AssistantError(f"UI logins: {exc}") from exc


def authorised(header: str | None, tokens: list[bytes]) -> bool:
    """Does an ``Authorization`` header carry one of ``tokens`` (as ``Bearer``)?"""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    candidate = given.strip().encode()
    # compare with every token, so timing says nothing about which one was close
    return any([hmac.compare_digest(candidate, token) for token in tokens])
