"""Texts for head-to-head and the hard-query lens, on the real SciFact-subset store: documents
come from the local data only when its checksum is the run's; hard queries match a plain SQL count
over the stored per-query rows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from harness.decide.hard import hard_queries
from harness.decide.load import connect
from harness.decide.texts import documents, query_texts, top_documents
from tests.test_decide_cli import decide_db  # noqa: F401 - the shared session fixture

HARD_SQL = """
SELECT count(*) FROM (
    SELECT q.query_id FROM query_scores q
    JOIN runs r ON q.run_key = r.run_key AND q.metric = r.main_metric
    WHERE r.task = 'SciFact' GROUP BY q.query_id HAVING avg((q.value = 0)::INT) >= 0.8)
"""


def _data_sha(db: Path) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT DISTINCT json_extract_string(spec, '$.task.data_sha256') "
                           "FROM runs").fetchone()[0]
    finally:
        con.close()


def test_documents_only_from_matching_data(decide_db: Path, scifact_subset: Path,  # noqa: F811
                                           tmp_path: Path) -> None:
    sha = _data_sha(decide_db)
    docs = documents("SciFact", "test", sha, scifact_subset)
    assert docs.note == ""
    corpus = scifact_subset / "beir" / "scifact" / "corpus.jsonl"
    first = json.loads(corpus.read_text().splitlines()[0])
    assert docs.texts[str(first["_id"])] == (first["title"], first["text"])

    changed = tmp_path / "changed"
    shutil.copytree(scifact_subset / "beir", changed / "beir")
    lines = (changed / "beir" / "scifact" / "corpus.jsonl").read_text().splitlines()
    (changed / "beir" / "scifact" / "corpus.jsonl").write_text("\n".join(lines[1:]) + "\n")
    altered = documents("SciFact", "test", sha, changed)
    assert altered.texts == {} and "differs from the data these runs used" in altered.note

    (tmp_path / "empty").mkdir()
    absent = documents("SciFact", "test", sha, tmp_path / "empty")
    assert absent.texts == {} and "showing document ids" in absent.note


def test_top_documents_and_query_texts_come_from_the_store(decide_db: Path) -> None:  # noqa: F811
    con = connect(decide_db)
    try:
        sha = _data_sha(decide_db)
        texts = query_texts(con, "SciFact", sha)
        key = con.execute("SELECT run_key FROM runs WHERE model = 'bm25'").fetchone()[0]
        qid = sorted(texts)[0]
        top = top_documents(con, [key], [qid], 5)
    finally:
        con.close()
    assert len(texts) == 40 and all(t.strip() for t in texts.values())
    assert top["rank"].tolist() == [1, 2, 3, 4, 5]


def test_hard_query_count_equals_sql_count(decide_db: Path) -> None:  # noqa: F811
    con = connect(decide_db)
    try:
        hard = hard_queries(con, ["SciFact"])
        expected = con.execute(HARD_SQL).fetchone()[0]
        zero_rows = con.execute("SELECT count(*) FROM query_scores WHERE metric = 'ndcg_at_10' "
                                "AND value = 0").fetchone()[0]
    finally:
        con.close()
    assert len(hard) == expected and zero_rows > 0
    assert (hard["zero"] >= 0.8 * hard["entries"]).all()
