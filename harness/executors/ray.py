"""The Ray executor: corpus chunks on actor pools, then grid cells as Ray tasks.

Phase 1 (encode): for every retrieval cell the driver lists the cache chunks not yet on disk and
hands them to a pool of actors per model (``pool.encode_shards``); the driver writes each chunk.
Phase 2 (cells): every cell runs as a Ray task with the resources its model family declares;
its embeddings now come from the cache, it searches and scores, and returns its record. The
driver alone writes DuckDB, one transaction per run, as results arrive. The cache and the data
root must be on a filesystem every node sees (see README "Scaling out").
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from typing import Any

from harness.errors import HarnessError
from harness.executors import GridOutcome
from harness.executors.cell import CellConfig, run_cell
from harness.executors.local import skipped
from harness.executors.pool import Shard, encode_shards, fetch
from harness.runner import Runner, RunResult, UnsupportedPair
from harness.spec import RunSpec

# Resources one cell task or one encoding actor declares, by model family. GPUs are asked for
# only when the cluster has some; a CPU-only cluster runs everything on CPUs.
FAMILY_RESOURCES: dict[str, dict[str, float]] = {
    "dense": {"num_cpus": 1, "num_gpus": 1},
    "multivector": {"num_cpus": 1, "num_gpus": 1},
    "sparse": {"num_cpus": 1, "num_gpus": 0},
}
CELL_RETRIES = 2  # a cell whose worker dies is run again (nothing of it was stored)


def connect(address: str | None) -> bool:
    """Join (``HOST:PORT`` or ``auto``) or start (None) a Ray cluster, quietly.

    Returns whether this call initialised Ray (and so should shut it down)."""
    try:
        import ray
    except ImportError as exc:
        raise HarnessError("--executor ray needs the 'ray' package (pip install 'ray==2.60.0')"
                           ) from exc
    if ray.is_initialized():
        return False
    if address not in (None, "auto"):
        _require_reachable(address)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False,
                             "include_dashboard": False, "configure_logging": True}
    try:
        ray.init(address=address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"at {address}" if address else "(local)"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HarnessError(f"cannot reach a Ray cluster {where}: {first}") from None
    return True


def _require_reachable(address: str) -> None:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise HarnessError(f"--ray-address '{address}': expected HOST:PORT or 'auto'")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise HarnessError(f"cannot reach a Ray cluster at {address}: {exc.strerror or exc}"
                           ) from None


def resources_for(meta: Any) -> dict[str, float]:
    import ray

    wanted = dict(FAMILY_RESOURCES.get(meta.family, {"num_cpus": 1, "num_gpus": 0}))
    if not ray.cluster_resources().get("GPU"):
        wanted["num_gpus"] = 0
    return wanted


class RayExecutor:
    def __init__(self, address: str | None = None, workers: int | None = None,
                 on_pool: Callable[[list[int]], None] | None = None) -> None:
        self.address, self.workers, self.on_pool = address, workers, on_pool
        self.started = False

    def __enter__(self) -> RayExecutor:
        """Join or start the cluster first: an unreachable one fails before any file is opened."""
        self.started = connect(self.address)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started:
            import ray

            ray.shutdown()
            self.started = False

    def run(self, specs: list[RunSpec], runner: Runner, log: Callable[[str], None]) -> GridOutcome:
        import ray

        outcome = GridOutcome()
        done: dict[int, RunResult] = {}
        cells: list[tuple[int, RunSpec, Any]] = []  # (position, spec, family meta)
        shards: list[Shard] = []
        for pos, spec in enumerate(specs):
            try:
                _task, prepared, encoder, _canonical, key = runner.resolve(spec)
            except UnsupportedPair as exc:
                skipped(outcome, exc, len(specs), log)
                continue
            if runner.store.has_run(key) and not runner.force:
                done[pos] = runner.run(spec)  # reuse the stored row, as a local run does
                continue
            cells.append((pos, spec, encoder.meta))
            shards += _shards(spec, prepared, encoder)
        workers = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        cache = runner.ctx.cache
        encode_shards(_distinct(shards), cache, workers=workers,
                      batch_size=runner.ctx.batch_size, resources=resources_for,
                      progress=runner.ctx.progress, on_pool=self.on_pool)
        done.update(self._cells(cells, runner))
        outcome.results = [done[pos] for pos in sorted(done)]
        return outcome

    def _cells(self, cells: list[tuple[int, RunSpec, Any]], runner: Runner) -> dict[int, RunResult]:
        import ray
        from tqdm.auto import tqdm

        cache = runner.ctx.cache
        config = CellConfig(str(cache.root.resolve()), cache.chunk_size,
                            str(runner.data_root.resolve()), runner.ctx.batch_size)
        remote = ray.remote(run_cell)
        refs = {remote.options(max_retries=CELL_RETRIES, **resources_for(meta))
                .remote(spec, config): pos for pos, spec, meta in cells}
        done: dict[int, RunResult] = {}
        bar = tqdm(total=len(refs), desc=f"cells on ray ({len(refs)})", unit="run", leave=False,
                   disable=not runner.ctx.progress)
        try:
            pending = list(refs)
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                result, record = fetch(ready[0])
                runner.store.write_run(record, replace=runner.force)  # the driver alone writes
                done[refs[ready[0]]] = result
                bar.update(1)
        finally:
            bar.close()
        return done


def _shards(spec: RunSpec, prepared: Any, encoder: Any) -> list[Shard]:
    """The text sets a retrieval cell encodes, with the model (at its precision) that encodes
    them; compression comes after encoding, so every compressed variant shares these."""
    payload = prepared.payload
    if not (hasattr(payload, "corpus_texts") and hasattr(payload, "query_texts")):
        return []  # other task kinds encode inside their cell
    label = f"{spec.model} {prepared.task.name}"
    return [Shard(spec.model, spec.precision, "document", payload.corpus_texts,
                  f"{label} corpus"),
            Shard(spec.model, spec.precision, "query", payload.query_texts,
                  f"{label} queries")]


def _distinct(shards: list[Shard]) -> list[Shard]:
    """One shard per cache folder: fitted variants of one model share their base encode."""
    seen: dict[tuple[str, str, str, int], Shard] = {}
    for s in shards:
        key = (s.model, s.precision, s.side, id(s.texts))
        seen.setdefault(key, s)
    return list(seen.values())
