"""Model metadata columns for the leaderboard: parameters, embedding dim, max tokens, memory.

A run's stored ``runs.extra["model_meta"]`` wins; else what the registry's adapter declares
(dim, max tokens; built without loading weights); else None, shown as "unknown".
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from leaderboard import sql
from leaderboard.queries import Version, _df


def _registry_meta(model: str) -> dict[str, Any]:
    """dim and max tokens as the registry's adapter declares them (no weights loaded)."""
    try:
        from adapters.registry import load_model

        meta = load_model(model).meta
    except Exception:  # noqa: BLE001 - an unknown or unloadable model is "unknown", not an error
        return {}
    return {"dim": meta.dim, "max_tokens": meta.max_length}


@st.cache_data(max_entries=4, show_spinner=False)
def model_meta(version: Version, models: tuple[str, ...]) -> pd.DataFrame:
    """model -> parameters, dim, max_tokens, memory_mb (None where nothing says)."""
    from leaderboard.presets import model_meta_frame

    stored = _df(version, sql.MODEL_META_SQL)
    stored = stored[stored["model"].isin(models)]
    missing = [m for m in models if m not in set(stored["model"])]
    registry = {m: _registry_meta(m) for m in missing} if len(missing) <= 50 else {}
    return model_meta_frame(stored, registry).set_index("model").reindex(list(models))
