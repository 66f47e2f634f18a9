"""The local executor: every spec in this process, one after another (the default)."""

from __future__ import annotations

from collections.abc import Callable

from harness.executors import GridOutcome
from harness.runner import Runner, UnsupportedPair
from harness.spec import RunSpec


class LocalExecutor:
    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, specs: list[RunSpec], runner: Runner, log: Callable[[str], None]) -> GridOutcome:
        outcome = GridOutcome()
        for spec in specs:
            try:
                outcome.results.append(runner.run(spec))
            except UnsupportedPair as exc:
                skipped(outcome, exc, len(specs), log)
        return outcome


def skipped(outcome: GridOutcome, exc: UnsupportedPair, n_specs: int,
            log: Callable[[str], None]) -> None:
    outcome.unsupported.append(str(exc))
    if n_specs > 1:  # alone, it is the caller's error: one line, not two
        log(f"skip: {exc}")
