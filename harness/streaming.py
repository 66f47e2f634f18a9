"""Retrieval over a corpus larger than memory: texts read and vectors searched chunk by chunk.

``StreamedCorpus`` validates ``corpus.jsonl`` in one pass (the same per-line checks as
``harness.tasks.beir.read_corpus``, whose helpers it reuses) and keeps only the document ids and
the byte offset of each cache chunk's first line. Its ``texts`` is a lazy sequence: a slice
reads just those lines from disk. ``EmbeddingCache.iter_encode`` then encodes (or loads) one
chunk at a time, and ``search_blocks`` folds each chunk into a bounded top-k per query.

Peak memory, beyond the interpreter and the model:
    ids (N x ~(50 + len(id)) bytes) + one chunk (C texts + C x d x 4) + queries (Q x d x 4)
    + one score block (Q x C x 4) + candidates (Q x ~9k x 12)
independent of the corpus's texts and vectors, which never sit in memory as a whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from harness.errors import DataError, HarnessError
from harness.tasks.beir import corpus_records, document_text, judged_queries

if TYPE_CHECKING:
    from adapters.base import Encoder
    from harness.cache import EmbeddingCache


class LazyTexts(Sequence[str]):
    """The corpus texts in file order, read from disk on demand (a slice reads its lines)."""

    def __init__(self, path: Path, n: int, chunk_size: int, chunk_offsets: list[int]) -> None:
        self.path, self.n, self.chunk_size, self.offsets = path, n, chunk_size, chunk_offsets

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[str]:
        for start in range(0, self.n, self.chunk_size):
            yield from self[start:start + self.chunk_size]

    def __getitem__(self, item):  # noqa: ANN001, ANN204 - int or slice, as a Sequence
        if isinstance(item, int):
            return self[item:item + 1][0]
        start, stop, step = item.indices(self.n)
        if step != 1:
            raise ValueError("LazyTexts supports contiguous slices only")
        chunk, skip = divmod(start, self.chunk_size)
        out: list[str] = []
        with self.path.open("rb") as fh:
            fh.seek(self.offsets[chunk])
            while len(out) < stop - start + skip and start < stop:
                line = fh.readline()
                if not line:
                    break
                if not line.strip():
                    continue
                obj = json.loads(line)
                out.append(document_text(obj.get("title") or "", obj.get("text") or ""))
        return out[skip:]


@dataclass
class StreamedCorpus:
    ids: tuple[str, ...]
    texts: LazyTexts

    @classmethod
    def open(cls, path: Path, chunk_size: int) -> StreamedCorpus:
        """One validating pass; remembers where each chunk of ``chunk_size`` documents starts."""
        if not path.is_file():
            raise HarnessError(f"{path}: file not found")
        ids: list[str] = []
        offsets: list[int] = []
        records = corpus_records(path)
        with path.open("rb") as fh:  # byte offsets of non-blank lines, in step with the records
            position = 0
            for raw in fh:
                if raw.strip():
                    if len(ids) % chunk_size == 0:
                        offsets.append(position)
                    ids.append(next(records)[1])
                position += len(raw)
        if not ids:
            raise DataError(path, None, None, "corpus is empty")
        return cls(tuple(ids), LazyTexts(path, len(ids), chunk_size, offsets))


@dataclass
class StreamedRun:
    scores: dict[str, float]  # mean metrics over judged queries
    n_docs: int
    encode_seconds: float


def stream_retrieval(folder: Path, encoder: Encoder, cache: EmbeddingCache, *,
                     split: str = "test",
                     k: int = 1000, batch_size: int = 32) -> StreamedRun:
    """Exact dense retrieval on a BEIR folder, corpus streamed chunk by chunk through the cache."""
    from harness.embeddings import DenseEmbeddings
    from harness.metrics import evaluate_run
    from harness.search.exact import search_blocks

    corpus = StreamedCorpus.open(folder / "corpus.jsonl", cache.chunk_size)
    query_ids, query_texts, qrels = judged_queries(folder, split, corpus.ids)
    queries = cache.encode(encoder, query_texts, "query", batch_size=batch_size)
    if not isinstance(queries.embeddings, DenseEmbeddings):
        raise HarnessError(f"{encoder.meta.name}: streaming search supports dense models only")
    spent = [0.0]

    def blocks() -> Iterator[np.ndarray]:
        for part, seconds, _cached in cache.iter_encode(encoder, corpus.texts, "document",
                                                        batch_size=batch_size):
            spent[0] += seconds
            yield part.vectors  # type: ignore[union-attr]  # dense: the queries' model

    top = search_blocks(queries.embeddings, blocks(), k,
                        doc_similarity=queries.embeddings.similarity)
    run = top.to_run(query_ids, corpus.ids)
    return StreamedRun(evaluate_run(run, qrels).means, len(corpus.ids), spent[0])


def in_memory_retrieval(folder: Path, encoder: Encoder, cache: EmbeddingCache, *,
                        split: str = "test",
                        k: int = 1000, batch_size: int = 32) -> StreamedRun:
    """The same, the usual way: every text and vector in memory (the reference for the above)."""
    from harness.metrics import evaluate_run
    from harness.search.exact import exact_search
    from harness.tasks.beir import load_beir

    data = load_beir(folder, split)
    docs = cache.encode(encoder, data.corpus_texts, "document", batch_size=batch_size)
    queries = cache.encode(encoder, data.query_texts, "query", batch_size=batch_size)
    top = exact_search(queries.embeddings, docs.embeddings, k)  # type: ignore[arg-type]
    run = top.to_run(data.query_ids, data.corpus_ids)
    return StreamedRun(evaluate_run(run, data.qrels).means, len(data.corpus_ids),
                       docs.encode_seconds)
