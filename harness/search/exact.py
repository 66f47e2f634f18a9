"""Exact dense top-k by blocked matrix products: memory stays bounded for any corpus size."""

from __future__ import annotations

import numpy as np

from harness.embeddings import DenseEmbeddings
from harness.search.base import TopK, merge_topk


def _prepare(e: DenseEmbeddings) -> np.ndarray:
    v = np.ascontiguousarray(e.vectors, dtype=np.float32)
    if e.similarity == "cosine":
        v = v / np.clip(np.linalg.norm(v, axis=1, keepdims=True), 1e-12, None)
    return v


def exact_search(queries: DenseEmbeddings, docs: DenseEmbeddings, k: int = 1000, *,
                 query_block: int = 512, doc_block: int = 65536) -> TopK:
    q, d = _prepare(queries), _prepare(docs)
    if q.shape[1] != d.shape[1]:
        raise ValueError(f"query dim {q.shape[1]} != document dim {d.shape[1]}")
    k = min(k, d.shape[0])
    all_scores = np.empty((q.shape[0], k), dtype=np.float32)
    all_idx = np.empty((q.shape[0], k), dtype=np.int64)
    for qs in range(0, q.shape[0], query_block):
        best_s = np.empty((min(query_block, q.shape[0] - qs), 0), dtype=np.float32)
        best_i = np.empty((best_s.shape[0], 0), dtype=np.int64)
        for ds in range(0, d.shape[0], doc_block):
            block = q[qs:qs + query_block] @ d[ds:ds + doc_block].T
            idx = np.broadcast_to(np.arange(ds, ds + block.shape[1]), block.shape)
            best_s, best_i = merge_topk(np.hstack([best_s, block]), np.hstack([best_i, idx]), k)
        all_scores[qs:qs + best_s.shape[0]] = best_s
        all_idx[qs:qs + best_s.shape[0]] = best_i
    return TopK(all_idx, all_scores)
