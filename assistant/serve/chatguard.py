"""What scripts may send to the web chat's own routes, and what they may make
the log say.

Gradio's event routes (``/gradio_api/run/…``, ``/gradio_api/queue/join``)
take ``fn_index`` and ``data`` from the client. Three things a stranger could
do with them are closed here:

* an ``fn_index`` that no handler has was a 500 with a ``KeyError`` (and a
  traceback), a missing one or an unknown name in ``run/<name>`` a plain 500
  with a 100-line traceback: they are a 422 or 404 before Gradio sees them;
* a lone surrogate (``"\\ud800"``) in a string made Gradio's JSON encoder fail
  with a plain-text 500: such code points are dropped from the body (they
  are not text);
* every malformed event printed a whole traceback (300 events, 303 of them):
  Gradio's ``traceback.print_exc`` becomes one log line, unless the error was
  raised in this package's own code, whose bugs keep their traceback.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from .access import error_response, replaying

log = logging.getLogger(__name__)

#: Gradio routes that name a handler: by ``fn_index`` in the body, or by name in the path
BY_INDEX = ("/gradio_api/run/predict", "/gradio_api/queue/join")
GRADIO_EVENTS = ("/gradio_api/run/", "/gradio_api/call/", "/gradio_api/queue/join")
#: routes whose JSON bodies are cleaned of lone surrogates
JSON_ROUTES = (*GRADIO_EVENTS, "/api/", "/v1/")
OUR_CODE = str(Path(__file__).resolve().parents[1])  # the assistant package


def without_surrogates(value: Any) -> Any:
    """``value`` (parsed JSON) with lone surrogates removed from every string.

    >>> without_surrogates({"q": ["\\ud800GMV", 1]})
    {'q': ['GMV', 1]}
    """
    if isinstance(value, str):
        return value.encode("utf-8", "ignore").decode("utf-8") if _has_surrogate(value) else value
    if isinstance(value, list):
        return [without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    return value


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


class ChatEvents:
    """ASGI middleware for JSON bodies from strangers: on the chat's event
    routes an unknown handler is refused (422 for an ``fn_index``, 404 for a
    name) before Gradio fails on it; on those and on the APIs lone surrogates
    are dropped (a ``"model": "x\\ud800"`` echoed back made /v1 fail). Runs
    inside the body limit, so the body it reads is bounded.

    ``handlers()`` gives the chat's handlers, id → API name (None: private).
    """

    def __init__(self, app: ASGIApp, handlers: Callable[[], dict[int, str | None]]) -> None:
        self.app = app
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "POST" or not path.startswith(JSON_ROUTES):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            data = None  # the route says what is wrong with it
        refusal = self._unknown_handler(path, data)
        if refusal:
            await error_response(path, *refusal)(scope, receive, send)
            return
        if data is not None and b"\\u" in body:  # a surrogate can only come as an escape
            clean = without_surrogates(data)
            if clean != data:
                body = json.dumps(clean, ensure_ascii=False).encode("utf-8")
        await self.app(scope, replaying(body, receive), send)

    def _unknown_handler(self, path: str, data: Any) -> tuple[int, str] | None:
        """(status, message) when the event names no handler of the chat."""
        if not path.startswith(GRADIO_EVENTS):
            return None
        if path.startswith(BY_INDEX):
            index = data.get("fn_index") if isinstance(data, dict) else None
            # type(...) is int: True and 1.0 are not handler ids
            if type(index) is not int or index not in self.handlers():
                return 422, "No such event handler (fn_index)."
            return None
        parts = [p for p in path.strip("/").split("/")[2:] if p != "v2"]  # run|call/[v2/]<name>
        name = parts[0] if parts else ""
        if name not in {n for n in self.handlers().values() if n}:
            return 404, f"No such endpoint: {name[:60]}"
        return None


def _print_exc(*args: Any, **kwargs: Any) -> None:
    """Gradio's ``traceback.print_exc``: a whole traceback for an error raised
    in this package (a bug to fix), one line for anything else (a client's
    malformed event, refused by Gradio's own checks)."""
    exc = sys.exc_info()[1]
    if exc is None:
        return
    frames = traceback.extract_tb(exc.__traceback__)
    if any(frame.filename.startswith(OUR_CODE) for frame in frames):
        traceback.print_exception(exc)
        return
    text = (str(exc).splitlines() or [""])[0][:200]
    log.warning("chat event refused: %s: %s", type(exc).__name__, text)


def quiet_gradio_tracebacks() -> None:
    """Route the ``traceback.print_exc`` calls of Gradio's request and queue
    code through :func:`_print_exc` (idempotent)."""
    import gradio.queueing
    import gradio.routes
    import gradio.utils

    shim = SimpleNamespace(print_exc=_print_exc, format_exc=traceback.format_exc)
    for module in (gradio.routes, gradio.queueing, gradio.utils):
        module.traceback = shim  # type: ignore[attr-defined]
