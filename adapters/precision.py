"""Reduced-precision encoding for torch adapters: which precisions a machine can run, the device,
the autocast context, and the thread count.

fp32 is the exact reproduction and stays the default. bf16/fp16 run the same weights under
``torch.autocast``; they are recorded in ``ModelMeta.options`` (so their run key and embedding
cache folder differ from fp32) and refused, in one line, where the hardware has no native path:
an emulated bf16 matmul on a CPU without AMX/AVX-512-bf16 is slower than fp32, never faster.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from functools import lru_cache

from harness.errors import HarnessError

PRECISIONS = ("fp32", "bf16", "fp16")
DEVICES = ("auto", "cpu", "cuda")
# CPU flags (/proc/cpuinfo) that give a native bf16 / fp16 matmul to oneDNN.
CPU_FLAGS = {"bf16": ("amx_bf16", "avx512_bf16"), "fp16": ("amx_fp16", "avx512_fp16")}
THREADS_ENV = "HARNESS_TORCH_THREADS"


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def resolve_device(device: str = "auto") -> str:
    """'auto' is a GPU when torch sees one, else the CPU (the same code path either way)."""
    if device not in DEVICES:
        raise HarnessError(f"device '{device}': expected one of {', '.join(DEVICES)}")
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise HarnessError("device 'cuda': torch sees no GPU on this machine")
    return device


def check_precision(precision: str, device: str, model: str) -> None:
    """Refuse, in one line, a precision this device cannot run natively."""
    if precision not in PRECISIONS:
        raise HarnessError(f"{model}: precision '{precision}' is not one of "
                           f"{', '.join(PRECISIONS)}")
    if precision == "fp32" or device == "cuda":
        return
    wanted = CPU_FLAGS[precision]
    if not cpu_flags() & set(wanted):
        raise HarnessError(
            f"{model}: precision '{precision}' needs a GPU or a CPU with "
            f"{' or '.join(wanted)} (this CPU has neither; emulation would be slower than fp32)")


def autocast(precision: str, device: str) -> contextlib.AbstractContextManager:
    """torch.autocast for bf16/fp16, nothing for fp32."""
    if precision == "fp32":
        return contextlib.nullcontext()
    import torch

    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device, dtype=dtype)


def precision_options(precision: str) -> tuple[tuple[str, str], ...]:
    """The ModelMeta option for a reduced precision; none for fp32 (existing keys stay)."""
    return () if precision == "fp32" else (("precision", precision),)


def encode_threads() -> int:
    """Torch intra-op threads for encoding: $HARNESS_TORCH_THREADS, else every CPU this process
    may run on (torch's own default counts physical cores, which under-uses SMT-less VMs and
    over-counts in containers limited by affinity)."""
    asked = os.environ.get(THREADS_ENV, "").strip()
    if asked:
        if not asked.isdigit() or int(asked) < 1:
            raise HarnessError(f"${THREADS_ENV}={asked!r}: expected a positive integer")
        return int(asked)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)


def set_encode_threads() -> int:
    import torch

    threads = encode_threads()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


@contextlib.contextmanager
def quiet_loading(verbose: bool | None = None) -> Iterator[None]:
    """Silence third-party load chatter (transformers' LOAD REPORT block, weight-loading bars,
    sentence-transformers' INFO lines) unless the CLI ran with -v ($HARNESS_VERBOSE=1). Errors
    still surface: only warnings and progress bars are muted, and only during the load."""
    if verbose is None:
        verbose = os.environ.get("HARNESS_VERBOSE") == "1"
    if verbose:
        yield
        return
    import logging

    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    st_logger = logging.getLogger("sentence_transformers")
    st_level = st_logger.level
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    st_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)
        hf_logging.enable_progress_bar()
        st_logger.setLevel(st_level)
