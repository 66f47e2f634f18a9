"""Tasks from mteb's registry: pulled through mteb's own loader from a local copy of the hub
dataset (``datasets.load_dataset`` reads a local folder with the repository's README configs the
same way it reads a hub id), then run offline; `ls tasks --all`."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from tests.helpers import cli, run_cli


def _runs(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT task, split, n_queries, main_metric, main_score FROM runs")
    out = rows.fetchall()
    con.close()
    return out


def _hub_layout_copy(beir: Path, dest: Path) -> Path:
    """A local folder laid out like an MTEB hub dataset repo (README configs + data files)."""
    dest.mkdir()
    (dest / "corpus.jsonl").write_text((beir / "corpus.jsonl").read_text())
    (dest / "queries.jsonl").write_text((beir / "queries.jsonl").read_text())
    rows = (beir / "qrels" / "test.tsv").read_text().splitlines()[1:]
    (dest / "qrels.jsonl").write_text("".join(
        json.dumps({"query-id": q, "corpus-id": d, "score": int(s)}) + "\n"
        for q, d, s in (r.split("\t") for r in rows)))
    (dest / "README.md").write_text(
        "---\nconfigs:\n"
        "- config_name: corpus\n  data_files:\n  - split: corpus\n    path: corpus.jsonl\n"
        "- config_name: queries\n  data_files:\n  - split: queries\n    path: queries.jsonl\n"
        "- config_name: default\n  data_files:\n  - split: train\n    path: qrels.jsonl\n"
        "---\n")
    return dest


def test_mteb_task_pulled_through_mteb_loader_from_local_dataset(
        scifact_subset: Path, tmp_path: Path, shared_cache: Path) -> None:
    dataset = _hub_layout_copy(scifact_subset / "beir" / "scifact", tmp_path / "hub-copy")
    root = tmp_path / "data"
    root.mkdir()
    pulled = cli("data", "pull", "NanoSciFactRetrieval", "--dataset-dir", dataset,
                 "--data-root", root)
    assert pulled.exit_code == 0, pulled.output
    folder = root / "mteb" / "NanoSciFactRetrieval"
    manifest = json.loads((folder / "harness-source.json").read_text())
    assert manifest["dataset_path"] == str(dataset) and manifest["split"] == "train"
    db = tmp_path / "h.duckdb"
    ran = run_cli("bm25", "NanoSciFactRetrieval", root, db, shared_cache)
    assert ran.exit_code == 0, ran.output
    [(task, split, n_queries, metric, score)] = _runs(db)
    assert (task, split, n_queries, metric) == ("NanoSciFactRetrieval", "train", 40, "ndcg_at_10")
    assert 0.3 < score <= 1.0


def test_mteb_sts_task_pulled_from_local_dataset_runs(data_root: Path, tmp_path: Path,
                                                      shared_cache: Path) -> None:
    dataset = tmp_path / "biosses-copy"
    dataset.mkdir()
    lines = (data_root / "mteb" / "sts12" / "test.jsonl").read_text().splitlines()[:80]
    (dataset / "test.jsonl").write_text("".join(
        json.dumps({k: json.loads(line)[k] for k in ("sentence1", "sentence2", "score")}) + "\n"
        for line in lines))
    (dataset / "README.md").write_text(
        "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: test\n"
        "    path: test.jsonl\n---\n")
    root = tmp_path / "data"
    root.mkdir()
    pulled = cli("data", "pull", "BIOSSES", "--dataset-dir", dataset, "--data-root", root)
    assert pulled.exit_code == 0, pulled.output
    db = tmp_path / "h.duckdb"
    ran = run_cli("wordllama-l2-256", "BIOSSES", root, db, shared_cache)
    assert ran.exit_code == 0, ran.output
    [(task, split, n_pairs, metric, score)] = _runs(db)
    assert (task, split, metric) == ("BIOSSES", "test", "cosine_spearman")
    assert 0.2 < score < 1.0


def test_ls_tasks_all_lists_mteb_tasks_with_status(data_root: Path) -> None:
    result = cli("ls", "tasks", "--all", "--data-root", data_root)
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()]
    runnable = [r for r in rows if r[1] in ("Retrieval", "STS", "Classification")
                and r[2] in ("local", "downloadable", "partial")]
    assert len(runnable) >= 50
    status = {r[0]: r[2] for r in rows}
    assert status["SciFact"] == "local" and status["ArguAna"] == "partial"
    assert any(r[2] == "unsupported" for r in rows)
