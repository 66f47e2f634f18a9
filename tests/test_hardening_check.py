"""Hardening battery, check files: unsafe tags, bad encodings, alias bombs and bands that can never
fail are one `file:line` error (exit 2, no traceback); nothing is executed or run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.check.expected import load_expected
from tests.hardening import assert_one_line_error, harness

ROW = """\
- model: bm25
  task: SciFact
  metric: ndcg_at_10
  expected: 0.68630
  tolerance: {tolerance}
  source: test
  note: {note}
"""


def _file(tmp_path: Path, text: str | bytes, name: str = "expected.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def _check(tmp_path: Path, path: Path):  # noqa: ANN202
    return harness("check", path, "--no-run", "--db", tmp_path / "none.duckdb", timeout=120)


def test_python_object_apply_tag(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    path = _file(tmp_path, ROW.format(tolerance=0.002, note=f"!!python/object/apply:os.system "
                                                            f"['touch {marker}']"))
    assert_one_line_error(_check(tmp_path, path), f"{path}:7:", "not allowed")
    assert not marker.exists()


def test_custom_tag(tmp_path: Path) -> None:
    path = _file(tmp_path, ROW.format(tolerance="!custom 0.002", note="x"))
    assert_one_line_error(_check(tmp_path, path), f"{path}:5:", "not allowed")


def test_non_utf8_check_file(tmp_path: Path) -> None:
    path = _file(tmp_path, ROW.format(tolerance=0.002, note="caf\xe9").encode("latin-1"))
    assert_one_line_error(_check(tmp_path, path), f"{path}:7:", "not valid UTF-8")


def test_yaml_alias_bomb(tmp_path: Path) -> None:
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    levels += [f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]"
               for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
    bomb = "defaults:\n" + "".join(f"  {line}\n" for line in levels)
    path = _file(tmp_path, bomb + "expected:\n" + "".join(
        "  " + line + "\n" for line in ROW.format(tolerance=0.002, note="x").splitlines()))
    began = time.monotonic()
    assert_one_line_error(_check(tmp_path, path), f"{path}:2:", "aliases are not allowed")
    assert time.monotonic() - began < 60


@pytest.mark.parametrize("tolerance", ["1.0e+308", "1.0", "0.5", "0", "-0.001"])
def test_tolerance_outside_0_to_0_1(tolerance: str, tmp_path: Path) -> None:
    path = _file(tmp_path, ROW.format(tolerance=tolerance, note="x"))
    assert_one_line_error(_check(tmp_path, path), f"{path}:5:", "field 'tolerance'",
                          "must be in (0, 0.1]")


def test_tolerance_1e308_yaml_string_is_a_number(tmp_path: Path) -> None:
    path = _file(tmp_path, ROW.format(tolerance="1e308", note="x"))
    line = assert_one_line_error(_check(tmp_path, path), f"{path}:5:", "field 'tolerance'",
                                 "must be in (0, 0.1]")
    assert "finite number" not in line


def test_loose_row_may_have_wide_tolerance(tmp_path: Path) -> None:
    path = _file(tmp_path, ROW.format(tolerance=0.5, note="x") + "  loose: true\n")
    [row] = load_expected(path)
    assert row.tolerance == 0.5
