"""`harness compare RUN_A RUN_B` on real runs: the board's paired statistics in the terminal."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
from click.testing import CliRunner
from scipy import stats

from harness.cli import main
from tests.test_board_data import board_db  # noqa: F401 - the shared session fixture


def test_compare_prints_the_paired_test(board_db: Path) -> None:  # noqa: F811
    con = duckdb.connect(str(board_db), read_only=True)
    key_a, key_b = (k for (k,) in con.execute(
        "SELECT run_key FROM runs WHERE task = 'SciFact' AND variant = '' "
        "AND model IN ('all-MiniLM-L6-v2', 'wordllama-l2-256') ORDER BY model").fetchall())
    a, b = np.array(con.execute(
        "SELECT a.value, b.value FROM query_scores a JOIN query_scores b USING (query_id, metric)"
        " WHERE a.run_key = ? AND b.run_key = ? AND metric = 'ndcg_at_10' ORDER BY query_id",
        [key_a, key_b]).fetchall()).T
    nf_key = con.execute("SELECT run_key FROM runs WHERE task = 'NFCorpus'").fetchone()[0]
    con.close()
    result = CliRunner().invoke(main, ["compare", key_a[:12], key_b[:12], "--db", str(board_db)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"mean difference B − A: {(b - a).mean():+.4f}" in out
    assert f"{stats.ttest_rel(b, a).pvalue:.4g} (paired t)" in out
    assert f"{(b > a).sum()} / {(b == a).sum()} / {(b < a).sum()}" in out
    assert f"over {len(a)} shared queries" in out
    # Different tasks, an unknown key: one line, exit 2.
    for args in ([key_a, nf_key], [key_a, "zzzz"]):
        bad = CliRunner().invoke(main, ["compare", *args, "--db", str(board_db)])
        assert bad.exit_code == 2 and "Traceback" not in bad.output
        assert bad.output.startswith("error: ") and bad.output.count("\n") == 1
