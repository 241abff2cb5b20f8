"""What the web chat does, apart from the page: answer, take feedback, manage articles.

:class:`ChatHandlers` holds the chat's behaviour so that tests call it
directly and ``webui.create_app`` only wires it to the page. Domain errors
become ``gr.Error`` messages or status lines in the page's language; questions
and passages are rendered escaped (``assistant.serve.webformat``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr

from ..answer.chain import Assistant, validate
from ..answer.conversation import message_text, user_turns
from ..answer.response import Answer
from ..errors import AssistantError, EmptyQuestion, InvalidQuestion
from ..ingest.articles import ArticleNotFound, remove_article, replace_article
from ..ingest.uploads import ALLOWED_TEXT, ALLOWED_TEXT_ZH, UploadRejected, save_upload
from ..store.location import Location, read_manifest
from .access import api_tokens, authorised
from .feedback import FeedbackLog
from .running import RunningAssistant
from .webformat import answer_body, answer_markup, escape, text_body
from .webtext import REASONS, TEXT, question_message

log = logging.getLogger(__name__)

#: Longest answer text kept from a 👍/👎 on a message this server does not know.
MAX_FEEDBACK_CHARS = 1000
#: the same judgement of the same message within this many seconds is one
REPEAT_S = 2.0
#: how a notice (a question the chat did not take) opens
NOTICE = "⚠️ "


def shown_time(iso: str) -> str:
    """An index time as a person reads it (the manifest keeps ISO 8601, UTC).

    >>> shown_time("2026-11-26T05:22:02+00:00"), shown_time("garbled")
    ('2026-11-26 05:22 UTC', 'garbled')
    """
    try:
        when = datetime.fromisoformat(iso).astimezone(UTC)
    except (TypeError, ValueError):
        return iso
    return when.strftime("%Y-%m-%d %H:%M UTC")


class ChatHandlers:
    """The app's behaviour, independent of the page: reply, feedback, knowledge base."""

    def __init__(self, running: RunningAssistant) -> None:
        self.running = running
        self.settings = running.settings
        self.feedback_log = FeedbackLog(self.settings.data_dir)
        self._answers: OrderedDict[str, dict[str, Any]] = OrderedDict()  # markup → answer
        self._tokens = api_tokens(self.settings)  # /reply wants one when /api does
        self._last_feedback: tuple[tuple[str, str], float] | None = None
        self._feedback_lock = threading.Lock()

    def refusal(self, message: Any, lang: str = "zh") -> str | None:
        """What the chat says instead of taking ``message`` — empty, over the
        length limit, not text — in the page's language, as the chat's markup
        (a notice: ⚠️ and escaped text); None to take it.
        The page shows it in the chat and keeps the text in the box; the
        question never enters the history. A user's mistake is one log line."""
        try:
            validate(message, self.settings.max_question_chars)
        except InvalidQuestion as exc:
            log.warning("chat: question not taken: %s", exc)
            return NOTICE + escape(question_message(exc, lang))
        return None

    def reply(self, message: str, history: list[dict[str, Any]]) -> Iterator[str]:
        """Stream the answer to ``message``: a model's checked sentences as they
        pass (or the quoted sentences one by one), then the answer with sources."""
        assistant = self._assistant()
        earlier = user_turns(history)
        streamed: list[str] = []
        answer: Answer | None = None
        try:
            for event in assistant.stream(message, earlier):
                if isinstance(event, Answer):
                    answer = event
                else:  # a piece of a model's checked answer, spacing included
                    streamed.append(event)
                    yield text_body("".join(streamed).strip())
        except EmptyQuestion as exc:
            yield str(exc)
            return
        except AssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
        assert answer is not None  # the stream always ends with the Answer
        if not streamed:  # extractive: show the quoted sentences one by one
            body = answer_body(answer).split("\n\n")
            for end in range(1, len(body) + 1):
                yield "\n\n".join(body[:end])
        markup = answer_markup(answer)
        self._remember(markup, answer.to_dict())
        yield markup

    def _assistant(self) -> Assistant:
        """The running assistant, or the reason it is not running, as the page's error."""
        assistant = self.running.ready()
        if assistant is None:
            raise gr.Error(self.running.startup_error, print_exception=False)
        return assistant

    def ask_api(self, message: str, request: gr.Request) -> str:
        """One question in, the answer as plain text out (the app's ``/reply``
        endpoint, for ``gradio_client``): the answer, then its numbered sources,
        as the CLI prints them — no markup or HTML entities, which a script
        would have to undo. With API tokens set it wants one, as ``/api`` does:
        it is the same service for scripts, not a way around the tokens."""
        if self._tokens and not authorised(request.headers.get("authorization"), self._tokens):
            raise gr.Error(
                "Missing or wrong API token: send Authorization: Bearer <token>.",
                print_exception=False,
            )
        assistant = self._assistant()
        try:
            events = list(assistant.stream(message, []))
        except EmptyQuestion as exc:
            return str(exc)
        except AssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
        answer = next(e for e in reversed(events) if isinstance(e, Answer))
        return answer.render()

    def _remember(self, markup: str, answer: dict[str, Any]) -> None:
        self._answers[markup] = answer
        while len(self._answers) > 500:
            self._answers.popitem(last=False)

    def feedback(self, liked: Any, message: Any) -> str:
        """Store 👍 (True), 👎 (False), a 👎 with its reason (one of the flag
        menu's ``TEXT[…]["reasons"]``, stored as its ``REASON_KEYS`` key) or the
        withdrawal ('' from Gradio) for the assistant ``message`` (its markup,
        as the page shows it).

        The record is built from what this server answered (question, answer,
        citations), never from what the client sends: a message it does not
        know (after a restart, or made up) is kept as at most
        :data:`MAX_FEEDBACK_CHARS` of text with no question. A notice (a
        question not taken) answers nothing and is not judged ("ignored"), and
        the very same event again (same choice, same message) within
        :data:`REPEAT_S` is one record: Gradio 6 sends a flag-menu reason twice
        per click.
        """
        reason = REASONS.get(liked) if isinstance(liked, str) else None
        rating = "up" if liked is True else "down" if liked is False or reason else "cleared"
        text = message_text(message)
        if text.startswith(NOTICE):
            return "ignored"
        with self._feedback_lock:
            now, key = time.monotonic(), (repr(liked), text)  # the very same event
            last = self._last_feedback
            self._last_feedback = (key, now)
            if last is not None and last[0] == key and now - last[1] < REPEAT_S:
                return rating
        known = self._answers.get(text)
        self.feedback_log.append(
            rating=rating,
            reason=reason,
            question=known["question"] if known else "",
            answer=known["answer"] if known else text[:MAX_FEEDBACK_CHARS],
            citations=known["citations"] if known else [],
        )
        return rating

    def articles(self) -> list[list[Any]]:
        """Rows for the knowledge-base table: title, file, passages, indexed at."""
        try:
            manifest = read_manifest(Location.of(self.settings))
        except AssistantError:
            return []
        docs = manifest["documents"] if manifest else {}
        return [
            [d["title"], doc_id, len(d["chunks"]), shown_time(d.get("indexed_at", ""))]
            for doc_id, d in docs.items()
        ]

    def reindex(self, progress: Any = None, lang: str = "zh") -> str:
        """Sync the index with the corpus folder and reopen it; the status line
        in the page's language. AssistantError if it fails."""

        def report(stage: str, done: int, total: int) -> None:
            if progress is not None:
                progress(done / max(total, 1), desc=f"{stage} {done}/{total}")

        result = self.running.reindex(report)
        t = TEXT[lang]
        done = t["indexed"].format(
            written=result.chunks_written,
            deleted=result.chunks_deleted,
            total=result.total_chunks,
            seconds=result.seconds,
        )
        skipped = "".join("\n- " + t["skipped"].format(reason=escape(s)) for s in result.skipped)
        return done + skipped

    def add_article(
        self,
        path: str | None,
        original_name: str | None = None,
        progress: Any = None,
        lang: str = "zh",
        replacing: str | None = None,
    ) -> str:
        """Validate an uploaded file, save it to the corpus folder — as a new
        article, or in the place of article ``replacing`` — and index it.

        Raises :class:`UploadRejected` or ArticleNotFound (nothing written),
        or another AssistantError.
        """
        if not path:
            raise UploadRejected(
                f"Choose a {ALLOWED_TEXT} file first.", zh=f"请先选择文件（{ALLOWED_TEXT_ZH}）。"
            )
        name = original_name or Path(path).name
        limits = (self.settings.max_upload_bytes, self.settings.max_upload_sentences)
        corpus = self.settings.corpus_dir
        if replacing:
            saved = replace_article(corpus, replacing, Path(path), name, *limits)
            key, old = "replaced_by", replacing
        else:
            saved = save_upload(Path(path), name, corpus, *limits)
            key, old = "added", ""
        # file names and titles are the uploader's text: shown, never markup
        done = TEXT[lang][key].format(
            name=escape(saved.path.resolve().relative_to(corpus.resolve()).as_posix()),
            title=escape(saved.article.title),
            old=escape(old),
        )
        return f"{done}\n\n" + self.reindex(progress, lang)

    def remove_article(self, doc_id: str | None, progress: Any = None, lang: str = "zh") -> str:
        """Delete article ``doc_id`` from the corpus folder and the index (the
        other articles are not re-embedded); ArticleNotFound if there is none."""
        if not doc_id:
            raise ArticleNotFound("")
        path = remove_article(self.settings.corpus_dir, doc_id)
        done = TEXT[lang]["removed"].format(name=escape(doc_id))
        log.info("removed %s from the corpus folder", path)
        return f"{done}\n\n" + self.reindex(progress, lang)
