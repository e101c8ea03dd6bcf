"""One Chinese word for what a clause gives: 支持, as the measures say it (给予支持, 支持金额, 支持总额).

An officer walking a round through in Chinese read 按状态：支持 9 and 核减 1 above a budget table headed 批准 and
批准总额, a summary line ending 批准总额 1,492,200.00 元 and a budget sheet whose granted and reduced rows said
金额性质 已批准, while every explanation said 给予支持 / 核减后给予支持: one status, two words. The measures never say
批准 (第五条至第八条: "给予支持", "支持金额", "支持总额最高不超过…"), so 支持 is the word everywhere an officer or an
applicant reads a status. The codes (granted, reduced, approved_total in the CSV files and JSON) are unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from conftest import ROOT, claim, item

import engine
from engine.cli import main
from engine.core.i18n import use_language
from engine.records.batch import budget_table, run_batch

MEASURES = ROOT / "policies" / "texts" / "pinggu_ip_measures.zh.txt"


def _round(tmp_path: Path) -> Path:
    # one pledge-loan interest item: 50% of 100,000.00 interest (第六条（一）) = 50,000.00, under the 30万 yearly cap
    path = tmp_path / "round.jsonl"
    path.write_text(json.dumps(claim(item("pledge_loan_interest", "l1"), claim_id="C-1"), ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_the_measures_say_zhichi_and_never_pizhun() -> None:
    text = MEASURES.read_text(encoding="utf-8")
    assert "批准" not in text
    assert "按专利保险费用的 50%给予支持" in text and "支持总额最高不超过 50 万元" in text


def test_no_chinese_words_of_the_engine_say_pizhun() -> None:
    said = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for folder in ("engine/core/messages/zh", "engine/explaining/templates")
        for p in sorted((ROOT / folder).rglob("*"))
        if p.is_file()
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if "批准" in line
    ]
    assert said == []


def test_the_budget_table_and_the_run_s_last_line_say_zhichi(
    tmp_path: Path, policy: engine.CompiledPolicy, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = run_batch(policy, _round(tmp_path), tmp_path / "out", quiet=True, report=False)
    with use_language("zh"):
        table = budget_table(summary, policy).splitlines()
    assert (
        table[0].split()
        == "条款 事项类型 事项数 获支持 支持金额 材料不全 暂缓（材料不全） 待评审 暂缓（待评审，至多） 不予支持 转介".split()
    )
    # the total row: 1 item, 1 given support, 50,000.00
    assert table[-2].split()[:4] == ["合计", "1", "1", "50,000.00"]
    assert table[-1].startswith("按状态：支持 1（50,000.00）、核减 0（0.00）")
    out = tmp_path / "cli"
    policy_file = str(ROOT / "policies" / "pinggu_2020.yaml")
    assert main(["--lang", "zh", "batch", "--policy", policy_file, str(_round(tmp_path)), "--out", str(out), "--no-report"]) == 0
    printed = capsys.readouterr()
    line = next(x for x in (printed.out + printed.err).splitlines() if x.startswith("共 1 份申请"))
    assert "；核定支持总额 50,000.00 元；" in line and "批准" not in printed.out + printed.err


def test_the_budget_sheet_says_zhichi(tmp_path: Path, policy: engine.CompiledPolicy) -> None:
    with use_language("zh"):
        run_batch(policy, _round(tmp_path), tmp_path / "out", quiet=True, report=False)
    rows = list(openpyxl.load_workbook(tmp_path / "out" / "summary.xlsx", read_only=True)["预算"].iter_rows(values_only=True))
    assert rows[0][3:6] == ("事项数", "获支持事项数", "支持金额")
    by_status = {r[0]: r[2] for r in rows if r and r[0] in ("支持", "核减", "不予支持")}
    assert by_status == {"支持": "核定支持", "核减": "核定支持", "不予支持": None}
