"""The layers of engine/ are real: imports only go downward, and no module uses another's private names.

An AST scan of every import statement (inside functions and under TYPE_CHECKING too), so a lazy
import cannot hide a dependency that points the wrong way.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "engine"

#: Lowest first. A module of a layer may import modules of its own layer and of the layers before it.
LAYERS = ("core", "language", "deciding", "explaining", "records", "officer", "service", "cli")
#: Layers beside another (same rank): each may import what its peer may, and the two never import each other.
SIBLINGS = {"matching": "officer"}
TOP = len(LAYERS)  # engine/__init__.py (the facade) and engine/__main__.py stand above every layer


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ENGINE.rglob("*.py")):
        parts = path.relative_to(ENGINE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _rank(module: str) -> int:
    """The layer of an engine module; TOP for the facade itself."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__main__":
        return TOP
    layer = SIBLINGS.get(parts[1], parts[1])
    assert layer in LAYERS, f"{module}: not in a layer; add it to one of {LAYERS}"
    return LAYERS.index(layer)


def _imports(module: str, tree: ast.AST) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names taken from it) for every import statement of an engine module."""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.append((node.lineno, base, [alias.name for alias in node.names]))
    return [(line, name, names) for line, name, names in found if name.split(".")[0] == "engine"]


def _beside(module: str, target: str) -> bool:
    """`module` and `target` are in two different layers of the same rank (siblings)."""
    a, b = module.split("."), target.split(".")
    if len(a) < 2 or len(b) < 2 or a[1] == b[1]:
        return False
    return SIBLINGS.get(a[1]) == b[1] or SIBLINGS.get(b[1]) == a[1]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _violations(module: str, tree: ast.AST) -> list[str]:
    where, rank, out = f"{MODULES[module].relative_to(ENGINE.parent)}", _rank(module), []
    aliases: dict[str, str] = {}  # local name -> the engine module it is bound to
    for line, target, names in _imports(module, tree):
        if rank < TOP and target == "engine":
            out.append(f"{where}:{line}: imports the facade `engine` from inside a layer")
        elif _rank(target) > rank:
            out.append(f"{where}:{line}: {LAYERS[rank]} imports {target} (a layer above it)")
        elif _beside(module, target):
            out.append(f"{where}:{line}: imports {target} (a layer beside it)")
        for name in names:
            if _private(name) and target != module:
                out.append(f"{where}:{line}: imports the private name {name} of {target}")
            if f"{target}.{name}" in MODULES:
                aliases[name] = f"{target}.{name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("engine"):
                    aliases[alias.asname or "engine"] = alias.name if alias.asname else "engine"
    for node in ast.walk(tree):  # module._name on another engine module
        if isinstance(node, ast.Attribute) and _private(node.attr):
            chain, inner = [], node.value
            while isinstance(inner, ast.Attribute):
                chain.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id in aliases:
                owner = ".".join([aliases[inner.id], *reversed(chain)])
                if owner in MODULES and owner != module:
                    out.append(f"{where}:{node.lineno}: reads the private {owner}.{node.attr}")
    return out


def test_imports_go_downward_and_privates_stay_home() -> None:
    problems = [
        problem
        for module, path in MODULES.items()
        for problem in _violations(module, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    ]
    assert not problems, "\n".join(problems)


def test_the_scan_sees_what_it_must() -> None:
    """The checker itself: lazy upward imports, the facade, a private name imported and read."""
    source = (
        "import engine.deciding.claims as c\nfrom engine.deciding import evaluator\n"
        "def f():\n    from engine.records.batch import _error_record\n    import engine\n"
        "    return c._Converter, evaluator._SLOT, evaluator.prepare, engine.language.model._key\n"
    )
    MODULES["engine.language.probe"] = ENGINE / "language" / "probe.py"
    try:
        found = _violations("engine.language.probe", ast.parse(source))
    finally:
        del MODULES["engine.language.probe"]
    # 2 upward at the top, 1 lazy upward, the facade, 1 private import, 3 private reads
    assert len(found) == 8, "\n".join(found)


def test_every_layer_says_its_job_and_what_it_may_import() -> None:
    for layer, rank in [*((layer, rank) for rank, layer in enumerate(LAYERS)), *((s, LAYERS.index(p)) for s, p in SIBLINGS.items())]:
        doc = ast.get_docstring(ast.parse((ENGINE / layer / "__init__.py").read_text(encoding="utf-8"))) or ""
        assert re.search(r"^Job: \S", doc, re.M), f"engine/{layer}/__init__.py: no 'Job:' sentence"
        said = re.search(r"^May import:(.*(?:\n(?!\n).+)*)", doc, re.M)
        assert said, f"engine/{layer}/__init__.py: no 'May import:' line"
        named = re.findall(r"\bengine\.(\w+)", said[1])
        assert named == list(LAYERS[:rank]), f"engine/{layer}/__init__.py says it may import {named}"


def test_a_sibling_layer_may_not_import_its_peer() -> None:
    """matching stands beside officer: an import either way between them is refused."""
    MODULES["engine.matching.probe"] = ENGINE / "matching" / "probe.py"
    try:
        found = _violations(
            "engine.matching.probe", ast.parse("from engine.officer.lint import lint_file\nfrom engine.records.batch import run_batch\n")
        )
    finally:
        del MODULES["engine.matching.probe"]
    assert found == ["engine/matching/probe.py:1: imports engine.officer.lint (a layer beside it)"]
