"""Head-to-head: two entries on one retrieval task, the paired test, then the queries where they
differ most, each with its text and both entries' top five documents (title, first lines,
relevance label). Document texts come from the task's local data when its checksum matches."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from harness.decide.load import entry_label
from harness.decide.texts import first_lines
from leaderboard import decide_data as dd
from leaderboard import queries as q
from leaderboard import state, ui
from leaderboard.stats import paired_comparison

TOP = 5

st.title("Head-to-head")
ver = ui.version()
runs = ui.runs_or_stop(ver)
runs = runs.assign(entry=[entry_label(m, v) for m, v in zip(runs["model"], runs["variant"],
                                                             strict=True)])
retrieval = runs[runs["task_type"] == "retrieval"]
counts = retrieval["task"].value_counts()
tasks = sorted(counts[counts >= 2].index)
if not tasks:
    st.info("Head-to-head needs two entries on one retrieval task.")
    st.stop()
task = state.bind(st.selectbox, "Task", "task", "hh_task", tasks[0], options=tasks)
on_task = retrieval[retrieval["task"] == task].sort_values("main_score", ascending=False)
entries = on_task["entry"].tolist()
c1, c2 = st.columns(2)
a = state.bind(c1.selectbox, "Entry A", "a", "hh_a", entries[0], options=entries)
b = state.bind(c2.selectbox, "Entry B", "b", "hh_b", entries[1], options=entries)
key_a = on_task.loc[on_task["entry"] == a, "run_key"].iloc[0]
key_b = on_task.loc[on_task["entry"] == b, "run_key"].iloc[0]
main_metric = on_task["main_metric"].iloc[0]
metrics = q.query_metrics(ver, key_a) or [main_metric]
metric = state.bind(st.selectbox, "Per-query metric", "metric", "hh_metric",
                    main_metric if main_metric in metrics else metrics[0], options=metrics)
n_show = state.bind(st.slider, "Queries shown", "n", "hh_n", 10, kind=int, min_value=1,
                    max_value=50)
if a == b:
    st.warning("Pick two different entries.")
    st.stop()

data = q.pair(ver, key_a, key_b, metric)
if len(data) < 2:
    st.info(ui.plain(f"These entries share {len(data)} queries with a {metric} value."))
    st.stop()
result = paired_comparison(data["a"].to_numpy(), data["b"].to_numpy())
m = st.columns(4)
m[0].metric(f"mean {metric} A", f"{result.mean_a:.4f}")
m[1].metric(f"mean {metric} B", f"{result.mean_b:.4f}", delta=f"{result.mean_diff:+.4f}")
m[2].metric("B wins / ties / losses", f"{result.wins} / {result.ties} / {result.losses}")
m[3].metric("paired randomisation p", f"{result.randomisation_pvalue:.4g}")
st.caption(f"B − A = {result.mean_diff:+.4f}, 95% bootstrap CI [{result.ci_low:+.4f}, "
           f"{result.ci_high:+.4f}] over {result.n} shared queries")

data_sha = on_task["data_sha"].iloc[0]
split = on_task["split"].iloc[0]
texts = dd.query_texts(ver, task, data_sha)
judged = dd.qrels(ver, task, data_sha)
docs = dd.documents(task, split, data_sha)
if docs.note:
    st.info(ui.plain(docs.note))
data = data.assign(diff=data["b"] - data["a"])
data = data.reindex(data["diff"].abs().sort_values(ascending=False, kind="stable").index)
shown = data.head(int(n_show))
tops = dd.top_documents(ver, (key_a, key_b), tuple(shown["query_id"]), TOP)
ui.csv_button(data.assign(text=data["query_id"].map(texts)), "headtohead",
              "Download per-query differences (CSV)")


def _doc_table(key: str, qid: str, labels: dict[str, int]) -> pd.DataFrame:
    part = tops[(tops["run_key"] == key) & (tops["query_id"] == qid)]
    rows = []
    for doc_id, rank in zip(part["doc_id"], part["rank"], strict=True):
        title, body = docs.texts.get(doc_id, ("", ""))
        label = labels.get(doc_id)
        rows.append({"rank": int(rank), "doc": doc_id, "title": title,
                     "first lines": first_lines(body, 160),
                     "relevance": "not judged" if label is None else str(int(label))})
    return pd.DataFrame(rows)


for row in shown.itertuples():
    labels = dict(zip(judged.loc[judged["query_id"] == row.query_id, "doc_id"],
                      judged.loc[judged["query_id"] == row.query_id, "relevance"], strict=True))
    with st.container(border=True):
        st.text(f"query {row.query_id} · A {row.a:.3f} · B {row.b:.3f} · "
                f"B − A {row.diff:+.3f}\n{texts.get(row.query_id, '(no text stored)')}")
        left, right = st.columns(2)
        for col, key, name in ((left, key_a, "A"), (right, key_b, "B")):
            col.caption(f"{name}: top {TOP}")
            col.table(_doc_table(key, row.query_id, labels))
