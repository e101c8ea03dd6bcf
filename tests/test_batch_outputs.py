"""Batch outputs after deciding (issue 14 point 5): each output step says what it is doing, on a terminal, after
the progress bar; the workbook written directly (no openpyxl element tree per cell) reads back as before.
No timings here: the seconds are in benchmarks/ and docs/performance.md."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from engine.core.i18n import msg
from engine.records.batch import run_batch
from engine.records.ledger import Ledger
from engine.records.tabular import WIDTH_SAMPLE_ROWS, XlsxOut

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


def test_each_column_is_as_wide_as_its_heading_and_first_rows_show(tmp_path: Path) -> None:
    """Every column was Excel's default (8.43 digits): 申请人名称 and amounts like 1,492,200.00 were cut off. Widths in
    digit widths, worked out by hand: a CJK character counts 2, others 1; plus 2 of margin; a filtered sheet's
    heading 2 more for its button; at least 6, at most 60; an amount as its money format shows it."""
    import zipfile

    x = XlsxOut(tmp_path / "w.xlsx")
    x.sheet("s", ["id", "amount", "n", "note", "lines"], money=["amount"], titles=["申请编号", "核定金额", "n", "说明", "多行"])
    x.row("s", ["PG-1", "1492200.00", 7, "x" * 80, "短\n一二三四五六七八九十"])
    x.sheet("plain", ["id"], titles=["申请编号"], autofilter=False)
    x.row("plain", ["A1"])
    for n in range(WIDTH_SAMPLE_ROWS + 5):  # (a wide value past the rows sampled is not measured)
        x.row("plain", ["Z" * 30 if n == WIDTH_SAMPLE_ROWS + 2 else "B"])
    x.close()
    book = openpyxl.load_workbook(tmp_path / "w.xlsx")
    widths = {c: book["s"].column_dimensions[c].width for c in "ABCDE"}
    assert widths == {
        "A": 4 * 2 + 2 + 2,  # 申请编号 (4 CJK = 8) + button 2 + margin 2 = 12 (PG-1 is 4)
        "B": 12 + 2,  # "1,492,200.00" (12) + margin; the heading 核定金额 is 8 + 2
        "C": 6,  # "n" (1 + 2 + 2 = 5): at least 6
        "D": 60,  # 80 x: at most 60
        "E": 20 + 2,  # its longest line, 一二三四五六七八九十 (10 CJK = 20), + margin
    }
    assert book["plain"].column_dimensions["A"].width == 4 * 2 + 2  # no filter button: 10
    with zipfile.ZipFile(tmp_path / "w.xlsx") as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert '<cols><col min="1" max="1" width="12" customWidth="1"/>' in sheet
    assert sheet.index("</sheetViews>") < sheet.index("<cols>") < sheet.index("<sheetData>")  # (SpreadsheetML's order)


def test_summary_xlsx_columns_fit_the_example_rounds_headings_and_values(policy, tmp_path: Path) -> None:
    """The clerk's summary.xlsx of the 2021 example round, in Chinese: 申请编号 fits PG-2022-0001 (12 + 2 = 14), the
    application total fits the largest, 804,200.00 (PG-2022-0001: 4,200 + 250,000 + 50,000 + 400,000 + 100,000;
    10 + 2 = 12, as wide as 合计金额 with its button), and every heading of 4 CJK characters gets at least 8."""
    from engine.core.i18n import use_language

    with use_language("zh"):
        run_batch(policy, ROOT / "examples" / "round_2021.xlsx", tmp_path / "o", stderr=io.StringIO())
    book = openpyxl.load_workbook(tmp_path / "o" / "summary.xlsx")
    apps = book["申请汇总"]
    width = {c[0].value: apps.column_dimensions[c[0].column_letter].width for c in apps.iter_cols(max_row=1)}
    assert (width["申请编号"], width["合计金额"]) == (14, 12)
    for ws in book.worksheets:
        for (head,) in ws.iter_cols(max_row=1):
            if isinstance(head.value, str) and len(head.value) == 4 and all("\u4e00" <= ch <= "\u9fff" for ch in head.value):
                assert ws.column_dimensions[head.column_letter].width >= 8, (ws.title, head.value)


def test_a_cell_of_another_type_is_refused_not_converted(tmp_path: Path) -> None:
    import datetime as dt

    x = XlsxOut(tmp_path / "w.xlsx")
    x.sheet("s", ["when"])
    with pytest.raises(TypeError, match="date"):
        x.row("s", [dt.date(2021, 1, 1)])


# --- outputs made while deciding (issue 14 point 5: under 10 s after deciding) ----------------------------------


def _generated_round(path: Path, seed: int, n: int = 120) -> Path:
    """A generated round (benchmarks/generate.py) with a line that is not JSON and a claim that is not one."""
    from benchmarks.generate import claims

    with open(path, "w", encoding="utf-8") as f:
        for c in claims(n, seed=seed):
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
        f.write("not json\n")
        f.write(json.dumps({"claim_id": "X-1", "applicant": 5}) + "\n")
    return path


def _files(out: Path) -> dict[str, object]:
    """Every output file's content: bytes; the workbook by its parts (its zip entries carry the time they were
    written); summary.json without its seconds, and with the folder's name taken out of its paths."""
    import zipfile

    found: dict[str, object] = {}
    for f in sorted(out.iterdir()):
        if f.name == "summary.xlsx":
            with zipfile.ZipFile(f) as z:
                found[f.name] = {n: z.read(n) for n in z.namelist()}
        elif f.name == "summary.json":
            data = json.loads(f.read_text(encoding="utf-8"))
            data.pop("seconds")
            found[f.name] = json.dumps(data, ensure_ascii=False).replace(str(out), "<out>")
        else:
            found[f.name] = f.read_bytes()
    return found


def _spy_final_pass(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the runs whose outputs were all written after deciding (`_final_pass` in the run's own process)."""
    import engine.records.batch as batch_mod

    calls: list[int] = []
    real = batch_mod._final_pass

    def spied(*a, **k):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(batch_mod, "_final_pass", spied)
    return calls


def _made_after(policy, inp: Path, out: Path, url: str, **kw):  # type: ignore[no-untyped-def]
    """The round committed into `url` with every output made after deciding: the way the others are held to."""
    return run_batch(policy, inp, out, quiet=True, ledger_url=url, commit=True, outputs_while_deciding=False, **kw)


def _same_outputs(a: Path, b: Path) -> bool:
    """Every output file of two runs the same, summary.json aside (each names its own ledger)."""
    mine, theirs = _files(a), _files(b)
    mine.pop("summary.json"), theirs.pop("summary.json")
    return mine == theirs


@pytest.mark.parametrize("seed", [1, 2])
def test_outputs_made_while_deciding_are_the_files_written_after(policy, tmp_path: Path, monkeypatch, seed: int) -> None:
    # every file byte for byte the same whether the outputs are made on a second process as the decisions are
    # written or all after deciding (the former way); the first way is taken (no `_final_pass` in the run)
    inp = _generated_round(tmp_path / "in.jsonl", seed)
    calls = _spy_final_pass(monkeypatch)
    early = run_batch(policy, inp, tmp_path / "early", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'none.sqlite'}")
    assert calls == []
    after = run_batch(
        policy, inp, tmp_path / "after", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'none.sqlite'}", outputs_while_deciding=False
    )
    assert calls == [1]
    # 120 generated items in whole applications, then 2 lines that are no application's: 2 error records
    assert early.failed == after.failed == 2 and early.items == after.items > 0
    assert early.report == after.report == "written" and early.approved_total == after.approved_total
    assert early.by_status == after.by_status and early.by_item == after.by_item
    a, b = _files(tmp_path / "early"), _files(tmp_path / "after")
    assert list(a) == [
        "decisions.jsonl",
        "errors.jsonl",
        "report.html",
        "summary.json",
        "summary.xlsx",
        "summary_applications.csv",
        "summary_items.csv",
    ]
    assert a == b


def test_outputs_while_deciding_with_two_workers_and_several_versions(tmp_path: Path) -> None:
    # two versions (2020 for funding years up to 2023, the 2024 draft after) and two deciding processes: the same
    # files as one process writing every output after deciding
    from engine import load_policy
    from engine.deciding.versions import PolicySet

    versions = PolicySet(
        (load_policy(ROOT / "policies" / "pinggu_2020.yaml"), load_policy(ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml"))
    )
    inp = _generated_round(tmp_path / "in.jsonl", 3, 80)
    lines = inp.read_text(encoding="utf-8").splitlines()
    for n in range(0, len(lines) - 2, 2):  # every other application in the draft's first funding year
        lines[n] = json.dumps({**json.loads(lines[n]), "funding_year": 2024}, ensure_ascii=False)
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    s = run_batch(versions, inp, tmp_path / "early", quiet=True, ledger_url=url, workers=2)
    run_batch(versions, inp, tmp_path / "after", quiet=True, ledger_url=url, outputs_while_deciding=False)
    assert _files(tmp_path / "early") == _files(tmp_path / "after")
    made_by = {json.loads(line)["policy"]["version"] for line in (tmp_path / "early" / "decisions.jsonl").read_text().splitlines()}
    assert len(made_by) == 2 and s.report == "written"


def test_a_round_a_budget_scales_makes_its_outputs_while_deciding_by_the_scaling_foreseen(tmp_path: Path, monkeypatch) -> None:
    # a round budget scales every grant once the round is decided; the outputs' process decided the round first and
    # foresaw that scaling, so its outputs are kept: nothing is made after deciding, and the files are those of
    # making every output after deciding from the round's own scaling
    from test_ledger_support import policy_with_budget

    budgeted = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 1, 40)
    after = _made_after(budgeted, inp, tmp_path / "after", f"sqlite:///{tmp_path / 'a.sqlite'}")
    calls = _spy_final_pass(monkeypatch)
    s = run_batch(budgeted, inp, tmp_path / "o", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'b.sqlite'}", commit=True)
    assert calls == [] and s.scaling == after.scaling != {}  # scaled: the generated round asks far more than 100,000
    assert any("scaling" in json.loads(line) for line in (tmp_path / "o" / "decisions.jsonl").read_text().splitlines())
    assert not (tmp_path / "o" / "decisions.partial.jsonl").exists()
    assert _same_outputs(tmp_path / "o", tmp_path / "after")


def _spy_agreement_check(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Path], list[list[tuple[str, str]]]]:
    """What the check that a run scaled as foreseen reads: the files it reads decisions.partial.jsonl back from
    (`_claims_and_rounds`, spied as reading nothing) and each (claim id, round) list it digests."""
    import engine.records.batch as batch_mod

    read_back: list[Path] = []
    checked: list[list[tuple[str, str]]] = []
    monkeypatch.setattr(batch_mod, "_claims_and_rounds", lambda path: read_back.append(path) or iter(()))
    real = batch_mod.scaled_grants_digest

    def digest(ledger, decided, scaled):  # type: ignore[no-untyped-def]
        checked.append(list(decided))
        return real(ledger, checked[-1], scaled)

    monkeypatch.setattr(batch_mod, "scaled_grants_digest", digest)
    return read_back, checked


def test_the_foresight_is_checked_by_the_claims_the_run_wrote_not_by_reading_the_decisions_again(tmp_path: Path, monkeypatch) -> None:
    # after the bar, the check that the run scaled as the outputs' process foresaw takes each decision's claim id and
    # round as the run wrote it (`decide_one`'s `seen`), in the order of decisions.jsonl, where it read every line of
    # decisions.partial.jsonl back (`_claims_and_rounds`); the default rounds, one per funding year, all scaled
    from test_ledger_support import policy_with_budget

    budgeted = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 5, 120)
    after = _made_after(budgeted, inp, tmp_path / "after", f"sqlite:///{tmp_path / 'a.sqlite'}")
    read_back, checked = _spy_agreement_check(monkeypatch)
    calls = _spy_final_pass(monkeypatch)
    s = run_batch(budgeted, inp, tmp_path / "o", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'b.sqlite'}", commit=True)
    assert calls == [] and read_back == [] and s.scaling == after.scaling and len(s.scaling) > 1
    lines = [json.loads(x) for x in (tmp_path / "o" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert checked == [[(d["claim_id"], d["ledger"]["round"]) for d in lines]] and len(lines) == s.decided > 0
    assert {d["ledger"]["round"] for d in lines} == set(s.scaling)
    assert _same_outputs(tmp_path / "o", tmp_path / "after")


def _copy_ledger(src: Path, dst: Path) -> str:
    import sqlite3

    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return f"sqlite:///{dst}"


def _before_scaling(out: Path) -> Decimal:
    """The approved total, before scaling, of a run's decisions (decisions.jsonl): its own share of its rounds (a
    decision not scaled has no `total_before_scaling`: its total is)."""
    decisions = [json.loads(x) for x in (out / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    return sum((Decimal(d.get("total_before_scaling", d["total"])) for d in decisions), Decimal(0))


def _renamed(inp: Path, prefix: str) -> Path:
    """The round's claim ids given a prefix: generated rounds of any seed number their claims alike (PG-2022-0000001)."""
    lines = []
    for line in inp.read_text(encoding="utf-8").splitlines():
        try:
            d = json.loads(line)
        except ValueError:  # (the round's line that is not JSON)
            lines.append(line)
            continue
        lines.append(json.dumps({**d, "claim_id": prefix + d["claim_id"]}, ensure_ascii=False))
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return inp


@pytest.mark.parametrize("case", ["second-batch", "second-batch-foreseen-without-the-first", "same-claim-ids"])
def test_a_round_that_already_holds_an_earlier_runs_grants(tmp_path: Path, monkeypatch, case: str) -> None:
    # the round's ledger already holds an earlier run's grants in the same round: the round is scaled over both
    # runs' grants. The outputs' process foresees that (`earlier_share`: the earlier run's commits in the round,
    # read in its snapshot, ahead of this input's), so what it made is kept. With one of this input's claim ids
    # already committed with other content, the run refuses it, and so does the foresight (`Ledger.committed_round`;
    # before session 44 it decided it, and what it made was thrown away). Foreseen without the earlier commits (as
    # before session 43), the foresight is wrong: what it made is thrown away and every output made after deciding.
    # Every way, the files are those of making every output after deciding
    from test_ledger_support import policy_with_budget

    import engine.records.batch as batch_mod

    budgeted = policy_with_budget(tmp_path, "10万")
    first, second = _generated_round(tmp_path / "a.jsonl", 1, 40), _generated_round(tmp_path / "b.jsonl", 2, 40)
    if case != "same-claim-ids":
        _renamed(second, "B-")
    run_batch(
        budgeted, first, tmp_path / "first", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}", commit=True, round_label="R"
    )
    one, two = _copy_ledger(tmp_path / "l.sqlite", tmp_path / "1.sqlite"), _copy_ledger(tmp_path / "l.sqlite", tmp_path / "2.sqlite")
    after = _made_after(budgeted, second, tmp_path / "after", one, round_label="R")
    if case == "second-batch-foreseen-without-the-first":
        monkeypatch.setattr(batch_mod, "earlier_share", lambda base, rounds, own, replace: ([], set()))
    calls = _spy_final_pass(monkeypatch)
    s = run_batch(budgeted, second, tmp_path / "o", quiet=True, ledger_url=two, commit=True, round_label="R")
    assert (
        calls == ([1] if case == "second-batch-foreseen-without-the-first" else [])
        and s.scaling == after.scaling != {}
        and s.warnings == after.warnings == []
    )
    # (the earlier run's grants count: the round's approved total is both runs' own, before scaling)
    own, earlier = _before_scaling(tmp_path / "o"), _before_scaling(tmp_path / "first")
    assert earlier > 0 and Decimal(s.scaling["R"]["approved_total"]) == own + earlier
    refused = [json.loads(x) for x in (tmp_path / "o" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    # generated rounds 1 and 2 share one claim id, PG-2022-0000020, with other content: the run refuses it
    assert [e["claim_id"] for e in refused if e["error"] == "already committed"] == (
        ["PG-2022-0000020"] if case == "same-claim-ids" else []
    )
    assert _same_outputs(tmp_path / "o", tmp_path / "after")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_round_is_foreseen_before_the_run_commits_anything(tmp_path: Path, monkeypatch, backend: str) -> None:
    # The run waits for the outputs' process to decide the round ahead before it decides (and commits) anything.
    # Here that process starts 1 s late (its input is opened late) and counts the commits in the run's ledger then:
    # none. One enterprise's three pledge-loan claims, 400,000 of interest each: R11 gives 50 %, 200,000, within
    # 300,000 an enterprise a funding year, so 200,000, 100,000 and 0.00 (300,000 in all), scaled to the 20万
    # budget: x 2/3, 133,333.33 + 66,666.67 (the largest remainder) + 0.00. Had the run committed first, the
    # ledger would hold its three grants as the enterprise's history (the second claim would see 300,000 used and
    # get 0.00), and the foresight would differ and be thrown away. It is kept: nothing is made after deciding.
    import os
    import time

    from conftest import ENTERPRISE_ID, claim, item
    from test_ledger_support import make_ledger_url, policy_with_budget

    import engine.records.batch as batch_mod

    budgeted = policy_with_budget(tmp_path, "20万")
    inp = tmp_path / "in.jsonl"
    with open(inp, "w", encoding="utf-8") as f:
        for n in (1, 2, 3):
            c = claim(item("pledge_loan_interest", "l1", loan_id=f"LOAN-{n}", annual_interest_paid="400000.00"), claim_id=f"P-{n}")
            c["applicant"]["id"] = ENTERPRISE_ID
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    ledgers = make_ledger_url(backend, tmp_path / "a"), make_ledger_url(backend, tmp_path / "b")
    url, other = next(ledgers[0]), next(ledgers[1])
    seen = tmp_path / "commits-seen.txt"
    try:
        Ledger(url).close()
        after = _made_after(budgeted, inp, tmp_path / "after", other)
        run_pid, real_open = os.getpid(), batch_mod.open_claims

        def late(*a, **k):  # type: ignore[no-untyped-def]
            if os.getpid() != run_pid:  # the outputs' process: 1 s late, then how many commits the run has made
                time.sleep(1.0)
                with Ledger(url) as ledger:
                    seen.write_text(str(ledger.db.query("SELECT count(*) FROM commits")[0][0]))
            return real_open(*a, **k)

        monkeypatch.setattr(batch_mod, "open_claims", late)
        calls = _spy_final_pass(monkeypatch)
        s = run_batch(budgeted, inp, tmp_path / "o", quiet=True, ledger_url=url, commit=True)
    finally:
        for made in ledgers:
            next(made, None)  # (a PostgreSQL schema dropped)
    assert seen.read_text() == "0" and calls == [] and s.scaling == after.scaling != {}
    lines = [json.loads(x) for x in (tmp_path / "o" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(d["total_before_scaling"], d["total"]) for d in lines] == [
        ("200000.00", "133333.33"),
        ("100000.00", "66666.67"),
        ("0.00", "0.00"),
    ]
    assert _same_outputs(tmp_path / "o", tmp_path / "after")


@pytest.mark.parametrize("budget", [None, "10万"])
def test_an_outputs_process_behind_when_the_round_is_decided_shares_the_rest_with_processes(
    policy, tmp_path: Path, monkeypatch, budget: str | None
) -> None:
    # The outputs' process is slowed here (0.2 s a decision), so that most of the round is left when the run has
    # decided it: that rest is made on processes of the outputs' process's own (2 of them, 2 decisions a chunk),
    # and every file is still the one all-after-deciding gives; unscaled, and scaled by the scaling it foresaw.
    # The run says how far that process is, as a bar under the outputs' step (every step long here: LONG_STEP 0).
    import os
    import time

    from test_ledger_support import policy_with_budget

    import engine.records.batch as batch_mod

    chosen = policy_with_budget(tmp_path, budget) if budget else policy
    inp = _generated_round(tmp_path / "in.jsonl", 4, 400)
    after = _made_after(chosen, inp, tmp_path / "after", f"sqlite:///{tmp_path / 'a.sqlite'}")
    run_pid = os.getpid()
    marks = tmp_path / "pools"
    real_line, real_start = batch_mod._Outputs.line, batch_mod._OutputPool.start.__func__  # type: ignore[attr-defined]

    def line(self, text):  # type: ignore[no-untyped-def]
        if os.getpid() != run_pid:
            time.sleep(0.2)
        return real_line(self, text)

    def start(cls, *a, **k):  # type: ignore[no-untyped-def]
        with open(marks, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()}\n")
        return real_start(cls, *a, **k)

    monkeypatch.setattr(batch_mod._Outputs, "line", line)
    monkeypatch.setattr(batch_mod._OutputPool, "start", classmethod(start))
    monkeypatch.setattr(batch_mod, "POOL_FROM", 0)
    monkeypatch.setattr(batch_mod, "POOL_CHUNK", 2)
    monkeypatch.setattr(batch_mod, "output_processes", lambda chosen=None: 2)
    monkeypatch.setattr(batch_mod, "LONG_STEP", 0.0)
    calls = _spy_final_pass(monkeypatch)
    err = Tty()
    s = run_batch(chosen, inp, tmp_path / "o", stderr=err, ledger_url=f"sqlite:///{tmp_path / 'b.sqlite'}", commit=True)
    assert calls == [] and bool(s.scaling) is bool(budget) and s.scaling == after.scaling and s.warnings == []
    step = f"writing decisions.jsonl, summary_items.csv, summary_applications.csv and summary.xlsx ({s.decided} decisions) ...\n"
    assert re.search(re.escape(step) + r"(\r\[[#-]{30}\] +\d+\.\d% \d+ decisions [^\r]*)+" + re.escape(_CLEARED), err.getvalue())
    started = {int(p) for p in marks.read_text(encoding="utf-8").split()}
    assert started and run_pid not in started  # (started by the outputs' process, not by the run)
    assert _same_outputs(tmp_path / "o", tmp_path / "after")


@pytest.mark.parametrize("early", [False, True])
def test_a_scaled_round_read_from_a_file_whose_name_is_not_utf8(tmp_path: Path, monkeypatch, early: bool) -> None:
    # each decision line names its input file; a name that is not UTF-8 is written as an escaped lone surrogate,
    # which msgspec refuses: the line's claim id and round are then read by json, both where the run sends a scaled
    # line to its processes and where it checks what the outputs' process foresaw (before, the first failed the run)
    import os

    from test_ledger_support import policy_with_budget

    budgeted = policy_with_budget(tmp_path, "10万")
    named = Path(os.fsdecode(str(tmp_path).encode() + b"/round-\xff.jsonl"))
    _generated_round(named, 2, 60)
    _pool(monkeypatch, 2)
    calls = _spy_final_pass(monkeypatch)
    s = run_batch(
        budgeted, named, tmp_path / "o", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}", outputs_while_deciding=early
    )
    assert s.scaling and s.decided > 0 and calls == ([] if early else [1])
    lines = (tmp_path / "o" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == s.decided and all(json.loads(x)["input"]["file"] == str(named) for x in lines)


def test_a_round_larger_than_the_foresight_is_made_after_deciding_when_scaled(tmp_path: Path, monkeypatch) -> None:
    # the outputs' process foresees at most FORESEE_LIMIT applications (its ledger is in its memory): past that it
    # makes the outputs unscaled, as for a round without a budget, and a round then scaled is made after deciding
    from test_ledger_support import policy_with_budget

    import engine.records.batch as batch_mod

    budgeted = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 1, 60)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    after = run_batch(budgeted, inp, tmp_path / "after", quiet=True, ledger_url=url, outputs_while_deciding=False)
    monkeypatch.setattr(batch_mod, "FORESEE_LIMIT", 3)
    calls = _spy_final_pass(monkeypatch)
    s = run_batch(budgeted, inp, tmp_path / "o", quiet=True, ledger_url=url)
    assert s.applications > 3 and calls == [1] and s.scaling == after.scaling != {} and s.warnings == []
    assert _files(tmp_path / "o") == _files(tmp_path / "after")


def test_an_application_given_twice_keeps_the_foresight(tmp_path: Path, monkeypatch) -> None:
    # the same application twice in a round with a budget (a row copied in a workbook): the second is its own error
    # record (a claim id given again: it was decided again, and the round's totals doubled), in the run and in the
    # outputs' process alike. The process foresees the round as the run decides it: nothing is made after deciding.
    from test_ledger_support import policy_with_budget

    budgeted = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 1, 40)
    lines = inp.read_text(encoding="utf-8").splitlines(keepends=True)
    inp.write_text("".join([*lines[:3], lines[1], *lines[3:]]), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    after = run_batch(budgeted, inp, tmp_path / "after", quiet=True, ledger_url=url, outputs_while_deciding=False)
    calls = _spy_final_pass(monkeypatch)
    s = run_batch(budgeted, inp, tmp_path / "o", quiet=True, ledger_url=url)
    decided = [json.loads(x) for x in (tmp_path / "o" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    errors = [json.loads(x) for x in (tmp_path / "o" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [d["claim_id"] for d in decided].count(decided[1]["claim_id"]) == 1
    again = [e for e in errors if e["where"]["line"] == 4]  # (the round's own bad lines have records of their own)
    assert [e["claim_id"] for e in again] == [decided[1]["claim_id"]]
    assert again[0]["problems"][0]["message"].startswith(f"claim id '{decided[1]['claim_id']}' again: it was first given at ")
    assert calls == [] and s.scaling == after.scaling != {} and s.warnings == []
    assert _files(tmp_path / "o") == _files(tmp_path / "after")


def test_a_ledger_that_keeps_no_decisions_says_so_when_asked_for_one(policy, tmp_path: Path) -> None:
    from conftest import claim, item

    from engine.records.ledger import LedgerError

    c = claim(item("national_ip_title", "t1", title="demonstration"), claim_id="T-2")
    with Ledger(f"sqlite:///{tmp_path / 'scratch.sqlite'}") as scratch:
        scratch.store_decisions = False
        first = scratch.commit(policy, c)
        again = scratch.commit(policy, c)
    assert (
        (again.status, again.round, again.seq)
        == ("already_committed", first.round, first.seq)
        == ("already_committed", "pinggu-ip-promotion/2021", 1)
    )
    with pytest.raises(LedgerError, match="keeps no decisions"):
        _ = again.decision


def test_a_round_surely_larger_than_the_foresight_is_not_waited_for(tmp_path: Path, monkeypatch) -> None:
    # at the ESTIMATE_AT-th application the outputs' process tells from how far into the input it is that the
    # round is more than half as large again as it foresees: it stops deciding ahead there (the run waits no
    # longer), and the round, then scaled, is made after deciding (the same files)
    import os

    from test_ledger_support import policy_with_budget

    import engine.records.batch as batch_mod

    budgeted = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 1, 600)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    after = run_batch(budgeted, inp, tmp_path / "after", quiet=True, ledger_url=url, outputs_while_deciding=False)
    assert after.applications > 50
    monkeypatch.setattr(batch_mod, "ESTIMATE_AT", 10)
    monkeypatch.setattr(batch_mod, "FORESEE_LIMIT", 30)  # (more than 10, less than the round's applications)
    run_pid, real_commit, ahead = os.getpid(), batch_mod.commit_record, tmp_path / "ahead.txt"

    def counted(*a, **k):  # type: ignore[no-untyped-def]
        if os.getpid() != run_pid:
            with open(ahead, "a") as f:
                f.write("1")
        return real_commit(*a, **k)

    monkeypatch.setattr(batch_mod, "commit_record", counted)
    calls = _spy_final_pass(monkeypatch)
    s = run_batch(budgeted, inp, tmp_path / "o", quiet=True, ledger_url=url)
    assert len(ahead.read_text()) == 9  # the applications before the 10th (each a record with data)
    assert calls == [1] and s.scaling == after.scaling != {} and s.warnings == []
    assert _files(tmp_path / "o") == _files(tmp_path / "after")


def test_the_run_says_that_it_foresees_a_budget_before_deciding(tmp_path: Path, monkeypatch) -> None:
    # the outputs' process decides the round ahead slowly here (0.3 s an application, 6 applications): the run
    # waits for it before deciding, as a step of its own, with a bar once it is long (`LONG_STEP`); after deciding
    # only the budget's checks and the outputs' last steps are said (nothing waits for the foresight any more)
    import os
    import time

    from test_ledger_support import policy_with_budget

    import engine.records.batch as batch_mod

    budgeted = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 1, 40)
    run_pid, real_commit = os.getpid(), batch_mod.commit_record

    def slow(*a, **k):  # type: ignore[no-untyped-def]
        if os.getpid() != run_pid:
            time.sleep(0.3)
        return real_commit(*a, **k)

    monkeypatch.setattr(batch_mod, "commit_record", slow)
    err = Tty()
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    Ledger(url).close()  # an existing (empty) ledger: no warning about a missing one
    s = run_batch(budgeted, inp, tmp_path / "o", stderr=err, ledger_url=url)
    text = err.getvalue()
    step = "the round has a budget: deciding it once ahead, without the trace, to foresee how the budget scales it"
    assert text.startswith(step + " (its outputs are then made while it is decided) ...\n")  # (the bar on the next line)
    first_line = text.split("\n", 2)[1]
    assert "applications" in first_line.split("\r")[1] and first_line.endswith(" s")  # its bar, then its time in place
    deciding = text.split("\n", 2)[2]
    assert "applications" in deciding.split("\r")[1]  # then deciding's own bar
    after_bar = text[text.rindex("\r") + 1 :]
    said = [line.split(" ...")[0] for line in after_bar.splitlines()]
    assert said == [
        *[f"round {r}: checking the approved total against the budget" for r in sorted(s.scaling)],
        f"writing decisions.jsonl, summary_items.csv, summary_applications.csv and summary.xlsx ({s.decided} decisions)",
        "writing summary.xlsx: the budget and errors sheets, saving the workbook",
        f"drawing report.html ({s.applications} applications)",
    ]
    assert s.scaling and s.warnings == []


def test_an_outputs_process_that_cannot_foresee_leaves_the_outputs_to_after_deciding(tmp_path: Path, monkeypatch) -> None:
    # the process fails before it has read the ledger: the run does not wait for it, and makes every output after
    # deciding (the same files)
    from test_ledger_support import policy_with_budget

    import engine.records.batch as batch_mod

    def broken(self, conn):  # type: ignore[no-untyped-def]
        raise RuntimeError("no snapshot, say")

    budgeted = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 1, 40)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    after = run_batch(budgeted, inp, tmp_path / "after", quiet=True, ledger_url=url, outputs_while_deciding=False)
    monkeypatch.setattr(batch_mod._DryRun, "foresee", broken)
    calls = _spy_final_pass(monkeypatch)
    s = run_batch(budgeted, inp, tmp_path / "o", quiet=True, ledger_url=url)
    assert calls == [1] and s.scaling == after.scaling != {} and s.warnings == []
    assert _files(tmp_path / "o") == _files(tmp_path / "after")


def _break_in_the_outputs_process(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """The outputs' process fails on its third decision (`raise`) or is killed there (`kill`); the run's own
    process is not touched."""
    import os
    import signal

    import engine.records.batch as batch_mod

    run_pid = os.getpid()
    real = batch_mod._Outputs.line
    seen: list[int] = []

    def line(self, text):  # type: ignore[no-untyped-def]
        if os.getpid() != run_pid:
            seen.append(1)
            if len(seen) == 3:
                if how == "kill":
                    os.kill(os.getpid(), signal.SIGKILL)
                raise RuntimeError("broken on purpose")
        return real(self, text)

    monkeypatch.setattr(batch_mod._Outputs, "line", line)


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_an_outputs_process_that_fails_leaves_the_outputs_to_the_run(policy, tmp_path: Path, monkeypatch, how: str) -> None:
    inp = _generated_round(tmp_path / "in.jsonl", 1, 60)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    run_batch(policy, inp, tmp_path / "after", quiet=True, ledger_url=url, outputs_while_deciding=False)
    _break_in_the_outputs_process(monkeypatch, how)
    calls = _spy_final_pass(monkeypatch)
    err = Tty()
    s = run_batch(policy, inp, tmp_path / "early", ledger_url=url, stderr=err)
    assert calls == [1] and s.report == "written"  # written after deciding instead
    why = "RuntimeError: broken on purpose" if how == "raise" else "ended abruptly: killed, or out of memory?"
    warning = f"the process making the outputs beside deciding stopped ({why}); the run made every output after deciding (every output is complete)"
    assert [str(w) for w in s.warnings] == [warning]  # kept in summary.json, for a run nobody watched (a service's round)
    early, after = _files(tmp_path / "early"), _files(tmp_path / "after")
    said, unsaid = json.loads(str(early.pop("summary.json"))), json.loads(str(after.pop("summary.json")))
    assert (said.pop("warnings"), unsaid.pop("warnings")) == ([warning], [])
    said_too, unsaid_too = said.pop("warnings_said"), unsaid.pop("warnings_said")
    assert unsaid_too == [] and [w["en"] for w in said_too] == [warning] and said_too[0]["zh"].startswith("审核时同步生成输出的进程已停止")
    assert said == unsaid and early == after  # the rest of summary.json, and every other file, the same
    assert not (tmp_path / "early" / "decisions.partial.jsonl").exists()
    # the steps are said, the first one again as the run writes every output itself, after a note saying why
    after_bar = err.getvalue()[err.getvalue().rindex("\r") + 1 :]
    assert [line.split(" ...")[0] for line in after_bar.splitlines()] == [
        f"writing decisions.jsonl, summary_items.csv, summary_applications.csv and summary.xlsx ({s.decided} decisions)",
        f"note: the process making the outputs beside deciding stopped ({why}): every output is made now, after deciding (the same files)",
        f"writing decisions.jsonl, summary_items.csv, summary_applications.csv and summary.xlsx ({s.decided} decisions)",
    ] + [
        "writing summary.xlsx: the budget and errors sheets, saving the workbook",
        f"drawing report.html ({s.applications} applications)",
        f"warning: {warning}",
    ]


@pytest.mark.parametrize("early", [True, False])
def test_the_steps_are_said_either_way(policy, tmp_path: Path, early: bool) -> None:
    # the example round: 7 applications, 6 decided, 1 refused as unreadable (tests/test_batch.py)
    err = Tty()
    _run(policy, tmp_path, err, outputs_while_deciding=early)
    after_bar = err.getvalue()[err.getvalue().rindex("\r") + 1 :]
    assert [line.split(" ...")[0] for line in after_bar.splitlines()] == [
        "writing decisions.jsonl, summary_items.csv, summary_applications.csv and summary.xlsx (6 decisions)",
        "writing summary.xlsx: the budget and errors sheets, saving the workbook",
        "drawing report.html (7 applications)",
    ]


_BAR = re.compile(r"\r\[[#-]{30}\] +\d+\.\d% ")
_CLEARED = "\r" + " " * 79 + "\r"


@pytest.mark.parametrize(("workers", "step", "lang"), [
    (1, "writing decisions.jsonl, summary_items.csv, summary_applications.csv and summary.xlsx (6 decisions)", "en"),
    (1, "正在写入 decisions.jsonl、summary_items.csv、summary_applications.csv 和 summary.xlsx（6 份决定）", "zh"),
    (2, "writing the 7 applications the workers decided, in input order (with their rows and explanations, when the workers made them)", "en"),
])  # fmt: skip
def test_a_long_step_after_deciding_draws_a_progress_bar_under_its_line(
    policy, tmp_path: Path, monkeypatch, workers: int, step: str, lang: str
) -> None:
    # A step that counts what it does (the outputs made after deciding; on workers, the merge) and runs longer than
    # LONG_STEP ends its line and draws a bar under it, as deciding's, counting decisions (or applications); then its
    # time is said in the bar's place and the next step follows. Here every such step is long (LONG_STEP 0).
    from engine.core.i18n import use_language
    from engine.records import batch

    monkeypatch.setattr(batch, "LONG_STEP", 0.0)
    err = Tty()
    with use_language(lang):
        _run(policy, tmp_path, err, outputs_while_deciding=False, workers=workers)
    text = err.getvalue()
    _, _, rest = text.partition(step + " ...\n")
    assert rest, text  # the step's line, ended by the bar
    bar, _, after = rest.partition(_CLEARED)  # the bar drawn (perhaps more than once), then cleared
    unit = {"en": r"\d+ (decisions|applications) ", "zh": r"\d+ 份决定 "}[lang]
    assert _BAR.match(bar) and re.search(unit, bar), bar
    took, _, nxt = after.partition("\n")
    assert re.fullmatch(r" \d+\.\d s", took)  # the step's time, where the bar was
    # next: the workbook's last sheets; after the merge (its outputs not made on the workers here), the outputs
    assert nxt.startswith(
        {"en": "writing summary.xlsx" if workers == 1 else "writing decisions.jsonl", "zh": "正在写入 summary.xlsx"}[lang]
    )
    assert (tmp_path / "o" / "report.html").exists()


def test_a_quick_step_draws_no_bar(policy, tmp_path: Path) -> None:
    # the example round's outputs take far less than LONG_STEP: one line each, as before the bar existed
    err = Tty()
    _run(policy, tmp_path, err, outputs_while_deciding=False)
    after_bar = err.getvalue()[err.getvalue().rindex("\r") + 1 :]  # (the deciding bar's clearing is the last \r)
    assert after_bar.startswith("writing decisions.jsonl") and "[" not in after_bar


def test_a_run_that_stops_while_deciding_ends_its_outputs_process(policy, tmp_path: Path) -> None:
    # the run stops on its third application (here: its caller's callback raises): its outputs' process ends with it
    import multiprocessing

    inp = _generated_round(tmp_path / "in.jsonl", 1, 60)

    def stop(n: int) -> None:
        if n == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(policy, inp, tmp_path / "o", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'none.sqlite'}", on_decided=stop)
    assert multiprocessing.active_children() == []
    assert not (tmp_path / "o" / "report.html").exists() and not (tmp_path / "o" / "decisions.jsonl").exists()


LEFT_STOPPED = ["decisions.partial.jsonl", "errors.jsonl"]  # (what a run that stops part way leaves: no summary)


@pytest.mark.parametrize("while_deciding", [True, False])
def test_a_run_whose_input_breaks_off_leaves_no_summary_of_its_own_or_an_earlier_runs(policy, tmp_path: Path, while_deciding: bool) -> None:
    # an earlier run's seven files in the folder; this run's input (a JSON list of the generated round) is cut short in
    # its 31st claim: the run writes the 30 it read, then the input's error, and stops. Made while deciding, its CSVs
    # were half made (before session 45 they were left so, beside the earlier run's workbook, decisions.jsonl and
    # summary.json); made after deciding, the earlier run's summaries were left: either way they passed for this run's
    from engine.records.inputs import InputError

    out = tmp_path / "o"
    run_batch(policy, _generated_round(tmp_path / "first.jsonl", 3, 12), out, quiet=True, without_ledger=True)
    assert len(list(out.iterdir())) == 7
    from benchmarks.generate import claims as generated

    claims = list(generated(600, seed=1))  # (600 items: 30 claims and more)
    text = json.dumps(claims, ensure_ascii=False)
    cut = tmp_path / "cut.json"
    cut.write_text(text[: text.index(f'"claim_id": "{claims[30]["claim_id"]}"')], encoding="utf-8")
    with pytest.raises(InputError):
        run_batch(policy, cut, out, quiet=True, without_ledger=True, outputs_while_deciding=while_deciding)
    assert sorted(f.name for f in out.iterdir()) == LEFT_STOPPED
    assert len((out / "decisions.partial.jsonl").read_text(encoding="utf-8").splitlines()) == 30
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert errors[-1]["application"] is None and errors[-1]["where"] == {"file": str(cut)}


def test_a_run_whose_input_is_in_the_output_folder_under_an_outputs_name_is_refused(policy, tmp_path: Path) -> None:
    # the example workbook read from the output folder under the name of a summary (summary.xlsx): the run would write
    # its own workbook over it. Refused before anything is read or removed (OutputError, exit 2, as `evaluate c.json
    # --out c.json` is); the input stays
    import shutil

    from engine.records.tabular import OutputError

    out = tmp_path / "o"
    out.mkdir()
    inp = out / "summary.xlsx"
    shutil.copy(Path(__file__).resolve().parent.parent / "examples" / "round_2021.xlsx", inp)
    before = inp.read_bytes()
    with pytest.raises(OutputError, match=r"summary\.xlsx"):
        run_batch(policy, inp, out, quiet=True, without_ledger=True)
    assert [f.name for f in out.iterdir()] == ["summary.xlsx"] and inp.read_bytes() == before


def test_a_report_page_drawn_one_entry_at_a_time_is_render_report(policy, tmp_path: Path) -> None:
    from engine.explaining import render

    _run(policy, tmp_path, io.StringIO())
    decisions = [json.loads(line) for line in (tmp_path / "o" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    entries = [*decisions, render.ReportError("line 7", "not JSON", ["line 7: expected a value"])]
    for lang in ("zh", "en"):
        page = render.ReportPage(policy, lang)
        for e in entries:
            page.add(e)
        assert page.html() == render.render_report(policy, entries, lang)
    assert page.rows[-1]["n"] == 7 and page.errors == 1


def test_a_report_page_counts_no_time_between_its_entries(policy, tmp_path: Path, monkeypatch) -> None:
    # a batch adds each decision as it is decided: the render's time budget (2 s + 0.1 s per application,
    # engine/language/templating.py) counts the drawing only. A clock that jumps 100 s between two entries moves
    # the deadline on by those 100 s, plus the second entry's 0.1 s.
    from engine.explaining import render

    _run(policy, tmp_path, io.StringIO())
    decision = json.loads((tmp_path / "o" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()[0])
    now = [1000.0]
    monkeypatch.setattr(render.time, "monotonic", lambda: now[0])
    page = render.ReportPage(policy, "zh")
    page.add(decision)
    first = page.budget.deadline
    now[0] += 100.0
    page.add(decision)
    assert page.budget.deadline == pytest.approx(first + 100.0 + 0.1)


def test_a_run_in_a_thread_beside_others_makes_its_outputs_beside_deciding_in_a_new_interpreter(
    policy, tmp_path: Path, monkeypatch
) -> None:
    # an embedding program's threads: a process with other threads is not forked (a lock held by another thread would
    # stay held in the copy). Since session 45 its outputs' process is a new interpreter (engine.records.spawned),
    # given the policy by its file: the outputs are the same and none is made after deciding (tests/test_spawned_outputs.py)
    import threading

    inp = _generated_round(tmp_path / "in.jsonl", 2, 60)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    run_batch(policy, inp, tmp_path / "alone", quiet=True, ledger_url=url)
    calls = _spy_final_pass(monkeypatch)
    done = threading.Event()
    other = threading.Thread(target=done.wait)
    other.start()
    try:
        run_batch(policy, inp, tmp_path / "beside", quiet=True, ledger_url=url)
    finally:
        done.set()
        other.join()
    assert calls == []
    assert _same_outputs(tmp_path / "beside", tmp_path / "alone")


def test_a_spooled_report_page_writes_the_same_file(policy, tmp_path: Path) -> None:
    # spooled, each explanation waits in a temporary file as UTF-8 and `write` copies it where the page puts it:
    # the file is render_report's text; html() of a spooled page is that text too
    from engine.explaining import render

    _run(policy, tmp_path, io.StringIO())
    decisions = [json.loads(line) for line in (tmp_path / "o" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    entries = [*decisions, render.ReportError("line 7", "not JSON", ["line 7: expected a value"])]
    expected = render.render_report(policy, entries, "zh")
    page = render.ReportPage(policy, "zh", spool=True)
    for e in entries:
        page.add(e)
    assert len(page.marks) == 6 and all(str(r["body"]) in page.marks for r in page.rows if not r["error"])
    assert page.write(tmp_path / "spooled.html").read_text(encoding="utf-8") == expected
    again = render.ReportPage(policy, "zh", spool=True)
    for e in entries:
        again.add(e)
    assert again.html() == expected


def test_a_spooled_page_with_text_no_file_can_hold_fails_as_before(policy, tmp_path: Path) -> None:
    # a lone surrogate (from a "\\ud800" escape in a decision's JSON) cannot be written as UTF-8: the page fails
    # to write with the same error as the page written from one string
    from engine.explaining import render

    _run(policy, tmp_path, io.StringIO())
    d = json.loads((tmp_path / "o" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()[0])
    d["applicant"]["name"] = "A\ud800"
    errors = []
    for spool in (False, True):
        page = render.ReportPage(policy, "zh", spool=spool)
        page.add(json.loads(json.dumps(d)))
        with pytest.raises(UnicodeEncodeError) as exc:
            page.write(tmp_path / f"p{spool}.html")
        errors.append(str(exc.value))
    assert errors[0] == errors[1]


# --- the report's explanations drawn on processes after deciding (session 6: the fallback path) ------------------


def _pool(monkeypatch: pytest.MonkeyPatch, processes: int) -> list[object]:
    """Any round draws on `processes` processes (0: the run draws them itself), 2 decisions a chunk; returns the
    pools started."""
    import engine.records.batch as batch_mod

    started: list[object] = []
    real = batch_mod._OutputPool.start.__func__  # type: ignore[attr-defined]

    def start(cls, *a, **k):  # type: ignore[no-untyped-def]
        pool = real(cls, *a, **k)
        started.append(pool)
        return pool

    monkeypatch.setattr(batch_mod, "POOL_FROM", 0)
    monkeypatch.setattr(batch_mod, "POOL_CHUNK", 2)
    monkeypatch.setattr(batch_mod, "output_processes", lambda chosen=None: processes)
    monkeypatch.setattr(batch_mod._OutputPool, "start", classmethod(start))
    return started


@pytest.mark.parametrize("budget", [False, True])
def test_explanations_drawn_on_processes_are_the_files_the_run_draws(policy, tmp_path: Path, monkeypatch, budget: bool) -> None:
    # all after deciding (as a round with a budget, the service's rounds and a dead outputs process are): the
    # report's explanations drawn on 2 processes, 2 decisions at a time, give every file byte for byte as drawn
    # by the run itself; with a round budget too (scaled decisions: drawn from their scaled lines)
    from test_ledger_support import policy_with_budget

    chosen = policy_with_budget(tmp_path, "10万") if budget else policy
    inp = _generated_round(tmp_path / "in.jsonl", 3, 150)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    _pool(monkeypatch, 0)
    alone = run_batch(chosen, inp, tmp_path / "alone", quiet=True, ledger_url=url, outputs_while_deciding=False)
    started = _pool(monkeypatch, 2)
    pooled = run_batch(chosen, inp, tmp_path / "pooled", quiet=True, ledger_url=url, outputs_while_deciding=False)
    assert len(started) == 1 and started[0] is not None  # drawn on the pool
    assert bool(pooled.scaling) is budget and pooled.report == alone.report == "written"
    assert pooled.warnings == alone.warnings
    assert _files(tmp_path / "pooled") == _files(tmp_path / "alone")


def test_a_scaled_round_whose_last_chunk_is_larger_than_a_pipe_does_not_hang(policy, tmp_path: Path, monkeypatch) -> None:
    # A scaled round sends its decision lines themselves (scaled by the run) to the pool, ~10-30 KB each, not
    # their places in a file. At 16 lines a chunk (the real POOL_CHUNK), a chunk and a process's answer (16
    # explanations) are each larger than the pipe (a socket pair) holds. 45 applications: two whole chunks, then
    # the last one, of 13, sent by the drain while the first process still owed its answer -- before the fix, the
    # run waited to send it while that process waited to send its answer, forever (a 1000万 budget on a
    # 10,000-application round hung so). An alarm turns a hang into a failure here; the files are the run's own.
    import signal

    from test_ledger_support import policy_with_budget

    import engine.records.batch as batch_mod

    chosen = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 3, 450)  # 45 claims (and two lines that are not)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    chunk = batch_mod.POOL_CHUNK
    _pool(monkeypatch, 0)
    alone = run_batch(chosen, inp, tmp_path / "alone", quiet=True, ledger_url=url, outputs_while_deciding=False)
    started = _pool(monkeypatch, 2)
    monkeypatch.setattr(batch_mod, "POOL_CHUNK", chunk)
    in_flight: list[int] = []  # for each chunk sent: the answers its process still owed then

    class Watched:  # a process's pipe, counting the chunks sent and the answers read
        def __init__(self, conn: object) -> None:
            self.conn, self.owed = conn, 0

        def send(self, chunk: object) -> None:
            in_flight.append(self.owed)
            self.owed += 1
            self.conn.send(chunk)  # type: ignore[attr-defined]

        def recv(self) -> object:
            self.owed -= 1
            return self.conn.recv()  # type: ignore[attr-defined]

        def close(self) -> None:
            self.conn.close()  # type: ignore[attr-defined]

    patched = batch_mod._OutputPool.start.__func__  # type: ignore[attr-defined]

    def start(cls, *a, **k):  # type: ignore[no-untyped-def]
        pool = patched(cls, *a, **k)
        if pool is not None:
            pool.conns = [Watched(c) for c in pool.conns]
        return pool

    monkeypatch.setattr(batch_mod._OutputPool, "start", classmethod(start))

    class Hung(Exception):  # (not TimeoutError: an OSError, which the pool takes for a dead process)
        pass

    def hung(*_: object) -> None:
        signal.alarm(5)  # again, should stopping the pool wait too
        raise Hung("the run waited on its outputs' processes for 60 s")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        pooled = run_batch(chosen, inp, tmp_path / "pooled", quiet=True, ledger_url=url, outputs_while_deciding=False)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert chunk == 16 and alone.decided == pooled.decided == 45 and pooled.scaling and started and started[0] is not None
    assert len(in_flight) == 3 and set(in_flight) == {0}  # never a second chunk to a process that owes one
    assert _files(tmp_path / "pooled") == _files(tmp_path / "alone")


@pytest.mark.parametrize("budget", [None, "300万"])
def test_a_drawing_process_that_dies_leaves_its_explanations_to_the_run(policy, tmp_path: Path, monkeypatch, budget: str | None) -> None:
    # a process is killed on its third explanation: the run draws every explanation it owed (and those sent to
    # the other process after it), in order, and says so; every file is the same. With a budget of 300万 the round
    # of 2022 (4,205,189.18 approved) is scaled and those of 2021 and 2023 (under 50万 each) are not: the lines the
    # processes owed are scaled by the run, where their round was, and written to decisions.jsonl in their place
    import os
    import signal

    from test_ledger_support import policy_with_budget

    from engine.explaining import render

    if budget is not None:
        policy = policy_with_budget(tmp_path, budget)
    inp = _generated_round(tmp_path / "in.jsonl", 4, 150)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    _pool(monkeypatch, 0)
    alone = run_batch(policy, inp, tmp_path / "alone", quiet=True, ledger_url=url, outputs_while_deciding=False)
    started = _pool(monkeypatch, 2)
    run_pid = os.getpid()
    real = render.ReportPage.draw
    seen: list[int] = []

    def draw(self, entry, anchor):  # type: ignore[no-untyped-def]
        if os.getpid() != run_pid:
            seen.append(1)
            if len(seen) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
        return real(self, entry, anchor)

    monkeypatch.setattr(render.ReportPage, "draw", draw)
    err = Tty()
    s = run_batch(policy, inp, tmp_path / "pooled", ledger_url=url, stderr=err, outputs_while_deciding=False)
    assert started and started[0] is not None
    assert s.report == "written"
    assert list(s.scaling) == list(alone.scaling) == ([] if budget is None else ["pinggu-ip-promotion/2022"])
    assert s.warnings == [*alone.warnings, msg("batch.report.process_died")]
    assert "the run made the rest itself" in err.getvalue()  # said with the summary's warnings
    a, b = _files(tmp_path / "alone"), _files(tmp_path / "pooled")
    assert a.pop("summary.json") != b.pop("summary.json")  # (its warnings)
    assert a == b


def test_an_explanation_a_process_cannot_draw_fails_the_report_as_the_run_would(policy, tmp_path: Path, monkeypatch) -> None:
    from engine.explaining import render

    inp = _generated_round(tmp_path / "in.jsonl", 5, 150)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    real = render.ReportPage.draw
    bad = json.loads(inp.read_text(encoding="utf-8").splitlines()[4])["claim_id"]

    def draw(self, entry, anchor):  # type: ignore[no-untyped-def]
        if entry.get("claim_id") == bad:
            raise RuntimeError(f"cannot draw {bad}")
        return real(self, entry, anchor)

    monkeypatch.setattr(render.ReportPage, "draw", draw)
    _pool(monkeypatch, 0)
    alone = run_batch(policy, inp, tmp_path / "alone", quiet=True, ledger_url=url, outputs_while_deciding=False)
    started = _pool(monkeypatch, 2)
    pooled = run_batch(policy, inp, tmp_path / "pooled", quiet=True, ledger_url=url, outputs_while_deciding=False)
    assert started and started[0] is not None
    assert pooled.report == alone.report == f"failed: RuntimeError: cannot draw {bad}"
    assert not (tmp_path / "pooled" / "report.html").exists()
    assert _files(tmp_path / "pooled") == _files(tmp_path / "alone")


# --- session 7: every output of a line made on the outputs' processes after deciding ------------------------------


def test_rows_made_on_another_process_are_the_rows_written_here(tmp_path: Path) -> None:
    # XlsxOut.parts + put and CsvRows + CsvOut.take (a row made on an outputs' process, written by the run in its
    # place) give the files XlsxOut.row and CsvOut.row give: plain rows as text, rows with a cell to escape or guard
    # (a bell character, a formula's start) written, escaped and noted by the run at their own row numbers
    import zipfile

    from engine.records.tabular import CsvOut, CsvRows

    rows = [
        ["A-1", "name & <co>", "1492200.00", 7, True, None, ""],
        ["A-2", "=1+1", "12.5", 2**70, False, float("inf"), "x"],
        ["A-3", "bell\x07", Decimal("99999999999.99"), None, None, "", "y\r\nz"],
        ["A-4", "plain", "not money", 0, None, 1.5, "中文"],
        ["A-5", "@SUM(A1)", None, None, None, None, None],
    ]
    header = ["id", "name", "amount", "n", "flag", "f", "note"]
    here, there = XlsxOut(tmp_path / "here.xlsx"), XlsxOut(tmp_path / "there.xlsx")
    csv_here, csv_there = CsvOut(tmp_path / "here.csv", header), CsvOut(tmp_path / "there.csv", header)
    for x in (here, there):
        x.sheet("s", header, money=["amount"])
    made = CsvRows()
    sheet_made = []
    for row in rows:
        here.row("s", row)
        csv_here.row(row)
        made.row(row)
        sheet_made.append(there.parts("s", row))
    assert [type(m) for m in sheet_made] == [list, tuple, tuple, list, tuple]  # plain rows as text, the others as values
    runs = made.done()
    assert [type(r) for r in runs] == [tuple, list, list, tuple, list]  # (text, 1 row), values, values, (text, 1 row), values
    for m in sheet_made:
        there.put("s", m)
    csv_there.take(runs)
    for x in (here, there, csv_here, csv_there):
        x.close()
    assert (tmp_path / "there.csv").read_bytes() == (tmp_path / "here.csv").read_bytes()
    with zipfile.ZipFile(tmp_path / "here.xlsx") as a, zipfile.ZipFile(tmp_path / "there.xlsx") as b:
        assert {n: a.read(n) for n in a.namelist()} == {n: b.read(n) for n in b.namelist()}
    # 3 cells altered in each: "=1+1" is guarded (not altered), "bell\x07" escaped, "@SUM(A1)" guarded: 1 escaped
    assert (there.altered.count, csv_there.altered.count) == (here.altered.count, csv_here.altered.count) == (1, 1)
    assert there.altered.first == here.altered.first and csv_there.altered.first == csv_here.altered.first


def test_a_spooled_page_takes_an_explanation_as_its_utf8_bytes(policy, tmp_path: Path) -> None:
    # an outputs' process sends each explanation as the UTF-8 the page's spool keeps: the same page as given the text
    from engine.explaining import render

    _run(policy, tmp_path, io.StringIO())
    decisions = [json.loads(line) for line in (tmp_path / "o" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    pages = []
    for as_bytes in (False, True):
        page = render.ReportPage(policy, "zh", spool=True)
        for n, d in enumerate(decisions, 1):
            body = str(page.draw(d, f"app-{n}"))
            page.add(d, body.encode("utf-8") if as_bytes else body)
        pages.append(page.write(tmp_path / f"p{as_bytes}.html").read_bytes())
    assert pages[0] == pages[1] == render.render_report(policy, decisions, "zh").encode("utf-8")
    with pytest.raises(ValueError):  # bytes only where a spool keeps them
        render.ReportPage(policy, "zh").add(decisions[0], b"<p>x</p>")


def _hostile_round(path: Path, seed: int, n: int) -> Path:
    """`_generated_round` with applicants whose names a spreadsheet would run as a formula (guarded: an apostrophe)."""
    from benchmarks.generate import claims

    with open(path, "w", encoding="utf-8") as f:
        for k, c in enumerate(claims(n, seed=seed)):
            if k % 7 == 3:
                c["applicant"]["name"] = "=HYPERLINK(1)" if k % 2 else "@SUM(A1)"
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
        f.write("not json\n")
    return path


@pytest.mark.parametrize("seed", [3, 5, 11])
def test_outputs_made_on_processes_are_the_files_the_run_makes(policy, tmp_path: Path, monkeypatch, seed: int) -> None:
    # all after deciding, every line's outputs made on 2 processes (2 lines at a time: the CSVs' and workbook's rows,
    # the totals, the explanation) are the files the run makes itself, and the files made while deciding; with
    # cells to guard (their rows sent back as values, written by the run in their places)
    inp = _hostile_round(tmp_path / "in.jsonl", seed, 200)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    early = run_batch(policy, inp, tmp_path / "early", quiet=True, ledger_url=url)
    _pool(monkeypatch, 0)
    alone = run_batch(policy, inp, tmp_path / "alone", quiet=True, ledger_url=url, outputs_while_deciding=False)
    started = _pool(monkeypatch, 2)
    pooled = run_batch(policy, inp, tmp_path / "pooled", quiet=True, ledger_url=url, outputs_while_deciding=False)
    assert len(started) == 1 and started[0] is not None
    assert pooled.warnings == alone.warnings == early.warnings
    csv_text = (tmp_path / "pooled" / "summary_items.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(1)" in csv_text and "'@SUM(A1)" in csv_text
    assert (pooled.items, pooled.approved_total, pooled.by_item) == (alone.items, alone.approved_total, alone.by_item)
    assert _files(tmp_path / "pooled") == _files(tmp_path / "alone") == _files(tmp_path / "early")


def test_a_process_that_cannot_make_a_chunk_leaves_it_to_the_run(policy, tmp_path: Path, monkeypatch) -> None:
    # an error making the rows on a process (not an explanation's): the process answers None and ends; the run makes
    # that chunk and the rest itself, in order, and says so
    import os

    import engine.records.batch as batch_mod

    inp = _generated_round(tmp_path / "in.jsonl", 6, 150)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    _pool(monkeypatch, 0)
    alone = run_batch(policy, inp, tmp_path / "alone", quiet=True, ledger_url=url, outputs_while_deciding=False)
    started = _pool(monkeypatch, 2)
    run_pid = os.getpid()
    real = batch_mod._Outputs.made
    calls: list[int] = []

    def made(self, chunk):  # type: ignore[no-untyped-def]
        calls.append(1)
        if os.getpid() != run_pid and len(calls) == 2:
            raise KeyError("rows")
        return real(self, chunk)

    monkeypatch.setattr(batch_mod._Outputs, "made", made)
    s = run_batch(policy, inp, tmp_path / "pooled", quiet=True, ledger_url=url, outputs_while_deciding=False)
    assert started and started[0] is not None
    assert s.warnings == [*alone.warnings, msg("batch.report.process_died")]
    a, b = _files(tmp_path / "alone"), _files(tmp_path / "pooled")
    assert a.pop("summary.json") != b.pop("summary.json")  # (its warnings)
    assert a == b


def _spy_early(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the outputs' processes started while deciding (`_EarlyOutputs.start`)."""
    import engine.records.batch as batch_mod

    calls: list[int] = []
    real = batch_mod._EarlyOutputs.start.__func__  # type: ignore[attr-defined]

    def start(cls, *a, **k):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(cls, *a, **k)

    monkeypatch.setattr(batch_mod._EarlyOutputs, "start", classmethod(start))
    return calls


@pytest.mark.parametrize("scaled", [False, True])
def test_a_round_with_a_budget_makes_its_outputs_while_deciding_scaled_or_not(policy, tmp_path: Path, monkeypatch, scaled: bool) -> None:
    # a budget of 1 billion (1,000,000,000 > the round's ~10 million approved: nothing scaled) or of 100,000 (the
    # round scaled): either way the outputs' process foresaw it, what it made while deciding is kept, and the files
    # are those all-after-deciding gives
    chosen, inp, url, after = _budget_round(tmp_path, "10万" if scaled else "1000000000")
    early = _spy_early(monkeypatch)
    final = _spy_final_pass(monkeypatch)
    s = run_batch(chosen, inp, tmp_path / "early", quiet=True, ledger_url=url)
    assert bool(s.scaling) is bool(after.scaling) is scaled
    assert early == [1] and final == []
    assert s.report == after.report == "written"
    assert _files(tmp_path / "early") == _files(tmp_path / "after")


def _spy_made_on_workers(monkeypatch: pytest.MonkeyPatch, path: Path) -> Callable[[], int]:
    """How many decisions the deciding workers made the outputs of (`_Outputs.made`, unplaced), counted in a file:
    the workers are forked processes."""
    import engine.records.batch as batch_mod

    real = batch_mod._Outputs.made

    def made(self, chunk, unplaced=False):  # type: ignore[no-untyped-def]
        if unplaced:
            with open(path, "a", encoding="utf-8") as f:
                f.write("x" * len(chunk))
        return real(self, chunk, unplaced)

    monkeypatch.setattr(batch_mod._Outputs, "made", made)
    return lambda: len(path.read_text(encoding="utf-8")) if path.exists() else 0


def _spy_placed(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each decision the merge of a round on workers writes (`_Outputs.placed`): whether its worker made its outputs."""
    import engine.records.batch as batch_mod

    seen: list[bool] = []
    real = batch_mod._Outputs.placed

    def placed(self, line, made):  # type: ignore[no-untyped-def]
        seen.append(made is not None)
        return real(self, line, made)

    monkeypatch.setattr(batch_mod._Outputs, "placed", placed)
    return seen


def test_a_round_on_workers_makes_its_outputs_on_the_workers(policy, tmp_path: Path, monkeypatch) -> None:
    # decided on 2 workers: each worker makes the rows and the explanation of every decision it writes, and the
    # merge writes them in input order, each explanation's anchor set to its place in the report there. No outputs'
    # process beside deciding, no pool and no pass after deciding; the files those of one worker
    inp = _generated_round(tmp_path / "in.jsonl", 8, 150)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    one = run_batch(policy, inp, tmp_path / "one", quiet=True, ledger_url=url)
    early, final, started = _spy_early(monkeypatch), _spy_final_pass(monkeypatch), _pool(monkeypatch, 2)
    placed = _spy_placed(monkeypatch)
    two = run_batch(policy, inp, tmp_path / "two", quiet=True, ledger_url=url, workers=2)
    assert early == [] and final == [] and started == []
    assert len(placed) == two.decided == one.decided and all(placed)
    assert two.report == one.report == "written" and two.warnings == one.warnings
    assert _files(tmp_path / "two") == _files(tmp_path / "one")
    page = (tmp_path / "two" / "report.html").read_text(encoding="utf-8")
    assert "app-unplaced" not in page and 'id="app-1"' in page and f'id="app-{one.decided}-item-1"' in page


def _budget_round(tmp_path: Path, budget: str, seed: int = 7, n: int = 150) -> tuple[Any, Path, str, Any]:
    """A generated round (`_generated_round`) under a copy of the policy with a round budget of `budget`, decided with
    no ledger, and one worker's run of it writing every output after deciding (into tmp_path/after), which each way on
    workers is held to: (policy, input, ledger URL, that run's summary)."""
    from test_ledger_support import policy_with_budget

    chosen = policy_with_budget(tmp_path, budget)
    inp = _generated_round(tmp_path / "in.jsonl", seed, n)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    return chosen, inp, url, run_batch(chosen, inp, tmp_path / "after", quiet=True, ledger_url=url, outputs_while_deciding=False)


@pytest.mark.parametrize("scaled", [False, True])
def test_a_budget_round_on_workers_foresees_its_scaling_and_keeps_what_they_made(policy, tmp_path: Path, monkeypatch, scaled: bool) -> None:
    # a round a budget may scale, on 2 workers: the workers first decide their applications ahead, without the
    # trace (the step said before deciding, as on one worker), the run scales that as it will scale the round, and
    # each worker then makes every decision's outputs scaled so: the merge writes them all, nothing is made after
    # deciding. The files are one worker's writing them all after deciding from the scaled decisions; scaled, each
    # of the three rounds (2021-2023) then approves exactly its budget: 3 x 100,000.00
    chosen, inp, url, after = _budget_round(tmp_path, "10万" if scaled else "1000000000")
    final, placed = _spy_final_pass(monkeypatch), _spy_placed(monkeypatch)
    made = _spy_made_on_workers(monkeypatch, tmp_path / "made-on-workers")
    said: list[str] = []
    two = run_batch(
        chosen, inp, tmp_path / "two", quiet=True, ledger_url=url, workers=2, on_step=lambda text, _done, _total: said.append(text)
    )
    assert bool(two.scaling) is bool(after.scaling) is scaled
    assert len(placed) == made() == two.decided and all(placed) and final == []
    said = list(dict.fromkeys(said))  # (each step as it starts, and again as it counts)
    assert (
        said[0]
        == "the round has a budget: deciding it once ahead, without the trace, to foresee how the budget scales it (its outputs are then made while it is decided)"
    )
    assert (
        said[1]
        == f"writing the {two.applications} applications the workers decided, in input order (with their rows and explanations, when the workers made them)"
    )
    if scaled:
        assert sorted(two.scaling) == ["pinggu-ip-promotion/2021", "pinggu-ip-promotion/2022", "pinggu-ip-promotion/2023"]
        assert two.approved_total == Decimal("300000.00")
    assert two.report == after.report == "written" and two.approved_total == after.approved_total
    assert _files(tmp_path / "two") == _files(tmp_path / "after")


def test_a_committed_scaled_round_on_workers_numbers_its_scaled_lines(policy, tmp_path: Path, monkeypatch) -> None:
    # committing a round its budget scales, on 2 workers: the lines the workers made scaled get their commit number
    # at the merge, as the unscaled ones do; into an empty ledger, the n-th decision is commit n. The files are
    # one worker's
    from test_ledger_support import policy_with_budget

    chosen = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 6, 120)
    one = run_batch(chosen, inp, tmp_path / "one", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'a.sqlite'}", commit=True)
    final, placed = _spy_final_pass(monkeypatch), _spy_placed(monkeypatch)
    two = run_batch(chosen, inp, tmp_path / "two", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'b.sqlite'}", commit=True, workers=2)
    assert two.scaling and final == [] and len(placed) == two.committed == one.committed == one.decided > 0 and all(placed)
    lines = [json.loads(line) for line in (tmp_path / "two" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [d["ledger"]["commit"] for d in lines] == list(range(1, two.committed + 1))
    assert all("scaling" in d and Decimal(d["total"]) <= Decimal(d["total_before_scaling"]) for d in lines)
    a, b = _files(tmp_path / "one"), _files(tmp_path / "two")
    assert a.pop("summary.json") != "" and b.pop("summary.json") != ""  # (each names its own ledger)
    assert a == b


@pytest.mark.parametrize("wrong", ["records", "grants"])
def test_outputs_made_with_a_scaling_the_run_did_not_make_are_made_again(policy, tmp_path: Path, monkeypatch, wrong: str) -> None:
    # the foresight is kept only when the run scales exactly so: foreseen with another factor, or with another
    # claim's grants, what the workers made is thrown away and every output made after deciding: the same files
    import dataclasses

    import engine.records.workers as workers_mod

    chosen, inp, url, after = _budget_round(tmp_path, "10万")
    real = workers_mod._foresee_round

    def foreseen(*a, **k):  # type: ignore[no-untyped-def]
        f = real(*a, **k)
        if wrong == "records":
            return dataclasses.replace(f, records={r: {**v, "factor": "0.5"} for r, v in f.records.items()})
        return dataclasses.replace(f, digest="another")

    monkeypatch.setattr(workers_mod, "_foresee_round", foreseen)
    final, placed = _spy_final_pass(monkeypatch), _spy_placed(monkeypatch)
    two = run_batch(chosen, inp, tmp_path / "two", quiet=True, ledger_url=url, workers=2)
    assert two.scaling and len(placed) == two.decided and final == [1]
    assert two.approved_total == after.approved_total == Decimal("300000.00")
    assert _files(tmp_path / "two") == _files(tmp_path / "after")


def test_a_scaled_decision_its_worker_made_nothing_of_leaves_every_output_to_after(policy, tmp_path: Path, monkeypatch) -> None:
    # made scaled as foreseen, a decision whose outputs its worker could not make (here: every third claim's)
    # cannot be made by the merge (it has no ledger to scale it by): the merge stops writing what the workers
    # made, and every output is made after deciding: the same files
    import engine.records.batch as batch_mod

    chosen, inp, url, after = _budget_round(tmp_path, "10万", 4, 120)
    real = batch_mod._Outputs.made

    def made(self, chunk, unplaced=False):  # type: ignore[no-untyped-def]
        if unplaced and int(json.loads(chunk[0][0])["claim_id"][-1]) % 3 == 0:
            raise RuntimeError("cannot")
        return real(self, chunk, unplaced)

    monkeypatch.setattr(batch_mod._Outputs, "made", made)
    final, placed = _spy_final_pass(monkeypatch), _spy_placed(monkeypatch)
    two = run_batch(chosen, inp, tmp_path / "two", quiet=True, ledger_url=url, workers=2)
    assert placed and placed[-1] is False and all(placed[:-1]) and len(placed) < two.decided and final == [1]
    assert two.scaling == after.scaling and two.approved_total == after.approved_total == Decimal("300000.00")
    assert _files(tmp_path / "two") == _files(tmp_path / "after")


def test_a_round_larger_than_the_foresight_takes_is_scaled_after_deciding_on_workers(policy, tmp_path: Path, monkeypatch) -> None:
    # the foresight keeps its ledger in memory, so a round of more than `FORESEE_LIMIT` applications is not
    # foreseen (as on one worker): the merge stops writing what the workers made once the round is certain to be
    # scaled (`ScalingAhead`), and every output is made after deciding
    import engine.records.workers as workers_mod

    chosen, inp, url, after = _budget_round(tmp_path, "10万")
    monkeypatch.setattr(workers_mod, "FORESEE_LIMIT", 10)  # (the round: 16 applications)
    final, placed = _spy_final_pass(monkeypatch), _spy_placed(monkeypatch)
    made = _spy_made_on_workers(monkeypatch, tmp_path / "made-on-workers")
    said: list[str] = []
    two = run_batch(
        chosen, inp, tmp_path / "two", quiet=True, ledger_url=url, workers=2, on_step=lambda text, _done, _total: said.append(text)
    )
    assert two.scaling and 0 < len(placed) < two.decided and final == [1]
    # (each worker stops making them once its own grants pass the budget: part of the merge's total, so the merge
    # has stopped by then, and everything it wrote was made)
    assert all(placed) and len(placed) <= made() < two.decided
    assert not any("foresee" in text for text in said)
    assert two.scaling == after.scaling and two.approved_total == after.approved_total == Decimal("300000.00")
    assert _files(tmp_path / "two") == _files(tmp_path / "after")


def test_a_merge_that_wrongly_foresees_scaling_still_writes_every_output(policy, tmp_path: Path, monkeypatch) -> None:
    # `ScalingAhead` is only a shortcut: were it to say "certain" of a round that is then not scaled (a budget of
    # 1 billion against ~10 million approved), the merge stops writing what the workers made, and every output is
    # made after deciding instead: the files are still those of one worker writing them all after deciding
    import engine.records.batch as batch_mod

    chosen, inp, url, after = _budget_round(tmp_path, "1000000000")
    monkeypatch.setattr(batch_mod.ScalingAhead, "certain", lambda self, rnd, amount: True)
    final, placed = _spy_final_pass(monkeypatch), _spy_placed(monkeypatch)
    two = run_batch(chosen, inp, tmp_path / "two", quiet=True, ledger_url=url, workers=2)
    assert not two.scaling and not after.scaling and placed == [] and final == [1]
    assert two.report == after.report == "written" and two.approved_total == after.approved_total
    assert _files(tmp_path / "two") == _files(tmp_path / "after")


def test_scaling_is_foreseen_only_past_the_largest_budget_of_any_version() -> None:
    # versions with budgets of 10万 and 20万: which one governs the round is known only at the end (its latest
    # year's), so a round is certain to be scaled only past 200,000 (not at it: a total equal to the budget is not
    # scaled), each round counted apart; a version without a budget: never certain
    from types import SimpleNamespace

    from engine.records.batch import ScalingAhead

    def versions(*budgets: str | None) -> object:
        return SimpleNamespace(versions=[SimpleNamespace(round_budget=None if b is None else Decimal(b)) for b in budgets])

    ahead = ScalingAhead(versions("100000", "200000"))  # type: ignore[arg-type]
    assert not ahead.certain("r/2022", Decimal("150000.00"))
    assert not ahead.certain("r/2023", Decimal("150000.00"))  # (another round: its own total)
    assert not ahead.certain("r/2022", Decimal("50000.00"))  # 200,000.00: equal, not over
    assert ahead.certain("r/2022", Decimal("0.01"))  # 200,000.01
    assert ahead.certain("r/2023", Decimal("50000.01"))
    never = ScalingAhead(versions("100000", None))  # type: ignore[arg-type]
    assert not never.certain("r/2022", Decimal("1000000000"))


def test_a_round_on_workers_without_outputs_while_deciding_makes_them_after_on_the_processes(policy, tmp_path: Path, monkeypatch) -> None:
    # `outputs_while_deciding=False`: the workers only decide; the outputs are made on the pool after deciding
    inp = _generated_round(tmp_path / "in.jsonl", 8, 150)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    one = run_batch(policy, inp, tmp_path / "one", quiet=True, ledger_url=url)
    started, placed = _pool(monkeypatch, 2), _spy_placed(monkeypatch)
    two = run_batch(policy, inp, tmp_path / "two", quiet=True, ledger_url=url, workers=2, outputs_while_deciding=False)
    assert len(started) == 1 and started[0] is not None and placed == []
    assert two.warnings == one.warnings
    assert _files(tmp_path / "two") == _files(tmp_path / "one")


def test_a_line_its_worker_cannot_make_is_made_by_the_run(policy, tmp_path: Path, monkeypatch) -> None:
    # a worker whose outputs fail for one decision (here: every third claim's) leaves them to the merge, which
    # makes them in their place: the same files
    import engine.records.batch as batch_mod

    inp = _generated_round(tmp_path / "in.jsonl", 4, 120)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    run_batch(policy, inp, tmp_path / "one", quiet=True, ledger_url=url)
    real = batch_mod._Outputs.made

    def made(self, chunk, unplaced=False):  # type: ignore[no-untyped-def]
        if unplaced and int(json.loads(chunk[0][0])["claim_id"][-1]) % 3 == 0:
            raise RuntimeError("cannot")
        return real(self, chunk, unplaced)

    monkeypatch.setattr(batch_mod._Outputs, "made", made)  # (the workers are forked after it)
    placed = _spy_placed(monkeypatch)
    two = run_batch(policy, inp, tmp_path / "two", quiet=True, ledger_url=url, workers=2)
    assert False in placed and True in placed and len(placed) == two.decided
    assert _files(tmp_path / "two") == _files(tmp_path / "one")


def test_a_committed_round_on_workers_makes_the_same_outputs(policy, tmp_path: Path, monkeypatch) -> None:
    # committing: each decision's commit number is known only at the merge; the rows and explanations the workers
    # made without it are the ones one worker makes with it
    inp = _generated_round(tmp_path / "in.jsonl", 6, 120)
    one = run_batch(policy, inp, tmp_path / "one", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'a.sqlite'}", commit=True)
    placed = _spy_placed(monkeypatch)
    two = run_batch(policy, inp, tmp_path / "two", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'b.sqlite'}", commit=True, workers=2)
    assert two.committed == one.committed == one.decided > 0 and len(placed) == one.decided and all(placed)
    a, b = _files(tmp_path / "one"), _files(tmp_path / "two")
    assert a.pop("summary.json") != "" and b.pop("summary.json") != ""  # (each names its own ledger)
    assert a == b


def test_the_steps_on_workers_start_with_the_merge(policy, tmp_path: Path) -> None:
    # the example round on 2 workers: after the bar, the merge is said, then the workbook's last sheets and the report
    err = Tty()
    _run(policy, tmp_path, err, workers=2)
    after_bar = err.getvalue()[err.getvalue().rindex("\r") + 1 :]
    assert [line.split(" ...")[0] for line in after_bar.splitlines()] == [
        "writing the 7 applications the workers decided, in input order (with their rows and explanations, when the workers made them)",
        "writing summary.xlsx: the budget and errors sheets, saving the workbook",
        "drawing report.html (7 applications)",
    ]


def test_output_processes_is_an_option_of_batch(policy, tmp_path: Path, monkeypatch, capsys) -> None:
    # `batch --output-processes N` reaches run_batch (0: the run alone; not given: None, one per core); out of range
    # (-1, or more than --workers allows) is a usage error (exit 2), said in the reader's language
    import engine.cli.batch as cli_batch
    from engine.cli import main
    from engine.records.workers import MAX_WORKERS

    seen: list[object] = []
    real = cli_batch.run_batch

    def spied(*a, **k):  # type: ignore[no-untyped-def]
        seen.append(k.get("output_processes"))
        return real(*a, **k)

    monkeypatch.setattr(cli_batch, "run_batch", spied)
    policy_file = str(ROOT / "policies" / "pinggu_2020.yaml")
    common = ["batch", "--policy", policy_file, str(EXAMPLE), "--ledger", f"sqlite:///{tmp_path / 'none.sqlite'}", "-q"]
    # the example round: 7 applications, 1 not decided (exit 3, some failed)
    assert main([*common, "--out", str(tmp_path / "a"), "--output-processes", "0"]) == 3
    assert main([*common, "--out", str(tmp_path / "b")]) == 3
    assert seen == [0, None]
    capsys.readouterr()
    assert main([*common, "--out", str(tmp_path / "c"), "--output-processes", "-1", "--lang", "en"]) == 2
    assert f"--output-processes must be between 0 and {MAX_WORKERS}" in capsys.readouterr().err
    assert main([*common, "--out", str(tmp_path / "c"), "--output-processes", str(MAX_WORKERS + 1), "--lang", "zh"]) == 2
    assert f"--output-processes 须在 0 到 {MAX_WORKERS} 之间" in capsys.readouterr().err
    assert seen == [0, None]


def test_the_outputs_process_reads_a_line_whose_character_is_half_written(tmp_path: Path) -> None:
    # the run's buffer is flushed at any byte: the decisions' file can end inside a character (the first byte of
    # 审 of three), and the outputs' process, caught up, reads to that end before the rest is written. It must wait
    # for the line, not take the end for a truncated character (a text reader does: UnicodeDecodeError, and the run
    # then wrote every output again after deciding)
    from engine.records.batch import BatchSummary, _growing

    line = json.dumps({"claim_id": "A-1", "says": "审核"}, ensure_ascii=False) + "\n"
    data = line.encode("utf-8")
    cut = data.index("审".encode()) + 1
    path = tmp_path / "decisions.partial.jsonl"
    path.write_bytes(data[:cut])

    class Run:  # the run's side of the pipe: writes the rest of the line while the process waits, then says it ended
        polls = 0

        def poll(self, timeout: float) -> bool:
            self.polls += 1
            if self.polls == 1:
                with open(path, "ab") as f:
                    f.write(data[cut:])
                return False
            return True

        def recv(self) -> tuple[int, int, int]:
            return (1, 1, 0)

    summary = BatchSummary()
    ended: list[bool] = []
    assert list(_growing(path, Run(), summary, ended)) == [(data, 0)] and ended == [True]
    assert (summary.applications, summary.decided, summary.failed) == (1, 1, 0)


def test_an_explanation_failing_with_an_exception_that_cannot_be_pickled_on_a_worker_fails_the_report_in_its_words(
    policy, tmp_path: Path, monkeypatch
) -> None:
    # a worker's explanation that fails with an exception pickle cannot carry (it holds a lambda) still reaches the
    # run: as its words, and the report fails with them, as when the run draws it; every other output is written
    from engine.explaining import render

    class Odd(Exception):
        def __init__(self, text: str) -> None:
            super().__init__(text)
            self.hook = lambda: None  # (not picklable)

    real = render.ReportPage.draw

    def draw(self, entry, anchor):  # type: ignore[no-untyped-def]
        if str(entry.get("claim_id", "")).endswith("5"):
            raise Odd("cannot draw this one")
        return real(self, entry, anchor)

    monkeypatch.setattr(render.ReportPage, "draw", draw)  # (the workers are forked after it)
    inp = _generated_round(tmp_path / "in.jsonl", 4, 120)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    one = run_batch(policy, inp, tmp_path / "one", quiet=True, ledger_url=url)
    two = run_batch(policy, inp, tmp_path / "two", quiet=True, ledger_url=url, workers=2)
    assert one.report.startswith("failed") and "cannot draw this one" in one.report
    assert two.report == "failed: RuntimeError: Odd: cannot draw this one"
    assert two.decided == one.decided and not (tmp_path / "two" / "report.html").exists()
    for name in ("decisions.jsonl", "summary_items.csv", "summary_applications.csv"):
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()


def test_a_decision_line_is_read_and_written_by_msgspec_exactly_as_by_json() -> None:
    # `_decoded` / `_line_text` (a scaled line, read and written again): the tree json.loads makes and the text
    # json.dumps writes, for every character (in values and keys) and integers of any size; a float, NaN or a
    # lone surrogate leaves the line to json (msgspec writes 1e16 where json.dumps writes 1e+16)
    from engine.records.batch import _decoded, _line_text

    def both(tree: object) -> None:
        text = json.dumps(tree, ensure_ascii=False)
        got, by_msgspec = _decoded(text)
        assert by_msgspec and got == tree and type(got) is type(tree)
        assert _line_text(got, True) == text + "\n"

    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    for at in range(0, len(chars), 8192):  # every character but a surrogate, in a value and as a key
        chunk = "".join(chars[at : at + 8192])
        both({"says": chunk, chunk[:64]: [chunk[64:128], {}], "n": at})
    both({"big": 2**70, "small": -(2**64) - 1, "zero": 0, "flags": [True, False, None], "e": [], "o": {}, "t": "é\u2028"})
    both({"a": {"b": [{"c": '\x00\x1f\x7f"\\/'}]}, "": ""})
    for text in ('{"amount": 1e16}', '{"x": 0.5}', '{"x": NaN}', '{"x": "\\ud800"}', '{"x": 1E400}', '{"x": "a\ud800"}'):
        tree, by_msgspec = _decoded(text)
        assert not by_msgspec and repr(tree) == repr(json.loads(text))
        assert _line_text(tree, by_msgspec) == json.dumps(tree, ensure_ascii=False) + "\n"
    assert _line_text({"x": "\ud800"}, True) == '{"x": "\ud800"}\n'  # (msgspec refuses it: json.dumps writes it)


def test_a_scaled_rounds_lines_are_the_text_json_dumps_writes(tmp_path: Path) -> None:
    # every line of a scaled round's decisions.jsonl written by msgspec is json.dumps' text of its own tree
    from test_ledger_support import policy_with_budget

    from engine.records.batch import _decoded

    budgeted = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 2, 300)
    s = run_batch(budgeted, inp, tmp_path / "o", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'none.sqlite'}")
    lines = (tmp_path / "o" / "decisions.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    assert s.scaling and len(lines) == s.decided > 10
    assert sum("scaling" in json.loads(line) for line in lines) > 10
    for line in lines:
        assert _decoded(line)[1]  # (no float: written by msgspec)
        assert line == json.dumps(json.loads(line), ensure_ascii=False) + "\n"


def test_summary_xlsx_says_a_reduced_items_cap_and_missing_facts_by_their_headings(policy, tmp_path: Path) -> None:
    # a red team's Chinese run: a reduced item's 主要理由 was empty (the 30万 cap that halved it unsaid) and 缺少的信息
    # showed codes (applicant.household_registered_in_district) where 缺少的材料 showed the documents' names
    from conftest import claim, item

    from engine.core.i18n import use_language

    pledges = claim(
        item("pledge_loan_interest", "l1", loan_id="A", annual_interest_paid="500000.00"),
        item("pledge_loan_interest", "l2", loan_id="B", annual_interest_paid="200000.00"),
        claim_id="R-1",
    )  # 250,000 + 100,000 asked; the 300,000 yearly cap leaves l2 50,000 (R11)
    person = claim(item("invention_patent_grant", "p1"), applicant="natural_person", household_registered_in_district=..., claim_id="R-2")
    src = tmp_path / "round.jsonl"
    src.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in (pledges, person)), encoding="utf-8")
    with use_language("zh"):
        run_batch(policy, src, tmp_path / "out", quiet=True, report=False)
    ws = openpyxl.load_workbook(tmp_path / "out" / "summary.xlsx").worksheets[1]
    rows = list(ws.iter_rows(values_only=True))
    head = rows[0]
    by_item = {(r[0], r[head.index("事项编号")]): dict(zip(head, r, strict=True)) for r in rows[1:]}
    l2 = by_item[("R-1", "l2")]
    assert (l2["结论"], l2["核定金额"], l2["主要理由"]) == ("核减", 50000, "每家企业每年享受贴息补助最高不超过30万元")
    p1 = by_item[("R-2", "p1")]
    assert p1["结论"] == "材料不全" and p1["缺少的信息"] == "户籍是否在平谷区（自然人）"  # (the policy's label of the fact)


def test_summary_xlsx_says_a_scaled_items_budget_reason_and_the_ledger_in_words_in_both_languages(tmp_path: Path) -> None:
    """A round over its 40万 budget (reviewer finding C4): C-1's pledge loan, 700,000 of interest × 50% = 350,000,
    cut by the 30万 yearly cap to 300,000 (核减); C-2's China Patent Award gold, 500,000 (R14). Approved 800,000, so
    every grant × 400,000 / 800,000 = 1/2: 150,000 and 250,000, no remainder. The scaled-only item's 主要理由 was
    empty: it is the scaling's sentence, with 调减 (the budget's word), not 核减 (a cap's); the reduced item keeps
    its cap's words. The amounts before scaling are under 预算调减前…; the English ledger column is words."""
    from conftest import claim, item
    from test_ledger_support import policy_with_budget

    from engine.core.i18n import use_language

    budgeted = policy_with_budget(tmp_path, "40万", "第十三条")
    src = tmp_path / "round.jsonl"
    claims = (
        claim(item("pledge_loan_interest", "l1", annual_interest_paid="700000.00"), claim_id="C-1"),
        claim(item("china_patent_award", "a1"), claim_id="C-2"),
    )
    src.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in claims), encoding="utf-8")
    scaled_zh = "本轮核定支持总额超出资金预算，各项支持按预算与核定总额之比同比例调减"
    scaled_en = "the round's approved total exceeds its budget; every grant is scaled by budget / approved total"
    cap = "每家企业每年享受贴息补助最高不超过30万元"
    for lang, words in (
        (
            "zh",
            (
                "事项编号",
                "结论",
                "核定金额",
                "预算调减前金额",
                "主要理由",
                "主要理由（英文）",
                "预算调减前合计",
                "台账",
                "核减",
                "支持",
                "未记入台账",
            ),
        ),
        (
            "en",
            (
                "Item",
                "Status",
                "Amount",
                "Before scaling",
                "Main reason (Chinese)",
                "Main reason (English)",
                "Total before scaling",
                "Ledger",
                "reduced",
                "granted",
                "not committed",
            ),
        ),
    ):
        item_h, status_h, amount_h, before_h, zh_h, en_h, total_before_h, ledger_h, reduced, granted, not_committed = words
        with use_language(lang):
            run_batch(budgeted, src, tmp_path / lang, quiet=True, report=False, ledger_url=f"sqlite:///{tmp_path / 'none.sqlite'}")
        book = openpyxl.load_workbook(tmp_path / lang / "summary.xlsx")
        apps, items = (list(ws.iter_rows(values_only=True)) for ws in book.worksheets[:2])
        rows = {r[items[0].index(item_h)]: dict(zip(items[0], r, strict=True)) for r in items[1:]}
        got = {k: (r[status_h], r[amount_h], r[before_h], r[zh_h], r[en_h]) for k, r in rows.items()}
        assert got == {
            "l1": (reduced, 150000, 300000, cap, "at most CNY 300,000 of interest subsidy per enterprise per year"),
            "a1": (granted, 250000, 500000, scaled_zh, scaled_en),
        }, lang
        app_rows = [dict(zip(apps[0], r, strict=True)) for r in apps[1:]]
        assert [(r[total_before_h], r[ledger_h]) for r in app_rows] == [(300000, not_committed), (500000, not_committed)], lang
    csv_rows = list(csv.DictReader((tmp_path / "en" / "summary_items.csv").open(encoding="utf-8-sig")))
    assert [r["main_reason_zh"] for r in csv_rows] == [cap, scaled_zh]  # the CSV's rows are the workbook's


def test_an_output_file_that_cannot_be_written_stops_the_run_before_it_decides_or_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """(The officer red team, session 23.) Last round's summary.xlsx still open in Excel: Windows refuses to open it for
    writing, and `batch --commit` ended in a PermissionError traceback after committing the round's 6 grants, its
    summary.xlsx and report.html missing. A folder where a file goes did the same. Now both are said first (exit 2),
    with what to do, and nothing is decided or committed; `match` the same."""
    from engine.cli import main
    from engine.records import tabular

    root = Path(__file__).resolve().parent.parent
    policy, round_xlsx = str(root / "policies" / "pinggu_2020.yaml"), str(root / "examples" / "round_2021.xlsx")
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    out = tmp_path / "out"
    (out / "summary.xlsx").mkdir(parents=True)
    args = ["--lang", "zh", "batch", "--policy", policy, round_xlsx, "--out", str(out), "--ledger", url, "--commit", "-q"]
    assert main(args) == 2
    assert capsys.readouterr().err == f"错误：{out / 'summary.xlsx'}：这是一个文件夹；请给出文件名\n"
    (out / "summary.xlsx").rmdir()
    (out / "summary.xlsx").write_bytes(b"last round's workbook")
    real_open = open

    def held_by_excel(file, mode="r", *a, **k):  # (what Windows answers for a workbook Excel has open)
        if Path(file).name == "summary.xlsx" and mode != "rb":
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, mode, *a, **k)

    monkeypatch.setattr(tabular, "open", held_by_excel, raising=False)
    assert main(args) == 2
    assert capsys.readouterr().err == (
        f"错误：{out / 'summary.xlsx'}：无法写入（没有权限（请换一个有读写权限的位置，或请管理员开通权限））；如果它正在 Excel 或 WPS "
        "中打开，请先关闭，再重新运行\n"
    )
    assert (out / "summary.xlsx").read_bytes() == b"last round's workbook"
    assert not (out / "decisions.jsonl").exists()
    with Ledger(url) as ledger:
        assert list(ledger.grants()) == []  # nothing committed
    match = ["--lang", "en", "match", "--policy", policy, str(root / "examples" / "profile_match_2021.json"), "--out", str(out)]
    assert main(match) == 2
    assert "summary.xlsx: cannot be written (" in capsys.readouterr().err
