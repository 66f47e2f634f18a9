"""Builders for the code-path check tasks of tests/test_task_types.py.

Each writes a small task folder from real staged texts (Banking77, STSBenchmark, SICK-R, SciFact)
under ``<root>/checks/<task name lowercased>``. These are code-path checks, NOT reproductions: the
tasks are constructed here, so their scores are compared only with mteb run on the same files.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _banking(data_root: Path, split: str) -> dict[str, list[str]]:
    by_intent: dict[str, list[str]] = defaultdict(list)
    with (data_root / "mteb" / "banking77" / f"{split}.csv").open() as fh:
        for row in csv.DictReader(fh):
            by_intent[row["category"]].append(row["text"])
    return by_intent


def _sts_rows(data_root: Path, folder: str, n: int) -> list[dict]:
    lines = (data_root / "mteb" / folder / "test.jsonl").read_text().splitlines()[:n]
    return [json.loads(line) for line in lines]


def clustering(data_root: Path, out: Path, n_intents: int = 8, per_intent: int = 25) -> None:
    """Banking77 test texts of the first ``n_intents`` intents, labelled by intent."""
    by_intent = _banking(data_root, "test")
    rows = [{"sentences": text, "labels": intent}
            for intent in sorted(by_intent)[:n_intents] for text in by_intent[intent][:per_intent]]
    _write_jsonl(out / "checks" / "banking77intentclustering" / "test.jsonl", rows)


def pair_classification(data_root: Path, out: Path, threshold: float = 4.0) -> None:
    """STSBenchmark and SICK-R pairs: paraphrase (1) when the gold score is >= threshold."""
    rows = []
    for folder, n in (("stsbenchmark", 150), ("sickr", 100)):
        for i, r in enumerate(_sts_rows(data_root, folder, n)):
            rows.append({"id": f"{folder}-{i}", "sentence1": r["sentence1"],
                         "sentence2": r["sentence2"], "labels": int(r["score"] >= threshold)})
    _write_jsonl(out / "checks" / "stsbparaphrasepairs" / "test.jsonl", rows)


def summarization(data_root: Path, out: Path, n_texts: int = 30, per_text: int = 5) -> None:
    """Groups of STSBenchmark pairs with distinct gold scores: sentence1s are the human summaries
    (joined, the text), sentence2s the machine summaries, the gold scores their relevance."""
    rows, group = [], []
    for r in _sts_rows(data_root, "stsbenchmark", 1000):
        if r["score"] in {g["score"] for g in group}:
            continue
        group.append(r)
        if len(group) == per_text:
            rows.append({"id": f"group-{len(rows)}",
                         "text": " ".join(g["sentence1"] for g in group),
                         "human_summaries": [g["sentence1"] for g in group],
                         "machine_summaries": [g["sentence2"] for g in group],
                         "relevance": [g["score"] for g in group]})
            group = []
        if len(rows) == n_texts:
            break
    _write_jsonl(out / "checks" / "stsbsummarization" / "test.jsonl", rows)


def multilabel(data_root: Path, out: Path, n_intents: int = 6) -> None:
    """Two Banking77 requests of different intents joined into one message, labelled with both
    (the MixATIS construction); single requests keep their one intent."""
    for split, n_per_intent in (("train", 16), ("test", 8)):
        by_intent = _banking(data_root, split)
        intents = sorted(by_intent)[:n_intents]
        rows = []
        for i in range(n_per_intent):
            for j, a in enumerate(intents):
                b = intents[(j + 1 + i) % n_intents]
                text_a, text_b = by_intent[a][i], by_intent[b][i + n_per_intent]
                if a == b:
                    rows.append({"text": text_a, "label": [a]})
                else:
                    rows.append({"text": f"{text_a} Also, {text_b}", "label": sorted({a, b})})
        _write_jsonl(out / "checks" / "banking77multiintent" / f"{split}.jsonl", rows)


def reranking(data_root: Path, scifact_root: Path, out: Path, n_queries: int = 20,
              depth: int = 20) -> None:
    """SciFact test queries (from the SciFact subset) reranked over their BM25 top-``depth``."""
    import bm25s

    src = scifact_root / "beir" / "scifact"
    dest = out / "checks" / "scifactbm25reranking"
    (dest / "qrels").mkdir(parents=True, exist_ok=True)
    corpus = [json.loads(line) for line in (src / "corpus.jsonl").read_text().splitlines()]
    qrels = (src / "qrels" / "test.tsv").read_text().splitlines()
    qids = list(dict.fromkeys(line.split("\t")[0] for line in qrels[1:]))[:n_queries]
    queries = {q["_id"]: q for q in map(json.loads, (src / "queries.jsonl").read_text()
                                        .splitlines()) if q["_id"] in qids}
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([f"{d['title']} {d['text']}" for d in corpus],
                                   stopwords="en", show_progress=False), show_progress=False)
    hits, _ = retriever.retrieve(bm25s.tokenize([queries[q]["text"] for q in qids],
                                                stopwords="en", show_progress=False),
                                 k=depth, show_progress=False)
    top = [{"query-id": q, "corpus-ids": [corpus[int(i)]["_id"] for i in row]}
           for q, row in zip(qids, hits, strict=True)]
    _write_jsonl(dest / "top_ranked.jsonl", top)
    _write_jsonl(dest / "queries.jsonl", [queries[q] for q in qids])
    _write_jsonl(dest / "corpus.jsonl", corpus)
    (dest / "qrels" / "test.tsv").write_text("\n".join(
        [qrels[0], *[r for r in qrels[1:] if r.split("\t")[0] in qids]]) + "\n")
