"""Malformed claims: every one gets a clean engine.ClaimError naming the field's path -- never a traceback,
never a silent coercion. Identification numbers are checked against their national standards."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import APPLICANTS, ROOT, claim, item

import engine
from engine.errors import format_path
from engine.identifiers import is_valid_resident_id, is_valid_uscc, resident_id_check_char, uscc_check_char

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
    ("wrong type", "funding_year text", _set(("funding_year",), "2021"), ("funding_year",), "is not of type 'integer'"),
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
    ("amount", "absurd text", _set(AMOUNT, "1" * 13), AMOUNT, "is not in the expected form"),
    ("amount", "three decimals text", _set(AMOUNT, "1000.555"), AMOUNT, "is not in the expected form"),
    ("amount", "three decimals number", _set(AMOUNT, Decimal("1000.555")), AMOUNT, "more than two decimals"),
    ("amount", "text 1e3", _set(AMOUNT, "1e3"), AMOUNT, "is not in the expected form"),
    ("amount", "JSON number 1e3", _set(AMOUNT, Decimal("1E+3")), AMOUNT, "written with an exponent"),
    ("amount", "binary float 1000.0", _set(AMOUNT, 1000.0), AMOUNT, "is not an amount"),
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
    ("vocabulary", "duplicate item id", lambda d: claim(item(P, "a"), item(P, "a", loan_id="L2")), ("items", 1, "id"), "already used"),
    # strings
    ("string", "empty claim_id", _set(("claim_id",), ""), ("claim_id",), "non-empty"),
    ("string", "empty loan id", _set(("items", 0, "loan_id"), ""), ("items", 0, "loan_id"), "non-empty"),
    ("string", "empty name", _set(("applicant", "name"), ""), ("applicant", "name"), "non-empty"),
    ("string", "enormous loan id", _set(("items", 0, "loan_id"), "x" * 100_000), ("items", 0, "loan_id"), "is too long"),
    ("string", "enormous claim_id", _set(("claim_id",), "x" * 1_000), ("claim_id",), "is too long"),
    ("string", "enormous name", _set(("applicant", "name"), "名" * 501), ("applicant", "name"), "is too long"),
    ("string", "surrounding spaces", _set(("items", 0, "loan_id"), " L1 "), ("items", 0, "loan_id"), "spaces"),
    ("string", "too many items", lambda d: claim(*[item(P, f"i{k}", loan_id=f"L{k}") for k in range(1001)]), ("items",), "too long"),
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
    ("identifier", "USCC lower case", _set(("applicant", "id"), "91110117ma01abcd1f"), ("applicant", "id"), "is not in the expected form"),
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
        "is not in the expected form",
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
    render = pytest.importorskip("engine.render", reason="engine/render.py (issue 3) not present")
    decision = engine.evaluate(policy, _hostile_claim())
    for lang in ("zh", "en"):
        _assert_escaped(render.explain(policy, decision, lang, "html"))


def test_html_report_escapes_claim_text(policy: engine.CompiledPolicy) -> None:
    render = pytest.importorskip("engine.render", reason="engine/render.py (issue 3) not present")
    decision = engine.evaluate(policy, _hostile_claim())
    html = render.render_report(policy, [decision], "zh", title="<script>alert('title')</script>")
    _assert_escaped(html)
    assert "<script>alert('title')" not in html


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_safe_cell_neutralises_every_formula_start(start: str) -> None:
    tabular = pytest.importorskip("engine.tabular", reason="engine/tabular.py (issue 4) not present")
    assert tabular.safe_cell(start + 'HYPERLINK("http://x")') == "'" + start + 'HYPERLINK("http://x")'
    assert tabular.safe_cell("平谷") == "平谷"
    assert tabular.safe_cell(12) == 12


def test_batch_csv_and_xlsx_exports_carry_no_formula(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    batch = pytest.importorskip("engine.batch", reason="engine/batch.py (issue 4) not present")
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
    batch = pytest.importorskip("engine.batch", reason="engine/batch.py (issue 4) not present")
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
    from engine.jsonpos import json_positions

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
