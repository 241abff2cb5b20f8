"""The wiki embed, for real: examples/wiki.html served from a second loopback
origin frames the chat; from an origin the server does not allow, the
browser blocks the frame (CSP frame-ancestors)."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

from assistant.server import create_server
from assistant.webui import ChatHandlers
from tests.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.test_server import running
from tests.test_ui import free_port

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def static_site(host: str):
    """examples/ served over HTTP on ``host``; yields its base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(EXAMPLES))
    httpd = http.server.ThreadingHTTPServer((host, free_port()), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://{host}:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def wiki():
    yield from static_site("localhost")


@pytest.fixture(scope="module")
def stranger():
    yield from static_site("127.0.0.2")  # another loopback address: another origin


@pytest.fixture(scope="module")
def assistant_url(assistant, wiki, tmp_path_factory):
    settings = assistant.settings.model_copy(
        update={"data_dir": tmp_path_factory.mktemp("d"), "allowed_origins": [wiki]}
    )
    yield from running(create_server(settings, ChatHandlers(settings, assistant)))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_the_allowed_wiki_frames_the_chat_and_it_answers(browser, wiki, assistant_url):
    page = browser.new_page(viewport={"width": 1200, "height": 1200})
    page.goto(f"{wiki}/wiki.html?assistant={assistant_url}/")
    frame = next(f for f in page.frames if f != page.main_frame)
    frame.wait_for_selector("textarea[data-testid='textbox']", state="attached", timeout=60_000)
    assert frame.url.startswith(assistant_url)  # the browser accepted the framing
    # Ask from inside the framed app. (Typing into the framed box was flaky here:
    # Gradio sometimes keeps a framed app hidden on a busy machine; the page-level
    # typing test is in test_browser.)
    answer = frame.evaluate(
        """async () => (await (await fetch('/api/ask', {method: 'POST',
             headers: {'content-type': 'application/json'},
             body: JSON.stringify({question: '微信小店的GMV增长了多少？'})})).json())"""
    )
    assert "1.92倍" in answer["answer"] and answer["citations"][0]["n"] == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "wiki-embed.png"), full_page=True)
    page.close()


def test_another_origin_cannot_frame_it(browser, stranger, assistant_url):
    page = browser.new_page()
    page.goto(f"{stranger}/wiki.html?assistant={assistant_url}/")
    frame = next(f for f in page.frames if f != page.main_frame)
    page.wait_for_function("() => true")  # let the frame navigate
    for _ in range(50):
        if frame.url not in ("", "about:blank"):
            break
        page.wait_for_timeout(100)
    assert frame.url.startswith("chrome-error://"), frame.url  # refused, not loaded
    assert page.frame_locator("#assistant").locator("textarea").count() == 0
    page.close()
