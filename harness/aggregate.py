"""MTEB-style averages of main scores: per task type and overall, with explicit coverage.

A group's task set is every task of that group present in the selection (any model). A model that
lacks one of them gets no average for the group, only its coverage ("5/7") and the missing names,
so an average never silently covers fewer tasks than it claims.

Groups: one per task type; ``overall`` = mean over all tasks (MTEB's "Mean (Task)");
``mean_by_type`` = mean of the type averages (MTEB's "Mean (TaskType)").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

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
