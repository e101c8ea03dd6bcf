"""Session 40's review of the explanations against the measures and READINGS.md: every line written out by hand.

- The Chinese of the readings and notes sets a term apart in full-width “” (it had ASCII ", as in 规定为"企业"), and
  writes an amount with its unit 元 (READINGS.md: "Numbers are CNY"; R11 said 合计不超过 300,000 beside lines that say
  300,000.00 元). R21's quoted name of a cap used up is the one the explanation gives it: 封顶额度已用尽 (it said 用完).
- R8 (a rate's amount rounded half-up to 0.01) is named where a rounding happened, by the policy's
  `rounding.readings`; the invention-patent rule listed it too, so 8,400.00 × 50% = 4,200.00, rounded nowhere, named
  R8, while a loan's 1,000.01 × 50% = 500.005 -> 500.01 was the only kind of item that needed it.
- The summary's line for an article joins what it granted and what it provisionally works out as two clauses with
  "，" (it joined them with the list mark 、: 核定 300,000.00 元、另暂核 15,000.00 元).
- A per-unit amount's ceiling on the count is written as the count is: 7 个国家，最多计 5 个国家 (it said 最多计 5).

Session 41's review:
- The claim's funding year, a fact the engine requires, is said among a check's facts as the header says it: 申报年度为
  2021 年度 (it said 申报年度为 2021, a bare number); in English it stays "funding year: 2021".
- The HTML table of caps sets a cap's clause apart as the reader's language does: 每家企业每年享受贴息补助最高不超过30万元
  （第六条第（一）项）, in full-width brackets without a space (it wrote the ASCII " (第六条第（一）项)" in Chinese too).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import POLICY_PATH, claim, item

import engine
from engine.explaining.render import explain
from engine.officer.casefile import decide_case, load_case_file

ROOT = Path(__file__).parent.parent
ELLIPSIS = "（逐项计算、互不占用额度，所缺材料或事实补齐后按当时额度重新核定）"
ELLIPSIS_EN = (
    "(each item worked out alone, sharing no cap room; decided again on the room left once the missing documents or facts are given)"
)


def _readings_and_notes() -> list[dict[str, Any]]:
    data = yaml.safe_load(Path(POLICY_PATH).read_text(encoding="utf-8"))
    return [*data["readings"], *data["policy"]["notes"]]


def _readings_block(text: str, item_id: str) -> list[str]:
    """The ids of the readings an item of the plain zh text names, in order."""
    block = text.split(f" 事项 {item_id} · ", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^     (R\d+)：", block, re.M)


# --- the Chinese of the readings and notes --------------------------------------------------------------------------


def test_no_reading_or_note_sets_a_term_apart_in_ascii_quotation_marks() -> None:
    said = {r["id"]: r["zh"] for r in _readings_and_notes()}
    assert [rid for rid, zh in said.items() if '"' in zh] == []
    assert "第六条（一）（二）（三）（六）项及第七条（一）（三）项规定为“企业”：仅限企业；第七条（二）项规定为“单位”：" in said["R2"]
    assert "每笔获批贷款一个年度的贴息为一“次”；" in said["R11"]
    assert said["N5"] == "第五条（一）“每件专利一次”按专利号计，不区分申请人；第七条各称号“一次性”按申请人与称号计。"


def test_every_amount_of_a_reading_says_its_unit_in_chinese() -> None:
    said = {r["id"]: r["zh"] for r in _readings_and_notes()}
    assert "企业在一个申报年度内的补助合计不超过 300,000 元；累计不超过 3 次。" in said["R11"]
    assert "金奖 500,000 元，银奖 400,000 元，优秀奖 300,000 元，" in said["R10"]
    assert said["R18"] == (
        "第八条服务机构：择优支持。本系统不评定优劣：采用评审小组推荐的金额，并以 100,000 元封顶；"
        "没有评审金额的，决定为“待评审”，并显示 100,000 元的上限。"
    )
    for rid, zh in said.items():  # a grouped figure (300,000) is an amount: each is followed by 元
        assert re.findall(r"\d{1,3}(?:,\d{3})+(?! 元)(?![\d,])", zh) == [] or rid == "N7", (rid, zh)  # N7: US 11,000,001


def test_r21_names_a_cap_used_up_as_the_explanation_does(policy: engine.CompiledPolicy) -> None:
    said = {r["id"]: r["zh"] for r in _readings_and_notes()}
    assert said["R21"] == "因封顶被削减至 0 的事项不予支持（“封顶额度已用尽”），且不计为一次或一年。"
    # two loans of 2021: 700,000.00 × 50% = 350,000.00 -> 300,000.00 (the year's 30万); 100,000.00 × 50% = 50,000.00,
    # nothing left: refused, the cap used up
    data = claim(
        item("pledge_loan_interest", "l1", loan_id="A", annual_interest_paid="700000.00"),
        item("pledge_loan_interest", "l2", loan_id="B", annual_interest_paid="100000.00"),
    )
    zh = explain(policy, engine.evaluate(policy, data))
    assert "     1) 第六条第（一）项：封顶额度已用尽（每家企业每年享受贴息补助最高不超过30万元）\n" in zh
    assert "     R21：因封顶被削减至 0 的事项不予支持（“封顶额度已用尽”），且不计为一次或一年。\n" in zh


# --- R8 only where a rounding happened ------------------------------------------------------------------------------


def test_r8_is_named_on_an_invention_patent_only_where_its_amount_was_rounded(policy: engine.CompiledPolicy) -> None:
    exact = explain(policy, engine.evaluate(policy, claim(item("invention_patent_grant", "p1", official_fees_paid="8400.00"))))
    assert "     获得专利权所缴纳的官方规定费用 8,400.00 元 × 50% = 4,200.00 元\n" in exact
    # (its item lists no right holders: R30 makes the applicant the sole holder; R4, of several holders, is not named)
    assert _readings_block(exact, "p1") == ["R2", "R6", "R9", "R19", "R30"]
    rounded = explain(policy, engine.evaluate(policy, claim(item("invention_patent_grant", "p1", official_fees_paid="8400.01"))))
    # 8,400.01 × 50% = 4,200.005, half up to 4,200.01
    assert "     获得专利权所缴纳的官方规定费用 8,400.01 元 × 50% = 4,200.01 元（四舍五入至 0.01 元）\n" in rounded
    assert _readings_block(rounded, "p1") == ["R2", "R6", "R8", "R9", "R19", "R30"]
    en = explain(policy, engine.evaluate(policy, claim(item("invention_patent_grant", "p1"))), lang="en")
    assert "R8:" not in en


# --- the summary's line for an article with a provisional amount ----------------------------------------------------


def _granted_and_incomplete() -> dict[str, Any]:
    # l1: 100,000.00 × 50% = 50,000.00 granted; n1: 60,000.00 × 50% = 30,000.00, under the project's 5万, its sealed
    # receipt copies missing: incomplete, provisionally 30,000.00
    return claim(
        item("pledge_loan_interest", "l1"),
        item("navigation_project", "n1", documents=["fee_receipts"]),
    )


def test_an_articles_provisional_amount_is_a_clause_after_a_comma(policy: engine.CompiledPolicy) -> None:
    d = engine.evaluate(policy, _granted_and_incomplete())
    line = f"    第六条：2 项（其中核定 1 项），核定 50,000.00 元，另暂核 30,000.00 元{ELLIPSIS}\n"
    line_en = f"    第六条: 2 item(s) (1 of them granted), granted CNY 50,000.00, plus CNY 30,000.00 provisional {ELLIPSIS_EN}\n"
    assert line in explain(policy, d)
    assert line in explain(policy, d.to_dict())  # a recorded decision's summary is written by its own loop
    assert line_en in explain(policy, d, lang="en")
    assert line_en in explain(policy, d.to_dict(), lang="en")
    only = engine.evaluate(policy, claim(item("navigation_project", "n1", documents=["fee_receipts"])))
    assert f"    第六条：1 项，未予核定，另暂核 30,000.00 元{ELLIPSIS}\n" in explain(policy, only)
    assert "、另暂核" not in explain(policy, only, format="md")


# --- a per-unit amount's ceiling on the count -----------------------------------------------------------------------


def test_the_ceiling_on_a_count_is_written_with_the_counts_unit() -> None:
    cases = load_case_file(ROOT / "tests" / "fixtures" / "localities" / "OT13.cases.yaml")
    case = next(c for c in cases if c.name == "7 个国家授权，最多计 5 个国家")
    policy = engine.load_policy(ROOT / "tests" / "fixtures" / "localities" / "OT13.yaml")
    d = decide_case(case, policy)
    # 14.1: 20,000 per country of grant, at most 5 countries; 7 given: 5 × 20,000.00 = 100,000.00
    assert "     每个国家 20,000.00 元 × 5 = 100,000.00 元（获得授权的国家数 7 个国家，最多计 5 个国家）\n" in explain(policy, d)
    en = "     CNY 20,000.00 per unit × 5 = CNY 100,000.00 (countries of grant 7 countries, counted up to 5 countries)\n"
    assert en in explain(policy, d, lang="en")
    assert en in explain(policy, d.to_dict(), lang="en")


# --- the funding year among a check's facts ------------------------------------------------------------------------


def test_the_funding_year_among_a_checks_facts_is_said_as_a_year(policy: engine.CompiledPolicy) -> None:
    # an item of 2020-12-28 in a claim for the funding year 2021: refused by 第十一条 (R6), its facts said
    d = engine.evaluate(policy, claim(item("invention_patent_grant", "p1", date="2020-12-28")))
    zh = explain(policy, d)
    said = "事项发生日期为 2020-12-28；申报年度为 2021 年度"
    assert f"     ✗ 第十一条：事项须发生在申报年度（上一年度）内（申报事实：{said}）\n" in zh
    assert f"该条件满足方可支持。申报事实：{said}。" in zh
    assert "申报年度：2021 年度\n" in zh  # the header, as before
    assert f"申报事实：{said}" in explain(policy, d.to_dict())  # a recorded decision's facts alike
    en = explain(policy, d, lang="en")
    assert "(as claimed: date of the event: 2020-12-28; funding year: 2021)\n" in en


# --- the clause of a cap in the HTML table -------------------------------------------------------------------------


def test_the_clause_of_a_cap_in_the_html_table_is_bracketed_as_its_language_brackets(policy: engine.CompiledPolicy) -> None:
    # a loan of 100,000.00 interest: 50,000.00 under the year's 30万 of 第六条第（一）项
    d = engine.evaluate(policy, claim(item("pledge_loan_interest", "l1")))
    row = '<tr><td>每家企业每年享受贴息补助最高不超过30万元<span class="note">（第六条第（一）项）</span></td>'
    row_en = '<tr><td>at most CNY 300,000 of interest subsidy per enterprise per year<span class="note"> (第六条第（一）项)</span></td>'
    for decision in (d, d.to_dict()):
        assert row in explain(policy, decision, format="html")
        assert row_en in explain(policy, decision, lang="en", format="html")
    assert row in engine.render_report(policy, [d])  # the reviewer's report draws the same body


# --- notes cite clauses by the measures' own numbering (review41) ---------------------------------------------------


def test_every_note_cites_clauses_by_the_measures_own_numbering_in_both_languages() -> None:
    """The English of N1-N12 cited "Art. 8", "Art. 5(1)", "Art. 4(3)" where every other English line (the readings,
    the clauses, the explanations) cites 第八条, 第五条(一), 第四条第三款; and N12 named an expression, item.alliance_id."""
    said = {r["id"]: r for r in _readings_and_notes()}
    assert [rid for rid, r in said.items() if re.search(r"\bArt\. ?\d", r["en"])] == []
    assert said["N1"]["en"].startswith("第八条's ceiling of CNY 100,000 is applied per service agency")
    assert said["N11"]["en"].startswith("第四条第三款's first right holder is compared by name")
    assert said["N9"]["en"].startswith("The referral of 第六条(四)第二款 names enterprises and IP right holders")
    assert [rid for rid, r in said.items() if "item." in r["zh"] or "item." in r["en"]] == []
    assert "按联盟编号累计，不论由哪家单位申报" in said["N12"]["zh"]


# --- a provisional amount says what it waits for (review41) ---------------------------------------------------------


def test_a_provisional_amount_says_whether_it_waits_for_documents_or_facts(policy: engine.CompiledPolicy) -> None:
    """An item incomplete for a fact not given said 材料补齐后暂核金额 (once the documents are complete), though it
    lacked no document. A loan of 100,000.00 interest × 50% = 50,000.00, the applicant not saying whether it operates
    in the district (N4: unknown, not false)."""

    def provisional_line(**facts: Any) -> str:
        data = claim(item("pledge_loan_interest", "l1", loan_id="A", annual_interest_paid="100000.00", **facts), actually_operating=...)
        (line,) = [x.strip() for x in explain(policy, engine.evaluate(policy, data)).splitlines() if "暂核金额：" in x]
        return line

    assert provisional_line() == "所缺事实补齐后暂核金额：50,000.00 元（现不占用封顶额度与次数）"
    both = provisional_line(documents=["proof_of_right"])  # and without its fee receipts and sealed copies
    assert both == "材料和所缺事实补齐后暂核金额：50,000.00 元（现不占用封顶额度与次数）"
    only_documents = claim(item("pledge_loan_interest", "l1", loan_id="A", annual_interest_paid="100000.00", documents=["proof_of_right"]))
    text = explain(policy, engine.evaluate(policy, only_documents))
    assert "     材料补齐后暂核金额：50,000.00 元（现不占用封顶额度与次数）\n" in text
    assert "另暂核 50,000.00 元（逐项计算、互不占用额度，所缺材料或事实补齐后按当时额度重新核定）" in text


# --- a limit used before names who used it, held or not (review41) --------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_held_limit_names_the_earlier_application_that_used_it(policy: engine.CompiledPolicy, lang: str) -> None:
    """Golden 02: the applicant's insurance of funding year 2021 (G-2021-07, item i1) counted 1 of the two years of
    第六条（二）; the 2022 policy item i1 is the second. The line said 此前已计 1 年 and no more: only a limit that refused
    named the applications that filled it, so a reviewer could not trace the 1 to G-2021-07."""
    data = engine.loads_json((ROOT / "tests" / "golden" / "02-history-consumed.claim.json").read_text(encoding="utf-8"))
    decision = engine.evaluate(policy, data)
    (step,) = [s for s in decision.to_dict()["items"][1]["steps"] if s["step"] == "limit"]
    assert (step["result"], step["used_before"], step["used_by"]) == (
        True,
        1,
        [{"claim_id": "G-2021-07", "funding_year": 2021, "applicant_id": "91110117MA01ABCD1F", "counted": 1}],
    )
    text = explain(policy, decision, lang=lang)
    if lang == "zh":
        assert "     ✓ 最多支持2年：上限 2 年，此前已计 1 年（其中：2021 年度申请 G-2021-07 计 1 年），本项计入后 2 年\n" in text
    else:
        assert "counted before 1 (among them: application G-2021-07 for 2021, 1 year(s)), with this item 2\n" in text
    assert explain(policy, json.loads(decision.to_json()), lang=lang) == text
