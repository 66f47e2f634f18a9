"""`harness check` input files: malformed files exit 2 naming the line; the shipped files are sound.

No model is loaded here: validation happens before any run, so these are fast.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import CliRunner, Result

from harness.check.compare import classify
from harness.check.expected import ExpectedRow, load_expected
from harness.check.plan import validate
from harness.cli import main
from harness.data_root import REPO_ROOT

EXPECTED_DIR = REPO_ROOT / "ci" / "expected"

GOOD_ROW = """\
- model: all-MiniLM-L6-v2
  task: SciFact
  metric: ndcg_at_10
  expected: 0.64508
  tolerance: 0.002
  source: test
"""


def check(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["check", *map(str, args)], catch_exceptions=False)


def _write(tmp_path: Path, text: str, name: str = "expected.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(("body", "line", "field", "message"), [
    # row 2 (line 7) lacks its tolerance
    (GOOD_ROW + "- model: all-MiniLM-L6-v2\n  task: SciFact\n  metric: ndcg_at_10\n"
     "  expected: 0.6\n  source: test\n", 7, "tolerance", "missing required field"),
    (GOOD_ROW + "- model: no-such-model\n  task: SciFact\n  metric: ndcg_at_10\n"
     "  expected: 0.6\n  tolerance: 0.01\n  source: test\n", 7, "model", "unknown model"),
    (GOOD_ROW + "- model: all-MiniLM-L6-v2\n  task: SciFact\n  metric: ndcg_at_11\n"
     "  expected: 0.6\n  tolerance: 0.01\n  source: test\n", 9, "metric", "unknown metric"),
    (GOOD_ROW + "- model: all-MiniLM-L6-v2\n  task: SciFakt\n  metric: ndcg_at_10\n"
     "  expected: 0.6\n  tolerance: 0.01\n  source: test\n", 8, "task", "unknown task"),
    (GOOD_ROW.replace("0.64508", "high"), 4, "expected", "must be a finite number"),
    (GOOD_ROW.replace("tolerance:", "tolerence:"), 5, "tolerence", "unknown field"),
    (GOOD_ROW + "- model: all-MiniLM-L6-v2\n  task: ArguAna\n  metric: ndcg_at_10\n"
     "  expected: 0.5\n  tolerance: 0.01\n  source: test\n", 8, "task", "reference_only"),
])
def test_malformed_yaml_exits_2_naming_the_line(tmp_path: Path, body: str, line: int, field: str,
                                                message: str) -> None:
    db = tmp_path / "check.duckdb"
    path = _write(tmp_path, body)
    result = check(path, "--db", db)
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert f"{path}:{line}:" in err and f"field '{field}'" in err and message in err, err
    assert not db.exists()  # nothing ran, nothing stored


def test_malformed_toml_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, '[defaults]\nsource = "test"\ntolerance = 0.01\n\n'
                            '[[expected]]\nmodel = "all-MiniLM-L6-v2"\ntask = "SciFact"\n'
                            'metric = "ndcg_at_10"\nexpected = 0.64\n\n'
                            '[[expected]]\nmodel = "all-MiniLM-L6-v2"\ntask = "SciFact"\n'
                            'metric = "mrr_at_11"\nexpected = 0.6\n', "expected.toml")
    result = check(path, "--db", tmp_path / "x.duckdb")
    assert result.exit_code == 2
    assert f"{path}:14: field 'metric'" in result.stderr and "mrr_at_11" in result.stderr


def test_invalid_yaml_syntax_exits_2(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD_ROW + "- model: [unclosed\n")
    result = check(path, "--db", tmp_path / "x.duckdb")
    assert result.exit_code == 2 and f"{path}:" in result.stderr and "YAML" in result.stderr


def test_defaults_and_toml_parse_to_the_same_rows(tmp_path: Path) -> None:
    as_yaml = _write(tmp_path, "defaults:\n  source: s\n  tolerance: 0.01\nexpected:\n"
                               "  - {model: all-MiniLM-L6-v2, task: SciFact, metric: ndcg_at_10,"
                               " expected: 0.6, okish: 0.05}\n")
    as_toml = _write(tmp_path, '[defaults]\nsource = "s"\ntolerance = 0.01\n[[expected]]\n'
                               'model = "all-MiniLM-L6-v2"\ntask = "SciFact"\n'
                               'metric = "ndcg_at_10"\nexpected = 0.6\nokish = 0.05\n', "e.toml")
    a, b = load_expected(as_yaml)[0], load_expected(as_toml)[0]
    fields = ("model", "task", "metric", "expected", "tolerance", "okish", "source")
    assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
    assert (a.line, b.line) == (5, 4)


def _row(expected: float, tolerance: float, okish: float) -> ExpectedRow:
    return ExpectedRow(Path("x.yaml"), 1, "m", "t", "ndcg_at_10", expected, tolerance, okish, "s")


def test_classification_bands() -> None:
    row = _row(0.5, 0.01, 0.03)
    assert classify(row, 0.5) == "OK"
    assert classify(row, 0.51) == "OK"  # the bound itself is inside
    assert classify(row, 0.485) == "OKISH"
    assert classify(row, 0.53) == "OKISH"
    assert classify(row, 0.531) == "FAIL"
    assert classify(row, 0.9) == "FAIL"  # far above is a failed reproduction too


def _published() -> list[dict]:
    return yaml.safe_load((EXPECTED_DIR / "published.yaml").read_text())


def test_published_rows_validate_with_sources(data_root: Path) -> None:
    rows = load_expected(EXPECTED_DIR / "published.yaml")
    planned = validate(rows, data_root)  # raises on any unknown model/task/metric
    runnable = [p for p in planned if p.spec is not None]
    assert runnable and all(r.source.startswith("embeddings-benchmark/results") for r in rows)
    # validate() raised for any unstaged task not marked reference_only; each SKIP says why.
    assert all(p.skip_reason.startswith("reference only: ") for p in planned if p.spec is None)
    minilm_scifact = {r.metric: r for r in rows
                      if (r.model, r.task) == ("all-MiniLM-L6-v2", "SciFact")}
    assert minilm_scifact["ndcg_at_10"].expected == 0.64508
    assert minilm_scifact["recall_at_100"].expected == 0.925
    assert "SciFact.json" in minilm_scifact["ndcg_at_10"].source


def test_ci_subset_is_copied_from_published() -> None:
    published = {(r["model"], r["task"], r["metric"]): r for r in _published()}
    subset = yaml.safe_load((EXPECTED_DIR / "ci-subset.yaml").read_text())
    assert {r["task"] for r in subset} >= {"SciFact", "STSBenchmark"}
    for row in subset:
        source = published[(row["model"], row["task"], row["metric"])]
        assert row == source


def test_a_run_that_fails_is_an_error_row_and_exit_2(scifact_subset: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    shutil.copytree(scifact_subset, root)
    corpus = root / "beir" / "scifact" / "corpus.jsonl"
    lines = corpus.read_text().splitlines()
    lines[2] = '{"_id": "x", "title": "t"'  # truncated JSON on line 3
    corpus.write_text("\n".join(lines) + "\n")
    db = tmp_path / "check.duckdb"
    result = check(_write(tmp_path, GOOD_ROW), "--db", db, "--data-root", root, "--no-progress")
    assert result.exit_code == 2, result.output
    assert f"ERROR all-MiniLM-L6-v2 SciFact ndcg_at_10: {corpus}:3:" in result.stdout
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 0
    con.close()
