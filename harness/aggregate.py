"""MTEB-style averages of main scores: per task type and overall, with explicit coverage.

A group's task set is every task of that group present in the selection (any model). A model that
lacks one of them gets no average for the group, only its coverage ("5/7") and the missing names,
so an average never silently covers fewer tasks than it claims.

Groups: one per task type; ``overall`` = mean over all tasks (MTEB's "Mean (Task)");
``mean_by_type`` = mean of the type averages (MTEB's "Mean (TaskType)").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

OVERALL, BY_TYPE = "overall", "mean_by_type"


@dataclass(frozen=True)
class GroupAverage:
    model: str
    variant: str
    group: str
    mean: float | None  # None unless every task of the group has a score
    n_covered: int
    n_tasks: int
    tasks: tuple[str, ...]
    missing: tuple[str, ...]


def latest_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """One main score per (model, variant, task): the most recent run."""
    cols = ["model", "variant", "task", "task_type", "main_score", "created_at"]
    df = frame[cols].copy()
    df["variant"] = df["variant"].fillna("")
    df = df.sort_values("created_at").drop_duplicates(["model", "variant", "task"], keep="last")
    return df[df["main_score"].notna()]


def _group(model: str, variant: str, group: str, tasks: list[str],
           have: dict[str, float]) -> GroupAverage:
    covered = [t for t in tasks if t in have]
    missing = tuple(t for t in tasks if t not in have)
    mean = None if missing or not tasks else float(sum(have[t] for t in tasks) / len(tasks))
    return GroupAverage(model, variant, group, mean, len(covered), len(tasks), tuple(tasks),
                        missing)


def aggregate(frame: pd.DataFrame) -> list[GroupAverage]:
    """Per-type, overall and mean-by-type averages for every (model, variant) in ``frame``."""
    if frame.empty:
        return []
    df = latest_scores(frame)
    types = {t: sorted(df.loc[df["task_type"] == t, "task"].unique())
             for t in sorted(df["task_type"].unique())}
    all_tasks = sorted(df["task"].unique())
    out: list[GroupAverage] = []
    for (model, variant), rows in df.groupby(["model", "variant"], sort=True):
        have = dict(zip(rows["task"], rows["main_score"].astype(float), strict=True))
        per_type = [_group(model, variant, t, tasks, have) for t, tasks in types.items()]
        out.extend(per_type)
        out.append(_group(model, variant, OVERALL, all_tasks, have))
        type_means = {g.group: g.mean for g in per_type if g.mean is not None}
        out.append(_group(model, variant, BY_TYPE, list(types), type_means))
    return out


def to_records(groups: list[GroupAverage]) -> list[dict[str, object]]:
    return [dict(asdict(g), tasks=list(g.tasks), missing=list(g.missing)) for g in groups]


def print_aggregate(groups: list[GroupAverage], console: Console | None = None) -> None:
    console = console or Console(width=200)
    if not groups:
        console.print("no results")
        return
    order = list(dict.fromkeys(g.group for g in groups))
    first = {g.group: g for g in groups}
    table = Table(title="MTEB-style averages (main score)")
    table.add_column("model")
    table.add_column("variant")
    for group in order:
        unit = "types" if group == BY_TYPE else "tasks"
        table.add_column(f"{group} ({first[group].n_tasks} {unit})", justify="right")
    rows: dict[tuple[str, str], dict[str, GroupAverage]] = {}
    for g in groups:
        rows.setdefault((g.model, g.variant), {})[g.group] = g
    for (model, variant), by_group in rows.items():
        cells = []
        for group in order:
            g = by_group[group]
            cells.append(f"{g.mean:.5f}" if g.mean is not None
                         else f"– ({g.n_covered}/{g.n_tasks})")
        table.add_row(model, variant or "-", *cells)
    console.print(table)
    for group in order:
        if group != BY_TYPE:
            console.print(f"{group}: {first[group].n_tasks} tasks: "
                          f"{', '.join(first[group].tasks)}")
    for g in groups:
        if g.missing:
            console.print(f"no {g.group} average for {g.model}"
                          f"{' ' + g.variant if g.variant else ''}: missing "
                          f"{', '.join(g.missing)} ({g.n_covered}/{g.n_tasks} covered)")


@dataclass(frozen=True)
class BenchmarkEntry:
    """One (model, variant) on a named benchmark, MTEB's way: means only over complete sets."""

    model: str
    variant: str
    n_covered: int
    n_tasks: int
    missing: tuple[str, ...]
    mean_task: float | None  # MTEB "Mean (Task)"; None unless every task has a score
    mean_type: float | None  # MTEB "Mean (TaskType)"; None unless every type is complete
    type_means: dict[str, float | None]  # per mteb type; None unless the type is complete
    type_coverage: dict[str, str]  # per mteb type, "covered/total"
    borda_rank: int | None  # MTEB "Rank (Borda)" among the entries that cover every task


def borda_ranks(scores: dict[tuple[str, str], dict[str, float]],
                tasks: list[str]) -> dict[tuple[str, str], int]:
    """mteb's Borda rank: per task, rank entries by score (ties averaged, best = 1) and award
    ``n_entries - rank`` points; rank the point sums (ties share the better rank)."""
    entries = list(scores)
    points = {e: 0.0 for e in entries}
    for task in tasks:
        have = pd.Series({e: scores[e][task] for e in entries if task in scores[e]})
        for e, rank in have.rank(method="average", ascending=False).items():
            points[e] += len(entries) - float(rank)
    ranked = pd.Series(points).rank(method="min", ascending=False)
    return {e: int(ranked[e]) for e in entries}


def benchmark_aggregate(frame: pd.DataFrame,
                        suite: list[tuple[str, str]]) -> list[BenchmarkEntry]:
    """MTEB's aggregates of a benchmark ``suite`` ([(task, mteb type)]) for each stored entry.

    Borda ranks are computed only among entries covering the whole benchmark (a partial entry's
    rank would depend on which tasks it happens to miss); the others show their coverage.
    """
    if frame.empty or not suite:
        return []
    df = latest_scores(frame)
    canonical = {name.lower(): name for name, _ in suite}
    df = df[df["task"].str.lower().isin(canonical)]
    names = [name for name, _ in suite]
    by_type: dict[str, list[str]] = {}
    for name, kind in suite:
        by_type.setdefault(kind, []).append(name)
    scores: dict[tuple[str, str], dict[str, float]] = {}
    for (model, variant), rows in df.groupby(["model", "variant"], sort=True):
        scores[(model, variant)] = {canonical[t.lower()]: float(s) for t, s in
                                    zip(rows["task"], rows["main_score"], strict=True)}
    complete = {e: s for e, s in scores.items() if len(s) == len(names)}
    ranks = borda_ranks(complete, names) if complete else {}
    out = []
    for entry, have in scores.items():
        type_means = {kind: (float(np.mean([have[t] for t in tasks]))
                             if all(t in have for t in tasks) else None)
                      for kind, tasks in by_type.items()}
        missing = tuple(t for t in names if t not in have)
        out.append(BenchmarkEntry(
            entry[0], entry[1], len(names) - len(missing), len(names), missing,
            None if missing else float(np.mean([have[t] for t in names])),
            None if missing else float(np.mean(list(type_means.values()))),
            type_means,
            {k: f"{sum(t in have for t in ts)}/{len(ts)}" for k, ts in by_type.items()},
            ranks.get(entry)))
    return sorted(out, key=lambda e: (e.borda_rank is None, e.borda_rank or 0, -e.n_covered,
                                      e.model, e.variant))


def benchmark_records(entries: list[BenchmarkEntry]) -> list[dict[str, object]]:
    return [dict(asdict(e), missing=list(e.missing)) for e in entries]


def print_benchmark(name: str, entries: list[BenchmarkEntry],
                    console: Console | None = None) -> None:
    console = console or Console(width=200)
    if not entries:
        console.print(f"no stored results for any task of {name}")
        return
    kinds = list(entries[0].type_means)
    table = Table(title=f"{name}: MTEB aggregates (main score; means only over complete sets)")
    for col in ("borda", "model", "variant", "tasks", "mean (task)", "mean (type)", *kinds):
        table.add_column(col, justify="left" if col in ("model", "variant") else "right")
    for e in entries:
        cells = [f"{e.type_means[k]:.5f}" if e.type_means[k] is not None
                 else f"– ({e.type_coverage[k]})" for k in kinds]
        table.add_row("–" if e.borda_rank is None else str(e.borda_rank), e.model,
                      e.variant or "-", f"{e.n_covered}/{e.n_tasks}",
                      "–" if e.mean_task is None else f"{e.mean_task:.5f}",
                      "–" if e.mean_type is None else f"{e.mean_type:.5f}", *cells)
    console.print(table)
    partial = [e for e in entries if e.missing]
    if partial:
        console.print(f"{len(partial)} entr{'y' if len(partial) == 1 else 'ies'} miss tasks of "
                      f"{name}: no overall mean and no Borda rank (coverage shown)")
