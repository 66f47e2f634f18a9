"""Published scores for the Run page: those imported into the database (`harness import-mteb`),
else ci/expected/published.yaml read into memory. The board never writes the user's database,
so the YAML is parsed here (cached) rather than imported."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from leaderboard import queries as q
from leaderboard.queries import Version

PUBLISHED_YAML = Path(__file__).resolve().parent.parent / "ci" / "expected" / "published.yaml"


@st.cache_data(max_entries=1, show_spinner=False)
def published_yaml() -> pd.DataFrame:
    """ci/expected/published.yaml, read into memory (never into the user's database), so the
    Run page shows published scores without a manual `harness import-mteb`."""
    from harness.errors import HarnessError
    from harness.published import parse_expected_yaml

    try:
        rows = parse_expected_yaml(PUBLISHED_YAML)
    except (OSError, HarnessError):
        rows = []
    return pd.DataFrame(rows, columns=["model", "task", "split", "metric", "value", "source",
                                       "revision", "mteb_version"])


@st.cache_data(max_entries=32, show_spinner=False)
def published(version: Version, key: str) -> pd.DataFrame:
    """Published scores beside ours: imported ones (`harness import-mteb`) when the database
    has any for this run, else the ones in ci/expected/published.yaml."""
    frame = q.published(version, key)
    row = q.run(version, key)
    if not frame.empty or row is None:
        return frame
    pub = published_yaml()
    pub = pub[(pub["model"] == row["model"]) & (pub["task"] == row["task"])
              & (pub["split"] == row["split"])]
    if pub.empty:
        return frame
    ours = dict(zip(*q.scores(version, key).to_dict("list").values(), strict=True))
    main = row["main_metric"]
    mine = [ours.get(main if m == "main_score" else m) for m in pub["metric"]]
    out = pd.DataFrame({
        "metric": pub["metric"].to_numpy(), "ours": pd.array(mine, dtype="Float64"),
        "published": pub["value"].to_numpy(dtype=float),
        "is_main": pub["metric"].isin(["main_score", main]).to_numpy(),
        "revision": pub["revision"].to_numpy(), "mteb_version": pub["mteb_version"].to_numpy(),
        "source": pub["source"].to_numpy()})
    out.insert(3, "delta", (out["ours"] - out["published"]).astype(float))
    out["ours"] = out["ours"].astype(float)
    return out.sort_values(["is_main", "metric", "revision"], ascending=[False, True, True],
                           kind="stable").reset_index(drop=True)
