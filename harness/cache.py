"""Embedding cache: encode each (model, side, texts) once, chunk by chunk, atomically.

Layout: ``<root>/<family>-<encoder id>/<side>/<texts sha>-c<chunk>/chunk-00000.npz`` plus a
``chunk-00000.json`` sidecar holding how long that chunk took to encode (so throughput is known even
when every chunk comes from the cache), its row count and a sha256 over the chunk's bytes, its
position and its texts. Every read verifies all of it (plus NaN/Inf): a chunk that does not verify
is reported, discarded and re-encoded, never used. Chunks are aligned to fixed boundaries, so a
resumed encode batches texts exactly as an uninterrupted one and produces bit-identical vectors.

The encoder id hashes what decides the vectors, never the name a model was called by: the
adapter class, its options, and the bytes of every file in the model's folder (weights,
tokenizer, pooling and prompt configs), or the revision where the model is not a folder. So the
same weights run by registry name, by path and by hub id encode once, and two folders that share
weights but pool differently never share vectors. An empty ``name-<model>`` file in the folder
says which names used it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adapters.base import Encoder, Side
from harness.embeddings import Embeddings, concat, load_embeddings
from harness.errors import HarnessError

DEFAULT_CHUNK = 1024  # texts per chunk; $HARNESS_CACHE_CHUNK overrides
CHARS_PER_TOKEN_BOUND = 32  # a token covers at least one character; 32 leaves a wide margin
_TMP_MAX_AGE_S = 3600  # a .tmp-* file without a live owner this old is debris of a killed run


def chunk_size_from_env() -> int:
    from harness.env import env_number

    return int(env_number("HARNESS_CACHE_CHUNK", DEFAULT_CHUNK, minimum=1, maximum=1 << 20,
                          integer=True))


def texts_sha256(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def clip_texts(texts: Sequence[str], max_length: int | None) -> list[str]:
    """Cut each text to a character bound above what the model's max length can use.

    Every adapter truncates to ``max_length`` tokens; clipping first keeps a 50 MB document from
    being tokenised (or, for static models, embedded) whole. The cache key hashes the original.
    """
    if not max_length:
        return list(texts)
    bound = max_length * CHARS_PER_TOKEN_BOUND
    return [t if len(t) <= bound else t[:bound] for t in texts]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


# Files in a model folder that do not change what the model computes.
_NOT_MODEL_FILES = {"README.md", ".gitattributes", "LICENSE", "LICENSE.txt"}
_PROVENANCE_OPTIONS = {"hub_commit"}  # where the files came from; the files themselves are hashed


def encoder_id(encoder: Encoder) -> str:
    """What decides an encoder's vectors, hashed (the cache folder's name; see module doc)."""
    adapter = getattr(encoder, "stands_for", encoder)  # a proxy (the Ray pool) names its model
    meta = adapter.meta
    folder = _files_folder(adapter)
    options = {k: v for k, v in meta.options if k not in _PROVENANCE_OPTIONS}
    identity = {"adapter": f"{type(adapter).__module__}.{type(adapter).__qualname__}",
                "family": meta.family, "options": options,
                "content": folder_digest(folder) if folder is not None else meta.revision}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]


def _files_folder(adapter: Encoder) -> Path | None:
    """The folder an adapter loads its model from (a hub snapshot's too), if it has one."""
    for where in (getattr(adapter, "folder", None), getattr(adapter, "path", None),
                  adapter.meta.source):
        if where and Path(where).is_absolute() and Path(where).is_dir():
            return Path(where)
    return None


def folder_digest(folder: Path) -> str:
    """sha256 over the relative paths and bytes of a model folder's files (hidden ones aside);
    remembered per process while no file's size or mtime changes."""
    try:
        files = sorted(p for p in folder.rglob("*") if p.is_file()
                       and p.name not in _NOT_MODEL_FILES
                       and not any(part.startswith(".") for part in p.relative_to(folder).parts))
        stamp = tuple((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                      for p in files)
        return _digest_files(folder.resolve(), stamp)
    except OSError as exc:
        raise HarnessError(f"{exc.filename or folder}: cannot read the model file: "
                           f"{exc.strerror or exc}") from None


@functools.lru_cache(maxsize=64)
def _digest_files(folder: Path, stamp: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for relative, size, _mtime in stamp:
        digest.update(f"{relative}\0{size}\0".encode("utf-8", "surrogatepass"))
        with (folder / relative).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write via a temp file (named after this pid) and rename; mode follows the umask.

    A failed write (disk full, quota, permissions) is one line naming the file it was writing.
    """
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{os.getpid()}-",
                                   suffix=path.suffix)
        os.close(fd)
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; cache files are shared
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise HarnessError(f"{path}: cannot write the cache file: "
                           f"{exc.strerror or exc}") from None
    finally:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)


def _owner_alive(name: str) -> bool:
    match = re.match(r"\.tmp-(\d+)-", name)
    if match is None:
        return False
    try:
        os.kill(int(match.group(1)), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def remove_stale_temps(folder: Path) -> None:
    """Delete temp files left by killed writers (a live writer's files are kept)."""
    now = time.time()
    for tmp in folder.glob(".tmp-*"):
        try:
            if int(tmp.name.split("-")[1]) == os.getpid():
                continue
        except (IndexError, ValueError):
            pass
        try:
            if not _owner_alive(tmp.name) or now - tmp.stat().st_mtime > _TMP_MAX_AGE_S:
                tmp.unlink()
        except (FileNotFoundError, ValueError):
            continue


def chunk_digest(data: bytes, index: int, chunk: Sequence[str]) -> str:
    """What a chunk's sidecar vouches for: its bytes, its position and the texts it encodes."""
    digest = hashlib.sha256(data)
    digest.update(index.to_bytes(8, "little"))
    digest.update(texts_sha256(chunk).encode())
    return digest.hexdigest()


class BadChunk(Exception):
    """A cached chunk that must not be used (reason in the message)."""


def _finite(part: Embeddings) -> bool:
    arrays = [getattr(part, a) for a in ("vectors", "tokens") if hasattr(part, a)]
    if hasattr(part, "matrix"):
        arrays.append(part.matrix.data)
    return all(np.all(np.isfinite(a)) for a in arrays)


def read_chunk(data: Path, info: Path, index: int, chunk: Sequence[str]) -> tuple[Embeddings,
                                                                                 float]:
    """A verified chunk and its encode seconds, or ``BadChunk``."""
    try:
        sidecar = json.loads(info.read_text(encoding="utf-8"))
        raw = data.read_bytes()
    except (OSError, ValueError) as exc:
        raise BadChunk(f"unreadable ({exc})") from None
    if not isinstance(sidecar, dict) or "sha256" not in sidecar:
        raise BadChunk("sidecar has no checksum (old format or damaged)")
    if sidecar.get("n") != len(chunk):
        raise BadChunk(f"sidecar says {sidecar.get('n')!r} rows, expected {len(chunk)}")
    if sidecar["sha256"] != chunk_digest(raw, index, chunk):
        raise BadChunk("checksum mismatch (damaged, or copied from another position)")
    try:
        part = load_embeddings(io.BytesIO(raw))
        part.validate(len(chunk), chunk)
    except Exception as exc:  # noqa: BLE001 - any load/validation failure makes the chunk bad
        raise BadChunk(f"cannot be loaded ({str(exc).splitlines()[0] if str(exc) else exc!r})") \
            from None
    if not _finite(part):
        raise BadChunk("holds NaN or infinite values")
    seconds = sidecar.get("seconds")
    if not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds < 0:
        raise BadChunk(f"sidecar seconds {seconds!r} is not a duration")
    return part, float(seconds)


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class EncodeResult:
    embeddings: Embeddings
    encode_seconds: float  # time spent encoding, summed over chunks, whenever they were made
    from_cache: bool  # every chunk was already on disk
    n: int


class EmbeddingCache:
    def __init__(self, root: Path, chunk_size: int | None = None,
                 warn: Callable[[str], None] = _warn) -> None:
        self.root = Path(root)
        self.chunk_size = chunk_size if chunk_size is not None else chunk_size_from_env()
        self.warn = warn

    def folder(self, encoder: Encoder, side: Side, texts: Sequence[str]) -> Path:
        return (self.model_folder(encoder) / side
                / f"{texts_sha256(texts)[:24]}-c{self.chunk_size}")

    def model_folder(self, encoder: Encoder) -> Path:
        meta = encoder.meta
        return self.root / f"{_safe(meta.family)}-{encoder_id(encoder)}"

    def is_complete(self, encoder: Encoder, texts: Sequence[str], side: Side) -> bool:
        folder = self.folder(encoder, side, texts)
        n_chunks = -(-len(texts) // self.chunk_size)
        return all((folder / f"chunk-{i:05d}.json").is_file() for i in range(n_chunks))

    def missing_chunks(self, encoder: Encoder, texts: Sequence[str],
                       side: Side) -> list[tuple[int, int]]:
        """(start, stop) of each chunk not yet on disk: the shards a cluster encodes."""
        folder = self.folder(encoder, side, texts)
        return [(start, min(start + self.chunk_size, len(texts)))
                for index, start in enumerate(range(0, len(texts), self.chunk_size))
                if not ((folder / f"chunk-{index:05d}.npz").is_file()
                        and (folder / f"chunk-{index:05d}.json").is_file())]

    def encode(self, encoder: Encoder, texts: Sequence[str], side: Side, *, batch_size: int = 32,
               progress: Callable[[int], None] | None = None) -> EncodeResult:
        parts: list[Embeddings] = []
        seconds = 0.0
        all_cached = True
        for part, elapsed, cached in self.iter_encode(encoder, texts, side, batch_size=batch_size,
                                                      progress=progress):
            parts.append(part)
            seconds += elapsed
            all_cached = all_cached and cached
        if not parts:
            parts.append(encoder.encode([], side, batch_size=batch_size))
        return EncodeResult(concat(parts), seconds, all_cached, len(texts))

    def iter_encode(self, encoder: Encoder, texts: Sequence[str], side: Side, *,
                    batch_size: int = 32, progress: Callable[[int], None] | None = None,
                    ) -> Iterator[tuple[Embeddings, float, bool]]:
        """(chunk embeddings, encode seconds, came from disk) chunk by chunk, in order.

        Only one chunk is held at a time, so a streamed corpus (``texts`` a lazy sequence that
        reads slices from disk) never sits in memory as a whole."""
        folder = self.folder(encoder, side, texts)
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # a label for people reading the folder, no more
            (folder.parent.parent / f"name-{_safe(encoder.meta.name)}").touch()
        remove_stale_temps(folder)  # left by a killed writer
        for index, start in enumerate(range(0, len(texts), self.chunk_size)):
            chunk = texts[start:start + self.chunk_size]
            part, elapsed, cached = self._chunk(encoder, folder, index, chunk, side, batch_size)
            if progress:
                progress(len(chunk))
            yield part, elapsed, cached

    def _chunk(self, encoder: Encoder, folder: Path, index: int, chunk: Sequence[str],
               side: Side, batch_size: int) -> tuple[Embeddings, float, bool]:
        """One chunk, from disk when it verifies, else encoded and written (bad files replaced)."""
        data = folder / f"chunk-{index:05d}.npz"
        info = folder / f"chunk-{index:05d}.json"
        if data.exists() or info.exists():
            try:
                part, seconds = read_chunk(data, info, index, chunk)
                return part, seconds, True
            except BadChunk as exc:
                self.warn(f"cache chunk {data} is bad: {exc}; discarded and re-encoded")
                for path in (info, data):
                    path.unlink(missing_ok=True)
        began = time.perf_counter()
        part = encoder.encode(clip_texts(chunk, encoder.meta.max_length), side,
                              batch_size=batch_size)
        elapsed = time.perf_counter() - began
        part.validate(len(chunk), chunk)
        if hasattr(part, "check_dim"):  # sparse/multi-vector: width vs the model's meta
            part.check_dim(encoder.meta.dim, encoder.meta.name)
        buffer = io.BytesIO()
        part.save(buffer)
        raw = buffer.getvalue()
        _atomic_write(data, lambda p: p.write_bytes(raw))
        sidecar = json.dumps({"seconds": elapsed, "n": len(chunk),
                              "sha256": chunk_digest(raw, index, chunk)})
        _atomic_write(info, lambda p: p.write_text(sidecar, encoding="utf-8"))
        return part, elapsed, False
