"""The embedding types: the only thing model families must agree on.

Dense: a float matrix (n x d). Sparse: a CSR matrix (n x V). Multi-vector: ragged per-item token
matrices stored as one (total_tokens x d) matrix plus offsets. Each type saves to and loads from
an ``.npz`` file without pickle, concatenates chunks, validates itself and knows its exact size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import scipy.sparse as sp

from harness.errors import EmbeddingError

Similarity = Literal["cosine", "dot"]


@dataclass(frozen=True)
class DenseEmbeddings:
    vectors: np.ndarray  # (n, d) float32 (or a quantised dtype after compression)
    similarity: Similarity = "cosine"

    kind = "dense"

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def nbytes(self) -> int:
        return int(self.vectors.nbytes)

    def validate(self, n: int, texts: Sequence[str] = ()) -> None:
        v = self.vectors
        if v.ndim != 2 or v.shape[0] != n:
            raise EmbeddingError(f"dense encoder returned shape {v.shape}, expected ({n}, d)")
        if not np.all(np.isfinite(v)):
            bad = int(np.argwhere(~np.isfinite(v).all(axis=1))[0][0])
            raise EmbeddingError(f"dense encoder returned NaN/inf for item {bad}")

    def save(self, path: Path) -> None:
        np.savez(path, kind=np.array("dense"), vectors=self.vectors,
                 similarity=np.array(self.similarity))

    @staticmethod
    def concat(parts: Sequence[DenseEmbeddings]) -> DenseEmbeddings:
        return DenseEmbeddings(np.concatenate([p.vectors for p in parts]), parts[0].similarity)


@dataclass(frozen=True)
class SparseEmbeddings:
    matrix: sp.csr_matrix  # (n, V) float32
    vocabulary: tuple[str, ...] | None = None  # None: the ids are the model's wordpiece ids

    kind = "sparse"

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def nbytes(self) -> int:
        # What an inverted index holds: one (int32 id, float32 weight) posting per non-zero.
        return int(self.matrix.nnz * 8)

    def validate(self, n: int, texts: Sequence[str] = ()) -> None:
        m = self.matrix
        if m.shape[0] != n:
            raise EmbeddingError(f"sparse encoder returned {m.shape[0]} rows, expected {n}")
        if not np.all(np.isfinite(m.data)):
            raise EmbeddingError("sparse encoder returned NaN/inf weights")
        nnz = np.diff(m.indptr)
        for i, text in enumerate(texts):
            if nnz[i] == 0 and text.strip():
                raise EmbeddingError(
                    f"sparse encoder returned an empty vector for non-empty text #{i}: "
                    f"{text[:60]!r}"
                )

    def save(self, path: Path) -> None:
        m = self.matrix.tocsr()
        vocab = np.array(self.vocabulary if self.vocabulary is not None else [], dtype=str)
        np.savez(path, kind=np.array("sparse"), data=m.data, indices=m.indices,
                 indptr=m.indptr, shape=np.array(m.shape), vocabulary=vocab)

    @staticmethod
    def concat(parts: Sequence[SparseEmbeddings]) -> SparseEmbeddings:
        return SparseEmbeddings(sp.vstack([p.matrix for p in parts]).tocsr(), parts[0].vocabulary)


@dataclass(frozen=True)
class MultiVectorEmbeddings:
    tokens: np.ndarray  # (total_tokens, d)
    offsets: np.ndarray  # (n + 1,) int64: item i is tokens[offsets[i]:offsets[i+1]]

    kind = "multivector"

    def __len__(self) -> int:
        return int(self.offsets.shape[0] - 1)

    @property
    def dim(self) -> int:
        return int(self.tokens.shape[1])

    @property
    def nbytes(self) -> int:
        return int(self.tokens.nbytes)

    def item(self, i: int) -> np.ndarray:
        return self.tokens[self.offsets[i]: self.offsets[i + 1]]

    def validate(self, n: int, texts: Sequence[str] = ()) -> None:
        if len(self) != n:
            raise EmbeddingError(f"multi-vector encoder returned {len(self)} items, expected {n}")
        if not np.all(np.isfinite(self.tokens)):
            raise EmbeddingError("multi-vector encoder returned NaN/inf")
        if np.any(np.diff(self.offsets) <= 0):
            raise EmbeddingError("multi-vector encoder returned an item with no token vectors")

    def save(self, path: Path) -> None:
        np.savez(path, kind=np.array("multivector"), tokens=self.tokens, offsets=self.offsets)

    @staticmethod
    def concat(parts: Sequence[MultiVectorEmbeddings]) -> MultiVectorEmbeddings:
        offsets = [np.zeros(1, dtype=np.int64)]
        base = 0
        for p in parts:
            offsets.append(p.offsets[1:] + base)
            base += int(p.offsets[-1])
        return MultiVectorEmbeddings(np.concatenate([p.tokens for p in parts]),
                                     np.concatenate(offsets).astype(np.int64))


Embeddings = DenseEmbeddings | SparseEmbeddings | MultiVectorEmbeddings


def load_embeddings(path: Path) -> Embeddings:
    """Load what ``save`` wrote; never unpickles."""
    with np.load(path, allow_pickle=False) as z:
        kind = str(z["kind"])
        if kind == "dense":
            return DenseEmbeddings(z["vectors"], str(z["similarity"]))  # type: ignore[arg-type]
        if kind == "sparse":
            m = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
            vocab = tuple(str(t) for t in z["vocabulary"]) or None
            return SparseEmbeddings(m, vocab)
        if kind == "multivector":
            return MultiVectorEmbeddings(z["tokens"], z["offsets"])
    raise EmbeddingError(f"{path}: unknown embedding kind {kind!r}")


def concat(parts: Sequence[Embeddings]) -> Embeddings:
    if not parts:
        raise EmbeddingError("nothing to concatenate")
    return type(parts[0]).concat(parts)  # type: ignore[arg-type]
