"""Gaps G9, G5 of the red team's notes: caps and limits restricted by `who:` / `when:` (G9).

The policy below is written for these tests (a fictional 小湾区 clause); every amount is worked out by hand
from its clause text in the comments."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import engine

G9_POLICY = textwrap.dedent(
    """\
    policy:
      id: g9
      version: "1"
      title: {zh: 小湾区转让奖励办法（测试用）, en: Little Bay transfer awards (test)}
      in_force:
        funding_years: {from: 2024, to: 2025}
      rounding: {quantum: "0.01", mode: half_up}
    clauses:
      第一条:
        text: 第一条 对企业和高等学校转让发明专利的，按成交额的10%给予奖励；成交额100万元以上的，每项最高8万元。企业每年获得奖励不超过其上年度地方税收贡献，每年不超过2项。
        en: "Art. 1: 10% of the price to enterprises and universities; at most CNY 80,000 an item for prices of CNY 1,000,000 or more; an enterprise gets at most its local tax contribution and 2 items a year."
        computable: true
    applicant_kinds:
      enterprise: {zh: 企业, en: enterprise}
      university: {zh: 高等学校, en: university}
    facts:
      claim:
        funding_year: {type: integer, zh: 申报年度, en: funding year}
        local_tax: {type: money, required: false, zh: 上年度地方税收贡献, en: local tax contribution}
      applicant:
        id: {type: identifier, zh: 代码, en: code}
        kind: {type: enum, values_from: applicant_kinds, zh: 类型, en: kind}
    item_facts:
      id: {type: string, zh: 编号, en: id}
      type: {type: item_type, zh: 类型, en: type}
      date: {type: date, zh: 日期, en: date}
    item_types:
      transfer:
        zh: 转让发明专利
        en: invention patent transferred
        facts:
          price: {type: money, zh: 成交额, en: price}
    shared_caps:
      - id: local-tax-cap
        who: [enterprise]
        max: {of: claim.local_tax, base: {zh: 上年度地方税收贡献, en: local tax contribution}}
        per: [applicant.id, claim.funding_year]
        says: {zh: 企业每年不超过上年度地方税收贡献, en: "an enterprise's year at most its local tax contribution"}
    shared_limits:
      - id: two-a-year
        who: [enterprise]
        times: 2
        per: [applicant.id, claim.funding_year]
        says: {zh: 企业每年不超过2项, en: at most 2 items a year for an enterprise}
    rules:
      - id: transfer
        cites: 第一条
        item_type: transfer
        who: {kinds: [enterprise, university]}
        amount: {rate: 10%, of: item.price}
        caps:
          - {id: big-contract, when: item.price >= 1000000, max: 8万, per: item, says: {zh: 成交额100万元以上的每项最高8万元, en: "at most CNY 80,000 an item of CNY 1,000,000 or more"}}
          - {shared: local-tax-cap}
        limits: [{shared: two-a-year}]
    """
)


@pytest.fixture(scope="module")
def g9(tmp_path_factory: pytest.TempPathFactory) -> engine.CompiledPolicy:
    path = tmp_path_factory.mktemp("g9") / "g9.yaml"
    path.write_text(G9_POLICY, encoding="utf-8")
    return engine.load_policy(path)


def _claim(kind: str, prices: list[int], **claim_facts: Any) -> dict[str, Any]:
    return {
        "claim_id": "C-1",
        "funding_year": 2024,
        **claim_facts,
        "applicant": {"id": "91110000000000001X", "kind": kind},
        "items": [{"id": f"t{k + 1}", "type": "transfer", "date": "2024-03-01", "price": p} for k, p in enumerate(prices)],
    }


def _items(policy: engine.CompiledPolicy, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["item"]: d for d in engine.evaluate(policy, data).to_dict()["items"]}


def _step_ids(d: dict[str, Any], kind: str) -> list[str]:
    return [s.get(kind) for s in d["steps"] if s["step"] == kind]


def test_g9_university_skips_the_enterprise_cap_and_limit(g9: engine.CompiledPolicy) -> None:
    # A university states no local tax: the enterprise-only cap does not apply, so nothing is missing.
    # t1: 10% x 300,000 = 30,000; t2: 10% x 500,000 = 50,000; t3: 10% x 1,200,000 = 120,000, cut by the
    # 100万-and-over cap (its `when` holds) to 80,000. Three items: the enterprise-only limit (2) is skipped.
    items = _items(g9, _claim("university", [300000, 500000, 1200000]))
    assert {k: (d["status"], Decimal(d["amount"])) for k, d in items.items()} == {
        "t1": ("granted", Decimal("30000")),
        "t2": ("granted", Decimal("50000")),
        "t3": ("reduced", Decimal("80000")),
    }
    for d in items.values():
        assert "local-tax-cap" not in _step_ids(d, "cap") and _step_ids(d, "limit") == []
    # the when-cap is no step where its condition is false (300,000 < 1,000,000)
    assert _step_ids(items["t1"], "cap") == []
    assert _step_ids(items["t3"], "cap") == ["big-contract"]


def test_g9_enterprise_is_capped_and_limited(g9: engine.CompiledPolicy) -> None:
    # Local tax 60,000. t1: 30,000 (room 60,000 -> 30,000 left); t2: 50,000 cut to the 30,000 left (reduced);
    # t3: the third item of the year: refused by the 2-a-year limit, and the cap has no room left either
    # (30,000 + 30,000 = 60,000 used).
    items = _items(g9, _claim("enterprise", [300000, 500000, 200000], local_tax="60000"))
    assert (items["t1"]["status"], Decimal(items["t1"]["amount"])) == ("granted", Decimal("30000"))
    assert (items["t2"]["status"], Decimal(items["t2"]["amount"])) == ("reduced", Decimal("30000"))
    assert items["t3"]["status"] == "refused"
    assert [r["check"] for r in items["t3"]["reasons"]] == ["two-a-year", "local-tax-cap"]


def test_g9_enterprise_without_the_ceiling_fact_is_incomplete(g9: engine.CompiledPolicy) -> None:
    # For an enterprise the cap applies: its ceiling fact is needed.
    items = _items(g9, _claim("enterprise", [300000]))
    assert items["t1"]["status"] == "incomplete"
    assert items["t1"]["missing_facts"] == ["claim.local_tax"]


def test_g9_explanation_names_no_skipped_cap(g9: engine.CompiledPolicy) -> None:
    # a university's item: the enterprise-only cap is neither a step nor a line; an enterprise's names it
    decision = engine.evaluate(g9, _claim("university", [300000]))
    for lang, words in (("zh", "企业每年不超过上年度地方税收贡献"), ("en", "an enterprise's year at most")):
        assert words not in engine.explain(g9, decision, lang=lang, fmt="text")
        other = engine.evaluate(g9, _claim("enterprise", [300000, 500000], local_tax="60000"))
        assert words in engine.explain(g9, other, lang=lang, fmt="text")


@pytest.mark.parametrize(
    ("snippet", "replacement", "message", "at"),
    [
        ("who: [enterprise]\n    max:", "who: [enterprize]\n    max:", "unknown applicant kind 'enterprize'", "who: [enterprize]"),
        ("when: item.price >= 1000000", "when: item.price", "`when` must be yes/no", "when: item.price"),
        ("when: item.price >= 1000000", "when: item.pricee >= 1", "pricee", "when: item.pricee"),
        # the rule pays universities only: an enterprise-only cap in it could never apply
        (
            "who: {kinds: [enterprise, university]}",
            "who: {kinds: [university]}",
            "cap local-tax-cap applies to enterprise",
            "{shared: local-tax-cap}",
        ),
    ],
)
def test_g9_compile_errors_are_located(tmp_path: Path, snippet: str, replacement: str, message: str, at: str) -> None:
    assert snippet in G9_POLICY
    text = G9_POLICY.replace(snippet, replacement, 1)
    line = text[: text.index(at)].count("\n") + 1
    path = tmp_path / "g9.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(engine.PolicyError) as err:
        engine.load_policy(path)
    assert message in str(err.value)
    assert f"g9.yaml:{line}" in str(err.value)


def test_g9_lean_code_decides_the_same(g9: engine.CompiledPolicy) -> None:
    # the lean variant (no trace) has its own generated code: same statuses and amounts as the traced one
    for data in (_claim("university", [300000, 500000, 1200000]), _claim("enterprise", [300000, 500000, 200000], local_tax="60000")):
        traced = [(d.status, d.amount) for d in engine.evaluate(g9, data).items]
        lean = [(d.status, d.amount) for d in engine.evaluate(g9, data, trace=False).items]
        assert traced == lean


# --- G5: two-dimensional amounts: `of: {by:, table:}` (and a computed cap's `max: {of: {by:, table:}}`) ---

G5_POLICY = textwrap.dedent(
    """\
    policy:
      id: g5
      version: "1"
      title: {zh: 小湾区标准资助办法（测试用）, en: Little Bay standards awards (test)}
      in_force:
        funding_years: {from: 2024, to: 2025}
      rounding: {quantum: "0.01", mode: half_up}
    clauses:
      第一条:
        text: 第一条 主导制定国际标准、国家标准、行业标准、地方标准的，分别给予50万元、30万元、20万元、10万元资助；参与制定的，按50%给予资助。小型企业每年合计不超过60万元，其他企业每年合计不超过100万元。
        en: "Art. 1: CNY 500,000 / 300,000 / 200,000 / 100,000 for leading an international / national / industry / local standard; 50% for a participant; a year at most CNY 600,000 for a small enterprise, CNY 1,000,000 for others."
        computable: true
    applicant_kinds:
      enterprise: {zh: 企业, en: enterprise}
    facts:
      claim:
        funding_year: {type: integer, zh: 申报年度, en: funding year}
      applicant:
        id: {type: identifier, zh: 代码, en: code}
        kind: {type: enum, values_from: applicant_kinds, zh: 类型, en: kind}
        small: {type: boolean, zh: 是否小型企业, en: small enterprise}
    item_facts:
      id: {type: string, zh: 编号, en: id}
      type: {type: item_type, zh: 类型, en: type}
      date: {type: date, record_only: true, zh: 日期, en: date}
    item_types:
      standard:
        zh: 制定标准
        en: standard drafted
        facts:
          level:
            type: enum
            zh: 标准级别
            en: level of the standard
            values:
              international: {zh: 国际标准, en: international standard}
              national: {zh: 国家标准, en: national standard}
              industry: {zh: 行业标准, en: industry standard}
              local: {zh: 地方标准, en: local standard}
          role:
            type: enum
            zh: 参与角色
            en: role
            values:
              lead: {zh: 主导制定, en: lead drafter}
              participant: {zh: 参与制定, en: participant}
    rules:
      - id: standard
        cites: 第一条
        item_type: standard
        who: {kinds: [enterprise]}
        amount:
          rate: {by: item.role, table: {lead: 100%, participant: 50%}}
          of: {by: item.level, table: {international: 50万, national: 30万, industry: 20万, local: 10万}}
        caps:
          - id: yearly
            max: {of: {by: applicant.small, table: {true: 60万, false: 100万}}}
            per: [applicant.id, claim.funding_year]
            says: {zh: 每年合计封顶, en: yearly ceiling}
    """
)


@pytest.fixture(scope="module")
def g5(tmp_path_factory: pytest.TempPathFactory) -> engine.CompiledPolicy:
    path = tmp_path_factory.mktemp("g5") / "g5.yaml"
    path.write_text(G5_POLICY, encoding="utf-8")
    return engine.load_policy(path)


def _standards(small: bool, *items: tuple[str, str]) -> dict[str, Any]:
    return {
        "claim_id": "S-1",
        "funding_year": 2024,
        "applicant": {"id": "91110000000000002X", "kind": "enterprise", "small": small},
        "items": [
            {"id": f"s{k + 1}", "type": "standard", "date": "2024-03-01", "level": level, "role": role}
            for k, (level, role) in enumerate(items)
        ],
    }


STANDARDS = (("international", "lead"), ("national", "participant"), ("local", "participant"))


def test_g5_amount_by_level_times_rate_by_role(g5: engine.CompiledPolicy) -> None:
    # not small (ceiling 100万 by the table): s1 500,000 × 100% = 500,000; s2 300,000 × 50% = 150,000;
    # s3 100,000 × 50% = 50,000; 700,000 in all, under 1,000,000
    items = _items(g5, _standards(False, *STANDARDS))
    assert {k: (d["status"], Decimal(d["amount"])) for k, d in items.items()} == {
        "s1": ("granted", Decimal("500000")),
        "s2": ("granted", Decimal("150000")),
        "s3": ("granted", Decimal("50000")),
    }
    step = next(s for s in items["s2"]["steps"] if s["step"] == "amount")
    assert step["base"]["value"] == "300000.00" or Decimal(step["base"]["value"]) == Decimal("300000")
    assert step["base_by"]["expression"] == "item.level" and step["base_by"]["value"] == "national"
    assert step["rate_by"]["value"] == "participant" and Decimal(step["rate"]) == Decimal("0.5")


def test_g5_computed_ceiling_from_a_table(g5: engine.CompiledPolicy) -> None:
    # small (ceiling 60万): s1 500,000 (100,000 left); s2 150,000 cut to 100,000 (reduced); s3 50,000: nothing
    # left, refused (cap exhausted)
    items = _items(g5, _standards(True, *STANDARDS))
    assert (items["s1"]["status"], Decimal(items["s1"]["amount"])) == ("granted", Decimal("500000"))
    assert (items["s2"]["status"], Decimal(items["s2"]["amount"])) == ("reduced", Decimal("100000"))
    assert items["s3"]["status"] == "refused"
    assert [r["check"] for r in items["s3"]["reasons"]] == ["yearly"]


def test_g5_explanation_names_the_keys(g5: engine.CompiledPolicy) -> None:
    decision = engine.evaluate(g5, _standards(False, ("national", "participant")))
    zh = engine.explain(g5, decision, lang="zh", fmt="text")
    en = engine.explain(g5, decision, lang="en", fmt="text")
    # 300,000 (national) × 50% (participant) = 150,000
    assert "300,000.00 元（标准级别：国家标准）× 50%（参与角色：参与制定） = 150,000.00" in zh
    assert "300,000.00 (level of the standard: national standard) × 50% (role: participant) = CNY 150,000.00" in en
    # the ceiling from a yes/no table names the key that chose it
    assert "上限 1,000,000.00 元（是否小型企业：否）" in zh
    assert "item.level" not in zh and "item.level" not in en


def test_g5_lean_code_and_record_agree(g5: engine.CompiledPolicy, g9: engine.CompiledPolicy) -> None:
    data = _standards(True, *STANDARDS)
    decision = engine.evaluate(g5, data)
    traced = [(d.status, d.amount) for d in decision.items]
    assert traced == [(d.status, d.amount) for d in engine.evaluate(g5, data, trace=False).items]
    # a decision and its record (its JSON) give the same explanation model, in both languages
    others = [(g9, engine.evaluate(g9, _claim("enterprise", [300000, 1200000], local_tax="60000")))]
    for policy, d in [(g5, decision), (g5, engine.evaluate(g5, _standards(False, *STANDARDS))), *others]:
        for lang in ("zh", "en"):
            assert engine.explanation(policy, d, lang) == engine.explanation(policy, d.to_dict(), lang)


@pytest.mark.parametrize(
    ("snippet", "replacement", "message"),
    [
        ("international: 50万, national", "internationl: 50万, national", "internationl"),
        ("national: 30万, industry: 20万, local: 10万}", "national: 30万, industry: 20万}", "table has no amount for local"),
        ("table: {true: 60万, false: 100万}", "table: {yes: 60万, false: 100万}", "not true/false"),
    ],
)
def test_g5_table_errors_are_located(tmp_path: Path, snippet: str, replacement: str, message: str) -> None:
    assert snippet in G5_POLICY
    text = G5_POLICY.replace(snippet, replacement, 1)
    line = text[: text.index(replacement)].count("\n") + 1
    path = tmp_path / "g5.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(engine.PolicyError) as err:
        engine.load_policy(path)
    assert message in str(err.value)
    assert f"g5.yaml:{line}" in str(err.value)


# --- G7: `subject: {requires_earlier: true}`: the balance presupposes the advance (RT4's navigation balance) ---

RT4 = Path(__file__).resolve().parent / "fixtures" / "localities" / "RT4.yaml"


def _balance_claim(claim_id: str, project: str, *items: dict[str, Any], year: int = 2025) -> dict[str, Any]:
    return {
        "claim_id": claim_id,
        "funding_year": year,
        "applicant": {"id": "91000000MART400001", "name": "北岸示例", "kind": "enterprise", "in_district": True},
        "items": list(items),
    }


BALANCE = {
    "id": "b1",
    "type": "navigation_balance",
    "date": "2025-12-01",
    "project_id": "DH-9",
    "project_budget": "400000.00",
    "approved_date": "2024-06-01",
    "accepted": True,
}
ADVANCE = {
    "id": "n1",
    "type": "navigation_advance",
    "date": "2024-06-01",
    "project_id": "DH-9",
    "project_budget": "400000.00",
    "score": "80.0",
}


def test_g7_balance_without_an_advance_is_refused() -> None:
    rt4 = engine.load_policy(RT4)
    # no advance paid for DH-9: the balance (50% × min(400,000, 600,000) = 200,000 less nothing paid) is refused
    decision = engine.evaluate(rt4, _balance_claim("B-1", "DH-9", BALANCE))
    (b1,) = decision.to_dict()["items"]
    assert (b1["status"], Decimal(b1["amount"])) == ("refused", Decimal("0"))
    (reason,) = b1["reasons"]
    assert reason["check"] == "navigation-balance#subject" and reason["cites"] == "第四条" and reason["category"] == "condition"
    zh = engine.explain(rt4, decision, lang="zh", fmt="text")
    en = engine.explain(rt4, decision, lang="en", fmt="text")
    assert "同一对象此前未获支持：本项以此前的支持为前提" in zh
    assert "the balance presupposes the advance" in en
    # with the advance (60% × 200,000 = 120,000) earlier in the same claim: the balance is 200,000 - 120,000 = 80,000
    items = {d["item"]: d for d in engine.evaluate(rt4, _balance_claim("B-2", "DH-9", ADVANCE, BALANCE)).to_dict()["items"]}
    assert Decimal(items["n1"]["amount"]) == Decimal("120000")
    assert (items["b1"]["status"], Decimal(items["b1"]["amount"])) == ("granted", Decimal("80000"))


def test_diff_reports_who_when_of_table_and_requires_earlier(tmp_path: Path) -> None:
    from engine.officer.diff import diff_policies

    def load(name: str, text: str) -> engine.CompiledPolicy:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return engine.load_policy(path)

    assert "    who: [enterprise]\n    max:" in G9_POLICY
    old = load("old.yaml", G9_POLICY.replace("    who: [enterprise]\n    max:", "    max:", 1))
    new = load("new.yaml", G9_POLICY)
    assert [(c.kind, c.subject, c.old, c.new) for c in diff_policies(old, new)] == [
        ("cap.applies", "local-tax-cap", "always", "for enterprise")
    ]
    old5 = load("old5.yaml", G5_POLICY.replace("national: 30万, industry", "national: 25万, industry", 1))
    (change,) = diff_policies(old5, load("new5.yaml", G5_POLICY))
    assert change.kind == "rate.base" and "national 25万" in (change.old or "") and "national 30万" in (change.new or "")
