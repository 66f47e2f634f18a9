"""Every study in studies/ on small real data: the real SciFact subset, real encoders (WordLlama,
BM25, MiniLM variants on 440 documents), a real DuckDB file; then the Studies page (AppTest)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from harness.data_root import REPO_ROOT
from harness.studies.spec import all_studies, load_study
from tests.browser import ARTIFACTS, chromium_installed, chromium_page, served_board  # noqa: F401
from tests.helpers import cli

SEVEN = {"hybrid", "distractors", "hnsw-rank-shift", "muvera-candidates", "sparse-latency",
         "matryoshka-2d", "binary-rescore"}


def _result(db: Path, name: str) -> dict:
    return json.loads((db.parent / "studies" / f"{name}.json").read_text())


def test_ls_lists_the_seven(studied: Path) -> None:
    out = cli("study", "ls", "--db", studied)
    assert out.exit_code == 0
    assert {line.split()[0] for line in out.output.splitlines()} == SEVEN
    assert "not run" not in out.output
    assert {s.name for s in all_studies()} == SEVEN


def test_rerun_reuses_stored_runs(studied: Path, scifact_subset: Path, shared_cache: Path) -> None:
    con = duckdb.connect(str(studied), read_only=True)
    before = con.execute("SELECT count(*) FROM runs").fetchone()[0]
    con.close()
    again = cli("study", "run", "hybrid", "binary-rescore", "--small", "--db", studied,
                "--cache-dir", shared_cache, "--data-root", scifact_subset)
    assert again.exit_code == 0, again.output
    assert "ran:" not in again.output and "skipped:" in again.output
    con = duckdb.connect(str(studied), read_only=True)
    assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == before
    con.close()


def test_hybrid_rows_are_stored_runs(studied: Path) -> None:
    rows = _result(studied, "hybrid")["rows"]
    models = {r["model"] for r in rows}
    assert "fuse:rrf:wordllama-l2-256+bm25:k=60" in models
    con = duckdb.connect(str(studied), read_only=True)
    for r in rows:
        stored = con.execute("SELECT main_score FROM runs WHERE run_key = ?",
                             [r["run_key"]]).fetchone()
        assert stored is not None and stored[0] == pytest.approx(r["ndcg_at_10"])
    con.close()
    assert "best fusion" in _result(studied, "hybrid")["summary"]


def test_distractors_start_from_the_plain_run(studied: Path) -> None:
    """With no distractors the full-dimension score is the stored plain run's, computed apart."""
    rows = _result(studied, "distractors")["rows"]
    con = duckdb.connect(str(studied), read_only=True)
    plain = dict(con.execute("SELECT model, main_score FROM runs WHERE variant = '' "
                             "AND model IN ('wordllama-l2-256', 'bm25')").fetchall())
    con.close()
    start = {r["series"]: r for r in rows if r["distractors"] == 0}
    assert start["wordllama-l2-256 mrl:256"]["ndcg_at_10"] == pytest.approx(
        plain["wordllama-l2-256"], abs=1e-6)
    assert start["bm25"]["ndcg_at_10"] == pytest.approx(plain["bm25"], abs=1e-6)
    sizes = sorted({r["corpus_size"] for r in rows})
    assert len(sizes) == 3 and sizes[-1] - sizes[0] == 2000


def test_hnsw_shift_counts_every_true_neighbour(studied: Path) -> None:
    rows = _result(studied, "hnsw-rank-shift")["rows"]
    assert [r["efs"] for r in rows] == [16, 64]
    for r in rows:
        found = sum(r["shift_histogram"].values())
        total = round(found / (1 - r["lost_fraction"])) if r["lost_fraction"] < 1 else found
        assert total == 40 * 10  # 40 queries x their exact top 10
        assert r["max_abs_shift"] >= r["mean_abs_shift"] >= 0


def test_muvera_sparse_matryoshka_binary(studied: Path) -> None:
    muvera = [r for r in _result(studied, "muvera-candidates")["rows"] if r["candidates"]]
    assert [r["candidates"] for r in muvera] == [10, 50]
    assert all(0 <= r["fidelity_recall@10"] <= 1 for r in muvera)
    latency = {r["model"]: r for r in _result(studied, "sparse-latency")["rows"]}
    assert set(latency) == {"bm25", "faster-clip-sparse"}
    assert "1.00× BM25" in _result(studied, "sparse-latency")["summary"]
    grid = _result(studied, "matryoshka-2d")["rows"]
    assert sorted(r["dim"] for r in grid) == [64, 384]
    con = duckdb.connect(str(studied), read_only=True)
    spec = json.loads(con.execute("SELECT spec FROM runs WHERE run_key = ?",
                                  [grid[0]["run_key"]]).fetchone()[0])
    con.close()
    assert spec["model"]["options"]["layers"] == "2"
    binary = {r["variant"]: r for r in _result(studied, "binary-rescore")["rows"]}
    # canonical variant tags: k=10 is not the default depth, rescore depth is a named parameter
    assert set(binary) == {"k=10", "binary/k=10", "binary+rescore:depth=10/k=10",
                           "binary+rescore:depth=40/k=10"}
    assert "of float" in _result(studied, "binary-rescore")["summary"]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "where"), [
    ("name: x\ntitle: t\n", "x.yaml: field 'claim' missing"),
    ("name: x\ntitle: t\nclaim: {text: a, citation: b, paper_value: c}\nmeasure: nope\n"
     "grid: {}\nplot: {x: a, y: b}\n", "x.yaml:4: field 'measure'"),
    ("name: x\ntitle: t\nclaim: {text: a, citation: b, paper_value: c}\nmeasure: runs\n"
     "grid: {models: [a], tasks: [b], colour: 1}\nplot: {x: a, y: b}\n", "field 'grid.colour'"),
    ("name: x\ntitle: t\nclaim: {text: a, citation: b, paper_value: c}\nmeasure: runs\n"
     "grid: {models: [a], tasks: [b]}\nplot: {x: a, y: b, kind: pie}\n", "field 'plot.kind'"),
    ("name: x\ntitle: [\n", "not valid YAML"),
])
def test_bad_study_files_are_one_line(tmp_path: Path, text: str, where: str) -> None:
    from harness.errors import HarnessError

    with pytest.raises(HarnessError) as info:
        load_study(_write(tmp_path, "x", text))
    assert where in str(info.value) and "\n" not in str(info.value)


def test_unknown_study_exits_2() -> None:
    result = cli("study", "run", "hybird")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Did you mean hybrid" in result.output


@pytest.fixture
def board(studied: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    monkeypatch.setenv("HARNESS_BOARD_DB", str(studied))
    at = AppTest.from_file(str(REPO_ROOT / "leaderboard" / "app.py"), default_timeout=90)
    at.run()
    yield at
    st.cache_resource.clear()
    st.cache_data.clear()


def test_studies_page_renders_every_study(board: AppTest, studied: Path) -> None:
    board.switch_page("views/studies.py")
    board.run()
    assert not board.exception, [e.message for e in board.exception]
    assert [h.value for h in board.subheader] == [s.title for s in all_studies()]
    texts = [t.value for t in board.text]
    for s in all_studies():
        assert s.claim.text in texts
        assert _result(studied, s.name)["summary"] in texts
    charts = board.get("plotly_chart")
    assert len(charts) == 7 + 1  # one plot per study, plus the rank-shift distribution


# The Studies page in headless Chromium on the same store (one file: one xdist worker builds
# the studied store once). Fails when Debian's Chromium is absent; the screenshot goes to
# results/artifacts/board-studies.png.
@pytest.fixture
def board_url(studied: Path) -> Iterator[str]:
    # the studied store itself: study results live in results/studies/ beside the DuckDB file
    with served_board(studied, studied.parent / "studies-board.log") as url:
        yield url


def test_studies_page_in_chromium(studied: Path, board_url: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    before = hashlib.sha256(studied.read_bytes()).hexdigest()
    with chromium_page(height=1000) as page:
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
    assert hashlib.sha256(studied.read_bytes()).hexdigest() == before
