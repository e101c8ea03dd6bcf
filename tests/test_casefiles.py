"""The officers' YAML case suite (policies/tests/*.yaml) runs here, one pytest param per case."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import POLICY_PATH, ROOT, policy_beside

import engine
from engine.core.errors import Problem, format_path
from engine.core.i18n import tr, use_language
from engine.officer.casefile import Case, CaseFileError, format_result, load_case_file, load_cases, run_case

SUITE = ROOT / "policies" / "tests"
CASES = load_cases([SUITE])


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_pinggu_case(case: Case) -> None:
    result = run_case(case)
    assert result.passed, format_result(result)


def test_suite_is_substantial() -> None:
    assert len(CASES) >= 60
    assert {Path(c.file).name for c in CASES} == {
        "art5_creation.yaml",
        "art6_utilisation.yaml",
        "art7_art8_management_services.yaml",
        "general_clauses.yaml",
    }


WRONG = """
policy: {policy}
applicants:
  enterprise: {{id: 91110117MA01ABCD1F, name: 北京平谷示例科技有限公司, kind: enterprise, registered_in_district: true, actually_operating: true, pays_tax_in_district: true}}
defaults:
  claim: {{claim_id: C-1, funding_year: 2021, submission_date: "2022-03-15", documents: [business_licence], applicant: enterprise}}
  item: {{date: "2021-06-01", supported_by_other_district_policy: false, documents: [proof_of_right, fee_receipts, sealed_receipt_copies]}}
cases:
  - name: an officer who forgot the annual cap
    claim:
      items:
        - {{id: l1, type: pledge_loan_interest, loan_id: A, lender_is_bank: true, pledged_right: patent, annual_interest_paid: "500000.00"}}
        - {{id: l2, type: pledge_loan_interest, loan_id: B, lender_is_bank: true, pledged_right: patent, annual_interest_paid: "200000.00"}}
    expect:
      items:
        l1: {{status: granted, amount: 25万}}
        l2: {{status: granted, amount: 10万}}
      total: 35万
  - name: an officer who expected a refusal
    claim:
      items:
        - {{id: l1, type: pledge_loan_interest, loan_id: A, lender_is_bank: true, pledged_right: patent, annual_interest_paid: "500000.00"}}
    expect:
      items:
        l1: {{status: refused, reason: pledge-loan-interest#when1}}
"""


def test_a_policy_that_cannot_be_loaded_is_said_once_for_the_cases_of_its_file(tmp_path: Path) -> None:
    """A case file whose `policy:` names a file kept elsewhere: each of its cases repeated the whole problem; the
    first says it, the others "as said above"."""
    from engine.officer.casefile import format_results, run_cases

    (tmp_path / "tests").mkdir()
    f = tmp_path / "tests" / "wrong.yaml"
    f.write_text(WRONG.format(policy=POLICY_PATH), encoding="utf-8")
    with use_language("zh"):
        first, second = format_results(run_cases(load_case_file(f)))
    assert first.count("用例文件只能指向与它放在一起的政策文件") == 1
    assert second == f"未通过 {f}:19 an officer who expected a refusal\n  无法加载政策：原因同上"


def test_a_slip_in_the_defaults_is_said_once_not_under_every_case(tmp_path: Path) -> None:
    """A default submission date written 2022/3/15: each case of the file repeated the same four lines (34 cases,
    137 lines for one slip in the Pinggu suite); the first says it with its line and fix, the others "as said above"."""
    from engine.officer.casefile import format_results, run_cases

    shutil.copytree(POLICY_PATH.parent, tmp_path / "policies")
    f = tmp_path / "policies" / "tests" / "slip.yaml"
    f.write_text(WRONG.format(policy="../pinggu_2020.yaml").replace('"2022-03-15"', '"2022/3/15"'), encoding="utf-8")
    with use_language("zh"):
        first, second = format_results(run_cases(load_case_file(f)))
    # line 6 of the file, `  claim: {claim_id: C-1, funding_year: 2021, submission_date: "2022/3/15"`: its quote is column 63
    assert first.splitlines()[1:] == [
        "  应得出审核决定，实际出错：",
        f"      {f}:6:63: submission_date：'2022/3/15' 不符合规定的格式：日期只写“年-月-日”（YYYY-MM-DD）：半角数字加短横线，月和日各两位，不带时间",
        # (walk of session 35) the 应为 line stood at 4 spaces, left of the problem it belongs to (at 6), as if it
        # were a line of the case's own; it stands under its problem now
        '          应为 按 YYYY-MM-DD 书写的日期：请写作 "2022-03-15"',
    ]
    assert second == f"未通过 {f}:19 an officer who expected a refusal\n  应得出审核决定，实际出错：原因同上（同一处问题）"


def test_failure_shows_expected_got_and_the_cap_step(tmp_path: Path) -> None:
    f = tmp_path / "wrong.yaml"
    f.write_text(WRONG.format(policy=policy_beside(tmp_path)), encoding="utf-8")
    first, second = (run_case(c) for c in load_case_file(f))
    assert not first.passed
    text = format_result(first)
    assert "item l2: status expected granted, got reduced" in text
    assert "item l2: amount (amount) expected CNY 100,000.00, got CNY 50,000.00" in text
    assert "total: expected CNY 350,000.00, got CNY 300,000.00" in text
    # The step where they part: the annual cap cut 100,000 to 50,000 (300,000 − 250,000 used).
    assert (
        "where they part: cap pledge-annual-cap (第六条第（一）项): ceiling CNY 300,000.00, used before CNY 250,000.00, asked CNY 100,000.00 → granted CNY 50,000.00"
        in text
    )
    text2 = format_result(second)
    assert "status expected refused" in text2 and "no step refused it" in text2
    with use_language("zh"):  # (an officer's run said the statuses and the expectation's key in English)
        zh = format_result(first)
    assert "项目 l2：状态应为 支持，实为 核减" in zh and "项目 l2：金额（amount）应为 100,000.00 元，实为 50,000.00 元" in zh
    assert "check pledge-loan-interest#when1" in text2


def test_cli(tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "engine", "test", "policies/tests/general_clauses.yaml"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert ok.returncode == 0 and "passed, 0 failed" in ok.stdout
    f = tmp_path / "wrong.yaml"
    f.write_text(WRONG.format(policy=policy_beside(tmp_path)), encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "engine", "test", str(f)], capture_output=True, text=True, cwd=ROOT, check=False)
    assert bad.returncode == 1 and "FAIL" in bad.stdout and "2 case(s): 0 passed, 2 failed" in bad.stdout


def test_a_case_file_names_only_a_policy_kept_with_it(tmp_path: Path) -> None:
    # a case file may come from elsewhere (by mail, in a pull request a CI job tests): one naming any YAML file made
    # `test` read it and print its top-level keys among the policy's problems
    secret = tmp_path / "elsewhere" / "settings.yaml"
    secret.parent.mkdir()
    secret.write_text("database_password: hunter2\n", encoding="utf-8")
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "measures").mkdir()
    beside = policy_beside(project / "measures")
    case = project / "tests" / "cases.yaml"
    for named, kept in (
        ("../../elsewhere/settings.yaml", False),
        (str(secret), False),
        ("../measures/pinggu_2020.yaml", True),
        (str(beside), True),
    ):
        case.write_text(WRONG.format(policy=named), encoding="utf-8")
        result = run_case(load_case_file(case)[0])
        if kept:  # within the folder above the case file's: read (the case then fails on its own expectations)
            assert result.policy is not None and result.error is None, result.mismatches
            continue
        assert result.policy is None and isinstance(result.error, CaseFileError)
        (problem,) = result.error.problems
        assert (problem.file, problem.line, problem.code) == (str(case), 2, "case.policy")
        assert tr(problem.message, "zh") == (
            f"`policy:` 指向 {secret}：用例文件只能指向与它放在一起的政策文件（.yaml），即在用例文件所在文件夹的上一级文件夹之内；"
            "放在别处的政策请在命令中用 --policy 给出"
        )
        assert "database_password" not in str(result.mismatches)
    # within the folder above, but in a hidden folder (a case saved to ~/Downloads naming ../.config/gh/hosts.yml), or
    # not a policy: named, and nothing of it read out (it printed the credentials file's top-level keys)
    hidden = project / ".config" / "gh" / "hosts.yaml"
    hidden.parent.mkdir(parents=True)
    hidden.write_text("github.com: {oauth_token: gho_secret}\n", encoding="utf-8")
    stray = project / "notes.yaml"
    stray.write_text("database_password: hunter2\n", encoding="utf-8")
    for named, shown in (("../.config/gh/hosts.yaml", hidden), ("../notes.yaml", stray)):
        case.write_text(WRONG.format(policy=named), encoding="utf-8")
        result = run_case(load_case_file(case)[0])
        assert result.policy is None and isinstance(result.error, CaseFileError)
        (problem,) = result.error.problems
        assert (problem.line, problem.code) == (2, "case.policy")
        assert tr(problem.message, "zh").startswith(f"`policy:` 指向 {shown}，但它不是可读取的政策文件（没有顶层的 policy: 与 rules:")
        assert not any(
            word in str(result.mismatches) + tr(problem.message, "en") for word in ("github.com", "gho_secret", "database_password")
        )
    # a policy given by the program (the command's --policy) is what the case is decided by, wherever the file points
    case.write_text(WRONG.format(policy=str(secret)), encoding="utf-8")
    assert run_case(load_case_file(case)[0], engine.load_policy(POLICY_PATH)).error is None
    told = subprocess.run(
        [sys.executable, "-m", "engine", "--lang", "en", "test", str(case)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert (
        told.returncode == 1
        and f"`policy:` names {secret}: a case file may only name a policy file (.yaml) kept with it" in told.stdout + told.stderr
    )
    assert "database_password" not in told.stdout + told.stderr


def test_a_case_that_expects_nothing_or_a_malformed_amount_is_an_invalid_case_file(tmp_path: Path) -> None:
    from engine.officer.casefile import CaseFileError

    text = WRONG.format(policy=policy_beside(tmp_path))
    text = text.replace("        l2: {status: granted, amount: 10万}\n", "        l2: {status: granted, amount: 1.234万x}\n")
    text = text.replace(
        "    expect:\n      items:\n        l1: {status: refused, reason: pledge-loan-interest#when1}\n",
        "    note: no expectation at all\n",
    )
    f = tmp_path / "bad.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(CaseFileError) as caught:
        load_case_file(f)
    messages = {format_path(p.path): p.message for p in caught.value.problems}
    assert messages["cases[1]"] == "a case needs `claim:` (or `round:`) and a non-empty `expect:`"  # it would always pass
    assert messages["cases[0].expect.items.l2.amount"].startswith("expected amount '1.234万x'")
    lines = {format_path(p.path): p.line for p in caught.value.problems}
    assert lines["cases[0].expect.items.l2.amount"] == text[: text.index("1.234万x")].count("\n") + 1


def test_an_expected_status_is_its_code_or_its_word_and_anything_else_is_said(tmp_path: Path) -> None:
    # summary.xlsx says 支持; a case file written 支持 (or grantd) failed against every decision ("expected 支持 got
    # granted"), as if the engine had decided otherwise
    from engine.core.i18n import tr
    from engine.officer.casefile import CaseFileError

    text = WRONG.format(policy=policy_beside(tmp_path))
    assert "        l1: {status: refused, reason: pledge-loan-interest#when1}\n" in text
    words = text.replace(
        "        l1: {status: refused, reason: pledge-loan-interest#when1}\n",
        "        l1: {status: 不予支持, reason: pledge-loan-interest#when1}\n",
    )
    f = tmp_path / "words.yaml"
    f.write_text(words, encoding="utf-8")
    second = run_case(load_case_file(f)[1])  # (the case WRONG gets wrong on purpose: its l1 is granted)
    assert "item l1: status expected refused" in format_result(second)  # 不予支持, read as refused
    f.write_text(words.replace("status: 不予支持", "status: refsued"), encoding="utf-8")
    with pytest.raises(CaseFileError) as caught:
        load_case_file(f)
    (p,) = caught.value.problems
    assert format_path(p.path) == "cases[1].expect.items.l1.status"
    assert tr(p.message, "zh") == "预期的状态 'refsued' 不是审核结论"
    assert tr(p.expected, "zh").startswith("是否应为 refused？可写：granted（支持）、reduced（核减）、refused（不予支持）")


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def _refused(f: Path, text: str) -> list[Problem]:
    """The problems of a case file holding `text` (written to `f`), which must be refused as a whole."""
    from engine.officer.casefile import CaseFileError

    f.write_text(text, encoding="utf-8")
    with pytest.raises(CaseFileError) as caught:
        load_case_file(f)
    return caught.value.problems


def test_an_item_expected_outside_items_or_nothing_expected_is_an_invalid_case_file(tmp_path: Path) -> None:
    # `expect: {l1: {status: granted}}` (the item's expectation a level too high) passed on a refusal: the runner
    # read only `items`, `total` and `error`; `items: {}` expected nothing and passed as well

    text = WRONG.format(policy=policy_beside(tmp_path)).replace(
        "    expect:\n      items:\n        l1: {status: refused, reason: pledge-loan-interest#when1}\n",
        "    expect:\n      l1: {status: granted}\n",
    )
    f = tmp_path / "high.yaml"
    (p,) = _refused(f, text)
    assert format_path(p.path) == "cases[1].expect.l1" and p.line == _line_of(text, "      l1: {status: granted}")
    assert p.message == "l1 is an item of the claim: its expectation goes under `items:` (expect: {items: {l1: {status: ...}}})"
    (p,) = _refused(f, text.replace("      l1: {status: granted}\n", "      totl: 35万\n"))
    assert p.message == "unknown expectation(s) totl" and p.expected == "items, total, error"
    (p,) = _refused(f, text.replace("      l1: {status: granted}\n", "      items: {}\n"))
    assert format_path(p.path) == "cases[1].expect" and p.message.startswith("the case expects nothing, so it would pass")
    # nor an item of which nothing is expected (it passed on any decision of it), nor `items:` as a list (a crash)
    for written, where, says in (
        ("      items: {l1: {}}\n", "cases[1].expect.items.l1", "nothing is expected of item l1"),
        ("      items:\n        l1:\n", "cases[1].expect.items.l1", "nothing is expected of item l1"),
        ("      items: [l1]\n", "cases[1].expect.items", "`items:` maps each item's id"),
    ):
        (p,) = _refused(f, text.replace("      l1: {status: granted}\n", written))
        assert format_path(p.path) == where and p.message.startswith(says), written


def test_a_round_case_expecting_no_claim_and_no_total_is_an_invalid_case_file(tmp_path: Path) -> None:

    head = WRONG.format(policy=policy_beside(tmp_path)).split("cases:")[0]
    text = head + (
        "cases:\n  - name: a round expecting nothing\n    round:\n      claims:\n"
        "        - {claim_id: R-1, items: [{id: l1, type: pledge_loan_interest, loan_id: A, lender_is_bank: true,"
        ' pledged_right: patent, annual_interest_paid: "500000.00"}]}\n'
        "    expect:\n      claims: {}\n"
    )
    (p,) = _refused(tmp_path / "round.yaml", text)
    assert format_path(p.path) == "cases[0].expect" and p.message.startswith("the case expects nothing")


def test_where_they_part_says_values_in_the_readers_words_not_pythons(tmp_path: Path) -> None:
    # an officer read `[item.lender_is_bank=False] → ...`, `类型 ['enterprise'] 身份 []` and `→ True`
    text = WRONG.format(policy=policy_beside(tmp_path)).replace(
        "        - {id: l1, type: pledge_loan_interest, loan_id: A, lender_is_bank: true, pledged_right: patent,"
        ' annual_interest_paid: "500000.00"}\n    expect:\n      items:\n        l1: {status: refused',
        "        - {id: l1, type: pledge_loan_interest, loan_id: A, lender_is_bank: false, pledged_right: patent,"
        ' annual_interest_paid: "500000.00"}\n    expect:\n      items:\n        l1: {status: granted',
    )
    f = tmp_path / "part.yaml"
    f.write_text(text, encoding="utf-8")
    refused = run_case(load_case_file(f)[1])
    with use_language("zh"):
        zh = format_result(refused)
    assert "项目 l1：状态应为 支持，实为 不予支持" in zh
    # the fact by the policy's words for it (贷款人是否为银行) and its code, as the expression writes it
    assert (
        "审查 pledge-loan-interest#when1（第六条第（一）项）：item.lender_is_bank [贷款人是否为银行（item.lender_is_bank）=否] → 不成立"
        in zh
    )
    # the officer expecting a refusal of a granted item is shown the steps it passed, the who step's lists said
    f.write_text(WRONG.format(policy=policy_beside(tmp_path)), encoding="utf-8")
    granted = run_case(load_case_file(f)[1])
    with use_language("zh"):
        zh = format_result(granted)
    # kinds by the policy's words (applicant_kinds: enterprise = 企业), with the code the case file writes; they were
    # the codes alone
    assert "申请人范围（第六条第（一）项）：类型 企业（enterprise） 身份 无；申请人 企业（enterprise） 无 → 通过" in zh
    with use_language("en"):
        en = format_result(granted)
    assert "who (第六条第（一）项): kinds enterprise roles none; applicant enterprise none → ok" in en  # (its English word is its code)
    assert "True" not in zh and "False" not in zh and "['" not in zh and "=否" not in zh.split("审查 pledge-loan-interest#when1")[1]
    # documents too: an officer expecting an incomplete item is shown what was required, by the policy's words
    f.write_text(
        WRONG.format(policy=policy_beside(tmp_path)).replace(
            "l1: {status: refused, reason: pledge-loan-interest#when1}", "l1: {status: incomplete}"
        ),
        encoding="utf-8",
    )
    with use_language("zh"):
        zh = format_result(run_case(load_case_file(f)[1]))
    assert (
        "项目 l1：材料 pledge-loan-interest（第十二条）：需要 获得相关授权专利或奖项、称号等项目的证明文件（proof_of_right）、"
        "相关费用票据的原件及复印件（fee_receipts）、加盖公章的票据复印件（sealed_receipt_copies），缺少 无"
    ) in zh


def test_where_they_part_names_a_fact_by_the_policy_s_words_and_its_code(tmp_path: Path) -> None:
    """A divergence line named a fact by its code alone: `材料不全：缺少材料 sealed_receipt_copies，缺少事实
    applicant.actually_operating` and `50% × item.annual_interest_paid`, where every other message an officer reads
    (a problem's field, the workbook's column) says the policy's words and the code. The words below are the
    policy's own (facts.applicant.actually_operating, item_types.pledge_loan_interest.facts, documents)."""
    base = WRONG.format(policy=policy_beside(tmp_path))
    # the applicant does not say whether it operates in the district (N4: unknown), and the item lacks its sealed
    # copies: incomplete, where the officer expected a grant
    text = base.replace("registered_in_district: true, actually_operating: true,", "registered_in_district: true,").replace(
        "documents: [proof_of_right, fee_receipts, sealed_receipt_copies]}", "documents: [proof_of_right, fee_receipts]}"
    )
    f = tmp_path / "incomplete.yaml"
    f.write_text(text, encoding="utf-8")
    result = run_case(load_case_file(f)[0])
    with use_language("zh"):
        zh = format_result(result)
    with use_language("en"):
        en = format_result(result)
    assert (
        "项目 l1：材料不全：缺少材料 加盖公章的票据复印件（sealed_receipt_copies），缺少事实 是否在平谷区实际经营（applicant.actually_operating）"
        in zh
    )
    assert (
        "item l1: incomplete: missing documents receipt copies bearing the organisation's official seal (sealed_receipt_copies), "
        "missing facts actually operating in Pinggu District (applicant.actually_operating)"
    ) in en
    # an amount expected wrong: 500,000.00 interest at 50% is 250,000.00 (第六条第（一）项), not 200,000.00
    f.write_text(base.replace("l1: {status: granted, amount: 25万}", "l1: {status: granted, amount: 20万}"), encoding="utf-8")
    with use_language("zh"):
        zh = format_result(run_case(load_case_file(f)[0]))
    assert (
        "项目 l1：分歧所在：金额（第六条第（一）项）：50% × 申报年度内实际支付的贷款利息（item.annual_interest_paid） = 500,000.00 元"
        " → 250,000.00 元（预期 200,000.00 元）"
    ) in zh
    assert "× item." not in zh and "缺少事实 applicant." not in zh


def test_a_claim_error_in_a_case_names_the_line_that_gave_the_value(tmp_path: Path) -> None:
    # the problems named the case file without a line: the claim is merged from the case, the applicant it names and
    # the file's defaults, so the parser saw no positions
    text = WRONG.format(policy=policy_beside(tmp_path))
    text = text.replace("actually_operating: true", "actually_operating: maybe", 1)  # in `applicants:`
    text = text.replace('loan_id: B, lender_is_bank: true, pledged_right: patent, annual_interest_paid: "200000.00"', "loan_id: B")
    text = text.replace('date: "2021-06-01"', 'date: "2021-13-01"', 1)  # in `defaults: item:`
    f = tmp_path / "placed.yaml"
    f.write_text(text, encoding="utf-8")
    result = run_case(load_case_file(f)[0])
    assert result.error is not None
    lines = {format_path(p.path): (p.file, p.line) for p in result.error.problems}
    assert lines["applicant.actually_operating"] == (str(f), _line_of(text, "actually_operating: maybe"))
    assert lines["items[0].date"] == (str(f), _line_of(text, '"2021-13-01"'))  # the default the item took
    assert lines["items[1].annual_interest_paid"] == (str(f), _line_of(text, "{id: l2, type: pledge_loan_interest"))  # missing: the item


def test_where_they_part_says_a_limit_in_its_unit(tmp_path: Path) -> None:
    # R12's insurance limit counts years: the case's trace said "2 次中此前已用 0 次" where the explanation says 年
    text = WRONG.format(policy=policy_beside(tmp_path)).split("cases:")[0] + (
        "cases:\n  - name: insurance expected refused\n    claim:\n      items:\n"
        '        - {id: i1, type: patent_insurance, insurance_policy_id: P-1, premium_paid: "20000.00"}\n'
        "    expect:\n      items:\n        i1: {status: refused}\n"
    )
    f = tmp_path / "unit.yaml"
    f.write_text(text, encoding="utf-8")
    result = run_case(load_case_file(f)[0])  # granted: 20,000 × 50% = 10,000 (R12), the first of 2 years
    with use_language("zh"):
        zh = format_result(result)
    assert "次数限制 insurance-two-years（第六条第（二）项）：2 年中此前已用 0 年，本次计 2021 → 通过" in zh


HISTORY_CASES = """
policy: {policy}
applicants:
  enterprise: {{id: 91110117MA01ABCD1F, name: 北京平谷示例科技有限公司, kind: enterprise, registered_in_district: true, actually_operating: true, pays_tax_in_district: true}}
defaults:
  claim: {{claim_id: C-1, funding_year: 2021, submission_date: "2022-03-15", documents: [business_licence], applicant: enterprise}}
  item: {{date: "2021-06-01", supported_by_other_district_policy: false}}
  items:
    pledge_loan_interest: {{lender_is_bank: true, pledged_right: patent, documents: [proof_of_right, fee_receipts, sealed_receipt_copies]}}
cases:
  - name: history with the year as text
    history:
      - {{claim_id: C-0, item_id: l0, rule: pledge-loan-interest, applicant_id: 91110117MA01ABCD1F, funding_year: 2021, amount: "250000.00",
         consumes: [{{cap: pledge-annual-cap, scope: [91110117MA01ABCD1F, {year}], amount: "250000.00"}}]}}
    claim:
      items:
        - {{id: l1, type: pledge_loan_interest, loan_id: BJ-LOAN-2021-007, annual_interest_paid: "200000.00"}}
    expect:
      items:
        l1: {{status: reduced, amount: 5万}}
"""


def test_a_case_files_history_is_held_to_a_claims_own(tmp_path: Path) -> None:
    """(The session's own review.) `engine test` read a case's history with parse_grants alone: a pledge grant of
    250,000.00 whose year was "2021" used up nothing of the 300,000.00 yearly cap (第六条第（一）项), and the case's
    200,000.00 of interest (asking 100,000.00) was granted 100,000.00 where 50,000.00 was left. Now refused, as
    engine.evaluate refuses it; with the year as a number the case passes (reduced to 5万)."""
    f = tmp_path / "history.yaml"
    f.write_text(HISTORY_CASES.format(policy=policy_beside(tmp_path), year='"2021"'), encoding="utf-8")
    [result] = (run_case(c) for c in load_case_file(f))
    assert not result.passed
    assert '"2021" does not match how pledge-annual-cap keeps its totals (per applicant.id, claim.funding_year)' in format_result(result)
    f.write_text(HISTORY_CASES.format(policy=policy_beside(tmp_path), year="2021"), encoding="utf-8")
    [result] = (run_case(c) for c in load_case_file(f))
    assert result.passed, format_result(result)


EXPECTED_A_CUT = (
    WRONG.split("cases:")[0]
    + """cases:
  - name: an officer who expects the annual cap to cut the second loan
    claim:
      items:
        - {{id: l1, type: pledge_loan_interest, loan_id: A, lender_is_bank: true, pledged_right: patent, annual_interest_paid: "560000.00"}}
        - {{id: l2, type: pledge_loan_interest, loan_id: B, lender_is_bank: true, pledged_right: patent, annual_interest_paid: "20000.00"}}
    expect:
      items:
        l2: {{status: reduced, amount: 5000}}
"""
)


def test_a_cut_expected_and_not_made_is_said_at_the_cap(tmp_path: Path) -> None:
    """R11, R20: l1's 560,000 of interest pays 280,000.00, leaving 20,000 of the yearly 300,000; l2's 20,000 pays
    10,000.00, within it: not cut. The officer expected a cut to 5,000. The amount step (10,000 = 50% of 20,000) is
    right; the cap is where they part. It was blamed on the amount step ("金额 … → 10000.00（预期 5000.00）"). Amounts
    are said as an officer reads them: 10,000.00 元, and the rate as 50%."""
    f = tmp_path / "cut.yaml"
    f.write_text(EXPECTED_A_CUT.format(policy=policy_beside(tmp_path)), encoding="utf-8")
    [case] = load_case_file(f)
    result = run_case(case)
    assert not result.passed
    with use_language("zh"):
        text = format_result(result)
    assert "项目 l2：状态应为 核减，实为 支持" in text
    assert "项目 l2：金额（amount）应为 5,000.00 元，实为 10,000.00 元" in text
    assert (
        "项目 l2：分歧所在：封顶 pledge-annual-cap（第六条第（一）项）：上限 300,000.00 元，此前已用 280,000.00 元，"
        "申请 10,000.00 元 → 核定 10,000.00 元（预期 5,000.00 元）"
    ) in text
    assert "分歧所在：金额" not in text


#: one case of one pledge loan (200,000 of interest: 100,000 by R11), its `clauses:` put in for CLAUSES
ONE_LOAN = (
    WRONG.split("cases:")[0]
    + """cases:
  - name: one pledge loan
    clauses: CLAUSES
    claim:
      items:
        - {{id: l1, type: pledge_loan_interest, loan_id: A, lender_is_bank: true, pledged_right: patent, annual_interest_paid: "200000.00"}}
    expect:
      items:
        l1: {{status: granted, amount: 10万}}
"""
)


def test_a_case_listing_a_clause_the_policy_has_not_fails_and_a_misspelt_expectation_says_the_key(tmp_path: Path) -> None:
    """A case's `clauses:` were never looked at (第六条第(一)项, half-width brackets, passed as if it named a clause),
    and `amout:` was "不认识的预期项" with no word of amount."""
    listed = ONE_LOAN.replace("CLAUSES", "[第六条第(一)项]")
    f = tmp_path / "clauses.yaml"
    f.write_text(listed.format(policy=policy_beside(tmp_path)), encoding="utf-8")
    [case] = load_case_file(f)
    result = run_case(case)
    assert not result.passed  # (200,000 x 50% = 100,000 as expected: only the clause fails it)
    with use_language("zh"):
        assert "用例列出的条款 第六条第(一)项 不在政策的条款中（是否想写 第六条第（一）项？）" in format_result(result)
    misspelt = tmp_path / "amout.yaml"
    misspelt.write_text(
        ONE_LOAN.replace("clauses: CLAUSES\n    ", "").replace("amount: 10万", "amout: 10万").format(policy=policy_beside(tmp_path)),
        encoding="utf-8",
    )
    with pytest.raises(CaseFileError) as caught:
        load_case_file(misspelt)
    [p] = caught.value.problems
    assert tr(p.expected, "zh").startswith("是否想写 amount？可用：")


def test_a_case_s_clauses_written_as_one_text_or_as_no_list(tmp_path: Path) -> None:
    """`clauses: 第六条第（一）项` (no brackets) was read letter by letter, 8 mismatches; `clauses: [{x: 1}]` crashed."""
    case = ONE_LOAN
    f = tmp_path / "one.yaml"
    f.write_text(case.replace("CLAUSES", "第六条第（一）项").format(policy=policy_beside(tmp_path)), encoding="utf-8")
    [loaded] = load_case_file(f)
    assert run_case(loaded).passed  # (200,000 x 50% = 100,000, R11; the clause is one the policy has)
    f.write_text(case.replace("CLAUSES", "[{{x: 1}}]").format(policy=policy_beside(tmp_path)), encoding="utf-8")
    with pytest.raises(CaseFileError) as caught:
        load_case_file(f)
    [p] = caught.value.problems
    assert p.path[-1] == "clauses" and p.code == "case.shape"


def test_a_misspelt_case_key_is_named_with_the_key_it_means(tmp_path: Path) -> None:
    """`expext:` said only "a case needs claim: and a non-empty expect:", without naming the key written."""
    from conftest import policy_beside

    f = tmp_path / "wrong.yaml"
    text = WRONG.format(policy=policy_beside(tmp_path)).replace("    expect:\n", "    expext:\n", 1)
    f.write_text(text, encoding="utf-8")
    with pytest.raises(CaseFileError) as caught:
        load_case_file(f)
    [p] = caught.value.problems
    assert (p.path, p.line) == (
        ("cases", 0, "expext"),
        text.splitlines().index("    expext:") + 1,
    )  # (at the misspelt key: it was its mapping's first line, the line after)
    assert (tr(p.message, "zh"), tr(p.expected, "zh")) == (
        "每个用例须有 `claim:`（或 `round:`）和非空的 `expect:`",
        "`expect`（`expext` 是否写错了？）；用例的键：name、clauses、claim 或 round、earlier、history、expect",
    )


@pytest.mark.parametrize(
    ("written", "how", "fix"),
    [
        ("1０００００", "full-width characters (a Chinese input method's ０-９, ．, ，)", "100000"),
        ("３５万", "full-width characters (a Chinese input method's ０-９, ．, ，)", "35万"),
        ("100000．00", "full-width characters (a Chinese input method's ０-９, ．, ，)", "100000.00"),
        ("'100，000'", "full-width characters (a Chinese input method's ０-９, ．, ，), thousands separators", "100000"),
        ("'100,000.50'", "thousands separators", "100000.50"),
        ("5千", "千, in which no amount is read", "5000"),
        ("１.５千元", "full-width characters (a Chinese input method's ０-９, ．, ，), 千元, in which no amount is read", "1500"),
        ("10w", "w for 万", "10万"),
    ],
)
def test_an_expected_amount_written_in_full_width_digits_or_with_a_thousand_says_the_digits_to_write(
    tmp_path: Path, written: str, how: str, fix: str
) -> None:
    """`1０００００` (a Chinese input method's full-width digits, the same number to the eye) and `5千` were refused as
    "is not an amount", expected "yuan (120000) or 万 notation (12万)": the officer saw an amount. Neither is read (no
    amount the engine takes is read in full-width digits or in 千: quantities.parse_amount, a claim's amount_slip); the
    case file is refused with what is written and the digits to write, at the value's line."""
    text = WRONG.format(policy=policy_beside(tmp_path)).replace("amount: 10万}", f"amount: {written}}}", 1)
    f = tmp_path / "slip.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(CaseFileError) as caught:
        load_case_file(f)
    [p] = caught.value.problems
    assert (format_path(p.path), p.line) == ("cases[0].expect.items.l2.amount", text[: text.index(written)].count("\n") + 1)
    shown = repr(written.strip("'"))
    assert tr(p.message, "en") == (
        f"expected amount {shown} is written with {how}: an amount is yuan in ASCII digits (120000) or 万 notation (12万)"
    )
    assert tr(p.expected, "en") == f'"{fix}" (the same amount, written as an amount is read)'
    assert tr(p.expected, "zh") == f'"{fix}"（同一金额，按可读取的写法）'


def test_an_expected_amount_in_a_thousand_is_said_in_chinese(tmp_path: Path) -> None:
    text = WRONG.format(policy=policy_beside(tmp_path)).replace("      total: 35万\n", "      total: ３５千\n", 1)
    f = tmp_path / "slip.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(CaseFileError) as caught:
        load_case_file(f)
    [p] = caught.value.problems
    assert format_path(p.path) == "cases[0].expect.total"
    assert (tr(p.message, "zh"), tr(p.expected, "zh")) == (
        "预期金额 '３５千' 用了全角字符（中文输入法全角模式下的 ０-９、．、，）、“千”，金额不按“千”读取：金额须用半角数字、以元为单位书写（120000），"
        "或以万为单位（12万）",
        '"35000"（同一金额，按可读取的写法）',
    )


@pytest.mark.parametrize(
    ("written", "fix"),
    [
        ("1万5千", "15000"),  # 1 × 10,000 + 5 × 1,000
        ("3千5百", "3500"),  # 3 × 1,000 + 5 × 100
        ("12万5千元", "125000"),  # 12 × 10,000 + 5 × 1,000
        ("1百2十5", "125"),  # 100 + 20 + 5: the 5 after 十 stands in the ones whichever way it is read
        ("１万５千", "15000"),  # full-width digits: said too
    ],
)
def test_an_expected_amount_of_digits_and_chinese_units_says_the_digits_to_write(tmp_path: Path, written: str, fix: str) -> None:
    """(the officer walk-through, session 35) `amount: 1万5千`, as an officer says fifteen thousand, was refused as "is
    not an amount" with the forms an amount takes, no digits: as `5千` and `10w` are, it is refused with the digits."""
    text, f = _slipped(tmp_path, "amount: 10万}", f"amount: {written}}}")
    [p] = _refused(f, text)
    assert (format_path(p.path), p.line) == ("cases[0].expect.items.l2.amount", _line_of(text, written))
    how = "全角字符（中文输入法全角模式下的 ０-９、．、，）、" if written[0] == "１" else ""
    assert (tr(p.message, "zh"), tr(p.expected, "zh")) == (
        f"预期金额 '{written}' 用了{how}数字与“万”“千”“百”等单位混写的写法：金额须用半角数字、以元为单位书写（120000），或以万为单位（12万）",
        f'"{fix}"（同一金额，按可读取的写法）',
    )
    assert tr(p.expected, "en") == f'"{fix}" (the same amount, written as an amount is read)'


@pytest.mark.parametrize(
    ("written", "said", "added"), [("1万2", "12000", "10002"), ("3千5", "3500", "3005"), ("1万5千5", "15500", "15005")]
)
def test_an_expected_amount_of_digits_and_chinese_units_that_reads_two_ways_offers_no_digits(
    tmp_path: Path, written: str, said: str, added: str
) -> None:
    """`1万2` is 12000 as people say 一万二, 10002 as its figures add up (as 三万五 in a policy, never guessed): both
    readings are said, and no digits offered; nothing is read from it."""
    text, f = _slipped(tmp_path, "      total: 35万\n", f"      total: {written}\n")
    [p] = _refused(f, text)
    assert format_path(p.path) == "cases[0].expect.total"
    assert (tr(p.message, "zh"), tr(p.expected, "zh")) == (
        f"预期金额 '{written}' 把数字与“万”“千”“百”等单位混写，可以有两种读法：按口语读是 {said}，按字面相加是 {added}；请直接写出以元为单位的数字",
        "以元为单位的数字（120000）或以万为单位（12万）",
    )
    assert tr(p.message, "en").startswith(f"the expected amount '{written}' writes digits with Chinese units")


def test_a_claims_amount_of_digits_and_chinese_units_in_a_case_says_the_digits_to_write(tmp_path: Path) -> None:
    """The claim's own amount written so (`annual_interest_paid: 1万5千`) is the case's error, with the digits: 15000
    (1 × 10,000 + 5 × 1,000); `1万2` says its two readings and offers none."""
    for written, fix in (("1万5千", '以元为单位、只写数字的金额：1万5千 请写作 "15000"'), ("1万2", None)):
        _text, f = _slipped(tmp_path, 'annual_interest_paid: "200000.00"', f"annual_interest_paid: {written}")
        result = run_case(load_case_file(f)[0])
        assert result.error is not None
        [p] = result.error.problems
        assert format_path(p.path) == "items[1].annual_interest_paid"
        if fix is not None:
            assert tr(p.message, "zh") == f"'{written}' 不符合规定的格式：数字与“万”“千”“百”等单位混写；申请中的金额以元为单位，只写数字"
            assert tr(p.expected, "zh") == fix
        else:
            assert tr(p.message, "zh") == (
                "'1万2' 不符合规定的格式：数字与“万”“千”“百”等单位混写，而且可以有两种读法：按口语读是 12000，按字面相加是 10002"
            )
            assert "12000" not in tr(p.expected, "zh") and "10002" not in tr(p.expected, "zh")


def test_what_is_no_amount_however_it_is_written_is_still_said_as_before(tmp_path: Path) -> None:
    # (a full-width text that is no amount either, and a 千 after no number: the forms an amount takes, as before)
    for written in ("'１２ａｂ'", "千", "'1,00,000'"):
        text = WRONG.format(policy=policy_beside(tmp_path)).replace("amount: 10万}", f"amount: {written}}}", 1)
        f = tmp_path / "slip.yaml"
        f.write_text(text, encoding="utf-8")
        with pytest.raises(CaseFileError) as caught:
            load_case_file(f)
        [p] = caught.value.problems
        assert tr(p.message, "en").startswith(f"expected amount {written.strip(chr(39))!r}: ")
        assert tr(p.expected, "en") == "yuan (120000) or 万 notation (12万)"


def test_a_case_key_in_full_width_letters_is_named_with_the_key_it_is(tmp_path: Path) -> None:
    """`ｅｘｐｅｃｔ:` (full-width letters, the input method left in full-width mode) said only "a case needs claim: and
    a non-empty expect:", with no word of the key written; `ａｍｏｕｎｔ` in an item's expectations likewise."""
    text = WRONG.format(policy=policy_beside(tmp_path)).replace("    expect:\n", "    ｅｘｐｅｃｔ:\n", 1)
    f = tmp_path / "wide.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(CaseFileError) as caught:
        load_case_file(f)
    [p] = caught.value.problems
    assert p.path == ("cases", 0, "ｅｘｐｅｃｔ")
    assert tr(p.expected, "en") == (
        "`expect` (`ｅｘｐｅｃｔ` is expect in full-width letters, as a Chinese input method in full-width mode writes them: "
        "write it in ASCII); a case's keys: name, clauses, claim or round, earlier, history, expect"
    )
    assert tr(p.expected, "zh") == (
        "`expect`（`ｅｘｐｅｃｔ` 是用全角字母写的 expect（中文输入法的全角模式）：请用半角字母书写）；用例的键：name、clauses、claim 或 round、"
        "earlier、history、expect"
    )
    text = WRONG.format(policy=policy_beside(tmp_path)).replace(
        "{status: granted, amount: 10万}", "{status: granted, ａｍｏｕｎｔ: 10万}", 1
    )
    f.write_text(text, encoding="utf-8")
    with pytest.raises(CaseFileError) as caught:
        load_case_file(f)
    [p] = caught.value.problems
    assert tr(p.message, "en") == "unknown expectation(s) ａｍｏｕｎｔ"
    assert tr(p.expected, "en") == (
        "amount, in ASCII letters (`ａｍｏｕｎｔ` is amount in full-width letters, as a Chinese input method in full-width mode "
        "writes them); one of: status, amount, asked, provisional, reason, reasons, missing_documents, missing_facts, cites"
    )


def _slipped(tmp_path: Path, written: str, slip: str) -> tuple[str, Path]:
    """`WRONG` beside a copy of the policy with its first `written` changed to `slip`: its text, and the case file
    holding it (tmp_path/typo.yaml)."""
    text = WRONG.format(policy=policy_beside(tmp_path))
    assert written in text
    text = text.replace(written, slip, 1)
    f = tmp_path / "typo.yaml"
    f.write_text(text, encoding="utf-8")
    return text, f


def test_a_fact_misspelt_in_a_case_s_claim_is_one_problem_with_the_fact_meant(tmp_path: Path) -> None:
    """`anual_interest_paid` in a case's item was two problems: the unknown field with its did-you-mean, and beside it
    the follow-on "items[0].annual_interest_paid: 缺少此项：这是必填项" of the fact it misspells."""
    text, f = _slipped(
        tmp_path,
        'loan_id: B, lender_is_bank: true, pledged_right: patent, annual_interest_paid: "200000.00"',
        'loan_id: B, lender_is_bank: true, pledged_right: patent, anual_interest_paid: "200000.00"',
    )
    result = run_case(load_case_file(f)[0])
    assert result.error is not None
    [p] = result.error.problems
    assert (format_path(p.path), p.line) == ("items[1]", _line_of(text, "anual_interest_paid"))
    assert tr(p.message, "zh") == "有无法识别的字段（'anual_interest_paid'）；是否应为 'annual_interest_paid'？"
    assert tr(p.message, "en") == "unknown field(s) ('anual_interest_paid' was unexpected); did you mean 'annual_interest_paid'?"
    with use_language("zh"):
        assert "缺少此项" not in format_result(result)


def test_a_fact_misspelt_in_the_files_defaults_is_said_on_the_misspelt_key_s_line(tmp_path: Path) -> None:
    """`funding_yeer` in `defaults: claim:` was placed at the case's own `claim:` (a line that has no such key), as
    the claim it was merged into; it is said where it is written, on the misspelt key's line."""
    text, f = _slipped(tmp_path, "funding_year: 2021", "funding_yeer: 2021")
    [p] = run_case(load_case_file(f)[0]).error.problems  # type: ignore[union-attr]
    # line 6 of the file, `  claim: {claim_id: C-1, funding_yeer: 2021, …}`: the misspelt key's value, 2021, is at
    # column 40 (its key at 26; a place is a value's, as for any problem of a fact)
    assert (p.line, p.column) == (6, 40) == (_line_of(text, "funding_yeer"), text.splitlines()[5].index("2021") + 1)
    assert tr(p.message, "zh") == "有无法识别的字段（'funding_yeer'）；是否应为 'funding_year'？"


def test_a_fact_misspelt_in_an_items_defaults_is_said_on_the_misspelt_key_s_line(tmp_path: Path) -> None:
    text, f = _slipped(tmp_path, "supported_by_other_district_policy", "supported_by_other_distrct_policy")
    problems = run_case(load_case_file(f)[0]).error.problems  # type: ignore[union-attr]
    # both items take the default: each said at line 7, `  item: {date: "2021-06-01", supported_by_other_distrct_policy: …`
    assert [(format_path(p.path), p.line) for p in problems] == [("items[0]", 7), ("items[1]", 7)]
    assert _line_of(text, "supported_by_other_distrct_policy") == 7


def test_a_slip_in_a_case_s_claim_as_a_whole_is_said_of_its_claim_not_of_the_whole_file(tmp_path: Path) -> None:
    """A key of the claim itself misspelt (`fundng_year` beside `items:`) has the empty path of the claim's top level,
    which read "（整个文件）" / "(document)": the case file as a whole, which it is not. It is said of `claim`, at the
    line the key is written on."""
    text, f = _slipped(tmp_path, "    claim:\n      items:", "    claim:\n      fundng_year: 2021\n      items:")
    result = run_case(load_case_file(f)[0])
    assert result.error is not None
    [p] = result.error.problems
    assert (format_path(p.path), p.line) == ("claim", _line_of(text, "fundng_year"))
    assert tr(p.message, "zh") == "有无法识别的字段（'fundng_year'）；是否应为 'funding_year'？"
    assert "(document)" not in format_result(result) and ": claim: unknown field(s) ('fundng_year' was unexpected)" in format_result(result)


def test_an_expected_reason_naming_no_id_of_the_policy_says_so_and_the_id_meant(tmp_path: Path) -> None:
    # an officer's `reason: trademark-once-per-year` (the limit was `trademark-once-a-year`) failed only as
    # "理由应为 trademark-once-per-year，实为 trademark-once-a-year", as if the engine had chosen another ground
    base = WRONG.split("cases:")[0] + (
        "cases:\n  - name: a third pledge loan refused\n"
        "    history:\n"
        + "".join(
            f"      - {{{{claim_id: H-{n}, item_id: l{n}, rule: pledge-loan-interest, applicant_id: 91110117MA01ABCD1F,"
            f" funding_year: 2020, amount: '1000.00', consumes: [{{{{limit: pledge-three-times, scope: [91110117MA01ABCD1F],"
            f" counts: [L{n}, 2020]}}}}]}}}}\n"
            for n in (1, 2, 3)
        )
        + "    claim:\n      items:\n"
        '        - {{id: l4, type: pledge_loan_interest, loan_id: D, lender_is_bank: true, pledged_right: patent, annual_interest_paid: "2000.00"}}\n'
        "    expect:\n      items:\n        l4: {{status: refused, reasons: [REASON]}}\n"
    )
    for reason, said in (
        ("pledge-3-times", "（是否想写 pledge-three-times？）"),
        ("第六条第（一）项", "（理由写编号，如 coverage 报告括号中的编号）"),
    ):
        f = tmp_path / "reason.yaml"
        f.write_text(base.replace("REASON", reason).format(policy=policy_beside(tmp_path)), encoding="utf-8")
        result = run_case(load_case_file(f)[0])
        with use_language("zh"):
            text = format_result(result)
        assert f"项目 l4：预期的理由 {reason} 不是本政策中任何审查、条件、封顶或次数限制的编号{said}" in text, text
    right = tmp_path / "right.yaml"  # three loans before: the fourth is refused by the limit (R11: at most 3 times)
    right.write_text(base.replace("REASON", "pledge-three-times").format(policy=policy_beside(tmp_path)), encoding="utf-8")
    got = run_case(load_case_file(right)[0])
    assert got.passed, format_result(got)


def test_a_policy_given_as_a_case_file_says_to_give_it_with_policy() -> None:
    """`test policies/pinggu_2020.yaml policies/tests`, the policy first as `lint` and `coverage` take it: it was told
    "用例文件须有 `cases:`" at the policy's first line, which says nothing of what to type instead."""
    with pytest.raises(CaseFileError) as caught:
        load_case_file(POLICY_PATH)
    (p,) = caught.value.problems
    assert tr(p.message, "zh") == f"{POLICY_PATH} 是规则文件，不是用例文件：test 的参数是用例文件或用例文件夹"
    assert tr(p.expected, "zh") == (
        f"用 --policy 指定规则文件：python -m engine test --policy {POLICY_PATH} 用例文件夹（不写 --policy 时，按各用例文件的 policy: 所指的规则文件审核）"
    )
    assert tr(p.expected, "en").startswith(f"the policy given with --policy: python -m engine test --policy {POLICY_PATH} CASES")


def test_a_funding_year_out_of_the_window_is_placed_on_the_case_files_line(tmp_path: Path) -> None:
    """A revision moved the window to 2024-2026; a case of the old suite (funding year 2021 in the file's defaults)
    failed with "<输入>: funding_year：申报年度 2021 不在…": the decision found it, not the parser, and nothing placed it.
    It is said at the line and column of the year that must change (here 2027, on line 3 of the defaults)."""
    policy_beside(tmp_path)
    case = tmp_path / "cases.yaml"
    case.write_text(
        "policy: pinggu_2020.yaml\n"
        "defaults:\n"
        "  claim: {claim_id: C-1, funding_year: 2027, submission_date: '2028-03-15', documents: [business_licence],\n"
        "          applicant: {id: 91110117MA01ABCD1F, name: 示例公司, kind: enterprise, registered_in_district: true,\n"
        "                      actually_operating: true, pays_tax_in_district: true}}\n"
        "cases:\n"
        "  - name: 有效期外\n"
        "    claim: {items: [{id: p1, type: invention_patent_grant, date: '2027-06-01', patent_id: ZL202010000001.1,\n"
        "                     patent_kind: invention, route: domestic, official_fees_paid: '8400.00', documents: [proof_of_right],\n"
        "                     supported_by_other_district_policy: false}]}\n"
        "    expect: {total: 0}\n",
        encoding="utf-8",
    )
    result = run_case(load_case_file(case)[0])
    (p,) = result.error.problems
    assert (p.file, p.line, p.column, p.path) == (str(case), 3, 40, ("funding_year",))  # (the 2027 of line 3)
    assert tr(p.message, "zh").startswith("申报年度 2027 不在“平谷区知识产权促进办法”（版本 2020.1）的有效期内")  # (its title: was its id)
