"""`harness import-mteb`: real MTEB result files in the embeddings-benchmark/results layout.

The JSON below are copies of real files of embeddings-benchmark/results (ArguAna.json trimmed of
its 90 ``nauc_*`` calibration numbers, which the importer skips anyway; STS12.json whole). The
imported values are checked against ci/expected/published.yaml, which another engineer read
independently from the same repository, with that file's tolerance.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from harness.cli import main
from harness.data_root import REPO_ROOT

REV = "8b3219a92973c328a8e22fadcfa821b5dc75636a"
# results@87b30e96bc3625439df74a216b3ed698009620b8 (mteb 1.12.75 format)
ARGUANA = {
    "dataset_revision": "c22ab2a51041ffd869aaddef7af8d8215647e41a",
    "evaluation_time": 6.810086488723755, "kg_co2_emissions": 0.001092590366519835,
    "mteb_version": "1.12.75", "task_name": "ArguAna",
    "scores": {"test": [{
        "hf_subset": "default", "languages": ["eng-Latn"], "main_score": 0.50167,
        "map_at_10": 0.41165, "map_at_100": 0.4223, "mrr_at_10": 0.4134056989320149,
        "nauc_map_at_1000_diff1": 0.1179240946563101,
        "ndcg_at_1": 0.25605, "ndcg_at_10": 0.50167, "ndcg_at_100": 0.54534,
        "precision_at_10": 0.07909, "recall_at_10": 0.7909, "recall_at_100": 0.97724}]},
}
# results@165ddad7b7f62900d4f504f3a67c5f02e59ab324 (mteb 2.12.7 format)
STS12 = {
    "dataset_revision": "a0d554a64d88156834ff5ae9920b964011b16384", "task_name": "STS12",
    "mteb_version": "2.12.7",
    "scores": {"test": [{
        "pearson": 0.8136, "spearman": 0.723685, "cosine_pearson": 0.8136,
        "cosine_spearman": 0.72369, "manhattan_pearson": 0.774827,
        "manhattan_spearman": 0.72365, "euclidean_pearson": 0.774443,
        "euclidean_spearman": 0.723676, "main_score": 0.72369, "hf_subset": "default",
        "languages": ["eng-Latn"]}]},
    "evaluation_time": 3.0858752727508545, "kg_co2_emissions": None, "date": 1777226851.869763,
}
META = {"name": "sentence-transformers/all-MiniLM-L6-v2", "revision": REV, "embed_dim": 384}
EXPECTED = REPO_ROOT / "ci" / "expected" / "published.yaml"


def _results_tree(root: Path) -> Path:
    folder = root / "results" / "sentence-transformers__all-MiniLM-L6-v2" / REV
    folder.mkdir(parents=True)
    (folder / "ArguAna.json").write_text(json.dumps(ARGUANA, indent=2))
    (folder / "STS12.json").write_text(json.dumps(STS12, indent=2))
    (folder / "model_meta.json").write_text(json.dumps(META))
    return root


def _published(db: Path) -> dict[tuple[str, str, str], float]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT model, task, metric, value FROM published").fetchall()
    finally:
        con.close()
    return {(m, t, k): v for m, t, k, v in rows}


def _import(*args: str) -> object:
    return CliRunner().invoke(main, ["import-mteb", *args])


def test_imports_results_layout_and_maps_names(tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    result = _import(str(_results_tree(tmp_path / "mteb")), "--db", str(db))
    assert result.exit_code == 0, result.output
    got = _published(db)
    # The MTEB name is mapped to the registry name; nauc_* numbers are skipped.
    assert {m for m, _, _ in got} == {"all-MiniLM-L6-v2"}
    assert not any(k.startswith("nauc_") for _, _, k in got)
    expected = yaml.safe_load(EXPECTED.read_text())
    checked = 0
    for row in expected:
        key = (row["model"], row["task"], row["metric"])
        if key in got:
            assert got[key] == pytest.approx(row["expected"], abs=row["tolerance"]), key
            checked += 1
    # ArguAna: main_score, ndcg_at_10, recall_at_100, map_at_100, mrr_at_10, precision_at_10;
    # STS12: main_score, cosine_spearman — every one must agree with the independent reading.
    assert checked == 8
    assert got[("all-MiniLM-L6-v2", "STS12", "main_score")] == 0.72369


def test_reimport_replaces_rather_than_duplicates(tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    tree = str(_results_tree(tmp_path / "mteb"))
    assert _import(tree, "--db", str(db)).exit_code == 0
    assert _import(tree, "--db", str(db)).exit_code == 0
    con = duckdb.connect(str(db), read_only=True)
    dupes = con.execute("SELECT count(*) FROM (SELECT model, task, metric, count(*) n "
                        "FROM published GROUP BY ALL HAVING n > 1)").fetchone()[0]
    con.close()
    assert dupes == 0


def test_imports_expected_yaml(tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    result = _import(str(EXPECTED), "--db", str(db))
    assert result.exit_code == 0, result.output
    rows = yaml.safe_load(EXPECTED.read_text())
    got = _published(db)
    assert len(got) == len({(r["model"], r["task"], r["metric"]) for r in rows})
    first = rows[0]
    assert got[(first["model"], first["task"], first["metric"])] == first["expected"]


def test_explicit_map(tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    result = _import(str(_results_tree(tmp_path / "mteb")), "--db", str(db),
                     "--map", "sentence-transformers/all-MiniLM-L6-v2=minilm-reference")
    assert result.exit_code == 0, result.output
    assert {m for m, _, _ in _published(db)} == {"minilm-reference"}


@pytest.mark.parametrize(("mutate", "where"), [
    (lambda text: text.replace('"main_score": 0.50167', '"main_score": "n/a"'),
     "field 'scores.test.main_score'"),
    (lambda text: text.replace('"scores"', '"score"'), "field 'scores'"),
    (lambda text: text[: text.index('"scores"')] + "{oops", "invalid JSON"),
])
def test_bad_file_one_line_nothing_stored(tmp_path: Path, mutate, where: str) -> None:
    root = _results_tree(tmp_path / "mteb")
    bad = next(root.rglob("ArguAna.json"))
    bad.write_text(mutate(bad.read_text()))
    db = tmp_path / "h.duckdb"
    result = _import(str(root), "--db", str(db))
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}:"), result.output
    assert where in lines[0]
    # The good STS12 file was parsed too, but nothing is stored when any file is bad.
    assert not db.exists() or _published(db) == {}
