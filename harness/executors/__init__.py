"""Executors run a grid of specs: ``local`` (this process, one spec after another) or ``ray``
(grid cells as Ray tasks, corpus chunks encoded by a pool of Ray actors).

Both return the same thing (``GridOutcome``) and store the same rows: the driver process alone
writes DuckDB; a Ray worker only computes and hands its record back.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from harness.errors import UnknownNameError
from harness.runner import Runner, RunResult
from harness.spec import RunSpec

EXECUTORS: dict[str, str] = {"local": "harness.executors.local:LocalExecutor",
                             "ray": "harness.executors.ray:RayExecutor"}


@dataclass
class GridOutcome:
    results: list[RunResult] = field(default_factory=list)  # in spec order
    unsupported: list[str] = field(default_factory=list)  # one message per skipped pair


class Executor(Protocol):
    """Used as a context manager around the store: ``with executor: ... executor.run(...)``."""

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...

    def run(self, specs: list[RunSpec], runner: Runner, log: Callable[[str], None]) -> GridOutcome:
        ...


def get_executor(name: str, *, address: str | None = None,
                 workers: int | None = None) -> Executor:
    if name not in EXECUTORS:
        raise UnknownNameError("executor", name, sorted(EXECUTORS))
    module, _, attr = EXECUTORS[name].partition(":")
    cls = getattr(importlib.import_module(module), attr)
    return cls() if name == "local" else cls(address=address, workers=workers)
