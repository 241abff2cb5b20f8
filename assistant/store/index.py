"""The index's read side: Chroma (via langchain-chroma) and BM25 look-ups.

Where the index lives and its manifest are in :mod:`assistant.store.location`.
Layout of a local ``index/``::

    manifest.json   embedder id and dimension, chunker version, the current
                    BM25 folder, and per article: sha256, title, chunk ids,
                    sentence ids, indexed_at. Written last, atomically: it is
                    the commit point of an index run.
    chroma/         persistent Chroma: collection ``chunks[-<generation>]`` (one
                    vector per passage, of its simplified text) and
                    ``sentences[-<generation>]`` (one per sentence, used to pick
                    the sentences that answer)
    bm25-<id>/      bm25s matrices over jieba tokens of both simplified forms,
                    and ``records.json``, each passage's record, so that a BM25
                    hit needs no Chroma round trip
    .lock           held while an index run writes

Writing (incremental sync) is in ``sync``; this module opens an index
and answers look-ups.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bm25s
import chromadb
import numpy as np
from chromadb.api.client import SharedSystemClient
from chromadb.errors import ChromaError, NotFoundError
from langchain_chroma import Chroma

from ..errors import AssistantError, EmbedderMismatch, IndexCorrupt, IndexNotBuilt
from ..ingest.chunking import sentence_id
from ..ingest.text import search_tokens
from .embeddings import Embedder
from .location import Location, collection_names, locate, reaching, read_manifest, stamp, write_json

# bm25s sets its own logger to DEBUG on import, which prints build chatter.
logging.getLogger("bm25s").setLevel(logging.WARNING)

RECORDS = "records.json"
# What a damaged index raises when opened; anything else is a real bug.
DAMAGE = (OSError, ValueError, KeyError, TypeError, ChromaError)


def vectorstore(chroma: chromadb.ClientAPI, name: str, embedder: Embedder) -> Chroma:
    """A cosine-space collection behind LangChain's vector-store interface."""
    return Chroma(
        collection_name=name,
        embedding_function=embedder.model,
        client=chroma,
        collection_configuration={"hnsw": {"space": "cosine"}},
    )


def load_bm25(folder: Path) -> tuple[bm25s.BM25, list[dict[str, Any]]]:
    """A saved BM25 index and its passage records."""
    records = json.loads((folder / RECORDS).read_text(encoding="utf-8"))
    if not isinstance(records, list):
        raise ValueError("records.json is not a list")
    return bm25s.BM25.load(str(folder)), records


class Index:
    """An opened index: dense, BM25 and sentence-vector look-ups for retrieval."""

    def __init__(self, where: Path | Location, embedder: Embedder) -> None:
        location = locate(where)
        first_stamp = stamp(location)  # before reading: a change in between only reloads again
        manifest = read_manifest(location)
        if manifest is None:
            raise IndexNotBuilt(location)
        if manifest.get("embedder") != embedder.id:
            raise EmbedderMismatch(location, manifest.get("embedder", "?"), embedder.id)
        self.location = location
        self.index_dir = location.index_dir
        self.embedder = embedder
        self.manifest = manifest
        self.stamp = first_stamp
        try:
            with reaching(location):
                self._chroma = chroma = self._client()
                names = collection_names(manifest)
                self.chunks = vectorstore(chroma, names["chunks"], embedder)
                self.sentences = vectorstore(chroma, names["sentences"], embedder)
                if location.remote:
                    self.records = chunk_records(self.chunks)
                    self.bm25 = bm25_over(self.records)
                else:
                    self.bm25, self.records = load_bm25(location.index_dir / manifest["bm25"])
        except PermissionError as exc:
            raise AssistantError(f"Cannot read the index at {location}: {exc}") from exc
        except DAMAGE as exc:
            raise IndexCorrupt(location, f"{type(exc).__name__}: {exc}") from exc
        self._committed = {r["id"] for r in self.records}
        doc_freq = np.diff(self.bm25.scores["indptr"])
        self._df = {
            t: int(doc_freq[i]) for t, i in self.bm25.vocab_dict.items() if i < len(doc_freq)
        }

    def _client(self) -> chromadb.ClientAPI:
        """The store's client. Chroma keeps one embedded store per folder and
        process, with the vectors it had loaded: after another process's
        index run (new passages, or a rebuilt folder) that one is out of date,
        so an Index (opened at start and after each commit) takes a fresh one.
        Clients still in flight look the store up by folder and move with it."""
        if not self.location.remote:
            folder = str(self.location.index_dir / "chroma")
            cache = getattr(SharedSystemClient, "_identifier_to_system", None)
            if isinstance(cache, dict):
                cache.pop(folder, None)
            else:  # a Chroma without that cache: start every store afresh
                SharedSystemClient.clear_system_cache()
        return self.location.client()

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Look-ups: a server that is down → StoreUnavailable; a store damaged
        under us → IndexCorrupt (naming the rebuild); collections a newer
        index run dropped → ask again (the index is reopened first)."""
        try:
            with reaching(self.location):
                yield
        except NotFoundError as exc:
            raise AssistantError("The index was just rebuilt; please ask again.") from exc
        except ChromaError as exc:
            raise IndexCorrupt(self.location, f"{type(exc).__name__}: {exc}") from exc

    def probe(self) -> int:
        """Count the passages, read one passage's and one sentence's vector and
        search with it: a cheap check that the store still answers (a damaged file can still
        count while every look-up fails)."""
        with self._reading():
            names = collection_names(self.manifest)
            for name in (names["chunks"], names["sentences"]):
                collection = self._chroma.get_collection(name)
                got = collection.get(limit=1, include=["embeddings"])
                if len(got["embeddings"]):  # and a nearest-neighbour search with it
                    collection.query(query_embeddings=[got["embeddings"][0]], n_results=1)
            return self._chroma.get_collection(names["chunks"]).count()

    def stale(self) -> bool:
        """Has an index run committed since this index was opened?"""
        return stamp(self.location, self._chroma) != self.stamp

    @property
    def vocabulary(self) -> list[str]:
        """Every token of the passages (BM25's vocabulary: lower case, simplified)."""
        return list(self.bm25.vocab_dict)

    @property
    def documents(self) -> dict[str, dict[str, Any]]:
        """Indexed articles by doc id: title, sha256, chunk ids, indexed_at."""
        return self.manifest["documents"]

    def idf(self, token: str) -> float:
        """BM25 inverse document frequency of a token; highest for an unseen one."""
        n, df = len(self.records), self._df.get(token, 0)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def dense(self, query: str, k: int) -> list[tuple[dict[str, Any], float]]:
        """Top ``k`` passages by cosine similarity to the (normalised) query."""
        k = min(k, len(self.records))
        if k == 0:
            return []
        with self._reading():  # a few more: passages of an unfinished run are dropped
            hits = self.chunks.similarity_search_with_score(query, k=min(k + 10, len(self.records)))
        committed = [(d, dist) for d, dist in hits if d.id in self._committed][:k]
        return [({"id": d.id, **d.metadata}, 1.0 - dist) for d, dist in committed]

    def lexical(self, tokens: list[str], k: int) -> list[tuple[dict[str, Any], float]]:
        """Top ``k`` passages by BM25 over the query's tokens (only positive scores)."""
        k = min(k, len(self.records))
        if k == 0 or not tokens:
            return []
        ids, scores = self.bm25.retrieve([tokens], k=k, show_progress=False)
        pairs = zip(ids[0], scores[0], strict=True)
        return [(self.records[i], float(s)) for i, s in pairs if s > 0]

    def sentence_vectors(self, sentences: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored vectors of the given sentences, keyed by :func:`sentence_id`."""
        ids = list(dict.fromkeys(sentence_id(s) for s in sentences))
        if not ids:
            return {}
        with self._reading():
            got = self.sentences.get(ids=ids, include=["embeddings"])
        return {
            i: np.asarray(v, dtype=np.float32)
            for i, v in zip(got["ids"], got["embeddings"], strict=True)
        }


def chunk_records(chunks: Chroma) -> list[dict[str, Any]]:
    """Every passage's record (id and metadata), in article order."""
    got = chunks.get(include=["metadatas"])
    return sorted(
        ({"id": i, **m} for i, m in zip(got["ids"], got["metadatas"], strict=True)),
        key=lambda r: (r["doc_id"], r["ordinal"]),
    )


def bm25_over(records: list[dict[str, Any]]) -> bm25s.BM25:
    """A BM25 index over the passages' jieba tokens (section path included)."""
    retriever = bm25s.BM25()
    # bm25s cannot index an empty corpus; an empty document keeps the format valid.
    retriever.index(
        [search_tokens(f"{r['section']}\n{r['text']}") for r in records] or [[""]],
        show_progress=False,
    )
    return retriever


def build_bm25(where: Path | Location, chunks: Chroma) -> tuple[str, int]:
    """A new BM25 for Chroma's passages: a new folder locally, returning its name;
    on a server, nothing stored, a new token. Also returns the passage count."""
    location = locate(where)
    if location.remote:
        with reaching(location):
            count = len(chunks.get(include=[])["ids"])
        return f"memory-{uuid.uuid4().hex[:12]}", count
    records = chunk_records(chunks)
    name = f"bm25-{uuid.uuid4().hex[:12]}"
    bm25_over(records).save(str(location.index_dir / name))
    write_json(location.index_dir / name / RECORDS, records)
    return name, len(records)


def bm25_readable(where: Path | Location, manifest: dict[str, Any]) -> bool:
    location = locate(where)
    if location.remote:
        return True  # rebuilt by every reader
    try:
        load_bm25(location.index_dir / manifest["bm25"])
        return True
    except DAMAGE:
        return False
