"""An audit by hand of `match` (免申即享), session 40 (match40): profiles an officer builds from a register, each
answer worked out in the docstring from the measures' text (/work/shared/measures/pinggu_ip_measures.zh.txt), the
bureau's readings R1-R30 (READINGS.md) and the policy YAML, before the engine was run; the engine's answers were
compared with them afterwards, never copied into them.

The profiles are written as a registry exports them: the applicant's standing facts, each item the bureau knows
of, a fact it has no value for left out or given as null. Unless a test says otherwise the enterprise is
registered, operating and paying tax in Pinggu (R1), acts in none of the roles (`roles: []`), and its funding
year is 2021, submitted 2022-03-15 (R6).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import APPLICANTS, ENTERPRISE_ID, ENTERPRISE_NAME, ROOT, patent_number

from engine.cli import main
from engine.deciding.history import Grant
from engine.deciding.ready import load_policy
from engine.deciding.versions import PolicySet
from engine.language.model import CompiledPolicy
from engine.matching.matcher import ELIGIBLE, NEEDS, NOT_ELIGIBLE, Answer, Need, match_claim, parse_profile
from engine.matching.run import Matching

PINGGU = ROOT / "policies" / "pinggu_2020.yaml"
DRAFT_2024 = ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml"
OT12 = ROOT / "tests" / "fixtures" / "localities" / "OT12.yaml"


@pytest.fixture(scope="module")
def pinggu() -> CompiledPolicy:
    return load_policy(PINGGU)


def enterprise(**facts: Any) -> dict[str, Any]:
    out: dict[str, Any] = {**APPLICANTS["enterprise"], "roles": []}
    out.update(facts)
    return {k: v for k, v in out.items() if v is not ...}


def profile(*items: dict[str, Any], applicant: dict[str, Any] | None = None, **claim_facts: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"claim_id": "H-1", "funding_year": 2021, "submission_date": "2022-03-15"}
    out.update(claim_facts)
    out = {k: v for k, v in out.items() if v is not ...}
    return {**out, "applicant": applicant or enterprise(), "items": list(items)}


def it(item_id: str, item_type: str, date: str = "2021-06-18", **facts: Any) -> dict[str, Any]:
    return {"id": item_id, "type": item_type, "date": date, "supported_by_other_district_policy": False, **facts}


def answers(policy: CompiledPolicy, data: dict[str, Any], history: tuple[Grant, ...] = ()) -> dict[str, Answer]:
    """item id (or "rule:<id>" for a hypothetical item) -> its answer."""
    m = match_claim(policy, parse_profile(policy, data), history)
    return {a.item_id or f"rule:{a.rule.id}": a for a in m.answers}


def triple(a: Answer) -> tuple[str, Decimal, Decimal | None]:
    return a.answer, a.low, a.high


D = Decimal


# --- 1. an enterprise that qualifies under several articles -------------------------------------------------


def test_an_enterprise_eligible_under_six_articles_with_one_capped(pinggu: CompiledPolicy) -> None:
    """Seven items, every fact the decision reads known:

    * p1 第五条（一） invention patent, sole holder, fees 8,400.00: 8,400 × 50% = 4,200.00 (R9, no cap).
    * c1 第五条（二） China Patent Award, silver: 400,000.00 (R10).
    * b1 第五条（三） Beijing Invention Patent Award, second: 50,000.00 (R10; independent of c1, another patent).
    * i1 第六条（二） patent insurance, premium 150,000.00: × 50% = 75,000.00, under the yearly 100,000 (R12).
    * n1 第六条（六） navigation project, costs 120,000.00: × 50% = 60,000.00, cut to the project's 50,000.00 (R16),
      reduced by 10,000.00 (R22).
    * g1 第七条（三） GB/T 29490 certification: 50,000.00 (R17).
    * d1 第七条（二） Beijing IP demonstration unit: 50,000.00 (R17).

    Eligible now at least: 4,200 + 400,000 + 50,000 + 75,000 + 50,000 + 50,000 + 50,000 = 679,200.00.
    Rules with no item: 第六条（四）第一款, （五） and 第八条 ask for a role the enterprise has not (roles given as
    none): not eligible; 第六条（一） pledge: needs, at most the yearly cap 300,000.00 (R11); 第六条（三）
    securitisation: needs, at most 500,000.00 (R13); 第七条（一） national title: needs, at most 200,000.00 (R17)."""
    data = profile(
        it("p1", "invention_patent_grant", patent_id=patent_number(1), patent_kind="invention",
           right_holders=[ENTERPRISE_NAME], official_fees_paid="8400.00"),
        it("c1", "china_patent_award", "2021-12-01", patent_id=patent_number(2, 2018), level="silver",
           right_holders=[ENTERPRISE_NAME]),
        it("b1", "beijing_invention_patent_award", "2021-10-10", patent_id=patent_number(3, 2018), level="second",
           right_holders=[ENTERPRISE_NAME]),
        it("i1", "patent_insurance", premium_paid="150000.00"),
        it("n1", "navigation_project", project_id="NAV-7", actual_costs="120000.00"),
        it("g1", "ip_management_certification"),
        it("d1", "beijing_ip_demonstration_unit"),
    )  # fmt: skip
    got = answers(pinggu, data)
    expected = {
        "p1": "4200.00",
        "c1": "400000.00",
        "b1": "50000.00",
        "i1": "75000.00",
        "n1": "50000.00",
        "g1": "50000.00",
        "d1": "50000.00",
    }
    assert {k: triple(got[k]) for k in expected} == {k: (ELIGIBLE, D(v), D(v)) for k, v in expected.items()}
    assert sum(got[k].low for k in expected) == D("679200.00")
    assert got["n1"].reduced is not None and got["n1"].reduced.amount == D("50000.00")
    for rule in ("platform-transformation-service", "alliance-operation", "service-agency-performance"):
        assert got[f"rule:{rule}"].answer == NOT_ELIGIBLE, rule
    for rule, high in (("pledge-loan-interest", "300000.00"), ("ip-securitisation", "500000.00"), ("national-ip-title", "200000.00")):
        assert (got[f"rule:{rule}"].answer, got[f"rule:{rule}"].high) == (NEEDS, D(high)), rule


# --- 2. caps and limits already used in the ledger's history --------------------------------------------------


def granted(policy: CompiledPolicy, *earlier: dict[str, Any]) -> tuple[Grant, ...]:
    """The grants of earlier applications, decided in turn by the engine (the ledger's history is what decisions
    granted): each is a full claim with its documents."""
    import engine

    history: tuple[Grant, ...] = ()
    for claim in earlier:
        history += engine.evaluate(policy, claim, history).grants
    return history


def full_claim(claim_id: str, year: int, *items: dict[str, Any]) -> dict[str, Any]:
    docs = {
        "patent_insurance": ["proof_of_right", "fee_receipts", "sealed_receipt_copies"],
        "pledge_loan_interest": ["proof_of_right", "fee_receipts", "sealed_receipt_copies"],
        "ip_securitisation": ["fee_receipts", "sealed_receipt_copies"],
        "national_ip_title": ["proof_of_right"],
    }
    return {
        "claim_id": claim_id,
        "funding_year": year,
        "submission_date": f"{year + 1}-03-10",
        "documents": ["business_licence"],
        "applicant": enterprise(),
        "items": [{**i, "documents": docs[i["type"]]} for i in items],
    }


def test_a_cap_across_years_half_used_cuts_and_a_limit_used_up_refuses(pinggu: CompiledPolicy) -> None:
    """History: for 2021 the enterprise was granted securitisation support on 800,000.00 of costs (× 50% =
    400,000.00, under the 500,000 in total of R13) and three pledge subsidies, loans A and B for 2021 and loan C
    for 2021 -- 3 times, the most ever (R11, R29) -- of 50,000.00 each (interest 100,000.00 × 50%).

    Profile for 2022 (submitted 2023-03-10):
    * s1 securitisation, costs 300,000.00: asks 150,000.00; the total cap leaves 500,000 - 400,000 = 100,000.00:
      eligible, 100,000.00, cut by 50,000.00 (R22).
    * l1 a new loan D, interest 100,000.00: a fourth time: not eligible whatever else (pledge-three-times, R11).
    * l2 a new loan, its id not known, interest 80,000.00: any loan for 2022 is a new (loan, year) count after
      three: not eligible too (the id cannot make it an earlier count: those were all of 2021)."""
    loan = {"lender_is_bank": True, "pledged_right": "patent", "annual_interest_paid": "100000.00"}
    history = granted(
        pinggu,
        full_claim("E-2021", 2021,
                   it("s0", "ip_securitisation", "2021-05-01", financing_id="ABS-0", financing_costs="800000.00", underlying_right="patent"),
                   it("la", "pledge_loan_interest", "2021-12-01", loan_id="A", **loan),
                   it("lb", "pledge_loan_interest", "2021-12-02", loan_id="B", **loan),
                   it("lc", "pledge_loan_interest", "2021-12-03", loan_id="C", **loan)),
    )  # fmt: skip
    assert [(g.item_id, g.amount) for g in history] == [
        ("s0", D("400000.00")),
        ("la", D("50000.00")),
        ("lb", D("50000.00")),
        ("lc", D("50000.00")),
    ]
    data = profile(
        it("s1", "ip_securitisation", "2022-08-01", financing_costs="300000.00", underlying_right="patent"),
        it("l1", "pledge_loan_interest", "2022-11-01", loan_id="D", lender_is_bank=True, pledged_right="trademark",
           annual_interest_paid="100000.00"),
        it("l2", "pledge_loan_interest", "2022-11-02", lender_is_bank=True, pledged_right="patent", annual_interest_paid="80000.00"),
        funding_year=2022, submission_date="2023-03-10",
    )  # fmt: skip
    got = answers(pinggu, data, history)
    assert triple(got["s1"]) == (ELIGIBLE, D("100000.00"), D("100000.00"))
    assert got["s1"].reduced is not None and got["s1"].reduced.asked == D("150000.00")
    for k in ("l1", "l2"):
        assert got[k].answer == NOT_ELIGIBLE and [r.check for r in got[k].reasons] == ["pledge-three-times"], k


def test_a_title_already_paid_once_leaves_the_other_title_when_which_is_unknown(pinggu: CompiledPolicy) -> None:
    """R17: each 第七条 title is paid once per applicant, ever. The enterprise was paid the national demonstration
    title for 2021 (200,000.00). Its 2022 profile has a national title item whose title is not known: if it is the
    demonstration title again it is refused (national-title-once); if it is the advantage title it pays
    100,000.00. So it is "needs the title", and if granted exactly 100,000.00 -- never "eligible 100,000 to
    200,000" as a title unknown without history would be."""
    history = granted(pinggu, full_claim("E-2021", 2021, it("t0", "national_ip_title", "2021-04-01", title="demonstration")))
    assert [(g.item_id, g.amount) for g in history] == [("t0", D("200000.00"))]
    data = profile(it("t1", "national_ip_title", "2022-09-09"), funding_year=2022, submission_date="2023-03-10")
    a = answers(pinggu, data, history)["t1"]
    assert triple(a) == (NEEDS, D("100000.00"), D("100000.00"))
    assert a.needs == (Need("t1", "national_ip_title", "item.title"),)


def test_a_yearly_cap_used_by_an_earlier_application_of_the_same_year(pinggu: CompiledPolicy) -> None:
    """R12: at most 100,000 of insurance support per enterprise per funding year. An earlier 2021 application was
    granted 80,000.00 (premium 160,000.00 × 50%). This profile's insurance item, premium 60,000.00, asks
    30,000.00; 100,000 - 80,000 = 20,000.00 is left: eligible 20,000.00 (reduced, R22). Its premium unknown it
    would be "needs", 0 .. 20,000.00."""
    history = granted(pinggu, full_claim("E-A", 2021, it("i0", "patent_insurance", insurance_policy_id="INS-0", premium_paid="160000.00")))
    assert [g.amount for g in history] == [D("80000.00")]
    a = answers(pinggu, profile(it("i1", "patent_insurance", premium_paid="60000.00")), history)["i1"]
    assert triple(a) == (ELIGIBLE, D("20000.00"), D("20000.00"))
    b = answers(pinggu, profile(it("i1", "patent_insurance")), history)["i1"]
    assert triple(b) == (NEEDS, D("0.00"), D("20000.00"))
    assert b.needs == (Need("i1", "patent_insurance", "item.premium_paid"),)


# --- 3. a fact not known: "may qualify, missing X", never "no" ---------------------------------------------------


def test_standing_unknown_makes_every_item_needs_naming_it(pinggu: CompiledPolicy) -> None:
    """The register has no value for whether the enterprise pays tax in Pinggu (null). R1 needs it for every item
    (第四条第二款), so no item can be "not eligible" for it, and none "eligible":
    * t1 national advantage title (2021-11-02): needs pays_tax_in_district; if it holds, 100,000.00 (R17).
    * l1 pledge loan, bank unknown, trademark pledged, interest 90,000.00: needs pays_tax_in_district and
      lender_is_bank; if both hold 45,000.00 (R11).
    * a natural person's profile, household registration unknown, an invention patent (fees 10,000.01, sole
      holder): needs household_registered_in_district; if it holds 10,000.01 × 50% = 5,000.005, rounded half-up
      to 5,000.01 (R8)."""
    data = profile(
        it("t1", "national_ip_title", "2021-11-02", title="advantage"),
        it("l1", "pledge_loan_interest", "2021-12-20", loan_id="L1", pledged_right="trademark", annual_interest_paid="90000.00"),
        applicant=enterprise(pays_tax_in_district=None),
    )
    got = answers(pinggu, data)
    assert triple(got["t1"]) == (NEEDS, D("100000.00"), D("100000.00"))
    assert got["t1"].needs == (Need(None, None, "applicant.pays_tax_in_district"),)
    assert triple(got["l1"]) == (NEEDS, D("45000.00"), D("45000.00"))
    assert set(got["l1"].needs) == {
        Need(None, None, "applicant.pays_tax_in_district"),
        Need("l1", "pledge_loan_interest", "item.lender_is_bank"),
    }
    person = {"id": "110117198503120026", "name": "张三", "kind": "natural_person"}
    p = answers(
        pinggu,
        profile(it("p1", "invention_patent_grant", patent_id=patent_number(9), patent_kind="invention", right_holders=["张三"],
                   official_fees_paid="10000.01"), applicant=person),
    )["p1"]  # fmt: skip
    assert triple(p) == (NEEDS, D("5000.01"), D("5000.01"))
    assert p.needs == (Need(None, None, "applicant.household_registered_in_district"),)


# --- 4. a policy of another locality (Shandong's IP insurance, tests/fixtures/localities/OT12.yaml) -------------


def test_shandong_insurance_with_an_uplift_fact_unknown_and_an_uplifted_cap_shared(pinggu: CompiledPolicy) -> None:
    """OT12 (the structured extraction OT12_shandong_ip_insurance_subsidy.txt; OT12-N1: the uplift is 60% -> 70%;
    OT12-N2: per enterprise, year and insurance type, an uplifted item's ceiling less what the type used before).
    A Shandong enterprise, funding year 2021, items in this order:
    * o1 overseas liability, premium 800,000.00, not a high-value patent, Belt-and-Road target not known: not
      uplifted 800,000 × 60% = 480,000, cut to 400,000.00; uplifted × 70% = 560,000, cut to 500,000.00. Either way
      it is paid: eligible, 400,000.00 to 500,000.00 (a yes/no tried both ways, never taken as "no").
    * e1 enforcement, premium 100,000.00, high-value not known: 60,000.00 or 70,000.00 (caps 200,000/300,000 not
      reached): eligible 60,000.00 to 70,000.00.
    * e2 enforcement, premium 300,000.00, high-value: × 70% = 210,000.00; its ceiling 300,000 less e1's 60,000 or
      70,000 leaves at least 230,000: 210,000.00, eligible.
    * domestic insurance, no item: needs the premium, at most its 60,000.00 cap.
    Matched with Pinggu's measures (the same enterprise, registered in Pinggu too), each policy leaves the other's
    item out and lists it; Pinggu's i1 insurance, 150,000 × 50% = 75,000.00, is unchanged by the Shandong item."""
    shandong = load_policy(OT12)
    data = profile(
        {"id": "o1", "type": "overseas_liability_insurance", "premium_paid": "800000.00", "high_value_patent": False},
        {"id": "e1", "type": "enforcement_insurance", "premium_paid": "100000.00"},
        {"id": "e2", "type": "enforcement_insurance", "premium_paid": "300000.00", "high_value_patent": True},
        it("i1", "patent_insurance", premium_paid="150000.00"),
    )
    matching = Matching([PolicySet((shandong,)), PolicySet((pinggu,))])
    result = matching.match(data, 1)
    assert result.errors == []
    sd, pg = result.matches
    got = {a.item_id or f"rule:{a.rule.id}": a for a in sd.answers}
    assert triple(got["o1"]) == (ELIGIBLE, D("400000.00"), D("500000.00"))
    assert triple(got["e1"]) == (ELIGIBLE, D("60000.00"), D("70000.00"))
    assert triple(got["e2"]) == (ELIGIBLE, D("210000.00"), D("210000.00"))
    assert triple(got["rule:domestic-insurance"]) == (NEEDS, D("0.00"), D("60000.00"))
    assert "items[3]" in sd.ignored and "items[0]" in pg.ignored
    [i1] = [a for a in pg.answers if a.item_id == "i1"]
    assert triple(i1) == (ELIGIBLE, D("75000.00"), D("75000.00"))


# --- 5. dates at the edges: the funding year, the version's window, the five-year bar --------------------------


def test_an_item_on_the_last_day_of_the_year_and_one_on_the_next(pinggu: CompiledPolicy) -> None:
    """R6: funding year 2021 covers events of 2021-01-01..2021-12-31. g1 certified 2021-12-31: 50,000.00 (R17);
    d1 recognised 2022-01-01: not eligible under 第十一条 (occurred-in-funding-year), whatever else."""
    got = answers(
        pinggu, profile(it("g1", "ip_management_certification", "2021-12-31"), it("d1", "beijing_ip_demonstration_unit", "2022-01-01"))
    )
    assert triple(got["g1"]) == (ELIGIBLE, D("50000.00"), D("50000.00"))
    assert got["d1"].answer == NOT_ELIGIBLE and [(r.check, r.cites) for r in got["d1"].reasons] == [
        ("occurred-in-funding-year", "第十一条")
    ]


def test_the_five_year_bar_ends_the_day_after_the_fifth_anniversary(pinggu: CompiledPolicy) -> None:
    """R24: a finding of 2017-03-15 bars applications submitted up to 2022-03-15 inclusive; one submitted on
    2022-03-16 is not barred. The profile states the finding (N6: an applicant may state finding dates). d1, a
    Beijing demonstration unit title of 2021: not eligible under 第十四条 on the 15th; 50,000.00 on the 16th."""
    barred = enterprise(fraud_finding_dates=["2017-03-15"])
    d1 = it("d1", "beijing_ip_demonstration_unit", "2021-05-05")
    on = answers(pinggu, profile(d1, applicant=barred))["d1"]
    assert on.answer == NOT_ELIGIBLE and [(r.check, r.cites) for r in on.reasons] == [("five-year-bar", "第十四条")]
    after = answers(pinggu, profile(d1, applicant=barred, submission_date="2022-03-16"))["d1"]
    assert triple(after) == (ELIGIBLE, D("50000.00"), D("50000.00"))


def test_the_last_year_of_a_version_and_the_year_after_it() -> None:
    """R7: version 2020.1 is in force for funding years 2021-2023; the 2024 draft (policies/revisions) for
    2024-2026. A 2023 certification (submitted 2024-03-01) under 2020.1: 50,000.00. The same for 2024 with 2020.1
    alone: no version in force -- an error record, not a refusal. With the draft too, the 2024 profile is matched
    under the draft only; the draft has no GB/T 29490 article (第七条（三） dropped), so g1 is left out and listed."""
    from engine.deciding.versions import load_versions

    alone, problems = load_versions([PINGGU])
    both, more = load_versions([PINGGU, DRAFT_2024])
    assert problems == [] and more == []
    g23 = profile(it("g1", "ip_management_certification", "2023-12-31"), funding_year=2023, submission_date="2024-03-01")
    [m] = Matching([alone]).match(g23, 1).matches
    [g1] = [a for a in m.answers if a.item_id == "g1"]
    assert (m.policy.version, m.funding_year, *triple(g1)) == ("2020.1", 2023, ELIGIBLE, D("50000.00"), D("50000.00"))
    g24 = profile(it("g1", "ip_management_certification", "2024-06-01"), funding_year=2024, submission_date="2025-03-01")
    r = Matching([alone]).match(g24, 1)
    assert r.matches == [] and [e["said"]["zh"] for e in r.errors] == ["“平谷区知识产权促进办法”没有适用于申报年度 2024 的有效版本"]
    # named by its title, as the notices and summary.xlsx name it (it was the id, “pinggu-ip-promotion”); the record
    # keeps the id
    assert [(e["policy"], e["said"]["en"]) for e in r.errors] == [
        ("pinggu-ip-promotion", "no version of Pinggu District Intellectual Property Promotion Measures is in force for funding year 2024")
    ]
    r = Matching([both]).match(g24, 1)
    assert r.errors == [] and [(x.policy.version, x.funding_year, x.ignored) for x in r.matches] == [("2024.1-draft", 2024, ("items[0]",))]


def test_a_profile_with_no_year_whose_submission_no_version_covers_is_an_error_not_refused() -> None:
    """A register exported for the 2025 round: no funding year, submitted 2025-03-15 (or given once with
    `--claim-fact submission_date=2025-03-15`). By R6 it is a 2024 profile; 2020.1 covers 2021-2023 only, and at
    each of those years 第十一条 (applied in the following year) fails. R7: a claim whose year no version in force
    covers is an error, not a refusal. It was matched at 2023 and every item told "not eligible: 申报须在申报年度的次年
    提出" (exit 0), as if the enterprise had applied late. It is an error record saying no version is in force for a
    year its facts allow, and to give the year. With the 2024 draft too it is matched under the draft alone (at
    2024), not also refused under 2020.1. Submitted 2024-03-15 it is a 2023 profile: matched under 2020.1 at 2023."""
    from engine.deciding.versions import load_versions

    alone, _ = load_versions([PINGGU])
    both, _ = load_versions([PINGGU, DRAFT_2024])
    late = profile(it("d1", "beijing_ip_demonstration_unit", "2024-05-01"), funding_year=..., submission_date="2025-03-15")
    r = Matching([alone]).match(late, 1)
    assert r.matches == []
    [error] = r.errors
    assert error["policy"] == "pinggu-ip-promotion"
    assert "2021" in error["said"]["zh"] and "2023" in error["said"]["zh"] and "funding_year" in error["said"]["zh"]
    assert "申报须在申报年度的次年提出" in error["said"]["zh"] and "the year after the funding year" in error["said"]["en"]
    r = Matching([both]).match(late, 1)
    assert r.errors == [] and [(x.policy.version, x.funding_year, x.year_given) for x in r.matches] == [("2024.1-draft", 2024, False)]
    [d1] = [a for a in r.matches[0].answers if a.item_id == "d1"]
    assert d1.answer == ELIGIBLE
    on_time = profile(it("d1", "beijing_ip_demonstration_unit", "2023-05-01"), funding_year=..., submission_date="2024-03-15")
    [m] = Matching([alone]).match(on_time, 1).matches
    assert (m.funding_year, m.year_given) == (2023, False)


# --- 6. item types these measures do not have -------------------------------------------------------------------


def test_item_types_the_measures_do_not_have(tmp_path: Path) -> None:
    """R9 and R3: a design patent (design_patent_grant) and a trademark registration are records of what the
    measures do not pay: each is left out, listed in `ignored`, and the rest is matched (d1: 50,000.00). A type
    a slip of the policy's (`invention_patent`, cut short of invention_patent_grant) is no record of another
    thing: the profile is an error record naming the item's place and field (items[1].type) and the type meant --
    the other profiles of the run are still matched, and the run's exit code is 3."""
    d1 = it("d1", "beijing_ip_demonstration_unit", "2021-05-05")
    good = profile(d1, it("x1", "design_patent_grant"), it("x2", "trademark_registration"), claim_id="GOOD")
    slip = profile(d1, it("x3", "invention_patent"), claim_id="SLIP")
    src = tmp_path / "register.jsonl"
    src.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in (good, slip, good | {"claim_id": "GOOD2"})), encoding="utf-8")
    out = tmp_path / "o"
    assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(out), "--no-notices", "-q"]) == 3
    records = [json.loads(x) for x in (out / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["profile"] for r in records] == ["GOOD", "SLIP", "GOOD2"]
    first = records[0]["matches"][0]
    assert first["ignored"] == ["items[1]", "items[2]"]
    [a] = [a for a in first["answers"] if a["item_id"] == "d1"]
    assert (a["answer"], a["amount"]) == ("eligible", {"low": "50000.00", "high": "50000.00"})
    [error] = records[1]["errors"]
    [problem] = error["problems"]
    assert problem["path"] == "items[1].type" and "invention_patent_grant" in problem["message"]
    assert problem["line"] == 2  # the register's line of that profile
    assert problem["said"]["zh"]["field"] == "第 2 个事项的事项类型（item.type）"
    assert records[2]["errors"] == []


# --- 7. a register run by an officer ---------------------------------------------------------------------------


def test_the_progress_bar_on_a_terminal_counts_profiles_in_the_officers_language(tmp_path: Path) -> None:
    """The bar is drawn on a terminal only -- where an officer runs a register -- and there `match` ended in a
    traceback (CatalogueError: no message 'profiles'): its unit was no catalogued message. Two profiles of one small
    file (read whole at once, so the bar is at 100 % from the first profile on): the bar counts "家" in Chinese and
    "profiles" in English, and the run ends as off a terminal."""
    import io
    import re

    from engine.core.i18n import use_language
    from engine.deciding.versions import load_versions
    from engine.matching.run import run_match

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    src = tmp_path / "two.jsonl"
    one = profile(it("d1", "beijing_ip_demonstration_unit"))
    src.write_text("\n".join(json.dumps(one | {"claim_id": c}, ensure_ascii=False) for c in ("A", "B")), encoding="utf-8")
    versions, _ = load_versions([PINGGU])
    for lang, unit in (("zh", "家"), ("en", "profiles")):
        tty = Tty()
        with use_language(lang):
            summary, _ = run_match([versions], src, tmp_path / f"o-{lang}", notices=False, lang=lang, stderr=tty)
        assert summary.profiles == 2
        assert re.search(rf"100\.0% [12] {unit} ", tty.getvalue()), tty.getvalue()
        # and its rate counts the same: "1 家 每秒 21 家" (it said "每秒 21 份", of applications), "21 profiles/s"
        assert re.search(r" 每秒 [\d,]+ 家 " if lang == "zh" else r" [\d,]+ profiles/s ", tty.getvalue()), tty.getvalue()


def _summary_rows(out: Path) -> list[tuple[Any, ...]]:
    from openpyxl import load_workbook

    book = load_workbook(out / "summary.xlsx", read_only=True)
    return list(book[book.sheetnames[0]].iter_rows(values_only=True))


def test_the_summary_says_a_needs_cells_amount_as_an_officer_reads_it(tmp_path: Path) -> None:
    """summary.xlsx's cell of a measure with no item eligible says the most an item needing facts could get, in
    words: for 第五条（二） (no China Patent Award item in the profile: a hypothetical one) the gold award's
    500,000.00 (R10). It said "需补充信息，最高 500000.00" -- the decisions' canonical digits, where the notice beside it
    says "最高 500,000.00 元" and every other tool an officer reads writes 500,000.00 元 (`said_money`)."""
    src = tmp_path / "p.json"
    src.write_text(json.dumps(profile(it("d1", "beijing_ip_demonstration_unit")), ensure_ascii=False), encoding="utf-8")
    for lang, said in (("zh", "需补充信息，最高 500,000.00 元"), ("en", "needs ≤ CNY 500,000.00")):
        out = tmp_path / lang
        assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(out), "--lang", lang, "-q", "--no-notices"]) == 0
        head, row = _summary_rows(out)[:2]
        [award] = [n for n, h in enumerate(head) if str(h).startswith("第五条第（二）项")]
        assert row[award] == said


def test_the_facts_most_often_missing_list_the_registers_own_gaps_before_a_hypothetical_items(tmp_path: Path) -> None:
    """Three profiles, each with an invention patent whose fees the register lacks (R9: they decide the amount),
    and no China Patent Award item. Every profile is also asked, for 第五条（二）, the facts of an award it may have
    (date, holders, level, number, double benefit: a hypothetical item), so each of those counted 3 as well and the
    sheet 最常缺少的信息 -- where an officer looks for what to collect from the register -- led with (or mixed in)
    facts of awards no enterprise is known to have. Now the facts of the profiles' own items come first (the fees, 3),
    and a hypothetical item's are after them, marked 中国专利奖（如有此类事项）."""
    patent = {"patent_kind": "invention", "right_holders": [ENTERPRISE_NAME]}
    src = tmp_path / "r.jsonl"
    lines = [profile(it("p1", "invention_patent_grant", patent_id=patent_number(n), **patent), claim_id=f"R-{n}") for n in (1, 2, 3)]
    src.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    out = tmp_path / "o"
    assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(out), "--lang", "zh", "-q", "--no-notices"]) == 0
    from openpyxl import load_workbook

    rows = list(load_workbook(out / "summary.xlsx", read_only=True)["最常缺少的信息"].iter_rows(values_only=True))
    assert rows[1] == ("平谷区知识产权促进办法", "获得专利权所缴纳的官方规定费用", "发明专利授权", 3)
    hypothetical = [n for n, r in enumerate(rows) if str(r[2]).endswith("（如有此类事项）")]
    assert hypothetical and hypothetical[0] == 2 and hypothetical == list(range(2, len(rows)))
    assert ("平谷区知识产权促进办法", "奖项等级", "中国专利奖（如有此类事项）", 3) in rows


def test_the_summary_names_each_row_by_its_profile_as_its_notice_is_named(tmp_path: Path) -> None:
    """A register may hold two profiles of one enterprise (a branch's, a second export): R-1 and R-2, one
    applicant. summary.xlsx's 汇总 began with 申请人代码 and 名称 alone, so the two rows were told apart by nothing,
    and an officer could not find a row's notice, notices/R-2.zh.txt, named by the profile -- its errors sheet and
    batch's summary begin with 申请编号. Now 汇总 does too. R-1's d1 (第七条（二）) pays 50,000.00 (R17); R-2's g1
    (第七条（三）) 50,000.00: each row's total is its own; the totals row adds them, 100,000.00, under 可申请合计."""
    src = tmp_path / "r.jsonl"
    one = profile(it("d1", "beijing_ip_demonstration_unit"), claim_id="R-1")
    two = profile(it("g1", "ip_management_certification"), claim_id="R-2")
    src.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in (one, two)), encoding="utf-8")
    out = tmp_path / "o"
    assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(out), "--lang", "zh", "-q"]) == 0
    rows = _summary_rows(out)
    assert rows[0][:7] == ("申请编号", "申请人代码", "名称", "政策", "申报年度", "可申请合计", "可申请合计（最高）")
    assert [r[:2] for r in rows[1:3]] == [("R-1", ENTERPRISE_ID), ("R-2", ENTERPRISE_ID)]
    assert [r[5] for r in rows[1:3]] == [50000.0, 50000.0]
    assert {p.name for p in (out / "notices").iterdir()} >= {"R-1.zh.txt", "R-2.zh.txt"}
    totals = next(r for r in rows if r and r[0] == "合计")
    assert totals[5] == 100000.0 and totals[1:5] == (None, None, None, None)
    counted = next(r for r in rows if r and r[0] == "可申请的企业数")
    [d1] = [n for n, h in enumerate(rows[0]) if str(h).startswith("第七条第（二）项")]
    assert counted[d1] == 1 and counted[1:7] == (None,) * 6


def test_match_s_help_says_several_policies_are_matched_together(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/matching.md: --policy takes several policies (different measures together; each profile matched under
    every version in force of each: Shandong's and Pinggu's above). `match --help` said batch's words, "for several
    versions of the same measures: each claim is decided by the version in force" -- of claims, and one measure."""
    from engine.core.i18n import use_language

    for lang, words, joined in (("en", "or several policies: each profile is matched", " "), ("zh", "或要同时匹配多个办法时", "")):
        with use_language(lang), pytest.raises(SystemExit):
            main(["match", "--help"])
        said = joined.join(capsys.readouterr().out.split())  # (lines wrapped anywhere in Chinese: joined as written)
        assert words in said and "each claim is decided" not in said and "每份申请按" not in said


def test_the_workbook_names_each_policy_by_its_title_in_the_workbooks_language(tmp_path: Path) -> None:
    """summary.xlsx's 政策 column said pinggu-ip-promotion 2020.1 -- the policy's id, a code -- in a workbook an
    officer reads in Chinese, where the notices head the same policy 平谷区知识产权促进办法（版本 2020.1）. Matched with
    Shandong's (OT12) too, each row names its own measures: 平谷区知识产权促进办法（版本 2020.1）,
    山东省企业知识产权保险扶持项目（补助标准）（版本 2020.1）."""
    src = tmp_path / "p.json"
    src.write_text(json.dumps(profile(it("d1", "beijing_ip_demonstration_unit")), ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "o"
    args = ["match", "--policy", str(PINGGU), "--policy", str(OT12), str(src), "--out", str(out), "--lang", "zh", "-q", "--no-notices"]
    assert main(args) == 0
    assert sorted(r[3] for r in _summary_rows(out)[1:3]) == [
        "山东省企业知识产权保险扶持项目（补助标准）（版本 2020.1）",
        "平谷区知识产权促进办法（版本 2020.1）",
    ]


def test_the_ledger_s_grants_and_findings_count_in_a_match_from_the_command_line(tmp_path: Path) -> None:
    """docs/matching.md's worked example with --ledger, end to end. The ledger holds a 2021 pledge subsidy of
    100,000.00 × 50% = 50,000.00 for the enterprise (committed by `batch`). The example profile: l1 260,000 × 50% =
    130,000.00 (room 300,000 - 50,000 = 250,000); l2 asks 200,000, room 250,000 - 130,000 = 120,000.00 (R11, R20,
    R22). Then a finding of fraud dated 2019-06-01 is recorded (`ledger finding`): the profile, submitted
    2022-03-15, is within five years of it (R5, R24: through 2024-06-01), and every answer, the profile's items and the
    hypothetical ones alike, is not eligible under 第十四条 -- though the profile itself states no finding (N6)."""
    from conftest import claim, item

    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    earlier = claim(item("pledge_loan_interest", "l0", loan_id="JK-2021-001", annual_interest_paid="100000.00", date="2021-03-01"))
    (tmp_path / "c.json").write_text(json.dumps(earlier | {"claim_id": "E-2021-A"}, ensure_ascii=False), encoding="utf-8")
    batch = ["batch", "--policy", str(PINGGU), str(tmp_path / "c.json"), "--ledger", url, "--commit", "--out", str(tmp_path / "b"), "-q"]
    assert main(batch) == 0
    example = ROOT / "examples" / "profile_match_2021.json"
    match = ["match", "--policy", str(PINGGU), str(example), "--ledger", url, "-q", "--no-notices"]
    assert main([*match, "--out", str(tmp_path / "m1")]) == 0
    [m] = json.loads((tmp_path / "m1" / "matches.jsonl").read_text(encoding="utf-8"))["matches"]
    got = {a["item_id"]: (a["answer"], a["amount"]["low"], a["amount"]["high"]) for a in m["answers"] if a["item_id"]}
    assert got["l1"] == ("eligible", "130000.00", "130000.00") and got["l2"] == ("eligible", "120000.00", "120000.00")
    finding = ["ledger", "finding", "--policy", str(PINGGU), "--ledger", url, "--applicant", ENTERPRISE_ID]
    assert main([*finding, "--fact", "fraud_finding_dates", "--value", "2019-06-01", "--reason", "核查认定", "--date", "2019-06-01"]) == 0
    assert main([*match, "--out", str(tmp_path / "m2")]) == 0
    [m] = json.loads((tmp_path / "m2" / "matches.jsonl").read_text(encoding="utf-8"))["matches"]
    assert {(a["answer"], a["reasons"][0]["check"]) for a in m["answers"]} == {("not_eligible", "five-year-bar")}


def test_a_profile_with_a_number_in_exponent_form_is_its_own_error_record_on_several_workers(tmp_path: Path) -> None:
    """A register's export wrote a loan's interest as 1e+300 (a JSON number with an exponent, which claims refuse
    with the form to write). Matched on one process it is that profile's error record; on two (`--workers 2`) the
    profile reached its worker pickled, the number lost the text it was written as, and refusing it raised
    AttributeError there: the whole run ended in a traceback, no record of the other profiles written. Now both
    profiles around it are matched (d1: 50,000.00, R17), it is its own error record naming line and field, exit 3."""
    good = profile(it("d1", "beijing_ip_demonstration_unit"), claim_id="G1")
    bad = profile(it("l1", "pledge_loan_interest", loan_id="L1", lender_is_bank=True, pledged_right="patent"), claim_id="BAD")
    bad_line = json.dumps(bad, ensure_ascii=False).replace(
        '"pledged_right": "patent"', '"pledged_right": "patent", "annual_interest_paid": 1e+300'
    )
    src = tmp_path / "r.jsonl"
    src.write_text(
        "\n".join([json.dumps(good, ensure_ascii=False), bad_line, json.dumps(good | {"claim_id": "G2"}, ensure_ascii=False)]),
        encoding="utf-8",
    )
    out = tmp_path / "o"
    assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(out), "--workers", "2", "-q", "--no-notices"]) == 3
    records = [json.loads(x) for x in (out / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["profile"] for r in records] == ["G1", "BAD", "G2"]
    for r in (records[0], records[2]):
        [d1] = [a for a in r["matches"][0]["answers"] if a["item_id"] == "d1"]
        assert (d1["answer"], d1["amount"]["low"]) == ("eligible", "50000.00")
    [problem] = records[1]["errors"][0]["problems"]
    assert (problem["path"], problem["line"]) == ("items[0].annual_interest_paid", 2) and "1e+300" in problem["message"]


def test_a_profile_whose_items_applicant_or_id_is_of_the_wrong_kind_is_an_error_not_matched_as_empty(tmp_path: Path) -> None:
    """Nothing is silently coerced: a register's line whose `items` is a text ("abc") was matched as a profile with
    no items -- every measure answered on a hypothetical item, "needs" all round, and nothing said of the items;
    an `applicant` given as a list was said to lack its id and kind; a `claim_id` given as an object was replaced by
    the applicant's id, unsaid. Each is now its profile's error record, at its line and field, with the kind
    expected; the line after them is matched (d1: 50,000.00, R17)."""
    base = profile(it("d1", "beijing_ip_demonstration_unit"))
    lines = [base | {"items": "abc"}, base | {"applicant": []}, base | {"claim_id": {"x": 1}}, base]
    src = tmp_path / "r.jsonl"
    src.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    out = tmp_path / "o"
    assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(out), "-q", "--no-notices"]) == 3
    records = [json.loads(x) for x in (out / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    said = [[(p["path"], p["line"]) for e in r["errors"] for p in e["problems"]] for r in records]
    assert said == [[("items", 1)], [("applicant", 2)], [("claim_id", 3)], []]
    assert all(r["matches"] == [] for r in records[:3])
    assert "array" in records[0]["errors"][0]["problems"][0]["message"]
    [d1] = [a for a in records[3]["matches"][0]["answers"] if a["item_id"] == "d1"]
    assert (d1["answer"], d1["amount"]["low"]) == ("eligible", "50000.00")


def test_who_may_claim_what_for_an_institution_a_platform_and_a_person(pinggu: CompiledPolicy) -> None:
    """R2, by each clause's wording:
    * a public institution (事业单位), standing known: 第七条（二） says 单位 -- d1 pays 50,000.00 (R17); 第七条（一） says
      企业 -- t1 is not eligible for who it is (national-ip-title#who), whatever the title.
    * an enterprise acting as an IP operation platform, a transformation resting on a patent, fee 300,000.00, whether
      it landed in Pinggu not known: needs landed_in_district; if it did, 300,000 × 50% = 150,000.00 (R14, under the
      1,000,000 in total).
    * a natural person with a Pinggu household registration, a China Patent Award of unknown level, sole holder:
      eligible 300,000.00 (excellence) to 500,000.00 (gold) (R10); a pledge loan is for enterprises only: not
      eligible."""
    inst = {"id": "12110117400000001X", "name": "平谷区示例研究院", "kind": "public_institution", "registered_in_district": True,
            "actually_operating": True, "pays_tax_in_district": True, "roles": []}  # fmt: skip
    got = answers(
        pinggu, profile(it("d1", "beijing_ip_demonstration_unit"), it("t1", "national_ip_title", title="demonstration"), applicant=inst)
    )
    assert triple(got["d1"]) == (ELIGIBLE, D("50000.00"), D("50000.00"))
    assert got["t1"].answer == NOT_ELIGIBLE and [r.check for r in got["t1"].reasons] == ["national-ip-title#who"]
    platform = enterprise(roles=["ip_operation_platform"])
    f1 = answers(
        pinggu,
        profile(
            it("f1", "platform_transformation_service", technology_service_fee="300000.00", underlying_right="patent"), applicant=platform
        ),
    )["f1"]
    assert triple(f1) == (NEEDS, D("150000.00"), D("150000.00")) and f1.needs == (
        Need("f1", "platform_transformation_service", "item.landed_in_district"),
    )
    person = {"id": "110117198503120026", "name": "张三", "kind": "natural_person", "household_registered_in_district": True}
    loan = {"loan_id": "L1", "lender_is_bank": True, "pledged_right": "patent", "annual_interest_paid": "1000.00"}
    got = answers(
        pinggu,
        profile(
            it("c1", "china_patent_award", patent_id=patent_number(2, 2018), right_holders=["张三"]),
            it("l1", "pledge_loan_interest", **loan),
            applicant=person,
        ),
    )
    assert triple(got["c1"]) == (ELIGIBLE, D("300000.00"), D("500000.00"))
    assert got["l1"].answer == NOT_ELIGIBLE and [r.check for r in got["l1"].reasons] == ["pledge-loan-interest#who"]


def test_the_progress_bar_follows_the_profiles_matched_not_the_input_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a register of 600 profiles matched on two workers the bar stood at 42.7 % when the first profile was
    matched and at 100 % with 215 still to match: it said how far the input had been read, which runs ahead by the
    chunks in flight (two per worker, 64 profiles each). 300 profiles of equal length here: at each profile written,
    the bar's fraction is at most that profile's share of the file (n/300) and a line's worth more."""
    from engine.deciding.versions import load_versions
    from engine.matching import run
    from engine.records.batch import Progress

    seen: list[tuple[int, float | None]] = []
    monkeypatch.setattr(Progress, "update", lambda self, done, fraction, force=False: seen.append((done, fraction)))
    src = tmp_path / "r.jsonl"
    one = profile(it("d1", "beijing_ip_demonstration_unit"))
    src.write_text("\n".join(json.dumps(one | {"claim_id": f"R-{n:04d}"}, ensure_ascii=False) for n in range(300)) + "\n", encoding="utf-8")
    versions, _ = load_versions([PINGGU])
    summary, _ = run.run_match([versions], src, tmp_path / "o", workers=2, notices=False, workbook=False, quiet=True)
    assert summary.profiles == 300 and len(seen) == 300
    assert all(f is not None and f <= (done + 1) / 300 for done, f in seen), [(d, f) for d, f in seen if f and f > (d + 1) / 300][:3]
    assert seen[-1] == (300, 1.0)
