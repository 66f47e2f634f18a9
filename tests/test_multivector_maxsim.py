"""Exact MaxSim and MUVERA over real all-MiniLM-L6-v2 token embeddings of a SciFact subset.

The blocked MaxSim must equal a naive per-(query, document) loop; MUVERA's encodings must equal
the paper's definition computed naively, and reranking every document must give exact MaxSim.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adapters.registry import load_model
from harness.cache import EmbeddingCache
from harness.embeddings import MultiVectorEmbeddings
from harness.errors import HarnessError
from harness.search.base import overlap_recall
from harness.search.maxsim import maxsim_rerank, maxsim_search
from harness.search.muvera import FDEConfig, _random, fde
from harness.search.registry import build
from harness.search.stats import describe
from harness.spec import Backend
from harness.tasks.beir import load_beir
from harness.tasks.registry import get_task, require_available

N_DOCS, N_QUERIES = 40, 10


@pytest.fixture(scope="module")
def tokens(scifact_subset: Path, shared_cache: Path):
    task = get_task("SciFact")
    data = load_beir(require_available(task, scifact_subset), task.split)
    encoder = load_model("minilm-maxsim")
    cache = EmbeddingCache(shared_cache)
    docs = cache.encode(encoder, data.corpus_texts[:N_DOCS], "document").embeddings
    queries = cache.encode(encoder, data.query_texts[:N_QUERIES], "query").embeddings
    return queries, docs


def _naive_maxsim(queries: MultiVectorEmbeddings, docs: MultiVectorEmbeddings) -> np.ndarray:
    """One (query, document) pair at a time, in float64: the definition, no blocking."""
    out = np.zeros((len(queries), len(docs)))
    for i in range(len(queries)):
        q = queries.item(i).astype(np.float64)
        for j in range(len(docs)):
            d = docs.item(j).astype(np.float64)
            out[i, j] = (q @ d.T).max(axis=1).sum()
    return out


def test_fast_maxsim_equals_naive_loop(tokens) -> None:
    queries, docs = tokens
    assert isinstance(docs, MultiVectorEmbeddings) and docs.dim == 384
    naive = _naive_maxsim(queries, docs)
    # A tiny block budget forces many query and document blocks.
    top = maxsim_search(queries, docs, N_DOCS, max_cells=20000)
    np.testing.assert_allclose(top.scores, -np.sort(-naive, axis=1), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(np.take_along_axis(naive, top.indices, 1), top.scores,
                               rtol=1e-5, atol=1e-4)
    stats = describe(docs, queries)
    assert stats["tokens_per_doc"]["mean"] == pytest.approx(docs.tokens.shape[0] / N_DOCS)
    assert stats["bytes_per_doc"] == pytest.approx(docs.tokens.shape[0] * 384 * 2 / N_DOCS)


def test_rerank_of_every_document_is_exact_maxsim(tokens) -> None:
    queries, docs = tokens
    exact = maxsim_search(queries, docs, 10)
    backend = Backend.parse(f"muvera:rerank={N_DOCS}")
    searcher = build(backend, docs)
    top = searcher.search(queries, 10, backend.query_params)
    np.testing.assert_allclose(top.scores, exact.scores, rtol=1e-5, atol=1e-5)
    stats = searcher.describe(queries, backend.query_params)
    assert stats["candidates_per_query"] == N_DOCS
    assert stats["fde_candidate_recall_vs_exact_maxsim_at_100"] == 1.0
    shuffled = np.array([np.random.default_rng(i).permutation(N_DOCS) for i in range(N_QUERIES)])
    again = maxsim_rerank(queries, docs, shuffled)
    np.testing.assert_allclose(again.scores[:, :10], exact.scores, rtol=1e-5, atol=1e-5)


def _naive_fde(item: np.ndarray, planes: np.ndarray, proj: np.ndarray, side: str) -> np.ndarray:
    ksim = planes.shape[1]
    bits = (item @ planes) > 0
    part = [int(sum(int(b) << j for j, b in enumerate(row))) for row in bits]
    out = np.zeros((2 ** ksim, proj.shape[1]))
    for p in range(2 ** ksim):
        members = [t for t, q in enumerate(part) if q == p]
        if members:
            vecs = item[members] @ proj
            out[p] = vecs.sum(0) if side == "query" else vecs.mean(0)
        elif side == "document":  # fill: the token whose bits are nearest to partition p
            code = np.array([(p >> j) & 1 for j in range(ksim)], dtype=bool)
            out[p] = item[int(np.argmin((bits != code).sum(1)))] @ proj
    return out.ravel()


def test_fde_equals_the_definition(tokens) -> None:
    queries, docs = tokens
    config = FDEConfig(reps=2, ksim=3, dproj=8, seed=7)
    randoms = _random(config, docs.dim)
    for side, items in (("query", queries), ("document", docs)):
        got = fde(items, config, side, block_tokens=500)
        for i in (0, len(items) - 1):
            item = items.item(i).astype(np.float32)
            want = np.concatenate([_naive_fde(item, pl, pr, side) for pl, pr in randoms])
            np.testing.assert_allclose(got[i], want, rtol=1e-4, atol=1e-5)


def test_fde_inner_product_tracks_maxsim(tokens) -> None:
    queries, docs = tokens
    config = FDEConfig()  # the paper's 20 x 2^5 x 16 = 10240 dimensions
    approx = fde(queries, config, "query") @ fde(docs, config, "document").T
    exact = _naive_maxsim(queries, docs)
    corr = np.mean([np.corrcoef(a, e)[0, 1] for a, e in zip(approx, exact, strict=True)])
    assert corr > 0.5, corr


def test_candidate_recall_and_bad_specs() -> None:
    truth = np.array([[1, 2, 3, 4], [5, 6, -1, -1]])
    cands = np.array([[4, 9, 1], [6, 7, 8]])
    assert overlap_recall(cands, truth) == pytest.approx((2 / 4 + 1 / 2) / 2)
    assert np.isnan(overlap_recall(cands, np.full((2, 3), -1)))  # no truth: no made-up recall
    assert Backend.parse("muvera:rerank=7:reps=3")["reps"] == 3
    assert Backend.parse("muvera:rerank=7,ksim=4")["ksim"] == 4
    assert Backend.parse("muvera:rerank=7").query_params == {"rerank": 7}
    for bad in ("muvera:reps=x", "muvera:depth=3", "muvera:ksim=40", "muvera:rerank"):
        with pytest.raises(HarnessError):
            Backend.parse(bad)


def test_reranked_backend_reports_its_fde_only_ranking(tokens) -> None:
    queries, docs = tokens
    searcher = build("muvera", docs)  # rerank is a query parameter: one build for both
    alt = searcher.alternatives(queries, 10, {"rerank": 50})["fde_only"]
    plain = searcher.search(queries, 10, {"rerank": 0})
    np.testing.assert_array_equal(alt.indices, plain.indices)
    assert searcher.alternatives(queries, 10, {"rerank": 0}) == {}
