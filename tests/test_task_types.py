"""Clustering, pair classification, reranking, summarization and multi-label classification.

Code-path checks on small tasks built from real staged texts (tests/task_type_data.py), NOT
reproductions: for each, the harness's stored main score must equal ``mteb.evaluate`` run on the
same local task with the same model encoding directly (no harness cache, no harness store) within
1e-6; the run must be stored with its per-item rows (or the note saying why there are none), and
a second identical run must be skipped by its key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.cache import EmbeddingCache
from harness.kinds.outcome import Context
from harness.runner import Runner, task_kind
from harness.spec import RunSpec
from harness.store import Store
from harness.tasks.mteb_tasks import register_check_tasks
from harness.tasks.registry import get_task
from tests import task_type_data as build

MODEL = "wordllama-l2-256"


class WordLlamaOracle:
    """An mteb encoder calling the WordLlama library itself: no harness adapter, no cache."""

    mteb_model_meta = None

    def __init__(self) -> None:
        from wordllama import WordLlama

        from adapters.dense import _package_dir

        self.model = WordLlama.load(dim=256, cache_dir=_package_dir("wordllama"),
                                    disable_download=True)

    def encode(self, inputs: Any, **kwargs: Any) -> np.ndarray:
        texts = [t for batch in inputs for t in batch["text"]]
        return np.asarray(self.model.embed(texts, norm=False), dtype=np.float32)

    def similarity(self, a: Any, b: Any) -> Any:
        from mteb.similarity_functions import cos_sim

        return cos_sim(a, b)

    def similarity_pairwise(self, a: Any, b: Any) -> Any:
        from mteb.similarity_functions import pairwise_cos_sim

        return pairwise_cos_sim(a, b)


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    """MiniBatchKMeans on 400 points takes 0.1 s on one OpenMP thread and seconds on two when
    the shared machine is loaded; harness and oracle both run under the same limit."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def check_root(data_root: Path, scifact_subset: Path,
               tmp_path_factory: pytest.TempPathFactory) -> Path:
    register_check_tasks()
    root = tmp_path_factory.mktemp("type-checks")
    build.clustering(data_root, root)
    build.pair_classification(data_root, root)
    build.summarization(data_root, root)
    build.multilabel(data_root, root)
    build.reranking(data_root, scifact_subset, root)
    return root


@pytest.fixture(scope="module")
def runs(check_root: Path, shared_cache: Path, tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("type-db") / "runs.duckdb"
    ctx = Context(EmbeddingCache(shared_cache), progress=False)
    with Store(db) as store:
        runner = Runner(store, ctx, check_root)
        yield runner, store


def mteb_oracle(task_name: str, root: Path, tmp: Path) -> dict[str, float]:
    """``mteb.evaluate`` on mteb's own task class with only load_data swapped (no capture)."""
    import mteb

    task = get_task(task_name)
    kind = task_kind(task)
    data = kind.prepare(task, root).payload
    result = mteb.evaluate(WordLlamaOracle(), kind.mteb_local_task(task, data, capture=False),
                           cache=mteb.ResultCache(cache_path=str(tmp)),
                           overwrite_strategy="always", show_progress_bar=False,
                           encode_kwargs={"batch_size": 32})
    return dict(result.task_results[0].scores[task.split][0])


CASES = {  # task -> (stored task type, per-item metric, items per run or None = experiments)
    "Banking77IntentClustering": ("clustering", "v_measure", None),
    "STSBParaphrasePairs": ("pair_classification", "cosine_similarity", 250),
    "SciFactBM25Reranking": ("reranking", "map_at_1000", 20),
    "STSBSummarization": ("summarization", "cosine_spearman", 30),
    "Banking77MultiIntent": ("multilabel_classification", "accuracy", None),
}


@pytest.mark.parametrize("task_name", list(CASES))
def test_harness_equals_mteb_and_stores_rows(task_name: str, runs, check_root: Path,
                                             tmp_path: Path) -> None:
    runner, store = runs
    kind, item_metric, n_items = CASES[task_name]
    first = runner.run(RunSpec(MODEL, task_name))
    again = runner.run(RunSpec(MODEL, task_name))
    assert first.status == "ran" and again.status == "skipped" and again.key == first.key

    theirs = mteb_oracle(task_name, check_root, tmp_path)
    main = get_task(task_name).main_score
    assert first.main_score == pytest.approx(theirs[main], abs=1e-6), (first.main_score, theirs)
    assert again.main_score == first.main_score

    row = store.run_row(first.key)
    extra = json.loads(row["extra"]) if isinstance(row["extra"], str) else row["extra"]
    assert row["task_type"] == kind and row["main_metric"] == main
    items = store.query_scores(first.key, item_metric)
    if n_items is None:  # set-level metric: rows per experiment, and the note says so
        assert "no per-text score" in extra["per_item"]
        assert len(items) >= 10 and all(k.startswith("experiment-") for k in items)
    else:
        assert len(items) == n_items
    assert extra["encoded_texts"] > 0 and extra["mteb_version"]


def test_per_item_rows_reproduce_the_main_score(runs) -> None:
    """Mean of the stored per-query / per-text rows is mteb's main score (what a bootstrap uses)."""
    runner, store = runs
    for task_name, metric in (("SciFactBM25Reranking", "map_at_1000"),
                              ("STSBSummarization", "cosine_spearman")):
        result = runner.run(RunSpec(MODEL, task_name))
        rows = store.query_scores(result.key, metric)
        assert np.mean(list(rows.values())) == pytest.approx(result.main_score, abs=1e-9)


def test_pair_rows_recompute_average_precision(runs) -> None:
    from sklearn.metrics import average_precision_score

    runner, store = runs
    result = runner.run(RunSpec(MODEL, "STSBParaphrasePairs"))
    cosine = store.query_scores(result.key, "cosine_similarity")
    gold = store.query_scores(result.key, "gold_label")
    ids = sorted(cosine)
    ap = average_precision_score([gold[i] for i in ids], [cosine[i] for i in ids])
    assert ap == pytest.approx(store.scores(result.key)["cosine_ap"], abs=1e-9)
