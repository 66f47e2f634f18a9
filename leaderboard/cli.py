"""``harness board``: serve the leaderboard (Streamlit) over a DuckDB store, read-only."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from harness.errors import HarnessError

APP = Path(__file__).resolve().parent / "app.py"


SNAPSHOT_PREFIX = "harness-board-"  # leaderboard/queries.py: harness-board-<pid>-<random>
_LEGACY_SNAPSHOT_AGE_S = 3600


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_stale_snapshots(tmp: Path | None = None) -> list[Path]:
    """Delete snapshot folders of boards that are gone (a `kill -9` leaves a full DB copy)."""
    import shutil
    import tempfile
    import time

    removed = []
    for folder in Path(tmp or tempfile.gettempdir()).glob(f"{SNAPSHOT_PREFIX}*"):
        owner = folder.name[len(SNAPSHOT_PREFIX):].split("-", 1)[0]
        try:
            stale = (not _pid_alive(int(owner))) if owner.isdigit() else \
                time.time() - folder.stat().st_mtime > _LEGACY_SNAPSHOT_AGE_S
        except OSError:
            continue
        if stale and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def check_store(db: Path) -> None:
    """Fail early, in one line, on a missing or foreign file (the app would only say it later)."""
    import duckdb

    from harness.store import duckdb_connect

    if not db.is_file():
        raise HarnessError(f"{db}: no such DuckDB file (run `harness run` first, or pass --db)")
    try:
        con = duckdb_connect(db, read_only=True)
    except duckdb.Error as exc:
        raise HarnessError(f"{db}: cannot open as DuckDB read-only: {str(exc).splitlines()[0]}") \
            from None
    try:
        con.execute("SELECT count(*) FROM runs").fetchone()
    except duckdb.Error:
        raise HarnessError(f"{db}: not a harness store (no 'runs' table)") from None
    finally:
        con.close()


def streamlit_argv(port: int, address: str) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.port", str(port), "--server.address", address,
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none", "--server.runOnSave", "false",
            "--theme.base", "light",
            "--client.toolbarMode", "viewer"]  # a reader's board: no Deploy button


@click.command()
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="DuckDB file [default: results/harness.duckdb].")
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535))
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Interface to listen on (0.0.0.0 to share on the network).")
def board(db: Path | None, port: int, address: str) -> None:
    """Serve the leaderboard: ranking with CIs, quality-vs-cost, comparisons, drill-down."""
    from harness.data_root import results_root

    path = (db or results_root() / "harness.duckdb").resolve()
    check_store(path)
    remove_stale_snapshots()
    os.environ["HARNESS_BOARD_DB"] = str(path)
    click.echo(f"board: {path} (read-only) on http://{address}:{port}", err=True)
    sys.stdout.flush()
    # exec: the board is this process (same pid), so Ctrl-C and `kill PID` reach Streamlit.
    os.execv(sys.executable, streamlit_argv(port, address))
