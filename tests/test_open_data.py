"""Real downloads from a real HTTP server on 127.0.0.1, then offline runs on what was pulled."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from harness.tasks.beir import file_sha256
from tests.helpers import cli, count_rows, run_cli
from tests.open_world import serve_bytes, zip_folder


@pytest.fixture(scope="module")
def tickets_zip(scifact_subset: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The SciFact subset zipped as a BEIR folder of another name, as a team would ship it."""
    dest = tmp_path_factory.mktemp("zip") / "our-tickets.zip"
    return zip_folder(scifact_subset / "beir" / "scifact", dest, "our-tickets").read_bytes()


def test_pull_checksum_unpack_then_run_offline(tickets_zip: bytes, tmp_path: Path,
                                               shared_cache: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    digest = hashlib.sha256(tickets_zip).hexdigest()
    with serve_bytes(tickets_zip) as (url, log):
        result = cli("data", "pull", url, "--sha256", digest, "--data-root", root)
    assert result.exit_code == 0, result.output
    assert digest in result.output and log == ["full"]
    folder = root / "beir" / "our-tickets"
    manifest = json.loads((folder / "harness-source.json").read_text())
    assert manifest["archive_sha256"] == digest and manifest["url"] == url
    assert not (root / ".partial").exists()

    listing = cli("data", "ls", "--data-root", root)
    assert "our-tickets" in listing.output and "local" in listing.output

    db = tmp_path / "h.duckdb"
    ran = run_cli("bm25", "our-tickets", root, db, shared_cache)  # the server is gone: offline
    assert ran.exit_code == 0, ran.output
    con = duckdb.connect(str(db), read_only=True)
    task, spec, score = con.execute("SELECT task, spec, main_score FROM runs").fetchone()
    con.close()
    expected = file_sha256([folder / "corpus.jsonl", folder / "queries.jsonl",
                            folder / "qrels" / "test.tsv"])
    assert task == "our-tickets" and json.loads(spec)["task"]["data_sha256"] == expected
    assert manifest["files"]["corpus.jsonl"] == hashlib.sha256(
        (folder / "corpus.jsonl").read_bytes()).hexdigest()
    assert 0.3 < score <= 1.0  # BM25 on a 440-document SciFact subset


def test_interrupted_download_resumes(tickets_zip: bytes, tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    digest = hashlib.sha256(tickets_zip).hexdigest()
    with serve_bytes(tickets_zip, cut_first=True) as (url, log):
        result = cli("data", "pull", url, "--sha256", digest, "--data-root", root)
    assert result.exit_code == 0, result.output
    assert "(resumed)" in result.output
    assert log[0] == "full" and log[1].startswith("bytes=") and int(log[1][6:-1]) > 0
    assert (root / "beir" / "our-tickets" / "corpus.jsonl").is_file()


def test_wrong_checksum_leaves_nothing(tickets_zip: bytes, tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    with serve_bytes(tickets_zip) as (url, _):
        result = cli("data", "pull", url, "--sha256", "0" * 64, "--data-root", root)
    assert result.exit_code == 2
    assert "sha256 mismatch" in result.output and "Traceback" not in result.output
    assert list(root.iterdir()) == []


def test_not_a_beir_zip_leaves_nothing(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "readme.txt").write_text("no corpus here")
    payload = zip_folder(junk, tmp_path / "junk.zip", "junk").read_bytes()
    with serve_bytes(payload) as (url, _):
        result = cli("data", "pull", url, "--data-root", root)
    assert result.exit_code == 2 and "no BEIR folder" in result.output
    assert [p.name for p in (root / "beir").iterdir()] == []
    assert not (root / ".partial").exists()


def test_beir_folder_by_path_and_its_errors(scifact_subset: Path, tmp_path: Path,
                                            shared_cache: Path) -> None:
    folder = tmp_path / "support-tickets"
    shutil.copytree(scifact_subset / "beir" / "scifact", folder)
    db = tmp_path / "h.duckdb"
    ran = run_cli("bm25", str(folder), tmp_path, db, shared_cache)
    assert ran.exit_code == 0, ran.output
    assert count_rows(db) == 1

    no_qrels = tmp_path / "no-qrels"
    shutil.copytree(folder, no_qrels)
    shutil.rmtree(no_qrels / "qrels")
    bad_split = run_cli("bm25", f"{folder}@dev", tmp_path, db, shared_cache)
    missing = run_cli("bm25", str(no_qrels), tmp_path, db, shared_cache)
    unknown = run_cli("bm25", "NoSuchTaskAnywhere", tmp_path, db, shared_cache)
    for result, text in ((missing, "no qrels"), (bad_split, "no split 'dev'"),
                         (unknown, "unknown task")):
        assert result.exit_code == 2, result.output
        assert text in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1
    assert count_rows(db) == 1
