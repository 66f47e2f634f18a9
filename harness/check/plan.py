"""Resolve expected rows against the registries (before any work), then reuse or run each spec.

Validation happens for every row first, so a bad file exits 2 having run and stored nothing.
Reference-only rows (a task whose corpus is not staged, a model whose weights are not offline) are
checked for their task and metric but not their model, and are reported as SKIP with their reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from adapters.registry import get_entry
from harness.check.expected import ExpectedRow
from harness.errors import HarnessError, UnknownNameError
from harness.runner import TASK_KINDS, Runner, RunResult, check_axes
from harness.spec import Backend, Compression, RunSpec, SpecError
from harness.tasks.base import TaskMeta
from harness.tasks.registry import availability, get_task

MAIN_SCORE = "main_score"  # stands for the task's own main metric, as in MTEB result files

# MTEB's score keys per task type.
METRICS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "sts": ("cosine_spearman", "cosine_pearson", "manhattan_spearman", "manhattan_pearson",
            "euclidean_spearman", "euclidean_pearson"),
    "classification": ("accuracy", "f1", "f1_weighted"),
}


def known_metrics(task: TaskMeta) -> tuple[str, ...]:
    names: list[str] = [MAIN_SCORE, task.main_score]
    if task.type == "retrieval":
        from harness.metrics import RETRIEVAL_METRICS

        names += list(RETRIEVAL_METRICS)
    names += list(METRICS_BY_TYPE.get(task.type, ()))
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Planned:
    row: ExpectedRow
    task: TaskMeta
    spec: RunSpec | None  # None for a reference-only row
    skip_reason: str = ""


def _resolve_task(row: ExpectedRow) -> TaskMeta:
    try:
        return get_task(row.task)
    except UnknownNameError as exc:
        raise row.error("task", str(exc)) from None


def validate(rows: list[ExpectedRow], data_root: Path, *,
             precision: str = "fp32") -> list[Planned]:
    planned: list[Planned] = []
    for row in rows:
        task = _resolve_task(row)
        metrics = known_metrics(task)
        if row.metric not in metrics:
            raise row.error("metric", f"unknown metric '{row.metric}' for {task.type} task "
                                      f"{task.name} (known: {', '.join(metrics)})")
        if row.split is not None and row.split != task.split:
            raise row.error("split", f"{task.name} is evaluated on split '{task.split}', "
                                     f"not '{row.split}'")
        if row.reference_only is not None:
            planned.append(Planned(row, task, None, f"reference only: {row.reference_only}"))
            continue
        try:
            entry = get_entry(row.model)
        except UnknownNameError as exc:
            raise row.error("model", str(exc)) from None
        if task.type not in entry.task_types:
            raise row.error("model", f"{entry.name} does not support {task.type} tasks")
        if task.type not in TASK_KINDS:
            raise row.error("task", f"no runner for {task.type} tasks in this harness yet; "
                                    "mark the row reference_only")
        state = availability(task, data_root)
        if not state.available:
            raise row.error("task", f"{task.name} cannot run here ({state.reason}); mark the "
                                    "row reference_only with that reason")
        planned.append(Planned(row, task, _spec(row, entry.name, task, precision)))
    return planned


def _spec(row: ExpectedRow, model: str, task: TaskMeta, precision: str) -> RunSpec:
    """The row's spec, parsed as ``run``/``sweep`` parse theirs (same canonical values, same
    key); an error names the row's field."""
    for name, kind in (("compression", Compression), ("backend", Backend)):
        try:
            kind.parse(getattr(row, name))
        except SpecError as exc:
            raise row.error(name, str(exc)) from None
    try:
        spec = RunSpec(model, task.name, row.compression, row.backend, row.k, precision)
        check_axes(spec, task)
    except SpecError as exc:
        raise row.error("k" if "-k" in str(exc) else "backend", str(exc)) from None
    return spec


def reuse_note(runner: Runner, result: RunResult) -> str:
    """Where a reused run came from: its scoring fingerprint and commit."""
    import json

    env = result.row.get("environment") or {}
    if isinstance(env, str):
        env = json.loads(env)
    commit = env.get("git_commit")
    dirty = " (dirty)" if env.get("git_dirty") else ""
    return (f" from scoring fingerprint {env.get('scoring_fingerprint', '?')}"
            f"{', commit ' + str(commit)[:12] + dirty if commit else ''}")


@dataclass
class Obtained:
    """What one spec gave: its run (reused or fresh), or the error that stopped it."""

    spec: RunSpec
    result: RunResult | None = None
    error: str = ""
    scores: dict[str, float] = field(default_factory=dict)

    def value(self, metric: str) -> float | None:
        if self.result is None:
            return None
        if metric == MAIN_SCORE:
            return self.result.main_score
        return self.scores.get(metric)


def obtain(planned: list[Planned], runner: Runner, log: Callable[[str], None], *,
           reuse_only: bool = False) -> dict[RunSpec, Obtained]:
    """One run per distinct spec; the runner reuses a stored run with the same key.

    ``reuse_only``: never encode; a spec with no stored run becomes an ERROR row.
    """
    out: dict[RunSpec, Obtained] = {}
    for item in planned:
        if item.spec is None or item.spec in out:
            continue
        got = Obtained(item.spec)
        try:
            if reuse_only and not runner.store.has_run(runner.resolve(item.spec)[-1]):
                raise HarnessError(f"no stored run in {runner.store.path} (--no-run)")
            result = runner.run(item.spec)
            got.result, got.scores = result, dict(result.scores)
            status = "reused" if result.status == "skipped" else result.status
            note = reuse_note(runner, result) if status == "reused" else ""
            log(f"{status:7s} {item.spec.model} on {item.spec.task}"
                f"{' ' + item.spec.variant if item.spec.variant else ''} (run {result.key[:12]})"
                f"{note}")
        except Exception as exc:  # a broken run is an ERROR row; the other rows still run
            got.error = str(exc) if isinstance(exc, HarnessError) else \
                f"{type(exc).__name__}: {exc}"
            log(f"error   {item.spec.model} on {item.spec.task}: {exc}")
        out[item.spec] = got
    return out
