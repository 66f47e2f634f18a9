"""`harness ranks` and `harness pick` on a real store: all-MiniLM-L6-v2 (fp32, and fp16 / int8 /
binary through `harness sweep`, one cached encode) and BM25, run by the real CLI on the SciFact
subset. Pick answers are checked against an independent computation from `harness results --json`.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.helpers import cli

MODEL = "all-MiniLM-L6-v2"


def build_decide_db(db: Path, data_root: Path, cache: Path) -> Path:
    common = ["-t", "SciFact", "--data-root", data_root, "--db", db, "--cache-dir", cache,
              "--no-progress"]
    result = cli("run", "-m", MODEL, "-m", "bm25", *common)
    assert result.exit_code == 0, result.output
    result = cli("sweep", "-m", MODEL, "--compress", "fp16,int8,binary", *common)
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture(scope="session")
def decide_db(scifact_subset: Path, shared_cache: Path,
              tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.getbasetemp() / "decide" / "decide.duckdb"
    if not db.exists():
        db.parent.mkdir(exist_ok=True)
        build_decide_db(db, scifact_subset, shared_cache)
    return db


def _json(*args: object) -> object:
    result = cli(*[str(a) for a in args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_ranks_json_fp32_and_fp16_tied(decide_db: Path) -> None:
    rows = _json("ranks", "-t", "SciFact", "--db", decide_db, "--json")
    assert {"entry", "mean", "rank", "rank_low", "rank_high", "tied_with_top"} <= set(rows[0])
    by = {r["entry"]: r for r in rows}
    assert set(by) == {MODEL, f"{MODEL} [fp16]", f"{MODEL} [int8]", f"{MODEL} [binary]", "bm25"}
    fp32, fp16 = by[MODEL], by[f"{MODEL} [fp16]"]
    assert fp32["rank"] == fp16["rank"] and fp32["tied_with_top"] == fp16["tied_with_top"]
    assert fp32["rank_low"] <= fp16["rank_high"] and fp16["rank_low"] <= fp32["rank_high"]
    # Means are the stored main scores; ranks are in order of the mean.
    con = duckdb.connect(str(decide_db), read_only=True)
    stored = dict(con.execute("SELECT CASE WHEN variant = '' THEN model ELSE model || ' [' || "
                              "variant || ']' END, main_score FROM runs").fetchall())
    con.close()
    assert {e: r["mean"] for e, r in by.items()} == pytest.approx(stored)
    assert [r["rank"] for r in rows] == sorted(r["rank"] for r in rows)
    assert rows[0]["tied_with_top"] and rows[0]["rank"] == 1


def test_ranks_benchmark_selects_its_stored_tasks(decide_db: Path) -> None:
    by_task = _json("ranks", "-t", "SciFact", "--db", decide_db, "--json")
    assert _json("ranks", "--benchmark", "BEIR", "--db", decide_db, "--json") == by_task
    result = cli("ranks", "--benchmark", "MTEB(eng, v2)", "--db", str(decide_db))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "none of its" in result.output and len(result.output.strip().splitlines()) == 1


def _expected_best(results: list[dict], budget: dict[str, float]) -> set[str]:
    """Independently: the entries with the best main score among those within the budget."""
    fits = []
    for r in results:
        label = r["model"] if not r["variant"] else f"{r['model']} [{r['variant']}]"
        ok = True
        if "max_bytes" in budget:
            ok &= r["bytes_per_doc"] <= budget["max_bytes"]
        if "max_index_gb" in budget:
            ok &= r["bytes_per_doc"] * budget["corpus_docs"] / 1e9 <= budget["max_index_gb"]
        if "max_p95" in budget:
            ok &= r["search_p95_ms"] is not None and r["search_p95_ms"] <= budget["max_p95"]
        if "min_dps" in budget:
            ok &= r["encode_docs_per_s"] >= budget["min_dps"]
        if ok:
            fits.append((r["main_score"], label))
    top = max(s for s, _ in fits)
    return {label for s, label in fits if s == top}


def test_pick_matches_an_independent_computation(decide_db: Path) -> None:
    results = _json("results", "-t", "SciFact", "--db", decide_db, "--json")
    p95 = sorted(r["search_p95_ms"] for r in results)
    dps = sorted(r["encode_docs_per_s"] for r in results)
    budgets = [
        ({}, []),
        ({"max_bytes": 800}, ["--max-bytes-per-doc", "800"]),
        ({"max_bytes": 500}, ["--max-bytes-per-doc", "500"]),
        ({"max_bytes": 100}, ["--max-bytes-per-doc", "100"]),
        ({"corpus_docs": 40_000_000, "max_index_gb": 16},
         ["--corpus-docs", "40000000", "--max-index-gb", "16"]),
        ({"max_p95": p95[1]}, ["--max-p95-ms", str(p95[1])]),
        ({"min_dps": dps[-1]}, ["--min-docs-per-s", str(dps[-1])]),
        ({"max_bytes": 1000, "max_p95": p95[2]},
         ["--max-bytes-per-doc", "1000", "--max-p95-ms", str(p95[2])]),
    ]
    answers = set()
    for budget, args in budgets:
        out = _json("pick", "-t", "SciFact", "--db", decide_db, "--json", *args)
        assert out["best"] in _expected_best(results, budget), (budget, out["best"])
        assert out["best"] in out["tied"]
        answers.add(out["best"])
        fits = {e["entry"] for e in out["entries"] if e["fits"]}
        assert out["best"] in fits
    assert len(answers) >= 3  # the budgets really move the answer


def test_pick_relaxing_a_constraint_names_the_next_frontier_point(decide_db: Path) -> None:
    out = _json("pick", "-t", "SciFact", "--db", decide_db, "--json",
                "--max-bytes-per-doc", "100")
    assert out["best"] == f"{MODEL} [binary]"
    (relax,) = out["relax"]
    entries = {e["entry"]: e for e in out["entries"]}
    better = [e for e in entries.values() if e["mean"] > entries[out["best"]]["mean"]]
    step = min(e["bytes_per_doc"] for e in better)
    assert relax["new_limit"] == pytest.approx(step)
    assert entries[relax["entry"]]["bytes_per_doc"] == pytest.approx(step)
    gain = entries[relax["entry"]]["mean"] - entries[out["best"]]["mean"]
    assert relax["delta_quality"] == pytest.approx(gain)
    assert relax["quality_per_unit"] == pytest.approx(gain / (step - 100))


def test_pick_open_weights_uses_mteb_metadata(decide_db: Path) -> None:
    out = _json("pick", "-t", "SciFact", "--db", decide_db, "--json", "--open-weights",
                "--max-params", "30000000")
    entries = {e["entry"]: e for e in out["entries"]}
    assert entries[MODEL]["n_parameters"] == 22713216  # mteb's ModelMeta, offline
    assert entries[MODEL]["open_weights"] is True
    assert out["best"] in {e for e, v in entries.items() if v["fits"]}


@pytest.mark.parametrize("args, message", [
    (["--max-bytes-per-doc", "1"], "nothing fits the budget; the cheapest entry is"),
    (["--corpus-docs", "1000"], "--corpus-docs and --max-index-gb go together"),
    (["-t", "NoSuchTask"], "has no stored runs"),
    (["--metric", "no_such_metric"], "no entry has a stored no_such_metric on every selected"),
])
def test_impossible_or_bad_budget_exits_2_with_one_line(decide_db: Path, args: list[str],
                                                        message: str) -> None:
    task = [] if "-t" in args else ["-t", "SciFact"]
    result = cli("pick", *task, "--db", str(decide_db), *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    if "nothing fits" in message:
        assert f"{MODEL} [binary]" in lines[0]  # 48 bytes/doc: the cheapest entry
