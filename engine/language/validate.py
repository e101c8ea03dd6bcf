"""Stage 2a, validate: the policy document against `schemas/policy.schema.json`.

jsonschema reports where in the document a value is wrong; we turn each
error into a `Problem` with the file, line and column of that value, and a
sentence a policy officer can act on.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import json
import re
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from engine.core.errors import Problem
from engine.core.i18n import Msg, language, msg
from engine.core.quantities import mixed_readings
from engine.language import slips
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


_DECIMAL_REPR = re.compile(r"Decimal\('([^']*)'\)")

#: JSON Schema's type names, said in the reader's language (`schema.types.<name>`).
_TYPE_NAMES = frozenset({"string", "number", "integer", "object", "array", "boolean", "null"})


def _shown(value: Any) -> str:
    """A value as jsonschema's own sentence shows it: Python's repr, with the loader's exact numbers as written."""
    return _DECIMAL_REPR.sub(r"\1", repr(value))


def _written(value: Any, depth: int = 0) -> str:
    """A value as a YAML or JSON document writes it, for a person: true, false and null (not True, False and None),
    numbers as written, a mapping `{fixed: {}}`; a text quoted as `_shown` quotes it. Said past 80 characters
    and 3 levels as `…`."""
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    if depth >= 3 and isinstance(value, list | dict):
        return "…"
    if isinstance(value, list):
        text = "[" + ", ".join(_written(v, depth + 1) for v in value[:20]) + (", …]" if len(value) > 20 else "]")
    elif isinstance(value, dict):
        pairs = [f"{k}: {_written(v, depth + 1)}" for k, v in list(value.items())[:20]]
        text = "{" + ", ".join(pairs) + (", …}" if len(value) > 20 else "}")
    else:
        text = _shown(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _type_name(name: Any, quoted: bool) -> Msg | str:
    if name not in _TYPE_NAMES:
        return repr(name) if quoted else str(name)
    return msg("schema.quoted_type" if quoted else "schema.plain_type", type=msg(f"schema.types.{name}"))


#: Where a schema description (its English sentences, then its Chinese ones) turns to Chinese.
_TO_CHINESE = re.compile(r"(?<=[.)!?])\s+(?=[\u3400-\u9fff（“「])")


class _Description(Msg):
    """A schema's description, written in English then Chinese: a Chinese reader gets the Chinese half (the English
    value, and an English reader, the whole, as before)."""

    def __new__(cls, text: str) -> _Description:
        self = str.__new__(cls, text)
        self.key = "schema.expected.described"
        self.params = {"description": text}
        return self

    def render(self, lang: str | None = None) -> str:
        halves = _TO_CHINESE.split(str(self), maxsplit=1)
        return halves[1] if len(halves) == 2 and (lang or language()) == "zh" else str(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Description, (str(self),))


class _Title(Msg):
    """A schema's title, written `English / 中文` (`rate × base / 按比例`): a Chinese reader gets the Chinese with the
    English after it in brackets (按比例（rate × base）, the English naming the fields); an English reader, the whole."""

    def __new__(cls, text: str) -> _Title:
        self = str.__new__(cls, text)
        self.key = "schema.expected.title"
        self.params = {"title": text}
        return self

    def render(self, lang: str | None = None) -> str:
        english, _, chinese = str(self).partition(" / ")
        return f"{chinese}（{english}）" if chinese and (lang or language()) == "zh" else str(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Title, (str(self),))


def _described(schema: Any) -> Msg | None:
    description = schema.get("description") if isinstance(schema, dict) else None
    return msg("schema.expected.described", description=_Description(str(description))) if description else None


#: words a person writes for a fact's type, and the type meant (`type: amount` is money, not the nearest
#: spelling, count): an officer's Chinese word too
_MEANT = {
    "amount": "money", "yuan": "money", "cny": "money", "currency": "money", "金额": "money", "钱": "money",
    "int": "integer", "number": "integer", "整数": "integer", "数字": "integer",
    "str": "string", "text": "string", "文字": "string", "文本": "string",
    "bool": "boolean", "yes/no": "boolean", "是否": "boolean", "布尔": "boolean",
    "percentage": "percent", "rate": "percent", "百分比": "percent", "比例": "percent",
    "日期": "date", "datetime": "date",
}  # fmt: skip


def _close(written: Any, known: list[str]) -> str | None:
    """The known name `written` most likely misspells ("readingz" -> "readings"), or None."""
    if not isinstance(written, str) or not known:
        return None
    found = difflib.get_close_matches(written, known, n=1, cutoff=0.6)
    return found[0] if found else None


def scope_hint(field: tuple[Any, ...]) -> Msg:
    """What the facts of a `per` or `counting` (at path `field`) are, said for the one it is: only a cap's per may be
    `item` (schemas/policy.schema.json), a limit's counts times, its counting says what one time is, a selection's ranks."""
    if field[-1:] == ("counting",):
        return msg("loading.compile.counting_fact_hint")
    if field[-3:-2] in (("limits",), ("shared_limits",)):
        return msg("loading.compile.scope_fact_hint_limit")
    if field[-2:-1] == ("selection",):
        return msg("loading.compile.ranking_fact_hint")
    return msg("loading.compile.scope_fact_hint")


def schema_expected(error: ValidationError) -> Msg | None:
    """What the value should have been, for one jsonschema error, in the reader's language (None: nothing to add)."""
    v = error.validator
    value = error.validator_value
    if v == "type":
        if value == "object" and isinstance(error.instance, list):
            # `values: [patent, trademark]` where the codes need their labels
            return msg("schema.expected.mapping_not_list")
        if isinstance(value, list):
            return msg("schema.expected.type_list", types=[_type_name(t, True) for t in value])
        return msg("schema.expected.type", type=_type_name(value, False))
    if v == "enum":
        choices = [c for c in value if isinstance(c, str)]
        meant = _MEANT.get(error.instance.strip().casefold()) if isinstance(error.instance, str) else None
        guess = meant if meant in choices else _close(error.instance, choices)
        if guess is not None:
            return msg("schema.expected.did_you_mean_value", guess=guess, choices=[str(c) for c in value])
        return msg("schema.expected.enum", choices=[str(c) for c in value])
    if v == "pattern":
        return _described(error.schema) or msg("schema.expected.pattern", pattern=str(value))
    if v == "additionalProperties":
        props = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        if not props:
            return None
        unknown = [k for k in error.instance if k not in props] if isinstance(error.instance, dict) else []
        guess = _close(unknown[0], [str(p) for p in props]) if len(unknown) == 1 else None
        if guess is not None:
            return msg("schema.expected.did_you_mean_field", guess=guess, fields=[str(p) for p in props])
        return msg("schema.expected.fields", fields=[str(p) for p in props])
    if v in ("oneOf", "anyOf"):
        if _AMOUNT_WORDS.search(str(error.instance)) and isinstance(error.schema, dict) and error.schema == _amount_value():
            # `max: 2%`, `fixed: param(...)`: an amount is a number of yuan; a share or a computed value has a form
            return msg("schema.expected.amount_not_computed")
        titles = [_Title(str(s.get("title"))) for s in value if isinstance(s, dict) and s.get("title")]
        if titles:
            return msg("schema.expected.forms", forms=titles)
        return _described(error.schema)
    if v in _SIZED and value not in (0, 1):
        return msg(f"schema.expected.{v}", n=value)
    return None


#: what in a text where an amount of yuan goes says it is meant to be computed: a percent, a fact, a call
_AMOUNT_WORDS = re.compile(r"%|\b(?:item|applicant|claim)\.|\(")


@functools.lru_cache(maxsize=1)
def _amount_value() -> dict[str, Any]:
    """The policy schema's `amount_value` (a number of yuan), to tell its errors from others'."""
    found: dict[str, Any] = load_schema("policy.schema.json")["$defs"]["amount_value"]
    return found


def expected_text(error: ValidationError) -> Msg | None:
    """The former name of `schema_expected` (the explaining layer's decision check calls it)."""
    return schema_expected(error)


#: The size keywords, and what each one counts.
_SIZED = {
    "minItems": "items",
    "maxItems": "items",
    "minLength": "text",
    "maxLength": "text",
    "minProperties": "fields",
    "maxProperties": "fields",
}


def _sized(validator: str, limit: Any) -> str:
    """'minItems' -> schema.too_short.items (or .non_empty. for a minimum of 1); 'maxLength' -> schema.too_long.text."""
    what = _SIZED[validator]
    if validator.startswith("min"):
        return f"schema.non_empty.{what}" if limit == 1 else f"schema.too_short.{what}"
    return f"schema.must_be_empty.{what}" if limit == 0 else f"schema.too_long.{what}"


def _names(values: Any) -> list[str]:
    return [repr(v) for v in values]


def _extra_fields(error: ValidationError, schema: dict[str, Any]) -> Msg:
    instance, known = error.instance, schema.get("properties", {})
    if "patternProperties" in schema:
        patterns = [re.compile(p) for p in schema["patternProperties"]]
        extra = sorted(k for k in instance if k not in known and not any(p.search(k) for p in patterns))
        kind = "schema.no_pattern_one" if len(extra) == 1 else "schema.no_pattern_many"
        return msg(kind, names=_names(extra), patterns=_names(sorted(schema["patternProperties"])))
    extra = sorted((k for k in instance if k not in known), key=str)
    return msg("schema.unknown_field" if len(extra) == 1 else "schema.unknown_fields", names=_names(extra))


def _branches(error: ValidationError) -> list[list[ValidationError]]:
    """A oneOf/anyOf error's forms, each as its errors."""
    branches: dict[Any, list[ValidationError]] = {}
    for e in error.context or []:
        branches.setdefault(e.relative_schema_path[0], []).append(e)
    return list(branches.values())


def _fitting(error: ValidationError) -> list[list[ValidationError]]:
    """A oneOf/anyOf error's forms the value has the shape of (no structural error of the value itself: its fields
    known, the required ones there), each as its errors."""
    return [
        errs
        for errs in _branches(error)
        if not any((e.validator in _STRUCTURAL and not e.relative_path) or _of_another_type(e) for e in errs)
    ]


def _of_another_type(e: ValidationError) -> bool:
    """The value is not even of the form's type (a mapping where a number or a text is written), in every way the form
    allows."""
    if e.relative_path:
        return False
    if e.validator == "type":
        return True
    return e.validator in ("oneOf", "anyOf") and all(any(_of_another_type(x) for x in b) for b in _branches(e))


def _fitting_errors(error: ValidationError) -> list[ValidationError]:
    """The errors of the one form the value has the shape of, else all of them: `{per_unit: <an expression>,
    count: 1}` is of the per-unit form and fails on its per_unit; jsonschema's best match over every form named
    another form's error, "unknown fields 'count', 'per_unit'". When no form fits, those of another type are left
    out: `per_unit: {off: …}` (a misspelt `of`) was said to be "not a number"."""
    fitting = _fitting(error)
    if len(fitting) == 1:
        return fitting[0]
    if not fitting:
        of_its_type = [errs for errs in _branches(error) if not any(_of_another_type(e) for e in errs)]
        if isinstance(error.instance, dict) and of_its_type:  # the forms that know most of the fields written
            known = [len(_known_fields(errs) & error.instance.keys()) for errs in of_its_type]
            of_its_type = [errs for errs, n in zip(of_its_type, known, strict=True) if n == max(known)]
        if of_its_type:
            return [e for errs in of_its_type for e in errs]
    return list(error.context or [])


def _known_fields(errs: list[ValidationError]) -> set[str]:
    """The fields a form's mapping may have, read off its errors about the value itself: `{per_unit: 1, count: x,
    maxcount: 2}` knows two of the per-unit form's fields and none of the others', so "unknown field 'maxcount'" is
    what is said, not "unknown fields 'count', 'maxcount', 'per_unit'" from the fixed amount's form."""
    out: set[str] = set()
    for e in errs:
        if not e.relative_path and isinstance(e.schema, dict):
            out |= set(e.schema.get("properties", {}))
    return out


def _best_form_error(error: ValidationError) -> ValidationError | None:
    """jsonschema's `best_match` of a oneOf/anyOf's errors, descending into a nested oneOf/anyOf through the forms the
    value there has the shape of (`_fitting_errors`) too: `best_match` alone descends into every form, and said a
    mapping written for `per_unit` "not a number" (the amount's form), whatever was wrong inside the mapping."""
    relevance = jsonschema.exceptions.by_relevance()  # best_match's own order of errors
    best = max(_fitting_errors(error), key=relevance, default=None)
    while best is not None and best.validator in ("oneOf", "anyOf") and best.context:
        if not str(best.message).endswith(" is not valid under any of the given schemas"):
            break
        best = min(_fitting_errors(best), key=relevance, default=None)
    return best


def _any_form(error: ValidationError) -> Msg | None:
    if not str(error.message).endswith(" is not valid under any of the given schemas"):
        return None  # oneOf's "valid under each of": said as jsonschema says it
    best = _best_form_error(error) if error.context else None
    short = _written(error.instance)
    if best is not None and best.validator == "required" and isinstance(error.instance, dict) and "id" in error.instance:
        # a field left out: the mapping is named by its id, not quoted whole (its text is at the line)
        short = "{id: " + _written(error.instance["id"]) + ", …}"
    if best is None:
        return msg("schema.any_form", value=short)
    return msg("schema.any_form_closest", value=short, closest=schema_message(best))


def _worded(
    error: ValidationError, say: Callable[[Any], str] = _written
) -> Msg | None:  # long because: one branch per JSON Schema keyword, each a line or two
    """`say`: how the value given is said (`_written`; `_shown`, Python's repr, for the sentence jsonschema makes); the schema's own values (choices, limits) are said whole, as `_shown` says them."""
    v, value, instance = error.validator, error.validator_value, error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    shown = say(instance)
    if v == "type":
        types = value if isinstance(value, list) else [value]
        return msg("schema.type", value=shown, types=[_type_name(t, True) for t in types])
    if v == "required":
        missing = re.match(r"^(.*) is a required property$", str(error.message), re.S)
        return msg("schema.required", name=missing.group(1)) if missing else None
    if v == "additionalProperties" and isinstance(instance, dict):
        return _extra_fields(error, schema)
    if v == "enum":  # (the choices listed as a person reads them, `a、b`; as Python's list only to match jsonschema's)
        choices = _shown(value) if say is _shown else [c if isinstance(c, str) else _written(c) for c in value]
        return msg("schema.enum", value=shown, choices=choices)
    if v == "const":
        return msg("schema.const", value=_shown(value))
    if v == "pattern":
        return msg("schema.pattern", value=shown, pattern=repr(value))
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return msg(f"schema.{v}", value=shown, limit=_shown(value))
    if v == "multipleOf":
        return msg("schema.multipleOf", value=shown, step=str(value))
    if v in _SIZED:
        if v in ("maxItems", "maxProperties") and isinstance(instance, list | dict) and value:
            # (said by its count: a list of 1,013 items was said by its clipped repr, which named no number)
            return msg(f"schema.too_many.{_SIZED[v]}", n=f"{len(instance):,}", most=f"{value:,}")
        return msg(_sized(v, value), value=shown)
    if v == "uniqueItems":
        return msg("schema.uniqueItems", value=shown)
    if v == "format":
        return msg("schema.format", value=shown, format=repr(value))
    if v == "not":
        return msg("schema.not", value=shown, schema=_shown(value))
    if v in ("oneOf", "anyOf"):
        return _any_form(error)
    if v == "dependentRequired":
        found = re.match(r"^(.*) is a dependency of (.*)$", str(error.message), re.S)
        return msg("schema.dependentRequired", name=found.group(1), property=found.group(2)) if found else None
    if str(error.message).startswith("False schema does not allow "):
        return msg("schema.false", value=shown)
    return None


def _english(error: ValidationError) -> str:
    """Today's English for `error`: jsonschema's sentence, "unknown field(s)" for its "Additional properties"."""
    text = str(error.message)
    if error.validator == "additionalProperties":
        text = text.replace("Additional properties are not allowed", "unknown field(s)")
    return _DECIMAL_REPR.sub(r"\1", text)


#: the keywords whose English the engine words itself instead of jsonschema's sentence (`schema_message`)
_REWORDED = frozenset({"oneOf", "anyOf", "maxItems", "maxProperties"})


def schema_message(error: ValidationError) -> Msg:
    """What is wrong, for one jsonschema error, in the reader's language.

    The English is jsonschema's own sentence (the engine's tests and users know it), with "unknown field(s)" for
    "Additional properties are not allowed", an enum's choices listed as a person reads them (a, b; not ['a', 'b']),
    "does not fit any allowed form (closest: ...)" for oneOf/anyOf, and a
    list or mapping over its size said by its count ("1,013 entries, at most 1,000": jsonschema wrote the whole list).
    A sentence this jsonschema words otherwise than expected is kept as it is, after a lead-in in the reader's
    language (`schema.other`): never a wrong translation.
    """
    # said as the document writes values (true, not True) when the words are those jsonschema's sentence has
    as_python = _worded(error, say=_shown)
    if as_python is not None and (error.validator in _REWORDED or str(as_python) == _english(error)):
        return _worded(error) or as_python
    return msg("schema.other", text=_english(error))


#: Errors that mean "the value is another form altogether" when they concern the value itself.
_STRUCTURAL = frozenset({"additionalProperties", "required", "type", "const", "enum"})


_RELEVANCE = jsonschema.exceptions.by_relevance()  # best_match's own order of errors


def _closest(error: ValidationError) -> tuple[ValidationError, ValidationError | None]:
    """For a oneOf/anyOf error: the innermost such error whose one fitting form failed, and that form's single error.

    `{rate: 1.5, of: ...}` fits only the `rate × base` form, and fails it only because 1.5 > 1:
    that is what to report, at `...amount.rate`, not "does not fit any allowed form".
    """
    fitting = _fitting(error)
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


def _takes_number(error: ValidationError) -> bool:
    """The value at `error` may be a number (an amount, a bound, a count): its own type, or one of its forms."""
    numeric = ("number", "integer")
    if error.validator == "type":
        value = error.validator_value
        return any(t in numeric for t in (value if isinstance(value, list) else [value]))
    if error.validator in ("oneOf", "anyOf"):
        return any(isinstance(s, dict) and s.get("type") in numeric for s in error.validator_value)
    return False


def _with_context(error: ValidationError) -> list[ValidationError]:
    """`error` and the errors of the forms it tried, all levels down (bounded by the schema's own nesting)."""
    out, stack = [], [error]
    while stack:
        e = stack.pop()
        out.append(e)
        stack.extend(e.context or ())
    return out


def _slip(error: ValidationError) -> tuple[Msg, Msg] | None:
    """A common slip in a policy's value, as (the message with its fix, what is expected): a key left empty, a number
    where a text is wanted, one value where a list is, a date or an amount written another way (`_number_slip`),
    characters typed full-width."""
    value = error.instance
    if (
        value is None
        and error.validator == "type"
        and error.parent is None
        and error.absolute_path
        and isinstance(error.absolute_path[-1], str)
    ):
        # `when:` with nothing under it (its only condition deleted): YAML reads null
        key = str(error.absolute_path[-1])
        return msg("loading.slip.empty_key", key=key), msg("loading.slip.empty_key_expected", key=key)
    number = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    # (not a form of a oneOf at the value itself, where -1 fails a number's form too; a oneOf above it, as an amount's
    # forms above its `count`, has chosen the form already)
    own_form = error.parent is None or tuple(error.parent.absolute_path) != tuple(error.absolute_path)
    if error.validator == "type" and error.validator_value == "string" and number and own_form:
        # `version: 2020.10` unquoted, `count: 1` (an expression): YAML reads a number where a text is wanted
        return msg("loading.slip.number_for_text", value=str(value)), msg("loading.slip.number_for_text_expected", value=str(value))
    if error.validator == "maximum" and error.validator_value == 1 and type(value) is int and 1 < value <= 100:
        # `rate: 80` for 80%: a rate is a share of 1 (said "80 is greater than the maximum of 1")
        return msg("loading.slip.rate_percent", value=str(value), fix=f"{value}%"), msg(
            "loading.slip.rate_percent_expected", fix=f"{value}%"
        )
    if not isinstance(value, str):
        return None
    if error.validator == "type" and error.validator_value == "object" and "zh" in (error.schema.get("properties") or {}):
        # `says: 每家企业每年最高5万元`: the words of a text in two languages, written without their `zh:`
        shown = value if len(value) <= 40 else value[:39] + "…"
        return msg("loading.slip.text_without_zh", fix=shown), msg("loading.slip.text_without_zh_expected", fix=shown)
    if any(e.validator == "type" and e.validator_value == "array" and e.instance is value for e in _with_context(error)):
        field = error.absolute_path[-1] if error.absolute_path else None
        if field in ("per", "counting") and not all(_FACT.fullmatch(part.strip()) for part in value.split(",")):
            # `per: 每家企业每年`: a scope in words; brackets round it would only lead to "unknown name"
            return msg("loading.slip.scope_in_words", value=repr(value), field=field), scope_hint(tuple(error.absolute_path))
        # `per: applicant.id` where a list is wanted: the brackets (it said "应为 范围。", the field's description)
        return msg("loading.slip.list_brackets", value=repr(value), fix=f"[{value}]"), msg("loading.slip.list_brackets_expected")
    found = _number_slip(error, value)
    wide = slips.full_width(value) if found is None else None
    if wide is not None:  # (50％, ３０万, “30万”, R2，R3: typed by a Chinese input method; said as "no allowed form")
        chars, fixed = wide
        said = msg("loading.slip.full_width", value=repr(value), chars="".join(chars), fix=repr(fixed))
        return said, msg("loading.slip.full_width_expected")
    return found


#: a fact as a scope names it (applicant.id, item, claim.funding_year): anything else in `per:` is words
_FACT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")

#: a whole number written with the word it counts (2021年, 3次, 10个国家), where the number alone is wanted
_COUNTED = re.compile(r"\s*([0-9]+)\s*(?:年|次|件|个|家|项|名|个国家)\s*")

#: a whole number written with a leading zero (03), which YAML reads as text
_LEADING_ZERO = re.compile(r"0[0-9]+")


def _number_slip(error: ValidationError, value: str) -> tuple[Msg, Msg] | None:
    """`_slip` of a date or an amount written another way (2021/3/5, 50w, 300,000, 三十万)."""
    if error.validator == "format" and error.validator_value == "date":
        day = slips.iso_date(value)
        if day:
            return msg("loading.slip.date", value=repr(value), fix=day), msg("loading.slip.date_expected")
        missing = slips.no_such_day(value)  # 2021-02-30: written right, a day the calendar does not have
        if missing is not None and missing[2] is None:
            return msg("loading.slip.no_such_month", value=repr(value)), msg("loading.slip.date_expected")
        if missing is not None:
            year, month, days = missing
            return msg("loading.slip.no_such_day", value=repr(value), year=year, month=month, days=days), msg("loading.slip.date_expected")
        return msg("loading.slip.not_a_date", value=repr(value)), msg("loading.slip.date_expected")
    wants = [e for e in _with_context(error) if e.instance is value and _takes_number(e)]
    if not wants:
        return None
    amount = any(e.validator in ("oneOf", "anyOf") for e in wants)  # an amount's forms: a number, or text such as 30万
    yuan = slips.yuan(value, slips.POLICY_UNITS if amount else frozenset())
    counted = _COUNTED.fullmatch(value)
    if yuan is None and counted is not None and not amount:  # `from: 2021年`, `times: 3次`: the number alone
        fix = counted.group(1)
        return msg("loading.slip.number_unit", value=repr(value), fix=fix), msg("loading.slip.number_unit_expected", fix=fix)
    if yuan is None and _LEADING_ZERO.fullmatch(value) and not amount:  # `times: 03`: YAML reads it as text
        fix = str(int(value))
        return msg("loading.slip.leading_zero", value=repr(value), fix=fix), msg("loading.slip.leading_zero_expected", fix=fix)
    count = slips.chinese_count(value) if yuan is None and not amount else None
    if count is not None:  # `times: 两`: Chinese numerals, which no whole number is read from
        return msg("loading.slip.chinese_count", value=repr(value), fix=count), msg("loading.slip.chinese_count_expected", fix=count)
    chinese = slips.chinese_amount(value) if yuan is None and amount else None
    if chinese is not None:  # `max: 三十万`: Chinese numerals, which no amount is read from
        return msg("loading.slip.chinese_numerals", value=repr(value), fix=chinese), msg("loading.slip.amount_expected")
    mixed = mixed_readings(value) if yuan is None and amount else None
    if mixed is not None and mixed[0] == mixed[1]:  # `max: 1万5千`: the digits
        return msg("loading.slip.amount", value=repr(value), fix=str(mixed[0])), msg("loading.slip.amount_expected")
    if mixed is not None:  # `max: 1万2`: 12000 as said, 10002 as added up; neither offered
        said = msg("loading.slip.mixed_unclear", value=repr(value), said=str(mixed[1]), added=str(mixed[0]))
        return said, msg("loading.slip.amount_expected")
    if yuan is None:
        return None
    expected = msg("loading.slip.amount_expected") if amount else msg("loading.slip.number_expected")
    if slips.has_thousands_separator(value):
        return msg("loading.slip.thousands", value=repr(value), fix=yuan), expected
    return msg("loading.slip.amount", value=repr(value), fix=yuan), expected


#: schema errors of a policy read to name its problems: jsonschema makes each as it is asked, and each was worded,
#: located and guessed at: 12,000 rules of one misspelt field (a 0.3 MB policy) took 14.5 s to refuse, in a message of
#: 7 MB (`load.MAX_POLICY_PROBLEMS` bounds how many are named)
MAX_POLICY_SCHEMA_ERRORS = 2_000


def schema_problems(source: Source, schema_name: str = "policy.schema.json") -> list[Problem]:
    """The document's schema violations, located, in document order."""
    return read_schema_problems(source, schema_name)[0]


def read_schema_problems(source: Source, schema_name: str = "policy.schema.json") -> tuple[list[Problem], bool]:
    """The violations of the first MAX_POLICY_SCHEMA_ERRORS schema errors, located, in document order, and whether
    there were more errors than that."""
    errors = validator_for(schema_name).iter_errors(source.data)
    problems = []
    for error in itertools.islice(errors, MAX_POLICY_SCHEMA_ERRORS):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            path += _first_unknown_field(error)  # point at the unknown field's own line, not its parent's
        message, expected, code = schema_message(error), schema_expected(error), f"schema.{error.validator}"
        if error.validator in ("oneOf", "anyOf"):
            form, leaf = _closest(error)
            if leaf is not None and leaf.validator != "pattern":  # a pattern's regex says less than the form's description
                path, message, code = tuple(leaf.absolute_path), schema_message(leaf), f"schema.{leaf.validator}"
                expected = _described(form.schema)
            elif leaf is not None and form is not error:
                # the one fitting form fails only in a field whose own forms all fail (`rate: "param(...)"`): name
                # that field and its forms, not the other forms of the whole ("'of', 'rate' were unexpected")
                path, code = tuple(form.absolute_path), f"schema.{form.validator}"
                message = msg("schema.any_form", value=_written(form.instance))
                expected = schema_expected(form)
            elif (misspelt := _misspelt_in_form(error)) is not None:
                # `{per_unit: 1000, count: item.marks, max_cout: 20}`: said at the field, with the name it is close
                # to, as a misspelt field of a rule is (it was said at the amount, the seven forms as what to write)
                path, message, expected, code = misspelt
        slip = next((s for e in _with_context(error) if tuple(e.absolute_path) == path and (s := _slip(e))), None)
        if slip is not None:  # `50w`, `300,000`, `2021/3/5` where the value is reported: the message says how to write it
            message, expected = slip
        wide = _wide_colon_key(error)
        if wide is not None:  # `{rate： 50%, …}`: the key and its value read as one unknown key, "rate： 50%"
            path, (message, expected) = wide, _wide_colon_said(str(wide[-1]))
        problems.append(source.problem(path, message, expected=expected, code=code))
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return _misspelt_not_missing(problems), next(errors, None) is not None


def _misspelt_in_form(error: ValidationError) -> tuple[tuple[Any, ...], Msg, Msg | None, str] | None:
    """(path, message, expected, code) of the one unknown field of the form of a oneOf/anyOf `error` that knows the
    other fields written, when that field is close to one of the form's (a misspelling), else None."""
    best = _best_form_error(error) if error.context else None
    if best is None or best.validator != "additionalProperties":
        return None
    unknown = _first_unknown_field(best)
    known = best.schema.get("properties", {}) if isinstance(best.schema, dict) else {}
    if not unknown or _close(unknown[0], [str(k) for k in known]) is None:
        return None
    return (*best.absolute_path, *unknown), schema_message(best), schema_expected(best), "schema.additionalProperties"


def _wide_colon_key(error: ValidationError) -> tuple[Any, ...] | None:
    """The path of the unknown key of `error` (or of one of its forms) that holds a full-width colon: a key and its
    value typed with a Chinese input method's ：, which YAML reads as one key."""
    for e in [error, *_with_context(error)]:
        if e.validator == "additionalProperties" and isinstance(e.instance, dict):
            wide = [k for k in e.instance if isinstance(k, str) and "：" in k and k not in e.schema.get("properties", {})]
            if wide:
                return (*e.absolute_path, wide[0])
    return None


def _wide_colon_said(key: str) -> tuple[Msg, Msg]:
    name = key.split("：", 1)[0].strip()
    return msg("loading.yaml.wide_colon", key=name), msg("loading.yaml.wide_colon_fix", key=name)


def _misspelt_not_missing(problems: list[Problem]) -> list[Problem]:
    """`whom:` for `who:` is one slip: its "unknown field ... did you mean `who`?" says it, so the "'who' is a
    required property" of the same mapping is left out (`amout:` for `amount:` too, where the mapping has several
    forms and the closest lacks `amount`)."""
    unknown: dict[tuple[Any, ...], list[str]] = {}
    for p in problems:
        if p.code == "schema.additionalProperties" and p.path and isinstance(p.path[-1], str):
            unknown.setdefault(p.path[:-1], []).append(p.path[-1])

    def explained(p: Problem) -> bool:
        found = re.match(r"^'(.*)' is a required property$", str(p.message)) if p.code == "schema.required" else None
        if p.code in ("schema.oneOf", "schema.anyOf"):  # `amout:` in a rule (an amount rule or a referral): its closest form
            found = re.search(r"\(closest: '([^']*)' is a required property\)$", str(p.message))
        return found is not None and any(_close(u, [found.group(1)]) for u in unknown.get(p.path, []))

    return [p for p in problems if not explained(p)]
