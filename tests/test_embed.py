"""The wiki embed, for real: the example pages in examples/ are served from a
second loopback origin and load the chat, once in an ``<iframe>`` and once as
Gradio's ``<gradio-app>`` web component; a person types a question into each
and gets the cited answer. From an origin the server does not allow, the
browser blocks both (CSP frame-ancestors; CORS for the component's script).
Last, a person signs in on the chat's login page (ASSISTANT_UI_USERS)."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from tests.conftest import serve_with
from tests.servers import ARTIFACTS, free_port

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PLACEHOLDER = "http://127.0.0.1:7860/"  # the assistant's URL as the examples write it
BOX = "textarea[data-testid='textbox']"


class Site:
    """examples/ over HTTP on ``host``, with the assistant's URL put in, as a
    wiki editor would paste the snippet."""

    def __init__(self, host: str) -> None:
        self.assistant = PLACEHOLDER
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                page = EXAMPLES / self.path.lstrip("/")
                if page.parent != EXAMPLES or page.suffix != ".html" or not page.exists():
                    self.send_error(404)
                    return
                body = page.read_text(encoding="utf-8").replace(PLACEHOLDER, site.assistant)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer((host, free_port()), Handler)
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def wiki():
    site = Site("localhost")
    yield site
    site.httpd.shutdown()


@pytest.fixture(scope="module")
def stranger():
    site = Site("127.0.0.2")  # another loopback address: another origin
    yield site
    site.httpd.shutdown()


@pytest.fixture(scope="module")
def assistant_url(assistant, wiki, stranger, tmp_path_factory):
    for url in serve_with(assistant, tmp_path_factory, allowed_origins=[wiki.url]):
        wiki.assistant = stranger.assistant = f"{url}/"
        yield url


def ask_and_check(scope, screenshot_of, name: str) -> None:
    """Type the issue's question into ``scope`` (page or frame) and read the answer."""
    scope.wait_for_selector(BOX, timeout=60_000)
    scope.fill(BOX, "微信小店的GMV增长了多少？")
    scope.press(BOX, "Enter")
    answer = scope.wait_for_selector(
        "[data-testid='bot'] .message-content >> text=1.92倍 >> visible=true", timeout=60_000
    )
    assert "来源" in answer.evaluate("e => e.closest('.message-content').innerText")
    # the page's script runs in every embedding too: labels are the text shown
    scope.wait_for_function(
        """() => {
            const labels = [...document.querySelectorAll("[aria-label*=\\"'s message: \\"]")]
                .map(e => e.getAttribute("aria-label"));
            return labels.some(l => l.includes("1.92")) && labels.every(l => !l.includes("<sup"));
        }""",
        timeout=10_000,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot_of.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_the_allowed_wiki_frames_the_chat_and_it_answers(browser, wiki, assistant_url):
    page = browser.new_page(viewport={"width": 1200, "height": 1200})
    page.goto(f"{wiki.url}/wiki.html")
    frame = page.wait_for_selector("#assistant").content_frame()
    assert frame is not None and frame.url.startswith(assistant_url)
    ask_and_check(frame, page, "wiki-embed.png")
    page.close()


def test_the_allowed_wiki_shows_the_web_component_and_it_answers(browser, wiki, assistant_url):
    page = browser.new_page(viewport={"width": 1200, "height": 1200})
    page.goto(f"{wiki.url}/wiki-component.html")
    ask_and_check(page, page, "wiki-component.png")
    page.close()


def test_another_origin_cannot_frame_it(browser, stranger, assistant_url):
    page = browser.new_page()
    page.goto(f"{stranger.url}/wiki.html")
    frame = page.wait_for_selector("#assistant").content_frame()
    for _ in range(50):
        if frame is not None and frame.url not in ("", "about:blank"):
            break
        page.wait_for_timeout(100)
        frame = page.wait_for_selector("#assistant").content_frame()
    assert frame is not None and frame.url.startswith("chrome-error://"), frame and frame.url
    assert page.frame_locator("#assistant").locator("textarea").count() == 0
    page.close()


def test_another_origin_cannot_load_the_web_component(browser, stranger, assistant_url):
    page = browser.new_page()
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "CORS" in m.text else None)
    page.goto(f"{stranger.url}/wiki-component.html")  # waits for the module script
    assert page.evaluate("() => customElements.get('gradio-app') === undefined")
    assert page.locator(BOX).count() == 0 and refused
    page.close()


def test_a_person_signs_in_before_chatting(browser, with_login):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(with_login)
    page.wait_for_selector("text=请登录", timeout=60_000)
    assert page.locator(BOX).count() == 0  # no chat before signing in
    page.get_by_label("username").fill("ana")
    page.get_by_label("password").fill("wrong")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Incorrect", timeout=30_000)
    page.get_by_label("username").fill("ana")  # Gradio empties both fields
    page.get_by_label("password").fill("pa55:word")
    page.keyboard.press("Enter")
    ask_and_check(page, page, "login-then-answer.png")
    page.close()
