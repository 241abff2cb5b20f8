"""The extractive answer: the sentences that answer the question, each cited.

No language model runs here (none usable offline on these machines), so the
answer is made only of sentences quoted from the retrieved passages; nothing
is invented. How a sentence is chosen:

* **score** = semantic similarity of sentence and question (stored sentence
  vectors, cosine) blended with the IDF-weighted share of the question's
  words found in the sentence (or, for half, its section heading; see
  ``matching``), plus a bonus for a figure when the question asks "how
  much", times a small prior for the passage's retrieval rank;
* the best sentence leads; near-ties follow while they fit ``max_chars``
  (twice that for "which/哪些" questions); for a "how much" question a
  figure from another passage that matches as well is kept too, so that
  both periods show (1.92倍 for the year, >200% for December);
* the sentences going on from the best one (其中…, 在此基础上…, after a
  semicolon) join it when one has a subject of the question as its subject
  (``subjects``): "小程序负责什么" is answered by "小程序面向公域…", which
  follows the sentence naming the model it belongs to; for "除了X，还有…"
  the sentence after the best one joins when it opens with 此外 (besides);
* a sentence brings its neighbours when it needs them: the one before when
  only that one says the year, the one after when it is very short or gives
  the reason a "why" question asks for;
* a passage that addresses a language model (a prompt injection:
  ``injection.looks_like_instruction``) is never quoted;
* **refusal**: when the answerability model (``answerability``, a logistic
  regression fitted and cross-validated on labelled questions) puts the
  probability that the passages answer under its threshold. The answer then
  says so plainly and lists the nearest passages; ``evidence`` holds the
  probability and what drove it.

Every number used here lives in ``policy.AnswerPolicy``.

Quotes are shown in the asker's script (``text.to_script``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from langchain_core.documents import Document

from ..ingest.chunking import chunk_sentences, heading_text, sentence_id
from ..ingest.text import Script, han_count, lower_forms, to_script, to_simplified
from .answerability import FIGURE, decide, features, question_types
from .citecheck import numbers
from .injection import looks_like_instruction
from .matching import (
    Weight,
    corpus_pairs,
    coverage,
    is_content_word,
    length_weight,
    lexical,
    salient_tokens,
    text_forms,
    unbound,
)
from .ordinals import numbered, ordinals
from .policy import AnswerPolicy, Scoring, Selection
from .response import FRAMES, Answer, citation_from, cited_first, refusal
from .subjects import is_subject_of, question_subjects

_QUANTITY = re.compile(
    r"多少|几|多大|比例|占比|增长|涨|降|倍|率|how (much|many)|ratio|percent|grow", re.IGNORECASE
)
_LIST = re.compile(r"哪些|哪几|有什么|列出|列举|which|what are|list", re.IGNORECASE)
_PERIOD = re.compile(r"\d{4}年|\d{1,2}月|同期|去年|今年|上半年|下半年|季度")
_DIGIT = re.compile(r"\d")
# where one message asks two things: a question mark or semicolon with more after it
_PART_END = re.compile(r"(?<=[？?；;])\s*(?=\S)")
# … or a comma between two clauses that each ask (涨了多少，又涨了多少)
_COMMA = re.compile(r"(?<=[，,])")
_ASKS = re.compile(r"多少|几|什么|啥|哪|谁|怎么|如何|为什么|为何|吗|嗎|麼|么")
_WHY = re.compile(r"为什么|為什麼|为何|為何|原因|\bwhy\b|how come", re.IGNORECASE)
# a sentence that opens by pointing back (這也意味著, 因此, 其中) leans on the one before
_ANAPHOR = re.compile(r"(?:這|这|對此|对此|因此|所以|其中|該|该)(?!些年|外)")
# … or builds on it (在此基础上)
_BUILDS_ON = re.compile(r"在此")
# "besides X, what else…": the article's "besides, …" (此外) says what else
_BESIDES_ASKED = re.compile(r"除了|除去|以外|之外|besides|apart from|other than", re.IGNORECASE)
_BESIDES = re.compile(r"此外|另外|除此之外|除此以外|同时|还有|還有")
# a sentence that ends in a semicolon goes on in the next one
_GOES_ON = re.compile(r"[;；]$")
_BECAUSE = re.compile(r"原因|因为|因為|在于|在於|由于|由於|为了|為了|所以")


_SCORING, _SELECTION = Scoring(), Selection()


@dataclass
class _Candidate:
    passage: int
    position: int
    sentence: str
    score: float
    dense: float
    lexical: float
    in_sentence: float  # lexical coverage by the sentence alone, headings aside


#: the position of a passage's heading among its quotable sentences
HEADING = -1


def quotable(doc: Document, heading_chars: int) -> list[tuple[int, str]]:
    """The passage's sentences by position, after its heading when that says
    something itself ("AI生成影片內容不會被刻意區分。": at least ``heading_chars``
    long) — articles often put the answer in the heading.

    >>> section = "影片號 › 5. AI生成影片內容不會被刻意區分。"
    >>> doc = Document("正文一句。", metadata={"section": section})
    >>> quotable(doc, 8)
    [(-1, 'AI生成影片內容不會被刻意區分。'), (0, '正文一句。')]
    """
    sentences = list(enumerate(chunk_sentences(doc.page_content)))
    heading = heading_text(doc.metadata.get("section", ""))
    return [(HEADING, heading), *sentences] if len(heading) >= heading_chars else sentences


def score_sentences(
    question: str,
    tokens: list[str],
    context: list[str],
    passages: list[Document],
    qvec: np.ndarray,
    vectors: dict[str, np.ndarray],
    weight: Weight = length_weight,
    policy: Scoring = _SCORING,
    heading_chars: int = _SELECTION.heading_chars,
) -> list[_Candidate]:
    """Every sentence of the passages, scored against the question (best first).

    ``tokens`` are the words to match (the follow-up's own for a follow-up),
    ``context`` the earlier question's words, which count a fifth.
    """
    lexical_weight = policy.lexical_weight if tokens else 0.0
    wants_figure = bool(_QUANTITY.search(question))
    wants_list = bool(_LIST.search(question))
    denial = denial_of(tokens) if question_types(question)["asks_yes_no"] else None
    out = []
    for p, doc in enumerate(passages):
        if looks_like_instruction(doc.page_content):  # an injection: nothing of it is quoted
            continue
        section_forms = text_forms(doc.metadata.get("section", ""))
        prior = 1.0 / (1.0 + policy.rank_decay * p)
        for i, sentence in quotable(doc, heading_chars):
            vec = vectors.get(sentence_id(sentence))
            dense = float(vec @ qvec) if vec is not None else 0.0
            forms = text_forms(sentence)
            # the items of a list (一是…二是…) answer a "which" question under their heading
            share = 1.0 if wants_list else policy.heading_share
            heading = [] if i == HEADING else section_forms
            lex = lexical(tokens, forms, heading, weight, share)
            if context:
                with_context = lexical(context, forms, heading, weight)
                lex = (1 - policy.context_share) * lex + policy.context_share * with_context
            score = (1 - lexical_weight) * dense + lexical_weight * lex
            if wants_figure and FIGURE.search(sentence):
                score += policy.figure_bonus
            if denial is not None and any(denial.search(f) for f in forms):
                score += policy.denial_bonus
            own = lexical(tokens, forms, [], weight)
            out.append(_Candidate(p, i, sentence, score * prior, dense, lex, own))
    return sorted(out, key=lambda c: -c.score)


def denial_of(tokens: list[str]) -> re.Pattern[str] | None:
    """What a sentence denying a word of the question says (有直播吗 → 没有直播):
    it answers the yes/no question directly. Built once per question.

    >>> denial = denial_of(["直播"])
    >>> bool(denial.search("与上一年一样，没有直播、没有媒体")), bool(denial.search("直播场次增加"))
    (True, False)
    """
    words = [re.escape(t) for t in tokens if is_content_word(t)]
    if not words:
        return None
    return re.compile(rf"(?:没有|沒有|不会|不會|并未|並未|未|无|無|不)\s*(?:{'|'.join(words)})")


def _in_context(
    c: _Candidate, passages: list[Document], question: str, policy: Selection
) -> list[str]:
    """The sentence with the neighbours it needs to stand alone.

    The sentence before it when it opens by pointing back to it (這也意味著…,
    因此…) or when only that one says when (a figure without a year); the
    sentence after it when it is too short to carry an answer, or when the
    question asks why and the next sentence gives the reason.
    """
    if c.position == HEADING:  # a heading is quoted alone: it sums up its section
        return [c.sentence]
    sentences = chunk_sentences(passages[c.passage].page_content)
    out = [c.sentence]
    if c.position > 0 and _ANAPHOR.match(c.sentence):
        out.insert(0, sentences[c.position - 1])  # 這也意味著…: what "this" is
    elif c.position > 0 and _DIGIT.search(c.sentence) and not _PERIOD.search(c.sentence):
        before = sentences[c.position - 1]
        if re.search(r"\d{4}年", before) and len(before) <= policy.year_sentence:
            out.insert(0, before)
    if c.position + 1 < len(sentences):
        after = sentences[c.position + 1]
        if len(c.sentence) < policy.short_sentence or (
            _WHY.search(question) and _BECAUSE.search(after)
        ):
            out.append(after)
    return out


def _support(heading: _Candidate, candidates: list[_Candidate]) -> _Candidate | None:
    """The sentence of a heading's passage that says what the heading sums up.

    For a heading that states a figure, the best-scored sentence (``select``
    then checks it holds the figures). For a statement (AI生成影片內容不會被
    刻意區分), its score times the share of the heading's words it holds:
    "…不會因此對其產生區分…", not the better-scored "2024年6月…對AI工具生成的
    虛擬形象直播進行限制".
    """
    body = [c for c in candidates if c.passage == heading.passage and c.position != HEADING]
    if not body or numbers(heading.sentence):
        return body[0] if body else None
    words = salient_tokens(to_simplified(heading.sentence))
    return max(
        body, key=lambda c: c.score * lexical(words, text_forms(c.sentence), [], length_weight)
    )


def select(
    question: str, candidates: list[_Candidate], max_chars: int, policy: Selection = _SELECTION
) -> list[_Candidate]:
    """The best sentence and up to two that add to it, within the length budget.

    A heading that leads brings the sentence of its passage it sums up (or gives way to
    it, when it only repeats that sentence's figures). A near-tie (90%
    of the best score, and half its own word matches) is kept; so is, for a
    "how much" question, a figure from another passage that matches the
    question's words about as well: two periods or two metrics, each shown
    with its citation.
    """
    if not candidates:
        return []
    budget = max_chars * (2 if _LIST.search(question) else 1)
    best = candidates[0]
    chosen = [best]
    if best.position == HEADING:  # a heading sums up; its passage's best sentence says it
        body = _support(best, candidates)
        figures = numbers(best.sentence)
        if body is not None and figures and figures <= numbers(body.sentence):
            chosen = [body]  # the heading only repeats its body's figures: the body alone
        elif body is not None and len(best.sentence) + len(body.sentence) <= budget:
            chosen.append(body)
        best = body or best  # what else joins is measured against the body's sentence
    used = sum(len(c.sentence) for c in chosen)
    quantity = bool(_QUANTITY.search(question))
    for c in candidates[1:]:
        if len(chosen) == policy.max_sentences or used + len(c.sentence) > budget:
            continue
        if c.sentence in {x.sentence for x in chosen} or c.position == HEADING:
            continue  # a heading only leads: what follows is said in full, with its period
        near_tie = (
            c.score >= policy.tie_score * best.score
            and c.in_sentence >= policy.tie_words * best.in_sentence
        )
        other_figure = (
            quantity
            and c.passage != best.passage
            and FIGURE.search(c.sentence)
            and c.in_sentence >= policy.figure_words * best.in_sentence
            and c.score >= policy.figure_score * best.score
        )
        if near_tie or other_figure:
            chosen.append(c)
            used += len(c.sentence)
    return chosen


def _candidate_at(candidates: list[_Candidate], passage: int, position: int) -> _Candidate | None:
    return next((c for c in candidates if (c.passage, c.position) == (passage, position)), None)


def elaboration(
    best: _Candidate, candidates: list[_Candidate], passages: list[Document], subject: str
) -> _Candidate | None:
    """The sentence that goes on from the best one to say what the question's
    subject does, when there is one: the first of the sentences continuing it
    (each opens by pointing back, 其中/在此基础上, or follows a semicolon) that
    has ``subject`` as the subject of a clause.

    "小程序在三角模型里负责什么？": the best sentence names the model
    (微信小店与小程序、服务号共同构成稳定三角模型); "在此基础上，小程序面向公域…"
    says what 小程序 does in it.
    """
    if best.position == HEADING:
        return None
    sentences = chunk_sentences(passages[best.passage].page_content)
    for position in range(best.position + 1, len(sentences)):
        sentence = sentences[position]
        points_back = _ANAPHOR.match(sentence) or _BUILDS_ON.match(sentence)
        if not (points_back or _GOES_ON.search(sentences[position - 1])):
            return None
        if is_subject_of(subject, sentence):
            return _candidate_at(candidates, best.passage, position)
    return None


def what_else(
    question: str, best: _Candidate, candidates: list[_Candidate], passages: list[Document]
) -> _Candidate | None:
    """For "除了女装，还有哪些类目…？", the sentence after the best one when it
    opens with "besides" (此外，食品生鲜…): the best one is most often about
    what the question sets aside."""
    if best.position == HEADING or not _BESIDES_ASKED.search(question):
        return None
    sentences = chunk_sentences(passages[best.passage].page_content)
    at = best.position + 1
    if at < len(sentences) and _BESIDES.match(sentences[at]):
        return _candidate_at(candidates, best.passage, at)
    return None


def going_on(
    asked: str, chosen: list[_Candidate], candidates: list[_Candidate], passages: list[Document]
) -> list[_Candidate]:
    """The sentences going on from the best one that the question asks for:
    what else (``what_else``) and what each subject asked about does
    (``elaboration``), each once and none already chosen."""
    best = chosen[0]
    found = [
        what_else(asked, best, candidates, passages),
        *(elaboration(best, candidates, passages, s) for s in question_subjects(asked)),
    ]
    out: list[_Candidate] = []
    for c in found:
        if c is not None and c.sentence not in {x.sentence for x in chosen + out}:
            out.append(c)
    return out


def question_parts(question: str) -> list[str]:
    """The questions one message asks, when it asks several: …？…？, or
    clauses joined by a comma that each ask (…涨了多少，…又涨了多少).

    >>> question_parts("订单量涨了多少？带货者GMV涨幅又是多少？")
    ['订单量涨了多少？', '带货者GMV涨幅又是多少？']
    >>> question_parts("法律类开播涨了多少，体育类付费额度又涨了多少")
    ['法律类开播涨了多少，', '体育类付费额度又涨了多少']
    >>> question_parts("小店8月重新上线后，灰度测了啥功能？")
    ['小店8月重新上线后，灰度测了啥功能？']
    """
    parts: list[str] = []
    for piece in (p for p in _PART_END.split(question) if p.strip()):
        clauses = _COMMA.split(piece) if han_count(piece) > len(piece) / 2 else [piece]
        current = ""
        for clause in clauses:
            if current and _ASKS.search(current) and _ASKS.search(clause):
                parts.append(current)
                current = ""
            current += clause
        parts.append(current)
    return parts


@dataclass
class _Part:
    """One question of a message that asks several, with its own best sentences."""

    text: str
    tokens: list[str]
    candidates: list[_Candidate]


def score_parts(
    question: str,
    passages: list[Document],
    sentences: list[str],
    embed: Callable[[str], np.ndarray],
    vectors: dict[str, np.ndarray],
    weight: Weight,
    aliases: Callable[[list[str]], list[str]],
    policy: AnswerPolicy,
) -> list[_Part]:
    """Each question of a message that asks several (none for one question),
    its sentences scored on its own words (``sentences``: the passages'
    quotable ones, for the ordinals they number)."""
    texts = question_parts(question)
    if len(texts) < 2:
        return []
    parts = []
    for text in texts:
        tokens = aliases(salient_tokens(text)) + numbered(ordinals(text), sentences)
        found = score_sentences(
            text,
            tokens,
            [],
            passages,
            embed(text),
            vectors,
            weight,
            policy.scoring,
            policy.selection.heading_chars,
        )
        parts.append(_Part(text, tokens, found))
    return parts


def each_part(
    chosen: list[_Candidate], parts: list[_Part], policy: AnswerPolicy
) -> list[_Candidate]:
    """For a message that asks several things, the best sentence of each part
    the answer does not quote yet (within twice the length budget)."""
    shown = {c.sentence for c in chosen}
    used = sum(len(c.sentence) for c in chosen)
    extra = []
    for part in parts:
        best = next((c for c in part.candidates if c.position != HEADING), None)
        if best is None or best.sentence in shown:
            continue
        if used + len(best.sentence) > 2 * policy.max_chars:
            break
        extra.append(best)
        shown.add(best.sentence)
        used += len(best.sentence)
    return extra


def _headings(doc: Document) -> str:
    """What a passage's sentences are about besides their own words: its
    article's title and its section (这个品牌 is the 品牌 of 某品牌年度复盘)."""
    return f"{doc.metadata.get('title', '')} {doc.metadata.get('section', '')}"


def _binding(
    tokens: list[str],
    body: list[_Candidate],
    passages: list[Document],
    wants_figure: bool,
    policy: AnswerPolicy,
) -> tuple[float, float]:
    """How specific the rarest question word is that the best-bound sentence
    lacks (``matching.unbound``): among the best ``policy.judged`` sentences,
    and, for a "how much" question, among the best ones holding a figure
    (the figure asked for must stand with the question's words: 食品生鲜 has
    爆发迹象 and no figure; GMV's 1.92倍 is not 食品生鲜's). 0 for a question
    that asks no figure."""

    def forms(found: list[_Candidate]) -> list[tuple[list[str], list[str]]]:
        return [
            (
                text_forms(c.sentence),
                text_forms(_headings(passages[c.passage])),
            )
            for c in found
        ]

    bound = unbound(tokens, forms(body[: policy.judged]), policy.specific_verb)
    if not wants_figure:
        return bound, 0.0
    figures = [c for c in body if FIGURE.search(c.sentence)][: policy.judged]
    return bound, unbound(tokens, forms(figures), policy.specific_verb)


def compose(
    question: str,
    passages: list[Document],
    qvec: np.ndarray,
    sentence_vectors: Callable[[list[str]], dict[str, np.ndarray]],
    script: Script,
    *,
    focus: str | None = None,
    context: str = "",
    weight: Weight = length_weight,
    aliases: Callable[[list[str]], list[str]] = list,
    embed: Callable[[str], np.ndarray] | None = None,
    policy: AnswerPolicy | None = None,
) -> Answer:
    """The cited extractive answer to ``question`` from ``passages`` (see module doc).

    ``focus`` is the text whose words must be matched (by default the question;
    a follow-up's own words; the Chinese glossary terms of an English
    question, which may be none); ``context`` the earlier question of a follow-up;
    ``aliases`` puts the article's words in place of the question's
    (``aliases.Aliases.replace``); ``embed``, when given, lets each part of a
    two-part question (…？…？) bring its own best sentence.
    """
    policy = policy or AnswerPolicy()
    asked = question if focus is None else focus
    tokens = aliases(salient_tokens(asked))
    passage_forms = [f for d in passages for f in lower_forms(d.page_content)]
    tokens += [p for p in corpus_pairs(asked, passage_forms) if not any(p in t for t in tokens)]
    chars = policy.selection.heading_chars
    sentences = [s for d in passages for _, s in quotable(d, chars)]
    keys = numbered(ordinals(asked, context), sentences)  # 方向二, 第二个方向
    tokens += [k for k in keys if k not in tokens]
    context_tokens = [t for t in aliases(salient_tokens(context)) if t not in tokens]
    if not any(map(is_content_word, tokens)):
        # a follow-up that names nothing (具体有哪些？) asks about its earlier question's words
        tokens, context_tokens = tokens + context_tokens, []
    vectors = sentence_vectors(sentences)
    candidates = score_sentences(
        question, tokens, context_tokens, passages, qvec, vectors, weight, policy.scoring, chars
    )
    # answerability is judged on the body's sentences: a heading is a summary
    # that matches many questions of its section (calibration agreed: fewer right
    # outcomes out of fold when headings counted)
    body = [c for c in candidates if c.position != HEADING]
    # a passage that is never quoted (an injection) is no evidence either way
    quotable_passages = [d for d in passages if not looks_like_instruction(d.page_content)]
    cover = coverage(tokens, quotable_passages, policy.specific_verb)
    wants_figure = bool(_QUANTITY.search(question))
    bound, figure_bound = _binding(tokens, body, passages, wants_figure, policy)
    parts: list[_Part] = []
    if embed is not None:
        parts = score_parts(question, passages, sentences, embed, vectors, weight, aliases, policy)
    if parts:  # each question of the message may be answered by its own sentence
        each = [
            _binding(
                p.tokens,
                [c for c in p.candidates if c.position != HEADING],
                passages,
                bool(_QUANTITY.search(p.text)),
                policy,
            )
            for p in parts
        ]
        bound = min(bound, max(b for b, _ in each))
        figure_bound = min(figure_bound, max(f for _, f in each))
    values = features(
        question,
        body[: policy.judged],
        cover,
        quotable_passages,
        unbound=bound,
        figure_unbound=figure_bound,
        content_words=sum(1 for t in tokens if is_content_word(t, policy.specific_verb)),
        wants_figure=wants_figure,
        english=script == "en",
    )
    verdict = decide(policy.answerability, values)
    evidence = {**verdict.evidence(), "missing": cover.missing}
    if not candidates or not verdict.answer:
        # the article touches the subject when one sentence holds every word asked
        # about (主播总共有多少个 against 主播数量增加了110%): it is quoted as such
        touches = body and values["content_words"] > 0 and values["unbound"] == 0.0
        hint = (passages[body[0].passage], body[0].sentence) if touches else None
        return refusal(question, passages, script, hint, evidence=evidence)

    chosen = select(question, candidates, policy.max_chars, policy.selection)
    goes_on = going_on(asked, chosen, candidates, passages)
    chosen[1:1] = goes_on
    chosen += each_part(chosen, parts, policy)
    order = cited_first((c.passage for c in chosen), range(len(passages)))
    number = {p: n for n, p in enumerate(order, start=1)}
    citations = [citation_from(number[p], passages[p]) for p in order]
    lines: list[str] = []
    shown: set[str] = set()
    lead = FRAMES[script]["lead"]
    for c in chosen:
        if c.sentence in shown:  # already quoted as another sentence's context
            continue
        # what the best sentence goes on to say is quoted alone: the best gives its context
        alone = any(c is g for g in goes_on)
        in_context = [c.sentence] if alone else _in_context(c, passages, question, policy.selection)
        quoted = [q for q in in_context if q not in shown]
        line = "".join(to_script(q, script) for q in quoted) + f"[{number[c.passage]}]"
        if lines and len(lead + "\n".join([*lines, line])) > policy.longest:
            continue  # what it adds does not fit: the answer stays readable on a phone
        shown.update(quoted)
        cite = citations[number[c.passage] - 1]
        cite.cited = True
        cite.quotes += [q for q in quoted if q not in cite.quotes]
        lines.append(line)
    text = lead + "\n".join(lines)
    return Answer(question, text, False, citations, script, evidence=evidence)
