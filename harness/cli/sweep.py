"""``harness sweep``: one encode per model x task, many compression x backend trade-off points.

Every variant is its own run (own key, own row). The base model's embeddings come from the
embedding cache, so the sweep encodes each text set once, however many variants it evaluates; a
repeated sweep finds every key stored and does nothing. All specs are validated first, so a bad
compression or backend fails before any encoding.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harness.cli import (
    EXECUTOR_OPTIONS,
    MODEL_TASK_OPTIONS,
    RUN_OPTIONS,
    _default_cache,
    _default_db,
    with_options,
)
from harness.spec import RunSpec


def split_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def validate(specs: list[RunSpec]) -> None:
    """Raise (HarnessError, one line saying what is allowed) on any bad name, spec or axis a
    task kind does not use; loads no weights and encodes nothing."""
    from adapters.registry import load_model
    from harness.compression import make_compressor
    from harness.fusion import is_fusion, parse_fusion
    from harness.runner import check_axes
    from harness.search.registry import get_builder
    from harness.tasks.registry import get_task

    for spec in specs:
        check_axes(spec, get_task(spec.task))
        get_builder(spec.backend)
    metas = {}
    for spec in specs:  # every model resolves (registry, folder, hub cache) at its precision,
        # so an impossible precision fails here too; weights load only on the first encode
        if is_fusion(spec.model):  # its components are resolved when the fused run starts
            parse_fusion(spec.model)
            continue
        model = (spec.model, spec.precision)
        if model not in metas:
            metas[model] = load_model(spec.model, precision=spec.precision).meta
        if "compression" in check_axes(spec, get_task(spec.task)):
            make_compressor(spec.compression, metas[model], spec.k)


@click.command()
@with_options(*MODEL_TASK_OPTIONS)
@click.option("--compress", "compress", default="fp32", show_default=True,
              help="Comma list: fp32 (= none), fp16, fp8, int8, int4, binary, "
                   "binary+rescore[:N], mrl:D, pca:D, pq:MxBITS, "
                   "ivfpq:MxBITS[:nlist=N][:nprobe=N].")
@click.option("--backend", "backend", default="exact", show_default=True,
              help="Comma list: exact, hnsw[:m=M][:efc=N][:efs=N], ivf[:nlist=N][:nprobe=N], "
                   "muvera[:rerank=N][:reps=N][:ksim=N][:dproj=N][:seed=N]. Runs that differ "
                   "only in query parameters (efs, nprobe, rerank) share one built index.")
@with_options(*RUN_OPTIONS, *EXECUTOR_OPTIONS)
def sweep(models: tuple[str, ...], tasks: tuple[str, ...], compress: str, backend: str,
          force: bool, batch_size: int, k: int, precision: str, cache_dir: Path | None,
          no_progress: bool, db: Path | None, data_root: Path | None, executor: str,
          ray_address: str | None, ray_workers: int | None) -> None:
    """Evaluate every compression x backend variant of MODEL on TASK (one encode).

    Specs are parsed to canonical values first: ``fp32`` and ``none`` are one variant, as are
    ``hnsw`` and ``hnsw:m=32:efc=200:efs=128``."""
    from harness.cli.session import run_grid
    from harness.spec import grid

    compressions, backends = split_list(compress), split_list(backend)
    if not compressions or not backends:
        raise click.UsageError("--compress and --backend need at least one item")
    specs = grid(list(models), list(tasks), tuple(compressions), tuple(backends), k=k,
                 precision=precision)
    validate(specs)
    db = db or _default_db()
    code = run_grid(specs, db=db, cache_dir=cache_dir or _default_cache(), data_root=data_root,
                    force=force, batch_size=batch_size, progress=not no_progress,
                    executor=executor, ray_address=ray_address, ray_workers=ray_workers)
    from harness.cli.report import print_results, results_frame

    print_results(results_frame(db, tasks, models))  # the trade-off: scores beside costs
    sys.exit(code)
