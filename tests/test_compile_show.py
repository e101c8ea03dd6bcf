"""`python -m engine compile --show POLICY`: the generated source each rule is decided by, for a reader --
each rule headed by its id and clause, and each function as printed compiles (it is the text that runs)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pytest
from conftest import POLICY_PATH

import engine
from engine.cli import EXIT_INVALID, EXIT_OK, main
from engine.deciding.codegen import CodeWriter
from engine.deciding.decision import ItemDecision

FICTIONAL = Path(__file__).resolve().parent / "fixtures" / "fictional_district.yaml"
HEAD = re.compile(
    r"^# (?:(?P<standing>applicant standing): checks and documents of the applicant"
    r"|rule (?P<rule>\S+) \((?P<cites>.*?)\)"
    r"|probe of rule (?P<probe>\S+) \((?P<pcites>.*?)\): its amount for the look across the claim \(only the highest award is paid\))"
    r"(?P<called>, called variant \(expression functions called; it runs instead of the inlined one after a runtime error\))?"
    r" — (?P<variant>traced|lean \(no trace\))$",
    re.M,
)


class Chunk(NamedTuple):
    function: str  # standing, decide or probe
    rule: str | None
    cites: str
    called: bool
    traced: bool
    text: str


def _chunks(out: str) -> list[Chunk]:
    """Each printed function: what its header says, and the text under the header."""
    heads = list(HEAD.finditer(out))
    assert heads and heads[0].start() == 0
    assert len(heads) == out.count("\n# ") + 1  # every header line is one of the three forms
    ends = [h.start() for h in heads[1:]] + [len(out)]
    chunks = []
    for h, end in zip(heads, ends, strict=True):
        function = "standing" if h["standing"] else "decide" if h["rule"] else "probe"
        chunks.append(
            Chunk(
                function,
                h["rule"] or h["probe"],
                h["cites"] or h["pcites"] or "",
                bool(h["called"]),
                h["variant"] == "traced",
                out[h.end() + 1 : end],
            )
        )
    return chunks


def _highest_only(policy: engine.CompiledPolicy) -> list[str]:
    return [r.id for r in policy.rules if r.subject is not None and r.subject.pays == "highest"]


@pytest.mark.parametrize("path", [POLICY_PATH, FICTIONAL], ids=["pinggu", "fictional"])
@pytest.mark.parametrize("lean", [False, True], ids=["traced", "lean"])
def test_show_prints_each_rule_with_its_clause_and_source_that_compiles(path: Path, lean: bool, capsys: pytest.CaptureFixture[str]) -> None:
    """The standing function, then per rule its decide function and, for a "highest only" rule, its probe; each
    inlined variant followed by its called variant (the one an item is handed to after a runtime error)."""
    policy = engine.load_policy(path)
    assert main(["compile", "--show", str(path), *(["--lean"] if lean else [])]) == EXIT_OK
    out = capsys.readouterr().out
    chunks = _chunks(out)
    expected = [("standing", None, "", False), ("standing", None, "", True)]
    for r in policy.rules:
        expected += [("decide", r.id, r.cites, False), ("decide", r.id, r.cites, True)]
        if r.id in _highest_only(policy):
            expected += [("probe", r.id, r.cites, False), ("probe", r.id, r.cites, True)]
    assert [c[:4] for c in chunks] == expected
    for c in chunks:
        compile(c.text, f"<{c.rule or 'standing'}>", "exec")
        assert c.text.startswith({"standing": "def standing(", "decide": "def decide(", "probe": "def probe("}[c.function])
        assert c.traced == (not lean and c.function != "probe")  # the variant asked for; a probe records no trace
        assert ("steps.append(" in c.text) == c.traced
        assert ("except RUNTIME_ERRORS:" in c.text) == (not c.called)  # only the inlined variant hands over on an error
    if path == FICTIONAL:
        assert "usage.subjects[skey] = usage.subjects.get(skey, ZERO) + granted" in out
        assert _highest_only(policy) == ["science-award", "competition-award"]


def test_show_prints_the_probe_of_a_highest_only_rule(capsys: pytest.CaptureFixture[str]) -> None:
    """science-award pays only the highest award per project (第九条第二款): its probe computes the table amount by
    item.level and returns it with the subject key, and its called variant calls the expression functions."""
    assert main(["compile", "--show", str(FICTIONAL), "--rule", "science-award"]) == EXIT_OK
    chunks = _chunks(capsys.readouterr().out)
    assert [(c.function, c.called) for c in chunks] == [("decide", False), ("decide", True), ("probe", False), ("probe", True)]
    probe, called = chunks[2].text, chunks[3].text
    assert probe.startswith("def probe(I, A, C, kind, roles):")
    assert "I['level']" in probe and "return (SGROUP, sscope), asked" in probe
    assert "I['level']" not in called and "(I, A, C)" in called and "return (SGROUP, sscope), asked" in called


def test_show_one_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "--show", str(POLICY_PATH), "--rule", "invention-patent-fees"]) == EXIT_OK
    out = capsys.readouterr().out
    inlined, called = _chunks(out)
    assert (inlined.function, inlined.rule, inlined.cites, inlined.called) == ("decide", "invention-patent-fees", "第五条第（一）项", False)
    assert "I['date'].year == C['funding_year']" in inlined.text  # the checked expression body, inlined
    assert (called.rule, called.called) == ("invention-patent-fees", True)
    assert "I['date'].year == C['funding_year']" not in called.text  # the called variant calls the expression functions
    for c in (inlined, called):
        compile(c.text, "<rule>", "exec")


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
