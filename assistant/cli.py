"""The ``assistant`` command: index, ask, chat, eval.

The only place (with ui.py and the server) that reads the environment into
``Settings`` and turns domain errors into messages and exit codes:
0 success, 1 an error the user can fix (the message names the next step),
2 bad input (empty or too long question, bad setting).
"""

from __future__ import annotations

import functools
import gc
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from . import __version__
from .errors import AssistantError, EmptyQuestion, InvalidQuestion
from .settings import Settings

EXIT_ERROR, EXIT_INPUT = 1, 2
CHAT_HELP = (
    "Ask about the articles, e.g. 微信小店的GMV增长了多少？ — a follow-up such as "
    "那订单数量呢？ uses the earlier questions.\n"
    "/new starts a new topic, /help shows this, /quit or Ctrl-D leaves."
)


class BadSetting(AssistantError):
    """An ``ASSISTANT_*`` variable or option has a value Settings refuses."""

    def __init__(self, error: ValidationError) -> None:
        problems = []
        for e in error.errors():
            message = e["msg"].removeprefix("Value error, ")
            where = "_".join(map(str, e["loc"])).upper()
            problems.append(f"ASSISTANT_{where}: {message}" if where else message)
        super().__init__("Bad setting: " + "; ".join(problems))


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment plus the given overrides; BadSetting if refused."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise BadSetting(exc) from None


def _exit_code(exc: AssistantError) -> int:
    return EXIT_INPUT if isinstance(exc, InvalidQuestion | BadSetting) else EXIT_ERROR


def reports_errors(func: Callable[..., None]) -> Callable[..., None]:
    """Run a command; a domain error becomes a message (JSON with ``--json``) and an
    exit code, never a stack trace."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            func(*args, **kwargs)
        except AssistantError as exc:
            if kwargs.get("as_json"):
                click.echo(json.dumps({"error": str(exc)}, ensure_ascii=False))
            plain = isinstance(exc, EmptyQuestion)  # a prompt, not an error
            click.echo(str(exc) if plain else f"Error: {exc}", err=True)
            sys.exit(_exit_code(exc))

    return wrapper


def _quiet_libraries() -> None:
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    for name in ("chromadb", "httpx", "sentence_transformers", "transformers", "bm25s"):
        logging.getLogger(name).setLevel(logging.ERROR)


index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path),
    help="Index folder [env ASSISTANT_INDEX_DIR; default index/, relative to the current folder].",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="assistant")
def main() -> None:
    """Cited answers to questions about the articles in corpus/."""
    _quiet_libraries()


@main.command()
@click.option("--rebuild", is_flag=True, help="Drop the index and build it from scratch.")
@click.option(
    "--corpus",
    "corpus_dir",
    type=click.Path(path_type=Path),
    help="Article folder [env ASSISTANT_CORPUS_DIR; default corpus/].",
)
@index_option
@reports_errors
def index(rebuild: bool, corpus_dir: Path | None, index_dir: Path | None) -> None:
    """Build or update the index from the corpus (only what changed is written)."""
    from .store.embeddings import make_embedder
    from .store.sync import index_corpus

    settings = load_settings(corpus_dir=corpus_dir, index_dir=index_dir)

    def progress(stage: str, done: int, total: int) -> None:
        click.echo(f"\r  embedding {stage}: {done}/{total}", nl=done == total, err=True)

    report = index_corpus(settings, rebuild=rebuild, progress=progress)
    embedder = make_embedder(settings.embedder)
    for warning in report.skipped:
        click.echo(f"warning: {warning}", err=True)
    docs = len(report.added) + len(report.updated) + report.unchanged
    click.echo(
        f"Indexed {docs} article(s) into {settings.index_dir} with {embedder.id}: "
        f"{len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {report.unchanged} unchanged, "
        f"{len(report.skipped)} skipped.\n"
        f"{report.chunks_written} chunks written, {report.chunks_deleted} deleted; "
        f"{report.total_chunks} chunks in the index ({report.seconds:.1f} s)."
    )


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
