"""Compressed dense embeddings (fp16, int8, binary, PQ, IVF-PQ) and their exact search.

``QuantizedEmbeddings`` holds exactly the bytes an index would store per item (``codes``) plus
what is needed to score them; ``nbytes`` is therefore the true index size. Exact search scores each
scheme the way it is meant to be used: fp16 and int8 are decoded (dequantised) and compared by the
model's similarity; binary codes by Hamming distance (faiss ``IndexBinaryFlat``), optionally
re-scored with the float query against the top-N; PQ codes by asymmetric distance (faiss).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from harness.embeddings import DenseEmbeddings, Embeddings
from harness.errors import EmbeddingError
from harness.search.base import TopK, merge_topk
from harness.search.exact import exact_search

# faiss' OpenMP threads spin while waiting by default; on a machine shared with other jobs that
# made PQ training 5x slower with 2 threads than with 1. Passive waiting removes that (set before
# faiss, imported lazily below, loads its OpenMP runtime; a user's own setting wins).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

Scheme = Literal["fp16", "int8", "binary", "pq", "ivfpq"]
IVF_ID_BYTES = 8  # faiss inverted lists store an int64 id beside every code


def normalise(v: np.ndarray) -> np.ndarray:
    v = np.ascontiguousarray(v, dtype=np.float32)
    return v / np.clip(np.linalg.norm(v, axis=1, keepdims=True), 1e-12, None)


@dataclass(frozen=True, eq=False)
class QuantizedEmbeddings:
    codes: np.ndarray  # what is stored per item: float16, int8, packed sign bits or PQ codes
    scheme: Scheme
    dim: int  # dimension of the decoded vectors
    similarity: str = "cosine"
    scale: np.ndarray | None = None  # int8: per-dimension step (corpus-calibrated)
    offset: np.ndarray | None = None  # int8: per-dimension minimum
    index: Any = None  # pq/ivfpq: the trained faiss index holding the corpus codes
    rescore: int = 0  # binary documents: re-score this many Hamming candidates (0: none)
    floats: np.ndarray | None = None  # binary queries: the float query, for re-scoring

    kind = "quantized"

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    @property
    def nbytes(self) -> int:
        if self.scheme == "ivfpq":  # inverted lists: code + id per document
            return int(self.codes.shape[0] * (self.index.code_size + IVF_ID_BYTES))
        if self.scheme == "pq":
            return int(self.codes.shape[0] * self.index.code_size)
        return int(self.codes.nbytes)

    def validate(self, n: int, texts: Sequence[str] = ()) -> None:
        if len(self) != n:
            raise EmbeddingError(f"compressed embeddings hold {len(self)} items, expected {n}")

    def take(self, rows: slice) -> QuantizedEmbeddings:
        floats = None if self.floats is None else self.floats[rows]
        return QuantizedEmbeddings(self.codes[rows], self.scheme, self.dim, self.similarity,
                                   self.scale, self.offset, self.index, self.rescore, floats)

    def decode(self) -> np.ndarray:
        """The float vectors these codes stand for (binary: +-1 per bit)."""
        if self.scheme == "fp16":
            return self.codes.astype(np.float32)
        if self.scheme == "int8":
            assert self.scale is not None and self.offset is not None
            return (self.codes.astype(np.float32) + 128.0) * self.scale + self.offset
        if self.scheme == "binary":
            bits = np.unpackbits(self.codes, axis=1, count=self.dim)
            return bits.astype(np.float32) * 2.0 - 1.0
        return np.asarray(self.index.sa_decode(self.codes), dtype=np.float32)


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
    return normalise(v) if sim == "cosine" else np.ascontiguousarray(v, dtype=np.float32)


def _faiss_topk(scores: np.ndarray, idx: np.ndarray) -> TopK:
    return TopK(idx.astype(np.int64), scores.astype(np.float32))


class QuantizedSearcher:
    """Exact search over compressed documents; built once, then searched by query rows."""

    def __init__(self, queries: Embeddings, docs: QuantizedEmbeddings) -> None:
        import faiss

        self.docs = docs
        self.n_queries = len(queries)
        self.scheme = docs.scheme
        if docs.scheme in ("fp16", "int8"):
            if not isinstance(queries, QuantizedEmbeddings):
                raise EmbeddingError(f"{docs.scheme} documents need {docs.scheme} queries")
            self.q = DenseEmbeddings(_cos(queries.decode(), docs.similarity), "dot")
            self.d = DenseEmbeddings(_cos(docs.decode(), docs.similarity), "dot")
            self.index_bytes = docs.nbytes
        elif docs.scheme == "binary":
            if not isinstance(queries, QuantizedEmbeddings) or queries.scheme != "binary":
                raise EmbeddingError("binary documents need binary queries")
            self.qcodes = np.ascontiguousarray(queries.codes)
            self.qfloat = (None if queries.floats is None
                           else _cos(queries.floats, docs.similarity))
            self.bindex = faiss.IndexBinaryFlat(docs.dim)
            self.bindex.add(np.ascontiguousarray(docs.codes))
            self.index_bytes = docs.nbytes
        else:
            self.qf = as_float(queries)
            self.index_bytes = docs.nbytes

    def search(self, rows: slice, k: int) -> TopK:
        docs = self.docs
        k = min(k, len(docs))
        if self.scheme in ("fp16", "int8"):
            q = DenseEmbeddings(self.q.vectors[rows], "dot")
            return exact_search(q, self.d, k)
        if self.scheme == "binary":
            depth = max(k, docs.rescore) if docs.rescore else k
            depth = min(depth, len(docs))
            dist, idx = self.bindex.search(self.qcodes[rows], depth)
            if not docs.rescore or self.qfloat is None:
                # dim - 2 * Hamming is the dot product of the +-1 vectors: higher is better
                return _faiss_topk(docs.dim - 2.0 * dist, idx)
            return _rescore(self.qfloat[rows], docs, idx, k)
        scores, idx = docs.index.search(self.qf[rows], k)
        return _faiss_topk(scores, idx)


def _cos(v: np.ndarray, similarity: str) -> np.ndarray:
    return normalise(v) if similarity == "cosine" else np.ascontiguousarray(v, np.float32)


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


def quantized_search(queries: Embeddings, docs: QuantizedEmbeddings, k: int) -> TopK:
    """The exact backend's entry point for the ``quantized`` embedding kind."""
    return QuantizedSearcher(queries, docs).search(slice(None), k)
