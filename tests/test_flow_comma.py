"""A comma inside an unquoted flow mapping (issue 13, point 12): `says: {zh: 每年, 最高}` is YAML for `zh: 每年` and a
key `最高` with no value. It is reported as the stray key it creates, at that key's line and column, with the text
quoted as the fix -- not as the schema's "additional property" about a key nobody wrote.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_policy_errors import TEMPLATE, line_of

import engine
from engine.core.i18n import tr
from engine.language.source import parse_yaml

SAYS = "says: {zh: 仅限发明专利, en: invention patents only}"


def load_error(tmp_path: Path, old: str, new: str) -> engine.PolicyError:
    assert TEMPLATE.count(old) == 1
    path = tmp_path / "policy.yaml"
    path.write_text(TEMPLATE.replace(old, new), encoding="utf-8")
    with pytest.raises(engine.PolicyError) as err:
        engine.load_policy(path)
    return err.value


def test_a_comma_in_english_text(tmp_path: Path) -> None:
    new = "says: {zh: 仅限发明专利, en: invention patents, only}"
    err = load_error(tmp_path, SAYS, new)
    (p,) = err.problems
    text = TEMPLATE.replace(SAYS, new)
    assert (p.code, p.file, p.line) == ("flow_comma", str(tmp_path / "policy.yaml"), line_of(text, new))
    line = text.splitlines()[p.line - 1]
    assert p.column == line.index(" only}") + 2  # 1-based column of `only`
    assert p.path == ("rules", 0, "when", 0, "says", "only")
    assert p.message == "`only` became a separate key because of the comma after `en: invention patents`; quote the text"
    assert p.expected == 'en: "invention patents, only"'


def test_a_comma_in_chinese_text(tmp_path: Path) -> None:
    new = "says: {zh: 仅限发明专利, 实用新型除外, en: invention patents only}"
    (p,) = load_error(tmp_path, SAYS, new).problems
    assert p.message == "`实用新型除外` became a separate key because of the comma after `zh: 仅限发明专利`; quote the text"
    assert p.expected == 'zh: "仅限发明专利, 实用新型除外" (or the Chinese comma: zh: 仅限发明专利，实用新型除外)'
    assert p.line == line_of(TEMPLATE.replace(SAYS, new), new)


def test_the_full_width_comma_is_text() -> None:
    # "，" is not YAML's comma: `{zh: 甲，乙, en: a}` has two keys
    assert parse_yaml("says: {zh: 甲，乙, en: a}\n").data == {"says": {"zh": "甲，乙", "en": "a"}}


def test_two_commas_make_two_keys_reported_once() -> None:
    with pytest.raises(engine.PolicyError) as err:
        parse_yaml("x: 1\nsays: {zh: 甲，乙, en: a, b, c}\n", "f.yaml")
    (p,) = err.value.problems
    assert (p.line, p.column, p.path) == (2, 24, ("says", "b"))  # `says: {zh: 甲，乙, en: a, ` is 23 characters: `b` is the 24th
    assert p.message == "`b`, `c` became separate keys because of the commas after `en: a`; quote the text"
    assert p.expected == 'en: "a, b, c"'


def test_a_thousands_separator_in_a_flow_mapping() -> None:
    with pytest.raises(engine.PolicyError) as err:
        parse_yaml("amount: {per_unit: 3,000, count: item.pieces}\n", "f.yaml")
    (p,) = err.value.problems
    assert (p.line, p.column, p.path) == (1, 22, ("amount", "000"))  # `amount: {per_unit: 3,` is 21 characters
    assert (
        p.message
        == "`000` became a separate key because of the comma after `per_unit: 3`; a number is written without thousands separators"
    )
    assert p.expected == "per_unit: 3000"


@pytest.mark.parametrize(
    "text",
    [
        'says: {zh: "每年, 最高", en: "a, b"}\n',  # quoted: the comma is text
        "says: {zh: 每年，最高}\n",  # the Chinese comma
        "x: {a: 1, b: }\n",  # a key written with its colon: an empty value on purpose (the schema judges it)
        "x: [a, b]\n",  # a flow list: commas separate its items
    ],
)
def test_what_is_not_a_stray_key(text: str) -> None:
    parse_yaml(text)


def test_a_thousands_separator_inside_an_expression() -> None:
    # found by the red-team pass: `when: amount >= 200,000` was told to quote "amount >= 200, 000" (a syntax error)
    with pytest.raises(engine.PolicyError) as err:
        parse_yaml("documents: [{doc: report, when: amount >= 200,000}]\n", "f.yaml")
    (p,) = err.value.problems
    assert p.message == (
        "`000` became a separate key because of the comma after `when: amount >= 200`; a number is written without thousands separators"
    )
    assert p.expected == "when: amount >= 200000"


def test_a_number_with_a_separator_in_prose_is_text_to_quote() -> None:
    # "CNY 200,000" in an English `says` is prose: quote it (only a bare number or one after an operator of an
    # expression is read as a thousands separator)
    with pytest.raises(engine.PolicyError) as err:
        parse_yaml("says: {zh: 二十万元以上, en: from CNY 200,000}\n", "f.yaml")
    (p,) = err.value.problems
    assert p.message == "`000` became a separate key because of the comma after `en: from CNY 200`; quote the text"
    assert p.expected == 'en: "from CNY 200,000"'


@pytest.mark.parametrize(
    ("written", "said", "fix"),
    [
        ("per_unit: 1,000元", "因为 `per_unit: 1` 后面的逗号，`000元` 被当成了另一个键；数字不要加千位分隔符", "per_unit: 1000元"),
        ("max: 300,000.00", "因为 `max: 300` 后面的逗号，`000.00` 被当成了另一个键；数字不要加千位分隔符", "max: 300000.00"),
        ("max: 1,200,000元", "因为 `max: 1` 后面的逗号，`200`、`000元` 被当成了另外的键；数字不要加千位分隔符", "max: 1200000元"),
    ],
)
def test_a_thousands_separator_before_a_unit_or_cents_is_a_number_not_text(written: str, said: str, fix: str) -> None:
    # an officer's `amount: {per_unit: 1,000元, count: item.marks}` was told to quote the text, with the fix
    # `per_unit: "1, 000元"` (a space put in) or the Chinese comma, `per_unit: 1，000元`: neither is an amount
    with pytest.raises(engine.PolicyError) as err:
        parse_yaml(f"amount: {{{written}, count: item.marks}}\n", "f.yaml")
    (p,) = err.value.problems
    assert (tr(p.message, "zh"), tr(p.expected, "zh")) == (said, fix)
