"""The assistant as one LangChain (LCEL) chain: resolve → retrieve → answer.

``Assistant`` is what the edges (CLI, UI, HTTP) hold: it opens the index
once, validates questions, normalises them (the question inside a paste,
typos, colloquial wording), answers what is not a search (greetings, thanks,
questions about the article: ``intents``, ``smalltalk``) without the chain,
and streams or returns
:class:`~assistant.answer.response.Answer` objects with per-stage timings. The
retriever and the answerer are separate runnables, so either can be swapped:

* **extractive** (default): follow-ups resolved by rule, the answer quoted
  from the passages (:mod:`assistant.answer.extractive`);
* **llm** (``ASSISTANT_LLM_BASE_URL`` set): follow-ups condensed by the model,
  the answer written by it and checked sentence by sentence
  (:mod:`assistant.answer.generate`). Whatever goes wrong with the model — down,
  slow, 5xx, unreadable, nothing backed — the extractive answer is given
  instead, with a notice, within ``llm_timeout`` seconds.

The model's modules (``llm``, ``generate``: LangChain prompts, Jinja) are
imported in llm mode only, so a cold ``assistant ask`` does not load them.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.runnables import Runnable, RunnableGenerator, RunnableLambda

from ..errors import AssistantError, EmptyQuestion, InvalidQuestion, QuestionTooLong
from ..ingest.chunking import sentence_id
from ..ingest.colloquial import standardise
from ..ingest.glossary import chinese_terms, expand, unknown_names
from ..ingest.text import (
    Script,
    detect_script,
    general_surprisal,
    lexicon_names,
    plain_question,
    search_tokens,
    to_simplified,
)
from ..settings import Settings
from ..store.embeddings import Embedder, make_embedder
from ..store.index import Index
from ..store.location import Location
from .aliases import Aliases
from .citecheck import CitationChecker
from .conversation import Query, pasted, resolve
from .extractive import compose
from .intents import IntentClassifier
from .matching import is_content_word
from .policy import AnswerPolicy
from .response import FRAMES, Answer
from .retrieval import HybridRetriever
from .smalltalk import ArticleCard, about_article, article_cards, chit_chat
from .spelling import Speller

log = logging.getLogger(__name__)

#: how often a running assistant looks for a newer index (a file stat, or one
#: small request to the Chroma server)
INDEX_CHECK_S = 2.0

#: headings embedded at question time, kept (cleared when this many)
_EXTRA_VECTORS = 4096
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,9}\b")


@dataclass(frozen=True)
class Turn:
    """One question on its way through the chain. Each step takes a Turn and
    returns a new one with its part filled in (``query``, ``passages``) and
    its time added to ``timings`` (milliseconds by stage)."""

    question: str
    history: list[str]
    deadline: float  # time.monotonic() by which a model must have answered
    query: Query | None = None
    passages: list[Document] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def timed(self, stage: str, started: float, **parts: Any) -> Turn:
        """This turn with ``parts`` set and ``stage`` timed from ``started``."""
        spent = (time.perf_counter() - started) * 1000
        return replace(self, **parts, timings={**self.timings, stage: spent})


def validate(question: str, limit: int) -> str:
    """The question as searched (markup and control characters removed), or
    :class:`EmptyQuestion` / :class:`QuestionTooLong` (InvalidQuestion if it is not text)."""
    if question is not None and not isinstance(question, str):
        raise InvalidQuestion("The question must be text.")
    if len((question or "").strip()) > limit:
        raise QuestionTooLong(len(question.strip()), limit)
    plain = plain_question(question or "")
    if not plain.strip("?？!！.。,，、 "):
        raise EmptyQuestion()
    return plain


def _match_words(text: str, script: str) -> str:
    """The words the answer must match: for English, the Chinese glossary terms,
    the acronyms (GMV, AI) that articles write as they are, and names the
    glossary does not know (Shopee), which an article in Chinese lacks."""
    if script != "en":
        return text
    return " ".join(chinese_terms(text) + _ACRONYM.findall(text) + unknown_names(text))


class Assistant:
    """Answers questions from the index built at ``settings.index_dir``."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        policy: AnswerPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy or AnswerPolicy.from_settings(settings)
        self._extra_vectors: dict[str, np.ndarray] = {}
        self.embedder = embedder or make_embedder(settings.embedder)
        self._checked = time.monotonic()
        self._reload_lock = threading.Lock()
        self.reload()
        self.intents = IntentClassifier(
            self.embedder.model.embed_documents, self.policy.intent_similarity
        )
        self.chain = self._build_chain()
        # Load jieba's dictionary, OpenCC and the model now, not in the first answer.
        warm = Turn("微信", [], 0.0, query=resolve("微信", []))
        self._extract(replace(warm, passages=self._passages_for("微信")))

    @property
    def mode(self) -> str:
        """'llm' when a model writes the answers, else 'extractive'."""
        return "llm" if self.settings.uses_llm else "extractive"

    def reload(self) -> None:
        """Open the index again (after an index run): new passages, new BM25.
        The old one keeps serving until the new one is ready."""
        index = Index(Location.of(self.settings), self.embedder)
        s = self.settings
        retriever = HybridRetriever(
            index=index, k=s.k, fetch_k=s.fetch_k, rrf_k=s.rrf_k, bm25_weight=s.bm25_weight
        )
        cards = article_cards(index.documents, index.records)
        aliases = Aliases(
            index.vocabulary, self.embedder.model.embed_documents, self.policy.alias_similarity
        )
        # swapped together: a question in flight sees one index and its words
        self.index, self.retriever, self.speller = (
            index,
            retriever,
            Speller(index.vocabulary, lexicon_names(), self.policy.topic_surprisal),
        )
        self.cards, self.aliases = cards, aliases

    # -- the chain's steps -------------------------------------------------

    def _resolve(self, turn: Turn) -> Turn:
        """The standalone question: condensed by the model, else by rule."""
        query = resolve(turn.question, turn.history)
        if not (self.settings.uses_llm and turn.history):
            return replace(turn, query=query)
        from .llm import condensed

        started = time.perf_counter()
        text = condensed(turn.question, turn.history, turn.deadline, self.settings)
        return turn.timed("condense", started, query=Query(turn.question, text) if text else query)

    def _passages_for(self, text: str) -> list[Document]:
        return self.retriever.invoke(expand(text))

    def _retrieve(self, turn: Turn) -> Turn:
        started = time.perf_counter()
        assert turn.query is not None  # resolved first
        return turn.timed("retrieve", started, passages=self._passages_for(turn.query.text))

    def _sentence_vectors(self, sentences: list[str]) -> dict[str, np.ndarray]:
        """Stored sentence vectors; a sentence the index has none for (a heading)
        is embedded here, once (its simplified form, as the index does)."""
        vectors = self.index.sentence_vectors(sentences)
        missing = [s for s in dict.fromkeys(sentences) if sentence_id(s) not in vectors]
        for s in missing:
            key = sentence_id(s)
            if key not in self._extra_vectors:
                if len(self._extra_vectors) >= _EXTRA_VECTORS:
                    self._extra_vectors.clear()
                self._extra_vectors[key] = self._embed(to_simplified(s))
            vectors[key] = self._extra_vectors[key]
        return vectors

    def _embed(self, text: str) -> np.ndarray:
        return np.asarray(self.embedder.model.embed_query(text), dtype=np.float32)

    def _extract(self, turn: Turn) -> Answer:
        """The extractive answer (the default, and the model's safety net)."""
        started = time.perf_counter()
        query = turn.query
        assert query is not None  # resolved first
        script = detect_script(query.question)
        result = compose(
            query.question,
            turn.passages,
            self._embed(to_simplified(expand(query.text))),
            self._sentence_vectors,
            script,
            focus=_match_words(query.focus or query.question, script),
            context=_match_words(query.text, script) if query.focus else "",
            weight=self.index.idf,
            aliases=self.aliases.replace,
            embed=lambda part: self._embed(to_simplified(expand(part))),
            policy=self.policy,
        )
        result.standalone = query.text
        result.timings_ms = turn.timed("answer", started).timings
        return result

    def _generate(self, turns: Iterator[Turn]) -> Iterator[str | Answer]:
        """The model's checked answer, streamed; the extractive one if it fails."""
        from .generate import NothingSupported, generated_answer
        from .llm import LLMUnavailable

        for turn in turns:
            query = turn.query
            assert query is not None  # resolved first
            script = detect_script(query.question)
            checker = CitationChecker(
                turn.passages, self._embed, self.index.sentence_vectors, self.index.idf
            )
            try:
                for event in generated_answer(
                    query.question if query.focus else query.text,
                    script,
                    turn.passages,
                    answerer=self.answerer,
                    checker=checker,
                    deadline=turn.deadline,
                    settings=self.settings,
                ):
                    if isinstance(event, Answer):
                        event.standalone = query.text
                        event.timings_ms = {**turn.timings, **event.timings_ms}
                    yield event
            except LLMUnavailable as exc:
                log.warning("answering without the model: %s", exc)
                yield self._fallback(turn, script, str(exc))
            except NothingSupported as exc:
                fallback = self._extract(turn)
                fallback.notice = FRAMES[script]["llm_unchecked"]
                fallback.checked, fallback.unsupported = exc.checked, len(exc.removed)
                fallback.removed = exc.removed
                yield fallback
            except AssistantError:
                raise
            except Exception:  # a defect of ours: logged in full, the user gets the quote
                log.exception("the model's answer failed; answering without it")
                yield self._fallback(turn, script, "internal error")

    def _fallback(self, turn: Turn, script: Script, error: str) -> Answer:
        answer = self._extract(turn)
        answer.notice, answer.model_error = FRAMES[script]["llm_down"], error
        return answer

    def _build_chain(self) -> Runnable:
        steps = RunnableLambda(self._resolve) | RunnableLambda(self._retrieve)
        if not self.settings.uses_llm:
            return steps | RunnableLambda(self._extract)
        from .llm import answer_chain

        # the answerer: prompt | ChatOpenAI | text, built per call over its own HTTP client
        self.answerer = answer_chain
        return steps | RunnableGenerator(self._generate)

    # -- what the edges call ----------------------------------------------

    def stream(self, question: str, history: list[str] | None = None) -> Iterator[str | Answer]:
        """The answer to ``question`` as it is made: text (model sentences that
        passed the check) and, last, the :class:`Answer`. ``history`` holds the
        earlier questions of a chat. A bad question raises InvalidQuestion here,
        before any output."""
        started = time.perf_counter()
        limit = self.settings.max_question_chars
        question = validate(question, limit)
        self.follow_index()
        keep = self.settings.max_history_turns
        turns = [plain_question(h[:limit]) for h in (history or [])[-keep:]] if keep else []
        question, context = pasted(question)  # a pasted message: its question, in context
        question = self.speller.correct(question)  # 视屏号 → 视频号: words the corpus uses
        question = standardise(question)  # 卖得咋样 → GMV怎么样: written words
        turns = [standardise(self.speller.correct(t)) for t in turns]
        replied = self._not_a_search(question, turns)
        if replied is not None:
            replied.timings_ms = {"total": (time.perf_counter() - started) * 1000}
            return iter([replied])
        turn = Turn(question, turns + context, time.monotonic() + self.settings.llm_timeout)
        return self._events(turn, started)

    def _not_a_search(self, question: str, history: list[str]) -> Answer | None:
        """The reply to a greeting, thanks, "what can you do" or a question about
        the article itself (``intents``); None for a question to search for."""
        script = detect_script(question)
        tokens = search_tokens(question)
        # a word of the articles that is rare in general Chinese names a topic (小店,
        # 算法); 问题 or 资料 do not make "你能回答什么问题" a question to search for
        known = any(
            t in self.aliases.known
            and is_content_word(t)
            and general_surprisal(t) >= self.policy.topic_surprisal
            for t in tokens
        )
        match = self.intents.classify(self._embed(to_simplified(question)), known)
        if match is None:
            return None
        if match.intent != "about":
            return chit_chat(match, question, self.cards, script)
        card = self._card_for(question, history)
        return about_article(match, question, card, script) if card else None

    def _card_for(self, question: str, history: list[str]) -> ArticleCard | None:
        """The article "this article" means: the only one, or the one the
        conversation is about (the best passage for it)."""
        if len(self.cards) <= 1:
            return self.cards[0] if self.cards else None
        passages = self._passages_for(" ".join([*history[-1:], question]))
        doc_id = passages[0].metadata.get("doc_id") if passages else None
        return next((c for c in self.cards if c.doc_id == doc_id), self.cards[0])

    def _events(self, turn: Turn, started: float) -> Iterator[str | Answer]:
        for event in self.chain.stream(turn):
            if isinstance(event, Answer):  # the last event: its stages' times, and the total
                total = (time.perf_counter() - started) * 1000
                event.timings_ms = {**event.timings_ms, "total": total}
            yield event

    def follow_index(self, force: bool = False) -> None:
        """Reopen the index when an index run (this process's or another's)
        has committed since; checked at most every INDEX_CHECK_S seconds
        unless ``force``. StoreUnavailable when the index server is down."""
        now = time.monotonic()
        if not force and now - self._checked < INDEX_CHECK_S:
            return
        self._checked = now
        if self.index.stale():
            with self._reload_lock:  # one reload, however many requests noticed
                if self.index.stale():
                    log.info("the index changed; reopening it")
                    self.reload()

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        """Answer ``question``; ``history`` holds the earlier questions of a chat."""
        final = None
        for event in self.stream(question, history):
            if isinstance(event, Answer):
                final = event
        assert final is not None  # every chain ends with an Answer
        return final
