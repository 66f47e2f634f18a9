"""The board's statistics against brute-force and direct scipy computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from leaderboard.stats import (
    _weights,
    bootstrap_spearman,
    bootstrap_task_means,
    interval,
    paired_comparison,
    pareto_front,
)


def test_bootstrap_means_equal_explicit_resampling() -> None:
    rng = np.random.default_rng(1)
    matrix = rng.random((5, 37))
    matrix[2, [3, 8]] = np.nan  # a run missing two queries
    means = bootstrap_task_means(matrix, n_boot=200, seed=5)
    # Re-draw the same resamples and average explicitly, run by run.
    picks = np.random.default_rng(5).integers(0, 37, size=(200, 37))
    for r in range(5):
        explicit = [np.nanmean(matrix[r, p]) for p in picks]
        np.testing.assert_allclose(means[r], explicit, rtol=1e-5)
    # Paired: every run is resampled on the same queries, so identical runs get identical draws.
    twin = bootstrap_task_means(np.vstack([matrix[0], matrix[0]]), n_boot=50, seed=3)
    np.testing.assert_array_equal(twin[0], twin[1])


def test_bootstrap_interval_covers_the_mean_and_shrinks_with_more_queries() -> None:
    rng = np.random.default_rng(2)
    small, large = rng.random((1, 30)), rng.random((1, 3000))
    lo_s, hi_s = interval(bootstrap_task_means(small))
    lo_l, hi_l = interval(bootstrap_task_means(large))
    assert lo_s[0] < small.mean() < hi_s[0] and lo_l[0] < large.mean() < hi_l[0]
    assert hi_l[0] - lo_l[0] < (hi_s[0] - lo_s[0]) / 5  # ~ 1/sqrt(n): 10x narrower


def _brute_front(cost: np.ndarray, quality: np.ndarray, lower: bool) -> np.ndarray:
    c = cost if lower else -cost
    out = []
    for i in range(len(c)):
        dominated = any((c[j] <= c[i] and quality[j] >= quality[i])
                        and (c[j] < c[i] or quality[j] > quality[i]) for j in range(len(c)))
        out.append(not dominated)
    return np.array(out)


@pytest.mark.parametrize("lower", [True, False])
def test_pareto_front_matches_brute_force(lower: bool) -> None:
    rng = np.random.default_rng(3)
    for _ in range(30):
        cost = rng.integers(1, 8, 25).astype(float)  # ties on purpose
        quality = rng.integers(1, 8, 25) / 10
        np.testing.assert_array_equal(pareto_front(cost, quality, lower_cost_is_better=lower),
                                      _brute_front(cost, quality, lower))


def test_paired_comparison_agrees_with_scipy() -> None:
    rng = np.random.default_rng(4)
    a = rng.random(120)
    b = np.clip(a + rng.normal(0.03, 0.15, 120), 0, 1)
    b[:10] = a[:10]  # some ties
    r = paired_comparison(a, b)
    assert (r.wins, r.ties, r.losses) == ((b > a).sum(), (b == a).sum(), (b < a).sum())
    assert r.t_pvalue == pytest.approx(stats.ttest_rel(b, a).pvalue)
    assert r.mean_diff == pytest.approx((b - a).mean())
    assert r.ci_low < r.mean_diff < r.ci_high
    assert r.randomisation_pvalue == pytest.approx(r.t_pvalue, abs=0.03)


def test_paired_comparison_degenerate_cases() -> None:
    a = np.linspace(0, 1, 20)
    same = paired_comparison(a, a)
    assert (same.ties, same.t_pvalue, same.randomisation_pvalue) == (20, 1.0, 1.0)
    assert same.ci_low == same.ci_high == 0.0
    shifted = paired_comparison(a, a + 0.1)  # constant difference: no t statistic
    assert shifted.wins == 20 and np.isnan(shifted.t_statistic)
    assert shifted.ci_low == pytest.approx(0.1) and shifted.randomisation_pvalue < 0.001


def test_bootstrap_spearman_close_to_reranking_every_resample() -> None:
    rng = np.random.default_rng(6)
    n = 300
    gold = np.round(rng.random(n) * 5, 1)  # ties, as STS gold scores have
    predicted = np.vstack([gold + rng.normal(0, s, n) for s in (0.5, 2.0)])
    fast = bootstrap_spearman(predicted, gold, n_boot=300, seed=9)
    counts = _weights(n, 300, np.random.default_rng(9)).astype(int)
    for r in range(2):
        exact = np.array([stats.spearmanr(predicted[r, idx], gold[idx]).statistic
                          for idx in (np.repeat(np.arange(n), c) for c in counts)])
        assert np.abs(fast[r] - exact).max() < 0.03
        lo_f, hi_f = interval(fast[r])
        lo_e, hi_e = interval(exact)
        width = hi_e - lo_e  # the ends move by a small fraction of the width (or < 0.005)
        assert abs(lo_f - lo_e) < max(0.2 * width, 0.005)
        assert abs(hi_f - hi_e) < max(0.2 * width, 0.005)
        assert lo_f < stats.spearmanr(predicted[r], gold).statistic < hi_f
