"""Shared fixtures: the real data root, a small real SciFact subset, and the shared embedding cache.

The embedding cache lives in the repository's git-ignored ``results/cache`` so that every test (and
every CI run on the same machine) encodes a given text set with a given model only once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.data_root import REPO_ROOT, resolve_data_root

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
if os.environ.get("PYTEST_XDIST_WORKER"):  # `make test` runs two workers on two cores:
    os.environ.setdefault("HARNESS_TORCH_THREADS", "1")  # one torch thread each, not 2 x 2


SHARED_CACHE = REPO_ROOT / "results" / "cache"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest file first: with two workers taking whole files in collection order
    (`--no-loadscope-reorder`), one works through it while the other takes the rest."""
    items.sort(key=lambda item: item.get_closest_marker("starts_first") is None)


@pytest.fixture(scope="session")
def data_root() -> Path:
    return resolve_data_root()


@pytest.fixture(scope="session")
def shared_cache() -> Path:
    SHARED_CACHE.mkdir(parents=True, exist_ok=True)
    return SHARED_CACHE


def make_scifact_subset(data_root: Path, dest: Path, n_queries: int = 40,
                        n_extra_docs: int = 400) -> Path:
    """The SciFact subset the spine tests use; returns the data root holding ``beir/scifact``."""
    return make_beir_subset(data_root, dest, "scifact", n_queries, n_extra_docs)


def make_beir_subset(data_root: Path, dest: Path, name: str, n_queries: int,
                     n_extra_docs: int) -> Path:
    """A real BEIR folder: the first ``n_queries`` test queries of ``name``, their judged
    documents and the first ``n_extra_docs`` corpus documents. Returns the data root."""
    src = data_root / "beir" / name
    out = dest / "beir" / name
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    lines = (src / "qrels" / "test.tsv").read_text().splitlines()
    header, rows = lines[0], [r.split("\t") for r in lines[1:]]
    qids: list[str] = []
    for q, _, _ in rows:
        if q not in qids:
            qids.append(q)
    qids = qids[:n_queries]
    kept_rows = [r for r in rows if r[0] in qids]
    judged = {r[1] for r in kept_rows}
    with (src / "corpus.jsonl").open() as fh, (out / "corpus.jsonl").open("w") as oh:
        for i, line in enumerate(fh):
            if i < n_extra_docs or json.loads(line)["_id"] in judged:
                oh.write(line)
    with (src / "queries.jsonl").open() as fh, (out / "queries.jsonl").open("w") as oh:
        for line in fh:
            if json.loads(line)["_id"] in qids:
                oh.write(line)
    (out / "qrels" / "test.tsv").write_text(
        "\n".join([header, *["\t".join(r) for r in kept_rows]]) + "\n")
    return dest


@pytest.fixture(scope="session")
def scifact_subset(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data root of a ~440-document, 40-query real SciFact subset (task name 'SciFact')."""
    return make_scifact_subset(data_root, tmp_path_factory.mktemp("scifact-subset"))


@pytest.fixture(scope="session")
def tiny_scifact(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data root of a ~55-document, 10-query real SciFact subset, for tests whose point is not
    the score (a model's identity, a cost being recorded) and that must encode cold."""
    return make_scifact_subset(data_root, tmp_path_factory.mktemp("scifact-tiny"), n_queries=10,
                               n_extra_docs=40)


# h-fuse: every study's small run in one store, shared by test_studies and its browser test
from tests.studies_fixture import studied  # noqa: E402, F401
