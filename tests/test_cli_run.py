"""`harness run` end to end on a real SciFact subset: stored once, skipped on rerun, --force."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from harness.tasks.mteb_beir import mteb_scores
from tests.helpers import cli, count_rows, main_scores, run_cli


def test_run_then_rerun_is_a_noop_then_force(scifact_subset: Path, shared_cache: Path,
                                             tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    first = run_cli("all-MiniLM-L6-v2", "SciFact", scifact_subset, db, shared_cache)
    assert first.exit_code == 0, first.output
    assert count_rows(db) == 1
    n_query_rows = count_rows(db, "query_scores")
    assert n_query_rows == 40 * 7  # 40 queries x 7 metrics, per query
    chunks = sorted(p.stat().st_mtime_ns for p in shared_cache.rglob("chunk-*.npz"))

    second = run_cli("all-MiniLM-L6-v2", "SciFact", scifact_subset, db, shared_cache)
    assert second.exit_code == 0
    assert "skipped" in second.output
    assert count_rows(db) == 1 and count_rows(db, "query_scores") == n_query_rows
    # no re-encode: no cache file was written again
    assert sorted(p.stat().st_mtime_ns for p in shared_cache.rglob("chunk-*.npz")) == chunks

    before = main_scores(db)
    forced = run_cli("all-MiniLM-L6-v2", "SciFact", scifact_subset, db, shared_cache, "--force")
    assert forced.exit_code == 0 and "ran" in forced.output
    assert count_rows(db) == 1 and count_rows(db, "query_scores") == n_query_rows
    assert main_scores(db) == before

    con = duckdb.connect(str(db), read_only=True)
    row = con.execute("SELECT family, task_type, n_queries, n_docs, bytes_per_doc, environment, "
                      "timings FROM runs").fetchone()
    con.close()
    assert row[:5] == ("dense", "retrieval", 40, 441, 384 * 4)
    env, timings = json.loads(row[5]), json.loads(row[6])
    # torch_threads is None when every vector came from the cache and torch was never imported
    assert env["cores"] >= 1 and "torch" in env["packages"] and "torch_threads" in env
    assert {"encode_corpus_s", "encode_queries_s", "search_s", "evaluate_s"} <= set(timings)

    listed = cli("results", "--db", db, "--json")
    assert json.loads(listed.output)[0]["main_score"] == before[next(iter(before))]


def test_harness_equals_mteb_oracle(scifact_subset: Path, shared_cache: Path,
                                    tmp_path: Path) -> None:
    """mteb itself, same model, same local data (custom mteb retrieval task): within 1e-4."""
    from sentence_transformers import SentenceTransformer

    from adapters.dense import minilm_dir

    db = tmp_path / "h.duckdb"
    assert run_cli("all-MiniLM-L6-v2", "SciFact", scifact_subset, db, shared_cache).exit_code == 0
    con = duckdb.connect(str(db), read_only=True)
    ours = dict(con.execute("SELECT metric, value FROM scores").fetchall())
    con.close()
    model = SentenceTransformer(str(minilm_dir()), device="cpu")
    theirs = mteb_scores(model, scifact_subset / "beir" / "scifact", tmp_path / "mteb")
    for metric in ("ndcg_at_10", "recall_at_100", "map_at_100", "precision_at_10"):
        assert abs(ours[metric] - theirs[metric]) <= 1e-4, (metric, ours[metric], theirs[metric])
