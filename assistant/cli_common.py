"""What every ``assistant`` command shares: settings from the environment,
domain errors as messages and exit codes, the common options, and the index
sync with its report (``index``, ``add``, ``remove``).

Exit codes: 0 success, 1 an error the user can fix (the message names the
next step), 2 bad input (empty or too long question, bad setting).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from .errors import AssistantError, EmptyQuestion, InvalidQuestion
from .settings import Settings

EXIT_ERROR, EXIT_INPUT = 1, 2


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


index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path),
    help="Index folder [env ASSISTANT_INDEX_DIR; default index/, relative to the current folder].",
)


corpus_option = click.option(
    "--corpus",
    "corpus_dir",
    type=click.Path(path_type=Path),
    help="Article folder [env ASSISTANT_CORPUS_DIR; default corpus/].",
)


def sync_index(settings: Settings, rebuild: bool = False) -> None:
    """Sync the index with the corpus folder, showing progress, and say what changed."""
    from .store.embeddings import make_embedder
    from .store.sync import index_corpus

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
