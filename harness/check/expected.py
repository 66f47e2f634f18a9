"""Expected-scores files: parse YAML or TOML rows, keeping the line of every row and field.

A row names what to run and what it should score::

    - model: all-MiniLM-L6-v2          # registry name (`harness ls models`)
      task: SciFact                    # task name (`harness ls tasks`)
      metric: ndcg_at_10               # MTEB key, or main_score (the task's main metric)
      expected: 0.64508
      tolerance: 0.002                 # OK when |got - expected| <= tolerance
      source: "embeddings-benchmark/results:..."   # where the expected value comes from
      # optional: split, okish (looser band, default 3 x tolerance), revision, mteb_version,
      # compression, backend, k, note, reference_only ("<why this row cannot run here>")

YAML: a list of such mappings, or a mapping ``{defaults: {...}, expected: [...]}`` whose defaults
fill missing fields of every row. TOML: an optional ``[defaults]`` table and ``[[expected]]``
tables. Every problem is a ``DataError`` naming the file, the line and the field.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import DataError
from harness.tasks.lines import decode_text

REQUIRED = ("model", "task", "metric", "expected", "tolerance", "source")
OPTIONAL = ("split", "okish", "revision", "mteb_version", "compression", "backend", "k", "note",
            "reference_only", "loose")
MAX_TOLERANCE = 0.1  # a wider band can never fail on a [0, 1] metric; needs `loose: true`
OKISH_FACTOR = 3.0  # default OKISH band, as a multiple of the tolerance


@dataclass(frozen=True)
class ExpectedRow:
    path: Path
    line: int  # 1-based line where the row starts
    model: str
    task: str
    metric: str
    expected: float
    tolerance: float
    okish: float
    source: str
    split: str | None = None
    revision: str | None = None
    mteb_version: str | None = None
    compression: str = "none"
    backend: str = "exact"
    k: int = 1000
    note: str = ""
    reference_only: str | None = None  # the reason the row is never run here
    field_lines: tuple[tuple[str, int], ...] = ()

    def line_of(self, field: str) -> int:
        return dict(self.field_lines).get(field, self.line)

    def error(self, field: str | None, message: str) -> DataError:
        return DataError(self.path, self.line_of(field) if field else self.line, field, message)

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


# -- raw rows with positions --------------------------------------------------------------------
RawRow = tuple[int, dict[str, Any], dict[str, int]]  # (row line, fields, field -> line)


def _construct(path: Path, node: yaml.Node) -> Any:
    """A node's Python value, with YAML's own typing (float, int, str) as safe_load gives it."""
    try:
        return yaml.SafeLoader("").construct_document(node)
    except yaml.YAMLError as exc:  # e.g. !!python/object or a custom tag: never constructed
        raise DataError(path, node.start_mark.line + 1, None,
                        f"not allowed in an expected-scores file: "
                        f"{getattr(exc, 'problem', None) or exc}") from None


def _refuse_aliases(path: Path, text: str) -> None:
    """Anchors/aliases make a small file expand without bound (an alias bomb): refused."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise DataError(path, event.start_mark.line + 1, None,
                            "YAML anchors and aliases are not allowed")


def _yaml_rows(path: Path, text: str) -> tuple[list[RawRow], dict[str, Any]]:
    try:
        _refuse_aliases(path, text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise DataError(path, line, None, f"not valid YAML: {getattr(exc, 'problem', exc)}") \
            from exc
    if root is None:
        raise DataError(path, None, None, "empty file: expected a list of rows")
    defaults: dict[str, Any] = {}
    items = root
    if isinstance(root, yaml.MappingNode):
        top = {k.value: v for k, v in root.value}
        unknown = sorted(set(top) - {"defaults", "expected"})
        if unknown or "expected" not in top:
            raise DataError(path, root.start_mark.line + 1, unknown[0] if unknown else "expected",
                            "top level must be a list of rows or {defaults, expected}")
        items = top["expected"]
        if "defaults" in top:
            node = top["defaults"]
            if not isinstance(node, yaml.MappingNode):
                raise DataError(path, node.start_mark.line + 1, "defaults", "must be a mapping")
            defaults = _construct(path, node) or {}
    if not isinstance(items, yaml.SequenceNode):
        raise DataError(path, items.start_mark.line + 1, "expected", "must be a list of rows")
    rows: list[RawRow] = []
    for item in items.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            raise DataError(path, line, None, "each row must be a mapping of field: value")
        fields: dict[str, Any] = {}
        lines: dict[str, int] = {}
        for key_node, value_node in item.value:
            name = str(key_node.value)
            if name in fields:
                raise DataError(path, key_node.start_mark.line + 1, name, "given twice")
            fields[name] = _construct(path, value_node)
            lines[name] = key_node.start_mark.line + 1
        rows.append((line, fields, lines))
    return rows, defaults


_TOML_HEADER = re.compile(r"^\s*\[\[\s*expected\s*\]\]")
_TOML_KEY = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=")


def _toml_rows(path: Path, text: str) -> tuple[list[RawRow], dict[str, Any]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise DataError(path, int(found.group(1)) if found else None, None,
                        f"not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - {"defaults", "expected"})
    if unknown:
        raise DataError(path, None, unknown[0], "TOML must hold [defaults] and [[expected]] only")
    tables = data.get("expected")
    if not isinstance(tables, list) or not tables:
        raise DataError(path, None, "expected", "no [[expected]] rows")
    defaults = data.get("defaults") or {}
    # tomllib keeps no positions: the n-th [[expected]] header is the n-th row, and a field's
    # line is the first `name =` inside that row's block.
    lines = text.splitlines()
    starts = [i for i, s in enumerate(lines) if _TOML_HEADER.match(s)]
    rows: list[RawRow] = []
    for n, fields in enumerate(tables):
        start = starts[n] if n < len(starts) else 0
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        field_lines: dict[str, int] = {}
        for i in range(start + 1, end):
            key = _TOML_KEY.match(lines[i])
            if key and key.group(1) not in field_lines:
                field_lines[key.group(1)] = i + 1
        rows.append((start + 1, dict(fields), field_lines))
    return rows, defaults


# -- typing of one row --------------------------------------------------------------------------
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def _number(path: Path, line: int, field: str, value: object) -> float:
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        value = float(value)  # YAML 1.1 reads `1e308` (no dot) as a string; it is a number
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DataError(path, line, field, f"must be a finite number, got {value!r}")
    return float(value)


def _text(path: Path, line: int, field: str, value: object) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool) or str(value) == "":
        raise DataError(path, line, field, f"must be a non-empty string, got {value!r}")
    return str(value)


def _row(path: Path, raw: RawRow, defaults: dict[str, Any]) -> ExpectedRow:
    line, given, lines = raw
    fields = {**defaults, **given}
    unknown = sorted(set(fields) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise DataError(path, lines.get(unknown[0], line), unknown[0],
                        f"unknown field (allowed: {', '.join(REQUIRED + OPTIONAL)})")
    for name in REQUIRED:
        if name not in fields or fields[name] is None:
            raise DataError(path, line, name, "missing required field")

    def at(name: str) -> int:
        return lines.get(name, line)

    loose = fields.get("loose", False)
    if not isinstance(loose, bool):
        raise DataError(path, at("loose"), "loose", f"must be true or false, got {loose!r}")
    tolerance = _number(path, at("tolerance"), "tolerance", fields["tolerance"])
    if tolerance <= 0 or (tolerance > MAX_TOLERANCE and not loose):
        raise DataError(path, at("tolerance"), "tolerance",
                        f"must be in (0, {MAX_TOLERANCE:g}], got {tolerance:g} (a row that means "
                        "a wider band says `loose: true`)")
    okish = tolerance * OKISH_FACTOR
    if fields.get("okish") is not None:
        okish = _number(path, at("okish"), "okish", fields["okish"])
        if okish < tolerance:
            raise DataError(path, at("okish"), "okish", f"must be >= tolerance ({tolerance})")
    k = fields.get("k", 1000)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise DataError(path, at("k"), "k", f"must be a positive integer, got {k!r}")
    optional_text = {name: (_text(path, at(name), name, fields[name])
                            if fields.get(name) is not None else None)
                     for name in ("split", "revision", "mteb_version", "compression", "backend",
                                  "note", "reference_only")}
    return ExpectedRow(
        path=path, line=line,
        model=_text(path, at("model"), "model", fields["model"]),
        task=_text(path, at("task"), "task", fields["task"]),
        metric=_text(path, at("metric"), "metric", fields["metric"]),
        expected=_number(path, at("expected"), "expected", fields["expected"]),
        tolerance=tolerance, okish=okish,
        source=_text(path, at("source"), "source", fields["source"]),
        split=optional_text["split"], revision=optional_text["revision"],
        mteb_version=optional_text["mteb_version"],
        compression=optional_text["compression"] or "none",
        backend=optional_text["backend"] or "exact", k=k,
        note=optional_text["note"] or "", reference_only=optional_text["reference_only"],
        field_lines=tuple(sorted(lines.items())),
    )


def load_expected(path: Path | str) -> list[ExpectedRow]:
    """Parse and type-check a file (names are resolved later, by ``validate``)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, None, "expected-scores file not found")
    text = decode_text(path, path.read_bytes())
    if path.suffix.lower() == ".toml":
        raw, defaults = _toml_rows(path, text)
    elif path.suffix.lower() in (".yaml", ".yml"):
        raw, defaults = _yaml_rows(path, text)
    else:
        raise DataError(path, None, None, "expected a .yaml, .yml or .toml file")
    if not isinstance(defaults, dict):
        raise DataError(path, None, "defaults", "must be a mapping")
    rows = [_row(path, r, defaults) for r in raw]
    if not rows:
        raise DataError(path, None, "expected", "no rows")
    return rows
