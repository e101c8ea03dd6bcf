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
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NoReturn

from simpleeval import DEFAULT_OPERATORS, EvalWithCompoundTypes

from engine.core.characters import unshown_character
from engine.core.errors import ClaimError, Problem
from engine.core.i18n import Msg, msg
from engine.core.identifiers import cn_patent_kind
from engine.language import slips

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
    """A namespace of facts, read-only once made. A missing key raises `MissingFact` naming `namespace.key`.

    Read-only because a claim's facts are part of its decision's record: a program that changed them after
    deciding changed what the decision's JSON and explanation say it was decided on. Other facts are new `Facts`
    (`Facts(ns, {**facts, name: value})`). A dict still, so that reading one costs what reading a dict does.
    """

    __slots__ = ("namespace",)
    namespace: str

    def __init__(self, namespace: str, values: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
        if hasattr(self, "namespace"):  # (made already: `facts.__init__(...)` again would fill it anew)
            self._refuse()
        super().__init__(values)  # (dict's own filling, in C: not the refusing methods below)
        object.__setattr__(self, "namespace", namespace)

    def __missing__(self, key: str) -> Any:
        raise MissingFact(f"{self.namespace}.{key}")

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(msg("loading.run.facts_read_only", namespace=self.namespace))

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __setattr__(self, name: str, value: Any) -> None:  # (its namespace too, once it has one)
        if hasattr(self, name):
            self._refuse()
        object.__setattr__(self, name, value)

    def __reduce__(self) -> tuple[Any, ...]:  # (copied and pickled whole: dict's way sets each key on the copy)
        return (Facts, (self.namespace, dict(self)))


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


def _date_of(year: Any, month: Any, day: Any) -> _dt.date:
    """The date year-month-day ("上年10月1日": date_of(claim.funding_year - 1, 10, 1)); a day past the month's end is
    its last day (date_of(y, 2, 31) is the end of February); a month outside 1-12 is a ValueError (a clean error)."""
    y, m, d = _whole(year, "date_of"), _whole(month, "date_of"), _whole(day, "date_of")
    if not 1 <= m <= 12 or d < 1:
        raise ValueError(msg("loading.run.date_of", y=y, m=m, d=d))
    return _clamped(y, m, d)


def _whole(n: Any, function: str) -> int:
    """A whole number of days, months or years (an int, or a Decimal without a fraction); else a TypeError."""
    if isinstance(n, bool) or not isinstance(n, int | Decimal) or n != int(n):
        raise TypeError(msg("loading.run.whole", function=function, value=repr(n)))
    return int(n)


def _date_argument(value: Any, function: str) -> _dt.date:
    if not isinstance(value, _dt.date):
        raise TypeError(msg("loading.run.date_arg", function=function, type=type(value).__name__))
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
        raise ValueError(msg("loading.run.date_text", value=repr(text)))
    return value


def _percent_literal(number: Any) -> Decimal:
    """The reference evaluator's reading of `4.35%` (compiled expressions hold it as an exact constant)."""
    return Decimal(str(number)).scaleb(-2)


def _latest_on_or_before(dates: list[_dt.date] | tuple[_dt.date, ...], day: _dt.date) -> _dt.date | None:
    """The most recent of `dates` on or before `day`, or None. One pass over a list a claim bounds (its
    schema caps every list), so the cost is bounded; anything but a list of dates and a date is a TypeError."""
    if not isinstance(dates, list | tuple) or not isinstance(day, _dt.date):
        raise TypeError(msg("loading.run.latest_args", dates=type(dates).__name__, day=type(day).__name__))
    latest = None
    for d in dates:
        if not isinstance(d, _dt.date):
            raise TypeError(msg("loading.run.latest_elements", type=type(d).__name__))
        if d <= day and (latest is None or d > latest):
            latest = d
    return latest


def _param(parameter: Any, day: Any) -> Any:
    """`param("name", date)`: the value of a dated parameter in force on `day`. A day before its first value is a
    gap of the policy: MissingFact `param.<name>@<day>`, so the item is incomplete naming both, never a crash."""
    if not isinstance(day, _dt.date):
        raise TypeError(msg("loading.run.param_date", type=type(day).__name__))
    value = parameter.at(day)
    if value is None:
        raise MissingFact(f"param.{parameter.name}@{day.isoformat()}")
    return value.value


#: The name of the dated-parameter function (handled by the checker, not in FUNCTIONS: its first argument names
#: a parameter of the policy, checked at load).
PARAM_FUNCTION = "param"
PARAM_DOC = msg("loading.fn.param")


def _first(values: list[Any] | tuple[Any, ...]) -> Any:
    return values[0] if values else None


def _written_alike(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def _same_name(a: Any, b: Any) -> bool:
    """Two names that are one once written alike: full-width and half-width forms as one (（北京） and (北京), ＡＢ and
    AB), spaces and letter case set aside. A right holder copied from a certificate and the applicant's registered
    name differ so without being two holders; anything but two texts compares as `==` does."""
    if isinstance(a, str) and isinstance(b, str):
        return a == b or _written_alike(a) == _written_alike(b)  # (most are written the same: no folding then)
    return _same(a, b)


def _same_name_in(name: Any, names: list[Any] | tuple[Any, ...]) -> bool:
    """Whether `name` is one of `names` as `same_name` compares them (an applicant among an item's right holders)."""
    if name in names:  # (mostly written the same: no folding then)
        return True
    return any(_same_name(name, other) for other in names)


def _count(values: list[Any] | tuple[Any, ...]) -> int:
    return len(values)


_COLLECTIONS = (list, tuple, frozenset, set)


def _join(a: Any, b: Any) -> Any:
    """`+` where a side may be a list: two lists of any kind joined (a list fact is a tuple, a set of codes a
    frozenset -- its codes in order -- and a written list a list: `+` of two of them failed on every claim)."""
    both = isinstance(a, _COLLECTIONS) and isinstance(b, _COLLECTIONS)
    if both and (type(a) is not type(b) or isinstance(a, frozenset | set)):  # a tuple and a list, or sets of codes
        return (*(sorted(a) if isinstance(a, frozenset | set) else a), *(sorted(b) if isinstance(b, frozenset | set) else b))
    return a + b  # (two written lists, or two list facts: as Python joins them, `["a"] + ["b"] == ["a", "b"]`)


def _same(a: Any, b: Any) -> bool:
    """`==` where a side may be a list: two lists are equal when they hold the same entries in the same order,
    whatever kind each is (a list fact is a tuple, a written list a list: as Python compares them, `["a"]` never
    equals a fact `("a",)`); a set of codes (a frozenset) equals a list holding the same codes, in any order."""
    if isinstance(a, _COLLECTIONS) and isinstance(b, _COLLECTIONS):
        if isinstance(a, frozenset | set) or isinstance(b, frozenset | set):
            return frozenset(a) == frozenset(b)
        return tuple(a) == tuple(b)
    return bool(a == b)


def _among(a: Any, b: Any) -> bool:
    """`in` where the left side may be a list: a list is among others when one of them has its entries (`_same`);
    `item.tags in (["a"], ["b"])` was False on every claim, as `==` was."""
    if isinstance(a, _COLLECTIONS) and isinstance(b, _COLLECTIONS):
        return any(_same(a, x) for x in b)
    return bool(a in b)


def _mul(a: Any, b: Any) -> Any:
    """`*` on numbers only: repeating a string or list (`"x" * 10**15`) would make evaluation unbounded."""
    if not isinstance(a, int | Decimal) or not isinstance(b, int | Decimal):
        raise TypeError(msg("loading.run.multiply", left=type(a).__name__, right=type(b).__name__))
    return a * b


def _div(a: Any, b: Any) -> Any:
    """`/` exactly: two whole numbers (counts, integers) divide as Decimals. Python's `/` gave a binary float, and
    3 / 10 >= 0.3 was false (0.3 is the Decimal 0.3, the float a hair under it): an applicant at the threshold
    refused, and a rate of such a base a TypeError (Decimal times float)."""
    if isinstance(b, int | Decimal) and not isinstance(b, bool) and b == 0:
        raise ZeroDivisionError(msg("loading.run.divide_by_zero"))  # (a Decimal said "[<class 'decimal.DivisionByZero'>]")
    if type(a) is int and type(b) is int:
        return Decimal(a) / Decimal(b)
    return a / b


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
    "date_of": _date_of,
    "add_years": _add_years,
    "add_months": _add_months,
    "add_days": _add_days,
    "days_between": _days_between,
    "months_between": _months_between,
    "latest_on_or_before": _latest_on_or_before,
    "first": _first,
    "same_name": _same_name,
    "same_name_in": _same_name_in,
    "patent_kind": cn_patent_kind,
    "count": _count,
    "len": _count,
    "min": min,
    "max": max,
    "abs": abs,
}

#: What each function does, in the reader's language (`loading.fn.<name>`): the hint of an error about a call.
FUNCTION_DOCS: dict[str, Msg] = {name: msg(f"loading.fn.{name}") for name in FUNCTIONS}


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


def _arguments(least: int, most: int | None) -> Msg:
    if most is None:
        return msg("loading.expr.arguments_or_more", n=least)
    if least == most:
        return msg("loading.expr.argument_one" if least == 1 else "loading.expr.arguments", n=least)
    return msg("loading.expr.arguments_range", least=least, most=most)


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

#: A construct outside the language, said in the officer's words (`loading.node.<key>`).
_NODE_WORDS = {
    ast.Lambda: "lambda_functions",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Subscript: "indexing",
    ast.Pow: "power",
    ast.FloorDiv: "floor_division",
    ast.Mod: "modulo",
    ast.NamedExpr: "assignment",
    ast.Dict: "dictionary_literals",
    ast.Set: "set_literals",
    ast.JoinedStr: "f_strings",
    ast.Starred: "unpacking",
    ast.BitAnd: "bit_operators",
    ast.BitOr: "bit_operators",
    ast.BitXor: "bit_operators",
    ast.LShift: "bit_operators",
    ast.RShift: "bit_operators",
    ast.Invert: "bit_operators",
    ast.Await: "await",
}


class ExpressionError(ValueError):
    """An expression outside the allowed language; `hint` says what is allowed."""

    def __init__(self, message: Msg, hint: Msg | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.column = column


#: Resolves a fact reference. Returns None if known, else a message (with a hint).
FactResolver = Callable[[str, str], "tuple[Msg, Msg | None] | None"]
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
    "date_of": frozenset({DATE}),
    "add_years": frozenset({DATE}),
    "add_months": frozenset({DATE}),
    "add_days": frozenset({DATE}),
    "latest_on_or_before": frozenset({DATE, NONE}),
    "patent_kind": frozenset({TEXT}),
    "same_name": frozenset({BOOL}),
    "same_name_in": frozenset({BOOL}),
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
    "date_of": (_WHOLE_ARG, _WHOLE_ARG, _WHOLE_ARG),
    "add_years": (_DATE_ARG, _WHOLE_ARG),
    "add_months": (_DATE_ARG, _WHOLE_ARG),
    "add_days": (_DATE_ARG, _WHOLE_ARG),
    "days_between": (_DATE_ARG, _DATE_ARG),
    "months_between": (_DATE_ARG, _DATE_ARG),
    "latest_on_or_before": ((frozenset({LIST}), frozenset({DATE}), "date_list"), _DATE_ARG),
    "count": ((frozenset({LIST, TEXT}), None, "list"),),
    "len": ((frozenset({LIST, TEXT}), None, "list"),),
    "first": ((frozenset({LIST, TEXT}), None, "list"),),
    "patent_kind": ((frozenset({TEXT}), None, "text"),),
    "same_name": ((frozenset({TEXT, NONE}), None, "text"), (frozenset({TEXT, NONE}), None, "text")),
    "same_name_in": ((frozenset({TEXT, NONE}), None, "text"), (frozenset({LIST}), frozenset({TEXT}), "string_list")),
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


def kind_word(kind: str) -> Msg | str:
    """One kind in the officer's words (`KIND_WORDS`, said in the reader's language); another as it is."""
    return msg(f"loading.kind.{kind}") if kind in KIND_WORDS else kind


def either(words: list[Msg | str]) -> Msg | str:
    """ "a date or None", said in the reader's language ("日期或 None")."""
    if len(words) == 1:
        return words[0]
    return msg("loading.kind.either", first=words[0], rest=either(words[1:]))


def _words(kinds: frozenset[str], coarse: bool = False) -> Msg | str:
    """Kinds in the officer's words: "an amount of money", "a date or None"; `coarse`: numbers as "a number"."""
    shown = sorted((_coarse(kinds) if coarse else kinds) - {NONE}) or [NONE]
    if not coarse and len(shown) > 1 and set(shown) <= NUMBERS:
        shown = [NUM]
    return either([kind_word(k) for k in shown])


def _a(word: str) -> Msg:
    """A fact's declared type with its article ("a money fact"'s "money"): `loading.type.<type>`."""
    return msg("loading.type.an" if word[:1] in "aeiou" else "loading.type.a", type=word)


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


def arithmetic_kinds(op: ast.operator, left: frozenset[str], right: frozenset[str]) -> tuple[frozenset[str], Msg | None, Msg | None]:
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
    problem = msg("loading.expr.cannot_combine", left=_words(left, True), right=_words(right, True), sign=sign)
    hint: Msg | None = msg("loading.expr.plus_works_on" if sign == "+" else "loading.expr.sign_works_on", sign=sign)
    if DATE in cl and DATE in cr and sign == "-":
        problem = msg("loading.expr.date_minus_date")
        hint = msg("loading.expr.date_minus_date_hint")
    elif DATE in cl | cr and sign in "+-":
        hint = msg("loading.expr.move_a_date_hint")
    elif BOOL in cl | cr:
        hint = msg("loading.expr.yes_no_not_a_number_hint")
    return frozenset({UNKNOWN}), problem, hint  # (the problem is reported where it is)


_PERCENT_CALL = re.compile(r"_pct_\(([0-9.]+)\)")


def _as_written(node: ast.AST) -> str:
    """An expression's part as the policy writes it: a percent literal as `50%`, not the checker's `_pct_(50)`."""
    return _PERCENT_CALL.sub(r"\1%", ast.unparse(node))


def comparison_problem(op: ast.cmpop, left: _Kinds, right: _Kinds) -> tuple[Msg, Msg | None] | None:
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
        plural = {DATE: "dates", TEXT: "texts", NUM: "numbers", BOOL: "yes_no_values", LIST: "lists"}
        inside: Msg | str = (
            msg(
                "loading.kind.list_of",
                kinds=either([msg(f"loading.kind.plural.{plural[k]}") if k in plural else k for k in sorted(elements)]),
            )
            if LIST in cr and elements
            else _words(rk, True)
        )
        return msg("loading.expr.never_in", left=_words(lk, True), inside=inside), None
    if {lk - {NONE}, rk - {NONE}} == {frozenset({MONEY}), frozenset({PERCENT})}:
        # an amount against a percentage (`item.interest > 50%`: true of anything above 0.50 yuan): never meant
        return msg("loading.expr.money_percent"), msg("loading.expr.money_percent_hint")
    if cl & cr:
        return None
    problem = msg("loading.expr.cannot_compare", left=_words(lk, True), right=_words(rk, True))
    both = cl | cr
    hint: Msg | None = None
    if DATE in both and TEXT in both:
        hint = msg("loading.expr.compare_date_text_hint")
    elif DATE in both and NUM in both:
        hint = msg("loading.expr.compare_date_number_hint")
    elif TEXT in both and NUM in both:
        hint = msg("loading.expr.compare_text_number_hint")
    elif BOOL in both:
        hint = msg("loading.expr.compare_yes_no_hint")
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
    #: each `param("name", date)` it makes, outermost ones only: (parameter name, the date argument's source, the
    #: source of the condition under which the look-up is made -- see `param_conditions` -- or None: always)
    params: tuple[tuple[str, str, str | None], ...] = field(default=(), compare=False)

    def __call__(self, item: Facts, applicant: Facts, claim: Facts) -> Any:
        return self.function(item, applicant, claim)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """The dated parameters its outermost look-ups name, in order (a name once per look-up)."""
        return tuple(name for name, _, _ in self.params)


_CHINESE_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:([万千亿])元?|元)")
_CHINESE_UNITS = {"万": 10**4, "千": 10**3, "亿": 10**8}


def _yuan(m: re.Match[str]) -> str:
    """`20万` -> "200000", `12.5万元` -> "125000", `3000元` -> "3000": the number of yuan a written amount means."""
    value = Decimal(m.group(1)) * _CHINESE_UNITS.get(m.group(2) or "", 1)
    return f"{value.normalize():f}"


def literal_outcomes(source: str) -> tuple[str, ...] | None:
    """The texts an expression made only of quoted literals and `a if c else b` can give, in order of first
    appearance (`'x' if c else 'y'` gives ('x', 'y')); None for any other expression. Called on an expression
    already checked (so within its size bounds)."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError:
        return None
    out: list[str] = []

    def leaves(node: ast.expr) -> bool:
        if isinstance(node, ast.IfExp):
            return leaves(node.body) and leaves(node.orelse)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value not in out:
                out.append(node.value)
            return True
        return False

    return tuple(out) if leaves(tree.body) else None


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
        self.params: list[tuple[str, str, str | None]] = []
        self.param_when: dict[tuple[int, int], str | None] = {}  # where each param() call is -> its condition (set before the walk)
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

    def fail(self, node: ast.AST, message: Msg, hint: Msg | None = None) -> ExpressionError:
        return ExpressionError(message, hint, getattr(node, "col_offset", None))

    def generic_visit(self, node: ast.AST) -> ast.AST:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(node, msg("loading.expr.too_complex", limit=MAX_NODES))
        if not isinstance(node, _ALLOWED_NODES):
            what = msg(f"loading.node.{_NODE_WORDS[type(node)]}") if type(node) in _NODE_WORDS else type(node).__name__
            raise self.fail(node, msg("loading.expr.node_not_allowed", what=what), msg("loading.expr.node_not_allowed_hint"))
        return super().generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        self.count += 1
        value = node.value
        if isinstance(value, bool) or value is None:
            return node
        if isinstance(value, str):
            if len(value) > MAX_STRING_LITERAL:
                raise self.fail(node, msg("loading.expr.string_too_long", limit=MAX_STRING_LITERAL))
            unseen = unshown_character(value)  # ('\x1b[2J' written as an escape: the YAML text holds no ESC itself)
            if unseen is not None:
                raise self.fail(node, msg("loading.expr.unshown", character=unseen), msg("loading.expr.unshown_hint"))
            return node
        if isinstance(value, int):
            if abs(value) > MAX_INT_LITERAL:
                raise self.fail(node, msg("loading.expr.number_too_large", number=str(value), limit=MAX_INT_LITERAL))
            return node
        if isinstance(value, float):
            # Exactness: 0.1 in an expression means Decimal('0.1'), never a binary float -- and the value is read
            # from the literal's own text, not from the float Python parsed (0.12345678901234567890 keeps its
            # 20 places, 1e400 is not infinity).
            return self.constant(node, self.decimal_literal(node), frozenset({DECIMAL}))
        raise self.fail(node, msg("loading.expr.literal_not_allowed", value=repr(value)))

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
            raise self.fail(node, msg("loading.expr.number_too_long", limit=MAX_DECIMAL_LITERAL))
        try:
            value = Decimal(text)
        except ArithmeticError:
            raise self.fail(node, msg("loading.expr.not_decimal", value=repr(text))) from None
        if not value.is_finite():
            raise self.fail(node, msg("loading.expr.not_finite", number=text))
        if value.copy_abs() > MAX_INT_LITERAL:  # (copy_abs: exact, whatever the decimal context)
            raise self.fail(node, msg("loading.expr.number_too_large", number=text, limit=MAX_INT_LITERAL))
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int)  # finite
        if exponent < -MAX_DECIMAL_PLACES:
            raise self.fail(node, msg("loading.expr.too_many_places", number=text, limit=MAX_DECIMAL_PLACES))
        if exponent > 0:  # 1e5 means 100000, written out (a Decimal's exponent shows in what it makes)
            value = Decimal(int(value))
        return value

    def visit_Name(self, node: ast.Name) -> ast.AST:
        self.count += 1
        if id(node) in self.made:
            return node
        if node.id in NAMESPACES:
            raise self.fail(node, msg("loading.expr.namespace_alone", name=node.id), msg("loading.expr.namespace_alone_hint", name=node.id))
        if node.id.startswith("_"):
            raise self.fail(node, msg("loading.expr.name_not_allowed", name=repr(node.id)))
        if node.id in self.names:
            if node.id not in self.computed:
                self.computed.append(node.id)
            return ast.copy_location(ast.Name(id="_V_" + node.id, ctx=ast.Load()), node)
        if node.id in COMPUTED_NAMES:
            raise self.fail(node, msg("loading.expr.computed_not_here", name=node.id), msg(f"loading.expr.computed_where.{node.id}"))
        constant = _CONSTANT_WORDS.get(node.id.casefold())
        if constant is not None:  # `== false` as YAML writes it: quoting it (the hint below) would compare with text
            raise self.fail(
                node, msg("loading.expr.constant_word", name=repr(node.id), fix=constant), msg("loading.expr.constant_word_hint")
            )
        raise self.fail(node, msg("loading.expr.unknown_name", name=repr(node.id)), msg("loading.expr.unknown_name_hint"))

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.count += 1
        if not isinstance(node.value, ast.Name) or node.value.id not in NAMESPACES:
            raise self.fail(node, msg("loading.expr.attribute"), msg("loading.expr.attribute_hint"))
        if node.attr.startswith("_"):
            raise self.fail(node, msg("loading.expr.name_not_allowed", name=repr(node.attr)))
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
                raise self.fail(node, msg("loading.expr.sign_on_non_number", operand=ast.unparse(node.operand), kinds=_words(kinds)))
        return self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        if isinstance(node.op, ast.Mult):
            for side in (node.left, node.right):
                can = self.kinds(side)[0] & _REPEATABLE
                if can:
                    what = either([msg(f"loading.kind.bare.{k}") for k in (TEXT, LIST, ANY) if k in can])
                    raise self.fail(node, msg("loading.expr.repeat", side=ast.unparse(side), what=what), msg("loading.expr.repeat_hint"))
        if not isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
            return self.generic_visit(node)  # refused as such
        left, right = self.kinds(node.left)[0], self.kinds(node.right)[0]
        _, problem, hint = arithmetic_kinds(node.op, left, right)
        # (said after the sides are checked: a problem inside them is the one to report)
        said = msg(
            "loading.expr.sides",
            left=ast.unparse(node.left),
            left_kinds=_words(left),
            right=ast.unparse(node.right),
            right_kinds=_words(right),
            problem=problem or "",
        )
        if isinstance(node.op, ast.Mult | ast.Div) or (isinstance(node.op, ast.Add) and LIST in _coarse(left) | _coarse(right)):
            self.count += 1
            join = "_F_mul" if isinstance(node.op, ast.Mult) else "_F_div" if isinstance(node.op, ast.Div) else "_F_join"
            call = ast.Call(func=ast.Name(id=join, ctx=ast.Load()), args=[node.left, node.right], keywords=[])
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
            raise self.fail(node, msg("loading.expr.only_functions"), msg("loading.expr.functions", functions=sorted(FUNCTIONS)))
        name = node.func.id
        if name == "_pct_" and (node.lineno, node.col_offset) in self.percents and len(node.args) == 1:
            return self.percent_literal(node)
        if name == PARAM_FUNCTION:
            return self.visit_param(node)
        if name not in FUNCTIONS:
            close = suggest(name, FUNCTIONS)
            functions = msg("loading.expr.functions", functions=sorted(FUNCTIONS))
            hint = msg("loading.expr.did_you_mean_function", guess=close, functions=functions) if close else functions
            raise self.fail(node, msg("loading.expr.unknown_function", name=name), hint)
        if node.keywords:
            raise self.fail(node, msg("loading.expr.keywords"))
        least, most = ARITY[name]
        given = len(node.args)  # (a * unpacking among them is refused as such below)
        if (given < least or (most is not None and given > most)) and not any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(node, msg("loading.expr.arity", name=name, takes=_arguments(least, most), given=given), FUNCTION_DOCS.get(name))
        if name == "date":
            return self.date_literal(node)
        for i, (arg, wanted) in enumerate(zip(node.args, ARGUMENT_KINDS.get(name, ()), strict=False)):
            if wanted is _DATE_ARG and isinstance(arg, ast.Constant) and isinstance(arg.value, str):  # "2019-12-31" as a date
                node.args[i] = self.as_date(arg, msg("loading.expr.takes_a_date", name=name))
        self.check_arguments(node, name)
        self.check_values(node, name)
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
                    whole = msg("loading.expr.whole_numbers", name=name, arg=ast.unparse(arg), kinds=_words(kinds))
                    raise self.fail(node, whole, FUNCTION_DOCS.get(name))
                continue
            if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and self.fact_types is not None:
                declared = either([_a(t) for t in self.fact_types(arg.value.id, arg.attr)])
                message = msg("loading.expr.needs_fact", name=name, words=words, fact=f"{arg.value.id}.{arg.attr}", declared=declared)
            else:
                wanted = kind_word(words) if words in KIND_WORDS else _a(words)
                message = msg("loading.expr.needs", name=name, wanted=wanted, arg=ast.unparse(arg), kinds=_words(kinds))
            raise self.fail(node, message, FUNCTION_DOCS.get(name))

    def check_values(self, node: ast.Call, name: str) -> None:
        """What `check_arguments` cannot say by each argument alone: `first` of a set of codes (its order is not
        kept), `min`/`max` of values of kinds that never compare, `date_of` of written numbers that make no date.
        Each failed on every claim, blamed on the claim's facts."""
        args = node.args
        if name == "first" and len(args) == 1 and isinstance(args[0], ast.Attribute) and isinstance(args[0].value, ast.Name):
            fact = f"{args[0].value.id}.{args[0].attr}"
            declared = set(self.fact_types(args[0].value.id, args[0].attr)) if self.fact_types is not None else set()
            if declared and declared <= {"enum_list", "document_list"}:
                raise self.fail(node, msg("loading.expr.first_of_set", fact=fact), FUNCTION_DOCS.get(name))
        if name in ("min", "max") and len(args) > 1:
            first = self.kinds(args[0])
            for arg in args[1:]:
                wrong = comparison_problem(ast.Lt(), first, self.kinds(arg))
                if wrong is not None:
                    said = msg("loading.expr.min_max_kinds", name=name, left=ast.unparse(args[0]), right=ast.unparse(arg), problem=wrong[0])
                    raise self.fail(node, said, wrong[1] or FUNCTION_DOCS.get(name))
        if name == "date_of" and len(args) == 3 and all(isinstance(a, ast.Constant) and type(a.value) is int for a in args[1:]):
            month, day = (a.value for a in args[1:])  # type: ignore[attr-defined]
            if not 1 <= month <= 12 or day < 1:
                raise self.fail(node, msg("loading.expr.date_of_written", month=month, day=day), FUNCTION_DOCS.get(name))

    def visit_param(self, node: ast.Call) -> ast.AST:
        """`param("name", date)` -> `_F_param(<the parameter>, date)`; the name must be a string literal naming a
        parameter of the policy (did-you-mean otherwise), the date a date."""
        if node.keywords or len(node.args) != 2:
            raise self.fail(node, msg("loading.expr.arity", name="param", takes=_arguments(2, 2), given=len(node.args)), PARAM_DOC)
        name_node, day = node.args
        if not (isinstance(name_node, ast.Constant) and isinstance(name_node.value, str)):
            raise self.fail(node, msg("loading.expr.param_name"), PARAM_DOC)
        name = name_node.value
        if name not in self.parameters:
            close = suggest(name, self.parameters)
            known = msg("loading.expr.parameters", names=sorted(self.parameters)) if self.parameters else msg("loading.expr.no_parameters")
            hint = msg("loading.expr.did_you_mean_parameter", guess=repr(close), known=known) if close else known
            raise self.fail(node, msg("loading.expr.unknown_parameter", name=repr(name)), hint)
        day_kinds = self.kinds(day)[0]
        if not (day_kinds & (_OPEN | {DATE})):
            raise self.fail(node, msg("loading.expr.param_date", day=ast.unparse(day), kinds=_words(day_kinds)), PARAM_DOC)
        if not self.in_param:  # (only the outermost: each date compiled for the trace records its own, so linear)
            when = self.param_when.get((node.lineno, node.col_offset))
            self.params.append((name, ast.get_source_segment(self.source, day) or ast.unparse(day), when))
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
            fixed = slips.iso_date(arg.value) if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None
            if fixed is not None:  # date("2021/3/5")
                raise self.fail(
                    node, msg("loading.expr.date_call_fix", value=shown, fix=f'date("{fixed}")'), msg("loading.expr.date_call_hint")
                )
            raise self.fail(node, msg("loading.expr.date_call", value=shown), msg("loading.expr.date_call_hint"))
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
            raise self.fail(node, msg("loading.expr.percent_after_number"), msg("loading.expr.percent_after_number_hint"))
        return self.constant(node, number.scaleb(-2), frozenset({PERCENT}))

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.dates_from_text(node)
        sides = [node.left, *node.comparators]
        problem: tuple[Msg, Msg | None] | None = None
        lists: tuple[str, str] | None = None  # the first pair compared with == or != where a side can be a list
        for op, a, b in zip(node.ops, sides, sides[1:], strict=False):
            if isinstance(op, ast.Is | ast.IsNot) and not any(
                isinstance(x, ast.Constant) and x.value in (None, True, False) for x in (a, b)
            ):
                # `item.kind is "invention"` compares objects, not values: false of every claim, and Python warns
                raise self.fail(
                    node, msg("loading.expr.is_literal", left=ast.unparse(a), right=ast.unparse(b)), msg("loading.expr.is_literal_hint")
                )
            # Remember fact-vs-literal comparisons so the semantic check can test enum values.
            for fact_side, lit_side in ((a, b), (b, a)):
                if isinstance(fact_side, ast.Attribute) and isinstance(fact_side.value, ast.Name) and fact_side.value.id in NAMESPACES:
                    literals = _literals(lit_side)
                    if literals:
                        self.compares.append((f"{fact_side.value.id}.{fact_side.attr}", literals))
            left, right = self.kinds(a), self.kinds(b)
            said = comparison_problem(op, left, right)
            if said is not None and problem is None:
                both = {"left": _as_written(a), "left_kinds": _words(left[0]), "right": _as_written(b), "right_kinds": _words(right[0])}
                problem = (msg("loading.expr.sides", **both, problem=said[0]), said[1])
            if isinstance(op, ast.Eq | ast.NotEq) and LIST in _coarse(left[0]) | _coarse(right[0]) and problem is None:
                lists = lists or (ast.unparse(a), ast.unparse(b))
            elif isinstance(op, ast.In | ast.NotIn) and LIST in _coarse(left[0]) and problem is None:  # a list among lists
                lists = lists or (ast.unparse(a), ast.unparse(b))
        out = self.generic_visit(node)
        if problem is not None:  # (after the sides are checked: a problem inside them is the one to report)
            raise self.fail(node, *problem)
        if lists is None:
            return out
        # a list compared by its entries (`_same`), not by its kind of list: one pair at a time
        if len(node.ops) > 1:
            raise self.fail(node, msg("loading.expr.list_chain", left=lists[0], right=lists[1]), msg("loading.expr.list_chain_hint"))
        self.count += 1
        how = "_F_among" if isinstance(node.ops[0], ast.In | ast.NotIn) else "_F_same"
        same: ast.expr = ast.Call(func=ast.Name(id=how, ctx=ast.Load()), args=[node.left, *node.comparators], keywords=[])
        if isinstance(node.ops[0], ast.NotEq | ast.NotIn):
            same = ast.UnaryOp(op=ast.Not(), operand=same)
        return ast.copy_location(same, node)

    def dates_from_text(self, node: ast.Compare) -> None:
        """A quoted "YYYY-MM-DD" compared with a date is that date (read now; a text that is no date is an error)."""
        sides = [node.left, *node.comparators]
        for i, (op, a, b) in enumerate(zip(node.ops, sides, sides[1:], strict=False)):
            for j, date_side, text_side in ((i + 1, a, b), (i, b, a)):
                if _coarse(self.kinds(date_side)[0]) - {NONE} != {DATE}:
                    continue
                if isinstance(op, ast.In | ast.NotIn) and j == i + 1 and isinstance(text_side, ast.Tuple | ast.List):
                    said = msg("loading.expr.is_a_date", side=ast.unparse(date_side))
                    text_side.elts = [self.as_date(e, said) for e in text_side.elts]
                    self.memo.pop(id(text_side), None)
                elif isinstance(text_side, ast.Constant) and isinstance(text_side.value, str):
                    sides[j] = self.as_date(text_side, msg("loading.expr.is_a_date", side=ast.unparse(date_side)))
        node.left, node.comparators = sides[0], sides[1:]

    def as_date(self, node: ast.expr, why: Msg) -> ast.expr:
        """A quoted text where a date goes, read as that date; `why` says why a date goes there."""
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            return node
        value = parse_date_literal(node.value)
        if value is None:
            fixed = slips.iso_date(node.value)
            if fixed is not None:  # "2021/3/5"
                raise self.fail(
                    node,
                    msg("loading.expr.as_date_fix", why=why, value=repr(node.value), fix=f'"{fixed}"'),
                    msg("loading.expr.as_date_hint"),
                )
            raise self.fail(node, msg("loading.expr.as_date", why=why, value=repr(node.value)), msg("loading.expr.as_date_hint"))
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
        raise ExpressionError(msg("loading.expr.not_text", type=type(source).__name__))
    if len(source) > MAX_SOURCE_CHARS:
        raise ExpressionError(msg("loading.expr.too_long", limit=MAX_SOURCE_CHARS))
    if not source.strip():
        raise ExpressionError(msg("loading.expr.empty"))
    text, percents = percent_literals(source.strip())
    dated = _bare_date(text)
    if dated is not None:
        raise dated
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise _syntax_slip(text, exc) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(msg("loading.expr.too_deep_or_large", limit=MAX_DEPTH)) from None
    _check_depth(tree)
    if isinstance(tree.body, ast.Tuple):  # `item.fee >= 1,000` reads as the pair (item.fee >= 1, 000): always true
        raise _comma_slip(text, tree.body)
    checker = _Checker(resolve, text, fact_types, percents, names, parameters)
    if parameters and "param" in text:
        checker.param_when = param_conditions(tree, text)
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
        raise ExpressionError(msg("loading.expr.cannot_compile", detail=str(exc))) from None
    namespace: dict[str, Any] = {"__builtins__": {}}
    namespace.update({"_F_" + k: v for k, v in FUNCTIONS.items()})
    namespace.update(_OPERATORS)
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


def param_conditions(tree: ast.Expression, text: str) -> dict[tuple[int, int], str | None]:
    """Where each `param(...)` call is (line, column) -> the condition under which it is evaluated, as policy source:
    the tests of the `a if c else b` around it (`c`, or `not (c)` in the else branch), the operands of `and` / `or`
    before it, and the comparisons before it in a chain (`a < b < c`), joined by `and`; None when it is always
    evaluated. The trace records a look-up only where its condition
    holds, so that an explanation shows the value a branch used, not every branch's (`rate_a if short else rate_b`).
    Called on a tree already within MAX_DEPTH, so the recursion is bounded."""
    out: dict[tuple[int, int], str | None] = {}

    def said(node: ast.expr, holds: bool) -> str:
        part = _PERCENT_CALL.sub(r"\1%", ast.get_source_segment(text, node) or ast.unparse(node))
        return f"({part})" if holds else f"not ({part})"

    def walk(node: ast.AST, conditions: tuple[str, ...]) -> None:
        if isinstance(node, ast.IfExp):
            walk(node.test, conditions)
            walk(node.body, (*conditions, said(node.test, True)))
            walk(node.orelse, (*conditions, said(node.test, False)))
            return
        if isinstance(node, ast.BoolOp):
            holds = isinstance(node.op, ast.And)  # `a and b`: b is evaluated when a holds; `a or b`: when it does not
            before = conditions
            for value in node.values:
                walk(value, before)
                before = (*before, said(value, holds))
            return
        if isinstance(node, ast.Compare) and len(node.ops) > 1:  # `a < b < c`: c is evaluated only when a < b holds
            walk(node.left, conditions)
            before, prev = conditions, node.left
            for op, cur in zip(node.ops, node.comparators, strict=True):
                walk(cur, before)
                pair = ast.unparse(ast.Compare(left=prev, ops=[op], comparators=[cur]))  # (no source of its own)
                before, prev = (*before, "(" + _PERCENT_CALL.sub(r"\1%", pair) + ")"), cur
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == PARAM_FUNCTION:
            out.setdefault((node.lineno, node.col_offset), " and ".join(conditions) or None)
        for child in ast.iter_child_nodes(node):
            walk(child, conditions)

    walk(tree.body, ())
    return out


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
    -- `year`, `count`, `len` and `first` of a fact written as what they do --, `*` as `_F_mul`, `/` as `_F_div`,
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


#: what the checker writes some operators and look-ups as (`*`, `+` of lists, `==` and `in` of lists, a parameter)
_OPERATORS: dict[str, Any] = {"_F_mul": _mul, "_F_div": _div, "_F_join": _join, "_F_same": _same, "_F_among": _among, "_F_param": _param}
_INLINE_NAMES: dict[str, Any] = {"_F_" + k: v for k, v in FUNCTIONS.items()} | _OPERATORS | {"_B_len": len}
_CONSTANT_NUMBERS = itertools.count()

#: What an inlined expression body may raise on unexpected data (see `inline_source`).
RUNTIME_ERRORS = _RUNTIME_ERRORS


#: `1,000` or `1，000` between digits in an expression: a thousands separator.
_THOUSANDS = re.compile(r"(?<![0-9.])[0-9]{1,3}(?:[,，][0-9]{3})+(?:\.[0-9]+)?(?![0-9])")
#: yes, no and nothing as a person writes them in YAML or JSON, and as an expression does (True, False, None)
_CONSTANT_WORDS = {"true": "True", "false": "False", "none": "None", "null": "None", "yes": "True", "no": "False"}
#: A single `=` (not part of ==, !=, <=, >=, nor of ！= ＞= typed full-width) outside quotes: meant as `==`.
_SINGLE_EQUALS = re.compile(r"(?<![=!<>＝！＜＞])=(?!=)")
#: The words for "and" and "or" a person types in place of the expression's own (且, 或者, &&, ||), and the word to write.
_LOGIC_WORDS = {"&&": "and", "||": "or", "并且": "and", "而且": "and", "且": "and", "或者": "or", "或": "or"}
_LOGIC_WORD = re.compile("|".join(re.escape(w) for w in _LOGIC_WORDS))
#: An amount with a unit a person may type (50w, 5k): an expression has no units.
_TYPED_AMOUNT = re.compile(r"(?<![\w.])([0-9]+(?:\.[0-9]+)?)\s*(w|W|k|K)(?![\w])")


def _unquoted(text: str) -> str:
    """`text` with the inside of each quoted string blanked out (a `=` or `,` inside quotes is no slip)."""
    return re.sub(r"'[^']*'|\"[^\"]*\"", lambda m: " " * len(m.group(0)), text)


#: a date written outside quotes: 2018-01-01 (a subtraction, or Python's "leading zeros" error), 2018/1/1, 2018.1.1,
#: 2018年1月1日 (as the measures print it)
_BARE_DATE = re.compile(
    r"(?<![\w.])(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|\.(\d{1,2})\.(\d{1,2})|年(\d{1,2})月(\d{1,2})日)(?![\w.])"
)


def _bare_date(text: str) -> ExpressionError | None:
    """A date written in an expression without quotes, said with its fix ("2018-01-01"): it was Python's English about
    leading zeros in integers, or no error at all (2018-12-31 is 1975) until a date was compared with the number."""
    m = _BARE_DATE.search(_unquoted(text))
    if m is None:
        return None
    year, month, day = m.group(1), *next((m.group(i), m.group(i + 1)) for i in (2, 4, 6, 8) if m.group(i) is not None)
    fixed = f"{year}-{int(month):02d}-{int(day):02d}"
    return ExpressionError(
        msg("loading.expr.bare_date", written=m.group(0), fix=fixed), msg("loading.expr.bare_date_hint", fix=fixed), m.start()
    )


def _syntax_slip(text: str, exc: SyntaxError) -> ExpressionError:
    """The syntax error of an expression, said with the fix for the slip behind it when there is one."""
    column = (exc.offset or 1) - 1
    bare = _unquoted(text)
    unit = _CHINESE_AMOUNT.search(bare)
    if unit is not None:  # `amount >= 20万`: the amounts of a policy's fields are not in its expressions
        written, fixed = unit.group(0), _yuan(unit)
        return ExpressionError(
            msg("loading.expr.amount_unit", written=written, fix=fixed),
            msg("loading.expr.amount_unit_hint", written=written, fix=fixed),
            column,
        )
    typed = _TYPED_AMOUNT.search(bare)
    if typed is not None:  # `amount >= 50w`
        return ExpressionError(
            msg("loading.expr.amount_letter", written=typed.group(0), fix=slips.yuan(typed.group(0))), msg("loading.expr.no_units"), column
        )
    separated = _THOUSANDS.search(bare)
    if separated is not None and "，" in separated.group(0):
        return _thousands(separated.group(0), column)
    logic = _LOGIC_WORD.search(bare)
    if logic is not None:  # `a 且 b`, `a || b`: the expression says and, or
        word = logic.group(0)
        return ExpressionError(
            msg("loading.expr.logic_word", word=word, fix=_LOGIC_WORDS[word]), msg("loading.expr.logic_word_hint"), logic.start()
        )
    if _SINGLE_EQUALS.search(bare):
        return ExpressionError(msg("loading.expr.single_equals"), msg("loading.expr.single_equals_hint"), column)
    wide = _FULL_WIDTH_CHARACTER.match(str(exc.msg))
    if wide is not None and wide.group(1) in _MATH_SIGNS:  # ≥ ≤ ≠ × ÷ as the measures print them
        char = wide.group(1)
        return ExpressionError(msg("loading.expr.math_sign", char=char, fix=_MATH_SIGNS[char]), msg("loading.expr.syntax_hint"), column)
    if wide is not None and wide.group(1) in _FULL_WIDTH:  # （）“”＝ typed with a Chinese input method
        char = wide.group(1)
        return ExpressionError(
            msg("loading.expr.full_width", char=char, fix=_FULL_WIDTH[char]), msg("loading.expr.full_width_hint"), column
        )
    detail = _python_words(str(exc.msg))
    if "%" in text:
        return ExpressionError(msg("loading.expr.syntax", detail=detail), msg("loading.expr.percent_hint"), column)
    return ExpressionError(msg("loading.expr.syntax", detail=detail), msg("loading.expr.syntax_hint"), column)


#: Python's "invalid character" syntax error, and the characters a Chinese input method types for ASCII ones.
_FULL_WIDTH_CHARACTER = re.compile(r"^invalid character '(.)' \(U\+[0-9A-F]+\)$")
_FULL_WIDTH = {
    "（": "(",
    "）": ")",
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "＝": "=",
    "＞": ">",
    "＜": "<",
    "！": "!",
    "　": " ",
    "．": ".",
}
_FULL_WIDTH |= {"，": ",", "＋": "+", "－": "-", "＊": "*", "／": "/", "［": "[", "］": "]", "：": ":", "；": ";", "、": ","}
#: the signs a measure's text prints that an expression writes with two ASCII characters, or another one
_MATH_SIGNS = {"≥": ">=", "≤": "<=", "≠": "!=", "×": "*", "÷": "/", "⩾": ">=", "⩽": "<="}
#: Python's words for a syntax error, said in the reader's language (`loading.expr.python.<key>`).
_PYTHON_SAYS = (
    (re.compile(r"^invalid syntax"), "invalid_syntax"),
    (re.compile(r"^'(?P<bracket>.)' was never closed$"), "never_closed"),
    (re.compile(r"^unmatched '(?P<bracket>.)'$"), "unmatched"),
    (re.compile(r"^unterminated string literal"), "unterminated_string"),
    (re.compile(r"^invalid decimal literal$"), "invalid_decimal"),
)


def _python_words(said: str) -> Msg | str:
    for pattern, key in _PYTHON_SAYS:
        m = pattern.match(said)
        if m is not None:
            worded = msg(f"loading.expr.python.{key}", **m.groupdict())
            if str(worded) == said:
                return worded
    return said


def _thousands(written: str, column: int | None) -> ExpressionError:
    fixed = written.replace(",", "").replace("，", "")
    return ExpressionError(msg("loading.expr.thousands", written=written, fix=fixed), msg("loading.expr.thousands_hint"), column)


def _comma_slip(text: str, node: ast.Tuple) -> ExpressionError:
    separated = _THOUSANDS.search(_unquoted(text))
    if separated is not None:
        return _thousands(separated.group(0), node.col_offset)
    return ExpressionError(msg("loading.expr.tuple"), msg("loading.expr.tuple_hint"), node.col_offset)


def _check_depth(tree: ast.AST) -> None:
    """Refuse deeply nested trees iteratively, before any recursive walk or compile() could overflow."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(
                msg("loading.expr.too_deep", limit=MAX_DEPTH), msg("loading.expr.too_deep_hint"), getattr(node, "col_offset", None)
            )
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _detail(exc: BaseException) -> Msg | str:
    """What a run-time error says: the engine's own message (said in the reader's language), else Python's."""
    said = exc.args[0] if len(exc.args) == 1 else None
    return said if isinstance(said, Msg) else str(exc)


def _runtime_failure(source: str, filename: str) -> Callable[[BaseException], ClaimError]:
    file, _, line = filename.rpartition(":")
    where_file, where_line = (file, int(line)) if file and line.isdigit() else (filename, None)

    def fail(exc: BaseException) -> ClaimError:
        return ClaimError(
            [
                Problem(
                    msg("loading.run.cannot_evaluate", source=source, error=type(exc).__name__, detail=_detail(exc)),
                    file=where_file,
                    line=where_line,
                    code="evaluation",
                    expected=msg("loading.run.cannot_evaluate_expected"),
                )
            ],
            msg("loading.run.summary"),
        )

    return fail


#: simpleeval's operators, with lists compared by their entries as the compiled expressions compare them
#: (`_same`, `_among`): the reference semantics the matcher's three-valued parts are evaluated by must be the engine's
_REFERENCE_OPERATORS = {
    **DEFAULT_OPERATORS,
    ast.Div: _div,
    ast.Eq: _same,
    ast.NotEq: lambda a, b: not _same(a, b),
    ast.In: _among,
    ast.NotIn: lambda a, b: not _among(a, b),
}


def evaluate_with_simpleeval(source: str, item: Mapping[str, Any], applicant: Mapping[str, Any], claim: Mapping[str, Any]) -> Any:
    """Evaluate with simpleeval itself: the reference semantics, for interactive use and tests."""
    evaluator = EvalWithCompoundTypes(
        operators=_REFERENCE_OPERATORS,
        functions={**FUNCTIONS, "_pct_": _percent_literal},
        names={"item": dict(item), "applicant": dict(applicant), "claim": dict(claim)},
    )
    return evaluator.eval(percent_literals(source.strip())[0])
