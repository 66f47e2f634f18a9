"""Small pieces shared by the pages: the database version (or a clear stop), labels, downloads,
and reading page state from the URL so every view can be linked."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from leaderboard import queries as q

PAGES = {  # url path -> file, relative to leaderboard/app.py
    "leaderboard": "views/leaderboard.py",
    "tradeoff": "views/tradeoff.py",
    "compare": "views/compare.py",
    "drilldown": "views/drilldown.py",
    "run": "views/run.py",
    "ranks": "views/ranks.py",
    "pick": "views/pick.py",
    "headtohead": "views/headtohead.py",
    "hard": "views/hard.py",
}

# Plotly's own toolbar button saves the chart as PNG in the browser (no server-side renderer).
PLOTLY_CONFIG = {"displaylogo": False,
                 "toImageButtonOptions": {"format": "png", "scale": 2}}


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^&])")


def plain(text: object) -> str:
    """Text for st.error/st.warning/st.caption (which render markdown) shown literally: every
    markdown-active character backslash-escaped, so a name like ``![x](http://…)`` stays text."""
    return _MARKDOWN.sub(r"\\\1", str(text))


def version() -> q.Version:
    """The database's version, or an error on the page and a stop. While a `harness run` holds
    the file, the last snapshot is served with a note."""
    try:
        ver = q.db_version()
        q.hidden_runs(ver)  # takes the snapshot: a busy or foreign file fails here, clearly
    except q.BoardBusy as exc:
        old = q.last_good(str(q.db_path().resolve()))
        if old is None:
            st.error(plain(f"{exc}; reload when it has finished."))
            st.stop()
        st.warning(plain(f"{exc}: showing the results as they were before it started writing."))
        return old
    except q.BoardError as exc:
        st.error(plain(exc))
        st.stop()
    return ver


def runs_or_stop(ver: q.Version) -> pd.DataFrame:
    runs = q.current_runs(ver)
    if runs.empty:
        st.info("No runs stored yet: `harness run -m MODEL -t TASK` fills the database.")
        st.stop()
    return runs


def entry(model: str, variant: str) -> str:
    return model if not variant else f"{model} [{variant}]"


def family_tag(family: str, variant: str) -> str:
    return family if not variant else f"{family} · {variant}"


def run_label(row: pd.Series | dict) -> str:
    score = row["main_score"]
    shown = "–" if score is None or pd.isna(score) else f"{score:.4f}"
    return f"{entry(row['model'], row['variant'])} · {row['task']} · {shown} · {row['run_key'][:8]}"


def param(name: str) -> str | None:
    value = st.query_params.get(name)
    return value if isinstance(value, str) and value else None


def index_of(options: Sequence[str], value: str | None, default: int = 0) -> int:
    return list(options).index(value) if value in options else default


def page_url(page: str, **params: str) -> str:
    """A relative link to another page with its state in the query string (URL-encoded)."""
    return f"{page}?{urlencode(params)}"


def csv_button(frame: pd.DataFrame, name: str, label: str = "Download CSV",
               key: str | None = None) -> None:
    st.download_button(label, frame.to_csv(index=False).encode(), file_name=f"{name}.csv",
                       mime="text/csv", key=key or f"csv-{name}")


def score_table(frame: Any, key: str, score_columns: Iterable[str], **columns: Any) -> None:
    """A read-only table of main scores: ``score_columns`` shown to 4 decimals, ``columns`` (by
    column name) configured as given, missing values as a dash."""
    score = st.column_config.NumberColumn(format="%.4f")
    st.dataframe(frame, hide_index=True, key=key, placeholder="—",
                 column_config={**{c: score for c in score_columns}, **columns})
