"""`harness data pull NAME|URL`: what to fetch for a name, and the same on demand for `run --pull`.

A URL is downloaded (resumable, checked) and unpacked as a BEIR folder under ``<root>/beir/``; a
registry task downloads its official BEIR zip; any other name is looked up in mteb's registry and
pulled through mteb's loader into ``<root>/mteb/<Name>/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from harness.data.download import PARTIAL, download, remove_if_empty, unpack_beir_zip
from harness.errors import HarnessError
from harness.tasks.base import TaskMeta
from harness.tasks.registry import TASKS, all_tasks, availability, split_suffix

BEIR_FOLDER = "beir"  # under the data root


@dataclass(frozen=True)
class Pulled:
    name: str
    folder: Path
    sha256: str | None  # of the downloaded archive (None for mteb pulls: see the manifest)
    resumed: bool = False


def is_url(text: str) -> bool:
    return urlparse(text).scheme in ("http", "https")


def pull_url(url: str, data_root: Path, *, sha256: str | None = None,
             name: str | None = None) -> Pulled:
    filename = Path(urlparse(url).path).name or "download.zip"
    part = data_root / PARTIAL / f"{filename}.part"
    got = download(url, part, sha256=sha256)
    try:
        folder = unpack_beir_zip(got.path, data_root / BEIR_FOLDER, name=name,
                                 source={"url": url, "archive_sha256": got.sha256,
                                         "archive_bytes": got.size})
    finally:
        got.path.unlink(missing_ok=True)
        remove_if_empty(got.path.parent)
    return Pulled(folder.name, folder, got.sha256, got.resumed)


def _registry_task(name: str) -> TaskMeta | None:
    all_tasks()
    return {k.lower(): v for k, v in TASKS.items()}.get(name.lower())


def pull(target: str, data_root: Path, *, sha256: str | None = None,
         dataset_dir: Path | None = None) -> Pulled:
    if is_url(target):
        return pull_url(target, data_root, sha256=sha256)
    task = _registry_task(target)
    if task is not None:
        state = availability(task, data_root)
        if state.available:
            return Pulled(task.name, state.path, None)
        if task.type != "retrieval" or not task.download_url:
            raise HarnessError(f"task {task.name} has no download source; place its files "
                               f"at {data_root / task.folder}")
        if task.folder.startswith("beir/cqadupstack"):
            raise HarnessError(f"task {task.name}: the CQADupStack zip holds twelve forums in "
                               "another layout; unpack the forum's BEIR folder by hand")
        return pull_url(task.download_url, data_root, sha256=sha256,
                        name=Path(task.folder).name)
    from harness.data.mteb_pull import pull_mteb

    folder = pull_mteb(target, data_root, dataset_dir)
    return Pulled(folder.name, folder, None)


def resolve_task_args(tasks: tuple[str, ...], split: str | None, data_root: Path,
                      pull_missing: bool) -> list[str]:
    """`run -t` values made explicit: a folder pulled by URL (``<root>/beir/<name>``) by path,
    ``--split`` as ``@split``, and with ``--pull`` the missing data fetched first."""
    resolved = []
    for text in tasks:
        base, own_split = split_suffix(text)
        chosen = own_split or split
        pulled_folder = data_root / BEIR_FOLDER / base
        if _registry_task(base) is None and not Path(base).expanduser().exists() \
                and (pulled_folder / "corpus.jsonl").is_file():
            base = str(pulled_folder)
        elif pull_missing and not Path(base).expanduser().exists():
            _pull_if_missing(base, data_root)
        resolved.append(f"{base}@{chosen}" if chosen else base)
    return resolved


def _pull_if_missing(name: str, data_root: Path) -> None:
    task = _registry_task(name)
    if task is not None and availability(task, data_root).available:
        return
    from harness.data.download import MANIFEST
    from harness.tasks.mteb_registry import PULLED_FOLDER

    if task is None and (data_root / PULLED_FOLDER / name / MANIFEST).is_file():
        return
    pull(name, data_root)
