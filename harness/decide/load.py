"""Read the current runs of a set of tasks from a store (read-only), keyed by store version.

"Current" is the board's definition (leaderboard/sql.py): per task the data version most runs
used, per model + variant + task the newest run. An *entry* is a model + variant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from harness.errors import HarnessError

MAIN = "main score"  # each task's own main metric

# (absolute path, mtime_ns, size, WAL mtime_ns, WAL size), as the board keys its caches.
Version = tuple[str, int, int, int, int]

# Lists travel as one parameter and are joined (not list_contains: that is quadratic).
_RUN_DETAILS_SQL = """
SELECT r.run_key, r.environment, r.extra, CASE WHEN ? THEN r.spec END AS spec
FROM runs r JOIN (SELECT unnest(?::VARCHAR[]) AS run_key) k ON k.run_key = r.run_key
"""
# Per-query values of some runs as integer coordinates (run, task, query within task), ordered by
# task, so numpy only scatters numbers into per-task matrices.
_PER_QUERY_SQL = """
WITH cells AS (SELECT unnest(?::VARCHAR[]) AS run_key, unnest(?::VARCHAR[]) AS metric,
                      unnest(?::INTEGER[]) AS run_i, unnest(?::INTEGER[]) AS task_i),
vals AS (SELECT c.run_i, c.task_i, q.query_id, q.value
         FROM query_scores q JOIN cells c ON q.run_key = c.run_key AND q.metric = c.metric),
numbered AS (SELECT task_i, query_id,
                    row_number() OVER (PARTITION BY task_i ORDER BY query_id) - 1 AS query_i
             FROM (SELECT DISTINCT task_i, query_id FROM vals))
SELECT v.run_i, v.task_i, n.query_i, v.value FROM vals v JOIN numbered n USING (task_i, query_id)
ORDER BY v.task_i
"""


def entry_label(model: str, variant: str) -> str:
    """How an entry is named everywhere (CLI, JSON, board): ``model`` or ``model [variant]``."""
    return model if not variant else f"{model} [{variant}]"


def store_version(path: Path | str) -> Version:
    path = Path(path).resolve()
    try:
        main = path.stat()
    except FileNotFoundError:
        raise HarnessError(f"{path}: no such DuckDB file (run `harness run` first)") from None
    try:
        wal = path.with_name(path.name + ".wal").stat()
        wal_key = (wal.st_mtime_ns, wal.st_size)
    except FileNotFoundError:
        wal_key = (0, 0)
    return (str(path), main.st_mtime_ns, main.st_size, *wal_key)


def connect(path: Path | str) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise HarnessError(f"{path}: cannot open the store read-only: "
                           f"{str(exc).splitlines()[0]}") from None


def current_runs(con: duckdb.DuckDBPyConnection, tasks: Sequence[str],
                 metric: str | None = None) -> pd.DataFrame:
    """Current runs of ``tasks`` (every cost column, the data checksum). With ``metric``, that
    stored metric stands in for each run's main score (runs without it are left out)."""
    from leaderboard.sql import CURRENT_RUNS_SQL

    if metric and metric != MAIN:
        frame = con.execute(
            f"SELECT c.* REPLACE (s.value AS main_score, s.metric AS main_metric) "
            f"FROM ({CURRENT_RUNS_SQL}) c JOIN scores s ON s.run_key = c.run_key "
            "WHERE list_contains(?::VARCHAR[], c.task) AND s.metric = ?",
            [list(tasks), metric]).df()
    else:
        frame = con.execute(f"SELECT * FROM ({CURRENT_RUNS_SQL}) WHERE "
                            "list_contains(?::VARCHAR[], task)", [list(tasks)]).df()
    frame["entry"] = [entry_label(m, v) for m, v in zip(frame["model"], frame["variant"],
                                                        strict=True)]
    return frame


def run_details(con: duckdb.DuckDBPyConnection, keys: Sequence[str],
                with_spec: bool = False) -> pd.DataFrame:
    """environment / extra (/ spec) JSON of some runs (as text), indexed by run key."""
    return con.execute(_RUN_DETAILS_SQL, [with_spec, list(keys)]).df().set_index("run_key")


def per_query(con: duckdb.DuckDBPyConnection, runs: pd.DataFrame,
              tasks: Sequence[str]) -> dict[str, np.ndarray]:
    """Each run's per-query values of its ``main_metric``: arrays run_i (row of ``runs``),
    task_i (index in ``tasks``), query_i (within the task), value; sorted by task."""
    task_index = {t: i for i, t in enumerate(tasks)}
    cols = con.execute(_PER_QUERY_SQL, [
        runs["run_key"].tolist(), runs["main_metric"].tolist(), list(range(len(runs))),
        [task_index[t] for t in runs["task"]]]).fetchnumpy()
    return {k: np.asarray(cols[k]) for k in ("run_i", "task_i", "query_i", "value")}


def resolve_tasks(con: duckdb.DuckDBPyConnection, tasks: Sequence[str],
                  benchmark: str | None) -> list[str]:
    """The tasks asked for: ``-t`` names, plus a benchmark's tasks that the store holds."""
    stored = [r[0] for r in con.execute("SELECT DISTINCT task FROM runs ORDER BY 1").fetchall()]
    wanted = [t for t in tasks if t]
    if benchmark:
        listed = benchmark_tasks(benchmark)
        held = [t for t in listed if t in stored and t not in wanted]
        if not held and not wanted:
            raise HarnessError(f"benchmark {benchmark!r}: none of its {len(listed)} tasks has "
                               f"stored runs (stored: {', '.join(stored) or 'none'})")
        wanted += held
    if not wanted:
        raise HarnessError("no task selected: pass -t TASK (or --benchmark with stored tasks)")
    unknown = [t for t in wanted if t not in stored]
    if unknown:
        raise HarnessError(f"task {unknown[0]!r} has no stored runs "
                           f"(stored: {', '.join(stored) or 'none'})")
    return wanted


def benchmark_tasks(name: str) -> list[str]:
    """Task names of an MTEB benchmark (mteb's local registry; no network)."""
    import mteb

    try:
        bench = mteb.get_benchmark(name)
    except (KeyError, ValueError) as exc:
        raise HarnessError(f"unknown benchmark {name!r}: {str(exc).splitlines()[0]}") from None
    return [t.metadata.name for t in bench.tasks]


@dataclass(frozen=True)
class Table:
    """The entries that cover every selected task: their per-task main scores (entries x tasks)
    and the run behind each cell; entries missing a task are listed apart."""

    entries: list[str]
    tasks: list[str]
    scores: np.ndarray  # entries x tasks
    run_keys: np.ndarray  # entries x tasks, object
    missing: list[str]  # entries lacking at least one selected task


def entry_table(runs: pd.DataFrame, tasks: Sequence[str]) -> Table:
    wide = runs.pivot_table(index="entry", columns="task", values="main_score", aggfunc="first")
    keys = runs.pivot_table(index="entry", columns="task", values="run_key", aggfunc="first")
    wide = wide.reindex(columns=list(tasks))
    keys = keys.reindex(index=wide.index, columns=list(tasks))
    complete = wide.notna().all(axis=1)
    return Table(entries=wide.index[complete].tolist(), tasks=list(tasks),
                 scores=wide[complete].to_numpy(dtype=float),
                 run_keys=keys[complete].to_numpy(dtype=object),
                 missing=wide.index[~complete].tolist())
