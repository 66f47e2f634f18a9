"""The leaderboard's default view, free of Streamlit: benchmark presets, the default task set,
Borda ranks, variants grouped under their base model, and model metadata columns.

- A preset is a named task set ("BEIR retrieval (local)": every retrieval task stored, ...).
- The default is the largest task set that at least ``MIN_ENTRIES`` entries cover completely, so
  the first page a user sees has means, not a page of dashes.
- Borda (as MTEB's leaderboard): on each task an entry gets one point per entry it beats; entries
  are ranked by their total. Missing tasks give no points, so it ranks incomplete entries too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

MIN_ENTRIES = 3
COVERED = "Largest task set covered by ≥3 entries"
EVERYTHING = "Everything"
CUSTOM = "Custom"
# preset name -> task type(s) it gathers (types as stored in runs.task_type)
TYPE_PRESETS: dict[str, tuple[str, ...]] = {
    "BEIR retrieval (local)": ("retrieval",),
    "MTEB STS": ("sts",),
    "MTEB classification": ("classification",),
}
META_COLUMNS = ("parameters", "dim", "max_tokens", "memory_mb")
# keys a run's model_meta (or mteb's ModelMeta) may use for each column
META_KEYS: dict[str, tuple[str, ...]] = {
    "parameters": ("parameters", "n_parameters"),
    "dim": ("dim", "embed_dim"),
    "max_tokens": ("max_tokens", "max_length"),
    "memory_mb": ("memory_mb", "memory_usage_mb"),
}


def largest_covered(has: np.ndarray, tasks: Sequence[str],
                    min_entries: int = MIN_ENTRIES) -> list[str]:
    """Greedy: add tasks from the most-covered down while at least ``min_entries`` entries
    still have every chosen task. ``has``: entries x tasks, True where the entry has a run.
    Falls back to the most-covered task."""
    if has.size == 0:
        return []
    order = np.argsort(-has.sum(axis=0), kind="stable")
    chosen: list[str] = []
    complete = np.ones(has.shape[0], dtype=bool)
    for column in order:
        still = complete & has[:, column]
        if still.sum() >= min_entries or not chosen:
            chosen.append(tasks[column])
            complete = still
    return sorted(chosen)


def presets(has: np.ndarray, tasks: Sequence[str], task_types: Mapping[str, str]) -> \
        dict[str, list[str]]:
    """Preset name -> its tasks (only presets with at least one stored task)."""
    out = {COVERED: largest_covered(has, tasks)}
    for name, types in TYPE_PRESETS.items():
        chosen = sorted(t for t in tasks if task_types.get(t) in types)
        if chosen:
            out[name] = chosen
    out[EVERYTHING] = sorted(tasks)
    return out


def borda(table: pd.DataFrame, tasks: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(points, rank): per task, points = entries it beats (ties share); rank 1 = most points."""
    scores = table[list(tasks)].astype(float)
    beaten = scores.rank(axis=0, method="average", ascending=True) - 1.0  # NaN stays NaN
    points = beaten.fillna(0.0).sum(axis=1).to_numpy()
    rank = pd.Series(points).rank(method="min", ascending=False).astype(int).to_numpy()
    return points, rank


def group_variants(table: pd.DataFrame) -> pd.DataFrame:
    """One row per model: its plain run ('' variant), else its best-ranked variant, with a count
    of the variants folded under it. ``table`` must already be in display order."""
    counts = table.groupby("model", sort=False)["variant"].transform("size") - 1
    order = pd.DataFrame({"model": table["model"].to_numpy(),
                          "variant_run": (table["variant"] != "").to_numpy(),
                          "i": np.arange(len(table))})
    keep = np.sort(order.sort_values(["variant_run", "i"], kind="stable")
                   .drop_duplicates("model")["i"].to_numpy())
    return table.assign(variants=counts.to_numpy()).iloc[keep].reset_index(drop=True)


def order_with_variants(table: pd.DataFrame) -> pd.DataFrame:
    """Every row, each model's variants right under its own row (the model keeps the position of
    its best row); a variant's name is indented under its base in the ``entry`` column."""
    pos = np.arange(len(table))
    first = pd.Series(pos).groupby(table["model"].to_numpy()).transform("min").to_numpy()
    ordered = table.assign(_first=first, _variant_run=(table["variant"] != "").to_numpy(),
                           _pos=pos)
    ordered = ordered.sort_values(["_first", "_variant_run", "_pos"], kind="stable")
    return ordered.drop(columns=["_first", "_variant_run", "_pos"]).reset_index(drop=True)


def meta_value(meta: Mapping[str, Any] | None, column: str) -> object:
    for key in META_KEYS[column]:
        value = (meta or {}).get(key)
        if value not in (None, "", "unknown"):
            return value
    return None


def model_meta_frame(stored: pd.DataFrame, registry: Mapping[str, Mapping[str, Any]]) -> \
        pd.DataFrame:
    """model -> the four metadata columns: a run's stored model_meta first, then what the
    registry's adapter declares, else None (shown as "unknown")."""
    rows = []
    stored_meta = {m: json.loads(v) if isinstance(v, str) else (v or {})
                   for m, v in zip(stored["model"], stored["model_meta"], strict=True)}
    for model in sorted(set(stored_meta) | set(registry)):
        first, second = stored_meta.get(model) or {}, registry.get(model) or {}
        rows.append({"model": model, **{c: meta_value(first, c) if meta_value(first, c)
                                        is not None else meta_value(second, c)
                                        for c in META_COLUMNS}})
    return pd.DataFrame(rows, columns=["model", *META_COLUMNS])


def human_count(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "unknown"
    number = float(value)  # type: ignore[arg-type]
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if number >= size:
            return f"{number / size:.1f}{unit}"
    return f"{number:.0f}"
