"""Tables of stored results for the CLI (`harness results`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from harness.errors import HarnessError
from harness.export import runs_where
from harness.store import Store

COLUMNS = ["model", "family", "variant", "task", "task_type", "main_metric", "main_score",
           "bytes_per_doc", "index_bytes", "encode_docs_per_s", "query_encode_ms",
           "search_p50_ms", "search_p95_ms", "search_qps", "peak_rss_mb", "threads",
           # ANN fidelity against exact search on the same vectors (NULL for exact runs)
           *(f"""CAST(json_extract(extra, '$.fidelity."recall@{d}"') AS DOUBLE) """
             f"AS ann_recall_at_{d}" for d in (10, 100)),
           "CAST(json_extract(extra, '$.fidelity.delta_ndcg_at_10') AS DOUBLE) AS ann_delta_ndcg",
           "json_extract_string(environment, '$.cpu') AS cpu",
           "n_queries", "n_docs", "run_key", "created_at"]


def results_frame(db: Path, tasks: Sequence[str] = (), models: Sequence[str] = ()) -> pd.DataFrame:
    if not Path(db).is_file():
        raise HarnessError(f"{db}: no results yet (run `harness run` first)")
    with Store(db, read_only=True) as store:
        where, params = runs_where(models, tasks)
        sql = (f"SELECT {', '.join(COLUMNS)} FROM runs WHERE 1=1{where} "
               "ORDER BY task, main_score DESC")
        return store.con.execute(sql, params).df()


# The default table fits a 120-column terminal; --wide adds every cost column.
NARROW = ["model", "task", "main_metric", "main_score", "bytes_per_doc", "encode_docs_per_s",
          "search_p50_ms", "run_key"]
WIDE = ["model", "family", "task", "main_metric", "main_score", "bytes_per_doc", "index_bytes",
        "encode_docs_per_s", "query_encode_ms", "search_p50_ms", "search_p95_ms", "search_qps",
        "ann_recall_at_10", "peak_rss_mb", "threads", "run_key"]
SHORT = {"main_metric": "metric", "main_score": "score", "bytes_per_doc": "B/doc",
         "index_bytes": "index B", "encode_docs_per_s": "docs/s", "query_encode_ms": "q enc ms",
         "search_p50_ms": "p50 ms", "search_p95_ms": "p95 ms", "search_qps": "q/s",
         "ann_recall_at_10": "ANN R@10", "peak_rss_mb": "RSS MB", "threads": "thr",
         "run_key": "key"}
NARROW_WIDTH = 120


def _cell(col: str, v: object, wide: bool) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "–"
    if col == "main_score":
        return f"{v:.5f}"
    if col in ("search_p50_ms", "search_p95_ms", "query_encode_ms", "ann_recall_at_10"):
        return f"{v:.3g}"
    if isinstance(v, float):
        return f"{v:,.1f}" if wide or v < 1e5 else f"{v:.3g}"
    if col == "index_bytes":
        return f"{v:,}"
    if col == "run_key":
        return str(v)[:12]
    return str(v) or "-"


def precision_deltas(frame: pd.DataFrame) -> pd.Series:
    """Per run: main score minus its fp32 twin's (same model, task and data, the variant without
    its precision; the newest of each), NaN for fp32 runs and runs whose twin is not stored."""
    from harness.spec import precision_twin_deltas

    data = ["model", "task", "n_queries", "n_docs"]
    newest = frame.sort_values("created_at").drop_duplicates([*data, "variant"], keep="last")
    rows = [(tuple(r[:4]), r[4], r[5]) for r in
            newest[[*data, "variant", "main_score"]].itertuples(index=False)]
    deltas = pd.Series(precision_twin_deltas(rows), index=newest.index, dtype=float)
    return deltas.reindex(frame.index)


def print_results(frame: pd.DataFrame, *, wide: bool = False) -> None:
    shown = WIDE if wide else NARROW
    table = Table(title="results")
    for col in shown:
        table.add_column(SHORT.get(col, col), overflow="fold")
    deltas = precision_deltas(frame)
    for i, row in frame.iterrows():
        cells = [_cell(col, row[col], wide) for col in shown]
        if not pd.isna(deltas[i]):  # a bf16/fp16 run: how far from its fp32 twin
            cells[shown.index("main_score")] += f" (Δfp32 {deltas[i]:+.5f})"
        if row["variant"]:  # the variant travels with the model name: one column fewer
            cells[0] = f"{row['model']} [{row['variant']}]"
        table.add_row(*cells)
    if wide:
        Console(width=220).print(table)
        return
    # A terminal narrower than 120 columns wraps cells rather than lines.
    Console(width=NARROW_WIDTH).print(table)
