"""Reading claim files: JSON (exact decimals) or YAML (with positions for error messages)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .claims import loads_json
from .errors import ClaimError, EngineError, Problem
from .source import Source, parse_yaml, read_text


def read_document(path: str | Path) -> tuple[Any, Source | None]:
    """Data of a JSON or YAML file; for YAML also its source, to put line numbers on claim errors."""
    text = read_text(path)
    name = str(path)
    if name.endswith(".json"):
        try:
            return loads_json(text), None
        except ValueError as exc:
            line = getattr(exc, "lineno", None)
            col = getattr(exc, "colno", None)
            msg = getattr(exc, "msg", str(exc))
            raise ClaimError([Problem(f"not valid JSON: {msg}", file=name, line=line, column=col, code="syntax")], "cannot parse") from None
    source = parse_yaml(text, name)
    return source.data, source


def locate(error: EngineError, source: Source | None, file: str) -> EngineError:
    """Add file, line and column to problems that only know their path."""
    located = []
    for p in error.problems:
        line, col = source.where(p.path) if source is not None else (p.line, p.column)
        located.append(Problem(p.message, p.path, p.file or file, p.line or line, p.column or col, p.expected, p.code, p.severity))
    return type(error)(located, error.summary)
