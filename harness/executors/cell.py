"""One grid cell on a worker: the runner's own code path, its record handed back, not stored.

The worker never opens DuckDB: ``RecordingStore`` stands in for the store, so ``Runner.run``
(the very code a local run uses) executes the spec and its ``write_run`` only keeps the record,
which the driver then writes. A worker killed mid-cell leaves nothing behind; Ray retries it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.store import RunRecord


class RecordingStore:
    """The part of ``Store`` a runner calls, keeping the one record it would have written."""

    path = Path("<ray worker: the driver writes the store>")

    def __init__(self) -> None:
        self.record: RunRecord | None = None

    def has_run(self, run_key: str) -> bool:
        return False  # the driver already checked its store before sending the cell

    def write_run(self, record: RunRecord, *, replace: bool = False) -> None:
        self.record = record


@dataclass(frozen=True)
class CellConfig:
    cache_root: str  # absolute, on a filesystem every node sees
    chunk_size: int
    data_root: str
    batch_size: int


def run_cell(spec: Any, config: CellConfig) -> tuple[Any, RunRecord]:
    """Execute one spec (a ``RunSpec``) on this process; return (RunResult, RunRecord)."""
    from harness.cache import EmbeddingCache
    from harness.kinds.outcome import Context
    from harness.runner import Runner

    store = RecordingStore()
    ctx = Context(EmbeddingCache(Path(config.cache_root), config.chunk_size),
                  batch_size=config.batch_size, progress=False)
    runner = Runner(store, ctx, Path(config.data_root), force=True,  # type: ignore[arg-type]
                    log=lambda _line: None)
    result = runner.run(spec)
    assert store.record is not None  # Runner.run writes exactly one record when it runs
    return result, store.record
