"""Faults and bad input, for real: a corrupt index under a running server, two
``assistant index`` processes at once, an index process killed mid-run, and
a corpus of broken files next to good ones."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from assistant.answer.chain import Assistant
from assistant.bench.scaler import write_corpus
from assistant.ingest.corpus import load_corpus
from assistant.serve.running import RunningAssistant
from assistant.serve.server import create_server
from assistant.settings import Settings
from assistant.store.index import Index
from assistant.store.location import read_manifest
from assistant.store.sync import sync
from tests.conftest import CORPUS
from tests.servers import running

ASSISTANT = Path(sys.executable).with_name("assistant")
GMV = "微信小店的GMV增长了多少？"
REAL = CORPUS / "wechat-open-class-2025.md"


def index_process(corpus: Path, index: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(index)}
    return subprocess.Popen(
        [str(ASSISTANT), "index", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def chroma_count(index: Path, embedder) -> int:
    return len(Index(index, embedder).chunks.get(include=[])["ids"])


@pytest.fixture
def copied_index(built, tmp_path):
    """A private copy of the session's index, for tests that damage it."""
    target = tmp_path / "index"
    shutil.copytree(built.index_dir, target)
    return built.model_copy(update={"index_dir": target, "data_dir": tmp_path / "data"})


@pytest.mark.parametrize("damage", ["truncated manifest", "garbage chroma"])
def test_a_corrupt_index_under_a_running_server(copied_index, embedder, monkeypatch, damage):
    monkeypatch.setattr("assistant.answer.chain.INDEX_CHECK_S", 0.0)
    settings = copied_index
    handlers = RunningAssistant(settings, Assistant(settings, embedder))
    for url in running(create_server(settings, handlers)):
        assert httpx.post(f"{url}/api/ask", json={"question": GMV}).status_code == 200
        if damage == "truncated manifest":
            manifest = settings.index_dir / "manifest.json"
            manifest.write_bytes(manifest.read_bytes()[:100])
        else:
            sqlite = settings.index_dir / "chroma" / "chroma.sqlite3"
            sqlite.write_bytes(b"not a database" * 1000)
        health = httpx.get(f"{url}/api/health")
        ask = httpx.post(f"{url}/api/ask", json={"question": GMV})
        assert health.status_code == ask.status_code == 503, (health.text, ask.text)
        assert "assistant index --rebuild" in health.json()["error"]
        assert "Traceback" not in ask.text and httpx.get(f"{url}/").status_code == 200
        rebuilt = index_process(settings.corpus_dir, settings.index_dir, "--rebuild")
        _, stderr = rebuilt.communicate(timeout=300)
        assert rebuilt.returncode == 0, stderr
        health = httpx.get(f"{url}/api/health")
        assert health.status_code == 200, health.text  # recovered, no restart
        ask = httpx.post(f"{url}/api/ask", json={"question": GMV})
        assert ask.status_code == 200 and "1.92倍" in ask.json()["answer"]


def scribble(sqlite: Path, seed: int) -> None:
    """Random bytes over twenty places of a Chroma file, its header left intact."""
    rng = random.Random(seed)
    size = sqlite.stat().st_size
    with sqlite.open("r+b") as f:
        for _ in range(20):
            f.seek(rng.randrange(4096, size - 512))
            f.write(rng.randbytes(256))


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "ASSISTANT_CORPUS_DIR": str(settings.corpus_dir),
        "ASSISTANT_INDEX_DIR": str(settings.index_dir),
    }
    return subprocess.run(
        [str(ASSISTANT), *args], env=env, capture_output=True, text=True, timeout=300
    )


# seed 2: the store's Rust core panics on open; seed 3: queries fail in its compactor
@pytest.mark.parametrize("seed", [2, 3])
def test_random_bytes_in_the_store_name_the_rebuild_which_recovers(copied_index, seed):
    settings = copied_index
    scribble(settings.index_dir / "chroma" / "chroma.sqlite3", seed)
    for url in running(create_server(settings)):
        health = httpx.get(f"{url}/api/health")
        ask = httpx.post(f"{url}/api/ask", json={"question": GMV})
        assert health.status_code == ask.status_code == 503, (health.text, ask.text)
        assert "assistant index --rebuild" in ask.json()["error"]
    for args in (("ask", GMV), ("index",)):
        damaged = run_cli(settings, *args)
        assert damaged.returncode == 1, damaged.stderr
        assert "assistant index --rebuild" in damaged.stderr
        assert "Traceback" not in damaged.stderr + damaged.stdout
    rebuilt = run_cli(settings, "index", "--rebuild")
    assert rebuilt.returncode == 0 and "moved aside" in rebuilt.stderr, rebuilt.stderr
    assert list(settings.index_dir.glob("chroma.damaged-*"))  # kept for a look
    answer = run_cli(settings, "ask", GMV)
    assert answer.returncode == 0 and "1.92倍" in answer.stdout


def test_two_index_processes_at_once(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    write_corpus(REAL, corpus, 8)
    alone = sync(tmp_path / "alone", load_corpus(corpus), embedder)
    first = index_process(corpus, tmp_path / "index")
    second = index_process(corpus, tmp_path / "index")
    outputs = [p.communicate(timeout=300) for p in (first, second)]
    assert first.returncode == second.returncode == 0, outputs
    assert any("waiting" in err for _, err in outputs)  # one waited for the other's lock
    manifest = read_manifest(tmp_path / "index")
    chunks = sum(len(d["chunks"]) for d in manifest["documents"].values())
    assert chunks == alone.total_chunks == chroma_count(tmp_path / "index", embedder)


@pytest.mark.parametrize("args", [(), ("--rebuild",)], ids=["sync", "rebuild"])
def test_a_killed_index_process_leaves_the_previous_index_usable(tmp_path, embedder, args):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_corpus(REAL, corpus, 1)
    before = sync(index, load_corpus(corpus), embedder)
    write_corpus(REAL, corpus, 12)  # 11 more articles: a run of a few seconds
    run = index_process(corpus, index, *args)
    deadline = time.monotonic() + 120
    while "passages" not in (run.stderr.readline() if run.stderr else ""):  # it is writing
        assert run.poll() is None and time.monotonic() < deadline, "index run did not start"
    time.sleep(0.5)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    survivor = Assistant(Settings(corpus_dir=corpus, index_dir=index), embedder)
    assert len(survivor.index.documents) == 1  # the previous index, as it was
    assert "1.92倍" in survivor.ask(GMV).text
    after = sync(index, load_corpus(corpus), embedder)  # the next run completes it
    assert after.total_chunks == chroma_count(index, embedder) > before.total_chunks


def test_broken_files_next_to_good_ones(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(REAL, corpus / REAL.name)
    (corpus / "empty.md").write_text("", encoding="utf-8")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (corpus / "huge.txt").write_bytes(("微信小店。" * 1_400_000).encode("utf-8"))  # 21 MB
    gbk, big5 = "微信小店的保证金下调了，最高降幅达到百分之五十。", "影片號的直播預約功能上線了。"
    (corpus / "gbk.txt").write_bytes(gbk.encode("gbk"))
    (corpus / "big5.txt").write_bytes(big5.encode("big5"))
    done = index_process(corpus, tmp_path / "index")
    stdout, stderr = done.communicate(timeout=300)
    assert done.returncode == 0, stderr
    for name in ("empty.md", "binary.txt", "huge.txt"):
        assert name in stdout + stderr  # each skip is named
    indexed = read_manifest(tmp_path / "index")["documents"]
    assert set(indexed) == {REAL.name, "gbk.txt", "big5.txt"}
    answer = Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path / "index"), embedder).ask(
        "影片號的直播預約功能上線了嗎？"
    )
    assert not answer.refused and "預約" in answer.text
