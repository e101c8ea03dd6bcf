"""Lint's number check (issue 13, point 12): the numbers of a clause in every form a measure writes them --
3,000 / 300,000 / 3千 / 30万 / 叁仟 / 三千 / 五十万 / 百分之五十 -- years, dates and ordinals not read as quantities;
numbers inside expressions, band starts and count ceilings checked too; and a clause counts as encoded wherever
the policy cites it (a round budget included).

Clause texts are written here by hand: each test edits a clause of the fictional district in the policy and in its
measures' text alike (a copy in tmp_path), so the clause stays verbatim in the text, as the loader requires.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import ROOT, no_hang

from engine.core.errors import Problem
from engine.core.i18n import tr
from engine.language.source import parse_yaml
from engine.officer.lint import chinese_number, clause_numbers, expression_numbers, lint_source

FIXTURES = ROOT / "tests" / "fixtures"
PCT = "每获得一个国家或地区授权奖励 10 万元，每件专利最多奖励 2 个国家或地区，每件专利只奖励一次。"
PCT_AMOUNT = "amount: {per_unit: 10万, count: item.countries, max_count: 2}"
COOPERATION_LIMIT = "本条第（一）项、第（二）项每家企业每年合计支持不超过 3 个项目。"


def lint_edited(tmp_path: Path, clause: tuple[str, str] | None = None, *policy_edits: tuple[str, str]) -> list[Problem]:
    """Lint the fictional district with a clause's text replaced (in the policy and in its measures' text) and
    other edits of the policy, each of which must match once."""
    text = (FIXTURES / "fictional_district.yaml").read_text(encoding="utf-8")
    measures = (FIXTURES / "fictional_district.zh.txt").read_text(encoding="utf-8")
    for old, new in ([clause] if clause else []) + list(policy_edits):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    if clause:
        assert measures.count(clause[0]) == 1, clause[0]
        measures = measures.replace(*clause)
    (tmp_path / "fictional_district.zh.txt").write_text(measures, encoding="utf-8")
    shutil.copy(FIXTURES / "fictional_district.yaml", tmp_path / "unused.yaml")  # (the folder holds a policy, as usual)
    return lint_source(parse_yaml(text, str(tmp_path / "fictional_district.yaml")))


def found(problems: list[Problem], code: str) -> list[Problem]:
    return [p for p in problems if p.code == code]


# --- the numbers of a clause ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("每件奖励 3,000 元", 3000),
        ("3,000 yuan per piece", 3000),
        ("最高不超过 300,000 元", 300000),
        ("每件奖励3千元", 3000),  # 3 × 1,000
        ("最高不超过30万元", 300000),  # 30 × 10,000
        ("最高不超过1.5万元", 15000),  # 1.5 × 10,000
        ("总额5百万元", 5000000),  # 5 × 100 × 10,000
        ("每件奖励叁仟元", 3000),  # 叁 3 × 仟 1,000
        ("每件奖励三千元", 3000),
        ("最高五十万元", 500000),  # (5 × 10) × 10,000
        ("最高一百二十万元", 1200000),  # (1 × 100 + 2 × 10) × 10,000
        ("奖励两千五百元", 2500),  # 2 × 1,000 + 5 × 100
        ("每项１０万元", 100000),  # full-width digits
        ("费用 1,234.50 元", Decimal("1234.5")),
    ],
)
def test_amounts_in_every_form(text: str, amount: Decimal | int) -> None:
    assert clause_numbers(text).has_amount(Decimal(amount).normalize())


def test_thousands_separators_are_not_two_numbers() -> None:
    n = clause_numbers("最高不超过 300,000 元，每件 3,000 元")
    assert sorted(n.amounts) == [3000, 300000]  # not 300, 3 and 0
    assert not n.has_amount(Decimal(300)) and not n.has_amount(Decimal(3))


def test_a_full_width_comma_separates_sentences_not_thousands() -> None:
    # "10件，200万元" is ten pieces and two million yuan, not 10,200
    n = clause_numbers("奖励10件，200万元")
    assert n.has_count(10) and n.has_amount(Decimal(2000000)) and not n.has_amount(Decimal(10200))


def test_years_dates_and_ordinals_are_not_quantities() -> None:
    n = clause_numbers("自2018年起，2019年12月31日前取得、二〇二〇年认定、2021-03-05 登记的，依照第三条第（一）项、第2款和（二）办理")
    assert n.amounts == frozenset() and n.counts == frozenset() and n.rates == frozenset()


def test_a_year_is_kept_apart_for_conditions() -> None:
    # not an amount nor a count, but `year(item.date) >= 2018` compares with what the clause says
    n = clause_numbers("自2018年起，2021-03-05 前登记的")
    assert n.years == {2018, 2021} and n.amounts == frozenset()
    assert n.has_number(Decimal(2018)) and not n.has_amount(Decimal(2018))


def test_a_year_needs_its_nian() -> None:
    # "2018元" is money (a 19xx/20xx number is a year only when 年 follows it); "3年" is a duration, a count
    n = clause_numbers("奖励2018元，3年内有效")
    assert n.has_amount(Decimal(2018)) and n.has_count(3)


def test_rates_in_figures_and_in_words() -> None:
    n = clause_numbers("按 50% 给予补贴，贷款利率上浮百分之四十，手续费千分之五，贴息比例百分之 4.35")
    # 50 / 100, 40 / 100, 5 / 1000, 4.35 / 100
    assert n.rates == {Decimal("0.5"), Decimal("0.4"), Decimal("0.005"), Decimal("0.0435")}


def test_a_rate_plus_one_is_the_rate_added() -> None:
    # "上浮 40%": a condition `item.rate <= item.lpr * 1.4` multiplies by 1 + 40%
    n = clause_numbers("不超过同期贷款市场报价利率上浮 40%")
    assert n.has_number(Decimal("1.4")) and n.has_number(Decimal("0.4")) and not n.has_number(Decimal("1.5"))


def test_counts_in_chinese_numerals() -> None:
    n = clause_numbers("累计不超过三次，每年一次，最多十二个月，两年内")
    assert {3, 1, 12, 2} <= n.counts
    assert 10 not in n.counts  # 十二 is twelve, not ten and two


@pytest.mark.parametrize(
    ("text", "value"), [("三千", 3000), ("叁仟", 3000), ("五十万", 500000), ("十二", 12), ("一百零五", 105), ("两", 2), ("千", None)]
)
def test_chinese_number(text: str, value: int | None) -> None:
    assert chinese_number(text) == value


def test_expression_numbers() -> None:
    # 0 and 1 are not quantities a clause states; text in quotes is not read; 4.35% is 0.0435
    assert expression_numbers('item.pieces > 100 and item.kind != "A100" and item.n >= 1 and x - 0') == [(Decimal(100), "100")]
    assert expression_numbers("item.rate <= 4.35% and add_months(item.d, 6) > claim.d2") == [
        (Decimal("0.0435"), "4.35%"),
        (Decimal(6), "6"),
    ]


# --- lint on policies whose clauses write numbers so ---------------------------------------------------


@pytest.mark.parametrize("written", ["3,000 元", "3千元", "叁仟元", "三千元", "3000 元"])
def test_a_per_unit_amount_of_3000_in_any_form_passes(tmp_path: Path, written: str) -> None:
    """第五条 rewritten to pay 3,000 yuan per country, and the rule with it: per_unit 3000 is what the clause says."""
    problems = lint_edited(
        tmp_path,
        (PCT, PCT.replace("10 万元", written)),
        (PCT_AMOUNT, PCT_AMOUNT.replace("10万", "3000")),
    )
    assert problems == []


def test_a_per_unit_amount_the_clause_does_not_state_fails(tmp_path: Path) -> None:
    # the clause says 3,000 yuan (3000): a rule paying 300 per country is wrong, though "300" is written in "300,000"
    problems = lint_edited(tmp_path, (PCT, PCT.replace("10 万元", "3,000 元")), (PCT_AMOUNT, PCT_AMOUNT.replace("10万", "300")))
    (err,) = found(problems, "lint.number_not_in_clause")
    assert (err.severity, err.path) == ("error", ("rules", 2, "amount", "per_unit"))
    assert "rule pct-patent pays 300元 (amount per unit) but clause 第五条 says 3000元" in err.message
    # in Chinese, in Chinese words: it said "规则 pct-patent 支付 300元（amount per unit）"
    assert tr(err.message, "zh") == "规则 pct-patent 支付 300元（单位金额），但条款 第五条 写的是 3000元"


def test_a_fixed_amount_the_clause_does_not_state_is_said_in_chinese(tmp_path: Path) -> None:
    """第五条's 10万 per country written as a fixed 9000: "（amount）" in a Chinese message before."""
    fixed = lint_edited(tmp_path, None, (PCT_AMOUNT, "amount: {fixed: 9000}"))
    (err,) = found(fixed, "lint.number_not_in_clause")
    assert tr(err.message, "zh").startswith("规则 pct-patent 支付 9000元（金额），但条款 第五条 写的是 ")


def test_a_cap_of_300_where_the_clause_says_300000(tmp_path: Path) -> None:
    # 第八条第（一）项 written "300,000 元": a cap of 300 is not it; a cap of 30万 is (30 × 10,000 = 300,000)
    clause = ("每个项目最高不超过 30 万元。", "每个项目最高不超过 300,000 元。")
    assert lint_edited(tmp_path, clause) == []
    problems = lint_edited(
        tmp_path, clause, ("        max: 30万\n        per: [item.project_id]", "        max: 300\n        per: [item.project_id]")
    )
    (err,) = found(problems, "lint.number_not_in_clause")
    assert "cap cooperation-project-ceiling is 300元 but clause 第八条第（一）项 says 30万" in err.message


def test_a_year_in_the_clause_is_not_an_amount(tmp_path: Path) -> None:
    # "2018年" is a year: a rule paying 2018 yuan per country is not what the clause says (it says 10万)
    problems = lint_edited(tmp_path, (PCT, "自2018年起，" + PCT), (PCT_AMOUNT, PCT_AMOUNT.replace("10万", "2018")))
    (err,) = found(problems, "lint.number_not_in_clause")
    assert "pays 2018元 (amount per unit) but clause 第五条 says 10万" in err.message


def test_an_ordinal_is_not_a_count(tmp_path: Path) -> None:
    # the limit allows 3 projects a year; a clause whose only 3 is the ordinal of 第（三）项 does not say so
    clause = (COOPERATION_LIMIT, "本条第（一）项、第（二）项、第（三）项每家企业每年合计支持项目的数量以当年预算为限。")
    (err,) = found(lint_edited(tmp_path, clause), "lint.number_not_in_clause")
    assert "limit cooperation-three-projects-a-year allows 3 times but clause 第八条第二款 mentions no 3" in err.message
    # ...and in words, 三个项目 says it
    assert lint_edited(tmp_path, (COOPERATION_LIMIT, "本条第（一）项、第（二）项每家企业每年合计支持不超过三个项目。")) == []


def test_a_number_inside_a_condition_must_be_in_the_clause(tmp_path: Path) -> None:
    """`item.new_invention_patents < 100` against 第四条第（二）项: a warning until the clause says 100件."""
    clause_old = "20 件以上的，奖励 20 万元。"
    rule_old = "    item_type: invention_patent_count\n    who: {kinds: [enterprise]}\n"
    condition = rule_old + "    when:\n      - test: item.new_invention_patents < 100\n        says: {zh: 不足100件, en: fewer than 100}\n"
    problems = lint_edited(tmp_path, None, (rule_old, condition))
    (w,) = problems
    assert (w.code, w.severity) == ("lint.threshold_not_in_clause", "warning")
    assert w.path == ("rules", 1, "when", 0, "test")
    assert (
        "rule invention-patent-count uses 100 in `item.new_invention_patents < 100` but clause 第四条第（二）项 states no such number"
        in w.message
    )
    assert lint_edited(tmp_path, (clause_old, "20 件以上不满 100 件的，奖励 20 万元。"), (rule_old, condition)) == []


def test_a_band_start_and_a_count_ceiling_must_be_in_the_clause(tmp_path: Path) -> None:
    # 第四条第（一）项 starts its bands at 100万 and 500万; 第五条 rewards at most 2 countries
    problems = lint_edited(
        tmp_path,
        None,
        ("        - {from: 100万, amount: 10万}", "        - {from: 200万, amount: 10万}"),
        (PCT_AMOUNT, PCT_AMOUNT.replace("max_count: 2", "max_count: 3")),
    )
    assert [(p.code, p.path[-1]) for p in problems] == [
        ("lint.threshold_not_in_clause", "from"),
        ("lint.threshold_not_in_clause", "max_count"),
    ]
    assert "rule rd-investment uses band from 200万 but clause 第四条第（一）项 states no such number" in problems[0].message
    assert "rule pct-patent uses count at most 3 but clause 第五条 states no such number" in problems[1].message


def test_a_clause_cited_only_by_the_round_budget_is_encoded(tmp_path: Path) -> None:
    # 第十二条 made computable (a budget clause): cited by the round budget and by nothing else
    computable = (
        '    text: "本办法由湖畔区科技创新局负责解释。"\n    en: "The Lakeside District Science and Innovation Bureau is responsible for interpreting these Measures."\n    computable: false',
    )
    made = (computable[0], computable[0].replace("computable: false", "computable: true"))
    (err,) = lint_edited(tmp_path, None, made)
    assert (err.code, err.path) == ("lint.clause_unencoded", ("clauses", "第十二条"))
    budget = ("  documents_cites: 第十一条\n", "  documents_cites: 第十一条\n  round_budget: {amount: 500万, cites: 第十二条}\n")
    assert lint_edited(tmp_path, None, made, budget) == []


def test_a_run_of_numerals_no_clause_would_write_is_no_quantity_and_costs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """一 then 19,999 亿 built a 160,000-digit integer (1.2 s a clause; a policy of 201 aliased clauses took 289 s to
    lint): a run of more than 24 numerals or multipliers states no quantity a clause would, and is skipped -- never
    read as a number, Chinese or Arabic."""
    from engine.officer import lint

    read: list[int] = []  # the length of each run of numerals read as a number
    multiplied: list[str] = []  # each multiplier applied to an Arabic number (30万: 万)

    def reading(run: str) -> int | None:
        read.append(len(run))
        return chinese_number(run)

    class Multipliers(dict[str, int]):
        def __getitem__(self, ch: str) -> int:
            multiplied.append(ch)
            return super().__getitem__(ch)

    monkeypatch.setattr(lint, "chinese_number", reading)
    monkeypatch.setattr(lint, "_ARABIC_MULTIPLIERS", Multipliers(lint._ARABIC_MULTIPLIERS))
    for text in ("一" + "亿" * 19_999, "1" + "亿" * 20_000, "百分之" + "一" * 30_000, "最高不超过30" + "万" * 25 + "元"):
        with no_hang():
            numbers = clause_numbers(text)
        assert (read, len(multiplied)) == ([], 0), text[:8]
        assert numbers == clause_numbers("")
    # the longest numbers a clause writes are read: 九千九百九十九亿九千九百九十九万九千九百九十九 (23 characters) was
    # 9,999,000,099,999,999 (万 multiplied the 亿 before it too)
    assert Decimal(999_999_999_999) in clause_numbers("九千九百九十九亿九千九百九十九万九千九百九十九元").amounts
    assert Decimal(3 * 10**15) in clause_numbers("三千万亿元").amounts


def test_a_condition_s_date_the_clause_does_not_state_is_warned() -> None:
    """FICT2's 第四条 says "2019 年 12 月 31 日以后获得授权": its condition's date 2019-12-31 is the clause's. Written
    2019-01-01, nothing was said (an officer's commonest condition is a date)."""
    from engine.officer.lint import clause_dates

    assert clause_dates("对企业 2019 年 12 月 31 日以后获得授权，2024年1月1日起，2018-3-5 与 2020.6.30、2021/1/2") == {
        "2019-12-31",
        "2024-01-01",
        "2018-03-05",
        "2020-06-30",
        "2021-01-02",
    }
    path = ROOT / "tests" / "fixtures" / "localities" / "FICT2.yaml"
    text = path.read_text(encoding="utf-8")
    assert not [p for p in lint_source(parse_yaml(text, str(path))) if "date" in p.message]
    wrong = text.replace('item.grant_date > date("2019-12-31")', 'item.grant_date > date("2019-01-01")', 1)
    [p] = [p for p in lint_source(parse_yaml(wrong, str(path))) if p.code == "lint.threshold_not_in_clause"]
    assert (p.severity, p.line) == ("warning", wrong.splitlines().index('      - test: item.grant_date > date("2019-01-01")') + 1)
    assert (
        p.message
        == 'rule patent-grants compares with the date 2019-01-01 (item.grant_date > date("2019-01-01")), which 第四条 does not state'
    )


# --- a money cap that is a count the clause states ---------------------------------------------------------------


def test_a_yearly_cap_written_with_the_clauses_count_says_to_write_a_limit() -> None:
    """第六条第（一）项: 累计享受贴息补助不超过3次; an officer writes the pledge cap `max: 3` (for 30万). Every plain number of a
    clause is an amount too, so the 3 passed: each enterprise's interest subsidy of a year was cut to 3 yuan, unsaid."""
    from test_lint import line_of, lint_variant

    problems, text = lint_variant(
        "        max: 30万\n        per: [applicant.id, claim.funding_year]",
        "        max: 3\n        per: [applicant.id, claim.funding_year]",
    )
    (err,) = found(problems, "lint.cap_is_a_count")
    assert (err.severity, err.path, err.line) == ("error", ("rules", 3, "caps", 0, "max"), line_of(text, "        max: 3\n"))
    assert tr(err.message, "zh") == (
        "封顶 pledge-annual-cap 的上限为 3元，而条款 第六条第（一）项 中的 3 是数量（次数、件数、年数），不是金额：封顶只限制支持金额，"
        "其范围内的支持合计至多 3元"
    )
    assert tr(err.expected, "zh") == (
        "把该封顶改写为次数限制：limits: [{id: pledge-annual-cap, times: 3, per: [applicant.id, claim.funding_year]}]"
        "（计的是申报年度数时加 counting: [claim.funding_year]），并删去该封顶"
    )
    assert tr(err.expected, "en") == (
        "the cap rewritten as a limit: limits: [{id: pledge-annual-cap, times: 3, per: [applicant.id, claim.funding_year]}] "
        "(with counting: [claim.funding_year] when it counts funding years), and the cap removed"
    )


def test_a_cap_on_a_per_unit_amount_written_with_the_clauses_count_says_max_count(tmp_path: Path) -> None:
    """第五条: 每件专利最多奖励 2 个国家或地区; written as a cap of 2 on the item in place of `max_count: 2`: every PCT patent
    was paid 2 yuan."""
    capped = "amount: {per_unit: 10万, count: item.countries}\n    caps:\n      - {id: pct-two-countries, max: 2, per: item}"
    (err,) = found(lint_edited(tmp_path, None, (PCT_AMOUNT, capped)), "lint.cap_is_a_count")
    assert "封顶 pct-two-countries 的上限为 2元，而条款 第五条 中的 2 是数量" in tr(err.message, "zh")
    assert tr(err.expected, "zh") == (
        "条款限制的是一个事项计算的单位数时，删去该封顶，在 amount 中写 max_count: 2；限制的是支持的项数时，"
        "把该封顶改写为次数限制：limits: [{id: pct-two-countries, times: 2, per: [条款计数的范围，如 applicant.id, claim.funding_year]}]"
        "（计的是申报年度数时加 counting: [claim.funding_year]），并删去该封顶"
    )
    # a ceiling of 2 yuan the clause does not state as a count is the number check's, as before
    other = capped.replace("max: 2,", "max: 7,")
    assert [p.code for p in lint_edited(tmp_path, None, (PCT_AMOUNT, other)) if p.path[-1] == "max"] == ["lint.number_not_in_clause"]
