"""The empty batch template's example application (engine/records/template.py, `_example_rows`) is one the policy
grants: an officer who copies the example rows and writes real values where the placeholders stand (`（代码）`,
`（文字）`) gets every example item granted, not refused for a value the example chose (before: every yes/no was 是,
so 第九条 refused both items; every document list was the first two documents, an enterprise's 事业法人证书 among
them and none of the items' own; the applicant was a 知识产权运营转化平台 no item asks for; the submission date lay
in the funding year, not the year after it).

Expected figures are worked out by hand from the measures (shared/measures/pinggu_ip_measures.zh.txt), not taken
from the engine; the example's own values are read from the template.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from conftest import POLICY_PATH, ROOT

import engine
from engine.cli import main
from engine.records.batch import run_batch

LOCALITIES = ROOT / "tests" / "fixtures" / "localities"
EXAMPLE_ID = "#示例-1"
CLAIM_ID = "EX-0001"
USCC = "91110117MA01ABCD1F"  # a valid credit code (Pinggu's division code 110117)
NAME = "北京平谷示例科技有限公司"
SHEETS = {"applicants": "申请人", "items": "事项"}  # the template's data sheets: code -> the tab's name


def _template(policy_path: Path, tmp_path: Path) -> Path:
    out = tmp_path / "template.xlsx"
    assert main(["batch-template", "--policy", str(policy_path), str(out)]) == 0
    return out


def _codes(ws) -> list[str]:
    return [str(c.value).rsplit("（", 1)[1].rstrip("）") for c in ws[1]]


def _example_rows(book: Path) -> dict[str, list[dict[str, object]]]:
    """The example rows of each data sheet (by the sheet's code), by column code (empty cells left out)."""
    wb = openpyxl.load_workbook(book)
    out: dict[str, list[dict[str, object]]] = {}
    for code, sheet in SHEETS.items():
        codes = _codes(wb[sheet])
        rows = [r for r in wb[sheet].iter_rows(min_row=3, values_only=True) if r[0] == EXAMPLE_ID]
        out[code] = [{c: v for c, v in zip(codes, r, strict=True) if v is not None} for r in rows]
    return out


def _filled(book: Path, tmp_path: Path, fill: dict[str, str]) -> Path:
    """The template with its example rows made real rows, as an officer copies them: a real application id, and
    each placeholder cell given the value `fill` has for its column (`*`: any other column)."""
    wb = openpyxl.load_workbook(book)
    for sheet in SHEETS.values():
        ws = wb[sheet]
        codes = _codes(ws)
        for row in ws.iter_rows(min_row=3):
            if row[0].value != EXAMPLE_ID:
                continue
            row[0].value = CLAIM_ID
            for code, cell in zip(codes, row, strict=True):
                if cell.value in ("（代码）", "（文字）"):
                    cell.value = fill.get(code, fill["*"])
    out = tmp_path / "filled.xlsx"
    wb.save(out)
    return out


def _decided(policy: engine.CompiledPolicy, book: Path, tmp_path: Path) -> dict[str, dict]:
    """Each item of the filled example application, as `batch` decides it, by item id."""
    summary = run_batch(policy, book, tmp_path / "out", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}")
    assert summary is not None
    assert (tmp_path / "out" / "errors.jsonl").read_text(encoding="utf-8").strip() == ""
    [decision] = [json.loads(x) for x in (tmp_path / "out" / "decisions.jsonl").read_text(encoding="utf-8").splitlines() if x]
    assert decision["claim_id"] == CLAIM_ID
    return {i["item"]: i for i in decision["items"]}


def test_pinggu_example_application_is_granted_when_its_placeholders_are_filled(policy, tmp_path: Path) -> None:
    book = _template(POLICY_PATH, tmp_path)
    rows = _example_rows(book)
    [app] = rows["applicants"]
    # what the example chose, as the measures want it of an enterprise claiming these two items
    assert app["applicant.kind"] == "企业" and "applicant.roles" not in app  # no item asks for a role
    assert "applicant.household_registered_in_district" not in app  # a natural person's, not an enterprise's
    assert app["claim.documents"] == "营业执照"  # 第十二条（一）: an enterprise's proof of standing
    assert (app["claim.funding_year"], app["claim.submission_date"]) == (2021, "2022-03-05")  # 第十一条: the year after
    first, second = rows["items"]
    assert (first["item.type"], second["item.type"]) == ("发明专利授权", "中国专利奖")
    assert first["item.supported_by_other_district_policy"] == second["item.supported_by_other_district_policy"] == "否"  # 第九条
    # 第十二条（二）（三）: proof of the patent, the fee receipts and (an organisation's) sealed copies; an award: its proof
    assert first["item.documents"] == "获得相关授权专利或奖项、称号等项目的证明文件；相关费用票据的原件及复印件；加盖公章的票据复印件"
    assert second["item.documents"] == "获得相关授权专利或奖项、称号等项目的证明文件"
    assert (first["item.official_fees_paid"], second["item.level"]) == ("8400.00", "金奖")

    filled = _filled(book, tmp_path, {"applicant.id": USCC, "*": NAME})  # the right holders: the applicant itself
    items = _decided(policy, filled, tmp_path)
    # 第五条（一）: 50% of the official fees paid, no cap: 8,400.00 x 50% = 4,200.00
    assert (items["i1"]["status"], items["i1"]["amount"]) == ("granted", "4200.00")
    # 第五条（二）: a China Patent Award gold award, 50 万元 each: 500,000.00
    assert (items["i2"]["status"], items["i2"]["amount"]) == ("granted", "500000.00")


def test_pinggu_guide_examples_are_the_example_rows(tmp_path: Path) -> None:
    book = _template(POLICY_PATH, tmp_path)
    rows = _example_rows(book)
    guide = {r[2]: r[4] for r in openpyxl.load_workbook(book)["说明"].iter_rows(min_row=5, values_only=True)}
    for sheet, examples in rows.items():
        for code in {c for row in examples for c in row} - {"claim_id"}:
            assert guide[code] == next(row[code] for row in examples if code in row), code
    assert guide["item.supported_by_other_district_policy"] == "否" and guide["applicant.roles"] is None


def test_a_second_policy_example_is_granted_too(tmp_path: Path) -> None:
    """Generic: another district's measures (the constructed 东岭区 text, RT1.zh.txt) make their own example."""
    path = LOCALITIES / "RT1.yaml"
    rt1 = engine.load_policy(path)
    book = _template(path, tmp_path)
    rows = _example_rows(book)
    assert [r["item.type"] for r in rows["items"]] == ["国内发明专利授权", "PCT途径境外授权（每个国家或地区一项）"]
    filled = _filled(book, tmp_path, {"applicant.id": USCC, "item.country": "KR", "*": NAME})
    items = _decided(rt1, filled, tmp_path)
    # 第三条: a high-value domestic invention patent (the example says 是), 1 万元 each for an enterprise
    assert (items["i1"]["status"], items["i1"]["amount"]) == ("granted", "10000.00")
    # 第四条: granted via PCT in a country other than the US, Japan or the EPO: 3 万元 for the country
    assert (items["i2"]["status"], items["i2"]["amount"]) == ("granted", "30000.00")


@pytest.mark.parametrize("name", ["BJ05", "FICT2", "OT03", "OT10", "OT12", "OT13", "RT5", "SZ01"])
def test_other_policies_examples_are_not_refused_for_the_values_they_chose(name: str, tmp_path: Path) -> None:
    """The example chose its dates (in the funding year, or the year after it where a check asks a later day), its
    yes/no answers, its documents and its applicant's kind (one each item type's rule admits) so that no check
    refuses it."""
    path = LOCALITIES / f"{name}.yaml"
    filled = _filled(_template(path, tmp_path), tmp_path, {"applicant.id": USCC, "*": NAME})
    items = _decided(engine.load_policy(path), filled, tmp_path)
    assert items and {i["status"] for i in items.values()} <= {"granted", "reduced"}, items


def test_the_template_says_what_it_wrote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """batch-template printed nothing on success: an officer had no word that the workbook was written, nor where."""
    out = tmp_path / "round.xlsx"
    assert main(["--lang", "zh", "batch-template", "--policy", str(ROOT / "policies" / "pinggu_2020.yaml"), str(out)]) == 0
    assert capsys.readouterr().out == f"已写出 {out}：空白模板（注释行中有一份示例申请）；填好申请后审核：batch --policy 政策文件 {out}\n"
    filled = tmp_path / "filled.xlsx"
    source = ROOT / "examples" / "round_2021.jsonl"
    assert (
        main(
            ["--lang", "zh", "batch-template", "--policy", str(ROOT / "policies" / "pinggu_2020.yaml"), str(filled), "--from", str(source)]
        )
        == 0
    )
    assert capsys.readouterr().out.startswith(f"已写出 {filled}：填入了 7 份申请")
