"""Commands `explain` (one claim, explained) and `report` (many claims, one HTML file for reviewers).

Both take `--policy` once, several times or as a folder (engine.deciding.versions): each claim is decided and
explained by the version in force for its funding year; in a report, a claim no version covers gets
an error row naming the windows that exist.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.cli import EXIT_INVALID, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, command
from engine.cli.common import add_encoding_argument, add_policy_argument, policy_versions, print_error, write_output
from engine.core.errors import EngineError
from engine.core.i18n import msg
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
from engine.records.inputs import RecordLocator, locate, open_claims, read_one, record_label, record_problems
from engine.records.tabular import InputError, write_text

CLAIM_SUFFIXES = (".json", ".yaml", ".yml")


def cmd_explain(args: argparse.Namespace) -> int:
    versions = policy_versions(args.policy)
    if versions is None:
        return EXIT_INVALID
    source, label = None, args.claim
    try:
        data, source, label = read_one(args.claim, versions.newest, args.encoding)
        is_decision = isinstance(data, dict) and data.get("format") == DECISION_FORMAT  # one line of a batch's decisions.jsonl
        if is_decision:  # a file anyone can edit: its form is checked before anything reads it
            check_recorded_form(data, args.claim)
        policy = versions.for_decision(data) if is_decision else versions.pick(data)
        recorded = recorded_decision(policy, data, args.claim)  # shown as made (e.g. scaled to a round's budget); None for a claim
        decision = recorded if recorded is not None else evaluate_claim(policy, parse_claim(policy, data, file=label))
    except EngineError as err:
        print_error(locate(err, source, label))
        return EXIT_INVALID
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID
    except RenderError as err:  # a decision made under another policy text than any given
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID
    try:
        text = explain(policy, decision, lang=args.lang, fmt=args.format)
    except RecordedDecisionError as err:  # edited past what its schema says (a step's inner fields)
        print(f"error: {args.claim}: {err}", file=sys.stderr)
        return EXIT_INVALID
    except RenderError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    write_output(text, args.out)
    return EXIT_OK


def _problem_lines(err: EngineError) -> list[str]:
    return [str(p) for p in err.problems]


def _decide(versions: PolicySet, data: Any, label: str, source: Any = None) -> Decision | ReportError:
    try:
        policy = versions.pick(data)
        return evaluate_claim(policy, parse_claim(policy, data, file=label))
    except EngineError as err:
        located = locate(err, source, label) if source is not None else err
        return ReportError(label, err.summary, _problem_lines(located))


def iter_claims(policy: CompiledPolicy | PolicySet, path: Path, encoding: str | None = None) -> Iterator[Decision | ReportError]:
    """Decisions (or error records) for every application of an input, read as `batch` reads it
    (`engine.records.inputs.open_claims`: a folder, JSON Lines, JSON, YAML, CSV, XLSX). InputError when the input
    as a whole cannot be read or holds no application.

    `policy`: one policy, or several versions (each claim decided by the version in force for its funding year).
    """
    versions = policy if isinstance(policy, PolicySet) else PolicySet((policy,))
    reader = open_claims(path, versions.newest, encoding)
    try:
        for rec in reader:
            label = record_label(rec)
            if rec.data is None:
                yield ReportError(label, msg("core.invalid_input"), [str(p) for p in record_problems(rec)])
                continue
            yield _decide(versions, rec.data, label, RecordLocator(rec))
    finally:
        reader.close()


def cmd_report(args: argparse.Namespace) -> int:
    versions = policy_versions(args.policy)
    if versions is None:
        return EXIT_INVALID
    path = Path(args.input)
    if not path.exists():
        print(f"error: {path}: no such file or folder", file=sys.stderr)
        return EXIT_USAGE
    try:
        entries = list(iter_claims(versions, path, args.encoding))
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID
    errors = sum(1 for e in entries if isinstance(e, ReportError))
    many = len(versions.versions) > 1
    try:
        html = render_report(versions.newest, entries, lang=args.lang, title=args.title, policy_for=versions.for_decision if many else None)
    except RenderError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    write_text(args.out, html)
    if not args.quiet:
        print(f"{args.out}: {len(entries)} application(s), {errors} error record(s)", file=sys.stderr)
    return EXIT_PARTIAL if errors else EXIT_OK


@command("explain", "explain one claim's decision, citing every clause (text, md, html or json)", cmd_explain)
def _configure_explain(p: argparse.ArgumentParser) -> None:
    add_policy_argument(p)
    p.add_argument(
        "claim",
        metavar="CLAIM",
        help="claim file (.json, .yaml), one decision from a batch's decisions.jsonl, or one application of any input "
        "batch reads, as FILE:N (a .jsonl line; else the application's number or claim id)",
    )
    add_encoding_argument(p)
    p.add_argument("--lang", default="zh", choices=languages(), help="language of the explanation (default zh)")
    p.add_argument(
        "--format", default="text", choices=list(FORMATS), help="text (default), md, html (one self-contained page) or json (the trace)"
    )
    p.add_argument("--out", metavar="FILE", help="write here instead of stdout")


@command("report", "one HTML report for reviewers over many claims; bad claims get an error row", cmd_report)
def _configure_report(p: argparse.ArgumentParser) -> None:
    add_policy_argument(p)
    p.add_argument(
        "input", metavar="INPUT", help="applications, as batch reads them: .jsonl, .json, .yaml, .csv, .xlsx, or a folder of them"
    )
    add_encoding_argument(p)
    p.add_argument("--out", required=True, metavar="FILE.html", help="the report to write (one self-contained HTML file)")
    p.add_argument("--lang", default="zh", choices=languages(), help="language (default zh)")
    p.add_argument("--title", help="title of the report")
    p.add_argument("-q", "--quiet", action="store_true", help="print no summary line")
