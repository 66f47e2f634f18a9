"""Bad local files for the five new task kinds: one line naming file:line:field, exit 2, no
traceback, nothing stored. Each case breaks one real row of a check task built from staged texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.tasks.mteb_tasks import register_check_tasks
from tests import task_type_data as build
from tests.helpers import count_rows, run_cli


def _edit(path: Path, line: int, change: dict) -> None:
    rows = path.read_text().splitlines()
    rows[line - 1] = json.dumps({**json.loads(rows[line - 1]), **change})
    path.write_text("\n".join(rows) + "\n")


def _drop(path: Path, line: int, field: str) -> None:
    rows = path.read_text().splitlines()
    row = json.loads(rows[line - 1])
    del row[field]
    rows[line - 1] = json.dumps(row)
    path.write_text("\n".join(rows) + "\n")


CASES = [  # task, builder, file, how to break line 3, expected message part
    ("Banking77IntentClustering", "clustering", "test.jsonl", {"sentences": "  "},
     "field 'sentences' empty text"),
    ("STSBParaphrasePairs", "pair_classification", "test.jsonl", {"labels": 2},
     "field 'labels' expected 0 or 1, got 2"),
    ("STSBSummarization", "summarization", "test.jsonl", {"relevance": [1.0, 2.0]},
     "field 'relevance' 2 scores for 5 machine summaries"),
    ("Banking77MultiIntent", "multilabel", "test.jsonl", {"label": []},
     "field 'label' expected a non-empty list of labels"),
    ("SciFactBM25Reranking", "reranking", "top_ranked.jsonl", {"corpus-ids": ["no-such-doc"]},
     "field 'corpus-ids' unknown document 'no-such-doc'"),
]


@pytest.mark.parametrize(("task", "builder", "filename", "change", "message"), CASES,
                         ids=[c[0] for c in CASES])
def test_bad_row_is_one_line_exit_2(task: str, builder: str, filename: str, change: dict,
                                    message: str, data_root: Path, scifact_subset: Path,
                                    shared_cache: Path, tmp_path: Path) -> None:
    register_check_tasks()
    root = tmp_path / "root"
    if builder == "reranking":
        build.reranking(data_root, scifact_subset, root, n_queries=5)
    else:
        getattr(build, builder)(data_root, root)
    path = root / "checks" / task.lower() / filename
    _edit(path, 3, change)
    db = tmp_path / "h.duckdb"
    result = run_cli("wordllama-l2-256", task, root, db, shared_cache)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"error: {path}:3: {message}" in result.output, result.output
    assert count_rows(db) == 0


def test_missing_field_names_it(data_root: Path, shared_cache: Path, tmp_path: Path) -> None:
    register_check_tasks()
    build.pair_classification(data_root, tmp_path)
    path = tmp_path / "checks" / "stsbparaphrasepairs" / "test.jsonl"
    _drop(path, 7, "sentence2")
    result = run_cli("wordllama-l2-256", "STSBParaphrasePairs", tmp_path,
                     tmp_path / "h.duckdb", shared_cache)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"error: {path}:7: field 'sentence2' missing" in result.output
