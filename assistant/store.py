"""The index on disk: Chroma (passages and sentences, via langchain-chroma),
a BM25 index beside it, a manifest, a lock, and incremental sync.

Layout of ``index/``::

    manifest.json   embedder id and dimension, chunker version, per-article
                    sha256, chunk ids and sentence ids
    chroma/         persistent Chroma: collection ``chunks`` (one vector per
                    passage) and ``sentences`` (one per sentence, used to pick
                    the sentences that answer a question)
    bm25/           bm25s index over jieba tokens of both simplified forms;
                    its corpus holds each passage's record, so a BM25 hit needs
                    no Chroma round trip
    .lock           held while an ``assistant index`` runs

Sync compares chunk ids (hashes of document, section and text) with the
manifest: new articles and edited passages are embedded and added, passages
that disappeared are deleted, an unchanged corpus writes nothing. BM25 is
rebuilt from Chroma's documents whenever anything changed, so the two never
disagree. The manifest is written last and atomically.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bm25s
import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from filelock import FileLock, Timeout
from langchain_chroma import Chroma

from .chunking import CHUNKER_VERSION, Chunk, chunk_article
from .corpus import CorpusLoad
from .embeddings import Embedder
from .errors import EmbedderMismatch, IndexBusy, IndexCorrupt, IndexNotBuilt
from .text import search_tokens, split_sentences, to_simplified

log = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG on import, which prints build chatter.
logging.getLogger("bm25s").setLevel(logging.WARNING)

MANIFEST = "manifest.json"
RECORDS = "records.json"
FORMAT = 1
BATCH = 128
Progress = Callable[[str, int, int], None]


def sentence_id(sentence: str) -> str:
    """Id of a sentence vector: a hash of its normalised text (shared by overlaps)."""
    import hashlib

    return hashlib.sha256(to_simplified(sentence).encode()).hexdigest()[:24]


def chunk_sentences(text: str) -> list[str]:
    """The sentences of a passage, as the answerer and the index both see them."""
    return [s for line in text.split("\n") for s in split_sentences(line)]


@dataclass
class SyncReport:
    """What one ``assistant index`` run did."""

    chunks_written: int = 0
    chunks_deleted: int = 0
    sentences_written: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    total_chunks: int = 0
    seconds: float = 0.0


def _client(index_dir: Path) -> chromadb.ClientAPI:
    return chromadb.PersistentClient(
        path=str(index_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )


def _vectorstore(client: chromadb.ClientAPI, name: str, embedder: Embedder) -> Chroma:
    return Chroma(
        collection_name=name,
        embedding_function=embedder.model,
        client=client,
        collection_metadata={"hnsw:space": "cosine"},
    )


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The manifest, or None when no index was built there."""
    path = index_dir / MANIFEST
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        return data
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(index_dir, f"manifest: {exc}") from exc


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    return {
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "section": chunk.section,
        "text": chunk.text,
        "ordinal": chunk.ordinal,
    }


class Index:
    """An opened index: dense, BM25 and sentence-vector look-ups for retrieval."""

    def __init__(self, index_dir: Path, embedder: Embedder) -> None:
        manifest = read_manifest(index_dir)
        if manifest is None:
            raise IndexNotBuilt(index_dir)
        if manifest.get("embedder") != embedder.id:
            raise EmbedderMismatch(index_dir, manifest.get("embedder", "?"), embedder.id)
        self.index_dir = index_dir
        self.embedder = embedder
        self.manifest = manifest
        try:
            client = _client(index_dir)
            self.chunks = _vectorstore(client, "chunks", embedder)
            self.sentences = _vectorstore(client, "sentences", embedder)
            self.bm25 = bm25s.BM25.load(str(index_dir / "bm25"))
            records = json.loads((index_dir / "bm25" / RECORDS).read_text(encoding="utf-8"))
        except Exception as exc:  # any failure to open the files means a broken index
            raise IndexCorrupt(index_dir, f"{type(exc).__name__}: {exc}") from exc
        self.records: list[dict[str, Any]] = records
        doc_freq = np.diff(self.bm25.scores["indptr"])
        self._df = {
            t: int(doc_freq[i]) for t, i in self.bm25.vocab_dict.items() if i < len(doc_freq)
        }

    def idf(self, token: str) -> float:
        """BM25 inverse document frequency of a token; highest for an unseen one."""
        n, df = len(self.records), self._df.get(token, 0)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    @property
    def documents(self) -> dict[str, dict[str, Any]]:
        return self.manifest["documents"]

    def dense(self, query: str, k: int) -> list[tuple[dict[str, Any], float]]:
        """Top ``k`` passages by cosine similarity to the (normalised) query."""
        k = min(k, len(self.records))
        if k == 0:
            return []
        hits = self.chunks.similarity_search_with_score(query, k=k)
        return [({"id": d.id, **d.metadata}, 1.0 - dist) for d, dist in hits]

    def lexical(self, tokens: list[str], k: int) -> list[tuple[dict[str, Any], float]]:
        """Top ``k`` passages by BM25 over the query's tokens (only positive scores)."""
        k = min(k, len(self.records))
        if k == 0 or not tokens:
            return []
        ids, scores = self.bm25.retrieve([tokens], k=k, show_progress=False)
        return [
            (self.records[i], float(s)) for i, s in zip(ids[0], scores[0], strict=True) if s > 0
        ]

    def sentence_vectors(self, sentences: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored vectors of the given sentences, keyed by :func:`sentence_id`."""
        ids = list(dict.fromkeys(sentence_id(s) for s in sentences))
        if not ids:
            return {}
        got = self.sentences.get(ids=ids, include=["embeddings"])
        return {
            i: np.asarray(v, dtype=np.float32)
            for i, v in zip(got["ids"], got["embeddings"], strict=True)
        }


def _embed_add(
    store: Chroma,
    ids: list[str],
    texts: list[str],
    metas: list[dict[str, Any]] | None,
    progress: Progress | None,
    label: str,
) -> None:
    for start in range(0, len(ids), BATCH):
        end = start + BATCH
        store.add_texts(
            texts[start:end], metadatas=metas[start:end] if metas else None, ids=ids[start:end]
        )
        if progress:
            progress(label, min(end, len(ids)), len(ids))


def _delete(store: Chroma, ids: list[str]) -> None:
    for start in range(0, len(ids), 4096):
        store.delete(ids=ids[start : start + 4096])


def _bm25_readable(index_dir: Path) -> bool:
    try:
        records = json.loads((index_dir / "bm25" / RECORDS).read_text(encoding="utf-8"))
        bm25s.BM25.load(str(index_dir / "bm25"))
        return isinstance(records, list)
    except Exception:  # missing or damaged: rebuild it
        return False


def _rebuild_bm25(index_dir: Path, chunks: Chroma) -> int:
    got = chunks.get(include=["metadatas"])
    records = sorted(
        ({"id": i, **m} for i, m in zip(got["ids"], got["metadatas"], strict=True)),
        key=lambda r: (r["doc_id"], r["ordinal"]),
    )
    tokens = [search_tokens(f"{r['section']}\n{r['text']}") for r in records]
    retriever = bm25s.BM25()
    # bm25s cannot index an empty corpus; one empty placeholder keeps the format.
    retriever.index(tokens or [[""]], show_progress=False)
    target, tmp = index_dir / "bm25", index_dir / "bm25.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    retriever.save(str(tmp))
    # Passage records sit beside the BM25 matrices: a BM25 hit is resolved
    # without a Chroma round trip. The placeholder row never scores above 0.
    placeholder = {"id": "", "doc_id": "", "title": "", "section": "", "text": "", "ordinal": 0}
    _write_json(tmp / RECORDS, records or [placeholder])
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return len(records)


def sync(
    index_dir: Path,
    load: CorpusLoad,
    embedder: Embedder,
    *,
    chunk_size: int = 220,
    chunk_overlap: int = 60,
    rebuild: bool = False,
    progress: Progress | None = None,
    lock_timeout: float = 600.0,
) -> SyncReport:
    """Bring the index at ``index_dir`` in line with the articles in ``load``.

    Raises :class:`EmbedderMismatch` when the index was built with another
    embedder (unless ``rebuild``) and :class:`IndexBusy` when another sync
    holds the lock for longer than ``lock_timeout`` seconds.
    """
    started = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning("another 'assistant index' is running on %s; waiting", index_dir)
        try:
            lock.acquire(timeout=lock_timeout)
        except Timeout as exc:
            raise IndexBusy(index_dir) from exc
    try:
        report = _sync_locked(
            index_dir, load, embedder, chunk_size, chunk_overlap, rebuild, progress
        )
    finally:
        lock.release()
    report.seconds = time.perf_counter() - started
    return report


def _sync_locked(
    index_dir: Path,
    load: CorpusLoad,
    embedder: Embedder,
    chunk_size: int,
    chunk_overlap: int,
    rebuild: bool,
    progress: Progress | None,
) -> SyncReport:
    try:
        manifest = None if rebuild else read_manifest(index_dir)
    except IndexCorrupt:
        manifest = None  # an unreadable manifest: start again from nothing
        rebuild = True
    if manifest and manifest.get("embedder") != embedder.id:
        raise EmbedderMismatch(index_dir, manifest.get("embedder", "?"), embedder.id)
    client = _client(index_dir)
    if manifest is None:
        # Start from nothing. Collections are dropped through the client rather
        # than by deleting files, which Chroma may hold open in this process.
        for name in ("chunks", "sentences"):
            if name in {c.name for c in client.list_collections()}:
                client.delete_collection(name)
        shutil.rmtree(index_dir / "bm25", ignore_errors=True)
        (index_dir / MANIFEST).unlink(missing_ok=True)
    old_docs: dict[str, dict[str, Any]] = manifest["documents"] if manifest else {}
    chunks_store = _vectorstore(client, "chunks", embedder)
    sentences_store = _vectorstore(client, "sentences", embedder)
    report = SyncReport(skipped=[str(s) for s in load.skipped])

    new_docs: dict[str, dict[str, Any]] = {}
    to_add: list[Chunk] = []
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for article in load.articles:
        chunks = chunk_article(article, chunk_size, chunk_overlap)
        old = old_docs.get(article.doc_id)
        old_ids = set(old["chunks"]) if old else set()
        fresh = [c for c in chunks if c.id not in old_ids]
        to_add += fresh
        changed = bool(fresh) or (old is not None and len(old_ids) != len(chunks))
        if old is None:
            report.added.append(article.doc_id)
        elif changed:
            report.updated.append(article.doc_id)
        else:
            report.unchanged += 1
        new_docs[article.doc_id] = {
            "title": article.title,
            "sha256": article.sha256,
            "meta": article.meta,
            "chunks": [c.id for c in chunks],
            "sentences": sorted({sentence_id(s) for c in chunks for s in chunk_sentences(c.text)}),
            "indexed_at": now if (old is None or changed) else old.get("indexed_at", now),
        }
    # An article that could not be read this time keeps its passages: lose nothing.
    for skipped in load.skipped:
        if skipped.doc_id in old_docs:
            new_docs[skipped.doc_id] = old_docs[skipped.doc_id]
    report.removed = sorted(set(old_docs) - set(new_docs))

    keep_chunks = {cid for d in new_docs.values() for cid in d["chunks"]}
    stale_chunks = sorted({cid for d in old_docs.values() for cid in d["chunks"]} - keep_chunks)
    old_sentences = {sid for d in old_docs.values() for sid in d["sentences"]}
    keep_sentences = {sid for d in new_docs.values() for sid in d["sentences"]}
    new_sentences: dict[str, str] = {}
    for chunk in to_add:
        for s in chunk_sentences(chunk.text):
            sid = sentence_id(s)
            if sid not in old_sentences:
                new_sentences.setdefault(sid, to_simplified(s))

    _embed_add(
        chunks_store,
        [c.id for c in to_add],
        [to_simplified(c.index_text) for c in to_add],
        [_chunk_metadata(c) for c in to_add],
        progress,
        "passages",
    )
    _embed_add(
        sentences_store,
        list(new_sentences),
        list(new_sentences.values()),
        None,
        progress,
        "sentences",
    )
    _delete(chunks_store, stale_chunks)
    _delete(sentences_store, sorted(old_sentences - keep_sentences))
    report.chunks_written, report.chunks_deleted = len(to_add), len(stale_chunks)
    report.sentences_written = len(new_sentences)

    dirty = manifest is None or to_add or stale_chunks or not _bm25_readable(index_dir)
    if dirty:
        report.total_chunks = _rebuild_bm25(index_dir, chunks_store)
    else:
        report.total_chunks = len(keep_chunks)
    _write_json(
        index_dir / MANIFEST,
        {
            "format": FORMAT,
            "embedder": embedder.id,
            "dimension": embedder.dimension,
            "chunker": CHUNKER_VERSION,
            "chunk_size": chunk_size,
            "chunk_overlap": chunk_overlap,
            "updated_at": now if dirty or manifest is None else manifest.get("updated_at", now),
            "documents": dict(sorted(new_docs.items())),
        },
    )
    return report
