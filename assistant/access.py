"""Who may use the HTTP API and how much: bearer tokens, a per-client rate
limit, a body-size limit, and the headers that decide which wiki origins may
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

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from .errors import AssistantError
from .settings import Settings

PROTECTED = ("/api/", "/v1/")
#: Gradio's login form; rate-limited too, so that nobody guesses passwords at full speed
LOGIN = "/login"


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
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return hits[0] + self.window - now
            hits.append(now)
            return 0.0


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


def install(api: FastAPI, settings: Settings) -> None:
    """Add CORS, framing headers, and the token / size / rate checks to ``api``."""
    try:
        tokens = [t.encode() for t in settings.tokens()]
    except ValueError as exc:
        raise AssistantError(f"API tokens: {exc}") from exc
    limiter = RateLimiter(settings.rate_limit_per_minute)
    frame_ancestors = " ".join(["'self'", *settings.allowed_origins])

    @api.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        if path.startswith(PROTECTED) and request.method != "OPTIONS":
            length = request.headers.get("content-length")
            if length and length.isdigit() and int(length) > settings.max_body_bytes:
                return error_response(
                    request.url.path, 413, f"Request body over {settings.max_body_bytes:,} bytes."
                )
            if tokens and not _authorised(request.headers.get("authorization", ""), tokens):
                return error_response(
                    request.url.path,
                    401,
                    "Missing or wrong API token: send Authorization: Bearer <token>.",
                    {"WWW-Authenticate": "Bearer"},
                )
        api_call = path.startswith(PROTECTED) and request.method != "OPTIONS"
        if api_call or (path.rstrip("/") == LOGIN and request.method == "POST"):
            wait = limiter.check(request.client.host if request.client else "?")
            if wait:
                return error_response(
                    request.url.path,
                    429,
                    "Too many requests; try again shortly.",
                    {"Retry-After": str(max(1, math.ceil(wait)))},
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


def ui_logins(settings: Settings) -> list[tuple[str, str]] | None:
    """The web chat's ``(name, password)`` logins for Gradio's ``auth``; None = open."""
    try:
        return settings.ui_logins() or None
    except ValueError as exc:
        raise AssistantError(f"UI logins: {exc}") from exc


def _authorised(header: str, tokens: list[bytes]) -> bool:
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    candidate = given.strip().encode()
    # compare with every token, so timing says nothing about which one was close
    return any([hmac.compare_digest(candidate, token) for token in tokens])
