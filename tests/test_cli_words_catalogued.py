"""Every word the command line and the officer's tools say goes through the message catalogue (issue 15 point 1):
an AST scan of engine/cli/*.py and engine/officer/{casefile,coverage,diff}.py finds no English text written straight
into what a person reads -- printed or written, a help/description/epilog, a problem's message, a line of a
report, a mismatch of a test case -- other than through `msg(...)` / `lookup(...)`."""

from __future__ import annotations

import ast
import re

from conftest import ROOT

FILES = [*sorted((ROOT / "engine" / "cli").glob("*.py"))] + [
    ROOT / "engine" / "officer" / name for name in ("casefile.py", "coverage.py", "diff.py")
]
ENGLISH = re.compile(r"[A-Za-z]{2,}")

#: Calls whose arguments a person reads.
SAYING = {"print", "say", "say_error", "write", "append", "extend", "insert", "problem", "Problem", "ArgumentTypeError"}
SAYING |= {"InputError", "OutputError", "CaseFileError", "ReportError", "LedgerError", "RenderError"}
#: Keyword arguments a person reads.
SAID_KEYWORDS = {"help", "description", "epilog", "expected", "summary", "title", "message", "text"}
#: Functions whose returned text a person reads (the officer's reports and the words inside them).
SAYING_FUNCTIONS = {
    "format_result",
    "format_changes",
    "format_impact",
    "error_lines",
    "where_text",
    "where_they_part",
    "_describe_step",
    "_coded",
    "describe_amount",
    "_subject_words",
    "_applies",
    "_selection_words",
    "_scope",
    "_of",
    "_set",
    "summary",
    "missing",
    "to_text",
    "to_html",
    "text",
    "exit_epilog",
    "_compile_header",
    "describe",
}

#: Text that is not words for a person, with why.
ALLOWED = {
    "%(prog)s {__version__}",  # --version: the program's name and version number
    "round: {claims, budget}",  # the YAML shape a round case takes
    "items: {l1: {status: granted}}",  # the YAML shape a case's item expectations take
    "claims, budget",  # the keys a round takes, as written in YAML
    "items, total, error",  # the keys a claim case's expect takes, as written in YAML
    "claims, total",  # the keys a round case's expect takes
    "EARLIER-",  # an identifier made for an earlier claim
}
#: Markup of the coverage page: tags, style rules and class names are not words.
MARKUP = re.compile(r"<style>.*?</style>|<!?[\w/][^>]*>?|\b(ok|miss|ref)\b|'", re.DOTALL)


def _texts(node: ast.AST) -> list[str]:
    """The literal text parts of an expression that would be shown as they are (not inside msg/lookup/tr calls)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)] + [
            t for v in node.values if isinstance(v, ast.FormattedValue) for t in _texts(v.value)
        ]
    if isinstance(node, ast.BinOp):
        return _texts(node.left) + _texts(node.right)
    if isinstance(node, ast.IfExp):
        return _texts(node.body) + _texts(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [t for v in node.values for t in _texts(v)]
    if isinstance(node, ast.List | ast.Tuple):
        return [t for e in node.elts for t in _texts(e)]
    if isinstance(node, ast.ListComp | ast.GeneratorExp):
        return _texts(node.elt)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join":
        return _texts(node.func.value) + [t for a in node.args for t in _texts(a)]
    return []  # a name, a call (msg, lookup, tr, format_money ...), a subscript: not literal words


def _english(texts: list[str]) -> list[str]:
    return [t for t in texts if ENGLISH.search(MARKUP.sub(" ", t)) and t not in ALLOWED]


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def english_said(source: str) -> list[tuple[int, str]]:
    """(line, text) of every English literal that would reach a person without the catalogue."""
    found: list[tuple[int, str]] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if _name(node.func) in SAYING:
                if _name(node.func) == "append" and isinstance(node.func, ast.Attribute) and _name(node.func.value) == "unique":
                    continue
                for arg in node.args[:1] if _name(node.func) in ("problem",) else node.args:
                    if _name(node.func) == "problem":
                        continue  # source.problem(path, message, ...): the message is the second argument
                    found += [(node.lineno, t) for t in _english(_texts(arg))]
                if _name(node.func) == "problem" and len(node.args) > 1:
                    found += [(node.lineno, t) for t in _english(_texts(node.args[1]))]
            if _name(node.func) == "add" and len(node.args) == 6:  # the diff's self.add(clause, kind, subject, old, new, text)
                found += [(node.lineno, t) for t in _english(_texts(node.args[5]))]
            for kw in node.keywords:
                if kw.arg in SAID_KEYWORDS:
                    found += [(node.lineno, t) for t in _english(_texts(kw.value))]
        if isinstance(node, ast.FunctionDef) and node.name in SAYING_FUNCTIONS:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None:
                    found += [(inner.lineno, t) for t in _english(_texts(inner.value))]
                if isinstance(inner, ast.AugAssign | ast.Assign) and isinstance(inner.value, ast.List | ast.JoinedStr | ast.Constant):
                    targets = [inner.target] if isinstance(inner, ast.AugAssign) else inner.targets
                    if any(isinstance(t, ast.Name) and t.id in ("lines", "out", "what") for t in targets):
                        found += [(inner.lineno, t) for t in _english(_texts(inner.value))]
    return sorted(set(found))


def test_the_scan_finds_english_said_straight() -> None:
    code = """
def f(p, n):
    print(f"{n} case(s) passed")
    p.add_argument("--x", help="a help text")
    problems.append(source.problem(path, "a claim must be a mapping"))
    say(msg("cli.ok"))
    print(json.dumps(x))
"""
    assert [t for _, t in english_said(code)] == [" case(s) passed", "a help text", "a claim must be a mapping"]


def test_no_english_is_said_without_the_catalogue() -> None:
    found = {str(path.relative_to(ROOT)): english_said(path.read_text(encoding="utf-8")) for path in FILES}
    found = {k: v for k, v in found.items() if v}
    assert found == {}, found
