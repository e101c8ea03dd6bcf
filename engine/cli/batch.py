"""CLI commands of the batch runner and the ledger (registered into engine.cli.COMMANDS on import).

python -m engine batch --policy POLICY [--policy POLICY...] INPUT [--ledger URL] [--commit] [--replace] [--out DIR] [--quiet]
python -m engine batch-template --policy POLICY OUT.xlsx [--from CLAIMS.jsonl]
python -m engine ledger info|verify|grants|reverse|finding [--policy POLICY] [--ledger URL] ...

info, verify and grants only read: a ledger that does not exist is an error (exit 1), never created.

`--policy` may be repeated or name a folder (engine.deciding.versions): each application is decided by the
version in force for its funding year; a template is drawn for the newest version (and says so).
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal, InvalidOperation

from engine.cli import EXIT_INVALID, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, command
from engine.cli.common import add_encoding_argument, add_policy_argument, policy_versions
from engine.deciding.versions import PolicySet
from engine.records.batch import budget_table, run_batch
from engine.records.inputs import open_claims
from engine.records.ledger import LEDGER_ENV, Ledger, LedgerError, LedgerUrlError, check_finding, check_reversal, default_url, masked_url
from engine.records.tabular import InputError, OutputError, output_file, write_claims_workbook
from engine.records.workers import MAX_WORKERS


def cmd_batch(args: argparse.Namespace) -> int:
    versions = policy_versions(args.policy)
    if versions is None:
        return EXIT_INVALID
    if args.replace and not args.commit:
        print("--replace needs --commit", file=sys.stderr)
        return EXIT_USAGE
    if not 1 <= args.workers <= MAX_WORKERS:
        print(f"--workers must be between 1 and {MAX_WORKERS}", file=sys.stderr)
        return EXIT_USAGE
    try:
        summary = run_batch(
            versions,
            args.input,
            args.out,
            ledger_url=args.ledger,
            commit=args.commit,
            replace=args.replace,
            round_label=args.round,
            trace=not args.no_trace,
            quiet=args.quiet,
            report=not args.no_report,
            workers=args.workers,
            encoding=args.encoding,
        )
    except LedgerUrlError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except (InputError, LedgerError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID
    except OutputError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if not args.quiet:
        print(budget_table(summary, versions), end="")
        ledger_note = (
            f"; ledger: {summary.committed} committed, {summary.replaced} replaced, {summary.already_committed} already committed"
            if args.commit
            else "; nothing committed (use --commit)"
        )
        print(
            f"{summary.applications} applications: {summary.decided} decided, {summary.failed} failed (see errors.jsonl); "
            f"{summary.items} items; approved total {summary.approved_total}{ledger_note}; outputs in {args.out}/"
        )
    return EXIT_PARTIAL if summary.failed else EXIT_OK


@command("batch", "decide a round of applications (JSON Lines, JSON/YAML list, CSV, XLSX); optionally commit to the ledger", cmd_batch)
def _configure_batch(p: argparse.ArgumentParser) -> None:
    add_policy_argument(p)
    p.add_argument(
        "input", metavar="INPUT", help="applications: .jsonl, .json or .yaml, .csv, .xlsx (sheets applicants + items), or a folder of them"
    )
    add_encoding_argument(p)
    p.add_argument("--ledger", metavar="URL", help=f"sqlite:///path or postgresql://... (default: ${LEDGER_ENV} or {default_url()})")
    p.add_argument("--commit", action="store_true", help="record the grants in the ledger (default: decide only)")
    p.add_argument(
        "--replace", action="store_true", help="with --commit: an application whose claim id is committed with other content replaces it"
    )
    p.add_argument(
        "--round",
        metavar="LABEL",
        help="round label for the budget (default: one round per policy id and funding year; a labelled round takes the budget "
        "of the version in force for its latest funding year)",
    )
    p.add_argument("--out", metavar="DIR", default="batch-out", help="output directory (default: batch-out)")
    p.add_argument("--no-trace", action="store_true", help="omit the step-by-step trace from decisions.jsonl")
    p.add_argument(
        "--no-report",
        action="store_true",
        help="no HTML report (report.html holds every application in memory until written; rounds over 10,000 skip it anyway)",
    )
    p.add_argument(
        "--workers",
        metavar="N",
        type=int,
        default=1,
        help=f"decide on N processes (1-{MAX_WORKERS}; default 1): the same decisions, in the same order, as one",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary table")


def cmd_template(args: argparse.Namespace) -> int:
    versions = policy_versions(args.policy)
    if versions is None:
        return EXIT_INVALID
    policy = versions.newest
    if len(versions.versions) > 1:
        print(
            f"template for the newest version: {policy.version} ({policy.file}), "
            f"funding years {policy.funding_years[0]}-{policy.funding_years[1]}",
            file=sys.stderr,
        )
    out = output_file(args.out)  # before the input is read: its folder created, or an OutputError (exit 2)
    claims = []
    if args.source:
        try:
            reader = open_claims(args.source, policy, args.encoding)
        except InputError as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_INVALID
        try:
            claims = [r.data for r in reader if r.data is not None]
        except InputError as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_INVALID
        finally:
            reader.close()
    try:
        altered = write_claims_workbook(policy, claims, out)
    except OSError as exc:
        print(f"error: {args.out}: cannot be written ({exc.strerror or exc})", file=sys.stderr)
        return EXIT_USAGE
    if altered:
        print(f"warning: {altered}", file=sys.stderr)
    return EXIT_OK


@command("batch-template", "write the Excel workbook a batch reads (empty template, or filled from claims)", cmd_template)
def _configure_template(p: argparse.ArgumentParser) -> None:
    add_policy_argument(p, help="policy YAML file; with several versions (repeated, or a folder) the template is for the newest")
    p.add_argument("out", metavar="OUT.xlsx", help="workbook to write")
    p.add_argument("--from", dest="source", metavar="INPUT", help="fill it with the applications of this input (any input batch reads)")
    add_encoding_argument(p)


READ_ONLY = ("info", "verify", "grants")  # never create a ledger: a mistyped path is an error, not a new empty ledger


def open_ledger(url: str | None, *, create: bool) -> Ledger | int:
    """The ledger at `url`, or the exit code after a one-line error (unknown URL kind: usage error)."""
    try:
        return Ledger(url, create=create)
    except LedgerUrlError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except LedgerError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID


def cmd_ledger(args: argparse.Namespace) -> int:
    versions: PolicySet | None = None
    if args.action in ("verify", "finding") and not args.policy:
        print(f"{args.action} needs --policy", file=sys.stderr)
        return EXIT_USAGE
    if args.action == "reverse" and not (args.claim and args.item and args.reason):
        print("reverse needs --claim, --item and --reason", file=sys.stderr)
        return EXIT_USAGE
    if args.action == "finding" and not (args.applicant and args.fact and args.value and args.reason):
        print("finding needs --policy, --applicant, --fact, --value and --reason", file=sys.stderr)
        return EXIT_USAGE
    if args.policy:
        versions = policy_versions(args.policy)
        if versions is None:
            return EXIT_INVALID
    returned: Decimal | None = None
    if args.action == "reverse":
        quantum = min((v.quantum for v in versions.versions), default=Decimal("0.01")) if versions else Decimal("0.01")
        try:
            returned = Decimal(args.returned) if args.returned else None
        except InvalidOperation:
            print(f"--returned {args.returned!r} is not an amount", file=sys.stderr)
            return EXIT_USAGE
        try:  # checked before the ledger is opened (or created)
            check_reversal(returned, args.date, quantum)
        except LedgerError as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_INVALID
    if args.action == "finding":
        assert versions is not None
        try:
            check_finding(versions.versions, args.applicant, args.fact, args.value)
        except LedgerError as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_INVALID
    ledger = open_ledger(args.ledger, create=args.action not in READ_ONLY)
    if isinstance(ledger, int):
        return ledger
    with ledger:
        try:
            return _ledger_action(args, ledger, versions, returned)
        except LedgerError as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_INVALID


def _ledger_action(args: argparse.Namespace, ledger: Ledger, versions: PolicySet | None, returned: Decimal | None) -> int:
    if args.action == "info":
        print(json.dumps({"url": masked_url(ledger.url), "schema_version": ledger.schema_version(), **ledger.counts()}, indent=2))
    elif args.action == "verify":
        assert versions is not None
        problems = ledger.verify(versions.versions)
        for p in problems:
            print(p)
        print(f"{len(problems)} violation(s)", file=sys.stderr)
        return EXIT_INVALID if problems else EXIT_OK
    elif args.action == "grants":
        for g in ledger.grants(applicant_id=args.applicant, include_superseded=True):
            print(json.dumps(g, ensure_ascii=False))
    elif args.action == "reverse":
        quantum = min((v.quantum for v in versions.versions), default=Decimal("0.01")) if versions else Decimal("0.01")
        print(ledger.reverse(args.claim, args.item, reason=args.reason, returned=returned, decided_on=args.date, quantum=quantum))
    elif args.action == "finding":
        assert versions is not None
        print(ledger.record_finding(args.applicant, args.fact, args.value, reason=args.reason, policy=versions.versions))
    return EXIT_OK


@command("ledger", "inspect and maintain the grants ledger: info, verify, grants, reverse, finding", cmd_ledger)
def _configure_ledger(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["verify", "grants", "reverse", "finding", "info"], help="what to do")
    add_policy_argument(
        p,
        required=False,
        help="verify, finding (required): policy YAML file; repeat it (or give a folder) for several versions: verify holds each grant "
        "to the version that decided it (the one in force for its funding year); finding checks the fact and its value against the applicant vocabulary; reverse: the money quantum (default 0.01)",
    )
    p.add_argument("--ledger", metavar="URL", help=f"ledger URL (default: ${LEDGER_ENV} or {default_url()})")
    p.add_argument("--applicant", metavar="ID", help="grants/finding: the applicant")
    p.add_argument("--claim", metavar="CLAIM_ID", help="reverse: the claim")
    p.add_argument("--item", metavar="ITEM_ID", help="reverse: the item")
    p.add_argument("--returned", metavar="YUAN", help="reverse: amount returned (default: the whole grant)")
    p.add_argument(
        "--fact", metavar="FACT", help="finding: the applicant fact recorded (e.g. the date of a finding; a list fact gets one more value)"
    )
    p.add_argument("--value", metavar="VALUE", help="finding: its value")
    p.add_argument("--reason", metavar="TEXT", default="", help="reverse/finding: why")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="reverse: date of the decision to reclaim the funds")
