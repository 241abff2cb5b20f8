"""Ingest: from files to text the rest of the pipeline can trust.

Owns reading articles (Markdown with bounded front matter, text, saved HTML;
encodings), script normalisation, sentences and tokens, chunking with stable
ids, the glossary, and accepting uploads. Hands on :class:`~.corpus.Article`
and :class:`~.chunking.Chunk`; knows nothing of Chroma or answers.
"""
