"""Scale: exact dense search vs N, a streamed 200k-document corpus, local vs Ray on a grid.

1. Exact search over synthetic N x 384 fp32 vectors (N = 100k, 300k, 1M; 300 queries, k=1000),
   each N in a fresh subprocess so its peak RSS is its own: time vs N, peak RSS / matrix bytes
   (goal <= 1.5), and time / the plain product ``queries @ docs.T`` timed in the same process
   (goal <= 2). ``HARNESS_SCALE_NS`` overrides the sizes (e.g. "100000,300000").
2. A 200k-document corpus of real sentences (SciFact queries and judgments, filler documents
   recombined from SciFact and NFCorpus sentences) encoded with wordllama and searched streaming,
   peak RSS against the stated bound (harness/streaming.py), then the in-memory path for contrast.
3. `harness run` local vs `--executor ray` (2 workers) on wordllama-l2-256, bm25 x SciFact,
   NFCorpus (MiniLM left out: minutes of encoding on this machine), each from an empty cache.
"""

from __future__ import annotations

import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DIM, N_QUERIES, K = 384, 300, 1000
DEFAULT_NS = (100_000, 300_000, 1_000_000)
REPEATS = 2


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def exact_point(n: int) -> dict:
    """One N, in this process: generate, search (peak RSS read here), then the plain product."""
    import numpy as np

    from harness.embeddings import DenseEmbeddings
    from harness.search.exact import exact_search

    rng = np.random.default_rng(0)
    docs = rng.standard_normal((n, DIM), dtype=np.float32)
    queries = rng.standard_normal((N_QUERIES, DIM), dtype=np.float32)
    _ = queries @ docs[:4096].T  # warm the BLAS thread pool before either timing
    before = peak_rss_bytes()
    search_s = plain_s = float("inf")
    for _rep in range(REPEATS):  # best of REPEATS: the machine is shared, contention only adds
        began = time.perf_counter()
        exact_search(DenseEmbeddings(queries), DenseEmbeddings(docs), K)
        search_s = min(search_s, time.perf_counter() - began)
    search_peak = peak_rss_bytes()  # before the plain product allocates its N x 300 result
    for _rep in range(REPEATS):
        began = time.perf_counter()
        product = queries @ docs.T
        plain_s = min(plain_s, time.perf_counter() - began)
        del product
    return {"n": n, "search_s": search_s, "plain_s": plain_s, "matrix_bytes": docs.nbytes,
            "peak_rss_bytes": search_peak, "rss_before_search": before}


def synthetic_corpus(data_root: Path, dest: Path, n_docs: int, seed: int = 0) -> Path:
    """A BEIR folder of max(``n_docs``, 5,183) documents: SciFact's real corpus, queries and
    judgments, plus filler documents of 2-4 real sentences drawn from SciFact and NFCorpus.
    Returns ``dest``."""
    rng = random.Random(seed)
    sentences: list[str] = []
    lines: list[str] = []
    for name in ("scifact", "nfcorpus"):
        with (data_root / "beir" / name / "corpus.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                text = json.loads(line).get("text", "")
                sentences += [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 20]
                if name == "scifact":
                    lines.append(line.rstrip("\n"))
    (dest / "qrels").mkdir(parents=True, exist_ok=True)
    src = data_root / "beir" / "scifact"
    (dest / "queries.jsonl").write_text((src / "queries.jsonl").read_text(encoding="utf-8"))
    (dest / "qrels" / "test.tsv").write_text((src / "qrels" / "test.tsv").read_text())
    with (dest / "corpus.jsonl").open("w", encoding="utf-8") as out:
        for line in lines:  # every judged document stays: at least SciFact's 5,183
            out.write(line + "\n")
        for i in range(max(0, n_docs - len(lines))):
            text = " ".join(rng.sample(sentences, rng.randint(2, 4)))
            out.write(json.dumps({"_id": f"syn-{i}", "title": "", "text": text}) + "\n")
    return dest


def streaming_point(folder: str, cache: str, mode: str) -> dict:
    """Encode (cached) and search the corpus at ``folder``, ``mode`` "stream" or "memory"."""
    from adapters.registry import load_model
    from harness.cache import EmbeddingCache
    from harness.streaming import in_memory_retrieval, stream_retrieval

    run = stream_retrieval if mode == "stream" else in_memory_retrieval
    began = time.perf_counter()
    result = run(Path(folder), load_model("wordllama-l2-256"), EmbeddingCache(Path(cache)))
    return {"mode": mode, "seconds": time.perf_counter() - began, "n_docs": result.n_docs,
            "ndcg_at_10": result.scores["ndcg_at_10"], "peak_rss_bytes": peak_rss_bytes(),
            "encode_s": result.encode_seconds}


def _child(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.scale", *args], capture_output=True,
                         text=True)
    if out.returncode != 0:
        raise RuntimeError(f"bench.scale {' '.join(args)} failed: {out.stderr[-1500:]}")
    point = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  scale {' '.join(args[:2])}: {json.dumps(point)}", flush=True)  # kept if later fails
    return point


def _harness_grid(root: Path, tmp: Path, executor: str) -> tuple[float, dict[str, float]]:
    args = ["run", "-m", "wordllama-l2-256", "-m", "bm25", "-t", "SciFact", "-t", "NFCorpus",
            "--db", str(tmp / f"{executor}.duckdb"), "--cache-dir", str(tmp / f"{executor}-c"),
            "--data-root", str(root), "--no-progress", "--executor", executor]
    if executor == "ray":
        args += ["--ray-workers", "2"]
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "harness.cli", *args], check=True, capture_output=True)
    seconds = time.perf_counter() - began
    import duckdb

    con = duckdb.connect(str(tmp / f"{executor}.duckdb"), read_only=True)
    try:
        return seconds, dict(con.execute("SELECT run_key, main_score FROM runs").fetchall())
    finally:
        con.close()


ID_BYTES = 300  # per document held while streaming: its id string, tuple slot, validation dict


def _exact_figures(ns: list[int]) -> tuple[list[dict], list[str]]:
    figures, notes = [], []
    for n in ns:
        p = _child("exact", str(n))
        rss_ratio = p["peak_rss_bytes"] / p["matrix_bytes"]
        ratio = p["search_s"] / p["plain_s"]
        figures += [
            {"name": f"exact search N={n:,}", "value": p["search_s"], "unit": "s"},
            {"name": f"plain queries @ docs.T N={n:,}", "value": p["plain_s"], "unit": "s"},
            {"name": f"exact / plain product N={n:,}", "value": ratio, "unit": "x",
             "goal": "<= 2", "meets_goal": ratio <= 2},
            {"name": f"peak RSS / matrix N={n:,}", "value": rss_ratio, "unit": "x",
             "goal": "<= 1.5", "meets_goal": rss_ratio <= 1.5},
        ]
        notes.append(f"N={n:,}: {p['search_s'] / n * 1e6:.2f} s per million documents")
    return figures, notes


def _streaming_figures(root: Path, tmp: Path, n_docs: int) -> tuple[list[dict], list[str]]:
    small = synthetic_corpus(root, tmp / "small", 0)  # SciFact alone
    big = synthetic_corpus(root, tmp / "big", n_docs)
    cache = str(tmp / "cache")
    base = _child("stream", str(small), cache, "stream")
    stream = _child("stream", str(big), cache, "stream")
    memory = _child("stream", str(big), cache, "memory")  # vectors cached by now: load only
    bound = base["peak_rss_bytes"] + ID_BYTES * n_docs
    mb = 2 ** 20
    return [
        {"name": f"streamed {n_docs:,} docs: encode+search", "value": stream["seconds"],
         "unit": "s"},
        {"name": f"streamed {n_docs:,} docs: peak RSS", "value": stream["peak_rss_bytes"] / mb,
         "unit": "MiB", "goal": f"<= {bound / mb:.0f} MiB = peak(SciFact) + {ID_BYTES} B x N",
         "meets_goal": stream["peak_rss_bytes"] <= bound},
        {"name": f"in-memory {n_docs:,} docs (cached vectors): peak RSS",
         "value": memory["peak_rss_bytes"] / mb, "unit": "MiB"},
        {"name": "streamed nDCG@10 - in-memory nDCG@10",
         "value": stream["ndcg_at_10"] - memory["ndcg_at_10"], "unit": ""},
    ], [f"wordllama encoded {n_docs:,} documents in {stream['encode_s']:.1f} s of encode time; "
        f"the SciFact-only baseline (5,183 documents) peaked at "
        f"{base['peak_rss_bytes'] / mb:.0f} MiB"]


def run(out_dir: Path) -> dict:
    from harness.data_root import resolve_data_root

    root = resolve_data_root()
    env_ns = os.environ.get("HARNESS_SCALE_NS")
    ns = [int(n) for n in env_ns.split(",")] if env_ns else list(DEFAULT_NS)
    figures, notes = _exact_figures(ns)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        more, more_notes = _streaming_figures(root, tmp, int(os.environ.get(
            "HARNESS_SCALE_STREAM_DOCS", "200000")))
        figures += more
        notes += more_notes
        (local_s, local), (ray_s, remote) = (_harness_grid(root, tmp, "local"),
                                             _harness_grid(root, tmp, "ray"))
    same = sum(remote.get(key) == score for key, score in local.items())
    figures += [{"name": "grid local (wordllama, bm25 x SciFact, NFCorpus)", "value": local_s,
                 "unit": "s"},
                {"name": "grid ray, 2 workers", "value": ray_s, "unit": "s"},
                {"name": "ray / local wall time", "value": ray_s / local_s, "unit": "x"},
                {"name": "runs with equal main scores, ray vs local", "value": same, "unit":
                 f"of {len(local)}", "goal": "all", "meets_goal": same == len(local) == 4}]
    notes += [f"{os.cpu_count()} cores shared with other jobs: Ray's start-up and its worker "
              "processes compete for the same cores, so no speed-up is expected here; the "
              "grid shows the overhead, a cluster of real nodes is what Ray buys.",
              "all-MiniLM-L6-v2 left out of the grid (minutes of encoding on this machine)."]
    return {"figures": figures, "notes": notes}


def _main(argv: list[str]) -> None:
    if argv[0] == "exact":
        print(json.dumps(exact_point(int(argv[1]))))
    elif argv[0] == "stream":
        print(json.dumps(streaming_point(argv[1], argv[2], argv[3])))
    else:
        raise SystemExit("usage: python -m bench.scale exact N | stream FOLDER CACHE MODE")


if __name__ == "__main__":
    _main(sys.argv[1:])
