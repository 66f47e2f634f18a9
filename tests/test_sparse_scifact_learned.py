"""Learned sparse models end to end on full SciFact, through the CLI and the shared cache.

SPLADE BERT-tiny takes minutes to encode full SciFact cold on 2 cores (this test took 11 before
the blocked pooling of adapters/splade_pooling.py, which encodes ~2.8x faster), so this is a slow
test; faster-clip's inference-free lookup runs in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pytest

from adapters.registry import load_model
from harness.cache import EmbeddingCache
from harness.embeddings import DenseEmbeddings
from harness.search.exact import exact_search
from harness.search.sparse import align_queries, document_weights
from harness.tasks.beir import load_beir
from harness.tasks.registry import get_task, require_available
from tests.helpers import run_cli


@pytest.mark.slow
@pytest.mark.parametrize("model", ["splade-bert-tiny", "faster-clip-sparse"])
def test_learned_sparse_scifact_end_to_end(model: str, data_root: Path, shared_cache: Path,
                                           tmp_path: Path) -> None:
    db = tmp_path / "sparse.duckdb"
    result = run_cli(model, "SciFact", data_root, db, shared_cache)
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    key, family, score, extra = con.execute(
        "SELECT run_key, family, main_score, extra FROM runs").fetchone()
    stored = con.execute("SELECT query_id, doc_id, score FROM rankings WHERE rank = 1").fetchall()
    con.close()
    index = json.loads(extra)["index"]
    print(model, score, index)  # the figures the report quotes
    assert family == "sparse" and 0.05 < score < 0.9
    assert index["nnz_per_doc"]["mean"] > index["nnz_per_query"]["mean"] > 1
    assert 0 < index["expected_flops_per_query"] < 5183

    # The stored top-1 equals a dense dot product over the very same cached vectors.
    task = get_task("SciFact")
    data = load_beir(require_available(task, data_root), task.split)
    encoder, cache = load_model(model), EmbeddingCache(shared_cache)
    docs = cache.encode(encoder, data.corpus_texts, "document")
    queries = cache.encode(encoder, data.query_texts, "query")
    assert docs.from_cache and queries.from_cache
    q = DenseEmbeddings(align_queries(queries.embeddings, docs.embeddings).toarray(), "dot")
    d = DenseEmbeddings(document_weights(docs.embeddings).toarray(), "dot")
    dense = exact_search(q, d, 2, doc_block=1024)
    best = {qid: (data.corpus_ids[i[0]], s) for qid, i, s in
            zip(data.query_ids, dense.indices, dense.scores, strict=True)}
    for qid, doc, top_score in stored:
        assert top_score == pytest.approx(float(best[qid][1][0]), rel=1e-5)
        gap = best[qid][1][0] - best[qid][1][1]
        if gap > 1e-4:  # not tied with the runner-up
            assert doc == best[qid][0]
    assert np.isfinite(score)
