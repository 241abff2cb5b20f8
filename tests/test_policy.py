"""Every number of ``AnswerPolicy``, each shown doing its one job on made-up
passages (not the real article), with the real embedder where meaning counts."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from langchain_core.documents import Document

from assistant.answer.aliases import Aliases
from assistant.answer.answerability import FEATURES
from assistant.answer.extractive import (
    HEADING,
    _Candidate,
    _in_context,
    compose,
    quotable,
    score_sentences,
    select,
)
from assistant.answer.policy import (
    Answerability,
    AnswerPolicy,
    Scoring,
    Selection,
    shipped_model,
)
from assistant.ingest.chunking import sentence_id
from assistant.ingest.text import to_simplified
from assistant.settings import Settings


@pytest.fixture(scope="module")
def vectors(embedder):
    def embed(sentences: list[str]) -> dict[str, np.ndarray]:
        texts = [to_simplified(s) for s in sentences]
        got = embedder.model.embed_documents(texts)
        return {sentence_id(s): np.asarray(v) for s, v in zip(sentences, got, strict=True)}

    return embed


@pytest.fixture(scope="module")
def qvec(embedder):
    return lambda text: np.asarray(embedder.model.embed_query(text))


def doc(text: str, section: str = "") -> Document:
    return Document(text, metadata={"section": section, "title": "测试", "doc_id": "t"})


def scores(question, tokens, passages, qvec, vectors, **policy):
    sentences = [s for d in passages for _, s in quotable(d, 8)]
    found = score_sentences(
        question, tokens, [], passages, qvec(question), vectors(sentences), policy=Scoring(**policy)
    )
    return {c.sentence: c for c in found}


# -- Scoring -------------------------------------------------------------------


def test_lexical_weight_blends_words_and_meaning(qvec, vectors):
    passages = [doc("门店客流增长了三成。")]
    dense_only = scores("客流增长多少", ["客流"], passages, qvec, vectors, lexical_weight=0.0)
    c = dense_only["门店客流增长了三成。"]
    assert c.score == pytest.approx(c.dense)
    half = scores("客流增长多少", ["客流"], passages, qvec, vectors, lexical_weight=0.5)
    c2 = half["门店客流增长了三成。"]
    assert c2.score == pytest.approx(0.5 * c2.dense + 0.5 * c2.lexical)


def test_figure_bonus_goes_to_a_figure_when_much_is_asked(qvec, vectors):
    passages = [doc("会员人数增长了45%。会员人数增长很快。")]
    got = scores("会员人数增长了多少", ["会员"], passages, qvec, vectors, figure_bonus=0.0)
    bonus = scores("会员人数增长了多少", ["会员"], passages, qvec, vectors, figure_bonus=0.12)
    figure, plain = "会员人数增长了45%。", "会员人数增长很快。"
    assert bonus[figure].score - got[figure].score == pytest.approx(0.12)
    assert bonus[plain].score == pytest.approx(got[plain].score)


def test_rank_decay_prefers_the_earlier_passage(qvec, vectors):
    same = "仓库面积扩大到两万平方米。"
    passages = [doc(same), doc(same + "另一句话。")]
    sentences = [s for d in passages for _, s in quotable(d, 8)]
    found = score_sentences(
        "仓库面积",
        ["仓库"],
        [],
        passages,
        qvec("仓库面积"),
        vectors(sentences),
        policy=Scoring(rank_decay=0.05),
    )
    first, second = [c for c in found if c.sentence == same]
    assert {first.passage, second.passage} == {0, 1}
    by_rank = sorted([first, second], key=lambda c: c.passage)
    assert by_rank[1].score == pytest.approx(by_rank[0].score / 1.05)


def test_heading_share_counts_a_word_in_the_heading(qvec, vectors):
    passages = [doc("同比上涨两成。", "门店 › 客流")]
    half = scores("客流", ["客流"], passages, qvec, vectors, heading_share=0.5)
    assert half["同比上涨两成。"].lexical == pytest.approx(0.5)
    none = scores("客流", ["客流"], passages, qvec, vectors, heading_share=0.0)
    assert none["同比上涨两成。"].lexical == 0.0


def test_context_share_weighs_the_earlier_question(qvec, vectors):
    passages = [doc("退货率下降到百分之五。")]
    sentences = [s for _, s in quotable(passages[0], 8)]
    found = score_sentences(
        "那退货呢",
        ["退货"],
        ["下降"],
        passages,
        qvec("那退货呢"),
        vectors(sentences),
        policy=Scoring(context_share=0.2),
    )
    assert found[0].lexical == pytest.approx(0.8 * 1.0 + 0.2 * 1.0)


# -- Selection -----------------------------------------------------------------


def cand(passage, score, words, sentence, position=0):
    return _Candidate(passage, position, sentence, score, score, words, words)


def test_near_ties_join_within_the_budget_and_the_count():
    best = cand(0, 1.0, 1.0, "甲" * 20)
    tie = cand(1, 0.95, 0.6, "乙" * 20)
    weak_words = cand(2, 0.95, 0.3, "丙" * 20)
    low = cand(3, 0.85, 1.0, "丁" * 20)
    chosen = select("问题", [best, tie, weak_words, low], 200, Selection())
    assert chosen == [best, tie]  # 0.9 of the score and 0.5 of the words
    loose = Selection(tie_score=0.8, tie_words=0.2, max_sentences=3)
    assert len(select("问题", [best, tie, weak_words, low], 200, loose)) == 3
    assert select("问题", [best, tie], 30, Selection()) == [best]  # over the length budget


def test_another_passages_figure_joins_a_how_much_answer():
    best = cand(0, 1.0, 1.0, "全年销量增长12%。")
    other = cand(1, 0.75, 0.8, "十二月销量增长30%。")
    assert select("销量增长多少", [best, other], 200, Selection()) == [best, other]
    strict = Selection(figure_score=0.8)
    assert select("销量增长多少", [best, other], 200, strict) == [best]
    assert select("销量是谁统计的", [best, other], 200, Selection()) == [best]  # not how much


def test_a_leading_heading_brings_the_sentence_it_sums_up():
    heading = cand(0, 1.0, 1.0, "新品不会被区别对待。", HEADING)
    body = cand(0, 0.5, 0.5, "平台表示新品与老品一视同仁。", 1)
    other = cand(1, 0.6, 0.5, "别的段落。", 0)
    assert select("新品会被限流吗", [heading, other, body], 200, Selection())[:2] == [heading, body]
    # of its passage's sentences, the one saying what the heading sums up, though scored lower
    said = cand(0, 0.4, 0.4, "平台表示，新品不会因此被区别对待，看的是质量。", 2)
    got = select("新品会被限流吗", [heading, other, body, said], 200, Selection())
    assert got[:2] == [heading, said]


def test_neighbours_short_sentence_and_year():
    passages = [doc("2024年全年数据如下。增长45%。原因在于渠道扩张。")]
    figure = cand(0, 1.0, 1.0, "增长45%。", 1)
    policy = Selection(short_sentence=25, year_sentence=40)
    assert _in_context(figure, passages, "增长多少", policy) == [
        "2024年全年数据如下。",
        "增长45%。",
        "原因在于渠道扩张。",
    ]
    terse = Selection(short_sentence=3, year_sentence=5)
    assert _in_context(figure, passages, "增长多少", terse) == ["增长45%。"]


def test_heading_chars_decides_which_headings_are_statements():
    long_heading = doc("正文。", "一 › 3. 新品不会被区别对待")
    short = doc("正文。", "一 › 影片號")
    assert quotable(long_heading, 8)[0] == (HEADING, "新品不会被区别对待")
    assert quotable(short, 8) == [(0, "正文。")]


# -- Answerability ---------------------------------------------------------------


def constant(p: float, threshold: float) -> Answerability:
    """A model that says ``p`` for every question."""
    n = len(FEATURES)
    logit = math.log(p / (1 - p))
    return Answerability(FEATURES, (0.0,) * n, (1.0,) * n, (0.0,) * n, logit, threshold)


def test_the_threshold_decides_and_a_sentence_with_every_word_is_the_closest(qvec, vectors):
    passages = [doc("门店客流增长了三成。原因是新店开业。")]

    def ask(q, p, threshold):
        policy = AnswerPolicy(answerability=constant(p, threshold))
        return compose(q, passages, qvec(q), vectors, "zh-Hans", policy=policy)

    assert not ask("门店客流增长多少", 0.6, 0.5).refused
    touching = ask("门店客流增长多少", 0.1, 0.5)  # refused; one sentence holds 门店, 客流
    assert touching.refused and "不是直接答案" in touching.text and "三成" in touching.text
    assert touching.evidence["answerable"] == pytest.approx(0.1)
    far = ask("门店租金多少", 0.1, 0.5)  # 租金 is in no sentence: nothing is close
    assert far.refused and "不是直接答案" not in far.text


def test_the_model_is_a_standardised_logistic_regression():
    model = Answerability(("a", "b"), (1.0, 0.0), (2.0, 1.0), (0.5, -1.0), 0.25, 0.5)
    parts = model.contributions({"a": 5.0, "b": 1.0})
    assert parts == {"a": pytest.approx(1.0), "b": pytest.approx(-1.0)}
    assert model.probability({"a": 5.0, "b": 1.0}) == pytest.approx(1 / (1 + math.exp(-0.25)))
    assert Answerability.from_json(json.loads(json.dumps(model.to_json()))) == model
    assert model.with_threshold(0.9).threshold == 0.9 and model.with_threshold(None) is model


def test_the_shipped_model_was_fitted_on_these_features_with_cross_validated_figures():
    model = shipped_model()
    assert model.features == FEATURES and 0.0 < model.threshold < 1.0
    cv = model.about["leave_one_set_out"]
    assert cv["all"]["answerable"] + cv["all"]["unanswerable"] == model.about["samples"]
    assert len(cv) == len(model.about["trained_on"]) + 1


def test_the_policy_comes_from_settings():
    policy = AnswerPolicy.from_settings(Settings(answer_threshold=0.9, answer_max_chars=120))
    assert policy.answerability.threshold == 0.9 and policy.max_chars == 120
    assert AnswerPolicy.from_settings(Settings()).answerability.threshold == pytest.approx(
        shipped_model().threshold
    )


# -- Aliases -------------------------------------------------------------------


def test_alias_similarity_decides_which_words_stand_in(embedder):
    vocabulary = ["企业", "账号", "直播", "门店"]
    aliases = Aliases(vocabulary, embedder.model.embed_documents, 0.75)
    assert aliases.of("公司") == "企业" and aliases.of("帐号") == "账号"
    assert aliases.of("直播") is None  # known already
    assert aliases.of("佣金") is None  # nothing close
    assert aliases.replace(["公司", "直播"]) == ["企业", "直播"]
    strict = Aliases(vocabulary, embedder.model.embed_documents, 0.95)
    assert strict.of("公司") is None


def test_a_heading_that_only_repeats_its_bodys_figures_gives_way():
    heading = cand(0, 1.0, 1.0, "销量增长45%。", HEADING)
    body = cand(0, 0.8, 0.8, "全年销量同比增长45%,创新高。", 1)
    assert select("销量增长多少", [heading, body], 200, Selection()) == [body]
    saying_more = cand(0, 1.0, 1.0, "销量增长45%,25岁以上女性是主力。", HEADING)
    chosen = select("销量增长多少", [saying_more, body], 200, Selection())
    assert chosen == [saying_more, body]


def test_figure_words_needs_the_other_figure_to_match_the_question():
    best = cand(0, 1.0, 1.0, "全年销量增长12%。")
    thin = cand(1, 0.85, 0.5, "十二月客流增长30%。")  # no near-tie: under 0.9 of the score
    assert select("销量增长多少", [best, thin], 200, Selection(figure_words=0.7)) == [best]
    loose = Selection(figure_words=0.4)
    assert select("销量增长多少", [best, thin], 200, loose) == [best, thin]


def test_specific_verb_decides_which_missing_verbs_count():
    passages = [doc("门店客流增长了三成。")]
    from assistant.answer.matching import coverage

    assert coverage(["门店", "退货"], passages, specific_verb=13.0).missing == ["退货"]
    assert coverage(["门店", "退货"], passages, specific_verb=math.inf).missing == []
    assert coverage(["门店", "看重"], passages, specific_verb=13.0).missing == []  # 11.6


def test_intent_similarity_is_where_chit_chat_begins(embedder):
    from assistant.answer.intents import IntentClassifier

    vector = np.asarray(embedder.model.embed_query("哈喽哈喽"))
    loose = IntentClassifier(embedder.model.embed_documents, 0.5)
    assert loose.classify(vector, names_known_words=False).intent == "greeting"
    assert loose.classify(vector, names_known_words=True) is None  # names a topic: a question
    strict = IntentClassifier(embedder.model.embed_documents, 0.99)
    assert strict.classify(vector, names_known_words=False) is None


def test_topic_surprisal_decides_what_names_a_topic(assistant):
    from dataclasses import replace

    question = "你能回答什么问题"  # 问题 is in the article, but an everyday word
    assert assistant.ask(question).evidence.get("intent") == "capabilities"
    everyday = replace(assistant.policy, topic_surprisal=5.0)  # now 问题 names a topic
    saved, assistant.policy = assistant.policy, everyday
    try:
        assert assistant.ask(question).evidence.get("intent") is None
    finally:
        assistant.policy = saved


def test_a_sentence_pointing_back_brings_the_one_before():
    passages = [doc("门店补贴力度远大于同行。这也意味着新店更容易盈利。此外还有培训。")]
    pointing = cand(0, 1.0, 1.0, "这也意味着新店更容易盈利。", 1)
    terse = Selection(short_sentence=3)  # no sentence here is too short to stand
    assert _in_context(pointing, passages, "为啥新店更容易盈利", terse) == [
        "门店补贴力度远大于同行。",
        "这也意味着新店更容易盈利。",
    ]
    besides = cand(0, 1.0, 1.0, "此外还有培训。", 2)  # 此外 adds; it does not point back
    assert _in_context(besides, passages, "有培训吗", terse) == ["此外还有培训。"]


def test_longest_caps_the_whole_answer_but_keeps_the_best_sentence(qvec, vectors):
    passages = [doc("门店客流增长了三成。"), doc("门店客流今年增长了三成。")]
    q = "门店客流增长多少"
    wide = AnswerPolicy(answerability=constant(0.9, 0.5), longest=1000)
    narrow = AnswerPolicy(answerability=constant(0.9, 0.5), longest=10)
    both = compose(q, passages, qvec(q), vectors, "zh-Hans", policy=wide).text
    assert "[1]" in both and "[2]" in both  # a near tie from the other passage joins
    one = compose(q, passages, qvec(q), vectors, "zh-Hans", policy=narrow).text
    assert one.count("[") == 1  # the best sentence alone, though longer than 10


def test_judged_sentences_decide_what_binds_the_question(qvec, vectors):
    passages = [doc("体育直播的付费额度增长了190%。法律直播的开播场次上涨了2.5倍。")]
    q = "法律直播的付费额度增长了多少"

    def unbound(judged):
        policy = AnswerPolicy(answerability=constant(0.9, 0.5), judged=judged)
        values = compose(q, passages, qvec(q), vectors, "zh-Hans", policy=policy).evidence
        return values["features"]["unbound"], values["features"]["figure_unbound"]

    # each sentence lacks a specific word of the question: 法律 or 付费额度
    assert min(unbound(1)) > 0 and min(unbound(2)) > 0
    single = "体育直播的付费额度增长了190%。"
    passages = [doc(single)]
    q = "体育直播的付费额度增长了多少"
    answered = compose(q, passages, qvec(q), vectors, "zh-Hans", policy=AnswerPolicy())
    assert answered.evidence["features"]["unbound"] == 0.0  # one sentence holds every word


def test_the_sentences_going_on_from_the_best_say_what_each_subject_asked_does(qvec, vectors):
    # the best sentence names the network and lists its parts; the ones going on
    # from it (其中…, after a semicolon) say what each part does
    passages = [
        doc(
            "报告提到，门店与仓库、物流站共同组成配送网络。"
            "其中，门店是展示和下单的地方。"
            "在此基础上，仓库负责存货和分拣；物流站负责送到家门口。"
            "此外，会员人数增长了三成。"
        )
    ]
    policy = AnswerPolicy(answerability=constant(0.9, 0.5))
    q = "仓库和物流站在配送网络里分别负责什么？"
    text = compose(q, passages, qvec(q), vectors, "zh-Hans", policy=policy).text
    assert "仓库负责存货和分拣" in text and "物流站负责送到家门口" in text
    q = "会员在配送网络里负责什么？"  # 此外 adds; it does not go on from the best
    text = compose(q, passages, qvec(q), vectors, "zh-Hans", policy=policy).text
    assert "会员人数" not in text


def test_besides_what_is_set_aside_the_sentence_saying_what_else_joins(qvec, vectors):
    passages = [
        doc(
            "咖啡仍是门店最受欢迎的招牌品类，去年的销量在全部品类之中排名第一。此外，果茶和面包也开始走俏。"
        )
    ]
    policy = AnswerPolicy(answerability=constant(0.9, 0.5))
    q = "除了咖啡，门店还有哪些品类卖得好？"
    assert "果茶" in compose(q, passages, qvec(q), vectors, "zh-Hans", policy=policy).text
    q = "门店的招牌品类是什么？"  # no "besides" asked: the best sentence alone
    assert "果茶" not in compose(q, passages, qvec(q), vectors, "zh-Hans", policy=policy).text


def test_denial_bonus_goes_to_the_sentence_saying_no(qvec, vectors):
    passages = [
        doc(
            "今年的发布会仍然很低调。和去年一样，没有直播，也没有媒体到场。发布会直播间的数据也很亮眼。"
        )
    ]
    q = "今年发布会有直播吗？"
    plain = scores(q, ["发布会", "直播"], passages, qvec, vectors, denial_bonus=0.0)
    bonus = scores(q, ["发布会", "直播"], passages, qvec, vectors, denial_bonus=0.12)
    no = "和去年一样，没有直播，也没有媒体到场。"
    assert bonus[no].score == pytest.approx(plain[no].score + 0.12 * 1.0)
    other = "发布会直播间的数据也很亮眼。"
    assert bonus[other].score == pytest.approx(plain[other].score)  # says nothing against it
