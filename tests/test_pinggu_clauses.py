"""Clause by clause: the Pinggu policy computes what 平谷区知识产权促进办法 says.

For every computable clause with an amount or outcome there is a typical case
(exact amount), a case where a cap or limit bites (reduced, or refused once it
is used up, by history or by earlier items of the same claim) and a refusal on
a failed condition. Then the cross-cutting provisions: 第四条 (three
paragraphs), 第九条, 第十一条, 第十二条 and 第十四条.

Every expected amount is worked out by hand in the docstring or a comment from
the text of the measures and READINGS.md; none is copied from engine output.
History is written by hand in the grant format of `Grant.to_dict()`.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from conftest import (
    AGENCY_ID,
    ALLIANCE_ID,
    ENTERPRISE_ID,
    PLATFORM_ID,
    by_item,
    cap_use,
    claim,
    decide,
    history_grant,
    item,
    limit_use,
)

# Clause keys exactly as the policy's clause table spells them.
A4_1, A4_2, A4_3 = "第四条第一款", "第四条第二款", "第四条第三款"
A5_1, A5_2, A5_3 = "第五条第（一）项", "第五条第（二）项", "第五条第（三）项"
A6_1, A6_2, A6_3 = "第六条第（一）项", "第六条第（二）项", "第六条第（三）项"
A6_4_1, A6_4_2 = "第六条第（四）项第一款", "第六条第（四）项第二款"
A6_5, A6_6 = "第六条第（五）项", "第六条第（六）项"
A7_1, A7_2, A7_3 = "第七条第（一）项", "第七条第（二）项", "第七条第（三）项"
A8 = "第八条第二款"
A9, A11, A12, A14 = "第九条", "第十一条", "第十二条", "第十四条"


# --- helpers -------------------------------------------------------------------------------------------


def only(policy: Any, it: dict[str, Any], **claim_kw: Any) -> dict[str, Any]:
    """The decision on a claim with the single item `it`."""
    d = decide(policy, claim(it, **claim_kw))
    assert len(d["items"]) == 1
    return d["items"][0]


def checks(d: dict[str, Any]) -> list[str]:
    return [r["check"] for r in d["reasons"]]


def assert_decision(d: dict[str, Any], status: str, amount: str, cites: list[str] | None = None) -> None:
    assert (d["status"], d["amount"]) == (status, amount), d["reasons"]
    if cites is not None:
        assert d["cites"] == cites


grant = functools.partial(history_grant, claim_id="H-2021-1")
cap = cap_use
limit = limit_use


# --- 第五条（一） invention patents: 50% of official fees --------------------------------------------------


def test_a5_1_typical_half_of_official_fees(policy: Any) -> None:
    """第五条（一）: 支持金额为获得专利权所缴纳的官方规定费用的 50%. Fees 8,400 → 4,200.00."""
    d = only(policy, item("invention_patent_grant", official_fees_paid="8400.00"))
    assert_decision(d, "granted", "4200.00", [A5_1])
    assert d["reasons"] == []


def test_a5_1_pct_patent_granted_abroad(policy: Any) -> None:
    """第五条（一）: 包括通过 PCT 及其他途径在境外获得授权的发明专利. Fees 12,345.67 × 50% = 6,172.835 → 6,172.84 (R8)."""
    d = only(policy, item("invention_patent_grant", route="pct", official_fees_paid="12345.67"))
    assert_decision(d, "granted", "6172.84", [A5_1])
    d = only(policy, item("invention_patent_grant", route="foreign_other", official_fees_paid="3000.00"))
    assert_decision(d, "granted", "1500.00", [A5_1])


def test_a5_1_limit_once_per_patent_in_the_same_claim(policy: Any) -> None:
    """R9: once per patent. The same patent listed twice: the first is paid, the second refused by the limit."""
    d = by_item(decide(policy, claim(item("invention_patent_grant", "p1"), item("invention_patent_grant", "p2"))))
    assert_decision(d["p1"], "granted", "4200.00")
    assert_decision(d["p2"], "refused", "0.00", [A5_1])
    assert checks(d["p2"]) == ["invention-patent-once"]


def test_a5_1_limit_once_per_patent_from_history(policy: Any) -> None:
    """R9: a patent paid in an earlier year is not paid again."""
    history = [grant("invention-patent-fees", "3000.00", limit("invention-patent-once", ["ZL202010000001.1"], ["H-2021-1", "h1"]))]
    d = only(policy, item("invention_patent_grant", date="2022-05-01"), funding_year=2022, history=history)
    assert_decision(d, "refused", "0.00", [A5_1])
    assert checks(d) == ["invention-patent-once"]


def test_a5_1_refused_for_a_utility_model(policy: Any) -> None:
    """R9: invention patents only, not utility models or designs."""
    # each with a number of its kind (the 5th digit 2 and 3, ZC 0006-2003), so that only the kind refuses it: an
    # invention's number declared a utility model also fails the number's kind (N7, test_patent_numbers.py)
    for kind, number in (("utility_model", "ZL202020000011.0"), ("design", "ZL202030000011.6")):
        d = only(policy, item("invention_patent_grant", patent_kind=kind, patent_id=number))
        assert_decision(d, "refused", "0.00", [A5_1])
        assert checks(d) == ["invention-patent-fees#when1"]


# --- 第五条（二） China Patent Award ------------------------------------------------------------------------


@pytest.mark.parametrize(("level", "amount"), [("gold", "500000.00"), ("silver", "400000.00"), ("excellence", "300000.00")])
def test_a5_2_china_patent_award_levels(policy: Any, level: str, amount: str) -> None:
    """第五条（二）: 金奖每项奖励 50 万元，银奖每项奖励 40 万元，优秀奖每项奖励 30 万元."""
    d = only(policy, item("china_patent_award", level=level))
    assert_decision(d, "granted", amount, [A5_2])


def test_a5_2_limit_a_patent_already_rewarded_is_refused(policy: Any) -> None:
    """R27: a patent rewarded silver in 2021 is refused gold in 2022 (no top-up)."""
    history = [
        grant("china-patent-award", "400000.00", limit("china-patent-award-once-per-patent", ["ZL201810000002.9"], ["H-2021-1", "h1"]))
    ]
    d = only(policy, item("china_patent_award", level="gold", date="2022-07-01"), funding_year=2022, history=history)
    assert_decision(d, "refused", "0.00", [A5_2])
    assert checks(d) == ["china-patent-award-once-per-patent"]


def test_a5_2_refused_for_a_non_first_right_holder(policy: Any) -> None:
    """第四条第三款 on 第五条（二）: the award goes to the first right holder only."""
    d = only(policy, item("china_patent_award", right_holders=["某大学", "北京平谷示例科技有限公司"]))
    assert_decision(d, "refused", "0.00", [A5_2, A4_3])
    assert checks(d) == ["first-right-holder"]


# --- 第五条（三） Beijing Invention Patent Award ------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "amount"), [("special", "200000.00"), ("first", "100000.00"), ("second", "50000.00"), ("third", "30000.00")]
)
def test_a5_3_beijing_award_levels(policy: Any, level: str, amount: str) -> None:
    """第五条（三）: 特等奖 20 万元，一等奖 10 万元，二等奖 5 万元，三等奖 3 万元."""
    d = only(policy, item("beijing_invention_patent_award", level=level))
    assert_decision(d, "granted", amount, [A5_3])


def test_a5_3_limit_same_patent_twice_in_one_claim(policy: Any) -> None:
    """R27: each scheme once per patent: a second Beijing award for the same patent is refused."""
    d = by_item(
        decide(
            policy,
            claim(
                item("beijing_invention_patent_award", "b1", level="third"), item("beijing_invention_patent_award", "b2", level="special")
            ),
        )
    )
    assert_decision(d["b1"], "granted", "30000.00")
    assert_decision(d["b2"], "refused", "0.00", [A5_3])
    assert checks(d["b2"]) == ["beijing-patent-award-once-per-patent"]


def test_a5_3_refused_outside_the_funding_year(policy: Any) -> None:
    """第十一条 on 第五条（三）: an award of 2020 in an application for funding year 2021 is refused."""
    d = only(policy, item("beijing_invention_patent_award", date="2020-12-31"))
    assert_decision(d, "refused", "0.00", [A5_3, A11])
    assert checks(d) == ["occurred-in-funding-year"]


# --- 第六条（一） pledge-loan interest ---------------------------------------------------------------------


def test_a6_1_typical_half_of_annual_interest(policy: Any) -> None:
    """第六条（一）: 每次按最高不超过贷款年利息的50%. Interest 100,000 → 50,000.00."""
    d = only(policy, item("pledge_loan_interest", annual_interest_paid="100000.00"))
    assert_decision(d, "granted", "50000.00", [A6_1])


def test_a6_1_annual_cap_bites_on_the_second_loan(policy: Any) -> None:
    """每家企业每年享受贴息补助最高不超过 30 万元: 500,000 × 50% = 250,000 granted; the second loan asks
    200,000 × 50% = 100,000 but only 300,000 − 250,000 = 50,000 remains → reduced 50,000.00."""
    d = by_item(
        decide(
            policy,
            claim(
                item("pledge_loan_interest", "l1", loan_id="L1", annual_interest_paid="500000.00"),
                item("pledge_loan_interest", "l2", loan_id="L2", annual_interest_paid="200000.00"),
            ),
        )
    )
    assert_decision(d["l1"], "granted", "250000.00", [A6_1])
    assert_decision(d["l2"], "reduced", "50000.00", [A6_1])
    assert d["l2"]["asked"] == "100000.00"


def test_a6_1_annual_cap_exhausted_by_history(policy: Any) -> None:
    """R21: 300,000 already paid for 2021 by an earlier application → the next 2021 loan is refused (cap exhausted)."""
    history = [
        grant(
            "pledge-loan-interest",
            "300000.00",
            cap("pledge-annual-cap", [ENTERPRISE_ID, 2021], "300000.00"),
            limit("pledge-three-times", [ENTERPRISE_ID], ["L0", 2021]),
        )
    ]
    d = only(policy, item("pledge_loan_interest"), history=history)
    assert_decision(d, "refused", "0.00", [A6_1])
    assert checks(d) == ["pledge-annual-cap"]


def test_a6_1_three_times_limit_reached(policy: Any) -> None:
    """累计享受贴息补助不超过3次: three earlier loan-years → a fourth is refused whatever the amount."""
    history = [
        grant(
            "pledge-loan-interest",
            "10000.00",
            cap("pledge-annual-cap", [ENTERPRISE_ID, y], "10000.00"),
            limit("pledge-three-times", [ENTERPRISE_ID], [loan, y]),
            year=y,
            item_id=loan,
        )
        for loan, y in (("A", 2021), ("B", 2021), ("A", 2022))
    ]
    d = only(policy, item("pledge_loan_interest", loan_id="C", date="2023-02-01"), funding_year=2023, history=history)
    assert_decision(d, "refused", "0.00", [A6_1])
    assert checks(d) == ["pledge-three-times"]


def test_a6_1_refused_when_the_lender_is_not_a_bank(policy: Any) -> None:
    """第六条（一）: 银行贷款 only."""
    d = only(policy, item("pledge_loan_interest", lender_is_bank=False))
    assert_decision(d, "refused", "0.00", [A6_1])
    assert checks(d) == ["pledge-loan-interest#when1"]


def test_a6_1_refused_for_a_public_institution(policy: Any) -> None:
    """R2: 第六条（一） says 企业: enterprises only."""
    d = only(
        policy,
        item("pledge_loan_interest", documents=["proof_of_right", "fee_receipts", "sealed_receipt_copies"]),
        applicant="public_institution",
    )
    assert_decision(d, "refused", "0.00", [A6_1])
    assert checks(d) == ["pledge-loan-interest#who"]


# --- 第六条（二） patent insurance --------------------------------------------------------------------------


def test_a6_2_typical_half_of_premium(policy: Any) -> None:
    """第六条（二）: 按专利保险费用的 50%. Premium 20,000 → 10,000.00."""
    d = only(policy, item("patent_insurance", premium_paid="20000.00"))
    assert_decision(d, "granted", "10000.00", [A6_2])


def test_a6_2_annual_cap_across_policies(policy: Any) -> None:
    """每户企业每年…最高不超过 10 万元: premiums 150,000 → 75,000; 100,000 → asks 50,000, 25,000 left → reduced 25,000.00."""
    d = by_item(
        decide(
            policy,
            claim(
                item("patent_insurance", "i1", insurance_policy_id="INS-1", premium_paid="150000.00"),
                item("patent_insurance", "i2", insurance_policy_id="INS-2", premium_paid="100000.00"),
            ),
        )
    )
    assert_decision(d["i1"], "granted", "75000.00", [A6_2])
    assert_decision(d["i2"], "reduced", "25000.00", [A6_2])


def test_a6_2_two_years_limit_reached(policy: Any) -> None:
    """最多支持 2 年: supported for 2021 and 2022 → refused for 2023."""
    history = [
        grant(
            "patent-insurance",
            "10000.00",
            cap("insurance-annual-cap", [ENTERPRISE_ID, y], "10000.00"),
            limit("insurance-two-years", [ENTERPRISE_ID], [y]),
            year=y,
        )
        for y in (2021, 2022)
    ]
    d = only(policy, item("patent_insurance", date="2023-04-01"), funding_year=2023, history=history)
    assert_decision(d, "refused", "0.00", [A6_2])
    assert checks(d) == ["insurance-two-years"]


def test_a6_2_refused_for_a_natural_person(policy: Any) -> None:
    """R2: 第六条（二） says 企业."""
    d = only(policy, item("patent_insurance", documents=["proof_of_right", "fee_receipts"]), applicant="natural_person")
    assert_decision(d, "refused", "0.00", [A6_2])
    assert checks(d) == ["patent-insurance#who"]


# --- 第六条（三） securitisation ----------------------------------------------------------------------------


def test_a6_3_typical_half_of_financing_costs(policy: Any) -> None:
    """第六条（三）: 按照实际融资费用的 50%. Costs 400,000 → 200,000.00."""
    d = only(policy, item("ip_securitisation", financing_costs="400000.00"))
    assert_decision(d, "granted", "200000.00", [A6_3])


def test_a6_3_total_cap_across_years(policy: Any) -> None:
    """支持总额最高不超过 50 万元 (R13, across years): 400,000 paid for 2021; 2022 costs 400,000 ask 200,000,
    only 100,000 left → reduced 100,000.00."""
    history = [grant("ip-securitisation", "400000.00", cap("securitisation-total-cap", [ENTERPRISE_ID], "400000.00"))]
    d = only(policy, item("ip_securitisation", financing_id="ABS-2", date="2022-06-01"), funding_year=2022, history=history)
    assert_decision(d, "reduced", "100000.00", [A6_3])
    assert d["asked"] == "200000.00"


def test_a6_3_total_cap_exhausted(policy: Any) -> None:
    """R21: the 500,000 total is used up → refused, cap exhausted."""
    history = [grant("ip-securitisation", "500000.00", cap("securitisation-total-cap", [ENTERPRISE_ID], "500000.00"))]
    d = only(policy, item("ip_securitisation", date="2023-06-01"), funding_year=2023, history=history)
    assert_decision(d, "refused", "0.00", [A6_3])
    assert checks(d) == ["securitisation-total-cap"]


def test_a6_3_refused_for_an_other_organisation(policy: Any) -> None:
    """R2: 第六条（三） says 企业."""
    d = only(policy, item("ip_securitisation"), applicant="other_organisation")
    assert_decision(d, "refused", "0.00", [A6_3])
    assert checks(d) == ["ip-securitisation#who"]


# --- 第六条（四）第一款 platforms --------------------------------------------------------------------------


def test_a6_4_1_typical_half_of_service_fee(policy: Any) -> None:
    """第六条（四）: 按照…技术服务费的 50%给予奖励. Fee 300,000 → 150,000.00."""
    d = only(policy, item("platform_transformation_service", technology_service_fee="300000.00"), applicant="platform")
    assert_decision(d, "granted", "150000.00", [A6_4_1])


def test_a6_4_1_cumulative_cap(policy: Any) -> None:
    """累计最高不超过 100 万元: 900,000 paid earlier; fee 300,000 asks 150,000, 100,000 left → reduced 100,000.00;
    a further item in the same claim is refused (cap exhausted)."""
    history = [
        grant(
            "platform-transformation-service", "900000.00", cap("platform-total-cap", [PLATFORM_ID], "900000.00"), applicant_id=PLATFORM_ID
        )
    ]
    d = by_item(
        decide(
            policy,
            claim(
                item("platform_transformation_service", "t1", date="2022-03-01"),
                item("platform_transformation_service", "t2", transformation_id="TR-2", date="2022-04-01"),
                applicant="platform",
                funding_year=2022,
                history=history,
            ),
        )
    )
    assert_decision(d["t1"], "reduced", "100000.00", [A6_4_1])
    assert_decision(d["t2"], "refused", "0.00", [A6_4_1])
    assert checks(d["t2"]) == ["platform-total-cap"]


def test_a6_4_1_refused_when_not_landed_in_pinggu(policy: Any) -> None:
    """第六条（四）: 并实际在平谷区完成转化落地的."""
    d = only(policy, item("platform_transformation_service", landed_in_district=False), applicant="platform")
    assert_decision(d, "refused", "0.00", [A6_4_1])
    assert checks(d) == ["platform-transformation-service#when1"]


def test_a6_4_1_refused_for_an_enterprise_that_is_not_a_platform(policy: Any) -> None:
    """R2: 第六条（四） is for IP operation/transformation platforms."""
    d = only(policy, item("platform_transformation_service"))
    assert_decision(d, "refused", "0.00", [A6_4_1])
    assert checks(d) == ["platform-transformation-service#who"]


# --- 第六条（四）第二款 referral ---------------------------------------------------------------------------


def test_a6_4_2_self_transformation_is_referred(policy: Any) -> None:
    """第六条（四）第二款: 支持政策按照区科学技术和工业信息化局相关政策执行 → referred, amount 0 (R14)."""
    d = only(policy, item("self_transformation"))
    assert_decision(d, "referred", "0.00", [A6_4_2])
    assert d["reasons"] == []
    assert "科学技术和工业信息化局" in d["referred_to"]["zh"]


def test_a6_4_2_right_holder_natural_person_is_referred_too(policy: Any) -> None:
    """第六条（四）第二款 names 知识产权持有人, who may be natural persons."""
    d = only(policy, item("self_transformation"), applicant="natural_person")
    assert_decision(d, "referred", "0.00", [A6_4_2])


def test_a6_4_2_referral_refused_when_applicant_lacks_standing(policy: Any) -> None:
    """R28: a referral still passes the standing check (第四条第二款)."""
    d = only(policy, item("self_transformation"), pays_tax_in_district=False)
    assert_decision(d, "refused", "0.00", [A6_4_2, A4_2])
    assert checks(d) == ["standing-organisation"]


# --- 第六条（五） alliances ---------------------------------------------------------------------------------


def test_a6_5_typical_half_of_costs(policy: Any) -> None:
    """第六条（五）: 按照开展工作实际发生费用的 50%. Costs 100,000 → 50,000.00."""
    d = only(policy, item("alliance_operation", actual_costs="100000.00"), applicant="alliance")
    assert_decision(d, "granted", "50000.00", [A6_5])


def test_a6_5_cap_per_alliance(policy: Any) -> None:
    """每个知识产权联盟支持总额最高不超过 20 万元: 180,000 paid to ALLY-1 → 2022 costs 100,000 ask 50,000,
    20,000 left → reduced 20,000.00."""
    history = [grant("alliance-operation", "180000.00", cap("alliance-total-cap", ["ALLY-1"], "180000.00"), applicant_id=ALLIANCE_ID)]
    d = only(
        policy,
        item("alliance_operation", date="2022-06-01", costs_from="2022-01-01"),
        applicant="alliance",
        funding_year=2022,
        history=history,
    )
    assert_decision(d, "reduced", "20000.00", [A6_5])


def test_a6_5_cap_exhausted(policy: Any) -> None:
    """R21: 200,000 already paid to the alliance → refused."""
    history = [grant("alliance-operation", "200000.00", cap("alliance-total-cap", ["ALLY-1"], "200000.00"), applicant_id=ALLIANCE_ID)]
    d = only(
        policy,
        item("alliance_operation", date="2022-06-01", costs_from="2022-01-01"),
        applicant="alliance",
        funding_year=2022,
        history=history,
    )
    assert_decision(d, "refused", "0.00", [A6_5])
    assert checks(d) == ["alliance-total-cap"]


def test_a6_5_refused_for_costs_before_founding(policy: Any) -> None:
    """联盟成立后开展相关运营工作 (R15, N3): a cost period starting before the founding day is refused."""
    d = only(policy, item("alliance_operation", founding_date="2021-03-01", costs_from="2021-01-01"), applicant="alliance")
    assert_decision(d, "refused", "0.00", [A6_5])
    assert checks(d) == ["alliance-operation#when1"]


# --- 第六条（六） navigation projects -----------------------------------------------------------------------


def test_a6_6_typical_half_of_project_costs(policy: Any) -> None:
    """第六条（六）: 按照项目实际发生费用的 50%. Costs 60,000 → 30,000.00."""
    d = only(policy, item("navigation_project", actual_costs="60000.00"))
    assert_decision(d, "granted", "30000.00", [A6_6])


def test_a6_6_project_cap(policy: Any) -> None:
    """每个项目支持最高不超过 5 万元: costs 150,000 → 75,000 asked → reduced 50,000.00."""
    d = only(policy, item("navigation_project", actual_costs="150000.00"))
    assert_decision(d, "reduced", "50000.00", [A6_6])
    assert d["asked"] == "75000.00"


def test_a6_6_project_cap_shared_by_items_of_one_project(policy: Any) -> None:
    """R16: at most 50,000 per project in total: two 60,000 cost items of NAV-1 → 30,000 then 20,000 (reduced);
    another project NAV-2 is not affected → 30,000; NAV-1 again → refused."""
    d = by_item(
        decide(
            policy,
            claim(
                item("navigation_project", "n1"),
                item("navigation_project", "n2"),
                item("navigation_project", "n3", project_id="NAV-2", project_kind="early_warning"),
                item("navigation_project", "n4"),
            ),
        )
    )
    assert_decision(d["n1"], "granted", "30000.00")
    assert_decision(d["n2"], "reduced", "20000.00")
    assert_decision(d["n3"], "granted", "30000.00")
    assert_decision(d["n4"], "refused", "0.00", [A6_6])
    assert checks(d["n4"]) == ["project-cap"]


def test_a6_6_refused_for_a_public_institution(policy: Any) -> None:
    """R2: 第六条（六） says 企业."""
    d = only(policy, item("navigation_project"), applicant="public_institution")
    assert_decision(d, "refused", "0.00", [A6_6])
    assert checks(d) == ["navigation-project#who"]


# --- 第七条 titles ---------------------------------------------------------------------------------------


def test_a7_1_titles(policy: Any) -> None:
    """第七条（一）: 示范企业一次性奖励20 万元；优势企业一次性奖励 10万元; different titles paid separately (R17)."""
    d = by_item(
        decide(policy, claim(item("national_ip_title", "t1", title="demonstration"), item("national_ip_title", "t2", title="advantage")))
    )
    assert_decision(d["t1"], "granted", "200000.00", [A7_1])
    assert_decision(d["t2"], "granted", "100000.00", [A7_1])


def test_a7_1_title_paid_once(policy: Any) -> None:
    """一次性 (R17): a demonstration title paid for 2021 is not paid again for 2022."""
    history = [grant("national-ip-title", "200000.00", limit("national-title-once", [ENTERPRISE_ID, "demonstration"], ["H-2021-1", "h1"]))]
    d = only(policy, item("national_ip_title", date="2022-10-01"), funding_year=2022, history=history)
    assert_decision(d, "refused", "0.00", [A7_1])
    assert checks(d) == ["national-title-once"]


def test_a7_1_refused_for_a_public_institution(policy: Any) -> None:
    """R2: 第七条（一） says 企业."""
    d = only(policy, item("national_ip_title"), applicant="public_institution")
    assert_decision(d, "refused", "0.00", [A7_1])
    assert checks(d) == ["national-ip-title#who"]


def test_a7_2_beijing_demonstration_unit(policy: Any) -> None:
    """第七条（二）: 一次性奖励5 万元; 单位 covers public institutions (R2)."""
    assert_decision(only(policy, item("beijing_ip_demonstration_unit")), "granted", "50000.00", [A7_2])
    assert_decision(only(policy, item("beijing_ip_demonstration_unit"), applicant="public_institution"), "granted", "50000.00", [A7_2])


def test_a7_2_paid_once(policy: Any) -> None:
    """一次性 (R17): the title twice in one claim → the second is refused."""
    d = by_item(decide(policy, claim(item("beijing_ip_demonstration_unit", "u1"), item("beijing_ip_demonstration_unit", "u2"))))
    assert_decision(d["u1"], "granted", "50000.00")
    assert_decision(d["u2"], "refused", "0.00", [A7_2])
    assert checks(d["u2"]) == ["beijing-demonstration-once"]


def test_a7_2_refused_for_an_other_organisation(policy: Any) -> None:
    """R2: 第七条（二） 单位 = enterprises and public institutions only."""
    d = only(policy, item("beijing_ip_demonstration_unit"), applicant="other_organisation")
    assert_decision(d, "refused", "0.00", [A7_2])
    assert checks(d) == ["beijing-ip-demonstration-unit#who"]


def test_a7_3_management_certification(policy: Any) -> None:
    """第七条（三）: 通过国家知识产权管理体系审核认证的，一次性奖励 5 万元."""
    assert_decision(only(policy, item("ip_management_certification")), "granted", "50000.00", [A7_3])


def test_a7_3_paid_once(policy: Any) -> None:
    """一次性 (R17): certified and paid for 2021 → a renewed certificate for 2022 is refused."""
    history = [grant("ip-management-certification", "50000.00", limit("certification-once", [ENTERPRISE_ID], ["H-2021-1", "h1"]))]
    d = only(policy, item("ip_management_certification", certificate_id="CERT-2", date="2022-01-10"), funding_year=2022, history=history)
    assert_decision(d, "refused", "0.00", [A7_3])
    assert checks(d) == ["certification-once"]


def test_a7_3_refused_for_a_natural_person(policy: Any) -> None:
    """R2: 第七条（三） says 企业."""
    d = only(policy, item("ip_management_certification"), applicant="natural_person")
    assert_decision(d, "refused", "0.00", [A7_3])
    assert checks(d) == ["ip-management-certification#who"]


# --- 第八条 service agencies ------------------------------------------------------------------------------


def test_a8_panel_amount_paid(policy: Any) -> None:
    """第八条 (R18): the panel's recommended 80,000 is paid, under the 100,000 ceiling."""
    d = only(policy, item("service_agency_performance", panel_amount="80000.00"), applicant="agency")
    assert_decision(d, "granted", "80000.00", [A8])


def test_a8_panel_amount_capped(policy: Any) -> None:
    """支持金额最高不超过 10 万元: a panel amount of 150,000 is reduced to 100,000.00."""
    d = only(policy, item("service_agency_performance", panel_amount="150000.00"), applicant="agency")
    assert_decision(d, "reduced", "100000.00", [A8])


def test_a8_ceiling_per_agency_per_year(policy: Any) -> None:
    """N1: the 100,000 ceiling is per agency per funding year: 80,000 then 80,000 → 80,000 and 20,000 (reduced)."""
    history = [grant("service-agency-performance", "80000.00", cap("agency-cap", [AGENCY_ID, 2021], "80000.00"), applicant_id=AGENCY_ID)]
    d = only(policy, item("service_agency_performance"), applicant="agency", history=history)
    assert_decision(d, "reduced", "20000.00", [A8])
    # The next year starts afresh.
    d = only(policy, item("service_agency_performance", date="2022-06-01"), applicant="agency", funding_year=2022, history=history)
    assert_decision(d, "granted", "80000.00", [A8])


def test_a8_pending_review_without_panel_amount(policy: Any) -> None:
    """R18: without a panel amount the decision is pending review, showing the 100,000 ceiling."""
    d = only(policy, item("service_agency_performance", panel_amount=...), applicant="agency")
    assert_decision(d, "pending_review", "0.00", [A8])
    assert [(c["cap"], c["ceiling"]) for c in d["ceilings"]] == [("agency-cap", "100000.00")]


def test_a8_refused_for_an_enterprise_that_is_not_an_agency(policy: Any) -> None:
    """R2: 第八条 is for IP service agencies."""
    d = only(policy, item("service_agency_performance"))
    assert_decision(d, "refused", "0.00", [A8])
    assert checks(d) == ["service-agency-performance#who"]


# --- 第四条 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("right", ["copyright", "software_copyright", "plant_variety", "other"])
def test_a4_1_only_patents_and_trademarks(policy: Any, right: str) -> None:
    """第四条第一款: 本办法所指的知识产权包括：专利、商标. A loan secured by any other right is refused."""
    d = only(policy, item("pledge_loan_interest", pledged_right=right))
    assert_decision(d, "refused", "0.00", [A6_1, A4_1])
    assert checks(d) == ["patents-and-trademarks-only"]


def test_a4_1_trademark_pledge_counts(policy: Any) -> None:
    """第四条第一款 / 第六条（一）: 注册商标专用权 pledge: interest 200,000 → 100,000.00."""
    d = only(policy, item("pledge_loan_interest", pledged_right="trademark", annual_interest_paid="200000.00"))
    assert_decision(d, "granted", "100000.00", [A6_1])


@pytest.mark.parametrize("fact", ["registered_in_district", "actually_operating", "pays_tax_in_district"])
def test_a4_2_organisation_without_standing_is_refused(policy: Any, fact: str) -> None:
    """第四条第二款: 依法登记注册，并实际经营、依法纳税 — each is required; every item is refused."""
    d = decide(policy, claim(item("invention_patent_grant", "p1"), item("national_ip_title", "t1"), **{fact: False}))
    assert d["standing"]["result"] == "refused"
    for it in d["items"]:
        assert (it["status"], it["amount"]) == ("refused", "0.00")
        assert checks(it) == ["standing-organisation"]
        assert A4_2 in it["cites"]
    assert d["total"] == "0.00"


def test_a4_2_natural_person_needs_household_registration(policy: Any) -> None:
    """第四条第二款: 户籍在本区行政区域的自然人. With it: fees 8,400 → 4,200.00; without it: refused."""
    docs = ["proof_of_right", "fee_receipts"]
    ok = only(policy, item("invention_patent_grant", documents=docs), applicant="natural_person")
    assert_decision(ok, "granted", "4200.00", [A5_1])
    no = only(policy, item("invention_patent_grant", documents=docs), applicant="natural_person", household_registered_in_district=False)
    assert_decision(no, "refused", "0.00", [A5_1, A4_2])
    assert checks(no) == ["standing-natural-person"]


def test_a4_3_first_right_holder_is_supported(policy: Any) -> None:
    """第四条第三款: 以第一权利人为支持或奖励对象 — first listed holder: paid; second listed: refused."""
    first = only(policy, item("invention_patent_grant", right_holders=["北京平谷示例科技有限公司", "某大学"]))
    assert_decision(first, "granted", "4200.00", [A5_1])
    second = only(policy, item("invention_patent_grant", right_holders=["某大学", "北京平谷示例科技有限公司"]))
    assert_decision(second, "refused", "0.00", [A5_1, A4_3])
    assert checks(second) == ["first-right-holder"]


# --- 第九条, 第十一条 ------------------------------------------------------------------------------------


def test_a9_no_double_benefit(policy: Any) -> None:
    """第九条: 与区内其他扶持奖励政策重叠的，申报主体不得重复享受."""
    d = only(policy, item("national_ip_title", supported_by_other_district_policy=True))
    assert_decision(d, "refused", "0.00", [A7_1, A9])
    assert checks(d) == ["no-double-benefit"]


def test_a9_applies_to_referrals_too(policy: Any) -> None:
    """第九条 with the policy's note N2: a 第六条（四）第二款 item already supported elsewhere is refused, not referred."""
    d = only(policy, item("self_transformation", supported_by_other_district_policy=True))
    assert_decision(d, "refused", "0.00", [A6_4_2, A9])
    assert checks(d) == ["no-double-benefit"]


def test_a11_item_of_another_year_refused(policy: Any) -> None:
    """第十一条: 对上一年度获得的相关授权、认证、称号 — a 2022 title in a 2021 application is refused."""
    d = by_item(
        decide(
            policy, claim(item("national_ip_title", "t1", date="2021-12-31"), item("ip_management_certification", "c1", date="2022-01-01"))
        )
    )
    assert_decision(d["t1"], "granted", "200000.00")
    assert_decision(d["c1"], "refused", "0.00", [A7_3, A11])
    assert checks(d["c1"]) == ["occurred-in-funding-year"]


def test_a11_application_made_in_the_following_year(policy: Any) -> None:
    """第十一条 (R6): the application for funding year 2021 is made in 2022; one made in 2023 is refused."""
    d = only(policy, item("national_ip_title"), submission_date="2023-03-15")
    assert_decision(d, "refused", "0.00", [A7_1, A11])
    assert checks(d) == ["applied-in-following-year"]


# --- 第十二条 documents ------------------------------------------------------------------------------------


def test_a12_missing_receipts_incomplete_with_provisional_amount(policy: Any) -> None:
    """第十二条（三）: fee receipts (sealed copies for organisations). Missing → incomplete, provisional 4,200.00."""
    d = only(policy, item("invention_patent_grant", documents=["proof_of_right"]))
    assert_decision(d, "incomplete", "0.00", [A5_1, A12])
    assert d["provisional_amount"] == "4200.00"
    assert d["missing_documents"] == ["fee_receipts", "sealed_receipt_copies"]


def test_a12_missing_proof_of_title(policy: Any) -> None:
    """第十二条（二）: 获得相关授权专利或奖项、称号等项目的证明文件."""
    d = only(policy, item("national_ip_title", title="advantage", documents=[]))
    assert_decision(d, "incomplete", "0.00", [A7_1, A12])
    assert d["provisional_amount"] == "100000.00"
    assert d["missing_documents"] == ["proof_of_right"]


def test_a12_missing_proof_of_standing(policy: Any) -> None:
    """第十二条（一）: 主体资格证明文件 — without the business licence every item is incomplete."""
    data = claim(item("navigation_project", "n1"), item("beijing_ip_demonstration_unit", "u1"))
    data["documents"] = []
    d = by_item(decide(policy, data))
    assert_decision(d["n1"], "incomplete", "0.00", [A6_6, A12])
    assert d["n1"]["provisional_amount"] == "30000.00"
    assert d["n1"]["missing_documents"] == ["business_licence"]
    assert_decision(d["u1"], "incomplete", "0.00", [A7_2, A12])
    assert d["u1"]["provisional_amount"] == "50000.00"


def test_a12_natural_person_needs_no_seal(policy: Any) -> None:
    """第十二条（三）: only 企业、事业单位及其他组织 seal their receipt copies; an ID card proves a person's standing."""
    d = only(policy, item("invention_patent_grant", documents=["proof_of_right", "fee_receipts"]), applicant="natural_person")
    assert_decision(d, "granted", "4200.00")
    data = claim(item("invention_patent_grant", documents=["proof_of_right", "fee_receipts"]), applicant="natural_person")
    data["documents"] = []
    it = decide(policy, data)["items"][0]
    assert it["status"] == "incomplete"
    assert it["missing_documents"] == ["id_card"]


# --- 第十四条 five-year bar ----------------------------------------------------------------------------------


def test_a14_fraud_finding_bars_for_five_years(policy: Any) -> None:
    """第十四条: 取消五年内申报支持或奖励资金的资格 — a finding of 2019-06-01 bars an application of 2022-03-15."""
    d = decide(policy, claim(item("invention_patent_grant", "p1"), item("self_transformation", "s1"), fraud_finding_dates=["2019-06-01"]))
    assert d["standing"]["result"] == "refused"
    for it in d["items"]:
        assert (it["status"], it["amount"]) == ("refused", "0.00")
        assert checks(it) == ["five-year-bar"]
        assert A14 in it["cites"]


def test_a14_bar_over_after_five_years(policy: Any) -> None:
    """第十四条: a finding of 2016-06-01 no longer bars an application of 2022-03-15: fees 8,400 → 4,200.00."""
    d = only(policy, item("invention_patent_grant"), fraud_finding_dates=["2016-06-01"])
    assert_decision(d, "granted", "4200.00", [A5_1])
