"""Typed facts (decimal, percent, count, dates) and dates in expressions: issue 13 points 1 and 2.

Every expected value here is worked by hand from the construct's definition (the arithmetic is in the
comments); none is copied from the engine's output.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.core.i18n import tr
from engine.deciding.claims import claim_schema, parse_claim
from engine.explaining.render import explain
from engine.language.expressions import ExpressionError, Facts, compile_expression, evaluate_with_simpleeval
from engine.records.tabular import CsvReader, XlsxReader

TYPED_POLICY = """\
policy:
  id: typed
  version: "1"
  title: {zh: 类型示例, en: typed example}
  in_force:
    funding_years: {from: 2021, to: 2023}
  rounding: {quantum: "0.01", mode: half_up}
clauses:
  第一条: {text: 贷款利率不超过4.35%的，按已付利息的50%给予贴息。, en: interest subsidy at 50% when the rate is at most 4.35%, computable: true}
  第三条: {text: 每件资助3000元。, en: 3000 yuan per filing, computable: true}
  第二条: {text: 按授权国家数分档奖励，10个国家以上奖励2万元，30个国家以上奖励5万元。, en: reward by countries of grant, computable: true}
applicant_kinds:
  enterprise: {zh: 企业, en: enterprise}
facts:
  claim:
    funding_year: {type: integer, zh: 年度, en: funding year}
  applicant:
    id: {type: string, zh: 编号, en: id}
    kind: {type: enum, values_from: applicant_kinds, zh: 类型, en: kind}
item_facts:
  id: {type: string, zh: 编号, en: id}
  type: {type: item_type, zh: 类型, en: type}
item_types:
  loan:
    zh: 贷款贴息
    en: loan subsidy
    facts:
      loan_rate: {type: percent, places: 2, maximum: 20%, zh: 贷款年利率, en: annual loan rate}
      secured_share: {type: decimal, places: 4, minimum: 0, maximum: 1, zh: 质押担保比例, en: share secured}
      loan_date: {type: date, zh: 放款日, en: date of the loan}
      interest_paid: {type: money, zh: 已付利息, en: interest paid}
  grant:
    zh: 国外授权
    en: grants abroad
    facts:
      countries: {type: count, unit: {zh: 个国家, en: countries}, maximum: 50, zh: 授权国家数, en: countries of grant}
      grant_date: {type: date, zh: 授权日, en: date of grant}
      applied: {type: date, zh: 申请日, en: date of application}
  filing:
    zh: 专利申请资助
    en: filing support
    facts:
      pieces: {type: count, unit: {zh: 件, en: filings}, zh: 申请件数, en: filings}
rules:
  - id: loan-subsidy
    cites: 第一条
    item_type: loan
    who: {kinds: [enterprise]}
    when:
      - test: item.loan_rate <= 4.35%
        says: {zh: 利率不超过4.35%, en: rate at most 4.35%}
      - test: item.loan_date <= "2021-12-31"
        says: {zh: 2021年底前放款, en: lent by the end of 2021}
      - test: item.secured_share >= 0.5
        says: {zh: 质押担保比例不低于一半, en: at least half secured}
    amount: {rate: 50%, of: item.interest_paid}
    documents_required: false
  - id: grant-reward
    cites: 第二条
    item_type: grant
    who: {kinds: [enterprise]}
    when:
      - test: item.applied <= add_months(item.grant_date, 6)
        says: {zh: 授权后六个月内申请, en: within six months of grant}
    amount:
      of: item.countries
      bands:
        - {from: 10, amount: 2万}
        - {from: 30, amount: 5万}
    documents_required: false
  - id: filing-support
    cites: 第三条
    item_type: filing
    who: {kinds: [enterprise]}
    amount: {per_unit: 3000, count: item.pieces}
    documents_required: false
"""

RATE_TEST = "      - test: item.loan_rate <= 4.35%\n"
RATE_LINE = TYPED_POLICY.splitlines().index(RATE_TEST.rstrip("\n")) + 1


def typed_policy(text: str = TYPED_POLICY) -> engine.CompiledPolicy:
    return engine.load_policy_text(text, "typed.yaml")


def claim(*items: dict[str, Any]) -> dict[str, Any]:
    return {"claim_id": "T-1", "funding_year": 2021, "applicant": {"id": "A1", "kind": "enterprise"}, "items": list(items)}


def loan(**facts: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": "L1",
        "type": "loan",
        "loan_rate": "4.35%",
        "secured_share": "0.6500",
        "loan_date": "2021-03-05",
        "interest_paid": "12345.60",
    }
    return out | facts


def grant(**facts: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": "G1", "type": "grant", "countries": 35, "grant_date": "2021-01-31", "applied": "2021-07-31"}
    return out | facts


# --- dates and percentages in expressions ---------------------------------------------------------------

TYPES = {
    "d": "date",
    "e": "date",
    "n": "integer",
    "m": "count",
    "fee": "money",
    "kind": "enum",
    "rate": "percent",
    "ds": "date_list",
    "flag": "boolean",
}


def run(source: str, **facts: Any) -> Any:
    compiled = compile_expression(source, lambda ns, f: None, "x.yaml:3", lambda ns, f: (TYPES[f],) if f in TYPES else ())
    return compiled(Facts("item", facts), Facts("applicant"), Facts("claim"))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # add_months keeps the day, clamped to the month's last: 31 January + 1 month -> 28 February (2021 is no leap year)
        ('add_months(date("2021-01-31"), 1)', dt.date(2021, 2, 28)),
        ('add_months(date("2020-01-31"), 1)', dt.date(2020, 2, 29)),  # 2020 is a leap year
        ('add_months(date("2021-03-31"), -1)', dt.date(2021, 2, 28)),
        ('add_months(date("2021-11-15"), 3)', dt.date(2022, 2, 15)),  # across the year: 11 + 3 = 14 -> February next year
        ('add_days(date("2020-02-28"), 2)', dt.date(2020, 3, 1)),  # 28 Feb -> 29 Feb -> 1 Mar
        ('add_days(date("2021-01-01"), -1)', dt.date(2020, 12, 31)),
        # days_between(a, b) = b - a: 28 Feb 2020 -> 1 Mar 2020 is 2 days (29 Feb between)
        ('days_between(date("2020-02-28"), date("2020-03-01"))', 2),
        ('days_between(date("2020-03-01"), date("2020-02-28"))', -2),
        # months_between(a, b): largest m with add_months(a, m) <= b; add_months(31 Jan, 1) = 28 Feb <= 28 Feb: 1
        ('months_between(date("2021-01-31"), date("2021-02-28"))', 1),
        ('months_between(date("2021-01-15"), date("2021-02-14"))', 0),  # 15 Feb is after 14 Feb: not a whole month
        ('months_between(date("2021-01-15"), date("2021-07-15"))', 6),
        ('months_between(date("2021-02-28"), date("2021-01-31"))', -1),  # b before a: -months_between(b, a) = -1
        ('month(date("2019-12-31"))', 12),
        ('day(date("2019-12-31"))', 31),
        ('quarter(date("2021-03-31"))', 1),  # months 1-3
        ('quarter(date("2021-04-01"))', 2),  # months 4-6
        ('quarter(date("2021-12-01"))', 4),
        ('half_year(date("2021-06-30"))', 1),
        ('half_year(date("2021-07-01"))', 2),
        ("4.35%", Decimal("0.0435")),  # 4.35 / 100
        ("50% * 200", Decimal("100")),
    ],
)
def test_date_functions_and_percent_literals(source: str, expected: Any) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(
    ("source", "static"),
    [
        ("item.fee * 50%", "money"),  # money times a rate stays money
        ("item.fee + item.fee", "money"),
        ("item.fee / item.fee", "number"),  # a ratio of two amounts is no amount
        ("item.n + 1", "integer"),
        ("item.rate * 100", "number"),  # 4.35% * 100 = 4.35: no longer a percentage
        ('days_between(item.d, "2021-01-01")', "integer"),
        ("add_months(item.d, 6)", "date"),
        ("item.d <= item.e", "boolean"),
        ("item.kind", "text"),
    ],
)
def test_every_expression_has_a_static_type(source: str, static: str) -> None:
    types = lambda ns, f: (TYPES[f],) if f in TYPES else ()  # noqa: E731
    assert compile_expression(source, lambda ns, f: None, "x.yaml:3", types).type == static


def test_a_quoted_date_compared_with_a_date_fact_is_that_date() -> None:
    # Failed before: `item.d <= "2019-12-31"` loaded, then raised TypeError (date <= str) on every claim.
    assert run('item.d <= "2019-12-31"', d=dt.date(2019, 12, 31)) is True
    assert run('item.d <= "2019-12-31"', d=dt.date(2020, 1, 1)) is False
    assert run('"2019-12-31" < item.d', d=dt.date(2020, 1, 1)) is True
    assert run('item.d in ("2019-12-31", "2020-06-30")', d=dt.date(2020, 6, 30)) is True
    assert run('add_days("2020-02-28", 1) == item.d', d=dt.date(2020, 2, 29)) is True


def test_division_of_whole_numbers_is_exact() -> None:
    """`/` of two counts was Python's, a binary float: 3 / 10 >= 0.3 was false (the float 0.3 is a hair under the
    Decimal 0.3), so an applicant exactly at a threshold was refused; a rate of such a base raised a TypeError."""
    assert run("item.n / item.m", n=3, m=10) == Decimal("0.3") and isinstance(run("item.n / item.m", n=3, m=10), Decimal)
    assert run("item.n / item.m >= 0.3", n=3, m=10) is True
    assert run("item.n / item.m >= 30%", n=3, m=10) is True
    assert run("item.fee / item.n", fee=Decimal("100.00"), n=3) == Decimal("100.00") / 3  # a Decimal divides as ever
    assert evaluate_with_simpleeval("item.n / item.m >= 0.3", {"n": 3, "m": 10}, {}, {}) is True  # the reference too
    # and through a rule's generated code: 30 of the 100 countries asked is the 30% the test names
    text = TYPED_POLICY.replace(
        "      - test: item.applied <= add_months(item.grant_date, 6)\n",
        "      - test: item.countries / 100 >= 30%\n        says: {zh: 授权国家数不少于30%, en: at least 30% of countries}\n"
        "      - test: item.applied <= add_months(item.grant_date, 6)\n",
    )
    decided = engine.evaluate(typed_policy(text), claim(grant(countries=30), grant(id="G2", countries=29)))
    assert [(i.item.id, i.status, i.amount) for i in decided.items] == [
        ("G1", "granted", Decimal("50000.00")),
        ("G2", "refused", Decimal("0.00")),
    ]


def test_percent_fact_compares_with_a_percent_literal() -> None:
    assert run("item.rate <= 4.35%", rate=Decimal("0.0435")) is True  # 0.0435 <= 0.0435
    assert run("item.rate <= 4.35%", rate=Decimal("0.0436")) is False


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("item.d == 5", "`item.d` is a date and `5` is a whole number: a date cannot be compared with a number"),
        ("item.d < item.kind", "`item.d` is a date and `item.kind` is text: a date cannot be compared with text"),
        ('item.n == "3"', "a number cannot be compared with text"),
        ("item.fee > item.d", "an amount of money and `item.d` is a date: a number cannot be compared with a date"),
        ("item.flag == 1", "yes/no cannot be compared with a number"),
        ("item.d - item.e > 30", "a date cannot be subtracted from a date"),
        ("item.d + 30 > item.e", "a date and a number cannot be combined with +"),
        ("item.n in item.ds", "a number is never in a list of dates"),
        ('item.d <= "2019-02-30"', "`item.d` is a date, so '2019-02-30' must be a date written YYYY-MM-DD that exists"),
        ('date("2019-1-1") < item.d', "date() takes a date written YYYY-MM-DD that exists"),
        ("add_days(item.d, item.fee) > item.e", "add_days() counts in whole numbers; `item.fee` is an amount of money"),
        ("year(item.n) == 2021", "year() needs a date fact here; item.n is an integer"),
        ("months_between(item.d, item.n) > 1", "months_between() needs a date fact here; item.n is an integer"),
    ],
)
def test_wrong_types_are_refused_when_compiled(source: str, words: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        run(source)
    assert words in caught.value.message, caught.value.message


@pytest.mark.parametrize(
    ("source", "written"),
    [
        ("item.d >= 2018-01-01", "2018-01-01"),  # Python's "leading zeros in decimal integer literals are not permitted"
        ("item.d <= 2018-12-31", "2018-12-31"),  # no syntax error: 1975, then "a date cannot be compared with a number"
        ("item.d >= 2018年1月1日", "2018年1月1日"),  # as the measures print it
        ("item.d > 2018/1/1", "2018/1/1"),
    ],
)
def test_a_date_written_without_quotes_says_how_to_write_it(source: str, written: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        run(source)
    fixed = "2018-12-31" if "12-31" in written else "2018-01-01"
    assert caught.value.message == f'the date {written} is not quoted: write "{fixed}" (unquoted, it reads as numbers)'
    assert caught.value.column == source.index(written)
    assert run(f'item.d >= "{fixed}"', d=dt.date(2019, 1, 1)) is True


def test_date_minus_date_suggests_days_between() -> None:
    with pytest.raises(ExpressionError) as caught:
        run("item.d - item.e > 30")
    assert caught.value.hint is not None and "days_between(a, b)" in caught.value.hint


@pytest.mark.parametrize(
    ("test", "words"),
    [
        ("item.loan_date == 2021", "`item.loan_date` is a date and `2021` is a whole number: a date cannot be compared with a number"),
        ('item.loan_rate > "4.35%"', "`item.loan_rate` is a percentage and `'4.35%'` is text: a number cannot be compared with text"),
        ("item.loan_date > item.interest_paid", "a date cannot be compared with a number"),
        ('item.loan_date <= "2021-13-01"', "'2021-13-01' must be a date written YYYY-MM-DD that exists"),
        ("item.loan_date - item.loan_date > 0", "a date cannot be subtracted from a date"),
    ],
)
def test_wrong_typed_comparisons_are_load_errors_at_their_line(test: str, words: str) -> None:
    text = TYPED_POLICY.replace(RATE_TEST, f"      - test: {json.dumps(test)}\n")
    with pytest.raises(engine.PolicyError) as caught:
        typed_policy(text)
    (p,) = caught.value.problems
    assert (p.file, p.line, p.column) == ("typed.yaml", RATE_LINE, 15), str(p)  # `      - test: ` is 14 characters
    assert words in p.message, p.message


def test_the_policy_decides_with_dates_percentages_and_counts() -> None:
    policy = typed_policy()
    d = engine.evaluate(
        policy,
        claim(
            loan(),  # 4.35% <= 4.35%, lent 2021-03-05 <= 2021-12-31, 0.65 >= 0.5: 12,345.60 x 50% = 6,172.80
            loan(id="L2", loan_rate="4.36%"),  # 4.36% > 4.35%: refused
            loan(id="L3", loan_date="2022-01-01"),  # after 2021-12-31: refused
            grant(),  # 31 Jan + 6 months = 31 Jul >= applied 31 Jul; 35 countries: band from 30 -> 5万
            grant(id="G2", applied="2021-08-01", countries=12),  # applied after 31 Jul: refused
            grant(id="G3", countries=10),  # band from 10 includes 10: 2万
        ),
    ).to_dict()
    got = {i["item"]: (i["status"], i.get("amount")) for i in d["items"]}
    assert got["L1"] == ("granted", "6172.80")
    assert got["L2"][0] == "refused" and got["L3"][0] == "refused" and got["G2"][0] == "refused"
    assert got["G1"] == ("granted", "50000.00")
    assert got["G3"] == ("granted", "20000.00")


def test_the_reference_evaluator_reads_percent_and_date_literals() -> None:
    assert evaluate_with_simpleeval(
        'item.r <= 4.35% and item.d <= date("2019-12-31")', {"r": Decimal("0.04"), "d": dt.date(2019, 1, 1)}, {}, {}
    )


# --- claims -------------------------------------------------------------------------------------------------


def problems_of(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str, str | None]]:
    with pytest.raises(engine.ClaimError) as caught:
        parse_claim(typed_policy(), data)
    return [(p.path, p.message, p.expected) for p in caught.value.problems]


def test_claim_values_are_exact() -> None:
    parsed = parse_claim(typed_policy(), claim(loan(), grant()))
    facts = parsed.items[0].facts
    assert facts["loan_rate"] == Decimal("0.0435") and str(facts["loan_rate"]) == "0.0435"  # "4.35%" = 4.35 / 100
    assert facts["secured_share"] == Decimal("0.6500") and str(facts["secured_share"]) == "0.6500"
    assert parsed.items[1].facts["countries"] == 35


@pytest.mark.parametrize(
    ("fact", "value", "message", "expected"),
    [
        ("loan_rate", Decimal("4.35"), "4.35 is a bare number, not a percentage", 'write it as "4.35%"'),
        ("loan_rate", Decimal("0.0435"), "0.0435 is a bare number", 'write it as "0.0435%" (or "4.35%" if 0.0435 is the fraction)'),
        ("loan_rate", "4.35", "'4.35' is not a percentage written with %", 'write it as "4.35%"'),
    ],
)
def test_a_percentage_without_its_sign_is_refused_with_the_fix(fact: str, value: Any, message: str, expected: str) -> None:
    ((path, said, fix),) = problems_of(claim(loan(**{fact: value})))
    assert path == ("items", 0, fact) and message in said and fix == expected


@pytest.mark.parametrize(
    ("item", "message", "expected"),
    [
        (
            loan(secured_share="0.65432"),
            "0.65432 has 5 decimals; share secured takes at most 4",
            "a number with at most 4 decimals, e.g. 0.6500",
        ),
        (
            loan(loan_rate="5.405%"),
            "5.405% has 3 decimals; annual loan rate takes at most 2",
            "a percentage with at most 2 decimals, e.g. 4.35%",
        ),
        (loan(secured_share=Decimal("1.5")), "1.5 is above the maximum 1 the policy declares for share secured", "at most 1"),
        (loan(loan_rate="25%"), "25% is above the maximum 20% the policy declares for annual loan rate", "at most 20%"),
        (
            grant(countries=51),
            "51 countries is above the maximum 50 countries the policy declares for countries of grant",
            "at most 50 countries",
        ),
    ],
)
def test_decimal_percent_and_count_claims_are_checked_in_the_officers_terms(item: dict[str, Any], message: str, expected: str) -> None:
    ((_, said, fix),) = problems_of(claim(item))
    assert said == message and fix == expected


def test_a_binary_float_is_not_a_decimal_fact() -> None:
    # a Python caller's 0.65 is the binary float 0.65000000000000002220...: refused, never rounded silently
    ((path, said, _),) = problems_of(claim(loan(secured_share=0.65)))
    assert path == ("items", 0, "secured_share") and said == "0.65 is a binary floating-point number"


def test_below_the_minimum_is_said_in_the_facts_form() -> None:
    text = TYPED_POLICY.replace("places: 4, minimum: 0,", "places: 4, minimum: 0.25,")
    with pytest.raises(engine.ClaimError) as caught:
        parse_claim(typed_policy(text), claim(loan(secured_share="0.2000")))
    (p,) = caught.value.problems
    assert p.message == "0.2000 is below the minimum 0.25 the policy declares for share secured" and p.expected == "at least 0.25"


def test_the_claim_schema_describes_each_type() -> None:
    schema = claim_schema(typed_policy())
    facts = schema["$defs"]["item_loan"]["properties"]
    assert facts["loan_rate"]["type"] == "string" and '"4.35%"' in facts["loan_rate"]["description"]
    assert "at most 4 decimals" in facts["secured_share"]["description"]
    countries = schema["$defs"]["item_grant"]["properties"]["countries"]
    assert countries["type"] == "integer" and countries["minimum"] == 0 and "countries" in countries["description"]


def test_parse_percent_is_exact_and_wants_its_sign() -> None:
    from engine.core.quantities import QuantityError, parse_percent

    assert parse_percent("4.35%") == Decimal("0.0435") and str(parse_percent("3.70%")) == "0.0370"  # 3.70 / 100
    assert parse_percent("120%") == Decimal("1.2")  # more than 100% is a percentage too
    for bad in ("4.35", Decimal("4.35"), "-1%", "4,35%"):
        with pytest.raises(QuantityError):
            parse_percent(bad)


@pytest.mark.parametrize(
    ("replace", "words"),
    [
        ("countries: {type: count, unit: {zh: 个国家, en: countries}, maximum: 50,", "a count fact needs its unit word"),
        ("maximum: 20%, zh: 贷款年利率", "maximum of a percent fact is written as a percentage such as 5%, not 0.2"),
        ("secured_share: {type: decimal, places: 4,", "places applies to decimal and percent facts, not money"),
        ("maximum: 50, zh: 授权国家数", "maximum of a count fact must be a whole number, not 50.5"),
    ],
)
def test_typed_fact_declarations_are_checked_at_load(replace: str, words: str) -> None:
    new = {
        "countries: {type: count, unit: {zh: 个国家, en: countries}, maximum: 50,": "countries: {type: count, maximum: 50,",
        "maximum: 20%, zh: 贷款年利率": "maximum: 0.2, zh: 贷款年利率",
        "secured_share: {type: decimal, places: 4,": "secured_share: {type: decimal, places: 4,",
        "maximum: 50, zh: 授权国家数": "maximum: 50.5, zh: 授权国家数",
    }[replace]
    text = TYPED_POLICY.replace(replace, new)
    if "places applies" in words:
        text = text.replace("interest_paid: {type: money,", "interest_paid: {type: money, places: 2,")
    with pytest.raises(engine.PolicyError) as caught:
        typed_policy(text)
    assert any(words in p.message for p in caught.value.problems), [p.message for p in caught.value.problems]


def test_a_count_fact_without_its_unit_is_given_the_unit_its_name_says() -> None:
    # the hint said `unit: {zh: 件, en: items}` for 授权国家数 (a count of countries, 3 个国家, never 3 件)
    text = TYPED_POLICY.replace(
        "countries: {type: count, unit: {zh: 个国家, en: countries}, maximum: 50,", "countries: {type: count, maximum: 50,"
    )
    with pytest.raises(engine.PolicyError) as caught:
        typed_policy(text)
    [said] = [p for p in caught.value.problems if p.code == "count_unit"]
    assert (tr(said.expected, "zh"), tr(said.expected, "en")) == (
        "unit: {zh: 个国家, en: country(ies)}",
        "unit: {zh: 个国家, en: country(ies)}",
    )


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("授权国家数", ("个国家", "country(ies)")),
        ("注册国家数（境外）", ("个国家", "country(ies)")),
        ("申报次数", ("次", "times")),
        ("专利件数", ("件", "items")),
        ("参展企业数", ("家", "enterprises")),
        ("资助年数", ("年", "years")),
        ("专利数", ("件", "items")),  # the name says no unit: the forms' common 件
    ],
)
def test_the_unit_a_count_is_counted_in_follows_its_name(name: str, unit: tuple[str, str]) -> None:
    from engine.core.quantities import counted_unit

    assert counted_unit(name) == unit


# --- explanations ---------------------------------------------------------------------------------------------


def explained(lang: str, fmt: str = "text", *items: dict[str, Any]) -> str:
    policy = typed_policy()
    return explain(policy, engine.evaluate(policy, claim(*(items or (loan(loan_rate="5.40%"), grant())))), lang, fmt)


@pytest.mark.parametrize("fmt", ["text", "md"])
def test_each_type_is_shown_in_its_own_form_in_zh_and_en(fmt: str) -> None:
    zh, en = explained("zh", fmt), explained("en", fmt)
    # a percentage as the claim wrote it, not the fraction 0.0540 nor money
    assert "贷款年利率为 5.40%" in zh and "annual loan rate: 5.40%" in en
    # the interest paid is money
    assert "已付利息 12,345.60 元" in zh and "interest paid CNY 12,345.60" in en
    # a band whose base is a count: "35 个国家，适用 30 个国家 以上档次", never "35.00 元 ... 30.00 元"
    assert "授权国家数 35 个国家，适用 30 个国家 以上档次" in zh and "35.00 元" not in zh
    assert "countries of grant 35 countries, band from 30 countries" in en


@pytest.mark.parametrize("fmt", ["text", "md"])
def test_a_count_of_units_is_shown_with_its_unit(fmt: str) -> None:
    item = {"id": "F1", "type": "filing", "pieces": 3}  # 3 x 3,000 = 9,000
    zh, en = explained("zh", fmt, item), explained("en", fmt, item)
    assert "× 3 = 9,000.00 元（申请件数 3 件）" in zh, zh
    assert "× 3 = CNY 9,000.00 (filings 3 filings)" in en, en


def test_a_decimal_and_a_date_are_shown_in_their_own_form() -> None:
    zh = explained("zh", "text", loan(secured_share="0.4000", loan_date="2022-01-05"))
    en = explained("en", "text", loan(secured_share="0.4000", loan_date="2022-01-05"))
    assert "质押担保比例为 0.4000" in zh and "share secured: 0.4000" in en  # four places, as declared
    assert "放款日为 2022-01-05" in zh and "date of the loan: 2022-01-05" in en


def test_a_percentage_is_shown_with_its_declared_places() -> None:
    # "5%" is 0.05; the fact declares 2 places: shown 5.00%
    assert "贷款年利率为 5.00%" in explained("zh", "text", loan(loan_rate="5%"))


# --- spreadsheets -----------------------------------------------------------------------------------------------


def workbook(tmp_path: Path, rate_cell: Any, rate_format: str | None, countries: Any) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    apps = wb.active
    apps.title = "applicants"
    apps.append(["claim_id", "claim.funding_year", "applicant.id", "applicant.kind"])
    apps.append(["T-1", 2021, "A1", "enterprise"])
    items = wb.create_sheet("items")
    items.append(["claim_id", "item.id", "item.type", "item.loan_rate", "item.secured_share", "item.loan_date", "item.interest_paid"])
    items.append(["T-1", "L1", "loan", rate_cell, 0.65, dt.date(2021, 3, 5), 12345.6])
    if rate_format is not None:
        items.cell(row=2, column=4).number_format = rate_format
    items.append(["T-1", "G1", "grant"])
    items.cell(row=1, column=8, value="item.countries")
    items.cell(row=1, column=9, value="item.grant_date")
    items.cell(row=1, column=10, value="item.applied")
    items.cell(row=3, column=8, value=countries)
    items.cell(row=3, column=9, value=dt.date(2021, 1, 31))
    items.cell(row=3, column=10, value=dt.date(2021, 7, 31))
    path = tmp_path / "round.xlsx"
    wb.save(path)
    return path


def records(reader: Any) -> list[Any]:
    try:
        return list(reader)
    finally:
        reader.spool.close()


def test_a_percent_formatted_excel_cell_is_that_percentage(tmp_path: Path) -> None:
    # Excel keeps 4.35% as the number 0.0435 with a percent format: it is "4.35%" (0.0435 x 100)
    (rec,) = records(XlsxReader(workbook(tmp_path, 0.0435, "0.00%", 35), typed_policy()))
    assert not rec.problems
    loan_item, grant_item = rec.data["items"]
    assert loan_item["loan_rate"] == "4.35%" and loan_item["secured_share"] == "0.65" and grant_item["countries"] == 35
    assert parse_claim(typed_policy(), rec.data).items[0].facts["loan_rate"] == Decimal("0.0435")


def test_a_percentage_typed_as_text_in_excel_is_read(tmp_path: Path) -> None:
    (rec,) = records(XlsxReader(workbook(tmp_path, "4.35%", None, 35.0), typed_policy()))
    assert not rec.problems and rec.data["items"][0]["loan_rate"] == "4.35%" and rec.data["items"][1]["countries"] == 35


def test_a_bare_number_in_a_percent_column_is_refused_with_the_fix(tmp_path: Path) -> None:
    (rec,) = records(XlsxReader(workbook(tmp_path, 4.35, None, 35), typed_policy()))
    (p,) = rec.problems
    assert p["field"] == "item.loan_rate" and "is a bare number" in p["message"] and "format the cell as a percentage" in p["message"]


def test_csv_percent_and_count_columns(tmp_path: Path) -> None:
    path = tmp_path / "round.csv"
    path.write_text(
        "claim_id,claim.funding_year,applicant.id,applicant.kind,item.id,item.type,item.loan_rate,item.secured_share,"
        "item.loan_date,item.interest_paid,item.countries,item.grant_date,item.applied\n"
        "T-1,2021,A1,enterprise,L1,loan,4.35%,0.6500,2021-03-05,12345.60,,,\n"
        "T-1,2021,A1,enterprise,G1,grant,,,,,3,2021-01-31,2021-07-31\n",
        encoding="utf-8",
    )
    (rec,) = records(CsvReader(path, typed_policy()))
    assert not rec.problems and rec.data["items"][0]["loan_rate"] == "4.35%" and rec.data["items"][1]["countries"] == 3
    assert parse_claim(typed_policy(), rec.data).items[0].facts["loan_rate"] == Decimal("0.0435")


def test_max_decimal_bounds_a_decimal_fact_without_a_declared_maximum() -> None:
    # claims.MAX_DECIMAL = 10**15: 999999999999999.9999 (15 nines before the point) is accepted, 10**15 refused
    unbounded = typed_policy(TYPED_POLICY.replace("places: 4, minimum: 0, maximum: 1,", "places: 4,"))
    ok = parse_claim(unbounded, claim(loan(secured_share="999999999999999.9999")))
    assert ok.items[0].facts["secured_share"] == Decimal("999999999999999.9999")
    with pytest.raises(engine.ClaimError) as caught:
        parse_claim(unbounded, claim(loan(secured_share=Decimal("1000000000000000"))))  # a JSON number (text has a pattern)
    ((problem),) = caught.value.problems
    assert problem.path == ("items", 0, "secured_share") and problem.message == "1000000000000000 is out of range"
