"""The Studies page in headless Chromium (Playwright) on a store filled by every study's small
run: every study's heading, claim and plot is drawn; a full-page screenshot is saved to
results/artifacts/board-studies.png. Fails when Debian's Chromium is absent."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.studies.spec import all_studies
from tests.browser import ARGS, ARTIFACTS, CHROMIUM, chromium_installed, served_board  # noqa: F401


@pytest.fixture
def board_url(studied: Path) -> Iterator[str]:
    # the studied store itself: study results live in results/studies/ beside the DuckDB file
    with served_board(studied, studied.parent / "studies-board.log") as url:
        yield url


def test_studies_page_in_chromium(studied: Path, board_url: str) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    before = hashlib.sha256(studied.read_bytes()).hexdigest()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(f"{board_url}/studies", wait_until="domcontentloaded")
            for study in all_studies():
                expect(page.get_by_role("heading", name=study.title)).to_be_visible(
                    timeout=60_000)
                expect(page.get_by_text(study.claim.text).first).to_be_attached()
            expect(page.locator(".js-plotly-plot")).to_have_count(8, timeout=60_000)
            page.wait_for_timeout(1500)  # let Plotly finish its first layout pass
            shot = ARTIFACTS / "board-studies.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 50_000
        finally:
            browser.close()
    assert hashlib.sha256(studied.read_bytes()).hexdigest() == before
