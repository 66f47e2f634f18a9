"""Bad input: one line naming file/line/field, non-zero exit, nothing stored."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import count_rows, run_cli


@pytest.fixture()
def beir_copy(scifact_subset: Path, tmp_path: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(scifact_subset, root)
    return root


def _folder(root: Path) -> Path:
    return root / "beir" / "scifact"


def _edit_line(path: Path, lineno: int, new: str) -> None:
    lines = path.read_text().splitlines()
    lines[lineno - 1] = new
    path.write_text("\n".join(lines) + "\n")


def _assert_rejected(root: Path, tmp_path: Path, *needles: str) -> None:
    db = tmp_path / "h.duckdb"
    result = run_cli("all-MiniLM-L6-v2", "SciFact", root, db, tmp_path / "cache")
    assert result.exit_code == 2, result.output
    message = result.output.strip()
    assert len(message.splitlines()) == 1, message
    for needle in needles:
        assert needle in message, (needle, message)
    assert count_rows(db) == 0
    assert not list((tmp_path / "cache").rglob("*.npz"))  # nothing encoded either


def test_corpus_line_not_json(beir_copy: Path, tmp_path: Path) -> None:
    _edit_line(_folder(beir_copy) / "corpus.jsonl", 3, '{"_id": "x", "text": ')
    _assert_rejected(beir_copy, tmp_path, "corpus.jsonl:3:", "invalid JSON")


def test_document_without_id(beir_copy: Path, tmp_path: Path) -> None:
    _edit_line(_folder(beir_copy) / "corpus.jsonl", 5, json.dumps({"title": "t", "text": "x"}))
    _assert_rejected(beir_copy, tmp_path, "corpus.jsonl:5:", "field '_id'", "missing")


def test_duplicate_document_ids(beir_copy: Path, tmp_path: Path) -> None:
    path = _folder(beir_copy) / "corpus.jsonl"
    first = json.loads(path.read_text().splitlines()[0])
    _edit_line(path, 7, json.dumps({"_id": first["_id"], "title": "", "text": "dup"}))
    _assert_rejected(beir_copy, tmp_path, "corpus.jsonl:7:", "field '_id'", "duplicate",
                     "first on line 1")


def test_qrels_row_naming_unknown_document(beir_copy: Path, tmp_path: Path) -> None:
    path = _folder(beir_copy) / "qrels" / "test.tsv"
    qid = path.read_text().splitlines()[1].split("\t")[0]
    _edit_line(path, 2, f"{qid}\tno-such-doc\t1")
    _assert_rejected(beir_copy, tmp_path, "test.tsv:2:", "field 'corpus-id'", "no-such-doc")


def test_empty_query_set(beir_copy: Path, tmp_path: Path) -> None:
    (_folder(beir_copy) / "queries.jsonl").write_text("")
    _assert_rejected(beir_copy, tmp_path, "queries.jsonl", "no queries")


def test_unknown_model_and_task(scifact_subset: Path, tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    bad_model = run_cli("no-such-model", "SciFact", scifact_subset, db, tmp_path / "c")
    assert bad_model.exit_code == 2 and "unknown model 'no-such-model'" in bad_model.output
    bad_task = run_cli("all-MiniLM-L6-v2", "SciFactt", scifact_subset, db, tmp_path / "c")
    assert bad_task.exit_code == 2 and "unknown task 'SciFactt'" in bad_task.output
    assert "Did you mean SciFact" in bad_task.output
    assert count_rows(db) == 0


def test_unavailable_task_is_reported_not_crashed(data_root: Path, tmp_path: Path) -> None:
    result = run_cli("all-MiniLM-L6-v2", "ArguAna", data_root, tmp_path / "h.duckdb",
                     tmp_path / "c")
    assert result.exit_code == 2 and "corpus missing" in result.output
