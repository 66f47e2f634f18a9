"""Exact dense top-k by blocked matrix products: memory stays bounded for any corpus size.

Documents are never copied as a whole: cosine similarity divides each block of raw inner
products by that block's document norms (computed per block), and each block keeps only its
own top-k candidates (``np.argpartition``) before a final merge. Peak extra memory is therefore
one score block (``query_block x doc_block`` fp32) plus ``n_blocks x k`` candidates per query,
whatever N is. The same loop serves a matrix in memory and a stream of chunk files
(``search_blocks``), so a corpus larger than memory is searched one chunk at a time.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from harness.embeddings import DenseEmbeddings
from harness.search.base import TopK, merge_topk


def _as_f32(v: np.ndarray) -> np.ndarray:
    return v if v.dtype == np.float32 else v.astype(np.float32)


def _normalised(v: np.ndarray) -> np.ndarray:
    return v / np.clip(np.linalg.norm(v, axis=1, keepdims=True), 1e-12, None)


def _block_top(scores: np.ndarray, offset: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The (unsorted) k best columns of each row of one score block, as corpus positions."""
    if scores.shape[1] <= k:
        idx = np.broadcast_to(np.arange(offset, offset + scores.shape[1]), scores.shape)
        return scores, idx
    part = np.argpartition(scores, scores.shape[1] - k, axis=1)[:, -k:]
    return np.take_along_axis(scores, part, axis=1), part + offset


class _Candidates:
    """Per query, the best k seen so far; merges lazily so each block costs one argpartition."""

    def __init__(self, n_queries: int, k: int) -> None:
        self.k = k
        self.scores: list[np.ndarray] = []
        self.indices: list[np.ndarray] = []
        self.width = 0
        self.n_queries = n_queries

    def add(self, scores: np.ndarray, indices: np.ndarray) -> None:
        self.scores.append(scores)
        self.indices.append(indices)
        self.width += scores.shape[1]
        if self.width > 8 * self.k:  # bound the candidate pool: never more than 8k + block k
            self._merge()

    def _merge(self) -> None:
        s, i = np.hstack(self.scores), np.hstack(self.indices)
        if s.shape[1] > self.k:
            part = np.argpartition(s, s.shape[1] - self.k, axis=1)[:, -self.k:]
            s, i = np.take_along_axis(s, part, axis=1), np.take_along_axis(i, part, axis=1)
        self.scores, self.indices, self.width = [s], [i], s.shape[1]

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.scores:
            empty = np.empty((self.n_queries, 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        s, i = np.hstack(self.scores), np.hstack(self.indices).astype(np.int64)
        return merge_topk(s, i, self.k)  # sorted, ties by lower corpus position


def search_blocks(queries: DenseEmbeddings, blocks: Iterable[np.ndarray], k: int = 1000, *,
                  doc_similarity: str = "cosine") -> TopK:
    """Exact top-k of ``queries`` over document ``blocks`` given in corpus order.

    ``blocks`` may be views of one matrix, memory-mapped chunk files or chunks loaded one at a
    time: only the current block is touched. Queries are normalised when their similarity is
    cosine, documents when ``doc_similarity`` is.
    """
    cosine = doc_similarity == "cosine"
    q = _as_f32(np.asarray(queries.vectors))
    if queries.similarity == "cosine":
        q = _normalised(q)
    q = np.ascontiguousarray(q)
    found = _Candidates(q.shape[0], k)
    offset = 0
    for block in blocks:
        d = _as_f32(np.asarray(block))
        if d.ndim != 2 or d.shape[1] != q.shape[1]:
            raise ValueError(f"query dim {q.shape[1]} != document dim {d.shape[-1]}")
        scores = q @ d.T
        if cosine:  # divide by the block's norms instead of normalising a copy of the corpus
            scores /= np.clip(np.sqrt(np.einsum("ij,ij->i", d, d)), 1e-12, None)
        found.add(*_block_top(scores, offset, k))
        offset += d.shape[0]
    s, i = found.result()
    return TopK(i, s.astype(np.float32, copy=False))


def exact_search(queries: DenseEmbeddings, docs: DenseEmbeddings, k: int = 1000, *,
                 query_block: int = 512, doc_block: int = 32768) -> TopK:
    if queries.dim != docs.dim:
        raise ValueError(f"query dim {queries.dim} != document dim {docs.dim}")
    d = docs.vectors
    tops = []
    for qs in range(0, len(queries), query_block):
        qpart = DenseEmbeddings(queries.vectors[qs:qs + query_block], queries.similarity)
        blocks = (d[ds:ds + doc_block] for ds in range(0, len(d), doc_block))
        tops.append(search_blocks(qpart, blocks, k, doc_similarity=docs.similarity))
    if not tops:
        width = min(k, len(docs))
        return TopK(np.empty((0, width), np.int64), np.empty((0, width), np.float32))
    return TopK(np.vstack([t.indices for t in tops]), np.vstack([t.scores for t in tops]))
