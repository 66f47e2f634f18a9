"""The embedding types: the only thing model families must agree on.

Dense: a float matrix (n x d). Sparse: a CSR matrix (n x V). Multi-vector: ragged per-item token
matrices stored as one (total_tokens x d) matrix plus offsets. Each type saves to and loads from
an ``.npz`` file without pickle, concatenates chunks, validates itself and knows its exact size.
Quantized: what a compression stage (``harness.compression``) makes of dense vectors; it is never
cached (it is recomputed from the cached dense vectors), so it has no ``save``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from harness.errors import EmbeddingError

Similarity = Literal["cosine", "dot"]
Scheme = Literal["fp16", "fp8", "int8", "int4", "binary", "pq", "ivfpq"]
IVF_ID_BYTES = 8  # faiss inverted lists store an int64 id beside every code


def normalise(v: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32): the one cosine normalisation of the harness."""
    v = np.ascontiguousarray(v, dtype=np.float32)
    return v / np.clip(np.linalg.norm(v, axis=1, keepdims=True), 1e-12, None)


def for_similarity(v: np.ndarray, similarity: str) -> np.ndarray:
    """float32 rows ready for inner products: normalised when the similarity is cosine."""
    return normalise(v) if similarity == "cosine" else np.ascontiguousarray(v, np.float32)


class _OneRowPerItem:
    """Items are the rows of one (n, d) array, dense or sparse: length and width come from it."""

    def _rows(self) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        return int(self._rows().shape[0])

    @property
    def dim(self) -> int:
        return int(self._rows().shape[1])


@dataclass(frozen=True)
class DenseEmbeddings(_OneRowPerItem):
    vectors: np.ndarray  # (n, d) float32 (or a quantised dtype after compression)
    similarity: Similarity = "cosine"

    kind = "dense"

    def _rows(self) -> np.ndarray:
        return self.vectors

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
class SparseEmbeddings(_OneRowPerItem):
    """A CSR matrix over a vocabulary.

    ``vocabulary`` is None when columns are the model's own token ids (SPLADE: wordpiece ids, so
    queries and documents share columns). Otherwise column j is the term ``vocabulary[j]``: each
    encoded chunk has its own (sorted) vocabulary, ``concat`` merges them, and search aligns query
    terms to document terms by string. ``weighting`` names a corpus-level scheme (e.g.
    ``"bm25:method=lucene,k1=1.5,b=0.75"``) that the index applies to these raw term counts: IDF and
    average document length only exist for a whole corpus, never for one cached chunk.
    """

    matrix: sp.csr_matrix  # (n, V) float32
    vocabulary: tuple[str, ...] | None = None  # None: the ids are the model's wordpiece ids
    weighting: str = ""  # "": values are final weights

    kind = "sparse"

    def _rows(self) -> sp.csr_matrix:
        return self.matrix

    @property
    def nbytes(self) -> int:
        # What an inverted index holds: one (int32 id, float32 weight) posting per non-zero.
        return int(self.matrix.nnz * 8)

    def validate(self, n: int, texts: Sequence[str] = ()) -> None:
        m = self.matrix
        if m.shape[0] != n:
            raise EmbeddingError(f"sparse encoder returned {m.shape[0]} rows, expected {n}")
        if self.vocabulary is not None and len(self.vocabulary) != m.shape[1]:
            raise EmbeddingError(f"sparse encoder returned {m.shape[1]} columns for a vocabulary "
                                 f"of {len(self.vocabulary)} terms")
        if not np.all(np.isfinite(m.data)):
            bad = int(np.searchsorted(m.indptr, np.argwhere(~np.isfinite(m.data))[0][0], "right"))
            raise EmbeddingError(f"sparse encoder returned NaN/inf weights for item {bad - 1}")
        if self.weighting:
            # Term counts from an analyzer: a text of only stopwords legitimately has no terms.
            return
        nnz = np.diff(m.indptr)
        for i, text in enumerate(texts):
            if nnz[i] == 0 and text.strip():
                raise EmbeddingError(
                    f"sparse encoder returned an empty vector for non-empty text #{i}: "
                    f"{text[:60]!r}"
                )

    def check_dim(self, expected: int | None, model: str) -> None:
        """Fail when a model whose metadata states its vocabulary size returns another width."""
        if expected is not None and self.vocabulary is None and self.dim != expected:
            raise EmbeddingError(f"{model} returned {self.dim}-column sparse embeddings, its "
                                 f"metadata says {expected}")

    def save(self, path: Path) -> None:
        m = self.matrix.tocsr()
        vocab = np.array(self.vocabulary if self.vocabulary is not None else [], dtype=str)
        np.savez(path, kind=np.array("sparse"), data=m.data, indices=m.indices,
                 indptr=m.indptr, shape=np.array(m.shape), vocabulary=vocab,
                 has_vocabulary=np.array(self.vocabulary is not None),
                 weighting=np.array(self.weighting))

    @staticmethod
    def concat(parts: Sequence[SparseEmbeddings]) -> SparseEmbeddings:
        weighting = parts[0].weighting
        if any(p.weighting != weighting for p in parts):
            raise EmbeddingError("sparse chunks disagree on their weighting scheme")
        if all(p.vocabulary is None for p in parts):
            dims = {p.dim for p in parts}
            if len(dims) > 1:
                raise EmbeddingError(f"sparse chunks have different dimensions {sorted(dims)}")
            return SparseEmbeddings(sp.vstack([p.matrix for p in parts]).tocsr(), None, weighting)
        if any(p.vocabulary is None for p in parts):
            raise EmbeddingError("sparse chunks mix term vocabularies and model token ids")
        merged = np.unique(np.concatenate([np.array(p.vocabulary, dtype=str) for p in parts]))
        blocks = []
        for p in parts:
            # Map this chunk's column j to the merged column of the same term.
            remap = np.searchsorted(merged, np.array(p.vocabulary, dtype=str)).astype(np.int32)
            m = p.matrix.tocsr()
            blocks.append(sp.csr_matrix((m.data, remap[m.indices], m.indptr),
                                        shape=(m.shape[0], len(merged))))
        matrix = sp.vstack(blocks).tocsr() if blocks else sp.csr_matrix((0, len(merged)))
        matrix.sort_indices()
        return SparseEmbeddings(matrix, tuple(merged.tolist()), weighting)


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
        if self.tokens.ndim != 2 or self.offsets[-1] != self.tokens.shape[0]:
            raise EmbeddingError(f"multi-vector encoder returned tokens {self.tokens.shape} that "
                                 f"do not match offsets ending at {int(self.offsets[-1])}")
        if not np.all(np.isfinite(self.tokens)):
            bad = int(np.argwhere(~np.isfinite(self.tokens).all(axis=1))[0][0])
            item = int(np.searchsorted(self.offsets, bad, "right")) - 1
            raise EmbeddingError(f"multi-vector encoder returned NaN/inf for item {item}")
        if np.any(np.diff(self.offsets) <= 0):
            raise EmbeddingError("multi-vector encoder returned an item with no token vectors")

    def check_dim(self, expected: int | None, model: str) -> None:
        """Fail when a model whose metadata states its token dimension returns another one."""
        if expected is not None and self.dim != expected:
            raise EmbeddingError(f"{model} returned {self.dim}-d token vectors, its metadata "
                                 f"says {expected}")

    def save(self, path: Path) -> None:
        np.savez(path, kind=np.array("multivector"), tokens=self.tokens, offsets=self.offsets)

    @staticmethod
    def concat(parts: Sequence[MultiVectorEmbeddings]) -> MultiVectorEmbeddings:
        dims = {p.dim for p in parts}
        if len(dims) > 1:
            raise EmbeddingError(f"multi-vector chunks have different dimensions {sorted(dims)}")
        offsets = [np.zeros(1, dtype=np.int64)]
        base = 0
        for p in parts:
            offsets.append(p.offsets[1:] + base)
            base += int(p.offsets[-1])
        return MultiVectorEmbeddings(np.concatenate([p.tokens for p in parts]),
                                     np.concatenate(offsets).astype(np.int64))


@dataclass(frozen=True, eq=False)
class QuantizedEmbeddings:
    """Exactly the bytes an index stores per item (``codes``) plus what is needed to score them;
    ``nbytes`` is therefore the true index size."""

    codes: np.ndarray  # float16, fp8 (uint8 bits), int8, packed int4, sign bits or PQ codes
    scheme: Scheme
    dim: int  # dimension of the decoded vectors
    similarity: str = "cosine"
    scale: np.ndarray | None = None  # int8/int4/fp8: per-dimension step (corpus-calibrated)
    offset: np.ndarray | None = None  # int8/int4: per-dimension minimum
    index: Any = None  # pq/ivfpq: the trained faiss index holding the corpus codes
    rescore: int = 0  # binary documents: re-score this many Hamming candidates (0: none)
    floats: np.ndarray | None = None  # binary queries: the float query, for re-scoring

    kind = "quantized"

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    @property
    def nbytes(self) -> int:
        if self.scheme == "ivfpq":  # inverted lists: code + id per document
            return int(self.codes.shape[0] * (self.index.code_size + IVF_ID_BYTES))
        if self.scheme == "pq":
            return int(self.codes.shape[0] * self.index.code_size)
        return int(self.codes.nbytes)

    def validate(self, n: int, texts: Sequence[str] = ()) -> None:
        if len(self) != n:
            raise EmbeddingError(f"compressed embeddings hold {len(self)} items, expected {n}")

    def take(self, rows: slice) -> QuantizedEmbeddings:
        floats = None if self.floats is None else self.floats[rows]
        return QuantizedEmbeddings(self.codes[rows], self.scheme, self.dim, self.similarity,
                                   self.scale, self.offset, self.index, self.rescore, floats)

    def decode(self) -> np.ndarray:
        """The float vectors these codes stand for (binary: +-1 per bit)."""
        if self.scheme == "fp16":
            return self.codes.astype(np.float32)
        if self.scheme == "int8":
            assert self.scale is not None and self.offset is not None
            return (self.codes.astype(np.float32) + 128.0) * self.scale + self.offset
        if self.scheme == "int4":
            assert self.scale is not None and self.offset is not None
            nibbles = np.stack([self.codes >> 4, self.codes & 15], axis=2)
            codes = nibbles.reshape(len(self), -1)[:, :self.dim]
            return codes.astype(np.float32) * self.scale + self.offset
        if self.scheme == "fp8":
            import torch

            assert self.scale is not None
            v = torch.from_numpy(self.codes).view(torch.float8_e4m3fn).to(torch.float32)
            return v.numpy() * self.scale
        if self.scheme == "binary":
            bits = np.unpackbits(self.codes, axis=1, count=self.dim)
            return bits.astype(np.float32) * 2.0 - 1.0
        return np.asarray(self.index.sa_decode(self.codes), dtype=np.float32)


Embeddings = DenseEmbeddings | SparseEmbeddings | MultiVectorEmbeddings | QuantizedEmbeddings


def load_embeddings(path: Path) -> Embeddings:
    """Load what ``save`` wrote; never unpickles."""
    with np.load(path, allow_pickle=False) as z:
        kind = str(z["kind"])
        if kind == "dense":
            return DenseEmbeddings(z["vectors"], str(z["similarity"]))  # type: ignore[arg-type]
        if kind == "sparse":
            m = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
            has_vocab = bool(z["has_vocabulary"]) if "has_vocabulary" in z else \
                len(z["vocabulary"]) > 0
            vocab = tuple(str(t) for t in z["vocabulary"]) if has_vocab else None
            weighting = str(z["weighting"]) if "weighting" in z else ""
            return SparseEmbeddings(m, vocab, weighting)
        if kind == "multivector":
            return MultiVectorEmbeddings(z["tokens"], z["offsets"])
    raise EmbeddingError(f"{path}: unknown embedding kind {kind!r}")


def concat(parts: Sequence[Embeddings]) -> Embeddings:
    if not parts:
        raise EmbeddingError("nothing to concatenate")
    return type(parts[0]).concat(parts)  # type: ignore[arg-type]
