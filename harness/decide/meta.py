"""Model metadata for budget filters: parameters, licence, open weights, max tokens.

From mteb's ModelMeta where mteb knows the model (its local registry: no network), else from the
run's ``extra["model_meta"]``; a field found nowhere is ``None``, shown as "unknown", and never
passes a constraint on it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

FIELDS = ("n_parameters", "license", "open_weights", "max_tokens")
# Harness names whose mteb name is not the name itself or sentence-transformers/<name>.
MTEB_ALIASES = {"bm25": "mteb/baseline-bm25s"}


@lru_cache(maxsize=512)
def mteb_meta(model: str) -> dict[str, Any] | None:
    import warnings

    import mteb

    for name in (MTEB_ALIASES.get(model, model), f"sentence-transformers/{model}"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                meta = mteb.get_model_meta(name)
        except (KeyError, ValueError):
            continue
        return {"n_parameters": meta.n_parameters, "license": meta.license,
                "open_weights": meta.open_weights,
                "max_tokens": None if meta.max_tokens is None else int(meta.max_tokens),
                "source": f"mteb ModelMeta {meta.name}"}
    return None


def model_meta(model: str, extra: str | dict | None = None) -> dict[str, Any]:
    """Every field of FIELDS (None when unknown) and where they came from."""
    found = mteb_meta(model)
    if found is not None:
        return dict(found)
    extra = json.loads(extra) if isinstance(extra, str) else (extra or {})
    stored = extra.get("model_meta") or {}
    out: dict[str, Any] = {f: stored.get(f) for f in FIELDS}
    out["source"] = "run extra.model_meta" if stored else "unknown"
    return out


def shown(value: Any) -> str:
    return "unknown" if value is None else str(value)
