"""The ``harness`` command line. Heavy libraries are imported inside commands, never at import."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from harness.errors import HarnessError


def _default_db() -> Path:
    from harness.data_root import results_root

    return results_root() / "harness.duckdb"


def _default_cache() -> Path:
    from harness.data_root import results_root

    return results_root() / "cache"


# Commands defined in other modules, imported only when invoked (keeps --help fast).
LAZY_COMMANDS: dict[str, str] = {
    "sweep": "harness.cli.sweep:sweep",
    "board": "leaderboard.cli:board",
    "import-mteb": "harness.published:import_mteb",
    "check": "harness.check.cli:check",
}


class HarnessGroup(click.Group):
    """Lazy subcommands; turns every HarnessError into one line on stderr and exit code 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self._lazy_available()])

    def _lazy_available(self) -> list[str]:
        import importlib.util

        names = []
        for name, target in LAZY_COMMANDS.items():
            module = target.split(":")[0]
            try:
                if importlib.util.find_spec(module) is not None:
                    names.append(name)
            except ModuleNotFoundError:
                continue
        return names

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS and name in self._lazy_available():
            import importlib

            module, _, attr = LAZY_COMMANDS[name].partition(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except HarnessError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=HarnessGroup)
@click.version_option(package_name="embedding-harness")
def main() -> None:
    """Benchmark text-embedding retrieval: quality and cost, dense to multi-vector."""
    import logging

    # Some model packages set the root logger to INFO; faiss then logs each CPU-feature probe.
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)


db_option = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
                         help="DuckDB file [default: results/harness.duckdb].")
data_option = click.option("--data-root", type=click.Path(file_okay=False, path_type=Path),
                           default=None,
                           help="Data root [default: $HARNESS_DATA, then ../shared/data].")


MODEL_TASK_OPTIONS = (
    click.option("-m", "--model", "models", multiple=True, required=True,
                 help="Model name (repeat)."),
    click.option("-t", "--task", "tasks", multiple=True, required=True, help="Task name (repeat)."),
)
RUN_OPTIONS = (
    click.option("--force", is_flag=True, help="Re-run even if the run key is already stored."),
    click.option("--batch-size", default=32, show_default=True),
    click.option("-k", "--top-k", "k", default=1000, show_default=True, help="Retrieval depth."),
    click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None),
    click.option("--no-progress", is_flag=True, help="No progress bars."),
    db_option,
    data_option,
)


def with_options(*options):  # noqa: ANN002, ANN201 - click decorators
    """Apply click options in the order given (shared by `run` and `sweep`)."""
    def decorate(f):  # noqa: ANN001, ANN202
        for option in reversed(options):
            f = option(f)
        return f
    return decorate


benchmark_option = click.option(
    "--benchmark", default=None,
    help='An mteb benchmark, e.g. "MTEB(eng, v2)": its tasks (see `harness ls benchmarks`).')


@main.command()
@with_options(MODEL_TASK_OPTIONS[0],
              click.option("-t", "--task", "tasks", multiple=True, help="Task name (repeat)."),
              benchmark_option, *RUN_OPTIONS)
def run(models: tuple[str, ...], tasks: tuple[str, ...], benchmark: str | None, force: bool,
        batch_size: int, k: int, cache_dir: Path | None, no_progress: bool, db: Path | None,
        data_root: Path | None) -> None:
    """Evaluate every MODEL x TASK pair and store the results.

    With --benchmark, runs the benchmark's tasks that are staged locally and ends with one line
    per task it could not run, with the command that would fetch it.
    """
    from harness.cli.session import run_grid
    from harness.spec import grid
    from harness.tasks.benchmarks import expand, missing_lines

    names, missing = expand(benchmark, tasks, data_root)
    code = 0
    if names:
        specs = grid(list(models), names, k=k)
        code = run_grid(specs, db=db or _default_db(), cache_dir=cache_dir or _default_cache(),
                        data_root=data_root, force=force, batch_size=batch_size,
                        progress=not no_progress)
    for line in missing_lines(missing):
        click.echo(line)
    if benchmark:
        click.echo(f"{benchmark}: ran {len(names)} local task(s), {len(missing)} not run")
    sys.exit(code)


@main.command(name="ls")
@click.argument("what", type=click.Choice(["models", "tasks", "benchmarks"]))
@benchmark_option
@data_option
def ls(what: str, benchmark: str | None, data_root: Path | None) -> None:
    """List known models, tasks (with availability under the data root) or benchmarks."""
    if what == "benchmarks" or (what == "tasks" and benchmark):
        from harness.data_root import resolve_data_root
        from harness.tasks import benchmarks

        if what == "benchmarks":
            benchmarks.print_benchmarks(click.echo)
        else:
            benchmarks.print_benchmark_tasks(benchmark, resolve_data_root(data_root), click.echo)
        return
    if what == "models":
        from adapters.registry import all_entries

        for e in all_entries():
            click.echo(f"{e.name:34s} {e.family:12s} {','.join(e.task_types):30s} {e.description}")
        return
    from harness.data_root import resolve_data_root
    from harness.tasks.registry import all_tasks, availability

    root = resolve_data_root(data_root)
    for t in all_tasks():
        a = availability(t, root)
        state = "available" if a.available else f"unavailable: {a.reason}"
        click.echo(f"{t.name:34s} {t.type:15s} {t.main_score:16s} {state}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON records instead of a table.")
@click.option("-t", "--task", "tasks", multiple=True, help="Only these tasks.")
@click.option("-m", "--model", "models", multiple=True, help="Only these models.")
@click.option("--by-type", is_flag=True,
              help="MTEB-style averages per task type and overall, with task coverage "
                   "(with --benchmark: over that benchmark's tasks, plus its Borda rank).")
@benchmark_option
@db_option
def results(as_json: bool, tasks: tuple[str, ...], models: tuple[str, ...], by_type: bool,
            benchmark: str | None, db: Path | None) -> None:
    """Show stored results: main score and cost per run."""
    from harness.cli.report import print_results, results_frame

    frame = results_frame(db or _default_db(), tasks, models)
    if benchmark:  # MTEB's aggregates over the named suite (mean task / type, Borda rank)
        from harness.aggregate import benchmark_aggregate, benchmark_records, print_benchmark
        from harness.tasks.benchmarks import benchmark_suite

        entries = benchmark_aggregate(frame, benchmark_suite(benchmark))
        if as_json:
            click.echo(json.dumps(benchmark_records(entries), indent=1))
        else:
            print_benchmark(benchmark, entries)
        return
    if by_type:
        from harness.aggregate import aggregate, print_aggregate, to_records

        groups = aggregate(frame)
        if as_json:
            click.echo(json.dumps(to_records(groups), indent=1))
        else:
            print_aggregate(groups)
        return
    if as_json:
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        click.echo(json.dumps(records, indent=1, default=str))
    else:
        print_results(frame)


if __name__ == "__main__":
    main()
