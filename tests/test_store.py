"""Incremental sync against a real Chroma in a temp dir."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from filelock import FileLock

from assistant.errors import EmbedderMismatch, IndexBusy, IndexCorrupt, IndexNotBuilt
from assistant.ingest.corpus import load_corpus
from assistant.ingest.text import search_tokens
from assistant.store.index import Index
from assistant.store.location import read_manifest
from assistant.store.sync import sync

EXTRA = """---
title: 小程序的新变化
source: test
---
## 小程序
小程序今年新增了直播挂件功能，商家可以在小程序里直接开播。
这个功能在灰度测试中，首批开放给三千个商家。
"""


def _sync(corpus: Path, index: Path, embedder, **kw):
    return sync(index, load_corpus(corpus), embedder, **kw)


def _lexical_docs(index_dir: Path, embedder, query: str) -> set[str]:
    return {r["doc_id"] for r, _ in Index(index_dir, embedder).lexical(search_tokens(query), 5)}


def test_unchanged_corpus_writes_nothing(corpus_copy, tmp_path, embedder):
    first = _sync(corpus_copy, tmp_path / "index", embedder)
    assert first.chunks_written == first.total_chunks > 10
    assert first.added == ["wechat-open-class-2025.md"]
    again = _sync(corpus_copy, tmp_path / "index", embedder)
    assert (again.chunks_written, again.chunks_deleted, again.sentences_written) == (0, 0, 0)
    assert again.unchanged == 1 and again.total_chunks == first.total_chunks


def test_add_edit_and_delete_articles(corpus_copy, tmp_path, embedder):
    index = tmp_path / "index"
    base = _sync(corpus_copy, index, embedder)

    (corpus_copy / "mini.md").write_text(EXTRA, encoding="utf-8")
    added = _sync(corpus_copy, index, embedder)
    assert added.added == ["mini.md"] and added.chunks_deleted == 0
    assert added.total_chunks == base.total_chunks + added.chunks_written
    assert "mini.md" in _lexical_docs(index, embedder, "直播挂件")

    (corpus_copy / "mini.md").write_text(EXTRA.replace("三千个", "五千个"), encoding="utf-8")
    edited = _sync(corpus_copy, index, embedder)
    assert edited.updated == ["mini.md"]
    assert edited.chunks_written == edited.chunks_deleted == 1
    hits = Index(index, embedder).lexical(search_tokens("首批开放商家"), 3)
    assert any("五千个" in r["text"] for r, _ in hits)
    assert not any("三千个" in r["text"] for r, _ in hits)

    (corpus_copy / "mini.md").unlink()
    removed = _sync(corpus_copy, index, embedder)
    assert removed.removed == ["mini.md"]
    assert removed.total_chunks == base.total_chunks
    assert "mini.md" not in _lexical_docs(index, embedder, "直播挂件")
    opened = Index(index, embedder)
    assert "mini.md" not in opened.documents
    dense_docs = {r["doc_id"] for r, _ in opened.dense("小程序直播挂件", 50)}
    assert dense_docs == {"wechat-open-class-2025.md"}


def test_unreadable_file_keeps_its_previous_passages(corpus_copy, tmp_path, embedder):
    index = tmp_path / "index"
    (corpus_copy / "mini.md").write_text(EXTRA, encoding="utf-8")
    _sync(corpus_copy, index, embedder)
    (corpus_copy / "mini.md").write_bytes(b"\x00\xff" * 100)  # now broken on disk
    report = _sync(corpus_copy, index, embedder)
    assert report.removed == [] and report.skipped
    assert "mini.md" in report.skipped[0]
    assert "mini.md" in _lexical_docs(index, embedder, "直播挂件")


def test_manifest_records_embedder_and_chunker(corpus_copy, tmp_path, embedder):
    _sync(corpus_copy, tmp_path / "index", embedder)
    manifest = read_manifest(tmp_path / "index")
    assert manifest["embedder"] == "usem3-512" and manifest["dimension"] == 512
    assert manifest["chunker"].startswith("sentences-v1")
    doc = manifest["documents"]["wechat-open-class-2025.md"]
    assert len(doc["chunks"]) > 10 and doc["sha256"] and doc["indexed_at"]


def test_other_embedder_is_refused_with_the_rebuild_command(corpus_copy, tmp_path, embedder):
    index = tmp_path / "index"
    _sync(corpus_copy, index, embedder)
    manifest_path = index / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["embedder"] = "st:other-384"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(EmbedderMismatch, match="assistant index --rebuild"):
        Index(index, embedder)
    with pytest.raises(EmbedderMismatch):
        _sync(corpus_copy, index, embedder)
    rebuilt = _sync(corpus_copy, index, embedder, rebuild=True)
    assert rebuilt.chunks_written == rebuilt.total_chunks
    assert Index(index, embedder).manifest["embedder"] == "usem3-512"


def test_missing_and_corrupt_index(tmp_path, corpus_copy, embedder):
    with pytest.raises(IndexNotBuilt, match="assistant index"):
        Index(tmp_path / "nothing", embedder)
    index = tmp_path / "index"
    _sync(corpus_copy, index, embedder)
    (index / read_manifest(index)["bm25"] / "records.json").write_text(
        "{truncated", encoding="utf-8"
    )
    with pytest.raises(IndexCorrupt, match="--rebuild"):
        Index(index, embedder)
    assert _sync(corpus_copy, index, embedder).chunks_written == 0  # BM25 rebuilt from Chroma
    Index(index, embedder)
    (index / "manifest.json").write_text("not json", encoding="utf-8")
    with pytest.raises(IndexCorrupt, match="--rebuild"):
        Index(index, embedder)
    # an index run repairs it
    assert _sync(corpus_copy, index, embedder).total_chunks > 10
    Index(index, embedder)


def test_a_second_index_run_waits_for_the_lock(corpus_copy, tmp_path, embedder):
    index = tmp_path / "index"
    index.mkdir()
    lock = FileLock(str(index / ".lock"), thread_local=False)
    with lock:
        with pytest.raises(IndexBusy, match="Another 'assistant index'"):
            _sync(corpus_copy, index, embedder, lock_timeout=0.2)
    lock.acquire()
    threading.Timer(0.5, lock.release).start()  # the other run finishes in half a second
    waited = _sync(corpus_copy, index, embedder, lock_timeout=30)
    assert waited.chunks_written == waited.total_chunks > 10


def test_a_run_killed_half_way_is_repaired_by_the_next(corpus_copy, tmp_path, embedder):
    index = tmp_path / "index"
    base = _sync(corpus_copy, index, embedder)
    (corpus_copy / "mini.md").write_text(EXTRA, encoding="utf-8")

    def killed(stage: str, done: int, total: int) -> None:
        if stage == "sentences" and done == total:  # all written, the manifest not yet
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _sync(corpus_copy, index, embedder, progress=killed)
    assert "mini.md" not in Index(index, embedder).documents  # the old index still opens

    (corpus_copy / "mini.md").unlink()  # the article is gone before the next run
    repaired = _sync(corpus_copy, index, embedder)
    assert repaired.chunks_deleted > 0 and repaired.total_chunks == base.total_chunks
    opened = Index(index, embedder)
    assert {r["doc_id"] for r, _ in opened.dense("小程序直播挂件", 50)} == {
        "wechat-open-class-2025.md"
    }


def test_a_title_edit_reaches_the_passages_without_re_embedding(corpus_copy, tmp_path, embedder):
    index = tmp_path / "index"
    (corpus_copy / "mini.md").write_text(EXTRA, encoding="utf-8")
    _sync(corpus_copy, index, embedder)
    (corpus_copy / "mini.md").write_text(
        EXTRA.replace("小程序的新变化", "新标题"), encoding="utf-8"
    )
    report = _sync(corpus_copy, index, embedder)
    assert report.updated == ["mini.md"] and report.chunks_written == 0
    hits = Index(index, embedder).lexical(search_tokens("直播挂件"), 1)
    assert hits[0][0]["title"] == "新标题"
    dense = Index(index, embedder).dense("小程序直播挂件", 1)
    assert dense[0][0]["title"] == "新标题"


def test_empty_corpus_gives_an_empty_index_that_still_answers(tmp_path, embedder):
    from assistant.answer.chain import Assistant
    from assistant.settings import Settings

    (tmp_path / "corpus").mkdir()
    report = _sync(tmp_path / "corpus", tmp_path / "index", embedder)
    assert report.total_chunks == 0
    answer = Assistant(Settings(index_dir=tmp_path / "index"), embedder).ask("GMV?")
    assert answer.refused and answer.citations == []
    assert answer.text == "I could not find the answer in the articles."


def test_a_file_name_that_is_not_utf8_is_skipped(corpus_copy, tmp_path, embedder):
    bad = os.path.join(os.fsencode(corpus_copy), b"bad-\xff-name.txt")
    with open(bad, "wb") as handle:
        handle.write("一篇文章。".encode())
    load = load_corpus(corpus_copy)
    assert [a.doc_id for a in load.articles] == ["wechat-open-class-2025.md"]
    assert "not valid UTF-8" in load.skipped[0].reason
    assert sync(tmp_path / "index", load, embedder).total_chunks > 10


def test_a_running_assistant_follows_another_process_index_run(
    corpus_copy, tmp_path, embedder, monkeypatch
):
    """Dense search included: Chroma's per-process store cache must not keep the
    vectors it had before another process added passages."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from assistant.answer.chain import Assistant
    from assistant.settings import Settings

    monkeypatch.setattr("assistant.answer.chain.INDEX_CHECK_S", 0.0)
    index = tmp_path / "index"
    _sync(corpus_copy, index, embedder)
    running = Assistant(Settings(corpus_dir=corpus_copy, index_dir=index), embedder)
    running.index.dense("微信", 3)  # its store is loaded
    (corpus_copy / "mini.md").write_text(EXTRA, encoding="utf-8")
    env = {**os.environ, "ASSISTANT_CORPUS_DIR": str(corpus_copy)}
    env["ASSISTANT_INDEX_DIR"] = str(index)
    command = [str(Path(sys.executable).with_name("assistant")), "index"]
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    running.follow_index()
    assert "mini.md" in running.index.documents
    assert running.index.dense("小程序直播挂件", 1)[0][0]["doc_id"] == "mini.md"
