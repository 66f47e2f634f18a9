"""t(harness bf16, cold) / t(mteb.evaluate fp32) on full NFCorpus with all-MiniLM-L6-v2.

Both sides load the model, encode 3,633 documents and 323 queries, search and score, back to
back in this process on the same cores. The harness side starts from an empty embedding cache and
an empty DuckDB file. Goals: ratio <= 0.5 and |nDCG@10(bf16) - nDCG@10(fp32, mteb)| <= 0.002.

bf16 runs only where the hardware has a native path (a GPU, or a CPU with AMX / AVX-512-bf16);
elsewhere the harness refuses it, and so does this section: it reports the reason instead of a
ratio (an emulated bf16 matmul is slower than fp32, so there would be nothing to measure).
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

MODEL = "all-MiniLM-L6-v2"
TASK = "NFCorpus"
GOAL_RATIO = 0.5
GOAL_DELTA = 0.002


def _bf16_spec():  # noqa: ANN202 - a harness.spec.RunSpec
    from harness.errors import HarnessError
    from harness.spec import RunSpec

    if "precision" not in {f.name for f in dataclasses.fields(RunSpec)}:
        raise HarnessError("RunSpec has no precision field yet (the --precision option)")
    return RunSpec(MODEL, TASK, precision="bf16")


def _refused(reason: str) -> dict:
    return {"figures": [{"name": "bf16 available on this machine", "value": 0.0, "unit": "",
                         "goal": "1", "meets_goal": False}],
            "notes": [f"not measured: {reason}"]}


def run(out_dir: Path) -> dict:
    from adapters.precision import check_precision, encode_threads, resolve_device
    from harness.cache import EmbeddingCache
    from harness.data_root import resolve_data_root
    from harness.errors import HarnessError
    from harness.kinds.outcome import Context
    from harness.runner import Runner
    from harness.store import Store

    device = resolve_device("auto")
    try:
        check_precision("bf16", device, MODEL)
        spec = _bf16_spec()
    except HarnessError as exc:
        return _refused(str(exc))
    root = resolve_data_root()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        began = time.perf_counter()
        with Store(tmp_path / "bench.duckdb") as store:
            runner = Runner(store, Context(EmbeddingCache(tmp_path / "cache"), progress=False),
                            root)
            ours = runner.run(spec)
        t_harness = time.perf_counter() - began

        from sentence_transformers import SentenceTransformer

        from adapters.dense import minilm_dir
        from harness.tasks.mteb_beir import mteb_scores

        began = time.perf_counter()
        model = SentenceTransformer(str(minilm_dir()), device=device)
        theirs = mteb_scores(model, root / "beir" / "nfcorpus", tmp_path / "mteb",
                             mteb_name=TASK)
        t_mteb = time.perf_counter() - began

    ratio = t_harness / t_mteb
    delta = (ours.main_score or 0.0) - theirs["ndcg_at_10"]
    return {
        "figures": [
            {"name": f"t(harness run, bf16, cold) {TASK} MiniLM", "value": t_harness,
             "unit": "s"},
            {"name": f"t(mteb.evaluate, fp32) {TASK} MiniLM", "value": t_mteb, "unit": "s"},
            {"name": "t(harness bf16) / t(mteb fp32)", "value": ratio, "unit": "",
             "goal": f"<= {GOAL_RATIO}", "meets_goal": ratio <= GOAL_RATIO},
            {"name": "harness bf16 nDCG@10", "value": ours.main_score or 0.0, "unit": ""},
            {"name": "mteb fp32 nDCG@10", "value": theirs["ndcg_at_10"], "unit": ""},
            {"name": "|ΔnDCG@10| bf16 vs fp32", "value": abs(delta), "unit": "",
             "goal": f"<= {GOAL_DELTA}", "meets_goal": abs(delta) <= GOAL_DELTA},
        ],
        "notes": [f"device {device}, {encode_threads()} torch threads; both sides in one "
                  "process, back to back"],
    }
