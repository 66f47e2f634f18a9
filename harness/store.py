"""The DuckDB result store: schema (versioned, with forward migrations) and writes.

Tables
  meta          (key, value)                       schema_version lives here
  runs          one row per completed run, keyed by the deterministic run key; the spec,
                environment, timings and costs as JSON plus flat columns the board filters on
  scores        (run_key, metric, value)           means over queries / items
  query_scores  (run_key, query_id, metric, value) per-query (or per-item) values
  rankings      (run_key, query_id, rank, doc_id, score)   top-100 per query, for drill-down
  published     (model, task, split, metric, value, source, revision, mteb_version)
  task_queries  (task, data_sha256, query_id, text)        query texts, for the board
  task_qrels    (task, data_sha256, query_id, doc_id, relevance)

A run's rows are written in one transaction after it succeeds, so a failed or killed run leaves
nothing here (only reusable cache files).
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from harness.errors import HarnessError

SCHEMA_VERSION = 1

_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS runs (
    run_key VARCHAR PRIMARY KEY,
    model VARCHAR NOT NULL,
    family VARCHAR NOT NULL,
    variant VARCHAR NOT NULL,          -- compression/backend spec, '' for the plain model
    task VARCHAR NOT NULL,
    task_type VARCHAR NOT NULL,
    split VARCHAR NOT NULL,
    main_metric VARCHAR NOT NULL,
    main_score DOUBLE,
    n_queries INTEGER,
    n_docs INTEGER,
    bytes_per_doc DOUBLE,
    index_bytes BIGINT,
    encode_docs_per_s DOUBLE,
    query_encode_ms DOUBLE,
    search_p50_ms DOUBLE,
    search_p95_ms DOUBLE,
    search_qps DOUBLE,
    peak_rss_mb DOUBLE,
    threads INTEGER,
    harness_version VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    spec JSON NOT NULL,
    environment JSON NOT NULL,
    timings JSON NOT NULL,
    costs JSON NOT NULL,
    extra JSON NOT NULL                -- family/backend-specific statistics (sparsity, fidelity…)
);
CREATE TABLE IF NOT EXISTS scores (run_key VARCHAR, metric VARCHAR, value DOUBLE,
                                   PRIMARY KEY (run_key, metric));
CREATE TABLE IF NOT EXISTS query_scores (run_key VARCHAR, query_id VARCHAR, metric VARCHAR,
                                         value DOUBLE);
CREATE TABLE IF NOT EXISTS rankings (run_key VARCHAR, query_id VARCHAR, rank INTEGER,
                                     doc_id VARCHAR, score DOUBLE);
CREATE TABLE IF NOT EXISTS published (model VARCHAR, task VARCHAR, split VARCHAR,
                                      metric VARCHAR, value DOUBLE, source VARCHAR,
                                      revision VARCHAR, mteb_version VARCHAR);
CREATE TABLE IF NOT EXISTS task_queries (task VARCHAR, data_sha256 VARCHAR, query_id VARCHAR,
                                         text VARCHAR);
CREATE TABLE IF NOT EXISTS task_qrels (task VARCHAR, data_sha256 VARCHAR, query_id VARCHAR,
                                       doc_id VARCHAR, relevance INTEGER);
"""

# Forward migrations: MIGRATIONS[v] brings a store at version v to v + 1.
MIGRATIONS: dict[int, str] = {}

RUN_COLUMNS = ("run_key", "model", "family", "variant", "task", "task_type", "split",
               "main_metric", "main_score", "n_queries", "n_docs", "bytes_per_doc", "index_bytes",
               "encode_docs_per_s", "query_encode_ms", "search_p50_ms", "search_p95_ms",
               "search_qps", "peak_rss_mb", "threads", "harness_version", "created_at", "spec",
               "environment", "timings", "costs", "extra")


@dataclass
class RunRecord:
    """Everything one successful run writes."""

    row: dict[str, Any]  # the runs row (JSON columns as dicts)
    scores: dict[str, float]
    query_scores: Sequence[tuple[str, str, float]] = ()
    rankings: Sequence[tuple[str, int, str, float]] = ()  # (query_id, rank, doc_id, score)
    task_queries: Sequence[tuple[str, str]] = ()  # (query_id, text)
    task_qrels: Sequence[tuple[str, str, int]] = field(default_factory=tuple)


# Every connection: no extension is ever downloaded or loaded behind the user's back (a SQLite
# file given as --db would otherwise make DuckDB fetch the sqlite extension from the network).
DUCKDB_CONFIG = {"autoload_known_extensions": False, "autoinstall_known_extensions": False}
HARNESS_TABLES = {"meta", "runs", "scores", "query_scores", "rankings", "published",
                  "task_queries", "task_qrels"}


def duckdb_connect(path: Path | str, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection with extension autoload/autoinstall off (for the board's reads too)."""
    return duckdb.connect(str(path), read_only=read_only, config=dict(DUCKDB_CONFIG))


def lock_timeout_s() -> float:
    from harness.env import env_number

    return env_number("HARNESS_DB_LOCK_TIMEOUT", 120.0, minimum=0.0)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class Store:
    """The result store. Holds no connection between operations: each read opens a short-lived
    read-only connection and each write a short-lived read-write one, so concurrent `harness run`
    processes on one file only contend for the final transaction; a lock conflict is retried for
    up to ``$HARNESS_DB_LOCK_TIMEOUT`` seconds (default 120), then reported in one line.

    A file is opened only if it is empty or carries the harness schema row with a known version;
    a foreign file is never modified and a newer schema is refused.
    """

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._held: duckdb.DuckDBPyConnection | None = None
        if read_only:
            if not self.path.is_file():
                raise HarnessError(f"{self.path}: no such DuckDB file")
            if self._schema_version() is None:
                raise HarnessError(f"{self.path}: not a harness store (no tables)")
        else:
            self._check_writable()
            self._migrate()

    def close(self) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """A connection held until ``close()``, for ad-hoc SQL (holds the file lock meanwhile)."""
        if self._held is None:
            self._held = self._open(read_only=self.read_only)
        return self._held

    # -- connections -------------------------------------------------------------------------
    def _open(self, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + lock_timeout_s()
        delay = 0.05
        while True:
            try:
                return duckdb_connect(self.path, read_only=read_only)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise HarnessError(f"{self.path}: cannot open: {_first_line(exc)}") from None
                if time.monotonic() >= deadline:
                    raise HarnessError(
                        f"{self.path}: still locked by another process after "
                        f"{lock_timeout_s():g} s (raise $HARNESS_DB_LOCK_TIMEOUT to wait longer)"
                    ) from None
            except duckdb.Error as exc:
                raise HarnessError(f"{self.path}: not a usable DuckDB file: "
                                   f"{_first_line(exc)}") from None
            time.sleep(delay + random.uniform(0, delay))
            delay = min(delay * 2, 1.0)

    @contextmanager
    def _connection(self, *, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._held is not None and (not write or not self.read_only):
            yield self._held  # one process, one configuration: reuse what `con` opened
            return
        con = self._open(read_only=not write)
        try:
            yield con
        except duckdb.Error as exc:
            raise HarnessError(f"{self.path}: {_first_line(exc)}") from None
        finally:
            con.close()

    def _check_writable(self) -> None:
        """Before any work: the folder exists (or is made) and accepts a new file."""
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=folder, prefix=".harness-probe-")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise HarnessError(f"{folder}: cannot write the result store here: "
                               f"{exc.strerror or exc}") from None
        if self.path.exists() and not self.path.is_file():
            raise HarnessError(f"{self.path}: not a regular file")
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise HarnessError(f"{self.path}: file is not writable")

    def _schema_version(self) -> int | None:
        """None for an empty file; the harness schema version; an error for anything else."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return None
        with self._connection() as con:
            tables = {t for (t,) in con.execute(
                "SELECT table_name FROM information_schema.tables").fetchall()}
            if not tables:
                return None
            row = None
            if "meta" in tables:
                row = con.execute(
                    "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None or not str(row[0]).isdigit() or not tables <= HARNESS_TABLES:
            raise HarnessError(f"{self.path}: not a harness result store (it has tables "
                               f"{', '.join(sorted(tables))}); left unchanged")
        version = int(row[0])
        if version > SCHEMA_VERSION:
            raise HarnessError(f"{self.path}: schema version {version} is newer than this "
                               f"harness understands ({SCHEMA_VERSION}); upgrade the harness")
        return version

    def _migrate(self) -> None:
        version = self._schema_version()
        if version == SCHEMA_VERSION:
            return
        with self._connection(write=True) as con:
            con.execute("BEGIN TRANSACTION")
            if version is None:
                con.execute(_SCHEMA_V1)
                version = SCHEMA_VERSION
            while version < SCHEMA_VERSION:
                con.execute(MIGRATIONS[version])
                version += 1
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                        [str(version)])
            self._commit(con)

    def _commit(self, con: duckdb.DuckDBPyConnection) -> None:
        """COMMIT, reported as such on failure (DuckDB has already aborted: no ROLLBACK)."""
        try:
            con.execute("COMMIT")
        except duckdb.Error as exc:
            raise HarnessError(f"{self.path}: COMMIT failed, nothing was stored: "
                               f"{_first_line(exc)}") from None

    # -- reads -------------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        with self._connection() as con:
            return con.execute(sql, list(params)).df()

    def has_run(self, run_key: str) -> bool:
        with self._connection() as con:
            return con.execute("SELECT 1 FROM runs WHERE run_key = ?", [run_key]).fetchone() \
                is not None

    def run_row(self, run_key: str) -> dict[str, Any] | None:
        df = self.query("SELECT * FROM runs WHERE run_key = ?", [run_key])
        return None if df.empty else df.iloc[0].to_dict()

    def scores(self, run_key: str) -> dict[str, float]:
        with self._connection() as con:
            rows = con.execute("SELECT metric, value FROM scores WHERE run_key = ?",
                               [run_key]).fetchall()
        return {m: v for m, v in rows}

    def query_scores(self, run_key: str, metric: str) -> dict[str, float]:
        with self._connection() as con:
            rows = con.execute(
                "SELECT query_id, value FROM query_scores WHERE run_key = ? AND metric = ?",
                [run_key, metric]).fetchall()
        return {q: v for q, v in rows}

    def runs_frame(self) -> pd.DataFrame:
        return self.query("SELECT * FROM runs ORDER BY task, main_score DESC")

    def count(self, table: str, run_key: str | None = None) -> int:
        if table not in {"runs", "scores", "query_scores", "rankings", "published"}:
            raise ValueError(table)
        sql = f"SELECT count(*) FROM {table}" + (" WHERE run_key = ?" if run_key else "")
        with self._connection() as con:
            return int(con.execute(sql, [run_key] if run_key else []).fetchone()[0])

    # -- writes ------------------------------------------------------------------------------
    def write_run(self, record: RunRecord, *, replace: bool = False) -> bool:
        """Write a run and all its rows in one transaction (all or nothing).

        The "already stored?" check happens inside the transaction, under the write lock: of two
        processes that computed the same run, the second stores nothing (returns False).
        """
        key = record.row["run_key"]
        row = dict(record.row)
        for col in ("spec", "environment", "timings", "costs", "extra"):
            row[col] = json.dumps(row.get(col) or {}, sort_keys=True, default=str)
        values = [row.get(c) for c in RUN_COLUMNS]
        with self._connection(write=True) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                exists = con.execute("SELECT 1 FROM runs WHERE run_key = ?", [key]).fetchone()
                if exists and not replace:
                    con.execute("ROLLBACK")
                    return False
                if exists:
                    for table in ("runs", "scores", "query_scores", "rankings"):
                        con.execute(f"DELETE FROM {table} WHERE run_key = ?", [key])
                con.execute(f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES "
                            f"({', '.join('?' for _ in RUN_COLUMNS)})", values)
                con.executemany("INSERT INTO scores VALUES (?, ?, ?)",
                                [(key, m, v) for m, v in record.scores.items()])
                _bulk(con, "query_scores", pd.DataFrame(
                    record.query_scores, columns=["query_id", "metric", "value"]), key)
                _bulk(con, "rankings", pd.DataFrame(
                    record.rankings, columns=["query_id", "rank", "doc_id", "score"]), key)
                _write_task_items(con, record)
            except BaseException:
                _rollback(con)
                raise
            self._commit(con)
        return True

    def write_published(self, rows: Iterable[dict[str, Any]]) -> int:
        rows = list(rows)
        with self._connection(write=True) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                for r in rows:
                    con.execute(
                        "DELETE FROM published WHERE model = ? AND task = ? AND split = ? "
                        "AND metric = ? AND coalesce(revision, '') = coalesce(?, '')",
                        [r["model"], r["task"], r["split"], r["metric"], r.get("revision")])
                    con.execute("INSERT INTO published VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                [r["model"], r["task"], r["split"], r["metric"], r["value"],
                                 r.get("source", ""), r.get("revision"), r.get("mteb_version")])
            except BaseException:
                _rollback(con)
                raise
            self._commit(con)
        return len(rows)


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Undo a failed transaction body; never let a ROLLBACK error hide the original one."""
    with suppress(duckdb.Error):
        con.execute("ROLLBACK")


def _insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame,
                  **leading: str) -> None:
    """Insert ``frame`` into ``table`` with constant ``leading`` columns put first (in order)."""
    if frame.empty:
        return
    for position, (column, value) in enumerate(leading.items()):
        frame.insert(position, column, value)
    con.register("_insert_frame", frame)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _insert_frame")
    finally:
        con.unregister("_insert_frame")


def _bulk(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, key: str) -> None:
    _insert_frame(con, table, frame, run_key=key)


def _write_task_items(con: duckdb.DuckDBPyConnection, record: RunRecord) -> None:
    task, sha = record.row["task"], record.row["spec"]["task"].get("data_sha256", "")
    exists = con.execute("SELECT 1 FROM task_queries WHERE task = ? AND data_sha256 = ? LIMIT 1",
                         [task, sha]).fetchone()
    if exists or not record.task_queries:
        return
    for table, rows in (("task_queries", record.task_queries),
                        ("task_qrels", record.task_qrels)):
        _insert_frame(con, table, pd.DataFrame(list(rows)), task=task, data_sha256=sha)
