"""Removing and replacing an article in the corpus folder (the knowledge
base panel's and the CLI's ``remove`` / ``add --replace``).

An article is named by its id, its path relative to the corpus folder, as
the index lists it. The id is a name from a person or a script: it must name
a file the folder reads as an article, inside the folder (``../x.md`` or a
link out of it is refused), or nothing happens. Only the corpus folder
changes here; the index follows at the next sync, which re-embeds nothing
but the article that changed.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import AssistantError
from .corpus import EXTENSIONS
from .uploads import SavedUpload, clean_name, save_upload


class ArticleNotFound(AssistantError):
    """No article of that id in the corpus folder; the message names it."""

    def __init__(self, doc_id: str) -> None:
        super().__init__(
            f"No article {doc_id!r} in the corpus folder; see the list: assistant articles",
            zh=f"文章目录里没有 {doc_id!r}。",
        )


def article_path(corpus_dir: Path, doc_id: str) -> Path:
    """The file of article ``doc_id``: inside ``corpus_dir`` after links are
    resolved, of a type the folder reads, and there; else :class:`ArticleNotFound`.

    >>> import tempfile; folder = Path(tempfile.mkdtemp()); _ = (folder / "a.md").write_text("x")
    >>> article_path(folder, "a.md").name
    'a.md'
    >>> article_path(folder, "../a.md")
    Traceback (most recent call last):
    assistant.ingest.articles.ArticleNotFound: No article '../a.md' in the corpus folder; ...
    """
    root = corpus_dir.resolve()
    if not isinstance(doc_id, str) or not doc_id or "\x00" in doc_id:
        raise ArticleNotFound(str(doc_id))
    path = (corpus_dir / doc_id).resolve()
    hidden = any(part.startswith(".") for part in Path(doc_id).parts)
    if (
        hidden
        or not path.is_relative_to(root)
        or path == root
        or path.suffix.lower() not in EXTENSIONS
        or not path.is_file()
    ):
        raise ArticleNotFound(doc_id)
    return path


def remove_article(corpus_dir: Path, doc_id: str) -> Path:
    """Delete article ``doc_id``'s file from the corpus folder; returns its path."""
    path = article_path(corpus_dir, doc_id)
    try:
        path.unlink()
    except FileNotFoundError:
        raise ArticleNotFound(doc_id) from None
    except OSError as exc:
        raise AssistantError(
            f"{doc_id} could not be deleted ({exc.strerror or exc})",
            zh=f"{doc_id} 无法删除（{exc.strerror or exc}）",
        ) from exc
    return path


def replace_article(
    corpus_dir: Path,
    doc_id: str,
    source: Path,
    original_name: str,
    max_bytes: int,
    max_sentences: int = 8_000,
) -> SavedUpload:
    """Put ``source`` (a new version, validated as an upload) in the place of
    article ``doc_id``: under the same name when it is of the same type (the
    article keeps its id), else under the old name with the new type's
    extension, the old file removed. Nothing changes if the new file is refused.
    """
    old = article_path(corpus_dir, doc_id)
    new_ext = Path(clean_name(original_name)).suffix.lower()
    saved = save_upload(
        source, old.stem + new_ext, old.parent, max_bytes, max_sentences, replace=True
    )
    if saved.path.resolve() != old:
        old.unlink(missing_ok=True)
    return saved
