"""Stage 2b + 3, semantic checks and compile: a schema-valid document into a `CompiledPolicy`.

The checks a schema cannot express happen here, while compiling, because
compiling an expression is how we learn which facts and functions it names.
Every problem is collected with its position; nothing is compiled lazily.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from engine.core import i18n
from engine.core.errors import Problem
from engine.core.i18n import Msg, msg
from engine.core.quantities import (
    MAX_AMOUNT,
    MAX_COUNT,
    QuantityError,
    counted_unit,
    decimal_places,
    format_money,
    parse_amount,
    parse_percent,
    parse_rate,
)
from engine.language import slips
from engine.language.expressions import (
    COMPUTED_NAMES,
    COUNT,
    INTEGER,
    MAX_SOURCE_CHARS,
    MONEY,
    NUM,
    NUMBERS,
    CompiledExpression,
    ExpressionError,
    compile_expression,
    kind_word,
    literal_outcomes,
    suggest,
)
from engine.language.model import (
    MAX_ORDER_KEYS,
    RECORDABLE_LIST_TYPES,
    RECORDABLE_TYPES,
    AmountForm,
    Band,
    BandsAmount,
    BudgetRounding,
    Cap,
    Clause,
    CompiledPolicy,
    DocumentCheck,
    DocumentNeed,
    ExternalAmount,
    FactSpec,
    FixedAmount,
    LeastAmount,
    Limit,
    Note,
    OrderKey,
    Parameter,
    ParameterValue,
    ParamUse,
    PerUnitAmount,
    RateAmount,
    Reading,
    Rule,
    Selection,
    Shown,
    Subject,
    TableAmount,
    Test,
    Text,
    table_key,
)
from engine.language.source import FileRefused, Source, read_beside
from engine.language.validate import scope_hint

Path_ = tuple[str | int, ...]

#: Fact types that may declare `minimum` / `maximum`, and those that declare `places`.
BOUNDED_TYPES = frozenset({"integer", "count", "decimal", "money", "percent"})
NUMBER_PLACES_TYPES = frozenset({"decimal", "percent"})
DEFAULT_PLACES = 2

DEFAULT_REFUSAL_ORDER = ("standing", "scope", "time", "double_benefit", "condition", "limit", "cap", "documents")


#: clauses not verbatim in the measures' text for which `check_source_text` says where the two part (each is ~15
#: searches of the text); the others are said without it
CLAUSES_PARTED = 20

#: keys under which a mapping's `zh` is a code's entry, not a text's Chinese (a rate table keyed by kind)
_NOT_TEXTS = frozenset({"table", "templates"})


def fill_english(doc: dict[str, Any]) -> tuple[Path_, ...]:
    """Texts written in Chinese only: a bureau may write its measures without English. Each `en:` left out is the
    Chinese (a clause's, its text), so English explanations and messages show the Chinese where no English was
    written; the paths of each are returned, for lint to say. The document is filled in place, once (a mapping
    shared by an alias is filled the first time)."""
    filled: list[Path_] = []
    stack: list[tuple[Path_, Any]] = [((), doc)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("zh"), str) and "en" not in node:
                node["en"] = node["zh"]
                filled.append(path)
            elif len(path) == 2 and path[0] == "clauses" and isinstance(node.get("text"), str) and "en" not in node:
                node["en"] = node["text"]
                filled.append(path)
            stack += [((*path, k), v) for k, v in node.items() if k not in _NOT_TEXTS and isinstance(v, dict | list)]
        elif isinstance(node, list):
            stack += [((*path, i), v) for i, v in enumerate(node) if isinstance(v, dict | list)]
    return tuple(filled)  # (lint says them in the order they are written)


def _text(d: dict[str, str] | None) -> Text | None:
    return Text(d["zh"], d["en"]) if d else None


def _budget_rounding(budget: dict[str, Any], quantum: Decimal) -> BudgetRounding:
    """A round budget's rounding; defaults: the policy's quantum, floor, largest remainder."""
    r = budget.get("rounding") or {}
    return BudgetRounding(
        Decimal(r["quantum"]) if "quantum" in r else quantum, r.get("mode", "floor"), r.get("remainder", "largest_remainder")
    )


#: a template name a policy may no longer replace (docs/explanations.md, "Policy templates")
RETIRED_TEMPLATE = "_lines.j2"


def _selection_label(first: int | None, budget: Decimal | None) -> Text:
    """A selection's words when the policy gives none: its places and its budget."""
    zh, en = [], []
    if first is not None:
        zh.append(f"按排序取前{first}名")
        en.append(f"the first {first} by rank")
    if budget is not None:
        zh.append(f"按名次在 {format_money(budget)} 元额度内依次安排")
        en.append(f"in rank order within {format_money(budget)}")
    return Text("，".join(zh) or "本轮择优排序", ", ".join(en) or "round selection")


#: What engine.core.quantities says when a value is not an amount, a rate or a percentage (its English, read back
#: into a message of the catalogue so that it is said in the reader's language).
_QUANTITY_SAYS = (
    (
        re.compile(
            r"^(?P<value>.*) is not (?P<what>an amount|a rate|a percentage): its number has (?P<n>\d+) characters, more than (?P<limit>\d+)$",
            re.S,
        ),
        "too_long",
    ),
    (re.compile(r"^(?P<value>.*) is more than the largest amount, (?P<limit>.*)$", re.S), "too_large"),
    (re.compile(r"^(?P<value>.*) is not a non-negative finite amount$", re.S), "negative"),
    (re.compile(r"^(?P<value>.*) is not a rate between 0 and 100%$", re.S), "rate_range"),
    (re.compile(r"^(?P<value>.*) is not a percentage written with % \(e\.g\. 4\.35%\)$", re.S), "percent_sign"),
    (re.compile(r"^(?P<value>.*) is not (?P<what>an amount|a rate|a percentage) \(a (?P<type>\w+)\)$", re.S), "wrong_type"),
    (re.compile(r"^(?P<value>.*) is not (?P<what>an amount|a rate|a percentage)$", re.S), "not_a"),
)
_QUANTITY_WHAT = {"an amount": "amount", "a rate": "rate", "a percentage": "percentage"}


def quantity_message(exc: Exception) -> Msg:
    """A QuantityError said in the reader's language (the same English as before): its own message, as a value."""
    if isinstance(exc, QuantityError):
        return exc.message
    text = str(exc)
    for pattern, kind in _QUANTITY_SAYS:
        m = pattern.match(text)
        if m is None:
            continue
        found = m.groupdict()
        if "what" in found:
            found["what"] = msg(f"loading.quantity.what.{_QUANTITY_WHAT[found['what']]}")
        said = msg(f"loading.quantity.{kind}", **found)
        if str(said) == text:
            return said
    return msg("loading.quantity.other", detail=text)


def _guess(close: str | None, rest: Msg) -> Msg:
    """ "did you mean 'x'? <rest>" when a close name was found, else `rest`."""
    return msg("loading.compile.did_you_mean", guess=repr(close), rest=rest) if close else rest


#: an id of letters then a number (N3, R12): a note's or a reading's, as a bureau numbers them
_NUMBERED_ID = re.compile(r"([A-Za-z]+)([0-9]+)")


def _one_edit(a: str, b: str) -> bool:
    """`a` and `b` are equal or one character apart (one changed, added or left out)."""
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long = sorted((a, b), key=len)
    return len(long) - len(short) == 1 and any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def suggest_id(ref: str, known: Iterable[str]) -> str | None:
    """The id meant by `ref`, for a did-you-mean. A numbered id (N13) is matched only by the one id of the same
    letters whose number is one edit away, or by none: spelling-nearness guessed N3 for N13 among N1-N12, where
    N13 may be a note not yet written, and N1, N3, N10, N11, N12 are all as near."""
    ids = list(known)
    numbered = _NUMBERED_ID.fullmatch(ref)
    if numbered is None:
        return suggest(ref, ids)
    letters, number = numbered.group(1).upper(), numbered.group(2)
    near = [
        (m.group(2) == number, k)
        for k in ids
        if (m := _NUMBERED_ID.fullmatch(k)) is not None and m.group(1).upper() == letters and _one_edit(m.group(2), number)
    ]
    same = [k for exact, k in near if exact]  # n3 for N3: the same number, the letters in another case
    return same[0] if len(same) == 1 else near[0][1] if len(near) == 1 else None


def _facts_hint(namespace: str, fact: str, table: Iterable[str], type_name: str | None) -> Msg:
    """ "did you mean item.patent_kind? facts of patent: ..." (or, with no close name, the facts alone)."""
    known = sorted(table)
    close = suggest(fact, known)
    facts = (
        msg("loading.expr.facts_of_type", type=type_name, facts=known)
        if type_name
        else msg("loading.expr.facts_of", namespace=namespace, facts=known)
    )
    if close is None:
        return facts
    return msg("loading.expr.did_you_mean_fact", guess=f"{namespace}.{close}", facts=facts)


def _parting_fix(ours: str, theirs: str) -> Msg | None:
    """The fix for a clause's text that parts from the measures' at a slip an eye misses: a space (a line broken inside
    quotes, which YAML reads as a space), or one character typed in the other width (, for ，, % for ％)."""
    a, b = ours[:1], theirs[:1]
    if a.isspace() and not b.isspace():
        return msg("loading.compile.clause_text_extra_space")
    if b.isspace() and not a.isspace():
        return msg("loading.compile.clause_text_missing_space")
    if a and b and a != b and unicodedata.normalize("NFKC", a) == unicodedata.normalize("NFKC", b):
        return msg("loading.compile.clause_text_width", ours=a, theirs=b)
    return None


def _names_a_file(value: str) -> bool:
    """A template override given as a file name (`bureau/explain.md.j2`) rather than as the template's text:
    one line, no template syntax, ending in `.j2` -- or looking like a path (`/...`, `~...`, `./`, `../`), which
    is then refused by the confinement rules instead of being shown as text."""
    v = value.strip()
    return "\n" not in v and "{" not in v and (v.endswith(".j2") or v.startswith(("/", "~", "./", "../")))


#: Bounds on what a policy's expressions cost to compile, after aliases are expanded (a YAML alias writes a 2,000-
#: character test again in a few bytes: 2,000 aliased checks took 46 s and 1.2 GB to load). The text of every
#: expression in all (the largest shipped policy's: about 1,900 characters), and the text of the item-level checks counted
#: once for each rule they apply to, as the rules' generated code carries them (the shipped policies': under 10,000).
#: At the bounds a policy loads in about a second.
MAX_EXPRESSION_TEXT = 100_000
MAX_CARRIED_CHECK_TEXT = 2_000_000

#: Bounds on how many checks the rules carry, whatever their text: each item-level check (of a test or of documents)
#: counted once for each rule it applies to, over all rules, as the rules' generated code carries each (the shipped policy's: 35;
#: 420 checks of a 9-character test applied to 420 rules, a 0.2 MB policy within the text bound, took 14 s and 470
#: MB to load); and the checks one item goes through, its rule's conditions, caps and limits with the item-level checks
#: that apply to it (the shipped policy's most: 6), each a step of its decision's trace (2,500 checks of one rule: 0.5 MB of
#: trace an item, 9 MB of decision for 10 items; at 200, a claim of 1,000 items was 73 MB of decision and 775 MB of
#: memory to make it; at 60, 22 MB and 264 MB, where the shipped policy's 1,000 items are 5.6 MB and 92 MB). Of at most
#: 100 rules, only rules each past MAX_ITEM_CHECKS reach MAX_CARRIED_CHECKS: refused, they are compiled on, and it
#: bounds that work.
MAX_CARRIED_CHECKS = 10_000
MAX_ITEM_CHECKS = 60

#: Bound on the words one item's decision and explanation may carry: every wording of its rule and of the checks,
#: caps and limits it applies, with the clauses, readings, notes and documents they name, the labels of the facts an
#: item of its type may show and of the applicant kinds and roles its rule takes, each counted at every use (a YAML
#: alias cites a 5,000-character reading a hundred times in a few bytes: 2.5 MB of explanation an item, 7.4 GB of
#: memory for 1,000 items). The shipped policy's largest rule carries about 10,700 characters in both languages; thirteen
#: other policies' (tests/fixtures/localities/) at most 7,746.
MAX_CARRIED_WORDS = 100_000


class _Compiler:
    def __init__(self, source: Source) -> None:
        self.src = source
        self.doc: dict[str, Any] = source.data
        self.chinese_only = fill_english(self.doc)  # (a valid document: compiled only after the schema check)
        self.problems: list[Problem] = []
        self.ids: dict[str, Path_] = {}
        self.parameters: dict[str, Parameter] = {}
        #: where expressions being compiled put their `param(...)` uses (a rule's, while it compiles), or None
        self.param_sink: list[ParamUse] | None = None
        self.check_uses: dict[str, tuple[ParamUse, ...]] = {}  # item check id -> its parameter uses
        self.expression_text = 0  # characters of the expressions compiled so far (MAX_EXPRESSION_TEXT)
        self.carried_check_text = 0  # item checks' characters, once for each rule (MAX_CARRIED_CHECK_TEXT)
        self.carried_checks = 0  # item checks, once for each rule (MAX_CARRIED_CHECKS)

    # --- helpers -------------------------------------------------------------

    def error(self, path: Path_, message: str, expected: str | None = None, code: str = "semantic") -> None:
        self.problems.append(self.src.problem(path, message, expected=expected, code=code))

    def unique_id(self, ident: str, path: Path_, what: str) -> None:
        if ident in self.ids:
            line, _ = self.src.where(self.ids[ident])
            self.error(
                path,
                msg("loading.compile.duplicate_id_already_used", what=msg(f"loading.compile.id_kind.{what}"), ident=repr(ident), line=line),
                msg("loading.compile.ids_unique_across_rules"),
                code="duplicate_id",
            )
        else:
            self.ids[ident] = path

    def citation(self, cites: str | None, path: Path_) -> str:
        if cites is None:
            return ""
        if cites not in self.doc["clauses"]:
            # the clause written another way (第N条第(一)项, a space): that one; else no guess -- the nearest text
            # is another clause (第N条第（三）项 for a 第M条第（三）项 deleted), and says what to do instead
            same = [k for k in self.doc["clauses"] if _written_alike(k) == _written_alike(cites)]
            self.error(
                path,
                msg("loading.compile.citation_points_clause_clause", cites=repr(cites)),
                msg("loading.compile.close_clause", guess=repr(same[0])) if same else msg("loading.compile.add_clause"),
                code="unknown_citation",
            )
        return cites

    def amount(self, value: Any, path: Path_) -> Decimal:
        try:
            amount = parse_amount(value)
        except QuantityError as exc:
            self.error(path, quantity_message(exc), msg("loading.compile.number_yuan_notation_most", max_amount=MAX_AMOUNT), code="amount")
            return Decimal(0)
        quantum = self.quantum()
        if quantum is not None and amount % quantum != 0:
            # a ceiling or budget finer than money is paid in could never be reached exactly (nor scaled to)
            self.error(
                path,
                msg("loading.compile.finer_than_policy_s", value=value, quantum=quantum),
                msg("loading.compile.multiple", quantum=quantum),
                code="amount",
            )
        return amount

    def quantum(self) -> Decimal | None:
        try:
            q = Decimal(str(self.doc["policy"]["rounding"]["quantum"]))
        except (KeyError, TypeError, ArithmeticError):
            return None  # the schema reports it
        return q if q.is_finite() and q > 0 else None

    def rate(self, value: Any, path: Path_) -> Decimal:
        try:
            return parse_rate(value)
        except QuantityError as exc:
            self.error(path, quantity_message(exc), msg("loading.compile.rate_such_as"), code="rate")
            return Decimal(0)

    def codes(self, values: Iterable[str], allowed: dict[str, Any], path: Path_, what: str) -> frozenset[str]:
        out = []
        for i, value in enumerate(values):
            if value not in allowed:
                close = suggest(value, allowed)
                # (`kinds: [企业]`: a code's words written for the code, said as such)
                named = [c for c, v in allowed.items() if isinstance(v, dict) and value in (v.get("zh"), v.get("en"))]
                self.error(
                    path + (i,),
                    msg("loading.compile.unknown", what=msg(f"loading.compile.code_kind.{what.replace(' ', '_')}"), value=repr(value)),
                    msg("loading.compile.write_code", value=repr(value), code=named[0])
                    if named
                    else _guess(close, msg("loading.compile.one", names=list(allowed))),
                    code=f"unknown_{what.replace(' ', '_')}",
                )
            else:
                out.append(value)
        return frozenset(out)

    # --- facts ---------------------------------------------------------------

    def fact_table(self, table: dict[str, Any], path: Path_) -> dict[str, FactSpec]:
        out = {}
        for name, spec in table.items():
            values: tuple[str, ...] | None = None
            ftype = spec["type"]
            if "values" in spec:
                values = tuple(spec["values"])
            elif "values_from" in spec:
                values = tuple(self.doc.get(spec["values_from"], {}))
            elif ftype in ("enum", "enum_list"):
                self.error(
                    path + (name,),
                    msg("loading.compile.fact_enum_without_values", name=repr(name)),
                    msg("loading.compile.values_values_from"),
                )
            if ftype == "document_list":
                values = tuple(self.doc.get("documents", {}))
            has_default = "default" in spec
            if ftype == "date_list" and spec.get("default", []) not in ([], None):
                # a default is not converted like a claim's value: only "none" can be written safely
                self.error(
                    path + (name, "default"), msg("loading.compile.default_date_list_fact", name=repr(name)), msg("loading.compile.default")
                )
            on_record = spec.get("on_record", "fills")
            if "on_record" in spec and path != ("facts", "applicant"):
                self.error(path + (name, "on_record"), msg("loading.compile.record_applies_applicant_facts"))
            elif "on_record" in spec and ftype not in RECORDABLE_TYPES | RECORDABLE_LIST_TYPES:
                self.error(
                    path + (name, "on_record"),
                    msg("loading.compile.ledger_cannot_hold_fact", ftype=ftype),
                    msg("loading.compile.fact_type", names=", ".join(sorted(RECORDABLE_TYPES | RECORDABLE_LIST_TYPES))),
                )
            places, unit = self.number_form(spec, path + (name,))
            bounds = self.fact_bounds(spec, path + (name,))
            out[name] = FactSpec(
                name=name,
                type=ftype,
                label=Text(spec["zh"], spec["en"]),
                required=spec.get("required", True) and not has_default,
                has_default=has_default,
                default=spec.get("default"),
                values=values,
                format=spec.get("format"),
                minimum=bounds[0],
                maximum=bounds[1],
                record_only=spec.get("record_only", False),
                on_record=on_record,
                places=places,
                unit=unit,
                short=_text(spec.get("short")),
                value_words=_value_words(
                    spec["values"]
                    if "values" in spec
                    else self.doc.get(spec["values_from"])
                    if "values_from" in spec
                    else self.doc.get("documents")
                    if ftype == "document_list"
                    else None
                ),
            )
        return out

    def number_form(self, spec: dict[str, Any], path: Path_) -> tuple[int | None, Text | None]:
        """A decimal or percent fact's `places` (default 2) and a count fact's `unit` (required); a `format` is an
        identifier's only."""
        ftype = spec["type"]
        if "places" in spec and ftype not in NUMBER_PLACES_TYPES:
            self.error(
                path + ("places",), msg("loading.compile.places_applies_decimal_percent", ftype=ftype), msg("loading.compile.places")
            )
        if "format" in spec and ftype != "identifier":  # (a string fact with a format would be taken as it came)
            self.error(
                path + ("format",),
                msg("loading.compile.format_applies_identifier", ftype=ftype),
                msg("loading.compile.format_type_identifier"),
            )
        if "unit" in spec and ftype != "count":
            self.error(
                path + ("unit",), msg("loading.compile.unit_applies_count_facts", ftype=ftype), msg("loading.compile.unit_type_count")
            )
        if ftype == "count" and "unit" not in spec:
            zh, en = counted_unit(str(spec.get("zh", "")))  # (the unit its name says: 授权国家数 is of 个国家, not 件)
            self.error(
                path, msg("loading.compile.count_fact_needs_unit"), msg("loading.compile.unit_zh_en", zh=zh, en=en), code="count_unit"
            )
        places = spec.get("places", DEFAULT_PLACES) if ftype in NUMBER_PLACES_TYPES else None
        return places, _text(spec.get("unit")) if ftype == "count" else None

    def fact_bounds(self, spec: dict[str, Any], path: Path_) -> tuple[Decimal | None, Decimal | None]:
        """Declared `minimum` / `maximum` of a number fact (a percent's written 5%, kept as the fraction 0.05)."""
        out: list[Decimal | None] = []
        ftype = spec["type"]
        for key in ("minimum", "maximum"):
            if key not in spec:
                out.append(None)
                continue
            if ftype not in BOUNDED_TYPES:
                self.error(
                    path + (key,), msg("loading.compile.only_applies_integer_count", key_=key, ftype=ftype), msg("loading.compile.bound")
                )
                out.append(None)
                continue
            out.append(self.bound(spec[key], key, ftype, spec.get("places", DEFAULT_PLACES), path + (key,)))
        low, high = out
        if low is not None and high is not None and low > high:
            self.error(
                path + ("maximum",),
                msg("loading.compile.maximum_below_minimum", high=high, low=low),
                msg("loading.compile.maximum_least", low=low),
            )
        return low, high

    def bound(self, raw: Any, key: str, ftype: str, places: int, path: Path_) -> Decimal | None:
        written_percent = isinstance(raw, str) and raw.strip().endswith("%")
        if ftype == "percent" or written_percent:
            if ftype != "percent" or not written_percent:
                wanted = "a percentage such as 5%" if ftype == "percent" else "a number without %"
                self.error(
                    path, msg("loading.compile.fact_written_as", key_=key, ftype=ftype, wanted=wanted, raw=raw), wanted, code="bound"
                )
                return None
            try:
                fraction = parse_percent(raw)
            except QuantityError as exc:
                self.error(path, quantity_message(exc), msg("loading.compile.percentage_such_as"), code="bound")
                return None
            if decimal_places(fraction) > places + 2:  # 4.355% is 0.04355: the percentage's places + 2
                self.error(
                    path,
                    msg("loading.compile.has_more_than_fact_2", raw=raw, places=places),
                    msg("loading.compile.percentage_most_decimals", places=places),
                )
            return fraction
        value = self.amount(raw, path) if ftype == "money" else self.plain_number(raw, path)
        if value is None:
            return None
        if ftype in ("integer", "count") and value != value.to_integral_value():
            self.error(
                path,
                msg(f"loading.compile.fact_must_whole_number_{ftype}", bound=key, value=value),
                msg("loading.compile.whole_number"),
            )
        if ftype == "decimal" and decimal_places(value) > places:
            self.error(
                path,
                msg("loading.compile.has_more_than_fact", raw=raw, places=places),
                msg("loading.compile.number_most_decimals", places=places),
            )
        return value

    def plain_number(self, raw: Any, path: Path_) -> Decimal | None:
        """A bound written as a number (no 万: 万 means yuan); at most MAX_AMOUNT."""
        try:
            value = parse_amount(raw)
        except QuantityError as exc:
            self.error(path, quantity_message(exc), msg("loading.compile.number_most", max_amount=MAX_AMOUNT), code="bound")
            return None
        if isinstance(raw, str) and ("万" in raw or "元" in raw):
            self.error(path, msg("loading.compile.written_as_money_this", raw=raw), msg("loading.compile.plain_number"), code="bound")
            return None
        return value

    def item_tables(self, item_types: Iterable[str] | None, allow_item: bool) -> list[tuple[str | None, dict[str, FactSpec]]]:
        """(item type, its facts) for each type an expression sees; (None, the common item facts) for a check without `applies_to`."""
        if not allow_item:
            return []
        if item_types is None:
            return [(None, self.common_item_facts)]
        return [(t, self.item_facts.get(t, {})) for t in item_types]

    def fact_types(self, item_types: Iterable[str] | None, allow_item: bool = True) -> Any:
        """The declared types of a fact, for expressions that see these item types: what `*` may not repeat."""
        item_tables = self.item_tables(item_types, allow_item)

        def types(namespace: str, fact: str) -> tuple[str, ...]:
            if namespace == "item":
                return tuple(table[fact].type for _, table in item_tables if fact in table)
            table = self.claim_facts if namespace == "claim" else self.applicant_facts
            return (table[fact].type,) if fact in table else ()

        return types

    def resolver(self, item_types: Iterable[str] | None, allow_item: bool = True) -> Any:
        """A fact resolver for expressions that see these item types (None: the common item facts)."""
        item_tables = self.item_tables(item_types, allow_item)

        def resolve(namespace: str, fact: str) -> tuple[Msg, Msg | None] | None:
            if namespace == "item":
                if not allow_item:
                    return (msg("loading.expr.item_in_applicant_check", fact=fact), msg("loading.expr.item_in_applicant_check_hint"))
                for type_name, table in item_tables:
                    if fact not in table and type_name is None:  # a check without applies_to: what every item has
                        return (msg("loading.expr.unknown_common_item_fact", fact=fact), _facts_hint("item", fact, table, None))
                    if fact not in table:
                        return (
                            msg("loading.expr.unknown_item_fact", fact=fact, type=type_name),
                            _facts_hint("item", fact, table, type_name),
                        )
                return None
            table = self.claim_facts if namespace == "claim" else self.applicant_facts
            if fact not in table:
                return (msg("loading.expr.unknown_fact", namespace=namespace, fact=fact), _facts_hint(namespace, fact, table, None))
            return None

        return resolve

    def expr(
        self, source: Any, path: Path_, item_types: Iterable[str] | None, allow_item: bool = True, names: Iterable[str] = ()
    ) -> CompiledExpression | None:
        """`names`: the computed names (`amount`) the expression may use besides facts."""
        types = list(item_types) if item_types is not None else None
        if isinstance(source, str):
            before, self.expression_text = self.expression_text, self.expression_text + len(source)
            if self.expression_text > MAX_EXPRESSION_TEXT:  # said once, where the text passes the bound; none compiled after
                if before <= MAX_EXPRESSION_TEXT:
                    too_much = msg("loading.compile.expressions_too_large", limit=MAX_EXPRESSION_TEXT)
                    self.error(path, too_much, msg("loading.compile.expressions_too_large_expected"), code="too_large")
                return None
        try:
            compiled = self.compile_at(source, path, types, allow_item, names)
        except ExpressionError as exc:
            hint = exc.hint
            if len(path) > 1 and path[-2] in ("per", "counting") and getattr(exc.message, "key", None) == "loading.expr.unknown_name":
                hint = scope_hint(path[:-1])  # `per: [enterprise, year]`: "quote text" would lead astray
            self.error(path, msg("loading.expr.in_source", message=exc.message, source=repr(source)), hint, code="expression")
            return None
        for name, day, condition in compiled.params:  # each look-up, for the trace: its date as an expression of its own
            when = self.expr(day, path, types, allow_item)
            if when is not None and self.param_sink is not None:
                guard = self.param_condition(condition, path, types, allow_item, names)
                self.param_sink.append(ParamUse(self.parameters[name], when, None if guard is None else (guard,)))
        self.check_enum_literals(compiled, path, types)
        return compiled

    def compile_at(self, source: str, path: Path_, types: list[str] | None, allow_item: bool, names: Iterable[str]) -> CompiledExpression:
        """`source` compiled against the facts, computed names and parameters seen at `path` (its line names it on a
        runtime error). Raises ExpressionError."""
        line, _ = self.src.where(path)
        return compile_expression(
            source, self.resolver(types, allow_item), f"{self.src.file}:{line}", self.fact_types(types, allow_item), names, self.parameters
        )

    def param_condition(
        self, condition: str | None, path: Path_, types: list[str] | None, allow_item: bool, names: Iterable[str]
    ) -> CompiledExpression | None:
        """The condition under which a look-up is made, compiled for the trace; None (the look-up is always traced, as
        before conditions were kept) when there is none, when it reads a computed name (`amount` is not known when the
        trace records look-ups) or when it does not compile on its own. Counted against the policy's expression text."""
        if condition is None or len(condition) > MAX_SOURCE_CHARS or self.expression_text + len(condition) > MAX_EXPRESSION_TEXT:
            return None
        try:
            compiled = self.compile_at(condition, path, types, allow_item, names)
        except ExpressionError:
            return None
        self.expression_text += len(condition)
        return None if compiled.computed else compiled

    def fact_specs(self, namespace: str, name: str, item_types: list[str] | None) -> list[FactSpec]:
        """The declarations a fact reference may mean (an item fact: one per item type the expression sees)."""
        if namespace == "item":
            tables = [self.item_facts.get(t, {}) for t in item_types] if item_types is not None else [self.common_item_facts]
            return [t[name] for t in tables if name in t]
        table = self.claim_facts if namespace == "claim" else self.applicant_facts
        return [table[name]] if name in table else []

    def check_enum_literals(self, compiled: CompiledExpression, path: Path_, item_types: list[str] | None) -> None:
        for fact, literals in compiled.compares:
            namespace, name = fact.split(".", 1)
            for spec in self.fact_specs(namespace, name, item_types):
                if spec.values is None:
                    continue
                for literal in literals:
                    if literal not in spec.values:
                        close = suggest(literal, spec.values)
                        values = msg("loading.compile.values_2", fact=fact, names=list(spec.values))
                        self.error(
                            path,
                            msg("loading.compile.never_2", fact=fact, literal=repr(literal)),
                            _guess(close, values),
                            code="unknown_value",
                        )

    # --- the document --------------------------------------------------------

    # long because: each section compiled in the order its references need, then the compiled policy's every field
    def compile(self) -> CompiledPolicy | None:
        doc = self.doc
        head = doc["policy"]
        self.vocabulary(doc)
        self.parameters = self.parameter_table(doc.get("parameters") or {})

        fy = head["in_force"]["funding_years"]
        if fy["from"] > fy["to"]:
            self.error(
                ("policy", "in_force", "funding_years"),
                msg("loading.compile.window_starts_after_ends", first=fy["from"], last=fy["to"]),
                msg("loading.compile.window_starts_after_ends_expected", first=fy["from"], last=fy["to"]),
            )
        in_force_cites = self.citation(head["in_force"].get("cites"), ("policy", "in_force", "cites"))
        notes = tuple(Note(n["id"], Text(n["zh"], n["en"])) for n in head.get("notes", []))
        self.note_ids = {n.id for n in notes}
        self.note_order = [n.id for n in notes]  # as the policy lists them (N1, N2, ... N10), for a message
        readings = self.readings(doc)

        clauses = {key: Clause(key, c.get("article", key), c["text"], c["en"], c["computable"]) for key, c in doc["clauses"].items()}
        self.check_source_text(clauses)
        templates = self.templates()

        shared_caps = {c["id"]: (c, ("shared_caps", i)) for i, c in enumerate(doc.get("shared_caps", [])) if "id" in c}
        shared_limits = {c["id"]: (c, ("shared_limits", i)) for i, c in enumerate(doc.get("shared_limits", [])) if "id" in c}
        for section in ("shared_caps", "shared_limits"):
            for i, c in enumerate(doc.get(section, [])):
                if "id" not in c:
                    entry = msg("loading.compile.entry_must_define_cap", section=section)
                    self.error((section, i), entry, msg("loading.compile.id_max_times_per"), code="shared")
                else:
                    self.unique_id(c["id"], (section, i, "id"), section[7:-1])
        self.compiled_caps: dict[str, Cap] = {}
        self.compiled_limits: dict[str, Limit] = {}

        applicant_checks, applicant_doc_checks, item_checks, item_doc_checks = self.checks(doc)

        rules, rules_by_type = self.rules(doc, shared_caps, shared_limits, item_checks, item_doc_checks)
        if self.carried_checks <= MAX_CARRIED_CHECKS:  # (past it, every rule carries more than it may: said once)
            self.words_bounded(rules, clauses, readings, notes)

        behaviours = self.behaviours(head)
        budget = head.get("round_budget")
        budget_amount = self.budget(budget) if budget else None
        if self.problems:
            return None
        quantum = Decimal(head["rounding"]["quantum"])
        return CompiledPolicy(
            id=head["id"],
            version=str(head["version"]),
            title=Text(head["title"]["zh"], head["title"]["en"]),
            file=self.src.file,
            content_hash="sha256:" + hashlib.sha256(self.src.text.encode("utf-8")).hexdigest(),
            funding_years=(fy["from"], fy["to"]),
            in_force_cites=in_force_cites or None,
            in_force_assumption=_text(head["in_force"].get("assumption")),
            quantum=quantum,
            rounding=head["rounding"]["mode"],
            refusal_order=tuple(head.get("refusal_order", DEFAULT_REFUSAL_ORDER)),
            clauses=clauses,
            applicant_kinds={k: Text(v["zh"], v["en"]) for k, v in doc["applicant_kinds"].items()},
            applicant_roles={k: Text(v["zh"], v["en"]) for k, v in doc.get("applicant_roles", {}).items()},
            documents={k: Text(v["zh"], v["en"]) for k, v in doc.get("documents", {}).items()},
            claim_facts=self.claim_facts,
            applicant_facts=self.applicant_facts,
            item_facts=self.item_facts,
            item_type_labels={k: Text(v["zh"], v["en"]) for k, v in doc["item_types"].items()},
            applicant_checks=tuple(applicant_checks),
            applicant_document_checks=tuple(applicant_doc_checks),
            rules=tuple(rules),
            rules_by_type=rules_by_type,
            notes=notes,
            round_budget=budget_amount,
            round_budget_rounding=_budget_rounding(budget, quantum) if budget else None,
            documents_cites=self.citation(head.get("documents_cites"), ("policy", "documents_cites")) or None,
            templates=templates,
            data=doc,
            base_dir=str(Path(self.src.file).resolve().parent),
            funding_years_line=self.src.where(("policy", "in_force", "funding_years"))[0],
            version_line=self.src.where(("policy", "version"))[0],
            readings=readings,
            parameters=self.parameters,
            applicant_param_uses=merged_uses(u for t in applicant_checks for u in self.check_uses.get(t.id, ())),
            behaviours=behaviours,
        )

    def header_facts(self, names: list[str]) -> None:
        """`policy.header_facts` (`CompiledPolicy.header_facts`): each a fact of `facts.claim`."""
        for j, name in enumerate(names):
            if name not in self.claim_facts:
                close = suggest(name, list(self.claim_facts))
                said = msg("loading.compile.header_fact_unknown", name=name)
                known = msg("loading.compile.claim_facts", names=list(self.claim_facts))
                self.error(("policy", "header_facts", j), said, _guess(close, known), code="unknown_fact")

    def vocabulary(self, doc: dict[str, Any]) -> None:
        """The fact tables: claim, applicant, every item's and each item type's own."""
        self.claim_facts = self.fact_table(doc["facts"]["claim"], ("facts", "claim"))
        self.header_facts(doc["policy"].get("header_facts", ()))
        self.applicant_facts = self.fact_table(doc["facts"]["applicant"], ("facts", "applicant"))
        self.common_item_facts = self.fact_table(doc["item_facts"], ("item_facts",))
        self.item_facts: dict[str, dict[str, FactSpec]] = {}
        for type_name, spec in doc["item_types"].items():
            own = self.fact_table(spec["facts"], ("item_types", type_name, "facts"))
            for clash in set(own) & set(self.common_item_facts):
                self.error(
                    ("item_types", type_name, "facts", clash),
                    msg("loading.compile.fact_already_fact_every", clash=repr(clash)),
                    msg("loading.compile.new_name"),
                )
            self.item_facts[type_name] = {**self.common_item_facts, **own}
        for required in ("id", "type"):
            if required not in self.common_item_facts:
                self.error(
                    ("item_facts",),
                    msg("loading.compile.item_facts_must_define", required=repr(required)),
                    msg("loading.compile.fact", required=required),
                )
        for required in ("id", "kind"):
            if required not in self.applicant_facts:
                self.error(
                    ("facts", "applicant"),
                    msg("loading.compile.applicant_facts_must_define", required=repr(required)),
                    msg("loading.compile.fact_2", required=required),
                )

    def parameter_table(self, table: dict[str, Any]) -> dict[str, Parameter]:
        """The dated parameters: values typed by the parameter's type, dates valid and strictly ascending."""
        out = {}
        for name, spec in table.items():
            path: Path_ = ("parameters", name)
            values: list[ParameterValue] = []
            for k, v in enumerate(spec["values"]):
                vp = path + ("values", k)
                try:
                    start = _dt.date.fromisoformat(str(v["from"]))
                except ValueError:
                    fixed = slips.iso_date(str(v["from"]))
                    said = (
                        msg("loading.slip.date", value=repr(v["from"]), fix=fixed)
                        if fixed
                        else msg("loading.compile.date", value=repr(v["from"]))
                    )
                    self.error(vp + ("from",), said, msg("loading.compile.yyyy_mm_dd_e"), code="parameter")
                    continue
                if values and start <= values[-1].start:
                    self.error(
                        vp + ("from",),
                        msg("loading.compile.after_previous_value_s", start=start, start2=values[-1].start),
                        msg("loading.compile.values_ascending_order_from"),
                        code="parameter",
                    )
                    continue
                value = self.parameter_value(spec["type"], v["value"], vp + ("value",))
                if value is not None:
                    values.append(ParameterValue(start, value, Text(v["source"]["zh"], v["source"]["en"]), str(v["value"]).strip()))
            unit = _text(spec.get("unit"))
            if unit is not None and spec["type"] != "count":
                self.error(
                    path + ("unit",), msg("loading.compile.unit_applies_count_parameter"), msg("loading.compile.unit"), code="parameter"
                )
            known_until = self.known_until(spec, path, values)
            out[name] = Parameter(name, Text(spec["zh"], spec["en"]), spec["type"], tuple(values), unit, known_until)
        return out

    def known_until(self, spec: Mapping[str, Any], path: Path_, values: list[ParameterValue]) -> _dt.date | None:
        """A parameter's `known_until:`, a real date on or after its last value's `from` (None when not written)."""
        if "known_until" not in spec:
            return None
        written = str(spec["known_until"])
        try:
            until = _dt.date.fromisoformat(written)
        except ValueError:
            fixed = slips.iso_date(written)
            said = msg("loading.slip.date", value=repr(written), fix=fixed) if fixed else msg("loading.compile.date", value=repr(written))
            self.error(path + ("known_until",), said, msg("loading.compile.yyyy_mm_dd_e"), code="parameter")
            return None
        if values and until < values[-1].start:
            self.error(
                path + ("known_until",),
                msg("loading.compile.known_until_before_last", until=until, start=values[-1].start),
                msg("loading.compile.known_until_expected", start=values[-1].start),
                code="parameter",
            )
        return until

    def parameter_value(self, ptype: str, value: Any, path: Path_) -> Decimal | int | None:
        """One value of a parameter of type `ptype`: money as an amount (万 allowed), a percent written `3.70%` (its
        exact fraction, `parse_percent` as percent facts), a decimal, a whole count (not negative) or integer."""
        text = str(value).strip()
        if ptype == "money":
            return self.amount(value, path)
        if ptype == "percent":
            try:
                return parse_percent(value)
            except QuantityError:
                self.error(
                    path,
                    msg("loading.compile.percentage", text=text),
                    msg("loading.compile.write", value=text.rstrip("%")),
                    code="parameter",
                )
                return None
        try:
            number = Decimal(text)
        except (InvalidOperation, ValueError):
            self.error(path, msg("loading.compile.number", text=text), msg("loading.compile.value", ptype=ptype), code="parameter")
            return None
        if ptype == "decimal":
            return number
        if number != number.to_integral_value() or (ptype == "count" and number < 0):
            self.error(
                path,
                msg("loading.compile.whole_number_count" if ptype == "count" else "loading.compile.whole_number_2", text=text),
                msg("loading.compile.message", ptype=ptype),
                code="parameter",
            )
            return None
        return int(number)

    def checks(self, doc: dict[str, Any]) -> tuple[list[Test], list[DocumentCheck], list[Test], list[DocumentCheck]]:
        """The cross-cutting checks: applicant checks, applicant document checks, item checks, item document checks."""
        applicant_checks: list[Test] = []
        applicant_doc_checks: list[DocumentCheck] = []
        item_checks: list[Test] = []
        item_doc_checks: list[DocumentCheck] = []
        for i, check in enumerate(doc.get("checks", [])):
            path: Path_ = ("checks", i)
            self.unique_id(check["id"], path + ("id",), "check")
            cites = self.citation(check["cites"], path + ("cites",))
            kinds = self.codes(check["who"], doc["applicant_kinds"], path + ("who",), "applicant kind") if "who" in check else None
            level = check["level"]
            types = None
            if "applies_to" in check:
                if level == "applicant":
                    self.error(
                        path + ("applies_to",), msg("loading.compile.applies_makes_sense_applicant"), msg("loading.compile.level_item")
                    )
                types = self.codes(check["applies_to"], doc["item_types"], path + ("applies_to",), "item type")
            says = Text(check["says"]["zh"], check["says"]["en"])
            listed = check.get("readings", ())
            readings = tuple(r for r in listed if isinstance(r, str))
            notes = self.note_refs(check, path)
            if "test" in check:
                self.param_sink = []
                e, applies = self.applying_test(check, path, sorted(types) if types is not None else None, level == "item", ())
                self.check_uses[check["id"]], self.param_sink = tuple(self.param_sink), None
                if e is None:
                    continue
                shows = self.shows(check.get("shows"), path + ("shows",), sorted(types) if types is not None else None, level == "item")
                chosen = self.readings_when(listed, path + ("readings",), types, level == "item")
                test = Test(check["id"], cites, check["category"], e, says, readings, kinds, types, notes, shows, chosen, applies)
                (applicant_checks if level == "applicant" else item_checks).append(test)
            else:
                if "applies" in check:
                    self.error(
                        path + ("applies",),
                        msg("loading.compile.applies_needs_test"),
                        msg("loading.compile.applies_with_test"),
                        code="applies",
                    )
                needs = self.document_needs(check["documents"], path + ("documents",), types, level == "item")
                dc = DocumentCheck(check["id"], cites, needs, says, readings, kinds, types, check["category"], notes)
                (applicant_doc_checks if level == "applicant" else item_doc_checks).append(dc)
        return applicant_checks, applicant_doc_checks, item_checks, item_doc_checks

    def readings_when(
        self, listed: Any, path: Path_, types: frozenset[str] | None, item_level: bool
    ) -> tuple[tuple[str, CompiledExpression], ...]:
        """A check's readings named only where their `when:` holds ({id, when} entries), each condition compiled as
        its `test:` is. Item-level checks only: an applicant's standing is written by code that has no place for
        them."""
        out = []
        for j, entry in enumerate(listed):
            if not isinstance(entry, dict):
                continue
            if not item_level:
                self.error(
                    path + (j, "when"),
                    msg("loading.compile.reading_when_item_only"),
                    msg("loading.compile.level_item"),
                    code="reading_when",
                )
                continue
            e = self.expr(entry["when"], path + (j, "when"), sorted(types) if types is not None else None, allow_item=True)
            if e is not None and e.type not in (None, "boolean"):
                said = msg("loading.compile.when_must_yes", source=repr(e.source), type=e.type)
                self.error(path + (j, "when"), said, msg("loading.compile.comparison_yes_fact"))
            elif e is not None:
                out.append((entry["id"], e))
        return tuple(out)

    def shows(self, entries: Any, path: Path_, types: list[str] | None, item_level: bool) -> tuple[Shown, ...]:
        """A check's `shows:`: each value's expression compiled as its `test:` is (an item check's over the item's
        facts too), and its words."""
        if not entries:
            return ()
        out = []
        for j, entry in enumerate(entries):
            e = self.expr(entry["value"], path + (j, "value"), types, allow_item=item_level)
            if e is not None:
                out.append(Shown(e, Text(entry["zh"], entry.get("en") or entry["zh"])))
        return tuple(out)

    def words_bounded(self, rules: list[Rule], clauses: dict[str, Clause], readings: tuple[Note, ...], notes: tuple[Note, ...]) -> None:
        """Each rule's words within MAX_CARRIED_WORDS, said at the rule that passes it: `words_carried` (each
        condition's facts counted again, as a refusal shows them), and the labels of every fact an item of its type
        may show (its own, the claim's and the applicant's) and of the kinds and roles it takes."""
        doc = self.doc
        said = {n.id: len(n.text.zh) + len(n.text.en) for n in notes}
        cited = {n.id: len(n.text.zh) + len(n.text.en) for n in readings}
        quoted = {key: len(c.text) + len(c.en) for key, c in clauses.items()}
        tables = {name: doc.get(name) or {} for name in ("applicant_kinds", "applicant_roles", "documents")}
        documents = {code: _label_words(label) for code, label in tables["documents"].items()}
        kinds = {code: _label_words(label) for code, label in tables["applicant_kinds"].items()}
        roles = {code: _label_words(label) for code, label in tables["applicant_roles"].items()}
        facts = doc.get("facts") or {}
        shown = {
            f"{space}.{name}": _fact_words(spec, tables)
            for space, table in (("claim", facts.get("claim")), ("applicant", facts.get("applicant")), ("item", doc.get("item_facts")))
            for name, spec in (table.items() if isinstance(table, dict) else ())
        }
        types = doc.get("item_types") or {}
        at = {r.get("id"): i for i, r in enumerate(doc["rules"]) if isinstance(r, dict)}
        for rule in rules:
            own = (types.get(rule.item_type) or {}).get("facts")
            read = shown | {f"item.{name}": _fact_words(spec, tables) for name, spec in (own.items() if isinstance(own, dict) else ())}
            carried = words_carried(rule, quoted, cited, said, documents, read) + sum(read.values())
            carried += sum(kinds.get(k, 0) for k in rule.kinds) + sum(roles.get(r, 0) for r in rule.roles)  # (its "who" line)
            if carried > MAX_CARRIED_WORDS:
                self.error(
                    ("rules", at.get(rule.id, 0)),
                    msg("loading.compile.words_too_many", id=rule.id, n=f"{carried:,}", limit=f"{MAX_CARRIED_WORDS:,}"),
                    msg("loading.compile.words_too_many_expected"),
                    code="too_large",
                )

    def rules(
        self,
        doc: dict[str, Any],
        shared_caps: dict[str, Any],
        shared_limits: dict[str, Any],
        item_checks: list[Test],
        item_doc_checks: list[DocumentCheck],
    ) -> tuple[list[Rule], dict[str, Rule]]:
        """The rules, one per item type; an item type with no rule and a shared cap or limit no rule uses are errors."""
        rules: list[Rule] = []
        rules_by_type: dict[str, Rule] = {}
        used_shared: set[str] = set()
        for i, r in enumerate(doc["rules"]):
            rule = self.rule(r, ("rules", i), shared_caps, shared_limits, used_shared, item_checks, item_doc_checks)
            if rule is None:
                continue
            if rule.item_type in rules_by_type:
                self.error(
                    ("rules", i, "item_type"),
                    msg(
                        "loading.compile.item_type_already_decided",
                        item_type=repr(rule.item_type),
                        id=repr(rules_by_type[rule.item_type].id),
                    ),
                    msg("loading.compile.exactly_one_rule_per"),
                    code="duplicate_item_type",
                )
                continue
            rules.append(rule)
            rules_by_type[rule.item_type] = rule
        for type_name in doc["item_types"]:
            if type_name not in rules_by_type and not any(p.path[:1] == ("rules",) for p in self.problems):
                self.error(
                    ("item_types", type_name),
                    msg("loading.compile.item_type_has_rule", type_name=repr(type_name)),
                    msg("loading.compile.rule_this_item_type"),
                    code="no_rule",
                )
        for name, (_, path) in {**shared_caps, **shared_limits}.items():
            if name not in used_shared:
                self.error(
                    path,
                    msg("loading.compile.shared_cap_limit_used", name=repr(name)),
                    msg("loading.compile.rule_listing_shared", name=name),
                    code="cap_on_nothing",
                )
        return rules, rules_by_type

    def budget(self, budget: dict[str, Any]) -> Decimal:
        """The round budget, a whole number of its scaling quantum."""
        budget_amount = self.amount(budget["amount"], ("policy", "round_budget", "amount"))
        self.citation(budget.get("cites"), ("policy", "round_budget", "cites"))
        b_quantum = (budget.get("rounding") or {}).get("quantum")
        if b_quantum is not None and budget_amount % Decimal(str(b_quantum)) != 0:
            self.error(
                ("policy", "round_budget", "amount"),
                msg("loading.compile.budget_whole_number_scaling", amount=budget["amount"], b_quantum=b_quantum),
                msg("loading.compile.multiple_2", b_quantum=b_quantum),
                code="amount",
            )
        return budget_amount

    def behaviours(self, head: dict[str, Any]) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        """Each behaviour of the engine the policy names (`policy.behaviours`; the schema knows the names, `readings`
        checks its reading ids) -> its readings and notes; a rounding's readings as `rounded`."""
        out: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        for name, said in (head.get("behaviours") or {}).items():
            notes = self.note_refs(said, ("policy", "behaviours", name))
            if said.get("readings") or notes:
                out[name] = (tuple(said.get("readings", ())), notes)
        rounding = tuple(head["rounding"].get("readings", ()))
        if rounding:
            out["rounded"] = (rounding, ())
        return out

    def note_refs(self, node: dict[str, Any], path: Path_) -> tuple[str, ...]:
        """The note ids `node` lists (each must be among policy.notes)."""
        refs = node.get("notes", [])
        for j, ref in enumerate(refs):
            if ref not in self.note_ids:
                known = msg("loading.compile.note_id", ids=self.note_order) if self.note_order else msg("loading.compile.notes_list")
                self.error(
                    path + ("notes", j),
                    msg("loading.compile.note_among_policy_notes", ref=repr(ref)),
                    _guess(suggest_id(ref, self.note_order) if isinstance(ref, str) else None, known),
                )
        return tuple(refs)

    def readings(self, doc: dict[str, Any]) -> tuple[Reading, ...]:
        """The top-level readings (ids unique), and every `readings: [...]` list anywhere in the file checked
        against them: one pass over the document's values (at most the loader's 50,000), so a section added
        later is checked without knowing it."""
        out: list[Reading] = []
        seen: dict[str, Path_] = {}
        for i, r in enumerate(doc.get("readings", [])):
            if r["id"] in seen:
                line, _ = self.src.where(seen[r["id"]])
                self.error(
                    ("readings", i, "id"),
                    msg("loading.compile.duplicate_reading_id_already", id=repr(r["id"]), line=line),
                    msg("loading.compile.ids_unique_among_readings"),
                )
                continue
            seen[r["id"]] = ("readings", i, "id")
            out.append(Reading(r["id"], Text(r["zh"], r["en"])))
        stack: list[tuple[Any, Path_]] = [(v, (k,)) for k, v in doc.items() if k != "readings"]
        while stack:
            node, path = stack.pop()
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "readings" and isinstance(v, list):
                        self.reading_refs(v, path + (k,), seen)
                    else:
                        stack.append((v, path + (k,)))
            elif isinstance(node, list):
                stack.extend((v, path + (j,)) for j, v in enumerate(node))
        return tuple(out)

    def reading_refs(self, refs: list[Any], path: Path_, known: dict[str, Path_]) -> None:
        for j, ref in enumerate(refs):
            at = path + (j,)
            if isinstance(ref, dict):  # a check's reading named where its `when` holds
                ref, at = ref.get("id"), at + ("id",)
            if isinstance(ref, str) and ref not in known:
                close = suggest_id(ref, known)
                self.error(
                    at,
                    msg("loading.compile.reading_among_policy_s", ref=repr(ref)),
                    _guess(close, msg("loading.compile.reading_id") if known else msg("loading.compile.readings_list")),
                    code="unknown_reading",
                )

    def base_dir(self) -> Path:
        return Path(self.src.file).resolve().parent

    def check_source_text(self, clauses: dict[str, Clause]) -> None:
        rel = self.doc["policy"].get("source_text")
        if not rel:
            return
        try:
            text = read_beside(self.base_dir(), rel)
        except FileRefused as exc:
            # a missing file: the message it always had
            said = msg("loading.compile.source_text_missing", rel=repr(rel))
            if exc.code != "io":
                said = msg("loading.compile.source_text_cannot_read", rel=repr(rel), why=exc.message)
            self.error(
                ("policy", "source_text"),
                said,
                msg("loading.compile.path_utf_text_file"),
            )
            return
        text = text.replace("\r\n", "\n")  # (a text saved on Windows: YAML reads the clauses' line ends as \n)
        # Each text is searched once (clauses aliasing one text made a search each: 23,000 of a 20,000-character
        # text through 2 MiB took minutes), and where a text parts is sought for the first few clauses only: it
        # searches again for each half of the text.
        found: dict[str, bool] = {}
        parted_said = 0
        for key, clause in clauses.items():
            if clause.text not in found:
                found[clause.text] = clause.text in text
            if not found[clause.text]:
                said = msg("loading.compile.clause_text_verbatim", key_=key, rel=rel)
                parted_said += 1
                parted = _where_texts_part(clause.text, text) if parted_said <= CLAUSES_PARTED else None
                fix = msg("loading.compile.exact_words_measures")
                if parted is not None:  # (where the two part, as an officer compares them: 30 → 50 万元)
                    same, line, ours, theirs = parted
                    said = msg("loading.compile.clause_text_parts", said=said, n=same, line=line, ours=ours, theirs=theirs)
                    fix = _parting_fix(ours, theirs) or fix
                self.error(("clauses", key, "text"), said, fix, code="clause_text")

    def templates(self) -> dict[str, dict[str, str]]:
        """The `templates:` overrides, each `.j2` one as its text: a file it names read (confined to the
        policy's folder) and every template compiled in the sandbox now, so that a bad one is a load error."""
        overrides: dict[str, dict[str, str]] = self.doc.get("templates") or {}
        if not overrides:
            return {}
        from engine.language.templating import (
            MAX_TEMPLATE_CHARS,
            MAX_TEMPLATES_CHARS,
            check_template,
            engine_template_names,
            message_problems,
        )

        out: dict[str, dict[str, str]] = {}
        for scope, entries in overrides.items():
            if self.unknown_language(scope):
                continue
            out[scope] = {}
            for key, value in entries.items():
                path = ("templates", scope, key)
                if key == RETIRED_TEMPLATE:
                    self.error(
                        path,
                        msg("loading.compile.template_engine_s_explanations", key_=repr(key)),
                        msg("loading.compile.catalogue_message_key_template"),
                        code="template",
                    )
                    continue
                if not key.endswith(".j2") and self.unknown_message(key, scope, path):
                    continue
                if not key.endswith(".j2"):
                    for message in message_problems(value):
                        self.error(path, msg("loading.compile.message_6", key_=repr(key), message=message), code="template")
                    out[scope][key] = value
                    continue
                if _names_a_file(value):  # a file in the policy's folder
                    try:
                        value = read_beside(self.base_dir(), value.strip(), max_bytes=MAX_TEMPLATE_CHARS * 4)
                    except FileRefused as exc:
                        self.error(
                            path,
                            msg("loading.compile.template_2", key_=repr(key), message=exc.message),
                            msg("loading.compile.path_j_file_policy"),
                            code="template",
                        )
                        continue
                out[scope][key] = value
        total = sum(len(v) for entries in out.values() for k, v in entries.items() if k.endswith(".j2"))
        if total > MAX_TEMPLATES_CHARS:  # compiling takes about a second per 50,000 characters: not checked one by one
            self.error(
                ("templates",),
                msg("loading.compile.policy_s_templates_add", total=total, max_templates_chars=MAX_TEMPLATES_CHARS),
                code="template",
            )
            return out
        engine = engine_template_names()
        for scope, entries in out.items():
            # what a template of this scope may include: the engine's, the policy's for every language, its own language's
            known = engine | {k for k in out.get("all", {}) if k.endswith(".j2")} | {k for k in entries if k.endswith(".j2")}
            for key, value in entries.items():
                if key.endswith(".j2"):
                    for message, line in check_template(value, key, known):
                        said = msg("loading.compile.template_2", key_=repr(key), message=message)
                        if line is not None:
                            said = msg("loading.compile.template", key_=repr(key), line=line, message=message)
                        self.error(
                            ("templates", scope, key),
                            said,
                            msg("loading.compile.jinja_template_using_engine"),
                            code="template",
                        )
        return out

    def unknown_language(self, scope: str) -> bool:
        """`templates: {cn: ...}` (or `zh-CN:`): a language no explanation is written in, whose overrides would never be used."""
        scopes = ["all", *i18n.languages()]
        if scope in scopes:
            return False
        self.error(
            ("templates", scope),
            msg("loading.compile.template_scope", scope=repr(scope)),
            _guess(suggest(scope, scopes), msg("loading.compile.template_scopes", scopes=scopes)),
            code="template",
        )
        return True

    def unknown_message(self, key: str, scope: str, path: Path_) -> bool:
        """A message override whose key is no message of the catalogue it would change (each language for `all`):
        said now, with the nearest key, rather than when an explanation is first written."""
        langs = i18n.languages() if scope == "all" else (scope,)
        missing = [lang for lang in langs if key not in i18n.message_keys(lang)]
        if not missing:
            return False
        close = suggest(key, i18n.message_keys(missing[0]))
        self.error(
            path,
            msg("loading.compile.no_such_message", key_=repr(key), lang=missing[0]),
            _guess(close, msg("loading.compile.message_key_expected")),
            code="template",
        )
        return True

    def document_needs(self, needs: list[Any], path: Path_, item_types: Iterable[str] | None, allow_item: bool) -> tuple[DocumentNeed, ...]:
        out = []
        types = sorted(item_types) if item_types is not None else None
        for j, need in enumerate(needs):
            code = need if isinstance(need, str) else need["doc"]
            if code not in self.doc.get("documents", {}):
                close = suggest(code, self.doc.get("documents", {}))
                self.error(
                    path + (j,) if isinstance(need, str) else path + (j, "doc"),
                    msg("loading.compile.unknown_document", code=repr(code)),
                    _guess(close, msg("loading.compile.key_documents")),
                    code="unknown_document",
                )
                continue
            when = None
            if isinstance(need, dict) and "when" in need:
                # an item's document may depend on its computed amount; the applicant's documents have none
                when = self.expr(need["when"], path + (j, "when"), types, allow_item, COMPUTED_NAMES if allow_item else ())
            out.append(DocumentNeed(code, when))
        return tuple(out)

    def shared_scope(self, c: dict[str, Any], path: Path_, item_type: str) -> None:
        """A shared cap or limit is compiled once; its scope (and a computed ceiling) must also make sense for every
        other item type using it (compiled again here, its parameter uses go to this rule's trace too)."""
        for field in ("per", "counting"):
            if isinstance(c.get(field), list):
                for k, e in enumerate(c[field]):
                    self.expr(e, path + (field, k), [item_type])
        if isinstance(c.get("max"), dict):
            self.computed_ceiling(c["max"], path + ("max",), item_type)
        if "when" in c:
            self.applicability({"when": c["when"]}, path, item_type)

    def applicability(
        self, c: dict[str, Any], path: Path_, item_type: str
    ) -> tuple[frozenset[str] | None, CompiledExpression | None, bool]:
        """A cap's or limit's `who:` (applicant kinds) and `when:` (a yes/no expression), each None when absent;
        the last value is False when either is in error (reported here)."""
        kinds = None
        if "who" in c:
            if not c["who"]:
                self.error(
                    path + ("who",),
                    msg("loading.compile.empty_who_applies_nobody"),
                    msg("loading.compile.who_applicant_kind_who"),
                    code="cap_on_nothing",
                )
                return None, None, False
            kinds = self.codes(c["who"], self.doc["applicant_kinds"], path + ("who",), "applicant kind")
        cond = None
        if "when" in c:
            cond = self.expr(c["when"], path + ("when",), [item_type])
            if cond is None:
                return kinds, None, False
            if cond.type not in (None, "boolean"):
                self.error(
                    path + ("when",),
                    msg("loading.compile.when_must_yes", source=repr(cond.source), type=cond.type),
                    msg("loading.compile.comparison_yes_fact"),
                )
                return kinds, None, False
        return kinds, cond, True

    def computed_ceiling(self, m: dict[str, Any], path: Path_, item_type: str) -> RateAmount | TableAmount | None:
        """`max: {of: EXPR}` (rate 1), `{rate: R, of: EXPR}` or `{by: EXPR, table: {...}, otherwise: ...}`."""
        if "table" in m:
            return self.keyed(m, path, item_type, "amount")
        return self.rate_form(m, path, item_type, _text(m.get("base")), Decimal(1))

    def numeric(self, compiled: CompiledExpression | None, path: Path_, what: str) -> CompiledExpression | None:
        """`compiled`, the base (`what` "base") or the count ("count") an amount multiplies; refused here when it can
        only be something else (a date, a text, yes or no, a sum of money as a count): every claim would fail at run
        time, as a traceback, or be paid a yes/no as a number."""
        kind = compiled.type if compiled is not None else None
        allowed = NUMBERS if what == "base" else frozenset({COUNT, INTEGER, NUM})
        if compiled is not None and kind is not None and kind not in allowed:
            said = msg(f"loading.compile.{what}_not_number", source=repr(compiled.source), kind=kind_word(kind))
            self.error(path, said, msg(f"loading.compile.{what}_expected"), code="amount")
        return compiled

    def rate_form(self, a: dict[str, Any], path: Path_, item_type: str, base: Text | None, default: Decimal) -> RateAmount | None:
        """`{rate: R, of: B}` (an amount or a computed ceiling; no `rate`: `default`): R a rate or a rate table
        `{by:, table:}`, B an expression or an amount table `{by:, table:}` (two-dimensional amounts, G5)."""
        of_table = None
        if isinstance(a["of"], dict):  # the base chosen by a scalar: {by:, table:, otherwise:} of amounts
            of_table = self.keyed(a["of"], path + ("of",), item_type, "amount")
            of = of_table.by if of_table is not None else None
        else:
            of = self.numeric(self.expr(a["of"], path + ("of",), [item_type]), path + ("of",), "base")
        if isinstance(a.get("rate"), dict):  # a rate chosen by a scalar: {by:, table:, otherwise:}
            rates = self.keyed(a["rate"], path + ("rate",), item_type, "rate")
            return RateAmount(Decimal(0), of, base=base, rate_table=rates, of_table=of_table) if of and rates else None
        rate = self.rate(a["rate"], path + ("rate",)) if "rate" in a else default
        return RateAmount(rate, of, base=base, of_table=of_table) if of else None

    def scope_label(self, per: Any, item_type: str, what: str, times: int = 0) -> Text:
        """The words of a cap or limit that has no `says`, from its scope: never empty (单项封顶 / cap per item,
        按申请人、申报年度累计封顶 / cap per applicant and funding year, 按…限2次 / at most 2 times per …)."""
        if per == "item":
            return Text("单项封顶", "cap per item")
        zh, en = [], []
        for e in per if isinstance(per, list) else []:
            facts = [f for f in self.expr_facts(e) if "." in f]
            labels = [s.label for f in facts for s in self.fact_specs(f.split(".", 1)[0], f.split(".", 1)[1], [item_type])[:1]]
            zh.append("/".join(x.zh for x in labels) or "范围")
            en.append("/".join(x.en for x in labels) or "scope")
        if what == "cap":
            return Text("按" + "、".join(zh) + "累计封顶", "cap per " + ", ".join(en))
        return Text("按" + "、".join(zh) + f"限{times}次", f"at most {times} time{'s' if times != 1 else ''} per " + ", ".join(en))

    def expr_facts(self, source: Any) -> tuple[str, ...]:
        """The facts an expression names (for labels; the expression is compiled, and checked, elsewhere)."""
        try:
            return compile_expression(source, lambda _n, _f: None, parameters=self.parameters).facts
        except ExpressionError:
            return ()

    def cap(self, c: dict[str, Any], path: Path_, item_type: str, rule_cites: str, shared: dict[str, Any], used: set[str]) -> Cap | None:
        if "shared" in c:
            name = c["shared"]
            if name not in shared:
                self.error(path + ("shared",), msg("loading.compile.shared_cap", name=repr(name)), msg("loading.compile.id_shared_caps"))
                return None
            used.add(name)
            c, path = shared[name]
            if name in self.compiled_caps:
                self.shared_scope(c, path, item_type)
                return self.compiled_caps[name]
        else:
            self.unique_id(c["id"], path + ("id",), "cap")
        notes = self.note_refs(c, path)
        per: tuple[CompiledExpression, ...] | None
        if c["per"] == "item":
            per = None
        else:
            if not c["per"]:
                self.error(
                    path + ("per",),
                    msg("loading.compile.cap_empty_scope_cap"),
                    msg("loading.compile.per_applicant_id_per"),
                    code="cap_on_nothing",
                )
                return None
            compiled = [self.expr(e, path + ("per", k), [item_type]) for k, e in enumerate(c["per"])]
            if any(e is None for e in compiled):
                return None
            per = tuple(e for e in compiled if e is not None)
        computed = self.computed_ceiling(c["max"], path + ("max",), item_type) if isinstance(c["max"], dict) else None
        if isinstance(c["max"], dict) and computed is None:
            return None
        kinds, applies_when, ok = self.applicability(c, path, item_type)
        if not ok:
            return None
        says = _text(c.get("says"))
        cap = Cap(
            id=c["id"],
            ceiling=Decimal(0) if computed is not None else self.amount(c["max"], path + ("max",)),
            per=per,
            cites=self.citation(c.get("cites"), path + ("cites",)) or rule_cites,
            says=says or self.scope_label(c["per"], item_type, "cap"),
            readings=tuple(c.get("readings", ())),
            notes=notes,
            computed=computed,
            generated_says=says is None,
            kinds=kinds,
            applies_when=applies_when,
        )
        self.compiled_caps[cap.id] = cap
        return cap

    def limit(
        self, c: dict[str, Any], path: Path_, item_type: str, rule_cites: str, shared: dict[str, Any], used: set[str]
    ) -> Limit | None:
        if "shared" in c:
            name = c["shared"]
            if name not in shared:
                self.error(
                    path + ("shared",), msg("loading.compile.shared_limit", name=repr(name)), msg("loading.compile.id_shared_limits")
                )
                return None
            used.add(name)
            c, path = shared[name]
            if name in self.compiled_limits:
                self.shared_scope(c, path, item_type)
                return self.compiled_limits[name]
        else:
            self.unique_id(c["id"], path + ("id",), "limit")
        notes = self.note_refs(c, path)
        if not c["per"]:
            self.error(
                path + ("per",),
                msg("loading.compile.limit_empty_scope_limit"),
                msg("loading.compile.per_applicant_id"),
                code="cap_on_nothing",
            )
            return None
        per = [self.expr(e, path + ("per", k), [item_type]) for k, e in enumerate(c["per"])]
        counting = [self.expr(e, path + ("counting", k), [item_type]) for k, e in enumerate(c.get("counting", []))]
        kinds, applies_when, ok = self.applicability(c, path, item_type)
        if any(e is None for e in per + counting) or not ok:
            return None
        limit = Limit(
            id=c["id"],
            times=c["times"],
            per=tuple(e for e in per if e is not None),
            counting=tuple(e for e in counting if e is not None) or None,
            cites=self.citation(c.get("cites"), path + ("cites",)) or rule_cites,
            says=_text(c.get("says")) or self.scope_label(c["per"], item_type, "limit", c["times"]),
            readings=tuple(c.get("readings", ())),
            notes=notes,
            kinds=kinds,
            applies_when=applies_when,
            unit=_text(c.get("unit")),
            consecutive=bool(c.get("consecutive", False)),
        )
        if limit.consecutive and not self.counts_years(limit):
            self.error(path + ("counting",), msg("loading.compile.consecutive_counting"), msg("loading.compile.consecutive_counting_fix"))
            return None
        self.compiled_limits[limit.id] = limit
        return limit

    @staticmethod
    def counts_years(limit: Limit) -> bool:
        """Whether a consecutive limit counts one whole number (the funding year) per item, as years in a row are."""
        return limit.counting is not None and len(limit.counting) == 1 and limit.counting[0].type == "integer"

    def amount_form(self, a: dict[str, Any], path: Path_, item_type: str) -> AmountForm | None:
        t = [item_type]
        base = _text(a.get("base"))
        if "rate" in a:
            return self.rate_form(a, path, item_type, base, Decimal(1))
        if "fixed" in a:
            return FixedAmount(self.amount(a["fixed"], path + ("fixed",)))
        if "table" in a:
            return self.keyed(a, path, item_type, "amount")
        if "external" in a:
            src = self.expr(a["external"], path + ("external",), t)
            return ExternalAmount(src, _text(a.get("pending"))) if src else None
        if "bands" in a:
            of = self.numeric(self.expr(a["of"], path + ("of",), t), path + ("of",), "base")
            bands = []
            for n, b in enumerate(a["bands"]):
                bp = path + ("bands", n)
                bands.append(
                    Band(
                        self.amount(b["from"], bp + ("from",)),
                        self.amount(b["amount"], bp + ("amount",)) if "amount" in b else None,
                        self.rate(b["rate"], bp + ("rate",)) if "rate" in b else None,
                    )
                )
            starts = [b.start for b in bands]
            if starts != sorted(starts) or len(set(starts)) != len(starts):
                self.error(
                    path + ("bands",), msg("loading.compile.bands_must_increasing_order"), msg("loading.compile.from_then_larger_starts")
                )
            return BandsAmount(of, tuple(bands), base=base) if of else None
        if "per_unit" in a:
            count = self.numeric(self.expr(a["count"], path + ("count",), t), path + ("count",), "count")
            max_count = a.get("max_count")
            if max_count is not None and max_count > MAX_COUNT:  # it could never bind, and per_unit x it outgrows the decimal context
                self.error(
                    path + ("max_count",),
                    msg("loading.compile.max_count_more_than", max_count=max_count, max_count2=MAX_COUNT),
                    msg("loading.compile.count_most", max_count=MAX_COUNT),
                    code="amount",
                )
            unit = _text(a.get("unit")) or self.count_unit(count, item_type)
            per_unit = a["per_unit"]
            if not isinstance(per_unit, dict):
                return PerUnitAmount(self.amount(per_unit, path + ("per_unit",)), count, max_count, base=base, unit=unit) if count else None
            if "table" in per_unit:  # chosen by a scalar: 每件2000元，2025年起1500元
                table = self.keyed(per_unit, path + ("per_unit",), item_type, "amount")
                return PerUnitAmount(Decimal(0), count, max_count, base=base, unit=unit, per_unit_table=table) if count and table else None
            of = self.per_unit_of(per_unit["of"], path + ("per_unit", "of"), item_type)
            label = _text(per_unit.get("base"))
            return (
                PerUnitAmount(Decimal(0), count, max_count, base=base, unit=unit, per_unit_of=of, per_unit_base=label)
                if count and of
                else None
            )
        parts = [self.amount_form(p, path + ("least", k), item_type) for k, p in enumerate(a["least"])]
        if any(p is None for p in parts):
            return None
        return LeastAmount(tuple(p for p in parts if p is not None))

    def per_unit_of(self, source: Any, path: Path_, item_type: str) -> CompiledExpression | None:
        """A computed sum per unit (`per_unit: {of: EXPR}`): refused here when it can only be something else than
        money (a percent, a count, a date): every item would be paid a rate or a number of pieces as yuan."""
        compiled = self.expr(source, path, [item_type])
        if compiled is not None and compiled.type is not None and compiled.type not in (MONEY, NUM):
            said = msg("loading.compile.per_unit_not_money", source=repr(compiled.source), kind=kind_word(compiled.type))
            self.error(path, said, msg("loading.compile.per_unit_expected"), code="amount")
        return compiled

    def count_unit(self, count: CompiledExpression | None, item_type: str) -> Text | None:
        """The unit word of a per-unit amount's count when it is a single fact that declares one (a `count` fact
        of LANG2 section 1, whose spec carries `unit` as Text); None: 项 / item."""
        if count is None or len(count.facts) != 1 or count.source != count.facts[0]:
            return None
        namespace, name = count.facts[0].split(".", 1)
        for spec in self.fact_specs(namespace, name, [item_type]):
            unit = getattr(spec, "unit", None)
            if isinstance(unit, Text):
                # the Chinese unit word reads after 每; in English a count's unit is a plural ("3 pieces"), so "per unit"
                return Text(unit.zh, "unit")
        return None

    def keyed(self, a: dict[str, Any], path: Path_, item_type: str, values: str) -> TableAmount | None:
        """`{by: EXPR, table: {key: value}, otherwise: value}`: the keys checked against what `by` yields (a fact's
        enum values, true/false for a yes/no fact, whole numbers for an integer one), held as `table_key` text;
        `values` says what the entries are ("amount" or "rate"). An enum or yes/no table covers every value or
        gives `otherwise`; an integer or text one without `otherwise` refuses a value it does not list."""
        by = self.expr(a["by"], path + ("by",), [item_type])
        parse = self.amount if values == "amount" else self.rate
        spec = None
        if by is not None and len(by.facts) == 1 and by.source == by.facts[0]:
            namespace, name = by.facts[0].split(".", 1)
            specs = self.fact_specs(namespace, name, [item_type])
            spec = specs[0] if specs else None
        ftype = spec.type if spec is not None else None
        outcomes: tuple[str, ...] | None = None  # the texts a `by` of quoted literals can give ('a' if c else 'b')
        if spec is None and by is not None:
            if by.type in ("boolean", "integer", "count"):  # an expression: keyed like a fact of its static type
                ftype = by.type
            else:
                outcomes = literal_outcomes(by.source)
        table: dict[str, Decimal] = {}
        refused: list[str] = []  # keys said to be no value of `by` (`excelence`), each with its did-you-mean
        for k, v in a["table"].items():
            key = self.table_entry_key(k, ftype, spec, by, path + ("table", k), outcomes)
            if key is None:
                refused.append(str(k))
            if key is not None:
                if key in table:
                    self.error(
                        path + ("table", k),
                        msg("loading.compile.key_same_key_as", k=repr(k), key_=key),
                        msg("loading.compile.one_entry_per_value"),
                        code="table_key",
                    )
                table[key] = parse(v, path + ("table", k))
        otherwise = parse(a["otherwise"], path + ("otherwise",)) if "otherwise" in a else None
        expected = ("true", "false") if ftype == "boolean" else (spec.values if spec is not None and spec.values is not None else outcomes)
        if by is not None and expected is not None and otherwise is None:
            meant = {suggest(k, expected) for k in refused}  # a value a misspelt key was meant for: said there, once
            missing = [v for v in expected if v not in table and v not in meant]
            if missing:
                self.error(
                    path + ("table",),
                    msg(f"loading.compile.table_has_{values}", names=list(missing)),
                    msg(f"loading.compile.every_value_{values}", source=by.source),
                    code="semantic",  # (the code it always had)
                )
        complete = otherwise is not None or expected is not None  # (an uncovered yes/no or enum table is a load error above)
        return TableAmount(by, table, otherwise=otherwise, base=_text(a.get("base")), complete=complete) if by else None

    def table_entry_key(
        self, key: str, ftype: str | None, spec: FactSpec | None, by: Any, path: Path_, outcomes: tuple[str, ...] | None = None
    ) -> str | None:
        """A table key as `table_key` text, or None (with the error) when it is not a value `by` can take."""
        if by is None:
            return key
        if outcomes is not None and key not in outcomes:
            close = suggest(key, outcomes)
            self.error(
                path,
                msg("loading.compile.never_gives", source=by.source, key_=repr(key)),
                _guess(close, msg("loading.compile.gives", names=list(outcomes))),
                code="unknown_value",
            )
            return None
        if ftype == "boolean":
            if key not in ("true", "false"):
                self.error(
                    path,
                    msg("loading.compile.yes_key_true_false", source=by.source, key_=repr(key)),
                    msg("loading.compile.true_false_unquoted"),
                    code="table_key",
                )
                return None
            return key
        if ftype in ("integer", "count"):
            try:
                number = Decimal(key.strip())
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite() or number != number.to_integral_value():
                self.error(
                    path,
                    msg("loading.compile.whole_number_key_one", source=by.source, key_=repr(key)),
                    msg("loading.compile.whole_number_such_as"),
                    code="table_key",
                )
                return None
            return str(int(number))
        if spec is not None and spec.values is not None and key not in spec.values:
            close = suggest(key, spec.values)
            self.error(
                path,
                msg("loading.compile.never", source=by.source, key_=repr(key)),
                _guess(close, msg("loading.compile.values", names=list(spec.values))),
                code="unknown_value",
            )
            return None
        if ftype in ("money", "decimal", "percent"):
            try:
                return table_key(Decimal(key.strip()))
            except InvalidOperation:
                self.error(
                    path,
                    msg("loading.compile.number_key_one", source=by.source, key_=repr(key)),
                    msg("loading.compile.number_such_as"),
                    code="table_key",
                )
                return None
        if ftype is not None and ftype not in ("enum", "string", "identifier", "item_type"):
            self.error(
                path,
                msg("loading.compile.table_cannot_keyed_fact", source=by.source, ftype=ftype),
                msg("loading.compile.yes_enum_integer_text"),
                code="table_key",
            )
            return None
        return key

    def condition(self, rule_id: str, j: int, w: dict[str, Any], wp: Path_, cites: str, item_type: str) -> Test | None:
        """The rule's `when` entry `j`, as a test `<rule>#when<j+1>` (citing the rule's clause unless it names its own)."""
        notes = self.note_refs(w, wp)
        e, applies = self.applying_test(w, wp, [item_type], True, COMPUTED_NAMES)
        if e is None:
            return None
        cites = self.citation(w.get("cites"), wp + ("cites",)) or cites
        says = Text(w["says"]["zh"], w["says"]["en"])
        readings = tuple(w.get("readings", ()))
        return Test(f"{rule_id}#when{j + 1}", cites, w.get("category", "condition"), e, says, readings, notes=notes, applies=applies)

    def applying_test(
        self, entry: dict[str, Any], path: Path_, types: list[str] | None, item_level: bool, names: Iterable[str]
    ) -> tuple[CompiledExpression | None, CompiledExpression | None]:
        """A check's or condition's `test:`, and its `applies:` (None without one). With `applies`, the test decided
        is `not (applies) or (test)`: where it does not apply the item passes, and an explanation says so (never
        while deciding: `applies` is worked out when the decision is written or explained). Each part is compiled
        alone first, so that a slip is placed in its own key; the look-ups traced are the decided expression's."""
        if "applies" not in entry:
            return self.expr(entry["test"], path + ("test",), types, allow_item=item_level, names=names), None
        if not item_level:
            self.error(path + ("applies",), msg("loading.compile.applies_item_only"), msg("loading.compile.level_item"), code="applies")
            return self.expr(entry["test"], path + ("test",), types, allow_item=False, names=names), None
        sink, self.param_sink = self.param_sink, None
        test = self.expr(entry["test"], path + ("test",), types, allow_item=True, names=names)
        applies = self.expr(entry["applies"], path + ("applies",), types, allow_item=True)  # (facts only: no amount)
        self.param_sink = sink
        if applies is not None and applies.type not in (None, "boolean"):
            said = msg("loading.compile.applies_must_yes", source=repr(applies.source), type=applies.type)
            self.error(path + ("applies",), said, msg("loading.compile.comparison_yes_fact"), code="applies")
            return None, None
        if test is None or applies is None:
            return None, None
        decided = self.expr(f"not ({entry['applies']}) or ({entry['test']})", path + ("test",), types, allow_item=True, names=names)
        return decided, applies

    # long because: one rule's parts compiled in the order written (who, checks, amount, subject, caps, limits,
    # documents) and the parameter look-ups they make collected on the way; split, each part would pass them around
    def rule(
        self,
        r: dict[str, Any],
        path: Path_,
        shared_caps: dict[str, Any],
        shared_limits: dict[str, Any],
        used_shared: set[str],
        item_checks: list[Test],
        item_doc_checks: list[DocumentCheck],
    ) -> Rule | None:
        self.unique_id(r["id"], path + ("id",), "rule")
        cites = self.citation(r["cites"], path + ("cites",))
        item_type = r["item_type"]
        if item_type not in self.doc["item_types"]:
            close = suggest(item_type, self.doc["item_types"])
            self.error(
                path + ("item_type",),
                msg("loading.compile.unknown_item_type", item_type=repr(item_type)),
                _guess(close, msg("loading.compile.key_item_types")),
                code="unknown_item_type",
            )
            return None
        rule_notes = self.note_refs(r, path)
        self.param_sink = []
        kinds = self.codes(r["who"]["kinds"], self.doc["applicant_kinds"], path + ("who", "kinds"), "applicant kind")
        roles = self.codes(r["who"].get("roles", []), self.doc.get("applicant_roles", {}), path + ("who", "roles"), "applicant role")
        when = [self.condition(r["id"], j, w, path + ("when", j), cites, item_type) for j, w in enumerate(r.get("when", []))]
        tests = [t for t in when if t is not None]
        amount = self.amount_form(r["amount"], path + ("amount",), item_type) if "amount" in r else None
        subject = self.subject(r, path, item_type, cites)
        caps = [self.cap(c, path + ("caps", j), item_type, cites, shared_caps, used_shared) for j, c in enumerate(r.get("caps", []))]
        limits = [
            self.limit(c, path + ("limits", j), item_type, cites, shared_limits, used_shared) for j, c in enumerate(r.get("limits", []))
        ]
        docs = self.document_needs(r.get("documents", []), path + ("documents",), [item_type], True)
        self.amount_used(r, tests, docs, path)
        for part, parts in (("caps", caps), ("limits", limits)):
            for j, c in enumerate(parts):
                if c is not None and c.kinds is not None and kinds and c.kinds.isdisjoint(kinds):
                    self.error(
                        path + (part, j),
                        msg(f"loading.compile.applies_to_none_{part}", id=c.id, names=sorted(c.kinds)),
                        msg(f"loading.compile.who_kind_among_{part}", names=sorted(kinds)),
                    )
        applicable = tuple(c for c in item_checks if c.item_types is None or item_type in c.item_types)
        applicable_docs = tuple(c for c in item_doc_checks if c.item_types is None or item_type in c.item_types)
        self.carried(r["id"], path, applicable, len(applicable_docs), len(tests) + len(caps) + len(limits))
        uses = [u for c in applicable for u in self.check_uses.get(c.id, ())] + self.param_sink
        self.param_sink = None
        return Rule(
            id=r["id"],
            cites=cites,
            item_type=item_type,
            kinds=kinds,
            roles=roles,
            when=tuple(tests),
            amount=amount,
            referral=_text(r["referral"]["to"]) if "referral" in r else None,
            subject=subject,
            caps=tuple(c for c in caps if c is not None),
            limits=tuple(c for c in limits if c is not None),
            documents=docs,
            documents_required=r.get("documents_required", True),
            readings=tuple(r.get("readings", ())),
            item_checks=applicable,
            item_document_checks=applicable_docs,
            notes=rule_notes,
            selection=self.selection(r, path, item_type, cites),
            param_uses=merged_uses(uses),
        )

    def carried(self, rule_id: str, path: Path_, checks: tuple[Test, ...], doc_checks: int, own: int) -> None:
        """The item-level checks a rule carries (`checks`, and `doc_checks` of documents) within the bounds: their text
        and their number over all rules (MAX_CARRIED_CHECK_TEXT, MAX_CARRIED_CHECKS: each said once, at the rule that
        passes it), and with the rule's `own` conditions, caps and limits, the checks one item goes through
        (MAX_ITEM_CHECKS, said at each rule past it)."""
        text_before, self.carried_check_text = (
            self.carried_check_text,
            self.carried_check_text + sum(len(c.expression.source) for c in checks),
        )
        if text_before <= MAX_CARRIED_CHECK_TEXT < self.carried_check_text:
            carried = msg("loading.compile.carried_checks_too_large", limit=MAX_CARRIED_CHECK_TEXT)
            self.error(path, carried, msg("loading.compile.expressions_too_large_expected"), code="too_large")
        before, self.carried_checks = self.carried_checks, self.carried_checks + len(checks) + doc_checks
        if before <= MAX_CARRIED_CHECKS < self.carried_checks:
            many = msg("loading.compile.carried_checks_too_many", limit=f"{MAX_CARRIED_CHECKS:,}")
            self.error(path, many, msg("loading.compile.expressions_too_large_expected"), code="too_large")
        if (n := len(checks) + doc_checks + own) > MAX_ITEM_CHECKS:
            said = msg("loading.compile.item_checks_too_many", id=rule_id, n=f"{n:,}", limit=f"{MAX_ITEM_CHECKS:,}")
            self.error(path, said, msg("loading.compile.item_checks_too_many_expected"), code="too_large")

    def subject(self, r: dict[str, Any], path: Path_, item_type: str, cites: str) -> Subject | None:
        """A rule's subject (only the highest / 补差); `later` only with pays: highest."""
        if "subject" not in r:
            return None
        subject = None
        s = r["subject"]
        keys = [self.expr(e, path + ("subject", "key", k), [item_type]) for k, e in enumerate(s["key"])]
        notes = self.note_refs(s, path + ("subject",))
        subject_cites = self.citation(s.get("cites"), path + ("subject", "cites")) or cites
        later = s.get("later", "nothing")
        if "later" in s and s["pays"] != "highest":
            self.error(
                path + ("subject", "later"),
                msg("loading.compile.later_applies_pays_highest", later=later, pays=s["pays"]),
                msg("loading.compile.pays_highest_later_difference"),
            )
        if all(k is not None for k in keys):
            subject = Subject(
                s["group"],
                tuple(k for k in keys if k is not None),
                s["pays"],
                subject_cites,
                tuple(s.get("readings", ())),
                notes,
                later,
                s.get("requires_earlier", False),
            )
        return subject

    def selection(self, r: dict[str, Any], path: Path_, item_type: str, rule_cites: str) -> Selection | None:
        """A rule's round selection: its scope and ranking keys compiled; `first` or `budget` (or both) given."""
        if "selection" not in r:
            return None
        s, sp = r["selection"], path + ("selection",)
        notes = self.note_refs(s, sp)
        if "amount" not in r:
            self.error(sp, msg("loading.compile.selection_ranks_items_rule"), msg("loading.compile.rule_amount"))
        if len(s["order"]) > MAX_ORDER_KEYS:  # (the schema says so too)
            self.error(
                sp + ("order",),
                msg("loading.compile.most_ranking_keys", max_order_keys=MAX_ORDER_KEYS),
                msg("loading.compile.keys_fewer", max_order_keys=MAX_ORDER_KEYS),
            )
        if "first" not in s and "budget" not in s:
            self.error(sp, msg("loading.compile.selection_needs_first_how"), msg("loading.compile.first_budget"))
        per = [self.expr(e, sp + ("per", k), [item_type]) for k, e in enumerate(s.get("per", []))]
        order = [self.expr(o["by"], sp + ("order", k, "by"), [item_type]) for k, o in enumerate(s["order"])]
        budget = self.amount(s["budget"], sp + ("budget",)) if "budget" in s else None
        cites = self.citation(s.get("cites"), sp + ("cites",)) or rule_cites
        if any(e is None for e in per + order):
            return None
        return Selection(
            id=f"{r['id']}#selection",
            per=tuple(e for e in per if e is not None),
            order=tuple(OrderKey(e, bool(o.get("descending", False))) for e, o in zip(order, s["order"], strict=True) if e is not None),
            first=s.get("first"),
            budget=budget,
            cites=cites,
            says=_text(s.get("says")) or _selection_label(s.get("first"), budget),
            readings=tuple(s.get("readings", ())),
            notes=notes,
        )

    def amount_used(self, r: dict[str, Any], tests: list[Test], docs: tuple[DocumentNeed, ...], path: Path_) -> None:
        """`amount` in a rule's `when` tests or document conditions needs an amount to read."""
        if "amount" in r:
            return
        for j, t in enumerate(tests):
            if t.expression.computed:
                self.error(path + ("when", j, "test"), msg("loading.compile.amount_used_but_this_2"), msg("loading.compile.rule_amount_3"))
        if any(n.when is not None and n.when.computed for n in docs):
            self.error(path + ("documents",), msg("loading.compile.amount_used_but_this"), msg("loading.compile.rule_amount_2"))


def merged_uses(uses: Iterable[ParamUse]) -> tuple[ParamUse, ...]:
    """One use per parameter and date expression, in first-seen order; the look-up is traced when any of the uses'
    conditions holds (None, always, when any use is unconditional)."""
    merged: dict[tuple[str, str], ParamUse] = {}
    for use in uses:
        key = (use.parameter.name, use.date.source)
        seen = merged.get(key)
        if seen is None:
            merged[key] = use
        elif seen.when is not None:
            if use.when is None:
                merged[key] = ParamUse(seen.parameter, seen.date, None)
            else:
                more = tuple(w for w in use.when if all(w.source != u.source for u in seen.when))
                if more:
                    merged[key] = ParamUse(seen.parameter, seen.date, seen.when + more)
    return tuple(merged.values())


def words_carried(
    obj: Any,
    clauses: Mapping[str, int],
    readings: Mapping[str, int],
    notes: Mapping[str, int],
    documents: Mapping[str, int],
    facts: Mapping[str, int] | None = None,
) -> int:
    """Characters of the words a compiled rule (or any part of it) may put in one item's decision and explanation:
    every `Text` in both languages; the clause (`cites`), readings, notes and documents (`doc`) each part names, by
    their lengths in `clauses`, `readings`, `notes` and `documents`; and the facts each expression reads, by their
    labels' lengths in `facts` (a refusal shows each condition's facts with their values): counted at every use."""
    if isinstance(obj, Text):
        return len(obj.zh) + len(obj.en)
    if isinstance(obj, tuple | list | frozenset):
        return sum(words_carried(x, clauses, readings, notes, documents, facts) for x in obj)
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        return 0
    if isinstance(obj, CompiledExpression):
        return sum(facts.get(f, 0) for f in obj.facts) if facts else 0
    total = 0
    for field in dataclasses.fields(obj):
        value = getattr(obj, field.name)
        if field.name == "cites" and isinstance(value, str):
            total += clauses.get(value, 0)
        elif field.name == "doc" and isinstance(value, str):
            total += documents.get(value, 0)
        elif field.name == "readings":
            total += sum(readings.get(r, 0) for r in value)
        elif field.name == "notes":
            total += sum(notes.get(n, 0) for n in value)
        else:
            total += words_carried(value, clauses, readings, notes, documents, facts)
    return total


def _label_words(label: Any) -> int:
    """Characters of a label as the policy writes it ({zh, en}), both languages; 0 for anything else."""
    if not isinstance(label, dict):
        return 0
    return sum(len(v) for k, v in label.items() if k in ("zh", "en") and isinstance(v, str))


#: the most elements a list fact holds (`engine.deciding.claims.MAX_LIST`, a layer above this one)
LIST_FACT_ELEMENTS = 100


def _fact_words(spec: Any, tables: Mapping[str, Any]) -> int:
    """Characters of the labels one fact lets an item show: its own and its unit's, and of its values (written, or
    taken `values_from` a code table) the one an enum holds (its longest) or those a list may hold (its longest
    `LIST_FACT_ELEMENTS`): a fact of the 1,382 industries of GB/T 4754 shows one of them, not all."""
    if not isinstance(spec, dict):
        return 0
    values = spec.get("values")
    if not isinstance(values, dict):  # (a document list's codes are the documents catalogue's)
        values = tables.get(str(spec.get("values_from") or ("documents" if spec.get("type") == "document_list" else "")), {})
    sizes = sorted((_label_words(v) for v in values.values()), reverse=True) if isinstance(values, dict) else []
    shown = sum(sizes[: LIST_FACT_ELEMENTS if str(spec.get("type", "")).endswith("_list") else 1])
    return _label_words(spec) + _label_words(spec.get("unit")) + shown


def compile_policy(source: Source) -> tuple[CompiledPolicy | None, list[Problem]]:
    compiler = _Compiler(source)
    policy = compiler.compile()
    if policy is not None and compiler.chinese_only:
        policy = dataclasses.replace(policy, chinese_only=compiler.chinese_only)
    problems = sorted(compiler.problems, key=lambda p: (p.line or 0, p.column or 0))
    return policy, problems


def _written_alike(citation: str) -> str:
    """A citation as written alike: half-width brackets and digits, no spaces (第N条第(一)项 is 第N条第（一）项)."""
    return "".join(unicodedata.normalize("NFKC", citation).split())


def _where_texts_part(clause: str, text: str, shown: int = 12) -> tuple[int, int, str, str] | None:
    """Where a clause's text parts from the measures' text: (how many of its first characters the text has, the line
    of the text they stand on, the clause's next characters, the text's next ones); None when not even its first
    character is there. The longest such start is found by halving (a start found means every shorter one is)."""
    lo, hi = 0, len(clause)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if clause[:mid] in text:
            lo = mid
        else:
            hi = mid - 1
    if lo < 2:
        return None
    at = text.find(clause[:lo])
    return lo, text.count("\n", 0, at) + 1, clause[lo : lo + shown], text[at + lo : at + lo + shown].split("\n", 1)[0]


def _value_words(values: Any) -> tuple[tuple[str, Text], ...]:
    """(code, the policy's words for it) of a fact's values, where each is given words ({zh: …, en: …})."""
    if not isinstance(values, dict):
        return ()
    return tuple((str(k), Text(str(v["zh"]), str(v["en"]))) for k, v in values.items() if isinstance(v, dict) and "zh" in v and "en" in v)
