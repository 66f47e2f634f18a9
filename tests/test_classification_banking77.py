"""Banking77 through mteb's classification protocol, on the real files and on a real slice.

The slice run is checked against an independent re-implementation of experiment 0 (mteb's
documented undersampling rule + scikit-learn), which catches any mix-up in data order, labels or
embeddings between our loader, the cache and mteb."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from harness.cache import EmbeddingCache
from harness.errors import DataError
from harness.kinds.classification import load_classification
from harness.kinds.outcome import Context
from harness.runner import Runner
from harness.spec import RunSpec
from harness.store import Store
from harness.tasks.registry import get_task

N_LABELS = 6  # the slice keeps the first six intents of the real files


def banking_slice(data_root: Path, dest: Path, n_labels: int = N_LABELS) -> Path:
    src = data_root / "mteb" / "banking77"
    out = dest / "mteb" / "banking77"
    out.mkdir(parents=True, exist_ok=True)
    keep: list[str] = []
    for name in ("train.csv", "test.csv"):
        with (src / name).open(newline="") as fh:
            rows = list(csv.reader(fh))
        if not keep:
            keep = list(dict.fromkeys(r[1] for r in rows[1:]))[:n_labels]
        with (out / name).open("w", newline="") as fh:
            csv.writer(fh).writerows([rows[0], *[r for r in rows[1:] if r[1] in keep]])
    return dest


def test_real_files_load_completely(data_root: Path) -> None:
    task = get_task("Banking77Classification")
    assert (task.type, task.main_score, task.split) == ("classification", "accuracy", "test")
    data = load_classification(data_root / task.folder, "{split}.csv", "test")
    assert (len(data.train.texts), len(data.test.texts), len(data.label_names)) == \
        (10003, 3080, 77)
    published = json.loads((data_root / task.folder / "categories.json").read_text())
    assert sorted(data.label_names) == sorted(published)


@pytest.mark.parametrize(("line", "what", "match"), [
    (0, "text,label\n", r"train.csv:1: expected the header"),
    (5, '"only one field"\n', r"train.csv:5: expected 2 fields, got 1"),
    (5, '"   ",card_arrival\n', r"train.csv:5: field 'text' empty text"),
    (5, '"Where is my card?",\n', r"train.csv:5: field 'category' empty label"),
])
def test_malformed_rows(data_root: Path, tmp_path: Path, line: int, what: str,
                        match: str) -> None:
    lines = (data_root / "mteb" / "banking77" / "train.csv").read_text().splitlines(True)[:20]
    lines[line - 1 if line else 0] = what
    (tmp_path / "train.csv").write_text("".join(lines))
    (tmp_path / "test.csv").write_text("text,category\nWhere is my card?,card_arrival\n")
    with pytest.raises(DataError, match=match):
        load_classification(tmp_path, "{split}.csv", "test")


def test_test_label_missing_from_train(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("text,category\nWhere is my card?,card_arrival\n")
    (tmp_path / "test.csv").write_text("text,category\nhi,card_arrival\nrate?,exchange_rate\n")
    with pytest.raises(DataError, match=r"test.csv:3: field 'category' label 'exchange_rate'"):
        load_classification(tmp_path, "{split}.csv", "test")


@pytest.fixture(scope="module")
def stored(data_root: Path, shared_cache: Path, tmp_path_factory: pytest.TempPathFactory):
    root = banking_slice(data_root, tmp_path_factory.mktemp("banking-slice"))
    ctx = Context(EmbeddingCache(shared_cache), progress=False)
    with Store(tmp_path_factory.mktemp("clf-db") / "runs.duckdb") as store:
        runner = Runner(store, ctx, root)
        result = runner.run(RunSpec("wordllama-l2-256", "Banking77Classification"))
        prepared = runner.prepare(get_task("Banking77Classification"))
        yield result, store, prepared.payload, runner.encoder("wordllama-l2-256"), ctx


def test_protocol_is_mtebs_and_experiments_are_stored(stored) -> None:
    from mteb.abstasks.classification import AbsTaskClassification

    result, store, data, _, _ = stored
    row = store.run_row(result.key)
    assert row["task_type"] == "classification" and row["main_metric"] == "accuracy"
    extra = json.loads(row["extra"])
    assert extra["n_experiments"] == AbsTaskClassification.n_experiments == 10
    assert extra["samples_per_label"] == AbsTaskClassification.samples_per_label
    assert extra["seed"] == 42
    accuracy = store.query_scores(result.key, "accuracy")
    assert sorted(accuracy) == sorted(f"experiment-{i}" for i in range(10))
    assert np.mean(list(accuracy.values())) == pytest.approx(result.main_score, abs=1e-12)
    assert len(set(accuracy.values())) > 1  # ten different undersamplings, not one repeated
    assert result.main_score > 3 / N_LABELS  # far above chance on six intents


def test_experiment_zero_matches_independent_reimplementation(stored) -> None:
    result, store, data, encoder, ctx = stored
    labels = list(data.label_names)
    y_train = np.array([labels.index(c) for c in data.train.labels])
    y_test = np.array([labels.index(c) for c in data.test.labels])
    # mteb's rule: shuffle all train indices with RandomState(seed), keep the first
    # samples_per_label of each label in that order.
    idxs = list(range(len(y_train)))
    np.random.RandomState(42).shuffle(idxs)
    count: dict[int, int] = defaultdict(int)
    chosen = []
    for i in idxs:
        if count[y_train[i]] < 8:
            chosen.append(i)
            count[y_train[i]] += 1
    train_texts = [data.train.texts[i] for i in chosen]
    x_train = encoder.encode(train_texts, "query").vectors
    x_test = ctx.encode(encoder, data.test.texts, "query", "check").embeddings.vectors
    clf = LogisticRegression(max_iter=100, random_state=42).fit(x_train, y_train[chosen])
    accuracy = float((clf.predict(x_test) == y_test).mean())
    stored_acc = store.query_scores(result.key, "accuracy")["experiment-0"]
    assert accuracy == pytest.approx(stored_acc, abs=1e-9)
