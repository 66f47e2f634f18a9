"""What every search backend returns: top-k document indices and scores per query."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
