"""t(harness run) / t(mteb.evaluate) on full SciFact with all-MiniLM-L6-v2, both cold, one session.

Both sides load the model, encode 5,183 documents and 300 queries, search and score. The harness
side starts from an empty embedding cache and an empty DuckDB file (so its time includes writing
the cache and the store). Goal: ratio <= 1.0.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from harness.cache import EmbeddingCache
from harness.data_root import resolve_data_root
from harness.kinds.outcome import Context
from harness.runner import Runner
from harness.spec import RunSpec
from harness.store import Store


def run(out_dir: Path) -> dict:
    root = resolve_data_root()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        began = time.perf_counter()
        with Store(tmp_path / "bench.duckdb") as store:
            runner = Runner(store, Context(EmbeddingCache(tmp_path / "cache"), progress=False),
                            root)
            result = runner.run(RunSpec("all-MiniLM-L6-v2", "SciFact"))
        t_harness = time.perf_counter() - began

        from sentence_transformers import SentenceTransformer

        from adapters.dense import minilm_dir
        from harness.tasks.mteb_beir import mteb_scores

        began = time.perf_counter()
        model = SentenceTransformer(str(minilm_dir()), device="cpu")
        theirs = mteb_scores(model, root / "beir" / "scifact", tmp_path / "mteb")
        t_mteb = time.perf_counter() - began

    ratio = t_harness / t_mteb
    return {
        "figures": [
            {"name": "t(harness run) SciFact MiniLM, cold", "value": t_harness, "unit": "s"},
            {"name": "t(mteb.evaluate) SciFact MiniLM", "value": t_mteb, "unit": "s"},
            {"name": "t(harness run) / t(mteb.evaluate)", "value": ratio, "unit": "",
             "goal": "<= 1.0", "meets_goal": ratio <= 1.0},
            {"name": "harness nDCG@10", "value": result.main_score or 0.0, "unit": ""},
            {"name": "mteb nDCG@10", "value": theirs["ndcg_at_10"], "unit": ""},
        ],
        "notes": ["Both sides run in the same process, one after the other, on the same cores."],
    }
