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
from engine.cli.common import add_encoding_argument, describe, print_error, say, say_error, write_output
from engine.core.errors import EngineError
from engine.core.i18n import Msg, msg, tr
from engine.deciding.claims import label
from engine.deciding.ready import load_policy
from engine.deciding.versions import PolicySet
from engine.officer.casefile import format_results as format_cases
from engine.officer.casefile import load_cases, run_cases
from engine.officer.coverage import coverage
from engine.officer.diff import CLAIM_FORMATS, diff_policies, format_changes, format_impact, impact, read_claims, same_version, to_json
from engine.officer.lint import format_problem, lint_file
from engine.records.batch import Steps
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
            say(format_problem(p))
        say(msg("cli.lint.summary", files=len(args.policies), errors=errors, warnings=warnings))
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
    for text in format_cases(results, args.verbose):
        say(text)
    say(msg("cli.test.summary", n=len(results), passed=len(results) - len(failed), failed=len(failed)))
    if not results:
        say(msg("cli.test.none_found", paths=list(args.paths)), err=True)
    return EXIT_INVALID if failed or not results else EXIT_OK


def cmd_coverage(args: argparse.Namespace) -> int:
    try:
        policy = load_policy(args.policy)
        cases = load_cases(args.tests)
    except EngineError as err:
        print_error(err)
        return EXIT_INVALID
    if not cases:  # (as `test` says it: a coverage of no case is no coverage, not a pass)
        say(msg("cli.test.none_found", paths=list(args.tests)), err=True)
        return EXIT_INVALID
    report = coverage(policy, run_cases(cases, policy))
    text = report.to_html() if args.format == "html" else report.to_text()
    write_output(text, args.out)
    if args.out:
        say(report.summary())
    if args.min is not None:
        need = args.min.normalize()
        if report.clause_percent < need or report.branch_percent < need:
            say(msg("cli.coverage.under", need=f"{need:f}", clauses=report.clause_percent, branches=report.branch_percent), err=True)
            return EXIT_INVALID
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    # reading the claims and each version's round said as steps, with a bar once long, on a terminal (stderr): a
    # round of 3,000 claims took ~20 s in silence
    steps = Steps(sys.stderr, True)
    try:
        try:
            old, new = load_policy(args.old), load_policy(args.new)
            if args.claims:
                steps.start(msg("diff.step.reading", path=args.claims))
            noticed: list[Msg] = []
            claims = read_claims(args.claims, old, new, encoding=args.encoding, noticed=noticed) if args.claims else None
        except EngineError as err:
            steps.done()
            print_error(err)
            return EXIT_INVALID
        except InputError as err:
            steps.done()
            say_error(msg("cli.diff.unreadable", error=describe(err), formats=CLAIM_FORMATS))
            return EXIT_INVALID
        steps.done()
        for notice in noticed:  # (as batch says them, before the comparison)
            say(msg("batch.warning", warning=notice), err=True)
        changes = diff_policies(old, new)
        bumped = same_version(old, new, changes)
        if bumped is not None:  # (a slip the officer is to mend, said before the changes, as the reader's notices are)
            say(msg("batch.warning", warning=bumped), err=True)
        result = impact(old, new, claims, steps) if claims is not None else None
    finally:
        steps.done()  # (its line ended before anything after it: an error, Ctrl-C's 已中断, the diff)
    if args.json:
        sys.stdout.write(to_json(changes, result, [*noticed, *([bumped] if bumped is not None else [])]))
    else:
        say(format_changes(old, new, changes), end="")
        if result is not None:
            say("")
            say(format_impact(result), end="")
    if result is not None and result.errors:
        say(msg("cli.diff.not_compared", n=len(result.errors), claims=result.claims), err=True)
        return EXIT_PARTIAL
    return EXIT_OK


def cmd_versions(args: argparse.Namespace) -> int:
    try:
        versions = PolicySet.load(args.policies)
    except EngineError as err:
        print_error(err)
        return EXIT_INVALID
    # (the measures by their title, as officers know them, where it said the id; each version is listed after it)
    say(msg("cli.versions.count", policy=label(versions.newest.title), n=len(versions.versions)))
    for w in versions.windows(where=True):
        say(f"  {tr(w)}")
    problems = versions.report()
    for p in problems:  # at the later version's `funding_years`, with the fix: as lint says a problem
        say(format_problem(p))
    return EXIT_INVALID if any(p.severity == "error" for p in problems) else EXIT_OK


@command("lint", msg("cli.lint.help"), cmd_lint)
def _configure_lint(p: argparse.ArgumentParser) -> None:
    p.add_argument("policies", nargs="+", metavar="POLICY", help=msg("cli.common.policy_files"))
    p.add_argument("--strict", action="store_true", help=msg("cli.lint.strict"))
    p.add_argument("--json", action="store_true", help=msg("cli.lint.json"))


@command("test", msg("cli.test.help"), cmd_test)
def _configure_test(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help=msg("cli.test.paths"))
    p.add_argument("--policy", metavar="POLICY", help=msg("cli.test.policy"))
    p.add_argument("-v", "--verbose", action="store_true", help=msg("cli.test.verbose"))


def _percent(text: str) -> Decimal:
    """A --min threshold: a number from 0 to 100; one written with a percent sign (100%, 100％) is said with the
    number to write."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        bare = text.strip().rstrip("%％").strip()
        if bare != text.strip() and _number_or_none(bare) is not None:
            raise argparse.ArgumentTypeError(tr(msg("cli.coverage.not_number_fix", value=repr(text), fix=bare))) from None
        raise argparse.ArgumentTypeError(tr(msg("cli.coverage.not_number", value=repr(text)))) from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(tr(msg("cli.coverage.not_percent", value=text)))
    return value


def _number_or_none(text: str) -> Decimal | None:
    """`text` as a finite number, or None."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


@command("coverage", msg("cli.coverage.help"), cmd_coverage)
def _configure_coverage(p: argparse.ArgumentParser) -> None:
    p.epilog = msg("cli.coverage.epilog", codes=p.epilog or "")
    p.add_argument("policy", metavar="POLICY", help=msg("cli.common.policy_file"))
    p.add_argument("--tests", action="append", required=True, metavar="PATH", help=msg("cli.coverage.tests"))
    p.add_argument("--format", choices=("text", "html"), default="text", help=msg("cli.coverage.format"))
    p.add_argument("--out", metavar="FILE", help=msg("cli.coverage.out"))
    p.add_argument("--min", type=_percent, metavar="PERCENT", help=msg("cli.coverage.min"))


@command("diff", msg("cli.diff.help"), cmd_diff)
def _configure_diff(p: argparse.ArgumentParser) -> None:
    p.add_argument("old", metavar="OLD", help=msg("cli.diff.old"))
    p.add_argument("new", metavar="NEW", help=msg("cli.diff.new"))
    p.add_argument("--claims", metavar="FILE", help=msg("cli.diff.claims", formats=CLAIM_FORMATS))
    p.add_argument("--json", action="store_true", help=msg("cli.diff.json"))
    add_encoding_argument(p)


@command("versions", msg("cli.versions.help"), cmd_versions)
def _configure_versions(p: argparse.ArgumentParser) -> None:
    p.add_argument("policies", nargs="+", metavar="POLICY", help=msg("cli.versions.policies"))
