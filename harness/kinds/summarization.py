"""Summarization kind: mteb's protocol (machine summary vs. human summaries, Spearman per text).

Local file ``test.jsonl``: one ``{"text", "human_summaries": [..], "machine_summaries": [..],
"relevance": [score per machine summary]}`` per line (MTEB's SummEval v2 columns; optional
``"id"``). mteb's own ``AbsTaskSummarization`` subclass scores it, encoding through the cache.

Per-item rows: mteb computes one Spearman correlation per text and reports their mean; the rows
are those per-text correlations (``cosine_spearman``, ``spearman``), recomputed from the
similarities mteb hands to its prediction writer with the same scipy call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.base import Encoder
from harness.errors import DataError
from harness.kinds.mteb_bridge import (
    evaluate_main_score,
    number_field,
    one_split_task,
    read_jsonl,
    sentence_outcome,
    text_field,
    text_list_field,
)
from harness.kinds.outcome import Context, Outcome, Prepared
from harness.spec import RunSpec
from harness.tasks.base import TaskMeta
from harness.tasks.mteb_tasks import source
from harness.tasks.registry import require_available


@dataclass(frozen=True)
class SummarizationData:
    ids: tuple[str, ...]
    texts: tuple[str, ...]
    human: tuple[tuple[str, ...], ...]
    machine: tuple[tuple[str, ...], ...]
    relevance: tuple[tuple[float, ...], ...]
    data_sha256: str
    path: Path


def _numbers(value: Any) -> str | None:
    if not isinstance(value, list) or len(value) < 2:
        return "expected a list of at least two relevance scores"
    bad = [v for v in value if number_field(v)]
    return number_field(bad[0]) if bad else None


def load_summaries(path: Path) -> SummarizationData:
    rows, digest = read_jsonl(path, {"text": text_field, "human_summaries": text_list_field,
                                     "machine_summaries": text_list_field,
                                     "relevance": _numbers})
    for line, row in enumerate(rows, 1):
        if len(row["relevance"]) != len(row["machine_summaries"]):
            raise DataError(path, line, "relevance", f"{len(row['relevance'])} scores for "
                            f"{len(row['machine_summaries'])} machine summaries")
    ids = tuple(str(r.get("id", i)) for i, r in enumerate(rows, 1))
    return SummarizationData(
        ids, tuple(r["text"] for r in rows), tuple(tuple(r["human_summaries"]) for r in rows),
        tuple(tuple(r["machine_summaries"]) for r in rows),
        tuple(tuple(float(x) for x in r["relevance"]) for r in rows), digest, path)


def prepare(task: TaskMeta, data_root: Path) -> Prepared:
    data = load_summaries(require_available(task, data_root) / source(task.name).filename)
    return Prepared(task, data.data_sha256, data, n_items=len(data.ids))


def mteb_local_task(task: TaskMeta, data: SummarizationData, capture: bool = True) -> Any:
    return one_split_task(task, {
        "text": list(data.texts), "human_summaries": [list(h) for h in data.human],
        "machine_summaries": [list(m) for m in data.machine],
        "relevance": [list(r) for r in data.relevance]}, capture)


def per_text_rows(ids: tuple[str, ...], distances: dict[str, Any]) -> list[tuple[str, str, float]]:
    """mteb's per-text correlations (its ``_calculate_metrics`` averages exactly these)."""
    from scipy.stats import spearmanr

    rows = []
    for tid, gold, cosine, sim in zip(ids, distances["human_scores"], distances["cosine_scores"],
                                      distances["similarity_scores"], strict=True):
        rows.append((tid, "cosine_spearman", float(spearmanr(gold, cosine).statistic)))
        rows.append((tid, "spearman", float(spearmanr(gold, sim).statistic)))
    return rows


def execute(prepared: Prepared, encoder: Encoder, spec: RunSpec, ctx: Context) -> Outcome:
    task: TaskMeta = prepared.task
    data: SummarizationData = prepared.payload
    mteb_task = mteb_local_task(task, data)
    model, _, scores = evaluate_main_score(
        mteb_task, encoder, ctx, task, data.path,
        " (a text whose relevance scores are all equal has no correlation)")
    rows = per_text_rows(data.ids, mteb_task.predictions or {})
    extra = {"mteb_task": source(task.name).mteb_class, "n_texts": len(data.ids),
             "n_machine_summaries": sum(len(m) for m in data.machine),
             "relevance_range": [mteb_task.min_score, mteb_task.max_score],
             "per_item": "mteb's Spearman correlation per text"}
    return sentence_outcome(mteb_task, model, ctx, scores, rows, extra, len(data.ids))
