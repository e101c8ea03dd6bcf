"""One or more tests per binding reading R1-R30 (shared/measures/READINGS.md).

Each test's docstring quotes the reading it checks. Expected amounts are
worked out by hand from the measures; history is written by hand in the JSON
form `Grant.to_dict()` produces.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import (
    AGENCY_ID,
    ALLIANCE_ID,
    ENTERPRISE_2_ID,
    ENTERPRISE_ID,
    INSTITUTION_ID,
    PLATFORM_ID,
    by_item,
    cap_use,
    claim,
    decide,
    history_grant,
    item,
    limit_use,
    patent_number,
)

import engine

A4_1, A4_2, A4_3 = "第四条第一款", "第四条第二款", "第四条第三款"
A5_1, A5_2, A5_3 = "第五条第（一）项", "第五条第（二）项", "第五条第（三）项"
A6_1, A6_2, A6_3 = "第六条第（一）项", "第六条第（二）项", "第六条第（三）项"
A6_4_1, A6_4_2, A6_5, A6_6 = "第六条第（四）项第一款", "第六条第（四）项第二款", "第六条第（五）项", "第六条第（六）项"
A7_1, A7_2, A7_3, A8 = "第七条第（一）项", "第七条第（二）项", "第七条第（三）项", "第八条第二款"
A9, A11, A12, A14 = "第九条", "第十一条", "第十二条", "第十四条"


# --- helpers -------------------------------------------------------------------------------------------


def only(policy: Any, it: dict[str, Any], **claim_kw: Any) -> dict[str, Any]:
    d = decide(policy, claim(it, **claim_kw))
    assert len(d["items"]) == 1
    return d["items"][0]


def checks(d: dict[str, Any]) -> list[str]:
    return [r["check"] for r in d["reasons"]]


def status(d: dict[str, Any]) -> tuple[str, str]:
    return d["status"], d["amount"]


grant = history_grant
cap = cap_use
limit = limit_use


def pledge_grant(loan: str, year: int, amount: str, claim_id: str = "H-1") -> dict[str, Any]:
    """An earlier pledge-loan subsidy: one time (loan, year) and `amount` of that year's 300,000 cap."""
    return grant(
        "pledge-loan-interest",
        amount,
        limit("pledge-three-times", [ENTERPRISE_ID], [loan, year]),
        cap("pledge-annual-cap", [ENTERPRISE_ID, year], amount),
        year=year,
        claim_id=claim_id,
        item_id=loan,
    )


def insurance_grant(year: int, amount: str) -> dict[str, Any]:
    return grant(
        "patent-insurance",
        amount,
        limit("insurance-two-years", [ENTERPRISE_ID], [year]),
        cap("insurance-annual-cap", [ENTERPRISE_ID, year], amount),
        year=year,
    )


def normalised(grants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Grants with their consumptions in a fixed order, to compare with hand-written ones."""
    return [{**g, "consumes": sorted(g["consumes"], key=repr)} for g in grants]


# --- Who may apply ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fact", ["registered_in_district", "actually_operating", "pays_tax_in_district"])
def test_r01_organisation_needs_registration_operation_and_tax(policy: Any, fact: str) -> None:
    """R1: organisations qualify only if registered in Pinggu **and** actually operating **and** paying tax there."""
    for applicant in ("enterprise", "public_institution", "other_organisation"):
        d = decide(policy, claim(item("invention_patent_grant"), applicant=applicant, **{fact: False}))
        assert d["standing"]["result"] == "refused"
        assert [r["check"] for r in d["standing"]["reasons"]] == ["standing-organisation"]
        it = d["items"][0]
        assert status(it) == ("refused", "0.00")
        assert checks(it) == ["standing-organisation"]
        assert it["cites"] == [A5_1, A4_2]


def test_r01_all_three_met(policy: Any) -> None:
    """R1: with all three, an organisation qualifies: fees 8,400 × 50% = 4,200.00."""
    for applicant in ("enterprise", "public_institution", "other_organisation"):
        assert status(only(policy, item("invention_patent_grant"), applicant=applicant)) == ("granted", "4200.00")


def test_r01_natural_person_household_registration(policy: Any) -> None:
    """R1: natural persons qualify only with a Pinggu household registration (户籍)."""
    docs = ["proof_of_right", "fee_receipts"]
    assert status(only(policy, item("invention_patent_grant", documents=docs), applicant="natural_person")) == ("granted", "4200.00")
    d = only(policy, item("invention_patent_grant", documents=docs), applicant="natural_person", household_registered_in_district=False)
    assert status(d) == ("refused", "0.00")
    assert checks(d) == ["standing-natural-person"]


def test_r01_unstated_standing_fact_is_incomplete(policy: Any) -> None:
    """R1 with N4: an organisation that does not say whether it pays tax in Pinggu is incomplete, naming the fact."""
    d = only(policy, item("invention_patent_grant"), pays_tax_in_district=...)
    assert status(d) == ("incomplete", "0.00")
    assert d["missing_facts"] == ["applicant.pays_tax_in_district"]


# R2: who may claim what. (item type, applicant) -> granted amount or None (refused "#who").
R2_MATRIX: list[tuple[str, str, str | None]] = [
    # natural persons: only 第五条 (一)(二)(三) — and the 第六条（四）第二款 referral, which names 知识产权持有人
    ("invention_patent_grant", "natural_person", "4200.00"),
    ("china_patent_award", "natural_person", "500000.00"),
    ("beijing_invention_patent_award", "natural_person", "100000.00"),
    ("pledge_loan_interest", "natural_person", None),
    ("patent_insurance", "natural_person", None),
    ("ip_securitisation", "natural_person", None),
    ("navigation_project", "natural_person", None),
    ("national_ip_title", "natural_person", None),
    ("beijing_ip_demonstration_unit", "natural_person", None),
    ("ip_management_certification", "natural_person", None),
    # 企业 only: 第六条 (一)(二)(三)(六), 第七条 (一)(三)
    ("pledge_loan_interest", "public_institution", None),
    ("patent_insurance", "other_organisation", None),
    ("ip_securitisation", "public_institution", None),
    ("navigation_project", "other_organisation", None),
    ("national_ip_title", "public_institution", None),
    ("ip_management_certification", "other_organisation", None),
    # 第七条（二） 单位: enterprises and public institutions
    ("beijing_ip_demonstration_unit", "enterprise", "50000.00"),
    ("beijing_ip_demonstration_unit", "public_institution", "50000.00"),
    ("beijing_ip_demonstration_unit", "other_organisation", None),
    # 第五条: all kinds
    ("invention_patent_grant", "public_institution", "4200.00"),
    ("china_patent_award", "other_organisation", "500000.00"),
    # roles: platforms, alliances, service agencies
    ("platform_transformation_service", "platform", "150000.00"),
    ("platform_transformation_service", "enterprise", None),
    ("platform_transformation_service", "alliance", None),
    ("alliance_operation", "alliance", "50000.00"),
    ("alliance_operation", "enterprise", None),
    ("service_agency_performance", "agency", "80000.00"),
    ("service_agency_performance", "platform", None),
]


@pytest.mark.parametrize(("item_type", "applicant", "amount"), R2_MATRIX)
def test_r02_who_may_claim_what(policy: Any, item_type: str, applicant: str, amount: str | None) -> None:
    """R2: natural persons only 第五条(一)(二)(三); 第六条(一)(二)(三)(六), 第七条(一)(三) 企业 only; 第七条(二)
    单位 = enterprises and public institutions; 第六条(四) platforms, (五) alliances, 第八条 service agencies."""
    it = item(item_type)
    if applicant == "natural_person":
        it["documents"] = [doc for doc in it["documents"] if doc != "sealed_receipt_copies"]
    d = only(policy, it, applicant=applicant)
    if amount is None:
        assert status(d) == ("refused", "0.00")
        assert checks(d) == [f"{d['rule']}#who"]
        assert d["reasons"][0]["category"] == "scope"
    else:
        assert status(d) == ("granted", amount)


def test_r03_only_patents_and_trademarks(policy: Any) -> None:
    """R3: only patents and trademarks count (第四条第一款); an item resting on any other right is outside the measures."""
    for right, expected in [
        ("patent", ("granted", "50000.00")),
        ("trademark", ("granted", "50000.00")),
        ("copyright", ("refused", "0.00")),
        ("software_copyright", ("refused", "0.00")),
        ("plant_variety", ("refused", "0.00")),
        ("other", ("refused", "0.00")),
    ]:
        d = only(policy, item("pledge_loan_interest", pledged_right=right))
        assert status(d) == expected, right
        if expected[0] == "refused":
            assert checks(d) == ["patents-and-trademarks-only"]
            assert d["cites"] == [A6_1, A4_1]


def test_r04_only_the_first_right_holder(policy: Any) -> None:
    """R4: several right holders: only the first listed may be supported (第四条第三款); any other is refused."""
    for item_type in ("invention_patent_grant", "china_patent_award", "beijing_invention_patent_award"):
        second = only(policy, item(item_type, right_holders=["某大学", "北京平谷示例科技有限公司"]))
        assert status(second) == ("refused", "0.00")
        assert checks(second) == ["first-right-holder"]
        assert A4_3 in second["cites"]
    first = only(policy, item("beijing_invention_patent_award", level="second", right_holders=["北京平谷示例科技有限公司", "某大学"]))
    assert status(first) == ("granted", "50000.00")


def test_r05_fraud_finding_refuses_every_item(policy: Any) -> None:
    """R5: an applicant found to have obtained funds by fraud may not apply for five years: every item refused."""
    d = decide(
        policy,
        claim(
            item("invention_patent_grant", "p1"),
            item("pledge_loan_interest", "l1"),
            item("national_ip_title", "t1"),
            item("self_transformation", "s1"),
            fraud_finding_dates=["2020-01-15"],
        ),
    )
    assert [status(it) for it in d["items"]] == [("refused", "0.00")] * 4
    assert all(checks(it) == ["five-year-bar"] and A14 in it["cites"] for it in d["items"])
    assert d["total"] == "0.00"
    assert d["grants"] == []


# --- When ------------------------------------------------------------------------------------------------


def test_r06_item_must_occur_in_the_funding_year(policy: Any) -> None:
    """R6: every item must have occurred in the funding year Y; an item from another year is refused under 第十一条."""
    d = by_item(
        decide(
            policy,
            claim(
                item("national_ip_title", "first-day", title="demonstration", date="2021-01-01"),
                item("national_ip_title", "last-day", title="advantage", date="2021-12-31"),
                item("ip_management_certification", "before", date="2020-12-31"),
                item("beijing_ip_demonstration_unit", "after", date="2022-01-01"),
            ),
        )
    )
    assert status(d["first-day"]) == ("granted", "200000.00")
    assert status(d["last-day"]) == ("granted", "100000.00")
    for key in ("before", "after"):
        assert status(d[key]) == ("refused", "0.00")
        assert checks(d[key]) == ["occurred-in-funding-year"]
        assert A11 in d[key]["cites"]


def test_r06_application_made_in_y_plus_1(policy: Any) -> None:
    """R6: an application for funding year Y is made in Y+1."""
    assert status(only(policy, item("national_ip_title"), submission_date="2022-12-31")) == ("granted", "200000.00")
    for day in ("2021-12-31", "2023-01-01"):
        d = only(policy, item("national_ip_title"), submission_date=day)
        assert status(d) == ("refused", "0.00")
        assert checks(d) == ["applied-in-following-year"]


@pytest.mark.parametrize("year", [2020, 2024])
def test_r07_funding_year_outside_force_is_an_error(policy: Any, year: int) -> None:
    """R7: valid 3 years; assumed funding years 2021-2023. A claim whose funding year no version covers is an
    error, not a refusal."""
    with pytest.raises(engine.ClaimError) as raised:
        decide(policy, claim(item("national_ip_title", date=f"{year}-06-01"), funding_year=year))
    assert [(p.code, p.path) for p in raised.value.problems] == [("not_in_force", ("funding_year",))]
    # the error names the clause on validity and the reading behind the window (policy.in_force cites / readings)
    said = raised.value.problems[0].message
    assert said.render("zh") == (
        f"申报年度 {year} 不在“平谷区知识产权促进办法”（版本 2020.1）的有效期内（适用于申报年度 2021-2023；第十七条；口径 R7）"
    )
    assert said.render("en") == (
        f"funding year {year} is outside Pinggu District Intellectual Property Promotion Measures, version 2020.1 (in force for funding years 2021-2023; 第十七条; reading R7)"
    )


@pytest.mark.parametrize("year", [2021, 2022, 2023])
def test_r07_funding_years_in_force(policy: Any, year: int) -> None:
    """R7: funding years 2021, 2022 and 2023 are decided."""
    d = only(policy, item("national_ip_title", title="advantage", date=f"{year}-06-01"), funding_year=year)
    assert status(d) == ("granted", "100000.00")
    assert policy.funding_years == (2021, 2023)


# --- How much --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fees", "amount"),
    [
        ("0.05", "0.03"),  # 0.025 → half-up → 0.03
        ("100.01", "50.01"),  # 50.005 → 50.01
        ("100.03", "50.02"),  # 50.015 → 50.02
        ("8400", "4200.00"),  # an integer string is an exact amount too
        ("12345.67", "6172.84"),  # 6172.835 → 6172.84
    ],
)
def test_r08_rate_rounded_half_up_to_cents(policy: Any, fees: str, amount: str) -> None:
    """R8: amounts are exact decimals; a rate applied to a cost is rounded half-up to 0.01."""
    d = only(policy, item("invention_patent_grant", official_fees_paid=fees))
    assert status(d) == ("granted", amount)


def test_r08_rounded_before_the_cap(policy: Any) -> None:
    """R8: rounded before any cap. Navigation costs 100,000.01 × 50% = 50,000.005 → 50,000.01 asked → capped 50,000.00."""
    d = only(policy, item("navigation_project", actual_costs="100000.01"))
    assert (d["status"], d["asked"], d["amount"]) == ("reduced", "50000.01", "50000.00")
    d = only(policy, item("navigation_project", actual_costs="99999.99"))  # 49,999.995 → half-up 50,000.00: not over the cap
    assert (d["status"], d["asked"], d["amount"]) == ("granted", "50000.00", "50000.00")


def test_r08_no_float_drift(policy: Any) -> None:
    """R8: never floats: ten patents with fees of 0.10 → 0.05 each; the total is exactly 0.50."""
    items = [item("invention_patent_grant", f"p{i}", patent_id=patent_number(i), official_fees_paid="0.10") for i in range(10)]
    d = decide(policy, claim(*items))
    assert [it["amount"] for it in d["items"]] == ["0.05"] * 10
    assert d["total"] == "0.50"


def test_r09_invention_patents_in_china_or_abroad(policy: Any) -> None:
    """R9: invention patents only, granted in China or abroad (PCT or other routes); 50% of the official fees; no cap."""
    for route in ("domestic", "pct", "foreign_other"):
        assert status(only(policy, item("invention_patent_grant", route=route, official_fees_paid="2000000.00"))) == (
            "granted",
            "1000000.00",
        )
    for kind, number in (("utility_model", "ZL202020000011.0"), ("design", "ZL202030000011.6")):  # (numbers of their kind)
        d = only(policy, item("invention_patent_grant", patent_kind=kind, patent_id=number))
        assert status(d) == ("refused", "0.00")
        assert checks(d) == ["invention-patent-fees#when1"]


def test_r09_once_per_patent(policy: Any) -> None:
    """R9: once per patent — keyed by patent number whoever claims (N5): a patent paid to another applicant is refused."""
    history = [
        grant(
            "invention-patent-fees",
            "4200.00",
            limit("invention-patent-once", ["ZL202010000001.1"], ["H-1", "h1"]),
            applicant_id=ENTERPRISE_2_ID,
        )
    ]
    d = by_item(
        decide(
            policy,
            claim(
                item("invention_patent_grant", "same"),
                item("invention_patent_grant", "other", patent_id="ZL202010000009.8"),
                history=history,
            ),
        )
    )
    assert status(d["same"]) == ("refused", "0.00")
    assert checks(d["same"]) == ["invention-patent-once"]
    assert status(d["other"]) == ("granted", "4200.00")


@pytest.mark.parametrize(
    ("item_type", "level", "amount"),
    [
        ("china_patent_award", "gold", "500000.00"),
        ("china_patent_award", "silver", "400000.00"),
        ("china_patent_award", "excellence", "300000.00"),
        ("beijing_invention_patent_award", "special", "200000.00"),
        ("beijing_invention_patent_award", "first", "100000.00"),
        ("beijing_invention_patent_award", "second", "50000.00"),
        ("beijing_invention_patent_award", "third", "30000.00"),
    ],
)
def test_r10_award_amounts(policy: Any, item_type: str, level: str, amount: str) -> None:
    """R10: China Patent Award gold 500,000, silver 400,000, excellence 300,000; Beijing special 200,000,
    first 100,000, second 50,000, third 30,000 per patent."""
    assert status(only(policy, item(item_type, level=level))) == ("granted", amount)


def test_r10_schemes_independent(policy: Any) -> None:
    """R10: the two schemes are independent: one patent wins both → 400,000 + 200,000 = 600,000.00."""
    pid = "ZL201810000002.9"
    d = decide(
        policy,
        claim(
            item("china_patent_award", "cn", patent_id=pid, level="silver"),
            item("beijing_invention_patent_award", "bj", patent_id=pid, level="special"),
        ),
    )
    assert [status(it) for it in d["items"]] == [("granted", "400000.00"), ("granted", "200000.00")]
    assert d["total"] == "600000.00"


def test_r11_three_times_ever(policy: Any) -> None:
    """R11: at most 3 times ever. Two earlier loan-years (2021) → the 2022 claim's first loan is the third time,
    granted 50,000.00; a second loan that year would be a fourth time: refused."""
    history = [pledge_grant("A", 2021, "20000.00"), pledge_grant("B", 2021, "20000.00")]
    d = by_item(
        decide(
            policy,
            claim(
                item("pledge_loan_interest", "l1", loan_id="C", date="2022-05-01"),
                item("pledge_loan_interest", "l2", loan_id="D", date="2022-06-01"),
                funding_year=2022,
                history=history,
            ),
        )
    )
    assert status(d["l1"]) == ("granted", "50000.00")
    assert status(d["l2"]) == ("refused", "0.00")
    assert checks(d["l2"]) == ["pledge-three-times"]


def test_r11_annual_cap_per_funding_year(policy: Any) -> None:
    """R11: at most 300,000 per enterprise per funding year: 2021 used 300,000; 2022 starts afresh:
    interest 700,000 × 50% = 350,000 → reduced 300,000.00."""
    history = [pledge_grant("A", 2021, "300000.00")]
    d = only(
        policy,
        item("pledge_loan_interest", loan_id="B", annual_interest_paid="700000.00", date="2022-05-01"),
        funding_year=2022,
        history=history,
    )
    assert (d["status"], d["asked"], d["amount"]) == ("reduced", "350000.00", "300000.00")


def test_r12_insurance_two_distinct_years(policy: Any) -> None:
    """R12: 50% of premiums; at most 100,000 per year across policies; at most 2 distinct funding years ever.
    Supported in 2021 → in 2022 two policies (one year): 60,000 × 50% = 30,000 and 40,000 × 50% = 20,000;
    in 2023 (a third year) refused."""
    h2021 = [insurance_grant(2021, "10000.00")]
    d = decide(
        policy,
        claim(
            item("patent_insurance", "i1", premium_paid="60000.00", date="2022-02-01"),
            item("patent_insurance", "i2", insurance_policy_id="INS-2", premium_paid="40000.00", date="2022-03-01"),
            funding_year=2022,
            history=h2021,
        ),
    )
    assert [status(it) for it in d["items"]] == [("granted", "30000.00"), ("granted", "20000.00")]
    d23 = only(policy, item("patent_insurance", date="2023-02-01"), funding_year=2023, history=h2021 + d["grants"], claim_id="C-2023")
    assert status(d23) == ("refused", "0.00")
    assert checks(d23) == ["insurance-two-years"]


def test_r13_securitisation_total_across_years(policy: Any) -> None:
    """R13: 50% of financing costs; at most 500,000 in total across years: 2021 paid 300,000; 2023 costs
    600,000 ask 300,000, 200,000 remain → reduced 200,000.00."""
    history = [grant("ip-securitisation", "300000.00", cap("securitisation-total-cap", [ENTERPRISE_ID], "300000.00"))]
    d = only(policy, item("ip_securitisation", financing_costs="600000.00", date="2023-01-20"), funding_year=2023, history=history)
    assert (d["status"], d["asked"], d["amount"]) == ("reduced", "300000.00", "200000.00")


def test_r14_platform_total_across_years(policy: Any) -> None:
    """R14: 50% of the service fee; at most 1,000,000 per platform across years: 2021 fee 1,200,000 → 600,000;
    2022 fee 1,000,000 → asks 500,000, 400,000 remain → reduced 400,000.00."""
    d21 = decide(policy, claim(item("platform_transformation_service", technology_service_fee="1200000.00"), applicant="platform"))
    assert status(d21["items"][0]) == ("granted", "600000.00")
    hand = [
        grant(
            "platform-transformation-service",
            "600000.00",
            cap("platform-total-cap", [PLATFORM_ID], "600000.00"),
            applicant_id=PLATFORM_ID,
            claim_id="C-1",
            item_id="platform_transformation_service",
        )
    ]
    assert normalised(d21["grants"]) == normalised(hand)
    d22 = only(
        policy,
        item("platform_transformation_service", transformation_id="TR-2", technology_service_fee="1000000.00", date="2022-08-01"),
        applicant="platform",
        funding_year=2022,
        history=hand,
        claim_id="C-2022",  # (another application: a claim's own grants are not its history)
    )
    assert (d22["status"], d22["asked"], d22["amount"]) == ("reduced", "500000.00", "400000.00")


def test_r14_second_paragraph_referred(policy: Any) -> None:
    """R14: 第六条(四) second paragraph is not computed: "referred" to the district S&T and Industry-Information
    Bureau's policy, amount 0, citing that paragraph."""
    d = only(policy, item("self_transformation"))
    assert status(d) == ("referred", "0.00")
    assert d["cites"] == [A6_4_2]
    assert d["referred_to"]["zh"] == "区科学技术和工业信息化局相关政策"


def test_r15_alliance_costs_from_founding_day(policy: Any) -> None:
    """R15: costs from the founding day on count: a cost period starting on the founding day is paid
    (80,000 × 50% = 40,000.00); one starting the day before is refused."""
    on = only(
        policy,
        item("alliance_operation", founding_date="2021-03-01", costs_from="2021-03-01", actual_costs="80000.00"),
        applicant="alliance",
    )
    assert status(on) == ("granted", "40000.00")
    before = only(policy, item("alliance_operation", founding_date="2021-03-01", costs_from="2021-02-28"), applicant="alliance")
    assert status(before) == ("refused", "0.00")
    assert checks(before) == ["alliance-operation#when1"]


def test_r15_alliance_total_per_alliance(policy: Any) -> None:
    """R15: at most 200,000 per alliance in total, across years: ALLY-1 got 150,000 in 2021; 2022 costs 200,000
    ask 100,000 → reduced 50,000.00; ALLY-2 is a different alliance → 100,000.00."""
    history = [grant("alliance-operation", "150000.00", cap("alliance-total-cap", ["ALLY-1"], "150000.00"), applicant_id=ALLIANCE_ID)]
    d = by_item(
        decide(
            policy,
            claim(
                item("alliance_operation", "a1", actual_costs="200000.00", costs_from="2022-01-01", date="2022-09-01"),
                item(
                    "alliance_operation", "a2", alliance_id="ALLY-2", actual_costs="200000.00", costs_from="2022-01-01", date="2022-09-01"
                ),
                applicant="alliance",
                funding_year=2022,
                history=history,
            ),
        )
    )
    assert status(d["a1"]) == ("reduced", "50000.00")
    assert status(d["a2"]) == ("granted", "100000.00")


def test_r16_navigation_per_project_total(policy: Any) -> None:
    """R16: 50% of project cost; at most 50,000 per project in total (across years): NAV-1 got 45,000 in 2021;
    2022 costs 20,000 ask 10,000 → reduced 5,000.00."""
    history = [grant("navigation-project", "45000.00", cap("project-cap", [ENTERPRISE_ID, "NAV-1"], "45000.00"))]  # (its own project, N10)
    d = only(policy, item("navigation_project", actual_costs="20000.00", date="2022-04-01"), funding_year=2022, history=history)
    assert (d["status"], d["asked"], d["amount"]) == ("reduced", "10000.00", "5000.00")


@pytest.mark.parametrize("kind", ["early_warning", "strategy"])
def test_r16_early_warning_and_strategy_projects(policy: Any, kind: str) -> None:
    """R16: patent navigation, early-warning or strategy projects: costs 60,000 → 30,000.00."""
    assert status(only(policy, item("navigation_project", project_kind=kind))) == ("granted", "30000.00")


def test_r17_titles_once_per_applicant(policy: Any) -> None:
    """R17: each title paid once per applicant, ever; different titles separately. The enterprise was paid the
    demonstration title in 2021: in 2022 it is refused that title, but the advantage title (100,000), the Beijing
    unit (50,000) and the certification (50,000) are paid = 200,000.00."""
    history = [grant("national-ip-title", "200000.00", limit("national-title-once", [ENTERPRISE_ID, "demonstration"], ["H-1", "h1"]))]
    d = decide(
        policy,
        claim(
            item("national_ip_title", "demo", title="demonstration", date="2022-05-01"),
            item("national_ip_title", "adv", title="advantage", date="2022-05-01"),
            item("beijing_ip_demonstration_unit", "bj", date="2022-05-01"),
            item("ip_management_certification", "cert", date="2022-05-01"),
            funding_year=2022,
            history=history,
        ),
    )
    out = by_item(d)
    assert status(out["demo"]) == ("refused", "0.00")
    assert checks(out["demo"]) == ["national-title-once"]
    assert [status(out[k]) for k in ("adv", "bj", "cert")] == [("granted", "100000.00"), ("granted", "50000.00"), ("granted", "50000.00")]
    assert d["total"] == "200000.00"


def test_r17_another_applicant_unaffected(policy: Any) -> None:
    """R17: once per applicant: another enterprise's title does not stop this one."""
    history = [
        grant(
            "ip-management-certification",
            "50000.00",
            limit("certification-once", [ENTERPRISE_2_ID], ["H-1", "h1"]),
            applicant_id=ENTERPRISE_2_ID,
        )
    ]
    assert status(only(policy, item("ip_management_certification"), history=history)) == ("granted", "50000.00")


def test_r18_panel_amount_capped(policy: Any) -> None:
    """R18: the engine takes the panel's recommended amount and caps it at 100,000."""
    for panel, expected in [
        ("100000.00", ("granted", "100000.00")),
        ("100000.01", ("reduced", "100000.00")),
        ("35000.50", ("granted", "35000.50")),
    ]:
        assert status(only(policy, item("service_agency_performance", panel_amount=panel), applicant="agency")) == expected


def test_r18_pending_review_without_panel_amount(policy: Any) -> None:
    """R18: without a panel amount the decision is "pending review" showing the 100,000 ceiling; it consumes nothing."""
    d = decide(
        policy,
        claim(
            item("service_agency_performance", "s1", panel_amount=...),
            item("service_agency_performance", "s2", panel_amount="100000.00"),
            applicant="agency",
        ),
    )
    out = by_item(d)
    assert status(out["s1"]) == ("pending_review", "0.00")
    assert out["s1"]["ceilings"][0]["ceiling"] == "100000.00"
    assert out["s1"]["cites"] == [A8]
    assert status(out["s2"]) == ("granted", "100000.00")


def _agency_claim(*items: dict[str, Any], history: Any = None) -> dict[str, Any]:
    return claim(*items, applicant="agency", funding_year=2022, history=history)


def _agency_item(item_id: str, panel: Any) -> dict[str, Any]:
    return item("service_agency_performance", item_id, date="2022-12-01", panel_amount=panel)


def _ceiling_line(policy: Any, decision: Any, lang: str) -> str:
    """The pending block's ceiling line of an explanation (live decision or its JSON record)."""
    start = "评审推荐金额不得超过" if lang == "zh" else "The panel's amount may not exceed"
    [line] = [ln.strip() for ln in engine.explain(policy, decision, lang=lang).splitlines() if ln.strip().startswith(start)]
    return line


def test_r18_pending_ceiling_after_an_earlier_item_of_the_same_application(policy: Any) -> None:
    """R18 with N1 (10万 per agency per funding year in total): s1's panel gives 60,000, granted in full; s2 has no panel
    amount, so it is pending, and the panel may give it at most 100,000 - 60,000 = 40,000. The ceiling 100,000 is
    still shown (R18), with the 60,000 used (all by s1, none by history) and the 40,000 left; the explanation of the
    decision and of its JSON record say the same."""
    c = _agency_claim(_agency_item("s1", "60000.00"), _agency_item("s2", ...))
    live = engine.evaluate(policy, c)
    out = by_item(live.to_dict())
    assert status(out["s1"]) == ("granted", "60000.00")
    assert status(out["s2"]) == ("pending_review", "0.00")
    [ceiling] = out["s2"]["ceilings"]
    assert {k: ceiling[k] for k in ("cap", "ceiling", "used_before", "used_in_application", "used_by_history", "remaining")} == {
        "cap": "agency-cap",
        "ceiling": "100000.00",
        "used_before": "60000.00",
        "used_in_application": "60000.00",
        "used_by_history": "0.00",
        "remaining": "40000.00",
    }
    assert json.loads(live.to_json())["items"][1]["ceilings"] == [ceiling]  # the JSON writer says the same
    zh = "评审推荐金额不得超过 100,000.00 元（第八条第二款：支持金额最高不超过10万元）；此前已用 60,000.00 元（此前申请 0.00 元，本申请前序事项 60,000.00 元），剩余 40,000.00 元"
    en = (
        "The panel's amount may not exceed CNY 100,000.00 (第八条第二款: at most CNY 100,000); used before CNY 60,000.00"
        " (earlier applications CNY 0.00, earlier items of this application CNY 60,000.00), left CNY 40,000.00"
    )
    record = json.loads(live.to_json())
    for decision in (live, record):
        assert _ceiling_line(policy, decision, "zh") == zh
        assert _ceiling_line(policy, decision, "en") == en


def test_r18_pending_ceiling_after_history(policy: Any) -> None:
    """R18 with N1: 80,000 was granted to the agency for 2022 by an earlier application; a pending item of a new 2022
    application may get at most 100,000 - 80,000 = 20,000 (all of the use is history's). Another year's use does not
    count: 80,000 granted for 2021 leaves 2022's whole 100,000."""
    earlier = grant(
        "service-agency-performance", "80000.00", cap("agency-cap", [AGENCY_ID, 2022], "80000.00"), year=2022, applicant_id=AGENCY_ID
    )
    d = decide(policy, _agency_claim(_agency_item("s9", ...), history=[earlier]))
    [ceiling] = d["items"][0]["ceilings"]
    assert (ceiling["used_before"], ceiling["used_by_history"], ceiling["used_in_application"], ceiling["remaining"]) == (
        "80000.00",
        "80000.00",
        "0.00",
        "20000.00",
    )
    assert _ceiling_line(policy, engine.evaluate(policy, _agency_claim(_agency_item("s9", ...), history=[earlier])), "zh") == (
        "评审推荐金额不得超过 100,000.00 元（第八条第二款：支持金额最高不超过10万元）；此前已用 80,000.00 元（此前申请 80,000.00 元，本申请前序事项 0.00 元），剩余 20,000.00 元"
    )
    other_year = grant(
        "service-agency-performance", "80000.00", cap("agency-cap", [AGENCY_ID, 2021], "80000.00"), year=2021, applicant_id=AGENCY_ID
    )
    [ceiling] = decide(policy, _agency_claim(_agency_item("s9", ...), history=[other_year]))["items"][0]["ceilings"]
    assert (ceiling["used_before"], ceiling["remaining"]) == ("0.00", "100000.00")


def test_r21_pending_item_refused_when_its_cap_is_exhausted(policy: Any) -> None:
    """R21 (an item a cap cuts to 0 is refused, "cap exhausted") and R25 (the refusal wins over a provisional
    amount): s1's panel gives the whole 100,000 of the agency's year; s2 has no panel amount, but whatever the panel
    gives would be cut to nothing, so it is refused as cap exhausted, not left pending with "at most 0.00". So too
    after 100,000 of history (60,000 + 40,000 by two earlier applications)."""
    out = by_item(decide(policy, _agency_claim(_agency_item("s1", "100000.00"), _agency_item("s2", ...))))
    assert status(out["s1"]) == ("granted", "100000.00")
    assert status(out["s2"]) == ("refused", "0.00")
    assert checks(out["s2"]) == ["agency-cap"] and out["s2"]["reasons"][0]["category"] == "cap"
    assert "panel_decides" not in out["s2"]  # (refused: no panel decides it)
    d = decide(policy, _agency_claim(_agency_item("s9", ...), history=_AGENCY_HISTORY_FULL))
    assert status(d["items"][0]) == ("refused", "0.00") and checks(d["items"][0]) == ["agency-cap"]
    assert d["grants"] == []


#: 100,000 of the agency's 2022 cap granted by two earlier applications: 60,000 + 40,000
_AGENCY_HISTORY_FULL = [
    grant("service-agency-performance", a, cap("agency-cap", [AGENCY_ID, 2022], a), year=2022, applicant_id=AGENCY_ID, claim_id=k)
    for a, k in (("60000.00", "H-1"), ("40000.00", "H-2"))
]


def _cap_lines(policy: Any, decision: Any, lang: str) -> list[str]:
    """The cap lines of an explanation (live decision or its JSON record): those that state a ceiling's room."""
    start = "支持金额最高不超过10万元：上限" if lang == "zh" else "at most CNY 100,000: ceiling"
    return [ln.strip() for ln in engine.explain(policy, decision, lang=lang).splitlines() if ln.strip().startswith(start)]


@pytest.mark.parametrize(
    ("items", "history", "used", "split_zh", "split_en"),
    [
        # s1's panel gives the whole 100,000 (granted in full); s2 then finds nothing left: all used by s1, in this application
        (
            (("s1", "100000.00"), ("s2", ...)),
            None,
            ("100000.00", "100000.00", "0.00"),
            "此前申请 0.00 元，本申请前序事项 100,000.00 元",
            "earlier applications CNY 0.00, earlier items of this application CNY 100,000.00",
        ),
        # two earlier applications were granted 60,000 + 40,000 = 100,000 for 2022: all used by history
        (
            (("s9", ...),),
            _AGENCY_HISTORY_FULL,
            ("100000.00", "0.00", "100000.00"),
            "此前申请 100,000.00 元，本申请前序事项 0.00 元",
            "earlier applications CNY 100,000.00, earlier items of this application CNY 0.00",
        ),
    ],
)
def test_r21_pending_item_refused_shows_where_its_cap_went(
    policy: Any, items: Any, history: Any, used: tuple[str, str, str], split_zh: str, split_en: str
) -> None:
    """R21 / R18 with N1: a pending item refused because its cap has no room left says where the room went, as any
    cap-exhausted refusal does: the decision keeps the cap's ceiling 100,000.00, the 100,000.00 used before the item
    (split into this application's earlier items and earlier applications) and the 0.00 left; its explanation's cap
    line (封顶) states them in a cap line's words -- without an amount of the item, the panel gave none -- and the
    explanation of its JSON record says the same."""
    live = engine.evaluate(policy, _agency_claim(*(_agency_item(i, a) for i, a in items), history=history))
    record = json.loads(live.to_json())
    refused = record["items"][-1]
    assert status(refused) == ("refused", "0.00") and checks(refused) == ["agency-cap"]
    [ceiling] = refused["ceilings"]
    assert {k: ceiling[k] for k in ("cap", "ceiling", "used_before", "used_in_application", "used_by_history", "remaining")} == {
        "cap": "agency-cap",
        "ceiling": "100000.00",
        "used_before": used[0],
        "used_in_application": used[1],
        "used_by_history": used[2],
        "remaining": "0.00",
    }
    assert by_item(live.to_dict())[refused["item"]]["ceilings"] == [ceiling]  # the dict says what the JSON writer does
    zh = f"支持金额最高不超过10万元：上限 100,000.00 元，此前已用 100,000.00 元（{split_zh}），剩余 0.00 元"
    en = f"at most CNY 100,000: ceiling CNY 100,000.00, used before CNY 100,000.00 ({split_en}), left CNY 0.00"
    for decision in (live, record):  # (s1's cap line first, when s1 is in the claim)
        assert _cap_lines(policy, decision, "zh")[len(items) - 1 :] == [zh]
        assert _cap_lines(policy, decision, "en")[len(items) - 1 :] == [en]
        assert "为何不是更多：依第八条第二款的封顶，额度已无剩余，本项无可支持。" in engine.explain(policy, decision, lang="zh")


def test_r19_double_benefit_refused(policy: Any) -> None:
    """R19: an item already supported under another district policy is refused (第九条)."""
    for item_type in ("invention_patent_grant", "pledge_loan_interest", "national_ip_title"):
        d = only(policy, item(item_type, supported_by_other_district_policy=True))
        assert status(d) == ("refused", "0.00")
        assert checks(d) == ["no-double-benefit"]
        assert A9 in d["cites"]


# --- Order, caps and limits -----------------------------------------------------------------------------


def test_r20_order_within_an_application(policy: Any) -> None:
    """R20: items are decided in the order given. l1 interest 500,000 (→250,000), l2 200,000 (→100,000):
    l1 first → 250,000 + reduced 50,000; l2 first → 100,000 + reduced 200,000. Same total 300,000."""
    l1 = item("pledge_loan_interest", "l1", loan_id="L1", annual_interest_paid="500000.00")
    l2 = item("pledge_loan_interest", "l2", loan_id="L2", annual_interest_paid="200000.00")
    a = by_item(decide(policy, claim(l1, l2)))
    assert status(a["l1"]) == ("granted", "250000.00")
    assert status(a["l2"]) == ("reduced", "50000.00")
    b = by_item(decide(policy, claim(l2, l1)))
    assert status(b["l2"]) == ("granted", "100000.00")
    assert status(b["l1"]) == ("reduced", "200000.00")


def test_r20_history_consumes_first(policy: Any) -> None:
    """R20: history consumes the caps first: 120,000 already paid for 2021 by an earlier application → l1 asks
    250,000, 180,000 remain → reduced 180,000.00; l2 then refused (cap exhausted)."""
    history = [pledge_grant("L0", 2021, "120000.00")]
    d = by_item(
        decide(
            policy,
            claim(
                item("pledge_loan_interest", "l1", loan_id="L1", annual_interest_paid="500000.00"),
                item("pledge_loan_interest", "l2", loan_id="L2", annual_interest_paid="200000.00"),
                history=history,
            ),
        )
    )
    assert status(d["l1"]) == ("reduced", "180000.00")
    assert status(d["l2"]) == ("refused", "0.00")
    assert checks(d["l2"]) == ["pledge-annual-cap"]


def test_r20_history_as_argument_or_in_claim_is_the_same(policy: Any) -> None:
    """R20: a decision's "grants" fed back as history have the same effect as the hand-written records."""
    first = decide(policy, claim(item("pledge_loan_interest", "l1", loan_id="L1", annual_interest_paid="500000.00"), claim_id="C-A"))
    hand = [pledge_grant("L1", 2021, "250000.00", claim_id="C-A")]
    hand[0]["item_id"] = "l1"
    assert normalised(first["grants"]) == normalised(hand)
    follow = item("pledge_loan_interest", "l2", loan_id="L2", annual_interest_paid="200000.00")
    via_grants = only(policy, follow, history=first["grants"], claim_id="C-B")
    via_hand = only(policy, follow, history=hand, claim_id="C-B")
    assert status(via_grants) == status(via_hand) == ("reduced", "50000.00")
    parsed = engine.evaluate(
        policy,
        claim(follow, claim_id="C-B"),
        engine.evaluate(
            policy, claim(item("pledge_loan_interest", "l1", loan_id="L1", annual_interest_paid="500000.00"), claim_id="C-A")
        ).grants,
    ).to_dict()
    assert status(parsed["items"][0]) == ("reduced", "50000.00")


def test_r21_cut_to_zero_is_refused_and_not_counted(policy: Any) -> None:
    """R21: an item cut to 0 by a cap is refused ("cap exhausted") and does not count as a time.
    One earlier time (A, 2021). 2022: l1 interest 600,000 → 300,000 (time 2); l2 cut to 0 → refused, no time.
    2023: loan B is then the third time → granted 50,000.00 (had l2 counted, it would be a fourth)."""
    history = [pledge_grant("A", 2021, "10000.00")]
    d22 = decide(
        policy,
        claim(
            item("pledge_loan_interest", "l1", loan_id="L1", annual_interest_paid="600000.00", date="2022-04-01"),
            item("pledge_loan_interest", "l2", loan_id="L2", annual_interest_paid="100000.00", date="2022-05-01"),
            funding_year=2022,
            history=history,
            claim_id="C-2022",
        ),
    )
    out = by_item(d22)
    assert status(out["l1"]) == ("granted", "300000.00")
    assert status(out["l2"]) == ("refused", "0.00")
    assert checks(out["l2"]) == ["pledge-annual-cap"]
    assert out["l2"]["reasons"][0]["category"] == "cap"
    assert [g["item_id"] for g in d22["grants"]] == ["l1"]
    d23 = by_item(
        decide(
            policy,
            claim(
                item("pledge_loan_interest", "b", loan_id="L2", date="2023-03-01"),
                item("pledge_loan_interest", "c", loan_id="L3", date="2023-03-01"),
                funding_year=2023,
                history=history + d22["grants"],
            ),
        )
    )
    assert status(d23["b"]) == ("granted", "50000.00")
    assert status(d23["c"]) == ("refused", "0.00")
    assert checks(d23["c"]) == ["pledge-three-times"]


def test_r21_reduced_but_not_zero_does_count(policy: Any) -> None:
    """R21 (contrast): only a cut to 0 is free; a partly reduced item is a grant and counts as a time.
    History: loan A for 2022 (250,000 of the 2022 cap, time 1) and loan B for 2021 (time 2). 2022: loan C asks
    200,000 × 50% = 100,000, 50,000 left → reduced 50,000.00, time 3; loan D is then over both the limit and the cap."""
    history = [pledge_grant("A", 2022, "250000.00"), pledge_grant("B", 2021, "10000.00")]
    d = by_item(
        decide(
            policy,
            claim(
                item("pledge_loan_interest", "c", loan_id="C", annual_interest_paid="200000.00", date="2022-05-01"),
                item("pledge_loan_interest", "d", loan_id="D", date="2022-06-01"),
                funding_year=2022,
                history=history,
            ),
        )
    )
    assert status(d["c"]) == ("reduced", "50000.00")
    assert status(d["d"]) == ("refused", "0.00")
    assert checks(d["d"]) == ["pledge-three-times", "pledge-annual-cap"]


def test_r22_reduced_item_explains_the_cap(policy: Any) -> None:
    """R22: a reduced item says which cap, its ceiling, what was already used, and the amount before and after."""
    d = by_item(
        decide(
            policy,
            claim(
                item("pledge_loan_interest", "l1", loan_id="L1", annual_interest_paid="500000.00"),
                item("pledge_loan_interest", "l2", loan_id="L2", annual_interest_paid="200000.00"),
            ),
        )
    )
    caps = [s for s in d["l2"]["steps"] if s["step"] == "cap"]
    assert len(caps) == 1
    step = caps[0]
    assert step["cap"] == "pledge-annual-cap"
    assert step["cites"] == A6_1
    assert step["scope"] == [ENTERPRISE_ID, 2021]
    assert (step["ceiling"], step["used_before"], step["asked"], step["granted"]) == ("300000.00", "250000.00", "100000.00", "50000.00")
    assert step["bites"] is True
    assert (d["l2"]["asked"], d["l2"]["amount"]) == ("100000.00", "50000.00")


# --- Documents -------------------------------------------------------------------------------------------


def test_r23_missing_documents_incomplete(policy: Any) -> None:
    """R23: an item missing any required document is "incomplete": the explanation lists what is missing and the
    provisional amount; it consumes no cap or limit. Insurance 20,000 × 50% = 10,000 provisional."""
    d = only(policy, item("patent_insurance", documents=["fee_receipts"]))
    assert status(d) == ("incomplete", "0.00")
    assert d["provisional_amount"] == "10000.00"
    assert d["missing_documents"] == ["proof_of_right", "sealed_receipt_copies"]
    assert d["cites"] == [A6_2, A12]


def test_r23_what_each_item_needs(policy: Any) -> None:
    """R23: grants/awards/titles need proof of the right or title; cost shares need fee receipts; an organisation's
    receipt copies carry its seal; a natural person's do not need to."""
    required = {
        "china_patent_award": ["proof_of_right"],
        "national_ip_title": ["proof_of_right"],
        "ip_securitisation": ["fee_receipts", "sealed_receipt_copies"],
        "pledge_loan_interest": ["proof_of_right", "fee_receipts", "sealed_receipt_copies"],
    }
    for item_type, docs in required.items():
        d = only(policy, item(item_type, documents=[]))
        assert d["status"] == "incomplete"
        assert d["missing_documents"] == docs, item_type
    person = only(policy, item("invention_patent_grant", documents=[]), applicant="natural_person")
    assert person["missing_documents"] == ["proof_of_right", "fee_receipts"]


def test_r23_proof_of_standing(policy: Any) -> None:
    """R23: every application needs proof of standing — licence, institution certificate, organisation certificate, ID card."""
    for applicant, doc in [
        ("enterprise", "business_licence"),
        ("public_institution", "institution_certificate"),
        ("other_organisation", "organisation_certificate"),
        ("natural_person", "id_card"),
    ]:
        data = claim(item("china_patent_award"), applicant=applicant)
        data["documents"] = []
        d = decide(policy, data)["items"][0]
        assert (d["status"], d["provisional_amount"], d["missing_documents"]) == ("incomplete", "500000.00", [doc])


def test_r23_incomplete_consumes_nothing(policy: Any) -> None:
    """R23: an incomplete item consumes no cap or limit: the same patent, first incomplete then complete → the complete
    one is paid 4,200.00, and the decision records a single grant."""
    d = decide(policy, claim(item("invention_patent_grant", "p1", documents=["proof_of_right"]), item("invention_patent_grant", "p2")))
    out = by_item(d)
    assert out["p1"]["status"] == "incomplete"
    assert status(out["p2"]) == ("granted", "4200.00")
    assert [g["item_id"] for g in d["grants"]] == ["p2"]


# --- Edges -----------------------------------------------------------------------------------------------


def test_r24_fifth_anniversary_still_barred(policy: Any) -> None:
    """R24: the bar runs to the same date five years later, inclusive: found 2017-03-15 → barred on 2022-03-15,
    free on 2022-03-16 (award 500,000.00)."""
    barred = only(policy, item("china_patent_award"), fraud_finding_dates=["2017-03-15"], submission_date="2022-03-15")
    assert status(barred) == ("refused", "0.00")
    assert checks(barred) == ["five-year-bar"]
    free = only(policy, item("china_patent_award"), fraud_finding_dates=["2017-03-15"], submission_date="2022-03-16")
    assert status(free) == ("granted", "500000.00")


def test_r24_leap_day_finding_ends_on_28_february(policy: Any) -> None:
    """R24: a finding on 29 Feb 2016 ends on 28 Feb 2021 inclusive. (Submissions in 2021 belong to funding year
    2020, outside force (R7), so the claim says 2021 and is also refused as not made in Y+1; we look at whether
    the five-year bar is among the grounds, R26.)"""
    on = only(policy, item("china_patent_award"), fraud_finding_dates=["2016-02-29"], submission_date="2021-02-28")
    assert checks(on) == ["five-year-bar", "applied-in-following-year"]
    after = only(policy, item("china_patent_award"), fraud_finding_dates=["2016-02-29"], submission_date="2021-03-01")
    assert checks(after) == ["applied-in-following-year"]


def test_r24_leap_day_finding_in_force_years(policy: Any) -> None:
    """R24 within the years in force: found 29 Feb 2020 → the bar covers every submission through 2022 and 2024."""
    for year, submitted in [(2021, "2022-12-31"), (2023, "2024-12-31")]:
        d = only(
            policy,
            item("china_patent_award", date=f"{year}-06-01"),
            funding_year=year,
            fraud_finding_dates=["2020-02-29"],
            submission_date=submitted,
        )
        assert checks(d) == ["five-year-bar"]


def test_r25_provisional_amount_after_caps(policy: Any) -> None:
    """R25: an incomplete item's provisional amount is computed after the caps as they stand at its turn, consuming
    nothing. 250,000 used (history); l1 asks 100,000, missing receipts → incomplete, provisional 50,000.00;
    l2 (complete) then still gets the whole 50,000 left: asks 75,000 → reduced 50,000.00."""
    history = [pledge_grant("L0", 2021, "250000.00")]
    d = by_item(
        decide(
            policy,
            claim(
                item("pledge_loan_interest", "l1", loan_id="L1", annual_interest_paid="200000.00", documents=["proof_of_right"]),
                item("pledge_loan_interest", "l2", loan_id="L2", annual_interest_paid="150000.00"),
                history=history,
            ),
        )
    )
    assert status(d["l1"]) == ("incomplete", "0.00")
    assert d["l1"]["provisional_amount"] == "50000.00"
    assert d["l1"]["missing_documents"] == ["fee_receipts", "sealed_receipt_copies"]
    assert status(d["l2"]) == ("reduced", "50000.00")


def test_r25_incomplete_consumes_no_limit(policy: Any) -> None:
    """R25: two times used; an incomplete loan does not take the third time: the next complete loan gets it."""
    history = [pledge_grant("A", 2021, "1000.00"), pledge_grant("B", 2021, "1000.00")]
    d = by_item(
        decide(
            policy,
            claim(
                item("pledge_loan_interest", "l1", loan_id="C", documents=[]),
                item("pledge_loan_interest", "l2", loan_id="D"),
                history=history,
            ),
        )
    )
    assert d["l1"]["status"] == "incomplete"
    assert d["l1"]["provisional_amount"] == "50000.00"
    assert status(d["l2"]) == ("granted", "50000.00")


def test_r25_refusal_wins_when_cap_leaves_nothing(policy: Any) -> None:
    """R25: if a cap already leaves an incomplete item nothing, it is refused: the refusal wins."""
    history = [pledge_grant("L0", 2021, "300000.00")]
    d = only(policy, item("pledge_loan_interest", documents=[]), history=history)
    assert status(d) == ("refused", "0.00")
    assert checks(d) == ["pledge-annual-cap"]
    assert "provisional_amount" not in d


def test_r26_all_grounds_cited_in_order(policy: Any) -> None:
    """R26: an item refused on several grounds cites all of them; its main reason is the first in the order
    standing, scope, time, double benefit, the item's own conditions."""
    it = item(
        "pledge_loan_interest",
        pledged_right="copyright",
        date="2020-11-01",
        supported_by_other_district_policy=True,
        lender_is_bank=False,
        documents=[],
    )
    d = only(policy, it, pays_tax_in_district=False)
    assert status(d) == ("refused", "0.00")
    assert checks(d) == [
        "standing-organisation",
        "patents-and-trademarks-only",
        "occurred-in-funding-year",
        "no-double-benefit",
        "pledge-loan-interest#when1",
    ]
    assert [r["category"] for r in d["reasons"]] == ["standing", "scope", "time", "double_benefit", "condition"]
    # documents come last in R26's order: the missing ones are listed and 第十二条 is cited after the other grounds
    assert d["missing_documents"] == ["proof_of_right", "fee_receipts", "sealed_receipt_copies"]
    assert d["cites"] == [A6_1, A4_2, A4_1, A11, A9, A12]


def test_r26_limit_before_cap_and_scope_before_limit(policy: Any) -> None:
    """R26: a public institution claiming a fourth loan-time after the cap is used: scope first, then limit, then cap."""
    history = [pledge_grant(x, 2021, "100000.00") for x in ("A", "B", "C")]
    for g in history:
        g["applicant_id"] = INSTITUTION_ID
        for c in g["consumes"]:
            c["scope"][0] = INSTITUTION_ID
    d = only(policy, item("pledge_loan_interest", loan_id="D"), applicant="public_institution", history=history)
    assert checks(d) == ["pledge-loan-interest#who", "pledge-three-times", "pledge-annual-cap"]
    assert [r["category"] for r in d["reasons"]] == ["scope", "limit", "cap"]


def test_r27_award_once_per_patent_whatever_the_level(policy: Any) -> None:
    """R27: each scheme pays once per patent whatever the level: a Beijing third prize (30,000) paid in 2021 →
    a first prize for the same patent in 2022 is refused (no 补差); the China award for it is still paid."""
    pid = "ZL201810000003.3"
    history = [grant("beijing-invention-patent-award", "30000.00", limit("beijing-patent-award-once-per-patent", [pid], ["H-1", "h1"]))]
    d = by_item(
        decide(
            policy,
            claim(
                item("beijing_invention_patent_award", "bj", patent_id=pid, level="first", date="2022-05-01"),
                item("china_patent_award", "cn", patent_id=pid, level="excellence", date="2022-05-01"),
                funding_year=2022,
                history=history,
            ),
        )
    )
    assert status(d["bj"]) == ("refused", "0.00")
    assert checks(d["bj"]) == ["beijing-patent-award-once-per-patent"]
    assert status(d["cn"]) == ("granted", "300000.00")


def test_r27_same_claim_higher_level_later(policy: Any) -> None:
    """R27: two China awards for one patent in one claim: the first is paid (excellence 300,000), the second
    (gold) refused — no difference is paid."""
    d = by_item(decide(policy, claim(item("china_patent_award", "a", level="excellence"), item("china_patent_award", "b", level="gold"))))
    assert status(d["a"]) == ("granted", "300000.00")
    assert status(d["b"]) == ("refused", "0.00")
    assert checks(d["b"]) == ["china-patent-award-once-per-patent"]


def test_r28_referral_checks_standing_bar_and_year(policy: Any) -> None:
    """R28: 第六条(四)第二款 referrals still pass the applicant-standing, five-year-bar and funding-year checks."""
    cases = [
        ({"registered_in_district": False}, {}, "standing-organisation"),
        ({"fraud_finding_dates": ["2019-01-01"]}, {}, "five-year-bar"),
        ({}, {"date": "2020-06-01"}, "occurred-in-funding-year"),
        ({"submission_date": "2023-01-05"}, {}, "applied-in-following-year"),
    ]
    for claim_kw, item_kw, check in cases:
        d = only(policy, item("self_transformation", **item_kw), **claim_kw)
        assert status(d) == ("refused", "0.00"), check
        assert checks(d) == [check]


def test_r28_referral_needs_no_documents(policy: Any) -> None:
    """R28: referrals need no documents: no proof of standing, no item documents → still referred."""
    data = claim(item("self_transformation", documents=[]))
    data["documents"] = []
    d = decide(policy, data)["items"][0]
    assert status(d) == ("referred", "0.00")
    assert "missing_documents" not in d
    assert d["cites"] == [A6_4_2]


def test_r29_one_time_per_loan_per_year(policy: Any) -> None:
    """R29: a loan's subsidy for one funding year is one time, however many interest payments it comprises.
    Two times used (A, B in 2021). 2022: loan C's two interest payments (20,000 → 10,000; 30,000 → 15,000) are
    one time, both paid; loan D would be a fourth time: refused."""
    history = [pledge_grant("A", 2021, "5000.00"), pledge_grant("B", 2021, "5000.00")]
    d = by_item(
        decide(
            policy,
            claim(
                item("pledge_loan_interest", "c-q1", loan_id="C", annual_interest_paid="20000.00", date="2022-03-20"),
                item("pledge_loan_interest", "c-q2", loan_id="C", annual_interest_paid="30000.00", date="2022-06-20"),
                item("pledge_loan_interest", "d", loan_id="D", date="2022-07-01"),
                funding_year=2022,
                history=history,
            ),
        )
    )
    assert status(d["c-q1"]) == ("granted", "10000.00")
    assert status(d["c-q2"]) == ("granted", "15000.00")
    assert status(d["d"]) == ("refused", "0.00")
    assert checks(d["d"]) == ["pledge-three-times"]


def test_r29_same_loan_in_another_year_is_another_time(policy: Any) -> None:
    """R29: the same loan subsidised for 2021, 2022 and 2023 uses all three times; its "annual interest" is the
    interest paid in each funding year (2023: 90,000 → 45,000.00). A different loan in 2023 is then refused."""
    history = [pledge_grant("A", 2021, "40000.00"), pledge_grant("A", 2022, "40000.00")]
    d = by_item(
        decide(
            policy,
            claim(
                item("pledge_loan_interest", "a", loan_id="A", annual_interest_paid="90000.00", date="2023-02-01"),
                item("pledge_loan_interest", "b", loan_id="B", date="2023-02-01"),
                funding_year=2023,
                history=history,
            ),
        )
    )
    assert status(d["a"]) == ("granted", "45000.00")
    assert status(d["b"]) == ("refused", "0.00")
    assert checks(d["b"]) == ["pledge-three-times"]


def test_r30_applicant_not_among_holders(policy: Any) -> None:
    """R30: an applicant who is not among an item's right holders at all is refused like a non-first holder
    (第四条第三款)."""
    d = only(policy, item("invention_patent_grant", right_holders=["某大学"]))
    assert status(d) == ("refused", "0.00")
    assert checks(d) == ["first-right-holder"]
    assert d["cites"] == [A5_1, A4_3]


def test_n11_the_first_holder_is_the_applicant_whatever_the_width_of_its_brackets(policy: Any) -> None:
    """N11 (the readings are silent): the first holder's name on the certificate and the applicant's registered name
    are one when they differ only in full-width or half-width forms, spaces or letter case. A red team's workbook with
    北京平谷示例科技(北京)有限公司 on the certificate and （北京） in the register was refused under 第四条第三款."""
    registered = "北京平谷示例科技（北京）有限公司"
    for written in ("北京平谷示例科技(北京)有限公司", "北京平谷示例科技 (北京) 有限公司", "北京平谷示例科技（北京）有限公司"):
        d = decide(policy, claim(item("invention_patent_grant", right_holders=[written, "某大学"]), name=registered))
        assert status(d["items"][0]) == ("granted", "4200.00"), written  # R9: 50% of the 8,400 official fees
    for other in ("北京平谷示例科技（南京）有限公司", "北京平谷示例科技有限公司"):  # another name: another holder (R4, R30)
        d = decide(policy, claim(item("invention_patent_grant", right_holders=[other]), name=registered))
        assert status(d["items"][0]) == ("refused", "0.00") and checks(d["items"][0]) == ["first-right-holder"], other


def test_same_name_compares_names_written_alike() -> None:
    from engine.language.expressions import FUNCTIONS

    same_name = FUNCTIONS["same_name"]
    assert same_name("（北京）ＡＢ 有限公司", "(北京)ab有限公司") and same_name("Acme  Ltd", "ACME LTD")
    assert not same_name("甲公司", "乙公司") and not same_name(None, "甲公司") and same_name(None, None)


def test_r30_no_holders_listed_means_applicant_is_sole_holder(policy: Any) -> None:
    """R30: an item that lists no holders has the applicant as its sole holder: fees 8,400 → 4,200.00."""
    assert status(only(policy, item("invention_patent_grant", right_holders=[]))) == ("granted", "4200.00")
    assert status(only(policy, item("china_patent_award", right_holders=["北京平谷示例科技有限公司"]))) == ("granted", "500000.00")
