"""Every read the board makes: one read-only DuckDB connection per version of the database file,
static parameterised SQL, and results cached on that version (path, modification time, size).

Rules this module keeps (tests check them):
- connections are opened with ``read_only=True``; nothing here can write;
- every SQL text is a constant of leaderboard/sql.py; UI values only ever travel as ``?`` parameters
  (lists as one ``VARCHAR[]`` parameter, never spliced into the text);
- DuckDB picks the current runs (one query per database version); the leaderboard's entries x
  tasks grid is built from them once per version, so a filter change only slices arrays;
- a result is cached under the file's version, so a filter change re-runs one small query at most
  and a new `harness run` (the file changes) invalidates everything at once.

Why a snapshot: DuckDB's file lock lets no process write while another holds the file open, even
read-only. A board left open would make every `harness run` fail. So the board opens the file
read-only just long enough to copy it (the shared lock guarantees no writer is half-way through
during the copy), then serves one read-only connection to the copy. While a run is writing, the
board keeps serving the last snapshot and says so.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import streamlit as st
from scipy.stats import spearmanr

from harness.store import DUCKDB_CONFIG
from leaderboard import sql
from leaderboard.stats import N_BOOT, SEED, bootstrap_spearman, bootstrap_task_means, interval

DB_ENV = "HARNESS_BOARD_DB"

# (absolute path, mtime_ns, size, WAL mtime_ns, WAL size): the cache key of every read. The WAL
# is part of it because a running writer commits there before the main file changes.
Version = tuple[str, int, int, int, int]


class BoardError(Exception):
    """The database cannot be read (missing, not DuckDB, busy); shown as one line on the page."""


class BoardBusy(BoardError):
    """Another process holds the file for writing (a `harness run`)."""


def db_path() -> Path:
    from harness.data_root import results_root

    return Path(os.environ.get(DB_ENV) or results_root() / "harness.duckdb")


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def db_version(path: Path | None = None) -> Version:
    path = (path or db_path()).resolve()
    try:
        main = path.stat()
    except FileNotFoundError:
        raise BoardError(f"{path}: no such DuckDB file (run `harness run` first)") from None
    try:
        wal = _wal(path).stat()
        wal_key = (wal.st_mtime_ns, wal.st_size)
    except FileNotFoundError:
        wal_key = (0, 0)
    return (str(path), main.st_mtime_ns, main.st_size, *wal_key)


_LOCK = threading.Lock()
_LAST_GOOD: dict[str, Version] = {}  # path -> newest version with a snapshot


@dataclass
class Snapshot:
    con: duckdb.DuckDBPyConnection
    folder: Path

    def release(self) -> None:
        self.con.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _take_snapshot(source: Path) -> Path:
    """Copy the store (and any WAL) while holding a read-only connection on it."""
    try:
        probe = duckdb.connect(str(source), read_only=True, config=dict(DUCKDB_CONFIG))
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise BoardBusy(f"{source}: a `harness run` is writing it") from None
        raise BoardError(f"{source}: cannot open read-only: {exc}") from None
    except duckdb.Error as exc:
        raise BoardError(f"{source}: not a readable DuckDB file: {exc}") from None
    folder = Path(tempfile.mkdtemp(prefix=f"harness-board-{os.getpid()}-"))
    atexit.register(shutil.rmtree, folder, True)  # evicted snapshots go at once, the rest here
    try:
        shutil.copyfile(source, folder / source.name)
        if _wal(source).exists():
            shutil.copyfile(_wal(source), folder / _wal(source).name)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        probe.close()
    return folder / source.name


@st.cache_resource(max_entries=2, show_spinner=False, on_release=Snapshot.release)
def _snapshot(version: Version) -> Snapshot:
    copy = _take_snapshot(Path(version[0]))
    snapshot = Snapshot(duckdb.connect(str(copy), read_only=True, config=dict(DUCKDB_CONFIG)),
                        copy.parent)
    _LAST_GOOD[version[0]] = version
    return snapshot


def _connection(version: Version) -> duckdb.DuckDBPyConnection:
    return _snapshot(version).con


def last_good(path: str) -> Version | None:
    """The newest version already snapshotted (served while a writer holds the file)."""
    return _LAST_GOOD.get(path)


def _df(version: Version, text: str, params: list[Any] | None = None) -> pd.DataFrame:
    """Run one constant SQL text with parameters on a cursor of the shared connection (a DuckDB
    connection is not safe across threads; a cursor per call is)."""
    with _LOCK:
        cur = _connection(version).cursor()
    try:
        return cur.execute(text, params or []).df()
    except duckdb.CatalogException as exc:
        raise BoardError(f"{version[0]}: not a harness store ({exc})") from None
    finally:
        cur.close()


# -- cached reads ---------------------------------------------------------------------------
@st.cache_data(max_entries=4, show_spinner=False)
def current_runs(version: Version) -> pd.DataFrame:
    return _df(version, sql.CURRENT_RUNS_SQL)


@st.cache_data(max_entries=4, show_spinner=False)
def current_count(version: Version) -> int:
    """How many current runs (the sidebar's count, without copying the runs frame per rerun)."""
    return len(current_runs(version))


@st.cache_data(max_entries=4, show_spinner=False)
def presets(version: Version) -> dict[str, list[str]]:
    """Benchmark presets of the current runs (leaderboard/presets.py), once per version."""
    from leaderboard.presets import presets as named

    g = grid(version)
    runs = current_runs(version)
    types = dict(zip(runs["task"], runs["task_type"], strict=True))
    return named(~np.isnan(g.scores), list(g.tasks), types)


@st.cache_data(max_entries=4, show_spinner=False)
def hidden_runs(version: Version) -> int:
    return int(_df(version, sql.HIDDEN_RUNS_SQL).iloc[0, 0])


@st.cache_data(max_entries=4, show_spinner=False)
def all_runs(version: Version) -> pd.DataFrame:
    return _df(version, sql.ALL_RUNS_SQL)


@dataclass(frozen=True)
class Bootstrap:
    """Bootstrap means of every current run's main metric over its task's queries."""

    row: dict[str, int]  # run_key -> row of ``means``
    means: np.ndarray  # runs x B
    unusable: frozenset[str]  # runs whose per-query scores do not average to the main score


@st.cache_resource(max_entries=2, show_spinner="Bootstrapping per-query scores …")
def bootstrap(version: Version) -> Bootstrap:
    """Computed once per database version (not per filter): a cache_resource, so the array is
    shared, never copied. Callers must not modify it."""
    with _LOCK:
        cur = _connection(version).cursor()
    try:
        cols = cur.execute(sql.PER_QUERY_SQL).fetchnumpy()
        runs = cur.execute(sql.PER_QUERY_RUNS_SQL).df()
        sts = cur.execute(sql.STS_ITEMS_SQL).df()
    finally:
        cur.close()
    task_i = np.asarray(cols["task_i"], dtype=np.int64)
    run_i = np.asarray(cols["run_i"], dtype=np.int64)
    query_i = np.asarray(cols["query_i"], dtype=np.int64)
    values = np.asarray(cols["value"], dtype=float)
    runs_per_task = np.bincount(runs["task_i"].to_numpy(dtype=np.int64)) if len(runs) \
        else np.zeros(0, dtype=np.int64)
    rngs = np.random.default_rng(SEED).spawn(len(runs_per_task))  # a stream per task
    blocks = []
    for t, n_runs in enumerate(runs_per_task):
        sel = task_i == t
        n_queries = int(query_i[sel].max()) + 1 if sel.any() else 0
        matrix = np.full((int(n_runs), n_queries), np.nan)
        matrix[run_i[sel], query_i[sel]] = values[sel]
        blocks.append(bootstrap_task_means(matrix, seed=rngs[t]))
    means = np.concatenate(blocks) if blocks else np.zeros((0, N_BOOT), dtype=np.float32)
    # Rows are in (task, run) order, exactly as sql.PER_QUERY_RUNS_SQL lists the runs.
    row = {str(k): i for i, k in enumerate(runs["run_key"])}
    # A run whose main score is not the mean of its per-query values gets no interval rather
    # than a wrong one, unless it is a correlation that can be bootstrapped over its pairs.
    unusable = {str(k) for k in runs.loc[~runs["consistent"].astype(bool), "run_key"]}
    task_of = dict(zip(runs["task"], runs["task_i"], strict=False))
    main_of = dict(zip(runs["run_key"], runs["main_score"], strict=True))
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
    means.setflags(write=False)
    return Bootstrap(row, means, frozenset(unusable))


@dataclass(frozen=True)
class Grid:
    """The current runs as an entries x tasks grid, built once per database version, so a filter
    change slices arrays instead of re-running SQL over every run."""

    entries: pd.DataFrame  # model, variant, family, haystack (lower-case 'model variant')
    tasks: dict[str, int]  # task -> column
    scores: np.ndarray  # entries x tasks main scores, NaN where missing
    keys: np.ndarray  # entries x tasks run keys ('' where missing)


@st.cache_resource(max_entries=2, show_spinner=False)
def grid(version: Version) -> Grid:
    runs = current_runs(version)
    entries = runs[["model", "variant", "family"]].drop_duplicates(["model", "variant"])
    entries = entries.sort_values(["model", "variant"]).reset_index(drop=True)
    entries["haystack"] = (entries["model"] + " " + entries["variant"]).str.lower()
    row = {(m, v): i for i, (m, v) in enumerate(zip(entries["model"], entries["variant"],
                                                     strict=True))}
    tasks = {t: j for j, t in enumerate(sorted(runs["task"].unique()))}
    scores = np.full((len(entries), len(tasks)), np.nan)
    keys = np.full((len(entries), len(tasks)), "", dtype=object)
    r = np.array([row[mv] for mv in zip(runs["model"], runs["variant"], strict=True)],
                 dtype=np.int64)
    c = runs["task"].map(tasks).to_numpy(dtype=np.int64)
    scores[r, c] = runs["main_score"].to_numpy(dtype=float)
    keys[r, c] = runs["run_key"].to_numpy(dtype=object)
    scores.setflags(write=False)
    keys.setflags(write=False)
    return Grid(entries, tasks, scores, keys)


@st.cache_data(max_entries=64, show_spinner=False)
def leaderboard(version: Version, tasks: tuple[str, ...], families: tuple[str, ...],
                search: str) -> pd.DataFrame:
    """One row per model+variant: its main score per selected task, the mean over the selected
    tasks (only when it covers them all), coverage, and the 95% bootstrap CI of that mean.
    Entries with none of the selected tasks are left out."""
    g = grid(version)
    cols = [g.tasks[t] for t in tasks if t in g.tasks]
    rows = g.entries["family"].isin(families).to_numpy()
    if search:
        rows = rows & g.entries["haystack"].str.contains(search.lower(), regex=False).to_numpy()
    scores = g.scores[np.ix_(rows, cols)] if cols else np.zeros((int(rows.sum()), 0))
    present = ~np.isnan(scores)
    covered = present.sum(axis=1)
    keep = covered > 0
    scores, present, covered = scores[keep], present[keep], covered[keep]
    table = g.entries.loc[rows, ["model", "variant", "family"]][keep].reset_index(drop=True)
    with np.errstate(invalid="ignore"):
        mean_covered = np.where(covered > 0, np.nansum(scores, axis=1) / np.maximum(covered, 1),
                                np.nan)
    complete = covered == len(tasks)
    table["mean"] = np.where(complete, mean_covered, np.nan)
    keys = g.keys[np.ix_(rows, cols)][keep] if cols else np.zeros((len(table), 0), object)
    table["ci_low"], table["ci_high"] = _mean_intervals(version, keys, complete)
    table["covered"] = covered
    table["mean_covered"] = mean_covered  # orders incomplete entries
    by_task = dict(zip([t for t in tasks if t in g.tasks], scores.T, strict=True))
    extra = pd.DataFrame({t: by_task.get(t, np.full(len(table), np.nan)) for t in tasks})
    return pd.concat([table, extra], axis=1)


def _mean_intervals(version: Version, keys: np.ndarray,
                    complete: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CI of each complete entry's mean over tasks: average the per-task bootstrap means (tasks
    resampled independently), then take percentiles. An entry with a task lacking usable
    per-query scores gets no interval rather than a wrong one."""
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


@st.cache_data(max_entries=16, show_spinner=False)
def metrics_for(version: Version, tasks: tuple[str, ...]) -> list[str]:
    return _df(version, sql.METRICS_FOR_TASKS_SQL, [list(tasks)])["metric"].tolist()


@st.cache_data(max_entries=32, show_spinner=False)
def tradeoff(version: Version, tasks: tuple[str, ...], metric: str) -> pd.DataFrame:
    """Entries covering every selected task: quality (``metric``, or each task's main metric for
    'main score') and costs, averaged over the tasks."""
    return _df(version, sql.TRADEOFF_SQL, [list(tasks), metric, metric, list(tasks)])


@st.cache_data(max_entries=32, show_spinner=False)
def pair(version: Version, key_a: str, key_b: str, metric: str) -> pd.DataFrame:
    """Per-query values of two runs on the queries both have."""
    return _df(version, sql.PAIR_SQL, [key_a, key_b, key_a, key_b, metric])


@st.cache_data(max_entries=32, show_spinner=False)
def query_metrics(version: Version, key: str) -> list[str]:
    return _df(version, sql.QUERY_METRICS_SQL, [key])["metric"].tolist()


@st.cache_data(max_entries=16, show_spinner=False)
def query_texts(version: Version, task: str, data_sha: str) -> pd.DataFrame:
    return _df(version, sql.QUERY_TEXTS_SQL, [task, data_sha])


@st.cache_data(max_entries=64, show_spinner=False)
def qrels(version: Version, task: str, data_sha: str, query_id: str) -> pd.DataFrame:
    return _df(version, sql.QRELS_SQL, [task, data_sha, query_id])


@st.cache_data(max_entries=128, show_spinner=False)
def top(version: Version, key: str, task: str, data_sha: str, query_id: str,
        k: int = 10) -> pd.DataFrame:
    return _df(version, sql.TOP_SQL, [task, data_sha, key, query_id, k])


@st.cache_data(max_entries=128, show_spinner=False)
def query_value(version: Version, key: str, query_id: str, metric: str) -> float | None:
    frame = _df(version, sql.QUERY_VALUE_SQL, [key, query_id, metric])
    return None if frame.empty else float(frame.iloc[0, 0])


@st.cache_data(max_entries=32, show_spinner=False)
def run(version: Version, key: str) -> dict[str, Any] | None:
    frame = _df(version, sql.RUN_SQL, [key])
    return None if frame.empty else frame.iloc[0].to_dict()


@st.cache_data(max_entries=32, show_spinner=False)
def scores(version: Version, key: str) -> pd.DataFrame:
    return _df(version, sql.SCORES_SQL, [key])


@st.cache_data(max_entries=32, show_spinner=False)
def published(version: Version, key: str) -> pd.DataFrame:
    return _df(version, sql.PUBLISHED_SQL, [key])


@st.cache_data(max_entries=4, show_spinner=False)
def tasks_with_texts(version: Version) -> pd.DataFrame:
    return _df(version, sql.TASKS_WITH_TEXTS_SQL)
