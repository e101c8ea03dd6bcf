"""What a program embedding the engine meets when it gives a call the wrong thing (session 41): each refusal says, in
the caller's words and in both languages, what was given and what to call or give instead; none is a traceback from
deep inside. Every expected text is written out here by hand."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ROOT

import engine

EXAMPLE = ROOT / "examples" / "claim_enterprise_2021.json"


@pytest.fixture(scope="module")
def policy() -> engine.CompiledPolicy:
    return engine.load_policy(ROOT / "policies" / "pinggu_2020.yaml")


def example() -> dict[str, Any]:
    data: dict[str, Any] = engine.loads_json(EXAMPLE.read_text(encoding="utf-8"))
    return data


# --- 1. a claim given where a decision is expected -----------------------------------------------------------------

CLAIM_EN = (
    "explain() takes a decision, not a claim (this has no 'format' and no 'standing', which every decision has): decide "
    "the claim first, decision = engine.evaluate(policy, claim), then explain(policy, decision) (a line of a batch's "
    "decisions.jsonl, read as data, is a decision too)"
)
CLAIM_ZH = (
    "explain() 接受判定结果，而不是申请材料（这份数据没有每个判定结果都有的 'format' 和 'standing'）：请先判定该申请，"
    "decision = engine.evaluate(policy, claim)，再调用 explain(policy, decision)（批量审核写出的 decisions.jsonl 中的一行，"
    "读作数据后，也是判定结果）"
)


@pytest.mark.parametrize("fmt", ["text", "md", "html", "json"])
def test_explain_given_a_claim_says_it_is_a_claim_and_to_evaluate_it_first(policy: engine.CompiledPolicy, fmt: str) -> None:
    """Before: "this decision cannot be explained as recorded (a field the engine writes, 'standing', has been taken
    out of it)" (a RecordedDecisionError), and with format="json" the claim itself came back as if it were the
    decision."""
    with pytest.raises(engine.RenderError) as given:
        engine.explain(policy, example(), lang="zh", format=fmt)
    assert not isinstance(given.value, engine.RecordedDecisionError)  # (nothing was recorded, nor edited)
    assert given.value.said("en") == CLAIM_EN
    assert given.value.said("zh") == CLAIM_ZH


def test_a_parsed_claim_is_a_claim_too_and_the_decision_of_it_is_explained(policy: engine.CompiledPolicy) -> None:
    """Before: "'Claim' object has no attribute 'get'" (AttributeError from refuse_other_policy)."""
    claim = engine.parse_claim(policy, example())
    with pytest.raises(engine.RenderError) as given:
        engine.explain(policy, claim)
    assert given.value.said("en") == CLAIM_EN
    decision = engine.evaluate(policy, claim)  # what the message says to call: then it explains
    assert "4,200.00" in engine.explain(policy, decision, lang="en")  # p1: 50% of 8,400.00 of official fees


def test_explanation_and_a_report_given_a_claim_name_themselves(policy: engine.CompiledPolicy) -> None:
    """Before: explanation() said "this decision cannot be explained as recorded ('standing' ...)"; render_report()
    of a claim was a bare KeyError: 'standing' from engine/explaining/recorded.py."""
    with pytest.raises(engine.RenderError) as model:
        engine.explanation(policy, example(), lang="en")
    assert model.value.said("en").startswith("explanation() takes a decision, not a claim (")
    assert "then explanation(policy, decision) (" in model.value.said("en")
    with pytest.raises(engine.RenderError) as report:
        engine.render_report(policy, [example()], "zh")
    assert report.value.said("zh").startswith("render_report() 接受判定结果，而不是申请材料（")
    assert "再调用 render_report(policy, [decision])（" in report.value.said("zh")


@pytest.mark.parametrize(("given", "kind"), [(None, "NoneType"), ('{"format": "policy-engine/decision@1"}', "str"), ([], "list")])
def test_explain_given_no_decision_at_all_says_what_it_takes(policy: engine.CompiledPolicy, given: Any, kind: str) -> None:
    """Before: "'NoneType' object has no attribute 'get'" (AttributeError), likewise for a decision's JSON text."""
    with pytest.raises(TypeError) as err:
        engine.explain(policy, given)
    assert str(err.value) == (
        "explain() takes a decision (what engine.evaluate returns, or a line of a batch's decisions.jsonl read as data"
        f" with engine.loads_json), not {kind}"
    )


def test_explain_given_no_policy_says_what_it_takes(policy: engine.CompiledPolicy) -> None:
    """Before: "'str' object has no attribute 'id'" (the policy's path given for the policy)."""
    decision = engine.evaluate(policy, example())
    with pytest.raises(TypeError) as err:
        engine.explain(str(ROOT / "policies" / "pinggu_2020.yaml"), decision)
    assert str(err.value) == (
        "explain() takes a loaded policy (engine.load_policy(path), or engine.PolicySet.load(path).pick(claim)), not str"
    )


def test_a_report_given_one_decision_not_a_list_says_to_put_it_in_one(policy: engine.CompiledPolicy) -> None:
    """Before: "'Decision' object is not iterable"."""
    decision = engine.evaluate(policy, example())
    with pytest.raises(TypeError) as err:
        engine.render_report(policy, decision, "en")
    assert str(err.value) == (
        "render_report() takes the entries as a list (each a decision, a decision as data, or an engine.ReportError),"
        " not Decision: one decision is [decision]"
    )
    assert engine.render_report(policy, [decision], "en").startswith("<!DOCTYPE html>")


def test_a_decision_as_data_is_still_explained_as_recorded(policy: engine.CompiledPolicy) -> None:
    """The line of decisions.jsonl (its `format` and `standing` there) is no claim: explained as before."""
    recorded = engine.loads_json(engine.evaluate(policy, example()).to_json())
    assert "4,200.00" in engine.explain(policy, recorded, lang="en")
    edited = {k: v for k, v in recorded.items() if k != "standing"}  # (an edit past its form: said as before)
    with pytest.raises(engine.RecordedDecisionError, match="'standing', has been taken out of it"):
        engine.explain(policy, edited, lang="en")
