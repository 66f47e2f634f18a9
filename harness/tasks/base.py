"""Task metadata and the loaded data of a retrieval task."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TaskMeta:
    """A task as MTEB names it: name, type, split, main score and where its files live."""

    name: str  # MTEB's name, e.g. "SciFact"
    type: str  # "retrieval" | "sts" | "classification"
    folder: str  # relative to the data root, e.g. "beir/scifact"
    main_score: str = "ndcg_at_10"
    split: str = "test"
    description: str = ""
    license: str = "unknown"
    ignore_identical_ids: bool = False  # MTEB drops a hit whose id equals the query id
    partial_folder: str | None = None  # where queries+qrels sit when the corpus is missing
    download_url: str | None = None  # standard BEIR zip, for users with a network
    source: str = "registry"  # "registry" | "folder" (a BEIR folder by path) | "mteb"
    dataset_path: str | None = None  # the hub dataset mteb loads it from
    dataset_revision: str | None = None


@dataclass(frozen=True)
class RetrievalData:
    """A BEIR task loaded and validated: texts in a fixed order, qrels by query."""

    corpus_ids: tuple[str, ...]
    corpus_texts: tuple[str, ...]
    query_ids: tuple[str, ...]
    query_texts: tuple[str, ...]
    qrels: dict[str, dict[str, int]] = field(hash=False)
    data_sha256: str = ""
