"""Claims: one application, checked against the policy's claim vocabulary and made exact.

A claim arrives as plain data (JSON, YAML, a spreadsheet row set). We first
validate it against the claim JSON Schema generated from the policy's
vocabulary (`claim_schema`), then convert every fact to its exact type:
money to `Decimal` (at most two decimals, no exponent, no float), dates to
`datetime.date`. Nothing is coerced silently: `"1e3"` is not 1000 yuan.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import itertools
import json
import math
import numbers
import operator
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any, Literal, Union

import jsonschema
from jsonschema import Draft202012Validator

from engine.core.characters import BIDI, FORMAT_ASTRAL, FORMAT_BMP
from engine.core.errors import ClaimError, PathPart, Problem, first_named, json_kind, json_reason
from engine.core.i18n import Clipped, Msg, clip_text, language, msg
from engine.core.identifiers import FORMATS, FORMS, PROBLEMS, form_of, slip_of
from engine.core.jsonpos import first_duplicate, json_positions, locate_in, where_constant, where_refused
from engine.core.quantities import MONEY_FORM, amount_slip, date_slip, decimal_places, said_in_digits, whole_written
from engine.deciding.history import Consumption, Grant, parse_grants
from engine.language import kinds as file_kinds
from engine.language.expressions import Facts, suggest
from engine.language.model import CompiledPolicy, FactSpec, Text
from engine.language.validate import schema_message

MAX_STRING = 500
MAX_ITEMS = 1000
MAX_LIST = 100  # elements of one list fact (what an expression may loop over is bounded by it)
MAX_MONEY = Decimal("999999999999.99")
#: `(?!\n)$` ends the text in both regex dialects: Python's `$` alone (jsonschema uses Python's `re`)
#: also matches before a final newline, so "840000.00\n" would pass; ECMA-262 reads it as plain `$`.
_END = r"(?!\n)$"
_MONEY_TEXT = "^" + MONEY_FORM + _END
_MONEY_RE = re.compile(_MONEY_TEXT)
_DATE_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}" + _END
#: A decimal fact as text ("0.6500"), a percent fact ("4.35%"): any number of decimals here, so that too many is
#: said in the officer's terms (FactConverter) rather than as a pattern.
_DECIMAL_TEXT = r"^(0|[1-9][0-9]{0,14})(\.[0-9]+)?" + _END
_DECIMAL_RE = re.compile(_DECIMAL_TEXT)
_PERCENT_TEXT = r"^(0|[1-9][0-9]{0,5})(\.[0-9]+)?%" + _END
_PERCENT_RE = re.compile(_PERCENT_TEXT)
MAX_DECIMAL = Decimal(10) ** 15  # a decimal fact is less than this (15 digits before the point)
_IDENTIFIER_TEXT = "^" + form_of(None) + _END
#: every identifier's pattern: 18 characters of [0-9A-Z], or the form of its format (engine.core.identifiers.FORMS)
_IDENTIFIER_TEXTS = frozenset({_IDENTIFIER_TEXT, *("^" + form + _END for form in FORMS.values())})


def _identifier_text(spec: FactSpec) -> str:
    return "^" + form_of(spec.format) + _END


#: Characters no text fact, id or name may hold: C0/C1 controls and DEL, line/paragraph separators,
#: lone surrogates (not Unicode text: they pass json and then crash whatever encodes the decision), and
#: every format character (`engine.core.characters`): invisible, so two ids or names that look equal
#: could differ, e.g. a loan counted once per loan id.
#: `_SUSPECT` is the fast test: those of the Basic Multilingual Plane, and any character beyond it
#: (one range; a class listing the few astral format characters would be several times slower, and
#: names may hold astral CJK characters); `_ASTRAL_FORMAT` then decides a suspect beyond the BMP.
_SUSPECT = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff{FORMAT_BMP}\U00010000-\U0010ffff]")
_ASTRAL_FORMAT = re.compile(f"[{FORMAT_ASTRAL}]")
TEXT_EXPECTED = msg("claim.text.expected")


def _exponent_written(value: Decimal) -> bool:
    """A Decimal only an exponent writes (1E+3: another JSON reader's `1e3`). Plain digits never give a positive
    exponent; a negative one (0.0000000001 is 1E-10) may be either, and such a number has too many decimals anyway:
    it is said so, in plain digits (`_digits`), not as an exponent the applicant never wrote."""
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent > 0


def text_problem(text: str) -> Msg | None:
    """What is wrong with the characters of a claim's text (None if nothing), naming the first bad one."""
    m = _SUSPECT.search(text)
    while m is not None and m.group() > "\uffff" and not _ASTRAL_FORMAT.match(m.group()):
        m = _SUSPECT.search(text, m.end())  # an ordinary character beyond the BMP (e.g. CJK extension B)
    if m is None:
        return None
    ch = m.group()
    code = f"U+{ord(ch):04X}"
    name = unicodedata.name(ch, "")
    where = msg("claim.text.where", code=f"{code}{' ' + name if name else ''}", n=m.start() + 1)
    if "\ud800" <= ch <= "\udfff":
        return msg("claim.text.surrogate", where=where)
    if ch in BIDI:
        return msg("claim.text.bidi", where=where)
    if unicodedata.category(ch) == "Cf":
        return msg("claim.text.invisible", where=where)
    return msg("claim.text.control", where=where)


#: Bounds on the raw data before the schema sees it (the schema bounds each field; these bound the whole).
MAX_CLAIM_DEPTH = 20
MAX_CLAIM_VALUES = 200_000
MAX_PLAIN_INT = 10**18
MAX_MESSAGE = 240
#: unknown fields of one object named (each with its guess) in its problem; the rest are counted: 60,000 unknown keys
#: in a 1.7 MB claim were each named and guessed twice, 12 s of work and a 4.6 MB message (503 over HTTP)
MAX_UNKNOWN_NAMED = 20
#: problems of a claim's form named, in the order its fields come; past them one more says there are others: 100,000
#: list entries of the wrong type in a 0.5 MB claim were each a problem, 70 s of work and 690 MB (a 0.1 MB POST
#: /evaluate of 200 items, 20,000 of them, answered 503 after 19.7 s)
MAX_CLAIM_PROBLEMS = 100
#: schema errors of a claim read to find those problems: enough for a hundred after the ones said once for several (an
#: item that is no object is an error for each item type it could be) or set aside; jsonschema makes each as it is
#: asked, and every one was held: 100,000 wrong list entries in a 0.5 MB claim held ~400 MB of them
MAX_SCHEMA_ERRORS = 2_000
RESERVED = ("claim_id", "applicant", "items", "history")
_REQUIRED = re.compile(r"^'([^']+)' is a required property$")
#: Never optional, even when matching on partial data: the claim cannot be read without them.
STRUCTURAL = frozenset({"claim_id", "applicant", "items", "id", "type", "kind", "funding_year"})


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    type: str
    index: int
    facts: Facts


@dataclass(frozen=True, slots=True)
class Claim:
    claim_id: str
    funding_year: int
    applicant_id: str
    claim_facts: Facts
    applicant: Facts
    items: tuple[Item, ...]
    history: tuple[Grant, ...]
    raw: Mapping[str, Any]


def _written_number(pattern: str, description: str, **bounds: float) -> dict[str, Any]:
    """A non-negative number a claim may write as text (exact) or as a JSON number."""
    return {"type": ["string", "number"], "pattern": pattern, "minimum": 0, **bounds, "description": description}


def _fact_schema(spec: FactSpec, policy: CompiledPolicy) -> dict[str, Any]:
    desc = f"{spec.label.zh} / {spec.label.en}"
    t = spec.type
    s: dict[str, Any]
    if t == "string":
        s = {"type": "string", "minLength": 1, "maxLength": MAX_STRING}
    elif t == "boolean":
        s = {"type": "boolean"}
    elif t == "integer":
        s = {"type": "integer", "minimum": 0, "maximum": 999999999}
    elif t == "count":
        unit = spec.unit or _NO_UNIT
        s = {
            "type": "integer",
            "minimum": 0,
            "maximum": 999999999,
            "description": f"a whole number of {unit.en} / {unit.zh}数（整数）",
        }
    elif t == "decimal":
        s = _written_number(_DECIMAL_TEXT, f"a number with at most {spec.places} decimals / 数字，最多{spec.places}位小数")
    elif t == "percent":
        s = {
            "type": "string",
            "pattern": _PERCENT_TEXT,
            "description": f'a percentage written "4.35%", at most {spec.places} decimals / 百分比，写作 "4.35%"，最多{spec.places}位小数',
        }
    elif t == "money":
        # the validators use the exact Decimal (_exact); the schema can only publish a float maximum
        s = _written_number(_MONEY_TEXT, "yuan, at most two decimals / 元，最多两位小数", maximum=float(MAX_MONEY))
    elif t == "date":
        s = {"type": "string", "pattern": _DATE_TEXT, "format": "date"}
    elif t == "enum":
        s = {"type": "string", "enum": list(spec.values or ())}
    elif t in ("enum_list", "document_list"):
        s = {"type": "array", "items": {"type": "string", "enum": list(spec.values or ())}, "uniqueItems": True, "maxItems": MAX_LIST}
    elif t == "string_list":
        s = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": MAX_STRING}, "maxItems": MAX_LIST}
    elif t == "date_list":
        s = {
            "type": "array",
            "items": {
                "type": "string",
                "pattern": _DATE_TEXT,
                "format": "date",
                "description": "a date YYYY-MM-DD / 日期，格式 YYYY-MM-DD",
            },
            "uniqueItems": True,
            "maxItems": MAX_LIST,
        }
    elif t == "identifier":
        s = {"type": "string", "pattern": _identifier_text(spec)}
    elif t == "item_type":
        s = {"type": "string", "enum": sorted(policy.item_type_labels)}
    else:  # pragma: no cover - the policy schema allows no other type
        raise ValueError(t)
    if spec.has_default and spec.default is None:
        s = {"anyOf": [s, {"type": "null"}]}
    s["description"] = desc + (f" — {s['description']}" if "description" in s else "")
    return s


_NO_UNIT = Text("单位", "units")


def _object(facts: Mapping[str, FactSpec], policy: CompiledPolicy, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    props = {name: _fact_schema(spec, policy) for name, spec in facts.items()}
    if extra:
        props.update(extra)
    required = [name for name, spec in facts.items() if spec.required]
    return {"type": "object", "additionalProperties": False, "required": required, "properties": props}


def claim_schema(policy: CompiledPolicy) -> dict[str, Any]:
    """The JSON Schema (2020-12) of a claim under `policy`, with every fact documented in zh and en."""
    refuse_what_is_no_policy(policy, "claim_schema")  # (None was "'NoneType' object has no attribute 'item_facts'")
    defs: dict[str, Any] = {}
    conditions = []
    for type_name, facts in policy.item_facts.items():
        label = policy.item_type_labels[type_name]
        item = _object(facts, policy)
        item["title"] = f"{label.zh} / {label.en}"
        defs[f"item_{type_name}"] = item
        conditions.append(
            {"if": {"properties": {"type": {"const": type_name}}, "required": ["type"]}, "then": {"$ref": f"#/$defs/item_{type_name}"}}
        )
    top = _object(
        policy.claim_facts,
        policy,
        {
            "claim_id": {"type": "string", "minLength": 1, "maxLength": 100, "description": "申请编号 / application id"},
            "applicant": {"$ref": "#/$defs/applicant"},
            "items": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_ITEMS,
                "items": {"$ref": "#/$defs/item"},
                "description": "申报事项，按申报顺序 / the items applied for, in order",
            },
            "history": {
                "type": "array",
                "items": {"type": "object"},
                "description": "以往已发放的支持（台账记录） / earlier grants (ledger records)",
            },
        },
    )
    top["required"] = ["claim_id", "applicant", "items", *top["required"]]
    defs["applicant"] = _object(policy.applicant_facts, policy)
    defs["item"] = {
        "type": "object",
        "required": ["id", "type"],
        "properties": {"type": {"type": "string", "enum": sorted(policy.item_type_labels)}},
        "allOf": conditions,
    }
    defs.update({k: v for k, v in list(defs.items())})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://example.invalid/policy-engine/claims/{policy.id}.schema.json",
        "title": f"Claim under {policy.title.en} / {policy.title.zh} 申报材料",
        "description": "One application: the applicant, the funding year, the documents and the items applied for. 一份申请：申请人、申报年度、材料及申报事项。",
        **top,
        "$defs": defs,
    }


def _exact(schema: Any) -> Any:
    """The claim schema the validators use: the published one, with the money maximum as the exact Decimal.

    JSON can only publish 999999999999.99 as a binary float, which is a little less than the Decimal: the
    JSON number 999999999999.99 (read as Decimal) would be "greater than the maximum of 999999999999.99".
    """
    if isinstance(schema, list):
        return [_exact(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _exact(v) for k, v in schema.items()}
    if out.get("pattern") == _MONEY_TEXT and "maximum" in out:
        out["maximum"] = MAX_MONEY
    return out


@lru_cache(maxsize=32)
def _validator(policy: CompiledPolicy) -> Draft202012Validator:
    return Draft202012Validator(_exact(claim_schema(policy)), format_checker=jsonschema.FormatChecker())


@lru_cache(maxsize=32)
def _split_validators(policy: CompiledPolicy) -> tuple[Draft202012Validator, dict[str, Draft202012Validator]]:
    """The claim schema split for speed: the claim without the per-type item branches, and one validator per item type.

    The full schema picks an item's facts with one `if type == X then ...` branch per item type, and
    jsonschema tries every branch on every item. When every item is an object naming a known type,
    exactly one branch applies, so validating the item against that branch alone gives the same errors.
    """
    schema = _exact(claim_schema(policy))
    checker = jsonschema.FormatChecker()
    defs = dict(schema["$defs"])
    defs["item"] = {k: v for k, v in defs["item"].items() if k != "allOf"}
    top = Draft202012Validator({**schema, "$defs": defs}, format_checker=checker)
    per_type = {t: Draft202012Validator({**schema["$defs"][f"item_{t}"], "$defs": defs}, format_checker=checker) for t in policy.item_facts}
    return top, per_type


_Check = Callable[[Any], bool]
#: Keywords that only annotate: they never make an instance invalid.
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description"})
#: Keywords the fast checker evaluates. Any other keyword makes `_compile_fast` refuse.
_FAST_KEYWORDS = _ANNOTATIONS | {
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "pattern",
    "format",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "anyOf",
    "allOf",
    "if",
    "then",
    "$ref",
}
_DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


class _Unsupported(Exception):
    """The schema uses something the fast checker does not reproduce exactly: use jsonschema alone."""


def _always(_: Any) -> bool:
    return True


def _never(_: Any) -> bool:
    return False


def _is_number(x: Any) -> bool:
    # jsonschema (draft 2020-12): a numbers.Number that is not a bool -- Decimal included
    return isinstance(x, numbers.Number) and not isinstance(x, bool)


def _is_integer(x: Any) -> bool:
    # jsonschema (draft 2020-12): an int that is not a bool, or a float with no fractional part
    return (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, float) and x.is_integer())


_TYPE_CHECKS: dict[str, _Check] = {
    "string": lambda x: isinstance(x, str),
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "number": _is_number,
    "integer": _is_integer,
}


#: The kind of value whose keywords apply to an instance of a type (integers are numbers).
_KIND = {"integer": "number"}
_KIND_TESTS: dict[str, _Check] = {
    "object": _TYPE_CHECKS["object"],
    "string": _TYPE_CHECKS["string"],
    "number": _is_number,
    "array": _TYPE_CHECKS["array"],
}


def _guarded(kind: str, group: _Check) -> _Check:
    """Keywords of one kind of value without a `type`: they hold vacuously for an instance of another kind."""
    test = _KIND_TESTS[kind]
    return lambda x: group(x) if test(x) else True


def _all_of(checks: list[_Check]) -> _Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda x: first(x) and second(x)
    if len(checks) == 3:
        one, two, three = checks
        return lambda x: one(x) and two(x) and three(x)
    frozen = tuple(checks)

    def every(x: Any) -> bool:
        for c in frozen:
            if not c(x):
                return False
        return True

    return every


class _FastCompiler:
    """Compile a claim JSON Schema into plain functions answering only "valid or not".

    Exactly as strict as `Draft202012Validator` with the default type checker for the keywords in
    `_FAST_KEYWORDS` (with the restrictions checked below); anything else raises `_Unsupported`.
    """

    def __init__(self, root: Mapping[str, Any], format_checker: jsonschema.FormatChecker | None) -> None:
        self.root = root
        self.format_checker = format_checker
        self.defs: Mapping[str, Any] = root.get("$defs", {})
        self.compiled: dict[str, _Check | None] = {}

    def ref(self, ref: Any) -> _Check:
        prefix = "#/$defs/"
        if not isinstance(ref, str) or not ref.startswith(prefix):
            raise _Unsupported(f"$ref {ref!r}")
        name = ref[len(prefix) :]
        if not name or any(c in name for c in "/~%") or name not in self.defs:
            raise _Unsupported(f"$ref {ref!r}")
        if name not in self.compiled:
            self.compiled[name] = None  # in progress: a recursive reference looks it up when called
            self.compiled[name] = self.node(self.defs[name], top=False)
        done = self.compiled[name]
        if done is None:
            compiled = self.compiled
            return lambda x: compiled[name](x)  # type: ignore[misc]
        return done

    def node(self, schema: Any, *, top: bool = False) -> _Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise _Unsupported(f"schema {schema!r}")
        unknown = set(schema) - _FAST_KEYWORDS
        if unknown:
            raise _Unsupported(f"keywords {sorted(unknown)}")
        if not top and ("$id" in schema or "$defs" in schema or "$schema" in schema):
            raise _Unsupported("nested $id/$defs/$schema")
        checks: list[_Check] = []
        # the keywords of each kind of value, as checks that assume the instance is of that kind
        groups = {"object": self.object(schema), "string": self.string(schema), "number": self.number(schema), "array": self.array(schema)}
        if "type" in schema:
            checks.append(self.typed(schema["type"], groups))
        else:
            checks.extend(_guarded(kind, group) for kind, group in groups.items() if group is not None)
        if "enum" in schema:
            checks.append(self.enum(schema["enum"]))
        if "const" in schema:
            const = schema["const"]
            if not isinstance(const, str):
                raise _Unsupported("const that is not text")
            checks.append(lambda x: x == const)
        if "format" in schema and self.format_checker is not None:
            checker, fmt = self.format_checker, schema["format"]
            checks.append(lambda x: checker.conforms(x, fmt))
        if "$ref" in schema:
            checks.append(self.ref(schema["$ref"]))
        if "allOf" in schema:
            parts = self.subschemas(schema["allOf"])
            switch = self.switch(parts)
            if switch is not None:
                checks.append(switch)
            else:
                checks.extend(self.node(s) for s in parts)
        if "anyOf" in schema:
            options = tuple(self.node(s) for s in self.subschemas(schema["anyOf"]))
            checks.append(lambda x: any(c(x) for c in options))
        if "if" in schema:
            cond = self.node(schema["if"])
            then = self.node(schema["then"]) if "then" in schema else _always
            checks.append(lambda x: then(x) if cond(x) else True)
        return _all_of(checks)

    def switch(self, parts: list[Any]) -> _Check | None:
        """`allOf` of `{"if": {"properties": {K: {"const": C}}, "required": [K]}, "then": S}` (one per type) as a table look-up.

        For an object with K, the `if` holds exactly when x[K] == C; without K no `if` holds; for a
        non-object every `if` holds vacuously, so every `then` applies. None when the shape differs.
        """
        key: str | None = None
        table: dict[str, _Check] = {}
        for part in parts:
            if not (isinstance(part, dict) and set(part) == {"if", "then"} and isinstance(part["if"], dict)):
                return None
            cond = part["if"]
            props = cond.get("properties")
            if set(cond) != {"properties", "required"} or not isinstance(props, dict) or len(props) != 1:
                return None
            ((name, sub),) = props.items()
            if cond["required"] != [name] or not isinstance(sub, dict) or set(sub) != {"const"}:
                return None
            value = sub["const"]
            if (key is not None and name != key) or not isinstance(value, str) or value in table:
                return None
            key = name
            table[value] = self.node(part["then"])
        if key is None:
            return None
        field = key
        branches = tuple(table.items())

        def check(x: Any) -> bool:
            if not isinstance(x, dict):
                return all(then(x) for _, then in branches)
            if field not in x:
                return True
            value = x[field]
            if type(value) is str:
                then = table.get(value)
                return then is None or then(x)
            return all(then(x) for const, then in branches if value == const)

        return check

    @staticmethod
    def subschemas(value: Any) -> list[Any]:
        if not isinstance(value, list) or not value:
            raise _Unsupported("allOf/anyOf that is not a non-empty list")
        return value

    @staticmethod
    def typed(value: Any, groups: Mapping[str, _Check | None]) -> _Check:
        """`type` fused with the keywords of the instance's kind.

        The kinds (text, number, list, object) are disjoint, so an instance of a listed type meets the
        keywords of its own kind and no other (those of other kinds do not apply to it).
        """
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names or any(n not in _TYPE_CHECKS for n in names):
            raise _Unsupported(f"type {value!r}")
        pairs = tuple((_TYPE_CHECKS[n], groups.get(_KIND.get(str(n), str(n))) or _always) for n in names)
        if len(pairs) == 1:
            ((is_type, group),) = pairs
            if group is _always:
                return is_type
            return lambda x: is_type(x) and group(x)

        def check(x: Any) -> bool:
            for is_type, group in pairs:
                if is_type(x):
                    return group(x)
            return False

        return check

    @staticmethod
    def enum(values: Any) -> _Check:
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise _Unsupported("enum of values that are not all text")
        known = frozenset(values)
        listed = tuple(values)
        # jsonschema's `equal(each, instance)` is `each == instance` when `each` is text
        return lambda x: (x in known) if type(x) is str else any(v == x for v in listed)

    def object(self, schema: Mapping[str, Any]) -> _Check | None:
        if not any(k in schema for k in ("properties", "required", "additionalProperties")):
            return None
        props = schema.get("properties", {})
        required = schema.get("required", [])
        additional = schema.get("additionalProperties", True)
        if not isinstance(props, dict) or not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            raise _Unsupported("properties/required")
        checks = {name: self.node(sub) for name, sub in props.items()}
        need = tuple(required)
        closed = additional is False
        extra = None if additional is True or closed else self.node(additional)

        if not closed and extra is None:
            # open object: only the named properties are looked at (an `if` that tests one field)
            listed = tuple(checks.items())

            def check_open(x: Any) -> bool:
                for name in need:
                    if name not in x:
                        return False
                for name, c in listed:
                    if name in x and not c(x[name]):
                        return False
                return True

            return check_open

        def check(x: Any) -> bool:
            for name in need:
                if name not in x:
                    return False
            for key, value in x.items():
                c = checks.get(key)
                if c is None:
                    if closed or (extra is not None and not extra(value)):
                        return False
                elif not c(value):
                    return False
            return True

        return check

    def string(self, schema: Mapping[str, Any]) -> _Check | None:
        low, high, pattern = schema.get("minLength"), schema.get("maxLength"), schema.get("pattern")
        if low is None and high is None and pattern is None:
            return None
        for bound in (low, high):
            if bound is not None and (not isinstance(bound, int) or isinstance(bound, bool)):
                raise _Unsupported("minLength/maxLength")
        if pattern is not None and not isinstance(pattern, str):
            raise _Unsupported("pattern")
        search = re.compile(pattern).search if pattern is not None else None

        def check(x: Any) -> bool:
            n = len(x)
            if (low is not None and n < low) or (high is not None and n > high):
                return False
            return search is None or search(x) is not None

        return check

    def number(self, schema: Mapping[str, Any]) -> _Check | None:
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is None and high is None:
            return None
        for bound in (low, high):
            if bound is not None and not _is_number(bound):
                raise _Unsupported("minimum/maximum")

        def check(x: Any) -> bool:
            return not ((low is not None and x < low) or (high is not None and x > high))

        return check

    def array(self, schema: Mapping[str, Any]) -> _Check | None:
        if not any(k in schema for k in ("items", "minItems", "maxItems", "uniqueItems")):
            return None
        low, high = schema.get("minItems"), schema.get("maxItems")
        for bound in (low, high):
            if bound is not None and (not isinstance(bound, int) or isinstance(bound, bool)):
                raise _Unsupported("minItems/maxItems")
        each = self.node(schema["items"]) if "items" in schema else None
        unique = schema.get("uniqueItems", False)
        if not isinstance(unique, bool):
            raise _Unsupported("uniqueItems")
        if unique and not (isinstance(schema.get("items"), dict) and schema["items"].get("type") == "string"):
            # uniqueness is only reproduced for lists of text (checked after the items, so all text)
            raise _Unsupported("uniqueItems on items that are not all text")

        def check(x: Any) -> bool:
            n = len(x)
            if (low is not None and n < low) or (high is not None and n > high):
                return False
            if each is not None:
                for value in x:
                    if not each(value):
                        return False
            if unique and n > 1:
                ordered = sorted(x)
                for a, b in itertools.pairwise(ordered):
                    if a == b:
                        return False
            return True

        return check


def _compile_fast(validator: Draft202012Validator) -> _Check | None:
    """A plain-Python yes/no checker exactly as strict as `validator`, or None when it cannot promise that."""
    schema = validator.schema
    if type(validator) is not Draft202012Validator or validator.TYPE_CHECKER is not Draft202012Validator.TYPE_CHECKER:
        return None
    if not isinstance(schema, dict) or schema.get("$schema") != _DRAFT_2020_12:
        return None
    defs = schema.get("$defs", {})
    if not isinstance(defs, dict):
        return None
    try:
        return _FastCompiler(schema, validator.format_checker).node(schema, top=True)
    except (_Unsupported, re.error):
        return None


@lru_cache(maxsize=32)
def _fast_validator(policy: CompiledPolicy) -> _Check | None:
    return _compile_fast(_validator(policy))


def fast_schema_ok(policy: CompiledPolicy, data: Any) -> bool:
    """True only when the claim schema accepts `data`; False means "ask jsonschema for the errors".

    False also when the fast checker is unavailable for this policy or failed on the data: the
    caller then runs jsonschema exactly as before, so an error message never comes from here.
    """
    check = _fast_validator(policy)
    if check is None:
        return False
    try:
        return bool(check(data))
    except Exception:  # any surprise: let jsonschema decide
        return False


def _schema_errors(policy: CompiledPolicy, data: Any) -> Iterator[tuple[tuple[PathPart, ...], Any]]:
    """A claim's schema errors with their paths, made as they are asked for (a caller reads as many as it names)."""
    top, per_type = _split_validators(policy)
    items = data.get("items") if isinstance(data, Mapping) else None
    if not isinstance(items, list) or not all(
        isinstance(i, Mapping) and isinstance(i.get("type"), str) and i["type"] in per_type for i in items
    ):
        yield from ((tuple(e.absolute_path), e) for e in _validator(policy).iter_errors(data))
        return
    yield from ((tuple(e.absolute_path), e) for e in top.iter_errors(data))
    for i, it in enumerate(items):
        yield from ((("items", i, *e.absolute_path), e) for e in per_type[it["type"]].iter_errors(it))


class ExponentNumber(Decimal):
    """A JSON number written with an exponent (`840000e-2`, `0.1E1`): its exact value, marked so that
    `parse_claim` refuses it with its path -- as a Decimal, 840000e-2 is 8400.00 and the form is lost."""

    __slots__ = ("text",)
    text: str

    def __copy__(self) -> ExponentNumber:
        return self  # immutable; Decimal's own copy would build a plain-valued twin without `text`

    def __deepcopy__(self, memo: Any) -> ExponentNumber:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # (pickled -- a profile sent to `match --workers N`'s processes -- as Decimal pickles it, it came back without
        # `text`, and refusing it raised AttributeError in the worker, ending the whole run)
        return (_exponent_number, (self.text,))


def _exponent_number(text: str) -> ExponentNumber:
    """An ExponentNumber again from the text it was written as (unpickling)."""
    number = ExponentNumber(text)
    number.text = text
    return number


class DuplicateKeyError(json.JSONDecodeError):
    """A JSON object names a key twice (json would silently keep the last value). `lineno`/`colno` place
    the repeat; `path` is the repeated key's path, `first` the line and column of its first occurrence."""

    def __init__(self, text: str, pos: int, key: str, path: tuple[PathPart, ...], first: tuple[int, int]) -> None:
        super().__init__(self.describe(key, *first), text, pos)
        self.key = key
        self.path = path
        self.first = first
        self.end: int | None = None  # raw_decode_json: the offset after the value

    @staticmethod
    def describe(key: str, line: int, column: int | None) -> Msg:
        at = msg("claim.json.at_column", line=line, column=column) if column is not None else msg("claim.json.at_line", line=line)
        return msg("claim.json.duplicate_key", name=repr(key), at=at)


#: characters of a refused JSON text walked in Python to place its value (a service answers on its event loop: 2 MB
#: took 1.4 s); a longer one's NaN is placed by a scan in C, its nesting by nothing
WALKED_UP_TO = 256 * 1024


class RefusedJsonValue(ValueError):
    """A JSON text json reads only to refuse: NaN or Infinity (no claim number), or nesting too deep to read.
    `lineno`, `colno` and `path` place the value (None and () when the text cannot be walked to it); `expected`
    says what to write instead, where there is something to say. Not a JSONDecodeError: the text is whole."""

    def __init__(self, reason: Msg, text: str, expected: Msg | None = None, *, max_depth: int | None = None) -> None:
        super().__init__(reason)
        found = where_refused(text, max_depth) if len(text) <= WALKED_UP_TO else None
        if found is None and len(text) > WALKED_UP_TO and max_depth is None:  # (a long text: one scan in C, no path)
            constant = where_constant(text)
            found = ((), constant) if constant is not None else None
        # (too deep: placed at the first value past `max_depth`, by its line and column: a path would be a[0][0]…;
        # so is a NaN deeper than any claim goes, its path 2,880 characters of [0])
        self.path: tuple[PathPart, ...] = ()
        if found is not None and max_depth is None and len(found[0]) <= MAX_CLAIM_DEPTH:
            self.path = found[0]
        self.lineno: int | None = found[1][0] if found else None
        self.colno: int | None = found[1][1] if found else None
        self.expected = expected


class _Refused(Exception):
    """Raised inside the decoder for NaN and Infinity (placed afterwards, off the fast path)."""


class _Repeated(Exception):
    """Raised inside the decoder: some object repeats a key (located afterwards, off the fast path)."""


def _reject_constant(name: str) -> Any:
    raise _Refused(name)


def _json_float(text: str) -> Decimal:
    if "e" in text or "E" in text:
        try:
            number = ExponentNumber(text)
        except InvalidOperation:  # an exponent past what decimal can hold (1e399999...): a ValueError, as loads_json says
            raise ValueError(msg("claim.json.out_of_range", number=f"{text[:40]}{'…' if len(text) > 40 else ''}")) from None
        number.text = text
        return number
    return Decimal(text)


def _json_int(text: str) -> int | Decimal:
    # -0 would read as 0; as Decimal('-0') it keeps its sign, so the claim walk refuses it with its path.
    # Past 40 digits int() costs time and past 4300 Python refuses it outright: as a Decimal the number stays
    # exact and the claim check refuses it with its path (no claim number has more than 19 digits).
    return Decimal(text) if text == "-0" or len(text) > 40 else int(text)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Repeated
    return out


#: One decoder for all claim JSON (a JSON text, each JSON Lines line, each element of a JSON list).
_DECODER = json.JSONDecoder(parse_float=_json_float, parse_int=_json_int, parse_constant=_reject_constant, object_pairs_hook=_unique_pairs)
_PLAIN_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def _shown_key(key: str) -> str:
    """A key as a path shows it: escaped (as repr escapes it) when it holds a control, bidi or surrogate character."""
    return repr(key)[1:-1] if _SUSPECT.search(key) and text_problem(key) else key


def _duplicate(text: str, start: int = 0) -> DuplicateKeyError:
    found = first_duplicate(text, start)
    if found is None:  # pragma: no cover - the walker reads keys exactly as json does
        return DuplicateKeyError(text, start, "", (), (0, 0))
    path, first, repeat = found
    shown = tuple(_shown_key(p) if isinstance(p, str) else p for p in path)
    return DuplicateKeyError(text, repeat, str(path[-1]), shown, first)


def json_text(text: Any, call: str) -> str:
    """The JSON text a program handed to `call`: text, or bytes read as UTF-8 (a web framework's body, which
    `json.loads` takes too; a byte order mark before it skipped, as the service and the command line skip it).
    Bytes that are not UTF-8 are a UnicodeDecodeError, a ValueError as every other refusal of the text; anything
    else a TypeError naming what to give (bytes said "cannot use a string pattern on a bytes-like object")."""
    if isinstance(text, bytes | bytearray | memoryview):
        return bytes(text).decode("utf-8-sig")
    raise TypeError(msg("claim.json.not_text", call=call, kind=type(text).__name__))


def loads_json(text: str | bytes) -> Any:
    """Claim JSON with exact numbers: 12.34 becomes Decimal('12.34'); NaN and Infinity are rejected; an
    object repeating a key is a DuplicateKeyError placing the repeat; a number written with an exponent
    is an ExponentNumber and -0 is Decimal('-0'), both refused by `parse_claim` with their path.

    Every failure is a ValueError (json's own JSONDecodeError included), never a RecursionError. Bytes are read as
    UTF-8 (`json_text`).
    """
    if type(text) is not str:
        text = json_text(text, "loads_json")
    try:
        return _DECODER.decode(text)
    except _Repeated:
        raise _duplicate(text) from None
    except RecursionError:
        depth = msg("claim.json.depth", n=MAX_CLAIM_DEPTH)
        raise RefusedJsonValue(msg("claim.json.too_deep"), text, depth, max_depth=MAX_CLAIM_DEPTH) from None
    except _Refused as exc:
        raise RefusedJsonValue(msg("claim.json.not_a_number", name=exc.args[0]), text, msg("claim.json.digits")) from None


def raw_decode_json(text: str, start: int = 0) -> tuple[Any, int]:
    """One JSON value starting at `text[start]` under `loads_json`'s rules, and the offset after it.

    A DuplicateKeyError carries `end`, the offset after the value, so a reader of many values can go on.
    """
    try:
        return _DECODER.raw_decode(text, start)
    except _Repeated:
        error = _duplicate(text, start)
    except RecursionError:
        raise ValueError(msg("claim.json.too_deep")) from None
    except _Refused as exc:  # (a reader of many values places the value itself)
        raise ValueError(msg("claim.json.not_a_number", name=exc.args[0])) from None
    try:
        error.end = _PLAIN_DECODER.raw_decode(text, start)[1]
    except _Refused as exc:  # a NaN after the repeated key: said, as it would be without the repeat
        raise ValueError(msg("claim.json.not_a_number", name=exc.args[0])) from None
    except RecursionError:  # pragma: no cover - the first decode went as deep
        raise ValueError(msg("claim.json.too_deep")) from None
    raise error


def _raw_clean(data: Any) -> bool:
    """True only when `_raw_problems(data)` is empty: plain JSON values (exact types), within every bound.

    Anything unusual (a tuple, a float, a Mapping that is not a dict, a str subclass) answers False,
    and `_raw_problems` then looks at it as before: this walk only skips the paths of clean data.
    """
    count = 0  # every value, the root included, as `_raw_problems` counts them

    def container(value: Any, depth: int) -> bool:
        # `value` (a dict or list at `depth`) is fine; are its children, at depth + 1?
        nonlocal count
        if type(value) is dict:
            for key in value:
                if type(key) is not str:
                    return False
            children: Any = value.values()
        else:
            children = value
        if not children:
            return True
        count += len(children)
        if count > MAX_CLAIM_VALUES or depth + 1 > MAX_CLAIM_DEPTH:
            return False
        for child in children:
            t = type(child)
            if t is str or t is bool or child is None:
                continue
            if t is dict or t is list:
                if not container(child, depth + 1):
                    return False
            elif t is int:
                if abs(child) > MAX_PLAIN_INT:
                    return False
            elif t is Decimal:
                if not child.is_finite() or (not child and child.is_signed()):  # NaN, Infinity, -0
                    return False
            else:
                return False
        return True

    return container([data], -1)  # the root as the one child of a list above it


def _as_dicts(value: Any) -> Any:
    """`value` with each Mapping in it read as the dict of its items, as `parse_claim` reads the claim's own (a
    read-only view inside a claim was refused as "mappingproxy(...) is not of type 'object'", a mapping said not to be
    one); `value` itself where it holds none. Only for data `_raw_problems` passed, so its depth is bounded."""
    if isinstance(value, Mapping):
        as_dict = {key: _as_dicts(child) for key, child in value.items()}
        same = type(value) is dict and all(as_dict[key] is child for key, child in value.items())
        return value if same else as_dict
    if type(value) is list:
        as_list = [_as_dicts(child) for child in value]
        return value if all(a is b for a, b in zip(as_list, value, strict=True)) else as_list
    return value


def _raw_problems(data: Any) -> list[Problem]:
    """What would trip the schema validator itself: deep nesting, huge size, non-JSON values, NaN."""
    problems: list[Problem] = []
    stack: list[tuple[Any, tuple[PathPart, ...]]] = [(data, ())]
    count = 0
    while stack and len(problems) < 50:
        value, path = stack.pop()
        count += 1
        if count > MAX_CLAIM_VALUES:
            return [Problem(msg("claim.raw.too_large", n=MAX_CLAIM_VALUES), code="claim.too_large")]
        if len(path) > MAX_CLAIM_DEPTH:
            problems.append(Problem(msg("claim.raw.too_deep", n=MAX_CLAIM_DEPTH), path=path[:MAX_CLAIM_DEPTH], code="claim.too_deep"))
            continue
        if isinstance(value, Mapping):
            for key, child in value.items():
                if not isinstance(key, str):
                    problems.append(Problem(msg("claim.raw.key_not_text", name=_clip(repr(key))), path=path, code="claim.key"))
                    continue
                # a key with a control, bidi or surrogate character goes into paths escaped, as messages show it
                # (the key itself is refused by the schema as an unknown field, or with the history's ids)
                stack.append((child, (*path, _shown_key(key))))
        elif isinstance(value, list | tuple):
            stack.extend((child, (*path, i)) for i, child in enumerate(value))
        elif isinstance(value, bool) or value is None or isinstance(value, str):
            pass
        elif isinstance(value, int):
            if abs(value) > MAX_PLAIN_INT:
                problems.append(
                    Problem(
                        msg("claim.raw.too_large_number"), path=path, code="claim.range", expected=msg("claim.at_most", n=MAX_PLAIN_INT)
                    )
                )
        elif isinstance(value, ExponentNumber):
            problems.append(
                Problem(
                    msg("claim.number.exponent", value=_clip(value.text)),
                    path=path,
                    code="claim.number",
                    expected=msg("claim.number.plain_digits_json"),
                )
            )
        elif isinstance(value, Decimal | float):
            finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
            if not finite:
                problems.append(
                    Problem(
                        msg("claim.number.not_finite", value=str(value)),
                        path=path,
                        code="claim.number",
                        expected=msg("claim.number.finite"),
                    )
                )
            elif value == 0 and math.copysign(1, value) < 0:
                problems.append(
                    Problem(
                        msg("claim.number.negative_zero", value=str(value)),
                        path=path,
                        code="claim.number",
                        expected=msg("claim.number.unsigned_zero"),
                    )
                )
        else:
            problems.append(
                Problem(
                    msg("claim.raw.not_data", kind=type(value).__name__),
                    path=path,
                    code="claim.type",
                    expected=msg("claim.raw.data"),
                )
            )
    return problems


def _clip(text: str) -> str:
    """Shorten a message that quotes an enormous value, keeping its end ("... is too long")."""
    return clip_text(text, MAX_MESSAGE)


def _clipped(message: Msg) -> Msg:
    """`message`, shortened in every language when it quotes an enormous value."""
    return Clipped(message, MAX_MESSAGE) if len(message) > MAX_MESSAGE and isinstance(message, Msg) else message


class FactConverter:
    """Claimed values -> exact Python values by their fact's type (money as Decimal, dates as date, ...).
    Nothing is coerced silently: what does not convert is a Problem in `problems`, at its claim path."""

    def __init__(self, policy: CompiledPolicy) -> None:
        self.policy = policy
        self.problems: list[Problem] = []

    def bad(self, path: tuple[PathPart, ...], message: Msg, expected: Msg | None = None) -> None:
        self.problems.append(Problem(_clipped(message), path=path, expected=expected, code="claim"))

    def value(self, spec: FactSpec, raw: Any, path: tuple[PathPart, ...]) -> Any:
        t = spec.type
        if raw is None:
            return None
        if t == "money":
            return self.money(raw, path)
        if t == "decimal":
            return self.decimal(spec, raw, path)
        if t == "percent":
            return self.percent(spec, raw, path)
        if t == "date":
            try:
                return _dt.date.fromisoformat(raw)
            except (TypeError, ValueError):
                self.bad(path, msg("claim.date.not_real", value=repr(raw)), msg("claim.date.real"))
                return None
        if t in ("string", "identifier") and isinstance(raw, str):
            wrong = _SUSPECT.search(raw) and text_problem(raw)  # the quick test first: this runs on every text fact
            if wrong:
                self.bad(path, wrong, TEXT_EXPECTED)
            if raw != raw.strip():
                self.bad(path, msg("claim.text.spaces"), msg("claim.text.no_spaces"))
            if t == "identifier" and spec.format in PROBLEMS:
                problem, expected = PROBLEMS[spec.format]
                said = problem(raw)  # a wrong check character, or the part of the number that is implausible
                if said is not None:
                    self.bad(path, said, expected)
            return raw
        if t == "string_list":
            for i, s in enumerate(raw):
                wrong = _SUSPECT.search(s) and text_problem(s)
                if wrong:
                    self.bad(path + (i,), wrong, TEXT_EXPECTED)
            return tuple(raw)
        if t in ("enum_list", "document_list"):
            return frozenset(raw)
        if t == "date_list":
            dates = []
            for i, d in enumerate(raw):
                try:
                    dates.append(_dt.date.fromisoformat(d))
                except (TypeError, ValueError):
                    self.bad(path + (i,), msg("claim.date.not_real", value=repr(d)), msg("claim.date.real"))
            return tuple(sorted(dates))  # distinct (the schema says so): a set of dates, shown oldest first
        if t in ("integer", "count") and isinstance(raw, float):  # jsonschema counts 2021.0 as an integer
            self.bad(path, msg("claim.number.float", value=repr(raw)), msg("claim.number.whole"))
            return None
        return raw

    def money(self, raw: Any, path: tuple[PathPart, ...]) -> Decimal | None:
        if isinstance(raw, bool):
            self.bad(path, msg("claim.money.not_amount", value=repr(raw)), msg("claim.money.yuan"))
            return None
        if isinstance(raw, float):  # (said as "8400.0 is not an amount", as if its digits were wrong; decimals say it so)
            self.bad(path, msg("claim.number.float", value=repr(raw)), msg("claim.number.exact", example=f"{raw:.2f}"))
            return None
        if isinstance(raw, int):
            value = Decimal(raw)
        elif isinstance(raw, Decimal):
            if not raw.is_finite():
                self.bad(path, msg("claim.money.not_finite", value=str(raw)), msg("claim.money.yuan"))
                return None
            value = raw
            if _exponent_written(raw):
                self.bad(path, msg("claim.number.exponent", value=str(raw)), msg("claim.money.plain_digits"))
                return None
        elif isinstance(raw, str) and _MONEY_RE.match(raw):
            try:
                value = Decimal(raw)
            except InvalidOperation:  # pragma: no cover - the pattern admits only digits
                self.bad(path, msg("claim.money.not_amount", value=repr(raw)), msg("claim.money.yuan"))
                return None
        else:
            self.bad(path, msg("claim.money.not_amount", value=repr(raw)), msg("claim.money.yuan_digits"))
            return None
        exponent = value.as_tuple().exponent
        shown = said_in_digits(raw) if isinstance(raw, Decimal) else str(raw)
        if isinstance(exponent, int) and exponent < -2:
            self.bad(path, msg("claim.money.decimals", value=shown), msg("claim.money.fen"))
            return None
        if value < 0 or value > MAX_MONEY:
            self.bad(path, msg("claim.money.out_of_range", value=shown), msg("claim.money.between", most=MAX_MONEY))
            return None
        return value

    def decimal(self, spec: FactSpec, raw: Any, path: tuple[PathPart, ...]) -> Decimal | None:
        """A decimal fact: a JSON number or a text "0.6500", at most `places` decimals, exact."""
        places = spec.places if spec.places is not None else 2
        expected = msg("claim.decimal.expected", places=places, example=f"{Decimal(65).scaleb(-2):.{places}f}")
        if isinstance(raw, float):  # (a caller's Python float: JSON and YAML numbers arrive as Decimal)
            self.bad(path, msg("claim.number.float", value=repr(raw)), msg("claim.number.exact", example=str(raw)))
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str):
            self.bad(path, msg("claim.number.not_number", value=_clip(repr(raw))), expected)
            return None
        if isinstance(raw, str):
            if not _DECIMAL_RE.match(raw):  # (the schema already says so; a caller may skip it)
                self.bad(path, msg("claim.number.not_number", value=_clip(repr(raw))), expected)
                return None
            value = Decimal(raw)
        else:
            value = Decimal(raw)
            if not value.is_finite() or _exponent_written(value):
                self.bad(path, msg("claim.number.exponent", value=_clip(str(raw))), msg("claim.decimal.plain_digits"))
                return None
            raw = said_in_digits(value)  # (said as given: plain digits; one written with an exponent was refused before)
        if value < 0 or value >= MAX_DECIMAL:
            self.bad(path, msg("claim.decimal.out_of_range", value=_clip(str(raw))), msg("claim.decimal.range", most=f"{MAX_DECIMAL:f}"))
            return None
        if decimal_places(value) > places:
            self.bad(
                path, msg("claim.decimal.places", value=str(raw), n=decimal_places(value), fact=label(spec.label), places=places), expected
            )
            return None
        return value

    def percent(self, spec: FactSpec, raw: Any, path: tuple[PathPart, ...]) -> Decimal | None:
        """A percent fact: a text "4.35%" (the schema refuses a bare number with the fix); the value is the fraction."""
        places = spec.places if spec.places is not None else 2
        if not isinstance(raw, str) or not _PERCENT_RE.match(raw):
            self.bad(path, msg("claim.percent.not_percent", value=_clip(repr(raw))), percent_fix(raw))
            return None
        number = Decimal(raw[:-1])
        if decimal_places(number) > places:
            self.bad(
                path,
                msg("claim.decimal.places", value=raw, n=decimal_places(number), fact=label(spec.label), places=places),
                msg("claim.percent.places", places=places, example=f"{Decimal(435).scaleb(-2):.{places}f}%"),
            )
            return None
        return number.scaleb(-2)

    def bounds(self, spec: FactSpec, value: int | Decimal, path: tuple[PathPart, ...]) -> None:
        """The policy's declared `minimum` / `maximum` of a number fact."""
        low, high = spec.minimum, spec.maximum
        if spec.type in ("decimal", "percent", "count"):  # said in the fact's own form
            if low is not None and value < low:
                shown = quantity_text(spec, low)
                self.bad(
                    path,
                    msg("claim.bounds.below", value=quantity_text(spec, value), shown=shown, fact=label(spec.label)),
                    msg("claim.at_least", n=shown),
                )
            elif high is not None and value > high:
                shown = quantity_text(spec, high)
                self.bad(
                    path,
                    msg("claim.bounds.above", value=quantity_text(spec, value), shown=shown, fact=label(spec.label)),
                    msg("claim.at_most", n=shown),
                )
            return
        if (low is not None and value < low) or (high is not None and value > high):
            if low is not None and high is not None:
                shown = msg("claim.bounds.between", low=low, high=high)
            else:
                shown = msg("claim.at_least", n=low) if low is not None else msg("claim.at_most", n=high)
            self.bad(path, msg("claim.bounds.outside", value=value, fact=spec.name), msg("claim.bounds.a_value", shown=shown))

    def facts(self, namespace: str, specs: Mapping[str, FactSpec], data: Mapping[str, Any], path: tuple[PathPart, ...]) -> Facts:
        out: dict[str, Any] = {}
        for name, spec in specs.items():
            if name in data:
                out[name] = value = self.value(spec, data[name], path + (name,))
                if (spec.minimum is not None or spec.maximum is not None) and isinstance(value, int | Decimal):
                    self.bounds(spec, value, path + (name,))
            elif spec.has_default:
                default = spec.default
                out[name] = (
                    frozenset(default)
                    if isinstance(default, list) and spec.type not in ("string_list", "date_list")
                    else (tuple(default) if isinstance(default, list) else default)
                )
            # else: unknown -- absent from the namespace, so using it raises MissingFact
        return Facts(namespace, out)


def quantity_text(spec: FactSpec, value: int | Decimal) -> str:
    """A value of a count, decimal or percent fact in a claim message: 3 items (3 件), 0.6500, 4.35%."""
    if spec.type == "percent":
        return f"{Decimal(value).scaleb(2).normalize():f}%"
    if spec.type == "count":
        return msg("claim.count", n=value, unit=label(spec.unit or _NO_UNIT))
    return f"{value:f}" if isinstance(value, Decimal) else str(value)


class PolicyWords(Msg):
    """A policy's own words (a fact's label, a unit) inside a message: its Chinese or English, as the reader reads."""

    text: Text

    def __new__(cls, text: Text) -> PolicyWords:
        self = str.__new__(cls, text.en)
        self.key, self.params, self.text = "", {}, text
        return self

    def render(self, lang: str | None = None) -> str:
        return self.text.zh if (lang or language()) == "zh" else self.text.en

    def __reduce__(self) -> tuple[Any, ...]:
        return (PolicyWords, (self.text,))


def label(text: Text) -> PolicyWords:
    """`text` (a policy's zh and en) as a value of a message, said in the reader's language."""
    return PolicyWords(text)


def titled(title: Text, version: str) -> Msg:
    """Measures as officers and applicants know them: their title and a version, in the reader's language
    (`<标题>（版本 <version>）`, `<title>, version <version>`), where the policy's id, a code, named them. The one
    wording of it: match's console, notices and summary.xlsx, and the officer's coverage report and `versions`."""
    return msg("claim.versions.titled", title=label(title), version=version)


def percent_fix(raw: Any) -> Msg:
    """How to write a percentage the claim gave another way: 4.35 -> write it as "4.35%"."""
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str):
        return msg("claim.percent.as_text")
    text = raw.strip() if isinstance(raw, str) else f"{raw}"
    try:
        number = Decimal(text.rstrip("%").strip())
    except ArithmeticError:
        return msg("claim.percent.as_text")
    if not number.is_finite() or number < 0 or len(text) > 40:
        return msg("claim.percent.as_text")
    if 0 < number < 1 and not isinstance(raw, str):  # perhaps the fraction: 0.0435 for 4.35%
        return msg("claim.percent.write_or_fraction", number=f"{number:f}", percent=f"{number.scaleb(2).normalize():f}")
    return msg("claim.percent.write", number=f"{number:f}")


#: unambiguous (each digit can be matched one way only), so linear on a 100 000-digit text
_EXPONENT_FORM = re.compile(r"^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$")


def _form_hint(value: Any) -> Msg | str:
    """Why a text fails its pattern, when the reason is one a reader may not see (white space, a sign, an exponent, an
    invisible character)."""
    if not isinstance(value, str) or len(value) > MAX_MESSAGE:  # an enormous text is refused for its length anyway
        return ""
    if value != value.strip():
        return msg("claim.form.spaces")
    if _EXPONENT_FORM.match(value):
        return msg("claim.form.exponent")
    if value.startswith("-"):
        return msg("claim.form.minus")
    hidden = _SUSPECT.search(value) and text_problem(value)  # (a zero-width space pasted into a number)
    if hidden:
        return msg("claim.form.hidden", problem=hidden)
    return ""


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice a misspelled `name` most likely meant (difflib's closest match, as the spreadsheet reader uses), or None."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return close[0] if close else None


def _unknown_fields(error: Any) -> Msg:
    """Fields a claim object may not hold, with the field each most likely meant ("did you mean ...?")."""
    allowed = list(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
    given = error.instance if isinstance(error.instance, Mapping) else {}
    unknown = [key for key in given if key not in allowed]
    named = unknown[:MAX_UNKNOWN_NAMED]
    near = {key: closest(key, allowed) for key in named if isinstance(key, str)}
    shown: list[Msg | str] = [_clip(repr(key)) for key in named]
    if len(unknown) > len(named):
        shown.append(msg("claim.unknown.more", n=f"{len(unknown) - len(named):,}"))
    if len(unknown) == 1:
        only = near.get(unknown[0])
        hint: Msg | str = msg("claim.unknown.did_you_mean", near=repr(only)) if only else ""
        return msg("claim.unknown.one", fields=shown, hint=hint)
    guesses = [msg("claim.unknown.guess", near=repr(n), field=_clip(repr(k))) for k, n in near.items() if n]
    return msg("claim.unknown.many", fields=shown, hint=msg("claim.unknown.did_you_mean", near=guesses) if guesses else "")


def _spec_at(policy: CompiledPolicy, data: Any, path: tuple[PathPart, ...]) -> FactSpec | None:
    """The fact a claim path names (`official_fees_paid` of items[0]'s type), or None."""
    if len(path) == 1 and isinstance(path[0], str):
        return policy.claim_facts.get(path[0])
    if len(path) == 2 and path[0] == "applicant" and isinstance(path[1], str):
        return policy.applicant_facts.get(path[1])
    items = data.get("items") if isinstance(data, Mapping) else None
    if len(path) == 3 and path[0] == "items" and isinstance(path[1], int) and isinstance(path[2], str) and isinstance(items, list):
        item = items[path[1]] if 0 <= path[1] < len(items) else None
        facts = policy.item_facts.get(str(item.get("type"))) if isinstance(item, Mapping) else None
        return facts.get(path[2]) if facts else None
    return None


def _form_expected(spec: FactSpec | None, pattern: Any) -> Msg | None:
    """What a fact's text should look like, in the reader's language, with the fact's own label."""
    if spec is None:
        return None
    if pattern == _MONEY_TEXT:
        what = msg("claim.form.money")
    elif pattern == _DATE_TEXT:
        what = msg("claim.form.date")
    elif pattern == _DECIMAL_TEXT:
        places = spec.places if spec.places is not None else 2
        what = msg("claim.decimal.expected", places=places, example=f"{Decimal(65).scaleb(-2):.{places}f}")
    elif pattern in _IDENTIFIER_TEXTS:
        what = PROBLEMS[spec.format][1] if spec.format in PROBLEMS else msg("claim.form.identifier")
    else:
        return None
    return msg("claim.form.expected", fact=label(spec.label), what=what)


def _choice_words(policy: CompiledPolicy, data: Any, path: tuple[PathPart, ...]) -> Mapping[str, Text]:
    """The policy's words for the codes a closed field takes (an item's type, the applicant's kind, a fact's values:
    an element's of a list fact), to say its choices as a spreadsheet does (its words, then its code in brackets)."""
    if len(path) == 3 and path[0] == "items" and path[2] == "type":
        return policy.item_type_labels
    if path == ("applicant", "kind"):
        return policy.applicant_kinds
    spec = _spec_at(policy, data, path[:-1] if path and isinstance(path[-1], int) else path)
    return dict(spec.value_words) if spec is not None else {}


def coded(words: Text, code: str) -> Text:
    """A code with the policy's words for it, as a spreadsheet's choice says it: 企业（enterprise）; in English the
    code alone when the words are the code's ("enterprise")."""
    plain = words.en.strip().casefold().replace(" ", "_").replace("-", "_") == code.casefold()
    return Text(f"{words.zh}（{code}）", code if plain else f"{words.en} ({code})")


def _schema_problem(
    path: tuple[PathPart, ...], error: Any, spec: FactSpec | None = None, words: Mapping[str, Text] | None = None
) -> tuple[tuple[PathPart, ...], Msg | str, Msg | str | None]:
    """(path, message, expected) of one schema error, said for an officer."""
    said = schema_message(error)  # jsonschema's sentence in the reader's language (engine.language.validate)
    message: Msg | str = _clipped(said)  # (shortened in each language: once, the English sentence was given to all)
    expected: Msg | str | None = None
    pattern = error.schema.get("pattern") if isinstance(error.schema, dict) else None
    if error.validator == "required":
        missing = _REQUIRED.match(_clip(error.message))
        if missing:  # name the missing field in the path: items[2].official_fees_paid
            return (*path, missing.group(1)), msg("claim.missing"), None
    if error.validator == "additionalProperties":
        return path, _unknown_fields(error), None
    quoted = error.instance.strip() if error.validator == "type" and isinstance(error.instance, str) else None
    if quoted is not None and error.validator_value == "integer" and re.fullmatch(r"-?[0-9]{1,18}", quoted):
        # `"funding_year": "2021"`: a number in quotes (a form or a spreadsheet's export): the fix is the number
        return path, msg("claim.slip.quoted_number", value=_clip(repr(error.instance))), msg("claim.slip.quoted_number_fix", fix=quoted)
    whole = whole_written(quoted) if quoted is not None and error.validator_value == "integer" else None
    if whole is not None:  # `"2021年"`, `"２０２１"` (a Chinese input method's full width): the number to write
        return path, msg("input.not_whole", value=_clip(repr(error.instance))), msg("claim.slip.quoted_number_fix", fix=whole)
    as_text = str(error.instance) if error.validator == "type" and type(error.instance) in (int, Decimal) else None
    if as_text is not None and error.validator_value == "string" and (pattern is None or re.search(pattern, as_text)):
        # `"claim_id": 5` (a portal writing an id as a number): the text to write, where it is of the field's form
        # (a date written 20220315 is not: "2022-03-15" is); it was jsonschema's sentence alone
        return path, message, msg("claim.slip.text_fix", fix=json.dumps(as_text))
    if error.validator == "type" and error.validator_value == "boolean" and not isinstance(error.instance, bool):
        # `"yes"`, `"是"`, `1`: what to write, in both languages (the English was jsonschema's sentence alone)
        return path, message, msg("claim.slip.boolean_fix")
    if error.validator == "pattern" and pattern != _PERCENT_TEXT:
        # the regular expression means nothing to an officer; the field's description says what is wanted
        slip = amount_slip(error.instance) if pattern == _MONEY_TEXT else date_slip(error.instance) if pattern == _DATE_TEXT else None
        if slip is not None:
            return path, *slip
        written = slip_of(spec.format, error.instance) if spec is not None and pattern in _IDENTIFIER_TEXTS else None
        if written is not None:  # a patent number with spaces, full-width digits, no ZL: its standard writing
            return path, written, _form_expected(spec, pattern)
        message = msg("claim.form.not_in_form", value=_clip(repr(error.instance)), hint=_form_hint(error.instance))
        expected = _form_expected(spec, pattern) or (msg("claim.date.form") if pattern == _DATE_TEXT else error.schema.get("description"))
    elif pattern == _PERCENT_TEXT and error.validator in ("type", "pattern"):
        given = error.instance
        if isinstance(given, int | Decimal) and not isinstance(given, bool):
            message = msg("claim.percent.bare", value=_clip(str(given)))
        else:
            message = msg("claim.percent.no_sign", value=_clip(repr(given)))
        expected = percent_fix(error.instance)
    elif error.validator == "format" and error.validator_value == "date":
        message = msg("claim.date.not_real", value=_clip(repr(error.instance)))
        expected = msg("claim.date.form")
    elif error.validator == "enum":
        codes = [str(v) for v in error.validator_value]
        close = _close_code(error.instance, codes, words or {}) if isinstance(error.instance, str) else None
        value = _clip(repr(error.instance))
        message = msg("claim.enum.not_one_close", value=value, close=close) if close else msg("claim.enum.not_one", value=value)
        if error.instance is None:
            message = msg("claim.enum.empty")
        words = words or {}
        as_given = error.instance.strip().casefold() if isinstance(error.instance, str) else None
        named = [c for c in codes if c in words and as_given in (words[c].zh.casefold(), words[c].en.casefold())]
        if named:  # `规模以上企业` where `above_scale` is written: said as the name it is ("not one of: 规模以上企业（above_scale）")
            message = msg("claim.enum.label_for_code", value=value, code=named[0])
        shown = [label(coded(words[c], c)) if c in words else c for c in codes]
        expected = msg("claim.enum.one_of", values=shown)
    return path, message, expected


def _close_code(given: str, codes: list[str], words: Mapping[str, Text]) -> str | None:
    """The code nearest `given`: by the code (`invention_patent_grnt`), else by its name (`发明专利受权`, the name of
    `invention_patent_grant` a character off)."""
    close = suggest(given, codes)
    if close is None:
        names = {w: c for c in codes if c in words for w in (words[c].zh, words[c].en)}
        near = suggest(given.strip(), names)
        close = names[near] if near is not None else None
    return close


def _misspelt_for(errors: list[tuple[tuple[PathPart, ...], Any]]) -> set[tuple[PathPart, ...]]:
    """The paths of the fields an unknown field beside them most likely misspells (`anual_interest_paid`: items[0].
    annual_interest_paid): the unknown field is said with the field meant, and that field's "missing" is not said too."""
    meant: set[tuple[PathPart, ...]] = set()
    for path, error in errors:
        if error.validator == "additionalProperties" and isinstance(error.instance, Mapping) and isinstance(error.schema, dict):
            allowed = list(error.schema.get("properties", {}))
            unknown = (key for key in error.instance if isinstance(key, str) and key not in allowed)
            near = (closest(key, allowed) for key in itertools.islice(unknown, MAX_UNKNOWN_NAMED))  # (those named)
            meant.update((*path, n) for n in near if n is not None)
    return meant


def schema_problems(policy: CompiledPolicy, data: Any, partial: bool = False) -> list[Problem]:
    """The problems of a claim's form, at most MAX_CLAIM_PROBLEMS and one saying there are more (`partial`: a
    required fact missing is none, as partial matching takes it)."""
    problems: list[Problem] = []
    said: set[tuple[Any, ...]] = set()
    stream = ((path, e) for path, e in _schema_errors(policy, data) if not (partial and _partial_gap(path, e)))
    errors = list(itertools.islice(stream, MAX_SCHEMA_ERRORS))
    beyond = next(stream, None) is not None  # (more than were read: said as more problems, whatever they are)
    misspelt = _misspelt_for(errors)  # (a field misspelt is one problem, not also the field it meant "missing")
    # a text whose form is wrong ("2021/3/5", "2021-03-05 ") is said once, with the form or the fix; "not a real
    # calendar date" beside it would say it again, and wrongly of a real date written another way
    formed = {path for path, error in errors if error.validator == "pattern"}
    # a choice left null ("type": null) is said once, as empty with the values it takes; "null is not of type
    # 'string'" beside it said it again, and the choice's own words were "None is not one of the values"
    empty = {path for path, error in errors if error.validator == "enum" and error.instance is None}
    for path, error in errors:
        if (error.validator == "format" and path in formed) or (error.validator == "type" and path in empty):
            continue
        spec = _spec_at(policy, data, path) if error.validator == "pattern" else None
        at, message, expected = _schema_problem(path, error, spec, _choice_words(policy, data, path) if error.validator == "enum" else None)
        if error.validator == "required" and at in misspelt:
            continue
        key = (at, str(message), str(expected), error.validator)
        if key not in said:  # (an item that is no object was said once for each item type it could be: 11 times)
            said.add(key)
            if len(problems) == MAX_CLAIM_PROBLEMS:
                beyond = True
                break
            problems.append(Problem(message, path=at, expected=expected, code=f"claim.{error.validator}"))
    if len(problems) < MAX_CLAIM_PROBLEMS:  # (said with the form's problems: fixing a sheet takes one round, not two)
        problems += _check_characters(policy, data, {path for path, _ in errors})
    problems.sort(key=lambda p: tuple((0, x) if isinstance(x, int) else (1, str(x)) for x in p.path))
    return first_named(problems, MAX_CLAIM_PROBLEMS, lambda n: msg("claim.more_problems", n=n), beyond=beyond, code="claim.more")


def _check_characters(policy: CompiledPolicy, data: Any, wrong: set[tuple[PathPart, ...]]) -> list[Problem]:
    """The identifiers' own checks (a wrong check character, an implausible part) of a claim the schema refused for
    something else: each needs only its own text, in its form, so a wrong date beside it does not hide it. The same
    problem, words and code `FactConverter.value` says once the form is right."""
    if not isinstance(data, Mapping):
        return []
    places: list[tuple[Mapping[str, FactSpec], Any, tuple[PathPart, ...]]] = [
        (policy.claim_facts, data, ()),
        (policy.applicant_facts, data.get("applicant"), ("applicant",)),
    ]
    items = data.get("items")
    for i, item in enumerate(items if isinstance(items, list) else ()):
        kind = item.get("type") if isinstance(item, Mapping) else None
        if isinstance(kind, str) and kind in policy.item_facts:
            places.append((policy.item_facts[kind], item, ("items", i)))
    found: list[Problem] = []
    for specs, facts, at in places:
        for name, spec in specs.items() if isinstance(facts, Mapping) else ():
            raw, path = facts.get(name), (*at, name)
            if spec.type != "identifier" or spec.format not in PROBLEMS or not isinstance(raw, str) or path in wrong:
                continue
            problem, expected = PROBLEMS[spec.format]
            said = problem(raw) if re.fullmatch(form_of(spec.format), raw) else None
            if said is not None:
                found.append(Problem(_clipped(said), path=path, expected=expected, code="claim"))
    return found


def _partial_gap(path: tuple[PathPart, ...], error: Any) -> bool:
    """A required fact missing, which partial matching takes: no problem, and set aside before any is counted (a
    profile of a thousand items, each short of facts, has thousands)."""
    missing = _REQUIRED.match(_clip(error.message)) if error.validator == "required" else None
    return missing is not None and missing.group(1) not in STRUCTURAL


def refuse_own_history(data: Any) -> None:
    """A claim decided against a ledger that must take its history from the ledger alone (the web service's commits,
    `?history=ledger`, its rounds) carries no `history` of its own: ClaimError. A caller's own was merged with the
    ledger's, and a commit recorded a refusal on a cap "used" by grants the ledger never made (SECURITY.md)."""
    if isinstance(data, Mapping) and "history" in data:
        problem = Problem(msg("claim.history.with_ledger"), ("history",), expected=msg("claim.history.with_ledger_fix"), code="history")
        raise ClaimError([problem], msg("claim.invalid"))


def _history(policy: CompiledPolicy, data: Mapping[str, Any], conv: FactConverter) -> tuple[Grant, ...]:
    """A claim's own history (earlier grants), its problems added to `conv`'s: what parse_grants would coerce (str() of
    any id, Decimal(" 1e3 ")) refused first, and amounts above the maximum or finer than the policy's quantum."""
    history, history_problems = parse_grants(data["history"], ("history",))
    said = {p.path for p in history_problems}
    conv.problems.extend(history_problems)
    written = [p for p in _history_text_problems(data["history"]) if p.path not in said]
    conv.problems.extend(written)
    if history_problems:
        # a grant left out: the others' places in `history` are not theirs in the input (a grant's problem was said at
        # another's place), so nothing more is said of them until these are mended
        return history
    said |= {p.path for p in written}  # (an amount past the maximum said once, as written: not again as a grant's)
    q = policy.quantum

    def history_amount(amount: Decimal, path: tuple[PathPart, ...]) -> None:
        if path in said:
            return
        if amount > MAX_MONEY:  # before `%`: Decimal('1E+999999') % q is DivisionImpossible
            conv.bad(
                path,
                msg("claim.history.above_max", value=_clip(str(amount)), most=MAX_MONEY),
                msg("claim.history.at_most", most=MAX_MONEY),
            )
        elif amount % q:  # money finer than the policy pays would leave caps with fractions of it
            conv.bad(path, msg("claim.history.finer", value=said_in_digits(amount), quantum=q), msg("claim.history.multiple", quantum=q))

    if not _keys_fit(_key_types_of(policy), history):
        for path, words, fix in key_problems(history_key_shapes(policy), history):
            conv.bad(path, words, fix)
    own = data.get("claim_id")
    for i, g in enumerate(history):
        if isinstance(own, str) and g.claim_id == own and ("history", i, "claim_id") not in said:
            # (the ledger leaves a claim's own grants out of its history: given here, they used up its own caps)
            conv.bad(
                ("history", i, "claim_id"), msg("claim.history.own_grant", claim_id=own), msg("claim.history.own_grant_fix", claim_id=own)
            )
        history_amount(g.amount, ("history", i, "amount"))
        for j, c in enumerate(g.consumes):
            history_amount(c.amount, ("history", i, "consumes", j, "amount"))
    return history


#: the value a grant's scope or count holds, by the static type of the expression that made it (`scope_key`: whole
#: numbers stay numbers, every other value is its text); a type not listed is not checked
_KEY_TYPES: dict[str, type] = {
    **dict.fromkeys(("integer", "count"), int),
    **dict.fromkeys(("text", "date", "money", "decimal", "percent", "boolean"), str),
}
#: (kind, id, "scope" | "counts") -> (the type of each value, None where it cannot be told; the expressions, in words)
KeyShapes = dict[tuple[str, str, str], tuple[tuple[type | None, ...], str]]


@lru_cache(maxsize=32)
def history_key_shapes(policy: CompiledPolicy) -> KeyShapes:
    """What a grant's consumption of each cap, limit and subject of `policy` holds: its scope's values (and a limit's
    counts), each of the type its expression gives. A value of another type (the year as "2021") or a scope of
    another length matches no running total: such a grant used up nothing, and the claim was paid as if it were not
    there. A cap, limit or subject kept per values of different types in different rules is checked where they agree.
    Made once per policy (kept: never changed)."""
    shapes: KeyShapes = {}
    unchecked: set[tuple[str, str, str]] = set()

    def add(kind: str, ident: str, part: str, types: tuple[type | None, ...], words: str) -> None:
        key = (kind, ident, part)
        before = shapes.get(key)
        if before is None:
            shapes[key] = (types, words)
        elif len(before[0]) != len(types):
            unchecked.add(key)
        else:
            shapes[key] = (tuple(a if a is b else None for a, b in zip(before[0], types, strict=True)), before[1])

    def typed(expressions: tuple[Any, ...]) -> tuple[type | None, ...]:
        return tuple(_KEY_TYPES.get(e.type or "") for e in expressions)

    def words(expressions: tuple[Any, ...]) -> str:
        return ", ".join(e.source for e in expressions)

    for rule in policy.rules:
        for cap in rule.caps:
            per = cap.per or ()
            add("cap", cap.id, "scope", typed(per), words(per))
        for limit in rule.limits:
            add("limit", limit.id, "scope", typed(limit.per), words(limit.per))
            if limit.counting is None:  # each granted item once: (claim id, item id)
                add("limit", limit.id, "counts", (str, str), "claim_id, item.id")
            else:
                add("limit", limit.id, "counts", typed(limit.counting), words(limit.counting))
        if rule.subject is not None:
            add("subject", rule.subject.group, "scope", typed(rule.subject.key), words(rule.subject.key))
    for key in unchecked:
        del shapes[key]
    return shapes


@lru_cache(maxsize=32)
def _key_types_of(policy: CompiledPolicy) -> dict[tuple[str, str], tuple[Any, Any, Any, Any]]:
    return key_types(history_key_shapes(policy))


def key_types(shapes: KeyShapes) -> dict[tuple[str, str], tuple[Any, Any, Any, Any]]:
    """`shapes` as (kind, id) -> (the types of its scope's values and of its counts, as `tuple(map(type, values))`
    makes them when all are known -- else a value no such tuple equals, False --; then its scope's types and its
    counts' types, None where not checked, each None among them a value of any type): one look-up a consumption."""
    parts: dict[tuple[str, str], list[Any]] = {}
    for (kind, ident, part), (types, _) in shapes.items():
        parts.setdefault((kind, ident), [None, None])[part == "counts"] = types
    return {
        key: (*(False if t is None or None in t else t for t in (scope, counts)), scope, counts) for key, (scope, counts) in parts.items()
    }


def _keys_fit(types: dict[tuple[str, str], tuple[Any, Any, Any, Any]], history: Iterable[Grant]) -> bool:
    """Whether every scope and count of `history` is one the policy's running totals hold (`key_problems` finds none),
    told without making a message: the slow path's test before it says anything (the fast intake tells the same in
    the loop that reads each grant, `_Intake.history`)."""
    for grant in history:
        for use in grant.consumes:
            want = types.get((use.kind, use.id))
            if want is not None and not (_shaped(use.scope, want[2]) and (use.counts is None or _shaped(use.counts, want[3]))):
                return False
    return True


def _shaped(values: tuple[Any, ...], wanted: tuple[Any, ...] | None) -> bool:
    """Whether one scope or count has the shape `wanted` (its values' types, None for one not told; None: any shape)."""
    if wanted is None:
        return True
    if None not in wanted:
        return tuple(map(type, values)) == wanted
    return len(values) == len(wanted) and all(t is None or type(v) is t for v, t in zip(values, wanted, strict=True))


def key_problems(shapes: KeyShapes, history: Iterable[Grant]) -> list[tuple[tuple[PathPart, ...], Msg, Msg]]:
    """Each scope or count of `history` that no running total of the policy can hold (`history_key_shapes`): (path,
    what is wrong, what to write instead)."""
    found: list[tuple[tuple[PathPart, ...], Msg, Msg]] = []
    for i, grant in enumerate(history):
        for j, use in enumerate(grant.consumes):
            for part, values in (("scope", use.scope), ("counts", use.counts)):
                shape = shapes.get((use.kind, use.id, part))
                if shape is None or values is None:
                    continue
                types, per = shape
                path: tuple[PathPart, ...] = ("history", i, "consumes", j, part)
                if len(values) != len(types):
                    said = msg("claim.history.key_length", n=len(values), id=use.id, per=per, m=len(types))
                    found.append((path, said, msg("claim.history.key_length_fix", m=len(types), per=per)))
                    continue
                for k, (value, want) in enumerate(zip(values, types, strict=True)):
                    if want is not None and type(value) is not want:
                        kind = msg(f"claim.history.key_{want.__name__}")
                        said = msg(
                            "claim.history.key_type", value=_clip(json.dumps(value, ensure_ascii=False)), id=use.id, per=per, want=kind
                        )
                        if want is str:
                            fixed: str | None = json.dumps(str(value), ensure_ascii=False)
                        else:
                            fixed = value if isinstance(value, str) and value.isascii() and value.isdigit() else None
                        found.append(((*path, k), said, kind if fixed is None else msg("claim.history.key_type_fix", fixed=_clip(fixed))))
    return found


def claim_for(policy: CompiledPolicy, claim: Mapping[str, Any] | Claim) -> Claim:
    """A claim as a program hands it over to be decided under `policy` (`engine.evaluate`, `PolicySet.evaluate`): its
    data parsed (any Mapping, read as a dict: a read-only view was refused as "not of type 'object'"), or a parsed
    Claim checked to hold only what this policy reads: its item types, its facts' types, its enum values and its lists'
    elements (one parsed under another version was a KeyError or a TypeError from deep in the rules)."""
    if not isinstance(claim, Claim):
        return parse_claim(policy, claim)
    other = next((item for item in claim.items if item.type not in policy.item_facts), None)
    if other is not None:
        said = msg("claim.other_policy", type=repr(other.type), policy=policy.id, version=policy.version)
        raise ClaimError([Problem(said, ("items", other.index, "type"), code="claim")], msg("claim.invalid"))
    # a fact this policy types otherwise (a version where it was text): a TypeError from inside the rules, else
    parts: list[tuple[tuple[PathPart, ...], Facts, dict[str, FactSpec]]] = [
        ((), claim.claim_facts, policy.claim_facts),
        (("applicant",), claim.applicant, policy.applicant_facts),
    ]
    parts += [(("items", item.index), item.facts, policy.item_facts[item.type]) for item in claim.items]
    for where, facts, specs in parts:
        for name, value in facts.items():
            spec = specs.get(name)
            if spec is not None and value is not None and not _of_fact_type(value, spec):
                said = msg("claim.other_policy_fact", fact=name, type=spec.type, policy=policy.id, version=policy.version)
                raise ClaimError([Problem(said, (*where, name), code="claim")], msg("claim.invalid"))
    return claim


#: the Python values a parsed fact of each type holds (lists as tuples or frozensets)
_FACT_VALUES: dict[str, type | tuple[type, ...]] = {
    **dict.fromkeys(("money", "decimal", "percent"), Decimal),
    **dict.fromkeys(("string", "identifier", "enum", "item_type"), str),
    **dict.fromkeys(("enum_list", "string_list", "date_list", "document_list"), (tuple, frozenset, list)),
    "date": _dt.date,
    "boolean": bool,
}


def _of_fact_type(value: Any, spec: FactSpec) -> bool:
    """Whether a parsed fact's value is one `spec` reads: its Python type, an enum's value among the policy's, a
    list's elements of their kind (a kind of applicant another version has was decided and explained as this one's)."""
    kind = spec.type
    if kind in ("integer", "count"):
        return isinstance(value, int) and not isinstance(value, bool)
    wanted = _FACT_VALUES.get(kind)
    if wanted is not None and not isinstance(value, wanted):
        return False
    if kind == "enum":
        return spec.values is None or value in spec.values
    if kind in ("enum_list", "document_list"):
        return spec.values is None or all(v in spec.values for v in value)
    if kind == "date_list":
        return all(isinstance(v, _dt.date) for v in value)
    if kind == "string_list":
        return all(isinstance(v, str) for v in value)
    return True


def checked_history(policy: CompiledPolicy, history: Any, claim_id: str | None = None) -> tuple[Grant, ...]:
    """History a program passes beside a claim (`engine.evaluate(policy, claim, history)`): `Grant`s, or their dict
    form, held to the rules a claim's own `history` is held to, with the same problems (ClaimError naming
    `history[i]…`), a grant of the claim `claim_id` itself among them. They were taken as given: 250000.001 left a cap
    short by 0.001 that the decision's JSON wrote as 50000.00, a negative amount freed a cap, a dict was an
    AttributeError, and a claim's grants passed back with it used up its own caps."""
    if history == ():
        return ()
    if isinstance(history, str | bytes | Mapping | Grant) or not isinstance(history, Iterable):
        # (one grant, or its data, given alone: "history must be a list of grants" told no one it was a grant)
        one = isinstance(history, Grant) or (isinstance(history, Mapping) and "consumes" in history)
        words = msg("claim.history.one_grant" if one else "claim.history.not_list")
        raise ClaimError([Problem(words, path=("history",), code="history")], msg("claim.invalid"))
    given = [_grant_data(g) for g in history]
    conv = FactConverter(policy)
    grants = _history(policy, {"history": given, "claim_id": claim_id}, conv)
    if conv.problems:
        raise ClaimError(conv.problems, msg("claim.invalid"))
    return grants


def _grant_data(grant: Any) -> Any:
    """A Grant in its dict form with its values as they are (`Grant.to_dict` writes amounts rounded to cents, which
    would hide the very fraction to refuse); anything else as given, for the history's checks to name."""
    if not isinstance(grant, Grant):
        return grant
    uses: list[Any] = []
    for use in grant.consumes if isinstance(grant.consumes, tuple | list) else [grant.consumes]:
        if isinstance(use, Consumption):
            said = {use.kind: use.id, "scope": list(use.scope) if isinstance(use.scope, tuple | list) else use.scope}
            uses.append({**said, "counts": list(use.counts or ())} if use.kind == "limit" else {**said, "amount": use.amount})
        else:
            uses.append(use)
    return {**grant._asdict(), "consumes": uses}


def refuse_what_is_no_policy(policy: Any, call: str) -> None:
    """A TypeError saying what `call` takes, when what it was given for the policy is none (the arguments swapped, a
    policy file's path)."""
    if not isinstance(policy, CompiledPolicy):
        raise TypeError(msg("core.not_a_policy", call=call, kind=type(policy).__name__)) from None


def parse_claim(policy: CompiledPolicy, data: Any, *, file: str | None = None, partial: bool = False) -> Claim:
    """Validate and convert one claim. Raises ClaimError listing every problem with its path.

    With `partial=True` (matching an enterprise's known data, 免申即享-style) a missing
    fact is not an error: it stays unknown, and every item that needs it comes out
    `incomplete` naming it -- never a silent False or 0.

    Any Mapping is read as the dict of its items (a read-only view, a web framework's frozen mapping: it was refused
    as "mappingproxy(...) is not of type 'object'", a mapping said not to be one); `raw` is then that dict. So is one
    inside the claim (`_as_dicts`), off the plain dict's path: a claim of plain dicts and lists is never copied."""
    if type(data) is not dict and isinstance(data, Mapping):
        data = dict(data)
    if not partial and type(data) is dict:
        try:
            fast = _intake(policy)
        except AttributeError:  # (off the path: a path or None given for the policy)
            refuse_what_is_no_policy(policy, "parse_claim")
            raise
        claim = fast.from_data(data) if fast is not None else None
        if claim is not None:
            return claim
    # a policy file, a case file or a decision given as the claim (only a claim the fast intake did not take is
    # asked; a list keeps its own word, `claim.not_object`)
    kind = file_kinds.kind_of(data) if isinstance(data, dict) else None
    if kind is not None and kind != "claim":
        said = msg("claim.not_this_claim", kind=file_kinds.named(kind), fix=file_kinds.read_by(kind))
        problem = Problem(said, file=file, code="claim", expected=msg("claim.not_this_claim_expected"))
        raise ClaimError([problem], msg("claim.invalid"))
    refuse_what_is_no_policy(policy, "parse_claim")  # (`parse_claim(claim, policy)` said "a claim must be an object, not an object")
    if not isinstance(data, Mapping):
        raise ClaimError([Problem(msg("claim.not_object", kind=json_kind(data)), file=file, code="claim")], msg("claim.invalid"))
    # raw bounds first (they protect the validators), then "fast accept, slow explain": a claim the
    # compiled checker accepts has no schema errors; otherwise jsonschema lists them as it always did
    problems: list[Problem] = []
    if not _raw_clean(data):  # (a mapping inside that is no dict is read as one, off the clean walk's path)
        problems = _raw_problems(data)
        data = data if problems else _as_dicts(data)
    if not problems and not fast_schema_ok(policy, data):
        problems = schema_problems(policy, data, partial)
    if partial:
        problems = [p for p in problems if not (p.code == "claim.required" and p.path and p.path[-1] not in STRUCTURAL)]
    if problems:
        raise ClaimError(_placed(problems, data, file), msg("claim.invalid"))
    conv = FactConverter(policy)
    wrong = text_problem(data["claim_id"])
    if wrong:
        conv.bad(("claim_id",), wrong, TEXT_EXPECTED)
    elif data["claim_id"] != data["claim_id"].strip():
        conv.bad(("claim_id",), msg("claim.text.spaces"), msg("claim.text.no_spaces"))
    claim_facts = conv.facts("claim", policy.claim_facts, data, ())
    applicant = conv.facts("applicant", policy.applicant_facts, data["applicant"], ("applicant",))
    items = []
    seen: dict[str, int] = {}
    for i, raw_item in enumerate(data["items"]):
        facts = conv.facts("item", policy.item_facts[raw_item["type"]], raw_item, ("items", i))
        item_id = raw_item["id"]
        if item_id in seen:
            conv.bad(
                ("items", i, "id"),
                msg("claim.item_id_used", id=repr(item_id), n=seen[item_id], ordinal=seen[item_id] + 1),
                msg("claim.item_ids_unique"),
            )
        seen[item_id] = i
        items.append(Item(item_id, raw_item["type"], i, facts))
    history = _history(policy, data, conv) if "history" in data else ()
    if conv.problems:
        raise ClaimError(_placed(conv.problems, data, file), msg("claim.invalid"))
    funding_year = claim_facts.get("funding_year")
    return Claim(
        claim_id=data["claim_id"],
        funding_year=funding_year if isinstance(funding_year, int) else 0,
        applicant_id=applicant["id"],
        claim_facts=claim_facts,
        applicant=applicant,
        items=tuple(items),
        history=history,
        raw=data,
    )


#: a history amount as text: plain digits (the policy's quantum then bounds the decimals)
_PLAIN_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,11})(\.[0-9]+)?" + _END)
_GRANT_TEXT = ("claim_id", "item_id", "rule", "applicant_id")


def _history_text_problems(history: Any) -> list[Problem]:
    """A claim's inline history held to the claim's own rules: ids are text with no control, bidi or
    invisible characters (also in keys and scope entries), amounts plain digits (no spaces, sign or exponent)."""
    problems: list[Problem] = []

    def bad(path: tuple[PathPart, ...], message: Msg, expected: Msg) -> None:
        problems.append(Problem(message, path=path, expected=expected, code="history"))

    def text(value: Any, path: tuple[PathPart, ...]) -> None:
        if not isinstance(value, str):
            bad(path, msg("claim.history.not_text", value=_clip(repr(value))), msg("claim.history.id_text"))
        else:
            wrong = text_problem(value)
            if wrong:
                bad(path, wrong, TEXT_EXPECTED)

    def amount(value: Any, path: tuple[PathPart, ...]) -> None:
        slip = amount_slip(value) if isinstance(value, str) and not _PLAIN_AMOUNT.match(value) else None
        if slip is not None:
            bad(path, *slip)
        elif isinstance(value, str) and not _PLAIN_AMOUNT.match(value):
            bad(path, msg("claim.money.not_amount", value=_clip(repr(value))), msg("claim.history.plain_amount"))
        elif isinstance(value, Decimal) and value.is_finite() and _exponent_written(value):
            bad(path, msg("claim.number.exponent", value=str(value)), msg("claim.money.plain_digits"))

    def keys(obj: Mapping[Any, Any], path: tuple[PathPart, ...]) -> None:
        for key in obj:
            wrong = text_problem(key) if isinstance(key, str) else None
            if wrong:
                bad(path, msg("claim.history.key", name=_clip(repr(key)), wrong=wrong), TEXT_EXPECTED)

    if not isinstance(history, list | tuple):
        return problems
    for i, grant in enumerate(history):
        if not isinstance(grant, Mapping):
            continue
        p: tuple[PathPart, ...] = ("history", i)
        keys(grant, p)
        for name in _GRANT_TEXT:
            if name in grant:
                text(grant[name], (*p, name))
        if "amount" in grant:
            amount(grant["amount"], (*p, "amount"))
        consumes = grant.get("consumes")
        for j, use in enumerate(consumes if isinstance(consumes, list | tuple) else ()):
            if not isinstance(use, Mapping):
                continue
            cp = (*p, "consumes", j)
            keys(use, cp)
            for kind in ("cap", "limit", "subject"):
                if kind in use:
                    text(use[kind], (*cp, kind))
            if "amount" in use:
                amount(use["amount"], (*cp, "amount"))
            for part in ("scope", "counts"):
                values = use.get(part)
                for k, v in enumerate(values if isinstance(values, list | tuple) else ()):
                    if isinstance(v, str):
                        text(v, (*cp, part, k))
    return problems


def _placed(problems: list[Problem], data: Mapping[str, Any], file: str | None) -> list[Problem]:
    """Add the file, and for a problem inside an item that item's own id (`items[3] (item l2)`)."""
    items = data.get("items")
    out = []
    for p in problems:
        item_id = p.item_id
        if item_id is None and len(p.path) >= 2 and p.path[0] == "items" and isinstance(p.path[1], int) and isinstance(items, list):
            raw = items[p.path[1]] if 0 <= p.path[1] < len(items) else None
            if isinstance(raw, Mapping) and isinstance(raw.get("id"), str):
                item_id = _clip(raw["id"])
        out.append(dataclasses.replace(p, file=file or p.file, item_id=item_id))
    return out


# --- Fast intake: the claim vocabulary as msgspec types (C), today's checks only to explain a rejection ------------
#
# `_Intake` holds, per policy, msgspec Struct types built from the claim vocabulary (types, enums, required
# facts, lengths, list sizes, patterns: checked in C) and per-fact converters for what msgspec cannot say
# (text characters, check characters, real dates, exact Decimals, declared bounds, unique lists, the
# history's amounts). It only ever *accepts*: any doubt (a msgspec error, a converter's refusal, a
# possible duplicate key or -0) answers None, and the caller runs today's path, which accepts or
# explains exactly as before. tests/test_fast_intake.py holds the two paths to the same answers.

try:  # an optional speed-up: without msgspec every claim takes today's path
    import msgspec
except ImportError:  # pragma: no cover - msgspec is a declared dependency
    msgspec = None  # type: ignore[assignment]


class _Decline(Exception):
    """The fast path does not vouch for this value: let today's path decide (and explain)."""


def _decline() -> Any:
    raise _Decline


def _clean(value: str) -> bool:
    """True when the text `value` holds no control, bidi, invisible or surrogate character (`text_problem`).

    `str.isprintable` (C, one pass) is False for every character `text_problem` refuses (controls, format
    characters, surrogates, line and paragraph separators: tests/test_fast_intake.py checks every code
    point) and for a few harmless ones (spaces other than " ", unassigned code points); only then does
    `text_problem` decide. Whatever a text is made of is thus tested on the text as decoded, so an escape
    (`\\u5317`, `\\u0000`) is judged by the character it stands for, as today's path judges it.
    """
    return value.isprintable() or text_problem(value) is None


def _trimmed(value: str) -> str:
    """A text fact (or the claim id) as today's path accepts it: no white space that `str.strip` would remove
    at its edges, and clean characters (`_clean`).

    (`str.strip` gives back the very same object when there is nothing to remove: one C call. A pattern in
    the decoder cost ~20 us per claim, Python calling `re` once per text.)
    """
    if value.strip() is not value or not (value.isprintable() or text_problem(value) is None):
        raise _Decline
    return value


def _texts(value: list[str]) -> tuple[str, ...]:
    """A list of texts as the tuple the fact holds, every entry clean (a problem in one entry is a problem in
    their concatenation, and back: `text_problem` judges character by character)."""
    if not _clean("".join(value)):
        raise _Decline
    return tuple(value)


def _amount(value: str | int) -> Decimal:
    """A history amount as today's path reads it: a whole number, or a text of plain digits with at most one point
    (`_PLAIN_AMOUNT`; the caller bounds it). A text is its Decimal's own text (no sign, exponent, leading zero,
    space, underscore or other digits: `str` of a Decimal never writes them but for a sign or an exponent, tested
    here), which only such a text is (tests/test_fast_intake.py holds it to the pattern)."""
    number = Decimal(value)
    if value.__class__ is str and (str(number) != value or number.is_signed() or "E" in value):
        raise _Decline  # (NaN and Infinity: the caller's comparison with the bound raises or declines)
    return number


def _money(value: str | int) -> Decimal:
    """A money fact as today's path reads it (`_MONEY_TEXT` for a text): as `_amount`, at most two decimals and
    at most MAX_MONEY."""
    number = _amount(value)
    if number > MAX_MONEY or (value.__class__ is str and 0 <= value.find(".") < len(value) - 3):
        raise _Decline  # (its Decimal's own text never ends in a point: one or two decimals after it)
    return number


def _unique(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise _Decline
    return value


def _distinct(value: list[str]) -> frozenset[str]:
    """A list of distinct entries as the set the fact holds (a repeated entry: declined)."""
    out = frozenset(value)
    if len(out) != len(value):
        raise _Decline
    return out


def _dates(value: list[str]) -> tuple[_dt.date, ...]:
    return tuple(sorted(_dt.date.fromisoformat(d) for d in _unique(value)))  # ValueError: declined


def _converter(spec: FactSpec) -> Callable[[Any], Any] | None:
    """What turns the decoded value of `spec` into the fact today's path makes (None: it already is)."""
    t = spec.type
    conv: Callable[[Any], Any] | None
    if t == "identifier" and spec.format in FORMATS:
        # a pure function of the text (a resident ID's birth date no later than today: a cached yes stays
        # right, a cached no only sends the claim to today's path); one applicant's claims share the id
        valid = lru_cache(maxsize=4096)(FORMATS[spec.format][0])

        def conv(v: str) -> str:
            return v if valid(v) else _decline()

        conv.valid = valid  # type: ignore[attr-defined]  # (the generated builders test it in place: `_builder`)

    elif t == "date":
        conv = _dt.date.fromisoformat  # (the decoder has read it as a real date already)
    elif t == "money":
        conv = _money  # (a number: its bounds hold it to 0..MAX_MONEY; a text: `_money` holds it to the pattern)
    elif t in ("decimal", "percent"):
        places = spec.places if spec.places is not None else 2

        def conv(v: str | int) -> Decimal:
            number = Decimal(v[:-1] if t == "percent" else v)  # type: ignore[index]
            if decimal_places(number) > places or number >= MAX_DECIMAL:
                raise _Decline
            return number.scaleb(-2) if t == "percent" else number

    elif t in ("enum_list", "document_list"):
        conv = _distinct
    elif t == "string_list":
        conv = _texts
    elif t == "date_list":
        conv = _dates
    elif t == "string":
        conv = _trimmed
    else:  # boolean, integer, count, enum, item_type: the value is the fact
        conv = None
    if spec.minimum is None and spec.maximum is None:
        return conv
    low, high, inner = spec.minimum, spec.maximum, conv

    def bounded(v: Any) -> Any:
        value: Any = v if inner is None else inner(v)
        if (low is not None and value < low) or (high is not None and value > high):
            raise _Decline
        return value

    return bounded


def _fast_type(spec: FactSpec, policy: CompiledPolicy, low: int = 0) -> Any:
    """The msgspec type of a fact: exactly as strict as its schema (`_fact_schema`) or stricter, never laxer.

    `low` is the least whole number it takes (0 as the schema says; 1 for the first decoder, which thus
    never reads a JSON number that could be `-0`: see `_Intake.from_text`)."""
    meta = msgspec.Meta
    text = Annotated[str, meta(min_length=1, max_length=MAX_STRING)]
    t = spec.type

    def pattern(p: str) -> Any:
        return Annotated[str, meta(pattern=p)]

    def one_of(values: Any) -> Any:
        if not values:
            raise _Decline  # an empty enum: no value is valid, today's path says so
        return Literal[tuple(values)]

    kinds: dict[str, Any] = {
        "string": text,  # (surrounding white space: `_trimmed`)
        "boolean": bool,
        "integer": Annotated[int, meta(ge=low, le=999999999)],
        "count": Annotated[int, meta(ge=low, le=999999999)],
        "decimal": Union[pattern(_DECIMAL_TEXT), Annotated[int, meta(ge=low, lt=10**15)]],  # noqa: UP007
        "percent": pattern(_PERCENT_TEXT),
        # (a money text's form: `_money`, in Python: msgspec calls Python's `re` per text, twice the time)
        "money": Union[Annotated[str, meta(min_length=1, max_length=15)], Annotated[int, meta(ge=low, le=999999999999)]],  # noqa: UP007
        "date": _dt.date,  # RFC 3339 full-date: YYYY-MM-DD, a real date (stricter than today's path or as strict)
        "identifier": pattern(_identifier_text(spec)),  # (18 of [0-9A-Z], or its format's form: plain text)
    }
    if t in kinds:
        typ = kinds[t]
    elif t == "enum":
        typ = one_of(spec.values)
    elif t == "item_type":
        typ = one_of(sorted(policy.item_type_labels))
    elif t in ("enum_list", "document_list"):
        typ = Annotated[list[one_of(spec.values)], meta(max_length=MAX_LIST)]  # type: ignore[misc]
    elif t == "string_list":
        typ = Annotated[list[text], meta(max_length=MAX_LIST)]
    elif t == "date_list":
        typ = Annotated[list[_dt.date], meta(max_length=MAX_LIST)]
    else:
        raise _Decline
    return typ | None if spec.has_default and spec.default is None else typ


def _default(spec: FactSpec) -> Any:
    """The value today's path gives a fact the claim leaves out (FactConverter.facts)."""
    default = spec.default
    if isinstance(default, list):
        return tuple(default) if spec.type in ("string_list", "date_list") else frozenset(default)
    return default


#: `-0` as a JSON number: "-0" not followed by a digit, point or exponent (found by its literal start), after
#: `:`, `,` or `[` (conservative: also inside a text, which then only takes today's path)
_MINUS_ZERO = re.compile(r"-0(?![0-9.eE])")
_VALUE_START = (":", ",", "[")


def _minus_zero(text: str) -> bool:
    for m in _MINUS_ZERO.finditer(text):
        before = text[max(0, m.start() - 40) : m.start()].rstrip()
        if not before or before[-1] in _VALUE_START:
            return True  # (after 40 characters of white space: yes, rather than look further)
    return False


_ITEM_FIELDS = ("id", "type", "index", "facts")
_CLAIM_FIELDS = ("claim_id", "funding_year", "applicant_id", "claim_facts", "applicant", "items", "history", "raw")


# How the fast intake makes its frozen objects: as an instance of a plain "twin" class with the same slots (set by
# plain attribute stores, which the interpreter does without a call), whose class is then made the real one
# (`obj.__class__ = Item`: Python allows it between classes of the same layout, and checks that it is). The object
# is then exactly what the constructor makes (tests/test_fast_intake.py), about half the cost of setting each slot
# through its descriptor, a third of the frozen dataclass's `__init__` (`object.__setattr__` per field).
class _ItemTwin:
    __slots__ = _ITEM_FIELDS


class _ClaimTwin:
    __slots__ = _CLAIM_FIELDS


class _FactsTwin(dict):  # type: ignore[type-arg]
    __slots__ = ("namespace",)


def _twins_hold() -> bool:
    """Whether each twin becomes its real class with the very fields the constructor sets (a field added, renamed or
    reordered later, or another layout: False, and the constructors are used)."""
    if tuple(f.name for f in dataclasses.fields(Item)) != _ITEM_FIELDS or tuple(f.name for f in dataclasses.fields(Claim)) != _CLAIM_FIELDS:
        return False
    try:
        facts: Any = _FactsTwin({"a": 1, "b": (2,)})
        facts.namespace = "n"
        facts.__class__ = Facts
        it: Any = _ItemTwin()
        it.id, it.type, it.index, it.facts = "i", "t", 1, facts
        it.__class__ = Item
        c: Any = _ClaimTwin()
        values = ("c", 2021, "a", facts, facts, (it,), (), {"k": [1]})
        for name, value in zip(_CLAIM_FIELDS, values, strict=True):
            setattr(c, name, value)
        c.__class__ = Claim
    except TypeError:  # not the same layout
        return False
    probe = Facts("n", {"a": 1, "b": (2,)})
    return (
        Facts.__slots__ == ("namespace",)
        and not hasattr(probe, "__dict__")
        and type(facts) is Facts
        and facts == probe
        and facts.namespace == "n"
        and type(it) is Item
        and it == Item("i", "t", 1, probe)
        and type(c) is Claim
        and c == Claim(*values)
    )


#: the fast intake makes Item, Claim and Facts objects through their twins (else through their constructors)
_TWINS = _twins_hold()


def _item(item_id: str, kind: str, index: int, facts: Facts) -> Item:
    """`Item(item_id, kind, index, facts)`: the same frozen object, made through its twin."""
    if not _TWINS:
        return Item(item_id, kind, index, facts)
    it: Any = _ItemTwin()
    it.id, it.type, it.index, it.facts = item_id, kind, index, facts
    it.__class__ = Item
    made: Item = it
    return made


#: How the fast path makes one object's facts from its (checked) raw dict: (fact, converter, always there and
#: never null) for the facts whose value changes type, then (fact, value) for the facts with a default the
#: claim may leave out.
_Plan = tuple[tuple[tuple[str, Callable[[Any], Any], bool], ...], tuple[tuple[str, Any], ...]]
_Build = Callable[..., Any]  # (raw) -> Facts; an item's: (raw, index) -> Item
#: whether the history's named tuples have the fields, in the order, the fast intake builds them in (else no fast intake)
_HISTORY_FIELDS = (
    Consumption._fields == ("kind", "id", "scope", "amount", "counts")
    and Consumption._field_defaults == {"amount": Decimal(0), "counts": None}
    and Grant._fields == ("claim_id", "item_id", "rule", "applicant_id", "funding_year", "amount", "consumes")
)
_NO_AMOUNT = Consumption._field_defaults.get("amount")
#: how many sets of distinct entries (`_distinct`) each builder keeps, by the list they were made from
_SETS_KEPT = 1024
#: a text the fast path keeps only if clean: the test of `_clean`, written inline (`v` in the generated code)
_CLEAN_V = "(v.isprintable() or CLEAN(v))"


def _builder(namespace: str, plan: _Plan) -> _Build:
    """The function that makes one namespace's facts from its (checked) raw dict by `plan`: generated code, one
    statement per converted fact and per default, so no loop, tuple unpacking or converter test per fact. The
    source holds only names made here (fact names, converters and defaults are bound in its namespace, never
    written into it), and raises `_Decline` where the fact's value is not vouched for. The claim's builder takes
    the whole claim and leaves out its reserved keys (`RESERVED`, never a fact's name: `_claim_type`)."""
    converted, defaults = plan
    ns: dict[str, Any] = {"FACTS": Facts, "NS": namespace, "DECLINE": _Decline, "FROZENSET": frozenset, "TUPLE": tuple}
    ns.update(FACTS_TWIN=_FactsTwin, SETS_KEPT=_SETS_KEPT, ITEM=_item, CLEAN=_clean, JOIN="".join, STR=str, DECIMAL=Decimal, MAX=MAX_MONEY)
    item = namespace == "item"
    lines = ["def build(raw, index):" if item else "def build(raw):"]
    # the facts are filled in as a twin (or a dict), and become read-only `Facts` once they are all there
    lines.append("    out = FACTS_TWIN(raw)" if _TWINS else "    out = DICT(raw)")
    ns["DICT"] = dict
    if namespace == "claim":
        for r, key in enumerate(RESERVED):  # (one statement per reserved key: no loop per claim)
            ns[f"R{r}"] = key
            lines += [f"    if R{r} in out:", f"        del out[R{r}]"]
    lines.append("    get = raw.get")  # checked: every key a fact, every value of its fact's type
    default_of = dict(defaults)
    for i, (name, conv, sure) in enumerate(converted):
        ns[f"N{i}"] = name
        # a fact the decoder requires and never lets be null is read directly, and tested without `is not None`
        lines.append(f"    v = raw[N{i}]" if sure else f"    v = get(N{i})")
        if sure:
            pad = "    "
        elif name in default_of:  # left out (or null, whose default is null): its default, set here
            ns[f"DV{i}"] = default_of.pop(name)
            lines += ["    if v is None:", f"        out[N{i}] = DV{i}", "    else:"]
            pad = "        "
        else:
            lines.append("    if v is not None:")
            pad = "        "
        if conv is _trimmed:  # (the commonest: a text fact, whose object is kept as it is)
            lines += [f"{pad}if v.strip() is not v or not {_CLEAN_V}:", f"{pad}    raise DECLINE"]
        elif conv is _distinct:  # a list of distinct entries, as the set the fact holds: the same lists recur
            # (a few documents or roles), so the sets of distinct ones are kept by the list's entries, in their order
            # (`_SETS_KEPT` lists per fact: bounded), and a list is tested and made into a set once
            ns[f"K{i}"] = {}
            lines += [f"{pad}k = TUPLE(v)", f"{pad}s = K{i}.get(k)", f"{pad}if s is None:", f"{pad}    s = FROZENSET(v)"]
            lines += [f"{pad}    if len(s) != len(v):", f"{pad}        raise DECLINE", f"{pad}    if len(K{i}) < SETS_KEPT:"]
            lines += [f"{pad}        K{i}[k] = s", f"{pad}out[N{i}] = s"]
        elif conv is _money:  # `_money` written in (a money fact in most items: two calls fewer)
            lines += [f"{pad}if v.__class__ is STR:", f"{pad}    d = DECIMAL(v)", f"{pad}    p = v.find('.')"]
            lines += [f"{pad}    if STR(d) != v or d.is_signed() or 'E' in v or d > MAX or 0 <= p < len(v) - 3:"]
            lines += [f"{pad}        raise DECLINE", f"{pad}    out[N{i}] = d", f"{pad}else:", f"{pad}    out[N{i}] = DECIMAL(v)"]
        elif getattr(conv, "valid", None) is not None:  # an identifier: the text itself, kept if its test says yes
            ns[f"OK{i}"] = conv.valid  # type: ignore[attr-defined]  # (its cached test, without the call of `conv`)
            lines += [f"{pad}if not OK{i}(v):", f"{pad}    raise DECLINE"]
        elif conv is _texts:  # a list of texts: every entry clean (judged on their concatenation), as a tuple
            lines += [f"{pad}j = JOIN(v)", f"{pad}if not (j.isprintable() or CLEAN(j)):", f"{pad}    raise DECLINE"]
            lines.append(f"{pad}out[N{i}] = TUPLE(v)")
        else:
            ns[f"C{i}"] = conv
            lines.append(f"{pad}out[N{i}] = C{i}(v)")
    for j, (name, default) in enumerate(default_of.items()):  # the other facts with a default
        ns[f"D{j}"], ns[f"V{j}"] = name, default
        lines += [f"    if D{j} not in raw:", f"        out[D{j}] = V{j}"]
    if _TWINS:  # `Facts(NS, raw)` made through its twin (see `_twins_hold`)
        lines += ["    out.namespace = NS", "    out.__class__ = FACTS"]
    else:
        lines.append("    out = FACTS(NS, out)")
    if item and _TWINS:  # `_item(...)` written in: the Item made through its twin, no call
        ns.update(ITEM_CLASS=Item, ITEM_TWIN=_ItemTwin)
        lines += ["    it = ITEM_TWIN()", "    it.id = raw['id']", "    it.type = raw['type']", "    it.index = index"]
        lines += ["    it.facts = out", "    it.__class__ = ITEM_CLASS", "    return it"]
    else:
        lines.append("    return ITEM(raw['id'], raw['type'], index, out)" if item else "    return out")
    exec(compile("\n".join(lines) + "\n", f"<intake {namespace}>", "exec"), ns)  # noqa: S102 - our own text, see above
    build: _Build = ns["build"]
    return build


_ITEM_ID = operator.itemgetter("id")
_DECODE_ERRORS = (ValueError, TypeError, RecursionError, UnicodeError)  # (msgspec's errors added where it is there)


@dataclass(frozen=True, slots=True)
class _Intake:
    """The compiled intake of one policy (see the section comment above)."""

    typ: Any  # the claim's msgspec Struct type (whole numbers from 0, as the schema says)
    decoder: Any  # msgspec.json.Decoder of the same claim with every whole number at least 1 (no `-0` can pass)
    zero_decoder: Any  # msgspec.json.Decoder for `typ`
    claim_facts: _Build  # each namespace's facts from its raw dict (`_builder`)
    applicant_facts: _Build
    item_facts: Mapping[str, _Build]
    quantum: Decimal
    key_types: dict[tuple[str, str], tuple[Any, Any, Any, Any]]  # what a history grant's scopes and counts hold (`key_types`)

    def from_data(self, data: Any) -> Claim | None:
        """A claim from decoded data (a dict), or None to defer to today's path."""
        if not _raw_clean(data):  # plain JSON values only (msgspec.convert would also take a tuple, a date...)
            return None
        try:
            s = msgspec.convert(data, self.typ, strict=True)
        except (msgspec.MsgspecError, *_DECODE_ERRORS):
            return None
        return self.claim(s, data)

    def from_text(self, text: str) -> Claim | None:
        """A claim from its JSON text, or None to defer to today's path (which then accepts or explains).

        msgspec reads `-0` as 0 and keeps the last of two equal keys; today's reader refuses both. The first
        decoder takes no whole number below 1, so what it reads has no `-0`; a claim with a 0 (or a negative
        number in its history) is read again by `zero_decoder`, and then the text is searched for `-0`.
        Every key is followed by one ':' (others are inside a text), so as many ':' as keys read means none
        repeats (a key written with an escape is a key as decoded, as `loads_json` reads it).
        """
        try:
            s = self.decoder.decode(text)
        except (msgspec.MsgspecError, *_DECODE_ERRORS):
            try:
                s = self.zero_decoder.decode(text)
            except (msgspec.MsgspecError, *_DECODE_ERRORS):
                return None
            if _minus_zero(text):
                return None
        # the claim's data as `loads_json` reads it (a field the claim leaves out is UNSET, and left out here)
        raw = msgspec.to_builtins(s)
        # (the history's keys are counted where its grants are read: `history`)
        return self.claim(s, raw, text.count(":") - len(raw) - len(raw["applicant"]) - sum(map(len, raw["items"])))

    def claim(self, s: Any, raw: dict[str, Any], history_keys: int | None = None) -> Claim | None:
        """The claim from the raw data its Struct `s` vouches for, or None to defer (also when `history_keys` is
        given and is not the number of keys the history's grants hold)."""
        try:
            claim_id = raw["claim_id"]
            if claim_id.strip() is not claim_id or not (claim_id.isprintable() or _clean(claim_id)):
                return None  # (`_trimmed`, written in)
            claim_facts = self.claim_facts(raw)
            applicant = self.applicant_facts(raw["applicant"])
            build = self.item_facts
            raw_items = raw["items"]
            items = tuple([build[it["type"]](it, i) for i, it in enumerate(raw_items)])
            if len(set(map(_ITEM_ID, raw_items))) != len(items):
                return None
            history, keys = self.history(s.history, claim_id) if s.history is not msgspec.UNSET else ((), 0)
        except (_Decline, ValueError, TypeError, ArithmeticError, KeyError):
            return None
        if history_keys is not None and keys != history_keys:
            return None
        year = claim_facts.get("funding_year")
        if not _TWINS:
            return Claim(claim_id, year if isinstance(year, int) else 0, applicant["id"], claim_facts, applicant, items, history, raw)
        c: Any = _ClaimTwin()  # `Claim(...)` made through its twin, here (no helper call and argument tuple per claim)
        c.claim_id, c.funding_year, c.applicant_id, c.claim_facts = (
            claim_id,
            year if isinstance(year, int) else 0,
            applicant["id"],
            claim_facts,
        )
        c.applicant, c.items, c.history, c.raw = applicant, items, history, raw
        c.__class__ = Claim
        made: Claim = c
        return made

    def history(self, grants: list[Any], claim_id: Any = None) -> tuple[tuple[Grant, ...], int]:
        """The grants as `parse_grants` makes them: each Grant and Consumption built positionally (`tuple.__new__`,
        in the order of its `_fields`; a limit's amount is the field's default), no keyword call per tuple. Every
        text in them (ids, names, the texts of scopes and counts) clean, as `_history_text_problems` holds them.
        With the number of keys the grants hold (for `from_text`'s count of keys: each is known here from what is
        checked, a grant's six and its `consumes`, a limit's `scope`, `limit` and its `counts`, a cap's or
        subject's `scope`, name and `amount`). Declines a grant of the claim `claim_id` itself, and a scope or count of
        another shape than the policy's running totals hold (`key_types`: both refused by the slow path), told in
        this loop: a second pass over the grants cost the round's intake a tenth of its speed."""
        out = []
        keys = 0
        unset, new, quantum, top, dec = msgspec.UNSET, tuple.__new__, self.quantum, MAX_MONEY, Decimal
        shapes = self.key_types
        for g in grants:
            if g.claim_id == claim_id:
                raise _Decline
            # the grant's amount, then each cap's or subject's: the same text (a cap consumes the grant's amount, as
            # a rule's grant does) is the same Decimal, read once. A text is as `_amount` takes it (written in).
            written = g.amount
            value = dec(written)
            if written.__class__ is str and (str(value) != written or value.is_signed() or "E" in written):
                raise _Decline
            if value > top or value % quantum:
                raise _Decline
            consumes = []
            if g.consumes is not unset:
                keys += 1
            for c in () if g.consumes is unset else g.consumes:
                limit = c.limit
                if limit is not unset:  # a limit: no cap, subject or amount
                    if c.cap is not unset or c.subject is not unset or c.amount is not unset:
                        raise _Decline
                    if c.counts is unset:
                        counts: tuple[Any, ...] = ()
                        keys += 2
                    else:
                        counts = tuple(c.counts)
                        keys += 3
                    scope = tuple(c.scope)
                    want = shapes.get(("limit", limit))
                    if want is not None and (tuple(map(type, scope)) != want[0] or tuple(map(type, counts)) != want[1]):
                        if not (_shaped(scope, want[2]) and _shaped(counts, want[3])):  # (a type not told: each in turn)
                            raise _Decline
                    consumes.append(new(Consumption, ("limit", limit, scope, _NO_AMOUNT, counts)))
                    continue
                cap, subject, amount = c.cap, c.subject, c.amount
                if (cap is unset) is (subject is unset) or amount is unset or c.counts is not unset:
                    raise _Decline  # exactly one of cap and subject, with an amount and no counts
                if amount == written and amount.__class__ is written.__class__:
                    used = value
                else:
                    used = _amount(amount)
                    if used > top or used % quantum:
                        raise _Decline
                keys += 3
                kind = ("cap", cap) if cap is not unset else ("subject", subject)
                scope = tuple(c.scope)
                want = shapes.get(kind)
                if want is not None and tuple(map(type, scope)) != want[0] and not _shaped(scope, want[2]):
                    raise _Decline
                consumes.append(new(Consumption, (*kind, scope, used, None)))
            keys += 6
            out.append(new(Grant, (g.claim_id, g.item_id, g.rule, g.applicant_id, g.funding_year, value, tuple(consumes))))
        # its texts: written by msgspec as JSON, plain printable ASCII with no escape means every text is clean
        # (a control would be escaped, anything beyond ASCII written as it is); else each text is tested. (The bytes
        # looked for by their values, 92 for a backslash and 127 for DEL: one `memchr` each, where a one-byte
        # `bytes` needle goes through the general search, five times the cost.)
        encoded = msgspec.json.encode(grants)
        if not (encoded.isascii() and _BACKSLASH not in encoded and _DEL not in encoded) and not _history_clean(grants):
            raise _Decline
        return tuple(out), keys


_BACKSLASH, _DEL = ord("\\"), 0x7F  # (bytes looked for in the history's JSON: see `_Intake.history`)


def _history_clean(grants: list[Any]) -> bool:
    """Whether every text of the history's grants (ids, names, texts in scopes and counts) is clean (`_clean`)."""
    unset = msgspec.UNSET
    words: list[Any] = []  # (with the whole numbers of scopes and counts: their digits are harmless)
    for g in grants:
        words += (g.claim_id, g.item_id, g.rule, g.applicant_id)
        for c in () if g.consumes is unset else g.consumes:
            words += [w for w in (c.cap, c.limit, c.subject) if w is not unset]
            words += c.scope
            words += () if c.counts is unset else c.counts
    return _clean("".join(map(str, words)))


def _struct(
    name: str, specs: Mapping[str, FactSpec], policy: CompiledPolicy, low: int, lead: list[tuple[Any, ...]] | None = None, **config: Any
) -> tuple[Any, _Plan]:
    """A closed msgspec Struct for one object of the vocabulary (after the `lead` fields), and its fact plan."""
    fields = list(lead or [])
    converted, defaults = [], []
    for i, (fact, spec) in enumerate(specs.items()):
        typ = _fast_type(spec, policy, low)
        fields.append((f"f{i}", typ) if spec.required else (f"f{i}", typ, msgspec.UNSET))
        conv = _converter(spec)
        if conv is not None:
            converted.append((fact, conv, spec.required and not (spec.has_default and spec.default is None)))
        if spec.has_default:
            defaults.append((fact, _default(spec)))
    rename = {f[0]: f[0] for f in lead or []} | {f"f{i}": fact for i, fact in enumerate(specs)}
    # gc=False: the instances hold only texts, numbers, dates, lists and other such Structs (never a cycle), so the
    # collector need not track them
    typ = msgspec.defstruct(name, fields, rename=rename, forbid_unknown_fields=True, frozen=True, kw_only=True, gc=False, **config)
    return typ, (tuple(converted), tuple(defaults))


def _history_types(low: int) -> Any:
    """The history's grant Struct; whole numbers from `low` (1: none that could be `-0`), else any below 10**18."""
    number = Annotated[int, msgspec.Meta(ge=-MAX_PLAIN_INT if low <= 0 else low, le=MAX_PLAIN_INT)]
    # (an amount text's form: `_amount`)
    amount = Union[Annotated[str, msgspec.Meta(min_length=1, max_length=40)], Annotated[int, msgspec.Meta(ge=low, le=999999999999)]]  # noqa: UP007
    text = str  # (its characters: `_Intake.history`)
    key = list[Union[text, number]]  # type: ignore[valid-type]  # noqa: UP007
    unset = msgspec.UNSET
    use = msgspec.defstruct(
        "Consumption",
        [
            ("scope", key),
            ("cap", text, unset),
            ("limit", text, unset),
            ("subject", text, unset),
            ("amount", amount, unset),
            ("counts", key, unset),
        ],
        forbid_unknown_fields=True,
        frozen=True,
        gc=False,
    )
    fields: list[tuple[Any, ...]] = [(n, text) for n in ("claim_id", "item_id", "rule", "applicant_id")]
    fields += [("funding_year", number), ("amount", amount), ("consumes", list[use], msgspec.UNSET)]  # type: ignore[valid-type]
    return msgspec.defstruct("Grant", fields, forbid_unknown_fields=True, frozen=True, gc=False)


def _claim_type(policy: CompiledPolicy, low: int = 0) -> tuple[Any, _Plan, _Plan, dict[str, _Plan]] | None:
    """The claim's msgspec Struct and the fact plans of the claim, its applicant and each item type (whole numbers
    from `low`: see `_fast_type`)."""
    if any(name in RESERVED for name in policy.claim_facts):
        return None
    applicant, applicant_plan = _struct("Applicant", policy.applicant_facts, policy, low)
    kinds = []
    item_plans = {}
    for n, (kind, specs) in enumerate(policy.item_facts.items()):
        if specs.get("type") is None or specs["type"].type != "item_type" or "id" not in specs or specs["id"].type != "string":
            return None
        others = {k: v for k, v in specs.items() if k != "type"}
        typ, plan = _struct(f"Item{n}", others, policy, low, tag_field="type", tag=kind)
        kinds.append(typ)
        item_plans[kind] = plan
    one_item: Any = Union[tuple(kinds)]  # noqa: UP007 - the union of the item Structs, tagged by `type`
    items: Any = Annotated[list[one_item], msgspec.Meta(min_length=1, max_length=MAX_ITEMS)]
    reserved = [
        ("claim_id", Annotated[str, msgspec.Meta(min_length=1, max_length=100)]),  # (characters, white space: `_trimmed`)
        ("applicant", applicant),
        ("items", items),
        ("history", list[_history_types(low)], msgspec.UNSET),  # type: ignore[misc]
    ]
    claim, claim_plan = _struct("Claim", policy.claim_facts, policy, low, reserved)
    return claim, claim_plan, applicant_plan, item_plans


@lru_cache(maxsize=32)
def _intake(policy: CompiledPolicy) -> _Intake | None:
    """The fast intake of `policy`, or None (no msgspec, or a vocabulary it cannot hold exactly)."""
    if msgspec is None or not _HISTORY_FIELDS:
        return None
    try:
        built, nonzero = _claim_type(policy), _claim_type(policy, low=1)
    except (_Decline, TypeError, ValueError):
        return None
    if built is None or nonzero is None:
        return None
    claim, claim_plan, applicant_plan, item_plans = built  # (the plans do not depend on `low`)
    items = {kind: _builder("item", plan) for kind, plan in item_plans.items()}
    claim_facts, applicant_facts = _builder("claim", claim_plan), _builder("applicant", applicant_plan)
    decoder, zero_decoder = msgspec.json.Decoder(nonzero[0]), msgspec.json.Decoder(claim)
    return _Intake(claim, decoder, zero_decoder, claim_facts, applicant_facts, items, policy.quantum, _key_types_of(policy))


class ClaimJsonError(ClaimError, ValueError):
    """A claim's text that is not claim JSON (a syntax error, a key named twice, NaN, nesting too deep), as a
    ClaimError placing it (code `syntax` or `claim.duplicate_key`); a ValueError too, as `loads_json` raises."""


def not_claim_json(exc: ValueError, file: str | None) -> ClaimJsonError:
    """What `loads_json` refused in a claim's text, placed: a key named twice (with where it was first), or text
    that is not JSON (NaN and nesting too deep with their field and what to write)."""
    if isinstance(exc, DuplicateKeyError):
        said = msg("service.problem.duplicate_key")
        problem = Problem(exc.msg, exc.path, file, exc.lineno, exc.colno, expected=said, code="claim.duplicate_key")
        return ClaimJsonError([problem], msg("claim.invalid"))
    line, column, path = getattr(exc, "lineno", None), getattr(exc, "colno", None), getattr(exc, "path", ())
    said = msg("input.not_json", reason=json_reason(exc))
    problem = Problem(said, path, file, line, column, expected=getattr(exc, "expected", None), code="syntax")
    return ClaimJsonError([problem], msg("loading.summary.cannot_parse"))


def parse_claim_json(policy: CompiledPolicy, text: str | bytes, *, file: str | None = None) -> Claim:
    """`parse_claim(policy, loads_json(text))`, the same claim, decoded in one step when it can be.

    Raises ClaimError with every problem placed at its line and column in `text` (`file` names it): a
    ClaimJsonError (also a ValueError) for text that is not claim JSON. It raised `loads_json`'s errors and
    problems placed nowhere: a program had to place them itself, as the command line and the service did.
    Bytes are read as UTF-8 (a web framework's body; they were a TypeError from inside the intake); bytes that are
    not UTF-8 are a ClaimJsonError too.
    """
    if type(text) is not str:
        try:
            text = json_text(text, "parse_claim_json")
        except UnicodeDecodeError as exc:
            raise not_claim_json(exc, file) from None
    try:
        fast = _intake(policy)
    except AttributeError:  # (off the path: None or a path given for the policy)
        refuse_what_is_no_policy(policy, "parse_claim_json")
        raise
    if fast is not None:
        claim = fast.from_text(text)
        if claim is not None:
            return claim
    try:
        data = loads_json(text)
    except ValueError as exc:
        raise not_claim_json(exc, file) from None
    try:
        return parse_claim(policy, data, file=file)
    except ClaimError as err:
        positions = json_positions(text)
        placed = [
            p
            if p.line is not None
            else dataclasses.replace(p, file=p.file or file, line=(w := locate_in(positions, p.path))[0], column=w[1])
            for p in err.problems
        ]
        raise type(err)(placed, err.summary) from None
