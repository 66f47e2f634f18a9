"""`kill -9` during encoding, then rerun: completes, exactly one run row, identical scores.

A real SIGKILL on a real `harness run` subprocess (no fakes): the chunked, atomic cache keeps what
was encoded; the store never saw the killed run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.helpers import count_rows


def _harness(*args: str | Path, env: dict[str, str]) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "harness.cli", *map(str, args)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _query_scores(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT query_id, metric, value FROM query_scores "
                           "ORDER BY query_id, metric").fetchall()
    finally:
        con.close()


@pytest.mark.slow  # two cold MiniLM encodes of the subset (~2 min): in CI's slow tier
def test_kill9_during_encoding_then_resume(scifact_subset: Path, tmp_path: Path) -> None:
    env = {**os.environ, "HARNESS_CACHE_CHUNK": "32"}
    args = ["run", "-m", "all-MiniLM-L6-v2", "-t", "SciFact", "--data-root", scifact_subset,
            "--no-progress"]

    # reference: an uninterrupted run with the same chunking
    ref_db, ref_cache = tmp_path / "ref.duckdb", tmp_path / "ref-cache"
    ref = _harness(*args, "--db", ref_db, "--cache-dir", ref_cache, env=env)
    assert ref.wait(timeout=600) == 0, ref.stdout.read().decode()

    db, cache = tmp_path / "h.duckdb", tmp_path / "cache"
    victim = _harness(*args, "--db", db, "--cache-dir", cache, env=env)
    deadline = time.monotonic() + 300
    while len(list(cache.rglob("chunk-*.npz"))) < 2:
        assert victim.poll() is None, "run finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    written = len(list(cache.rglob("chunk-*.npz")))
    assert 2 <= written < 15  # 441 docs / 32 per chunk = 14 chunks (+ queries): killed midway
    assert count_rows(db) == 0

    again = _harness(*args, "--db", db, "--cache-dir", cache, env=env)
    out = again.communicate(timeout=600)[0].decode()
    assert again.returncode == 0, out
    assert count_rows(db) == 1
    assert _query_scores(db) == _query_scores(ref_db)
