"""End to end in headless Chromium: the decision pages of `harness board` on a real store
(MiniLM fp32/fp16/int8/binary and BM25 on the SciFact subset).

- a URL with a task, a metric and a budget opens Pick with the CLI's recommendation;
- reloading restores every selection, and a selection changed in the browser goes into the URL;
- Head-to-head shows query texts and document titles from the local (checksum-verified) data;
- the hard-query count equals a SQL count over the stored per-query rows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import duckdb
import pytest

from tests.browser import ARTIFACTS, chromium_installed, chromium_page, served_board  # noqa: F401
from tests.helpers import cli
from tests.test_decide_cli import decide_db  # noqa: F401 - the shared session fixture
from tests.test_decide_texts import HARD_SQL


@pytest.fixture
def board_url(decide_db: Path, scifact_subset: Path) -> Iterator[str]:  # noqa: F811
    env = {**os.environ, "HARNESS_DATA": str(scifact_subset)}  # documents for head-to-head
    with served_board(decide_db, decide_db.parent / "decide-board.log", env) as url:
        yield url


def _cli_best(db: Path, *args: str) -> str:
    result = cli("pick", "-t", "SciFact", "--db", str(db), "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["best"]


def _number(page, label: str):  # noqa: ANN001, ANN202 - Playwright objects
    return page.locator("[data-testid='stNumberInput']").filter(has_text=label).locator("input")


def _params(page) -> dict[str, str]:  # noqa: ANN001
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def _pick_checks(page, url: str, db: Path) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    best = _cli_best(db, "--metric", "ndcg_at_10", "--max-bytes-per-doc", "500")
    page.goto(f"{url}/pick?tasks=SciFact&metric=ndcg_at_10&max_bytes_per_doc=500",
              wait_until="domcontentloaded")
    expect(page.get_by_text(f"Best that fits: {best}", exact=True)).to_be_visible(timeout=90_000)
    page.screenshot(path=str(ARTIFACTS / "decide-pick.png"), full_page=True)
    page.reload(wait_until="domcontentloaded")
    expect(page.get_by_text(f"Best that fits: {best}", exact=True)).to_be_visible(timeout=60_000)
    expect(_number(page, "max bytes/doc")).to_have_value("500.00")
    expect(page.get_by_role("combobox", name="Quality metric")).to_have_value("ndcg_at_10")
    expect(page.locator("[data-testid='stMultiSelect']").filter(has_text="Tasks")) \
        .to_contain_text("SciFact")
    # A change made in the browser lands in the URL, and a reload brings it back.
    tighter = _cli_best(db, "--metric", "ndcg_at_10", "--max-bytes-per-doc", "100",
                        "--max-p95-ms", "50")
    _number(page, "max bytes/doc").fill("100")
    _number(page, "max bytes/doc").press("Enter")
    _number(page, "max p95 ms").fill("50")
    _number(page, "max p95 ms").press("Enter")
    expect(page.get_by_text(f"Best that fits: {tighter}", exact=True)).to_be_visible(
        timeout=60_000)
    page.wait_for_function("() => location.search.includes('max_p95_ms=50')", timeout=30_000)
    assert _params(page)["max_bytes_per_doc"] == "100" and _params(page)["metric"] == "ndcg_at_10"
    page.reload(wait_until="domcontentloaded")
    expect(page.get_by_text(f"Best that fits: {tighter}", exact=True)).to_be_visible(
        timeout=60_000)
    expect(_number(page, "max bytes/doc")).to_have_value("100.00")
    expect(_number(page, "max p95 ms")).to_have_value("50.00")


def _largest_difference(db: Path) -> tuple[str, str, str]:
    """The query where bm25 and fp32 MiniLM differ most, its text, and bm25's top document."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        keys = dict(con.execute("SELECT model, run_key FROM runs WHERE variant = ''").fetchall())
        qid, text = con.execute("""
            SELECT a.query_id, t.text FROM query_scores a
            JOIN query_scores b ON b.query_id = a.query_id AND b.metric = a.metric
            JOIN task_queries t ON t.query_id = a.query_id
            WHERE a.run_key = ? AND b.run_key = ? AND a.metric = 'ndcg_at_10'
            ORDER BY abs(b.value - a.value) DESC, a.query_id LIMIT 1""",
            [keys["bm25"], keys["all-MiniLM-L6-v2"]]).fetchone()
        doc = con.execute("SELECT doc_id FROM rankings WHERE run_key = ? AND query_id = ? "
                          "AND rank = 1", [keys["bm25"], qid]).fetchone()[0]
    finally:
        con.close()
    return qid, text, doc


def test_decision_pages_in_chromium(board_url: str, decide_db: Path,  # noqa: F811
                                    scifact_subset: Path) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=60_000)  # widgets mount after the first text on a busy machine
    qid, text, doc = _largest_difference(decide_db)
    corpus = scifact_subset / "beir" / "scifact" / "corpus.jsonl"
    titles = {str(d["_id"]): d["title"] for d in map(json.loads, corpus.open())}
    con = duckdb.connect(str(decide_db), read_only=True)
    hard_count = con.execute(HARD_SQL).fetchone()[0]
    con.close()
    with chromium_page(height=1100) as page:
        _pick_checks(page, board_url, decide_db)

        page.goto(f"{board_url}/headtohead?task=SciFact&a=bm25&b=all-MiniLM-L6-v2&n=3",
                  wait_until="domcontentloaded")
        expect(page.get_by_text(text, exact=False).first).to_be_visible(timeout=90_000)
        expect(page.get_by_text(f"query {qid} ", exact=False).first).to_be_visible()
        cell = page.locator("[data-testid='stTable']").first
        expect(cell).to_contain_text(doc)
        expect(cell).to_contain_text(titles[doc][:40])
        page.screenshot(path=str(ARTIFACTS / "decide-headtohead.png"), full_page=True)

        page.goto(f"{board_url}/hard?tasks=SciFact", wait_until="domcontentloaded")
        expect(page.get_by_text(f"{hard_count} hard queries:", exact=False)) \
            .to_be_visible(timeout=90_000)
        expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "decide-hard.png"), full_page=True)
