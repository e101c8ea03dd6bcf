"""Issue 13, points 10-12 (readings, Pinggu fidelity, coverage and diff): readings and notes are data.

A policy carries its readings (top-level `readings:`, {id, zh, en}); every `readings: [..]` must name one; every
explanation shows the words of each reading and note that shaped an item. 第四条第一款 (R3) applies to every item
whose right can be something other than a patent or trademark. Coverage lists only branches that can happen; diff
reports title, readings, notes and any other section. Expected texts are quoted from READINGS.md and the policy's
notes by hand.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import ENTERPRISE_ID, POLICY_PATH, ROOT, by_item, cap_use, claim, decide, history_grant, item
from test_policy_errors import TEMPLATE, mutate, only_problem, write

import engine
from engine.explaining.render import explain
from engine.officer.coverage import branches_of
from engine.officer.diff import diff_policies

READINGS_MD = ROOT / ".." / "shared" / "measures" / "READINGS.md"

# R3 as the bureau wrote it (READINGS.md), and our Chinese of it (policies/pinggu_2020.yaml).
R3_EN = (
    "Only patents and trademarks count (第四条第一款). An item resting on any other right (copyright, software, "
    "plant variety…) is outside the measures."
)
R3_ZH = "仅专利和商标计入（第四条第一款）。以其他任何权利（著作权、软件著作权、植物新品种权等）为基础的事项不在本办法范围之内。"
# R13 and R2 (their start), as READINGS.md writes them.
R13_EN = "第六条(三) securitisation: 50% of actual financing costs; at most 500,000 per enterprise in total, across years."
R2_EN_START = "Who may claim what, by the wording of each item: natural persons only 第五条 (一)(二)(三);"
# Note N3 of the policy (policy.notes), in Chinese.
N3_ZH = "第六条（五）联盟运营费用须自联盟成立之日起发生：费用期间起始日早于成立日的，申请人须剔除成立前费用后重新申报，本条目不予支持。"

A4_1 = "第四条第一款"


def _explained(policy: engine.CompiledPolicy, data: dict[str, Any], lang: str, fmt: str = "text") -> str:
    return explain(policy, engine.evaluate(policy, data), lang=lang, fmt=fmt)


# --- point 10: the readings are in the policy -------------------------------------------------------------------


def test_pinggu_carries_r1_to_r30_with_the_bureaus_english_verbatim(policy: engine.CompiledPolicy) -> None:
    assert [r.id for r in policy.readings] == [f"R{n}" for n in range(1, 31)]
    by_id = {r.id: r.text for r in policy.readings}
    assert by_id["R3"].en == R3_EN and by_id["R3"].zh == R3_ZH
    assert by_id["R13"].en == R13_EN
    if READINGS_MD.exists():  # the shared measures folder: every reading's English is its text there, lines rejoined
        md = READINGS_MD.read_text(encoding="utf-8")
        for rid, body in re.findall(r"^- (R\d+)\. (.*?)(?=^- R\d+\.|^## |\Z)", md, re.S | re.M):
            assert by_id[rid].en == " ".join(body.split()).replace("**", ""), rid
    for rid, text in by_id.items():  # every reading has its Chinese
        assert re.search(r"[\u4e00-\u9fff]{4}", text.zh), rid


def test_every_cited_reading_of_pinggu_is_among_its_readings(policy: engine.CompiledPolicy) -> None:
    known = {r.id for r in policy.readings}
    cited = {x for rule in policy.rules for x in rule.readings} | {x for t in policy.applicant_checks for x in t.readings}
    assert cited and cited <= known


READINGS_SECTION = """readings:
  - {id: K-1, zh: 发明专利仅计国内授权。, en: Only patents granted in China count.}
  - {id: "2021.4", zh: 奖项按证书日期计年度。, en: An award counts in the year of its certificate.}
rules:
"""


def test_a_reading_may_have_any_id_form_and_rules_cite_it(tmp_path: Path) -> None:
    text = mutate("rules:\n", READINGS_SECTION)
    text = mutate("    documents: [receipts]\n", '    documents: [receipts]\n    readings: [K-1, "2021.4"]\n', text)
    policy = engine.load_policy(write(tmp_path, text))
    assert [(r.id, r.text.en) for r in policy.readings] == [
        ("K-1", "Only patents granted in China count."),
        ("2021.4", "An award counts in the year of its certificate."),
    ]
    assert policy.rules[0].readings == ("K-1", "2021.4")


def test_an_unknown_reading_is_a_load_error_with_did_you_mean(tmp_path: Path) -> None:
    text = mutate("rules:\n", READINGS_SECTION)
    text = mutate("    documents: [receipts]\n", "    documents: [receipts]\n    readings: [K-l]\n", text)
    p = only_problem(tmp_path, text)
    assert (p.code, p.path) == ("unknown_reading", ("rules", 0, "readings", 0))
    assert p.message == "reading 'K-l' is not among the policy's readings"
    assert p.expected is not None and p.expected.startswith("did you mean 'K-1'?")
    assert p.line == text.splitlines().index("    readings: [K-l]") + 1


def test_a_numbered_reading_id_is_guessed_only_when_one_number_is_one_digit_away(tmp_path: Path) -> None:
    """R31 was "did you mean 'R3'?" (difflib's nearest spelling), a wrong guess: 31 is one digit from 1, 3 and 30."""
    section = "readings:\n" + "".join(f"  - {{id: R{i}, zh: 读法{i}。, en: Reading {i}.}}\n" for i in (1, 3, 30)) + "rules:\n"
    for ref, expected in (("R31", "an id of the top-level `readings`"), ("R300", "did you mean 'R30'? an id of the top-level `readings`")):
        text = mutate("    documents: [receipts]\n", f"    documents: [receipts]\n    readings: [{ref}]\n", mutate("rules:\n", section))
        p = only_problem(tmp_path, text)
        assert (p.code, p.message, p.expected) == ("unknown_reading", f"reading '{ref}' is not among the policy's readings", expected)


def test_a_cited_reading_needs_a_readings_section(tmp_path: Path) -> None:
    # a nested place (a cap) is checked too: every `readings: [..]` anywhere in the file
    text = mutate(
        "        per: [applicant.id, claim.funding_year]\n",
        "        per: [applicant.id, claim.funding_year]\n        readings: [R8]\n",
    )
    p = only_problem(tmp_path, text)
    assert (p.code, p.path) == ("unknown_reading", ("rules", 0, "caps", 0, "readings", 0))
    assert "top-level `readings:`" in (p.expected or "")


def test_a_reading_id_twice_is_an_error(tmp_path: Path) -> None:
    text = mutate("rules:\n", "readings:\n  - {id: R1, zh: 甲, en: a}\n  - {id: R1, zh: 乙, en: b}\nrules:\n")
    p = only_problem(tmp_path, text)
    assert p.path == ("readings", 1, "id") and "duplicate reading id 'R1'" in p.message


def test_a_malformed_reading_id_is_a_schema_error(tmp_path: Path) -> None:
    p = only_problem(tmp_path, mutate("rules:\n", "readings:\n  - {id: -R1, zh: 甲, en: a}\nrules:\n"))
    assert p.path == ("readings", 0, "id") and p.code.startswith("schema.")


# --- point 10: explanations show the words ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_a_copyright_pledge_explanation_quotes_r3(policy: engine.CompiledPolicy, fmt: str) -> None:
    data = claim(item("pledge_loan_interest", "c1", pledged_right="copyright"))
    zh, en = _explained(policy, data, "zh", fmt), _explained(policy, data, "en", fmt)
    assert f"R3：{R3_ZH}" in zh
    assert f"R3: {R3_EN}" in en
    assert "适用读法：R2" not in zh  # no bare list of ids any more


def test_text_explanation_lists_the_readings_under_their_heading(policy: engine.CompiledPolicy) -> None:
    zh = _explained(policy, claim(item("ip_securitisation", "s1", underlying_right="copyright")), "zh")
    block = zh.split("   适用读法：\n", 1)[1].split("\n\n", 1)[0].splitlines()
    # rule ip-securitisation: R2, R3, R13; checks applied: R6 (第十一条), R3 (第四条第一款), R19 (第九条): policy order
    assert [line.split("：", 1)[0].strip() for line in block] == ["R2", "R3", "R6", "R13", "R19"]
    assert f"     R3：{R3_ZH}" in block


def test_a_note_that_shaped_an_item_is_shown_with_its_words(policy: engine.CompiledPolicy) -> None:
    # 第六条（五）, N3: a cost period starting before the founding is refused; the condition rests on N3
    data = claim(
        item("alliance_operation", "a1", founding_date="2021-03-01", costs_from="2021-01-01"),
        applicant="alliance",
    )
    zh = _explained(policy, data, "zh")
    assert f"   适用口径说明：\n     N3：{N3_ZH}\n" in zh
    en = _explained(policy, data, "en")
    assert "   Notes applied:\n     N3: 第六条(五): the cost period must start on or after the alliance's founding day;" in en


def test_a_standing_refusal_shows_the_readings_of_the_standing_check(policy: engine.CompiledPolicy) -> None:
    # 第十四条: a finding on 2019-05-01 bars an application of 2022-03-15 (before 2024-05-01): R5, R24 and N6
    data = claim(item("ip_management_certification", "m1"), fraud_finding_dates=["2019-05-01"])
    en = _explained(policy, data, "en")
    assert "R24: 第十四条 five-year bar: it runs from the date of the finding to the same calendar date five years later" in en
    assert "N6: 第十四条 findings on record in the ledger are authoritative" in en


def test_a_decision_and_its_record_show_the_same_readings(policy: engine.CompiledPolicy) -> None:
    d = engine.evaluate(policy, claim(item("ip_securitisation", "s1", underlying_right="software_copyright")))
    assert explain(policy, d, "en", "text") == explain(policy, d.to_dict(), "en", "text")


# --- point 11: 第四条第一款 for securitisation and platform transformation ------------------------------------


def test_a_copyright_backed_securitisation_is_refused_under_4_1_citing_r3(policy: engine.CompiledPolicy) -> None:
    d = by_item(decide(policy, claim(item("ip_securitisation", "s1", underlying_right="copyright", financing_costs="400000.00"))))["s1"]
    assert (d["status"], d["amount"]) == ("refused", "0.00")
    assert [(r["check"], r["cites"], r["category"]) for r in d["reasons"]] == [
        ("underlying-right-patents-and-trademarks-only", A4_1, "scope")
    ]
    assert A4_1 in d["cites"]
    zh = _explained(policy, claim(item("ip_securitisation", "s1", underlying_right="copyright")), "zh")
    assert f"{A4_1}：本办法所指知识产权仅包括专利、商标" in zh and f"R3：{R3_ZH}" in zh


def test_a_trademark_backed_securitisation_is_paid(policy: engine.CompiledPolicy) -> None:
    d = by_item(decide(policy, claim(item("ip_securitisation", "s1", underlying_right="trademark", financing_costs="400000.00"))))["s1"]
    assert (d["status"], d["amount"]) == ("granted", "200000.00")  # 400,000 × 50%


def test_a_refused_securitisation_uses_no_room_of_the_total_cap(policy: engine.CompiledPolicy) -> None:
    # 400,000 of 500,000 used before (R13); a copyright one is refused and leaves the 100,000 for a patent one
    history = [history_grant("ip-securitisation", "400000.00", cap_use("securitisation-total-cap", [ENTERPRISE_ID], "400000.00"))]
    data = claim(
        item("ip_securitisation", "s1", financing_id="ABS-C", underlying_right="copyright", financing_costs="300000.00"),
        item("ip_securitisation", "s2", financing_id="ABS-P", underlying_right="patent", financing_costs="300000.00"),
        history=history,
    )
    got = {k: (v["status"], v["amount"]) for k, v in by_item(decide(policy, data)).items()}
    assert got == {"s1": ("refused", "0.00"), "s2": ("reduced", "100000.00")}  # 300,000 × 50% = 150,000 → 100,000 left


def test_a_platform_transforming_a_software_copyright_is_refused(policy: engine.CompiledPolicy) -> None:
    d = by_item(
        decide(policy, claim(item("platform_transformation_service", "t1", underlying_right="software_copyright"), applicant="platform"))
    )
    assert d["t1"]["status"] == "refused" and A4_1 in d["t1"]["cites"]


def test_a_securitisation_claim_must_state_its_right(policy: engine.CompiledPolicy) -> None:
    with pytest.raises(engine.ClaimError) as info:
        engine.evaluate(policy, claim(item("ip_securitisation", "s1", underlying_right=...)))
    assert "underlying_right" in str(info.value)


# --- point 12: coverage never counts a branch that cannot happen ------------------------------------------------


def test_no_incomplete_branch_without_optional_facts_or_documents(tmp_path: Path) -> None:
    # the template policy: every fact required, no applicant documents; `award` asks no documents, `patent-fees` does
    keys = {b.key for b in branches_of(engine.load_policy(write(tmp_path, TEMPLATE)))}
    assert "award:incomplete" not in keys
    assert {"award:granted", "patent-fees:granted", "patent-fees:incomplete"} <= keys


def test_an_optional_fact_read_by_a_rule_makes_incomplete_possible(tmp_path: Path) -> None:
    text = mutate(
        "    kind: {type: enum, values_from: applicant_kinds, zh: 类型, en: kind}\n",
        "    kind: {type: enum, values_from: applicant_kinds, zh: 类型, en: kind}\n"
        "    registered: {type: boolean, required: false, zh: 已登记, en: registered}\n",
    )
    text = mutate(
        "      table: {gold: 20万, silver: 10万}\n",
        "      table: {gold: 20万, silver: 10万}\n    when:\n"
        "      - test: applicant.registered\n        says: {zh: 须登记, en: must be registered}\n",
        text,
    )
    keys = {b.key for b in branches_of(engine.load_policy(write(tmp_path, text)))}
    assert "award:incomplete" in keys


def test_applicant_documents_make_incomplete_possible_for_every_rule(tmp_path: Path) -> None:
    text = mutate(
        "rules:\n",
        "checks:\n  - id: licence\n    cites: 第一条\n    level: applicant\n    category: documents\n"
        "    documents: [receipts]\n    says: {zh: 须交票据, en: receipts needed}\nrules:\n",
    )
    keys = {b.key for b in branches_of(engine.load_policy(write(tmp_path, text)))}
    assert {"award:incomplete", "patent-fees:incomplete"} <= keys


def test_pinggu_branches_are_unchanged_by_the_rule(policy: engine.CompiledPolicy) -> None:
    # Pinggu's standing facts may be left out (N4), so every paying rule can still be incomplete
    keys = {b.key for b in branches_of(policy)}
    assert {"ip-securitisation:incomplete", "service-agency-performance:incomplete"} <= keys
    assert "self-transformation-referral:incomplete" not in keys  # a referral is never incomplete


# --- point 12: diff reports title, readings, notes and any section -------------------------------------------------


def _variant(*edits: tuple[str, str]) -> engine.CompiledPolicy:
    text = POLICY_PATH.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return engine.load_policy_text(text, str(POLICY_PATH))


def test_diff_reports_title_readings_and_notes_in_clause_order(policy: engine.CompiledPolicy) -> None:
    new = _variant(
        ("    zh: 平谷区知识产权促进办法\n    en: Pinggu", "    zh: 平谷区知识产权促进办法（修订）\n    en: Pinggu"),
        (
            '    en: "第六条(三) securitisation: 50% of actual financing costs;',
            '    en: "第六条(三) securitisation: 60% of actual financing costs;',
        ),
        ("    readings: [R2, R3, R13]", "    readings: [R2, R13]"),
        ("  - id: R30\n", "  - id: R31\n    zh: 新增读法。\n    en: A new reading.\n  - id: R30\n"),
        ("本条目不予支持。\n", "本条目不予支持（修订）。\n"),
    )
    got = [(c.clause, c.kind, c.subject) for c in diff_policies(policy, new)]
    assert got == [
        ("(policy)", "title", "policy.title.zh"),
        ("(policy)", "reading.added", "R31"),  # cited by nothing: the policy's
        ("第六条第（三）项", "reading.text", "R13.en"),  # R13 first cited by rule ip-securitisation's cap
        ("第六条第（三）项", "readings", "rule ip-securitisation"),
        ("第六条第（五）项", "note.text", "N3.zh"),  # N3 first cited by alliance-operation's condition
    ]
    texts = {c.subject: c.text for c in diff_policies(policy, new)}
    assert texts["rule ip-securitisation"] == "rule ip-securitisation: readings R2, R3, R13 → R2, R13"
    assert texts["policy.title.zh"] == "title (zh): “平谷区知识产权促进办法” → “平谷区知识产权促进办法（修订）”"


def test_diff_reports_any_other_section_entry_by_entry(policy: engine.CompiledPolicy) -> None:
    # a section the diff does not model (a section added to the language later; `parameters` is modelled now, see
    # tests/test_parameters_tables.py::test_diff_reports_parameter_changes): compared generically
    lpr = {"zh": "一年期LPR", "en": "one-year LPR", "type": "percent", "values": [{"from": "2021-12-20", "value": "3.80%"}]}
    with_params = dataclasses.replace(policy, data={**policy.data, "schedules": {"lpr_1y": lpr}})
    changed = dataclasses.replace(
        policy, data={**policy.data, "schedules": {"lpr_1y": {**lpr, "values": [{"from": "2022-01-20", "value": "3.70%"}]}}}
    )
    added = [(c.clause, c.kind, c.subject, c.new) for c in diff_policies(policy, with_params)]
    assert added == [("(policy)", "schedules.added", "schedules.lpr_1y", added[0][3])]
    assert '"value": "3.80%"' in (added[0][3] or "")
    [change] = diff_policies(with_params, changed)
    assert (change.kind, change.subject) == ("schedules.changed", "schedules.lpr_1y")
    assert "2021-12-20" in (change.old or "") and "2022-01-20" in (change.new or "")
    # an existing section the diff did not compare before: a document added to the catalogue
    docs = _variant(
        (
            "  sealed_receipt_copies: {zh: 加盖公章的票据复印件",
            "  audit_report: {zh: 审计报告, en: audit report}\n  sealed_receipt_copies: {zh: 加盖公章的票据复印件",
        )
    )
    assert ("documents.added", "documents.audit_report") in [(c.kind, c.subject) for c in diff_policies(policy, docs)]
