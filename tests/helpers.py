"""Helpers for end-to-end tests: run the real CLI in-process and read the real DuckDB file."""

from __future__ import annotations

from pathlib import Path

import duckdb
from click.testing import CliRunner, Result

from harness.cli import main


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def run_cli(model: str, task: str, data_root: Path, db: Path, cache: Path, *extra: str) -> Result:
    return cli("run", "-m", model, "-t", task, "--data-root", data_root, "--db", db,
               "--cache-dir", cache, "--no-progress", *extra)


def count_rows(db: Path, table: str = "runs") -> int:
    if not db.exists():
        return 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        con.close()


def main_scores(db: Path) -> dict[str, float]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {k: v for k, v in con.execute("SELECT run_key, main_score FROM runs").fetchall()}
    finally:
        con.close()
