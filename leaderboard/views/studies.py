"""Studies: each research claim's plot beside "the paper says / we measure".

Study definitions come from studies/*.yaml; results from ``<db folder>/studies/NAME.json``, which
``harness study run NAME`` writes (read here, never written). Texts are shown as plain text.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from harness.errors import HarnessError
from leaderboard import queries as q
from leaderboard import ui

st.title("Studies")
st.caption("Claims from the literature, measured on this machine's data. "
           "`harness study run NAME` measures one; stored runs and cached embeddings are reused.")

try:
    from harness.studies.run import load_result
    from harness.studies.spec import all_studies

    studies = all_studies()
except HarnessError as exc:
    st.error(str(exc))
    st.stop()


def _figure(study, frame: pd.DataFrame) -> go.Figure:  # noqa: ANN001 - a Study
    plot = study.plot
    fig = go.Figure()
    groups = frame.groupby(plot.series, sort=False) if plot.series in frame else [("", frame)]
    for name, part in groups:
        part = part.dropna(subset=[plot.y])
        if plot.kind == "bar":
            labels = part[plot.x].astype(str).replace({"": "plain", "None": "plain"})
            fig.add_bar(x=labels, y=part[plot.y], name=str(name))
        else:
            part = part.sort_values(plot.x)
            fig.add_scatter(x=part[plot.x], y=part[plot.y], mode="lines+markers", name=str(name))
    fig.update_layout(height=340, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis_title=plot.x, yaxis_title=plot.y, barmode="group",
                      legend={"orientation": "h"})
    if plot.log_x:
        fig.update_xaxes(type="log")
    return fig


def _histogram(frame: pd.DataFrame) -> go.Figure | None:
    """Rank-shift studies store a histogram per setting: shown as the shift distribution."""
    if "shift_histogram" not in frame:
        return None
    fig = go.Figure()
    for _, row in frame.iterrows():
        hist = row["shift_histogram"] or {}
        fig.add_bar(x=[int(k) for k in hist], y=list(hist.values()), name=f"efs={row['efs']}")
    fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 30, "b": 10}, barmode="group",
                      xaxis_title="rank shift (HNSW rank - exact rank)", yaxis_title="documents")
    return fig


def _table(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[c for c in ("shift_histogram", "run_key") if c in frame])


db = q.db_path()
names = [s.name for s in studies]
chosen = ui.param("study")
for study in studies:
    if chosen in names and study.name != chosen:
        continue
    st.subheader(study.title, anchor=study.name)
    result = load_result(db, study.name)
    left, right = st.columns([3, 2])
    with right:
        st.markdown("**The paper says**")
        st.text(study.claim.text)
        st.text(f"Number: {study.claim.paper_value}")
        st.caption("Source")
        st.text(study.claim.citation)
        st.markdown("**We measure**")
        if result is None:
            st.text(f"not run yet: harness study run {study.name}")
        else:
            st.text(result.get("summary") or f"{len(result['rows'])} rows")
            small = " (small test grid)" if result.get("small") else ""
            st.caption(f"measured {result['created_at']}{small} · data {result['data_root']}")
    with left:
        if result is None or not result["rows"]:
            st.info("No result stored for this study yet.")
            continue
        frame = pd.DataFrame(result["rows"])
        if study.plot.x not in frame or study.plot.y not in frame:
            st.warning(f"the result has no column {study.plot.x!r} or {study.plot.y!r}")
        else:
            st.plotly_chart(_figure(study, frame), config=ui.PLOTLY_CONFIG,
                            key=f"study-{study.name}")
        hist = _histogram(frame)
        if hist is not None:
            st.plotly_chart(hist, config=ui.PLOTLY_CONFIG, key=f"study-hist-{study.name}")
    with st.expander(f"{study.name}: result rows"):
        table = _table(frame)
        st.dataframe(table, hide_index=True)
        ui.csv_button(table, f"study-{study.name}", key=f"csv-study-{study.name}")
