"""Patent numbers (专利号) are identifiers with a form and a check character (ZC 0006-2003), so that "once per patent"
(R9, R27, N5) cannot be passed by writing one patent's number two ways (N7).

The expected check characters are worked out by hand below each case: the application number's digits times
2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5, summed, modulo 11 (10 is X).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, claim, item

import engine
from engine.core import identifiers as ids
from engine.core.i18n import tr


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        # the example of ZC 0006-2003 itself: 2·2+0·3+0·4+3·5+1·6+0·7+1·8+0·9+2·2+3·3+4·4+4·5 = 82 = 7·11 + 5
        ("200310102344", "5"),
        # 2·2+0·3+1·4+7·5+1·6+0·7+6·8+0·9+1·2+8·3+6·4+2·5 = 157 = 14·11 + 3
        ("201710601862", "3"),
        # 2·2+0·3+2·4+1·5+1·6+0+0+0+0+0+0+2·5 = 33 = 3·11 + 0
        ("202110000002", "0"),
        # 2·2+0·3+2·4+0·5+1·6+0+0+0+0+0+0+5·5 = 43 = 3·11 + 10: X
        ("202010000005", "X"),
        # eight digits (before October 2003), weights 2..9: 9·2+8·3+1·4+2·5+3·6+4·7+5·8+6·9 = 196 = 17·11 + 9
        ("98123456", "9"),
    ],
)
def test_the_check_character_is_the_standards_weighted_sum(digits: str, check: str) -> None:
    assert ids.cn_patent_check_char(digits) == check
    assert ids.FORMATS["cn_patent"][0](f"ZL{digits}.{check}")


@pytest.mark.parametrize("digits", ["2021100000", "20211000000２", "2021100000021"])
def test_the_check_character_is_only_of_eight_or_twelve_ascii_digits(digits: str) -> None:
    with pytest.raises(ValueError):
        ids.cn_patent_check_char(digits)


@pytest.mark.parametrize(
    ("code", "en", "zh"),
    [
        ("ZL202110000002.1", "'ZL202110000002.1' fails its check character", "'ZL202110000002.1' 的校验码不正确"),
        ("ZL 2021 1 0000002.0", "written another way: write it as ZL202110000002.0", "写法不规范，应写作 ZL202110000002.0"),
        ("zl202110000002.0", "write it as ZL202110000002.0", "应写作 ZL202110000002.0"),
        ("202110000002.0", "write it as ZL202110000002.0", "应写作 ZL202110000002.0"),
        ("ＺＬ２０２１１００００００２．０", "write it as ZL202110000002.0", "应写作 ZL202110000002.0"),
        ("ZL202110000002。0", "write it as ZL202110000002.0", "应写作 ZL202110000002.0"),
        ("CN202110000002.0", "write it as ZL202110000002.0", "应写作 ZL202110000002.0"),
        ("ZL202110000002", "is not a Chinese patent number in its standard form", "不是标准写法的中国专利号"),
        # kind 5: 2·2+0·3+2·4+1·5+5·6+0+0+0+0+0+0+2·5 = 57 = 5·11 + 2
        ("ZL202150000002.2", "kind of application '5' is not one of 1 (invention)", "申请种类 '5' 不是 1（发明）"),
        # the year 2099: 2·2+0·3+9·4+9·5+1·6+0+0+0+0+0+0+2·5 = 101 = 9·11 + 2
        ("ZL209910000002.2", "filing year 2099 cannot be: application numbers of 12 digits are from 2003 to", "申请年份 2099 不成立"),
        # twelve digits in 2002, before they began: 2·2+0+0+2·5+1·6+0+0+0+0+0+0+2·5 = 30 = 2·11 + 8
        ("ZL200210000002.8", "filing year 2002 cannot be", "申请年份 2002 不成立"),
        # eight digits in 2005, after they ended: 0·2+5·3+1·4+2·5+3·6+4·7+5·8+6·9 = 169 = 15·11 + 4
        ("ZL05123456.4", "filing year 2005 cannot be: application numbers of 8 digits are from 1985 to 2003", "申请年份 2005 不成立"),
        # eight digits in 1984, before the patent law: 8·2+4·3+1·4+0+0+0+0+1·9 = 41 = 3·11 + 8 (it said 2084)
        ("ZL84100001.8", "filing year 1984 cannot be: application numbers of 8 digits are from 1985 to 2003", "申请年份 1984 不成立"),
        # 49: 8+27+4+0+0+0+0+9 = 48 = 4·11 + 4; 1949 is nearer the range than 2049 (any year from 45 is said as 19..)
        ("ZL49100001.4", "filing year 1949 cannot be", "申请年份 1949 不成立"),
    ],
)
def test_a_chinese_patent_number_that_is_not_one_says_why(code: str, en: str, zh: str) -> None:
    problem = ids.cn_patent_problem(code)
    assert problem is not None and not ids.FORMATS["cn_patent"][0](code)
    assert en in tr(problem, "en") and zh in tr(problem, "zh")


def test_another_offices_number_is_a_patent_number_but_not_a_chinese_one() -> None:
    for code in ("US11000001", "EP1234567", "USRE49000", "TWI123456", "ZL202110000002.0"):
        assert ids.FORMATS["patent_number"][0](code), code
    assert not ids.FORMATS["cn_patent"][0]("US11000001")
    # the kind code names a document, not the patent (EP1234567A1 published, EP1234567B1 granted: one patent), and a
    # leading zero is not part of the number: each is refused with the one name of its patent
    for written, standard in (
        ("us 11,000,001 b2", "US11000001"),
        ("US11000001B2", "US11000001"),
        ("US011000001B2", "US11000001"),
        ("EP1234567B1", "EP1234567"),
        ("USRE049000E", "USRE49000"),
    ):
        said = ids.patent_number_problem(written)
        assert said is not None and tr(said, "en") == f"{written!r} is a patent number written another way: write it as {standard}"
    # an application's publication is no patent's number: kind code A (US and JP publish applications under numbers
    # no grant has), and WO, an international application's, as WIPO grants none -- never shown as a number to write
    for written, kind in (("US20210123456A1", "A1"), ("JP2016123456A", "A"), ("EP1234567A1", "A1")):
        said = ids.patent_number_problem(written)
        assert said is not None and tr(said, "zh") == (
            f"'{written}' 是专利申请的公布号（种类代码 {kind}），不是授权专利的号码：请填写授权专利的号码（境外授权的写国别代码加号码，"
            "不写种类代码）"
        )
    for written in ("WO2020123456A1", "WO2020123456"):
        said = ids.patent_number_problem(written)
        assert said is not None and tr(said, "en").startswith(f"'{written}' is an international (PCT) application's publication")
        assert not ids.FORMATS["patent_number"][0](written)
    # a patent granted in China goes by its patent number, not by the publication number of its grant
    said = ids.patent_number_problem("CN113456789B")
    assert said is not None and "ZL 开头的专利号，不填 CN 开头的公告号" in tr(said, "zh")


# --- in a claim under the Pinggu measures --------------------------------------------------------------------------


def _refusal(policy: engine.CompiledPolicy, data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str, str]]:
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim(policy, data)
    return [(tuple(p.path), tr(p.message, "zh"), tr(p.expected, "en") if p.expected else "") for p in caught.value.problems]


def test_one_patent_written_two_ways_is_not_paid_twice(policy: engine.CompiledPolicy) -> None:
    # R9: 50% of the official fees, once per patent. Written the same way the second item is refused by the limit
    same = claim(
        item("invention_patent_grant", "p1", patent_id="ZL202110000002.0", official_fees_paid="8400.00"),
        item("invention_patent_grant", "p2", patent_id="ZL202110000002.0", official_fees_paid="8400.00"),
    )
    d = engine.evaluate(policy, same).to_dict()
    assert [(i["status"], i["amount"]) for i in d["items"]] == [("granted", "4200.00"), ("refused", "0.00")]
    # written with the certificate's spaces, the second is not another patent: the claim is refused, naming the fix
    spaced = claim(
        item("invention_patent_grant", "p1", patent_id="ZL202110000002.0", official_fees_paid="8400.00"),
        item("invention_patent_grant", "p2", patent_id="ZL 2021 1 0000002.0", official_fees_paid="8400.00"),
    )
    problems = _refusal(policy, spaced)
    assert [p[0] for p in problems] == [("items", 1, "patent_id")]
    assert "'ZL 2021 1 0000002.0' 写法不规范，应写作 ZL202110000002.0" in problems[0][1]
    assert "e.g. ZL202110000002.0" in problems[0][2]
    # a wrong check character is a typing error, not another patent
    typo = claim(item("china_patent_award", "a1", patent_id="ZL202110000002.7", level="gold"))
    assert _refusal(policy, typo) == [
        (
            ("items", 0, "patent_id"),
            # 2021 1 0000002 weighs 33 ≡ 0 (mod 11): the other digits make the check character 0
            "'ZL202110000002.7' 的校验码不正确（按其余各位计算应为 0，其他某一位写错也会如此）",
            "a Chinese patent number (ZC 0006-2003): ZL, the application number's 12 digits (8 before October 2003), a "
            "point and its check character, e.g. ZL202110000002.0",
        )
    ]


def test_a_patent_granted_abroad_keeps_its_offices_number_for_the_fees_but_not_for_a_chinese_award(
    policy: engine.CompiledPolicy,
) -> None:
    # R9: 第五条（一） pays for invention patents granted in China or abroad; 第五条（二） the China Patent Award
    abroad = claim(item("invention_patent_grant", "p1", patent_id="US11000001", route="foreign_other", official_fees_paid="1000.00"))
    d = engine.evaluate(policy, abroad).to_dict()
    assert (d["items"][0]["status"], d["items"][0]["amount"]) == ("granted", "500.00")
    # the same patent twice in one claim: paid once (R9, N5: once per patent), the second refused by that limit
    twice = claim(
        item("invention_patent_grant", "p1", patent_id="US11000001", route="foreign_other", official_fees_paid="1000.00"),
        item("invention_patent_grant", "p2", patent_id="US11000001", route="foreign_other", official_fees_paid="1000.00"),
    )
    items = engine.evaluate(policy, twice).to_dict()["items"]
    assert (items[0]["status"], items[0]["amount"]) == ("granted", "500.00")
    assert items[1]["status"] == "refused" and [r["check"] for r in items[1]["reasons"]] == ["invention-patent-once"]
    # written with its kind code, the second is refused at intake, with the number's one writing
    kind_code = claim(
        item("invention_patent_grant", "p1", patent_id="US11000001", route="foreign_other", official_fees_paid="1000.00"),
        item("invention_patent_grant", "p2", patent_id="US11000001B2", route="foreign_other", official_fees_paid="1000.00"),
    )
    assert [(p[0], p[1]) for p in _refusal(policy, kind_code)] == [
        (("items", 1, "patent_id"), "'US11000001B2' 写法不规范，应写作 US11000001")
    ]
    award = claim(item("china_patent_award", "a1", patent_id="US11000001", level="gold"))
    assert _refusal(policy, award) == [
        (
            ("items", 0, "patent_id"),
            "'US11000001' 不符合规定的格式",
            "patent number: a Chinese patent number (ZC 0006-2003): ZL, the application number's 12 digits (8 before October "
            "2003), a point and its check character, e.g. ZL202110000002.0",
        )
    ]


def test_the_fast_intake_and_the_schema_path_agree_on_patent_numbers(policy: engine.CompiledPolicy) -> None:
    import json

    for pid, ok in (
        ("ZL202110000002.0", True),
        ("ZL202110000002.1", False),
        ("zl202110000002.0", False),
        ("US11000001", True),
        ("US11000001B2", False),
    ):
        data = claim(item("invention_patent_grant", "p1", patent_id=pid, official_fees_paid="8400.00"))
        text = json.dumps(data, ensure_ascii=False)
        if ok:
            assert engine.parse_claim_json(policy, text).items[0].facts["patent_id"] == pid
        else:
            with pytest.raises(engine.ClaimError) as caught:
                engine.parse_claim_json(policy, text)
            assert [tuple(p.path) for p in caught.value.problems] == [("items", 0, "patent_id")]


def test_a_format_on_a_fact_that_is_not_an_identifier_is_the_policys_error(tmp_path: Path) -> None:
    text = (ROOT / "policies" / "pinggu_2020.yaml").read_text(encoding="utf-8")
    old = "loan_id: {type: string, zh: 贷款合同编号"
    assert text.count(old) == 1
    path = ROOT / "policies" / f"format-on-a-string-{tmp_path.name}.yaml"  # (beside the policy: its texts/ are read)
    path.write_text(text.replace(old, "loan_id: {type: string, format: cn_patent, zh: 贷款合同编号"), encoding="utf-8")
    try:
        with pytest.raises(engine.PolicyError) as caught:
            engine.load_policy(path)
    finally:
        path.unlink()
    [problem] = caught.value.problems
    assert problem.path[-2:] == ("loan_id", "format")
    assert tr(problem.message, "en") == "format applies to identifier facts, not string: a string fact is not checked against it"
    assert tr(problem.expected, "zh") == "不写 format（或改为 type: identifier）"


def test_an_invisible_character_in_a_number_is_named(policy: engine.CompiledPolicy) -> None:
    data = claim(item("invention_patent_grant", "p1", patent_id="ZL2021100000\u200b02.0", official_fees_paid="8400.00"))
    [(path, zh, _)] = _refusal(policy, data)
    assert path == ("items", 0, "patent_id")
    assert zh == "'ZL2021100000\\u200b02.0' 不符合规定的格式：含有不可见的格式字符（第 13 个字符 U+200B ZERO WIDTH SPACE）"


def _patent_ids(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "patent_id" and isinstance(v, str)] + [x for v in node.values() for x in _patent_ids(v)]
    return [x for v in node for x in _patent_ids(v)] if isinstance(node, list) else []


def test_the_shipped_patent_numbers_are_patent_numbers() -> None:
    # the examples, golden claims and officers' case files of the Pinggu measures: every patent number in its form
    import json

    import yaml

    found = []
    for path in [*(ROOT / "examples").glob("*.json"), *(ROOT / "tests" / "golden").glob("*.claim.json")]:
        found += _patent_ids(json.loads(path.read_text(encoding="utf-8")))
    for path in [*(ROOT / "examples").glob("*.jsonl"), ROOT / "policies" / "revisions" / "round_2021_sample.jsonl"]:
        found += _patent_ids([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()])
    for path in [*(ROOT / "policies" / "tests").glob("*.yaml"), *(ROOT / "policies" / "revisions" / "tests").glob("*.yaml")]:
        found += _patent_ids(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert len(found) > 40
    wrong = [p for p in found if not ids.FORMATS["patent_number"][0](p)]
    assert wrong == []


@pytest.mark.parametrize("written", ["ZL 2021 1 0000002.7", "zl202110000002.7", "202110000002.7"])
def test_a_typing_error_behind_another_slip_is_said_too(policy: engine.CompiledPolicy, written: str) -> None:
    # 2021 1 0000002 weighs 33 ≡ 0 (mod 11): .7 is a typing error, and the spaces (or lower case, or no ZL) must not
    # hide it -- told only "write it as ZL202110000002.7", the officer would write a number that is refused again
    said = ids.patent_number_problem(written)
    assert said is not None
    assert (
        tr(said, "zh")
        == f"'{written}' 写法不规范（标准写法为 ZL202110000002.7），且 'ZL202110000002.7' 的校验码不正确（按其余各位计算应为 0，其他某一位写错也会如此）。请照证书核对号码"
    )
    assert tr(said, "en") == (
        f"'{written}' is a patent number written another way (ZL202110000002.7 in the standard form), and "
        "'ZL202110000002.7' fails its check character (by its other characters it would be 0; a slip in another character "
        "fails it too). Check the number against the certificate"
    )
    assert tr(ids.cn_patent_problem(written), "zh") == tr(said, "zh")
    [problem] = _refusal(policy, claim(item("china_patent_award", "a1", patent_id=written, level="gold")))
    assert problem[1] == tr(said, "zh")  # in a claim, the same words at the item's patent_id


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("ZL202110000001.6", "invention"),  # 2021 1 0000001: the 5th digit 1
        ("ZL202020000011.0", "utility_model"),
        ("ZL202030000011.X", ""),  # (its check character fails: no valid Chinese number says anything)
        ("US11000001", ""),  # another office's: its kind is not written in it
        ("", ""),
    ],
)
def test_the_kind_a_chinese_number_says_by_its_kind_digit(number: str, kind: str) -> None:
    # ZC 0006-2003: the 5th of 12 digits (the 3rd of 8) -- 1 invention, 2 utility model, 3 design, 8 and 9 international
    # applications entering China for an invention and a utility model
    from engine.core.identifiers import cn_patent_check_char, cn_patent_kind

    assert cn_patent_kind(number) == kind
    for digit, said in (("1", "invention"), ("2", "utility_model"), ("3", "design"), ("8", "invention"), ("9", "utility_model")):
        digits = f"2021{digit}0000001"
        assert cn_patent_kind(f"ZL{digits}.{cn_patent_check_char(digits)}") == said
    old = "96" + "2" + "00001"  # an 8-digit number of 1996: its 3rd digit
    assert cn_patent_kind(f"ZL{old}.{cn_patent_check_char(old)}") == "utility_model"


def test_an_invention_claimed_on_a_utility_models_number_is_refused(policy: engine.CompiledPolicy) -> None:
    # 第五条（一）, R9: invention patents only. ZL202020000011.0's kind digit is 2, a utility model: declared an
    # invention, it was paid 1,725.00 (50% of 3,450.00)
    d = engine.evaluate(
        policy, claim(item("invention_patent_grant", "p1", patent_id="ZL202020000011.0", official_fees_paid="3450.00"))
    ).to_dict()
    (it,) = d["items"]
    assert (it["status"], it["amount"], it["reasons"][0]["check"]) == ("refused", "0.00", "invention-patent-fees#when2")


def test_a_wrong_check_character_is_said_beside_a_wrong_amount(policy: engine.CompiledPolicy) -> None:
    # the fees written 8,400.00 (the schema refuses the form) beside two identifiers whose check character is wrong:
    # before, the fees were said alone and the two identifiers a round later. By hand: ZL202110000002's check is 0
    # (the case above: 33 = 3·11 + 0), so .1 is wrong; the code 91110117MA01ABCD1's weighted sum (GB 32100-2015:
    # 9·1+1·3+1·9+1·27+0·19+1·26+1·16+7·17+M21·20+A10·29+0·25+1·13+A10·8+B11·24+C12·10+D13·30+1·28) is 1814 =
    # 58·31 + 16, and 31 - 16 = 15 is F, so ...1E is wrong
    data = claim(item("invention_patent_grant", "p1", patent_id="ZL202110000002.1", official_fees_paid="8,400.00"))
    data["applicant"]["id"] = "91110117MA01ABCD1E"
    said = _refusal(policy, data)
    assert [(path, message) for path, message, _ in said] == [
        (("applicant", "id"), "'91110117MA01ABCD1E' 的校验码不正确"),
        (("items", 0, "official_fees_paid"), "'8,400.00' 不符合规定的格式：数字中有千位分隔符（逗号）"),
        (("items", 0, "patent_id"), "'ZL202110000002.1' 的校验码不正确（按其余各位计算应为 0，其他某一位写错也会如此）"),
    ]
    # each is said as when it is the claim's only problem (the same words and the same fix)
    data["items"][0]["official_fees_paid"] = "8400.00"
    assert _refusal(policy, data) == [said[0], said[2]]
