"""Pick: the best entry under a budget, the entries tied with it (cheapest first), and what
relaxing each constraint to the next frontier point would buy. Same code as `harness pick`."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from harness.decide.pick import constraints, pick
from harness.errors import HarnessError
from leaderboard import decide_data as dd
from leaderboard import state, ui

st.title("Pick under a budget")
ver = ui.version()
runs = ui.runs_or_stop(ver)
all_tasks = sorted(runs["task"].unique())
default_task = runs["task"].value_counts().idxmax()

tasks_key, metric = dd.tasks_and_metric(ver, all_tasks, "Tasks (quality: the mean over them)",
                                        [default_task], "pk")

st.markdown("**Budget** (0 or empty: no limit)")
b = st.columns(6)
max_bytes = state.bind(b[0].number_input, "max bytes/doc", "max_bytes_per_doc", "pk_bytes",
                       0.0, kind=float, min_value=0.0)
corpus_docs = state.bind(b[1].number_input, "corpus documents", "corpus_docs", "pk_docs", 0,
                         kind=int, min_value=0, step=1_000_000)
max_gb = state.bind(b[2].number_input, "max index GB", "max_index_gb", "pk_gb", 0.0,
                    kind=float, min_value=0.0)
max_p95 = state.bind(b[3].number_input, "max p95 ms", "max_p95_ms", "pk_p95", 0.0, kind=float,
                     min_value=0.0)
min_dps = state.bind(b[4].number_input, "min docs/s", "min_docs_per_s", "pk_dps", 0.0,
                     kind=float, min_value=0.0)
max_params = state.bind(b[5].number_input, "max parameters", "max_params", "pk_params", 0.0,
                        kind=float, min_value=0.0, step=1e6)
c3, c4 = st.columns(2)
open_weights = state.bind(c3.checkbox, "open weights only", "open_weights", "pk_open", False,
                          kind=bool)
show_meta = state.bind(c4.checkbox, "show model metadata (parameters, licence)", "meta",
                       "pk_meta", False, kind=bool)


def _display(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers stay numbers (NaN shows as 'unknown'); other columns become text."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = [("unknown" if v is None or (isinstance(v, float) and v != v) else str(v))
                        for v in out[col]]
    return out


def _limit(value: float) -> float | None:
    return float(value) if value else None


try:
    index_given = bool(corpus_docs) and bool(max_gb)
    cons = constraints(_limit(max_bytes), int(corpus_docs) if index_given else None,
                       _limit(max_gb) if index_given else None, _limit(max_p95), _limit(min_dps),
                       _limit(max_params), bool(open_weights))
    ranking = dd.ranking(ver, tasks_key, metric)
    if ranking.frame.empty:
        st.info("No entry covers every selected task.")
        st.stop()
    # Model metadata (mteb's registry: seconds to import) only when a constraint needs it.
    table = dd.costs(ver, tasks_key, int(corpus_docs) or None, metric,
                     bool(max_params or open_weights or show_meta))
    result = pick(table, ranking.samples, cons)
except HarnessError as exc:
    st.error(ui.plain(exc))
    st.stop()

best = result.table.loc[result.best]
st.subheader("Recommendation")
st.text(f"Best that fits: {result.best}")  # plain text: names come from the store
st.caption("the highest mean quality among the entries within every constraint; on equal means, "
           "the cheaper one")
st.metric(f"mean {metric} over {len(tasks_key)} task(s)", f"{best['mean']:.4f}")
st.caption(f"{len(cons)} constraint(s) · {int(result.table['fits'].sum())} of "
           f"{len(result.table)} entries fit")
st.markdown("**Tied with it** (not separable at 5%, paired two-level bootstrap), cheapest first")
looked_up = bool(max_params) or bool(open_weights) or show_meta
meta_cols = ["n_parameters", "open_weights", "license", "max_tokens"] if looked_up else []
cols = ["mean", "rank_low", "rank_high", "bytes_per_doc", "index_gb", "search_p95_ms",
        "encode_docs_per_s", *meta_cols, "hardware"]
shown = result.table.loc[result.tied, cols].reset_index()
st.dataframe(_display(shown), hide_index=True, key="pk_tied", placeholder="unknown")

st.subheader("One more step of budget")
rows = []
for r in result.relax:
    rows.append({"constraint": r["constraint"], "limit": r["limit"],
                 "next entry": r.get("entry") or "none better",
                 "new limit": r.get("new_limit"), "Δ quality": r.get("delta_quality"),
                 "Δ quality per unit": r.get("quality_per_unit"), "unit": r["unit"]})
if rows:
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="pk_relax")
else:
    st.caption("No constraint set.")
for note in result.notes:
    st.warning(ui.plain(note))
st.subheader("Every entry")
hidden = [] if looked_up else ["n_parameters", "open_weights", "license", "max_tokens", "source"]
every = result.table.drop(columns=["row", *hidden]).reset_index()
st.dataframe(_display(every), hide_index=True, key="pk_all", placeholder="unknown")
ui.csv_button(every, "pick")
