"""Store: where passages live and how they are found again.

Owns the embedders, where an index lives (a folder or a Chroma server), the
manifest, Chroma and BM25, incremental sync and its lock. Takes chunks from
``ingest``; hands on an open :class:`~.index.Index` (dense, BM25 and
sentence-vector look-ups). Does not answer.
"""
