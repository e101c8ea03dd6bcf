"""Clause coverage of the Pinggu policy by its YAML suite: 100% of computable clauses and of cap/limit branches."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

import engine
from engine.officer.casefile import load_cases, run_cases
from engine.officer.coverage import CoverageReport, branches_of, coverage

SUITE = ROOT / "policies" / "tests"


@pytest.fixture(scope="module")
def report(policy: engine.CompiledPolicy) -> CoverageReport:
    return coverage(policy, run_cases(load_cases([SUITE]), policy))


def test_every_computable_clause_and_branch(report: CoverageReport) -> None:
    assert report.cases_failed == []
    assert report.missing() == []
    assert report.clause_percent == 100 and report.branch_percent == 100
    computable = {c.key for c in report.computable}
    assert len(computable) == 22
    assert {"第六条第（四）项第二款", "第十七条", "第十二条", "第四条第三款"} <= computable


def test_branches_enumerated_from_the_policy(policy: engine.CompiledPolicy) -> None:
    keys = {b.key for b in branches_of(policy)}
    # every cap: reduced and exhausted; every limit and condition: refused
    for cap in (
        "pledge-annual-cap",
        "insurance-annual-cap",
        "securitisation-total-cap",
        "platform-total-cap",
        "alliance-total-cap",
        "project-cap",
        "agency-cap",
    ):
        assert {f"reduced:{cap}", f"exhausted:{cap}"} <= keys
    for limit in ("invention-patent-once", "pledge-three-times", "insurance-two-years", "national-title-once", "certification-once"):
        assert f"refused:{limit}" in keys
    assert {"self-transformation-referral:referred", "service-agency-performance:pending_review", "error:not_in_force"} <= keys
    assert "refused:invention-patent-fees#who" not in keys  # open to every kind: no such branch


def test_partial_suite_falls_short(policy: engine.CompiledPolicy) -> None:
    part = coverage(policy, run_cases(load_cases([SUITE / "art5_creation.yaml"]), policy))
    assert part.clause_percent < 100 and part.branch_percent < 100
    missing = part.missing()
    assert "clause 第六条第（一）项" in missing
    assert any(m.startswith("branch reduced:pledge-annual-cap") for m in missing)
    clause = next(c for c in part.clauses if c.key == "第五条第（一）项")
    assert clause.encoded_by == ["rule for granted invention patent (invention-patent-fees)"] and clause.exercised


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=ROOT, check=False)


def test_cli_threshold_and_html(tmp_path: Path) -> None:
    ok = _run("coverage", "policies/pinggu_2020.yaml", "--tests", "policies/tests", "--min", "100")
    assert ok.returncode == 0, ok.stderr
    assert "22/22 computable clauses exercised (100.0%)" in ok.stdout
    out = tmp_path / "cov.html"
    low = _run(
        "coverage",
        "policies/pinggu_2020.yaml",
        "--tests",
        "policies/tests/art5_creation.yaml",
        "--min",
        "100",
        "--format",
        "html",
        "--out",
        str(out),
    )
    assert low.returncode == 1 and "coverage under 100%" in low.stderr
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "第五条第（一）项" in html and "class='miss'" in html


# --- subject rules (only the highest / 补差) on the fictional district ----------------------------

FICTIONAL = ROOT / "tests" / "fixtures" / "fictional_district.yaml"
FICTIONAL_CASES = ROOT / "tests" / "fixtures" / "fictional_cases.yaml"


def test_subject_clause_and_branches_are_covered() -> None:
    lakeside = engine.load_policy(FICTIONAL)
    report = coverage(lakeside, run_cases(load_cases([FICTIONAL_CASES]), lakeside))
    assert report.cases_failed == [] and report.cases_run == 4
    clauses = {c.key: c for c in report.clauses}
    # 第九条第二款 is encoded by nothing but the two rules' `subject:` and is exercised by the two highest-only cases
    highest = clauses["第九条第二款"]
    assert highest.encoded_by == [
        "subject of the rule for science and technology award (science-award)",
        "subject of the rule for District innovation competition prize (competition-award)",
    ]
    assert len(highest.cases) == 2
    assert {b.key: len(b.cases) for b in highest.branches} == {"refused:science-award#subject": 1, "refused:competition-award#subject": 1}
    # 补差 (第十条, cited by the rule itself): the difference paid, and nothing left to pay
    topup = {b.key: len(b.cases) for b in clauses["第十条"].branches}
    assert topup["reduced:specialised-enterprise#subject"] == 1 and topup["refused:specialised-enterprise#subject"] == 1
    assert (
        "branch refused:science-award#subject (第九条第二款: science-award: refused, a higher award for the same subject)"
        not in report.missing()
    )


def test_subject_step_cites_its_clause() -> None:
    lakeside = engine.load_policy(FICTIONAL)
    applicant = {
        "id": "91110117MA01ABCD1F",
        "name": "湖畔示例科技有限公司",
        "kind": "enterprise",
        "registered_in_district": True,
        "pays_tax_in_district": True,
    }
    items = [
        {"id": "c1", "type": "competition_award", "date": "2024-06-01", "documents": ["proof"], "project_id": "P1", "prize": "first"},
        {"id": "s1", "type": "science_award", "date": "2024-06-01", "documents": ["proof"], "project_id": "P1", "level": "national"},
    ]
    d = engine.evaluate(
        lakeside, {"claim_id": "L-1", "funding_year": 2024, "documents": ["business_licence"], "applicant": applicant, "items": items}
    ).to_dict()
    by = {i["item"]: i for i in d["items"]}
    (step,) = [s for s in by["c1"]["steps"] if s["step"] == "subject"]
    # the competition prize (20万) loses to the national award (100万) of the same project: 第九条第二款
    assert (step["cites"], step["asked"], step["after"]) == ("第九条第二款", "200000.00", "0.00")
    assert [(r["check"], r["cites"]) for r in by["c1"]["reasons"]] == [("competition-award#subject", "第九条第二款")]
    assert by["c1"]["cites"] == ["第九条第（二）项", "第九条第二款"]
    (step,) = [s for s in by["s1"]["steps"] if s["step"] == "subject"]
    assert (step["cites"], step["after"]) == ("第九条第二款", "1000000.00")
    assert by["s1"]["cites"] == ["第九条第（一）项"]  # paid in full: the subject clause did not decide it


# --- the command line: --tests takes one PATH (repeatable), POLICY may follow it; --min is a percentage ---------


def test_cli_tests_before_policy() -> None:
    # the order the usage line suggests: --tests PATH ... POLICY (used to fail: --tests swallowed the policy)
    ok = _run("coverage", "--tests", "policies/tests", "policies/pinggu_2020.yaml", "--min", "100")
    assert ok.returncode == 0, ok.stderr
    assert "22/22 computable clauses exercised (100.0%)" in ok.stdout


def test_cli_tests_repeatable_and_min_range(capsys: pytest.CaptureFixture[str]) -> None:
    from decimal import Decimal

    from engine.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["coverage", "--tests", "a.yaml", "--tests", "cases/", "P.yaml", "--min", "99.5"])
    assert (args.policy, args.tests, args.min) == ("P.yaml", ["a.yaml", "cases/"], Decimal("99.5"))
    assert parser.parse_args(["coverage", "P.yaml", "--tests", "t", "--min", "0"]).min == 0
    assert parser.parse_args(["coverage", "P.yaml", "--tests", "t", "--min", "100"]).min == 100
    for bad in ("101", "-1", "abc", "nan", "100.01"):
        with pytest.raises(SystemExit) as exc:
            parser.parse_args(["coverage", "P.yaml", "--tests", "t", "--min", bad])
        assert exc.value.code == 2
        assert "argument --min" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["coverage", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())  # wrapping depends on the terminal's width
    assert "--tests PATH a case file" in help_text and "[PATH ...]" not in help_text
    assert "html: a standalone page" in help_text  # --format has a help text
    assert "coverage policies/<measures>.yaml --tests policies/tests --min 100" in help_text  # an example


def test_cli_coverage_of_no_case_is_no_pass(tmp_path: Path) -> None:
    # `coverage --tests emptydir` printed a report of nothing and exited 0, where `test` says it found no case (exit 1)
    (tmp_path / "cases").mkdir()
    r = _run("--lang", "en", "coverage", "policies/pinggu_2020.yaml", "--tests", str(tmp_path / "cases"))
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == f"no test case found in {tmp_path / 'cases'}: a case file is a .yaml file with `cases:` (exit 1)\n"


def test_a_shared_cap_s_branches_name_every_rule_that_shares_it() -> None:
    # an officer's report put "invention-grant: reduced by cap yearly-total-cap" under the clause of a cap four rules
    # share, covered by a case in which the loan subsidy was the one reduced: the first rule's name stood for all
    from engine.core.i18n import tr

    policy = engine.load_policy(ROOT / "tests" / "fixtures" / "dated_parameters.yaml")
    users = [r.id for r in policy.rules if any(c.id == "tax-contribution-cap" for c in r.caps)]
    assert users == ["pledge-loan", "ip-insurance", "model-enterprise", "overseas-trademark"]
    # (each rule by its item type's words, the cap by its own, the ids after: tests/fixtures/dated_parameters.yaml)
    shared = (
        "patent pledge loan interest subsidy (pledge-loan), IP insurance subsidy (ip-insurance), IP model enterprise reward"
        " (model-enterprise), overseas trademark registration reward (overseas-trademark)"
    )
    cap = "“a year's rewards at most 50% of the local tax contribution” (tax-contribution-cap)"
    labels = {b.key: tr(b.label, "en") for b in branches_of(policy)}
    assert labels["reduced:tax-contribution-cap"] == f"reduced by cap {cap} (shared by {shared})"
    assert labels["exhausted:tax-contribution-cap"] == f"refused, cap {cap} exhausted (shared by {shared})"
    pinggu = {b.key: tr(b.label, "en") for b in branches_of(engine.load_policy(ROOT / "policies" / "pinggu_2020.yaml"))}
    assert pinggu["reduced:pledge-annual-cap"] == (  # (one rule's)
        "interest subsidy on an IP-pledged loan (pledge-loan-interest): reduced by cap"
        " “at most CNY 300,000 of interest subsidy per enterprise per year” (pledge-annual-cap)"
    )


def test_the_report_names_checks_rules_caps_and_limits_in_the_policys_words_with_the_id_after(report: CoverageReport) -> None:
    """The report named what encodes a clause and each branch by internal names (审查 first-right-holder, 规则
    invention-patent-fees, invention-patent-fees：因次数限制 invention-patent-once（1 次）不予支持, policy.in_force). Each
    is said in policies/pinggu_2020.yaml's words (a check's and a cap's or limit's `says`, a rule's item type), the id
    after."""
    from engine.core.i18n import tr, use_language

    clauses = {c.key: c for c in report.clauses}
    assert [tr(x, "zh") for x in clauses["第四条第三款"].encoded_by] == ["审查「涉及多个权利人的，仅支持第一权利人」（first-right-holder）"]
    assert [tr(x, "zh") for x in clauses["第五条第（一）项"].encoded_by] == ["发明专利授权（invention-patent-fees）的规则"]
    assert [tr(x, "en") for x in clauses["第五条第（一）项"].encoded_by] == ["rule for granted invention patent (invention-patent-fees)"]
    labels = {b.key: tr(b.label, "zh") for b in report.branches}
    assert labels["refused:first-right-holder"] == "因审查「涉及多个权利人的，仅支持第一权利人」（first-right-holder）不予支持"
    assert labels["invention-patent-fees:granted"] == "发明专利授权（invention-patent-fees）：全额支持"
    assert labels["refused:invention-patent-once"] == (
        "发明专利授权（invention-patent-fees）：因次数限制「每件发明专利支持一次」（invention-patent-once；1 次）不予支持"
    )
    # a limit counting funding years (`unit: {zh: 年}`) says its years, as its decisions do (it said "2 次")
    assert (
        labels["refused:insurance-two-years"]
        == "专利保险（patent-insurance）：因次数限制「最多支持2年」（insurance-two-years；2 年）不予支持"
    )
    assert tr(next(b.label for b in report.branches if b.key == "refused:insurance-two-years"), "en") == (
        "patent insurance (patent-insurance): refused by limit “supported in at most 2 years” (insurance-two-years; 2 year(s))"
    )
    assert labels["exhausted:pledge-annual-cap"] == (
        "知识产权质押贷款贴息（pledge-loan-interest）：封顶「每家企业每年享受贴息补助最高不超过30万元」（pledge-annual-cap）已用尽，不予支持"
    )
    with use_language("zh"):
        text = report.to_text()
    assert "    编码于：政策的有效期（policy.in_force）\n" in text
    # the cases listed with 、 and the others counted in Chinese (", " and " (+1)" were ASCII in a Chinese report)
    at = str(ROOT / "policies" / "tests" / "general_clauses.yaml")
    first = f"{at}:209 申报年度 2024 不在有效期（2021—2023 申报年度）内：错误而非不予支持（R7）"
    assert f"    用例：2 个 — {first}、{at}:219 申报年度 2020 早于有效期\n" in text
    assert f"    ✓ 申报年度不在有效期内：报错  ← {first}（另有 1 个）\n" in text


def test_a_round_budget_s_clause_is_encoded_and_covered_by_a_round_it_scales(tmp_path: Path) -> None:
    """An officer's 第七条 (the year's funds, pro rata) showed "encoded by: (none)" and 0 cases beside a passing round case
    its budget scaled: coverage could not reach 100 %. The fictional Hexi measures with a round budget of 24万 citing
    第一条, and the fixture's round of 3 certificates selected at 10万 each (30万 > 24万: each × 0.8 = 8万)."""
    from engine.core.i18n import tr

    fixtures = ROOT / "tests" / "fixtures"
    text = (fixtures / "subjects_rounds.yaml").read_text(encoding="utf-8")
    assert text.count("  documents_cites: 第五条\n") == 1
    (tmp_path / "hexi.yaml").write_text(
        text.replace("  documents_cites: 第五条\n", "  documents_cites: 第五条\n  round_budget: {amount: 24万, cites: 第一条}\n"),
        encoding="utf-8",
    )
    cases = (
        (fixtures / "subjects_rounds.cases.yaml").read_text(encoding="utf-8").replace("policy: subjects_rounds.yaml", "policy: hexi.yaml")
    )
    (tmp_path / "hexi.cases.yaml").write_text(cases, encoding="utf-8")
    policy = engine.load_policy(tmp_path / "hexi.yaml")
    scaled = next(b for b in branches_of(policy) if b.key == "scaled:round_budget")
    assert (scaled.clause, tr(scaled.label, "zh")) == ("第一条", "本轮资金预算不足，各项按预算同比例调减")
    results = run_cases([c for c in load_cases([tmp_path / "hexi.cases.yaml"]) if c.round])
    report = coverage(policy, results)
    [first] = [c for c in report.clauses if c.key == "第一条"]
    assert "每轮资金预算（policy.round_budget）" in [tr(x, "zh") for x in first.encoded_by]
    assert any(b.key == "scaled:round_budget" and b.cases for b in report.branches)


def test_coverage_names_cases_where_they_are_and_the_failing_ones(tmp_path: Path) -> None:
    """Cases were named art6_utilisation::13 (not where `test` finds them), failing ones only counted, and a
    condition's branch by its expression (item.lender_is_bank) where decisions say its words."""
    from conftest import policy_beside
    from test_casefiles import WRONG

    from engine.core.i18n import use_language
    from engine.officer.casefile import load_case_file

    f = tmp_path / "wrong.yaml"
    f.write_text(WRONG.format(policy=policy_beside(tmp_path)), encoding="utf-8")
    policy = engine.load_policy(ROOT / "policies" / "pinggu_2020.yaml")
    cases = load_cases([ROOT / "policies" / "tests"]) + load_case_file(f)
    with use_language("zh"):
        text = coverage(policy, run_cases(cases, policy)).to_text()
    assert f"未通过的用例（不计入；原因见 `test`）：\n  - {f}:9 an officer who forgot the annual cap\n" in text
    assert "知识产权质押贷款贴息（pledge-loan-interest）：因条件「贷款须为银行贷款」不予支持" in text
    assert "general_clauses.yaml:" in text and "::" not in text


def test_a_reading_named_by_a_condition_and_a_test_that_does_not_apply_are_branches(policy: engine.CompiledPolicy) -> None:
    """readings: [{id, when}] and applies: (docs/policy-language.md 7.2, 7.3) say something of an item beside the
    check's result: a case should show each. An item listing no holders names R30, a first of several R4; a US number
    does not meet the kind-digit condition's `applies`."""
    from conftest import ENTERPRISE_NAME, claim, item, patent_number

    from engine.core.i18n import tr
    from engine.officer.coverage import hits

    keys = {b.key: tr(b.label, "zh") for b in branches_of(policy)}
    assert keys["reading:first-right-holder?R4"] == "审查「涉及多个权利人的，仅支持第一权利人」（first-right-holder）列出解读 R4"
    assert keys["reading:first-right-holder?R30"].endswith("列出解读 R30")
    assert keys["not_applicable:invention-patent-fees#when2"] == (
        "发明专利授权（invention-patent-fees）：条件「专利号中表示专利类型的一位（12 位申请号的第 5 位，8 位的第 3 位）"
        "须与所填专利类型一致」对事项不适用"
    )
    data = claim(
        item("invention_patent_grant", "p1", patent_id=patent_number(401), right_holders=[ENTERPRISE_NAME, "某大学"]),
        item("invention_patent_grant", "p2", patent_id="US11000009"),
    )
    got = hits(engine.evaluate(policy, data).to_dict())
    assert {"reading:first-right-holder?R4", "reading:first-right-holder?R30", "not_applicable:invention-patent-fees#when2"} <= got
    only_cn = hits(engine.evaluate(policy, claim(item("invention_patent_grant", "p1", patent_id=patent_number(402)))).to_dict())
    assert "not_applicable:invention-patent-fees#when2" not in only_cn and "reading:first-right-holder?R4" not in only_cn


def test_the_report_names_the_measures_by_title_and_version_not_by_the_policy_s_id(report: CoverageReport) -> None:
    """The text report was headed 'pinggu-ip-promotion 2020.1 的覆盖情况（…）' and the page's <title> 'Coverage
    pinggu-ip-promotion 2020.1': the policy's id, a code, where officers know the measures by their title and version
    (as match's console, the notices and summary.xlsx name them). The page's heading had the title and a bare '2020.1'."""
    from engine.core.i18n import use_language

    file = report.policy.file
    with use_language("zh"):
        text, page = report.to_text(), report.to_html()
    assert text.startswith(f"平谷区知识产权促进办法（版本 2020.1）的覆盖情况（{file}）\n\n")
    assert "<title>覆盖情况：平谷区知识产权促进办法（版本 2020.1）</title>" in page
    assert "<h1>条款覆盖情况：平谷区知识产权促进办法（版本 2020.1）</h1>" in page
    with use_language("en"):
        text, page = report.to_text(), report.to_html()
    title = "Pinggu District Intellectual Property Promotion Measures, version 2020.1"
    assert text.startswith(f"coverage of {title} ({file})\n\n")
    assert f"<title>Coverage: {title}</title>" in page and f"<h1>Clause coverage: {title}</h1>" in page
    assert "pinggu-ip-promotion" not in text.splitlines()[0] + page[: page.index("</h1>")]
