"""An audit by hand of the other localities' measures the project writes as YAML policies (session 39, local39).

tests/test_localities.py runs each locality's officers' case files; here are only the edges those files do not
assert: caps reached exactly and exceeded by 0.01 (after the rate's rounding), a dated parameter on the day it
changes, a formula whose day count crosses a leap year, a window's first and last day, ties in a ranked quota,
an applicant the text leaves out. Every expected value is worked out in the comment from the locality's
structured extraction (tests/fixtures/localities/<CODE>_*.txt) and, for the dated rates, the public
announcements the policy's `parameters` name; the engine's output was compared with them afterwards, never
copied into them. Where the comment leans on one of the policy's `notes` (an ambiguity of the text the policy
settles), it names the note.

Some tests hold a policy to its text where the audit found it wrong (BJ05 and OT13 counted one award per level
instead of per awarded patent; OT13 paid titles not newly recognised; SH01 paid a 'balance' to a unit never
recognised) or reading an ambiguity without a note (OT10-N4, BJ05-N5, SZ-N4): each failed on the policy before
its fix.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from conftest import ROOT

import engine
from engine.deciding.ready import load_policy
from engine.records.batch import decide_in_memory

HERE = ROOT / "tests" / "fixtures" / "localities"


@functools.cache
def policy(code: str) -> engine.CompiledPolicy:
    return load_policy(HERE / f"{code}.yaml")


def decide(code: str, claim: dict[str, Any], history: Any = ()) -> dict[str, Any]:
    return engine.evaluate(policy(code), claim, history).to_dict()


def items(decision: dict[str, Any]) -> dict[str, tuple[str, str, str, list[str]]]:
    """Each item's status, amount, the amount asked (after the rate and its rounding, before caps) and the checks
    refusing it."""
    return {i["item"]: (i["status"], i["amount"], i["asked"], [r["check"] for r in i["reasons"]]) for i in decision["items"]}


def claim(code: str, applicant: dict[str, Any], year: int, *its: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"claim_id": f"{code}-H-{year}", "funding_year": year, "applicant": applicant, "items": list(its), **extra}


# --- OT10: loan × share secured × PBoC benchmark of the period and band × 50%, at most a year, 50万 a year --------

OT10_CO = {"id": "91000000MA0OT10001", "name": "示例专利技术有限公司", "kind": "enterprise"}


def ot10_loan(loan_id: str, amount: str, share: str, band: str, start: str, end: str) -> dict[str, Any]:
    return {
        "id": loan_id,
        "type": "pledge_loan",
        "loan_id": loan_id,
        "loan_amount": amount,
        "secured_share": share,
        "pledged_right": "patent",
        "maturity_band": band,
        "interest_start": start,
        "interest_end": end,
    }


def test_ot10_yearly_cap_reached_exactly_then_exceeded_by_a_cent() -> None:
    """Cap: 500,000 per enterprise per year. A 1-5 year loan whose interest starts 2015-09-01 takes the benchmark of
    2015-08-26, 5.00% (PBoC, 25 Aug 2015); 2015-09-01 to 2016-09-01 is a whole year (366 of 366 days), so:
    20,000,000.00 x 1.0000 x 5.00% x 50% = 500,000.00 -> granted, exactly the cap;
    a second enterprise's 20,000,000.40 x 5.00% = 1,000,000.02 x 50% = 500,000.01 -> reduced by 0.01 to 500,000.00."""
    exact = decide(
        "OT10", claim("OT10", OT10_CO, 2016, ot10_loan("E1", "20000000.00", "1.0000", "one_to_five_years", "2015-09-01", "2016-09-01"))
    )
    assert items(exact) == {"E1": ("granted", "500000.00", "500000.00", [])}
    other = dict(OT10_CO, id="91000000MA0OT10009")
    over = decide(
        "OT10", claim("OT10", other, 2016, ot10_loan("E2", "20000000.40", "1.0000", "one_to_five_years", "2015-09-01", "2016-09-01"))
    )
    assert items(over) == {"E2": ("reduced", "500000.00", "500000.01", [])}


def test_ot10_benchmark_on_the_day_before_and_the_day_a_cut_takes_effect() -> None:
    """Formula: the benchmark 'for the same period' (note OT10-N1: the one in force when interest starts). The
    up-to-one-year rate was 4.60% from 2015-08-26 and 4.35% from 2015-10-24 (PBoC, 23 Oct 2015). Both loans run a
    whole year (366 of 366 days, across 2016-02-29), 1,000,000.00, fully secured:
    from 2015-10-23: 1,000,000 x 4.60% x 50% = 23,000.00; from 2015-10-24: 1,000,000 x 4.35% x 50% = 21,750.00.
    Total 44,750.00, well within the cap."""
    d = decide(
        "OT10",
        claim(
            "OT10",
            OT10_CO,
            2016,
            ot10_loan("R1", "1000000.00", "1.0000", "within_one_year", "2015-10-23", "2016-10-23"),
            ot10_loan("R2", "1000000.00", "1.0000", "within_one_year", "2015-10-24", "2016-10-24"),
        ),
    )
    assert items(d) == {"R1": ("granted", "23000.00", "23000.00", []), "R2": ("granted", "21750.00", "21750.00", [])}
    assert d["total"] == "44750.00"


def test_ot10_part_year_over_a_leap_february_rounds_once() -> None:
    """Duration with note OT10-N2 (days subsidised / days of the year from the start). 2019-03-01 to 2019-09-01 is
    31+30+31+30+31+31 = 184 days; the year from 2019-03-01 ends 2020-03-01 and holds 2020-02-29: 366 days.
    1,000,000.00 x 0.3333 = 333,300.00 x 4.35% = 14,498.55 x 184 = 2,667,733.20 / 366 = 7,288.8885... x 50%
    = 3,644.4442... -> 3,644.44 (a 365-day year would give 3,654.43)."""
    d = decide("OT10", claim("OT10", OT10_CO, 2019, ot10_loan("P1", "1000000.00", "0.3333", "within_one_year", "2019-03-01", "2019-09-01")))
    assert items(d) == {"P1": ("granted", "3644.44", "3644.44", [])}


# --- OT03: 20% (50% if covered, small/micro) x min(actual rate, one-year LPR of December of the repayment year) ---

OT03_SMALL = {"id": "91350100MA2OT03001", "name": "福建示例小型科技有限公司", "kind": "enterprise", "size": "small"}


def ot03_loan(item_id: str, kind: str, principal: str, rate: str, start: str, repaid: str, **more: Any) -> dict[str, Any]:
    facts = {"principal": principal, "loan_rate": rate, "interest_start": start, "repaid_date": repaid}
    return {"id": item_id, "type": kind, "loan_id": f"L-{item_id}", **facts, **more}


def ot03_used(amount: str) -> list[dict[str, Any]]:
    """An earlier grant to the small enterprise that used `amount` of its lifetime cap ([F4], note OT3-N5)."""
    use = {"cap": "enterprise-lifetime-cap", "scope": [OT03_SMALL["id"]], "amount": amount}
    grant = {"claim_id": "FJ-0", "item_id": "old", "rule": "pledge-loan", "applicant_id": OT03_SMALL["id"]}
    return [{**grant, "funding_year": 2022, "amount": amount, "consumes": [use]}]


def test_ot03_lifetime_cap_reached_exactly_then_exceeded_by_a_cent() -> None:
    """[F1] with [F4]: 1,000,000.00 at 4.20% (above the LPR) from 2022-03-01, repaid 2023-03-01 (365 of 365 days);
    the December 2023 one-year LPR is 3.45% (CFETS 21 Aug 2023, unchanged to the end of 2023):
    1,000,000 x 3.45% x 20% = 6,900.00. With 193,100.00 already used, 200,000 - 193,100 = 6,900.00 left: granted in
    full; with 193,100.01 used, 6,899.99 left: reduced by 0.01."""
    loan = ot03_loan("l1", "pledge_loan", "1000000.00", "4.20%", "2022-03-01", "2023-03-01")
    exact = decide("OT03", claim("OT03", OT03_SMALL, 2023, loan), ot03_used("193100.00"))
    assert items(exact) == {"l1": ("granted", "6900.00", "6900.00", [])}
    over = decide("OT03", claim("OT03", OT03_SMALL, 2023, loan), ot03_used("193100.01"))
    assert items(over) == {"l1": ("reduced", "6899.99", "6900.00", [])}


def test_ot03_repaid_on_31_december_or_1_january_takes_a_different_years_lpr() -> None:
    """[F1] 'the one-year LPR of December of the repayment year' (note OT3-N2), with [F3] and note OT3-N1. Both loans
    1,000,000.00 at 4.00% (above both LPRs), interest from 2023-01-01 (the year from it: 365 days):
    l1 repaid 2023-12-31, 364 days, December 2023 LPR 3.45%: 1,000,000 x 3.45% = 34,500 x 364 / 365 = 34,405.4794...
       x 20% = 6,881.0958... -> 6,881.10;
    l2 repaid 2024-01-01, 365 days, December 2024 LPR 3.10% (CFETS 21 Oct 2024): 1,000,000 x 3.10% x 20% = 6,200.00.
    One day later, 681.10 less. Total 13,081.10."""
    d = decide(
        "OT03",
        claim(
            "OT03",
            OT03_SMALL,
            2024,
            ot03_loan("l1", "pledge_loan", "1000000.00", "4.00%", "2023-01-01", "2023-12-31"),
            ot03_loan("l2", "pledge_loan", "1000000.00", "4.00%", "2023-01-01", "2024-01-01"),
        ),
    )
    assert items(d) == {"l1": ("granted", "6881.10", "6881.10", []), "l2": ("granted", "6200.00", "6200.00", [])}
    assert d["total"] == "13081.10"


def test_ot03_covered_part_at_an_actual_rate_below_the_lpr() -> None:
    """[F2] with note OT3-N3 (the actual rate replaces the LPR when lower, as in [F1]): a small enterprise's insured
    800,000.00 at 3.00%, 2022-03-01 to 2023-03-01 (365 of 365 days), December 2023 LPR 3.45%:
    800,000 x min(3.00%, 3.45%) = 24,000 x 50% = 12,000.00 (on the LPR it would be 13,800.00).
    The same loan for a medium enterprise is refused by [F2]'s 'small or micro' (covered-pledge-loan#when1)."""
    covered = ot03_loan("c1", "covered_pledge_loan", "800000.00", "3.00%", "2022-03-01", "2023-03-01", covered_by="guarantee_insurance")
    d = decide("OT03", claim("OT03", OT03_SMALL, 2023, covered))
    assert items(d) == {"c1": ("granted", "12000.00", "12000.00", [])}
    medium = dict(OT03_SMALL, id="91350100MA2OT03002", size="medium")
    refused = decide("OT03", claim("OT03", medium, 2023, covered))
    assert items(refused)["c1"][0] == "refused"
    assert items(refused)["c1"][3] == ["covered-pledge-loan#when1"]


# --- OT12: 60% of the premium (70% uplifted, note OT12-N1), caps per type per enterprise per year ---------------

OT12_CO = {"id": "91370000MA3OT12001", "name": "山东示例知识产权保险投保企业有限公司", "kind": "enterprise"}


def ot12_policy(item_id: str, kind: str, premium: str, high_value: bool, **more: Any) -> dict[str, Any]:
    return {"id": item_id, "type": kind, "policy_no": f"PN-{item_id}", "premium_paid": premium, "high_value_patent": high_value, **more}


def test_ot12_enforcement_cap_reached_after_rounding_then_exceeded_by_a_cent() -> None:
    """Enforcement insurance, 60%, at most 200,000 a year. 333,333.33 x 60% = 199,999.998 -> 200,000.00, exactly the
    cap: granted. Another enterprise: 333,333.35 x 60% = 200,000.01 -> reduced by 0.01 to 200,000.00."""
    exact = decide("OT12", claim("OT12", OT12_CO, 2021, ot12_policy("e1", "enforcement_insurance", "333333.33", False)))
    assert items(exact) == {"e1": ("granted", "200000.00", "200000.00", [])}
    other = dict(OT12_CO, id="91370000MA3OT12009")
    over = decide("OT12", claim("OT12", other, 2021, ot12_policy("e1", "enforcement_insurance", "333333.35", False)))
    assert items(over) == {"e1": ("reduced", "200000.00", "200000.01", [])}


def test_ot12_uplifted_cap_reached_after_rounding_then_exceeded_by_a_cent() -> None:
    """High-value patent: 70% and at most 300,000. 428,571.43 x 70% = 300,000.001 -> 300,000.00: granted in full.
    Another enterprise: 428,571.44 x 70% = 300,000.008 -> 300,000.01: reduced to 300,000.00."""
    exact = decide("OT12", claim("OT12", OT12_CO, 2021, ot12_policy("e1", "enforcement_insurance", "428571.43", True)))
    assert items(exact) == {"e1": ("granted", "300000.00", "300000.00", [])}
    other = dict(OT12_CO, id="91370000MA3OT12009")
    over = decide("OT12", claim("OT12", other, 2021, ot12_policy("e1", "enforcement_insurance", "428571.44", True)))
    assert items(over) == {"e1": ("reduced", "300000.00", "300000.01", [])}


def test_ot12_ordinary_overseas_policy_after_an_uplifted_one_used_more_than_its_own_ceiling() -> None:
    """Note OT12-N2 (each policy's ceiling is its own, less what the year's other policies of the type used): o1, Belt
    and Road target, 642,857.14 x 70% = 449,999.998 -> 450,000.00, within 500,000: granted. o2, an ordinary
    overseas policy, 100,000.00 x 60% = 60,000.00 against the ordinary ceiling 400,000 with 450,000 already used:
    nothing left, refused by the cap (not paid the 50,000 left under the uplifted ceiling)."""
    d = decide(
        "OT12",
        claim(
            "OT12",
            OT12_CO,
            2021,
            ot12_policy("o1", "overseas_liability_insurance", "642857.14", False, belt_and_road_target=True),
            ot12_policy("o2", "overseas_liability_insurance", "100000.00", False, belt_and_road_target=False),
        ),
    )
    assert items(d) == {
        "o1": ("granted", "450000.00", "450000.00", []),
        "o2": ("refused", "0.00", "60000.00", ["overseas-annual-cap"]),
    }


# --- OT13: Wuhu items 14-16 ---------------------------------------------------------------------------------------

OT13_CO = {"id": "91340200MA2WH13001", "name": "芜湖示例机器人有限公司", "kind": "enterprise"}
OT13_INSTITUTE = {"id": "12340200WH13000002", "name": "芜湖示例研究院", "kind": "institution"}
ROBOTS = "芜湖机器人产业知识产权联盟"


def ot13_annuity(item_id: str, granted: str, paid: str, amount: str) -> dict[str, Any]:
    facts = {"patent_id": f"ZL-{item_id}", "grant_date": granted, "payment_date": paid, "annuity_paid": amount}
    return {"id": item_id, "type": "invention_annuity", **facts}


def test_ot13_five_countries_exactly_and_annuities_at_the_grant_years_edges() -> None:
    """14.1 (note WH-N1): 20,000 per country, at most 5: a foreign invention granted in exactly 5 countries,
    5 x 20,000 = 100,000.00 (the ceiling on the count reached, not passed).
    14.2 (note WH-N2: 6 calendar years, the year of grant the first; 80%, rounded to the cent):
    a1 granted 2018-01-05, annuity 1,234.57 paid 2017-12-30, the year BEFORE the year of grant: not 'from the year of
       grant' -> refused (invention-annuity#when1);
    a2 granted 2018-01-05, 1,234.57 paid 2018-12-31, the first year: 1,234.57 x 80% = 987.656 -> 987.66."""
    foreign = {"id": "f1", "type": "foreign_invention_patent", "family_id": "PCT-H1", "countries": 5}
    d = decide(
        "OT13",
        claim(
            "OT13",
            OT13_CO,
            2018,
            foreign,
            ot13_annuity("a1", "2018-01-05", "2017-12-30", "1234.57"),
            ot13_annuity("a2", "2018-01-05", "2018-12-31", "1234.57"),
        ),
    )
    assert items(d) == {
        "f1": ("granted", "100000.00", "100000.00", []),
        "a1": ("refused", "0.00", "987.66", ["invention-annuity#when1"]),
        "a2": ("granted", "987.66", "987.66", []),
    }


def test_ot13_provincial_patent_award_is_for_an_enterprises_team_only() -> None:
    """15: 'provincial patent gold / excellence award to the ENTERPRISE's invention team': a research institute
    claiming a provincial gold award is refused (title-award#when1), while the same institute's China Patent Gold
    Award 'to the unit' is paid 500,000.00."""
    d = decide(
        "OT13",
        claim(
            "OT13",
            OT13_INSTITUTE,
            2018,
            {"id": "t1", "type": "title_award", "title": "provincial_patent_gold", "award_patent_id": "ZL201410000003.5"},
            {"id": "t2", "type": "title_award", "title": "china_patent_gold", "award_patent_id": "ZL201410000003.5"},
        ),
    )
    got = items(d)
    assert got["t1"][0] == "refused"
    assert got["t1"][3] == ["title-award#when1"]
    assert got["t2"] == ("granted", "500000.00", "500000.00", [])


def test_ot13_tie_at_the_tenth_place_of_an_alliance_goes_by_application_order() -> None:
    """16 with note WH-N3 (ties by the order of the applications): eleven eligible members of one alliance.
    M01..M09 have 20, 19, ..., 12 grants (places 1-9); M11 and M10 both have 11, M11 listed before M10.
    Place 10 is M11 (listed first), M10 is 11th: refused by the selection; 10 x 100,000 = 1,000,000.00 paid."""
    grants = {f"M{n:02d}": 21 - n for n in range(1, 10)} | {"M11": 11, "M10": 11}
    claims = [
        claim(
            "OT13",
            dict(OT13_CO, id=f"91340200MA2WH3{n:04d}"),
            2018,
            {"id": "m", "type": "alliance_member", "alliance_id": ROBOTS, "alliance_city_approved": True, "invention_grants": g},
            claim_id=m,
        )
        for n, (m, g) in enumerate(grants.items())
    ]
    decisions, errors = decide_in_memory(policy("OT13"), claims)
    assert errors == []
    status = {d["claim_id"]: (d["items"][0]["status"], d["items"][0]["amount"]) for d in decisions}
    assert status["M11"] == ("granted", "100000.00")
    assert status["M10"] == ("refused", "0.00")
    assert [m for m, s in status.items() if s[0] == "granted"] == [f"M{n:02d}" for n in range(1, 10)] + ["M11"]
    assert sum(float(d["total"]) for d in decisions) == 1_000_000


def ot13_title(item_id: str, title: str, **facts: str) -> dict[str, Any]:
    return {"id": item_id, "type": "title_award", "title": title, **facts}


def test_ot13_two_excellence_awards_for_two_patents_are_two_awards() -> None:
    """15 'Titles and awards (one-off ...)': one-off is a lump sum, not once per kind of award (note WH-N4). An
    enterprise whose two patents each won a China Patent Excellence Award in 2018: 200,000 + 200,000 = 400,000.00.
    (The policy counted one award per unit and level, and refused p2 by title-once.) An award claimed without the
    awarded patent's number cannot be counted: it waits (incomplete), nothing paid."""
    d = decide(
        "OT13",
        claim(
            "OT13",
            OT13_CO,
            2018,
            ot13_title("p1", "china_patent_excellence", award_patent_id="ZL201410000003.5"),
            ot13_title("p2", "china_patent_excellence", award_patent_id="ZL201510000001.0"),
            ot13_title("p3", "china_patent_excellence"),
        ),
    )
    got = items(d)
    assert (got["p1"], got["p2"]) == (("granted", "200000.00", "200000.00", []), ("granted", "200000.00", "200000.00", []))
    assert got["p3"][0] == "incomplete"
    assert d["total"] == "400000.00"


def test_ot13_titles_newly_recognised_in_the_funding_year_only() -> None:
    """15 'newly recognised national IP demonstration / advantage enterprise' (note WH-N5: recognised in the funding
    year, the provincial titles too). Funding year 2018:
    n1 national advantage recognised 2018-01-01 (the year's first day): 200,000.00;
    n2 provincial demonstration recognised 2018-12-31 (its last day): 200,000.00;
    n3 national demonstration recognised 2017-12-31 (a day before the year): refused (title-award#when2).
    Total 400,000.00."""
    d = decide(
        "OT13",
        claim(
            "OT13",
            OT13_CO,
            2018,
            ot13_title("n1", "national_advantage", recognised_date="2018-01-01"),
            ot13_title("n2", "provincial_demonstration", recognised_date="2018-12-31"),
            ot13_title("n3", "national_demonstration", recognised_date="2017-12-31"),
        ),
    )
    got = items(d)
    assert got["n1"] == ("granted", "200000.00", "200000.00", [])
    assert got["n2"] == ("granted", "200000.00", "200000.00", [])
    assert (got["n3"][0], got["n3"][3]) == ("refused", ["title-award#when2"])
    assert d["total"] == "400000.00"


# --- SH01: Shanghai chapter 3: 70% advance, balance after the two-year term, 40万 / 60万 per term ------------------

SH01_CO = {"id": "91310000MA1SH01001", "name": "上海示例专利试点企业有限公司", "kind": "enterprise"}


def sh01_advance(item_id: str, term: str, total: str) -> dict[str, Any]:
    facts = {"recognised": True, "documents": ["work_plan", "funding_budget"], "approved_total": total}
    return {"id": item_id, "type": "special_funding_advance", "date": "2021-03-01", "term_id": term, "designation": "pilot", **facts}


def sh01_balance(item_id: str, term: str, total: str, date: str) -> dict[str, Any]:
    facts = {"recognised": True, "term_start": "2021-01-01", "assessment_passed": True, "approved_total": total}
    return {"id": item_id, "type": "special_funding_balance", "date": date, "term_id": term, "designation": "pilot", **facts}


def test_sh01_advance_reaches_the_pilot_term_cap_exactly_then_exceeds_it_by_a_cent() -> None:
    """[S18] stage 1 (70% of the approved total, note SH-N2) under [S17] (pilot: 400,000 per term). Two terms:
    T-A approved 571,428.57 x 70% = 399,999.999 -> 400,000.00: granted, the cap reached exactly;
    T-B approved 571,428.59 x 70% = 400,000.013 -> 400,000.01: reduced by 0.01 to 400,000.00."""
    d = decide("SH01", claim("SH01", SH01_CO, 2021, sh01_advance("a", "T-A", "571428.57"), sh01_advance("b", "T-B", "571428.59")))
    assert items(d) == {"a": ("granted", "400000.00", "400000.00", []), "b": ("reduced", "400000.00", "400000.01", [])}


def test_sh01_balance_on_the_first_day_after_the_term_and_after_a_full_advance() -> None:
    """[S18] stage 2: a term from 2021-01-01 runs two years, to 2022-12-31; the assessment of 2023-01-01 comes 'when
    the term ends' (2022-12-31 is refused by the officers' cases). Earlier advances (2021): T-C 400,000 x 70% =
    280,000.00; T-A 571,428.57 x 70% = 400,000.00 (the whole cap).
    T-C balance: 400,000.00 - 280,000.00 = 120,000.00, room 400,000 - 280,000 = 120,000: granted in full.
    T-A balance: 571,428.57 - 400,000.00 = 171,428.57 asked, room 400,000 - 400,000 = 0: refused by term-cap."""
    earlier = decide("SH01", claim("SH01", SH01_CO, 2021, sh01_advance("a1", "T-C", "400000.00"), sh01_advance("a2", "T-A", "571428.57")))
    assert earlier["total"] == "680000.00"  # 280,000 + 400,000
    d = decide(
        "SH01",
        claim(
            "SH01",
            SH01_CO,
            2023,
            sh01_balance("b1", "T-C", "400000.00", "2023-01-01"),
            sh01_balance("b2", "T-A", "571428.57", "2023-01-01"),
        ),
        earlier["grants"],
    )
    assert items(d) == {"b1": ("granted", "120000.00", "120000.00", []), "b2": ("refused", "0.00", "171428.57", ["term-cap"])}


def test_sh01_balance_for_a_unit_never_recognised_is_refused() -> None:
    """[S15]: only units recognised as patent-work pilot or demonstration units are funded, at either stage. A unit
    never recognised (so never advanced anything) claimed the 'balance' of a 400,000.00 pilot term after a passed
    assessment: the policy paid 400,000.00 - 0 = 400,000.00, the whole term, since only the advance asked [S15].
    Now refused by special-funding-balance#when3 ([S15]); the same claim by a recognised unit is still 400,000.00
    (no advance paid, so the balance is the whole approved total, within the 400,000 cap)."""
    unit = dict(SH01_CO, id="91310000MA1SH01009")
    balance = sh01_balance("b1", "T-X", "400000.00", "2023-02-15")
    refused = decide("SH01", claim("SH01", unit, 2023, dict(balance, recognised=False)))
    assert items(refused)["b1"][0] == "refused"
    assert items(refused)["b1"][3] == ["special-funding-balance#when3"]
    granted = decide("SH01", claim("SH01", unit, 2023, balance))
    assert items(granted) == {"b1": ("granted", "400000.00", "400000.00", [])}


# --- SZ01: Bao'an certification reward, 10万 once, at most 120 a year by first issue date, then acceptance ----------

SZ01_UNIT = {"id": "91440306MA5SZ00001", "name": "宝安示例贯标企业有限公司", "kind": "enterprise", "meets_basic_conditions": True}
SZ01_CLAIM = {"submission_date": "2020-06-30", "documents": ["application_materials"]}


def sz01_reward(first: str, accepted: str, **counts: int) -> dict[str, Any]:
    none = {"new_invention_patents": 0, "new_utility_models": 0, "new_designs": 0, "new_software_copyrights": 0}
    facts = {"certificate_in_order": True, "surveillance_audit_passed": True, "certified_address_in_baoan": True}
    return {
        "id": "c",
        "type": "certification_reward",
        "certificate_no": "18120IP0001R0M",
        "first_certificate_date": first,
        "accepted_date": accepted,
        **facts,
        **none,
        **counts,
    }


def test_sz01_two_designs_exactly_and_a_finding_one_day_inside_two_years() -> None:
    """[B2] item 3: '2 granted designs' (note SZ-N1: 2 or more): exactly 2 designs and nothing else -> 100,000.00.
    [B2] item 5 with note SZ-N2: submission 2020-06-30; a finding of 2018-07-01 + 2 years = 2020-07-01 > 2020-06-30,
    one day inside the last two years -> refused by no-recent-infringement (the officers' case of 2018-06-30 is the
    day outside)."""
    ok = decide("SZ01", claim("SZ01", SZ01_UNIT, 2020, sz01_reward("2019-05-20", "2020-07-06", new_designs=2), **SZ01_CLAIM))
    assert items(ok) == {"c": ("granted", "100000.00", "100000.00", [])}
    found = dict(SZ01_UNIT, infringement_finding_dates=["2018-07-01"])
    refused = decide("SZ01", claim("SZ01", found, 2020, sz01_reward("2019-05-20", "2020-07-06", new_designs=2), **SZ01_CLAIM))
    assert items(refused)["c"][0] == "refused"
    assert "no-recent-infringement" in items(refused)["c"][3]


def test_sz01_tie_on_both_dates_at_the_120th_place_goes_by_application_order() -> None:
    """[B3] with note SZ-N3: 121 eligible units. U001..U119 have first issue dates 2019-01-01 + (n - 1) days
    (2019-01-01 .. 2019-04-29), places 1-119. TIE-B and TIE-A share the latest date 2019-12-01 AND the acceptance
    date 2020-07-08; TIE-B is listed first, so it is 120th and paid, TIE-A 121st and refused.
    120 x 100,000 = 12,000,000.00 paid."""

    def one(claim_id: str, n: int, first: str) -> dict[str, Any]:
        unit = dict(SZ01_UNIT, id=f"91440306MA5SZ3{n:04d}")
        return claim("SZ01", unit, 2020, sz01_reward(first, "2020-07-08", new_invention_patents=1), claim_id=claim_id, **SZ01_CLAIM)

    start = dt.date(2019, 1, 1)
    claims = [one("TIE-B", 200, "2019-12-01"), one("TIE-A", 201, "2019-12-01")]
    claims += [one(f"U{n:03d}", n, (start + dt.timedelta(days=n - 1)).isoformat()) for n in range(119, 0, -1)]
    decisions, errors = decide_in_memory(policy("SZ01"), claims)
    assert errors == []
    status = {d["claim_id"]: d["items"][0]["status"] for d in decisions}
    assert (status["TIE-B"], status["TIE-A"], status["U119"], status["U001"]) == ("granted", "refused", "granted", "granted")
    assert sorted(status.values()).count("granted") == 120
    assert sum(int(d["total"].split(".")[0]) for d in decisions) == 12_000_000


# --- BJ05: Haidian matching reward: the lesser of the claim and the award's maximum; a credit report from 30万 ------

BJ05_CO = {
    "id": "91110108MA0BJ05001",
    "name": "海淀示例科技有限公司",
    "kind": "enterprise",
    "registered_and_taxed_in_haidian": True,
    "in_haidian_park_statistics": True,
    "meets_general_conditions": True,
    "has_ip_management_system": True,
    "has_ip_department": False,
    "ip_staff": 6,
}


def bj05_award(
    item_id: str, award: str, claimed: str, date: str = "2018-12-10", docs: tuple[str, ...] = ("award_certificate",)
) -> dict[str, Any]:
    facts = {"patent_id": "ZL201510000001.0", "award": award, "award_date": date, "amount_claimed": claimed}
    return {"id": item_id, "type": "patent_award", **facts, "documents": list(docs)}


def test_bj05_a_cent_below_the_credit_threshold_and_a_cent_above_the_first_prize_maximum() -> None:
    """[H4]: below 300,000 claimed, no credit report and no grade are needed: 299,999.99 claimed for a China silver
    award (maximum 500,000) by an enterprise graded B, without a report -> granted 299,999.99.
    [H5] with note BJ05-N1: 300,000.01 claimed for a Beijing first prize (maximum 300,000) -> the lesser, 300,000.00,
    which reaches 300,000 (note BJ05-N2): report required and given, grade A, no adverse record -> 300,000.00."""
    low = dict(BJ05_CO, credit_grade="b", adverse_credit_record=False)
    d = decide("BJ05", claim("BJ05", low, 2019, bj05_award("s1", "china_silver", "299999.99")))
    assert items(d) == {"s1": ("granted", "299999.99", "299999.99", [])}
    good = dict(BJ05_CO, credit_grade="a", adverse_credit_record=False)
    d = decide(
        "BJ05", claim("BJ05", good, 2019, bj05_award("b1", "beijing_first", "300000.01", docs=("award_certificate", "credit_report")))
    )
    assert items(d) == {"b1": ("granted", "300000.00", "300000.00", [])}


def test_bj05_awards_won_on_the_first_day_of_2018_and_the_first_day_of_2019() -> None:
    """[H1] 'won, in 2018': an award dated 2018-01-01 is in (250,000.00 claimed, below every maximum: paid as claimed);
    one dated 2019-01-01 is out -> refused by patent-award-matching#when1."""
    d = decide(
        "BJ05",
        claim(
            "BJ05",
            dict(BJ05_CO, credit_grade="a", adverse_credit_record=False),
            2019,
            bj05_award("g1", "china_gold", "250000.00", date="2018-01-01"),
            bj05_award("s1", "beijing_special", "250000.00", date="2019-01-01"),
        ),
    )
    got = items(d)
    assert got["g1"] == ("granted", "250000.00", "250000.00", [])
    assert got["s1"][0] == "refused"
    assert got["s1"][3] == ["patent-award-matching#when1"]


def test_bj05_two_gold_awards_for_two_patents_are_two_awards() -> None:
    """[H5] 'Frequency: one-off per award' (note BJ05-N3): an award is one patent's prize. A unit whose two patents
    each won a 20th China Patent gold award in 2018 holds two awards, each 'up to 1,000,000': claimed 1,000,000.00
    each, credit report given, grade A -> 1,000,000.00 + 1,000,000.00 = 2,000,000.00. (The policy counted once per
    unit and award level, and refused g2 by once-per-award.) The same patent's gold award claimed again the next
    claim is still refused by once-per-award."""
    unit = dict(BJ05_CO, credit_grade="a", adverse_credit_record=False)
    docs = ("award_certificate", "credit_report")
    g1 = bj05_award("g1", "china_gold", "1000000.00", docs=docs)
    g2 = dict(bj05_award("g2", "china_gold", "1000000.00", docs=docs), patent_id="ZL201610000002.X")
    d = decide("BJ05", claim("BJ05", unit, 2019, g1, g2))
    assert items(d) == {"g1": ("granted", "1000000.00", "1000000.00", []), "g2": ("granted", "1000000.00", "1000000.00", [])}
    assert d["total"] == "2000000.00"
    again = decide("BJ05", dict(claim("BJ05", unit, 2019, dict(g1, id="g3")), claim_id="BJ05-H-again"), d["grants"])
    assert items(again)["g3"][0] == "refused"
    assert items(again)["g3"][3] == ["once-per-award"]


# --- ambiguities the policies read without a note, now noted where the officer sees them --------------------------


def test_ot10_public_institution_is_held_to_the_enterprise_cap_and_told_why() -> None:
    """Who admits public institutions; Cap speaks of 'per enterprise' only. The policy holds an institution to the
    same 500,000 a year (note OT10-N4): 30,000,000.00 fully secured by a software copyright, a whole year from
    2018-03-01 at 4.35%: 30,000,000 x 4.35% x 50% = 652,500.00, reduced to 500,000.00. The explanation quotes the
    note that settles the reading."""
    institute = {"id": "12000000OT10000002", "name": "示例软件研究所", "kind": "public_institution"}
    loan = dict(ot10_loan("X", "30000000.00", "1.0000", "within_one_year", "2018-03-01", "2019-03-01"), pledged_right="software_copyright")
    d = decide("OT10", claim("OT10", institute, 2018, loan))
    assert items(d) == {"X": ("reduced", "500000.00", "652500.00", [])}
    assert "OT10-N4: Cap says 'per enterprise at most 500,000 per year' while Who also admits public institutions" in engine.explain(
        policy("OT10"), d, lang="en"
    )


def test_bj05_award_certificate_asked_although_the_extraction_lists_no_materials_says_so() -> None:
    """The extraction has no materials section; the policy asks for the award certificate (and, from 300,000, [H4]'s
    credit report). A China gold award claimed at 1,000,000.00 without the certificate waits (incomplete,
    provisionally 1,000,000.00), and the explanation names the note BJ05-N5 that makes the choice."""
    unit = dict(BJ05_CO, credit_grade="a", adverse_credit_record=False)
    d = decide("BJ05", claim("BJ05", unit, 2019, bj05_award("g1", "china_gold", "1000000.00", docs=("credit_report",))))
    [it] = d["items"]
    assert (it["status"], it["amount"], it["asked"]) == ("incomplete", "0.00", "1000000.00")
    assert "BJ05-N5: The extraction lists no application materials" in engine.explain(policy("BJ05"), d, lang="en")


def test_sz01_enterprise_only_although_the_text_says_unit_says_why() -> None:
    """[B1]/[B3] say 'unit' (每家); the policy admits enterprises only, as item 2's certificate (GB/T 29490-2013, the
    enterprise standard) implies. A certified enterprise with 2 utility models since certification is paid
    100,000.00, and its explanation quotes note SZ-N4, which gives the reason for the choice."""
    d = decide("SZ01", claim("SZ01", SZ01_UNIT, 2020, sz01_reward("2019-05-20", "2020-07-06", new_utility_models=2), **SZ01_CLAIM))
    assert items(d) == {"c": ("granted", "100000.00", "100000.00", [])}
    assert "SZ-N4: [B1] and [B3] speak of a 'unit'" in engine.explain(policy("SZ01"), d, lang="en")
