"""What every search backend builds (a ``Searcher``) and returns (``TopK``), and their helpers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from harness.embeddings import Embeddings


@dataclass(frozen=True)
class TopK:
    indices: np.ndarray  # (n_queries, k) int64 positions into the corpus, best first
    scores: np.ndarray  # (n_queries, k) float32

    def to_run(self, query_ids: tuple[str, ...] | list[str],
               doc_ids: tuple[str, ...] | list[str]) -> dict[str, dict[str, float]]:
        run: dict[str, dict[str, float]] = {}
        for qi, qid in enumerate(query_ids):
            run[qid] = {doc_ids[d]: float(s)
                        for d, s in zip(self.indices[qi], self.scores[qi], strict=True) if d >= 0}
        return run


def merge_topk(scores: np.ndarray, indices: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep the k best columns of each row, sorted by score (ties: lower index first)."""
    k = min(k, scores.shape[1])
    if k < scores.shape[1]:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        scores = np.take_along_axis(scores, part, axis=1)
        indices = np.take_along_axis(indices, part, axis=1)
    order = np.lexsort((indices, -scores), axis=1) if scores.size else np.zeros_like(indices)
    return np.take_along_axis(scores, order, axis=1), np.take_along_axis(indices, order, axis=1)


def overlap_recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean over queries of |found ∩ truth| / |truth| (rows of document indices, -1 = none).

    A query with an empty truth row is left out of the mean; no query left gives NaN (never a
    made-up 0 or 1)."""
    hits = []
    for f, t in zip(found, truth, strict=True):
        want = {int(i) for i in t if i >= 0}
        if want:
            hits.append(len(want & {int(i) for i in f if i >= 0}) / len(want))
    return float(np.mean(hits)) if hits else float("nan")


class Searcher(Protocol):
    """A built index: ``search`` any batch of queries. Searchers may also offer
    ``describe(queries, query_params) -> dict`` (statistics for the run's extra) and
    ``alternatives(queries, k, query_params) -> dict[str, TopK]`` (other rankings to score)."""

    index_bytes: int

    def search(self, queries: Embeddings, k: int, query_params: Mapping[str, Any]) -> TopK: ...
