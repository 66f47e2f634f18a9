"""Environment settings, validated: a bad value is one clear line, never a traceback."""

from __future__ import annotations

import math
import os

from harness.errors import HarnessError


def env_number(name: str, default: float, *, minimum: float | None = None,
               maximum: float | None = None, integer: bool = False) -> float:
    """``$name`` as a finite number within [minimum, maximum]; ``default`` when unset or empty."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value: float = int(raw) if integer else float(raw)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise HarnessError(f"${name} must be {kind}, got {raw!r}") from None
    if not math.isfinite(value):
        raise HarnessError(f"${name} must be finite, got {raw!r}")
    if minimum is not None and value < minimum:
        raise HarnessError(f"${name} must be at least {minimum:g}, got {raw!r}")
    if maximum is not None and value > maximum:
        raise HarnessError(f"${name} must be at most {maximum:g}, got {raw!r}")
    return value
