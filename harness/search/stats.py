"""Statistics of an index's embeddings, stored in a run's ``extra`` column.

Family-specific numbers are added by embedding kind: sparsity and the SPLADE paper's expected
FLOPS for sparse indexes, tokens and bytes per document for multi-vector ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.embeddings import Embeddings, MultiVectorEmbeddings, SparseEmbeddings


def _spread(counts: np.ndarray) -> dict[str, float]:
    if counts.size == 0:
        return {"mean": 0.0, "median": 0.0, "max": 0.0}
    return {"mean": float(counts.mean()), "median": float(np.median(counts)),
            "max": float(counts.max())}


def _sparse(docs: SparseEmbeddings, queries: SparseEmbeddings) -> dict[str, Any]:
    from harness.search.sparse import expected_flops

    doc_nnz = np.diff(docs.matrix.tocsr().indptr)
    query_nnz = np.diff(queries.matrix.tocsr().indptr)
    used_terms = int(np.unique(docs.matrix.indices).size)
    return {
        "nnz_per_doc": _spread(doc_nnz),
        "nnz_per_query": _spread(query_nnz),
        "index_bytes": docs.nbytes,  # (int32 id, float32 weight) per posting
        "vocabulary_size": docs.dim,
        "terms_used_by_docs": used_terms,
        "weighting": docs.weighting or "none",
        # sum_j p_q(j) p_d(j): expected share of documents a query touches, per term (SPLADE)
        "expected_flops_per_query": expected_flops(queries, docs) if queries.kind == "sparse"
        else None,
    }


def _multivector(docs: MultiVectorEmbeddings, queries: MultiVectorEmbeddings) -> dict[str, Any]:
    doc_tokens = np.diff(docs.offsets)
    return {
        "tokens_per_doc": _spread(doc_tokens),
        "tokens_per_query": _spread(np.diff(queries.offsets)),
        "token_dtype": str(docs.tokens.dtype),
        "bytes_per_doc": docs.nbytes / max(len(docs), 1),
        "index_bytes": docs.nbytes,
    }


def describe(docs: Embeddings, queries: Embeddings) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": docs.kind, "dim": docs.dim, "doc_bytes": docs.nbytes,
                           "query_bytes": queries.nbytes}
    if isinstance(docs, SparseEmbeddings) and isinstance(queries, SparseEmbeddings):
        out.update(_sparse(docs, queries))
    elif isinstance(docs, MultiVectorEmbeddings) and isinstance(queries, MultiVectorEmbeddings):
        out.update(_multivector(docs, queries))
    return out
