"""Stage 2a, validate: the policy document against `schemas/policy.schema.json`.

jsonschema reports where in the document a value is wrong; we turn each
error into a `Problem` with the file, line and column of that value, and a
sentence a policy officer can act on.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from engine.core.errors import Problem
from engine.language.source import Source

SCHEMA_DIR_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "schemas",  # a source checkout
    Path(__file__).resolve().parents[1] / "schemas",  # an installed wheel (schemas copied into the package)
)


def schema_path(name: str) -> Path:
    for directory in SCHEMA_DIR_CANDIDATES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"schema {name} not found in {', '.join(map(str, SCHEMA_DIR_CANDIDATES))}")


@lru_cache(maxsize=8)
def load_schema(name: str) -> dict[str, Any]:
    try:
        text = schema_path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        text = resources.files("engine").joinpath("schemas", name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=8)
def validator_for(name: str) -> Draft202012Validator:
    # The shipped schemas are checked against the 2020-12 meta-schema by the test suite
    # (tests/test_no_reparse.py), not on every start: that check alone took most of a load.
    return Draft202012Validator(load_schema(name), format_checker=jsonschema.FormatChecker())


def expected_text(error: ValidationError) -> str | None:
    v = error.validator
    if v == "required":
        return None
    if v == "type":
        if error.validator_value == "object" and isinstance(error.instance, list):
            # `values: [patent, trademark]` where the codes need their labels
            return "a mapping, not a list: each entry on its own line as `key: value` (an enum's values as `code: {zh: …, en: …}`)"
        return f"a value of type {error.validator_value}"
    if v == "enum":
        return "one of: " + ", ".join(map(str, error.validator_value))
    if v == "pattern":
        schema = error.schema if isinstance(error.schema, dict) else {}
        return schema.get("description") or f"text matching {error.validator_value}"
    if v == "additionalProperties":
        props = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        return "one of the fields: " + ", ".join(props) if props else None
    if v in ("oneOf", "anyOf"):
        schema = error.schema if isinstance(error.schema, dict) else {}
        titles = [str(s.get("title")) for s in error.validator_value if isinstance(s, dict) and s.get("title")]
        if titles:
            return "one of the forms: " + "; ".join(titles)
        description = schema.get("description")
        return str(description) if description else None
    return None


def _message(error: ValidationError) -> str:
    v = error.validator
    if v == "additionalProperties":
        return str(error.message).replace("Additional properties are not allowed", "unknown field(s)")
    if v in ("oneOf", "anyOf"):
        best = jsonschema.exceptions.best_match(error.context or []) if error.context else None
        inner = f" (closest: {best.message})" if best is not None else ""
        return f"{_short(error.instance)} does not fit any allowed form{inner}"
    return str(error.message)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_DECIMAL_REPR = re.compile(r"Decimal\('([^']*)'\)")

#: Errors that mean "the value is another form altogether" when they concern the value itself.
_STRUCTURAL = frozenset({"additionalProperties", "required", "type", "const", "enum"})


def _closest(error: ValidationError) -> tuple[ValidationError, ValidationError | None]:
    """For a oneOf/anyOf error: the innermost such error whose one fitting form failed, and that form's single error.

    `{rate: 1.5, of: ...}` fits only the `rate × base` form, and fails it only because 1.5 > 1:
    that is what to report, at `...amount.rate`, not "does not fit any allowed form".
    """
    branches: dict[Any, list[ValidationError]] = {}
    for e in error.context or []:
        branches.setdefault(e.relative_schema_path[0], []).append(e)
    fitting = [errs for errs in branches.values() if not any(e.validator in _STRUCTURAL and not e.relative_path for e in errs)]
    if len({tuple(e.message for e in errs) for errs in fitting}) == 1:  # e.g. -1 fails both `integer` and `number` the same way
        fitting = fitting[:1]
    if len(fitting) != 1 or len(fitting[0]) != 1:
        return error, None
    leaf = fitting[0][0]
    if leaf.validator in ("oneOf", "anyOf"):
        inner, inner_leaf = _closest(leaf)
        return (inner, inner_leaf) if inner_leaf is not None else (leaf, None)
    return error, leaf


def _first_unknown_field(error: ValidationError) -> tuple[str, ...]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if not isinstance(error.instance, dict) or schema.get("additionalProperties") is not False:
        return ()
    known = schema.get("properties", {})
    extra = [k for k in error.instance if k not in known]
    return (extra[0],) if len(extra) == 1 else ()


def schema_problems(source: Source, schema_name: str = "policy.schema.json") -> list[Problem]:
    """Every schema violation in the document, located, in document order."""
    validator = validator_for(schema_name)
    problems = []
    for error in validator.iter_errors(source.data):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            path += _first_unknown_field(error)  # point at the unknown field's own line, not its parent's
        message, expected, code = _message(error), expected_text(error), f"schema.{error.validator}"
        if error.validator in ("oneOf", "anyOf"):
            form, leaf = _closest(error)
            if leaf is not None and leaf.validator != "pattern":  # a pattern's regex says less than the form's description
                path, message, code = tuple(leaf.absolute_path), str(leaf.message), f"schema.{leaf.validator}"
                expected = form.schema.get("description") if isinstance(form.schema, dict) else None
            elif leaf is not None and form is not error:
                # the one fitting form fails only in a field whose own forms all fail (`rate: "param(...)"`): name
                # that field and its forms, not the other forms of the whole ("'of', 'rate' were unexpected")
                path, code = tuple(form.absolute_path), f"schema.{form.validator}"
                message, expected = f"{_short(form.instance)} does not fit any allowed form", expected_text(form)
        message = _DECIMAL_REPR.sub(r"\1", message)  # the loader's exact numbers, shown as written
        problems.append(source.problem(path, message, expected=expected, code=code))
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return problems
