"""What a study measures: each measure validates its grid, then returns result rows (dicts).

``runs`` runs a grid of ordinary run specs through the runner (stored runs are reused, encodes come
from the embedding cache) and reads each run back from the store. The others measure what is not a
run: HNSW rank shifts, corpora grown with distractors; their rows live in the study's result file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import DataError

if TYPE_CHECKING:
    from harness.runner import Runner

COST_COLUMNS = ("bytes_per_doc", "encode_docs_per_s", "query_encode_ms", "search_p50_ms",
                "search_p95_ms", "search_qps")


@dataclass
class StudyContext:
    runner: Runner
    data_root: Path
    log: Callable[[str], None] = print


# field -> (python type, default; REQUIRED = no default)
REQUIRED = object()
Fields = dict[str, tuple[type, Any]]


@dataclass(frozen=True)
class Measure:
    fields: Fields
    run: Callable[[StudyContext, dict[str, Any]], list[dict[str, Any]]]

    def check(self, path: Path, lines: dict[str, int], where: str, grid: dict[str, Any]) -> None:
        for key, value in grid.items():
            field = f"{where}.{key}"
            if key not in self.fields:
                raise DataError(path, lines.get(field), field,
                                f"unknown field (known: {', '.join(self.fields)})")
            kind = self.fields[key][0]
            ok = (isinstance(value, list) and len(value) > 0 and all(
                isinstance(v, str | int) and not isinstance(v, bool) for v in value)) \
                if kind is list else isinstance(value, kind) and not isinstance(value, bool)
            if not ok:
                raise DataError(path, lines.get(field), field,
                                f"must be a {'non-empty list' if kind is list else kind.__name__}")
        if where == "grid":
            for key, (_, default) in self.fields.items():
                if default is REQUIRED and key not in grid:
                    raise DataError(path, lines.get(where), f"{where}.{key}", "missing (required)")

    def with_defaults(self, grid: dict[str, Any]) -> dict[str, Any]:
        return {k: grid.get(k, default) for k, (_, default) in self.fields.items()}


def stored_row(runner: Runner, key: str) -> dict[str, Any]:
    """One stored run as a flat result row: identity, every score, the cost columns."""
    row = runner.store.run_row(key) or {}
    extra = row.get("extra") or {}
    extra = json.loads(extra) if isinstance(extra, str) else extra
    out = {"run_key": key, "model": row.get("model"), "task": row.get("task"),
           "variant": row.get("variant") or "", **runner.store.scores(key),
           **{c: row.get(c) for c in COST_COLUMNS}}
    compression = extra.get("compression") or {}
    out["compression"] = compression.get("spec", "none")
    out["dim"] = compression.get("dim")
    for name, value in (extra.get("fidelity") or {}).items():
        out[f"fidelity_{name}"] = value
    return out


def measure_runs(ctx: StudyContext, grid: dict[str, Any]) -> list[dict[str, Any]]:
    from harness.runner import UnsupportedPair
    from harness.spec import grid as spec_grid

    rows = []
    specs = spec_grid(list(grid["models"]), list(grid["tasks"]), tuple(grid["compressions"]),
                      tuple(grid["backends"]), k=int(grid["k"]))
    for spec in specs:
        try:
            result = ctx.runner.run(spec)
        except UnsupportedPair as exc:
            ctx.log(f"skip: {exc}")
            continue
        ctx.log(f"{result.status}: {spec.model} {spec.variant or ''} on {spec.task}: "
                f"{result.main_metric} {result.main_score}")
        rows.append({**stored_row(ctx.runner, result.key), "backend": spec.backend})
    return rows


def dense_pair(ctx: StudyContext, model: str, task_name: str) -> tuple[Any, Any, Any]:
    """(prepared task, document embeddings, query embeddings) from the embedding cache; the plain
    run is stored too, so the study's baseline sits on the board."""
    from harness.spec import RunSpec

    spec = RunSpec(model, task_name)
    ctx.runner.run(spec)
    from harness.kinds.retrieval import run_vectors

    task, prepared, encoder, _, _ = ctx.runner.resolve(spec)
    vectors = run_vectors(spec, encoder, prepared.payload, task, ctx.runner.ctx)
    return prepared, vectors.docs, vectors.queries


def measure_hnsw_rank_shift(ctx: StudyContext, grid: dict[str, Any]) -> list[dict[str, Any]]:
    """Where each exact top-``depth`` document lands in the HNSW ranking of the same vectors.

    HNSW is searched with k = max(depth, efs) so that faiss's ef = max(efSearch, k) is efs itself;
    a document outside that list counts as lost (not as a shift)."""
    import numpy as np

    from harness.search.registry import search

    _, docs, queries = dense_pair(ctx, grid["model"], grid["task"])
    depth = int(grid["depth"])
    exact = search("exact", queries, docs, depth)
    rows = []
    for efs in grid["efs"]:
        ann = search(f"hnsw:m={grid['m']}:efs={efs}", queries, docs, max(depth, int(efs)))
        shifts, lost = [], 0
        for truth, found in zip(exact.indices, ann.indices, strict=True):
            where = {int(d): r for r, d in enumerate(found)}
            for rank, doc in enumerate(truth):
                if int(doc) < 0:
                    continue
                if int(doc) in where:
                    shifts.append(where[int(doc)] - rank)
                else:
                    lost += 1
        moved = np.abs(np.array(shifts)) if shifts else np.zeros(1)
        values, counts = np.unique(np.array(shifts, dtype=int), return_counts=True)
        histogram = {str(v): int(c) for v, c in zip(values, counts, strict=True)}
        rows.append({"efs": int(efs), "mean_abs_shift": float(moved.mean()),
                     "max_abs_shift": int(moved.max()),
                     "moved_fraction": float((moved > 0).mean()),
                     "lost_fraction": lost / max(lost + len(shifts), 1),
                     "shift_histogram": histogram})
        ctx.log(f"hnsw efs={efs}: mean |shift| {rows[-1]['mean_abs_shift']:.3f}, "
                f"max {rows[-1]['max_abs_shift']}, lost {rows[-1]['lost_fraction']:.3%}")
    return rows


def measure_muvera(ctx: StudyContext, grid: dict[str, Any]) -> list[dict[str, Any]]:
    """MUVERA runs at several rerank depths: recall of exact MaxSim's top-10/100 (the fidelity the
    retrieval kind records for every non-exact backend) against candidates re-ranked."""
    from harness.spec import RunSpec

    base = ctx.runner.run(RunSpec(grid["model"], grid["task"], k=int(grid["k"])))
    rows = [{**stored_row(ctx.runner, base.key), "candidates": None, "backend": "exact"}]
    for rerank in grid["reranks"]:
        backend = f"muvera:rerank={int(rerank)}"
        result = ctx.runner.run(RunSpec(grid["model"], grid["task"], backend=backend,
                                        k=int(grid["k"])))
        ctx.log(f"{result.status}: muvera rerank={rerank}: {result.main_score}")
        rows.append({**stored_row(ctx.runner, result.key), "candidates": int(rerank),
                     "backend": backend})
    return rows


def _distractors(ctx: StudyContext, grid: dict[str, Any]) -> list[dict[str, Any]]:
    from harness.studies.distractors import measure_distractors

    return measure_distractors(ctx, grid)


L = list
MEASURES: dict[str, Measure] = {
    "runs": Measure({"models": (L, REQUIRED), "tasks": (L, REQUIRED),
                     "compressions": (L, ["none"]), "backends": (L, ["exact"]),
                     "k": (int, 1000)}, measure_runs),
    "hnsw_rank_shift": Measure({"model": (str, REQUIRED), "task": (str, REQUIRED),
                                "efs": (L, REQUIRED), "m": (int, 32), "depth": (int, 10)},
                               measure_hnsw_rank_shift),
    "muvera_candidates": Measure({"model": (str, REQUIRED), "task": (str, REQUIRED),
                                  "reranks": (L, REQUIRED), "k": (int, 100)}, measure_muvera),
    "distractors": Measure({"task": (str, REQUIRED), "dense": (str, ""), "dims": (L, [0]),
                            "sparse": (L, []), "sizes": (L, REQUIRED),
                            "sources": (L, ["nfcorpus", "stsbenchmark", "banking77"]),
                            "seed": (int, 0)}, _distractors),
}
