"""``make bench``: index build time, warm query latency and cold start on this machine.

Builds the index of ``corpus/`` from scratch in a temp dir (the checkout's
index/ is not touched), times a no-op re-sync, then asks the dev questions
``--rounds`` times after one warm-up round and prints p50/p95 per stage;
then the cold start of ``assistant ask`` (:mod:`.coldstart`; only that with
``--cold-only``). Figures, not assertions: these machines are noisy, so
compare alternatives within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from ..answer.chain import Assistant
from ..answer.citecheck import CitationChecker, SentenceStream
from ..evaluation import load_items, percentile
from ..ingest.corpus import load_corpus
from ..ingest.glossary import expand
from ..settings import Settings
from ..store.embeddings import make_embedder
from ..store.sync import sync
from .coldstart import cold_start, print_cold_start
from .loadcheck import load_check
from .scalebench import HEADER, run_scale

DEFAULT_QUESTIONS = Path(__file__).resolve().parents[3] / "shared/eval/dev_questions.jsonl"
FALLBACK_QUESTIONS = Path(__file__).resolve().parents[2] / "tests/data/dev_questions.jsonl"


def _citation_checks(assistant: Assistant, items: list) -> dict[str, float]:
    """What checking a model's answer costs: each answerable dev question's
    quoted answer, re-checked sentence by sentence as a model's would be
    (checker set-up over the 5 passages, then one check per sentence)."""
    per_answer = []
    sentences = 0
    for item in items:
        answer = assistant.ask(item.turns[-1], item.turns[:-1])
        if answer.refused:
            continue
        passages = assistant.retriever.invoke(expand(answer.standalone or answer.question))
        started = time.perf_counter()
        checker = CitationChecker(
            passages, assistant._embed, assistant.index.sentence_vectors, assistant.index.idf
        )
        stream = SentenceStream()
        pieces = stream.feed(answer.text) + stream.flush()
        for piece in pieces:
            checker.check(piece)
        per_answer.append((time.perf_counter() - started) * 1000)
        sentences += len(pieces)
    return {
        "answers": len(per_answer),
        "sentences": sentences,
        "p50": round(statistics.median(per_answer), 2),
        "p95": round(percentile(per_answer, 0.95), 2),
    }


def run(corpus: Path, questions: Path, rounds: int, concurrent_seconds: float) -> dict:
    """Measure and return the figures (also printed)."""
    settings = Settings(corpus_dir=corpus)
    started = time.perf_counter()
    embedder = make_embedder(settings.embedder)
    embedder.model.embed_query("加载")  # weights load lazily, at the first embedding
    load_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        load = load_corpus(corpus)
        started = time.perf_counter()
        built = sync(
            index_dir,
            load,
            embedder,
            chunk_size=settings.chunk_size,
            chunk_overlap=settings.chunk_overlap,
        )
        build_seconds = time.perf_counter() - started
        started = time.perf_counter()
        sync(
            index_dir,
            load_corpus(corpus),
            embedder,
            chunk_size=settings.chunk_size,
            chunk_overlap=settings.chunk_overlap,
        )
        noop_seconds = time.perf_counter() - started

        assistant = Assistant(settings.model_copy(update={"index_dir": index_dir}), embedder)
        items = load_items(questions)
        stages: dict[str, list[float]] = {"retrieve": [], "answer": [], "total": []}
        for round_number in range(rounds + 1):
            for item in items:
                embedder.model.clear()  # every question pays for its own embedding
                answer = assistant.ask(item.turns[-1], item.turns[:-1])
                if round_number:  # round 0 warms caches and lazy imports
                    for stage in stages:
                        stages[stage].append(answer.timings_ms[stage])
        checks = _citation_checks(assistant, items)
        concurrent = None
        if concurrent_seconds > 0:
            tmp_settings = settings.model_copy(
                update={"index_dir": index_dir, "data_dir": Path(tmp) / "data"}
            )
            concurrent = load_check(
                tmp_settings,
                [i.turns[-1] for i in items if len(i.turns) == 1],
                seconds=concurrent_seconds,
            )
    return {
        "citation_check_ms": checks,
        "load": concurrent,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "corpus": {"articles": len(load.articles), "chunks": built.total_chunks},
        "embedder_load_s": round(load_seconds, 3),
        "index_build_s": round(build_seconds, 3),
        "index_noop_sync_s": round(noop_seconds, 3),
        "queries": len(stages["total"]),
        "latency_ms": {
            stage: {
                "p50": round(statistics.median(v), 2),
                "p95": round(percentile(v, 0.95), 2),
                "max": round(max(v), 2),
            }
            for stage, v in stages.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument(
        "--questions",
        type=Path,
        default=DEFAULT_QUESTIONS if DEFAULT_QUESTIONS.exists() else FALLBACK_QUESTIONS,
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--load-seconds",
        type=float,
        default=30.0,
        help="50 concurrent clients against /api/ask for this long; 0 = skip",
    )
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    parser.add_argument(
        "--cold-runs",
        type=int,
        default=7,
        help="new processes per command for the cold-start figures; 0 = skip",
    )
    parser.add_argument(
        "--cold-only", action="store_true", help="measure the cold start only (about a minute)"
    )
    parser.add_argument(
        "--scales",
        default="1,100,1000",
        help="corpus sizes for the scale benchmark (comma-separated); '' = skip",
    )
    parser.add_argument(
        "--scale-json",
        type=Path,
        default=Path("bench-results/scale.json"),
        help="where the scale benchmark's figures are written",
    )
    args = parser.parse_args()
    if args.cold_only:
        cold = cold_start(args.corpus, max(args.cold_runs, 1))
        print_cold_start(cold)
        if args.json:
            args.json.write_text(json.dumps({"cold_start_ms": cold}, indent=2), encoding="utf-8")
        return
    result = run(args.corpus, args.questions, args.rounds, args.load_seconds)
    m = result["machine"]
    print(f"machine: {m['cpus']} CPUs, Python {m['python']}, {m['platform']}")
    print(f"corpus: {result['corpus']['articles']} article(s), {result['corpus']['chunks']} chunks")
    print(f"embedder load      {result['embedder_load_s'] * 1000:8.0f} ms")
    print(f"index build        {result['index_build_s'] * 1000:8.0f} ms (from scratch)")
    print(f"index re-sync      {result['index_noop_sync_s'] * 1000:8.0f} ms (unchanged corpus)")
    print(f"queries: {result['queries']} warm ({args.rounds} rounds of the question set)")
    for stage, figures in result["latency_ms"].items():
        print(
            f"  {stage:<9} p50 {figures['p50']:7.2f} ms   p95 {figures['p95']:7.2f} ms"
            f"   max {figures['max']:7.2f} ms"
        )
    checks = result["citation_check_ms"]
    print(
        f"citation check (a model's answer, {checks['answers']} answers, "
        f"{checks['sentences']} sentences): p50 {checks['p50']:.1f} ms, "
        f"p95 {checks['p95']:.1f} ms per answer"
    )
    if result["load"]:
        load = result["load"]
        print(
            f"load: {load['clients']} clients x {load['seconds']:.0f} s on /api/ask (loopback): "
            f"{load['requests']} requests, {load['errors']} errors, "
            f"{load['requests_per_s']} req/s, p50 {load['p50_ms']} ms, p95 {load['p95_ms']} ms"
        )
        for kind, count in load["error_kinds"].items():
            print(f"  error x{count}: {kind}")
    if args.cold_runs > 0:
        result["cold_start_ms"] = cold_start(args.corpus, args.cold_runs)
        print_cold_start(result["cold_start_ms"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    sizes = [int(n) for n in args.scales.split(",") if n.strip()]
    if sizes:
        source = args.corpus / "wechat-open-class-2025.md"
        print(f"scale: the real article among N-1 derived ones ({source.name})")
        print(HEADER)
        scaled = run_scale(source, load_items(args.questions), sizes)
        args.scale_json.parent.mkdir(parents=True, exist_ok=True)
        args.scale_json.write_text(
            json.dumps({"machine": result["machine"], "sizes": scaled}, indent=2),
            encoding="utf-8",
        )
        print(f"(written to {args.scale_json})")


if __name__ == "__main__":
    main()
