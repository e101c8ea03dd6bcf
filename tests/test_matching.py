"""`policy-engine match`: the three answers on profiles worked out by hand from the measures and the readings.

Every expected amount is computed in a comment from the clause (R-numbers are the bureau's readings,
shared/measures/READINGS.md). Soundness over random profiles is tests/test_matching_properties.py.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import ENTERPRISE_ID, ROOT, claim, item

import engine
from engine.cli import main
from engine.deciding.history import Consumption, Grant
from engine.deciding.ready import load_policy
from engine.language.model import CompiledPolicy
from engine.matching.matcher import ELIGIBLE, NEEDS, NOT_ELIGIBLE, Answer, Need, match_claim, parse_profile
from engine.matching.outputs import ProfileResult, notice_html, notice_text

PINGGU = ROOT / "policies" / "pinggu_2020.yaml"
FICTIONAL = ROOT / "tests" / "fixtures" / "fictional_district.yaml"
EXAMPLE = ROOT / "examples" / "profile_match_2021.json"


@pytest.fixture(scope="module")
def pinggu() -> CompiledPolicy:
    return load_policy(PINGGU)


def answers(policy: CompiledPolicy, data: dict[str, Any], history: tuple[Grant, ...] = ()) -> dict[str, Answer]:
    """item id (or "rule:<id>" for a hypothetical item) -> its answer."""
    m = match_claim(policy, parse_profile(policy, data), history)
    return {a.item_id or f"rule:{a.rule.id}": a for a in m.answers}


def test_invention_patent_with_fees_unknown_needs_the_fees_and_has_no_upper_limit(pinggu: CompiledPolicy) -> None:
    """R9: 50% of the official fees, no cap, once per patent. Fees unknown: the fees decide it, and since nothing caps
    the amount the range is 0 .. no upper limit (never a made-up number)."""
    a = answers(pinggu, claim(item("invention_patent_grant", "p1", official_fees_paid=..., right_holders=[])))["p1"]
    assert (a.answer, a.low, a.high) == (NEEDS, Decimal("0.00"), None)
    assert a.needs == (Need("p1", "invention_patent_grant", "item.official_fees_paid"),)
    # documents: proof of right, fee receipts, sealed copies (an enterprise), the business licence (第十二条)
    assert [d for d, _ in a.documents] == ["proof_of_right", "fee_receipts", "sealed_receipt_copies", "business_licence"]


def test_fees_known_make_it_eligible_with_its_amount(pinggu: CompiledPolicy) -> None:
    a = answers(pinggu, claim(item("invention_patent_grant", "p1", official_fees_paid="8400.00", right_holders=[])))["p1"]
    assert (a.answer, a.low, a.high) == (ELIGIBLE, Decimal("4200.00"), Decimal("4200.00"))  # 8,400 x 50% = 4,200.00


def test_right_holders_left_out_of_a_profile_are_needed_not_taken_as_the_applicant_alone(pinggu: CompiledPolicy) -> None:
    """In an application an invention with no holders listed has the applicant as sole holder (the fact's default);
    a profile that does not give them does not know them: a university first on the certificate refuses it under
    第四条第三款 (R4/R30), so it is "needs" the holders, 0 .. 4,200.00 (8,400 x 50%), never "eligible" (a red team's
    profile was told 4,200.00 eligible, and the claim with a university first was refused)."""
    a = answers(pinggu, claim(item("invention_patent_grant", "p1", official_fees_paid="8400.00")))["p1"]
    assert (a.answer, a.low, a.high) == (NEEDS, Decimal("0.00"), Decimal("4200.00"))
    assert a.needs == (Need("p1", "invention_patent_grant", "item.right_holders"),)


def test_roles_left_out_of_a_profile_are_tried_not_taken_as_none(pinggu: CompiledPolicy) -> None:
    """第六条（五）: an alliance's operating costs, 50% up to 50,000 a year (R6). A profile that does not say whether the
    enterprise is an IP alliance was told "not eligible: only an alliance may claim"; the roles are unknown, so the
    item "needs" them, and acting as an alliance its 100,000.00 of costs pay 50% = 50,000.00 (the year's most)."""
    alliance = item("alliance_operation", "a1")
    a = answers(pinggu, claim(alliance, roles=...))["a1"]
    assert (a.answer, a.low, a.high) == (NEEDS, Decimal("50000.00"), Decimal("50000.00"))
    assert a.needs == (Need(None, None, "applicant.roles"),)
    known = answers(pinggu, claim(alliance, roles=[]))["a1"]  # roles given, none of them an alliance: refused
    assert known.answer == NOT_ELIGIBLE and "知识产权联盟" in known.reasons[0].says.zh
    other = answers(pinggu, claim(item("national_ip_title", "t1"), roles=...))["t1"]  # a rule naming no role: not asked
    assert all(n.fact != "applicant.roles" for n in other.needs)


def test_unknown_title_is_eligible_with_the_range_of_the_table(pinggu: CompiledPolicy) -> None:
    """R17: demonstration 200,000, advantage 100,000. Which title is unknown, everything else holds: eligible either
    way, 100,000.00 .. 200,000.00 (each title tried in a real decision)."""
    a = answers(pinggu, claim(item("national_ip_title", "t1", title=...)))["t1"]
    assert (a.answer, a.low, a.high) == (ELIGIBLE, Decimal("100000.00"), Decimal("200000.00"))


def test_unknown_award_level(pinggu: CompiledPolicy) -> None:
    a = answers(pinggu, claim(item("china_patent_award", "c1", level=..., right_holders=[])))["c1"]
    assert (a.answer, a.low, a.high) == (ELIGIBLE, Decimal("300000.00"), Decimal("500000.00"))  # R10: excellence 30万 .. gold 50万


def test_unknown_standing_fact_is_needed_not_false(pinggu: CompiledPolicy) -> None:
    """Whether the enterprise actually operates in Pinggu is unknown (R1): not refused; that fact decides it, and if it
    holds the demonstration title pays 200,000.00."""
    a = answers(pinggu, claim(item("national_ip_title", "t1"), actually_operating=...))["t1"]
    assert (a.answer, a.low, a.high) == (NEEDS, Decimal("200000.00"), Decimal("200000.00"))
    assert Need(None, None, "applicant.actually_operating") in a.needs


def test_a_known_false_standing_fact_refuses_with_the_clause(pinggu: CompiledPolicy) -> None:
    a = answers(pinggu, claim(item("national_ip_title", "t1"), registered_in_district=False))["t1"]
    assert a.answer == NOT_ELIGIBLE
    assert [(r.check, r.cites) for r in a.reasons] == [("standing-organisation", "第四条第二款")]


def test_copyright_securitisation_is_not_eligible(pinggu: CompiledPolicy) -> None:
    a = answers(pinggu, claim(item("ip_securitisation", "s1", underlying_right="copyright")))["s1"]
    assert a.answer == NOT_ELIGIBLE
    assert [(r.check, r.cites) for r in a.reasons] == [("underlying-right-patents-and-trademarks-only", "第四条第一款")]


def test_cap_shared_by_two_loans(pinggu: CompiledPolicy) -> None:
    """R11: 50% of the interest, at most 300,000 per enterprise per year. l1 260,000 -> 130,000.00; l2 400,000 -> asks
    200,000, the cap leaves 300,000 - 130,000 = 170,000.00."""
    got = answers(
        pinggu,
        claim(
            item("pledge_loan_interest", "l1", loan_id="L1", annual_interest_paid="260000.00"),
            item("pledge_loan_interest", "l2", loan_id="L2", annual_interest_paid="400000.00"),
        ),
    )
    assert (got["l1"].answer, got["l1"].low, got["l1"].high) == (ELIGIBLE, Decimal("130000.00"), Decimal("130000.00"))
    assert (got["l2"].answer, got["l2"].low, got["l2"].high) == (ELIGIBLE, Decimal("170000.00"), Decimal("170000.00"))


def test_an_unknown_loan_widens_the_other_loan_sharing_its_cap(pinggu: CompiledPolicy) -> None:
    """l1's interest unknown: l1 may take anything up to the whole cap (0 .. 300,000.00), so l2 (asking 200,000) can be
    cut to anything from 0: needs l1's interest, 0 .. min(200,000, 300,000) = 200,000.00."""
    got = answers(
        pinggu,
        claim(
            item("pledge_loan_interest", "l1", loan_id="L1", annual_interest_paid=...),
            item("pledge_loan_interest", "l2", loan_id="L2", annual_interest_paid="400000.00"),
        ),
    )
    assert (got["l1"].answer, got["l1"].low, got["l1"].high) == (NEEDS, Decimal("0.00"), Decimal("300000.00"))
    assert (got["l2"].answer, got["l2"].low, got["l2"].high) == (NEEDS, Decimal("0.00"), Decimal("200000.00"))
    assert Need("l1", "pledge_loan_interest", "item.annual_interest_paid") in got["l2"].needs


def test_an_answer_names_the_facts_of_ten_items_sharing_its_limit_and_counts_the_rest(pinggu: CompiledPolicy) -> None:
    """13 invention patents, each with its fees, number and date unknown: all share 第五条（一）'s once-per-patent limit (one group).
    Items are decided in the order given (R20), so each may be refused by any item before it (the same patent
    given twice: the later is refused), never by one after it: each answer is "needs" and names the facts of the
    items before it -- of the first 10 of them, counting the rest (named all, 200 such items made 199,835 needs, a
    16 MB answer). p0 names only its own (it named every other item's, as if a later one could take its place)."""
    # (their yes/no and choice facts given: none is tried value by value, so every leaf has all 13 undecided)
    known = {"type": "invention_patent_grant", "patent_kind": "invention", "supported_by_other_district_policy": False}
    data = claim(*[{"id": f"p{k}", **known} for k in range(13)])
    got = answers(pinggu, data)
    for k, named, more in ((0, [], 0), (12, range(10), 2), (5, range(5), 0)):
        a = got[f"p{k}"]
        assert a.answer == NEEDS and a.more_items == more
        others = {n.item_id for n in a.needs} - {f"p{k}", None}
        assert others == {f"p{j}" for j in named}, (k, others)
        assert Need(f"p{k}", "invention_patent_grant", "item.official_fees_paid") in a.needs
    assert Need("p0", "invention_patent_grant", "item.official_fees_paid") in got["p12"].needs
    result = ProfileResult("C-1", ENTERPRISE_ID, "示例公司", [match_claim(pinggu, parse_profile(pinggu, data))])
    assert "与其共用上限、限次或同一事项的另外 2 个事项的信息" in notice_text(result, "zh")
    assert "the facts of 2 more item(s) sharing its cap, limit or subject" in notice_text(result, "en")


def test_an_item_is_answered_whatever_the_items_after_it_lack(pinggu: CompiledPolicy) -> None:
    """R20 and R11: l1, 500,000 of interest, is decided before l2, whose interest is unknown; the yearly 300,000 cap
    they share cannot take l1's 50% = 250,000.00 back. l1 was "needs 0 .. 250,000" asking for l2's interest; it is
    eligible, 250,000.00. l2 still needs its own interest, and can get at most what l1 leaves."""
    data = claim(
        item("pledge_loan_interest", "l1", loan_id="L1", annual_interest_paid="500000.00"),
        item("pledge_loan_interest", "l2", loan_id="L2", annual_interest_paid=...),
    )
    got = answers(pinggu, data)
    assert (got["l1"].answer, got["l1"].low, got["l1"].high) == (ELIGIBLE, Decimal("250000.00"), Decimal("250000.00"))
    assert got["l2"].answer == NEEDS and Need("l2", "pledge_loan_interest", "item.annual_interest_paid") in got["l2"].needs
    # and l2 can get at most what l1 leaves of the cap: 300,000 - 250,000 = 50,000.00 (it said 300,000.00)
    assert (got["l2"].low, got["l2"].high) == (Decimal("0.00"), Decimal("50000.00"))


def test_history_in_the_ledger_narrows_the_range(pinggu: CompiledPolicy) -> None:
    """R12: insurance at most 100,000 per enterprise per year; 30,000 already granted for 2021: premium unknown,
    0 .. 100,000 - 30,000 = 70,000.00."""
    used = Grant("H-1", "i0", "patent-insurance", ENTERPRISE_ID, 2021, Decimal("30000.00"),
                 (Consumption("cap", "insurance-annual-cap", (ENTERPRISE_ID, 2021), Decimal("30000.00")),))  # fmt: skip
    a = answers(pinggu, claim(item("patent_insurance", "i1", premium_paid=...)), (used,))["i1"]
    assert (a.answer, a.low, a.high) == (NEEDS, Decimal("0.00"), Decimal("70000.00"))


def test_hypothetical_items_for_rules_the_profile_lacks(pinggu: CompiledPolicy) -> None:
    """No pledge item in the profile: a hypothetical one, every fact unknown: needs, 0 .. 300,000.00 (the yearly cap,
    R11). A natural person: the same rule is not for it (R2: enterprises only), whatever its facts."""
    got = answers(pinggu, claim(item("national_ip_title", "t1")))
    a = got["rule:pledge-loan-interest"]
    assert (a.answer, a.low, a.high, a.item_id) == (NEEDS, Decimal("0.00"), Decimal("300000.00"), None)
    assert Need("~pledge_loan_interest", "pledge_loan_interest", "item.annual_interest_paid") in a.needs
    assert (got["rule:china-patent-award"].answer, got["rule:china-patent-award"].high) == (NEEDS, Decimal("500000.00"))  # gold 50万
    person = answers(pinggu, claim(item("invention_patent_grant", "p1"), applicant="natural_person"))
    assert person["rule:pledge-loan-interest"].answer == NOT_ELIGIBLE
    assert person["rule:pledge-loan-interest"].reasons[0].check == "pledge-loan-interest#who"


def test_panel_amount_unknown_is_pending_up_to_the_cap(pinggu: CompiledPolicy) -> None:
    """R18: the panel's amount, capped at 100,000: not known yet -> needs, pending review, 0 .. 100,000.00."""
    got = answers(pinggu, claim(item("service_agency_performance", "a1", panel_amount=...), roles=["ip_service_agency"]))
    a = got["a1"]
    assert (a.answer, a.low, a.high, a.pending) == (NEEDS, Decimal("0.00"), Decimal("100000.00"), True)
    assert Need("a1", "service_agency_performance", "item.panel_amount") in a.needs


def test_referral_is_eligible_with_no_amount(pinggu: CompiledPolicy) -> None:
    a = answers(pinggu, claim(item("self_transformation", "r1")))["r1"]
    assert (a.answer, a.referral, a.high) == (ELIGIBLE, True, Decimal("0.00"))  # R14: referred, amount 0


def test_bands_with_an_unknown_base() -> None:
    """Fictional district, 第四条第（一）项: bands 10万 from 100万, 30万 from 500万, 4% from 1000万, at most 80万 per item.
    R&D spending unknown: 0 (below 100万) .. 800,000.00 (4% reaches the 80万 ceiling at 2000万); known 700万: 300,000.00."""
    policy = load_policy(FICTIONAL)
    profile = {
        "claim_id": "F-1",
        "funding_year": 2024,
        "applicant": {
            "id": ENTERPRISE_ID,
            "name": "湖畔示例科技有限公司",
            "kind": "enterprise",
            "registered_in_district": True,
            "pays_tax_in_district": True,
        },
        "items": [{"id": "r1", "type": "rd_investment", "date": "2024-06-01"}],
    }
    a = answers(policy, profile)["r1"]
    assert (a.answer, a.low, a.high) == (NEEDS, Decimal("0.00"), Decimal("800000.00"))
    assert a.needs == (Need("r1", "rd_investment", "item.rd_spending"),)
    profile["items"][0]["rd_spending"] = "7000000.00"
    a = answers(policy, profile)["r1"]
    assert (a.answer, a.low, a.high) == (ELIGIBLE, Decimal("300000.00"), Decimal("300000.00"))


def test_notices_say_it_in_the_policys_words(pinggu: CompiledPolicy) -> None:
    m = match_claim(
        pinggu, parse_profile(pinggu, claim(item("invention_patent_grant", "p1", official_fees_paid=...), item("national_ip_title", "t1")))
    )
    result = ProfileResult("C-1", ENTERPRISE_ID, "示例公司", [m])
    zh, en = notice_text(result, "zh"), notice_text(result, "en")
    assert "获得专利权所缴纳的官方规定费用" in zh and "official_fees_paid" not in zh  # the fact's label, never its code
    assert "第七条第（一）项 国家知识产权示范/优势企业称号（贵单位事项 t1）：200,000.00 元" in zh
    assert "办法未规定上限" in zh
    assert "official fees paid to obtain the patent right" in en and "the measures set no upper limit" in en
    # ordered by amount: the title (200,000) before the patent fees (no upper limit) within their sections, and
    # the eligible section before the needs section
    assert zh.index("第七条第（一）项") < zh.index("第五条第（一）项")
    page = notice_html(result, "zh")
    assert page.startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in page and "<style>" in page
    assert "http" not in page.split("<style>")[1].split("</style>")[0]  # self-contained: no linked resource


def test_a_notice_says_what_the_profile_gives_that_the_policy_has_no_word_for(tmp_path: Path) -> None:
    # a misspelt fact (official_fee_paid) was listed under "ignored" in matches.jsonl, but the notices -- what an
    # officer reads -- only said the fees were still needed
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    profile["items"][0]["official_fee_paid"] = 8400
    profile["zzz"] = 1
    (tmp_path / "p.json").write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    assert main(["match", "--policy", str(PINGGU), str(tmp_path / "p.json"), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    notices = tmp_path / "o" / "notices"
    said = (notices / "M-2021-001.zh.txt").read_text(encoding="utf-8")
    # (and the fact each most likely misspells: an officer had only the path to go on)
    guess = "items[0].official_fee_paid（是否想写 official_fees_paid？）"
    assert f"本办法没有以下信息项，未予使用（是否拼写有误？）：zzz、{guess}" in said, said[-400:]
    assert f"zzz、{guess}" in (notices / "M-2021-001.zh.html").read_text(encoding="utf-8")
    english = (notices / "M-2021-001.en.txt").read_text(encoding="utf-8")
    assert "(a misspelt name?): zzz, items[0].official_fee_paid (did you mean official_fees_paid?)" in english


def test_an_item_type_a_character_off_is_left_out_and_the_notice_asks_for_the_type_meant(tmp_path: Path) -> None:
    """`发明专利受权` (受 for 授) is no type of the measures: the item is left out, as a registry's record of what they
    do not support (R9), and listed -- but as `items[5]` alone, where a sheet's cell written so is asked
    "是否应为“发明专利授权（invention_patent_grant）”？". The notice now asks the same, in the sheet's words, and
    names the type as written; a type near none (software_copyright) is listed as it was, with no guess, and so is a
    registry's type the measures do not pay that shares words with one they do (design_patent_grant, 0.78 near
    invention_patent_grant; trademark_insurance, 0.69 near patent_insurance): not a slip to mend by relabelling."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    profile["items"] += [{"id": "x1", "type": "发明专利受权"}, {"id": "x2", "type": "software_copyright"}]
    profile["items"] += [{"id": "x3", "type": "design_patent_grant"}, {"id": "x4", "type": "trademark_insurance"}]
    src, out = tmp_path / "p.json", tmp_path / "o"
    src.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(out), "-q"]) == 0  # (left out: no error)
    [m] = json.loads((out / "matches.jsonl").read_text(encoding="utf-8"))["matches"]
    assert m["ignored"] == ["items[5]", "items[6]", "items[7]", "items[8]"]
    assert [a["item_id"] for a in m["answers"] if a["item_type"] == "invention_patent_grant"] == ["p1"]  # (x1 not matched)
    zh = (out / "notices" / "M-2021-001.zh.txt").read_text(encoding="utf-8")
    said = "本办法没有以下信息项，未予使用（是否拼写有误？）：items[5]（事项类型“发明专利受权”：是否应为“发明专利授权（invention_patent_grant）”？）、items[6]、items[7]、items[8]\n"
    assert said in zh, zh[-400:]
    assert "items[5]（事项类型“发明专利受权”：是否应为“发明专利授权（invention_patent_grant）”？）" in (
        out / "notices" / "M-2021-001.zh.html"
    ).read_text(encoding="utf-8")
    en = (out / "notices" / "M-2021-001.en.txt").read_text(encoding="utf-8")
    assert (
        "(a misspelt name?): items[5] (item type '发明专利受权': did you mean 'invention_patent_grant (granted invention patent)'?), items[6], items[7], items[8]\n"
    ) in en


def test_an_item_of_another_policy_matched_with_it_is_asked_nothing(tmp_path: Path) -> None:
    """Matched with the fictional district's measures (no funding year: each version at its own latest year), a
    profile's `invention_patent_count` is that policy's item: Pinggu's match leaves it out and lists it, and asks
    no "是否应为“发明专利授权（invention_patent_grant）”？" of it, near as the words are: it is not a slip."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    del profile["funding_year"]
    profile["items"].append({"id": "x1", "type": "invention_patent_count"})
    src, out = tmp_path / "p.json", tmp_path / "o"
    src.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    main(["match", "--policy", str(PINGGU), "--policy", str(FICTIONAL), str(src), "--out", str(out), "-q"])
    [m] = [m for m in json.loads((out / "matches.jsonl").read_text(encoding="utf-8"))["matches"] if m["policy"] == "pinggu-ip-promotion"]
    assert "items[5]" in m["ignored"]
    zh = (out / "notices" / "M-2021-001.zh.txt").read_text(encoding="utf-8")
    assert "items[5]" in zh and "“invention_patent_count”" not in zh and "是否应为" not in zh


def test_cli_example_outputs(tmp_path: Path) -> None:
    """The worked example of docs/matching.md, through the command: every output written, the amounts by hand."""
    out = tmp_path / "out"
    assert main(["match", "--policy", str(PINGGU), str(EXAMPLE), "--out", str(out), "--lang", "en", "-q"]) == 0
    [line] = (out / "matches.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    [m] = record["matches"]
    assert (m["policy"], m["version"], m["funding_year"]) == ("pinggu-ip-promotion", "2020.1", 2021)
    by_item = {a["item_id"]: a for a in m["answers"] if a["item_id"]}
    assert by_item["t1"]["answer"] == "eligible" and by_item["t1"]["amount"] == {"low": "100000.00", "high": "200000.00"}
    assert by_item["l1"]["amount"] == {"low": "130000.00", "high": "130000.00"}  # 260,000 x 50%
    assert by_item["l2"]["amount"] == {"low": "170000.00", "high": "170000.00"}  # min(400,000 x 50%, 300,000 - 130,000)
    assert by_item["p1"]["answer"] == "needs" and by_item["p1"]["amount"] == {"low": "0.00", "high": None}
    assert by_item["s1"]["answer"] == "not_eligible" and by_item["s1"]["reasons"][0]["cites"] == "第四条第一款"
    names = sorted(p.name for p in (out / "notices").iterdir())
    assert names == ["M-2021-001.en.html", "M-2021-001.en.txt", "M-2021-001.zh.html", "M-2021-001.zh.txt"]
    from openpyxl import load_workbook

    book = load_workbook(out / "summary.xlsx", read_only=True)
    rows = list(book[book.sheetnames[0]].iter_rows(values_only=True))
    assert (
        rows[1][:7]
        == (
            "M-2021-001",  # the profile: its notices' name
            ENTERPRISE_ID,
            "北京平谷示例科技有限公司",
            "Pinggu District Intellectual Property Promotion Measures, version 2020.1",  # the policy in the workbook's words (it was its id, pinggu-ip-promotion 2020.1)
            2021,
            400000.0,  # 100,000 + 130,000 + 170,000
            500000.0,  # the title at its most, 200,000 + 130,000 + 170,000
        )
    )
    head = rows[0]
    assert rows[1][head.index("第六条第（三）项 IP securitisation financing")] == "—"
    # the pledge measure's cell is what its two loans come to, 130,000 + 170,000, as the notice says (it showed the
    # larger alone, 170,000, and the row's cells did not add up to its total); the title's is its least, 100,000: a
    # range written as text, "100000.00-200000.00", was summed as nothing in Excel (the review of session 28)
    pledge = head.index("第六条第（一）项 interest subsidy on an IP-pledged loan")
    title = head.index("第七条第（一）项 national IP demonstration or advantage enterprise title")
    assert rows[1][pledge] == 300000.0 and rows[1][title] == 100000.0
    assert sum(x for x in rows[1][7:] if isinstance(x, float)) == rows[1][5]
    assert head[6] == "Eligible total, at most"
    # 第六条第（四）项第二款 refers the applicant to another bureau's policies: it pays nothing here (it said "needs ≤ 0.00")
    [referral] = [k for k, h in enumerate(head) if str(h).startswith("第六条第（四）项第二款 ")]
    assert rows[1][referral] == "needs facts (no amount paid under these measures)"
    totals = next(r for r in rows if r and r[0] == "Totals")
    assert totals[5:7] == (400000.0, 500000.0)
    counted = next(r for r in rows if r and r[0] == "Applicants eligible")
    assert counted[pledge] == 1  # one applicant (it counted two: an answer per loan)
    missing = list(book[book.sheetnames[1]].iter_rows(values_only=True))
    assert missing[0] == ("Policy", "Fact", "Item type", "Profiles lacking it")  # (the item type's column was unheaded)
    assert (
        "Pinggu District Intellectual Property Promotion Measures",
        "official fees paid to obtain the patent right",
        "granted invention patent",
        1,
    ) in missing


def test_the_summary_workbook_holds_exact_amounts_and_no_formula(tmp_path: Path) -> None:
    """summary.xlsx was written by openpyxl, which writes a text starting with '=' as a formula: an applicant's name
    from outside (a registry's export) ran as a formula in the bureau's workbook. Its amounts were floats with no
    money format (200000, not 200,000.00). It is now written by batch's writer: a text that would run as a formula
    stays text, and an amount is a number cell of its exact decimal text in the money style."""
    import zipfile

    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    profile["applicant"]["name"] = '=HYPERLINK("http://example.com","点此")'
    l1 = next(i for i in profile["items"] if i["id"] == "l1")
    l1["annual_interest_paid"] = "0.14"  # R11: half of it, 0.07
    src = tmp_path / "profile.json"
    src.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(out), "--lang", "en", "-q", "--no-notices"]) == 0
    [record] = [json.loads(x) for x in (out / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    by_item = {a["item_id"]: a for a in record["matches"][0]["answers"] if a["item_id"]}
    # l1 0.14 x 50% = 0.07; l2 min(400,000 x 50%, 300,000 - 0.07) = 200,000.00; the title 100,000.00 at least
    assert by_item["l1"]["amount"] == {"low": "0.07", "high": "0.07"}
    assert by_item["l2"]["amount"] == {"low": "200000.00", "high": "200000.00"}
    with zipfile.ZipFile(out / "summary.xlsx") as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert 's="1"><v>300000.07</v>' in sheet  # the row's eligible total: 100,000.00 + 0.07 + 200,000.00
    # the pledge measure's eligible amounts, 0.07 + 200,000.00: the applicant's cell and the totals row
    assert sheet.count('s="1"><v>200000.07</v>') == 2
    assert "<f>" not in sheet and "'=HYPERLINK(" in sheet
    from openpyxl import load_workbook

    book = load_workbook(out / "summary.xlsx", read_only=True)
    rows = list(book[book.sheetnames[0]].iter_rows(values_only=True))
    assert rows[1][1:6] == (
        ENTERPRISE_ID,
        '\'=HYPERLINK("http://example.com","点此")',
        "Pinggu District Intellectual Property Promotion Measures, version 2020.1",
        2021,
        300000.07,
    )


def test_match_s_error_records_say_their_words_in_both_languages(tmp_path: Path) -> None:
    """An error of matches.jsonl carried its words in one language (the run's, or English for an input's problem);
    an officer's report needs Chinese. Each now says them as batch's errors.jsonl does: English, and `said`."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    profile["items"][0]["official_fees_paid"] = "12.345"
    src = tmp_path / "profiles.jsonl"
    src.write_text(json.dumps(profile, ensure_ascii=False) + "\n[1]\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(out), "--lang", "zh", "-q", "--no-notices"]) == 3
    first, second = [json.loads(x) for x in (out / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    [fees] = [p for p in first["errors"][0]["problems"] if p["path"] == "items[0].official_fees_paid"]
    assert fees["message"] == "'12.345' is not in the expected form: an amount has at most two decimals (yuan and fen)"
    assert fees["said"]["zh"] == {
        "message": "'12.345' 不符合规定的格式：金额最多两位小数（元、角、分）",
        "expected": "以元为单位、最多两位小数的金额，与票据上的金额一致",
        "field": "第 1 个事项的获得专利权所缴纳的官方规定费用（item.official_fees_paid）",
    }
    [problem] = second["errors"][0]["problems"]
    assert problem["said"] == {
        "en": {"message": "a claim must be an object, not a list"},
        "zh": {"message": "每个申请应是一个 JSON 对象，而不是列表"},
    }


def test_a_spreadsheet_profile_s_problem_names_its_sheet_row_and_field(tmp_path: Path) -> None:
    """A profile read from a workbook whose item had a slip said `items[1].date` with no file, sheet or row; batch
    says the items sheet's row and the field as the sheet heads it. Match now places it the same way."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    profile["items"][1]["date"] = "2021-02-30"  # (t1: no 30 February)
    src = tmp_path / "profile.json"
    src.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    book = tmp_path / "profiles.xlsx"
    assert main(["batch-template", "--policy", str(PINGGU), "--from", str(src), str(book)]) == 0
    out = tmp_path / "out"
    assert main(["match", "--policy", str(PINGGU), str(book), "--out", str(out), "-q", "--no-notices"]) == 3
    [record] = [json.loads(x) for x in (out / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    [problem] = record["errors"][0]["problems"]
    # the items sheet: its heading row, then p1, then t1 (the template writes the items in order, from row 3)
    import openpyxl

    rows = list(openpyxl.load_workbook(book)["事项"].iter_rows(values_only=True))
    t1_row = next(n for n, r in enumerate(rows, start=1) if "t1" in r)
    assert {k: problem[k] for k in ("file", "sheet", "row", "field", "path", "item_id")} == {
        "file": str(book),
        "sheet": "事项",  # (the items sheet, as the template names it)
        "row": t1_row,
        "field": "item.date",
        "path": "items[1].date",
        "item_id": "t1",
    }
    assert problem["said"]["zh"]["message"] == "'2021-02-30' 不是日历上存在的日期"


def test_cli_many_profiles_on_two_workers_and_two_policies(tmp_path: Path) -> None:
    """Several profiles on 2 workers, against Pinggu and the fictional district together: one line per profile in
    input order; a Pinggu 2021 profile has no fictional version in force (an error entry, the Pinggu answers kept)."""
    base = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    lines = []
    for n in range(150):
        p = json.loads(json.dumps(base))
        p["claim_id"] = f"M-{n:03d}"
        lines.append(json.dumps(p, ensure_ascii=False))
    src = tmp_path / "profiles.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(
        ["match", "--policy", str(PINGGU), "--policy", str(FICTIONAL), str(src), "--out", str(out), "--workers", "2", "--no-notices", "-q"]
    )
    assert code == 3  # partial: the fictional district is not in force for 2021
    records = [json.loads(x) for x in (out / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["profile"] for r in records] == [f"M-{n:03d}" for n in range(150)]
    assert all(len(r["matches"]) == 1 and r["errors"][0]["policy"] == "lakeside-innovation" for r in records)
    assert not (out / "notices").exists()


def test_the_documents_ledger_variant_of_the_worked_example(pinggu: CompiledPolicy) -> None:
    """docs/matching.md: 50,000 of pledge subsidy already granted for 2021 -> l1 130,000.00 (room 300,000 - 50,000 =
    250,000), l2 asks 200,000, room 250,000 - 130,000 = 120,000.00."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    used = Grant("H-1", "x", "pledge-loan-interest", ENTERPRISE_ID, 2021, Decimal("50000.00"),
                 (Consumption("cap", "pledge-annual-cap", (ENTERPRISE_ID, 2021), Decimal("50000.00")),))  # fmt: skip
    got = answers(pinggu, profile, (used,))
    assert (got["l1"].answer, got["l1"].low) == (ELIGIBLE, Decimal("130000.00"))
    assert (got["l2"].answer, got["l2"].low, got["l2"].high) == (ELIGIBLE, Decimal("120000.00"), Decimal("120000.00"))


def test_nothing_is_dropped_silently(tmp_path: Path) -> None:
    """A fact the policy has no word for (a misspelt name, an item type of other measures) is listed in the record."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    profile["applicant"]["actualy_operating"] = True
    profile["items"].append({"id": "x1", "type": "software_copyright"})
    src = tmp_path / "p.json"
    src.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(tmp_path / "o"), "--no-notices", "-q"]) == 0
    [m] = json.loads((tmp_path / "o" / "matches.jsonl").read_text(encoding="utf-8"))["matches"]
    assert m["ignored"] == ["applicant.actualy_operating", "items[5]"]


def test_two_profiles_with_one_id_keep_both_notices(tmp_path: Path) -> None:
    line = json.dumps(json.loads(EXAMPLE.read_text(encoding="utf-8")), ensure_ascii=False)
    src = tmp_path / "p.jsonl"
    src.write_text(line + "\n" + line + "\n", encoding="utf-8")
    assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(tmp_path / "o"), "-q"]) == 0
    names = sorted(p.name for p in (tmp_path / "o" / "notices").iterdir())
    assert names == sorted(
        f"{stem}.{lang}.{ext}" for stem in ("M-2021-001", "M-2021-001-2") for lang in ("zh", "en") for ext in ("txt", "html")
    )


def test_the_rounds_submission_date_given_once_for_every_profile(tmp_path: Path) -> None:
    """A registry profile has no submission date; 第十一条 (R6) needs it: every item needs it, until the round's date is
    given with --claim-fact (2022-03-15, in the year after 2021): then l1 is eligible, 260,000 x 50% = 130,000.00."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    del profile["submission_date"]
    src = tmp_path / "p.json"
    src.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")

    def l1(*extra: str) -> dict[str, Any]:
        assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(tmp_path / "o"), "--no-notices", "-q", *extra]) == 0
        [m] = json.loads((tmp_path / "o" / "matches.jsonl").read_text(encoding="utf-8"))["matches"]
        return next(a for a in m["answers"] if a["item_id"] == "l1")

    before = l1()
    assert before["answer"] == "needs" and {"item_id": None, "fact": "claim.submission_date"} == {
        k: before["needs"][0][k] for k in ("item_id", "fact")
    }
    after = l1("--claim-fact", "submission_date=2022-03-15")
    assert (after["answer"], after["amount"]["low"]) == ("eligible", "130000.00")


def test_profiles_from_a_workbook_get_the_same_answers(tmp_path: Path) -> None:
    """Any input batch reads: the example written into the batch template (XLSX, empty cells for unknown facts)."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    (tmp_path / "p.jsonl").write_text(json.dumps(profile, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["batch-template", "--policy", str(PINGGU), str(tmp_path / "p.xlsx"), "--from", str(tmp_path / "p.jsonl")]) == 0
    assert main(["match", "--policy", str(PINGGU), str(tmp_path / "p.xlsx"), "--out", str(tmp_path / "o"), "--no-notices", "-q"]) == 0
    [m] = json.loads((tmp_path / "o" / "matches.jsonl").read_text(encoding="utf-8"))["matches"]
    got = {a["item_id"]: (a["answer"], a["amount"]["low"], a["amount"]["high"]) for a in m["answers"] if a["item_id"]}
    assert got == {
        "p1": ("needs", "0.00", None),
        "t1": ("eligible", "100000.00", "200000.00"),
        "l1": ("eligible", "130000.00", "130000.00"),
        "l2": ("eligible", "170000.00", "170000.00"),  # 300,000 - 130,000
        "s1": ("not_eligible", "0.00", "0.00"),
    }


def test_kleene_and_or_not_through_unknown_parts() -> None:
    """BJ05's check `has_ip_management_system and (has_ip_department or ip_staff >= 5)`: the evaluator stops at the
    first missing fact; three-valued, an unknown first part and a second part false on known facts (no department,
    3 staff < 5) is false whatever the unknown is; with 6 staff the second part is true and the whole unknown."""
    from engine.language.expressions import Facts
    from engine.matching.ranges import Facts3, truth

    policy = load_policy(ROOT / "tests" / "fixtures" / "localities" / "BJ05.yaml")
    [check] = [t for t in policy.applicant_checks if "ip_staff" in t.expression.source]
    item_type = next(iter(policy.rules_by_type))

    def value(**applicant: Any) -> bool | None:
        return truth(check.expression, Facts3(policy, item_type, Facts("item"), Facts("applicant", applicant), Facts("claim")))

    assert value(has_ip_department=False, ip_staff=3) is False
    assert value(has_ip_department=False, ip_staff=6) is None
    assert value(has_ip_management_system=True, has_ip_department=True) is True  # `or` true on its known part
    assert value(has_ip_management_system=False) is False


def test_the_summary_lines_follow_the_language_chosen_before_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--lang zh` before `match` (match's own --lang not given) must not fall back to the environment's English."""
    args = ["match", "--policy", str(ROOT / "policies" / "pinggu_2020.yaml"), str(ROOT / "examples" / "profile_match_2021.json")]
    args += ["--out", str(tmp_path / "m"), "--claim-fact", "submission_date=2022-03-15", "--no-notices"]
    assert main(["--lang", "zh", *args]) == 0
    out = capsys.readouterr()
    # the worked example of docs/matching.md, by hand: t1 (100,000-200,000), l1 (130,000) and l2 (170,000) are eligible
    assert out.out.startswith("已匹配 1 家（其中 0 家有错误）；结果：可申请 3 项，需补充信息 ")
    assert "profiles" not in out.out + out.err


def test_cli_an_input_that_cannot_be_read_is_one_line_and_touches_no_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a mistyped file name was a FileNotFoundError traceback; an empty file or folder an exit 0 ("0 matched") or
    # openpyxl's "I/O operation on closed file" after the message; an earlier run's notices were removed first
    out = tmp_path / "o"
    assert main(["match", "--policy", str(PINGGU), str(EXAMPLE), "--out", str(out), "-q"]) == 0
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert "summary.xlsx" in before and any(p.startswith("notices/") for p in before)
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "no profiles").mkdir()
    cases = [
        (tmp_path / "typo.json", f"error: {tmp_path / 'typo.json'}: no such file or folder"),
        (tmp_path / "empty.jsonl", None),
        (tmp_path / "no profiles", None),
    ]
    for path, said in cases:
        capsys.readouterr()
        assert main(["match", "--policy", str(PINGGU), str(path), "--out", str(out), "-q", "--lang", "en"]) == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err and "Exception ignored" not in err and len(err.strip().splitlines()) == 1, err
        assert err.startswith(f"error: {path}: ")
        if said is not None:
            assert err.strip() == said
        assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before


def test_an_input_with_no_profile_is_said_of_profiles_not_applications(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The empty template (its headings, no rows), a CSV file with its heading row alone, or an empty folder, given
    to match said batch's words: "输入中没有任何申请……；未作任何决定". It says them of profiles, nothing matched."""
    template = tmp_path / "t.xlsx"
    assert main(["batch-template", "--policy", str(PINGGU), str(template)]) == 0
    heading = tmp_path / "h.csv"
    heading.write_text("claim_id,applicant.id,applicant.kind\n", encoding="utf-8")
    (tmp_path / "none").mkdir()
    capsys.readouterr()
    for path in (template, heading):
        assert main(["--lang", "zh", "match", "--policy", str(PINGGU), str(path), "--out", str(tmp_path / "o"), "-q"]) == 1
        assert (
            capsys.readouterr().err
            == f"错误：{path}：输入中没有任何企业画像（文件为空、只有表头、空行或注释行，或文件夹为空）；未作任何匹配\n"
        )
    assert main(["--lang", "zh", "match", "--policy", str(PINGGU), str(tmp_path / "none"), "--out", str(tmp_path / "o"), "-q"]) == 1
    assert capsys.readouterr().err == f"错误：{tmp_path / 'none'}：文件夹中没有 .json、.jsonl、.yaml、.csv 或 .xlsx 企业画像文件\n"
    assert main(["--lang", "en", "match", "--policy", str(PINGGU), str(heading), "--out", str(tmp_path / "o"), "-q"]) == 1
    assert capsys.readouterr().err == (
        f"error: {heading}: no profiles in the input (an empty file, only the heading row, blank or comment rows, or an empty folder);"
        " nothing was matched\n"
    )


def test_cli_a_single_profile_file_that_is_not_json_is_an_error_record(tmp_path: Path) -> None:
    # one profile's file that cannot be read is that profile's error record (as `batch` does), not a traceback
    src = tmp_path / "one.json"
    src.write_text('{"claim_id": "P-1"', encoding="utf-8")
    out = tmp_path / "o"
    assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(out), "--no-notices", "-q"]) == 3
    [record] = [json.loads(x) for x in (out / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    assert record["matches"] == [] and record["errors"][0]["input"] == {"file": str(src), "line": 1}


def test_hidden_rows_of_a_workbook_of_profiles_are_matched_and_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # as in batch: a filtered sheet's hidden rows are profiles too, matched as the others, and the run says which
    from openpyxl import load_workbook as open_book

    book = open_book(ROOT / "examples" / "round_2021.xlsx")
    book["申请人"].row_dimensions[4].hidden = True
    book.save(tmp_path / "p.xlsx")
    assert main(
        ["match", "--policy", str(PINGGU), str(tmp_path / "p.xlsx"), "--out", str(tmp_path / "o"), "--no-notices", "-q", "--lang", "zh"]
    ) in (0, 3)
    assert sum(1 for _ in (tmp_path / "o" / "matches.jsonl").open(encoding="utf-8")) == 7  # every application's row
    assert f"注意：{tmp_path / 'p.xlsx'} 工作表 申请人：有 1 行是隐藏的（第 4 行；" in capsys.readouterr().err


def test_a_profile_without_a_funding_year_says_the_year_it_was_matched_at(tmp_path: Path) -> None:
    """The worked example without its funding year. Submitted 2022-03-15, it is for 2021 (R6: a year's application
    is made in the next; the standing check applied-in-following-year), so it is matched at 2021, not at the
    version's last year, 2023, where its items of 2021 were all "not eligible" (第十一条) and an officer read "nothing
    is owed". Without a submission date no year can be told: 2023. The notice says the year was taken, and how to
    give it; with the year given nothing is said."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    del profile["funding_year"]
    src = tmp_path / "p.json"
    src.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(out), "--lang", "zh", "-q"]) == 0
    [record] = [json.loads(x) for x in (out / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(m["funding_year"], m["funding_year_given"]) for m in record["matches"]] == [(2021, False)]
    l1 = next(a for a in record["matches"][0]["answers"] if a["item_id"] == "l1")
    assert (l1["answer"], l1["amount"]) == (
        "eligible",
        {"low": "130000.00", "high": "130000.00"},
    )  # R11: 260,000 x 50%, as with the year given
    notice = (out / "notices" / "M-2021-001.zh.txt").read_text(encoding="utf-8")
    assert "（未提供申报年度，按 2021 年度测算，即本版本中与所填信息相符的最后一个申报年度（无法判断时为最后一个年度）" in notice
    assert "no funding year was given: matched as 2021" in (out / "notices" / "M-2021-001.en.html").read_text(encoding="utf-8")
    del profile["submission_date"]
    src.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(tmp_path / "o2"), "--lang", "zh", "-q"]) == 0
    [record] = [json.loads(x) for x in (tmp_path / "o2" / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(m["funding_year"], m["funding_year_given"]) for m in record["matches"]] == [(2023, False)]
    given = tmp_path / "given"
    assert main(["match", "--policy", str(PINGGU), str(EXAMPLE), "--out", str(given), "-q"]) == 0
    assert "未提供申报年度" not in (given / "notices" / "M-2021-001.zh.txt").read_text(encoding="utf-8")


def test_match_says_a_file_where_its_notices_folder_goes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # (the session's own review) a file named notices in --out was a FileExistsError traceback
    from engine.cli import main

    (tmp_path / "notices").write_text("not a folder", encoding="utf-8")
    profile = str(Path(__file__).resolve().parent.parent / "examples" / "profile_match_2021.json")
    assert main(["--lang", "en", "match", "--policy", str(PINGGU), profile, "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: --out {tmp_path / 'notices'}: exists and is not a folder\n"


def test_a_profile_in_error_is_listed_with_its_fix_and_in_an_errors_sheet(
    pinggu: CompiledPolicy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """match said only "其中 1 家有错误": the workbook had no errors sheet, so which profile, which field and why were in
    matches.jsonl alone. Each problem is now listed on the console and in summary.xlsx's 错误记录 sheet, in the words
    batch says an application's problems (the field by its column's heading, what to write instead)."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    profile["applicant"]["kind"] = "enterprize"
    profile["items"][0]["date"] = "2021-13-45"
    later = {**profile, "claim_id": "M-2", "funding_year": 2035, "applicant": {**profile["applicant"], "kind": "enterprise"}}
    later["items"] = [{**profile["items"][0], "date": "2021-06-18"}]
    src = tmp_path / "p.jsonl"
    src.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in (profile, later)) + "\n[1, 2]\n", encoding="utf-8")
    out = tmp_path / "o"
    assert main(["--lang", "zh", "match", "--policy", str(PINGGU), str(src), "--out", str(out)]) == 3
    said = capsys.readouterr().out
    assert "已匹配 3 家（其中 3 家有错误）" in said
    assert (
        f"  M-2021-001 平谷区知识产权促进办法（版本 2020.1），{src}:1，申请人类型（applicant.kind）：'enterprize' 不是此字段可以取的值（是否应为 enterprise？）\n"
        in said
    )
    assert (
        "      应为：以下之一：企业（enterprise）、事业单位（public_institution）、其他组织（other_organisation）、自然人（natural_person）\n"
        in said
    )
    assert (
        f"{src}:1，第 1 个事项的事项发生日期（授权、获奖、认定、认证日或费用支付日）（item.date）：'2021-13-45' 不是日历上存在的日期"
        in said
    )
    assert f"  M-2 平谷区知识产权促进办法，{src}:2：“平谷区知识产权促进办法”没有适用于申报年度 2035 的有效版本\n" in said
    assert f"  3，{src}:3：每个申请应是一个 JSON 对象，而不是列表\n" in said
    assert f"全部错误及改正方法见 {out / 'summary.xlsx'} 的“错误记录”工作表（及 {out / 'matches.jsonl'}）" in said
    from openpyxl import load_workbook

    book = load_workbook(out / "summary.xlsx", read_only=True)
    assert book.sheetnames == ["汇总", "最常缺少的信息", "错误记录"]
    rows = list(book["错误记录"].iter_rows(values_only=True))
    assert rows[0] == ("申请编号", "申请人代码", "名称", "政策", "位置", "字段", "问题", "应为")
    assert rows[1] == (
        "M-2021-001", "91110117MA01ABCD1F", "北京平谷示例科技有限公司", "平谷区知识产权促进办法（版本 2020.1）", f"{src}:1", "申请人类型（applicant.kind）",
        "'enterprize' 不是此字段可以取的值（是否应为 enterprise？）",
        "以下之一：企业（enterprise）、事业单位（public_institution）、其他组织（other_organisation）、自然人（natural_person）",
    )  # fmt: skip
    assert rows[2][5] == "第 1 个事项的事项发生日期（授权、获奖、认定、认证日或费用支付日）（item.date）"
    assert rows[3][3:5] == ("平谷区知识产权促进办法", f"{src}:2") and "2035" in rows[3][6]
    assert rows[4][4] == f"{src}:3" and len(rows) == 5
    # quiet: nothing listed, the exit code says it
    assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(tmp_path / "q"), "-q"]) == 3
    assert capsys.readouterr().out == ""
    # matches.jsonl says each field in words too, and a notice (read by the applicant) names it so: it said items[0].date
    errors = json.loads((out / "matches.jsonl").read_text(encoding="utf-8").splitlines()[0])["errors"]
    date = errors[0]["problems"][1]
    assert (date["field"], date["said"]["en"]["field"]) == (
        "items[0].date",
        "item 1, date of the event: grant, award, title or certification date, or the date the cost was paid (item.date)",
    )
    good = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    result = ProfileResult("M-2021-001", ENTERPRISE_ID, "示例公司", [match_claim(pinggu, parse_profile(pinggu, good))], errors)
    assert (
        # (full-width colons after the Chinese words: （item.date）: was an ASCII colon after Chinese)
        "  - pinggu-ip-promotion 2020.1：第 1 个事项的事项发生日期（授权、获奖、认定、认证日或费用支付日）（item.date）：'2021-13-45' 不是日历上存在的日期"
        "（应为：格式为 YYYY-MM-DD 的日期，例如 2021-03-05）\n"
    ) in notice_text(result, "zh")
    assert (
        "  - pinggu-ip-promotion 2020.1: item 1, date of the event: grant, award, title or certification date, or the date the cost was paid (item.date): '2021-13-45' "
        in notice_text(result, "en")
    )


def test_a_policy_given_twice_is_one_version_and_overlapping_versions_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """match loaded each --policy on its own and joined them by id: the same file twice matched every profile twice
    (two matches, the amounts counted twice in summary.xlsx), and two versions in force for the same years were both
    matched, where every other command refuses them."""
    out = tmp_path / "o"
    assert main(["match", "--policy", str(PINGGU), "--policy", str(PINGGU), str(EXAMPLE), "--out", str(out), "-q"]) == 0
    [record] = [json.loads(line) for line in (out / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(record["matches"]) == 1
    from openpyxl import load_workbook

    rows = list(load_workbook(out / "summary.xlsx", read_only=True)["Summary"].iter_rows(values_only=True))
    assert [r[5] for r in rows if r and r[1] == ENTERPRISE_ID] == [400000.0]  # one row: 100,000 + 130,000 + 170,000
    import shutil

    folder = tmp_path / "policies"
    shutil.copytree(PINGGU.parent / "texts", folder / "texts")  # (its source_text: a path relative to the file)
    first, later = folder / "pinggu_2020.yaml", folder / "later.yaml"
    first.write_text(PINGGU.read_text(encoding="utf-8"), encoding="utf-8")
    later.write_text(first.read_text(encoding="utf-8").replace('  version: "2020.1"', '  version: "2020.2"', 1), encoding="utf-8")
    capsys.readouterr()
    assert main(["match", "--policy", str(first), "--policy", str(later), str(EXAMPLE), "--out", str(tmp_path / "p"), "-q"]) == 1
    said = capsys.readouterr().err
    assert "policy.in_force.funding_years" in said and "2020.1 (pinggu_2020.yaml)" in said and "2020.2 (later.yaml)" in said


def test_a_problem_is_named_by_its_own_policys_columns_and_an_unread_row_by_its_claim_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With two measures, the console and the errors sheet named a field by the last --policy's heading (the
    measure's own was in matches.jsonl); a sheet row that could not be read was named by its number, not its claim
    id, and its field by its code."""
    import shutil

    folder = tmp_path / "policies"
    shutil.copytree(PINGGU.parent / "texts", folder / "texts")
    text = PINGGU.read_text(encoding="utf-8")
    (folder / "a.yaml").write_text(text, encoding="utf-8")
    other = text.replace("  id: pinggu-ip-promotion", "  id: other-measure", 1).replace(
        "zh: 申报年度内实际支付的贷款利息,", "zh: 乙办法的利息字段,", 1
    )
    (folder / "b.yaml").write_text(other, encoding="utf-8")
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    next(i for i in profile["items"] if i["id"] == "l1")["annual_interest_paid"] = "abc"
    src = tmp_path / "p.jsonl"
    src.write_text(json.dumps(profile, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "o"
    for first, second in (("a", "b"), ("b", "a")):  # (whichever comes last)
        argv = ["--lang", "zh", "match", "--policy", str(folder / f"{first}.yaml"), "--policy", str(folder / f"{second}.yaml")]
        assert main([*argv, str(src), "--out", str(out)]) == 3
        said = capsys.readouterr().out
        assert (
            f"M-2021-001 平谷区知识产权促进办法（版本 2020.1），{src}:1，第 3 个事项的申报年度内实际支付的贷款利息（item.annual_interest_paid）"
            in said
        )
        assert (
            f"M-2021-001 平谷区知识产权促进办法（版本 2020.1），{src}:1，第 3 个事项的乙办法的利息字段（item.annual_interest_paid）" in said
        )
        shutil.rmtree(out)
    # a CSV row that could not be read: its claim id, its field by its column's words
    rows = "claim_id,claim.funding_year,applicant.id,applicant.name,applicant.kind\nC-77,2021,91110117MA01ABCD1F,甲公司,enterprize\n"
    (tmp_path / "p.csv").write_text(rows, encoding="utf-8")
    assert main(["--lang", "zh", "match", "--policy", str(PINGGU), str(tmp_path / "p.csv"), "--out", str(out)]) == 3
    said = capsys.readouterr().out
    assert f"  C-77，{tmp_path / 'p.csv'} 第 2 行，申请人类型（applicant.kind）：" in said, said


def test_an_empty_policy_folder_is_said_as_every_command_says_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """match listed --policy folders its own way, and an empty one was a traceback; it now lists them as every
    command does (`policy_files`)."""
    (tmp_path / "none").mkdir()
    assert main(["--lang", "en", "match", "--policy", str(tmp_path / "none"), str(EXAMPLE), "--out", str(tmp_path / "o")]) == 1
    said = capsys.readouterr().err
    assert str(tmp_path / "none") in said and "Traceback" not in said


def _matched_with_item_type(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], written: str | None, lang: str = "zh"
) -> tuple[Path, str, dict]:
    """The example profile with its first item's type written so (None: no type), matched against Pinggu: must exit 3
    (the profile's error); the profile's path, what was said, and its one record."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    src, out = tmp_path / "p.json", tmp_path / "o"
    if written is None:
        del profile["items"][0]["type"]
    else:
        profile["items"][0]["type"] = written
    src.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    assert main(["--lang", lang, "match", "--policy", str(PINGGU), str(src), "--out", str(out), "--no-notices"]) == 3
    [record] = [json.loads(x) for x in (out / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    return src, capsys.readouterr().out, record


def test_an_item_written_wrong_is_an_error_said_where_it_stands_not_an_item_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An item whose type is close to one the policy has (invention_patent), or that has no type, was left out
    unsaid: its place was answered by the hypothetical "如有此类事项" item, exit 0. It is now the profile's error,
    at its field, with the closest type and every type in the policy's words. A type of another measures' item
    (software_copyright, close to none) is still left out and listed (test_nothing_is_dropped_silently); so is an
    item of the fictional district's types when both policies are matched (pct_patent: its policy has it)."""
    src, said, record = _matched_with_item_type(tmp_path, capsys, "invention_patent")
    assert (
        f"  M-2021-001 平谷区知识产权促进办法（版本 2020.1），{src}:1，第 1 个事项的事项类型（item.type）："
        "'invention_patent' 不是此字段可以取的值（是否应为 invention_patent_grant？）\n"
    ) in said
    assert "发明专利授权（invention_patent_grant）" in said and "知识产权质押贷款贴息（pledge_loan_interest）" in said
    assert record["matches"] == [] and record["errors"][0]["problems"][0]["path"] == "items[0].type"

    src, said, _record = _matched_with_item_type(tmp_path, capsys, None)
    assert f"{src}:1，第 1 个事项的事项类型（item.type）：缺少此项：这是必填项\n" in said

    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    out = tmp_path / "o"
    profile["items"][0] = {"id": "x1", "type": "pct_patent", "countries": 3}  # the fictional district's
    profile["funding_year"] = 2024
    src.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    both = ["match", "--policy", str(PINGGU), "--policy", str(FICTIONAL), str(src), "--out", str(out), "--no-notices", "-q"]
    main(both)
    [record] = [json.loads(x) for x in (out / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    fictional = [m for m in record["matches"] if m["policy"] != "pinggu-ip-promotion"]
    assert fictional and all("items[0]" not in m["ignored"] for m in fictional)
    assert not any("items" in str(e) for e in record["errors"])  # Pinggu (not in force for 2024) leaves it be


def test_an_item_type_written_as_its_name_is_an_error_not_an_item_left_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A profile's item whose type is the policy's name for a type (发明专利授权, as the template's list and every
    notice say it) was left out unsaid -- listed in `ignored` only, exit 0 -- and its place answered by the
    hypothetical "如有此类事项" item: the applicant's own patent dropped. It is now the profile's error at its field,
    said as the name of invention_patent_grant with the code to write, as an application's is."""
    src, said, record = _matched_with_item_type(tmp_path, capsys, "发明专利授权")
    assert (
        f"  M-2021-001 平谷区知识产权促进办法（版本 2020.1），{src}:1，第 1 个事项的事项类型（item.type）："
        "'发明专利授权' 是 invention_patent_grant 的名称：此处请写代码 invention_patent_grant\n"
    ) in said
    assert record["matches"] == [] and record["errors"][0]["problems"][0]["path"] == "items[0].type"
    _src, said, _record = _matched_with_item_type(tmp_path, capsys, "Granted Invention Patent", "en")  # (its English name, in another case)
    assert "'Granted Invention Patent' is the name of invention_patent_grant: write the code, invention_patent_grant" in said


def test_a_sheet_s_missing_columns_are_said_as_facts_not_known(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A profile sheet without the 实际经营 and 申请人身份 columns was told batch's words: the first "按每份申请都没有
    填写处理……会被判为材料不全", the second "留空即按默认值处理，如“没有”". Neither holds of a match: a fact left
    out is not known (p1 needs applicant.actually_operating; the alliance's item needs applicant.roles, tried with
    every role) and documents are taken as to be provided. One notice now says so."""
    headings = (
        "claim_id,claim.funding_year,claim.submission_date,claim.documents,applicant.id,applicant.name,applicant.kind,"
        "applicant.registered_in_district,applicant.pays_tax_in_district,applicant.household_registered_in_district,"
        "applicant.fraud_finding_dates,item.id,item.type,item.date,item.documents,item.supported_by_other_district_policy,"
        "item.patent_id,item.patent_kind,item.route,item.right_holders,item.official_fees_paid"
    )
    row = "M-1,2021,2022-03-15,营业执照,91110117MA01ABCD1F,甲公司,企业,是,是,,,p1,发明专利授权,2021-06-18,,否,ZL202110000001.6,发明专利,国内授权,甲公司,8400.00"
    src, out = tmp_path / "p.csv", tmp_path / "o"
    src.write_text(f"{headings}\n{row}\n", encoding="utf-8")
    assert main(["--lang", "zh", "match", "--policy", str(PINGGU), str(src), "--out", str(out), "--no-notices", "-q"]) == 0
    err = capsys.readouterr().err
    assert (
        f"注意：{src}：缺少模板中的 2 列：是否在平谷区实际经营（applicant.actually_operating）、申请人身份（平台、联盟、服务机构）"
        "（applicant.roles）。匹配时这些列的信息一律按尚未掌握处理：需要这些信息的事项显示为“需补充信息”，不会因此判为不符合条件"
        "（证明材料按将会提供处理）。"
    ) in err
    assert err.count("缺少模板中的") == 1 and "材料不全" not in err and "默认值" not in err
    [record] = [json.loads(x) for x in (out / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    answers = {a["rule"]: a for a in record["matches"][0]["answers"]}
    assert answers["invention-patent-fees"]["answer"] == "needs"
    assert [n["fact"] for n in answers["invention-patent-fees"]["needs"]] == ["applicant.actually_operating"]
    assert "applicant.roles" in [n["fact"] for n in answers["alliance-operation"]["needs"]]


def test_a_claim_fact_misspelt_or_misvalued_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--claim-fact fundng_year=2021 was accepted (exit 0), the name listed as ignored in every profile's record;
    submission_date=2022/03/15 was blamed on each profile's file in turn (exit 3). Both are now usage errors naming
    the option, before any profile is read (exit 2, no outputs)."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    del profile["submission_date"]
    src = tmp_path / "p.json"
    src.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")

    def run(fact: str) -> tuple[int, str]:
        code = main(["--lang", "zh", "match", "--policy", str(PINGGU), str(src), "--out", str(tmp_path / "o"), "-q", "--claim-fact", fact])
        return code, capsys.readouterr().err

    code, err = run("fundng_year=2021")
    assert code == 2 and "错误：--claim-fact fundng_year=2021：fundng_year 不是所给政策中申请层面的信息（是否应为 funding_year？）\n" in err
    assert "    应为：以下之一：documents、funding_year、submission_date\n" in err
    code, err = run("submission_date=2022/03/15")
    assert code == 2 and "错误：--claim-fact submission_date=2022/03/15：'2022/03/15' 不符合规定的格式" in err
    assert "YYYY-MM-DD" in err and '"2022-03-15"' in err
    assert not (tmp_path / "o").exists()
    for written in ("2021年", "２０２１"):  # (was "'2021年' 的类型不对，应为 整数（integer）": no fix)
        code, err = run(f"funding_year={written}")
        assert code == 2 and f"错误：--claim-fact funding_year={written}：'{written}' 不是整数：请写作 2021\n" in err
        assert "应为" not in err
    code, err = run("submission_date=2022-03-15")
    assert code == 0 and err == ""


def test_a_name_likely_misspelt_is_listed_on_the_console_and_in_the_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`anual_interest_paid` for annual_interest_paid: l1's interest is then unknown, so l1 "needs" it instead of
    being eligible at 260,000 x 50% = 130,000.00 (R11). The run said nothing of it (exit 0, one line at the end
    of the notice); it now lists it on stderr after the summary line, and the record names the fact it misspells."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    l1 = next(i for i in profile["items"] if i["id"] == "l1")
    l1["anual_interest_paid"] = l1.pop("annual_interest_paid")
    profile["applicant"]["registry_grade"] = "A"  # a registry's field close to no fact: listed as ignored only
    src = tmp_path / "p.json"
    src.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    assert main(["--lang", "zh", "match", "--policy", str(PINGGU), str(src), "--out", str(tmp_path / "o"), "--no-notices"]) == 0
    n = profile["items"].index(l1)
    err = capsys.readouterr().err
    assert "注意：有 1 家的信息中有本办法没有、但与某项信息名相近的字段（可能拼写有误），未予使用" in err
    assert f"  M-2021-001 平谷区知识产权促进办法（版本 2020.1）：items[{n}].anual_interest_paid——是否想写 annual_interest_paid？\n" in err
    assert "registry_grade" not in err
    [m] = json.loads((tmp_path / "o" / "matches.jsonl").read_text(encoding="utf-8"))["matches"]
    assert m["ignored_guesses"] == {f"items[{n}].anual_interest_paid": "annual_interest_paid"}
    assert sorted(m["ignored"]) == sorted(["applicant.registry_grade", f"items[{n}].anual_interest_paid"])
    assert next(a for a in m["answers"] if a["item_id"] == "l1")["answer"] == "needs"


def test_a_sheet_says_no_roles_with_wu(tmp_path: Path) -> None:
    """An empty roles cell is roles not known: a match answers the platform (第六条（四）), alliance (（五）) and
    service-agency (第八条) measures "needs" the roles. A sheet could not say "none": 无 was refused as no role's
    label. It is now the empty list, and those measures are not eligible for an enterprise with no such role (R2:
    they are for organisations holding it)."""
    head = (
        "claim_id,claim.funding_year,claim.submission_date,applicant.id,applicant.name,applicant.kind,applicant.roles,"
        "applicant.registered_in_district,applicant.actually_operating,applicant.pays_tax_in_district,item.id,item.type,item.date\n"
    )
    row = "M-1,2021,2022-03-15,91110117MA01ABCD1F,北京平谷示例科技有限公司,企业,{roles},是,是,是,t1,national_ip_title,2021-11-02\n"
    role_rules = {"platform-transformation-service", "alliance-operation", "service-agency-performance"}
    for roles, expected in (("无", "not_eligible"), ("", "needs")):
        src = tmp_path / "p.csv"
        src.write_text(head + row.format(roles=roles), encoding="utf-8")
        assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(tmp_path / roles), "--no-notices", "-q"]) == 0
        [m] = json.loads((tmp_path / roles / "matches.jsonl").read_text(encoding="utf-8"))["matches"]
        assert {a["answer"] for a in m["answers"] if a["rule"] in role_rules} == {expected}, roles


def test_a_notices_amounts_are_spaced_as_every_other_amount_in_chinese(tmp_path: Path) -> None:
    """A range was "100,000.00 元至200,000.00 元" (a space before 元, none after 至), "最高500,000.00 元", "不低于
    400,000.00 元" without its space: every other amount the tools say has one between the word and the digits (核定
    4,200.00 元, 0 至 100). The example profile (docs/matching.md): t1 a national title, 10万 or 20万 (第七条第（一）项);
    a China Patent Award up to 50万 (金奖); 130,000 + 170,000 + at least 100,000 = at least 400,000.00 now."""
    out = tmp_path / "o"
    assert main(["match", "--policy", str(PINGGU), str(EXAMPLE), "--out", str(out), "-q"]) == 0
    zh = (out / "notices" / "M-2021-001.zh.txt").read_text(encoding="utf-8")
    assert "国家知识产权示范/优势企业称号（贵单位事项 t1）：100,000.00 元至 200,000.00 元\n" in zh
    assert "中国专利奖（如有此类事项）：最高 500,000.00 元\n" in zh
    assert "目前可申请金额合计：不低于 400,000.00 元" in zh
    assert "至2" not in zh and "最高5" not in zh and "不低于4" not in zh


def test_a_notice_quotes_its_clauses_and_says_how_a_cap_cut_an_item(tmp_path: Path) -> None:
    """The worked example: l1, 260,000 of interest, 50% = 130,000.00 (R11); l2, 400,000, 50% = 200,000.00, cut by
    the yearly 300,000 cap to 300,000 - 130,000 = 170,000.00 (R20). A notice showed a bare 170,000.00 (R22 asks
    which cap, its ceiling, what was used and the amount before and after) and cited clauses by number only, with
    the policy's paraphrase: it now quotes every clause it cites, verbatim, Chinese first."""
    out = tmp_path / "o"
    assert main(["match", "--policy", str(PINGGU), str(EXAMPLE), "--out", str(out), "-q"]) == 0
    zh = (out / "notices" / "M-2021-001.zh.txt").read_text(encoding="utf-8")
    assert (
        "      受第六条第（一）项的封顶限制（每家企业每年享受贴息补助最高不超过30万元）：上限 300,000.00 元，此前已用 130,000.00 元，"
        "仅余 170,000.00 元；本项按规定可得 200,000.00 元，核减 30,000.00 元。\n"
    ) in zh
    assert "\n所引条款原文：\n" in zh
    clause = "（一）支持知识产权质押融资。对企业以注册商标专用权、专利权质押获得的银行贷款，予以贴息补助，"
    assert f"\n  第六条第（一）项：「{clause}" in zh and zh.count(f"「{clause}") == 1  # (cited by two loans: quoted once)
    en = (out / "notices" / "M-2021-001.en.txt").read_text(encoding="utf-8")
    assert "ceiling CNY 300,000.00, used before CNY 130,000.00, only CNY 170,000.00 left; this item would pay CNY 200,000.00" in en
    assert "Clauses cited (translation; the Chinese original is authoritative):" in en and f"    Original: “{clause}" in en
    assert f"「{clause}" in (out / "notices" / "M-2021-001.zh.html").read_text(encoding="utf-8")
    [m] = json.loads((out / "matches.jsonl").read_text(encoding="utf-8"))["matches"]
    by_item = {a["item_id"]: a for a in m["answers"] if a["item_id"]}
    assert by_item["l2"]["capped"] == [
        {
            "cap": "pledge-annual-cap",
            "cites": "第六条第（一）项",
            "ceiling": "300000.00",
            "used": "130000.00",
            "asked": "200000.00",
            "granted": "170000.00",
        }
    ]
    assert by_item["l1"]["capped"] == []


def test_a_profile_problem_is_said_of_the_item_and_line_where_it_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A pretty-printed profile whose first item is of another measures' type (left out of the match), its second
    with a date written 2021/13/40: the problem was said of the first item (第 1 个事项: the match's own count) at
    the file's line 1. It is now said of the second item, at the line the date is written on."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    profile["items"][0]["date"] = "2021/13/40"
    profile["items"].insert(0, {"id": "sc", "type": "software_copyright"})
    src = tmp_path / "p.json"
    text = json.dumps(profile, ensure_ascii=False, indent=2)
    src.write_text(text, encoding="utf-8")
    line = next(n for n, x in enumerate(text.splitlines(), 1) if "2021/13/40" in x)
    assert main(["--lang", "zh", "match", "--policy", str(PINGGU), str(src), "--out", str(tmp_path / "o"), "--no-notices"]) == 3
    said = capsys.readouterr().out
    assert f"  M-2021-001 平谷区知识产权促进办法（版本 2020.1），{src}:{line}，第 2 个事项的事项发生日期" in said
    [record] = [json.loads(x) for x in (tmp_path / "o" / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    assert record["errors"][0]["problems"][0]["path"] == "items[1].date"


def test_an_item_id_used_twice_names_the_profiles_own_earlier_item(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A profile whose first item is of another measures' type, then p1, then t1 renamed p1: the problem named the
    earlier p1 as "item 1 (items[0])", the match's own count, where the profile has the software copyright. It is
    the profile's item 2, items[1]."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    profile["items"].insert(0, {"id": "sc", "type": "software_copyright"})
    profile["items"][2]["id"] = "p1"
    src = tmp_path / "p.json"
    src.write_text(json.dumps(profile, ensure_ascii=False, indent=2), encoding="utf-8")
    assert main(["--lang", "en", "match", "--policy", str(PINGGU), str(src), "--out", str(tmp_path / "o"), "--no-notices"]) == 3
    said = capsys.readouterr().out
    assert "item id 'p1' is already the id of the claim's item 2 (items[1])" in said
    [record] = [json.loads(x) for x in (tmp_path / "o" / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    assert record["errors"][0]["problems"][0]["path"] == "items[2].id"


def test_a_profile_whose_hypothetical_items_pass_the_item_limit_is_told_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """995 invention patents: matching adds one hypothetical item for each of the 13 other item types the policy's
    14 rules pay for, 1,008 in all. It was refused as "1,008 items, at most 1,000", a count
    the profile does not give."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    profile["items"] = [{**profile["items"][0], "id": f"p{n}"} for n in range(995)]
    src = tmp_path / "p.json"
    src.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    assert main(["--lang", "en", "match", "--policy", str(PINGGU), str(src), "--out", str(tmp_path / "o"), "--no-notices"]) == 3
    said = capsys.readouterr().out
    assert "items: the profile gives 995 items; to answer the 13 other kinds of item of these measures" in said
    assert "1,008" not in said


def test_matching_a_profile_that_is_no_object_is_a_claim_error(pinggu: CompiledPolicy) -> None:
    """An embedding program handing a list (or a text) to `Matching.match` met a bare AttributeError."""
    from engine.core.errors import ClaimError
    from engine.deciding.versions import PolicySet
    from engine.matching.run import Matching

    with pytest.raises(ClaimError) as caught:
        Matching([PolicySet((pinggu,))]).match([1, 2], 1)  # type: ignore[arg-type]
    assert caught.value.problems[0].code == "claim.type"


def test_an_item_whose_cap_the_items_before_it_used_up_is_not_eligible(pinggu: CompiledPolicy) -> None:
    """R11, R20, R21: l1's 700,000 of interest pays 50% = 350,000, capped at the yearly 300,000.00; l2, after it,
    finds the cap used up, so whatever its interest it is cut to nothing and refused (R21). It was "needs" the
    interest, 0.00 at most. With the history of the ledger likewise: insurance of 100,000 already granted for
    2021 (R12's yearly 100,000) leaves a new insurance item nothing, its premium unknown."""
    data = claim(
        item("pledge_loan_interest", "l1", loan_id="L1", annual_interest_paid="700000.00"),
        item("pledge_loan_interest", "l2", loan_id="L2", annual_interest_paid=...),
    )
    got = answers(pinggu, data)
    assert (got["l1"].answer, got["l1"].low) == (ELIGIBLE, Decimal("300000.00"))
    assert got["l2"].answer == NOT_ELIGIBLE and [r.check for r in got["l2"].reasons] == ["pledge-annual-cap"]
    assert got["l2"].reasons[0].says.zh == "封顶额度已用尽（每家企业每年享受贴息补助最高不超过30万元）"
    used = Grant("H-1", "i0", "patent-insurance", ENTERPRISE_ID, 2021, Decimal("100000.00"),
                 (Consumption("cap", "insurance-annual-cap", (ENTERPRISE_ID, 2021), Decimal("100000.00")),))  # fmt: skip
    a = answers(pinggu, claim(item("patent_insurance", "i1", premium_paid=...)), (used,))["i1"]
    assert a.answer == NOT_ELIGIBLE and [r.check for r in a.reasons] == ["insurance-annual-cap"]


def test_a_fact_given_as_null_is_a_fact_not_known(tmp_path: Path) -> None:
    """A registry's export writes null for a field it has no value for. Each null was refused as a value of the
    wrong type (the profile not matched at all); a profile is what is known, so a null fact is an unknown one:
    l1's interest null makes l1 "needs" it; a null funding year is chosen as for a profile without one (2021,
    from the submission date 2022-03-15: R6)."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    profile["funding_year"] = None
    profile["applicant"]["actually_operating"] = None
    l1 = next(i for i in profile["items"] if i["id"] == "l1")
    l1["annual_interest_paid"] = None
    src = tmp_path / "p.json"
    src.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    assert main(["match", "--policy", str(PINGGU), str(src), "--out", str(tmp_path / "o"), "--no-notices", "-q"]) == 0
    [record] = [json.loads(x) for x in (tmp_path / "o" / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    assert record["errors"] == []
    [m] = record["matches"]
    assert (m["funding_year"], m["funding_year_given"]) == (2021, False)
    a = next(a for a in m["answers"] if a["item_id"] == "l1")
    needs = {n["fact"] for n in a["needs"]}
    assert a["answer"] == "needs" and {"item.annual_interest_paid", "applicant.actually_operating"} <= needs


def test_an_item_whose_limit_history_used_up_is_not_eligible(pinggu: CompiledPolicy) -> None:
    """R12: patent insurance is supported in at most 2 distinct funding years. Granted for 2021 and 2022, a 2023
    item is refused whatever its premium (insurance-two-years): it was "needs the premium, 0 .. 100,000.00"."""
    history: tuple[Grant, ...] = ()
    for year in (2021, 2022):
        c = claim(
            item("patent_insurance", f"i{year}", date=f"{year}-06-01", premium_paid="1000.00"), funding_year=year, claim_id=f"H{year}"
        )
        history += engine.evaluate(pinggu, c, history).grants
    profile = claim(item("patent_insurance", "i2023", date="2023-06-01", premium_paid=...), funding_year=2023, claim_id="N")
    a = answers(pinggu, profile, history)["i2023"]
    assert a.answer == NOT_ELIGIBLE and [r.check for r in a.reasons] == ["insurance-two-years"]


def test_a_limit_used_up_whatever_an_unknown_counting_fact_turns_out_to_be_refuses(pinggu: CompiledPolicy) -> None:
    """第六条第（一）项 (R11, R29): at most 3 subsidies, one per loan per funding year. Counted: loan A in 2021, loan B in
    2021, loan A in 2022. A 2023 pledge item whose loan id is unknown is a new (loan, 2023) count whatever the loan: it is
    refused. A clerk's notice said "最高300,000.00 元 … 尚需提供 贷款合同编号". With only two counted it needs the id."""

    def pledge(loan: str, year: int) -> Grant:
        return Grant(f"H-{loan}-{year}", "l", "pledge-loan-interest", ENTERPRISE_ID, year, Decimal("10000.00"),
                     (Consumption("limit", "pledge-three-times", (ENTERPRISE_ID,), counts=(loan, year)),))  # fmt: skip

    profile = claim(item("pledge_loan_interest", "l9", date="2023-06-01", loan_id=..., annual_interest_paid=...), funding_year=2023)
    three = (pledge("A", 2021), pledge("B", 2021), pledge("A", 2022))
    a = answers(pinggu, profile, three)["l9"]
    assert (a.answer, a.high) == (NOT_ELIGIBLE, Decimal("0.00"))
    assert a.reasons[0].check == "pledge-three-times"
    two = answers(pinggu, profile, three[:2])["l9"]
    assert two.answer == NEEDS and any(n.fact == "item.loan_id" for n in two.needs)


def test_a_notices_problem_of_the_profile_as_a_whole_names_it_in_the_notices_language() -> None:
    """A problem's JSON `path` of the input as a whole is "" (no longer the text's "(document)" in the process's
    language); the notice still names the profile as a whole, in its own language."""
    from types import SimpleNamespace

    from engine.matching.outputs import _not_judged

    problem = {"path": "", "message": "not an object", "said": {"zh": {"message": "不是对象"}, "en": {"message": "not an object"}}}
    result = SimpleNamespace(errors=[{"policy": "P", "version": "1", "problems": [problem]}], policies={})  # (P not loaded: as given)
    assert _not_judged(result, "zh") == ["P 1：（整个文件）：不是对象"]  # type: ignore[arg-type]
    assert _not_judged(result, "en") == ["P 1: (document): not an object"]  # type: ignore[arg-type]


def test_a_notice_names_a_policy_it_could_not_match_under_by_its_title(tmp_path: Path) -> None:
    # a 2021 profile matched under Pinggu (2021-2023) and the fictional Lakeside measures (2024-2026): the applicant's
    # notice listed what it could not work out as `lakeside-innovation：“lakeside-innovation”没有适用于申报年度 2021
    # 的有效版本`, a code the applicant never saw; it names the measures by their title, as the notice's own headings
    # and summary.xlsx's 政策 column do (tests/fixtures/fictional_district.yaml: 湖畔区创新促进办法)
    out = tmp_path / "out"
    assert main(["match", "--policy", str(PINGGU), "--policy", str(FICTIONAL), str(EXAMPLE), "--out", str(out), "-q"]) == 3
    zh = (out / "notices" / "M-2021-001.zh.txt").read_text(encoding="utf-8")
    en = (out / "notices" / "M-2021-001.en.txt").read_text(encoding="utf-8")
    assert zh.endswith(
        "== 以下内容未能测算（请核对所填信息后再试）\n  - 湖畔区创新促进办法：“湖畔区创新促进办法”没有适用于申报年度 2021 的有效版本\n"
    )
    assert en.endswith(
        "  - Lakeside District Innovation Measures: no version of Lakeside District Innovation Measures is in force for funding year 2021\n"
    )
    html = (out / "notices" / "M-2021-001.zh.html").read_text(encoding="utf-8")
    assert "lakeside-innovation" not in zh + en + html and "湖畔区创新促进办法：“湖畔区创新促进办法”没有适用于" in html
    # matches.jsonl, for other systems, keeps the id
    [record] = [json.loads(x) for x in (out / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    assert record["errors"][0]["policy"] == "lakeside-innovation"


def test_the_console_names_the_measures_of_an_error_or_a_guess_by_title_and_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """match's console headed a profile's error line 'M-2 pinggu-ip-promotion 2020.1, …' and a misspelt fact's line
    'M-1 (pinggu-ip-promotion): …', and an error record's summary said 'could not be matched under pinggu-ip-promotion
    2020.1': the policy's id, a code no officer reads, where the notices and summary.xlsx name the measures by their
    title and version. Each now names them so, in the reader's language (the record keeps the id)."""
    from engine.core.i18n import tr
    from engine.matching.outputs import Summary, error_records

    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    l1 = next(i for i in profile["items"] if i["id"] == "l1")
    l1["anual_interest_paid"] = l1.pop("annual_interest_paid")
    n = profile["items"].index(l1)
    broken = {**profile, "claim_id": "M-2", "submission_date": "15/03/2022"}
    src = tmp_path / "p.jsonl"
    src.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in (profile, broken)) + "\n", encoding="utf-8")
    assert main(["--lang", "en", "match", "--policy", str(PINGGU), str(src), "--out", str(tmp_path / "o"), "--no-notices"]) == 3
    said = capsys.readouterr()
    title = "Pinggu District Intellectual Property Promotion Measures, version 2020.1"
    assert f"  M-2 ({title}), {src}:2, date the application was submitted (claim.submission_date): " in said.out
    assert f"  M-2021-001 ({title}): items[{n}].anual_interest_paid -- did you mean annual_interest_paid?\n" in said.err
    assert "pinggu-ip-promotion" not in said.out + said.err
    record = json.loads((tmp_path / "o" / "matches.jsonl").read_text(encoding="utf-8").splitlines()[1])
    assert (record["errors"][0]["policy"], record["errors"][0]["version"]) == ("pinggu-ip-promotion", "2020.1")  # (kept)
    versions = engine.PolicySet.load(PINGGU)
    (error,) = error_records(record, {versions.id: versions.versions})
    assert error["said"] == {"en": f"could not be matched under {title}", "zh": "无法按平谷区知识产权促进办法（版本 2020.1）匹配"}
    summary = Summary(policies={versions.id: versions.versions})
    summary.add(record)
    assert tr(summary.errors_listed[0]["claim_id"], "zh") == "M-2 平谷区知识产权促进办法（版本 2020.1）"
    assert tr(summary.errors_listed[0]["claim_id"], "en") == f"M-2 ({title})"
