"""Lint: what a schema cannot see in a policy that loads fine.

    problems = lint_file("policies/<measures>.yaml")   # [Problem(severity="error"|"warning"), ...]

Each finding is a `Problem` with file, line and column (from the loader's
source positions) and a code `lint.*`:

* `lint.never_applies` (error): a rule no claim can reach -- every applicant
  kind it admits is refused by a standing check, or one of its conditions is
  unsatisfiable for the declared fact types (a boolean compared to a string,
  an enum to a value outside it, `x == "a" and x == "b"`, `x > 5 and x < 3`)
  or bounds (`x > 100` for a fact declared `maximum: 50`, `cost < 0` for money);
* `lint.kind_unreachable` (warning): some admitted kinds can never pass;
* `lint.type_mismatch` (error): a comparison that is never true by type;
* `lint.cap_never_bites` (warning): a ceiling at or above all the rule could
  ever pay within the cap's scope (fixed, table, band and per-unit amounts, and
  rates of a fact with a declared `maximum`; a scoped cap under a limit);
* `lint.clause_unencoded` (error): a clause marked `computable: true` that nothing
  cites (a rule, check, cap, limit, subject, the header, the round budget, or any
  other `cites:` of the document); `lint.cites_non_computable` (warning);
* `lint.fact_unused` (warning): a declared fact no expression reads, unless it is
  marked `record_only: true`; `lint.record_only_used` (warning): one so marked that is read;
* `lint.number_not_in_clause` (error): a rule's rate, amount, ceiling or count, or
  a selection's first N, that the text of the clause it cites does not contain
  (100% inside `least` is the cost itself, and 100% in a clause stating no rate is
  "the actual cost"; in a rate table 0% is nothing and 100% beside another rate the
  standard itself: "按上述标准的50%").
  A clause's numbers are read in every form a measure writes them: 3,000 and
  300,000 (an ASCII comma between digit groups; a full-width ，ends a phrase),
  N千 / N万 / N百万, Chinese numerals (digits with 十/百/千/万, also in their capital
  forms), rates as N% or 百分之N; years and dates (a year followed by 年, a full
  date) and ordinals (第N条, 第（N）项, an enumeration mark （N）) are not quantities;
* `lint.threshold_not_in_clause` (warning): a number inside an expression
  (a threshold compared with a fact, a number of months added to a date, an amount
  a document depends on; not 0 or 1), a band's start, a per-unit count's ceiling or a selection's budget that
  neither the clause cited there nor the rule's clause states;
* `lint.threshold_not_in_clause` (warning) also for a date an expression compares with that the clause it cites
  does not state (`item.filing_date >= "2019-01-01"` where the clause says 2018年1月1日);
* `lint.says_other_figure` (warning): the words a reviewer reads for a cap, limit,
  selection, check or condition (`says`, Chinese or English) state an amount or
  count that is not the figure the engine applies (a ceiling of 50万 said as
  "最高不超过30万元", a limit of 2 said as "限3次", a condition `>= 800000` said
  as "不低于100万元"): the explanation would cite words that disagree with the
  amounts it shows; and the in-force assumption stating spans of years none of which is `funding_years`
  (a revision's window moved, its predecessor's "覆盖 2021—2023 申报年度" kept);
* `lint.parameter_unused` (warning): a dated parameter no expression looks up;
* `lint.parameter_known_until_early` (warning): a dated parameter whose `known_until` is before the end of the
  window's last funding year: an item that looks up a later day is held incomplete until its value is added;
* `lint.parameter_starts_late` (warning): a dated parameter whose first value starts after the first day of the
  window's first funding year (an item of that year finds no value: incomplete, the policy's gap said as the
  applicant's);
* `lint.chinese_only` (warning, once): texts written without `en:` (English explanations show their Chinese).
"""

from __future__ import annotations

import ast
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

from engine.core import i18n
from engine.core.errors import EngineError, Problem, first_named, format_path
from engine.core.i18n import Msg, lookup, msg, tr
from engine.deciding.claims import coded
from engine.deciding.claims import label as policy_words
from engine.explaining.catalogue import PLACEHOLDER
from engine.explaining.fields import unknown_fields
from engine.language import model
from engine.language.expressions import CompiledExpression, parse_expression
from engine.language.load import check_source
from engine.language.slips import CHINESE_NUMERALS, chinese_number
from engine.language.source import MAX_POLICY_NODES, Source, load_yaml_file
from engine.language.walk import PolicyVisitor, Site, walk

Path_ = tuple[str | int, ...]

#: Facts the engine itself reads (not through an expression): never reported unused.
ENGINE_FACTS = frozenset(
    {"claim.funding_year", "claim.documents", "applicant.id", "applicant.kind", "applicant.roles", "item.id", "item.type", "item.documents"}
)

TEN_THOUSAND = Decimal(10000)


#: a date an expression writes, quoted as it must be
_DATE_LITERAL = re.compile(r"[\"']([0-9]{4}-[0-9]{2}-[0-9]{2})[\"']")
#: a date as a measure's text writes it: 2018年1月1日 (spaces between, as some texts set them), 2018-01-01, 2018.1.1, 2018/1/1
_CLAUSE_DATE = re.compile(
    r"(?<![0-9])([0-9]{4})\s*(?:年\s*([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*日|[-./]([0-9]{1,2})[-./]([0-9]{1,2})(?![0-9]))"
)


def clause_dates(text: str) -> frozenset[str]:
    """The dates a clause's text states, as YYYY-MM-DD."""
    out = set()
    for m in _CLAUSE_DATE.finditer(text):
        month, day = (m.group(2), m.group(3)) if m.group(2) is not None else (m.group(4), m.group(5))
        out.add(f"{m.group(1)}-{int(month):02d}-{int(day):02d}")
    return frozenset(out)


def wan(value: Decimal) -> str:
    """Money the way a clause writes it: 120000 -> '12万', 4200.5 -> '4200.50元'."""
    if value and value % TEN_THOUSAND == 0:
        return f"{(value / TEN_THOUSAND).normalize():f}万"
    if value == value.to_integral_value():
        return f"{value.to_integral_value():f}元"
    return f"{value.quantize(Decimal('0.01'))}元"


def percent(rate: Decimal) -> str:
    """0.5 -> '50%'."""
    return f"{(rate * 100).normalize():f}%"


# --- numbers in a clause's text ------------------------------------------------

#: Chinese numerals (read by `chinese_number`, engine/language/slips.py, where a policy's amount may be written so too)
_CN = CHINESE_NUMERALS
#: An Arabic number: with thousands separators (3,000 / 300,000.50) or without.
_ARABIC = r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?"
_ARABIC_MULTIPLIERS = {"百": 100, "千": 1000, "万": 10**4, "亿": 10**8}
#: A number, its multipliers (3千, 30万, 5百万) and its unit: % or ‰ make it a rate.
# (a multiplier or numeral run of at most 24 characters: no clause states a longer number, and 一亿亿亿… of 20,000
# characters built a 160,000-digit integer, seconds a clause, hours for a policy of aliased clauses)
_NUMBER = re.compile(rf"((?>{_ARABIC}))([百千万亿]{{0,24}})(?![百千万亿])([%‰]?)")  # (atomic: 30万万… is no 3)
_CN_RUN = re.compile(f"[{_CN}]+")
_CN_RUN_LONGEST = 24
#: 百分之五十, 千分之3: rates written in words.
_CN_RATE = re.compile(rf"([百千])分之({_ARABIC}|[{_CN}]+)")
#: Not quantities: years and dates (a year followed by 年 in digits or in 〇一二…, a full date), and ordinals
#: (第N条, 第（N）项, 第N款, and the enumeration marks （N） (N) of a list).
_NOT_QUANTITIES = re.compile(
    r"(?:19|20)[0-9]{2}年(?:[0-9]{1,2}月(?:[0-9]{1,2}日)?)?|[〇零一二三四五六七八九]{4}年|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    rf"|第\(?(?:[0-9]+|[{_CN}]+)\)?|\((?:[0-9]{{1,2}}|[{_CN}]+)\)"
)

_YEAR = re.compile(r"((?:19|20)[0-9]{2})(?:年|-[0-9]{1,2}-[0-9]{1,2})")


@dataclass(frozen=True)
class ClauseNumbers:
    amounts: frozenset[Decimal]  # yuan: 12 万 -> 120000, 3,000 -> 3000, 叁仟 -> 3000, and every plain number as itself
    rates: frozenset[Decimal]  # 50% -> 0.5, 百分之五十 -> 0.5
    counts: frozenset[int]  # whole numbers, Arabic or Chinese (3件, 三次, 十二个月)
    years: frozenset[int] = frozenset()  # 2018年, 2019-12-31: not quantities, but a condition may compare a year

    def has_amount(self, value: Decimal) -> bool:
        return value in self.amounts

    def has_rate(self, value: Decimal) -> bool:
        return value in self.rates

    def has_count(self, value: int) -> bool:
        return value in self.counts

    def has_number(self, value: Decimal) -> bool:
        """Any quantity the clause states: an amount, a count, a year, or a rate (0.5 as 50%; 1.4 as "plus 40%")."""
        v = value.normalize()
        if v in self.amounts or v in self.rates or (v > 1 and (v - 1).normalize() in self.rates):
            return True
        return v == v.to_integral_value() and (int(v) in self.counts or int(v) in self.years)


def normalise(text: str) -> str:
    """NFKC (full-width digits and ％ become ASCII) and no whitespace at all. A full-width comma stays a comma of
    the sentence (、), so that only an ASCII comma between digit groups is a thousands separator (3,000)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text.replace("，", "、")))


def _decimal(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def clause_numbers(text: str) -> ClauseNumbers:
    """Every quantity a clause's text states, whatever its form; years, dates and ordinals are not quantities."""
    flat = normalise(text)
    years = {int(m.group(1)) for m in _YEAR.finditer(flat)}
    flat = _NOT_QUANTITIES.sub("|", flat)
    amounts: set[Decimal] = set()
    rates: set[Decimal] = set()
    counts: set[int] = set()

    def quantity(n: Decimal) -> None:
        amounts.add(n.normalize())
        if n == n.to_integral_value():
            counts.add(int(n))

    def words_rate(m: re.Match[str]) -> str:
        figure = m.group(2)
        if len(figure) > _CN_RUN_LONGEST:
            return "|"
        value = chinese_number(figure) if figure[0] in _CN else _decimal(figure)
        if value is not None:
            rates.add((Decimal(value) / (100 if m.group(1) == "百" else 1000)).normalize())
        return "|"

    def arabic(m: re.Match[str]) -> str:
        n = _decimal(m.group(1))
        for ch in m.group(2):
            n *= _ARABIC_MULTIPLIERS[ch]
        if m.group(3):
            rates.add((n / (100 if m.group(3) == "%" else 1000)).normalize())
        else:
            quantity(n)
        return "|"

    flat = _NUMBER.sub(arabic, _CN_RATE.sub(words_rate, flat))
    for m in _CN_RUN.finditer(flat):
        if len(m.group()) > _CN_RUN_LONGEST:
            continue
        value = chinese_number(m.group())
        if value is not None:
            quantity(Decimal(value))
    return ClauseNumbers(frozenset(amounts), frozenset(rates), frozenset(counts), frozenset(years))


_STRING = re.compile(r"\"[^\"]*\"|'[^']*'")
_EXPRESSION_NUMBER = re.compile(r"(?<![\w.])([0-9]+(?:\.[0-9]+)?)(%?)")


#: the month and day of `date_of(year, month, day)`: a date the clause states as a date (上年10月1日), not quantities
_DATE_OF_MONTH_DAY = re.compile(r"(date_of\((?:[^()]|\([^()]*\))*?),\s*\d{1,2}\s*,\s*\d{1,2}\s*\)")


def expression_numbers(source: str) -> list[tuple[Decimal, str]]:
    """The number literals of an expression, with their text (0 and 1 left out: `> 0`, `funding_year - 1`, `>= 1`
    are not quantities a clause states); a percent literal (4.35%) as its fraction. Text in quotes is not read."""
    out = []
    for m in _EXPRESSION_NUMBER.finditer(_DATE_OF_MONTH_DAY.sub(r"\1)", _STRING.sub('""', source))):
        value = Decimal(m.group(1)) / (100 if m.group(2) else 1)
        if value not in (0, 1):
            out.append((value, m.group()))
    return out


# --- satisfiability of conditions over declared fact types -----------------------


@dataclass(frozen=True)
class _Atom:
    fact: str
    op: str  # == != < <= > >= in notin
    value: Any  # a literal, or a tuple of literals for in / notin

    def text(self) -> str:
        sym = {"in": "in", "notin": "not in"}.get(self.op, self.op)
        return f"{self.fact} {sym} {self.value!r}"


_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.In: "in", ast.NotIn: "notin"}
_NEGATE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<", "in": "notin", "notin": "in"}
_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_MAX_BRANCHES = 256
_OPAQUE = "opaque"


def _fact_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("claim", "applicant", "item"):
        return f"{node.value.id}.{node.attr}"
    return None


def _literal(node: ast.AST) -> tuple[bool, Any]:
    if isinstance(node, ast.Constant):
        return True, node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        v = node.operand.value
        if isinstance(v, int | float) and not isinstance(v, bool):
            return True, -v
    if isinstance(node, ast.Tuple | ast.List):
        values = []
        for e in node.elts:
            ok, v = _literal(e)
            if not ok:
                return False, None
            values.append(v)
        return True, tuple(values)
    return False, None


def _exact(value: Any) -> Any:
    return Decimal(repr(value)) if isinstance(value, float) else value


# A branch is a list of atoms (a conjunction), or None for "cannot say" (treated as satisfiable).
Branch = list[_Atom | str]


def _dnf(node: ast.AST, negate: bool = False) -> list[Branch]:
    if isinstance(node, ast.BoolOp):
        conj = isinstance(node.op, ast.And) != negate
        parts = [_dnf(v, negate) for v in node.values]
        if conj:  # (the bound is tested before each product: after it, 256 x 2,048 branches were built first)
            out: list[Branch] = [[]]
            for p in parts:
                if len(out) * len(p) > _MAX_BRANCHES:
                    return [[_OPAQUE]]
                out = [a + b for a, b in itertools.product(out, p)]
            return out
        either = [b for p in parts for b in p]
        return either if len(either) <= _MAX_BRANCHES else [[_OPAQUE]]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _dnf(node.operand, not negate)
    fact = _fact_name(node)
    if fact is not None:
        return [[_Atom(fact, "==", not negate)]]
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return [[]] if node.value != negate else [["false"]]
    if isinstance(node, ast.Compare):
        atoms: Branch = []
        sides = [node.left, *node.comparators]
        for (a, b), op in zip(itertools.pairwise(sides), node.ops, strict=True):
            sym = _OPS.get(type(op))
            fa, fb = _fact_name(a), _fact_name(b)
            okb, vb = _literal(b)
            oka, va = _literal(a)
            if sym is None:
                atoms.append(_OPAQUE)
            elif fa is not None and okb:
                atoms.append(_Atom(fa, sym, _exact_all(vb)))
            elif fb is not None and oka and sym in _FLIP:
                atoms.append(_Atom(fb, _FLIP[sym], _exact(va)))
            else:
                atoms.append(_OPAQUE)
        if negate:
            if len(atoms) != 1 or not isinstance(atoms[0], _Atom):
                return [[_OPAQUE]]
            a0 = atoms[0]
            return [[_Atom(a0.fact, _NEGATE[a0.op], a0.value)]]
        return [atoms]
    return [[_OPAQUE]]


def _exact_all(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_exact(v) for v in value)
    return _exact(value)


def _holds(atom: _Atom, value: Any) -> bool | None:
    """Whether `value` satisfies the atom; None if they cannot be compared (different types)."""
    op, lit = atom.op, atom.value
    try:
        if op == "==":
            return bool(value == lit)
        if op == "!=":
            return bool(value != lit)
        if op == "in":
            return value in lit if isinstance(lit, tuple) else None
        if op == "notin":
            return value not in lit if isinstance(lit, tuple) else None
        if value is None or lit is None:
            return None
        return bool({"<": value < lit, "<=": value <= lit, ">": value > lit, ">=": value >= lit}[op])
    except TypeError:
        return None


_KIND_OF_LITERAL = {bool: "boolean", str: "text", int: "number", Decimal: "number", type(None): "null"}
_FACT_LITERALS = {
    "boolean": {"boolean", "null"},
    "money": {"number", "null"},
    "integer": {"number", "null"},
    "count": {"number", "null"},
    "decimal": {"number", "null"},
    "percent": {"number", "null"},
    "date": {"null", "text"},  # a quoted "YYYY-MM-DD" is read as a date at load (any other text is a load error)
    "string": {"text", "null"},
    "identifier": {"text", "null"},
    "enum": {"text", "null"},
    "item_type": {"text", "null"},
}


def type_mismatches(expression: CompiledExpression, specs: dict[str, model.FactSpec]) -> list[Msg]:
    """Comparisons of a fact with a literal of another type: never true (== / in) or an error at run time."""
    out = []
    for branch in _dnf(parse_expression(expression.source).body):
        for atom in branch:
            if not isinstance(atom, _Atom) or atom.fact not in specs:
                continue
            spec = specs[atom.fact]
            allowed = _FACT_LITERALS.get(spec.type)
            if allowed is None:
                continue
            literals = atom.value if isinstance(atom.value, tuple) else (atom.value,)
            for lit in literals:
                kind = _KIND_OF_LITERAL.get(type(lit), type(lit).__name__)
                if kind not in allowed:
                    said = msg(
                        "lint.type_mismatch", fact=atom.fact, type=spec.type, literal=repr(lit), kind=msg(f"lint.literal_kind.{kind}")
                    )
                    if said not in out:
                        out.append(said)
    return out


#: What a claim can give for a number-valued fact: (lowest, highest, in words). Money and integer facts
#: are never negative (the claim schema says so); a policy may declare tighter `minimum` / `maximum`.
Bounds = dict[str, tuple[Decimal | None, Decimal | None, Msg]]


def fact_bounds(specs: dict[str, model.FactSpec]) -> Bounds:
    out: Bounds = {}
    for name, spec in specs.items():
        if spec.type not in ("integer", "count", "decimal", "money"):
            continue
        low = spec.minimum if spec.minimum is not None else Decimal(0)
        if spec.minimum is not None and spec.maximum is not None:
            said = msg("lint.bounds.both", low=_num(spec.minimum, spec.type), high=_num(spec.maximum, spec.type))
        elif spec.minimum is not None:
            said = msg("lint.bounds.at_least", low=_num(spec.minimum, spec.type))
        elif spec.maximum is not None:
            said = msg("lint.bounds.at_most", high=_num(spec.maximum, spec.type))
        else:
            said = msg("lint.bounds.never_negative")
        out[name] = (low, spec.maximum, said)
    return out


def _num(value: Decimal, kind: str) -> str:
    return wan(value) if kind == "money" else f"{value.normalize():f}"


def _fact_unsat(atoms: list[_Atom]) -> str | None:
    """Why these comparisons of one fact (with no finite domain) can never all hold ("all": no value satisfies
    them all; "bounds": no value lies between their bounds), or None."""
    eqs = [a for a in atoms if a.op == "=="] + [a for a in atoms if a.op == "in" and isinstance(a.value, tuple)]
    if eqs:
        first = eqs[0]
        candidates = (first.value,) if first.op == "==" else tuple(first.value)
        if not any(all(_holds(a, v) is not False for a in atoms) for v in candidates):
            return "all"
        return None
    # Ordering only: intersect the interval.
    lo: tuple[Any, bool] | None = None
    hi: tuple[Any, bool] | None = None
    for a in atoms:
        if a.op in (">", ">=") and a.value is not None:
            strict = a.op == ">"
            if lo is None or _gt(a.value, lo[0]) or (a.value == lo[0] and strict):
                lo = (a.value, strict)
        elif a.op in ("<", "<=") and a.value is not None:
            strict = a.op == "<"
            if hi is None or _gt(hi[0], a.value) or (a.value == hi[0] and strict):
                hi = (a.value, strict)
    if lo is not None and hi is not None:
        try:
            if _gt(lo[0], hi[0]) or (lo[0] == hi[0] and (lo[1] or hi[1])):
                return "bounds"
        except TypeError:
            return None
    return None


def _branch_unsat(branch: Branch, domains: dict[str, tuple[Any, ...]], bounds: Bounds | None = None) -> Msg | None:
    """A reason the conjunction can never hold, or None if it may."""
    if any(a == _OPAQUE for a in branch):
        return None
    if "false" in branch:
        return msg("lint.unsat.constant_false")
    by_fact: dict[str, list[_Atom]] = {}
    for a in branch:
        if isinstance(a, _Atom):
            by_fact.setdefault(a.fact, []).append(a)
    for fact, atoms in by_fact.items():
        words = " and ".join(a.text() for a in atoms)
        if fact in domains:
            values = domains[fact]
            if not any(all(_holds(a, v) is True for a in atoms) for v in values):
                return msg("lint.unsat.no_value", words=words, fact=fact, values=[repr(v) for v in values])
            continue
        why = _fact_unsat(atoms)
        if why is not None:
            return msg(f"lint.unsat.{why}", words=words, fact=fact)
        bound = (bounds or {}).get(fact)
        if bound is not None:
            low, high, said = bound
            extra = ([_Atom(fact, ">=", low)] if low is not None else []) + ([_Atom(fact, "<=", high)] if high is not None else [])
            if _fact_unsat(atoms + extra) is not None:
                return msg("lint.unsat.declared", words=words, fact=fact, said=said)
    return None


def _gt(a: Any, b: Any) -> bool:
    try:
        return bool(a > b)
    except TypeError:
        return False


def unsatisfiable(expression: CompiledExpression, domains: dict[str, tuple[Any, ...]], bounds: Bounds | None = None) -> Msg | None:
    """Why `expression` can never be true given finite fact domains and number bounds, or None if it may be."""
    branches = _dnf(parse_expression(expression.source).body)
    reasons = []
    for b in branches:
        why = _branch_unsat(b, domains, bounds)
        if why is None:
            return None
        reasons.append(why)
    unique = list(dict.fromkeys(reasons))
    if not unique:
        return None
    said = unique[-1]
    for reason in reversed(unique[:-1]):
        said = msg("lint.unsat.or", first=reason, rest=said)
    return said


# --- walking the compiled policy ---------------------------------------------------


def amount_expressions(form: model.AmountForm | None) -> Iterator[CompiledExpression]:
    if isinstance(form, model.RateAmount | model.BandsAmount):
        yield form.of
        if isinstance(form, model.RateAmount) and form.rate_table is not None:
            yield form.rate_table.by
    elif isinstance(form, model.TableAmount):
        yield form.by
    elif isinstance(form, model.ExternalAmount):
        yield form.source
    elif isinstance(form, model.PerUnitAmount):
        yield form.count
        if form.per_unit_table is not None:
            yield form.per_unit_table.by
        elif form.per_unit_of is not None:
            yield form.per_unit_of
    elif isinstance(form, model.LeastAmount):
        for p in form.parts:
            yield from amount_expressions(p)


def max_payable(
    form: model.AmountForm | None, upper: Callable[[CompiledExpression], Decimal | None] | None = None, quantum: Decimal = Decimal("0.01")
) -> Decimal | None:
    """The most one item could ever be paid before caps; None if unbounded.

    `upper(expression)` gives the most an expression can be (a fact's declared maximum), or None;
    without it, rates and counts are unbounded. Rates are rounded up to `quantum`, so the bound
    holds whatever the rounding mode.
    """
    up = upper or (lambda e: None)
    if isinstance(form, model.FixedAmount):
        return form.value
    if isinstance(form, model.TableAmount):
        return max((*form.table.values(), *([] if form.otherwise is None else [form.otherwise])), default=Decimal(0))
    if isinstance(form, model.RateAmount):
        top = up(form.of) if form.of_table is None else max_payable(form.of_table)  # the largest base of an amount table
        rate = form.rate if form.rate_table is None else max_payable(form.rate_table)  # the highest rate of a rate table
        return None if top is None or rate is None else (rate * top).quantize(quantum, rounding=ROUND_CEILING)
    if isinstance(form, model.PerUnitAmount):
        counts = [c for c in (form.max_count, up(form.count)) if c is not None]
        if form.per_unit_table is not None:
            per: Decimal | None = max_payable(form.per_unit_table)  # the table's largest entry
        else:
            per = up(form.per_unit_of) if form.per_unit_of is not None else form.per_unit
        if per is None or not counts:
            return None
        return (per * min(Decimal(c) for c in counts)).quantize(quantum, rounding=ROUND_CEILING)
    if isinstance(form, model.BandsAmount):
        top = up(form.of)
        reachable = [b for b in form.bands if top is None or b.start <= top]
        values: list[Decimal] = []
        for b in reachable:
            if b.amount is not None:
                values.append(b.amount)
            elif top is None:
                return None
            else:
                values.append((top * (b.rate or Decimal(0))).quantize(quantum, rounding=ROUND_CEILING))
        return max(values, default=Decimal(0))
    if isinstance(form, model.LeastAmount):
        bounds = [b for b in (max_payable(p, upper, quantum) for p in form.parts) if b is not None]
        return min(bounds) if bounds else None
    return None


def _amounts_of(form: model.AmountForm | None, at: Path_ = ()) -> Iterator[tuple[Msg, Decimal, Path_]]:
    """Each amount a clause should state, with what it is (in the reader's words: a Chinese message said "（amount per
    unit）") and where it is written (under `at`, the amount's path)."""
    if isinstance(form, model.FixedAmount):
        yield msg("lint.what.amount"), form.value, (*at, "fixed")
    elif isinstance(form, model.TableAmount):
        for k, v in form.table.items():
            yield msg("lint.what.amount_for", key_=k), v, (*at, "table", k)
        if form.otherwise is not None:
            yield msg("lint.what.amount_otherwise"), form.otherwise, (*at, "otherwise")
    elif isinstance(form, model.RateAmount) and form.of_table is not None:  # a base by a scalar (G5): each amount
        for k, v in form.of_table.table.items():
            yield msg("lint.what.base_amount_for", key_=k), v, (*at, "of", "table", k)
        if form.of_table.otherwise is not None:
            yield msg("lint.what.base_amount_otherwise"), form.of_table.otherwise, (*at, "of", "otherwise")
    elif isinstance(form, model.PerUnitAmount) and form.per_unit_table is not None:  # each sum per unit the table gives
        for k, v in form.per_unit_table.table.items():
            yield msg("lint.what.per_unit_for", key_=k), v, (*at, "per_unit", "table", k)
        if form.per_unit_table.otherwise is not None:
            yield msg("lint.what.per_unit_otherwise"), form.per_unit_table.otherwise, (*at, "per_unit", "otherwise")
    elif isinstance(form, model.PerUnitAmount) and form.per_unit_of is None:  # (a computed one: a parameter's, not the clause's)
        yield msg("lint.what.per_unit"), form.per_unit, (*at, "per_unit")
    elif isinstance(form, model.BandsAmount):
        for i, b in enumerate(form.bands):
            if b.amount is not None:
                yield msg("lint.what.band_amount_from", start=wan(b.start)), b.amount, (*at, "bands", i, "amount")
    elif isinstance(form, model.LeastAmount):
        for j, p in enumerate(form.parts):
            yield from _amounts_of(p, (*at, "least", j))


def _rates_of(form: model.AmountForm | None, at: Path_ = ()) -> Iterator[tuple[Decimal, Path_]]:
    """The rates a clause should state. 100% inside `least` is the cost itself ("the lesser of the cost and 5万"), not a rate.
    In a rate table, 0% is "nothing" and 100% beside another rate is "the standard itself" ("个人按上述标准的50%":
    enterprises 100%, individuals 50%): neither is a rate the clause must state."""
    if isinstance(form, model.RateAmount) and form.rate_table is not None:  # a rate by a scalar: each rate of its table
        entries = [(v, (*at, "rate", "table", k)) for k, v in form.rate_table.table.items()]
        if form.rate_table.otherwise is not None:
            entries.append((form.rate_table.otherwise, (*at, "rate", "otherwise")))
        partial = any(v not in (0, 1) for v, _ in entries)
        yield from ((v, p) for v, p in entries if v != 0 and not (v == 1 and partial))
    elif isinstance(form, model.RateAmount):
        yield form.rate, (*at, "rate")
    elif isinstance(form, model.BandsAmount):
        yield from ((b.rate, (*at, "bands", i, "rate")) for i, b in enumerate(form.bands) if b.rate is not None)
    elif isinstance(form, model.LeastAmount):
        for j, p in enumerate(form.parts):
            if not (isinstance(p, model.RateAmount) and p.rate == 1):
                yield from _rates_of(p, (*at, "least", j))


#: lint's findings named, in the order of their lines; past them one more says how many there are in all. A check no
#: claim can pass, applied to every rule, is said at each: 54 of them on 174 rules (a 0.11 MB policy, within the bounds
#: on the checks rules carry) were 9,396 errors, 2.2 MB of text (3.3 MB as JSON)
MAX_LINT_PROBLEMS = 100


def _first_names(names: list[str]) -> list[str]:
    """The first five of `names`, then "…" if there are more: the standing checks that refuse a kind are named for
    each rule of that kind (800 checks on 800 rules: 4.2 MB of lint)."""
    return names[:5] + (["…"] if len(names) > 5 else [])


class _Linter:
    """What the lint passes share: the policy, its source (for positions), fact specs and domains."""

    def __init__(self, policy: model.CompiledPolicy, source: Source) -> None:
        self.policy, self.source = policy, source
        self._specs: dict[str | None, dict[str, model.FactSpec]] = {}

    def problem(self, path: Path_, message: str, code: str, severity: str, expected: str | None = None) -> Problem:
        line, col = self.source.where(path)
        return Problem(message, tuple(path), self.source.file, line, col, expected, f"lint.{code}", severity)

    def specs(self, rule: model.Rule | None) -> dict[str, model.FactSpec]:
        """The facts an expression of `rule` (None: of an applicant-level check) can read, by their full name."""
        key = None if rule is None else rule.item_type
        if key not in self._specs:
            out = {f"claim.{k}": v for k, v in self.policy.claim_facts.items()}
            out.update({f"applicant.{k}": v for k, v in self.policy.applicant_facts.items()})
            if key is not None:
                out.update({f"item.{k}": v for k, v in self.policy.item_facts.get(key, {}).items()})
            self._specs[key] = out
        return self._specs[key]

    def domains(self, specs: dict[str, model.FactSpec], kinds: Iterable[str]) -> dict[str, tuple[Any, ...]]:
        out: dict[str, tuple[Any, ...]] = {}
        for name, spec in specs.items():
            if spec.type == "boolean":
                out[name] = (True, False)
            elif spec.type in ("enum", "item_type") and spec.values is not None:
                out[name] = tuple(spec.values)
        out["applicant.kind"] = tuple(sorted(kinds))
        return out

    def run(self) -> list[Problem]:
        # One walk; each pass keeps its own findings, joined in this order so that equal positions sort as before.
        passes: list[_Pass] = [
            _TypeChecks(self),
            _Reachability(self),
            _Caps(self),
            _Clauses(self),
            _UnusedFacts(self),
            _KeyNumbers(self),
            _SaysFigures(self),
        ]
        walk(self.policy, *passes)
        problems = [p for lint_pass in passes for p in lint_pass.problems]
        if self.policy.chinese_only:  # once, at the first: a bureau writing in Chinese only is told, not flooded
            first, *rest = sorted(self.policy.chinese_only, key=lambda x: self.source.where(x))
            said = msg(
                "lint.chinese_only",
                n=len(self.policy.chinese_only),
                others=[format_path(x) for x in rest[:5]] + (["…"] if len(rest) > 5 else []),
            )
            problems.append(self.problem(first, said, "chinese_only", "warning", msg("lint.chinese_only_fix")))
        problems += self.override_placeholders()
        problems += self.template_fields()
        return self.named(sorted(problems, key=lambda p: (p.line or 0, p.column or 0, p.code)))

    def named(self, problems: list[Problem]) -> list[Problem]:
        """`problems`, at most MAX_LINT_PROBLEMS of them, and one saying how many there are in all where there are
        more: an error if one of those not named is, so that lint fails as it would have."""
        errors = sum(p.severity == "error" for p in problems)

        def said(n: int) -> Msg:
            return msg("lint.more_problems", n=n, errors=f"{errors:,}", warnings=f"{len(problems) - errors:,}")

        return first_named(problems, MAX_LINT_PROBLEMS, said, self.source.file, code="lint.more")

    def override_placeholders(self) -> list[Problem]:
        """A message override with a placeholder its message has in no language of its scope (`{amout}` for
        `{amount}`): an explanation shows it as written. A warning: a message may be given more values than it names."""
        out = []
        for scope, entries in self.policy.templates.items():
            langs = i18n.languages() if scope == "all" else (scope,)
            for key, text in entries.items():
                if key.endswith(".j2") or not all(key in i18n.message_keys(lang) for lang in langs):
                    continue  # (a template; a key no catalogue has is a load error)
                known = sorted({n for lang in langs for n in PLACEHOLDER.findall(lookup(key, lang))})
                unknown = [n for n in dict.fromkeys(PLACEHOLDER.findall(text)) if n not in known]
                if unknown:
                    said = msg("lint.override_placeholder", key=repr(key), names=[f"{{{n}}}" for n in unknown])
                    fix = (
                        msg("lint.override_placeholder_fix", known=[f"{{{n}}}" for n in known])
                        if known
                        else msg("lint.override_no_placeholder")
                    )
                    out.append(self.problem(("templates", scope, key), said, "override_placeholder", "warning", fix))
        return out

    def template_fields(self) -> list[Problem]:
        """A template's field of the explanation model that the model has not (`x.claim_idd`, `item.statuss` in a loop
        over `x.items`, `x.items[0].statuss`, `x.items | map(attribute="statuss")`), or a key `policy` or the catalogue
        `m` has not: the sandbox renders it as nothing, on every decision. An error: the model's fields are fixed.
        Here and not in validate: the model is the explaining layer's, above the policy language's."""
        out = []
        for scope, entries in self.policy.templates.items():
            for key, text in entries.items():
                for f in unknown_fields(text, key) if key.endswith(".j2") else ():
                    kind = "template_field_each" if f.filter else "template_field"  # (a field a filter names: `map(attribute=...)`)
                    said = msg(
                        f"lint.{kind}{'_guess' if f.guess else ''}",
                        key=repr(key),
                        line=f.line,
                        written=f.written,
                        attr=repr(f.attr) if f.filter else f.attr,
                        guess=repr(f.guess) if f.filter else f.guess,
                        filter=f.filter,
                    )
                    fix = msg(f"lint.{kind}_fix", written=f.written, fields=", ".join(f.fields))
                    out.append(self.problem(("templates", scope, key), said, "template_field", "error", fix))
        return out

    def scope_bound(self, rule: model.Rule, cap: model.Cap) -> tuple[Decimal, Msg] | None:
        """The most the rule could ever pay within one scope of `cap`, with the reasoning; None if unbounded."""
        specs = self.specs(rule)
        used: list[str] = []

        def upper(e: CompiledExpression) -> Decimal | None:
            spec = specs.get(e.source)
            if spec is None or spec.maximum is None:
                return None
            if e.source not in used:
                used.append(e.source)
            return spec.maximum

        each = max_payable(rule.amount, upper, self.policy.quantum)
        if each is None:
            return None
        why = [msg("lint.scope.declared_at_most", fact=f, high=_num(specs[f].maximum or Decimal(0), specs[f].type)) for f in used]
        each_words = msg("lint.scope.at_most_why", amount=wan(each), why=why) if why else msg("lint.scope.at_most", amount=wan(each))
        if cap.per is None:
            return each, msg("lint.scope.one_item", each=each_words)
        cap_keys = {e.source for e in cap.per}
        best: tuple[int, model.Limit] | None = None
        for limit in rule.limits:
            if limit.counting is None and {e.source for e in limit.per} <= cap_keys and (best is None or limit.times < best[0]):
                best = (limit.times, limit)
        if best is None:
            return None
        times, limit = best
        return each * times, msg("lint.scope.limit_allows", limit=limit.id, times=times, each=each_words)


class _Pass(PolicyVisitor):
    """One kind of finding, gathered over the walk."""

    def __init__(self, lint: _Linter) -> None:
        self.lint = lint
        self.problems: list[Problem] = []

    def add(self, path: Path_, message: Msg, code: str, severity: str, expected: Msg | None = None) -> None:
        self.problems.append(self.lint.problem(path, message, code, severity, expected))


class _TypeChecks(_Pass):
    """`lint.type_mismatch`: each test against the facts of the rule it is applied to."""

    def __init__(self, lint: _Linter) -> None:
        super().__init__(lint)
        self.seen: set[tuple[Path_, str]] = set()

    def visit_check(self, test: model.Test, at: Site) -> None:
        self.check(test, at)

    def visit_condition(self, test: model.Test, at: Site) -> None:
        self.check(test, at)

    def visit_cap(self, cap: model.Cap, at: Site) -> None:
        if cap.applies_when is not None:  # `when:` of a cap or limit (G9)
            self.check_expression(cap.applies_when, (*at.path, "when"), at)

    def visit_limit(self, limit: model.Limit, at: Site) -> None:
        if limit.applies_when is not None:
            self.check_expression(limit.applies_when, (*at.path, "when"), at)

    def check(self, test: model.Test, at: Site) -> None:
        self.check_expression(test.expression, (*at.path, "test"), at)

    def check_expression(self, expression: CompiledExpression, path: Path_, at: Site) -> None:
        for said in type_mismatches(expression, self.lint.specs(at.rule)):
            if (path, said) not in self.seen:  # an item check applied to several rules may say the same twice
                self.seen.add((path, said))
                self.add(path, said, "type_mismatch", "error", msg("lint.type_mismatch_expected"))


class _Reachability(_Pass):
    """`lint.never_applies` and `lint.kind_unreachable`: standing checks first (they block kinds), then each rule."""

    def visit_policy(self, policy: model.CompiledPolicy, at: Site) -> None:
        self.all_kinds = list(policy.applicant_kinds)
        # Standing checks that no applicant of a kind can pass.
        self.blocked: dict[str, list[str]] = {k: [] for k in self.all_kinds}
        self.reach: list[str] = []

    def visit_check(self, test: model.Test, at: Site) -> None:
        if at.rule is not None:
            self.condition(test, at)
            return
        specs = self.lint.specs(None)
        for k in self.all_kinds:
            if test.kinds is not None and k not in test.kinds:
                continue
            if unsatisfiable(test.expression, self.lint.domains(specs, [k]), fact_bounds(specs)):
                self.blocked[k].append(test.id)
        kinds = [k for k in self.all_kinds if test.kinds is None or k in test.kinds]
        if kinds and all(test.id in self.blocked[k] for k in kinds):
            why = unsatisfiable(test.expression, self.lint.domains(specs, kinds), fact_bounds(specs))
            self.add(
                (*at.path, "test"),
                msg("lint.check_can_never_pass", id=test.id, why=why),
                "never_applies",
                "error",
            )

    def enter_rule(self, rule: model.Rule, at: Site) -> None:
        blocked = self.blocked
        # With no kind left, `condition` finds no kind to judge a test for: the rule is reported once, here.
        self.reach = [k for k in self.all_kinds if k in rule.kinds and not blocked[k]]
        self.specs = self.lint.specs(rule)
        self.bounds = fact_bounds(self.specs)
        if not self.reach:
            detail = _either([msg("lint.blocked_by", kind=k, checks=_first_names(blocked[k])) for k in sorted(rule.kinds)], "lint.and")
            self.add(
                (*at.path, "who", "kinds"),
                msg("lint.rule_can_never_apply", id=rule.id, detail=detail),
                "never_applies",
                "error",
            )
            return
        for k in sorted(rule.kinds - set(self.reach)):
            self.add(
                (*at.path, "who", "kinds"),
                msg("lint.rule_admits_but_always", id=rule.id, k=k, names=_first_names(blocked[k])),
                "kind_unreachable",
                "warning",
            )

    def visit_condition(self, test: model.Test, at: Site) -> None:
        self.condition(test, at)

    def condition(self, test: model.Test, at: Site) -> None:
        assert at.rule is not None
        kinds = [k for k in self.reach if test.kinds is None or k in test.kinds]
        if not kinds:
            return
        why = unsatisfiable(test.expression, self.lint.domains(self.specs, kinds), self.bounds)
        if why:
            self.add(
                (*at.path, "test"),
                msg("lint.rule_can_never_apply_2", id=at.rule.id, source=repr(test.expression.source), why=why),
                "never_applies",
                "error",
                msg("lint.condition_some_claim_can"),
            )


class _Caps(_Pass):
    """`lint.cap_zero` and `lint.cap_never_bites` (judged only for a cap one rule uses), and `lint.limit_never_refuses`."""

    def visit_limit(self, limit: model.Limit, at: Site) -> None:
        """A limit of funding years (连续支持不超过3年, 累计支持不超过3年) whose times reach the years the policy is in force
        for: no application under this file can pass it (a revision that extends the window may count these years)."""
        counting = limit.counting
        if counting is None or len(counting) != 1 or counting[0].source != "claim.funding_year":
            return
        first, last = self.lint.policy.funding_years
        if limit.times >= last - first + 1:
            self.add(
                (*at.path, "times"),
                msg("lint.limit_can_never_refuse", id=limit.id, times=limit.times, years=last - first + 1, first=first, last=last),
                "limit_never_refuses",
                "warning",
                msg("lint.limit_times_below", years=last - first + 1),
            )

    def visit_cap(self, cap: model.Cap, at: Site) -> None:
        assert at.rule is not None
        if cap.computed is not None:  # a ceiling computed from facts: no constant to judge
            return
        if cap.ceiling == 0:
            self.add((*at.path, "max"), msg("lint.cap_every_item_under", id=cap.id), "cap_zero", "error", msg("lint.ceiling_above"))
            return
        if len(at.users) > 1:
            return
        bound = self.lint.scope_bound(at.rule, cap)
        if bound is not None and cap.ceiling >= bound[0]:
            self.add(
                (*at.path, "max"),
                msg("lint.cap_can_never_bite", id=cap.id, wan=wan(cap.ceiling), value=bound[1]),
                "cap_never_bites",
                "warning",
                msg("lint.ceiling_below_remove_cap", wan=wan(bound[0])),
            )


class _Clauses(_Pass):
    """`lint.clause_unencoded` and `lint.cites_non_computable`: every citation, then each clause."""

    def __init__(self, lint: _Linter) -> None:
        super().__init__(lint)
        self.cited: dict[str, list[Msg | str]] = {}
        self.clauses: list[tuple[str, model.Clause]] = []

    def cite(self, key: str | None, by: Msg | str) -> None:
        if key:
            self.cited.setdefault(key, []).append(by)

    def visit_policy(self, policy: model.CompiledPolicy, at: Site) -> None:
        self.cite(policy.in_force_cites, "policy.in_force")
        self.cite(getattr(policy, "documents_cites", None), "policy.documents_cites")

    def visit_clause(self, key: str, clause: model.Clause, at: Site) -> None:
        self.clauses.append((key, clause))

    def visit_check(self, test: model.Test, at: Site) -> None:
        self.cite(test.cites, msg("lint.check", id=test.id))

    def visit_document_check(self, check: model.DocumentCheck, at: Site) -> None:
        self.cite(check.cites, msg("lint.check", id=check.id))

    def enter_rule(self, rule: model.Rule, at: Site) -> None:
        self.cite(rule.cites, msg("lint.rule", id=rule.id))

    def visit_condition(self, test: model.Test, at: Site) -> None:
        self.cite(test.cites, msg("lint.check", id=test.id))

    def visit_cap(self, cap: model.Cap, at: Site) -> None:
        self.cite(cap.cites, msg("lint.cap", id=cap.id))

    def visit_limit(self, limit: model.Limit, at: Site) -> None:
        self.cite(limit.cites, msg("lint.limit", id=limit.id))

    def visit_subject(self, subject: model.Subject, at: Site) -> None:
        assert at.rule is not None
        self.cite(subject.cites, msg("lint.subject_rule", id=at.rule.id))

    def visit_selection(self, selection: model.Selection, at: Site) -> None:
        self.cite(selection.cites, msg("lint.selection", id=selection.id))

    def leave_policy(self, policy: model.CompiledPolicy) -> None:
        cited = self.cited
        for key, path in citations(policy.data):  # and every other place: a round budget's, any construct's `cites:`
            if key not in cited:
                self.cite(key, format_path(path[:-1]))
        for key, clause in self.clauses:
            if clause.computable and key not in cited:
                self.add(
                    ("clauses", key),
                    msg("lint.clause_marked_computable_but", key_=key),
                    "clause_unencoded",
                    "error",
                    msg("lint.rule_check_citing_computable"),
                )
            elif not clause.computable and key in cited:
                self.add(
                    ("clauses", key, "computable"),
                    msg("lint.clause_marked_computable_false", key_=key, names=sorted(set(cited[key]))),
                    "cites_non_computable",
                    "warning",
                    msg("lint.computable_true"),
                )


def citations(data: Any) -> Iterator[tuple[str, Path_]]:
    """Every clause the policy document cites, with where: each `cites:` or `*_cites:` text, at any depth (the
    document is bounded by the loader, MAX_POLICY_NODES; walked with a stack, not recursion)."""
    stack: list[tuple[Any, Path_]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, str) and isinstance(k, str) and (k == "cites" or k.endswith("_cites")):
                    yield v, (*path, k)
                elif isinstance(v, dict | list):
                    stack.append((v, (*path, k)))
        elif isinstance(node, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(node) if isinstance(v, dict | list))


def _type_words(policy: model.CompiledPolicy, type_name: str) -> Msg | str:
    """An item type as the officer knows it, by the policy's label, its code in brackets: 发明专利授权（invention_patent_grant）."""
    words = policy.item_type_labels.get(type_name)
    return policy_words(coded(words, type_name)) if words is not None else type_name


class _UnusedFacts(_Pass):
    """`lint.fact_unused` and `lint.record_only_used`: the facts every expression reads, then each declaration."""

    def __init__(self, lint: _Linter) -> None:
        super().__init__(lint)
        self.used_global: set[str] = set(ENGINE_FACTS)
        self.used_by_type: dict[str, set[str]] = {}  # an item type's own facts count only when its rule reads them
        self.parameters: dict[str, Path_] = {}  # each dated parameter, where it is declared
        self.looked_up: set[str] = set()  # the parameters some expression looks up

    def use(self, at: Site, expressions: Iterable[CompiledExpression | None]) -> None:
        for e in expressions:
            if e is None:
                continue
            self.used_global.update(e.facts)
            for name, day, _ in e.params:  # (`params` holds the outermost look-ups: one may stand in another's date)
                self.looked_up.add(name)
                self.looked_up.update(_PARAM_NAME.findall(day))
            if at.rule is not None:
                self.used_by_type.setdefault(at.rule.item_type, set()).update(e.facts)

    def visit_parameter(self, parameter: model.Parameter, at: Site) -> None:
        self.parameters[parameter.name] = at.path
        first_year = self.lint.policy.funding_years[0]
        if parameter.values and parameter.values[0].start > date(first_year, 1, 1):
            # an item of the window's first year looks it up before its first value: a gap of the policy, which the
            # applicant reads as facts missing ("材料不全") though nothing is missing on their side
            start = parameter.values[0].start.isoformat()
            said = msg("lint.parameter_starts_late", name=parameter.name, start=start, year=first_year)
            self.add(
                (*at.path, "values", 0, "from"),
                said,
                "parameter_starts_late",
                "warning",
                msg("lint.parameter_starts_late_fix", year=first_year),
            )
        last_year = self.lint.policy.funding_years[-1]
        if parameter.known_until is not None and parameter.known_until < date(last_year, 12, 31):
            # an item of the window's last years may look up a day past it: held incomplete until the values are added
            until = parameter.known_until.isoformat()
            self.add(
                (*at.path, "known_until"),
                msg("lint.parameter_known_until_early", name=parameter.name, until=until, year=last_year),
                "parameter_known_until_early",
                "warning",
                msg("lint.parameter_known_until_early_fix", until=until),
            )

    def visit_check(self, test: model.Test, at: Site) -> None:
        self.use(at, [test.expression])

    def visit_document_check(self, check: model.DocumentCheck, at: Site) -> None:
        self.use(at, (n.when for n in check.needs))

    def visit_condition(self, test: model.Test, at: Site) -> None:
        self.use(at, [test.expression])

    def visit_amount(self, form: model.AmountForm, at: Site) -> None:
        self.use(at, amount_expressions(form))

    def visit_subject(self, subject: model.Subject, at: Site) -> None:
        self.use(at, subject.key)

    def visit_selection(self, selection: model.Selection, at: Site) -> None:
        self.use(at, (*selection.per, *(k.by for k in selection.order)))

    def visit_cap(self, cap: model.Cap, at: Site) -> None:
        self.use(at, (*(cap.per or ()), cap.applies_when))

    def visit_ceiling(self, form: model.RateAmount | model.TableAmount, cap: model.Cap, at: Site) -> None:
        self.use(at, amount_expressions(form))

    def visit_limit(self, limit: model.Limit, at: Site) -> None:
        self.use(at, (*limit.per, *(limit.counting or ()), limit.applies_when))

    def visit_document_need(self, need: model.DocumentNeed, at: Site) -> None:
        self.use(at, [need.when])

    def leave_policy(self, policy: model.CompiledPolicy) -> None:
        # The declarations are read off the document: the compiled tables merge common item facts into each type.
        data = policy.data
        # (path in the document, the fact as expressions name it, who reads it, whether something reads it, its declaration)
        declared: list[tuple[Path_, str, Msg, bool, dict[str, Any]]] = []
        for ns in ("claim", "applicant"):
            for name, spec in data["facts"][ns].items():
                declared.append((("facts", ns, name), f"{ns}.{name}", msg("lint.reader.none"), f"{ns}.{name}" in self.used_global, spec))
        for name, spec in data.get("item_facts", {}).items():
            declared.append((("item_facts", name), f"item.{name}", msg("lint.reader.none"), f"item.{name}" in self.used_global, spec))
        for type_name, tspec in data.get("item_types", {}).items():
            used = self.used_by_type.get(type_name, set())
            for name, spec in tspec.get("facts", {}).items():
                declared.append(
                    (
                        ("item_types", type_name, "facts", name),
                        msg("lint.fact_of_type", fact=f"item.{name}", type=_type_words(policy, type_name)),
                        msg("lint.reader.rule"),
                        f"item.{name}" in used,
                        spec,
                    )
                )
        for name, path in self.parameters.items():
            if name not in self.looked_up:
                self.add(
                    path, msg("lint.parameter_not_looked_up", name=name), "parameter_unused", "warning", msg("lint.parameter_use_or_remove")
                )
        for path, shown, reader, is_used, spec in declared:
            record = spec.get("record_only", False)
            if not is_used and not record:
                self.add(
                    path,
                    msg("lint.fact_declared_but_uses", shown=shown, reader=reader),
                    "fact_unused",
                    "warning",
                    msg("lint.record_only_true_if"),
                )
            elif is_used and record and shown.split(" ")[0] not in ENGINE_FACTS:
                self.add(
                    (*path, "record_only"),
                    msg("lint.fact_marked_record_only", shown=shown),
                    "record_only_used",
                    "warning",
                    msg("lint.record_only_false_drop"),
                )


class _KeyNumbers(_Pass):
    """`lint.number_not_in_clause`: a rule's rates and amounts, its caps' ceilings and its limits' counts."""

    def __init__(self, lint: _Linter) -> None:
        super().__init__(lint)
        self.numbers: dict[str, ClauseNumbers] = {}
        self.nums: ClauseNumbers | None = None  # the numbers of the rule's clause; None: a rule not judged

    def visit_clause(self, key: str, clause: model.Clause, at: Site) -> None:
        self.numbers[key] = clause_numbers(clause.text)

    def enter_rule(self, rule: model.Rule, at: Site) -> None:
        self.nums = self.numbers.get(rule.cites)

    def visit_amount(self, form: model.AmountForm, at: Site) -> None:
        nums, rule = self.nums, at.rule
        if rule is not None:
            self.amount_thresholds(rule, form, at.path)
        if nums is None or rule is None:
            return
        for r, path in _rates_of(form, at.path):
            if r == 1 and not nums.rates:
                continue  # 100%: the cost itself ("按实际发生费用给予补贴"), in a clause that states no rate
            if not nums.has_rate(r.normalize()):
                self.add(
                    path,
                    msg("lint.rule_pays_but_clause", id=rule.id, percent=percent(r), cites=rule.cites, show_rates=_show_rates(nums)),
                    "number_not_in_clause",
                    "error",
                    msg("lint.rate_clause_states"),
                )
        for what, v, path in _amounts_of(form, at.path):
            if not nums.has_amount(v.normalize()):
                self.add(
                    path,
                    msg(
                        "lint.rule_pays_but_clause_2", id=rule.id, wan=wan(v), what=what, cites=rule.cites, show_amounts=_show_amounts(nums)
                    ),
                    "number_not_in_clause",
                    "error",
                    msg("lint.amount_clause_states"),
                )

    def visit_ceiling(self, form: model.RateAmount | model.TableAmount, cap: model.Cap, at: Site) -> None:
        """A computed ceiling's rates (100% of a bare `of:` is the base itself) and table amounts, in its cap's clause."""
        cn = self.numbers.get(cap.cites)
        if self.nums is None or cn is None or not at.first:  # a shared cap's ceiling is judged once
            return
        for e in amount_expressions(form):
            self.thresholds(at.path, msg("lint.cap", id=cap.id), e, (cap.cites,))
        for r, path in _rates_of(form, at.path):
            if r != 1 and not cn.has_rate(r.normalize()):
                self.add(
                    path,
                    msg("lint.cap_takes_but_clause", id=cap.id, percent=percent(r), cites=cap.cites, show_rates=_show_rates(cn)),
                    "number_not_in_clause",
                    "error",
                    msg("lint.rate_clause_states_2"),
                )
        for what, v, path in _amounts_of(form, at.path):
            if not cn.has_amount(v.normalize()):
                self.add(
                    path,
                    msg("lint.cap_but_clause_says_2", id=cap.id, wan=wan(v), what=what, cites=cap.cites, show_amounts=_show_amounts(cn)),
                    "number_not_in_clause",
                    "error",
                    msg("lint.ceiling_clause_states_2"),
                )

    # numbers inside expressions, band starts and count ceilings: `lint.threshold_not_in_clause` (a warning)

    def visit_check(self, test: model.Test, at: Site) -> None:
        if at.first:
            self.thresholds((*at.path, "test"), msg("lint.check", id=test.id), test.expression, (test.cites,))

    def visit_condition(self, test: model.Test, at: Site) -> None:
        assert at.rule is not None
        self.thresholds((*at.path, "test"), msg("lint.rule", id=at.rule.id), test.expression, (test.cites, at.rule.cites))

    def visit_subject(self, subject: model.Subject, at: Site) -> None:
        assert at.rule is not None
        for e in subject.key:
            self.thresholds(at.path, msg("lint.rule", id=at.rule.id), e, (subject.cites, at.rule.cites))

    def visit_limit(self, limit: model.Limit, at: Site) -> None:
        self.limit_count(limit, at)
        if at.first:
            for e in (*limit.per, *(limit.counting or ())):
                self.thresholds(at.path, msg("lint.limit", id=limit.id), e, (limit.cites,))
            if limit.applies_when is not None:
                self.thresholds((*at.path, "when"), msg("lint.limit", id=limit.id), limit.applies_when, (limit.cites,))

    def visit_document_need(self, need: model.DocumentNeed, at: Site) -> None:
        assert at.rule is not None
        if need.when is not None:
            cites = (self.lint.policy.documents_cites, at.rule.cites)
            self.thresholds((*at.path, "when"), msg("lint.rule", id=at.rule.id), need.when, cites)

    def amount_thresholds(self, rule: model.Rule, form: model.AmountForm, path: Path_) -> None:
        """The expressions of an amount, its bands' starts and its count's ceiling, against the rule's clause."""
        for e in amount_expressions(form):
            self.thresholds(path, msg("lint.rule", id=rule.id), e, (rule.cites,))
        if isinstance(form, model.BandsAmount):
            for i, band in enumerate(form.bands):
                if band.start not in (0, 1):
                    self.threshold(
                        (*path, "bands", i, "from"),
                        msg("lint.rule", id=rule.id),
                        band.start,
                        msg("lint.band_from", wan=wan(band.start)),
                        (rule.cites,),
                    )
        elif isinstance(form, model.PerUnitAmount) and form.max_count is not None and form.max_count > 1:
            shown = msg("lint.count_at_most", n=form.max_count)
            self.threshold((*path, "max_count"), msg("lint.rule", id=rule.id), Decimal(form.max_count), shown, (rule.cites,))
        elif isinstance(form, model.LeastAmount):
            for j, part in enumerate(form.parts):
                self.amount_thresholds(rule, part, (*path, "least", j))

    def thresholds(self, path: Path_, who: Msg, expression: CompiledExpression, cites: tuple[str | None, ...]) -> None:
        for value, text in expression_numbers(expression.source):
            self.threshold(path, who, value, msg("lint.message", text=text, source=expression.source), cites)
        for day in dict.fromkeys(_DATE_LITERAL.findall(expression.source)):
            self.date_in_clause(path, who, day, expression.source, cites)

    def date_in_clause(self, path: Path_, who: Msg, day: str, source: str, cites: tuple[str | None, ...]) -> None:
        """A date an expression compares with (`item.filing_date >= "2019-01-01"`) must be one the clauses it cites
        state, in any form a measure writes a date (2018年1月1日, 2018 年 1 月 1 日, 2018-01-01, 2018.1.1): a
        condition's dates were not looked at, and are a measure's commonest condition."""
        clauses = self.lint.policy.clauses
        known = [c for c in dict.fromkeys(cites) if c and c in clauses]
        if known and not any(day in clause_dates(clauses[c].text) for c in known):
            self.add(
                path,
                msg("lint.date_not_in_clause", who=who, day=day, source=source, names=_either(known, "lint.or")),
                "threshold_not_in_clause",
                "warning",
                msg("lint.date_as_clause_states"),
            )

    def threshold(self, path: Path_, who: Msg, value: Decimal, shown: Msg, cites: tuple[str | None, ...]) -> None:
        """`value` must be a quantity one of the clauses `cites` states (those the policy does not have are not judged)."""
        known = [c for c in dict.fromkeys(cites) if c and c in self.numbers]
        if known and not any(self.numbers[c].has_number(value) for c in known):
            self.add(
                path,
                msg("lint.uses_but_clause_states", who=who, shown=shown, names=_either(known, "lint.or")),
                "threshold_not_in_clause",
                "warning",
                msg("lint.number_as_clause_states"),
            )

    def visit_cap(self, cap: model.Cap, at: Site) -> None:
        if at.first:
            for e in cap.per or ():
                self.thresholds(at.path, msg("lint.cap", id=cap.id), e, (cap.cites,))
            if cap.applies_when is not None:
                self.thresholds((*at.path, "when"), msg("lint.cap", id=cap.id), cap.applies_when, (cap.cites,))
        cn = self.numbers.get(cap.cites)
        if cap.computed is not None:
            return  # see visit_ceiling
        if at.first and self.nums is not None and cn is not None and not cn.has_amount(cap.ceiling.normalize()):
            self.add(
                (*at.path, "max"),
                msg("lint.cap_but_clause_says", id=cap.id, wan=wan(cap.ceiling), cites=cap.cites, show_amounts=_show_amounts(cn)),
                "number_not_in_clause",
                "error",
                msg("lint.ceiling_clause_states"),
            )
        elif at.first and at.rule is not None and cn is not None and _looks_like_count(cap.ceiling, cn):
            self.cap_as_count(cap, at.rule, at.path)

    def cap_as_count(self, cap: model.Cap, rule: model.Rule, path: Path_) -> None:
        """`lint.cap_is_a_count`: a money ceiling below 100 yuan that is a count the clause states ("累计享受贴息补助不超过3次"
        written `max: 3`): the clause's number passed as an amount (every plain number is one), and each item was cut to
        3 yuan with nothing said. What to write instead: a limit with the cap's scope, and `max_count` on a per-unit
        amount (a ceiling on the units of one item)."""
        n = int(cap.ceiling)
        per = msg("lint.count_per", keys=", ".join(e.source for e in cap.per)) if cap.per is not None else msg("lint.count_per_item")
        limit = msg("lint.count_as_limit", id=cap.id, n=n, per=per)
        fix = msg("lint.count_max_count", n=n, limit=limit) if isinstance(rule.amount, model.PerUnitAmount) else limit
        message = msg("lint.cap_is_a_count", id=cap.id, amount=wan(cap.ceiling), n=n, cites=cap.cites)
        self.add((*path, "max"), message, "cap_is_a_count", "error", fix)

    def visit_selection(self, selection: model.Selection, at: Site) -> None:
        """A selection's `first` is a count its clause states (an error, like a limit's times); its `budget` an amount
        (a warning: a round's budget is often set each year outside the measures' text)."""
        sn = self.numbers.get(selection.cites)
        if sn is None or self.nums is None:
            return
        if selection.first is not None and selection.first > 1 and not sn.has_count(selection.first):
            self.add(
                (*at.path, "first"),
                msg("lint.selection_takes_first_but", id=selection.id, first=selection.first, cites=selection.cites),
                "number_not_in_clause",
                "error",
                msg("lint.count_clause_states"),
            )
        if selection.budget is not None and not sn.has_amount(selection.budget.normalize()):
            shown = msg("lint.budget_of", amount=wan(selection.budget))
            self.threshold((*at.path, "budget"), msg("lint.selection", id=selection.id), selection.budget, shown, (selection.cites,))

    def limit_count(self, limit: model.Limit, at: Site) -> None:
        ln = self.numbers.get(limit.cites)
        if at.first and self.nums is not None and limit.times > 1 and ln is not None and not ln.has_count(limit.times):
            self.add(
                (*at.path, "times"),
                msg("lint.limit_allows_times_but", id=limit.id, times=limit.times, cites=limit.cites),
                "number_not_in_clause",
                "error",
                msg("lint.count_clause_states_2"),
            )


def _looks_like_count(ceiling: Decimal, numbers: ClauseNumbers) -> bool:
    """A money ceiling that is evidently a count: a whole number of yuan below 100 (no measure caps a subsidy there; the
    figures a reader takes for amounts start at 100, as `lint.says_other_figure` reads them) that the clause states."""
    return 0 < ceiling < 100 and ceiling == ceiling.to_integral_value() and numbers.has_count(int(ceiling))


#: `param("name"`: a look-up written inside another's date argument
_PARAM_NAME = re.compile(r"""\bparam\(\s*["']([^"']+)["']""")
#: English words for a count, as a limit's words write it ("supported once", "at most twice")
_ENGLISH_COUNTS = {"once": 1, "twice": 2, "thrice": 3}
_ENGLISH_COUNT = re.compile(r"\b(once|twice|thrice)\b", re.IGNORECASE)


_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
#: Not quantities in English words: a date or year (31 December 2019, Jan 1, in 2024) and a reference (item 4,
#: Art. 5, para. 2)
_ENGLISH_NOT_QUANTITIES = re.compile(
    rf"\b[0-9]{{1,2}}\s+{_MONTH}|\b{_MONTH}\s+[0-9]{{1,2}}\b|(?<![\d,.])(?:19|20)[0-9]{{2}}(?![\d,.年/-])"
    r"|\b(?:items?|articles?|arts?\.|paragraphs?|paras?\.|clauses?|points?|sections?|no\.)\s*\(?[0-9]+\)?",
    re.IGNORECASE,
)


#: CNY 1.2 million, 300 thousand
_ENGLISH_SCALE = re.compile(r"\b([0-9]{1,6}(?:\.[0-9]{1,6})?)\s*(thousand|million|billion)\b", re.IGNORECASE)
_ENGLISH_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9}


def said_numbers(text: str) -> ClauseNumbers:
    """The quantities a `says` text states, read as a clause's (`clause_numbers`), and in English words as well:
    "once" and "twice" are counts; a year and a reference to an item or article are not quantities."""
    text = _ENGLISH_SCALE.sub(lambda m: f"{Decimal(m.group(1)) * _ENGLISH_SCALES[m.group(2).lower()]:f}", text)
    n = clause_numbers(_ENGLISH_NOT_QUANTITIES.sub("|", text))
    words = {_ENGLISH_COUNTS[w.lower()] for w in _ENGLISH_COUNT.findall(text)}
    return ClauseNumbers(n.amounts, n.rates, n.counts | words, n.years) if words else n


#: a span of years as words write it: 2021—2023, 2021-2023 年, 2021 年至 2023 年, 2021~2023, and right after or
#: before a Chinese character (覆盖2021—2023申报年度, 2021年至2023年): `\b` saw no edge between 盖 and 2 (both word
#: characters), so such a span was never seen. Bounded instead by what a span is not part of: a longer number, a
#: code or a date (010-2021-2023, A2021-2023, 2021-2023-12-31, 2021—2023.5)
_YEAR_SPAN = re.compile(
    r"(?<![0-9A-Za-z.\-/])((?:19|20)\d{2})\s*年?\s*(?:[—–\-~～]|至|到|to)\s*((?:19|20)\d{2})(?![0-9A-Za-z]|[.\-/][0-9])"
)


class _SaysFigures(_Pass):
    """`lint.says_other_figure`: a `says` (the words an explanation cites for a construct) stating an amount or a
    count other than the one the construct applies. Only figures a reader takes for the construct's own are
    compared: amounts of 100 or more ("12 位申请号" states no amount) for ceilings, budgets and the numbers a test
    compares, and counts for limits and a selection's first N."""

    def words(self, path: Path_, says: model.Text) -> Iterator[tuple[Path_, str, ClauseNumbers]]:
        for lang in ("zh", "en"):
            text = getattr(says, lang)
            if text:
                yield (*path, "says", lang), text, said_numbers(text)

    def amounts(self, path: Path_, who: Msg, says: model.Text, figures: Iterable[Decimal], shown: Msg, every: bool = False) -> None:
        """Words stating amounts, none of them `figures` (`every`: any of them not among `figures`, for a test's
        words, which say its comparisons; a ceiling's or budget's may state others beside it, "120万，按60%计72万")."""
        allowed = {f.normalize() for f in figures}
        for where, text, n in self.words(path, says):
            stated = sorted(v for v in n.amounts if v >= 100)
            other = [v for v in stated if v not in allowed]
            if other if every else stated and len(other) == len(stated):
                self.said(where, who, text, [wan(v) for v in other], shown)

    def counts(self, path: Path_, who: Msg, says: model.Text, count: int, shown: Msg) -> None:
        """Words stating counts, none of them `count` (a count of 10,000 or more is read as an amount: 120万)."""
        for where, text, n in self.words(path, says):
            stated = sorted(c for c in n.counts if c < 10000)
            if stated and count not in stated:
                self.said(where, who, text, [str(c) for c in stated], shown)

    def said(self, where: Path_, who: Msg, text: str, stated: list[str], shown: Msg) -> None:
        message = msg("lint.says_states", who=who, text=text, stated=msg("lint.listed", items=stated), shown=shown)
        self.add(where, message, "says_other_figure", "warning", msg("lint.says_as_applied"))

    def visit_policy(self, policy: model.CompiledPolicy, at: Site) -> None:
        """The in-force assumption's words stating spans of years none of which is the window applied (a revision
        that moved `funding_years` and kept its predecessor's words, "覆盖 2021—2023 申报年度", on a 2026-2028
        version). A span one year on is the application years (对应 2022—2024 年集中申报) and is said beside it."""
        said, (first, last) = policy.in_force_assumption, policy.funding_years
        for lang in ("zh", "en"):
            text = getattr(said, lang) if said is not None else None
            spans = [(int(a), int(b)) for a, b in _YEAR_SPAN.findall(text or "")]
            if spans and (first, last) not in spans:
                where = ("policy", "in_force", "assumption", lang)
                stated = msg("lint.listed", items=[f"{a}—{b}" for a, b in dict.fromkeys(spans)])
                message = msg("lint.assumption_years", text=text, spans=stated, first=first, last=last)
                self.add(where, message, "says_other_figure", "warning", msg("lint.assumption_years_fix", first=first, last=last))

    def visit_cap(self, cap: model.Cap, at: Site) -> None:
        if at.first and cap.computed is None and not cap.generated_says:
            self.amounts(
                at.path, msg("lint.cap", id=cap.id), cap.says, (cap.ceiling,), msg("lint.applies_ceiling", amount=wan(cap.ceiling))
            )

    def visit_limit(self, limit: model.Limit, at: Site) -> None:
        if at.first:
            self.counts(at.path, msg("lint.limit", id=limit.id), limit.says, limit.times, msg("lint.applies_times", times=limit.times))

    def visit_selection(self, selection: model.Selection, at: Site) -> None:
        who = msg("lint.selection", id=selection.id)
        if selection.first is not None:
            self.counts(at.path, who, selection.says, selection.first, msg("lint.applies_first", first=selection.first))
        if selection.budget is not None:
            self.amounts(at.path, who, selection.says, (selection.budget,), msg("lint.applies_budget", amount=wan(selection.budget)))

    def visit_check(self, test: model.Test, at: Site) -> None:
        if at.first:
            self.test(test, at, msg("lint.check", id=test.id))

    def visit_condition(self, test: model.Test, at: Site) -> None:
        self.test(test, at, msg("lint.condition_of", id=test.id))

    def test(self, test: model.Test, at: Site, who: Msg) -> None:
        figures = [v for v, _ in expression_numbers(test.expression.source)]
        # a dated parameter it looks up: each of its values is a figure the words may state ("不得低于10万元（2022年
        # 7月1日起为50万元）" for min_loan's 10万 and 50万)
        named = set(test.expression.parameter_names) | set(_PARAM_NAME.findall(test.expression.source))
        parameters = self.lint.policy.parameters
        dated = [{Decimal(v.value).normalize() for v in parameters[n].values} for n in sorted(named) if n in parameters]
        figures += [v for values in dated for v in values]
        for values in dated:  # some of a parameter's values stated, not all: the words are wrong on some dates
            for where, text, n in self.words(at.path, test.says):
                stated = {v for v in n.amounts if v >= 100}
                if stated & values and not values <= stated:
                    shown = msg("lint.applies_figures", figures=msg("lint.listed", items=[wan(v) for v in sorted(values)]))
                    self.said(where, who, text, [wan(v) for v in sorted(stated)], shown)
        shown = msg("lint.listed", items=[wan(v) for v in figures]) if figures else msg("lint.no_figure")
        self.amounts(at.path, who, test.says, figures, msg("lint.applies_figures", figures=shown), every=True)


def _show_amounts(n: ClauseNumbers) -> Msg:
    big = sorted(v for v in n.amounts if v >= 100)
    return msg("lint.listed", items=[wan(v) for v in big]) if big else msg("lint.no_amount")


def _show_rates(n: ClauseNumbers) -> Msg:
    rates = [percent(r) for r in sorted(n.rates)]
    return msg("lint.listed", items=rates) if rates else msg("lint.no_rate")


def _either(parts: list[Any], key: str) -> Msg | str:
    """ "a or b or c" (key `lint.or`) / "a; b" (`lint.and`), said in the reader's language."""
    if len(parts) == 1:
        return parts[0]  # type: ignore[no-any-return]
    return msg(key, first=parts[0], rest=_either(parts[1:], key))


def lint_source(source: Source) -> list[Problem]:
    """Load problems (as errors) if the policy does not compile; else the lint findings."""
    policy, problems = check_source(source)
    if problems or policy is None:
        return problems
    return lint_policy(policy, source)


def lint_policy(policy: model.CompiledPolicy, source: Source) -> list[Problem]:
    return _Linter(policy, source).run()


def lint_file(path: str | Path) -> list[Problem]:
    try:
        source = load_yaml_file(path, max_nodes=MAX_POLICY_NODES)
    except EngineError as err:
        return list(err.problems)
    return lint_source(source)


def format_problem(p: Problem) -> str:
    """`file:line:col: warning: path: message` (compiler style, one line plus the hint), in the reader's language."""
    severity = lookup(f"lint.severity.{p.severity}") if p.severity in ("error", "warning") else p.severity
    place = p.place()
    # (`file:line:column: ` as a compiler writes it; after the severity and the field, the reader's colon: 错误：)
    line = "lint.problem_line" if place else "lint.problem_line_bare"
    text = tr(msg(line, location=p.location(), severity=severity, where=place, message=p.message, code=p.code))
    if p.expected:
        text += f"\n    {lookup('core.expected')} {tr(p.expected)}"
    return text
