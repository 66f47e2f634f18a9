"""Run MTEB's own task classes and evaluators on local data, encoding through our cache.

Two pieces:
- ``local_task``: a subclass of the installed mteb task class (same name, splits, main score,
  score range, seed, classifier and undersampling) whose ``load_data`` hands over data we loaded
  and validated ourselves, so mteb never touches the Hugging Face hub.
- ``CachedMtebEncoder``: an mteb ``EncoderProtocol`` around our ``Encoder`` that sends every
  ``encode`` through ``Context.encode`` (the same embedding cache as retrieval).

``import mteb`` costs seconds, so it happens only inside these functions.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from adapters.base import Encoder, Side
from harness.errors import HarnessError
from harness.kinds.outcome import Context


@dataclass
class EncodeStats:
    """What the wrapped encoder did, for the run's costs and timings."""

    calls: int = 0
    texts: int = 0
    seconds: float = 0.0
    nbytes: int = 0
    all_cached: bool = True
    sides: list[str] = field(default_factory=list)

    def costs(self) -> dict[str, float | int | None]:
        """Per-text cost columns (STS and classification encode texts, not documents)."""
        n = self.texts
        return {
            "bytes_per_doc": self.nbytes / n if n else None,
            "index_bytes": self.nbytes,
            "encode_docs_per_s": n / self.seconds if self.seconds else None,
            "query_encode_ms": 1000 * self.seconds / n if n else None,
        }


class CachedMtebEncoder:
    """mteb's encoder interface over our ``Encoder``; every batch of texts goes through the cache.

    mteb hands over a DataLoader per column; we collect its texts in order and encode them as one
    cache entry, so a re-run (or another task sharing the sentences) costs nothing.
    """

    mteb_model_meta = None  # mteb only reads it to pick prompts and name result files

    def __init__(self, encoder: Encoder, ctx: Context, label: str) -> None:
        self.encoder = encoder
        self.ctx = ctx
        self.label = label
        self.stats = EncodeStats()

    def encode(self, inputs: Iterable[dict[str, Any]], *, task_metadata: Any, hf_split: str,
               hf_subset: str, prompt_type: Any = None,
               **kwargs: Any) -> np.ndarray | sp.csr_matrix:
        texts = [text for batch in inputs for text in batch["text"]]
        # Symmetric tasks (STS, classification) get the query side, as mteb does for models with
        # query/passage prompts; only an explicit "document" prompt type selects the other side.
        side: Side = "document" if str(getattr(prompt_type, "value", prompt_type)) == "document" \
            else "query"
        result = self.ctx.encode(self.encoder, texts, side,
                                 f"{self.label} {hf_split} #{self.stats.calls + 1}")
        emb = result.embeddings
        self.stats.calls += 1
        self.stats.texts += len(texts)
        self.stats.seconds += result.encode_seconds
        self.stats.nbytes += emb.nbytes
        self.stats.all_cached &= result.from_cache
        self.stats.sides.append(side)
        if emb.kind == "dense":
            return np.asarray(emb.vectors, dtype=np.float32)
        if emb.kind == "sparse":  # sklearn's paired distances and LogisticRegression accept CSR
            return emb.matrix.tocsr().astype(np.float32)
        raise HarnessError(f"{self.encoder.meta.name} produces {emb.kind} embeddings; MTEB "
                           f"{task_metadata.type} tasks need one vector per text")

    @staticmethod
    def _rows(x: Any) -> np.ndarray | sp.csr_matrix:
        return x if sp.issparse(x) else np.asarray(x, dtype=np.float32)

    def similarity(self, embeddings1: Any, embeddings2: Any) -> np.ndarray:
        from sklearn.metrics.pairwise import cosine_similarity

        return cosine_similarity(self._rows(embeddings1), self._rows(embeddings2))

    def similarity_pairwise(self, embeddings1: Any, embeddings2: Any) -> np.ndarray:
        from sklearn.metrics.pairwise import paired_cosine_distances

        return 1.0 - paired_cosine_distances(self._rows(embeddings1), self._rows(embeddings2))


def mteb_class(path: str) -> type:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def local_task(class_path: str, dataset: Any) -> Any:
    """An instance of the mteb task class at ``class_path`` that evaluates ``dataset``.

    ``dataset`` is a ``datasets.DatasetDict`` keyed by split. For STS tasks the instance also keeps
    the per-pair scores mteb's evaluator computed (``pair_scores``), which mteb itself only writes
    to prediction files.
    """
    base = mteb_class(class_path)

    class LocalTask(base):  # type: ignore[misc, valid-type]
        pair_scores: dict[str, list[float]] | None = None

        def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
            self.dataset = dataset
            self.data_loaded = True

        def _calculate_scores(self, scores: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(scores, dict) and "cosine_scores" in scores:
                self.pair_scores = dict(scores)
            return super()._calculate_scores(scores, *args, **kwargs)

    LocalTask.__name__ = LocalTask.__qualname__ = f"Local{base.__name__}"
    return LocalTask()


def evaluate(task: Any, model: CachedMtebEncoder, split: str, batch_size: int) -> dict[str, Any]:
    """mteb's ``AbsTask.evaluate`` for the one (default) subset; returns its score dict."""
    import logging
    import warnings

    logging.getLogger("mteb").setLevel(logging.WARNING)
    with warnings.catch_warnings():  # "superseded by .v2": we run the version the board shows
        warnings.simplefilter("ignore")
        scores = task.evaluate(model, split, encode_kwargs={"batch_size": batch_size})
    if len(scores) != 1:
        raise HarnessError(f"{task.metadata.name}: expected one subset, mteb gave {list(scores)}")
    return dict(next(iter(scores.values())))


def mteb_version() -> str:
    from importlib.metadata import version

    return version("mteb")
