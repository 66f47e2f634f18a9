"""Pull an MTEB task through mteb's own loader and write it out in the harness's file layout.

``task.load_data()`` is mteb's code path (``RetrievalDatasetLoader`` -> ``datasets.load_dataset``),
online from the hub. ``dataset_dir`` swaps only the dataset path in the task's metadata for a local
folder laid out like the hub repository (README.md with ``configs:`` and the data files): the same
loader then reads it offline, because ``datasets.load_dataset`` accepts a local folder wherever it
accepts a hub id. Retrieval: corpus, queries and qrels of the eval split in BEIR layout; STS:
``<split>.jsonl`` with sentence1/sentence2/score; classification: ``train.csv`` and
``<split>.csv`` with text,category. All under ``<data root>/mteb/<Name>/``, written atomically, so
later runs read files and never the network.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from harness.data.download import MANIFEST, sha256_file
from harness.errors import HarnessError
from harness.tasks.mteb_registry import PULLED_FOLDER, unsupported_reason


def _find(name: str) -> Any:
    import mteb

    try:
        task = mteb.get_task(name)
    except (KeyError, ValueError):
        raise HarnessError(f"unknown MTEB task '{name}'") from None
    reason = unsupported_reason(task)
    if reason is not None:
        raise HarnessError(f"MTEB task {task.metadata.name} cannot be pulled: {reason}")
    return task


def _load_data(task: Any, dataset_dir: Path | None) -> None:
    name = task.metadata.name
    if dataset_dir is not None:
        dataset = {**task.metadata.dataset, "path": str(dataset_dir)}
        task.metadata = task.metadata.model_copy(update={"dataset": dataset})
    try:
        task.load_data()
    except Exception as exc:  # noqa: BLE001 - datasets/hub errors become one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HarnessError(f"MTEB task {name}: loading {task.metadata.dataset['path']} failed "
                           f"({type(exc).__name__}: {first[:300]})") from None


def _write_beir(split_data: dict[str, Any], split: str, out: Path) -> None:
    (out / "qrels").mkdir(parents=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for row in split_data["corpus"]:
            fh.write(json.dumps({"_id": str(row["id"]), "title": row.get("title") or "",
                                 "text": row.get("text") or ""}, ensure_ascii=False) + "\n")
    with (out / "queries.jsonl").open("w", encoding="utf-8") as fh:
        for row in split_data["queries"]:
            fh.write(json.dumps({"_id": str(row["id"]), "text": row.get("text") or ""},
                                ensure_ascii=False) + "\n")
    with (out / "qrels" / f"{split}.tsv").open("w", encoding="utf-8") as fh:
        fh.write("query-id\tcorpus-id\tscore\n")
        for qid, docs in split_data["relevant_docs"].items():
            for doc_id, score in docs.items():
                fh.write(f"{qid}\t{doc_id}\t{int(score)}\n")


def _splits(task: Any) -> Any:
    """split -> data of the task's one subset (mteb nests single-subset data sometimes)."""
    data = task.dataset
    if task.metadata.eval_splits[0] in data:
        return data
    subset = "default" if "default" in data else next(iter(data))
    return data[subset]


def _write_sts(task: Any, out: Path) -> None:
    split = task.metadata.eval_splits[0]
    out.mkdir(parents=True)
    with (out / f"{split}.jsonl").open("w", encoding="utf-8") as fh:
        for row in _splits(task)[split]:
            fh.write(json.dumps({"sentence1": row["sentence1"], "sentence2": row["sentence2"],
                                 "score": row["score"]}, ensure_ascii=False) + "\n")


def _write_classification(task: Any, out: Path) -> None:
    import csv

    splits = _splits(task)
    out.mkdir(parents=True)
    for split in dict.fromkeys([task.train_split, task.metadata.eval_splits[0]]):
        data = splits[split]
        feature = data.features.get(task.label_column_name)
        names = getattr(feature, "names", None)
        with (out / f"{split}.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["text", "category"])
            for row in data:
                label = row[task.label_column_name]
                writer.writerow([row[task.input_column_name],
                                 names[label] if names else str(label)])


def _write_retrieval(task: Any, out: Path) -> None:
    split = task.metadata.eval_splits[0]
    subset = "default" if "default" in task.dataset else next(iter(task.dataset))
    _write_beir(task.dataset[subset][split], split, out)


_WRITERS = {"Retrieval": _write_retrieval, "STS": _write_sts,
            "Classification": _write_classification}


def pull_mteb(name: str, data_root: Path, dataset_dir: Path | None = None) -> Path:
    """mteb's loader -> ``<data_root>/mteb/<Name>`` in the harness layout; returns the folder."""
    task = _find(name)
    meta = task.metadata
    target = data_root / PULLED_FOLDER / meta.name
    if (target / MANIFEST).is_file():
        return target  # pulled before: offline from now on
    _load_data(task, dataset_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".pull-", dir=target.parent))
    try:
        out = tmp / meta.name
        _WRITERS[meta.type](task, out)
        files = sorted(p for p in out.rglob("*") if p.is_file())
        manifest = {"mteb_task": meta.name, "dataset_path": task.metadata.dataset["path"],
                    "dataset_revision": meta.dataset.get("revision"),
                    "split": meta.eval_splits[0], "license": str(meta.license),
                    "files": {str(p.relative_to(out)): sha256_file(p) for p in files}}
        (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        if target.exists():
            shutil.rmtree(target)  # a partial folder without a corpus (e.g. staged qrels only)
        os.replace(out, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
