"""Commands `explain` (one claim, explained) and `report` (many claims, one HTML file for reviewers).

Both take `--policy` once, several times or as a folder (engine.deciding.versions): each claim is decided and
explained by the version in force for its funding year; in a report, a claim no version covers gets
an error row naming the windows that exist.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from engine.cli import EXIT_INVALID, EXIT_OK, EXIT_PARTIAL, command
from engine.cli.batch import say_error_records, say_sheet_claim_error
from engine.cli.common import (
    add_encoding_argument,
    add_policy_argument,
    describe,
    explanation_language,
    language_option,
    policy_versions,
    print_error,
    say,
    say_error,
    write_output,
)
from engine.core.errors import EngineError
from engine.core.i18n import language, msg, tr
from engine.deciding.claims import parse_claim
from engine.deciding.decision import DECISION_FORMAT, Decision
from engine.deciding.evaluator import evaluate_claim
from engine.deciding.versions import PolicySet
from engine.explaining.render import (
    FORMATS,
    RecordedDecisionError,
    RenderError,
    ReportError,
    check_recorded_form,
    explain,
    languages,
    recorded_decision,
    render_report,
)
from engine.language.model import CompiledPolicy
from engine.records.batch import Steps, claim_problems, error_record, headings_of, report_error
from engine.records.inputs import locate, open_claims, read_one, record_label, split_selector
from engine.records.tabular import InputError, Record, write_text

CLAIM_SUFFIXES = (".json", ".yaml", ".yml")


def cmd_explain(args: argparse.Namespace) -> int:
    versions = policy_versions(args.policy)
    if versions is None:
        return EXIT_INVALID
    source, label = None, args.claim
    try:
        data, source, label = read_one(args.claim, versions.newest, args.encoding)
        if isinstance(data, dict) and {"error", "problems", "where"} <= data.keys() and "items" not in data:
            # a line of a batch's errors.jsonl: no application to explain (it was read as one with no items)
            said = data.get("said")
            error = said.get(language(), data["error"]) if isinstance(said, dict) else data["error"]
            say_error(msg("cli.explain.error_record", path=args.claim, error=error))
            return EXIT_INVALID
        is_decision = isinstance(data, dict) and data.get("format") == DECISION_FORMAT  # one line of a batch's decisions.jsonl
        if is_decision:  # a file anyone can edit: its form is checked before anything reads it
            check_recorded_form(data, args.claim)
        policy = versions.for_decision(data) if is_decision else versions.pick(data)
        recorded = recorded_decision(policy, data, args.claim)  # shown as made (e.g. scaled to a round's budget); None for a claim
        decision = recorded if recorded is not None else evaluate_claim(policy, parse_claim(policy, data, file=label))
    except EngineError as err:
        if not say_sheet_claim_error(err, source, versions):  # (a row of a sheet: named by its column, as batch does)
            print_error(locate(err, source, label))
        return EXIT_INVALID
    except InputError as err:
        say_error(err)
        return EXIT_INVALID
    except RenderError as err:  # a decision made under another policy text than any given
        say_error(err)
        return EXIT_INVALID
    try:
        text = explain(policy, decision, lang=explanation_language(args), format=args.format)
    except RecordedDecisionError as err:  # edited past what its schema says (a step's inner fields)
        say_error(msg("cli.explain.recorded", path=args.claim, error=describe(err)))
        return EXIT_INVALID
    except RenderError as err:  # the policy's own template failed or went past a limit: the policy is the bad input
        say_error(err)
        return EXIT_INVALID
    write_output(text, args.out)
    return EXIT_OK


def _decide(versions: PolicySet, rec: Record, label: str, headings: Mapping[str, Any]) -> Decision | ReportError:
    try:
        policy = versions.pick(rec.data)
        return evaluate_claim(policy, parse_claim(policy, rec.data, file=label))
    except EngineError as err:  # (its row says each problem as batch's report does: `report_error`)
        return report_error(
            error_record(rec, claim_problems(rec, err), err.summary), {lang: tr(label, lang) for lang in languages()}, headings
        )


def iter_claims(policy: CompiledPolicy | PolicySet, path: Path, encoding: str | None = None) -> Iterator[Decision | ReportError]:
    """Decisions (or error records) for every application of an input, read as `batch` reads it
    (`engine.records.inputs.open_claims`: a folder, JSON Lines, JSON, YAML, CSV, XLSX). InputError when the input
    as a whole cannot be read or holds no application.

    `policy`: one policy, or several versions (each claim decided by the version in force for its funding year).
    """
    versions = policy if isinstance(policy, PolicySet) else PolicySet((policy,))
    headings = headings_of(versions)
    reader = open_claims(path, versions.newest, encoding)
    try:
        for rec in reader:
            label = record_label(rec)
            if rec.data is None:
                record = error_record(rec, rec.problems, msg("batch.error.application"))
                yield report_error(record, {lang: tr(label, lang) for lang in languages()}, headings)
                continue
            yield _decide(versions, rec, label, headings)
    finally:
        reader.close()


def cmd_report(args: argparse.Namespace) -> int:
    versions = policy_versions(args.policy)
    if versions is None:
        return EXIT_INVALID
    path = Path(args.input)
    if not split_selector(path)[0].exists():  # `round.jsonl:3` is one application of a file that exists
        say_error(msg("cli.report.no_such_input", path=path))
        return EXIT_INVALID  # (an input that cannot be read, as every other command says it: 1, not a usage error)
    # each step said, with a bar once it is long, on a terminal unless --quiet (a round of 3,000 applications took
    # 7 s in silence)
    steps = Steps(sys.stderr, not args.quiet)
    unit = "batch.progress.applications"
    entries: list[Decision | ReportError] = []
    try:
        steps.start(msg("cli.report.deciding", input=path))
        try:
            for entry in iter_claims(versions, path, args.encoding):
                entries.append(entry)
                steps.progress(len(entries), 0, unit)
        except InputError as err:
            steps.done()
            say_error(err)
            return EXIT_INVALID
        steps.start(msg("cli.report.drawing", path=args.out, n=len(entries)))
        many = len(versions.versions) > 1
        try:
            html = render_report(
                versions.newest,
                entries,
                lang=explanation_language(args),
                title=args.title,
                policy_for=versions.for_decision if many else None,
                on_drawn=lambda n: steps.progress(n, len(entries), unit),
            )
        except RenderError as err:  # (as explain: the policy's template, an input)
            steps.done()
            say_error(err)
            return EXIT_INVALID
        write_text(args.out, html)
    finally:
        steps.done()  # (its time said, its line ended, before any message after it)
    errors = sum(1 for e in entries if isinstance(e, ReportError))
    if not args.quiet:
        say(msg("cli.report.summary", path=args.out, n=len(entries), errors=errors), err=True)
        # each error row as a batch says it (the summary said only how many; which application, and why, was in
        # the HTML alone)
        records = [e.record for e in entries if isinstance(e, ReportError) and e.record is not None]
        more = say_error_records(records, versions, err=True)
        if more:
            say(msg("cli.report.failures_more", n=more, path=args.out), err=True)
    return EXIT_PARTIAL if errors else EXIT_OK


@command("explain", msg("cli.explain.help"), cmd_explain)
def _configure_explain(p: argparse.ArgumentParser) -> None:
    add_policy_argument(p)
    p.add_argument("claim", metavar="CLAIM", help=msg("cli.explain.claim"))
    add_encoding_argument(p)
    p.add_argument("--lang", type=language_option, default=argparse.SUPPRESS, choices=languages(), help=msg("cli.explain.lang"))
    p.add_argument("--format", default="text", choices=list(FORMATS), help=msg("cli.explain.format"))
    p.add_argument("--out", metavar="FILE", help=msg("cli.explain.out"))


@command("report", msg("cli.report.help"), cmd_report)
def _configure_report(p: argparse.ArgumentParser) -> None:
    add_policy_argument(p)
    p.add_argument("input", metavar="INPUT", help=msg("cli.report.input"))
    add_encoding_argument(p)
    p.add_argument("--out", required=True, metavar="FILE.html", help=msg("cli.report.out"))
    p.add_argument("--lang", type=language_option, default=argparse.SUPPRESS, choices=languages(), help=msg("cli.report.lang"))
    p.add_argument("--title", help=msg("cli.report.title"))
    p.add_argument("-q", "--quiet", action="store_true", help=msg("cli.report.quiet"))
