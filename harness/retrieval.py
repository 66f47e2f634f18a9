"""Retrieval task kind: BEIR data -> encode (cached) -> search -> ir-measures -> outcome."""

from __future__ import annotations

import time
from pathlib import Path

from adapters.base import Encoder
from harness.metrics import evaluate_run
from harness.outcome import Context, Outcome, Prepared
from harness.search.registry import get_backend
from harness.spec import RunSpec
from harness.stats import describe
from harness.tasks.base import RetrievalData, TaskMeta
from harness.tasks.beir import load_beir
from harness.tasks.registry import require_available

RANKING_DEPTH = 100  # rows kept per query in the store: enough to recompute any @10/@100 metric


def prepare(task: TaskMeta, data_root: Path) -> Prepared:
    data = load_beir(require_available(task, data_root), task.split)
    return Prepared(task, data.data_sha256, data, n_items=len(data.query_ids))


def execute(prepared: Prepared, encoder: Encoder, spec: RunSpec, ctx: Context) -> Outcome:
    task: TaskMeta = prepared.task
    data: RetrievalData = prepared.payload
    timings: dict[str, float] = {}

    docs_res = ctx.encode(encoder, data.corpus_texts, "document", f"{task.name} corpus")
    queries_res = ctx.encode(encoder, data.query_texts, "query", f"{task.name} queries")
    timings["encode_corpus_s"] = docs_res.encode_seconds
    timings["encode_queries_s"] = queries_res.encode_seconds
    timings["load_s"] = ctx.load_seconds.get(encoder.meta.name, 0.0)

    backend = get_backend(spec.backend)
    extra_k = 1 if task.ignore_identical_ids else 0
    began = time.perf_counter()
    top = backend.search(queries_res.embeddings, docs_res.embeddings, spec.k + extra_k)
    timings["search_s"] = time.perf_counter() - began

    run = top.to_run(data.query_ids, data.corpus_ids)
    if task.ignore_identical_ids:  # as MTEB: a document never counts as its own hit
        run = {q: {d: s for d, s in hits.items() if d != q} for q, hits in run.items()}

    began = time.perf_counter()
    evaluation = evaluate_run(run, data.qrels)
    timings["evaluate_s"] = time.perf_counter() - began

    rankings = []
    for qid, hits in run.items():
        best = sorted(hits.items(), key=lambda kv: -kv[1])[:RANKING_DEPTH]
        rankings.extend((qid, rank, doc, score) for rank, (doc, score) in enumerate(best, 1))

    n_docs = len(data.corpus_ids)
    index_bytes = docs_res.embeddings.nbytes
    costs = {
        "index_bytes": index_bytes,
        "bytes_per_doc": index_bytes / n_docs,
        "encode_docs_per_s": n_docs / docs_res.encode_seconds if docs_res.encode_seconds else None,
        "query_encode_ms": 1000 * queries_res.encode_seconds / len(data.query_ids),
        "search_qps": len(data.query_ids) / timings["search_s"] if timings["search_s"] else None,
    }
    extra = {"index": describe(docs_res.embeddings, queries_res.embeddings),
             "backend": dict(getattr(backend, "stats", {}) or {})}
    return Outcome(
        scores=evaluation.means,
        query_scores=evaluation.per_query,
        rankings=rankings,
        timings=timings,
        costs=costs,
        extra=extra,
        n_queries=len(data.query_ids),
        n_docs=n_docs,
        task_queries=list(zip(data.query_ids, data.query_texts, strict=True)),
        task_qrels=[(q, d, r) for q, docs in data.qrels.items() for d, r in docs.items()],
        cache_hit=docs_res.from_cache and queries_res.from_cache,
    )
