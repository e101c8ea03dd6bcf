"""Issue 15, point 1: every message loading or linting a policy says is made with `msg(...)` from the catalogue,
so that it is said in zh or en (engine/core/messages/<lang>/{policy,lint,schema}.yaml).

An AST scan of engine/language/*.py and engine/officer/lint.py: a problem, an error raised, a warning or a lint
finding built from a plain string literal or an f-string fails, naming the file and line. `ALLOWED` lists the few
raised with plain words on purpose: each is an internal fault a person using the engine never sees (or an
identifier, not words), with the reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import test_cli_words_catalogued
import test_messages_claims_records

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "engine" / "language").glob("*.py")) + [ROOT / "engine" / "officer" / "lint.py"]
#: The modules the other two scans do not read (tests/test_messages_claims_records.py: claims, ledger, batch;
#: tests/test_cli_words_catalogued.py: the command line and the officer's tools) are read here too, so that the three
#: together read every module of engine/ (test_the_scans_together_read_every_module).
OTHERS = sorted(
    p
    for p in (ROOT / "engine").rglob("*.py")
    if p not in FILES and str(p.relative_to(ROOT)) not in test_messages_claims_records.FILES and p not in test_cli_words_catalogued.FILES
)

#: (file, the start of the line's code) of the raises allowed plain words, and why.
ALLOWED = {
    # a decision JSON writer asked of a check step whose writer was never made: a bug in jsontext, caught by its tests
    ("engine/deciding/jsontext.py", 'raise AssertionError("a check\'s fragments have a writer")'),
    # an installation without the schema files: the engine is broken, not the policy (a packaging test covers it)
    ("engine/language/validate.py", 'raise FileNotFoundError(f"schema {name} not found'),
    # MissingFact carries the missing fact's name (`item.fee`, `param.lpr@2022-01-01`), read back by the evaluator
    ("engine/language/expressions.py", 'raise MissingFact(f"{self.namespace}.{key}")'),
    ("engine/language/expressions.py", 'raise MissingFact(f"param.{parameter.name}@{day.isoformat()}")'),
    # PyYAML's own error type, re-raised for the caller that reports it (source._syntax_problem words it)
    ("engine/language/source.py", "raise yaml.composer.ComposerError("),
    # `engine.x` for a name the package does not have: Python's own AttributeError, for a programmer
    ("engine/__init__.py", "raise AttributeError(f\"module 'engine' has no attribute {name!r}\")"),
    # the engine's own message catalogue broken (a key missing, a file not a mapping): a bug tests/test_i18n.py catches
    ("engine/core/i18n.py", "raise CatalogueError("),
    # the code generator asked for a tuple with the wrong fields: a bug in the generator, never a policy's or a claim's
    ("engine/deciding/codegen.py", 'raise TypeError(f"{cls.__name__}: unknown fields'),
    # a step kind the engine does not write, met while reading a recorded decision: caught, said as render.not_recorded
    ("engine/explaining/recorded.py", 'raise ValueError(f"unknown step {kind!r}")'),
    # a bad row's spool key (`_BAD_ROW` + row number), not words
    ("engine/records/tabular.py", 'self.spool.add("row", f"{_BAD_ROW}{rowno}"'),
    # a value the workbook writer is never given (the summary's cells are text, numbers and dates): a bug
    ("engine/records/tabular.py", 'raise TypeError(f"a workbook cell cannot hold a'),
    # `engine.explain` given its format twice (format= and its older name fmt=) or a renderer given none: a
    # programmer's slip, said as Python's own TypeError for an argument given twice or missing is (in English)
    ("engine/explaining/render.py", 'raise TypeError(f"explain() takes the format as format= or as fmt='),
    ("engine/explaining/render.py", 'raise TypeError("explain() missing its format'),
    # the YAML shape a token file takes, shown as it is written (code, not words)
    ("engine/service/config.py", 'Problem(msg("service.tokens.no_mapping"), file=path, expected="tokens: {TOKEN:'),
}

#: Calls whose message (and hint) arguments are words for a person: name -> (positions, keywords).
MESSAGE_ARGS: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    "Problem": ((0, 5), ("message", "expected")),
    "problem": ((1, 4), ("message", "expected")),  # Source.problem(path, message), _Linter.problem(path, message, code, severity, expected)
    "error": ((1, 2), ("message", "expected")),  # _Compiler.error(path, message, expected)
    "add": ((1, 4), ("message", "expected")),  # a lint pass's finding
    "fail": ((1, 2), ("message", "hint")),  # the expression checker's refusal
    "_problem": ((2, 4), ("message", "expected")),
    "_at": ((2, 4), ("message", "expected")),
    "warn": ((0,), ("message",)),
    "PolicyError": ((1,), ("summary",)),
    "ClaimError": ((1,), ("summary",)),
    "InputLimitError": ((1,), ("summary",)),
    "EngineError": ((1,), ("summary",)),
    "ExpressionError": ((0, 1), ("message", "hint")),
    "FileRefused": ((0,), ("message",)),
    "threshold": ((1, 3), ()),
    # the service's refusals (code, detail), the renderers' and the readers' errors, the command line's words
    "Refusal": ((1,), ("detail",)),
    "refusal": ((1,), ("detail",)),
    "RenderError": ((0,), ()),
    "RecordedDecisionError": ((0,), ()),
    "InputError": ((0,), ()),
    "OutputError": ((0,), ()),
    "ReportError": ((1,), ()),
    "say": ((0,), ()),
    "say_error": ((0,), ()),
}


def _plain(node: ast.AST | None) -> bool:
    """Words written in the code: a non-empty string literal, an f-string, or text joined or formatted from them."""
    if node is None:
        return False
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(node.value.strip())
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _plain(node.left) or _plain(node.right)
    if isinstance(node, ast.IfExp):
        return _plain(node.body) or _plain(node.orelse)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
        return isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str) and node.func.attr == "format"
    return False


def _name(func: ast.AST) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _offenders(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    rel = str(path.relative_to(ROOT))
    out = []

    def report(node: ast.AST) -> None:
        code = lines[node.lineno - 1].strip()
        if not any(rel == f and code.startswith(start) for f, start in ALLOWED):
            out.append(f"{rel}:{node.lineno}: {code}")

    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and _name(node.exc.func) not in MESSAGE_ARGS:
            if node.exc.args and _plain(node.exc.args[0]):  # an exception's message (a known class: below)
                report(node)
        elif isinstance(node, ast.Call) and _name(node.func) in MESSAGE_ARGS:
            positions, keywords = MESSAGE_ARGS[_name(node.func) or ""]
            args = [node.args[i] for i in positions if i < len(node.args)] + [k.value for k in node.keywords if k.arg in keywords]
            if any(_plain(a) for a in args):
                report(node)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append"
            and _name(node.func.value) == "problems"
            and node.args
            and isinstance(node.args[0], ast.Tuple)
        ):
            first = node.args[0].elts[0] if node.args[0].elts else None  # a template check's (problem, line)
            if _plain(first):
                report(node)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append"
            and _name(node.func.value) == "problems"
            and node.args
            and _plain(node.args[0])
        ):
            report(node)  # a problem written straight into a list of problems
    return sorted(out, key=lambda f: int(f.split(":")[1]))


@pytest.mark.parametrize("path", FILES + OTHERS, ids=[str(p.relative_to(ROOT)) for p in FILES + OTHERS])
def test_every_message_is_made_from_the_catalogue(path: Path) -> None:
    offenders = _offenders(path)
    assert not offenders, "messages written as plain text instead of msg(...):\n" + "\n".join(offenders)


def test_the_scan_finds_a_plain_message(tmp_path: Path) -> None:
    """The scan itself: an f-string problem, a literal raise and a literal lint finding are each found."""
    bad = ROOT / "engine" / "language" / "_scan_probe.py"
    bad.write_text(
        "def f(self, p):\n"
        "    self.error(p, f'bad {p}')\n"
        "    raise ValueError('plain words')\n"
        "    self.add(p, msg('ok'), 'code', 'error', 'a plain hint')\n"
        "    self.error(p, msg('fine'), msg('also.fine'))\n",
        encoding="utf-8",
    )
    try:
        found = _offenders(bad)
    finally:
        bad.unlink()
    assert [f.split(":")[1] for f in found] == ["2", "3", "4"]


def test_each_allowed_plain_raise_is_still_there() -> None:
    """An entry of `ALLOWED` whose line is gone is removed from the list, not left to excuse another."""
    for file, start in ALLOWED:
        lines = (ROOT / file).read_text(encoding="utf-8").splitlines()
        assert any(line.strip().startswith(start) for line in lines), (file, start)


def test_the_scans_together_read_every_module() -> None:
    """Every module of engine/ is read by one of the three scans (a new module is read here unless another reads it)."""
    read = {str(p.relative_to(ROOT)) for p in FILES + OTHERS + test_cli_words_catalogued.FILES}
    read |= set(test_messages_claims_records.FILES)
    every = {str(p.relative_to(ROOT)) for p in (ROOT / "engine").rglob("*.py")}
    assert every - read == set()
    for name in ("engine/explaining/render.py", "engine/records/template.py", "engine/records/tabular.py", "engine/service/app.py"):
        assert name in {str(p.relative_to(ROOT)) for p in OTHERS}, name
