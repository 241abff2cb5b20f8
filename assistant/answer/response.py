"""What the assistant says: the answer, its numbered citations, and how both read.

``Answer.to_dict()`` is the JSON of ``assistant ask --json`` (and of the
HTTP API); ``Answer.render()`` is the plain-text form the terminal shows.
Fixed phrases come in the asker's script (``FRAMES``); quoted article text
is converted with ``text.to_script``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.documents import Document

from ..ingest.chunking import where
from ..ingest.text import Script, to_script
from .injection import looks_like_instruction

FRAMES: dict[Script, dict[str, str]] = {
    "zh-Hans": {
        "lead": "",
        "refusal": "抱歉，文章中没有找到这个问题的答案。以下是最接近的段落，仅供参考：",
        "refusal_empty": "抱歉，文章中没有找到这个问题的答案。",
        "sources": "来源",
        "further": "其他相关段落",
        "nearest": "最接近的段落（并非答案）",
        "hint": "文章中最接近的一句（不是直接答案）：",
        "whole": "展开全文段落",
        "llm_down": "（语言模型暂时不可用，以下为文章原文摘录。）",
        "llm_unchecked": "（语言模型的回答未能通过引用核查，以下为文章原文摘录。）",
        "removed": "（已删除 {n} 句无法由所引段落证实的内容。）",
        "llm_cut": "（语言模型的回答中断，以下仅为已核实的部分。）",
    },
    "zh-Hant": {
        "lead": "",
        "refusal": "抱歉，文章中沒有找到這個問題的答案。以下是最接近的段落，僅供參考：",
        "refusal_empty": "抱歉，文章中沒有找到這個問題的答案。",
        "sources": "來源",
        "further": "其他相關段落",
        "nearest": "最接近的段落（並非答案）",
        "hint": "文章中最接近的一句（不是直接答案）：",
        "whole": "展開全文段落",
        "llm_down": "（語言模型暫時無法使用，以下為文章原文摘錄。）",
        "llm_unchecked": "（語言模型的回答未能通過引用核查，以下為文章原文摘錄。）",
        "removed": "（已刪除 {n} 句無法由所引段落證實的內容。）",
        "llm_cut": "（語言模型的回答中斷，以下僅為已核實的部分。）",
    },
    "en": {
        "lead": "From the articles (quoted in Chinese):\n",
        "refusal": "I could not find the answer in the articles. The nearest passages are below.",
        "refusal_empty": "I could not find the answer in the articles.",
        "sources": "Sources",
        "further": "Related passages",
        "nearest": "Nearest passages (not an answer)",
        "hint": "The closest sentence in the articles (not a direct answer):",
        "whole": "Show the whole passage",
        "llm_down": "(The language model is unavailable; quoting the articles instead.)",
        "llm_unchecked": "(The model's answer failed the citation check; quoting the articles "
        "instead.)",
        "removed": "({n} sentence(s) removed: not supported by the cited passages.)",
        "llm_cut": "(The model's answer was cut off; only the checked part is shown.)",
    },
}


@dataclass
class Citation:
    """A numbered source: a passage, and the sentences of it the answer quotes."""

    n: int
    doc_id: str
    title: str
    section: str
    text: str
    score: float
    cited: bool = False
    quotes: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        """``title › section``: where in the corpus the passage sits."""
        return where(self.title, self.section)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "title": self.title,
            "section": self.section,
            "text": self.text,
            "score": round(self.score, 4),
            "cited": self.cited,
            "quotes": self.quotes,
        }


@dataclass
class Answer:
    """What the assistant says: ``text`` with [n] marks, and the citations."""

    question: str
    text: str
    refused: bool
    citations: list[Citation]
    script: Script
    standalone: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    # the answerability model's probability, threshold, features and their weights
    evidence: dict[str, Any] = field(default_factory=dict)
    mode: str = "extractive"  # or "llm": written by the language model, then checked
    checked: int = 0  # sentences of a model answer that were checked against passages
    unsupported: int = 0  # … and removed because their passages do not back them
    removed: list[dict[str, str]] = field(default_factory=list)  # {"text", "reason"}
    notice: str = ""  # shown above the answer: model unavailable, sentences removed
    model_error: str = ""  # why the model could not answer (no secrets)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "script": self.script,
            "standalone_question": self.standalone or self.question,
            "evidence": _rounded(self.evidence),
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "mode": self.mode,
            "checked": self.checked,
            "unsupported": self.unsupported,
            "removed": self.removed,
            "notice": self.notice,
            "model_error": self.model_error or None,
        }

    def render(self) -> str:
        """The notice, the answer, then its sources (plain text, for the terminal)."""
        head = [self.notice] if self.notice else []
        tail = ["", self.sources_text()] if self.citations else []  # chit-chat cites nothing
        return "\n".join([*head, self.text, *tail])

    def sources_text(self) -> str:
        """Cited passages in full, the others in one line each ('' when none)."""
        if not self.citations:
            return ""
        frame = FRAMES[self.script]
        lines = [f"{frame['nearest' if self.refused else 'sources']}:"]
        further = [c for c in self.citations if not c.cited and not self.refused]
        for c in self.citations:
            if c in further:
                continue
            lines.append(f"[{c.n}] {to_script(c.where, self.script)}")
            lines.append(f"    {to_script(c.text, self.script)}")
        if further:
            lines += ["", f"{frame['further']}:"]
            lines += [
                f"[{c.n}] {to_script(c.where, self.script)} — "  # a heading may end in 。
                f"{_clip(to_script(c.text, self.script), 50)}"
                for c in further
            ]
        return "\n".join(lines)


def _rounded(value: Any) -> Any:
    """``value`` with every float rounded to 4 places (nested dicts too)."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return round(value, 4) if isinstance(value, float) else value


def _clip(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def citation_from(n: int, doc: Document) -> Citation:
    """Citation number ``n`` for a retrieved passage."""
    meta = doc.metadata
    return Citation(
        n,
        meta.get("doc_id", ""),
        meta.get("title", ""),
        meta.get("section", ""),
        doc.page_content,
        float(meta.get("score", 0.0)),
    )


def nearest(passages: list[Document], n: int = 3) -> list[Citation]:
    """The citations a refusal shows: the first ``n`` passages, leaving out any
    that address a language model (an injected passage, phishing links and
    all, is never shown as "nearest")."""
    shown = [d for d in passages if not looks_like_instruction(d.page_content)][:n]
    return [citation_from(i + 1, d) for i, d in enumerate(shown)]


def refusal(
    question: str,
    passages: list[Document],
    script: Script,
    hint: tuple[Document, str] | None = None,
    **fields: Any,
) -> Answer:
    """The answer that says the passages do not answer, with the nearest ones.

    ``hint``: a passage and its sentence closest to the question, quoted
    under a line that says it is not a direct answer (the answer stays a
    refusal) — where the article touches the subject, the asker sees what
    it does say.
    """
    citations = nearest(passages)
    text = FRAMES[script]["refusal" if citations else "refusal_empty"]
    if hint is not None:
        doc, sentence = hint
        cite = next((c for c in citations if c.text == doc.page_content), None)
        if cite is not None:
            cite.cited, cite.quotes = True, [sentence]
            close = f"{FRAMES[script]['hint']}\n{to_script(sentence, script)}[{cite.n}]"
            text = f"{FRAMES[script]['refusal_empty']}\n{close}"
    return Answer(question, text, True, citations, script, **fields)


def cited_first(cited: Iterable[int], everything: Iterable[int]) -> list[int]:
    """``everything`` in the order citations show it: the cited ones in order
    of first use, then the rest.

    >>> cited_first([3, 1, 3], range(1, 5))
    [3, 1, 2, 4]
    """
    order = list(dict.fromkeys(cited))
    return order + [x for x in everything if x not in order]
