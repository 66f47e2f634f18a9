"""Pair classification kind: mteb's protocol (similarity of each pair, best-threshold AP/F1).

Local file ``test.jsonl``: one ``{"sentence1", "sentence2", "labels": 0|1}`` per line (MTEB's v2
columns; an optional ``"id"`` names the pair, else its line number does). mteb's own
``AbsTaskPairClassification`` subclass for the task scores it, encoding through the cache.

Per-item rows: each pair's cosine similarity and its gold label, so a bootstrap over pairs can
recompute average precision (``max_ap`` is the best over mteb's similarity functions).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.base import Encoder
from harness.errors import DataError
from harness.kinds.mteb_bridge import (
    SentencePairs,
    evaluate_main_score,
    one_split_task,
    read_jsonl,
    sentence_outcome,
    text_field,
)
from harness.kinds.outcome import Context, Outcome, Prepared
from harness.spec import RunSpec
from harness.tasks.base import TaskMeta
from harness.tasks.mteb_tasks import source
from harness.tasks.registry import require_available


def _binary(value: Any) -> str | None:
    return None if value in (0, 1) and not isinstance(value, float | bool) else \
        f"expected 0 or 1, got {value!r}"


def load_pairs(path: Path) -> SentencePairs:
    rows, digest = read_jsonl(path, {"sentence1": text_field, "sentence2": text_field,
                                     "labels": _binary}, min_rows=2)
    ids = [str(r.get("id", i)) for i, r in enumerate(rows, 1)]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise DataError(path, ids.index(dup) + 1, "id", f"duplicate pair id '{dup}'")
    labels = tuple(int(r["labels"]) for r in rows)
    if len(set(labels)) < 2:
        raise DataError(path, None, "labels", "needs both positive (1) and negative (0) pairs")
    return SentencePairs(tuple(ids), tuple(r["sentence1"] for r in rows),
                    tuple(r["sentence2"] for r in rows), labels, digest, path)


def prepare(task: TaskMeta, data_root: Path) -> Prepared:
    data = load_pairs(require_available(task, data_root) / source(task.name).filename)
    return Prepared(task, data.data_sha256, data, n_items=len(data.pair_ids))


def mteb_local_task(task: TaskMeta, data: SentencePairs, capture: bool = True) -> Any:
    return one_split_task(task, {"sentence1": list(data.sentence1),
                                 "sentence2": list(data.sentence2), "labels": list(data.gold)},
                          capture)


def execute(prepared: Prepared, encoder: Encoder, spec: RunSpec, ctx: Context) -> Outcome:
    task: TaskMeta = prepared.task
    data: SentencePairs = prepared.payload
    mteb_task = mteb_local_task(task, data)
    model, _, scores = evaluate_main_score(mteb_task, encoder, ctx, task, data.path)
    cosine = (mteb_task.predictions or {}).get("cosine_scores") or []
    rows = [(pid, "cosine_similarity", float(c))
            for pid, c in zip(data.pair_ids, cosine, strict=True)]
    rows += [(pid, "gold_label", float(g)) for pid, g in zip(data.pair_ids, data.gold,
                                                             strict=True)]
    extra = {"mteb_task": source(task.name).mteb_class, "n_pairs": len(data.pair_ids),
             "n_positive": sum(data.gold),
             "per_item": "cosine_similarity and gold_label per pair"}
    return sentence_outcome(mteb_task, model, ctx, scores, rows, extra, len(data.pair_ids),
                            task_queries=[(pid, f"{a}\t{b}") for pid, a, b in zip(
                                data.pair_ids, data.sentence1, data.sentence2, strict=True)])
