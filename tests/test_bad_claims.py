"""Malformed claims: every one gets a clean engine.ClaimError naming the field's path -- never a traceback,
never a silent coercion. Identification numbers are checked against their national standards."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import APPLICANTS, ENTERPRISE_ID, ROOT, claim, item

import engine
from engine.core.errors import format_path
from engine.core.i18n import tr
from engine.core.identifiers import is_valid_resident_id, is_valid_uscc, resident_id_check_char, uscc_check_char

P = "pledge_loan_interest"
AMOUNT = ("items", 0, "annual_interest_paid")


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def change(data: dict[str, Any]) -> dict[str, Any]:
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        if value is ...:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return data

    return change


def _base() -> dict[str, Any]:
    return claim(item(P, "l1"))


# (group, label, change, path the first problem must name, words in its message)
CASES: list[tuple[str, str, Any, tuple[Any, ...], str]] = [
    # wrong types
    ("wrong type", "claim is a list", lambda d: [d], (), "must be an object"),
    ("wrong type", "claim is text", lambda d: "claim", (), "must be an object"),
    ("wrong type", "claim_id a number", _set(("claim_id",), 5), ("claim_id",), "is not of type 'string'"),
    ("wrong type", "funding_year text", _set(("funding_year",), "2021"), ("funding_year",), "is a number written in quotes"),
    ("wrong type", "funding_year true", _set(("funding_year",), True), ("funding_year",), "is not of type 'integer'"),
    ("wrong type", "funding_year 2021.0", _set(("funding_year",), Decimal("2021.0")), ("funding_year",), "integer"),
    ("wrong type", "applicant a list", _set(("applicant",), [1]), ("applicant",), "is not of type 'object'"),
    ("wrong type", "items an object", _set(("items",), {"a": 1}), ("items",), "is not of type 'array'"),
    ("wrong type", "item a number", _set(("items", 0), 5), ("items", 0), "is not of type 'object'"),
    ("wrong type", "boolean fact as text", _set(("items", 0, "lender_is_bank"), "yes"), ("items", 0, "lender_is_bank"), "boolean"),
    ("wrong type", "boolean fact as 1", _set(("items", 0, "lender_is_bank"), 1), ("items", 0, "lender_is_bank"), "boolean"),
    ("wrong type", "documents as text", _set(("items", 0, "documents"), "fee_receipts"), ("items", 0, "documents"), "array"),
    ("wrong type", "roles as text", _set(("applicant", "roles"), "ip_alliance"), ("applicant", "roles"), "array"),
    ("wrong type", "history as text", _set(("history",), "none"), ("history",), "array"),
    (
        "wrong type",
        "history consumes -1",
        _set(
            ("history",),
            [{"claim_id": "H", "item_id": "h", "rule": "r", "applicant_id": "a", "funding_year": 2021, "amount": "1", "consumes": -1}],
        ),
        ("history", 0, "consumes"),
        "must be a list",
    ),
    ("wrong type", "a set as a value", _set(("items", 0, "documents"), {"fee_receipts"}), ("items", 0, "documents"), "is not claim data"),
    ("wrong type", "a non-text key", _set(("items", 0, 7), "x"), ("items", 0), "is not text"),
    # missing / unknown fields
    ("missing field", "no claim_id", _set(("claim_id",), ...), ("claim_id",), "required"),
    ("missing field", "no applicant", _set(("applicant",), ...), ("applicant",), "required"),
    ("missing field", "no items", _set(("items",), ...), ("items",), "required"),
    ("missing field", "empty items", _set(("items",), []), ("items",), "non-empty"),
    ("missing field", "no item id", _set(("items", 0, "id"), ...), ("items", 0, "id"), "required"),
    ("missing field", "no item type", _set(("items", 0, "type"), ...), ("items", 0, "type"), "required"),
    ("missing field", "no amount", _set(AMOUNT, ...), AMOUNT, "required"),
    ("missing field", "no applicant id", _set(("applicant", "id"), ...), ("applicant", "id"), "required"),
    ("missing field", "grant lacks fields", _set(("history",), [{"claim_id": "H"}]), ("history", 0), "grant lacks"),
    ("unknown field", "unknown item fact", _set(("items", 0, "colour"), "red"), ("items", 0), "unknown field"),
    ("unknown field", "unknown applicant fact", _set(("applicant", "age"), 5), ("applicant",), "unknown field"),
    ("unknown field", "unknown claim field", _set(("note",), "x"), (), "unknown field"),
    ("unknown field", "dunder field", _set(("items", 0, "__class__"), "x"), ("items", 0), "unknown field"),
    # amounts
    ("amount", "negative number", _set(AMOUNT, -1), AMOUNT, "less than the minimum of 0"),
    ("amount", "negative text", _set(AMOUNT, "-1.00"), AMOUNT, "is not in the expected form"),
    ("amount", "float NaN", _set(AMOUNT, float("nan")), AMOUNT, "not a finite number"),
    ("amount", "Decimal NaN", _set(AMOUNT, Decimal("NaN")), AMOUNT, "not a finite number"),
    ("amount", "Decimal sNaN", _set(AMOUNT, Decimal("sNaN")), AMOUNT, "not a finite number"),
    ("amount", "text NaN", _set(AMOUNT, "NaN"), AMOUNT, "is not in the expected form"),
    ("amount", "float Infinity", _set(AMOUNT, float("inf")), AMOUNT, "not a finite number"),
    ("amount", "Decimal -Infinity", _set(AMOUNT, Decimal("-Infinity")), AMOUNT, "not a finite number"),
    ("amount", "text Infinity", _set(AMOUNT, "Infinity"), AMOUNT, "is not in the expected form"),
    ("amount", "absurd 10**15", _set(AMOUNT, 10**15), AMOUNT, "greater than the maximum"),
    ("amount", "absurd 10**400", _set(AMOUNT, 10**400), AMOUNT, "number too large"),
    ("amount", "absurd text", _set(AMOUNT, "1" * 13), AMOUNT, "is greater than the maximum of 999999999999.99"),
    ("amount", "60 digits of text", _set(AMOUNT, "9" * 60 + ".00"), AMOUNT, "is greater than the maximum of 999999999999.99"),
    ("amount", "three decimals text", _set(AMOUNT, "1000.555"), AMOUNT, "is not in the expected form"),
    ("amount", "three decimals number", _set(AMOUNT, Decimal("1000.555")), AMOUNT, "more than two decimals"),
    ("amount", "text 1e3", _set(AMOUNT, "1e3"), AMOUNT, "is not in the expected form"),
    ("amount", "JSON number 1e3", _set(AMOUNT, Decimal("1E+3")), AMOUNT, "written with an exponent"),
    # plain digits whose Decimal prints with an exponent (1E-10): said as written, for its decimals (a red team read
    # "1E-10 is written with an exponent", expected "plain digits", of a number written in plain digits)
    ("amount", "JSON number 0.0000000001", _set(AMOUNT, Decimal("0.0000000001")), AMOUNT, "0.0000000001 has more than two decimals"),
    ("amount", "binary float 1000.0", _set(AMOUNT, 1000.0), AMOUNT, "is a binary floating-point number"),
    ("amount", "boolean", _set(AMOUNT, True), AMOUNT, "is not of type"),
    ("amount", "null", _set(AMOUNT, None), AMOUNT, "is not of type"),
    ("amount", "万 notation", _set(AMOUNT, "30万"), AMOUNT, "is not in the expected form"),
    ("amount", "thousands separator", _set(AMOUNT, "1,000.00"), AMOUNT, "is not in the expected form"),
    ("amount", "full-width digits", _set(AMOUNT, "１０００"), AMOUNT, "is not in the expected form"),
    ("amount", "leading zero", _set(AMOUNT, "01000"), AMOUNT, "is not in the expected form"),
    ("amount", "surrounding spaces", _set(AMOUNT, " 1000"), AMOUNT, "is not in the expected form"),
    (
        "amount",
        "history grant NaN",
        _set(("history",), [{"claim_id": "H", "item_id": "h", "rule": "r", "applicant_id": "a", "funding_year": 2021, "amount": "NaN"}]),
        ("history", 0, "amount"),
        "is not an amount",
    ),
    (
        "amount",
        "history negative cap use",
        _set(
            ("history",),
            [
                {
                    "claim_id": "H",
                    "item_id": "h",
                    "rule": "r",
                    "applicant_id": "a",
                    "funding_year": 2021,
                    "amount": "1",
                    "consumes": [{"cap": "pledge-annual-cap", "scope": ["x", 2021], "amount": "-300000"}],
                }
            ],
        ),
        ("history", 0, "consumes", 0, "amount"),
        "at least 0",
    ),
    # dates
    ("date", "30 February", _set(("items", 0, "date"), "2021-02-30"), ("items", 0, "date"), "is not a real calendar date"),
    ("date", "29 February 2021", _set(("submission_date",), "2021-02-29"), ("submission_date",), "is not a real calendar date"),
    ("date", "month 13", _set(("items", 0, "date"), "2021-13-01"), ("items", 0, "date"), "is not a real calendar date"),
    ("date", "year 0000", _set(("items", 0, "date"), "0000-01-01"), ("items", 0, "date"), "is not a real calendar date"),
    ("date", "no dashes", _set(("items", 0, "date"), "20210601"), ("items", 0, "date"), "is not in the expected form"),
    ("date", "with a time", _set(("items", 0, "date"), "2021-06-01T00:00"), ("items", 0, "date"), "is not in the expected form"),
    ("date", "a number", _set(("items", 0, "date"), 20210601), ("items", 0, "date"), "is not of type 'string'"),
    ("date", "full-width", _set(("items", 0, "date"), "２０２１-06-01"), ("items", 0, "date"), "is not in the expected form"),
    ("date", "funding year outside the policy", _set(("funding_year",), 2030), ("funding_year",), "outside"),
    # vocabulary
    ("vocabulary", "unknown item type", _set(("items", 0, "type"), "bogus"), ("items", 0, "type"), "is not one of the values"),
    ("vocabulary", "item type a number", _set(("items", 0, "type"), 5), ("items", 0, "type"), "is not"),
    (
        "vocabulary",
        "unknown pledged right",
        _set(("items", 0, "pledged_right"), "gold"),
        ("items", 0, "pledged_right"),
        "is not one of the values",
    ),
    ("vocabulary", "unknown applicant kind", _set(("applicant", "kind"), "robot"), ("applicant", "kind"), "is not one of the values"),
    ("vocabulary", "unknown role", _set(("applicant", "roles"), ["king"]), ("applicant", "roles", 0), "is not one of the values"),
    (
        "vocabulary",
        "unknown document",
        _set(("items", 0, "documents"), ["passport"]),
        ("items", 0, "documents", 0),
        "is not one of the values",
    ),
    (
        "vocabulary",
        "duplicate document",
        _set(("items", 0, "documents"), ["fee_receipts", "fee_receipts"]),
        ("items", 0, "documents"),
        "non-unique",
    ),
    (
        "vocabulary",
        "duplicate item id",
        lambda d: claim(item(P, "a"), item(P, "a", loan_id="L2")),
        ("items", 1, "id"),
        "is already the id of the claim's item 1 (items[0])",
    ),
    # strings
    ("string", "empty claim_id", _set(("claim_id",), ""), ("claim_id",), "non-empty"),
    ("string", "empty loan id", _set(("items", 0, "loan_id"), ""), ("items", 0, "loan_id"), "non-empty"),
    ("string", "empty name", _set(("applicant", "name"), ""), ("applicant", "name"), "non-empty"),
    ("string", "enormous loan id", _set(("items", 0, "loan_id"), "x" * 100_000), ("items", 0, "loan_id"), "is too long"),
    ("string", "enormous claim_id", _set(("claim_id",), "x" * 1_000), ("claim_id",), "is too long"),
    ("string", "enormous name", _set(("applicant", "name"), "名" * 501), ("applicant", "name"), "is too long"),
    ("string", "surrounding spaces", _set(("items", 0, "loan_id"), " L1 "), ("items", 0, "loan_id"), "spaces"),
    (
        "string",
        "too many items",
        lambda d: claim(*[item(P, f"i{k}", loan_id=f"L{k}") for k in range(1001)]),
        ("items",),
        "1,001 entries, at most 1,000",
    ),
    ("string", "nested 30 deep", _set(("items", 0, "loan_id"), json.loads("[" * 30 + "]" * 30)), ("items", 0, "loan_id"), "nested deeper"),
    # control characters
    ("control", "NUL in loan id", _set(("items", 0, "loan_id"), "L\x001"), ("items", 0, "loan_id"), "control characters"),
    ("control", "ESC in name", _set(("applicant", "name"), "甲\x1b[31m"), ("applicant", "name"), "control characters"),
    ("control", "DEL in name", _set(("applicant", "name"), "甲\x7f"), ("applicant", "name"), "control characters"),
    ("control", "C1 in name", _set(("applicant", "name"), "甲\x85"), ("applicant", "name"), "control characters"),
    ("control", "bidi override in name", _set(("applicant", "name"), "甲\u202e乙"), ("applicant", "name"), "control characters"),
    ("control", "line separator in name", _set(("applicant", "name"), "甲\u2028乙"), ("applicant", "name"), "control characters"),
    ("control", "newline in claim_id", _set(("claim_id",), "C\n1"), ("claim_id",), "control characters"),
    (
        "control",
        "tab in right holder",
        lambda d: claim(item("invention_patent_grant", right_holders=["甲\t"])),
        ("items", 0, "right_holders", 0),
        "control characters",
    ),
    # identification numbers
    ("identifier", "USCC wrong check char", _set(("applicant", "id"), "91110117MA01ABCD1G"), ("applicant", "id"), "check character"),
    (
        "identifier",
        "USCC lower case",
        _set(("applicant", "id"), "91110117ma01abcd1f"),
        ("applicant", "id"),
        "write it as 91110117MA01ABCD1F",
    ),
    (
        "identifier",
        "USCC 17 characters",
        _set(("applicant", "id"), "91110117MA01ABCD1"),
        ("applicant", "id"),
        "is not in the expected form",
    ),
    (
        "identifier",
        "USCC with I (not in the alphabet)",
        _set(("applicant", "id"), "91110117MI01ABCD1F"),
        ("applicant", "id"),
        "check character",
    ),
    ("identifier", "standard USCC corrupted", _set(("applicant", "id"), "91350100M000100Y44"), ("applicant", "id"), "check character"),
    (
        "identifier",
        "resident ID wrong check digit",
        lambda d: claim(item("invention_patent_grant"), applicant="natural_person", id="11010519491231002" + "1"),
        ("applicant", "id"),
        "check character",
    ),
    (
        "identifier",
        "resident ID impossible birthday",
        lambda d: claim(
            item("invention_patent_grant"),
            applicant="natural_person",
            id="110105194902300" + "01" + resident_id_check_char("11010519490230001"),
        ),
        ("applicant", "id"),
        "birth date (characters 7-14) '19490230' is not a real calendar date",
    ),
    (
        "identifier",
        "resident ID lower-case x",
        lambda d: claim(item("invention_patent_grant"), applicant="natural_person", id="11010519491231002x"),
        ("applicant", "id"),
        "write it as 11010519491231002X",
    ),
]


@pytest.mark.parametrize(("group", "label", "change", "path", "words"), CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_bad_claim_gets_a_clean_error_with_its_path(
    policy: engine.CompiledPolicy, group: str, label: str, change: Any, path: tuple[Any, ...], words: str
) -> None:
    data = change(_base())
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, data)
    problems = caught.value.problems
    assert problems
    matching = [p for p in problems if tuple(p.path)[: max(len(path), 1)] == path or tuple(p.path) == path]
    assert matching, f"no problem at {path}: {[str(p) for p in problems]}"
    assert any(words in p.message for p in matching), [p.message for p in matching]
    for p in problems:
        assert len(p.message) <= 300  # an enormous value is never echoed in full


def test_the_unmodified_base_claim_is_valid(policy: engine.CompiledPolicy) -> None:
    d = engine.evaluate(policy, _base()).to_dict()
    assert (d["items"][0]["status"], d["items"][0]["amount"]) == ("granted", "50000.00")  # 100000.00 x 50%


def test_json_1e3_is_not_1000_yuan(policy: engine.CompiledPolicy) -> None:
    text = json.dumps(_base()).replace('"100000.00"', "1e3")
    data = engine.loads_json(text)
    assert data["items"][0]["annual_interest_paid"] == Decimal("1E+3")
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, data)
    assert "written with an exponent" in caught.value.problems[0].message


def test_json_1000_and_1000_00_are_1000_yuan(policy: engine.CompiledPolicy) -> None:
    for literal in ("1000", "1000.00", '"1000"', '"1000.5"'):
        data = engine.loads_json(json.dumps(_base()).replace('"100000.00"', literal))
        d = engine.evaluate(policy, data).to_dict()
        assert d["items"][0]["asked"] == format(Decimal(literal.strip('"')) / 2, ".2f")


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', "[" * 100_000])
def test_loads_json_refuses_nan_and_deep_nesting_with_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):  # read_document turns this into a ClaimError
        engine.loads_json(text)


def test_every_problem_is_reported_at_once(policy: engine.CompiledPolicy) -> None:
    data = _base()
    data["items"][0]["annual_interest_paid"] = "-5"
    data["items"][0]["date"] = "2021-02-30"
    data["applicant"]["kind"] = "robot"
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, data)
    paths = {tuple(p.path) for p in caught.value.problems}
    assert {AMOUNT, ("items", 0, "date"), ("applicant", "kind")} <= paths


# --- identification numbers -----------------------------------------------------------------------------


def test_the_standards_own_examples_are_valid() -> None:
    assert is_valid_uscc("91350100M000100Y43")  # GB 32100-2015, appendix example
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert is_valid_resident_id("11010519491231002X")  # GB 11643-1999, example
    assert resident_id_check_char("11010519491231002") == "X"


def test_every_single_character_corruption_of_the_examples_is_caught() -> None:
    uscc_alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for code, alphabet, valid in (
        ("91350100M000100Y43", uscc_alphabet, is_valid_uscc),
        ("11010519491231002X", "0123456789X", is_valid_resident_id),
    ):
        corrupted = 0
        for i in range(18):
            for ch in alphabet:
                if ch == code[i]:
                    continue
                bad = code[:i] + ch + code[i + 1 :]
                assert not valid(bad), bad
                corrupted += 1
        assert corrupted > 150


def test_the_standard_examples_are_accepted_in_a_claim(policy: engine.CompiledPolicy) -> None:
    d = engine.evaluate(policy, claim(item(P), id="91350100M000100Y43")).to_dict()
    assert d["applicant"]["id"] == "91350100M000100Y43"
    d = engine.evaluate(policy, claim(item("invention_patent_grant"), applicant="natural_person", id="11010519491231002X")).to_dict()
    assert d["items"][0]["status"] == "granted"


def test_conftest_identifiers_are_valid() -> None:
    for app in APPLICANTS.values():
        assert is_valid_uscc(app["id"]) or is_valid_resident_id(app["id"]), app["id"]


# --- the command line -----------------------------------------------------------------------------------

BAD_FILES: dict[str, str] = {
    "nan.json": json.dumps(_base()).replace('"100000.00"', "NaN"),
    "exponent.json": json.dumps(_base()).replace('"100000.00"', "1e3"),
    "truncated.json": json.dumps(_base())[:-40],
    "deep.json": "[" * 50_000 + "]" * 50_000,
    "not-utf8.json": "",  # written as bytes below
    "bad-date.yaml": "claim_id: C\nfunding_year: 2021\napplicant: {id: X}\nitems: [{id: a, type: pledge_loan_interest, date: 2021-02-30}]\n",
    "bomb.yaml": "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
    + "".join(f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n" for p, c in zip("abcdefgh", "bcdefghi")),
    "tag.yaml": "claim_id: !!python/object/apply:os.system ['true']\n",
    "list.json": "[1, 2, 3]",
    "control.json": json.dumps(_set(("applicant", "name"), "甲\u202e乙")(_base())),
}


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_cli_bad_claims_exit_1_without_traceback(tmp_path: Path) -> None:
    for name, text in BAD_FILES.items():
        f = tmp_path / name
        if name == "not-utf8.json":
            raw = json.dumps(_base(), ensure_ascii=False).encode("utf-8")
            assert "北京".encode() in raw
            f.write_bytes(raw.replace("北京".encode(), "北京".encode("gbk")))
        else:
            f.write_text(text, encoding="utf-8")
    script = (
        "import sys, io, contextlib, json\n"
        "from engine.cli import main\n"
        "out = []\n"
        "for f in sys.argv[2:]:\n"
        "    o, e = io.StringIO(), io.StringIO()\n"
        "    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):\n"
        "        code = main(['evaluate', '--policy', sys.argv[1], f])\n"
        "    out.append({'file': f, 'code': code, 'stdout': o.getvalue(), 'stderr': e.getvalue()})\n"
        "print(json.dumps(out))\n"
    )
    files = sorted(str(p) for p in tmp_path.iterdir())
    result = subprocess.run(
        [sys.executable, "-c", script, "policies/pinggu_2020.yaml", *files], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    runs = json.loads(result.stdout)
    assert len(runs) == len(BAD_FILES)
    for run in runs:
        assert run["code"] == 1, run
        assert run["stdout"] == "", run
        assert "Traceback" not in run["stderr"], run
        assert run["stderr"].strip(), run
        assert Path(run["file"]).name in run["stderr"] or "invalid" in run["stderr"] or "cannot" in run["stderr"], run


def test_cli_one_bad_claim_in_a_real_process(tmp_path: Path) -> None:
    f = tmp_path / "nan.json"
    f.write_text(BAD_FILES["exponent.json"], encoding="utf-8")
    result = _run_cli("evaluate", "--policy", "policies/pinggu_2020.yaml", str(f))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "items[0].annual_interest_paid" in result.stderr
    assert "exponent" in result.stderr
    assert result.stdout == ""


# --- output safety: a claim's text is shown as text, never run --------------------------------------------

HOSTILE_TEXT = {
    "name": "<script>alert('name')</script>",
    "claim_id": '"><img src=x onerror=alert(1)>',
    "item_id": "<b onmouseover=alert(2)>i1</b>",
    "loan_id": "</td><script>alert(3)</script>",
}


def _hostile_claim() -> dict[str, Any]:
    return claim(
        item(P, HOSTILE_TEXT["item_id"], loan_id=HOSTILE_TEXT["loan_id"]),
        item("invention_patent_grant", "p1", right_holders=[HOSTILE_TEXT["name"], "<iframe src=//x>"]),
        name=HOSTILE_TEXT["name"],
        claim_id=HOSTILE_TEXT["claim_id"],
    )


def _assert_escaped(html: str) -> None:
    for raw in ("<script>alert", "<img src=x", "<b onmouseover", "<iframe src", "</td><script>"):
        assert raw not in html, raw
    assert "&lt;script&gt;alert(" in html  # the name is shown, as text


def test_html_explanation_escapes_claim_text(policy: engine.CompiledPolicy) -> None:
    render = importlib.import_module("engine.explaining.render")
    decision = engine.evaluate(policy, _hostile_claim())
    for lang in ("zh", "en"):
        _assert_escaped(render.explain(policy, decision, lang, "html"))


def test_html_report_escapes_claim_text(policy: engine.CompiledPolicy) -> None:
    render = importlib.import_module("engine.explaining.render")
    decision = engine.evaluate(policy, _hostile_claim())
    html = render.render_report(policy, [decision], "zh", title="<script>alert('title')</script>")
    _assert_escaped(html)
    assert "<script>alert('title')" not in html


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_safe_cell_neutralises_every_formula_start(start: str) -> None:
    tabular = importlib.import_module("engine.records.tabular")
    assert tabular.safe_cell(start + 'HYPERLINK("http://x")') == "'" + start + 'HYPERLINK("http://x")'
    assert tabular.safe_cell("平谷") == "平谷"
    assert tabular.safe_cell(12) == 12


def test_batch_csv_and_xlsx_exports_carry_no_formula(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    batch = importlib.import_module("engine.records.batch")
    import csv

    import openpyxl

    formulas = ["=1+1", "+SUM(A1:A9)", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x","y")']
    claims_ = [claim(item(P, f, loan_id=f"L{k}"), name=f, claim_id=f"F{k}{f}") for k, f in enumerate(formulas)]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in claims_), encoding="utf-8")
    batch.run_batch(policy, src, tmp_path / "out", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}")
    for name in ("summary_applications.csv", "summary_items.csv"):
        with open(tmp_path / "out" / name, encoding="utf-8-sig", newline="") as f:
            for row in csv.reader(f):
                for cell in row:
                    assert not cell.startswith(("=", "+", "@")) and not (cell.startswith("-") and not _is_number(cell)), (name, cell)
    wb = openpyxl.load_workbook(tmp_path / "out" / "summary.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    assert not c.value.startswith(("=", "+", "@")), (ws.title, c.value)


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


# --- nothing lost: one decision or one error record per application ----------------------------------------


def _mixed_round() -> list[Any]:
    good = [claim(item(P, "l1", loan_id=f"L{k}"), claim_id=f"G-{k}") for k in range(4)]
    bad = [
        _set(AMOUNT, "1e3")(claim(item(P, "l1"), claim_id="B-1")),
        _set(("items", 0, "date"), "2021-02-30")(claim(item(P, "l1"), claim_id="B-2")),
        _set(("applicant", "id"), "91110117MA01ABCD1G")(claim(item(P, "l1"), claim_id="B-3")),
        _set(("applicant", "name"), "甲\u202e乙")(claim(item(P, "l1"), claim_id="B-4")),
        claim(item(P, "l1"), claim_id="B-5", funding_year=2030),
    ]
    return [good[0], bad[0], good[1], bad[1], bad[2], good[2], bad[3], bad[4], good[3]]


def test_cli_every_application_gets_exactly_one_decision_or_one_error(tmp_path: Path) -> None:
    round_ = _mixed_round()
    files = []
    for k, c in enumerate(round_):
        f = tmp_path / f"{k:02d}.json"
        f.write_text(json.dumps(c, ensure_ascii=False), encoding="utf-8")
        files.append(str(f))
    extra = {"broken.json": "{", "empty.json": "", "list.json": "[]"}
    for name, text in extra.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        files.append(str(tmp_path / name))
    script = (
        "import sys, io, contextlib, json\n"
        "from engine.cli import main\n"
        "out = []\n"
        "for f in sys.argv[2:]:\n"
        "    o, e = io.StringIO(), io.StringIO()\n"
        "    try:\n"
        "        with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):\n"
        "            code = main(['evaluate', '--policy', sys.argv[1], f])\n"
        "    except BaseException as exc:\n"
        "        code = repr(exc)\n"
        "    out.append({'file': f, 'code': code, 'stdout': o.getvalue(), 'stderr': e.getvalue()})\n"
        "print(json.dumps(out))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, "policies/pinggu_2020.yaml", *files], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, result.stderr
    runs = json.loads(result.stdout)
    assert len(runs) == len(files) == 12
    decisions = errors = 0
    for run in runs:
        assert run["code"] in (0, 1), run
        assert "Traceback" not in run["stderr"]
        if run["code"] == 0:
            decision = json.loads(run["stdout"])  # exactly one decision document
            assert decision["format"] == "policy-engine/decision@1"
            assert run["stderr"] == ""
            decisions += 1
        else:
            assert run["stdout"] == "" and run["stderr"].strip()
            errors += 1
    assert (decisions, errors) == (4, 8)  # the 4 good claims; the 5 bad ones and the 3 broken files


def test_batch_every_application_gets_exactly_one_decision_or_one_error(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    batch = importlib.import_module("engine.records.batch")
    round_ = _mixed_round()
    lines_ = [json.dumps(c, ensure_ascii=False) for c in round_]
    lines_.insert(3, "{not json")
    lines_.insert(6, json.dumps({"claim_id": "X-1"}))
    lines_.insert(8, "[1, 2]")
    src = tmp_path / "round.jsonl"
    src.write_text("\n".join(lines_) + "\n", encoding="utf-8")
    summary = batch.run_batch(policy, src, tmp_path / "out", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}")
    decided = [json.loads(x) for x in (tmp_path / "out" / "decisions.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    failed = [json.loads(x) for x in (tmp_path / "out" / "errors.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    assert summary.applications == len(lines_) == 12
    assert len(decided) + len(failed) == 12
    assert (len(decided), len(failed)) == (4, 8)
    assert sorted(d["claim_id"] for d in decided) == ["G-0", "G-1", "G-2", "G-3"]
    assert (summary.decided, summary.failed) == (4, 8)


# A claim written by hand in JSON: the error must say on which line and column the bad value stands
# (counted here by hand from the text below) and which item it belongs to by the item's own id.
_JSON_CLAIM = """{
  "claim_id": "J-1",
  "funding_year": 2021,
  "submission_date": "2022-03-15",
  "applicant": {"id": "91110117MA01ABCD1F", "name": "x", "kind": "enterprise"},
  "items": [
    {"id": "first", "type": "pledge_loan_interest"},
    {
      "id": "loan-b",
      "type": "pledge_loan_interest",
      "annual_interest_paid": "12.345"
    }
  ]
}
"""


def test_json_claim_errors_name_line_column_and_item_id(tmp_path: Path) -> None:
    path = tmp_path / "claim.json"
    path.write_text(_JSON_CLAIM, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "engine", "evaluate", "--policy", str(ROOT / "policies" / "pinggu_2020.yaml"), str(path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr
    # line 11, the value "12.345" starts after 6 spaces + `"annual_interest_paid": ` (24 characters) -> column 31
    assert f"{path}:11:31: items[1].annual_interest_paid (item loan-b): '12.345' is not in the expected form" in run.stderr
    assert "yuan, at most two decimals" in run.stderr  # what was expected, not a regular expression
    assert "^(0|" not in run.stderr
    # a missing fact of the first item is placed at that item (line 7, column 5)
    assert f"{path}:7:5: items[0].date (item first): missing: this fact is required" in run.stderr


def test_json_positions_walk_what_json_accepted() -> None:
    from engine.core.jsonpos import json_positions

    text = '{"a": [1, {"b": "x\\"y"}],\n "c": -2.5e3, "d": null}'
    pos = json_positions(text)
    assert pos[()] == (1, 1)
    assert pos[("a",)] == (1, 7)
    assert pos[("a", 1, "b")] == (1, 17)
    assert pos[("c",)] == (2, 7)
    assert pos[("d",)] == (2, 20)
    assert json_positions("{broken") == {}


def test_history_amounts_finer_than_the_policy_quantum_are_refused(policy: engine.CompiledPolicy) -> None:
    # 299,990.005 used of the 30万 pledge cap would leave 9.995 yuan of room: an amount no grant can be
    from conftest import cap_use, history_grant

    data = _base()
    data["history"] = [
        history_grant(
            "pledge-loan-interest",
            "299990.005",
            cap_use("pledge-annual-cap", [data["applicant"]["id"], 2021], "299990.005"),
        )
    ]
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, data)
    where = {format_path(p.path): p.message for p in caught.value.problems}
    assert where["history[0].amount"] == "299990.005 is finer than the policy's rounding quantum 0.01"
    assert where["history[0].consumes[0].amount"] == "299990.005 is finer than the policy's rounding quantum 0.01"


# === issue 11 (claims): one group per kind of bad form, each refused with its exact path ===================
#
# Python values through the API (engine.evaluate), and JSON text (read_document, what the CLI reads) where
# the problem is also placed at its line and column, counted by hand from _TEXT_LINES below.

GRANT = {"claim_id": "H", "item_id": "h", "rule": "r", "applicant_id": "a", "funding_year": 2021, "amount": "1"}
RIGHT_HOLDERS = ("items", 0, "right_holders", 0)


def _grant(**changes: Any) -> Any:
    return _set(("history",), [{**GRANT, **changes}])


def _grant_use(amount: Any) -> Any:
    return _grant(consumes=[{"cap": "pledge-annual-cap", "scope": ["x", 2021], "amount": amount}])


def _holder(text: str) -> Any:
    return lambda d: claim(item("invention_patent_grant", right_holders=[text]))


def _key(path: tuple[Any, ...], key: str) -> Any:
    def change(data: dict[str, Any]) -> dict[str, Any]:
        target: Any = data
        for part in path:
            target = target[part]
        target[key] = "x"
        return data

    return change


# (label, change, the exact path of the first problem, words in its message)
ApiCase = tuple[str, Any, tuple[Any, ...], str]

NEGATIVE_ZERO: list[ApiCase] = [
    ("Decimal -0.00 amount", _set(AMOUNT, Decimal("-0.00")), AMOUNT, "-0.00 is a negative zero"),
    ("Decimal -0 amount", _set(AMOUNT, Decimal("-0")), AMOUNT, "-0 is a negative zero"),
    ("float -0.0 amount", _set(AMOUNT, -0.0), AMOUNT, "-0.0 is a negative zero"),
    ("Decimal -0 funding year", _set(("funding_year",), Decimal("-0")), ("funding_year",), "negative zero"),
    ("Decimal -0.00 history amount", _grant(amount=Decimal("-0.00")), ("history", 0, "amount"), "negative zero"),
    ("Decimal -0 in an unknown field", _set(("items", 0, "zz"), Decimal("-0")), ("items", 0, "zz"), "negative zero"),
    # under a key holding a bidi override: the path shows the key escaped, never the raw character
    ("Decimal -0 under a key with U+202E", _set(("applicant", "a\u202e"), Decimal("-0")), ("applicant", "a\\u202e"), "negative zero"),
    ("text -0.00 amount", _set(AMOUNT, "-0.00"), AMOUNT, "it has a minus sign"),
    ("text -0 amount", _set(AMOUNT, "-0"), AMOUNT, "it has a minus sign"),
    ("text -0.00 history amount", _grant(amount="-0.00"), ("history", 0, "amount"), "is not an amount"),
]

EXPONENT: list[ApiCase] = [
    ("text 0.1E1", _set(AMOUNT, "0.1E1"), AMOUNT, "it is written with an exponent"),
    ("text 840000e-2", _set(AMOUNT, "840000e-2"), AMOUNT, "it is written with an exponent"),
    ("text 8.4E+5", _set(AMOUNT, "8.4E+5"), AMOUNT, "it is written with an exponent"),
    ("JSON 840000e-2", _set(AMOUNT, engine.loads_json("840000e-2")), AMOUNT, "840000e-2 is written with an exponent"),
    ("JSON 0.1E1", _set(AMOUNT, engine.loads_json("0.1E1")), AMOUNT, "0.1E1 is written with an exponent"),
    ("JSON 2.021e3 funding year", _set(("funding_year",), engine.loads_json("2.021e3")), ("funding_year",), "written with an exponent"),
    ("history amount text 1e3", _grant(amount="1e3"), ("history", 0, "amount"), "is not an amount"),
    ("history amount JSON 1e3", _grant(amount=engine.loads_json("1e3")), ("history", 0, "amount"), "written with an exponent"),
    ("history cap use text 3e5", _grant_use("3e5"), ("history", 0, "consumes", 0, "amount"), "is not an amount"),
    ("history cap use Decimal 3E+5", _grant_use(Decimal("3E+5")), ("history", 0, "consumes", 0, "amount"), "written with an exponent"),
]

WHITE_SPACE: list[ApiCase] = [
    ("amount, trailing newline", _set(AMOUNT, "840000.00\n"), AMOUNT, "white space or a line break"),
    ("amount, trailing CR LF", _set(AMOUNT, "840000.00\r\n"), AMOUNT, "white space or a line break"),
    ("amount, trailing space", _set(AMOUNT, "840000.00 "), AMOUNT, "white space or a line break"),
    ("amount, leading space", _set(AMOUNT, " 840000.00"), AMOUNT, "white space or a line break"),
    ("amount, leading newline", _set(AMOUNT, "\n840000.00"), AMOUNT, "white space or a line break"),
    ("amount, trailing tab", _set(AMOUNT, "840000.00\t"), AMOUNT, "white space or a line break"),
    ("amount, ideographic space", _set(AMOUNT, "840000.00\u3000"), AMOUNT, "white space or a line break"),
    ("date, trailing newline", _set(("items", 0, "date"), "2021-06-01\n"), ("items", 0, "date"), "white space or a line break"),
    ("USCC, trailing newline", _set(("applicant", "id"), ENTERPRISE_ID + "\n"), ("applicant", "id"), "white space or a line break"),
    ("history amount, trailing newline", _grant(amount="1000.00\n"), ("history", 0, "amount"), "is not an amount"),
    ("history amount, leading space", _grant(amount=" 1000.00"), ("history", 0, "amount"), "is not an amount"),
]

SURROGATE: list[ApiCase] = [
    ("applicant name", _set(("applicant", "name"), "北京\ud800"), ("applicant", "name"), "unpaired surrogate (U+D800 at character 3)"),
    ("claim id", _set(("claim_id",), "\udfffC-1"), ("claim_id",), "unpaired surrogate (U+DFFF at character 1)"),
    ("item id", _set(("items", 0, "id"), "l\udc001"), ("items", 0, "id"), "unpaired surrogate"),
    ("loan id", _set(("items", 0, "loan_id"), "L\ud8001"), ("items", 0, "loan_id"), "unpaired surrogate"),
    ("right holder", _holder("甲\ud800"), RIGHT_HOLDERS, "unpaired surrogate"),
    ("document entry", _set(("items", 0, "documents"), ["fee\ud800"]), ("items", 0, "documents", 0), "is not one of the values"),
    ("USCC", _set(("applicant", "id"), ENTERPRISE_ID[:-1] + "\ud800"), ("applicant", "id"), "is not in the expected form"),
    ("key in the applicant", _key(("applicant",), "na\ud800me"), ("applicant",), "unknown field"),
    ("history claim id", _grant(claim_id="H\ud800"), ("history", 0, "claim_id"), "unpaired surrogate"),
    ("key in a history grant", _grant(**{"no\ud800te": "x"}), ("history", 0), "field name 'no\\ud800te' contains an unpaired surrogate"),
]

#: every bidirectional control: marks, embeddings and overrides, isolates
BIDI_MARKS = ["\u200e", "\u200f", "\u061c", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
BIDI: list[ApiCase] = [
    *(
        (f"U+{ord(c):04X} in the name", _set(("applicant", "name"), f"甲{c}乙"), ("applicant", "name"), "a bidirectional control")
        for c in BIDI_MARKS
    ),
    ("RLM in the claim id", _set(("claim_id",), "C-\u200f1"), ("claim_id",), "U+200F RIGHT-TO-LEFT MARK at character 3"),
    ("LRM in the item id", _set(("items", 0, "id"), "\u200el1"), ("items", 0, "id"), "U+200E LEFT-TO-RIGHT MARK at character 1"),
    ("ALM in the loan id", _set(("items", 0, "loan_id"), "L\u061c1"), ("items", 0, "loan_id"), "U+061C ARABIC LETTER MARK"),
    ("RLM in a right holder", _holder("甲\u200f"), RIGHT_HOLDERS, "a bidirectional control"),
    ("LRM in a history item id", _grant(item_id="h\u200e"), ("history", 0, "item_id"), "a bidirectional control"),
    ("RLO in a history scope", _grant(consumes=[{"limit": "x", "scope": ["a\u202e"]}]), ("history", 0, "consumes", 0, "scope", 0), "bidi"),
    ("LRM in a history key", _grant(**{"\u200eamount": "1"}), ("history", 0), "field name '\\u200eamount' contains control characters"),
    ("paragraph separator in the name", _set(("applicant", "name"), "甲\u2029乙"), ("applicant", "name"), "U+2029 PARAGRAPH SEPARATOR"),
]

#: invisible format characters (Unicode category Cf): refused in ids, identifiers and every other text fact
INVISIBLE: list[ApiCase] = [
    ("zero-width space in the loan id", _set(("items", 0, "loan_id"), "LOAN\u200b-1"), ("items", 0, "loan_id"), "U+200B ZERO WIDTH SPACE"),
    ("zero-width non-joiner in the item id", _set(("items", 0, "id"), "l\u200c1"), ("items", 0, "id"), "U+200C ZERO WIDTH NON-JOINER"),
    ("zero-width joiner in the claim id", _set(("claim_id",), "C\u200d-1"), ("claim_id",), "U+200D ZERO WIDTH JOINER"),
    ("BOM in the claim id", _set(("claim_id",), "\ufeffC-1"), ("claim_id",), "U+FEFF ZERO WIDTH NO-BREAK SPACE at character 1"),
    ("word joiner in the name", _set(("applicant", "name"), "北京\u2060平谷"), ("applicant", "name"), "U+2060 WORD JOINER"),
    ("soft hyphen in the name", _set(("applicant", "name"), "北京\u00ad平谷"), ("applicant", "name"), "U+00AD SOFT HYPHEN"),
    ("tag character in a right holder", _holder("甲\U000e0041"), RIGHT_HOLDERS, "U+E0041 TAG LATIN CAPITAL LETTER A"),
    (
        "zero-width space in a patent id",
        lambda d: claim(item("invention_patent_grant", patent_id="ZL2020\u200b1")),
        ("items", 0, "patent_id"),
        "invisible",
    ),
    ("zero-width space in the USCC", _set(("applicant", "id"), ENTERPRISE_ID[:17] + "\u200b"), ("applicant", "id"), "expected form"),
    ("zero-width space in a history applicant id", _grant(applicant_id="a\u200b"), ("history", 0, "applicant_id"), "invisible"),
]

COERCED: list[ApiCase] = [
    ("binary float funding year 2021.0", _set(("funding_year",), 2021.0), ("funding_year",), "2021.0 is a binary floating-point number"),
    ("history claim id a number", _grant(claim_id=5), ("history", 0, "claim_id"), "5 is not text"),
    ("history rule an object", _grant(rule={"r": 1}), ("history", 0, "rule"), "is not text"),
    ("Decimal Infinity amount", _set(AMOUNT, Decimal("Infinity")), AMOUNT, "not a finite number"),
    ("amount, trailing space only", _set(AMOUNT, "1000 "), AMOUNT, "white space or a line break"),
]

API_GROUPS: dict[str, list[ApiCase]] = {
    "negative zero": NEGATIVE_ZERO,
    "exponent": EXPONENT,
    "white space": WHITE_SPACE,
    "surrogate": SURROGATE,
    "bidi": BIDI,
    "invisible": INVISIBLE,
    "coerced": COERCED,
}
#: every case above, as (group, label, change, path, words) -- test_claim_fast_validation.py checks both checkers agree on them
API_CASES: list[tuple[str, str, Any, tuple[Any, ...], str]] = [(g, *c) for g, cases in API_GROUPS.items() for c in cases]


def _first_problem_at(policy: engine.CompiledPolicy, data: Any, path: tuple[Any, ...]) -> engine.core.errors.Problem:
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, data)
    at = [p for p in caught.value.problems if tuple(p.path) == path]
    assert at, f"no problem at {path}: {[str(p) for p in caught.value.problems]}"
    for p in caught.value.problems:
        assert p.message.encode("utf-8"), p  # every message can be written out (no lone surrogate in it)
        assert format_path(p.path).encode("utf-8")
    return at[0]


def _api_params(group: str) -> Any:
    return pytest.mark.parametrize(("label", "change", "path", "words"), API_GROUPS[group], ids=[c[0] for c in API_GROUPS[group]])


@_api_params("negative zero")
def test_negative_zero_is_refused(policy: engine.CompiledPolicy, label: str, change: Any, path: tuple[Any, ...], words: str) -> None:
    assert words in _first_problem_at(policy, change(_base()), path).message


@_api_params("exponent")
def test_exponent_forms_are_refused(policy: engine.CompiledPolicy, label: str, change: Any, path: tuple[Any, ...], words: str) -> None:
    assert words in _first_problem_at(policy, change(_base()), path).message


@_api_params("white space")
def test_white_space_around_amounts_dates_and_ids_is_refused(
    policy: engine.CompiledPolicy, label: str, change: Any, path: tuple[Any, ...], words: str
) -> None:
    assert words in _first_problem_at(policy, change(_base()), path).message


@_api_params("surrogate")
def test_lone_surrogates_are_refused(policy: engine.CompiledPolicy, label: str, change: Any, path: tuple[Any, ...], words: str) -> None:
    assert words in _first_problem_at(policy, change(_base()), path).message


@_api_params("bidi")
def test_bidi_controls_are_refused(policy: engine.CompiledPolicy, label: str, change: Any, path: tuple[Any, ...], words: str) -> None:
    assert words in _first_problem_at(policy, change(_base()), path).message


@_api_params("invisible")
def test_invisible_format_characters_are_refused(
    policy: engine.CompiledPolicy, label: str, change: Any, path: tuple[Any, ...], words: str
) -> None:
    assert words in _first_problem_at(policy, change(_base()), path).message


@_api_params("coerced")
def test_values_that_would_be_coerced_are_refused(
    policy: engine.CompiledPolicy, label: str, change: Any, path: tuple[Any, ...], words: str
) -> None:
    assert words in _first_problem_at(policy, change(_base()), path).message


def test_astral_characters_that_are_not_format_characters_stay_accepted(policy: engine.CompiledPolicy) -> None:
    # a name may hold CJK Extension B characters (beyond the BMP): only format characters are refused
    d = engine.evaluate(policy, _set(("applicant", "name"), "𠀀𪚥科技有限公司")(_base())).to_dict()
    assert d["applicant"]["name"] == "𠀀𪚥科技有限公司"


def test_the_refused_characters_are_every_format_character_of_this_python() -> None:
    """The character classes in engine/deciding/claims.py list Unicode's Cf (format) characters by hand: none is missing."""
    import unicodedata

    from engine.deciding.claims import text_problem

    missing = [
        f"U+{c:04X}"
        for c in range(0x110000)
        if unicodedata.category(chr(c)) in ("Cf", "Cs", "Cc", "Zl", "Zp") and text_problem(chr(c)) is None
    ]
    assert missing == []
    for ok in ("a", " ", "\u3000", "名", "\U00020000", "\U0001f600", "\ue000"):  # letters, spaces, astral CJK, emoji, private use
        assert text_problem(ok) is None, repr(ok)


# --- the same in JSON text: refused with the path, the line and the column ---------------------------------

# A valid claim (the base claim of this file) written by hand, one value per line where a case changes it.
_TEXT_LINES = [
    "{",  # 1
    '  "claim_id": "T-1",',  # 2: the value starts at column 15
    '  "funding_year": 2021,',  # 3: column 19
    '  "submission_date": "2022-03-15",',  # 4
    '  "documents": ["business_licence"],',  # 5
    '  "applicant": {',  # 6: the object starts at column 16
    '    "id": "91110117MA01ABCD1F",',  # 7: column 11
    '    "name": "北京平谷示例科技有限公司",',  # 8: column 13
    '    "kind": "enterprise", "registered_in_district": true, "actually_operating": true, "pays_tax_in_district": true',  # 9
    "  },",  # 10
    '  "items": [{',  # 11
    '    "id": "l1",',  # 12: column 11
    '    "type": "pledge_loan_interest", "date": "2021-06-01", "lender_is_bank": true, "pledged_right": "patent",',  # 13
    '    "documents": ["proof_of_right", "fee_receipts", "sealed_receipt_copies"],',  # 14: the first entry at column 19
    '    "supported_by_other_district_policy": false,',  # 15
    '    "loan_id": "LOAN-1",',  # 16: column 16
    '    "annual_interest_paid": "100000.00"',  # 17: column 29
    "  }]",  # 18
    "}",  # 19
]


def _text(line: int, replacement: str) -> str:
    lines = list(_TEXT_LINES)
    lines[line - 1] = replacement
    return "\n".join(lines) + "\n"


def _read(tmp_path: Path, text: str, name: str = "claim.json") -> Any:
    from engine.records.inputs import read_document

    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return read_document(f), f


def test_the_text_claim_is_valid_as_written(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    (data, _), _f = _read(tmp_path, _text(2, '  "claim_id": "T-1",'))
    assert data == {**_base(), "claim_id": "T-1"}
    d = engine.evaluate(policy, data).to_dict()
    assert d["items"][0]["amount"] == "50000.00"


# (label, line replaced, its new text, path, (line, column), words): positions counted from _TEXT_LINES by hand
TextCase = tuple[str, int, str, tuple[Any, ...], tuple[int, int], str]

DUPLICATE_KEYS: list[TextCase] = [
    (
        "amount given twice",  # the second key starts after 4 + 22 + 2 + 11 + 2 characters
        17,
        '    "annual_interest_paid": "100000.00", "annual_interest_paid": "1.00"',
        AMOUNT,
        (17, 42),
        "duplicate key 'annual_interest_paid' (first at line 17, column 5)",
    ),
    (
        "claim id twice",
        2,
        '  "claim_id": "T-1", "claim_id": "T-2",',
        ("claim_id",),
        (2, 22),
        "duplicate key 'claim_id' (first at line 2, column 3)",
    ),
    (
        "name twice, on two lines",
        8,
        '    "name": "北京平谷示例科技有限公司",\n    "name": "另一家公司",',
        ("applicant", "name"),
        (9, 5),
        "duplicate key 'name' (first at line 8, column 5)",
    ),
    (
        "the same key spelled with an escape",
        3,
        '  "funding_year": 2021, "funding\\u005fyear": 2022,',
        ("funding_year",),
        (3, 25),
        "duplicate key 'funding_year' (first at line 3, column 3)",
    ),
    (
        "in a history grant",
        18,
        '  }], "history": [{"claim_id": "H", "claim_id": "H2"}]',
        ("history", 0, "claim_id"),
        (18, 37),
        "duplicate key 'claim_id' (first at line 18, column 20)",
    ),
    (
        "the earliest of two",  # the repeat starts after 4 + 9 + 2 + 3 + 2 characters
        16,
        '    "loan_id": "A", "loan_id": "B", "x": {"y": 1, "y": 2},',
        ("items", 0, "loan_id"),
        (16, 21),
        "duplicate key 'loan_id' (first at line 16, column 5)",
    ),
]

TEXT_VALUES: list[TextCase] = [
    ("amount -0.00", 17, '    "annual_interest_paid": -0.00', AMOUNT, (17, 29), "-0.00 is a negative zero"),
    ("amount -0", 17, '    "annual_interest_paid": -0', AMOUNT, (17, 29), "-0 is a negative zero"),
    ("funding year -0", 3, '  "funding_year": -0,', ("funding_year",), (3, 19), "-0 is a negative zero"),
    ("amount 0.1E1", 17, '    "annual_interest_paid": 0.1E1', AMOUNT, (17, 29), "0.1E1 is written with an exponent"),
    ("amount 840000e-2", 17, '    "annual_interest_paid": 840000e-2', AMOUNT, (17, 29), "840000e-2 is written with an exponent"),
    ("funding year 2.021e3", 3, '  "funding_year": 2.021e3,', ("funding_year",), (3, 19), "2.021e3 is written with an exponent"),
    ("amount text with \\n", 17, '    "annual_interest_paid": "840000.00\\n"', AMOUNT, (17, 29), "white space or a line break"),
    ("amount text with a space", 17, '    "annual_interest_paid": "840000.00 "', AMOUNT, (17, 29), "white space or a line break"),
    ("amount text 0.1E1", 17, '    "annual_interest_paid": "0.1E1"', AMOUNT, (17, 29), "written with an exponent"),
    (
        "lone surrogate in the name",
        8,
        '    "name": "北京\\ud800",',
        ("applicant", "name"),
        (8, 13),
        "unpaired surrogate (U+D800 at character 3)",
    ),
    ("RLM in the claim id", 2, '  "claim_id": "T\\u200f1",', ("claim_id",), (2, 15), "U+200F RIGHT-TO-LEFT MARK"),
    ("zero-width space in the item id", 12, '    "id": "l\\u200b1",', ("items", 0, "id"), (12, 11), "U+200B ZERO WIDTH SPACE"),
    ("BOM in the loan id", 16, '    "loan_id": "\\ufeffLOAN-1",', ("items", 0, "loan_id"), (16, 16), "U+FEFF"),
    (
        "surrogate key",
        7,
        '    "id": "91110117MA01ABCD1F", "\\udc00": 1,',
        ("applicant",),
        (6, 16),
        "unknown field(s) ('\\udc00' was unexpected)",
    ),
]


@pytest.mark.parametrize(("label", "line", "text", "path", "where", "words"), DUPLICATE_KEYS, ids=[c[0] for c in DUPLICATE_KEYS])
def test_json_duplicate_keys_are_refused_with_line_and_column(
    tmp_path: Path, label: str, line: int, text: str, path: tuple[Any, ...], where: tuple[int, int], words: str
) -> None:
    with pytest.raises(engine.ClaimError) as caught:
        _read(tmp_path, _text(line, text))
    (p,) = caught.value.problems
    assert (tuple(p.path), (p.line, p.column), p.code) == (path, where, "claim.duplicate_key")
    assert words in p.message and p.file and p.file.endswith("claim.json")
    # engine.loads_json says the same, as a ValueError (a json.JSONDecodeError) with the position
    with pytest.raises(ValueError) as raw:
        engine.loads_json(_text(line, text))
    assert (raw.value.lineno, raw.value.colno, raw.value.path) == (*where, path)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("label", "line", "text", "path", "where", "words"), TEXT_VALUES, ids=[c[0] for c in TEXT_VALUES])
def test_json_text_bad_values_are_refused_with_line_and_column(
    policy: engine.CompiledPolicy,
    tmp_path: Path,
    label: str,
    line: int,
    text: str,
    path: tuple[Any, ...],
    where: tuple[int, int],
    words: str,
) -> None:
    from engine.records.inputs import locate

    (data, source), f = _read(tmp_path, _text(line, text))
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim(policy, data, file=str(f))
    located = locate(caught.value, source, str(f))
    at = [p for p in located.problems if tuple(p.path) == path]
    assert at, [str(p) for p in located.problems]
    assert ((at[0].line, at[0].column), words in at[0].message) == (where, True), str(at[0])


def test_yaml_claims_refuse_duplicate_keys_too(tmp_path: Path) -> None:
    text = "claim_id: Y-1\nfunding_year: 2021\nfunding_year: 2022\n"
    with pytest.raises(engine.EngineError) as caught:
        _read(tmp_path, text, "claim.yaml")
    (p,) = caught.value.problems
    assert (p.line, p.column) == (3, 1)
    assert "duplicate key 'funding_year' (first at line 2)" in p.message


@pytest.mark.parametrize(
    "text", ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', "[" * 100_000], ids=["NaN", "Infinity", "-Infinity", "deep"]
)
def test_read_document_turns_what_loads_json_refuses_into_a_claim_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(engine.ClaimError) as caught:
        _read(tmp_path, text)
    (p,) = caught.value.problems
    assert p.message.startswith("not valid JSON") and p.file and p.file.endswith("claim.json")


@pytest.mark.parametrize(
    ("text", "line", "column", "path"),
    [
        ('{"claim_id": "C",\n "items": [{"amount": NaN}]}', 2, 23, ("items", 0, "amount")),
        ('{"items": [\n  {"id": "a"},\n  {"amount":   -Infinity}]}', 3, 16, ("items", 1, "amount")),
        ("\n[" + "[" * 100_000, 2, 22, ()),  # the first value past 20 levels (json gave up a thousand down)
        ('{"items": ' + "[" * 900 + "NaN" + "]" * 900 + "}", 1, 911, ()),  # (its path was 2,880 characters of [0])
    ],
    ids=["NaN", "-Infinity", "deep", "NaN deep down"],
)
def test_what_loads_json_refuses_is_placed_at_its_line_column_and_path(
    tmp_path: Path, text: str, line: int, column: int, path: tuple[object, ...]
) -> None:
    """NaN, Infinity and nesting json could not read were said with no line or column (the service's problem had
    `line: null` and no `expected`): each is placed at the value, with what to write instead."""
    with pytest.raises(engine.ClaimError) as caught:
        _read(tmp_path, text)
    (p,) = caught.value.problems
    assert (p.line, p.column, tuple(p.path)) == (line, column, path)
    if "NaN" in text or "Infinity" in text:
        assert p.expected == "a number in digits, such as 8400.00 (JSON has no NaN or Infinity)"
    else:
        assert p.expected == "at most 20 levels of nesting (no application is deeper)"


def test_cli_evaluate_and_explain_refuse_a_duplicated_amount_and_a_lone_surrogate(tmp_path: Path) -> None:
    dup = tmp_path / "dup.json"
    dup.write_text(_text(17, DUPLICATE_KEYS[0][2]), encoding="utf-8")
    sur = tmp_path / "sur.json"
    sur.write_text(_text(8, '    "name": "北京\\ud800",'), encoding="utf-8")
    for command in ("evaluate", "explain"):
        run = _run_cli(command, "--policy", "policies/pinggu_2020.yaml", str(dup))
        assert (run.returncode, run.stdout) == (1, ""), run.stderr
        assert "Traceback" not in run.stderr
        assert (
            f"{dup}:17:42: items[0].annual_interest_paid: duplicate key 'annual_interest_paid' (first at line 17, column 5)" in run.stderr
        )
        run = _run_cli(command, "--policy", "policies/pinggu_2020.yaml", str(sur))
        assert (run.returncode, run.stdout) == (1, ""), run.stderr
        assert "Traceback" not in run.stderr
        assert f"{sur}:8:13: applicant.name: contains an unpaired surrogate (U+D800 at character 3)" in run.stderr


def test_batch_reports_a_duplicate_key_with_its_field_line_and_column(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    batch = importlib.import_module("engine.records.batch")
    good = json.dumps(claim(item(P, "l1"), claim_id="G-1"), ensure_ascii=False)
    twice = '{"claim_id": "D-1", "claim_id": "D-2"}'  # the repeat starts at column 21
    src = tmp_path / "round.jsonl"
    src.write_text(good + "\n" + twice + "\n" + good.replace("G-1", "G-2") + "\n", encoding="utf-8")
    summary = batch.run_batch(policy, src, tmp_path / "out", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}")
    assert (summary.decided, summary.failed) == (2, 1)
    (error,) = [json.loads(x) for x in (tmp_path / "out" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    (p,) = error["problems"]
    assert (p["field"], p["line"], p["column"]) == ("claim_id", 2, 21)
    assert p["message"] == "duplicate key 'claim_id' (first at line 2, column 2); JSON would silently keep the last value"
    assert error["claim_id"] is None  # (the key named twice is the id itself: which one is not told)
    # another key named twice: the record names its application, and its fix is said in Chinese too (it was English)
    src.write_text(good.replace('"funding_year": 2021', '"funding_year": 2021, "funding_year": 2021') + "\n", encoding="utf-8")
    batch.run_batch(policy, src, tmp_path / "out2", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}")
    (error,) = [json.loads(x) for x in (tmp_path / "out2" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert error["claim_id"] == "G-1" and error["problems"][0]["said"]["zh"]["expected"] == "同一对象中每个键只能出现一次"
    # a line that is a list holding such an object: its error record, no claim id (it crashed the run: a review's finding)
    src.write_text('[{"a": 1, "a": 2}]\n' + good + "\n", encoding="utf-8")
    summary = batch.run_batch(policy, src, tmp_path / "out3", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l3.sqlite'}")
    assert (summary.decided, summary.failed) == (1, 1)


def test_batch_json_list_reports_a_duplicate_key_and_goes_on(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    batch = importlib.import_module("engine.records.batch")
    good = [claim(item(P, "l1"), claim_id=f"G-{k}") for k in range(2)]
    text = (
        "[\n"
        + json.dumps(good[0], ensure_ascii=False)
        + ",\n{\n"
        + '  "claim_id": "D-1",\n'  # line 4
        + '  "items": [{"id": "a", "id": "b"}]\n'  # line 5: the first "id" after 13 characters, the repeat after 24
        + "},\n"
        + '{"a": NaN},\n'
        + json.dumps(good[1], ensure_ascii=False)
        + "\n]\n"
    )
    src = tmp_path / "round.json"
    src.write_text(text, encoding="utf-8")
    summary = batch.run_batch(policy, src, tmp_path / "out", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}")
    assert (summary.decided, summary.failed) == (2, 2)
    errors = [json.loads(x) for x in (tmp_path / "out" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    (dup,) = errors[0]["problems"]
    assert (dup["field"], dup["line"], dup["column"]) == ("items[0].id", 5, 25)
    assert dup["message"].startswith("duplicate key 'id' (first at line 5, column 14)")
    (nan,) = errors[1]["problems"]
    assert nan["message"] == "not valid JSON: NaN is not a number"


# --- the claim limits of SECURITY.md, at their boundaries ------------------------------------------------------


def test_max_string_500_characters_accepted_501_refused(policy: engine.CompiledPolicy) -> None:
    assert engine.parse_claim(policy, _set(("applicant", "name"), "名" * 500)(_base())).applicant["name"] == "名" * 500
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim(policy, _set(("applicant", "name"), "名" * 501)(_base()))
    assert [(p.path, "is too long" in p.message) for p in caught.value.problems] == [(("applicant", "name"), True)]


def test_max_items_1000_accepted_1001_refused(policy: engine.CompiledPolicy) -> None:
    many = [item(P, f"i{k}", loan_id=f"L{k}") for k in range(1001)]
    assert len(engine.parse_claim(policy, claim(*many[:1000])).items) == 1000
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim(policy, claim(*many))
    assert [p.path for p in caught.value.problems] == [("items",)]


@pytest.mark.parametrize(
    ("amount", "exact"),
    [
        ("999999999999.99", "999999999999.99"),
        (999999999999, "999999999999"),
        (Decimal("999999999999.99"), "999999999999.99"),
        (engine.loads_json("999999999999.99"), "999999999999.99"),
    ],
    ids=["text", "integer", "Decimal", "JSON number"],
)
def test_max_money_is_accepted(policy: engine.CompiledPolicy, amount: Any, exact: str) -> None:
    # the Decimal and the JSON number too: the published schema's maximum is a binary float a little below 999999999999.99
    assert engine.parse_claim(policy, _set(AMOUNT, amount)(_base())).items[0].facts["annual_interest_paid"] == Decimal(exact)


@pytest.mark.parametrize("amount", ["1000000000000.00", 1000000000000, Decimal("1000000000000.00"), Decimal("999999999999.991")], ids=str)
def test_one_fen_above_max_money_is_refused(policy: engine.CompiledPolicy, amount: Any) -> None:
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim(policy, _set(AMOUNT, amount)(_base()))
    assert [p.path for p in caught.value.problems] == [AMOUNT]


def test_quoted_values_are_shortened_to_240_characters(policy: engine.CompiledPolicy) -> None:
    suffix = " is greater than the maximum of 999999999999.99"  # (text of digits: it was "not in the expected form")
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim(policy, _set(AMOUNT, "1" * 100_000)(_base()))
    (p,) = caught.value.problems
    assert p.message.endswith(suffix)
    quoted = p.message[: -len(suffix)]
    assert len(quoted) == 240 and quoted.startswith("'111") and " … " in quoted


def test_an_object_of_thousands_of_unknown_fields_names_twenty_and_counts_the_rest(
    policy: engine.CompiledPolicy, guessed: list[str]
) -> None:
    # 60,000 unknown keys in a 1.7 MB claim were each named and each guessed twice (for the message, and for the field
    # it meant): 12 s of work and a message of 4.6 MB, a 503 over HTTP. Twenty are named, each guessed twice.
    data = _base()
    data["items"][0].update({f"annual_interest_pai{n:04d}": "1" for n in range(5000)})
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim(policy, data)
    (p,) = caught.value.problems
    named = [f"'annual_interest_pai{n:04d}'" for n in range(20)]
    guesses = ", ".join(f"'annual_interest_paid' for {k}" for k in named)
    assert tr(p.message, "en") == f"unknown field(s) ({', '.join(named)}, and 4,980 more were unexpected); did you mean {guesses}?"
    assert tr(p.message, "zh").startswith(f"有无法识别的字段（{'、'.join(named)}、另有 4,980 个）；是否应为 'annual_interest_paid'（对应 ")
    assert sorted(guessed) == sorted(k.strip("'") for k in named * 2)


def test_a_claim_of_thousands_of_problems_names_a_hundred_and_says_there_are_more(policy: engine.CompiledPolicy) -> None:
    # 100,000 list entries of the wrong type in a 0.5 MB claim were each a problem: 70 s of work and 690 MB (a 0.1 MB
    # POST /evaluate of 200 items, 20,000 problems, answered 503 after 19.7 s). A hundred are named, then one more.
    data = claim(*(item("invention_patent_grant", f"p{n}", right_holders=[1] * 100) for n in range(30)))
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim(policy, data)
    problems = caught.value.problems
    assert [(p.path, tr(p.message, "en")) for p in problems[:100]] == [
        (("items", 0, "right_holders", k), "1 is not of type 'string'") for k in range(100)
    ]
    assert [(p.path, p.code, tr(p.message, "en"), tr(p.message, "zh")) for p in problems[100:]] == [
        (
            (),
            "claim.more",
            "more problems than the 100 named here: correct these and read it again",
            "问题不止这里列出的 100 个：请改正后重新读取",
        )
    ]
    # matching partial data: the missing facts it takes are no problems, so none of them hides one after them
    gaps = [item("invention_patent_grant", f"p{n}", patent_id=..., patent_kind=..., route=...) for n in range(60)]
    partial = claim(*gaps, item("invention_patent_grant", "bad", right_holders=[1]))
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim(policy, partial, partial=True)
    assert [(p.path, tr(p.message, "en")) for p in caught.value.problems] == [
        (("items", 60, "right_holders", 0), "1 is not of type 'string'")
    ]


def test_a_claims_schema_errors_are_read_no_further_than_its_problems_are_named(
    policy: engine.CompiledPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every schema error was made and held before the first was named: 100,000 wrong list entries in a 0.5 MB claim
    # held ~400 MB of jsonschema's errors. They are read as they are named, 2,000 at most and one to know of more.
    from engine.deciding import claims

    read: list[Any] = []
    real = claims._schema_errors

    def counting(policy: engine.CompiledPolicy, data: Any) -> Any:
        for found in real(policy, data):
            read.append(found)
            yield found

    monkeypatch.setattr(claims, "_schema_errors", counting)
    wrong = claim(*(item("invention_patent_grant", f"p{n}", right_holders=[1] * 1000) for n in range(5)))  # 5,000 errors
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim(policy, wrong)
    assert len(read) == claims.MAX_SCHEMA_ERRORS + 1 == 2001
    assert [p.code for p in caught.value.problems] == ["claim.type"] * 100 + ["claim.more"]
    # partial matching: the missing facts it takes are set aside before any is counted, so 2,400 of them before one
    # real problem do not hide it, and a profile of gaps alone is no problem at all
    gaps = [item("invention_patent_grant", f"p{n}", patent_id=..., patent_kind=..., route=...) for n in range(800)]
    read.clear()
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim(policy, claim(*gaps, item("invention_patent_grant", "bad", right_holders=[1])), partial=True)
    assert [(p.path, tr(p.message, "en")) for p in caught.value.problems] == [
        (("items", 800, "right_holders", 0), "1 is not of type 'string'")
    ]
    assert len(read) == 2401
    assert engine.parse_claim(policy, claim(*gaps), partial=True).claim_id == claim()["claim_id"]


@pytest.mark.parametrize(("amount", "ends"), [("1" * 1000, " 太大，不能大于 999999999999.99"), ("1." + "1" * 3000, " 的小数超过两位")])
def test_an_enormous_number_is_shortened_in_the_readers_language(policy: engine.CompiledPolicy, amount: str, ends: str) -> None:
    # a JSON number of a thousand digits: its message, too long, was replaced by jsonschema's English sentence, with
    # Python's reprs (Decimal('111…') is greater than the maximum of Decimal('999999999999.99')), for every reader;
    # and 3,000 decimals were quoted whole (3,029 characters)
    text = json.dumps(_set(AMOUNT, 0)(_base())).replace(f'"{AMOUNT[-1]}": 0', f'"{AMOUNT[-1]}": {amount}')
    assert amount in text
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim_json(policy, text)
    (p,) = caught.value.problems
    for lang in ("zh", "en"):
        said = tr(p.message, lang)
        assert len(said) <= 240 and " … " in said and "Decimal(" not in said, said
    assert tr(p.message, "zh").endswith(ends)


def test_max_claim_values_200000(policy: engine.CompiledPolicy) -> None:
    # the base claim holds 30-odd values; a list of 200 000 more in an unknown field crosses the bound
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim(policy, _set(("items", 0, "zz"), ["x"] * 200_000)(_base()))
    assert [p.message for p in caught.value.problems] == ["claim has more than 200000 values"]


def test_batch_json_list_with_an_element_nested_too_deeply_is_a_clean_input_error(tmp_path: Path) -> None:
    tabular = importlib.import_module("engine.records.tabular")
    src = tmp_path / "round.json"
    src.write_text('[{"a": 1},\n' + "[" * 5000 + "]" * 5000 + "]", encoding="utf-8")
    reader = tabular.JsonListReader(src)
    records = []
    with pytest.raises(tabular.InputError) as caught:  # was a RecursionError
        records.extend(reader)
    reader.close()
    assert [r.data for r in records] == [{"a": 1}]
    assert str(caught.value) == f"{src}:2: not valid JSON: JSON nested too deeply"


def test_a_ledger_lookup_by_a_surrogate_applicant_id_leaves_the_refusal_to_the_claim_check(
    policy: engine.CompiledPolicy, tmp_path: Path
) -> None:
    """Facts on record are looked up by applicant id; an id holding a lone surrogate (which no database can
    store) must not turn into a UnicodeEncodeError there: the claim check names it, in a batch too."""
    from engine.records.batch import run_batch
    from engine.records.ledger import Ledger

    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    bad = claim(item(P, "l1"), claim_id="S-1")
    bad["applicant"]["id"] = "91110117MA01\ud800"
    ledger = Ledger(url)
    assert ledger.with_facts_on_record(policy, bad) is bad
    with pytest.raises(engine.ClaimError):
        ledger.commit(policy, bad)
    ledger.close()
    src = tmp_path / "round.jsonl"
    src.write_text(json.dumps(bad) + "\n", encoding="utf-8")  # ensure_ascii: the surrogate travels as \ud800
    summary = run_batch(policy, src, tmp_path / "out", quiet=True, ledger_url=url, commit=True)
    assert (summary.decided, summary.failed) == (0, 1)
    (error,) = [json.loads(x) for x in (tmp_path / "out" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert "internal error" not in json.dumps(error), error
    assert [p["field"] for p in error["problems"]] == ["applicant.id"]


@pytest.mark.parametrize("written", ["-0", "-0.00", "-0.0"])
def test_yaml_negative_zero_keeps_its_sign_and_is_refused(policy: engine.CompiledPolicy, tmp_path: Path, written: str) -> None:
    """YAML's `-0` is an integer to PyYAML, and int() drops the sign: the loader keeps it so the claim
    check refuses it, as it refuses -0 in JSON."""
    import yaml

    data = claim(item(P, "l1"), claim_id="Z-1")
    text = yaml.safe_dump(data, allow_unicode=True).replace("annual_interest_paid: '100000.00'", f"annual_interest_paid: {written}")
    assert f"annual_interest_paid: {written}" in text
    (raw, _), _ = _read(tmp_path, text, "claim.yaml")
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim(policy, raw)
    assert [p.path for p in caught.value.problems] == [("items", 0, "annual_interest_paid")]
    assert "negative zero" in caught.value.problems[0].message


def test_a_nan_in_a_long_text_is_placed_by_one_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Placing a NaN walked the text in Python: 1.4 s for a 2 MB body, on the service's event loop (its /health waited
    3-4 s behind four). Past 256 KiB (`WALKED_UP_TO`) the NaN is found by one scan in C (`where_constant`), by its
    line and column (no path); the walk is not called at all. (It was a timed test, against reading the same text
    without the NaN: under a loaded machine's other work it failed now and then; what it guards is which code runs.)"""
    import engine.deciding.claims as claims_mod

    walked: list[int] = []
    real = claims_mod.where_refused

    def walk(text: str, max_depth: int | None = None):  # type: ignore[no-untyped-def]
        walked.append(len(text))
        return real(text, max_depth)

    monkeypatch.setattr(claims_mod, "where_refused", walk)
    data = {"items": [{"id": f"i{i}", "a": 1, "b": [1, 2]} for i in range(200_000)]}
    data["items"][-1]["amount"] = "PLACE"
    text = json.dumps(data, separators=(",", ":")).replace('"PLACE"', "NaN")
    assert len(text) > claims_mod.WALKED_UP_TO
    with pytest.raises(ValueError) as caught:
        engine.loads_json(text)
    assert walked == []
    line, column = caught.value.lineno, caught.value.colno  # type: ignore[attr-defined]
    assert text.splitlines()[line - 1][column - 1 : column + 2] == "NaN" and caught.value.path == ()  # type: ignore[attr-defined]
    small = '{"items": [{"amount": NaN}]}'  # (a short text is walked: its NaN gets its path)
    with pytest.raises(ValueError) as caught:
        engine.loads_json(small)
    assert walked == [len(small)] and caught.value.path == ("items", 0, "amount")  # type: ignore[attr-defined]
