"""Real servers and a real browser for tests: a free loopback port, an app
run by uvicorn on it, and Debian's headless chromium."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
import uvicorn

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"  # screenshots
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As root in a container, with this machine's closed network: no sandbox, no GPU,
# and none of chromium's background connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def need_chromium() -> None:
    """Skip the calling test module without chromium (CI must have it)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError("chromium is missing: .ci/run installs it with apt-get")
        pytest.skip("Debian chromium not installed (apt-get install chromium)")


def launch_browser():
    """Headless chromium under Playwright; yields the browser (a fixture body)."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def peer(n: int, **kw) -> httpx.Client:
    """An HTTP client whose connections come from 127.0.0.<n>: to the server a
    client of its own (rate limits count per client address)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=f"127.0.0.{n}"), **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def running(app):
    """Start ``app`` with uvicorn on a free loopback port; yields its base URL.
    An app of ``create_server`` runs with the configuration ``assistant serve``
    uses (keep-alive, proxy headers)."""
    from assistant.serve.server import server_config

    port = free_port()
    settings = getattr(app.state, "settings", None) if hasattr(app, "state") else None
    config = (
        server_config(app, settings.model_copy(update={"ui_host": "127.0.0.1"}), port)
        if settings is not None
        else uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def gradio_event(
    base: str, fn: str, data: list, route: str = "predict", client: httpx.Client | None = None
) -> tuple[int, dict]:
    """Call the chat's event handler named ``fn`` as a script would: by
    ``run/predict`` or by ``queue/join`` and its event stream (``route="queue"``).
    Returns the HTTP status and the JSON body (predict) or the final queue
    message (queue; for a refused join, its JSON body)."""
    http = client or httpx.Client(timeout=60)
    deps = http.get(f"{base}/config").json()["dependencies"]
    fn_index = next(d["id"] for d in deps if d.get("api_name") == fn)
    if route == "predict":
        r = http.post(f"{base}/gradio_api/run/predict", json={"data": data, "fn_index": fn_index})
        return r.status_code, r.json()
    session = uuid.uuid4().hex
    body = {"data": data, "fn_index": fn_index, "session_hash": session, "trigger_id": None}
    r = http.post(f"{base}/gradio_api/queue/join", json=body)
    if r.status_code != 200:
        return r.status_code, r.json()
    with http.stream("GET", f"{base}/gradio_api/queue/data", params={"session_hash": session}) as s:
        for line in s.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return 200, message
    raise AssertionError("the queue's stream ended without process_completed")
