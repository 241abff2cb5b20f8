"""``make bench`` part 4: how long a new ``assistant ask`` process takes, start to exit.

A help-desk script or a cron job runs ``assistant ask`` once per question, so
its cold start is what that user waits for. Each round runs, as fresh
subprocesses and in turn (so that noise from other work on the machine falls
on all three alike):

* ``python -c pass`` — the floor: the interpreter alone;
* ``assistant --help`` — the CLI without loading anything;
* ``assistant ask <question>`` — on an index built from the corpus in a temp dir
  (``assistant index``), with the disk cache (:mod:`assistant.ingest.diskcache`)
  as the user has it.

Once more, ``assistant ask`` with an empty cache folder (``XDG_CACHE_HOME`` set
to a new temp dir): what the first question after installing costs. Medians
and min-max, not assertions: these machines are noisy.

>>> spread([3.0, 1.0, 2.0])
{'median': 2000.0, 'min': 1000.0, 'max': 3000.0}
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUESTION = "微信小店的GMV增长了多少？"


def assistant_command() -> list[str]:
    """The installed ``assistant`` script beside this Python, else the same entry point."""
    script = Path(sys.executable).with_name("assistant")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from assistant.cli import main; main()"]


def timed(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from start to exit of one subprocess; RuntimeError if it fails."""
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, timeout=300)
    seconds = time.perf_counter() - started
    if done.returncode:
        error = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise RuntimeError(f"{' '.join(argv[:2])} failed: {error}")
    return seconds


def spread(seconds: list[float]) -> dict[str, float]:
    """Median, min and max in milliseconds."""
    return {
        "median": round(statistics.median(seconds) * 1000, 1),
        "min": round(min(seconds) * 1000, 1),
        "max": round(max(seconds) * 1000, 1),
    }


def cold_start(corpus: Path, runs: int, question: str = QUESTION) -> dict:
    """The figures (milliseconds): ``runs`` rounds of the three commands, then
    one ``ask`` with an empty cache folder."""
    assistant = assistant_command()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "ASSISTANT_CORPUS_DIR": str(corpus.resolve()),
            "ASSISTANT_INDEX_DIR": str(Path(tmp) / "index"),
        }
        timed([*assistant, "index"], env)
        ask = [*assistant, "ask", question]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "assistant --help": [*assistant, "--help"],
            "assistant ask": ask,
        }
        timed(ask, env)  # fills the cache if this machine's is empty (not counted)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, argv in commands.items():
                times[name].append(timed(argv, env))
        empty = timed(ask, {**env, "XDG_CACHE_HOME": str(Path(tmp) / "cache")})
    return {
        "runs": runs,
        "question": question,
        **{name: spread(values) for name, values in times.items()},
        "assistant ask, empty cache": round(empty * 1000, 1),
    }


def print_cold_start(figures: dict) -> None:
    """The figures as ``make bench`` prints them."""
    print(f"cold start: median of {figures['runs']} new processes (min-max)")
    for name in ("python -c pass", "assistant --help", "assistant ask"):
        f = figures[name]
        print(f"  {name:<26} {f['median']:6.0f} ms   ({f['min']:.0f}-{f['max']:.0f})")
    empty = "assistant ask, empty cache"
    print(f"  {empty:<26} {figures[empty]:6.0f} ms   (once: the first question after installing)")
