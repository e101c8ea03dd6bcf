"""Command line: `python -m engine <command>` (also installed as `policy-engine`).

Job: parse arguments, run the command (`validate`, `evaluate`, `schema` here; `explain`, `batch`,
`officer`, `serve` add theirs), print errors and choose the exit code; what commands share is in `common`.
May import: engine.core, engine.language, engine.deciding, engine.explaining, engine.records, engine.officer, engine.service.

Exit codes: EXIT_CODES below is the one text of what each code means and which command
returns it (the footer of `--help`, and the README's list); EXIT_WHEN gives each
command's own footer.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from engine.cli.common import add_policy_argument, one_policy, policy_versions, print_error, write_output
from engine.core.errors import EngineError
from engine.core.version import __version__
from engine.deciding.claims import claim_schema, parse_claim
from engine.deciding.evaluator import GeneratedSource, evaluate_claim, generated_sources
from engine.deciding.ready import load_policy
from engine.records.inputs import locate, read_document
from engine.records.tabular import OutputError

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3

EXIT_CODES = """exit codes:
  0  success: everything asked was done (and every check passed)
  1  invalid input or a failed check -- every problem is printed (file:line:column, field, expected):
       a policy or a claim has errors (every command that reads one);
       test: a case failed, or no case was found;  coverage: under --min;
       lint: errors were found (with --strict: warnings too);  versions: overlapping versions;
       ledger: verify found violations, or the ledger refused the action;
       batch, diff --claims: the input as a whole cannot be read (unknown format, unknown columns)
  2  usage error: unknown option, missing argument, an option that needs another,
       an output path that cannot be written (a file where a folder should be, no permission)
  3  finished, but some inputs failed (each named with its line, or sheet and row, and field):
       batch: some applications got error records (errors.jsonl);
       report: some claims got an error row;  diff --claims: some claims could not be compared"""

#: Each command's footer: (what exit code 1 means for it, what 3 means or None). Codes 0 and 2 are the same everywhere.
EXIT_WHEN: dict[str, tuple[str, str | None]] = {
    "validate": ("a policy has errors", None),
    "evaluate": ("the policy or the claim has errors", None),
    "schema": ("the policy has errors", None),
    "explain": (
        "the policy or the claim has errors, a recorded decision is not in the form the engine writes, "
        "or the decision was made under another policy text",
        None,
    ),
    "report": ("a policy has errors", "some claims got an error row (the report is written)"),
    "batch": (
        "a policy has errors, the input as a whole cannot be read, or the ledger fails",
        "the batch finished but some applications got error records (see errors.jsonl)",
    ),
    "batch-template": ("the policy or the input has errors", None),
    "ledger": ("verify found violations, the ledger refused the action, or a policy has errors", None),
    "lint": ("errors were found (with --strict: warnings too), or a policy cannot be read", None),
    "test": ("a case failed, no case was found, or a case file or the policy has errors", None),
    "coverage": ("clause or branch coverage is under --min, or the policy or a case file has errors", None),
    "diff": (
        "a policy has errors, or the --claims input as a whole cannot be read",
        "some claims could not be compared (each named with line/row and field)",
    ),
    "versions": ("versions overlap, or a policy has errors", None),
    "compile": ("the policy has errors, or --rule names no rule of it", None),
}


def exit_epilog(command: str | None = None) -> str:
    """The exit-code footer of `--help`: all codes for the program, a command's own otherwise."""
    when = EXIT_WHEN.get(command) if command else None
    if when is None:
        return EXIT_CODES
    one, three = when
    lines = [
        "exit codes:",
        "  0  success",
        f"  1  {one}",
        "  2  usage error (unknown option, missing argument, an output path that cannot be written)",
    ]
    if three:
        lines.append(f"  3  {three}")
    return "\n".join(lines)


def cmd_validate(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for path in args.policies:
        try:
            policy = load_policy(path)
        except EngineError as err:
            print_error(err, args.json)
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
    versions = policy_versions(args.policy, args.json_errors)
    if versions is None:
        return EXIT_INVALID
    data, source = None, None
    try:
        data, source = read_document(args.claim)
        policy = versions.pick(data)
        claim = parse_claim(policy, data, file=args.claim)
        decision = evaluate_claim(policy, claim, trace=not args.no_trace)
    except EngineError as err:
        print_error(locate(err, source, args.claim), args.json_errors)
        return EXIT_INVALID
    write_output(decision.to_json(), args.out)
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    policy = one_policy(args.policy)
    if policy is None:
        return EXIT_INVALID
    write_output(json.dumps(claim_schema(policy), ensure_ascii=False, indent=2) + "\n", args.out)
    return EXIT_OK


def cmd_compile(args: argparse.Namespace) -> int:
    # the generated Python each rule is decided by, for an officer or a reviewer who wants to read it
    policy = one_policy(args.policy)
    if policy is None:
        return EXIT_INVALID
    rules = [r.id for r in policy.rules]
    if args.rule and args.rule not in rules:
        print(f"error: {policy.id} {policy.version} has no rule {args.rule!r}; its rules: {', '.join(rules)}", file=sys.stderr)
        return EXIT_INVALID
    if not args.show:
        print(f"{args.policy}: ok — {len(rules)} of {len(rules)} rules compiled to Python functions")
        return EXIT_OK
    chunks = []
    for g in generated_sources(policy, trace=not args.lean):
        if args.rule and (g.rule is None or g.rule.id != args.rule):
            continue
        chunks.append(f"{_compile_header(g)}\n{g.source}")
    sys.stdout.write("\n".join(chunks))
    return EXIT_OK


_FUNCTIONS = {
    "standing": "applicant standing: checks and documents of the applicant",
    "decide": "rule {id} ({cites})",
    "probe": "probe of rule {id} ({cites}): its amount for the look across the claim (only the highest award is paid)",
}


def _compile_header(g: GeneratedSource) -> str:
    """`# <function>[, called variant (...)] — <traced | lean (no trace)>`: the line above each printed function."""
    what = _FUNCTIONS[g.function].format(id=g.rule.id if g.rule else "", cites=g.rule.cites if g.rule else "")
    if g.called:
        what += ", called variant (expression functions called; it runs instead of the inlined one after a runtime error)"
    return f"# {what} — {'traced' if g.traced else 'lean (no trace)'}"


Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]

#: Every command, in the order of `--help`: name -> (help, configure(parser), run(args) -> exit code).
COMMANDS: dict[str, tuple[str, Configure, Run]] = {}


def command(name: str, help_text: str, run: Run) -> Callable[[Configure], Configure]:
    """`@command(name, help, run)` over the function that adds a command's arguments: registers the command in
    COMMANDS (modules with further commands do so when `_load_extensions` imports them)."""

    def register(configure: Configure) -> Configure:
        COMMANDS[name] = (help_text, configure, run)
        return configure

    return register


@command("validate", "check a policy file: schema, references, expressions", cmd_validate)
def _configure_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("policies", nargs="+", metavar="POLICY", help="policy YAML file(s)")
    p.add_argument("--json", action="store_true", help="print problems as JSON on stderr")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when valid")


@command("evaluate", "decide one claim; the JSON decision goes to stdout", cmd_evaluate)
def _configure_evaluate(p: argparse.ArgumentParser) -> None:
    add_policy_argument(p)
    p.add_argument("claim", metavar="CLAIM", help="claim file (.json, .yaml)")
    p.add_argument("--out", metavar="FILE", help="write the decision here instead of stdout")
    p.add_argument("--no-trace", action="store_true", help="omit the step-by-step trace (same statuses and amounts)")
    p.add_argument("--json-errors", action="store_true", help="print problems as JSON on stderr")


@command("schema", "print the claim JSON Schema generated from a policy's vocabulary", cmd_schema)
def _configure_schema(p: argparse.ArgumentParser) -> None:
    p.add_argument("policy", metavar="POLICY", help="policy YAML file")
    p.add_argument("--out", metavar="FILE", help="write the schema here instead of stdout")


@command("compile", "compile a policy's rules to Python; --show prints the generated source", cmd_compile)
def _configure_compile(p: argparse.ArgumentParser) -> None:
    p.add_argument("policy", metavar="POLICY", help="policy YAML file")
    p.add_argument(
        "--show",
        action="store_true",
        help="print the generated source: the applicant standing function, each rule's decide function and each "
        '"highest only" probe, each with its called variant, under a header naming it and its clause',
    )
    p.add_argument("--rule", metavar="ID", help="only this rule")
    p.add_argument("--lean", action="store_true", help="the variant that records no trace (`evaluate --no-trace`)")


def _load_extensions() -> None:
    """Commands living in their own modules (explain, batch, lint, ...) register on import."""
    import importlib

    for name in ("engine.cli.explain", "engine.cli.batch", "engine.cli.officer", "engine.cli.serve", "engine.cli.match"):
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
        epilog=exit_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, configure, run) in COMMANDS.items():
        p = sub.add_parser(
            name, help=help_text, description=help_text, epilog=exit_epilog(name), formatter_class=argparse.RawDescriptionHelpFormatter
        )
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
    except OutputError as err:  # an --out (or OUT) path that cannot be created or written: a message, not a traceback
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    return code
