"""What every command shares: its parser and words, how it prints an error, and how it takes its policy versions.

Words: every word a command says goes through the message catalogue (`engine/core/messages/<lang>/cli.yaml`) and is
said in the reader's language (`engine.core.i18n`): help texts are `Msg`s rendered when help is printed (`Formatter`),
and argparse's own words ("usage:", "the following arguments are required", ...) are looked up in the same
catalogue while one of our parsers speaks (`Parser`; argparse calls its module-level `_`/`ngettext` for them).

Every command that takes a policy (evaluate, explain, report, batch, batch-template, ledger) takes it
the same way: `add_policy_argument` (a repeatable `--policy`, files or folders) and `policy_versions`
(overlaps refused at load and printed, gaps printed as warnings on stderr).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import signal
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from engine.core.errors import EngineError, Problem
from engine.core.i18n import Msg, known_language, lookup, msg, tr
from engine.core.quantities import whole_written
from engine.deciding.ready import load_policy
from engine.deciding.versions import PolicySet, load_versions
from engine.language.model import CompiledPolicy
from engine.records.tabular import write_text

POLICY_HELP = msg("cli.common.policy_help")

#: argparse's own words (Python 3.11+ `argparse._(...)` / `ngettext(...)` calls) -> their key under `cli.argparse`.
ARGPARSE_WORDS: dict[str, str] = {
    "usage: ": "usage",
    "positional arguments": "positional",
    "options": "options",
    "optional arguments": "options",
    "show this help message and exit": "help",
    "show program's version number and exit": "version",
    "argument %(argument_name)s: %(message)s": "argument",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "unknown_parser",
    "can't open '%(filename)s': %(error)s": "cannot_open",
    "unrecognized arguments: %s": "unrecognized",
    "not allowed with argument %s": "not_allowed_with",
    "ignored explicit argument %r": "ignored_explicit",
    "the following arguments are required: %s": "required",
    "one of the arguments %s is required": "one_required",
    "expected one argument": "expected_one",
    "expected at most one argument": "expected_at_most_one",
    "expected at least one argument": "expected_at_least_one",
    "expected %s argument": "expected_n",
    "expected %s arguments": "expected_n",
    "ambiguous option: %(option)s could match %(matches)s": "ambiguous",
    "unexpected option string: %s": "unexpected_option",
    "invalid %(type)s value: %(value)r": "invalid_type",
    "invalid choice: %(value)r (choose from %(choices)s)": "invalid_choice",
    "%(prog)s: error: %(message)s\n": "error",
    "subcommands": "subcommands",
}


class _Named:
    """An option's value type, named in the reader's words where argparse says what it expected ("应为整数", not
    "应为 int 类型": argparse names a type by its `__name__`)."""

    def __init__(self, convert: Callable[[str], Any], word: str) -> None:
        self.convert, self.word = convert, word

    @property
    def __name__(self) -> str:
        return tr(msg(f"cli.argparse.type_{self.word}"))

    def __call__(self, text: str) -> Any:
        return self.convert(text)


def _whole(text: str) -> int:
    """A whole-number option's value; one written with a unit or a trailing .0 (2021年, 3个) is refused with the
    number to write, as a sheet's cell is (full-width digits are read: int() reads them)."""
    try:
        return int(text)
    except ValueError:
        digits = whole_written(text)
        if digits is not None:
            raise argparse.ArgumentTypeError(tr(msg("input.not_whole_fix", value=repr(text), fix=digits))) from None
        raise


#: `type=` for a whole-number option and for a number of seconds
WHOLE_NUMBER: Any = _Named(_whole, "whole")
NUMBER: Any = _Named(float, "number")


def _argparse_gettext(text: Any) -> Any:
    key = ARGPARSE_WORDS.get(text) if isinstance(text, str) else None
    return lookup(f"cli.argparse.{key}") if key else text


def _argparse_ngettext(singular: str, plural: str, n: int) -> str:
    return str(_argparse_gettext(singular if n == 1 else plural))


@contextmanager
def argparse_words() -> Iterator[None]:
    """While inside, argparse says its own words from our catalogue, in the reader's language (re-entrant)."""
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._ = _argparse_gettext  # type: ignore[attr-defined]
    argparse.ngettext = _argparse_ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


_TOKEN = re.compile(r"[\x21-\x7e]+|\s+|.", re.DOTALL)  # a run of printable ASCII (a word, an option), blanks, or one character
_CLOSING = set("，。；：、）」』》！？”")  # never at the start of a line
_OPENING = set("（「『《“")  # never at the end of a line


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` terminal columns: Chinese characters are two columns wide and a line may break
    between any two of them (not before closing or after opening punctuation); ASCII words are never split."""
    tokens: list[str] = []
    for tok in _TOKEN.findall(text):
        if tokens and (tok[0] in _CLOSING or tokens[-1][-1] in _OPENING) and not tok.isspace():
            tokens[-1] += tok
        else:
            tokens.append(tok)
    lines: list[str] = []
    line = ""
    for tok in tokens:
        if tok.isspace():
            tok = " "
        if line and _width(line) + _width(tok) > width and not tok.isspace():
            lines.append(line.rstrip())
            line = ""
        if line or not tok.isspace():
            line += tok
    if line.strip():
        lines.append(line.rstrip())
    return lines


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Help in the reader's language: descriptions, epilogs, section titles and option help are `Msg`s said when
    help is printed (no `%` expansion of help texts: none of ours uses `%(default)s`); Chinese lines are wrapped by
    their width on the terminal, and a section's title ends with the language's colon."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._headings: list[str] = []

    def _format_text(self, text: str) -> str:
        return super()._format_text(tr(text))

    def _expand_help(self, action: argparse.Action) -> str:
        return tr(action.help)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap(" ".join(text.split()), width)

    def start_section(self, heading: str | None) -> None:
        if heading is not None:
            heading = tr(heading)
            self._headings.append(heading)
        super().start_section(heading)

    def format_help(self) -> str:
        text = super().format_help()
        for heading in self._headings:  # argparse writes `<heading>:`; Chinese ends a heading with `：`
            text = text.replace(f"{heading}:\n", tr(msg("cli.argparse.heading", heading=heading)) + "\n")
        return text


#: an argument holding a wide comma, a list comma or an ideographic space followed by an option: two arguments typed
#: as one (`PG-2022-0001，--item`)
_GLUED = re.compile(r"[，、；\u3000]\s*-")


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose every word (its own and argparse's) comes from the catalogue."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        add_help = kwargs.pop("add_help", True)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = msg("cli.argparse.positional")
        self._optionals.title = msg("cli.argparse.options")
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=msg("cli.argparse.help"))

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> tuple[Any, list[str]]:  # type: ignore[override]
        self._given = list(sys.argv[1:] if args is None else args)  # (for `error`'s hint)
        for action in self._actions:  # (a command's parser sees its own arguments only: the whole line, for a hint)
            if isinstance(action, argparse._SubParsersAction):
                for parser in action.choices.values():
                    parser._line = self._given
        with argparse_words():
            return super().parse_known_args(args, namespace)

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        # (argparse words "unrecognized arguments" here, outside parse_known_args)
        with argparse_words():
            return super().parse_args(args, namespace)

    def format_usage(self) -> str:
        with argparse_words():
            return super().format_usage()

    def format_help(self) -> str:
        with argparse_words():
            return super().format_help()

    def error(self, message: str) -> Any:
        given = getattr(self, "_given", [])
        given = given[: given.index("--")] if "--" in given else given
        dashed = next((a for a in given if a.startswith("-") and a != "-" and os.path.exists(a)), None)
        if dashed is not None:  # a file whose name starts with '-' was read as an option
            message = f"{message}\n{tr(msg('cli.dashed_file', name=dashed))}"
        known = self._known_options(given)
        for option in dict.fromkeys(a.split("=", 1)[0] for a in given if a.startswith("--") and len(a) > 2):
            # a misspelt option (argparse says only what is missing, or "unrecognized"); not one it read as the
            # abbreviation of a known one (`--pol` for `--policy`)
            if option not in known and not any(k.startswith(option) for k in known):
                close = difflib.get_close_matches(option, sorted(known), n=1, cutoff=0.7)
                if close:
                    message = f"{message}\n{tr(msg('cli.option_hint', given=option, hint=close[0]))}"
        hint = self._positional_hint(given)
        if hint is not None:  # `versions --policy p.yaml`, `batch-template --out t.xlsx`: what other commands take so
            message = f"{message}\n{hint}"
        hint = self._option_word_hint(given, message)
        if hint is not None:  # `ledger info X.db`, `match p.yaml r.json`, `match r.json`: the option to write
            message = f"{message}\n{hint}"
        glued = next((a for a in given if _GLUED.search(a)), None)
        if glued is not None:  # `--claim X，--item t1`: a wide comma joined two arguments, and argparse blamed `t1`
            message = f"{message}\n{tr(msg('cli.glued', given=repr(glued)))}"
        for word, choices in self._choices_refused(given, message):  # a misspelt command or action: "invalid choice"
            close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
            if close:
                message = f"{message}\n{tr(msg('cli.choice_hint', given=word, hint=close[0]))}"
        with argparse_words():
            super().error(message)

    def _choices_refused(self, given: Sequence[str], message: str) -> list[tuple[str, list[str]]]:
        """The words of `given` that `message` refuses as a choice (argparse quotes the word it refuses), each with
        the choices of the argument it was given for."""
        out = []
        for action in self._actions:
            if action.choices is None or action.option_strings:
                continue
            choices = [str(c) for c in action.choices]
            out += [(w, choices) for w in given if not w.startswith("-") and w not in choices and f"'{w}'" in message]
        return out

    def _positional_hint(self, given: Sequence[str]) -> str | None:
        """For an option the command has not but takes as a positional argument (`--policy` where it takes POLICY,
        `--out` where it takes OUT.xlsx: as other commands take them), the command line without it."""
        named = self._command(given)
        if named is None:
            return None
        name, parser = named
        words = {str(a.metavar).split(".")[0].lower(): str(a.metavar) for a in parser._actions if not a.option_strings and a.metavar}
        given = getattr(parser, "_line", given)
        for n, arg in enumerate(given):
            option, eq, value = arg.partition("=")
            if option.startswith("--") and option not in parser._option_string_actions and option[2:] in words:
                fixed = [*given[:n], *([value] if eq else []), *given[n + 1 :]]
                return tr(
                    msg(
                        "cli.positional_hint",
                        command=name,
                        metavar=words[option[2:]],
                        option=option,
                        fixed=" ".join(["policy-engine", *map(_quoted, fixed)]),
                    )
                )
        return None

    def _option_word_hint(self, given: Sequence[str], message: str) -> str | None:
        """For a file given as it is where the command takes it after an option (`ledger info X.db` for `--ledger
        X.db`; `match p.yaml r.json` for `--policy p.yaml`), the command line with the option before it; for such an
        option the command requires and the line has not (`match r.json`), the line with it and its metavar."""
        named = self._command(given)
        if named is None or named[0] not in getattr(named[1], "_line", given):
            return None
        name, parser = named
        line = list(getattr(parser, "_line", given))
        line = line[: line.index("--")] if "--" in line else line
        known = parser._option_string_actions
        if any(a.startswith("--") and a.split("=", 1)[0] not in known for a in line[line.index(name) + 1 :]):
            return None  # (a misspelt option, `--polcy p.yaml`: its did-you-mean says what to write)
        words = _bare_words(line, name, parser)
        bare = [a for a in parser._actions if not a.option_strings]
        taken = len(words) if any(a.nargs in ("*", "+") for a in bare) else len(bare)
        for option, looks in _FILE_OPTIONS.items():
            action = known.get(option)
            if action is None or any(a.split("=", 1)[0] == option for a in line):
                continue
            what = msg(f"cli.option_word.{option[2:]}")
            for n in words:
                if looks(line[n]) and (len(words) > taken or line[n] in message):
                    fixed = [*line[:n], option, *line[n:]]
                    return tr(msg("cli.option_word_hint", command=name, what=what, option=option, fixed=_typed(fixed)))
            if action.required and words:
                n = line.index(name) + 1
                fixed = [*line[:n], option, str(action.metavar), *line[n:]]
                metavar = str(action.metavar)
                said = msg("cli.option_missing_hint", command=name, what=what, option=option, metavar=metavar, fixed=_typed(fixed))
                return tr(said)
        return None

    def _command(self, given: Sequence[str]) -> tuple[str, argparse.ArgumentParser] | None:
        """The command named in `given` and its parser (this parser itself when it is a command's)."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                name = next((a for a in given if a in action.choices), None)
                return None if name is None else (name, action.choices[name])
        return self.prog.split()[-1], self

    def _known_options(self, given: Sequence[str]) -> set[str]:
        """The long options of this parser and of the command named in `given` (the top-level parser refuses a
        command's misspelt option as "unrecognized": it knows only its own)."""
        known = {o for o in self._option_string_actions if o.startswith("--")}
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                command = next((a for a in given if a in action.choices), None)
                if command is not None:
                    known |= {o for o in action.choices[command]._option_string_actions if o.startswith("--")}
        return known


#: options that take a file a command line may give bare, each with what tells such a file by its name (a ledger:
#: an SQLite file or a ledger URL; a policy: a YAML file)
_FILE_OPTIONS: dict[str, Callable[[str], bool]] = {
    "--ledger": lambda w: w.lower().endswith((".db", ".sqlite", ".sqlite3")) or w.startswith(("sqlite:", "postgres")),
    "--policy": lambda w: w.lower().endswith((".yaml", ".yml")),
}


def _bare_words(line: Sequence[str], command: str, parser: argparse.ArgumentParser) -> list[int]:
    """The places in `line` of the words after `command` that are neither an option nor an option's value."""
    out = []
    start = line.index(command) + 1
    for n in range(start, len(line)):
        before = parser._option_string_actions.get(line[n - 1]) if n > start else None
        if not line[n].startswith("-") and (before is None or before.nargs == 0):
            out.append(n)
    return out


def _typed(words: Sequence[str]) -> str:
    """A command line as it is typed."""
    return " ".join(["policy-engine", *map(_quoted, words)])


def _quoted(arg: str) -> str:
    """An argument as it is typed on a command line: in double quotes when it has spaces."""
    return f'"{arg}"' if not arg or any(c.isspace() for c in arg) else arg


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP received while a command ends as it would on Ctrl-C (`terminated_as_interrupt`): what it
    was doing is stopped by the same paths (a committing batch's round rolled back on workers, its stop audited, its
    scratch folder removed), and the command exits 128 + the signal's number, as a process killed by it would."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated(signum)


@contextmanager
def terminated_as_interrupt() -> Iterator[None]:
    """SIGTERM (`kill`, `timeout`, a service manager) and SIGHUP (the terminal closed) raised as `Terminated` inside
    the block, and the handlers before it put back after it. By default either signal ends the process where it
    stands: a committing batch then left its stop unaudited and its scratch folder behind. Only in the main thread
    (the only one Python delivers signals to); the processes a run forks inherit it, as they inherit Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    kept = []
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:  # (no SIGHUP on Windows)
            kept.append((number, signal.signal(number, _terminate)))
    try:
        yield
    finally:
        for number, handler in kept:
            signal.signal(number, handler)


def chosen_language(argv: Sequence[str]) -> str | None:
    """The language named by `--lang X` / `--lang=X` anywhere in `argv` (the last one), None if none or unknown:
    read before parsing so that argparse's own errors are said in it too."""
    chosen: str | None = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        value = argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else arg[7:] if arg.startswith("--lang=") else None
        if value is not None:
            chosen = known_language(value)
    return chosen


def language_option(value: str) -> str:
    """`--lang`'s value: a language as people write it (`cn`, `zh_CN`, `中文` -> `zh`), else as given (for argparse's
    choices to refuse, naming the languages there are)."""
    return known_language(value) or value


def explanation_language(args: argparse.Namespace) -> str:
    """The language of an explanation or a report: `--lang` (before or after the command), else POLICY_ENGINE_LANG,
    else Chinese -- the measures' own language -- whatever the locale (the messages around it follow the locale)."""
    chosen = getattr(args, "lang", None)
    if chosen:
        return str(chosen)
    return known_language(os.environ.get("POLICY_ENGINE_LANG")) or "zh"


#: an output folder's problems, said to a program as "output folder PATH: ...", said here with the option naming it
_OUT_FOLDER = ("sheet.out_not_folder", "sheet.out_cannot_create", "sheet.out_cannot_write", "sheet.out_is_input")


def describe(exc: BaseException) -> str:
    """An exception's message in the reader's language: an EngineError says itself; another whose first argument is
    a `Msg` (InputError, LedgerError, OutputError ...) is said again (an output folder's as `--out PATH`, the option
    the command was given it by); anything else as it is."""
    if isinstance(exc, EngineError):
        return str(exc)
    if exc.args and isinstance(exc.args[0], Msg):
        return tr(_with_option(exc.args[0]))
    return str(exc)


def _with_option(words: Msg) -> Msg:
    """`words` with an output folder's problem (alone, or with the system's reason) said as `--out PATH`."""
    if words.key in _OUT_FOLDER:
        return msg("cli.out." + words.key.removeprefix("sheet.out_"), **words.params)
    inner = words.params.get("message") if words.key == "sheet.with_reason" else None
    if isinstance(inner, Msg) and inner.key in _OUT_FOLDER:
        return msg(words.key, **{**words.params, "message": _with_option(inner)})
    return words


def say(text: str, *, err: bool = False, end: str = "\n") -> None:
    """Print `text` (a `Msg` is said in the reader's language) on stdout, or on stderr with `err`."""
    print(tr(text), file=sys.stderr if err else sys.stdout, end=end)


def say_error(exc: BaseException | str) -> None:
    """`error: <message>` on stderr, in the reader's language."""
    say(msg("cli.error", error=describe(exc) if isinstance(exc, BaseException) else tr(exc)), err=True)


def print_error(err: EngineError, as_json: bool = False) -> None:
    """An error with every problem on stderr: as text (file:line:column, field, expected), or as JSON."""
    if as_json:
        print(
            json.dumps({"error": tr(err.summary), "problems": [p.to_dict() for p in err.problems]}, ensure_ascii=False, indent=2),
            file=sys.stderr,
        )
    else:
        print(str(err), file=sys.stderr)


def write_output(text: str, out: str | None) -> None:
    """A command's output: to the file `out` when given (its folder created; an OutputError, exit 2, when it cannot be
    written), else to stdout."""
    if out:
        write_text(out, text)
    else:
        sys.stdout.write(text)


def add_policy_argument(parser: Any, *, required: bool = True, help: str = POLICY_HELP) -> None:
    """`--policy` as every command takes it: repeatable, files or folders (an argparse parser)."""
    parser.add_argument("--policy", required=required, action="append", metavar="POLICY", help=help)


def print_warnings(problems: Iterable[Problem]) -> None:
    """Gaps between versions, on stderr (they do not stop a command)."""
    for p in problems:
        say(msg("cli.common.problem_line", severity=severity(p.severity), where=p.location(), message=p.message), err=True)


def severity(name: str) -> str:
    """`error` / `warning` in the reader's language (another severity as it is)."""
    return msg(f"cli.severity.{name}") if name in ("error", "warning") else name


def policy_versions(paths: list[str], as_json: bool = False) -> PolicySet | None:
    """The versions a command was given, warnings printed; None (the error printed) when they do not load."""
    try:
        versions, warnings = load_versions(paths)
    except EngineError as err:
        print_error(err, as_json)
        return None
    print_warnings(warnings)
    return versions


def one_policy(path: str) -> CompiledPolicy | None:
    """The one policy a command was given (no versions); None (the error printed) when it does not load."""
    try:
        return load_policy(path)
    except EngineError as err:
        print_error(err)
        return None


def add_encoding_argument(p: argparse.ArgumentParser) -> None:
    """`--encoding`: a CSV input's encoding, for a file whose encoding the engine should not tell by itself."""
    p.add_argument(
        "--encoding",
        metavar="NAME",
        help=msg("cli.common.encoding"),
    )
