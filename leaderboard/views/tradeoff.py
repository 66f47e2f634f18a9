"""Trade-off: quality against one cost, Pareto frontier drawn, points coloured by family."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from leaderboard import queries as q
from leaderboard import ui
from leaderboard.stats import pareto_front

# label -> (column, lower is better, unit)
COSTS = {
    "bytes per document": ("bytes_per_doc", True, "bytes"),
    "query search p50 latency": ("search_p50_ms", True, "ms"),
    "encode throughput": ("encode_docs_per_s", False, "docs/s"),
    "peak RSS": ("peak_rss_mb", True, "MB"),
    "index size": ("index_bytes", True, "bytes"),
    "query encode time": ("query_encode_ms", True, "ms/query"),
    "query search p95 latency": ("search_p95_ms", True, "ms"),
    "search throughput": ("search_qps", False, "queries/s"),
}

st.title("Quality vs cost")
ver = ui.version()
runs = ui.runs_or_stop(ver)
all_tasks = sorted(runs["task"].unique())

c1, c2, c3 = st.columns([2, 1, 1])
most_runs = runs["task"].value_counts().idxmax()
default_task = ui.param("task") if ui.param("task") in all_tasks else most_runs
tasks = c1.multiselect("Tasks (quality is the mean over them; models must cover all)", all_tasks,
                       default=[default_task], key="to_tasks")
if not tasks:
    st.warning("Select at least one task.")
    st.stop()
tasks_key = tuple(sorted(tasks))
metric_options = ["main score", *q.metrics_for(ver, tasks_key)]
metric = c2.selectbox("Quality", metric_options, key="to_metric",
                      index=ui.index_of(metric_options, "ndcg_at_10"))
cost_label = c3.selectbox("Cost", list(COSTS), key="to_cost")
column, lower_better, unit = COSTS[cost_label]

data = q.tradeoff(ver, tasks_key, metric).copy()
data = data[data["quality"].notna()]
missing = data[data[column].isna()]
data = data[data[column].notna()]
if data.empty:
    st.info(ui.plain(f"No run on {', '.join(tasks_key)} has a {cost_label} figure yet"
                     + (f" ({len(missing)} run(s) lack it)." if len(missing) else ".")))
    st.stop()

values = data[column].to_numpy(dtype=float)
# A log axis where the values are positive and span more than a factor of ten.
sensible_log = bool((values > 0).all() and values.max() / max(values.min(), 1e-300) > 10)
log_x = st.checkbox("Logarithmic cost axis", value=sensible_log, key="to_log",
                    disabled=not (values > 0).all())
data["on_frontier"] = pareto_front(values, data["quality"].to_numpy(dtype=float),
                                   lower_cost_is_better=lower_better)
data["entry"] = [ui.entry(m, v) for m, v in zip(data["model"], data["variant"], strict=True)]
data["tag"] = [ui.family_tag(f, v) for f, v in zip(data["family"], data["variant"],
                                                    strict=True)]

quality_label = f"{metric}" + (f" (mean of {len(tasks_key)} tasks)" if len(tasks_key) > 1 else "")
fig = go.Figure()
hover = ("<b>%{customdata[0]}</b><br>family: %{customdata[1]}<br>tasks: %{customdata[2]}"
         "<br>run: %{customdata[3]}<br>" + f"{metric}: " + "%{y:.4f}<br>"
         + f"{cost_label}: " + "%{x:,.4g} " + unit + "<extra></extra>")
for family, group in data.groupby("family", sort=True):
    fig.add_trace(go.Scatter(
        x=group[column], y=group["quality"], mode="markers", name=str(family),
        marker={"size": 11, "line": {"width": 1, "color": "white"}},
        customdata=np.stack([group["entry"], group["tag"], group["tasks"],
                             group["run_key"].fillna("(several runs)")], axis=1),
        hovertemplate=hover))
front = data[data["on_frontier"]].sort_values(column)
fig.add_trace(go.Scatter(
    x=front[column], y=front["quality"], mode="lines+text", name="Pareto frontier",
    text=front["entry"], textposition="top right", textfont={"size": 11},
    line={"dash": "dash", "color": "grey", "shape": "hv" if lower_better else "vh"},
    hoverinfo="skip"))
fig.update_layout(
    xaxis_title=f"{cost_label} ({unit}, {'lower' if lower_better else 'higher'} is better)",
    yaxis_title=quality_label, height=520, legend_title_text="family",
    margin={"l": 10, "r": 10, "t": 30, "b": 10})
fig.update_xaxes(type="log" if log_x else "linear")
st.plotly_chart(fig, config=ui.PLOTLY_CONFIG, key="to_chart")

notes = [f"{len(data)} model(s) plotted", f"{int(data['on_frontier'].sum())} on the frontier",
         "PNG: the camera button of the chart's toolbar"]
if len(missing):
    notes.append(f"{len(missing)} without a {cost_label} figure left out")
st.caption(ui.plain(" · ".join(notes)))
if column not in ("bytes_per_doc", "index_bytes"):  # measured costs depend on the machine
    from leaderboard.decide_data import hardware_warning

    if note := hardware_warning(ver, tasks_key):
        st.warning(ui.plain(note))

st.subheader("Frontier")
shown = data.sort_values(column, ascending=lower_better)
st.dataframe(shown.loc[shown["on_frontier"], ["entry", "tag", "quality", column, "run_key"]],
             hide_index=True, key="to_front")
ui.csv_button(shown[["entry", "tag", "tasks", "run_key", "quality", column, "on_frontier"]],
              "tradeoff", "Download chart data (CSV)")
