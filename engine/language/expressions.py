"""Expressions over claim facts: checked against an allow-list, compiled once.

A policy writes conditions and key expressions in simpleeval's language
(`item.patent_kind == "invention"`, `year(item.date) == claim.funding_year`).
At load we parse each one with Python's `ast`, check every node against the
allow-list below, rewrite fact references `item.x` into dictionary look-ups,
and compile the result into a plain function -- the way jinja2 compiles a
template. Evaluation never walks a tree and never parses.

simpleeval stays the reference for the language: `evaluate_with_simpleeval`
runs the same expression through it (used interactively and in tests that
check both agree).
"""

from __future__ import annotations

import ast
import calendar
import copy
import datetime as _dt
import difflib
import inspect
import io
import itertools
import re
import tokenize
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from simpleeval import EvalWithCompoundTypes

from engine.core.errors import ClaimError, Problem

NAMESPACES = ("claim", "applicant", "item")

#: Names an expression may use where the policy language allows them, for values the engine computes while
#: deciding an item (not facts): name -> what it is. `amount`: the item's amount after subject, limits and caps,
#: in a rule's `when` tests and in item-level document conditions (issue 13, point 8).
COMPUTED_NAMES: dict[str, str] = {"amount": "money"}
COMPUTED_WHERE = {"amount": "the item's amount after subject, limits and caps; usable in a rule's `when` tests and document conditions"}

MAX_SOURCE_CHARS = 2000
MAX_NODES = 400
MAX_STRING_LITERAL = 1000
MAX_INT_LITERAL = 10**15
MAX_DECIMAL_LITERAL = 40  # characters of a decimal literal's text (0.12345678901234567890 has 22)
MAX_DECIMAL_PLACES = 30  # digits after the point a literal may carry (1e-400 is refused)
MAX_DEPTH = 50  # nesting of the syntax tree; deeper trees are refused before any recursive walk


class MissingFact(LookupError):
    """An expression needed a fact the claim does not give: unknown, not false."""

    def __init__(self, fact: str) -> None:
        super().__init__(fact)
        self.fact = fact


class Facts(dict[str, Any]):
    """A namespace of facts. A missing key raises `MissingFact` naming `namespace.key`."""

    __slots__ = ("namespace",)

    def __init__(self, namespace: str, values: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
        super().__init__(values)
        self.namespace = namespace

    def __missing__(self, key: str) -> Any:
        raise MissingFact(f"{self.namespace}.{key}")


def _year(value: _dt.date) -> int:
    return value.year


def _add_years(value: _dt.date, years: int) -> _dt.date:
    """Same calendar date `years` later; 29 February becomes 28 February."""
    target = value.year + years
    if target > _dt.MAXYEAR:
        return _dt.date.max  # later than any real date: saturate instead of failing
    if target < _dt.MINYEAR:
        return _dt.date.min
    day = min(value.day, calendar.monthrange(target, value.month)[1])
    return value.replace(year=target, day=day)


def _clamped(year: int, month: int, day: int) -> _dt.date:
    """The date year-month-day, the day brought back to the month's last; saturated to the calendar's ends."""
    if year > _dt.MAXYEAR:
        return _dt.date.max  # later than any real date: saturate instead of failing
    if year < _dt.MINYEAR:
        return _dt.date.min
    return _dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _whole(n: Any, function: str) -> int:
    """A whole number of days, months or years (an int, or a Decimal without a fraction); else a TypeError."""
    if isinstance(n, bool) or not isinstance(n, int | Decimal) or n != int(n):
        raise TypeError(f"{function}() counts in whole numbers, not {n!r}")
    return int(n)


def _date_argument(value: Any, function: str) -> _dt.date:
    if not isinstance(value, _dt.date):
        raise TypeError(f"{function}() takes a date, not {type(value).__name__}")
    return value


def _add_days(value: _dt.date, days: int) -> _dt.date:
    """The date `days` later (earlier when negative); saturated to the calendar's ends."""
    start, n = _date_argument(value, "add_days"), _whole(days, "add_days")
    limit_days = (_dt.date.max - start).days if n > 0 else (start - _dt.date.min).days
    if abs(n) > limit_days:
        return _dt.date.max if n > 0 else _dt.date.min
    return start + _dt.timedelta(days=n)


def _add_months(value: _dt.date, months: int) -> _dt.date:
    """The same day `months` calendar months later (earlier when negative), clamped to the month's end:
    add_months(2021-01-31, 1) = 2021-02-28."""
    start, n = _date_argument(value, "add_months"), _whole(months, "add_months")
    if abs(n) > 12 * _dt.MAXYEAR:  # beyond the calendar either way: saturate before any large arithmetic
        return _dt.date.max if n > 0 else _dt.date.min
    year, month0 = divmod(start.year * 12 + start.month - 1 + n, 12)
    return _clamped(year, month0 + 1, start.day)


def _days_between(a: _dt.date, b: _dt.date) -> int:
    """b - a in days: days_between(2020-02-28, 2020-03-01) = 2; negative when b is before a."""
    return (_date_argument(b, "days_between") - _date_argument(a, "days_between")).days


def _months_between(a: _dt.date, b: _dt.date) -> int:
    """Whole calendar months from a to b: the largest m with add_months(a, m) <= b (so months_between(a,
    add_months(a, m)) = m, and 2021-01-31 -> 2021-02-28 is one month); when b is before a, -months_between(b, a)."""
    start, end = _date_argument(a, "months_between"), _date_argument(b, "months_between")
    if end < start:
        return -_months_between(end, start)
    months = (end.year - start.year) * 12 + end.month - start.month
    if _add_months(start, months) > end:
        months -= 1
    return months


def _month(value: _dt.date) -> int:
    return _date_argument(value, "month").month


def _day(value: _dt.date) -> int:
    return _date_argument(value, "day").day


def _quarter(value: _dt.date) -> int:
    return (_date_argument(value, "quarter").month - 1) // 3 + 1


def _half_year(value: _dt.date) -> int:
    return 1 if _date_argument(value, "half_year").month <= 6 else 2


_DATE_LITERAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date_literal(text: Any) -> _dt.date | None:
    """A YYYY-MM-DD text that is a real calendar date, as a date; None for anything else."""
    if not isinstance(text, str) or not _DATE_LITERAL.fullmatch(text):
        return None
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        return None


def _date(text: str) -> _dt.date:
    """date("2019-12-31") (for the reference evaluator: compiled expressions hold the date as a constant)."""
    value = parse_date_literal(text)
    if value is None:
        raise ValueError(f"date() takes a date written YYYY-MM-DD, not {text!r}")
    return value


def _percent_literal(number: Any) -> Decimal:
    """The reference evaluator's reading of `4.35%` (compiled expressions hold it as an exact constant)."""
    return Decimal(str(number)).scaleb(-2)


def _latest_on_or_before(dates: list[_dt.date] | tuple[_dt.date, ...], day: _dt.date) -> _dt.date | None:
    """The most recent of `dates` on or before `day`, or None. One pass over a list a claim bounds (its
    schema caps every list), so the cost is bounded; anything but a list of dates and a date is a TypeError."""
    if not isinstance(dates, list | tuple) or not isinstance(day, _dt.date):
        raise TypeError(f"latest_on_or_before takes a list of dates and a date, not {type(dates).__name__} and {type(day).__name__}")
    latest = None
    for d in dates:
        if not isinstance(d, _dt.date):
            raise TypeError(f"latest_on_or_before takes a list of dates, not of {type(d).__name__}")
        if d <= day and (latest is None or d > latest):
            latest = d
    return latest


def _param(parameter: Any, day: Any) -> Any:
    """`param("name", date)`: the value of a dated parameter in force on `day`. A day before its first value is a
    gap of the policy: MissingFact `param.<name>@<day>`, so the item is incomplete naming both, never a crash."""
    if not isinstance(day, _dt.date):
        raise TypeError(f"param() needs a date, not {type(day).__name__}")
    value = parameter.at(day)
    if value is None:
        raise MissingFact(f"param.{parameter.name}@{day.isoformat()}")
    return value.value


#: The name of the dated-parameter function (handled by the checker, not in FUNCTIONS: its first argument names
#: a parameter of the policy, checked at load).
PARAM_FUNCTION = "param"
PARAM_DOC = 'param("name", date) -> the value of the dated parameter `name` in force on date (see `parameters:`)'


def _first(values: list[Any] | tuple[Any, ...]) -> Any:
    return values[0] if values else None


def _count(values: list[Any] | tuple[Any, ...]) -> int:
    return len(values)


def _mul(a: Any, b: Any) -> Any:
    """`*` on numbers only: repeating a string or list (`"x" * 10**15`) would make evaluation unbounded."""
    if not isinstance(a, int | Decimal) or not isinstance(b, int | Decimal):
        raise TypeError(f"* multiplies numbers only, not {type(a).__name__} and {type(b).__name__}")
    return a * b


#: Errors an expression may raise at run time on unexpected data (None < 5, a date out of range, x / 0).
#: They become a clean error naming the expression; MissingFact passes through (it means "unknown").
_RUNTIME_ERRORS = (ArithmeticError, TypeError, ValueError, AttributeError, IndexError, RecursionError, MemoryError)


#: The functions a policy may call. Documented in docs/policy-language.md.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "year": _year,
    "month": _month,
    "day": _day,
    "quarter": _quarter,
    "half_year": _half_year,
    "date": _date,
    "add_years": _add_years,
    "add_months": _add_months,
    "add_days": _add_days,
    "days_between": _days_between,
    "months_between": _months_between,
    "latest_on_or_before": _latest_on_or_before,
    "first": _first,
    "count": _count,
    "len": _count,
    "min": min,
    "max": max,
    "abs": abs,
}

FUNCTION_DOCS: dict[str, str] = {
    "year": "year(date) -> the calendar year of a date",
    "month": "month(date) -> the month of a date, 1-12",
    "day": "day(date) -> the day of the month of a date, 1-31",
    "quarter": "quarter(date) -> the quarter of the year of a date, 1-4",
    "half_year": "half_year(date) -> the half of the year of a date: 1 (January-June) or 2",
    "date": 'date("2019-12-31") -> that date (written YYYY-MM-DD; checked when the policy loads)',
    "add_years": "add_years(date, n) -> the same calendar date n years later (29 Feb -> 28 Feb)",
    "add_months": "add_months(date, n) -> the same day n months later, at most the month's last (2021-01-31 + 1 -> 2021-02-28)",
    "add_days": "add_days(date, n) -> the date n days later (earlier when n is negative)",
    "days_between": "days_between(a, b) -> days from a to b (b - a; negative when b is before a)",
    "months_between": "months_between(a, b) -> whole calendar months from a to b (2021-01-31 to 2021-02-28 is 1)",
    "latest_on_or_before": "latest_on_or_before(dates, date) -> the most recent of a list of dates on or before date, or None",
    "first": "first(list) -> the first element, or None for an empty list",
    "count": "count(list) -> number of elements",
    "len": "len(list) -> number of elements (same as count)",
    "min": "min(a, b, ...) -> the least value",
    "max": "max(a, b, ...) -> the greatest value",
    "abs": "abs(x) -> absolute value",
}


def _arity(function: Callable[..., Any]) -> tuple[int, int | None]:
    """(least, most) positional arguments `function` takes; most is None for any number. Builtins without a
    signature (min, max) take one or more."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except ValueError:
        return 1, None
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    least = sum(1 for p in positional if p.default is p.empty)
    most = None if any(p.kind is p.VAR_POSITIONAL for p in parameters) else len(positional)
    return least, most


#: How many arguments each function takes, derived once from the functions themselves (checked at load).
ARITY: dict[str, tuple[int, int | None]] = {name: _arity(function) for name, function in FUNCTIONS.items()}


def _arguments(least: int, most: int | None) -> str:
    if most is None:
        return f"{least} or more arguments"
    if least == most:
        return f"{least} argument{'s' if least != 1 else ''}"
    return f"{least} to {most} arguments"


_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Is,
    ast.IsNot,
    ast.IfExp,
    ast.Call,
    ast.Name,
    ast.Attribute,
    ast.Constant,
    ast.Tuple,
    ast.List,
    ast.Load,
)

_NODE_WORDS = {
    ast.Lambda: "lambda functions",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Subscript: "indexing with [ ] (use first(...))",
    ast.Pow: "the power operator **",
    ast.FloorDiv: "the operator //",
    ast.Mod: "the operator %",
    ast.NamedExpr: "assignment :=",
    ast.Dict: "dictionary literals",
    ast.Set: "set literals",
    ast.JoinedStr: "f-strings",
    ast.Starred: "* unpacking",
    ast.BitAnd: "bit operators",
    ast.BitOr: "bit operators",
    ast.BitXor: "bit operators",
    ast.LShift: "bit operators",
    ast.RShift: "bit operators",
    ast.Invert: "bit operators",
    ast.Await: "await",
}


class ExpressionError(ValueError):
    """An expression outside the allowed language; `hint` says what is allowed."""

    def __init__(self, message: str, hint: str | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.column = column


#: Resolves a fact reference. Returns None if known, else a message (with a hint).
FactResolver = Callable[[str, str], "tuple[str, str | None] | None"]
#: The declared types of a fact (several when item types declare it differently; none if unknown).
FactTypes = Callable[[str, str], "Iterable[str]"]

# Static types. Every expression gets the set of kinds its value can have (usually one), inferred from the facts'
# declared types, the literals and the functions; comparing or doing arithmetic on kinds that can never go
# together is a load error naming both sides in the officer's words. Numbers keep their flavour (a fact's
# declared type: integer, count, money, decimal, percent; "number" when arithmetic mixes them) so that an
# explanation can show a computed base in its own form. UNKNOWN (a fact whose type was not given) and ANY (cannot
# tell) go with everything and are left to the run-time guards.
NUM, TEXT, LIST, DATE, BOOL, NONE, ANY, UNKNOWN = "number", "text", "list", "date", "boolean", "None", "anything", "unknown"
INTEGER, COUNT, MONEY, DECIMAL, PERCENT = "integer", "count", "money", "decimal", "percent"
NUMBERS = frozenset({NUM, INTEGER, COUNT, MONEY, DECIMAL, PERCENT})
_NEUTRAL = frozenset({NUM, INTEGER})  # a plain number: `item.fee * 2` stays money, `item.n + 1` a count when item.n is one
_REPEATABLE = frozenset({TEXT, LIST, ANY})
_OPEN = frozenset({ANY, UNKNOWN})
_Kinds = tuple[frozenset[str], frozenset[str]]  # (what the value can be, what its elements can be if it is a list)
_NOTHING: frozenset[str] = frozenset()

#: What a fact of each declared type holds (and the elements of a list fact).
TYPE_KINDS: dict[str, _Kinds] = {
    "string": (frozenset({TEXT}), _NOTHING),
    "enum": (frozenset({TEXT}), _NOTHING),
    "identifier": (frozenset({TEXT}), _NOTHING),
    "item_type": (frozenset({TEXT}), _NOTHING),
    "integer": (frozenset({INTEGER}), _NOTHING),
    "count": (frozenset({COUNT}), _NOTHING),
    "money": (frozenset({MONEY}), _NOTHING),
    "decimal": (frozenset({DECIMAL}), _NOTHING),
    "percent": (frozenset({PERCENT}), _NOTHING),
    "date": (frozenset({DATE}), _NOTHING),
    "boolean": (frozenset({BOOL}), _NOTHING),
    "enum_list": (frozenset({LIST}), frozenset({TEXT})),
    "string_list": (frozenset({LIST}), frozenset({TEXT})),
    "document_list": (frozenset({LIST}), frozenset({TEXT})),
    "date_list": (frozenset({LIST}), frozenset({DATE})),
}

#: What each function yields (those that yield one of their arguments are worked out in `_Checker.call_kinds`).
#: Another construct's function (e.g. a parameter look-up) adds its entry here.
RESULT_KINDS: dict[str, frozenset[str]] = {
    "year": frozenset({INTEGER}),
    "month": frozenset({INTEGER}),
    "day": frozenset({INTEGER}),
    "quarter": frozenset({INTEGER}),
    "half_year": frozenset({INTEGER}),
    "days_between": frozenset({INTEGER}),
    "months_between": frozenset({INTEGER}),
    "count": frozenset({INTEGER}),
    "len": frozenset({INTEGER}),
    "date": frozenset({DATE}),
    "add_years": frozenset({DATE}),
    "add_months": frozenset({DATE}),
    "add_days": frozenset({DATE}),
    "latest_on_or_before": frozenset({DATE, NONE}),
}

_DATE_ARG = (frozenset({DATE}), None, "date")
_WHOLE_ARG = (frozenset({NUM}), None, "whole number")
#: What each argument of a function must be: (coarse kinds allowed, kinds its elements must include if it is a
#: list, the words for it -- a fact's type name where that is what is wanted).
ARGUMENT_KINDS: dict[str, tuple[tuple[frozenset[str], frozenset[str] | None, str], ...]] = {
    "year": (_DATE_ARG,),
    "month": (_DATE_ARG,),
    "day": (_DATE_ARG,),
    "quarter": (_DATE_ARG,),
    "half_year": (_DATE_ARG,),
    "add_years": (_DATE_ARG, _WHOLE_ARG),
    "add_months": (_DATE_ARG, _WHOLE_ARG),
    "add_days": (_DATE_ARG, _WHOLE_ARG),
    "days_between": (_DATE_ARG, _DATE_ARG),
    "months_between": (_DATE_ARG, _DATE_ARG),
    "latest_on_or_before": ((frozenset({LIST}), frozenset({DATE}), "date_list"), _DATE_ARG),
    "count": ((frozenset({LIST, TEXT}), None, "list"),),
    "len": ((frozenset({LIST, TEXT}), None, "list"),),
    "abs": ((frozenset({NUM}), None, "number"),),
}

#: A kind in the officer's words.
KIND_WORDS: dict[str, str] = {
    NUM: "a number",
    INTEGER: "a whole number",
    COUNT: "a count",
    MONEY: "an amount of money",
    DECIMAL: "a decimal number",
    PERCENT: "a percentage",
    TEXT: "text",
    LIST: "a list",
    DATE: "a date",
    BOOL: "yes/no",
    NONE: "None",
}


def _coarse(kinds: Iterable[str]) -> frozenset[str]:
    """The kinds with every number flavour as "number"."""
    return frozenset(NUM if k in NUMBERS else k for k in kinds)


def _words(kinds: frozenset[str], coarse: bool = False) -> str:
    """Kinds in the officer's words: "an amount of money", "a date or None"; `coarse`: numbers as "a number"."""
    shown = sorted((_coarse(kinds) if coarse else kinds) - {NONE}) or [NONE]
    if not coarse and len(shown) > 1 and set(shown) <= NUMBERS:
        shown = [NUM]
    return " or ".join(KIND_WORDS.get(k, k) for k in shown)


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def static_type(kinds: frozenset[str]) -> str | None:
    """The one type an expression of these kinds has ("money", "count", "date", "text", "boolean", "list", ...),
    or None when it can be several or cannot be told."""
    definite = kinds - {NONE}
    if len(definite) != 1:
        return None
    (kind,) = definite
    return None if kind in _OPEN else kind


def _flavour(op: ast.operator, left: str, right: str) -> str:
    """The kind of number `left op right` gives: money * rate is money, count + 1 a count, money / money a number."""
    if isinstance(op, ast.Add | ast.Sub):
        return left if left == right or right in _NEUTRAL else right if left in _NEUTRAL else NUM
    if isinstance(op, ast.Mult):
        if left == right:
            return NUM if left == MONEY else left
        if MONEY in (left, right):
            return MONEY
        if PERCENT in (left, right):  # a rate times a number is no longer that rate (4.35% * 100 is 4.35)
            return NUM
        return right if left in _NEUTRAL else left if right in _NEUTRAL else NUM
    # division
    if left == MONEY and right != MONEY:
        return MONEY
    return left if left in (DECIMAL, NUM) and right in _NEUTRAL else NUM


def arithmetic_kinds(op: ast.operator, left: frozenset[str], right: frozenset[str]) -> tuple[frozenset[str], str | None, str | None]:
    """(what `left op right` yields, the problem if the two can never go together, a hint)."""
    if left & _OPEN or right & _OPEN:  # a number or a run-time error (+ may also join texts or lists)
        return (left | right if isinstance(op, ast.Add) else frozenset({UNKNOWN})), None, None
    numbers = frozenset(_flavour(op, a, b) for a in left & NUMBERS for b in right & NUMBERS)
    cl, cr = _coarse(left) - {NONE}, _coarse(right) - {NONE}
    if not cl or not cr:  # None itself: left to the run-time guard (a function may yield it)
        return numbers or frozenset({ANY}), None, None
    sign = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}.get(type(op), "?")
    if isinstance(op, ast.Add):
        same = cl & cr & {NUM, TEXT, LIST}
        if same:
            return numbers | (same - {NUM}), None, None
    elif NUM in cl and NUM in cr:
        return numbers, None, None
    problem = f"{_words(left, True)} and {_words(right, True)} cannot be combined with {sign}"
    hint: str | None = f"{sign} works on numbers" + (" (and + joins two texts or two lists)" if sign == "+" else "")
    if DATE in cl and DATE in cr and sign == "-":
        problem = "a date cannot be subtracted from a date"
        hint = "days_between(a, b) gives the days from a to b; months_between(a, b) the whole months"
    elif DATE in cl | cr and sign in "+-":
        hint = "add_days(date, n), add_months(date, n) or add_years(date, n) move a date (n negative to go back)"
    elif BOOL in cl | cr:
        hint = "yes/no is not a number: write a condition such as `x if item.flag else y`"
    return frozenset({UNKNOWN}), problem, hint  # (the problem is reported where it is)


def comparison_problem(op: ast.cmpop, left: _Kinds, right: _Kinds) -> tuple[str, str | None] | None:
    """Why `left op right` can never be compared (the problem and a hint), or None."""
    (lk, _), (rk, re_) = left, right
    if isinstance(op, ast.Is | ast.IsNot) or lk & _OPEN or rk & _OPEN:
        return None
    cl, cr = _coarse(lk) - {NONE}, _coarse(rk) - {NONE}
    if not cl or not cr:  # a comparison with None
        return None
    if isinstance(op, ast.In | ast.NotIn):
        elements = _coarse(re_) - {NONE}
        if (LIST in cr and (not elements or elements & _OPEN or cl & elements)) or (TEXT in cr and TEXT in cl):
            return None
        plural = {DATE: "dates", TEXT: "texts", NUM: "numbers", BOOL: "yes/no values", LIST: "lists"}
        inside = "a list of " + " or ".join(plural.get(k, k) for k in sorted(elements)) if LIST in cr and elements else _words(rk, True)
        return f"{_words(lk, True)} is never in {inside}", None
    if cl & cr:
        return None
    problem = f"{_words(lk, True)} cannot be compared with {_words(rk, True)}"
    both = cl | cr
    if DATE in both and TEXT in both:
        hint = 'write a date as date("2019-12-31"), or compare a date fact with a quoted "YYYY-MM-DD"'
    elif DATE in both and NUM in both:
        hint = "year(d), month(d) and day(d) give numbers; days_between(a, b) and months_between(a, b) count days and months"
    elif TEXT in both and NUM in both:
        hint = "a number is written without quotes; a text value with quotes"
    elif BOOL in both:
        hint = "a yes/no fact is compared with true or false, or used alone as a condition"
    else:
        hint = None
    return problem, hint


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    """An expression checked and compiled once. Call with the three fact namespaces."""

    source: str
    function: Callable[[Facts, Facts, Facts], Any]
    facts: tuple[str, ...]  # "item.fee", ... in order of first use: the trace shows their values
    compares: tuple[tuple[str, tuple[Any, ...]], ...]  # (fact, literal values) pairs, for enum checks
    #: The checked, rewritten body as Python source and the Decimal constants it names: what `inline_source`
    #: turns back into code for the evaluator's generated rule functions.
    checked: tuple[str, tuple[tuple[str, Any], ...]] | None = field(default=None, compare=False, repr=False)
    #: The expression's static type (`static_type`): "money", "count", "date", ...; None when it cannot be told.
    type: str | None = field(default=None, compare=False)
    #: computed names it uses (COMPUTED_NAMES): the function takes each as a further argument, in this order,
    #: and an inlined body reads each as the local variable `_V_<name>`
    computed: tuple[str, ...] = ()
    #: each `param("name", date)` it makes, outermost ones only: (parameter name, the date argument's source)
    params: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def __call__(self, item: Facts, applicant: Facts, claim: Facts) -> Any:
        return self.function(item, applicant, claim)


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


class _Checker(ast.NodeTransformer):
    def __init__(
        self,
        resolve: FactResolver,
        source: str,
        fact_types: FactTypes | None = None,
        percents: frozenset[tuple[int, int]] = frozenset(),
        names: Iterable[str] = (),
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        self.resolve = resolve
        self.names = frozenset(names)  # computed names (COMPUTED_NAMES) allowed here
        self.computed: list[str] = []  # those used, in order of first use
        self.fact_types = fact_types
        self.parameters = parameters or {}  # the policy's dated parameters, by name (`param("name", date)`)
        self.params: list[tuple[str, str]] = []
        self.in_param = 0  # inside a param()'s date: a look-up there is recorded when that date is compiled
        self.source = source  # the parsed text: a decimal literal's value is taken from its own text
        self.percents = percents  # where the `_pct_(n)` calls that stand for written `n%` literals are
        self.facts: list[str] = []
        self.constants: dict[str, Any] = {}
        self.compares: list[tuple[str, tuple[Any, ...]]] = []
        self.count = 0
        # kinds of the nodes seen (each node kept, so that its id is not reused while checking) and the
        # constant names this checker made (a date or percent literal): the only `_` names it lets through
        self.memo: dict[int, tuple[ast.AST, _Kinds]] = {}
        self.made: set[int] = set()

    def fail(self, node: ast.AST, message: str, hint: str | None = None) -> ExpressionError:
        return ExpressionError(message, hint, getattr(node, "col_offset", None))

    def generic_visit(self, node: ast.AST) -> ast.AST:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(node, f"expression too complex (more than {MAX_NODES} parts)")
        if not isinstance(node, _ALLOWED_NODES):
            what = _NODE_WORDS.get(type(node), type(node).__name__)
            raise self.fail(
                node,
                f"{what} not allowed in policy expressions",
                "conditions use facts, literals, and/or/not, comparisons, + - * / and the documented functions",
            )
        return super().generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        self.count += 1
        value = node.value
        if isinstance(value, bool) or value is None:
            return node
        if isinstance(value, str):
            if len(value) > MAX_STRING_LITERAL:
                raise self.fail(node, f"string literal longer than {MAX_STRING_LITERAL} characters")
            return node
        if isinstance(value, int):
            if abs(value) > MAX_INT_LITERAL:
                raise self.fail(node, f"number {value} is larger than {MAX_INT_LITERAL}")
            return node
        if isinstance(value, float):
            # Exactness: 0.1 in an expression means Decimal('0.1'), never a binary float -- and the value is read
            # from the literal's own text, not from the float Python parsed (0.12345678901234567890 keeps its
            # 20 places, 1e400 is not infinity).
            return self.constant(node, self.decimal_literal(node), frozenset({DECIMAL}))
        raise self.fail(node, f"literal {value!r} not allowed")

    def constant(self, node: ast.AST, value: Any, kinds: frozenset[str]) -> ast.Name:
        """A name for `value` (unique in the process: inlined bodies share namespaces), standing where `node` was."""
        name = f"_K{next(_CONSTANT_NUMBERS)}"
        self.constants[name] = value
        made = ast.copy_location(ast.Name(id=name, ctx=ast.Load()), node)
        self.made.add(id(made))
        self.memo[id(made)] = (made, (kinds, _NOTHING))
        return made

    def decimal_literal(self, node: ast.Constant) -> Decimal:
        text = (ast.get_source_segment(self.source, node) or "").replace("_", "")
        if len(text) > MAX_DECIMAL_LITERAL:
            raise self.fail(node, f"number literal longer than {MAX_DECIMAL_LITERAL} characters")
        try:
            value = Decimal(text)
        except ArithmeticError:
            raise self.fail(node, f"number literal {text!r} is not a decimal number") from None
        if not value.is_finite():
            raise self.fail(node, f"number {text} is not a finite number")
        if value.copy_abs() > MAX_INT_LITERAL:  # (copy_abs: exact, whatever the decimal context)
            raise self.fail(node, f"number {text} is larger than {MAX_INT_LITERAL}")
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int)  # finite
        if exponent < -MAX_DECIMAL_PLACES:
            raise self.fail(node, f"number {text} has more than {MAX_DECIMAL_PLACES} decimal places")
        if exponent > 0:  # 1e5 means 100000, written out (a Decimal's exponent shows in what it makes)
            value = Decimal(int(value))
        return value

    def visit_Name(self, node: ast.Name) -> ast.AST:
        self.count += 1
        if id(node) in self.made:
            return node
        if node.id in NAMESPACES:
            raise self.fail(node, f"`{node.id}` alone is not a fact", f"name a fact, e.g. {node.id}.<fact>")
        if node.id.startswith("_"):
            raise self.fail(node, f"name {node.id!r} not allowed")
        if node.id in self.names:
            if node.id not in self.computed:
                self.computed.append(node.id)
            return ast.copy_location(ast.Name(id="_V_" + node.id, ctx=ast.Load()), node)
        if node.id in COMPUTED_NAMES:
            raise self.fail(node, f"`{node.id}` cannot be used here", COMPUTED_WHERE[node.id])
        raise self.fail(
            node,
            f"unknown name {node.id!r}",
            "facts are written claim.<fact>, applicant.<fact> or item.<fact>; strings need quotes",
        )

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.count += 1
        if not isinstance(node.value, ast.Name) or node.value.id not in NAMESPACES:
            raise self.fail(
                node, "attribute access is only allowed on claim, applicant and item", "write claim.<fact>, applicant.<fact> or item.<fact>"
            )
        if node.attr.startswith("_"):
            raise self.fail(node, f"name {node.attr!r} not allowed")
        namespace, fact = node.value.id, node.attr
        problem = self.resolve(namespace, fact)
        if problem is not None:
            raise self.fail(node, problem[0], problem[1])
        full = f"{namespace}.{fact}"
        if full not in self.facts:
            self.facts.append(full)
        target = {"item": "I", "applicant": "A", "claim": "C"}[namespace]
        return ast.copy_location(ast.Subscript(value=ast.Name(id=target, ctx=ast.Load()), slice=ast.Constant(fact), ctx=ast.Load()), node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        if not isinstance(node.op, ast.Not):
            kinds = self.kinds(node.operand)[0]
            if not kinds & _OPEN and not _coarse(kinds) & {NUM, NONE}:
                raise self.fail(node, f"a sign (+ or -) applies to numbers; `{ast.unparse(node.operand)}` is {_words(kinds)}")
        return self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        if isinstance(node.op, ast.Mult):
            for side in (node.left, node.right):
                can = self.kinds(side)[0] & _REPEATABLE
                if can:
                    what = " or ".join(k for k in (TEXT, LIST, ANY) if k in can)
                    raise self.fail(
                        node, f"repeating text or a list with * is not allowed: `{ast.unparse(side)}` can be {what}", "* multiplies numbers"
                    )
        if not isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
            return self.generic_visit(node)  # refused as such
        left, right = self.kinds(node.left)[0], self.kinds(node.right)[0]
        _, problem, hint = arithmetic_kinds(node.op, left, right)
        # (said after the sides are checked: a problem inside them is the one to report)
        said = f"`{ast.unparse(node.left)}` is {_words(left)} and `{ast.unparse(node.right)}` is {_words(right)}: {problem}"
        if isinstance(node.op, ast.Mult):
            self.count += 1
            call = ast.Call(func=ast.Name(id="_F_mul", ctx=ast.Load()), args=[node.left, node.right], keywords=[])
            call.args = [self.visit(arg) for arg in call.args]
            out: ast.AST = ast.copy_location(call, node)
        else:
            out = self.generic_visit(node)
        if problem is not None:
            raise self.fail(node, said, hint)
        return out

    def kinds(self, node: ast.AST) -> _Kinds:
        """What `node` (not yet rewritten) can yield, and what its elements can be if it is a list: the
        expression's static type. Recursion is bounded: the tree was checked against MAX_DEPTH before any walk."""
        seen = self.memo.get(id(node))
        if seen is None:
            seen = self.memo[id(node)] = (node, self.infer(node))
        return seen[1]

    def infer(self, node: ast.AST) -> _Kinds:
        if isinstance(node, ast.Constant):
            value = node.value
            kind = (
                BOOL if isinstance(value, bool) else NONE if value is None else TEXT if isinstance(value, str)
                else INTEGER if isinstance(value, int) else DECIMAL if isinstance(value, float) else ANY
            )  # fmt: skip
            return frozenset({kind}), _NOTHING
        if isinstance(node, ast.List | ast.Tuple):
            return frozenset({LIST}), frozenset().union(*(self.kinds(e)[0] for e in node.elts))
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in NAMESPACES:
            declared = tuple(self.fact_types(node.value.id, node.attr)) if self.fact_types is not None else ()
            if not declared:
                return frozenset({UNKNOWN}), frozenset({UNKNOWN})
            found = [TYPE_KINDS.get(t, (frozenset({ANY}), frozenset({ANY}))) for t in declared]
            return frozenset().union(*(k for k, _ in found)), frozenset().union(*(e for _, e in found))
        if isinstance(node, ast.Name) and node.id == "amount":  # an item's amount, where a construct allows the name
            return frozenset({MONEY}), _NOTHING
        if isinstance(node, ast.BinOp):
            (left, left_elements), (right, right_elements) = self.kinds(node.left), self.kinds(node.right)
            return arithmetic_kinds(node.op, left, right)[0], left_elements | right_elements
        if isinstance(node, ast.BoolOp):  # `a or b` yields a or b themselves
            parts = [self.kinds(v) for v in node.values]
            return frozenset().union(*(k for k, _ in parts)), frozenset().union(*(e for _, e in parts))
        if isinstance(node, ast.IfExp):
            (body, body_elements), (other, other_elements) = self.kinds(node.body), self.kinds(node.orelse)
            return body | other, body_elements | other_elements
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return frozenset({BOOL}), _NOTHING
            return (self.kinds(node.operand)[0] & NUMBERS) or frozenset({NUM}), _NOTHING
        if isinstance(node, ast.Compare):
            return frozenset({BOOL}), _NOTHING
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self.call_kinds(node.func.id, node.args)
        return frozenset({ANY}), frozenset({ANY})

    def call_kinds(self, name: str, args: list[ast.expr]) -> _Kinds:
        if name == PARAM_FUNCTION:  # the parameter's own type (money, percent, decimal, count, integer)
            first = args[0] if args else None
            parameter = self.parameters.get(first.value) if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
            return (TYPE_KINDS[parameter.type][0] if parameter is not None else frozenset({NUM})), _NOTHING
        if name in RESULT_KINDS:
            return RESULT_KINDS[name], _NOTHING
        if name == "_pct_":
            return frozenset({PERCENT}), _NOTHING
        if name == "abs" and len(args) == 1:
            return self.kinds(args[0])[0], _NOTHING
        if name in ("first", "min", "max") and len(args) == 1:  # an element of a list, or a character of text
            kinds, elements = self.kinds(args[0])
            out = (elements if LIST in kinds else _NOTHING) | (kinds & {TEXT, UNKNOWN, ANY})
            return (out | {NONE} if name == "first" else out) or frozenset({NONE}), frozenset({ANY})
        if name in ("min", "max"):  # one of the arguments
            parts = [self.kinds(a) for a in args]
            return frozenset().union(*(k for k, _ in parts)), frozenset().union(*(e for _, e in parts))
        return frozenset({ANY}), frozenset({ANY})

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.count += 1
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, "only the documented functions may be called", ", ".join(sorted(FUNCTIONS)))
        name = node.func.id
        if name == "_pct_" and (node.lineno, node.col_offset) in self.percents and len(node.args) == 1:
            return self.percent_literal(node)
        if name == PARAM_FUNCTION:
            return self.visit_param(node)
        if name not in FUNCTIONS:
            close = suggest(name, FUNCTIONS)
            hint = f"did you mean {close}()? " if close else ""
            raise self.fail(node, f"unknown function {name}()", hint + "functions: " + ", ".join(sorted(FUNCTIONS)))
        if node.keywords:
            raise self.fail(node, "keyword arguments are not allowed")
        least, most = ARITY[name]
        given = len(node.args)  # (a * unpacking among them is refused as such below)
        if (given < least or (most is not None and given > most)) and not any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(node, f"{name}() takes {_arguments(least, most)}, {given} given", FUNCTION_DOCS.get(name))
        if name == "date":
            return self.date_literal(node)
        for i, (arg, wanted) in enumerate(zip(node.args, ARGUMENT_KINDS.get(name, ()), strict=False)):
            if wanted is _DATE_ARG and isinstance(arg, ast.Constant) and isinstance(arg.value, str):  # "2019-12-31" as a date
                node.args[i] = self.as_date(arg, f"{name}() takes a date here")
        self.check_arguments(node, name)
        node.args = [self.visit(arg) for arg in node.args]
        node.func = ast.copy_location(ast.Name(id="_F_" + name, ctx=ast.Load()), node.func)
        return node

    def check_arguments(self, node: ast.Call, name: str) -> None:
        """Each argument has the kind the function takes (`ARGUMENT_KINDS`); a fact is named with its declared type."""
        for arg, (allowed, elements, words) in zip(node.args, ARGUMENT_KINDS.get(name, ()), strict=False):
            kinds, element_kinds = self.kinds(arg)
            if kinds & _OPEN or (
                _coarse(kinds) & allowed and (elements is None or LIST not in kinds or element_kinds & (elements | _OPEN))
            ):
                if words == "whole number" and kinds <= {MONEY, DECIMAL, PERCENT}:
                    raise self.fail(
                        node, f"{name}() counts in whole numbers; `{ast.unparse(arg)}` is {_words(kinds)}", FUNCTION_DOCS.get(name)
                    )
                continue
            if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and self.fact_types is not None:
                declared = " or ".join(self.fact_types(arg.value.id, arg.attr))
                message = f"{name}() needs a {words} fact here; {arg.value.id}.{arg.attr} is {_a(declared)}"
            else:
                message = f"{name}() needs {KIND_WORDS.get(words, _a(words))} here; `{ast.unparse(arg)}` is {_words(kinds)}"
            raise self.fail(node, message, FUNCTION_DOCS.get(name))

    def visit_param(self, node: ast.Call) -> ast.AST:
        """`param("name", date)` -> `_F_param(<the parameter>, date)`; the name must be a string literal naming a
        parameter of the policy (did-you-mean otherwise), the date a date."""
        if node.keywords or len(node.args) != 2:
            raise self.fail(node, f"param() takes 2 arguments, {len(node.args)} given", PARAM_DOC)
        name_node, day = node.args
        if not (isinstance(name_node, ast.Constant) and isinstance(name_node.value, str)):
            raise self.fail(node, "the first argument of param() must be a parameter's name in quotes", PARAM_DOC)
        name = name_node.value
        if name not in self.parameters:
            close = suggest(name, self.parameters)
            hint = f"did you mean {close!r}? " if close else ""
            known = ", ".join(sorted(self.parameters)) or "none (add a `parameters:` section)"
            raise self.fail(node, f"unknown parameter {name!r}", hint + f"parameters of this policy: {known}")
        day_kinds = self.kinds(day)[0]
        if not (day_kinds & (_OPEN | {DATE})):
            raise self.fail(node, f"param() needs a date here; `{ast.unparse(day)}` is {_words(day_kinds)}", PARAM_DOC)
        if not self.in_param:  # (only the outermost: each date compiled for the trace records its own, so linear)
            self.params.append((name, ast.get_source_segment(self.source, day) or ast.unparse(day)))
        kinds = self.kinds(node)
        parameter = self.constant(name_node, self.parameters[name], frozenset({ANY}))
        self.count += 1
        self.in_param += 1
        checked_day = self.visit(day)
        self.in_param -= 1
        call = ast.copy_location(ast.Call(func=ast.Name(id="_F_param", ctx=ast.Load()), args=[parameter, checked_day], keywords=[]), node)
        self.memo[id(call)] = (call, kinds)
        return call

    def date_literal(self, node: ast.Call) -> ast.AST:
        """`date("2019-12-31")`: a constant date, checked now."""
        (arg,) = node.args
        value = parse_date_literal(arg.value) if isinstance(arg, ast.Constant) else None
        if value is None:
            shown = ast.unparse(arg)
            raise self.fail(node, f"date() takes a date written YYYY-MM-DD that exists, not {shown}", 'e.g. date("2019-12-31")')
        return self.constant(node, value, frozenset({DATE}))

    def percent_literal(self, node: ast.Call) -> ast.AST:
        """`4.35%` (read as `_pct_(4.35)`): the exact fraction Decimal("0.0435")."""
        (arg,) = node.args
        if isinstance(arg, ast.Constant) and isinstance(arg.value, float):
            number = self.decimal_literal(arg)
        elif isinstance(arg, ast.Constant) and isinstance(arg.value, int) and not isinstance(arg.value, bool):
            self.visit_Constant(arg)  # its bound
            number = Decimal(arg.value)
        else:
            raise self.fail(node, "% follows a number only (4.35% is a percentage)", "write a percentage as 4.35%")
        return self.constant(node, number.scaleb(-2), frozenset({PERCENT}))

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.dates_from_text(node)
        sides = [node.left, *node.comparators]
        problem: tuple[str, str | None] | None = None
        for op, a, b in zip(node.ops, sides, sides[1:], strict=False):
            # Remember fact-vs-literal comparisons so the semantic check can test enum values.
            for fact_side, lit_side in ((a, b), (b, a)):
                if isinstance(fact_side, ast.Attribute) and isinstance(fact_side.value, ast.Name) and fact_side.value.id in NAMESPACES:
                    literals = _literals(lit_side)
                    if literals:
                        self.compares.append((f"{fact_side.value.id}.{fact_side.attr}", literals))
            left, right = self.kinds(a), self.kinds(b)
            said = comparison_problem(op, left, right)
            if said is not None and problem is None:
                problem = (f"`{ast.unparse(a)}` is {_words(left[0])} and `{ast.unparse(b)}` is {_words(right[0])}: {said[0]}", said[1])
        out = self.generic_visit(node)
        if problem is not None:  # (after the sides are checked: a problem inside them is the one to report)
            raise self.fail(node, *problem)
        return out

    def dates_from_text(self, node: ast.Compare) -> None:
        """A quoted "YYYY-MM-DD" compared with a date is that date (read now; a text that is no date is an error)."""
        sides = [node.left, *node.comparators]
        for i, (op, a, b) in enumerate(zip(node.ops, sides, sides[1:], strict=False)):
            for j, date_side, text_side in ((i + 1, a, b), (i, b, a)):
                if _coarse(self.kinds(date_side)[0]) - {NONE} != {DATE}:
                    continue
                if isinstance(op, ast.In | ast.NotIn) and j == i + 1 and isinstance(text_side, ast.Tuple | ast.List):
                    said = f"`{ast.unparse(date_side)}` is a date"
                    text_side.elts = [self.as_date(e, said) for e in text_side.elts]
                    self.memo.pop(id(text_side), None)
                elif isinstance(text_side, ast.Constant) and isinstance(text_side.value, str):
                    sides[j] = self.as_date(text_side, f"`{ast.unparse(date_side)}` is a date")
        node.left, node.comparators = sides[0], sides[1:]

    def as_date(self, node: ast.expr, why: str) -> ast.expr:
        """A quoted text where a date goes, read as that date; `why` says why a date goes there."""
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            return node
        value = parse_date_literal(node.value)
        if value is None:
            raise self.fail(
                node, f"{why}, so {node.value!r} must be a date written YYYY-MM-DD that exists", 'e.g. "2019-12-31" or date("2019-12-31")'
            )
        return self.constant(node, value, frozenset({DATE}))


def _literals(node: ast.AST) -> tuple[Any, ...]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
    return ()


# long because: the steps of one compile in order (bounds, percent literals, parse, check, wrap, compile, namespace,
# inline text); split, each would pass the tree, the checker and the namespace to the next
def compile_expression(
    source: str,
    resolve: FactResolver,
    filename: str = "<policy>",
    fact_types: FactTypes | None = None,
    names: Iterable[str] = (),
    parameters: Mapping[str, Any] | None = None,
) -> CompiledExpression:
    """Check `source` against the allow-list and compile it. Raises ExpressionError.

    `fact_types` gives each fact's declared types, so that `*` on a text or list fact is refused here; without
    it such a `*` is left to the run-time guard (`* multiplies numbers only`). `names`: the computed names
    (COMPUTED_NAMES) this expression may use.
    """
    if not isinstance(source, str):
        raise ExpressionError(f"expected an expression (text), got {type(source).__name__}")
    if len(source) > MAX_SOURCE_CHARS:
        raise ExpressionError(f"expression longer than {MAX_SOURCE_CHARS} characters")
    if not source.strip():
        raise ExpressionError("empty expression")
    text, percents = percent_literals(source.strip())
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        hint = "a percentage is written with % right after the number: 4.35%" if "%" in text else "a single simpleeval expression"
        raise ExpressionError(f"syntax error: {exc.msg}", hint, (exc.offset or 1) - 1) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(f"expression nested deeper than {MAX_DEPTH} levels or too large") from None
    _check_depth(tree)
    checker = _Checker(resolve, text, fact_types, percents, names, parameters)
    static = static_type(checker.kinds(tree.body)[0])
    body = checker.visit(tree).body
    # def _expr(I, A, C):
    #     try: return <body>
    #     except _RUNTIME_ERRORS as exc: raise _fail(exc) from None
    # (a try costs nothing on the path that does not raise)
    handler = ast.ExceptHandler(
        type=ast.Name(id="_RUNTIME_ERRORS", ctx=ast.Load()),
        name="_exc",
        body=[
            ast.Raise(
                exc=ast.Call(func=ast.Name(id="_fail", ctx=ast.Load()), args=[ast.Name(id="_exc", ctx=ast.Load())], keywords=[]),
                cause=ast.Constant(None),
            )
        ],
    )
    function_def = ast.FunctionDef(
        name="_expr",
        args=ast.arguments(
            posonlyargs=[],
            args=[ast.arg("I"), ast.arg("A"), ast.arg("C"), *(ast.arg("_V_" + n) for n in checker.computed)],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[ast.Constant(None) for _ in checker.computed],
        ),
        body=[ast.Try(body=[ast.Return(value=body)], handlers=[handler], orelse=[], finalbody=[])],
        decorator_list=[],
        returns=None,
    )
    module = ast.fix_missing_locations(ast.Module(body=[function_def], type_ignores=[]))
    try:
        code = compile(module, filename, "exec")
    except (RecursionError, MemoryError, ValueError, SyntaxError) as exc:
        raise ExpressionError(f"expression cannot be compiled: {exc}") from None
    namespace: dict[str, Any] = {"__builtins__": {}}
    namespace.update({"_F_" + k: v for k, v in FUNCTIONS.items()})
    namespace["_F_mul"] = _mul
    namespace["_F_param"] = _param
    namespace["_RUNTIME_ERRORS"] = _RUNTIME_ERRORS
    namespace["_fail"] = _runtime_failure(source.strip(), filename)
    namespace.update(checker.constants)
    exec(code, namespace)  # noqa: S102 -- code built only from allow-listed nodes above
    function = namespace["_expr"]
    # The function is compiled; the same checked tree, with three documented functions written as what they do,
    # becomes the text that generated rule code inlines (`inline_source`).
    inline = f"({ast.unparse(_Direct().visit(body))})"
    return CompiledExpression(
        source.strip(),
        function,
        tuple(checker.facts),
        tuple(checker.compares),
        (inline, tuple(checker.constants.items())),
        static,
        tuple(checker.computed),
        tuple(checker.params),
    )


def percent_literals(text: str) -> tuple[str, frozenset[tuple[int, int]]]:
    """`4.35%` (a number immediately followed by `%`) written as `_pct_(4.35)`, which the checker turns into the
    exact fraction; returns the text Python's parser reads and where (line, byte column) each such call starts.
    `%` as an operator is not in the language, so this reading takes nothing away. Text that does not tokenize
    is returned as it is: the parser reports it."""
    if "%" not in text:
        return text, frozenset()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text, frozenset()
    lines = text.splitlines(keepends=True)
    starts = list(itertools.accumulate((len(line) for line in lines), initial=0))
    out: list[str] = []
    at: list[tuple[int, int]] = []
    done = 0  # characters of `text` copied to `out`
    for number, sign in itertools.pairwise(tokens):
        if not (number.type == tokenize.NUMBER and sign.type == tokenize.OP and sign.string == "%" and sign.start == number.end):
            continue
        begin, end = starts[number.start[0] - 1] + number.start[1], starts[sign.end[0] - 1] + sign.end[1]
        out.append(text[done:begin])
        line_start = "".join(out).rpartition("\n")[2]
        at.append((number.start[0], len(line_start.encode("utf-8"))))
        out.append(f"_pct_({number.string})")
        done = end
    out.append(text[done:])
    return "".join(out), frozenset(at)


def parse_expression(source: str) -> ast.Expression:
    """The syntax tree of a policy expression as the checker reads it (`4.35%` as `_pct_(4.35)`), for tools
    that look at an expression's shape (lint). Raises SyntaxError like `ast.parse`."""
    return ast.parse(percent_literals(source.strip())[0], mode="eval")


def inline_source(expression: CompiledExpression) -> tuple[str, dict[str, Any]] | None:
    """The expression's checked body as Python source, for code generated from a compiled policy.

    The text is `ast.unparse` of the tree the allow-list checker accepted and rewrote (facts as
    `I["x"]` / `A["x"]` / `C["x"]` look-ups, calls only to the documented functions as `_F_<name>`
    -- `year`, `count`, `len` and `first` of a fact written as what they do --, `*` as `_F_mul`,
    decimal literals as Decimal constants named uniquely in the process), parenthesised; nothing else
    can appear in it. Returns (source, the names it needs), or None for an expression without one.

    Inlined code has no runtime-error wrapper of its own: a generated function that inlines bodies
    must catch `RUNTIME_ERRORS` and re-run the item through the expression functions, which turn the
    error into a `ClaimError` naming the expression.
    """
    if expression.checked is None:
        return None
    text, constants = expression.checked
    if not constants:
        return text, _INLINE_NAMES
    return text, {**_INLINE_NAMES, **dict(constants)}


class _Direct(ast.NodeTransformer):
    """Calls of three documented functions written as what they do, for inlined bodies (same results, same
    errors): `year(x)` -> `x.year`, `count(x)` / `len(x)` -> `len(x)`, and `first(f)` of a fact -> `f[0] if f else None`."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.func, ast.Name) or len(node.args) != 1:
            return node
        (arg,) = node.args
        name = node.func.id
        if name == "_F_year":
            return ast.copy_location(ast.Attribute(value=arg, attr="year", ctx=ast.Load()), node)
        if name in ("_F_count", "_F_len"):
            return ast.copy_location(ast.Call(func=ast.Name(id="_B_len", ctx=ast.Load()), args=[arg], keywords=[]), node)
        if (
            name == "_F_first"
            and isinstance(arg, ast.Subscript)
            and isinstance(arg.value, ast.Name)
            and isinstance(arg.slice, ast.Constant)
        ):
            # a fact look-up: evaluating it twice is a second dictionary read
            element = ast.Subscript(value=copy.deepcopy(arg), slice=ast.Constant(0), ctx=ast.Load())
            return ast.copy_location(ast.IfExp(test=arg, body=element, orelse=ast.Constant(None)), node)
        return node


_INLINE_NAMES: dict[str, Any] = {"_F_" + k: v for k, v in FUNCTIONS.items()} | {"_F_mul": _mul, "_B_len": len, "_F_param": _param}
_CONSTANT_NUMBERS = itertools.count()

#: What an inlined expression body may raise on unexpected data (see `inline_source`).
RUNTIME_ERRORS = _RUNTIME_ERRORS


def _check_depth(tree: ast.AST) -> None:
    """Refuse deeply nested trees iteratively, before any recursive walk or compile() could overflow."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"expression nested deeper than {MAX_DEPTH} levels", "split it into simpler conditions", getattr(node, "col_offset", None)
            )
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _runtime_failure(source: str, filename: str) -> Callable[[BaseException], ClaimError]:
    file, _, line = filename.rpartition(":")
    where_file, where_line = (file, int(line)) if file and line.isdigit() else (filename, None)

    def fail(exc: BaseException) -> ClaimError:
        return ClaimError(
            [
                Problem(
                    f"cannot evaluate `{source}` on this claim's facts: {type(exc).__name__}: {exc}",
                    file=where_file,
                    line=where_line,
                    code="evaluation",
                    expected="facts of the types the policy declares (a policy expression may need a guard such as `x == None or ...`)",
                )
            ],
            "cannot evaluate",
        )

    return fail


def evaluate_with_simpleeval(source: str, item: Mapping[str, Any], applicant: Mapping[str, Any], claim: Mapping[str, Any]) -> Any:
    """Evaluate with simpleeval itself: the reference semantics, for interactive use and tests."""
    evaluator = EvalWithCompoundTypes(
        functions={**FUNCTIONS, "_pct_": _percent_literal},
        names={"item": dict(item), "applicant": dict(applicant), "claim": dict(claim)},
    )
    return evaluator.eval(percent_literals(source.strip())[0])
