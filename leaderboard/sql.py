"""The board's SQL: every statement is a constant here; values travel only as ``?`` parameters.

``_CURRENT`` defines the runs the board shows: a task's "current" data version is the one most
runs used (newest on a tie); other versions (e.g. a subset) are hidden and counted. Per
model/variant/task the newest run wins.
"""

# -- the current runs -------------------------------------------------------------------------
# A task's "current" data version is the one most runs used (newest on a tie); other versions
# (e.g. a subset) are hidden and counted. Per model/variant/task the newest run wins.
_CURRENT = """
WITH r AS (  -- 'family' becomes 'compressed' for a compressed variant (its base is kept)
    SELECT * REPLACE (CASE WHEN coalesce(json_extract_string(spec, '$.variant.compression'),
                                         'none') IN ('none', 'fp32') THEN family
                           ELSE 'compressed' END AS family),
           family AS base_family,
           coalesce(json_extract_string(spec, '$.task.data_sha256'), '') AS data_sha
    FROM runs),
versions AS (
    SELECT task, split, data_sha, count(*) AS n, max(created_at) AS newest
    FROM r GROUP BY task, split, data_sha
    QUALIFY row_number() OVER (PARTITION BY task ORDER BY n DESC, newest DESC) = 1),
current AS (
    SELECT r.* FROM r JOIN versions USING (task, split, data_sha)
    QUALIFY row_number() OVER (PARTITION BY model, variant, task
                               ORDER BY created_at DESC, run_key) = 1)
"""

RUN_FIELDS = ("run_key, model, variant, family, base_family, task, task_type, split, "
              "main_metric, main_score, n_queries, n_docs, bytes_per_doc, index_bytes, "
              "encode_docs_per_s, query_encode_ms, search_p50_ms, search_p95_ms, search_qps, "
              "peak_rss_mb, created_at, data_sha")

CURRENT_RUNS_SQL = _CURRENT + f"SELECT {RUN_FIELDS} FROM current ORDER BY task, main_score DESC"
# Hidden = all runs minus the current ones (counted from the cached current runs, not re-derived).
ALL_RUNS_COUNT_SQL = "SELECT count(*) FROM runs"

# Per-query main-metric values of current runs as integer coordinates (task, run within task,
# query within task). Unordered: numpy orders the rows by task (a radix sort, seconds faster than
# DuckDB's sort of millions of rows), so each task is one slice rather than a mask.
PER_QUERY_SQL = _CURRENT + """,
numbered AS (
    SELECT run_key, main_metric, dense_rank() OVER (ORDER BY task) - 1 AS task_i,
           row_number() OVER (PARTITION BY task ORDER BY run_key) - 1 AS run_i
    FROM current),
values AS (
    SELECT n.task_i, n.run_i, q.query_id, q.value
    FROM numbered n JOIN query_scores q ON q.run_key = n.run_key AND q.metric = n.main_metric),
queries AS (  -- numbering the few distinct queries is cheap; the big table is only joined
    SELECT task_i, query_id, row_number() OVER (PARTITION BY task_i ORDER BY query_id) - 1
           AS query_i
    FROM (SELECT DISTINCT task_i, query_id FROM values))
SELECT v.task_i, v.run_i, q.query_i, v.value FROM values v JOIN queries q USING (task_i, query_id)
"""
# Every current run (with or without per-query rows), numbered exactly as above.
PER_QUERY_RUNS_SQL = _CURRENT + """
SELECT dense_rank() OVER (ORDER BY task) - 1 AS task_i,
       row_number() OVER (PARTITION BY task ORDER BY run_key) - 1 AS run_i,
       run_key, task, main_score
FROM current
ORDER BY task_i, run_i
"""
# STS runs (a Spearman main score): each pair's prediction and gold score, to bootstrap the
# correlation over pairs (the per-query path cannot: a correlation is not a mean).
STS_ITEMS_SQL = _CURRENT + """
SELECT c.task, c.run_key, q.query_id,
       max(q.value) FILTER (WHERE q.metric = 'cosine_similarity') AS predicted,
       max(q.value) FILTER (WHERE q.metric = 'gold_score') AS gold
FROM current c JOIN query_scores q ON q.run_key = c.run_key
WHERE c.main_metric LIKE '%spearman' AND q.metric IN ('cosine_similarity', 'gold_score')
GROUP BY c.task, c.run_key, q.query_id
"""
# Quality per run for the trade-off chart: any stored metric, averaged by DuckDB over tasks.
TRADEOFF_SQL = _CURRENT + """
SELECT c.model, c.variant, any_value(c.family) AS family,
       CASE WHEN count(*) = 1 THEN any_value(c.run_key) ELSE NULL END AS run_key,
       string_agg(c.task, ', ' ORDER BY c.task) AS tasks, count(*) AS n_tasks,
       avg(s.value) AS quality, avg(c.bytes_per_doc) AS bytes_per_doc,
       avg(c.index_bytes) AS index_bytes, avg(c.encode_docs_per_s) AS encode_docs_per_s,
       avg(c.query_encode_ms) AS query_encode_ms, avg(c.search_p50_ms) AS search_p50_ms,
       avg(c.search_p95_ms) AS search_p95_ms, avg(c.search_qps) AS search_qps,
       avg(c.peak_rss_mb) AS peak_rss_mb
FROM current c JOIN scores s ON s.run_key = c.run_key
WHERE list_contains(?::VARCHAR[], c.task)
  AND s.metric = CASE WHEN ? = 'main score' THEN c.main_metric ELSE ? END
GROUP BY c.model, c.variant
HAVING count(*) = len(?::VARCHAR[])
"""
METRICS_FOR_TASKS_SQL = _CURRENT + """
SELECT DISTINCT s.metric FROM current c JOIN scores s ON s.run_key = c.run_key
WHERE list_contains(?::VARCHAR[], c.task) ORDER BY s.metric
"""
PAIR_SQL = """
SELECT q.query_id,
       max(q.value) FILTER (WHERE q.run_key = ?) AS a,
       max(q.value) FILTER (WHERE q.run_key = ?) AS b
FROM query_scores q
WHERE (q.run_key = ? OR q.run_key = ?) AND q.metric = ?
GROUP BY q.query_id
HAVING count(*) = 2
ORDER BY q.query_id
"""
QUERY_METRICS_SQL = """
SELECT DISTINCT metric FROM query_scores WHERE run_key = ? ORDER BY metric
"""
QUERY_TEXTS_SQL = """
SELECT query_id, text FROM task_queries WHERE task = ? AND data_sha256 = ? ORDER BY query_id
"""
QRELS_SQL = """
SELECT doc_id, relevance FROM task_qrels
WHERE task = ? AND data_sha256 = ? AND query_id = ? ORDER BY relevance DESC, doc_id
"""
TOP_SQL = """
SELECT r.rank, r.doc_id, r.score, q.relevance
FROM rankings r
LEFT JOIN task_qrels q ON q.task = ? AND q.data_sha256 = ? AND q.query_id = r.query_id
                       AND q.doc_id = r.doc_id
WHERE r.run_key = ? AND r.query_id = ? AND r.rank <= ?
ORDER BY r.rank
"""
QUERY_VALUE_SQL = """
SELECT value FROM query_scores WHERE run_key = ? AND query_id = ? AND metric = ?
"""
ALL_RUNS_SQL = ("SELECT run_key, model, variant, family, task, main_metric, main_score, "
                "created_at FROM runs ORDER BY created_at DESC")
RUN_SQL = """
SELECT *, coalesce(json_extract_string(spec, '$.task.data_sha256'), '') AS data_sha
FROM runs WHERE run_key = ?
"""
SCORES_SQL = "SELECT metric, value FROM scores WHERE run_key = ? ORDER BY metric"
# Published scores of the run's model/task/split beside ours; MTEB's 'main_score' key pairs with
# the run's main metric. The delta is computed here, by DuckDB.
PUBLISHED_SQL = """
SELECT p.metric, s.value AS ours, p.value AS published, s.value - p.value AS delta,
       p.metric IN ('main_score', r.main_metric) AS is_main, p.revision, p.mteb_version, p.source
FROM runs r
JOIN published p ON p.model = r.model AND p.task = r.task AND p.split = r.split
LEFT JOIN scores s ON s.run_key = r.run_key
                  AND s.metric = CASE WHEN p.metric = 'main_score' THEN r.main_metric
                                      ELSE p.metric END
WHERE r.run_key = ?
ORDER BY is_main DESC, p.metric, p.revision
"""
# The newest stored model metadata per model (runs.extra.model_meta, when the runner wrote it).
MODEL_META_SQL = """
SELECT model, arg_max(CAST(json_extract(extra, '$.model_meta') AS VARCHAR), created_at)
       AS model_meta
FROM runs WHERE json_extract(extra, '$.model_meta') IS NOT NULL GROUP BY model
"""
# Tasks whose query texts are stored for their current data version (the drill-down needs them).
TASKS_WITH_TEXTS_SQL = "SELECT DISTINCT task, data_sha256 FROM task_queries"
