"""Hardening battery, inputs: every malformed BEIR file is `file:line: field ...` (exit 2, no
traceback, nothing stored); a BOM is accepted; -k and a 50 MB document are bounded. bm25 and
wordllama on a tiny real SciFact subset, through the real CLI in a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_beir_subset
from tests.hardening import FAST_MODEL, assert_ok, assert_one_line_error, harness, run_args, stored


@pytest.fixture(scope="module")
def tiny(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_beir_subset(data_root, tmp_path_factory.mktemp("tiny"), "scifact", 8, 120)


@pytest.fixture()
def root(tiny: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(tiny, copy)
    return copy


def _files(root: Path) -> dict[str, Path]:
    folder = root / "beir" / "scifact"
    return {"corpus": folder / "corpus.jsonl", "queries": folder / "queries.jsonl",
            "qrels": folder / "qrels" / "test.tsv"}


def _set_line(path: Path, lineno: int, data: bytes) -> None:
    lines = path.read_bytes().split(b"\n")
    lines[lineno - 1] = data
    path.write_bytes(b"\n".join(lines))


def _first_record(path: Path) -> dict:
    return json.loads(path.read_bytes().split(b"\n")[0])


def _run(root: Path, tmp_path: Path, model: str = "bm25", *extra: str):  # noqa: ANN202
    db = tmp_path / "h.duckdb"
    return harness(*run_args(model, "SciFact", root, db, tmp_path / "cache", *extra)), db


def _rejected(root: Path, tmp_path: Path, *needles: str) -> None:
    proc, db = _run(root, tmp_path)
    assert_one_line_error(proc, *needles)
    assert stored(db) == []


@pytest.mark.parametrize("which", ["corpus", "queries", "qrels"])
def test_bom_is_accepted(which: str, root: Path, tiny: Path, tmp_path: Path) -> None:
    plain, _ = _run(tiny, tmp_path / "plain")
    assert_ok(plain)
    path = _files(root)[which]
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    proc, db = _run(root, tmp_path)
    assert_ok(proc)
    assert [s for _, s in stored(db)] == [s for _, s in stored(tmp_path / "plain" / "h.duckdb")]


@pytest.mark.parametrize("which", ["corpus", "queries", "qrels"])
def test_invalid_utf8(which: str, root: Path, tmp_path: Path) -> None:
    path = _files(root)[which]
    line = path.read_bytes().split(b"\n")[2]
    _set_line(path, 3, line[:1] + b"\xff\xfe" + line[1:])
    _rejected(root, tmp_path, f"{path}:3:", "not valid UTF-8")


def test_conflicting_duplicate_qrels(root: Path, tmp_path: Path) -> None:
    path = _files(root)["qrels"]
    q, d, _ = path.read_text().splitlines()[1].split("\t")
    path.write_text(path.read_text() + f"{q}\t{d}\t0\n")
    last = len(path.read_text().splitlines())
    _rejected(root, tmp_path, f"{path}:{last}:", "field 'score'", "on line 2")


@pytest.mark.parametrize("score", ["99999999999", "400000000", "-5000"])
def test_qrels_score_out_of_range(score: str, root: Path, tmp_path: Path) -> None:
    path = _files(root)["qrels"]
    q, d, _ = path.read_text().splitlines()[1].split("\t")
    _set_line(path, 2, f"{q}\t{d}\t{score}".encode())
    _rejected(root, tmp_path, f"{path}:2:", "field 'score'", "outside")


def _edit_corpus_line(root: Path, lineno: int, **changes: object) -> Path:
    path = _files(root)["corpus"]
    record = json.loads(path.read_bytes().split(b"\n")[lineno - 1])
    record.update(changes)
    _set_line(path, lineno, json.dumps(record).encode())
    return path


def test_id_true_is_not_a_string(root: Path, tmp_path: Path) -> None:
    path = _edit_corpus_line(root, 2, _id=True)
    _rejected(root, tmp_path, f"{path}:2:", "field '_id'", "bool")


def test_id_with_tab(root: Path, tmp_path: Path) -> None:
    path = _edit_corpus_line(root, 2, _id="12\t34")
    _rejected(root, tmp_path, f"{path}:2:", "field '_id'", "control character")


def test_id_with_newline(root: Path, tmp_path: Path) -> None:
    path = _files(root)["queries"]
    record = _first_record(path)
    record["_id"] = record["_id"] + "\n"
    _set_line(path, 1, json.dumps(record).encode())
    _rejected(root, tmp_path, f"{path}:1:", "field '_id'", "control character")


def test_lone_surrogate(root: Path, tmp_path: Path) -> None:
    path = _files(root)["corpus"]
    _set_line(path, 4, b'{"_id": "lone", "title": "", "text": "cells \\ud800 divide"}')
    _rejected(root, tmp_path, f"{path}:4:", "field 'text'", "surrogate")


def test_json_nested_100000_deep(root: Path, tmp_path: Path) -> None:
    path = _files(root)["queries"]
    _set_line(path, 2, b'{"_id": "deep", "text": ' + b"[" * 100000 + b"]" * 100000 + b"}")
    _rejected(root, tmp_path, f"{path}:2:", "nested")


@pytest.mark.parametrize("k", ["0", "-5"])
def test_top_k_below_one(k: str, root: Path, tmp_path: Path) -> None:
    proc, db = _run(root, tmp_path, "bm25", "-k", k)
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert "Invalid value for '-k'" in proc.stderr
    assert stored(db) == []


def test_50mb_document_memory_stays_bounded(root: Path, tmp_path: Path) -> None:
    """wordllama declares max_length 512: the document is clipped before it is embedded."""
    path = _files(root)["corpus"]
    words = ("protein folding kinetics of membrane cells " * 1_200_000)[:50_000_000]
    record = _first_record(path)
    record["text"] = words
    _set_line(path, 1, json.dumps(record).encode())
    db = tmp_path / "h.duckdb"
    argv = [sys.executable, "-m", "harness.cli",
            *run_args(FAST_MODEL, "SciFact", root, db, tmp_path / "cache")]
    # peak RSS of the harness process, as the kernel accounts it (ru_maxrss of the child, KiB)
    probe = ("import resource, subprocess, sys\n"
             "proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
             "sys.stderr.write(proc.stdout + proc.stderr)\n"
             "print(proc.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True,
                         timeout=900, env=_env())
    code, peak_kib = map(int, out.stdout.split())
    assert code == 0 and "Traceback" not in out.stderr, out.stderr
    assert peak_kib < 3 * 1024 * 1024, f"peak RSS {peak_kib / 1024:.0f} MiB"
    assert len(stored(db)) == 1


def _env() -> dict[str, str]:
    import os

    from harness.data_root import REPO_ROOT

    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
