"""Execute run specs: prepare the task, build the adapter, key the run, skip or run, store.

The runner knows no model family and no task type: task kinds are looked up lazily by
``TaskMeta.type``, and compression/backends travel inside the spec.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.base import Encoder
from adapters.registry import load_model
from harness import __version__
from harness.environment import environment, peak_rss_mb, torch_threads
from harness.errors import HarnessError
from harness.kinds.outcome import Context, Outcome, Prepared
from harness.spec import RunSpec, canonical_spec, run_key
from harness.store import RunRecord, Store
from harness.tasks.base import TaskMeta
from harness.tasks.registry import get_task

# task type -> module with prepare(task, data_root) and execute(prepared, encoder, spec, ctx)
TASK_KINDS: dict[str, str] = {"retrieval": "harness.kinds.retrieval", "sts": "harness.kinds.sts",
                              "classification": "harness.kinds.classification"}

# compression name prefix -> "module:wrap(encoder, spec_string) -> Encoder"; "none" is identity
COMPRESSIONS: dict[str, str] = {
    c: "adapters.compressed:wrap"
    for c in ("fp32", "fp16", "int8", "binary", "mrl", "pca", "pq", "ivfpq")
}


class UnsupportedPair(HarnessError):
    """The model does not support the task type (skipped in a grid, an error alone)."""


@dataclass
class RunResult:
    spec: RunSpec
    key: str
    status: str  # "ran" | "skipped" (already stored)
    main_metric: str
    main_score: float | None
    scores: dict[str, float] = field(default_factory=dict)
    row: dict[str, Any] = field(default_factory=dict)


def task_kind(task: TaskMeta):  # noqa: ANN201 - a module
    if task.type not in TASK_KINDS:
        raise HarnessError(f"no runner for task type '{task.type}'")
    return importlib.import_module(TASK_KINDS[task.type])


def apply_compression(encoder: Encoder, compression: str) -> Encoder:
    if compression == "none":
        return encoder
    base = compression.split(":", 1)[0].split("+", 1)[0]
    if base not in COMPRESSIONS:
        from harness.errors import UnknownNameError

        raise UnknownNameError("compression", compression, ["none", *sorted(COMPRESSIONS)])
    module, _, attr = COMPRESSIONS[base].partition(":")
    return getattr(importlib.import_module(module), attr)(encoder, compression)


@dataclass
class Runner:
    store: Store
    ctx: Context
    data_root: Path
    force: bool = False
    log: Callable[[str], None] = print
    _prepared: dict[str, Prepared] = field(default_factory=dict)
    _encoders: dict[str, Encoder] = field(default_factory=dict)

    def prepare(self, task: TaskMeta) -> Prepared:
        if task.name not in self._prepared:
            self._prepared[task.name] = task_kind(task).prepare(task, self.data_root)
        return self._prepared[task.name]

    def encoder(self, name: str) -> Encoder:
        if name not in self._encoders:  # one adapter (and one weight load) per model per process
            self._encoders[name] = load_model(name)
        return self._encoders[name]

    def resolve(self, spec: RunSpec) -> tuple[TaskMeta, Prepared, Encoder, dict[str, Any], str]:
        """Everything before any encoding: validation, support check, key."""
        task = get_task(spec.task)
        base = self.encoder(spec.model)
        if not base.meta.supports(task.type):
            raise UnsupportedPair(
                f"{base.meta.name} ({base.meta.family}) does not support {task.type} tasks "
                f"such as {task.name}; skipped")
        encoder = apply_compression(base, spec.compression)
        prepared = self.prepare(task)
        canonical = canonical_spec(
            spec, encoder.meta.key_fields(),
            {"name": task.name, "type": task.type, "split": task.split,
             "data_sha256": prepared.data_sha256})
        return task, prepared, encoder, canonical, run_key(canonical)

    def run(self, spec: RunSpec) -> RunResult:
        if spec.model.startswith("fuse:"):  # h-fuse: a fused model is built from component runs
            from harness.fusion import run_fused

            return run_fused(self, spec)
        task, prepared, encoder, canonical, key = self.resolve(spec)
        if self.store.has_run(key) and not self.force:
            row = self.store.run_row(key) or {}
            return RunResult(spec, key, "skipped", row.get("main_metric", task.main_score),
                             row.get("main_score"), self.store.scores(key), row)
        began = time.perf_counter()
        outcome: Outcome = task_kind(task).execute(prepared, encoder, spec, self.ctx)
        wall = time.perf_counter() - began
        row = self._row(spec, task, encoder, canonical, key, outcome, wall)
        self.store.write_run(RunRecord(row, outcome.scores, outcome.query_scores,
                                       outcome.rankings, outcome.task_queries, outcome.task_qrels),
                             replace=self.force)
        return RunResult(spec, key, "ran", task.main_score, outcome.scores.get(task.main_score),
                         outcome.scores, row)

    def _row(self, spec: RunSpec, task: TaskMeta, encoder: Encoder, canonical: dict[str, Any],
             key: str, outcome: Outcome, wall: float) -> dict[str, Any]:
        costs = dict(outcome.costs)
        costs["peak_rss_mb"] = peak_rss_mb()
        costs.setdefault("threads", torch_threads())  # the task kind knows who searched
        timings = dict(outcome.timings, wall_s=wall, cache_hit=outcome.cache_hit)
        return {
            "run_key": key, "model": spec.model, "family": encoder.meta.family,
            "variant": spec.variant, "task": task.name, "task_type": task.type,
            "split": task.split, "main_metric": task.main_score,
            "main_score": outcome.scores.get(task.main_score),
            "n_queries": outcome.n_queries, "n_docs": outcome.n_docs,
            **{c: costs.get(c) for c in ("bytes_per_doc", "index_bytes", "encode_docs_per_s",
                                         "query_encode_ms", "search_p50_ms", "search_p95_ms",
                                         "search_qps", "peak_rss_mb", "threads")},
            "harness_version": __version__,
            "created_at": datetime.now(UTC).replace(tzinfo=None),
            "spec": canonical, "environment": environment(), "timings": timings,
            "costs": costs, "extra": outcome.extra,
        }
