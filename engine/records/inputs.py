"""Reading claim files: JSON (exact decimals) or YAML, each able to say where a value stands."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Protocol

from engine.core.errors import ClaimError, EngineError, PathPart, Problem
from engine.core.jsonpos import Positions, json_positions, locate_in
from engine.deciding.claims import DuplicateKeyError, loads_json
from engine.language.source import parse_yaml, read_text


class Locator(Protocol):
    def where(self, path: tuple[PathPart, ...]) -> tuple[int | None, int | None]: ...


class JsonText:
    """A JSON document's text; positions are worked out only if an error needs them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._positions: Positions | None = None

    def where(self, path: tuple[PathPart, ...]) -> tuple[int | None, int | None]:
        if self._positions is None:
            self._positions = json_positions(self.text)
        return locate_in(self._positions, path)


def read_document(path: str | Path) -> tuple[Any, Locator]:
    """Data of a JSON or YAML file, and what can put line numbers on its claim errors."""
    text = read_text(path)
    name = str(path)
    if name.endswith(".json"):
        try:
            return loads_json(text), JsonText(text)
        except DuplicateKeyError as exc:
            problem = Problem(
                exc.msg, exc.path, name, exc.lineno, exc.colno, expected="each key once per object", code="claim.duplicate_key"
            )
            raise ClaimError([problem], "invalid claim") from None
        except ValueError as exc:
            line = getattr(exc, "lineno", None)
            col = getattr(exc, "colno", None)
            msg = getattr(exc, "msg", str(exc))
            raise ClaimError([Problem(f"not valid JSON: {msg}", file=name, line=line, column=col, code="syntax")], "cannot parse") from None
    source = parse_yaml(text, name)
    return source.data, source


def locate(error: EngineError, source: Locator | None, file: str) -> EngineError:
    """Add file, line and column to problems that only know their path."""
    located = []
    for p in error.problems:
        line, col = source.where(p.path) if source is not None else (p.line, p.column)
        located.append(dataclasses.replace(p, file=p.file or file, line=p.line or line, column=p.column or col))
    return type(error)(located, error.summary)
