"""An officer's own notes column (备注, 说明, remarks) in a round's spreadsheet: read past, never into a claim, and said
once per file in a calm word; the file was refused whole (无法识别的列 “备注”), and officers deleted their notes
before every run. A heading the policy's own columns name stays theirs; a misspelt column is still refused."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from test_slips_files import CODES as SLIPS_CODES

import engine
from engine.core.i18n import tr, use_language
from engine.records.batch import run_batch
from engine.records.tabular import NOTES, Columns, InputError, notes_heading, open_input

ROOT = Path(__file__).resolve().parent.parent
POLICY = str(ROOT / "policies" / "pinggu_2020.yaml")
ROUND_XLSX = ROOT / "examples" / "round_2021.xlsx"

# One application, two items: tests/test_slips_files.py's CODES, with the columns whose blank is an answer written too
# (no missing-columns notice beside the notes'). Hand figures: p1, an invention patent grant, 50% of the official fees
# 8,400.00 = 4,200.00; a1, a China Patent Award, silver: the table's 40万 = 400,000.00.
_BLANK_OK = ("applicant.roles", "applicant.household_registered_in_district", "applicant.fraud_finding_dates", "item.right_holders")
CODES = {**SLIPS_CODES[0], **dict.fromkeys(_BLANK_OK, "")}
AWARD = SLIPS_CODES[1]
EXPECTED = {("L-1", "p1"): ("granted", "4200.00"), ("L-1", "a1"): ("granted", "400000.00")}


def _csv(path: Path, notes: list[tuple[str, tuple[str, str]]]) -> Path:
    """The one application's CSV with columns `notes` (heading, its two rows' cells) inserted after applicant.name."""
    names = list(CODES)
    at = names.index("applicant.name") + 1
    header = [*names[:at], *(h for h, _ in notes), *names[at:]]
    rows = []
    for n, part in enumerate(({}, AWARD)):
        cells = {**CODES, **part}
        rows.append([*(cells[k] for k in names[:at]), *(v[n] for _, v in notes), *(cells[k] for k in names[at:])])
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def _decided(out: Path) -> dict[tuple[str, str], tuple[str, str]]:
    lines = (out / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    return {(d["claim_id"], it["item"]): (it["status"], it["amount"]) for d in map(json.loads, lines) for it in d["items"]}


def _lines_without_input(path: Path) -> list[dict[str, object]]:
    """The lines of a decisions or errors file, each without what names the file it was read from."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        d.pop("input", None)
        d.pop("where", None)
        for p in d.get("problems", ()):
            p.pop("file", None)
        out.append(d)
    return out


# --- which headings are notes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "heading",
    ["备注", "备注1", "备注１", "备注（经办人）", "备注(复核)", "备注说明", "备注/说明", "备注栏", "备注：", "附注", "说明", "备考", "说明2",
     "Remarks", "remark", "ＲＥＭＡＲＫＳ", "Notes", "note", "Comments", "comment (officer)", " 备 注 "],
)  # fmt: skip
def test_a_notes_heading(heading: str) -> None:
    assert notes_heading(heading)


@pytest.mark.parametrize("heading", ["说明书", "备注日期", "notebook", "申请人类别", "核对记录", "notes on fees paid", "经办人备注"])
def test_not_a_notes_heading(heading: str) -> None:
    # (words after the notes word may be a column of the policy misspelt: refused, with its did-you-mean, as before)
    assert not notes_heading(heading)


def test_notes_columns_are_read_past_and_the_policy_columns_first() -> None:
    cols = Columns(engine.load_policy(POLICY))
    apps, _ = cols.header_sets()
    assert cols.check(["申请编号", "备注", "申请人类型", "备注", "Remarks"], apps, "f") == [
        "claim_id",
        NOTES,
        "applicant.kind",
        NOTES,
        NOTES,
    ]
    # a row with no column's heading has no notes column: a lone 说明 is a title row, 备注 beside other words unknown
    with pytest.raises(InputError) as caught:
        cols.check(["说明"], apps, "f.csv")
    assert caught.value.args[0].key == "sheet.title_row"
    with pytest.raises(InputError) as caught:
        cols.check(["编号", "备注"], apps, "f.csv")
    assert caught.value.args[0].key == "sheet.unknown_columns"


def test_a_policy_column_labelled_as_notes_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a policy whose applicant.name is labelled 说明: its column is read, never passed over as notes
    monkeypatch.chdir(ROOT)
    text = Path(POLICY).read_text(encoding="utf-8").replace("zh: 申请人名称（与权利证书一致）,", "zh: 说明,", 1)
    policy = engine.load_policy_text(text, POLICY)
    assert Columns(policy).label("applicant.name").zh == "说明"
    path = _csv(tmp_path / "r.csv", [("备注", ("已电话核实", ""))])
    path.write_text(path.read_text(encoding="utf-8").replace("applicant.name", "说明", 1), encoding="utf-8")
    reader = open_input(path, policy)
    (record,) = list(reader)
    assert record.data is not None and record.data["applicant"]["name"] == "北京平谷示例科技有限公司"
    assert [tr(m, "zh") for m in reader.notices()] == [f"{path}：列“备注”视为经办人自己的备注，不读入申报数据"]
    reader.close()


# --- a CSV file, a workbook, a folder ----------------------------------------------------------------------------


def test_a_csv_with_notes_columns_is_decided_as_without_them(tmp_path: Path) -> None:
    # two columns headed 备注, one Remarks, one empty 说明; an error value in a notes cell (#N/A from a lookup the
    # clerk made) is never read, so it refuses nothing; the columns after them are read where they are
    plain = run_batch(engine.load_policy(POLICY), _csv(tmp_path / "p.csv", []), tmp_path / "p", quiet=True, report=False)
    notes = [("备注", ("已电话核实", "#N/A")), ("Remarks", ('="ok"', "#DIV/0!")), ("备注", ("", "复核")), ("说明", ("", ""))]
    path = _csv(tmp_path / "r.csv", notes)
    with open(path, "a", encoding="utf-8") as f:
        f.write(",,,,,,共 1 份\n")  # (a note alone: a blank row, not an application without an id)
    summary = run_batch(engine.load_policy(POLICY), path, tmp_path / "o", quiet=True, report=False)
    assert (summary.decided, summary.failed) == (plain.decided, plain.failed) == (1, 0)
    assert _decided(tmp_path / "o") == _decided(tmp_path / "p") == EXPECTED
    assert _lines_without_input(tmp_path / "o" / "decisions.jsonl") == _lines_without_input(tmp_path / "p" / "decisions.jsonl")
    said = [w for w in summary.warnings if getattr(w, "key", "") == "sheet.notes_columns"]
    assert [tr(w, "zh") for w in said] == [f"{path}：列“备注”、“Remarks”、“说明”视为经办人自己的备注，不读入申报数据"]
    assert (
        tr(said[0], "en")
        == f"{path}: column(s) '备注', 'Remarks', '说明' taken as the officer's own remarks, not read into the applications"
    )
    assert [w for w in summary.warnings if w not in said] == [w for w in plain.warnings]  # (nothing else said)


def _round_with_notes(path: Path) -> Path:
    """The example round with the officer's notes: a 备注 column inserted on the applicants sheet after the claim id
    (rows of text, one an error value, one a note alone below the applications), and on the items sheet 备注 after the last column, merged over
    PG-2022-0001's six item rows (3-8), and 说明 beside it, hidden, one cell a formula no spreadsheet computed."""
    wb = openpyxl.load_workbook(ROUND_XLSX)
    apps = wb["申请人"]
    apps.insert_cols(2)
    apps["B1"], apps["B3"], apps["B5"], apps["B6"] = "备注", "已电话核实，材料齐全", "#N/A", "联盟牵头单位"
    apps["B11"] = "以上 7 份已初审"  # (a row of a note alone, below the applications: a blank row, no application)
    items = wb["事项"]
    notes, told = items.max_column + 1, items.max_column + 2
    items.cell(1, notes).value, items.cell(3, notes).value = "备注", "贷款两笔，第二笔核减"
    items.merge_cells(start_row=3, start_column=notes, end_row=8, end_column=notes)
    items.cell(1, told).value, items.cell(9, told).value, items.cell(15, told).value = "说明（经办人）", "=1/0", "#DIV/0!"
    items.column_dimensions[openpyxl.utils.get_column_letter(told)].hidden = True
    wb.save(path)
    return path


@pytest.mark.parametrize("workers", [1, 2])
def test_the_example_round_with_notes_is_decided_as_without_them(tmp_path: Path, workers: int) -> None:
    # Hand figures of examples/round_2021 (tests/test_batch.py): 7 applications, PG-2022-0006 refused for its fee
    # 12.345 (items row 15); 6 decided, approved 1,492,200.00 = PG-2022-0001 4,200 + 250,000 + 50,000 (its second
    # loan cut by the 30万 cap) + 400,000 + 100,000; 0002 60,000 + 25,000; 0003 150,000; 0004 3,000; 0007 450,000.
    # Held back: 15,000 + 30,000 incomplete, at most 100,000 pending (第八条).
    path = _round_with_notes(tmp_path / "r.xlsx")
    plain = run_batch(engine.load_policy(POLICY), ROUND_XLSX, tmp_path / "p", quiet=True, report=False)
    err = io.StringIO()
    with use_language("zh"):
        summary = run_batch(engine.load_policy(POLICY), path, tmp_path / "o", stderr=err, report=False, workers=workers)
    assert (summary.applications, summary.decided, summary.failed) == (7, 6, 1)
    assert str(summary.approved_total) == "1492200.00" and str(summary.held_incomplete) == "45000.00"
    assert str(summary.held_pending) == "100000.00"
    assert _decided(tmp_path / "o")[("PG-2022-0001", "l2")] == ("reduced", "50000.00")
    assert _lines_without_input(tmp_path / "o" / "decisions.jsonl") == _lines_without_input(tmp_path / "p" / "decisions.jsonl")
    [error] = _lines_without_input(tmp_path / "o" / "errors.jsonl")
    assert error["claim_id"] == "PG-2022-0006" and (error["problems"][0]["sheet"], error["problems"][0]["row"]) == ("事项", 15)
    # said once for the workbook (备注 on both sheets is one word), nothing said of the merge, the formula, the hiding
    zh = f"{path}：列“备注”、“说明（经办人）”视为经办人自己的备注，不读入申报数据"
    en = f"{path}: column(s) '备注', '说明（经办人）' taken as the officer's own remarks, not read into the applications"
    said = [w for w in summary.warnings if w not in plain.warnings]
    assert [(tr(w, "zh"), tr(w, "en")) for w in said] == [(zh, en)]
    assert err.getvalue().count("视为经办人自己的备注") == 1 and f"注意：{zh}" in err.getvalue()
    written = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert {"zh": zh, "en": en}.items() <= next(w for w in written["warnings_said"] if w["zh"] == zh).items()


def test_each_file_of_a_folder_says_its_own_notes_columns(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    workbook = _round_with_notes(folder / "a.xlsx")
    table = _csv(folder / "b.csv", [("备注1", ("首次申报", ""))])
    bare = tmp_path / "bare"  # the same two files without their notes
    bare.mkdir()
    shutil.copy(ROUND_XLSX, bare / "a.xlsx")
    _csv(bare / "b.csv", [])
    summary = run_batch(engine.load_policy(POLICY), folder, tmp_path / "o", quiet=True, report=False)
    plain = run_batch(engine.load_policy(POLICY), bare, tmp_path / "p", quiet=True, report=False)
    assert (summary.applications, summary.decided, summary.failed) == (plain.applications, plain.decided, plain.failed) == (8, 7, 1)
    assert _lines_without_input(tmp_path / "o" / "decisions.jsonl") == _lines_without_input(tmp_path / "p" / "decisions.jsonl")
    assert [tr(w, "zh") for w in summary.warnings if getattr(w, "key", "") == "sheet.notes_columns"] == [
        f"{workbook}：列“备注”、“说明（经办人）”视为经办人自己的备注，不读入申报数据",
        f"{table}：列“备注1”视为经办人自己的备注，不读入申报数据",
    ]


# --- nothing else changes ----------------------------------------------------------------------------------------


def test_a_misspelt_column_beside_notes_is_still_refused_with_its_did_you_mean(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(_round_with_notes(tmp_path / "n.xlsx"))
    heads = [c.value for c in wb["申请人"][1]]
    wb["申请人"].cell(1, heads.index("申请人类型（applicant.kind）") + 1).value = "申请人类别"
    wb.save(tmp_path / "r.xlsx")
    with pytest.raises(InputError) as caught:
        run_batch(engine.load_policy(POLICY), tmp_path / "r.xlsx", tmp_path / "o", quiet=True, report=False)
    said = tr(caught.value.args[0], "zh")
    assert "无法识别的列 “申请人类别”（是否应为“申请人类型（applicant.kind）”？）；可用的列为：" in said
    assert "“备注”" not in said.split("；可用的列为")[0]  # (the notes column is not among the unknown)
    assert said.endswith("经办人自己的备注可以写在标题为“备注”的列中，该列不读取")


def test_a_copy_of_a_sheet_with_its_notes_column_is_still_a_copy(tmp_path: Path) -> None:
    # an officer copies the items sheet, notes column and all, and moves PG-2022-0001's l1 to it: its rows would be
    # lost (PG-2022-0001 decided without l1, 250,000 less), so the workbook is refused as for a copy without notes
    wb = openpyxl.load_workbook(_round_with_notes(tmp_path / "n.xlsx"))
    items = wb["事项"]
    other = wb.create_sheet("事项 (2)", 2)
    other.append([c.value for c in items[1]])
    other.append([c.value for c in items[4]])
    items.delete_rows(4)
    wb.save(tmp_path / "r.xlsx")
    with pytest.raises(InputError) as caught:
        run_batch(engine.load_policy(POLICY), tmp_path / "r.xlsx", tmp_path / "o", quiet=True, report=False)
    assert "r.xlsx：工作表“事项 (2)”的列标题与“事项”工作表相同，但只会读取“事项”" in tr(caught.value.args[0], "zh")
    # an officer's own sheet of an application id and notes is not a copy (tests/test_slips_files.py): left alone
    wb = openpyxl.load_workbook(_round_with_notes(tmp_path / "m.xlsx"))
    mine = wb.create_sheet("核对")
    mine.append(["申请编号", "备注", "说明"])
    mine.append(["PG-2022-0001", "已核对", ""])
    wb.save(tmp_path / "s.xlsx")
    summary = run_batch(engine.load_policy(POLICY), tmp_path / "s.xlsx", tmp_path / "s", quiet=True, report=False)
    assert (summary.decided, str(summary.approved_total)) == (6, "1492200.00")


def test_a_round_without_notes_says_nothing_of_them(tmp_path: Path) -> None:
    # (the template's guide sheet is named 说明: a sheet, not a column)
    summary = run_batch(engine.load_policy(POLICY), ROUND_XLSX, tmp_path / "o", quiet=True, report=False)
    assert not [w for w in summary.warnings if getattr(w, "key", "") == "sheet.notes_columns"]
