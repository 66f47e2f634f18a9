"""Compare two runs on the same task, query by query, with paired statistics."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from leaderboard import queries as q
from leaderboard import ui
from leaderboard.stats import paired_comparison

st.title("Compare two runs")
ver = ui.version()
runs = ui.runs_or_stop(ver)

counts = runs["task"].value_counts()
tasks = sorted(counts[counts >= 2].index)
if not tasks:
    st.info("Comparing needs two runs on one task.")
    st.stop()
task = st.selectbox("Task", tasks, index=ui.index_of(tasks, ui.param("task")), key="cmp_task")
on_task = runs[runs["task"] == task].sort_values("main_score", ascending=False)
keys = on_task["run_key"].tolist()
labels = {row.run_key: ui.run_label(row._asdict()) for row in on_task.itertuples()}

c1, c2 = st.columns(2)
key_a = c1.selectbox("Run A", keys, index=ui.index_of(keys, ui.param("a"), 0),
                     format_func=labels.get, key="cmp_a")
key_b = c2.selectbox("Run B", keys, index=ui.index_of(keys, ui.param("b"), 1),
                     format_func=labels.get, key="cmp_b")
# STS rows hold each pair's prediction and gold score, not a quality per item: not comparable.
metrics = [m for m in q.query_metrics(ver, key_a) if m not in ("cosine_similarity", "gold_score")]
if not metrics:
    st.info(ui.plain(f"{task} stores no per-item quality scores (an STS task is one correlation "
                     "over all pairs); compare its runs on the Leaderboard page, whose intervals "
                     "come from pairs."))
    st.stop()
main_metric = on_task["main_metric"].iloc[0]
metric = st.selectbox("Per-query metric", metrics, index=ui.index_of(metrics, main_metric),
                      key="cmp_metric")
if key_a == key_b:
    st.warning("Pick two different runs.")
    st.stop()

data = q.pair(ver, key_a, key_b, metric)
if len(data) < 2:
    st.info(ui.plain(f"These runs share {len(data)} queries with a {metric} value; nothing to "
                     "compare."))
    st.stop()
result = paired_comparison(data["a"].to_numpy(), data["b"].to_numpy())

m = st.columns(5)
m[0].metric(f"mean {metric} A", f"{result.mean_a:.4f}")
m[1].metric(f"mean {metric} B", f"{result.mean_b:.4f}",
            delta=f"{result.mean_diff:+.4f}")
m[2].metric("B wins / ties / losses", f"{result.wins} / {result.ties} / {result.losses}")
m[3].metric("paired randomisation p", f"{result.randomisation_pvalue:.4g}")
m[4].metric("paired t-test p", "n/a" if np.isnan(result.t_pvalue) else f"{result.t_pvalue:.4g}")
st.markdown(f"Mean difference B − A = **{result.mean_diff:+.4f}**, 95% bootstrap CI "
            f"[{result.ci_low:+.4f}, {result.ci_high:+.4f}] over **{result.n}** shared queries "
            f"(t = {result.t_statistic:.3f}; randomisation test: 9,999 sign flips).")

texts = q.query_texts(ver, task, on_task["data_sha"].iloc[0]).set_index("query_id")["text"]
data = data.assign(diff=data["b"] - data["a"], text=data["query_id"].map(texts).fillna(""))
lo, hi = float(min(data["a"].min(), data["b"].min())), float(max(data["a"].max(),
                                                                 data["b"].max()))
colour = np.where(data["diff"] > 0, "B better", np.where(data["diff"] < 0, "A better", "tie"))
fig = go.Figure()
for name, color in (("B better", "#2ca02c"), ("A better", "#d62728"), ("tie", "#7f7f7f")):
    part = data[colour == name]
    fig.add_trace(go.Scatter(
        x=part["a"], y=part["b"], mode="markers", name=f"{name} ({len(part)})",
        marker={"color": color, "size": 8, "opacity": 0.75},
        customdata=np.stack([part["query_id"], part["text"].str.slice(0, 90)], axis=1),
        hovertemplate="query %{customdata[0]}<br>%{customdata[1]}<br>A %{x:.4f} · B %{y:.4f}"
                      "<extra></extra>"))
fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="A = B",
                         line={"dash": "dot", "color": "grey"}, hoverinfo="skip"))
fig.update_layout(xaxis_title=f"A: {labels[key_a]}", yaxis_title=f"B: {labels[key_b]}",
                  height=520, margin={"l": 10, "r": 10, "t": 30, "b": 10})
st.plotly_chart(fig, config=ui.PLOTLY_CONFIG, key="cmp_chart")
ui.csv_button(data[["query_id", "a", "b", "diff", "text"]], "compare",
              "Download per-query data (CSV)")

st.subheader("Largest differences")
n_show = st.slider("How many", 5, 50, 15, key="cmp_n")
largest = data.reindex(data["diff"].abs().sort_values(ascending=False).index).head(n_show)
largest = largest.assign(open=[ui.page_url("drilldown", task=task, q=qid, runs=f"{key_a},{key_b}")
                               for qid in largest["query_id"]])
st.dataframe(largest[["query_id", "text", "a", "b", "diff", "open"]], hide_index=True,
             key="cmp_largest",
             column_config={"open": st.column_config.LinkColumn("drill-down",
                                                                display_text="open"),
                            "diff": st.column_config.NumberColumn("B − A", format="%+.4f")})
c1, c2 = st.columns([3, 1])
pick = c1.selectbox("Query", largest["query_id"].tolist(), key="cmp_pick",
                    format_func=lambda qid: f"{qid}: {texts.get(qid, '')[:80]}")
if c2.button("Open drill-down", key="cmp_open"):
    st.switch_page(ui.PAGES["drilldown"],
                   query_params={"task": task, "q": pick, "runs": f"{key_a},{key_b}"})
