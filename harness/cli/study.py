"""``harness study ls`` and ``harness study run NAME``: the claims in studies/*.yaml, measured."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli import _default_cache, _default_db, data_option, db_option


@click.group()
def study() -> None:
    """Research claims as runnable studies (studies/*.yaml)."""


@study.command(name="ls")
@db_option
def ls(db: Path | None) -> None:
    """List the studies, the claim each checks, and whether a result is stored."""
    from harness.studies.run import load_result
    from harness.studies.spec import all_studies

    for s in all_studies():
        result = load_result(db or _default_db(), s.name)
        state = "not run" if result is None else f"measured {result['created_at']}"
        click.echo(f"{s.name:20s} {s.measure:18s} {state:34s} {s.title}")


@study.command(name="run")
@click.argument("names", nargs=-1, required=True)
@click.option("--small", is_flag=True, help="The study's small grid (what the tests run).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--progress", is_flag=True, help="Show encoding progress bars.")
@db_option
@data_option
def run(names: tuple[str, ...], small: bool, cache_dir: Path | None, progress: bool,
        db: Path | None, data_root: Path | None) -> None:
    """Run studies by NAME ('all' for every one); stored runs and cached embeddings are reused."""
    from harness.studies.run import run_study
    from harness.studies.spec import all_studies, get_study

    studies = all_studies() if names == ("all",) else [get_study(n) for n in names]
    for s in studies:  # every name is checked before any study starts
        click.echo(f"== {s.name}: {s.title}", err=True)
        result = run_study(s, db=db or _default_db(), cache_dir=cache_dir or _default_cache(),
                           data_root=data_root, small=small, progress=progress,
                           log=lambda line: click.echo(line, err=True))
        click.echo(f"{s.name}: the paper says: {s.claim.paper_value} ({s.claim.citation})")
        click.echo(f"{s.name}: we measure: {result['summary'] or len(result['rows'])}")
