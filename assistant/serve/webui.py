"""The web chat (Gradio): ask, read the cited answer, judge it, keep chats,
manage articles.

``create_app(settings)`` builds the page and wires it to
:class:`~assistant.serve.handlers.ChatHandlers` (the behaviour, which tests
call directly); ``ui.py`` launches it alone and ``assistant serve`` mounts it
in the HTTP server, both with :data:`APP_CSS` and :data:`APP_JS`. Chats and
the language choice are kept in the browser (``BrowserState``), so a reload
loses neither. Passages and questions are rendered escaped, uploads are
validated and never served back.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import gradio as gr

from ..answer.conversation import message_text
from ..settings import Settings
from . import conversations
from .handlers import ChatHandlers
from .kbpanel import KnowledgeBase
from .running import RunningAssistant
from .webassets import APP_CSS, APP_JS
from .webformat import escape
from .webtext import EXAMPLES, LANGUAGES, TEXT, feedback_options, lang_of

__all__ = ["APP_CSS", "APP_JS", "ChatHandlers", "create_app"]

UPLOAD_SWEEP_S = 900  # uploads left in Gradio's folder (never added) live at most ~this long
#: BrowserState encrypts what it stores with a key that the page itself
#: carries, so the key hides nothing; a fixed one lets the chats a browser
#: keeps survive a restart of the server (a random key per start lost them).
BROWSER_KEY = "article-assistant"


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
        saved = gr.BrowserState([], storage_key="assistant-chats", secret=BROWSER_KEY)
        language = gr.BrowserState("中文", storage_key="assistant-language", secret=BROWSER_KEY)
        chat_id = gr.State(None)  # the chat on screen: its place in the saved list
        with gr.Sidebar(open=False, width=280):
            new_chat = gr.Button(t["new_chat"], variant="primary", size="md")
            chats = gr.Dataset(
                components=[gr.Textbox(visible=False)],
                samples=[],
                layout="table",
                type="index",
                label=t["chats"],
            )
        with gr.Row():
            title = gr.Markdown(t["title"])
            lang = gr.Radio(
                list(LANGUAGES), value="中文", label="语言 · Language", show_label=False, scale=0
            )
        chatbot = gr.Chatbot(
            height=560,
            show_label=False,
            sanitize_html=True,
            feedback_options=feedback_options(t),
            examples=[{"text": q} for q in EXAMPLES],
            placeholder=t["empty"],
            group_consecutive_messages=False,  # a notice is a bubble of its own
        )
        textbox = gr.Textbox(
            label=t["question"], placeholder=t["placeholder"], show_label=False, submit_btn=True
        )

        def user_turn(message: Any, history: list[dict[str, Any]], choice: Any) -> tuple:
            # a question the chat will not take is answered by a notice, in the
            # page's language; the text stays in the box and out of the history
            refusal = h.refusal(message, lang_of(choice))
            if refusal is not None:
                return gr.update(), [*history, {"role": "assistant", "content": refusal}]
            # the question is shown as the asker typed it: escaped, never live markup
            return "", [*history, {"role": "user", "content": escape(message)}]

        def bot_turn(history: list[dict[str, Any]], index: Any, kept: Any) -> Iterator[tuple]:
            # The history comes from the client: only its text goes on (and back);
            # the chat never holds files, so a file message is never echoed.
            # Once answered, the chat is saved in the browser's list: in this
            # same event, so that a question costs two requests of a client's
            # rate limit, not three.
            shown = [
                {"role": m.get("role"), "content": message_text(m.get("content"))}
                for m in history
                if isinstance(m, dict) and m.get("role") in ("user", "assistant")
            ]
            if not shown or shown[-1]["role"] != "user":
                yield gr.skip(), gr.skip(), gr.skip(), gr.skip()  # a notice: nothing to do
                return
            plain = [{**m, "content": html.unescape(m["content"])} for m in shown]
            chat = shown
            for partial in h.reply(plain[-1]["content"], plain[:-1]):
                chat = [*shown, {"role": "assistant", "content": partial}]
                yield chat, gr.skip(), gr.skip(), gr.skip()
            index, kept = conversations.save(index, chat, kept)
            yield gr.skip(), index, kept, listed(kept, index)

        def pick_example(data: gr.SelectData) -> str:
            return data.value["text"]

        chat_events = dict(api_visibility="private", queue=False)
        asked = [textbox, chatbot, lang]
        answered = dict(
            fn=bot_turn,
            inputs=[chatbot, chat_id, saved],
            outputs=[chatbot, chat_id, saved, chats],
            api_visibility="private",
        )
        # an example asks at once, as if typed and sent
        chatbot.example_select(pick_example, None, [textbox], api_visibility="private").then(
            user_turn, asked, [textbox, chatbot], **chat_events
        ).then(**answered)
        textbox.submit(user_turn, asked, [textbox, chatbot], **chat_events).then(**answered)
        gr.api(h.ask_api, api_name="reply")

        def on_like(data: gr.LikeData) -> None:
            h.feedback(data.liked, data.value)  # the judged message, not the whole chat

        chatbot.like(on_like, inputs=None, outputs=None, api_visibility="private")

        # the chats kept in this browser: opened, started anew, cleared
        def opened(index: Any, kept: Any) -> tuple:
            index, chat = conversations.opened(index, kept)
            return index, chat, listed(kept, index)

        def fresh(kept: Any) -> tuple:
            return None, [], listed(kept)  # not in the list until its first answer

        def cleared(index: Any, kept: Any) -> tuple:
            index, kept = conversations.delete(index, kept)
            return index, kept, listed(kept)

        chats.click(opened, [chats, saved], [chat_id, chatbot, chats], **chat_events)
        new_chat.click(fresh, [saved], [chat_id, chatbot, chats], **chat_events)
        chatbot.clear(cleared, [chat_id, saved], [chat_id, saved, chats], **chat_events)

        outputs = [title, textbox, chatbot, new_chat, chats]
        panel = KnowledgeBase(app, h, lang) if settings.kb_panel else None
        outputs += panel.components if panel else []

        def switch(choice: Any) -> list[Any]:
            t = TEXT[lang_of(choice)]
            updates = [
                gr.update(value=t["title"]),
                gr.update(label=t["question"], placeholder=t["placeholder"]),
                gr.update(placeholder=t["empty"], feedback_options=feedback_options(t)),
                gr.update(value=t["new_chat"]),
                gr.update(label=t["chats"]),
            ]
            return updates + (panel.relabel(choice) if panel else [])

        # preprocess off: a value that is no choice (only a script sends one)
        # means 中文, instead of Gradio's error quoting the value's repr
        lang.change(
            switch, inputs=[lang], outputs=outputs, api_visibility="private", preprocess=False
        )
        # the language chosen is kept in the browser
        lang.input(lambda choice: choice, [lang], [language], **chat_events)

        def visit(kept: Any, choice: Any) -> tuple:
            """A visit (or a reload): the chats kept, the newest reopened where
            it was, the language chosen last — in one request."""
            index, chat = conversations.opened(0, kept)
            restored = "English" if lang_of(choice) == "en" else "中文"
            return listed(kept, index), index, chat, restored

        app.load(visit, [saved, language], [chats, chat_id, chatbot, lang], **chat_events)
    # A capped queue: a client that floods it is refused (and rate-limited by
    # the server) instead of making everyone else wait behind its events.
    app.queue(
        max_size=settings.chat_queue_size,
        default_concurrency_limit=settings.answer_concurrency,
    )
    return app


def listed(kept: Any, current: int | None = None) -> Any:
    """The list of chats kept in the browser, by their first questions; the
    chat on screen in 【】 (a symbol such as ▸ renders tiny in the list)."""
    titles = [conversations.title(c) for c in conversations.saved_chats(kept)]
    return gr.Dataset(samples=[[f"【{t}】" if i == current else t] for i, t in enumerate(titles)])
