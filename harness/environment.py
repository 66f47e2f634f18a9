"""The hardware/software fingerprint stored with every run."""

from __future__ import annotations

import os
import platform
import sys
import threading
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
    from harness.fingerprint import code_state

    env.update(code_state())
    return env


def rss_mb() -> float:
    """Resident set size of this process now (Linux /proc; 0.0 where unavailable)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


class RssSampler:
    """Peak RSS of ONE run: a daemon thread samples RSS every ``interval`` seconds between
    ``start`` and ``stop`` (``ru_maxrss`` is the process's lifetime peak, which every later run of
    a grid would inherit).

    ``peak_rss_mb`` is the process's RSS when the sampler was made (the interpreter and the
    harness, before any model) plus how far this run's RSS rose above its own start: the memory
    the run would have needed in a fresh process, without what earlier runs left behind (a model
    kept loaded, allocator pools that never shrink). Absolute figures are kept beside it.
    """

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.process_start_mb = rss_mb()
        self._peak = self._start = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self._peak = max(self._peak, rss_mb())

    def start(self) -> None:
        self._start = self._peak = rss_mb()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._peak = max(self._peak, rss_mb())
        return {"peak_rss_mb": self.process_start_mb + self._peak - self._start,
                "process_start_mb": self.process_start_mb, "run_start_mb": self._start,
                "run_peak_mb": self._peak}
