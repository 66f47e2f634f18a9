"""Search backends by name; each dispatches on the embedding type it is given."""

from __future__ import annotations

import importlib
from typing import Protocol

from harness.embeddings import Embeddings
from harness.errors import UnknownNameError
from harness.search.base import TopK


class Backend(Protocol):
    name: str

    def search(self, queries: Embeddings, docs: Embeddings, k: int) -> TopK: ...


class ExactBackend:
    """Exact top-k for every family: dense matrix products, sparse products, exact MaxSim."""

    name = "exact"
    # embedding kind -> "module:function(queries, docs, k) -> TopK"
    by_kind: dict[str, str] = {"dense": "harness.search.exact:exact_search",
                               "sparse": "harness.search.sparse:sparse_search",
                               "multivector": "harness.search.maxsim:maxsim_search",
                               "quantized": "harness.search.quantized:quantized_search"}

    def search(self, queries: Embeddings, docs: Embeddings, k: int) -> TopK:
        target = self.by_kind.get(docs.kind)
        if target is None:
            raise UnknownNameError("embedding kind for exact search", docs.kind,
                                   sorted(self.by_kind))
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)(queries, docs, k)


BACKENDS: dict[str, str] = {"exact": "harness.search.registry:ExactBackend",
                             "muvera": "harness.search.muvera:MuveraBackend",
                             "hnsw": "harness.search.ann:HnswBackend",
                             "ivf": "harness.search.ann:IvfBackend"}


def get_backend(name: str) -> Backend:
    base = name.split(":", 1)[0]
    if base not in BACKENDS:
        raise UnknownNameError("backend", name, sorted(BACKENDS))
    module, _, attr = BACKENDS[base].partition(":")
    cls = getattr(importlib.import_module(module), attr)
    return cls(name) if base != "exact" else cls()
