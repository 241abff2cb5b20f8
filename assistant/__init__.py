"""Article assistant: cited answers to questions about a folder of Chinese articles.

One subpackage per pipeline stage; imports only go down this list
(``tests/test_layers.py`` checks it):

* ``ingest`` — files → articles, sentences, tokens, chunks;
* ``store`` — embedders, Chroma + BM25, the manifest, incremental sync → an open index;
* ``answer`` — retrieval, the extractive or model answer and its checks → ``Answer``;
* ``serve`` — HTTP server, Gradio chat, OpenAI-style API, access control;
* top level — ``settings`` and ``errors`` (used by all), ``evaluation``,
  ``cli``; ``bench`` (benchmarks, never in the answer path).
"""

from __future__ import annotations

__version__ = "0.1.0"
