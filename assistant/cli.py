"""The ``assistant`` command: index, ask, chat, eval.

The only place (with ui.py and the server) that reads the environment into
``Settings`` and turns domain errors into messages and exit codes:
0 success, 1 an error the user can fix (message names the next step),
2 bad input (empty or too long question, bad file).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import AssistantError, InvalidQuestion
from .settings import Settings

EXIT_ERROR, EXIT_INPUT = 1, 2


def _settings(**overrides: Any) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def _quiet_libraries() -> None:
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    for name in ("chromadb", "httpx", "sentence_transformers", "transformers", "bm25s"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _fail(exc: Exception) -> None:
    from .errors import EmptyQuestion

    click.echo(str(exc) if isinstance(exc, EmptyQuestion) else f"Error: {exc}", err=True)
    sys.exit(EXIT_INPUT if isinstance(exc, InvalidQuestion) else EXIT_ERROR)


index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path),
    help="Index folder [env ASSISTANT_INDEX_DIR; default index/].",
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
def index(rebuild: bool, corpus_dir: Path | None, index_dir: Path | None) -> None:
    """Build or update the index from the corpus (only what changed is written)."""
    from .corpus import load_corpus
    from .embeddings import make_embedder
    from .indexing import sync

    settings = _settings(corpus_dir=corpus_dir, index_dir=index_dir)
    if not settings.corpus_dir.is_dir():
        _fail(
            AssistantError(
                f"No corpus folder at {settings.corpus_dir}; "
                "create it and put .md, .txt or .html articles in it."
            )
        )
    try:
        load = load_corpus(settings.corpus_dir)
        embedder = make_embedder(settings.embedder)

        def progress(stage: str, done: int, total: int) -> None:
            click.echo(f"\r  embedding {stage}: {done}/{total}", nl=done == total, err=True)

        report = sync(
            settings.index_dir,
            load,
            embedder,
            chunk_size=settings.chunk_size,
            chunk_overlap=settings.chunk_overlap,
            rebuild=rebuild,
            progress=progress,
        )
    except AssistantError as exc:
        _fail(exc)
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


def _assistant(index_dir: Path | None) -> Any:
    from .service import Assistant

    return Assistant(_settings(index_dir=index_dir))


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@index_option
def ask(question: str, as_json: bool, index_dir: Path | None) -> None:
    """Answer one QUESTION with cited passages."""
    from .service import validate

    try:
        validate(question, _settings(index_dir=index_dir).max_question_chars)
        answer = _assistant(index_dir).ask(question)
    except AssistantError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(answer.render())


@main.command()
@index_option
def chat(index_dir: Path | None) -> None:
    """Ask questions in a row in the terminal; follow-ups use the earlier ones."""
    from .errors import EmptyQuestion

    try:
        assistant = _assistant(index_dir)
    except AssistantError as exc:
        _fail(exc)
    click.echo(
        "Ask about the articles (e.g. 微信小店的GMV增长了多少？). "
        "/new starts a new topic, /quit or Ctrl-D leaves."
    )
    history: list[str] = []
    while True:
        try:
            question = click.prompt("\n?", prompt_suffix=" ", default="", show_default=False)
        except (EOFError, click.Abort):
            click.echo()
            return
        if question.strip() in ("/quit", "/exit"):
            return
        if question.strip() == "/new":
            history = []
            click.echo("(new topic)")
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
def eval_command(file: Path, as_json: bool, index_dir: Path | None) -> None:
    """Score the assistant on a JSONL question set (hit@k, MRR, facts, refusals)."""
    from .evaluation import evaluate, load_items

    try:
        items = load_items(file)
        result = evaluate(_assistant(index_dir), items)
    except AssistantError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for row in result["items"]:
        ok = (
            row["refusal_ok"]
            and (row["facts_ok"] is not False)
            and (not row["answerable"] or row["hit_rank"])
        )
        click.echo(
            f"{'ok ' if ok else 'BAD'} {row['id']:<6} "
            f"{'refused' if row['refused'] else 'answered'}  {row['question']}"
        )
    click.echo()
    for name, value in result["metrics"].items():
        click.echo(f"{name:<22} {value:.3f}" if isinstance(value, float) else f"{name:<22} {value}")
