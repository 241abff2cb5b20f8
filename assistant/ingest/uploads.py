"""Adding an article through the UI: validate an uploaded file, then save it
into the corpus folder under a clean name.

An upload is data from a stranger: only the :data:`ALLOWED` types (text,
HTML, PDF, DOCX) of at most ``max_bytes`` are taken; the name is reduced to
its last component and to safe characters (``../../evil.md`` becomes
``evil.md``); the content must read as an article (same reader as the index,
so encodings such as GBK work, and PDF and DOCX are read within their page,
character, memory and time limits) before anything is written. A rejected
upload changes nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..errors import AssistantError
from .corpus import Article, UnreadableFile, read_article
from .text import split_sentences

ALLOWED = (".md", ".txt", ".html", ".htm", ".pdf", ".docx")
#: the allowed types as a person reads them: ".md, .txt, … or .docx"
ALLOWED_TEXT = f"{', '.join(ALLOWED[:-1])} or {ALLOWED[-1]}"
ALLOWED_TEXT_ZH = f"{'、'.join(ALLOWED[:-1])} 或 {ALLOWED[-1]}"
_UNSAFE = re.compile(r"[^\w.\-]+")


class UploadRejected(AssistantError):
    """The uploaded file was not saved; the message says why."""


def received_upload(path: str | None, received: Iterable[str], folder: str | Path) -> Path:
    """``path`` if it is a file this process received as an upload: inside the
    upload ``folder`` and among the ``received`` paths, both compared after
    symlinks are resolved. Anything else — a path a client made up, such as
    ``/etc/passwd`` or a link out of the folder — is :class:`UploadRejected`.

    A web framework hands a handler whatever path a client posts; this is the
    check that the file really came in through the upload form.
    """
    if not path:
        raise UploadRejected(
            f"Choose a {ALLOWED_TEXT} file first.", zh=f"请先选择文件（{ALLOWED_TEXT_ZH}）。"
        )
    try:
        resolved = Path(path).resolve(strict=True)
    except (OSError, RuntimeError):
        resolved = None
    inside = resolved is not None and resolved.is_relative_to(Path(folder).resolve())
    if not inside or resolved not in {Path(p).resolve() for p in received}:
        raise UploadRejected(
            "Only files uploaded on this page can be added.", zh="只能添加通过本页上传的文件。"
        )
    return resolved


class NameTaken(UploadRejected):
    """An article of that name is already in the folder; adding is not replacing."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"{name} is already in the knowledge base; to replace it, pick it in the "
            "table and use Replace (assistant add FILE --replace ID), or rename the file",
            zh=f"知识库里已有 {name}。要替换它，请在表中选中它再点“替换”"
            "（或 assistant add FILE --replace ID）；也可以给文件改名。",
        )


@dataclass(frozen=True)
class SavedUpload:
    path: Path
    article: Article


def clean_name(name: str) -> str:
    """A safe file name: last path component, word characters, dots and dashes.

    >>> clean_name("../../evil.md"), clean_name("C:\\\\x\\\\報告 2025.txt")
    ('evil.md', '報告_2025.txt')
    """
    base = PureWindowsPath(PurePosixPath(name).name).name
    base = unicodedata.normalize("NFC", base)
    base = _UNSAFE.sub("_", base).strip("._-")
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem:
        raise UploadRejected(
            f"{name!r} has no usable file name; use e.g. article.md",
            zh=f"{name!r} 不是可用的文件名，请改成例如 article.md",
        )
    return f"{stem[:100]}.{ext.lower()}"


def discard_upload(path: Path, received: set[str], folder: str | Path) -> None:
    """Delete an uploaded file once it was added (or refused): the corpus holds
    its copy, and Gradio's upload folder must not grow with every upload."""
    received.difference_update({p for p in received if Path(p).resolve() == path})
    path.unlink(missing_ok=True)
    if path.parent != Path(folder).resolve():
        try:
            path.parent.rmdir()  # Gradio keeps each upload in a folder of its own
        except OSError:
            pass


def save_upload(
    source: Path,
    original_name: str,
    corpus_dir: Path,
    max_bytes: int,
    max_sentences: int = 8_000,
    replace: bool = False,
) -> SavedUpload:
    """Validate ``source`` (the uploaded temp file) and copy it into ``corpus_dir``.

    A file of the same name is replaced only with ``replace``; otherwise the
    upload is refused (:class:`NameTaken`), so that two teams' ``report.pdf``
    never silently overwrite each other.

    Every distinct sentence is embedded when the article is indexed (about
    900 a second on two cores, holding the index lock); an upload with more
    than ``max_sentences`` is refused, so that one upload cannot hold up the
    others for minutes (512 KiB of short sentences took 82 s).
    """
    name = clean_name(original_name)
    if not name.endswith(ALLOWED):
        raise UploadRejected(
            f"{name}: only {ALLOWED_TEXT} files can be added",
            zh=f"{name}：只能添加 {ALLOWED_TEXT_ZH} 文件",
        )
    size = source.stat().st_size
    if size > max_bytes:
        raise UploadRejected(
            f"{name} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB",
            zh=f"{name} 有 {size / 1e6:.1f} MB，上限是 {max_bytes / 1e6:.1f} MB",
        )
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / name
        shutil.copyfile(source, probe)
        try:
            article = read_article(probe, name, max_bytes)
        except UnreadableFile as exc:
            raise UploadRejected(
                f"{name} cannot be read as an article: {exc}",
                zh=f"{name} 无法作为文章读取：{exc.zh or exc}",
            ) from exc
    sentences = len({s for line in article.text.split("\n") for s in split_sentences(line)})
    if sentences > max_sentences:
        raise UploadRejected(
            f"{name} has {sentences:,} sentences; an upload may have {max_sentences:,}. "
            "Split it, or put it in the corpus folder and run: assistant index",
            zh=f"{name} 有 {sentences:,} 句，上传的文章最多 {max_sentences:,} 句。"
            "请拆分，或放进文章目录后运行 assistant index",
        )
    target = corpus_dir / name
    try:
        corpus_dir.mkdir(parents=True, exist_ok=True)
        _place(source, target, replace)
    except FileExistsError:
        raise NameTaken(name) from None
    except OSError as exc:
        raise UploadRejected(
            f"{name} could not be saved ({exc.strerror or exc})",
            zh=f"{name} 无法保存（{exc.strerror or exc}）",
        ) from exc
    return SavedUpload(target, article)


def _place(source: Path, target: Path, replace: bool) -> None:
    """Copy ``source`` to ``target`` whole (readers see the old file or the
    new one); FileExistsError when there is one and not ``replace``. The
    temporary copy has a name of its own (hidden: the index ignores it), so
    that uploads of the same name at the same moment do not trip over each
    other; a hard link claims a free name atomically, so exactly one of them
    is told "added"."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    partial = Path(tmp)
    try:
        os.fchmod(fd, 0o644)  # as a copied file would be, not mkstemp's 0600
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out)
        try:
            os.link(partial, target)
        except FileExistsError:
            if not replace:
                raise
            partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
