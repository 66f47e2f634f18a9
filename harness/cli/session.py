"""Run a grid of specs from the CLI: progress, one-line skips and errors, a summary table."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness.cache import EmbeddingCache
from harness.data_root import resolve_data_root
from harness.errors import HarnessError
from harness.executors import get_executor
from harness.kinds.outcome import Context
from harness.runner import Runner, RunResult
from harness.spec import RunSpec
from harness.store import Store


def run_grid(specs: list[RunSpec], *, db: Path, cache_dir: Path, data_root: Path | None,
             force: bool = False, batch_size: int = 32, progress: bool = True,
             executor: str = "local", ray_address: str | None = None,
             ray_workers: int | None = None) -> int:
    """Returns the exit code: 0 all done (unsupported pairs in a grid skipped), 1 otherwise.

    ``executor`` "local" runs the specs here one by one; "ray" runs them on a Ray cluster
    (``ray_address`` HOST:PORT or "auto"; none starts a local one), see harness/executors/.
    """
    console = Console(stderr=True)
    root = resolve_data_root(data_root)
    runs_on = get_executor(executor, address=ray_address, workers=ray_workers)
    ctx = Context(EmbeddingCache(cache_dir), batch_size=batch_size, progress=progress)
    with runs_on, Store(db) as store:
        runner = Runner(store, ctx, root, force=force, log=console.print)
        outcome = runs_on.run(specs, runner, console.print)
    results, unsupported = outcome.results, outcome.unsupported
    _summary(results)
    if unsupported and len(unsupported) == len(specs):
        if len(specs) == 1:
            raise HarnessError(unsupported[0].replace("; skipped", ""))
        return 1
    return 0


def _fmt(value: object, pattern: str) -> str:
    return "–" if value is None else pattern.format(value)


def _summary(results: list[RunResult]) -> None:
    if not results:
        return
    table = Table(title="harness run", show_lines=False)
    for col in ("model", "task", "variant", "metric", "score", "encode s", "docs/s", "status",
                "run key"):
        table.add_column(col)
    for r in results:
        timings = r.row.get("timings") or {}
        if isinstance(timings, str):
            import json

            timings = json.loads(timings)
        encode_s = timings.get("encode_corpus_s", timings.get("encode_s"))
        table.add_row(r.spec.model, r.spec.task, r.spec.variant or "-", r.main_metric,
                      _fmt(r.main_score, "{:.5f}"), _fmt(encode_s, "{:.1f}"),
                      _fmt(r.row.get("encode_docs_per_s"), "{:.1f}"), r.status, r.key[:12])
    Console(width=max(Console().width, 150)).print(table)
