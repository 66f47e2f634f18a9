"""Code shape: no module over 400 lines, no function over 60 lines in harness/, adapters/ and
leaderboard/. ruff has no rule for either (its PLR0915 counts statements, not lines, and there is
no module-length rule), hence this test; it lists every offender, not just the first."""

from __future__ import annotations

import ast
from pathlib import Path

from harness.data_root import REPO_ROOT

PACKAGES = ("harness", "adapters", "leaderboard")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (REPO_ROOT / package).rglob("*.py")
                  if "__pycache__" not in p.parts)


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = (node.end_lineno or node.lineno) - first + 1
            if length > MAX_FUNCTION_LINES:
                out.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.name}() "
                           f"{length} lines")
    return out


def test_modules_and_functions_stay_small() -> None:
    modules = _modules()
    assert len(modules) > 20  # the walk found the packages
    too_long = [f"{p.relative_to(REPO_ROOT)} {n} lines" for p in modules
                if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES]
    functions = [f for p in modules for f in _long_functions(p)]
    assert not too_long and not functions, "\n".join(
        [f"modules over {MAX_MODULE_LINES} lines:", *too_long,
         f"functions over {MAX_FUNCTION_LINES} lines:", *functions])
