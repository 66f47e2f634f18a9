"""A DuckDB store filled by real `harness run`s, shared by the board tests.

Two real tasks on small real subsets: SciFact (the shared ``scifact_subset`` fixture) and an
NFCorpus subset made here. wordllama-l2-256 runs on both; all-MiniLM-L6-v2 (plain, and int8 and
binary compressed through `harness sweep`, from the same cached encode) and BM25 (sparse) on
SciFact only, so the leaderboard has a model covering every task and models missing one (no mean).
Embeddings go through the shared cache, so a second session re-encodes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.data_root import REPO_ROOT
from tests.conftest import make_beir_subset

PUBLISHED = REPO_ROOT / "ci" / "expected" / "published.yaml"

BOARD_RUNS = [("all-MiniLM-L6-v2", "SciFact"), ("wordllama-l2-256", "SciFact"),
              ("wordllama-l2-256", "NFCorpus"), ("bm25", "SciFact")]
COMPRESSED = ("all-MiniLM-L6-v2", "SciFact", "int8,binary")


def make_nfcorpus_subset(data_root: Path, dest: Path, n_queries: int = 25,
                         n_extra_docs: int = 300) -> None:
    """The first ``n_queries`` NFCorpus test queries, their judged documents and the first
    ``n_extra_docs`` corpus documents, as a real BEIR folder under ``dest/beir/nfcorpus``."""
    make_beir_subset(data_root, dest, "nfcorpus", n_queries, n_extra_docs)


def build_board_db(db: Path, data_root: Path, scifact_subset: Path, cache: Path) -> Path:
    """Idempotent: built once per session (several modules import the fixture); runs already
    stored (same run key) would be skipped by the harness itself anyway."""
    done = db.with_suffix(".built")
    if done.exists():
        return db
    root = db.parent / "board-data"
    if not (root / "beir" / "scifact").exists():
        (root / "beir").mkdir(parents=True, exist_ok=True)
        os.symlink(scifact_subset / "beir" / "scifact", root / "beir" / "scifact")
        make_nfcorpus_subset(data_root, root)
    runner = CliRunner()
    for model, task in BOARD_RUNS:
        result = runner.invoke(main, ["run", "-m", model, "-t", task, "--db", str(db),
                                      "--data-root", str(root), "--cache-dir", str(cache),
                                      "--no-progress"])
        assert result.exit_code == 0, result.output
    model, task, variants = COMPRESSED
    result = runner.invoke(main, ["sweep", "-m", model, "-t", task, "--compress", variants,
                                  "--db", str(db), "--data-root", str(root), "--cache-dir",
                                  str(cache), "--no-progress"])
    assert result.exit_code == 0, result.output
    # Real published scores (ci/expected/published.yaml, read from embeddings-benchmark/results).
    result = runner.invoke(main, ["import-mteb", str(PUBLISHED), "--db", str(db)])
    assert result.exit_code == 0, result.output
    done.touch()
    return db


@pytest.fixture(scope="session")
def board_db(data_root: Path, scifact_subset: Path, shared_cache: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp() / "board"
    base.mkdir(exist_ok=True)
    return build_board_db(base / "board.duckdb", data_root, scifact_subset, shared_cache)


def test_board_db_holds_real_runs(board_db: Path) -> None:
    con = duckdb.connect(str(board_db), read_only=True)
    try:
        runs = con.execute("SELECT model, task, n_queries, main_score FROM runs "
                           "WHERE variant = '' ORDER BY model, task").fetchall()
        variants = con.execute("SELECT variant, family FROM runs WHERE variant <> '' "
                               "ORDER BY variant").fetchall()
        per_query = con.execute("SELECT count(*) FROM query_scores").fetchone()[0]
    finally:
        con.close()
    assert [(m, t) for m, t, _, _ in runs] == sorted(BOARD_RUNS)
    assert variants == [("binary", "dense"), ("int8", "dense")]
    assert all(n >= 25 for _, _, n, _ in runs)
    # Real retrieval on real judgements: better than nothing, worse than perfect.
    assert all(0.05 < s < 0.95 for *_, s in runs)
    assert per_query > 0
