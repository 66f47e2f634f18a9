"""Every board page through streamlit.testing's AppTest, on a store filled by real `harness run`s.

Numbers on the pages are checked against independent computations from the same DuckDB file.
"""

from __future__ import annotations

import ast
import hashlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
import streamlit as st
from click.testing import CliRunner
from scipy import stats
from streamlit.testing.v1 import AppTest

from harness.cli import main
from harness.data_root import REPO_ROOT
from tests.test_board_data import board_db  # noqa: F401 - the shared session fixture

APP = str(REPO_ROOT / "leaderboard" / "app.py")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sql(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture
def app(board_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:  # noqa: F811
    monkeypatch.setenv("HARNESS_BOARD_DB", str(board_db))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    yield at
    # Releases the cached read-only connection (closed by on_release): a DuckDB file cannot be
    # opened for writing in a process that still holds it read-only.
    st.cache_resource.clear()
    st.cache_data.clear()


def _open(at: AppTest, page: str, **params: str) -> AppTest:
    at.switch_page(f"views/{page}.py")
    at.query_params.clear()
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _table(at: AppTest, *columns: str):  # noqa: ANN202 - a DataFrame
    """The first table on the page that has these columns."""
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def _with_intervals(at: AppTest) -> AppTest:
    """Reruns the page until the background bootstrap's intervals are in the table, as the
    browser's poll does (a small store's usually are on the first render already)."""
    for _ in range(100):
        if not any("being computed" in c.value for c in at.caption):
            return at
        time.sleep(0.1)
        at.run()
    raise AssertionError("the intervals never arrived")


def _every_entry(at: AppTest) -> AppTest:
    """Both tasks, every variant listed (the default view folds variants and picks the task set
    that three entries cover)."""
    at.multiselect(key="lb_tasks").set_value(["NFCorpus", "SciFact"])
    at.toggle(key="lb_variants").set_value(True).run()
    assert not at.exception, at.exception
    return _with_intervals(at)


def test_leaderboard_default_view(app: AppTest, board_db: Path) -> None:  # noqa: F811
    """The first page: the largest task set covered by >= 3 entries (SciFact: 5 entries; adding
    NFCorpus leaves 1), every variant folded under its model, a Borda rank, metadata columns."""
    assert app.selectbox(key="lb_preset").value.startswith("Largest task set")
    assert app.multiselect(key="lb_tasks").value == ["SciFact"]
    table = app.dataframe[0].value
    assert list(table["model"]) == sorted(table["model"], key=list(table["model"]).index)
    assert sorted(table["model"]) == ["all-MiniLM-L6-v2", "bm25", "wordllama-l2-256"]
    assert table["mean"].notna().sum() >= 3
    assert dict(zip(table["model"], table["variants"], strict=True))["all-MiniLM-L6-v2"] == 2
    truth = dict(_sql(board_db, "SELECT model, main_score FROM runs WHERE task = 'SciFact' "
                      "AND variant = ''"))
    assert dict(zip(table["model"], table["mean"], strict=True)) == pytest.approx(truth)
    # One task: the Borda rank is the rank by score.
    assert list(table.sort_values("mean", ascending=False)["borda_rank"]) == [1, 2, 3]
    assert {"parameters", "dim", "max_tokens", "memory_mb"} <= set(table.columns) | \
        {"parameters"} and "params" in table.columns
    dims = dict(zip(table["model"], table["dim"], strict=True))
    assert dims["all-MiniLM-L6-v2"] == "384" and dims["wordllama-l2-256"] == "256"
    app.selectbox(key="lb_preset").select("Everything").run()
    assert app.multiselect(key="lb_tasks").value == ["NFCorpus", "SciFact"]
    app.multiselect(key="lb_tasks").set_value(["NFCorpus"]).run()
    assert app.selectbox(key="lb_preset").value == "Custom"


def test_leaderboard_means_coverage_and_ci(app: AppTest, board_db: Path) -> None:  # noqa: F811
    table = _every_entry(app).dataframe[0].value.set_index(["model", "tag"])
    scores = {(m, v, t): s for m, v, t, s in
              _sql(board_db, "SELECT model, variant, task, main_score FROM runs")}
    assert len(table) == 5
    # Family tags: the compression spec (runs.variant) is shown with a 'compressed' family.
    assert set(table.index) == {
        ("wordllama-l2-256", "dense"), ("all-MiniLM-L6-v2", "dense"), ("bm25", "sparse"),
        ("all-MiniLM-L6-v2", "compressed · int8"), ("all-MiniLM-L6-v2", "compressed · binary")}
    wl = table.loc[("wordllama-l2-256", "dense")]
    assert wl["coverage"] == "2/2"
    expected_mean = (scores[("wordllama-l2-256", "", "SciFact")]
                     + scores[("wordllama-l2-256", "", "NFCorpus")]) / 2
    assert wl["mean"] == pytest.approx(expected_mean, abs=1e-12)
    # The others have no NFCorpus run: no mean (not a mean over the one task they have).
    for key in table.index.drop(("wordllama-l2-256", "dense")):
        row = table.loc[key]
        assert row["coverage"] == "1/2" and np.isnan(row["mean"]) and np.isnan(row["ci_low"])
        assert np.isnan(row["NFCorpus"])
    mini = table.loc[("all-MiniLM-L6-v2", "dense")]
    assert mini["SciFact"] == pytest.approx(scores[("all-MiniLM-L6-v2", "", "SciFact")])
    binary = table.loc[("all-MiniLM-L6-v2", "compressed · binary")]
    assert binary["SciFact"] == pytest.approx(scores[("all-MiniLM-L6-v2", "binary", "SciFact")])
    assert table.index[0] == ("wordllama-l2-256", "dense")  # entries without a mean sort last
    # The CI agrees with an independent bootstrap of the same per-query scores (other seed).
    rng = np.random.default_rng(7)
    boot = np.zeros(4000)
    for task in ("SciFact", "NFCorpus"):
        vals = np.array([v for (v,) in _sql(
            board_db, "SELECT q.value FROM query_scores q JOIN runs r USING (run_key) "
            "WHERE r.model = ? AND r.task = ? AND q.metric = r.main_metric",
            ["wordllama-l2-256", task])])
        boot += vals[rng.integers(0, len(vals), (4000, len(vals)))].mean(axis=1) / 2
    low, high = np.percentile(boot, [2.5, 97.5])
    assert wl["ci_low"] < wl["mean"] < wl["ci_high"]
    assert wl["ci_low"] == pytest.approx(low, abs=0.015)
    assert wl["ci_high"] == pytest.approx(high, abs=0.015)


def test_filter_changes_table(app: AppTest, board_db: Path) -> None:  # noqa: F811
    app.toggle(key="lb_variants").set_value(True).run()
    app.multiselect(key="lb_tasks").set_value(["SciFact"]).run()
    assert not app.exception
    table = _with_intervals(app).dataframe[0].value
    truth = sorted(_sql(board_db, "SELECT main_score, model, variant FROM runs "
                        "WHERE task = 'SciFact'"), reverse=True)
    assert list(table["mean"]) == pytest.approx([s for s, _, _ in truth])  # re-ranked
    assert set(table["coverage"]) == {"1/1"}
    assert "NFCorpus" not in table.columns
    assert (table["ci_low"] < table["mean"]).all() and (table["mean"] < table["ci_high"]).all()
    app.multiselect(key="lb_families").set_value(["sparse"]).run()
    assert list(app.dataframe[0].value["model"]) == ["bm25"]
    app.multiselect(key="lb_families").set_value(["compressed", "dense", "sparse"]).run()
    app.selectbox(key="lb_sort").select("model").run()
    assert list(app.dataframe[0].value["model"]) == sorted(m for _, m, _ in truth)
    app.toggle(key="lb_variants").set_value(False).run()  # folded: one row per model
    assert list(app.dataframe[0].value["model"]) == sorted({m for _, m, _ in truth})
    app.text_input(key="lb_search").input("wordllama").run()
    assert list(app.dataframe[0].value["model"]) == ["wordllama-l2-256"]


@pytest.mark.parametrize("hostile", ["'; DROP TABLE runs; --", "%", "' OR '1'='1",
                                     "wordllama') OR (1=1"])
def test_hostile_filter_is_only_data(app: AppTest, board_db: Path, hostile: str) -> None:  # noqa: F811
    before = _sha(board_db)
    app.text_input(key="lb_search").input(hostile).run()
    assert not app.exception
    assert [i.value for i in app.info] == ["No model matches these filters."]
    app.text_input(key="lb_search").input("").run()
    assert len(app.dataframe[0].value) == 3  # the tables are all still there (3 models)
    assert _sha(board_db) == before


def test_hostile_url_parameters(app: AppTest, board_db: Path) -> None:  # noqa: F811
    before = _sha(board_db)
    at = app.switch_page("views/run.py")
    at.query_params["run"] = "x' OR '1'='1"
    at.run()
    assert not at.exception
    assert any("Unknown run key" in e.value for e in at.error)
    _open(app, "drilldown", task="SciFact'; DROP TABLE task_qrels; --", q="1' OR 1=1 --")
    _open(app, "compare", task="SciFact", a="' OR 1=1 --", b="x")
    assert _sql(board_db, "SELECT count(*) FROM task_qrels")[0][0] > 0
    assert _sha(board_db) == before


def test_tradeoff_frontier_and_costs(app: AppTest, board_db: Path) -> None:  # noqa: F811
    at = _open(app, "tradeoff")
    assert at.multiselect(key="to_tasks").value == ["SciFact"]  # the task with most runs
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = [t.get("name") for t in chart["data"]]
    assert names == ["compressed", "dense", "sparse", "Pareto frontier"]  # coloured by family
    cfg = json.loads(at.get("plotly_chart")[0].proto.config)
    assert cfg["toImageButtonOptions"]["format"] == "png"  # PNG download from the toolbar
    runs = _sql(board_db, "SELECT model, variant, bytes_per_doc, encode_docs_per_s, main_score "
                "FROM runs WHERE task = 'SciFact'")

    def front(col: int, lower: bool) -> set[str]:  # brute force: nobody at least as good on both
        out = set()
        for r in runs:
            better = [o for o in runs if o is not r
                      and (o[col] <= r[col] if lower else o[col] >= r[col]) and o[4] >= r[4]
                      and (o[col] != r[col] or o[4] != r[4])]
            if not better:
                out.add(r[0] + (f" [{r[1]}]" if r[1] else ""))
        return out

    shown = _table(at, "entry", "tag", "quality")
    assert set(shown["entry"]) == front(2, lower=True)
    assert len(shown) >= 2  # binary is smallest, bm25 best on this subset
    at.selectbox(key="to_cost").select("encode throughput").run()
    assert set(_table(at, "entry", "tag", "quality")["entry"]) == front(3, lower=False)
    for cost in ("peak RSS", "query search p50 latency"):
        at.selectbox(key="to_cost").select(cost).run()
        assert not at.exception
    at.multiselect(key="to_tasks").set_value(["NFCorpus", "SciFact"]).run()
    at.selectbox(key="to_cost").select("bytes per document").run()
    # Only wordllama covers both tasks.
    assert list(_table(at, "entry", "tag", "quality")["entry"]) == ["wordllama-l2-256"]
    assert any(b.proto.label.startswith("Download chart data") for b in at.get("download_button"))


def test_compare_statistics_and_drilldown(app: AppTest, board_db: Path) -> None:  # noqa: F811
    key_a, key_b = (k for (k,) in _sql(board_db, "SELECT run_key FROM runs WHERE task = "
                                       "'SciFact' AND variant = '' AND model <> 'bm25' "
                                       "ORDER BY model"))
    at = _open(app, "compare", task="SciFact", a=key_a, b=key_b)
    assert (at.selectbox(key="cmp_a").value, at.selectbox(key="cmp_b").value) == (key_a, key_b)
    rows = _sql(board_db, "SELECT a.value, b.value FROM query_scores a JOIN query_scores b "
                "USING (query_id, metric) WHERE a.run_key = ? AND b.run_key = ? "
                "AND metric = 'ndcg_at_10' ORDER BY query_id", [key_a, key_b])
    a, b = np.array(rows).T
    metrics = {m.label: m.value for m in at.metric}
    wins, ties, losses = (int(x) for x in metrics["B wins / ties / losses"].split(" / "))
    assert (wins, ties, losses) == ((b > a).sum(), (b == a).sum(), (b < a).sum())
    assert float(metrics["paired t-test p"]) == pytest.approx(stats.ttest_rel(b, a).pvalue,
                                                              rel=1e-3)
    perm_p = float(metrics["paired randomisation p"])
    assert 0 < perm_p < 1 and abs(perm_p - stats.ttest_rel(b, a).pvalue) < 0.05
    largest = _table(at, "query_id", "diff", "open")
    assert largest["diff"].abs().iloc[0] == pytest.approx(np.abs(b - a).max())
    assert largest["open"].iloc[0].startswith("drilldown?task=SciFact&q=")
    pick = at.selectbox(key="cmp_pick").value
    at.button(key="cmp_open").click().run()
    assert not at.exception
    text = _sql(board_db, "SELECT text FROM task_queries WHERE task = 'SciFact' AND query_id = ?",
                [pick])[0][0]
    assert [t.value for t in at.text] == [text]  # the drill-down page, on that query
    assert at.query_params["runs"] == f"{key_a},{key_b}"


def test_drilldown_marks_relevant_documents(app: AppTest, board_db: Path) -> None:  # noqa: F811
    key, qid = _sql(board_db, "SELECT r.run_key, min(q.query_id) FROM runs r JOIN query_scores "
                    "q USING (run_key) WHERE r.model = 'all-MiniLM-L6-v2' AND variant = '' "
                    "GROUP BY 1")[0]
    at = _open(app, "drilldown", task="SciFact", q=qid, runs=key)
    top = _table(at, "rank", "doc_id", "relevant")
    expected = _sql(board_db, "SELECT r.doc_id, coalesce(j.relevance, -1) FROM rankings r "
                    "LEFT JOIN task_qrels j ON j.query_id = r.query_id AND j.doc_id = r.doc_id "
                    "AND j.task = 'SciFact' WHERE r.run_key = ? AND r.query_id = ? "
                    "AND r.rank <= 10 ORDER BY r.rank", [key, qid])
    assert list(top["doc_id"]) == [d for d, _ in expected]
    assert [m.startswith("✓") for m in top["relevant"]] == [r > 0 for _, r in expected]
    judged = _table(at, "doc_id", "relevance")
    assert len(judged) == _sql(board_db, "SELECT count(*) FROM task_qrels WHERE task = "
                               "'SciFact' AND query_id = ?", [qid])[0][0]
    ndcg = _sql(board_db, "SELECT value FROM query_scores WHERE run_key = ? AND query_id = ? "
                "AND metric = 'ndcg_at_10'", [key, qid])[0][0]
    assert any(f"ndcg_at_10 on this query: {ndcg:.4f}" in c.value for c in at.caption)


def test_run_page_shows_everything(app: AppTest, board_db: Path) -> None:  # noqa: F811
    key, spec = _sql(board_db, "SELECT run_key, spec FROM runs WHERE model = "
                     "'all-MiniLM-L6-v2' AND variant = 'int8'")[0]
    at = _open(app, "run", run=key)
    assert [t.label for t in at.tabs] == ["Scores", "Cost", "Timings", "Config", "Environment",
                                          "Extra"]
    shown = [json.loads(j.proto.body) for j in at.json]
    assert json.loads(spec) in shown  # the full config, exactly as stored
    assert any("python" in json.dumps(j).lower() for j in shown)  # the environment
    scores = _table(at, "metric", "value")
    assert set(scores["metric"]) >= {"ndcg_at_10", "recall_at_100"}
    # The plain model's published score is shown beside a compressed variant too.
    published = _sql(board_db, "SELECT value FROM published WHERE model = 'all-MiniLM-L6-v2' "
                     "AND task = 'SciFact' AND metric IN ('main_score', 'ndcg_at_10') "
                     "ORDER BY metric = 'main_score' DESC")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["published"] == (f"{published[0][0]:.5f}" if published else "unknown")
    # No published WordLlama score exists: said so, not left blank.
    key = _sql(board_db, "SELECT run_key FROM runs WHERE model = 'wordllama-l2-256'")[0][0]
    at = _open(app, "run", run=key)
    assert {m.label: m.value for m in at.metric}["published"] == "unknown"


def test_run_page_published_delta(app: AppTest, board_db: Path) -> None:  # noqa: F811
    key, ours = _sql(board_db, "SELECT run_key, main_score FROM runs WHERE model = 'bm25'")[0]
    published = _sql(board_db, "SELECT value FROM published WHERE model = 'bm25' AND task = "
                     "'SciFact' AND metric = 'main_score'")[0][0]
    at = _open(app, "run", run=key)
    metric = next(m for m in at.metric if m.label == "published")
    assert metric.value == f"{published:.5f}"
    assert metric.delta == f"{ours - published:+.5f} (ours − published)"
    table = _table(at, "metric", "ours", "published", "delta")
    row = table[table["metric"] == "main_score"].iloc[0]
    assert row["delta"] == pytest.approx(ours - published)
    # A subset run: the page says the delta is a reproduction check only on the full test set.
    assert any("only when that is the full published test set" in c.value for c in at.caption)


def test_board_never_writes(app: AppTest, board_db: Path) -> None:  # noqa: F811
    from leaderboard import queries as q

    before = _sha(board_db)
    for page in ("tradeoff", "compare", "drilldown", "run", "leaderboard"):
        _open(app, page)
    con = q._connection(q.db_version(board_db))
    with pytest.raises(duckdb.Error, match="read-only"):
        con.cursor().execute("CREATE TABLE intruder (a INTEGER)")
    assert _sha(board_db) == before


def test_board_does_not_block_writers(board_db: Path, tmp_path: Path,  # noqa: F811
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A board left open must not make `harness run` fail on DuckDB's file lock; while a writer
    holds the file, the board serves its last snapshot and says so."""
    db = tmp_path / "live.duckdb"
    shutil.copyfile(board_db, db)
    monkeypatch.setenv("HARNESS_BOARD_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert len(at.dataframe[0].value) == 3  # three models, variants folded
    # A real writer in another process, holding the file while the board re-renders.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time\n"
         "con = duckdb.connect(sys.argv[1])\n"
         "con.execute(\"DELETE FROM runs WHERE model = 'bm25'\")\n"
         "print('holding', flush=True)\ntime.sleep(60)", str(db)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        at.run()
        assert not at.exception and not at.error
        assert any("is writing it" in w.value for w in at.warning)
        assert len(at.dataframe[0].value) == 3  # the snapshot from before the writer
    finally:
        holder.kill()  # our own child, by its handle
        holder.wait()
    at.run()
    assert not at.warning
    assert "bm25" not in set(at.dataframe[0].value["model"])  # the writer's change is shown
    st.cache_resource.clear()
    st.cache_data.clear()


def test_sts_interval_over_pairs(board_db: Path, tmp_path: Path,  # noqa: F811
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A real STS12 run (a Spearman main score, not a mean) gets an interval from its pairs."""
    db = tmp_path / "sts.duckdb"
    shutil.copyfile(board_db, db)
    result = CliRunner().invoke(main, ["run", "-m", "wordllama-l2-256", "-t", "STS12", "--db",
                                       str(db), "--no-progress"])
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("HARNESS_BOARD_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.multiselect(key="lb_tasks").set_value(["STS12"]).run()
    row = _with_intervals(at).dataframe[0].value.iloc[0]
    pairs = _sql(db, "SELECT max(value) FILTER (WHERE metric = 'cosine_similarity'), "
                 "max(value) FILTER (WHERE metric = 'gold_score') FROM query_scores q JOIN runs "
                 "r USING (run_key) WHERE r.task = 'STS12' GROUP BY query_id")
    predicted, gold = np.array(pairs).T
    assert row["mean"] == pytest.approx(stats.spearmanr(predicted, gold).statistic, abs=1e-6)
    boot = stats.bootstrap((predicted, gold), lambda x, y: stats.spearmanr(x, y).statistic,
                           paired=True, vectorized=False, n_resamples=300, method="percentile",
                           random_state=3)
    assert row["ci_low"] == pytest.approx(boot.confidence_interval.low, abs=0.01)
    assert row["ci_high"] == pytest.approx(boot.confidence_interval.high, abs=0.01)
    st.cache_resource.clear()
    st.cache_data.clear()


def test_sql_is_static() -> None:
    """Every query the board runs is a constant of leaderboard/sql.py; UI values travel only as
    parameters."""
    from leaderboard import sql

    constants = {n for n in vars(sql) if n.isupper() and isinstance(getattr(sql, n), str)}
    readers = ("queries.py", "intervals.py")  # the modules that run SQL
    calls = []
    for name in readers:
        tree = ast.parse((REPO_ROOT / "leaderboard" / name).read_text())
        # _df itself passes its ``text`` argument on; its callers are what is checked.
        inner = {id(n) for f in ast.walk(tree)
                 if isinstance(f, ast.FunctionDef) and f.name == "_df" for n in ast.walk(f)}
        calls += [n for n in ast.walk(tree) if isinstance(n, ast.Call) and id(n) not in inner
                  and isinstance(n.func, ast.Name | ast.Attribute)
                  and getattr(n.func, "id", getattr(n.func, "attr", "")) in ("_df", "execute",
                                                                            "sql")]
    assert len(calls) >= 15
    for call in calls:
        text = call.args[1] if getattr(call.func, "id", "") == "_df" else call.args[0]
        assert isinstance(text, ast.Attribute) and isinstance(text.value, ast.Name) \
            and text.value.id == "sql" and text.attr in constants, ast.unparse(call)
    for page in (REPO_ROOT / "leaderboard").rglob("*.py"):
        text = page.read_text()
        assert (".execute(" not in text and ".sql(" not in text) \
            or page.name in (*readers, "cli.py"), page


def test_reduced_precision_entry_shows_its_delta_to_the_fp32_twin(
        board_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """A bf16 run beside its fp32 twin: `harness results` (table and JSON), the leaderboard's
    variant rows and the Run page show the difference. This CPU (AVX2 only, no GPU) refuses to
    encode in bf16, so the bf16 run is a copy of a real fp32 run's rows under a bf16 variant
    and key with a lowered score: the one fake here, standing for hardware we do not have."""
    db = tmp_path / "bf16.duckdb"
    shutil.copyfile(board_db, db)
    con = duckdb.connect(str(db))
    key, score = con.execute("SELECT run_key, main_score FROM runs WHERE model = "
                             "'wordllama-l2-256' AND task = 'SciFact'").fetchone()
    bf16 = "bf16" + key[4:]
    con.execute("CREATE TEMP TABLE r AS SELECT * FROM runs WHERE run_key = ?", [key])
    con.execute("UPDATE r SET run_key = ?, variant = 'precision=bf16', "
                "main_score = main_score - 0.001, created_at = created_at + INTERVAL 1 SECOND",
                [bf16])
    con.execute("INSERT INTO runs SELECT * FROM r")
    con.close()
    result = CliRunner().invoke(main, ["results", "-t", "SciFact", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "Δfp32 -0.00100" in result.output, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 120
    records = json.loads(CliRunner().invoke(main, ["results", "--json", "-t", "SciFact", "--db",
                                                   str(db)]).output)
    deltas = {r["run_key"]: r["delta_to_fp32"] for r in records}
    assert deltas[bf16] == pytest.approx(-0.001) and deltas[key] is None
    monkeypatch.setenv("HARNESS_BOARD_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.multiselect(key="lb_tasks").set_value(["SciFact"])
    at.toggle(key="lb_variants").set_value(True).run()
    table = at.dataframe[0].value.set_index(["model", "tag"])
    assert table.loc[("wordllama-l2-256", "dense · precision=bf16"), "vs_fp32"] == \
        pytest.approx(-0.001)
    assert np.isnan(table.loc[("wordllama-l2-256", "dense"), "vs_fp32"])
    at = _open(at, "run", run=bf16)
    metric = next(m for m in at.metric if m.label == "ndcg_at_10")
    assert metric.value == f"{score - 0.001:.5f}" and metric.delta == "-0.00100 vs fp32 twin"
    st.cache_resource.clear()
    st.cache_data.clear()
