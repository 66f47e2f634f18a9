"""Query and document texts for the head-to-head and hard-query views.

Queries and judgments come from the store (task_queries, task_qrels). Documents come from the
task's local data under the data root, used only when its checksum equals the run's
``spec.task.data_sha256``; otherwise ids only, with the reason. Nothing is copied per run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

_QUERIES_SQL = "SELECT query_id, text FROM task_queries WHERE task = ? AND data_sha256 = ?"
_QRELS_SQL = ("SELECT query_id, doc_id, relevance FROM task_qrels WHERE task = ? AND "
              "data_sha256 = ?")
_TOP_SQL = """
SELECT run_key, query_id, rank, doc_id, score FROM rankings
WHERE list_contains(?::VARCHAR[], run_key) AND list_contains(?::VARCHAR[], query_id)
  AND rank <= ?
ORDER BY run_key, query_id, rank
"""


@dataclass(frozen=True)
class Documents:
    texts: dict[str, tuple[str, str]]  # doc id -> (title, text); empty when unavailable
    note: str  # why texts are absent ('' when present)


def query_texts(con, task: str, data_sha: str) -> dict[str, str]:  # noqa: ANN001
    return dict(con.execute(_QUERIES_SQL, [task, data_sha]).fetchall())


def qrels(con, task: str, data_sha: str) -> pd.DataFrame:  # noqa: ANN001
    return con.execute(_QRELS_SQL, [task, data_sha]).df()


def top_documents(con, run_keys: list[str], query_ids: list[str],  # noqa: ANN001
                  k: int = 5) -> pd.DataFrame:
    return con.execute(_TOP_SQL, [run_keys, query_ids, k]).df()


def _files(folder: Path, split: str) -> list[Path]:
    return [folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / f"{split}.tsv"]


@lru_cache(maxsize=16)
def _checksum(paths: tuple[Path, ...], stamps: tuple[tuple[int, int], ...]) -> str:
    from harness.tasks.beir import file_sha256

    return file_sha256(list(paths))  # ``stamps`` (mtime, size) key the cache


@lru_cache(maxsize=4)
def _corpus(path: Path, stamp: tuple[int, int]) -> dict[str, tuple[str, str]]:
    docs: dict[str, tuple[str, str]] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                obj = json.loads(line)
                docs[str(obj.get("_id"))] = (obj.get("title") or "", obj.get("text") or "")
    return docs


def documents(task: str, split: str, data_sha: str, data_root: Path | None = None) -> Documents:
    """The task's corpus when the local files are the ones the run used."""
    from harness.data_root import resolve_data_root
    from harness.errors import HarnessError
    from harness.tasks.registry import get_task

    try:
        meta = get_task(task)
        folder = resolve_data_root(data_root) / meta.folder
    except HarnessError as exc:
        return Documents({}, f"document texts unavailable: {exc}")
    paths = _files(folder, split)
    if not all(p.is_file() for p in paths):
        return Documents({}, f"document texts unavailable: {folder} has no BEIR files; "
                             "showing document ids")
    stamps = tuple((p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    if _checksum(tuple(paths), stamps) != data_sha:
        return Documents({}, f"document texts unavailable: the data under {folder} differs from "
                             "the data these runs used (checksum); showing document ids")
    return Documents(_corpus(paths[0], stamps[0]), "")


def first_lines(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"
