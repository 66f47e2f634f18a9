"""Tables of stored results for the CLI (`harness results`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from harness.errors import HarnessError
from harness.store import Store

COLUMNS = ["model", "family", "variant", "task", "task_type", "main_metric", "main_score",
           "bytes_per_doc", "encode_docs_per_s", "query_encode_ms", "search_p50_ms",
           "search_qps", "peak_rss_mb", "n_queries", "n_docs", "run_key", "created_at"]


def results_frame(db: Path, tasks: Sequence[str] = (), models: Sequence[str] = ()) -> pd.DataFrame:
    if not Path(db).is_file():
        raise HarnessError(f"{db}: no results yet (run `harness run` first)")
    with Store(db, read_only=True) as store:
        sql = f"SELECT {', '.join(COLUMNS)} FROM runs WHERE 1=1"
        params: list[object] = []
        if tasks:
            sql += f" AND task IN ({', '.join('?' for _ in tasks)})"
            params += list(tasks)
        if models:
            sql += f" AND model IN ({', '.join('?' for _ in models)})"
            params += list(models)
        sql += " ORDER BY task, main_score DESC"
        return store.con.execute(sql, params).df()


def print_results(frame: pd.DataFrame) -> None:
    table = Table(title="results")
    shown = ["model", "family", "variant", "task", "main_metric", "main_score", "bytes_per_doc",
             "encode_docs_per_s", "search_qps", "peak_rss_mb", "run_key"]
    for col in shown:
        table.add_column(col)
    for _, row in frame.iterrows():
        cells = []
        for col in shown:
            v = row[col]
            if v is None or (isinstance(v, float) and pd.isna(v)):
                cells.append("–")
            elif col == "main_score":
                cells.append(f"{v:.5f}")
            elif isinstance(v, float):
                cells.append(f"{v:,.1f}")
            elif col == "run_key":
                cells.append(str(v)[:12])
            else:
                cells.append(str(v) or "-")
        table.add_row(*cells)
    Console(width=200).print(table)
