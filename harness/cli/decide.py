"""``harness ranks`` and ``harness pick``: rank intervals with ties, and the best entry under a
budget (harness/decide does the work; the board's Ranks and Pick pages use the same code)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from harness.cli import _default_db, db_option
from harness.errors import HarnessError

TASKS_OPTION = click.option("-t", "--task", "tasks", multiple=True,
                            help="Task name(s): repeat or comma-separate.")
BENCHMARK_OPTION = click.option("--benchmark", default=None,
                                help="An MTEB benchmark: its tasks that the store holds.")
METRIC_OPTION = click.option("--metric", default=None,
                             help="Quality metric [default: each task's main metric].")
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _ranking(db: Path | None, tasks: tuple[str, ...], benchmark: str | None,  # noqa: ANN202
             metric: str | None = None):
    from harness.decide.load import connect, resolve_tasks, store_version
    from harness.decide.ranks import cached_ranking

    version = store_version(db or _default_db())
    con = connect(version[0])
    try:
        names = resolve_tasks(con, [t.strip() for v in tasks for t in v.split(",")], benchmark)
    finally:
        con.close()
    ranking = cached_ranking(version, tuple(names), metric=metric)
    if ranking.frame.empty:
        what = f"a stored {metric}" if metric else "a run"
        raise HarnessError(f"no entry has {what} on every selected task ({', '.join(names)})")
    return version, names, ranking


@click.command()
@TASKS_OPTION
@BENCHMARK_OPTION
@METRIC_OPTION
@JSON_OPTION
@db_option
def ranks(tasks: tuple[str, ...], benchmark: str | None, metric: str | None, as_json: bool,
          db: Path | None) -> None:
    """Mean, rank and 95% rank interval per entry (model + variant); ties share a rank."""
    from harness.decide.ranks import records

    _, names, ranking = _ranking(db, tasks, benchmark, metric)
    rows = records(ranking)
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    click.echo(f"tasks: {', '.join(names)} · 95% rank intervals, two-level bootstrap "
               f"(queries resampled: {', '.join(ranking.query_level) or 'none'})")
    for r in rows:
        mark = " *" if r["tied_with_top"] else ""
        click.echo(f"{r['rank']:>4}  [{r['rank_low']}-{r['rank_high']}]  {r['mean']:.4f}  "
                   f"{r['entry']}{mark}")
    click.echo("* statistically tied with the top")
    if ranking.missing:
        click.echo(f"left out (miss a selected task): {', '.join(ranking.missing)}")


@click.command()
@TASKS_OPTION
@BENCHMARK_OPTION
@METRIC_OPTION
@click.option("--max-bytes-per-doc", type=float, default=None)
@click.option("--corpus-docs", type=int, default=None, help="Corpus size for --max-index-gb.")
@click.option("--max-index-gb", type=float, default=None)
@click.option("--max-p95-ms", type=float, default=None, help="Search latency, 95th percentile.")
@click.option("--min-docs-per-s", type=float, default=None, help="Encode throughput.")
@click.option("--max-params", type=float, default=None, help="Model parameters.")
@click.option("--open-weights", is_flag=True, help="Only models with open weights.")
@JSON_OPTION
@db_option
def pick(tasks: tuple[str, ...], benchmark: str | None, metric: str | None,
         max_bytes_per_doc: float | None,
         corpus_docs: int | None, max_index_gb: float | None, max_p95_ms: float | None,
         min_docs_per_s: float | None, max_params: float | None, open_weights: bool,
         as_json: bool, db: Path | None) -> None:
    """The best entry that fits a budget, the entries tied with it, and what relaxing each
    constraint to the next frontier point would buy. Nothing fits: exit 2."""
    from harness.decide.pick import constraints
    from harness.decide.pick import pick as choose

    cons = constraints(max_bytes_per_doc, corpus_docs, max_index_gb, max_p95_ms,
                       min_docs_per_s, max_params, open_weights)
    version, names, ranking = _ranking(db, tasks, benchmark, metric)
    table = entry_table_for(version, names, ranking, corpus_docs, metric)
    result = choose(table, ranking.samples, cons)
    if as_json:
        click.echo(json.dumps(pick_record(result), indent=1, default=str))
        return
    best = result.table.loc[result.best]
    click.echo(f"best that fits: {result.best} (mean {best['mean']:.4f} over "
               f"{', '.join(names)})")
    click.echo(f"tied with it, cheapest first: {', '.join(result.tied)}")
    for r in result.relax:
        click.echo(f"relax --{r['constraint']}: {_relax_text(r)}")
    for note in result.notes:
        click.echo(f"note: {note}", err=True)


def entry_table_for(version, names, ranking, corpus_docs, metric=None):  # noqa: ANN001, ANN201
    from harness.decide.load import connect, current_runs, run_details
    from harness.decide.pick import entry_costs

    con = connect(version[0])
    try:
        runs = current_runs(con, names, metric)
        details = run_details(con, runs["run_key"].tolist())
    finally:
        con.close()
    return entry_costs(ranking, runs, details, corpus_docs)


def _relax_text(r: dict) -> str:
    if r.get("entry") is None:
        return "buys nothing (no better entry fits the other constraints)"
    if r["buys"] == "dropping it":
        return f"dropping it gives {r['entry']} (+{r['delta_quality']:.4f})"
    return (f"to {r['new_limit']:.4g} {r['unit']} gives {r['entry']} "
            f"(+{r['delta_quality']:.4f}, {r['quality_per_unit']:.3g} per {r['unit']})")


def pick_record(result) -> dict:  # noqa: ANN001 - a harness.decide.pick.Pick
    table = result.table.reset_index()
    entries = table.drop(columns=["row"]).astype(object).where(table.notna(), None)
    return {"best": result.best, "mean": float(result.table.at[result.best, "mean"]),
            "tied": result.tied, "relax": result.relax, "notes": result.notes,
            "entries": entries.to_dict(orient="records")}


if __name__ == "__main__":
    sys.exit(pick())
