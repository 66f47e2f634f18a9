"""embedding-harness: quality and cost of text-embedding retrieval, all families, one board."""

__version__ = "0.1.0"
