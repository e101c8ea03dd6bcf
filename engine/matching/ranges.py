"""The one interval evaluation of the matcher: the most an item can be paid when some of its facts are unknown.

Everything the evaluator decides on known facts comes from the evaluator itself (`matcher` runs the real
decision). What it cannot say is how much an item whose facts are unknown could be paid: this module bounds
that amount from above, soundly, from the rule's amount form, its caps and the ledger's history:

* an expression (the base of a rate, the count of a per-unit amount, a band's base) is evaluated over
  intervals on its parsed syntax tree: a known fact is a point, an unknown number fact spans its declared
  bounds (money, integers and counts from 0; no upper bound unless the policy declares one); + - * / min max
  and conditional expressions are followed; anything else is "any number" (coarse, never wrong);
* a table by an unknown key spans its entries (and its `otherwise`); bands span the bands the base can
  reach; `least` is the least of its parts' bounds;
* each cap that certainly applies bounds the amount by its ceiling less what history already used in its scope
  (its scope unknown: by the ceiling); a computed ceiling by its own upper bound.

An unbounded upper end is `None`, never a made-up number.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import lru_cache
from typing import Any

from engine.core.errors import EngineError
from engine.core.quantities import ROUNDING_MODES
from engine.deciding.history import Grant, Usage
from engine.language.expressions import CompiledExpression, MissingFact, evaluate_with_simpleeval
from engine.language.model import (
    AmountForm,
    BandsAmount,
    Cap,
    CompiledPolicy,
    ExternalAmount,
    FactSpec,
    FixedAmount,
    Limit,
    PerUnitAmount,
    RateAmount,
    Rule,
    TableAmount,
    scope_key,
    table_key,
)

INF = Decimal("Infinity")
NEG = Decimal("-Infinity")
ZERO = Decimal(0)
Span = tuple[Decimal, Decimal]  # (low, high), either may be infinite
ANY: Span = (NEG, INF)
NON_NEGATIVE = frozenset({"money", "integer", "count"})


def _mul(a: Decimal, b: Decimal) -> Decimal:
    if a == 0 or b == 0:
        return ZERO  # 0 x infinity: the bound is 0 (a finite factor of 0 times any finite value)
    return a * b


def _times(x: Span, y: Span) -> Span:
    products = [_mul(a, b) for a in x for b in y]
    return min(products), max(products)


def _plus(x: Span, y: Span) -> Span:
    lo = NEG if NEG in (x[0], y[0]) else x[0] + y[0]
    hi = INF if INF in (x[1], y[1]) else x[1] + y[1]
    return lo, hi


def _neg(x: Span) -> Span:
    return -x[1], -x[0]


class Facts3:
    """The three fact namespaces of an item, with the specs that bound an unknown fact."""

    def __init__(self, policy: CompiledPolicy, item_type: str, item: Any, applicant: Any, claim: Any) -> None:
        self.values = {"item": item, "applicant": applicant, "claim": claim}
        self.specs: dict[str, dict[str, FactSpec]] = {
            "item": policy.item_facts.get(item_type, {}),
            "applicant": policy.applicant_facts,
            "claim": policy.claim_facts,
        }

    def call(self, expression: CompiledExpression) -> Any:
        """The expression's value on the known facts (MissingFact when it needs an unknown one)."""
        return expression(self.values["item"], self.values["applicant"], self.values["claim"])

    def fact(self, namespace: str, name: str) -> Span:
        values = self.values.get(namespace)
        if values is not None and name in values:
            return _point(values[name])
        spec = self.specs.get(namespace, {}).get(name)
        if spec is None:
            return ANY
        lo = spec.minimum if spec.minimum is not None else (ZERO if spec.type in NON_NEGATIVE else NEG)
        hi = spec.maximum if spec.maximum is not None else INF
        return Decimal(lo), Decimal(hi)


def _point(value: Any) -> Span:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return ANY
    d = Decimal(value)
    return d, d


@lru_cache(maxsize=4096)
def _tree(source: str) -> ast.expr | None:
    try:
        return ast.parse(source, mode="eval").body
    except SyntaxError:  # pragma: no cover - compiled expressions parse
        return None


def span_of(expression: CompiledExpression, facts: Facts3) -> Span:
    """The interval an expression's numeric value lies in, whatever the unknown facts turn out to be."""
    try:
        return _point(facts.call(expression))
    except MissingFact:
        pass
    except EngineError:  # cannot be evaluated on these facts: any number
        return ANY
    tree = _tree(expression.source)
    return ANY if tree is None else _node(tree, facts)


def _node(node: ast.expr, facts: Facts3) -> Span:
    if isinstance(node, ast.Constant):
        return _point(node.value)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return facts.fact(node.value.id, node.attr)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _neg(_node(node.operand, facts))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
        return _node(node.operand, facts)
    if isinstance(node, ast.BinOp):
        a, b = _node(node.left, facts), _node(node.right, facts)
        if isinstance(node.op, ast.Add):
            return _plus(a, b)
        if isinstance(node.op, ast.Sub):
            return _plus(a, _neg(b))
        if isinstance(node.op, ast.Mult):
            return _times(a, b)
        if isinstance(node.op, ast.Div) and (b[0] > 0 or b[1] < 0) and INF not in (abs(b[0]), abs(b[1])):
            return _times(a, (1 / b[1], 1 / b[0]))
        return ANY
    if isinstance(node, ast.IfExp):
        a, b = _node(node.body, facts), _node(node.orelse, facts)
        return min(a[0], b[0]), max(a[1], b[1])
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("min", "max")
        and node.args
        and not node.keywords
    ):
        spans = [_node(a, facts) for a in node.args]
        pick: Callable[[Iterable[Decimal]], Decimal] = min if node.func.id == "min" else max
        return pick(s[0] for s in spans), pick(s[1] for s in spans)
    return ANY


def truth(expression: CompiledExpression, facts: Facts3) -> bool | None:
    """A yes/no expression in three values (Kleene): True or False when every way of filling the unknown facts gives
    it, else None. `and`/`or`/`not` are followed through unknown parts (`unknown and false` is false, which the
    evaluator, stopping at the first missing fact, cannot see); any other part is evaluated by simpleeval, the
    engine's reference semantics, and is unknown when it needs a missing fact or cannot be evaluated."""
    try:
        return bool(facts.call(expression))
    except MissingFact:
        pass
    except EngineError:  # the expression cannot be evaluated on these facts (a runtime error): unknown
        return None
    tree = _tree(expression.source)
    if not isinstance(tree, ast.BoolOp | ast.UnaryOp):
        return None  # no and/or/not at the top: the reference semantics would need the same missing fact
    return _truth(tree, facts)


def _truth(node: ast.expr, facts: Facts3) -> bool | None:
    if isinstance(node, ast.BoolOp):
        parts = [_truth(v, facts) for v in node.values]
        decisive = isinstance(node.op, ast.Or)  # the value that decides: True for `or`, False for `and`
        if any(p is decisive for p in parts):
            return decisive
        return (not decisive) if all(p is (not decisive) for p in parts) else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _truth(node.operand, facts)
        return None if inner is None else not inner
    values = facts.values
    try:
        return bool(evaluate_with_simpleeval(ast.unparse(node), values["item"], values["applicant"], values["claim"]))
    except Exception:  # a missing fact (a KeyError in simpleeval's names), or anything else: unknown, never a guess
        return None


def _table_span(form: TableAmount, facts: Facts3) -> Span | None:
    """The entries a table can give (None: none at all, the item is refused)."""
    try:
        got = form.table.get(table_key(facts.call(form.by)), form.otherwise)
        return None if got is None else (got, got)
    except MissingFact:
        values = [*form.table.values(), *([] if form.otherwise is None else [form.otherwise])]
        return (min(values), max(values)) if values else None


def _round(x: Span, quantum: Decimal, mode: str) -> Span:
    return tuple(v if v.is_infinite() else v.quantize(quantum, mode) for v in x)  # type: ignore[return-value]


def form_span(form: AmountForm, facts: Facts3, quantum: Decimal, mode: str) -> Span:
    """The interval of an amount form's value (before caps), never below what it can compute."""
    if isinstance(form, FixedAmount):
        return form.value, form.value
    if isinstance(form, TableAmount):
        return _table_span(form, facts) or (ZERO, ZERO)
    if isinstance(form, ExternalAmount):
        try:
            value = facts.call(form.source)
            return _point(value) if value is not None else (ZERO, INF)
        except MissingFact:
            return ZERO, INF
    if isinstance(form, RateAmount):
        base = _table_span(form.of_table, facts) if form.of_table is not None else span_of(form.of, facts)
        rate = _table_span(form.rate_table, facts) if form.rate_table is not None else (form.rate, form.rate)
        if base is None or rate is None:
            return ZERO, ZERO
        return _round(_times(base, rate), quantum, mode)
    if isinstance(form, PerUnitAmount):
        count = span_of(form.count, facts)
        if form.max_count is not None:
            count = (min(count[0], Decimal(form.max_count)), min(count[1], Decimal(form.max_count)))
        if form.per_unit_table is not None:
            per = _table_span(form.per_unit_table, facts)
            return (ZERO, ZERO) if per is None else _times(per, count)
        if form.per_unit_of is not None:  # computed: rounded as the decide rounds the product
            return _round(_times(span_of(form.per_unit_of, facts), count), quantum, mode)
        return _times((form.per_unit, form.per_unit), count)
    if isinstance(form, BandsAmount):
        return _bands_span(form, facts, quantum, mode)
    parts = [form_span(p, facts, quantum, mode) for p in form.parts]
    return min(p[0] for p in parts), min(p[1] for p in parts)


def _bands_span(form: BandsAmount, facts: Facts3, quantum: Decimal, mode: str) -> Span:
    """The last band (in the order written) whose start the base reaches decides (see codegen.amount_bands):
    band n can be chosen when some base of the interval reaches its start and no later band's start; nothing
    (0) when the base may stay below every start."""
    lo_b, hi_b = span_of(form.of, facts)
    spans: list[Span] = []
    for n, band in enumerate(form.bands):
        low = max(lo_b, band.start)
        later = [b.start for b in form.bands[n + 1 :]]
        below = min(later) if later else INF
        if low > hi_b or low >= below:
            continue
        if band.amount is not None:
            spans.append((band.amount, band.amount))
        else:
            rate = band.rate or ZERO
            spans.append(_round(_times((low, min(hi_b, below)), (rate, rate)), quantum, mode))
    if not form.bands or lo_b < min(b.start for b in form.bands):
        spans.append((ZERO, ZERO))
    return min(s[0] for s in spans), max(s[1] for s in spans)


def usage_of(history: Iterable[Grant]) -> Usage:
    usage = Usage({}, {}, {})
    for g in history:
        usage.add(g)
    return usage


def _applies(cap: Cap | Limit, facts: Facts3, kind: Any) -> bool | None:
    """Whether a cap (or a limit) applies to the item: True, False, or None (unknown)."""
    if cap.kinds is not None and kind not in cap.kinds:
        return False
    if cap.applies_when is None:
        return True
    try:
        return bool(facts.call(cap.applies_when))
    except MissingFact:
        return None


def cap_room(cap: Cap, facts: Facts3, usage: Usage, quantum: Decimal, mode: str) -> Decimal:
    """The most the cap leaves the item: its ceiling (or the computed ceiling's upper bound) less what history
    used in its scope; the scope unknown, the ceiling (history of some scope may be zero)."""
    ceiling = cap.ceiling.quantize(quantum, mode) if cap.computed is None else form_span(cap.computed, facts, quantum, mode)[1]
    if ceiling < 0:
        return ZERO
    try:
        scope = cap.scope(facts.values["item"], facts.values["applicant"], facts.values["claim"])
    except MissingFact:
        return ceiling
    used = usage.caps.get((cap.id, scope), ZERO)
    room = ceiling - used
    return room if room > 0 else ZERO


#: a counting's part whose fact is not known (it may be any value)
_ANY = object()


def _known_or_any(expression: Any, item: Any, applicant: Any, claim: Any) -> Any:
    try:
        return scope_key(expression(item, applicant, claim))
    except MissingFact:
        return _ANY


def _may_be(counts: tuple[Any, ...], used: tuple[Any, ...]) -> bool:
    """Whether a counting with unknown parts may turn out to be `used` (an earlier one): every known part equal."""
    return len(counts) == len(used) and all(c is _ANY or c == u for c, u in zip(counts, used, strict=True))


def used_up(policy: CompiledPolicy, rule: Rule, facts: Facts3, usage: Usage) -> Cap | Limit | None:
    """A limit or a cap that certainly applies to the item and that history (with the items before it) has used up
    in the item's scope, whatever its unknown facts: the item is then refused. A limit: its times already counted
    in the scope, and the item's own count known and not among them (an unknown one may be a time already
    counted). A cap: no room left, so the item would be cut to nothing. None if there is none."""
    quantum = policy.quantum
    mode = ROUNDING_MODES[policy.rounding]
    kind = facts.values["applicant"].get("kind")
    item, applicant, claim = facts.values["item"], facts.values["applicant"], facts.values["claim"]
    for limit in rule.limits:
        if _applies(limit, facts, kind) is not True:
            continue
        try:
            used = usage.limits.get((limit.id, limit.scope(item, applicant, claim)), ())
        except MissingFact:
            continue
        # (each granted item counts once where the limit names no counting: a profile's item is a new one)
        counts = None if limit.counting is None else tuple(_known_or_any(e, item, applicant, claim) for e in limit.counting)
        if counts is not None and _ANY in counts:
            if not limit.consecutive and len(used) >= limit.times and not any(_may_be(counts, u) for u in used):
                return limit  # (3 loans counted in 2021-2022, one of 2023 whatever its loan id: a new count, refused)
            continue
        if not limit.allows(used, counts):
            return limit
    for cap in rule.caps:
        if cap.computed is None and cap.per is not None and _applies(cap, facts, kind) is True:
            try:
                cap.scope(facts.values["item"], facts.values["applicant"], facts.values["claim"])
            except MissingFact:
                continue  # (the scope unknown: some scope may have room)
            if cap_room(cap, facts, usage, quantum, mode) <= 0:
                return cap
    return None


def upper_bound(policy: CompiledPolicy, rule: Rule, facts: Facts3, usage: Usage) -> Decimal | None:
    """The most the item can be paid under this rule after caps and history (None: no upper bound)."""
    if rule.amount is None:
        return ZERO  # a referral pays nothing here
    quantum = policy.quantum
    mode = ROUNDING_MODES[policy.rounding]
    hi = form_span(rule.amount, facts, quantum, mode)[1]
    kind = facts.values["applicant"].get("kind")
    for cap in rule.caps:
        if _applies(cap, facts, kind) is True:
            hi = min(hi, cap_room(cap, facts, usage, quantum, mode))
    if hi < 0:
        return ZERO
    return None if hi.is_infinite() else hi
