"""IR metrics, all computed by ir-measures. Names are MTEB's keys so published values line up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import ir_measures
from ir_measures import AP, RR, P, R, nDCG

# MTEB key -> ir-measures measure (immutable value objects).
RETRIEVAL_METRICS: Mapping[str, object] = MappingProxyType({
    "ndcg_at_10": nDCG @ 10,
    "recall_at_100": R @ 100,
    "map_at_100": AP @ 100,
    "mrr_at_10": RR @ 10,
    "precision_at_10": P @ 10,
    "ndcg_at_100": nDCG @ 100,
    "recall_at_10": R @ 10,
})
_BY_MEASURE = {str(m): key for key, m in RETRIEVAL_METRICS.items()}


@dataclass(frozen=True)
class Evaluation:
    means: dict[str, float]  # metric -> mean over queries
    per_query: list[tuple[str, str, float]]  # (query_id, metric, value)


def evaluate_run(run: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]],
                 metrics: tuple[str, ...] = tuple(RETRIEVAL_METRICS)) -> Evaluation:
    measures = [RETRIEVAL_METRICS[m] for m in metrics]
    per_query = [(r.query_id, _BY_MEASURE[str(r.measure)], float(r.value))
                 for r in ir_measures.iter_calc(measures, qrels, run)]
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for _, metric, value in per_query:
        sums[metric] = sums.get(metric, 0.0) + value
        counts[metric] = counts.get(metric, 0) + 1
    # The mean over evaluated queries, as pytrec_eval/MTEB report it.
    return Evaluation({m: sums[m] / counts[m] for m in sums}, per_query)
