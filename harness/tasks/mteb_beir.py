"""MTEB itself, on a local BEIR folder: the oracle our retrieval numbers are checked against.

Builds an mteb ``AbsTaskRetrieval`` whose ``load_data`` reads the local files (raw title and
text, so mteb renders documents by its own rules) and runs ``mteb.evaluate`` with no hub access.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def local_retrieval_task(folder: Path, mteb_name: str = "SciFact", split: str = "test") -> Any:
    import mteb
    from mteb.abstasks.retrieval import AbsTaskRetrieval

    reference = mteb.get_task(mteb_name)

    class LocalBeirTask(AbsTaskRetrieval):
        metadata = reference.metadata
        ignore_identical_ids = reference.ignore_identical_ids

        def load_data(self, *args: Any, **kwargs: Any) -> None:
            corpus = {}
            with (folder / "corpus.jsonl").open() as fh:
                for line in fh:
                    d = json.loads(line)
                    corpus[str(d["_id"])] = {"title": d.get("title") or "", "text": d["text"]}
            qrels: dict[str, dict[str, int]] = {}
            with (folder / "qrels" / f"{split}.tsv").open() as fh:
                next(fh)
                for line in fh:
                    q, d, s = line.rstrip("\n").split("\t")
                    qrels.setdefault(q, {})[d] = int(s)
            queries = {}
            with (folder / "queries.jsonl").open() as fh:
                for line in fh:
                    q = json.loads(line)
                    if str(q["_id"]) in qrels:
                        queries[str(q["_id"])] = q["text"]
            self.corpus = {split: corpus}
            self.queries = {split: queries}
            self.relevant_docs = {split: qrels}
            self.data_loaded = True

    return LocalBeirTask()


def mteb_scores(model: Any, folder: Path, cache_dir: Path, mteb_name: str = "SciFact",
                batch_size: int = 32) -> dict[str, float]:
    """Run ``mteb.evaluate`` on the local folder; returns the test split's scores dict."""
    import mteb

    result = mteb.evaluate(model, local_retrieval_task(folder, mteb_name),
                           cache=mteb.ResultCache(cache_path=str(cache_dir)),
                           overwrite_strategy="always", show_progress_bar=False,
                           encode_kwargs={"batch_size": batch_size})
    return dict(result.task_results[0].scores["test"][0])
