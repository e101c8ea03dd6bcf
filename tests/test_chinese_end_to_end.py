"""Issue 15 points 1 and 2 end to end, as a district officer who reads no English meets them: every command, on good
inputs and on the slips people make (a broken policy, a bad claim, a bad ledger URL, a missing file, an unwritable
--out, a GBK CSV, a misspelled column, unreadable JSON), said with `--lang zh` has no English sentence in what it
prints or writes (stdout, stderr, errors.jsonl's `said`, summary.json's warnings, report.html, summary.xlsx); said
with `--lang en` it has no Chinese outside the policy's own words (clause references, labels, quoted values, 万)
and a workbook's sheets as it names them (the template's 申请人 and 事项).
A few messages are checked word for word, worked out by hand from the catalogue."""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import POLICY_PATH, ROOT
from test_cli_language import HAN, english_runs

from engine import load_policy
from engine.cli import main
from engine.core.errors import PolicyError, json_reason, os_reason
from engine.core.i18n import lookup, tr, use_language

CLAIM = ROOT / "examples" / "claim_enterprise_2021.json"
ROUND = ROOT / "examples" / "round_2021.jsonl"
DRAFT = ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml"
TESTS = ROOT / "policies" / "tests"
UNWRITABLE = "/proc/policy-engine-nope"  # no folder can be made under /proc, whoever runs the tests


# --- the bad inputs ------------------------------------------------------------------------------------------------

POLICY_SLIPS = {
    # a tab before a key
    "tab": ("    amount: {rate: 50%, of: item.annual_interest_paid}", "\tamount: {rate: 50%, of: item.annual_interest_paid}"),
    # a misspelled key
    "unknown_key": (
        "    amount: {rate: 50%, of: item.annual_interest_paid}",
        "    amount: {rate: 50%, of: item.annual_interest_paid}\n    amuont: 3",
    ),
    "bad_expression": ('when: applicant.kind == "enterprise"}', 'when: applicant.kind = "enterprise"}'),  # `=` for `==`
    "w50": ("max: 30万", "max: 30w"),
    "thousands": ('when: applicant.kind == "enterprise"}', "when: item.official_fees_paid >= 1,000}"),
    "slash_date": ('when: applicant.kind == "enterprise"}', 'when: claim.submission_date >= "2021/3/5"}'),
}


def _claim_slips() -> dict[str, dict[str, Any]]:
    base = json.loads(CLAIM.read_text(encoding="utf-8"))
    out = {}
    c = copy.deepcopy(base)
    c["funding_year"], c["applicant"]["registered_in_district"] = "twenty", "yes"  # wrong types
    out["wrong_types"] = c
    c = copy.deepcopy(base)
    c["items"][0]["oficial_fees_paid"] = c["items"][0].pop("official_fees_paid")  # a misspelled field
    out["misspelled"] = c
    c = copy.deepcopy(base)
    c["applicant"]["id"] = "91110117MA01ABCD1X"  # the check character of this code is F
    out["check_character"] = c
    c = copy.deepcopy(base)
    c["items"][0]["type"] = "invention_patent_grnt"
    out["unknown_item_type"] = c
    c = copy.deepcopy(base)
    c["items"][0]["official_fees_paid"], c["items"][0]["date"], c["items"][1]["annual_interest_paid"] = "1,000", "2021/3/5", "50w"
    out["slips"] = c
    return out


CSV_ROW = {
    "claim_id": "C-1",
    "claim.funding_year": "2021",
    "claim.submission_date": "2022-03-15",
    "claim.documents": "business_licence",
    "applicant.id": "91110117MA01ABCD1F",
    "applicant.name": "北京平谷示例科技有限公司",
    "applicant.kind": "企业",
    "applicant.registered_in_district": "是",
    "applicant.actually_operating": "是",
    "applicant.pays_tax_in_district": "是",
    "item.id": "l1",
    "item.type": "pledge_loan_interest",
    "item.date": "2021-06-01",
    "item.loan_id": "L1",
    "item.lender_is_bank": "是",
    "item.pledged_right": "patent",
    "item.annual_interest_paid": "400000.00",
    "item.documents": "proof_of_right; fee_receipts; sealed_receipt_copies",
    "item.supported_by_other_district_policy": "否",
}


def _csv(path: Path, rows: list[dict[str, str]], encoding: str) -> Path:
    text = io.StringIO()
    writer = csv.DictWriter(text, list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("slips")
    policy = POLICY_PATH.read_text(encoding="utf-8")
    for name, (old, new) in POLICY_SLIPS.items():
        assert old in policy, name
        (d / f"{name}.yaml").write_text(policy.replace(old, new, 1), encoding="utf-8")
    lines = [json.dumps(json.loads(CLAIM.read_text(encoding="utf-8")), ensure_ascii=False)]
    for name, claim in _claim_slips().items():
        text = json.dumps(claim, ensure_ascii=False)
        (d / f"{name}.json").write_text(text, encoding="utf-8")
        if isinstance(claim.get("claim_id"), str):  # (in the round each its own application: a claim id is given once)
            claim = {**claim, "claim_id": f"{claim['claim_id']}-{name}"}
        lines.append(json.dumps(claim, ensure_ascii=False))
    (d / "trailing_comma.json").write_text('{"claim_id": "X",}', encoding="utf-8")
    lines.append('{"claim_id": "X",}')
    (d / "round.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (d / "empty.jsonl").write_text("", encoding="utf-8")
    _csv(d / "gbk.csv", [CSV_ROW], "gbk")
    misspelled = {("item.anual_interest_paid" if k == "item.annual_interest_paid" else k): v for k, v in CSV_ROW.items()}
    _csv(d / "column.csv", [misspelled, {**misspelled, "claim_id": "C-2"}], "gbk")
    (d / "latin.csv").write_bytes("claim_id,applicant.name\nC-1,caf\xe9 \x81\x8d\n".encode("latin-1"))
    (d / "renamed.xlsx").write_bytes(b"an .xls saved under another name")
    book = openpyxl.load_workbook(ROOT / "examples" / "round_2021.xlsx")
    book["事项"].title = "Sheet9"  # a wrong sheet (the items sheet, as the template names it)
    book.save(d / "sheet.xlsx")
    book = openpyxl.load_workbook(ROOT / "examples" / "round_2021.xlsx")
    assert book["事项"].cell(1, 3).value.endswith("（item.type）")
    book["事项"].cell(1, 3).value = "item.tpye"  # a misspelled column
    book.save(d / "column.xlsx")
    return d


def commands(d: Path, out: Path) -> Iterator[tuple[str, list[str]]]:
    """(name, argv) of every command on good and bad inputs; `out` is a fresh folder for what they write."""
    p, claims = str(POLICY_PATH), [*_claim_slips(), "trailing_comma"]
    yield "validate", ["validate", p]
    for slip in POLICY_SLIPS:
        yield f"validate {slip}", ["validate", str(d / f"{slip}.yaml")]
        yield f"lint {slip}", ["lint", str(d / f"{slip}.yaml")]
    yield "validate missing", ["validate", str(d / "none.yaml")]
    yield "evaluate broken policy", ["evaluate", "--policy", str(d / "w50.yaml"), str(CLAIM)]
    for slip in claims:
        yield f"evaluate {slip}", ["evaluate", "--policy", p, str(d / f"{slip}.json")]
        yield f"explain {slip}", ["explain", "--policy", p, str(d / f"{slip}.json")]
    yield "evaluate missing", ["evaluate", "--policy", p, str(d / "none.json")]
    yield "evaluate unwritable", ["evaluate", "--policy", p, str(CLAIM), "--out", f"{UNWRITABLE}/d.json"]
    yield "schema broken", ["schema", str(d / "tab.yaml")]
    yield "schema unwritable", ["schema", p, "--out", f"{UNWRITABLE}/s.json"]
    yield "compile broken", ["compile", str(d / "w50.yaml")]
    yield "compile no rule", ["compile", p, "--rule", "nope"]
    yield "explain jsonl", ["explain", "--policy", p, str(ROUND)]
    yield "report", ["report", "--policy", p, str(d / "round.jsonl"), "--out", str(out / "report.html")]
    yield "report empty", ["report", "--policy", p, str(d / "empty.jsonl"), "--out", str(out / "empty.html")]
    yield "report unwritable", ["report", "--policy", p, str(ROUND), "--out", f"{UNWRITABLE}/r.html"]
    ledger = f"sqlite:///{out / 'ledger.sqlite'}"
    yield "batch", ["batch", "--policy", p, str(d / "round.jsonl"), "--out", str(out / "batch"), "--ledger", ledger, "--commit"]
    yield "batch gbk", ["batch", "--policy", p, str(d / "gbk.csv"), "--out", str(out / "gbk")]
    yield "batch column", ["batch", "--policy", p, str(d / "column.csv"), "--out", str(out / "column")]
    yield "batch encoding", ["batch", "--policy", p, str(d / "latin.csv"), "--out", str(out / "latin")]
    for book in ("renamed", "sheet", "column"):
        yield f"batch {book}.xlsx", ["batch", "--policy", p, str(d / f"{book}.xlsx"), "--out", str(out / f"x{book}")]
        yield f"report {book}.xlsx", ["report", "--policy", p, str(d / f"{book}.xlsx"), "--out", str(out / f"{book}.html")]
    yield "batch empty", ["batch", "--policy", p, str(d / "empty.jsonl"), "--out", str(out / "empty")]
    yield "batch unwritable", ["batch", "--policy", p, str(ROUND), "--out", UNWRITABLE]
    yield "batch bad ledger", ["batch", "--policy", p, str(ROUND), "--ledger", "mysql://x/y", "--out", str(out / "bl")]
    yield "batch-template", ["batch-template", "--policy", p, "--from", str(d / "round.jsonl"), str(out / "t.xlsx")]
    yield "batch-template unwritable", ["batch-template", "--policy", p, f"{UNWRITABLE}/t.xlsx"]
    for sub in ("info", "verify"):
        yield f"ledger {sub}", ["ledger", sub, "--ledger", ledger, "--policy", p]
        yield f"ledger {sub} bad url", ["ledger", sub, "--ledger", "mysql://nope"]
    yield "ledger reverse unknown", ["ledger", "reverse", "--ledger", ledger, "--claim", "NOPE", "--item", "x", "--reason", "r"]
    yield "ledger finding", ["ledger", "finding", "--ledger", ledger, "--applicant", "x", "--fact", "f", "--value", "v"]
    yield "lint draft", ["lint", str(DRAFT)]
    yield "test", ["test", str(TESTS / "general_clauses.yaml"), "--policy", p]
    yield "test broken policy", ["test", str(TESTS / "general_clauses.yaml"), "--policy", str(d / "w50.yaml")]
    yield "test missing", ["test", str(d / "none"), "--policy", p]
    yield "coverage", ["coverage", p, "--tests", str(TESTS)]
    yield "coverage broken", ["coverage", str(d / "tab.yaml"), "--tests", str(TESTS)]
    yield "diff claims", ["diff", p, str(DRAFT), "--claims", str(d / "round.jsonl")]
    yield "diff gbk", ["diff", p, str(DRAFT), "--claims", str(d / "gbk.csv")]
    yield "diff broken", ["diff", p, str(d / "bad_expression.yaml")]
    yield "versions", ["versions", p, str(DRAFT)]
    yield "versions broken", ["versions", str(d / "unknown_key.yaml")]


def _html_text(path: Path) -> str:
    text = re.sub(r"<style.*?</style>|<script.*?</script>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"<[^>]+>", "\n", text)


def written(out: Path, lang: str) -> list[tuple[str, str]]:
    """What the commands wrote that a person reads: errors.jsonl's words (`said`), summary.json's warnings, the HTML
    reports' text and the workbooks' cells."""
    found = []
    for f in sorted(out.rglob("*")):
        if f.name == "errors.jsonl":
            for line in f.read_text(encoding="utf-8").splitlines():
                rec = json.loads(line)
                found.append((str(f), rec["said"][lang]))
                found += [(str(f), w) for p in rec["problems"] for w in p["said"][lang].values()]
        elif f.name == "summary.json":
            found += [(str(f), w[lang]) for w in json.loads(f.read_text(encoding="utf-8"))["warnings_said"]]
        elif f.suffix == ".html":
            found.append((str(f), _html_text(f)))
        elif f.name == "summary.xlsx":  # (but the column of the main reason in the other language: its own by design)
            other = lookup(f"sheet.columns.main_reason_{'en' if lang == 'zh' else 'zh'}", lang)
            book = openpyxl.load_workbook(f)
            for ws in book:
                rows = list(ws.iter_rows(values_only=True))
                skip = {i for i, h in enumerate(rows[0] if rows else ()) if h == other}
                found += [(str(f), v) for row in rows for i, v in enumerate(row) if isinstance(v, str) and i not in skip]
    return found


def run_all(lang: str, d: Path, out: Path, capsys: Any) -> dict[str, tuple[int, str]]:
    said: dict[str, tuple[int, str]] = {}
    for name, argv in commands(d, out):
        try:
            code = main(["--lang", lang, *argv])
        except SystemExit as stop:  # argparse's refusals
            code = int(stop.code or 0)
        got = capsys.readouterr()
        said[name] = (code, got.out + got.err)
    return said


@pytest.fixture(scope="module")
def chinese(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, tuple[int, str]], Path]:
    out = tmp_path_factory.mktemp("zh-out")
    with pytest.MonkeyPatch.context() as mp, _capture() as capsys:
        mp.delenv("POLICY_ENGINE_LANG", raising=False)
        return run_all("zh", inputs, out, capsys), out


@pytest.fixture(scope="module")
def english(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, tuple[int, str]], Path]:
    out = tmp_path_factory.mktemp("en-out")
    with pytest.MonkeyPatch.context() as mp, _capture() as capsys:
        mp.delenv("POLICY_ENGINE_LANG", raising=False)
        return run_all("en", inputs, out, capsys), out


class _Captured:
    def __init__(self, out: str, err: str) -> None:
        self.out, self.err = out, err


class _capture:  # a module-scoped stand-in for capsys (which is function-scoped)
    """stdout and stderr of in-process commands, read back after each."""

    def __enter__(self) -> Any:
        self.saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
        return self

    def readouterr(self) -> _Captured:
        out, err = sys.stdout.getvalue(), sys.stderr.getvalue()  # type: ignore[union-attr]
        sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
        return _Captured(out, err)

    def __exit__(self, *exc: object) -> None:
        sys.stdout, sys.stderr = self.saved


# --- no English sentence in Chinese, no Chinese words of the engine's own in English -------------------------------


def test_every_command_said_in_chinese_has_no_english_sentence(chinese: tuple[dict[str, tuple[int, str]], Path]) -> None:
    said, out = chinese
    found = [(name, run) for name, (_, text) in said.items() for run in english_runs(text)]
    found += [(file, run) for file, text in written(out, "zh") for run in english_runs(text)]
    assert found == [], "\n".join(map(str, found))
    assert len(said) >= 60  # every command ran (names above), on good and bad inputs


#: Chinese that is the policy's own, not the engine's words: clause references, quoted values and text (a quotation
#: quoting a term of its own in “”, as diff quotes R17: “…。“一次性”：每…”, whole), 万 amounts,
#: a CSV's Chinese cell values and the policy's Chinese labels in the explanations written by `report`; and a
#: workbook's sheet names, data quoted back like a cell's (the template names its tabs 申请人 and 事项, and the English
#: words name them so too, with their codes, for the reader to find the tab): in the list of the sheets it has, in a
#: place (`sheet 事项 row 3`), and the template's two tabs as `申请人 (applicants)` and `事项 (items)`.
POLICY_CHINESE = re.compile(
    r"\S+\.yaml:\d+ [^,←]*|"  # a test case's own title, after where it is (coverage's `art5_creation.yaml:12 发明专利…`)
    r"第[一二三四五六七八九十百]+条(第[一二三四五六七八九十]+[款项]|第?[（(][一二三四五六七八九十]+[)）]项?)*"
    r"|'[^']*'|\"[^\"]*\"|“(?:[^“”]|“[^“”]*”)*”|「[^」]*」|\d+(\.\d+)?万元?|万|北京平谷示例科技有限公司|\S*\.(yaml|txt)"
    r"|\((did you mean '[^']*'\? )?sheets: [^)]*\)"  # the sheets a workbook has, as named in it (说明, 选项...)
    r"|\bsheet [^\s:]+(?= row \d|:)"  # a place: the sheet as the workbook names it (`r.xlsx sheet 事项 row 3`)
    r"|(申请人|事项) \((applicants|items)\)"  # the template's tabs, named so the reader finds them, with their codes
)


#: The policy's Chinese names of its item types: the budget's `type_zh` column (terminal table and summary.xlsx) holds
#: them in every language, with 合计 on its total row.
TYPE_LABELS = {t.zh for t in load_policy(POLICY_PATH).item_type_labels.values()} | {"合计"}


def _engine_chinese(text: str) -> list[str]:
    return [
        line for line in text.splitlines() if HAN.search(POLICY_CHINESE.sub(" ", " ".join(w for w in line.split() if w not in TYPE_LABELS)))
    ]


def test_every_command_said_in_english_has_no_chinese_of_the_engine(english: tuple[dict[str, tuple[int, str]], Path]) -> None:
    said, out = english
    # the explanations `report` and `explain` write quote the policy's clauses and labels in Chinese: their pages are
    # checked by tests/test_render.py; here the engine's own words (errors, summaries, warnings) are
    found = [(name, line) for name, (_, text) in said.items() if not name.startswith("explain") for line in _engine_chinese(text)]
    found += [(f, line) for f, text in written(out, "en") if not f.endswith(".html") for line in _engine_chinese(text)]
    assert found == [], "\n".join(map(str, found))


# --- exact messages, worked out by hand from the catalogue ---------------------------------------------------------


def test_unreadable_json_says_what_is_wrong_in_chinese(chinese: tuple[dict[str, tuple[int, str]], Path]) -> None:
    said, out = chinese
    code, text = said["evaluate trailing_comma"]
    # `{"claim_id": "X",}`: after the comma (column 18) json expects a name; line and column are the place, no field
    assert code == 1
    assert "无法解析文件（共 1 处问题）" in text
    assert "trailing_comma.json:1:18: 不是有效的 JSON：此处应为用英文双引号括起的字段名（最后一项后面不能有逗号）" in text
    records = [json.loads(line) for line in (out / "batch" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    last = records[-1]  # the round's 7th line is the same text
    assert last["where"]["line"] == 7
    assert last["problems"][0]["said"]["zh"]["message"] == "不是有效的 JSON：此处应为用英文双引号括起的字段名（最后一项后面不能有逗号）"


def test_a_folder_that_cannot_be_made_says_why_in_chinese(chinese: tuple[dict[str, tuple[int, str]], Path]) -> None:
    said, _ = chinese
    code, text = said["evaluate unwritable"]
    assert code == 2
    assert f"{UNWRITABLE}/d.json：无法创建文件夹 {UNWRITABLE}（文件或文件夹不存在（请检查名称和路径））" in text
    assert "No such file" not in said["batch unwritable"][1] and "No such file" not in said["schema unwritable"][1]


def test_diff_claims_says_the_bad_claims_and_the_statuses_in_chinese(chinese: tuple[dict[str, tuple[int, str]], Path]) -> None:
    said, _ = chinese
    code, text = said["diff claims"]
    assert code == 3
    # the claim with wrong types is line 2 of round.jsonl: `"yes"` where a boolean is expected
    # (each problem as batch's console says it: the field by its column's words, the code in brackets)
    assert (
        "round.jsonl:2，是否在平谷区依法登记注册（applicant.registered_in_district）：'yes' 的类型不对，应为是/否，写 true 或 false（boolean）"
        in text
    )
    assert "round.jsonl:7：不是有效的 JSON：此处应为用英文双引号括起的字段名" in text
    # PG-2022-0001's loan l2: 300,000 cap - 250,000 used by l1 = 50,000 (reduced) under 2020; the draft lifts it
    assert "PG-2022-0001 l2（知识产权质押贷款贴息）：核减 50,000.00 元 → 支持 100,000.00 元（+50,000.00 元）" in text
    en = said_in_english_of("diff", "--claims")
    assert "PG-2022-0001 l2 (interest subsidy on an IP-pledged loan): reduced CNY 50,000.00 → granted CNY 100,000.00 (+CNY 50,000.00)" in en


def said_in_english_of(*argv: str) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "engine", "--lang", "en", *argv[:1], str(POLICY_PATH), str(DRAFT), *argv[1:], str(ROUND)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    return r.stdout + r.stderr


def test_system_and_json_reasons_in_both_languages() -> None:
    missing = FileNotFoundError(2, "No such file or directory")
    assert tr(os_reason(missing), "en") == "No such file or directory"
    assert tr(os_reason(missing), "zh") == "文件或文件夹不存在（请检查名称和路径）"
    try:
        json.loads("[1 2]")
    except json.JSONDecodeError as exc:
        assert tr(json_reason(exc), "zh") == "两个值之间缺少英文逗号 `,`（或括号没有配对）"
        assert tr(json_reason(exc), "en") == "Expecting ',' delimiter"


def test_a_policy_amount_slip_made_in_chinese_is_said_in_english_too(tmp_path: Path) -> None:
    """A quantity slip is kept as a message, not frozen in the language it was found in."""
    policy = POLICY_PATH.read_text(encoding="utf-8").replace(
        "amount: {rate: 50%, of: item.annual_interest_paid}", "amount: {rate: 150%, of: item.annual_interest_paid}", 1
    )
    (tmp_path / "p.yaml").write_text(policy, encoding="utf-8")
    shutil.copytree(POLICY_PATH.parent / "texts", tmp_path / "texts")
    with use_language("zh"), pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "p.yaml")
    (problem,) = caught.value.problems
    assert tr(problem.message, "en") == "'150%' is not a rate between 0 and 100%"
    assert tr(problem.message, "zh") == "'150%' 不是 0 至 100% 之间的比例"


def test_the_locale_alone_makes_the_commands_chinese(inputs: Path) -> None:
    """LANG=zh_CN.UTF-8 and no flag: the slips are said in Chinese, as with --lang zh."""
    base = {k: v for k, v in os.environ.items() if k not in ("POLICY_ENGINE_LANG", "LC_ALL", "LC_MESSAGES", "LANG")}
    env = {**base, "PYTHONPATH": str(ROOT), "LANG": "zh_CN.UTF-8"}
    for argv in (
        ["evaluate", "--policy", str(POLICY_PATH), str(inputs / "trailing_comma.json")],
        ["validate", str(inputs / "w50.yaml")],
        ["serve", "--policies", str(ROOT / "policies"), "--port", "0", "--token-file", str(inputs / "none.yaml")],
    ):
        r = subprocess.run([sys.executable, "-m", "engine", *argv], capture_output=True, text=True, env=env, check=False, timeout=120)
        assert r.returncode != 0 and HAN.search(r.stderr), (argv, r.stderr)
        assert english_runs(r.stdout + r.stderr) == [], (argv, r.stderr)
    assert "无法读取令牌文件：文件或文件夹不存在（请检查名称和路径）" in r.stderr


def test_workbook_slips_are_said_once_and_in_chinese(chinese: tuple[dict[str, tuple[int, str]], Path]) -> None:
    said, _ = chinese
    code, text = said["batch column.xlsx"]
    assert code == 1 and text.count("无法识别的列") == 1  # one message, not one per row
    assert "column.xlsx 工作表 事项：无法识别的列 “item.tpye”（是否应为“item.type”？）；可用的列为：申请编号（claim_id）、" in text
    code, text = said["batch sheet.xlsx"]
    # (no hint: of the sheets there, 选项 is only "close" to 事项 by their shared 项, and it holds the dropdowns' lists)
    missing = "sheet.xlsx：找不到名为“事项”（或“items”）的工作表（现有工作表：申请人、Sheet9、说明、说明（英文）、选项）；"
    assert code == 1 and missing + "申报模板含“申请人”和“事项”两个工作表" in text
    code, text = said["report renamed.xlsx"]
    assert (
        "renamed.xlsx：不是可读取的 .xlsx 工作簿（文件不是 zip 格式：.xlsx 工作簿都是 zip 格式，旧的 .xls 文件或改了扩展名的文件不是）"
        in text
    )


def test_a_misspelled_template_override_is_said_in_chinese(tmp_path: Path) -> None:
    # said when the policy loads (validate), each at its line with the nearest key; it was said only when the
    # first explanation was written, after validate had passed the policy
    text = POLICY_PATH.read_text(encoding="utf-8") + "\ntemplates:\n  zh:\n    status.granted_typo: 给予\n    status.refusd: 不\n"
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    shutil.copytree(POLICY_PATH.parent / "texts", tmp_path / "texts")
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "p.yaml")
    first, second = caught.value.problems
    lines = text.splitlines()
    assert (first.line, second.line) == (lines.index("    status.granted_typo: 给予") + 1, lines.index("    status.refusd: 不") + 1)
    assert tr(first.message, "zh") == "用语 'status.granted_typo'：zh 语言的用语目录中没有这一条（说明不会用到它）"
    assert tr(first.expected, "zh").startswith("是否想写 'status.granted'？用语目录中的条目名")
    assert tr(second.message, "zh") == "用语 'status.refusd'：zh 语言的用语目录中没有这一条（说明不会用到它）"
    assert tr(second.expected, "zh").startswith("是否想写 'status.refused'？")
    assert tr(first.message, "en") == "message 'status.granted_typo': the zh catalogue has no such message (no explanation would use it)"


def test_a_funding_year_that_is_not_a_year_is_said_as_such(tmp_path: Path) -> None:
    """Two policy versions choose by funding year: "twenty" is there, but is not a year (not "missing")."""
    claim = {**json.loads(CLAIM.read_text(encoding="utf-8")), "funding_year": "twenty"}
    (tmp_path / "c.json").write_text(json.dumps(claim, ensure_ascii=False), encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "engine", "--lang", "zh", "evaluate", "--policy", str(POLICY_PATH), "--policy", str(DRAFT)]
        + [str(tmp_path / "c.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert r.returncode == 1, r.stderr
    assert 'funding_year（申报年度）现为 "twenty"：应为整数年份，如 2021，才能据此选择政策版本' in r.stderr


def test_report_reads_one_application_of_a_file_and_says_when_there_is_none(inputs: Path, tmp_path: Path) -> None:
    assert main(["--lang", "zh", "report", "--policy", str(POLICY_PATH), f"{ROUND}:2", "--out", str(tmp_path / "r.html")]) == 0
    assert "PG-2022-0002" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_report_of_a_line_that_is_not_there(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # round_2021.jsonl has 7 lines: line 99 is no application (the file exists: not "no such file")
    assert main(["--lang", "zh", "report", "--policy", str(POLICY_PATH), f"{ROUND}:99", "--out", str(tmp_path / "r.html")]) == 1
    err = capsys.readouterr().err
    assert f"{ROUND}：没有申请 99（共 7 个；.jsonl 文件请写行号，其他文件写申请序号或申请编号）" in err


def test_the_service_answers_a_chinese_caller_in_chinese(inputs: Path, tmp_path: Path) -> None:
    """problem+json for a bad claim, unreadable JSON and a bad token, asked with Accept-Language: zh of a service
    configured in English: every title, detail and problem message a person reads has no English sentence."""
    pytest.importorskip("uvicorn")
    from test_service import OFFICER_TOKEN, Server

    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(f"tokens:\n  {OFFICER_TOKEN}: {{name: 王科员, roles: [officer]}}\n", encoding="utf-8")
    srv = Server(tmp_path, "--token-file", str(tokens), "--ledger", f"sqlite:///{tmp_path / 'l.sqlite'}", "--workers", "1", lang="en")
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    try:
        answers = {
            name: srv.call("POST", "/evaluate", (inputs / f"{name}.json").read_bytes(), headers=zh)
            for name in ("misspelled", "check_character", "slips", "trailing_comma")
        }
        answers["bad token"] = srv.call("POST", "/ledger/commit", CLAIM.read_bytes(), token="not-a-token-at-all-0000", headers=zh)
    finally:
        srv.stop()
    for name, answer in answers.items():
        body = answer.json()
        words = [body["title"], body.get("detail", "")]
        words += [w for p in body.get("problems", []) for w in (p["message"], p.get("expected") or "")]
        assert [run for w in words for run in english_runs(w)] == [], (name, words)
    assert answers["bad token"].status == 401 and answers["bad token"].json()["detail"] == "令牌无效，请向管理员核对令牌"
    trailing = answers["trailing_comma"].json()
    # `{"claim_id": "X",}`: column 18 is the `}` where json expects a name after the comma
    assert trailing["detail"] == "第 1 行第 18 列：此处应为用英文双引号括起的字段名（最后一项后面不能有逗号）"
    # one problem: the field it misspells is not also said missing (it was a second, "缺少此项：这是必填项")
    [misspelled] = answers["misspelled"].json()["problems"]
    assert misspelled["message"] == "有无法识别的字段（'oficial_fees_paid'）；是否应为 'official_fees_paid'？"


def test_a_tab_at_the_start_of_a_line_says_to_use_spaces(chinese: tuple[dict[str, tuple[int, str]], Path], inputs: Path) -> None:
    """A tab in place of the whole indent (column 1) is "a character that cannot start any token" to the parser."""
    said, _ = chinese
    text = (inputs / "tab.yaml").read_text(encoding="utf-8")
    line = text[: text.index("\tamount:")].count("\n") + 1
    code, out = said["validate tab"]
    assert code == 1
    assert f"tab.yaml:{line}:1: 此处用了制表符（Tab）缩进：YAML 只能用空格缩进\n    应为 把 Tab 换成空格（与上下行对齐）" in out


def test_a_token_file_slip_is_said_like_a_policy_s(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text("tokens:\n\tabc: {name: x, roles: [officer]}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POLICY_ENGINE_LANG": "zh"}
    argv = [sys.executable, "-m", "engine", "serve", "--policies", str(ROOT / "policies"), "--port", "0", "--token-file", str(tokens)]
    r = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=120)
    assert r.returncode != 0
    assert f"{tokens}:2:1: 此处用了制表符（Tab）缩进：YAML 只能用空格缩进" in r.stderr, r.stderr


def test_a_record_without_a_line_is_named_by_its_element_never_line_none() -> None:
    """An element of a JSON list whose positions were not read (no line) is `file[n]`, as `place_of` says it."""
    from engine.records.inputs import record_label
    from engine.records.tabular import Record

    assert record_label(Record(3, {"file": "/in/round.json", "line": None, "element": 2}, {})) == "round.json[2]"
    assert record_label(Record(3, {"file": "/in/round.json", "line": 9, "element": 2}, {})) == "round.json:9"
    assert record_label(Record(1, {"file": "/in/round.jsonl", "line": 4}, {})) == "round.jsonl:4"
    assert record_label(Record(1, {"file": "/in/claim.json", "line": 1}, {})) == "claim.json"
