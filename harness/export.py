"""`harness export mteb|trec DIR`: stored runs out to MTEB's results layout or to TREC files.

MTEB: ``DIR/results/<org__name>/<revision>/{model_meta.json, TaskName.json}``, the layout of
embeddings-benchmark/results, written with mteb's own ``TaskResult`` so ``mteb.ResultCache`` and
``harness import-mteb`` read it back. Only plain runs (no compression or ANN variant) are exported,
the latest per model and task.

TREC: ``DIR/<model>__<task>__<run key>.run`` (top-k per query from the stored ``rankings``: the
store keeps 100 per query, so metrics at 10 and 100 are exact) and ``DIR/<task>__<data sha>.qrels``
from ``task_qrels``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from harness.errors import HarnessError

LANGUAGES = ["eng-Latn"]  # the harness evaluates English tasks


def runs_where(models: Sequence[str], tasks: Sequence[str]) -> tuple[str, list[Any]]:
    """`` AND model IN (?, ...) AND task IN (?, ...)`` for the filters given, and their
    parameters (names go to DuckDB as parameters, never into the SQL text); empty means all."""
    sql, params = "", []
    for column, values in (("model", models), ("task", tasks)):
        if values:
            sql += f" AND {column} IN ({', '.join('?' for _ in values)})"
            params += list(values)
    return sql, params


def _select_runs(db: Path, models: tuple[str, ...], tasks: tuple[str, ...],
                 plain_only: bool) -> list[dict[str, Any]]:
    import duckdb

    if not db.is_file():
        raise HarnessError(f"{db}: no results store (run `harness run` first)")
    con = duckdb.connect(str(db), read_only=True)
    try:
        sql = ("SELECT run_key, model, task, task_type, split, main_metric, main_score, spec, "
               "timings, extra, created_at, variant FROM runs WHERE 1=1")
        where, params = runs_where(models, tasks)
        sql += where
        if plain_only:
            sql += " AND variant = ''"
        cursor = con.execute(sql + " ORDER BY created_at", params)
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        for row in rows:
            row["scores"] = dict(con.execute(
                "SELECT metric, value FROM scores WHERE run_key = ?", [row["run_key"]]).fetchall())
    finally:
        con.close()
    if not rows:
        raise HarnessError(f"{db}: no stored runs match the selection")
    return rows


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return json.loads(value) if value else {}


def _safe(name: str) -> str:
    return re.sub(r"[^\w.=-]+", "_", name)


def mteb_identity(row: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(MTEB model name, revision, model metadata) of a stored run."""
    meta = _json(row["extra"]).get("model_meta") or {}
    spec_model = _json(row["spec"]).get("model", {})
    name = meta.get("hub_id") or meta.get("name") or row["model"]  # a folder's name, not its path
    revision = meta.get("hub_commit") or spec_model.get("revision") or "no_revision_available"
    return str(name), str(revision), meta


def _model_meta_json(name: str, revision: str, meta: dict[str, Any]) -> dict[str, Any]:
    from_mteb = meta.get("mteb") or {}
    return {
        "name": name, "revision": revision, "release_date": from_mteb.get("release_date"),
        "languages": None, "n_parameters": meta.get("parameters"),
        "memory_usage_mb": meta.get("memory_mb"), "max_tokens": meta.get("max_tokens"),
        "embed_dim": meta.get("dim"), "license": meta.get("license"),
        "open_weights": meta.get("open_weights"), "public_training_code": None,
        "public_training_data": None, "framework": ["Sentence Transformers"],
        "reference": f"https://huggingface.co/{name}" if meta.get("hub_id") else None,
        "similarity_fn_name": meta.get("similarity"), "use_instructions": None,
        "training_datasets": None, "adapted_from": None, "superseded_by": None,
        "modalities": ["text"], "loader": "harness", "harness_model_meta": meta,
    }


def _dataset_revision(row: dict[str, Any]) -> str:
    """mteb's dataset revision when mteb knows the task, else the sha256 of the data used."""
    from harness.tasks.mteb_registry import find_mteb_task

    known = find_mteb_task(row["task"])
    if known is not None and known.metadata.dataset.get("revision"):
        return str(known.metadata.dataset["revision"])
    return "sha256:" + str(_json(row["spec"]).get("task", {}).get("data_sha256", ""))


def export_mteb(db: Path, out: Path, models: tuple[str, ...] = (),
                tasks: tuple[str, ...] = ()) -> list[Path]:
    from mteb import TaskResult

    from harness.kinds.mteb_bridge import mteb_version

    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in _select_runs(db, models, tasks, plain_only=True):
        latest[(row["model"], row["task"])] = row  # rows come oldest first
    written = []
    for row in latest.values():
        name, revision, meta = mteb_identity(row)
        folder = out / "results" / name.replace("/", "__").replace(" ", "_") / revision
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "model_meta.json").write_text(
            json.dumps(_model_meta_json(name, revision, meta), indent=2, default=str))
        scores = {**row["scores"], "main_score": row["main_score"], "hf_subset": "default",
                  "languages": LANGUAGES}
        result = TaskResult(
            dataset_revision=_dataset_revision(row), task_name=row["task"],
            mteb_version=mteb_version(), scores={row["split"]: [scores]},
            evaluation_time=_json(row["timings"]).get("wall_s"), kg_co2_emissions=None)
        path = folder / f"{row['task']}.json"
        result.to_disk(path)
        written.append(path)
    return written


def export_trec(db: Path, out: Path, models: tuple[str, ...] = (),
                tasks: tuple[str, ...] = ()) -> list[Path]:
    import duckdb

    rows = [r for r in _select_runs(db, models, tasks, plain_only=False)
            if r["task_type"] == "retrieval"]
    if not rows:
        raise HarnessError(f"{db}: no stored retrieval runs match the selection")
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db), read_only=True)
    written = []
    try:
        for row in rows:
            tag = _safe(f"{row['model']}__{row['task']}__{row['run_key']}")
            hits = con.execute("SELECT query_id, doc_id, rank, score FROM rankings "
                               "WHERE run_key = ? ORDER BY query_id, rank", [row["run_key"]])
            path = out / f"{tag}.run"
            with path.open("w", encoding="utf-8") as fh:
                for qid, doc, rank, score in hits.fetchall():
                    fh.write(f"{qid} Q0 {doc} {rank} {score:.8f} {_safe(row['model'])}\n")
            written.append(path)
            sha = _json(row["spec"]).get("task", {}).get("data_sha256", "")
            qrels_path = out / f"{_safe(row['task'])}__{sha[:12]}.qrels"
            if not qrels_path.exists():
                judged = con.execute(
                    "SELECT query_id, doc_id, relevance FROM task_qrels WHERE task = ? AND "
                    "data_sha256 = ? ORDER BY query_id, doc_id", [row["task"], sha]).fetchall()
                qrels_path.write_text("".join(f"{q} 0 {d} {r}\n" for q, d, r in judged))
                written.append(qrels_path)
    finally:
        con.close()
    return written


@click.group()
def export() -> None:
    """Write stored results out: MTEB's results layout or TREC run and qrels files."""


def _common(f):  # noqa: ANN001, ANN202 - click decorators
    f = click.option("-t", "--task", "tasks", multiple=True, help="Only these tasks.")(f)
    f = click.option("-m", "--model", "models", multiple=True, help="Only these models.")(f)
    f = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="DuckDB file [default: results/harness.duckdb].")(f)
    return click.argument("out", type=click.Path(file_okay=False, path_type=Path))(f)


def _db(db: Path | None) -> Path:
    from harness.data_root import results_root

    return db or results_root() / "harness.duckdb"


def _writer_command(name: str, write: Any, summary: str) -> None:
    """``harness export NAME OUT``: ``write(db, out, models, tasks)``, one written path a line."""
    @export.command(name=name, help=summary)
    @_common
    def command(out: Path, db: Path | None, models: tuple[str, ...],
                tasks: tuple[str, ...]) -> None:
        for path in write(_db(db), out, models, tasks):
            click.echo(str(path))


_writer_command("mteb", export_mteb,
                "MTEB results layout under OUT/results/ (for embeddings-benchmark/results).")
_writer_command("trec", export_trec, "TREC run files (top 100 per query) and qrels under OUT.")
