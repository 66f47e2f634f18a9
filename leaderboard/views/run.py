"""One run: configuration, environment, timings, cost, scores, and the published score with the
reproduction delta where one is known (`harness import-mteb`, or ci/expected/published.yaml)."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from harness.spec import full_precision_twin
from leaderboard import queries as q
from leaderboard import ui
from leaderboard.published import published

COST_COLUMNS = ["bytes_per_doc", "index_bytes", "encode_docs_per_s", "query_encode_ms",
                "search_p50_ms", "search_p95_ms", "search_qps", "peak_rss_mb", "threads"]

st.title("Run")
ver = ui.version()
every = q.all_runs(ver)
if every.empty:
    st.info("No runs stored yet.")
    st.stop()
keys = every["run_key"].tolist()
labels = {row.run_key: ui.run_label(row._asdict()) for row in every.itertuples()}
asked = ui.param("run")
if asked is not None and asked not in labels:
    st.error(ui.plain(f"Unknown run key {asked!r}; pick a run below."))
if asked in labels and asked != st.session_state.get("_run_url"):
    st.session_state["run_key"] = asked  # a new URL wins over the selector's last value
elif st.session_state.get("run_key") not in labels:
    st.session_state["run_key"] = keys[0]
key = st.selectbox("Run", keys, format_func=labels.get, key="run_key")
st.query_params["run"] = st.session_state["_run_url"] = key  # the URL names the run shown
row = q.run(ver, key)
if row is None:
    st.error("This run has gone from the database.")
    st.stop()


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


st.subheader(ui.plain(f"{ui.entry(row['model'], row['variant'])} on {row['task']} "
                      f"({row['split']})"))
st.caption(ui.plain(f"run key {key} · family {ui.family_tag(row['family'], row['variant'])} · "
                    f"{row['n_queries']} queries · {row['n_docs']} documents · created "
                    f"{row['created_at']} · harness {row['harness_version']}"))

scores = q.scores(ver, key)
pub = published(ver, key)
main = row["main_score"]
c = st.columns(3)
twin_variant = full_precision_twin(row["variant"])
runs = q.current_runs(ver)
twin = runs[(runs["model"] == row["model"]) & (runs["task"] == row["task"])
            & (runs["variant"] == twin_variant) & (runs["data_sha"] == row["data_sha"])]
if twin_variant is not None and not twin.empty and not pd.isna(main):  # bf16/fp16 vs fp32
    delta = main - float(twin["main_score"].iloc[0])
    c[0].metric(row["main_metric"], f"{main:.5f}", delta=f"{delta:+.5f} vs fp32 twin",
                delta_color="off")
else:
    c[0].metric(row["main_metric"], "n/a" if pd.isna(main) else f"{main:.5f}")
if not pub.empty:
    ref = pub.iloc[0]  # main-score rows sort first
    if ref["is_main"]:
        delta = None if pd.isna(ref["delta"]) else f"{ref['delta']:+.5f} (ours − published)"
        c[1].metric("published", f"{ref['published']:.5f}", delta=delta, delta_color="off")
    else:
        c[1].metric("published", "no main score")
    st.markdown("**Published scores** (same model, task and split; from `harness import-mteb`, "
                "else ci/expected/published.yaml)")
    st.dataframe(pub.drop(columns="is_main"), hide_index=True, key="run_published", placeholder="—",
                 column_config={"delta": st.column_config.NumberColumn("ours − published",
                                                                       format="%+.5f")})
    st.caption(f"This run evaluated {row['n_queries']} queries over {row['n_docs']} documents; "
               "a delta is a reproduction check only when that is the full published test set.")
else:
    c[1].metric("published", "unknown")
    st.caption("No published score for this model and task (neither imported nor in "
               "ci/expected/published.yaml); `harness import-mteb PATH` adds MTEB results.")
c[2].metric("wall time", f"{_json(row['timings']).get('wall_s', float('nan')):.1f} s")

tabs = st.tabs(["Scores", "Cost", "Timings", "Config", "Environment", "Extra"])
with tabs[0]:
    st.dataframe(scores, hide_index=True, key="run_scores",
                 column_config={"value": st.column_config.NumberColumn(format="%.5f")})
with tabs[1]:
    flat = pd.DataFrame({"cost": COST_COLUMNS, "value": [row.get(k) for k in COST_COLUMNS]})
    st.dataframe(flat, hide_index=True, key="run_costs", placeholder="—")
    st.json(_json(row["costs"]), expanded=True)
with tabs[2]:
    st.json(_json(row["timings"]), expanded=True)
with tabs[3]:
    st.json(_json(row["spec"]), expanded=True)
with tabs[4]:
    from leaderboard.decide_data import environment  # CPU, threads, accelerator, precision…

    st.table(pd.DataFrame([(k, "unknown" if v is None else str(v))
                           for k, v in environment(ver, key).items()], columns=["", "value"]))
    st.json(_json(row["environment"]), expanded=False)
with tabs[5]:
    st.json(_json(row["extra"]), expanded=True)
st.page_link(ui.PAGES["drilldown"], label="Drill into this run's queries",
             query_params={"task": row["task"], "runs": key})
