"""MTEB-style averages per task type and overall, with coverage: a store filled with MTEB's
published main scores (ci/expected/published.yaml) for two models, one of which lacks STS14."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from harness.aggregate import BY_TYPE, OVERALL, aggregate
from harness.cli import main
from harness.cli.report import results_frame
from harness.store import RunRecord, Store
from harness.tasks.registry import all_tasks, get_task
from tests.published import rows

MODELS = {"all-MiniLM-L6-v2": "8b3219a92973c328a8e22fadcfa821b5dc75636a",
          "multilingual-e5-small": "fd1525a9fd15316a2d503bf26ab031a61d056e98"}
TYPES = ("sts", "classification")


def published() -> dict[tuple[str, str], float]:
    registered = {t.name: t for t in all_tasks()}
    out = {}
    for r in rows():
        if r.metric == "main_score" and MODELS.get(r.model) == r.revision:
            task = registered.get(r.task)  # published rows also cover tasks not registered here
            if task is not None and task.type in TYPES:
                out[(r.model, task.name)] = r.expected
    return out


def _record(model: str, task: str, score: float, when: datetime, variant: str = "") -> RunRecord:
    meta = get_task(task)
    key = f"{model}|{task}|{variant}|{when.isoformat()}"
    row = {"run_key": key, "model": model, "family": "dense", "variant": variant, "task": task,
           "task_type": meta.type, "split": "test", "main_metric": meta.main_score,
           "main_score": score, "harness_version": "test", "created_at": when,
           "spec": {"task": {"data_sha256": "published"}}, "environment": {}, "timings": {},
           "costs": {}, "extra": {"source": "ci/expected/published.yaml"}}
    return RunRecord(row, {meta.main_score: score})


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agg") / "runs.duckdb"
    t0 = datetime(2026, 1, 1)
    with Store(path) as store:
        for (model, task), score in published().items():
            store.write_run(_record(model, task, score, t0))
        # an older, worse run of the same pair must not count: the latest one does
        store.write_run(_record("multilingual-e5-small", "STS12", 0.1, t0 - timedelta(days=1)))
        # a variant is its own row, with its own (partial) coverage
        store.write_run(_record("all-MiniLM-L6-v2", "STSBenchmark", 0.8, t0, variant="int8"))
    return path


def test_published_scores_cover_what_the_test_claims() -> None:
    pub = published()
    sts = sorted(t for (m, t) in pub
                 if m == "multilingual-e5-small" and t != "Banking77Classification")
    assert sts == ["SICK-R", "STS12", "STS13", "STS14", "STS15", "STS16", "STSBenchmark"]
    assert ("all-MiniLM-L6-v2", "STS14") not in pub  # MTEB's results repo lacks it
    assert ("all-MiniLM-L6-v2", "STS12") in pub


def test_complete_model_gets_type_and_overall_means(db: Path) -> None:
    pub = published()
    groups = {(g.model, g.variant, g.group): g for g in aggregate(results_frame(db))}
    e5 = {t: s for (m, t), s in pub.items() if m == "multilingual-e5-small"}
    sts = groups[("multilingual-e5-small", "", "sts")]
    assert (sts.n_covered, sts.n_tasks, sts.missing) == (7, 7, ())
    expected_sts = np.mean([s for t, s in e5.items() if get_task(t).type == "sts"])
    assert sts.mean == pytest.approx(expected_sts, abs=1e-12)
    clf = groups[("multilingual-e5-small", "", "classification")]
    assert clf.mean == pytest.approx(e5["Banking77Classification"]) and clf.n_tasks == 1
    overall = groups[("multilingual-e5-small", "", OVERALL)]
    assert overall.n_tasks == 8 and overall.mean == pytest.approx(np.mean(list(e5.values())))
    by_type = groups[("multilingual-e5-small", "", BY_TYPE)]
    assert by_type.mean == pytest.approx((expected_sts + e5["Banking77Classification"]) / 2)


def test_model_missing_a_task_gets_no_average_for_that_group(db: Path) -> None:
    groups = {(g.model, g.variant, g.group): g for g in aggregate(results_frame(db))}
    sts = groups[("all-MiniLM-L6-v2", "", "sts")]
    assert sts.mean is None and sts.missing == ("STS14",) and (sts.n_covered, sts.n_tasks) == (6, 7)
    assert groups[("all-MiniLM-L6-v2", "", "classification")].mean == pytest.approx(0.8004220779)
    assert groups[("all-MiniLM-L6-v2", "", OVERALL)].mean is None
    assert groups[("all-MiniLM-L6-v2", "", BY_TYPE)].mean is None
    int8 = groups[("all-MiniLM-L6-v2", "int8", "sts")]
    assert int8.mean is None and (int8.n_covered, int8.n_tasks) == (1, 7)


def test_cli_by_type_states_coverage(db: Path) -> None:
    result = CliRunner().invoke(main, ["results", "--by-type", "--db", str(db)],
                                terminal_width=200)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "sts (7 tasks)" in out and "classification (1 tasks)" in out
    assert "overall (8 tasks)" in out
    assert "– (6/7)" in out
    assert "no sts average for all-MiniLM-L6-v2: missing STS14 (6/7 covered)" in out
    as_json = CliRunner().invoke(main, ["results", "--by-type", "--json", "--db", str(db)])
    records = json.loads(as_json.output)
    e5_sts = [r for r in records if r["model"] == "multilingual-e5-small" and r["group"] == "sts"]
    assert e5_sts[0]["n_covered"] == 7 and e5_sts[0]["mean"] is not None
    # filtering to one task narrows every group to the tasks selected
    one = CliRunner().invoke(main, ["results", "--by-type", "--json", "-t", "STS12",
                                    "--db", str(db)])
    assert {r["n_tasks"] for r in json.loads(one.output)} == {1}
