"""Where the BEIR/MTEB data lives: --data-root, then $HARNESS_DATA, then ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

from harness.errors import HarnessError

REPO_ROOT = Path(__file__).resolve().parent.parent


def resolve_data_root(explicit: str | Path | None = None) -> Path:
    candidates: list[tuple[str, Path]] = []
    if explicit:
        candidates.append(("--data-root", Path(explicit)))
    if os.environ.get("HARNESS_DATA"):
        candidates.append(("HARNESS_DATA", Path(os.environ["HARNESS_DATA"])))
    candidates.append(("default", REPO_ROOT.parent / "shared" / "data"))
    for origin, path in candidates:
        if origin != "default" or path.is_dir():
            if not path.is_dir():
                raise HarnessError(f"data root from {origin} does not exist: {path}")
            return path.resolve()
    raise HarnessError(
        "no data root: pass --data-root, set HARNESS_DATA, or place the data at "
        f"{candidates[-1][1]}"
    )


def results_root() -> Path:
    return Path(os.environ.get("HARNESS_RESULTS", REPO_ROOT / "results"))
