"""Embedding cache: encode each (model, side, texts) once, chunk by chunk, atomically.

Layout: ``<root>/<model>/<revision>-<options>/<side>/<texts sha>-c<chunk>/chunk-00000.npz`` plus a
``chunk-00000.json`` sidecar holding how long that chunk took to encode, so throughput is known even
when every chunk comes from the cache. Chunks are aligned to fixed boundaries, so a resumed encode
batches texts exactly as an uninterrupted one and produces bit-identical vectors.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from adapters.base import Encoder, Side
from harness.embeddings import Embeddings, concat, load_embeddings

DEFAULT_CHUNK = int(os.environ.get("HARNESS_CACHE_CHUNK", "1024"))


def texts_sha256(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@dataclass(frozen=True)
class EncodeResult:
    embeddings: Embeddings
    encode_seconds: float  # time spent encoding, summed over chunks, whenever they were made
    from_cache: bool  # every chunk was already on disk
    n: int


class EmbeddingCache:
    def __init__(self, root: Path, chunk_size: int = DEFAULT_CHUNK) -> None:
        self.root = Path(root)
        self.chunk_size = chunk_size

    def folder(self, encoder: Encoder, side: Side, texts: Sequence[str]) -> Path:
        meta = encoder.meta
        options = hashlib.sha256(json.dumps(dict(meta.options), sort_keys=True).encode())
        return (self.root / _safe(meta.name) / f"{meta.revision}-{options.hexdigest()[:8]}"
                / side / f"{texts_sha256(texts)[:24]}-c{self.chunk_size}")

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
        for index, start in enumerate(range(0, len(texts), self.chunk_size)):
            chunk = texts[start:start + self.chunk_size]
            data = folder / f"chunk-{index:05d}.npz"
            info = folder / f"chunk-{index:05d}.json"
            if data.is_file() and info.is_file():
                part = load_embeddings(data)
                elapsed, cached = json.loads(info.read_text())["seconds"], True
            else:
                began = time.perf_counter()
                part = encoder.encode(chunk, side, batch_size=batch_size)
                elapsed, cached = time.perf_counter() - began, False
                part.validate(len(chunk), chunk)
                if hasattr(part, "check_dim"):  # sparse/multi-vector: width vs the model's meta
                    part.check_dim(encoder.meta.dim, encoder.meta.name)
                _atomic_write(data, part.save)
                sidecar = json.dumps({"seconds": elapsed, "n": len(chunk)})
                _atomic_write(info, lambda p, text=sidecar: p.write_text(text))
            if progress:
                progress(len(chunk))
            yield part, elapsed, cached
