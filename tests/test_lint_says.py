"""lint: the words an explanation cites (`says`) against the figure the engine applies, and dated parameters no
expression looks up (`lint.says_other_figure`, `lint.parameter_unused`).

An explanation quotes a cap's, limit's, selection's or test's `says` beside the amounts it shows. When a revision
changes the figure and not the words, a reviewer reads "最高不超过30万元" beside a ceiling of 20万: these tests
make such a slip in a real policy by hand and check where lint says it is and what it says."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import POLICY_PATH, ROOT
from test_lint import line_of
from test_lint import lint_variant as variant

from engine.core.errors import Problem
from engine.core.i18n import tr
from engine.officer.lint import lint_file, said_numbers

PARAMETERS_PATH = ROOT / "tests" / "fixtures" / "dated_parameters.yaml"
RT4_PATH = ROOT / "tests" / "fixtures" / "localities" / "RT4.yaml"
LOCALITIES = sorted((ROOT / "tests" / "fixtures" / "localities").glob("*.yaml"))


def ours(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.code in ("lint.says_other_figure", "lint.parameter_unused")]


@pytest.mark.parametrize("path", [POLICY_PATH, PARAMETERS_PATH, *LOCALITIES], ids=lambda p: p.stem)
def test_shipped_and_fixture_policies_say_the_figures_they_apply(path: Path) -> None:
    assert ours(lint_file(path)) == []


def test_a_cap_whose_chinese_words_state_another_ceiling() -> None:
    # 第六条（一）: 每家企业每年享受贴息补助最高不超过30万元; the cap is 30万 (the clause's); its words now say 20万
    old = "says: {zh: 每家企业每年享受贴息补助最高不超过30万元,"
    problems, text = variant(old, "says: {zh: 每家企业每年享受贴息补助最高不超过20万元,")
    (w,) = ours(problems)
    assert (w.code, w.severity) == ("lint.says_other_figure", "warning")
    assert w.path[-2:] == ("says", "zh") and w.line == line_of(text, "每家企业每年享受贴息补助最高不超过20万元")
    assert "20万" in w.message and "30万" in w.message  # what the words state, and the ceiling applied
    assert not [p for p in problems if p.severity == "error"]  # the ceiling itself is still the clause's


def test_a_cap_whose_english_words_state_another_ceiling() -> None:
    old = 'en: "at most CNY 300,000 of interest subsidy per enterprise per year"}'
    problems, _ = variant(old, 'en: "at most CNY 0.2 million of interest subsidy per enterprise per year"}')
    (w,) = ours(problems)
    assert w.path[-2:] == ("says", "en") and "20万" in w.message and "30万" in w.message


def test_a_limit_whose_words_state_another_count() -> None:
    # 第六条（一）: 累计享受贴息补助不超过3次; the limit is 3
    problems, text = variant("累计享受贴息补助不超过3次（每笔贷款每个申报年度为一次）", "累计享受贴息补助不超过2次")
    (w,) = ours(problems)
    assert w.path[-2:] == ("says", "zh") and w.line == line_of(text, "累计享受贴息补助不超过2次")
    assert "其中写的是 2；实际适用的次数为 3" in tr(w.message, "zh")


def test_a_condition_whose_words_fix_a_figure_its_parameter_changes() -> None:
    # the loan's floor is the dated parameter min_loan (10万 from 2021-01-01, 50万 from 2022-07-01): words fixing
    # 10万 are wrong for every loan from July 2022
    old = "says: {zh: 贷款金额不得低于规定的最低金额, en: the loan may not be below the smallest amount}"
    problems, text = variant(old, "says: {zh: 贷款金额不得低于10万元, en: the loan may not be below the smallest amount}", PARAMETERS_PATH)
    (w,) = ours(problems)
    assert w.path[-2:] == ("says", "zh") and w.line == line_of(text, "贷款金额不得低于10万元")
    assert "10万" in w.message


def test_a_condition_whose_words_state_its_threshold_is_quiet_and_another_is_not() -> None:
    old = '      - test: item.loan_amount >= param("min_loan", item.loan_date)\n        says: {zh: 贷款金额不得低于规定的最低金额,'
    fixed = "      - test: item.loan_amount >= 500000\n        says: {zh: 贷款金额不得低于50万元,"
    problems, _ = variant(old, fixed, PARAMETERS_PATH)
    assert [p.code for p in ours(problems)] == ["lint.parameter_unused"]  # (min_loan is no longer looked up)
    problems, text = variant(old, fixed.replace("50万元", "100万元"), PARAMETERS_PATH)
    (w,) = [p for p in ours(problems) if p.code == "lint.says_other_figure"]
    assert w.path[-2:] == ("says", "zh") and w.line == line_of(text, "贷款金额不得低于100万元")
    assert "其中写的是 100万；其表达式比较的是 50万" in tr(w.message, "zh")


def test_a_selection_whose_words_state_another_budget() -> None:
    # RT4's 第四条: 年度资助资金总额不超过120万元, counted as the 60% paid on approval: a budget of 72万. Words that
    # state 120万 alone are read beside a budget of 72万.
    old = "年度总额不超过120万元（按立项时拨付的60%计入本轮预算，即72万元）"
    problems, text = variant(old, "年度总额不超过120万元", RT4_PATH)
    (w,) = ours(problems)
    assert w.path[-3:] == ("selection", "says", "zh") and w.line == line_of(text, "年度总额不超过120万元,")
    assert "120万" in w.message and "72万" in w.message
    # and its first N: at most 5 a year, said as 6
    problems, _ = variant("每年不超过5个，年度总额", "每年不超过6个，年度总额", RT4_PATH)
    (w,) = ours(problems)
    assert w.path[-2:] == ("says", "zh") and "states 6; it selects the first 5" in w.message


def test_a_parameter_no_expression_looks_up() -> None:
    # min_loan is looked up only by the pledge rule's condition; with that condition reading a fixed floor, nothing does
    old = '      - test: item.loan_amount >= param("min_loan", item.loan_date)\n        says: {zh: 贷款金额不得低于规定的最低金额,'
    new = "      - test: item.loan_amount >= 100000\n        says: {zh: 贷款金额不得低于10万元,"
    problems, text = variant(old, new, PARAMETERS_PATH)
    (w,) = ours(problems)
    assert (w.code, w.severity, w.path) == ("lint.parameter_unused", "warning", ("parameters", "min_loan"))
    assert w.line == line_of(text, "  min_loan:")  # (the parameter's own key: it was its mapping's first key, a line below)
    assert "参数 min_loan" in tr(w.message, "zh") and "删去" in tr(w.expected, "zh")


@pytest.mark.parametrize(
    ("words", "amounts", "counts"),
    [
        ("at most CNY 1.2 million a year", [1200000], [1200000]),
        ("CNY 300 thousand", [300000], [300000]),
        ("at most CNY 300,000 per project", [300000], [300000]),
        ("granted after 31 December 2019", [], []),  # a date: no quantity
        ("granted before Dec. 31, 2019", [], []),
        ("never rewarded under this scheme before (item 4 of art. 5)", [], []),  # references
        ("supported once", [], [1]),
        ("at most twice a year", [], [2]),
        ("最多支持2年", [2], [2]),
        ("每个称号一次性奖励", [1], [1]),
        ("2019年12月31日以后授权", [], []),
    ],
)
def test_the_figures_words_state(words: str, amounts: list[int], counts: list[int]) -> None:
    n = said_numbers(words)
    assert sorted(n.amounts) == amounts and sorted(n.counts) == counts


def test_a_condition_on_a_dated_parameter_may_state_its_values() -> None:
    """min_loan is 10万 from 2021-01-01 and 50万 from 2022-07-01: words stating both are the parameter's own (they
    were "a figure its expression does not compare")."""
    old = "says: {zh: 贷款金额不得低于规定的最低金额, en: the loan may not be below the smallest amount}"
    problems, _ = variant(
        old,
        "says: {zh: 贷款金额不得低于10万元（2022年7月1日起为50万元）, en: the loan may not be below the smallest amount}",
        PARAMETERS_PATH,
    )
    assert ours(problems) == []


def test_an_in_force_assumption_stating_another_window_is_said() -> None:
    # an officer's 2026 revision moved funding_years to 2026-2028 and kept the assumption "覆盖 2021—2023 申报年度
    # （对应 2022—2024 年集中申报）": lint was clean, and every explanation quoted the old window under 适用口径
    old = "funding_years: {from: 2021, to: 2023}"
    problems, text = variant(old, "funding_years: {from: 2026, to: 2028}")
    said = [p for p in problems if p.path[:3] == ("policy", "in_force", "assumption")]
    assert [(p.code, p.severity, p.path[-1]) for p in said] == [("lint.says_other_figure", "warning", lang) for lang in ("zh", "en")]
    zh = said[0]
    assert zh.line == line_of(text, "      zh: 办法发布日未载明")
    assert tr(zh.message, "zh") == (
        "有效期的假设说明为“办法发布日未载明，按 2021 年初发布计，有效期 3 年，覆盖 2021—2023 申报年度（对应 2022—2024 年集中申报）。”，"
        "其中写的年度是 2021—2023、2022—2024，而 policy.in_force.funding_years 为 2026—2028：每份说明都会引用这段与实际有效期不符的文字"
    )
    assert tr(zh.expected, "zh") == "在假设说明中写明申报年度 2026—2028（修订时改了 funding_years，假设说明也要一并改）"
    # the shipped words state the window applied (2021-2023) beside the application years: nothing said
    assert not [p for p in lint_file(POLICY_PATH) if p.path[:2] == ("policy", "in_force")]


ASSUMPTION_HEAD = "    funding_years: {from: 2021, to: 2023}\n"
ASSUMPTION_ZH = "      zh: 办法发布日未载明，按 2021 年初发布计，有效期 3 年，覆盖 2021—2023 申报年度（对应 2022—2024 年集中申报）。\n"


def assumption_variant(years: str, zh: str) -> tuple[list[Problem], str]:
    """Pinggu with its window and the Chinese words of its in-force assumption rewritten (the lines between kept)."""
    text = POLICY_PATH.read_text(encoding="utf-8")
    start, end = text.index(ASSUMPTION_HEAD), text.index(ASSUMPTION_ZH) + len(ASSUMPTION_ZH)
    between = text[start + len(ASSUMPTION_HEAD) : end - len(ASSUMPTION_ZH)]
    return variant(text[start:end], f"    funding_years: {years}\n{between}      zh: {zh}\n")


def test_an_assumption_stating_another_window_right_after_chinese_characters_is_said() -> None:
    # an officer types Chinese without spaces: "覆盖2021—2023申报年度"; `\b` saw no edge between 盖 and 2 (both word
    # characters) nor between 3 and 申, so the stale window was never seen on a 2026-2028 version
    zh = "办法发布日未载明，按2021年初发布计，有效期3年，覆盖2021—2023申报年度（对应2022年至2024年集中申报）。"
    problems, text = assumption_variant("{from: 2026, to: 2028}", zh)
    (said,) = [p for p in problems if p.path[:3] == ("policy", "in_force", "assumption") and p.path[-1] == "zh"]
    assert said.line == line_of(text, "      zh: 办法发布日未载明，按2021年初")
    assert tr(said.message, "zh") == (
        f"有效期的假设说明为“{zh}”，其中写的年度是 2021—2023、2022—2024，而 policy.in_force.funding_years 为 2026—2028："
        "每份说明都会引用这段与实际有效期不符的文字"
    )


def test_an_assumption_stating_its_own_window_without_spaces_or_a_number_like_a_span_is_not_said() -> None:
    # the window applied written without spaces (2021—2023申报年度) is seen and agrees; a telephone number or a code
    # holding two years joined by a hyphen (010-2021-2099, A2021-2030) and a day (2021-2023-12-31 is no span) are
    # not spans of years: the old `\b` took 010-2021-2099 for the span 2021—2099 and warned
    zh = "办法发布日未载明，有效期3年，覆盖2021—2023申报年度（2021年至2023年），咨询电话010-2021-2099，文号A2021-2030。"
    problems, _ = assumption_variant("{from: 2021, to: 2023}", zh)
    assert [p for p in problems if p.path[:2] == ("policy", "in_force")] == []
