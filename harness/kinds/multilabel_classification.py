"""Multi-label classification kind: mteb's protocol (undersampled kNN per experiment).

Local files ``train.jsonl`` and ``<split>.jsonl``: one ``{"text", "label": [label, ...]}`` per
line. mteb's own ``AbsTaskMultilabelClassification`` subclass draws its training samples (seeded as
mteb does), fits its classifier on cached embeddings and averages over experiments.

Per-item rows: mteb scores each experiment, not each text (subset accuracy, F1 and LRAP are
set-level metrics); the rows are its per-experiment scores, as for single-label classification.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.base import Encoder
from harness.errors import DataError
from harness.kinds.mteb_bridge import (
    evaluate_main_score,
    experiment_rows,
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

PER_ITEM_NOTE = ("no per-text score: mteb scores whole experiments; rows are its "
                 "per-experiment metrics")


@dataclass(frozen=True)
class MultilabelData:
    train: tuple[tuple[str, tuple[str, ...]], ...]
    test: tuple[tuple[str, tuple[str, ...]], ...]
    label_names: tuple[str, ...]
    data_sha256: str
    path: Path


def _split(path: Path) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], str]:
    rows, digest = read_jsonl(path, {"text": text_field, "label": label_list_field})
    return tuple((r["text"], tuple(str(x) for x in r["label"])) for r in rows), digest


def load_multilabel(folder: Path, filename: str, split: str) -> MultilabelData:
    train, train_sha = _split(folder / filename.format(split="train"))
    test, test_sha = _split(folder / filename.format(split=split))
    names = tuple(sorted({x for _, labels in train for x in labels}))
    unseen = sorted({x for _, labels in test for x in labels} - set(names))
    if unseen:
        raise DataError(folder / filename.format(split=split), None, "label",
                        f"label '{unseen[0]}' never occurs in the train split")
    return MultilabelData(train, test, names, f"{train_sha}:{test_sha}", folder)


def prepare(task: TaskMeta, data_root: Path) -> Prepared:
    data = load_multilabel(require_available(task, data_root), source(task.name).filename,
                           task.split)
    return Prepared(task, data.data_sha256, data, n_items=len(data.test))


def mteb_local_task(task: TaskMeta, data: MultilabelData, capture: bool = True) -> Any:
    from datasets import Dataset, DatasetDict

    ids = {name: i for i, name in enumerate(data.label_names)}
    dataset = DatasetDict({
        name: Dataset.from_dict({"text": [t for t, _ in part],
                                 "label": [[ids[x] for x in labels] for _, labels in part]})
        for name, part in (("train", data.train), (task.split, data.test))})
    src = source(task.name)
    return local_task(src.mteb_class, dataset, capture, **dict(src.overrides))


def execute(prepared: Prepared, encoder: Encoder, spec: RunSpec, ctx: Context) -> Outcome:
    task: TaskMeta = prepared.task
    data: MultilabelData = prepared.payload
    mteb_task = mteb_local_task(task, data)
    model, metrics, scores = evaluate_main_score(mteb_task, encoder, ctx, task, data.path)
    rows = experiment_rows(metrics)
    extra = {"mteb_task": source(task.name).mteb_class, "per_item": PER_ITEM_NOTE,
             "n_experiments": int(mteb_task.n_experiments),
             "samples_per_label": int(mteb_task.samples_per_label),
             "classifier": repr(mteb_task.evaluator_model), "n_train": len(data.train),
             "n_test": len(data.test), "n_labels": len(data.label_names)}
    return sentence_outcome(mteb_task, model, ctx, scores, rows, extra, len(data.test),
                            n_docs=len(data.train))
