"""Bench: figures, not features.

Index build time, query latency, the cost of the citation check, a load
check against ``assistant serve``, and the scale benchmark over a corpus
scaler. ``python -m assistant.bench`` (``make bench``) runs them; nothing in
the answer path imports this package.
"""
