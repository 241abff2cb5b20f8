"""``make bench`` part 2: 50 concurrent clients for 30 s against ``POST /api/ask``.

The real server (``assistant serve``, its own process) runs on a free
loopback port over the index being benchmarked; clients are asyncio tasks sharing one
httpx connection pool, each asking the dev questions in turn until the time
is up. Loopback only; bounded in time. Prints requests/s, p50/p95 latency
and the error count (non-200 answers and exceptions).
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ..evaluation import percentile
from ..settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _clients(
    url: str, questions: list[str], clients: int, seconds: float
) -> tuple[list[float], Counter[str]]:
    latencies: list[float] = []
    errors: Counter[str] = Counter()  # what went wrong → how often
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:

        async def one(offset: int) -> None:
            i = offset
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    r = await http.post(url, json={"question": questions[i % len(questions)]})
                    if r.status_code != 200:
                        errors[f"HTTP {r.status_code}: {r.text[:120]}"] += 1
                except httpx.HTTPError as exc:
                    cause = exc.__cause__ or exc.__context__
                    errors[f"{type(exc).__name__}: {exc} ({cause!r})"[:200]] += 1
                latencies.append((time.perf_counter() - started) * 1000)
                i += 1

        await asyncio.gather(*(one(n) for n in range(clients)))
    return latencies, errors


@dataclass
class Served:
    """An ``assistant serve`` process started by :func:`served`."""

    url: str
    process: subprocess.Popen
    log: Any  # its stderr, a temp file

    def log_tail(self, chars: int = 3000) -> str:
        self.log.seek(0)
        return self.log.read()[-chars:]


@contextmanager
def served(settings: Settings, timeout: float = 120) -> Iterator[Served]:
    """``assistant serve`` in its own process on a free loopback port over
    ``settings``' index (no rate limit, no tokens), once its health is 200."""
    port = free_port()
    env = {
        **os.environ,
        "ASSISTANT_INDEX_DIR": str(settings.index_dir),
        "ASSISTANT_DATA_DIR": str(settings.data_dir),
        "ASSISTANT_RATE_LIMIT_PER_MINUTE": "0",
        "ASSISTANT_UI_PORT": str(port),
        "ASSISTANT_API_TOKENS": "",
    }
    command = [str(Path(sys.executable).with_name("assistant")), "serve"]
    log = tempfile.TemporaryFile("w+")  # a file, not a pipe nobody drains during the run
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log, text=True)
    server = Served(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{server.url}/api/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"assistant serve did not start: {server.log_tail(2000)}")
            time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def load_check(
    settings: Settings, questions: list[str], clients: int = 50, seconds: float = 30.0
) -> dict[str, Any]:
    """Run the load against ``assistant serve`` in its own process; return the figures."""
    with served(settings) as server:
        latencies, errors = asyncio.run(
            _clients(f"{server.url}/api/ask", questions, clients, seconds)
        )
        server_log = server.log_tail()
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "server_log": server_log,
        "requests_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else 0.0,
        "p95_ms": round(percentile(latencies, 0.95), 1),
    }
