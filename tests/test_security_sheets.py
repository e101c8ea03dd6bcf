"""Issue 11, points 6 and 7: spreadsheets are bounded, identifiers plausible, outputs never a traceback.

Hostile workbooks are built here with zipfile from examples/round_2021.xlsx (two sheets, `申请人` (the
applicants) as xl/worksheets/sheet1.xml and `事项` (the items) as sheet2.xml), so no spreadsheet program is needed
to make a bomb.
Every expected message is written out by hand from the limits in engine.records.tabular and the standards'
tables in engine.core.identifiers.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import ROOT, claim, item, no_hang

import engine
from engine.cli import main
from engine.core.i18n import tr
from engine.core.identifiers import (
    org_code_check_char,
    resident_id_check_char,
    resident_id_problem,
    uscc_check_char,
    uscc_problem,
)
from engine.records.batch import run_batch
from engine.records.tabular import InputError, safe_cell, storable

POLICY = str(ROOT / "policies" / "pinggu_2020.yaml")
EXAMPLE_XLSX = ROOT / "examples" / "round_2021.xlsx"
APPLICANTS_XML = "xl/worksheets/sheet1.xml"
ITEMS_XML = "xl/worksheets/sheet2.xml"
MB = 1024 * 1024


def _ledger(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}"


def _rezip(dst: Path, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None, stored: bool = False) -> Path:
    """examples/round_2021.xlsx with some parts replaced or added (deflated at level 9, or stored)."""
    replace = replace or {}
    with zipfile.ZipFile(EXAMPLE_XLSX) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
        for name, data in (add or {}).items():
            zout.writestr(name, data, compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    return dst


def _sheet(name: str) -> bytes:
    with zipfile.ZipFile(EXAMPLE_XLSX) as z:
        return z.read(name)


def _no_workbook_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    """openpyxl must not be asked to open the workbook at all (the limits hold before anything is expanded)."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("load_workbook was called: the workbook was expanded")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


# --- XLSX: refused by the zip directory, before expansion ------------------------------------------------


def test_a_part_expanding_past_50_mb_is_refused_before_the_workbook_is_opened(tmp_path, policy, monkeypatch):
    # 60 MiB of spaces inside the items sheet compress to about 60 kB: the 313 kB -> 644 MB kind of bomb
    xml = _sheet(ITEMS_XML).replace(b"</worksheet>", b" " * (60 * MB) + b"</worksheet>")
    bomb = _rezip(tmp_path / "bomb.xlsx", replace={ITEMS_XML: xml})
    assert bomb.stat().st_size < 200_000
    _no_workbook_opened(monkeypatch)
    size = len(xml)
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(bomb, policy)
    assert str(caught.value) == (
        f"{bomb}: part xl/worksheets/sheet2.xml expands to {size:,} bytes, more than the limit of 52,428,800; not read"
    )


def test_a_part_compressed_more_than_100_to_1_is_refused(tmp_path, policy, monkeypatch):
    # 2 MiB of spaces: under the 50 MB limit, but a thousand times smaller compressed (real sheets: 5-10:1)
    xml = _sheet(APPLICANTS_XML).replace(b"</worksheet>", b" " * (2 * MB) + b"</worksheet>")
    bomb = _rezip(tmp_path / "ratio.xlsx", replace={APPLICANTS_XML: xml})
    with zipfile.ZipFile(bomb) as z:
        info = z.getinfo(APPLICANTS_XML)
    assert info.file_size > 100 * info.compress_size
    _no_workbook_opened(monkeypatch)
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(bomb, policy)
    assert str(caught.value) == (
        f"{bomb}: part xl/worksheets/sheet1.xml expands {info.file_size // info.compress_size:,} times "
        f"({info.compress_size:,} to {info.file_size:,} bytes), more than the limit of 100:1; not read"
    )


def test_many_parts_each_under_1_mb_compressed_more_than_100_to_1_together_are_refused(tmp_path, policy, monkeypatch):
    junk = {f"customXml/item{i}.xml": b"<a>" + b" " * (MB - 100) + b"</a>" for i in range(20)}
    bomb = _rezip(tmp_path / "parts.xlsx", add=junk)
    with zipfile.ZipFile(bomb) as z:
        total = sum(i.file_size for i in z.infolist())
        packed = sum(i.compress_size for i in z.infolist())
    assert all(len(v) < MB for v in junk.values()) and total > 100 * packed
    _no_workbook_opened(monkeypatch)
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(bomb, policy)
    assert str(caught.value) == (
        f"{bomb}: the workbook expands {total // packed:,} times ({packed:,} to {total:,} bytes), more than the limit of 100:1; not read"
    )


def test_parts_together_past_50_mb_are_refused(tmp_path, policy, monkeypatch):
    # six stored (uncompressed) parts of 9 MiB: each under every per-part limit, 54 MiB together
    junk = {f"xl/media/image{i}.bin": bytes(range(256)) * (9 * MB // 256) for i in range(6)}
    bomb = _rezip(tmp_path / "many.xlsx", add=junk, stored=True)
    with zipfile.ZipFile(bomb) as z:
        total = sum(i.file_size for i in z.infolist())
    assert total > 54 * MB
    _no_workbook_opened(monkeypatch)
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(bomb, policy)
    assert str(caught.value) == f"{bomb}: the workbook expands to {total:,} bytes, more than the limit of 52,428,800; not read"


def test_a_workbook_of_more_than_1000_parts_is_refused(tmp_path, policy, monkeypatch):
    bomb = _rezip(tmp_path / "parts.xlsx", add={f"customXml/item{i}.xml": b"<a/>" for i in range(1000)})
    _no_workbook_opened(monkeypatch)
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(bomb, policy)
    assert str(caught.value) == f"{bomb}: 1,013 parts in the workbook, more than the limit of 1,000; not read"  # 13 + 1000


def _declare(name: str, content_type: str) -> bytes:
    with zipfile.ZipFile(EXAMPLE_XLSX) as z:
        types = z.read("[Content_Types].xml")
    return types.replace(b"</Types>", f'<Override PartName="/{name}" ContentType="{content_type}"/></Types>'.encode())


SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


@pytest.mark.parametrize("name", ["xl/sharedStrings.xml", "xl/worksheets/strings.xml"])
def test_parts_read_whole_are_held_to_10_mb_wherever_they_are_put(tmp_path, policy, monkeypatch, name):
    """openpyxl holds the shared strings (found by their declared type) whole: under xl/worksheets/ too."""
    import random

    blob = random.Random(11).randbytes(11 * MB)  # incompressible: no ratio limit is met
    bomb = _rezip(
        tmp_path / "held.xlsx", replace={"[Content_Types].xml": _declare(name, SHARED_STRINGS_TYPE)}, add={name: blob}, stored=True
    )
    with zipfile.ZipFile(bomb) as z:
        held = sum(i.file_size for i in z.infolist() if not i.filename.startswith("xl/worksheets/sheet"))
    assert held > 11 * MB
    _no_workbook_opened(monkeypatch)
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(bomb, policy)
    assert str(caught.value) == (
        f"{bomb}: the parts read whole (all but the worksheets: shared strings, styles, ...) expand to {held:,} bytes, "
        "more than the limit of 10,485,760; not read"
    )


def test_a_worksheet_may_be_larger_than_the_parts_read_whole(tmp_path):
    import random

    name = "xl/worksheets/sheet9.xml"
    blob = random.Random(12).randbytes(11 * MB)
    big = _rezip(tmp_path / "big.xlsx", replace={"[Content_Types].xml": _declare(name, WORKSHEET_TYPE)}, add={name: blob}, stored=True)
    engine.records.tabular.check_workbook_size(big)  # streamed by openpyxl: only the 50 MB total holds it


#: a billion laughs: ten entities, each ten of the one before, the last 10^9 times "lol" (3 GB)
LAUGHS = b'<!DOCTYPE x [<!ENTITY a0 "lol">' + b"".join(b'<!ENTITY a%d "%s">' % (i, (b"&a%d;" % (i - 1)) * 10) for i in range(1, 10)) + b"]>"


def _with_dtd(xml: bytes, dtd: bytes, entity: bytes) -> bytes:
    """`xml` with `dtd` after its XML declaration (if any) and `entity` referred to in the first text or attribute value."""
    head = xml.index(b"?>") + 2 if xml.startswith(b"<?xml") else 0
    xml = xml[:head] + dtd + xml[head:]
    text = xml.find(b"<t>")
    if text >= 0:
        return xml[: text + 3] + entity + xml[text + 3 :]
    value = xml.index(b'="', xml.index(b"<", head + len(dtd) + 1)) + 2  # the root's first attribute value
    return xml[:value] + entity + xml[value:]


@pytest.mark.parametrize(
    "name",
    [
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        "docProps/core.xml",
        APPLICANTS_XML,
        ITEMS_XML,
        "xl/sharedStrings.xml",
    ],
)
def test_a_dtd_in_any_part_is_refused_before_the_workbook_is_opened(tmp_path, policy, monkeypatch, name):
    """A billion laughs in any part openpyxl parses: refused from the part's prolog, nothing expanded. (openpyxl,
    without defusedxml, parses with ElementTree: expat would stop this one at its 100:1 amplification limit, in the
    sheets as "content damaged"; the next test is one it lets through.)"""
    if name == "xl/sharedStrings.xml":
        strings = b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>x</t></si></sst>'
        bomb = _rezip(
            tmp_path / "laughs.xlsx",
            replace={"[Content_Types].xml": _declare(name, SHARED_STRINGS_TYPE)},
            add={name: _with_dtd(strings, LAUGHS, b"&a9;")},
        )
    else:
        bomb = _rezip(tmp_path / "laughs.xlsx", replace={name: _with_dtd(_sheet(name), LAUGHS, b"&a9;")})
    _no_workbook_opened(monkeypatch)
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(bomb, policy)
    assert str(caught.value) == (
        f"{bomb}: part {name} declares a DTD (<!DOCTYPE …>), which no workbook Excel or WPS saves has, and through whose "
        "entities its text could expand without bound; not read: ask for the workbook as Excel or WPS saves it "
        "(opened there and saved again as .xlsx)"
    )
    with engine.use_language("zh"):
        assert str(caught.value) == (
            f"{bomb}：部件 {name} 含有文档类型声明（<!DOCTYPE …>）：Excel 或 WPS 保存的工作簿都没有它，而其中声明的实体"
            "可使文本无限膨胀；未读取：请索取由 Excel 或 WPS 保存的工作簿（在其中打开后另存为 .xlsx）"
        )


def test_entities_below_expats_own_limit_are_refused_too(tmp_path, policy, monkeypatch):
    """One entity of 5,000 characters referred to 33,288 times, each reference among 60 digits of text: the text
    expands 80:1 (5,063 characters for 63 written), under expat's 100:1 amplification limit, so expat would build all
    166,440,000 characters. (A 10 MB sheet of it, a 442 kB workbook, took 2.5 GB and ended in a MemoryError.) Every
    zip limit passes it; the DTD refuses it."""
    dtd = b'<!DOCTYPE worksheet [<!ENTITY e "' + b"x" * 5000 + b'">]>'
    body = b"".join(b"&e;%060d" % k for k in range(33_288))
    xml = _with_dtd(_sheet(ITEMS_XML), dtd, body)
    bomb = _rezip(tmp_path / "quadratic.xlsx", replace={ITEMS_XML: xml})
    with zipfile.ZipFile(bomb) as z:
        info = z.getinfo(ITEMS_XML)
    assert info.file_size < 100 * info.compress_size and info.file_size < 50 * MB  # (no zip limit is met)
    assert (len(body) // 63, len(body) // 63 * 5000) == (33_288, 166_440_000)
    _no_workbook_opened(monkeypatch)
    with pytest.raises(InputError, match=re.escape(f"{bomb}: part {ITEMS_XML} declares a DTD")):
        engine.records.tabular.open_input(bomb, policy)


def test_a_dtd_in_a_part_written_in_utf_16_is_found(tmp_path, policy, monkeypatch):
    # (a search for the bytes "<!DOCTYPE" misses it: each character is two bytes)
    xml = _sheet("xl/workbook.xml").decode("utf-8")
    xml = xml[xml.index("?>") + 2 :] if xml.startswith("<?xml") else xml
    text = ('<?xml version="1.0" encoding="UTF-16"?>' + LAUGHS.decode() + xml).encode("utf-16")
    assert b"<!DOCTYPE" not in text
    bomb = _rezip(tmp_path / "utf16.xlsx", replace={"xl/workbook.xml": text})
    _no_workbook_opened(monkeypatch)
    with pytest.raises(InputError, match=re.escape(f"{bomb}: part xl/workbook.xml declares a DTD")):
        engine.records.tabular.open_input(bomb, policy)


def test_a_zip_directory_past_its_limits_is_refused_before_zipfile_reads_it(tmp_path, policy, monkeypatch):
    """XLSX_MAX_PARTS and XLSX_MAX_DIRECTORY (SECURITY.md), read from the zip's end record: zipfile reads the whole
    directory into an object per member first (2,000,000 members: 12.7 s and 1.1 GB)."""
    many = _rezip(tmp_path / "many.xlsx", add={f"{i:x}": b"" for i in range(5000)}, stored=True)
    # 900 members named by 1,200 characters: under the count, a directory of more than a megabyte
    long = _rezip(tmp_path / "long.xlsx", add={f"{i:03d}" + "x" * 1197: b"" for i in range(900)}, stored=True)
    with zipfile.ZipFile(long) as z:
        directory = sum(46 + len(i.filename) + len(i.extra) + len(i.comment) for i in z.infolist())
    assert directory > MB

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("zipfile.ZipFile was called: the directory was read")

    monkeypatch.setattr(zipfile, "ZipFile", refuse)
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(many, policy)
    assert str(caught.value) == f"{many}: 5,013 parts in the workbook, more than the limit of 1,000; not read"
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(long, policy)
    assert str(caught.value) == (
        f"{long}: the list of the workbook's parts (its zip directory) is {directory:,} bytes, more than the limit of "
        "1,048,576; not read (a workbook Excel or WPS saves lists its parts in a few kB: ask for the workbook as Excel "
        "or WPS saves it)"
    )


def test_a_zip_whose_parts_are_locked_with_a_zip_password_says_so(tmp_path, policy):
    """A workbook put in a zip tool with a password (its members' "encrypted" flag set): zipfile raised RuntimeError
    ("password required for extraction") out of the reader, a traceback."""
    data = bytearray(EXAMPLE_XLSX.read_bytes())
    for signature, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # every local header and directory entry
        at = data.find(signature)
        while at >= 0:
            data[at + flags] |= 1
            at = data.find(signature, at + 4)
    locked = tmp_path / "locked.xlsx"
    locked.write_bytes(bytes(data))
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(locked, policy)
    assert str(caught.value) == (
        f"{locked}: not a readable .xlsx workbook (its part docProps/app.xml is encrypted with a zip password, which Excel "
        "and WPS never set (a zip tool's lock, not a workbook's opening password): unpack it with that password, or ask "
        "for the workbook as Excel or WPS saves it)"
    )
    with engine.use_language("zh"):
        assert str(caught.value) == (
            f"{locked}：不是可读取的 .xlsx 工作簿（其中的部件 docProps/app.xml 设有 zip 压缩密码（这是压缩软件加的密码，"
            "不是工作簿的打开密码，Excel 和 WPS 从不设置）：请用该密码解压，或索取由 Excel 或 WPS 保存的工作簿）；"
            "请用 Excel 或 WPS 另存为 .xlsx"
        )


def test_shared_strings_of_millions_of_strings_are_refused_before_they_are_read(tmp_path, policy, monkeypatch):
    """openpyxl holds every shared string as a str: 2,000,000 of them (34 MB, 16:1 compressed, so no ratio limit is
    met) pass the 50 MB limit and are refused by XLSX_MAX_HELD. (What that limit lets through: 610,634 one-letter
    strings, the most 10 MB holds, were read in 6 s and 97 MB.)"""
    import random

    letters = random.Random(14).choices(b"abcdefghijklmnopqrstuvwxyz", k=2_000_000)
    name = "xl/sharedStrings.xml"
    xml = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    xml += b"".join(b"<si><t>%c</t></si>" % c for c in letters) + b"</sst>"
    bomb = _rezip(tmp_path / "strings.xlsx", replace={"[Content_Types].xml": _declare(name, SHARED_STRINGS_TYPE)}, add={name: xml})
    with zipfile.ZipFile(bomb) as z:
        info = z.getinfo(name)
        held = sum(i.file_size for i in z.infolist() if not i.filename.startswith("xl/worksheets/sheet"))
    assert info.file_size == 71 + 2_000_000 * 17 + 6 and info.file_size < 100 * info.compress_size
    _no_workbook_opened(monkeypatch)
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(bomb, policy)
    assert str(caught.value) == (
        f"{bomb}: the parts read whole (all but the worksheets: shared strings, styles, ...) expand to {held:,} bytes, "
        "more than the limit of 10,485,760; not read"
    )


def test_a_content_types_part_over_1_mib_is_refused(tmp_path, policy, monkeypatch):
    # XLSX_MAX_CONTENT_TYPES (SECURITY.md): the part parsed to tell worksheets apart is not parsed past 1 MiB.
    # Random hex in a comment compresses about 2:1, so no ratio limit is met first.
    import random

    with zipfile.ZipFile(EXAMPLE_XLSX) as z:
        types = z.read("[Content_Types].xml")
    padding = b"<!--" + random.Random(13).randbytes(MB // 2).hex().encode() + b"-->"
    padded = types.replace(b"</Types>", padding + b"</Types>")
    assert len(padded) > MB
    bomb = _rezip(tmp_path / "types.xlsx", replace={"[Content_Types].xml": padded})
    _no_workbook_opened(monkeypatch)
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(bomb, policy)
    assert str(caught.value) == (
        f"{bomb}: part [Content_Types].xml expands to {len(padded):,} bytes, more than the limit of 1,048,576; not read"
    )


# --- XLSX: bounded while read ------------------------------------------------------------------------------


def test_a_declared_dimension_of_the_whole_sheet_is_not_trusted(tmp_path, policy, monkeypatch):
    """<dimension ref="A1:XFD1048576"/>: read_only openpyxl would pad every row to 16,384 cells and yield empty
    rows up to row 1,048,576 (a billion-cell loop). The reader ignores it and decides the rows that are there."""
    from openpyxl.worksheet import _read_only

    apps = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', _sheet(APPLICANTS_XML))
    items = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', _sheet(ITEMS_XML))
    bomb = _rezip(tmp_path / "dim.xlsx", replace={APPLICANTS_XML: apps, ITEMS_XML: items})

    real_cells = _read_only.ReadOnlyWorksheet._cells_by_row

    def bounded(self: Any, *args: Any, **kwargs: Any) -> Any:
        for n, row in enumerate(real_cells(self, *args, **kwargs)):
            assert len(row) <= 1_000, f"a row padded to {len(row):,} cells"
            assert n < 1_000, "empty rows yielded past the data"
            yield row

    monkeypatch.setattr(_read_only.ReadOnlyWorksheet, "_cells_by_row", bounded)
    got = run_batch(policy, bomb, tmp_path / "dim", quiet=True, report=False, ledger_url=_ledger(tmp_path / "a"))
    want = run_batch(policy, EXAMPLE_XLSX, tmp_path / "plain", quiet=True, report=False, ledger_url=_ledger(tmp_path / "b"))
    assert (got.applications, got.decided, got.failed) == (want.applications, want.decided, want.failed) == (7, 6, 1)
    totals = [(d["claim_id"], d["total"]) for d in _lines(tmp_path / "dim" / "decisions.jsonl")]
    assert totals == [(d["claim_id"], d["total"]) for d in _lines(tmp_path / "plain" / "decisions.jsonl")]


def test_rows_beyond_row_100000_are_refused(tmp_path, policy):
    far = b'<row r="100001"><c r="A100001" t="inlineStr"><is><t>PG-2022-0001</t></is></c></row>'
    items = _sheet(ITEMS_XML).replace(b"</sheetData>", far + b"</sheetData>")
    bomb = _rezip(tmp_path / "far.xlsx", replace={ITEMS_XML: items})
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(bomb, policy)
    assert str(caught.value) == (
        f"{bomb} sheet 事项: rows beyond row 100,000 (the limit of rows read); split the round, "
        "or delete the empty or formatted rows below the data"
    )


def test_a_cell_far_past_the_headings_is_not_padded_into_its_row(tmp_path, policy, monkeypatch):
    """2,000 rows each with a value in column XFD (16,384): openpyxl's iter_rows made each a row of 16,384 values
    (100,000 such rows, a 0.5 MB workbook, took 157 s). The rows are read from the cells they hold; the workbook is
    refused, naming the cells, and no row openpyxl pads is ever made but the heading rows'."""
    from openpyxl.worksheet import _read_only

    rows = b"".join(b'<row r="%d"><c r="XFD%d" t="inlineStr"><is><t>x</t></is></c></row>' % (r, r) for r in range(17, 2017))
    bomb = _rezip(tmp_path / "far.xlsx", replace={ITEMS_XML: _sheet(ITEMS_XML).replace(b"</sheetData>", rows + b"</sheetData>")})
    padded: list[int] = []
    real_row = _read_only.ReadOnlyWorksheet._get_row

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        row = real_row(self, *args, **kwargs)
        padded.append(len(row))
        return row

    monkeypatch.setattr(_read_only.ReadOnlyWorksheet, "_get_row", counted)
    with no_hang(60), pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(bomb, policy)
    assert str(caught.value) == (
        f"{bomb} sheet 事项: cells XFD17, XFD18, XFD19 and 1997 more hold values in a column with no heading, so they "
        "would not be read: give the column a heading the sheet knows, or clear them"
    )
    assert max(padded) <= 33 and len(padded) <= 5  # the heading rows only (the items sheet's 33 columns; 5 sheets)


def test_rows_written_out_of_order_are_refused_not_passed_over(tmp_path, policy):
    """A row numbered as or before one above it (`<row r="5">` again after row 16): openpyxl's iter_rows passed over
    it unsaid, and its item was never decided. Excel and WPS write rows in order."""
    xml = _sheet(ITEMS_XML)
    again = re.search(rb'<row r="5">.*?</row>', xml).group(0)
    early = again.replace(b'r="5"', b'r="0"').replace(b'5"', b'0"')
    bomb = _rezip(tmp_path / "order.xlsx", replace={ITEMS_XML: xml.replace(b"</sheetData>", again + again + early + b"</sheetData>")})
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(bomb, policy)
    assert str(caught.value) == (
        f"{bomb} sheet 事项: rows 5, 5, 0 come after a row of the same or a higher number in the sheet's file (a program "
        "wrote them out of order), so they would not be read: open the workbook in Excel or WPS, which puts its rows in "
        "order, and save it again"
    )


def test_a_header_row_wider_than_256_columns_is_refused(tmp_path, policy):
    # column 300 (KN) repeats a known column name, so only the width is wrong
    cell = b'<c r="KN1" t="inlineStr"><is><t>claim.funding_year</t></is></c></row>'
    apps = _sheet(APPLICANTS_XML).replace(b"</row>", cell, 1)
    bomb = _rezip(tmp_path / "wide.xlsx", replace={APPLICANTS_XML: apps})
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(bomb, policy)
    assert str(caught.value) == f"{bomb} sheet 申请人: 300 columns in the header row, more than the limit of 256"


def test_a_damaged_sheet_is_an_input_error_not_a_traceback(tmp_path, policy):
    xml = _sheet(ITEMS_XML)
    cut = xml[: xml.index(b"<row r=") + 2000]  # its dimension is read when the workbook opens; the rows break off
    bomb = _rezip(tmp_path / "cut.xlsx", replace={ITEMS_XML: cut})
    with pytest.raises(
        InputError, match=re.escape(f"{bomb} sheet 事项: not readable (its content is damaged (XML not well-formed at line 1")
    ):
        engine.records.tabular.open_input(bomb, policy)


def test_a_refused_workbook_is_exit_1_with_an_error_record_and_no_earlier_outputs(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["batch", "--policy", POLICY, str(EXAMPLE_XLSX), "--out", str(out), "-q", "--ledger", _ledger(tmp_path)]) == 3
    assert (out / "decisions.jsonl").exists() and (out / "summary.xlsx").exists()
    capsys.readouterr()
    xml = _sheet(ITEMS_XML).replace(b"</worksheet>", b" " * (60 * MB) + b"</worksheet>")
    bomb = _rezip(tmp_path / "bomb.xlsx", replace={ITEMS_XML: xml})
    assert main(["batch", "--policy", POLICY, str(bomb), "--out", str(out), "-q", "--ledger", _ledger(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert (
        err == f"error: {bomb}: part xl/worksheets/sheet2.xml expands to {len(xml):,} bytes, more than the limit of 52,428,800; not read\n"
    )
    records = _lines(out / "errors.jsonl")
    assert records == [
        {
            "application": None,
            "claim_id": None,
            "where": {"file": str(bomb)},
            "error": "cannot read the input",
            "problems": [{"file": str(bomb), "field": None, "message": err[len("error: ") : -1]}],
        }
    ]
    # the earlier run's decisions and summaries must not pass for this run's
    assert not (out / "decisions.jsonl").exists() and not (out / "summary.xlsx").exists() and not (out / "summary.json").exists()


# --- CSV -----------------------------------------------------------------------------------------------------


def _row(claim_id: str, **cells: str) -> dict[str, str]:
    base = {
        "claim_id": claim_id,
        "claim.funding_year": "2021",
        "claim.submission_date": "2022-03-15",
        "claim.documents": "business_licence",
        "applicant.id": "91110117MA01ABCD1F",
        "applicant.name": "北京平谷示例科技有限公司",
        "applicant.kind": "enterprise",
        "applicant.registered_in_district": "是",
        "applicant.actually_operating": "yes",
        "applicant.pays_tax_in_district": "true",
        "item.id": "t1",
        "item.type": "national_ip_title",
        "item.title": "advantage",
        "item.date": "2021-06-01",
        "item.documents": "proof_of_right",
        "item.supported_by_other_district_policy": "否",
    }
    base.update(cells)
    return base


def _edited_example(path: Path, cells: dict[str, Any]) -> Path:
    """The example round's workbook with `cells` ("sheet!A1": value) changed, saved at `path`."""
    wb = openpyxl.load_workbook(ROOT / "examples" / "round_2021.xlsx")
    for ref, value in cells.items():
        sheet, cell = ref.split("!")
        wb[sheet][cell] = value
    wb.save(path)
    return path


def _batch_refuses(capsys: Any, tmp_path: Path, path: Path, lang: str = "en") -> str:
    """What `batch` says of an input it refuses whole (exit 1, no decision written)."""
    capsys.readouterr()
    out = tmp_path / f"refused-{path.stem}"
    assert main(["batch", "--policy", POLICY, "-q", "--ledger", _ledger(tmp_path), "--lang", lang, str(path), "--out", str(out)]) == 1
    assert not (out / "decisions.jsonl").exists()
    return str(capsys.readouterr().err)


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _lines(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON Lines file; an error record's words in every language (`said`) left out."""
    return [_unsaid(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()]


def _unsaid(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unsaid(v) for k, v in value.items() if k != "said"}
    return [_unsaid(v) for v in value] if isinstance(value, list) else value


def test_a_csv_cell_over_the_field_limit_is_that_rows_error_record(tmp_path, policy):
    assert csv.field_size_limit() == 131_072
    path = _csv(tmp_path / "r.csv", [_row("C-1"), _row("C-2", **{"applicant.name": "名" * 200_000}), _row("C-3")])
    s = run_batch(policy, path, tmp_path / "out", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    assert (s.applications, s.decided, s.failed) == (3, 2, 1)
    assert [d["claim_id"] for d in _lines(tmp_path / "out" / "decisions.jsonl")] == ["C-1", "C-3"]
    [record] = _lines(tmp_path / "out" / "errors.jsonl")
    assert record["where"] == {"file": str(path), "row": 3}
    assert record["problems"] == [
        {
            "file": str(path),
            "row": 3,
            "field": "applicant.name",
            "message": "a cell longer than 131,072 characters (the limit); the row is not read",
        }
    ]


def test_a_quoted_csv_cell_over_the_limit_names_its_column_across_lines(tmp_path, policy):
    long_notes = "x\n" * 70_000  # a quoted cell spanning 70,000 lines, 140,000 characters
    path = _csv(tmp_path / "r.csv", [_row("C-1", **{"item.title": long_notes}), _row("C-2")])
    reader = engine.records.tabular.open_input(path, policy)
    try:
        first = next(iter(reader))
    finally:
        reader.close()
    assert first.data is None
    assert first.problems == [
        {
            "field": "item.title",
            "message": "a cell longer than 131,072 characters (the limit); the row is not read",
            "file": str(path),
            "row": 2,
        }
    ]


def test_a_csv_line_over_1_mib_is_that_rows_error_record(tmp_path, policy):
    path = _csv(tmp_path / "r.csv", [_row("C-1"), _row("C-2"), _row("C-3")])
    lines = path.read_bytes().split(b"\r\n")
    lines[2] += b"," * (1024 * 1024 + 1)  # many short (empty) cells: no single cell over the field limit
    path.write_bytes(b"\r\n".join(lines))
    s = run_batch(policy, path, tmp_path / "out", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    assert (s.applications, s.decided, s.failed) == (3, 2, 1)
    [record] = _lines(tmp_path / "out" / "errors.jsonl")
    assert record["problems"] == [
        {"file": str(path), "row": 3, "field": None, "message": "a line longer than 1,048,576 characters (the limit); the row is not read"}
    ]


#: cells of 100,000 characters made for each regular expression the reading of a cell applies to back off a long way
#: (list separators beside Chinese names, `="…"` text formulas, grouped, spaced and 万 amounts, whole numbers)
HOSTILE_CELLS = {
    "spaces between Chinese names": "甲乙丙" + " " * 100_000 + "x",
    "slashes between Chinese names": "甲" + " /" * 50_000 + "x",
    "a text formula of quotes": '="' + '"' * 100_000,
    "thousands groups": "1" + ",000" * 25_000 + "x",
    "spaced digits": " 1" * 50_000 + "x",
    "a 万 amount after spaces": "1" + " " * 100_000 + "万x",
    # (a list cell's values: every run of them to the cell's end was tried as one label, from each)
    "values between enumeration commas": "证书、" * 33_333,
}


@pytest.mark.parametrize("name", list(HOSTILE_CELLS))
def test_a_hostile_cell_of_100000_characters_in_any_column_is_read_in_bounded_time(tmp_path, policy, name):
    """Each cell in every column (five columns to a row: a row, its quotes doubled, stays under CSV_MAX_LINE), read and each application
    parsed as a batch does. Measured in session 30, 35 such cells in each of the 44 columns took at most 31 ms a cell
    (none backtracks); the alarm turns a regression into a failure, not a ten-minute run."""
    applicants, items = engine.records.tabular.Columns(policy).header_sets()
    columns = [c for c in dict.fromkeys(applicants + items) if c != "claim_id"]
    rows = [{"claim_id": f"C-{k}", **dict.fromkeys(columns[k : k + 5], HOSTILE_CELLS[name])} for k in range(0, len(columns), 5)]
    path = tmp_path / "hostile.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, ["claim_id", *columns])
        w.writeheader()
        w.writerows(rows)
    with no_hang(30):
        records = list(engine.records.tabular.open_input(path, policy))
        for rec in records:
            if rec.data is not None:
                with pytest.raises(engine.ClaimError):
                    engine.parse_claim(policy, rec.data)
    assert [r.claim_id for r in records] == [row["claim_id"] for row in rows]  # (each row its own application, none lost)


def test_a_whole_number_cell_of_5000_digits_is_its_applications_error_not_a_traceback(tmp_path, policy):
    """int() of more than 4,300 digits raises Python's own ValueError: a funding year of 5,000 ones stopped the whole
    batch with a traceback (the other applications undecided)."""
    path = _csv(tmp_path / "r.csv", [_row("C-1", **{"claim.funding_year": "1" * 5000}), _row("C-2")])
    s = run_batch(policy, path, tmp_path / "out", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    assert (s.applications, s.decided, s.failed) == (2, 1, 1)
    [record] = _lines(tmp_path / "out" / "errors.jsonl")
    shown = "1" * 19 + " … " + "1" * 78
    assert record["problems"] == [
        {
            "file": str(path),
            "row": 2,
            "field": "claim.funding_year",
            "message": f"'{shown}' has 5,000 digits: a whole number here is written with at most 18 (a year as 2021, a count as 3)",
        }
    ]


def test_a_csv_header_over_the_field_limit_is_an_input_error(tmp_path, policy, capsys):
    path = tmp_path / "h.csv"
    path.write_text("claim_id," + "h" * 140_000 + "\r\nC-1,x\r\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(path, policy)
    assert str(caught.value) == f"{path}: the header row cannot be read: a cell longer than 131,072 characters (the limit)"
    assert main(["batch", "--policy", POLICY, str(path), "--out", str(tmp_path / "o"), "-q"]) == 1
    assert capsys.readouterr().err == f"error: {caught.value}\n"


def test_a_csv_header_wider_than_a_sheets_is_refused_before_any_heading_is_guessed_or_counted(tmp_path, policy, guessed):
    # A CSV's header had no bound on its width but its line's (1 MiB): 75,000 unknown headings were each given a guess
    # (104 s, an error record of 10.6 MB), 110,000 `claim_id` each counted among all (22 s). It is held to a sheet's.
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("claim_id," + ",".join(f"claim_i{n:03d}" for n in range(299)) + "\r\nC-1\r\n", encoding="utf-8")
    twice = tmp_path / "twice.csv"
    twice.write_text(",".join(["claim_id"] * 257) + "\r\nC-1\r\n", encoding="utf-8")
    for path, n in ((unknown, 300), (twice, 257)):
        with no_hang(), pytest.raises(InputError) as caught:
            engine.records.tabular.open_input(path, policy)
        assert str(caught.value) == f"{path}: {n} columns in the header row, more than the limit of 256"
    assert guessed == []
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(_csv(tmp_path / "w.csv", [{"claim_id": "C-1", "claim_i": "x"}]), policy)
    assert "unknown column(s) 'claim_i' (did you mean 'claim_id'?)" in str(caught.value)
    assert guessed == ["claim_i"]
    # empty headings after the last are not counted (a spreadsheet's export writes them for a stray cell's width)
    wide = _csv(tmp_path / "wide.csv", [_row("C-1")])
    wide.write_text(wide.read_text(encoding="utf-8").replace("\r\n", "," * 300 + "\r\n", 1), encoding="utf-8")
    assert [r.claim_id for r in engine.records.tabular.open_input(wide, policy)] == ["C-1"]


# --- identifiers -----------------------------------------------------------------------------------------------


def _uscc(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def _rid(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


def test_the_all_zero_credit_code_has_a_valid_check_character_and_is_refused(policy):
    assert uscc_check_char("0" * 17) == "0"  # weights times zero: the check character of nothing is 0
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, claim(item("national_ip_title"), id="0" * 18))
    [p] = [p for p in caught.value.problems if p.path == ("applicant", "id")]
    assert p.message == "the credit code's registration authority code (1st character) '0' is not one of 1, 2, 3, 4, 5, 6, 7, 8, 9, A, N, Y"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        # checked first: a typo is likeliest. GB 32100: the first 17 weigh 1640 ≡ 28 (mod 31), 31 - 28 = 3
        (
            "91350100M000100Y44",
            "'91350100M000100Y44' fails its check character (by its other characters it would be 3; a slip in another character "
            "fails it too)",
        ),
        (
            _uscc("B1110117MA01ABCD1"),
            "the credit code's registration authority code (1st character) 'B' is not one of 1, 2, 3, 4, 5, 6, 7, 8, 9, A, N, Y",
        ),
        (
            _uscc("95110117MA01ABCD1"),
            "the credit code's organisation category code (2nd character) '5' is not one of 1, 2, 3 (the categories of registration authority '9')",
        ),
        (
            _uscc("Y2110117MA01ABCD1"),
            "the credit code's organisation category code (2nd character) '2' is not one of 1 (the categories of registration authority 'Y')",
        ),
        (
            _uscc("91000000MA01ABCD1"),
            "the credit code's administrative division code (characters 3-8) '000000' is not one: it must be 6 digits beginning with a province code (GB/T 2260), or 100000",
        ),
        (
            _uscc("9119A117MA01ABCD1"),
            "the credit code's administrative division code (characters 3-8) '19A117' is not one: it must be 6 digits beginning with a province code (GB/T 2260), or 100000",
        ),
        (_uscc("11100000000013127"), None),  # a national-level registration: division 100000
        (_uscc("N2110117MA01ABCD1"), None),  # 农业, village collective
        ("91350100M000100Y43", None),  # the GB 32100-2015 example
    ],
)
def test_credit_code_parts_come_from_the_standards_tables(code, message):
    assert uscc_problem(code) == message


def test_the_organisation_code_check_of_gb_11714(monkeypatch):
    # the GB 32100 example's organisation code M000100Y4: M=22, Y=34;
    # 22*3 + 0*7 + 0*9 + 0*10 + 1*5 + 0*8 + 0*4 + 34*2 = 139; 139 mod 11 = 7; 11 - 7 = 4
    assert org_code_check_char("M000100Y") == "4"
    # 1*3 + 2*7 + 3*9 + 4*10 + 5*5 + 6*8 + 7*4 + 8*2 = 201; 201 mod 11 = 3; 11 - 3 = 8
    assert org_code_check_char("12345678") == "8"
    # 0 -> 11 - 0 = 11 -> "0";  A=10: 10*3 = 30, 30 mod 11 = 8, 11 - 8 = 3
    assert (org_code_check_char("00000000"), org_code_check_char("A0000000")) == ("0", "3")
    monkeypatch.setattr(engine.core.identifiers, "CHECK_ORG_CODE", True)
    assert uscc_problem("91350100M000100Y43") is None
    bad = _uscc("91110117123456789")  # organisation code 123456789: its check character should be 8
    assert uscc_problem(bad) == "the credit code's organisation code (characters 9-17) '123456789' fails its GB 11714 check character"
    assert uscc_problem(_uscc("91110117123456788")) is None


def test_a_resident_id_born_in_the_future_is_refused(policy):
    code = _rid("11011720990101001")
    assert resident_id_problem(code) == "the resident ID's birth date 2099-01-01 is in the future"
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, claim(item("invention_patent_grant"), applicant="natural_person", id=code))
    [p] = [p for p in caught.value.problems if p.path == ("applicant", "id")]
    assert p.message == "the resident ID's birth date 2099-01-01 is in the future"
    # relative to the day it is read: born 2024-05-01 is fine on 2024-05-01, in the future the day before
    tomorrow = _rid("11011720240501002")
    assert resident_id_problem(tomorrow, today=dt.date(2024, 5, 1)) is None
    assert resident_id_problem(tomorrow, today=dt.date(2024, 4, 30)) == "the resident ID's birth date 2024-05-01 is in the future"


@pytest.mark.parametrize(
    ("first17", "message"),
    [
        ("11011718991231001", "the resident ID's birth date 1899-12-31 is before 1900"),
        ("11011719000101001", None),
        ("00011719850312002", "the resident ID's address code (first two digits) '00' is not a province code (GB/T 2260)"),
        ("99011719850312002", "the resident ID's address code (first two digits) '99' is not a province code (GB/T 2260)"),
        ("19011719850312002", "the resident ID's address code (first two digits) '19' is not a province code (GB/T 2260)"),
        ("81000019850312002", None),  # Hong Kong residents' residence permit
        ("83000019850312002", None),  # Taiwan residents' residence permit
        ("91115619850312002", None),  # foreign permanent residence ID (2023): 9, a province, a nationality code
        ("11011719850231002", "the resident ID's birth date (characters 7-14) '19850231' is not a real calendar date"),
    ],
)
def test_resident_id_birth_date_and_province(first17, message):
    assert resident_id_problem(_rid(first17), today=dt.date(2024, 1, 1)) == message


def test_the_shipped_identifiers_stay_valid():
    from conftest import APPLICANTS

    ids = {a["id"] for a in APPLICANTS.values()}
    for line in (ROOT / "examples" / "round_2021.jsonl").read_text(encoding="utf-8").splitlines():
        ids.add(json.loads(line)["applicant"]["id"])
    ids.add(json.loads((ROOT / "examples" / "claim_enterprise_2021.json").read_text(encoding="utf-8"))["applicant"]["id"])
    for code in sorted(ids):
        assert engine.core.identifiers.uscc_or_resident_id_problem(code) is None, code


# --- output paths ------------------------------------------------------------------------------------------------


def test_batch_out_into_missing_folders_creates_them(tmp_path, capsys):
    out = tmp_path / "a" / "b" / "c"
    assert (
        main(["batch", "--policy", POLICY, str(ROOT / "examples" / "round_2021.jsonl"), "--out", str(out), "--ledger", _ledger(tmp_path)])
        == 3
    )
    assert (out / "summary.xlsx").exists()
    assert f"outputs in {out}/" in capsys.readouterr().out


@pytest.mark.parametrize("where", ["file", "under a file", "proc"])
def test_batch_out_that_cannot_be_a_folder_is_a_message(tmp_path, capsys, where):
    (tmp_path / "f").write_text("x", encoding="utf-8")
    out = {"file": tmp_path / "f", "under a file": tmp_path / "f" / "sub", "proc": Path("/proc/no-such-process/out")}[where]
    code = main(
        ["batch", "--policy", POLICY, str(ROOT / "examples" / "round_2021.jsonl"), "--out", str(out), "-q", "--ledger", _ledger(tmp_path)]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert (
        err
        == {
            "file": f"error: --out {out}: exists and is not a folder\n",
            "under a file": f"error: --out {out}: cannot create the folder (Not a directory)\n",
            "proc": f"error: --out {out}: cannot create the folder (No such file or directory)\n",
        }[where]
    )


def test_batch_out_into_a_folder_nothing_can_be_written_in_is_a_message(tmp_path, capsys):
    # /proc exists and is a folder (even root may "access" it), but no file can be made there
    code = main(
        ["batch", "--policy", POLICY, str(ROOT / "examples" / "round_2021.jsonl"), "--out", "/proc", "-q", "--ledger", _ledger(tmp_path)]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: --out /proc: cannot write in the folder (")


def test_file_outputs_create_their_folder_or_say_why_not(tmp_path, capsys):
    claim_file = str(ROOT / "examples" / "claim_enterprise_2021.json")
    nested = tmp_path / "x" / "y" / "explained.txt"
    assert main(["explain", "--policy", POLICY, claim_file, "--out", str(nested)]) == 0
    assert nested.read_text(encoding="utf-8").startswith("申报审查说明")
    (tmp_path / "f").write_text("x", encoding="utf-8")
    capsys.readouterr()
    cases = [
        (
            ["explain", "--policy", POLICY, claim_file, "--out", str(tmp_path / "f" / "e.txt")],
            f"error: {tmp_path / 'f' / 'e.txt'}: {tmp_path / 'f'} is not a folder\n",
        ),
        (["explain", "--policy", POLICY, claim_file, "--out", str(tmp_path)], f"error: {tmp_path}: is a folder; give a file name\n"),
        (
            ["evaluate", "--policy", POLICY, claim_file, "--out", "/proc/e.json"],
            "error: /proc/e.json: cannot be written (No such file or directory)\n",
        ),
        (
            ["report", "--policy", POLICY, claim_file, "--out", "/proc/r.html", "-q"],
            "error: /proc/r.html: cannot be written (No such file or directory)\n",
        ),
        (["batch-template", "--policy", POLICY, "/proc/t.xlsx"], "error: /proc/t.xlsx: cannot be written (No such file or directory)\n"),
        (
            ["schema", POLICY, "--out", str(tmp_path / "f" / "s.json")],
            f"error: {tmp_path / 'f' / 's.json'}: {tmp_path / 'f'} is not a folder\n",
        ),
    ]
    for argv, message in cases:
        assert (main(argv), capsys.readouterr().err) == (2, message), argv


# --- exports never crash (point 7) ------------------------------------------------------------------------------


def test_safe_cell_escapes_what_a_worksheet_cannot_store():
    assert safe_cell("Acme\x07 Ltd") == "Acme\\x07 Ltd"
    assert safe_cell("a\x00b\x0b\x0c\x1f") == "a\\x00b\\x0b\\x0c\\x1f"
    assert safe_cell("tab\tnew\nline\rok") == "tab\tnew\nline\rok"  # XML 1.0 keeps these three
    assert safe_cell("\x07=HYPERLINK()") == "\\x07=HYPERLINK()"  # escaped first: no longer a formula
    assert safe_cell("=SUM(A1)") == "'=SUM(A1)"
    assert storable("x\ud800y\ufffe") == "x\\ud800y\\ufffe"
    assert safe_cell(12) == 12 and safe_cell(None) is None


def test_a_control_character_in_a_claim_id_reaches_every_output_escaped(tmp_path, capsys):
    src = tmp_path / "round.jsonl"
    src.write_text(
        json.dumps({"claim_id": "BEL\u0007", "funding_year": 2021})
        + "\n"
        + json.dumps({"claim_id": "SUR\ud800", "funding_year": 2021})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["batch", "--policy", POLICY, str(src), "--out", str(out), "-q", "--ledger", _ledger(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for name in (
        "decisions.jsonl",
        "errors.jsonl",
        "summary_items.csv",
        "summary_applications.csv",
        "summary.xlsx",
        "summary.json",
        "report.html",
    ):
        assert (out / name).exists(), name
    # errors.jsonl keeps the exact text (a lone surrogate as its JSON escape, which reads back the same)
    assert [e["claim_id"] for e in _lines(out / "errors.jsonl")] == ["BEL\u0007", "SUR\ud800"]
    ws = openpyxl.load_workbook(out / "summary.xlsx")["errors"]
    ids = [row[1] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert set(ids) == {"BEL\\x07", "SUR\\ud800"}
    warnings = json.loads((out / "summary.json").read_text(encoding="utf-8"))["warnings"]
    assert len(warnings) == 1 and warnings[0].startswith(
        f"summary.xlsx: {len(ids)} cell(s) held characters a spreadsheet cannot store (control characters, lone surrogates), "
        "written escaped as \\xNN: sheet errors row 2 column claim_id"
    )
    assert f"warning: {warnings[0]}\n" in err


def test_a_control_character_in_the_input_file_name_is_escaped_in_the_summaries(tmp_path):
    src = tmp_path / "round\x1b.jsonl"
    src.write_text((ROOT / "examples" / "round_2021.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    s = run_batch(engine.load_policy(POLICY), src, tmp_path / "out", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    assert s.decided == 6 and s.outputs["summary_xlsx"]
    ws = openpyxl.load_workbook(tmp_path / "out" / "summary.xlsx")["applications"]
    header = next(ws.iter_rows(max_row=1, values_only=True))
    first = next(ws.iter_rows(min_row=2, max_row=2, values_only=True))
    assert first[header.index("Input")] == f"{tmp_path}/round\\x1b.jsonl:1"
    with open(tmp_path / "out" / "summary_applications.csv", encoding="utf-8-sig", newline="") as f:
        assert next(csv.DictReader(f))["input"] == f"{tmp_path}/round\\x1b.jsonl:1"
    assert [w.split(":")[0] for w in s.warnings] == ["summary_applications.csv", "summary.xlsx"]


def test_a_policy_label_with_control_characters_is_refused_where_it_is_written(tmp_path):
    # labels written with escapes ("\\0", "\\a") loaded, and every export (summary CSV and workbook, the batch
    # template's headings and dropdowns) had to escape them; a text explanation printed them as they were. A policy
    # can no longer hold them: each is a located problem (a claim's control characters are escaped in exports still:
    # test_batch_template_from_raw_claims_with_control_characters)
    text = Path(POLICY).read_text(encoding="utf-8")
    item_label = "    zh: 发明专利授权\n"
    fact_label = "zh: 申报年度（支持所针对的上一年度）,"
    assert item_label in text and fact_label in text
    text = text.replace(item_label, '    zh: "发明专利\\0授权\\a"\n', 1).replace(fact_label, 'zh: "申报年度\\a",', 1)
    with pytest.raises(engine.PolicyError) as caught:
        engine.load_policy_text(text, "p.yaml")
    found = {(p.path[-1], p.message.split(" U+")[1][:4]) for p in caught.value.problems}
    assert found == {("zh", "0000"), ("zh", "0007")} and len(caught.value.problems) == 2
    assert all(p.code == "hidden_character" and p.line is not None for p in caught.value.problems)


def test_batch_template_from_raw_claims_with_control_characters(tmp_path, capsys):
    src = tmp_path / "c.jsonl"
    data = claim(item("national_ip_title"), claim_id="C-1")
    data["applicant"]["name"] = "北京\x07示例"
    src.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["batch-template", "--policy", POLICY, str(tmp_path / "t.xlsx"), "--from", str(src)]) == 0
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["申请人"]
    header = [h.rsplit("（", 1)[1].rstrip("）") for h in next(ws.iter_rows(max_row=1, values_only=True))]
    row = next(ws.iter_rows(min_row=3, max_row=3, values_only=True))
    assert row[header.index("applicant.name")] == "北京\\x07示例"
    assert capsys.readouterr().err == (
        f"warning: {tmp_path / 't.xlsx'}: 1 cell(s) held characters a spreadsheet cannot store (control characters, lone surrogates), "
        "written escaped as \\xNN: sheet 申请人 row 3 column applicant.name\n"
    )


# --- explain: a hand-edited decision ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """PG-2022-0001's line of a batch's decisions.jsonl (decided under policies/pinggu_2020.yaml)."""
    tmp = tmp_path_factory.mktemp("recorded")
    run_batch(
        engine.load_policy(POLICY),
        ROOT / "examples" / "round_2021.jsonl",
        tmp / "out",
        quiet=True,
        report=False,
        ledger_url=f"sqlite:///{tmp / 'l.sqlite'}",
    )
    first = _lines(tmp / "out" / "decisions.jsonl")[0]
    assert first["claim_id"] == "PG-2022-0001" and first["items"][0]["rule"] == "invention-patent-fees"
    return first


def _edit(d: dict[str, Any], how: str) -> dict[str, Any]:
    d = json.loads(json.dumps(d))
    if how == "no items":
        del d["items"]
    elif how == "no applicant":
        del d["applicant"]
    elif how == "a step that is a number":
        d["items"][0]["steps"][0] = 5
    elif how == "steps a string":
        d["items"][0]["steps"] = "abc"
    elif how == "a bogus amount":
        d["items"][0]["amount"] = "12abc"
    elif how == "a bogus total":
        d["total"] = "1e999999"
    elif how == "an unknown rule":
        d["items"][0]["rule"] = "no-such-rule"
    elif how == "an item type not its rule's":
        d["items"][0]["type"] = "patent_insurance"
    elif how == "an unknown status":
        d["items"][0]["status"] = "won"
    elif how == "an extra key":
        d["remarks"] = "edited by hand"
    elif how == "an extra item key":
        d["items"][0]["bonus"] = "1.00"
    elif how == "a step's inner field of a wrong type":
        who = next(s for s in d["items"][0]["steps"] if s["step"] == "who")
        who["kinds"] = 5
    return d


EDITS = {
    "no items": "'items' is a required property",  # at 1:1, the object's start: no field to name
    "no applicant": "'applicant' is a required property",
    "a step that is a number": "items[0].steps[0]: 5 is not of type 'object'",
    "steps a string": "items[0].steps: 'abc' is not of type 'array'",
    "a bogus amount": "items[0].amount: '12abc' does not match '^-?[0-9]+\\\\.[0-9]{2}$'",
    "a bogus total": "total: '1e999999' does not match '^-?[0-9]+\\\\.[0-9]{2}$'",
    "an unknown rule": "items[0].rule: unknown rule 'no-such-rule': not a rule of Pinggu District Intellectual Property Promotion Measures, version 2020.1",
    "an item type not its rule's": "items[0].type: item type 'patent_insurance' is not the one rule 'invention-patent-fees' decides ('invention_patent_grant')",
    "an unknown status": "items[0].status: 'won' is not one of granted, reduced, refused, incomplete, referred, pending_review",
    "an extra key": "remarks: unknown key 'remarks' in a recorded decision",
    "an extra item key": "items[0].bonus: unknown key 'bonus' in a recorded decision",
}


@pytest.mark.parametrize("how", list(EDITS))
@pytest.mark.parametrize("fmt", ["text", "html"])
def test_a_hand_edited_decision_is_named_not_rendered(tmp_path, capsys, recorded, how, fmt):
    path = tmp_path / "d.json"
    path.write_text(json.dumps(_edit(recorded, how), ensure_ascii=False), encoding="utf-8")
    assert main(["explain", "--policy", POLICY, str(path), "--format", fmt]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    lines = captured.err.splitlines()
    assert lines[0] == "not a decision as the engine records it (1 problem(s))"
    assert lines[1].startswith(f"{path}:1:") and lines[1].endswith(": " + EDITS[how]), lines[1]


def test_an_unknown_rule_names_the_measures_by_title_and_version_in_chinese(tmp_path, capsys, recorded):
    # it said 'not a rule of policy 'pinggu-ip-promotion' '2020.1'' / '政策“pinggu-ip-promotion”“2020.1”中没有这条规则':
    # the policy's id, a code, where officers know the measures by their title and version (English: EDITS)
    path = tmp_path / "d.json"
    path.write_text(json.dumps(_edit(recorded, "an unknown rule"), ensure_ascii=False), encoding="utf-8")
    assert main(["--lang", "zh", "explain", "--policy", POLICY, str(path)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[1].startswith(f"{path}:1:")
    assert lines[1].endswith(": items[0].rule：无法识别的规则 'no-such-rule'：平谷区知识产权促进办法（版本 2020.1）中没有这条规则"), lines[
        1
    ]


@pytest.mark.parametrize("how", ["unknown keys", "items not objects"])
def test_a_decision_of_thousands_of_problems_names_twenty_and_says_there_are_more(tmp_path, capsys, recorded, how):
    # every problem was named: 200,000 items `1` in a 0.42 MB decision took `explain` 175 s and 1.6 GB, 60,000 unknown
    # keys (0.96 MB) 40 s; `POST /explain` answered 503 after 10 s while the work went on
    d = json.loads(json.dumps(recorded))
    if how == "unknown keys":
        d["applicant"].update({f"nmae{n:04d}": "x" for n in range(5000)})
        first = [f"applicant.nmae{n:04d}: unknown key 'nmae{n:04d}' in a recorded decision" for n in range(20)]
    else:
        d["items"] += [1] * 5000
        found = range(len(recorded["items"]), len(recorded["items"]) + 21)  # (the first 21 found, named by their paths' order)
        first = [f"items[{n}]: 1 is not of type 'object'" for n in sorted(found, key=str)][:20]
    path = tmp_path / "d.json"
    path.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    with no_hang():
        assert main(["explain", "--policy", POLICY, str(path)]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("    expected")]
    assert lines[0] == "not a decision as the engine records it (21 problem(s))"
    assert [line.split(": ", 1)[1] for line in lines[1:21]] == first
    more = (
        "more problems than the 20 named here: correct these and read it again, or take the decision again from the file the engine wrote"
    )
    assert lines[21:] == [f"{path}:1:1: {more}"]


def test_an_amount_edited_alone_is_named_not_rendered(tmp_path, capsys, recorded):
    # an item's amount edited into another valid one: the page said "给予支持，99,999,999.00 元" beside the true total
    # (the service's POST /explain renders a decision anyone sends). The engine writes the totals as the items' sums.
    d = json.loads(json.dumps(recorded))
    assert (d["items"][0]["status"], d["items"][0]["amount"]) == ("granted", "4200.00")  # 第五条（一）: half of 8,400.00
    d["items"][0]["amount"] = "99999999.00"
    total, granted = Decimal(d["total"]), Decimal(d["totals_by_status"]["granted"])
    path = tmp_path / "d.json"
    path.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    assert main(["explain", "--policy", POLICY, str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0] == "not a decision as the engine records it (2 problem(s))"
    edited = " is not the sum of the items' amounts ({}): the decision has been edited; explain it as the engine recorded it"
    assert lines[1].startswith(f"{path}:1:") and lines[1].endswith(f": total: {d['total']}" + edited.format(total - 4200 + 99999999))
    granted_line = f": totals_by_status.granted: {d['totals_by_status']['granted']}" + edited.format(granted - 4200 + 99999999)
    assert lines[2].endswith(granted_line), lines[2]


@pytest.mark.parametrize("ch", ["\x1b", "\x07", "\x9b", "\u202e"])
def test_a_decision_with_a_control_character_in_a_text_is_named_not_printed(tmp_path, capsys, recorded, ch):
    # a red team's record: the applicant's name edited to "X\x1b[2J\x1b[31mFAKE", which the text explanation printed
    # to the officer's terminal (it cleared the screen); no claim, policy or decision the engine makes holds one
    d = json.loads(json.dumps(recorded))
    d["applicant"]["name"] = f"X{ch}[2JFAKE"
    path = tmp_path / "d.json"
    path.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    assert main(["explain", "--policy", POLICY, str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and ch not in captured.err
    lines = captured.err.splitlines()
    assert lines[0] == "not a decision as the engine records it (1 problem(s))"
    assert f": applicant.name: a text of the decision holds the character U+{ord(ch):04X}" in lines[1], lines[1]


def test_a_decision_edited_inside_a_step_is_a_message(tmp_path, capsys, recorded):
    path = tmp_path / "d.json"
    path.write_text(json.dumps(_edit(recorded, "a step's inner field of a wrong type")), encoding="utf-8")
    assert main(["explain", "--policy", POLICY, str(path)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"error: {path}: this decision cannot be explained as recorded (a value in it has been edited to another kind or form "
        "than the engine writes); explain the claim itself, or the decision line as the batch wrote it\n"
    )  # (it said "TypeError: ..." and Python's own words: nothing an officer or a web client can act on)


def test_a_decision_with_a_steps_field_taken_out_names_the_field(tmp_path, capsys, recorded):
    d = json.loads(json.dumps(recorded))
    step = next(s for it in d["items"] for s in it["steps"] if "result" in s)
    del step["result"]
    path = tmp_path / "d.json"
    path.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    assert main(["--lang", "zh", "explain", "--policy", POLICY, str(path)]) == 1
    err = capsys.readouterr().err
    assert "这条决定记录已被改动，无法按记录解释（其中引擎写出的字段 'result' 已被删去）" in err and "KeyError" not in err


def test_a_decision_with_a_step_kind_edited_says_a_value_was_edited(tmp_path, capsys, recorded):
    # "a field the engine writes, "unknown step 'zzz'", has been taken out": an edited value read as a field taken out
    # (the command refuses it earlier, by the decision schema; the API renders what it is given)
    from engine.core.i18n import tr
    from engine.explaining.render import RecordedDecisionError, explain

    d = json.loads(json.dumps(recorded))
    d["items"][0]["steps"][0]["step"] = "zzz"
    with pytest.raises(RecordedDecisionError) as caught:
        explain(engine.load_policy(POLICY), d, "en", "text")
    said = tr(caught.value.args[0], "en")
    assert "a value in it has been edited to another kind or form than the engine writes" in said and "taken out" not in said


def test_the_unedited_and_a_truncated_decision(tmp_path, capsys, recorded):
    path = tmp_path / "d.json"
    text = json.dumps(recorded, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    assert main(["explain", "--policy", POLICY, str(path)]) == 0
    assert "PG-2022-0001" in capsys.readouterr().out
    path.write_text(text[:300], encoding="utf-8")
    assert main(["explain", "--policy", POLICY, str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cannot parse (1 problem(s))\n") and "not valid JSON" in err


def test_a_folder_round_skips_the_lock_file_of_a_workbook_open_in_excel(tmp_path, capsys):
    # Excel and WPS write `~$name.xlsx` beside a workbook while it is open (a few hundred bytes naming who has it):
    # it stopped the whole round as "not a readable .xlsx workbook"; it is not an input
    folder = tmp_path / "round"
    folder.mkdir()
    shutil.copy(ROOT / "examples" / "round_2021.xlsx", folder / "round_2021.xlsx")
    (folder / "~$round_2021.xlsx").write_bytes(b"\x08\x00\xe5\xbc\xa0\xe4\xb8\x89" + b"\x00" * 154)
    (folder / "._round_2021.xlsx").write_bytes(b"\x00\x05\x16\x07" + b"\x00" * 60)  # a Mac's metadata, copied with it
    alone, together = tmp_path / "alone", tmp_path / "together"
    args = ["--policy", POLICY, "-q", "--ledger", _ledger(tmp_path)]
    assert main(["batch", *args, str(ROOT / "examples" / "round_2021.xlsx"), "--out", str(alone)]) == 3
    assert main(["batch", *args, str(folder), "--out", str(together)]) == 3
    decided = [json.loads(x)["claim_id"] for x in (alone / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert decided == [json.loads(x)["claim_id"] for x in (together / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    # the workbook's seven applications: six decided, PG-2022-0006 an error record (its row 8 on the 申请人 sheet)
    assert decided == ["PG-2022-0001", "PG-2022-0002", "PG-2022-0003", "PG-2022-0004", "PG-2022-0005", "PG-2022-0007"]
    errors = [json.loads(x) for x in (together / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(e["claim_id"], e["where"]) for e in errors] == [
        ("PG-2022-0006", {"file": str(folder / "round_2021.xlsx"), "sheet": "申请人", "row": 8})
    ]


def test_batch_out_that_is_the_input_folder_is_refused(tmp_path, capsys):
    # a second run would read the first one's decisions.jsonl, errors.jsonl and summary.xlsx as applications (and
    # errors.jsonl while appending to it: without end); and the first thing a run does is remove report.html
    folder = tmp_path / "round"
    folder.mkdir()
    shutil.copy(ROOT / "examples" / "round_2021.jsonl", folder / "round_2021.jsonl")
    (folder / "report.html").write_text("last month's report", encoding="utf-8")
    for out in (folder, tmp_path / "round" / "." / ""):
        code = main(["batch", "--policy", POLICY, str(folder), "--out", str(out), "-q", "--ledger", _ledger(tmp_path)])
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err
        assert err == (
            f"error: --out {out}: is the input folder: the next run would read this run's files (decisions.jsonl, "
            "errors.jsonl, summary.xlsx) as applications; give the outputs a folder of their own\n"
        )
    assert sorted(p.name for p in folder.iterdir()) == ["report.html", "round_2021.jsonl"]
    assert (folder / "report.html").read_text(encoding="utf-8") == "last month's report"


def test_json_written_with_a_byte_order_mark_reads_as_without_it(tmp_path, capsys):
    # Notepad and PowerShell 5 save UTF-8 with a BOM: a claim file was "not valid JSON" at 1:1, a JSON list "not a
    # list of applications", a JSON Lines file's first application an error record
    plain = (ROOT / "examples" / "round_2021.jsonl").read_bytes()
    records = [json.loads(x) for x in plain.decode("utf-8").splitlines() if x.strip()]
    bom = b"\xef\xbb\xbf"
    (tmp_path / "round.jsonl").write_bytes(bom + plain)
    (tmp_path / "round.json").write_bytes(bom + json.dumps(records, ensure_ascii=False, indent=1).encode("utf-8"))
    one = (ROOT / "examples" / "claim_enterprise_2021.json").read_bytes()
    (tmp_path / "claim.json").write_bytes(bom + one)

    def decided(out):
        lines = (out / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
        errors = [json.loads(x) for x in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
        return [(d["claim_id"], d["total"]) for d in map(json.loads, lines)], [e["claim_id"] for e in errors]

    args = ["--policy", POLICY, "-q", "--ledger", _ledger(tmp_path)]
    assert main(["batch", *args, str(ROOT / "examples" / "round_2021.jsonl"), "--out", str(tmp_path / "plain")]) == 3
    want = decided(tmp_path / "plain")
    assert [c for c, _ in want[0]] == ["PG-2022-0001", "PG-2022-0002", "PG-2022-0003", "PG-2022-0004", "PG-2022-0005", "PG-2022-0007"]
    assert want[1] == ["PG-2022-0006"]
    for name in ("round.jsonl", "round.json"):
        assert main(["batch", *args, str(tmp_path / name), "--out", str(tmp_path / f"out-{name}")]) == 3
        assert decided(tmp_path / f"out-{name}") == want
    line_six = json.loads((tmp_path / "out-round.jsonl" / "errors.jsonl").read_text(encoding="utf-8"))["where"]
    assert line_six == {"file": str(tmp_path / "round.jsonl"), "line": 6}  # (lines counted as before: the BOM is no line)
    capsys.readouterr()
    assert main(["evaluate", "--policy", POLICY, str(tmp_path / "claim.json")]) == 0
    with_bom = capsys.readouterr().out
    assert main(["evaluate", "--policy", POLICY, str(ROOT / "examples" / "claim_enterprise_2021.json")]) == 0
    assert with_bom == capsys.readouterr().out


def test_a_workbook_with_merged_data_cells_is_refused_and_says_how_to_fix_it(tmp_path, capsys):
    # a merge keeps its value in its first cell only (Excel empties the others when it merges): a claim id merged
    # down an application's item rows made its other items "rows with no claim_id" and the application was decided
    # on its first item alone; merged amounts on an applicant's row read as blank. Merges outside the data (beyond
    # the header's columns) change nothing.
    def merged(name, *ranges):
        wb = openpyxl.load_workbook(ROOT / "examples" / "round_2021.xlsx")
        for sheet, ref in ranges:
            wb[sheet].merge_cells(ref)
        wb.save(tmp_path / name)
        return tmp_path / name

    args = ["--policy", POLICY, "-q", "--ledger", _ledger(tmp_path), "--lang", "en"]
    cases = [
        (merged("app.xlsx", ("申请人", "I3:K3")), "申请人", "cells I3:K3 are merged"),
        (merged("items.xlsx", ("事项", "A3:A8")), "事项", "cells A3:A8 are merged"),
        (
            merged("many.xlsx", *[("事项", f"B{r}:C{r}") for r in range(2, 7)]),
            "事项",
            "cells B2:C2, B3:C3, B4:C4 and 2 more ranges are merged",
        ),
    ]
    for path, sheet, said in cases:
        capsys.readouterr()
        assert main(["batch", *args, str(path), "--out", str(tmp_path / f"out-{path.stem}")]) == 1
        err = capsys.readouterr().err
        assert err == (
            f"error: {path} sheet {sheet}: {said}: a merge keeps its value in its first cell only, and the others read as "
            "blank. Unmerge them and fill in every cell (Excel or WPS: Merge & Center › Unmerge Cells, then fill the value down)\n"
        )
    outside = merged("outside.xlsx", ("申请人", "Z2:AB4"), ("事项", "AZ1:BA1"))
    assert main(["batch", *args, str(outside), "--out", str(tmp_path / "out-outside")]) == 3
    assert main(["batch", *args, str(ROOT / "examples" / "round_2021.xlsx"), "--out", str(tmp_path / "out-plain")]) == 3
    for name in ("decisions.jsonl", "errors.jsonl"):
        got = (tmp_path / "out-outside" / name).read_text(encoding="utf-8").replace(str(outside), "X")
        want = (tmp_path / "out-plain" / name).read_text(encoding="utf-8").replace(str(ROOT / "examples" / "round_2021.xlsx"), "X")
        assert got == want
    with engine.core.i18n.use_language("zh"):
        with pytest.raises(InputError) as caught:
            run_batch(engine.load_policy(POLICY), cases[1][0], tmp_path / "o-zh", ledger_url=_ledger(tmp_path), quiet=True)
        assert str(caught.value) == (
            f"{cases[1][0]} 工作表 事项：A3:A8 是合并单元格：合并后只有第一格有值，其余格读作空白。请取消合并，并在每一格填写该值"
            "（Excel 或 WPS：合并后居中 › 取消单元格合并，再向下填充）"
        )


@pytest.mark.parametrize("chunk", [7, 50, 1 << 20])
def test_merges_uncomputed_formulas_and_hidden_rows_are_found_once_each_across_the_scan_s_chunks(monkeypatch, chunk):
    import io

    from engine.records import tabular

    xml = (
        b'<worksheet><cols><col min="2" max="2" hidden="1"/><x:col min="4" max="9" width="3" hidden="true"/><col min="1" max="1" hidden="0"/></cols>'
        b'<sheetData><row r="1"><c r="A1"><f>1+1</f><v/></c></row><row r="2" spans="1:6" hidden="1">'
        b'<c r="B2"><f>A2*2</f><v /></c><c r="C2" t="n"><f>A2*3</f><v>30</v></c><x:c r="D2"><x:f t="shared" si="0"/></x:c>'
        b'<c r="E2"><f>A2</f></c><c r="F2"><f>A2</f><v></v></c></row><x:row hidden="true" r="3"><c r="B3" s="1"><f>SUM(A1:A2)</f><v/></c></x:row>'
        b'<row r="9" hidden="0"/><rowBreaks count="1"><brk id="9" hidden="1"/></rowBreaks>'
        b'</sheetData><x:mergeCells count="4"><x:mergeCell ref="A1:C1"/>'
        b'<mergeCell ref="B7:B9"/><mergeCell  ref="D2:E2" /><mergeCell ref="AA2:AB3"/><mergeCell ref="A3:A8"/>'
        b"</x:mergeCells></worksheet>"
    )

    class Sheet:
        def _get_source(self):
            return io.BytesIO(xml)

    monkeypatch.setattr(tabular, "_SCAN_CHUNK", chunk)
    # A1:C1 is the header row alone; AA2:AB3 is past the header's 5 columns: neither covers a data cell. C2's formula
    # has its value (30), A1 is the header row, F2 is past the header and D2's column has no heading
    # of the hidden columns B and D-I, B and E are headed (D has no heading, F-I are past the header)
    merged, uncomputed, hidden, hidden_columns = tabular._scan_sheet_xml(Sheet(), ["a", "b", "c", "", "e"])
    assert hidden_columns == {2, 5}
    assert merged == ["D2:E2", "A3:A8", "B7:B9"]
    assert uncomputed == ["B2", "E2", "B3"]
    assert hidden == {2, 3}  # (row 9 is shown: hidden="0"; a page break's attributes are not a row's)


def test_a_long_formula_never_computed_is_found_however_many_bytes_its_characters_take():
    # Excel allows 8,192 characters in a formula; in the sheet's XML a Chinese character is 3 bytes and & is &amp;:
    # a sum over 500 cells of a sheet named in Chinese is 6,398 characters and 11,398 bytes, and it must still be
    # found (a bound of 8,192 bytes on the formula's text missed it, and the cell read as blank)
    import io

    from engine.records import tabular

    formula = "SUM(" + ",".join(f"'项目明细表'!B{n}" for n in range(2, 502)) + ")"
    # 500 terms of 9 characters and their 1,394 digits, 499 commas, SUM( and ): 6,398; the 2,500 Chinese characters
    # take 2 bytes more each: 11,398 bytes
    assert len(formula) == 6398 and len(formula.encode()) == 11398
    xml = f'<worksheet><sheetData><row r="2"><c r="B2"><f>{formula}</f><v></v></c></row></sheetData></worksheet>'.encode()

    class Sheet:
        def _get_source(self):
            return io.BytesIO(xml)

    assert tabular._scan_sheet_xml(Sheet(), ["a", "b"]) == ([], ["B2"], set(), set())


# each tag the scan looks into, and one of its kind whose wanted part lies `{}` spaces into the tag, with what the scan
# finds of it: a run inside a tag reaches 400 characters
_FAR_IN_A_TAG = {
    b"<row ": (b'<row r="5"{} hidden="1">', ([], [], {5}, set())),
    b"<mergeCell ": (b'<mergeCell{} ref="A2:A3"/>', (["A2:A3"], [], set(), set())),
    b'<c r="B2" ': (b'<c r="B2"{}><f>1</f><v/></c>', ([], ["B2"], set(), set())),
    b'<c r="B2"><f ': (b'<c r="B2"><f{}>1</f><v/></c>', ([], ["B2"], set(), set())),
}


@pytest.mark.parametrize("tag", list(_FAR_IN_A_TAG))
def test_a_sheet_of_tags_that_never_close_is_scanned_in_linear_time(monkeypatch, tag):
    """Unbounded, each tag's run reached to the chunk's end, and a megabyte of `<row ` took about a quarter of an hour
    (80 KB: 5.5 s, growing with its square). The witnesses of linear work: every run inside a scanned tag is bounded
    (what lies 1,000 characters into a tag is not looked for; 300 in, it is found), and the scan reads the XML in
    chunks, each pattern searching each chunk once with the overlap it keeps of the one before."""
    import io

    from engine.records import tabular

    def scan(xml: bytes):
        class Sheet:
            def _get_source(self):
                return io.BytesIO(xml)

        return tabular._scan_sheet_xml(Sheet(), ["a", "b"])

    far, found = _FAR_IN_A_TAG[tag]
    nothing = ([], [], set(), set())
    assert scan(b"<worksheet><sheetData>" + far.replace(b"{}", b" " * 300) + b"</sheetData></worksheet>") == found
    assert scan(b"<worksheet><sheetData>" + far.replace(b"{}", b" " * 1000) + b"</sheetData></worksheet>") == nothing

    searched: dict[str, int] = {}

    class Counted:  # a pattern that counts the characters it is asked to search
        def __init__(self, name, pattern):
            self.name, self.pattern = name, pattern

        def search(self, data, *args):
            searched[self.name] = searched.get(self.name, 0) + len(data)
            return self.pattern.search(data, *args)

        def finditer(self, data, *args):
            searched[self.name] = searched.get(self.name, 0) + len(data)
            return self.pattern.finditer(data, *args)

    for name in ("_MERGE_CELL", "_UNCOMPUTED_CELL", "_FORMULA_TAG_END", "_HIDDEN_ROW", "_HIDDEN_COLUMNS"):
        monkeypatch.setattr(tabular, name, Counted(name, getattr(tabular, name)))
    reads: list[int] = []

    class Source(io.BytesIO):
        def read(self, size=-1):
            chunk = super().read(size)
            reads.append(len(chunk))
            return chunk

    xml = b"<worksheet><sheetData>" + tag * ((1 << 20) // len(tag)) + b'hidden="0"'  # (no tag's end, no match)

    class Sheet:
        def _get_source(self):
            return Source(xml)

    with no_hang():
        assert tabular._scan_sheet_xml(Sheet(), ["a", "b"]) == nothing
    assert len(reads) <= len(xml) // tabular._SCAN_CHUNK + 2 and sum(reads) == len(xml)  # (read once, in chunks; the last read is empty)
    assert searched and max(searched.values()) <= len(xml) + len(reads) * tabular._SCAN_OVERLAP, searched


def test_every_problem_of_a_workbook_as_a_whole_is_said_at_once(tmp_path, capsys):
    """Merged cells, a formula never computed, a value under no heading, a claim id showing #N/A and one Excel
    rounded, on both sheets: each was said alone, the next only once the officer had mended it and run again. Now
    all five, numbered, each with its place and its fix, on the console and as five problems in errors.jsonl."""
    wb = openpyxl.load_workbook(EXAMPLE_XLSX)
    wb["申请人"].merge_cells("I3:K3")
    wb["申请人"]["A4"] = 202203000000000001  # (Excel keeps 15 digits: what it made of an 18-digit id)
    wb["事项"]["K3"] = "=8000+400"
    wb["事项"]["AZ5"] = "note"
    wb["事项"]["A6"] = "#N/A"
    book = tmp_path / "five.xlsx"
    wb.save(book)
    said = _batch_refuses(capsys, tmp_path, book)
    assert said == (
        f"error: {book}: 5 problems, each to mend before it can be read (all that one reading found):\n"
        f"  1. {book} sheet 申请人: cells I3:K3 are merged: a merge keeps its value in its first cell only, and the others "
        "read as blank. Unmerge them and fill in every cell (Excel or WPS: Merge & Center › Unmerge Cells, then fill the "
        "value down)\n"
        f"  2. {book} sheet 申请人: cells A4 of the claim id column hold what a spreadsheet made of the ids (a number of more "
        "than 15 digits has lost its last ones; 2.02203E+17 is a rounded number; or the id was taken for a date), so their "
        "rows' applications cannot be told apart: format the column as text (Format Cells › Text), type the claim ids "
        "again, and save the workbook\n"
        f"  3. {book} sheet 事项: cells K3 hold a formula whose value was never computed (a program wrote the workbook and "
        "no spreadsheet saved it), so they would read as blank: open the workbook in Excel or WPS and save it, or type "
        "the values in\n"
        f"  4. {book} sheet 事项: cells AZ5 hold values in a column with no heading, so they would not be read: give the "
        "column a heading the sheet knows, or clear them\n"
        f"  5. {book} sheet 事项: cells A6 of the claim id column show a spreadsheet's error value (#N/A, #REF!...: what "
        "a cell shows when its formula fails), so their rows' applications cannot be told: correct the formula, or type "
        "the claim ids, and save the workbook again\n"
    )
    zh = _batch_refuses(capsys, tmp_path, book, "zh").splitlines()
    assert zh[0] == f"错误：{book}：有 5 处问题，全部改正后才能读取（以下是一次读取中发现的全部问题）："
    places = [f"  1. {book} 工作表 申请人：", f"  2. {book} 工作表 申请人：", *(f"  {n}. {book} 工作表 事项：" for n in (3, 4, 5))]
    assert len(zh) == 6 and all(line.startswith(place) for line, place in zip(zh[1:], places, strict=True))
    assert zh[1].endswith(
        "I3:K3 是合并单元格：合并后只有第一格有值，其余格读作空白。请取消合并，并在每一格填写该值（Excel 或 WPS：合并后居中 › 取消单元格合并，再向下填充）"
    )
    record = json.loads((tmp_path / "refused-five" / "errors.jsonl").read_text(encoding="utf-8"))
    assert [p["message"] for p in record["problems"]] == [line[5:] for line in said.splitlines()[1:]]
    assert [p["said"]["zh"]["message"] for p in record["problems"]] == [line[5:] for line in zh[1:]]


def test_a_missing_sheet_and_the_other_sheet_s_problems_are_said_together(tmp_path, policy):
    wb = openpyxl.load_workbook(EXAMPLE_XLSX)
    wb["申请人"].title = "申请"
    wb["申请"].title = "名单"  # (no sheet of the applicants' names, none close enough to be meant)
    wb["事项"]["AZ5"] = "note"
    book = tmp_path / "two.xlsx"
    wb.save(book)
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(book, policy)
    lines = str(caught.value).splitlines()
    assert lines[0] == f"{book}: 2 problems, each to mend before it can be read (all that one reading found):"
    assert lines[1].startswith(f"  1. {book}: no sheet named '申请人' or 'applicants' (")
    assert lines[2] == (
        f"  2. {book} sheet 事项: cells AZ5 hold values in a column with no heading, so they would not be read: give the "
        "column a heading the sheet knows, or clear them"
    )
    assert [str(p) for p in caught.value.problems] == [line[5:] for line in lines[1:]]


def test_merged_headings_are_said_before_the_cells_they_leave_with_no_heading(tmp_path, policy):
    # (the officer review, session 33) a clerk merges two heading cells for looks (专利类型 over 授权途径, H1:I1): the
    # merge keeps 专利类型 in H1 alone, so column I has no heading, and the workbook was refused for "values in a
    # column with no heading" in cells I3, I12 and I15, under a heading the officer could see. The merge is said too.
    wb = openpyxl.load_workbook(ROOT / "examples" / "round_2021.xlsx")
    wb["事项"].merge_cells("H1:I1")
    book = tmp_path / "merged-headings.xlsx"
    wb.save(book)
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(book, policy)
    assert str(caught.value).splitlines() == [
        f"{book}: 2 problems, each to mend before it can be read (all that one reading found):",
        f"  1. {book} sheet 事项: cells H1:I1 of the heading row are merged: only the first column of a merge has a heading, "
        "and what the others hold is not read. Unmerge them (Merge & Center › Unmerge Cells) and give each column its heading",
        f"  2. {book} sheet 事项: cells I3, I12, I15 hold values in a column with no heading, so they would not be read: give "
        "the column a heading the sheet knows, or clear them",
    ]
    assert engine.core.i18n.tr(caught.value.problems[0], "zh") == (
        f"{book} 工作表 事项：标题行的 H1:I1 是合并单元格：合并后只有第一列有标题，其余各列没有标题，其中的内容不会被读取。"
        "请取消合并（合并后居中 › 取消单元格合并），并为每一列填写其标题"
    )


def test_a_heading_merged_down_over_the_hint_row_is_told_not_to_be_filled_down(tmp_path, capsys):
    # (the officer review, session 33) a clerk merges a heading with the template's hint row below it (row 2, its
    # claim id `# application id`) for looks. It was said as merged data, "unmerge and fill the value down": done, the
    # heading 申请编号（claim_id） was copied into A2 and row 2 read as an application of that id (an error record),
    # and left blank, A2 made row 2 a row with no claim id (another). The fix said now leaves the hint row's cells
    # blank and writes `# application id` back into its claim id; done so, the round reads as the example does.
    def edited(name, merge=None, **cells):
        wb = openpyxl.load_workbook(EXAMPLE_XLSX)
        for ref, value in cells.items():
            wb["事项"][ref] = value
        if merge is not None:
            wb["事项"].merge_cells(merge)
        wb.save(tmp_path / name)
        return tmp_path / name

    over_id = edited("id.xlsx", "A1:A2")
    said = _batch_refuses(capsys, tmp_path, over_id)
    assert said == (
        f"error: {over_id} sheet 事项: cells A1:A2 are merged down from the heading row, over the claim id column: a merge "
        "keeps its value in the heading cell only, and the cells below it read as blank. Unmerge them (Merge & Center › "
        "Unmerge Cells) but do not fill the heading down (it would be read as a claim id): in the template's hint row "
        "(row 2), type # application id back into its claim id cell (a row whose claim id begins with # is not read) and "
        "leave the other cells blank, or delete the row; in a row of an application or an item, type back what the cells held\n"
    )
    assert _batch_refuses(capsys, tmp_path, over_id, "zh") == (
        f"错误：{over_id} 工作表 事项：A1:A2 是从标题行向下合并的单元格，包括申请编号列：合并后只有标题格有值，下面各格读作空白。"
        "请取消合并（合并后居中 › 取消单元格合并），但不要把标题向下填充（否则标题会被当作申请编号读取）：第 2 行如是模板的说明行，"
        "请在其申请编号格写回 # application id（申请编号以 # 开头的行不会被读取），其余格留空即可，或删除这一行；"
        "申请或事项所在的行，请填写这些格原有的内容\n"
    )
    beside = edited("beside.xlsx", "H1:H2")  # (专利类型 over its hint: row 2 is still passed over, by its # in A2)
    assert _batch_refuses(capsys, tmp_path, beside, "zh") == (
        f"错误：{beside} 工作表 事项：H1:H2 是从标题行向下合并的单元格：合并后只有标题格有值，下面各格读作空白。"
        "请取消合并（合并后居中 › 取消单元格合并），但不要把标题向下填充：第 2 行如是模板的说明行（不会被读取），这些格留空即可；"
        "申请或事项所在的行，请填写这些格原有的内容\n"
    )
    # the fixes followed: unmerged, the hint row's other cells blank and `# application id` in A2; H2 left blank
    columns = openpyxl.load_workbook(EXAMPLE_XLSX)["事项"].max_column
    blank_hints = {f"{openpyxl.utils.get_column_letter(c)}2": None for c in range(2, columns + 1)}
    args = ["--policy", POLICY, "-q", "--ledger", _ledger(tmp_path), "--lang", "en"]
    for name, path in (("plain", EXAMPLE_XLSX), ("id", edited("id-mended.xlsx", **blank_hints)), ("beside", edited("b.xlsx", H2=None))):
        assert main(["batch", *args, str(path), "--out", str(tmp_path / f"out-{name}")]) == 3
    for name in ("decisions.jsonl", "errors.jsonl"):
        want = (tmp_path / "out-plain" / name).read_text(encoding="utf-8").replace(str(EXAMPLE_XLSX), "X")
        for mended, path in (("id", tmp_path / "id-mended.xlsx"), ("beside", tmp_path / "b.xlsx")):
            assert (tmp_path / f"out-{mended}" / name).read_text(encoding="utf-8").replace(str(path), "X") == want, (mended, name)
    # a merge of data cells keeps its fix (the value filled down), said after the heading's
    both = edited("both.xlsx", "H1:H2")
    wb = openpyxl.load_workbook(both)
    wb["事项"].merge_cells("A3:A4")
    wb.save(both)
    lines = _batch_refuses(capsys, tmp_path, both).splitlines()
    assert [line[: line.index(": a merge")] for line in lines[1:]] == [
        f"  1. {both} sheet 事项: cells H1:H2 are merged down from the heading row",
        f"  2. {both} sheet 事项: cells A3:A4 are merged",
    ]


def test_every_problem_of_a_csv_file_as_a_whole_is_said_at_once(tmp_path, policy):
    rows = [
        ["claim_id", "claim.funding_year", "item.id", "item.type"],
        ["C-1", "2021", "i1", "invention_patent_grant"],
        ["C-1", "2021", "i2", "invention_patent_grant", "a value past the headings"],
        ["#N/A", "2021", "i1", "invention_patent_grant"],
        ["2.02203E+17", "2021", "i1", "invention_patent_grant"],
    ]
    path = tmp_path / "three.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    width = 4
    with pytest.raises(InputError) as caught:
        engine.records.tabular.open_input(path, policy)
    assert str(caught.value) == (
        f"{path}: 3 problems, each to mend before it can be read (all that one reading found):\n"
        f"  1. {path}: rows 3:{width + 1} (row:column) hold more values than the heading row has headings, so they would not "
        "be read (an amount written 100,000.00 without quotes is split by its comma): write amounts without thousands "
        "separators, quote the value, or give the column a heading\n"
        f"  2. {path}: rows 4: the claim id shows a spreadsheet's error value (#N/A, #REF!...: what a cell shows when its "
        "formula fails), so the row's application cannot be told: correct the formula, or type the claim id, and export "
        "the file again\n"
        f"  3. {path}: rows 5: the claim id is a number a spreadsheet rounded (2.02203E+17: the id's last digits are gone), "
        "so rows of different applications may read as one: format the claim id column as text (Format Cells › Text), "
        "type the ids again, and export the file again"
    )


def test_a_refused_workbook_or_csv_file_leaves_no_temporary_file(tmp_path, policy, monkeypatch):
    """The rows read before the refusal are spooled into a temporary SQLite file: a refused input left it behind (one
    file per refusal, as large as the rows read)."""
    import tempfile

    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    wb = openpyxl.load_workbook(EXAMPLE_XLSX)
    wb["事项"]["AZ5"] = "note"
    wb.save(tmp_path / "r.xlsx")
    (tmp_path / "r.csv").write_text("claim_id,nothing\nC-1,x\n", encoding="utf-8")
    for name in ("r.xlsx", "r.csv"):
        with pytest.raises(InputError):
            engine.records.tabular.open_input(tmp_path / name, policy)
    assert list(spool.iterdir()) == []
    engine.records.tabular.open_input(EXAMPLE_XLSX, policy).close()  # (and one read closes its own)
    assert list(spool.iterdir()) == []


def test_a_workbook_whose_formulas_were_never_computed_is_refused_and_says_how_to_fix_it(tmp_path, capsys):
    # a workbook a program wrote with formulas (openpyxl, a system's export) holds no value for them until a
    # spreadsheet saves it: read for values, the cells were blank, so an amount given by a formula was "missing"
    # and the officer, who sees the value in Excel, was told nothing of the formula
    book = _edited_example(tmp_path / "formulas.xlsx", {"事项!K3": "=8000+400", "事项!K4": "=K3"})
    assert _batch_refuses(capsys, tmp_path, book) == (
        f"error: {book} sheet 事项: cells K3, K4 hold a formula whose value was never computed (a "
        "program wrote the workbook and no spreadsheet saved it), so they would read as blank: open the workbook in Excel "
        "or WPS and save it, or type the values in\n"
    )
    assert _batch_refuses(capsys, tmp_path, book, "zh") == (
        f"错误：{tmp_path / 'formulas.xlsx'} 工作表 事项：K3, K4 是公式，但文件中没有它的计算结果（工作簿由程序生成，"
        "未经电子表格软件保存），会被读作空白：请用 Excel 或 WPS 打开该工作簿并保存，或直接填写数值\n"
    )


def test_an_output_is_never_written_over_a_file_the_command_reads(tmp_path, capsys):
    # `evaluate c.json --out c.json` replaced the claim with its decision, `report r.xlsx --out r.xlsx` the workbook
    # with a page, `batch-template OUT --from OUT` the filled workbook with an empty template, `schema P --out P`
    # the policy with a schema
    claim_file = tmp_path / "claim.json"
    shutil.copy(ROOT / "examples" / "claim_enterprise_2021.json", claim_file)
    book = tmp_path / "round.xlsx"
    shutil.copy(ROOT / "examples" / "round_2021.xlsx", book)
    rounds = tmp_path / "round.jsonl"
    shutil.copy(ROOT / "examples" / "round_2021.jsonl", rounds)
    policy = tmp_path / "policy.yaml"
    (tmp_path / "texts").mkdir()
    shutil.copy(ROOT / "policies" / "texts" / "pinggu_ip_measures.zh.txt", tmp_path / "texts")
    shutil.copy(POLICY, policy)
    before = {p: p.read_bytes() for p in (claim_file, book, rounds, policy)}
    cases = [
        (["evaluate", "--policy", str(policy), str(claim_file), "--out", str(claim_file)], claim_file),
        (["explain", "--policy", str(policy), f"{rounds}:2", "--out", str(rounds)], rounds),
        (["report", "--policy", str(policy), str(book), "--out", str(book)], book),
        (["batch-template", "--policy", str(policy), str(book), "--from", str(book)], book),
        (["schema", str(policy), "--out", str(policy)], policy),
        (["evaluate", "--policy", str(policy), str(claim_file), "--out", str(policy)], policy),
    ]
    for args, target in cases:
        capsys.readouterr()
        assert main([*args, "--lang", "en"]) == 2, args
        assert capsys.readouterr().err == f"error: {target}: is a file this command reads; give the output another name\n"
    assert {p: p.read_bytes() for p in before} == before
    assert main(["evaluate", "--policy", str(policy), str(claim_file), "--out", str(tmp_path / "decision.json")]) == 0


def test_batch_template_from_an_input_says_each_application_it_leaves_out(tmp_path, capsys):
    # an application of --from that cannot be read was dropped without a word (exit 0): now each is said, and the
    # exit code (3) says the workbook is not the whole input
    src = tmp_path / "claims.jsonl"
    lines = (ROOT / "examples" / "round_2021.jsonl").read_text(encoding="utf-8").splitlines()
    src.write_text("\n".join([lines[0], '{"claim_id": "PG-2022-0099", ', lines[1]]) + "\n", encoding="utf-8")
    out = tmp_path / "t.xlsx"
    capsys.readouterr()
    assert main(["batch-template", "--policy", POLICY, str(out), "--from", str(src), "--lang", "en"]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"warning: {src}:2: left out of the workbook, it cannot be read: not valid JSON: ")
    assert len(err.strip().splitlines()) == 1
    ws = openpyxl.load_workbook(out)["申请人"]
    filled = [r[0] for r in ws.iter_rows(min_row=2, values_only=True) if r[0] and not str(r[0]).startswith("#")]  # (a "#" row: the hints)
    assert filled == ["PG-2022-0001", "PG-2022-0002"]


def test_evaluate_on_a_folder_of_several_claims_counts_them_once_and_says_nothing_else(tmp_path):
    # the count read the folder twice (3 files said 5), and the folder reader's generator, closed from outside
    # while suspended, printed "Exception ignored ... AttributeError" after the message
    import subprocess
    import sys

    folder = tmp_path / "claims"
    folder.mkdir()
    for n in (1, 2, 3):
        shutil.copy(ROOT / "examples" / "claim_enterprise_2021.json", folder / f"c{n}.json")
    for command in ("evaluate", "explain"):
        r = subprocess.run(
            [sys.executable, "-m", "engine", "--lang", "en", command, "--policy", POLICY, str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert r.returncode == 1
        assert r.stderr == (
            f"error: {folder}: holds 3 applications, and this command takes one; name it as {folder}:1 (line of a .jsonl "
            "file, else the application's number or claim id)\n"
        )


def test_a_workbook_with_an_opening_password_or_an_old_xls_says_which_and_what_to_do(tmp_path, capsys):
    # both are OLE compound files, not zips: each was "File is not a zip file". The encrypted one is
    # examples/round_2021.xlsx encrypted by msoffcrypto-tool 6.1.0 with the password 密码123 (as Excel does it, agile
    # encryption); the old .xls stands as a compound file's header with an empty directory
    old = tmp_path / "old.xlsx"
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    header[0x1E:0x20] = (9).to_bytes(2, "little")  # 512-byte sectors; the directory in sector 0 (after the header)
    old.write_bytes(bytes(header) + b"\x00" * 2048)
    encrypted = ROOT / "tests" / "fixtures" / "round_2021_password.xlsx"
    args = ["--policy", POLICY, "-q", "--ledger", _ledger(tmp_path), "--lang", "en", "--out", str(tmp_path / "o")]
    cases = [
        (
            encrypted,
            "the workbook has an opening password: open it in Excel or WPS, remove the password (File › Info › Protect "
            "Workbook › Encrypt with Password, and clear it), and save it as .xlsx",
        ),
        (old, "an old .xls workbook: open it in Excel or WPS and save it as .xlsx (File › Save As › Excel Workbook)"),
    ]
    for path, reason in cases:
        capsys.readouterr()
        assert main(["batch", *args, str(path)]) == 1
        said = "cannot be read" if path == encrypted else "not a readable .xlsx workbook"  # (not "an .xlsx": it is one)
        assert capsys.readouterr().err == f"error: {path}: {said} ({reason})\n"
    # a file of 0 bytes (a save cut short): it said "not a zip: an old .xls or a renamed file"
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    assert main(["batch", *args, str(empty)]) == 1
    assert capsys.readouterr().err == (
        f"error: {empty}: the file is empty (0 bytes): it was not saved to the end, or is another file of that name; save the "
        "workbook again from Excel or WPS\n"
    )


@pytest.mark.parametrize(("delimiter", "said"), [("\t", "tabs"), (";", "semicolons")])
def test_a_csv_separated_by_tabs_or_semicolons_says_so(tmp_path, capsys, delimiter, said):
    # Excel's "Unicode text" is tab-separated, and a European locale's CSV uses semicolons: the whole header was one
    # column, and the message was "no claim_id column"
    path = tmp_path / "round.csv"
    rows = [_row("C-1"), _row("C-2")]
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]), delimiter=delimiter)
        w.writeheader()
        w.writerows(rows)
    comma = _csv(tmp_path / "comma.csv", rows)
    args = ["--policy", POLICY, "-q", "--ledger", _ledger(tmp_path), "--lang", "en"]
    assert main(["batch", *args, str(comma), "--out", str(tmp_path / "o1")]) == 0  # (the same rows, with commas)
    capsys.readouterr()
    assert main(["batch", *args, str(path), "--out", str(tmp_path / "o2")]) == 1
    assert capsys.readouterr().err == (
        f'error: {path}: its columns are separated by {said}, not commas: save it from Excel or WPS as "CSV UTF-8 (Comma delimited)"\n'
    )


def test_a_json_list_is_read_as_utf8_across_its_chunks_and_a_gbk_one_is_refused(tmp_path, capsys, monkeypatch):
    # the list was decoded chunk by chunk with errors="replace": a character cut by a chunk's end (every 64 KiB)
    # became two U+FFFD, and a GBK file's names were garbled into the decisions without a word
    from engine.records import tabular

    records = [json.loads(x) for x in (ROOT / "examples" / "round_2021.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    text = json.dumps(records, ensure_ascii=False)
    (tmp_path / "round.json").write_text(text, encoding="utf-8")
    (tmp_path / "gbk.json").write_bytes(text.encode("gbk"))
    args = ["--policy", POLICY, "-q", "--ledger", _ledger(tmp_path), "--lang", "en"]
    assert main(["batch", *args, str(ROOT / "examples" / "round_2021.jsonl"), "--out", str(tmp_path / "lines")]) == 3
    monkeypatch.setattr(tabular.JsonListReader, "CHUNK", 7)  # (most characters of 3 bytes cut by some chunk's end)
    assert main(["batch", *args, str(tmp_path / "round.json"), "--out", str(tmp_path / "list")]) == 3
    names = [json.loads(x)["applicant"]["name"] for x in (tmp_path / "list" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert names == [
        json.loads(x)["applicant"]["name"] for x in (tmp_path / "lines" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert "北京平谷示例科技有限公司" in names and not any("\ufffd" in n for n in names)
    capsys.readouterr()
    assert main(["batch", *args, str(tmp_path / "gbk.json"), "--out", str(tmp_path / "gbk")]) == 1
    raw = (tmp_path / "gbk.json").read_bytes()
    first = next(i for i, b in enumerate(raw) if b >= 0x80)  # (the first byte of the first Chinese character)
    assert capsys.readouterr().err.splitlines()[-1] == (  # (after the warning that the test's ledger is not there)
        f"error: {tmp_path / 'gbk.json'}: the JSON file is not UTF-8 text (byte 0x{raw[first]:02x} at offset {first}, as in a "
        "GBK file); save it as UTF-8 (Notepad: Save As › Encoding: UTF-8)"
    )


def _texts_decoded(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """The length of each text `module.name` (a JSON decoder the readers call) is given from now on, in order."""
    lengths: list[int] = []
    real = getattr(module, name)

    def counted(text: str) -> Any:
        lengths.append(len(text))
        return real(text)

    monkeypatch.setattr(module, name, counted)
    return lengths


def test_a_long_element_of_a_json_list_is_decoded_again_only_as_its_text_doubles(tmp_path, monkeypatch):
    # an element not yet whole was decoded again after each 64 KiB chunk: a 10 MB element took 7 s and a 30 MB one
    # 53 s (the time grew with the square of its length). It is now decoded again only once the text held has doubled:
    # an element of 2,000,000 characters is tried with 64 KiB, 128, 256, 512 KiB, 1 and 2 MiB held, and whole at
    # 4 MiB (or the end of the file): 7 tries at most, where each of its 31 chunks made one.
    from engine.records import tabular

    record = json.loads((ROOT / "examples" / "round_2021.jsonl").read_text(encoding="utf-8").splitlines()[0])
    record["applicant"]["name"] = "x" * 2_000_000
    (tmp_path / "long.json").write_text(json.dumps([record, record]), encoding="utf-8")
    tries = _texts_decoded(monkeypatch, tabular, "raw_decode_json")
    reader = tabular.JsonListReader(tmp_path / "long.json")
    try:
        read = [r.data["applicant"]["name"] == "x" * 2_000_000 for r in reader]
    finally:
        reader.close()
    assert read == [True, True]
    assert len(tries) <= 2 * 7, tries


def test_a_json_lines_line_longer_than_a_claim_file_is_passed_over_unread(tmp_path, policy, monkeypatch):
    # a JSON Lines line was read and decoded whole, however long (a 30 MB line took 340 MB to be refused). A line is
    # one application, bounded as a claim file is (2 MiB): a longer one gets its own error record, at its line, and is
    # never decoded nor held whole; the lines around it are decided as without it.
    from engine.records import tabular

    first, second = (ROOT / "examples" / "round_2021.jsonl").read_text(encoding="utf-8").splitlines()[:2]
    long = json.dumps({"claim_id": "LONG", "applicant": {"name": "x" * (2 * 1024 * 1024)}})  # 2,097,152 + 47 bytes
    (tmp_path / "round.jsonl").write_text(f"{first}\n{long}\n{second}\n{long}", encoding="utf-8")  # (the last: no newline)
    decoded = _texts_decoded(monkeypatch, tabular, "loads_json")
    run_batch(policy, tmp_path / "round.jsonl", tmp_path / "out", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    assert max(decoded) < 100_000  # (the two example lines alone)
    decided = [json.loads(line)["claim_id"] for line in (tmp_path / "out" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert decided == [json.loads(first)["claim_id"], json.loads(second)["claim_id"]]
    errors = _lines(tmp_path / "out" / "errors.jsonl")
    assert [(e["where"]["line"], e["claim_id"], e["problems"][0]["message"]) for e in errors] == [
        (2, None, "this line has 2,097,199 bytes, more than one application may have (2,097,152): not read"),
        (4, None, "this line has 2,097,199 bytes, more than one application may have (2,097,152): not read"),
    ]
    assert errors[0]["problems"][0]["expected"] == (
        "one application per line in a JSON Lines file; a JSON list of the whole round ([ {...}, ... ]) goes in a .json file"
    )
    assert tabular.JSONL_MAX_LINE == 2 * 1024 * 1024 == engine.language.source.MAX_BYTES  # (a claim file's bound)


def test_a_json_list_element_longer_than_a_claim_file_is_passed_over_undecoded(tmp_path, policy, monkeypatch):
    # an element of a JSON list round was read and decoded whole, however long (a 30 MB element was held and decoded
    # before it was refused): its end was found only by decoding it. It is now bounded as a JSON Lines line is (2 MiB,
    # in characters here): past the bound it is passed over to its end by its brackets and quotes, a chunk at a time,
    # and gets its own error record; the elements around it are decided as without it. Its text holds what a naive
    # scan would stop at: quotes, brackets and backslashes inside strings, escapes cut by a chunk's end.
    from engine.records import tabular

    first, second = (json.loads(x) for x in (ROOT / "examples" / "round_2021.jsonl").read_text(encoding="utf-8").splitlines()[:2])
    tricky = '] } \\" [ {' * 10
    long = {"claim_id": "LONG", "applicant": {"name": "x\\" * 1_100_000, "notes": [tricky, {"a": [1, 2.5, None, True]}]}}
    text = json.dumps(long, ensure_ascii=False)  # an x and a backslash, written in 3 characters: 3,300,000 and the frame
    assert len(text) > 2 * 1024 * 1024
    (tmp_path / "round.json").write_text(f"[{json.dumps(first)},\n{text} ,\n {json.dumps(second)}, {text}]", encoding="utf-8")
    decoded = _texts_decoded(monkeypatch, tabular, "raw_decode_json")
    run_batch(policy, tmp_path / "round.json", tmp_path / "out", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    assert max(decoded) <= 2 * 1024 * 1024 + tabular.JsonListReader.CHUNK  # never held past the bound and a chunk
    decided = [json.loads(line)["claim_id"] for line in (tmp_path / "out" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert decided == [first["claim_id"], second["claim_id"]]
    errors = _lines(tmp_path / "out" / "errors.jsonl")
    said = f"this application of the list has {len(text):,} characters, more than one application may have (2,097,152): not read"
    assert [(e["where"]["element"], e["where"]["line"], e["problems"][0]["message"]) for e in errors] == [(1, 2, said), (3, 3, said)]


def test_the_end_of_a_json_value_is_found_without_decoding_it_however_its_text_is_cut() -> None:
    # element_end against json's own decoder, on values with what a scan could be fooled by, the text cut anywhere
    from engine.records.tabular import element_end

    values = ['{"a": "x\\"}", "b": [1, {"c": "]"}]}', '"str\\\\"', "123", "[1,[2,[3]]]", "true", '{"a":"\\u00e9\\\\\\""}', "[]", '""']
    for value in values:
        text = value + " , 5]"
        for cut in (1, 2, 3, 5, len(text)):
            state, passed, carry, end = [0, 0, 0], 0, "", None
            for i in range(0, len(text), cut):
                held = carry + text[i : i + cut]
                end, moved = element_end(held, state)
                if end is not None:
                    end += passed
                    break
                passed, carry = passed + moved, held[moved:]
            assert end == json.JSONDecoder().raw_decode(text)[1] == len(value), (value, cut)


def test_explain_given_an_error_record_says_what_it_is(tmp_path, capsys):
    # a line of errors.jsonl was read as an application with no items ("items: missing")
    out = tmp_path / "o"
    assert (
        main(
            [
                "batch",
                "--policy",
                POLICY,
                str(ROOT / "examples" / "round_2021.jsonl"),
                "--out",
                str(out),
                "-q",
                "--ledger",
                _ledger(tmp_path),
            ]
        )
        == 3
    )
    errors = out / "errors.jsonl"
    capsys.readouterr()
    assert main(["explain", "--policy", POLICY, str(errors), "--lang", "en"]) == 1
    assert capsys.readouterr().err == (
        f"error: {errors}: a batch's error record (a line of errors.jsonl), not an application or a decision, so there is "
        "nothing to explain; it says: invalid claim\n"
    )


def test_a_batch_s_own_outputs_given_as_applications_are_said_to_be_what_they_are(tmp_path, capsys):
    # decisions.jsonl given to batch, match or batch-template --from was read as applications: every line refused
    # for its unknown fields ("format", "policy", "standing"...), or, in the template, written as rows
    out = tmp_path / "o"
    args = ["--policy", POLICY, "-q", "--ledger", _ledger(tmp_path), "--lang", "en"]
    assert main(["batch", *args, str(ROOT / "examples" / "round_2021.jsonl"), "--out", str(out)]) == 3
    decision = "a decision (a line of a batch's decisions.jsonl), not an application: give the applications it was decided from"
    record = "a batch's error record (a line of errors.jsonl), not an application: mend the application it names and give that"
    assert main(["batch", *args, str(out / "decisions.jsonl"), "--out", str(tmp_path / "again")]) == 3
    errors = [json.loads(x) for x in (tmp_path / "again" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(errors) == 6 and {e["error"] for e in errors} == {decision}  # (the six decided applications of the round)
    assert errors[0]["said"]["zh"] == "这是一份决定（批量处理 decisions.jsonl 中的一行），不是申请：请提供作出该决定所依据的申请"
    capsys.readouterr()
    assert main(["batch-template", "--policy", POLICY, "--lang", "en", "--from", str(out / "errors.jsonl"), str(tmp_path / "t.xlsx")]) == 3
    assert capsys.readouterr().err == f"warning: {out / 'errors.jsonl'}:1: left out of the workbook, it cannot be read: {record}\n"
    assert main(["match", "--policy", POLICY, str(out / "decisions.jsonl"), "--out", str(tmp_path / "m"), "-q", "--no-notices"]) == 3
    matched = [json.loads(x) for x in (tmp_path / "m" / "matches.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {m["errors"][0]["problems"][0]["message"] for m in matched} == {decision} and not any(m["matches"] for m in matched)


def test_a_damaged_workbook_or_a_zip_that_is_none_says_why_in_the_officer_s_language(tmp_path, capsys):
    # openpyxl's own words came inside the Chinese message ("There is no item named '[Content_Types].xml' in the
    # archive", "ParseError: not well-formed (invalid token): line 1, column 9448")
    with zipfile.ZipFile(ROOT / "examples" / "round_2021.xlsx") as z:
        parts = [(i.filename, z.read(i.filename)) for i in z.infolist()]

    def book(name, parts, stored=False):
        with zipfile.ZipFile(tmp_path / name, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as z:
            for n, data in parts:
                z.writestr(n, data)
        return tmp_path / name

    plain = book("plain.xlsx", [("readme.txt", b"hello")])
    docx = book("docx.xlsx", [("[Content_Types].xml", b'<?xml version="1.0"?><Types/>'), ("word/document.xml", b"<w/>")])
    items = next(n for n, d in parts if n.startswith("xl/worksheets/") and b"item.patent_id" in d)
    bad = book("bad.xlsx", [(n, d.replace(b"<sheetData>", b"<sheetData><<") if n == items else d) for n, d in parts])
    crc = book("crc.xlsx", parts, stored=True)
    data = bytearray(crc.read_bytes())
    at = data.find(b"<sheetData")
    data[at + 50 : at + 52] = b"ZZ"  # (stored, not compressed: the bytes of the sheet itself, its CRC now wrong)
    crc.write_bytes(bytes(data))
    zh = "请用 Excel 或 WPS 另存为 .xlsx"
    not_one = "不是 Excel 工作簿（可能是改了扩展名的 .docx 或其他 zip 文件）"
    cases = [
        (plain, f"错误：{plain}：不是可读取的 .xlsx 工作簿（缺少每个工作簿都有的 [Content_Types].xml：{not_one}）；{zh}"),
        (docx, f"错误：{docx}：不是可读取的 .xlsx 工作簿（缺少每个工作簿都有的 xl/workbook.xml：{not_one}）；{zh}"),
        (bad, f"错误：{bad} 工作表 事项：无法读取（内容已损坏（第 1 行第 "),  # (where the "<<" is)
        (crc, f"错误：{crc}：不是可读取的 .xlsx 工作簿（文件已损坏（压缩数据校验不符）：请从原处重新获取，或重新保存一份）；{zh}"),
    ]
    for path, said in cases:
        args = ["--lang", "zh", "batch", "--policy", POLICY, "-q", "--ledger", _ledger(tmp_path), str(path), "--out", str(tmp_path / "o")]
        assert main(args) == 1
        err = capsys.readouterr().err
        assert err.startswith(said) and "There is no item" not in err and "ParseError" not in err, err


def test_a_workbook_value_in_a_column_with_no_heading_is_refused_not_dropped(tmp_path, capsys):
    # a value past the last heading (or under a blank one) was never read, and nothing said so: the application was
    # decided without it
    def with_cells(name, *cells):
        wb = openpyxl.load_workbook(ROOT / "examples" / "round_2021.xlsx")
        for sheet, ref, value in cells:
            wb[sheet][ref] = value
        wb.save(tmp_path / name)
        return tmp_path / name

    args = ["--policy", POLICY, "-q", "--ledger", _ledger(tmp_path), "--lang", "en"]
    last = openpyxl.load_workbook(ROOT / "examples" / "round_2021.xlsx")["申请人"].max_column  # the headings' width
    assert last == 13  # (申请人: A..M, as the template writes them)
    one = with_cells("one.xlsx", ("申请人", "Z3", "是"))
    many = with_cells("many.xlsx", *[("事项", f"AH{r}", "8000.00") for r in range(3, 8)])  # (row 2: the "#" hints)
    for path, sheet, said in (
        (one, "申请人", "cells Z3 hold"),
        (many, "事项", "cells AH3, AH4, AH5 and 2 more hold"),
    ):
        capsys.readouterr()
        assert main(["batch", *args, str(path), "--out", str(tmp_path / f"o-{path.stem}")]) == 1
        assert capsys.readouterr().err.splitlines()[-1] == (
            f"error: {path} sheet {sheet}: {said} values in a column with no heading, so they would not be read: give the "
            "column a heading the sheet knows, or clear them"
        )
    # blank text is no value, and a "#" row (the template's hints) is not read at all
    fine = with_cells("fine.xlsx", ("申请人", "Z3", "   "), ("事项", "AH2", "a note beside the hints"))
    assert main(["batch", *args, str(fine), "--out", str(tmp_path / "o-fine")]) == 3


def test_a_claim_id_showing_an_excel_error_value_is_refused_not_skipped(tmp_path, capsys):
    # a claim id cell whose formula failed (a VLOOKUP that found nothing) shows #N/A: it starts with '#', as the
    # template's hint rows do, so the row was skipped without a word: PG-2022-0001 was decided without its item l2,
    # and #REF! in both sheets made an application vanish
    book = _edited_example(tmp_path / "na.xlsx", {"事项!A5": "#N/A"})  # (openpyxl writes it as an error cell, t="e", as Excel does)
    assert _batch_refuses(capsys, tmp_path, book) == (
        f"error: {book} sheet 事项: cells A5 of the claim id column show a spreadsheet's error value (#N/A, "
        "#REF!...: what a cell shows when its formula fails), so their rows' applications cannot be told: correct the "
        "formula, or type the claim ids, and save the workbook again\n"
    )
    path = _csv(tmp_path / "r.csv", [_row("C-1"), _row("#REF!"), _row("# a hint row, not read")])
    assert _batch_refuses(capsys, tmp_path, path, "zh") == (
        f"错误：{path}：第 3 行的申请编号是电子表格的错误值（#N/A、#REF! 等，公式出错时单元格显示的内容），无法判断该行属于哪份申请："
        "如是公式得出的请改正公式，否则直接填写申请编号，再重新导出文件\n"
    )


def _error_record(policy: engine.CompiledPolicy, book: Path, tmp_path: Path, claim_id: str) -> dict[str, Any]:
    """`book` run as a batch into tmp_path/out; the error record of `claim_id` there (exactly one)."""
    run_batch(policy, book, tmp_path / "out", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    [record] = [r for r in _lines(tmp_path / "out" / "errors.jsonl") if r["claim_id"] == claim_id]
    return record


def _error_value_said(value: str) -> str:
    """The English message of a data cell holding a spreadsheet's error value (`value` as quoted)."""
    return (
        f"{value} stands for a spreadsheet's error value (what a cell shows when its formula fails, such as a VLOOKUP that "
        'found nothing), never a value of a column: if a formula gave it, correct the formula; if it was typed (to mean "not '
        "applicable\", say), type the cell's value instead, or leave the cell empty where there is none"
    )


def test_a_cell_showing_an_excel_error_value_is_its_applications_error_not_its_text(tmp_path, policy):
    # (the officer review, session 33) a cell whose formula failed shows #N/A (a VLOOKUP of the applicant's name that
    # found nothing) or #REF!: it was read as that text, and the application decided on it -- an applicant named
    # #N/A, a patent whose right holder was #REF! (nobody: its item refused). Such a cell is its application's error,
    # said as an error value with the fix, in a workbook (an error cell, t="e") and in a CSV file (the text Excel
    # exports for it).
    book = _edited_example(tmp_path / "na.xlsx", {"申请人!F4": "#N/A", "事项!J3": "#REF!"})
    run_batch(policy, book, tmp_path / "out", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    decided = {d["claim_id"] for d in _lines(tmp_path / "out" / "decisions.jsonl")}
    assert not decided & {"PG-2022-0001", "PG-2022-0002"}
    said = {r["claim_id"]: r for r in _lines(tmp_path / "out" / "errors.jsonl")}
    assert said["PG-2022-0001"]["problems"] == [
        {"file": str(book), "sheet": "事项", "row": 3, "field": "item.right_holders", "message": _error_value_said("'#REF!'")}
    ]
    assert said["PG-2022-0002"]["problems"] == [
        {"file": str(book), "sheet": "申请人", "row": 4, "field": "applicant.name", "message": _error_value_said("'#N/A'")}
    ]
    zh = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    [name] = [r["problems"][0]["said"]["zh"]["message"] for r in zh if r["claim_id"] == "PG-2022-0002"]
    assert (
        name == "'#N/A' 在电子表格中表示错误值（公式出错时单元格显示的内容，如 VLOOKUP 没有找到要查找的值），不能作为本栏的内容："
        "如是公式得出的，请改正公式；如是手工填写的（如想表示“不适用”），请改填实际内容，没有的请留空"
    )
    path = _csv(tmp_path / "r.csv", [_row("C-1", **{"applicant.name": "#N/A"}), _row("C-2")])
    s = run_batch(policy, path, tmp_path / "out-csv", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    assert (s.applications, s.decided, s.failed) == (2, 1, 1)
    [record] = _lines(tmp_path / "out-csv" / "errors.jsonl")
    assert record["problems"] == [{"file": str(path), "row": 2, "field": "applicant.name", "message": _error_value_said("'#N/A'")}]


def test_an_error_value_typed_in_lower_case_is_caught_as_one(tmp_path, policy):
    # (the officer review, session 33) a hand-typed #n/a is Excel's #N/A (it reads error values in any case), but only
    # the upper-case form was caught: an applicant named '#n/a' was decided. A text that only contains such a string
    # is a text (PG-2022-0003's name is read as written, and its application decided).
    book = _edited_example(tmp_path / "na.xlsx", {"申请人!F4": "#n/a", "事项!J3": " #Ref! ", "申请人!F5": "平谷区知识产权联盟#n/a"})
    s = run_batch(policy, book, tmp_path / "out", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    # the example's 7 applications, 6 decided: now PG-2022-0001 (#Ref!) and PG-2022-0002 (#n/a) fail too
    assert (s.applications, s.decided, s.failed) == (7, 4, 3)
    said = {r["claim_id"]: r for r in _lines(tmp_path / "out" / "errors.jsonl")}
    assert said["PG-2022-0001"]["problems"] == [
        {"file": str(book), "sheet": "事项", "row": 3, "field": "item.right_holders", "message": _error_value_said("'#Ref!'")}
    ]
    assert said["PG-2022-0002"]["problems"] == [
        {"file": str(book), "sheet": "申请人", "row": 4, "field": "applicant.name", "message": _error_value_said("'#n/a'")}
    ]
    [decision] = [d for d in _lines(tmp_path / "out" / "decisions.jsonl") if d["claim_id"] == "PG-2022-0003"]
    assert decision["applicant"]["name"] == "平谷区知识产权联盟#n/a"
    path = _csv(tmp_path / "r.csv", [_row("C-1", **{"applicant.name": "#n/a"}), _row("C-2")])
    s = run_batch(policy, path, tmp_path / "out-csv", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    assert (s.applications, s.decided, s.failed) == (2, 1, 1)
    [record] = _lines(tmp_path / "out-csv" / "errors.jsonl")
    assert record["problems"] == [{"file": str(path), "row": 2, "field": "applicant.name", "message": _error_value_said("'#n/a'")}]


def test_an_error_value_typed_by_hand_is_not_said_to_come_from_a_formula(tmp_path, policy):
    # (the officer review, session 33) '#n/a' typed into a CSV file (which holds no formula: a clerk's "not
    # applicable") was told 公式出错 and "not what was written", as a failed VLOOKUP is. The words now hold for both: an
    # error value's text, from a formula or typed, with the fix of each. Row 2 is C-1's only row (the header is row 1).
    path = _csv(tmp_path / "r.csv", [_row("C-1", **{"applicant.name": "#n/a"}), _row("C-2")])
    s = run_batch(policy, path, tmp_path / "out", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    assert (s.applications, s.decided, s.failed) == (2, 1, 1)
    [record] = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    [problem] = record["problems"]
    assert (problem["row"], problem["field"]) == (2, "applicant.name")
    assert problem["said"]["zh"]["message"] == (
        "'#n/a' 在电子表格中表示错误值（公式出错时单元格显示的内容，如 VLOOKUP 没有找到要查找的值），不能作为本栏的内容："
        "如是公式得出的，请改正公式；如是手工填写的（如想表示“不适用”），请改填实际内容，没有的请留空"
    )
    assert "公式出错，" not in problem["said"]["zh"]["message"] and "不是填写的内容" not in problem["said"]["zh"]["message"]


def test_a_date_typed_as_a_number_is_said_as_the_number_it_is(tmp_path, policy):
    # (the officer review, session 33) 20210305 typed in a date column is a number cell, but was quoted '20210305'
    # as if text, with the text's fix. It is said as a number, with 2021-03-05 to write when its digits read as a
    # date (YYYYMMDD); 20211399 (month 13) is no date, so only the form is said.
    book = _edited_example(tmp_path / "n.xlsx", {"事项!D3": 20210305, "事项!D4": 20211399})
    record = _error_record(policy, book, tmp_path, "PG-2022-0001")
    assert [(p["row"], p["field"], p["message"]) for p in record["problems"]] == [
        (3, "item.date", "20210305 is a number, not a date: a date is written YYYY-MM-DD (year-month-day): write 2021-03-05"),
        (4, "item.date", "20211399 is a number, not a date: a date is written YYYY-MM-DD (year-month-day)"),
    ]
    zh = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    [said] = [[p["said"]["zh"]["message"] for p in r["problems"]] for r in zh if r["claim_id"] == "PG-2022-0001"]
    assert said == [
        "20210305 是数字而不是日期：日期请按 YYYY-MM-DD（年-月-日）书写，请写作 2021-03-05",
        "20211399 是数字而不是日期：日期请按 YYYY-MM-DD（年-月-日）书写",
    ]


def test_an_item_id_used_twice_in_a_sheet_names_the_row_of_the_other_item(tmp_path, policy):
    # (the officer review, session 33) the item of row 4 given row 3's id p1 was said "already the id of the claim's
    # item 1 (items[0])": a place in a JSON claim the officer never sees. The other item is named by its row.
    book = _edited_example(tmp_path / "twice.xlsx", {"事项!B4": "p1"})
    record = _error_record(policy, book, tmp_path, "PG-2022-0001")
    assert record["problems"] == [
        {
            "file": str(book),
            "sheet": "事项",
            "row": 4,
            "field": "item.id",
            "message": "item id 'p1' is already the id of the item in row 3",
            "expected": "ids unique within the claim",
        }
    ]
    zh = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    [said] = [r["problems"][0]["said"]["zh"]["message"] for r in zh if r["claim_id"] == "PG-2022-0001"]
    assert said == "事项编号 'p1' 已被第 3 行的事项使用"
    path = _csv(tmp_path / "r.csv", [_row("C-1"), _row("C-2"), _row("C-1")])  # (both of C-1's rows: item t1)
    run_batch(policy, path, tmp_path / "out-csv", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    [record] = _lines(tmp_path / "out-csv" / "errors.jsonl")
    assert [(p["row"], p["message"]) for p in record["problems"]] == [(4, "item id 't1' is already the id of the item in row 2")]


def test_a_date_cell_with_a_time_of_day_says_the_date_to_write(tmp_path, policy):
    # (the officer review, session 33) a date cell holding 14:30 as well (=NOW(), or a date and time pasted from a
    # system) was said "has a time of day; a date is expected", without the date to write, as every other slip gives
    book = _edited_example(tmp_path / "time.xlsx", {"事项!D3": dt.datetime(2021, 6, 18, 14, 30)})
    record = _error_record(policy, book, tmp_path, "PG-2022-0001")
    assert [(p["sheet"], p["row"], p["field"], p["message"]) for p in record["problems"]] == [
        (
            "事项",
            3,
            "item.date",
            "2021-06-18 14:30:00 has a time of day (a cell may show the date alone, and a formula such as =NOW() gives the "
            "time too): a date is expected here, without a time: write 2021-06-18",
        )
    ]
    zh = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    [said] = [r["problems"][0]["said"]["zh"]["message"] for r in zh if r["claim_id"] == "PG-2022-0001"]
    assert (
        said
        == "2021-06-18 14:30:00 带有时刻（单元格可能只显示日期；=NOW() 等公式的结果也带有时刻）：此处只填日期，不带时间：请写作 2021-06-18"
    )


def test_a_totals_row_at_the_foot_of_a_sheet_is_said_as_one(tmp_path, policy):
    # (the officer review, session 33) an office sums its items at the foot of the sheet, 合计 in the first column:
    # the row was the application 合计, told to add an applicants row for it (in a CSV file, each fact of 合计
    # missing). It is still not decided (an error record, nothing dropped unsaid), and is said as a totals row. The
    # fix's words fit every command that reads the sheet (match and report too, which write no summary.xlsx: it
    # used to send the officer to batch's summary.xlsx for the totals).
    message = "the claim id is {}: the row looks like a totals row, not an application"
    fix = "the totals row deleted (a totals row in the sheet is not read, and none is needed); if it is an application, another claim id"
    wb = openpyxl.load_workbook(ROOT / "examples" / "round_2021.xlsx")
    wb["事项"]["A17"], wb["事项"]["K17"] = "合 计", 8412.35  # (after row 16, the sheet's last)
    wb.save(tmp_path / "totals.xlsx")
    run_batch(policy, tmp_path / "totals.xlsx", tmp_path / "out", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    [record] = [r for r in _lines(tmp_path / "out" / "errors.jsonl") if r["claim_id"] == "合 计"]
    where = {"file": str(tmp_path / "totals.xlsx"), "sheet": "事项", "row": 17}
    assert record["problems"] == [{**where, "field": "claim_id", "message": message.format("'合 计'"), "expected": fix}]
    zh = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    [said] = [r["problems"][0]["said"]["zh"] for r in zh if r["claim_id"] == "合 计"]
    assert said == {
        "message": "申请编号写作 '合 计'：这一行像是合计行，而不是一份申请",
        "expected": "删除合计行（工作表中的合计行不会被读取，也无需填写）；确是一份申请的，请改用其他申请编号",
    }
    path = _csv(tmp_path / "r.csv", [_row("C-1"), dict.fromkeys(_row("C-1"), "") | {"claim_id": "总计："}])
    s = run_batch(policy, path, tmp_path / "out-csv", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    assert (s.applications, s.decided, s.failed) == (2, 1, 1)
    [record] = _lines(tmp_path / "out-csv" / "errors.jsonl")
    assert record["problems"] == [
        {"file": str(path), "row": 3, "field": "claim_id", "message": message.format("'总计：'"), "expected": fix}
    ]


def test_a_totals_row_with_no_claim_id_is_said_as_one_and_holds_nothing_back(tmp_path, policy):
    # (the officer review, session 33) a totals row at the foot of the items sheet with its claim id left blank,
    # 合计 under another text column and a sum beside it, was read as rows of the application above it written
    # without its id: PG-2022-0007 was held back and the officer told to write its id on the totals row. It is an
    # error record of its own, said as a totals row under the column that says 合计; PG-2022-0007 is decided.
    wb = openpyxl.load_workbook(ROOT / "examples" / "round_2021.xlsx")
    wb["事项"].append([None] * 9 + ["合计", 17400])  # row 17: J is item.right_holders, K item.official_fees_paid
    wb.save(tmp_path / "totals.xlsx")
    s = run_batch(policy, tmp_path / "totals.xlsx", tmp_path / "out", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    # the example's 7 applications (6 decided, PG-2022-0006's 12.345 an error) and the totals row's error record
    assert (s.applications, s.decided, s.failed) == (8, 6, 2)
    records = _lines(tmp_path / "out" / "errors.jsonl")
    assert [r["claim_id"] for r in records] == ["PG-2022-0006", None]
    where = {"file": str(tmp_path / "totals.xlsx"), "sheet": "事项", "row": 17}
    assert records[1]["problems"] == [
        {
            **where,
            "field": "item.right_holders",
            "message": "the row has no claim id, and this column says '合计': the row looks like a totals row, not an application or an item",
            "expected": "the totals row deleted (a totals row in the sheet is not read, and none is needed); if it is an application or an item, its claim id",
        }
    ]
    zh = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert zh[1]["problems"][0]["said"]["zh"] == {
        "message": "这一行没有填写申请编号，此栏写作 '合计'：像是合计行，而不是申请或事项",
        "expected": "删除合计行（工作表中的合计行不会被读取，也无需填写）；确是申请或事项的，请填写其申请编号",
    }
    # PG-2022-0007 decided as without the row: the platform service item, 50% of a 900,000.00 fee (cap 1,000,000)
    [decision] = [d for d in _lines(tmp_path / "out" / "decisions.jsonl") if d["claim_id"] == "PG-2022-0007"]
    assert Decimal(decision["total"]) == Decimal("450000.00")
    # a CSV file's the same: C-1 decided, the totals row (合计 under applicant.name) its own error record
    path = _csv(tmp_path / "r.csv", [_row("C-1"), dict.fromkeys(_row("C-1"), "") | {"applicant.name": " 合 计 "}])
    s = run_batch(policy, path, tmp_path / "out-csv", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    assert (s.applications, s.decided, s.failed) == (2, 1, 1)
    [record] = _lines(tmp_path / "out-csv" / "errors.jsonl")
    assert [(p["row"], p["field"], p["message"]) for p in record["problems"]] == [
        (
            3,
            "applicant.name",
            "the row has no claim id, and this column says '合 计': the row looks like a totals row, not an application or an item",
        )
    ]


def test_a_line_break_inside_a_name_says_alt_enter_not_a_control_character(tmp_path, policy):
    # (the officer review, session 33) a long name broken over two lines in its cell (Alt+Enter) was refused as
    # "contains control characters (U+000A at character 9)": true, but no officer knows U+000A as a line break
    book = _edited_example(tmp_path / "break.xlsx", {"申请人!F4": "北京平谷样例农业\n科技有限公司"})
    record = _error_record(policy, book, tmp_path, "PG-2022-0002")
    assert [(p["sheet"], p["row"], p["field"], p["message"]) for p in record["problems"]] == [
        (
            "申请人",
            4,
            "applicant.name",
            "'北京平谷样例农业\\n科技有限公司' has a line break inside (Alt+Enter in the cell): delete it and write the text on one line",
        )
    ]
    zh = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    [said] = [r["problems"][0]["said"]["zh"]["message"] for r in zh if r["claim_id"] == "PG-2022-0002"]
    assert said == "'北京平谷样例农业\\n科技有限公司' 中间有换行（在单元格内按 Alt+Enter 换了行）：请删去换行，写在一行内"


def test_rows_skipped_as_comments_that_are_not_the_templates_hints_are_said(tmp_path, policy):
    # (the officer review, session 33) a row whose claim id begins with # is a comment (the template's hint rows:
    # `# application id`, `#示例-1`), so an application numbered #PG-2022-0002 was neither decided nor an error
    # record, and nothing said so. It is still not read (the template's convention), and the run says which rows.
    book = _edited_example(tmp_path / "hash.xlsx", {"申请人!A4": "#PG-2022-0002", "事项!A9": "#PG-2022-0002", "事项!A10": "#PG-2022-0002"})
    reader = engine.records.tabular.open_input(book, policy)
    try:
        ids = [r.claim_id for r in reader]
        notices = reader.notices()
    finally:
        reader.close()
    assert "#PG-2022-0002" not in ids and "PG-2022-0002" not in ids and len(ids) == 6  # (7 applications, one skipped)
    assert [str(n) for n in notices] == [
        f"{book} sheet 申请人: 1 row(s) whose claim id begins with # (rows 4, e.g. '#PG-2022-0002') were taken as comments and "
        "not read. If any is an application or an item, remove the # before its claim id",
        f"{book} sheet 事项: 2 row(s) whose claim id begins with # (rows 9–10, e.g. '#PG-2022-0002') were taken as comments and "
        "not read. If any is an application or an item, remove the # before its claim id",
    ]  # (row 2 of each sheet, the template's `# application id`, is not among them)
    assert engine.core.i18n.tr(notices[0], "zh") == (
        f"{book} 工作表 申请人：有 1 行的申请编号以 # 开头（第 4 行，如 '#PG-2022-0002'），按注释行处理，没有读取。"
        "其中有申请或事项的，请去掉申请编号前的 #"
    )
    # the empty template's hint rows (its English row, its example application #示例-1) are said nothing of
    template = tmp_path / "template.xlsx"
    assert main(["batch-template", "--policy", POLICY, str(template)]) == 0
    wb = openpyxl.load_workbook(template)
    wb["申请人"].append([c.value for c in wb["申请人"][3]])
    wb["申请人"]["A4"] = "C-1"
    wb.save(template)
    reader = engine.records.tabular.open_input(template, policy)
    try:
        assert [r.claim_id for r in reader] == ["C-1"] and reader.notices() == []
    finally:
        reader.close()
    path = _csv(tmp_path / "r.csv", [_row("C-1"), _row("#C-2"), _row("# a note of the officer's")])
    reader = engine.records.tabular.open_input(path, policy)
    try:
        assert [r.claim_id for r in reader] == ["C-1"]
        # (the CSV's few columns are said too: `sheet.missing_columns` and `_blank`, tests/test_slips_files.py)
        assert [str(n) for n in reader.notices() if not n.key.startswith("sheet.missing_columns")] == [
            f"{path}: 2 row(s) whose claim id begins with # (rows 3–4, e.g. '#C-2') were taken as comments and not read. If "
            "any is an application or an item, remove the # before its claim id"
        ]
    finally:
        reader.close()


def test_a_claim_id_a_spreadsheet_rounded_or_made_a_date_is_refused_not_merged(tmp_path, capsys):
    # (the officer red team, session 23) an 18-digit claim id typed into a General column is a number: Excel keeps 15
    # digits (202203150000000001 and ...0006 both read 202203150000000000) and exports it to CSV as 2.02203E+17, so two
    # applications of one applicant were decided as one, exit 0; an id Excel took for a date read 2021-01-01 00:00:00
    long_number = _edited_example(tmp_path / "long.xlsx", {"申请人!A3": 202203150000000001, "事项!A3": 202203150000000001})
    as_date = _edited_example(tmp_path / "date.xlsx", {"申请人!A3": dt.datetime(2021, 1, 1)})
    said = (
        "cells A3 of the claim id column hold what a spreadsheet made of the ids (a number of more than 15 digits has "
        "lost its last ones; 2.02203E+17 is a rounded number; or the id was taken for a date), so their rows' applications "
        "cannot be told apart: format the column as text (Format Cells › Text), type the claim ids again, and save the workbook"
    )
    assert _batch_refuses(capsys, tmp_path, as_date) == f"error: {as_date} sheet 申请人: {said}\n"
    # (both sheets' cells at once: the items sheet's was said only once the applicants sheet's was mended)
    assert _batch_refuses(capsys, tmp_path, long_number) == (
        f"error: {long_number}: 2 problems, each to mend before it can be read (all that one reading found):\n"
        f"  1. {long_number} sheet 申请人: {said}\n  2. {long_number} sheet 事项: {said}\n"
    )
    path = _csv(tmp_path / "r.csv", [_row("2.02203E+17"), _row("2.02203E+17"), _row("C-3")])
    assert _batch_refuses(capsys, tmp_path, path, "zh") == (
        f"错误：{path}：第 2, 3 行的申请编号是被电子表格四舍五入的数字（如 2.02203E+17，末几位已丢失），不同申请的行可能被当作"
        "同一份申请：请将申请编号列设置为文本格式（设置单元格格式 › 文本），重新输入编号后再导出文件\n"
    )
    # a short number is the id as typed (1001 reads "1001"), as before
    fine = _csv(tmp_path / "fine.csv", [_row("1001")])
    assert main(["batch", "--policy", POLICY, "-q", "--ledger", _ledger(tmp_path), str(fine), "--out", str(tmp_path / "o-fine")]) == 0
    assert [
        json.loads(line)["claim_id"] for line in (tmp_path / "o-fine" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    ] == ["1001"]


def test_a_csv_value_past_the_headings_is_refused_not_dropped(tmp_path, capsys):
    # an amount written 100,000.00 without quotes (an office system's export) is split by its comma: the second
    # part was past the last heading and dropped, and the amount read as 100.00; a workbook refuses the same
    path = tmp_path / "r.csv"
    rows = [_row("C-1"), _row("C-2")]
    _csv(path, rows)
    text = path.read_text(encoding="utf-8").splitlines()
    text[2] += ",000.00"  # (C-2's row: one value more than the headings)
    path.write_text("\r\n".join([*text, ""]), encoding="utf-8")
    args = ["--policy", POLICY, "-q", "--ledger", _ledger(tmp_path), "--lang", "en"]
    assert main(["batch", *args, str(path), "--out", str(tmp_path / "o")]) == 1
    assert capsys.readouterr().err == (
        f"error: {path}: rows 3:{len(rows[0]) + 1} (row:column) hold more values than the heading row has headings, so they "
        "would not be read (an amount written 100,000.00 without quotes is split by its comma): write amounts without "
        "thousands separators, quote the value, or give the column a heading\n"
    )
    _csv(path, rows)  # (a trailing empty column, as Excel writes one, is still read)
    path.write_text("\r\n".join(line + "," for line in path.read_text(encoding="utf-8").splitlines()) + "\r\n", encoding="utf-8")
    assert main(["batch", *args, str(path), "--out", str(tmp_path / "o")]) == 0


def test_an_id_number_typed_into_a_number_cell_is_refused_not_misread(tmp_path, capsys):
    # Excel keeps 15 digits of a number: 110117198503122507 typed into a General cell is stored 1.10117198503123E+17,
    # read as 110117198503123008, and about one such number in eleven still passed its check character: the
    # application was decided, and its caps and history counted, under another person's ID
    _edited_example(tmp_path / "id.xlsx", {"申请人!E3": 1.10117198503123e17})  # (PG-2022-0001's applicant.id)
    out = tmp_path / "o"
    args = ["--policy", POLICY, "-q", "--ledger", _ledger(tmp_path), "--lang", "en"]
    assert main(["batch", *args, str(tmp_path / "id.xlsx"), "--out", str(out)]) == 3
    [record] = [e for e in _lines(out / "errors.jsonl") if e["claim_id"] == "PG-2022-0001"]
    assert record["problems"][0]["field"] == "applicant.id"
    assert record["problems"][0]["message"] == (
        "1.10117198503123e+17 is a number cell: a spreadsheet keeps only 15 digits of a number, so a longer code (an ID "
        "number, a credit code) has lost its last digits: format the column as text (Format Cells › Text) and type the code again"
    )
    assert "PG-2022-0001" not in (out / "decisions.jsonl").read_text(encoding="utf-8")
    path = _csv(tmp_path / "r.csv", [_row("C-1", **{"applicant.id": "1.10117E+17"})])  # (what Excel's CSV export writes)
    assert main(["batch", *args, str(path), "--out", str(tmp_path / "c")]) == 3
    [record] = _lines(tmp_path / "c" / "errors.jsonl")
    assert record["problems"][0]["message"].startswith("'1.10117E+17' is a number cell: a spreadsheet keeps only 15 digits")


def test_an_application_given_again_in_a_round_is_decided_once(tmp_path, capsys):
    # a folder holding a workbook and its CSV export (or a JSON Lines file with a copied line): every application
    # was decided twice, and the round's approved total doubled (2,984,400 for 1,492,200), with no warning
    folder = tmp_path / "第一批 申报"
    folder.mkdir()
    shutil.copy(ROOT / "examples" / "round_2021.xlsx", folder / "甲 区.xlsx")
    shutil.copy(ROOT / "examples" / "round_2021.jsonl", folder / "乙 区.jsonl")
    out = tmp_path / "o"
    args = ["--policy", POLICY, "-q", "--ledger", _ledger(tmp_path), "--lang", "en"]
    assert main(["batch", *args, str(ROOT / "examples" / "round_2021.xlsx"), "--out", str(tmp_path / "alone")]) == 3
    alone = json.loads((tmp_path / "alone" / "summary.json").read_text(encoding="utf-8"))
    assert main(["batch", *args, str(folder), "--out", str(out)]) == 3
    both = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert both["approved_total"] == alone["approved_total"]  # (decided once: the JSON Lines file's, first by name)
    decided = [json.loads(x)["claim_id"] for x in (out / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(decided) == len(set(decided)) == 6
    again = [e for e in _lines(out / "errors.jsonl") if e["problems"][0]["message"].startswith("claim id ")]
    assert [e["claim_id"] for e in again] == [f"PG-2022-000{n}" for n in range(1, 8)]  # the workbook's seven
    assert again[0]["problems"][0]["message"] == (
        f"claim id 'PG-2022-0001' again: it was first given at {folder / '乙 区.jsonl'}:1; an application is "
        "decided once in a round, so this one is not: remove the repeat (an amended application is committed in a later run, as a "
        "replacement: batch --commit --replace)"
    )
    # committing with --replace: the repeat replaced the application just committed, and the run counted both (its
    # summary 2,984,400 against the ledger's 1,492,200); a repeat is the same error record
    assert main(["batch", *args, str(folder), "--out", str(tmp_path / "r"), "--commit", "--replace"]) == 3
    replaced = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
    assert replaced["approved_total"] == alone["approved_total"] and replaced["ledger"]["replaced"] == 0


def test_a_date_cell_where_a_number_goes_is_said_as_a_date_not_as_python_writes_it(tmp_path):
    # a funding year typed as a date (Excel made it 2021-01-01): "datetime.datetime(2021, 1, 1, 0, 0) 不是整数"
    _edited_example(tmp_path / "dt.xlsx", {"申请人!B3": dt.datetime(2021, 1, 1)})  # (PG-2022-0001's claim.funding_year)
    run_batch(engine.load_policy(POLICY), tmp_path / "dt.xlsx", tmp_path / "o", quiet=True, report=False, ledger_url=_ledger(tmp_path))
    [record] = [
        e
        for e in map(json.loads, (tmp_path / "o" / "errors.jsonl").read_text(encoding="utf-8").splitlines())
        if e["claim_id"] == "PG-2022-0001"
    ]
    [problem] = record["problems"]
    assert (problem["field"], problem["said"]["zh"]["message"]) == ("claim.funding_year", "2021-01-01 不是整数")


def test_a_title_row_above_the_headings_says_to_delete_it(tmp_path, capsys):
    # an office's export with its title in the first row ("2021年度平谷区知识产权资助申请汇总表"): the whole file was
    # refused as an unknown column, with the list of every column, and no word of the title row
    title = "2021年度平谷区知识产权资助申请汇总表"
    path = tmp_path / "r.csv"
    _csv(path, [_row("C-1")])
    path.write_text(title + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert _batch_refuses(capsys, tmp_path, path, "zh") == (
        f"错误：{path}：第一行只有 '{title}'，不是任何一列的标题：标题必须位于第一行；请删除标题行（以及标题之上的其他行）\n"
    )
    wb = openpyxl.load_workbook(ROOT / "examples" / "round_2021.xlsx")
    wb["申请人"].insert_rows(1)
    wb["申请人"]["A1"] = title
    wb.save(tmp_path / "titled.xlsx")
    assert _batch_refuses(capsys, tmp_path, tmp_path / "titled.xlsx") == (
        f"error: {tmp_path / 'titled.xlsx'} sheet 申请人: the first row holds only '{title}', which is no column's heading: "
        "the headings must be in the first row; delete the title row (and any row above the headings)\n"
    )


def test_batch_template_never_replaces_an_existing_workbook_unless_forced(tmp_path, capsys):
    # `batch-template OUT.xlsx` on a filled workbook replaced its applications with an empty template, exit 0
    book = tmp_path / "filled.xlsx"
    shutil.copy(ROOT / "examples" / "round_2021.xlsx", book)
    before = book.read_bytes()
    capsys.readouterr()
    assert main(["batch-template", "--policy", POLICY, str(book), "--lang", "en"]) == 2
    assert capsys.readouterr().err == (
        f"error: {book} already exists: not written, so a filled workbook is not replaced; choose another name, or add --force to replace it\n"
    )
    assert book.read_bytes() == before
    assert main(["batch-template", "--policy", POLICY, str(book), "--force"]) == 0
    assert book.read_bytes() != before


def test_batch_template_says_what_of_a_claim_it_cannot_write(tmp_path, capsys):
    # a claim's `history` (earlier grants) was dropped without a word: the workbook read back paid an insurance
    # premium of 50,000 at 50% = 25,000 where the claim, 90,000 of the 100,000 yearly cap used (R12), gets 10,000
    line = (ROOT / "examples" / "round_2021.jsonl").read_text(encoding="utf-8").splitlines()[1]
    claim = json.loads(line)
    aid = claim["applicant"]["id"]
    claim["history"] = [
        {
            "claim_id": "EARLIER-1", "item_id": "h1", "rule": "patent-insurance", "applicant_id": aid, "funding_year": 2021,
            "amount": "90000.00",
            "consumes": [{"cap": "insurance-annual-cap", "scope": [aid, 2021], "amount": "90000.00"},
                         {"limit": "insurance-two-years", "scope": [aid], "counts": [2021]}],
        }
    ]  # fmt: skip
    claim["items"][0]["stamp_duty"] = "5.00"  # a fact the policy does not name: no column either
    claim["items"][0]["nothing"] = None  # (a value that is nothing loses nothing: not said)
    src = tmp_path / "claims.jsonl"
    src.write_text(json.dumps(claim, ensure_ascii=False) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["batch-template", "--policy", POLICY, str(tmp_path / "t.xlsx"), "--from", str(src), "--lang", "en"]) == 3
    err = capsys.readouterr().err
    assert err == (
        f"warning: {src}:1: not written, the workbook having no column for them: history, item.stamp_duty. Read back, the"
        " application would be decided without them (earlier grants: give batch the ledger, --ledger)\n"
    )


def test_a_cell_of_many_spaces_is_read_in_one_pass(monkeypatch) -> None:
    """A right holders' cell of 30,000 spaces between two names took 4 s (a pattern `\\s*[、，]\\s*` ran each run of
    spaces to its end from every place in it); a sheet of such cells held a round for hours. The witnesses of one pass:
    each pattern is run over the cell once (a split) or once a part (a search), and none can begin a match inside the
    run of spaces, even with what it looks for right after the run: each place in the run is read from its start only.
    Spaces between two Chinese names are a slip since session 23 (said with its fix)."""
    from engine.records import tabular
    from engine.records.tabular import Columns

    spaces = " " * 30_000
    commas = "甲公司 " + spaces + "、乙公司"
    holders = "北京平谷示例科技有限公司" + spaces + "某大学"
    patterns = ("LIST_SPLIT", "_ENUMERATION_COMMAS", "_CHINESE_SEPARATORS")
    for name in patterns:
        pattern = getattr(tabular, name)
        for cell in (commas, holders, "北京平谷示例科技有限公司" + spaces + ",某大学", "甲公司" + spaces + "；乙公司"):
            inside = [at for at in range(cell.index(spaces) + 1, cell.index(spaces) + len(spaces), 997) if pattern.match(cell, at)]
            assert inside == [], (name, inside[:3])

    runs: list[tuple[str, str]] = []

    class Counted:  # a pattern that says which of its methods ran
        def __init__(self, name, pattern):
            self.name, self.pattern = name, pattern

        def __getattr__(self, method):
            runs.append((self.name, method))
            return getattr(self.pattern, method)

    for name in patterns:
        monkeypatch.setattr(tabular, name, Counted(name, getattr(tabular, name)))
    columns = Columns(engine.load_policy(ROOT / "policies" / "pinggu_2020.yaml"))
    with no_hang():
        value, said = columns.convert(columns.item["item.right_holders"], holders)
    assert value is None and said is not None and "北京平谷示例科技有限公司；某大学" in str(said)
    assert runs == [
        ("LIST_SPLIT", "split"),
        ("_ENUMERATION_COMMAS", "search"),
        ("_CHINESE_SEPARATORS", "search"),
        ("_CHINESE_SEPARATORS", "split"),
    ]
    runs.clear()
    with no_hang():
        refused, said = columns.convert(columns.item["item.right_holders"], commas)
    assert refused is None and said is not None and "甲公司；乙公司" in str(said)
    assert runs == [("LIST_SPLIT", "split"), ("_ENUMERATION_COMMAS", "search"), ("_ENUMERATION_COMMAS", "split")]


def test_a_list_cell_of_thousands_of_values_is_read_in_work_of_its_length(monkeypatch: pytest.MonkeyPatch) -> None:
    """A list cell's values are read as the longest run of pieces between 、 that is one label (a document's name may
    hold 、 itself). Every run to the part's end was tried from each piece, each joined and folded: a cell of 1,000
    values (5.9 kB) took 35 s, one of Excel's 32,767 characters would take hours. A run is now no longer than the
    longest label's pieces (2 for Pinggu's documents), and the first 20 values that are none are asked for the one
    meant, the rest named alone: 5,000 values in 0.05 s."""
    from engine.records import tabular

    policy = engine.load_policy(POLICY)
    choices = tabular.Choices(policy, tabular.Columns(policy))
    folded: list[str] = []
    guessed: list[str] = []
    fold, guess = tabular._fold, tabular.choice_guess
    monkeypatch.setattr(tabular, "_fold", lambda word: folded.append(word) or fold(word))
    monkeypatch.setattr(tabular, "choice_guess", lambda table, word, **kw: guessed.append(word) or guess(table, word, **kw))
    cell = "、".join([*(f"证书{n}" for n in range(1000)), "营业执炤", "获得相关授权专利或奖项、称号等项目的证明文件"])
    codes, said = choices.resolve("item.documents", "invention_patent_grant", cell)
    assert codes is None and said is not None
    assert choices._span("item.documents", "invention_patent_grant") == 2
    # a run of two pieces and one from each value, and each guess's names: 2,477 words folded (before, 503,500 runs
    # of up to 1,002 pieces were joined and folded)
    assert len(folded) < 3000
    assert guessed == [f"证书{n}" for n in range(tabular.MAX_VALUES_GUESSED)] == [f"证书{n}" for n in range(20)]
    words = tr(said, "zh")
    assert words.startswith("证书0、证书1、")
    assert "、证书999、营业执炤：不是“本事项提交的证明材料”的可选值" in words  # (past the twentieth, named alone)
    # a label holding 、 is still read whole, after a long run of values
    fine = "、".join(["营业执照"] * 1000 + ["获得相关授权专利或奖项、称号等项目的证明文件"])
    codes, said = choices.resolve("item.documents", "invention_patent_grant", fine)
    assert said is None and codes == ["business_licence"] * 1000 + ["proof_of_right"]
