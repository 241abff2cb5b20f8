"""Where an index lives, and its manifest (the commit point of index runs).

An index lives in one of two places (:class:`Location`):

* **local** (default): everything in ``index/``, Chroma embedded, the
  manifest in ``index/manifest.json`` (replaced atomically);
* **a Chroma server** (``ASSISTANT_CHROMA_URL``, started with ``chroma run``):
  passages, sentence vectors and the manifest live in the server, where
  several app processes share them. BM25 is not stored: every process that
  opens the index rebuilds it in memory from the server's passages, so it
  always agrees with the server. The manifest's ``index`` record, written
  last, is the commit point; its ``bm25`` token changes with every index run
  that changes anything, which is how a running app notices (:func:`stamp`).
  ``index/`` then only holds the lock of index runs started on this machine.

The manifest names the Chroma collections it commits: a rebuild writes a new
generation (``chunks-<id>``, ``sentences-<id>``) beside the old one and
switches to it only by committing, so a run killed half-way leaves the
previous index usable.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import chromadb
import httpx
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaAuthError, ChromaError, NotFoundError
from pydantic import SecretStr

from ..errors import IndexCorrupt, StoreUnavailable
from ..settings import Settings

MANIFEST = "manifest.json"
REMOTE_MANIFEST = "assistant_manifest"  # the manifest's collection on a Chroma server
# Our passage and sentence collections: the first index's, and later generations'.
GENERATION = re.compile(r"^(chunks|sentences)(-[0-9a-f]{8})?$")
FORMAT = 2


@dataclass(frozen=True)
class Location:
    """Where an index lives: ``index_dir`` alone, or a Chroma server (see module doc)."""

    index_dir: Path
    chroma_url: str | None = None
    chroma_token: SecretStr | None = None
    #: seconds any one call to the server may take (Chroma's own client waits forever)
    timeout: float = 10.0

    @classmethod
    def of(cls, settings: Settings) -> Location:
        return cls(
            settings.index_dir, settings.chroma_url, settings.chroma_token, settings.chroma_timeout
        )

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
                client = chromadb.HttpClient(
                    host=url.hostname or "127.0.0.1",
                    port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https",
                    headers={"Authorization": f"Bearer {token}"} if token else None,
                    settings=settings,
                )
            except ValueError as exc:  # how HttpClient says "no server there"
                raise StoreUnavailable(self, str(exc)) from None
            _bound(client, self.timeout)
            return client


def _bound(client: chromadb.ClientAPI, seconds: float) -> None:
    """Give the client's HTTP session a timeout. Chroma's HttpClient makes its
    session with ``timeout=None`` and has no setting for it: a frozen server
    (SIGSTOP) held every request that touched it, and the threads serving them,
    for good. A call over the limit now fails as httpx.TimeoutException, which
    :func:`reaching` turns into StoreUnavailable."""
    session = getattr(getattr(client, "_server", None), "_session", None)
    if not isinstance(session, httpx.Client):
        raise RuntimeError("chromadb's HttpClient changed: no httpx session to bound")
    session.timeout = httpx.Timeout(seconds)


def locate(where: Path | Location) -> Location:
    """A Location for a folder (local) or the Location itself."""
    return where if isinstance(where, Location) else Location(Path(where))


def store_panic(exc: BaseException) -> bool:
    """Is ``exc`` a panic of Chroma's Rust core (pyo3's PanicException)? It
    derives from BaseException, so ``except Exception`` lets it through: random
    bytes in ``chroma.sqlite3`` made it a 500 and a traceback."""
    return type(exc).__name__ == "PanicException"


@contextmanager
def reaching(location: Location) -> Iterator[None]:
    """Turn a Chroma server that is down, refuses us or fails into
    :class:`StoreUnavailable`, and a panic of the embedded store (a damaged
    file) into :class:`IndexCorrupt`."""
    try:
        yield
    except httpx.HTTPError as exc:
        raise StoreUnavailable(location, f"{type(exc).__name__}: {exc}") from None
    except ChromaAuthError as exc:
        raise StoreUnavailable(location, f"refused: {exc}") from None
    except ChromaError as exc:
        if not location.remote or isinstance(exc, NotFoundError):
            raise  # local damage and missing collections are handled by the caller
        raise StoreUnavailable(location, f"{type(exc).__name__}: {exc}") from None
    except BaseException as exc:
        if not store_panic(exc):
            raise
        detail = (str(exc).splitlines() or ["?"])[0][:200]
        raise IndexCorrupt(location, f"the store failed: {detail}") from None


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
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
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


def stamp(location: Location, chroma: chromadb.ClientAPI | None = None) -> str:
    """What changes when an index run commits: the manifest file's time and
    size, or the server manifest's BM25 token ('' when there is none)."""
    if not location.remote:
        try:
            st = (location.index_dir / MANIFEST).stat()
        except OSError:  # gone or unreadable: reopening says which
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
