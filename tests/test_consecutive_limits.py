"""A limit of funding years in a row (`consecutive: true`): 同一企业连续支持不超过3年, as other districts' measures
routinely say it. Every expectation is worked out by hand from the clause below: an enterprise granted in each of the
three years before (or around) a year is refused that year; a year missed starts the count again."""

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
      id: in-a-row
      version: "1"
      title: {zh: 连续支持办法}
      in_force:
        funding_years: {from: 2018, to: 2030}
      rounding: {quantum: "0.01", mode: half_up}
    clauses:
      第一条:
        text: 对认定的高新技术企业每年奖励1万元，同一企业连续支持不超过3年。
        computable: true
    applicant_kinds:
      enterprise: {zh: 企业}
    facts:
      claim:
        funding_year: {type: integer, zh: 申报年度}
      applicant:
        id: {type: string, zh: 代码}
        kind: {type: enum, values_from: applicant_kinds, zh: 类型}
    item_facts:
      id: {type: string, zh: 编号}
      type: {type: item_type, zh: 类型}
      date: {type: date, zh: 日期}
    item_types:
      high_tech:
        zh: 高新技术企业认定
        facts: {}
    rules:
      - id: high-tech-reward
        cites: 第一条
        item_type: high_tech
        who: {kinds: [enterprise]}
        amount: {fixed: 1万}
        limits:
          - id: three-years-in-a-row
            times: 3
            per: [applicant.id]
            counting: [claim.funding_year]
            consecutive: true
            unit: {zh: 年, en: year(s)}
            says: {zh: 同一企业连续支持不超过3年, en: at most 3 years in a row}
        documents_required: false
    """
)


@pytest.fixture(scope="module")
def policy() -> engine.CompiledPolicy:
    return engine.load_policy_text(POLICY, "in_a_row.yaml")


def claim(year: int, claim_id: str | None = None) -> dict[str, Any]:
    return {
        "claim_id": claim_id or f"HT-{year}",
        "funding_year": year,
        "applicant": {"id": "A1", "kind": "enterprise"},
        "items": [{"id": "h1", "type": "high_tech", "date": f"{year}-06-01"}],
    }


def decided(policy: engine.CompiledPolicy, granted_years: list[int], year: int) -> engine.Decision:
    """The claim of `year`, after claims granted in `granted_years` (their grants as its history)."""
    history: list[engine.Grant] = []
    for y in granted_years:
        earlier = engine.evaluate(policy, claim(y), history)
        assert earlier.items[0].status == "granted", y  # (each earlier year is itself within the limit)
        history += earlier.grants
    return engine.evaluate(policy, claim(year), history)


@pytest.mark.parametrize(
    ("granted", "year", "status", "in_a_row"),
    [
        ([2021, 2022, 2023], 2024, "refused", 3),  # three years in a row before: a fourth is refused
        ([2021, 2023], 2024, "granted", 1),  # 2022 missed: only 2023 is next to 2024
        ([2021, 2022, 2023], 2025, "granted", 0),  # 2024 missed: the count starts again
        ([2022, 2023, 2025], 2024, "refused", 3),  # applied late: 2024 would join 2022-2025, four in a row
        ([2023, 2025], 2024, "granted", 2),  # 2023, 2024, 2025: three in a row, within the limit
        ([], 2024, "granted", 0),
    ],
)
def test_years_in_a_row_are_counted_around_the_years_own(
    policy: engine.CompiledPolicy, granted: list[int], year: int, status: str, in_a_row: int
) -> None:
    d = decided(policy, granted, year)
    item = d.items[0]
    assert (item.status, item.amount) == (status, Decimal("10000.00") if status == "granted" else Decimal("0.00"))
    [step] = [s for s in d.to_dict()["items"][0]["steps"] if s["step"] == "limit"]
    assert (step["consecutive"], step["times"], step["used_before"]) == (True, 3, in_a_row)


def test_the_explanation_says_years_in_a_row(policy: engine.CompiledPolicy) -> None:
    d = decided(policy, [2021, 2022, 2023], 2024)
    zh = explain(policy, d, lang="zh", fmt="text")
    assert (
        "同一企业连续支持不超过3年：连续不超过 3 年，此前已连续 3 年（其中：2021 年度申请 HT-2021 计 1 年；2022 年度申请 HT-2022 "
        "计 1 年；2023 年度申请 HT-2023 计 1 年），已达上限"
    ) in zh
    assert "已达第一条规定的上限（连续不超过 3 年）：同一企业连续支持不超过3年。" in zh
    en = explain(policy, d, lang="en", fmt="text")
    assert (
        "at most 3 years in a row: at most 3 year(s) in a row; in a row before 3 (among them: application HT-2021 for 2021, "
        "1 year(s); application HT-2022 for 2022, 1 year(s); application HT-2023 for 2023, 1 year(s)): the limit is reached"
    ) in en
    # and explained again from its record, as a batch's report and `explain decisions.jsonl:N` do
    again = explain(policy, engine.loads_json(d.to_json()), lang="zh", fmt="text")
    assert again == zh


def test_a_consecutive_limit_counts_the_funding_year_only() -> None:
    with pytest.raises(engine.PolicyError) as caught:
        engine.load_policy_text(POLICY.replace("counting: [claim.funding_year]", "counting: [applicant.id]"), "in_a_row.yaml")
    [p] = caught.value.problems
    assert p.path == ("rules", 0, "limits", 0, "counting")
    assert tr(p.message, "zh") == "连续的次数限制按连续的申报年度计：counting 须为申报年度这一个整数事实"


def test_the_ledgers_check_reads_the_longest_run(policy: engine.CompiledPolicy) -> None:
    """`ledger verify` holds a consecutive limit to its longest run of years, not to its number of years."""
    [limit] = policy.rules[0].limits
    assert (limit.consecutive, limit.times) == (True, 3)
    assert limit.longest({(2021,), (2022,), (2023,), (2024,)}) == 4  # a violation
    assert limit.longest({(2019,), (2020,), (2022,), (2023,), (2024,)}) == 3  # five years, none four in a row
    assert limit.allows({(2021,), (2022,), (2023,)}, (2023,))  # the same year again: counted already
    assert not limit.allows({(2021,), (2022,), (2023,)}, (2024,))


def test_diff_says_a_limit_made_consecutive(policy: engine.CompiledPolicy) -> None:
    from engine.officer.diff import diff_policies

    in_all = engine.load_policy_text(POLICY.replace("        consecutive: true\n", ""), "in_a_row.yaml")
    [change] = diff_policies(in_all, policy)
    assert tr(change.text, "zh") == (
        "high-tech-reward：次数限制 three-years-in-a-row 改为按连续的年计：连续不超过 3 年（原为累计不超过 3 年）"
    )
    # counted in all, the same history refuses 2027 after three years with gaps
    d = decided(in_all, [2021, 2023, 2025], 2027)
    assert d.items[0].status == "refused"


@pytest.mark.parametrize("consecutive", [True, False])
def test_lint_warns_of_a_limit_of_years_the_window_cannot_pass(tmp_path: Any, consecutive: bool) -> None:
    """In force for 2021-2023 only, 连续（或累计）支持不超过3年 can never refuse: three years are all there are. In force
    2018-2030 it can (a fourth year in a row)."""
    from engine.language.source import parse_yaml
    from engine.officer.lint import lint_source

    text = POLICY if consecutive else POLICY.replace("        consecutive: true\n", "")

    def never(window: str) -> list[engine.Problem]:
        edited = text.replace("funding_years: {from: 2018, to: 2030}", window)
        return [p for p in lint_source(parse_yaml(edited, str(tmp_path / "p.yaml"))) if p.code == "lint.limit_never_refuses"]

    assert never("funding_years: {from: 2018, to: 2030}") == []
    assert never("funding_years: {from: 2020, to: 2023}") == []  # four years: a fourth can be refused
    [p] = never("funding_years: {from: 2021, to: 2023}")
    assert (p.severity, p.path) == ("warning", ("rules", 0, "limits", 0, "times"))
    assert tr(p.message, "zh") == (
        "次数限制 three-years-in-a-row（3 个申报年度）永远不会拒绝申请：本办法只适用于 3 个申报年度（2021—2023），"
        "在本文件内任何申请人都不会超出该限制（若后续修订沿用该限制并计入这些年度，可保留）"
    )


def test_a_refused_year_names_only_the_years_of_its_run(policy: engine.CompiledPolicy) -> None:
    """Granted 2019, then 2021-2023 (2020 missed): 2024 would be a fourth year in a row and is refused. The years in a
    row before it are 2021, 2022 and 2023; 2019, apart from them, counted nothing, so the refusal names the three
    applications of the run and not HT-2019."""
    d = decided(policy, [2019, 2021, 2022, 2023], 2024)
    assert d.items[0].status == "refused"
    [step] = [s for s in d.to_dict()["items"][0]["steps"] if s["step"] == "limit"]
    assert step["used_before"] == 3
    assert [(u["claim_id"], u["funding_year"], u["counted"]) for u in step["used_by"]] == [
        ("HT-2021", 2021, 1),
        ("HT-2022", 2022, 1),
        ("HT-2023", 2023, 1),
    ]
