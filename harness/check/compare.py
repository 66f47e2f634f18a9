"""Classify scores against expected values, and compare runs with a baseline query by query.

Expected values, as pyserini's reproduction matrices do it (symmetric: a score far *above* the
expected value is also a failed reproduction, since something in the pipeline changed):
  OK     |got - expected| <= tolerance
  OKISH  tolerance < |got - expected| <= okish   (okish defaults to 3 x tolerance)
  FAIL   |got - expected| >  okish
  SKIP   reference-only row (with its reason)     ERROR  the run failed or lacks the metric

Baseline comparison: per-query values of the same metric, paired on the queries both runs scored;
a one-sided paired test (H1: candidate < baseline): scipy's ttest_rel (default) or wilcoxon. STS
correlations are not per-pair means, so they get a paired permutation test over the shared pairs.
REGRESSION only when the drop is larger than the margin AND the p-value is below alpha, so noise
and tiny drops never fail a build.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.check.expected import ExpectedRow
from harness.check.plan import MAIN_SCORE, Obtained, Planned
from harness.errors import HarnessError
from harness.store import Store

# Stored means are exact, published ones rounded to 5 digits: a hair of slack on the bound only.
_EPS = 1e-9


@dataclass(frozen=True)
class CheckRow:
    row: ExpectedRow
    status: str  # OK | OKISH | FAIL | SKIP | ERROR
    got: float | None = None
    run_key: str | None = None
    reason: str = ""

    @property
    def delta(self) -> float | None:
        return None if self.got is None else self.got - self.row.expected


def classify(row: ExpectedRow, got: float) -> str:
    diff = abs(got - row.expected)
    if diff <= row.tolerance + _EPS:
        return "OK"
    return "OKISH" if diff <= row.okish + _EPS else "FAIL"


def check_rows(planned: list[Planned], obtained: dict[Any, Obtained]) -> list[CheckRow]:
    out: list[CheckRow] = []
    for item in planned:
        if item.spec is None:
            out.append(CheckRow(item.row, "SKIP", reason=item.skip_reason))
            continue
        got = obtained[item.spec]
        if got.result is None:
            out.append(CheckRow(item.row, "ERROR", reason=got.error))
            continue
        value = got.value(item.row.metric)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            out.append(CheckRow(item.row, "ERROR", run_key=got.result.key,
                                reason=f"the run has no value for {item.row.metric}"))
            continue
        out.append(CheckRow(item.row, classify(item.row, value), value, got.result.key))
    return out


# -- baseline ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Paired:
    model: str
    task: str
    variant: str
    metric: str
    status: str  # OK | REGRESSION | SKIP
    candidate_key: str
    baseline_key: str | None = None
    baseline: float | None = None  # mean over the paired queries
    candidate: float | None = None
    delta: float | None = None
    p_value: float | None = None
    n: int = 0
    reason: str = ""


def paired_test(base: np.ndarray, cand: np.ndarray, test: str) -> float:
    """One-sided p-value for 'candidate is lower' (1.0 when every pair is equal)."""
    from scipy import stats

    diff = cand - base
    if not np.any(diff):
        return 1.0  # identical runs: no evidence of any change (the tests are undefined here)
    if test == "wilcoxon":
        return float(stats.wilcoxon(cand, base, alternative="less").pvalue)
    p = float(stats.ttest_rel(cand, base, alternative="less").pvalue)
    # Constant non-zero differences make the t statistic infinite and p NaN: it is a certain shift.
    return (0.0 if diff.mean() < 0 else 1.0) if math.isnan(p) else p


def compare(cand_q: dict[str, float], base_q: dict[str, float], *, test: str, margin: float,
            alpha: float) -> tuple[str, float | None, float | None, float | None, float | None,
                                   int, str]:
    """-> (status, baseline mean, candidate mean, delta, p, n, reason) on the shared queries."""
    common = sorted(set(cand_q) & set(base_q))
    if len(common) < 2:
        return "SKIP", None, None, None, None, len(common), \
            f"only {len(common)} queries scored by both runs"
    base = np.array([base_q[q] for q in common], dtype=np.float64)
    cand = np.array([cand_q[q] for q in common], dtype=np.float64)
    delta = float(cand.mean() - base.mean())
    p = paired_test(base, cand, test)
    regression = delta < -margin and p < alpha
    reason = ""
    if not regression and delta < 0:
        reason = ("drop within the margin" if delta >= -margin else
                  f"drop not significant (p >= {alpha})")
    return ("REGRESSION" if regression else "OK"), float(base.mean()), float(cand.mean()), \
        delta, p, len(common), reason


# STS stores per-pair cosine similarities and gold scores, not per-pair metric values: a drop in
# a correlation is tested by a paired permutation test (swap the two systems' similarities within
# random pairs), the usual test for comparing dependent correlations without normality.
CORRELATIONS = {"cosine_spearman": "spearman", "spearman": "spearman",
                "cosine_pearson": "pearson", "pearson": "pearson"}
PERMUTATIONS = 2000


def _corr(gold: np.ndarray, x: np.ndarray, kind: str) -> np.ndarray:
    from scipy.stats import rankdata

    if kind == "spearman":
        gold, x = rankdata(gold), rankdata(x, axis=-1)
    gc = gold - gold.mean()
    xc = x - x.mean(axis=-1, keepdims=True)
    return (xc @ gc) / (np.linalg.norm(xc, axis=-1) * np.linalg.norm(gc))


def compare_correlation(gold: dict[str, float], cand_sim: dict[str, float],
                        base_sim: dict[str, float], kind: str, *, margin: float,
                        alpha: float) -> tuple[str, float | None, float | None, float | None,
                                               float | None, int, str]:
    from scipy.stats import permutation_test

    common = sorted(set(gold) & set(cand_sim) & set(base_sim))
    if len(common) < 3:
        return "SKIP", None, None, None, None, len(common), f"only {len(common)} shared pairs"
    g = np.array([gold[i] for i in common])
    base = np.array([base_sim[i] for i in common])
    cand = np.array([cand_sim[i] for i in common])
    b, c = float(_corr(g, base, kind)), float(_corr(g, cand, kind))
    if np.array_equal(base, cand):
        p = 1.0
    else:
        result = permutation_test(
            (base, cand), lambda x, y, axis: _corr(g, y, kind) - _corr(g, x, kind),
            permutation_type="samples", vectorized=True, n_resamples=PERMUTATIONS, batch=200,
            alternative="less", rng=np.random.default_rng(0))
        p = float(result.pvalue)
    delta = c - b
    regression = delta < -margin and p < alpha
    reason = "" if regression or delta >= 0 else (
        "drop within the margin" if delta >= -margin else f"drop not significant (p >= {alpha})")
    return ("REGRESSION" if regression else "OK"), b, c, delta, p, len(common), reason


_KEY = re.compile(r"^[0-9a-f]{6,64}$")


class Baseline:
    """A baseline: one run key in the current store, or a whole DuckDB file of baseline runs."""

    def __init__(self, spec: str, store: Store) -> None:
        self.key: str | None = None
        self._own: Store | None = None
        path = Path(spec)
        if path.is_file():
            same = path.resolve() == store.path.resolve()
            self._own = None if same else Store(path, read_only=True)
            self.store = store if same else self._own
            self.label = str(path)
            return
        self.store = store
        if not _KEY.match(spec):
            raise HarnessError(f"--baseline '{spec}' is neither a DuckDB file nor a run key")
        keys = [k for (k,) in store.con.execute(
            "SELECT run_key FROM runs WHERE run_key LIKE ?", [spec + "%"]).fetchall()]
        if len(keys) != 1:
            raise HarnessError(f"--baseline '{spec}' matches {len(keys)} runs in {store.path} "
                               "(give a longer run key, or a DuckDB file)")
        self.key = keys[0]
        self.label = f"run {self.key}"

    def close(self) -> None:
        if self._own is not None:
            self._own.close()

    def match(self, cand: dict[str, Any]) -> tuple[str | None, str]:
        """The baseline run for a candidate runs row, or (None, why not)."""
        if self.key is not None:
            row = self.store.run_row(self.key) or {}
            if (row.get("task"), row.get("split")) != (cand["task"], cand["split"]):
                return None, f"baseline run is on {row.get('task')}, not {cand['task']}"
            return self.key, ""
        if self.store.has_run(cand["run_key"]):  # the very same spec was run for the baseline
            return cand["run_key"], ""
        found = self.store.con.execute(
            "SELECT run_key FROM runs WHERE model = ? AND task = ? AND variant = ? AND split = ? "
            "ORDER BY created_at DESC LIMIT 1",
            [cand["model"], cand["task"], cand["variant"], cand["split"]]).fetchone()
        if found is None:
            what = f"{cand['model']} {cand['variant']}".strip()
            return None, f"no {what} run on {cand['task']} in {self.label}"
        return found[0], ""


def compare_runs(store: Store, baseline: Baseline, pairs: list[tuple[str, str]], *, test: str,
                 margin: float, alpha: float) -> list[Paired]:
    """``pairs``: (candidate run key, metric or main_score), each compared once."""
    out: list[Paired] = []
    for key, metric in dict.fromkeys(pairs):
        cand = store.run_row(key)
        if cand is None:
            raise HarnessError(f"run {key} is not in {store.path}")
        name = cand["main_metric"] if metric == MAIN_SCORE else metric
        head = dict(model=cand["model"], task=cand["task"], variant=cand["variant"] or "",
                    metric=name, candidate_key=key)
        base_key, why = baseline.match(cand)
        if base_key is None:
            out.append(Paired(**head, status="SKIP", reason=why))
            continue
        cand_q = store.query_scores(key, name)
        base_q = baseline.store.query_scores(base_key, name)
        if (not cand_q or not base_q) and name in CORRELATIONS:
            gold = store.query_scores(key, "gold_score")
            cand_sim = store.query_scores(key, "cosine_similarity")
            base_sim = baseline.store.query_scores(base_key, "cosine_similarity")
            if gold and cand_sim and base_sim:
                status, b, c, delta, p, n, reason = compare_correlation(
                    gold, cand_sim, base_sim, CORRELATIONS[name], margin=margin, alpha=alpha)
                out.append(Paired(**head, status=status, baseline_key=base_key, baseline=b,
                                  candidate=c, delta=delta, p_value=p, n=n,
                                  reason=reason or "paired permutation test over pairs"))
                continue
        if not cand_q or not base_q:
            out.append(Paired(**head, status="SKIP", baseline_key=base_key,
                              reason=f"no per-query values of {name} stored"))
            continue
        status, b, c, delta, p, n, reason = compare(cand_q, base_q, test=test, margin=margin,
                                                    alpha=alpha)
        out.append(Paired(**head, status=status, baseline_key=base_key, baseline=b, candidate=c,
                          delta=delta, p_value=p, n=n, reason=reason))
    return out
