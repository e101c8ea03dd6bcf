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
import getpass
import hashlib
import json
import os
import sqlite3
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.cli import EXIT_INVALID, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, command
from engine.cli.common import (
    WHOLE_NUMBER,
    Terminated,
    add_encoding_argument,
    add_policy_argument,
    describe,
    explanation_language,
    policy_versions,
    say,
    say_error,
    terminated_as_interrupt,
)
from engine.core.errors import ClaimError, EngineError, os_reason
from engine.core.i18n import Msg, language, lookup, msg, tr
from engine.core.quantities import amount_slip, format_money, plain_amount, said_money
from engine.deciding.versions import PolicySet
from engine.language.model import CompiledPolicy
from engine.records.batch import (
    FAILURES_SHOWN,
    BatchSummary,
    budget_table,
    claim_problems,
    error_record,
    headings_of,
    in_language,
    problem_said,
    run_batch,
)
from engine.records.inputs import RecordLocator, open_claims, other_record, where_text
from engine.records.ledger import (
    BUSY_SECONDS,
    LEDGER_ENV,
    Audit,
    Ledger,
    LedgerBusyError,
    LedgerError,
    LedgerMissing,
    LedgerUrlError,
    check_finding,
    check_reversal,
    default_url,
    finding_fact,
    finding_fact_named,
    masked_url,
    sqlite_busy,
    sqlite_reason,
)
from engine.records.statement import statement, statement_text, write_statement
from engine.records.tabular import InputError, OutputError, output_file, write_claims_workbook
from engine.records.template import unwritable
from engine.records.workers import MAX_WORKERS


def cmd_batch(args: argparse.Namespace) -> int:
    versions = policy_versions(args.policy)
    if versions is None:
        return EXIT_INVALID
    if args.replace and not args.commit:
        say(msg("cli.batch.replace_needs_commit"), err=True)
        return EXIT_USAGE
    if not 1 <= args.workers <= MAX_WORKERS:
        say(msg("cli.batch.workers_range", max=MAX_WORKERS), err=True)
        return EXIT_USAGE
    if args.output_processes is not None and not 0 <= args.output_processes <= MAX_WORKERS:
        say(msg("cli.batch.output_processes_range", max=MAX_WORKERS), err=True)
        return EXIT_USAGE
    audit = _RunAudit(args) if args.commit else None
    try:
        summary = _run(args, versions, audit)
    except LedgerUrlError as err:
        say_error(err)
        return EXIT_USAGE
    except (InputError, LedgerError) as err:
        say_error(err)
        return EXIT_INVALID
    except OutputError as err:
        say_error(err)
        return EXIT_USAGE
    if audit is not None:
        audit.ended(summary)
    if not args.quiet:
        say(budget_table(summary, versions), end="")
        ledger_note = (
            msg(
                "cli.batch.committed_new" if summary.ledger_new else "cli.batch.committed",
                url=summary.ledger_url,
                committed=summary.committed,
                replaced=summary.replaced,
                already=summary.already_committed,
            )
            if args.commit
            else msg("cli.batch.not_committed")
        )
        say(
            msg(
                "cli.batch.summary",
                applications=summary.applications,
                decided=summary.decided,
                failed=msg("cli.batch.failed_some", n=summary.failed) if summary.failed else msg("cli.batch.failed_none"),
                items=summary.items,
                total=said_money(summary.approved_total),  # (688,000.00 元: grouped, as the officers' sheets show it)
                ledger=ledger_note,
                out=os.path.normpath(args.out),
            )
        )
        if summary.failed:
            _say_failures(Path(args.out), versions)
    return EXIT_PARTIAL if summary.failed else EXIT_OK


def _run(args: argparse.Namespace, versions: PolicySet, audit: _RunAudit | None) -> BatchSummary:
    """`run_batch` as the command line asks it; a committing run audited at its start and, stopped part-way by any
    exception (Ctrl-C too; SIGTERM and SIGHUP are raised as it is, `terminated_as_interrupt`), at its stop, before the
    exception goes on to be said (`cmd_batch`, engine.cli's `_main`)."""
    try:
        with terminated_as_interrupt():
            return run_batch(
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
                report_lang=explanation_language(args),
                workers=args.workers,
                encoding=args.encoding,
                output_processes=args.output_processes,
                on_ledger=audit.started if audit is not None else None,
                replace_said=REPLACE_BY_OPTION,
            )
    except (Exception, KeyboardInterrupt) as err:
        if audit is not None:
            audit.stopped(err)
        raise


class _RunAudit:
    """A committing run's audit entries (action `batch`, its operator user@cli, target its output folder, detail what
    was asked: input, output folder, round, `--replace`, workers): one when it starts, and one when it ends.

    `started`, written once the ledger is open and before anything is decided (`run_batch(on_ledger=)`), with the
    number of the ledger's last commit then (`after_seq`): a run killed outright (SIGKILL, the machine off) writes
    nothing when it stops (SIGTERM and SIGHUP stop it as Ctrl-C does: `_run`), and its commits, each with its time,
    would name no operator; an entry written before the first commit does. A start that cannot be written stops the run before it commits
    anything: nothing unaudited. The end: `committed` or `nothing committed` (as the service says a round), with the
    run's counts, or `stopped` (any exception, Ctrl-C too) with the error as the officer was told it and the commits
    the ledger holds numbered after `after_seq` -- new, replacing, first and last number --, read from the ledger, not
    from the run's tallies (on workers the round is one transaction: stopped, it committed nothing, whatever it had
    counted). They are this run's unless another writer committed meanwhile: those writers' own entries tell them
    apart (the service audits each commit with its number, another run its range). Each ending entry names its
    `started` entry's id. An entry per application (`run_batch(audit=)`, the service's) would decide on one process;
    one at each end keeps the workers. The ending entry is a transaction of its own: if it cannot be written, the
    commits stand and the officer is told, and why."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.url = args.ledger or default_url()
        asked = {
            "input": os.path.abspath(args.input),
            "out": os.path.abspath(args.out),
            "round": args.round,
            "replace": args.replace,
            "workers": args.workers,
        }
        self.who = _cli_audit("batch", os.path.abspath(args.out), asked)
        self.after_seq = 0
        self.entry: int | None = None  # the `started` entry's id; None: the run never got as far

    def started(self, ledger: Ledger) -> None:
        self.after_seq = ledger.last_commit()
        who = self.who
        self.entry = ledger.record_audit(
            who.actor, who.roles, who.action, who.target, "started", {**who.detail, "after_seq": self.after_seq}
        )

    def ended(self, summary: BatchSummary) -> None:
        done = summary.to_dict()
        said = {"applications": summary.applications, "failed": summary.failed, "ledger": done["ledger"], "total": done["approved_total"]}
        # (a run all of whose applications were errors is not said "committed": as the service says a round)
        outcome = "committed" if summary.committed or summary.already_committed or summary.replaced else "nothing committed"
        self._write(outcome, said, "cli.batch.not_audited")

    def stopped(self, err: BaseException) -> None:
        if self.entry is None:  # (stopped before the ledger was open, or its start written: nothing committed)
            return
        self._write("stopped", {"error": _error_words(err)}, "cli.batch.stop_not_audited", stop=True)

    def _write(self, outcome: str, said: dict[str, Any], not_audited: str, stop: bool = False) -> None:
        who = self.who
        try:  # (a stop waits no longer than STOP_WAIT for the lock: Ctrl-C pressed, the officer is not kept minutes)
            with Ledger(self.url, create=False, busy_seconds=STOP_WAIT if stop else None) as ledger:
                if stop:  # (the ledger's count, not the run's tallies: see above)
                    said = {"ledger": ledger.commits_after(self.after_seq), **said}
                ledger.record_audit(who.actor, who.roles, who.action, who.target, outcome, {**who.detail, "started": self.entry, **said})
        except (LedgerError, sqlite3.Error) as err:  # (the commits stand; the officer is told they were not audited, and why)
            say_error(msg(not_audited, reason=_error_words(err)))


#: how long a stopped run's audit entry waits for another writer's lock on the ledger (seconds)
STOP_WAIT = 10


def _error_words(err: BaseException) -> str:
    """An error as the officer is told it (engine.cli's `_main` says Ctrl-C and an SQLite failure so): what stopped a
    run, or why its audit entry could not be written."""
    if isinstance(err, Terminated):
        return tr(msg("cli.terminated", signal=err.name))
    if isinstance(err, KeyboardInterrupt):
        return tr(msg("cli.interrupted"))
    if isinstance(err, sqlite3.DatabaseError):
        return tr(
            msg("ledger.busy", seconds=BUSY_SECONDS) if sqlite_busy(err) else msg("ledger.database_failed", reason=sqlite_reason(err))
        )
    if isinstance(err, EngineError) or (err.args and isinstance(err.args[0], Msg)):
        return describe(err)
    return tr(msg("batch.error.internal_detail", kind=type(err).__name__, detail=str(err)))


#: the problems of each error record a console lists (`FAILURES_SHOWN` records)
PROBLEMS_SHOWN = 5


def _say_problem(
    claim: str, problem: Mapping[str, Any], record: Mapping[str, Any], said: str, headings: Mapping[str, Any], lang: str, err: bool
) -> None:
    """One problem of an error record on the console, as the report says it (`problem_said`); its fix under it."""
    line, fix = problem_said(problem, record, said, headings, lang)
    say(msg("cli.batch.failure", claim=claim, problem=line), err=err)
    if fix is not None:
        say(msg("cli.batch.failure_fix", fix=fix), err=err)


def say_error_records(
    records: Iterable[Mapping[str, Any]],
    versions: PolicySet | Iterable[CompiledPolicy],
    err: bool = False,
    *,
    problems_shown: int = PROBLEMS_SHOWN,
) -> int:
    """The first `FAILURES_SHOWN` error records (as batch writes them to errors.jsonl; report's error rows) on the
    console, each problem a line with its fix under it (`_say_problem`), at most `PROBLEMS_SHOWN` a record; how many
    records were left unsaid. `err`: on stderr (report's summary is there)."""
    lang = language()
    headings = headings_of(versions)
    shown = more = 0
    for record in records:
        if shown == FAILURES_SHOWN:
            more += 1
            continue
        said, problems = in_language(record, lang)
        claim = record.get("claim_id") or "—"
        for problem in (problems or [{}])[:problems_shown]:
            _say_problem(claim, problem, record, said, headings, lang, err)
        if len(problems) > problems_shown:
            say(msg("cli.batch.failure_more_problems", n=len(problems) - problems_shown), err=err)
        shown += 1
    return more


def say_sheet_claim_error(err: EngineError, source: object, versions: PolicySet) -> bool:
    """`explain` and `evaluate` of one application read from a workbook's or a CSV file's rows (`round.xlsx:R-02`):
    its problems said as batch says them -- the sheet and row, the column's heading, the fix -- not by the claim's
    path (`items[0].official_fees_paid`), which names no column an officer sees. False (nothing said) for any other
    input: a JSON or YAML claim, a line of a .jsonl file (located by line and column)."""
    rec = source.record if isinstance(source, RecordLocator) else None
    if rec is None or not ("sheet" in rec.where or "row" in rec.where) or not isinstance(err, ClaimError):
        return False
    say(msg("core.summary", summary=err.summary, n=len(err.problems)), err=True)
    problems = claim_problems(rec, err)  # (every one: this application is all the command was asked about)
    say_error_records([error_record(rec, problems, err.summary)], versions, err=True, problems_shown=len(problems))
    return True


def _say_failures(out: Path, versions: PolicySet) -> None:
    """The first `FAILURES_SHOWN` error records of the run: each problem (at most `PROBLEMS_SHOWN` a record) in a
    line -- its claim id, place, field (as the input's heading names it) and what is wrong, in the reader's
    language -- with the fix under it when there is one; then where all of them are. The summary line said only
    "1 份有误（见 errors.jsonl）": an officer opened a JSON file to learn which row, and why; then only each
    record's first problem was shown, without its fix."""
    with open(out / "errors.jsonl", encoding="utf-8") as f:
        more = say_error_records((json.loads(line) for line in f), versions)
    workbook, jsonl, sheet = out / "summary.xlsx", out / "errors.jsonl", lookup("sheet.tabs.errors")
    say(
        msg("cli.batch.failures_more", n=more, workbook=workbook, jsonl=jsonl, sheet=sheet)
        if more
        else msg("cli.batch.failures_all", workbook=workbook, jsonl=jsonl, sheet=sheet)
    )


@command("batch", msg("cli.batch.help"), cmd_batch)
def _configure_batch(p: argparse.ArgumentParser) -> None:
    add_policy_argument(p)
    p.add_argument("input", metavar="INPUT", help=msg("cli.batch.input"))
    add_encoding_argument(p)
    p.add_argument("--ledger", metavar="URL", help=msg("cli.batch.ledger", env=LEDGER_ENV, default=default_url()))
    p.add_argument("--commit", action="store_true", help=msg("cli.batch.commit"))
    p.add_argument("--replace", action="store_true", help=msg("cli.batch.replace"))
    p.add_argument("--round", metavar="LABEL", help=msg("cli.batch.round"))
    p.add_argument("--out", metavar="DIR", default="batch-out", help=msg("cli.batch.out"))
    p.add_argument("--no-trace", action="store_true", help=msg("cli.batch.no_trace"))
    p.add_argument("--no-report", action="store_true", help=msg("cli.batch.no_report"))
    p.add_argument("--workers", metavar="N", type=WHOLE_NUMBER, default=1, help=msg("cli.batch.workers", max=MAX_WORKERS))
    p.add_argument(
        "--output-processes", metavar="N", type=WHOLE_NUMBER, default=None, help=msg("cli.batch.output_processes", max=MAX_WORKERS)
    )
    p.add_argument("-q", "--quiet", action="store_true", help=msg("cli.batch.quiet"))


def cmd_template(args: argparse.Namespace) -> int:
    versions = policy_versions(args.policy)
    if versions is None:
        return EXIT_INVALID
    policy = versions.newest
    if len(versions.versions) > 1:
        say(
            msg(
                "cli.template.newest",
                version=policy.version,
                file=policy.file,
                first=policy.funding_years[0],
                last=policy.funding_years[1],
            ),
            err=True,
        )
    given = Path(args.out)
    if not given.is_dir() and given.suffix.lower() != ".xlsx":  # (a workbook named r.csv was read as a CSV file "in no encoding")
        named = given.name.rstrip(".") and given.with_name(given.name.rstrip(".")).with_suffix(".xlsx")
        say_error(msg("cli.template.not_xlsx", path=args.out, suggested=str(named or given / "round.xlsx")))
        return EXIT_USAGE
    if not args.force and given.exists():
        say_error(msg("cli.template.exists", path=args.out))
        return EXIT_USAGE
    out = output_file(args.out)  # before the input is read: its folder created, or an OutputError (exit 2)
    claims: list[Any] = []
    left_out = 0
    unwritten = unwritable(policy)
    if args.source:
        try:
            reader = open_claims(args.source, policy, args.encoding)
        except InputError as err:
            say_error(err)
            return EXIT_INVALID
        try:
            for r in reader:
                other = other_record(r.data)  # (a decision line or an error record: not an application's row)
                if r.data is not None and other is None:
                    claims.append(r.data)
                    names = unwritten(r.data)
                    if names:  # (written without them, and said: the run ends in 3, as for an unread one)
                        left_out += 1
                        say(msg("cli.warning", warning=msg("cli.template.not_written", where=where_text(r.where), names=names)), err=True)
                    continue
                left_out += 1  # (an application that cannot be read: said, never dropped without a word)
                first = {"message": other} if other is not None else (r.problems or [{}])[0]
                said = tr(first["message"]) if first.get("message") is not None else ""
                say(msg("cli.warning", warning=msg("cli.template.left_out", where=where_text(r.where), reason=said)), err=True)
        except InputError as err:
            say_error(err)
            return EXIT_INVALID
        finally:
            reader.close()
    try:
        altered = write_claims_workbook(policy, claims, out)
    except OSError as exc:
        say_error(msg("cli.template.cannot_write", path=args.out, reason=os_reason(exc)))
        return EXIT_USAGE
    if altered:
        say(msg("cli.warning", warning=tr(altered)), err=True)
    # (it wrote nothing on success: an officer had no word that the workbook was there, nor where)
    say(msg("cli.template.written", path=str(out), n=len(claims)) if claims else msg("cli.template.written_empty", path=str(out)))
    return EXIT_PARTIAL if left_out else EXIT_OK


@command("batch-template", msg("cli.template.help"), cmd_template)
def _configure_template(p: argparse.ArgumentParser) -> None:
    add_policy_argument(p, help=msg("cli.template.policy"))
    p.add_argument("out", metavar="OUT.xlsx", help=msg("cli.template.out"))
    p.add_argument("--from", dest="source", metavar="INPUT", help=msg("cli.template.source"))
    p.add_argument("--force", action="store_true", help=msg("cli.template.force"))
    add_encoding_argument(p)


#: how an officer commits an application as a replacement (an error record of one committed with other content)
REPLACE_BY_OPTION = "batch --commit --replace"


#: never create a ledger: a mistyped path is an error, not a new empty ledger (a reversal has no grant to find in one)
READ_ONLY = ("info", "verify", "grants", "statement", "reversals", "findings", "reverse", "withdraw")


def open_ledger(url: str | None, *, create: bool) -> Ledger | int:
    """The ledger at `url`, or the exit code after a one-line error (unknown URL kind: usage error)."""
    try:
        return Ledger(url, create=create)
    except LedgerUrlError as err:
        say_error(err)
        return EXIT_USAGE
    except LedgerMissing as err:  # (in the command line's words: a program is told of create=True)
        say_error(err.through(msg("ledger.creates_none.command")))
        return EXIT_INVALID
    except LedgerError as err:
        say_error(err)
        return EXIT_INVALID


def cmd_ledger(args: argparse.Namespace) -> int:
    versions: PolicySet | None = None
    if args.action in ("verify", "finding") and not args.policy:
        say(msg("cli.ledger.needs_policy", action=args.action), err=True)
        return EXIT_USAGE
    if args.action == "reverse" and not (args.claim and args.item and args.reason and args.date):
        say(msg("cli.ledger.reverse_needs"), err=True)
        return EXIT_USAGE
    if args.again and args.request_key is not None:  # (another reversal, yet under a key that records one)
        say(msg("cli.ledger.again_or_key"), err=True)
        return EXIT_USAGE
    if args.action == "withdraw" and not ((args.reversal is None) != (args.finding is None) and args.reason):
        say(msg("cli.ledger.withdraw_needs"), err=True)
        return EXIT_USAGE
    if args.action == "statement" and not args.applicant:
        say(msg("cli.ledger.statement_needs"), err=True)
        return EXIT_USAGE
    if args.action == "finding" and not (args.applicant and args.fact and args.value and args.reason):
        say(msg("cli.ledger.finding_needs"), err=True)
        return EXIT_USAGE
    if args.policy:
        versions = policy_versions(args.policy)
        if versions is None:
            return EXIT_INVALID
    returned: Decimal | None = None
    if args.action == "reverse":
        quantum = min((v.quantum for v in versions.versions), default=Decimal("0.01")) if versions else Decimal("0.01")
        returned = plain_amount(args.returned) if args.returned else None
        if args.returned and returned is None:
            slip = amount_slip(args.returned)  # `5万`, `1,000`, `8000元`: the digits to write, as a claim's slip is said
            said = msg("cli.ledger.returned_slip", problem=slip[0], expected=slip[1]) if slip else None
            say(said or msg("cli.ledger.returned_not_amount", value=repr(args.returned)), err=True)
            return EXIT_INVALID  # (a value refused, as 1.234 is: not a usage error)
        try:  # checked before the ledger is opened (or created)
            check_reversal(returned, args.date, quantum)
        except LedgerError as err:
            say_error(err)
            return EXIT_INVALID
    if args.action == "finding":
        assert versions is not None
        args.fact = finding_fact(versions.versions, args.fact)  # (named by its words too: said by its code after)
        try:
            check_finding(versions.versions, args.applicant, args.fact, args.value)
        except LedgerError as err:
            say_error(err)
            return EXIT_INVALID
    ledger = open_ledger(args.ledger, create=args.action not in READ_ONLY)
    if isinstance(ledger, int):
        return ledger
    ledger.wait_said(lambda: say(msg("cli.ledger.waiting"), err=True))
    with ledger:
        try:
            return _ledger_action(args, ledger, versions, returned)
        except LedgerBusyError:  # (the batch's words said "the applications committed are kept": not this action's)
            say_error(msg("cli.ledger.busy", seconds=f"{ledger.busy_seconds or BUSY_SECONDS:g}"))
            return EXIT_INVALID
        except LedgerError as err:
            say_error(err)
            return EXIT_INVALID


def _ledger_action(args: argparse.Namespace, ledger: Ledger, versions: PolicySet | None, returned: Decimal | None) -> int:
    if args.action == "info":
        counts = ledger.counts()
        print(
            json.dumps({"url": masked_url(ledger.url), "schema_version": ledger.schema_version(), **counts}, indent=2, ensure_ascii=False)
        )
        # (the JSON on stdout, for a script; the same counts in the reader's words on stderr, for the officer)
        scaled = msg("cli.ledger.info_rounds", n=counts["rounds"]) if counts["rounds"] else msg("cli.ledger.info_no_rounds")
        say(msg("cli.ledger.info", url=masked_url(ledger.url), **{**counts, "rounds": scaled}), err=True)
    elif args.action == "verify":
        assert versions is not None
        problems = ledger.verify(versions.versions)
        for p in problems:
            say(p)
        say(msg("cli.ledger.violations", n=len(problems)), err=True)
        return EXIT_INVALID if problems else EXIT_OK
    elif args.action == "grants":
        n = active = returned_from = 0
        total = Decimal(0)
        for g in ledger.grants(applicant_id=args.applicant, include_superseded=True):
            print(json.dumps(g, ensure_ascii=False))
            n += 1
            if not g.get("superseded"):  # (a reversal returns funds: the grant stays, as it counts against caps)
                active += 1
                total += Decimal(g["amount"])
                returned_from += bool(g.get("reversed"))
        said = "cli.ledger.grants_of" if args.applicant else "cli.ledger.grants_all"
        say(msg(said, applicant=args.applicant, n=n, active=active, total=said_money(total), reversed=returned_from), err=True)
        if args.applicant and not n:  # (a check character typed wrong, a name for the code: not "received nothing")
            _say_no_applicant(ledger, args.applicant)
    elif args.action == "statement":
        found = statement(ledger, versions.versions if versions else (), args.applicant, args.year)
        print(statement_text(found, language()), end="")
        if not (found.grants or found.rooms or found.reversals or found.findings):
            _say_no_applicant(ledger, args.applicant)
        if args.out:
            write_statement(found, output_file(args.out), language())
            say(msg("cli.ledger.statement_written", path=args.out), err=True)
    elif args.action == "withdraw":
        kind, number = ("reversal", args.reversal) if args.reversal is not None else ("finding", args.finding)
        audit = _cli_audit("withdraw", f"{kind} {number}", {"reason": args.reason})
        record = ledger.withdraw(kind, number, reason=args.reason, audit=audit)
        print(json.dumps(record, ensure_ascii=False))
        say(msg(f"cli.ledger.withdrawn_{kind}", n=number, reason=args.reason), err=True)
    elif args.action in ("reversals", "findings"):
        rows = ledger.reversals(args.applicant) if args.action == "reversals" else ledger.findings(args.applicant)
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        say(msg(f"cli.ledger.{args.action}_listed", n=len(rows)), err=True)
    elif args.action == "reverse":
        quantum = min((v.quantum for v in versions.versions), default=Decimal("0.01")) if versions else Decimal("0.01")
        whole = ledger.claim_grant_amounts(args.claim).get(args.item, (None,))[0] if returned is None else None
        asked = {"claim": args.claim, "item": args.item, "returned": args.returned, "date": args.date, "reason": args.reason}
        number, recorded = ledger.reverse_once(
            args.claim,
            args.item,
            reason=args.reason,
            returned=returned,
            decided_on=args.date,
            quantum=quantum,
            request_key=_reversal_key(args, returned if returned is not None else whole),
            audit=_cli_audit("reverse", f"{args.claim}/{args.item}", asked),
        )
        print(number)  # (the number alone on stdout, for a script; the sentence for the officer on stderr)
        if recorded:  # what was recorded, and what a reversal does not do (a fraud's bar is a finding of its own)
            back = returned if returned is not None else whole
            amount = said_money(Decimal(back)) if back is not None else ""
            say(msg("cli.ledger.reversed", id=number, claim=args.claim, item=args.item, amount=amount, date=args.date), err=True)
        else:  # the same reversal asked again (its key): recorded once
            said = "cli.ledger.already_reversed" if args.request_key is None else "cli.ledger.already_reversed_key"
            say(msg(said, id=number, claim=args.claim, item=args.item, key=args.request_key), err=True)
    elif args.action == "finding":
        assert versions is not None
        _record_finding(args, ledger, versions)
    return EXIT_OK


def _record_finding(args: argparse.Namespace, ledger: Ledger, versions: PolicySet) -> None:
    """`ledger finding`: recorded, or (the same applicant, fact and value on record already) said so with that
    finding's number and date, nothing recorded; its number on stdout either way."""
    asked = {"applicant": args.applicant, "fact": args.fact, "value": args.value, "reason": args.reason}
    audit = _cli_audit("finding", args.applicant, asked)
    record, recorded = ledger.record_finding_once(
        args.applicant, args.fact, args.value, reason=args.reason, policy=versions.versions, audit=audit
    )
    print(record["id"])
    said = "cli.ledger.found" if recorded else "cli.ledger.already_found"  # (the same finding again: recorded once)
    day = str(record["recorded_at"])[:10]
    fact = finding_fact_named(versions.versions, args.fact)  # (its words and code: the officer may have named it in Chinese)
    say(msg(said, id=record["id"], applicant=args.applicant, fact=fact, value=args.value, date=day), err=True)


def _cli_audit(action: str, target: str, asked: dict[str, Any]) -> Audit:
    """The audit entry of a write made at the command line: who (the system user, as the service names its token's
    holder), what and with what. Only the service's writes were audited; a clerk's reversals left no operator."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # (no user name in this environment, a container: still audited)
        who = "?"
    return Audit(f"{who}@cli", ("cli",), action, target, asked)


def _say_no_applicant(ledger: Ledger, applicant: str) -> None:
    """An applicant the ledger has no record of: the nearest ids on record, as a slip is said (not 'received nothing');
    a name written for the code (Chinese characters: no code has them) said as such, not "check its check character".
    An applicant on record with nothing granted is not one: it was told "no applicant of that id: did you mean" itself."""
    if ledger.applications_of(applicant):
        return
    near = ledger.applicants_like(applicant)
    if near:
        say(msg("cli.ledger.no_applicant_near", near=near), err=True)
    elif any(unicodedata.east_asian_width(c) == "W" and c.isalpha() for c in applicant):
        say(msg("cli.ledger.no_applicant_name", written=repr(applicant)), err=True)
    else:
        say(msg("cli.ledger.no_applicant"), err=True)


def _reversal_key(args: argparse.Namespace, returned: Decimal | None) -> str | None:
    """`ledger reverse`'s request key (`Ledger.reverse`): `--request-key`; none with `--again`; else one made of what
    the command says (claim, item, amount -- the whole grant's when none is given --, reason, date), so that the same
    command run twice -- a retry, a slip of the up arrow -- records the reversal once."""
    if args.request_key is not None:  # (an empty key is the ledger's to refuse)
        return str(args.request_key)
    if args.again:
        return None
    amount = format_money(returned) if returned is not None else None  # (10000 and 10000.00 are one amount)
    said = json.dumps([args.claim, args.item, amount, args.reason, args.date], ensure_ascii=False)
    return "cli:" + hashlib.sha256(said.encode("utf-8")).hexdigest()[:32]


@command("ledger", msg("cli.ledger.help"), cmd_ledger)
def _configure_ledger(p: argparse.ArgumentParser) -> None:
    actions = ["verify", "grants", "statement", "reverse", "reversals", "finding", "findings", "withdraw", "info"]
    p.add_argument("action", metavar="ACTION", choices=actions, help=msg("cli.ledger.action"))
    add_policy_argument(p, required=False, help=msg("cli.ledger.policy"))
    p.add_argument("--ledger", metavar="URL", help=msg("cli.ledger.ledger", env=LEDGER_ENV, default=default_url()))
    p.add_argument("--applicant", metavar="ID", help=msg("cli.ledger.applicant"))
    p.add_argument("--claim", metavar="CLAIM_ID", help=msg("cli.ledger.claim"))
    p.add_argument("--item", metavar="ITEM_ID", help=msg("cli.ledger.item"))
    p.add_argument("--returned", metavar="YUAN", help=msg("cli.ledger.returned"))
    p.add_argument("--fact", metavar="FACT", help=msg("cli.ledger.fact"))
    p.add_argument("--value", metavar="VALUE", help=msg("cli.ledger.value"))
    p.add_argument("--reason", metavar="TEXT", default="", help=msg("cli.ledger.reason"))
    p.add_argument("--date", metavar="YYYY-MM-DD", help=msg("cli.ledger.date"))
    p.add_argument("--year", metavar="YEAR", type=WHOLE_NUMBER, help=msg("cli.ledger.year"))
    p.add_argument("--reversal", metavar="N", type=WHOLE_NUMBER, help=msg("cli.ledger.reversal_number"))
    p.add_argument("--finding", metavar="N", type=WHOLE_NUMBER, help=msg("cli.ledger.finding_number"))
    p.add_argument("--out", metavar="FILE.xlsx", help=msg("cli.ledger.out"))
    p.add_argument("--request-key", metavar="KEY", help=msg("cli.ledger.request_key"))
    p.add_argument("--again", action="store_true", help=msg("cli.ledger.again"))
