"""Run a study and keep its result: ``<results>/studies/NAME.json`` beside the DuckDB file.

The result file holds the study's rows (runs read back from the store, or measurements that are not
runs such as HNSW rank shifts), the "we measure" summary and where it was measured. Runs inside a
study are ordinary stored runs (reused by key); encodes come from the embedding cache. The file is
written atomically after the study succeeds.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.studies.spec import Study


def results_dir(db: Path) -> Path:
    return Path(db).parent / "studies"


def run_study(study: Study, *, db: Path, cache_dir: Path, data_root: Path | None,
              small: bool = False, progress: bool = False,
              log: Callable[[str], None] = print) -> dict[str, Any]:
    from harness.cache import EmbeddingCache
    from harness.data_root import resolve_data_root
    from harness.kinds.outcome import Context
    from harness.runner import Runner
    from harness.store import Store
    from harness.studies.measures import MEASURES, StudyContext

    root = resolve_data_root(data_root)
    measure = MEASURES[study.measure]
    grid = measure.with_defaults(study.grid_for(small))
    with Store(db) as store:
        runner = Runner(store, Context(EmbeddingCache(cache_dir), progress=progress), root,
                        log=log)
        rows = measure.run(StudyContext(runner, root, log), grid)
    summary = SUMMARIES[study.summary](rows) if study.summary else ""
    result = {"study": study.name, "title": study.title, "measure": study.measure, "grid": grid,
              "small": small, "data_root": str(root), "rows": rows, "summary": summary,
              "claim": {"text": study.claim.text, "citation": study.claim.citation,
                        "paper_value": study.claim.paper_value},
              "created_at": datetime.now(UTC).isoformat(timespec="seconds")}
    write_result(results_dir(db) / f"{study.name}.json", result)
    return result


def write_result(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=1, default=str)
    os.replace(tmp, path)


def load_result(db: Path, name: str) -> dict[str, Any] | None:
    path = results_dir(db) / f"{name}.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


# -- "we measure": one line per study, from its rows --------------------------------------------
def _fmt(v: Any) -> str:
    return "–" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)


def fusion_gain(rows: list[dict[str, Any]]) -> str:
    out = []
    for task in dict.fromkeys(r["task"] for r in rows):
        mine = [r for r in rows if r["task"] == task and r.get("ndcg_at_10") is not None]
        fused = [r for r in mine if str(r["model"]).startswith("fuse:")]
        single = [r for r in mine if not str(r["model"]).startswith("fuse:")]
        if fused and single:
            f = max(fused, key=lambda r: r["ndcg_at_10"])
            s = max(single, key=lambda r: r["ndcg_at_10"])
            out.append(f"{task}: best fusion {f['model']} nDCG@10 {f['ndcg_at_10']:.4f} vs best "
                       f"single {s['model']} {s['ndcg_at_10']:.4f} "
                       f"({f['ndcg_at_10'] - s['ndcg_at_10']:+.4f})")
    return "; ".join(out)


def distractor_drop(rows: list[dict[str, Any]]) -> str:
    out = []
    for series in dict.fromkeys(r["series"] for r in rows):
        mine = sorted((r for r in rows if r["series"] == series), key=lambda r: r["corpus_size"])
        first, last = mine[0], mine[-1]
        drop = (first["ndcg_at_10"] - last["ndcg_at_10"]) / max(first["ndcg_at_10"], 1e-9)
        out.append(f"{series}: {first['ndcg_at_10']:.4f}→{last['ndcg_at_10']:.4f} "
                   f"({drop:.1%} lower at {last['corpus_size']} docs)")
    return "; ".join(out)


def rank_shift(rows: list[dict[str, Any]]) -> str:
    return "; ".join(f"efs={r['efs']}: max |shift| {r['max_abs_shift']}, mean "
                     f"{r['mean_abs_shift']:.3f}, lost {r['lost_fraction']:.2%}" for r in rows)


def candidates_for_recall(rows: list[dict[str, Any]]) -> str:
    muvera = sorted((r for r in rows if r.get("candidates")), key=lambda r: r["candidates"])
    parts = [f"{r['candidates']} candidates: recall@10 {_fmt(r.get('fidelity_recall@10'))}, "
             f"nDCG@10 {_fmt(r.get('ndcg_at_10'))}" for r in muvera]
    exact = next((r for r in rows if not r.get("candidates")), None)
    if exact:
        parts.append(f"exact MaxSim nDCG@10 {_fmt(exact.get('ndcg_at_10'))}")
    return "; ".join(parts)


def latency_ratio(rows: list[dict[str, Any]]) -> str:
    base = next((r for r in rows if r["model"] == "bm25"), None)
    if base is None or not base.get("search_p50_ms"):
        return "no BM25 baseline in the rows"
    p50, p95 = base["search_p50_ms"], base["search_p95_ms"]
    return "; ".join(
        f"{r['model']}: p50 {r['search_p50_ms']:.2f} ms ({r['search_p50_ms'] / p50:.2f}"
        f"× BM25), p95 {r['search_p95_ms']:.2f} ms "
        f"({r['search_p95_ms'] / p95:.2f}× BM25)"
        + (f", query encode {r['query_encode_ms']:.2f} ms" if r.get("query_encode_ms") else "")
        for r in rows)


def quality_grid(rows: list[dict[str, Any]]) -> str:
    return "; ".join(f"{r['model']} d={r.get('dim')}: nDCG@10 {_fmt(r.get('ndcg_at_10'))}, "
                     f"{_fmt(r.get('encode_docs_per_s'))} docs/s" for r in rows)


def rescore_recovery(rows: list[dict[str, Any]]) -> str:
    full = next((r for r in rows if r["compression"] == "none"), None)
    if full is None:
        return "no float baseline in the rows"
    return "; ".join(
        f"{r['variant'] or 'float'}: nDCG@10 {r['ndcg_at_10']:.4f} "
        f"({r['ndcg_at_10'] / full['ndcg_at_10']:.1%} of float), p50 {_fmt(r['search_p50_ms'])} ms"
        for r in rows)


SUMMARIES: dict[str, Callable[[list[dict[str, Any]]], str]] = {
    "fusion_gain": fusion_gain, "distractor_drop": distractor_drop, "rank_shift": rank_shift,
    "candidates_for_recall": candidates_for_recall, "latency_ratio": latency_ratio,
    "quality_grid": quality_grid, "rescore_recovery": rescore_recovery}
