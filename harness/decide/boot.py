"""The query level of the two-level bootstrap, once per store version: for every run, n_boot
means of its per-query values, the queries of a task resampled identically for all its runs.

Seeds derive from the task's name, so a task's resamples do not depend on which other tasks are
loaded: the board (every task at once) and the CLI (the selected tasks) get the same numbers.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.decide.load import per_query


def task_rng(seed: int, *names: str) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(n.encode()) for n in names)])


@dataclass(frozen=True)
class QueryBoot:
    row: dict[str, int]  # run key -> row of ``means``
    means: np.ndarray  # runs x n_boot (float32, read-only)
    consistent: frozenset[str]  # runs whose per-query values average to their score


def query_boot(con, runs: pd.DataFrame, n_boot: int, seed: int) -> QueryBoot:  # noqa: ANN001
    """``runs``: run_key, task, main_metric, main_score (the metric the per-query rows use)."""
    from leaderboard.stats import bootstrap_task_means

    runs = runs.reset_index(drop=True)
    tasks: Sequence[str] = sorted(runs["task"].unique())
    v = per_query(con, runs, tasks)
    run_i, task_i = v["run_i"].astype(np.int64), v["task_i"].astype(np.int64)
    query_i, value = v["query_i"].astype(np.int64), v["value"].astype(float)
    counts = np.bincount(run_i, minlength=len(runs))
    sums = np.bincount(run_i, value, minlength=len(runs))
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (counts > 0) & (np.abs(sums / counts - runs["main_score"].to_numpy(float)) <= 1e-6)
    means = np.full((len(runs), n_boot), np.nan, dtype=np.float32)
    bounds = np.searchsorted(task_i, np.arange(len(tasks) + 1))  # rows come sorted by task
    codes = pd.Categorical(runs["task"], categories=tasks).codes
    by_task = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[by_task], np.arange(len(tasks) + 1))
    local = np.empty(len(runs), dtype=np.int64)  # a run's row within its task's matrix
    for t in range(len(tasks)):
        local[by_task[starts[t]:starts[t + 1]]] = np.arange(starts[t + 1] - starts[t])
    for t, task in enumerate(tasks):
        rows = slice(bounds[t], bounds[t + 1])
        if bounds[t] == bounds[t + 1]:
            continue
        members = by_task[starts[t]:starts[t + 1]]
        matrix = np.full((len(members), int(query_i[rows].max()) + 1), np.nan)
        matrix[local[run_i[rows]], query_i[rows]] = value[rows]
        means[members] = bootstrap_task_means(matrix, n_boot, task_rng(seed, task))
    means.setflags(write=False)
    return QueryBoot({str(k): i for i, k in enumerate(runs["run_key"])}, means,
                     frozenset(runs.loc[ok, "run_key"].astype(str)))
