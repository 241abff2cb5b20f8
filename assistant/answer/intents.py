"""Messages that are not a search: greetings, thanks, "what can you do?",
and questions about the article itself (who wrote it, where it is from).

A nearest-neighbour classifier over the embedder: each intent has a few
example messages in simplified and traditional Chinese and English (the
multilingual embedder carries them over to other wordings); a message takes
the intent of its most similar example when the cosine reaches
``min_similarity`` (calibrated by ``tests/test_intents.py`` on the labelled
lines of the question sets, which are not examples here). Chit-chat also
needs the message to name nothing the articles know: "你好，小店GMV涨了多少"
is a question with a greeting in front.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np

Intent = Literal["greeting", "thanks", "capabilities", "about"]

#: examples by label: an intent, and for "about" the field asked (``about:author``)
EXEMPLARS: dict[str, tuple[str, ...]] = {
    "greeting": (
        "你好",
        "您好",
        "嗨",
        "在吗",
        "哈喽",
        "早上好",
        "晚上好",
        "大家好",
        "hello",
        "hi there",
        "good morning",
        "哈囉",
        "你好呀，有人吗",
    ),
    "thanks": (
        "谢谢",
        "谢谢你",
        "多谢",
        "感谢",
        "太感谢了",
        "好的，明白了，谢谢",
        "辛苦了",
        "thank you",
        "thanks a lot",
        "great, thanks",
        "謝謝",
        "感謝你的幫忙",
    ),
    "capabilities": (
        "你能做什么",
        "你是谁",
        "你可以回答哪些问题",
        "你都知道些什么",
        "怎么用",
        "介绍一下你自己",
        "what can you do",
        "what can I ask you",
        "who are you",
        "how does this work",
        "help",
        "你支持哪些问题",
        "what topics can you answer",
        "你會什麼",
        "你能回答哪方面的問題",
        "你能帮我查什么",
        "可以帮我查哪些资料",
        "你这个助手能干啥",
        "你能帮我干点什么",
    ),
    # questions about the article itself, by the front-matter field they ask for
    "about:author": (
        "这篇文章的作者是谁",
        "这篇文章是谁写的",
        "這篇文章的作者是誰",
        "who wrote this article",
        "who is the author",
    ),
    "about:source": (
        "文章出自哪里",
        "这篇文章的来源是什么",
        "文章是哪个媒体发的",
        "這篇文章出自哪裡",
        "where is this article from",
        "which outlet published this",
    ),
    "about:editor": ("这篇文章的编辑是谁", "責任編輯是誰", "who edited this article"),
    "about:title": ("文章的标题是什么", "文章叫什么名字", "what is the title of the article"),
    "about:date": ("文章是什么时候发布的", "这篇文章是哪天发的", "when was the article published"),
    "about:language": ("文章用什么语言写的", "what language is the article in"),
    "about:summary": (
        "这篇文章讲了什么",
        "文章主要内容是什么",
        "這篇文章在講什麼",
        "what is the article about",
        "summarize the article",
    ),
}


@dataclass(frozen=True)
class IntentMatch:
    label: str  # "greeting", or "about:author"
    similarity: float
    example: str

    @property
    def intent(self) -> Intent:
        return cast(Intent, self.label.partition(":")[0])

    @property
    def field(self) -> str:
        """The front-matter field an "about" question asks for ('' otherwise)."""
        return self.label.partition(":")[2]


class IntentClassifier:
    """Nearest example by cosine (vectors are unit length)."""

    def __init__(
        self,
        embed: Callable[[list[str]], list[list[float]]],
        min_similarity: float,
    ) -> None:
        self._embed = embed
        self.min_similarity = min_similarity
        self._labels = [label for label, texts in EXEMPLARS.items() for _ in texts]
        self._examples = [t for texts in EXEMPLARS.values() for t in texts]
        self._vectors = np.asarray(embed(self._examples), dtype=np.float32)

    def nearest(self, vector: np.ndarray) -> IntentMatch:
        """The most similar example and its intent."""
        sims = self._vectors @ vector
        i = int(np.argmax(sims))
        return IntentMatch(self._labels[i], float(sims[i]), self._examples[i])

    def classify(self, vector: np.ndarray, names_known_words: bool) -> IntentMatch | None:
        """The message's intent, or None for a question to search for.

        ``vector`` is the message's embedding; ``names_known_words`` whether it
        holds a word the articles use (then it is no chit-chat).
        """
        match = self.nearest(vector)
        if match.similarity < self.min_similarity:
            return None
        if match.intent != "about" and names_known_words:
            return None
        return match
