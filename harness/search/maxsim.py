"""Exact late-interaction (ColBERT MaxSim) top-k by blocked matrix products.

score(q, d) = sum over query tokens i of max over document tokens j of <q_i, d_j>.

All query tokens of a query block are multiplied with the tokens of a block of whole documents in
one BLAS call; ``np.maximum.reduceat`` takes the max over each document's token columns and
``np.add.reduceat`` sums over each query's token rows. Blocks are sized by token count, so memory
is bounded (about ``max_cells`` floats) whatever the corpus.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from harness.embeddings import MultiVectorEmbeddings
from harness.errors import EmbeddingError
from harness.search.base import TopK, merge_topk


def _check(queries: MultiVectorEmbeddings, docs: MultiVectorEmbeddings) -> None:
    if queries.kind != "multivector":
        raise EmbeddingError(f"multi-vector documents need multi-vector queries, got "
                             f"{queries.kind}")
    if queries.dim != docs.dim:
        raise EmbeddingError(f"query token dimension {queries.dim} != document token "
                             f"dimension {docs.dim}")


def item_blocks(offsets: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """Consecutive item ranges [a, b) whose token count stays within budget (at least 1 item)."""
    out, start, n = [], 0, len(offsets) - 1
    while start < n:
        end = int(np.searchsorted(offsets, offsets[start] + budget, "right")) - 1
        end = max(end, start + 1)
        out.append((start, min(end, n)))
        start = min(end, n)
    return out


def maxsim_scores(q_tokens: np.ndarray, q_offsets: np.ndarray, d_tokens: np.ndarray,
                  d_offsets: np.ndarray) -> np.ndarray:
    """(n_queries, n_docs) MaxSim for one block; offsets are local (start at 0)."""
    sim = q_tokens @ d_tokens.T  # (query tokens, doc tokens)
    per_doc = np.maximum.reduceat(sim, d_offsets[:-1], axis=1)  # (query tokens, docs)
    return np.add.reduceat(per_doc, q_offsets[:-1], axis=0)  # (queries, docs)


def maxsim_search(queries: MultiVectorEmbeddings, docs: MultiVectorEmbeddings, k: int = 1000, *,
                  max_cells: int = 1 << 25) -> TopK:
    _check(queries, docs)
    k = min(k, len(docs))
    n_q = len(queries)
    all_s = np.zeros((n_q, k), dtype=np.float32)
    all_i = np.full((n_q, k), -1, dtype=np.int64)
    q_budget = max(int(np.sqrt(max_cells)), 1)
    for qa, qb in item_blocks(queries.offsets, q_budget):
        q_off = queries.offsets[qa:qb + 1] - queries.offsets[qa]
        q_tok = np.asarray(queries.tokens[queries.offsets[qa]:queries.offsets[qb]], np.float32)
        d_budget = max(max_cells // max(len(q_tok), 1), 1)
        best_s = np.empty((qb - qa, 0), dtype=np.float32)
        best_i = np.empty((qb - qa, 0), dtype=np.int64)
        for da, db in item_blocks(docs.offsets, d_budget):
            d_off = docs.offsets[da:db + 1] - docs.offsets[da]
            d_tok = np.asarray(docs.tokens[docs.offsets[da]:docs.offsets[db]], np.float32)
            block = maxsim_scores(q_tok, q_off, d_tok, d_off)
            idx = np.broadcast_to(np.arange(da, db), block.shape)
            best_s, best_i = merge_topk(np.hstack([best_s, block]), np.hstack([best_i, idx]), k)
        all_s[qa:qb], all_i[qa:qb] = best_s, best_i
    return TopK(all_i, all_s)


def maxsim_rerank(queries: MultiVectorEmbeddings, docs: MultiVectorEmbeddings,
                  candidates: np.ndarray) -> TopK:
    """Exact MaxSim of each query against its own candidate documents (-1 = none), best first."""
    _check(queries, docs)
    n_q, n_c = candidates.shape
    scores = np.full((n_q, n_c), -np.inf, dtype=np.float32)
    indices = np.full((n_q, n_c), -1, dtype=np.int64)
    for qi in range(n_q):
        q_tok = np.asarray(queries.item(qi), np.float32)
        cand = candidates[qi][candidates[qi] >= 0]
        if cand.size == 0:
            continue
        d_tok, d_off = _gather(docs, cand)
        scores[qi, :cand.size] = maxsim_scores(q_tok, np.array([0, len(q_tok)]), d_tok, d_off)[0]
        indices[qi, :cand.size] = cand
    scores, indices = merge_topk(scores, indices, n_c)
    indices[~np.isfinite(scores)] = -1
    return TopK(indices, np.where(np.isfinite(scores), scores, 0).astype(np.float32))


def _gather(docs: MultiVectorEmbeddings, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The fp32 token rows of documents ``items`` (in that order) and their local offsets."""
    starts = docs.offsets[items]
    lengths = docs.offsets[items + 1] - starts
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(lengths)
    rows = np.arange(offsets[-1]) + np.repeat(starts - offsets[:-1], lengths)
    # one vectorised row list (not an np.arange per document) and np.take, which in our timings
    # was never slower than tokens[rows] on ~230k rows and at times several times faster
    return np.asarray(np.take(docs.tokens, rows, axis=0), np.float32), offsets


def as_float32(e: MultiVectorEmbeddings) -> MultiVectorEmbeddings:
    """fp32 tokens once (stored fp16 tokens would otherwise be converted on every search)."""
    if e.tokens.dtype == np.float32:
        return e
    return MultiVectorEmbeddings(e.tokens.astype(np.float32), e.offsets)


def fingerprint(*items: MultiVectorEmbeddings) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for e in items:
        digest.update(f"{e.tokens.dtype.str}{e.tokens.shape}".encode())
        # the arrays' own buffers: .tobytes() would first copy ~1 GB of corpus tokens
        digest.update(np.ascontiguousarray(e.offsets))
        digest.update(np.ascontiguousarray(e.tokens))
    return digest.hexdigest()


# Exact MaxSim over a whole corpus is the expensive reference that the exact run, MUVERA's
# candidate recall and the runner's fidelity check all need: computed once per process and
# (query set, corpus), at the largest depth asked; a smaller depth is its prefix.
_EXACT: dict[str, TopK] = {}


def exact_top(queries: MultiVectorEmbeddings, docs: Callable[[], MultiVectorEmbeddings], k: int,
              *, key: str) -> TopK:
    """Exact MaxSim top ``k`` (at most the corpus size) of ``queries``. ``docs`` gives the corpus
    tokens and is called only when the held result does not cover (key, k), so a searcher
    answered from it never makes its fp32 copy of the corpus."""
    held = _EXACT.get(key)
    if held is None or held.indices.shape[1] < k:
        _EXACT.clear()
        _EXACT[key] = held = maxsim_search(queries, docs(), k)
    return TopK(held.indices[:, :k], held.scores[:, :k])


class MaxSimSearcher:
    """A built exact MaxSim index: document tokens (an fp32 copy made on first search), query
    batches searched against them."""

    def __init__(self, docs: MultiVectorEmbeddings) -> None:
        self.stored = docs
        self.index_bytes = docs.nbytes  # what is stored (fp16 by default), not the fp32 copy
        self._doc_key = fingerprint(docs)
        self._fp32: MultiVectorEmbeddings | None = None

    @property
    def docs(self) -> MultiVectorEmbeddings:
        if self._fp32 is None:
            self._fp32 = as_float32(self.stored)
        return self._fp32

    def search(self, queries: MultiVectorEmbeddings, k: int,
               query_params: Mapping[str, Any]) -> TopK:
        _check(queries, self.stored)
        if len(queries) == 1:  # a latency probe: never evicts the shared full-set result
            return maxsim_search(queries, self.docs, k)
        return exact_top(queries, lambda: self.docs, min(k, len(self.stored)),
                         key=fingerprint(queries) + self._doc_key)
