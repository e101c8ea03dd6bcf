"""A sum per unit that is not one constant: chosen by a fact (每件2000元，2025年1月1日以后授权的每件1500元) or read from a
dated parameter (每件按当年公布的资助标准). Other districts' measures say both; before, `per_unit` took only a constant,
and the parameter's workaround, `{rate: 100%, of: "item.patents * param(...)"}`, showed "× 100%" and was linted as a
rate the clause does not state. Every expected amount is worked out by hand from the clauses below."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from typing import Any

import pytest

import engine
from engine.core.i18n import tr
from engine.explaining.render import explain

POLICY = textwrap.dedent(
    """\
    policy:
      id: per-unit-forms
      version: "1"
      title: {zh: 专利资助办法（虚构）, en: Patent support measures (fictional)}
      in_force:
        funding_years: {from: 2023, to: 2026}
      rounding: {quantum: "0.01", mode: half_up}
    clauses:
      第一条:
        text: 对企业获得发明专利授权的，每件资助2000元；2025年1月1日以后授权的，每件资助1500元；每家企业每次最多资助10件。
        en: An enterprise granted invention patents receives CNY 2,000 a patent; for patents granted on or after 1 January 2025, CNY 1,500 a patent; at most 10 patents a claim.
        computable: true
      第二条:
        text: 对企业缴纳发明专利年费的，按缴纳之日区知识产权局公布的资助标准每件给予资助。
        en: An enterprise paying invention patent annuities receives, per patent, the standard the district IP office has published in force on the day of payment.
        computable: true
    parameters:
      annuity_standard:
        zh: 年费每件资助标准
        en: annuity support per patent
        type: money
        values:
          - {from: "2023-01-01", value: 900, source: {zh: 区知识产权局公告（2023年第1号）, en: district IP office notice 2023 no. 1}}
          - {from: "2024-01-01", value: 1200, source: {zh: 区知识产权局公告（2024年第1号）, en: district IP office notice 2024 no. 1}}
    applicant_kinds:
      enterprise: {zh: 企业, en: enterprise}
    facts:
      claim:
        funding_year: {type: integer, zh: 申报年度, en: funding year}
      applicant:
        id: {type: string, zh: 代码, en: code}
        kind: {type: enum, values_from: applicant_kinds, zh: 类型, en: kind}
    item_facts:
      id: {type: string, zh: 编号, en: id}
      type: {type: item_type, zh: 类型, en: type}
    item_types:
      invention_grant:
        zh: 发明专利授权资助
        en: invention patent grant support
        facts:
          patents: {type: count, unit: {zh: 件, en: patents}, zh: 授权件数, en: patents granted}
          grant_date: {type: date, zh: 授权公告日, en: date of grant}
      annuity:
        zh: 发明专利年费资助
        en: invention patent annuity support
        facts:
          patents: {type: count, unit: {zh: 件, en: patents}, zh: 缴费件数, en: patents paid for}
          paid_date: {type: date, zh: 缴费日, en: date of payment}
    rules:
      - id: invention-grant
        cites: 第一条
        item_type: invention_grant
        who: {kinds: [enterprise]}
        amount:
          per_unit:
            by: item.grant_date >= date("2025-01-01")
            table: {true: 1500, false: 2000}
            base: {zh: 2025年1月1日以后授权, en: granted on or after 1 January 2025}
          count: item.patents
          max_count: 10
        documents_required: false
      - id: annuity
        cites: 第二条
        item_type: annuity
        who: {kinds: [enterprise]}
        amount:
          per_unit:
            of: param("annuity_standard", item.paid_date)
            base: {zh: 缴费之日的资助标准, en: the standard in force on the day of payment}
          count: item.patents
        documents_required: false
    """
)


@pytest.fixture(scope="module")
def policy() -> engine.CompiledPolicy:
    return engine.load_policy_text(POLICY, "per_unit_forms.yaml")


def claim(*items: dict[str, Any]) -> dict[str, Any]:
    return {
        "claim_id": "PU-1",
        "funding_year": 2025,
        "applicant": {"id": "A1", "kind": "enterprise"},
        "items": [{"id": f"i{n}", **item} for n, item in enumerate(items, 1)],
    }


def grant(patents: int, day: str) -> dict[str, Any]:
    return {"type": "invention_grant", "patents": patents, "grant_date": day}


def annuity(patents: int, day: str) -> dict[str, Any]:
    return {"type": "annuity", "patents": patents, "paid_date": day}


@pytest.mark.parametrize(
    ("item", "amount"),
    [
        (grant(3, "2024-12-31"), "6000.00"),  # 2,000 x 3: granted before 2025
        (grant(3, "2025-01-01"), "4500.00"),  # 1,500 x 3: 1 January 2025 is "以后" (on or after)
        (grant(12, "2025-03-01"), "15000.00"),  # 1,500 x 10: at most 10 patents
        (annuity(4, "2023-06-30"), "3600.00"),  # 900 x 4: the 2023 standard
        (annuity(4, "2024-01-01"), "4800.00"),  # 1,200 x 4: the 2024 standard, from its first day
    ],
)
def test_the_sum_per_unit_is_the_tables_entry_or_the_parameters_value(
    policy: engine.CompiledPolicy, item: dict[str, Any], amount: str
) -> None:
    [decided] = engine.evaluate(policy, claim(item)).items
    assert (decided.status, decided.amount) == ("granted", Decimal(amount))


def test_a_day_before_the_first_standard_is_incomplete_not_a_guess(policy: engine.CompiledPolicy) -> None:
    [decided] = engine.evaluate(policy, claim(annuity(4, "2022-12-31"))).items
    assert decided.status == "incomplete"
    assert decided.missing_facts == ("param.annuity_standard@2022-12-31",)


def test_the_trace_records_the_sum_per_unit_and_what_chose_it(policy: engine.CompiledPolicy) -> None:
    d = engine.evaluate(policy, claim(grant(3, "2025-01-01"), annuity(4, "2024-01-01"))).to_dict()
    by_table = next(s for s in d["items"][0]["steps"] if s["step"] == "amount")
    assert (by_table["form"], by_table["per_unit"], by_table["counted"], by_table["value"]) == ("per_unit", "1500.00", 3, "4500.00")
    assert by_table["per_unit_by"] == {
        "expression": 'item.grant_date >= date("2025-01-01")',
        "value": True,
        "label": {"zh": "2025年1月1日以后授权", "en": "granted on or after 1 January 2025"},
    }
    by_parameter = next(s for s in d["items"][1]["steps"] if s["step"] == "amount")
    assert (by_parameter["per_unit"], by_parameter["counted"], by_parameter["value"]) == ("1200.00", 4, "4800.00")
    assert by_parameter["per_unit_of"]["expression"] == 'param("annuity_standard", item.paid_date)'
    [looked_up] = [s for s in d["items"][1]["steps"] if s["step"] == "parameter"]
    assert (looked_up["parameter"], looked_up["date"], looked_up["value"]) == ("annuity_standard", "2024-01-01", "1200")


def test_the_explanation_says_the_sum_per_unit_and_why(policy: engine.CompiledPolicy) -> None:
    d = engine.evaluate(policy, claim(grant(3, "2025-01-01"), annuity(4, "2024-01-01")))
    zh = explain(policy, d, lang="zh", fmt="text")
    assert "每件 1,500.00 元（2025年1月1日以后授权：是） × 3 = 4,500.00 元（授权件数 3 件，最多计 10 件）" in zh
    assert "年费每件资助标准（2024-01-01）：1,200.00 元（自 2024-01-01 起；来源：区知识产权局公告（2024年第1号））" in zh
    assert "每件 1,200.00 元（缴费之日的资助标准） × 4 = 4,800.00 元（缴费件数 4 件）" in zh
    assert "100%" not in zh
    en = explain(policy, d, lang="en", fmt="text")
    assert "CNY 1,500.00 (granted on or after 1 January 2025: yes) per unit × 3 = CNY 4,500.00" in en
    assert "CNY 1,200.00 (the standard in force on the day of payment) per unit × 4 = CNY 4,800.00" in en
    # and explained again from its record, as a batch's report and `explain decisions.jsonl:N` do
    assert explain(policy, engine.loads_json(d.to_json()), lang="zh", fmt="text") == zh
    assert explain(policy, engine.loads_json(d.to_json()), lang="en", fmt="text") == en


def test_a_computed_sum_per_unit_must_be_money() -> None:
    with pytest.raises(engine.PolicyError) as caught:
        engine.load_policy_text(POLICY.replace('of: param("annuity_standard", item.paid_date)', "of: item.patents"), "p.yaml")
    [p] = caught.value.problems
    assert p.path == ("rules", 1, "amount", "per_unit", "of")
    assert tr(p.message, "zh") == "单位金额 'item.patents' 为计数，不是金额：每个事项都会把它当作元数支付"


def test_matching_gives_the_range_of_the_sums_per_unit(policy: engine.CompiledPolicy) -> None:
    """A profile that does not know the date: at most 2,000 x 3 = 6,000.00 (the table's larger entry), needing the
    date; an unknown payment date leaves the standard, and so the amount, without an upper limit (never made up)."""
    from engine.matching.matcher import ELIGIBLE, NEEDS, match_claim, parse_profile

    profile = claim(
        {"type": "invention_grant", "patents": 3},
        {"type": "annuity", "patents": 4},
        annuity(4, "2023-05-05"),
        grant(3, "2025-05-05"),
    )
    answers = {a.item_id: a for a in match_claim(policy, parse_profile(policy, profile), ()).answers}
    assert (answers["i1"].answer, answers["i1"].low, answers["i1"].high) == (NEEDS, Decimal("0.00"), Decimal("6000.00"))
    assert [n.fact for n in answers["i1"].needs] == ["item.grant_date"]
    assert (answers["i2"].answer, answers["i2"].high) == (NEEDS, None)
    assert (answers["i3"].answer, answers["i3"].low, answers["i3"].high) == (ELIGIBLE, Decimal("3600.00"), Decimal("3600.00"))  # 900 x 4
    assert (answers["i4"].answer, answers["i4"].low) == (ELIGIBLE, Decimal("4500.00"))  # 1,500 x 3


def test_lint_holds_each_entry_to_the_clause_and_not_a_computed_sum(tmp_path: Any) -> None:
    """The table's 1500 and 2000 are in 第一条; 1800 is not. The parameter's values come from notices, not the clause:
    nothing is said of them (the workaround's 100% was an error here)."""
    from engine.language.source import parse_yaml
    from engine.officer.lint import lint_source

    assert lint_source(parse_yaml(POLICY, str(tmp_path / "p.yaml"))) == []
    edited = POLICY.replace("table: {true: 1500, false: 2000}", "table: {true: 1800, false: 2000}")
    [p] = lint_source(parse_yaml(edited, str(tmp_path / "p.yaml")))
    assert (p.code, p.severity, p.path) == ("lint.number_not_in_clause", "error", ("rules", 0, "amount", "per_unit", "table", "true"))


def test_diff_says_an_entry_changed(policy: engine.CompiledPolicy) -> None:
    from engine.officer.diff import diff_policies

    revised = engine.load_policy_text(POLICY.replace("table: {true: 1500, false: 2000}", "table: {true: 1800, false: 2000}"), "p.yaml")
    [change] = diff_policies(policy, revised)
    assert tr(change.text, "zh") == (
        # each entry said as diff says any amount not whole 万 (1500 → 1,500.00 元), no longer lint's 1500元
        # (each per its unit, the count's: 每件)
        'invention-grant：金额 每件 按 item.grant_date >= date("2025-01-01")：true 1,500.00 元、false 2,000.00 元 × item.patents（至多 10）'
        ' → 每件 按 item.grant_date >= date("2025-01-01")：true 1,800.00 元、false 2,000.00 元 × item.patents（至多 10）'
    )


@pytest.mark.parametrize(
    ("written", "slip", "unknown"),
    [
        ('of: param("annuity_standard", item.paid_date)', 'off: param("annuity_standard", item.paid_date)', "'off'"),
        ("table: {true: 1500, false: 2000}", "tabel: {true: 1500, false: 2000}", "'tabel'"),
        ("count: item.patents\n      max_count", "count: item.patents\n      maxcount", "'maxcount'"),
    ],
)
def test_a_misspelt_field_is_named_not_another_forms_error(written: str, slip: str, unknown: str) -> None:
    """A mapping written for `per_unit` with a slip in it was said "the wrong type: a number" (the form of a constant);
    `maxcount` was said with the per-unit form's own `count` and `per_unit` as unknown fields (the fixed form's error).
    The form that knows the fields written is the one said."""
    with pytest.raises(engine.PolicyError) as caught:
        engine.load_policy_text(POLICY.replace(written, slip), "p.yaml")
    [p] = caught.value.problems
    said = tr(p.message, "zh")
    assert f"有不认识的字段 {unknown}：请检查拼写，或删去该字段" in said
    assert "类型不对" not in said and "'count'、" not in said


def test_a_case_failing_on_a_per_unit_amount_says_the_sum_the_count_and_the_parameter(tmp_path: Any) -> None:
    # an officer's wrong expectations of a per-unit amount were told "分歧所在：金额（第一条）：per_unit → 20,000.00 元":
    # the form's code, neither the sum per unit, the count and its ceiling, nor the dated parameter's value and day
    from engine.core.i18n import use_language
    from engine.officer.casefile import format_result, load_case_file, run_case

    (tmp_path / "p.yaml").write_text(POLICY, encoding="utf-8")
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        textwrap.dedent(
            """\
            policy: p.yaml
            defaults:
              claim: {claim_id: C-1, funding_year: 2024, applicant: {id: A, kind: enterprise}}
            cases:
              - name: twelve patents, all paid for
                claim: {items: [{id: g, type: invention_grant, patents: 12, grant_date: "2024-06-01"}]}
                expect: {items: {g: {amount: 24000}}}
              - name: the 2023 standard expected
                claim: {items: [{id: y, type: annuity, patents: 3, paid_date: "2024-03-01"}]}
                expect: {items: {y: {amount: 2700}}}
            """
        ),
        encoding="utf-8",
    )
    grant, annuity = (run_case(c) for c in load_case_file(cases))
    with use_language("zh"):
        said = format_result(grant) + format_result(annuity)
    # 12 patents granted 2024-06-01 (before 2025): 2,000 × min(12, 10) = 20,000.00
    assert (
        "项目 g：分歧所在：金额（第一条）：每件 2,000.00 元（2025年1月1日以后授权：否） × 10 = 20,000.00 元"
        "（授权件数（item.patents） 为 12，至多计 10）（预期 24,000.00 元）"
    ) in said
    # 3 annuities paid 2024-03-01: the standard from 2024-01-01 is 1,200: 1,200 × 3 = 3,600.00 (item.patents by the
    # annuity's own words, 缴费件数: it was 授权件数, the grant's, which heads the column the two types share)
    assert (
        "项目 y：分歧所在：金额（第二条）：每件 1,200.00 元（缴费之日的资助标准） × 3 = 3,600.00 元（缴费件数（item.patents） 为 3）（预期 2,700.00 元）"
        in said
    )
    assert "项目 y：  其中 参数 年费每件资助标准（annuity_standard）在 2024-03-01 的取值 1,200.00 元（自 2024-01-01 起）" in said
    with use_language("en"):
        assert "  with parameter annuity support per patent (annuity_standard) on 2024-03-01: CNY 1,200.00 (in force from 2024-01-01)" in (
            format_result(annuity)
        )


def test_diff_says_a_computed_sum_per_unit_by_its_words_and_the_parameters_values_by_date(policy: engine.CompiledPolicy) -> None:
    """第二条's sum per unit is the standard of the day of payment (annuity_standard: 900 from 2023-01-01, 1,200 from
    2024-01-01); a revision caps the count at 5. The amount was said as `param("annuity_standard", item.paid_date) ×
    item.patents` only: what an officer reads at a glance is what the standard is, and when it changes."""
    from engine.officer.diff import diff_policies

    revised = engine.load_policy_text(
        POLICY.replace(
            "      count: item.patents\n    documents_required: false\n",
            "      count: item.patents\n      max_count: 5\n    documents_required: false\n",
        ),
        "p.yaml",
    )
    [change] = diff_policies(policy, revised)
    each = '每件 缴费之日的资助标准（param("annuity_standard", item.paid_date)） × item.patents'
    values = "（其中 年费每件资助标准（annuity_standard）：自 2023-01-01 起 900.00 元、自 2024-01-01 起 1,200.00 元）"
    assert tr(change.text, "zh") == f"annuity：金额 {each}{values} → {each}（至多 5）{values}"
    assert tr(change.text, "en").endswith(
        'the standard in force on the day of payment (param("annuity_standard", item.paid_date)) per unit × item.patents (at most 5) '
        "(where annuity support per patent (annuity_standard): CNY 900.00 from 2023-01-01, CNY 1,200.00 from 2024-01-01)"
    )
