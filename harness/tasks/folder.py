"""A BEIR-format folder given by path is a retrieval task of its own.

The task is named after the folder; its split comes from ``qrels/<split>.tsv`` (``test`` when
present, else the only one, else ``--split`` must choose). The run key carries the sha256 of the
files actually loaded (see harness/tasks/beir.py), so two folders with the same name but different
data never share a result.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import HarnessError
from harness.tasks.base import TaskMeta


def looks_like_path(text: str) -> bool:
    """An existing path, or text written as one (so a typo is reported as a missing folder)."""
    return Path(text).expanduser().exists() or text.startswith((".", "/", "~")) or "/" in text


def qrels_splits(folder: Path) -> list[str]:
    return sorted(p.stem for p in (folder / "qrels").glob("*.tsv") if p.is_file())


def choose_split(folder: Path, wanted: str | None) -> str:
    splits = qrels_splits(folder)
    if not splits:
        raise HarnessError(f"{folder}: no qrels/<split>.tsv, so nothing to evaluate against "
                           "(a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/*.tsv)")
    if wanted is not None:
        if wanted not in splits:
            raise HarnessError(f"{folder}: no split '{wanted}' (qrels has: {', '.join(splits)})")
        return wanted
    if "test" in splits:
        return "test"
    if len(splits) == 1:
        return splits[0]
    raise HarnessError(f"{folder}: several splits ({', '.join(splits)}); choose one with "
                       "--split or NAME@split")


def folder_task(path: Path, split: str | None = None) -> TaskMeta:
    folder = path.expanduser()
    if not folder.is_dir():
        raise HarnessError(f"task '{path}': no such folder (and not a registry or MTEB task name)")
    folder = folder.resolve()
    for required in ("corpus.jsonl", "queries.jsonl"):
        if not (folder / required).is_file():
            raise HarnessError(f"{folder}: not a BEIR folder ({required} is missing)")
    chosen = choose_split(folder, split)
    return TaskMeta(name=folder.name, type="retrieval", folder=str(folder), split=chosen,
                    description=f"BEIR folder {folder}", source="folder")
