"""Full SciFact with all-MiniLM-L6-v2 reproduces MTEB's published nDCG@10 and R@100.

The expected values and their source come from ci/expected/published.yaml (MTEB's
embeddings-benchmark/results), with the tolerance stored there. Slow on a cold cache
(~3-5 minutes of encoding on 2 cores); the shared embedding cache makes reruns fast.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.helpers import run_cli
from tests.published import published


@pytest.mark.slow
def test_minilm_scifact_matches_mteb_published(data_root: Path, shared_cache: Path,
                                               tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    result = run_cli("all-MiniLM-L6-v2", "SciFact", data_root, db, shared_cache)
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    scores = dict(con.execute("SELECT metric, value FROM scores").fetchall())
    con.close()
    for metric in ("ndcg_at_10", "recall_at_100"):
        expected, tolerance = published("all-MiniLM-L6-v2", "SciFact", metric)
        assert abs(scores[metric] - expected) <= tolerance, (metric, scores[metric], expected)
