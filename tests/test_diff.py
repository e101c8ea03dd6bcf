"""Revision diff in the officer's terms, and the impact of a revision on a round of claims."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from conftest import POLICY_PATH, ROOT, claim, item

import engine
from engine.core.i18n import tr, use_language
from engine.officer.diff import diff_policies, impact, read_claims

TEXT = POLICY_PATH.read_text(encoding="utf-8")


def variant(*edits: tuple[str, str]) -> engine.CompiledPolicy:
    text = TEXT
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return engine.load_policy_text(text, str(POLICY_PATH))


def changes_of(new: engine.CompiledPolicy, old: engine.CompiledPolicy) -> list[tuple[str, str, str, str | None, str | None]]:
    return [(c.clause, c.kind, c.subject, c.old, c.new) for c in diff_policies(old, new)]


def test_identical_versions_have_no_changes(policy: engine.CompiledPolicy) -> None:
    assert diff_policies(policy, engine.load_policy(POLICY_PATH)) == []


def test_rate_cap_limit_condition_and_kinds(policy: engine.CompiledPolicy) -> None:
    new = variant(
        ("amount: {rate: 50%, of: item.annual_interest_paid}", "amount: {rate: 60%, of: item.annual_interest_paid}"),
        ("        max: 20万\n        per: [item.alliance_id]", "        max: 25万\n        per: [item.alliance_id]"),
        ("        times: 3\n", "        times: 2\n"),
        ("    when:\n      - test: item.lender_is_bank\n        says: {zh: 贷款须为银行贷款, en: the loan must come from a bank}\n", ""),
        (
            "    item_type: navigation_project\n    who: {kinds: [enterprise]}\n",
            "    item_type: navigation_project\n    who: {kinds: [enterprise, public_institution]}\n"
            "    when:\n      - test: item.actual_costs >= 10000\n        says: {zh: 项目费用不少于1万元, en: 'project costs of at least CNY 10,000'}\n",
        ),
        ("table: {gold: 50万, silver: 40万, excellence: 30万}", "table: {gold: 60万, silver: 40万, excellence: 30万}"),
    )
    got = changes_of(new, policy)
    assert ("第五条第（二）项", "amount", "china-patent-award[gold]", "50万", "60万") in got
    assert ("第六条第（一）项", "rate", "pledge-loan-interest", "50%", "60%") in got
    assert ("第六条第（一）项", "condition.removed", "pledge-loan-interest", "item.lender_is_bank", None) in got
    assert ("第六条第（一）项", "limit", "pledge-three-times", "3", "2") in got
    assert ("第六条第（五）项", "cap", "alliance-total-cap", "20万", "25万") in got
    assert ("第六条第（六）项", "condition.added", "navigation-project", None, "item.actual_costs >= 10000") in got
    assert ("第六条第（六）项", "who.added", "navigation-project", None, "public_institution") in got
    assert len(got) == 7
    texts = [c.text for c in diff_policies(policy, new)]
    assert "pledge-loan-interest: rate 50% → 60%" in texts
    assert "alliance-total-cap" in " ".join(texts) and "20万 → 25万" in " ".join(texts)
    # a kind of applicant, and a table's entry, in the policy's words with the code (a reviewer read the code alone)
    with use_language("zh"):
        assert "navigation-project：现接受事业单位（public_institution）类申请人" in [tr(t) for t in texts]
        assert "china-patent-award：金奖（gold）的金额 50万 → 60万" in [tr(t) for t in texts]
    # grouped in clause order: 第五条 before 第六条第（一）项 before 第六条第（五）项
    clauses = [c[0] for c in got]
    assert clauses == sorted(clauses, key=list(policy.clauses).index)


def test_checks_and_fixed_amounts(policy: engine.CompiledPolicy) -> None:
    new = variant(
        ("test: not item.supported_by_other_district_policy", "test: item.supported_by_other_district_policy == False"),
        (
            "    who: {kinds: [enterprise, public_institution]}\n    amount: {fixed: 5万}",
            "    who: {kinds: [enterprise, public_institution]}\n    amount: {fixed: 8万}",
        ),
    )
    got = changes_of(new, policy)
    assert (
        "第九条",
        "check.test",
        "no-double-benefit",
        "not item.supported_by_other_district_policy",
        "item.supported_by_other_district_policy == False",
    ) in got
    assert ("第七条第（二）项", "amount", "beijing-ip-demonstration-unit", "5万", "8万") in got


def test_an_amount_change_is_said_in_one_form_on_both_sides(policy: engine.CompiledPolicy) -> None:
    """`30万 → 300000.50元` mixed the clause's 万 with a yuan figure in one line; both sides now take one form: 万 when
    both are whole 万, else yuan with fen as diff says every other amount (parameters, impact)."""
    new = variant(
        (
            "        max: 30万\n        per: [applicant.id, claim.funding_year]\n        says: {zh: 每家企业",
            "        max: 300000.50\n        per: [applicant.id, claim.funding_year]\n        says: {zh: 每家企业",
        ),
        (
            "    who: {kinds: [enterprise, public_institution]}\n    amount: {fixed: 5万}",
            "    who: {kinds: [enterprise, public_institution]}\n    amount: {fixed: 45000}",
        ),
        ("table: {gold: 50万, silver: 40万, excellence: 30万}", "table: {gold: 50万, silver: 40万, excellence: 300000.50}"),
    )
    with use_language("zh"):
        texts = [tr(c.text) for c in diff_policies(policy, new)]
    assert "pledge-loan-interest：封顶 pledge-annual-cap（按申请人、申报年度）300,000.00 元 → 300,000.50 元" in texts
    assert any(t.endswith("的金额 300,000.00 元 → 300,000.50 元") for t in texts), texts
    assert any(t.endswith("50,000.00 元 → 45,000.00 元") for t in texts), texts
    # both whole 万: the clause's own form, as before
    got = changes_of(
        variant(("table: {gold: 50万, silver: 40万, excellence: 30万}", "table: {gold: 60万, silver: 40万, excellence: 30万}")), policy
    )
    assert ("第五条第（二）项", "amount", "china-patent-award[gold]", "50万", "60万") in got


def test_impact_from_a_folder_of_claims(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    new = variant(
        (
            "        max: 30万\n        per: [applicant.id, claim.funding_year]\n        says: {zh: 每家企业",
            "        max: 50万\n        per: [applicant.id, claim.funding_year]\n        says: {zh: 每家企业",
        )
    )
    (tmp_path / "a.json").write_text((ROOT / "examples" / "claim_enterprise_2021.json").read_text(encoding="utf-8"), encoding="utf-8")
    b = claim(item("navigation_project", "n1", actual_costs="60000.00"), claim_id="C-NAV")
    (tmp_path / "b.json").write_text(json.dumps(b, ensure_ascii=False), encoding="utf-8")
    claims = read_claims(tmp_path)
    assert len(claims) == 2
    result = impact(policy, new, claims)
    assert result.errors == [] and result.notes == []  # both 2021, inside both windows
    (changed,) = result.changed
    # l2: 100,000 asked; old cap left 300,000 − 250,000 = 50,000; new cap 500,000 leaves 250,000 -> paid in full
    assert (changed.claim_id, changed.item_id, changed.old_status, changed.old_amount, changed.new_status, changed.new_amount) == (
        "PG-2022-0001",
        "l2",
        "reduced",
        Decimal("50000.00"),
        "granted",
        Decimal("100000.00"),
    )
    by_article = result.by_article()
    # 第六条: old 250,000 + 50,000 + navigation 30,000; new 250,000 + 100,000 + 30,000
    assert by_article["第六条"] == (Decimal("330000.00"), Decimal("380000.00"))
    assert by_article["第五条"] == (Decimal("404200.00"), Decimal("404200.00"))  # 4,200 + 400,000
    assert result.total_new - result.total_old == Decimal("50000.00")


def test_cli_json(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "diff",
            "policies/pinggu_2020.yaml",
            "policies/pinggu_2020.yaml",
            "--claims",
            "examples/claim_enterprise_2021.json",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["changes"] == [] and data["impact"]["changed"] == []
    assert data["impact"]["total"] == {"old": "804200.00", "new": "804200.00", "delta": "0.00"}


def test_two_versions_under_one_version_label_are_said_to_need_a_new_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """(the officer walk-through, session 35) a revision whose `version:` was never bumped: diff listed its changes
    under "2020.1 → 2020.1" and said nothing. Decided under it, its decisions and ledger rows would name the version
    the old file's do. Said now on stderr, before the changes, with the fix; the changes and the exit code unchanged.
    The revision here: 第六条第（一）项's rate 50% → 60%, one change."""
    from engine.cli import main

    shutil.copytree(ROOT / "policies" / "texts", tmp_path / "texts")
    old = tmp_path / "old.yaml"
    old.write_text(TEXT, encoding="utf-8")
    new = tmp_path / "new.yaml"
    rate = "amount: {rate: 50%, of: item.annual_interest_paid}"
    new.write_text(TEXT.replace(rate, rate.replace("50%", "60%")), encoding="utf-8")
    assert main(["--lang", "zh", "diff", str(old), str(new)]) == 0
    out, err = capsys.readouterr()
    assert err == (
        "注意：两个文件的版本号相同（都是 2020.1），内容却有 1 处变化，多半是修订时忘了改版本号。审核结果和台账都按版本号记下所依据的"
        "政策版本；两个版本共用一个版本号，日后就分不清一份申请是按哪个版本审核的。"
        f"请在修订后的文件 {new} 中把 policy.version 改为新的版本号，再重新比较\n"
    )
    assert out.startswith(f"平谷区知识产权促进办法：2020.1（{old}）→ 2020.1（{new}）—— 共 1 处变化\n")
    assert main(["--lang", "en", "diff", str(old), str(new), "--json"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("warning: the two files carry the same version (2020.1), yet differ in 1 place(s): ")
    assert [c["kind"] for c in json.loads(out)["changes"]] == ["rate"]  # (the JSON on stdout as before)
    # and in the JSON itself (a program reading stdout had no word of it): its key and the words stderr gives
    assert json.loads(out)["warnings"] == [
        {
            "code": "diff.same_version",
            "message": "the two files carry the same version (2020.1), yet differ in 1 place(s): most likely the version was not "
            "changed when the policy was revised. Decisions and the ledger record the version of the policy they were decided "
            "under; under one label, which version decided an application could not be told later. Change policy.version in "
            f"the revised file {new} to a new version, and compare again",
        }
    ]
    assert main(["--lang", "zh", "diff", str(old), str(new), "--json"]) == 0
    [said] = json.loads(capsys.readouterr().out)["warnings"]
    assert said["message"].startswith("两个文件的版本号相同（都是 2020.1），内容却有 1 处变化")
    # a new label (2020.2: the version change and the rate, two changes), or the same file twice: nothing said
    new.write_text(new.read_text(encoding="utf-8").replace('version: "2020.1"', 'version: "2020.2"'), encoding="utf-8")
    assert main(["--lang", "zh", "diff", str(old), str(new)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "—— 共 2 处变化" in out
    assert main(["--lang", "zh", "diff", str(old), str(old)]) == 0
    assert capsys.readouterr().err == ""
    assert main(["--lang", "zh", "diff", str(old), str(new), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"] == []  # (a new label: nothing to say, an empty list)


# --- --claims reads what a batch reads; an invalid claim is named by line/row and field, exit 3 ---------------

DIFF = [sys.executable, "-m", "engine", "diff", "policies/pinggu_2020.yaml", "policies/revisions/pinggu_2024_draft.yaml"]


def run_diff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DIFF, *args], capture_output=True, text=True, cwd=ROOT, check=False)


def test_cli_claims_jsonl_names_line_and_field_and_exits_3() -> None:
    # examples/round_2021.jsonl line 6 (PG-2022-0006) asks for official fees of 12.345: yuan have at most two decimals
    out = run_diff("--claims", "examples/round_2021.jsonl", "--json")
    assert out.returncode == 3, out.stderr
    assert "1 of 7 claim(s) could not be compared" in out.stderr
    (error,) = json.loads(out.stdout)["impact"]["errors"]
    assert (error["claim_id"], error["where"], error["under"]) == ("PG-2022-0006", {"file": "examples/round_2021.jsonl", "line": 6}, "OLD")
    (p,) = error["problems"]
    assert (p["line"], p["field"]) == (6, "items[0].official_fees_paid") and "12.345" in p["message"]


def test_cli_claims_xlsx_reads_the_batch_workbook() -> None:
    # the same round as a workbook: PG-2022-0006 is row 8 of sheet 申请人 (applicants), its patent row 15 of sheet 事项
    # (items); an English message names a sheet as the workbook names it
    out = run_diff("--claims", "examples/round_2021.xlsx")
    assert out.returncode == 3, out.stderr
    assert "not valid UTF-8" not in out.stdout + out.stderr
    assert "examples/round_2021.xlsx sheet 申请人 row 8 PG-2022-0006: not compared" in out.stdout
    assert (
        "examples/round_2021.xlsx sheet 事项 row 15, official fees paid to obtain the patent right (item.official_fees_paid): '12.345'"
        in out.stdout
    )
    # the workbook and the JSON Lines file hold the same round: the same impact, line for line
    as_jsonl = run_diff("--claims", "examples/round_2021.jsonl")
    assert out.stdout.split("decision(s) change:")[1] == as_jsonl.stdout.split("decision(s) change:")[1]
    # the changes themselves: 第六条 pledge interest under the 50万 cap, insurance at 60%
    assert (
        "PG-2022-0001 l2 (interest subsidy on an IP-pledged loan): reduced CNY 50,000.00 → granted CNY 100,000.00 (+CNY 50,000.00)"
        in out.stdout
    )


def test_cli_claims_unknown_format_says_what_it_reads() -> None:
    out = run_diff("--claims", "README.md")
    assert out.returncode == 1
    assert "unknown input format" in out.stderr
    for fmt in ("JSON Lines (.jsonl)", "(.json)", "YAML list (.yaml)", "CSV (.csv)", "(.xlsx"):
        assert fmt in out.stderr


def test_read_claims_yaml_list_and_unreadable_record(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    good = claim(item("navigation_project", "n1", actual_costs="60000.00"), claim_id="C-NAV")
    f = tmp_path / "round.yaml"
    f.write_text(yaml.safe_dump([good, "not a claim"], allow_unicode=True), encoding="utf-8")
    records = read_claims(f, policy)
    assert [r.number for r in records] == [1, 2] and records[1].data is None
    result = impact(policy, policy, records)
    (error,) = result.errors
    assert error["application"] == 2 and error["error"] == "cannot read the application"
    # navigation project: 50% of 60,000 costs = 30,000, the same under both
    assert [(i.item_id, i.old_amount, i.new_amount) for i in result.items] == [("n1", Decimal("30000.00"), Decimal("30000.00"))]


def test_cli_claims_csv_names_the_row(tmp_path: Path) -> None:
    # the same round as a CSV file (one row per item): the bad amount is on row 14 of the file; diff named the
    # file alone ("round.csv: field item.official_fees_paid"), while batch names the row
    import openpyxl

    wb = openpyxl.load_workbook(ROOT / "examples" / "round_2021.xlsx")
    applicants = list(wb["申请人"].iter_rows(values_only=True))
    items = list(wb["事项"].iter_rows(values_only=True))
    by_id = {row[0]: row for row in applicants[2:] if row[0]}
    with open(tmp_path / "round.csv", "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(applicants[0] + items[0][1:])  # row 1: the headings; an item a row from row 2 on
        writer.writerows([["" if v is None else v for v in by_id[row[0]] + row[1:]] for row in items[2:] if row[0]])
    out = run_diff("--claims", str(tmp_path / "round.csv"))
    assert out.returncode == 3, out.stderr
    # PG-2022-0006's item (items row 15, the 13th item) is row 14 of the CSV file
    assert (
        f"{tmp_path / 'round.csv'} row 14, official fees paid to obtain the patent right (item.official_fees_paid): '12.345'" in out.stdout
    )
    # a claim id written ="…" (as a system exports it for Excel) is read as its text, and said as batch says it (diff
    # read it without a word)
    text = (tmp_path / "round.csv").read_text(encoding="utf-8-sig").replace("\nPG-2022-0006,", '\n"=""PG-2022-0006""",', 1)
    (tmp_path / "round.csv").write_text(text, encoding="utf-8-sig")
    again = run_diff("--claims", str(tmp_path / "round.csv"))
    assert again.returncode == 3 and again.stdout == out.stdout, again.stderr
    assert 'cells 14:1 (row:column) are written ="…"' in again.stderr and "each was read as the text inside" in again.stderr


def test_impact_decides_the_round_as_batch_does_selections_and_an_applicant_s_claims_together(tmp_path: Path) -> None:
    """An officer's revision raised a top-5 selection to 6 and diff said "no decision changes": each claim was decided
    alone, so the sixth project was paid under both versions (and an applicant's two claims each had the whole cap).
    The fictional Hexi measures (tests/fixtures/subjects_rounds.yaml): 第一条 pays 10万 to at most 3 certified
    enterprises a year, earliest certificate first; 第四条 pays 10% of an R&D investment, at most 40万 per enterprise
    a year. The revision: 4 a year, and 50万."""
    path = ROOT / "tests" / "fixtures" / "subjects_rounds.yaml"
    text = path.read_text(encoding="utf-8")
    old = engine.load_policy_text(text, "hexi.yaml")
    assert text.count("      first: 3\n") == 1 and text.count("max: 40万") == 1
    new = engine.load_policy_text(text.replace("      first: 3\n", "      first: 4\n").replace("max: 40万", "max: 50万"), "hexi_new.yaml")

    ids = {"E1": "91110117MA0000001E", "E2": "91110117MA0000002H", "E3": "91110117MA0000003L", "E4": "91110117MA0000004P"}
    ids["E9"] = "91110117MA00000097"

    def application(n: int, applicant: str, *items: dict[str, object]) -> dict[str, object]:
        person = {"id": ids[applicant], "name": f"河西{applicant}公司", "kind": "enterprise"}
        return {"claim_id": f"HX-{n}", "funding_year": 2025, "applicant": person, "items": list(items)}

    def certified(day: str) -> dict[str, object]:
        return {"id": "c1", "type": "certification", "first_certificate_date": day, "accepted_date": day, "documents": ["proof"]}

    centre = {"id": "r1", "type": "rd_centre", "investment": "2900000.00", "credit_grade": "A", "documents": ["proof", "credit_report"]}
    claims = [application(n, f"E{n}", certified(f"2025-0{n}-01")) for n in range(1, 5)]
    claims += [application(5, "E9", centre), application(6, "E9", {**centre, "investment": "2000000.00"})]
    src = tmp_path / "round.jsonl"
    src.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in claims), encoding="utf-8")
    result = impact(old, new, read_claims(src))
    assert result.errors == []
    changed = {(i.claim_id, i.item_id): (i.old_status, i.old_amount, i.new_status, i.new_amount) for i in result.changed}
    assert changed == {
        # the fourth certificate of 2025: outside the first 3, inside the first 4
        ("HX-4", "c1"): ("refused", Decimal("0.00"), "granted", Decimal("100000.00")),
        # E9's second centre: 10% of 2,000,000 = 200,000 asked; its first took 290,000 of the year's cap, so 400,000 -
        # 290,000 = 110,000 is left under the old text and 500,000 - 290,000 = 210,000 under the new: all 200,000
        ("HX-6", "r1"): ("reduced", Decimal("110000.00"), "granted", Decimal("200000.00")),
    }
    assert result.total_new - result.total_old == Decimal("190000.00")  # 100,000 + 90,000


def test_a_limit_s_times_are_said_in_its_unit_and_a_changed_unit_is_a_change(policy: engine.CompiledPolicy) -> None:
    # R12's insurance limit counts years (unit 年): "2 次 → 3 次" said times of a limit of years, and a unit written
    # in or taken out was no change at all
    from engine.core.i18n import tr

    more = variant(
        (
            "        times: 2\n        per: [applicant.id]\n        counting: [claim.funding_year]\n",
            "        times: 3\n        per: [applicant.id]\n        counting: [claim.funding_year]\n",
        )
    )
    [change] = diff_policies(policy, more)
    assert tr(change.text, "zh") == "patent-insurance：次数限制 insurance-two-years 2 年 → 3 年"
    bare = variant(("        unit: {zh: 年, en: year(s)}  # R12 counts distinct funding years: 上限 2 年, not 2 次\n", ""))
    [change] = diff_policies(policy, bare)
    assert (change.kind, change.subject, change.new) == ("limit.unit", "insurance-two-years", None)
    assert tr(change.text, "zh") == "patent-insurance：次数限制 insurance-two-years 的计次单位 年 → 次"


def test_a_rounding_and_a_refusal_order_are_said_in_words(policy: engine.CompiledPolicy) -> None:
    """R8's rounding and R26's order of refusal grounds: a change was shown as the entries' JSON
    ({"mode": "half_up", ...}, ["standing", ...]), codes an officer does not read."""
    new = variant(
        ("    mode: half_up\n", "    mode: down\n"),
        ("[standing, scope, time, double_benefit, condition,", "[standing, scope, time, condition, double_benefit,"),
    )
    rounding, order = sorted(diff_policies(policy, new), key=lambda c: c.subject)[::-1]
    assert (rounding.subject, order.subject) == ("policy.rounding", "policy.refusal_order")
    assert tr(rounding.text, "zh") == "policy.rounding：四舍五入至 0.01 元 → 舍去尾数至 0.01 元"
    assert tr(rounding.text, "en") == "policy.rounding: rounded half up to 0.01 yuan → rounded down (toward zero) to 0.01 yuan"
    assert tr(order.text, "zh") == (
        "policy.refusal_order：申请人资格、支持范围、时间、重复享受、条件、次数限制、封顶、材料（依次） → "
        "申请人资格、支持范围、时间、条件、重复享受、次数限制、封顶、材料（依次）"
    )
    # only what the words leave out changed (the rounding's readings): said as written, not as the same words twice
    [readings] = diff_policies(policy, variant(("    mode: half_up\n    readings: [R8]\n", "    mode: half_up\n    readings: [R8, R26]\n")))
    assert '"readings": ["R8", "R26"]' in tr(readings.text, "zh")


def test_the_readings_of_the_engines_behaviours_are_said_in_words(policy: engine.CompiledPolicy) -> None:
    """`policy.behaviours` (review C1): a change is said by each behaviour's words and its readings and notes, not
    as the entries' JSON. Here R25 is added to the cap used up."""
    new = variant(("    cap_exhausted: {readings: [R21]}", "    cap_exhausted: {readings: [R21, R25]}"))
    [change] = diff_policies(policy, new)
    assert change.subject == "policy.behaviours"
    zh, en = tr(change.text, "zh"), tr(change.text, "en")
    assert zh.startswith("policy.behaviours：封顶或次数此前已占用：R20；封顶核减：R22；封顶额度用尽：R21；多项不予支持理由：R26；")
    assert "→ 封顶或次数此前已占用：R20；封顶核减：R22；封顶额度用尽：R21、R25；" in zh and zh.endswith("缺少事实：N4")
    assert "cap used up: R21, R25; several grounds of refusal: R26;" in en


def test_cli_claims_says_reading_and_each_versions_round_as_steps_on_a_terminal(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # diff --claims decided both rounds in silence (3,000 claims: ~20 s); on a terminal it now says reading the
    # claims and each version's round (with how many applications), a bar under a long one, and each step's time;
    # off a terminal (a pipe, a file) it says nothing more than before
    import io
    import re

    import engine.records.batch as batch_mod
    from engine.cli import main

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(batch_mod, "LONG_STEP", 0.0)
    draft = ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml"
    claims = ROOT / "examples" / "round_2021.jsonl"
    for terminal in (True, False):
        err = Terminal() if terminal else io.StringIO()
        monkeypatch.setattr(sys, "stderr", err)
        assert main(["--lang", "zh", "diff", str(POLICY_PATH), str(draft), "--claims", str(claims)]) == 3  # (its bad line)
        text = err.getvalue()
        steps = re.findall(r"(正在[^\n]*?) \.\.\.", text)
        if not terminal:
            assert steps == [], text
            continue
        # 7 applications, one invalid under the version in force: 6 in each round
        assert steps == [f"正在读取 {claims}", "正在按旧版本 2020.1 审核本轮（6 份申请）", "正在按新版本 2024.1-draft 审核本轮（6 份申请）"]
        assert re.search(r"审核本轮（6 份申请） \.\.\.\n\r\[[#-]+\].*\r.* \d+\.\d s\n", text), text  # a bar, then its time


def test_a_problem_under_the_revision_names_its_item_by_its_place_in_the_whole_claim(tmp_path: Path, policy: engine.CompiledPolicy) -> None:
    # the draft retires ip_management_certification: the claim is checked under it without that item, and a problem
    # of the next item was named by its place in the shortened list (items[0], "第 1 个事项": the retired item).
    # Here the draft's insurance item needs one more fact, which the claim's second item lacks
    from engine.core.i18n import use_language
    from engine.officer.diff import error_lines

    draft = ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml"
    premium = "      premium_paid: {type: money, zh: 申报年度内缴纳的专利保险费, en: patent insurance premium paid in the funding year}\n"
    text = draft.read_text(encoding="utf-8")
    assert text.count(premium) == 1
    new = engine.load_policy_text(
        text.replace(premium, premium + "      insured_months: {type: integer, zh: 承保月数, en: months insured}\n"), str(draft)
    )
    src = tmp_path / "r.jsonl"
    src.write_text(json.dumps(claim(item("ip_management_certification", "m1"), item("patent_insurance", "i1"))) + "\n", encoding="utf-8")
    result = impact(policy, new, read_claims(src))
    [error] = result.errors
    assert error["under"] == "NEW" and [p["field"] for p in error["problems"]] == ["items[1].insured_months"]
    with use_language("zh"):
        lines = error_lines(error, result.headings)
    assert lines[1].startswith(f"  {src}:1，第 2 个事项的承保月数（item.insured_months）："), lines


def test_a_round_budget_and_a_money_parameter_are_said_as_amounts(policy: engine.CompiledPolicy) -> None:
    """A round budget was said as its JSON ({"amount": "500万", "cites": ...})."""
    budget = "  documents_cites: 第十二条\n  round_budget: {amount: 500万, cites: 第十三条}\n"
    five = variant(("  documents_cites: 第十二条\n", budget))
    six = variant(("  documents_cites: 第十二条\n", budget.replace("500万", "600万")))
    [added] = diff_policies(policy, five)
    assert tr(added.text, "zh") == "新增 policy.round_budget：每轮 500万（第十三条）"
    [changed] = diff_policies(five, six)
    assert tr(changed.text, "zh") == "policy.round_budget：每轮 500万（第十三条） → 每轮 600万（第十三条）"


@pytest.mark.parametrize(
    ("path", "zh", "en"),
    [
        (
            'rules[invention-patent-fees].when[item.patent_kind == "invention"].says.en',
            '规则 invention-patent-fees › 条件 item.patent_kind == "invention" › 说明（英文）',
            'rule invention-patent-fees › condition item.patent_kind == "invention" › says (English)',
        ),
        (
            "item_types.pledge_loan.facts.loan_amount.zh",
            "事项类型 pledge_loan › 事实 loan_amount › 名称（中文）",
            "item type pledge_loan › fact loan_amount › name (Chinese)",
        ),
        (
            'rules[r].when[item.x in ["a", "b"]].says.zh',
            '规则 r › 条件 item.x in ["a", "b"] › 说明（中文）',
            'rule r › condition item.x in ["a", "b"] › says (Chinese)',
        ),
        ("rules[r].amount.base.en", "规则 r › 金额 › 基数名称（英文）", "rule r › amount › base's words (English)"),
    ],
)
def test_diff_names_a_changed_text_in_words(path: str, zh: str, en: str) -> None:
    """diff named a changed text by its place in the YAML (`rules[…].when[…].says.en`); an officer reads it in words."""
    from engine.officer.diff import subject_words

    said = subject_words(path)
    assert (tr(said, "zh"), tr(said, "en")) == (zh, en)


def test_a_single_amount_is_said_in_the_form_a_changed_pair_is(policy: engine.CompiledPolicy) -> None:
    """A cap added or removed, a round budget, said alone, were written the lint way (4200.50元, 4200元) while a changed
    pair is written 300,000.00 元 → 300,000.50 元: one formatter now, 万 when whole 万, else yuan with fen."""
    cap = "      - id: pledge-annual-cap\n        max: 30万\n"
    extra = "      - id: pledge-extra-cap\n        max: 4200.50\n        per: item\n"
    with_extra = variant((cap, extra + cap))
    with use_language("zh"):
        added = [tr(c.text) for c in diff_policies(policy, with_extra) if c.kind == "cap.added"]
        removed = [tr(c.text) for c in diff_policies(with_extra, policy) if c.kind == "cap.removed"]
    assert len(added) == len(removed) == 1, (added, removed)
    # 4200.50 is no whole 万: yuan with fen, grouped by thousands, as the pair 300,000.00 元 → 300,000.50 元 is
    assert added == ["pledge-loan-interest：新增封顶 pledge-extra-cap：4,200.50 元，每个项目"]
    assert removed == ["pledge-loan-interest：删除了封顶 pledge-extra-cap（4,200.50 元，每个项目）"]
    budget = "  documents_cites: 第十二条\n  round_budget: {amount: 4200, cites: 第十三条}\n"
    [budgeted] = diff_policies(policy, variant(("  documents_cites: 第十二条\n", budget)))
    assert tr(budgeted.text, "zh") == "新增 policy.round_budget：每轮 4,200.00 元（第十三条）"  # 4200 is no whole 万: yuan with fen


def test_an_item_of_a_type_the_revision_adds_is_compared_not_refused(tmp_path: Path, policy: engine.CompiledPolicy) -> None:
    # an officer's 2026 revision added an article (a new item type): every claim with such an item was "not compared,
    # invalid claim (under the old version)", its other items too, and the impact said "no decision changes".
    # From the 2024 draft (which retired ip_management_certification) to the 2020 measures (which have it): the
    # certification is new to the later file; the insurance of 100,000 is 60,000 under the draft and 50,000 under 2020.
    draft = engine.load_policy(ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml")
    src = tmp_path / "r.jsonl"
    lines = [
        claim(item("ip_management_certification", "m1"), item("patent_insurance", "i1", premium_paid="100000.00"), claim_id="A"),
        claim(item("ip_management_certification", "m2"), claim_id="B", applicant="platform"),
    ]
    src.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in lines), encoding="utf-8")
    result = impact(draft, policy, read_claims(src))
    assert result.errors == []
    got = [(i.claim_id, i.item_id, i.old_status, i.old_amount, i.new_status, i.new_amount) for i in result.items]
    assert got == [
        ("A", "m1", "added", Decimal("0"), "granted", Decimal("50000.00")),  # 第七条第（三）项：一次性奖励 5 万元
        ("A", "i1", "granted", Decimal("60000.00"), "granted", Decimal("50000.00")),  # 100,000 × 60% → × 50%
        ("B", "m2", "added", Decimal("0"), "granted", Decimal("50000.00")),
    ]
    assert result.total_old == Decimal("60000.00") and result.total_new == Decimal("150000.00")
    assert result.by_article()["第七条"] == (Decimal("0"), Decimal("100000.00"))
    with use_language("zh"):
        said = [tr(i.text()) for i in result.changed]
    assert said[0] == "A m1（知识产权管理体系认证（GB/T 29490））：旧版无此规定 0.00 元 → 支持 50,000.00 元（+50,000.00 元）"


def test_an_added_parameter_lists_its_values_with_their_dates(policy: engine.CompiledPolicy) -> None:
    # an officer's revision made a reward a dated parameter (5万, and 8万 from 2026-07-01): diff said only
    # "新增参数 bj_demo_unit_reward（北京市知识产权示范单位奖励标准），共 2 个取值", neither value nor date
    params = (
        "parameters:\n"
        "  reward:\n    zh: 示范单位奖励标准\n    en: demonstration unit reward\n    type: money\n    values:\n"
        "      - {from: '2026-01-01', value: 5万, source: {zh: 本办法}}\n"
        "      - {from: '2026-07-01', value: 8万, source: {zh: 本办法}}\n"
        "  rate:\n    zh: 基准利率\n    en: benchmark rate\n    type: percent\n    values:\n"
        + "".join(f"      - {{from: '2026-0{m}-01', value: 3.{m}0%, source: {{zh: 公告}}}}\n" for m in range(1, 8))
        + "\n"
    )
    new = variant(("applicant_kinds:\n", params + "applicant_kinds:\n"))
    said = {c.subject: (tr(c.text, "zh"), tr(c.text, "en")) for c in diff_policies(policy, new) if c.kind == "parameter.added"}
    assert said["reward"] == (
        "新增参数 reward（示范单位奖励标准），共 2 个取值：自 2026-01-01 起 50,000.00 元、自 2026-07-01 起 80,000.00 元",
        "parameter reward (demonstration unit reward) added, 2 value(s): CNY 50,000.00 from 2026-01-01, CNY 80,000.00 from 2026-07-01",
    )
    assert said["rate"][0] == (  # the first six, then …
        "新增参数 rate（基准利率），共 7 个取值：自 2026-01-01 起 3.10%、自 2026-02-01 起 3.20%、自 2026-03-01 起 3.30%、"
        "自 2026-04-01 起 3.40%、自 2026-05-01 起 3.50%、自 2026-06-01 起 3.60%、…"
    )


def test_a_scope_is_said_in_the_explanations_words(policy: engine.CompiledPolicy) -> None:
    # `封顶 pledge-annual-cap 按 applicant.id、claim.funding_year → 按 applicant.id`: the scope said in codes, where the
    # rest of the line is words. Now the applicant's id is the applicant (申请人) and each other fact its label as an
    # explanation names it (claim.funding_year 申报年度, item.loan_id 贷款合同编号); old/new keep the codes
    new = variant(
        (
            "        max: 30万\n        per: [applicant.id, claim.funding_year]\n        says: {zh: 每家企业",
            "        max: 30万\n        per: [applicant.id]\n        says: {zh: 每家企业",
        ),
        (
            "      - id: pledge-three-times\n",
            "      - id: pledge-once-a-loan\n        times: 1\n        per: [item.loan_id]\n      - id: pledge-three-times\n",
        ),
    )
    changes = [c for c in diff_policies(policy, new) if c.kind in ("cap.scope", "limit.added")]
    assert [(c.kind, c.old, c.new) for c in changes] == [
        ("cap.scope", "per applicant.id, claim.funding_year", "per applicant.id"),
        ("limit.added", None, "1"),
    ]
    assert [tr(c.text, "zh") for c in changes] == [
        "pledge-loan-interest：封顶 pledge-annual-cap 按申请人、申报年度 → 按申请人",
        "pledge-loan-interest：新增次数限制 pledge-once-a-loan：1 次，按贷款合同编号",
    ]
    assert [tr(c.text, "en") for c in changes] == [
        "pledge-loan-interest: cap pledge-annual-cap per applicant, funding year → per applicant",
        "pledge-loan-interest: limit pledge-once-a-loan added: 1 time(s) per loan contract number",
    ]


def test_the_heading_names_the_measures_by_their_title_not_the_policy_s_id(tmp_path: Path) -> None:
    """diff's listing was headed 'pinggu-ip-promotion：2020.1（…）→ 2024.1-draft（…）': the policy's id, a code, where
    officers know the measures by their title (as `versions` and the coverage report now head theirs). A revision that
    renames the measures is headed by its new title (the change of title is listed below it)."""
    from engine.officer.diff import format_changes

    old, new = engine.load_policy(POLICY_PATH), engine.load_policy(ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml")
    changes = diff_policies(old, new)
    with use_language("zh"):
        heading = format_changes(old, new, changes).splitlines()[0]
    assert heading == f"平谷区知识产权促进办法：2020.1（{old.file}）→ 2024.1-draft（{new.file}）—— 共 {len(changes)} 处变化"
    with use_language("en"):
        heading = format_changes(old, new, changes).splitlines()[0]
    assert heading == (
        f"Pinggu District Intellectual Property Promotion Measures: 2020.1 ({old.file}) → 2024.1-draft ({new.file}) — "
        f"{len(changes)} change(s)"
    )
    shutil.copytree(ROOT / "policies" / "texts", tmp_path / "texts")
    zh = "    zh: 平谷区知识产权促进办法\n"
    assert TEXT.count(zh) == 1
    (tmp_path / "renamed.yaml").write_text(TEXT.replace(zh, "    zh: 平谷区知识产权促进办法（修订）\n"), encoding="utf-8")
    renamed = engine.load_policy(tmp_path / "renamed.yaml")
    with use_language("zh"):
        said = format_changes(old, renamed, diff_policies(old, renamed))
    assert said.startswith(f"平谷区知识产权促进办法（修订）：2020.1（{old.file}）→ 2020.1（{renamed.file}）—— 共 1 处变化\n")
    assert "标题（zh）：“平谷区知识产权促进办法” → “平谷区知识产权促进办法（修订）”" in said
