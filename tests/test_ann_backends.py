"""faiss HNSW / IVF backends and their fidelity against exact search, on real SciFact vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.cache import EmbeddingCache
from harness.kinds.outcome import Context
from harness.runner import Runner
from harness.search.ann import fidelity
from harness.search.base import TopK
from harness.spec import Backend, RunSpec, SpecError
from harness.store import Store

MODEL = "all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def runner(scifact_subset: Path, shared_cache: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Runner:
    store = Store(tmp_path_factory.mktemp("ann") / "runs.duckdb")
    yield Runner(store, Context(EmbeddingCache(shared_cache), progress=False), scifact_subset,
                 log=lambda _: None)
    store.close()


def test_hnsw_recall_is_one_when_ef_search_covers_the_corpus(runner: Runner) -> None:
    exact = runner.run(RunSpec(MODEL, "SciFact", k=10))
    n_docs = exact.row["n_docs"]
    # k=10, so faiss' ef = max(efSearch, k) is efSearch itself: a candidate list as long as the
    # corpus over a well-connected graph (default M=32, efConstruction=200) reaches every node
    ann = runner.run(RunSpec(MODEL, "SciFact", backend=f"hnsw:efs={n_docs}", k=10))
    fid = ann.row["extra"]["fidelity"]
    assert fid["recall@10"] == 1.0
    assert fid["delta_ndcg_at_10"] == pytest.approx(0.0, abs=1e-12)
    assert fid["exact_ndcg_at_10"] == pytest.approx(exact.main_score, abs=1e-12)
    assert ann.main_score == pytest.approx(exact.main_score, abs=1e-12)
    assert ann.row["extra"]["backend"]["params"] == {"m": 32, "efc": 200, "efs": n_docs}


def test_starved_hnsw_reports_its_recall_loss(runner: Runner) -> None:
    # a 2-link graph searched with ef=10 misses true neighbours; fidelity must say so
    ann = runner.run(RunSpec(MODEL, "SciFact", backend="hnsw:m=2:efc=4:efs=10", k=10))
    fid = ann.row["extra"]["fidelity"]
    assert 0.0 < fid["recall@10"] < 1.0


def test_ivf_on_compressed_vectors_records_fidelity(runner: Runner) -> None:
    ann = runner.run(RunSpec(MODEL, "SciFact", compression="int8", backend="ivf:nlist=16:nprobe=2"))
    fid = ann.row["extra"]["fidelity"]
    assert 0.0 < fid["recall@100"] <= 1.0
    exact = runner.run(RunSpec(MODEL, "SciFact", compression="int8"))
    assert fid["exact_ndcg_at_10"] == pytest.approx(exact.main_score, abs=1e-9)
    assert fid["delta_ndcg_at_10"] == pytest.approx(ann.main_score - exact.main_score, abs=1e-12)
    assert ann.row["index_bytes"] > 0 and ann.row["bytes_per_doc"] == 384


def test_fidelity_counts_overlap() -> None:
    exact = TopK(np.array([[0, 1, 2, 3] + list(range(4, 100))]), np.zeros((1, 100)))
    ann = TopK(np.array([[0, 1, 9, 3] + [2] + list(range(5, 9)) + list(range(10, 101))]),
               np.zeros((1, 100)))
    fid = fidelity(ann, exact)
    assert fid["recall@10"] == pytest.approx(0.9)  # 4 missing from the ANN top 10
    assert fid["recall@100"] == pytest.approx(0.99)  # 4 missing, 100 extra


def test_backend_spec_parsing() -> None:
    hnsw = Backend.parse("hnsw:m=8:efs=64")
    assert (hnsw.build_params, hnsw.query_params) == ({"m": 8, "efc": 200}, {"efs": 64})
    assert str(hnsw) == "hnsw:m=8:efs=64"
    ivf = Backend.parse("ivf")
    assert (ivf.build_params, ivf.query_params) == ({"nlist": 0}, {"nprobe": 8})
    # one canonical value: defaults filled, parameters in declared order
    assert Backend.parse("hnsw:efs=128:efc=200:m=32") == Backend.parse("hnsw")
    assert str(Backend.parse("hnsw:efs=64:m=16")) == "hnsw:m=16:efs=64"
    for bad in ("hnsw:m=0", "hnsw:efs", "ivf:probe=3", "hnsw:m=x", "hnsw:m=8:m=9"):
        with pytest.raises(SpecError):
            Backend.parse(bad)
