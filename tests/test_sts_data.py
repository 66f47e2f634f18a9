"""STS loading: the real files load completely; malformed rows fail with file:line:field, and
through the CLI they exit non-zero with one line and store nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.errors import DataError
from harness.kinds.sts import load_sts
from harness.tasks.mteb_tasks import source
from harness.tasks.registry import get_task

# Pair counts of MTEB's test splits (the SOURCES.md counts, equal to MTEB's descriptive stats).
MTEB_SIZES = {"STSBenchmark": 1379, "SICK-R": 9927, "STS12": 3108, "STS13": 1500,
              "STS14": 3750, "STS15": 3000, "STS16": 1186}


@pytest.mark.parametrize("name", sorted(MTEB_SIZES))
def test_real_files_load_completely(data_root: Path, name: str) -> None:
    task = get_task(name)
    assert task.type == "sts" and task.main_score == "cosine_spearman" and task.split == "test"
    src = source(name)
    data = load_sts(data_root / task.folder / src.filename, src)
    assert len(data.pair_ids) == MTEB_SIZES[name]
    assert len(set(data.pair_ids)) == len(data.pair_ids)
    assert min(data.gold) >= src.min_score and max(data.gold) <= src.max_score
    assert all(s.strip() for s in data.sentence1 + data.sentence2)


def _real_rows(data_root: Path, n: int = 5) -> list[dict]:
    lines = (data_root / "mteb" / "stsbenchmark" / "test.jsonl").read_text().splitlines()[:n]
    return [json.loads(line) for line in lines]


def _write(folder: Path, rows: list[dict | str]) -> Path:
    path = folder / "mteb" / "stsbenchmark" / "test.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


BAD_ROWS = [
    ("missing score", lambda r: r.pop("score"), "score", "missing gold score"),
    ("null score", lambda r: r.update(score=None), "score", "missing gold score"),
    ("score above range", lambda r: r.update(score=5.5), "score", "outside the range 0-5"),
    ("negative score", lambda r: r.update(score=-0.2), "score", "outside the range 0-5"),
    ("NaN score", lambda r: r.update(score="nan"), "score", "outside the range"),
    ("text score", lambda r: r.update(score="high"), "score", "not a number"),
    ("boolean score", lambda r: r.update(score=True), "score", "not a number"),
    ("empty sentence1", lambda r: r.update(sentence1="  "), "sentence1", "empty sentence"),
    ("missing sentence2", lambda r: r.pop("sentence2"), "sentence2", "missing"),
    ("missing id field", lambda r: r.pop("sid"), "sid", "missing pair id"),
]


@pytest.mark.parametrize(("what", "damage", "field", "message"), BAD_ROWS,
                         ids=[b[0] for b in BAD_ROWS])
def test_malformed_row_names_file_line_field(data_root: Path, tmp_path: Path, what: str,
                                             damage, field: str, message: str) -> None:
    rows = _real_rows(data_root)
    damage(rows[3])  # the 4th line
    path = _write(tmp_path, rows)
    with pytest.raises(DataError) as err:
        load_sts(path, source("STSBenchmark"))
    assert (err.value.path, err.value.line, err.value.field) == (path, 4, field)
    assert str(err.value).startswith(f"{path}:4: field '{field}'")
    assert message in str(err.value)


def test_invalid_json_and_duplicate_ids(data_root: Path, tmp_path: Path) -> None:
    rows: list[dict | str] = list(_real_rows(data_root))
    rows[2] = '{"sentence1": "a", '
    path = _write(tmp_path, rows)
    with pytest.raises(DataError, match=r":3: invalid JSON"):
        load_sts(path, source("STSBenchmark"))
    rows = list(_real_rows(data_root))
    rows[4] = dict(rows[1])
    path = _write(tmp_path, rows)
    with pytest.raises(DataError, match=r":5: field 'genre' duplicate pair id .*first on line 2"):
        load_sts(path, source("STSBenchmark"))


def test_sick_scores_below_one_are_rejected(data_root: Path, tmp_path: Path) -> None:
    """SICK relatedness is graded 1-5: a 0.5 is a corrupt row there, although valid for STS-B."""
    lines = (data_root / "mteb" / "sickr" / "test.jsonl").read_text().splitlines()[:3]
    rows = [json.loads(line) for line in lines]
    rows[1]["score"] = 0.5
    path = tmp_path / "test.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError, match=r":2: field 'score' 0.5 outside the range 1-5"):
        load_sts(path, source("SICK-R"))


def test_cli_bad_row_exits_nonzero_and_stores_nothing(data_root: Path, tmp_path: Path) -> None:
    rows = _real_rows(data_root, 20)
    rows[11]["score"] = 7
    path = _write(tmp_path / "data", rows)
    db = tmp_path / "runs.duckdb"
    result = CliRunner().invoke(main, ["run", "-m", "wordllama-l2-256", "-t", "STSBenchmark",
                                       "--data-root", str(tmp_path / "data"), "--db", str(db),
                                       "--cache-dir", str(tmp_path / "cache"), "--no-progress"])
    assert result.exit_code != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {path}:12: field 'score' 7 outside the range 0-5"]
    # validation happens before any model work: nothing encoded, nothing stored
    assert not (tmp_path / "cache").exists()
    if db.exists():
        from harness.store import Store

        with Store(db, read_only=True) as store:
            assert store.count("runs") == 0
