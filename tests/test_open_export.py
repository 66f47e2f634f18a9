"""Export to MTEB's results layout (read back by mteb's own loader and by import-mteb) and to
TREC files (scored by ir_measures equal to the stored per-query scores)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.helpers import cli, run_cli


@pytest.fixture(scope="module")
def stored(scifact_subset: Path, tmp_path_factory: pytest.TempPathFactory,
           shared_cache: Path) -> Path:
    db = tmp_path_factory.mktemp("export") / "h.duckdb"
    for model in ("wordllama-l2-256", "bm25"):
        result = run_cli(model, "SciFact", scifact_subset, db, shared_cache)
        assert result.exit_code == 0, result.output
    return db


def _stored_scores(db: Path) -> dict[str, dict[str, float]]:
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT r.model, s.metric, s.value FROM runs r JOIN scores s "
                       "USING (run_key)").fetchall()
    con.close()
    out: dict[str, dict[str, float]] = {}
    for model, metric, value in rows:
        out.setdefault(model, {})[metric] = value
    return out


def test_export_mteb_reads_back_with_mteb_and_import(stored: Path, tmp_path: Path) -> None:
    import mteb
    from mteb import TaskResult

    out = tmp_path / "mteb-results"
    result = cli("export", "mteb", out, "--db", stored, "-m", "wordllama-l2-256")
    assert result.exit_code == 0, result.output
    files = sorted(out.rglob("SciFact.json"))
    assert len(files) == 1 and (files[0].parent / "model_meta.json").is_file()
    ours = _stored_scores(stored)["wordllama-l2-256"]
    loaded = TaskResult.from_disk(files[0])
    assert loaded.get_score() == pytest.approx(ours["ndcg_at_10"], abs=1e-6)
    assert loaded.scores["test"][0]["recall_at_100"] == pytest.approx(ours["recall_at_100"],
                                                                     abs=1e-6)
    assert loaded.mteb_version and loaded.evaluation_time > 0

    cache = mteb.ResultCache(cache_path=out)
    model_dir = files[0].parent.parent.name
    benchmark = cache.load_results(models=[model_dir.replace("__", "/")], tasks=["SciFact"])
    [model_result] = benchmark.model_results
    [task_result] = model_result.task_results
    assert task_result.get_score() == pytest.approx(ours["ndcg_at_10"], abs=1e-6)

    db = tmp_path / "imported.duckdb"
    imported = cli("import-mteb", out, "--db", db)
    assert imported.exit_code == 0, imported.output
    con = duckdb.connect(str(db), read_only=True)
    back = dict(con.execute("SELECT metric, value FROM published WHERE task = 'SciFact'")
                .fetchall())
    con.close()
    assert back["ndcg_at_10"] == pytest.approx(ours["ndcg_at_10"], abs=1e-6)


def test_export_trec_scored_by_ir_measures_equals_store(stored: Path, tmp_path: Path) -> None:
    import ir_measures
    from ir_measures import R, nDCG

    out = tmp_path / "trec"
    result = cli("export", "trec", out, "--db", stored, "-m", "bm25")
    assert result.exit_code == 0, result.output
    [run_file] = list(out.glob("*.run"))
    [qrels_file] = list(out.glob("*.qrels"))
    run = list(ir_measures.read_trec_run(str(run_file)))
    qrels = list(ir_measures.read_trec_qrels(str(qrels_file)))
    con = duckdb.connect(str(stored), read_only=True)
    stored_q = {(q, m): v for q, m, v in con.execute(
        "SELECT query_id, metric, value FROM query_scores JOIN runs USING (run_key) "
        "WHERE model = 'bm25'").fetchall()}
    con.close()
    compared = 0
    for measure, name in ((nDCG @ 10, "ndcg_at_10"), (R @ 100, "recall_at_100")):
        for metric in ir_measures.iter_calc([measure], qrels, run):
            assert metric.value == pytest.approx(stored_q[(metric.query_id, name)], abs=1e-9)
            compared += 1
    assert compared == 2 * 40
