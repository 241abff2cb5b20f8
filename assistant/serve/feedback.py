"""👍/👎 feedback on answers, kept in an append-only JSONL file.

One ``write`` per record, of one whole line, flushed and fsynced: a process
killed mid-way leaves every earlier line intact and at worst no new one.
Records hold the question, the answer text and its citations, so that a
reviewer can later see what was judged.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FILE_NAME = "feedback.jsonl"
RATINGS = ("up", "down", "cleared")


class FeedbackLog:
    """Appends feedback records to ``<data_dir>/feedback.jsonl``."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME
        self._lock = threading.Lock()

    def append(
        self,
        *,
        rating: str,
        question: str,
        answer: str,
        citations: list[dict[str, Any]] | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Store one judgement and return the record written.

        ``rating`` is ``up``, ``down`` or ``cleared`` (a 👍/👎 taken back);
        ``reason``, what a 👎 said was wrong (``off_topic``, …). The
        log keeps every click; an answer's current rating is the last record
        with its ``answer_id``.
        """
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {RATINGS}")
        record = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "answer_id": hashlib.sha256(f"{question}\n{answer}".encode()).hexdigest()[:16],
            "rating": rating,
            "question": question,
            "answer": answer,
            "citations": citations or [],
            **({"reason": reason} if reason else {}),
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
