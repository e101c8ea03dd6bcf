"""Errors as values: every problem found in a policy or a claim is a `Problem`.

Loading collects all problems, then raises one `PolicyError` / `ClaimError`
holding them, the way a compiler reports every error of a file at once.
Modelled on jsonschema's ValidationError: a path, a message, what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.core.i18n import lookup, msg, tr

PathPart = str | int


def format_path(path: Sequence[PathPart]) -> str:
    """`('rules', 3, 'caps', 0, 'max')` -> `rules[3].caps[0].max`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


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
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def __str__(self) -> str:
        item = tr(msg("core.item", id=self.item_id)) if self.item_id is not None else ""
        text = f"{self.location()}: {format_path(self.path)}{item}: {tr(self.message)}"
        if self.expected:
            text += f"\n    {lookup('core.expected')} {tr(self.expected)}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": format_path(self.path),
            "message": tr(self.message),
            "expected": tr(self.expected) if self.expected is not None else None,
            **({"item_id": self.item_id} if self.item_id is not None else {}),
        }


@dataclass
class EngineError(Exception):
    """Base of the errors the engine raises on bad input."""

    problems: list[Problem] = field(default_factory=list)
    summary: str = msg("core.invalid_input")

    def __post_init__(self) -> None:
        Exception.__init__(self, str(self))

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
