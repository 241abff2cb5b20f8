"""Server mode for real: ``chroma run`` (shipped with chromadb) on a free
loopback port holds the index; indexing, incremental sync and asking go
through it; two assistants (as two app processes would) share it; and when
the server stops mid-session the API says 503 and recovers once it is back,
without restarting the app."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from assistant.answer.chain import Assistant
from assistant.errors import StoreUnavailable
from assistant.ingest.corpus import load_corpus
from assistant.serve.running import RunningAssistant
from assistant.serve.server import create_server
from assistant.serve.webui import ChatHandlers
from assistant.store.location import Location, read_manifest
from assistant.store.sync import sync
from tests.servers import free_port, running

CHROMA = Path(sys.executable).with_name("chroma")
GMV = "微信小店的GMV增长了多少？"


class ChromaServer:
    """``chroma run --path <tmp> --port <free>``, stoppable and restartable."""

    def __init__(self, path: Path) -> None:
        self.path, self.port = path, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(self.path), "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).is_success:
                    return
            except httpx.HTTPError:
                pass
            assert self.process.poll() is None, "chroma run exited"
            assert time.monotonic() < deadline, "chroma run did not start"
            time.sleep(0.2)

    def freeze(self) -> None:
        """SIGSTOP: the server holds its connections and answers nothing."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


@pytest.fixture(scope="module")
def chroma(tmp_path_factory):
    server = ChromaServer(tmp_path_factory.mktemp("chroma"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def remote(built, chroma, tmp_path_factory):
    """Settings for an index in the Chroma server, built from a corpus copy."""
    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copytree(built.corpus_dir, corpus, dirs_exist_ok=True)
    return built.model_copy(
        update={
            "corpus_dir": corpus,
            "index_dir": tmp_path_factory.mktemp("lock-only"),
            "chroma_url": chroma.url,
            "data_dir": tmp_path_factory.mktemp("data"),
        }
    )


def test_index_sync_and_ask_through_the_server(remote, embedder):
    where = Location.of(remote)
    first = sync(where, load_corpus(remote.corpus_dir), embedder)
    assert first.chunks_written > 10 and first.total_chunks == first.chunks_written
    assert not list(remote.index_dir.glob("bm25*"))  # nothing of the index on local disk
    again = sync(where, load_corpus(remote.corpus_dir), embedder)
    assert again.chunks_written == again.chunks_deleted == 0 and again.unchanged == 1
    manifest = read_manifest(where)
    assert manifest is not None and len(manifest["documents"]) == 1
    answer = Assistant(remote, embedder).ask(GMV)
    assert "1.92倍" in answer.text and answer.citations[0].cited


def test_two_apps_share_the_index_and_follow_an_index_run(remote, embedder, monkeypatch):
    monkeypatch.setattr("assistant.answer.chain.INDEX_CHECK_S", 0.0)
    where = Location.of(remote)
    sync(where, load_corpus(remote.corpus_dir), embedder)
    app_a, app_b = Assistant(remote, embedder), Assistant(remote, embedder)
    assert "预约提醒" not in app_b.ask("直播挂件有什么新功能？").text  # not indexed yet
    (remote.corpus_dir / "guajian.md").write_text(
        "---\ntitle: 小程序直播挂件\n---\n\n"
        "## 直播挂件\n微信小程序直播挂件新增了预约提醒功能，主播开播前会通知已预约的用户。\n",
        encoding="utf-8",
    )
    report = sync(where, load_corpus(remote.corpus_dir), embedder)  # a third process indexes
    assert report.added == ["guajian.md"] and report.chunks_deleted == 0
    for app in (app_a, app_b):  # both see it, BM25 included, without a restart
        answer = app.ask("直播挂件有什么新功能？")
        assert not answer.refused and "预约提醒" in answer.text
        assert "guajian.md" in app.index.documents
    (remote.corpus_dir / "guajian.md").unlink()
    assert sync(where, load_corpus(remote.corpus_dir), embedder).removed == ["guajian.md"]


def test_a_stopped_server_is_503_and_the_app_recovers(remote, embedder, chroma, monkeypatch):
    monkeypatch.setattr("assistant.answer.chain.INDEX_CHECK_S", 0.0)
    sync(Location.of(remote), load_corpus(remote.corpus_dir), embedder)
    served = RunningAssistant(remote, Assistant(remote, embedder))
    handlers = ChatHandlers(served)  # the chat, on the same assistant as the API
    for url in running(create_server(remote, served)):
        assert httpx.post(f"{url}/api/ask", json={"question": GMV}).status_code == 200
        chroma.stop()
        try:
            ask = httpx.post(f"{url}/api/ask", json={"question": GMV})
            health = httpx.get(f"{url}/api/health")
            assert ask.status_code == health.status_code == 503
            assert "chroma run" in ask.json()["error"] and "Traceback" not in ask.text
            with pytest.raises(Exception, match="cannot be reached"):  # the chat says so too
                list(handlers.reply(GMV, []))
        finally:
            chroma.start()
        ask = httpx.post(f"{url}/api/ask", json={"question": GMV})
        assert ask.status_code == 200 and "1.92倍" in ask.json()["answer"]
        assert httpx.get(f"{url}/api/health").json()["store"] == "chroma server"


def test_an_app_started_while_the_server_is_down_starts_answering_when_it_is_up(
    remote, embedder, chroma, tmp_path
):
    sync(Location.of(remote), load_corpus(remote.corpus_dir), embedder)
    chroma.stop()
    try:
        with pytest.raises(StoreUnavailable):
            Assistant(remote, embedder)
        served = RunningAssistant(remote)
        assert served.assistant is None and "cannot be reached" in served.startup_error
    finally:
        chroma.start()
    served._tried = 0.0  # as if RETRY_S had passed
    assert served.ready() is not None
    assert "1.92倍" in served.ready().ask(GMV).text


def test_a_frozen_server_is_503_in_bounded_time_and_the_page_stays_responsive(
    remote, embedder, chroma, monkeypatch
):
    """``kill -STOP`` on chroma: answers and health fail with 503 naming the
    server within its timeout, and 45 questions and 45 health checks in
    flight do not take the threads that the page and its script need."""
    monkeypatch.setattr("assistant.answer.chain.INDEX_CHECK_S", 0.0)
    settings = remote.model_copy(
        update={
            "chroma_timeout": 2.0,
            "answer_concurrency": 2,
            "answer_wait": 3.0,
            "rate_limit_per_minute": 0,
        }
    )
    sync(Location.of(settings), load_corpus(settings.corpus_dir), embedder)
    handlers = RunningAssistant(settings, Assistant(settings, embedder))
    for url in running(create_server(settings, handlers)):
        chroma.freeze()
        try:
            with ThreadPoolExecutor(90) as pool:
                asks = [
                    pool.submit(httpx.post, f"{url}/api/ask", json={"question": GMV}, timeout=60)
                    for _ in range(45)
                ]
                checks = [
                    pool.submit(httpx.get, f"{url}/api/health", timeout=60) for _ in range(45)
                ]
                time.sleep(1.0)  # all in flight
                started = time.monotonic()
                page = httpx.get(f"{url}/", follow_redirects=True, timeout=10)
                script = httpx.get(f"{url}/gradio.js", timeout=10)
                page_s = time.monotonic() - started
                health = httpx.get(f"{url}/api/health", timeout=30)
                health_s = time.monotonic() - started - page_s
                replies = [a.result() for a in asks]
                checked = [c.result() for c in checks]
        finally:
            chroma.thaw()
        assert page.status_code == script.status_code == 200 and page_s < 2.0, page_s
        assert health.status_code == 503 and "chroma run" in health.json()["error"]
        assert health_s < 8.0, health_s
        assert {r.status_code for r in replies} == {r.status_code for r in checked} == {503}
        reasons = {r.json()["error"].split(" (")[0] for r in replies}
        assert reasons <= {
            f"The index server at {Location.of(settings)} cannot be reached",
            "Busy answering other questions",
        }, reasons
        assert httpx.post(f"{url}/api/ask", json={"question": GMV}).status_code == 200
