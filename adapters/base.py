"""The model boundary: one runtime-checkable Protocol and a frozen metadata object.

Every family (dense, sparse, multi-vector, compressed wrappers) satisfies ``Encoder``. The runner
only ever calls ``encode`` and reads ``meta``; it never asks which class it holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from harness.embeddings import Embeddings

Side = Literal["query", "document"]
Family = Literal["dense", "sparse", "multivector"]
TaskType = Literal["retrieval", "sts", "classification"]


@dataclass(frozen=True)
class ModelMeta:
    """What identifies a model and what it can do; part of every run key."""

    name: str
    family: Family
    revision: str  # sha256 of the weight files (or the upstream commit), never "latest"
    dim: int | None = None  # output dimension (vocabulary size for sparse)
    max_length: int | None = None
    license: str = "unknown"
    source: str = ""  # where the weights come from (package, path or hub id)
    similarity: str = "cosine"
    task_types: frozenset[str] = frozenset({"retrieval"})
    options: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # adapter config
    # What is known about the model beyond the key (parameters, memory, prompts, mteb metadata):
    # recorded with each run for the board; not part of the key, not compared.
    info: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)

    def key_fields(self) -> dict[str, object]:
        """The fields that change results, for the run key."""
        return {"name": self.name, "family": self.family, "revision": self.revision,
                "options": dict(self.options)}

    def supports(self, task_type: str) -> bool:
        return task_type in self.task_types

    def describe(self) -> dict[str, Any]:
        """The model's metadata as stored with a run (``runs.extra["model_meta"]``)."""
        base = {"name": self.name, "family": self.family, "revision": self.revision,
                "dim": self.dim, "max_tokens": self.max_length, "license": self.license,
                "source": self.source, "similarity": self.similarity}
        # The key's own fields win: e.g. a sparse model's dim is its vocabulary, not hidden size.
        return {**{k: v for k, v in (self.info or {}).items() if v is not None}, **base}


@runtime_checkable
class Encoder(Protocol):
    """What every adapter is: metadata plus ``encode``.

    ``encode`` must return exactly ``len(texts)`` items of the family's embedding type. Loading
    weights happens lazily on the first call so that building an adapter (to compute its run key
    and skip work already stored) is cheap.
    """

    meta: ModelMeta

    def encode(self, texts: Sequence[str], side: Side, *, batch_size: int = 32) -> Embeddings: ...


def hash_files(paths: Iterable[Path]) -> str:
    """sha256 over the given files' names and bytes: the revision of local weights."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        digest.update(path.name.encode())
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]
