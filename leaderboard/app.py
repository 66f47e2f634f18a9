"""Entry point of the leaderboard (``harness board`` runs ``streamlit run`` on this file).

The database comes from $HARNESS_BOARD_DB (set by ``harness board --db``), else
results/harness.duckdb. Pages live in leaderboard/views/ and are registered with st.navigation
(not in pages/: Streamlit would serve a pages/ folder by itself, bypassing this file).
"""

from __future__ import annotations

import streamlit as st

from leaderboard import queries as q
from leaderboard import state
from leaderboard.ui import PAGES, plain

st.set_page_config(page_title="embedding-harness board", page_icon=":material/leaderboard:",
                   layout="wide")

# Streamlit serves the default page at "/" only and ignores its url_path, so /leaderboard would
# say "Page not found": a hidden twin of the same script answers that URL.
pages = [
    st.Page(PAGES["leaderboard"], title="Leaderboard", icon=":material/leaderboard:",
            url_path="home", default=True),
    st.Page(PAGES["leaderboard"], title="Leaderboard", icon=":material/leaderboard:",
            url_path="leaderboard", visibility="hidden"),
    st.Page(PAGES["tradeoff"], title="Trade-off", icon=":material/scatter_plot:",
            url_path="tradeoff"),
    st.Page(PAGES["compare"], title="Compare", icon=":material/compare_arrows:",
            url_path="compare"),
    st.Page(PAGES["drilldown"], title="Drill-down", icon=":material/search:",
            url_path="drilldown"),
    st.Page(PAGES["run"], title="Run", icon=":material/description:", url_path="run"),
    st.Page("views/studies.py", title="Studies", icon=":material/science:", url_path="studies"),
    st.Page(PAGES["ranks"], title="Ranks", icon=":material/format_list_numbered:",
            url_path="ranks"),
    st.Page(PAGES["pick"], title="Pick", icon=":material/task_alt:", url_path="pick"),
    st.Page(PAGES["headtohead"], title="Head-to-head", icon=":material/swords:",
            url_path="headtohead"),
    st.Page(PAGES["hard"], title="Hard queries", icon=":material/help:", url_path="hard"),
    st.Page("views/benchmark.py", title="Benchmark", icon=":material/stacked_bar_chart:",
            url_path="benchmark"),
]
page = st.navigation(pages)

with st.sidebar:
    st.caption(plain(f"Database (read-only): {q.db_path()}"))
    try:
        ver = q.db_version()
        st.caption(f"{q.current_count(ver)} current runs · "
                   f"{q.hidden_runs(ver)} older or other-data runs hidden")
    except q.BoardError:
        pass  # the page itself shows the error

if page.url_path in ("", "leaderboard", "tradeoff"):  # restore their selections from the URL
    try:
        current = q.current_runs(q.db_version())
        tasks = sorted(current["task"].unique())
        state.restore_existing(page.url_path or "leaderboard", {
            "lb_tasks": tasks, "lb_families": sorted(current["family"].unique()),
            "lb_sort": ["mean", "Borda", *tasks, "model"],
            "to_tasks": tasks})
    except q.BoardError:
        pass  # the page itself shows the error
try:
    page.run()
finally:  # also after st.stop(): the selections of the older pages go into the URL too
    state.publish_existing(page.url_path or "leaderboard")
