"""The decide's fast path (issue 14, session 6): what the generated rule code now does more cheaply, and that every
decision stays what it was.

The exactness reference is `tests/golden/decisions-seeds.txt`: per claim of the generated Pinggu rounds of two more
seeds, the digest of its traced JSON and its lean results, recorded with the code before these changes (main at
f185f99, `git archive`; the recording script is in the session's notes). `decisions-reference.txt` (test_core_api)
holds the same for seed 66 and the fictional district.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, claim, item
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.deciding import evaluator
from engine.deciding.history import Consumption, Grant, Usage

SEEDS = ROOT / "tests" / "golden" / "decisions-seeds.txt"
RT5 = ROOT / "tests" / "fixtures" / "localities" / "RT5.yaml"


def _lean(decision: engine.Decision) -> list[str]:
    return [
        repr((d.status, d.amount, d.asked, d.provisional, d.reasons, d.missing_facts, d.missing_documents, d.grant)) for d in decision.items
    ]


@pytest.mark.parametrize("seed", [7, 20211231])
def test_generated_rounds_of_more_seeds_decide_as_before(policy: engine.CompiledPolicy, seed: int) -> None:
    """Every claim of a 1,000-item generated round (JSON text -> parse_claim_json -> evaluate_claim, traced and not)
    gives the decision recorded before the fast path: the same JSON trace byte for byte, and with tracing off the
    same statuses, amounts (down to each Decimal's exponent), reasons, missing facts and documents and grants."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import claims

    expected = [line for line in SEEDS.read_text(encoding="utf-8").splitlines() if line.split()[0] == f"pinggu-{seed}"]
    got = []
    for raw in claims(1000, seed=seed):
        c = engine.parse_claim_json(policy, json.dumps(raw, ensure_ascii=False))
        text = engine.evaluate(policy, c).to_json() + "\n" + "\n".join(_lean(engine.evaluate(policy, c, trace=False)))
        got.append(f"pinggu-{seed} {c.claim_id} {hashlib.sha256(text.encode()).hexdigest()[:24]}")
    assert len(expected) > 50
    assert got == expected


_MONEY = st.sampled_from(["0", "0.00", "5", "1E+2", "12.5", "61685.61", "300000.00"]).map(Decimal)
_SCOPE = st.tuples(st.sampled_from(["A1", "A2"]), st.sampled_from([2020, 2021]))
_CONSUMPTION = st.one_of(
    st.builds(lambda i, s, a: Consumption("cap", i, s, a), st.sampled_from(["c1", "c2"]), _SCOPE, _MONEY),
    st.builds(lambda i, s, a: Consumption("subject", i, s, a), st.sampled_from(["s1"]), _SCOPE, _MONEY),
    st.builds(
        lambda i, s, n: Consumption("limit", i, s, counts=n),
        st.sampled_from(["l1", "l2"]),
        _SCOPE,
        st.one_of(st.none(), st.tuples(st.sampled_from(["x", "y"]), st.integers(0, 2))),
    ),
)
_GRANT = st.builds(lambda cs: Grant("C", "i", "r", "A1", 2020, Decimal("1.00"), tuple(cs)), st.lists(_CONSUMPTION, max_size=4))


@settings(max_examples=200, deadline=None)
@given(st.lists(_GRANT, max_size=8))
def test_history_folded_at_once_gives_the_totals_of_grant_by_grant(grants: list[Grant]) -> None:
    """`Usage.add_all` (the claim's history folded before deciding) holds exactly what `add` per grant holds: the
    same keys, the same count sets, and sums with the same Decimal exponents (0 + 1E+2 is 100, not 1E+2)."""
    one = Usage()
    for g in grants:
        one.add(g)
    folded = Usage()
    folded.add_all(grants)
    assert folded.limits == one.limits
    assert {k: repr(v) for k, v in folded.caps.items()} == {k: repr(v) for k, v in one.caps.items()}
    assert {k: repr(v) for k, v in folded.subjects.items()} == {k: repr(v) for k, v in one.subjects.items()}


def test_check_and_who_steps_are_constants_of_the_rule(policy: engine.CompiledPolicy) -> None:
    """A traced check that holds (or fails) records the same step tuple for every item, ('check', test, True, None)
    -- a constant bound into the rule's code, not a tuple built per item -- and so does who may claim."""
    decision = engine.evaluate(
        policy,
        claim(
            item("invention_patent_grant", "p1"),
            item("invention_patent_grant", "p2", patent_id="ZL202010000002.6"),
        ),
    )
    one, two = decision.items
    assert (one.status, two.status) == ("granted", "granted")
    assert one.steps[0] == ("who", one.rule, True) and one.steps[0] is two.steps[0]
    checks = [(s, t) for s, t in zip(one.steps, two.steps, strict=True) if s[0] == "check"]
    assert len(checks) == 5  # in the funding year, first right holder, no double benefit, an invention patent, its number says so
    for s, t in checks:
        assert s == ("check", s[1], True, None) and type(s[2]) is bool
        assert s is t
    source = evaluator._context(policy).plans["invention-patent-fees"].fast[1].source
    assert "bool(ok)" not in source and "('who', RULE" not in source


def test_amounts_are_compared_with_a_decimal_zero(policy: engine.CompiledPolicy) -> None:
    """The generated code compares amounts with the bound `ZERO` (a Decimal) instead of the int 0, which the decimal
    module would convert on every comparison."""
    ctx = evaluator._context(policy)
    sources = [f.source for p in ctx.plans.values() for f in p.fast]
    pledge = ctx.plans["pledge-loan-interest"].fast[0].source
    assert "if asked < ZERO:" in pledge and "if room < ZERO:" in pledge and "if after == ZERO:" in pledge
    for text in ("asked < 0", "asked == 0", "room < 0", "after == 0", "paid == 0", "paid > 0"):
        assert not any(text in s for s in sources), text


def _rt5_for_universities(tmp_path: Path) -> engine.CompiledPolicy:
    """RT5 with its 第四条 certification open to universities too: its limit `three-items-a-year` and its cap
    `local-tax-cap` apply to enterprises only (`who: [enterprise]`), its limit `first-certification-once` to all."""
    for f in RT5.parent.glob("RT5*"):
        shutil.copy(f, tmp_path)
    text = RT5.read_text(encoding="utf-8")
    rule = text.index("  - id: ip-certification")
    head = "    who: {kinds: [enterprise]}"
    at = text.index(head, rule)
    text = text[:at] + "    who: {kinds: [enterprise, university]}" + text[at + len(head) :]
    (tmp_path / "RT5.yaml").write_text(text, encoding="utf-8")
    return engine.load_policy(tmp_path / "RT5.yaml")


@pytest.mark.parametrize("trace", [True, False])
def test_parts_without_who_or_when_are_recorded_in_every_grant_and_the_others_when_they_apply(tmp_path: Path, trace: bool) -> None:
    """A limit or cap without `who:`/`when:` is used by every item that can be granted, so its consumption and its
    running total are written without a flag; one with `who:` only when it applied to the item.

    Hand: 120 employees -> the band from 50: 50,000. The enterprise's grant consumes, in the rule's order, the limit
    first-certification-once (scope its id), the limit three-items-a-year and the cap local-tax-cap (scope id and
    2024; 50,000 of the 2,000,000 local tax). The university's grant consumes first-certification-once only."""
    policy = _rt5_for_universities(tmp_path)
    ent = {"id": "91000000MART500001", "name": "中山湾示例电子有限公司", "kind": "enterprise", "in_district": True, "employees": 120}
    uni = {"id": "12000000MART500004", "name": "中山湾理工学院", "kind": "university", "in_district": True, "employees": 120}

    def consumed(applicant: dict[str, Any]) -> list[tuple[Any, ...]]:
        data = {
            "claim_id": "ZS-1",
            "funding_year": 2024,
            "half": 1,
            "local_tax_last_year": "2000000.00",
            "applicant": applicant,
            "items": [{"id": "c1", "type": "ip_certification", "date": "2024-03-10"}],
        }
        [d] = engine.evaluate(policy, data, trace=trace).items
        assert (d.status, str(d.amount)) == ("granted", "50000.00")
        assert d.grant is not None
        return [(c.kind, c.id, c.scope, str(c.amount), c.counts) for c in d.grant.consumes]

    assert consumed(ent) == [
        ("limit", "first-certification-once", ("91000000MART500001",), "0", ("ZS-1", "c1")),
        ("limit", "three-items-a-year", ("91000000MART500001", 2024), "0", ("ZS-1", "c1")),
        ("cap", "local-tax-cap", ("91000000MART500001", 2024), "50000.00", None),
    ]
    assert consumed(uni) == [("limit", "first-certification-once", ("12000000MART500004",), "0", ("ZS-1", "c1"))]
    source = evaluator._context(policy).plans["ip-certification"].fast[1 if trace else 0].source
    assert "has_l0" not in source and "has_l1 = True" in source and "has_p0 = True" in source
    pledge = evaluator._context(engine.load_policy(ROOT / "policies" / "pinggu_2020.yaml")).plans["pledge-loan-interest"]
    assert "has_l0" not in pledge.fast[0].source and "has_p0" not in pledge.fast[0].source


def test_a_second_grant_in_a_scope_adds_to_the_set_it_was_checked_against(policy: engine.CompiledPolicy) -> None:
    """The limit's count set read for the verdict takes the new count (no new set per item): three pledge loans of
    one applicant in a claim, the limit `pledge-three-times` allows three loans, each counted once by its loan id and
    year -- the third item sees two earlier counts, a fourth distinct loan is refused."""
    loans = [item("pledge_loan_interest", f"l{k}", loan_id=f"LN-{k}", annual_interest_paid="1000.00") for k in range(1, 5)]
    decision = engine.evaluate(policy, claim(*loans))
    statuses = [d.status for d in decision.items]
    assert statuses == ["granted", "granted", "granted", "refused"]
    used = [next(s for s in d.steps if s[0] == "limit")[3] for d in decision.items]
    assert used == [0, 1, 2, 3]  # the counts before each item: 0, 1, 2 granted; the fourth finds three
    assert decision.items[3].reasons[0].check == "pledge-three-times"
    source = evaluator._context(policy).plans["pledge-loan-interest"].fast[0].source
    assert "used0.add(pc0) if used0 else limits.setdefault(lkey0, set()).add(pc0)" in source


@pytest.mark.parametrize("trace", [True, False])
def test_a_text_table_key_finds_its_entry_without_a_call(policy: engine.CompiledPolicy, trace: bool) -> None:
    """A table `by` that yields text is its own key (`table_key` returns a str as it is), so the generated code
    looks it up without calling `table_key`; other values still go through it. Hand (第五条第（二）项): 中国专利奖
    gold 50万, silver 40万, excellence 30万, one award per patent."""
    decision = engine.evaluate(
        policy,
        claim(
            item("china_patent_award", "g", level="gold"),
            item("china_patent_award", "s", patent_id="ZL201810000903.8", level="silver"),
            item("china_patent_award", "e", patent_id="ZL201810000004.8", level="excellence"),
        ),
        trace=trace,
    )
    assert [(d.status, str(d.amount)) for d in decision.items] == [
        ("granted", "500000.00"),
        ("granted", "400000.00"),
        ("granted", "300000.00"),
    ]
    source = evaluator._context(policy).plans["china-patent-award"].fast[1 if trace else 0].source
    assert "TABLE.get(key if type(key) is str else TKEY(key), OTHER)" in source


def test_the_callers_decimal_context_is_set_back_after_a_decision_and_after_a_refused_claim(policy: engine.CompiledPolicy) -> None:
    # evaluate_claim decides in ENGINE_CONTEXT without a wrapper call: whatever context the caller set is the thread's
    # context again afterwards, also when the claim is refused for its funding year, and the arithmetic is the
    # engine's, not the caller's (2 significant digits, rounding down, would make 4,200.00 something else)
    import decimal

    from engine.deciding.decision import ENGINE_CONTEXT

    c = engine.parse_claim(policy, claim(item("invention_patent_grant", "p1", official_fees_paid="8400.00")))
    expected = evaluator.evaluate_claim(policy, c).to_json(indent=None)
    assert evaluator.evaluate_claim(policy, c).items[0].amount == Decimal("4200.00")  # half of 8,400.00: 4,200.00
    outside = engine.parse_claim(
        policy, claim(item("invention_patent_grant", "p1", date="2030-06-01"), funding_year=2030, submission_date="2031-03-01")
    )
    with decimal.localcontext(decimal.Context(prec=2, rounding=decimal.ROUND_DOWN)) as mine:
        for trace in (True, False):
            got = evaluator.evaluate_claim(policy, c, trace=trace)
            assert decimal.getcontext() is mine
            assert got.items[0].amount == Decimal("4200.00")
        assert evaluator.evaluate_claim(policy, c).to_json(indent=None) == expected
        with pytest.raises(engine.ClaimError) as refused:
            evaluator.evaluate_claim(policy, outside)
        assert [p.code for p in refused.value.problems] == ["not_in_force"]
        assert decimal.getcontext() is mine
    saved = decimal.getcontext()
    decimal.setcontext(ENGINE_CONTEXT)
    try:
        assert evaluator.evaluate_claim(policy, c).to_json(indent=None) == expected
        assert decimal.getcontext() is ENGINE_CONTEXT
    finally:
        decimal.setcontext(saved)
