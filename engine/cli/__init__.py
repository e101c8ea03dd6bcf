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
import codecs
import contextlib
import io
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from typing import Any

from engine.cli.common import (
    Parser,
    Terminated,
    add_encoding_argument,
    add_policy_argument,
    chosen_language,
    language_option,
    one_policy,
    policy_versions,
    print_error,
    say,
    say_error,
    write_output,
)
from engine.core.errors import EngineError
from engine.core.i18n import languages, msg, tr, use_language
from engine.core.version import __version__
from engine.deciding.claims import claim_schema, parse_claim
from engine.deciding.evaluator import GeneratedSource, evaluate_claim, generated_sources
from engine.deciding.ready import load_policy
from engine.records.inputs import locate, read_one, split_selector
from engine.records.ledger import BUSY_SECONDS, sqlite_busy, sqlite_reason
from engine.records.tabular import InputError, OutputError

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
EXIT_PIPE = 141  # stdout closed by its reader (`| head`): 128 + SIGPIPE, as the shell reports a program it stopped

#: What each exit code means and which command returns it (the footer of `--help`, and the README's list).
EXIT_CODES = msg("cli.exit.codes")

#: Each command's footer: (what exit code 1 means for it, what 3 means or None). Codes 0 and 2 are the same everywhere.
EXIT_WHEN: dict[str, tuple[str, str | None]] = {
    "validate": (msg("cli.exit.when.validate"), None),
    "evaluate": (msg("cli.exit.when.evaluate"), None),
    "schema": (msg("cli.exit.when.schema"), None),
    "explain": (msg("cli.exit.when.explain"), None),
    "report": (msg("cli.exit.when.report"), msg("cli.exit.when.report_partial")),
    "batch": (msg("cli.exit.when.batch"), msg("cli.exit.when.batch_partial")),
    "batch-template": (msg("cli.exit.when.batch_template"), msg("cli.exit.when.batch_template_partial")),
    "ledger": (msg("cli.exit.when.ledger"), None),
    "lint": (msg("cli.exit.when.lint"), None),
    "test": (msg("cli.exit.when.test"), None),
    "coverage": (msg("cli.exit.when.coverage"), None),
    "diff": (msg("cli.exit.when.diff"), msg("cli.exit.when.diff_partial")),
    "versions": (msg("cli.exit.when.versions"), None),
    "compile": (msg("cli.exit.when.compile"), None),
}


def exit_epilog(command: str | None = None) -> str:
    """The exit-code footer of `--help`: all codes for the program, a command's own otherwise."""
    when = EXIT_WHEN.get(command) if command else None
    if when is None:
        return EXIT_CODES
    one, three = when
    if three:
        return msg("cli.exit.command_partial", one=one, three=three)
    return msg("cli.exit.command", one=one)


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
            say(
                msg(
                    "cli.validate.ok",
                    path=path,
                    id=policy.id,
                    version=policy.version,
                    rules=len(policy.rules),
                    clauses=len(policy.clauses),
                    first=policy.funding_years[0],
                    last=policy.funding_years[1],
                    hash=policy.content_hash[:19],
                )
            )
    return status


def cmd_evaluate(args: argparse.Namespace) -> int:
    # several --policy files (or a folder): the version in force for the claim's funding year decides
    versions = policy_versions(args.policy, args.json_errors)
    if versions is None:
        return EXIT_INVALID
    data, source, label = None, None, args.claim
    try:
        data, source, label = read_one(args.claim, versions.newest, args.encoding)
        policy = versions.pick(data)
        claim = parse_claim(policy, data, file=label)
        decision = evaluate_claim(policy, claim, trace=not args.no_trace)
    except EngineError as err:
        from engine.cli.batch import say_sheet_claim_error  # (the batch module imports this one)

        if args.json_errors or not say_sheet_claim_error(err, source, versions):  # (a sheet's row: by its column)
            print_error(locate(err, source, label), args.json_errors)
        return EXIT_INVALID
    except InputError as err:
        say_error(err)
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
        say_error(msg("cli.compile.no_rule", id=policy.id, version=policy.version, rule=repr(args.rule), rules=rules))
        return EXIT_INVALID
    if not args.show:
        say(msg("cli.compile.ok", path=args.policy, n=len(rules)))
        return EXIT_OK
    chunks = []
    for g in generated_sources(policy, trace=not args.lean):
        if args.rule and (g.rule is None or g.rule.id != args.rule):
            continue
        chunks.append(f"{_compile_header(g)}\n{g.source}")
    # one write per function: a pipe whose reader left takes part of one large write and the rest is dropped
    # without an error (CPython's buffered writer on a partial write), so `| head` exited 0; the next write fails
    for i, chunk in enumerate(chunks):
        sys.stdout.write(("\n" if i else "") + chunk)
        sys.stdout.flush()
    return EXIT_OK


def _compile_header(g: GeneratedSource) -> str:
    """`# <function>[, called variant (...)] — <traced | lean (no trace)>`: the line above each printed function."""
    what = msg(f"cli.compile.function.{g.function}", id=g.rule.id if g.rule else "", cites=g.rule.cites if g.rule else "")
    called = msg("cli.compile.called") if g.called else ""
    return tr(msg("cli.compile.header", what=what, called=called, how=msg("cli.compile.traced" if g.traced else "cli.compile.lean")))


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


@command("validate", msg("cli.validate.help"), cmd_validate)
def _configure_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("policies", nargs="+", metavar="POLICY", help=msg("cli.common.policy_files"))
    p.add_argument("--json", action="store_true", help=msg("cli.common.json_errors"))
    p.add_argument("-q", "--quiet", action="store_true", help=msg("cli.validate.quiet"))


@command("evaluate", msg("cli.evaluate.help"), cmd_evaluate)
def _configure_evaluate(p: argparse.ArgumentParser) -> None:
    add_policy_argument(p)
    p.add_argument("claim", metavar="CLAIM", help=msg("cli.evaluate.claim"))
    add_encoding_argument(p)
    p.add_argument("--out", metavar="FILE", help=msg("cli.evaluate.out"))
    p.add_argument("--no-trace", action="store_true", help=msg("cli.evaluate.no_trace"))
    p.add_argument("--json-errors", action="store_true", help=msg("cli.common.json_errors"))


@command("schema", msg("cli.schema.help"), cmd_schema)
def _configure_schema(p: argparse.ArgumentParser) -> None:
    p.add_argument("policy", metavar="POLICY", help=msg("cli.common.policy_file"))
    p.add_argument("--out", metavar="FILE", help=msg("cli.schema.out"))


@command("compile", msg("cli.compile.help"), cmd_compile)
def _configure_compile(p: argparse.ArgumentParser) -> None:
    p.add_argument("policy", metavar="POLICY", help=msg("cli.common.policy_file"))
    p.add_argument("--show", action="store_true", help=msg("cli.compile.show"))
    p.add_argument("--rule", metavar="ID", help=msg("cli.compile.rule"))
    p.add_argument("--lean", action="store_true", help=msg("cli.compile.lean_help"))


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
    parser = Parser(prog="policy-engine", description=msg("cli.description"), epilog=exit_epilog())
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}", help=msg("cli.argparse.version"))
    parser.add_argument("--lang", type=language_option, choices=languages(), default=None, help=msg("cli.lang_help"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, configure, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=exit_epilog(name))
        configure(p)
        if "--lang" not in p._option_string_actions:  # accepted after the command too, wherever a reader types it
            p.add_argument("--lang", type=language_option, choices=languages(), default=argparse.SUPPRESS, help=msg("cli.lang_command"))
        p.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its words in the language of `--lang` (before or after the command), else
    POLICY_ENGINE_LANG, else the locale (engine.core.i18n)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    callers = sys.stdout
    _whole_writes_to_stdout()
    _marks_for_narrow_streams()
    try:
        with use_language(chosen_language(args_list)):
            try:
                return _main(args_list)
            except BrokenPipeError:  # `... | head`: the reader has gone; stop quietly, as a program stopped by SIGPIPE
                _silence_stdout()
                return EXIT_PIPE
    finally:
        if sys.stdout is not callers:  # (ours: written out, and a program calling `main` given its own stdout back)
            try:
                sys.stdout.flush()
            except OSError:  # (the reader gone after the command's last write: nothing more to say to it)
                _silence_stdout()
            sys.stdout = callers


#: a mark an explanation writes, and the one a Chinese Windows console or file (GBK, cp936) holds in its place
_NARROW_MARKS = {"✓": ("√", "v"), "✔": ("√", "v"), "✗": ("×", "x"), "✘": ("×", "x")}


def _narrow_marks(exc: UnicodeError) -> tuple[str, int]:
    """A codec error handler: ✓ and ✗ as √ and × where the stream's encoding holds them (GBK does), else as v and x
    (cp1252, an English Windows console's, does not), any other character as its \\u escape."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for c in exc.object[exc.start : exc.end]:
        wide, plain = _NARROW_MARKS.get(c, (None, None))
        if wide is not None and _holds(exc.encoding, wide):
            out.append(wide)
        else:
            out.append(plain or c.encode("ascii", "backslashreplace").decode("ascii"))
    return "".join(out), exc.end


def _holds(encoding: str, text: str) -> bool:
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


codecs.register_error("policy-engine-marks", _narrow_marks)


def _marks_for_narrow_streams() -> None:
    """stdout and stderr in an encoding narrower than UTF-8 (Python 3.11 on Chinese Windows writes a redirected stream
    in cp936) write what they cannot hold by `_narrow_marks`: `explain > out.txt` and `coverage` ended in a
    UnicodeEncodeError traceback at the first ✓."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding and not encoding.startswith("utf") and getattr(stream, "errors", None) == "strict":
            with contextlib.suppress(AttributeError, ValueError, OSError):
                stream.reconfigure(errors="policy-engine-marks")  # type: ignore[union-attr]


def _whole_writes_to_stdout() -> None:
    """stdout written through a buffer that writes all it is given. Unbuffered (PYTHONUNBUFFERED, `python -u`, as
    many container images set it), a text write is one write to the file descriptor, and a pipe may take only part of
    it (its reader gone, a signal): the rest was dropped without a word, a decision's JSON cut short and exit 0 where
    `| head` now gives 141. Line-buffered, so that what is written still shows at once."""
    out: Any = sys.stdout
    raw = getattr(out, "buffer", None)
    the_process_own = out is sys.__stdout__
    if not the_process_own or not isinstance(raw, io.FileIO) or out.closed:
        return  # (a stdout a program or a test put in its place is theirs; one with a buffer already writes whole)
    with contextlib.suppress(AttributeError, ValueError, OSError):
        out.flush()
        own = io.FileIO(raw.fileno(), "wb", closefd=False)  # (dropped, it leaves the descriptor open)
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(own), encoding=out.encoding, errors=out.errors, newline=None, line_buffering=True)


def _silence_stdout() -> None:
    """After a closed pipe: stdout pointed at the null device, so that the interpreter's last flush says nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (a test's capture): nothing to flush
        pass


#: the arguments naming files a command reads (its claim, input, profiles, policies, `batch-template --from`)
_READ_ARGUMENTS = ("claim", "input", "profiles", "source", "policy", "tests", "paths")


def _refuse_writing_over_an_input(args: argparse.Namespace) -> None:
    """OutputError (exit 2) when the file `--out` (or OUT) names is one the command reads: `evaluate c.json --out
    c.json` replaced the claim with its decision, `report r.xlsx --out r.xlsx` a workbook with a page."""
    out = getattr(args, "out", None)
    if not isinstance(out, str) or not out or not os.path.isfile(out):
        return
    for name in _READ_ARGUMENTS:
        given = getattr(args, name, None)
        for path in given if isinstance(given, list) else [given]:
            if isinstance(path, str) and path:
                real = split_selector(path)[0]  # (`round.jsonl:3` reads round.jsonl)
                if real.is_file() and os.path.samefile(real, out):
                    raise OutputError(msg("sheet.out_is_read", path=out))


def _main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        _refuse_writing_over_an_input(args)
        code: int = args.run(args)
    except Terminated as stop:  # (a batch's SIGTERM or SIGHUP: `terminated_as_interrupt`)
        say(msg("cli.terminated", signal=stop.name), err=True)
        return 128 + stop.signum
    except KeyboardInterrupt:
        say(msg("cli.interrupted"), err=True)
        return 130
    except OutputError as err:  # an --out (or OUT) path that cannot be created or written: a message, not a traceback
        say_error(err)
        return EXIT_USAGE
    except sqlite3.DatabaseError as err:  # an SQLite ledger that fails after it opened (damaged, a disk error; or busy)
        if sqlite_busy(err):  # (not "damaged: restore it from a backup")
            say_error(msg("ledger.busy", seconds=BUSY_SECONDS))
        else:
            say_error(msg("ledger.database_failed", reason=sqlite_reason(err)))
        return EXIT_INVALID
    return code
