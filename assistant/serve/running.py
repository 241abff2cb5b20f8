"""The one assistant a server process answers with.

The chat and the APIs both ask it for the :class:`~assistant.answer.chain.Assistant`.
It starts the assistant, and when that fails (no index yet, the index server
down) keeps the reason for the page and the API to show and tries again, at
most every :data:`RETRY_S` seconds, so that the process recovers by itself.
Index runs started from the chat go through it too, one at a time, and
reopen the index when they commit.
"""

from __future__ import annotations

import threading
import time

from ..answer.chain import Assistant
from ..errors import AssistantError
from ..settings import Settings
from ..store.embeddings import Embedder, make_embedder
from ..store.sync import Progress, SyncReport, index_corpus

RETRY_S = 2.0  # how often an assistant that could not start is tried again


class RunningAssistant:
    """Owns the process's assistant: ``ready()`` gives it (or None, with
    ``startup_error`` saying why), ``reindex()`` syncs the corpus into it."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None) -> None:
        self.settings = settings
        self.assistant = assistant
        self.startup_error = ""
        self._embedder: Embedder | None = assistant.embedder if assistant else None
        self._lock = threading.Lock()  # one start or index run at a time
        self._tried = 0.0
        if assistant is None:
            self.ready()

    def ready(self) -> Assistant | None:
        """The assistant, or None when it could not start (see ``startup_error``)."""
        if self.assistant is not None or time.monotonic() - self._tried < RETRY_S:
            return self.assistant
        with self._lock:
            if self.assistant is None:
                self._tried = time.monotonic()
                try:
                    self._start()
                except AssistantError as exc:  # the page still opens, with the reason
                    self.startup_error = str(exc)
        return self.assistant

    def reindex(self, progress: Progress | None = None) -> SyncReport:
        """Sync the index with the corpus folder, then open (or reopen) it;
        AssistantError if either fails."""
        with self._lock:
            report = index_corpus(self.settings, progress=progress)
            if self.assistant is None:
                self._start()
            else:
                self.assistant.reload()
        return report

    def _start(self) -> None:
        self._embedder = self._embedder or make_embedder(self.settings.embedder)
        self.assistant = Assistant(self.settings, self._embedder)
        self.startup_error = ""
