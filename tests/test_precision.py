"""Reduced precision in the adapters: refused in one line where the hardware or the model has no
such path, recorded in the model's options (so run key and cache folder differ from fp32), and
close to fp32 where it runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from adapters import precision as prec
from adapters.registry import load_model
from harness.cache import EmbeddingCache
from harness.cli import main
from harness.errors import HarnessError

NATIVE_BF16 = bool(prec.cpu_flags() & set(prec.CPU_FLAGS["bf16"]))


def test_fp32_keeps_existing_options() -> None:
    meta = load_model("all-MiniLM-L6-v2").meta
    assert "precision" not in dict(meta.options)  # fp32 run keys and cache folders unchanged


@pytest.mark.parametrize("model", ["wordllama-l2-256", "all-MiniLM-L6-v2-onnx-int8"])
def test_models_without_a_bf16_path_refuse(model: str) -> None:
    from adapters.registry import get_entry

    entry = get_entry(model)
    module, _, attr = entry.factory.partition(":")
    factory = getattr(__import__(module, fromlist=[attr]), attr)
    with pytest.raises(HarnessError, match="precision 'bf16' is not available") as info:
        factory(name=entry.name, task_types=entry.task_types, precision="bf16", **entry.options)
    assert "\n" not in str(info.value)


def test_unknown_precision_is_one_line() -> None:
    with pytest.raises(HarnessError, match="not one of fp32, bf16, fp16"):
        prec.check_precision("int3", "cpu", "m")


@pytest.mark.skipif(NATIVE_BF16, reason="this CPU has native bf16: nothing to refuse")
def test_cpu_without_bf16_refuses() -> None:
    from adapters.dense import minilm_sentence_transformer

    with pytest.raises(HarnessError, match="amx_bf16 or avx512_bf16") as info:
        minilm_sentence_transformer("all-MiniLM-L6-v2", ("retrieval",), precision="bf16")
    assert "\n" not in str(info.value)


def test_bf16_is_recorded_and_close_to_fp32(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """On a CPU without native bf16 the flag check is overridden (the one thing this machine
    cannot provide): autocast then emulates bf16, slowly but with the same numerics."""
    from adapters.dense import minilm_sentence_transformer

    if not NATIVE_BF16:
        monkeypatch.setattr(prec, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    fp32 = minilm_sentence_transformer("all-MiniLM-L6-v2", ("retrieval",))
    bf16 = minilm_sentence_transformer("all-MiniLM-L6-v2", ("retrieval",), precision="bf16")
    assert dict(bf16.meta.options)["precision"] == "bf16"
    assert bf16.meta.key_fields() != fp32.meta.key_fields()
    cache = EmbeddingCache(tmp_path)
    texts = ["Vitamin D deficiency is linked to bone loss.", "A short query",
             "Microglia respond to amyloid plaques in the brain of mice."]
    assert cache.folder(bf16, "document", texts) != cache.folder(fp32, "document", texts)
    a = fp32.encode(texts, "document").vectors
    b = bf16.encode(texts, "document").vectors
    assert b.dtype == np.float32 and b.shape == a.shape
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cosine.min() > 0.99 and not np.array_equal(a, b)


def test_threads_env_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(prec.THREADS_ENV, "3")
    assert prec.encode_threads() == 3
    monkeypatch.setenv(prec.THREADS_ENV, "zero")
    with pytest.raises(HarnessError, match="positive integer"):
        prec.encode_threads()


def test_verbose_flag_and_compare_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["-v", "--help"])
    assert result.exit_code == 0 and "--verbose" in result.output
    result = CliRunner().invoke(main, ["compare", "abc", "def", "--db",
                                       str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "no results yet" in result.output
