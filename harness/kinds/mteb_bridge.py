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

import hashlib
import importlib
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from adapters.base import Encoder, Side
from harness.errors import DataError, HarnessError
from harness.kinds.outcome import Context, Outcome


@dataclass(frozen=True)
class SentencePairs:
    """Sentence pairs with one gold value each: an STS score on the data set's own scale, or a
    pair-classification label (0/1). Loaded and validated before any model work."""

    pair_ids: tuple[str, ...]
    sentence1: tuple[str, ...]
    sentence2: tuple[str, ...]
    gold: tuple[float, ...]
    data_sha256: str
    path: Path


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
        # mteb's summarization evaluator compares single vectors: treat one as a row
        return x if sp.issparse(x) else np.atleast_2d(np.asarray(x, dtype=np.float32))

    def similarity(self, embeddings1: Any, embeddings2: Any) -> np.ndarray:
        from sklearn.metrics.pairwise import cosine_similarity

        matrix = cosine_similarity(self._rows(embeddings1), self._rows(embeddings2))
        if np.ndim(embeddings1) == np.ndim(embeddings2) == 1:  # two vectors: one number
            return matrix[0, 0]
        return matrix

    def similarity_pairwise(self, embeddings1: Any, embeddings2: Any) -> np.ndarray:
        from sklearn.metrics.pairwise import paired_cosine_distances

        return 1.0 - paired_cosine_distances(self._rows(embeddings1), self._rows(embeddings2))


def mteb_class(path: str) -> type:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def one_split_task(task: Any, columns: dict[str, list], capture: bool = True) -> Any:
    """mteb's own task class for the registered ``task`` (a TaskMeta) over one local split whose
    columns are given, with the task's registered protocol overrides."""
    from datasets import Dataset, DatasetDict

    from harness.tasks.mteb_tasks import source

    src = source(task.name)
    dataset = DatasetDict({task.split: Dataset.from_dict(columns)})
    return local_task(src.mteb_class, dataset, capture, **dict(src.overrides))


def local_task(class_path: str, dataset: Any, capture: bool = True, **attributes: Any) -> Any:
    """An instance of the mteb task class at ``class_path`` that evaluates ``dataset``.

    ``dataset`` is a ``datasets.DatasetDict`` keyed by split (retrieval-style tasks instead get
    ``corpus``/``queries``/``relevant_docs``/``top_ranked`` in ``attributes``, set as mteb's v1
    dict-per-split layout that mteb converts itself). ``attributes`` also override class protocol
    settings where a local check task must (none do for the real MTEB tasks).

    With ``capture`` the instance keeps what mteb computes per item but only writes to prediction
    files: ``predictions`` (whatever mteb hands to its prediction writer: STS and pair
    similarities, summary similarities, cluster assignments) and ``per_query`` (retrieval /
    reranking metrics per query). Without it the class is mteb's own with only ``load_data``
    swapped: the oracle the tests compare against.
    """
    base = mteb_class(class_path)

    class LocalTask(base):  # type: ignore[misc, valid-type]
        def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
            self.dataset = dataset
            self.data_loaded = True

    cls = _capturing(LocalTask) if capture else LocalTask
    cls.__name__ = cls.__qualname__ = f"Local{base.__name__}"
    task = cls()
    for name, value in attributes.items():  # on the instance: mteb deletes the v1 ones later
        setattr(task, name, value)
    return task


def _capturing(base: type) -> type:
    class CapturingTask(base):  # type: ignore[misc, valid-type]
        predictions: Any = None
        per_query: dict[str, dict[str, float]] | None = None

        def _save_task_predictions(self, predictions: Any, *args: Any, **kwargs: Any) -> None:
            self.predictions = predictions  # kept in memory; nothing is written

        def task_specific_scores(self, scores: Any, *args: Any, **kwargs: Any) -> Any:
            self.per_query = {str(q): dict(m) for q, m in scores.items()}
            return super().task_specific_scores(scores, *args, **kwargs)

    return CapturingTask


def evaluate(task: Any, model: CachedMtebEncoder, split: str, batch_size: int) -> dict[str, Any]:
    """mteb's ``AbsTask.evaluate`` for the one (default) subset; returns its score dict.

    A prediction folder is named only so that mteb hands its per-item predictions to the
    capturing task (which writes nothing).
    """
    import logging
    import warnings
    from pathlib import Path

    logging.getLogger("mteb").setLevel(logging.WARNING)
    with warnings.catch_warnings():  # "superseded by .v2": we run the version the board shows
        warnings.simplefilter("ignore")
        scores = task.evaluate(model, split, encode_kwargs={"batch_size": batch_size},
                               prediction_folder=Path("unused-predictions"))
    if len(scores) != 1:
        raise HarnessError(f"{task.metadata.name}: expected one subset, mteb gave {list(scores)}")
    return dict(next(iter(scores.values())))


def numeric_scores(metrics: dict[str, Any]) -> dict[str, float]:
    """The finite numbers of an mteb score dict (lists, dicts and NaN left out)."""
    return {k: float(v) for k, v in metrics.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and v == v}


def evaluate_main_score(
    mteb_task: Any, encoder: Encoder, ctx: Context, task: Any, path: Path, why: str = "",
) -> tuple[CachedMtebEncoder, dict[str, Any], dict[str, float]]:
    """mteb's evaluation of ``encoder`` (through the cache) on ``task.split``.

    Returns the wrapped encoder (for its costs), mteb's raw score dict and its finite scores; a
    score dict without ``task.main_score`` is a ``DataError`` on ``path`` (``why`` says why).
    """
    model = CachedMtebEncoder(encoder, ctx, task.name)
    metrics = evaluate(mteb_task, model, task.split, ctx.batch_size)
    scores = numeric_scores(metrics)
    if task.main_score not in scores:
        raise DataError(path, None, None, f"mteb returned no {task.main_score}{why}")
    return model, metrics, scores


def experiment_rows(metrics: dict[str, Any]) -> list[tuple[str, str, float]]:
    """One row per metric of each of mteb's ``scores_per_experiment`` (None left out)."""
    experiments = metrics.get("scores_per_experiment") or []
    return [(f"experiment-{i}", metric, float(value)) for i, exp in enumerate(experiments)
            for metric, value in exp.items() if value is not None]


def sentence_outcome(task: Any, model: CachedMtebEncoder, ctx: Context, scores: dict[str, float],
                     query_scores: list[tuple[str, str, float]], extra: dict[str, Any],
                     n_items: int, n_docs: int = 0,
                     task_queries: list[tuple[str, str]] | None = None) -> Outcome:
    """The ``Outcome`` every mteb-protocol kind returns: scores, per-item rows, encode costs."""
    stats = model.stats
    return Outcome(
        scores=scores, query_scores=query_scores,
        timings={"encode_s": stats.seconds,
                 "load_s": ctx.load_seconds.get(model.encoder.meta.name, 0.0)},
        costs=stats.costs(),
        extra={"mteb_version": mteb_version(),
               "encoded_texts": stats.texts, "sides": stats.sides, **extra},
        n_queries=n_items, n_docs=n_docs, task_queries=task_queries or [],
        cache_hit=stats.all_cached,
    )


def read_jsonl(path: Path, fields: dict[str, Callable[[Any], str | None]],
               min_rows: int = 1) -> tuple[list[dict[str, Any]], str]:
    """Rows of a JSONL file, each checked field by field; returns (rows, sha256 of the bytes).

    ``fields`` maps a required field to a check returning an error message (or None when fine),
    so one bad row stops the run with file:line:field.
    """
    if not path.is_file():
        raise DataError(path, None, None, "file not found")
    raw = path.read_bytes()
    rows: list[dict[str, Any]] = []
    for line, text in enumerate(raw.decode("utf-8").splitlines(), 1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(path, line, None, f"invalid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise DataError(path, line, None, "expected a JSON object")
        for name, check in fields.items():
            problem = "missing" if name not in row else check(row[name])
            if problem:
                raise DataError(path, line, name, problem)
        rows.append(row)
    if len(rows) < min_rows:
        raise DataError(path, None, None, f"fewer than {min_rows} rows")
    return rows, hashlib.sha256(raw).hexdigest()


def text_field(value: Any) -> str | None:
    if not isinstance(value, str):
        return "not a string"
    return None if value.strip() else "empty text"


def text_list_field(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "expected a non-empty list of strings"
    bad = [v for v in value if text_field(v)]
    return f"not a non-empty string: {bad[0]!r}" if bad else None


def number_field(value: Any) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return None if ok else f"not a finite number: {value!r}"


def label_field(value: Any) -> str | None:
    """A class label: a non-empty string or an integer (clustering, pair labels)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return f"not a label (string or integer): {value!r}"
    return "empty label" if isinstance(value, str) and not value.strip() else None


def label_list_field(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "expected a non-empty list of labels"
    bad = [v for v in value if label_field(v)]
    return label_field(bad[0]) if bad else None


def mteb_version() -> str:
    from importlib.metadata import version

    return version("mteb")
