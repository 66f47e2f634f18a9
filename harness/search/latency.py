"""Search cost of a built index: single-query latency and batch throughput.

Every backend is measured the same way: one warm-up search (first-call costs: lazy imports, page
faults, thread-pool start-up) is excluded, then every test query is searched alone (p50/p95
latency), then all queries at once (queries/s). The batch result is the ranking that is evaluated.
Thread counts of the libraries that did the work are reported with the figures.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.embeddings import Embeddings
from harness.search.base import Searcher, TopK
from harness.search.registry import take


@dataclass
class SearchCost:
    top: TopK  # the batch ranking of all queries
    p50_ms: float
    p95_ms: float
    batch_s: float
    qps: float
    warmup_ms: float
    threads: dict[str, int]  # batch search; single-query latency runs on 1 thread


def threads() -> dict[str, int]:
    """Threads the search libraries were allowed: BLAS (numpy), OpenMP (faiss), torch."""
    from threadpoolctl import threadpool_info

    out: dict[str, int] = {}
    for pool in threadpool_info():
        out[f"{pool['user_api']}:{pool['internal_api']}"] = int(pool["num_threads"])
    with contextlib.suppress(ImportError):
        out["faiss_omp"] = int(importlib.import_module("faiss").omp_get_max_threads())
    return out


def measure(searcher: Searcher, queries: Embeddings, k: int,
            query_params: Mapping[str, Any]) -> SearchCost:
    """Time a BUILT index (building is timed, and shared, by the caller)."""
    n = len(queries)
    began = time.perf_counter()
    searcher.search(take(queries, slice(0, 1)), k, query_params)  # warm-up, excluded
    warmup_ms = 1000 * (time.perf_counter() - began)
    samples = np.empty(n)
    # One query at a time on one thread, as ann-benchmarks does: a lone query cannot use a second
    # core well, and on a shared machine waking BLAS/OpenMP workers per query adds ms of jitter.
    with _single_thread():
        for i in range(n):
            one = take(queries, slice(i, i + 1))
            t0 = time.perf_counter()
            searcher.search(one, k, query_params)
            samples[i] = time.perf_counter() - t0
    began = time.perf_counter()
    top = searcher.search(queries, k, query_params)
    batch_s = time.perf_counter() - began
    return SearchCost(
        top=top,
        p50_ms=float(1000 * np.percentile(samples, 50)) if n else 0.0,
        p95_ms=float(1000 * np.percentile(samples, 95)) if n else 0.0,
        batch_s=batch_s, qps=n / batch_s if batch_s > 0 else float("inf"),
        warmup_ms=warmup_ms, threads=threads())


@contextlib.contextmanager
def _single_thread() -> Iterator[None]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield
