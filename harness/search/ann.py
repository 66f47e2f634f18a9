"""Approximate search with faiss: HNSW and IVF over dense (or decoded compressed) vectors.

Backend specs (parsed by ``harness.spec.Backend``; build parameters, then query parameters):

    hnsw[:m=32][:efc=200] [:efs=128]     faiss IndexHNSWFlat: M links, efConstruction | efSearch
    ivf[:nlist=N]         [:nprobe=8]    faiss IndexIVFFlat; nlist defaults to sqrt(corpus size)

faiss searches HNSW with ef = max(efSearch, k), so a deep ranking (k=1000) already searches widely.
Compressed documents are indexed by their decoded vectors, so the ANN error adds to the
compression error; the fidelity numbers isolate the ANN part (same vectors, exact vs ANN).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from harness.embeddings import Embeddings
from harness.search.base import TopK, overlap_recall
from harness.search.quantized import as_float


class FaissSearcher:
    """A built faiss index; query parameters are set on each search, never rebuilt for."""

    def __init__(self, kind: str, index: Any, params: dict[str, int], build_s: float) -> None:
        import faiss

        self.kind, self.index, self.params, self.build_s = kind, index, params, build_s
        self.index_bytes = int(faiss.serialize_index(index).nbytes)

    def search(self, queries: Embeddings, k: int, query_params: Mapping[str, Any]) -> TopK:
        if self.kind == "hnsw":
            self.index.hnsw.efSearch = int(query_params["efs"])
        else:
            self.index.nprobe = min(int(query_params["nprobe"]), self.params["nlist"])
        k = min(k, self.index.ntotal)
        scores, idx = self.index.search(as_float(queries), k)
        return TopK(idx.astype(np.int64), scores.astype(np.float32))

    def describe(self, queries: Embeddings, query_params: Mapping[str, Any]) -> dict[str, Any]:
        return {"backend": self.kind, "params": {**self.params, **query_params},
                "build_s": self.build_s, "index_bytes": self.index_bytes}


def build_hnsw(docs: Embeddings, build_params: Mapping[str, Any]) -> FaissSearcher:
    """faiss IndexHNSWFlat; faiss searches with ef = max(efSearch, k)."""
    import faiss

    d = as_float(docs)
    began = time.perf_counter()
    index = faiss.IndexHNSWFlat(d.shape[1], int(build_params["m"]), faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = int(build_params["efc"])
    index.add(d)
    return FaissSearcher("hnsw", index, dict(build_params), time.perf_counter() - began)


def build_ivf(docs: Embeddings, build_params: Mapping[str, Any]) -> FaissSearcher:
    """faiss IndexIVFFlat; nlist 0 means sqrt(corpus size)."""
    import faiss

    d = as_float(docs)
    began = time.perf_counter()
    nlist = int(build_params["nlist"]) or max(1, int(round(math.sqrt(d.shape[0]))))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d.shape[1]), d.shape[1], nlist,
                               faiss.METRIC_INNER_PRODUCT)
    index.train(d)
    index.add(d)
    return FaissSearcher("ivf", index, {"nlist": nlist}, time.perf_counter() - began)


def fidelity(ann: TopK, exact: TopK) -> dict[str, float]:
    """Recall@10/@100 of the exact top-k among the ANN top-k, averaged over queries."""
    return {f"recall@{depth}": overlap_recall(ann.indices[:, :depth], exact.indices[:, :depth])
            for depth in (10, 100)}
