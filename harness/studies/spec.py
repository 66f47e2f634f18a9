"""Study files: ``studies/NAME.yaml``, loaded strictly into small immutable values.

A study names a measurement (``measure``), its grid (``grid``; ``small`` is a tiny variant for
tests), the plot (``plot``: x, y, series) and the paper's claim it checks (``claim``). Every
problem is one line naming the file, the line and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from harness.data_root import REPO_ROOT
from harness.errors import DataError, HarnessError

STUDIES_DIR = REPO_ROOT / "studies"
TOP_FIELDS = {"name": True, "title": True, "claim": True, "measure": True, "grid": True,
              "plot": True, "small": False, "summary": False}
CLAIM_FIELDS = {"text": True, "citation": True, "paper_value": True}
PLOT_FIELDS = {"x": True, "y": True, "series": False, "kind": False, "log_x": False}
PLOT_KINDS = ("line", "bar")


@dataclass(frozen=True)
class Claim:
    text: str
    citation: str
    paper_value: str  # the paper's number, as the paper states it


@dataclass(frozen=True)
class Plot:
    x: str
    y: str
    series: str = ""
    kind: str = "line"
    log_x: bool = False


@dataclass(frozen=True)
class Study:
    name: str
    title: str
    claim: Claim
    measure: str  # a name in harness.studies.measures.MEASURES
    grid: Mapping[str, Any]
    plot: Plot
    small: Mapping[str, Any]  # overrides of grid for the small-data tests
    summary: str  # a name in harness.studies.run.SUMMARIES ("" = none)
    path: Path

    def grid_for(self, small: bool) -> dict[str, Any]:
        return {**self.grid, **(self.small if small else {})}


def _lines(path: Path, text: str) -> dict[str, int]:
    """1-based line of every mapping key, by dotted path ("plot.x"), for error messages."""
    import yaml

    out: dict[str, int] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                dotted = f"{prefix}{key.value}"
                out[dotted] = key.start_mark.line + 1
                walk(value, dotted + ".")

    try:
        walk(yaml.compose(text), "")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DataError(path, mark.line + 1 if mark else None, None,
                        f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    return out


def _fields(path: Path, lines: dict[str, int], value: Any, spec: dict[str, bool],
            prefix: str) -> dict[str, Any]:
    where = prefix.rstrip(".") or "(top level)"
    if not isinstance(value, dict):
        raise DataError(path, lines.get(prefix.rstrip(".")), where, "must be a mapping")
    for key in value:
        if key not in spec:
            raise DataError(path, lines.get(f"{prefix}{key}"), f"{prefix}{key}",
                            f"unknown field (known: {', '.join(spec)})")
    for key, required in spec.items():
        if required and key not in value:
            raise DataError(path, lines.get(prefix.rstrip(".")), f"{prefix}{key}",
                            "missing (required)")
    return value


def _text(path: Path, lines: dict[str, int], value: Any, field: str) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool) or str(value) == "":
        raise DataError(path, lines.get(field), field, "must be a non-empty string")
    return str(value)


def load_study(path: Path) -> Study:
    import yaml

    from harness.studies.measures import MEASURES
    from harness.studies.run import SUMMARIES

    text = path.read_text(encoding="utf-8")
    lines = _lines(path, text)
    raw = _fields(path, lines, yaml.safe_load(text), TOP_FIELDS, "")
    name = _text(path, lines, raw["name"], "name")
    if name != path.stem:
        raise DataError(path, lines.get("name"), "name", f"'{name}' differs from the file name")
    claim = _fields(path, lines, raw["claim"], CLAIM_FIELDS, "claim.")
    plot = _fields(path, lines, raw["plot"], PLOT_FIELDS, "plot.")
    if plot.get("kind", "line") not in PLOT_KINDS:
        raise DataError(path, lines.get("plot.kind"), "plot.kind",
                        f"'{plot['kind']}' is not one of {', '.join(PLOT_KINDS)}")
    measure = _text(path, lines, raw["measure"], "measure")
    if measure not in MEASURES:
        raise DataError(path, lines.get("measure"), "measure",
                        f"unknown measure '{measure}' (known: {', '.join(sorted(MEASURES))})")
    summary = str(raw.get("summary", ""))
    if summary and summary not in SUMMARIES:
        raise DataError(path, lines.get("summary"), "summary",
                        f"unknown summary '{summary}' (known: {', '.join(sorted(SUMMARIES))})")
    grids = {}
    for field in ("grid", "small"):
        value = raw.get(field, {})
        if not isinstance(value, dict):
            raise DataError(path, lines.get(field), field, "must be a mapping")
        MEASURES[measure].check(path, lines, field, value)
        grids[field] = MappingProxyType(dict(value))
    return Study(
        name=name, title=_text(path, lines, raw["title"], "title"),
        claim=Claim(*(_text(path, lines, claim[f], f"claim.{f}") for f in CLAIM_FIELDS)),
        measure=measure, grid=grids["grid"],
        plot=Plot(x=_text(path, lines, plot["x"], "plot.x"),
                  y=_text(path, lines, plot["y"], "plot.y"),
                  series=str(plot.get("series", "")), kind=str(plot.get("kind", "line")),
                  log_x=bool(plot.get("log_x", False))),
        small=grids["small"], summary=summary, path=path)


def all_studies(folder: Path = STUDIES_DIR) -> list[Study]:
    if not folder.is_dir():
        raise HarnessError(f"no studies folder at {folder}")
    return [load_study(p) for p in sorted(folder.glob("*.yaml"))]


def get_study(name: str, folder: Path = STUDIES_DIR) -> Study:
    path = folder / f"{name}.yaml"
    if not path.is_file():
        from harness.errors import UnknownNameError

        raise UnknownNameError("study", name, sorted(p.stem for p in folder.glob("*.yaml")))
    return load_study(path)
