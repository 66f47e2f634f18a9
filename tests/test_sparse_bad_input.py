"""A sparse or multi-vector adapter that returns the wrong width, NaN or an empty vector for a
non-empty text fails the run with one clear line, and nothing is stored.

The faults are injected into the output of the real adapters (a broken adapter cannot be
produced for real); everything else (data, cache, runner, store) is the real path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from adapters.base import Encoder, Side
from adapters.registry import load_model
from harness.cache import EmbeddingCache
from harness.embeddings import Embeddings, MultiVectorEmbeddings, SparseEmbeddings
from harness.errors import EmbeddingError
from harness.kinds.outcome import Context
from harness.runner import Runner
from harness.spec import RunSpec
from harness.store import Store
from tests.conftest import make_scifact_subset


def _break(e: Embeddings, fault: str) -> Embeddings:
    if isinstance(e, SparseEmbeddings):
        m = e.matrix.tocsr().copy()
        if fault == "dim":
            return SparseEmbeddings(m[:, :30000].tocsr(), e.vocabulary, e.weighting)
        if fault == "nan":
            m.data[m.indptr[1]] = np.nan  # first weight of item 1
            return SparseEmbeddings(m, e.vocabulary, e.weighting)
        rows = sp.diags([0.0 if i == 2 else 1.0 for i in range(m.shape[0])], format="csr")
        cleared = (rows @ m).tocsr()
        cleared.eliminate_zeros()
        return SparseEmbeddings(cleared, e.vocabulary, e.weighting)
    assert isinstance(e, MultiVectorEmbeddings)
    tokens = e.tokens.copy()
    if fault == "dim":
        return MultiVectorEmbeddings(tokens[:, :300], e.offsets)
    if fault == "nan":
        tokens[e.offsets[1]] = np.nan
        return MultiVectorEmbeddings(tokens, e.offsets)
    raise AssertionError(fault)


class Faulty:
    """The real adapter, with one fault injected into its document output."""

    def __init__(self, base: Encoder, fault: str) -> None:
        self.base, self.fault = base, fault
        self.meta = dataclasses.replace(base.meta, name=f"{base.meta.name}-faulty-{fault}")

    def encode(self, texts: Sequence[str], side: Side, *, batch_size: int = 32) -> Embeddings:
        out = self.base.encode(texts, side, batch_size=batch_size)
        return _break(out, self.fault) if side == "document" and len(texts) > 2 else out


@pytest.fixture(scope="module")
def tiny_root(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_scifact_subset(data_root, tmp_path_factory.mktemp("tiny"), n_queries=3,
                               n_extra_docs=6)


@pytest.fixture(scope="module")
def bases() -> dict[str, Encoder]:
    return {}  # one real adapter (one weight load) per model for the whole module


@pytest.mark.parametrize(("model", "fault", "message"), [
    ("faster-clip-sparse", "dim", "returned 30000-column sparse embeddings, its metadata says "
                                  "30522"),
    ("faster-clip-sparse", "nan", "NaN/inf weights for item 1"),
    ("faster-clip-sparse", "empty", "empty vector for non-empty text #2"),
    ("minilm-maxsim", "dim", "returned 300-d token vectors, its metadata says 384"),
    ("minilm-maxsim", "nan", "NaN/inf for item 1"),
])
def test_bad_adapter_output_fails_and_stores_nothing(model: str, fault: str, message: str,
                                                     tiny_root: Path, tmp_path: Path,
                                                     bases: dict[str, Encoder]) -> None:
    base = bases.setdefault(model, load_model(model))
    encoder = Faulty(base, fault)
    db = tmp_path / "bad.duckdb"
    with Store(db) as store:
        runner = Runner(store, Context(EmbeddingCache(tmp_path / "cache"), progress=False),
                        tiny_root, log=lambda _: None)
        runner._encoders[encoder.meta.name, "fp32"] = encoder  # the registry knows no faulty models
        with pytest.raises(EmbeddingError, match=message) as err:
            runner.run(RunSpec(encoder.meta.name, "SciFact"))
        assert "\n" not in str(err.value)
        for table in ("runs", "scores", "query_scores", "rankings"):
            assert store.count(table) == 0
    assert not list((tmp_path / "cache").rglob("*.npz"))  # the bad chunk was never cached


def test_query_and_document_widths_must_agree() -> None:
    from harness.search.sparse import sparse_search

    docs = SparseEmbeddings(sp.csr_matrix(np.ones((2, 5), np.float32)))
    queries = SparseEmbeddings(sp.csr_matrix(np.ones((1, 4), np.float32)))
    with pytest.raises(EmbeddingError, match="query dimension 4 != document dimension 5"):
        sparse_search(queries, docs, 1)
