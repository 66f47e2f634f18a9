"""`harness check` catches a real regression: all-MiniLM-L6-v2 with inputs truncated to 16 tokens.

Real weights, real SciFact subset (40 queries, ~440 documents). The expected value is the
full-length model's nDCG@10 on that subset, measured here by a real run; the degraded canary model
(`all-MiniLM-L6-v2-maxlen16`, a registry entry whose run key differs) must FAIL against it, and a
per-query baseline comparison must call its drop significant while two identical runs show none.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from harness.cli import main

FULL, DEGRADED = "all-MiniLM-L6-v2", "all-MiniLM-L6-v2-maxlen16"
TOLERANCE = 0.01


def harness(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _run(model: str, db: Path, root: Path, cache: Path) -> None:
    result = harness("run", "-m", model, "-t", "SciFact", "--db", db, "--data-root", root,
                     "--cache-dir", cache, "--no-progress")
    assert result.exit_code == 0, result.output


def _run_key(db: Path, model: str) -> tuple[str, float]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        key, score = con.execute("SELECT run_key, main_score FROM runs WHERE model = ?",
                                 [model]).fetchone()
    finally:
        con.close()
    return key, score


@pytest.fixture(scope="module")
def runs(scifact_subset: Path, shared_cache: Path, tmp_path_factory: pytest.TempPathFactory):
    """Two DBs with the full model (identical runs) and the degraded model in the first."""
    tmp = tmp_path_factory.mktemp("check")
    db, twin = tmp / "a.duckdb", tmp / "b.duckdb"
    for target in (db, twin):
        _run(FULL, target, scifact_subset, shared_cache)
    full_key, full_ndcg = _run_key(db, FULL)
    assert _run_key(twin, FULL) == (full_key, full_ndcg)  # same spec, same key, same score
    expected = tmp / "expected.yaml"
    expected.write_text("".join(
        f"- model: {model}\n  task: SciFact\n  metric: ndcg_at_10\n  expected: {full_ndcg!r}\n"
        f"  tolerance: {TOLERANCE}\n  source: full-length {FULL} on the test subset\n"
        for model in (FULL, DEGRADED)))
    return {"db": db, "twin": twin, "root": scifact_subset, "cache": shared_cache,
            "expected": expected, "full_key": full_key, "full_ndcg": full_ndcg, "tmp": tmp}


def _check(r: dict, *args: str | Path, db: Path | None = None) -> Result:
    return harness("check", *args, "--db", db or r["db"], "--data-root", r["root"],
                   "--cache-dir", r["cache"], "--no-progress")


def test_degraded_model_fails_with_a_named_row(runs: dict) -> None:
    markdown = runs["tmp"] / "check.md"
    result = _check(runs, runs["expected"], "--markdown", markdown)
    assert result.exit_code == 1, result.output
    degraded_key, got = _run_key(runs["db"], DEGRADED)  # run by `check` itself
    assert degraded_key != runs["full_key"]
    assert got < runs["full_ndcg"] - 3 * TOLERANCE  # truly outside the OKISH band
    fail = [line for line in result.stdout.splitlines() if line.startswith("FAIL ")]
    assert fail == [f"FAIL {DEGRADED} SciFact ndcg_at_10: expected {runs['full_ndcg']:.5f}, "
                    f"got {got:.5f} (Δ {got - runs['full_ndcg']:+.5f}), tolerance {TOLERANCE:g} "
                    "[expected.yaml:7]"]
    report = markdown.read_text()
    assert report.startswith("## harness check: FAIL")
    assert f"| **FAIL** | {DEGRADED} | SciFact | ndcg_at_10 | {runs['full_ndcg']:.5f} | " \
           f"{got:.5f} |" in report
    assert f"| OK | {FULL} | SciFact | ndcg_at_10 |" in report


def test_full_model_passes_reusing_the_stored_run(runs: dict) -> None:
    only_full = runs["tmp"] / "full.yaml"
    only_full.write_text(runs["expected"].read_text().split(f"- model: {DEGRADED}")[0])
    result = _check(runs, only_full)
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())  # the console wraps long lines
    from harness.fingerprint import scoring_fingerprint

    assert (f"reused {FULL} on SciFact (run {runs['full_key'][:12]}) from scoring fingerprint "
            f"{scoring_fingerprint()}") in said
    assert "PASS: 1 OK" in result.stdout


def test_identical_runs_show_no_regression(runs: dict) -> None:
    only_full = runs["tmp"] / "full.yaml"
    only_full.write_text(runs["expected"].read_text().split(f"- model: {DEGRADED}")[0])
    # The twin DB holds an independent run of the same spec: compare against it as a baseline.
    markdown = runs["tmp"] / "twin.md"
    result = _check(runs, only_full, "--baseline", runs["twin"], "--markdown", markdown)
    assert result.exit_code == 0, result.output
    assert "REGRESSION" not in result.stdout
    rows = [x for x in markdown.read_text().splitlines() if x.startswith("| OK | " + FULL)]
    paired = [x.split(" | ") for x in rows if x.count("|") > 11]  # the baseline table's row
    assert len(paired) == 1, rows
    cells = paired[0]
    # status, model, task, variant, metric, baseline, candidate, delta, p, queries, runs
    assert cells[4:10] == ["ndcg_at_10", f"{runs['full_ndcg']:.5f}", f"{runs['full_ndcg']:.5f}",
                           "+0.00000", "1.0000", "40"]
    assert cells[10] == cells[11] == f"`{runs['full_key'][:12]}`"


def test_degraded_run_is_a_significant_drop(runs: dict) -> None:
    degraded_key, got = _run_key(runs["db"], DEGRADED)
    markdown = runs["tmp"] / "baseline.md"
    result = _check(runs, "--baseline", runs["full_key"][:12], "--candidate", degraded_key,
                    "--markdown", markdown)
    assert result.exit_code == 1, result.output
    line = next(x for x in result.stdout.splitlines() if x.startswith("REGRESSION "))
    assert line.startswith(f"REGRESSION {DEGRADED} SciFact ndcg_at_10: "
                           f"{runs['full_ndcg']:.5f} -> {got:.5f}")
    p_value = float(line.split("p=")[1].split(",")[0])
    assert p_value < 0.05 and "n=40" in line
    assert "**REGRESSION**" in markdown.read_text()
    # With a margin larger than the drop, the same comparison passes: only big drops fail.
    lenient = _check(runs, "--baseline", runs["full_key"], "--candidate", degraded_key,
                     "--margin", "0.99")
    assert lenient.exit_code == 0, lenient.output


@pytest.fixture(scope="module")
def sts_subset(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding the first 200 real STSBenchmark test pairs."""
    root = tmp_path_factory.mktemp("sts-subset")
    out = root / "mteb" / "stsbenchmark"
    out.mkdir(parents=True)
    lines = (data_root / "mteb" / "stsbenchmark" / "test.jsonl").read_text().splitlines()
    (out / "test.jsonl").write_text("\n".join(lines[:200]) + "\n")
    return root


def test_sts_baseline_uses_a_paired_permutation_test(sts_subset: Path, shared_cache: Path,
                                                     tmp_path: Path) -> None:
    db = tmp_path / "sts.duckdb"
    for model in (FULL, "wordllama-l2-256"):
        result = harness("run", "-m", model, "-t", "STSBenchmark", "--db", db, "--data-root",
                         sts_subset, "--cache-dir", shared_cache, "--no-progress")
        assert result.exit_code == 0, result.output
    full_key, full = _run_key(db, FULL)
    static_key, static = _run_key(db, "wordllama-l2-256")
    assert static < full - 0.01  # static word vectors are clearly worse on STS
    markdown = tmp_path / "sts.md"
    result = harness("check", "--db", db, "--baseline", full_key, "--candidate", static_key,
                     "--candidate", full_key, "--markdown", markdown)
    assert result.exit_code == 1, result.output
    rows = {r.split(" | ")[1]: r.split(" | ") for r in markdown.read_text().splitlines()
            if r.startswith("| ") and "STSBenchmark" in r}
    worse, same = rows["wordllama-l2-256"], rows[FULL]
    assert worse[0] == "| **REGRESSION**" and float(worse[8]) < 0.05 and worse[9] == "200"
    assert worse[5:7] == [f"{full:.5f}", f"{static:.5f}"]  # the stored main scores, recomputed
    assert same[0] == "| OK" and same[7:10] == ["+0.00000", "1.0000", "200"]
