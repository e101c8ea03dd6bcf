"""A bad application in a batch becomes an error record that carries its words in every language (`said`), so the
Chinese report and the summaries say it in Chinese -- the report used to show "invalid claim ... is not in the expected
form" on a Chinese page (issue 15, point 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
from conftest import claim, item

import engine
from engine.core.i18n import use_language
from engine.records.batch import budget_table, in_language, run_batch

P = "pledge_loan_interest"


def _round(tmp_path: Path) -> Path:
    good = claim(item(P, "l1"), claim_id="C-GOOD")
    bad = claim(item(P, "l1", annual_interest_paid="50w"), claim_id="C-BAD")
    path = tmp_path / "round.jsonl"
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in (good, bad)) + "\n", encoding="utf-8")
    return path


def _errors(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]


def test_an_error_record_carries_its_words_in_both_languages(tmp_path: Path, policy: engine.CompiledPolicy) -> None:
    run_batch(policy, _round(tmp_path), tmp_path / "out", quiet=True, report=False)
    (record,) = _errors(tmp_path / "out")
    assert (record["error"], record["said"]) == ("invalid claim", {"en": "invalid claim", "zh": "申请材料有误"})
    (problem,) = record["problems"]
    assert problem["field"] == "items[0].annual_interest_paid"
    assert problem["message"].startswith("'50w' is not in the expected form")  # English, as ever
    assert problem["said"]["zh"] == {
        "message": "'50w' 不符合规定的格式：金额用“万”（或 w）作单位；申请中的金额以元为单位",
        "expected": '以元为单位、只写数字的金额：50w 请写作 "500000"',  # 50 × 10 000 yuan
    }
    assert problem["said"]["en"]["expected"] == 'the amount in yuan, in plain digits: "500000" for 50w'
    error, problems = in_language(record, "zh")
    assert (error, problems[0]["message"]) == ("申请材料有误", problem["said"]["zh"]["message"])


def test_the_chinese_report_says_the_error_record_in_chinese(tmp_path: Path, policy: engine.CompiledPolicy) -> None:
    run_batch(policy, _round(tmp_path), tmp_path / "out", quiet=True)
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "申请材料有误" in page
    assert "不符合规定的格式：金额用“万”（或 w）作单位" in page
    # each problem as the console says it (where, the field, what is wrong), its fix after "——应为："
    assert "——应为：以元为单位、只写数字的金额：50w 请写作 &#34;500000&#34;" in page
    # the field as which item and its column's words (items[0].annual_interest_paid in the claim's JSON)
    assert "round.jsonl:2，第 1 个事项的申报年度内实际支付的贷款利息（item.annual_interest_paid）：&#39;50w&#39;" in page
    assert "invalid claim" not in page
    assert "is not in the expected form" not in page


def test_the_summary_workbook_says_errors_in_the_runs_language(tmp_path: Path, policy: engine.CompiledPolicy) -> None:
    for lang, words in (("zh", "不符合规定的格式"), ("en", "is not in the expected form")):
        with use_language(lang):
            run_batch(policy, _round(tmp_path), tmp_path / lang, quiet=True, report=False)
        wb = openpyxl.load_workbook(tmp_path / lang / "summary.xlsx", read_only=True)
        rows = list(wb["错误记录" if lang == "zh" else "errors"].iter_rows(values_only=True))
        assert len(rows) == 2, rows  # the header and the one problem
        assert words in str(rows[1][5]), rows[1]


def test_a_record_written_before_said_existed_is_shown_as_it_is() -> None:
    old = {"error": "invalid claim", "problems": [{"field": "x", "message": "m", "expected": "e"}]}
    assert in_language(old, "zh") == ("invalid claim", [{"field": "x", "message": "m", "expected": "e"}])


def test_the_budget_table_speaks_the_runs_language(tmp_path: Path, policy: engine.CompiledPolicy) -> None:
    summary = run_batch(policy, _round(tmp_path), tmp_path / "out", quiet=True, report=False)
    with use_language("zh"):
        table = budget_table(summary, policy)
    assert (
        table.splitlines()[0].split()
        == "条款 事项类型 事项数 获支持 支持金额 材料不全 暂缓（材料不全） 待评审 暂缓（待评审，至多） 不予支持 转介".split()
    )
    assert "按状态：支持 " in table
    with use_language("en"):
        table = budget_table(summary, policy)
    assert table.splitlines()[0].split()[:3] == ["article", "item", "type"]
    assert "by status: granted " in table


def test_the_report_command_says_a_workbooks_row_in_the_reports_language(tmp_path: Path) -> None:
    # `report` on the example workbook (its application on row 8 of the applicants sheet, 申请人, has an amount
    # 12.345): the page's heading of that error said "round_2021.xlsx sheet applicants row 8" on a Chinese page
    # (batch's own report said it right; the sheet was called applicants then)
    from engine.cli import main

    root = Path(__file__).resolve().parent.parent
    for lang, place, other in (
        # (walk of session 35) and it named no claim id, where batch's report names PG-2022-0006 (an officer finds an
        # application by its id): row 8 of the example workbook's 申请人 sheet is PG-2022-0006
        ("zh", "无法处理：PG-2022-0006 — round_2021.xlsx 工作表 申请人 第 8 行", "sheet 申请人 row 8"),
        ("en", "PG-2022-0006 — round_2021.xlsx sheet 申请人 row 8", "第 8 行"),
    ):
        out = tmp_path / f"{lang}.html"
        policy = str(root / "policies" / "pinggu_2020.yaml")
        main(["--lang", lang, "report", "--policy", policy, str(root / "examples" / "round_2021.xlsx"), "--out", str(out)])
        page = out.read_text(encoding="utf-8")
        assert place in page and other not in page


def test_batchs_chinese_report_says_a_workbooks_row_in_chinese_whatever_the_consoles_language(tmp_path: Path) -> None:
    # an English console (LANG=en_US) and the report in Chinese (batch's default): the error row's heading said
    # "PG-2022-0006 — …/round_2021.xlsx sheet 申请人 row 8" on the Chinese page (the place was said in the console's language)
    root = Path(__file__).resolve().parent.parent
    policy = engine.load_policy(root / "policies" / "pinggu_2020.yaml")
    with use_language("en"):
        run_batch(policy, root / "examples" / "round_2021.xlsx", tmp_path / "out", quiet=True, report_lang="zh")
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "PG-2022-0006 — " in page and "round_2021.xlsx 工作表 申请人 第 8 行" in page
    assert "sheet 申请人 row 8" not in page and "sheet 事项 row 15" not in page


def test_the_report_commands_error_row_of_a_file_whose_name_is_not_utf8_is_written_escaped(tmp_path: Path) -> None:
    # a folder holding a workbook whose name is not UTF-8 (b"r\xff.xlsx": Python names it with a lone surrogate): its
    # error row's heading named the file as it was, and writing the page failed with UnicodeEncodeError
    import os
    import shutil

    from engine.cli import main

    root = Path(__file__).resolve().parent.parent
    folder = tmp_path / "in"
    folder.mkdir()
    odd = Path(os.fsdecode(bytes(folder) + b"/r\xff.xlsx"))
    shutil.copy(root / "examples" / "round_2021.xlsx", odd)
    out = tmp_path / "r.html"
    assert (
        main(["--lang", "zh", "report", "--policy", str(root / "policies" / "pinggu_2020.yaml"), str(folder), "--out", str(out), "-q"]) == 3
    )
    page = out.read_text(encoding="utf-8")
    assert "无法处理：PG-2022-0006 — r\\udcff.xlsx 工作表 申请人 第 8 行" in page


def test_the_budget_table_says_a_scaling_s_rounding_in_words(tmp_path: Path) -> None:
    # an officer's Chinese run said "（floor，取整到 0.01，largest_remainder；版本 2024.1）": the policy's codes
    from conftest import POLICY_PATH

    text = POLICY_PATH.read_text(encoding="utf-8").replace("  source_text: texts/pinggu_ip_measures.zh.txt\n", "")
    assert text.count("  documents_cites: 第十二条\n") == 1
    policy = engine.load_policy_text(
        text.replace("  documents_cites: 第十二条\n", '  documents_cites: 第十二条\n  round_budget: {amount: "1000.00"}\n'), "p.yaml"
    )
    summary = run_batch(policy, _round(tmp_path), tmp_path / "out", quiet=True, report=False, without_ledger=True)
    with use_language("zh"):
        zh = budget_table(summary, policy)
    with use_language("en"):
        en = budget_table(summary, policy)
    assert "（向下舍至 0.01，尾差按最大余数法逐项补足；版本 2020.1）" in zh and "floor" not in zh and "largest_remainder" not in zh
    assert "(rounded down to 0.01, the remainder to the largest remainders; version 2020.1)" in en  # (the explanation's words)
