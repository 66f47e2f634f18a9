"""Fusion model expressions: one parser, canonical names, and fused runs stored like any run
(real SciFact subset, real WordLlama and BM25 encodes, real DuckDB)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from harness.fusion import FusionSpecError, parse_fusion
from tests.helpers import run_cli


def test_parse_fills_defaults_and_one_canonical_name() -> None:
    assert str(parse_fusion("fuse:rrf:a+b")) == "fuse:rrf:a+b:k=60"
    assert parse_fusion("fuse:rrf:a+b") == parse_fusion("fuse:rrf:a+b:k=60")
    convex = parse_fusion("fuse:convex:a+b:w=0.7:norm=minmax")
    assert convex.weights == (0.7, pytest.approx(0.3))
    assert str(convex) == "fuse:convex:a+b:w=0.7:norm=minmax"
    assert parse_fusion(str(convex)) == convex
    assert parse_fusion(str(three := parse_fusion('fuse:convex:a+b+c'))) == three
    three = parse_fusion("fuse:convex:a+b+c:norm=zscore")
    assert sum(three.weights) == pytest.approx(1, abs=1e-5) and three.norm == "zscore"


@pytest.mark.parametrize("text", ["fuse:mean:a+b", "fuse:rrf:a", "fuse:rrf:a+a", "fuse:rrf:a+b:k=x",
                                  "fuse:convex:a+b:w=1.5", "fuse:convex:a+b:norm=l2",
                                  "fuse:rrf:a+b:w=0.5", "fuse:convex:a+b+c:w=0.5/0.5"])
def test_bad_expressions_are_one_line_errors(text: str) -> None:
    with pytest.raises(FusionSpecError) as info:
        parse_fusion(text)
    assert "\n" not in str(info.value) and text in str(info.value)


def test_cli_bad_fusion_exits_2(tmp_path: Path, scifact_subset: Path, shared_cache: Path) -> None:
    result = run_cli("fuse:rrf:wordllama-l2-256+no-such-model", "SciFact", scifact_subset,
                     tmp_path / "h.duckdb", shared_cache)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "no-such-model" in result.output


def _rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_fused_run_is_stored_with_components(tmp_path: Path, scifact_subset: Path,
                                             shared_cache: Path) -> None:
    db = tmp_path / "h.duckdb"
    result = run_cli("fuse:rrf:wordllama-l2-256+bm25", "SciFact", scifact_subset, db, shared_cache)
    assert result.exit_code == 0, result.output
    runs = {m: (k, s, b, c) for m, k, s, b, c in _rows(
        db, "SELECT model, run_key, main_score, bytes_per_doc, costs FROM runs")}
    fused_name = "fuse:rrf:wordllama-l2-256+bm25:k=60"
    assert set(runs) == {"wordllama-l2-256", "bm25", fused_name}
    key, score, bytes_per_doc, costs = runs[fused_name]
    assert bytes_per_doc == pytest.approx(runs["wordllama-l2-256"][2] + runs["bm25"][2])
    assert json.loads(costs)["fuse_ms_per_query"] > 0
    # per-query scores and rankings like any run: the board's CIs and paired tests read these
    per_query = _rows(db, "SELECT avg(value), count(*) FROM query_scores WHERE run_key = ? "
                          "AND metric = 'ndcg_at_10'", [key])[0]
    assert per_query[1] == 40 and per_query[0] == pytest.approx(score)
    assert _rows(db, "SELECT count(*) FROM rankings WHERE run_key = ?", [key])[0][0] > 40 * 10
    spec = json.loads(_rows(db, "SELECT spec FROM runs WHERE run_key = ?", [key])[0][0])
    assert spec["model"]["components"] == [runs["wordllama-l2-256"][0], runs["bm25"][0]]
    assert spec["model"]["fusion"]["params"] == {"k": 60}
    # a second spelling of the same fusion is the same run: skipped, not stored twice
    again = run_cli("fuse:rrf:wordllama-l2-256+bm25:k=60", "SciFact", scifact_subset, db,
                    shared_cache)
    assert again.exit_code == 0 and "skipped" in again.output
    assert len(_rows(db, "SELECT run_key FROM runs")) == 3


def test_rrf_matches_the_formula(tmp_path: Path, scifact_subset: Path, shared_cache: Path) -> None:
    """The stored fused ranking is RRF(k=60) of the components' deep rankings, computed here by
    hand (independently of ranx)."""
    from harness.cache import EmbeddingCache
    from harness.fusion import FUSION_DEPTH, deep_run
    from harness.kinds.outcome import Context
    from harness.runner import Runner
    from harness.spec import RunSpec
    from harness.store import Store

    with Store(tmp_path / "h.duckdb") as store:
        runner = Runner(store, Context(EmbeddingCache(shared_cache), progress=False),
                        scifact_subset)
        result = runner.run(RunSpec("fuse:rrf:wordllama-l2-256+bm25", "SciFact"))
        deep = [deep_run(runner, RunSpec(m, "SciFact"), FUSION_DEPTH)[1]
                for m in ("wordllama-l2-256", "bm25")]
        stored = store.con.execute("SELECT query_id, doc_id, score FROM rankings WHERE run_key = ?"
                                   " AND rank <= 10 ORDER BY query_id, rank",
                                   [result.key]).fetchall()
    for qid, doc, score in stored:
        expected = 0.0
        for run in deep:
            order = sorted(run[qid].items(), key=lambda kv: -kv[1])
            ranks = {d: i + 1 for i, (d, _) in enumerate(order)}
            expected += 1 / (60 + ranks[doc]) if doc in ranks else 0.0
        assert score == pytest.approx(expected, rel=1e-5)
