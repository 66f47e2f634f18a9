"""What a task kind receives (``Context``, ``Prepared``) and returns (``Outcome``)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from adapters.base import Encoder, Side
from harness.cache import EmbeddingCache, EncodeResult
from harness.embeddings import Embeddings
from harness.search.base import Searcher
from harness.spec import Backend
from harness.tasks.base import TaskMeta

if TYPE_CHECKING:
    from harness.compression import Compressor


@dataclass(frozen=True)
class Prepared:
    """A task's data, loaded and validated before any model work; ``data_sha256`` feeds the key."""

    task: TaskMeta
    data_sha256: str
    payload: Any
    n_items: int = 0


@dataclass
class Outcome:
    scores: dict[str, float]
    query_scores: Sequence[tuple[str, str, float]] = ()
    rankings: Sequence[tuple[str, int, str, float]] = ()
    timings: dict[str, float] = field(default_factory=dict)
    costs: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    n_queries: int = 0
    n_docs: int = 0
    task_queries: Sequence[tuple[str, str]] = ()
    task_qrels: Sequence[tuple[str, str, int]] = ()
    cache_hit: bool = False


@dataclass
class Context:
    """Shared services for task kinds: the embedding cache, batch size, progress bars, and the
    last compressed vectors and built index (shared by the runs of a sweep)."""

    cache: EmbeddingCache
    batch_size: int = 32
    progress: bool = True
    # model name -> seconds of the first (warm-up) call, which loads weights: kept out of encode
    # throughput, reported as load time.
    load_seconds: dict[str, float] = field(default_factory=dict)
    index_builds: int = 0  # indexes built in this process (a query-parameter sweep builds one)
    _compressed: dict[tuple[str, ...], Compressed] = field(default_factory=dict)
    _indexes: dict[tuple[str, str], BuiltIndex] = field(default_factory=dict)

    def warm_up(self, encoder: Encoder, side: Side) -> None:
        if encoder.meta.name not in self.load_seconds:
            began = time.perf_counter()
            encoder.encode(["warm-up"], side, batch_size=1)
            self.load_seconds[encoder.meta.name] = time.perf_counter() - began

    def encode(self, encoder: Encoder, texts: Sequence[str], side: Side,
               label: str) -> EncodeResult:
        if not self.cache.is_complete(encoder, texts, side):
            self.warm_up(encoder, side)
        bar = tqdm(total=len(texts), desc=f"encode {label}", unit="txt", leave=False,
                   disable=not self.progress, dynamic_ncols=True)
        try:
            return self.cache.encode(encoder, texts, side, batch_size=self.batch_size,
                                     progress=bar.update)
        finally:
            bar.close()

    def compressed(self, compressor: Compressor, key: tuple[str, ...], docs: EncodeResult,
                   queries: EncodeResult) -> Compressed:
        """Fit ``compressor`` on the corpus and transform both sides, once per ``key`` (the
        compression and the two cached text sets): the same compression under several backends
        is fitted once (PQ training takes seconds). Only the last result is kept."""
        if key not in self._compressed:
            began = time.perf_counter()
            compressor.fit(docs.embeddings)
            docs_c = compressor.transform(docs.embeddings, "document")
            queries_c = compressor.transform(queries.embeddings, "query")
            self._compressed = {key: Compressed(docs_c, queries_c, time.perf_counter() - began,
                                                dict(compressor.info), "|".join(key))}
            self._indexes.clear()  # built over vectors that are gone
        return self._compressed[key]

    def index(self, vectors: Compressed, backend: Backend) -> BuiltIndex:
        """The index of ``backend`` over ``vectors``, built once per (vectors, build parameters):
        a sweep over query parameters (HNSW efs, IVF nprobe) searches ONE built index."""
        from harness.search.registry import build

        key = (vectors.key, backend.build_key)
        if key in self._indexes:
            held = self._indexes[key]
            return replace(held, built_now=False)
        began = time.perf_counter()
        searcher = build(backend, vectors.docs)
        self.index_builds += 1
        self._indexes = {key: BuiltIndex(searcher, time.perf_counter() - began, True,
                                         str(backend), self.index_builds)}
        return self._indexes[key]


@dataclass(frozen=True)
class Compressed:
    """The vectors a retrieval run searches: compressed (or plain) documents and queries."""

    docs: Embeddings
    queries: Embeddings
    seconds: float  # fit + transform
    fit_info: dict[str, Any]
    key: str  # what identifies these vectors (compression and text sets)


@dataclass(frozen=True)
class BuiltIndex:
    searcher: Searcher
    build_s: float
    built_now: bool  # False: reused, built by an earlier run of this process
    built_by: str  # the backend spec whose run built it
    build_number: int  # the process's index-build counter when it was built
