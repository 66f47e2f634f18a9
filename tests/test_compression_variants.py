"""Compression variants on a real ~440-document SciFact subset, through the real runner.

MiniLM's subset embeddings come from the shared embedding cache (encoded once for all tests).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from adapters.registry import load_model
from harness.cache import EmbeddingCache
from harness.compression import make_compressor
from harness.kinds.outcome import Context
from harness.runner import Runner, RunResult
from harness.spec import RunSpec
from harness.store import Store

MODEL = "all-MiniLM-L6-v2"
VARIANTS = ("none", "fp16", "fp8", "int8", "int4", "binary", "binary+rescore", "mrl:384",
            "mrl:128", "pca:64", "pq:48x8", "pq:16x8", "ivfpq:24x8")


@pytest.fixture(scope="module")
def runs(scifact_subset: Path, shared_cache: Path,
         tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[RunResult, Store]]:
    db = tmp_path_factory.mktemp("compression") / "runs.duckdb"
    store = Store(db)
    runner = Runner(store, Context(EmbeddingCache(shared_cache), progress=False), scifact_subset,
                    log=lambda _: None)
    out = {c: runner.run(RunSpec(MODEL, "SciFact", compression=c)) for c in VARIANTS}
    yield out, store
    store.close()


def _row(runs, variant: str) -> RunResult:
    return runs[0][variant]


def test_each_variant_is_its_own_run(runs) -> None:
    keys = {r.key for r in runs[0].values()}
    assert len(keys) == len(VARIANTS)
    assert runs[1].count("runs") == len(VARIANTS)


def test_fp16_matches_fp32_within_1e_3(runs) -> None:
    fp32, fp16 = _row(runs, "none").main_score, _row(runs, "fp16").main_score
    assert fp32 is not None and fp16 is not None
    assert abs(fp16 - fp32) <= 1e-3
    assert _row(runs, "fp16").row["bytes_per_doc"] == 2 * 384


def test_int8_is_calibrated_and_close(runs) -> None:
    assert _row(runs, "int8").row["bytes_per_doc"] == 384
    assert abs(_row(runs, "int8").main_score - _row(runs, "none").main_score) < 0.01


def test_binary_bytes_per_doc_is_dim_over_8(runs) -> None:
    for variant in ("binary", "binary+rescore"):
        assert _row(runs, variant).row["bytes_per_doc"] == 384 / 8
    # sign bits lose information; re-scoring with the float query recovers part of it
    assert _row(runs, "binary").main_score < _row(runs, "none").main_score


def test_mrl_full_dimension_equals_plain_run_exactly(runs) -> None:
    plain, mrl = _row(runs, "none"), _row(runs, "mrl:384")
    assert plain.key != mrl.key
    assert mrl.scores == plain.scores
    rank = "SELECT query_id, rank, doc_id, score FROM rankings WHERE run_key = ? ORDER BY 1, 2"
    con = runs[1].con
    assert con.execute(rank, [mrl.key]).fetchall() == con.execute(rank, [plain.key]).fetchall()


def test_truncation_and_pca_shrink_bytes(runs) -> None:
    assert _row(runs, "mrl:128").row["bytes_per_doc"] == 128 * 4
    assert _row(runs, "pca:64").row["bytes_per_doc"] == 64 * 4
    extra = _row(runs, "mrl:128").row["extra"]
    assert extra["index"]["dim"] == 128


@pytest.mark.parametrize(("variant", "m", "nbits"), [("pq:48x8", 48, 8), ("pq:16x8", 16, 8)])
def test_pq_bytes_per_doc_is_m_nbits_over_8(runs, variant: str, m: int,
                                            nbits: int) -> None:
    row = _row(runs, variant).row
    assert row["bytes_per_doc"] == m * nbits / 8
    assert row["index_bytes"] == row["n_docs"] * m * nbits / 8
    assert row["extra"]["compression"]["training_points"] == row["n_docs"]


def test_ivfpq_counts_codes_and_ids(runs) -> None:
    assert _row(runs, "ivfpq:24x8").row["bytes_per_doc"] == 24 + 8


def test_int4_and_fp8_store_half_and_one_byte_per_dimension(runs) -> None:
    plain = _row(runs, "none").main_score
    for variant, size, loss in (("int4", 192, 0.05), ("fp8", 384, 0.01)):
        row = _row(runs, variant).row
        assert row["bytes_per_doc"] == size == row["extra"]["compression"]["planned_bytes_per_doc"]
        assert abs(row["main_score"] - plain) <= loss, (variant, row["main_score"], plain)


def test_int8_and_int4_stay_within_one_quantisation_step(scifact_subset: Path) -> None:
    base = load_model(MODEL)
    docs = [json.loads(line)["text"] for line in
            (scifact_subset / "beir" / "scifact" / "corpus.jsonl").read_text().splitlines()[:64]]
    original = base.encode(docs, "document")
    for spec, dtype, width in (("int8", np.int8, 384), ("int4", np.uint8, 192)):
        compressor = make_compressor(spec, base.meta)
        compressor.fit(original)  # per-dimension ranges from the corpus
        codes = compressor.transform(original, "document")
        assert codes.codes.dtype == dtype and codes.codes.shape == (64, width), spec
        step = np.max(np.abs(codes.decode() - original.vectors) / compressor.scale)
        assert step <= 0.5 + 1e-4, spec


def test_fp8_keeps_e4m3_relative_precision(scifact_subset: Path) -> None:
    base = load_model(MODEL)
    docs = [json.loads(line)["text"] for line in
            (scifact_subset / "beir" / "scifact" / "corpus.jsonl").read_text().splitlines()[:64]]
    original = base.encode(docs, "document")
    compressor = make_compressor("fp8", base.meta)
    compressor.fit(original)
    codes = compressor.transform(original, "document")
    assert codes.nbytes == 64 * 384  # one byte per dimension
    decoded, v = codes.decode(), original.vectors
    big = np.abs(v) > 0.05 * np.abs(v).max(axis=0)  # normal e4m3 range: 3 mantissa bits
    assert np.max(np.abs(decoded - v)[big] / np.abs(v)[big]) <= 2 ** -4 + 1e-6
