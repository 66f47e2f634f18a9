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

# "fp32" is the uncompressed model: the same run (and key) as a plain `harness run`.
ALIASES = {"fp32": "none"}


def split_list(value: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    seen: list[str] = []
    for item in items:
        item = ALIASES.get(item, item)
        if item not in seen:
            seen.append(item)
    return seen


def validate(models: list[str], tasks: list[str], compressions: list[str],
             backends: list[str]) -> None:
    """Raise (HarnessError, one line saying what is allowed) on any bad name or spec."""
    from adapters.registry import load_model
    from harness.runner import apply_compression
    from harness.search.registry import get_backend
    from harness.tasks.registry import get_task

    for task in tasks:
        get_task(task)
    for backend in backends:
        get_backend(backend)
    for model in models:
        encoder = load_model(model)  # cheap: weights load on first encode
        for compression in compressions:
            apply_compression(encoder, compression)


@click.command()
@with_options(*MODEL_TASK_OPTIONS)
@click.option("--compress", "compress", default="fp32", show_default=True,
              help="Comma list: fp32, fp16, int8, binary, binary+rescore[:N], mrl:D, pca:D, "
                   "pq:MxBITS, ivfpq:MxBITS[:NLIST[:NPROBE]].")
@click.option("--backend", "backend", default="exact", show_default=True,
              help="Comma list: exact, hnsw[:m=M][:efc=N][:efs=N], ivf[:nlist=N][:nprobe=N].")
@with_options(*RUN_OPTIONS, *EXECUTOR_OPTIONS)
def sweep(models: tuple[str, ...], tasks: tuple[str, ...], compress: str, backend: str,
          force: bool, batch_size: int, k: int, cache_dir: Path | None, no_progress: bool,
          db: Path | None, data_root: Path | None, executor: str, ray_address: str | None,
          ray_workers: int | None) -> None:
    """Evaluate every compression x backend variant of MODEL on TASK (one encode)."""
    from harness.cli.session import run_grid
    from harness.spec import grid

    compressions, backends = split_list(compress), split_list(backend)
    if not compressions or not backends:
        raise click.UsageError("--compress and --backend need at least one item")
    validate(list(models), list(tasks), compressions, backends)
    specs = grid(list(models), list(tasks), tuple(compressions), tuple(backends), k=k)
    db = db or _default_db()
    code = run_grid(specs, db=db, cache_dir=cache_dir or _default_cache(), data_root=data_root,
                    force=force, batch_size=batch_size, progress=not no_progress,
                    executor=executor, ray_address=ray_address, ray_workers=ray_workers)
    from harness.cli.report import print_results, results_frame

    print_results(results_frame(db, tasks, models))  # the trade-off: scores beside costs
    sys.exit(code)
