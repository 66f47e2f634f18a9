"""Search cost: build an index once, then time single-query latency and batch throughput.

Every backend is measured the same way: one warm-up search (first-call costs: lazy imports, page
faults, thread-pool start-up) is excluded, then every test query is searched alone (p50/p95
latency), then all queries at once (queries/s). The batch result is the ranking that is evaluated.
Thread counts of the libraries that did the work are reported with the figures.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from harness.embeddings import DenseEmbeddings, Embeddings
from harness.search.base import TopK
from harness.search.exact import exact_search
from harness.search.quantized import QuantizedEmbeddings, QuantizedSearcher, normalise


class Searcher(Protocol):
    n_queries: int
    index_bytes: int

    def search(self, rows: slice, k: int) -> TopK: ...


class DenseExactSearcher:
    """Exact dense search with the documents normalised once, not on every query."""

    def __init__(self, queries: DenseEmbeddings, docs: DenseEmbeddings) -> None:
        def prep(e: DenseEmbeddings) -> DenseEmbeddings:
            v = normalise(e.vectors) if e.similarity == "cosine" else e.vectors
            return DenseEmbeddings(np.ascontiguousarray(v, dtype=np.float32), "dot")

        self.q, self.d = prep(queries), prep(docs)
        self.n_queries = len(queries)
        self.index_bytes = docs.nbytes

    def search(self, rows: slice, k: int) -> TopK:
        return exact_search(DenseEmbeddings(self.q.vectors[rows], "dot"), self.d, k)


class GenericSearcher:
    """Any other backend/kind: every call goes through ``backend.search`` with a query slice."""

    def __init__(self, backend: object, queries: Embeddings, docs: Embeddings) -> None:
        self.backend, self.queries, self.docs = backend, queries, docs
        self.n_queries = len(queries)
        self.index_bytes = docs.nbytes

    def search(self, rows: slice, k: int) -> TopK:
        return self.backend.search(take(self.queries, rows), self.docs, k)  # type: ignore[attr-defined]


class IndexSearcher:
    """An index object with ``search(queries, k)`` (e.g. the sparse inverted index)."""

    def __init__(self, index: object, queries: Embeddings, index_bytes: int) -> None:
        self.index, self.queries = index, queries
        self.n_queries = len(queries)
        self.index_bytes = index_bytes

    def search(self, rows: slice, k: int) -> TopK:
        return self.index.search(take(self.queries, rows), k)  # type: ignore[attr-defined]


def take(e: Embeddings, rows: slice) -> Embeddings:
    """Rows of any embedding type (a query slice); other fields (vocabulary...) are kept."""
    if isinstance(e, DenseEmbeddings):
        return replace(e, vectors=e.vectors[rows])
    if isinstance(e, QuantizedEmbeddings):
        return e.take(rows)
    if e.kind == "sparse":
        return replace(e, matrix=e.matrix[rows])  # type: ignore[call-arg,union-attr]
    start, stop, _ = rows.indices(len(e))
    offsets = e.offsets[start:stop + 1]  # type: ignore[union-attr]
    return replace(e, tokens=e.tokens[offsets[0]:offsets[-1]],  # type: ignore[call-arg,union-attr]
                   offsets=offsets - offsets[0])


def searcher_for(backend: object, queries: Embeddings, docs: Embeddings) -> Searcher:
    """A built index for ``backend``: its own ``build`` (faiss), the prepared exact searchers
    for dense/compressed vectors, the ``build_searcher(queries, docs)`` of the module the exact
    backend dispatches a kind to (so sparse/multi-vector indexes are built once), else per-call
    ``search``."""
    build = getattr(backend, "build", None)
    if build is not None:
        return build(queries, docs)
    if getattr(backend, "name", "") == "exact":
        if isinstance(docs, QuantizedEmbeddings):
            return QuantizedSearcher(queries, docs)
        if isinstance(docs, DenseEmbeddings) and isinstance(queries, DenseEmbeddings):
            return DenseExactSearcher(queries, docs)
        target = getattr(backend, "by_kind", {}).get(docs.kind, "")
        module = importlib.import_module(target.partition(":")[0]) if target else None
        if module is not None and hasattr(module, "build_searcher"):
            return module.build_searcher(queries, docs)
        if module is not None and hasattr(module, "SparseIndex"):  # inverted index, built once
            index = module.SparseIndex(docs)
            return IndexSearcher(index, queries, getattr(index, "nbytes", docs.nbytes))
    return GenericSearcher(backend, queries, docs)


@dataclass
class SearchCost:
    top: TopK  # the batch ranking of all queries
    build_s: float
    index_bytes: int
    p50_ms: float
    p95_ms: float
    batch_s: float
    qps: float
    warmup_ms: float
    threads: dict[str, int]  # batch search; single-query latency runs on 1 thread


def threads() -> dict[str, int]:
    """Threads the search libraries were allowed: BLAS (numpy), OpenMP (faiss), torch."""
    out: dict[str, int] = {}
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            out[f"{pool['user_api']}:{pool['internal_api']}"] = int(pool["num_threads"])
    except ImportError:  # threadpoolctl ships with scikit-learn; optional here
        pass
    with contextlib.suppress(ImportError):
        out["faiss_omp"] = int(importlib.import_module("faiss").omp_get_max_threads())
    return out


def measure(backend: object, queries: Embeddings, docs: Embeddings, k: int) -> SearchCost:
    began = time.perf_counter()
    searcher = searcher_for(backend, queries, docs)
    build_s = time.perf_counter() - began
    n = searcher.n_queries
    began = time.perf_counter()
    searcher.search(slice(0, 1), k)  # warm-up, excluded
    warmup_ms = 1000 * (time.perf_counter() - began)
    samples = np.empty(n)
    # One query at a time on one thread, as ann-benchmarks does: a lone query cannot use a second
    # core well, and on a shared machine waking BLAS/OpenMP workers per query adds ms of jitter.
    with _single_thread():
        for i in range(n):
            t0 = time.perf_counter()
            searcher.search(slice(i, i + 1), k)
            samples[i] = time.perf_counter() - t0
    began = time.perf_counter()
    top = searcher.search(slice(None), k)
    batch_s = time.perf_counter() - began
    return SearchCost(
        top=top, build_s=build_s, index_bytes=int(searcher.index_bytes),
        p50_ms=float(1000 * np.percentile(samples, 50)) if n else 0.0,
        p95_ms=float(1000 * np.percentile(samples, 95)) if n else 0.0,
        batch_s=batch_s, qps=n / batch_s if batch_s > 0 else float("inf"),
        warmup_ms=warmup_ms, threads=threads())


@contextlib.contextmanager
def _single_thread() -> Iterator[None]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # then latency runs with the batch's threads
        yield
        return
    with threadpool_limits(limits=1):
        yield
