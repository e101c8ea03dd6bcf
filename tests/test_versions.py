"""Versions by date: the version in force for a claim's funding year; gaps and overlaps reported (R7)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
from conftest import POLICY_PATH, ROOT, claim, item

import engine
from engine.core.i18n import tr
from engine.deciding.versions import PolicySet

DRAFT = ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml"
EXAMPLE = ROOT / "examples" / "claim_enterprise_2021.json"


@pytest.fixture(scope="module")
def versions() -> PolicySet:
    return PolicySet.load([DRAFT, POLICY_PATH])


def test_picks_the_version_in_force(versions: PolicySet) -> None:
    assert [v.version for v in versions.versions] == ["2020.1", "2024.1-draft"]  # ordered by window
    assert versions.for_year(2021).version == "2020.1"
    assert versions.for_year(2023).version == "2020.1"
    assert versions.for_year(2024).version == "2024.1-draft"
    assert versions.for_year(2026).version == "2024.1-draft"
    assert versions.report() == []  # 2021-2023 then 2024-2026: no gap, no overlap


def test_year_no_version_covers_names_the_windows(versions: PolicySet) -> None:
    with pytest.raises(engine.ClaimError) as exc:
        versions.for_year(2027)
    text = str(exc.value)
    assert "funding year 2027" in text
    assert "funding years 2021-2023" in text and "funding years 2024-2026" in text
    assert exc.value.problems[0].code == "not_in_force"
    # each version by its file's name: the words reach applicants and HTTP clients, never the server's folders (a red
    # team read /tmp/rt/pol2/pinggu_2020.yaml in /evaluate's answer; SECURITY.md promises no server paths)
    assert "(pinggu_2020.yaml)" in text and "(pinggu_2024_draft.yaml)" in text and str(ROOT) not in text
    # and the clause and reading each window rests on (policy.in_force cites / readings: 第十七条, R7)
    said = exc.value.problems[0].message
    assert said.render("zh") == (
        "“平谷区知识产权促进办法”没有在申报年度 2027 有效的版本；现有版本：2020.1（pinggu_2020.yaml）：申报年度 2021-2023（第十七条；口径 R7）；"
        "2024.1-draft（pinggu_2024_draft.yaml）：申报年度 2024-2026（第十七条；口径 R7）"
    )
    assert "funding years 2021-2023 (第十七条; reading R7); 2024.1-draft" in said.render("en")
    # the measures by their title (the newest version's), as the notices and summary.xlsx name them: it was the id
    assert said.render("en").startswith(
        "no version of Pinggu District Intellectual Property Promotion Measures is in force for funding year 2027;"
    )


def test_evaluate_by_funding_year(versions: PolicySet) -> None:
    # 2021 claim: decided by 2020.1 -- the pledge annual cap of 30万 reduces l2 to 300,000 − 250,000 = 50,000.
    d = versions.evaluate(engine.loads_json(EXAMPLE.read_text(encoding="utf-8")))
    assert d.policy.version == "2020.1"
    assert str(d.total) == "804200.00"  # 4,200 + 250,000 + 50,000 + 400,000 + 100,000
    # 2024 claim: decided by the draft -- cap 50万, so both loans are paid in full: 250,000 + 100,000.
    data = claim(
        item("pledge_loan_interest", "l1", date="2024-05-01", annual_interest_paid="500000.00"),
        item("pledge_loan_interest", "l2", date="2024-06-01", loan_id="LOAN-2", annual_interest_paid="200000.00"),
        funding_year=2024,
    )
    d = versions.evaluate(data)
    assert d.policy.version == "2024.1-draft"
    assert [(i.status, str(i.amount)) for i in d.items] == [("granted", "250000.00"), ("granted", "100000.00")]


def test_gaps_and_overlaps_reported(policy: engine.CompiledPolicy) -> None:
    a = policy
    b = dataclasses.replace(policy, version="late", funding_years=(2026, 2028))
    gap = PolicySet((a, b)).report()
    assert [(p.code, p.severity) for p in gap] == [("versions.gap", "warning")]
    assert "2024-2025" in gap[0].message

    c = dataclasses.replace(policy, version="overlapping", funding_years=(2023, 2025))
    both = PolicySet((a, c))
    overlap = both.report()
    assert [(p.code, p.severity) for p in overlap] == [("versions.overlap", "error")]
    assert "funding years 2023" in overlap[0].message
    with pytest.raises(engine.ClaimError) as exc:
        both.for_year(2023)  # ambiguous: refused rather than decided by an arbitrary version
    assert exc.value.problems[0].code == "versions.overlap"
    assert both.for_year(2022).version == "2020.1" and both.for_year(2024).version == "overlapping"


def test_versions_of_different_policies_cannot_mix(policy: engine.CompiledPolicy) -> None:
    other = dataclasses.replace(policy, id="another-policy")
    with pytest.raises(engine.PolicyError, match="different policies"):
        PolicySet((policy, other))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=ROOT, check=False)


def test_cli_evaluate_with_several_versions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = _run("evaluate", "--policy", "policies/pinggu_2020.yaml", "--policy", str(DRAFT), "--no-trace", str(EXAMPLE))
    assert out.returncode == 0, out.stderr
    assert '"version": "2020.1"' in out.stdout and '"total": "804200.00"' in out.stdout
    late = tmp_path / "late.json"
    late.write_text(EXAMPLE.read_text(encoding="utf-8").replace('"funding_year": 2021', '"funding_year": 2027'), encoding="utf-8")
    out = _run("evaluate", "--policy", "policies/pinggu_2020.yaml", "--policy", str(DRAFT), str(late))
    assert out.returncode == 1
    assert "2021-2023" in out.stderr and "2024-2026" in out.stderr
    out = _run("versions", "policies/pinggu_2020.yaml", str(DRAFT.parent))
    assert out.returncode == 0 and "2 version(s)" in out.stdout


def test_pick_and_for_decision(versions: PolicySet, policy: engine.CompiledPolicy) -> None:
    old, new = versions.versions
    assert versions.newest is new
    assert versions.pick({"funding_year": 2022}) is old and versions.pick({"funding_year": 2025}) is new
    with pytest.raises(engine.ClaimError, match="funding years 2021-2023"):
        versions.pick({"funding_year": 2020})
    # One version decides every claim itself (its own in-force check names its window later).
    assert PolicySet((policy,)).pick({"funding_year": 2030}) is policy
    # A decision names the version that made it by hash; without one, its funding year decides.
    assert versions.for_decision({"policy": {"hash": old.content_hash}, "funding_year": 2025}) is old
    assert versions.for_decision({"funding_year": 2025}) is new


def test_a_funding_year_that_is_no_whole_year_is_said_as_json_writes_it(versions: PolicySet) -> None:
    # a red team read 现为 Decimal('2021.0') (and True, None): Python's writing of the values it had sent
    for written, said in (("2021.0", "2021.0"), ("true", "true"), ("null", "null"), ('"2021"', '"2021"')):
        with pytest.raises(engine.ClaimError) as exc:
            versions.for_data(engine.loads_json('{"funding_year": ' + written + "}"))
        assert exc.value.problems[0].message == (
            f"funding_year is {said}: it must be a whole year such as 2021 to choose a policy version by"
        )


def test_a_funding_year_that_cannot_be_read_is_said_with_the_problems_every_version_finds(versions: PolicySet) -> None:
    """A claim whose funding year is "2O21" (a letter O) cannot be given a version; its grant date 2021-13-18 and its
    fees "8,400.00元" are problems under either version, and were said only once the year was mended, a run later. An
    item of 知识产权管理体系认证, a type the 2024 draft has dropped, is a problem under one version only: not said."""
    data = claim(
        item("invention_patent_grant", "p1", date="2021-13-18", official_fees_paid="8,400.00元"),
        item("ip_management_certification", "c1", certificate_id=12),
    )
    data["funding_year"] = "2O21"
    with pytest.raises(engine.ClaimError) as exc:
        versions.pick(data)
    said = [(p.path, tr(p.message, "zh")) for p in exc.value.problems]
    assert said == [
        (("funding_year",), 'funding_year（申报年度）现为 "2O21"：应为整数年份，如 2021，才能据此选择政策版本'),
        (("items", 0, "date"), "'2021-13-18' 不是日历上存在的日期"),
        (("items", 0, "official_fees_paid"), "'8,400.00元' 不符合规定的格式：数字中有千位分隔符（逗号）"),
    ]
    # a claim one version reads whole has no problem every version finds
    data = claim(item("ip_management_certification", "c1"))
    data["funding_year"] = "2O21"
    with pytest.raises(engine.ClaimError) as exc:
        versions.pick(data)
    assert [p.path for p in exc.value.problems] == [("funding_year",)]


def test_versions_names_the_measures_by_their_title_then_lists_each_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`versions` headed its listing 'pinggu-ip-promotion：2 个版本': the policy's id, a code, where officers know the
    measures by their title (as match's console, the notices and the coverage report name them); each version, by its
    number and file, is listed after it."""
    from engine.cli import main

    assert main(["--lang", "zh", "versions", str(POLICY_PATH), str(DRAFT)]) == 0
    assert capsys.readouterr().out == (
        f"平谷区知识产权促进办法：2 个版本\n  2020.1（{POLICY_PATH}）：申报年度 2021-2023\n  2024.1-draft（{DRAFT}）：申报年度 2024-2026\n"
    )
    assert main(["--lang", "en", "versions", str(POLICY_PATH), str(DRAFT)]) == 0
    assert capsys.readouterr().out == (
        "Pinggu District Intellectual Property Promotion Measures: 2 version(s)\n"
        f"  2020.1 ({POLICY_PATH}): funding years 2021-2023\n"
        f"  2024.1-draft ({DRAFT}): funding years 2024-2026\n"
    )
