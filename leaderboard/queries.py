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

from harness.store import DUCKDB_CONFIG
from leaderboard import sql

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


def cursor(version: Version) -> duckdb.DuckDBPyConnection:
    """A cursor of the version's shared read-only connection (one per thread; close it)."""
    with _LOCK:
        return _connection(version).cursor()


def _df(version: Version, text: str, params: list[Any] | None = None, *,
        arrow: bool = False) -> pd.DataFrame:
    """Run one constant SQL text with parameters on a cursor of the shared connection (a DuckDB
    connection is not safe across threads; a cursor per call is). ``arrow``: convert through
    Arrow, ~2x faster for large frames of strings."""
    cur = cursor(version)
    try:
        if arrow:
            return cur.sql(text, params=params or None).to_arrow_table().to_pandas()
        return cur.execute(text, params or []).df()
    except duckdb.CatalogException as exc:
        raise BoardError(f"{version[0]}: not a harness store ({exc})") from None
    finally:
        cur.close()


# -- cached reads ---------------------------------------------------------------------------
@st.cache_resource(max_entries=4, show_spinner=False)
def current_runs(version: Version) -> pd.DataFrame:
    """The current runs, shared by every page and session of this version (a cache_resource:
    never pickled or copied per read, which at 57k runs cost more than the query). Callers
    must not modify it."""
    return _df(version, sql.CURRENT_RUNS_SQL, arrow=True)


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
    pairs = runs[["task", "task_type"]].drop_duplicates()  # not 57k Arrow strings one by one
    types = dict(zip(pairs["task"], pairs["task_type"], strict=True))
    return named(~np.isnan(g.scores), list(g.tasks), types)


@st.cache_data(max_entries=4, show_spinner=False)
def hidden_runs(version: Version) -> int:
    return int(_df(version, sql.ALL_RUNS_COUNT_SQL).iloc[0, 0]) - current_count(version)


@st.cache_data(max_entries=4, show_spinner=False)
def all_runs(version: Version) -> pd.DataFrame:
    return _df(version, sql.ALL_RUNS_SQL)


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
    # One code per model+variant (sorted by model, then variant: the separator sorts first)
    # and per task, so the scatter below is vectorised.
    entry_of, _ = pd.factorize(runs["model"] + "\x1f" + runs["variant"], sort=True)
    task_of, task_names = pd.factorize(runs["task"], sort=True)
    _, first = np.unique(entry_of, return_index=True)
    entries = runs.iloc[first][["model", "variant", "family"]].reset_index(drop=True)
    entries["haystack"] = (entries["model"] + " " + entries["variant"]).str.lower()
    tasks = {str(t): j for j, t in enumerate(task_names)}
    scores = np.full((len(entries), len(tasks)), np.nan)
    keys = np.full((len(entries), len(tasks)), "", dtype=object)
    scores[entry_of, task_of] = runs["main_score"].to_numpy(dtype=float)
    keys[entry_of, task_of] = runs["run_key"].to_numpy(dtype=object)
    scores.setflags(write=False)
    keys.setflags(write=False)
    return Grid(entries, tasks, scores, keys)


def _selection(g: Grid, tasks: tuple[str, ...], families: tuple[str, ...],
               search: str) -> tuple[np.ndarray, list[int]]:
    """Grid rows (entries of the families whose name contains ``search`` and that have at least
    one of the tasks) and grid columns of the tasks: the leaderboard's rows, in grid order."""
    cols = [g.tasks[t] for t in tasks if t in g.tasks]
    rows = g.entries["family"].isin(families).to_numpy()
    if search:
        rows = rows & g.entries["haystack"].str.contains(search.lower(), regex=False).to_numpy()
    rows = np.flatnonzero(rows)
    has_one = (~np.isnan(g.scores[np.ix_(rows, cols)])).any(axis=1)  # none without cols
    return rows[has_one], cols


@st.cache_data(max_entries=64, show_spinner=False)
def leaderboard(version: Version, tasks: tuple[str, ...], families: tuple[str, ...],
                search: str) -> pd.DataFrame:
    """One row per model+variant: its main score per selected task, the mean over the selected
    tasks (only when it covers them all) and coverage. Entries with none of the selected tasks
    are left out. The mean's interval comes from leaderboard/intervals.py (same rows, same
    order), so the table never waits for the bootstrap."""
    g = grid(version)
    rows, cols = _selection(g, tasks, families, search)
    scores = g.scores[np.ix_(rows, cols)]
    covered = (~np.isnan(scores)).sum(axis=1)
    table = g.entries.loc[rows, ["model", "variant", "family"]].reset_index(drop=True)
    with np.errstate(invalid="ignore"):
        mean_covered = np.where(covered > 0, np.nansum(scores, axis=1) / np.maximum(covered, 1),
                                np.nan)
    table["mean"] = np.where(covered == len(tasks), mean_covered, np.nan)
    table["covered"] = covered
    table["mean_covered"] = mean_covered  # orders incomplete entries
    by_task = dict(zip([t for t in tasks if t in g.tasks], scores.T, strict=True))
    extra = pd.DataFrame({t: by_task.get(t, np.full(len(table), np.nan)) for t in tasks})
    return pd.concat([table, extra], axis=1)


def leaderboard_keys(version: Version, tasks: tuple[str, ...], families: tuple[str, ...],
                     search: str) -> tuple[np.ndarray, np.ndarray]:
    """Run keys (rows x tasks) of ``leaderboard(...)``'s rows and whether each row covers every
    selected task."""
    g = grid(version)
    rows, cols = _selection(g, tasks, families, search)
    keys = g.keys[np.ix_(rows, cols)]
    complete = (keys != "").sum(axis=1) == len(tasks)
    return keys, complete


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
