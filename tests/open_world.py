"""Test helpers for the open-world tests: a real HTTP server on 127.0.0.1 serving a zip (with
Range support and an optional first response cut short) and a hub-cache layout built from local
weights."""

from __future__ import annotations

import shutil
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def zip_folder(folder: Path, dest: Path, top: str) -> Path:
    """Zip ``folder`` so that it unpacks to ``top/`` (as the official BEIR zips do)."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{top}/{path.relative_to(folder)}")
    return dest


@contextmanager
def serve_bytes(payload: bytes, *, cut_first: bool = False) -> Iterator[tuple[str, list[str]]]:
    """Serve ``payload`` at http://127.0.0.1:<port>/data.zip; yields (url, request log).

    With ``cut_first`` the first response announces the full length but the connection is closed
    after a third of the bytes: a real interrupted transfer, which the client must resume.
    """
    log: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            start = 0
            ranged = self.headers.get("Range")
            log.append(ranged or "full")
            if ranged:
                start = int(ranged.split("=")[1].split("-")[0])
                self.send_response(206)
                self.send_header("Content-Range",
                                 f"bytes {start}-{len(payload) - 1}/{len(payload)}")
            else:
                self.send_response(200)
            body = payload[start:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if cut_first and len(log) == 1:
                self.wfile.write(body[: len(body) // 3])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/data.zip", log
    finally:
        server.shutdown()
        server.server_close()


def build_hub_cache(hf_home: Path, repo_id: str, model_dir: Path,
                    commit: str = "0123456789abcdef0123456789abcdef01234567") -> Path:
    """huggingface_hub's cache layout: models--org--name/{refs/main, snapshots/<commit>/...}."""
    repo = hf_home / "hub" / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    shutil.copytree(model_dir, snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    return snapshot
