"""Search backends by name: each is ``build(docs, build_params) -> Searcher``.

A built ``Searcher`` answers ``search(queries, k, query_params)``, so query parameters (HNSW efs,
IVF nprobe, the MUVERA rerank depth) never rebuild an index. The exact backend dispatches on the
embedding kind of the documents it is given.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from harness.embeddings import DenseEmbeddings, Embeddings, SparseEmbeddings, for_similarity
from harness.errors import EmbeddingError, UnknownNameError
from harness.search.base import Searcher, TopK
from harness.spec import Backend

# backend name -> "module:build(docs, build_params) -> Searcher"
BACKENDS: dict[str, str] = {"exact": "harness.search.registry:build_exact",
                             "muvera": "harness.search.muvera:build",
                             "hnsw": "harness.search.ann:build_hnsw",
                             "ivf": "harness.search.ann:build_ivf"}

Builder = Callable[[Embeddings, Mapping[str, Any]], Searcher]


def get_builder(backend: Backend | str) -> Builder:
    """The build function of a backend spec (parsed and validated here)."""
    backend = Backend.parse(backend)  # type: ignore[assignment]
    if backend.name not in BACKENDS:
        raise UnknownNameError("backend", str(backend), sorted(BACKENDS))
    module, _, attr = BACKENDS[backend.name].partition(":")
    return getattr(importlib.import_module(module), attr)


def build(backend: Backend | str, docs: Embeddings) -> Searcher:
    backend = Backend.parse(backend)  # type: ignore[assignment]
    return get_builder(backend)(docs, backend.build_params)


def search(backend: Backend | str, queries: Embeddings, docs: Embeddings, k: int) -> TopK:
    """Build then search once (tests and one-off use; the runner keeps the built index)."""
    backend = Backend.parse(backend)  # type: ignore[assignment]
    return build(backend, docs).search(queries, k, backend.query_params)


class DenseExactSearcher:
    """Exact dense search with the documents normalised once, not on every query."""

    def __init__(self, docs: DenseEmbeddings) -> None:
        self.docs = DenseEmbeddings(for_similarity(docs.vectors, docs.similarity), "dot")
        self.similarity = docs.similarity
        self.index_bytes = docs.nbytes

    def search(self, queries: Embeddings, k: int, query_params: Mapping[str, Any]) -> TopK:
        from harness.search.exact import exact_search

        if not isinstance(queries, DenseEmbeddings):
            raise EmbeddingError(f"dense documents need dense queries, got {queries.kind}")
        q = DenseEmbeddings(for_similarity(queries.vectors, self.similarity), "dot")
        return exact_search(q, self.docs, k)


class SparseSearcher:
    """The inverted index of ``harness.search.sparse``, built once."""

    def __init__(self, docs: SparseEmbeddings) -> None:
        from harness.search.sparse import SparseIndex

        self.index = SparseIndex(docs)
        self.index_bytes = int(getattr(self.index, "nbytes", docs.nbytes))

    def search(self, queries: Embeddings, k: int, query_params: Mapping[str, Any]) -> TopK:
        return self.index.search(queries, k)  # type: ignore[arg-type]


def build_exact(docs: Embeddings, build_params: Mapping[str, Any]) -> Searcher:
    """Exact top-k for every family: dense products, sparse postings, MaxSim, compressed codes."""
    if docs.kind == "dense":
        return DenseExactSearcher(docs)  # type: ignore[arg-type]
    if docs.kind == "sparse":
        return SparseSearcher(docs)  # type: ignore[arg-type]
    if docs.kind == "multivector":
        from harness.search.maxsim import MaxSimSearcher

        return MaxSimSearcher(docs)  # type: ignore[arg-type]
    if docs.kind == "quantized":
        from harness.search.quantized import QuantizedSearcher

        return QuantizedSearcher(docs)  # type: ignore[arg-type]
    raise UnknownNameError("embedding kind for exact search", docs.kind,
                           ["dense", "multivector", "quantized", "sparse"])


def take(e: Embeddings, rows: slice) -> Embeddings:
    """Rows of any embedding type (a query slice); other fields (vocabulary...) are kept."""
    from dataclasses import replace

    if e.kind == "dense":
        return replace(e, vectors=e.vectors[rows])  # type: ignore[call-arg,union-attr]
    if e.kind == "quantized":
        return e.take(rows)  # type: ignore[union-attr]
    if e.kind == "sparse":
        return replace(e, matrix=e.matrix[rows])  # type: ignore[call-arg,union-attr]
    start, stop, _ = rows.indices(len(e))
    offsets = np.asarray(e.offsets[start:stop + 1])  # type: ignore[union-attr]
    return replace(e, tokens=e.tokens[offsets[0]:offsets[-1]],  # type: ignore[call-arg,union-attr]
                   offsets=offsets - offsets[0])
