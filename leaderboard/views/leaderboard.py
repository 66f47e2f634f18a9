"""Leaderboard: models x tasks, main scores, the mean over the selected tasks with its 95%
bootstrap interval, and coverage (a model missing a selected task gets no mean)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from leaderboard import queries as q
from leaderboard import ui

st.title("Leaderboard")
ver = ui.version()
runs = ui.runs_or_stop(ver)

c1, c2, c3, c4 = st.columns([1, 2, 1, 1])
types = sorted(runs["task_type"].unique())
chosen_types = c1.multiselect("Task types", types, default=types, key="lb_types")
task_options = sorted(runs.loc[runs["task_type"].isin(chosen_types), "task"].unique())
chosen_tasks = c2.multiselect("Tasks", task_options, default=task_options, key="lb_tasks")
families = sorted(runs["family"].unique())
chosen_families = c3.multiselect("Families", families, default=families, key="lb_families")
search = c4.text_input("Model contains", key="lb_search", placeholder="e.g. MiniLM")

if not chosen_tasks or not chosen_families:
    st.warning("Select at least one task and one family.")
    st.stop()

tasks = tuple(sorted(chosen_tasks))
table = q.leaderboard(ver, tasks, tuple(sorted(chosen_families)), search.strip()).copy()
if table.empty:
    st.info("No model matches these filters.")
    st.stop()

sort_options = ["mean", *tasks, "model"]
sort_by = st.selectbox("Sort by", sort_options, key="lb_sort")
# Entries with no mean (a missing task) always sort after the complete ones.
by = [sort_by, "mean_covered"] if sort_by == "mean" else [sort_by]
table = table.sort_values(by, ascending=sort_by == "model", na_position="last", kind="stable")
table.insert(0, "rank", np.arange(1, len(table) + 1))
table["tag"] = [ui.family_tag(f, v) for f, v in zip(table["family"], table["variant"],
                                                      strict=True)]
table["coverage"] = [f"{c}/{len(tasks)}" for c in table["covered"]]
table["mean"] = table["mean"].astype(float)
shown = table[["rank", "model", "tag", "mean", "ci_low", "ci_high", "coverage", *tasks]]

score_format = st.column_config.NumberColumn(format="%.4f")
st.dataframe(
    shown, hide_index=True, key="lb_table", placeholder="—",
    column_config={
        "tag": st.column_config.TextColumn("family", help="family · compression/backend variant"),
        "mean": st.column_config.NumberColumn(
            f"mean ({len(tasks)} tasks)", format="%.4f",
            help="Mean of the main scores over the selected tasks; empty when the model misses "
                 "one of them (no silent averaging over a subset)."),
        "ci_low": st.column_config.NumberColumn("95% CI low", format="%.4f"),
        "ci_high": st.column_config.NumberColumn("95% CI high", format="%.4f"),
        "coverage": st.column_config.TextColumn("tasks", help="selected tasks this model has"),
        **{t: score_format for t in tasks},
    },
)
incomplete = int((table["covered"] < len(tasks)).sum())
no_ci = int((table["mean"].notna() & table["ci_low"].isna()).sum())
notes = [f"{len(table)} models · main score per task "
         f"({', '.join(sorted(runs.loc[runs['task'].isin(tasks), 'main_metric'].unique()))})",
         "95% CI: paired bootstrap over each task's queries (pairs for STS correlations; "
         "1,000 resamples), tasks resampled independently"]
if incomplete:
    notes.append(f"{incomplete} model(s) miss a selected task: no mean, shown as empty")
if no_ci:
    notes.append(f"{no_ci} mean(s) without a CI (no per-query scores that average to the "
                 "main score for some task)")
st.caption(" · ".join(notes))
ui.csv_button(pd.DataFrame(shown), "leaderboard")
