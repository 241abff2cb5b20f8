"""The web chat (Gradio): ask, read the cited answer, judge it, manage articles.

``create_app(settings)`` builds the app; ``ui.py`` launches it alone and
``assistant serve`` mounts it in the HTTP server. The handlers
live on :class:`ChatHandlers` so that tests call them directly. Domain
errors become ``gr.Error`` messages; passages and questions are rendered
escaped (``assistant.serve.webformat``), uploads are validated and never served
back.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

from ..answer.chain import Assistant
from ..answer.conversation import message_text, user_turns
from ..answer.response import Answer
from ..errors import AssistantError, EmptyQuestion
from ..ingest.uploads import UploadRejected, discard_upload, received_upload, save_upload
from ..settings import Settings
from ..store.location import Location, read_manifest
from .access import api_tokens, authorised
from .feedback import FeedbackLog
from .running import RunningAssistant
from .webformat import answer_body, answer_markup, escape, text_body

#: Longest answer text kept from a 👍/👎 on a message this server does not know.
MAX_FEEDBACK_CHARS = 1000
UPLOAD_SWEEP_S = 900  # uploads left in Gradio's folder (never added) live at most ~this long
EXAMPLES = [
    "微信小店的GMV增长了多少？",
    "How much did GMV grow?",
    "影片號推薦演算法看重哪些指標？",
    "视频号对新人创作者有什么扶持？",
]
TEXT = {
    "zh": {
        "title": "## 文章问答助手\n"
        "基于文章回答问题，每句话都注明出处。可以用简体、繁体或英文提问。",
        "placeholder": "输入问题，例如：微信小店的GMV增长了多少？",
        "empty": "**有什么想问的？** 点下面的例子，或在下方输入问题。",
        "kb": "知识库",
        "reindex": "重新索引",
        "upload": "上传文章（.md / .txt / .html）",
        "add": "添加并索引",
        "headers": ["标题", "文件", "段落数", "索引时间"],
        "reasons": ["答非所问", "引用不对", "信息过时", "说得不清楚"],
    },
    "en": {
        "title": "## Article assistant\nAnswers quoted from the articles, every sentence "
        "cited. Ask in simplified Chinese, traditional Chinese or English.",
        "placeholder": "Ask a question, e.g. How much did GMV grow?",
        "empty": "**What would you like to know?** Click an example or type below.",
        "kb": "Knowledge base",
        "reindex": "Re-index",
        "upload": "Upload an article (.md / .txt / .html)",
        "add": "Add and index",
        "headers": ["Title", "File", "Passages", "Indexed at"],
        "reasons": ["Doesn't answer it", "Wrong source", "Out of date", "Unclear"],
    },
}
#: The page's own styles. The quoted sentences (``<mark>``) read dark on
#: pale yellow in the light theme and light on dark amber in the dark one
#: (the browser's default mark, light text on bright yellow in the dark
#: theme, was unreadable); both well over WCAG AA's 4.5:1.
APP_CSS = """
mark { background: #fff3a3; color: #1f2937; }
.dark mark { background: #6b5a12; color: #fff8db; }
"""
#: what a 👎 may say, stored by key whichever language the page is in (the
#: chat's flag menu: Gradio's feedback options beyond Like and Dislike)
REASON_KEYS = ("off_topic", "wrong_source", "out_of_date", "unclear")
REASONS = {
    label: key for t in TEXT.values() for label, key in zip(t["reasons"], REASON_KEYS, strict=True)
}


def feedback_options(t: dict[str, Any]) -> tuple[str, ...]:
    """👍, 👎 and the reasons a 👎 may give, in the page's language."""
    return ("Like", "Dislike", *t["reasons"])


class ChatHandlers:
    """The app's behaviour, independent of the page: reply, feedback, knowledge base."""

    def __init__(self, running: RunningAssistant) -> None:
        self.running = running
        self.settings = running.settings
        self.feedback_log = FeedbackLog(self.settings.data_dir)
        self._answers: OrderedDict[str, dict[str, Any]] = OrderedDict()  # markup → answer
        self._tokens = api_tokens(self.settings)  # /reply wants one when /api does

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
        :data:`MAX_FEEDBACK_CHARS` of text with no question.
        """
        reason = REASONS.get(liked) if isinstance(liked, str) else None
        rating = "up" if liked is True else "down" if liked is False or reason else "cleared"
        text = message_text(message)
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
            [d["title"], doc_id, len(d["chunks"]), d.get("indexed_at", "")]
            for doc_id, d in docs.items()
        ]

    def reindex(self, progress: Any = None) -> str:
        """Sync the index with the corpus folder and reopen it; AssistantError if it fails."""

        def report(stage: str, done: int, total: int) -> None:
            if progress is not None:
                progress(done / max(total, 1), desc=f"{stage} {done}/{total}")

        result = self.running.reindex(report)
        skipped = "".join(f"\n- ⚠️ {escape(s)}" for s in result.skipped)
        return (
            f"索引完成 · Indexed: {result.chunks_written} 段写入 written, "
            f"{result.chunks_deleted} 段删除 deleted, 共 {result.total_chunks} 段 passages "
            f"({result.seconds:.1f} s).{skipped}"
        )

    def add_article(
        self, path: str | None, original_name: str | None = None, progress: Any = None
    ) -> str:
        """Validate an uploaded file, save it to the corpus folder and index it.

        Raises :class:`UploadRejected` (nothing written) or another AssistantError.
        """
        if not path:
            raise UploadRejected("请先选择文件 · Choose a .md, .txt or .html file first.")
        saved = save_upload(
            Path(path),
            original_name or Path(path).name,
            self.settings.corpus_dir,
            self.settings.max_upload_bytes,
            self.settings.max_upload_sentences,
        )
        verb = "已更新 · replaced" if saved.replaced else "已添加 · added"
        # file names and titles are the uploader's text: shown, never markup
        added = f"✅ {escape(saved.path.name)} {verb} ({escape(saved.article.title)})."
        return f"{added}\n\n" + self.reindex(progress)


def create_app(settings: Settings | None = None, handlers: ChatHandlers | None = None) -> gr.Blocks:
    """Build the Gradio app (not launched)."""
    settings = settings or Settings()
    h = handlers or ChatHandlers(RunningAssistant(settings))
    t = TEXT["zh"]
    # analytics off: no calls home from a help desk behind a closed network
    # Uploads never added are deleted after 15 minutes (checked every 5; all at restart).
    with gr.Blocks(
        title="文章问答助手 · Article assistant",
        analytics_enabled=False,
        delete_cache=(UPLOAD_SWEEP_S // 3, UPLOAD_SWEEP_S),
    ) as app:
        with gr.Row():
            title = gr.Markdown(t["title"])
            lang = gr.Radio(["中文", "English"], value="中文", show_label=False, scale=0)
        chatbot = gr.Chatbot(
            height=560,
            show_label=False,
            sanitize_html=True,
            feedback_options=feedback_options(t),
            examples=[{"text": q} for q in EXAMPLES],
            placeholder=t["empty"],
        )
        textbox = gr.Textbox(placeholder=t["placeholder"], show_label=False, submit_btn=True)

        def user_turn(message: str, history: list[dict[str, Any]]) -> tuple[str, list]:
            # the question is shown as the asker typed it: escaped, never live markup
            text = message if isinstance(message, str) else ""  # a script may send anything
            return "", [*history, {"role": "user", "content": escape(text)}]

        def bot_turn(history: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
            # The history comes from the client: only its text goes on (and back);
            # the chat never holds files, so a file message is never echoed.
            shown = [
                {"role": m.get("role"), "content": message_text(m.get("content"))}
                for m in history
                if m.get("role") in ("user", "assistant")
            ]
            plain = [{**m, "content": html.unescape(m["content"])} for m in shown]
            if not plain or plain[-1]["role"] != "user":
                return
            for partial in h.reply(plain[-1]["content"], plain[:-1]):
                yield [*shown, {"role": "assistant", "content": partial}]

        def pick_example(data: gr.SelectData) -> str:
            return data.value["text"]

        # an example asks at once, as if typed and sent
        chatbot.example_select(pick_example, None, [textbox], api_visibility="private").then(
            user_turn, [textbox, chatbot], [textbox, chatbot], api_visibility="private"
        ).then(bot_turn, [chatbot], [chatbot], api_visibility="private")
        textbox.submit(
            user_turn, [textbox, chatbot], [textbox, chatbot], queue=False, api_visibility="private"
        ).then(bot_turn, [chatbot], [chatbot], api_visibility="private")
        gr.api(h.ask_api, api_name="reply")

        def on_like(data: gr.LikeData) -> None:
            h.feedback(data.liked, data.value)  # the judged message, not the whole chat

        chatbot.like(on_like, inputs=None, outputs=None, api_visibility="private")
        outputs = [title, textbox, chatbot]
        if settings.kb_panel:
            with gr.Accordion(t["kb"], open=False) as kb:
                table = gr.Dataframe(value=h.articles(), headers=t["headers"], interactive=False)
                with gr.Row():
                    reindex = gr.Button(t["reindex"])
                    upload = gr.File(
                        label=t["upload"],
                        file_types=[".md", ".txt", ".html", ".htm"],
                        type="filepath",
                    )
                    add = gr.Button(t["add"], variant="primary")
                status = gr.Markdown()

            # Failures are reported in the status line (and a toast), not raised:
            # a raised error would mark the table and upload box as failed.
            # gr.Progress() as a default is how Gradio injects a progress bar.
            def do_reindex(progress: gr.Progress = gr.Progress()) -> tuple[Any, str]:  # noqa: B008
                try:
                    message = h.reindex(progress)
                except AssistantError as exc:
                    gr.Warning(html.escape(str(exc), quote=False))
                    message = f"⚠️ {escape(str(exc))}"
                return h.articles(), message

            def do_add(
                path: str | None,
                progress: gr.Progress = gr.Progress(),  # noqa: B008
            ) -> tuple[Any, str, None]:
                try:
                    upload = received_upload(path, app.upload_file_set, get_upload_folder())
                    try:
                        message = h.add_article(str(upload), progress=progress)
                    finally:
                        discard_upload(upload, app.upload_file_set, get_upload_folder())
                except AssistantError as exc:
                    gr.Warning(html.escape(str(exc), quote=False))
                    message = f"⚠️ 未添加 · Not added: {escape(str(exc))}"
                return h.articles(), message, None  # the upload is cleared, never served back

            reindex.click(do_reindex, outputs=[table, status], api_visibility="private")
            add.click(
                do_add, inputs=[upload], outputs=[table, status, upload], api_visibility="private"
            )
            outputs += [kb, reindex, upload, add, table]
            app.load(h.articles, outputs=[table], api_visibility="private")  # fresh per visit

        def switch(choice: str) -> list[Any]:
            t = TEXT["en" if choice == "English" else "zh"]
            updates = [
                gr.update(value=t["title"]),
                gr.update(placeholder=t["placeholder"]),
                gr.update(placeholder=t["empty"], feedback_options=feedback_options(t)),
            ]
            if settings.kb_panel:
                updates += [
                    gr.update(label=t["kb"]),
                    gr.update(value=t["reindex"]),
                    gr.update(label=t["upload"]),
                    gr.update(value=t["add"]),
                    gr.update(headers=t["headers"]),
                ]
            return updates

        # preprocess off: a value that is no choice (only a script sends one)
        # means 中文, instead of Gradio's error quoting the value's repr
        lang.change(
            switch, inputs=[lang], outputs=outputs, api_visibility="private", preprocess=False
        )
    # A capped queue: a client that floods it is refused (and rate-limited by
    # the server) instead of making everyone else wait behind its events.
    app.queue(
        max_size=settings.chat_queue_size,
        default_concurrency_limit=settings.answer_concurrency,
    )
    return app
