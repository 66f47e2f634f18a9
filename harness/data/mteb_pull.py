"""Pull an MTEB retrieval task through mteb's own loader and write it out as a BEIR folder.

``task.load_data()`` is mteb's code path (``RetrievalDatasetLoader`` -> ``datasets.load_dataset``),
online from the hub. ``dataset_dir`` swaps only the dataset path in the task's metadata for a local
folder laid out like the hub repository (README.md with ``configs:`` and the data files): the same
loader then reads it offline, because ``datasets.load_dataset`` accepts a local folder wherever it
accepts a hub id. The corpus, queries and qrels of the eval split are written to
``<data root>/mteb/<Name>/`` (atomically), so later runs read files and never the network.
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


def _load(name: str, dataset_dir: Path | None) -> Any:
    import mteb

    try:
        task = mteb.get_task(name)
    except (KeyError, ValueError):
        raise HarnessError(f"unknown MTEB task '{name}'") from None
    reason = unsupported_reason(task)
    if reason is not None or task.metadata.type != "Retrieval":
        raise HarnessError(f"MTEB task {task.metadata.name} cannot be pulled: "
                           f"{reason or 'only retrieval tasks are pulled through mteb'}")
    if dataset_dir is not None:
        dataset = {**task.metadata.dataset, "path": str(dataset_dir)}
        task.metadata = task.metadata.model_copy(update={"dataset": dataset})
    try:
        task.load_data()
    except Exception as exc:  # noqa: BLE001 - datasets/hub errors become one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HarnessError(f"MTEB task {name}: loading {task.metadata.dataset['path']} failed "
                           f"({type(exc).__name__}: {first[:300]})") from None
    return task


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


def pull_mteb(name: str, data_root: Path, dataset_dir: Path | None = None) -> Path:
    """mteb's loader -> ``<data_root>/mteb/<Name>`` in BEIR layout; returns the folder."""
    task = _load(name, dataset_dir)
    meta = task.metadata
    target = data_root / PULLED_FOLDER / meta.name
    if (target / "corpus.jsonl").is_file():
        return target
    split = meta.eval_splits[0]
    subset = "default" if "default" in task.dataset else next(iter(task.dataset))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".pull-", dir=target.parent))
    try:
        out = tmp / meta.name
        _write_beir(task.dataset[subset][split], split, out)
        files = sorted(p for p in out.rglob("*") if p.is_file())
        manifest = {"mteb_task": meta.name, "dataset_path": task.metadata.dataset["path"],
                    "dataset_revision": meta.dataset.get("revision"), "subset": subset,
                    "split": split, "license": str(meta.license),
                    "files": {str(p.relative_to(out)): sha256_file(p) for p in files}}
        (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        if target.exists():
            shutil.rmtree(target)  # a partial folder without a corpus (e.g. staged qrels only)
        os.replace(out, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
