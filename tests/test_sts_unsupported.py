"""A retrieval-only model on an STS task: one clear skip line in a grid (exit 0), an error when it
is the only pair (non-zero exit); never silent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.registry import MODELS, ModelEntry, get_entry, register
from harness.cli import main
from harness.store import Store
from tests.test_sts_run import sts_slice

RETRIEVAL_ONLY = "minilm-retrieval-only-test"


@pytest.fixture(scope="module")
def retrieval_only_entry() -> Iterator[str]:
    """A real model (MiniLM) declared retrieval-only, independent of any other family's entry."""
    register(ModelEntry(RETRIEVAL_ONLY, "adapters.dense:minilm_sentence_transformer", "dense",
                        "MiniLM declared retrieval-only (test)", task_types=("retrieval",)))
    yield RETRIEVAL_ONLY
    MODELS.pop(RETRIEVAL_ONLY, None)


def _model(name: str, request: pytest.FixtureRequest) -> str:
    if name == "bm25":
        assert get_entry("bm25").task_types == ("retrieval",)
        return "bm25"
    return request.getfixturevalue("retrieval_only_entry")


def _run(args: list[str], root: Path, db: Path, cache: Path):
    return CliRunner().invoke(main, ["run", *args, "--data-root", str(root), "--db", str(db),
                                     "--cache-dir", str(cache), "--no-progress"])


@pytest.fixture(scope="module")
def root(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sts_slice(data_root, tmp_path_factory.mktemp("sts-slice"), n=40)


@pytest.mark.parametrize("name", ["bm25", RETRIEVAL_ONLY])
def test_single_unsupported_pair_fails(name: str, request: pytest.FixtureRequest, root: Path,
                                       tmp_path: Path) -> None:
    model = _model(name, request)
    result = _run(["-m", model, "-t", "STSBenchmark"], root, tmp_path / "r.duckdb",
                  tmp_path / "cache")
    assert result.exit_code != 0
    assert f"error: {model}" in result.stderr
    assert "does not support sts tasks such as STSBenchmark" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize("name", ["bm25", RETRIEVAL_ONLY])
def test_grid_skips_unsupported_pair_with_one_line(name: str, request: pytest.FixtureRequest,
                                                   root: Path, tmp_path: Path,
                                                   shared_cache: Path) -> None:
    model = _model(name, request)
    db = tmp_path / "r.duckdb"
    result = _run(["-m", model, "-m", "wordllama-l2-256", "-t", "STSBenchmark"], root, db,
                  shared_cache)
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())  # rich wraps long lines at the terminal width
    assert said.count("skip:") == 1
    assert (f"skip: {model} ({get_entry(model).family}) does not support sts tasks such as "
            "STSBenchmark; skipped") in said
    with Store(db, read_only=True) as store:
        runs = store.runs_frame()
    assert list(runs["model"]) == ["wordllama-l2-256"]
    assert list(runs["task_type"]) == ["sts"]
