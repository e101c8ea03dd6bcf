"""An audit of what the engine pays, worked by hand as a bureau's reviewer would (session 39).

Each test decides one or more claims kept as JSON in tests/fixtures/audit_by_hand/ (written by hand: the applicant,
its items and, where earlier years matter, the grants of its history or a ledger they are committed to in order).
The comments work out every item's status, amount and the clauses it must cite from the measures'
text (shared/measures/pinggu_ip_measures.zh.txt) and the bureau's readings R1-R30 (READINGS.md) only; the
engine's output was compared with them afterwards, never copied into them.

Only edges no other test asserts are here: the half cent (R8) at a cap shared by several items, caps reached
exactly and exceeded by 0.01, limits counted through a real ledger across funding years and across two
applications of one year, the provisional amount (R25) at a cap's edge and under a limit already used up, the
alliance cost period at the year boundary (N8), names written in other widths on the award rules (N11), and a
natural person holding organisation roles and facts (R1, R2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import by_item, decide

import engine
from engine.records.ledger import Ledger

HERE = Path(__file__).resolve().parent / "fixtures" / "audit_by_hand"

A4_2, A4_3 = "第四条第二款", "第四条第三款"
A5_1, A5_2, A5_3 = "第五条第（一）项", "第五条第（二）项", "第五条第（三）项"
A6_1, A6_2, A6_3, A6_4_1, A6_5, A6_6 = (
    "第六条第（一）项",
    "第六条第（二）项",
    "第六条第（三）项",
    "第六条第（四）项第一款",
    "第六条第（五）项",
    "第六条第（六）项",
)
A8, A11, A12 = "第八条第二款", "第十一条", "第十二条"
ALL_DOCS = ["proof_of_right", "fee_receipts", "sealed_receipt_copies"]


def fixture(name: str) -> dict[str, Any]:
    return json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))


def decided(policy: engine.CompiledPolicy, name: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    d = decide(policy, fixture(name))
    return d, by_item(d)


def outcome(it: dict[str, Any]) -> tuple[str, str, str, list[str], list[str]]:
    """status, amount, the amount asked (after the rate and its rounding, before caps), the checks refusing it, its
    clauses."""
    return it["status"], it["amount"], it["asked"], [r["check"] for r in it["reasons"]], it["cites"]


def cap_step(it: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """R22: which cap, its ceiling, what was used before, the amount before and after."""
    [step] = [s for s in it["steps"] if s["step"] == "cap"]
    return step["cap"], step["ceiling"], step["used_before"], step["asked"], step["granted"]


# --- R8: half a cent rounds up before the cap ----------------------------------------------------------------


def test_r08_half_cents_meet_the_insurance_year_cap(policy: engine.CompiledPolicy) -> None:
    """R8 with R12 and R21 (第六条（二）: 50% of premiums, at most 10万 per enterprise per year), three policies of 2021:
    i1 100,000.00 x 50% = 50,000.00, granted; i2 100,000.01 x 50% = 50,000.005 -> half-up 50,000.01 (a half-even or
    truncating engine would ask 50,000.00 and pay it in full), 50,000.00 left -> reduced by 0.01 to 50,000.00;
    i3 0.01 x 50% = 0.005 -> 0.01 (not 0.00), nothing left -> refused, cap exhausted. Total 100,000.00."""
    d, out = decided(policy, "a01_insurance_half_cent_at_the_cap")
    assert outcome(out["i1"]) == ("granted", "50000.00", "50000.00", [], [A6_2])
    assert outcome(out["i2"]) == ("reduced", "50000.00", "50000.01", [], [A6_2])
    assert cap_step(out["i2"]) == ("insurance-annual-cap", "100000.00", "50000.00", "50000.01", "50000.00")
    assert outcome(out["i3"]) == ("refused", "0.00", "0.01", ["insurance-annual-cap"], [A6_2])
    assert out["i3"]["reasons"][0]["category"] == "cap"
    assert d["total"] == "100000.00"
    assert [g["item_id"] for g in d["grants"]] == ["i1", "i2"]  # (R21: i3 counts for nothing)


def test_r08_r11_a_year_of_interest_subsidy_reached_exactly_by_rounding(policy: engine.CompiledPolicy) -> None:
    """R8 with R11 (第六条（一）: 50% of the interest, at most 30万 per enterprise per year), three loans of 2021:
    l1 400,000.01 x 50% = 200,000.005 -> 200,000.01; l2 199,999.98 x 50% = 99,999.99, and 300,000 - 200,000.01 =
    99,999.99 are left: granted in full, the year now exactly 300,000.00; l3 0.01 x 50% = 0.005 -> 0.01, nothing left
    -> refused by the cap (a third loan is only the third time: R11's 3 times are not what refuses it)."""
    d, out = decided(policy, "a15_pledge_year_reached_exactly_by_rounding")
    assert outcome(out["l1"]) == ("granted", "200000.01", "200000.01", [], [A6_1])
    assert outcome(out["l2"]) == ("granted", "99999.99", "99999.99", [], [A6_1])
    assert cap_step(out["l2"]) == ("pledge-annual-cap", "300000.00", "200000.01", "99999.99", "99999.99")
    assert outcome(out["l3"]) == ("refused", "0.00", "0.01", ["pledge-annual-cap"], [A6_1])
    assert d["total"] == "300000.00"


# --- totals across years: reached exactly, exceeded by a cent ------------------------------------------------


def test_r13_securitisation_total_reached_exactly_then_used_up(policy: engine.CompiledPolicy) -> None:
    """R13 (at most 50万 in total, across years): 300,000.00 paid for 2021 (history). 2022: s1 costs 399,999.99 x 50% =
    199,999.995 -> half-up 200,000.00, exactly the 200,000.00 left: granted, not reduced; s2 costs 0.02 -> 0.01,
    nothing left -> refused, cap exhausted (R21)."""
    d, out = decided(policy, "a02_securitisation_total_reached_exactly")
    assert outcome(out["s1"]) == ("granted", "200000.00", "200000.00", [], [A6_3])
    assert cap_step(out["s1"]) == ("securitisation-total-cap", "500000.00", "300000.00", "200000.00", "200000.00")
    assert outcome(out["s2"]) == ("refused", "0.00", "0.01", ["securitisation-total-cap"], [A6_3])
    assert d["total"] == "200000.00"


def test_r13_r22_securitisation_total_exceeded_by_a_cent(policy: engine.CompiledPolicy) -> None:
    """R13 with R8 and R22: the same 300,000.00 of history; s1 costs 400,000.01 x 50% = 200,000.005 -> 200,000.01,
    200,000.00 left -> reduced by 0.01; the cap step names the cap, its ceiling 500,000.00, the 300,000.00 used, and
    200,000.01 before, 200,000.00 after."""
    _, out = decided(policy, "a03_securitisation_total_exceeded_by_a_cent")
    assert outcome(out["s1"]) == ("reduced", "200000.00", "200000.01", [], [A6_3])
    assert cap_step(out["s1"]) == ("securitisation-total-cap", "500000.00", "300000.00", "200000.01", "200000.00")


def test_r14_platform_total_reached_exactly_across_two_earlier_years(policy: engine.CompiledPolicy) -> None:
    """R14 (at most 100万 per platform, across years): 600,000.00 for 2021 and 300,000.00 for 2022 (history, two
    applications) leave 100,000.00. 2023: t1 fee 199,999.99 x 50% = 99,999.995 -> 100,000.00: granted, the total now
    exactly 1,000,000.00; t2 fee 0.01 x 50% = 0.005 -> 0.01 -> refused, cap exhausted."""
    _, out = decided(policy, "a04_platform_total_reached_across_years")
    assert outcome(out["t1"]) == ("granted", "100000.00", "100000.00", [], [A6_4_1])
    assert cap_step(out["t1"]) == ("platform-total-cap", "1000000.00", "900000.00", "100000.00", "100000.00")
    assert outcome(out["t2"]) == ("refused", "0.00", "0.01", ["platform-total-cap"], [A6_4_1])


def test_r15_n12_an_alliance_shared_by_two_units_exceeded_by_a_cent(policy: engine.CompiledPolicy) -> None:
    """R15 with N12 (at most 20万 per alliance, whichever unit applies): another unit was paid 150,000.00 for ALLY-7 in
    2021. The alliance's own 2022 claim: costs 100,000.01 x 50% = 50,000.005 -> 50,000.01, 50,000.00 left -> reduced
    by 0.01 to 50,000.00."""
    _, out = decided(policy, "a05_alliance_shared_by_two_units_exceeded_by_a_cent")
    assert outcome(out["a1"]) == ("reduced", "50000.00", "50000.01", [], [A6_5])
    assert cap_step(out["a1"]) == ("alliance-total-cap", "200000.00", "150000.00", "50000.01", "50000.00")


def test_r16_n10_one_project_id_of_two_enterprises_is_two_projects(policy: engine.CompiledPolicy) -> None:
    """R16 with N10 (at most 5万 per project; a project is the applicant's own id): another enterprise was paid the
    whole 50,000.00 for its NAV-1. This enterprise's NAV-1: n1 costs 100,000.00 x 50% = 50,000.00, granted, its own
    5万 now used exactly; n2, NAV-1 again, costs 0.02 -> 0.01 -> refused by its own project's cap."""
    _, out = decided(policy, "a06_same_project_id_two_enterprises")
    assert outcome(out["n1"]) == ("granted", "50000.00", "50000.00", [], [A6_6])
    assert cap_step(out["n1"]) == ("project-cap", "50000.00", "0.00", "50000.00", "50000.00")
    assert outcome(out["n2"]) == ("refused", "0.00", "0.01", ["project-cap"], [A6_6])


def test_n1_an_agencys_year_exceeded_by_a_cent_after_an_earlier_application(policy: engine.CompiledPolicy) -> None:
    """R18 with N1 (the panel's amount, at most 10万 per agency per funding year): 60,000.00 paid for 2022 by an earlier
    application. s1's panel gives 40,000.01, 40,000.00 left -> reduced by 0.01; s2's 0.01 -> refused, cap exhausted."""
    _, out = decided(policy, "a14_agency_year_exceeded_by_a_cent")
    assert outcome(out["s1"]) == ("reduced", "40000.00", "40000.01", [], [A8])
    assert cap_step(out["s1"]) == ("agency-cap", "100000.00", "60000.00", "40000.01", "40000.00")
    assert outcome(out["s2"]) == ("refused", "0.00", "0.01", ["agency-cap"], [A8])


# --- limits across funding years, through the ledger -------------------------------------------------------


def _commit_in_order(policy: engine.CompiledPolicy, tmp_path: Path, names: list[str]) -> list[dict[str, dict[str, Any]]]:
    with Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as ledger:
        results = [by_item(ledger.commit(policy, fixture(name)).decision) for name in names]
        assert ledger.verify(policy) == []
    return results


def test_r11_r29_three_times_ever_through_the_ledger(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    """R11 (at most 3 times ever; one time = one loan's subsidy for one funding year, R29), four applications committed
    in order to one ledger:
    2021: LA 100,000 x 50% = 50,000.00 (time 1: LA/2021), LB 60,000 -> 30,000.00 (time 2: LB/2021);
    2022, first: LA 80,000 -> 40,000.00 (time 3: LA/2022);
    2022, a second application: LA's later payment 20,000.01 x 50% = 10,000.005 -> 10,000.01 is the same loan-year,
    no new time (R29): granted; LC would be a fourth time -> refused by the limit;
    2023: LA/2023 is a fourth time -> refused."""
    y21, y22a, y22b, y23 = _commit_in_order(
        policy, tmp_path, ["a07a_pledge_2021", "a07b_pledge_2022_first", "a07c_pledge_2022_second", "a07d_pledge_2023"]
    )
    assert [outcome(y21[k])[:2] for k in ("l1", "l2")] == [("granted", "50000.00"), ("granted", "30000.00")]
    assert outcome(y22a["l1"])[:2] == ("granted", "40000.00")
    assert outcome(y22b["l1"]) == ("granted", "10000.01", "10000.01", [], [A6_1])
    assert outcome(y22b["l2"]) == ("refused", "0.00", "50000.00", ["pledge-three-times"], [A6_1])
    assert outcome(y23["l1"]) == ("refused", "0.00", "50000.00", ["pledge-three-times"], [A6_1])
    assert y23["l1"]["reasons"][0]["category"] == "limit"


def test_r12_two_distinct_years_through_the_ledger(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    """R12 (at most 10万 per year; supported in at most 2 distinct funding years), four applications committed in order:
    2021: 40,000 x 50% = 20,000.00 (year 1); 2022, first: 20,000.00 (year 2);
    2022, a second application: 2022 is already one of the two years, so it is not refused: i1 60,000 -> 30,000.00,
    i2 100,000 -> 50,000.00, and 100,000 - 20,000 - 30,000 = 50,000.00 are left: granted, 2022 now exactly 10万;
    2023: a third year -> refused by the limit."""
    y21, y22a, y22b, y23 = _commit_in_order(
        policy, tmp_path, ["a08a_insurance_2021", "a08b_insurance_2022_first", "a08c_insurance_2022_second", "a08d_insurance_2023"]
    )
    assert outcome(y21["i1"])[:2] == outcome(y22a["i1"])[:2] == ("granted", "20000.00")
    assert outcome(y22b["i1"]) == ("granted", "30000.00", "30000.00", [], [A6_2])
    assert outcome(y22b["i2"]) == ("granted", "50000.00", "50000.00", [], [A6_2])
    assert cap_step(y22b["i2"]) == ("insurance-annual-cap", "100000.00", "50000.00", "50000.00", "50000.00")
    assert outcome(y23["i1"]) == ("refused", "0.00", "20000.00", ["insurance-two-years"], [A6_2])


# --- R25: the provisional amount at a cap's edge and under a used-up limit -------------------------------------


def test_r25_provisional_amount_at_the_caps_edge_consumes_nothing(policy: engine.CompiledPolicy) -> None:
    """R25 with R8, R23 and R26: 50,000.00 of the 2021 insurance cap used by an earlier application. i1 lacks its
    receipts: 100,000.01 x 50% = 50,000.01, provisionally 50,000.00 (the cap as it stands), consuming nothing; so i2,
    complete, 100,000.00 -> 50,000.00 gets the whole 50,000.00 left; i3, no documents, 0.02 -> 0.01 finds nothing left:
    refused by the cap (the refusal wins), and still lists its missing documents and cites 第十二条 after its rule."""
    d, out = decided(policy, "a13_provisional_amount_at_the_cap")
    assert outcome(out["i1"]) == ("incomplete", "0.00", "50000.01", [], [A6_2, A12])
    assert (out["i1"]["provisional_amount"], out["i1"]["missing_documents"]) == ("50000.00", ["fee_receipts", "sealed_receipt_copies"])
    assert outcome(out["i2"]) == ("granted", "50000.00", "50000.00", [], [A6_2])
    assert outcome(out["i3"]) == ("refused", "0.00", "0.01", ["insurance-annual-cap"], [A6_2, A12])
    assert "provisional_amount" not in out["i3"] and out["i3"]["missing_documents"] == ALL_DOCS
    assert [g["item_id"] for g in d["grants"]] == ["i2"]


def test_r25_r29_an_incomplete_loan_after_three_times(policy: engine.CompiledPolicy) -> None:
    """R25 with R11 and R29: history holds three times (LA/2021, LB/2021, LA/2022; 40,000.00 of 2022's cap). A second
    2022 application: l1, LA without receipts, is the loan-year already counted: incomplete, provisionally 20,000.01 x
    50% = 10,000.005 -> 10,000.01; l2, LC with no documents, would be a fourth time: refused by the limit (the refusal
    wins), its missing documents listed; l3, LA again and complete, 0.02 -> 0.01: granted (l1 took nothing)."""
    d, out = decided(policy, "a16_incomplete_loan_after_three_times")
    assert outcome(out["l1"]) == ("incomplete", "0.00", "10000.01", [], [A6_1, A12])
    assert out["l1"]["provisional_amount"] == "10000.01"
    assert outcome(out["l2"]) == ("refused", "0.00", "50000.00", ["pledge-three-times"], [A6_1, A12])
    assert "provisional_amount" not in out["l2"] and out["l2"]["missing_documents"] == ALL_DOCS
    assert outcome(out["l3"]) == ("granted", "0.01", "0.01", [], [A6_1])
    assert [(g["item_id"], g["amount"]) for g in d["grants"]] == [("l3", "0.01")]


def test_r25_r12_an_incomplete_insurance_item_in_a_third_year(policy: engine.CompiledPolicy) -> None:
    """R25 with R12: supported for 2021 and 2022 (history). 2023's item has no documents, but a third year is refused
    whatever its papers: refused by the limit, not incomplete; 40,000 x 50% = 20,000.00 was asked."""
    _, out = decided(policy, "a17_incomplete_insurance_in_a_third_year")
    assert outcome(out["i1"]) == ("refused", "0.00", "20000.00", ["insurance-two-years"], [A6_2, A12])
    assert "provisional_amount" not in out["i1"] and out["i1"]["missing_documents"] == ALL_DOCS


# --- R6 / N8: the alliance's cost period at the year boundary --------------------------------------------------


def test_r06_n8_the_alliance_cost_period_at_the_year_boundary(policy: engine.CompiledPolicy) -> None:
    """R6 with N8 (the cost period must begin in the funding year), funding year 2021, submitted 2022-01-01 (the first day
    of Y+1: in time). Alliance ALLY-9, founded 2020-05-01:
    a1 costs from 2020-12-31 (after the founding, but in 2020) -> refused under 第十一条, asks 100,000 x 50% = 50,000.00;
    a2 costs from 2021-01-01, dated 2021-12-31 -> 50,000.00 granted;
    a3 costs from 2021-01-01 but dated 2022-01-01 -> refused under 第十一条. The refusals use none of the 20万."""
    d, out = decided(policy, "a10_alliance_cost_period_at_the_year_boundary")
    assert d["standing"]["result"] == "ok"
    assert outcome(out["a1"]) == ("refused", "0.00", "50000.00", ["alliance-costs-in-funding-year"], [A6_5, A11])
    assert outcome(out["a2"]) == ("granted", "50000.00", "50000.00", [], [A6_5])
    assert outcome(out["a3"]) == ("refused", "0.00", "50000.00", ["occurred-in-funding-year"], [A6_5, A11])
    assert cap_step(out["a3"])[2] == "50000.00"  # used before a3: a2's 50,000.00 only, a1's nothing
    assert d["total"] == "50000.00"


# --- R4 / N11: the first right holder written in other widths ---------------------------------------------------


def test_r04_n11_first_holder_in_full_width_letters_or_with_an_ideographic_space(policy: engine.CompiledPolicy) -> None:
    """R4 with N11: the applicant is registered as 北京ABC平谷科技有限公司. c1 (China award, gold 500,000.00): first holder
    北京ＡＢＣ平谷科技有限公司 (full-width letters) -> the same name, granted; b1 (Beijing award, second prize 50,000.00):
    北京abc平谷科技<U+3000>有限公司 (lower case, an ideographic space) -> granted; p1 (invention fees 8,400.01): the
    applicant written in full width but listed second, after 某大学 -> refused under 第四条第三款. Total 550,000.00."""
    d, out = decided(policy, "a11_first_holder_written_otherwise")
    assert outcome(out["c1"]) == ("granted", "500000.00", "500000.00", [], [A5_2])
    assert outcome(out["b1"]) == ("granted", "50000.00", "50000.00", [], [A5_3])
    assert outcome(out["p1"]) == ("refused", "0.00", "4200.01", ["first-right-holder"], [A5_1, A4_3])
    assert d["total"] == "550000.00"


# --- R1 / R2: a natural person with organisation roles, an enterprise with a household registration -------------


def test_r01_r02_a_natural_person_holding_organisation_roles_and_facts(policy: engine.CompiledPolicy) -> None:
    """R1: a natural person stands on its Pinggu household registration alone; its organisation facts (not registered,
    not operating, not paying tax there) are not its conditions. R2: 第八条 and 第六条（五） are for organisations, so the
    roles of service agency and alliance it claims do not make it one. p1 (fees 8,400.01 x 50% = 4,200.005 -> 4,200.01,
    receipts unsealed as a person's may be) granted; s1 (panel 50,000) and a1 (alliance costs 10,000) refused as not
    for it."""
    d, out = decided(policy, "a12_natural_person_with_organisation_roles")
    assert d["standing"]["result"] == "ok"
    assert outcome(out["p1"]) == ("granted", "4200.01", "4200.01", [], [A5_1])
    assert outcome(out["s1"]) == ("refused", "0.00", "50000.00", ["service-agency-performance#who"], [A8])  # (the panel's amount)
    assert outcome(out["a1"]) == ("refused", "0.00", "5000.00", ["alliance-operation#who"], [A6_5])  # 10,000 x 50%
    assert [out[k]["reasons"][0]["category"] for k in ("s1", "a1")] == ["scope", "scope"]
    assert d["total"] == "4200.01"


def test_r01_an_enterprise_is_not_saved_by_a_household_registration(policy: engine.CompiledPolicy) -> None:
    """R1: an enterprise not registered in Pinggu is refused whatever a household registration says (that is a natural
    person's condition): the excellence award (30万) is refused under 第四条第二款, standing refused."""
    d, out = decided(policy, "a12b_enterprise_with_a_household_registration")
    assert [r["check"] for r in d["standing"]["reasons"]] == ["standing-organisation"]
    assert outcome(out["c1"]) == ("refused", "0.00", "300000.00", ["standing-organisation"], [A5_2, A4_2])


def _limit_lines(policy: engine.CompiledPolicy, decision: Any, lang: str) -> list[str]:
    """The lines of an explanation that state the 3-times limit of 第六条（一）, item by item (✓ or ✗ first)."""
    says = "累计享受贴息补助不超过3次" if lang == "zh" else "at most 3 subsidies in all"
    lines = [ln.strip() for ln in engine.explain(policy, decision, lang=lang).splitlines()]
    return [ln for ln in lines if ln[:1] in "✓✗" and says in ln]


def test_r29_an_incomplete_item_of_a_loan_year_already_counted_says_so(policy: engine.CompiledPolicy) -> None:
    """R29 with R25, in the explanation: l1 (incomplete) and l3 (granted) are both LA's 2022 subsidy, the loan-year
    H-2022 already counted; 3 times counted before each. Each line must say the item is that time, not another: l1's
    said only "at most 3, counted before 3" under a ✓, which read as a limit reached and passed all the same. l2 (LC)
    would be a fourth: the limit is reached, by H-2021's 2 times and H-2022's 1."""
    live = engine.evaluate(policy, fixture("a16_incomplete_loan_after_three_times"))
    record = json.loads(live.to_json())
    # (every line names the applications the 3 came from: H-2021's 2 times and H-2022's 1, held as refused)
    said = "累计享受贴息补助不超过3次（每笔贷款每个申报年度为一次）：上限 3 次，此前已计 3 次（其中：2021 年度申请 H-2021 计 2 次；2022 年度申请 H-2022 计 1 次）"
    same_zh = f"✓ {said}；本项与此前已计的相同，不另计"
    full_zh = f"✗ {said}，已达上限"
    same_en = (
        "✓ at most 3 subsidies in all (one per loan per funding year): at most 3 time(s); counted before 3 (among them: "
        "application H-2021 for 2021, 2 time(s); application H-2022 for 2022, 1 time(s)); this item counts as one already counted"
    )
    for decision in (live, record):
        assert _limit_lines(policy, decision, "zh") == [same_zh, full_zh, same_zh]
        assert [_limit_lines(policy, decision, "en")[i] for i in (0, 2)] == [same_en, same_en]
