"""Load a BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) with strict validation.

Every problem is raised as a ``DataError`` naming the file, line and field, before anything is
encoded or stored. Documents are rendered as MTEB renders them: ``title + " " + text``, stripped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
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


def _records(path: Path) -> Iterator[tuple[int, str, dict]]:
    """(line, id, object) per JSON line of a corpus or queries file: ids unique, 'text' present."""
    seen: dict[str, int] = {}
    for lineno, obj in jsonl_objects(path):
        record_id = _id_of(obj, path, lineno)
        if record_id in seen:
            raise DataError(path, lineno, "_id",
                            f"duplicate id {record_id!r} (first on line {seen[record_id]})")
        seen[record_id] = lineno
        if "text" not in obj:
            raise DataError(path, lineno, "text", "missing")
        yield lineno, record_id, obj


def corpus_records(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line, id, rendered text) per document, one at a time (streaming reads it this way)."""
    for lineno, doc_id, obj in _records(path):
        yield lineno, doc_id, document_text(_text_of(obj, path, lineno, "title"),
                                            _text_of(obj, path, lineno, "text"))


def read_corpus(path: Path) -> tuple[list[str], list[str]]:
    ids: list[str] = []
    texts: list[str] = []
    for _, doc_id, text in corpus_records(path):
        ids.append(doc_id)
        texts.append(text)
    if not ids:
        raise DataError(path, None, None, "corpus is empty")
    return ids, texts


def read_queries(path: Path) -> dict[str, str]:
    return {qid: _text_of(obj, path, lineno, "text") for lineno, qid, obj in _records(path)}


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


def judged_queries(folder: Path, split: str, doc_ids: Iterable[str],
                   ) -> tuple[list[str], list[str], dict[str, dict[str, int]]]:
    """The split's judged query ids and texts (file order, as MTEB) and their qrels, every qrels
    row checked against the queries and the corpus ids."""
    queries_path, qrels_path = folder / "queries.jsonl", folder / "qrels" / f"{split}.tsv"
    for path in (queries_path, qrels_path):
        if not path.is_file():
            raise HarnessError(f"{path}: file not found")
    queries = read_queries(queries_path)
    if not queries:
        raise DataError(queries_path, None, None, "no queries in file")
    known_docs = set(doc_ids)
    qrels: dict[str, dict[str, int]] = {}
    for lineno, qid, doc_id, score in read_qrels(qrels_path):
        if qid not in queries:
            raise DataError(qrels_path, lineno, "query-id", f"unknown query {qid!r}")
        if doc_id not in known_docs:
            raise DataError(qrels_path, lineno, "corpus-id", f"unknown document {doc_id!r}")
        qrels.setdefault(qid, {})[doc_id] = score
    query_ids = [qid for qid in queries if qid in qrels]
    if not query_ids:
        raise DataError(qrels_path, None, None, f"no queries with judgments for split '{split}'")
    empty = [qid for qid in query_ids if not queries[qid].strip()]
    if empty:
        raise DataError(queries_path, None, "text", f"empty query text for id {empty[0]!r}")
    return query_ids, [queries[q] for q in query_ids], qrels


def load_beir(folder: Path, split: str = "test") -> RetrievalData:
    corpus_path = folder / "corpus.jsonl"
    files = [corpus_path, folder / "queries.jsonl", folder / "qrels" / f"{split}.tsv"]
    for path in files:
        if not path.is_file():
            raise HarnessError(f"{path}: file not found")
    doc_ids, doc_texts = read_corpus(corpus_path)
    query_ids, query_texts, qrels = judged_queries(folder, split, doc_ids)
    return RetrievalData(
        corpus_ids=tuple(doc_ids),
        corpus_texts=tuple(doc_texts),
        query_ids=tuple(query_ids),
        query_texts=tuple(query_texts),
        qrels=qrels,
        data_sha256=file_sha256(files),
    )
