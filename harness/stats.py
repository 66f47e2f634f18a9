"""Statistics of an index's embeddings, stored in a run's ``extra`` column.

Family-specific numbers (sparsity, FLOPS, tokens per document) are added here by embedding kind.
"""

from __future__ import annotations

from typing import Any

from harness.embeddings import Embeddings


def describe(docs: Embeddings, queries: Embeddings) -> dict[str, Any]:
    return {"kind": docs.kind, "dim": docs.dim, "doc_bytes": docs.nbytes,
            "query_bytes": queries.nbytes}
