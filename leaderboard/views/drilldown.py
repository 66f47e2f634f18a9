"""Drill-down: one query, its judged documents, and each run's top 10 (relevant ones marked)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from leaderboard import queries as q
from leaderboard import ui

TOP_K = 10

st.title("Query drill-down")
ver = ui.version()
runs = ui.runs_or_stop(ver)

tasks = sorted(runs["task"].unique())
# Open on a task whose query texts are stored (current data version), the one with most runs.
texts_of = q.tasks_with_texts(ver)
with_texts = set(zip(texts_of["task"], texts_of["data_sha256"], strict=True))
readable = runs[[(t, d) in with_texts for t, d in zip(runs["task"], runs["data_sha"],
                                                      strict=True)]]
counts = readable["task"].value_counts()
first = ui.index_of(tasks, str(counts.index[0])) if len(counts) else 0
task = st.selectbox("Task", tasks, index=ui.index_of(tasks, ui.param("task"), first),
                    key="dd_task")
on_task = runs[runs["task"] == task].sort_values("main_score", ascending=False)
data_sha = on_task["data_sha"].iloc[0]
texts = q.query_texts(ver, task, data_sha)
if texts.empty:
    st.info(ui.plain(f"No query texts stored for {task}."))
    st.stop()
qids = texts["query_id"].tolist()
by_id = texts.set_index("query_id")["text"]
query_id = st.selectbox("Query", qids, index=ui.index_of(qids, ui.param("q")), key="dd_query",
                        format_func=lambda qid: f"{qid}: {by_id.get(qid, '')[:90]}")

keys = on_task["run_key"].tolist()
labels = {row.run_key: ui.run_label(row._asdict()) for row in on_task.itertuples()}
wanted = [k for k in (ui.param("runs") or "").split(",") if k in keys] or keys[:2]
chosen = st.multiselect("Runs", keys, default=wanted, format_func=labels.get, key="dd_runs")

st.subheader("Query")
st.text(by_id.get(query_id, ""))
judged = q.qrels(ver, task, data_sha, query_id)
judged_label = dict(zip(judged["doc_id"], judged["relevance"], strict=True))
st.markdown(f"**Judged documents** ({len(judged)}; relevance > 0 counts as relevant)")
st.dataframe(judged, hide_index=True, key="dd_qrels")

main_metric = on_task["main_metric"].iloc[0]
for start in range(0, len(chosen), 3):
    for col, key in zip(st.columns(3), chosen[start:start + 3], strict=False):
        with col:
            st.markdown(f"**{ui.plain(labels[key])}**")  # a model name may be any folder name
            value = q.query_value(ver, key, query_id, main_metric)
            found = q.top(ver, key, task, data_sha, query_id, TOP_K)
            hits = int((found["relevance"].fillna(0) > 0).sum())
            st.caption(f"{main_metric} on this query: "
                       f"{'n/a' if value is None else f'{value:.4f}'} · "
                       f"{hits} relevant in the top {TOP_K}")
            shown = pd.DataFrame({
                "rank": found["rank"], "doc_id": found["doc_id"], "score": found["score"],
                "relevant": ["✓ " + str(int(r)) if pd.notna(r) and r > 0 else
                             ("judged 0" if pd.notna(r) else "") for r in found["relevance"]],
            })
            st.dataframe(shown, hide_index=True, key=f"dd_top_{key}",
                         column_config={"score": st.column_config.NumberColumn(format="%.4f")})
            st.page_link(ui.PAGES["run"], label="run details", query_params={"run": key})
if chosen:
    missed = [d for d, r in judged_label.items() if r > 0]
    st.caption(f"{len(missed)} relevant document(s) judged for this query.")
