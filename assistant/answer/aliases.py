"""A question's words that the articles lack, read as the article's word for them.

People write 公司 where the article says 企业, 男性 for 男女, 帐号 for 账号,
新手 for 新人. For a content word that is not in the index's vocabulary, the
nearest vocabulary word by the embedder's cosine stands in for it when the
two are very close (``AnswerPolicy.alias_similarity``, chosen by
cross-validation in ``assistant.calibration``). Learned from the corpus
itself: a new article brings its own words, and no list is kept by hand.
Below that similarity the embedder's neighbours are mostly unrelated
(费率 → 转发率, 卖得 → 售后), so nothing is replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .matching import is_content_word

Embed = Callable[[list[str]], list[list[float]]]
_CACHE = 10_000


def _candidate(word: str) -> bool:
    return len(word) > 1 and not word.isascii() and is_content_word(word)


class Aliases:
    """The vocabulary's content words and their vectors (made once per index)."""

    def __init__(self, vocabulary: Iterable[str], embed: Embed, min_similarity: float) -> None:
        self._embed = embed
        self.min_similarity = min_similarity
        self.known = frozenset(vocabulary)
        self.words = sorted(w for w in self.known if _candidate(w))
        vectors = embed(self.words) if self.words and min_similarity < 1 else []
        self._vectors = np.asarray(vectors, dtype=np.float32)
        self._seen: dict[str, str | None] = {}

    def of(self, word: str) -> str | None:
        """The article's word for ``word``, or None (known already, or nothing close)."""
        if word in self.known or not _candidate(word) or not len(self._vectors):
            return None
        if word not in self._seen:
            if len(self._seen) >= _CACHE:
                self._seen.clear()
            sims = self._vectors @ np.asarray(self._embed([word])[0], dtype=np.float32)
            best = int(np.argmax(sims))
            self._seen[word] = self.words[best] if sims[best] >= self.min_similarity else None
        return self._seen[word]

    def replace(self, tokens: list[str]) -> list[str]:
        """``tokens`` with each alias put in place of the word it stands for."""
        out = [self.of(t) or t for t in tokens]
        return list(dict.fromkeys(out))
