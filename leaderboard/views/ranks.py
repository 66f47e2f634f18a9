"""Ranks that admit ties: mean, rank and 95% rank interval per entry, the tie group with the top
marked. Same code as `harness ranks` (harness/decide/ranks.py)."""

from __future__ import annotations

import streamlit as st

from leaderboard import decide_data as dd
from leaderboard import ui

st.title("Ranks with ties")
ver = ui.version()
runs = ui.runs_or_stop(ver)
all_tasks = sorted(runs["task"].unique())
tasks_key, metric = dd.tasks_and_metric(ver, all_tasks, "Tasks", all_tasks, "rk")
ranking = dd.ranking(ver, tasks_key, metric)
if ranking.frame.empty:
    st.info("No entry covers every selected task.")
    st.stop()
frame = ranking.frame.assign(
    interval=[f"{lo}–{hi}" for lo, hi in zip(ranking.frame["rank_low"],
                                             ranking.frame["rank_high"], strict=True)],
    tie=["tied with the top" if t else "" for t in ranking.frame["tied_with_top"]])
st.dataframe(frame[["rank", "entry", "mean", "interval", "tie", "group"]], hide_index=True,
             key="rk_table",
             column_config={"mean": st.column_config.NumberColumn(format="%.4f"),
                            "interval": st.column_config.TextColumn("95% rank interval"),
                            "group": st.column_config.NumberColumn("tie group")})
notes = [f"{len(frame)} entries · {int(frame['tied_with_top'].sum())} tied with the top",
         "two-level bootstrap (1,000 resamples, seeded): tasks, and queries within tasks "
         f"({', '.join(ranking.query_level) or 'none'})"]
if ranking.task_level:
    notes.append(f"task level only (no per-query rows that average to the score): "
                 f"{', '.join(ranking.task_level)}")
if ranking.missing:
    notes.append(f"{len(ranking.missing)} entr(ies) miss a selected task and are left out")
st.caption(ui.plain(" · ".join(notes)))
ui.csv_button(frame.drop(columns=["tie"]), "ranks")
