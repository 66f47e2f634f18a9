"""``harness check``: regression checks for CI. Exit 0 pass, 1 on any FAIL/REGRESSION, 2 on errors.

Heavy modules (torch through the runner, scipy) are imported inside the command only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harness.cli import EXECUTOR_OPTIONS, with_options

# The options of `check`, in order (kept apart so the command function stays short).
CHECK_OPTIONS = (
    click.argument("expected_file", required=False,
                   type=click.Path(dir_okay=False, path_type=Path)),
    click.option("--markdown", "markdown_file", type=click.Path(dir_okay=False, path_type=Path),
                 default=None,
                 help="Also write a markdown report (e.g. for a pull-request comment)."),
    click.option("--baseline", default=None,
                 help="Compare per query with a baseline: a run key (or unique prefix) in --db, or "
                      "a DuckDB file holding baseline runs (matched by model, task and variant)."),
    click.option("--candidate", "candidates", multiple=True,
                 help="Run key(s) in --db to compare with --baseline (no expected file needed)."),
    click.option("--metric", "metrics", multiple=True,
                 help="Metric(s) for --candidate comparisons [default: the task's main metric]."),
    click.option("--margin", default=0.01, show_default=True,
                 help="A drop must exceed this (absolute) to count as a regression."),
    click.option("--alpha", default=0.05, show_default=True,
                 help="Significance level of the one-sided paired test."),
    click.option("--test", "test", type=click.Choice(["ttest", "wilcoxon"]), default="ttest",
                 show_default=True, help="Paired test: scipy.stats.ttest_rel or wilcoxon."),
    click.option("--benchmark", default=None,
                 help='Only the EXPECTED_FILE rows on tasks of this mteb benchmark, e.g. '
                      '"MTEB(eng, v2)".'),
    click.option("--no-run", is_flag=True,
                 help="Only reuse stored runs; a missing run is an error instead of being run."),
    click.option("--batch-size", default=32, show_default=True),
    click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]), default="fp32",
                 show_default=True, help="Run every expected row's model at this precision."),
    click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None),
    click.option("--no-progress", is_flag=True, help="No progress bars."),
    click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 help="DuckDB file [default: results/harness.duckdb]."),
    click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), default=None,
                 help="Data root [default: $HARNESS_DATA, then ../shared/data]."),
)


@click.command()
@with_options(*CHECK_OPTIONS, *EXECUTOR_OPTIONS)
def check(expected_file: Path | None, markdown_file: Path | None, baseline: str | None,
          candidates: tuple[str, ...], metrics: tuple[str, ...], margin: float, alpha: float,
          test: str, benchmark: str | None, no_run: bool, batch_size: int, precision: str,
          cache_dir: Path | None, no_progress: bool, db: Path | None, data_root: Path | None,
          executor: str, ray_address: str | None, ray_workers: int | None) -> None:
    """Check scores against EXPECTED_FILE (YAML or TOML) and/or a --baseline run.

    Each row of EXPECTED_FILE names model, task, metric, expected, tolerance and source; stored
    runs are reused and missing ones are run. Rows are OK (within tolerance), OKISH (within the
    looser okish band, default 3 x tolerance) or FAIL; reference-only rows are SKIPped.
    """
    from rich.console import Console

    from harness.check.plan import validate
    from harness.cli import _default_db
    from harness.data_root import resolve_data_root
    from harness.errors import HarnessError
    from harness.store import Store

    if expected_file is None and not candidates:
        raise click.UsageError("give an EXPECTED_FILE, or --baseline with --candidate run keys")
    if candidates and baseline is None:
        raise click.UsageError("--candidate needs --baseline")
    if not 0 < alpha < 1 or margin < 0:
        raise click.UsageError("--alpha must be in (0, 1) and --margin >= 0")
    err = Console(stderr=True)
    db = db or _default_db()
    planned = []
    if expected_file is not None:
        # Parse and resolve every row before any work: a bad file stores nothing.
        expected = _expected_rows(expected_file, benchmark, err.print)
        planned = validate(expected, resolve_data_root(data_root), precision=precision)
    if not planned and not db.is_file():
        raise HarnessError(f"{db}: no results to compare")
    rows, paired, label = [], [], ""
    with Store(db) as store:
        if planned:
            rows = _expected_checks(planned, store, err.print, no_run=no_run, cache_dir=cache_dir,
                                    batch_size=batch_size, progress=not no_progress,
                                    data_root=resolve_data_root(data_root),
                                    executor=(executor, ray_address, ray_workers))
        if baseline is not None:
            paired, label = _baseline_checks(store, baseline, rows, candidates, metrics,
                                             test=test, margin=margin, alpha=alpha)
    _report(rows, paired, label, expected_file, markdown_file, err.print,
            test=test, margin=margin, alpha=alpha)


def _expected_rows(path: Path, benchmark: str | None, log) -> list:  # noqa: ANN001
    from harness.check.expected import load_expected

    expected = load_expected(path)
    return _on_benchmark(expected, benchmark, path, log) if benchmark else expected


def _expected_checks(planned: list, store: object, log, *, no_run: bool,  # noqa: ANN001
                     cache_dir: Path | None, batch_size: int, progress: bool, data_root: Path,
                     executor: tuple[str, str | None, int | None]) -> list:
    """Reuse or run every planned row's run, then class each row (OK / OKISH / FAIL ...)."""
    from harness.cache import EmbeddingCache
    from harness.check.compare import check_rows
    from harness.check.plan import obtain
    from harness.cli import _default_cache
    from harness.kinds.outcome import Context
    from harness.runner import Runner

    runner = Runner(store, Context(EmbeddingCache(cache_dir or _default_cache()),  # type: ignore[arg-type]
                                   batch_size=batch_size, progress=progress), data_root, log=log)
    name, address, workers = executor
    if name != "local" and not no_run:  # missing runs on the cluster, then reuse
        from harness.executors import get_executor

        specs = list(dict.fromkeys(p.spec for p in planned if p.spec is not None))
        with get_executor(name, address=address, workers=workers) as ex:
            ex.run(specs, runner, log)
    return check_rows(planned, obtain(planned, runner, log, reuse_only=no_run))


def _baseline_checks(store: object, baseline: str, rows: list, candidates: tuple[str, ...],
                     metrics: tuple[str, ...], *, test: str, margin: float,
                     alpha: float) -> tuple[list, str]:
    """Each checked run (and each --candidate) paired query by query with its baseline."""
    from harness.check.compare import Baseline, compare_runs
    from harness.check.plan import MAIN_SCORE

    base = Baseline(baseline, store)
    try:
        pairs = [(r.run_key, r.row.metric) for r in rows if r.run_key]
        pairs += [(_full_key(store, c), m) for c in candidates for m in (metrics or (MAIN_SCORE,))]
        return compare_runs(store, base, pairs, test=test, margin=margin, alpha=alpha), base.label
    finally:
        base.close()


def _report(rows: list, paired: list, label: str, expected_file: Path | None,
            markdown_file: Path | None, log, *, test: str, margin: float,  # noqa: ANN001
            alpha: float) -> None:
    from rich.console import Console

    from harness.check import report

    report.print_console(rows, paired, Console(width=max(Console().width, 200)))
    for line in report.failure_lines(rows, paired):
        click.echo(line)
    if markdown_file is not None:
        title = f"`{expected_file.name}`" if expected_file else "baseline comparison"
        markdown_file.parent.mkdir(parents=True, exist_ok=True)
        markdown_file.write_text(report.markdown(rows, paired, title=title, test=test,
                                                 margin=margin, alpha=alpha, baseline=label),
                                 encoding="utf-8")
        log(f"markdown report: {markdown_file}")
    sys.exit(report.exit_code(rows, paired))


def _full_key(store: object, prefix: str) -> str:
    from harness.errors import HarnessError

    keys = [k for (k,) in store.con.execute(  # type: ignore[attr-defined]
        "SELECT run_key FROM runs WHERE run_key LIKE ?", [prefix + "%"]).fetchall()]
    if len(keys) != 1:
        raise HarnessError(f"--candidate '{prefix}' matches {len(keys)} runs")
    return keys[0]


def _on_benchmark(rows: list, benchmark: str, path: Path, log) -> list:  # noqa: ANN001
    """The expected rows whose task belongs to the benchmark (mteb's names, any case)."""
    from harness.errors import HarnessError
    from harness.tasks.benchmarks import benchmark_suite

    suite = benchmark_suite(benchmark)
    names = {name.lower() for name, _ in suite}
    kept = [r for r in rows if r.task.lower() in names]
    if not kept:
        raise HarnessError(f"{path}: no row is on a task of {benchmark}")
    covered = len({r.task.lower() for r in kept})
    log(f"{benchmark}: {len(kept)} of {len(rows)} rows, on {covered} of its {len(suite)} tasks")
    return kept
