"""Incremental sync: bring the index in line with the corpus, writing only what changed.

Chunk ids are hashes of document, section and text, so comparing the ids of
the corpus's passages with the ids *in Chroma* tells what to do: passages
not in Chroma are embedded and added, passages in Chroma that no article has
any more are deleted, and an unchanged corpus writes nothing. Comparing with
Chroma itself (not only with the manifest) also repairs an index run that
was killed half-way. An article whose metadata changed (title, position of
passages) gets its passages' metadata updated without re-embedding.

BM25 is rebuilt from Chroma's documents whenever anything changed, into a
new folder; the manifest, written last and atomically, switches readers to
it. One run at a time: a file lock, waited on up to ``lock_timeout``.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import chromadb
from chromadb.api.client import SharedSystemClient
from chromadb.errors import ChromaError
from filelock import FileLock, Timeout
from langchain_chroma import Chroma

from ..errors import AssistantError, EmbedderMismatch, IndexBusy, IndexCorrupt
from ..ingest.chunking import CHUNKER_VERSION, Chunk
from ..ingest.corpus import CorpusLoad, load_corpus
from ..ingest.text import to_simplified
from ..settings import Settings, default
from .embeddings import Embedder, make_embedder
from .index import bm25_readable, build_bm25, vectorstore
from .location import (
    FORMAT,
    GENERATION,
    Location,
    collection_names,
    locate,
    reaching,
    read_manifest,
    write_manifest,
)
from .plan import Plan, SyncReport, plan_run

log = logging.getLogger(__name__)

BATCH = 128  # texts embedded per call: progress stays lively, memory flat
Progress = Callable[[str, int, int], None]


def _metadata(chunk: Chunk) -> dict[str, Any]:
    return {
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "section": chunk.section,
        "text": chunk.text,
        "ordinal": chunk.ordinal,
    }


def _ids(store: Chroma) -> set[str]:
    return set(store.get(include=[])["ids"])


def _add(
    store: Chroma,
    items: list[tuple[str, str, dict[str, Any] | None]],
    progress: Progress | None,
    label: str,
) -> None:
    """Embed and add ``(id, text to embed, metadata)`` items in batches."""
    for start in range(0, len(items), BATCH):
        batch = items[start : start + BATCH]
        metadatas = [m for _, _, m in batch] if batch[0][2] is not None else None
        store.add_texts([t for _, t, _ in batch], metadatas=metadatas, ids=[i for i, _, _ in batch])
        if progress:
            progress(label, min(start + BATCH, len(items)), len(items))


def _delete(store: Chroma, ids: list[str], batch: int) -> None:
    for start in range(0, len(ids), batch):
        store.delete(ids=ids[start : start + batch])


def _open_for_rebuild(location: Location) -> chromadb.ClientAPI:
    """A client for a run that starts from nothing. Nothing is dropped: the new
    generation of collections sits beside the old one until it is committed,
    so a run killed half-way leaves the previous index usable. Only a local
    store that cannot be read whole is moved aside (``chroma.damaged-<time>``,
    kept for a look, never read again) and a new one started."""
    try:
        with reaching(location):
            chroma = location.client()
            _read_every_collection(chroma)
        return chroma
    except (ChromaError, IndexCorrupt) as exc:
        if location.remote:
            raise
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        aside = location.index_dir / f"chroma.damaged-{stamp}"
        log.warning("the Chroma store cannot be read (%s); moved aside to %s", exc, aside)
        SharedSystemClient.clear_system_cache()
        (location.index_dir / "chroma").rename(aside)
        return location.client()


def _read_every_collection(chroma: chromadb.ClientAPI) -> None:
    """Touch every collection's count, records and vectors: a damaged store
    fails here, before a rebuild writes into it."""
    for collection in chroma.list_collections():
        collection.count()
        collection.get(limit=1, include=["embeddings", "metadatas", "documents"])


def _drop_old_generations(chroma: chromadb.ClientAPI, keep: set[str]) -> None:
    """Drop our collections that neither the new manifest nor the one before it
    names: earlier rebuilds, and runs killed half-way. The previous generation
    stays one more run, for readers that have not yet reopened the index."""
    for collection in chroma.list_collections():
        if GENERATION.match(collection.name) and collection.name not in keep:
            chroma.delete_collection(collection.name)


def index_corpus(
    settings: Settings, *, rebuild: bool = False, progress: Progress | None = None
) -> SyncReport:
    """Read ``settings.corpus_dir`` and sync it into ``settings.index_dir``."""
    if not settings.corpus_dir.is_dir():
        raise AssistantError(
            f"No corpus folder at {settings.corpus_dir}; "
            "create it and put articles in it (.md, .txt, .html, .pdf or .docx)."
        )
    return sync(
        Location.of(settings),
        load_corpus(settings.corpus_dir),
        make_embedder(settings.embedder),
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        rebuild=rebuild,
        progress=progress,
    )


def sync(
    where: Path | Location,
    load: CorpusLoad,
    embedder: Embedder,
    *,
    chunk_size: int = default("chunk_size"),
    chunk_overlap: int = default("chunk_overlap"),
    rebuild: bool = False,
    progress: Progress | None = None,
    lock_timeout: float = 600.0,
) -> SyncReport:
    """Bring the index at ``where`` (a folder or a :class:`Location`) in line
    with the articles in ``load``.

    Raises :class:`EmbedderMismatch` when the index was built with another
    embedder (unless ``rebuild``), :class:`IndexBusy` when another run holds
    the lock for longer than ``lock_timeout`` seconds, and StoreUnavailable
    when a Chroma server cannot be reached.
    """
    started = time.perf_counter()
    location = locate(where)
    index_dir = location.index_dir
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(index_dir / ".lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            log.warning("another index run is updating %s; waiting for it", index_dir)
            try:
                lock.acquire(timeout=lock_timeout)
            except Timeout as exc:
                raise IndexBusy(index_dir) from exc
        try:
            with reaching(location):
                report = _sync_locked(
                    location, load, embedder, chunk_size, chunk_overlap, rebuild, progress
                )
        finally:
            lock.release()
    except ChromaError as exc:  # a damaged Chroma file
        raise IndexCorrupt(location, f"{type(exc).__name__}: {exc}") from exc
    except OSError as exc:  # a file where the folder should be, a full disk, permissions
        raise AssistantError(f"Cannot write the index at {index_dir}: {exc}") from exc
    report.seconds = time.perf_counter() - started
    return report


def _sync_locked(
    location: Location,
    load: CorpusLoad,
    embedder: Embedder,
    chunk_size: int,
    chunk_overlap: int,
    rebuild: bool,
    progress: Progress | None,
) -> SyncReport:
    """One index run, the lock held: read the manifest, open the collections
    (a new generation when starting over), plan, write, commit, clean up."""
    manifest = _current_manifest(location, embedder, rebuild)
    previous = collection_names(manifest) if manifest else {}
    if manifest is None:  # a new generation of collections, committed by the manifest
        chroma = _open_for_rebuild(location)
        try:  # the generation the current manifest names, kept one more run
            previous = collection_names(read_manifest(location) or {})
        except IndexCorrupt:
            previous = {}
        generation = uuid.uuid4().hex[:8]
        names = {kind: f"{kind}-{generation}" for kind in ("chunks", "sentences")}
    else:
        chroma = location.client()
        names = previous
    stores = _Stores(
        chroma,
        names,
        vectorstore(chroma, names["chunks"], embedder),
        vectorstore(chroma, names["sentences"], embedder),
    )
    in_store = _ids(stores.chunks), _ids(stores.sentences)
    plan = plan_run(load, manifest, *in_store, chunk_size, chunk_overlap)
    _write(plan, stores, progress)
    dirty = (
        manifest is None
        or bool(plan.to_add or plan.stale or plan.to_refresh)
        or not bm25_readable(location, manifest)
    )
    bm25_dir = _commit(location, embedder, manifest, plan, stores, dirty, chunk_size, chunk_overlap)
    _clean_up(location, chroma, bm25_dir, set(names.values()) | set(previous.values()))
    return plan.report


def _current_manifest(
    location: Location, embedder: Embedder, rebuild: bool
) -> dict[str, Any] | None:
    """The manifest to sync against; None to start over (asked for, damaged,
    or written by another chunker). EmbedderMismatch for another embedder."""
    try:
        manifest = None if rebuild else read_manifest(location)
    except IndexCorrupt as exc:
        log.warning(
            "the index at %s is damaged or from an older version (%s); rebuilding it",
            location,
            exc.__cause__,
        )
        manifest = None
    if manifest and manifest.get("embedder") != embedder.id:
        raise EmbedderMismatch(location, manifest.get("embedder", "?"), embedder.id)
    if manifest and manifest.get("chunker") != CHUNKER_VERSION:
        log.warning(
            "index built by chunker %s; rebuilding with %s",
            manifest.get("chunker"),
            CHUNKER_VERSION,
        )
        manifest = None
    return manifest


@dataclass
class _Stores:
    """The Chroma collections a run writes."""

    chroma: chromadb.ClientAPI
    names: dict[str, str]
    chunks: Chroma
    sentences: Chroma


def _write(plan: Plan, stores: _Stores, progress: Progress | None) -> None:
    """Embed and add the new passages and sentences, refresh moved ones' metadata,
    delete the stale ones."""
    _add(
        stores.chunks,
        [(c.id, to_simplified(c.index_text), _metadata(c)) for c in plan.to_add],
        progress,
        "passages",
    )
    _add(stores.sentences, plan.new_sentences, progress, "sentences")
    if plan.to_refresh:
        # metadata only: langchain-chroma's update_documents would re-embed
        stores.chroma.get_collection(stores.names["chunks"]).update(
            ids=[c.id for c in plan.to_refresh],
            metadatas=[_metadata(c) for c in plan.to_refresh],
        )
    batch = stores.chroma.get_max_batch_size()
    _delete(stores.chunks, plan.stale, batch)
    _delete(stores.sentences, plan.stale_sentences, batch)
    report = plan.report
    report.chunks_written, report.chunks_deleted = len(plan.to_add), len(plan.stale)
    report.sentences_written = len(plan.new_sentences)


def _commit(
    location: Location,
    embedder: Embedder,
    manifest: dict[str, Any] | None,
    plan: Plan,
    stores: _Stores,
    dirty: bool,
    chunk_size: int,
    chunk_overlap: int,
) -> str:
    """A new BM25 when anything changed, then the manifest (the commit point);
    returns the BM25 folder the manifest names."""
    if dirty:
        bm25_dir, plan.report.total_chunks = build_bm25(location, stores.chunks)
    else:
        assert manifest is not None  # a first run is always dirty
        bm25_dir = manifest["bm25"]
        plan.report.total_chunks = len({c for d in plan.docs.values() for c in d["chunks"]})
    write_manifest(
        location,
        {
            "format": FORMAT,
            "embedder": embedder.id,
            "dimension": embedder.dimension,
            "chunker": CHUNKER_VERSION,
            "chunk_size": chunk_size,
            "chunk_overlap": chunk_overlap,
            "bm25": bm25_dir,
            "collections": stores.names,
            "updated_at": plan.now if dirty else manifest.get("updated_at", plan.now),
            "documents": dict(sorted(plan.docs.items())),
        },
    )
    return bm25_dir


def _clean_up(
    location: Location, chroma: chromadb.ClientAPI, bm25_dir: str, keep: set[str]
) -> None:
    """After the commit: superseded BM25 folders (and those of killed runs),
    and collection generations that neither this manifest nor the last names."""
    for old_dir in location.index_dir.glob("bm25*"):
        if old_dir.name != bm25_dir:
            shutil.rmtree(old_dir, ignore_errors=True)
    _drop_old_generations(chroma, keep)
