"""Commands for the policy officer: lint, test, coverage, diff, versions.

python -m engine lint POLICY... [--strict] [--json]
python -m engine test PATH... [--policy POLICY] [-v]
python -m engine coverage POLICY --tests PATH [--tests PATH...] [--format text|html] [--out FILE] [--min PERCENT]
python -m engine diff OLD NEW [--claims FILE|DIR] [--json]
python -m engine versions POLICY...|DIR
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal, InvalidOperation

from engine.cli import EXIT_INVALID, EXIT_OK, EXIT_PARTIAL, command
from engine.cli.common import add_encoding_argument, print_error, write_output
from engine.core.errors import EngineError
from engine.deciding.ready import load_policy
from engine.deciding.versions import PolicySet
from engine.officer.casefile import format_result as format_case
from engine.officer.casefile import load_cases, run_cases
from engine.officer.coverage import coverage
from engine.officer.diff import CLAIM_FORMATS, diff_policies, format_changes, format_impact, impact, read_claims, to_json
from engine.officer.lint import format_problem, lint_file
from engine.records.tabular import InputError


def cmd_lint(args: argparse.Namespace) -> int:
    errors = warnings = 0
    out = []
    for path in args.policies:
        for p in lint_file(path):
            out.append(p)
            if p.severity == "error":
                errors += 1
            else:
                warnings += 1
    if args.json:
        print(json.dumps([p.to_dict() for p in out], ensure_ascii=False, indent=2))
    else:
        for p in out:
            print(format_problem(p))
        print(f"{len(args.policies)} file(s): {errors} error(s), {warnings} warning(s)")
    return EXIT_INVALID if errors or (args.strict and warnings) else EXIT_OK


def cmd_test(args: argparse.Namespace) -> int:
    try:
        policy = load_policy(args.policy) if args.policy else None
        cases = load_cases(args.paths)
    except EngineError as err:
        print_error(err)
        return EXIT_INVALID
    results = run_cases(cases, policy)
    failed = [r for r in results if not r.passed]
    for r in results:
        if not r.passed or args.verbose:
            print(format_case(r))
    print(f"{len(results)} case(s): {len(results) - len(failed)} passed, {len(failed)} failed")
    return EXIT_INVALID if failed or not results else EXIT_OK


def cmd_coverage(args: argparse.Namespace) -> int:
    try:
        policy = load_policy(args.policy)
        cases = load_cases(args.tests)
    except EngineError as err:
        print_error(err)
        return EXIT_INVALID
    report = coverage(policy, run_cases(cases, policy))
    text = report.to_html() if args.format == "html" else report.to_text()
    write_output(text, args.out)
    if args.out:
        print(report.summary())
    if args.min is not None:
        need = args.min.normalize()
        if report.clause_percent < need or report.branch_percent < need:
            print(f"coverage under {need:f}%: clauses {report.clause_percent}%, branches {report.branch_percent}%", file=sys.stderr)
            return EXIT_INVALID
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    try:
        old, new = load_policy(args.old), load_policy(args.new)
        claims = read_claims(args.claims, old, new, encoding=args.encoding) if args.claims else None
    except EngineError as err:
        print_error(err)
        return EXIT_INVALID
    except InputError as err:
        print(f"error: {err}\n(--claims reads {CLAIM_FORMATS})", file=sys.stderr)
        return EXIT_INVALID
    changes = diff_policies(old, new)
    result = impact(old, new, claims) if claims is not None else None
    if args.json:
        sys.stdout.write(to_json(changes, result))
    else:
        sys.stdout.write(format_changes(old, new, changes))
        if result is not None:
            sys.stdout.write("\n" + format_impact(result))
    if result is not None and result.errors:
        print(f"{len(result.errors)} of {result.claims} claim(s) could not be compared (invalid or unreadable)", file=sys.stderr)
        return EXIT_PARTIAL
    return EXIT_OK


def cmd_versions(args: argparse.Namespace) -> int:
    try:
        versions = PolicySet.load(args.policies)
    except EngineError as err:
        print_error(err)
        return EXIT_INVALID
    print(f"{versions.id}: {len(versions.versions)} version(s)")
    for w in versions.windows():
        print(f"  {w}")
    problems = versions.report()
    for p in problems:
        print(f"{p.severity}: {p.message}")
    return EXIT_INVALID if any(p.severity == "error" for p in problems) else EXIT_OK


@command("lint", "find what a schema cannot see: unreachable rules, idle caps, unencoded clauses, numbers not in the text", cmd_lint)
def _configure_lint(p: argparse.ArgumentParser) -> None:
    p.add_argument("policies", nargs="+", metavar="POLICY", help="policy YAML file(s)")
    p.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")


@command("test", "run officers' YAML test cases; a failure shows expected vs got and the trace step where they part", cmd_test)
def _configure_test(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="case files (.yaml) or folders of them")
    p.add_argument("--policy", metavar="POLICY", help="decide every case under this policy (default: each file's `policy:`)")
    p.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")


def _percent(text: str) -> Decimal:
    """A --min threshold: a number from 0 to 100."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} is not a percentage from 0 to 100")
    return value


COVERAGE_EXAMPLE = """example:
  python -m engine coverage policies/<measures>.yaml --tests policies/tests --min 100
  python -m engine coverage --tests policies/tests --tests more/cases.yaml POLICY --format html --out cov.html

"""


@command("coverage", "clause and branch coverage of a policy by YAML test cases", cmd_coverage)
def _configure_coverage(p: argparse.ArgumentParser) -> None:
    p.epilog = COVERAGE_EXAMPLE + (p.epilog or "")
    p.add_argument("policy", metavar="POLICY", help="policy YAML file")
    p.add_argument(
        "--tests",
        action="append",
        required=True,
        metavar="PATH",
        help="a case file (.yaml) or a folder of them, decided under POLICY; repeat --tests for several",
    )
    p.add_argument(
        "--format",
        choices=("text", "html"),
        default="text",
        help="text: a table on the terminal (default); html: a standalone page (with --out, only the summary is printed)",
    )
    p.add_argument("--out", metavar="FILE", help="write the report here; print only the summary")
    p.add_argument(
        "--min", type=_percent, metavar="PERCENT", help="exit 1 if clause or branch coverage is under PERCENT (0 to 100, e.g. 100)"
    )


@command("diff", "changes between two versions in the officer's terms; with --claims, the impact on a round", cmd_diff)
def _configure_diff(p: argparse.ArgumentParser) -> None:
    p.add_argument("old", metavar="OLD", help="the policy in force")
    p.add_argument("new", metavar="NEW", help="the revision")
    p.add_argument(
        "--claims",
        metavar="FILE",
        help=f"a round of applications, read as `batch` reads them: {CLAIM_FORMATS}; show the impact. "
        "A claim that cannot be compared is reported with its line (or sheet and row) and field, and the exit code is 3",
    )
    p.add_argument("--json", action="store_true", help="print changes and impact as JSON")
    add_encoding_argument(p)


@command("versions", "list the versions of a policy by funding year; report gaps and overlaps", cmd_versions)
def _configure_versions(p: argparse.ArgumentParser) -> None:
    p.add_argument("policies", nargs="+", metavar="POLICY", help="versions of one policy (files, or folders of *.yaml)")
