"""Clustering task kind: mteb's protocol (MiniBatchKMeans per experiment, V-measure).

Local file ``test.jsonl``: one ``{"sentences": text, "labels": label or [label per level]}`` per
line, the columns of MTEB's v2 clustering data sets. mteb's own ``AbsTaskClustering`` subclass for
the task samples, encodes (through the embedding cache) and clusters.

Per-item rows: V-measure is a property of a whole clustering, not of a text, so there is no
per-text score. What mteb does compute separately is one V-measure (and AMI) per clustering
experiment; those are stored as the run's rows (``experiment-<level>-<i>``), the unit a bootstrap
over this task can resample. The run's ``extra.per_item`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.base import Encoder
from harness.errors import DataError
from harness.kinds.mteb_bridge import (
    evaluate_main_score,
    label_field,
    label_list_field,
    local_task,
    read_jsonl,
    sentence_outcome,
    text_field,
)
from harness.kinds.outcome import Context, Outcome, Prepared
from harness.spec import RunSpec
from harness.tasks.base import TaskMeta
from harness.tasks.mteb_tasks import source
from harness.tasks.registry import require_available

PER_ITEM_NOTE = ("no per-text score: V-measure is defined on a whole clustering; rows are mteb's "
                 "per-experiment V-measure/AMI")


@dataclass(frozen=True)
class ClusteringData:
    sentences: tuple[str, ...]
    labels: tuple[Any, ...]  # a label, or a list of labels from coarse to fine (hierarchical)
    data_sha256: str
    path: Path


def _any_label(value: Any) -> str | None:
    return label_list_field(value) if isinstance(value, list) else label_field(value)


def load_clustering(path: Path) -> ClusteringData:
    rows, digest = read_jsonl(path, {"sentences": text_field, "labels": _any_label}, min_rows=2)
    hierarchical = {isinstance(r["labels"], list) for r in rows}
    if len(hierarchical) > 1:
        line = next(i for i, r in enumerate(rows, 1)
                    if isinstance(r["labels"], list) != isinstance(rows[0]["labels"], list))
        raise DataError(path, line, "labels", "mixes single labels and label lists")
    labels = [r["labels"] if isinstance(r["labels"], list) else str(r["labels"]) for r in rows]
    if True not in hierarchical and len(set(labels)) < 2:
        raise DataError(path, None, "labels", "fewer than two distinct labels")
    return ClusteringData(tuple(r["sentences"] for r in rows), tuple(labels), digest, path)


def prepare(task: TaskMeta, data_root: Path) -> Prepared:
    data = load_clustering(require_available(task, data_root) / source(task.name).filename)
    return Prepared(task, data.data_sha256, data, n_items=len(data.sentences))


def _dataset(data: ClusteringData, split: str):  # noqa: ANN202 - datasets.DatasetDict
    from datasets import Dataset, DatasetDict

    return DatasetDict({split: Dataset.from_dict({"sentences": list(data.sentences),
                                                  "labels": list(data.labels)})})


def mteb_local_task(task: TaskMeta, data: ClusteringData, capture: bool = True) -> Any:
    src = source(task.name)
    return local_task(src.mteb_class, _dataset(data, task.split), capture, **dict(src.overrides))


def execute(prepared: Prepared, encoder: Encoder, spec: RunSpec, ctx: Context) -> Outcome:
    task: TaskMeta = prepared.task
    data: ClusteringData = prepared.payload
    mteb_task = mteb_local_task(task, data)
    model, metrics, scores = evaluate_main_score(mteb_task, encoder, ctx, task, data.path)
    rows = []
    for per_level, metric in ((metrics.get("v_measures") or {}, "v_measure"),
                              (metrics.get("ami_scores") or {}, "ami")):
        for level, values in per_level.items():
            rows += [(f"experiment-{level.replace('Level ', 'L')}-{i}", metric, float(v))
                     for i, v in enumerate(values)]
    extra = {"mteb_task": source(task.name).mteb_class, "per_item": PER_ITEM_NOTE,
             "n_texts": len(data.sentences), "n_experiments": int(mteb_task.n_clusters),
             "documents_per_experiment": int(mteb_task.max_documents_per_cluster),
             "max_fraction_embedded": mteb_task.max_fraction_of_documents_to_embed,
             "seed": int(mteb_task.seed)}
    return sentence_outcome(mteb_task, model, ctx, scores, rows, extra, len(data.sentences))
