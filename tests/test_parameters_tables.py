"""Issue 13 points 3, 4, 5 and 9: dated parameters, tables keyed by any scalar, computed caps, labels.

`tests/fixtures/dated_parameters.yaml` is a fictional county's measures (溪山县, clause text in the file):
第一条 20% × loan × the one-year LPR of the loan's date (a dated parameter), at most 20万 per enterprise;
第二条 60% of the premium, 70% for a high-value patent (a rate by a yes/no fact), at most 20万 / 30万 a year
(a ceiling by the same fact); 第三条 10万 / 5万 by an integer level; 第四条 a year's rewards at most 50% of
the local tax contribution (a computed ceiling shared by every rule, across history and earlier items);
第五条 1万 per country (a per-unit amount with its unit word); 第六条 1万 / 3万 / otherwise 5000 by a text fact.

Every expected amount is worked by hand in the comments. LPR values: 3.80% from 2021-12-20, 3.70% from
2022-01-20, 3.65% from 2022-08-22.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import ROOT

import engine
from engine.core.errors import PolicyError
from engine.core.i18n import tr, use_language
from engine.explaining.render import explain, renderer

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "dated_parameters.yaml"
APPLICANT_ID = "91110117MA01BROOK1"


@pytest.fixture(scope="module")
def brookhill() -> engine.CompiledPolicy:
    return engine.load_policy(FIXTURE)


def claim(*items: dict[str, Any], local_tax: str = "1000000", history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "claim_id": "B-1",
        "funding_year": 2022,
        "applicant": {"id": APPLICANT_ID, "kind": "enterprise", "local_tax": local_tax},
        "items": list(items),
    }
    if history is not None:
        out["history"] = history
    return out


def loan(item_id: str = "loan", amount: str = "1000000", day: str = "2022-03-01") -> dict[str, Any]:
    return {"id": item_id, "type": "pledge_loan", "loan_amount": amount, "loan_date": day}


def insurance(item_id: str = "ins", premium: str = "50000", high_value: bool = True) -> dict[str, Any]:
    return {"id": item_id, "type": "ip_insurance", "premium_paid": premium, "high_value": high_value}


def items(policy: engine.CompiledPolicy, data: dict[str, Any], *, trace: bool = True) -> dict[str, dict[str, Any]]:
    return {i["item"]: i for i in engine.evaluate(policy, data, trace=trace).to_dict()["items"]}


def load_error(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        engine.load_policy_text(text, "bad.yaml")
    return info.value


FIXTURE_TEXT = FIXTURE.read_text(encoding="utf-8")


def variant(old: str, new: str) -> str:
    assert FIXTURE_TEXT.count(old) == 1, old
    return FIXTURE_TEXT.replace(old, new)


def problem_at(error: PolicyError, text: str, needle: str) -> Any:
    """The problem whose message contains `needle`; its line must be the line of `text` in the variant."""
    found = [p for p in error.problems if needle in p.message]
    assert found, [p.message for p in error.problems]
    return found[0]


# --- point 4: tables keyed by any scalar -------------------------------------------------------------------

#: The smallest policy with a table keyed by a yes/no fact, its keys quoted as the docs once suggested: on the
#: original code it passed validate and lint, then `evaluate` raised `KeyError: True`.
QUOTED_BOOLEAN_TABLE = """
policy:
  id: quoted-table
  version: "1"
  title: {zh: 测试办法, en: test measures}
  in_force: {funding_years: {from: 2022, to: 2022}}
  rounding: {quantum: "0.01", mode: half_up}
clauses:
  第一条: {text: "高价值专利奖励1000元，其他500元。", en: "A high-value patent 1000, others 500.", computable: true}
applicant_kinds: {enterprise: {zh: 企业, en: enterprise}}
facts:
  claim: {funding_year: {type: integer, zh: 申报年度, en: funding year}}
  applicant:
    id: {type: identifier, zh: 代码, en: code}
    kind: {type: enum, values_from: applicant_kinds, zh: 类型, en: kind}
item_facts:
  id: {type: string, zh: 编号, en: id}
  type: {type: item_type, zh: 类型, en: type}
item_types:
  patent:
    zh: 专利
    en: patent
    facts: {high_value: {type: boolean, zh: 是否高价值专利, en: high-value patent}}
rules:
  - id: patent
    cites: 第一条
    item_type: patent
    who: {kinds: [enterprise]}
    amount: {by: item.high_value, table: {"true": 1000, "false": 500}}
"""


def _patent_claim(high_value: bool) -> dict[str, Any]:
    return {
        "claim_id": "Q-1",
        "funding_year": 2022,
        "applicant": {"id": "91110117MA01QUOTE1", "kind": "enterprise"},
        "items": [{"id": "p", "type": "patent", "high_value": high_value}],
    }


@pytest.mark.parametrize("keys", ['{"true": 1000, "false": 500}', "{true: 1000, false: 500}"])
def test_a_table_keyed_by_a_yes_no_fact_decides_quoted_or_not(keys: str) -> None:
    """Quoted ("true") the original code crashed at evaluate with KeyError: True; unquoted (true) it refused the
    file ("mapping key True is not a string"). Both now pay 1000 for yes and 500 for no."""
    policy = engine.load_policy_text(QUOTED_BOOLEAN_TABLE.replace('{"true": 1000, "false": 500}', keys))
    for high_value, want in ((True, "1000.00"), (False, "500.00")):
        (d,) = engine.evaluate(policy, _patent_claim(high_value)).to_dict()["items"]
        assert (d["status"], d["amount"]) == ("granted", want)


def test_a_yes_no_table_key_of_another_type_is_a_located_load_error() -> None:
    text = QUOTED_BOOLEAN_TABLE.replace('{"true": 1000, "false": 500}', "{yes: 1000, false: 500}")
    error = load_error(text)
    p = problem_at(error, text, "key 'yes' is not true/false")
    assert p.line == text.splitlines().index("    amount: {by: item.high_value, table: {yes: 1000, false: 500}}") + 1
    assert "item.high_value is yes/no" in p.message


def test_a_yes_no_table_must_cover_both_values_or_say_otherwise() -> None:
    missing = QUOTED_BOOLEAN_TABLE.replace('{"true": 1000, "false": 500}', "{true: 1000}")
    assert "table has no amount for false" in str(load_error(missing))
    fallback = QUOTED_BOOLEAN_TABLE.replace('table: {"true": 1000, "false": 500}', "table: {true: 1000}, otherwise: 500")
    (d,) = engine.evaluate(engine.load_policy_text(fallback), _patent_claim(False)).to_dict()["items"]
    assert d["amount"] == "500.00"  # no entry for false: the otherwise amount


def test_an_integer_table_key_that_is_no_number_is_a_located_load_error() -> None:
    text = variant("table: {1: 10万, 2: 5万}", "table: {1: 10万, two: 5万}")
    p = problem_at(load_error(text), text, "key 'two' is not one")
    assert p.line == text.splitlines().index("      table: {1: 10万, two: 5万}") + 1


def test_a_value_the_table_does_not_list_refuses_the_item_never_a_crash(brookhill: engine.CompiledPolicy) -> None:
    """Level 7 has no entry and the table no `otherwise`: refused on a condition naming the value."""
    got = items(brookhill, claim({"id": "m", "type": "model_enterprise", "level": 7}, {"id": "m2", "type": "model_enterprise", "level": 2}))
    assert got["m"]["status"] == "refused"
    assert got["m"]["reasons"][0]["category"] == "condition"
    assert got["m"]["reasons"][0]["says"]["en"] == "the table has no amount for 7"
    assert "7" in got["m"]["reasons"][0]["says"]["zh"]
    assert got["m2"]["amount"] == "50000.00"  # level 2: 5万


def test_a_text_table_pays_otherwise_for_an_unlisted_value(brookhill: engine.CompiledPolicy) -> None:
    got = items(
        brookhill,
        claim({"id": "f1", "type": "trade_fair", "fair_kind": "overseas"}, {"id": "f2", "type": "trade_fair", "fair_kind": "online"}),
    )
    assert got["f1"]["amount"] == "30000.00"  # 境外展会 3万
    assert got["f2"]["amount"] == "5000.00"  # 其他展会 5000


def test_a_rate_chosen_by_a_yes_no_fact(brookhill: engine.CompiledPolicy) -> None:
    got = items(brookhill, claim(insurance("hv", "50000", True), insurance("plain", "50000", False)))
    assert got["hv"]["amount"] == "35000.00"  # 50,000 × 70% = 35,000.00
    assert got["plain"]["amount"] == "30000.00"  # 50,000 × 60% = 30,000.00
    step = next(s for s in got["hv"]["steps"] if s["step"] == "amount")
    assert step["rate_by"] == {"expression": "item.high_value", "value": True}


# --- point 3: dated parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "amount", "rate", "since"),
    [
        ("2022-03-01", "7400.00", "3.70%", "2022-01-20"),  # 1,000,000 × 3.70% × 20% = 7,400.00
        ("2022-01-19", "7600.00", "3.80%", "2021-12-20"),  # the day before the change: 1,000,000 × 3.80% × 20% = 7,600.00
        ("2022-08-22", "7300.00", "3.65%", "2022-08-22"),  # the first day of 3.65%: 1,000,000 × 3.65% × 20% = 7,300.00
    ],
)
def test_a_dated_parameter_is_looked_up_by_the_items_date(
    brookhill: engine.CompiledPolicy, day: str, amount: str, rate: str, since: str
) -> None:
    got = items(brookhill, claim(loan(day=day)))["loan"]
    assert (got["status"], got["amount"]) == ("granted", amount)
    lookups = {s["parameter"]: s for s in got["steps"] if s["step"] == "parameter"}
    assert set(lookups) == {"min_loan", "lpr_1y"}  # the condition's look-up and the amount's, each recorded
    lookup = lookups["lpr_1y"]
    assert (lookup["date"], lookup["shown"], lookup["in_force_from"]) == (day, rate, since)
    assert lookup["source"]["zh"].startswith("全国银行间同业拆借中心公告")


def test_a_date_before_the_first_value_makes_the_item_incomplete_naming_parameter_and_date(brookhill: engine.CompiledPolicy) -> None:
    got = items(brookhill, claim(loan(day="2019-01-01")))["loan"]
    assert got["status"] == "incomplete"
    assert got["missing_facts"] == ["param.min_loan@2019-01-01", "param.lpr_1y@2019-01-01"]  # the condition's, the amount's
    zh = explain(brookhill, engine.evaluate(brookhill, claim(loan(day="2019-01-01"))), "zh", "text")
    assert "一年期贷款市场报价利率（LPR）：2019-01-01 无有效取值（首个取值自 2021-12-20 起）" in zh
    assert "一年期贷款市场报价利率（LPR）在 2019-01-01 的取值（本办法未载明）" in zh


def test_the_explanation_shows_value_date_and_source(brookhill: engine.CompiledPolicy) -> None:
    decision = engine.evaluate(brookhill, claim(loan()))
    zh = explain(brookhill, decision, "zh", "text")
    en = explain(brookhill, decision, "en", "text")
    assert "一年期贷款市场报价利率（LPR）（2022-03-01）：3.70%（自 2022-01-20 起；来源：全国银行间同业拆借中心公告（2022年1月20日））" in zh
    assert "one-year loan prime rate (LPR) on 2022-03-01: 3.70% (in force from 2022-01-20; source: CFETS announcement of 20 Jan 2022)" in en
    # point 9: the computed base is shown by its label, never as the expression
    assert "贷款金额按一年期LPR计算的一年利息 37,000.00 元 × 20% = 7,400.00 元" in zh
    assert "param(" not in zh and "item.loan_amount" not in en


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ('param("lpr_1y", item.loan_date)', 'param("lpr_1", item.loan_date)', "unknown parameter 'lpr_1'"),
        ('param("lpr_1y", item.loan_date)', "param(item.loan_date)", "param() takes 2 arguments, 1 given"),
        ('{from: "2022-08-22", value: 3.65%', '{from: "2022-01-01", value: 3.65%', "is not after the previous value's date 2022-01-20"),
        ("value: 3.70%", "value: 3.70", "3.70 is not a percentage"),
    ],
)
def test_parameter_mistakes_are_located_load_errors(old: str, new: str, needle: str) -> None:
    text = variant(old, new)
    p = problem_at(load_error(text), text, needle)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if new in t)
    assert p.line == line
    if "unknown parameter" in needle:
        assert "did you mean 'lpr_1y'" in (p.expected or "")


def test_a_money_parameter_in_a_condition(brookhill: engine.CompiledPolicy) -> None:
    """The smallest loan is 10万 from 2021-01-01 and 50万 from 2022-07-01: a loan of 300,000 made on 2022-06-30
    passes (300,000 >= 100,000: 300,000 × 3.70% × 20% = 2,220.00); made on 2022-07-01 it is refused."""
    got = items(brookhill, claim(loan("before", "300000", "2022-06-30"), loan("after", "300000", "2022-07-01")))
    assert (got["before"]["status"], got["before"]["amount"]) == ("granted", "2220.00")
    assert got["after"]["status"] == "refused" and got["after"]["reasons"][0]["check"] == "pledge-loan#when1"
    zh = explain(brookhill, engine.evaluate(brookhill, claim(loan("after", "300000", "2022-07-01"))), "zh", "text")
    assert "贴息贷款最低金额（2022-07-01）：500,000.00 元（自 2022-07-01 起；来源：县金融办通知（2022年第3号））" in zh


# --- point 5: computed caps -----------------------------------------------------------------------------------


def test_a_computed_ceiling_applies_across_history_and_earlier_items(brookhill: engine.CompiledPolicy) -> None:
    """local tax 100,000 -> ceiling 50% = 50,000 for the year; history used 40,000 of it in 2022; the loan asks
    7,400 (fits: 10,000 left) and then the insurance asks 35,000 with 2,600 left -> reduced to 2,600."""
    history = [
        {
            "claim_id": "H-1",
            "item_id": "h1",
            "rule": "model-enterprise",
            "applicant_id": APPLICANT_ID,
            "funding_year": 2022,
            "amount": "40000",
            "consumes": [{"cap": "tax-contribution-cap", "scope": [APPLICANT_ID, 2022], "amount": "40000"}],
        }
    ]
    got = items(brookhill, claim(loan(), insurance(), local_tax="100000", history=history))
    assert (got["loan"]["status"], got["loan"]["amount"]) == ("granted", "7400.00")
    assert (got["ins"]["status"], got["ins"]["amount"]) == ("reduced", "2600.00")  # 50,000 - 40,000 - 7,400
    cap = next(s for s in got["ins"]["steps"] if s["step"] == "cap" and s["cap"] == "tax-contribution-cap")
    assert (cap["ceiling"], cap["used_before"], cap["remaining_before"]) == ("50000.00", "47400.00", "2600.00")
    assert cap["ceiling_from"]["base"]["value"] == "100000.00" and cap["ceiling_from"]["rate"] == "0.5"
    zh = explain(brookhill, engine.evaluate(brookhill, claim(loan(), insurance(), local_tax="100000", history=history)), "zh", "text")
    assert "上限 50,000.00 元（当年地方税收贡献 100,000.00 元 × 50%）" in zh


def test_a_ceiling_chosen_by_a_yes_no_fact(brookhill: engine.CompiledPolicy) -> None:
    """premium 400,000: a high-value patent 400,000 × 70% = 280,000 under a 30万 ceiling (paid in full);
    otherwise 400,000 × 60% = 240,000 cut to the 20万 ceiling. (Local tax 10,000,000: its ceiling never bites.)"""
    hv = items(brookhill, claim(insurance(premium="400000", high_value=True), local_tax="10000000"))["ins"]
    plain = items(brookhill, claim(insurance(premium="400000", high_value=False), local_tax="10000000"))["ins"]
    assert (hv["status"], hv["amount"]) == ("granted", "280000.00")
    assert (plain["status"], plain["amount"]) == ("reduced", "200000.00")


def test_a_computed_ceiling_missing_its_fact_makes_the_item_incomplete(brookhill: engine.CompiledPolicy) -> None:
    data = claim(loan())
    del data["applicant"]["local_tax"]
    policy = brookhill
    got = engine.evaluate(policy, engine.parse_claim(policy, data, partial=True)).to_dict()["items"][0]
    assert got["status"] == "incomplete" and got["missing_facts"] == ["applicant.local_tax"]


# --- point 9: labels -------------------------------------------------------------------------------------------


def test_per_unit_amounts_name_their_unit_and_caps_without_says_get_a_label(brookhill: engine.CompiledPolicy) -> None:
    decision = engine.evaluate(brookhill, claim({"id": "tm", "type": "overseas_trademark", "countries": 3}, loan()))
    zh = explain(brookhill, decision, "zh", "text")
    en = explain(brookhill, decision, "en", "text")
    assert "每个国家 10,000.00 元 × 3 = 30,000.00 元" in zh  # 1万 × 3 countries = 30,000.00 (yuan and fen, as the product)
    assert "每项" not in zh
    assert "CNY 10,000.00 per country × 3 = CNY 30,000.00" in en
    # the pledge-lifetime cap has no `says`: its label comes from its scope, never empty
    assert "按统一社会信用代码累计封顶：上限 200,000.00 元" in zh
    assert "cap per unified social credit code: ceiling CNY 200,000.00" in en
    assert "\n     ：" not in zh and "\n     : " not in en


def test_a_limit_without_says_gets_a_label(brookhill: engine.CompiledPolicy) -> None:
    fairs = [{"id": f"f{n}", "type": "trade_fair", "fair_kind": "domestic"} for n in (1, 2, 3)]
    decision = engine.evaluate(brookhill, claim(*fairs))
    assert [i.status for i in decision.items] == ["granted", "granted", "refused"]  # at most 2 a year
    assert decision.items[2].reasons[0].says.zh == "按统一社会信用代码、申报年度限2次"
    assert "at most 2 times per unified social credit code, funding year" in explain(brookhill, decision, "en", "text")


# --- one trace, every writer ---------------------------------------------------------------------------------


def _round(policy: engine.CompiledPolicy) -> list[engine.Decision]:
    history = [
        {
            "claim_id": "H-1",
            "item_id": "h1",
            "rule": "pledge-loan",
            "applicant_id": APPLICANT_ID,
            "funding_year": 2022,
            "amount": "48000",
            "consumes": [{"cap": "tax-contribution-cap", "scope": [APPLICANT_ID, 2022], "amount": "48000"}],
        }
    ]
    claims = [
        claim(loan(), insurance(), {"id": "m", "type": "model_enterprise", "level": 7}, local_tax="100000"),
        claim(
            loan(day="2019-01-01"),
            {"id": "tm", "type": "overseas_trademark", "countries": 3},
            {"id": "f", "type": "trade_fair", "fair_kind": "x"},
        ),
        claim(insurance(high_value=False, premium="400000"), loan(day="2022-08-22"), local_tax="100000", history=history),
    ]
    return [engine.evaluate(policy, c) for c in claims]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_decision_and_its_record_explain_identically(brookhill: engine.CompiledPolicy, lang: str) -> None:
    """A decision and its record (engine.explaining.recorded, the same builder) give the same text; no format shows a
    raw expression. (Before the port onto the one explanation model this held the fast text equal to explain.txt.j2.)"""
    r = renderer(brookhill, lang)
    assert r.text_explainer() is not None
    for d in _round(brookhill):
        assert explain(brookhill, d, lang, "text") == r.explain(d.to_dict(), "text")
        for fmt in ("md", "html"):
            assert "item.loan_amount" not in explain(brookhill, d, lang, fmt)


def test_decisions_validate_and_no_trace_is_the_same_decision(brookhill: engine.CompiledPolicy) -> None:
    schema = json.loads((ROOT / "schemas" / "decision.schema.json").read_text(encoding="utf-8"))
    for d in _round(brookhill):
        data = json.loads(d.to_json())
        jsonschema.validate(data, schema)
        lean = engine.evaluate_claim(brookhill, d.claim, trace=False).to_dict()
        for a, b in zip(data["items"], lean["items"], strict=True):
            assert {k: v for k, v in a.items() if k != "steps"} == {k: v for k, v in b.items() if k != "steps"}


# --- officer tools: the walk has sites for parameters and computed ceilings ---------------------------------


def test_the_walk_visits_parameters_and_computed_ceilings(brookhill: engine.CompiledPolicy) -> None:
    from engine.language.walk import PolicyVisitor, walk

    seen: list[tuple[str, Any]] = []

    class Seen(PolicyVisitor):
        def visit_parameter(self, parameter: Any, at: Any) -> None:
            seen.append(("parameter", at.path))

        def visit_ceiling(self, form: Any, cap: Any, at: Any) -> None:
            seen.append((cap.id, at.path))

    walk(brookhill, Seen())
    assert seen[0] == ("parameter", ("parameters", "lpr_1y"))
    assert ("insurance-annual-cap", ("rules", 1, "caps", 0, "max")) in seen
    assert ("tax-contribution-cap", ("shared_caps", 0, "max")) in seen


def test_lint_reads_tables_ceilings_and_parameters() -> None:
    from engine.language.source import parse_yaml
    from engine.officer.lint import lint_file, lint_source

    assert lint_file(FIXTURE) == []  # no cap_zero for a computed ceiling, every fact read (rate tables, ceilings)
    text = variant("max: {rate: 50%, of: applicant.local_tax", "max: {rate: 40%, of: applicant.local_tax")
    (p,) = lint_source(parse_yaml(text, str(FIXTURE)))
    assert p.code == "lint.number_not_in_clause" and "takes 40%" in p.message
    assert p.line == next(n for n, t in enumerate(text.splitlines(), 1) if "rate: 40%" in t)


def test_diff_reports_parameter_changes() -> None:
    from engine.officer.diff import diff_policies

    old = engine.load_policy(FIXTURE)
    added = '\n      - {from: "2022-09-20", value: 3.65%, source: {zh: 公告, en: notice}}'
    text = variant("value: 3.70%, source", "value: 3.75%, source").replace(
        "CFETS announcement of 22 Aug 2022}}", "CFETS announcement of 22 Aug 2022}}" + added
    )
    new = engine.load_policy_text(text, str(FIXTURE))
    changes = [c for c in diff_policies(old, new) if c.kind.startswith("parameter")]
    assert [(c.subject, c.old, c.new) for c in changes] == [("lpr_1y", "3.70%", "3.75%"), ("lpr_1y", None, "3.65%")]
    assert changes[0].text == (
        "parameter lpr_1y (one-year loan prime rate (LPR)) from 2022-01-20: 3.70% → 3.75% (looked up by rules pledge-loan, pledge-loan-actual-rate)"
    )
    # a money parameter's values as an officer reads an amount (they were the written 10万 / 50万, no 元)
    dearer = engine.load_policy_text(FIXTURE_TEXT.replace("value: 50万, source", "value: 60万, source"), str(FIXTURE))
    [change] = [c for c in diff_policies(old, dearer) if c.kind.startswith("parameter")]
    with use_language("zh"):
        # (and the rule whose condition looks it up)
        assert (
            str(tr(change.text))
            == "参数 min_loan（贴息贷款最低金额）自 2022-07-01 起：500,000.00 元 → 600,000.00 元（查用它的规则：pledge-loan）"
        )


def test_coverage_counts_a_table_refusal_only_where_one_can_happen(brookhill: engine.CompiledPolicy) -> None:
    from engine.officer.coverage import branches_of, hits

    keys = {b.key for b in branches_of(brookhill)}
    assert "refused:model-enterprise#table" in keys  # an integer table without otherwise
    assert "refused:ip-insurance#table" not in keys  # yes/no tables covering true and false
    assert "refused:trade-fair#table" not in keys  # a text table with otherwise
    decision = engine.evaluate(brookhill, claim({"id": "m", "type": "model_enterprise", "level": 7})).to_dict()
    assert "refused:model-enterprise#table" in hits(decision)


def test_the_called_variant_decides_the_same() -> None:
    """The generated functions with expression bodies inlined and the variant calling the expression functions
    (what an inlined function hands an item to on a runtime error) agree on look-ups, tables and ceilings."""
    from engine.deciding import evaluator

    inlined = [d.to_json() for d in _round(engine.load_policy(FIXTURE))]
    policy = engine.load_policy(FIXTURE)
    object.__setattr__(policy, "_evaluator_context", evaluator._Context(policy, inline=False))
    assert [d.to_json() for d in _round(policy)] == inlined


def test_a_ceiling_that_is_a_fact_itself() -> None:
    """`max: {of: applicant.local_tax}`: local tax 40,000 is the year's ceiling; the loan's 7,400 fits, the
    insurance's 35,000 is cut to 40,000 - 7,400 = 32,600.00."""
    text = variant("max: {rate: 50%, of: applicant.local_tax,", "max: {of: applicant.local_tax,")
    policy = engine.load_policy_text(text, str(FIXTURE))
    decision = engine.evaluate(policy, claim(loan(), insurance(), local_tax="40000"))
    assert [(i.status, str(i.amount)) for i in decision.items] == [("granted", "7400.00"), ("reduced", "32600.00")]
    assert "上限 40,000.00 元（即当年地方税收贡献）" in explain(policy, decision, "zh", "text")
    assert "ceiling CNY 40,000.00 (= local tax contribution of the year)" in explain(policy, decision, "en", "text")
    r = renderer(policy, "zh")
    assert explain(policy, decision, "zh", "text") == r.explain(decision.to_dict(), "text")


def test_an_applicant_check_looks_a_parameter_up_and_the_standing_shows_it() -> None:
    """An applicant-level check: local tax at least the threshold in force on the application date (10万 from
    2021-01-01, 50万 from 2022-07-01). Local tax 200,000 on 2022-06-30 passes; on 2022-07-01 it is refused."""
    text = variant(
        "    funding_year: {type: integer, zh: 申报年度, en: funding year}\n",
        "    funding_year: {type: integer, zh: 申报年度, en: funding year}\n"
        "    application_date: {type: date, zh: 申请日期, en: date of application}\n",
    ).replace(
        "shared_caps:\n",
        "checks:\n"
        "  - id: tax-threshold\n"
        "    cites: 第四条\n"
        "    level: applicant\n"
        "    category: standing\n"
        '    test: applicant.local_tax >= param("min_loan", claim.application_date)\n'
        "    says: {zh: 地方税收贡献须达到规定金额, en: the local tax contribution must reach the threshold}\n\n"
        "shared_caps:\n",
        1,
    )
    policy = engine.load_policy_text(text, str(FIXTURE))
    for day, status in (("2022-06-30", "granted"), ("2022-07-01", "refused")):
        data = claim(loan(), local_tax="200000")
        data["application_date"] = day
        decision = engine.evaluate(policy, data)
        assert decision.items[0].status == status, day
        steps = decision.to_dict()["standing"]["steps"]
        (lookup,) = [s for s in steps if s["step"] == "parameter"]
        assert (lookup["parameter"], lookup["date"]) == ("min_loan", day)
        zh = explain(policy, decision, "zh", "text")
        standing = zh.split("\n3. ")[0]  # the applicant's standing section, before the items
        assert f"贴息贷款最低金额（{day}）：" in standing
        assert zh == renderer(policy, "zh").explain(decision.to_dict(), "text")


def test_a_ceiling_of_100_percent_is_the_base_itself_in_both_writers() -> None:
    """`rate: 100%` is the fraction 1, the same as a bare `of:`: both writers say the ceiling is the base."""
    text = variant("max: {rate: 50%, of: applicant.local_tax,", "max: {rate: 100%, of: applicant.local_tax,").replace(
        "不超过其当年地方税收贡献的50%", "不超过其当年地方税收贡献的100%"
    )
    policy = engine.load_policy_text(text, str(FIXTURE))
    decision = engine.evaluate(policy, claim(loan(), local_tax="40000"))
    zh = explain(policy, decision, "zh", "text")
    assert "上限 40,000.00 元（即当年地方税收贡献）" in zh
    assert zh == renderer(policy, "zh").explain(decision.to_dict(), "text")


@pytest.mark.parametrize(
    ("actual", "amount"),
    [
        ("3.50%", "7000.00"),  # 3.50% < LPR 3.65% (from 2022-08-22): 1,000,000 × 3.50% = 35,000.00, × 20% = 7,000.00
        ("4.35%", "7300.00"),  # the LPR is lower: 1,000,000 × 3.65% = 36,500.00, × 20% = 7,300.00
    ],
)
def test_ot03_the_lower_of_the_actual_rate_and_the_lpr(brookhill: engine.CompiledPolicy, actual: str, amount: str) -> None:
    item = {"id": "a", "type": "pledge_loan_actual", "loan_amount": "1000000", "actual_rate": actual, "lpr_date": "2022-12-20"}
    got = items(brookhill, claim(item))["a"]
    assert (got["status"], got["amount"]) == ("granted", amount)
    (lookup,) = [s for s in got["steps"] if s["step"] == "parameter"]
    assert (lookup["date"], lookup["shown"]) == ("2022-12-20", "3.65%")


def test_param_needs_a_date_and_has_its_parameters_type() -> None:
    text = variant('param("lpr_1y", item.loan_date)', 'param("lpr_1y", item.loan_amount)')
    p = problem_at(load_error(text), text, "param() needs a date here")
    assert p.line == next(n for n, t in enumerate(text.splitlines(), 1) if 'param("lpr_1y", item.loan_amount)' in t)
    from engine.language.expressions import compile_expression

    policy = engine.load_policy(FIXTURE)
    e = compile_expression(
        'param("lpr_1y", item.d)', lambda _n, _f: None, fact_types=lambda _n, _f: ("date",), parameters=policy.parameters
    )
    assert e.type == "percent"
    m = compile_expression(
        'param("min_loan", item.d)', lambda _n, _f: None, fact_types=lambda _n, _f: ("date",), parameters=policy.parameters
    )
    assert m.type == "money"


def test_a_per_unit_amount_takes_its_unit_from_the_count_fact(brookhill: engine.CompiledPolicy) -> None:
    """第八条: 2万 per country; 3 countries of grant: 20,000 × 3 = 60,000.00. The count fact says 个国家."""
    decision = engine.evaluate(brookhill, claim({"id": "p", "type": "overseas_patent", "grant_countries": 3}))
    assert str(decision.items[0].amount) == "60000.00"
    zh, en = explain(brookhill, decision, "zh", "text"), explain(brookhill, decision, "en", "text")
    assert "每个国家 20,000.00 元 × 3 = 60,000.00 元" in zh and "每项" not in zh
    assert "CNY 20,000.00 per unit × 3 = CNY 60,000.00" in en
    assert zh == renderer(brookhill, "zh").explain(decision.to_dict(), "text")
    assert en == renderer(brookhill, "en").explain(decision.to_dict(), "text")


def test_a_parameter_starting_after_the_windows_first_day_is_warned() -> None:
    """An officer's standard from 2022-01-01, the funding years from 2021: a patent granted 2021-12-20 found no value
    and was held incomplete ("材料不全"), the policy's gap said as the applicant's. lint says so at the first value."""
    from engine.language.source import parse_yaml
    from engine.officer.lint import lint_source

    text = FIXTURE_TEXT.replace("funding_years: {from: 2022, to: 2024}", "funding_years: {from: 2021, to: 2024}")
    late = [p for p in lint_source(parse_yaml(text, str(FIXTURE))) if p.code == "lint.parameter_starts_late"]
    # lpr_1y's first value is from 2021-12-20, min_loan's from 2021-01-01 (the window's first day: no gap)
    assert [(p.severity, p.path) for p in late] == [("warning", ("parameters", "lpr_1y", "values", 0, "from"))]
    assert tr(late[0].message, "zh").startswith("参数 lpr_1y 的第一个取值自 2021-12-20 起，而本办法的申报年度从 2021 年起")
    assert not [p for p in lint_source(parse_yaml(FIXTURE_TEXT, str(FIXTURE))) if p.code == "lint.parameter_starts_late"]


def test_coverage_has_a_branch_per_value_of_a_dated_parameter_the_amount_looks_up(brookhill: engine.CompiledPolicy) -> None:
    """第一条's amount looks up lpr_1y (3.80% from 2021-12-20, 3.70% from 2022-01-20, 3.65% from 2022-08-22): one branch
    per value, hit by an item computed with it. A loan made on 2022-03-01 is computed with 3.70% (7,400.00), and covers
    that period only. min_loan (two values) is looked up by a condition, not the amount: no branch of its own."""
    from engine.officer.coverage import branches_of, hits

    branches = {b.key: b for b in branches_of(brookhill)}
    lpr = [k for k in branches if k.startswith("pledge-loan#param:")]
    assert lpr == ["pledge-loan#param:lpr_1y@2021-12-20", "pledge-loan#param:lpr_1y@2022-01-20", "pledge-loan#param:lpr_1y@2022-08-22"]
    assert not [k for k in branches if "min_loan" in k]
    said = branches["pledge-loan#param:lpr_1y@2022-01-20"].label
    assert tr(said, "zh") == "专利权质押贷款贴息（pledge-loan）：按一年期贷款市场报价利率（LPR）（lpr_1y）自 2022-01-20 起的取值 3.70% 计算"
    assert tr(said, "en") == (
        "patent pledge loan interest subsidy (pledge-loan): computed with one-year loan prime rate (LPR) (lpr_1y) at its value "
        "from 2022-01-20, 3.70%"
    )
    decision = engine.evaluate(brookhill, claim(loan(day="2022-03-01"))).to_dict()
    assert decision["items"][0]["amount"] == "7400.00"  # 1,000,000 × 3.70% × 20%
    reached = {k for k in hits(decision) if k in branches and "#param:" in k}
    assert reached == {"pledge-loan#param:lpr_1y@2022-01-20"}
    later = engine.evaluate(brookhill, claim(loan(day="2022-08-22"))).to_dict()  # (its first day: 3.65%, 7,300.00)
    assert later["items"][0]["amount"] == "7300.00"
    assert "pledge-loan#param:lpr_1y@2022-08-22" in hits(later)


def test_coverage_has_a_branch_for_a_count_above_max_count() -> None:
    """第五条 1万 per country, here at most 3 countries: 4 countries are counted as 3 (30,000.00) and reach the branch;
    3 countries (30,000.00 too) do not: the ceiling changed nothing."""
    from engine.officer.coverage import branches_of, hits

    text = variant(
        "amount: {per_unit: 1万, count: item.countries, unit:", "amount: {per_unit: 1万, count: item.countries, max_count: 3, unit:"
    )
    policy = engine.load_policy_text(text, str(FIXTURE))
    branches = {b.key: b for b in branches_of(policy)}
    said = branches["overseas-trademark#max_count"].label
    assert tr(said, "zh") == "境外商标注册奖励（overseas-trademark）：数量超过上限 3，按 3 计算"
    assert tr(said, "en") == "overseas trademark registration reward (overseas-trademark): a count above its max_count 3, counted as 3"

    def mark(countries: int) -> dict[str, Any]:
        return {"id": "tm", "type": "overseas_trademark", "countries": countries}

    four, three = (engine.evaluate(policy, claim(mark(n))).to_dict() for n in (4, 3))
    assert four["items"][0]["amount"] == three["items"][0]["amount"] == "30000.00"
    assert "overseas-trademark#max_count" in hits(four) and "overseas-trademark#max_count" not in hits(three)
    assert "overseas-trademark#max_count" not in {b.key for b in branches_of(engine.load_policy(FIXTURE))}  # no max_count


def test_diff_says_a_parameters_values_by_date_beside_an_amount_that_looks_it_up(brookhill: engine.CompiledPolicy) -> None:
    """A revision that changes the LPR of 2022-01-20 (3.70% → 3.75%) and doubles 第一条's base: the base was said as
    its expression alone, and the value changed as the parameter alone, neither saying what the other moves."""
    from engine.officer.diff import diff_policies

    text = variant("value: 3.70%, source", "value: 3.75%, source")
    text = text.replace(
        '      of: item.loan_amount * param("lpr_1y", item.loan_date)\n',
        '      of: item.loan_amount * param("lpr_1y", item.loan_date) * 2\n',
    )
    changes = {c.kind: c for c in diff_policies(brookhill, engine.load_policy_text(text, str(FIXTURE)))}
    assert tr(changes["parameter.value"].text, "zh") == (
        "参数 lpr_1y（一年期贷款市场报价利率（LPR））自 2022-01-20 起：3.70% → 3.75%（查用它的规则：pledge-loan、pledge-loan-actual-rate）"
    )
    assert tr(changes["parameter.value"].text, "en").endswith("3.70% → 3.75% (looked up by rules pledge-loan, pledge-loan-actual-rate)")
    base = '贷款金额按一年期LPR计算的一年利息（item.loan_amount * param("lpr_1y", item.loan_date){more}）'
    values = "（其中 一年期贷款市场报价利率（LPR）（lpr_1y）：自 2021-12-20 起 3.80%、自 2022-01-20 起 {v}、自 2022-08-22 起 3.65%）"
    assert tr(changes["rate.base"].text, "zh") == (
        f"pledge-loan：比例适用于 {base.format(more='')}{values.format(v='3.70%')} → {base.format(more=' * 2')}{values.format(v='3.75%')}"
    )


def test_diff_says_a_sum_per_unit_and_its_count_ceiling_as_a_pair(brookhill: engine.CompiledPolicy) -> None:
    """第五条 1万 per country → 1.5万, at most 3 countries: it was "金额 1万 × item.countries → 15,000.00 元 ×
    item.countries（至多 3）", two forms of one kind of amount and the count said twice."""
    from engine.officer.diff import diff_policies

    text = variant(
        "amount: {per_unit: 1万, count: item.countries, unit:", "amount: {per_unit: 1.5万, count: item.countries, max_count: 3, unit:"
    )
    changes = diff_policies(brookhill, engine.load_policy_text(text, str(FIXTURE)))
    assert [tr(c.text, "zh") for c in changes] == [
        "overseas-trademark：每个国家金额 10,000.00 元 → 15,000.00 元（数量按 item.countries）",
        "overseas-trademark：数量至多计 不限 → 3",
    ]
    assert [tr(c.text, "en") for c in changes] == [
        "overseas-trademark: amount per country CNY 10,000.00 → CNY 15,000.00 (counted by item.countries)",
        "overseas-trademark: count at most no ceiling → 3",
    ]
