"""Task names as MTEB uses them, mapped to folders under the data root.

A task whose files are absent is listed as unavailable with the reason; it never crashes a listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError, UnknownNameError
from harness.tasks.base import TaskMeta

_BEIR_URL = "https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/{}.zip"


def _beir(name: str, folder: str, license: str = "unknown", **kw: object) -> TaskMeta:
    return TaskMeta(name=name, type="retrieval", folder=f"beir/{folder}",
                    partial_folder=f"beir_partial/{folder}", license=license,
                    download_url=_BEIR_URL.format(folder.split("-")[0]
                                                  if folder.startswith("cqadupstack") else folder),
                    **kw)  # type: ignore[arg-type]


_CQA = ["android", "english", "gaming", "gis", "mathematica", "physics", "programmers", "stats",
        "tex", "unix", "webmasters", "wordpress"]

TASKS: dict[str, TaskMeta] = {
    t.name: t
    for t in [
        _beir("SciFact", "scifact", "cc-by-nc-4.0", description="Scientific claim verification"),
        _beir("NFCorpus", "nfcorpus", "academic use", description="Nutrition/medical retrieval"),
        _beir("ArguAna", "arguana", "cc-by-sa-4.0", ignore_identical_ids=True),
        _beir("SCIDOCS", "scidocs", "cc-by-sa-4.0"),
        _beir("FiQA2018", "fiqa", ignore_identical_ids=True),
        _beir("TRECCOVID", "trec-covid"),
        _beir("QuoraRetrieval", "quora", ignore_identical_ids=True),
        _beir("Touche2020", "webis-touche2020", "cc-by-sa-4.0"),
        *[_beir(f"CQADupstack{s.capitalize()}Retrieval", f"cqadupstack-{s}", "apache-2.0")
          for s in _CQA],
    ]
}


def register(task: TaskMeta) -> None:
    """Add a task (other task types register themselves here)."""
    TASKS[task.name] = task


# mteb task type -> harness task kind (the module in harness/runner.py TASK_KINDS). The one place
# that says which MTEB tasks the harness can run; add a line when a kind is added.
MTEB_TYPE_TO_KIND: dict[str, str] = {
    "Retrieval": "retrieval",
    "STS": "sts",
    "Classification": "classification",
}


def split_suffix(text: str) -> tuple[str, str | None]:
    """``Name@split`` -> (Name, split); a plain name -> (name, None). `--split` appends it."""
    base, sep, split = text.rpartition("@")
    if sep and base and split and "/" not in split:
        return base, split
    return text, None


def get_task(name: str) -> TaskMeta:
    """Registry name, then a local BEIR folder, then any task in mteb's registry.

    ``name@split`` (or `--split`) chooses the split.
    """
    from dataclasses import replace

    _load_extra_tasks()
    base, split = split_suffix(name)
    by_lower = {k.lower(): v for k, v in TASKS.items()}
    if base.lower() in by_lower:
        task = by_lower[base.lower()]
        return replace(task, split=split) if split else task
    from harness.tasks.folder import folder_task, looks_like_path

    if looks_like_path(base):
        return folder_task(Path(base), split)
    from harness.tasks.mteb_registry import mteb_task

    task = mteb_task(base)
    if task is None:
        raise UnknownNameError("task", base, sorted(TASKS))
    return replace(task, split=split) if split else task


@dataclass(frozen=True)
class Availability:
    task: TaskMeta
    available: bool
    reason: str
    path: Path


def availability(task: TaskMeta, data_root: Path) -> Availability:
    folder = data_root / task.folder
    if task.type == "retrieval":
        if (folder / "corpus.jsonl").is_file():
            return Availability(task, True, "", folder)
        if task.partial_folder and (data_root / task.partial_folder).is_dir():
            return Availability(task, False, "corpus missing (only queries and qrels are staged)",
                                data_root / task.partial_folder)
        return Availability(task, False, f"not found under {data_root}", folder)
    if folder.is_dir():
        return Availability(task, True, "", folder)
    return Availability(task, False, f"not found under {data_root}", folder)


def require_available(task: TaskMeta, data_root: Path) -> Path:
    status = availability(task, data_root)
    if not status.available:
        hint = (f"; fetch it with `harness data pull {task.name}` or `harness run --pull`"
                if task.download_url or task.source == "mteb" else "")
        raise HarnessError(f"task {task.name} is unavailable: {status.reason} ({status.path})"
                           f"{hint}")
    return status.path


def all_tasks() -> list[TaskMeta]:
    _load_extra_tasks()
    return list(TASKS.values())


def _load_extra_tasks() -> None:
    """Other task types live in their own modules; importing them registers them (cheap)."""
    import importlib

    for module in _EXTRA_TASK_MODULES:
        importlib.import_module(module)


_EXTRA_TASK_MODULES: tuple[str, ...] = ("harness.tasks.mteb_tasks",)


# mteb task type -> harness task kind (the kind module is harness.kinds.<kind>)
MTEB_TYPE_TO_KIND: dict[str, str] = {
    "Retrieval": "retrieval", "STS": "sts", "Classification": "classification",
    "Clustering": "clustering", "PairClassification": "pair_classification",
    "Reranking": "reranking", "Summarization": "summarization",
    "MultilabelClassification": "multilabel_classification",
}
