"""Compression: a stage between encoding and search, one class per scheme.

The retrieval kind encodes the base model through the embedding cache (once for every variant),
then ``fit``s the compressor on the corpus embeddings (int8/int4 ranges, fp8 scales, PCA
projection, PQ codebooks) and ``transform``s each side. Schemes and their parameters are parsed by
``harness.spec.Compression`` (``fp32``/``none``, ``fp16``, ``fp8``, ``int8``, ``int4``,
``binary``, ``binary+rescore[:N]``, ``mrl:D``, ``pca:D``, ``pq:MxBITS``,
``ivfpq:MxBITS[:nlist=N][:nprobe=N]``); ``make_compressor`` checks them against the model's
dimension before any encoding.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from adapters.base import ModelMeta, Side
from harness.embeddings import (
    DenseEmbeddings,
    Embeddings,
    QuantizedEmbeddings,
    for_similarity,
    normalise,
)
from harness.errors import HarnessError
from harness.spec import Compression, SpecError


class Compressor(Protocol):
    spec: Compression
    bytes_per_doc: float  # exact stored bytes per document, known before any encoding
    dim_out: int
    info: dict[str, object]  # what fitting learned (training points...), for the run's extra

    def fit(self, docs: Embeddings) -> None: ...

    def transform(self, embeddings: Embeddings, side: Side) -> Embeddings: ...


class _Base:
    def __init__(self, spec: Compression, dim: int, similarity: str) -> None:
        self.spec, self.dim, self.similarity = spec, dim, similarity
        self.dim_out = dim
        self.bytes_per_doc = 4.0 * dim
        self.info: dict[str, object] = {}

    def fail(self, why: str) -> SpecError:
        return SpecError(f"invalid compression '{self.spec}': {why}")

    def dense(self, e: Embeddings) -> np.ndarray:
        if not isinstance(e, DenseEmbeddings):
            raise HarnessError(f"compression '{self.spec}' needs dense embeddings, got {e.kind}")
        return np.ascontiguousarray(e.vectors, dtype=np.float32)

    def fit(self, docs: Embeddings) -> None:
        self.dense(docs)

    def transform(self, embeddings: Embeddings, side: Side) -> Embeddings:
        return embeddings


class NoCompression(_Base):
    """The identity, for every family (sparse and multi-vector included)."""

    def fit(self, docs: Embeddings) -> None:
        return None


class Fp16(_Base):
    def __init__(self, spec: Compression, dim: int, similarity: str) -> None:
        super().__init__(spec, dim, similarity)
        self.bytes_per_doc = 2.0 * dim

    def transform(self, e: Embeddings, side: Side) -> Embeddings:
        return QuantizedEmbeddings(self.dense(e).astype(np.float16), "fp16", self.dim,
                                   self.similarity)


class Fp8(_Base):
    """float8 e4m3 with a per-dimension scale (max |x| on the corpus -> 448, e4m3's max)."""

    def __init__(self, spec: Compression, dim: int, similarity: str) -> None:
        super().__init__(spec, dim, similarity)
        self.bytes_per_doc = 1.0 * dim
        self.scale: np.ndarray | None = None

    def fit(self, docs: Embeddings) -> None:
        peak = np.abs(self.dense(docs)).max(axis=0)
        self.scale = np.where(peak > 0, peak / 448.0, 1.0).astype(np.float32)

    def transform(self, e: Embeddings, side: Side) -> Embeddings:
        import torch

        assert self.scale is not None, "fit before transform"
        v = torch.from_numpy(self.dense(e) / self.scale)
        codes = v.to(torch.float8_e4m3fn).view(torch.uint8).numpy().copy()
        return QuantizedEmbeddings(codes, "fp8", self.dim, self.similarity, scale=self.scale)


class ScalarQuantizer(_Base):
    """int8 / int4: per-dimension min/max calibrated on the corpus, 2**bits levels."""

    def __init__(self, spec: Compression, dim: int, similarity: str) -> None:
        super().__init__(spec, dim, similarity)
        self.bits = 8 if spec.name == "int8" else 4
        self.bytes_per_doc = dim * self.bits / 8
        self.scale: np.ndarray | None = None
        self.offset: np.ndarray | None = None

    def fit(self, docs: Embeddings) -> None:
        v = self.dense(docs)
        lo, hi = v.min(axis=0), v.max(axis=0)
        levels = 2 ** self.bits - 1
        self.offset = lo
        self.scale = np.where(hi > lo, (hi - lo) / levels, 1.0).astype(np.float32)

    def transform(self, e: Embeddings, side: Side) -> Embeddings:
        assert self.scale is not None and self.offset is not None, "fit before transform"
        levels = 2 ** self.bits - 1
        codes = np.clip(np.round((self.dense(e) - self.offset) / self.scale), 0, levels)
        if self.bits == 8:
            packed = (codes - 128).astype(np.int8)
        else:  # two 4-bit codes per byte, high nibble first
            c = codes.astype(np.uint8)
            if c.shape[1] % 2:
                c = np.pad(c, ((0, 0), (0, 1)))
            packed = (c[:, 0::2] << 4) | c[:, 1::2]
        return QuantizedEmbeddings(packed, self.spec.name, self.dim, self.similarity,  # type: ignore[arg-type]
                                   scale=self.scale, offset=self.offset)


class Binary(_Base):
    """Sign bits, dim/8 bytes; ``binary+rescore`` keeps the float query to re-score."""

    def __init__(self, spec: Compression, dim: int, similarity: str, k: int = 1000) -> None:
        super().__init__(spec, dim, similarity)
        self.bytes_per_doc = dim / 8
        self.rescore = spec.name == "binary+rescore"
        self.depth = int(spec["depth"]) if self.rescore else 0
        self.k = k

    def transform(self, e: Embeddings, side: Side) -> Embeddings:
        v = self.dense(e)
        codes = np.packbits(v > 0, axis=1)
        if side == "query":
            return QuantizedEmbeddings(codes, "binary", self.dim, self.similarity,
                                       floats=v if self.rescore else None)
        depth = (self.depth or 4 * self.k) if self.rescore else 0
        return QuantizedEmbeddings(codes, "binary", self.dim, self.similarity, rescore=depth)


class Projection(_Base):
    """mrl:D (Matryoshka truncation) and pca:D (faiss PCAMatrix fitted on the corpus)."""

    def __init__(self, spec: Compression, dim: int, similarity: str) -> None:
        super().__init__(spec, dim, similarity)
        self.dim_out = int(spec["dim"])
        if not 1 <= self.dim_out <= dim:
            raise self.fail(f"D must be in 1..{dim} for this {dim}-d model")
        self.bytes_per_doc = 4.0 * self.dim_out
        self.pca = None

    def fit(self, docs: Embeddings) -> None:
        v = self.dense(docs)
        if self.spec.name == "pca":
            import faiss

            self.pca = faiss.PCAMatrix(self.dim, self.dim_out)
            self.pca.train(v)

    def transform(self, e: Embeddings, side: Side) -> Embeddings:
        v = self.dense(e)
        if self.spec.name == "mrl":
            if self.dim_out == self.dim:  # the identity: keep the vectors bit-exact
                return e
            return DenseEmbeddings(normalise(v[:, :self.dim_out]), self.similarity)  # type: ignore[arg-type]
        assert self.pca is not None, "fit before transform"
        return DenseEmbeddings(normalise(self.pca.apply(v)), self.similarity)  # type: ignore[arg-type]


class ProductQuantizer(_Base):
    """pq:MxBITS (faiss IndexPQ) and ivfpq (IndexIVFPQ: codes plus an 8-byte id per document).
    Queries stay float (asymmetric distance); documents become codes."""

    def __init__(self, spec: Compression, dim: int, similarity: str) -> None:
        super().__init__(spec, dim, similarity)
        m, nbits = (int(x) for x in str(spec["codes"]).split("x"))
        divisors = [x for x in range(1, dim + 1) if dim % x == 0]
        if m not in divisors:
            raise self.fail(f"M must divide the model dimension {dim}: one of {divisors}")
        if not 1 <= nbits <= 16 or (m * nbits) % 8:
            raise self.fail("BITS must be in 1..16 with M x BITS a multiple of 8")
        self.m, self.nbits = m, nbits
        self.bytes_per_doc = m * nbits / 8 + (8 if spec.name == "ivfpq" else 0)
        self.index = None

    def fit(self, docs: Embeddings) -> None:
        import faiss

        x = for_similarity(self.dense(docs), self.similarity)
        if x.shape[0] < 2 ** self.nbits:
            raise HarnessError(f"compression '{self.spec}': {2 ** self.nbits} PQ centroids need "
                               f"at least as many documents, the corpus has {x.shape[0]}")
        if self.spec.name == "pq":
            index = faiss.IndexPQ(self.dim, self.m, self.nbits, faiss.METRIC_INNER_PRODUCT)
        else:
            nlist = int(self.spec["nlist"]) or max(1, int(round(math.sqrt(x.shape[0]))))
            index = faiss.IndexIVFPQ(faiss.IndexFlatIP(self.dim), self.dim, nlist, self.m,
                                     self.nbits, faiss.METRIC_INNER_PRODUCT)
            index.nprobe = int(self.spec["nprobe"])
            index.cp.min_points_per_centroid = 1
        # faiss warns (once per sub-quantiser) below 39 points per centroid; say it once instead
        index.pq.cp.min_points_per_centroid = 1
        self.info = {"training_points": int(x.shape[0]), "centroids": 2 ** self.nbits,
                     "points_per_centroid": x.shape[0] / 2 ** self.nbits,
                     "faiss_recommends_per_centroid": 39}
        index.train(x)  # faiss k-means is seeded (fixed default seed): codebooks are reproducible
        self.index = index

    def transform(self, e: Embeddings, side: Side) -> Embeddings:
        v = self.dense(e)
        if side == "query":
            return DenseEmbeddings(v, self.similarity)  # type: ignore[arg-type]
        assert self.index is not None, "fit before transform"
        x = for_similarity(v, self.similarity)
        self.index.reset()
        self.index.add(x)
        return QuantizedEmbeddings(self.index.sa_encode(x), self.spec.name, self.dim,  # type: ignore[arg-type]
                                   self.similarity, index=self.index)


SCHEME_CLASSES: dict[str, type[_Base]] = {
    "none": NoCompression, "fp16": Fp16, "fp8": Fp8, "int8": ScalarQuantizer,
    "int4": ScalarQuantizer, "binary": Binary, "binary+rescore": Binary, "mrl": Projection,
    "pca": Projection, "pq": ProductQuantizer, "ivfpq": ProductQuantizer}


def make_compressor(spec: Compression | str, meta: ModelMeta, k: int = 1000) -> Compressor:
    """A fresh, unfitted compressor for ``meta``'s dense output; raises before any encoding."""
    spec = Compression.parse(spec)  # type: ignore[assignment]
    if spec.name != "none" and meta.family != "dense":
        raise HarnessError(f"compression '{spec}' applies to dense models, not "
                           f"{meta.name} ({meta.family})")
    if spec.name != "none" and not meta.dim:
        raise SpecError(f"invalid compression '{spec}': the base model declares no dimension")
    cls = SCHEME_CLASSES[spec.name]
    if cls is Binary:
        return Binary(spec, meta.dim or 0, meta.similarity, k)  # type: ignore[return-value]
    return cls(spec, meta.dim or 0, meta.similarity)  # type: ignore[return-value]
