"""The index and its read side: Chroma (via langchain-chroma), BM25, manifest.

An index lives in one of two places (:class:`Location`):

* **local** (default): everything in ``index/``, Chroma embedded;
* **a Chroma server** (``ASSISTANT_CHROMA_URL``, started with ``chroma run``):
  passages, sentence vectors and the manifest live in the server, where
  several app processes share them. BM25 is not stored: every process that
  opens the index rebuilds it in memory from the server's passages, so it
  always agrees with the server. The manifest's ``index`` record, written
  last, is the commit point; its ``bm25`` token changes with every index run
  that changes anything, which is how a running app notices (``Index.stale``).
  ``index/`` then only holds the lock of index runs started on this machine.

Layout of a local ``index/``::

    manifest.json   embedder id and dimension, chunker version, the current
                    BM25 folder, and per article: sha256, title, chunk ids,
                    sentence ids, indexed_at. Written last, atomically: it is
                    the commit point of an index run.
    chroma/         persistent Chroma: collection ``chunks`` (one vector per
                    passage, of its simplified text) and ``sentences`` (one per
                    sentence, used to pick the sentences that answer)
    bm25-<id>/      bm25s matrices over jieba tokens of both simplified forms,
                    and ``records.json``, each passage's record, so that a BM25
                    hit needs no Chroma round trip
    .lock           held while an index run writes

Writing (incremental sync) is in ``indexing``; this module opens an index
and answers look-ups.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import bm25s
import chromadb
import httpx
import numpy as np
from chromadb.api.client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaAuthError, ChromaError, NotFoundError
from langchain_chroma import Chroma
from pydantic import SecretStr

from .chunking import sentence_id
from .embeddings import Embedder
from .errors import (
    AssistantError,
    EmbedderMismatch,
    IndexCorrupt,
    IndexNotBuilt,
    StoreUnavailable,
)
from .settings import Settings
from .text import search_tokens

# bm25s sets its own logger to DEBUG on import, which prints build chatter.
logging.getLogger("bm25s").setLevel(logging.WARNING)

MANIFEST = "manifest.json"
RECORDS = "records.json"
REMOTE_MANIFEST = "assistant_manifest"  # the manifest's collection on a Chroma server
# Our passage and sentence collections: the first index's, and later generations'.
GENERATION = re.compile(r"^(chunks|sentences)(-[0-9a-f]{8})?$")
FORMAT = 2
# What a damaged index raises when opened; anything else is a real bug.
DAMAGE = (OSError, ValueError, KeyError, TypeError, ChromaError)


@dataclass(frozen=True)
class Location:
    """Where an index lives: ``index_dir`` alone, or a Chroma server (see module doc)."""

    index_dir: Path
    chroma_url: str | None = None
    chroma_token: SecretStr | None = None

    @classmethod
    def of(cls, settings: Settings) -> Location:
        return cls(settings.index_dir, settings.chroma_url, settings.chroma_token)

    @property
    def remote(self) -> bool:
        return bool(self.chroma_url)

    def __str__(self) -> str:
        if not self.remote:
            return str(self.index_dir)
        url = urlsplit(self.chroma_url or "")  # never user:password@
        return f"{url.scheme}://{url.hostname}" + (f":{url.port}" if url.port else "")

    def client(self) -> chromadb.ClientAPI:
        """A Chroma client for this location (telemetry off: no network but the server)."""
        settings = ChromaSettings(anonymized_telemetry=False)
        if not self.remote:
            return chromadb.PersistentClient(path=str(self.index_dir / "chroma"), settings=settings)
        url = urlsplit(self.chroma_url or "")
        token = self.chroma_token.get_secret_value() if self.chroma_token else None
        with reaching(self):
            try:
                return chromadb.HttpClient(
                    host=url.hostname or "127.0.0.1",
                    port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https",
                    headers={"Authorization": f"Bearer {token}"} if token else None,
                    settings=settings,
                )
            except ValueError as exc:  # how HttpClient says "no server there"
                raise StoreUnavailable(self, str(exc)) from None


def locate(where: Path | Location) -> Location:
    """A Location for a folder (local) or the Location itself."""
    return where if isinstance(where, Location) else Location(Path(where))


@contextmanager
def reaching(location: Location) -> Iterator[None]:
    """Turn a Chroma server that is down, or refuses us, into :class:`StoreUnavailable`."""
    try:
        yield
    except httpx.HTTPError as exc:
        raise StoreUnavailable(location, f"{type(exc).__name__}: {exc}") from None
    except ChromaAuthError as exc:
        raise StoreUnavailable(location, f"refused: {exc}") from None


def client(index_dir: Path) -> chromadb.ClientAPI:
    """The persistent Chroma client of a local index folder."""
    return Location(index_dir).client()


def vectorstore(chroma: chromadb.ClientAPI, name: str, embedder: Embedder) -> Chroma:
    """A cosine-space collection behind LangChain's vector-store interface."""
    return Chroma(
        collection_name=name,
        embedding_function=embedder.model,
        client=chroma,
        collection_configuration={"hnsw": {"space": "cosine"}},
    )


def read_manifest(where: Path | Location) -> dict[str, Any] | None:
    """The manifest, or None when no index was built there; IndexCorrupt if damaged."""
    location = locate(where)
    try:
        data = _remote_manifest(location) if location.remote else _local_manifest(location)
        if data is None:
            return None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a format-{FORMAT} manifest")
        if not isinstance(data.get("documents"), dict) or not isinstance(data.get("bm25"), str):
            raise ValueError("no documents or bm25 entry")
        return data
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(location, f"manifest: {exc}") from exc


def _local_manifest(location: Location) -> Any:
    path = location.index_dir / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _remote_manifest(location: Location) -> Any:
    """The manifest kept in the server: an ``index`` record and one per article."""
    with reaching(location):
        try:
            collection = location.client().get_collection(REMOTE_MANIFEST)
        except NotFoundError:
            return None
        got = collection.get(include=["documents"])
    parts = dict(zip(got["ids"], got["documents"] or [], strict=True))
    if "index" not in parts:
        return None
    data = json.loads(parts["index"])
    data["documents"] = {
        key.removeprefix("doc:"): json.loads(text)
        for key, text in parts.items()
        if key.startswith("doc:")
    }
    return data


def collection_names(manifest: dict[str, Any]) -> dict[str, str]:
    """The Chroma collections a manifest commits (older manifests: the first names)."""
    return manifest.get("collections") or {"chunks": "chunks", "sentences": "sentences"}


def write_manifest(where: Path | Location, data: dict[str, Any]) -> None:
    """Commit an index run: the manifest, written so that readers see the old
    one or the new one (locally: an atomic file replace; on a server: the
    article records first, the ``index`` record last)."""
    location = locate(where)
    if not location.remote:
        write_json(location.index_dir / MANIFEST, data)
        return
    head = {k: v for k, v in data.items() if k != "documents"}
    articles = {f"doc:{k}": json.dumps(v, ensure_ascii=False) for k, v in data["documents"].items()}
    with reaching(location):
        chroma = location.client()
        collection = chroma.get_or_create_collection(REMOTE_MANIFEST, embedding_function=None)
        batch = chroma.get_max_batch_size()
        ids = list(articles)
        for start in range(0, len(ids), batch):
            part = ids[start : start + batch]
            collection.upsert(
                ids=part, documents=[articles[i] for i in part], embeddings=[[0.0]] * len(part)
            )
        stale = sorted(set(collection.get(include=[])["ids"]) - set(ids) - {"index"})
        for start in range(0, len(stale), batch):
            collection.delete(ids=stale[start : start + batch])
        collection.upsert(
            ids=["index"], documents=[json.dumps(head, ensure_ascii=False)], embeddings=[[0.0]]
        )


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically: readers see the old file or the new one, never half."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


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
        stamp = _stamp(location)  # before reading: a change in between only reloads again
        manifest = read_manifest(location)
        if manifest is None:
            raise IndexNotBuilt(location)
        if manifest.get("embedder") != embedder.id:
            raise EmbedderMismatch(location, manifest.get("embedder", "?"), embedder.id)
        self.location = location
        self.index_dir = location.index_dir
        self.embedder = embedder
        self.manifest = manifest
        self.stamp = stamp
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
        """The store's client, checked. Chroma keeps one embedded store per path and
        process; after the folder was replaced (a rebuild of a damaged store by
        another process) that one is stale, so it is dropped and opened again."""
        if self.location.remote:
            return self.location.client()
        try:
            chroma = self.location.client()
            chroma.get_collection(collection_names(self.manifest)["chunks"]).count()
            return chroma
        except ChromaError:
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
        """Count the passages in the store: a cheap check that it still answers."""
        with self._reading():
            return self._chroma.get_collection(collection_names(self.manifest)["chunks"]).count()

    def stale(self) -> bool:
        """Has an index run committed since this index was opened?"""
        return _stamp(self.location, self._chroma) != self.stamp

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


def _stamp(location: Location, chroma: chromadb.ClientAPI | None = None) -> str:
    """What changes when an index run commits: the manifest file's time and
    size, or the server manifest's BM25 token ('' when there is none)."""
    if not location.remote:
        try:
            st = (location.index_dir / MANIFEST).stat()
        except FileNotFoundError:
            return ""
        return f"{st.st_mtime_ns}:{st.st_size}"
    with reaching(location):
        try:
            collection = (chroma or location.client()).get_collection(REMOTE_MANIFEST)
        except NotFoundError:
            return ""
        got = collection.get(ids=["index"], include=["documents"])
    try:
        return str(json.loads(got["documents"][0]).get("bm25", "")) if got["ids"] else ""
    except (ValueError, IndexError, AttributeError):
        return ""
