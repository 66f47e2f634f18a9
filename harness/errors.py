"""Errors the CLI turns into one clear line and a non-zero exit."""

from __future__ import annotations

from pathlib import Path


class HarnessError(Exception):
    """A user-facing error: the message is printed as is, on one line."""


class DataError(HarnessError):
    """Bad input data, located by file, line and field."""

    def __init__(self, path: Path | str, line: int | None, field: str | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.field = field
        where = f"{self.path}" + (f":{line}" if line is not None else "")
        what = f" field '{field}'" if field else ""
        super().__init__(f"{where}:{what} {message}")


class UnknownNameError(HarnessError):
    """An unknown model, task, metric or spec name; says what is allowed."""

    def __init__(self, kind: str, name: str, allowed: list[str]) -> None:
        import difflib

        close = difflib.get_close_matches(name, allowed, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        shown = ", ".join(allowed[:30]) + (" …" if len(allowed) > 30 else "")
        super().__init__(f"unknown {kind} '{name}'.{hint} Known: {shown}")


class EmbeddingError(HarnessError):
    """An adapter returned something unusable (wrong shape, NaN, empty sparse vector…)."""
