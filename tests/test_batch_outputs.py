"""Batch outputs after deciding (issue 14 point 5): each output step says what it is doing, on a terminal, after
the progress bar; the workbook written directly (no openpyxl element tree per cell) reads back as before.
No timings here: the seconds are in benchmarks/ and docs/performance.md."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from engine.records.batch import run_batch
from engine.records.ledger import Ledger
from engine.records.tabular import XlsxOut

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "round_2021.jsonl"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(policy, tmp_path: Path, stream: io.StringIO, **kw) -> None:
    ledger = f"sqlite:///{tmp_path / 'l.sqlite'}"
    Ledger(ledger).close()  # an existing (empty) ledger: no warning about a missing one
    run_batch(policy, EXAMPLE, tmp_path / "o", ledger_url=ledger, stderr=stream, **kw)


def test_each_output_step_says_what_it_is_doing(policy, tmp_path: Path) -> None:
    # the example round: 7 applications, 6 decided, 1 refused as unreadable (tests/test_batch.py)
    err = Tty()
    _run(policy, tmp_path, err)
    text = err.getvalue()
    after_bar = text[text.rindex("\r") + 1 :]  # the progress bar ends by clearing its line with "\r"
    lines = after_bar.splitlines()
    assert [line.split(" ...")[0] for line in lines] == [
        "writing decisions.jsonl, summary_items.csv, summary_applications.csv and summary.xlsx (6 decisions)",
        "writing summary.xlsx: the budget and errors sheets, saving the workbook",
        "drawing report.html (7 applications)",
    ]
    for line in lines:  # each line is closed with the seconds the step took
        assert line.endswith(" s") and float(line.rsplit(" ", 2)[1]) >= 0
    assert (tmp_path / "o" / "report.html").exists() and (tmp_path / "o" / "summary.xlsx").exists()


def test_no_report_no_report_line_and_quiet_says_nothing(policy, tmp_path: Path) -> None:
    err = Tty()
    _run(policy, tmp_path, err, report=False)
    assert "writing summary.xlsx" in err.getvalue() and "report.html" not in err.getvalue()
    quiet = Tty()
    _run(policy, tmp_path, quiet, quiet=True)
    assert quiet.getvalue() == ""
    pipe = io.StringIO()  # not a terminal: nothing, like the progress bar (tests/test_batch.py)
    _run(policy, tmp_path, pipe)
    assert pipe.getvalue() == ""


def test_decisions_jsonl_is_the_decisions_as_decided(policy, tmp_path: Path) -> None:
    # an unscaled decision line is copied as read from the partial file: each line is still one JSON object
    # whose text is json.dumps of itself (the canonical compact form)
    _run(policy, tmp_path, io.StringIO())
    lines = (tmp_path / "o" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6
    for line in lines:
        assert json.dumps(json.loads(line), ensure_ascii=False) == line


def test_the_workbook_written_directly_reads_back(tmp_path: Path) -> None:
    x = XlsxOut(tmp_path / "w.xlsx")
    x.sheet("a & <b>", ["text", "amount", "n", "flag"], money=["amount"])
    x.row("a & <b>", ["x & y <z> \"q\" 'r'\r\nnext", "1492200.00", 7, True])
    x.row("a & <b>", ["", Decimal("99999999999.99"), None, False])
    x.row("a & <b>", ["=1+1", "not money", 2**70, None])
    x.row("a & <b>", [])
    x.close()
    ws = openpyxl.load_workbook(tmp_path / "w.xlsx")["a & <b>"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=1, max_row=4, max_col=4)]
    assert rows[0] == ["text", "amount", "n", "flag"]
    assert rows[1] == ["x & y <z> \"q\" 'r'\r\nnext", 1492200, 7, True]
    # "" reads back as no value (as openpyxl wrote it); 99999999999.99 is exact in the cell's XML
    assert rows[2][0] is None and rows[2][2] is None and rows[2][3] is False
    assert rows[3] == ["'=1+1", "not money", 2**70, None]  # a formula is written as text; an int is exact
    assert ws["B2"].number_format == "#,##0.00" and ws["B2"].data_type == "n"
    assert ws["B4"].data_type == "s"
    import zipfile

    with zipfile.ZipFile(tmp_path / "w.xlsx") as z:
        assert "<v>99999999999.99</v>" in z.read("xl/worksheets/sheet1.xml").decode()


def test_a_cell_of_another_type_is_refused_not_converted(tmp_path: Path) -> None:
    import datetime as dt

    x = XlsxOut(tmp_path / "w.xlsx")
    x.sheet("s", ["when"])
    with pytest.raises(TypeError, match="date"):
        x.row("s", [dt.date(2021, 1, 1)])
