"""Which machine a run's costs come from: latency and throughput only compare on one machine."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd


def _env(value: str | dict | None) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else (value or {})


def hardware_label(environment: str | dict | None) -> str:
    """CPU model, usable cores and accelerator: the fields that move latency and throughput."""
    env = _env(environment)
    cores = env.get("affinity_cores") or env.get("cores")
    return (f"{env.get('cpu') or 'unknown CPU'} · {cores or '?'} cores · "
            f"{env.get('gpu') or 'no GPU'}")


def environment_summary(environment: str | dict | None, spec: str | dict | None) -> dict:
    """The environment fields a reader compares, flat (for the Run page and the CLI)."""
    env, spec = _env(environment), _env(spec)
    packages = env.get("packages") or {}
    model = spec.get("model") or {}
    return {
        "CPU": env.get("cpu"), "cores": env.get("cores"),
        "cores usable": env.get("affinity_cores"), "torch threads": env.get("torch_threads"),
        "accelerator": env.get("gpu") or "none",
        "precision": spec.get("precision") or (model.get("options") or {}).get("precision")
        or "fp32",
        "platform": env.get("platform"), "python": env.get("python"),
        **{f"{name} version": packages.get(name)
           for name in ("torch", "sentence-transformers", "faiss-cpu", "onnxruntime", "numpy")
           if packages.get(name)},
    }


def entry_hardware(runs: pd.DataFrame, details: pd.DataFrame) -> pd.Series:
    """entry -> hardware label ('mixed: a | b' when its runs come from several machines)."""
    envs = runs["run_key"].map(details["environment"])
    by_text = {e: hardware_label(e) for e in envs.dropna().unique()}  # parse each JSON once
    labels = envs.map(by_text).fillna(hardware_label(None))
    per_entry = labels.groupby(runs["entry"]).agg(lambda s: sorted(set(s)))
    return per_entry.map(lambda s: s[0] if len(s) == 1 else "mixed: " + " | ".join(s))


def mixed_hardware_note(hardware: pd.Series) -> str | None:
    """A warning when the compared entries' costs come from more than one machine."""
    machines = sorted(set(hardware.dropna()))
    if len(machines) <= 1:
        return None
    return (f"costs come from {len(machines)} different machines ({'; '.join(machines)}): "
            "latency and throughput are only comparable within one machine")
