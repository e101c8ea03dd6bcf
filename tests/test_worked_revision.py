"""The worked revision of docs/authoring.*.md, end to end: edit -> lint -> test -> coverage -> diff with impact.

The revision (policies/revisions/pinggu_2024_draft.yaml) raises the 第六条第（一）项 annual cap 30万 -> 50万,
the 第六条第（二）项 rate 50% -> 60%, retires 第七条第（三）项 and is in force for funding years 2024-2026.
Every figure below is computed by hand in the guide.
"""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from unittest.mock import ANY

import pytest
from conftest import POLICY_PATH, ROOT

import engine
from engine.deciding.versions import PolicySet
from engine.officer.casefile import load_cases, run_cases
from engine.officer.coverage import coverage
from engine.officer.diff import diff_policies, impact, read_claims
from engine.officer.lint import lint_file

REV = ROOT / "policies" / "revisions"
DRAFT = REV / "pinggu_2024_draft.yaml"
ROUND = REV / "round_2021_sample.jsonl"


@pytest.fixture(scope="module")
def draft() -> engine.CompiledPolicy:
    return engine.load_policy(DRAFT)


def test_step1_lint_has_no_errors() -> None:
    problems = lint_file(DRAFT)
    assert [p for p in problems if p.severity == "error"] == []
    assert problems == []  # record-keeping facts are marked `record_only: true`


def test_step2_carried_over_suite_passes(draft: engine.CompiledPolicy) -> None:
    results = run_cases(load_cases([REV / "tests"]))
    failed = [r.case.id for r in results if not r.passed]
    assert failed == [] and len(results) >= 60
    assert all(r.policy is not None and r.policy.version == "2024.1-draft" for r in results)


def test_step3_coverage_is_complete(draft: engine.CompiledPolicy) -> None:
    report = coverage(draft, run_cases(load_cases([REV / "tests"]), draft))
    assert report.missing() == [] and report.clause_percent == 100 and report.branch_percent == 100
    assert len(report.computable) == 21  # 22 computable clauses less the retired 第七条第（三）项


def test_step4_diff_in_the_officers_terms(policy: engine.CompiledPolicy, draft: engine.CompiledPolicy) -> None:
    got = [(c.clause, c.kind, c.subject, c.old, c.new) for c in diff_policies(policy, draft)]
    old_r, new_r = {r.id: r.text for r in policy.readings}, {r.id: r.text for r in draft.readings}

    def reading(clause: str, rid: str) -> list[tuple[str, str, str, str | None, str | None]]:
        # the draft rewrites R11 (500,000), R12 (60%) and R17 (no GB/T 29490 certification) with their clauses;
        # each is reported under the clause of the first part citing it
        return [(clause, "reading.text", f"{rid}.{lang}", getattr(old_r[rid], lang), getattr(new_r[rid], lang)) for lang in ("zh", "en")]

    assert got == [
        ("(policy)", "version", "policy", "2020.1", "2024.1-draft"),
        (
            "(policy)",
            "policy.changed",
            "policy.source_text",
            '"texts/pinggu_ip_measures.zh.txt"',
            '"texts/pinggu_ip_measures_2024_draft.zh.txt"',
        ),
        (
            "第六条第（一）项",
            "clause.text",
            "第六条第（一）项",
            policy.clauses["第六条第（一）项"].text,
            draft.clauses["第六条第（一）项"].text,
        ),
        ("第六条第（一）项", "cap", "pledge-annual-cap", "30万", "50万"),
        *reading("第六条第（一）项", "R11"),
        # the cap's own words, which its explanation quotes, said with it (diff said nothing of them)
        (
            "第六条第（一）项",
            "words.changed",
            "rules[pledge-loan-interest].caps[pledge-annual-cap].says.zh",
            "每家企业每年享受贴息补助最高不超过30万元",
            "每家企业每年享受贴息补助最高不超过50万元",
        ),
        (
            "第六条第（一）项",
            "words.changed",
            "rules[pledge-loan-interest].caps[pledge-annual-cap].says.en",
            "at most CNY 300,000 of interest subsidy per enterprise per year",
            "at most CNY 500,000 of interest subsidy per enterprise per year",
        ),
        (
            "第六条第（二）项",
            "clause.text",
            "第六条第（二）项",
            policy.clauses["第六条第（二）项"].text,
            draft.clauses["第六条第（二）项"].text,
        ),
        ("第六条第（二）项", "rate", "patent-insurance", "50%", "60%"),
        *reading("第六条第（二）项", "R12"),
        *reading("第七条第（一）项", "R17"),
        ("第七条第（三）项", "clause.removed", "第七条第（三）项", policy.clauses["第七条第（三）项"].text, None),
        ("第七条第（三）项", "item_type.removed", "ip_management_certification", "ip_management_certification", None),
        ("第七条第（三）项", "rule.retired", "ip-management-certification", "5万", None),
        ("第十七条", "window", "policy.in_force", "2021–2023", "2024–2026"),
        ("第十七条", "policy.changed", "policy.in_force.assumption", ANY, ANY),  # the header's other fields, generically
    ]
    texts = {c.subject: c.text for c in diff_policies(policy, draft)}
    assert texts["第六条第（一）项"] == "text changed: “…补助最高不超过 30 万元。” → “…补助最高不超过 50 万元。”"


def test_step5_impact_on_a_small_round(policy: engine.CompiledPolicy, draft: engine.CompiledPolicy) -> None:
    result = impact(policy, draft, read_claims(ROUND))
    assert result.claims == 3 and result.errors == []
    assert len(result.notes) == 1 and "2024–2026" in result.notes[0]  # the draft decides 2021 claims as a what-if
    changed = [(i.claim_id, i.item_id, i.old_status, i.old_amount, i.new_status, i.new_amount) for i in result.changed]
    assert changed == [
        # 200,000 interest × 50% = 100,000: the old 30万 cap left 50,000; under 50万 it is paid in full
        ("PG-2022-0001", "l2", "reduced", Decimal("50000.00"), "granted", Decimal("100000.00")),
        # 100,000 premium × 50% = 50,000 -> × 60% = 60,000 (under the 10万 annual cap)
        ("PG-2022-0002", "i1", "granted", Decimal("50000.00"), "granted", Decimal("60000.00")),
        # the certification reward of 5万 is retired with 第七条第（三）项
        ("PG-2022-0002", "c1", "granted", Decimal("50000.00"), "retired", Decimal("0")),
    ]
    assert result.by_article() == {
        "第五条": (Decimal("404200.00"), Decimal("404200.00")),  # 4,200 + 400,000
        "第六条": (
            Decimal("500000.00"),
            Decimal("560000.00"),
        ),  # 250,000 + 50,000 + 50,000 + 150,000 -> 250,000 + 100,000 + 60,000 + 150,000
        "第七条": (Decimal("150000.00"), Decimal("100000.00")),  # 100,000 + 50,000 -> 100,000
    }
    assert (result.total_old, result.total_new) == (Decimal("1054200.00"), Decimal("1064200.00"))


def test_step6_publish_versions_by_date(draft: engine.CompiledPolicy) -> None:
    versions = PolicySet.load([POLICY_PATH, DRAFT])
    assert versions.report() == []
    assert versions.for_year(2023).version == "2020.1" and versions.for_year(2024).version == "2024.1-draft"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=ROOT, check=False)


def test_the_guides_commands() -> None:
    """The exact commands of the guide, with the lines it quotes."""
    lint = _run("lint", "policies/revisions/pinggu_2024_draft.yaml")
    assert lint.returncode == 0 and "0 error(s)" in lint.stdout
    test = _run("test", "policies/revisions/tests")
    assert test.returncode == 0 and "77 case(s): 77 passed, 0 failed" in test.stdout
    cov = _run("coverage", "policies/revisions/pinggu_2024_draft.yaml", "--tests", "policies/revisions/tests", "--min", "100")
    assert cov.returncode == 0 and "21/21 computable clauses exercised (100.0%); branches: 76/76 (100.0%)" in cov.stdout
    diff = _run(
        "diff",
        "policies/pinggu_2020.yaml",
        "policies/revisions/pinggu_2024_draft.yaml",
        "--claims",
        "policies/revisions/round_2021_sample.jsonl",
    )
    assert diff.returncode == 0
    for line in (
        "  - pledge-loan-interest: cap pledge-annual-cap (per applicant, funding year) 30万 → 50万",
        "  - patent-insurance: rate 50% → 60%",
        "  - rule ip-management-certification retired (was: 5万, item type ip_management_certification)",
        "    PG-2022-0001 l2 (interest subsidy on an IP-pledged loan): reduced CNY 50,000.00 → granted CNY 100,000.00 (+CNY 50,000.00)",
        "    第六条: CNY 500,000.00 → CNY 560,000.00 (+CNY 60,000.00)",
        "    第七条: CNY 150,000.00 → CNY 100,000.00 (−CNY 50,000.00)",
        "  total: CNY 1,054,200.00 → CNY 1,064,200.00 (+CNY 10,000.00)",
    ):
        assert line in diff.stdout, diff.stdout
