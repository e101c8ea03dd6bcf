"""Errors as values: every problem found in a policy or a claim is a `Problem`.

Loading collects all problems, then raises one `PolicyError` / `ClaimError`
holding them, the way a compiler reports every error of a file at once.
Modelled on jsonschema's ValidationError: a path, a message, what was expected.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.core.i18n import Msg, lookup, msg, tr, use_language

PathPart = str | int

#: The system's reasons a file or folder cannot be read or written that a person can act on (`core.os.<name>`).
_OS_REASONS = {
    errno.ENOENT: "not_found",
    errno.EACCES: "no_permission",
    errno.EPERM: "no_permission",
    errno.EISDIR: "folder",
    errno.ENOTDIR: "not_folder",
    errno.EROFS: "read_only",
    errno.ENOSPC: "no_space",
    errno.EEXIST: "exists",
    errno.ENAMETOOLONG: "name_too_long",
}


#: Python's json module's reasons, by their first words, and their entries (`core.json.<name>`).
_JSON_REASONS = (
    ("Expecting value", "value"),
    ("Expecting property name enclosed in double quotes", "name"),
    ("Expecting ':' delimiter", "colon"),
    ("Expecting ',' delimiter", "comma"),
    ("Unterminated string", "unterminated"),
    ("Invalid control character", "control"),
    ("Invalid \\uXXXX escape", "unicode_escape"),
    ("Invalid \\escape", "escape"),
    ("Extra data", "extra"),
    ("Illegal trailing comma", "trailing_comma"),
)


def json_kind(value: Any) -> Msg:
    """What kind of JSON value `value` is, in the reader's language ("a list", "列表"): not Python's name for it."""
    if value is None:
        kind = "null"
    elif isinstance(value, bool):
        kind = "boolean"
    elif isinstance(value, int | float | Decimal):
        kind = "number"
    elif isinstance(value, str):
        kind = "text"
    elif isinstance(value, list | tuple):
        kind = "list"
    elif isinstance(value, bytes | bytearray):  # (a program's undecoded body: it was said as "an object")
        kind = "bytes"
    elif isinstance(value, os.PathLike):  # (a claim file's path handed for the claim: "an object, not an object")
        kind = "path"
    else:
        kind = "object"
    return msg(f"core.json_kind.{kind}")


def json_reason(exc: Exception) -> Msg | str:
    """Why a text is not JSON, in the reader's language: json's "Expecting ',' delimiter" said as `core.json.comma`.

    A reason already from the catalogue (the engine's own JSON checks) stays as it is; one json has not been
    taught to say (none known) stays json's own words."""
    if isinstance(exc, UnicodeDecodeError):
        return msg("core.json.not_utf8")
    reason = getattr(exc, "msg", None)
    if reason is None and exc.args:
        reason = exc.args[0]
    if isinstance(reason, Msg):
        return reason
    text = str(reason if reason is not None else exc)
    for start, name in _JSON_REASONS:
        if text.startswith(start):
            return msg(f"core.json.{name}")
    return text


def os_reason(exc: OSError) -> Msg | str:
    """Why the system refused, in the reader's language: "No such file or directory" said as `core.os.not_found`.

    A reason with no catalogue entry (rare: a device error) stays the system's own words."""
    name = _OS_REASONS.get(exc.errno or 0)
    return msg(f"core.os.{name}") if name else str(exc.strerror or exc)


def refuse_count(value: Any, call: str, name: str, least: int, most: int | None = None, *, none: Msg | None = None) -> None:
    """ValueError unless `value` is a whole number from `least` (to `most`), or None where `none` says what None means:
    a count given to the Python API is held to what the command line's option takes (`run_batch(workers=-1)` ran,
    where `--workers -1` is refused). A bool is no count (True is 1 to Python), nor is a float (1.5 processes)."""
    if value is None and none is not None:
        return
    if type(value) is int and value >= least and (most is None or value <= most):
        return
    more = "" if none is None else msg("core.count_or_none", means=none)
    said = {"call": call, "name": name, "value": repr(value), "least": least, "more": more}
    raise ValueError(msg("core.count_from_to", **said, most=most) if most is not None else msg("core.count_at_least", **said))


def refuse_flags(call: str, **flags: Any) -> None:
    """ValueError unless each of `flags` is True or False: a flag given as text ("false", "no") is true to Python, so
    `run_batch(commit="false")` committed the round, and `Ledger(url, create="no")` made a ledger."""
    for name, value in flags.items():
        if value is not True and value is not False:
            raise ValueError(msg("core.flag", call=call, name=name, value=repr(value)[:40]))


def format_path(path: Sequence[PathPart]) -> str:
    """`('rules', 3, 'caps', 0, 'max')` -> `rules[3].caps[0].max`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or lookup("core.document")  # "(document)", in the reader's language: the input as a whole


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    message: str  # an `engine.core.i18n.Msg` wherever the words are the engine's, so `tr` says them in zh or en
    path: tuple[PathPart, ...] = ()
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    expected: str | None = None  # a `Msg` too, or a value's own text
    code: str = "invalid"
    severity: str = "error"
    item_id: str | None = None  # a claim item's own id, so an officer finds it without counting

    def location(self) -> str:
        where = tr(self.file) if self.file else lookup("core.input")  # a sheet's place is a message too
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def place(self) -> str:
        """The field the problem is at (`rules[0].when[0].test`), said after its location.

        No field and no line: the input as a whole, "（整个文件）" / "(document)". No field but a line (a YAML or
        JSON syntax error, a file that is no mapping): nothing, for the line and column are the place, and the
        problem is not about the whole file."""
        if self.path:
            return format_path(self.path)
        return "" if self.line is not None else lookup("core.document")

    def __str__(self) -> str:
        item = tr(msg("core.item", id=self.item_id)) if self.item_id is not None else ""
        place = self.place()
        # (the place as a compiler writes it, `file:line:column: `; after the field, the colon of the reader's
        # language: （项目 p1）: was an ASCII colon after Chinese words)
        line = "core.problem_line" if place or item else "core.problem_line_bare"
        text = tr(msg(line, location=self.location(), where=place, item=item, message=self.message))
        if self.expected:
            text += f"\n    {lookup('core.expected')} {tr(self.expected)}"
        return text

    def said(self, lang: str | None = None) -> str:
        """The problem as `str()` says it, in `lang` ("zh", "en"; default: the reader's language). Its `message`
        is a `Msg`, a text whose own value is the English: `tr(problem.message, "zh")` says it alone."""
        with use_language(lang):
            return str(self)

    def to_dict(self) -> dict[str, Any]:
        """The problem as JSON holds it (the command line's --json, the service's problems, match's errors). `path`
        is "" for a problem of the input as a whole: a machine value, where the text's "(document)" / "（整个文件）"
        was written in the reader's language; a string as ever (the service's Problem schema types it so)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": format_path(self.path) if self.path else "",
            "message": tr(self.message),
            "expected": tr(self.expected) if self.expected is not None else None,
            **({"item_id": self.item_id} if self.item_id is not None else {}),
        }


def first_named(
    problems: list[Problem],
    limit: int,
    more: Callable[[int], Msg],
    file: str | None = None,
    *,
    beyond: bool = False,
    code: str = "more",
) -> list[Problem]:
    """`problems`, at most `limit` of them, and where there are others (`beyond`: others not read) one more, said by
    `more(n)` of the `n` named ("more problems than the {n} named here"): saying thousands cost more than finding them,
    and a reader mends the first hundred before reading again. The one road for a policy, a case file, lint, a claim and a recorded decision."""
    if len(problems) <= limit and not beyond:
        return problems
    named = problems[:limit]
    return [*named, Problem(more(len(named)), file=file, code=code, severity=_more_severity(problems[limit:]))]


def _more_severity(unnamed: list[Problem]) -> str:
    """An error if one of those not named is (lint's warnings after a hundred named must not pass an error unseen)."""
    return "error" if not unnamed or any(p.severity == "error" for p in unnamed) else "warning"


class SaidError(Exception):
    """An error made with one message (a `Msg`; the outer layers' `InputError`, `OutputError`, `LedgerError`,
    `RenderError`): `str(err)` says it in the reader's language, `err.said("zh")` in the one named, as an
    `EngineError` says itself. An error made with other text (a library's words) says that text in any language."""

    def __str__(self) -> str:
        return tr(self.args[0]) if self.args and isinstance(self.args[0], Msg) else super().__str__()

    def said(self, lang: str | None = None) -> str:
        """The error as `str()` says it, in `lang` ("zh", "en"; default: the reader's language)."""
        with use_language(lang):
            return str(self)


class OutputError(SaidError):
    """An output path that cannot be created or written (a file where a folder should be, no permission, a folder
    that is not there). Here, not in records, so that every layer that writes a file says it so: records' folders
    and sheets, explaining's report (`engine.explaining.render.write_report`)."""


@dataclass
class EngineError(Exception):
    """Base of the errors the engine raises on bad input."""

    problems: list[Problem] = field(default_factory=list)
    summary: str = msg("core.invalid_input")

    def __post_init__(self) -> None:
        Exception.__init__(self, str(self))

    def said(self, lang: str | None = None) -> str:
        """The error and each problem, as `str()` says them, in `lang` ("zh", "en"; default: the reader's)."""
        with use_language(lang):
            return str(self)

    def __str__(self) -> str:
        lines = [tr(msg("core.summary", summary=self.summary, n=len(self.problems)))]
        lines += [str(p) for p in self.problems]
        return "\n".join(lines)


class PolicyError(EngineError):
    """A policy file that cannot be loaded: syntax, schema or semantic problems."""


class ClaimError(EngineError):
    """A claim that cannot be evaluated: it does not fit the claim vocabulary."""


class InputLimitError(EngineError):
    """An input that exceeds a safety limit (size, depth, alias expansion)."""
