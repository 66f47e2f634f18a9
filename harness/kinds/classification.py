"""Classification task kind: mteb's protocol (undersampled logistic regression, n experiments).

The train/test CSV files are read and validated here; mteb's own ``AbsTaskClassification``
subclass for the task then draws ``samples_per_label`` training texts per label for each of its
``n_experiments`` (seeded exactly as mteb does), fits its classifier and averages the scores.
Every text is encoded through the embedding cache.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from adapters.base import Encoder
from harness.errors import DataError
from harness.kinds.mteb_bridge import (
    evaluate_main_score,
    experiment_rows,
    local_task,
    sentence_outcome,
)
from harness.kinds.outcome import Context, Outcome, Prepared
from harness.spec import RunSpec
from harness.tasks.base import TaskMeta
from harness.tasks.lines import decode_text
from harness.tasks.mteb_tasks import source
from harness.tasks.registry import require_available

TEXT, LABEL = "text", "category"  # the PolyAI release's header


@dataclass(frozen=True)
class Split:
    texts: tuple[str, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class ClassificationData:
    train: Split
    test: Split
    label_names: tuple[str, ...]  # index = label id given to mteb (sorted, case-insensitive)
    data_sha256: str
    path: Path


def load_split(path: Path) -> tuple[Split, bytes]:
    """Read a ``text,category`` CSV strictly: a header, two fields a row, no empty value."""
    if not path.is_file():
        raise DataError(path, None, None, "file not found")
    raw = path.read_bytes()
    rows = csv.reader(decode_text(path, raw).splitlines())
    header = next(rows, None)
    if header != [TEXT, LABEL]:
        raise DataError(path, 1, None, f"expected the header '{TEXT},{LABEL}', got {header}")
    texts: list[str] = []
    labels: list[str] = []
    for row in rows:
        line = rows.line_num
        if len(row) != 2:
            raise DataError(path, line, None, f"expected 2 fields, got {len(row)}")
        text, label = row
        if not text.strip():
            raise DataError(path, line, TEXT, "empty text")
        if not label.strip():
            raise DataError(path, line, LABEL, "empty label")
        texts.append(text)
        labels.append(label.strip())
    if not texts:
        raise DataError(path, None, None, "no rows")
    return Split(tuple(texts), tuple(labels)), raw


def load_classification(folder: Path, filename: str, eval_split: str) -> ClassificationData:
    train_path = folder / filename.format(split="train")
    test_path = folder / filename.format(split=eval_split)
    train, train_raw = load_split(train_path)
    test, test_raw = load_split(test_path)
    unseen = sorted(set(test.labels) - set(train.labels))
    if unseen:
        line = test.labels.index(unseen[0]) + 2  # + header, 1-based
        raise DataError(test_path, line, LABEL, f"label '{unseen[0]}' never occurs in "
                        f"{train_path.name}")
    digest = hashlib.sha256(hashlib.sha256(train_raw).digest() + hashlib.sha256(test_raw).digest())
    names = tuple(sorted(set(train.labels), key=str.lower))
    return ClassificationData(train, test, names, digest.hexdigest(), folder)


def prepare(task: TaskMeta, data_root: Path) -> Prepared:
    src = source(task.name)
    data = load_classification(require_available(task, data_root), src.filename, task.split)
    return Prepared(task, data.data_sha256, data, n_items=len(data.test.texts))


def _dataset(data: ClassificationData, split: str):  # noqa: ANN202 - datasets.DatasetDict
    from datasets import Dataset, DatasetDict

    ids = {name: i for i, name in enumerate(data.label_names)}
    return DatasetDict({
        name: Dataset.from_dict({"text": list(part.texts),
                                 "label": [ids[label] for label in part.labels]})
        for name, part in (("train", data.train), (split, data.test))})


def execute(prepared: Prepared, encoder: Encoder, spec: RunSpec, ctx: Context) -> Outcome:
    task: TaskMeta = prepared.task
    data: ClassificationData = prepared.payload
    src = source(task.name)
    mteb_task = local_task(src.mteb_class, _dataset(data, task.split))
    model, metrics, scores = evaluate_main_score(mteb_task, encoder, ctx, task, data.path)
    query_scores = experiment_rows(metrics)
    extra = {"mteb_task": src.mteb_class, "n_experiments": int(mteb_task.n_experiments),
             "samples_per_label": int(mteb_task.samples_per_label),
             "seed": int(mteb_task.seed), "classifier": repr(mteb_task.evaluator_model),
             "n_train": len(data.train.texts), "n_test": len(data.test.texts),
             "n_labels": len(data.label_names)}
    return sentence_outcome(mteb_task, model, ctx, scores, query_scores, extra,
                            len(data.test.texts), n_docs=len(data.train.texts))
