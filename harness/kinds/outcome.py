"""What a task kind receives (``Context``, ``Prepared``) and returns (``Outcome``)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tqdm.auto import tqdm

from adapters.base import Encoder, Side
from harness.cache import EmbeddingCache, EncodeResult
from harness.tasks.base import TaskMeta


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
    """Shared services for task kinds: the embedding cache, batch size and progress bars."""

    cache: EmbeddingCache
    batch_size: int = 32
    progress: bool = True
    # model name -> seconds of the first (warm-up) call, which loads weights: kept out of encode
    # throughput, reported as load time.
    load_seconds: dict[str, float] = field(default_factory=dict)
    # compressed (documents, queries, fit+transform seconds) per compression and text sets: the
    # same compression under two backends is fitted once (PQ training takes seconds)
    compressed: dict[tuple[str, ...], tuple[EncodeResult, EncodeResult, float, dict]] = field(
        default_factory=dict)

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

    def encode_compressed(self, encoder: Encoder, corpus: Sequence[str], queries: Sequence[str],
                          label: str) -> tuple[EncodeResult, EncodeResult, float]:
        """Corpus and query embeddings for ``encoder``, compression wrappers included.

        A wrapper (anything with ``base`` and ``fit``/``transform``) is never encoded under its own
        meta: its base model goes through the cache (so every variant shares one encode), then the
        wrapper fits on the corpus (int8 ranges, PQ/PCA training) and transforms both sides.
        Returns (documents, queries, seconds spent fitting and compressing).
        """
        base = getattr(encoder, "base", None)
        source = base if base is not None and hasattr(encoder, "fit") else encoder
        docs = self.encode(source, corpus, "document", f"{label} corpus")
        qs = self.encode(source, queries, "query", f"{label} queries")
        if source is encoder:
            return docs, qs, 0.0
        key = (json.dumps(encoder.meta.key_fields(), sort_keys=True),
               str(getattr(encoder, "k", "")),
               str(self.cache.folder(source, "document", corpus)),
               str(self.cache.folder(source, "query", queries)))
        if key not in self.compressed:
            began = time.perf_counter()
            wrapper: Any = encoder
            wrapper.fit(docs.embeddings)
            docs = replace(docs, embeddings=wrapper.transform(docs.embeddings, "document"))
            qs = replace(qs, embeddings=wrapper.transform(qs.embeddings, "query"))
            self.compressed = {key: (docs, qs, time.perf_counter() - began,
                                     dict(getattr(wrapper, "fit_info", {})))}  # only the last
        docs, qs, seconds, fit_info = self.compressed[key]
        if hasattr(encoder, "fit_info"):
            encoder.fit_info = fit_info  # type: ignore[attr-defined]  # fitted by a twin wrapper
        return docs, qs, seconds
