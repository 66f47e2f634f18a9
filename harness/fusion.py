"""Hybrid retrieval by rank/score fusion of component runs (ranx does the fusing).

A fused model is a model expression, parsed here and nowhere else:

    fuse:rrf:A+B[+C][:k=60]                          reciprocal rank fusion (Cormack et al. 2009)
    fuse:convex:A+B[+C][:w=0.7][:norm=minmax|zscore] weighted sum of normalised scores

``w`` is the first component's weight with two components (the second gets 1 - w); with more,
``w=0.5/0.3/0.2`` lists one weight per component. The default is equal weights, min-max.

Each component is a normal run (stored first, through the runner, if missing). Its deep ranking
(``FUSION_DEPTH`` per query, deeper than the store's top-100 rankings) is recomputed from its
cached embeddings, the rankings are fused, and the fused run is evaluated and stored like any run:
its key holds the component run keys and the fusion parameters; its costs add the components'.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from adapters.base import ModelMeta
from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.runner import Runner, RunResult
    from harness.spec import RunSpec

PREFIX = "fuse:"
FUSION_DEPTH = 1000  # per component and query: the issue asks for at least the top 1000
METHODS = {"rrf": {"k": "60"}, "convex": {"w": "", "norm": "minmax"}}
NORMS = {"minmax": "min-max", "zscore": "zmuv"}  # our names -> ranx's
SYNTAX = "fuse:rrf:A+B[+C][:k=N] or fuse:convex:A+B[+C][:w=W][:norm=minmax|zscore]"


class FusionSpecError(HarnessError):
    pass


def is_fusion(model: str) -> bool:
    return model.startswith(PREFIX)


@dataclass(frozen=True)
class FusionSpec:
    method: str  # "rrf" | "convex"
    components: tuple[str, ...]
    k: int = 60  # rrf
    weights: tuple[float, ...] = ()  # convex, one per component, summing to 1
    norm: str = "minmax"  # convex

    def __str__(self) -> str:
        head = f"{PREFIX}{self.method}:{'+'.join(self.components)}"
        if self.method == "rrf":
            return f"{head}:k={self.k}"
        shown = self.weights[:1] if len(self.weights) == 2 else self.weights  # w2 = 1 - w1
        return f"{head}:w={'/'.join(f'{w:g}' for w in shown)}:norm={self.norm}"

    def key_fields(self) -> dict[str, Any]:
        params: dict[str, Any] = ({"k": self.k} if self.method == "rrf"
                                  else {"weights": list(self.weights), "norm": self.norm})
        return {"method": self.method, "params": params, "depth": FUSION_DEPTH}


def parse_fusion(text: str) -> FusionSpec:
    """``fuse:METHOD:A+B[:param=value...]`` -> a FusionSpec with every default filled in."""
    if not is_fusion(text):
        raise FusionSpecError(f"'{text}' is not a fusion expression ({SYNTAX})")
    method, _, rest = text[len(PREFIX):].partition(":")
    if method not in METHODS:
        raise FusionSpecError(f"unknown fusion method '{method}' in '{text}' "
                              f"(allowed: {', '.join(METHODS)})")
    members, *param_parts = rest.split(":")
    components = tuple(c.strip() for c in members.split("+"))
    if len(components) < 2 or not all(components):
        raise FusionSpecError(f"'{text}' needs at least two components joined by '+' ({SYNTAX})")
    if len(set(components)) != len(components):
        raise FusionSpecError(f"'{text}' names a component twice")
    params = dict(METHODS[method])
    for part in param_parts:
        name, eq, value = part.partition("=")
        if name not in params or not eq or not value:
            raise FusionSpecError(f"bad parameter '{part}' in '{text}' (allowed for {method}: "
                                  f"{', '.join(f'{p}=' for p in METHODS[method])})")
        params[name] = value
    if method == "rrf":
        if not params["k"].isdigit() or int(params["k"]) < 1:
            raise FusionSpecError(f"k must be a positive integer in '{text}', got '{params['k']}'")
        return FusionSpec("rrf", components, k=int(params["k"]))
    if params["norm"] not in NORMS:
        raise FusionSpecError(f"norm must be one of {', '.join(NORMS)} in '{text}', "
                              f"got '{params['norm']}'")
    return FusionSpec("convex", components, weights=_weights(params["w"], len(components), text),
                      norm=params["norm"])


def _weights(value: str, n: int, text: str) -> tuple[float, ...]:
    if not value:
        return tuple(round(1 / n, 6) for _ in range(n))
    try:
        given = [float(v) for v in value.split("/")]
    except ValueError:
        raise FusionSpecError(f"w must be a number or W1/W2/... in '{text}', got '{value}'") \
            from None
    if len(given) == 1 and n == 2:
        given.append(round(1 - given[0], 6))
    if len(given) != n or any(not 0 <= w <= 1 for w in given) or abs(sum(given) - 1) > 1e-4:
        raise FusionSpecError(f"w in '{text}' must give {n} weights in [0, 1] summing to 1, "
                              f"got '{value}'")
    return tuple(round(w, 6) for w in given)  # one canonical value per weight (and key)


@dataclass
class _FusedModel:
    """What the runner's row builder reads from an encoder: only ``meta``."""

    meta: ModelMeta


# (component run key, depth) -> its deep run; a study fuses one pair under several parameters
_DEEP_RUNS: dict[tuple[str, int], dict[str, dict[str, float]]] = {}


def deep_run(runner: Runner, spec: RunSpec, depth: int) -> tuple[str, dict[str, dict[str, float]]]:
    """A component's run key and its top-``depth`` ranking, recomputed from cached embeddings."""
    from harness.kinds.retrieval import deep_top, to_run

    task, prepared, encoder, _, key = runner.resolve(spec)
    if (key, depth) not in _DEEP_RUNS:
        data = prepared.payload
        extra = 1 if task.ignore_identical_ids else 0
        top = deep_top(spec, encoder, data, task, runner.ctx, depth + extra)
        run = to_run(top, data, task)  # as the retrieval kind: never a document's own hit
        if len(_DEEP_RUNS) > 8:  # bounded: a deep run of a large corpus is not small
            _DEEP_RUNS.clear()
        _DEEP_RUNS[(key, depth)] = run
    return key, _DEEP_RUNS[(key, depth)]


def fuse_runs(fusion: FusionSpec,
              runs: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Fuse per-query rankings with ranx; queries a component left empty get no vote from it."""
    from ranx import Run, fuse

    query_ids = sorted(set().union(*runs))
    # ranx needs every run to hold every query, each with at least one document
    filled = [Run.from_dict({q: (r.get(q) or {"__none__": 0.0}) for q in query_ids}) for r in runs]
    if fusion.method == "rrf":
        fused = fuse(filled, norm=None, method="rrf", params={"k": fusion.k})
    else:
        fused = fuse(filled, norm=NORMS[fusion.norm], method="wsum",
                     params={"weights": list(fusion.weights)})
    return {q: {d: float(s) for d, s in hits.items() if d != "__none__"}
            for q, hits in fused.to_dict().items()}


def run_fused(runner: Runner, spec: RunSpec) -> RunResult:
    """Store (or find) the fused run of ``spec.model``; components are run first if missing."""
    from harness.runner import RunResult
    from harness.spec import canonical_spec, run_key
    from harness.tasks.registry import get_task

    fusion = parse_fusion(spec.model)
    spec = replace(spec, model=str(fusion))  # two spellings of one fusion: one model name
    task = get_task(spec.task)
    if task.type != "retrieval":
        raise HarnessError(f"fusion combines rankings: {task.name} is a {task.type} task")
    parts = [replace(spec, model=c, k=max(spec.k, FUSION_DEPTH)) for c in fusion.components]
    component_keys = [runner.resolve(p)[4] for p in parts]  # validates every name before work
    prepared = runner.prepare(task)
    canonical = canonical_spec(
        spec, {"name": str(fusion), "family": "hybrid", "components": component_keys,
               "fusion": fusion.key_fields()},
        {"name": task.name, "type": task.type, "split": task.split,
         "data_sha256": prepared.data_sha256})
    key = run_key(canonical)
    if runner.store.has_run(key) and not runner.force:
        row = runner.store.run_row(key) or {}
        return RunResult(spec, key, "skipped", row.get("main_metric", task.main_score),
                         row.get("main_score"), runner.store.scores(key), row)
    for part in parts:
        runner.run(part)  # stores the component run when it is missing (a no-op otherwise)
    began = time.perf_counter()
    runner._rss.start()  # noqa: SLF001 - this run's own peak, as Runner.run measures it
    try:
        deep = [deep_run(runner, part, FUSION_DEPTH)[1] for part in parts]
        first = sorted(deep[0])[:1]  # warm-up on one query: ranx's numba set-up is not per query
        fuse_runs(fusion, [{q: r.get(q, {}) for q in first} for r in deep])
        fuse_began = time.perf_counter()
        fused = fuse_runs(fusion, deep)
        fuse_s = time.perf_counter() - fuse_began
    finally:
        rss = runner._rss.stop()  # noqa: SLF001
    component_rows = [runner.store.run_row(k) or {} for k in component_keys]
    outcome = _outcome(fused, prepared, spec.k, component_rows, fuse_s, component_keys)
    meta = ModelMeta(name=str(fusion), family="hybrid", revision="+".join(component_keys),  # type: ignore[arg-type]
                     task_types=frozenset({"retrieval"}))
    row = runner._row(spec, task, _FusedModel(meta), canonical, key, outcome,  # noqa: SLF001
                      time.perf_counter() - began, rss)
    from harness.store import RunRecord

    runner.store.write_run(RunRecord(row, outcome.scores, outcome.query_scores, outcome.rankings,
                                     outcome.task_queries, outcome.task_qrels),
                           replace=runner.force)
    return RunResult(spec, key, "ran", task.main_score, outcome.scores.get(task.main_score),
                     outcome.scores, row)


def _outcome(fused: dict[str, dict[str, float]], prepared: Any, k: int,
             component_rows: list[dict[str, Any]], fuse_s: float,
             component_keys: list[str]) -> Any:
    from harness.kinds.outcome import Outcome
    from harness.kinds.retrieval import RANKING_DEPTH
    from harness.metrics import evaluate_run

    data = prepared.payload
    top = {q: dict(sorted(hits.items(), key=lambda kv: -kv[1])[:k]) for q, hits in fused.items()}
    evaluation = evaluate_run(top, data.qrels)
    rankings = [(q, rank, d, s) for q, hits in top.items()
                for rank, (d, s) in enumerate(list(hits.items())[:RANKING_DEPTH], 1)]
    n_q = len(data.query_ids)
    return Outcome(
        scores=evaluation.means, query_scores=evaluation.per_query, rankings=rankings,
        timings={"fuse_s": fuse_s}, costs=summed_costs(component_rows, 1000 * fuse_s / n_q),
        extra={"fusion": {"components": component_keys,
                          "component_scores": [r.get("main_score") for r in component_rows]}},
        n_queries=n_q, n_docs=len(data.corpus_ids),
        task_queries=list(zip(data.query_ids, data.query_texts, strict=True)),
        task_qrels=[(q, d, r) for q, docs in data.qrels.items() for d, r in docs.items()],
        cache_hit=True)


def summed_costs(rows: list[dict[str, Any]], fuse_ms_per_query: float) -> dict[str, Any]:
    """A hybrid stores and queries every component: bytes and latencies add (run one after
    another); throughputs combine as 1 / sum(1 / x)."""
    def total(col: str) -> float | None:
        values = [r.get(col) for r in rows]
        return None if any(v is None for v in values) else float(sum(values))

    def harmonic(col: str) -> float | None:
        values = [r.get(col) for r in rows]
        return None if any(not v for v in values) else 1 / sum(1 / v for v in values)

    p50, p95 = total("search_p50_ms"), total("search_p95_ms")
    qps = harmonic("search_qps")
    return {"bytes_per_doc": total("bytes_per_doc"), "index_bytes": total("index_bytes"),
            "encode_docs_per_s": harmonic("encode_docs_per_s"),
            "query_encode_ms": total("query_encode_ms"),
            "search_p50_ms": None if p50 is None else p50 + fuse_ms_per_query,
            "search_p95_ms": None if p95 is None else p95 + fuse_ms_per_query,
            "search_qps": None if qps is None else 1 / (1 / qps + fuse_ms_per_query / 1000),
            "fuse_ms_per_query": fuse_ms_per_query,
            "latency_note": "sum of the components' latencies (run one after another) + fusion"}
