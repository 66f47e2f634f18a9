"""Invalid compression/backend specs fail before any encoding, naming what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.compressed import parse
from tests.helpers import cli, count_rows


@pytest.mark.parametrize(("compress", "backend", "expected"), [
    ("mrl:0", "exact", "D must be in 1..384"),
    ("mrl:9999", "exact", "D must be in 1..384"),
    ("pq:7x8", "exact", "M must divide the model dimension 384"),
    ("pq:4x3", "exact", "multiple of 8"),
    ("zstd", "exact", "Known: none, binary, fp16, fp32, int8"),
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
    assert parse("binary", 384).bytes_per_doc() == 48
    assert parse("pq:48x8", 384).bytes_per_doc() == 48
    assert parse("pq:96x4", 384).bytes_per_doc() == 48
    assert parse("mrl:64", 384).bytes_per_doc() == 256
    assert parse("binary+rescore:200", 384).rescore == 200
