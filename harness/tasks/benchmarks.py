"""Benchmarks as named suites: ``mteb.get_benchmark(NAME)`` expanded to tasks with a status.

Statuses:
- ``local``: a harness task of that exact name whose files are under the data root (runs offline);
- ``downloadable``: the harness has a kind for the task's type; the data must be fetched first
  (``harness data pull NAME``) — a staged partial BEIR folder counts here too;
- ``unsupported``: no harness kind for the task's type.

mteb's benchmark definitions ship inside the package, so this works offline. ``import mteb``
costs seconds and happens only inside these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError, UnknownNameError
from harness.tasks.registry import MTEB_TYPE_TO_KIND, all_tasks, availability

LOCAL, DOWNLOADABLE, UNSUPPORTED = "local", "downloadable", "unsupported"


@dataclass(frozen=True)
class BenchmarkTask:
    name: str  # mteb's task name, also the harness's where the harness has it
    mteb_type: str  # "Retrieval", "STS", ...
    kind: str | None  # harness task kind, None when unsupported
    status: str  # local | downloadable | unsupported
    reason: str  # why not local ("" when local)
    main_score: str

    @property
    def pull_command(self) -> str:
        return f'harness data pull "{self.name}"'


def _mteb_benchmark(name: str):  # noqa: ANN202 - mteb.Benchmark
    import logging
    import warnings

    import mteb

    logging.getLogger("mteb").setLevel(logging.ERROR)
    names = benchmark_names()
    by_lower = {n.lower(): n for n in names}
    if name.lower() not in by_lower:
        raise UnknownNameError("benchmark", name, names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mteb.get_benchmark(by_lower[name.lower()])


def benchmark_names() -> list[str]:
    import warnings

    import mteb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [b.name for b in mteb.get_benchmarks()]


def benchmark_tasks(name: str, data_root: Path) -> list[BenchmarkTask]:
    """The benchmark's tasks in mteb's order, each with its harness kind and status."""
    known = {t.name.lower(): t for t in all_tasks()}
    out = []
    for task in _mteb_benchmark(name).tasks:
        meta = task.metadata
        kind = MTEB_TYPE_TO_KIND.get(meta.type)
        ours = known.get(meta.name.lower())
        if kind is None:
            status, reason = UNSUPPORTED, f"no harness kind for mteb type {meta.type}"
        elif ours is None:
            status, reason = DOWNLOADABLE, "not staged under the data root"
        else:
            have = availability(ours, data_root)
            status, reason = (LOCAL, "") if have.available else (DOWNLOADABLE, have.reason)
        out.append(BenchmarkTask(meta.name, meta.type, kind, status, reason,
                                 str(meta.main_score)))
    return out


def local_task_names(tasks: list[BenchmarkTask]) -> list[str]:
    known = {t.name.lower(): t.name for t in all_tasks()}
    return [known[t.name.lower()] for t in tasks if t.status == LOCAL]


def expand(benchmark: str | None, tasks: tuple[str, ...], data_root: Path | None
           ) -> tuple[list[str], list[BenchmarkTask]]:
    """Task names to run (explicit ones first, then the benchmark's local tasks) and the
    benchmark tasks that cannot run here."""
    if not benchmark:
        if not tasks:
            raise HarnessError("give at least one --task or a --benchmark")
        return list(tasks), []
    from harness.data_root import resolve_data_root

    suite = benchmark_tasks(benchmark, resolve_data_root(data_root))
    names = list(dict.fromkeys([*tasks, *local_task_names(suite)]))
    return names, [t for t in suite if t.status != LOCAL]


def missing_lines(missing: list[BenchmarkTask]) -> list[str]:
    """One line per task a benchmark run could not run, with what would fetch it."""
    lines = []
    for t in missing:
        if t.status == DOWNLOADABLE:
            lines.append(f"not run: {t.name} ({t.mteb_type}): {t.reason}; fetch with: "
                         f"{t.pull_command}")
        else:
            lines.append(f"not run: {t.name} ({t.mteb_type}): {t.reason}")
    return lines


def print_benchmarks(echo) -> None:  # noqa: ANN001 - click.echo
    import warnings

    import mteb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for b in mteb.get_benchmarks():
            echo(f"{b.name:34s} {len(b.tasks):4d} tasks")


def print_benchmark_tasks(name: str, data_root: Path, echo) -> None:  # noqa: ANN001
    from collections import Counter

    suite = benchmark_tasks(name, data_root)
    for t in suite:
        note = f"  ({t.reason})" if t.reason else ""
        echo(f"{t.name:40s} {t.mteb_type:20s} {t.status:13s}{note}")
    types = Counter(t.mteb_type for t in suite)
    states = Counter(t.status for t in suite)
    echo(f"{len(suite)} tasks, {len(types)} types ("
         + ", ".join(f"{k} {v}" for k, v in types.items()) + "); "
         + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))


def benchmark_suite(name: str) -> list[tuple[str, str]]:
    """(task name, mteb type) for every task of the benchmark, in mteb's order."""
    return [(t.metadata.name, str(t.metadata.type)) for t in _mteb_benchmark(name).tasks]
