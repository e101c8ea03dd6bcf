"""`python -m engine compile --show POLICY`: the generated source each rule is decided by, for a reader --
each rule headed by its id and clause, and each function as printed compiles (it is the text that runs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import POLICY_PATH

import engine
from engine.cli import EXIT_INVALID, EXIT_OK, main
from engine.deciding.codegen import CodeWriter
from engine.deciding.decision import ItemDecision

FICTIONAL = Path(__file__).resolve().parent / "fixtures" / "fictional_district.yaml"
HEAD = re.compile(r"^# (rule (\S+) \((.*)\)|applicant standing: .*) — (traced|lean \(no trace\))$", re.M)


def _chunks(out: str) -> list[tuple[str | None, str, str]]:
    """(rule id or None for the standing function, its clause, the text under the header)."""
    heads = list(HEAD.finditer(out))
    assert heads and heads[0].start() == 0
    ends = [h.start() for h in heads[1:]] + [len(out)]
    return [(h.group(2), h.group(3) or "", out[h.end() + 1 : end]) for h, end in zip(heads, ends, strict=True)]


@pytest.mark.parametrize("path", [POLICY_PATH, FICTIONAL], ids=["pinggu", "fictional"])
@pytest.mark.parametrize("lean", [False, True], ids=["traced", "lean"])
def test_show_prints_each_rule_with_its_clause_and_source_that_compiles(path: Path, lean: bool, capsys: pytest.CaptureFixture[str]) -> None:
    policy = engine.load_policy(path)
    assert main(["compile", "--show", str(path), *(["--lean"] if lean else [])]) == EXIT_OK
    out = capsys.readouterr().out
    chunks = _chunks(out)
    assert chunks[0][0] is None  # the applicant-level standing function comes first
    assert [(rid, cites) for rid, cites, _ in chunks[1:]] == [(r.id, r.cites) for r in policy.rules]
    for rid, _cites, text in chunks:
        compile(text, f"<{rid or 'standing'}>", "exec")
        assert text.startswith("def decide(" if rid else "def standing(")
        assert ("steps.append(" in text) == (not lean)  # the variant asked for
    assert out.count("\ndef decide(") + out.startswith("def decide(") == len(policy.rules)  # every rule generated, subject rules included
    if path == FICTIONAL:
        assert "usage.subjects[skey] = usage.subjects.get(skey, ZERO) + granted" in out


def test_show_one_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "--show", str(POLICY_PATH), "--rule", "invention-patent-fees"]) == EXIT_OK
    out = capsys.readouterr().out
    ((rid, cites, text),) = _chunks(out)
    assert (rid, cites) == ("invention-patent-fees", "第五条第（一）项")
    assert "I['date'].year == C['funding_year']" in text  # the checked expression body, inlined
    compile(text, "<rule>", "exec")


def test_compile_without_show_says_what_was_compiled(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(FICTIONAL)]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.endswith("ok — 11 of 11 rules compiled to Python functions\n")


def test_an_unknown_rule_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "--show", str(POLICY_PATH), "--rule", "no-such-rule"]) == EXIT_INVALID
    assert "has no rule 'no-such-rule'" in capsys.readouterr().err


def test_decisions_are_written_by_field_name_and_checked_when_written() -> None:
    """The writer orders named fields as the class declares them; a missing or unknown field fails at once."""
    w = CodeWriter({})
    fields = {f: f.upper() for f in ItemDecision._fields}
    assert w.build(ItemDecision, **fields) == f"NEW(ID, ({', '.join(f.upper() for f in ItemDecision._fields)}))"
    with pytest.raises(TypeError, match=r"missing fields \['grant'\]"):
        w.build(ItemDecision, **{k: v for k, v in fields.items() if k != "grant"})
    with pytest.raises(TypeError, match=r"unknown fields \['granted'\]"):
        w.build(ItemDecision, **fields, granted="x")
