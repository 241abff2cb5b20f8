"""The knowledge-base panel of the web chat: the articles, re-index, add an
upload, and remove or replace the article picked in the table.

Built inside ``webui.create_app``'s page; the behaviour is
:class:`~assistant.serve.handlers.ChatHandlers`'. Failures are reported in
the status line (and a toast) in the page's language, not raised: a raised
error would mark the table and upload box as failed. The article picked is
the client's word: the handlers check that it names an article in the
corpus folder, and a removal asks the person to confirm first.
"""

from __future__ import annotations

import html
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

from ..errors import AssistantError
from ..ingest.uploads import ALLOWED, discard_upload, received_upload
from .handlers import ChatHandlers
from .webformat import escape
from .webtext import TEXT, full_stop, lang_of

#: asks before a removal; an answer of no sends no article (nothing happens)
CONFIRM_JS = """(choice, picked) => {
  const ask = choice === "English"
    ? `Remove ${picked} from the knowledge base?` : `从知识库删除 ${picked}？`;
  return [choice, picked && confirm(ask) ? picked : ""];
}"""


class KnowledgeBase:
    """The panel's components; :meth:`relabel` gives their labels in a language."""

    def __init__(self, app: gr.Blocks, h: ChatHandlers, lang: gr.Radio) -> None:
        self.h = h
        t = TEXT["zh"]
        with gr.Accordion(t["kb"], open=False) as self.kb:
            self.table = gr.Dataframe(value=h.articles(), headers=t["headers"], interactive=False)
            self.picked_line = gr.Markdown(t["none_selected"])
            picked = gr.Textbox(visible=False)  # the id of the article picked in the table
            with gr.Row():
                self.reindex = gr.Button(t["reindex"])
                self.upload = gr.File(label=t["upload"], file_types=list(ALLOWED), type="filepath")
                self.add = gr.Button(t["add"], variant="primary")
            with gr.Row():
                self.replace = gr.Button(t["replace"], interactive=False)
                self.remove = gr.Button(t["remove"], variant="stop", interactive=False)
            status = gr.Markdown()
        self.components = [
            status,
            self.kb,
            self.table,
            self.picked_line,
            self.reindex,
            self.upload,
            self.add,
            self.replace,
            self.remove,
            picked,
        ]

        def failed(exc: AssistantError, key: str, choice: Any) -> str:
            reason = full_stop(exc.say(lang_of(choice)), lang_of(choice))
            gr.Warning(html.escape(reason, quote=False))
            return TEXT[lang_of(choice)][key].format(reason=escape(reason))

        # gr.Progress() as a default is how Gradio injects a progress bar.
        def do_reindex(choice: Any, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008
            try:
                message = h.reindex(progress, lang_of(choice))
            except AssistantError as exc:
                message = failed(exc, "failed", choice)
            return h.articles(), message

        def do_add(
            path: str | None,
            choice: Any,
            replacing: Any = "",
            progress: gr.Progress = gr.Progress(),  # noqa: B008
        ) -> tuple:
            doc = replacing if isinstance(replacing, str) and replacing else None
            try:
                upload = received_upload(path, app.upload_file_set, get_upload_folder())
                try:
                    message = h.add_article(
                        str(upload), progress=progress, lang=lang_of(choice), replacing=doc
                    )
                finally:
                    discard_upload(upload, app.upload_file_set, get_upload_folder())
            except AssistantError as exc:
                message = failed(exc, "not_replaced" if doc else "not_added", choice)
                if doc:  # the pick stays for another try
                    return h.articles(), message, None, *(gr.skip(),) * 4
            # the upload is cleared (never served back), the pick forgotten
            return h.articles(), message, None, *self._picked(None, choice)

        def do_replace(
            path: str | None,
            choice: Any,
            picked: Any,
            progress: gr.Progress = gr.Progress(),  # noqa: B008
        ) -> tuple:
            if not picked:  # the button is off until a pick; a script may still send none
                return gr.skip(), TEXT[lang_of(choice)]["none_selected"], *(gr.skip(),) * 5
            return do_add(path, choice, picked, progress)

        def do_remove(choice: Any, picked: Any, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008
            if not picked:  # the person said no (or nothing was picked)
                return (gr.skip(),) * 6
            try:
                message = h.remove_article(str(picked), progress, lang_of(choice))
            except AssistantError as exc:
                message = failed(exc, "failed", choice)
            return h.articles(), message, *self._picked(None, choice)

        def on_pick(choice: Any, event: gr.SelectData) -> tuple:
            row = event.row_value if isinstance(event.row_value, list) else []
            return self._picked(row[1] if len(row) > 1 else None, choice)

        private = {"api_visibility": "private"}
        pick_outputs = [picked, self.picked_line, self.replace, self.remove]
        self.table.select(on_pick, [lang], pick_outputs, **private)
        self.reindex.click(do_reindex, [lang], [self.table, status], **private)
        self.add.click(
            do_add, [self.upload, lang], [self.table, status, self.upload, *pick_outputs], **private
        )
        self.replace.click(
            do_replace,
            [self.upload, lang, picked],
            [self.table, status, self.upload, *pick_outputs],
            **private,
        )
        self.remove.click(
            do_remove, [lang, picked], [self.table, status, *pick_outputs], js=CONFIRM_JS, **private
        )
        app.load(h.articles, outputs=[self.table], **private)  # fresh per visit

    @staticmethod
    def _picked(doc_id: Any, choice: Any) -> tuple:
        """The picked article's id, its line, and the two buttons it enables."""
        t = TEXT[lang_of(choice)]
        line = t["selected"].format(name=escape(doc_id)) if doc_id else t["none_selected"]
        on = gr.update(interactive=bool(doc_id))
        return doc_id or "", line, on, on

    def relabel(self, choice: Any) -> list[Any]:
        """Updates for :attr:`components` in the language of ``choice`` (the
        pick is forgotten: its line is in the old language)."""
        t = TEXT[lang_of(choice)]
        picked, line, replace, remove = self._picked(None, choice)
        return [
            "",  # a status line in the old language goes
            gr.update(label=t["kb"]),
            # headers change only with a value (Gradio 6): the rows are sent again
            gr.Dataframe(value=self.h.articles(), headers=t["headers"]),
            line,
            gr.update(value=t["reindex"]),
            gr.update(label=t["upload"]),
            gr.update(value=t["add"]),
            gr.update(value=t["replace"], interactive=False),
            gr.update(value=t["remove"], interactive=False),
            picked,
        ]
