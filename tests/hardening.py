"""The hardening battery's helpers: the real CLI in a subprocess, tiny real BEIR subsets."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb

from harness.data_root import REPO_ROOT

FAST_MODEL = "wordllama-l2-256"


def harness(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 600,
            preexec_fn: Callable[[], None] | None = None, user: int | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m harness.cli ARGS`` as a user runs it (PYTHONPATH: this checkout)."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                **(env or {})}
    return subprocess.run([sys.executable, "-m", "harness.cli", *map(str, args)],
                          capture_output=True, text=True, env=full_env, timeout=timeout,
                          preexec_fn=preexec_fn, user=user, cwd=cwd or REPO_ROOT)


def run_args(model: str, task: str, root: Path, db: Path, cache: Path, *extra: str) -> list[str]:
    return ["run", "-m", model, "-t", task, "--data-root", str(root), "--db", str(db),
            "--cache-dir", str(cache), "--no-progress", *extra]


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit 2, no traceback anywhere, and the error is one `error: ...` line with the needles."""
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert "Traceback" not in output, output
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, proc.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]


def assert_ok(proc: subprocess.CompletedProcess[str]) -> None:
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "Traceback" not in output, output


def stored(db: Path, sql: str = "SELECT run_key, main_score FROM runs") -> list[tuple]:
    if not db.exists():
        return []
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
