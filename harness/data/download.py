"""Fetch a file over HTTP(S) with resume, size and sha256 checks; unpack a BEIR zip atomically.

A download grows in ``<data root>/.partial/<name>.part``; an interrupted transfer is resumed with an
HTTP Range request. Only a complete file whose sha256 matches (when one is given) is unpacked,
into a temporary folder beside its destination, then renamed into place: a bad checksum, a broken
zip or a zip that is not a BEIR folder leaves nothing in the data root.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path

from harness.errors import HarnessError

PARTIAL = ".partial"  # under the data root
MANIFEST = "harness-source.json"  # written into every pulled folder: url, checksums
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Downloaded:
    path: Path
    sha256: str
    size: int
    resumed: bool


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch_once(url: str, part: Path, timeout: float) -> tuple[int | None, bool]:
    """Append to ``part`` from where it stops. Returns (expected total size, resumed?)."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - user's URL
        resumed = have > 0 and response.status == 206
        if have and not resumed:
            have = 0  # the server ignored the range: start again
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        with part.open("ab" if resumed else "wb") as out:
            for block in iter(lambda: response.read(_CHUNK), b""):
                out.write(block)
    return total, resumed


def download(url: str, part: Path, *, sha256: str | None = None, attempts: int = 5,
             timeout: float = 60.0) -> Downloaded:
    """Download ``url`` into ``part`` (resuming), check size and sha256. Deletes it on mismatch."""
    part.parent.mkdir(parents=True, exist_ok=True)
    resumed_any = part.exists() and part.stat().st_size > 0
    last_error = ""
    for _ in range(attempts):
        try:
            total, resumed = _fetch_once(url, part, timeout)
            resumed_any = resumed_any or resumed
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and part.exists():  # the range starts at the end: already complete
                total = part.stat().st_size
            else:
                raise HarnessError(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, HTTPException, OSError) as exc:
            last_error = f"{type(exc).__name__}: {exc}"
            continue  # cut short: the next attempt resumes from the bytes already on disk
        size = part.stat().st_size
        if total is not None and size != total:
            last_error = f"got {size} of {total} bytes"
            continue
        break
    else:
        raise HarnessError(f"{url}: download incomplete after {attempts} attempts ({last_error}); "
                           f"run the same command again to resume ({part})")
    digest = sha256_file(part)
    if sha256 and digest.lower() != sha256.lower():
        part.unlink()
        remove_if_empty(part.parent)
        raise HarnessError(f"{url}: sha256 mismatch (expected {sha256.lower()}, got {digest}); "
                           "the file was deleted and nothing was unpacked")
    return Downloaded(part, digest, part.stat().st_size, resumed_any)


def remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty (other partial downloads) or already gone
        folder.rmdir()


def _safe_members(archive: zipfile.ZipFile, zip_path: Path) -> list[zipfile.ZipInfo]:
    members = archive.infolist()
    for info in members:
        name = Path(info.filename)
        if name.is_absolute() or ".." in name.parts:
            raise HarnessError(f"{zip_path}: unsafe path in archive: {info.filename}")
    return members


def beir_root(folder: Path) -> Path:
    """The BEIR folder inside an unpacked archive: the folder itself or its single subfolder."""
    if (folder / "corpus.jsonl").is_file():
        return folder
    subs = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))]
    if len(subs) == 1 and (subs[0] / "corpus.jsonl").is_file():
        return subs[0]
    raise HarnessError(f"the archive holds no BEIR folder (corpus.jsonl, queries.jsonl, qrels/)"
                       f": found {sorted(p.name for p in folder.iterdir())}")


def unpack_beir_zip(zip_path: Path, dest_parent: Path, *, name: str | None = None,
                    source: dict[str, object] | None = None) -> Path:
    """Unpack into ``dest_parent/<name>`` atomically; ``name`` defaults to the zip's folder."""
    dest_parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=dest_parent))
    try:
        try:
            with zipfile.ZipFile(zip_path) as archive:
                archive.extractall(tmp, members=_safe_members(archive, zip_path))
        except zipfile.BadZipFile:
            raise HarnessError(f"{zip_path}: not a zip archive") from None
        root = beir_root(tmp)
        if not any((root / "qrels").glob("*.tsv")):
            raise HarnessError(f"{zip_path}: the BEIR folder has no qrels/*.tsv")
        target = dest_parent / (name or root.name)
        if target.exists():
            raise HarnessError(f"{target} already exists; remove it to pull again")
        files = sorted(p for p in root.rglob("*") if p.is_file())
        manifest = {**(source or {}),
                    "files": {str(p.relative_to(root)): sha256_file(p) for p in files}}
        (root / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        os.replace(root, target)
        return target
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
