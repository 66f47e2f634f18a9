"""Render check results: a console table, one plain line per failure, and a markdown report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from harness.check.compare import CheckRow, Paired

STYLE = {"OK": "green", "OKISH": "yellow", "FAIL": "bold red", "SKIP": "dim", "ERROR": "bold red",
         "REGRESSION": "bold red"}

LEGEND = ("OK: |got − expected| ≤ tolerance · OKISH: within the looser `okish` band (default "
          "3 × tolerance) · FAIL: outside it · SKIP: reference-only row · ERROR: the run failed")


def exit_code(rows: Sequence[CheckRow], paired: Sequence[Paired]) -> int:
    """2 on any error, else 1 on any FAIL or significant regression, else 0."""
    if any(r.status == "ERROR" for r in rows):
        return 2
    failed = any(r.status == "FAIL" for r in rows) or any(p.status == "REGRESSION"
                                                          for p in paired)
    return 1 if failed else 0


def verdict(rows: Sequence[CheckRow], paired: Sequence[Paired]) -> str:
    return {0: "PASS", 1: "FAIL", 2: "ERROR"}[exit_code(rows, paired)]


def _f(value: float | None, pattern: str = "{:.5f}") -> str:
    return "–" if value is None else pattern.format(value)


def _p(value: float | None) -> str:
    return "–" if value is None else (f"{value:.2e}" if value < 1e-3 else f"{value:.4f}")


def failure_lines(rows: Sequence[CheckRow], paired: Sequence[Paired]) -> list[str]:
    """One self-contained line per FAIL/ERROR/REGRESSION, for CI logs and grep."""
    lines = []
    for r in rows:
        x = r.row
        if r.status == "FAIL":
            lines.append(f"FAIL {x.model} {x.task} {x.metric}: expected {x.expected:.5f}, "
                         f"got {r.got:.5f} (Δ {r.delta:+.5f}), tolerance {x.tolerance:g} "
                         f"[{x.where}]")
        elif r.status == "ERROR":
            lines.append(f"ERROR {x.model} {x.task} {x.metric}: {r.reason} [{x.where}]")
    for p in paired:
        if p.status == "REGRESSION":
            lines.append(f"REGRESSION {p.model} {p.task} {p.metric}: {_f(p.baseline)} -> "
                         f"{_f(p.candidate)} (Δ {p.delta:+.5f}, p={_p(p.p_value)}, "
                         f"n={p.n}) vs baseline run {p.baseline_key}")
    return lines


def print_console(rows: Sequence[CheckRow], paired: Sequence[Paired], console: Console) -> None:
    if rows:
        table = Table(title="harness check: expected scores")
        for col in ("status", "model", "task", "metric", "expected", "got", "Δ", "tolerance",
                    "okish", "run key", "note"):
            table.add_column(col)
        for r in rows:
            x = r.row
            table.add_row(f"[{STYLE[r.status]}]{r.status}[/]", x.model, x.task, x.metric,
                          _f(x.expected), _f(r.got), _f(r.delta, "{:+.5f}"), f"{x.tolerance:g}",
                          f"{x.okish:g}", (r.run_key or "")[:12], r.reason or x.note)
        console.print(table)
    if paired:
        table = Table(title="harness check: baseline comparison (per query)")
        for col in ("status", "model", "task", "variant", "metric", "baseline", "candidate", "Δ",
                    "p-value", "paired n", "baseline run", "run", "note"):
            table.add_column(col)
        for p in paired:
            table.add_row(f"[{STYLE[p.status]}]{p.status}[/]", p.model, p.task, p.variant or "-",
                          p.metric, _f(p.baseline), _f(p.candidate), _f(p.delta, "{:+.5f}"),
                          _p(p.p_value), str(p.n), (p.baseline_key or "")[:12],
                          p.candidate_key[:12], p.reason)
        console.print(table)
    counts = Counter([r.status for r in rows] + [p.status for p in paired])
    console.print(f"{verdict(rows, paired)}: " + ", ".join(f"{n} {s}"
                                                            for s, n in sorted(counts.items())))


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(rows: Sequence[CheckRow], paired: Sequence[Paired], *, title: str,
             test: str = "ttest", margin: float = 0.0, alpha: float = 0.05,
             baseline: str = "") -> str:
    counts = Counter([r.status for r in rows] + [p.status for p in paired])
    out = [f"## harness check: {verdict(rows, paired)} — {title}", "",
           ", ".join(f"**{n}** {s}" for s, n in sorted(counts.items())), ""]
    bad = failure_lines(rows, paired)
    if bad:
        out += ["```", *bad, "```", ""]
    if rows:
        out += [LEGEND, "",
                "| status | model | task | metric | expected | got | Δ | tolerance "
                "| source / note |",
                "|---|---|---|---|---:|---:|---:|---:|---|"]
        for r in rows:
            x = r.row
            note = r.reason or x.note
            out.append("| " + " | ".join(_cell(c) for c in (
                f"**{r.status}**" if r.status in ("FAIL", "ERROR") else r.status, x.model,
                x.task, x.metric, _f(x.expected), _f(r.got), _f(r.delta, "{:+.5f}"),
                f"{x.tolerance:g}", x.source + (f" — {note}" if note else ""))) + " |")
        out.append("")
    if paired:
        name = "Wilcoxon signed-rank" if test == "wilcoxon" else "paired t-test"
        out += [f"### Baseline comparison against {_cell(baseline)}", "",
                f"Per-query {name} (one-sided, candidate < baseline); REGRESSION only when the "
                f"mean drop exceeds {margin:g} and p < {alpha:g}.", "",
                "| status | model | task | variant | metric | baseline | candidate | Δ | p-value "
                "| paired n | baseline run | run | note |",
                "|---|---|---|---|---|---:|---:|---:|---:|---:|---|---|---|"]
        for p in paired:
            out.append("| " + " | ".join(_cell(c) for c in (
                f"**{p.status}**" if p.status == "REGRESSION" else p.status, p.model, p.task,
                p.variant or "-", p.metric, _f(p.baseline), _f(p.candidate),
                _f(p.delta, "{:+.5f}"), _p(p.p_value), p.n, f"`{(p.baseline_key or '')[:12]}`",
                f"`{p.candidate_key[:12]}`", p.reason)) + " |")
        out.append("")
    return "\n".join(out) + "\n"
