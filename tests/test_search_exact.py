"""Blocked exact top-k equals a brute-force sort, whatever the block sizes."""

from __future__ import annotations

import numpy as np
import pytest

from harness.embeddings import DenseEmbeddings
from harness.search.exact import exact_search


@pytest.mark.parametrize("query_block,doc_block", [(512, 65536), (7, 13), (1, 1000)])
def test_blocked_topk_matches_bruteforce(query_block: int, doc_block: int) -> None:
    rng = np.random.default_rng(0)
    q = rng.normal(size=(23, 16)).astype(np.float32)
    d = rng.normal(size=(301, 16)).astype(np.float32)
    top = exact_search(DenseEmbeddings(q, "dot"), DenseEmbeddings(d, "dot"), k=50,
                       query_block=query_block, doc_block=doc_block)
    full = q @ d.T
    expected = np.argsort(-full, axis=1, kind="stable")[:, :50]
    np.testing.assert_array_equal(top.indices, expected)
    np.testing.assert_allclose(top.scores, np.take_along_axis(full, expected, 1), rtol=1e-5)


def test_cosine_normalises_and_k_larger_than_corpus() -> None:
    rng = np.random.default_rng(1)
    q = rng.normal(size=(3, 8)).astype(np.float32)
    d = rng.normal(size=(5, 8)).astype(np.float32) * 10
    top = exact_search(DenseEmbeddings(q), DenseEmbeddings(d), k=1000)
    assert top.indices.shape == (3, 5)
    assert np.all(top.scores <= 1.0 + 1e-6)
    assert np.all(np.diff(top.scores, axis=1) <= 1e-7)
