"""Ranks that admit ties: mean, rank, a 95% rank interval and the tie groups.

Two-level bootstrap, seeded: each resample draws the tasks with replacement and, inside each task,
its queries with replacement (the same queries for every entry, so the comparison is paired). A
task whose runs lack per-query rows of the main metric (or whose rows do not average to the main
score, e.g. a correlation) is resampled at the task level only.

Tie groups are formed from the top down: the best remaining entry leads a group, and every
remaining entry it does not beat at the 5% level (two-sided; the leader is ahead in fewer than
97.5% of resamples) joins it. A group shares one displayed rank: 1 + the size of the groups above.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from harness.decide.load import Table, Version, connect, current_runs, entry_table, per_query

N_BOOT = 1000
SEED = 20261207
LEVEL = 0.95


@dataclass(frozen=True)
class Ranking:
    frame: pd.DataFrame  # entry, mean, rank, rank_low, rank_high, tied_with_top, group, ...
    samples: np.ndarray  # entries x n_boot bootstrap means, rows in ``frame`` order
    query_level: list[str]  # tasks resampled down to their queries
    task_level: list[str]  # tasks resampled as a whole
    missing: list[str]  # entries left out: they miss a selected task


def task_matrices(table: Table, runs: pd.DataFrame, values: pd.DataFrame
                  ) -> list[np.ndarray | None]:
    """Per task an entries x queries matrix of main-metric values, or None where any entry's
    per-query rows are absent or do not average to its main score."""
    by_run = {k: g for k, g in values.groupby("run_key", sort=False)}
    matrices: list[np.ndarray | None] = []
    for t in range(len(table.tasks)):
        keys = table.run_keys[:, t]
        parts = [by_run.get(k) for k in keys]
        if any(p is None or p.empty for p in parts) or not all(
                abs(float(p["value"].mean()) - s) <= 1e-6
                for p, s in zip(parts, table.scores[:, t], strict=True)):
            matrices.append(None)
            continue
        queries = pd.Index(sorted(set().union(*(p["query_id"] for p in parts))))
        matrix = np.full((len(keys), len(queries)), np.nan)
        for i, p in enumerate(parts):
            matrix[i, queries.get_indexer(p["query_id"])] = p["value"].to_numpy(dtype=float)
        matrices.append(matrix)
    return matrices


def _counts(n_items: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    picks = rng.integers(0, n_items, size=(n_boot, n_items))
    return np.bincount((np.arange(n_boot)[:, None] * n_items + picks).ravel(),
                       minlength=n_boot * n_items).reshape(n_boot, n_items).astype(np.float64)


def bootstrap_means(scores: np.ndarray, matrices: Sequence[np.ndarray | None],
                    n_boot: int = N_BOOT, seed: int = SEED) -> np.ndarray:
    """entries x n_boot means over tasks: tasks resampled, and queries inside each task that has
    a matrix. ``scores``: entries x tasks main scores (used where a task has no matrix)."""
    from leaderboard.stats import bootstrap_task_means

    n_entries, n_tasks = scores.shape
    task_rng, *query_rngs = np.random.default_rng(seed).spawn(1 + n_tasks)
    weights = _counts(n_tasks, n_boot, task_rng)  # n_boot x tasks
    totals = np.zeros((n_entries, n_boot))
    for t, matrix in enumerate(matrices):
        if matrix is None:
            totals += scores[:, t:t + 1] * weights[None, :, t]
        else:
            totals += bootstrap_task_means(matrix, n_boot, query_rngs[t]) * weights[None, :, t]
    # Rounded so entries with identical values stay exactly equal after float arithmetic.
    return np.round(totals / n_tasks, 10)


def rank_samples(samples: np.ndarray) -> np.ndarray:
    """Competition ranks (1 = best, equal values share the better rank) per resample."""
    from scipy.stats import rankdata

    return rankdata(-samples, method="min", axis=0).astype(np.int32)


def tie_groups(means: np.ndarray, samples: np.ndarray, level: float = LEVEL) -> np.ndarray:
    """Group number of each entry (0 = tied with the top), formed from the top down."""
    order = np.lexsort((np.arange(len(means)), -means))
    group = np.full(len(means), -1)
    tail = (1 - level) / 2
    g = 0
    remaining = order
    while len(remaining):
        leader = remaining[0]
        # Share of resamples where the entry does at least as well as the leader.
        share = (samples[remaining] >= samples[leader]).mean(axis=1)
        tied = (share >= tail) | (means[remaining] >= means[leader])
        tied[0] = True
        group[remaining[tied]] = g
        remaining = remaining[~tied]
        g += 1
    return group


def rank_table(table: Table, matrices: Sequence[np.ndarray | None], n_boot: int = N_BOOT,
               seed: int = SEED) -> tuple[pd.DataFrame, np.ndarray]:
    means = table.scores.mean(axis=1)
    if not len(means):
        return pd.DataFrame(columns=["entry", "mean", "rank", "rank_low", "rank_high",
                                     "tied_with_top", "group"]), np.zeros((0, n_boot))
    samples = bootstrap_means(table.scores, matrices, n_boot, seed)
    ranks = rank_samples(samples)
    tail = 100 * (1 - LEVEL) / 2
    low = np.percentile(ranks, tail, axis=1, method="lower")
    high = np.percentile(ranks, 100 - tail, axis=1, method="higher")
    group = tie_groups(means, samples)
    sizes = np.bincount(group)
    shown = np.concatenate([[0], np.cumsum(sizes)])[group] + 1
    frame = pd.DataFrame({"entry": table.entries, "mean": means, "rank": shown.astype(int),
                          "rank_low": low.astype(int), "rank_high": high.astype(int),
                          "tied_with_top": group == 0, "group": group})
    order = np.lexsort((frame["entry"].to_numpy(), -means))
    return frame.iloc[order].reset_index(drop=True), samples[order]


def rank_store(con, tasks: Sequence[str], n_boot: int = N_BOOT,  # noqa: ANN001 - a connection
               seed: int = SEED, metric: str | None = None) -> Ranking:
    runs = current_runs(con, tasks, metric)
    table = entry_table(runs, tasks)
    keep = runs[runs["entry"].isin(table.entries)]
    matrices = task_matrices(table, keep, per_query(con, keep))
    frame, samples = rank_table(table, matrices, n_boot, seed)
    samples.setflags(write=False)
    return Ranking(frame, samples,
                   [t for t, m in zip(table.tasks, matrices, strict=True) if m is not None],
                   [t for t, m in zip(table.tasks, matrices, strict=True) if m is None],
                   table.missing)


@lru_cache(maxsize=8)
def cached_ranking(version: Version, tasks: tuple[str, ...], n_boot: int = N_BOOT,
                   seed: int = SEED, metric: str | None = None) -> Ranking:
    """Computed once per store version (path, mtime, size): a new run invalidates it."""
    con = connect(version[0])
    try:
        return rank_store(con, tasks, n_boot, seed, metric)
    finally:
        con.close()


def records(ranking: Ranking) -> list[dict]:
    cols = ["entry", "mean", "rank", "rank_low", "rank_high", "tied_with_top"]
    out = ranking.frame[cols].astype(object).to_dict(orient="records")
    for row in out:
        row["mean"] = float(row["mean"])
        row["tied_with_top"] = bool(row["tied_with_top"])
        for c in ("rank", "rank_low", "rank_high"):
            row[c] = int(row[c])
    return out
