"""Benchmarks as named suites: listing, a run over MTEB(eng, v2) on a restricted data root, and
MTEB's aggregates (mean over tasks, over types, Borda rank) in `harness results` and on the board.

The run uses real staged pairs (STSBenchmark and SICK-R slices) with wordllama-l2-256. 34 of the 41
MTEB(eng, v2) data sets are not staged on this offline machine, so the aggregate checks add
entries named ``synthetic-*`` whose scores are drawn from a seeded RNG (a fake for a case that
cannot be caused for real here); their Borda ranks are compared with mteb's own implementation.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from harness.aggregate import benchmark_aggregate
from harness.data_root import REPO_ROOT
from harness.store import RunRecord, Store
from harness.tasks.benchmarks import benchmark_suite
from tests.helpers import cli, count_rows
from tests.test_sts_run import sts_slice

BENCH = "MTEB(eng, v2)"
MODEL = "wordllama-l2-256"


def test_ls_tasks_of_the_benchmark(data_root: Path) -> None:
    out = cli("ls", "tasks", "--benchmark", BENCH, "--data-root", data_root)
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    rows = [line.split() for line in lines[:-1]]
    assert len(rows) == 41
    assert Counter(r[1] for r in rows) == {"Retrieval": 10, "STS": 9, "Clustering": 8,
                                           "Classification": 8, "PairClassification": 3,
                                           "Reranking": 2, "Summarization": 1}
    status = {r[0]: r[2] for r in rows}
    assert set(status.values()) <= {"local", "downloadable", "unsupported"}
    # staged here in full: the STS sets and Banking77; SciFact is not in MTEB(eng, v2)
    assert status["STSBenchmark"] == status["Banking77Classification"] == "local"
    assert status["ArguAna"] == "downloadable"  # only queries + qrels staged
    listed = cli("ls", "benchmarks")
    assert listed.exit_code == 0 and BENCH in listed.output


@pytest.fixture(scope="module")
def bench_db(data_root: Path, shared_cache: Path,
             tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list, list]:
    """A real benchmark run on a root holding two of its tasks (slices), run twice."""
    root = tmp_path_factory.mktemp("bench-root")
    sts_slice(data_root, root, "stsbenchmark", 120)
    sts_slice(data_root, root, "sickr", 120)
    db = tmp_path_factory.mktemp("bench-db") / "runs.duckdb"
    args = ("run", "-m", MODEL, "--benchmark", BENCH, "--data-root", root, "--db", db,
            "--cache-dir", shared_cache, "--no-progress")
    first, second = cli(*args), cli(*args)
    return db, [first], [second]


def test_benchmark_run_runs_local_tasks_and_names_the_rest(bench_db) -> None:
    db, (first,), (second,) = bench_db
    assert first.exit_code == 0, first.output
    assert count_rows(db) == 2
    missing = [line for line in first.output.splitlines() if line.startswith("not run: ")]
    assert len(missing) == 39
    for line in missing:
        name = line.removeprefix("not run: ").split(" (")[0]
        assert f'fetch with: harness data pull "{name}"' in line
    assert "ran 2 local task(s), 39 not run" in first.output
    assert second.exit_code == 0 and count_rows(db) == 2  # same keys: skipped
    assert second.output.count("skipped") == 2


def _synthetic(db: Path, entries: dict[str, int]) -> None:
    """Add stored runs for synthetic entries (model -> number of benchmark tasks it has),
    each row copied from the real run's row with task, score and key replaced."""
    rng = np.random.default_rng(7)
    with Store(db) as store:
        real = {}
        for row in store.runs_frame().to_dict(orient="records"):
            for c in ("spec", "environment", "timings", "costs", "extra"):
                row[c] = json.loads(row[c]) if isinstance(row[c], str) else {}
            real[row["task"]] = row
        template = next(iter(real.values()))
        for model, n in entries.items():
            for task, kind in benchmark_suite(BENCH)[:n]:
                # same data version as the real run where there is one (the board shows one
                # data version per task), else a spec naming the task and a synthetic version
                spec = real[task]["spec"] if task in real else dict(
                    template["spec"], task={"name": task, "data_sha256": "synthetic"})
                row = dict(template, model=model, task=task, task_type=kind, spec=spec,
                           main_score=float(rng.uniform(0.2, 0.9)),
                           run_key=f"synthetic-{model}-{task}", variant="")
                store.write_run(RunRecord(row, {"main_score": row["main_score"]}))


@pytest.fixture(scope="module")
def full_db(bench_db) -> Path:
    db = bench_db[0]
    _synthetic(db, {"synthetic-a": 41, "synthetic-b": 41, "synthetic-c": 41, "synthetic-d": 41,
                    "synthetic-partial": 40})
    return db


def test_aggregates_and_borda_equal_mtebs(full_db: Path) -> None:
    import polars as pl
    from mteb.benchmarks._create_table import _borda_rank_from_long

    from harness.cli.report import results_frame

    suite = benchmark_suite(BENCH)
    entries = {e.model: e for e in benchmark_aggregate(results_frame(full_db, (), ()), suite)}
    frame = results_frame(full_db, (), ())
    complete = frame[frame["model"].str.startswith("synthetic-") & (frame["model"] !=
                                                                     "synthetic-partial")]
    theirs = _borda_rank_from_long(pl.DataFrame({
        "model_name": complete["model"].tolist(), "task_name": complete["task"].tolist(),
        "score": complete["main_score"].astype(float).tolist()}))
    for model, rank in theirs.iter_rows():
        assert entries[model].borda_rank == rank
        scores = complete[complete["model"] == model].set_index("task")["main_score"]
        assert entries[model].mean_task == pytest.approx(scores.mean(), abs=1e-12)
        by_type = [np.mean([scores[t] for t, k in suite if k == kind])
                   for kind in dict.fromkeys(k for _, k in suite)]
        assert entries[model].mean_type == pytest.approx(np.mean(by_type), abs=1e-12)
    partial = entries["synthetic-partial"]
    assert partial.borda_rank is None and partial.mean_task is None and partial.n_covered == 40
    assert partial.type_means["Retrieval"] is not None  # complete types keep their mean
    real = entries[MODEL]
    assert real.n_covered == 2 and real.type_coverage["STS"] == "2/9"
    assert real.type_means["STS"] is None and real.borda_rank is None

    out = cli("results", "--by-type", "--benchmark", BENCH, "--db", full_db, "--json")
    assert out.exit_code == 0
    by_model = {r["model"]: r for r in json.loads(out.output)}
    assert by_model["synthetic-a"]["borda_rank"] == entries["synthetic-a"].borda_rank


def test_board_shows_type_means_and_borda(full_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.cli.report import results_frame

    monkeypatch.setenv("HARNESS_BOARD_DB", str(full_db))
    at = AppTest.from_file(str(REPO_ROOT / "leaderboard" / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("views/benchmark.py")
    at.run()
    try:
        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]
        assert at.title[0].value == "Benchmark", [e.value for e in at.info]
        shown = next(d.value for d in at.dataframe if "borda rank" in d.value.columns)
        expected = {e.model: e for e in benchmark_aggregate(results_frame(full_db, (), ()),
                                                           benchmark_suite(BENCH))}
        assert len(shown) == len(expected) == 6
        for _, row in shown.iterrows():
            e = expected[row["model"]]
            assert row["tasks"] == f"{e.n_covered}/{e.n_tasks}"
            if e.borda_rank is None:
                assert pd_isna(row["borda rank"]) and pd_isna(row["mean (task)"])
            else:
                assert row["borda rank"] == e.borda_rank
                assert row["mean (type)"] == pytest.approx(e.mean_type, abs=1e-12)
                assert row["Clustering"] == pytest.approx(e.type_means["Clustering"], abs=1e-12)
        assert "4 of 6 entries cover every task" in " ".join(c.value for c in at.caption)
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()


def pd_isna(value: object) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_check_keeps_the_benchmarks_rows(tmp_path: Path) -> None:
    """ci-subset.yaml has SciFact and STSBenchmark rows; MTEB(eng, v2) has only STSBenchmark."""
    expected = REPO_ROOT / "ci" / "expected" / "ci-subset.yaml"
    db = tmp_path / "empty.duckdb"
    out = cli("check", expected, "--benchmark", BENCH, "--no-run", "--db", db)
    assert "MTEB(eng, v2): 1 of 5 rows, on 1 of its 41 tasks" in out.output
    assert "STSBenchmark" in out.output and "SciFact" not in out.output
    beir = cli("check", expected, "--benchmark", "BEIR", "--no-run", "--db", db)
    assert "BEIR: 4 of 5 rows, on 1 of its 15 tasks" in beir.output
    assert "STSBenchmark" not in beir.output
    none = cli("check", expected, "--benchmark", "MTEB(Law, v1)", "--db", db)
    assert none.exit_code == 2 and "no row is on a task of MTEB(Law, v1)" in none.output
    assert "Traceback" not in none.output
