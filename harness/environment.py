"""The hardware/software fingerprint stored with every run."""

from __future__ import annotations

import os
import platform
import resource
import sys
from functools import lru_cache
from importlib import metadata

_PACKAGES = ("embedding-harness", "torch", "sentence-transformers", "transformers", "tokenizers",
             "mteb", "beir", "ir-measures", "pytrec-eval-terrier", "bm25s", "faiss-cpu",
             "onnxruntime", "duckdb", "numpy", "scipy", "pandas", "wordllama", "model2vec")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def torch_threads() -> int | None:
    torch = sys.modules.get("torch")  # only report it if a model actually used torch
    return int(torch.get_num_threads()) if torch is not None else None


@lru_cache(maxsize=1)
def _static() -> dict[str, object]:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "affinity_cores": (len(os.sched_getaffinity(0))
                           if hasattr(os, "sched_getaffinity") else None),
        "packages": versions,
    }


def environment() -> dict[str, object]:
    env = dict(_static())
    env["torch_threads"] = torch_threads()
    torch = sys.modules.get("torch")
    env["gpu"] = (torch.cuda.get_device_name(0)
                  if torch is not None and torch.cuda.is_available() else None)
    return env


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
