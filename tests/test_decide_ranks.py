"""Rank intervals and tie groups on synthetic stores (a real DuckDB file in the harness schema,
written through harness.store): identical entries tie, a dominating entry separates, seeds
reproduce, and tasks without per-query rows are resampled at the task level only."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from harness.decide.load import connect
from harness.decide.ranks import rank_store, records
from harness.store import RunRecord, Store

TASKS = ("TaskA", "TaskB", "TaskC")


def _record(model: str, task: str, values: np.ndarray | None, score: float | None = None,
            variant: str = "") -> RunRecord:
    main = float(values.mean()) if values is not None else float(score)
    row = {"run_key": f"{model}|{variant}|{task}", "model": model, "family": "dense",
           "variant": variant, "task": task, "task_type": "retrieval", "split": "test",
           "main_metric": "ndcg_at_10", "main_score": main, "harness_version": "test",
           "created_at": datetime(2026, 12, 1), "spec": {"task": {"data_sha256": f"sha-{task}"}},
           "environment": {"cpu": "synthetic"}, "timings": {}, "costs": {}, "extra": {}}
    per_query = [] if values is None else [(f"q{i}", "ndcg_at_10", float(v))
                                           for i, v in enumerate(values)]
    return RunRecord(row, {"ndcg_at_10": main}, per_query)


def _store(path: Path, entries: dict[str, dict[str, np.ndarray]]) -> Path:
    with Store(path) as store:
        for model, by_task in entries.items():
            for task, values in by_task.items():
                store.write_run(_record(model, task, values))
    return path


def _rank(path: Path, tasks=TASKS, seed: int = 7):  # noqa: ANN001, ANN202
    con = connect(path)
    try:
        return rank_store(con, tasks, n_boot=500, seed=seed)
    finally:
        con.close()


@pytest.fixture(scope="module")
def rng() -> np.random.Generator:
    return np.random.default_rng(123)


def test_identical_entries_form_one_tie_group(tmp_path: Path, rng: np.random.Generator) -> None:
    base = {t: rng.uniform(0, 1, 50) for t in TASKS}
    weak = {t: np.clip(v - 0.5, 0, 1) for t, v in base.items()}
    path = _store(tmp_path / "s.duckdb", {"twin-a": base, "twin-b": dict(base), "weak": weak})
    ranking = _rank(path)
    rows = {r["entry"]: r for r in records(ranking)}
    a, b = rows["twin-a"], rows["twin-b"]
    assert a["rank"] == b["rank"] == 1 and a["tied_with_top"] and b["tied_with_top"]
    assert a["rank_low"] <= b["rank_high"] and b["rank_low"] <= a["rank_high"]  # overlap
    assert set(ranking.frame.loc[ranking.frame["group"] == 0, "entry"]) == {"twin-a", "twin-b"}
    assert not rows["weak"]["tied_with_top"] and rows["weak"]["rank"] == 3
    assert ranking.query_level == list(TASKS) and ranking.task_level == []


def test_entry_better_on_every_query_has_a_disjoint_interval(tmp_path: Path,
                                                             rng: np.random.Generator) -> None:
    worse = {t: rng.uniform(0, 0.8, 40) for t in TASKS}
    better = {t: v + rng.uniform(0.01, 0.2, len(v)) for t, v in worse.items()}
    path = _store(tmp_path / "s.duckdb", {"better": better, "worse": worse})
    rows = {r["entry"]: r for r in records(_rank(path))}
    assert rows["better"]["rank_high"] < rows["worse"]["rank_low"]
    assert (rows["better"]["rank"], rows["worse"]["rank"]) == (1, 2)
    assert rows["better"]["tied_with_top"] and not rows["worse"]["tied_with_top"]


def test_close_noisy_entries_overlap_and_tie(tmp_path: Path, rng: np.random.Generator) -> None:
    a = {t: rng.uniform(0, 1, 30) for t in TASKS}
    b = {t: np.clip(v + rng.normal(0, 0.3, len(v)), 0, 1) for t, v in a.items()}
    path = _store(tmp_path / "s.duckdb", {"a": a, "b": b})
    rows = records(_rank(path))
    assert rows[0]["mean"] != rows[1]["mean"]
    assert all(r["tied_with_top"] for r in rows)  # noisy per-query differences: not separable
    assert rows[0]["rank_high"] == 2 or rows[1]["rank_low"] == 1


def test_same_seed_same_output_other_seed_other_samples(tmp_path: Path,
                                                        rng: np.random.Generator) -> None:
    entries = {f"m{i}": {t: rng.uniform(0, 1, 25) for t in TASKS} for i in range(5)}
    path = _store(tmp_path / "s.duckdb", entries)
    one, two, other = _rank(path, seed=11), _rank(path, seed=11), _rank(path, seed=12)
    assert records(one) == records(two)
    np.testing.assert_array_equal(one.samples, two.samples)
    assert not np.array_equal(one.samples, other.samples)


def test_tasks_without_per_query_rows_are_resampled_whole(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as store:  # no per-query rows at all: only tasks can be resampled
        for model, scores in {"hi": (0.9, 0.5, 0.7), "lo": (0.8, 0.4, 0.6)}.items():
            for task, score in zip(TASKS, scores, strict=True):
                store.write_run(_record(model, task, None, score))
    ranking = _rank(path)
    assert ranking.task_level == list(TASKS) and ranking.query_level == []
    rows = {r["entry"]: r for r in records(ranking)}
    # 'hi' beats 'lo' on every task, so every task resample keeps the order.
    assert (rows["hi"]["rank_low"], rows["hi"]["rank_high"]) == (1, 1)
    assert (rows["lo"]["rank_low"], rows["lo"]["rank_high"]) == (2, 2)
    assert np.isclose(rows["hi"]["mean"], 0.7) and np.isclose(rows["lo"]["mean"], 0.6)


def test_entries_missing_a_task_are_left_out(tmp_path: Path, rng: np.random.Generator) -> None:
    full = {t: rng.uniform(0, 1, 20) for t in TASKS}
    path = _store(tmp_path / "s.duckdb", {"full": full, "partial": {"TaskA": full["TaskA"]}})
    ranking = _rank(path)
    assert ranking.frame["entry"].tolist() == ["full"] and ranking.missing == ["partial"]
