"""Honest run keys: one key per computation, keys that follow the scoring code, one index build per
query-parameter sweep, and peak RSS per run (issue 11's acceptance lines, on a real SciFact subset
with real weights and a real DuckDB file)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from harness.data_root import REPO_ROOT
from tests.helpers import cli, count_rows

FAST = "wordllama-l2-256"


def _rows(db: Path) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        frame = con.execute("SELECT * FROM runs ORDER BY created_at").df()
    finally:
        con.close()
    rows = frame.to_dict(orient="records")
    for row in rows:
        for col in ("timings", "extra", "costs", "environment", "spec"):
            if isinstance(row[col], str):
                row[col] = json.loads(row[col])
    return rows


_RUN = """
import json, sys
from harness.cli import main
from harness.cache import EmbeddingCache
calls = []
original = EmbeddingCache.encode
def counting(self, encoder, texts, side, **kw):
    real = encoder.encode
    def encode(*a, **k):
        calls.append(len(a[0]))
        return real(*a, **k)
    encoder.encode = encode
    try:
        return original(self, encoder, texts, side, **kw)
    finally:
        encoder.encode = real
EmbeddingCache.encode = counting
try:
    main(sys.argv[1:])
except SystemExit as exc:
    print(json.dumps({"encode_calls": len(calls), "code": exc.code}))
"""


def _run_copy(copy: Path, args: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(copy)}
    done = subprocess.run([sys.executable, "-c", _RUN, *args], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_scoring_change_changes_the_key_and_reuses_the_embedding_cache(
        scifact_subset: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    for package in ("harness", "adapters"):
        shutil.copytree(REPO_ROOT / package, copy / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    db, cache = tmp_path / "runs.duckdb", tmp_path / "cache"
    args = ["run", "-m", FAST, "-t", "SciFact", "--data-root", str(scifact_subset), "--db",
            str(db), "--cache-dir", str(cache), "--no-progress"]
    first = _run_copy(copy, args)
    assert first["code"] == 0 and first["encode_calls"] > 0
    chunks = sorted(cache.rglob("*.npz"))

    metrics = copy / "harness" / "metrics.py"  # on the scoring path
    lines = metrics.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("def "))
    lines[at] += "  # a scoring change"
    metrics.write_text("\n".join(lines) + "\n")
    second = _run_copy(copy, args)
    assert second == {"encode_calls": 0, "code": 0}  # the embedding cache served every text
    assert sorted(cache.rglob("*.npz")) == chunks

    rows = _rows(db)
    assert len(rows) == 2 and rows[0]["run_key"] != rows[1]["run_key"]
    prints = [r["environment"]["scoring_fingerprint"] for r in rows]
    assert prints[0] != prints[1]
    assert [r["spec"]["scoring"] for r in rows] == prints
    assert rows[1]["timings"]["cache_hit"] is True
    assert rows[0]["main_score"] == rows[1]["main_score"]  # a comment changed nothing real


def test_equal_specs_are_one_run_and_unused_axes_are_errors(scifact_subset: Path,
                                                            tmp_path: Path) -> None:
    db, cache = tmp_path / "runs.duckdb", tmp_path / "cache"
    result = cli("sweep", "-m", FAST, "-t", "SciFact", "--compress", "fp32,none,fp16",
                 "--backend", "hnsw,hnsw:m=32:efc=200:efs=128", "--data-root", scifact_subset,
                 "--db", db, "--cache-dir", cache, "--no-progress")
    assert result.exit_code == 0, result.output
    assert sorted(r["variant"] for r in _rows(db)) == ["fp16/hnsw", "hnsw"]

    for extra in (["--backend", "hnsw"], ["--compress", "int8"]):
        bad = cli("sweep", "-m", FAST, "-t", "STSBenchmark", *extra, "--db", db,
                  "--cache-dir", cache, "--no-progress")
        assert bad.exit_code == 2
        assert len(bad.output.strip().splitlines()) == 1 and "Traceback" not in bad.output
        assert bad.output.startswith("error: STSBenchmark is a sts task: it takes no --")
    bad = cli("run", "-m", FAST, "-t", "STSBenchmark", "-k", "10", "--db", db, "--no-progress")
    assert bad.exit_code == 2 and "takes no -k 10" in bad.output
    assert count_rows(db) == 2


def test_k_is_part_of_the_variant(scifact_subset: Path, tmp_path: Path) -> None:
    db, cache = tmp_path / "runs.duckdb", tmp_path / "cache"
    for k in ("10", "1000"):
        result = cli("run", "-m", FAST, "-t", "SciFact", "-k", k, "--data-root", scifact_subset,
                     "--db", db, "--cache-dir", cache, "--no-progress")
        assert result.exit_code == 0, result.output
    assert sorted(r["variant"] for r in _rows(db)) == ["", "k=10"]


def test_efs_sweep_builds_one_graph(scifact_subset: Path, tmp_path: Path) -> None:
    db, cache = tmp_path / "runs.duckdb", tmp_path / "cache"
    efs = (16, 32, 64, 128)
    result = cli("sweep", "-m", FAST, "-t", "SciFact", "--backend",
                 ",".join(f"hnsw:efs={e}" for e in efs), "--data-root", scifact_subset,
                 "--db", db, "--cache-dir", cache, "--no-progress")
    assert result.exit_code == 0, result.output
    rows = _rows(db)
    assert len(rows) == 4
    built = [r for r in rows if "index_build_s" in r["timings"]]
    assert len(built) == 1  # one graph, built by the first run
    numbers = {r["extra"]["backend"]["index_build_number"] for r in rows}
    assert len(numbers) == 1
    for r in rows:
        if r is not built[0]:
            assert r["extra"]["backend"]["build_shared_with"] == built[0]["variant"]
    by_efs = {r["extra"]["backend"]["params"]["efs"]: r for r in rows}
    assert sorted(by_efs) == list(efs)
    assert by_efs[128]["extra"]["fidelity"]["recall@10"] >= by_efs[16]["extra"]["fidelity"][
        "recall@10"]


@pytest.mark.parametrize("order", [("all-MiniLM-L6-v2", FAST)])
def test_peak_rss_is_per_run(order: tuple[str, str], tiny_scifact: Path,
                             tmp_path: Path) -> None:
    db, cache = tmp_path / "runs.duckdb", tmp_path / "cache"  # fresh cache: both models encode
    result = cli("run", "-m", order[0], "-m", order[1], "-t", "SciFact", "--data-root",
                 tiny_scifact, "--db", db, "--cache-dir", cache, "--no-progress")
    assert result.exit_code == 0, result.output
    rss = {r["model"]: r for r in _rows(db)}
    large, small = rss[order[0]], rss[order[1]]
    assert small["peak_rss_mb"] < large["peak_rss_mb"], (small["costs"], large["costs"])
    # absolute RSS only grows along the grid: the small model started where the large one ended
    assert small["costs"]["rss"]["run_start_mb"] > small["costs"]["rss"]["process_start_mb"]


def test_spec_values_are_canonical() -> None:
    from dataclasses import asdict

    from harness.spec import Backend, Compression, RunSpec, SpecError, grid

    assert Compression.parse("fp32") == Compression.parse("none") and str(
        Compression.parse("fp32")) == "none"
    assert str(Compression.parse("ivfpq:24x8:64:8")) == "ivfpq:24x8:nlist=64"
    assert str(Compression.parse("binary+rescore:200")) == "binary+rescore:depth=200"
    assert Backend.parse("muvera:ksim=4:rerank=0").build_key == \
        "muvera:reps=20:ksim=4:dproj=16:seed=0"
    spec = RunSpec("m", "t", "int4", "hnsw:efs=64", 10, "bf16")
    assert spec.variant == "int4/precision=bf16/hnsw:efs=64/k=10"
    assert RunSpec(**asdict(spec)) == spec  # specs survive asdict (another process, a file)
    assert len(grid(["m"], ["t"], ("fp32", "none"), ("hnsw", "hnsw:efs=128"))) == 1
    for bad in ({"compression": "int3"}, {"backend": "hnsw:efs=0"}, {"precision": "int8"},
                {"k": 0}):
        with pytest.raises(SpecError):
            RunSpec("m", "t", **bad)
