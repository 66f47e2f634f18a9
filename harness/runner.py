"""Execute run specs: prepare the task, build the adapter, key the run, skip or run, store.

The runner knows no model family and no task type: task kinds are looked up lazily by
``TaskMeta.type``; each declares the spec axes it uses (``AXES``), and compression/backends travel
inside the spec as parsed values (``harness.spec``). The key carries the scoring fingerprint;
peak RSS is sampled per run.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from adapters.base import Encoder
from adapters.registry import load_model
from harness import __version__
from harness.environment import RssSampler, environment, torch_threads
from harness.errors import HarnessError
from harness.kinds.outcome import Context, Outcome, Prepared
from harness.spec import RunSpec, SpecError, canonical_spec, run_key
from harness.store import RunRecord, Store
from harness.tasks.base import TaskMeta
from harness.tasks.registry import get_task

# task type -> module with prepare(task, data_root), execute(prepared, encoder, spec, ctx) and
# AXES, the spec axes it uses (a kind without AXES uses only the model's precision)
TASK_KINDS: dict[str, str] = {"retrieval": "harness.kinds.retrieval", "sts": "harness.kinds.sts",
                              "classification": "harness.kinds.classification",
                              **{k: f"harness.kinds.{k}" for k in (
                                  "clustering", "pair_classification", "reranking",
                                  "summarization", "multilabel_classification")}}
DEFAULT_AXES = frozenset({"precision"})


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


def task_kind(task: TaskMeta) -> ModuleType:
    if task.type not in TASK_KINDS:
        raise HarnessError(f"no runner for task type '{task.type}'")
    return importlib.import_module(TASK_KINDS[task.type])


def task_axes(task: TaskMeta) -> frozenset[str]:
    return frozenset(getattr(task_kind(task), "AXES", DEFAULT_AXES))


def check_axes(spec: RunSpec, task: TaskMeta) -> frozenset[str]:
    """The axes ``task``'s kind uses; a spec that sets any other axis is a one-line error."""
    axes = task_axes(task)
    unused = spec.unused_axes(axes)
    if unused:
        values = {"compression": spec.compression, "backend": spec.backend, "k": spec.k,
                  "precision": spec.precision}
        given = ", ".join(f"--{a} {values[a]}" for a in unused).replace("--k ", "-k ")
        raise SpecError(f"{task.name} is a {task.type} task: it takes no {given} (it uses: "
                        f"{', '.join(sorted(axes)) or 'no variant axes'})")
    return axes


@dataclass
class Runner:
    store: Store
    ctx: Context
    data_root: Path
    force: bool = False
    log: Callable[[str], None] = print
    _prepared: dict[str, Prepared] = field(default_factory=dict)
    _encoders: dict[tuple[str, str], Encoder] = field(default_factory=dict)
    _rss: RssSampler = field(default_factory=RssSampler)

    def prepare(self, task: TaskMeta) -> Prepared:
        if task.name not in self._prepared:
            self._prepared[task.name] = task_kind(task).prepare(task, self.data_root)
        return self._prepared[task.name]

    def encoder(self, name: str, precision: str = "fp32") -> Encoder:
        """One adapter (and one weight load) per model and precision per process; ``name`` is a
        registry name, a model folder or a hub id."""
        if (name, precision) not in self._encoders:
            self._encoders[name, precision] = (load_model(name) if precision == "fp32"
                                               else load_model(name, precision=precision))
        return self._encoders[name, precision]

    def resolve(self, spec: RunSpec) -> tuple[TaskMeta, Prepared, Encoder, dict[str, Any], str]:
        """Everything before any encoding: validation, support check, key."""
        task = get_task(spec.task)
        axes = check_axes(spec, task)
        encoder = self.encoder(spec.model, spec.precision)
        if not encoder.meta.supports(task.type):
            raise UnsupportedPair(
                f"{encoder.meta.name} ({encoder.meta.family}) does not support {task.type} "
                f"tasks such as {task.name}; skipped")
        if "compression" in axes:  # a bad compression fails here, before any encoding
            from harness.compression import make_compressor

            make_compressor(spec.compression, encoder.meta, spec.k)
        prepared = self.prepare(task)
        canonical = canonical_spec(
            spec, encoder.meta.key_fields(),
            {"name": task.name, "type": task.type, "split": task.split,
             "data_sha256": prepared.data_sha256}, axes)
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
        self._rss.start()
        try:
            outcome: Outcome = task_kind(task).execute(prepared, encoder, spec, self.ctx)
        finally:
            rss = self._rss.stop()
        wall = time.perf_counter() - began
        row = self._row(spec, task, encoder, canonical, key, outcome, wall, rss)
        self.store.write_run(RunRecord(row, outcome.scores, outcome.query_scores,
                                       outcome.rankings, outcome.task_queries, outcome.task_qrels),
                             replace=self.force)
        return RunResult(spec, key, "ran", task.main_score, outcome.scores.get(task.main_score),
                         outcome.scores, row)

    def _row(self, spec: RunSpec, task: TaskMeta, encoder: Encoder, canonical: dict[str, Any],
             key: str, outcome: Outcome, wall: float, rss: dict[str, float]) -> dict[str, Any]:
        costs = dict(outcome.costs)
        costs["peak_rss_mb"] = rss.pop("peak_rss_mb")  # this run's, see RssSampler
        costs["rss"] = rss
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
            "costs": costs, "extra": {**outcome.extra, "model_meta": encoder.meta.describe()},
        }
