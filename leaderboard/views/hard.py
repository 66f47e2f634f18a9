"""Hard queries: per task, the queries that at least 80% of the entries score 0 on (the task's
main per-query metric), with their texts and judged documents; counts per task; CSV."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from harness.decide.hard import THRESHOLD, counts
from harness.decide.texts import first_lines
from leaderboard import decide_data as dd
from leaderboard import state, ui

st.title("Hard queries")
ver = ui.version()
runs = ui.runs_or_stop(ver)
all_tasks = sorted(runs.loc[runs["task_type"] == "retrieval", "task"].unique())
if not all_tasks:
    st.info("No retrieval task stored.")
    st.stop()
c1, c2 = st.columns([2, 1])
tasks = state.bind(c1.multiselect, "Tasks", "tasks", "hd_tasks", all_tasks, kind=list,
                   options=all_tasks)
share = state.bind(c2.slider, "Share of entries scoring 0", "share", "hd_share",
                   THRESHOLD, kind=float, min_value=0.5, max_value=1.0, step=0.05)
if not tasks:
    st.warning("Select at least one task.")
    st.stop()
hard = dd.hard(ver, tuple(sorted(tasks)), float(share))
per_task = counts(hard, sorted(tasks))
st.dataframe(per_task, hide_index=True, key="hd_counts")
st.caption(f"{int(per_task['hard_queries'].sum())} hard queries: at least {share:.0%} of the "
           "entries with a value score 0 on the task's main per-query metric")
if hard.empty:
    st.stop()

rows = []
for (task, sha), part in hard.groupby(["task", "data_sha"], sort=True):
    texts = dd.query_texts(ver, task, sha)
    judged = dd.qrels(ver, task, sha)
    split = runs.loc[runs["task"] == task, "split"].iloc[0]
    docs = dd.documents(task, split, sha)
    for qid, n, zero in zip(part["query_id"], part["entries"], part["zero"], strict=True):
        relevant = judged[(judged["query_id"] == qid) & (judged["relevance"] > 0)]
        rows.append({"task": task, "query_id": qid, "zero / entries": f"{zero}/{n}",
                     "query": texts.get(qid, ""),
                     "judged relevant": "; ".join(
                         f"{d} {first_lines(docs.texts.get(d, ('', ''))[0], 80)}".strip()
                         for d in relevant["doc_id"])})
table = pd.DataFrame(rows)
task_shown = state.bind(st.selectbox, "Show task", "task", "hd_task", sorted(tasks)[0],
                        options=sorted(tasks))
st.dataframe(table[table["task"] == task_shown], hide_index=True, key="hd_table")
ui.csv_button(table, "hard-queries")
