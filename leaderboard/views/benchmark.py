"""Benchmark: MTEB's aggregates of a named suite (e.g. MTEB(eng, v2)) over the stored runs.

Mean over tasks, mean over task types and per-type means are shown only where an entry has every
task of the set (coverage is shown instead, never an average over a subset); the Borda rank is
mteb's, computed among the entries that cover the whole benchmark.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from leaderboard import ui

DEFAULT = "MTEB(eng, v2)"


@st.cache_data(show_spinner="Reading the benchmark definition from mteb …")
def suite(name: str) -> list[tuple[str, str]]:
    from harness.tasks.benchmarks import benchmark_suite

    return benchmark_suite(name)


@st.cache_data(show_spinner=False)
def names() -> list[str]:
    from harness.tasks.benchmarks import benchmark_names

    return benchmark_names()


def table(runs: pd.DataFrame, tasks: list[tuple[str, str]]) -> pd.DataFrame:
    """One row per entry: Borda rank, coverage, mean (task), mean (type), per-type means."""
    from harness.aggregate import benchmark_aggregate

    rows = []
    for e in benchmark_aggregate(runs, tasks):
        rows.append({"borda rank": e.borda_rank, "model": e.model, "variant": e.variant or "",
                     "tasks": f"{e.n_covered}/{e.n_tasks}", "mean (task)": e.mean_task,
                     "mean (type)": e.mean_type, **{k: v for k, v in e.type_means.items()},
                     **{f"{k} tasks": c for k, c in e.type_coverage.items()}})
    return pd.DataFrame(rows)


st.title("Benchmark")
ver = ui.version()
runs = ui.runs_or_stop(ver)
options = names()
choice = st.selectbox("Benchmark", options, index=options.index(DEFAULT) if DEFAULT in options
                      else 0, key="bm_name")
tasks = suite(choice)
shown = table(runs, tasks)
if shown.empty:
    st.info(ui.plain(f"No stored run is on a task of {choice} ({len(tasks)} tasks)."))
    st.stop()
kinds = list(dict.fromkeys(k for _, k in tasks))
ui.score_table(shown, "bm_table", kinds, **{
    "borda rank": st.column_config.NumberColumn(
        "Rank (Borda)", help="mteb's Borda count over tasks, among entries with every task"),
    "mean (task)": st.column_config.NumberColumn(
        f"Mean (Task, {len(tasks)})", format="%.4f",
        help="Empty unless the entry has every task of the benchmark."),
    "mean (type)": st.column_config.NumberColumn(
        f"Mean (TaskType, {len(kinds)})", format="%.4f",
        help="Mean of the per-type means; empty unless every type is complete.")})
complete = int(shown["borda rank"].notna().sum())
st.caption(f"{choice}: {len(tasks)} tasks of {len(kinds)} types · {complete} of {len(shown)} "
           "entries cover every task (only they get a Borda rank and overall means) · "
           "main score per task, newest current run")
ui.csv_button(shown, "benchmark")
