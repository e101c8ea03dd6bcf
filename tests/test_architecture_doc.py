"""docs/architecture.md stays honest: every module, file and function it names in backticks exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
CODE = re.findall(r"`([^`\n]+)`", DOC)


def _resolve(dotted: str) -> object:
    """`engine.a.b.Name.attr` -> the object: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ModuleNotFoundError(dotted)


def test_dotted_names_resolve() -> None:
    names = sorted({c for c in CODE if re.fullmatch(r"engine(\.\w+)+", c)})
    assert len(names) > 20  # the walk names the function at each step
    missing = []
    for name in names:
        try:
            _resolve(name)
        except (ImportError, AttributeError):
            missing.append(name)
    assert not missing, f"named in docs/architecture.md but not in engine/: {missing}"


def test_paths_exist() -> None:
    paths = sorted({c for c in CODE if re.fullmatch(r"(engine|tests|policies|examples)/[\w/.]*", c)})
    assert paths
    missing = [p for p in paths if not (ROOT / p.rstrip("/")).exists()]
    assert not missing, f"named in docs/architecture.md but not in the tree: {missing}"


def test_layers_match_the_layer_test() -> None:
    from tests.test_layers import LAYERS

    for layer in LAYERS:
        assert f"engine/{layer}/" in DOC, f"layer {layer} is not drawn in docs/architecture.md"
