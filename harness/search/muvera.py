"""MUVERA (Dhulipala et al., 2024): multi-vector retrieval through fixed-dimensional encodings.

Each repetition draws ``ksim`` Gaussian hyperplanes (SimHash) that split token space into
``2**ksim`` partitions, and a random +-1 projection to ``dproj`` dimensions. A query's FDE block of
a partition is the SUM of its projected tokens there; a document's is their MEAN, and an empty
document partition takes the token whose SimHash bits are nearest in Hamming distance (the
paper's ``fill_empty_partitions``). <FDE(q), FDE(d)> approximates MaxSim(q, d), so a dense inner
product search returns candidates that exact MaxSim then reranks.

Backend spec: ``muvera[:rerank=100][:reps=20][:ksim=5][:dproj=16][:seed=0]`` (``:`` separators, as
the other backends; ``,`` is accepted too); ``rerank=0`` ranks by the FDE inner product alone.
``build`` (used by the runner's cost measurement) encodes the documents once; ``stats`` records
the candidates per query, the FDE size and the recall of the FDE candidates against exact
MaxSim's top 100 (exact MaxSim is computed once per process, see ``maxsim.exact_top``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from harness.embeddings import DenseEmbeddings, Embeddings, MultiVectorEmbeddings
from harness.errors import EmbeddingError, HarnessError
from harness.search.base import TopK
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


def candidate_recall(candidates: np.ndarray, truth: np.ndarray) -> float:
    """Mean over queries of |candidates ∩ truth| / |truth| (rows of document indices, -1 = none)."""
    hits = [len(set(c[c >= 0].tolist()) & set(t[t >= 0].tolist())) / max((t >= 0).sum(), 1)
            for c, t in zip(candidates, truth, strict=True)]
    return float(np.mean(hits)) if hits else 0.0


class MuveraBackend:
    """FDE inner-product candidates, then exact MaxSim rerank of the top ``rerank``."""

    def __init__(self, name: str = "muvera") -> None:
        self.name = name
        _, _, rest = name.partition(":")
        try:
            params = {k: int(v) for k, v in (p.split("=", 1)
                                             for p in rest.replace(",", ":").split(":") if p)}
        except ValueError as err:
            raise HarnessError(f"backend '{name}': parameters are key=integer ({err})") from None
        unknown = set(params) - {"reps", "ksim", "dproj", "seed", "rerank"}
        if unknown:
            raise HarnessError(f"backend '{name}': unknown parameter(s) {sorted(unknown)}; "
                               "known: reps, ksim, dproj, rerank, seed")
        self.rerank = params.pop("rerank", 100)
        self.config = FDEConfig(**params)
        if not (1 <= self.config.ksim <= 12 and self.config.reps >= 1 and self.config.dproj >= 1
                and self.rerank >= 0):
            raise HarnessError(f"backend '{name}': out-of-range parameters")
        self.stats: dict[str, object] = {}

    def build(self, queries: Embeddings, docs: Embeddings) -> MuveraSearcher:
        """Document FDEs once; the candidate-recall statistics over all queries."""
        if not (isinstance(docs, MultiVectorEmbeddings) and
                isinstance(queries, MultiVectorEmbeddings)):
            raise EmbeddingError(f"muvera needs multi-vector embeddings, got {docs.kind}")
        if queries.dim != docs.dim:
            raise EmbeddingError(f"query token dimension {queries.dim} != document {docs.dim}")
        searcher = MuveraSearcher(self, queries, docs)
        began = time.perf_counter()
        candidates = searcher.candidates(slice(None), max(self.rerank, RECALL_DEPTH))
        search_s = time.perf_counter() - began
        truth = exact_top(queries, docs, RECALL_DEPTH, key=fingerprint(queries, docs)).indices
        n_cand = self.rerank or RECALL_DEPTH
        self.stats = {
            "fde_dim": self.config.dim, "fde_bytes_per_doc": self.config.dim * 4,
            "reps": self.config.reps, "ksim": self.config.ksim, "dproj": self.config.dproj,
            "rerank": self.rerank, "candidates_per_query": n_cand,
            f"fde_candidate_recall_vs_exact_maxsim_at_{RECALL_DEPTH}":
                candidate_recall(candidates.indices[:, :n_cand], truth),
            f"fde_recall_at_{RECALL_DEPTH}_vs_exact_maxsim_at_{RECALL_DEPTH}":
                candidate_recall(candidates.indices[:, :RECALL_DEPTH], truth),
            "exact_top10_in_candidates":
                candidate_recall(candidates.indices[:, :n_cand], truth[:, :10]),
            "fde_encode_docs_s": searcher.build_s, "fde_search_all_queries_s": search_s,
        }
        return searcher

    def search(self, queries: Embeddings, docs: Embeddings, k: int) -> TopK:
        return self.build(queries, docs).search(slice(None), k)

    def alternatives(self, queries: Embeddings, docs: Embeddings, k: int) -> dict[str, TopK]:
        """Other rankings the same run reports: the FDE candidates alone, without the rerank."""
        if not self.rerank:
            return {}
        searcher = MuveraSearcher(self, queries, docs)  # type: ignore[arg-type]
        return {"fde_only": searcher.candidates(slice(None), k)}


class MuveraSearcher:
    """Built MUVERA index: document FDEs (float32) and the fp32 token matrices for reranking."""

    def __init__(self, backend: MuveraBackend, queries: MultiVectorEmbeddings,
                 docs: MultiVectorEmbeddings) -> None:
        began = time.perf_counter()
        self.config, self.rerank = backend.config, backend.rerank
        self.queries, self.docs = queries, as_float32(docs)
        self.doc_fde = DenseEmbeddings(fde(docs, self.config, "document"), "dot")
        self.n_queries = len(queries)
        # What a deployment stores: the FDEs plus the token matrices the rerank reads.
        self.index_bytes = self.doc_fde.nbytes + (docs.nbytes if self.rerank else 0)
        self.build_s = time.perf_counter() - began

    def _rows(self, rows: slice) -> MultiVectorEmbeddings:
        start, stop, _ = rows.indices(self.n_queries)
        offsets = self.queries.offsets[start:stop + 1]
        return MultiVectorEmbeddings(self.queries.tokens[offsets[0]:offsets[-1]],
                                     offsets - offsets[0])

    def candidates(self, rows: slice, depth: int) -> TopK:
        query_fde = DenseEmbeddings(fde(self._rows(rows), self.config, "query"), "dot")
        return exact_search(query_fde, self.doc_fde, depth)

    def search(self, rows: slice, k: int) -> TopK:
        if not self.rerank:
            return self.candidates(rows, k)
        cand = self.candidates(rows, self.rerank)
        top = maxsim_rerank(self._rows(rows), self.docs, cand.indices)
        return TopK(top.indices[:, :k], top.scores[:, :k])
