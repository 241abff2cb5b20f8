from assistant.answer.retrieval import HybridRetriever, keep_leaders, reciprocal_rank_fusion


def _top(retriever: HybridRetriever, question: str, n: int = 3) -> list[str]:
    return [d.id for d in retriever.invoke(question)[:n]]


def test_three_scripts_reach_the_same_passage(assistant):
    retriever = assistant.retriever
    simplified = retriever.invoke("视频号优质内容直播的开播场次增加了多少？")[0]
    traditional = retriever.invoke("影片號優質內容直播的開播場次增加了多少？")[0]
    english = retriever.invoke(
        "How much did the number of quality content live broadcasts on Channels grow?"
    )
    assert simplified.id == traditional.id
    assert simplified.id in [d.id for d in english[:3]]
    assert "開播場次數增加了100%" in simplified.page_content


def test_mainland_and_taiwan_words_both_find_it(assistant):
    # the article writes 影片號/小程式/元件; users write 视频号/小程序/组件
    mainland = assistant.retriever.invoke("小程序连接到微信小店")[0]
    taiwan = assistant.retriever.invoke("小程式連線到微信小店")[0]
    assert mainland.id == taiwan.id
    assert "4. 小程式連線到微信小店" in mainland.metadata["section"]


def test_documents_carry_metadata_and_scores(assistant):
    docs = assistant.retriever.invoke("微信小店的GMV增长了多少？")
    assert len(docs) == assistant.settings.k
    meta = docs[0].metadata
    assert {"id", "doc_id", "title", "section", "score", "dense", "bm25"} <= set(meta)
    assert meta["doc_id"] == "wechat-open-class-2025.md"
    assert all(d.metadata["dense"] is not None or d.metadata["bm25"] is not None for d in docs)
    both = [d.metadata["score"] for d in docs if d.metadata["dense"] and d.metadata["bm25"]]
    assert both == sorted(both, reverse=True) and len(both) >= 3


def test_rrf_rewards_agreement():
    a, b, c = {"id": "a"}, {"id": "b"}, {"id": "c"}
    fused = reciprocal_rank_fusion({"dense": [(a, 0.9), (b, 0.8)], "bm25": [(b, 5.0), (c, 1.0)]})
    assert [r["id"] for r, _, _ in fused] == ["b", "a", "c"]


def test_a_rankings_leader_is_kept():
    rows = [
        ({"id": str(i)}, 1.0 / (i + 1), {"dense": (i + 1, 0.5), "bm25": (i + 2, 1.0)})
        for i in range(6)
    ]
    lone = ({"id": "lone"}, 0.001, {"bm25": (1, 9.0)})
    kept = keep_leaders(rows + [lone], 3)
    assert [r["id"] for r, _, _ in kept] == ["0", "1", "lone"]
