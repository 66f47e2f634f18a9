"""Any task in mteb's own registry, with mteb's metadata, as a harness task.

A task of a supported type (``MTEB_TYPE_TO_KIND``) becomes a ``TaskMeta`` whose files live under
``<data root>/mteb/<Name>`` once pulled (`harness data pull Name`, which runs mteb's own loader and
writes the BEIR layout there; see harness/data/mteb_pull.py). Other tasks are reported with the
reason they cannot run, never a crash. ``import mteb`` costs seconds, so nothing here runs unless a
name was not found in the registry or a folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.tasks.base import TaskMeta
from harness.tasks.registry import MTEB_TYPE_TO_KIND, TASKS, all_tasks, availability

PULLED_FOLDER = "mteb"  # under the data root: mteb/<TaskName>/ in BEIR layout


def find_mteb_task(name: str) -> Any | None:
    import mteb

    all_tasks()  # other task modules register themselves: STS/classification are known by name
    try:
        return mteb.get_task(name)
    except (KeyError, ValueError):
        return None


def unsupported_reason(task: Any) -> str | None:
    """Why the harness cannot run this mteb task, or None when it can."""
    meta = task.metadata
    kind = MTEB_TYPE_TO_KIND.get(meta.type)
    if kind is None:
        return f"type {meta.type} has no harness task kind yet"
    if list(meta.modalities) != ["text"]:
        return f"modalities {','.join(meta.modalities)} (text only)"
    if meta.name in TASKS:
        return None
    if meta.is_multilingual:
        return "multilingual subsets (one English folder per task is supported)"
    if kind == "sts" and tuple(getattr(task, "column_names", ())) != ("sentence1", "sentence2"):
        return "STS columns other than sentence1/sentence2"
    if kind == "classification" and not isinstance(getattr(task, "input_column_name", None), str):
        return "classification input is not a single text column"
    return None


def register_source(task: Any) -> None:
    """STS and classification kinds read files through an ``MtebSource`` naming the mteb class
    whose protocol scores them: register one for a task pulled from mteb's registry."""
    from harness.tasks.mteb_tasks import SOURCES, MtebSource

    meta = task.metadata
    if meta.name in SOURCES or MTEB_TYPE_TO_KIND[meta.type] == "retrieval":
        return
    cls = type(task)
    if MTEB_TYPE_TO_KIND[meta.type] == "sts":
        SOURCES[meta.name] = MtebSource(f"{cls.__module__}:{cls.__name__}",
                                        f"{meta.eval_splits[0]}.jsonl",
                                        min_score=float(task.min_score),
                                        max_score=float(task.max_score))
    else:
        SOURCES[meta.name] = MtebSource(f"{cls.__module__}:{cls.__name__}", "{split}.csv")


def task_meta(task: Any) -> TaskMeta:
    meta = task.metadata
    return TaskMeta(
        name=meta.name, type=MTEB_TYPE_TO_KIND[meta.type], folder=f"{PULLED_FOLDER}/{meta.name}",
        main_score=meta.main_score, split=meta.eval_splits[0],
        description=(meta.description or "").strip().splitlines()[0][:200]
        if meta.description else "",
        license=str(meta.license or "unknown"),
        ignore_identical_ids=bool(getattr(task, "ignore_identical_ids", False)),
        source="mteb", dataset_path=str(meta.dataset.get("path")),
        dataset_revision=meta.dataset.get("revision"))


def mteb_task(name: str) -> TaskMeta | None:
    """The TaskMeta of an mteb task of a supported type; None when mteb does not know the name."""
    task = find_mteb_task(name)
    if task is None:
        return None
    if task.metadata.name in TASKS:
        return TASKS[task.metadata.name]
    reason = unsupported_reason(task)
    if reason is not None:
        raise HarnessError(f"MTEB task {task.metadata.name} is not supported: {reason}")
    register_source(task)
    return task_meta(task)


@dataclass(frozen=True)
class MtebRow:
    name: str
    mteb_type: str
    kind: str
    status: str  # "local" | "partial" | "downloadable" | "unsupported"
    reason: str


def list_mteb_tasks(data_root: Path, languages: tuple[str, ...] = ("eng",)) -> list[MtebRow]:
    """Every mteb task in ``languages`` with its status under ``data_root``."""
    import mteb

    all_tasks()
    rows = []
    for task in mteb.get_tasks(languages=list(languages)):
        meta = task.metadata
        kind = MTEB_TYPE_TO_KIND.get(meta.type, "-")
        reason = unsupported_reason(task)
        if reason is not None:
            rows.append(MtebRow(meta.name, meta.type, kind, "unsupported", reason))
            continue
        harness_task = TASKS.get(meta.name) or task_meta(task)
        state = availability(harness_task, data_root)
        if state.available:
            status, why = "local", str(state.path)
        elif "corpus missing" in state.reason:
            status, why = "partial", state.reason
        else:
            status, why = "downloadable", harness_task.download_url or meta.dataset.get("path")
        rows.append(MtebRow(meta.name, meta.type, kind, status, str(why)))
    return sorted(rows, key=lambda r: (r.status == "unsupported", r.mteb_type, r.name))
