"""Published reference scores: ``harness import-mteb PATH`` loads MTEB results into ``published``.

Accepted inputs (any number, mixed):
- a folder in the embeddings-benchmark/results layout, ``results/<org>__<model>/<revision>/
  <Task>.json`` (the repository root, its ``results`` folder or one model/revision folder);
- single MTEB result JSON files (``scores.<split>[i].main_score`` …, mteb >= 1.11; the older
  ``scores.<split>.<metric>`` dict form too);
- a YAML list in the ``ci/expected/published.yaml`` form (model, task, split, metric, expected,
  source, revision, mteb_version).

Every file is parsed and checked before anything is written, then all rows go in one transaction:
a bad file stops the import with one line naming file, line and field, and stores nothing.
MTEB model names are mapped to registry names (``MTEB_NAMES``, ``--map``, else a registry model
whose name equals the part after the organisation), so the board can show reproduction deltas.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import click

from harness.errors import DataError, HarnessError

# MTEB name -> registry name where the basename rule does not find it.
MTEB_NAMES: dict[str, str] = {
    "sentence-transformers/all-MiniLM-L6-v2": "all-MiniLM-L6-v2",
    "bm25s": "bm25",
    "mteb/baseline-bm25s": "bm25",
}
# Subsets taken as "the" score of a task with several (English first, as the harness is English).
PREFERRED_SUBSETS = ("default", "en", "eng", "eng-Latn", "en-en")
SKIPPED_PREFIXES = ("nauc_",)  # per-metric calibration curves: many numbers, no use here

Row = dict[str, Any]


def registry_name(mteb_name: str, extra: Mapping[str, str] | None = None) -> str:
    """Our registry name for an MTEB model name (unchanged if no registry model matches)."""
    mapping = {**MTEB_NAMES, **(extra or {})}
    if mteb_name in mapping:
        return mapping[mteb_name]
    from adapters.registry import all_entries

    base = mteb_name.rsplit("/", 1)[-1].lower()
    for entry in all_entries():
        if entry.name.lower() == base:
            return entry.name
    return mteb_name


def _line_of(text: str, needle: str) -> int | None:
    at = text.find(needle)
    return None if at < 0 else text.count("\n", 0, at) + 1


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _subset_metrics(path: Path, text: str, split: str, entries: object) -> tuple[dict, str]:
    """The metrics of one split: the preferred subset, the only one, or the mean over all."""
    if isinstance(entries, dict):  # old format: metrics directly, or {language: metrics}
        if all(isinstance(v, dict) for v in entries.values()) and entries:
            entries = [{"hf_subset": k, **v} for k, v in entries.items()]
        else:
            entries = [dict(entries, hf_subset="default")]
    if not isinstance(entries, list) or not entries or \
            not all(isinstance(e, dict) for e in entries):
        raise DataError(path, _line_of(text, f'"{split}"'), f"scores.{split}",
                        "expected a non-empty list of per-subset score objects")
    by_subset = {str(e.get("hf_subset", "default")): e for e in entries}
    for name in PREFERRED_SUBSETS:
        if name in by_subset:
            return by_subset[name], name
    if len(entries) == 1:
        return entries[0], str(entries[0].get("hf_subset", "default"))
    keys = set.intersection(*(set(e) for e in entries))
    mean = {k: sum(_number(e[k]) or 0.0 for e in entries) / len(entries) for k in keys
            if all(_number(e[k]) is not None for e in entries)}
    return mean, f"mean of {len(entries)} subsets"


def parse_mteb_json(path: Path, *, model: str, revision: str | None, source: str = "",
                    names: Mapping[str, str] | None = None) -> list[Row]:
    """Rows (one per split and metric) from one MTEB result file."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(path, exc.lineno, None, f"invalid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise DataError(path, 1, None, "expected a JSON object (an MTEB result file)")
    task = data.get("task_name", data.get("mteb_dataset_name", path.stem))
    if not isinstance(task, str) or not task:
        raise DataError(path, _line_of(text, '"task_name"'), "task_name", "expected a task name")
    scores = data.get("scores")
    if not isinstance(scores, dict) or not scores:
        raise DataError(path, _line_of(text, '"scores"'), "scores",
                        "missing or empty (expected scores.<split>[...].main_score)")
    ours = registry_name(model, names)
    rows: list[Row] = []
    for split, entries in scores.items():
        metrics, subset = _subset_metrics(path, text, split, entries)
        if "main_score" in metrics and _number(metrics["main_score"]) is None:
            raise DataError(path, _line_of(text, '"main_score"'), f"scores.{split}.main_score",
                            f"expected a finite number, got {metrics['main_score']!r}")
        where = source or str(path)
        for metric, value in sorted(metrics.items()):
            number = _number(value)
            if number is None or metric.startswith(SKIPPED_PREFIXES):
                continue
            rows.append({"model": ours, "task": task, "split": split, "metric": metric,
                         "value": number, "revision": revision,
                         "mteb_version": data.get("mteb_version"),
                         "source": where if subset == "default" else f"{where} ({subset})"})
    if not rows:
        raise DataError(path, _line_of(text, '"scores"'), "scores", "no numeric scores found")
    return rows


def _results_files(folder: Path) -> Iterable[tuple[Path, str, str | None]]:
    """(file, MTEB model name, revision) for every result JSON under a results-layout folder."""
    for path in sorted(folder.rglob("*.json")):
        if path.name == "model_meta.json":
            continue
        rev_dir = path.parent
        model_dir = rev_dir.parent
        meta = rev_dir / "model_meta.json"
        name = None
        if meta.is_file():
            try:
                name = json.loads(meta.read_text(encoding="utf-8")).get("name")
            except (json.JSONDecodeError, AttributeError):
                raise DataError(meta, None, "name", "unreadable model_meta.json") from None
        yield path, name or model_dir.name.replace("__", "/", 1), rev_dir.name


def parse_expected_yaml(path: Path) -> list[Row]:
    """Rows from a ``ci/expected/published.yaml``-style list (its ``expected`` is the value)."""
    import yaml

    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DataError(path, mark.line + 1 if mark else None, None, f"invalid YAML: {exc}") \
            from None
    if not isinstance(data, list):
        raise DataError(path, 1, None, "expected a list of published scores")
    rows: list[Row] = []
    for i, item in enumerate(data):
        line = node.value[i].start_mark.line + 1
        if not isinstance(item, dict):
            raise DataError(path, line, f"[{i}]", "expected a mapping")
        for key in ("model", "task", "metric", "expected"):
            if key not in item:
                raise DataError(path, line, key, "missing")
        value = _number(item["expected"])
        if value is None:
            raise DataError(path, line, "expected", f"not a finite number: {item['expected']!r}")
        rows.append({"model": str(item["model"]), "task": str(item["task"]),
                     "split": str(item.get("split", "test")), "metric": str(item["metric"]),
                     "value": value, "source": str(item.get("source", path)),
                     "revision": item.get("revision"), "mteb_version": item.get("mteb_version")})
    return rows


def collect(paths: Iterable[Path], names: Mapping[str, str] | None = None) -> list[Row]:
    rows: list[Row] = []
    for path in paths:
        if path.is_dir():
            found = list(_results_files(path))
            if not found:
                raise DataError(path, None, None, "no MTEB result JSON files under this folder")
            for file, model, revision in found:
                rows += parse_mteb_json(file, model=model, revision=revision, names=names)
        elif path.suffix in (".yaml", ".yml"):
            rows += parse_expected_yaml(path)
        elif path.suffix == ".json":
            rows += parse_mteb_json(path, model=path.parent.parent.name.replace("__", "/", 1),
                                    revision=path.parent.name, names=names)
        else:
            raise DataError(path, None, None, "expected a results folder, a .json or a .yaml")
    return rows


def _parse_map(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        mteb, sep, ours = v.partition("=")
        if not sep or not mteb or not ours:
            raise HarnessError(f"--map {v!r}: expected MTEB_NAME=REGISTRY_NAME")
        out[mteb] = ours
    return out


@click.command(name="import-mteb")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("--map", "maps", multiple=True, metavar="MTEB=OURS",
              help="Map an MTEB model name to a registry name (repeat).")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="DuckDB file [default: results/harness.duckdb].")
def import_mteb(paths: tuple[Path, ...], maps: tuple[str, ...], db: Path | None) -> None:
    """Load published MTEB scores (results folders, JSON files, published.yaml) for the board."""
    from harness.data_root import results_root
    from harness.store import Store

    rows = collect(paths, _parse_map(maps))
    with Store(db or results_root() / "harness.duckdb") as store:
        n = store.write_published(rows)
    models = sorted({r["model"] for r in rows})
    tasks = sorted({r["task"] for r in rows})
    click.echo(f"imported {n} published scores: {len(models)} model(s) "
               f"({', '.join(models)}), {len(tasks)} task(s)")
    from adapters.registry import all_entries

    known = {e.name for e in all_entries()}
    unmatched = [m for m in models if m not in known]
    if unmatched:  # stored anyway; they show once a registry model of that name has runs
        click.echo(f"not in the model registry (use --map MTEB=OURS): {', '.join(unmatched)}",
                   err=True)
