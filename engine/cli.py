"""Command line: `python -m engine <command>` (also installed as `policy-engine`).

Exit codes (documented in `--help` and the README):
  0  success (decisions produced; every application decided)
  1  invalid input: the policy or a claim has errors (all are printed)
  2  usage error (unknown option, missing file argument)
  3  partial: a batch where some applications got error records
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__
from .claims import claim_schema, parse_claim
from .errors import EngineError
from .evaluator import evaluate_claim
from .inputs import locate, read_document
from .policy import load_policy

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3

EPILOG = """exit codes: 0 success; 1 invalid policy or claim (every problem is printed
with file:line:column, the field and what was expected); 2 usage error;
3 a batch finished but some applications got error records."""


def _print_error(err: EngineError, as_json: bool = False) -> None:
    if as_json:
        print(
            json.dumps({"error": err.summary, "problems": [p.to_dict() for p in err.problems]}, ensure_ascii=False, indent=2),
            file=sys.stderr,
        )
    else:
        print(str(err), file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for path in args.policies:
        try:
            policy = load_policy(path)
        except EngineError as err:
            _print_error(err, args.json)
            status = EXIT_INVALID
            continue
        if not args.quiet:
            print(
                f"{path}: ok — {policy.id} {policy.version}, {len(policy.rules)} rules, "
                f"{len(policy.clauses)} clauses, funding years {policy.funding_years[0]}-{policy.funding_years[1]}, {policy.content_hash[:19]}"
            )
    return status


def cmd_evaluate(args: argparse.Namespace) -> int:
    # several --policy files (or a folder): the version in force for the claim's funding year decides
    from .versions import load_versions, print_warnings

    try:
        versions, warnings = load_versions(args.policy)
    except EngineError as err:
        _print_error(err, args.json_errors)
        return EXIT_INVALID
    print_warnings(warnings)
    data, source = None, None
    try:
        data, source = read_document(args.claim)
        policy = versions.pick(data)
        claim = parse_claim(policy, data, file=args.claim)
        decision = evaluate_claim(policy, claim, trace=not args.no_trace)
    except EngineError as err:
        _print_error(locate(err, source, args.claim), args.json_errors)
        return EXIT_INVALID
    text = decision.to_json()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    try:
        policy = load_policy(args.policy)
    except EngineError as err:
        _print_error(err)
        return EXIT_INVALID
    text = json.dumps(claim_schema(policy), ensure_ascii=False, indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


#: Further commands register here: name -> (help, configure(parser), run(args) -> exit code).
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {}


def _configure_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("policies", nargs="+", metavar="POLICY", help="policy YAML file(s)")
    p.add_argument("--json", action="store_true", help="print problems as JSON on stderr")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when valid")


def _configure_evaluate(p: argparse.ArgumentParser) -> None:
    from .versions import add_policy_argument

    add_policy_argument(p)
    p.add_argument("claim", metavar="CLAIM", help="claim file (.json, .yaml)")
    p.add_argument("--out", metavar="FILE", help="write the decision here instead of stdout")
    p.add_argument("--no-trace", action="store_true", help="omit the step-by-step trace (same statuses and amounts)")
    p.add_argument("--json-errors", action="store_true", help="print problems as JSON on stderr")


def _configure_schema(p: argparse.ArgumentParser) -> None:
    p.add_argument("policy", metavar="POLICY", help="policy YAML file")
    p.add_argument("--out", metavar="FILE", help="write the schema here instead of stdout")


COMMANDS["validate"] = ("check a policy file: schema, references, expressions", _configure_validate, cmd_validate)
COMMANDS["evaluate"] = ("decide one claim; the JSON decision goes to stdout", _configure_evaluate, cmd_evaluate)
COMMANDS["schema"] = ("print the claim JSON Schema generated from a policy's vocabulary", _configure_schema, cmd_schema)


def _load_extensions() -> None:
    """Commands living in their own modules (explain, batch, lint, ...) register on import."""
    import importlib

    for name in ("engine.render_cli", "engine.batch_cli", "engine.officer_cli"):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def build_parser() -> argparse.ArgumentParser:
    _load_extensions()
    parser = argparse.ArgumentParser(
        prog="policy-engine",
        description="Evaluate subsidy claims against a policy written as data, and explain every decision.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, configure, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
        configure(p)
        p.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return code
