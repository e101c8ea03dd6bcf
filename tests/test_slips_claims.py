"""Slips an officer makes in a claim, each refused (nothing is converted) with a message that says the fix, in Chinese
and in English (issue 15, point 2). docs/bad-inputs.md lists each slip, its messages and the test below.

Each test reads the one problem the slip gets, in both languages, and checks the fix it states: the digits to write
for an amount (worked out by hand in a comment), the date in YYYY-MM-DD, the field a misspelled name most likely meant.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, claim, item

import engine
from engine.core.errors import ClaimError, Problem
from engine.core.i18n import tr, use_language
from engine.records.batch import run_batch

P = "pledge_loan_interest"
AMOUNT = ("items", 0, "annual_interest_paid")
DATE = ("items", 0, "date")


def _refused(policy: engine.CompiledPolicy, data: dict[str, Any], path: tuple[Any, ...]) -> Problem:
    """The one problem the claim gets, at `path` (a slip is said once, not once per check it fails)."""
    with pytest.raises(ClaimError) as caught:
        engine.parse_claim(policy, data)
    problems = caught.value.problems
    assert [p.path for p in problems] == [path], [str(p) for p in problems]
    return problems[0]


def _said(problem: Problem) -> dict[str, tuple[str, str]]:
    """The problem's message and expected (its fix), in each language."""
    return {lang: (tr(problem.message, lang), tr(problem.expected, lang)) for lang in ("en", "zh")}


def _with_amount(text: str) -> dict[str, Any]:
    return claim(item(P, "l1", annual_interest_paid=text))


def _with_date(text: str) -> dict[str, Any]:
    return claim(item(P, "l1", date=text))


def test_wan_written_with_w_says_the_yuan_to_write(policy: engine.CompiledPolicy) -> None:
    # 50w = 50 × 10 000 yuan = 500 000 yuan
    said = _said(_refused(policy, _with_amount("50w"), AMOUNT))
    assert said["en"] == (
        "'50w' is not in the expected form: the amount is written in 万 (ten thousand yuan); a claim states yuan",
        'the amount in yuan, in plain digits: "500000" for 50w',
    )
    assert said["zh"] == (
        "'50w' 不符合规定的格式：金额用“万”（或 w）作单位；申请中的金额以元为单位",
        '以元为单位、只写数字的金额：50w 请写作 "500000"',
    )


def test_wan_yuan_written_in_chinese_says_the_yuan_to_write(policy: engine.CompiledPolicy) -> None:
    # 5万元 = 5 × 10 000 yuan = 50 000 yuan
    said = _said(_refused(policy, _with_amount("5万元"), AMOUNT))
    assert "written in 万" in said["en"][0]
    assert said["en"][1] == 'the amount in yuan, in plain digits: "50000" for 5万元'
    assert said["zh"][1] == '以元为单位、只写数字的金额：5万元 请写作 "50000"'


def test_wan_without_yuan_says_the_yuan_to_write(policy: engine.CompiledPolicy) -> None:
    # 50万 = 500 000 yuan; 2.5万 = 25 000 yuan
    said = _said(_refused(policy, _with_amount("50万"), AMOUNT))
    assert said["en"][1] == 'the amount in yuan, in plain digits: "500000" for 50万'
    assert said["zh"][1] == '以元为单位、只写数字的金额：50万 请写作 "500000"'
    said = _said(_refused(policy, _with_amount("2.5万"), AMOUNT))
    assert said["en"][1].endswith('"25000" for 2.5万')


@pytest.mark.parametrize(
    ("written", "yuan"),
    [
        ("1万5千", "15000"),
        ("3千5百", "3500"),
        ("2万3千4百元", "23400"),
        ("１万５千", "15000"),
    ],  # 10,000 + 5,000; 3,000 + 500; 20,000 + 3,000 + 400
)
def test_digits_with_chinese_units_between_them_say_the_yuan_to_write(policy: engine.CompiledPolicy, written: str, yuan: str) -> None:
    # (the officer walk-through, session 35: 1万5千 was "not in the expected form", with no digits)
    said = _said(_refused(policy, _with_amount(written), AMOUNT))
    assert said["zh"] == (
        f"'{written}' 不符合规定的格式：数字与“万”“千”“百”等单位混写；申请中的金额以元为单位，只写数字",
        f'以元为单位、只写数字的金额：{written} 请写作 "{yuan}"',
    )
    assert said["en"][1] == f'the amount in yuan, in plain digits: "{yuan}" for {written}'


@pytest.mark.parametrize(("written", "said_as", "added"), [("1万2", "12000", "10002"), ("3千5", "3500", "3005"), ("5千5", "5500", "5005")])
def test_digits_with_chinese_units_that_read_two_ways_offer_no_digits(
    policy: engine.CompiledPolicy, written: str, said_as: str, added: str
) -> None:
    # 一万二 is 12000 as people say it; 1万 + 2 = 10002 as the figures add up: neither is offered as the one meant
    said = _said(_refused(policy, _with_amount(written), AMOUNT))
    assert said["zh"] == (
        f"'{written}' 不符合规定的格式：数字与“万”“千”“百”等单位混写，而且可以有两种读法：按口语读是 {said_as}，按字面相加是 {added}",
        "以元为单位、只写数字的金额，与票据上的金额一致（读法不止一种，请按票据核对后填写）",
    )


def test_thousands_separator_says_the_digits_to_write(policy: engine.CompiledPolicy) -> None:
    said = _said(_refused(policy, _with_amount("1,000"), AMOUNT))
    assert said["en"] == ("'1,000' is not in the expected form: it has thousands separators", 'the digits without separators: "1000"')
    assert said["zh"] == ("'1,000' 不符合规定的格式：数字中有千位分隔符（逗号）", '去掉分隔符，只写数字：请写作 "1000"')


def test_full_width_thousands_separator_says_the_digits_to_write(policy: engine.CompiledPolicy) -> None:
    said = _said(_refused(policy, _with_amount("1，000.50"), AMOUNT))
    assert said["en"] == (
        "'1，000.50' is not in the expected form: it has thousands separators",
        'the digits without separators: "1000.50"',
    )
    assert said["zh"][1] == '去掉分隔符，只写数字：请写作 "1000.50"'


def test_currency_unit_says_the_digits_to_write(policy: engine.CompiledPolicy) -> None:
    said = _said(_refused(policy, _with_amount("8000元"), AMOUNT))
    assert said["en"] == (
        "'8000元' is not in the expected form: it has a currency sign or unit",
        'the number of yuan alone, without a sign or unit (¥, RMB, 元): "8000"',
    )
    assert said["zh"][1] == '只写元数，不带 ¥、RMB 或“元”等符号和单位：请写作 "8000"'


def test_slash_date_says_the_date_to_write(policy: engine.CompiledPolicy) -> None:
    said = _said(_refused(policy, _with_date("2021/3/5"), DATE))
    assert said["en"] == (
        "'2021/3/5' is not in the expected form: a date is written YYYY-MM-DD alone: ASCII digits and dashes, a two-digit month and day, no time of day",
        'the date written YYYY-MM-DD: "2021-03-05"',
    )
    assert said["zh"] == (
        "'2021/3/5' 不符合规定的格式：日期只写“年-月-日”（YYYY-MM-DD）：半角数字加短横线，月和日各两位，不带时间",
        '按 YYYY-MM-DD 书写的日期：请写作 "2021-03-05"',
    )


def test_chinese_date_says_the_date_to_write(policy: engine.CompiledPolicy) -> None:
    said = _said(_refused(policy, _with_date("2021年3月5日"), DATE))
    assert said["en"][1] == 'the date written YYYY-MM-DD: "2021-03-05"'
    assert said["zh"][1] == '按 YYYY-MM-DD 书写的日期：请写作 "2021-03-05"'


@pytest.mark.parametrize(
    ("written", "digits"),
    [("8400.00元整", "8400.00"), ("RMB 8400", "8400"), ("人民币8400元", "8400"), ("CNY8400.50", "8400.50")],
)
def test_an_amount_with_rmb_or_yuan_zheng_says_the_digits(policy: engine.CompiledPolicy, written: str, digits: str) -> None:
    # a red team's 8400.00元整 and RMB 8400 got the generic "not in the expected form"; ¥8400 and 8400元 said the fix
    said = _said(_refused(policy, _with_amount(written), AMOUNT))
    assert said["zh"] == (
        f"{written!r} 不符合规定的格式：带有货币符号或单位",
        f'只写元数，不带 ¥、RMB 或“元”等符号和单位：请写作 "{digits}"',
    )


@pytest.mark.parametrize(("written", "digits"), [("8400.", "8400"), (".5", "0.5")])
def test_a_point_without_digits_on_one_side_says_the_digits(policy: engine.CompiledPolicy, written: str, digits: str) -> None:
    said = _said(_refused(policy, _with_amount(written), AMOUNT))
    assert said["zh"] == (f"{written!r} 不符合规定的格式：小数点前后都应有数字", f'只写数字：请写作 "{digits}"')
    assert said["en"] == (
        f"{written!r} is not in the expected form: a decimal point needs digits on both sides of it",
        f'the amount in digits: "{digits}"',
    )


@pytest.mark.parametrize("written", ["-", "—", "无", "/"])
def test_a_dash_for_none_where_an_amount_goes_says_so(policy: engine.CompiledPolicy, written: str) -> None:
    # "-" was said to have a minus sign: a form's way of writing "none"
    said = _said(_refused(policy, _with_amount(written), AMOUNT))
    assert said["zh"][0] == f"{written!r} 不是金额：这表示没有此项"
    assert said["zh"][1].startswith("只写金额数字；没有此项费用的事项不要申报")


def test_a_slip_date_that_does_not_exist_says_so(policy: engine.CompiledPolicy) -> None:
    said = _said(_refused(policy, _with_date("2021/2/30"), DATE))
    assert said["en"][1] == "a date YYYY-MM-DD that exists (2021-02-30 does not)"
    assert said["zh"][1] == "格式为 YYYY-MM-DD 且真实存在的日期（2021-02-30 不存在）"


@pytest.mark.parametrize("written", ["20210305", "2021-03-05T00:00:00", "2021-03-05 00:00", "２０２１－０３－０５", "２０２１-03-05"])
def test_a_date_run_together_with_a_midnight_or_in_full_width_digits_says_the_date_to_write(
    policy: engine.CompiledPolicy, written: str
) -> None:
    # an export's 20210305 or date-time, or a Chinese input method's full-width digits: the date to write, said once
    said = _said(_refused(policy, _with_date(written), DATE))
    assert said["en"][1] == 'the date written YYYY-MM-DD: "2021-03-05"'
    assert said["zh"][1] == '按 YYYY-MM-DD 书写的日期：请写作 "2021-03-05"'


@pytest.mark.parametrize("written", ["2021-03-05 ", "21-03-05", "2021-03-05T10:30:00", "44000"])
def test_a_date_in_another_form_is_said_once_without_calling_it_unreal(policy: engine.CompiledPolicy, written: str) -> None:
    # "2021-03-05 " is a real date with a space: "not a real calendar date" beside its form was false (and said twice)
    said = _said(_refused(policy, _with_date(written), DATE))
    assert said["en"][0].startswith(f"{written!r} is not in the expected form")
    assert "real calendar date" not in said["en"][0] + said["en"][1]


def test_misspelled_item_field_says_did_you_mean(policy: engine.CompiledPolicy) -> None:
    data = claim(item(P, "l1"))
    data["items"][0]["anual_interest_paid"] = data["items"][0].pop("annual_interest_paid")
    problems = _problems(policy, data)
    unknown = [p for p in problems if p.path == ("items", 0) and p.code == "claim.additionalProperties"]
    assert len(unknown) == 1, [str(p) for p in problems]
    assert len(problems) == 1, [str(p) for p in problems]  # annual_interest_paid, which it misspells, is not also "missing"
    assert tr(unknown[0].message, "en") == "unknown field(s) ('anual_interest_paid' was unexpected); did you mean 'annual_interest_paid'?"
    assert tr(unknown[0].message, "zh") == "有无法识别的字段（'anual_interest_paid'）；是否应为 'annual_interest_paid'？"


def test_misspelled_fields_each_get_their_guess(policy: engine.CompiledPolicy) -> None:
    data = claim(item(P, "l1"))
    data["applicant"]["nmae"] = "x"
    data["applicant"]["zzz"] = "y"
    problem = _refused(policy, data, ("applicant",))
    assert tr(problem.message, "en") == "unknown field(s) ('nmae', 'zzz' were unexpected); did you mean 'name' for 'nmae'?"
    assert tr(problem.message, "zh") == "有无法识别的字段（'nmae'、'zzz'）；是否应为 'name'（对应 'nmae'）？"


def _problems(policy: engine.CompiledPolicy, data: dict[str, Any]) -> list[Problem]:
    with pytest.raises(ClaimError) as caught:
        engine.parse_claim(policy, data)
    return caught.value.problems


def test_misspelled_yaml_key_says_did_you_mean_on_the_command_line(tmp_path: Path) -> None:
    data = claim(item(P, "l1"))
    data["fundingyear"] = data.pop("funding_year")
    path = tmp_path / "claim.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    said = {}
    for lang in ("en", "zh"):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "POLICY_ENGINE_LANG": lang}
        run = subprocess.run(
            [sys.executable, "-m", "engine", "evaluate", "--policy", str(ROOT / "policies" / "pinggu_2020.yaml"), str(path)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert run.returncode != 0
        said[lang] = run.stderr
    assert "unknown field(s) ('fundingyear' was unexpected); did you mean 'funding_year'?" in said["en"]
    assert "有无法识别的字段（'fundingyear'）；是否应为 'funding_year'？" in said["zh"]


def test_the_words_of_a_slip_follow_the_readers_language(policy: engine.CompiledPolicy) -> None:
    problem = _refused(policy, _with_amount("50w"), AMOUNT)
    with use_language("zh"):
        assert str(problem).endswith('应为 以元为单位、只写数字的金额：50w 请写作 "500000"')
    with use_language("en"):
        assert str(problem).endswith('expected the amount in yuan, in plain digits: "500000" for 50w')


def test_slips_in_a_spreadsheet_row_get_the_same_fix_in_the_error_record(tmp_path: Path, policy: engine.CompiledPolicy) -> None:
    """The officer's path: a CSV row with 2021/3/5 for a date is that row's error record, with the fix in both languages."""
    row = {
        "claim_id": "C-1",
        "claim.funding_year": "2021",
        "claim.submission_date": "2022/3/15",
        "claim.documents": "business_licence",
        "applicant.id": "91110117MA01ABCD1F",
        "applicant.name": "北京平谷示例科技有限公司",
        "applicant.kind": "enterprise",
        "applicant.registered_in_district": "是",
        "applicant.actually_operating": "是",
        "applicant.pays_tax_in_district": "是",
        "item.id": "t1",
        "item.type": "national_ip_title",
        "item.title": "advantage",
        "item.date": "2021-06-01",
        "item.documents": "proof_of_right",
        "item.supported_by_other_district_policy": "否",
    }
    path = tmp_path / "round.csv"
    path.write_text(",".join(row) + "\n" + ",".join(row.values()) + "\n", encoding="utf-8")
    summary = run_batch(policy, path, tmp_path / "out", quiet=True, report=False)
    assert (summary.decided, summary.failed) == (0, 1)
    (record,) = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    (problem,) = record["problems"]
    assert (problem["field"], problem["row"]) == ("submission_date", 2)  # the header row is row 1
    assert problem["said"]["en"]["expected"] == 'the date written YYYY-MM-DD: "2022-03-15"'
    assert problem["said"]["zh"]["expected"] == '按 YYYY-MM-DD 书写的日期：请写作 "2022-03-15"'


def test_an_amount_finer_than_fen_says_two_decimals(policy: engine.CompiledPolicy) -> None:
    said = _said(_refused(policy, _with_amount("12.345"), AMOUNT))
    assert said["en"] == (
        "'12.345' is not in the expected form: an amount has at most two decimals (yuan and fen)",
        "yuan, at most two decimals, as the receipt shows it",
    )
    assert said["zh"] == ("'12.345' 不符合规定的格式：金额最多两位小数（元、角、分）", "以元为单位、最多两位小数的金额，与票据上的金额一致")


def test_a_slip_in_an_earlier_grant_of_the_history_says_the_fix(policy: engine.CompiledPolicy) -> None:
    # 5万 = 50 000 yuan
    grant = {"claim_id": "OLD", "item_id": "x", "rule": "r", "applicant_id": "91110117MA01ABCD1F", "funding_year": 2020, "amount": "5万"}
    data = claim(item(P, "l1"), history=[grant])
    said = _said(_refused(policy, data, ("history", 0, "amount")))
    assert said["en"][1] == 'the amount in yuan, in plain digits: "50000" for 5万'
    assert said["zh"][1] == '以元为单位、只写数字的金额：5万 请写作 "50000"'


def test_a_text_in_no_known_form_names_the_fact_and_its_form(policy: engine.CompiledPolicy) -> None:
    said = _said(_refused(policy, _with_amount("abc"), AMOUNT))
    assert said["en"] == (
        "'abc' is not in the expected form",
        'loan interest paid in the funding year: yuan, at most two decimals, in plain digits, e.g. "1234.50"',
    )
    assert said["zh"] == ("'abc' 不符合规定的格式", '“申报年度内实际支付的贷款利息”：以元为单位，最多两位小数，只写数字，例如 "1234.50"')


def test_a_date_of_a_list_not_written_as_a_date_expects_a_date_in_the_readers_language(policy: engine.CompiledPolicy) -> None:
    # an element of a date list (a fraud finding's dates) said what it expected in both languages at once:
    # "a date YYYY-MM-DD / 日期，格式 YYYY-MM-DD"
    data = claim(item(P, "l1"))
    data["applicant"]["fraud_finding_dates"] = ["2010-01-01 2012-01-01"]
    p = _refused(policy, data, ("applicant", "fraud_finding_dates", 0))
    assert tr(p.expected, "zh") == "格式为 YYYY-MM-DD 的日期，例如 2021-03-05"
    assert "日期" not in tr(p.expected, "en")


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("91110117ma01abcd1f", "91110117MA01ABCD1F"),  # lower case
        ("９１１１０１１７ＭＡ０１ＡＢＣＤ１Ｆ", "91110117MA01ABCD1F"),  # a Chinese input method's full width
        ("91110117 MA01ABCD1F", "91110117MA01ABCD1F"),  # a space inside
        ("11010519491231002x", "11010519491231002X"),  # GB 11643's own example, its X in lower case
    ],
)
def test_a_code_written_another_way_says_how_to_write_it(policy: engine.CompiledPolicy, written: str, code: str) -> None:
    # (the officer red team, session 23) a credit code in lower case or full width got only 不符合规定的格式, where a
    # patent number written another way is told its standard writing (应写作 ZL…)
    said = _said(_refused(policy, claim(item(P, "l1"), id=written), ("applicant", "id")))
    assert said["zh"][0] == f"'{written}' 写法不规范（小写字母、全角字符或空格），应写作 {code}"
    assert (
        said["en"][0]
        == f"'{written}' is the code written another way (lower-case letters, full-width characters or spaces): write it as {code}"
    )
    # a code whose check character is wrong however it is written is not told a writing
    wrong = _said(_refused(policy, claim(item(P, "l1"), id="91110117ma01abcd1g"), ("applicant", "id")))
    assert wrong["zh"][0] == "'91110117ma01abcd1g' 不符合规定的格式"


@pytest.mark.parametrize("written", ["无", "/", "—"])
def test_a_date_that_says_none_is_told_to_be_left_out(policy: engine.CompiledPolicy, written: str) -> None:
    # (the officer red team, session 23) 无 under 被认定弄虚作假套取资金的日期（无则留空） got only 不符合规定的格式
    said = _said(_refused(policy, claim(item(P, "l1"), fraud_finding_dates=[written]), ("applicant", "fraud_finding_dates", 0)))
    assert said["zh"] == (f"'{written}' 不是日期：这表示没有", "按 YYYY-MM-DD 书写的日期（可不填的日期没有时不填，单元格留空）")
    assert said["en"][0] == f"'{written}' is not a date: it says there is none"


def test_a_whole_number_written_in_quotes_says_to_write_it_without(policy: engine.CompiledPolicy) -> None:
    """`"funding_year": "2021"` (a form's or a spreadsheet's export) was "'2021' 的类型不对，应为 整数（integer）"."""
    data = claim(item(P, "l1"))
    data["funding_year"] = "2021"
    said = _said(_refused(policy, data, ("funding_year",)))
    assert said["zh"] == ("'2021' 是加了引号的文字，而此处应是数字", "去掉引号，写作 2021")
    assert said["en"] == ("'2021' is a number written in quotes, as a text", "the number without quotes: 2021")


def test_a_fact_s_value_written_as_its_words_says_the_code_and_every_choice_in_words(policy: engine.CompiledPolicy) -> None:
    """`"patent_kind": "发明专利"` (the words a form, the template's list and every notice use for invention) got
    "'发明专利' 不是此字段可以取的值 / 应为 以下之一：invention、utility_model、design": codes alone, no word of
    what they mean, and no "this is its name" as the applicant's kind and an item's type get. Every fact whose
    values the policy words is now said so; an element of a list fact too (a role)."""
    data = claim(item("invention_patent_grant", "p1", patent_kind="发明专利"))
    said = _said(_refused(policy, data, ("items", 0, "patent_kind")))
    assert said["zh"] == (
        "'发明专利' 是 invention 的名称：此处请写代码 invention",
        "以下之一：发明专利（invention）、实用新型专利（utility_model）、外观设计专利（design）",
    )
    assert said["en"] == (
        "'发明专利' is the name of invention: write the code, invention",
        "one of: invention patent (invention), utility_model, design patent (design)",  # (words that are the code: the code)
    )
    data = claim(item(P, "l1"), roles=["知识产权联盟"])
    said = _said(_refused(policy, data, ("applicant", "roles", 0)))
    assert said["zh"][0] == "'知识产权联盟' 是 ip_alliance 的名称：此处请写代码 ip_alliance"


@pytest.mark.parametrize(("written", "digits"), [("2021年", "2021"), ("２０２１", "2021"), ("2021.0", "2021"), ("３件", "3")])
def test_a_whole_number_written_with_a_unit_or_in_full_width_says_the_digits(
    policy: engine.CompiledPolicy, written: str, digits: str
) -> None:
    """`"funding_year": "2021年"` or "２０２１" (a Chinese input method's full width) got "'2021年' 的类型不对，应为 整数
    （integer）": no fix, and a space inside Chinese. It is now said as a spreadsheet's cell is (不是整数) with the
    number to write, as "2021" in quotes is."""
    data = claim(item(P, "l1"))
    data["funding_year"] = written
    said = _said(_refused(policy, data, ("funding_year",)))
    assert said["zh"] == (f"{written!r} 不是整数", f"去掉引号，写作 {digits}")
    assert said["en"] == (f"{written!r} is not a whole number", f"the number without quotes: {digits}")


def test_a_choice_left_null_is_said_empty_with_the_values_it_takes(policy: engine.CompiledPolicy) -> None:
    # `"type": null` (a portal writing an empty choice as null) was said twice, "null 的类型不对，应为文字（string）" and
    # "None 不是此字段可以取的值" (Python's word for null); once now, as empty, with the item types the policy has, as for
    # an unknown type
    data = claim(item(P))
    data["items"][0]["type"] = None
    said = _said(_refused(policy, data, ("items", 0, "type")))
    assert said["zh"][0] == "此项为空（null）：须填写此字段可以取的值之一"
    assert said["en"][0] == "the field is empty (null): it takes one of its values"
    assert said["zh"][1].startswith(
        "以下之一：知识产权联盟运营（alliance_operation）、北京市发明专利奖（beijing_invention_patent_award）、"
    )
    assert "、发明专利授权（invention_patent_grant）、" in said["zh"][1] and said["zh"][1].count("）、") == 13  # the 14 types
    # a closed choice among the applicant's facts, likewise: its kinds (applicant_kinds: in the policy, in order)
    data = claim(item(P))
    data["applicant"]["kind"] = None
    said = _said(_refused(policy, data, ("applicant", "kind")))
    assert said["zh"] == (
        "此项为空（null）：须填写此字段可以取的值之一",
        "以下之一：企业（enterprise）、事业单位（public_institution）、其他组织（other_organisation）、自然人（natural_person）",
    )
