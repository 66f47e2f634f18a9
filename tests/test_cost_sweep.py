"""`harness sweep` end to end: one encode, a row per variant, cost columns, idempotent re-run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.dense import SentenceTransformerAdapter
from tests.helpers import cli, count_rows

COMPRESS = "fp32,int8,binary+rescore,mrl:128"
BACKENDS = "exact,hnsw"
COSTS = ("bytes_per_doc", "index_bytes", "encode_docs_per_s", "query_encode_ms", "search_p50_ms",
         "search_p95_ms", "search_qps", "peak_rss_mb", "threads", "cpu")


@pytest.fixture(scope="module")
def swept(scifact_subset: Path, shared_cache: Path,
          tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    db = tmp_path_factory.mktemp("sweep") / "runs.duckdb"
    args = ["sweep", "-m", "all-MiniLM-L6-v2", "-t", "SciFact", "--compress", COMPRESS,
            "--backend", BACKENDS, "--data-root", str(scifact_subset), "--db", str(db),
            "--cache-dir", str(shared_cache), "--no-progress"]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return db, args


def _encode_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count real encode calls of the dense adapter (the method still runs)."""
    calls: list[int] = []
    original = SentenceTransformerAdapter.encode

    def counting(self, texts, side, *, batch_size=32):  # noqa: ANN001, ANN202
        calls.append(len(texts))
        return original(self, texts, side, batch_size=batch_size)

    monkeypatch.setattr(SentenceTransformerAdapter, "encode", counting)
    return calls


def test_sweep_stores_one_row_per_variant(swept: tuple[Path, list[str]]) -> None:
    db, _ = swept
    assert count_rows(db) == 4 * 2


def test_repeat_sweep_encodes_nothing_and_adds_no_rows(swept: tuple[Path, list[str]],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    db, args = swept
    calls = _encode_calls(monkeypatch)
    before = count_rows(db)
    result = cli(*args)
    assert result.exit_code == 0
    assert calls == []
    assert count_rows(db) == before
    assert result.output.count("skipped") == before


def test_compressed_variants_never_cache_their_own_embeddings(
        swept: tuple[Path, list[str]], shared_cache: Path, scifact_subset: Path) -> None:
    from adapters.registry import load_model
    from harness.cache import EmbeddingCache, texts_sha256
    from harness.tasks.beir import load_beir

    data = load_beir(scifact_subset / "beir" / "scifact", "test")
    cache, base = EmbeddingCache(shared_cache), load_model("all-MiniLM-L6-v2")
    assert cache.is_complete(base, data.corpus_texts, "document")  # the one shared encode
    # compression is a stage after the cache: of the cache folders run under this model's name,
    # one holds the corpus (the shared encode), whatever variants the sweep stored
    named = [m.parent for m in shared_cache.glob("*/name-all-MiniLM-L6-v2")]
    held = [f for m in named for f in m.glob(
        f"document/{texts_sha256(data.corpus_texts)[:24]}-c*")]
    assert held == [cache.folder(base, "document", data.corpus_texts)]


def test_results_json_shows_costs_beside_scores(swept: tuple[Path, list[str]]) -> None:
    db, _ = swept
    result = cli("results", "--json", "--db", db)
    records = json.loads(result.output)
    assert len(records) == 8
    for r in records:
        assert r["main_score"] is not None
        for col in COSTS:
            assert r[col] is not None, (r["variant"], col)
        assert r["search_p50_ms"] <= r["search_p95_ms"]
        ann = r["variant"].endswith("hnsw")
        assert (r["ann_recall_at_10"] is not None) == ann
    by_variant = {r["variant"]: r for r in records}
    assert by_variant[""]["bytes_per_doc"] == 384 * 4
    assert by_variant["mrl:128/hnsw"]["bytes_per_doc"] == 128 * 4
    # the HNSW graph costs more than its vectors
    assert by_variant["hnsw"]["index_bytes"] > by_variant[""]["index_bytes"]


def test_results_table_shows_cost_columns(swept: tuple[Path, list[str]]) -> None:
    db, _ = swept
    wide = cli("results", "--wide", "--db", db).output
    for header in ("B/doc", "p50 ms", "p95 ms", "q/s", "ANN R@10", "RSS MB"):
        assert header in wide
    narrow = cli("results", "--db", db).output  # the default fits a 120-column terminal
    assert "B/doc" in narrow and "p95 ms" not in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 120


def test_run_records_timing_method(swept: tuple[Path, list[str]]) -> None:
    import duckdb

    db, _ = swept
    con = duckdb.connect(str(db), read_only=True)
    costs, timings, env = con.execute(
        "SELECT costs, timings, environment FROM runs WHERE variant = 'hnsw'").fetchone()
    con.close()
    costs, timings, env = json.loads(costs), json.loads(timings), json.loads(env)
    assert costs["latency_threads"] == 1 and costs["latency_queries"] == 40
    assert costs["search_threads"]  # per library, e.g. {"blas:openblas": 2, "faiss_omp": 2}
    assert timings["search_warmup_ms"] > 0 and timings["index_build_s"] > 0
    assert env["cpu"] and env["cores"]
