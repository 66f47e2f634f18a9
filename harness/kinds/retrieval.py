"""Retrieval task kind, in explicit stages:

encode (cached) -> compress (fit on the corpus) -> build the index (shared by runs that differ only
in query parameters) -> search and measure -> evaluate (ir-measures) -> assemble the outcome.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.base import Encoder
from harness.cache import EncodeResult
from harness.compression import Compressor, make_compressor
from harness.kinds.outcome import BuiltIndex, Compressed, Context, Outcome, Prepared
from harness.metrics import Evaluation, evaluate_run
from harness.search.ann import fidelity
from harness.search.base import TopK
from harness.search.latency import SearchCost, measure
from harness.search.registry import build_exact, get_builder
from harness.search.stats import describe
from harness.spec import EXACT, RunSpec
from harness.tasks.base import RetrievalData, TaskMeta
from harness.tasks.beir import load_beir
from harness.tasks.registry import require_available

RANKING_DEPTH = 100  # rows kept per query in the store: enough to recompute any @10/@100 metric
AXES = frozenset({"compression", "backend", "k", "precision"})


def prepare(task: TaskMeta, data_root: Path) -> Prepared:
    data = load_beir(require_available(task, data_root), task.split)
    return Prepared(task, data.data_sha256, data, n_items=len(data.query_ids))


@dataclass(frozen=True)
class Encoded:
    docs: EncodeResult
    queries: EncodeResult
    load_s: float
    key: str  # the two cache folders: what identifies these vectors across runs


def execute(prepared: Prepared, encoder: Encoder, spec: RunSpec, ctx: Context) -> Outcome:
    task: TaskMeta = prepared.task
    data: RetrievalData = prepared.payload
    compressor = make_compressor(spec.compression, encoder.meta, spec.k)  # fails before encoding
    get_builder(spec.backend)
    encoded = encode(encoder, data, task, ctx)
    vectors = compress(compressor, encoded, ctx)
    built = ctx.index(vectors, spec.backend)
    depth = spec.k + (1 if task.ignore_identical_ids else 0)
    cost = measure(built.searcher, vectors.queries, depth, spec.backend.query_params)
    run = to_run(cost.top, data, task)
    began = time.perf_counter()
    evaluation = evaluate_run(run, data.qrels)
    evaluate_s = time.perf_counter() - began
    extra = explain(spec, compressor, vectors, built, cost.top, depth, data, task, evaluation)
    return assemble(data, encoded, vectors, built, cost, run, evaluation, extra, evaluate_s)


def encode(encoder: Encoder, data: RetrievalData, task: TaskMeta, ctx: Context) -> Encoded:
    """Both sides through the embedding cache, uncompressed (every variant shares them)."""
    docs = ctx.encode(encoder, data.corpus_texts, "document", f"{task.name} corpus")
    queries = ctx.encode(encoder, data.query_texts, "query", f"{task.name} queries")
    key = "|".join(str(ctx.cache.folder(encoder, side, texts)) for side, texts in
                   (("document", data.corpus_texts), ("query", data.query_texts)))
    return Encoded(docs, queries, ctx.load_seconds.get(encoder.meta.name, 0.0), key)


def compress(compressor: Compressor, encoded: Encoded, ctx: Context) -> Compressed:
    spec = compressor.spec
    depth = str(getattr(compressor, "depth", "")) + str(getattr(compressor, "k", ""))
    key = (str(spec), depth if spec.name == "binary+rescore" else "", encoded.key)
    return ctx.compressed(compressor, key, encoded.docs, encoded.queries)


def run_vectors(spec: RunSpec, encoder: Encoder, data: RetrievalData, task: TaskMeta,
                ctx: Context) -> Compressed:
    """A run's document and query vectors as ``execute`` searches them: cached, then compressed
    (for studies and fusion, which need more than the stored top-100)."""
    compressor = make_compressor(spec.compression, encoder.meta, spec.k)
    return compress(compressor, encode(encoder, data, task, ctx), ctx)


def deep_top(spec: RunSpec, encoder: Encoder, data: RetrievalData, task: TaskMeta, ctx: Context,
             depth: int) -> TopK:
    """A run's ranking to ``depth`` through its own backend (the index built once per context)."""
    vectors = run_vectors(spec, encoder, data, task, ctx)
    built = ctx.index(vectors, spec.backend)
    return built.searcher.search(vectors.queries, depth, spec.backend.query_params)


def to_run(top: TopK, data: RetrievalData, task: TaskMeta) -> dict[str, dict[str, float]]:
    run = top.to_run(data.query_ids, data.corpus_ids)
    if task.ignore_identical_ids:  # as MTEB: a document never counts as its own hit
        run = {q: {d: s for d, s in hits.items() if d != q} for q, hits in run.items()}
    return run


def explain(spec: RunSpec, compressor: Compressor, vectors: Compressed, built: BuiltIndex,
            top: TopK, depth: int, data: RetrievalData, task: TaskMeta,
            evaluation: Evaluation) -> dict[str, Any]:
    """The run's ``extra``: index statistics, backend statistics, compression plan, the
    alternative rankings a backend offers, and the ANN-vs-exact fidelity on the same vectors."""
    searcher, queries = built.searcher, vectors.queries
    params = spec.backend.query_params
    backend: dict[str, Any] = (dict(searcher.describe(queries, params))  # type: ignore[attr-defined]
                               if hasattr(searcher, "describe") else {})
    backend.update(spec=str(spec.backend), build_key=spec.backend.build_key,
                   index_build_number=built.build_number)
    if not built.built_now:
        backend["build_shared_with"] = built.built_by
    extra: dict[str, Any] = {"index": describe(vectors.docs, queries), "backend": backend}
    if spec.compression.name != "none":
        extra["compression"] = {"spec": str(spec.compression), "scheme": spec.compression.name,
                                "dim": compressor.dim_out,
                                "planned_bytes_per_doc": compressor.bytes_per_doc,
                                **vectors.fit_info}
    if hasattr(searcher, "alternatives"):  # e.g. MUVERA without its rerank, scored in the run
        extra["alternatives"] = {
            name: evaluate_run(to_run(top, data, task), data.qrels).means
            for name, top in searcher.alternatives(queries, depth, params).items()}
    if spec.backend != EXACT:
        exact = build_exact(vectors.docs, {}).search(queries, depth, {})
        exact_ndcg = evaluate_run(to_run(exact, data, task), data.qrels).means["ndcg_at_10"]
        extra["fidelity"] = {**fidelity(top, exact), "exact_ndcg_at_10": exact_ndcg,
                             "delta_ndcg_at_10": evaluation.means["ndcg_at_10"] - exact_ndcg}
    return extra


def assemble(data: RetrievalData, encoded: Encoded, vectors: Compressed, built: BuiltIndex,
             cost: SearchCost, run: dict[str, dict[str, float]], evaluation: Evaluation,
             extra: dict[str, Any], evaluate_s: float) -> Outcome:
    n_docs, n_q = len(data.corpus_ids), len(data.query_ids)
    docs_s, queries_s = encoded.docs.encode_seconds, encoded.queries.encode_seconds
    index_bytes = int(extra["backend"].get("index_bytes", built.searcher.index_bytes))
    timings = {"encode_corpus_s": docs_s, "encode_queries_s": queries_s,
               "compress_s": vectors.seconds, "load_s": encoded.load_s,
               "search_s": cost.batch_s, "search_warmup_ms": cost.warmup_ms,
               "evaluate_s": evaluate_s}
    if built.built_now:  # a shared index was paid for by the run that built it
        timings["index_build_s"] = built.build_s
    costs = {
        "bytes_per_doc": vectors.docs.nbytes / n_docs,  # what the representation stores
        "index_bytes": index_bytes,  # what the search structure holds (graph links etc.)
        "index_bytes_per_doc": index_bytes / n_docs,
        "encode_docs_per_s": n_docs / docs_s if docs_s else None,
        "query_encode_ms": 1000 * queries_s / n_q,
        "search_p50_ms": cost.p50_ms, "search_p95_ms": cost.p95_ms, "search_qps": cost.qps,
        "threads": max(cost.threads.values(), default=None),
        "search_threads": cost.threads,  # batch search (queries/s)
        "latency_threads": 1,  # single-query p50/p95 (see harness/search/latency.py)
        "latency_queries": n_q,
    }
    rankings = []
    for qid, hits in run.items():
        best = sorted(hits.items(), key=lambda kv: -kv[1])[:RANKING_DEPTH]
        rankings.extend((qid, rank, doc, score) for rank, (doc, score) in enumerate(best, 1))
    return Outcome(
        scores=evaluation.means, query_scores=evaluation.per_query, rankings=rankings,
        timings=timings, costs=costs, extra=extra, n_queries=n_q, n_docs=n_docs,
        task_queries=list(zip(data.query_ids, data.query_texts, strict=True)),
        task_qrels=[(q, d, r) for q, docs in data.qrels.items() for d, r in docs.items()],
        cache_hit=encoded.docs.from_cache and encoded.queries.from_cache)
