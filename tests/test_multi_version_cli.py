"""Several policy versions through explain, report, batch, batch-template and ledger verify (issue 5.1, issue 4.9).

Two versions of the Pinggu measures: policies/pinggu_2020.yaml (2020.1, funding years 2021-2023) and
policies/revisions/pinggu_2024_draft.yaml (2024.1-draft, funding years 2024-2026). `python -m engine diff`
between them: 第六条第（一）项 pledge-loan interest cap 30万 -> 50万 a year, 第六条第（二）项 patent insurance
rate 50% -> 60%. The same application is made for funding years 2021, 2024 and 2027 (by three applicants,
so no history is shared):
  l1: pledge loan, annual interest 500,000 -> 50% = 250,000 (under either cap)
  l2: a second pledge loan, annual interest 200,000 -> 50% = 100,000;
      2021 (2020.1): the 30万 annual cap leaves 300,000 - 250,000 = 50,000 (reduced);
      2024 (draft):  the 50万 cap leaves room: 100,000 (granted)
  i1: patent insurance, premium 10,000 -> 2021: 50% = 5,000; 2024: 60% = 6,000
  totals: 2021 = 305,000; 2024 = 356,000; 2027: no version is in force -> an error naming both windows.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from conftest import APPLICANTS, POLICY_PATH, ROOT, claim, item
from test_ledger_support import BACKENDS, make_ledger_url, policy_with_budget

from engine.core.i18n import tr
from engine.deciding.versions import PolicySet, load_versions
from engine.records.batch import run_batch
from engine.records.ledger import Ledger

DRAFT = ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml"
TWO = ["--policy", str(POLICY_PATH), "--policy", str(DRAFT)]
WINDOWS = ("2020.1 (", "funding years 2021-2023", "2024.1-draft (", "funding years 2024-2026")
APPLICANT_OF = {2021: "91110117MA01ABCD1F", 2024: "91110117MA02XYHW3G", 2027: "91110117MA03PLAT5Q"}


def application(year: int) -> dict:
    return claim(
        item("pledge_loan_interest", "l1", date=f"{year}-05-01", annual_interest_paid="500000.00"),
        item("pledge_loan_interest", "l2", date=f"{year}-06-01", loan_id="LOAN-2", annual_interest_paid="200000.00"),
        item("patent_insurance", "i1", date=f"{year}-05-01", premium_paid="10000.00"),
        applicant=dict(APPLICANTS["enterprise"], id=APPLICANT_OF[year]),
        funding_year=year,
        claim_id=f"V-{year}",
    )


EXPECTED = {
    2021: ("2020.1", "305000.00", [("l1", "granted", "250000.00"), ("l2", "reduced", "50000.00"), ("i1", "granted", "5000.00")]),
    2024: ("2024.1-draft", "356000.00", [("l1", "granted", "250000.00"), ("l2", "granted", "100000.00"), ("i1", "granted", "6000.00")]),
}


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for year in (2021, 2024, 2027):
        (tmp_path / f"V-{year}.json").write_text(json.dumps(application(year), ensure_ascii=False), encoding="utf-8")
    with open(tmp_path / "round.jsonl", "w", encoding="utf-8") as f:
        for year in (2021, 2024, 2027):
            f.write(json.dumps(application(year), ensure_ascii=False) + "\n")
    return tmp_path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=ROOT, check=False)


def outcome(d: dict) -> tuple[str, str, list[tuple[str, str, str]]]:
    return d["policy"]["version"], d["total"], [(i["item"], i["status"], i["amount"]) for i in d["items"]]


def test_explain_decides_each_year_by_its_version(files: Path) -> None:
    for year in (2021, 2024):
        out = run("explain", *TWO, str(files / f"V-{year}.json"), "--format", "json")
        assert out.returncode == 0, out.stderr
        assert outcome(json.loads(out.stdout)) == EXPECTED[year]
    # The explanation quotes the clause of the version that decided: 30 万 in 2020.1, 50 万 in the draft.
    old = run("explain", *TWO, str(files / "V-2021.json")).stdout
    new = run("explain", *TWO, str(files / "V-2024.json")).stdout
    assert "不超过 30 万元" in old and "不超过 50 万元" not in old
    assert "不超过 50 万元" in new and "不超过 30 万元" not in new
    late = run("explain", *TWO, str(files / "V-2027.json"))
    assert late.returncode == 1 and late.stdout == ""
    assert "funding year 2027" in late.stderr and all(w in late.stderr for w in WINDOWS)


def test_folders_stand_for_their_versions(files: Path) -> None:
    # policies/ holds pinggu_2020.yaml, policies/revisions/ the draft (only *.yaml directly inside are read).
    out = run("explain", "--policy", "policies", "--policy", "policies/revisions", str(files / "V-2024.json"), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert outcome(json.loads(out.stdout)) == EXPECTED[2024]


def test_a_folder_with_no_policy_in_it_is_named(files: Path, tmp_path: Path) -> None:
    # `--policy emptydir` said "<input>: (document): no policy version given", without the folder; a folder with no
    # policy beside one that has them is refused too (a version meant to be there is not)
    empty = tmp_path / "no policies"
    empty.mkdir()
    (empty / "notes.txt").write_text("draft in progress", encoding="utf-8")
    for extra in ((), ("--policy", "policies")):
        out = run("--lang", "en", "evaluate", "--policy", str(empty), *extra, str(files / "V-2021.json"))
        assert out.returncode == 1
        assert f"{empty}: (document): the folder holds no policy file (a *.yaml file directly inside it)" in out.stderr.splitlines()


def test_one_policy_still_decides_alone(files: Path) -> None:
    out = run("explain", "--policy", str(POLICY_PATH), str(files / "V-2021.json"), "--format", "json")
    assert out.returncode == 0 and outcome(json.loads(out.stdout)) == EXPECTED[2021]
    out = run("explain", "--policy", str(DRAFT), str(files / "V-2021.json"))
    assert out.returncode == 1 and "funding years 2024-2026" in out.stderr  # outside the only version's window


def draft_with_window(tmp_path: Path, first: int, last: int) -> Path:
    text = DRAFT.read_text(encoding="utf-8")
    assert "funding_years: {from: 2024, to: 2026}" in text
    (tmp_path / "texts").mkdir(exist_ok=True)
    for f in (DRAFT.parent / "texts").iterdir():
        (tmp_path / "texts" / f.name).write_bytes(f.read_bytes())
    path = tmp_path / f"draft_{first}_{last}.yaml"
    path.write_text(
        text.replace("funding_years: {from: 2024, to: 2026}", f"funding_years: {{from: {first}, to: {last}}}"), encoding="utf-8"
    )
    return path


def test_overlapping_versions_are_refused_at_load(tmp_path: Path) -> None:
    overlap = draft_with_window(tmp_path, 2023, 2026)  # 2023 claimed by both
    with pytest.raises(Exception, match="overlap"):
        load_versions([POLICY_PATH, overlap])
    for command in (
        ["batch", "examples/round_2021.jsonl", "--out", str(tmp_path / "o")],
        ["explain", "examples/claim_enterprise_2021.json"],
    ):
        out = run(command[0], "--policy", str(POLICY_PATH), "--policy", str(overlap), *command[1:])
        assert out.returncode == 1 and "versions overlap in funding years 2023" in out.stderr
        # located at the later version's window (line counted in that file)
        line = overlap.read_text(encoding="utf-8").split("funding_years:")[0].count("\n") + 1
        assert f"{overlap}:{line}" in out.stderr


def test_the_versions_command_says_where_an_overlap_is_and_how_to_mend_it(tmp_path: Path) -> None:
    # `versions` printed only "错误：版本的有效期在申报年度 2023 重叠：…": no file, no line, no fix (the other
    # commands said all three); now as lint says a problem, at the later version's funding_years
    overlap = draft_with_window(tmp_path, 2023, 2026)  # 2023 claimed by 2020.1 (2021-2023) and the draft
    out = run("--lang", "zh", "versions", str(POLICY_PATH), str(overlap))
    assert out.returncode == 1
    line = overlap.read_text(encoding="utf-8").split("funding_years:")[0].count("\n") + 1
    said = out.stdout.splitlines()
    assert said[3] == (
        f"{overlap}:{line}: 错误：policy.in_force.funding_years：版本的有效期在申报年度 2023 重叠："
        "2020.1（pinggu_2020.yaml）：申报年度 2021-2023 与 2024.1-draft（draft_2023_2026.yaml）：申报年度 2023-2026 [versions.overlap]"
    )
    assert said[4] == "    应为 把较早版本的有效期截止到较晚版本开始的前一年"


def test_a_gap_is_warned_and_its_claims_named(files: Path) -> None:
    gap = draft_with_window(files, 2025, 2026)  # nothing covers 2024
    out = run("explain", "--policy", str(POLICY_PATH), "--policy", str(gap), str(files / "V-2021.json"))
    line = gap.read_text(encoding="utf-8").split("funding_years:")[0].count("\n") + 1
    assert out.returncode == 0 and f"warning: {gap}:{line}: no version covers funding years 2024" in out.stderr
    out = run("explain", "--policy", str(POLICY_PATH), "--policy", str(gap), str(files / "V-2024.json"))
    assert out.returncode == 1 and "funding years 2021-2023" in out.stderr and "funding years 2025-2026" in out.stderr


def test_two_versions_that_differ_under_one_label_are_warned(files: Path) -> None:
    # the draft relabelled 2020.1, the label of the version before it: decisions and the ledger name a version by its
    # label, so two that differ under one were listed by `versions` without a word (exit 0 either way: a warning)
    text = DRAFT.read_text(encoding="utf-8")
    assert 'version: "2024.1-draft"' in text
    same = draft_with_window(files, 2024, 2026)
    same.write_text(same.read_text(encoding="utf-8").replace('version: "2024.1-draft"', 'version: "2020.1"'), encoding="utf-8")
    line = same.read_text(encoding="utf-8").split('version: "2020.1"')[0].count("\n") + 1
    out = run("--lang", "zh", "versions", str(POLICY_PATH), str(same))
    assert out.returncode == 0, out.stderr
    assert (
        f"{same}:{line}: 警告：policy.version：两个内容不同的版本用了同一个版本号 2020.1（{POLICY_PATH} 与 {same}）；"
        "审核结果和台账按版本号记下所依据的版本，两个版本同号，日后就分不清一份申请是按哪个版本审核的 [versions.same_label]"
    ) in out.stdout + out.stderr
    assert "应为 给较晚的版本改用新的版本号（policy.version，如 2020.1 之后的下一个号）" in out.stdout + out.stderr
    # the draft under its own label: nothing said
    out = run("versions", str(POLICY_PATH), str(DRAFT))
    assert out.returncode == 0 and "same_label" not in out.stdout + out.stderr


def test_report_explains_each_claim_by_its_version(files: Path) -> None:
    out = run("report", *TWO, str(files / "round.jsonl"), "--out", str(files / "r.html"))
    assert out.returncode == 3, out.stderr  # one error record
    assert "3 application(s), 1 error record(s)" in out.stderr
    html = (files / "r.html").read_text(encoding="utf-8")
    assert "V-2021" in html and "V-2024" in html
    # Each body quotes its own version's 第六条第（一）项: a single renderer would show only one of the two.
    assert "不超过 30 万元" in html and "不超过 50 万元" in html
    # the page is Chinese (report's default): its error row says the version windows in Chinese too (it said them in
    # the console's English, from the problems' str, until session 25)
    assert "没有在申报年度 2027 有效的版本" in html
    # (each window with the clause and reading of its `in_force`)
    assert (
        "2020.1（pinggu_2020.yaml）：申报年度 2021-2023（第十七条；口径 R7）；"
        "2024.1-draft（pinggu_2024_draft.yaml）：申报年度 2024-2026（第十七条；口径 R7）"
    ) in html


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    yield from make_ledger_url(request.param, tmp_path)


def decisions(out: Path) -> dict[str, dict]:
    return {d["claim_id"]: d for d in map(json.loads, (out / "decisions.jsonl").read_text(encoding="utf-8").splitlines())}


def test_batch_decides_each_year_by_its_version_and_records_it(files: Path, url: str) -> None:
    versions, warnings = load_versions([POLICY_PATH, DRAFT])
    assert warnings == []
    s = run_batch(versions, files / "round.jsonl", files / "o", ledger_url=url, commit=True, quiet=True)
    assert (s.applications, s.decided, s.failed) == (3, 2, 1)
    got = decisions(files / "o")
    assert outcome(got["V-2021"]) == EXPECTED[2021] and outcome(got["V-2024"]) == EXPECTED[2024]
    [err] = map(json.loads, (files / "o" / "errors.jsonl").read_text(encoding="utf-8").splitlines())
    assert err["claim_id"] == "V-2027" and err["where"]["line"] == 3 and err["problems"][0]["field"] == "funding_year"
    assert all(w in err["problems"][0]["message"] for w in WINDOWS)
    assert s.approved_total == Decimal("661000.00")  # 305,000 + 356,000
    old, new = versions.versions
    with Ledger(url) as ledger:
        made_by = {(g["claim_id"], g["item_id"]): g["policy_hash"] for g in ledger.grants()}
        assert made_by == {
            **{("V-2021", i): old.content_hash for i in ("l1", "l2", "i1")},
            **{("V-2024", i): new.content_hash for i in ("l1", "l2", "i1")},
        }
        assert ledger.verify(versions.versions) == []  # each grant held to its own version's caps
        # Held to 2020.1 alone, the 2024 applicant's two loans (350,000 in 2024) break the old 30万 cap.
        [said] = ledger.verify(old)
        assert tr(said, "en") == (
            "cap of 第六条第（一）项 (at most CNY 300,000 of interest subsidy per enterprise per year; pledge-annual-cap) in scope "
            f"{APPLICANT_OF[2024]}、2024: CNY 350,000.00 granted, over its ceiling of CNY 300,000.00"
        )
        assert tr(said, "zh") == (
            f"第六条第（一）项的封顶（每家企业每年享受贴息补助最高不超过30万元；pledge-annual-cap）范围 {APPLICANT_OF[2024]}、2024："
            "已支持 350,000.00 元，超过上限 300,000.00 元"
        )
    out = run("ledger", "verify", *TWO, "--ledger", url)
    assert out.returncode == 0 and "0 violation(s)" in out.stderr


def test_cli_batch_with_two_versions(files: Path) -> None:
    out = run("batch", *TWO, str(files / "round.jsonl"), "--out", str(files / "o"), "--ledger", f"sqlite:///{files / 'l.sqlite'}")
    assert out.returncode == 3, out.stderr  # partial: one error record
    got = decisions(files / "o")
    assert outcome(got["V-2021"]) == EXPECTED[2021] and outcome(got["V-2024"]) == EXPECTED[2024]
    assert "3 applications: 2 decided, 1 failed" in out.stdout


def versions_with_budgets(tmp_path: Path, old_budget: str, new_budget: str) -> PolicySet:
    return PolicySet(
        (policy_with_budget(tmp_path, old_budget, "第十三条"), policy_with_budget(tmp_path, new_budget, "第十三条", source=DRAFT))
    )


def test_each_round_takes_the_budget_of_its_version(files: Path, url: str) -> None:
    # Budgets: 2020.1 says 20万 a round, the draft 40万. Rounds are per funding year.
    # Round 2021 (2020.1, 20万): approved 305,000 > 200,000, factor 200/305 = 0.655738. Exact shares:
    #   l1 250,000 x 200/305 = 163,934.4262..., l2 50,000 x 200/305 = 32,786.8852..., i1 5,000 x 200/305 = 3,278.6885...
    #   floored 163,934.42 + 32,786.88 + 3,278.68 = 199,999.98: 2 cents to the largest remainders, i1 (0.85 cent)
    #   and l1 (0.62 cent): 163,934.43 + 32,786.88 + 3,278.69 = 200,000.00.
    # Round 2024 (draft, 40万): approved 356,000 <= 400,000: not scaled (with 2020.1's 20万 it would be).
    versions = versions_with_budgets(files, "20万", "40万")
    s = run_batch(versions, files / "round.jsonl", files / "o", ledger_url=url, commit=True, quiet=True)
    got = decisions(files / "o")
    assert [(i["item"], i["amount"]) for i in got["V-2021"]["items"]] == [("l1", "163934.43"), ("l2", "32786.88"), ("i1", "3278.69")]
    assert got["V-2021"]["scaling"]["factor"] == "0.655738" and got["V-2021"]["scaling"]["policy_version"] == "2020.1"
    assert outcome(got["V-2024"])[1] == "356000.00" and "scaling" not in got["V-2024"]
    assert list(s.scaling) == ["pinggu-ip-promotion/2021"]
    with Ledger(url) as ledger:
        rec = ledger.round_record("pinggu-ip-promotion/2021")
        assert (rec["budget"], rec["policy_version"], rec["policy_hash"]) == ("200000.00", "2020.1", versions.versions[0].content_hash)
        assert ledger.round_record("pinggu-ip-promotion/2024") is None


def test_a_labelled_round_spanning_versions_takes_the_latest_years_budget(files: Path) -> None:
    # One round label for both years: the draft is in force for the latest year (2024), so its 40万 governs.
    # Approved 661,000, factor 400/661 = 0.605144. Exact shares x 400/661, floored to the cent, remainders in cents:
    #   250,000 -> 151,285.93 (0.04) twice; 50,000 -> 30,257.18 (0.61); 5,000 -> 3,025.71 (0.86);
    #   100,000 -> 60,514.37 (0.22); 6,000 -> 3,630.86 (0.23). Floored sum 399,999.98: the 2 cents go to
    #   the 5,000 (0.86) and the 50,000 (0.61): 3,025.72 and 30,257.19; sum 400,000.00.
    versions = versions_with_budgets(files, "20万", "40万")
    s = run_batch(
        versions, files / "round.jsonl", files / "o", ledger_url=f"sqlite:///{files / 'l.sqlite'}", round_label="R-ALL", quiet=True
    )
    got = decisions(files / "o")
    assert [i["amount"] for i in got["V-2021"]["items"]] == ["151285.93", "30257.19", "3025.72"]
    assert [i["amount"] for i in got["V-2024"]["items"]] == ["151285.93", "60514.37", "3630.86"]
    rec = s.scaling["R-ALL"]
    assert (rec["budget"], rec["factor"], rec["policy_version"], rec["decided_by_versions"]) == (
        "400000.00",
        "0.605144",
        "2024.1-draft",
        "2020.1, 2024.1-draft",
    )
    assert s.approved_total == Decimal("400000.00")


def test_template_for_the_newest_version(tmp_path: Path) -> None:
    out = run("batch-template", *TWO, str(tmp_path / "t.xlsx"))
    assert out.returncode == 0, out.stderr
    assert "newest version: 2024.1-draft" in out.stderr and "funding years 2024-2026" in out.stderr
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx", read_only=True)
    cells = " ".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None)
    # The draft retires 第七条第（三）项 (ip_management_certification); 2020.1 still has it.
    assert "patent_insurance" in cells and "ip_management_certification" not in cells


def test_the_same_file_given_twice_is_one_version(tmp_path: Path) -> None:
    # a file repeated, or named beside its own folder, is not an overlap with itself
    versions, warnings = load_versions([POLICY_PATH, POLICY_PATH, POLICY_PATH.parent])
    assert [v.version for v in versions.versions] == ["2020.1"] and warnings == []
    out = run("explain", "--policy", str(POLICY_PATH), "--policy", str(POLICY_PATH), "examples/claim_enterprise_2021.json")
    assert out.returncode == 0, out.stderr
