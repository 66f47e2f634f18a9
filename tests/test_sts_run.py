"""STS end to end on a small real slice: mteb's evaluator through our cache, per-pair rows stored,
and the stored main score equal to an independent recomputation (numpy cosine + scipy Spearman)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr

from harness.cache import EmbeddingCache
from harness.kinds.outcome import Context
from harness.runner import Runner
from harness.spec import RunSpec
from harness.store import Store

N_PAIRS = 120


def sts_slice(data_root: Path, dest: Path, folder: str = "stsbenchmark", n: int = N_PAIRS) -> Path:
    """A data root holding the first ``n`` real pairs of one STS task."""
    lines = (data_root / "mteb" / folder / "test.jsonl").read_text().splitlines()[:n]
    out = dest / "mteb" / folder
    out.mkdir(parents=True, exist_ok=True)
    (out / "test.jsonl").write_text("\n".join(lines) + "\n")
    return dest


@pytest.fixture(scope="module")
def stored(data_root: Path, shared_cache: Path, tmp_path_factory: pytest.TempPathFactory):
    root = sts_slice(data_root, tmp_path_factory.mktemp("sts-slice"))
    db = tmp_path_factory.mktemp("sts-db") / "runs.duckdb"
    ctx = Context(EmbeddingCache(shared_cache), progress=False)
    with Store(db) as store:
        runner = Runner(store, ctx, root)
        result = runner.run(RunSpec("all-MiniLM-L6-v2", "STSBenchmark"))
        again = runner.run(RunSpec("all-MiniLM-L6-v2", "STSBenchmark"))
        prepared = runner.prepare(runner.resolve(result.spec)[0])
        encoder = runner.encoder("all-MiniLM-L6-v2")
        yield result, again, store, prepared.payload, encoder, ctx


def test_run_is_stored_with_task_type_and_per_pair_rows(stored) -> None:
    result, again, store, data, _, _ = stored
    assert result.status == "ran" and again.status == "skipped"  # same key, no re-run
    row = store.run_row(result.key)
    assert row["task_type"] == "sts" and row["main_metric"] == "cosine_spearman"
    assert row["n_queries"] == N_PAIRS
    assert store.count("query_scores", result.key) == 2 * N_PAIRS
    cosine = store.query_scores(result.key, "cosine_similarity")
    gold = store.query_scores(result.key, "gold_score")
    assert sorted(cosine) == sorted(data.pair_ids) == sorted(gold)
    assert gold[data.pair_ids[0]] == data.gold[0]
    # the per-pair rows alone reproduce the main score
    ids = list(data.pair_ids)
    rho = spearmanr([gold[i] for i in ids], [cosine[i] for i in ids])[0]
    assert rho == pytest.approx(result.main_score, abs=1e-9)
    scores = store.scores(result.key)
    for metric in ("cosine_pearson", "euclidean_spearman", "manhattan_spearman", "main_score"):
        assert metric in scores


def test_score_matches_independent_numpy_cosine(stored) -> None:
    """Bypass mteb: the same cached vectors, our own cosine, scipy's correlations."""
    result, _, store, data, encoder, ctx = stored
    a = ctx.encode(encoder, data.sentence1, "query", "check").embeddings.vectors
    b = ctx.encode(encoder, data.sentence2, "query", "check").embeddings.vectors
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    scores = store.scores(result.key)
    assert spearmanr(data.gold, cos)[0] == pytest.approx(scores["cosine_spearman"], abs=1e-6)
    assert pearsonr(data.gold, cos)[0] == pytest.approx(scores["cosine_pearson"], abs=1e-6)
    assert 0.5 < scores["cosine_spearman"] < 1.0  # a real model on real pairs, not noise


def test_encoding_went_through_the_shared_cache(stored, shared_cache: Path) -> None:
    result, _, store, data, encoder, _ = stored
    cache = EmbeddingCache(shared_cache)
    assert cache.is_complete(encoder, data.sentence1, "query")
    assert cache.is_complete(encoder, data.sentence2, "query")
    extra = store.run_row(result.key)["extra"]
    assert '"encoded_texts": 240' in extra and "STSBenchmarkSTS" in extra


def test_sparse_embeddings_go_through_mtebs_evaluator(data_root: Path, tmp_path: Path) -> None:
    """A sparse family (CSR vectors) is scored by mteb's STS evaluator without densifying."""
    from adapters.registry import load_model
    from harness.kinds.mteb_bridge import CachedMtebEncoder, evaluate, local_task
    from harness.kinds.sts import _dataset, load_sts
    from harness.tasks.mteb_tasks import source

    encoder = load_model("faster-clip-sparse")  # inference-free: a lookup, no model
    src = source("STSBenchmark")
    data = load_sts(data_root / "mteb" / "stsbenchmark" / "test.jsonl", src, limit=N_PAIRS)
    ctx = Context(EmbeddingCache(tmp_path), progress=False)
    model = CachedMtebEncoder(encoder, ctx, "sparse")
    metrics = evaluate(local_task(src.mteb_class, _dataset(data)), model, "test", 32)
    a = encoder.encode(data.sentence1, "query").matrix.toarray()
    b = encoder.encode(data.sentence2, "query").matrix.toarray()
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    assert metrics["cosine_spearman"] == pytest.approx(spearmanr(data.gold, cos)[0], abs=1e-6)
