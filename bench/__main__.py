"""`make bench`: run every benchmark module in ``bench`` and write one report.

Writes ``results/bench/report.json`` and ``results/bench/report.md``. Speed and memory goals live
here as measured figures with their goal, never as timed assertions in tests.
Run one section with ``python -m bench spine`` (module names under bench/).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time

from harness.data_root import results_root
from harness.environment import environment


def _sections(only: list[str]) -> list[str]:
    import bench as pkg

    # a module named _x is a part of another section (e.g. board's decision pages), not its own
    names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__)
                   if not m.name.startswith("_"))
    return [n for n in names if not only or n in only]


def _markdown(report: dict) -> str:
    lines = ["# embedding-harness benchmark report", "",
             f"CPU: {report['environment']['cpu']} ({report['environment']['cores']} cores)", ""]
    for name, section in report["sections"].items():
        lines += [f"## {name}", ""]
        for row in section.get("figures", []):
            goal = row.get("goal", "")
            ok = row.get("meets_goal")
            mark = "" if ok is None else (" ✅" if ok else " ❌")
            lines.append(f"- **{row['name']}**: {row['value']:.4g} {row.get('unit', '')}"
                         f"{f' (goal {goal})' if goal else ''}{mark}")
        for note in section.get("notes", []):
            lines.append(f"- {note}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    only = list(sys.argv[1:] if argv is None else argv)
    out_dir = results_root() / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    report: dict = {"environment": environment(), "sections": {}}
    for name in _sections(only):
        began = time.perf_counter()
        print(f"bench: {name} …", flush=True)
        section = importlib.import_module(f"bench.{name}").run(out_dir)
        section["seconds"] = time.perf_counter() - began
        report["sections"][name] = section
        (out_dir / "report.json").write_text(json.dumps(report, indent=1, default=str))
        (out_dir / "report.md").write_text(_markdown(report))
    print((out_dir / "report.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
