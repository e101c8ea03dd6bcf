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
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from engine.cli import EXIT_INVALID, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_WHEN, command
from engine.cli.common import add_policy_argument, policy_versions
from engine.core.i18n import msg, tr, use_language
from engine.deciding.versions import PolicySet
from engine.matching.run import run_match
from engine.records.ledger import Ledger, LedgerError
from engine.records.tabular import InputError
from engine.records.workers import MAX_WORKERS

EXIT_WHEN["match"] = (
    "a policy has errors, the profiles as a whole cannot be read, or the ledger named is not there",
    "some profiles got errors (no version in force for their year, or facts a policy cannot read): see matches.jsonl",
)


def policy_sets(paths: list[str]) -> list[PolicySet] | None:
    """The policies given, one set of versions per policy id (the versions of one id may be given apart)."""
    by_id: dict[str, list[object]] = defaultdict(list)
    for path in paths:
        files = sorted(Path(path).glob("*.yaml")) if Path(path).is_dir() else [Path(path)]
        for file in files:
            loaded = policy_versions([str(file)])
            if loaded is None:
                return None
            by_id[loaded.id].extend(loaded.versions)
    return [PolicySet(tuple(v)) for v in by_id.values()]  # type: ignore[arg-type]


def cmd_match(args: argparse.Namespace) -> int:
    with use_language(args.lang):
        if not 1 <= args.workers <= MAX_WORKERS:
            print(tr(msg("match.bad_workers", max=MAX_WORKERS)), file=sys.stderr)
            return EXIT_USAGE
        sets = policy_sets(args.policy)
        if sets is None:
            return EXIT_INVALID
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
                lang=args.lang or "zh",
                quiet=args.quiet,
                claim_facts=dict(args.claim_fact or []),
            )
        except (InputError, LedgerError) as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_INVALID
        if not args.quiet:
            counts = summary.answers
            print(
                tr(
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
            )
            rate = summary.profiles / seconds if seconds > 0 else 0.0
            print(
                tr(msg("match.speed", profiles=summary.profiles, seconds=f"{seconds:.1f}", rate=f"{rate:,.0f}", workers=args.workers)),
                file=sys.stderr,
            )
        return EXIT_PARTIAL if summary.errors else EXIT_OK


def _claim_fact(text: str) -> tuple[str, Any]:
    """NAME=VALUE: the value as JSON when it reads as JSON (2021, true), else as text (2022-03-15)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        parsed: Any = json.loads(value)
    except ValueError:
        parsed = value
    return name.strip(), parsed if isinstance(parsed, int | str | bool) else value


@command("match", "what each applicant can claim from what is already known of it: eligible, not eligible, or the facts needed", cmd_match)
def _configure_match(p: argparse.ArgumentParser) -> None:
    add_policy_argument(p)
    p.add_argument("profiles", metavar="PROFILES", help="profiles: .jsonl, .json or .yaml list (or one object), .csv, or .xlsx")
    p.add_argument("--out", metavar="DIR", default="match-out", help="output directory (default: match-out)")
    p.add_argument("--lang", choices=("zh", "en"), help="language of the messages and the workbook (notices are written in both)")
    p.add_argument("--ledger", metavar="URL", help="read history (caps and limits used) from this ledger; never written")
    p.add_argument("--workers", metavar="N", type=int, default=1, help=f"match on N processes (1-{MAX_WORKERS}; default 1)")
    p.add_argument("--no-notices", action="store_true", help="write no per-applicant notices (matches.jsonl and summary.xlsx only)")
    p.add_argument(
        "--claim-fact",
        metavar="NAME=VALUE",
        action="append",
        type=_claim_fact,
        help="a claim-level fact for every profile that does not give it, e.g. submission_date=2022-03-15 (the round's); repeatable",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary line")
