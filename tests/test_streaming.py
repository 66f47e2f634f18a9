"""A corpus streamed in chunks under a memory cap that the in-memory path exceeds: same scores.

Each path runs in a subprocess that loads the model, then caps its address space
(``resource.setrlimit(RLIMIT_AS)``) at what it has mapped plus BUDGET. The uncapped in-memory
run encodes first and fills the cache: the cap is about reading and searching the corpus, not
about the encoder's own per-batch buffers (wordllama's reach ~200 MB for 64 long texts).
The corpus (real SciFact plus filler documents of real sentences) needs about 2.3 kB per
document in memory (texts, vectors, their concatenation) but about 0.3 kB streaming (ids only):
with 30k documents the in-memory path must exceed the cap (~75 MB) and the streamed one must
fit (~10 MB of ids, a few MB of chunk, scores and evaluation).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.scale import synthetic_corpus

N_DOCS = 30_000
BUDGET = 48 * 2**20  # bytes of address space beyond the loaded model
CHILD = """
import json, resource, sys
from pathlib import Path
from adapters.registry import load_model
from harness.cache import EmbeddingCache
from harness.streaming import in_memory_retrieval, stream_retrieval
mode, folder, cache, budget = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
encoder = load_model("wordllama-l2-256")
encoder.encode(["warm-up"], "query")  # weights in memory before the cap
if budget:
    vm = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmSize"))
    resource.setrlimit(resource.RLIMIT_AS, (vm + budget, vm + budget))
run = stream_retrieval if mode == "stream" else in_memory_retrieval
result = run(folder, encoder, EmbeddingCache(cache, 1024), k=100)
print(json.dumps(result.scores))
"""


def _run(mode: str, folder: Path, cache: Path, budget: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "MALLOC_ARENA_MAX": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", CHILD, mode, str(folder), str(cache),
                           str(budget)], capture_output=True, text=True, env=env, timeout=900)


@pytest.fixture(scope="module")
def corpus(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_corpus(data_root, tmp_path_factory.mktemp("synthetic"), N_DOCS)


def test_streamed_corpus_fits_a_cap_the_in_memory_path_exceeds(corpus: Path,
                                                                tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    reference = _run("memory", corpus, cache, 0)  # no cap: the usual path; encodes the corpus
    assert reference.returncode == 0, reference.stderr[-2000:]
    streamed = _run("stream", corpus, cache, BUDGET)  # chunk by chunk, same cached vectors
    assert streamed.returncode == 0, streamed.stderr[-2000:]
    assert json.loads(streamed.stdout) == json.loads(reference.stdout)  # equal, not close
    capped = _run("memory", corpus, cache, BUDGET)
    assert capped.returncode != 0 and "MemoryError" in capped.stderr, capped.stdout


def test_lazy_texts_and_blocked_search_match_the_loader(scifact_subset: Path) -> None:
    import numpy as np

    from harness.embeddings import DenseEmbeddings
    from harness.search.exact import exact_search, search_blocks
    from harness.streaming import StreamedCorpus
    from harness.tasks.beir import read_corpus

    path = scifact_subset / "beir" / "scifact" / "corpus.jsonl"
    ids, texts = read_corpus(path)
    corpus = StreamedCorpus.open(path, 32)
    assert corpus.ids == tuple(ids)
    assert list(corpus.texts) == texts
    assert corpus.texts[40:75] == texts[40:75]  # a slice across a chunk boundary
    rng = np.random.default_rng(1)
    docs = rng.standard_normal((len(ids), 24), dtype=np.float32)
    queries = DenseEmbeddings(rng.standard_normal((7, 24), dtype=np.float32))
    whole = exact_search(queries, DenseEmbeddings(docs), 50)
    streamed = search_blocks(queries, (docs[s:s + 32] for s in range(0, len(docs), 32)), 50)
    assert np.array_equal(whole.indices, streamed.indices)
    assert np.allclose(whole.scores, streamed.scores, rtol=0, atol=1e-6)
