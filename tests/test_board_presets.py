"""The leaderboard's default view logic (leaderboard/presets.py), on small hand-made grids."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leaderboard import presets as pr


def test_largest_covered_keeps_three_complete_entries() -> None:
    tasks = ["A", "B", "C", "D"]
    has = np.array([[1, 1, 1, 0],   # four entries cover A, B; three cover A, B, C; one has D
                    [1, 1, 1, 0],
                    [1, 1, 1, 1],
                    [1, 1, 0, 0]], dtype=bool)
    assert pr.largest_covered(has, tasks) == ["A", "B", "C"]
    named = pr.presets(has, tasks, {"A": "retrieval", "B": "retrieval", "C": "sts", "D": "x"})
    assert named[pr.COVERED] == ["A", "B", "C"]
    assert named["BEIR retrieval (local)"] == ["A", "B"] and named["MTEB STS"] == ["C"]
    assert named[pr.EVERYTHING] == tasks and "MTEB classification" not in named


def test_borda_counts_entries_beaten() -> None:
    table = pd.DataFrame({"T1": [0.9, 0.5, 0.7], "T2": [0.1, 0.8, np.nan]})
    points, rank = pr.borda(table, ["T1", "T2"])
    # T1: 2, 0, 1 beaten; T2: 0, 1, (missing: 0)
    assert list(points) == [2.0, 1.0, 1.0] and list(rank) == [1, 2, 2]


def test_variants_fold_under_their_model() -> None:
    table = pd.DataFrame({"model": ["m1", "m2", "m1", "m3"],
                          "variant": ["int8", "", "", "binary"], "mean": [0.9, 0.8, 0.7, 0.6]})
    folded = pr.group_variants(table)  # the plain row stands for m1, ranked by its own score
    assert list(zip(folded["model"], folded["variant"], folded["variants"], strict=True)) == \
        [("m2", "", 0), ("m1", "", 1), ("m3", "binary", 0)]
    expanded = pr.order_with_variants(table)
    assert list(zip(expanded["model"], expanded["variant"], strict=True)) == \
        [("m1", ""), ("m1", "int8"), ("m2", ""), ("m3", "binary")]
