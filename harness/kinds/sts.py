"""STS task kind: sentence pairs with a gold score -> mteb's STS evaluator -> cosine Spearman.

Data are read and validated here (one bad row stops the run with file:line:field); mteb's own
``AbsTaskSTS`` subclass for the task scores them, encoding through the embedding cache.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

from adapters.base import Encoder
from harness.errors import DataError
from harness.kinds.mteb_bridge import (
    SentencePairs,
    evaluate_main_score,
    local_task,
    sentence_outcome,
)
from harness.kinds.outcome import Context, Outcome, Prepared
from harness.spec import RunSpec
from harness.tasks.base import TaskMeta
from harness.tasks.lines import decode_text, parse_json
from harness.tasks.mteb_tasks import MtebSource, source
from harness.tasks.registry import require_available


def _text(path: Path, line: int, row: dict, name: str) -> str:
    value = row.get(name)
    if not isinstance(value, str):
        raise DataError(path, line, name, "missing or not a string")
    if not value.strip():
        raise DataError(path, line, name, "empty sentence")
    return value


def _score(path: Path, line: int, row: dict, src: MtebSource) -> float:
    if "score" not in row or row["score"] is None:
        raise DataError(path, line, "score", "missing gold score")
    value = row["score"]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DataError(path, line, "score", f"not a number: {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise DataError(path, line, "score", f"not a number: {value!r}") from None
    if not math.isfinite(number) or not src.min_score <= number <= src.max_score:
        raise DataError(path, line, "score",
                        f"{value!r} outside the range {src.min_score:g}-{src.max_score:g}")
    return number


def load_sts(path: Path, src: MtebSource, limit: int | None = None) -> SentencePairs:
    """Read a ``{"sentence1","sentence2","score",...}`` JSONL file, strictly."""
    if not path.is_file():
        raise DataError(path, None, None, "file not found")
    raw = path.read_bytes()
    ids: list[str] = []
    s1: list[str] = []
    s2: list[str] = []
    gold: list[float] = []
    seen: dict[str, int] = {}
    for line, text in enumerate(decode_text(path, raw).splitlines(), 1):
        if limit is not None and len(ids) >= limit:
            break
        if not text.strip():
            continue
        row = parse_json(path, line, text)
        if not isinstance(row, dict):
            raise DataError(path, line, None, "expected a JSON object")
        missing = [f for f in src.id_fields if row.get(f) in (None, "")]
        if missing:
            raise DataError(path, line, missing[0], "missing pair id field")
        pair_id = ":".join(str(row[f]) for f in src.id_fields) if src.id_fields else str(line)
        if pair_id in seen:
            raise DataError(path, line, src.id_fields[0] if src.id_fields else None,
                            f"duplicate pair id '{pair_id}' (first on line {seen[pair_id]})")
        seen[pair_id] = line
        s1.append(_text(path, line, row, "sentence1"))
        s2.append(_text(path, line, row, "sentence2"))
        gold.append(_score(path, line, row, src))
        ids.append(pair_id)
    if len(ids) < 2:
        raise DataError(path, None, None, "fewer than two scored pairs (a correlation needs two)")
    return SentencePairs(tuple(ids), tuple(s1), tuple(s2), tuple(gold),
                   hashlib.sha256(raw).hexdigest(), path)


def prepare(task: TaskMeta, data_root: Path) -> Prepared:
    src = source(task.name)
    data = load_sts(require_available(task, data_root) / src.filename, src)
    return Prepared(task, data.data_sha256, data, n_items=len(data.pair_ids))


def _dataset(data: SentencePairs):  # noqa: ANN202 - datasets.DatasetDict
    from datasets import Dataset, DatasetDict

    return DatasetDict({"test": Dataset.from_dict({
        "sentence1": list(data.sentence1), "sentence2": list(data.sentence2),
        "score": list(data.gold)})})


def execute(prepared: Prepared, encoder: Encoder, spec: RunSpec, ctx: Context) -> Outcome:
    task: TaskMeta = prepared.task
    data: SentencePairs = prepared.payload
    src = source(task.name)
    mteb_task = local_task(src.mteb_class, _dataset(data))
    model, _, scores = evaluate_main_score(mteb_task, encoder, ctx, task, data.path)

    cosine = (mteb_task.predictions or {}).get("cosine_scores") or []
    query_scores = [(pid, "cosine_similarity", float(c)) for pid, c in zip(data.pair_ids, cosine,
                                                                            strict=True)]
    # The gold score next to the prediction lets anyone recompute the correlation from the store.
    query_scores += [(pid, "gold_score", g) for pid, g in zip(data.pair_ids, data.gold,
                                                              strict=True)]
    extra = {"mteb_task": src.mteb_class, "n_pairs": len(data.pair_ids),
             "score_range": [src.min_score, src.max_score]}
    return sentence_outcome(mteb_task, model, ctx, scores, query_scores, extra,
                            len(data.pair_ids),
                            task_queries=[(pid, f"{a}\t{b}") for pid, a, b in zip(
                                data.pair_ids, data.sentence1, data.sentence2, strict=True)])
