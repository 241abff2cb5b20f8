"""The installed ``assistant`` command, run as a user would (subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEV_QUESTIONS

ASSISTANT = str(Path(sys.executable).with_name("assistant"))


def run(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [ASSISTANT, *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=stdin,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory) -> dict[str, str]:
    """An index built by ``assistant index`` from a copy of the corpus."""
    import shutil

    from tests.conftest import CORPUS

    base = tmp_path_factory.mktemp("cli")
    shutil.copytree(CORPUS, base / "corpus")
    env = {"ASSISTANT_CORPUS_DIR": str(base / "corpus"), "ASSISTANT_INDEX_DIR": str(base / "index")}
    first = run("index", env=env)
    assert first.returncode == 0, first.stderr
    assert "1 added" in first.stdout
    return env


def test_index_twice_writes_nothing_the_second_time(cli_env):
    again = run("index", env=cli_env)
    assert again.returncode == 0
    assert "0 chunks written, 0 deleted" in again.stdout
    assert "1 unchanged" in again.stdout


def test_ask_json(cli_env):
    result = run("ask", "微信小店的GMV增长了多少？", "--json", env=cli_env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["question"] == "微信小店的GMV增长了多少？"
    assert data["refused"] is False and "1.92倍" in data["answer"]
    first = data["citations"][0]
    assert {"n", "doc_id", "title", "section", "text", "score"} <= set(first)
    assert first["n"] == 1 and "[1]" in data["answer"]
    assert set(data["timings_ms"]) >= {"retrieve", "answer", "total"}


def test_ask_help_desk_wording_and_a_greeting(cli_env):
    result = run("ask", "小店今年卖得咋样", "--json", env=cli_env)
    data = json.loads(result.stdout)
    assert not data["refused"] and "1.92" in data["answer"] and data["evidence"]["drivers"]
    hello = run("ask", "你好", env=cli_env)
    assert hello.returncode == 0 and "可以问这些话题" in hello.stdout
    refused = run("ask", "快手电商的GMV是多少？", env=cli_env)
    assert "最接近的段落（并非答案）:" in refused.stdout and "来源:" not in refused.stdout


def test_ask_text_in_english(cli_env):
    result = run("ask", "How much did GMV grow?", env=cli_env)
    assert result.returncode == 0
    assert "From the articles" in result.stdout and "Sources:" in result.stdout
    assert "1.92" in result.stdout


def test_empty_and_too_long_questions(cli_env):
    empty = run("ask", "  ", env=cli_env)
    assert empty.returncode == 2
    assert "Please type a question" in empty.stderr and "Traceback" not in empty.stderr
    long = run("ask", "长" * 2001, env=cli_env)
    assert long.returncode == 2 and "limit is 2,000" in long.stderr


def test_missing_index_says_how_to_build_it(tmp_path):
    result = run("ask", "GMV?", env={"ASSISTANT_INDEX_DIR": str(tmp_path / "none")})
    assert result.returncode == 1
    assert "assistant index" in result.stderr and "Traceback" not in result.stderr


def test_index_without_corpus_folder(tmp_path):
    result = run("index", "--corpus", str(tmp_path / "missing"), "--index", str(tmp_path / "i"))
    assert result.returncode == 1 and "No corpus folder" in result.stderr


def test_chat_follow_up_and_commands(cli_env):
    session = "微信小店的GMV增长了多少？\n那订单数量呢？\n\n/new\n那订单数量呢？\n/quit\n"
    result = run("chat", env=cli_env, stdin=session)
    assert result.returncode == 0, result.stderr
    answers = result.stdout.split("\n? ")
    assert "2.25倍" in answers[2]  # the follow-up, resolved against the GMV question
    assert "Please type a question" in result.stdout
    assert "(new topic)" in result.stdout


def test_eval_json(cli_env, tmp_path):
    # the whole dev set is gated in test_eval_gate; here, the command on three of it
    lines = DEV_QUESTIONS.read_text(encoding="utf-8").splitlines()
    subset = tmp_path / "subset.jsonl"
    subset.write_text(
        "\n".join([lines[0], lines[-1], next(x for x in lines if '"u' in x)]), encoding="utf-8"
    )
    result = run("eval", str(subset), "--json", env=cli_env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["metrics"]["questions"] == 3 and data["metrics"]["hit@5"] == 1.0
    assert data["metrics"]["unanswerable_refused"] == 1
    assert {"id", "answer", "refused", "citations"} <= set(data["items"][0])


def test_eval_rejects_a_bad_file(tmp_path, cli_env):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "q": "ok?"}\nnot json\n', encoding="utf-8")
    result = run("eval", str(bad), env=cli_env)
    assert result.returncode == 1 and "bad.jsonl:2" in result.stderr


def test_bad_setting_is_named(cli_env):
    result = run("ask", "GMV?", env={**cli_env, "ASSISTANT_K": "0"})
    assert result.returncode == 2
    assert "ASSISTANT_K" in result.stderr and "Traceback" not in result.stderr


def test_json_errors_are_json(cli_env):
    result = run("ask", " ", "--json", env=cli_env)
    assert result.returncode == 2 and "error" in json.loads(result.stdout)


def test_articles_are_added_replaced_and_removed(cli_env, tmp_path):
    """Issue 13: the knowledge base from the CLI; only the article that
    changed is embedded or deleted."""
    import shutil

    for name in ("corpus", "index"):
        shutil.copytree(cli_env[f"ASSISTANT_{name.upper()}_DIR"], tmp_path / name)
    env = {
        "ASSISTANT_CORPUS_DIR": str(tmp_path / "corpus"),
        "ASSISTANT_INDEX_DIR": str(tmp_path / "index"),
    }
    note = tmp_path / "note.md"
    note.write_text("# 促销\n\n小店的双十二满减活动持续三天。\n", encoding="utf-8")
    added = run("add", str(note), env=env)
    assert added.returncode == 0, added.stderr
    assert (
        "Added note.md (促销)." in added.stdout
        and "1 added, 0 updated, 0 removed, 1 unchanged" in added.stdout
    )
    again = run("add", str(note), env=env)  # the name is taken: refused, not overwritten
    assert again.returncode == 1 and "already in the knowledge base" in again.stderr
    listed = json.loads(run("articles", "--json", env=env).stdout)
    assert {row["id"] for row in listed} == {"note.md", "wechat-open-class-2025.md"}

    newer = tmp_path / "note.txt"
    newer.write_text("小店的双十二满减活动改为持续五天。\n", encoding="utf-8")
    replaced = run("add", str(newer), "--replace", "note.md", env=env)
    assert replaced.returncode == 0, replaced.stderr
    assert "Replaced note.md with note.txt" in replaced.stdout
    assert "1 added, 0 updated, 1 removed, 1 unchanged" in replaced.stdout
    assert "五天" in run("ask", "双十二满减活动持续几天？", env=env).stdout

    removed = run("remove", "note.txt", env=env)
    assert (
        removed.returncode == 0 and "0 added, 0 updated, 1 removed, 1 unchanged" in removed.stdout
    )
    assert not (tmp_path / "corpus" / "note.txt").exists()

    outside = run("remove", "../index/manifest.json", env=env)
    assert outside.returncode == 1 and "No article '../index/manifest.json'" in outside.stderr
    assert "Traceback" not in outside.stderr
    binary = tmp_path / "bin.md"
    binary.write_bytes(b"\x00\x01" * 10)
    refused = run("add", str(binary), env=env)
    assert refused.returncode == 1 and "cannot be read as an article" in refused.stderr
    assert not (tmp_path / "corpus" / "bin.md").exists()
