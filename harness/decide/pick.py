"""The best entry under a budget, the entries tied with it, and what one more step of budget buys.

Quality is an entry's mean main score over the selected tasks (entries must cover them all, as
for ranks). Costs are averaged over those tasks. A constraint on a value that is unknown (no
latency measured, no parameter count known) is not passed: the entry is left out and counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harness.decide.hardware import entry_hardware, mixed_hardware_note
from harness.decide.meta import model_meta
from harness.decide.ranks import LEVEL, Ranking
from harness.errors import HarnessError


@dataclass(frozen=True)
class Constraint:
    name: str  # CLI option name
    column: str  # column of the entry table
    limit: float | bool
    upper: bool = True  # True: value <= limit; False: value >= limit
    unit: str = ""

    def passes(self, values: pd.Series) -> pd.Series:
        """True / False; unknown (NaN / None) never passes."""
        if isinstance(self.limit, bool):
            return values.map(lambda v: v is True or v == True)  # noqa: E712 - numpy bools
        known = pd.to_numeric(values, errors="coerce")
        ok = known <= self.limit if self.upper else known >= self.limit
        return ok & known.notna()


def constraints(max_bytes_per_doc: float | None = None, corpus_docs: int | None = None,
                max_index_gb: float | None = None, max_p95_ms: float | None = None,
                min_docs_per_s: float | None = None, max_params: float | None = None,
                open_weights: bool = False) -> list[Constraint]:
    if (corpus_docs is None) != (max_index_gb is None):
        raise HarnessError("--corpus-docs and --max-index-gb go together (index size = "
                           "bytes per document x corpus documents)")
    out = []
    if max_bytes_per_doc is not None:
        out.append(Constraint("max-bytes-per-doc", "bytes_per_doc", max_bytes_per_doc,
                              unit="bytes/doc"))
    if max_index_gb is not None:
        out.append(Constraint("max-index-gb", "index_gb", max_index_gb, unit="GB"))
    if max_p95_ms is not None:
        out.append(Constraint("max-p95-ms", "search_p95_ms", max_p95_ms, unit="ms"))
    if min_docs_per_s is not None:
        out.append(Constraint("min-docs-per-s", "encode_docs_per_s", min_docs_per_s,
                              upper=False, unit="docs/s"))
    if max_params is not None:
        out.append(Constraint("max-params", "n_parameters", max_params, unit="parameters"))
    if open_weights:
        out.append(Constraint("open-weights", "open_weights", True))
    return out


COST_COLUMNS = ["bytes_per_doc", "index_bytes", "search_p95_ms", "encode_docs_per_s"]


def entry_costs(ranking: Ranking, runs: pd.DataFrame, details: pd.DataFrame,
                corpus_docs: int | None = None, with_meta: bool = True) -> pd.DataFrame:
    """One row per ranked entry: quality, costs averaged over tasks, metadata (None: unknown, or
    not looked up when ``with_meta`` is False), hardware."""
    runs = runs[runs["entry"].isin(ranking.frame["entry"])]
    costs = runs.groupby("entry")[COST_COLUMNS].mean()
    model = runs.groupby("entry")["model"].first()
    first_key = runs.groupby("entry")["run_key"].first()
    table = ranking.frame.set_index("entry")[["mean", "rank", "rank_low", "rank_high"]]
    table = table.join(costs).join(model)
    metas = [model_meta(m, details["extra"].get(k)) if with_meta else {}
             for m, k in zip(table["model"], first_key.reindex(table.index), strict=True)]
    for f in ("n_parameters", "license", "open_weights", "max_tokens", "source"):
        table[f] = [m.get(f) for m in metas]
    table["index_gb"] = (table["bytes_per_doc"] * corpus_docs / 1e9) if corpus_docs else np.nan
    table["hardware"] = entry_hardware(runs, details).reindex(table.index)
    table["row"] = np.arange(len(table))  # row of ranking.samples
    return table


@dataclass
class Pick:
    best: str | None
    table: pd.DataFrame  # every entry, with 'fits' and one pass column per constraint
    tied: list[str]  # fitting entries tied with the best, cheapest first (best included)
    relax: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _cheapest_order(frame: pd.DataFrame, cons: Sequence[Constraint]) -> list[str]:
    keys = [c.column for c in cons if not isinstance(c.limit, bool)] or ["bytes_per_doc"]
    signs = {c.column: (1 if c.upper else -1) for c in cons}
    ordered = frame.assign(**{f"_k{i}": frame[k].astype(float) * signs.get(k, 1)
                              for i, k in enumerate(keys)})
    return ordered.sort_values([f"_k{i}" for i in range(len(keys))] + ["mean"],
                               ascending=[True] * len(keys) + [False],
                               na_position="last").index.tolist()


def pick(table: pd.DataFrame, samples: np.ndarray, cons: Sequence[Constraint]) -> Pick:
    table = table.copy()
    fits = pd.Series(True, index=table.index)
    for c in cons:
        table[f"pass:{c.name}"] = c.passes(table[c.column])
        fits &= table[f"pass:{c.name}"]
    table["fits"] = fits
    notes = [f"{int(table[c.column].isna().sum())} entr(ies) with unknown {c.column} "
             f"left out by --{c.name}" for c in cons if table[c.column].isna().any()]
    hw = mixed_hardware_note(table["hardware"])
    if hw and any(c.column in ("search_p95_ms", "encode_docs_per_s") for c in cons):
        notes.append(hw)
    if not fits.any():
        cheapest = _cheapest_order(table, cons)[0]
        costs = ", ".join(f"{c.column} {_fmt(table.at[cheapest, c.column])}" for c in cons)
        raise HarnessError(f"nothing fits the budget; the cheapest entry is {cheapest} "
                           f"({costs}; mean {table.at[cheapest, 'mean']:.4f})")
    fitting = table[fits]
    top = fitting["mean"].max()
    best = _cheapest_order(fitting[fitting["mean"] == top], cons)[0]
    lead = samples[int(table.at[best, "row"])]
    share = (samples[fitting["row"].to_numpy(dtype=int)] >= lead).mean(axis=1)
    tied_rows = fitting[(share >= (1 - LEVEL) / 2) | (fitting["mean"] >= top)]
    return Pick(best, table, _cheapest_order(tied_rows, cons),
                [r for c in cons if (r := relax(table, cons, c, best)) is not None], notes)


def relax(table: pd.DataFrame, cons: Sequence[Constraint], c: Constraint,
          best: str) -> dict | None:
    """The next frontier point beyond constraint ``c`` (others kept): the cheapest entry on c's
    cost that beats the current best, and the quality it buys per unit of extra budget."""
    others = pd.Series(True, index=table.index)
    for o in cons:
        if o is not c:
            others &= table[f"pass:{o.name}"]
    base = float(table.at[best, "mean"])
    better = table[others & ~table[f"pass:{c.name}"] & (table["mean"] > base)]
    out = {"constraint": c.name, "limit": c.limit, "unit": c.unit}
    if isinstance(c.limit, bool):
        if better.empty:
            return {**out, "buys": "nothing", "entry": None}
        top = better.sort_values("mean", ascending=False).index[0]
        return {**out, "entry": top, "delta_quality": float(better.at[top, "mean"] - base),
                "buys": "dropping it"}
    known = better[better[c.column].notna()]
    if known.empty:
        return {**out, "buys": "nothing", "entry": None}
    cost = known[c.column].astype(float)
    step = cost.min() if c.upper else cost.max()
    at_step = known[cost == step].sort_values("mean", ascending=False)
    nxt = at_step.index[0]
    d_q = float(at_step.at[nxt, "mean"] - base)
    d_cost = abs(float(step) - float(c.limit))
    return {**out, "entry": nxt, "new_limit": float(step), "delta_cost": d_cost,
            "delta_quality": d_q,
            "quality_per_unit": d_q / d_cost if d_cost else float("inf"), "buys": "quality"}


def _fmt(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "unknown"
    return f"{value:.4g}" if isinstance(value, float | int | np.floating) else str(value)
