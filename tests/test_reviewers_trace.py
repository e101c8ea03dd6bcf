"""What a reviewer tracing every yuan of a round met (session 30), worked by hand from the measures and readings: an
applicant whose standing is owed a fact or a document (its items' provisional amounts, the words of its standing), a
scaled round's unsettled figures and its report flag, and the order of a summary's lines."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import claim, item

import engine
from engine.explaining.render import explain


@pytest.fixture(scope="module")
def policy() -> engine.CompiledPolicy:
    return engine.load_policy("policies/pinggu_2020.yaml")


def test_an_item_owed_only_a_standing_fact_states_its_provisional_amount(policy: engine.CompiledPolicy) -> None:
    """第七条第（三）项: a GB/T 29490 certification, 一次性奖励 5万. Whether the enterprise actually operates in the district
    (第四条第二款) is not given: incomplete (R1/N4: unknown, not "no"), and by R23/R25 the explanation states the provisional
    amount, 50,000.00, worked out as the caps stand and consuming nothing. It said none, and the round's held-back sum
    counted 0.00 for it. Two pledge loans of 100,000 interest each: 50,000 + 50,000, each alone (R25), 100,000.00."""
    d = engine.evaluate(
        policy,
        claim(
            item("ip_management_certification", "c1"),
            item("pledge_loan_interest", "l1", annual_interest_paid="100000.00"),
            item("pledge_loan_interest", "l2", loan_id="LOAN-2", annual_interest_paid="100000.00"),
            actually_operating=...,
        ),
    )
    assert [(i.status, i.provisional, i.missing_facts) for i in d.items] == [
        ("incomplete", Decimal("50000.00"), ("applicant.actually_operating",)),
        ("incomplete", Decimal("50000.00"), ("applicant.actually_operating",)),
        ("incomplete", Decimal("50000.00"), ("applicant.actually_operating",)),
    ]
    assert d.grants == ()  # nothing is paid, nothing consumed
    assert d.totals_by_status()["incomplete"] == Decimal("150000.00")


def test_an_item_whose_amount_the_panel_has_not_given_states_none(policy: engine.CompiledPolicy) -> None:
    """第八条 (R18): an agency's amount is the review panel's. Not given yet, and standing owed a fact: incomplete, with
    no provisional amount (there is none to state), as before."""
    d = engine.evaluate(
        policy, claim(item("service_agency_performance", "s1", panel_amount=...), applicant="agency", actually_operating=...)
    )
    [i] = d.items
    assert (i.status, i.provisional, i.missing_facts) == ("incomplete", None, ("applicant.actually_operating",))


@pytest.mark.parametrize(
    ("owed", "zh", "en"),
    [
        (
            {"actually_operating": ...},
            "结论：申请人资格待补正（见上列标 ? 或 ✗ 的各项）；其他条件满足的事项暂缓核定。",
            "Result: standing is not yet established",
        ),
        ({}, "结论：申请人资格符合。", "Result: the applicant has standing."),
    ],
)
def test_standing_owed_is_not_said_to_be_established(policy: engine.CompiledPolicy, owed: dict, zh: str, en: str) -> None:
    """ "结论：申请人资格符合" was printed right under a "?" line (第四条第二款, the fact not given)."""
    d = engine.evaluate(policy, claim(item("ip_management_certification", "c1"), **owed))
    assert zh in explain(policy, d, lang="zh", fmt="text")
    assert en in explain(policy, d, lang="en", fmt="text")
    # and from its record, as a batch's report explains it
    assert zh in explain(policy, engine.loads_json(d.to_json()), lang="zh", fmt="text")


def test_standing_owed_a_document_is_not_said_to_be_established(policy: engine.CompiledPolicy) -> None:
    """第十二条: the business licence not submitted. The items wait; standing is not refused, nor established."""
    data = claim(item("ip_management_certification", "c1"))
    data["documents"] = []
    d = engine.evaluate(policy, data)
    assert (d.items[0].status, d.items[0].provisional) == ("incomplete", Decimal("50000.00"))
    assert "结论：申请人资格待补正" in explain(policy, d, lang="zh", fmt="text")


def test_a_scaled_round_says_provisional_figures_are_before_its_scaling_and_flags_only_what_it_changed(tmp_path: object) -> None:
    """The golden scaled round (tests/test_render_golden.py: budget 30万, approved 350,000.00, factor 6/7) with S-1 also
    claiming a certification whose proof is missing (provisional 5万, not scaled: the round is scaled again when it is
    decided) and S-3 claiming only a utility model (refused, 第五条第（一）项: inventions only). S-3's total is 0.00
    before and after the scaling: the report's "scaled" flag was set on it too."""
    import json
    from pathlib import Path

    from test_ledger_support import policy_with_budget

    from engine.explaining.render import _flags
    from engine.records.batch import run_batch

    tmp = Path(str(tmp_path))
    lines = (Path(__file__).parent / "golden" / "13-scaled-round.round.jsonl").read_text(encoding="utf-8").splitlines()
    s1, s2 = (json.loads(x) for x in lines)
    s1["items"].append({**item("ip_management_certification", "c1"), "documents": []})
    s3 = {**s2, "claim_id": "S-3", "items": [item("invention_patent_grant", "p1", patent_kind="utility_model")]}
    s3["applicant"] = {**s2["applicant"], "id": s1["applicant"]["id"]}
    (tmp / "round.jsonl").write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in (s1, s2, s3)) + "\n", encoding="utf-8")
    policy = policy_with_budget(tmp, "30万", "第十三条")
    run_batch(policy, tmp / "round.jsonl", tmp / "out", ledger_url=f"sqlite:///{tmp / 'ledger.sqlite'}", quiet=True)
    d1, d2, d3 = (json.loads(x) for x in (tmp / "out" / "decisions.jsonl").read_text(encoding="utf-8").splitlines())
    assert (d1["total_before_scaling"], d1["total"]) == ("300000.00", "257142.86")  # as in the golden round
    assert d1["totals_by_status"]["incomplete"] == "50000.00"
    zh = explain(policy, d1, lang="zh", fmt="text")
    assert "本申请的暂核金额与待评审上限均为按预算调减前的数额；这些事项核定后，本轮按新的核定总额重新同比例调减。" in zh
    assert "按预算调减前" not in explain(policy, d2, lang="zh", fmt="text")  # S-2 owes nothing
    assert (d3["items"][0]["status"], d3["total"], d3["total_before_scaling"]) == ("refused", "0.00", "0.00")
    assert ("scaled" in _flags(d1), "scaled" in _flags(d2), "scaled" in _flags(d3)) == (True, True, False)


def test_the_summarys_lines_by_item_are_in_the_policys_order(tmp_path: object) -> None:
    """summary.json's by_item came sorted by code point (第七条, 第五条, 第八条, 第六条: 七 < 五 < 八 < 六), where the console's
    table and the workbook list the policy's order; a reviewer reconciling them met the lines shuffled."""
    from pathlib import Path

    from engine.records.batch import run_batch

    policy = engine.load_policy("policies/pinggu_2020.yaml")
    summary = run_batch(policy, "examples/round_2021.jsonl", Path(str(tmp_path)) / "o", quiet=True, report=False, without_ledger=True)
    articles = [line["article"] for line in summary.to_dict()["by_item"]]
    assert list(dict.fromkeys(articles)) == ["第五条", "第六条", "第七条", "第八条"]
