"""`harness data pull NAME|URL` and `harness data ls`."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def data() -> None:
    """Fetch task data into the data root, and show what is there."""


@data.command(name="pull")
@click.argument("target")
@click.option("--sha256", default=None, help="Expected sha256 of the downloaded file.")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data root [default: $HARNESS_DATA, then ../shared/data].")
@click.option("--dataset-dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None,
              help="MTEB tasks: read the hub dataset from this local copy of its repository.")
def pull_command(target: str, sha256: str | None, data_root: Path | None,
                 dataset_dir: Path | None) -> None:
    """Download TARGET (a task name or the URL of a zipped BEIR folder) into the data root."""
    import os

    from harness.data.pull import pull
    from harness.data_root import resolve_data_root

    if dataset_dir is None:  # pulling is the user's request for the network (hub datasets)
        os.environ["HF_HUB_OFFLINE"] = os.environ["HF_DATASETS_OFFLINE"] = "0"

    pulled = pull(target, resolve_data_root(data_root), sha256=sha256, dataset_dir=dataset_dir)
    checksum = f" sha256 {pulled.sha256}" if pulled.sha256 else ""
    resumed = " (resumed)" if pulled.resumed else ""
    click.echo(f"{pulled.name}: {pulled.folder}{checksum}{resumed}")


@data.command(name="ls")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), default=None)
def ls_command(data_root: Path | None) -> None:
    """Tasks and folders under the data root: local, partial or downloadable."""
    from harness.data.status import data_status
    from harness.data_root import resolve_data_root

    for row in data_status(resolve_data_root(data_root)):
        click.echo(f"{row[0]:40s} {row[1]:13s} {row[2]}")
