"""Exact sparse top-k: an inverted index as scipy CSR postings, scored by blocked sparse products.

Documents become, per block of documents, a (V x block) CSR matrix whose row j is term j's posting
list; a block of queries (CSR, n_q x V) times that matrix touches only the postings of the query
terms, which is what an inverted index does. The dense score block (queries x documents of one
block) bounds memory for any corpus size; a running top-k merge keeps the best k per query.

Corpus-level weightings (BM25) are applied here, when the index is built, to the raw term counts
the adapter produced chunk by chunk: IDF and average document length exist only for the corpus.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from harness.embeddings import SparseEmbeddings
from harness.errors import EmbeddingError, HarnessError
from harness.search.base import TopK, merge_topk


def parse_weighting(spec: str) -> tuple[str, dict[str, str]]:
    """``"bm25:method=lucene,k1=1.5,b=0.75"`` -> ``("bm25", {"method": "lucene", ...})``."""
    name, _, rest = spec.partition(":")
    params = dict(p.split("=", 1) for p in rest.split(",") if p)
    return name, params


def _bm25_idf(df: np.ndarray, n: int, method: str) -> np.ndarray:
    # The IDF variants of bm25s.scoring (Kamphuis et al., ECIR 2020), vectorised.
    df = df.astype(np.float64)
    if method == "lucene":
        return np.log(1 + (n - df + 0.5) / (df + 0.5))
    if method == "robertson":
        return np.log(np.maximum((n - df + 0.5) / (df + 0.5), 1.0))  # bm25s clamps negatives
    if method == "atire":
        return np.log(n / np.maximum(df, 1))
    raise HarnessError(f"unknown bm25 method '{method}' (lucene, robertson, atire)")


def bm25_weights(counts: sp.csr_matrix, params: dict[str, str]) -> sp.csr_matrix:
    """BM25 document-side weights from raw term counts: idf(t) * tf-saturation(t, d).

    Identical to what ``bm25s.BM25(...).index`` precomputes (its eager index), so a query's score
    is the sum of its terms' weights, counting repeated query terms (as bm25s does).
    """
    method = params.get("method", "lucene")
    k1, b = float(params.get("k1", 1.5)), float(params.get("b", 0.75))
    counts = counts.tocsr().astype(np.float64)
    n = counts.shape[0]
    doc_len = np.asarray(counts.sum(axis=1)).ravel()  # tokens kept by the analyzer
    avg_len = float(doc_len.mean()) if n else 1.0
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = _bm25_idf(df, n, method).astype(np.float32)  # bm25s holds idf in float32
    tf = counts.data
    rows = np.repeat(np.arange(n), np.diff(counts.indptr))
    norm = k1 * ((1 - b) + b * doc_len[rows] / (avg_len or 1.0))
    tfc = tf * (k1 + 1) / (tf + norm) if method == "atire" else tf / (tf + norm)
    weights = (idf[counts.indices] * tfc).astype(np.float32)
    return sp.csr_matrix((weights, counts.indices, counts.indptr), shape=counts.shape)


# weighting name -> function(raw counts, params) -> final document weights
WEIGHTINGS: dict[str, Callable[[sp.csr_matrix, dict[str, str]], sp.csr_matrix]] = {
    "bm25": bm25_weights,
}
QUERY_WEIGHTINGS = {"", "count"}  # query values are used as they are


def document_weights(docs: SparseEmbeddings) -> sp.csr_matrix:
    if not docs.weighting:
        return docs.matrix.tocsr().astype(np.float32)
    name, params = parse_weighting(docs.weighting)
    if name not in WEIGHTINGS:
        raise HarnessError(f"unknown sparse weighting '{docs.weighting}' "
                           f"(known: {', '.join(sorted(WEIGHTINGS))})")
    return WEIGHTINGS[name](docs.matrix, params)


class TermMap:
    """Document vocabulary sorted once, so query terms map to columns by binary search."""

    def __init__(self, vocabulary: tuple[str, ...]) -> None:
        terms = np.array(vocabulary, dtype=str)
        self.order = np.argsort(terms, kind="stable")
        self.sorted = terms[self.order]

    def columns(self, terms: tuple[str, ...]) -> np.ndarray:
        """Document column of each term, -1 where the corpus never uses it."""
        wanted = np.array(terms, dtype=str)
        if len(self.sorted) == 0 or len(wanted) == 0:
            return np.full(len(wanted), -1, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.sorted, wanted), 0, len(self.sorted) - 1)
        return np.where(self.sorted[pos] == wanted, self.order[pos], -1)


def align_queries(queries: SparseEmbeddings, docs: SparseEmbeddings,
                  terms: TermMap | None = None) -> sp.csr_matrix:
    """Query matrix in the documents' columns (terms the corpus never uses cannot score)."""
    if queries.weighting not in QUERY_WEIGHTINGS:
        raise EmbeddingError(f"query-side weighting '{queries.weighting}' is not supported")
    q = queries.matrix.tocsr().astype(np.float32)
    if docs.vocabulary is None or queries.vocabulary is None:
        if docs.vocabulary is not None or queries.vocabulary is not None:
            raise EmbeddingError("queries and documents disagree: one has a term vocabulary, the "
                                 "other model token ids")
        if q.shape[1] != docs.dim:
            raise EmbeddingError(f"query dimension {q.shape[1]} != document dimension {docs.dim}")
        return q
    column = (terms or TermMap(docs.vocabulary)).columns(queries.vocabulary)[q.indices]
    keep = column >= 0
    rows = np.repeat(np.arange(q.shape[0]), np.diff(q.indptr))[keep]
    return sp.csr_matrix((q.data[keep], (rows, column[keep])),
                         shape=(q.shape[0], docs.dim), dtype=np.float32)


def bm25s_topk(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """bm25s's own selection (``bm25s.selection._topk_numpy``), row by row.

    ``np.argpartition(row, -k)[-k:]`` then a flipped (unstable) argsort: when fewer than k
    documents score above zero, this decides WHICH zero-score documents fill the list, and with
    them recall@100 on corpora such as NFCorpus. MTEB's ``baseline-bm25s`` numbers come from it.
    """
    out_s = np.empty((scores.shape[0], k), dtype=np.float32)
    out_i = np.empty((scores.shape[0], k), dtype=np.int64)
    for row, query_scores in enumerate(scores):
        part = np.argpartition(query_scores, -k).take(indices=range(-k, 0))
        picked = np.take(query_scores, part)
        order = np.flip(np.argsort(picked))
        out_s[row], out_i[row] = picked[order], part[order]
    return out_s, out_i


class SparseIndex:
    """Postings of a weighted document matrix, in blocks of documents.

    BM25-weighted documents form one block spanning the corpus, so each query's full score vector
    exists and the top k is selected exactly as bm25s selects it (``bm25s_topk``).
    """

    def __init__(self, docs: SparseEmbeddings, *, doc_block: int = 65536) -> None:
        self.docs = docs
        weights = document_weights(docs)
        self.bm25s_selection = parse_weighting(docs.weighting)[0] == "bm25"
        if self.bm25s_selection:
            doc_block = max(weights.shape[0], 1)
        self.n_docs = weights.shape[0]
        self.nbytes = int(weights.nnz * 8)  # int32 doc id + float32 weight per posting
        # Row j of each block = posting list of term j within that block.
        self.blocks = [(start, weights[start:start + doc_block].T.tocsr())
                       for start in range(0, self.n_docs, doc_block)]
        self.weights = weights
        self.terms = TermMap(docs.vocabulary) if docs.vocabulary is not None else None

    def search(self, queries: SparseEmbeddings, k: int, *, max_cells: int = 1 << 24) -> TopK:
        q = align_queries(queries, self.docs, self.terms)
        k = min(k, self.n_docs)
        n_q = q.shape[0]
        # Queries per block: the dense score block (queries x documents of a block) stays within
        # max_cells floats.
        doc_width = self.blocks[0][1].shape[1] if self.blocks else 1
        query_block = max(1, max_cells // max(doc_width, 1))
        all_scores = np.zeros((n_q, k), dtype=np.float32)
        all_idx = np.full((n_q, k), -1, dtype=np.int64)
        for qs in range(0, n_q, query_block):
            q_block = q[qs:qs + query_block]
            best_s = np.empty((q_block.shape[0], 0), dtype=np.float32)
            best_i = np.empty((q_block.shape[0], 0), dtype=np.int64)
            for start, postings in self.blocks:
                block = (q_block @ postings).toarray().astype(np.float32, copy=False)
                if self.bm25s_selection and k:  # one block: the whole corpus
                    best_s, best_i = bm25s_topk(block, k)
                    continue
                idx = np.broadcast_to(np.arange(start, start + block.shape[1]), block.shape)
                if best_s.shape[1]:
                    block, idx = np.hstack([best_s, block]), np.hstack([best_i, idx])
                best_s, best_i = merge_topk(block, idx, k)
            all_scores[qs:qs + q_block.shape[0]] = best_s
            all_idx[qs:qs + q_block.shape[0]] = best_i
        return TopK(all_idx, all_scores)


def sparse_search(queries: SparseEmbeddings, docs: SparseEmbeddings, k: int = 1000) -> TopK:
    """Exact top-k by sparse dot product (after the documents' corpus-level weighting)."""
    if queries.kind != "sparse":
        raise EmbeddingError(f"sparse documents need sparse queries, got {queries.kind}")
    return SparseIndex(docs).search(queries, k)


def expected_flops(queries: SparseEmbeddings, docs: SparseEmbeddings) -> float:
    """SPLADE paper's FLOPS: sum_j p_q(j) p_d(j), p = share of items with term j non-zero."""
    q = align_queries(queries, docs)
    if q.shape[0] == 0 or docs.matrix.shape[0] == 0:
        return 0.0
    p_q = np.bincount(q.indices, minlength=q.shape[1]) / q.shape[0]
    p_d = np.bincount(docs.matrix.indices, minlength=docs.dim) / docs.matrix.shape[0]
    return float(math.fsum(p_q * p_d))
