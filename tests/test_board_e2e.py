"""End to end: `harness board` on a real DuckDB file, driven in headless Chromium (Playwright).

Opens every page by its URL, checks the default leaderboard (three models with a mean), changes a
filter, sees the table change, opens the trade-off page and a Run page whose published score comes
from ci/expected/published.yaml (the served copy has no imported scores), and saves screenshots to
results/artifacts/. Fails when Debian's Chromium is absent
(`bash scripts/setup-browser.sh` as root installs it).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.data_root import REPO_ROOT
from tests.browser import ARTIFACTS, chromium_installed, chromium_page, served_board  # noqa: F401
from tests.test_board_data import board_db  # noqa: F401 - the shared session fixture


@pytest.fixture
def served_db(board_db: Path, tmp_path: Path) -> Path:  # noqa: F811
    """A copy of the shared store without imported published scores: the board must find them
    in ci/expected/published.yaml by itself."""
    import duckdb

    db = tmp_path / "served.duckdb"
    shutil.copyfile(board_db, db)
    con = duckdb.connect(str(db))
    try:
        con.execute("DELETE FROM published")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return db


@pytest.fixture
def board_url(served_db: Path) -> Iterator[str]:
    with served_board(served_db, served_db.parent / "board-e2e.log") as url:
        yield url


def _grid_text(page) -> str:  # noqa: ANN001 - a Playwright page
    """The leaderboard grid's cell text (glide-data-grid keeps an accessible table in the DOM)."""
    return page.locator("[data-testid='stDataFrame']").first.text_content() or ""


def _has_grid_text(page, text: str) -> None:  # noqa: ANN001 - a Playwright page
    page.wait_for_function(  # the grid fills its cells after it is first drawn
        "(t) => { const g = document.querySelector(\"[data-testid='stDataFrame']\");"
        " return g && g.textContent.includes(t); }", arg=text, timeout=60_000)


def test_board_in_chromium(board_url: str, served_db: Path) -> None:
    import duckdb
    from playwright.sync_api import expect

    con = duckdb.connect(str(served_db), read_only=True)
    bm25_key, bm25_score = con.execute("SELECT run_key, main_score FROM runs WHERE model = 'bm25' "
                                       "AND task = 'SciFact'").fetchone()
    con.close()
    from harness.published import parse_expected_yaml

    published = next(r["value"] for r in parse_expected_yaml(
        REPO_ROOT / "ci" / "expected" / "published.yaml")
        if (r["model"], r["task"], r["metric"]) == ("bm25", "SciFact", "main_score"))
    before = hashlib.sha256(served_db.read_bytes()).hexdigest()
    with chromium_page(height=1000) as page:
        # Every page answers its own URL (the default page used to say "Page not found").
        for path, heading in (("leaderboard", "Leaderboard"), ("tradeoff", None),
                              ("compare", "Compare two runs"),
                              ("drilldown", "Query drill-down"), ("run", "Run")):
            page.goto(f"{board_url}/{path}", wait_until="domcontentloaded")
            if heading:
                expect(page.get_by_role("heading", name=heading, exact=True)) \
                    .to_be_visible(timeout=60_000)
            else:
                expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
            assert page.get_by_text("Page not found").count() == 0, path
        page.goto(board_url, wait_until="domcontentloaded")  # the default page
        grid = page.locator("[data-testid='stDataFrame']").first
        expect(grid).to_be_visible(timeout=60_000)
        _has_grid_text(page, "wordllama-l2-256")
        # Default view: the task set three entries cover (SciFact), every model with a mean.
        expect(page.get_by_text("3 models · main score", exact=False)).to_be_visible()
        assert page.get_by_text("miss a selected task", exact=False).count() == 0
        assert page.get_by_role("button", name="Deploy").count() == 0  # viewer toolbar
        before_text = _grid_text(page)
        assert "all-MiniLM-L6-v2" in before_text and "bm25" in before_text
        page.screenshot(path=str(ARTIFACTS / "board-leaderboard.png"), full_page=True)

        # Change a filter: the "Everything" preset adds NFCorpus, which two models miss.
        page.locator("[data-testid='stSelectbox']").filter(has_text="Benchmark").click()
        page.get_by_role("option", name="Everything").click()
        expect(page.get_by_text("2 model(s) miss a selected task", exact=False)) \
            .to_be_visible(timeout=30_000)
        _has_grid_text(page, "NFCorpus")
        after_text = _grid_text(page)
        assert after_text != before_text
        page.screenshot(path=str(ARTIFACTS / "board-leaderboard-everything.png"),
                        full_page=True)
        # Expand the variants folded under all-MiniLM-L6-v2.
        page.get_by_text("Show variants", exact=False).click()
        expect(page.get_by_text("5 entries · main score", exact=False)) \
            .to_be_visible(timeout=30_000)
        _has_grid_text(page, "binary")

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

        # The Run page of bm25 on SciFact: published score and delta from published.yaml.
        page.goto(f"{board_url}/run?run={bm25_key}", wait_until="domcontentloaded")
        metric = page.locator("[data-testid='stMetric']").filter(has_text="published")
        expect(metric).to_contain_text(f"{published:.5f}", timeout=60_000)
        expect(metric).to_contain_text(f"{bm25_score - published:+.5f} (ours − published)")
        page.screenshot(path=str(ARTIFACTS / "board-run-published.png"), full_page=True)
    assert hashlib.sha256(served_db.read_bytes()).hexdigest() == before
