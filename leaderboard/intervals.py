"""The leaderboard's 95% intervals: a paired bootstrap of every current run's per-query scores,
computed once per database version in a background thread.

Why in the background: at MTEB's scale (1,000 entries x 60 tasks, ~6M per-query rows) the
bootstrap takes seconds, while every other part of the first render takes well under one. So a
page asks ``ready(version, wait_s)``: it starts the job if none runs for this version, waits a
moment (small stores finish within it, so their first render already has intervals), and
otherwise draws the table without intervals and polls until they arrive (views/leaderboard.py).
Pages that cannot work without the bootstrap (a mean's interval on demand) call ``bootstrap``,
which waits for the same job: it is never computed twice.
"""

from __future__ import annotations

import concurrent.futures as cf
from dataclasses import dataclass

import duckdb
import numpy as np
import streamlit as st

from leaderboard import queries as q
from leaderboard import sql
from leaderboard.stats import N_BOOT, SEED, bootstrap_spearman, bootstrap_task_means, interval

# One worker: two store versions never bootstrap at once on a small machine.
_WORKER = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="board-bootstrap")


@dataclass(frozen=True)
class Bootstrap:
    """Bootstrap means of every current run's main metric over its task's queries."""

    row: dict[str, int]  # run_key -> row of ``means``
    means: np.ndarray  # runs x B
    unusable: frozenset[str]  # runs whose per-query scores do not average to the main score


@st.cache_resource(max_entries=2, show_spinner=False)
def _job(version: q.Version) -> cf.Future[Bootstrap]:
    """The bootstrap of one version, submitted once; the cursor is taken here, on the caller's
    thread, because the snapshot connection lives in this session's cache."""
    return _WORKER.submit(_compute, q.cursor(version))


def ready(version: q.Version, wait_s: float = 0.0) -> bool:
    """Whether the intervals of this version are computed, waiting at most ``wait_s`` for them
    (starting the computation if nobody has)."""
    job = _job(version)
    cf.wait([job], timeout=wait_s)
    return job.done()


def bootstrap(version: q.Version) -> Bootstrap:
    """The bootstrap of this version, waiting for it (shared, never copied: do not modify)."""
    return _job(version).result()


def _compute(cur: duckdb.DuckDBPyConnection) -> Bootstrap:
    try:
        runs = cur.execute(sql.PER_QUERY_RUNS_SQL).df()
        cols = cur.execute(sql.PER_QUERY_SQL).fetchnumpy()
        sts = cur.execute(sql.STS_ITEMS_SQL).df()
    finally:
        cur.close()
    n_tasks = int(runs["task_i"].max()) + 1 if len(runs) else 0
    runs_per_task = np.bincount(runs["task_i"].to_numpy(dtype=np.int64), minlength=n_tasks)
    # Order the rows by task: a stable sort of 16-bit integers is a radix sort in numpy.
    small = np.int16 if n_tasks < 2**15 else np.int64
    order = np.argsort(np.asarray(cols["task_i"], dtype=small), kind="stable")
    cols = {name: np.asarray(column)[order] for name, column in cols.items()}
    bounds = np.searchsorted(cols["task_i"], np.arange(n_tasks + 1))
    rngs = np.random.default_rng(SEED).spawn(n_tasks)  # a stream per task
    blocks, means_of_values = [], []
    for t in range(n_tasks):
        part = slice(bounds[t], bounds[t + 1])
        matrix = _task_matrix(int(runs_per_task[t]), cols, part)
        present = ~np.isnan(matrix)
        with np.errstate(invalid="ignore", divide="ignore"):  # no values: NaN, never consistent
            means_of_values.append(np.where(present, matrix, 0.0).sum(axis=1)
                                   / present.sum(axis=1))
        blocks.append(bootstrap_task_means(matrix, seed=rngs[t]))
    means = np.concatenate(blocks) if blocks else np.zeros((0, N_BOOT), dtype=np.float32)
    # Rows are in (task, run) order, exactly as sql.PER_QUERY_RUNS_SQL lists the runs.
    row = {str(k): i for i, k in enumerate(runs["run_key"].to_numpy(dtype=object))}
    # A run whose main score is not the mean of its per-query values gets no interval rather
    # than a wrong one, unless it is a correlation that can be bootstrapped over its pairs.
    averaged = np.concatenate(means_of_values) if means_of_values else np.zeros(0)
    consistent = np.abs(averaged - runs["main_score"].to_numpy(dtype=float)) <= 1e-6
    unusable = {str(k) for k in runs.loc[~consistent, "run_key"]}
    _spearman_samples(runs, sts, rngs, means, row, unusable)
    means.setflags(write=False)
    return Bootstrap(row, means, frozenset(unusable))


def _task_matrix(n_runs: int, cols: dict[str, np.ndarray], part: slice) -> np.ndarray:
    """runs x queries of one task, NaN where a run has no score for a query."""
    run_i = np.asarray(cols["run_i"][part], dtype=np.int64)
    query_i = np.asarray(cols["query_i"][part], dtype=np.int64)
    n_queries = int(query_i.max()) + 1 if len(query_i) else 0
    matrix = np.full((n_runs, n_queries), np.nan)
    matrix[run_i, query_i] = np.asarray(cols["value"][part], dtype=float)
    return matrix


def _spearman_samples(runs, sts, rngs, means, row, unusable) -> None:  # noqa: ANN001
    """STS runs: bootstrap the Spearman correlation over pairs (a correlation is not a mean of
    per-query values), for runs whose predictions reproduce their stored main score."""
    from scipy.stats import spearmanr  # on the background thread, not the first render's

    task_of = dict(zip(runs["task"], runs["task_i"], strict=False))
    main_of = dict(zip(runs["run_key"].to_numpy(dtype=object), runs["main_score"].to_numpy(),
                       strict=True))
    for task, items in sts.groupby("task", sort=False):
        predicted = items.pivot(index="run_key", columns="query_id", values="predicted")
        gold = items.groupby("query_id")["gold"].first().reindex(predicted.columns).to_numpy()
        predicted = predicted[predicted.notna().all(axis=1)]
        if predicted.empty or np.isnan(gold).any():
            continue
        boot = bootstrap_spearman(predicted.to_numpy(), gold, seed=rngs[task_of[task]])
        for key, values, samples in zip(predicted.index, predicted.to_numpy(), boot,
                                        strict=True):
            if abs(spearmanr(values, gold).statistic - main_of[key]) <= 1e-6:
                means[row[key]] = samples
                unusable.discard(str(key))


@st.cache_data(max_entries=64, show_spinner=False)
def mean_intervals(version: q.Version, tasks: tuple[str, ...], families: tuple[str, ...],
                   search: str) -> tuple[np.ndarray, np.ndarray]:
    """95% CI of each row of ``q.leaderboard(version, tasks, families, search)``'s mean over the
    tasks: average the per-task bootstrap means (tasks resampled independently), then take
    percentiles. NaN for a row without a mean, or with a task lacking usable per-query scores
    (no interval rather than a wrong one)."""
    keys, complete = q.leaderboard_keys(version, tasks, families, search)
    low = np.full(len(keys), np.nan)
    high = np.full(len(keys), np.nan)
    if not complete.any() or keys.shape[1] == 0:
        return low, high
    boot = bootstrap(version)
    if boot.means.shape[0] == 0:
        return low, high
    chosen = np.flatnonzero(complete)
    rows = np.array([[boot.row.get(k, -1) if k not in boot.unusable else -1 for k in line]
                     for line in keys[chosen]], dtype=np.int64).reshape(len(chosen), -1)
    usable = (rows >= 0).all(axis=1)
    chosen, rows = chosen[usable], rows[usable]
    if len(chosen):
        sums = np.zeros((len(chosen), boot.means.shape[1]), dtype=np.float32)
        for column in rows.T:  # one task at a time: entries x B, never entries x tasks x B
            sums += boot.means[column]
        low[chosen], high[chosen] = interval(sums / np.float32(rows.shape[1]))
    return low, high
