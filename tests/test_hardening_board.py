"""Hardening battery, board: URL and stored strings are shown as plain text (no markdown image or
link), and snapshot folders left by a killed board are removed when a board starts."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from harness.data_root import REPO_ROOT
from tests.conftest import make_beir_subset
from tests.hardening import assert_ok, harness, run_args

APP = str(REPO_ROOT / "leaderboard" / "app.py")
HOSTILE = "![pix](http://127.0.0.1:9/x.png) [click me](http://127.0.0.1:9/) <b>bold</b> :red[x]"


@pytest.fixture(scope="module")
def small_db(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("board")
    root = make_beir_subset(data_root, folder / "data", "scifact", 8, 120)
    db = folder / "h.duckdb"
    assert_ok(harness(*run_args("bm25", "SciFact", root, db, folder / "cache")))
    return db


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def test_markdown_in_run_url_parameter_is_plain_text(small_db: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_BOARD_DB", str(small_db))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("views/run.py")
    at.query_params["run"] = HOSTILE
    at.run()
    try:
        assert not at.exception, at.exception
        [error] = at.error
        # every markdown-active character is escaped: no image, link, HTML or colour directive
        assert not re.search(r"(?<!\\)[!\[\]()<>:]", error.value), error.value
        assert repr(HOSTILE) in _unescape(error.value)
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_stale_board_snapshot_folders_removed_at_start(small_db: Path) -> None:
    tmp = Path(tempfile.gettempdir())
    dead = tmp / "harness-board-999999999-stale"  # a board killed with -9 (no such pid)
    live = Path(tempfile.mkdtemp(prefix=f"harness-board-{os.getpid()}-"))  # a running board's
    dead.mkdir(exist_ok=True)
    (dead / "h.duckdb").write_bytes(small_db.read_bytes())
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    board = subprocess.Popen([sys.executable, "-m", "harness.cli", "board", "--db", str(small_db),
                              "--port", str(_free_port())], stderr=subprocess.PIPE, text=True,
                             env=env)
    try:
        assert board.stderr is not None
        assert board.stderr.readline().startswith("board:")
        assert not dead.exists()
        assert live.is_dir()
    finally:
        board.terminate()
        board.wait(timeout=30)
        live.rmdir()
