"""Exact search over compressed dense embeddings (``harness.embeddings.QuantizedEmbeddings``).

Each scheme is scored the way it is meant to be used: fp16, fp8, int8 and int4 are decoded
(dequantised) and compared by the model's similarity; binary codes by Hamming distance (faiss
``IndexBinaryFlat``), optionally re-scored with the float query against the top-N; PQ codes by
asymmetric distance (faiss).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from harness.embeddings import DenseEmbeddings, Embeddings, QuantizedEmbeddings, for_similarity
from harness.errors import EmbeddingError
from harness.search.base import TopK, merge_topk
from harness.search.exact import exact_search

DECODED = ("fp16", "fp8", "int8", "int4")  # searched as dequantised float vectors

# faiss' OpenMP threads spin while waiting by default; on a machine shared with other jobs that
# made PQ training 5x slower with 2 threads than with 1. Passive waiting removes that (set before
# faiss, imported lazily below, loads its OpenMP runtime; a user's own setting wins).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

def as_float(e: Embeddings) -> np.ndarray:
    """Float vectors to index with an ANN backend, normalised when the similarity is cosine.

    Binary queries that carry a float query (re-scoring) are searched with it: the asymmetric
    float-query x sign-bit score is what re-scoring computes.
    """
    if isinstance(e, DenseEmbeddings):
        v, sim = e.vectors, e.similarity
    elif isinstance(e, QuantizedEmbeddings):
        v = e.floats if e.floats is not None else e.decode()
        # PQ scores are q . decode(code) (asymmetric distance): renormalising the decoded
        # vectors would rank differently from the exact search on the same codes
        sim = "dot" if e.scheme in ("pq", "ivfpq") else e.similarity
    else:
        raise EmbeddingError(f"ANN backends index dense vectors, not {e.kind} embeddings")
    return for_similarity(v, sim)


def _faiss_topk(scores: np.ndarray, idx: np.ndarray) -> TopK:
    return TopK(idx.astype(np.int64), scores.astype(np.float32))


class QuantizedSearcher:
    """Exact search over compressed documents; built once, then searched by query batches."""

    def __init__(self, docs: QuantizedEmbeddings) -> None:
        import faiss

        self.docs = docs
        self.scheme = docs.scheme
        self.index_bytes = docs.nbytes
        if docs.scheme in DECODED:
            self.d = DenseEmbeddings(for_similarity(docs.decode(), docs.similarity), "dot")
        elif docs.scheme == "binary":
            self.bindex = faiss.IndexBinaryFlat(docs.dim)
            self.bindex.add(np.ascontiguousarray(docs.codes))

    def search(self, queries: Embeddings, k: int, query_params: Mapping[str, Any]) -> TopK:
        docs = self.docs
        k = min(k, len(docs))
        if self.scheme in DECODED:
            if not isinstance(queries, QuantizedEmbeddings) or queries.scheme != self.scheme:
                raise EmbeddingError(f"{self.scheme} documents need {self.scheme} queries")
            q = DenseEmbeddings(for_similarity(queries.decode(), docs.similarity), "dot")
            return exact_search(q, self.d, k)
        if self.scheme == "binary":
            if not isinstance(queries, QuantizedEmbeddings) or queries.scheme != "binary":
                raise EmbeddingError("binary documents need binary queries")
            depth = min(max(k, docs.rescore) if docs.rescore else k, len(docs))
            dist, idx = self.bindex.search(np.ascontiguousarray(queries.codes), depth)
            if not docs.rescore or queries.floats is None:
                # dim - 2 * Hamming is the dot product of the +-1 vectors: higher is better
                return _faiss_topk(docs.dim - 2.0 * dist, idx)
            return _rescore(for_similarity(queries.floats, docs.similarity), docs, idx, k)
        scores, idx = docs.index.search(as_float(queries), k)
        return _faiss_topk(scores, idx)


_BITS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).astype(np.float32)


def _rescore(q: np.ndarray, docs: QuantizedEmbeddings, cand: np.ndarray, k: int) -> TopK:
    """Float query x +-1 document bits over the Hamming candidates, straight from the packed
    codes (memory stays at dim/8 bytes per document): per query, a table of the query's sum
    over each possible byte value turns every score into ``dim/8`` look-ups."""
    n_bytes = docs.codes.shape[1]
    scores = np.empty(cand.shape, dtype=np.float32)
    cols = np.arange(n_bytes)
    for i in range(cand.shape[0]):
        qi = np.zeros(n_bytes * 8, dtype=np.float32)
        qi[:docs.dim] = q[i]
        table = _BITS @ qi.reshape(n_bytes, 8).T  # (256, n_bytes): sum of q over set bits
        positive = table[docs.codes[cand[i]], cols].sum(axis=1)
        scores[i] = 2.0 * positive - qi.sum()  # +1 for set bits, -1 for the others
    best_s, best_i = merge_topk(scores, cand.astype(np.int64), k)
    return TopK(best_i.astype(np.int64), best_s.astype(np.float32))
