"""One store holding every study's small run (`harness study run all --small`), shared by the
AppTest and the browser test of the Studies page."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import cli


@pytest.fixture(scope="session")
def studied(scifact_subset: Path, shared_cache: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The DuckDB file; result files lie in ``studies/`` beside it."""
    db = tmp_path_factory.mktemp("studies") / "h.duckdb"
    result = cli("study", "run", "all", "--small", "--db", db, "--cache-dir", shared_cache,
                 "--data-root", scifact_subset)
    assert result.exit_code == 0, result.output
    return db
