"""Load a BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) with strict validation.

Every problem is raised as a ``DataError`` naming the file, line and field, before anything is
encoded or stored. Documents are rendered as MTEB renders them: ``title + " " + text``, stripped.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from harness.errors import DataError, HarnessError
from harness.tasks.base import RetrievalData
from harness.tasks.lines import check_id, check_text, jsonl_objects, text_lines


def file_sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


MAX_QREL_SCORE = 1000  # graded relevance is small; anything larger is a broken file


def _id_of(obj: dict, path: Path, lineno: int) -> str:
    if "_id" not in obj:
        raise DataError(path, lineno, "_id", "missing")
    return check_id(path, lineno, "_id", obj["_id"])


def _text_of(obj: dict, path: Path, lineno: int, field: str) -> str:
    value = obj.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise DataError(path, lineno, field, f"must be a string, got {type(value).__name__}")
    return check_text(path, lineno, field, value)


def document_text(title: str, text: str) -> str:
    """MTEB's rendering of a BEIR document for an embedding model."""
    return f"{title} {text}".strip() if title else text.strip()


def read_corpus(path: Path) -> tuple[list[str], list[str]]:
    ids: list[str] = []
    texts: list[str] = []
    seen: dict[str, int] = {}
    for lineno, obj in jsonl_objects(path):
        doc_id = _id_of(obj, path, lineno)
        if doc_id in seen:
            raise DataError(path, lineno, "_id",
                            f"duplicate id {doc_id!r} (first on line {seen[doc_id]})")
        seen[doc_id] = lineno
        if "text" not in obj:
            raise DataError(path, lineno, "text", "missing")
        ids.append(doc_id)
        texts.append(document_text(_text_of(obj, path, lineno, "title"),
                                   _text_of(obj, path, lineno, "text")))
    if not ids:
        raise DataError(path, None, None, "corpus is empty")
    return ids, texts


def read_queries(path: Path) -> dict[str, str]:
    queries: dict[str, str] = {}
    seen: dict[str, int] = {}
    for lineno, obj in jsonl_objects(path):
        qid = _id_of(obj, path, lineno)
        if qid in seen:
            raise DataError(path, lineno, "_id",
                            f"duplicate id {qid!r} (first on line {seen[qid]})")
        seen[qid] = lineno
        if "text" not in obj:
            raise DataError(path, lineno, "text", "missing")
        queries[qid] = _text_of(obj, path, lineno, "text")
    return queries


def read_qrels(path: Path) -> list[tuple[int, str, str, int]]:
    """(line, query-id, corpus-id, score) rows; the header line is optional, as in BEIR.

    A pair judged twice with the same score is accepted; with different scores it is an error.
    """
    rows: list[tuple[int, str, str, int]] = []
    seen: dict[tuple[str, str], tuple[int, int]] = {}
    for lineno, line in text_lines(path):
        parts = line.split("\t")
        if lineno == 1 and parts[:2] == ["query-id", "corpus-id"]:
            continue
        if not line.strip():
            continue
        if len(parts) != 3:
            raise DataError(path, lineno, None,
                            f"expected 3 tab-separated fields, got {len(parts)}")
        qid = check_id(path, lineno, "query-id", parts[0])
        doc_id = check_id(path, lineno, "corpus-id", parts[1])
        try:
            score = int(parts[2])
        except ValueError:
            raise DataError(path, lineno, "score", f"not an integer: {parts[2]!r}") from None
        if abs(score) > MAX_QREL_SCORE:
            raise DataError(path, lineno, "score",
                            f"{score} is outside -{MAX_QREL_SCORE}..{MAX_QREL_SCORE}")
        first = seen.setdefault((qid, doc_id), (lineno, score))
        if first[1] != score:
            raise DataError(path, lineno, "score", f"{qid!r} {doc_id!r} judged {score} here but "
                                                   f"{first[1]} on line {first[0]}")
        rows.append((lineno, qid, doc_id, score))
    return rows


def load_beir(folder: Path, split: str = "test") -> RetrievalData:
    corpus_path = folder / "corpus.jsonl"
    queries_path = folder / "queries.jsonl"
    qrels_path = folder / "qrels" / f"{split}.tsv"
    for path in (corpus_path, queries_path, qrels_path):
        if not path.is_file():
            raise HarnessError(f"{path}: file not found")
    doc_ids, doc_texts = read_corpus(corpus_path)
    known_docs = set(doc_ids)
    queries = read_queries(queries_path)
    if not queries:
        raise DataError(queries_path, None, None, "no queries in file")
    qrels: dict[str, dict[str, int]] = {}
    for lineno, qid, doc_id, score in read_qrels(qrels_path):
        if qid not in queries:
            raise DataError(qrels_path, lineno, "query-id", f"unknown query {qid!r}")
        if doc_id not in known_docs:
            raise DataError(qrels_path, lineno, "corpus-id", f"unknown document {doc_id!r}")
        qrels.setdefault(qid, {})[doc_id] = score
    # MTEB evaluates the queries that have judgments for the split, in file order.
    query_ids = [qid for qid in queries if qid in qrels]
    if not query_ids:
        raise DataError(qrels_path, None, None, f"no queries with judgments for split '{split}'")
    empty = [qid for qid in query_ids if not queries[qid].strip()]
    if empty:
        raise DataError(queries_path, None, "text", f"empty query text for id {empty[0]!r}")
    return RetrievalData(
        corpus_ids=tuple(doc_ids),
        corpus_texts=tuple(doc_texts),
        query_ids=tuple(query_ids),
        query_texts=tuple(queries[q] for q in query_ids),
        qrels=qrels,
        data_sha256=file_sha256([corpus_path, queries_path, qrels_path]),
    )


def download_beir(name: str, url: str, dest: Path) -> Path:  # pragma: no cover - needs network
    """The standard BEIR download path, for users with a network (never used by tests)."""
    from beir import util

    if (dest / name).is_dir():
        return dest / name
    return Path(util.download_and_unzip(url, str(dest)))
