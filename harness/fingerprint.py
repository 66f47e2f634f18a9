"""The scoring fingerprint: a hash of the source of every module on the scoring path.

It is part of every run key, so a change to how runs are scored (a metric, a search backend, a
compression, a task loader) gives new keys: ``harness check`` then re-scores instead of trusting
yesterday's stored runs. The CLI, the board and the docs are not on the scoring path, and neither
are the model adapters: their output is keyed in the embedding cache by model, weights, options
and texts, so a re-score after a code change re-encodes nothing.
"""

from __future__ import annotations

import hashlib
import subprocess
from functools import lru_cache
from pathlib import Path

import harness

HARNESS_DIR = Path(harness.__file__).resolve().parent
# Relative to the harness package; folders mean every .py file below them.
SCORING_PATH = ("kinds", "search", "tasks", "metrics.py", "compression.py", "embeddings.py",
                "fusion.py", "spec.py", "fingerprint.py")


def scoring_files() -> list[Path]:
    files: list[Path] = []
    for entry in SCORING_PATH:
        path = HARNESS_DIR / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return [f for f in files if f.is_file()]


@lru_cache(maxsize=1)
def scoring_fingerprint() -> str:
    """sha256 (first 16 hex digits) over the scoring modules' relative paths and bytes;
    computed once per process."""
    digest = hashlib.sha256()
    for path in scoring_files():
        digest.update(path.relative_to(HARNESS_DIR).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=HARNESS_DIR.parent, capture_output=True,
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@lru_cache(maxsize=1)
def code_state() -> dict[str, object]:
    """The scoring fingerprint with the git commit and whether the work tree had changes."""
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"scoring_fingerprint": scoring_fingerprint(), "git_commit": commit,
            "git_dirty": bool(status) if status is not None else None}
