"""Reading the formats of articles that strangers upload, with bounds.

An uploaded file is data from anyone: its YAML front matter and its HTML are
parsed here with limits on what parsing may cost, so that a few hundred bytes
cannot take gigabytes or minutes (a "billion laughs" alias bomb grew the
server from 0.74 to 3.14 GB; 20,000 nested ``<div>`` took 33 s).
"""

from __future__ import annotations

from typing import Any

import frontmatter
import lxml.etree
import lxml.html
import yaml
from frontmatter.default_handlers import YAMLHandler

#: Front matter longer than this is refused: real articles use a few hundred characters.
MAX_FRONT_MATTER = 8_000
#: The front-matter fields the assistant keeps (shown with the article, stored
#: in the manifest); others are dropped, so that an article's record stays small.
META_FIELDS = ("title", "source", "author", "authors", "editor", "date", "language", "url")
MAX_META_CHARS = 300
#: HTML nested this deep is refused (libxml2's own limit: deeper content is lost)
MAX_HTML_DEPTH = 256


class UnreadableFile(Exception):
    """A corpus file that cannot be turned into text; the reason is the message
    (and ``zh``, the reason in Chinese, where the web page may show it)."""

    def __init__(self, message: str, zh: str | None = None) -> None:
        super().__init__(message)
        self.zh = zh


def check_depth(html: str) -> None:
    """UnreadableFile for HTML nested :data:`MAX_HTML_DEPTH` levels or more.

    BeautifulSoup's work grows with the square of the nesting (20,000 nested
    ``<div>`` took 33 s); libxml2 (C, linear) measures it first. It stops at
    256 levels itself and drops what lies deeper, so such a page could not be
    read whole anyway. Saved articles nest a few dozen levels.
    """
    try:
        root = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return  # empty or odd: BeautifulSoup copes, or finds no text
    depth = deepest = 0
    for event, _ in lxml.etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        deepest = max(deepest, depth)
    if deepest >= MAX_HTML_DEPTH:
        raise UnreadableFile(
            f"HTML nested {MAX_HTML_DEPTH} levels deep or more; save it as text",
            zh=f"HTML 嵌套 {MAX_HTML_DEPTH} 层以上，请另存为纯文本",
        )


class _NoAliases(yaml.SafeLoader):
    """YAML without aliases: ``*a`` repeated in nested lists ("billion laughs")
    turned 322 bytes of front matter into gigabytes; an article needs none."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("YAML aliases (*name) are not allowed in front matter")
        return super().compose_node(parent, index)


class _FrontMatter(YAMLHandler):
    """python-frontmatter's YAML handler, bounded: size checked, no aliases."""

    def load(self, fm: str, **kwargs: object) -> Any:
        if len(fm) > MAX_FRONT_MATTER:
            raise UnreadableFile(
                f"front matter over {MAX_FRONT_MATTER:,} characters",
                zh=f"文件头信息（front matter）超过 {MAX_FRONT_MATTER:,} 个字符",
            )
        return yaml.load(fm, Loader=_NoAliases)  # noqa: S506 - a SafeLoader


def front_matter(text: str) -> tuple[dict[str, str], str]:
    r"""A Markdown file's YAML front matter (only :data:`META_FIELDS`, each value
    text of at most :data:`MAX_META_CHARS`) and its body; UnreadableFile if the
    front matter is malformed, too long or uses aliases.

    >>> front_matter("---\ntitle: T\nauthors: [甲, 乙]\ntags: x\n---\nBody")
    ({'title': 'T', 'authors': '甲, 乙'}, 'Body')
    """
    try:
        post = frontmatter.loads(text, handler=_FrontMatter())
    except UnreadableFile:
        raise
    except Exception as exc:  # a YAML error (or deep nesting) in the front matter
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UnreadableFile(
            f"bad front matter: {first}", zh=f"文件头信息（front matter）有误：{first}"
        ) from exc
    if not isinstance(post.metadata, dict):
        raise UnreadableFile(
            "bad front matter: not a mapping of fields",
            zh="文件头信息（front matter）有误：不是字段列表",
        )
    meta = {}
    for key, value in post.metadata.items():
        if key not in META_FIELDS or value is None or value == "":
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        meta[key] = shown[:MAX_META_CHARS]
    return meta, post.content
