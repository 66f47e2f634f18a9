"""Compression wrappers: any dense ``Encoder`` in, an ``Encoder`` with compressed output out.

Spec strings (one per variant, validated against the base model's dimension before any encoding):

    fp32                  no compression (the plain run)
    fp16                  half precision, 2 bytes/dim
    int8                  scalar quantisation, per-dimension min/max calibrated on the corpus
    binary                sign bits, dim/8 bytes, Hamming search
    binary+rescore[:N]    binary, then the float query re-scores the top N Hamming hits
                          (N defaults to 4 x k, as sentence-transformers' rescore_multiplier)
    mrl:D                 Matryoshka truncation to the first D dimensions, renormalised
    pca:D                 PCA projection to D dimensions, fitted on the corpus (faiss PCAMatrix)
    pq:MxB                product quantisation, M sub-vectors of B bits (faiss IndexPQ)
    ivfpq:MxB[:NLIST[:NPROBE]]   IVF-PQ (faiss IndexIVFPQ): codes plus an 8-byte id per document

A wrapper keeps its ``base`` encoder. The retrieval task encodes ``base`` through the embedding
cache (once for every variant) and calls ``fit`` on the corpus then ``transform`` on each side; a
wrapper used on its own fits on the first documents it encodes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from adapters.base import Encoder, ModelMeta, Side
from harness.embeddings import DenseEmbeddings, Embeddings
from harness.errors import HarnessError
from harness.search.quantized import QuantizedEmbeddings, normalise

ALLOWED = ("fp32, fp16, int8, binary, binary+rescore[:N], mrl:D, pca:D, pq:MxBITS, "
           "ivfpq:MxBITS[:NLIST[:NPROBE]]")


class CompressionSpecError(HarnessError):
    pass


@dataclass(frozen=True)
class Plan:
    """A parsed, validated compression spec."""

    scheme: str  # fp32 fp16 int8 binary mrl pca pq ivfpq
    dim_in: int
    dim_out: int
    rescore: int | None = None  # binary: None no re-scoring, 0 default depth (4 x k), N explicit
    m: int = 0
    nbits: int = 0
    nlist: int = 0  # 0: chosen from the corpus size at fit time
    nprobe: int = 8

    def bytes_per_doc(self) -> float:
        """Exact stored bytes per document, known before any encoding."""
        d = self.dim_out
        return {"fp32": 4.0 * d, "fp16": 2.0 * d, "int8": 1.0 * d, "binary": d / 8,
                "mrl": 4.0 * d, "pca": 4.0 * d, "pq": self.m * self.nbits / 8,
                "ivfpq": self.m * self.nbits / 8 + 8}[self.scheme]


def _fail(spec: str, why: str) -> CompressionSpecError:
    return CompressionSpecError(f"invalid compression '{spec}': {why} (allowed: {ALLOWED})")


def _int(spec: str, text: str, what: str) -> int:
    if not re.fullmatch(r"\d+", text):
        raise _fail(spec, f"{what} must be a positive integer, got '{text}'")
    return int(text)


def parse(spec: str, dim: int | None) -> Plan:
    """Validate ``spec`` for a base model of dimension ``dim``; raise with what is allowed."""
    if not dim:
        raise _fail(spec, "the base model declares no dimension")
    head, _, args = spec.partition(":")
    if head in ("fp32", "none", "fp16", "int8", "binary") and not args:
        return Plan("fp32" if head == "none" else head, dim, dim)
    if head == "binary+rescore":
        depth = _int(spec, args, "the re-score depth N") if args else 0
        if args and depth < 1:
            raise _fail(spec, "the re-score depth N must be >= 1")
        return Plan("binary", dim, dim, rescore=depth)
    if head in ("mrl", "pca"):
        d = _int(spec, args, "the dimension D")
        if not 1 <= d <= dim:
            raise _fail(spec, f"D must be in 1..{dim} for this {dim}-d model")
        return Plan(head, dim, d)
    if head in ("pq", "ivfpq"):
        parts = args.split(":")
        mb = re.fullmatch(r"(\d+)x(\d+)", parts[0])
        if not mb or len(parts) > (1 if head == "pq" else 3):
            raise _fail(spec, f"expected {head}:MxBITS" + ("[:NLIST[:NPROBE]]" if head == "ivfpq"
                                                          else ""))
        m, nbits = int(mb.group(1)), int(mb.group(2))
        divisors = [x for x in range(1, dim + 1) if dim % x == 0]
        if m not in divisors:
            raise _fail(spec, f"M must divide the model dimension {dim}: one of {divisors}")
        if not 1 <= nbits <= 16 or (m * nbits) % 8:
            raise _fail(spec, "BITS must be in 1..16 with M x BITS a multiple of 8")
        nlist = _int(spec, parts[1], "NLIST") if len(parts) > 1 else 0
        nprobe = _int(spec, parts[2], "NPROBE") if len(parts) > 2 else 8
        if len(parts) > 1 and (nlist < 1 or nprobe < 1):
            raise _fail(spec, "NLIST and NPROBE must be >= 1")
        return Plan(head, dim, dim, m=m, nbits=nbits, nlist=nlist, nprobe=nprobe)
    raise _fail(spec, "unknown scheme")


class CompressedEncoder:
    """Satisfies ``Encoder``; compresses its base encoder's dense output."""

    def __init__(self, base: Encoder, spec: str) -> None:
        if base.meta.family != "dense":
            raise HarnessError(f"compression '{spec}' applies to dense models, not "
                               f"{base.meta.name} ({base.meta.family})")
        self.base = base
        self.spec = spec
        self.plan = parse(spec, base.meta.dim)
        self.meta: ModelMeta = replace(
            base.meta, dim=self.plan.dim_out,
            options=(*base.meta.options, ("compression", spec)))
        self.k = 1000  # retrieval depth: sets the default re-score depth (4 x k)
        self._fitted = False
        self._scale: np.ndarray | None = None
        self._offset: np.ndarray | None = None
        self._pca = None
        self._index = None
        self.fit_info: dict[str, object] = {}

    # -- Encoder -------------------------------------------------------------------------------
    def encode(self, texts: Sequence[str], side: Side, *, batch_size: int = 32) -> Embeddings:
        raw = self.base.encode(texts, side, batch_size=batch_size)
        if not self._fitted:
            if side != "document":
                raise HarnessError(f"compression '{self.spec}' must see the corpus first "
                                   "(encode documents before queries)")
            self.fit(raw)
        return self.transform(raw, side)

    # -- fit / transform -----------------------------------------------------------------------
    def fit(self, docs: Embeddings) -> None:
        """Corpus-level training: int8 ranges, PCA projection, PQ / IVF-PQ codebooks."""
        v = self._dense(docs)
        p = self.plan
        if p.scheme == "int8":
            lo, hi = v.min(axis=0), v.max(axis=0)
            self._offset = lo
            self._scale = np.where(hi > lo, (hi - lo) / 255.0, 1.0).astype(np.float32)
        elif p.scheme == "pca":
            import faiss

            self._pca = faiss.PCAMatrix(p.dim_in, p.dim_out)
            self._pca.train(v)
        elif p.scheme in ("pq", "ivfpq"):
            self._index = self._train_pq(self._cos(v))
        self._fitted = True

    def transform(self, e: Embeddings, side: Side) -> Embeddings:
        p = self.plan
        v = self._dense(e)
        sim = e.similarity  # type: ignore[union-attr]
        if p.scheme == "fp32":
            return e
        if p.scheme == "mrl":
            # truncating to the full dimension is the identity: keep the vectors bit-exact
            return e if p.dim_out == p.dim_in else DenseEmbeddings(normalise(v[:, :p.dim_out]),
                                                                   sim)
        if p.scheme == "pca":
            return DenseEmbeddings(normalise(self._pca.apply(v)), sim)
        if p.scheme == "fp16":
            return QuantizedEmbeddings(v.astype(np.float16), "fp16", p.dim_in, sim)
        if p.scheme == "int8":
            assert self._scale is not None and self._offset is not None
            codes = np.clip(np.round((v - self._offset) / self._scale), 0, 255) - 128
            return QuantizedEmbeddings(codes.astype(np.int8), "int8", p.dim_in, sim,
                                       scale=self._scale, offset=self._offset)
        if p.scheme == "binary":
            codes = np.packbits(v > 0, axis=1)
            if side == "query":
                return QuantizedEmbeddings(codes, "binary", p.dim_in, sim,
                                           floats=v if p.rescore is not None else None)
            depth = 0 if p.rescore is None else (p.rescore or 4 * self.k)
            return QuantizedEmbeddings(codes, "binary", p.dim_in, sim, rescore=depth)
        # pq / ivfpq: queries stay float (asymmetric distance); documents become codes
        if side == "query":
            return DenseEmbeddings(v, sim)
        x = self._cos(v)
        self._index.reset()
        self._index.add(x)
        return QuantizedEmbeddings(self._index.sa_encode(x), p.scheme, p.dim_in, sim,
                                   index=self._index)

    # -- helpers -------------------------------------------------------------------------------
    def _dense(self, e: Embeddings) -> np.ndarray:
        if not isinstance(e, DenseEmbeddings):
            raise HarnessError(f"compression '{self.spec}' needs dense embeddings, got {e.kind}")
        return np.ascontiguousarray(e.vectors, dtype=np.float32)

    def _cos(self, v: np.ndarray) -> np.ndarray:
        return normalise(v) if self.base.meta.similarity == "cosine" else v

    def _train_pq(self, x: np.ndarray):  # noqa: ANN202 - a faiss index
        import faiss

        p = self.plan
        if x.shape[0] < 2 ** p.nbits:
            raise HarnessError(f"compression '{self.spec}': {2 ** p.nbits} PQ centroids need at "
                               f"least as many documents, the corpus has {x.shape[0]}")
        if p.scheme == "pq":
            index = faiss.IndexPQ(p.dim_in, p.m, p.nbits, faiss.METRIC_INNER_PRODUCT)
        else:
            nlist = p.nlist or max(1, int(round(math.sqrt(x.shape[0]))))
            quantizer = faiss.IndexFlatIP(p.dim_in)
            index = faiss.IndexIVFPQ(quantizer, p.dim_in, nlist, p.m, p.nbits,
                                     faiss.METRIC_INNER_PRODUCT)
            index.nprobe = p.nprobe
        # faiss warns (once per sub-quantiser) below 39 points per centroid; say it once instead
        pqs = [index.pq] if p.scheme == "pq" else [index.pq, index.cp]
        for pq in pqs:
            (pq.cp if hasattr(pq, "cp") else pq).min_points_per_centroid = 1
        self.fit_info = {"training_points": int(x.shape[0]), "centroids": 2 ** p.nbits,
                         "points_per_centroid": x.shape[0] / 2 ** p.nbits,
                         "faiss_recommends_per_centroid": 39}
        index.train(x)  # faiss k-means is seeded (fixed default seed): codebooks are reproducible
        return index


def wrap(encoder: Encoder, spec: str) -> CompressedEncoder:
    """``harness.runner.COMPRESSIONS`` entry point."""
    return CompressedEncoder(encoder, spec)
