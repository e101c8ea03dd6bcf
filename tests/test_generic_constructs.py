"""The engine is generic: a second, fictional district's measures, evaluated with no engine change.

`tests/fixtures/fictional_district.yaml` encodes the invented 湖畔区创新促进办法
(Lakeside District Innovation Measures, text in `fictional_district.zh.txt`).
Each construct that other districts' measures commonly use has its own rule:

* value bands (第四条第（一）项) and count bands (第四条第（二）项);
* a per-unit amount times a count with a ceiling on the count (第五条);
* the lesser of the actual cost and a standard amount (第六条);
* one cap shared by two item types (第七条第二款);
* a yearly limit on how many items an applicant may claim, shared by two item types (第八条第二款);
* only the highest of several awards for the same project (第九条第二款);
* 补差: only the difference to an earlier, lower award (第十条).

Every expected amount is worked out by hand from the fictional clause text, in the comments.
"""

from __future__ import annotations

import copy
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import ENTERPRISE_2_ID, ENTERPRISE_ID, ROOT, history_grant

import engine
from engine.officer.casefile import load_cases

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "fictional_district.yaml"

DOCS: dict[str, list[str]] = {
    "rd_investment": ["proof"],
    "invention_patent_count": ["proof"],
    "pct_patent": ["proof"],
    "testing_certification": ["proof", "fee_receipts"],
    "overseas_exhibition": ["proof", "fee_receipts"],
    "overseas_trademark": ["proof", "fee_receipts"],
    "research_cooperation": ["proof", "fee_receipts"],
    "achievement_transfer": ["proof"],
    "science_award": ["proof"],
    "competition_award": ["proof"],
    "specialised_enterprise": ["proof"],
}

APPLICANT = {
    "id": ENTERPRISE_ID,
    "name": "湖畔示例科技有限公司",
    "kind": "enterprise",
    "registered_in_district": True,
    "pays_tax_in_district": True,
}
CAP = "international-market-annual-cap"
LIMIT = "cooperation-three-projects-a-year"


@pytest.fixture(scope="module")
def lakeside() -> engine.CompiledPolicy:
    return engine.load_policy(FIXTURE)


def item(item_type: str, item_id: str | None = None, *, date: str = "2024-06-01", **facts: Any) -> dict[str, Any]:
    return {"id": item_id or item_type, "type": item_type, "date": date, "documents": list(DOCS[item_type]), **facts}


def claim(
    *items: dict[str, Any], funding_year: int = 2024, claim_id: str = "L-1", history: list[dict[str, Any]] | None = None, **applicant: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "claim_id": claim_id,
        "funding_year": funding_year,
        "documents": ["business_licence"],
        "applicant": {**copy.deepcopy(APPLICANT), **applicant},
        "items": list(items),
    }
    if history is not None:
        out["history"] = history
    return out


def decide(policy: engine.CompiledPolicy, data: dict[str, Any], history: Any = ()) -> dict[str, dict[str, Any]]:
    decision = engine.evaluate(policy, data, history).to_dict()
    return {d["item"]: d for d in decision["items"]}


def outcome(d: dict[str, Any]) -> tuple[str, str]:
    return d["status"], d["amount"]


def grant(
    rule: str,
    amount: str,
    *consumes: dict[str, Any],
    funding_year: int = 2023,
    item_id: str = "old",
    claim_id: str = "L-0",
    applicant_id: str = ENTERPRISE_ID,
) -> dict[str, Any]:
    """conftest.history_grant with this district's defaults (an earlier grant of 2023)."""
    return history_grant(rule, amount, *consumes, year=funding_year, applicant_id=applicant_id, claim_id=claim_id, item_id=item_id)


def steps(d: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [s for s in d["steps"] if s["step"] == kind]


# --- the fixture itself -------------------------------------------------------------------------


def test_fixture_is_a_complete_valid_policy(lakeside: engine.CompiledPolicy) -> None:
    """Schema-valid, every clause verbatim in the source text, one rule per item type."""
    assert lakeside.id == "lakeside-innovation"
    assert lakeside.title.zh == "湖畔区创新促进办法"
    assert lakeside.funding_years == (2024, 2026)
    assert len(lakeside.rules) == 11 == len(lakeside.item_type_labels)
    source = (FIXTURE.parent / "fictional_district.zh.txt").read_text(encoding="utf-8")
    for clause in lakeside.clauses.values():
        assert clause.text in source
    kinds = {type(r.amount).__name__ for r in lakeside.rules}
    assert {"BandsAmount", "PerUnitAmount", "LeastAmount", "RateAmount", "FixedAmount", "TableAmount"} <= kinds


def test_engine_source_names_nothing_of_either_district() -> None:
    """Nothing of the fictional district was added to the engine to make these tests pass."""
    words = ("湖畔", "Lakeside", "lakeside", "专精特新", "specialised", "international-market", "award-project", "countries")
    for path in (ROOT / "engine").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not [w for w in words if w in text], path


def test_decision_validates_against_the_decision_schema(lakeside: engine.CompiledPolicy) -> None:
    import json

    data = claim(
        item("rd_investment", "rd", rd_spending="12345678.90"),
        item("pct_patent", "pct", patent_id="PCT/CN2023/1", countries=3),
        item("testing_certification", "tc", certificate_id="TC-1", actual_cost="80000.00"),
        item("science_award", "s1", project_id="P1", level="district"),
    )
    out = json.loads(engine.evaluate(lakeside, data).to_json())
    schema = json.loads((ROOT / "schemas" / "decision.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(out)


# --- value bands: 第四条第（一）项 -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spending", "expected"),
    [
        ("3000000.00", ("granted", "100000.00")),  # 300万: band 100万–500万 -> 10万
        ("1000000.00", ("granted", "100000.00")),  # 100万 exactly: "以上" includes the bound
        ("4999999.99", ("granted", "100000.00")),  # just under 500万
        ("5000000.00", ("granted", "300000.00")),  # 500万 exactly -> 30万
        ("9999999.99", ("granted", "300000.00")),  # just under 1000万
        ("10000000.00", ("granted", "400000.00")),  # 1000万 × 4% = 40万
        ("12345678.90", ("granted", "493827.16")),  # × 4% = 493,827.156 -> 493,827.16 (half up, 0.01)
        ("20000000.00", ("granted", "800000.00")),  # × 4% = 80万: exactly the ceiling, not reduced
    ],
)
def test_value_bands_typical_and_boundaries(lakeside: engine.CompiledPolicy, spending: str, expected: tuple[str, str]) -> None:
    d = decide(lakeside, claim(item("rd_investment", "rd", rd_spending=spending)))["rd"]
    assert outcome(d) == expected


def test_value_bands_rate_band_then_ceiling_bites(lakeside: engine.CompiledPolicy) -> None:
    # 2500万 × 4% = 100万 asked; 最高不超过 80 万元 -> reduced to 80万
    d = decide(lakeside, claim(item("rd_investment", "rd", rd_spending="25000000.00")))["rd"]
    assert (d["status"], d["amount"], d["asked"]) == ("reduced", "800000.00", "1000000.00")
    (amount,) = steps(d, "amount")
    assert amount["form"] == "bands"
    assert amount["band"] == {"from": "10000000.00", "amount": None, "rate": "0.04"}
    (cap,) = steps(d, "cap")
    assert (cap["cap"], cap["scope"], cap["reduced_by"], cap["cites"]) == ("rd-investment-ceiling", "item", "200000.00", "第四条第（一）项")


def test_value_bands_below_the_first_band_is_refused(lakeside: engine.CompiledPolicy) -> None:
    # 99.999999万 is below 100万: no band applies, nothing to pay
    d = decide(lakeside, claim(item("rd_investment", "rd", rd_spending="999999.99")))["rd"]
    assert outcome(d) == ("refused", "0.00")
    assert [r["check"] for r in d["reasons"]] == ["rd-investment#zero"]
    assert steps(d, "amount")[0]["band"] is None


# --- count bands: 第四条第（二）项 -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("patents", "expected"),
    [
        (4, ("refused", "0.00")),  # fewer than 5: no band
        (5, ("granted", "50000.00")),  # 5 件以上 -> 5万
        (9, ("granted", "50000.00")),
        (10, ("granted", "100000.00")),  # 10 件以上 -> 10万
        (19, ("granted", "100000.00")),
        (20, ("granted", "200000.00")),  # 20 件以上 -> 20万
        (150, ("granted", "200000.00")),  # the top band has no upper end
    ],
)
def test_count_bands(lakeside: engine.CompiledPolicy, patents: int, expected: tuple[str, str]) -> None:
    d = decide(lakeside, claim(item("invention_patent_count", "n", new_invention_patents=patents)))["n"]
    assert outcome(d) == expected


# --- per unit × count with a ceiling on the count: 第五条 ---------------------------------------


@pytest.mark.parametrize(
    ("countries", "expected"),
    [
        (1, ("granted", "100000.00")),  # 1 × 10万
        (2, ("granted", "200000.00")),  # 2 × 10万: at the ceiling on the count
        (3, ("granted", "200000.00")),  # 3 countries, at most 2 count: 2 × 10万
        (0, ("refused", "0.00")),  # no country of grant: nothing to pay
    ],
)
def test_per_unit_times_count(lakeside: engine.CompiledPolicy, countries: int, expected: tuple[str, str]) -> None:
    d = decide(lakeside, claim(item("pct_patent", "p", patent_id="PCT/CN2023/000001", countries=countries)))["p"]
    assert outcome(d) == expected


def test_per_unit_trace_shows_the_count_ceiling(lakeside: engine.CompiledPolicy) -> None:
    d = decide(lakeside, claim(item("pct_patent", "p", patent_id="PCT/CN2023/000001", countries=5)))["p"]
    (amount,) = steps(d, "amount")
    assert (amount["form"], amount["per_unit"], amount["count"]["value"], amount["counted"], amount["max_count"]) == (
        "per_unit",
        "100000.00",
        5,
        2,
        2,
    )
    assert d["asked"] == "200000.00"  # the ceiling on the count is part of the amount, not a cap


def test_per_unit_once_per_patent_with_history(lakeside: engine.CompiledPolicy) -> None:
    # 每件专利只奖励一次: the same patent rewarded last year is refused this year
    history = [grant("pct-patent", "100000.00", {"limit": "pct-patent-once", "scope": ["PCT/CN2023/000001"], "counts": ["L-0", "old"]})]
    d = decide(
        lakeside,
        claim(
            item("pct_patent", "p", patent_id="PCT/CN2023/000001", countries=2),
            item("pct_patent", "q", patent_id="PCT/CN2023/000002", countries=2),
            history=history,
        ),
    )
    assert outcome(d["p"]) == ("refused", "0.00")
    assert [r["check"] for r in d["p"]["reasons"]] == ["pct-patent-once"]
    assert outcome(d["q"]) == ("granted", "200000.00")


# --- the lesser of the actual cost and a standard amount: 第六条 --------------------------------


@pytest.mark.parametrize(
    ("cost", "expected"),
    [
        ("32000.00", ("granted", "32000.00")),  # below the 5万 standard: the actual cost
        ("12345.67", ("granted", "12345.67")),  # exact to the fen (100% of the cost)
        ("50000.00", ("granted", "50000.00")),  # equal to the standard
        ("50000.01", ("granted", "50000.00")),  # one fen above: the standard
        ("80000.00", ("granted", "50000.00")),  # above: the standard
        ("0.00", ("refused", "0.00")),  # no cost, no subsidy
    ],
)
def test_least_of_cost_and_standard(lakeside: engine.CompiledPolicy, cost: str, expected: tuple[str, str]) -> None:
    d = decide(lakeside, claim(item("testing_certification", "t", certificate_id="TC-1", actual_cost=cost)))["t"]
    assert outcome(d) == expected


def test_least_trace_lists_both_candidates(lakeside: engine.CompiledPolicy) -> None:
    d = decide(lakeside, claim(item("testing_certification", "t", certificate_id="TC-1", actual_cost="80000.00")))["t"]
    least = [s for s in steps(d, "amount") if s["form"] == "least"]
    assert least[0]["candidates"] == ["80000.00", "50000.00"]
    assert (d["status"], d["asked"]) == ("granted", "50000.00")


# --- one cap shared by two item types: 第七条第二款 ---------------------------------------------


def test_shared_cap_typical(lakeside: engine.CompiledPolicy) -> None:
    # 12万 booth fee × 50% = 6万; 10万 registration fees × 50% = 5万; 11万 < 20万
    d = decide(
        lakeside,
        claim(
            item("overseas_exhibition", "e", fair="Hannover Messe", booth_fee="120000.00"),
            item("overseas_trademark", "t", trademark_id="EUTM-1", registration_fee="100000.00"),
        ),
    )
    assert outcome(d["e"]) == ("granted", "60000.00")
    assert outcome(d["t"]) == ("granted", "50000.00")


def test_shared_cap_bites_across_item_types(lakeside: engine.CompiledPolicy) -> None:
    # 30万 × 50% = 15万 (room 20万); then 20万 × 50% = 10万 asked, room 20万 − 15万 = 5万 -> reduced;
    # then a third item of either type: room 0 -> refused by the cap
    d = decide(
        lakeside,
        claim(
            item("overseas_exhibition", "e", fair="Canton", booth_fee="300000.00"),
            item("overseas_trademark", "t", trademark_id="EUTM-1", registration_fee="200000.00"),
            item("overseas_exhibition", "e2", fair="CES", booth_fee="10000.00"),
        ),
    )
    assert outcome(d["e"]) == ("granted", "150000.00")
    assert (d["t"]["status"], d["t"]["amount"], d["t"]["asked"]) == ("reduced", "50000.00", "100000.00")
    (cap,) = steps(d["t"], "cap")
    assert (cap["cap"], cap["cites"], cap["scope"], cap["used_before"], cap["granted"]) == (
        CAP,
        "第七条第二款",
        [ENTERPRISE_ID, 2024],
        "150000.00",
        "50000.00",
    )
    assert outcome(d["e2"]) == ("refused", "0.00")
    assert [(r["category"], r["check"], r["cites"]) for r in d["e2"]["reasons"]] == [("cap", CAP, "第七条第二款")]
    assert "第七条第二款" in d["t"]["cites"]


def test_shared_cap_order_follows_the_claim(lakeside: engine.CompiledPolicy) -> None:
    # trademark first: 10万 granted; then the fair's 15万 meets 10万 of room
    d = decide(
        lakeside,
        claim(
            item("overseas_trademark", "t", trademark_id="EUTM-1", registration_fee="200000.00"),
            item("overseas_exhibition", "e", fair="Canton", booth_fee="300000.00"),
        ),
    )
    assert outcome(d["t"]) == ("granted", "100000.00")
    assert outcome(d["e"]) == ("reduced", "100000.00")


def test_shared_cap_with_history_is_per_applicant_per_year(lakeside: engine.CompiledPolicy) -> None:
    # 18万 already granted under the shared cap in 2024: 2万 left that year, the full 20万 in 2025
    history = [
        grant("overseas-trademark", "180000.00", {"cap": CAP, "scope": [ENTERPRISE_ID, 2024], "amount": "180000.00"}, funding_year=2024)
    ]
    fair = item("overseas_exhibition", "e", fair="Canton", booth_fee="100000.00")  # × 50% = 5万
    assert outcome(decide(lakeside, claim(fair, history=history))["e"]) == ("reduced", "20000.00")
    fair_2025 = item("overseas_exhibition", "e", date="2025-05-01", fair="Canton", booth_fee="100000.00")
    assert outcome(decide(lakeside, claim(fair_2025, funding_year=2025, history=history))["e"]) == ("granted", "50000.00")
    # another enterprise in 2024 is not touched by the first one's grants
    other = claim(fair, history=history, id=ENTERPRISE_2_ID)
    assert outcome(decide(lakeside, other)["e"]) == ("granted", "50000.00")


# --- a yearly limit on the number of items, shared by two item types: 第八条第二款 --------------


def test_shared_limit_each_item_counts(lakeside: engine.CompiledPolicy) -> None:
    # 50万 × 20% = 10万; 200万 × 20% = 40万 -> 每个项目最高 30万; transfer 10万; the 4th project is refused
    d = decide(
        lakeside,
        claim(
            item("research_cooperation", "r1", project_id="R-1", contract_paid="500000.00"),
            item("research_cooperation", "r2", project_id="R-2", contract_paid="2000000.00"),
            item("achievement_transfer", "t1", project_id="T-1", implemented_in_district=True),
            item("achievement_transfer", "t2", project_id="T-2", implemented_in_district=True),
        ),
    )
    assert outcome(d["r1"]) == ("granted", "100000.00")
    assert outcome(d["r2"]) == ("reduced", "300000.00")
    assert outcome(d["t1"]) == ("granted", "100000.00")
    assert outcome(d["t2"]) == ("refused", "0.00")
    assert [(r["category"], r["check"], r["cites"]) for r in d["t2"]["reasons"]] == [("limit", LIMIT, "第八条第二款")]
    (limit,) = steps(d["t2"], "limit")
    assert (limit["scope"], limit["times"], limit["used_before"], limit["result"]) == ([ENTERPRISE_ID, 2024], 3, 3, False)


def test_shared_limit_refused_items_do_not_count(lakeside: engine.CompiledPolicy) -> None:
    # t1 is refused (not put into production here), so r1, r2, r3 are the three supported projects
    d = decide(
        lakeside,
        claim(
            item("research_cooperation", "r1", project_id="R-1", contract_paid="100000.00"),
            item("achievement_transfer", "t1", project_id="T-1", implemented_in_district=False),
            item("research_cooperation", "r2", project_id="R-2", contract_paid="100000.00"),
            item("research_cooperation", "r3", project_id="R-3", contract_paid="100000.00"),
        ),
    )
    assert outcome(d["t1"]) == ("refused", "0.00")
    assert [outcome(d[i]) for i in ("r1", "r2", "r3")] == [("granted", "20000.00")] * 3  # 10万 × 20%


def test_shared_limit_with_history(lakeside: engine.CompiledPolicy) -> None:
    # two projects already supported in 2024 (one of each type): one more in 2024, three in 2025
    history = [
        grant(
            "research-cooperation",
            "20000.00",
            {"limit": LIMIT, "scope": [ENTERPRISE_ID, 2024], "counts": ["L-0", "a"]},
            funding_year=2024,
            item_id="a",
        ),
        grant(
            "achievement-transfer",
            "100000.00",
            {"limit": LIMIT, "scope": [ENTERPRISE_ID, 2024], "counts": ["L-0", "b"]},
            funding_year=2024,
            item_id="b",
        ),
    ]
    items = [item("achievement_transfer", f"t{i}", project_id=f"T-{i}", implemented_in_district=True) for i in (1, 2)]
    d = decide(lakeside, claim(*items, history=history))
    assert [outcome(d["t1"]), outcome(d["t2"])] == [("granted", "100000.00"), ("refused", "0.00")]
    items_2025 = [
        item("achievement_transfer", f"t{i}", date="2025-03-01", project_id=f"T-{i}", implemented_in_district=True) for i in (1, 2)
    ]
    d = decide(lakeside, claim(*items_2025, funding_year=2025, history=history))
    assert [outcome(d["t1"]), outcome(d["t2"])] == [("granted", "100000.00")] * 2


def test_shared_limit_history_from_the_evaluators_own_grants(lakeside: engine.CompiledPolicy) -> None:
    """Grants emitted by one decision, fed back as history, count against the limit (one format all round)."""
    first = engine.evaluate(
        lakeside,
        claim(
            *[item("achievement_transfer", f"t{i}", project_id=f"T-{i}", implemented_in_district=True) for i in (1, 2, 3)], claim_id="L-A"
        ),
    )
    assert first.total == Decimal("300000.00")
    later = decide(
        lakeside,
        claim(item("research_cooperation", "r", project_id="R-9", contract_paid="100000.00"), claim_id="L-B"),
        history=first.grants,
    )
    assert outcome(later["r"]) == ("refused", "0.00")


# --- only the highest of several awards for the same project: 第九条第二款 ----------------------


def test_highest_only_across_two_item_types(lakeside: engine.CompiledPolicy) -> None:
    # P1: national science award 100万 and a competition first prize 20万 -> only the 100万;
    # P2's district award is another project and is paid in full
    d = decide(
        lakeside,
        claim(
            item("competition_award", "c1", project_id="P1", prize="first"),
            item("science_award", "s1", project_id="P1", level="national"),
            item("science_award", "s2", project_id="P2", level="district"),
        ),
    )
    assert outcome(d["s1"]) == ("granted", "1000000.00")
    assert outcome(d["c1"]) == ("refused", "0.00")
    assert [r["check"] for r in d["c1"]["reasons"]] == ["competition-award#subject"]
    assert outcome(d["s2"]) == ("granted", "100000.00")


def test_highest_only_the_lower_level_of_the_other_scheme_loses(lakeside: engine.CompiledPolicy) -> None:
    # district science award 10万 < competition first prize 20万 for the same project
    d = decide(
        lakeside,
        claim(
            item("science_award", "s1", project_id="P1", level="district"), item("competition_award", "c1", project_id="P1", prize="first")
        ),
    )
    assert outcome(d["s1"]) == ("refused", "0.00")
    assert outcome(d["c1"]) == ("granted", "200000.00")


def test_highest_only_a_tie_pays_the_first_listed(lakeside: engine.CompiledPolicy) -> None:
    # district science award 10万 = competition second prize 10万: one of them, the first in the claim
    d = decide(
        lakeside,
        claim(
            item("competition_award", "c1", project_id="P1", prize="second"), item("science_award", "s1", project_id="P1", level="district")
        ),
    )
    assert outcome(d["c1"]) == ("granted", "100000.00")
    assert outcome(d["s1"]) == ("refused", "0.00")


def test_highest_only_an_ineligible_higher_award_does_not_block_the_lower(lakeside: engine.CompiledPolicy) -> None:
    # the national award dates from 2023, outside funding year 2024: refused on time; the competition prize of the
    # same project is then the highest award that can be paid, 20万
    d = decide(
        lakeside,
        claim(
            item("science_award", "s1", date="2023-11-01", project_id="P1", level="national"),
            item("competition_award", "c1", project_id="P1", prize="first"),
        ),
    )
    assert d["s1"]["status"] == "refused"
    assert [r["check"] for r in d["s1"]["reasons"]] == ["in-funding-year"]
    assert outcome(d["c1"]) == ("granted", "200000.00")


def test_highest_only_with_history_no_second_award(lakeside: engine.CompiledPolicy) -> None:
    # 不重复奖励: the project was rewarded (20万, competition) in an earlier year; no award for it again,
    # whether the new one is lower or higher -- this district does not top up (that is 第十条's 补差)
    history = [grant("competition-award", "200000.00", {"subject": "award-project", "scope": ["P1"], "amount": "200000.00"})]
    d = decide(lakeside, claim(item("science_award", "low", project_id="P1", level="district"), history=history))
    assert outcome(d["low"]) == ("refused", "0.00")
    assert "higher or equal" in d["low"]["reasons"][0]["says"]["en"]
    d = decide(lakeside, claim(item("science_award", "high", project_id="P1", level="national"), history=history))
    assert outcome(d["high"]) == ("refused", "0.00")
    assert "higher or equal" not in d["high"]["reasons"][0]["says"]["en"]  # the earlier award was lower: say so truthfully
    assert "already" in d["high"]["reasons"][0]["says"]["en"]
    # another project is unaffected
    d = decide(lakeside, claim(item("science_award", "p2", project_id="P2", level="municipal"), history=history))
    assert outcome(d["p2"]) == ("granted", "500000.00")


# --- 补差: only the difference to an earlier, lower award: 第十条 -------------------------------


def spec_grant(amount: str, funding_year: int = 2023, applicant_id: str = ENTERPRISE_ID) -> dict[str, Any]:
    return grant(
        "specialised-enterprise",
        amount,
        {"subject": "specialised-level", "scope": [applicant_id], "amount": amount},
        funding_year=funding_year,
        applicant_id=applicant_id,
    )


def test_difference_without_history_pays_in_full(lakeside: engine.CompiledPolicy) -> None:
    d = decide(lakeside, claim(item("specialised_enterprise", "s", level="municipal")))["s"]
    assert outcome(d) == ("granted", "300000.00")


def test_difference_tops_up_an_earlier_lower_award(lakeside: engine.CompiledPolicy) -> None:
    # district level paid 10万 in 2023; municipal level in 2024 = 30万 − 10万 = 20万
    d = decide(lakeside, claim(item("specialised_enterprise", "s", level="municipal"), history=[spec_grant("100000.00")]))["s"]
    assert outcome(d) == ("granted", "200000.00")
    (subject,) = steps(d, "subject")
    assert (subject["pays"], subject["paid_before"], subject["asked"], subject["after"]) == (
        "difference",
        "100000.00",
        "300000.00",
        "200000.00",
    )


def test_difference_after_two_earlier_awards(lakeside: engine.CompiledPolicy) -> None:
    # 10万 (district, 2023) + 20万 (municipal top-up, 2024) = 30万 paid; national 50万 − 30万 = 20万
    history = [spec_grant("100000.00", 2023), spec_grant("200000.00", 2024)]
    d = decide(
        lakeside, claim(item("specialised_enterprise", "s", date="2025-04-01", level="national"), funding_year=2025, history=history)
    )["s"]
    assert outcome(d) == ("granted", "200000.00")


@pytest.mark.parametrize("level", ["district", "municipal"])
def test_difference_nothing_for_an_equal_or_lower_level(lakeside: engine.CompiledPolicy, level: str) -> None:
    # 30万 already paid (municipal): a municipal or district recognition leaves no difference
    d = decide(lakeside, claim(item("specialised_enterprise", "s", level=level), history=[spec_grant("300000.00")]))["s"]
    assert outcome(d) == ("refused", "0.00")
    assert [r["check"] for r in d["reasons"]] == ["specialised-enterprise#subject"]


def test_difference_within_one_claim(lakeside: engine.CompiledPolicy) -> None:
    # in claim order: district 10万, then national 50万 − 10万 = 40万 (together the highest level's 50万)
    d = decide(
        lakeside, claim(item("specialised_enterprise", "a", level="district"), item("specialised_enterprise", "b", level="national"))
    )
    assert [outcome(d["a"]), outcome(d["b"])] == [("granted", "100000.00"), ("granted", "400000.00")]


def test_difference_history_chained_from_decisions(lakeside: engine.CompiledPolicy) -> None:
    """2024: district 10万; 2025 the grants fed back: national pays 40万; another enterprise is not affected."""
    first = engine.evaluate(lakeside, claim(item("specialised_enterprise", "s", level="district"), claim_id="L-2024"))
    assert first.total == Decimal("100000.00")
    national = item("specialised_enterprise", "s", date="2025-02-01", level="national")
    d = decide(lakeside, claim(national, funding_year=2025, claim_id="L-2025"), history=first.grants)["s"]
    assert outcome(d) == ("granted", "400000.00")
    other = decide(lakeside, claim(national, funding_year=2025, claim_id="L-X", id=ENTERPRISE_2_ID), history=first.grants)["s"]
    assert outcome(other) == ("granted", "500000.00")


def test_grants_record_every_consumption_in_a_replayable_form(lakeside: engine.CompiledPolicy) -> None:
    data = claim(
        item("overseas_exhibition", "e", fair="Canton", booth_fee="100000.00"),
        item("achievement_transfer", "t", project_id="T-1", implemented_in_district=True),
        item("specialised_enterprise", "s", level="district"),
    )
    grants = {g["item_id"]: g for g in engine.evaluate(lakeside, data).to_dict()["grants"]}
    assert grants["e"]["consumes"] == [{"cap": CAP, "scope": [ENTERPRISE_ID, 2024], "amount": "50000.00"}]
    assert grants["t"]["consumes"] == [{"limit": LIMIT, "scope": [ENTERPRISE_ID, 2024], "counts": ["L-1", "t"]}]
    assert grants["s"]["consumes"] == [{"subject": "specialised-level", "scope": [ENTERPRISE_ID], "amount": "100000.00"}]


# --- a seeded round of fictional claims, for the tests comparing two ways of deciding or explaining -----------
#
# (test_core_api: generated rules vs recorded decisions, and inlined vs called; test_render: the fast text vs the
# templates.) Every item type, facts on and around each band edge, count ceiling, lesser-of and cap, missing facts and documents,
# the wrong year, an applicant without standing, another kind, and histories: the grants of the claim before.

_POOLS: dict[str, dict[str, list[Any]]] = {
    "rd_investment": {
        "rd_spending": [
            "0.00",
            "999999.99",
            "1000000.00",
            "3000000.00",
            "5000000.00",
            "9999999.99",
            "10000000.00",
            "12345678.90",
            "20000000.00",
            "25000000.00",
        ]
    },
    "invention_patent_count": {"new_invention_patents": [0, 4, 5, 9, 10, 19, 20, 150]},
    "pct_patent": {"patent_id": ["PCT/CN2023/1", "PCT/CN2023/2"], "countries": [0, 1, 2, 3, 7]},
    "testing_certification": {
        "certificate_id": ["TC-1"],
        "actual_cost": ["0.00", "1000.00", "80000.00", "99999.99", "150000.00", "400000.00", "1234567.89"],
    },
    "overseas_exhibition": {"fair": ["Canton"], "booth_fee": ["0.00", "1234.56", "100000.00", "250000.00", "400000.00"]},
    "overseas_trademark": {"trademark_id": ["TM-1"], "registration_fee": ["0.00", "3333.33", "60000.00", "300000.00"]},
    "research_cooperation": {
        "project_id": ["R1", "R2", "R3", "R4"],
        "contract_paid": ["0.00", "500000.00", "1000000.00", "3000000.00", "9000000.00"],
    },
    "achievement_transfer": {"project_id": ["T-1", "T-2"], "implemented_in_district": [True, False]},
    "science_award": {"project_id": ["P1", "P2"], "level": ["national", "municipal", "district"]},
    "competition_award": {"project_id": ["P1", "P2"], "prize": ["first", "second", "third"]},
    "specialised_enterprise": {"level": ["district", "municipal", "national"]},
}


#: An item-level document check (neither shipped policy has one), for the fictional district's variant below.
ITEM_DOCUMENT_CHECK = """\
  - id: receipts-for-costs
    cites: 第十一条
    level: item
    category: documents
    who: [enterprise]
    applies_to: [testing_certification, overseas_exhibition, research_cooperation]
    documents:
      - fee_receipts
      - {doc: proof, when: year(item.date) == claim.funding_year}
    says: {zh: 费用类事项须提交费用票据, en: cost items need their fee receipts}
"""


def fictional_policy(tmp_path: Path, *, item_documents: bool = False) -> engine.CompiledPolicy:
    """The fictional district, or (item_documents) its variant with an item-level document check."""
    if not item_documents:
        return engine.load_policy(FIXTURE)
    shutil.copy(FIXTURE.parent / "fictional_district.zh.txt", tmp_path)
    text = FIXTURE.read_text(encoding="utf-8").replace("\nrules:\n", "\n" + ITEM_DOCUMENT_CHECK + "\nrules:\n", 1)
    (tmp_path / "variant.yaml").write_text(text, encoding="utf-8")
    policy = engine.load_policy(tmp_path / "variant.yaml")
    assert policy.rules_by_type["testing_certification"].item_document_checks
    return policy


def generated_round(policy: engine.CompiledPolicy, n: int, seed: int) -> list[tuple[Any, tuple[Any, ...]]]:
    """`n` parsed fictional claims with their histories (the grants of the claim before, half of the time)."""
    import random

    rng = random.Random(seed)
    out: list[tuple[Any, tuple[Any, ...]]] = []
    history: tuple[Any, ...] = ()
    for k in range(n):
        items = []
        for m in range(rng.randint(1, 6)):
            t = rng.choice(sorted(_POOLS))
            facts = {name: rng.choice(pool) for name, pool in _POOLS[t].items()}
            it = item(t, f"i{m}", date=rng.choice(["2024-06-01"] * 9 + ["2023-12-31"]), **facts)
            if rng.random() < 0.15:
                it["documents"] = rng.sample(DOCS[t], rng.randint(0, len(DOCS[t])))
            if rng.random() < 0.08:
                del it[rng.choice(sorted(_POOLS[t]))]  # unknown, not false: decided with partial=True
            items.append(it)
        applicant: dict[str, Any] = {"id": rng.choice([ENTERPRISE_ID, ENTERPRISE_ID, ENTERPRISE_2_ID])}
        if rng.random() < 0.08:
            applicant["registered_in_district"] = False
        if rng.random() < 0.05:
            applicant["kind"] = "research_institute"
        data = claim(*items, claim_id=f"G-{k}", **applicant)
        if rng.random() < 0.05:
            data["documents"] = []
        parsed = engine.parse_claim(policy, data, partial=True)
        used = history if rng.random() < 0.5 else ()
        out.append((parsed, used))
        history = engine.evaluate_claim(policy, parsed, used, trace=False).grants + used
    cases = load_cases([FIXTURE.parent / "fictional_cases.yaml"])
    out.extend((engine.parse_claim(policy, copy.deepcopy(c.claim)), ()) for c in cases)
    return out


def test_the_generated_round_reaches_every_construct(lakeside: engine.CompiledPolicy) -> None:
    """The round the comparison tests use holds every status, every amount form's branches and every cap and limit biting."""
    statuses: set[str] = set()
    reasons: set[str] = set()
    forms: set[str] = set()
    for c, history in generated_round(lakeside, 400, seed=7):
        for d in engine.evaluate(lakeside, c, history).to_dict()["items"]:
            statuses.add(d["status"])
            reasons.update(r["check"] for r in d["reasons"])
            forms.update(s["form"] for s in d["steps"] if s["step"] == "amount")
            if d["status"] == "reduced":
                reasons.update("reduced:" + s["cap"] for s in d["steps"] if s["step"] == "cap" and s["reduced_by"] != "0.00")
    assert {"granted", "reduced", "refused", "incomplete"} <= statuses
    assert {"bands", "per_unit", "least"} <= forms, forms
    assert {
        LIMIT,
        "science-award#subject",
        "specialised-enterprise#subject",
        "registered-and-taxed",
        "in-funding-year",
        "pct-patent-once",
    } <= reasons, reasons
    assert {"reduced:rd-investment-ceiling", f"reduced:{CAP}", "reduced:cooperation-project-ceiling"} <= reasons, reasons


def test_difference_with_the_amount_fact_missing_is_incomplete_not_refused(tmp_path: Path) -> None:
    """补差 cannot weigh an amount that is not known: with the level (the amount's fact) made optional and left out,
    the item asks for the level (incomplete), it is not refused with "no difference to pay" (found in session 4)."""
    text = FIXTURE.read_text(encoding="utf-8")
    declared = "      level:\n        type: enum\n        zh: 认定层级\n"
    assert text.count(declared) == 1
    (tmp_path / "p.yaml").write_text(text.replace(declared, declared + "        required: false\n"), encoding="utf-8")
    shutil.copy(FIXTURE.parent / "fictional_district.zh.txt", tmp_path)
    policy = engine.load_policy(tmp_path / "p.yaml")
    for history in ([], [spec_grant("100000.00")]):
        d = decide(policy, claim(item("specialised_enterprise", "s"), history=history))["s"]
        assert outcome(d) == ("incomplete", "0.00")
        assert d["reasons"] == [] and d["missing_facts"] == ["item.level"]
    # given, the level is weighed as before: municipal 30万 − 10万 paid = 20万
    d = decide(policy, claim(item("specialised_enterprise", "s", level="municipal"), history=[spec_grant("100000.00")]))["s"]
    assert outcome(d) == ("granted", "200000.00")
