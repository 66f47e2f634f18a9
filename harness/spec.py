"""A unit of work and its deterministic key.

A ``RunSpec`` names a model, a task and the variant (compression, search backend, k). Resolved
against the model's metadata and the task's data hash it becomes canonical JSON whose sha256 is the
run key: same key, same result, no re-run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from itertools import product
from typing import Any

from harness import __version__


@dataclass(frozen=True)
class RunSpec:
    model: str
    task: str
    compression: str = "none"
    backend: str = "exact"
    k: int = 1000

    @property
    def variant(self) -> str:
        """'' for the plain model, otherwise e.g. 'int8' or 'binary+rescore/hnsw'."""
        parts = [p for p, default in ((self.compression, "none"), (self.backend, "exact"))
                 if p != default]
        return "/".join(parts)


def grid(models: list[str], tasks: list[str], compressions: tuple[str, ...] = ("none",),
         backends: tuple[str, ...] = ("exact",), k: int = 1000) -> list[RunSpec]:
    """Expand -m/-t (and sweep axes) into specs, in a stable order."""
    return [RunSpec(m, t, c, b, k) for m, t, c, b in product(models, tasks, compressions, backends)]


def canonical_spec(spec: RunSpec, model_key: dict[str, Any],
                   task: dict[str, Any]) -> dict[str, Any]:
    return {
        "harness_version": __version__,
        "model": model_key,
        "task": task,
        "variant": {k: v for k, v in asdict(spec).items() if k not in ("model", "task")},
    }


def run_key(canonical: dict[str, Any]) -> str:
    blob = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:24]
