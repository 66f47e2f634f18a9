"""Leaderboard: models x tasks, main scores, the mean over the selected tasks with its 95%
bootstrap interval, a Borda rank, model metadata and coverage (a model missing a selected task
gets no mean). Opens on the largest task set that at least three entries cover; variants are
folded under their base model until the toggle expands them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from harness.spec import precision_twin_deltas
from leaderboard import intervals as iv
from leaderboard import presets as pr
from leaderboard import queries as q
from leaderboard import ui
from leaderboard.meta import model_meta

st.title("Leaderboard")
ver = ui.version()
runs = ui.runs_or_stop(ver)
# How long the first render waits for the intervals before drawing the table without them: a
# small store's bootstrap finishes within it; a large one's arrives by itself a little later.
# (Started only there: run beside the table's own work, it would slow both on a small machine.)
CI_WAIT_S = 0.3

named = q.presets(ver)
choices = [*named, pr.CUSTOM]


def _apply_preset() -> None:
    chosen = st.session_state["lb_preset"]
    if chosen in named:
        st.session_state["lb_tasks"] = named[chosen]


def _tasks_edited() -> None:
    matching = [n for n, t in named.items() if t == sorted(st.session_state["lb_tasks"])]
    st.session_state["lb_preset"] = matching[0] if matching else pr.CUSTOM


all_tasks = sorted(runs["task"].unique())
if "lb_tasks" not in st.session_state:  # first visit: the default preset
    st.session_state["lb_preset"] = pr.COVERED
    st.session_state["lb_tasks"] = named[pr.COVERED]
else:  # tasks from a link (app.py restores them) or this session: keep those still stored
    st.session_state["lb_tasks"] = [t for t in st.session_state["lb_tasks"] if t in all_tasks]
    _tasks_edited()  # the preset box names the preset these tasks form, if any
c0, c1, c2, c3 = st.columns([1.2, 2, 1, 1])
c0.selectbox("Benchmark", choices, key="lb_preset", on_change=_apply_preset,
             help="The default: the largest set of tasks that at least three entries cover "
                  "completely, so every one of them gets a mean.")
chosen_tasks = c1.multiselect("Tasks", all_tasks, key="lb_tasks", on_change=_tasks_edited)
families = sorted(runs["family"].unique())
chosen_families = c2.multiselect("Families", families, default=families, key="lb_families")
search = c3.text_input("Model contains", key="lb_search", placeholder="e.g. MiniLM")

if not chosen_tasks or not chosen_families:
    st.warning("Select at least one task and one family.")
    st.stop()

tasks = tuple(sorted(chosen_tasks))
selection = (ver, tasks, tuple(sorted(chosen_families)), search.strip())
table = q.leaderboard(*selection).copy()
if table.empty:
    st.info("No model matches these filters.")
    st.stop()
ci_ready = iv.ready(ver, wait_s=CI_WAIT_S)
table["ci_low"], table["ci_high"] = iv.mean_intervals(*selection) if ci_ready else (np.nan,
                                                                                    np.nan)

s1, s2 = st.columns([1, 3])
sort_by = s1.selectbox("Sort by", ["mean", "Borda", *tasks, "model"], key="lb_sort")
show_variants = s2.toggle("Show variants (compressions, precisions, backends)", value=False,
                          key="lb_variants")
# Entries with no mean (a missing task) always sort after the complete ones.
by = {"mean": ["mean", "mean_covered"], "Borda": ["borda"]}.get(sort_by, [sort_by])


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(by, ascending=sort_by == "model", na_position="last", kind="stable")


table["borda"], _ = pr.borda(table, tasks)
table = _sorted(table)
table = pr.order_with_variants(table) if show_variants else pr.group_variants(table)
# Borda among the entries shown (folded variants do not take points from their neighbours).
table["borda"], table["borda_rank"] = pr.borda(table, tasks)
if sort_by == "Borda":
    table = _sorted(table)
    table = pr.order_with_variants(table) if show_variants else table.reset_index(drop=True)
table.insert(0, "rank", np.arange(1, len(table) + 1))
table["tag"] = [ui.family_tag(f, v) for f, v in zip(table["family"], table["variant"],
                                                      strict=True)]
table["coverage"] = [f"{c}/{len(tasks)}" for c in table["covered"]]
table["mean"] = table["mean"].astype(float)
meta = model_meta(ver, tuple(sorted(table["model"].unique()))).reindex(table["model"])
table["params"] = [pr.human_count(v) for v in meta["parameters"]]
for col in ("dim", "max_tokens", "memory_mb"):
    table[col] = ["unknown" if v is None or pd.isna(v) else f"{float(v):,.0f}"
                  for v in meta[col]]
folded = [] if show_variants else ["variants"]
# A bf16/fp16 entry beside its fp32 twin: how much its mean moved (the speed is not free).
table["vs_fp32"] = precision_twin_deltas(list(zip(((m,) for m in table["model"]),
                                                  table["variant"], table["mean"], strict=True)))
twins = ["vs_fp32"] if show_variants and table["vs_fp32"].notna().any() else []
shown = table[["rank", "model", "tag", *folded, "mean", *twins, "ci_low", "ci_high", "borda_rank",
               "coverage", "params", "dim", "max_tokens", "memory_mb", *tasks]]

ui.score_table(shown, "lb_table", tasks, **{
    "variants": st.column_config.NumberColumn(
        "+variants", help="variants folded under this model; the toggle above lists them"),
    "tag": st.column_config.TextColumn("family", help="family · compression/backend variant"),
    "mean": st.column_config.NumberColumn(
        f"mean ({len(tasks)} tasks)", format="%.4f",
        help="Mean of the main scores over the selected tasks; empty when the model misses "
             "one of them (no silent averaging over a subset)."),
    "vs_fp32": st.column_config.NumberColumn(
        "Δ fp32", format="%+.4f", help="a reduced-precision entry's mean minus its fp32 twin's "
                                       "(same model and variant otherwise)"),
    "ci_low": st.column_config.NumberColumn("95% CI low", format="%.4f"),
    "ci_high": st.column_config.NumberColumn("95% CI high", format="%.4f"),
    "borda_rank": st.column_config.NumberColumn(
        "Borda", help="Rank by Borda count (MTEB's rank aggregation): on each task an entry "
                      "gets a point per entry it beats; missing tasks give none."),
    "coverage": st.column_config.TextColumn("tasks", help="selected tasks this model has"),
    "params": st.column_config.TextColumn("parameters"),
    "max_tokens": st.column_config.TextColumn("max tokens"),
    "memory_mb": st.column_config.TextColumn("memory MB", help="weights on disk")})
incomplete = int((table["covered"] < len(tasks)).sum())
no_ci = int((table["mean"].notna() & table["ci_low"].isna()).sum())
notes = [f"{len(table)} {'entries' if show_variants else 'models'} · main score per task "
         f"({', '.join(sorted(runs.loc[runs['task'].isin(tasks), 'main_metric'].unique()))})",
         "95% CI: paired bootstrap over each task's queries (pairs for STS correlations; "
         "1,000 resamples), tasks resampled independently"]
if incomplete:
    notes.append(f"{incomplete} model(s) miss a selected task: no mean, shown as empty")
if not ci_ready:
    notes.append("95% CIs are being computed in the background and appear by themselves")
elif no_ci:
    notes.append(f"{no_ci} mean(s) without a CI (no per-query scores that average to the "
                 "main score for some task)")
st.caption(ui.plain(" · ".join(notes)))
ui.csv_button(pd.DataFrame(shown), "leaderboard")

if not ci_ready:
    @st.fragment(run_every=1.0)
    def _await_intervals() -> None:
        """Polls the background bootstrap; when it is done, the page reruns with intervals."""
        if iv.ready(ver):
            st.rerun()

    _await_intervals()
