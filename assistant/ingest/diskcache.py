"""Dictionaries that are slow to build at every start, kept on disk between runs.

A cold ``assistant ask`` spent 2 s before this on two things that depend only
on files inside installed packages (measured on 2 cores):

* jieba's dictionary and its part-of-speech tags (1.1 s, now 0.25 s): jieba reads
  its own cache with ``marshal.load`` from a file object (0.6-0.8 s;
  ``marshal.loads`` of the same bytes takes 0.2 s), and ``jieba.posseg`` parses
  the 5 MB dict.txt for the tags twice (once for its module-level tokenizer) —
  here one file holds both;
* the USE encoder (0.95 s, now 0.1 s; :mod:`assistant.store.embeddings`):
  parsing sp.model into a 250,000-entry prefix table, and inflating 65 MB of
  weights from their zip. Kept as a pickle whose arrays lie uncompressed and
  aligned in the file (:func:`dumps_with_buffers`), mapped rather than read.

Where: ``$XDG_CACHE_HOME/article-assistant`` (default ``~/.cache/article-assistant``),
not index/: the data belongs to the installed packages, not to an index, so one
copy serves every index folder (tests make many), a Chroma server (which has no
index folder) and survives ``assistant index --rebuild``.

How a stale file is never used: its name holds a digest of everything the data
depends on (the library's version, the SHA-256 of its source file, Python's
version, our format number) and the file starts with the full digest, which
must match. Writes go to a temp file renamed into place, so a reader sees a
whole file or none. A corrupt file is rebuilt (one warning line); an unwritable
folder means building each time (one info line); never a traceback.
"""

from __future__ import annotations

import hashlib
import io
import logging
import marshal
import mmap
import os
import pickle
import struct
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import jieba

log = logging.getLogger(__name__)

T = TypeVar("T")
#: bump when what a cache file holds changes shape
FORMAT = 1
_MAGIC = b"article-assistant cache\n"
#: the header's size: the payload starts aligned, so arrays in it can be mapped as they lie
_HEADER = 128
_ALIGN = 64


def cache_folder() -> Path:
    """``$XDG_CACHE_HOME/article-assistant``, or ``~/.cache/article-assistant``
    (a relative XDG_CACHE_HOME is ignored, as the XDG spec says)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "article-assistant"


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes (a source the cached data was built from)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def cache_key(name: str, parts: Iterable[str]) -> str:
    """The digest naming a cache file: ``name``, ``parts`` (versions, source
    hashes), our format and the interpreter's (marshal and pickle differ by version)."""
    h = hashlib.sha256()
    for part in (name, str(FORMAT), sys.implementation.cache_tag, str(marshal.version), *parts):
        h.update(part.encode("utf-8") + b"\0")
    return h.hexdigest()


def cached(
    name: str,
    parts: Iterable[str],
    build: Callable[[], T],
    dump: Callable[[T], bytes],
    load: Callable[[memoryview], T],
    folder: Path | None = None,
) -> T:
    """``load`` of the cache file for (``name``, ``parts``) if there is a good
    one; else ``build()``, written to the cache with ``dump`` for next time.
    ``load`` raises on data it does not accept: that file is rebuilt."""
    key = cache_key(name, parts)
    path = (folder or cache_folder()) / f"{name}-{key[:16]}.bin"
    header = (_MAGIC + key.encode("ascii") + b"\n").ljust(_HEADER, b" ")
    problem = ""
    try:
        data = _mapped(path)
    except FileNotFoundError:
        data = None
    except (OSError, ValueError) as exc:  # ValueError: an empty file cannot be mapped
        data, problem = None, f"{path} is unreadable ({exc}); rebuilt it"
    if data is not None:
        if data[:_HEADER] == header:
            try:
                return load(data[_HEADER:])
            except Exception as exc:  # any failure means: rebuild
                problem = f"{path} is corrupt ({type(exc).__name__}); rebuilt it"
        else:
            problem = f"{path} was not written for these sources; rebuilt it"
    value = build()
    try:
        _write(path, header, dump(value))
    except Exception as exc:  # an unwritable cache only costs time
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        before = f"{problem}; " if problem else ""
        log.info("%scannot write the cache %s (%s)", before, path, reason)
        return value
    if problem:
        log.warning("cache %s", problem)
    return value


def _mapped(path: Path) -> memoryview:
    """The file's bytes, mapped read-only (pages are read as they are used; a
    file replaced meanwhile by another process stays whole for this one)."""
    with open(path, "rb") as f:
        return memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))


def _write(path: Path, header: bytes, data: bytes) -> None:
    """``header`` and ``data`` into ``path`` atomically: a temp file beside it,
    renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(header)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def dumps_with_buffers(obj: Any) -> bytes:
    """``obj`` pickled (protocol 5) with its arrays' memory out of band, each
    block aligned after the pickle: :func:`loads_with_buffers` then makes the
    arrays over the mapped file instead of copying them.

    Layout: pickle length, block count, (offset, length) of each block, the
    pickle, the blocks; offsets from the payload's start."""
    blocks: list[pickle.PickleBuffer] = []
    body = pickle.dumps(obj, protocol=5, buffer_callback=blocks.append)
    raws = [b.raw() for b in blocks]
    offset = 16 + 16 * len(raws) + len(body)
    table, spans = [], []
    for raw in raws:
        offset += -offset % _ALIGN
        spans.append((offset, raw.nbytes))
        table.append(struct.pack("<QQ", offset, raw.nbytes))
        offset += raw.nbytes
    out = bytearray(struct.pack("<QQ", len(body), len(raws)) + b"".join(table) + body)
    for (start, _), raw in zip(spans, raws, strict=True):
        out += bytes(start - len(out)) + raw
    return bytes(out)


def loads_with_buffers(data: memoryview, unpickler: type[pickle.Unpickler]) -> Any:
    """What :func:`dumps_with_buffers` wrote, read with ``unpickler`` (a subclass
    that admits only the classes expected); arrays share ``data``'s memory."""
    length, count = struct.unpack_from("<QQ", data)
    spans = [struct.unpack_from("<QQ", data, 16 + 16 * i) for i in range(count)]
    start = 16 + 16 * count
    if any(o < start + length or o + n > len(data) for o, n in spans):
        raise ValueError("blocks outside the payload")
    body = io.BytesIO(data[start : start + length])
    return unpickler(body, buffers=[data[o : o + n] for o, n in spans]).load()


# -- jieba ------------------------------------------------------------------

JiebaData = tuple[dict[str, int], int, dict[str, str]]


def jieba_dictionary(
    lexicon: Path, folder: Path | None = None
) -> tuple[jieba.Tokenizer, dict[str, str]]:
    """A jieba tokenizer of the default dictionary plus ``lexicon``, and every
    word's part-of-speech tag — what ``POSTokenizer(Tokenizer())`` then
    ``load_userdict(lexicon)`` make, with the default dictionary's part read
    from the cache. The lexicon is added after the cache, so editing it needs
    no invalidation."""
    tokenizer = jieba.Tokenizer()
    source = tokenizer.get_dict_file()  # dict.txt inside the package
    with source:
        digest = hashlib.file_digest(source, "sha256").hexdigest()
    freq, total, tags = cached(
        "jieba", [jieba.__version__, digest], _build_jieba, _dump_jieba, _load_jieba, folder
    )
    tokenizer.FREQ, tokenizer.total, tokenizer.initialized = freq, total, True
    tokenizer.load_userdict(str(lexicon))
    tags.update(tokenizer.user_word_tag_tab)  # as POSTokenizer.makesure_userdict_loaded
    tokenizer.user_word_tag_tab = {}
    return tokenizer, tags


def _build_jieba() -> JiebaData:
    import jieba.posseg

    tokenizer = jieba.Tokenizer()
    freq, total = tokenizer.gen_pfdict(tokenizer.get_dict_file())  # what initialize() makes
    tags = jieba.posseg.POSTokenizer(tokenizer).word_tag_tab  # dict.txt's third column
    return freq, total, tags


def _dump_jieba(data: JiebaData) -> bytes:
    freq, total, tags = data
    # the tag table's words and tags as the same objects as FREQ's keys and one
    # another: marshal writes a repeated object once, and loads it once
    words = {w: w for w in freq}
    shared = {words.get(w, w): sys.intern(t) for w, t in tags.items()}
    return marshal.dumps((freq, total, shared))


def _load_jieba(data: memoryview) -> JiebaData:
    freq, total, tags = marshal.loads(data)
    if not (isinstance(freq, dict) and isinstance(total, int) and isinstance(tags, dict)):
        raise TypeError("not jieba's dictionary")
    if not freq or not tags or total <= 0:
        raise ValueError("an empty dictionary")
    return freq, total, tags
