"""Strict text input shared by every loader: UTF-8 (a leading BOM accepted), located errors.

Each failure is a ``DataError`` naming file:line (and the field where there is one): invalid
UTF-8, JSON that is malformed or nested too deeply, lone surrogates, control characters in ids.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.errors import DataError

BOM = "\ufeff"
MAX_JSON_DEPTH = 64  # a data record is flat; deeper nesting is an error, not a recursion crash
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _decode(path: Path, lineno: int, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(path, lineno, None, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} "
                                            f"at column {exc.start + 1})") from None


def decode_text(path: Path, raw: bytes) -> str:
    """A whole file's text, BOM removed; invalid UTF-8 reported with its line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        lineno = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataError(path, lineno, None, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at "
                                            f"column {column})") from None
    return text.removeprefix(BOM)


def text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, line without its end-of-line) for each line, streamed; BOM removed."""
    with path.open("rb") as fh:
        for lineno, data in enumerate(fh, start=1):
            line = _decode(path, lineno, data).rstrip("\r\n")
            yield lineno, line.removeprefix(BOM) if lineno == 1 else line


def _depth_ok(line: str) -> bool:
    """Bracket depth outside strings stays within MAX_JSON_DEPTH (checked before parsing)."""
    if line.count("[") + line.count("{") <= MAX_JSON_DEPTH:
        return True
    depth, in_string, escaped = 0, False, False
    for char in line:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return False
        elif char in "]}":
            depth -= 1
    return True


def parse_json(path: Path, lineno: int, line: str) -> Any:
    if not _depth_ok(line):
        raise DataError(path, lineno, None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(path, lineno, None, f"invalid JSON ({exc.msg})") from None


def jsonl_objects(path: Path) -> Iterator[tuple[int, dict]]:
    for lineno, line in text_lines(path):
        if not line.strip():
            continue
        obj = parse_json(path, lineno, line)
        if not isinstance(obj, dict):
            raise DataError(path, lineno, None, "expected a JSON object")
        yield lineno, obj


def check_text(path: Path, lineno: int, field: str, value: str) -> str:
    """Text must be encodable: a lone surrogate (``"\\ud800"`` in JSON) is an error here."""
    bad = _SURROGATE.search(value)
    if bad:
        raise DataError(path, lineno, field, f"lone surrogate U+{ord(bad.group()):04X} at "
                                             f"character {bad.start() + 1}")
    return value


def check_id(path: Path, lineno: int, field: str, value: object) -> str:
    """An id: a non-empty string (or an integer, as some BEIR files write), no control chars."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise DataError(path, lineno, field,
                        f"must be a string id, got {type(value).__name__} {value!r}")
    text = check_text(path, lineno, field, str(value))
    if not text.strip():
        raise DataError(path, lineno, field, f"must be a non-empty string, got {value!r}")
    bad = _CONTROL.search(text)
    if bad:
        raise DataError(path, lineno, field, f"contains control character {bad.group()!r}")
    return text
