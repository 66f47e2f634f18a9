"""``harness compare RUN_A RUN_B``: the board's paired test between two runs, in the terminal.

The statistics are leaderboard/stats.py's ``paired_comparison`` (the Compare page's), on the
queries both runs scored (harness/check/compare.py pairs them the same way for `harness check`).
"""

from __future__ import annotations

import math
from pathlib import Path

import click

from harness.cli import _default_db, db_option
from harness.errors import HarnessError

# STS rows hold each pair's prediction and gold score, not a per-item quality.
NOT_QUALITY = ("cosine_similarity", "gold_score")


def resolve_run(store, prefix: str) -> dict:  # noqa: ANN001 - a harness.store.Store
    """A run by its key or a unique key prefix (`harness results` shows 12 characters)."""
    keys = [r[0] for r in store.con.execute(
        "SELECT run_key FROM runs WHERE starts_with(run_key, ?) ORDER BY run_key",
        [prefix]).fetchall()]
    if not keys:
        raise HarnessError(f"run '{prefix}': no stored run key starts with it "
                           "(`harness results` lists them)")
    if len(keys) > 1:
        raise HarnessError(f"run '{prefix}': {len(keys)} run keys start with it; give more "
                           "characters")
    return store.run_row(keys[0])


def paired_values(store, row_a: dict, row_b: dict, metric: str | None):  # noqa: ANN001, ANN201
    """(metric, aligned per-query arrays a and b) on the queries both runs scored."""
    import numpy as np

    if row_a["task"] != row_b["task"]:
        raise HarnessError(f"runs are on different tasks ({row_a['task']} vs {row_b['task']}); "
                           "a paired test needs the same queries")
    metric = metric or row_a["main_metric"]
    if metric in NOT_QUALITY:
        raise HarnessError(f"metric '{metric}' is an STS pair value, not a per-item quality")
    a = store.query_scores(row_a["run_key"], metric)
    b = store.query_scores(row_b["run_key"], metric)
    common = sorted(set(a) & set(b))
    if len(common) < 2:
        kind = "STS runs store one correlation, not per-item scores; " \
            if row_a["main_metric"].endswith("spearman") else ""
        raise HarnessError(f"{kind}the runs share {len(common)} queries with a '{metric}' "
                           "value; nothing to compare")
    return metric, np.array([a[q] for q in common]), np.array([b[q] for q in common])


def _p(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.4g}"


@click.command()
@click.argument("run_a")
@click.argument("run_b")
@click.option("--metric", default=None, help="Per-query metric [default: the task's main score].")
@db_option
def compare(run_a: str, run_b: str, metric: str | None, db: Path | None) -> None:
    """Paired test of RUN_B against RUN_A (run keys or unique prefixes) on their shared queries:
    mean difference with its 95% bootstrap CI, paired t and randomisation p, wins/ties/losses."""
    from harness.store import Store
    from leaderboard.stats import paired_comparison

    path = db or _default_db()
    if not Path(path).is_file():
        raise HarnessError(f"{path}: no results yet (run `harness run` first)")
    with Store(path, read_only=True) as store:
        row_a, row_b = resolve_run(store, run_a), resolve_run(store, run_b)
        metric, a, b = paired_values(store, row_a, row_b, metric)
    result = paired_comparison(a, b)
    label = {"A": row_a, "B": row_b}
    for name, row in label.items():
        variant = f" [{row['variant']}]" if row["variant"] else ""
        click.echo(f"{name}: {row['model']}{variant} · {row['task']} · {row['run_key'][:12]}")
    click.echo(f"{metric} over {result.n} shared queries: A {result.mean_a:.4f} · "
               f"B {result.mean_b:.4f}")
    click.echo(f"mean difference B − A: {result.mean_diff:+.4f}  "
               f"95% CI [{result.ci_low:+.4f}, {result.ci_high:+.4f}] (bootstrap)")
    click.echo(f"p: {_p(result.t_pvalue)} (paired t) · {_p(result.randomisation_pvalue)} "
               "(randomisation, 9,999 sign flips)")
    click.echo(f"B wins / ties / losses: {result.wins} / {result.ties} / {result.losses}")
