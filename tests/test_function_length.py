"""No engine function is longer than about 80 lines without a reason written beside it (issue 12)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 80


def test_every_long_function_says_why() -> None:
    unexplained = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > LIMIT:  # type: ignore[operator]
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                said = "\n".join(lines[max(first - 4, 0) : node.end_lineno])  # the comment above it, or inside it
                if "# long because:" not in said:
                    unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert unexplained == []
