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
    "data": "harness.data.cli:data",
    "export": "harness.export:export",
    "study": "harness.cli.study:study",
    "compare": "harness.cli.compare:compare",
    "ranks": "harness.cli.decide:ranks",
    "pick": "harness.cli.decide:pick",
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
        """The one error boundary: anything the user can cause ends as one line and exit 2."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - classified below, the rest re-raised
            message = one_line_error(exc)
            if message is None:
                raise
            click.echo(f"error: {message}", err=True)
            sys.exit(2)


def one_line_error(exc: BaseException) -> str | None:
    """The user-facing line for an expected failure class; None for a bug (keep its traceback)."""
    if isinstance(exc, HarnessError):
        return str(exc)
    if isinstance(exc, OSError):
        where = exc.filename or ""
        what = exc.strerror or str(exc)
        return f"{where}: {what}" if where else what
    if isinstance(exc, UnicodeError):
        return f"text is not valid UTF-8 ({exc})"
    if isinstance(exc, MemoryError):
        return f"out of memory: {exc}" if str(exc) else "out of memory"
    if isinstance(exc, RecursionError):
        return f"input nested too deeply ({exc})"
    duckdb = sys.modules.get("duckdb")
    if duckdb is not None and isinstance(exc, duckdb.Error):
        return f"database error: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}"
    return None


@click.group(cls=HarnessGroup)
@click.version_option(package_name="embedding-harness")
@click.option("-v", "--verbose", is_flag=True,
              help="Show third-party load reports and warnings (muted by default).")
def main(verbose: bool) -> None:
    """Benchmark text-embedding retrieval: quality and cost, dense to multi-vector."""
    import logging
    import os

    if verbose:  # read by adapters.precision.quiet_loading, also in worker processes
        os.environ["HARNESS_VERBOSE"] = "1"

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
    click.option("-k", "--top-k", "k", default=1000, show_default=True, type=click.IntRange(min=1),
                 help="Retrieval depth."),
    click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]), default="fp32",
                 show_default=True, help="Model weights/activations precision."),
    click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None),
    click.option("--no-progress", is_flag=True, help="No progress bars."),
    db_option,
    data_option,
)
EXECUTOR_OPTIONS = (
    click.option("--executor", type=click.Choice(["local", "ray"]), default="local",
                 show_default=True, help="Run here, or on a Ray cluster (see README "
                 "'Scaling out')."),
    click.option("--ray-address", default=None,
                 help="Ray cluster to join: HOST:PORT or 'auto' [default: start a local one]."),
    click.option("--ray-workers", type=click.IntRange(min=1), default=None,
                 help="Encoding actors per model [default: the cluster's CPUs]."),
)


def with_options(*options):  # noqa: ANN002, ANN201 - click decorators
    """Apply click options in the order given (shared by `run` and `sweep`)."""
    def decorate(f):  # noqa: ANN001, ANN202
        for option in reversed(options):
            f = option(f)
        return f
    return decorate


# Options of `run` for models and tasks given by path, hub id or MTEB name (see README "Your
# model, your data").
OPEN_OPTIONS = (
    click.option("--split", default=None, help="Split of a task (qrels/<split>.tsv); same as "
                 "TASK@split."),
    click.option("--pull", is_flag=True, help="Download missing task data (and hub models) first."),
    click.option("--query-prompt", default=None, help="Prompt before each query (overrides the "
                 "model's own)."),
    click.option("--doc-prompt", default=None, help="Prompt before each document."),
    click.option("--trust-remote-code", is_flag=True,
                 help="Allow a hub model's own Python code to run."),
)
benchmark_option = click.option(
    "--benchmark", default=None,
    help='An mteb benchmark, e.g. "MTEB(eng, v2)": its tasks (see `harness ls benchmarks`).')


@main.command()
@with_options(MODEL_TASK_OPTIONS[0],
              click.option("-t", "--task", "tasks", multiple=True,
                           help="Task: a registry name, a BEIR folder or an MTEB task (repeat)."),
              benchmark_option, *RUN_OPTIONS, *OPEN_OPTIONS, *EXECUTOR_OPTIONS)
def run(models: tuple[str, ...], tasks: tuple[str, ...], benchmark: str | None, force: bool,
        batch_size: int, k: int, precision: str, cache_dir: Path | None, no_progress: bool,
        db: Path | None, data_root: Path | None, split: str | None, pull: bool,
        query_prompt: str | None, doc_prompt: str | None, trust_remote_code: bool, executor: str,
        ray_address: str | None, ray_workers: int | None) -> None:
    """Evaluate every MODEL x TASK pair and store the results.

    MODEL: a registry name, a model folder, or a hub id org/name[@revision]. TASK: a registry
    name, a BEIR folder, or any MTEB task name. With --benchmark, runs the benchmark's tasks that
    are staged locally (with --pull, downloads the others first) and ends with one line per task
    it could not run, with the command that would fetch it.
    """
    from adapters.registry import set_model_options
    from harness.cli.session import run_grid
    from harness.cli.sweep import validate
    from harness.data.pull import resolve_task_args
    from harness.data_root import resolve_data_root
    from harness.spec import grid
    from harness.tasks.benchmarks import DOWNLOADABLE, expand, missing_lines

    if pull:
        import os

        os.environ["HF_HUB_OFFLINE"] = os.environ["TRANSFORMERS_OFFLINE"] = "0"
    names, missing = expand(benchmark, tasks, data_root)
    if pull:  # the benchmark's downloadable tasks are fetched like explicit ones
        names += [t.name for t in missing if t.status == DOWNLOADABLE]
        missing = [t for t in missing if t.status != DOWNLOADABLE]
    names = resolve_task_args(tuple(names), split, resolve_data_root(data_root), pull)
    code = 0
    if names:
        specs = grid(list(models), names, k=k, precision=precision)
        validate(specs)  # every spec checked before the first one runs
        set_model_options(query_prompt, doc_prompt, trust_remote_code)
        try:
            code = run_grid(specs, db=db or _default_db(),
                            cache_dir=cache_dir or _default_cache(), data_root=data_root,
                            force=force, batch_size=batch_size, progress=not no_progress,
                            executor=executor, ray_address=ray_address, ray_workers=ray_workers)
        finally:
            set_model_options()  # the options belong to this command only
    for line in missing_lines(missing):
        click.echo(line)
    if benchmark:
        click.echo(f"{benchmark}: ran {len(names)} local task(s), {len(missing)} not run")
    sys.exit(code)


@main.command(name="ls")
@click.argument("what", type=click.Choice(["models", "tasks", "benchmarks"]))
@click.option("--all", "show_all", is_flag=True,
              help="tasks: every English MTEB task, with status local/partial/downloadable/"
                   "unsupported.")
@benchmark_option
@data_option
def ls(what: str, show_all: bool, benchmark: str | None, data_root: Path | None) -> None:
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
        click.echo("(also: any model folder by path, or a hub id org/name[@revision])")
        return
    from harness.data_root import resolve_data_root

    root = resolve_data_root(data_root)
    if show_all:
        from harness.tasks.mteb_registry import list_mteb_tasks

        for row in list_mteb_tasks(root):
            click.echo(f"{row.name:44s} {row.mteb_type:16s} {row.status:13s} {row.reason}")
        return
    from harness.tasks.registry import all_tasks, availability

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
@click.option("--wide", is_flag=True, help="Every cost column (needs ~200 columns).")
@benchmark_option
@db_option
def results(as_json: bool, tasks: tuple[str, ...], models: tuple[str, ...], by_type: bool,
            wide: bool, benchmark: str | None, db: Path | None) -> None:
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
        from harness.cli.report import precision_deltas

        frame = frame.assign(delta_to_fp32=precision_deltas(frame))
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        click.echo(json.dumps(records, indent=1, default=str))
    else:
        print_results(frame, wide=wide)


if __name__ == "__main__":
    main()
