"""`policy-engine match`: what each applicant can claim, from what is already known of it (免申即享).

python -m engine match --policy POLICY [--policy POLICY...] PROFILES [--out DIR] [--lang zh|en] [--workers N]

PROFILES: any input `batch` reads (JSON Lines, JSON/YAML list, CSV, XLSX) or one profile (a JSON/YAML object);
a profile is a claim with any of its facts missing. Several policies (different measures) may be given: each
profile is matched against every version in force of each. Outputs in DIR: matches.jsonl, notices/ (per
applicant, zh and en, text and HTML), summary.xlsx. See docs/matching.md.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from engine.cli import EXIT_INVALID, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_WHEN, command
from engine.cli.batch import say_error_records
from engine.cli.common import (
    WHOLE_NUMBER,
    add_policy_argument,
    language_option,
    policy_versions,
    print_error,
    print_warnings,
    say,
    say_error,
)
from engine.core.errors import EngineError, PolicyError
from engine.core.i18n import language, lookup, msg, tr, use_language
from engine.deciding.versions import PolicySet, checked_windows, policy_files
from engine.language.model import CompiledPolicy
from engine.matching.outputs import Summary
from engine.matching.run import claim_fact_problems, run_match
from engine.records.ledger import Ledger, LedgerError, LedgerMissing
from engine.records.tabular import InputError
from engine.records.workers import MAX_WORKERS

EXIT_WHEN["match"] = (msg("match.cli.exit_invalid"), msg("match.cli.exit_partial"))


def policy_sets(paths: list[str]) -> list[PolicySet] | None:
    """The policies given, one set of versions per policy id (the versions of one id may be given apart), held to
    what every command holds versions to: a file given twice (or by its folder too) is one version, and two
    versions whose windows overlap are an error. A file given twice had matched every profile twice, its amounts
    counted twice in summary.xlsx."""
    by_id: dict[str, list[CompiledPolicy]] = defaultdict(list)
    files, problems = policy_files(paths)
    if problems:  # (an empty folder: it was a traceback)
        print_error(PolicyError(problems, msg("claim.versions.invalid")))
        return None
    for file in files:
        loaded = policy_versions([str(file)])
        if loaded is None:
            return None
        by_id[loaded.id].extend(loaded.versions)
    sets = [PolicySet(tuple(v)) for v in by_id.values()]
    try:
        for s in sets:
            print_warnings(checked_windows(s) if len(s.versions) > 1 else [])
    except EngineError as err:
        print_error(err)
        return None
    return sets


def cmd_match(args: argparse.Namespace) -> int:
    with use_language(args.lang):
        if not 1 <= args.workers <= MAX_WORKERS:
            say(msg("match.bad_workers", max=MAX_WORKERS), err=True)
            return EXIT_USAGE
        sets = policy_sets(args.policy)
        if sets is None:
            return EXIT_INVALID
        claim_facts = dict(args.claim_fact or [])
        wrong = claim_fact_problems(sets, claim_facts)
        for problem in wrong:
            name = problem.path[0]
            said = msg("match.claim_fact.said", option=f"--claim-fact {name}={_shown(claim_facts[str(name)])}", problem=problem.message)
            say(msg("cli.error", error=said), err=True)
            if problem.expected:
                say(msg("match.claim_fact.expected", expected=problem.expected), err=True)
        if wrong:
            return EXIT_USAGE
        try:
            if args.ledger:
                Ledger(args.ledger, create=False).close()  # a ledger named must be there: never created by a match
            summary, seconds = run_match(
                sets,
                args.profiles,
                args.out,
                ledger_url=args.ledger,
                workers=args.workers,
                notices=not args.no_notices,
                lang=args.lang or language(),
                quiet=args.quiet,
                claim_facts=claim_facts,
            )
        except (InputError, LedgerError) as err:  # (a ledger not there: in the command line's words, as `ledger` says it)
            say_error(err.through(msg("ledger.creates_none.command")) if isinstance(err, LedgerMissing) else err)
            return EXIT_INVALID
        if not args.quiet:
            counts = summary.answers
            say(
                msg(
                    "match.done",
                    profiles=summary.profiles,
                    errors=summary.errors,
                    eligible=counts["eligible"],
                    needs=counts["needs"],
                    not_eligible=counts["not_eligible"],
                    out=args.out,
                )
            )
            if summary.errors:
                _say_failures(Path(args.out), sets, summary)
            if summary.guessed:
                _say_guesses(summary)
            rate = summary.profiles / seconds if seconds > 0 else 0.0
            say(
                msg("match.speed", profiles=summary.profiles, seconds=f"{seconds:.1f}", rate=f"{rate:,.0f}", workers=args.workers), err=True
            )
        return EXIT_PARTIAL if summary.errors else EXIT_OK


def _say_failures(out: Path, sets: list[PolicySet], summary: Summary) -> None:
    """The first profiles in error (`Summary.errors_listed`), each problem a line with its fix, as batch lists its
    applications in error (`say_error_records`); then where all of them are. The summary line said only how many:
    the workbook had no errors sheet, and which profile, and why, was in matches.jsonl alone."""
    more = say_error_records(summary.errors_listed, [v for s in sets for v in s.versions])
    more += summary.error_records - len(summary.errors_listed)
    workbook, jsonl, sheet = out / "summary.xlsx", out / "matches.jsonl", lookup("sheet.tabs.errors")
    say(
        msg("cli.batch.failures_more", n=more, workbook=workbook, jsonl=jsonl, sheet=sheet)
        if more
        else msg("cli.batch.failures_all", workbook=workbook, jsonl=jsonl, sheet=sheet)
    )


def _say_guesses(summary: Summary) -> None:
    """The names profiles gave that no policy has a fact for and that are likely misspelt facts: left out of the
    match, so an item or a fact is answered as unknown. They were said only at the end of each notice and in the
    records' `ignored`, and a run said nothing of them."""
    say(msg("match.cli.guesses", n=summary.guessed), err=True)
    for profile, policy, path, guess in summary.guesses_listed:
        say(msg("match.cli.guess", profile=profile, policy=policy, path=path, guess=guess), err=True)


def _shown(value: Any) -> str:
    """A --claim-fact value as it was written (JSON's words for a boolean)."""
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _claim_fact(text: str) -> tuple[str, Any]:
    """NAME=VALUE: the value as JSON when it reads as JSON (2021, true), else as text (2022-03-15)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(tr(msg("match.cli.claim_fact_form", text=repr(text))))
    try:
        parsed: Any = json.loads(value)
    except ValueError:
        parsed = value
    return name.strip(), parsed if isinstance(parsed, int | str | bool) else value


@command("match", msg("match.cli.help"), cmd_match)
def _configure_match(p: argparse.ArgumentParser) -> None:
    add_policy_argument(p, help=msg("match.cli.policy"))
    p.add_argument("profiles", metavar="PROFILES", help=msg("match.cli.profiles"))
    p.add_argument("--out", metavar="DIR", default="match-out", help=msg("match.cli.out"))
    p.add_argument("--lang", type=language_option, choices=("zh", "en"), help=msg("match.cli.lang"))
    p.add_argument("--ledger", metavar="URL", help=msg("match.cli.ledger"))
    p.add_argument("--workers", metavar="N", type=WHOLE_NUMBER, default=1, help=msg("match.cli.workers", max=MAX_WORKERS))
    p.add_argument("--no-notices", action="store_true", help=msg("match.cli.no_notices"))
    p.add_argument(
        "--claim-fact",
        metavar="NAME=VALUE",
        action="append",
        type=_claim_fact,
        help=msg("match.cli.claim_fact"),
    )
    p.add_argument("-q", "--quiet", action="store_true", help=msg("match.cli.quiet"))
