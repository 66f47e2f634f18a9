"""Invalid compression/backend specs fail before any encoding, naming what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.registry import load_model
from harness.compression import make_compressor
from harness.spec import Compression
from tests.helpers import cli, count_rows


@pytest.mark.parametrize(("compress", "backend", "expected"), [
    ("mrl:0", "exact", "invalid compression 'mrl:0': '0' (allowed for mrl: dim="),
    ("mrl:9999", "exact", "D must be in 1..384"),
    ("pq:7x8", "exact", "M must divide the model dimension 384"),
    ("pq:4x3", "exact", "multiple of 8"),
    ("zstd", "exact", "unknown compression 'zstd' (Known: binary, binary+rescore, fp16"),
    ("fp16", "annoy", "unknown backend 'annoy'"),
    ("fp16", "hnsw:ef=5", "allowed for hnsw: m=<positive int>, efc=<positive int>"),
])
def test_invalid_spec_fails_before_encoding(compress: str, backend: str, expected: str,
                                            scifact_subset: Path, tmp_path: Path) -> None:
    db, cache = tmp_path / "runs.duckdb", tmp_path / "cache"
    result = cli("sweep", "-m", "all-MiniLM-L6-v2", "-t", "SciFact", "--compress",
                 f"fp32,{compress}", "--backend", f"exact,{backend}", "--data-root",
                 scifact_subset, "--db", db, "--cache-dir", cache, "--no-progress")
    assert result.exit_code == 2
    assert expected in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not cache.exists() or not any(cache.rglob("*.npz"))  # nothing was encoded
    assert count_rows(db) == 0  # not even the valid fp32 variant ran


def test_unknown_backend_lists_known_ones(scifact_subset: Path, tmp_path: Path) -> None:
    result = cli("sweep", "-m", "all-MiniLM-L6-v2", "-t", "SciFact", "--backend", "annoy",
                 "--data-root", scifact_subset, "--db", tmp_path / "x.duckdb", "--no-progress")
    assert result.exit_code == 2
    for known in ("exact", "hnsw", "ivf"):
        assert known in result.output


def test_planned_bytes_per_doc() -> None:
    meta = load_model("all-MiniLM-L6-v2").meta  # 384-d
    for spec, size in (("binary", 48), ("pq:48x8", 48), ("pq:96x4", 48), ("mrl:64", 256),
                       ("int4", 192), ("fp8", 384), ("fp16", 768), ("fp32", 1536)):
        assert make_compressor(spec, meta).bytes_per_doc == size, spec
    assert Compression.parse("binary+rescore:200")["depth"] == 200
