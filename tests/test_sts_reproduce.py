"""Full-dataset STS and Banking77 runs (slow): all-MiniLM-L6-v2 reproduces MTEB's published main
scores (values and tolerances read from ci/expected/published.yaml), and both MiniLM and the
WordLlama static model run all seven STS tasks and Banking77 with every item stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cache import EmbeddingCache
from harness.kinds.outcome import Context
from harness.runner import Runner
from harness.spec import RunSpec
from harness.store import Store
from tests.published import published as published_value
from tests.published import rows
from tests.test_sts_data import MTEB_SIZES

pytestmark = pytest.mark.slow

MINILM = "all-MiniLM-L6-v2"
MINILM_REVISION = "8b3219a92973c328a8e22fadcfa821b5dc75636a"  # the HF commit MTEB evaluated
TASKS = [*sorted(MTEB_SIZES), "Banking77Classification"]


def published(model: str, revision: str) -> dict[str, tuple[float, float]]:
    """task -> (value, tolerance) of the published main scores of ``model`` at ``revision``."""
    return {r.task: published_value(model, r.task, "main_score") for r in rows()
            if r.model == model and r.revision == revision and r.metric == "main_score"
            and r.task in TASKS}


@pytest.fixture(scope="module")
def runner(data_root: Path, shared_cache: Path, tmp_path_factory: pytest.TempPathFactory):
    ctx = Context(EmbeddingCache(shared_cache), progress=False)
    with Store(tmp_path_factory.mktemp("mteb-full") / "runs.duckdb") as store:
        yield Runner(store, ctx, data_root)


def test_the_required_reference_values_are_present() -> None:
    pub = published(MINILM, MINILM_REVISION)
    assert pub["STSBenchmark"][0] == pytest.approx(0.8203247, abs=1e-7)
    assert pub["SICK-R"][0] == pytest.approx(0.7758246, abs=1e-7)
    assert pub["Banking77Classification"][0] == pytest.approx(0.8004221, abs=1e-7)


@pytest.mark.parametrize("task", sorted(published(MINILM, MINILM_REVISION)))
def test_minilm_reproduces_mteb(runner: Runner, task: str) -> None:
    expected, tolerance = published(MINILM, MINILM_REVISION)[task]
    result = runner.run(RunSpec(MINILM, task))
    assert result.main_score == pytest.approx(expected, abs=tolerance), task


@pytest.mark.parametrize("model", [MINILM, "wordllama-l2-256"])
@pytest.mark.parametrize("task", TASKS)
def test_every_task_runs_and_stores_its_items(runner: Runner, model: str, task: str) -> None:
    result = runner.run(RunSpec(model, task))
    row = runner.store.run_row(result.key)
    assert row["task_type"] == ("classification" if task.startswith("Banking") else "sts")
    if task in MTEB_SIZES:
        assert len(runner.store.query_scores(result.key, "cosine_similarity")) == MTEB_SIZES[task]
        assert 0.3 < result.main_score < 1.0
    else:
        assert len(runner.store.query_scores(result.key, "accuracy")) == 10
        assert row["n_queries"] == 3080
        assert 0.3 < result.main_score < 1.0
