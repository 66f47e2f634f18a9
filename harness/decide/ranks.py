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

from harness.decide.boot import QueryBoot, query_boot, task_rng
from harness.decide.load import Table, Version, connect, current_runs, entry_table

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


def _counts(n_items: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    picks = rng.integers(0, n_items, size=(n_boot, n_items))
    return np.bincount((np.arange(n_boot)[:, None] * n_items + picks).ravel(),
                       minlength=n_boot * n_items).reshape(n_boot, n_items).astype(np.float32)


def bootstrap_means(table: Table, boot: QueryBoot, n_boot: int = N_BOOT, seed: int = SEED
                    ) -> tuple[np.ndarray, list[bool]]:
    """entries x n_boot means over tasks, tasks resampled (seeded by the selection) and, for a
    task whose every selected run has consistent per-query rows, queries within it (from
    ``boot``); other tasks at the task level. Also: which tasks were resampled by query."""
    n_entries, n_tasks = table.scores.shape
    weights = _counts(n_tasks, n_boot, task_rng(seed, "tasks", *sorted(table.tasks)))
    totals = np.zeros((n_entries, n_boot), dtype=np.float32)
    by_query = []
    for t in range(n_tasks):
        keys = table.run_keys[:, t]
        query_level = all(k in boot.consistent for k in keys)
        by_query.append(query_level)
        if query_level:
            totals += boot.means[[boot.row[k] for k in keys]] * weights[:, t]
        else:
            totals += table.scores[:, t:t + 1].astype(np.float32) * weights[:, t]
    # Rounded so entries with identical values stay exactly equal after float arithmetic.
    return np.round(totals / n_tasks, 6), by_query


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


def rank_table(table: Table, boot: QueryBoot, n_boot: int = N_BOOT, seed: int = SEED,
               missing: Sequence[str] = ()) -> Ranking:
    means = table.scores.mean(axis=1)
    if not len(means):
        empty = pd.DataFrame(columns=["entry", "mean", "rank", "rank_low", "rank_high",
                                      "tied_with_top", "group"])
        return Ranking(empty, np.zeros((0, n_boot)), [], list(table.tasks), list(missing))
    samples, by_query = bootstrap_means(table, boot, n_boot, seed)
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
    samples = samples[order]
    samples.setflags(write=False)
    return Ranking(frame.iloc[order].reset_index(drop=True), samples,
                   [t for t, q in zip(table.tasks, by_query, strict=True) if q],
                   [t for t, q in zip(table.tasks, by_query, strict=True) if not q],
                   list(missing))


def rank_runs(runs: pd.DataFrame, tasks: Sequence[str], boot: QueryBoot,
              n_boot: int = N_BOOT, seed: int = SEED) -> Ranking:
    """Rank the entries of ``runs`` (current runs, any superset of ``tasks``) on ``tasks``."""
    table = entry_table(runs[runs["task"].isin(tasks)], tasks)
    return rank_table(table, boot, n_boot, seed, table.missing)


def rank_store(con, tasks: Sequence[str], n_boot: int = N_BOOT,  # noqa: ANN001 - a connection
               seed: int = SEED, metric: str | None = None) -> Ranking:
    runs = current_runs(con, tasks, metric)
    return rank_runs(runs, tasks, query_boot(con, runs, n_boot, seed), n_boot, seed)


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
