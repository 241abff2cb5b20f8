"""The ``assistant`` command: index, ask, chat, eval, serve; articles, add, remove.

The only place (with ui.py and the server) that reads the environment into
``Settings`` and turns domain errors into messages and exit codes:
0 success, 1 an error the user can fix (the message names the next step),
2 bad input (empty or too long question, bad setting).
"""

from __future__ import annotations

import gc
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from . import __version__
from .cli_articles import add, articles, remove
from .cli_common import (
    EXIT_ERROR,
    EXIT_INPUT,
    BadSetting,
    corpus_option,
    index_option,
    load_settings,
    reports_errors,
    sync_index,
)
from .errors import AssistantError, EmptyQuestion
from .settings import Settings

__all__ = ["EXIT_ERROR", "EXIT_INPUT", "BadSetting", "load_settings", "main", "reports_errors"]
CHAT_HELP = (
    "Ask about the articles, e.g. 微信小店的GMV增长了多少？ — a follow-up such as "
    "那订单数量呢？ uses the earlier questions.\n"
    "/new starts a new topic, /help shows this, /quit or Ctrl-D leaves."
)


def _quiet_libraries() -> None:
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    for name in ("chromadb", "httpx", "sentence_transformers", "transformers", "bm25s"):
        logging.getLogger(name).setLevel(logging.ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="assistant")
def main() -> None:
    """Cited answers to questions about the articles in corpus/."""
    _quiet_libraries()


@main.command()
@click.option("--rebuild", is_flag=True, help="Drop the index and build it from scratch.")
@corpus_option
@index_option
@reports_errors
def index(rebuild: bool, corpus_dir: Path | None, index_dir: Path | None) -> None:
    """Build or update the index from the corpus (only what changed is written)."""
    settings = load_settings(corpus_dir=corpus_dir, index_dir=index_dir)
    sync_index(settings, rebuild=rebuild)


@contextmanager
def _loading() -> Iterator[None]:
    """No cyclic garbage collection while the assistant loads: it builds a few
    million objects (dictionaries, vocabularies) and frees almost none, and the
    collector walked them again and again (0.5 s of a cold ``ask`` on 2 cores)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _assistant(settings: Settings) -> Any:
    with _loading():
        from .answer.chain import Assistant

        return Assistant(settings)


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@index_option
@reports_errors
def ask(question: str, as_json: bool, index_dir: Path | None) -> None:
    """Answer one QUESTION with cited passages."""
    with _loading():
        from .answer.chain import validate

    settings = load_settings(index_dir=index_dir)
    validate(question, settings.max_question_chars)  # before loading the index: fail fast
    answer = _assistant(settings).ask(question)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(answer.render())
    gc.freeze()  # the process ends here: its exit need not collect what was loaded (0.45 s)


@main.command()
@index_option
@reports_errors
def chat(index_dir: Path | None) -> None:
    """Ask questions in a row in the terminal; follow-ups use the earlier ones."""
    assistant = _assistant(load_settings(index_dir=index_dir))
    interactive = sys.stdin.isatty()
    click.echo(CHAT_HELP)
    history: list[str] = []
    while True:
        try:
            question = click.prompt("\n?", prompt_suffix=" ", default="", show_default=False)
        except (EOFError, click.Abort):
            click.echo()
            return
        if not interactive:  # piped input is not echoed: show what is being answered
            click.echo(question)
        command = question.strip().lower()
        if command in ("/quit", "/exit", "/q"):
            return
        if command == "/new":
            history = []
            click.echo("(new topic)")
            continue
        if command.startswith("/"):
            click.echo(CHAT_HELP)
            continue
        try:
            answer = assistant.ask(question, history)
        except EmptyQuestion as exc:
            click.echo(str(exc))
            continue
        except AssistantError as exc:
            click.echo(f"Error: {exc}", err=True)
            continue
        click.echo(answer.render())
        history.append(question)


@main.command("eval")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print metrics and items as JSON.")
@index_option
@reports_errors
def eval_command(file: Path, as_json: bool, index_dir: Path | None) -> None:
    """Score the assistant on a JSONL question set (hit@k, MRR, facts, refusals)."""
    from .evaluation import evaluate, load_items

    items = load_items(file)
    result = evaluate(_assistant(load_settings(index_dir=index_dir)), items)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for row in result["items"]:
        if row["expect"] is not None:  # chit-chat: the reply's intent is what counts
            ok, verdict = row["chitchat_ok"], row["evidence"].get("intent") or "searched"
        else:
            ok = (
                row["refusal_ok"]
                and row["facts_ok"] is not False
                and (not row["answerable"] or row["hit_rank"])
            )
            verdict = "refused" if row["refused"] else "answered"
        click.echo(f"{'ok ' if ok else 'BAD'} {row['id']:<6} {verdict:<8}  {row['question']}")
    click.echo()
    for name, value in result["metrics"].items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        click.echo(f"{name:<22} {shown}")


@main.command()
@click.option("--host", help="Address to listen on [env ASSISTANT_UI_HOST; default 127.0.0.1].")
@click.option("--port", type=int, help="Port [env ASSISTANT_UI_PORT; default 7860].")
@index_option
@reports_errors
def serve(host: str | None, port: int | None, index_dir: Path | None) -> None:
    """Serve the web chat at / and the JSON API at /api (ask, health)."""
    from .serve.server import create_server
    from .serve.server import serve as run_server

    settings = load_settings(ui_host=host, ui_port=port, index_dir=index_dir)
    app = create_server(settings)  # bad settings stop here, before "Serving"
    click.echo(f"Serving http://{settings.ui_host}:{settings.ui_port}/ (chat) and /api/ask")
    run_server(app, settings)


for command in (articles, add, remove):  # the knowledge base: cli_articles.py
    main.add_command(command)
