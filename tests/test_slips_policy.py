"""Issue 15, point 2: the common slips in a policy, each refused with a message that says the fix, in zh and en.

Each test breaks the minimal policy of tests/test_policy_errors.py the way a person slips, and asserts the message
(and, where the fix is there, what is expected) in both languages, at the line of the slip. docs/bad-inputs.md
("Slips in a policy") lists each with its test.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from test_policy_errors import TEMPLATE, line_of, mutate

from engine.core.errors import PolicyError, Problem
from engine.core.i18n import tr
from engine.language.load import compile_policy_text

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _problem(text: str) -> Problem:
    with pytest.raises(PolicyError) as caught:
        compile_policy_text(text, "p.yaml")
    problems = caught.value.problems
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def _said(p: Problem, lang: str) -> tuple[str, str]:
    return tr(p.message, lang), tr(p.expected, lang)


def test_a_tab_used_to_indent_says_to_use_spaces() -> None:
    text = mutate("        per: [applicant.id, claim.funding_year]\n", "    \tper: [applicant.id, claim.funding_year]\n")
    p = _problem(text)
    assert (p.code, p.line, p.column) == ("syntax", line_of(text, "\tper:"), 5)  # the tab, after 4 spaces
    assert _said(p, "en") == (
        "a tab is used to indent here: YAML indents with spaces only",
        "spaces in place of the tab (as many as the lines around it use)",
    )
    assert _said(p, "zh") == ("此处用了制表符（Tab）缩进：YAML 只能用空格缩进", "把 Tab 换成空格（与上下行对齐）")


def test_an_unclosed_quote_is_reported_at_the_quote_with_the_fix() -> None:
    text = mutate('  version: "1"', '  version: "1')
    p = _problem(text)
    # the string runs on to the next `"` (line 6, `title: {zh: ...}` has none; `quantum: "0.01"` on line 8 does)
    assert (p.code, p.line, p.column) == ("syntax", line_of(text, 'version: "1'), len("  version: ") + 1)
    en, en_fix = _said(p, "en")
    assert en.startswith("YAML syntax error: the quoted string opened here runs on to line 8")
    assert en.endswith("is its closing quote missing?")
    assert en_fix == 'the closing quote at the end of this text, on this line (`version: "2020.1"`)'
    zh, zh_fix = _said(p, "zh")
    assert zh.startswith("YAML 格式错误：此处开始的引号一直延续到第 8 行，解析在那里停止")
    assert zh.endswith("是否漏写了结束引号？")
    assert zh_fix == '在本行这段文字末尾补上结束引号（如 `version: "2020.1"`）'


def test_a_quote_never_closed_says_the_fix_in_chinese() -> None:
    text = TEMPLATE + '    notes_x: "never closed\n'
    p = _problem(text)
    assert (p.code, p.line) == ("syntax", line_of(text, '"never closed'))
    assert tr(p.message, "en").startswith("YAML syntax error: a quoted string opened here is never closed")
    assert tr(p.message, "zh").startswith("YAML 格式错误：此处开始的引号一直没有结束")
    assert tr(p.expected, "zh").startswith("在本行这段文字末尾补上结束引号")


@pytest.mark.parametrize(("written", "yuan"), [("50w", "500000"), ("50W", "500000"), ("5k", "5000"), ("3千元", "3000")])
def test_an_amount_with_a_unit_the_policy_does_not_read_says_the_number(written: str, yuan: str) -> None:
    # 50w = 50 × 10,000 = 500,000 yuan; 5k = 5 × 1,000; 3千元 = 3 × 1,000
    text = mutate("max: 30万", f"max: {written}")
    p = _problem(text)
    assert (p.line, str(p.path)) == (line_of(text, f"max: {written}"), "('rules', 0, 'caps', 0, 'max')")
    assert tr(p.message, "en") == f"'{written}' is not an amount a policy reads: write {yuan}"
    assert tr(p.message, "zh") == f"'{written}' 不是规则文件能识别的金额写法：请写成 {yuan}"
    assert tr(p.expected, "en") == "an amount in yuan: 300000 (30万 and 30万元 also work here)"
    assert tr(p.expected, "zh") == "以元为单位的金额，如 300000（此处也可写 30万 或 30万元）"


def test_a_fixed_amount_written_50w_says_write_500000() -> None:
    text = mutate("by: item.level\n      table: {gold: 20万, silver: 10万}", "fixed: 50w")
    p = _problem(text)
    assert _said(p, "en")[0] == "'50w' is not an amount a policy reads: write 500000"  # 50 × 10,000
    assert _said(p, "zh")[0] == "'50w' 不是规则文件能识别的金额写法：请写成 500000"


@pytest.mark.parametrize(
    ("written", "fix"),
    [
        ("三十万", "30万"),  # 三十 = 30, then 万: 30万 as the policy writes it
        ("三十万元", "30万元"),
        ("叁拾万元", "30万元"),  # the capital (大写) forms: 叁 = 3, 拾 = 10
        ("五千元", "5000元"),  # 5 × 1,000
        ("十二万五千", "125000"),  # 12 × 10,000 + 5 × 1,000: not a whole number of 万, so in yuan
        ("一百零五", "105"),
    ],
)
def test_an_amount_in_chinese_numerals_is_refused_and_says_the_written_form(written: str, fix: str) -> None:
    text = mutate("max: 30万", f"max: {written}")
    p = _problem(text)
    assert (p.line, str(p.path)) == (line_of(text, f"max: {written}"), "('rules', 0, 'caps', 0, 'max')")
    assert _said(p, "zh") == (
        f"'{written}' 是用中文数字写的金额，规则文件只认阿拉伯数字：是否想写 {fix}？",
        "以元为单位的金额，如 300000（此处也可写 30万 或 30万元）",
    )
    assert _said(p, "en")[0] == f"'{written}' is an amount written in Chinese numerals, which a policy does not read: did you mean {fix}?"


def test_a_fixed_amount_in_chinese_numerals_says_the_written_form() -> None:
    text = mutate("by: item.level\n      table: {gold: 20万, silver: 10万}", "fixed: 五千元")
    assert _said(_problem(text), "zh")[0] == "'五千元' 是用中文数字写的金额，规则文件只认阿拉伯数字：是否想写 5000元？"


@pytest.mark.parametrize("written", ["三万五", "一百五", "一二三", "三点五万"])
def test_chinese_numerals_that_read_two_ways_are_refused_without_a_guess(written: str) -> None:
    # 三万五 is 35000 as people say it and 30005 as the characters add up; 一百五 150 or 105; 一二三 is digits, no number
    p = _problem(mutate("max: 30万", f"max: {written}"))
    assert _said(p, "zh")[0] == f"'{written}' 不符合任何一种允许的写法"


@pytest.mark.parametrize(("written", "fix"), [("1万5千", "15000"), ("3千5百元", "3500")])  # 10,000 + 5,000; 3,000 + 500
def test_an_amount_of_digits_and_chinese_units_says_the_digits(written: str, fix: str) -> None:
    p = _problem(mutate("max: 30万", f"max: {written}"))
    assert _said(p, "zh")[0] == f"'{written}' 不是规则文件能识别的金额写法：请写成 {fix}"


def test_an_amount_of_digits_and_chinese_units_that_reads_two_ways_is_not_guessed() -> None:
    # 1万2: 12000 as people say 一万二, 10002 as the figures add up
    p = _problem(mutate("max: 30万", "max: 1万2"))
    assert _said(p, "zh")[0] == (
        "'1万2' 把数字与“万”“千”“百”等单位混写，可以有两种读法：按口语读是 12000，按字面相加是 10002；请直接写出数字（以元为单位，或如 30万 以万为单位）"
    )


@pytest.mark.parametrize(("written", "yuan"), [("50万", "500000"), ("5万元", "50000"), ("50w", "500000")])
def test_an_amount_with_a_unit_in_an_expression_says_the_number_of_yuan(written: str, yuan: str) -> None:
    # 50万 = 500,000; 5万元 = 50,000; 50w = 500,000: an expression has no units
    text = mutate('item.patent_kind == "invention"', f"item.official_fee >= {written}")
    p = _problem(text)
    assert (p.code, p.line) == ("expression", line_of(text, f">= {written}"))
    assert tr(p.message, "en") == (
        f"syntax error: {written} in an expression: write the number of yuan, {yuan} in 'item.official_fee >= {written}'"
    )
    assert tr(p.message, "zh") == f"表达式中不能写 {written}：请写成以元为单位的数字 {yuan}（表达式 'item.official_fee >= {written}'）"


def test_a_single_equals_sign_says_write_double_equals() -> None:
    text = mutate('item.patent_kind == "invention"', 'item.patent_kind = "invention"')
    p = _problem(text)
    assert (p.code, p.line) == ("expression", line_of(text, 'item.patent_kind = "invention"'))
    en, en_fix = _said(p, "en")
    zh, zh_fix = _said(p, "zh")
    assert en == "`=` does not compare: to test equality write `==` in 'item.patent_kind = \"invention\"'"
    assert en_fix == 'item.kind == "invention" (and != for "is not")'
    assert zh == "「=」不能用来比较：判断是否相等请写 `==`（表达式 'item.patent_kind = \"invention\"'）"
    assert zh_fix == '如 item.kind == "invention"（「不等于」写 !=）'
    assert "simpleeval" not in en + en_fix + zh + zh_fix


def test_a_syntax_error_never_names_the_library() -> None:
    p = _problem(mutate('item.patent_kind == "invention"', "item.patent_kind ==="))
    assert "simpleeval" not in tr(p.message, "en") + tr(p.expected, "en")
    assert tr(p.expected, "zh").startswith("一个表达式：事实（item.<事实>）")


def test_a_misspelled_fact_says_did_you_mean() -> None:
    text = mutate('item.patent_kind == "invention"', 'item.patent_knd == "invention"')
    p = _problem(text)
    assert tr(p.message, "en") == "unknown fact item.patent_knd (for patent) in 'item.patent_knd == \"invention\"'"
    assert tr(p.message, "zh") == "没有事实 item.patent_knd（事项类型 patent）（表达式 'item.patent_knd == \"invention\"'）"
    assert tr(p.expected, "en") == "did you mean item.patent_kind? facts of patent: date, id, official_fee, patent_kind, type"
    assert tr(p.expected, "zh") == "是否想写 item.patent_kind？patent 的事实有：date、id、official_fee、patent_kind、type"


def test_a_misspelled_rule_key_says_did_you_mean() -> None:
    text = mutate("    documents: [receipts]\n", "    documents: [receipts]\n    readingz: [R1]\n")
    p = _problem(text)
    assert (p.line, p.message) == (line_of(text, "readingz"), "unknown field(s) ('readingz' was unexpected)")
    assert tr(p.message, "zh") == "有不认识的字段 'readingz'：请检查拼写，或删去该字段"
    assert tr(p.expected, "en").startswith("did you mean `readings`? one of the fields: id, cites, item_type, who,")
    assert tr(p.expected, "zh").startswith("是否想写 `readings`？可用的字段：id、cites、item_type、who、")


def test_a_misspelled_fact_type_says_did_you_mean() -> None:
    p = _problem(mutate("{type: money, zh: 官方费用", "{type: mony, zh: 官方费用"))
    assert tr(p.expected, "en").startswith("did you mean money? one of: string, boolean, integer, money,")
    assert tr(p.expected, "zh").startswith("是否想写 money？可选值：string、boolean、integer、money、")


TYPES = "string boolean integer money decimal percent count date enum enum_list string_list date_list document_list identifier item_type"


def test_a_fact_type_not_among_the_types_lists_them_as_an_officer_reads_them() -> None:
    """`type: yes/no` was said "… 可选值为 ['string', 'boolean', …]", Python's list, in the message line; the types are
    the fact type enum of schemas/policy.schema.json, in its order, listed as the expected line lists them."""
    text = mutate("funding_year: {type: integer", "funding_year: {type: yes/no")
    p = _problem(text)
    assert (p.line, str(p.path)) == (line_of(text, "yes/no"), "('facts', 'claim', 'funding_year', 'type')")
    zh, zh_fix = _said(p, "zh")
    assert zh == "'yes/no' 不是可选的值，可选值为 " + "、".join(TYPES.split())
    assert zh_fix == "是否想写 boolean？可选值：" + "、".join(TYPES.split())
    assert _said(p, "en")[0] == "'yes/no' is not one of " + ", ".join(TYPES.split())


@pytest.mark.parametrize(("written", "yuan"), [("300,000", "300000"), ("300，000", "300000"), ("1,000,000.50", "1000000.5")])
def test_a_thousands_separator_in_an_amount_says_write_it_without(written: str, yuan: str) -> None:
    text = mutate("max: 30万", f"max: {written}")
    p = _problem(text)
    assert p.line == line_of(text, f"max: {written}")
    assert tr(p.message, "en") == f"'{written}' is written with a thousands separator: write {yuan}"
    assert tr(p.message, "zh") == f"'{written}' 用了千位分隔符：请去掉逗号，写成 {yuan}"


def test_a_thousands_separator_in_an_expression_is_refused_not_read_as_a_pair() -> None:
    # `item.official_fee >= 1,000` parsed as the pair (item.official_fee >= 1, 000): a pair is always true
    text = mutate('item.patent_kind == "invention"', "item.official_fee >= 1,000")
    p = _problem(text)
    assert (p.code, p.line) == ("expression", line_of(text, ">= 1,000"))
    assert tr(p.message, "en") == "1,000 has a thousands separator: write 1000 in 'item.official_fee >= 1,000'"
    assert tr(p.message, "zh") == "1,000 用了千位分隔符：请去掉逗号，写成 1000（表达式 'item.official_fee >= 1,000'）"


def test_a_full_width_thousands_separator_in_an_expression_says_the_fix() -> None:
    text = mutate('item.patent_kind == "invention"', "item.official_fee >= 1，000")
    p = _problem(text)
    assert tr(p.message, "en") == "1，000 has a thousands separator: write 1000 in 'item.official_fee >= 1，000'"
    assert tr(p.message, "zh") == "1，000 用了千位分隔符：请去掉逗号，写成 1000（表达式 'item.official_fee >= 1，000'）"


@pytest.mark.parametrize("written", ["2021/12/20", "2021.12.20", "2021年12月20日"])
def test_a_slashed_date_in_a_policy_says_write_it_with_dashes(written: str) -> None:
    text = (FIXTURES / "dated_parameters.yaml").read_text(encoding="utf-8").replace('{from: "2021-12-20"', f'{{from: "{written}"')
    p = _problem(text)
    assert p.line == line_of(text, written)
    assert tr(p.message, "en") == f"'{written}' is not a date written YYYY-MM-DD: write 2021-12-20"
    assert tr(p.message, "zh") == f"'{written}' 的日期写法不对：请按「年-月-日」写成 2021-12-20"
    assert tr(p.expected, "zh") == "按「年-月-日」书写的日期，如 2021-03-05"


def test_a_slashed_date_in_an_expression_says_write_it_with_dashes() -> None:
    text = mutate('item.patent_kind == "invention"', 'item.date >= "2021/3/5"')
    p = _problem(text)
    assert tr(p.message, "en") == (
        "`item.date` is a date, so '2021/3/5' must be a date written YYYY-MM-DD that exists: write \"2021-03-05\" in 'item.date >= \"2021/3/5\"'"
    )
    assert tr(p.message, "zh") == (
        "`item.date` 是日期，所以 '2021/3/5' 须按「年-月-日」写成存在的日期：请写成 \"2021-03-05\"（表达式 'item.date >= \"2021/3/5\"'）"
    )


def test_a_misspelled_required_key_is_one_problem_that_says_did_you_mean() -> None:
    # `whom:` for `who:` was two problems ("'who' is a required property" and "unknown field(s) ('whom' ...)")
    text = mutate("    who: {kinds: [enterprise], roles", "    whom: {kinds: [enterprise], roles")
    p = _problem(text)
    assert (p.line, p.message) == (line_of(text, "whom:"), "unknown field(s) ('whom' was unexpected)")
    assert tr(p.expected, "en").startswith("did you mean `who`? one of the fields: id, cites, item_type, who,")
    assert tr(p.expected, "zh").startswith("是否想写 `who`？可用的字段：id、cites、item_type、who、")


@pytest.mark.parametrize(
    ("written", "char", "fix"), [("item.patent_kind == “invention”", "“", '"'), ("（item.official_fee > 0）", "（", "(")]
)
def test_a_full_width_bracket_or_quote_in_an_expression_says_the_ascii_one(written: str, char: str, fix: str) -> None:
    # typed with a Chinese input method: Python says "invalid character '“' (U+201C)"
    text = mutate('item.patent_kind == "invention"', written)
    p = _problem(text)
    assert tr(p.message, "en") == f"full-width character `{char}` in an expression: write `{fix}` in {written!r}"
    assert tr(p.message, "zh") == f"表达式中用了全角字符「{char}」：请改为半角的 `{fix}`（表达式 {written!r}）"
    assert tr(p.expected, "zh") == '括号、引号和符号请在输入法的英文状态下输入：( ) " = > <'


@pytest.mark.parametrize(("sign", "fix"), [("≥", ">="), ("≤", "<="), ("≠", "!="), ("×", "*")])
def test_a_math_sign_as_the_measures_print_it_says_the_ascii_to_write(sign: str, fix: str) -> None:
    # an officer copied "得分≥60" from the measures: Python said "invalid character '≥' (U+2265)", in English
    written = f"len(item.patent_kind) {sign} 2"
    p = _problem(mutate('item.patent_kind == "invention"', written))
    assert tr(p.message, "zh") == f"表达式中用了符号「{sign}」：请写作 `{fix}`（表达式 {written!r}）"
    assert tr(p.message, "en") == f"the sign `{sign}` in an expression: write `{fix}` in {written!r}"


def test_python_s_syntax_words_are_said_in_chinese() -> None:
    p = _problem(mutate('item.patent_kind == "invention"', "len(item.patent_kind > 0"))
    assert tr(p.message, "en") == "syntax error: '(' was never closed in 'len(item.patent_kind > 0'"
    assert tr(p.message, "zh") == "表达式写法有误：括号「(」没有闭合（表达式 'len(item.patent_kind > 0'）"


def test_a_policy_file_that_does_not_exist_says_so_in_chinese(tmp_path: Path) -> None:
    from engine.language.load import compile_policy_file

    with pytest.raises(PolicyError) as caught:
        compile_policy_file(tmp_path / "pinggu_2020.yml")  # .yml for .yaml
    (p,) = caught.value.problems
    assert tr(p.message, "en") == "cannot read file: No such file or directory"
    assert tr(p.message, "zh") == "无法读取文件：文件不存在（请检查文件名和路径）"


def test_a_slip_in_a_cap_shared_by_four_rules_is_said_once() -> None:
    # an officer's `per: [企业, 年度]` on a cap four rules share printed each of its two errors four times
    text = (FIXTURES / "dated_parameters.yaml").read_text(encoding="utf-8")
    assert (
        text.count("{shared: tax-contribution-cap}") == 4
        and text.count("    per: [applicant.id, claim.funding_year]\n    cites: 第四条") == 1
    )
    bad = text.replace(
        "    per: [applicant.id, claim.funding_year]\n    cites: 第四条", "    per: [企业, claim.funding_year]\n    cites: 第四条"
    )
    p = _problem(bad)  # (one problem, not four)
    assert p.path == ("shared_caps", 0, "per", 0) and "不认识的名称 '企业'" in tr(p.message, "zh")


def test_an_amount_of_one_form_with_a_wrong_value_names_that_value_not_another_form_s_fields() -> None:
    # an officer's `{per_unit: 'param("award", item.grant_date)', count: 1}` was told "closest: unknown fields 'count',
    # 'per_unit'" (another form's error, jsonschema's best match): the per-unit form fits, its per_unit does not
    text = (FIXTURES / "dated_parameters.yaml").read_text(encoding="utf-8")
    old = "amount: {per_unit: 2万, count: item.grant_countries}"
    assert text.count(old) == 1
    p = _problem(text.replace(old, "amount: {per_unit: 'item.countries * 2', count: 1}"))  # (two slips in the one form)
    assert "unknown field" not in tr(p.message, "en") and "'item.countries * 2'" in tr(p.message, "en")
    assert "最接近的一种：'item.countries * 2' 的写法不对" in tr(p.message, "zh")


@pytest.mark.parametrize("written", ["2%", "item.loan_amount * 2%", 'param("lpr_1y", item.loan_date)'])
def test_a_computed_value_where_an_amount_goes_says_the_forms_that_compute_it(written: str) -> None:
    # an officer's `max: 2%` was told only "expected an amount: 300000, 30万": not how a share of a fact is written
    text = (FIXTURES / "dated_parameters.yaml").read_text(encoding="utf-8")
    old = "amount: {per_unit: 2万, count: item.grant_countries}"
    assert text.count(old) == 1
    p = _problem(text.replace(old, f"amount: {{fixed: '{written}'}}"))
    assert p.path[-2:] == ("amount", "fixed")
    assert "{max: {rate: 2%, of: item.loan_amount}}" in tr(p.expected, "en") and "按日期取值的表" in tr(p.expected, "zh")


@pytest.mark.parametrize(
    ("old", "new", "chars", "fixed"),
    [
        ("rate: 50%", "rate: 50％", "％", "50%"),  # a full-width percent sign
        ("max: 30万", "max: ３０万", "３０", "30万"),  # full-width digits
        ("max: 30万", "max: “30万”", "“”", "30万"),  # Chinese quotation marks, kept in the value by YAML
    ],
)
def test_a_value_typed_full_width_names_the_characters_and_the_fix(old: str, new: str, chars: str, fixed: str) -> None:
    """A Chinese input method's ％, full-width digits or “ ” in a value were "'50％' fits none of the allowed forms"."""
    text = mutate(old, new)
    p = _problem(text)
    written = new.split(": ", 1)[1]
    assert p.line == line_of(text, new)
    assert _said(p, "zh") == (
        f"'{written}' 中有全角字符或中文引号 {chars}：请改用半角，写成 '{fixed}'",
        "半角字符（把输入法切换到半角或英文）：数字、%、逗号、冒号和引号都用半角",
    )
    assert tr(p.message, "en") == f"'{written}' holds {chars}, typed full-width or as Chinese quotation marks: write '{fixed}'"


def test_a_full_width_colon_after_a_key_is_said_at_its_line() -> None:
    """`max：30万` (a Chinese input method's colon) was "could not find expected ':'", at the line after it."""
    text = mutate("max: 30万", "max：30万")
    p = _problem(text)
    assert (p.code, p.line, p.column) == (
        "syntax",
        line_of(text, "max：30万"),
        text.splitlines()[line_of(text, "max：30万") - 1].index("：") + 1,
    )
    assert _said(p, "zh") == (
        "max 后面的冒号是全角「：」，YAML 不把它当作冒号",
        "键后用半角冒号加空格：`max: …`（把输入法切换到半角或英文）",
    )


def test_a_full_width_colon_inside_braces_is_said_as_such() -> None:
    """`{rate： 50%, of: …}`: YAML reads "rate： 50%" as one key with no value, said as an unknown field 'rate： 50%'
    with no word of the colon (the same slip at the start of a line was said well)."""
    text = mutate("amount: {rate: 50%, of: item.official_fee}", "amount: {rate： 50%, of: item.official_fee}")
    p = _problem(text)
    assert p.line == line_of(text, "rate： 50%")
    assert _said(p, "zh") == (
        "rate 后面的冒号是全角「：」，YAML 不把它当作冒号",
        "键后用半角冒号加空格：`rate: …`（把输入法切换到半角或英文）",
    )


def test_a_key_without_its_colon_is_said_at_its_own_line() -> None:
    """`max 30万` was placed at the line after it, where the parser stopped; it is placed where the key is."""
    text = mutate("max: 30万", "max 30万")
    p = _problem(text)
    assert (p.code, p.line) == ("syntax", line_of(text, "max 30万"))


def test_an_amount_compared_with_a_percentage_is_refused() -> None:
    """`item.official_fee > 50%` was taken: true of any fee above 0.50 yuan. An amount is never compared with a
    percentage; the message says the sides as written (it showed the checker's `_pct_(50)`)."""
    text = mutate('test: item.patent_kind == "invention"', "test: item.official_fee > 50%")
    p = _problem(text)
    assert p.line == line_of(text, "item.official_fee > 50%")
    zh, fix = _said(p, "zh")
    assert zh.startswith("`item.official_fee` 为金额，`50%` 为百分比：金额不能与百分比比较")
    assert fix.startswith("比例写在金额计算中（`rate: 50%`）")


@pytest.mark.parametrize(("written", "meant"), [("amount", "money"), ("金额", "money"), ("int", "integer"), ("百分比", "percent")])
def test_a_fact_type_written_in_other_words_says_the_type_meant(written: str, meant: str) -> None:
    """`type: amount` was answered "did you mean count?" (the nearest spelling): money is meant."""
    p = _problem(mutate("{type: money, zh: 官方费用", f"{{type: {written}, zh: 官方费用"))
    assert tr(p.expected, "zh").startswith(f"是否想写 {meant}？可选值：")


def test_a_version_written_unquoted_says_to_quote_it() -> None:
    """`version: 2020.10` is read by YAML as a number: it was "2020.10 的类型不对，应为 文字（string）", with no word of
    quotes."""
    text = mutate('  version: "1"', "  version: 2020.10")
    p = _problem(text)
    assert p.line == line_of(text, "version: 2020.10")
    assert _said(p, "zh") == ("此处应是文字，YAML 把未加引号的 2020.10 读成了数字", '加引号的文字："2020.10"')


def test_an_unquoted_colon_in_a_braced_value_says_to_quote_it() -> None:
    """`{zh: …, en: note: invention patents only}` was "did not find expected ',' or '}'" with no word of quotes."""
    text = mutate("says: {zh: 仅限发明专利, en: invention patents only}", "says: {zh: 仅限发明专利, en: note: invention patents only}")
    p = _problem(text)
    assert (p.code, p.line) == ("syntax", line_of(text, "en: note:"))
    assert _said(p, "zh") == (
        "en 的值含有冒号加空格（“note: invention patents only”）：在花括号 { } 中，YAML 会把它当作另一个键",
        '给这个值加上引号：`en: "…"`',
    )


def test_a_key_left_empty_says_to_fill_or_delete_it() -> None:
    """`when:` left with nothing under it (its only condition deleted) was "null 的类型不对，应为 列表（array）"."""
    text = mutate('      - test: item.patent_kind == "invention"\n        says: {zh: 仅限发明专利, en: invention patents only}\n', "")
    p = _problem(text)
    assert p.line == line_of(text, "when:")
    assert _said(p, "zh") == ("when: 下面什么也没有写（YAML 把它读成空值 null）", "在 when: 下面写上内容，或删去 `when:` 这一行")


def test_one_value_where_a_list_is_wanted_says_the_brackets() -> None:
    """`per: applicant.id` was "… 应为 列表（array）" and "应为 范围。" (the field's description)."""
    text = mutate("per: [applicant.id, claim.funding_year]", "per: applicant.id")
    p = _problem(text)
    assert p.line == line_of(text, "per: applicant.id")
    assert _said(p, "zh") == (
        "'applicant.id' 是单个值，此处应是列表：请写成 [applicant.id]",
        "方括号中的列表，各项用逗号分隔：[applicant.id, claim.funding_year]",
    )


def test_a_scope_written_in_words_says_what_a_scope_is() -> None:
    """`per: 每家企业每年` said "请写成 [每家企业每年]", which only led to "不认识的名称"; it says what a scope is."""
    text = mutate("per: [applicant.id, claim.funding_year]", "per: 每家企业每年")
    p = _problem(text)
    assert p.line == line_of(text, "per: 每家企业每年")
    assert _said(p, "zh") == (
        "'每家企业每年' 是文字说明，不是范围：per 应列出按哪些事实分别累计（文字说明写在 says 中）",
        "per 中每一项是一个事实，按它的取值分别累计：如 applicant.id（每个申请人）、claim.funding_year（每个申报年度）、"
        "item.patent_id（每件专利）；单项封顶写 per: item",
    )
    assert _said(p, "en")[0] == (
        "'每家企业每年' is words, not a scope: per lists the facts whose values are counted separately (the words belong in says)"
    )
    # facts written without their brackets still get the brackets
    p = _problem(mutate("per: [applicant.id, claim.funding_year]", "per: applicant.id, claim.funding_year"))
    assert _said(p, "zh")[0] == ("'applicant.id, claim.funding_year' 是单个值，此处应是列表：请写成 [applicant.id, claim.funding_year]")


def test_a_backwards_funding_window_says_what_is_expected() -> None:
    """`funding_years: {from: 2025, to: 2024}` said only that the window starts after it ends, with no 应为 line."""
    text = mutate("funding_years: {from: 2024, to: 2025}", "funding_years: {from: 2025, to: 2024}")
    p = _problem(text)
    assert p.line == line_of(text, "funding_years:")
    assert _said(p, "zh") == (
        "有效期的起始年度（2025）晚于截止年度（2024）",
        "from 不晚于 to（两个年度可能写反了：{from: 2024, to: 2025}）",
    )
    assert _said(p, "en")[1] == "from no later than to (the two years may be swapped: {from: 2024, to: 2025})"


def test_a_codes_name_written_for_the_code_says_the_code() -> None:
    """`who: {kinds: [企业]}` listed the codes only; the word written is a code's name, and the fix is that code."""
    text = TEMPLATE.replace("who: {kinds: [enterprise]}", "who: {kinds: [企业]}", 1)
    assert text != TEMPLATE
    p = _problem(text)
    assert _said(p, "zh") == ("没有申请人类型 '企业'", "代码 enterprise（'企业' 是它的名称）")


def test_words_written_where_a_text_in_two_languages_is_wanted_say_to_write_zh() -> None:
    """`says: 仅限发明专利` was "的类型不对，应为 映射（…object）" twice, no word of `{zh: …}`."""
    text = mutate("says: {zh: 仅限发明专利, en: invention patents only}", "says: 仅限发明专利")
    p = _problem(text)
    assert _said(p, "zh") == (
        "此处要写成中英文两种文字，不能只写一段文字：请写作 {zh: 仅限发明专利}（en: 可以另加，也可以不写）",
        "{zh: 仅限发明专利, en: ...}：中文，有英文时再加英文",
    )
    compile_policy_text(
        mutate("says: {zh: 仅限发明专利, en: invention patents only}", "says: {zh: 仅限发明专利}"), "p.yaml"
    )  # the fix loads


def test_a_rate_written_as_a_whole_number_says_write_it_with_its_percent_sign() -> None:
    """`rate: 80` was "80 太大，不能大于 1" with no word of 80%."""
    p = _problem(mutate("amount: {rate: 50%, of: item.official_fee}", "amount: {rate: 80, of: item.official_fee}"))
    assert _said(p, "zh") == ("80 不是比例（比例是 1 的几分之几）：请写作 80%", "带百分号的比例，如 80%；或写成小数（50% 写作 0.5）")


def test_a_number_written_with_its_word_says_the_number_alone() -> None:
    """`from: 2021年` was "'2021年' 的类型不对，应为 整数（integer）", the same words twice."""
    text = TEMPLATE.replace("from: 2024", "from: 2024年", 1)
    assert text != TEMPLATE
    p = _problem(text)
    assert _said(p, "zh")[0] == "'2024年' 带了单位：此处只写数字 2024"
    # the expected line was "不带千位分隔符的数字，如 1000": a thousands separator was never the slip
    assert _said(p, "zh")[1] == "只写数字、不带单位，如 2024"


def test_a_number_written_with_a_leading_zero_names_the_zero() -> None:
    """`times: 03` was only "'03' 的类型不对，应为 整数（integer）": YAML reads 03 as text, and nothing said why."""
    text = mutate("        times: 1\n", "        times: 03\n")
    p = _problem(text)
    assert p.line == line_of(text, "times: 03")
    assert _said(p, "zh") == ("'03' 以 0 开头，YAML 把它读成了文字而不是数字：请写作 3", "不以 0 开头的整数，如 3")
    assert _said(p, "en") == (
        "'03' starts with 0, so YAML reads it as text, not a number: write 3",
        "a whole number without a leading 0, e.g. 3",
    )


def test_a_limit_s_times_written_with_its_word_expects_the_number_alone() -> None:
    p = _problem(mutate("        times: 1\n", "        times: 1次\n"))
    assert _said(p, "zh") == ("'1次' 带了单位：此处只写数字 1", "只写数字、不带单位，如 1")
    assert _said(p, "en") == ("'1次' is a number with its word: write the number alone, 1", "the number alone, without its word: 1")


@pytest.mark.parametrize(("written", "fix"), [("两", "2"), ("三次", "3"), ("一百二十", "120"), ("十二", "12")])
def test_a_limit_s_times_in_chinese_numerals_says_the_digits(written: str, fix: str) -> None:
    """(walk of session 35) `times: 两` was "'两' 的类型不对，应为 整数（integer）" twice, with no word of 2.
    By hand: 两 = 2; 三次 = 3 (its word dropped); 一百二十 = 1 × 100 + 2 × 10 = 120; 十二 = 10 + 2 = 12."""
    text = mutate("        times: 1\n", f"        times: {written}\n")
    p = _problem(text)
    assert p.line == line_of(text, f"times: {written}")
    assert _said(p, "zh") == (f"'{written}' 用的是中文数字，规则文件只认阿拉伯数字：请写作 {fix}", f"用阿拉伯数字写的整数，如 {fix}")
    assert _said(p, "en") == (
        f"'{written}' is a number written in Chinese numerals, which a policy does not read: write {fix}",
        f"a whole number in digits: {fix}",
    )


def test_a_limit_s_times_in_chinese_numerals_that_read_two_ways_is_not_guessed() -> None:
    """`一百五` is 150 as people say it and 105 as the characters add up: no digits are offered."""
    p = _problem(mutate("        times: 1\n", "        times: 一百五\n"))
    assert "请写作" not in _said(p, "zh")[0]


def test_a_yes_no_fact_compared_with_text_reads_plainly() -> None:
    """`x == "是"` said "`x` 是是/否，`'是'` 是文字": two 是 in a row. The kinds are said with 为."""
    from conftest import POLICY_PATH

    text = POLICY_PATH.read_text(encoding="utf-8").replace(
        "    test: applicant.registered_in_district and", '    test: applicant.registered_in_district == "是" and', 1
    )
    with pytest.raises(PolicyError) as caught:
        compile_policy_text(text, str(POLICY_PATH))
    [p] = caught.value.problems
    assert tr(p.message, "zh").startswith("`applicant.registered_in_district` 为是/否，`'是'` 为文字：是/否不能与文字比较")


@pytest.mark.parametrize(
    ("written", "word", "fix"),
    [
        ('item.patent_kind == "invention" 且 item.official_fee > 0', "且", "and"),
        ('item.patent_kind == "invention" 并且 item.official_fee > 0', "并且", "and"),
        ('item.patent_kind == "invention" 或 item.official_fee > 0', "或", "or"),
        ('item.patent_kind == "invention" 或者 item.official_fee > 0', "或者", "or"),
        ('item.patent_kind == "invention" && item.official_fee > 0', "&&", "and"),
        ('item.patent_kind == "invention" || item.official_fee > 0', "||", "or"),
    ],
)
def test_and_or_written_in_chinese_or_as_c_says_the_word_to_write(written: str, word: str, fix: str) -> None:
    # was the catch-all "表达式写法有误：请检查运算符、括号和引号是否写全": it never said that 且 is `and`
    text = mutate('item.patent_kind == "invention"', written)
    p = _problem(text)
    assert (p.code, p.line) == ("expression", line_of(text, written))
    assert tr(p.message, "zh") == f"表达式中不能用「{word}」：请写作 `{fix}`（表达式 {written!r}）"
    assert tr(p.message, "en") == f"`{word}` in an expression: write `{fix}` in {written!r}"
    assert tr(p.expected, "zh") == "「且」「并且」写 and，「或」「或者」写 or，「非」写 not，前后各留一个空格：applicant.a and applicant.b"


def test_a_quoted_chinese_or_is_no_slip() -> None:
    # 或 inside quotes is text, not a slip: the value is compared as written (here: no such value of the enum)
    text = mutate('item.patent_kind == "invention"', 'item.patent_kind == "发明或外观"')
    p = _problem(text)
    assert p.code == "unknown_value"


@pytest.mark.parametrize(("written", "char", "fix"), [("item.official_fee ！= 0", "！", "!"), ("item.official_fee ＞= 0", "＞", ">")])
def test_a_full_width_sign_before_equals_is_named_not_taken_for_a_single_equals(written: str, char: str, fix: str) -> None:
    # `！=` typed with the Chinese input method was reported as "「=」不能用来比较：请写 `==`", a fix that makes it `！==`
    p = _problem(mutate('item.patent_kind == "invention"', written))
    assert tr(p.message, "zh") == f"表达式中用了全角字符「{char}」：请改为半角的 `{fix}`（表达式 {written!r}）"
    assert tr(p.message, "en") == f"full-width character `{char}` in an expression: write `{fix}` in {written!r}"


def test_an_item_fact_a_check_without_applies_to_cannot_see_is_said_in_chinese_with_the_fix() -> None:
    # was "没有事实 item.official_fee（事项类型 every item）": English in the Chinese message, and no word of applies_to
    check = "checks:\n  - id: fee-paid\n    cites: 第一条\n    level: item\n    category: condition\n    test: item.official_fee > 0\n    says: {zh: 须已缴费, en: fees paid}\n"
    text = mutate("rules:\n", check + "rules:\n")
    p = _problem(text)
    assert (p.code, p.line) == ("expression", line_of(text, "test: item.official_fee > 0"))
    assert tr(p.message, "zh") == (
        "没有事实 item.official_fee：不写 applies_to 的审查只能用各类事项共有的事实（item_facts）；"
        "要用某类事项自己的事实，请给这条审查写上 applies_to: [事项类型]（表达式 'item.official_fee > 0'）"
    )
    assert tr(p.expected, "zh") == "item 的事实有：date、id、type"  # the minimal policy's item_facts
    assert "every item" not in tr(p.message, "zh") + tr(p.expected, "zh")
    assert tr(p.message, "en").startswith("unknown fact item.official_fee: a check without applies_to sees only the facts every item has")
    compile_policy_text(text.replace("    level: item\n", "    level: item\n    applies_to: [patent]\n"), "p.yaml")  # the fix it says


def _note_cited(ref: str, ids: Iterable[int]) -> tuple[str, Problem]:
    notes = "  notes:\n" + "".join(f"    - {{id: N{i}, zh: 说明{i}, en: note {i}}}\n" for i in ids)
    text = mutate("  rounding: {quantum", notes + "  rounding: {quantum")
    text = mutate(
        "        per: [applicant.id, claim.funding_year]\n",
        f"        per: [applicant.id, claim.funding_year]\n        notes: [{ref}]\n",
        text,
    )
    return text, _problem(text)


def test_a_note_id_not_among_the_notes_says_did_you_mean_and_lists_them_in_their_order() -> None:
    # was "应为 N1, N10, N2" (sorted as text, comma-separated in Chinese too), never a "did you mean"
    text, p = _note_cited("N100", (1, 2, 10))
    assert (p.line, str(p.path)) == (line_of(text, "notes: [N100]"), "('rules', 0, 'caps', 0, 'notes', 0)")
    assert tr(p.message, "zh") == "口径说明 'N100' 不在 policy.notes 中"
    # 100 is one digit from 10 only (1 and 2 are two and three away)
    assert tr(p.expected, "zh") == "是否想写 'N10'？`policy.notes` 中的一个编号：N1、N2、N10"
    assert tr(p.expected, "en") == "did you mean 'N10'? an id of `policy.notes`: N1, N2, N10"


def test_a_note_id_with_no_single_near_number_is_not_guessed() -> None:
    """N13 among N1-N12 was "是否想写 'N3'？" (difflib's nearest spelling), a wrong guess: N13 is one digit from N1, N3,
    N10, N11 and N12 alike, and may be a note not yet written. Only the ids are listed."""
    _, p = _note_cited("N13", range(1, 13))
    assert tr(p.expected, "zh") == "`policy.notes` 中的一个编号：N1、N2、N3、N4、N5、N6、N7、N8、N9、N10、N11、N12"
    _, p = _note_cited("N20", (1, 2, 10))  # one digit from N2 and from N10: no guess either
    assert tr(p.expected, "zh") == "`policy.notes` 中的一个编号：N1、N2、N10"
    _, p = _note_cited("n3", range(1, 13))  # the same number, the letter in lower case
    assert tr(p.expected, "zh").startswith("是否想写 'N3'？")


def test_a_note_cited_in_a_policy_without_notes_says_the_fix_in_chinese() -> None:
    # was the English "a note id" under --lang zh
    text = mutate(
        "        per: [applicant.id, claim.funding_year]\n", "        per: [applicant.id, claim.funding_year]\n        notes: [N1]\n"
    )
    p = _problem(text)
    assert tr(p.expected, "zh") == "在 `policy.notes` 下写上这条说明（id、zh、en），或删去这个引用"
    assert tr(p.expected, "en") == "the note written under `policy.notes` (id, zh, en), or no reference to it"


def _parameter_from(day: str) -> str:
    block = f'parameters:\n  lpr:\n    zh: 一年期LPR\n    type: percent\n    values:\n      - {{from: "{day}", value: 3.70%, source: {{zh: 公告}}}}\n'
    return mutate("clauses:\n", block + "clauses:\n")


@pytest.mark.parametrize(
    ("day", "zh", "en"),
    [
        # February 2021 has 28 days, February 2024 (a leap year) 29, April 30
        (
            "2021-02-30",
            "'2021-02-30' 这一天不存在：2021 年 2 月只有 28 天",
            "'2021-02-30' is no day of the calendar: month 2 of 2021 has 28 days",
        ),
        (
            "2024-02-30",
            "'2024-02-30' 这一天不存在：2024 年 2 月只有 29 天",
            "'2024-02-30' is no day of the calendar: month 2 of 2024 has 29 days",
        ),
        (
            "2021/4/31",
            "'2021/4/31' 这一天不存在：2021 年 4 月只有 30 天",
            "'2021/4/31' is no day of the calendar: month 4 of 2021 has 30 days",
        ),
        ("2021-13-01", "'2021-13-01' 不是日期：月份只能是 1 到 12", "'2021-13-01' is no date: a month is 1 to 12"),
        ("soon", "'soon' 不是日期", "'soon' is not a date"),
    ],
)
def test_a_date_the_calendar_does_not_have_says_why_and_what_to_write(day: str, zh: str, en: str) -> None:
    # was "'2021-02-30' 不是有效的 'date' 格式" with nothing expected: the officer was not told that February has 28 days
    text = _parameter_from(day)
    p = _problem(text)
    assert (p.line, str(p.path)) == (line_of(text, f'from: "{day}"'), "('parameters', 'lpr', 'values', 0, 'from')")
    assert _said(p, "zh") == (zh, "按「年-月-日」书写的日期，如 2021-03-05")
    assert _said(p, "en") == (en, "a date written YYYY-MM-DD, e.g. 2021-03-05")


def test_a_date_written_with_slashes_still_says_the_date_to_write() -> None:
    p = _problem(_parameter_from("2021/3/1"))
    assert _said(p, "zh")[0] == "'2021/3/1' 的日期写法不对：请按「年-月-日」写成 2021-03-01"


@pytest.mark.parametrize(
    ("template", "zh"),
    [
        ("{% if d.total %}x{% endfi %}", "不认识的标签 endfi：此处应先用 {% endif %} 结束 {% if %} 块"),
        ("{% for i in d.items %}{{ i.id }}", "模板结束时 {% for %} 块还没有结束：请补上 {% endfor %}"),
        ("{{ d.total }", "多了一个「}」，或者它前面少了什么"),
        (
            "{% do d.items.append(1) %}",
            "不认识的标签 do（jinja2 的标签有 if、for、set、macro、include、import 等，结束标签写 endif、endfor）",
        ),
    ],
)
def test_a_template_that_does_not_compile_is_said_in_chinese(template: str, zh: str) -> None:
    # was jinja2's English under --lang zh: "无法编译：Encountered unknown tag 'endfi'. Jinja was looking for ..."
    text = TEMPLATE + f"templates:\n  zh:\n    explain.md.j2: {template!r}\n"
    p = _problem(text)
    assert (p.code, p.line) == ("template", line_of(text, "explain.md.j2:"))
    assert tr(p.message, "zh") == f"模板 'explain.md.j2'：模板第 1 行：无法编译：{zh}"
    assert "Jinja" not in tr(p.message, "zh") and "Encountered" not in tr(p.message, "zh")


def test_a_template_language_that_is_none_is_refused_not_silently_ignored() -> None:
    # `cn:` (or `zh-CN:`) for `zh:`: every override under it was silently never used, validate said nothing
    text = TEMPLATE + "templates:\n  cn:\n    status.refused: 不予资助\n"
    p = _problem(text)
    # at `cn:`, the key of the mapping it is about (it was the line below, the mapping's first entry), its path naming `templates.cn`
    assert (p.code, p.line, str(p.path)) == ("template", line_of(text, "  cn:"), "('templates', 'cn')")
    assert _said(p, "zh") == ("templates 下的 'cn' 不是说明的语言：这些用语和模板不会被用到", "以下之一：all、en、zh（all 表示各种语言）")


def test_a_message_override_for_every_language_must_be_a_message_of_each() -> None:
    text = TEMPLATE + "templates:\n  all:\n    status.refusd: 不予资助\n"
    p = _problem(text)
    assert (p.code, p.line) == ("template", line_of(text, "status.refusd:"))
    assert _said(p, "zh")[0] == "用语 'status.refusd'：en 语言的用语目录中没有这一条（说明不会用到它）"
    assert _said(p, "zh")[1].startswith("是否想写 'status.refused'？")
    compile_policy_text(TEMPLATE + "templates:\n  all:\n    status.refused: 不予资助\n", "p.yaml")  # the key it suggests loads


@pytest.mark.parametrize(("word", "fix"), [("false", "False"), ("true", "True"), ("null", "None"), ("TRUE", "True")])
def test_yes_or_no_written_as_yaml_writes_it_says_the_capital_to_write(word: str, fix: str) -> None:
    # `item.official_fee > 0 == false` as the YAML around it writes false: it was "不认识的名称 'false'" with the hint
    # "文字要加引号", a fix that compares with the text "false"
    written = f"item.official_fee > 0 == {word}"
    p = _problem(mutate('item.patent_kind == "invention"', written))
    assert p.code == "expression"
    assert (
        tr(p.message, "zh")
        == f"表达式中的是、否、无写作 True、False、None（首字母大写，不加引号）：'{word}' 请写作 {fix}（表达式 {written!r}）"
    )
    assert tr(p.expected, "zh") == "如 item.lender_is_bank == True，或直接写 item.lender_is_bank（「否」写 not item.lender_is_bank）"
    assert tr(p.message, "en").startswith(
        f"yes, no and nothing are written True, False, None in an expression (a capital letter, no quotes): write '{word}' as {fix}"
    )


def test_the_forms_an_amount_may_take_are_said_in_chinese_first() -> None:
    # was "以下写法之一：rate × base / 按比例; fixed / 定额; …": English first in a Chinese sentence, joined with "; "
    text = mutate("amount: {rate: 50%, of: item.official_fee}", "amount: {rate: 50%, of: item.official_fee, fixed: 5万}")
    p = _problem(text)
    assert p.line == line_of(text, "fixed: 5万}")
    assert tr(p.expected, "zh") == (
        "以下写法之一：按比例（rate × base）、定额（fixed）、按等级（table by level）、外部确定金额（external amount）、"
        "分档（bands）、按数量（per unit × count）、取较小者（lesser of）"
    )
    assert tr(p.expected, "en").startswith("one of the forms: rate × base / 按比例, fixed / 定额, table by level / 按等级,")


@pytest.mark.parametrize(
    ("written", "fix"),
    [
        ("!item.patent_kind", "not item.patent_kind"),
        ("!item.patent_kind or item.official_fee > 0", "not item.patent_kind or item.official_fee > 0"),
    ],
)
def test_not_written_as_a_bang_says_write_not_and_the_expression_to_write(written: str, fix: str) -> None:
    # `test: !item.x`: YAML reads `!item.x` as a tag; it was "不允许使用 YAML 标签 '!item.x'：请直接写值", no word of `not`
    text = mutate('test: item.patent_kind == "invention"', f"test: {written}")
    p = _problem(text)
    assert (p.code, p.line) == ("tag", line_of(text, f"test: {written}"))
    assert _said(p, "zh") == ("YAML 把开头的 ! 读成了标签 '!item.patent_kind'：表达式中的「非」写作 not", fix)
    assert _said(p, "en") == ("YAML reads the leading ! as a tag '!item.patent_kind': in an expression, write not", fix)


@pytest.mark.parametrize("word", ["enterprise", "企业"])
def test_a_scope_written_in_words_says_a_scope_is_facts(word: str) -> None:
    # `per: [enterprise, claim.funding_year]` ("per enterprise per year"): the hint was "…；文字要加引号", and quoting it
    # makes a constant, not a scope
    text = mutate("per: [applicant.id, claim.funding_year]", f"per: [{word}, claim.funding_year]")
    p = _problem(text)
    assert (p.code, str(p.path)) == ("expression", "('rules', 0, 'caps', 0, 'per', 0)")
    assert tr(p.message, "zh") == f"不认识的名称 '{word}'（表达式 '{word}'）"
    assert tr(p.expected, "zh") == (
        "per 中每一项是一个事实，按它的取值分别累计：如 applicant.id（每个申请人）、claim.funding_year（每个申报年度）、"
        "item.patent_id（每件专利）；单项封顶写 per: item"
    )


def test_a_misspelt_table_key_is_one_problem_not_also_a_missing_value() -> None:
    # `silvr:` was two problems, the follow-on first: "表中没有 silver 的金额", then "item.level 不可能是 'silvr'"
    text = mutate("table: {gold: 20万, silver: 10万}", "table: {gold: 20万, silvr: 10万}")
    p = _problem(text)
    assert (p.code, str(p.path)) == ("unknown_value", "('rules', 1, 'amount', 'table', 'silvr')")
    assert _said(p, "zh") == ("item.level 不可能是 'silvr'", "是否想写 'silver'？可选值：gold、silver")


def test_a_value_left_out_of_a_table_is_still_said() -> None:
    p = _problem(mutate("table: {gold: 20万, silver: 10万}", "table: {gold: 20万}"))
    assert _said(p, "zh") == ("表中没有 silver 的金额", "item.level 每个取值对应的金额")


def test_a_misspelt_amount_key_is_one_problem_that_says_did_you_mean() -> None:
    # `amout:` was two problems: "{id: 'patent-fees', …} 不符合任何一种允许的写法（最接近的一种：缺少必填字段 'amount'）"
    # (a rule is an amount rule or a referral), then the unknown field with its did-you-mean
    text = mutate("    amount: {rate: 50%, of: item.official_fee}", "    amout: {rate: 50%, of: item.official_fee}")
    p = _problem(text)
    assert (p.line, str(p.path)) == (line_of(text, "amout:"), "('rules', 0, 'amout')")
    assert _said(p, "zh")[0] == "有不认识的字段 'amout'：请检查拼写，或删去该字段"
    assert _said(p, "zh")[1].startswith("是否想写 `amount`？可用的字段：")


LIMIT_SCOPE_ZH = (
    "per 中每一项是一个事实，按它的取值分别计次：如 applicant.id（每个申请人）、claim.funding_year（每个申报年度）、"
    "item.patent_id（每件专利）；次数限制的 per 须写成方括号中的事实列表，如每件专利一次写 per: [item.patent_id]"
    "（per: item 只用于单项封顶）"
)


@pytest.mark.parametrize("written", ["per: [专利]", "per: 每件专利一次"])
def test_a_limit_s_scope_in_words_gets_a_limit_s_hint_not_the_cap_s_per_item(written: str) -> None:
    """A limit's per was told "单项封顶写 per: item", which a limit does not accept (schemas/policy.schema.json: a
    limit's per is a list of expressions, `item` alone is a cap's)."""
    text = mutate("per: [item.id]", written)
    p = _problem(text)
    assert (p.line, p.path[:4]) == (line_of(text, written), ("rules", 0, "limits", 0))
    assert tr(p.expected, "zh") == LIMIT_SCOPE_ZH
    assert tr(p.expected, "en") == (
        "each entry of per is a fact, the times counted separately for each of its values: applicant.id (each applicant), "
        "claim.funding_year (each funding year), item.patent_id (each patent); a limit's per is a list of facts in square "
        "brackets, per: [item.patent_id] for once per patent (per: item is for a cap on one item only)"
    )


def test_a_limit_s_counting_in_words_says_what_counting_is() -> None:
    """`counting: [年度]` was told "per 中每一项…；单项封顶写 per: item": neither per nor a cap's item is what counting is."""
    text = mutate("per: [item.id]", "per: [item.id]\n        counting: [年度]")
    p = _problem(text)
    assert (p.line, str(p.path)) == (line_of(text, "counting: [年度]"), "('rules', 0, 'limits', 0, 'counting', 0)")
    assert tr(p.expected, "zh") == (
        "counting 中每一项是一个事实，取值相同的记为同一次：如 claim.funding_year（每个申报年度计一次）、"
        "item.loan_id（每笔贷款计一次）；不写 counting 时，每个获得支持的事项计一次"
    )
    assert tr(p.expected, "en") == (
        "each entry of counting is a fact, the same values counted as one time: claim.funding_year (once a funding "
        "year), item.loan_id (once a loan); without counting, each granted item counts once"
    )


def test_a_cap_s_scope_in_words_still_says_per_item() -> None:
    p = _problem(mutate("per: [applicant.id, claim.funding_year]", "per: [企业, claim.funding_year]"))
    assert tr(p.expected, "zh").endswith("；单项封顶写 per: item")


def test_a_selection_s_scope_in_words_says_what_ranking_per_is() -> None:
    """A round selection's per ranks, once for each of its values: it was told the cap's "…分别累计…；单项封顶写 per: item"."""
    text = (
        (FIXTURES / "subjects_rounds.yaml")
        .read_text(encoding="utf-8")
        .replace("per: [claim.funding_year]\n      order:", "per: [年度]\n      order:", 1)
    )
    p = _problem(text)
    assert (p.line, str(p.path)) == (line_of(text, "per: [年度]"), "('rules', 0, 'selection', 'per', 0)")
    assert (
        tr(p.expected, "zh")
        == "per 中每一项是一个事实，按它的取值分别排序：如 claim.funding_year（每个申报年度单独排序）；不写 per 时，整轮一起排序"
    )


def test_a_count_written_as_a_number_says_to_quote_it_not_what_an_amount_is() -> None:
    # an officer's fixed reward from a dated parameter, `{per_unit: {of: 'param(...)'}, count: 1}`, was told
    # "1 的类型不对，应为文字（string）" and, as what was expected, the amount's description ("封顶前的金额计算方式（一种）"):
    # nothing said that the count is an expression, written as a text
    text = (FIXTURES / "dated_parameters.yaml").read_text(encoding="utf-8")
    old = "amount: {per_unit: 2万, count: item.grant_countries}"
    assert text.count(old) == 1
    p = _problem(text.replace(old, "amount: {per_unit: 2万, count: 1}"))
    assert p.path[-2:] == ("amount", "count")
    assert _said(p, "zh") == ("此处应是文字，YAML 把未加引号的 1 读成了数字", '加引号的文字："1"')
    assert _said(p, "en") == ("YAML read the unquoted 1 as a number, where a text is wanted", 'the text in quotes: "1"')


def test_a_misspelt_field_of_an_amount_form_is_said_at_the_field_with_the_name_meant() -> None:
    # an officer's `max_cout: 20` in a per-unit amount was said at the amount's line, "不符合任何一种允许的写法（最接近的
    # 一种：有不认识的字段 'max_cout'…）", and as what to write the seven forms of an amount, where a misspelt field of
    # a rule or a limit (`tims: 1`) is said at its own line with "是否想写 `times`？"
    text = (FIXTURES / "dated_parameters.yaml").read_text(encoding="utf-8")
    old = "amount: {per_unit: 2万, count: item.grant_countries}"
    assert text.count(old) == 1
    bad = text.replace(old, "amount: {per_unit: 2万, count: item.grant_countries, max_cout: 3}")
    p = _problem(bad)
    assert p.path[-2:] == ("amount", "max_cout") and p.code == "schema.additionalProperties"
    line = bad.splitlines()[p.line - 1]
    assert line[p.column - 1 :] == "3}" and "max_cout" in line  # (a field is placed at its value, as `tims: 1` is)
    assert _said(p, "zh") == (
        "有不认识的字段 'max_cout'：请检查拼写，或删去该字段",
        "是否想写 `max_count`？可用的字段：base、unit、per_unit、count、max_count",
    )
    assert _said(p, "en")[1] == "did you mean `max_count`? one of the fields: base, unit, per_unit, count, max_count"


@pytest.mark.parametrize(
    ("old", "new", "key", "zh"),
    [
        # a key a space short of its sibling: the parser stops at it, "找不到应有的列表项标记「- 」（可能是缩进不对）"
        (
            "        per: [applicant.id, claim.funding_year]\n        says: {zh: 每家",
            "       per: [applicant.id, claim.funding_year]\n        says: {zh: 每家",
            "per",
            "的 `per` 与上一行（第 {prev} 行）的 `max` 对齐：缩进 8 个空格（现为 7 个）",
        ),
        # a key two deeper than the one before it (not a block it opens): "找不到应有的键（可能是缩进不对齐…）"
        (
            "    who: {kinds: [enterprise]}\n    amount: {rate: 50%, of: item.premium",
            "    who: {kinds: [enterprise]}\n      amount: {rate: 50%, of: item.premium",
            "amount",
            "的 `amount` 与上一行（第 {prev} 行）的 `who` 对齐：缩进 4 个空格（现为 6 个）",
        ),
    ],
)
def test_a_key_indented_off_its_sibling_says_the_column_to_put_it_at(old: str, new: str, key: str, zh: str) -> None:
    # an officer's `       per:` (7 spaces under `max:`'s 8) was told only that YAML found no key, or no `- `, "可能是缩进不对",
    # with no 应为 line: which line, and how many spaces
    text = (Path(__file__).resolve().parent.parent / "policies" / "pinggu_2020.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    bad = text.replace(old, new)
    p = _problem(bad)
    at = line_of(bad, new.split("\n")[1].lstrip() if key == "amount" else new.split("\n")[0].lstrip())
    assert (p.code, p.line) == ("syntax", at)
    assert tr(p.expected, "zh") == f"第 {at} 行" + zh.format(prev=at - 1)


def test_an_item_type_left_after_its_rule_was_retired_says_to_delete_it_too() -> None:
    # an officer retiring 第六条第（六）项 deleted its clause and its rule, and was told "事项类型 'navigation_project'
    # 没有规则 — 应为 一条 item_type 为该类型的规则": as if a rule were to be written, not the type deleted with it
    text = (Path(__file__).resolve().parent.parent / "policies" / "pinggu_2020.yaml").read_text(encoding="utf-8")
    start, end = text.index("  - id: navigation-project\n"), text.index("  - id: national-ip-title\n")
    with pytest.raises(PolicyError) as caught:
        compile_policy_text(text[:start] + text[end:], str(Path(__file__).resolve().parent.parent / "policies" / "p.yaml"))
    [p] = caught.value.problems
    assert (p.code, p.path) == ("no_rule", ("item_types", "navigation_project"))
    assert _said(p, "zh") == (
        "事项类型 'navigation_project' 没有规则",
        "一条 item_type 为该类型的规则；该类事项的规则已废止（删除）的，把这个事项类型也从 item_types 中删去",
    )
