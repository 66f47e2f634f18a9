"""`harness board` input checks, and the app on an empty, a missing and a foreign file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from harness.cli import main
from harness.data_root import REPO_ROOT
from harness.store import Store

APP = str(REPO_ROOT / "leaderboard" / "app.py")


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    yield
    st.cache_resource.clear()  # closes cached connections (on_release)
    st.cache_data.clear()


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such DuckDB file"),
    (b"not a database at all\n", "cannot open as DuckDB read-only"),
])
def test_board_refuses_bad_file(tmp_path: Path, content: bytes | None, message: str) -> None:
    db = tmp_path / "x.duckdb"
    if content is not None:
        db.write_bytes(content)
    result = CliRunner().invoke(main, ["board", "--db", str(db), "--port", "8599"])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {db}") and message in lines[0]


def test_board_refuses_foreign_duckdb(tmp_path: Path) -> None:
    import duckdb

    db = tmp_path / "other.duckdb"
    duckdb.connect(str(db)).execute("CREATE TABLE t (a INTEGER)").close()
    result = CliRunner().invoke(main, ["board", "--db", str(db)])
    assert result.exit_code == 2 and "not a harness store" in result.output


def test_board_rejects_bad_port() -> None:
    result = CliRunner().invoke(main, ["board", "--port", "70000"])
    assert result.exit_code == 2 and "70000" in result.output


@pytest.mark.parametrize("page", ["leaderboard", "tradeoff", "compare", "drilldown", "run"])
def test_pages_on_empty_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    db = tmp_path / "empty.duckdb"
    Store(db).close()  # the schema, no runs
    monkeypatch.setenv("HARNESS_BOARD_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(f"views/{page}.py")
    at.run()
    assert not at.exception
    assert [i.value for i in at.info] and "No runs stored yet" in at.info[0].value


def test_app_on_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_BOARD_DB", str(tmp_path / "gone.duckdb"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "no such DuckDB file" in at.error[0].value
