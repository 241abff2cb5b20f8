"""Article assistant: cited answers to questions about a folder of Chinese articles.

The pipeline, one module per stage: ``corpus`` (read files) → ``chunking``
(passages with section paths) → ``embeddings`` + ``store`` (Chroma and BM25
under ``index/``) → ``retrieval`` (hybrid search) → ``answer`` (extractive,
cited). ``service`` wires them into one LangChain chain; ``cli`` and ``ui.py``
are the edges that turn domain errors into messages.
"""

from __future__ import annotations

__version__ = "0.1.0"
