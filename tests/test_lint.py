"""Lint: findings a schema cannot see, each with file:line, on the Pinggu policy and on broken variants of it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import POLICY_PATH, ROOT

from engine.core.errors import ClaimError, Problem
from engine.core.i18n import tr
from engine.deciding.claims import parse_claim
from engine.language.load import check_source
from engine.language.source import parse_yaml
from engine.officer.lint import clause_numbers, lint_file, lint_source

TEXT = POLICY_PATH.read_text(encoding="utf-8")
DRAFT_PATH = ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml"
FIXTURE_PATH = ROOT / "tests" / "fixtures" / "fictional_district.yaml"
FIXTURE = FIXTURE_PATH.read_text(encoding="utf-8")


def lint_variant(old: str, new: str, base: Path = POLICY_PATH) -> tuple[list[Problem], str]:
    """Lint a policy (Pinggu by default) with one edit (located next to it, so its source text resolves)."""
    original = base.read_text(encoding="utf-8")
    assert original.count(old) == 1, old
    text = original.replace(old, new)
    return lint_source(parse_yaml(text, str(base))), text


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def codes(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.code, p.severity) for p in problems]


@pytest.mark.parametrize("path", [POLICY_PATH, DRAFT_PATH, FIXTURE_PATH], ids=["pinggu_2020", "pinggu_2024_draft", "fictional"])
def test_shipped_policies_lint_clean(path: Path) -> None:
    # Record-keeping facts (route: R9 pays both routes alike; ids of policies, products, projects,
    # certificates) are marked `record_only: true`; the fictional district's subject rules cite 第九条第二款,
    # and its "lesser of the cost and 5万" (rate 100% inside least) is not a rate the clause must state.
    assert lint_file(path) == []


def test_record_only_fact_left_unmarked_is_reported_with_its_line() -> None:
    old = "      route:\n        type: enum\n        record_only: true\n"
    problems, text = lint_variant(old, "      route:\n        type: enum\n")
    (w,) = problems
    assert (w.code, w.severity, w.path) == ("lint.fact_unused", "warning", ("item_types", "invention_patent_grant", "facts", "route"))
    # at `route:`, the fact's own key (it was the line below, `type: enum`, its mapping's first entry)
    assert w.file == str(POLICY_PATH) and w.line == line_of(text, "      route:\n        type: enum\n")
    assert "record_only: true" in (w.expected or "")
    # the item type by the policy's own label, its code in brackets (it was `invention_patent_grant 的 item.route`)
    assert tr(w.message, "zh").startswith("事实 发明专利授权（invention_patent_grant）的 item.route 已声明，")
    assert tr(w.message, "en").startswith("fact item.route of granted invention patent (invention_patent_grant) is declared")


def test_record_only_fact_that_a_rule_reads_is_reported() -> None:
    old = "      patent_kind:\n        type: enum\n        zh: 专利类型\n"
    problems, text = lint_variant(old, "      patent_kind:\n        type: enum\n        record_only: true\n        zh: 专利类型\n")
    (w,) = problems
    assert (w.code, w.severity) == ("lint.record_only_used", "warning")
    assert (
        "item.patent_kind of granted invention patent (invention_patent_grant) is marked record_only but an expression reads it"
        in w.message
    )
    assert w.line == line_of(text, "        record_only: true\n        zh: 专利类型")


def test_clause_numbers_normalise_spaces_and_wan() -> None:
    n = clause_numbers("每家企业每年享受贴息补助最高不超过 30 万元，累计不超过3次，按 50%给予；一次性奖励20 万元；最多支持 2 年")
    assert n.has_amount(__import__("decimal").Decimal("300000")) and n.has_amount(__import__("decimal").Decimal("200000"))
    assert n.has_rate(__import__("decimal").Decimal("0.5"))
    assert n.has_count(3) and n.has_count(2) and n.has_count(1)  # 3次, 2 年, 一次性


def test_amount_not_in_the_cited_clause() -> None:
    # 第五条第（二）项 says 金奖 50 万: a rule paying 60万 for gold is wrong.
    problems, text = lint_variant(
        "table: {gold: 50万, silver: 40万, excellence: 30万}", "table: {gold: 60万, silver: 40万, excellence: 30万}"
    )
    errs = [p for p in problems if p.code == "lint.number_not_in_clause"]
    assert len(errs) == 1 and "pays 60万 (amount for gold)" in errs[0].message and "50万" in errs[0].message
    assert errs[0].severity == "error"
    # file and line: the rule's amount (the line after `amount:`, where its table starts)
    assert errs[0].file == str(POLICY_PATH) and errs[0].line == line_of(text, "table: {gold: 60万")


def test_rate_of_100_percent_inside_least_is_the_cost_itself() -> None:
    # 第六条 (fictional): "按实际发生费用给予补贴，每项补贴标准为 5 万元" = least(100% of the cost, 5万): no rate to state.
    assert [p for p in lint_file(FIXTURE_PATH) if p.code == "lint.number_not_in_clause"] == []
    # ...but a real rate inside least must be in the clause: 60% is not in 第六条
    problems, text = lint_variant(
        "        - {rate: 100%, of: item.actual_cost}\n", "        - {rate: 60%, of: item.actual_cost}\n", FIXTURE_PATH
    )
    (err,) = problems
    assert (err.code, err.severity) == ("lint.number_not_in_clause", "error")
    assert "rule testing-certification pays 60% but clause 第六条 says no rate" in err.message
    assert err.file == str(FIXTURE_PATH) and err.line == line_of(text, "rate: 60%")


def test_rate_of_100_percent_where_the_clause_states_a_rate() -> None:
    # 第六条第（二）项 says 50%: paying 100% of the premium is not "the cost itself" but a wrong rate.
    problems, text = lint_variant("amount: {rate: 50%, of: item.premium_paid}", "amount: {rate: 100%, of: item.premium_paid}")
    (err,) = [p for p in problems if p.code == "lint.number_not_in_clause"]
    assert "pays 100% but clause 第六条第（二）项 says 50%" in err.message and err.line == line_of(text, "rate: 100%")


def test_cap_and_rate_not_in_the_cited_clause() -> None:
    problems, text = lint_variant(
        "        max: 30万\n        per: [applicant.id, claim.funding_year]\n        says: {zh: 每家企业",
        "        max: 40万\n        per: [applicant.id, claim.funding_year]\n        says: {zh: 每家企业",
    )
    (err,) = [p for p in problems if p.code == "lint.number_not_in_clause"]
    assert "cap pledge-annual-cap is 40万 but clause 第六条第（一）项 says" in err.message and "30万" in err.message
    assert err.line == line_of(text, "max: 40万")
    problems, text = lint_variant("amount: {rate: 50%, of: item.premium_paid}", "amount: {rate: 60%, of: item.premium_paid}")
    (err,) = [p for p in problems if p.code == "lint.number_not_in_clause"]
    assert "pays 60% but clause 第六条第（二）项 says 50%" in err.message


def test_boolean_compared_with_a_string_is_a_load_error() -> None:
    # Lint used to find this (lint.type_mismatch, never applies); since expressions are typed at load it is a
    # load error naming both sides, at the test's line.
    problems, text = lint_variant("      - test: item.lender_is_bank\n", '      - test: item.lender_is_bank == "yes"\n')
    (err,) = [p for p in problems if p.code == "expression"]
    assert "yes/no cannot be compared with text" in err.message
    assert err.file == str(POLICY_PATH) and err.line == line_of(text, 'item.lender_is_bank == "yes"')


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
    problems, text = lint_variant(old, new)
    (never,) = [p for p in problems if p.code == "lint.never_applies"]
    assert never.severity == "error" and "rule navigation-project can never apply" in never.message
    assert never.file == str(POLICY_PATH) and never.line == line_of(text, f"test: {condition}")


def test_satisfiable_condition_is_quiet() -> None:
    old = "    item_type: navigation_project\n    who: {kinds: [enterprise]}\n"
    new = (
        old + '    when:\n      - test: item.project_kind == "navigation" or item.actual_costs > 100\n        says: {zh: 测试, en: test}\n'
    )
    problems, _ = lint_variant(old, new)
    assert [p for p in problems if p.severity == "error"] == []


def test_standing_check_excluding_every_kind_of_a_rule() -> None:
    old = "  - id: five-year-bar\n"
    new = (
        "  - id: no-enterprises\n    cites: 第四条第二款\n    level: applicant\n    category: standing\n    who: [enterprise]\n"
        '    test: applicant.kind != "enterprise"\n    says: {zh: 测试, en: test}\n' + old
    )
    problems, text = lint_variant(old, new)
    never = [p for p in problems if p.code == "lint.never_applies"]
    # pledge, insurance, securitisation, navigation, national title, certification: enterprise-only rules
    assert {p.message.split()[1] for p in never if p.message.startswith("rule")} >= {
        "pledge-loan-interest",
        "patent-insurance",
        "navigation-project",
    }
    assert any(p.code == "lint.kind_unreachable" and "beijing-ip-demonstration-unit admits enterprise" in p.message for p in problems)
    # each with file and line: the rule's `who: {kinds: ...}`, and the check's test
    pledge = next(p for p in never if p.message.startswith("rule pledge-loan-interest can never apply"))
    assert "every applicant kind it admits is refused by a standing check (enterprise by no-enterprises" in pledge.message
    start = text.index("  - id: pledge-loan-interest")
    assert pledge.file == str(POLICY_PATH) and pledge.line == text[: text.index("who:", start)].count("\n") + 1
    check = next(p for p in never if p.message.startswith("check no-enterprises can never pass"))
    assert check.line == line_of(text, 'test: applicant.kind != "enterprise"')


def test_cap_that_can_never_bite() -> None:
    old = "    amount: {fixed: 5万}\n    limits:\n      - id: beijing-demonstration-once\n"
    new = "    amount: {fixed: 5万}\n    caps:\n      - {id: unit-cap, max: 5万, per: [applicant.id]}\n    limits:\n      - id: beijing-demonstration-once\n"
    problems, _text = lint_variant(old, new)
    (w,) = [p for p in problems if p.code == "lint.cap_never_bites"]
    assert w.severity == "warning" and "unit-cap (5万) can never bite" in w.message and "beijing-demonstration-once allows 1" in w.message


def test_computable_clause_nobody_encodes() -> None:
    old = (
        '    text: "支持或奖励资金的管理与使用，应遵循国家有关法律法规和财务管理制度，遵循严格审核、科学评估、合理安排、择优扶持的原则。"\n'
    )
    i = TEXT.index(old)
    j = TEXT.index("computable: false", i)
    text = TEXT[:j] + "computable: true" + TEXT[j + len("computable: false") :]
    problems = lint_source(parse_yaml(text, str(POLICY_PATH)))
    (err,) = [p for p in problems if p.code == "lint.clause_unencoded"]
    assert (
        err.path == ("clauses", "第三条") and err.severity == "error" and err.line == line_of(text, "  第三条:")
    )  # the clause's key, not its `text:`
    assert err.file == str(POLICY_PATH)


def test_clause_encoded_only_by_a_subject_rule() -> None:
    # 第九条第二款 (only the highest award) is encoded by the `subject:` of two rules and by nothing else.
    old = "    subject: {group: award-project, key: [item.project_id], pays: highest, cites: 第九条第二款}\n    documents: [proof]\n  - id: competition-award"
    new = "    subject: {group: award-project, key: [item.project_id], pays: highest}\n    documents: [proof]\n  - id: competition-award"
    problems, text = lint_variant(old, new, FIXTURE_PATH)
    assert problems == []  # competition-award's subject still cites it
    text2 = text.replace("pays: highest, cites: 第九条第二款}", "pays: highest}")
    problems = lint_source(parse_yaml(text2, str(FIXTURE_PATH)))
    (err,) = problems
    assert (err.code, err.path, err.file) == ("lint.clause_unencoded", ("clauses", "第九条第二款"), str(FIXTURE_PATH))
    assert err.line == line_of(text2, "  第九条第二款:")  # the clause's key (it was the line below, its first entry)


def test_subject_citing_no_clause_is_a_load_error() -> None:
    problems, _text = lint_variant(
        "pays: highest, cites: 第九条第二款}\n    documents: [proof]\n  - id: competition-award",
        "pays: highest, cites: 第九条第三款}\n    documents: [proof]\n  - id: competition-award",
        FIXTURE_PATH,
    )
    (err,) = problems
    assert err.code == "unknown_citation" and err.path == ("rules", 8, "subject", "cites") and "第九条第三款" in err.message


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=ROOT, check=False)


def test_cli_exit_codes(tmp_path: Path) -> None:
    ok = _run("lint", "policies/pinggu_2020.yaml", "tests/fixtures/fictional_district.yaml")
    assert ok.returncode == 0 and ok.stdout == "2 file(s): 0 error(s), 0 warning(s)\n"
    assert _run("lint", "--strict", "policies/pinggu_2020.yaml").returncode == 0
    # a copy of the fictional policy (with its text) where one record-keeping fact is no longer marked: a warning
    (tmp_path / "fictional_district.zh.txt").write_text(
        (FIXTURE_PATH.parent / "fictional_district.zh.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    copy = tmp_path / "fictional_district.yaml"
    copy.write_text(FIXTURE.replace("fair: {type: string, record_only: true,", "fair: {type: string,"), encoding="utf-8")
    warn = _run("lint", str(copy))
    line = line_of(FIXTURE, "      fair: {type: string")
    assert warn.returncode == 0 and f"{copy}:{line}:13: warning: item_types.overseas_exhibition.facts.fair: " in warn.stdout
    assert warn.stdout.endswith("1 file(s): 0 error(s), 1 warning(s)\n")
    assert _run("lint", "--strict", str(copy)).returncode == 1
    bad = tmp_path.parent / (tmp_path.name + "_bad.yaml")  # next to nothing: source_text will not resolve -> load error
    bad.write_text(TEXT, encoding="utf-8")
    out = _run("lint", str(bad))
    assert out.returncode == 1 and ": error: " in out.stdout


def test_a_chinese_lint_line_puts_full_width_colons_after_its_chinese_words(tmp_path: Path) -> None:
    # (the officer walk-through, session 35) `…:13: 警告: item_types…fair: 事实…`: an ASCII colon after 警告 (错误) and
    # after the field in Chinese output. The place stays as a compiler writes it (file:line:column, then ": ", which
    # an editor reads); English keeps its colons; --json is as it was (its keys and values carry no colon).
    (tmp_path / "fictional_district.zh.txt").write_text(
        (FIXTURE_PATH.parent / "fictional_district.zh.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    copy = tmp_path / "fictional_district.yaml"
    copy.write_text(FIXTURE.replace("fair: {type: string, record_only: true,", "fair: {type: string,"), encoding="utf-8")
    line = line_of(FIXTURE, "      fair: {type: string")
    zh = _run("--lang", "zh", "lint", str(copy))
    assert zh.returncode == 0
    first = zh.stdout.splitlines()[0]
    assert first.startswith(f"{copy}:{line}:13: 警告：item_types.overseas_exhibition.facts.fair：")
    assert first.endswith(" [lint.fact_unused]") and "警告:" not in zh.stdout and "fair:" not in zh.stdout
    en = _run("--lang", "en", "lint", str(copy))
    assert en.stdout.splitlines()[0].startswith(f"{copy}:{line}:13: warning: item_types.overseas_exhibition.facts.fair: ")
    [said] = json.loads(_run("--lang", "zh", "lint", "--json", str(copy)).stdout)
    assert (said["severity"], said["line"], said["column"], said["path"]) == (
        "warning",
        line,
        13,
        "item_types.overseas_exhibition.facts.fair",
    )


# --- declared fact bounds (minimum / maximum) in small inline policies ------------------------------

MINI = """\
policy:
  id: mini
  version: "1"
  title: {zh: 小办法, en: mini measures}
  in_force: {funding_years: {from: 2024, to: 2024}}
  rounding: {quantum: "0.01", mode: half_up}
clauses:
  第一条: {text: "按费用的 50% 给予补贴，每个项目最高不超过 50 万元；每件补贴 1 万元。", en: "50% of the cost, at most CNY 500,000 per project; CNY 10,000 per piece.", computable: true}
applicant_kinds:
  enterprise: {zh: 企业, en: enterprise}
facts:
  claim:
    funding_year: {type: integer, zh: 申报年度, en: funding year}
  applicant:
    id: {type: string, zh: 编号, en: id}
    kind: {type: enum, values_from: applicant_kinds, zh: 类型, en: kind}
item_facts:
  id: {type: string, zh: 编号, en: id}
  type: {type: item_type, zh: 类型, en: type}
item_types:
  project:
    zh: 项目
    en: project
    facts:
      cost: {type: money, COST_BOUNDS zh: 费用, en: cost}
      pieces: {type: integer, PIECE_BOUNDS zh: 件数, en: pieces}
rules:
  - id: project
    cites: 第一条
    item_type: project
    who: {kinds: [enterprise]}
    when:
      - test: WHEN
        says: {zh: 条件, en: condition}
    amount: AMOUNT
    caps:
      - {id: project-cap, max: 50万, per: item}
"""


def mini(cost: str = "", pieces: str = "", when: str = "item.pieces >= 1", amount: str = "{rate: 50%, of: item.cost}") -> str:
    return (
        MINI.replace("COST_BOUNDS ", cost + (", " if cost else ""))
        .replace("PIECE_BOUNDS ", pieces + (", " if pieces else ""))
        .replace("WHEN", when)
        .replace("AMOUNT", amount)
    )


def lint_mini(text: str) -> list[Problem]:
    """The findings on a mini policy, but the warnings that a condition's number (item.pieces > 100) is not in its
    clause's text: these tests are about bounds and caps (numbers: tests/test_lint_numbers.py)."""
    return [p for p in lint_source(parse_yaml(text, "mini.yaml")) if p.code != "lint.threshold_not_in_clause"]


def test_mini_policy_is_clean() -> None:
    assert lint_mini(mini()) == []
    assert lint_mini(mini(cost="maximum: 120万")) == []  # 50% of 120万 = 60万 > 50万: the cap can bite


@pytest.mark.parametrize(
    ("when", "why"),
    [
        ("item.pieces > 100", "item.pieces > 100: item.pieces is declared at least 10 and at most 50"),
        ("item.pieces == 80", "item.pieces == 80: item.pieces is declared at least 10 and at most 50"),
        (
            "item.pieces >= 12 and item.pieces in (60, 70)",
            "item.pieces >= 12 and item.pieces in (60, 70): item.pieces is declared at least 10 and at most 50",
        ),
        # no declaration: money is never negative
        ("item.pieces >= 12 and item.cost < 0", "item.cost < 0: item.cost is never negative"),
        ("item.pieces < 5", "item.pieces < 5: item.pieces is declared at least 10 and at most 50"),
    ],
)
def test_condition_outside_the_declared_bounds_never_applies(when: str, why: str) -> None:
    text = mini(pieces="minimum: 10, maximum: 50", when=when)
    (err,) = lint_mini(text)
    assert (err.code, err.severity, err.file) == ("lint.never_applies", "error", "mini.yaml")
    assert f"rule project can never apply: condition {when!r} is never true ({why})" in err.message
    assert err.line == line_of(text, f"test: {when}")


@pytest.mark.parametrize(
    "when", ["item.pieces > 40", "item.pieces == 50", "item.pieces > 100 or item.pieces == 1", "item.pieces > 0 and item.cost <= 0"]
)
def test_condition_inside_the_declared_bounds_is_quiet(when: str) -> None:
    assert lint_mini(mini(pieces="minimum: 1, maximum: 50", when=when)) == []


def test_cap_above_what_the_declared_maximum_allows_never_bites() -> None:
    # 50% of a cost declared at most 60万 is at most 30万: the 50万 ceiling can never bite
    text = mini(cost="maximum: 60万")
    (w,) = lint_mini(text)
    assert (w.code, w.severity) == ("lint.cap_never_bites", "warning")
    assert w.message == "cap project-cap (50万) can never bite: one item is paid at most 30万 (item.cost is declared at most 60万)"
    assert w.line == line_of(text, "{id: project-cap, max: 50万")  # the cap's `max` value, on the cap's line
    # rounding up: 50% of 999,999.99 is 499,999.995 -> at most 500,000.00 = the ceiling: still never bites
    (w,) = lint_mini(mini(cost='maximum: "999999.99"'))
    assert "one item is paid at most 50万" in w.message


def test_cap_over_a_per_unit_count_with_a_declared_maximum() -> None:
    # 1万 per piece, pieces declared at most 50: at most 50万 = the ceiling: never bites; at most 60 pieces: it can
    per_piece = "{per_unit: 1万, count: item.pieces}"
    (w,) = lint_mini(mini(cost="record_only: true", pieces="maximum: 50", amount=per_piece))
    assert w.code == "lint.cap_never_bites" and "at most 50万 (item.pieces is declared at most 50)" in w.message
    assert lint_mini(mini(cost="record_only: true", pieces="maximum: 60", amount=per_piece)) == []
    assert lint_mini(mini(cost="record_only: true", amount=per_piece)) == []  # no declared maximum: unbounded


def test_bounds_are_checked_when_the_policy_loads() -> None:
    _, problems = check_source(parse_yaml(mini(cost="maximum: 60万, minimum: 70万"), "mini.yaml"))
    assert [p.message for p in problems] == ["maximum 600000 is below minimum 700000"]
    _, problems = check_source(
        parse_yaml(
            mini().replace("id: {type: string, zh: 编号, en: id}\n    kind", "id: {type: string, maximum: 3, zh: 编号, en: id}\n    kind"),
            "mini.yaml",
        )
    )
    assert [p.message for p in problems] == ["maximum only applies to integer, count, decimal, money and percent facts, not string"]
    _, problems = check_source(parse_yaml(mini(pieces="maximum: 2.5"), "mini.yaml"))
    assert [p.message for p in problems] == ["maximum of an integer fact must be a whole number, not 2.5"]


def test_claims_outside_the_declared_bounds_are_rejected() -> None:
    policy, problems = check_source(parse_yaml(mini(cost="maximum: 60万", pieces="minimum: 1, maximum: 50"), "mini.yaml"))
    assert policy is not None and problems == []

    def claim(cost: str, pieces: int) -> dict[str, object]:
        return {
            "claim_id": "m-1",
            "funding_year": 2024,
            "applicant": {"id": "a", "kind": "enterprise"},
            "items": [{"id": "i", "type": "project", "cost": cost, "pieces": pieces}],
        }

    parse_claim(policy, claim("600000.00", 50))  # at the bounds: fine
    with pytest.raises(ClaimError) as exc:
        parse_claim(policy, claim("600000.01", 0))
    got = sorted((p.path, p.message) for p in exc.value.problems)
    assert got == [
        (("items", 0, "cost"), "600000.01 is outside the range the policy declares for cost"),
        (("items", 0, "pieces"), "0 is outside the range the policy declares for pieces"),
    ]


RT1_PATH = ROOT / "tests" / "fixtures" / "localities" / "RT1.yaml"
RT1_RATE = "rate: {by: applicant.kind, table: {enterprise: 100%, individual: 50%}}"


def test_rate_table_full_standard_and_nothing_are_not_rates_the_clause_must_state() -> None:
    # RT1 第三条 (constructed): "每件资助3,000元……个人申请的，按上述标准的50%资助": enterprises get the standard
    # itself (100%), individuals 50%. 100% beside another rate, and 0% ("nothing", an `otherwise` that an enum
    # table needs), are not rates to look for in the text; before, lint reported "pays 100% but clause 第三条 says 50%".
    problems, _ = lint_variant(RT1_RATE, RT1_RATE, RT1_PATH)
    assert [p for p in problems if p.severity == "error"] == []
    problems, _ = lint_variant(RT1_RATE, "rate: {by: applicant.kind, table: {enterprise: 100%, individual: 50%}, otherwise: 0%}", RT1_PATH)
    assert [p for p in problems if p.severity == "error"] == []


def test_rate_table_rate_not_in_clause_is_still_reported() -> None:
    # 40% is not the text's 50%: reported, and only it (100% beside it stays "the standard itself").
    problems, text = lint_variant(RT1_RATE, "rate: {by: applicant.kind, table: {enterprise: 100%, individual: 40%}}", RT1_PATH)
    errs = [p for p in problems if p.code == "lint.number_not_in_clause"]
    assert len(errs) == 1 and "pays 40% but clause 第三条 says 50%" in errs[0].message
    assert errs[0].path[-1] == "individual" and errs[0].line == line_of(text, "individual: 40%")
    # A table of 100% alone is the base itself too only when the clause states no rate: here it states 50%.
    problems, _ = lint_variant(RT1_RATE, "rate: {by: applicant.kind, table: {enterprise: 100%, individual: 100%}}", RT1_PATH)
    assert any("pays 100% but clause 第三条 says 50%" in p.message for p in problems)


RT4_PATH = ROOT / "tests" / "fixtures" / "localities" / "RT4.yaml"


def test_selection_count_not_in_clause_is_an_error() -> None:
    # RT4 第四条 (constructed): "每年立项不超过5个": a selection of the first 6 was not reported before.
    problems, text = lint_variant("      first: 5\n", "      first: 6\n", RT4_PATH)
    (err,) = [p for p in problems if p.severity == "error"]
    assert err.code == "lint.number_not_in_clause" and err.path == ("rules", 1, "selection", "first")
    assert "takes the first 6 but clause 第四条 mentions no 6" in err.message and err.line == line_of(text, "first: 6")


def test_selection_budget_not_in_clause_is_a_warning() -> None:
    # 第四条 says 120万 a year; RT4 counts the 60% advances against 72万 (note RT4-N1), a number the clause does not
    # state: a warning (round budgets are often set outside the text), not an error.
    problems = lint_file(RT4_PATH)
    assert not [p for p in problems if p.severity == "error"]
    (w,) = [p for p in problems if p.path == ("rules", 1, "selection", "budget")]
    assert w.code == "lint.threshold_not_in_clause" and w.severity == "warning" and "a budget of 72万" in w.message
    problems, _ = lint_variant("      budget: 72万\n", "      budget: 120万\n", RT4_PATH)
    assert not [p for p in problems if p.path == ("rules", 1, "selection", "budget")]


def test_the_branches_of_a_condition_are_bounded_before_they_are_built(monkeypatch: pytest.MonkeyPatch) -> None:
    # `conj8 and (conj8 or ... 8 times)` with conj8 = (claim.a or claim.b) and ... 8 times: 256 branches times a
    # disjunction of 2,048 were built (524k) before the 256-branch bound was tested; ten such checks took lint 34 s
    import ast
    import itertools

    from engine.officer import lint

    conj8 = " and ".join(["(claim.a or claim.b)"] * 8)
    tree = ast.parse(f"{conj8} and ({' or '.join([f'({conj8})'] * 8)})", mode="eval").body
    built: list[int] = []
    product = itertools.product

    def counted(*parts: list[object]) -> object:
        out = list(product(*parts))
        built.append(len(out))
        return iter(out)

    monkeypatch.setattr(lint.itertools, "product", counted)
    branches = lint._dnf(tree)  # conj8's 256, each with the disjunction (8 x 256 = 2,048) as one opaque atom
    assert len(branches) == 256 and all(b[-1] == lint._OPAQUE for b in branches)
    assert max(built) <= lint._MAX_BRANCHES
    assert len(lint._dnf(ast.parse(conj8, mode="eval").body)) == 256  # at the bound: every branch kept


def test_measures_written_in_chinese_only_load_and_lint_says_so_once() -> None:
    """A bureau writing its measures without English: each `en:` left out was a schema error (缺少必填字段 'en').
    Now the Chinese stands for it (an English explanation quotes the Chinese) and lint warns once, at the first."""
    import engine
    from engine.core.i18n import tr

    text = POLICY_PATH.read_text(encoding="utf-8")
    for en in (
        '    en: "(1) Intellectual property pledge financing is supported.',
        ', en: "at most CNY 300,000 of interest subsidy per enterprise per year"}',
    ):
        start = text.index(en)
        end = text.index("\n", start) if en.startswith("    en:") else start + len(en) - 1
        text = text[:start] + text[end + (1 if en.startswith("    en:") else 0) :]
    source = parse_yaml(text, str(POLICY_PATH))
    policy, problems = check_source(source)
    assert problems == [] and policy is not None
    assert policy.clauses["第六条第（一）项"].en == policy.clauses["第六条第（一）项"].text
    [cap] = [c for r in policy.rules for c in r.caps if c.id == "pledge-annual-cap"]
    assert cap.says is not None and cap.says.en == "每家企业每年享受贴息补助最高不超过30万元"
    [warning] = [p for p in lint_source(parse_yaml(text, str(POLICY_PATH))) if p.code == "lint.chinese_only"]
    assert warning.severity == "warning" and warning.path == ("clauses", "第六条第（一）项")
    assert tr(warning.message, "zh").startswith("有 2 处文字只写了中文，本处是第一处（其余：rules[3].caps[0].says）")
    data = engine.loads_json((ROOT / "examples" / "claim_enterprise_2021.json").read_text(encoding="utf-8"))
    english = engine.explain(policy, engine.evaluate(policy, data), lang="en", fmt="text")
    assert "每家企业每年享受贴息补助最高不超过30万元" in english


def test_a_message_override_with_a_misspelt_placeholder_is_warned_with_the_placeholders_it_has() -> None:
    # `{knd}` for `{kind}` passed validate and lint, and every explanation showed "（{knd}）" as written
    from engine.core.i18n import tr

    old = "\nrules:\n  - id: invention-patent-fees"
    overrides = (
        '\ntemplates:\n  zh:\n    applicant_line: "{name}（{knd}）"\n    status.refused: 不予资助{amount}\n    status.granted: 给予支持\n'
    )
    problems, text = lint_variant(old, overrides + old)
    assert codes(problems) == [("lint.override_placeholder", "warning"), ("lint.override_placeholder", "warning")]
    line, status = problems
    assert (line.path, line.line) == (("templates", "zh", "applicant_line"), line_of(text, "applicant_line:"))
    # applicant_line is "{name}（{kind}；{id}）" in the zh catalogue; status.refused has no placeholder
    assert tr(line.message, "zh") == "用语 'applicant_line' 中的 {knd} 不是这条用语的占位符：说明中会原样显示"
    assert tr(line.expected, "zh") == "这条用语的占位符：{id}、{kind}、{name}（拼写须一致）"
    assert tr(status.expected, "zh") == "这条用语没有占位符：请删去花括号及其中的名称"


def test_a_template_field_the_explanation_model_has_not_is_an_error_with_the_field_meant() -> None:
    # `x.claim_idd` and `it.statuss` passed validate and lint, and every explanation showed nothing there
    from engine.core.i18n import tr

    old = "\nrules:\n  - id: invention-patent-fees"
    template = (
        "\ntemplates:\n  zh:\n    explain.md.j2: |\n"
        "      # {{ x.title }}\n"
        "      {{ x.claim_idd }}\n"
        "      {% for it in x.items %}{{ it.statuss }}{% for s in it.sections %}{{ s.head }}{% endfor %}{% endfor %}\n"
        "      {{ x.sign_off.heda }}{{ d.whatever }}{% set y = x %}{{ y.nope }}{% if x.foo is defined %}{% endif %}\n"
        "      {{ x.sign_off.zzz }}\n"
    )
    problems, text = lint_variant(old, template + old)
    assert codes(problems) == [("lint.template_field", "error")] * 5
    where = {(p.path, p.line) for p in problems}
    assert where == {(("templates", "zh", "explain.md.j2"), line_of(text, "explain.md.j2:"))}
    # line 2 of the template: x (Explanation) has claim_id; line 3: an item (ItemExplanation) has status; line 4:
    # x.sign_off (SignOff) has head, and y (set once to x, so an Explanation) has no `nope`. Not said: s.head (a
    # Section has it), d (the decision's JSON, keys optional), `is defined` (asked on purpose). nope and zzz are
    # near no field: no guess.
    assert [tr(p.message, "zh") for p in problems] == [
        "模板 'explain.md.j2' 第 2 行：x 没有 claim_idd 这一项（是否想写 x.claim_id？），每份说明中都会显示为空",
        "模板 'explain.md.j2' 第 3 行：it 没有 statuss 这一项（是否想写 it.status？），每份说明中都会显示为空",
        "模板 'explain.md.j2' 第 4 行：x.sign_off 没有 heda 这一项（是否想写 x.sign_off.head？），每份说明中都会显示为空",
        "模板 'explain.md.j2' 第 4 行：y 没有 nope 这一项，每份说明中都会显示为空",
        "模板 'explain.md.j2' 第 5 行：x.sign_off 没有 zzz 这一项，每份说明中都会显示为空",
    ]
    assert tr(problems[2].expected, "zh") == "x.sign_off 的某一项：head, opinion, reviewer, date, page"
    assert tr(problems[0].message, "en") == (
        "template 'explain.md.j2', line 2: x has no claim_idd (did you mean x.claim_id?); every explanation would show it as nothing"
    )


# Each way a template reads a field, with the field the model has not and the one meant, worked from
# engine/explaining/model.py: an item (ItemExplanation) has `status`, a sign-off (SignOff) `head`, a section's line
# (Line | CapRow) `text`. The first five were said before; the others were not (each read as nothing, unsaid).
@pytest.mark.parametrize(
    ("template", "written", "attr", "guess"),
    [
        ("{{ x.claim_idd | upper }}", "x", "claim_idd", "claim_id"),  # a filter's value
        ("{{ x.total | fill(a=x.claim_idd) }}", "x", "claim_idd", "claim_id"),  # a filter's argument
        ("{% if x.lang %}{% elif x.claim_idd %}{% endif %}", "x", "claim_idd", "claim_id"),
        ("{% for it in x.items if it.statuss %}{% endfor %}", "it", "statuss", "status"),
        ("{{ x.sign_off.heda }}", "x.sign_off", "heda", "head"),
        ("{{ x.items[0].statuss }}", "x.items[0]", "statuss", "status"),
        ("{{ x.items[-1].statuss }}", "x.items[-1]", "statuss", "status"),
        ("{{ x['sign_off']['heda'] }}", "x['sign_off']", "heda", "head"),
        ("{{ x['sign_off'].heda }}", "x['sign_off']", "heda", "head"),
        ("{{ x.items[0].sections[0].lines[0].txt }}", "x.items[0].sections[0].lines[0]", "txt", "text"),
        ("{% for it in x.items | reverse %}{{ it.statuss }}{% endfor %}", "it", "statuss", "status"),
        ("{% for it in x.items | selectattr('referred') %}{{ it.statuss }}{% endfor %}", "it", "statuss", "status"),
        ("{% for it in x.items[1:] %}{{ it.statuss }}{% endfor %}", "it", "statuss", "status"),
        ("{{ (x.items | first).statuss }}", "(x.items | first)", "statuss", "status"),
        # `policy` (labels.policy_info: id, version, title, hash, from, to, cites, assumption) and `m`, the catalogue
        # (explanation.yaml has claim_id, and meta: {colon: "：", ...}), whose keys are fixed too
        ("{{ policy.titel }}", "policy", "titel", "title"),
        ("{{ m.claim_idd }}", "m", "claim_idd", "claim_id"),
        ("{{ m['meta'].colln }}", "m['meta']", "colln", "colon"),
        # a name bound once (`set`, `with`) is what it is bound to, from there on: an item, a sign-off, a section's
        # lines (Line | CapRow, both with `text`)
        ("{% set it = x.items[0] %}{{ it.statuss }}", "it", "statuss", "status"),
        ("{% for a in x.items %}{% set it = a %}{{ it.statuss }}{% endfor %}", "it", "statuss", "status"),
        ("{% if x.lang %}{% set so = x.sign_off %}{% endif %}{{ so.heda }}", "so", "heda", "head"),  # (an if leaks it)
        ("{% set all = x.items %}{% for it in all | reverse %}{{ it.statuss }}{% endfor %}", "it", "statuss", "status"),
        ("{% with ls = x.items[0].sections[0].lines %}{{ ls[0].txt }}{% endwith %}", "ls[0]", "txt", "text"),
    ],
)
def test_a_field_the_model_has_not_is_said_however_the_template_reads_it(template: str, written: str, attr: str, guess: str) -> None:
    from engine.explaining.fields import unknown_fields

    found = list(unknown_fields(template, "explain.md.j2"))
    assert [(f.line, f.written, f.attr, f.guess, f.filter) for f in found] == [(1, written, attr, guess, None)]


# A filter that reads a field of each element by its name: the name is checked against the elements' fields
# (an item's `status`, `n`; a section's `head` by the dotted path `sections.0.head`; a note's (Line) `text`).
@pytest.mark.parametrize(
    ("template", "written", "attr", "guess", "filter_name"),
    [
        ("{{ x.items | map(attribute='statuss') | join }}", "x.items", "statuss", "status", "map"),
        ("{{ x.items | selectattr('statuss') | list }}", "x.items", "statuss", "status", "selectattr"),
        ("{{ x.items | rejectattr('statuss', 'none') | list }}", "x.items", "statuss", "status", "rejectattr"),
        ("{{ x.items | sort(attribute='n,statuss') | list }}", "x.items", "statuss", "status", "sort"),
        ("{{ x.items | groupby('statuss') | list }}", "x.items", "statuss", "status", "groupby"),
        ("{{ x.items | sum('nn') }}", "x.items", "nn", "n", "sum"),
        ("{{ x.items | map(attribute='sections.0.hed') | join }}", "x.items", "sections.0.hed", "sections.0.head", "map"),
        ("{% for it in x.items %}{{ it.notes | join(', ', attribute='txt') }}{% endfor %}", "it.notes", "txt", "text", "join"),
    ],
)
def test_a_field_a_filter_names_is_said_when_no_element_has_it(
    template: str, written: str, attr: str, guess: str, filter_name: str
) -> None:
    from engine.explaining.fields import unknown_fields

    found = list(unknown_fields(template, "explain.md.j2"))
    assert [(f.written, f.attr, f.guess, f.filter) for f in found] == [(written, attr, guess, filter_name)]


def test_a_field_a_filter_names_is_a_lint_error_in_both_languages() -> None:
    from engine.core.i18n import tr

    old = "\nrules:\n  - id: invention-patent-fees"
    template = (
        "\ntemplates:\n  zh:\n    explain.md.j2: |\n      # {{ x.title }}\n      {{ x.items | map(attribute='statuss') | join('、') }}\n"
    )
    problems, _ = lint_variant(old, template + old)
    assert codes(problems) == [("lint.template_field", "error")]
    (p,) = problems
    assert tr(p.message, "zh") == (
        "模板 'explain.md.j2' 第 2 行：过滤器 map 取的 'statuss'，x.items 的各条都没有这一项（是否想写 'status'？），每份说明都取不到它的值"
    )
    assert tr(p.message, "en") == (
        "template 'explain.md.j2', line 2: no element of x.items has 'statuss', which filter map reads (did you mean 'status'?); "
        "no explanation would get its value"
    )
    # ItemExplanation's fields, in their order
    fields = "n, id, type, heading, status, result, clauses, no_trace, sections, referred, why, shaped, notes"
    assert tr(p.expected, "zh") == f"x.items 各条的某一项：{fields}"
    assert tr(p.expected, "en") == f"one of the fields of each element of x.items: {fields}"


def test_a_misspelt_message_of_the_catalogue_lists_the_nearest_keys_not_all() -> None:
    # `m` has some two hundred keys: the ones near `claim_idd` are listed (claim_id first), then "…"
    from engine.core.i18n import tr

    old = "\nrules:\n  - id: invention-patent-fees"
    template = "\ntemplates:\n  zh:\n    explain.md.j2: |\n      {{ m.claim_idd }}{{ x.claim_id }}\n"
    problems, _ = lint_variant(old, template + old)
    assert codes(problems) == [("lint.template_field", "error")]
    assert tr(problems[0].message, "zh") == (
        "模板 'explain.md.j2' 第 1 行：m 没有 claim_idd 这一项（是否想写 m.claim_id？），每份说明中都会显示为空"
    )
    expected = tr(problems[0].expected, "zh")
    assert expected.startswith("m 的某一项：claim_id, ") and expected.endswith(", …") and len(expected) < 200


@pytest.mark.parametrize(
    "template",
    [
        # read rightly, however written
        "{{ x.items[0].sections[0].lines[0].text }}{{ (x.items | last).heading }}{{ x['sign_off']['head'] }}",
        "{{ x.items | map(attribute='sections.0.head') | join }}{{ x.items | selectattr('referred') | list }}",
        "{{ x.items | sort(attribute='n,status') | list }}{{ x.items | map('upper') | join }}",  # map('upper'): a filter's name
        "{{ m.meta.colon }}{{ policy.get('title') }}{{ policy['from'] }}{{ policy.items() | list }}",  # (get, items: dict's)
        "{% set m = d %}{{ m.zz }}{% set policy = 1 %}{{ policy.zz }}",  # names the template sets to what is not the model
        # a name bound twice, read before it is bound, bound in a loop and read after it, in a macro or a `with` and
        # read outside (jinja2 scopes them so: undefined there), a loop's unpacked variables
        "{% set y = x %}{% set y = d %}{{ y.nope }}{{ it.statuss }}{% set it = x.items[0] %}",
        "{% for a in x.items %}{% set it = a.sections %}{% endfor %}{{ it.zz }}",
        "{% macro f() %}{% set q = x %}{% endmacro %}{{ q.nope }}{% with w = x %}{% endwith %}{{ w.nope }}",
        "{{ m.status[x.items[0].status] }}{% for k, v in m.meta.items() %}{{ v.zz }}{% endfor %}",  # computed key, values
        # not known without the decision: a computed index or field name, `d`, a probe, a recursive loop's variable
        "{% set i = 0 %}{{ x.items[i].statuss }}{{ x[lang] }}{{ x.items | map(attribute=lang) | join }}",
        "{{ d.items | map(attribute='statuss') | join }}{{ d['claim_idd'] }}",
        "{% if x.items[0].statuss is defined %}{% endif %}",
        "{% for it in x.items recursive %}{{ it.head }}{{ loop(it.sections) }}{% endfor %}",  # `it` is a Section inside
    ],
)
def test_a_field_the_template_reads_rightly_or_that_cannot_be_known_is_not_said(template: str) -> None:
    from engine.explaining.fields import unknown_fields

    assert list(unknown_fields(template, "explain.md.j2")) == []


def test_the_template_field_check_is_bounded_however_deep_the_template_nests() -> None:
    # a chain of 20,000 fields (40,000 characters, under the 50,000 a template may have) made the check's recursion
    # fail (RecursionError out of lint); a chain of 5,000 filters would have written the chain out again at each link
    from engine.explaining.fields import unknown_fields

    assert [(f.written, f.attr) for f in unknown_fields("{{ x" + ".a" * 20000 + " }}", "explain.md.j2")] == [("x", "a")]
    (found,) = unknown_fields("{{ (x.items" + " | reverse" * 4000 + " | first).statuss }}", "explain.md.j2")
    assert (found.attr, found.guess, len(found.written)) == ("statuss", "status", 80)


def test_the_engine_s_own_templates_read_no_field_the_model_has_not() -> None:
    # the check's guard against false alarms: the engine's templates read the model's fields correctly
    from engine.explaining.fields import unknown_fields
    from engine.explaining.render import TEMPLATE_DIR

    for path in sorted(TEMPLATE_DIR.rglob("*.j2")):
        assert list(unknown_fields(path.read_text(encoding="utf-8"), path.name)) == [], path.name
