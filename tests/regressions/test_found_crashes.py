"""Every crash found while probing and fuzzing (python fuzz/run.py), kept as a regression test.

Each input below once raised something other than an engine.EngineError (or was too slow);
it must now fail cleanly (or, where the input is legitimate, succeed).
"""

from __future__ import annotations

import copy
import json
import sys
import time
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import claim, item, no_hang

import engine
from engine.explaining.render import RecordedDecisionError, RenderError, explain, recorded_decision
from engine.language.expressions import compile_expression
from engine.language.source import parse_yaml
from engine.records.tabular import InputError, Record, open_input

from .support import load_tiny, tiny_claim

P = "pledge_loan_interest"


def _free(namespace: str, fact: str) -> None:
    return None


# --- YAML loader ---------------------------------------------------------------------------------


def test_yaml_integer_of_5000_digits() -> None:  # was ValueError: Exceeds the limit (4300 digits)
    with pytest.raises(engine.PolicyError) as caught:
        parse_yaml("a: " + "9" * 5000)
    assert caught.value.problems[0].code == "too_long"


def test_yaml_dot_underscore_scalar() -> None:  # was decimal.InvalidOperation: Decimal(".")
    assert parse_yaml("a: ._").data == {"a": "._"}
    assert parse_yaml("a: 1_0.5_0").data == {"a": Decimal("10.50")}


def test_yaml_deep_flow_nesting_is_quick() -> None:  # was 1.4 s through a RecursionError
    started = time.perf_counter()
    with pytest.raises(engine.InputLimitError):
        parse_yaml("[" * 1_000_000)
    assert time.perf_counter() - started < 1.0


def test_yaml_alias_bomb_is_quick() -> None:  # was 0.4 s idle, 3.9 s on a loaded machine: sized before building
    text = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    started = time.perf_counter()
    with pytest.raises(engine.InputLimitError):
        parse_yaml(text)
    assert time.perf_counter() - started < 0.5


def test_yaml_python_tag_is_refused_not_silently_dropped() -> None:  # was accepted as a plain list
    with pytest.raises(engine.PolicyError):
        parse_yaml("!!python/object/apply:os.system ['true']")


def test_yaml_never_yields_non_finite_decimals() -> None:
    # fuzz policy_data-0b2d55729fd61eaa: Decimal('NaN') placed straight into the policy data made the schema
    # validator raise decimal.InvalidOperation. YAML text cannot produce it: these all stay strings.
    for text in (".nan", ".NaN", "NaN", ".inf", "-.inf", "Infinity", "1e999", "1E+3", "sNaN"):
        value = parse_yaml(f"a: {text}").data["a"]
        assert value == text and isinstance(value, str)


# --- expressions ---------------------------------------------------------------------------------


def test_expression_of_600_additions() -> None:  # was RecursionError in the checker
    with pytest.raises(Exception) as caught:
        compile_expression("1+" * 600 + "1", _free)
    assert type(caught.value).__name__ == "ExpressionError"


def test_string_repetition_literal() -> None:  # was compiled, then MemoryError when evaluated
    with pytest.raises(engine.PolicyError):
        load_tiny("'x' * 999999999999999 == ''")


def test_fraud_finding_in_year_9999(policy: engine.CompiledPolicy) -> None:  # was ValueError: year 10004 out of range (add_years)
    d = engine.evaluate(policy, claim(item("invention_patent_grant"), fraud_finding_dates=["9999-01-01"])).to_dict()
    # a finding made after the submission (2022-03-15) does not bar it (R24): fees 8,400 × 50% = 4,200.00
    assert d["standing"]["result"] == "ok" and d["items"][0]["amount"] == "4200.00"
    # the overflow itself: submitted on the finding's day, the bar runs to the end of time (add_years saturates)
    late = claim(item("invention_patent_grant"), fraud_finding_dates=["9999-01-01"], submission_date="9999-01-01")
    assert engine.evaluate(policy, late).to_dict()["standing"]["reasons"][0]["check"] == "five-year-bar"


def test_runtime_type_error_in_an_expression() -> None:  # was TypeError out of evaluate()
    policy = load_tiny("item.ended < item.date")
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, tiny_claim())
    assert caught.value.problems[0].code == "evaluation"


# --- claims --------------------------------------------------------------------------------------


def _grant(amount: object, consumes: object, applicant_id: str = "91110117MA01ABCD1F", **ids: str) -> dict[str, object]:
    """One earlier grant of the pledge-loan rule in a claim's inline history (funding year 2021)."""
    return {"claim_id": "H", "item_id": "h", **ids, "rule": "pledge-loan-interest", "applicant_id": applicant_id,
            "funding_year": 2021, "amount": amount, "consumes": consumes}  # fmt: skip


def test_history_consumes_not_a_list(policy: engine.CompiledPolicy) -> None:
    # fuzz claim_data (run 0): 'consumes': -1 was TypeError: 'int' object is not iterable (history.parse_grants)
    data = claim(item("national_ip_title", "i0"), applicant="public_institution")
    data["history"] = [_grant("250000.00", -1, applicant_id="12110117400000001X", claim_id="H-1", item_id="h1")]
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, data)
    assert caught.value.problems[0].path == ("history", 0, "consumes")


def test_history_negative_cap_consumption(policy: engine.CompiledPolicy) -> None:  # was accepted: it freed cap room
    data = claim(item(P))
    data["history"] = [_grant("1", [{"cap": "pledge-annual-cap", "scope": ["91110117MA01ABCD1F", 2021], "amount": "-9999999"}])]
    with pytest.raises(engine.ClaimError):
        engine.evaluate(policy, data)


@pytest.mark.parametrize("amount", ["1E+999999", Decimal("1E+30")])
def test_history_amount_in_exponent_form(policy: engine.CompiledPolicy, amount: object) -> None:
    # fuzz claim_data (seed 5): Decimal('1E+999999') as a grant's amount was decimal.InvalidOperation (DivisionImpossible)
    # out of parse_claim (`g.amount % q`); the JSON string "1E+999999" did the same
    data = claim(item(P))
    data["history"] = [_grant(amount, [])]
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, data)
    assert caught.value.problems[0].path == ("history", 0, "amount")


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity")])
def test_decimal_nan_amount(policy: engine.CompiledPolicy, value: Decimal) -> None:  # was decimal.InvalidOperation in jsonschema
    with pytest.raises(engine.ClaimError):
        engine.evaluate(policy, claim(item(P, annual_interest_paid=value)))


def test_integer_of_5000_digits_in_a_claim(policy: engine.CompiledPolicy) -> None:  # repr() of it raised ValueError
    with pytest.raises(engine.ClaimError):
        engine.evaluate(policy, claim(item(P, annual_interest_paid=10**5000)))


def test_json_nested_100000_deep() -> None:  # was RecursionError out of loads_json (and the CLI)
    with pytest.raises(ValueError, match="nested too deeply"):
        engine.loads_json("[" * 100_000)


def test_claim_nested_deeply_as_python_data(policy: engine.CompiledPolicy) -> None:
    deep: list[object] = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(engine.ClaimError):
        engine.evaluate(policy, claim(item(P, loan_id=deep)))


def test_negative_zero_decimal_amount(policy: engine.CompiledPolicy) -> None:
    # fuzz render (seed 1): Decimal('-0') as an amount passed parse_claim; its decision then read "would pay CNY -0.00" in
    # the template text but "can be supported only when it is" in the fast text (issue 11.4: negative zero is refused)
    data = claim(item("ip_securitisation", financing_costs=Decimal("-0")), applicant="other_organisation")
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, data)
    assert caught.value.problems[0].path == ("items", 0, "financing_costs")


# --- a hand-edited decision given back to explain (fuzz render_decision) -------------------------
#
# `explain` accepts a line of a batch's decisions.jsonl (recorded_decision): a decision someone edited must be
# refused with a message (RenderError or an EngineError), never a TypeError/KeyError out of the renderer.

_EDITS: dict[str, Callable[[dict[str, Any]], None]] = {
    "a step that is a string": lambda d: d["items"][0]["steps"].__setitem__(0, "x"),  # was TypeError in _item_cites
    "a step without its kind": lambda d: d["items"][0]["steps"][0].pop("step"),  # was KeyError: 'step'
    "an item that is a string": lambda d: d["items"].__setitem__(0, "x"),  # was AttributeError: 'str' object has no attribute 'get'
    "cites holding a list": lambda d: d["items"][0].__setitem__("cites", [["x"]]),  # was TypeError: unhashable type: 'list'
    "a total of 401 digits": lambda d: d.__setitem__("total", 10**400),  # was decimal.InvalidOperation in Renderer.money
    # fuzz render_decision (seed 3): a check step without its `says` was jinja2's UndefinedError out of explain
    "a check step without its words": lambda d: d["items"][0]["steps"][1].pop("says"),
}


@pytest.mark.parametrize("edit", list(_EDITS))
def test_hand_edited_decision(policy: engine.CompiledPolicy, edit: str) -> None:
    d = json.loads(engine.evaluate(policy, claim(item(P))).to_json())
    _EDITS[edit](d)
    with pytest.raises((RenderError, engine.EngineError)):
        explain(policy, recorded_decision(policy, copy.deepcopy(d)), "en", "text")


# --- tabular readers (fuzz tabular_csv, tabular_xlsx) --------------------------------------------

ROUND_XLSX = Path(__file__).resolve().parent.parent.parent / "examples" / "round_2021.xlsx"
B3 = '<c r="B3" t="n"><v>2021</v></c>'  # claim.funding_year of the first application, applicants sheet (申请人)


def _read(path: Path, policy: engine.CompiledPolicy) -> list[Record] | InputError:
    """Every record of the file, or the InputError that refused it as a whole; any other exception propagates."""
    try:
        reader = open_input(path, policy)
    except InputError as err:
        return err
    try:
        return list(reader)
    except InputError as err:
        return err
    finally:
        reader.close()


def _refused_or_located(path: Path, policy: engine.CompiledPolicy) -> None:
    """The file is refused naming it, or read with the bad part as an error record naming its row."""
    out = _read(path, policy)
    if isinstance(out, InputError):
        assert path.name in str(out)
    else:
        bad = [r for r in out if r.problems]
        assert bad and all(p.get("row") for r in bad for p in r.problems)


def _workbook(tmp_path: Path, sheet: int, *edits: tuple[str, str]) -> Path:
    """examples/round_2021.xlsx with text replaced in the XML of sheet `sheet` (1 the applicants sheet 申请人, 2 the
    items sheet 事项)."""
    with zipfile.ZipFile(ROUND_XLSX) as z:
        parts = [(i.filename, z.read(i)) for i in z.infolist()]
    out = tmp_path / "round.xlsx"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts:
            if name == f"xl/worksheets/sheet{sheet}.xml":
                for old, new in edits:
                    assert old.encode() in data
                    data = data.replace(old.encode(), new.encode(), 1)
            z.writestr(name, data)
    return out


@pytest.mark.parametrize(
    "encoding, text",
    [
        ("gbk", "北京平谷示例科技有限公司"),  # was UnicodeDecodeError out of CsvReader: Excel's "CSV" on a Chinese Windows
        ("gb18030", "北京平谷示例科技有限公司𠀀"),  # GB18030's four-byte form (a character GBK lacks)
        ("utf-16", "北京平谷"),  # with the BOM Excel writes for "Unicode text"
        ("utf-8-sig", "北京平谷"),  # "CSV UTF-8"
    ],
)
def test_csv_in_the_encodings_excel_writes_is_read(policy: engine.CompiledPolicy, tmp_path: Path, encoding: str, text: str) -> None:
    path = tmp_path / "round.csv"
    path.write_bytes(f"claim_id,claim.funding_year,applicant.name,item.id\nC-1,2021,{text},i1\n".encode(encoding))
    out = _read(path, policy)
    assert not isinstance(out, InputError), out
    (record,) = out
    assert record.data is not None and record.data["applicant"]["name"] == text


def test_csv_in_no_encoding_it_can_tell_is_refused_naming_the_file(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    path = tmp_path / "round.csv"  # Latin-1 "Café": é then a line feed is neither UTF-8 nor GB18030
    path.write_bytes("claim_id,claim.funding_year,applicant.name,item.id\nC-1,2021,Café\n".encode("latin-1"))
    out = _read(path, policy)
    assert isinstance(out, InputError)
    assert str(out) == (
        f"{path}: the CSV file is neither UTF-8 nor GBK/GB18030 text, so its characters cannot be read; "
        'save it from Excel as "CSV UTF-8" (or use the .xlsx workbook)'
    )


def test_csv_cell_over_the_field_limit(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    # was _csv.Error: field larger than field limit (131072), out of CsvReader
    path = tmp_path / "round.csv"
    path.write_text("claim_id,applicant.name,item.id\nC-1," + "x" * 131_073 + ",i1\nC-2,y,i1\n", encoding="utf-8")
    out = _read(path, policy)
    assert not isinstance(out, InputError)  # issue 11.6: a located error record, the other applications still read
    assert [r.problems[0]["row"] for r in out if r.problems] == [2]
    assert [r.claim_id for r in out if r.data is not None] == ["C-2"]


@pytest.mark.parametrize(
    "old, new",
    [
        (B3, '<c r="B3" t="s"><v>0</v></c>'),  # was IndexError: a shared string, and no shared strings table
        (B3, '<c r="B3" t="n"><v>x</v></c>'),  # was ValueError: invalid literal for int()
        (B3, '<c r="B3" t="b"><v>x</v></c>'),
        (B3, '<c r="B3" t="d"><v>2021-02-30</v></c>'),  # was ValueError: day is out of range for month
        (B3, '<c r="B3" t="d"><v>2021</v></c>'),  # was ValueError: Invalid datetime value
        ('<row r="3">', '<row r="x">'),  # was ValueError: could not convert string to float
        ('<c r="B3" t="n">', '<c r="1A" t="n">'),
        ('<c r="B3" t="n">', '<c r="ZZZZZ3" t="n">'),  # was ValueError: 'ZZZZZ' is not a valid column name
        ("<t>北京平谷示例科技有限公司</t>", "<t>a\x07b</t>"),  # was xml ParseError: a raw control character
    ],
)
def test_xlsx_sheet_openpyxl_cannot_parse(policy: engine.CompiledPolicy, tmp_path: Path, old: str, new: str) -> None:
    _refused_or_located(_workbook(tmp_path, 1, (old, new)), policy)


def test_xlsx_huge_dimension_is_refused_quickly(policy: engine.CompiledPolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # fuzz tabular_xlsx (3 hangs): a 14 kB workbook declaring A1:XFD1048576 with one cell in its last row ran for
    # minutes (every row padded to 16384 cells); issue 11.6: refused by a declared limit before it is expanded
    path = _workbook(
        tmp_path,
        1,
        ('<dimension ref="A1:M9" />', '<dimension ref="A1:XFD1048576" />'),
        ("</sheetData>", '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>Z</t></is></c></row></sheetData>'),
    )

    # the witness: the rows openpyxl hands over, counted (padded to the declared width, each was 16,384 cells; the
    # empty rows up to the last one were a million)
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    from engine.records.tabular import XLSX_MAX_ROWS

    rows_by = ReadOnlyWorksheet._cells_by_row
    handed: list[int] = []

    def counted(self: Any, *args: Any, **kw: Any) -> Any:
        for row in rows_by(self, *args, **kw):
            handed.append(len(row))
            assert len(row) < 100, f"a row padded to {len(row)} cells"  # (at once: padded, the read ran for minutes)
            yield row

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", counted)
    with no_hang():
        out = _read(path, policy)
    # (no row past its sheet's own cells: the widest sheet has 19 columns; padded to XFD, each row held 16,384)
    assert len(handed) <= 2 * (XLSX_MAX_ROWS + 1) and max(handed) < 100, (len(handed), max(handed))
    assert isinstance(out, InputError) and path.name in str(out)


def test_xlsx_with_a_damaged_deflate_stream_is_refused(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    # fuzz tabular_xlsx (seed 4): [Content_Types].xml whose compressed bytes were damaged raised zlib.error
    # ("invalid literal/lengths set") out of the workbook size check
    with zipfile.ZipFile(ROUND_XLSX) as z:
        parts = [(i, z.read(i)) for i in z.infolist()]
    out = tmp_path / "round.xlsx"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts:
            z.writestr(info.filename, data)
    raw = bytearray(out.read_bytes())
    with zipfile.ZipFile(out) as z:
        info = z.getinfo("[Content_Types].xml")
    # the member's data starts after its 30-byte local header, name and extra field; flip bits in the middle of it
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 5, start + 25):
        raw[k] ^= 0xFF
    out.write_bytes(bytes(raw))
    refused = _read(out, policy)
    assert isinstance(refused, InputError)
    assert str(refused).startswith(f"{out}: not a readable .xlsx workbook")


def test_csv_whose_byte_order_mark_lies_is_refused(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    # fuzz tabular_csv (seed 3): a UTF-16 byte-order mark followed by bytes that are not UTF-16 (here a lone
    # surrogate) was UnicodeDecodeError out of CsvReader
    path = tmp_path / "round.csv"
    path.write_bytes(b"\xff\xfe" + "claim_id,item.id\nC-1,".encode("utf-16-le") + b"\x00\xd8" + "i1\n".encode("utf-16-le"))
    refused = _read(path, policy)
    assert isinstance(refused, InputError)
    assert str(refused).startswith(f"{path}: the CSV file starts with a utf-16 byte-order mark but is not utf-16 text")


def test_json_integer_past_pythons_digit_limit(policy: engine.CompiledPolicy) -> None:
    # fuzz claim_text (seed 1104): a 5000-digit JSON integer made loads_json raise Python's "Exceeds the limit
    # (4300 digits) for integer string conversion"; it is now read exactly and refused with its path
    text = json.dumps(claim(item(P))).replace('"funding_year": 2021', '"funding_year": 2' + "0" * 5000)
    data = engine.loads_json(text)
    assert data["funding_year"] == Decimal("2e5000")
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, data)
    assert {p.path for p in caught.value.problems} == {("funding_year",)}


def test_hand_edited_decision_with_a_number_as_json(policy: engine.CompiledPolicy) -> None:
    # fuzz render_decision (seed 9): a number edited into a recorded decision is read as a Decimal, and
    # `explain --format json` raised TypeError (Decimal is not JSON serializable) out of json.dumps
    d = engine.loads_json(engine.evaluate(policy, claim(item(P))).to_json())
    d["items"][0]["steps"][0]["note"] = Decimal("1.5")
    with pytest.raises(RecordedDecisionError):
        explain(policy, recorded_decision(policy, d), "en", "json")


def test_json_number_with_an_exponent_decimal_cannot_hold(tmp_path: Path) -> None:
    # fuzz claim_text (seed 1203): `1e399…9` (a 400-digit exponent) was decimal.InvalidOperation out of loads_json
    text = '{"claim_id": "C-1", "applicant": 1e' + "9" * 400 + "}"
    with pytest.raises(ValueError, match=r"^1e9{38}… is a number out of range$"):
        engine.loads_json(text)
    from engine.records.inputs import read_document

    path = tmp_path / "claim.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(engine.ClaimError):
        read_document(path)
