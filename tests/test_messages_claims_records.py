"""Every message a person reads from claims, the ledger and the batch comes from the catalogue (issue 15, point 1):
a raise, a Problem, a converter's complaint, a warning, a progress or step line whose words are a plain string literal
or an f-string is English only, and fails here. The allowlist below names the few internal bugs no user ever sees,
each with why."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FILES = [
    "engine/deciding/claims.py",
    "engine/deciding/versions.py",
    "engine/deciding/decision.py",
    "engine/deciding/history.py",
    "engine/deciding/selection.py",
    "engine/core/quantities.py",
    "engine/core/identifiers.py",
    "engine/core/jsonpos.py",
    "engine/records/ledger.py",
    "engine/records/batch.py",
    "engine/records/workers.py",
]

#: Calls whose text arguments a person reads: problems, errors, converters' complaints, warnings and steps.
SAID = {"Problem", "bad", "print", "start", "error_record", "ClaimError", "PolicyError", "InputLimitError"}

#: (file, exception or call, the first words of its text): internal bugs, never shown to a user.
ALLOWED = {
    # the fast schema compiler declines a keyword it does not reproduce: caught, the claim takes jsonschema's path
    ("engine/deciding/claims.py", "_Unsupported", ""),
    # a fact type the policy schema does not allow (pragma: no cover): the policy never loads
    ("engine/deciding/claims.py", "ValueError", ""),
    # an explanation step kind the engine itself does not write (pragma: no cover)
    ("engine/deciding/decision.py", "ValueError", "unknown step"),
    # the position walker meets text json.loads accepted but it cannot walk: caught, positions are then unknown
    ("engine/core/jsonpos.py", "ValueError", "expected a key"),
    ("engine/core/jsonpos.py", "ValueError", "unexpected character"),
    (
        "engine/core/jsonpos.py",
        "ValueError",
        "deeper than",
    ),  # (the walk stops there: `where_refused` places it, said by the claim catalogue)
    # scaling asked of a policy with no round budget: the callers ask only policies that have one
    ("engine/records/ledger.py", "ValueError", "policy "),
    # a check-character sum over a text of the wrong length: the callers check the length (and the pattern) first
    ("engine/core/identifiers.py", "ValueError", ""),
}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _text(node: ast.expr) -> str | None:
    """The words of a plain string literal or an f-string (None for anything else, e.g. msg(...))."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)) or "{}"
    return None


def _literals(call: ast.Call) -> list[str]:
    args = [*call.args, *(k.value for k in call.keywords if k.arg in ("message", "expected", "summary"))]
    return [t for t in map(_text, args) if t is not None]


def _allowed(file: str, name: str, text: str) -> bool:
    return any(f == file and n == name and text.startswith(words) for f, n, words in ALLOWED)


def _english_only(file: str, source: str | None = None) -> list[str]:
    tree = ast.parse((ROOT / file).read_text(encoding="utf-8") if source is None else source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            name = _name(node.exc)
            found += [f"{file}:{node.lineno}: raise {name}({t!r})" for t in _literals(node.exc) if not _allowed(file, name, t)]
        elif isinstance(node, ast.Call) and _name(node) in SAID:
            name = _name(node)
            if name == "print" and not node.args:
                continue
            found += [f"{file}:{node.lineno}: {name}({t!r})" for t in _literals(node) if not _allowed(file, name, t)]
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "report" for t in node.targets):
            text = _text(node.value)
            if text is not None and node.lineno > 0 and text != "not drawn":
                found.append(f"{file}:{node.lineno}: report = {text!r}")
    return found


def test_every_message_of_claims_the_ledger_and_the_batch_comes_from_the_catalogue() -> None:
    found = [line for file in FILES for line in _english_only(file)]
    assert not found, "English-only messages (use msg(...) and a catalogue entry in en and zh):\n" + "\n".join(found)


def test_the_scan_sees_a_plain_message() -> None:
    """The scan itself: a literal, an f-string, a Problem's expected and a print are each seen; msg(...) is not."""
    source = """
def f(x):
    raise LedgerError(f"no grant {x}")
    raise LedgerError(msg("ledger.no_grant", claim=x, item=x))
    Problem(msg("k"), expected="plain words")
    print("warning: plain")
    conv.bad(path, "has spaces", msg("k"))
"""
    found = _english_only("probe.py", source)
    assert [line.split(": ", 1)[1] for line in found] == [
        "raise LedgerError('no grant ')",
        "Problem('plain words')",
        "print('warning: plain')",
        "bad('has spaces')",
    ]
