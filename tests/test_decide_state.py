"""URL state through streamlit's AppTest on the real SciFact-subset store: a link restores the
selections of the decision pages and of the older pages; a change goes back into the URL; values
outside a widget's options are dropped rather than breaking the page."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.data_root import REPO_ROOT
from tests.test_decide_cli import decide_db  # noqa: F401 - the shared session fixture

APP = str(REPO_ROOT / "leaderboard" / "app.py")


@pytest.fixture
def app(decide_db: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: F811, ANN201
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("HARNESS_BOARD_DB", str(decide_db))
    assert os.environ["HARNESS_BOARD_DB"] == str(decide_db)

    def make(page: str | None, **params: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=180)
        if page:
            at.switch_page(page)
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, at.exception
        return at
    return make


def test_leaderboard_link_restores_and_change_is_written(app) -> None:  # noqa: ANN001
    at = app(None, families="dense", search="MiniLM", sort="SciFact", tasks="SciFact,bogus",
             variants="1")
    assert at.multiselect(key="lb_families").value == ["dense"]
    assert at.text_input(key="lb_search").value == "MiniLM"
    assert at.selectbox(key="lb_sort").value == "SciFact"
    assert at.multiselect(key="lb_tasks").value == ["SciFact"]  # 'bogus' dropped
    assert at.query_params["tasks"] == "SciFact"
    assert at.toggle(key="lb_variants").value is True
    at.text_input(key="lb_search").input("L6-v2").run()
    assert at.query_params["search"] == "L6-v2"


def test_pick_link_restores_every_budget_field(app) -> None:  # noqa: ANN001
    at = app("views/pick.py", tasks="SciFact", metric="recall_at_10", max_bytes_per_doc="500",
             max_p95_ms="2.5", corpus_docs="1000000", max_index_gb="1", open_weights="1",
             meta="1")
    assert at.multiselect(key="pk_tasks").value == ["SciFact"]
    assert at.selectbox(key="pk_metric").value == "recall_at_10"
    assert at.number_input(key="pk_bytes").value == 500.0
    assert at.number_input(key="pk_p95").value == 2.5
    assert at.number_input(key="pk_docs").value == 1_000_000
    assert at.number_input(key="pk_gb").value == 1.0
    assert at.checkbox(key="pk_open").value is True
    assert at.text[0].value.startswith("Best that fits:")
    at.number_input(key="pk_bytes").set_value(100.0).run()
    assert at.query_params["max_bytes_per_doc"] == "100"


def test_stale_url_from_a_quick_second_change_does_not_undo_the_first(app) -> None:  # noqa: ANN001
    """A user changes two widgets quickly: the second change reaches the server with the query
    string of the run before the first (the browser had not yet swapped its URL). The first
    change must stand; a value this session never wrote (a link, a hand edit) still wins, and
    so does an older value once the browser has caught up (an in-app link back to it)."""
    at = app("views/pick.py", tasks="SciFact", metric="ndcg_at_10", max_bytes_per_doc="500")
    at.number_input(key="pk_bytes").set_value(100.0).run()
    assert at.query_params["max_bytes_per_doc"] == "100"
    at.query_params["max_bytes_per_doc"] = "500"  # the stale query string of the run before
    at.number_input(key="pk_p95").set_value(50.0).run()
    assert at.number_input(key="pk_bytes").value == 100.0
    assert at.query_params["max_bytes_per_doc"] == "100" and at.query_params["max_p95_ms"] == "50"
    at.run()  # the browser shows the newest URL: older values are links again
    at.query_params["max_bytes_per_doc"] = "500"
    at.run()
    assert at.number_input(key="pk_bytes").value == 500.0
    at.query_params["max_bytes_per_doc"] = "300"  # edited by hand
    at.run()
    assert at.number_input(key="pk_bytes").value == 300.0
