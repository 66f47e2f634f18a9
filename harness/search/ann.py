"""Approximate search with faiss: HNSW and IVF over dense (or decoded compressed) vectors.

Backend specs, parameters as ``key=value`` separated by ``:`` (so sweep lists can use commas):

    hnsw[:m=32][:efc=200][:efs=128]      faiss IndexHNSWFlat: M links, efConstruction, efSearch
    ivf[:nlist=N][:nprobe=8]             faiss IndexIVFFlat; nlist defaults to sqrt(corpus size)

faiss searches HNSW with ef = max(efSearch, k), so a deep ranking (k=1000) already searches widely.
Compressed documents are indexed by their decoded vectors, so the ANN error adds to the
compression error; the fidelity numbers isolate the ANN part (same vectors, exact vs ANN).
"""

from __future__ import annotations

import math

import numpy as np

from harness.embeddings import Embeddings
from harness.errors import HarnessError
from harness.search.base import TopK
from harness.search.quantized import as_float

PARAMS = {"hnsw": {"m": 32, "efc": 200, "efs": 128}, "ivf": {"nlist": 0, "nprobe": 8}}


class BackendSpecError(HarnessError):
    pass


def parse_backend(name: str) -> tuple[str, dict[str, int]]:
    head, *parts = name.split(":")
    if head not in PARAMS:
        raise BackendSpecError(f"unknown backend '{name}' (allowed: exact, "
                               "hnsw[:m=M][:efc=N][:efs=N], ivf[:nlist=N][:nprobe=N])")
    params = dict(PARAMS[head])
    for part in parts:
        key, eq, value = part.partition("=")
        if key not in params or not eq or not value.isdigit() or int(value) < 1:
            raise BackendSpecError(
                f"invalid backend '{name}': '{part}' (allowed for {head}: "
                + ", ".join(f"{k}=<positive int>" for k in PARAMS[head]) + ")")
        params[key] = int(value)
    return head, params


class FaissSearcher:
    """A built faiss index plus the query vectors; searched by query rows."""

    def __init__(self, index, queries: np.ndarray, build_s: float) -> None:  # noqa: ANN001
        import faiss

        self.index = index
        self.queries = queries
        self.n_queries = int(queries.shape[0])
        self.build_s = build_s
        self.index_bytes = int(faiss.serialize_index(index).nbytes)

    def search(self, rows: slice, k: int) -> TopK:
        k = min(k, self.index.ntotal)
        scores, idx = self.index.search(self.queries[rows], k)
        return TopK(idx.astype(np.int64), scores.astype(np.float32))


class _FaissBackend:
    kind = ""

    def __init__(self, name: str) -> None:
        self.name = name
        _, self.params = parse_backend(name)
        self.stats: dict[str, object] = {}

    def build(self, queries: Embeddings, docs: Embeddings) -> FaissSearcher:
        import time

        d, q = as_float(docs), as_float(queries)
        began = time.perf_counter()
        index = self._index(d)
        searcher = FaissSearcher(index, q, time.perf_counter() - began)
        self.stats = {"backend": self.kind, "params": self._effective(d.shape[0]),
                      "build_s": searcher.build_s, "index_bytes": searcher.index_bytes}
        return searcher

    def search(self, queries: Embeddings, docs: Embeddings, k: int) -> TopK:
        return self.build(queries, docs).search(slice(None), k)

    def _effective(self, n: int) -> dict[str, int]:
        return dict(self.params)

    def _index(self, d: np.ndarray):  # noqa: ANN202
        raise NotImplementedError


class HnswBackend(_FaissBackend):
    kind = "hnsw"

    def _index(self, d: np.ndarray):  # noqa: ANN202
        import faiss

        index = faiss.IndexHNSWFlat(d.shape[1], self.params["m"], faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = self.params["efc"]
        index.hnsw.efSearch = self.params["efs"]
        index.add(d)
        return index


class IvfBackend(_FaissBackend):
    kind = "ivf"

    def _effective(self, n: int) -> dict[str, int]:
        return {"nlist": self.params["nlist"] or max(1, int(round(math.sqrt(n)))),
                "nprobe": self.params["nprobe"]}

    def _index(self, d: np.ndarray):  # noqa: ANN202
        import faiss

        p = self._effective(d.shape[0])
        quantizer = faiss.IndexFlatIP(d.shape[1])
        index = faiss.IndexIVFFlat(quantizer, d.shape[1], p["nlist"], faiss.METRIC_INNER_PRODUCT)
        index.train(d)
        index.add(d)
        index.nprobe = min(p["nprobe"], p["nlist"])
        return index


def fidelity(ann: TopK, exact: TopK) -> dict[str, float]:
    """Recall@10/@100 of the exact top-k among the ANN top-k, averaged over queries."""
    out: dict[str, float] = {}
    for depth in (10, 100):
        hits = []
        for a, e in zip(ann.indices, exact.indices, strict=True):
            truth = {int(i) for i in e[:depth] if i >= 0}
            if truth:
                found = {int(i) for i in a[:depth] if i >= 0}
                hits.append(len(truth & found) / len(truth))
        out[f"recall@{depth}"] = float(np.mean(hits)) if hits else float("nan")
    return out
