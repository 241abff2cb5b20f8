"""👍/👎 feedback on answers, kept in an append-only JSONL file.

One ``write`` per record, of one whole line, flushed and fsynced: a process
killed mid-way leaves every earlier line intact and at worst no new one.
Records hold the question, the answer text and its citations, so that a
reviewer can later see what was judged.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FILE_NAME = "feedback.jsonl"


class FeedbackLog:
    """Appends feedback records to ``<data_dir>/feedback.jsonl``."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME
        self._lock = threading.Lock()

    def append(
        self,
        *,
        liked: bool,
        question: str,
        answer: str,
        citations: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Store one judgement and return the record written."""
        record = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "rating": "up" if liked else "down",
            "question": question,
            "answer": answer,
            "citations": citations or [],
        }
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        return record

    def read(self) -> list[dict[str, Any]]:
        """Every complete record (a torn last line, if any, is skipped)."""
        if not self.path.exists():
            return []
        records = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records
