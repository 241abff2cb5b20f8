"""Hybrid search as a LangChain ``BaseRetriever``: dense + BM25, fused by rank.

Both halves search the simplified form of the question (``t2s``; ``tw2sp``
too when it is traditional), so simplified, traditional and English
questions reach the same passages: dense through the multilingual embedder,
BM25 through jieba tokens of both forms. Reciprocal-rank fusion (score =
Σ weight/(rrf_k + rank)) needs no score calibration between the two; on the
dev questions each half alone reached hit@5 0.95 and the fusion 1.00.

BM25's rank weighs 1.5 times dense's (``bm25_weight``): among 1,000 look-alike
articles (``make bench``) BM25 alone kept hit@5 at 1.00 while dense fell to
0.60, and with equal weights dense's near-ties pushed BM25's third-ranked
right passage out of the top 5 (hybrid 0.93; 1.00 with the weight).
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from ..ingest.text import search_tokens, to_simplified
from ..settings import default
from ..store.index import Index

Fused = tuple[dict[str, Any], float, dict[str, tuple[int, float]]]


def reciprocal_rank_fusion(
    rankings: dict[str, list[tuple[dict[str, Any], float]]],
    rrf_k: int = default("rrf_k"),
    weights: dict[str, float] | None = None,
) -> list[Fused]:
    """Fuse ranked lists of ``(record, score)`` keyed by record ``id``
    (``weights``: per ranking, default 1).

    Returns ``(record, fused score, {ranking name: (rank, score)})`` best first.

    >>> a, b = {"id": "a"}, {"id": "b"}
    >>> [(r["id"], round(s, 4)) for r, s, _ in reciprocal_rank_fusion(
    ...     {"dense": [(a, .9), (b, .5)], "bm25": [(b, 3.0)]}, rrf_k=60)]
    [('b', 0.0325), ('a', 0.0164)]
    """
    fused: dict[str, Fused] = {}
    for name, ranking in rankings.items():
        weight = (weights or {}).get(name, 1.0)
        for rank, (record, score) in enumerate(ranking, start=1):
            rec, total, ranks = fused.get(record["id"], (record, 0.0, {}))
            ranks[name] = (rank, score)
            fused[record["id"]] = (rec, total + weight / (rrf_k + rank), ranks)
    return sorted(fused.values(), key=lambda item: -item[1])


def keep_leaders(fused: list[Fused], k: int) -> list[Fused]:
    """The top ``k`` of a fused list, making sure each ranking's own first hit is in.

    Plain RRF lets a passage that is first for one ranking and absent from the
    other (张小龙's only mention, found by BM25 alone) lose to passages that
    are mediocre in both; a ranking's leader is strong evidence, so it
    replaces the last fused passage instead.
    """
    leaders = [item for item in fused[k:] if any(rank == 1 for rank, _ in item[2].values())]
    return (fused[: max(0, k - len(leaders))] + leaders)[:k]


class HybridRetriever(BaseRetriever):
    """Top ``k`` passages from ``fetch_k`` dense and ``fetch_k`` BM25 candidates.

    Each ``Document`` carries the passage text and metadata ``id``, ``doc_id``,
    ``title``, ``section``, ``score`` (fused), ``dense`` (cosine) and ``bm25``.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Index
    k: int = default("k")
    fetch_k: int = default("fetch_k")
    rrf_k: int = default("rrf_k")
    bm25_weight: float = default("bm25_weight")

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        dense = self.index.dense(to_simplified(query), self.fetch_k)
        lexical = self.index.lexical(search_tokens(query), self.fetch_k)
        fused = reciprocal_rank_fusion(
            {"dense": dense, "bm25": lexical}, self.rrf_k, {"bm25": self.bm25_weight}
        )
        docs = []
        for record, score, ranks in keep_leaders(fused, self.k):
            meta = {key: value for key, value in record.items() if key != "text"}
            meta.update(
                score=score,
                dense=ranks.get("dense", (None, None))[1],
                bm25=ranks.get("bm25", (None, None))[1],
            )
            docs.append(Document(page_content=record["text"], metadata=meta, id=record["id"]))
        return docs
