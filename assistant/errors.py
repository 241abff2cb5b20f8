"""Domain errors. The library raises these; only the edges (CLI, UI, HTTP)
turn them into messages and exit or status codes. Each message names the next
action a user can take.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the assistant reports to a user.

    The message is English (the CLI's and the API's language); ``zh`` is the
    same in Chinese where the web page may show it, for the page's 中文 side.
    """

    def __init__(self, *args: object, zh: str | None = None) -> None:
        super().__init__(*args)
        self.zh = zh

    def say(self, lang: str) -> str:
        """The message in ``lang`` (``zh`` or ``en``), English where there is no Chinese."""
        return self.zh if lang == "zh" and self.zh else str(self)


class InvalidQuestion(AssistantError):
    """The question is empty or over the length limit."""


class EmptyQuestion(InvalidQuestion):
    def __init__(self) -> None:
        super().__init__("Please type a question, e.g. 微信小店的GMV增长了多少？")


class QuestionTooLong(InvalidQuestion):
    def __init__(self, length: int, limit: int) -> None:
        self.length, self.limit = length, limit  # for a message in another language
        super().__init__(
            f"The question is {length:,} characters long; the limit is {limit:,}. "
            "Please shorten it."
        )


class IndexNotBuilt(AssistantError):
    def __init__(self, index_dir: object) -> None:
        super().__init__(f"No index at {index_dir}; build it with: assistant index")


class IndexCorrupt(AssistantError):
    def __init__(self, index_dir: object, detail: str) -> None:
        super().__init__(
            f"The index at {index_dir} cannot be read ({detail}); run: assistant index --rebuild"
        )


class EmbedderMismatch(AssistantError):
    def __init__(self, index_dir: object, built_with: str, wanted: str) -> None:
        super().__init__(
            f"{index_dir} was built with {built_with}, but the embedder is {wanted}; "
            "run: assistant index --rebuild"
        )


class IndexBusy(AssistantError):
    def __init__(self, index_dir: object) -> None:
        super().__init__(
            f"Another 'assistant index' is updating {index_dir}; try again when it finishes.",
            zh="另一个索引任务正在更新索引，请等它完成后再试。",
        )


class EmbedderUnavailable(AssistantError):
    """The configured embedder cannot be loaded (missing extra, bad model path)."""


class StoreUnavailable(AssistantError):
    """The Chroma server cannot be reached (down, wrong URL, refused token)."""

    def __init__(self, where: object, detail: str) -> None:
        super().__init__(
            f"The index server at {where} cannot be reached ({detail}); "
            "check that 'chroma run' is up. Answers resume when it is back."
        )
