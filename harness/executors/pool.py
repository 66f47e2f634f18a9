"""Corpus shards on a Ray actor pool: the embedding cache's chunks are the shards.

Each actor loads the model once and encodes whole cache chunks (the same fixed boundaries and
batch size as a local run, so the vectors are bit-identical). The driver feeds
``EmbeddingCache.encode`` a stand-in encoder whose ``encode`` returns the actor's result for that
chunk, so the cache validates and writes every chunk atomically exactly as in a local run. An actor
killed mid-chunk is restarted by Ray and the call retried; a chunk whose file was never written
is simply encoded again by the next run.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.cache import EmbeddingCache, texts_sha256
from harness.errors import HarnessError

RETRIES = 3  # restarts of a killed actor, and retries of the chunk it was encoding


def fetch(refs: Any) -> Any:
    """``ray.get``, with a HarnessError raised on a worker (bad data, bad spec) arriving as that
    one line, and Ray's own failures (a worker dead after every retry) as one line too."""
    import ray

    try:
        return ray.get(refs)
    except ray.exceptions.RayTaskError as exc:
        if isinstance(exc.cause, HarnessError):
            raise HarnessError(str(exc.cause)) from None
        raise  # a bug on the worker: its traceback is the useful report
    except ray.exceptions.RayError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HarnessError(f"ray: {first}") from None


class ChunkEncoder:
    """A Ray actor body: one model, loaded once, encoding chunks on request."""

    def __init__(self, model: str, precision: str) -> None:
        from adapters.registry import load_model

        self.encoder = load_model(model, precision=precision)

    def pid(self) -> int:
        return os.getpid()

    def encode(self, texts: list[str], side: str, batch_size: int) -> Any:
        return self.encoder.encode(texts, side, batch_size=batch_size)


@dataclass(frozen=True)
class Shard:
    """One text set to encode: who encodes it (model at a precision) and the texts. Compression
    is a later stage: every compressed variant of a model shares this one encode."""

    model: str
    precision: str
    side: str
    texts: Sequence[str]
    label: str


class RemoteChunks:
    """Stands in for the encoder inside ``EmbeddingCache.encode``: chunk i is the result of the
    i-th missing chunk sent to the pool, fetched in order, with at most ``window`` in flight."""

    def __init__(self, source: Any, actors: list[Any], texts: Sequence[str],
                 ranges: list[tuple[int, int]], side: str, batch_size: int) -> None:
        self.stands_for = source  # the cache keys the chunks by this encoder, not by the proxy
        self.meta, self.actors, self.texts, self.side = source.meta, actors, texts, side
        self.batch_size = batch_size
        self.pending = deque(ranges)
        self.in_flight: deque[tuple[str, Any]] = deque()
        self.window = 2 * len(actors)
        self.sent = 0

    def top_up(self) -> None:
        while self.pending and len(self.in_flight) < self.window:
            start, stop = self.pending.popleft()
            chunk = list(self.texts[start:stop])
            actor = self.actors[self.sent % len(self.actors)]
            self.sent += 1
            self.in_flight.append((texts_sha256(chunk),
                                   actor.encode.remote(chunk, self.side, self.batch_size)))

    def encode(self, texts: Sequence[str], side: str, batch_size: int = 32) -> Any:
        self.top_up()
        sha, ref = self.in_flight.popleft()
        if sha != texts_sha256(texts):  # the cache asks for chunks in order; anything else is a bug
            raise RuntimeError("remote chunk order differs from the cache's")
        part = fetch(ref)
        self.top_up()
        return part


def encode_shards(shards: list[Shard], cache: EmbeddingCache, *, workers: int, batch_size: int,
                  resources: Callable[[Any], dict[str, float]], progress: bool,
                  on_pool: Callable[[list[int]], None] | None = None) -> int:
    """Encode every missing chunk of ``shards`` on actor pools (one per model); return the number
    of chunks encoded. ``on_pool`` receives the actors' process ids once they are working."""
    import ray
    from tqdm.auto import tqdm

    from adapters.registry import load_model

    by_source: dict[tuple[str, str], list[Shard]] = {}
    for shard in shards:
        by_source.setdefault((shard.model, shard.precision), []).append(shard)
    encoded = 0
    for (model, precision), group in by_source.items():
        source = load_model(model, precision=precision)  # meta only: no weights load
        todo = [(s, cache.missing_chunks(source, s.texts, s.side)) for s in group if s.texts]
        todo = [(s, r) for s, r in todo if r]
        n_chunks = sum(len(r) for _, r in todo)
        if not n_chunks:
            continue
        actor_cls = ray.remote(ChunkEncoder).options(
            max_restarts=RETRIES, max_task_retries=RETRIES, **resources(source.meta))
        actors = [actor_cls.remote(model, precision)
                  for _ in range(max(1, min(workers, n_chunks)))]
        try:
            pids = fetch([a.pid.remote() for a in actors])  # waits for every model load
            for shard, ranges in todo:
                proxy = RemoteChunks(source, actors, shard.texts, ranges, shard.side,
                                     batch_size)
                proxy.top_up()  # the first chunks start before the driver waits
                if on_pool is not None:
                    on_pool(pids)
                    on_pool = None
                bar = tqdm(total=len(shard.texts), desc=f"encode {shard.label} ({len(actors)} "
                           "workers)", unit="txt", leave=False, disable=not progress)
                try:
                    cache.encode(proxy, shard.texts, shard.side,  # type: ignore[arg-type]
                                 batch_size=batch_size, progress=bar.update)
                finally:
                    bar.close()
                encoded += len(ranges)
        finally:
            for actor in actors:
                ray.kill(actor)
    return encoded
