"""What `harness data ls` shows: each task or folder under the data root and its state."""

from __future__ import annotations

from pathlib import Path

from harness.data.download import MANIFEST, PARTIAL
from harness.tasks.registry import all_tasks, availability


def data_status(data_root: Path) -> list[tuple[str, str, str]]:
    """(name, status, detail) rows: registry tasks, then other folders, then partial downloads."""
    rows = []
    seen: set[Path] = set()
    for task in all_tasks():
        state = availability(task, data_root)
        seen.add((data_root / task.folder).resolve())
        if state.available:
            rows.append((task.name, "local", str(state.path)))
        elif "corpus missing" in state.reason:
            rows.append((task.name, "partial", f"{state.reason}; pull: {task.download_url}"))
        elif task.download_url:
            rows.append((task.name, "downloadable", task.download_url))
        else:
            rows.append((task.name, "missing", state.reason))
    for parent in ("beir", "mteb"):
        folders = {p.parent for pattern in ("*/corpus.jsonl", f"*/{MANIFEST}")
                   for p in (data_root / parent).glob(pattern)}
        for folder in sorted(folders):
            if folder.resolve() not in seen:
                rows.append((folder.name, "local", str(folder)))
    for part in sorted((data_root / PARTIAL).glob("*.part")):
        rows.append((part.name, "partial", f"{part.stat().st_size} bytes downloaded; pull again "
                     "to resume"))
    return rows
