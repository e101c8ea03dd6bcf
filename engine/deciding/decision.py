"""Decisions and their trace, and their one canonical JSON form.

The evaluator records steps as tuples referencing compiled policy objects;
`Decision.to_dict()` expands them into the machine-readable trace (rule id,
clause cited, facts used with their values, arithmetic, every cap and limit
with its ceiling and use before and after). Serialisation is deterministic:
the same input gives byte-identical JSON.
"""

from __future__ import annotations

import decimal
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, ParamSpec, TypeVar

from engine.core.errors import ClaimError
from engine.core.quantities import format_money
from engine.deciding.history import Grant
from engine.language import model
from engine.language.expressions import MissingFact

if TYPE_CHECKING:
    from engine.deciding.claims import Claim, Item
    from engine.language.model import CompiledPolicy

#: The engine's own decimal arithmetic, whatever the calling program set with `decimal.getcontext()`: 60 digits
#: (amounts need 14, products of an amount and a rate some 20: nothing is rounded but by an explicit quantize),
#: banker's rounding for anything implicit, and a trap on every operation that would lose a value. Every field is
#: given, so that a changed `decimal.DefaultContext` does not leak in either.
ENGINE_CONTEXT = decimal.Context(
    prec=60,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-999999,
    Emax=999999,
    capitals=1,
    clamp=0,
    flags=[],
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
_getcontext, _setcontext = decimal.getcontext, decimal.setcontext

_P = ParamSpec("_P")
_R = TypeVar("_R")


def in_engine_context(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """`function` run with `ENGINE_CONTEXT` as the thread's decimal context, the caller's restored after.

    `decimal.setcontext` with the shared context object (as `decimal.localcontext` would, minus its copy: a
    third of a microsecond instead of two). Engine code never changes the context, only its sticky flags."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        saved = _getcontext()
        if saved is ENGINE_CONTEXT:
            return function(*args, **kwargs)
        _setcontext(ENGINE_CONTEXT)
        try:
            return function(*args, **kwargs)
        finally:
            _setcontext(saved)

    return wrapper


STATUSES = ("granted", "reduced", "refused", "incomplete", "referred", "pending_review")
DECISION_FORMAT = "policy-engine/decision@1"


@dataclass(frozen=True, slots=True)
class Reason:
    category: str
    check: str
    cites: str
    says: model.Text

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "check": self.check, "cites": self.cites, "says": self.says.to_dict()}


class ItemDecision(NamedTuple):
    """One item's decision. Immutable; a named tuple because one is made per item on the hot path
    (a frozen dataclass costs several times more to construct)."""

    item: Item
    rule: model.Rule
    status: str
    amount: Decimal
    asked: Decimal
    provisional: Decimal | None
    reasons: tuple[Reason, ...]
    missing_facts: tuple[str, ...]
    missing_documents: tuple[str, ...]
    steps: tuple[Any, ...]
    grant: Grant | None
    documents_cites: str | None = None  # the policy's clause on documents, cited when some are missing
    #: the clauses of the subject rule and the caps that cut the amount, in the order they did: recorded with or
    #: without the trace, so that a decision without its trace cites the same clauses
    cut_by: tuple[str, ...] = ()
    #: a pending item's ceilings, each (cap, scope, use before it): the caps the panel's amount will be held to, with
    #: the room already used in their scope (history and earlier items); and those of an item refused because one
    #: of them had no room left for the panel's amount (where the room went); empty for every other item
    ceilings: tuple[tuple[Any, Any, Decimal], ...] = ()

    def __repr__(self) -> str:  # (the whole rule and trace made a repr of 4.7 kB)
        return f"<ItemDecision {self.item.id} {self.item.type} {self.status} {format_money(self.amount)} of {format_money(self.asked)}>"

    @property
    def cites(self) -> tuple[str, ...]:
        """The clauses that decided this item: the rule's own, then each ground's, each cutting subject's and
        cap's, then the documents clause, in order."""
        out = [self.rule.cites]
        for r in self.reasons:
            if r.cites not in out:
                out.append(r.cites)
        for cites in self.cut_by:
            if cites not in out:
                out.append(cites)
        if self.missing_documents and self.documents_cites and self.documents_cites not in out:
            out.append(self.documents_cites)
        return tuple(out)


def json_value(value: Any) -> Any:
    """A value of the trace as the decision JSON writes it: a Decimal of whole cents as money text, sets sorted,
    dates in ISO form."""
    if isinstance(value, Decimal):
        return format_money(value) if value == value.quantize(Decimal("0.01")) else str(value)
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, tuple | list):
        return [json_value(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def facts_used(facts: tuple[str, ...], item: Any, applicant: Any, claim: Any) -> dict[str, Any]:
    """The facts an expression read, by full name (`item.cost`), with their values as JSON writes them."""
    out = {}
    spaces = {"item": item, "applicant": applicant, "claim": claim}
    for full in facts:
        ns, name = full.split(".", 1)
        space = spaces[ns]
        out[full] = json_value(dict.get(space, name)) if name in space else None
    return out


def shown_values(test: model.Test, I: Any, A: Any, C: Any) -> list[dict[str, Any]]:
    """The values a check shows beside its facts (its `shows:`), as the decision JSON writes them: each one's words,
    value, type and expression. A value that cannot be computed -- None, a fact not given, a computation on a value
    that is not there -- is left out. Computed when the decision is written or explained, not when it is made."""
    out = []
    for shown in test.shows:
        try:
            value = shown.value.function(I, A, C)
        except (MissingFact, ClaimError):
            continue
        if value is not None:
            out.append(
                {"label": shown.label.to_dict(), "value": json_value(value), "type": shown.value.type, "expression": shown.value.source}
            )
    return out


#: per check that names readings by a condition (by its identity): (the check, what reads the values its conditions
#: read, the readings kept by those values, at most `_NAMED_KEPT`); the check held beside them, so that its identity
#: is not reused while kept
_NAMED: dict[int, tuple[model.Test, Callable[[Any, Any, Any], tuple[Any, ...]], dict[tuple[Any, ...], tuple[str, ...]]]] = {}
_NAMED_KEPT = 4096
_ABSENT = object()


def applies_to_item(test: model.Test, I: Any, A: Any, C: Any) -> bool:
    """Whether a check with `applies:` applies to the item (one that cannot be worked out does: its test decided).
    Worked out each time, not kept: what it reads is mostly the item's own (its patent number)."""
    return test.applies is None or _holds(test.applies, I, A, C) is not False


def readings_named(test: model.Test, I: Any, A: Any, C: Any) -> tuple[str, ...]:
    """The readings a check's step names (for a check with readings chosen by a condition, `readings_when`): those it
    always names, then each whose condition holds on the item. A condition that cannot be worked out (a fact not
    given) does not hold. Kept by the values the conditions read (items alike, and an item's JSON and explanation,
    ask the same)."""
    entry = _NAMED.get(id(test))
    if entry is None or entry[0] is not test:
        if len(_NAMED) >= _NAMED_KEPT:
            _NAMED.clear()
        entry = _NAMED[id(test)] = (test, _values_read(test), {})
    key = entry[1](I, A, C)
    kept = entry[2]
    try:
        named = kept.get(key)
    except TypeError:  # (a value that cannot be a key: worked out each time)
        return _readings_named(test, I, A, C)
    if named is None:
        if len(kept) >= _NAMED_KEPT:
            kept.clear()
        named = kept[key] = _readings_named(test, I, A, C)
    return named


def _values_read(test: model.Test) -> Callable[[Any, Any, Any], tuple[Any, ...]]:
    """`read(I, A, C)`: the values of the facts a check's reading conditions read, as a tuple (absent: a mark of its
    own). Generated once per check, as the rule code is: the facts' names are bound as constants (K0, K1, ...), never
    written into its source."""
    facts = dict.fromkeys(f for _, when in test.readings_when for f in when.facts)
    ns: dict[str, Any] = {"ABSENT": _ABSENT, "get": dict.get}
    parts = []
    for k, full in enumerate(facts):
        space, name = full.split(".", 1)
        ns[f"K{k}"] = name
        parts.append(f"get({ {'item': 'I', 'applicant': 'A', 'claim': 'C'}[space] }, K{k}, ABSENT)")
    code = f"def read(I, A, C):\n    return ({', '.join(parts)}{',' if len(parts) == 1 else ''})\n"
    exec(compile(code, "<reading conditions>", "exec"), ns)  # noqa: S102 - only names and indices in it, see above
    read: Callable[[Any, Any, Any], tuple[Any, ...]] = ns["read"]
    return read


def _holds(e: Any, I: Any, A: Any, C: Any) -> bool | None:
    """An expression's yes/no on the item; None where it cannot be worked out (a fact not given)."""
    try:
        return e.function(I, A, C) is True
    except (MissingFact, ClaimError):
        return None


def _readings_named(test: model.Test, I: Any, A: Any, C: Any) -> tuple[str, ...]:
    out = list(test.readings)
    for reading, when in test.readings_when:
        if _holds(when, I, A, C) and reading not in out:
            out.append(reading)
    return tuple(out)


def _rate_detail(form: model.RateAmount, detail: Any, I: Any, A: Any, C: Any) -> dict[str, Any]:
    """A rate form's base and rate as a step shows them (an amount's or a computed ceiling's): the detail is the base,
    or (base, key, rate) for a rate chosen by a scalar."""
    out: dict[str, Any] = {}
    okey = None
    if form.of_table is not None:  # (base, rate key or None, rate, base key)
        base, key, rate, okey = detail
        out["rate"] = str(rate)
        if form.rate_table is not None:
            out["rate_by"] = {"expression": form.rate_table.by.source, "value": json_value(key)}
            if form.rate_table.base is not None:
                out["rate_by"]["label"] = form.rate_table.base.to_dict()
    elif form.rate_table is not None:
        base, key, rate = detail
        out["rate"] = str(rate)
        out["rate_by"] = {"expression": form.rate_table.by.source, "value": json_value(key)}
        if form.rate_table.base is not None:
            out["rate_by"]["label"] = form.rate_table.base.to_dict()
    else:
        base = detail
        out["rate"] = str(form.rate)
    out["base"] = {"expression": form.of.source, "value": json_value(base)}
    if form.base is not None:
        out["base"]["label"] = form.base.to_dict()
    if form.of_table is not None:  # the base came from an amount table: the key that chose it
        out["base_by"] = {"expression": form.of_table.by.source, "value": json_value(okey)}
        if form.of_table.base is not None:
            out["base_by"]["label"] = form.of_table.base.to_dict()
    out["facts"] = facts_used(form.of.facts, I, A, C)
    return out


def _ceiling_detail(form: Any, how: Any, I: Any, A: Any, C: Any) -> dict[str, Any]:
    """How a computed ceiling was obtained (`max: {of:}` / `{rate:, of:}` / `{by:, table:}`)."""
    if isinstance(form, model.TableAmount):
        out: dict[str, Any] = {"form": "table", "by": {"expression": form.by.source, "value": json_value(how)}}
        if form.base is not None:
            out["by"]["label"] = form.base.to_dict()
        return out
    return {"form": "rate", **_rate_detail(form, how, I, A, C)}


def _amount_step(step: tuple[Any, ...], I: Any, A: Any, C: Any) -> dict[str, Any]:
    _, form, detail, value = step
    out: dict[str, Any] = {"step": "amount", "form": form.kind, "value": format_money(value)}
    if isinstance(form, model.RateAmount):
        out.update(_rate_detail(form, detail, I, A, C))
    elif isinstance(form, model.FixedAmount):
        pass
    elif isinstance(form, model.TableAmount):
        out.update(
            by={"expression": form.by.source, "value": json_value(detail)}, table={k: format_money(v) for k, v in form.table.items()}
        )
        if form.otherwise is not None:
            out["otherwise"] = format_money(form.otherwise)
        if form.base is not None:
            out["by"]["label"] = form.base.to_dict()
    elif isinstance(form, model.ExternalAmount):
        out.update(source={"expression": form.source.source, "value": json_value(detail)})
    elif isinstance(form, model.BandsAmount):
        base, band = detail
        out.update(
            base={"expression": form.of.source, "value": json_value(base), **({"label": form.base.to_dict()} if form.base else {})},
            band=None
            if band is None
            else {
                "from": format_money(band.start),
                "amount": None if band.amount is None else format_money(band.amount),
                "rate": None if band.rate is None else str(band.rate),
            },
        )
    elif isinstance(form, model.PerUnitAmount):
        count, used = detail[0], detail[1]
        per = form.per_unit if form.fixed_per_unit else detail[2]
        out.update(
            per_unit=format_money(per),
            count={"expression": form.count.source, "value": count},
            counted=used,
            max_count=form.max_count,
        )
        if form.per_unit_table is not None:  # the entry's key, as a rate table's `rate_by`
            t = form.per_unit_table
            out["per_unit_by"] = {"expression": t.by.source, "value": json_value(detail[3])}
            if t.base is not None:
                out["per_unit_by"]["label"] = t.base.to_dict()
        elif form.per_unit_of is not None:
            out["per_unit_of"] = {"expression": form.per_unit_of.source}
            if form.per_unit_base is not None:
                out["per_unit_of"]["label"] = form.per_unit_base.to_dict()
        if form.base is not None:
            out["count"]["label"] = form.base.to_dict()
        if form.unit is not None:
            out["unit"] = form.unit.to_dict()
    elif isinstance(form, model.LeastAmount):
        out.update(candidates=[format_money(v) for v in detail])
    return out


_ZERO = Decimal(0)


def _identified(kind: str, part: model.Cap | model.Limit) -> dict[str, Any]:
    """The first fields of a step recording a cap or a limit: the kind, the part's id under the kind's name, its clause
    and its label (the same four for both)."""
    return {"step": kind, kind: part.id, "cites": part.cites, "says": part.says.to_dict()}


def _selection_step(sel: Any, verdict: Any) -> dict[str, Any]:
    """A round selection step; `verdict` an engine.deciding.selection.Verdict, None outside a round."""
    out: dict[str, Any] = {"step": "selection", "selection": sel.id, "cites": sel.cites, "says": sel.says.to_dict()}
    out["first"], out["budget"] = sel.first, None if sel.budget is None else format_money(sel.budget)
    out["in_round"] = verdict is not None
    if verdict is not None:
        out["rank"], out["of"], out["selected"], out["why"] = verdict.rank, verdict.of, verdict.selected, verdict.why
    return out


def _parameter_step(step: tuple[Any, ...]) -> dict[str, Any]:
    """A dated parameter's look-up: the parameter, the date asked and the value then in force (None: a gap)."""
    _, use, day, entry = step
    parameter = use.parameter
    out = {"step": "parameter", "parameter": parameter.name, "label": parameter.label.to_dict(), "type": parameter.type}
    out["date_expression"], out["date"] = use.date.source, json_value(day)
    out["value"] = None if entry is None else str(entry.value)
    out["shown"] = None if entry is None else entry.shown
    out["first_from"] = parameter.values[0].start.isoformat() if parameter.values else None
    if parameter.known_until is not None:  # (written only where the policy says it: decisions before it unchanged)
        out["known_until"] = parameter.known_until.isoformat()
    out["in_force_from"] = None if entry is None else entry.start.isoformat()
    out["source"] = None if entry is None else entry.source.to_dict()
    return out


def step_to_dict(step: tuple[Any, ...], rule: model.Rule | None, I: Any, A: Any, C: Any) -> dict[str, Any]:
    """One trace step (the evaluator's tuple, see codegen) as the decision JSON writes it: one branch per kind, the
    keys in the order the decision format has them."""
    kind = step[0]
    if kind == "check":
        _, test, ok, missing = step
        assert isinstance(test, model.Test)
        out = {"step": kind, "check": test.id, "category": test.category, "cites": test.cites, "test": test.expression.source}
        out["facts"] = facts_used(test.expression.facts, I, A, C)
        out["result"], out["missing_fact"], out["says"] = ok, missing, test.says.to_dict()
        if test.shows:
            shown = shown_values(test, I, A, C)
            if shown:
                out["shows"] = shown
        if test.readings_when:
            out["readings"] = list(readings_named(test, I, A, C))
        if test.applies is not None and ok is True and not missing and not applies_to_item(test, I, A, C):
            out["applies"] = False
        return out
    if kind == "who":
        _, r, ok = step
        out = {"step": kind, "rule": r.id, "cites": r.cites, "kinds": sorted(r.kinds), "roles": sorted(r.roles)}
        out["applicant_kind"], out["applicant_roles"], out["result"] = A.get("kind"), sorted(A.get("roles", ())), ok
        return out
    if kind == "amount":
        d = _amount_step(step, I, A, C)
        if rule is not None:
            d["cites"] = rule.cites
        return d
    if kind == "subject":
        _, subject, key, paid, before, after = step
        assert isinstance(subject, model.Subject)
        out = {"step": kind, "cites": subject.cites, "group": subject.group, "pays": subject.pays}
        if subject.later != "nothing":
            out["later"] = subject.later
        out["key"] = json_value(key)
        out["paid_before"], out["asked"], out["after"] = format_money(paid), format_money(before), format_money(after)
        return out
    if kind == "limit":
        _, limit, scope, used, counts, counted, ok, earlier = step
        assert isinstance(limit, model.Limit)
        out = _identified(kind, limit)
        if limit.unit is not None:  # (the record explains itself: 上限 2 年)
            out["unit"] = limit.unit.to_dict()
        if limit.consecutive:  # (and reads its use as years in a row: 此前已连续 3 年)
            out["consecutive"] = True
        out["scope"], out["times"], out["used_before"] = json_value(scope), limit.times, used
        out["counts"], out["already_counted"] = json_value(counts), counted
        out["used_after"], out["result"] = used if (counted or not ok) else used + 1, ok
        if earlier:  # (a limit used before the item: the earlier applications whose grants used it)
            out["used_by"] = [e.to_dict() for e in earlier]
        return out
    if kind == "cap":
        _, cap, scope, used, asked, after, ceiling, how, earlier = step
        assert isinstance(cap, model.Cap)
        out = _identified(kind, cap)
        out["scope"] = json_value(scope) if cap.per is not None else "item"
        _cap_use(out, ceiling, used, asked, after)
        if cap.computed is not None:
            out["ceiling_from"] = _ceiling_detail(cap.computed, how, I, A, C)
        if earlier:  # (a cap that cut the item: the earlier applications whose grants used its room)
            out["used_by"] = [e.to_dict() for e in earlier]
        return out
    if kind == "parameter":
        return _parameter_step(step)
    if kind == "selection":
        return _selection_step(step[1], step[2])
    if kind == "documents":
        _, owner, required, missing, cites = step
        out = {"step": kind, "check": owner.id, "cites": cites, "required": list(required), "missing": list(missing)}
        out["result"] = not missing
        if isinstance(owner, model.DocumentCheck):
            out["says"] = owner.says.to_dict()
        return out
    raise ValueError(f"unknown step {kind}")  # pragma: no cover


def pending_ceiling(cap: Any, scope: Any, used: Decimal, in_application: dict[tuple[str, Any], Decimal] | None) -> dict[str, Any]:
    """A pending item's ceiling as the decision JSON writes it: the cap, its ceiling, the room used before the item
    (a shared cap's split into history and earlier items of the application, as a cap step's, when the
    application's use is known) and the room left (what the panel's amount can be at most; none left: the item is
    refused, and its decision keeps the ceilings to say where the room went)."""
    out: dict[str, Any] = {"cap": cap.id, "cites": cap.cites, "ceiling": format_money(cap.ceiling), "says": cap.says.to_dict()}
    out["used_before"] = format_money(used)
    if cap.per is not None and in_application is not None:
        mine = in_application.get((cap.id, scope), _ZERO)
        out["used_in_application"], out["used_by_history"] = format_money(mine), format_money(used - mine)
    out["remaining"] = format_money(max(cap.ceiling - used, _ZERO))
    return out


def _cap_use(out: dict[str, Any], ceiling: Decimal, used: Decimal, asked: Decimal, after: Decimal) -> None:
    """What a cap step says of its ceiling, into `out`: the use before and after this item, the room before and after
    it, and the cut."""
    out["ceiling"], out["used_before"], out["asked"] = format_money(ceiling), format_money(used), format_money(asked)
    out["granted"], out["used_after"] = format_money(after), format_money(used + after)
    out["remaining_before"] = format_money(max(ceiling - used, _ZERO))
    out["remaining_after"] = format_money(max(ceiling - used - after, _ZERO))
    out["reduced_by"], out["bites"] = format_money(asked - after), after < asked


@dataclass(frozen=True)
class Decision:
    policy: CompiledPolicy
    claim: Claim
    items: tuple[ItemDecision, ...]
    grants: tuple[Grant, ...]
    standing_steps: tuple[Any, ...]
    standing_reasons: tuple[Reason, ...]

    def __repr__(self) -> str:  # (the whole policy, the claim's data and the trace made a repr of 35 kB)
        counts = ", ".join(f"{s} {n}" for s, n in self.counts_by_status().items() if n)
        return f"<Decision {self.claim.claim_id} {self.policy.id} {self.policy.version} total {format_money(self.total)}: {counts}>"

    @property
    @in_engine_context
    def total(self) -> Decimal:
        return sum((d.amount for d in self.items), Decimal(0)).quantize(Decimal("0.01"))

    @in_engine_context
    def totals_by_status(self) -> dict[str, Decimal]:
        """Per status, the amount granted (granted, reduced) or provisional (the others), exact; the JSON form writes
        each as money text."""
        out = {s: Decimal(0) for s in STATUSES}
        for d in self.items:
            out[d.status] += d.amount if d.status in ("granted", "reduced") else (d.provisional or Decimal(0))
        return out

    def counts_by_status(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for d in self.items:
            out[d.status] += 1
        return out

    @in_engine_context
    def item_dict(self, d: ItemDecision, in_application: dict[tuple[str, Any], Decimal] | None = None) -> dict[str, Any]:
        I, A, C = d.item.facts, self.claim.applicant, self.claim.claim_facts
        out: dict[str, Any] = {
            "item": d.item.id,
            "type": d.item.type,
            "rule": d.rule.id,
            "status": d.status,
            "amount": format_money(d.amount),
            "asked": format_money(d.asked),
            "cites": list(d.cites),
            "readings": list(d.rule.readings),
            "reasons": [r.to_dict() for r in d.reasons],
        }
        if d.provisional is not None:
            out["provisional_amount"] = format_money(d.provisional)
        if d.missing_facts:
            out["missing_facts"] = list(d.missing_facts)
        if d.missing_documents:
            out["missing_documents"] = list(d.missing_documents)
        if d.status == "referred" and d.rule.referral is not None:
            out["referred_to"] = d.rule.referral.to_dict()
        pending = d.status == "pending_review"
        if pending or d.ceilings:  # (a refused item's too: a ceiling had no room left for the panel's amount)
            out["ceilings"] = [pending_ceiling(cap, scope, used, in_application) for cap, scope, used in d.ceilings]
        if pending and isinstance(d.rule.amount, model.ExternalAmount) and d.rule.amount.pending is not None:
            out["panel_decides"] = d.rule.amount.pending.to_dict()
        out["steps"] = [step_to_dict(s, d.rule, I, A, C) for s in d.steps]
        if in_application is not None:  # split each cap's earlier use: history vs earlier items of this application
            for raw, step in zip(d.steps, out["steps"], strict=True):
                if raw[0] == "cap" and raw[1].per is not None:
                    mine = in_application.get((raw[1].id, raw[2]), Decimal(0))
                    step["used_in_application"] = format_money(mine)
                    step["used_by_history"] = format_money(raw[3] - mine)
                    if raw[8]:  # (after the split, as the JSON text writes it)
                        step["used_by"] = step.pop("used_by")
            if d.grant is not None:
                for c in d.grant.consumes:
                    if c.kind == "cap":
                        in_application[(c.id, c.scope)] = in_application.get((c.id, c.scope), Decimal(0)) + c.amount
        return out

    @in_engine_context
    def totals_by_article(self) -> dict[str, dict[str, Any]]:
        """Per article of the text (in the clause table's order): items (an int), amount granted and provisional amount
        (exact Decimals; the JSON form writes them as money text)."""
        clauses = self.policy.clauses
        order = {c.article: i for i, c in reversed(list(enumerate(clauses.values())))}
        acc: dict[str, list[Any]] = {}
        for d in self.items:
            clause = clauses.get(d.rule.cites)
            entry = acc.setdefault(clause.article if clause is not None else d.rule.cites, [0, Decimal(0), Decimal(0)])
            entry[0] += 1
            entry[1] += d.amount
            entry[2] += d.provisional or Decimal(0)
        return {
            a: {"items": n, "amount": amount, "provisional": prov}
            for a, (n, amount, prov) in sorted(acc.items(), key=lambda kv: order.get(kv[0], len(order)))
        }

    @in_engine_context
    def to_dict(self) -> dict[str, Any]:
        p = self.policy
        A, C = self.claim.applicant, self.claim.claim_facts
        in_application: dict[tuple[str, Any], Decimal] = {}
        return {
            "format": DECISION_FORMAT,
            "policy": {
                "id": p.id,
                "version": p.version,
                "hash": p.content_hash,
                "funding_years": {"from": p.funding_years[0], "to": p.funding_years[1]},
            },
            "claim_id": self.claim.claim_id,
            "applicant": {"id": A["id"], "name": A.get("name"), "kind": A["kind"]},
            "funding_year": self.claim.funding_year,
            **({"claim_facts": {n: json_value(dict.get(C, n)) for n in p.header_facts}} if p.header_facts else {}),
            "standing": {
                "result": "ok" if not self.standing_reasons else "refused",
                "reasons": [r.to_dict() for r in self.standing_reasons],
                "steps": [step_to_dict(s, None, {}, A, C) for s in self.standing_steps],
            },
            "items": [self.item_dict(d, in_application) for d in self.items],
            "total": format_money(self.total),
            "totals_by_status": {s: format_money(v) for s, v in self.totals_by_status().items()},
            "counts_by_status": self.counts_by_status(),
            "totals_by_article": {
                a: {"items": t["items"], "amount": format_money(t["amount"]), "provisional": format_money(t["provisional"])}
                for a, t in self.totals_by_article().items()
            },
            "grants": [g.to_dict() for g in self.grants],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The decision's JSON text: `json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)` and a newline.
        Compact (`indent=None`) it is written straight from the trace (`engine.deciding.jsontext`), the same text."""
        if indent is None:
            return (_COMPACT or _compact_writer())(self, "\n")
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, sort_keys=False) + "\n"


_COMPACT: Callable[[Decision, str], str] | None = None


def _compact_writer() -> Callable[[Decision, str], str]:
    """`jsontext.decision_json`, imported on first use (it imports this module) and kept: no import per call."""
    global _COMPACT
    from engine.deciding.jsontext import decision_json

    _COMPACT = decision_json
    return decision_json


def make_decision(
    policy: CompiledPolicy,
    claim: Claim,
    items: tuple[ItemDecision, ...],
    grants: tuple[Grant, ...],
    standing_steps: tuple[Any, ...],
    standing_reasons: tuple[Reason, ...],
) -> Decision:
    """`Decision(...)` for the evaluator's hot path: the same frozen object, its fields set in one go
    instead of one `object.__setattr__` per field (half the cost)."""
    d = object.__new__(Decision)
    object.__setattr__(
        d,
        "__dict__",
        {
            "policy": policy,
            "claim": claim,
            "items": items,
            "grants": grants,
            "standing_steps": standing_steps,
            "standing_reasons": standing_reasons,
        },
    )
    return d
