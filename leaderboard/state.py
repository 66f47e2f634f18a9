"""State in the URL: every selection on a page is written to the query string and restored from
it, so a link reproduces the view.

Use ``bind`` around a keyed widget (it restores the widget's value from the URL before the widget
is drawn and writes it back after), or ``restore`` / ``publish`` separately. A URL value wins only
when it is neither what this session last wrote nor an older value the browser has not yet
replaced (a link just opened, or edited by hand), so a widget change is never undone by a stale
URL: a quick user's second change can reach the server with the query string of the run before
the first one's, which the browser had not yet swapped. Lists travel as one
comma-separated parameter; values outside a widget's options are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

_LAST = "_url_last_"  # session-state prefix: what this session last wrote per parameter
_STALE = "_url_stale_"  # older values written since the browser last showed the newest one


def _is_new(param: str, url: str | None) -> bool:
    """A URL value this session did not just write (so it came from a link or a hand edit)."""
    if url is None:
        return False
    if url == st.session_state.get(_LAST + param):
        st.session_state[_STALE + param] = frozenset()  # the browser has caught up
        return False
    return url not in st.session_state.get(_STALE + param, frozenset())


def _encode(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _decode(text: str, kind: type, options: Sequence[Any] | None) -> Any:
    if kind is list:
        items = [t for t in text.split(",") if t]
        return [t for t in items if options is None or t in options]
    if kind is bool:
        return text in ("1", "true", "True")
    value = kind(text)
    if options is not None and value not in options:
        raise ValueError(text)
    return value


def restore(param: str, key: str, default: Any, *, kind: type = str,
            options: Sequence[Any] | None = None) -> None:
    """Before the widget keyed ``key`` is drawn: take the URL's value when it is new, else keep
    the session's value, else ``default``."""
    url = st.query_params.get(param)
    if _is_new(param, url):
        try:
            st.session_state[key] = _decode(url, kind, options)
            return
        except ValueError:
            pass  # a hand-edited, invalid value: fall back to the session's or the default
    current = st.session_state.get(key)
    if key not in st.session_state or (options is not None and kind is not list
                                       and current not in options):
        st.session_state[key] = default
    elif kind is list and options is not None:
        st.session_state[key] = [v for v in current if v in options]


def publish(param: str, value: Any) -> None:
    text = _encode(value)
    last = st.session_state.get(_LAST + param)
    if last is not None and last != text:
        stale = st.session_state.get(_STALE + param, frozenset())
        st.session_state[_STALE + param] = stale | {last}
    st.session_state[_LAST + param] = text
    if st.query_params.get(param) != text:
        st.query_params[param] = text


def bind(widget: Callable[..., Any], label: str, param: str, key: str, default: Any, *,
         kind: type = str, options: Sequence[Any] | None = None, **kwargs: Any) -> Any:
    """Draw ``widget`` (an st.* or container method) with its value tied to ``param``."""
    restore(param, key, default, kind=kind, options=options)
    if options is not None:
        value = widget(label, list(options), key=key, **kwargs)
    else:
        value = widget(label, key=key, **kwargs)
    publish(param, value)
    return value


# Widgets of the pages that predate this module, per page: key -> URL parameter. app.py writes
# them to the URL after each page run, so their selections are in every link too (compare,
# drill-down and run already read theirs back; the others restore when they adopt ``bind``).
EXISTING_PAGES: dict[str, dict[str, str]] = {
    "leaderboard": {"lb_tasks": "tasks", "lb_families": "families", "lb_search": "search",
                    "lb_sort": "sort", "lb_variants": "variants"},
    "tradeoff": {"to_tasks": "tasks", "to_metric": "metric", "to_cost": "cost", "to_log": "log"},
    "compare": {"cmp_task": "task", "cmp_a": "a", "cmp_b": "b", "cmp_metric": "metric",
                "cmp_n": "n"},
    "drilldown": {"dd_task": "task", "dd_query": "q", "dd_runs": "runs"},
}


# Their kinds where not a plain string (the widgets' own options are passed in by app.py).
_KINDS: dict[str, type] = {"lb_tasks": list, "lb_families": list, "lb_variants": bool,
                           "to_tasks": list, "to_log": bool}


def restore_existing(page: str, options: dict[str, list]) -> None:
    """Before an older page runs: a URL value new to this session becomes its widget's value.
    Only widgets whose options app.py can name (``options``; free text needs none) are restored;
    a value outside them is dropped, never passed to the widget."""
    for key, param in EXISTING_PAGES.get(page, {}).items():
        url = st.query_params.get(param)
        if not _is_new(param, url):
            continue
        kind = _KINDS.get(key, str)
        if key not in options and not (key == "lb_search" or kind is bool):
            continue  # the page restores it itself (compare, drill-down) or cannot be checked
        try:
            st.session_state[key] = _decode(url, kind, options.get(key))
        except ValueError:
            continue


def publish_existing(page: str) -> None:
    """Write the keyed widgets of ``page`` (those drawn, so in session state) to the URL."""
    for key, param in EXISTING_PAGES.get(page, {}).items():
        if key in st.session_state:
            publish(param, st.session_state[key])
