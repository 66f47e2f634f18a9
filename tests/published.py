"""The one reader of ci/expected/published.yaml for tests: a published value and its tolerance."""

from __future__ import annotations

from functools import lru_cache

from harness.check.expected import ExpectedRow, load_expected
from harness.data_root import REPO_ROOT

PUBLISHED = REPO_ROOT / "ci" / "expected" / "published.yaml"


@lru_cache(maxsize=1)
def rows() -> tuple[ExpectedRow, ...]:
    return tuple(load_expected(PUBLISHED))


def published(model: str, task: str, metric: str) -> tuple[float, float]:
    """(expected value, tolerance) of the single published row for model x task x metric."""
    found = [r for r in rows() if (r.model, r.task, r.metric) == (model, task, metric)]
    assert len(found) == 1, f"{len(found)} rows for {model} {task} {metric} in {PUBLISHED}"
    return found[0].expected, found[0].tolerance
