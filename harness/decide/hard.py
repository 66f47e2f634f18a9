"""The queries (nearly) every entry fails: per task, the queries on which at least ``share`` of
the entries score 0 on the task's main per-query metric. Often label noise, sometimes a real gap.
"""

from __future__ import annotations

import pandas as pd

THRESHOLD = 0.8

# Per task and query: how many current runs have a value of the main metric, and how many are 0.
# Wrapped around the board's current-run definition so the counts match every other view.
_HARD_SQL = """
SELECT c.task, any_value(c.data_sha) AS data_sha, q.query_id, count(*) AS entries,
       count(*) FILTER (WHERE q.value = 0) AS zero
FROM ({current}) c JOIN query_scores q ON q.run_key = c.run_key AND q.metric = c.main_metric
WHERE list_contains(?::VARCHAR[], c.task)
GROUP BY c.task, q.query_id
HAVING count(*) FILTER (WHERE q.value = 0) >= ? * count(*)
ORDER BY c.task, q.query_id
"""


def hard_queries(con, tasks: list[str], share: float = THRESHOLD) -> pd.DataFrame:  # noqa: ANN001
    """task, data_sha, query_id, entries (with a value), zero (how many scored 0)."""
    from leaderboard.sql import CURRENT_RUNS_SQL

    return con.execute(_HARD_SQL.format(current=CURRENT_RUNS_SQL), [tasks, share]).df()


def counts(hard: pd.DataFrame, tasks: list[str]) -> pd.DataFrame:
    per = hard.groupby("task").size()
    return pd.DataFrame({"task": tasks, "hard_queries": [int(per.get(t, 0)) for t in tasks]})
