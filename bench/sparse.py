"""Sparse and multi-vector search speed on real SciFact (`make bench`, section "sparse").

Figures:
- BM25 queries/s of the harness's sparse path vs bm25s's own ``retrieve`` on the same index and
  the same 300 tokenised queries (goal: ratio >= 0.8). Both single-process, top-100.
- Sparse path vs the dense-equivalent product (the same vectors densified, blocked matmul) on
  faster-clip's real sparse vectors of 1,000 SciFact documents.
- Exact MaxSim throughput: (query, document) pairs scored per second over all-MiniLM-L6-v2 token
  embeddings (the full SciFact corpus when the shared cache holds it, else 128 documents).
Timings are the median of several repeats; nothing here asserts a speed.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

K = 100
REPEATS = 5


def _median_s(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def _scifact():  # noqa: ANN202 - RetrievalData
    from harness.data_root import resolve_data_root
    from harness.tasks.beir import load_beir
    from harness.tasks.registry import get_task, require_available

    task = get_task("SciFact")
    return load_beir(require_available(task, resolve_data_root()), task.split)


def _bm25(data) -> list[dict[str, Any]]:  # noqa: ANN001
    import bm25s

    from adapters.registry import load_model
    from harness.search.sparse import SparseIndex

    model = load_model("bm25")
    docs = model.encode(data.corpus_texts, "document")
    queries = model.encode(data.query_texts, "query")
    index = SparseIndex(docs)
    ours = _median_s(lambda: index.search(queries, K))

    retriever = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    retriever.index(model.terms(data.corpus_texts), show_progress=False)
    query_terms = model.terms(data.query_texts)
    theirs = _median_s(lambda: retriever.retrieve(query_terms, k=K, show_progress=False,
                                                  n_threads=0))
    n = len(data.query_ids)
    ratio = (n / ours) / (n / theirs)
    return [
        {"name": "BM25 harness sparse path, SciFact", "value": n / ours, "unit": "queries/s"},
        {"name": "BM25 bm25s.retrieve, same index", "value": n / theirs, "unit": "queries/s"},
        {"name": "BM25 harness / bm25s queries-per-second ratio", "value": ratio, "unit": "x",
         "goal": ">= 0.8", "meets_goal": ratio >= 0.8},
    ]


def _sparse_vs_dense(data) -> list[dict[str, Any]]:  # noqa: ANN001
    from adapters.registry import load_model
    from harness.embeddings import DenseEmbeddings
    from harness.search.exact import exact_search
    from harness.search.sparse import SparseIndex, align_queries, document_weights

    model = load_model("faster-clip-sparse")
    docs = model.encode(data.corpus_texts[:1000], "document")
    queries = model.encode(data.query_texts, "query")
    index = SparseIndex(docs)
    sparse_s = _median_s(lambda: index.search(queries, K))
    dense_q = DenseEmbeddings(align_queries(queries, docs).toarray(), "dot")
    dense_d = DenseEmbeddings(document_weights(docs).toarray(), "dot")
    dense_s = _median_s(lambda: exact_search(dense_q, dense_d, K))
    return [
        {"name": "sparse path, faster-clip vectors, 300 queries x 1000 docs", "value": sparse_s,
         "unit": "s"},
        {"name": "dense-equivalent matmul (30522-d), same vectors", "value": dense_s,
         "unit": "s"},
        {"name": "dense-equivalent time / sparse path time", "value": dense_s / sparse_s,
         "unit": "x"},
    ]


def _maxsim(data) -> tuple[list[dict[str, Any]], list[str]]:  # noqa: ANN001
    from adapters.registry import load_model
    from harness.cache import EmbeddingCache
    from harness.data_root import results_root
    from harness.search.maxsim import maxsim_search

    model = load_model("minilm-maxsim")
    cache = EmbeddingCache(results_root() / "cache")
    texts = data.corpus_texts
    note = "MaxSim over the full SciFact corpus token embeddings (shared cache)"
    if not cache.is_complete(model, texts, "document"):
        texts = texts[:128]
        note = "MaxSim over 128 SciFact documents (full-corpus tokens not cached yet)"
    docs = cache.encode(model, texts, "document").embeddings
    queries = cache.encode(model, data.query_texts[:50], "query").embeddings
    seconds = _median_s(lambda: maxsim_search(queries, docs, K), repeats=1)
    pairs = len(queries) * len(docs)
    return ([{"name": "exact MaxSim throughput (MiniLM tokens, fp16 stored, fp32 math)",
              "value": pairs / seconds, "unit": "docs/s (query-document pairs)"},
             {"name": "MaxSim bytes per document (token matrices)",
              "value": docs.nbytes / len(docs), "unit": "bytes"}],
            [note + f": {len(queries)} queries x {len(docs)} documents in {seconds:.2f} s"])


def run(out_dir: Path) -> dict[str, Any]:
    data = _scifact()
    figures = _bm25(data) + _sparse_vs_dense(data)
    maxsim_figures, notes = _maxsim(data)
    return {"figures": figures + maxsim_figures,
            "notes": ["single process, 2 shared cores: absolute numbers vary with load; the "
                      "ratios are the stable part", *notes]}
