"""The Ray executor on a real local Ray cluster: same scores and bit-identical cached vectors as
the local executor, a killed encoding worker retried, a cluster joined by address, and an
unreachable address as a one-line error.

One module-scoped ``ray.init(num_cpus=2)`` serves the in-process tests (Ray starts slowly on two
shared cores); the by-address test starts its own head with ``ray start`` and stops it.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cache import EmbeddingCache
from harness.executors.local import LocalExecutor
from harness.executors.ray import RayExecutor
from harness.kinds.outcome import Context
from harness.runner import Runner
from harness.spec import grid
from harness.store import Store
from tests.helpers import count_rows, main_scores

ray = pytest.importorskip("ray")  # pinned in the project; absent only in a broken install

CHUNK = 32  # ~441 subset documents -> 14 chunks: shards for two workers
MODELS = ["wordllama-l2-256", "bm25"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


def _grid(executor: object, root: Path, db: Path, cache: Path,
          models: list[str] = MODELS) -> list:
    with executor, Store(db) as store:  # type: ignore[attr-defined]
        runner = Runner(store, Context(EmbeddingCache(cache, CHUNK), progress=False), root,
                        log=lambda _line: None)
        return executor.run(grid(models, ["SciFact"]), runner, print).results  # type: ignore[attr-defined]


def _chunk_digests(cache: Path) -> dict[str, str]:
    return {str(p.relative_to(cache)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(cache.rglob("chunk-*.npz"))}


@pytest.fixture(scope="module")
def local_reference(scifact_subset: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    tmp = tmp_path_factory.mktemp("local")
    _grid(LocalExecutor(), scifact_subset, tmp / "l.duckdb", tmp / "cache")
    return main_scores(tmp / "l.duckdb"), _chunk_digests(tmp / "cache")


def test_ray_grid_equals_local(cluster: None, scifact_subset: Path, tmp_path: Path,
                               local_reference: tuple) -> None:
    scores, digests = local_reference
    results = _grid(RayExecutor(), scifact_subset, tmp_path / "r.duckdb", tmp_path / "cache")
    assert [r.status for r in results] == ["ran", "ran"]
    assert main_scores(tmp_path / "r.duckdb") == scores  # equal, not approximately
    assert len(digests) > 2 * 14
    assert _chunk_digests(tmp_path / "cache") == digests  # bit-identical vectors


def test_killed_worker_is_retried(cluster: None, scifact_subset: Path, tmp_path: Path,
                                  local_reference: tuple) -> None:
    killed: list[int] = []

    def kill_one(pids: list[int]) -> None:  # called while the first chunks are in flight
        os.kill(pids[0], signal.SIGKILL)
        killed.append(pids[0])

    results = _grid(RayExecutor(on_pool=kill_one), scifact_subset, tmp_path / "k.duckdb",
                    tmp_path / "cache", models=["wordllama-l2-256"])
    assert len(killed) == 1  # one actor of the pool, its chunk in flight
    assert count_rows(tmp_path / "k.duckdb") == 1  # exactly one row for the run
    assert main_scores(tmp_path / "k.duckdb") == {
        results[0].key: local_reference[0][results[0].key]}
    assert _chunk_digests(tmp_path / "cache") == \
        _chunk_digests_of(local_reference, "wordllama-l2-256")


def _chunk_digests_of(reference: tuple, model: str) -> dict[str, str]:
    """The reference's chunk files of one model (its cache folder, named by encoder id)."""
    from adapters.registry import load_model

    folder = EmbeddingCache(Path("unused")).model_folder(load_model(model)).name
    return {path: digest for path, digest in reference[1].items()
            if path.startswith(folder + "/")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=600)


def test_cluster_by_address(scifact_subset: Path, tmp_path: Path, local_reference: tuple) -> None:
    port = _free_port()
    env = {**os.environ, "HARNESS_CACHE_CHUNK": str(CHUNK), "RAY_USAGE_STATS_ENABLED": "0"}
    ray_bin = str(Path(sys.executable).with_name("ray"))
    subprocess.run([ray_bin, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
                    "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats"],
                   env=env, check=True, capture_output=True, timeout=300)
    try:
        args = ["run", "--executor", "ray", "--ray-address", f"127.0.0.1:{port}",
                "-m", "bm25", "-t", "SciFact",
                "--data-root", scifact_subset, "--db", tmp_path / "a.duckdb",
                "--cache-dir", tmp_path / "cache", "--no-progress"]
        done = _cli(*args, env=env)
        assert done.returncode == 0, done.stderr
    finally:
        subprocess.run([ray_bin, "stop", "--force"], env=env, capture_output=True, timeout=120)
    (key, score), = main_scores(tmp_path / "a.duckdb").items()
    assert local_reference[0][key] == score
    assert _chunk_digests(tmp_path / "cache") == _chunk_digests_of(local_reference, "bm25")


@pytest.mark.parametrize("address", ["127.0.0.1:{port}", "not-an-address"])
def test_unreachable_address_is_one_line(address: str, tmp_path: Path) -> None:
    done = _cli("run", "--executor", "ray", "--ray-address", address.format(port=_free_port()),
                "-m", "bm25", "-t", "SciFact", "--db", tmp_path / "x.duckdb", "--no-progress",
                env=dict(os.environ))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.strip().count("\n") == 0 and done.stderr.startswith("error: ")
    assert not (tmp_path / "x.duckdb").exists()  # nothing written
