"""The board's reads for the decision pages (ranks, pick, head-to-head, hard queries), cached on
the database version like leaderboard/queries.py: a widget change never re-runs the bootstrap.
The work itself is harness/decide's, shared with `harness ranks` / `harness pick`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import streamlit as st

from harness.decide import boot, load, texts
from harness.decide import hard as hard_mod
from harness.decide.boot import QueryBoot
from harness.decide.pick import entry_costs
from harness.decide.ranks import N_BOOT, SEED, Ranking, rank_runs
from leaderboard import queries as q
from leaderboard import state


@contextmanager
def _cursor(version: q.Version) -> Iterator[Any]:
    """A DuckDB cursor on the board's snapshot, closed when the block ends."""
    with q._LOCK:  # one snapshot connection per version; a cursor per call is thread-safe
        cur = q._connection(version).cursor()
    try:
        yield cur
    finally:
        cur.close()


def tasks_and_metric(version: q.Version, all_tasks: list[str], tasks_label: str,
                     default_tasks: list[str], key_prefix: str) -> tuple[tuple[str, ...], str]:
    """The task and quality-metric pickers a decision page starts with (bound to the URL):
    the selected tasks, sorted, and the metric; with no task selected the page stops."""
    c1, c2 = st.columns([2, 1])
    tasks = state.bind(c1.multiselect, tasks_label, "tasks", f"{key_prefix}_tasks",
                       default_tasks, kind=list, options=all_tasks)
    if not tasks:
        st.warning("Select at least one task.")
        st.stop()
    tasks_key = tuple(sorted(tasks))
    metrics = [load.MAIN, *q.metrics_for(version, tasks_key)]
    metric = state.bind(c2.selectbox, "Quality metric", "metric", f"{key_prefix}_metric",
                        load.MAIN, options=metrics)
    return tasks_key, metric


@st.cache_resource(max_entries=4, show_spinner=False)
def current(version: q.Version, metric: str = load.MAIN) -> pd.DataFrame:
    """Every current run (all tasks), with ``metric`` as its score. Shared, never modified."""
    with _cursor(version) as cur:
        tasks = sorted(q.current_runs(version)["task"].unique())
        return load.current_runs(cur, tasks, metric)


@st.cache_resource(max_entries=4, show_spinner="Bootstrapping queries …")
def query_boot(version: q.Version, metric: str = load.MAIN) -> QueryBoot:
    """The query level of the bootstrap for every current run: once per version and metric,
    whatever tasks a page selects later."""
    with _cursor(version) as cur:
        return boot.query_boot(cur, current(version, metric), N_BOOT, SEED)


@st.cache_resource(max_entries=16, show_spinner=False)
def ranking(version: q.Version, tasks: tuple[str, ...], metric: str = load.MAIN) -> Ranking:
    """Per task selection: only the task-level resampling and the ranks (shared, never copied)."""
    return rank_runs(current(version, metric), tasks, query_boot(version, metric))


@st.cache_data(max_entries=16, show_spinner=False)
def runs_and_details(version: q.Version, tasks: tuple[str, ...], metric: str = load.MAIN
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    runs = current(version, metric)
    runs = runs[runs["task"].isin(tasks)]
    with _cursor(version) as cur:
        return runs, load.run_details(cur, runs["run_key"].tolist())


@st.cache_data(max_entries=32, show_spinner=False)
def costs(version: q.Version, tasks: tuple[str, ...], corpus_docs: int | None,
          metric: str = load.MAIN, with_meta: bool = True) -> pd.DataFrame:
    runs, details = runs_and_details(version, tasks, metric)
    return entry_costs(ranking(version, tasks, metric), runs, details, corpus_docs, with_meta)


@st.cache_data(max_entries=16, show_spinner=False)
def hard(version: q.Version, tasks: tuple[str, ...], share: float) -> pd.DataFrame:
    with _cursor(version) as cur:
        return hard_mod.hard_queries(cur, list(tasks), share)


@st.cache_data(max_entries=16, show_spinner=False)
def query_texts(version: q.Version, task: str, data_sha: str) -> dict[str, str]:
    with _cursor(version) as cur:
        return texts.query_texts(cur, task, data_sha)


@st.cache_data(max_entries=16, show_spinner=False)
def qrels(version: q.Version, task: str, data_sha: str) -> pd.DataFrame:
    with _cursor(version) as cur:
        return texts.qrels(cur, task, data_sha)


@st.cache_data(max_entries=32, show_spinner=False)
def top_documents(version: q.Version, run_keys: tuple[str, ...], query_ids: tuple[str, ...],
                  k: int = 5) -> pd.DataFrame:
    with _cursor(version) as cur:
        return texts.top_documents(cur, list(run_keys), list(query_ids), k)


@st.cache_resource(max_entries=4, show_spinner="Reading the task's documents …")
def documents(task: str, split: str, data_sha: str) -> texts.Documents:
    return texts.documents(task, split, data_sha)


@st.cache_data(max_entries=64, show_spinner=False)
def environment(version: q.Version, key: str) -> dict:
    from harness.decide.hardware import environment_summary

    with _cursor(version) as cur:
        details = load.run_details(cur, [key], with_spec=True)
    if details.empty:
        return {}
    return environment_summary(details["environment"].iloc[0], details["spec"].iloc[0])


@st.cache_data(max_entries=16, show_spinner=False)
def hardware_warning(version: q.Version, tasks: tuple[str, ...]) -> str | None:
    """A warning when the current runs of ``tasks`` come from different machines."""
    from harness.decide.hardware import entry_hardware, mixed_hardware_note

    runs, details = runs_and_details(version, tasks)
    return mixed_hardware_note(entry_hardware(runs, details))
