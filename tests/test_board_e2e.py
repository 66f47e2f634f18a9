"""End to end: `harness board` on a real DuckDB file, driven in headless Chromium (Playwright).

Changes a filter, sees the table change, opens the trade-off page and saves screenshots to
results/artifacts/. Skips only when Debian's Chromium is genuinely absent
(`bash scripts/setup-browser.sh` as root installs it).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.data_root import REPO_ROOT
from tests.test_board_data import board_db  # noqa: F401 - the shared session fixture

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO_ROOT / "results" / "artifacts"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and shutil.which("chromium") is None,
    reason="Debian's chromium is not installed (run `bash scripts/setup-browser.sh` as root)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def board_url(board_db: Path) -> Iterator[str]:  # noqa: F811
    port = _free_port()
    harness = Path(sys.executable).with_name("harness")
    log = (board_db.parent / "board-e2e.log").open("w")
    proc = subprocess.Popen([str(harness), "board", "--db", str(board_db), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"harness board did not start: {(board_db.parent / 'board-e2e.log')}"
                            f"\n{(board_db.parent / 'board-e2e.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the board's own process group (started above)
        proc.wait(timeout=20)
        log.close()


def _grid_text(page) -> str:  # noqa: ANN001 - a Playwright page
    """The leaderboard grid's cell text (glide-data-grid keeps an accessible table in the DOM)."""
    return page.locator("[data-testid='stDataFrame']").first.text_content() or ""


def test_board_in_chromium(board_url: str, board_db: Path) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    before = hashlib.sha256(board_db.read_bytes()).hexdigest()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(board_url, wait_until="domcontentloaded")  # the default page
            grid = page.locator("[data-testid='stDataFrame']").first
            expect(grid).to_be_visible(timeout=60_000)
            expect(page.get_by_text("4 model(s) miss a selected task", exact=False)) \
                .to_be_visible(timeout=30_000)
            page.wait_for_function(  # the grid fills its cells after it is first drawn
                "() => document.querySelector(\"[data-testid='stDataFrame']\")"
                ".textContent.includes('wordllama-l2-256')", timeout=30_000)
            before_text = _grid_text(page)
            assert "wordllama-l2-256" in before_text and "NFCorpus" in before_text
            page.screenshot(path=str(ARTIFACTS / "board-leaderboard.png"), full_page=True)

            # Change a filter: drop NFCorpus from the task selection.
            tasks = page.locator("[data-testid='stMultiSelect']").filter(has_text="Tasks")
            tasks.locator("button[aria-label='Remove NFCorpus']").first.click()
            expect(page.get_by_text("4 model(s) miss a selected task", exact=False)) \
                .to_have_count(0, timeout=30_000)
            page.wait_for_function(
                "() => !document.querySelector(\"[data-testid='stDataFrame']\")"
                ".textContent.includes('NFCorpus')", timeout=30_000)
            after_text = _grid_text(page)
            assert after_text != before_text and "NFCorpus" not in after_text
            page.screenshot(path=str(ARTIFACTS / "board-leaderboard-filtered.png"),
                            full_page=True)

            # The trade-off page, through the sidebar navigation.
            page.get_by_role("link", name="Trade-off").click()
            expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
            expect(page.get_by_text("Pareto frontier").first).to_be_visible(timeout=30_000)
            # PNG download: Plotly's own toolbar button (CSV: the download button below).
            page.locator(".js-plotly-plot").first.hover()
            expect(page.locator("[data-title='Download plot as a PNG']").first).to_be_attached()
            expect(page.get_by_role("button", name="Download chart data (CSV)")).to_be_visible()
            page.wait_for_timeout(1500)  # let Plotly finish its first layout pass
            shot = ARTIFACTS / "board-tradeoff.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 20_000
        finally:
            browser.close()
    assert hashlib.sha256(board_db.read_bytes()).hexdigest() == before
