"""Headless Chromium for the board's end-to-end tests: Debian's browser, a served board.

A missing browser FAILS these tests (it does not skip them): `make setup` installs Debian's
chromium, and a CI run without it must say so loudly rather than pass with the browser unchecked.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from harness.data_root import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO_ROOT / "results" / "artifacts"


@pytest.fixture(autouse=True)
def chromium_installed() -> None:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is not installed: run `bash scripts/setup-browser.sh` as "
                    "root (make setup does); the browser tests cannot run without it")


@contextmanager
def chromium_page(width: int = 1500, height: int = 1000) -> Iterator[Any]:
    """A page of a headless Chromium (closed afterwards); the artifacts folder exists."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served_board(db: Path, log_path: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`harness board` on ``db`` from this checkout (PYTHONPATH is inherited, not whatever
    `harness` the venv installed); yields its URL once healthy, stops it afterwards."""
    port = free_port()
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "board", "--db", str(db),
                                 "--port", str(port)], env=env or dict(os.environ), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, proc, log_path)
            yield url
        finally:
            os.killpg(proc.pid, signal.SIGTERM)  # the board's own process group (started above)
            proc.wait(timeout=20)


def _wait_healthy(url: str, proc: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"harness board did not start: {log_path}\n"
                        f"{log_path.read_text()[-2000:]}")
        time.sleep(0.5)
