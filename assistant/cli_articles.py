"""The knowledge base from the command line: ``assistant articles``, ``add``
and ``remove`` — what the web page's knowledge-base panel does.

Each change goes to the corpus folder and then through the same incremental
sync as ``assistant index``: only the article that changed is embedded or
deleted, the others are not touched. A file added here is checked like an
upload (type, size, readable as an article) before anything is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from .cli_common import corpus_option, index_option, load_settings, reports_errors, sync_index

#: sentences an added article may have: the server's upload limit keeps one
#: upload from holding the index for minutes; a person at the CLI may wait
CLI_MAX_SENTENCES = 1_000_000


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@index_option
@reports_errors
def articles(as_json: bool, index_dir: Path | None) -> None:
    """List the indexed articles: id (file), passages, indexed at, title."""
    from .store.location import Location, read_manifest

    manifest = read_manifest(Location.of(load_settings(index_dir=index_dir))) or {}
    rows = [
        {
            "id": doc_id,
            "title": d["title"],
            "passages": len(d["chunks"]),
            "indexed_at": d.get("indexed_at", ""),
        }
        for doc_id, d in manifest.get("documents", {}).items()
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"{row['id']}\t{row['passages']}\t{row['indexed_at']}\t{row['title']}")
    if not rows:
        click.echo("No articles indexed; put some in the corpus folder and run: assistant index")


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--replace", "replacing", metavar="ID", help="The article it replaces (its id).")
@corpus_option
@index_option
@reports_errors
def add(file: Path, replacing: str | None, corpus_dir: Path | None, index_dir: Path | None) -> None:
    """Add FILE (.md, .txt, .html, .pdf, .docx) to the corpus folder and index
    it; with --replace, in the place of an article (see: assistant articles)."""
    from .ingest.articles import replace_article
    from .ingest.corpus import MAX_FILE_BYTES
    from .ingest.uploads import save_upload

    settings = load_settings(corpus_dir=corpus_dir, index_dir=index_dir)
    limits = (MAX_FILE_BYTES, CLI_MAX_SENTENCES)
    if replacing:
        saved = replace_article(settings.corpus_dir, replacing, file, file.name, *limits)
        done = f"Replaced {replacing} with {saved.path.name}"
    else:
        saved = save_upload(file, file.name, settings.corpus_dir, *limits)
        done = f"Added {saved.path.name}"
    click.echo(f"{done} ({saved.article.title}).")
    sync_index(settings)


@click.command()
@click.argument("doc_id", metavar="ID")
@corpus_option
@index_option
@reports_errors
def remove(doc_id: str, corpus_dir: Path | None, index_dir: Path | None) -> None:
    """Remove article ID (see: assistant articles) from the corpus folder and the index."""
    from .ingest.articles import remove_article

    settings = load_settings(corpus_dir=corpus_dir, index_dir=index_dir)
    remove_article(settings.corpus_dir, doc_id)
    click.echo(f"Removed {doc_id}.")
    sync_index(settings)
