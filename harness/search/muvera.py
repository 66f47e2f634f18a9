"""MUVERA (Dhulipala et al., 2024): multi-vector retrieval through fixed-dimensional encodings.

Each repetition draws ``ksim`` Gaussian hyperplanes (SimHash) that split token space into
``2**ksim`` partitions, and a random +-1 projection to ``dproj`` dimensions. A query's FDE block of
a partition is the SUM of its projected tokens there; a document's is their MEAN, and an empty
document partition takes the token whose SimHash bits are nearest in Hamming distance (the
paper's ``fill_empty_partitions``). <FDE(q), FDE(d)> approximates MaxSim(q, d), so a dense inner
product search returns candidates that exact MaxSim then reranks.

Backend spec (``harness.spec.Backend``): ``muvera[:rerank=100][:reps=20][:ksim=5][:dproj=16]
[:seed=0]``; ``rerank`` is a query parameter (``rerank=0`` ranks by the FDE inner product alone),
the others build the document FDEs once. ``describe`` records the candidates per query, the FDE
size and the recall of the FDE candidates against exact MaxSim's top 100.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.embeddings import DenseEmbeddings, Embeddings, MultiVectorEmbeddings
from harness.errors import EmbeddingError
from harness.search.base import TopK, overlap_recall
from harness.search.exact import exact_search
from harness.search.maxsim import as_float32, exact_top, fingerprint, item_blocks, maxsim_rerank

RECALL_DEPTH = 100


@dataclass(frozen=True)
class FDEConfig:
    reps: int = 20
    ksim: int = 5
    dproj: int = 16
    seed: int = 0

    @property
    def dim(self) -> int:
        return self.reps * (2 ** self.ksim) * self.dproj


def _random(config: FDEConfig, d: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(config.seed)
    out = []
    for _ in range(config.reps):
        planes = rng.standard_normal((d, config.ksim)).astype(np.float32)
        if config.dproj >= d:  # no inner projection when it would not reduce the dimension
            proj = np.eye(d, dtype=np.float32)
        else:
            proj = (rng.choice([-1.0, 1.0], size=(d, config.dproj)) /
                    np.sqrt(config.dproj)).astype(np.float32)
        out.append((planes, proj))
    return out


def fde(items: MultiVectorEmbeddings, config: FDEConfig, side: str, *,
        block_tokens: int = 1 << 17) -> np.ndarray:
    """(n_items, config.dim) fixed-dimensional encodings, computed in blocks of items."""
    randoms = _random(config, items.dim)
    out = np.zeros((len(items), config.dim), dtype=np.float32)
    for a, b in item_blocks(items.offsets, block_tokens):
        offsets = items.offsets[a:b + 1] - items.offsets[a]
        tokens = np.asarray(items.tokens[items.offsets[a]:items.offsets[b]], dtype=np.float32)
        out[a:b] = _fde_block(tokens, offsets, randoms, config.ksim, side)
    return out


def _fde_block(tokens: np.ndarray, offsets: np.ndarray,
               randoms: list[tuple[np.ndarray, np.ndarray]], ksim: int, side: str) -> np.ndarray:
    n = len(offsets) - 1
    owner = np.repeat(np.arange(n), np.diff(offsets))
    n_part = 2 ** ksim
    weights = 1 << np.arange(ksim)
    blocks = []
    for planes, proj in randoms:
        bits = (tokens @ planes) > 0  # (tokens, ksim) SimHash signs
        part = bits @ weights  # partition id per token
        projected = tokens @ proj  # (tokens, dproj)
        cell = owner * n_part + part
        sums = np.zeros((n * n_part, projected.shape[1]), dtype=np.float32)
        np.add.at(sums, cell, projected)
        if side == "document":
            counts = np.bincount(cell, minlength=n * n_part).astype(np.float32)
            sums /= np.maximum(counts, 1)[:, None]
            empty = np.flatnonzero(counts == 0)
            if empty.size:
                _fill_empty(sums, empty, n_part, bits, offsets, projected)
        blocks.append(sums.reshape(n, -1))
    return np.concatenate(blocks, axis=1)


def _fill_empty(sums: np.ndarray, empty: np.ndarray, n_part: int, bits: np.ndarray,
                offsets: np.ndarray, projected: np.ndarray) -> None:
    """An empty document partition gets the document's token nearest to it in SimHash bits."""
    ksim = bits.shape[1]
    codes = ((np.arange(n_part)[:, None] >> np.arange(ksim)) & 1).astype(bool)  # (parts, ksim)
    docs = empty // n_part
    for doc in np.unique(docs):
        cells = empty[docs == doc]
        start, end = offsets[doc], offsets[doc + 1]
        hamming = (codes[cells % n_part][:, None, :] != bits[start:end][None]).sum(axis=2)
        sums[cells] = projected[start + hamming.argmin(axis=1)]


def build(docs: Embeddings, build_params: Mapping[str, Any]) -> MuveraSearcher:
    """Document FDEs once; ``rerank`` (a query parameter) is chosen per search."""
    if not isinstance(docs, MultiVectorEmbeddings):
        raise EmbeddingError(f"muvera needs multi-vector embeddings, got {docs.kind}")
    return MuveraSearcher(FDEConfig(**{k: int(v) for k, v in build_params.items()}), docs)


class MuveraSearcher:
    """Built MUVERA index: document FDEs (float32) and the fp32 token matrices for reranking."""

    def __init__(self, config: FDEConfig, docs: MultiVectorEmbeddings) -> None:
        began = time.perf_counter()
        self.config, self.docs = config, as_float32(docs)
        self.doc_fde = DenseEmbeddings(fde(docs, config, "document"), "dot")
        self.token_bytes = docs.nbytes
        self._doc_key = fingerprint(docs)  # as MaxSimSearcher's: one exact MaxSim per process
        self.build_s = time.perf_counter() - began
        self.index_bytes = self.doc_fde.nbytes + self.token_bytes

    def _check(self, queries: Embeddings) -> MultiVectorEmbeddings:
        if not isinstance(queries, MultiVectorEmbeddings):
            raise EmbeddingError(f"muvera needs multi-vector queries, got {queries.kind}")
        if queries.dim != self.docs.dim:
            raise EmbeddingError(f"query token dimension {queries.dim} != document "
                                 f"{self.docs.dim}")
        return queries

    def candidates(self, queries: Embeddings, depth: int) -> TopK:
        query_fde = DenseEmbeddings(fde(self._check(queries), self.config, "query"), "dot")
        return exact_search(query_fde, self.doc_fde, depth)

    def search(self, queries: Embeddings, k: int, query_params: Mapping[str, Any]) -> TopK:
        rerank = int(query_params.get("rerank", 100))
        if not rerank:
            return self.candidates(queries, k)
        cand = self.candidates(queries, rerank)
        top = maxsim_rerank(self._check(queries), self.docs, cand.indices)
        return TopK(top.indices[:, :k], top.scores[:, :k])

    def alternatives(self, queries: Embeddings, k: int,
                     query_params: Mapping[str, Any]) -> dict[str, TopK]:
        """Other rankings the same run reports: the FDE candidates alone, without the rerank."""
        if not int(query_params.get("rerank", 100)):
            return {}
        return {"fde_only": self.candidates(queries, k)}

    def describe(self, queries: Embeddings, query_params: Mapping[str, Any]) -> dict[str, Any]:
        """Candidates per query, FDE size and the recall of the FDE candidates against exact
        MaxSim's top 100 (computed once per process, see ``maxsim.exact_top``)."""
        rerank = int(query_params.get("rerank", 100))
        q = self._check(queries)
        began = time.perf_counter()
        candidates = self.candidates(q, max(rerank, RECALL_DEPTH)).indices
        search_s = time.perf_counter() - began
        truth = exact_top(q, self.docs, RECALL_DEPTH, key=fingerprint(q) + self._doc_key).indices
        n_cand = rerank or RECALL_DEPTH
        c = self.config
        return {
            "fde_dim": c.dim, "fde_bytes_per_doc": c.dim * 4, "reps": c.reps, "ksim": c.ksim,
            "dproj": c.dproj, "rerank": rerank, "candidates_per_query": n_cand,
            f"fde_candidate_recall_vs_exact_maxsim_at_{RECALL_DEPTH}":
                overlap_recall(candidates[:, :n_cand], truth),
            f"fde_recall_at_{RECALL_DEPTH}_vs_exact_maxsim_at_{RECALL_DEPTH}":
                overlap_recall(candidates[:, :RECALL_DEPTH], truth),
            "exact_top10_in_candidates": overlap_recall(candidates[:, :n_cand], truth[:, :10]),
            "fde_encode_docs_s": self.build_s, "fde_search_all_queries_s": search_s,
            # what a deployment stores: the FDEs plus the token matrices the rerank reads
            "index_bytes": self.doc_fde.nbytes + (self.token_bytes if rerank else 0),
        }
