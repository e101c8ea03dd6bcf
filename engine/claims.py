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
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator

from .errors import ClaimError, PathPart, Problem
from .expressions import Facts
from .history import Grant, parse_grants
from .identifiers import FORMATS
from .model import CompiledPolicy, FactSpec

MAX_STRING = 500
MAX_ITEMS = 1000
MAX_MONEY = Decimal("999999999999.99")
_MONEY_TEXT = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"
_MONEY_RE = re.compile(_MONEY_TEXT)
_DATE_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
#: C0/C1 control characters, line/paragraph separators and bidirectional overrides (which can make
#: text display differently from what it is, e.g. in a reviewer's report).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
#: Bounds on the raw data before the schema sees it (the schema bounds each field; these bound the whole).
MAX_CLAIM_DEPTH = 20
MAX_CLAIM_VALUES = 200_000
MAX_PLAIN_INT = 10**18
MAX_MESSAGE = 240
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
    elif t == "money":
        s = {
            "type": ["string", "number"],
            "pattern": _MONEY_TEXT,
            "minimum": 0,
            "maximum": 999999999999.99,
            "description": "yuan, at most two decimals / 元，最多两位小数",
        }
    elif t == "date":
        s = {"type": "string", "pattern": _DATE_TEXT, "format": "date"}
    elif t == "enum":
        s = {"type": "string", "enum": list(spec.values or ())}
    elif t in ("enum_list", "document_list"):
        s = {"type": "array", "items": {"type": "string", "enum": list(spec.values or ())}, "uniqueItems": True, "maxItems": 100}
    elif t == "string_list":
        s = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": MAX_STRING}, "maxItems": 100}
    elif t == "identifier":
        s = {"type": "string", "pattern": "^[0-9A-Z]{18}$"}
    elif t == "item_type":
        s = {"type": "string", "enum": sorted(policy.item_type_labels)}
    else:  # pragma: no cover - the policy schema allows no other type
        raise ValueError(t)
    if spec.has_default and spec.default is None:
        s = {"anyOf": [s, {"type": "null"}]}
    s["description"] = desc + (f" — {s['description']}" if "description" in s else "")
    return s


def _object(facts: Mapping[str, FactSpec], policy: CompiledPolicy, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    props = {name: _fact_schema(spec, policy) for name, spec in facts.items()}
    if extra:
        props.update(extra)
    required = [name for name, spec in facts.items() if spec.required]
    return {"type": "object", "additionalProperties": False, "required": required, "properties": props}


def claim_schema(policy: CompiledPolicy) -> dict[str, Any]:
    """The JSON Schema (2020-12) of a claim under `policy`, with every fact documented in zh and en."""
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


@lru_cache(maxsize=32)
def _validator(policy: CompiledPolicy) -> Draft202012Validator:
    return Draft202012Validator(claim_schema(policy), format_checker=jsonschema.FormatChecker())


@lru_cache(maxsize=32)
def _split_validators(policy: CompiledPolicy) -> tuple[Draft202012Validator, dict[str, Draft202012Validator]]:
    """The claim schema split for speed: the claim without the per-type item branches, and one validator per item type.

    The full schema picks an item's facts with one `if type == X then ...` branch per item type, and
    jsonschema tries every branch on every item. When every item is an object naming a known type,
    exactly one branch applies, so validating the item against that branch alone gives the same errors.
    """
    schema = claim_schema(policy)
    checker = jsonschema.FormatChecker()
    defs = dict(schema["$defs"])
    defs["item"] = {k: v for k, v in defs["item"].items() if k != "allOf"}
    top = Draft202012Validator({**schema, "$defs": defs}, format_checker=checker)
    per_type = {t: Draft202012Validator({**schema["$defs"][f"item_{t}"], "$defs": defs}, format_checker=checker) for t in policy.item_facts}
    return top, per_type


def _schema_errors(policy: CompiledPolicy, data: Any) -> list[tuple[tuple[PathPart, ...], Any]]:
    top, per_type = _split_validators(policy)
    items = data.get("items") if isinstance(data, Mapping) else None
    if not isinstance(items, list) or not all(
        isinstance(i, Mapping) and isinstance(i.get("type"), str) and i["type"] in per_type for i in items
    ):
        return [(tuple(e.absolute_path), e) for e in _validator(policy).iter_errors(data)]
    out: list[tuple[tuple[PathPart, ...], Any]] = [(tuple(e.absolute_path), e) for e in top.iter_errors(data)]
    for i, it in enumerate(items):
        out.extend((("items", i, *e.absolute_path), e) for e in per_type[it["type"]].iter_errors(it))
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def loads_json(text: str) -> Any:
    """JSON with exact numbers: 12.34 becomes Decimal('12.34'); NaN and Infinity are rejected.

    Every failure is a ValueError (json's own JSONDecodeError included), never a RecursionError.
    """
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _raw_problems(data: Any) -> list[Problem]:
    """What would trip the schema validator itself: deep nesting, huge size, non-JSON values, NaN."""
    problems: list[Problem] = []
    stack: list[tuple[Any, tuple[PathPart, ...]]] = [(data, ())]
    count = 0
    while stack and len(problems) < 50:
        value, path = stack.pop()
        count += 1
        if count > MAX_CLAIM_VALUES:
            return [Problem(f"claim has more than {MAX_CLAIM_VALUES} values", code="claim.too_large")]
        if len(path) > MAX_CLAIM_DEPTH:
            problems.append(Problem(f"nested deeper than {MAX_CLAIM_DEPTH} levels", path=path[:MAX_CLAIM_DEPTH], code="claim.too_deep"))
            continue
        if isinstance(value, Mapping):
            for key, child in value.items():
                if not isinstance(key, str):
                    problems.append(Problem(f"field name {_clip(repr(key))} is not text", path=path, code="claim.key"))
                    continue
                stack.append((child, (*path, key)))
        elif isinstance(value, list | tuple):
            stack.extend((child, (*path, i)) for i, child in enumerate(value))
        elif isinstance(value, bool) or value is None or isinstance(value, str):
            pass
        elif isinstance(value, int):
            if abs(value) > MAX_PLAIN_INT:
                problems.append(Problem("number too large", path=path, code="claim.range", expected=f"at most {MAX_PLAIN_INT}"))
        elif isinstance(value, Decimal | float):
            finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
            if not finite:
                problems.append(Problem(f"{value} is not a finite number", path=path, code="claim.number", expected="a finite number"))
        else:
            problems.append(
                Problem(
                    f"a {type(value).__name__} is not claim data",
                    path=path,
                    code="claim.type",
                    expected="text, a number, true/false, a list or an object",
                )
            )
    return problems


def _clip(text: str) -> str:
    """Shorten a message that quotes an enormous value, keeping its end ("... is too long")."""
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 81] + " … " + text[-78:]


class _Converter:
    def __init__(self, policy: CompiledPolicy) -> None:
        self.policy = policy
        self.problems: list[Problem] = []

    def bad(self, path: tuple[PathPart, ...], message: str, expected: str | None = None) -> None:
        self.problems.append(Problem(message, path=path, expected=expected, code="claim"))

    def value(self, spec: FactSpec, raw: Any, path: tuple[PathPart, ...]) -> Any:
        t = spec.type
        if raw is None:
            return None
        if t == "money":
            return self.money(raw, path)
        if t == "date":
            try:
                return _dt.date.fromisoformat(raw)
            except (TypeError, ValueError):
                self.bad(path, f"{raw!r} is not a real calendar date", "a date YYYY-MM-DD that exists")
                return None
        if t in ("string", "identifier") and isinstance(raw, str):
            if _CONTROL.search(raw):
                self.bad(path, "contains control characters", "printable text")
            if raw != raw.strip():
                self.bad(path, "has leading or trailing spaces", "text without surrounding spaces")
            if t == "identifier" and spec.format in FORMATS:
                check, expected = FORMATS[spec.format]
                if not check(raw):
                    self.bad(path, f"{raw!r} fails its check character", expected)
            return raw
        if t == "string_list":
            for i, s in enumerate(raw):
                if _CONTROL.search(s):
                    self.bad(path + (i,), "contains control characters", "printable text")
            return tuple(raw)
        if t in ("enum_list", "document_list"):
            return frozenset(raw)
        return raw

    def money(self, raw: Any, path: tuple[PathPart, ...]) -> Decimal | None:
        if isinstance(raw, bool):
            self.bad(path, f"{raw!r} is not an amount", "an amount of yuan")
            return None
        if isinstance(raw, int):
            value = Decimal(raw)
        elif isinstance(raw, Decimal):
            if not raw.is_finite():
                self.bad(path, f"{raw} is not a finite amount", "an amount of yuan")
                return None
            value = raw
            text = str(raw)
            if "E" in text or "e" in text:
                self.bad(path, f"{text} is written with an exponent", "plain digits, e.g. 1000.00")
                return None
        elif isinstance(raw, str) and _MONEY_RE.match(raw):
            try:
                value = Decimal(raw)
            except InvalidOperation:  # pragma: no cover - the pattern admits only digits
                self.bad(path, f"{raw!r} is not an amount", "an amount of yuan")
                return None
        else:
            self.bad(path, f"{raw!r} is not an amount", 'an amount of yuan: digits with at most two decimals, e.g. "1234.50"')
            return None
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            self.bad(path, f"{raw} has more than two decimals", "an amount in yuan and fen (at most two decimals)")
            return None
        if value < 0 or value > MAX_MONEY:
            self.bad(path, f"{raw} is out of range", f"an amount between 0 and {MAX_MONEY}")
            return None
        return value

    def bounds(self, spec: FactSpec, value: int | Decimal, path: tuple[PathPart, ...]) -> None:
        """The policy's declared `minimum` / `maximum` of an integer or money fact."""
        low, high = spec.minimum, spec.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            shown = " and ".join(
                s for s in (f"at least {low}" if low is not None else "", f"at most {high}" if high is not None else "") if s
            )
            self.bad(path, f"{value} is outside the range the policy declares for {spec.name}", f"a value {shown}")

    def facts(self, namespace: str, specs: Mapping[str, FactSpec], data: Mapping[str, Any], path: tuple[PathPart, ...]) -> Facts:
        out = Facts(namespace)
        for name, spec in specs.items():
            if name in data:
                out[name] = value = self.value(spec, data[name], path + (name,))
                if (spec.minimum is not None or spec.maximum is not None) and isinstance(value, int | Decimal):
                    self.bounds(spec, value, path + (name,))
            elif spec.has_default:
                default = spec.default
                out[name] = (
                    frozenset(default)
                    if isinstance(default, list) and spec.type != "string_list"
                    else (tuple(default) if isinstance(default, list) else default)
                )
            # else: unknown -- absent from the namespace, so using it raises MissingFact
        return out


def schema_problems(policy: CompiledPolicy, data: Any) -> list[Problem]:
    problems = []
    for path, error in _schema_errors(policy, data):
        message = _clip(error.message)
        if error.validator == "required":
            missing = _REQUIRED.match(message)
            if missing:  # name the missing field in the path: items[2].official_fees_paid
                path = (*path, missing.group(1))
                message = "missing: this fact is required"
        if error.validator == "additionalProperties":
            message = message.replace("Additional properties are not allowed", "unknown field(s)")
        expected = None
        if error.validator == "pattern" and isinstance(error.schema, dict):
            # the regular expression means nothing to an officer; the field's description says what is wanted
            message = f"{_clip(repr(error.instance))} is not in the expected form"
            expected = error.schema.get("description")
        elif error.validator == "format" and error.validator_value == "date":
            message = f"{_clip(repr(error.instance))} is not a real calendar date"
            expected = "a date YYYY-MM-DD / 日期，格式 YYYY-MM-DD"
        elif error.validator == "enum":
            message = f"{_clip(repr(error.instance))} is not one of the values this field takes"
            expected = "one of: " + ", ".join(map(str, error.validator_value))
        problems.append(Problem(message, path=path, expected=expected, code=f"claim.{error.validator}"))
    problems.sort(key=lambda p: tuple((0, x) if isinstance(x, int) else (1, str(x)) for x in p.path))
    return problems


def parse_claim(policy: CompiledPolicy, data: Any, *, file: str | None = None, partial: bool = False) -> Claim:
    """Validate and convert one claim. Raises ClaimError listing every problem with its path.

    With `partial=True` (matching an enterprise's known data, 免申即享-style) a missing
    fact is not an error: it stays unknown, and every item that needs it comes out
    `incomplete` naming it -- never a silent False or 0.
    """
    if not isinstance(data, Mapping):
        raise ClaimError([Problem(f"a claim must be an object, not {type(data).__name__}", file=file, code="claim")], "invalid claim")
    problems = _raw_problems(data) or schema_problems(policy, data)
    if partial:
        problems = [p for p in problems if not (p.code == "claim.required" and p.path and p.path[-1] not in STRUCTURAL)]
    if problems:
        raise ClaimError(_placed(problems, data, file), "invalid claim")
    conv = _Converter(policy)
    if _CONTROL.search(data["claim_id"]) or data["claim_id"] != data["claim_id"].strip():
        conv.bad(("claim_id",), "contains control characters or surrounding spaces", "printable text")
    claim_facts = conv.facts("claim", policy.claim_facts, data, ())
    applicant = conv.facts("applicant", policy.applicant_facts, data["applicant"], ("applicant",))
    items = []
    seen: dict[str, int] = {}
    for i, raw_item in enumerate(data["items"]):
        facts = conv.facts("item", policy.item_facts[raw_item["type"]], raw_item, ("items", i))
        item_id = raw_item["id"]
        if item_id in seen:
            conv.bad(("items", i, "id"), f"item id {item_id!r} already used by items[{seen[item_id]}]", "ids unique within the claim")
        seen[item_id] = i
        items.append(Item(item_id, raw_item["type"], i, facts))
    history: tuple[Grant, ...] = ()
    if "history" in data:
        history, history_problems = parse_grants(data["history"], ("history",))
        conv.problems.extend(history_problems)
    if conv.problems:
        raise ClaimError(_placed(conv.problems, data, file), "invalid claim")
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
