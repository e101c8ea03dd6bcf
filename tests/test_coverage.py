"""Clause coverage of the Pinggu policy by its YAML suite: 100% of computable clauses and of cap/limit branches."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

import engine
from engine.casefile import load_cases, run_cases
from engine.coverage import CoverageReport, branches_of, coverage

SUITE = ROOT / "policies" / "tests"


@pytest.fixture(scope="module")
def report(policy: engine.CompiledPolicy) -> CoverageReport:
    return coverage(policy, run_cases(load_cases([SUITE]), policy))


def test_every_computable_clause_and_branch(report: CoverageReport) -> None:
    assert report.cases_failed == []
    assert report.missing() == []
    assert report.clause_percent == 100 and report.branch_percent == 100
    computable = {c.key for c in report.computable}
    assert len(computable) == 22
    assert {"第六条第（四）项第二款", "第十七条", "第十二条", "第四条第三款"} <= computable


def test_branches_enumerated_from_the_policy(policy: engine.CompiledPolicy) -> None:
    keys = {b.key for b in branches_of(policy)}
    # every cap: reduced and exhausted; every limit and condition: refused
    for cap in ("pledge-annual-cap", "insurance-annual-cap", "securitisation-total-cap", "platform-total-cap", "alliance-total-cap", "project-cap", "agency-cap"):
        assert {f"reduced:{cap}", f"exhausted:{cap}"} <= keys
    for limit in ("invention-patent-once", "pledge-three-times", "insurance-two-years", "national-title-once", "certification-once"):
        assert f"refused:{limit}" in keys
    assert {"self-transformation-referral:referred", "service-agency-performance:pending_review", "error:not_in_force"} <= keys
    assert "refused:invention-patent-fees#who" not in keys  # open to every kind: no such branch


def test_partial_suite_falls_short(policy: engine.CompiledPolicy) -> None:
    part = coverage(policy, run_cases(load_cases([SUITE / "art5_creation.yaml"]), policy))
    assert part.clause_percent < 100 and part.branch_percent < 100
    missing = part.missing()
    assert "clause 第六条第（一）项" in missing
    assert any(m.startswith("branch reduced:pledge-annual-cap") for m in missing)
    clause = next(c for c in part.clauses if c.key == "第五条第（一）项")
    assert clause.encoded_by == ["rule invention-patent-fees"] and clause.exercised


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=ROOT, check=False)


def test_cli_threshold_and_html(tmp_path: Path) -> None:
    ok = _run("coverage", "policies/pinggu_2020.yaml", "--tests", "policies/tests", "--min", "100")
    assert ok.returncode == 0, ok.stderr
    assert "22/22 computable clauses exercised (100.0%)" in ok.stdout
    out = tmp_path / "cov.html"
    low = _run("coverage", "policies/pinggu_2020.yaml", "--tests", "policies/tests/art5_creation.yaml", "--min", "100", "--format", "html", "--out", str(out))
    assert low.returncode == 1 and "coverage under 100%" in low.stderr
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "第五条第（一）项" in html and "class='miss'" in html
