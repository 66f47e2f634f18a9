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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

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


class Store:
    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path)
        if read_only:
            self.con = duckdb.connect(str(self.path), read_only=True)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.con = duckdb.connect(str(self.path))
            self._migrate()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        self.con.execute(_SCHEMA_V1)
        row = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else SCHEMA_VERSION
        while version < SCHEMA_VERSION:
            self.con.execute(MIGRATIONS[version])
            version += 1
        self.con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(version)])

    # -- reads -------------------------------------------------------------------------------
    def has_run(self, run_key: str) -> bool:
        return self.con.execute("SELECT 1 FROM runs WHERE run_key = ?", [run_key]).fetchone() \
            is not None

    def run_row(self, run_key: str) -> dict[str, Any] | None:
        df = self.con.execute("SELECT * FROM runs WHERE run_key = ?", [run_key]).df()
        return None if df.empty else df.iloc[0].to_dict()

    def scores(self, run_key: str) -> dict[str, float]:
        rows = self.con.execute("SELECT metric, value FROM scores WHERE run_key = ?",
                                [run_key]).fetchall()
        return {m: v for m, v in rows}

    def query_scores(self, run_key: str, metric: str) -> dict[str, float]:
        rows = self.con.execute(
            "SELECT query_id, value FROM query_scores WHERE run_key = ? AND metric = ?",
            [run_key, metric]).fetchall()
        return {q: v for q, v in rows}

    def runs_frame(self) -> pd.DataFrame:
        return self.con.execute("SELECT * FROM runs ORDER BY task, main_score DESC").df()

    def count(self, table: str, run_key: str | None = None) -> int:
        if table not in {"runs", "scores", "query_scores", "rankings", "published"}:
            raise ValueError(table)
        sql = f"SELECT count(*) FROM {table}" + (" WHERE run_key = ?" if run_key else "")
        return int(self.con.execute(sql, [run_key] if run_key else []).fetchone()[0])

    # -- writes ------------------------------------------------------------------------------
    def write_run(self, record: RunRecord, *, replace: bool = False) -> None:
        """Write a run and all its rows in one transaction (all or nothing)."""
        key = record.row["run_key"]
        row = dict(record.row)
        for col in ("spec", "environment", "timings", "costs", "extra"):
            row[col] = json.dumps(row.get(col) or {}, sort_keys=True, default=str)
        values = [row.get(c) for c in RUN_COLUMNS]
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            if replace:
                for table in ("runs", "scores", "query_scores", "rankings"):
                    con.execute(f"DELETE FROM {table} WHERE run_key = ?", [key])
            con.execute(f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES "
                        f"({', '.join('?' for _ in RUN_COLUMNS)})", values)
            con.executemany("INSERT INTO scores VALUES (?, ?, ?)",
                            [(key, m, v) for m, v in record.scores.items()])
            self._bulk("query_scores", pd.DataFrame(
                record.query_scores, columns=["query_id", "metric", "value"]), key)
            self._bulk("rankings", pd.DataFrame(
                record.rankings, columns=["query_id", "rank", "doc_id", "score"]), key)
            self._write_task_items(record)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _bulk(self, table: str, frame: pd.DataFrame, key: str) -> None:
        if frame.empty:
            return
        frame.insert(0, "run_key", key)
        self.con.register("_bulk_frame", frame)
        try:
            self.con.execute(f"INSERT INTO {table} SELECT * FROM _bulk_frame")
        finally:
            self.con.unregister("_bulk_frame")

    def _write_task_items(self, record: RunRecord) -> None:
        task, sha = record.row["task"], record.row["spec"]["task"].get("data_sha256", "")
        exists = self.con.execute(
            "SELECT 1 FROM task_queries WHERE task = ? AND data_sha256 = ? LIMIT 1",
            [task, sha]).fetchone()
        if exists or not record.task_queries:
            return
        for table, rows in (("task_queries", record.task_queries),
                            ("task_qrels", record.task_qrels)):
            frame = pd.DataFrame(list(rows))
            if frame.empty:
                continue
            frame.insert(0, "data_sha256", sha)
            frame.insert(0, "task", task)
            self.con.register("_items", frame)
            try:
                self.con.execute(f"INSERT INTO {table} SELECT * FROM _items")
            finally:
                self.con.unregister("_items")

    def write_published(self, rows: Iterable[dict[str, Any]]) -> int:
        rows = list(rows)
        self.con.execute("BEGIN TRANSACTION")
        try:
            for r in rows:
                self.con.execute(
                    "DELETE FROM published WHERE model = ? AND task = ? AND split = ? "
                    "AND metric = ? AND coalesce(revision, '') = coalesce(?, '')",
                    [r["model"], r["task"], r["split"], r["metric"], r.get("revision")])
                self.con.execute("INSERT INTO published VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                 [r["model"], r["task"], r["split"], r["metric"], r["value"],
                                  r.get("source", ""), r.get("revision"), r.get("mteb_version")])
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return len(rows)
