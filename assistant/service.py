"""The assistant as one LangChain (LCEL) chain: resolve → retrieve → answer.

``Assistant`` is what the edges (CLI, UI, HTTP) hold: it opens the index
once, validates questions, and returns :class:`~assistant.answer.Answer`
objects with per-stage timings. The retriever and the answerer are separate
runnables, so either can be swapped (an LLM answerer comes later).
"""

from __future__ import annotations

import re
import time
from typing import Any

import numpy as np
from langchain_core.runnables import Runnable, RunnableLambda

from .answer import compose
from .conversation import Query, resolve
from .embeddings import Embedder, make_embedder
from .errors import EmptyQuestion, QuestionTooLong
from .glossary import chinese_terms, expand
from .response import Answer
from .retrieval import HybridRetriever
from .settings import Settings
from .store import Index
from .text import detect_script, plain_question, to_simplified

_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,9}\b")


def validate(question: str, limit: int) -> str:
    """The question as searched (markup and control characters removed), or
    :class:`EmptyQuestion` / :class:`QuestionTooLong`."""
    if len((question or "").strip()) > limit:
        raise QuestionTooLong(len(question.strip()), limit)
    plain = plain_question(question or "")
    if not plain.strip("?？!！.。,，、 "):
        raise EmptyQuestion()
    return plain


def _match_words(text: str, script: str) -> str:
    """The words the answer must match: for English, the Chinese glossary terms
    and the acronyms (GMV, AI) that articles write as they are."""
    if script != "en":
        return text
    return " ".join(chinese_terms(text) + _ACRONYM.findall(text))


class Assistant:
    """Answers questions from the index built at ``settings.index_dir``."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings.embedder)
        self.reload()
        self.chain = self._build_chain()
        # Load jieba's dictionary, OpenCC and the model now, not in the first answer.
        self.chain.invoke({"query": resolve("微信", []), "timings": {}})

    def reload(self) -> None:
        """Open the index again (after an index run): new passages, new BM25."""
        index = Index(self.settings.index_dir, self.embedder)
        s = self.settings
        self.retriever = HybridRetriever(index=index, k=s.k, fetch_k=s.fetch_k, rrf_k=s.rrf_k)
        self.index = index

    def _build_chain(self) -> Runnable:
        def retrieve(state: dict[str, Any]) -> dict[str, Any]:
            started = time.perf_counter()
            passages = self.retriever.invoke(expand(state["query"].text))
            state["timings"]["retrieve"] = (time.perf_counter() - started) * 1000
            return {**state, "passages": passages}

        def answer(state: dict[str, Any]) -> Answer:
            started = time.perf_counter()
            query: Query = state["query"]
            script = detect_script(query.question)
            qvec = np.asarray(
                self.embedder.model.embed_query(to_simplified(expand(query.text))),
                dtype=np.float32,
            )
            result = compose(
                query.question,
                state["passages"],
                qvec,
                self.index.sentence_vectors,
                script,
                focus=_match_words(query.focus or query.question, script),
                context=_match_words(query.text, script) if query.focus else "",
                weight=self.index.idf,
                min_relevance=self.settings.min_relevance,
                max_uncovered=self.settings.max_uncovered,
                confident_relevance=self.settings.confident_relevance,
                max_chars=self.settings.answer_max_chars,
            )
            result.standalone = query.text
            state["timings"]["answer"] = (time.perf_counter() - started) * 1000
            return result

        return RunnableLambda(retrieve) | RunnableLambda(answer)

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        """Answer ``question``; ``history`` holds the earlier questions of a chat."""
        started = time.perf_counter()
        limit = self.settings.max_question_chars
        question = validate(question, limit)
        keep = self.settings.max_history_turns
        turns = [plain_question(h[:limit]) for h in (history or [])[-keep:]] if keep else []
        timings: dict[str, float] = {}
        result: Answer = self.chain.invoke({"query": resolve(question, turns), "timings": timings})
        result.timings_ms = {**timings, "total": (time.perf_counter() - started) * 1000}
        return result
