"""Retrieval task kind: BEIR data -> encode (cached) -> search -> ir-measures -> outcome."""

from __future__ import annotations

import time
from pathlib import Path

from adapters.base import Encoder
from harness.embeddings import Embeddings
from harness.search.latency import measure, searcher_for
from harness.metrics import evaluate_run
from harness.kinds.outcome import Context, Outcome, Prepared
from harness.search.ann import fidelity
from harness.search.base import TopK
from harness.search.registry import get_backend
from harness.spec import RunSpec
from harness.search.stats import describe
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
    backend = get_backend(spec.backend)  # an invalid backend fails before any encoding
    if hasattr(encoder, "k"):
        encoder.k = spec.k  # type: ignore[attr-defined]  # re-score depth follows the run depth

    docs_res, queries_res, compress_s = ctx.encode_compressed(
        encoder, data.corpus_texts, data.query_texts, task.name)
    timings["encode_corpus_s"] = docs_res.encode_seconds
    timings["encode_queries_s"] = queries_res.encode_seconds
    timings["compress_s"] = compress_s
    timings["load_s"] = ctx.load_seconds.get(encoder.meta.name, 0.0)

    extra_k = 1 if task.ignore_identical_ids else 0
    cost = measure(backend, queries_res.embeddings, docs_res.embeddings, spec.k + extra_k)
    timings.update(index_build_s=cost.build_s, search_s=cost.batch_s,
                   search_warmup_ms=cost.warmup_ms)
    run = _run(cost.top, data, task)

    began = time.perf_counter()
    evaluation = evaluate_run(run, data.qrels)
    timings["evaluate_s"] = time.perf_counter() - began

    rankings = []
    for qid, hits in run.items():
        best = sorted(hits.items(), key=lambda kv: -kv[1])[:RANKING_DEPTH]
        rankings.extend((qid, rank, doc, score) for rank, (doc, score) in enumerate(best, 1))

    n_docs = len(data.corpus_ids)
    n_q = len(data.query_ids)
    code_bytes = docs_res.embeddings.nbytes  # what the (compressed) representation stores
    costs = {
        "bytes_per_doc": code_bytes / n_docs,
        "index_bytes": cost.index_bytes,  # what the search structure holds (graph links etc.)
        "index_bytes_per_doc": cost.index_bytes / n_docs,
        "encode_docs_per_s": n_docs / docs_res.encode_seconds if docs_res.encode_seconds else None,
        "query_encode_ms": 1000 * queries_res.encode_seconds / n_q,
        "search_p50_ms": cost.p50_ms,
        "search_p95_ms": cost.p95_ms,
        "search_qps": cost.qps,
        "threads": max(cost.threads.values(), default=None),
        "search_threads": cost.threads,  # batch search (queries/s)
        "latency_threads": 1,  # single-query p50/p95 (see harness/search/latency.py)
        "latency_queries": n_q,
    }
    extra = {"index": describe(docs_res.embeddings, queries_res.embeddings),
             "backend": dict(getattr(backend, "stats", {}) or {})}
    plan = getattr(encoder, "plan", None)
    if plan is not None:
        extra["compression"] = {"spec": spec.compression, "scheme": plan.scheme,
                                "dim": plan.dim_out, "planned_bytes_per_doc": plan.bytes_per_doc(),
                                **getattr(encoder, "fit_info", {})}
    alternatives = getattr(backend, "alternatives", None)
    if alternatives is not None:  # e.g. MUVERA without its rerank, scored in the same run
        extra["alternatives"] = {
            name: evaluate_run(_run(top, data, task), data.qrels).means
            for name, top in alternatives(queries_res.embeddings, docs_res.embeddings,
                                          spec.k + extra_k).items()}
    if spec.backend != "exact":
        extra["fidelity"] = _fidelity(cost.top, queries_res.embeddings, docs_res.embeddings,
                                      spec.k + extra_k, data, task, evaluation.means)
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


def _run(top: TopK, data: RetrievalData, task: TaskMeta) -> dict[str, dict[str, float]]:
    run = top.to_run(data.query_ids, data.corpus_ids)
    if task.ignore_identical_ids:  # as MTEB: a document never counts as its own hit
        run = {q: {d: s for d, s in hits.items() if d != q} for q, hits in run.items()}
    return run


def _fidelity(ann: TopK, queries: Embeddings, docs: Embeddings, k: int, data: RetrievalData,
              task: TaskMeta, ann_scores: dict[str, float]) -> dict[str, float]:
    """ANN vs exact search on the very same (possibly compressed) vectors."""
    exact = searcher_for(get_backend("exact"), queries, docs).search(slice(None), k)
    exact_ndcg = evaluate_run(_run(exact, data, task), data.qrels).means["ndcg_at_10"]
    return {**fidelity(ann, exact), "exact_ndcg_at_10": exact_ndcg,
            "delta_ndcg_at_10": ann_scores["ndcg_at_10"] - exact_ndcg}
