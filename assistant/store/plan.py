"""What an index run will change, worked out before anything is written.

:func:`plan_run` compares the articles just read with the manifest and with
the ids already in the store; :mod:`.sync` then writes the plan and commits
it. Keeping the comparison apart (data in, plan out) keeps the run's steps
short and lets the plan be read on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..ingest.chunking import Chunk, chunk_article, chunk_sentences, sentence_id
from ..ingest.corpus import CorpusLoad
from ..ingest.text import to_simplified


@dataclass
class SyncReport:
    """What one index run did."""

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


@dataclass
class Plan:
    """What a run will change, worked out before anything is written."""

    report: SyncReport
    docs: dict[str, dict[str, Any]]  # the new manifest's articles
    to_add: list[Chunk]
    to_refresh: list[Chunk]  # kept passages whose metadata changed
    stale: list[str]  # passage ids to delete
    new_sentences: list[tuple[str, str, None]]
    stale_sentences: list[str]
    now: str


def plan_run(
    load: CorpusLoad,
    manifest: dict[str, Any] | None,
    in_chroma: set[str],
    sentences_in_chroma: set[str],
    chunk_size: int,
    chunk_overlap: int,
) -> Plan:
    """Compare the articles with the manifest and with the passage and sentence
    ids already in the store: what to add, refresh and delete, and the new
    manifest's articles. Writes nothing."""
    old_docs: dict[str, dict[str, Any]] = manifest["documents"] if manifest else {}
    report = SyncReport(skipped=[str(s) for s in load.skipped])
    now = datetime.now(UTC).isoformat(timespec="seconds")

    new_docs: dict[str, dict[str, Any]] = {}
    to_add: list[Chunk] = []
    to_refresh: list[Chunk] = []
    sentence_texts: dict[str, str] = {}
    for article in load.articles:
        chunks = chunk_article(article, chunk_size, chunk_overlap)
        old = old_docs.get(article.doc_id)
        missing = [c for c in chunks if c.id not in in_chroma]
        to_add += missing
        moved = old is None or old["sha256"] != article.sha256
        if old is not None and moved:
            to_refresh += [c for c in chunks if c.id in in_chroma]
        for chunk in chunks:
            for s in chunk_sentences(chunk.text):
                sentence_texts.setdefault(sentence_id(s), to_simplified(s))
        changed = bool(missing) or moved or old["chunks"] != [c.id for c in chunks]
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
            "indexed_at": now if changed else old.get("indexed_at", now),
        }
    # An indexed article that cannot be read this time keeps its passages: lose nothing.
    for skipped in load.skipped:
        old = old_docs.get(skipped.doc_id)
        if old is not None:
            kept = [cid for cid in old["chunks"] if cid in in_chroma]
            new_docs[skipped.doc_id] = {**old, "chunks": kept}
            sentence_texts.update(dict.fromkeys(old["sentences"], ""))
    report.removed = sorted(set(old_docs) - set(new_docs))

    keep = {cid for doc in new_docs.values() for cid in doc["chunks"]}
    return Plan(
        report=report,
        docs=new_docs,
        to_add=to_add,
        to_refresh=to_refresh,
        stale=sorted(in_chroma - keep),
        new_sentences=[
            (sid, text, None)
            for sid, text in sentence_texts.items()
            if sid not in sentences_in_chroma and text
        ],
        stale_sentences=sorted(sentences_in_chroma - set(sentence_texts)),
        now=now,
    )
