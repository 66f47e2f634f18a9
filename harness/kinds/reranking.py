"""Reranking kind: mteb 2's protocol (retrieval restricted to each query's candidate list).

In mteb 2 reranking tasks are ``AbsTaskRetrieval`` tasks with a ``top_ranked`` list per query:
each query is scored only against its candidates and the ranking is evaluated with the retrieval
metrics (MAP@1000 for AskUbuntuDupQuestions). Local folder: BEIR files (``corpus.jsonl``,
``queries.jsonl``, ``qrels/<split>.tsv``) plus ``top_ranked.jsonl`` with one
``{"query-id", "corpus-ids": [..]}`` per line. Documents and queries are encoded through the cache.

Per-item rows: mteb's own per-query metrics (every ``map``/``ndcg``/``mrr``/``recall`` cut it
computes for the query), captured from its evaluator.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.base import Encoder
from harness.errors import DataError
from harness.kinds.mteb_bridge import (
    evaluate_main_score,
    local_task,
    read_jsonl,
    sentence_outcome,
    text_field,
    text_list_field,
)
from harness.kinds.outcome import Context, Outcome, Prepared
from harness.spec import RunSpec
from harness.tasks.base import RetrievalData, TaskMeta
from harness.tasks.beir import load_beir
from harness.tasks.mteb_tasks import source
from harness.tasks.registry import require_available

TOP_RANKED = "top_ranked.jsonl"
# pytrec_eval's per-query measure prefixes -> the names mteb (and the store) use for the means
_MEASURES = {"map_cut_": "map_at_", "ndcg_cut_": "ndcg_at_", "recall_": "recall_at_",
             "P_": "precision_at_", "success_": "hit_rate_at_"}


def metric_name(measure: str) -> str:
    for prefix, name in _MEASURES.items():
        if measure.startswith(prefix) and measure[len(prefix):].isdigit():
            return name + measure[len(prefix):]
    return measure


@dataclass(frozen=True)
class RerankingData:
    retrieval: RetrievalData
    candidates: dict[str, list[str]]
    data_sha256: str
    path: Path


def load_reranking(folder: Path, split: str) -> RerankingData:
    retrieval = load_beir(folder, split)
    path = folder / TOP_RANKED
    rows, digest = read_jsonl(path, {"query-id": text_field, "corpus-ids": text_list_field})
    known_docs = set(retrieval.corpus_ids)
    candidates: dict[str, list[str]] = {}
    for line, row in enumerate(rows, 1):
        qid = row["query-id"]
        if qid in candidates:
            raise DataError(path, line, "query-id", f"duplicate query {qid!r}")
        unknown = [d for d in row["corpus-ids"] if d not in known_docs]
        if unknown:
            raise DataError(path, line, "corpus-ids", f"unknown document {unknown[0]!r}")
        candidates[qid] = list(row["corpus-ids"])
    missing = [q for q in retrieval.query_ids if q not in candidates]
    if missing:
        raise DataError(path, None, "query-id", f"no candidate list for query {missing[0]!r}")
    return RerankingData(retrieval, candidates, f"{retrieval.data_sha256}:{digest}", folder)


def prepare(task: TaskMeta, data_root: Path) -> Prepared:
    data = load_reranking(require_available(task, data_root), task.split)
    return Prepared(task, data.data_sha256, data, n_items=len(data.retrieval.query_ids))


def mteb_local_task(task: TaskMeta, data: RerankingData, capture: bool = True) -> Any:
    """mteb's task with its v1 attributes (mteb converts them to its v2 layout itself)."""
    r = data.retrieval
    split = task.split
    src = source(task.name)
    return local_task(
        src.mteb_class, {}, capture, **dict(src.overrides),
        corpus={split: {d: {"title": "", "text": t}
                        for d, t in zip(r.corpus_ids, r.corpus_texts, strict=True)}},
        queries={split: dict(zip(r.query_ids, r.query_texts, strict=True))},
        relevant_docs={split: {q: dict(r.qrels[q]) for q in r.query_ids}},
        top_ranked={split: {q: list(data.candidates[q]) for q in r.query_ids}})


def execute(prepared: Prepared, encoder: Encoder, spec: RunSpec, ctx: Context) -> Outcome:
    task: TaskMeta = prepared.task
    data: RerankingData = prepared.payload
    mteb_task = mteb_local_task(task, data)
    model, _, scores = evaluate_main_score(mteb_task, encoder, ctx, task, data.path)
    per_query = mteb_task.per_query or {}
    rows = [(qid, metric_name(metric), float(value)) for qid, metrics in per_query.items()
            for metric, value in metrics.items()]
    r = data.retrieval
    n_candidates = sum(len(data.candidates[q]) for q in r.query_ids)
    extra = {"mteb_task": source(task.name).mteb_class, "n_queries": len(r.query_ids),
             "n_candidates": n_candidates,
             "per_item": "mteb's retrieval metrics per query over its candidate list"}
    return sentence_outcome(
        mteb_task, model, ctx, scores, rows, extra, len(r.query_ids), n_docs=len(r.corpus_ids),
        task_queries=list(zip(r.query_ids, r.query_texts, strict=True)))
