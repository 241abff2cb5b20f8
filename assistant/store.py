"""The index on disk and its read side: Chroma (via langchain-chroma), BM25, manifest.

Layout of ``index/``::

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
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import bm25s
import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError
from langchain_chroma import Chroma

from .chunking import sentence_id
from .embeddings import Embedder
from .errors import AssistantError, EmbedderMismatch, IndexCorrupt, IndexNotBuilt
from .text import search_tokens

# bm25s sets its own logger to DEBUG on import, which prints build chatter.
logging.getLogger("bm25s").setLevel(logging.WARNING)

MANIFEST = "manifest.json"
RECORDS = "records.json"
FORMAT = 2
# What a damaged index raises when opened; anything else is a real bug.
DAMAGE = (OSError, ValueError, KeyError, TypeError, ChromaError)


def client(index_dir: Path) -> chromadb.ClientAPI:
    """The persistent Chroma client of an index folder (telemetry off: no network)."""
    return chromadb.PersistentClient(
        path=str(index_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )


def vectorstore(chroma: chromadb.ClientAPI, name: str, embedder: Embedder) -> Chroma:
    """A cosine-space collection behind LangChain's vector-store interface."""
    return Chroma(
        collection_name=name,
        embedding_function=embedder.model,
        client=chroma,
        collection_configuration={"hnsw": {"space": "cosine"}},
    )


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The manifest, or None when no index was built there; IndexCorrupt if damaged."""
    path = index_dir / MANIFEST
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a format-{FORMAT} manifest")
        if not isinstance(data.get("documents"), dict) or not isinstance(data.get("bm25"), str):
            raise ValueError("no documents or bm25 entry")
        return data
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(index_dir, f"manifest: {exc}") from exc


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
            chroma = client(index_dir)
            self.chunks = vectorstore(chroma, "chunks", embedder)
            self.sentences = vectorstore(chroma, "sentences", embedder)
            self.bm25, self.records = load_bm25(index_dir / manifest["bm25"])
        except PermissionError as exc:
            raise AssistantError(f"Cannot read the index at {index_dir}: {exc}") from exc
        except DAMAGE as exc:
            raise IndexCorrupt(index_dir, f"{type(exc).__name__}: {exc}") from exc
        doc_freq = np.diff(self.bm25.scores["indptr"])
        self._df = {
            t: int(doc_freq[i]) for t, i in self.bm25.vocab_dict.items() if i < len(doc_freq)
        }

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
        hits = self.chunks.similarity_search_with_score(query, k=k)
        return [({"id": d.id, **d.metadata}, 1.0 - dist) for d, dist in hits]

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
        got = self.sentences.get(ids=ids, include=["embeddings"])
        return {
            i: np.asarray(v, dtype=np.float32)
            for i, v in zip(got["ids"], got["embeddings"], strict=True)
        }


def build_bm25(index_dir: Path, chunks: Chroma) -> tuple[str, int]:
    """A new BM25 folder from Chroma's passages; returns its name and size."""
    got = chunks.get(include=["metadatas"])
    records = sorted(
        ({"id": i, **m} for i, m in zip(got["ids"], got["metadatas"], strict=True)),
        key=lambda r: (r["doc_id"], r["ordinal"]),
    )
    retriever = bm25s.BM25()
    # bm25s cannot index an empty corpus; an empty document keeps the format valid.
    retriever.index(
        [search_tokens(f"{r['section']}\n{r['text']}") for r in records] or [[""]],
        show_progress=False,
    )
    name = f"bm25-{uuid.uuid4().hex[:12]}"
    retriever.save(str(index_dir / name))
    write_json(index_dir / name / RECORDS, records)
    return name, len(records)


def bm25_readable(index_dir: Path, manifest: dict[str, Any]) -> bool:
    try:
        load_bm25(index_dir / manifest["bm25"])
        return True
    except DAMAGE:
        return False
