"""The embedding cache: encode once, resume chunk by chunk with bit-identical vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adapters.registry import load_model
from harness.cache import EmbeddingCache
from harness.embeddings import DenseEmbeddings
from harness.errors import EmbeddingError

TEXTS = [f"sentence number {i} about {'cells ' * (i % 7)}proteins" for i in range(40)]


class CountingEncoder:
    """Wraps a real adapter and counts what reaches it."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner = inner
        self.meta = inner.meta
        self.calls = 0

    def encode(self, texts, side, *, batch_size=32):  # noqa: ANN001, ANN201
        self.calls += len(texts)
        return self.inner.encode(texts, side, batch_size=batch_size)


def test_second_encode_is_all_cache(tmp_path: Path) -> None:
    enc = CountingEncoder(load_model("wordllama-l2-256"))
    cache = EmbeddingCache(tmp_path, chunk_size=16)
    first = cache.encode(enc, TEXTS, "document")
    assert enc.calls == 40 and not first.from_cache
    second = cache.encode(enc, TEXTS, "document")
    assert enc.calls == 40 and second.from_cache
    np.testing.assert_array_equal(first.embeddings.vectors, second.embeddings.vectors)
    assert second.encode_seconds == pytest.approx(first.encode_seconds)


def test_resume_after_lost_chunk_is_bit_identical(tmp_path: Path) -> None:
    enc = CountingEncoder(load_model("all-MiniLM-L6-v2"))
    cache = EmbeddingCache(tmp_path, chunk_size=16)
    full = cache.encode(enc, TEXTS, "document").embeddings
    folder = cache.folder(enc, "document", TEXTS)
    (folder / "chunk-00001.npz").unlink()  # as if killed before this chunk was written
    enc.calls = 0
    resumed = cache.encode(enc, TEXTS, "document").embeddings
    assert enc.calls == 16  # only the missing chunk was encoded again
    np.testing.assert_array_equal(full.vectors, resumed.vectors)
    assert not list(folder.glob(".tmp-*"))  # atomic writes leave no partial files


def test_bad_adapter_output_is_never_cached(tmp_path: Path) -> None:
    class NaNEncoder(CountingEncoder):
        def encode(self, texts, side, *, batch_size=32):  # noqa: ANN001, ANN201
            v = np.full((len(texts), 4), np.nan, dtype=np.float32)
            return DenseEmbeddings(v)

    enc = NaNEncoder(load_model("wordllama-l2-256"))
    cache = EmbeddingCache(tmp_path, chunk_size=16)
    with pytest.raises(EmbeddingError, match="NaN"):
        cache.encode(enc, TEXTS, "document")
    assert not list(tmp_path.rglob("*.npz"))
