"""Hardening battery, store side: concurrent runs, locked files, foreign/future/broken databases,
a read-only folder and a full disk. Real subprocesses, a real DuckDB file, tiny real subsets."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from harness.store import SCHEMA_VERSION, Store
from tests.conftest import make_beir_subset
from tests.hardening import FAST_MODEL, assert_ok, assert_one_line_error, harness, run_args, stored


@pytest.fixture(scope="module")
def tiny_root(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SciFact and NFCorpus, 8 queries each plus 120 extra documents: a real BEIR data root."""
    root = tmp_path_factory.mktemp("tiny-beir")
    make_beir_subset(data_root, root, "scifact", 8, 120)
    make_beir_subset(data_root, root, "nfcorpus", 8, 120)
    os.chmod(root, 0o755)
    return root


@pytest.fixture(scope="module")
def warm_cache(tiny_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding bm25's SciFact term counts (so failure tests only write the database)."""
    cache = tmp_path_factory.mktemp("warm-cache")
    db = tmp_path_factory.mktemp("warm-db") / "warm.duckdb"
    assert_ok(harness(*run_args("bm25", "SciFact", tiny_root, db, cache)))
    return cache


def _holder(db: Path, seconds: float, read_only: bool = False) -> subprocess.Popen[str]:
    """Another process holding the DuckDB file lock (a writer mid-run, or a reader)."""
    code = ("import duckdb, sys, time\n"
            f"con = duckdb.connect(sys.argv[1], read_only={read_only})\n"
            "print('held', flush=True)\n"
            f"time.sleep({seconds})\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_concurrent_runs_8_processes_each_run_stored_once(tiny_root: Path, tmp_path: Path) -> None:
    db, cache = tmp_path / "shared.duckdb", tmp_path / "cache"
    jobs = [(FAST_MODEL, "SciFact", ()), (FAST_MODEL, "NFCorpus", ()), ("bm25", "SciFact", ()),
            ("bm25", "NFCorpus", ()), (FAST_MODEL, "SciFact", ("-k", "100")),
            # the same runs again, started at the same moment: stored once, never twice
            (FAST_MODEL, "SciFact", ()), ("bm25", "NFCorpus", ()), ("bm25", "SciFact", ())]
    with ThreadPoolExecutor(len(jobs)) as pool:
        procs = list(pool.map(
            lambda j: harness(*run_args(j[0], j[1], tiny_root, db, cache, *j[2])), jobs))
    for proc in procs:
        assert_ok(proc)
    counts = stored(db, "SELECT run_key, count(*) FROM runs GROUP BY run_key")
    assert len(counts) == 5 and all(n == 1 for _, n in counts), counts
    assert stored(db, "SELECT count(DISTINCT run_key) FROM scores") == [(5,)]


def test_results_while_writer_holds_lock_waits(tiny_root: Path, warm_cache: Path,
                                               tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    assert_ok(harness(*run_args("bm25", "SciFact", tiny_root, db, warm_cache)))
    holder = _holder(db, 3)
    began = time.monotonic()
    proc = harness("results", "--db", db, "--json")
    holder.wait()
    assert_ok(proc)
    assert '"model": "bm25"' in proc.stdout
    assert time.monotonic() - began > 1  # it waited for the writer instead of crashing


def test_run_started_while_reader_holds_file_waits(tiny_root: Path, warm_cache: Path,
                                                   tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    Store(db).close()
    holder = _holder(db, 3, read_only=True)
    proc = harness(*run_args("bm25", "SciFact", tiny_root, db, warm_cache))
    holder.wait()
    assert_ok(proc)
    assert len(stored(db)) == 1


def test_lock_timeout_is_one_line(tiny_root: Path, warm_cache: Path, tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    Store(db).close()
    holder = _holder(db, 30)
    try:
        proc = harness(*run_args("bm25", "SciFact", tiny_root, db, warm_cache),
                       env={"HARNESS_DB_LOCK_TIMEOUT": "1"})
    finally:
        holder.kill()
        holder.wait()
    assert_one_line_error(proc, str(db), "still locked", "HARNESS_DB_LOCK_TIMEOUT")


def test_same_key_twice_in_one_store_is_not_duplicated(tiny_root: Path, warm_cache: Path,
                                                       tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    for _ in range(2):
        assert_ok(harness(*run_args("bm25", "SciFact", tiny_root, db, warm_cache)))
    assert_ok(harness(*run_args("bm25", "SciFact", tiny_root, db, warm_cache, "--force")))
    assert len(stored(db)) == 1
    assert stored(db, "SELECT count(*) FROM scores") == \
        stored(db, "SELECT count(DISTINCT metric) FROM scores")


def test_foreign_db_with_runs_table_is_left_unchanged(tiny_root: Path, warm_cache: Path,
                                                      tmp_path: Path) -> None:
    db = tmp_path / "theirs.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE runs (id INTEGER, note VARCHAR)")
    con.execute("INSERT INTO runs VALUES (1, 'mine')")
    con.close()
    before = db.read_bytes()
    proc = harness(*run_args("bm25", "SciFact", tiny_root, db, warm_cache))
    assert_one_line_error(proc, str(db), "not a harness result store", "left unchanged")
    assert db.read_bytes() == before


def test_newer_schema_version_is_refused(tiny_root: Path, warm_cache: Path,
                                         tmp_path: Path) -> None:
    db = tmp_path / "future.duckdb"
    Store(db).close()
    con = duckdb.connect(str(db))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    before = db.read_bytes()
    proc = harness(*run_args("bm25", "SciFact", tiny_root, db, warm_cache))
    assert_one_line_error(proc, "schema version 99", f"({SCHEMA_VERSION})")
    assert db.read_bytes() == before


def test_sqlite_file_as_db_is_refused_without_extension_download(
        tiny_root: Path, warm_cache: Path, tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "data.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (a)")
    con.commit()
    con.close()
    before = db.read_bytes()
    # no route out: a download attempt would fail loudly instead of silently succeeding
    proc = harness(*run_args("bm25", "SciFact", tiny_root, db, warm_cache),
                   env={"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"})
    line = assert_one_line_error(proc, str(db))
    assert "download" not in line.lower() and "http" not in line.lower()
    assert db.read_bytes() == before
    assert not (Path.home() / ".duckdb" / "extensions").exists() or not any(
        p.stat().st_mtime > time.time() - 120
        for p in (Path.home() / ".duckdb" / "extensions").rglob("sqlite*"))


def test_corrupt_db_file_is_one_line(tiny_root: Path, warm_cache: Path, tmp_path: Path) -> None:
    db = tmp_path / "broken.duckdb"
    db.write_bytes(os.urandom(40000))
    before = db.read_bytes()
    assert_one_line_error(harness(*run_args("bm25", "SciFact", tiny_root, db, warm_cache)),
                          str(db))
    assert db.read_bytes() == before


def test_dev_null_as_db_is_one_line(tiny_root: Path, warm_cache: Path) -> None:
    proc = harness(*run_args("bm25", "SciFact", tiny_root, Path("/dev/null"), warm_cache))
    assert_one_line_error(proc, "/dev/null")


@contextmanager
def read_only_folder(tmp_path: Path, prepare: Callable[[Path], None]) -> Iterator[Path]:
    """A folder nobody may write (``prepare`` fills it first). Permission bits for a normal user;
    root ignores them, so as root a small tmpfs is mounted and remounted read-only."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        prepare(folder)
        for path in (*folder.iterdir(), folder):
            os.chmod(path, 0o555)
        yield folder
        os.chmod(folder, 0o755)
        return
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("root without mount permission: no way to make a read-only folder here")
    try:
        prepare(folder)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_read_only_db_file_is_one_line(tiny_root: Path, warm_cache: Path,
                                       tmp_path: Path) -> None:
    with read_only_folder(tmp_path, lambda f: Store(f / "h.duckdb").close()) as folder:
        db = folder / "h.duckdb"
        before = db.read_bytes()
        proc = harness(*run_args("bm25", "SciFact", tiny_root, db, warm_cache))
        assert_one_line_error(proc, str(folder))
        assert db.read_bytes() == before


def test_read_only_db_directory_fails_before_any_work(tiny_root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with read_only_folder(tmp_path, lambda f: None) as folder:
        proc = harness(*run_args(FAST_MODEL, "SciFact", tiny_root, folder / "h.duckdb", cache))
    assert_one_line_error(proc, str(folder), "cannot write")
    assert not cache.exists()  # nothing was encoded before the store was found unusable


def _file_size_limit(limit: int):  # noqa: ANN202
    def apply() -> None:  # a real EFBIG from the kernel past `limit` bytes (a full disk's kin)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_disk_full_on_db_reports_commit_failure(tiny_root: Path, warm_cache: Path,
                                                tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    Store(db).close()
    proc = harness(*run_args("bm25", "SciFact", tiny_root, db, warm_cache),
                   preexec_fn=_file_size_limit(16384))
    line = assert_one_line_error(proc, str(db))
    assert "rollback" not in line.lower(), line
    assert "COMMIT failed" in line or "File too large" in line, line
    assert stored(db) == []  # nothing half-written


def test_check_while_writer_holds_lock_waits(tiny_root: Path, warm_cache: Path,
                                             tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    assert_ok(harness(*run_args("bm25", "SciFact", tiny_root, db, warm_cache)))
    [(_, score)] = stored(db)
    expected = tmp_path / "expected.yaml"
    expected.write_text(f"- model: bm25\n  task: SciFact\n  metric: ndcg_at_10\n"
                        f"  expected: {score:.5f}\n  tolerance: 0.002\n  source: this test\n")
    holder = _holder(db, 3)
    proc = harness("check", expected, "--no-run", "--db", db, "--data-root", tiny_root,
                   "--cache-dir", warm_cache)
    holder.wait()
    assert_ok(proc)
    assert "PASS" in proc.stdout + proc.stderr
