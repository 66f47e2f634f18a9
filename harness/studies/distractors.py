"""A retrieval task's corpus grown with real distractor texts, quality measured at each size.

Distractors are texts no query is judged against: NFCorpus documents, STS-benchmark sentences and
Banking77 utterances, read from the real data root ($HARNESS_DATA or ../shared/data; a small test
task may live elsewhere). Each source is encoded whole through the embedding cache (so the NFCorpus
documents share their cache with NFCorpus runs); a seeded shuffle of the pooled texts picks the
first N, so every larger corpus contains every smaller one.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import HarnessError

SOURCES = ("nfcorpus", "stsbenchmark", "banking77")


def source_texts(name: str, root: Path) -> list[str]:
    from harness.tasks.beir import read_corpus

    if name == "nfcorpus":
        return read_corpus(root / "beir" / "nfcorpus" / "corpus.jsonl")[1]
    if name == "stsbenchmark":
        seen: dict[str, None] = {}
        with (root / "mteb" / "stsbenchmark" / "test.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                pair = json.loads(line)
                seen.update({pair["sentence1"]: None, pair["sentence2"]: None})
        return list(seen)
    if name == "banking77":
        with (root / "mteb" / "banking77" / "test.csv").open(encoding="utf-8", newline="") as fh:
            return list(dict.fromkeys(row["text"] for row in csv.DictReader(fh)))
    raise HarnessError(f"unknown distractor source '{name}' (known: {', '.join(SOURCES)})")


def _pool_order(sizes: list[int], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).permutation(sum(sizes))


def _grown(task_docs: Any, pool: list[Any], picked: np.ndarray, lengths: list[int]) -> Any:
    """The task's documents followed by the picked pool rows (any embedding type)."""
    from harness.embeddings import concat
    from harness.search.latency import take

    starts = np.cumsum([0, *lengths])
    parts = [task_docs]
    for i, emb in enumerate(pool):
        rows = np.sort(picked[(picked >= starts[i]) & (picked < starts[i + 1])] - starts[i])
        if rows.size:
            parts.append(_rows(emb, rows, take))
    return concat(parts)


def _rows(emb: Any, rows: np.ndarray, take: Any) -> Any:
    if emb.kind == "dense":
        return replace(emb, vectors=emb.vectors[rows])
    if emb.kind == "sparse":
        return replace(emb, matrix=emb.matrix[rows])
    raise HarnessError(f"distractors support dense and sparse models, not {emb.kind}")


def _truncate(emb: Any, dim: int) -> Any:
    return emb if not dim else replace(emb, vectors=np.ascontiguousarray(emb.vectors[:, :dim]))


def measure_distractors(ctx: Any, grid: dict[str, Any]) -> list[dict[str, Any]]:
    from harness.data_root import resolve_data_root
    from harness.spec import RunSpec

    pool_root = resolve_data_root(None)
    texts = {name: source_texts(name, pool_root) for name in grid["sources"]}
    lengths = [len(t) for t in texts.values()]
    order = _pool_order(lengths, int(grid["seed"]))
    sizes = sorted(int(s) for s in grid["sizes"])
    if sizes[-1] > len(order):
        raise HarnessError(f"distractors: {sizes[-1]} requested, the sources hold {len(order)}")
    models = [(grid["dense"], int(d)) for d in grid["dims"]] if grid["dense"] else []
    models += [(m, 0) for m in grid["sparse"]]
    rows = []
    for model in dict.fromkeys(m for m, _ in models):
        spec = RunSpec(model, grid["task"])
        ctx.runner.run(spec)  # the plain run, stored for the board
        task, prepared, encoder, _, _ = ctx.runner.resolve(spec)
        data = prepared.payload
        docs = ctx.runner.ctx.encode(encoder, data.corpus_texts, "document", f"{task.name} corpus")
        queries = ctx.runner.ctx.encode(encoder, data.query_texts, "query", f"{task.name} queries")
        pool = [ctx.runner.ctx.encode(encoder, t, "document", f"distractors {name}").embeddings
                for name, t in texts.items()]
        for size in sizes:
            grown = _grown(docs.embeddings, pool, order[:size], lengths)
            for dim in [d for m, d in models if m == model]:
                scores = _evaluate(_truncate(grown, dim), _truncate(queries.embeddings, dim),
                                   data, task, size)
                series = model + (f" mrl:{dim}" if dim else "")
                rows.append({"series": series, "model": model, "dim": dim or None,
                             "distractors": size, "corpus_size": len(data.corpus_ids) + size,
                             **scores})
                ctx.log(f"distractors {series} +{size}: ndcg@10 {scores['ndcg_at_10']:.4f}")
    return rows


def _evaluate(docs: Any, queries: Any, data: Any, task: Any, size: int) -> dict[str, float]:
    from harness.metrics import evaluate_run
    from harness.search.registry import search

    extra = 1 if task.ignore_identical_ids else 0
    top = search("exact", queries, docs, 100 + extra)
    doc_ids = [*data.corpus_ids, *(f"distractor-{i}" for i in range(size))]
    run = top.to_run(data.query_ids, doc_ids)
    if task.ignore_identical_ids:
        run = {q: {d: s for d, s in hits.items() if d != q} for q, hits in run.items()}
    means = evaluate_run(run, data.qrels, ("ndcg_at_10", "recall_at_100")).means
    return {k: float(v) for k, v in means.items()}
