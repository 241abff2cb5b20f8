"""``make bench`` part 3: how the index scales to 1, 100 and 1,000 articles.

For each N, a corpus of the real article hidden among N-1 derived ones
(:mod:`assistant.bench.scaler`) is indexed from scratch in a temp dir, and:

* build time, passages per second, size on disk;
* peak RSS of ``assistant serve`` opened on that index, after it answered
  the dev questions (``VmHWM`` of the server process);
* warm, single-client query latency p50/p95 of dense-only, BM25-only and
  hybrid retrieval over the dev questions;
* hit@5 of each: a top-5 passage *of the real article* holds a gold string.

Results go to a JSON file and a printed table. Figures, not assertions.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from ..answer.chain import Assistant
from ..evaluation import EvalItem, contains, percentile
from ..ingest.corpus import load_corpus
from ..ingest.glossary import expand
from ..ingest.text import search_tokens, to_simplified
from ..settings import Settings
from ..store.embeddings import make_embedder
from ..store.sync import sync
from .loadcheck import served
from .scaler import write_corpus


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def _server_peak_rss(settings: Settings, questions: list[str]) -> int:
    """Peak resident memory (bytes) of ``assistant serve`` on the index, after
    it answered ``questions``."""
    with served(settings, timeout=300) as server:
        for question in questions:
            httpx.post(f"{server.url}/api/ask", json={"question": question}, timeout=60)
        status = Path(f"/proc/{server.process.pid}/status").read_text()
        peak_kb = next(int(line.split()[1]) for line in status.splitlines() if "VmHWM" in line)
        return peak_kb * 1024


def _measure(assistant: Assistant, items: list[EvalItem], real: str, rounds: int) -> dict:
    """Latency and hit@5 of the three retrieval modes over the dev questions."""
    index, settings = assistant.index, assistant.settings
    modes = {
        "dense": lambda q: [r for r, _ in index.dense(to_simplified(expand(q)), settings.k)],
        "bm25": lambda q: [r for r, _ in index.lexical(search_tokens(expand(q)), settings.k)],
        "hybrid": lambda q: [
            {**d.metadata, "text": d.page_content} for d in assistant.retriever.invoke(expand(q))
        ],
    }
    answerable = [i for i in items if i.answerable and len(i.turns) == 1]
    out = {}
    for name, search in modes.items():
        times, hits = [], 0
        for round_number in range(rounds + 1):
            for item in answerable:
                assistant.embedder.model.clear()  # each question pays for its embedding
                started = time.perf_counter()
                found = search(item.turns[-1])
                elapsed = (time.perf_counter() - started) * 1000
                if round_number:  # round 0 warms up
                    times.append(elapsed)
                elif any(
                    r.get("doc_id") == real and any(contains(r["text"], g) for g in item.gold)
                    for r in found[:5]
                ):
                    hits += 1
        out[name] = {
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(percentile(times, 0.95), 2),
            "hit@5": round(hits / len(answerable), 3),
        }
    return out


def run_scale(
    source: Path, items: list[EvalItem], sizes: list[int], rounds: int = 3
) -> list[dict[str, Any]]:
    """The figures for each corpus size."""
    results = []
    embedder = make_embedder(Settings().embedder)
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            corpus, index_dir = Path(tmp) / "corpus", Path(tmp) / "index"
            real = write_corpus(source, corpus, n)
            settings = Settings(corpus_dir=corpus, index_dir=index_dir, data_dir=Path(tmp) / "d")
            load = load_corpus(corpus)
            started = time.perf_counter()
            built = sync(index_dir, load, embedder)
            build_s = time.perf_counter() - started
            assistant = Assistant(settings, embedder)
            figures = _measure(assistant, items, real.name, rounds)
            rss = _server_peak_rss(settings, [i.turns[-1] for i in items if len(i.turns) == 1])
            results.append(
                {
                    "articles": n,
                    "chunks": built.total_chunks,
                    "build_s": round(build_s, 1),
                    "chunks_per_s": round(built.total_chunks / build_s, 1),
                    "index_mb": round(_size(index_dir) / 2**20, 1),
                    "server_peak_rss_mb": round(rss / 2**20),
                    **{mode: f for mode, f in figures.items()},
                }
            )
            print(_row(results[-1]), flush=True)
    return results


HEADER = (
    "articles  chunks  build s  chunks/s  index MB  serve RSS MB | "
    "dense p50/p95 ms hit@5 | bm25 p50/p95 ms hit@5 | hybrid p50/p95 ms hit@5"
)


def _row(r: dict[str, Any]) -> str:
    modes = " | ".join(
        f"{r[m]['p50_ms']:6.1f} /{r[m]['p95_ms']:6.1f}  {r[m]['hit@5']:.2f}"
        for m in ("dense", "bm25", "hybrid")
    )
    return (
        f"{r['articles']:8d} {r['chunks']:7d} {r['build_s']:8.1f} {r['chunks_per_s']:9.1f} "
        f"{r['index_mb']:9.1f} {r['server_peak_rss_mb']:13d} | {modes}"
    )
