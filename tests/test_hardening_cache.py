"""Hardening battery, cache side: every kind of damaged chunk is caught on read, reported by name
and re-encoded (the stored score equals the clean run's); temp debris, file modes, a full disk,
bad chunk settings and a 50 MB document. Real wordllama vectors, a tiny real SciFact subset."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from harness.cache import chunk_digest
from harness.store import Store
from tests.conftest import make_beir_subset
from tests.hardening import FAST_MODEL, assert_ok, assert_one_line_error, harness, run_args, stored
from tests.test_hardening_store import _file_size_limit

CHUNK = {"HARNESS_CACHE_CHUNK": "64"}  # several chunks for a ~140-document corpus


@pytest.fixture(scope="module")
def tiny_root(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_beir_subset(data_root, tmp_path_factory.mktemp("tiny"), "scifact", 8, 120)


@pytest.fixture(scope="module")
def clean(tiny_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """A cache written by an uninterrupted run, and that run's stored score."""
    folder = tmp_path_factory.mktemp("clean")
    assert_ok(harness(*run_args(FAST_MODEL, "SciFact", tiny_root, folder / "h.duckdb",
                                folder / "cache"), env=CHUNK))
    [(_, score)] = stored(folder / "h.duckdb")
    return folder / "cache", score


def _chunk(cache: Path, index: int = 1) -> Path:
    [path] = cache.rglob(f"document/*/chunk-{index:05d}.npz")
    return path


def _texts_of(npz: Path, tiny_root: Path) -> list[str]:
    """The 64 document texts that chunk 1 encodes (to re-sign a doctored chunk consistently)."""
    from harness.tasks.beir import load_beir

    data = load_beir(tiny_root / "beir" / "scifact")
    return list(data.corpus_texts[64:128])


def _rewrite_vectors(npz: Path, change: Callable[[np.ndarray], np.ndarray], tiny_root: Path,
                     resign: bool) -> None:
    with np.load(npz) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["vectors"] = change(arrays["vectors"].copy())
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    npz.write_bytes(buffer.getvalue())
    if resign:  # a consistent sidecar: only the content checks can catch it
        info = npz.with_suffix(".json")
        sidecar = json.loads(info.read_text())
        sidecar["sha256"] = chunk_digest(buffer.getvalue(), 1, _texts_of(npz, tiny_root))
        info.write_text(json.dumps(sidecar))


def _nan(npz: Path, root: Path) -> None:
    _rewrite_vectors(npz, lambda v: np.where(np.arange(len(v))[:, None] == 3, np.nan, v), root,
                     resign=True)


def _ten_rows(npz: Path, root: Path) -> None:
    _rewrite_vectors(npz, lambda v: v[:10], root, resign=True)


def _zeroed(npz: Path, root: Path) -> None:
    _rewrite_vectors(npz, np.zeros_like, root, resign=False)


def _copied_from_other_position(npz: Path, root: Path) -> None:
    shutil.copyfile(npz.with_name("chunk-00000.npz"), npz)
    shutil.copyfile(npz.with_name("chunk-00000.json"), npz.with_suffix(".json"))


def _truncated(npz: Path, root: Path) -> None:
    npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])


def _empty(npz: Path, root: Path) -> None:
    npz.write_bytes(b"")


def _flipped_header_byte(npz: Path, root: Path) -> None:
    data = bytearray(npz.read_bytes())
    data[0] ^= 0xFF
    npz.write_bytes(bytes(data))


def _bad_sidecar_json(npz: Path, root: Path) -> None:
    npz.with_suffix(".json").write_text('{"seconds": 0.1, "n": ')


def _old_format_sidecar(npz: Path, root: Path) -> None:
    npz.with_suffix(".json").write_text(json.dumps({"seconds": 0.1, "n": 64}))


def _check_damaged_chunk_is_reencoded(damage: Callable[[Path, Path], None], clean: tuple,
                                      tiny_root: Path, tmp_path: Path, *extra: str) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(clean[0], cache)
    npz = _chunk(cache)
    damage(npz, tiny_root)
    db = tmp_path / "h.duckdb"
    proc = harness(*run_args(FAST_MODEL, "SciFact", tiny_root, db, cache, *extra), env=CHUNK)
    assert_ok(proc)
    assert f"cache chunk {npz}" in proc.stderr.replace("\n", ""), proc.stderr
    [(_, score)] = stored(db)
    assert score == clean[1]
    again = harness(*run_args(FAST_MODEL, "SciFact", tiny_root, tmp_path / "2.duckdb", cache),
                    env=CHUNK)
    assert_ok(again)
    assert "cache chunk" not in again.stderr  # the re-encoded chunk verifies


def test_chunk_with_nan_vectors(clean, tiny_root: Path, tmp_path: Path) -> None:  # noqa: ANN001
    _check_damaged_chunk_is_reencoded(_nan, clean, tiny_root, tmp_path)


def test_chunk_with_10_rows_instead_of_64(clean, tiny_root: Path, tmp_path: Path) -> None:  # noqa: ANN001
    _check_damaged_chunk_is_reencoded(_ten_rows, clean, tiny_root, tmp_path)


def test_chunk_zeroed(clean, tiny_root: Path, tmp_path: Path) -> None:  # noqa: ANN001
    _check_damaged_chunk_is_reencoded(_zeroed, clean, tiny_root, tmp_path)


def test_chunk_copied_from_another_position(clean, tiny_root: Path, tmp_path: Path) -> None:  # noqa: ANN001
    _check_damaged_chunk_is_reencoded(_copied_from_other_position, clean, tiny_root, tmp_path)


def test_chunk_truncated_npz(clean, tiny_root: Path, tmp_path: Path) -> None:  # noqa: ANN001
    _check_damaged_chunk_is_reencoded(_truncated, clean, tiny_root, tmp_path)


def test_chunk_empty_file(clean, tiny_root: Path, tmp_path: Path) -> None:  # noqa: ANN001
    _check_damaged_chunk_is_reencoded(_empty, clean, tiny_root, tmp_path)


def test_chunk_flipped_header_byte(clean, tiny_root: Path, tmp_path: Path) -> None:  # noqa: ANN001
    _check_damaged_chunk_is_reencoded(_flipped_header_byte, clean, tiny_root, tmp_path)


def test_chunk_bad_sidecar_json(clean, tiny_root: Path, tmp_path: Path) -> None:  # noqa: ANN001
    _check_damaged_chunk_is_reencoded(_bad_sidecar_json, clean, tiny_root, tmp_path)


def test_chunk_old_format_sidecar_without_checksum(clean, tiny_root: Path,  # noqa: ANN001
                                                   tmp_path: Path) -> None:
    _check_damaged_chunk_is_reencoded(_old_format_sidecar, clean, tiny_root, tmp_path)


def test_force_never_reuses_a_bad_chunk(clean, tiny_root: Path, tmp_path: Path) -> None:  # noqa: ANN001
    db = tmp_path / "h.duckdb"
    assert_ok(harness(*run_args(FAST_MODEL, "SciFact", tiny_root, db, clean[0]), env=CHUNK))
    _check_damaged_chunk_is_reencoded(_nan, clean, tiny_root, tmp_path, "--force")


def test_stale_tmp_files_are_removed(clean, tiny_root: Path, tmp_path: Path) -> None:  # noqa: ANN001
    cache = tmp_path / "cache"
    shutil.copytree(clean[0], cache)
    folder = _chunk(cache).parent
    dead = folder / ".tmp-999999999-abcd.npz"  # a writer killed mid-chunk (no such pid)
    legacy = folder / ".tmp-k1x2y3.npz"  # the old naming, no owner recorded
    for path in (dead, legacy):
        path.write_bytes(b"partial")
    assert_ok(harness(*run_args(FAST_MODEL, "SciFact", tiny_root, tmp_path / "h.duckdb", cache),
                      env=CHUNK))
    assert not list(folder.glob(".tmp-*"))


def test_cache_files_follow_the_umask(tiny_root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    old = os.umask(0o022)
    try:
        assert_ok(harness(*run_args("bm25", "SciFact", tiny_root, tmp_path / "h.duckdb", cache)))
    finally:
        os.umask(old)
    files = [p for p in cache.rglob("chunk-*") if p.is_file()]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in files), \
        [(p.name, oct(p.stat().st_mode)) for p in files]


def test_disk_full_on_cache_is_one_line(tiny_root: Path, tmp_path: Path) -> None:
    db, cache = tmp_path / "h.duckdb", tmp_path / "cache"
    Store(db).close()
    # chunks of 1024 wordllama vectors exceed 64 KiB: the kernel refuses the write (EFBIG)
    proc = harness(*run_args(FAST_MODEL, "SciFact", tiny_root, db, cache),
                   preexec_fn=_file_size_limit(65536))
    assert_one_line_error(proc, str(cache))
    assert stored(db) == []
    assert not list(cache.rglob("chunk-*")) and not list(cache.rglob(".tmp-*"))


@pytest.mark.parametrize("value", ["0", "-3", "abc", "1e9"])
def test_harness_cache_chunk_invalid(value: str, tiny_root: Path, tmp_path: Path) -> None:
    proc = harness(*run_args("bm25", "SciFact", tiny_root, tmp_path / "h.duckdb",
                             tmp_path / "cache"), env={"HARNESS_CACHE_CHUNK": value})
    assert_one_line_error(proc, "$HARNESS_CACHE_CHUNK", repr(value))


def test_harness_db_lock_timeout_invalid(tiny_root: Path, tmp_path: Path) -> None:
    proc = harness(*run_args("bm25", "SciFact", tiny_root, tmp_path / "h.duckdb",
                             tmp_path / "cache"), env={"HARNESS_DB_LOCK_TIMEOUT": "soon"})
    assert_one_line_error(proc, "$HARNESS_DB_LOCK_TIMEOUT")
