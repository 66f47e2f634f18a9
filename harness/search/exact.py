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
    """Per query, the k best (score, corpus position) seen so far, with the k-th best score as a
    threshold: once k are known, a block contributes only the columns that beat it (a vectorised
    comparison), so most blocks cost one pass instead of an argpartition. A column that merely
    ties the threshold comes later in corpus order and would lose the tie anyway."""

    def __init__(self, n_queries: int, k: int) -> None:
        self.k = k
        self.scores = np.empty((n_queries, 0), np.float32)
        self.indices = np.empty((n_queries, 0), np.int64)

    def add(self, scores: np.ndarray, offset: int) -> None:
        if self.scores.shape[1] < self.k:  # not yet k per query: keep each block's best
            s, i = _block_top(scores, offset, self.k)
            self._keep(np.hstack([self.scores, s]), np.hstack([self.indices, i]))
            return
        rows, cols = np.nonzero(scores > self.scores.min(axis=1, keepdims=True))
        if rows.size == 0:
            return
        counts = np.bincount(rows, minlength=scores.shape[0])
        slot = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
        new_s = np.full((scores.shape[0], int(counts.max())), -np.inf, np.float32)
        new_i = np.full(new_s.shape, -1, np.int64)
        new_s[rows, slot] = scores[rows, cols]
        new_i[rows, slot] = cols + offset
        self._keep(np.hstack([self.scores, new_s]), np.hstack([self.indices, new_i]))

    def _keep(self, s: np.ndarray, i: np.ndarray) -> None:
        if s.shape[1] > self.k:
            part = np.argpartition(s, s.shape[1] - self.k, axis=1)[:, -self.k:]
            s, i = np.take_along_axis(s, part, axis=1), np.take_along_axis(i, part, axis=1)
        self.scores, self.indices = s, i.astype(np.int64, copy=False)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        return merge_topk(self.scores, self.indices, self.k)  # sorted, ties by lower position


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
        found.add(scores, offset)
        offset += d.shape[0]
    s, i = found.result()
    return TopK(i, s.astype(np.float32, copy=False))


def exact_search(queries: DenseEmbeddings, docs: DenseEmbeddings, k: int = 1000, *,
                 query_block: int = 512, doc_block: int = 16384) -> TopK:
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
