"""Lint: findings a schema cannot see, each with file:line, on the Pinggu policy and on broken variants of it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import POLICY_PATH, ROOT

from engine.errors import Problem
from engine.lint import clause_numbers, lint_file, lint_source
from engine.source import parse_yaml

TEXT = POLICY_PATH.read_text(encoding="utf-8")


def lint_variant(old: str, new: str) -> tuple[list[Problem], str]:
    """Lint the Pinggu policy with one edit (located next to it, so its source text resolves)."""
    assert TEXT.count(old) == 1, old
    text = TEXT.replace(old, new)
    return lint_source(parse_yaml(text, str(POLICY_PATH))), text


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def codes(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.code, p.severity) for p in problems]


def test_pinggu_has_no_errors_only_unused_record_keeping_facts() -> None:
    problems = lint_file(POLICY_PATH)
    assert [p for p in problems if p.severity == "error"] == []
    unused = {p.path[1] + "." + p.path[3] for p in problems if p.code == "lint.fact_unused"}
    # Facts collected for the record that no rule decides on (route: R9 pays both routes alike).
    assert "invention_patent_grant.route" in unused
    assert "navigation_project.project_kind" in unused
    assert all(p.line is not None and p.file == str(POLICY_PATH) for p in problems)


def test_clause_numbers_normalise_spaces_and_wan() -> None:
    n = clause_numbers("每家企业每年享受贴息补助最高不超过 30 万元，累计不超过3次，按 50%给予；一次性奖励20 万元；最多支持 2 年")
    assert n.has_amount(__import__("decimal").Decimal("300000")) and n.has_amount(__import__("decimal").Decimal("200000"))
    assert n.has_rate(__import__("decimal").Decimal("0.5"))
    assert n.has_count(3) and n.has_count(2) and n.has_count(1)  # 3次, 2 年, 一次性


def test_amount_not_in_the_cited_clause() -> None:
    # 第五条第（二）项 says 金奖 50 万: a rule paying 60万 for gold is wrong.
    problems, text = lint_variant("table: {gold: 50万, silver: 40万, excellence: 30万}", "table: {gold: 60万, silver: 40万, excellence: 30万}")
    errs = [p for p in problems if p.code == "lint.number_not_in_clause"]
    assert len(errs) == 1 and "pays 60万 (amount for gold)" in errs[0].message and "50万" in errs[0].message
    assert errs[0].severity == "error"


def test_cap_and_rate_not_in_the_cited_clause() -> None:
    problems, text = lint_variant("        max: 30万\n        per: [applicant.id, claim.funding_year]\n        says: {zh: 每家企业", "        max: 40万\n        per: [applicant.id, claim.funding_year]\n        says: {zh: 每家企业")
    (err,) = [p for p in problems if p.code == "lint.number_not_in_clause"]
    assert "cap pledge-annual-cap is 40万 but clause 第六条第（一）项 says" in err.message and "30万" in err.message
    assert err.line == line_of(text, "max: 40万")
    problems, text = lint_variant("amount: {rate: 50%, of: item.premium_paid}", "amount: {rate: 60%, of: item.premium_paid}")
    (err,) = [p for p in problems if p.code == "lint.number_not_in_clause"]
    assert "pays 60% but clause 第六条第（二）项 says 50%" in err.message


def test_boolean_compared_with_a_string_never_applies() -> None:
    problems, text = lint_variant("      - test: item.lender_is_bank\n", '      - test: item.lender_is_bank == "yes"\n')
    found = codes(problems)
    assert ("lint.type_mismatch", "error") in found and ("lint.never_applies", "error") in found
    never = next(p for p in problems if p.code == "lint.never_applies")
    assert "pledge-loan-interest can never apply" in never.message
    assert never.line == line_of(text, 'item.lender_is_bank == "yes"')


@pytest.mark.parametrize(
    "condition",
    [
        'item.project_kind == "navigation" and item.project_kind == "strategy"',  # contradictory == tests
        'item.project_kind in ("navigation", "strategy") and item.project_kind == "early_warning"',
        "item.actual_costs > 100000 and item.actual_costs < 50000",  # empty interval
        'applicant.kind == "natural_person"',  # who: [enterprise] never reaches it
    ],
)
def test_unsatisfiable_conditions(condition: str) -> None:
    old = "    item_type: navigation_project\n    who: {kinds: [enterprise]}\n"
    new = old + f"    when:\n      - test: {condition}\n        says: {{zh: 测试, en: test}}\n"
    problems, _ = lint_variant(old, new)
    assert ("lint.never_applies", "error") in codes(problems), problems


def test_satisfiable_condition_is_quiet() -> None:
    old = "    item_type: navigation_project\n    who: {kinds: [enterprise]}\n"
    new = old + '    when:\n      - test: item.project_kind == "navigation" or item.actual_costs > 100\n        says: {zh: 测试, en: test}\n'
    problems, _ = lint_variant(old, new)
    assert [p for p in problems if p.severity == "error"] == []


def test_standing_check_excluding_every_kind_of_a_rule() -> None:
    old = "  - id: five-year-bar\n"
    new = (
        "  - id: no-enterprises\n    cites: 第四条第二款\n    level: applicant\n    category: standing\n    who: [enterprise]\n"
        '    test: applicant.kind != "enterprise"\n    says: {zh: 测试, en: test}\n' + old
    )
    problems, _ = lint_variant(old, new)
    never = [p for p in problems if p.code == "lint.never_applies"]
    # pledge, insurance, securitisation, navigation, national title, certification: enterprise-only rules
    assert {p.message.split()[1] for p in never if p.message.startswith("rule")} >= {"pledge-loan-interest", "patent-insurance", "navigation-project"}
    assert any(p.code == "lint.kind_unreachable" and "beijing-ip-demonstration-unit admits enterprise" in p.message for p in problems)


def test_cap_that_can_never_bite() -> None:
    old = "    amount: {fixed: 5万}\n    limits:\n      - id: beijing-demonstration-once\n"
    new = "    amount: {fixed: 5万}\n    caps:\n      - {id: unit-cap, max: 5万, per: [applicant.id]}\n    limits:\n      - id: beijing-demonstration-once\n"
    problems, text = lint_variant(old, new)
    (w,) = [p for p in problems if p.code == "lint.cap_never_bites"]
    assert w.severity == "warning" and "unit-cap (5万) can never bite" in w.message and "beijing-demonstration-once allows 1" in w.message


def test_computable_clause_nobody_encodes() -> None:
    old = '    text: "支持或奖励资金的管理与使用，应遵循国家有关法律法规和财务管理制度，遵循严格审核、科学评估、合理安排、择优扶持的原则。"\n'
    i = TEXT.index(old)
    j = TEXT.index("computable: false", i)
    text = TEXT[:j] + "computable: true" + TEXT[j + len("computable: false") :]
    problems = lint_source(parse_yaml(text, str(POLICY_PATH)))
    (err,) = [p for p in problems if p.code == "lint.clause_unencoded"]
    assert err.path == ("clauses", "第三条") and err.severity == "error" and err.line == line_of(text, "  第三条:") + 1


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=ROOT, check=False)


def test_cli_exit_codes(tmp_path: Path) -> None:
    ok = _run("lint", "policies/pinggu_2020.yaml")
    assert ok.returncode == 0 and "0 error(s), 7 warning(s)" in ok.stdout
    assert "policies/pinggu_2020.yaml:" in ok.stdout and ": warning: " in ok.stdout
    assert _run("lint", "--strict", "policies/pinggu_2020.yaml").returncode == 1
    bad = tmp_path.parent / (tmp_path.name + "_bad.yaml")  # next to nothing: source_text will not resolve -> load error
    bad.write_text(TEXT, encoding="utf-8")
    out = _run("lint", str(bad))
    assert out.returncode == 1 and ": error: " in out.stdout
