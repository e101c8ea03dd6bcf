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

from engine.core.quantities import format_money
from engine.deciding.history import Grant
from engine.language.model import (
    BandsAmount,
    Cap,
    DocumentCheck,
    ExternalAmount,
    FixedAmount,
    LeastAmount,
    Limit,
    PerUnitAmount,
    RateAmount,
    Rule,
    Subject,
    TableAmount,
    Test,
    Text,
)

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
    says: Text

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "check": self.check, "cites": self.cites, "says": self.says.to_dict()}


class ItemDecision(NamedTuple):
    """One item's decision. Immutable; a named tuple because one is made per item on the hot path
    (a frozen dataclass costs several times more to construct)."""

    item: Item
    rule: Rule
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

    @property
    def cites(self) -> tuple[str, ...]:
        """The clauses that decided this item: the rule's own, then each ground's, in order."""
        out = [self.rule.cites]
        for r in self.reasons:
            if r.cites not in out:
                out.append(r.cites)
        for step in self.steps:
            if step[0] in ("cap", "subject") and step[5] < step[4] and step[1].cites not in out:
                out.append(step[1].cites)
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


def _amount_step(step: tuple[Any, ...], I: Any, A: Any, C: Any) -> dict[str, Any]:
    _, form, detail, value = step
    out: dict[str, Any] = {"step": "amount", "form": form.kind, "value": format_money(value)}
    if isinstance(form, RateAmount):
        out.update(
            rate=str(form.rate),
            base={"expression": form.of.source, "value": json_value(detail)},
            facts=facts_used(form.of.facts, I, A, C),
        )
    elif isinstance(form, FixedAmount):
        pass
    elif isinstance(form, TableAmount):
        out.update(
            by={"expression": form.by.source, "value": json_value(detail)}, table={k: format_money(v) for k, v in form.table.items()}
        )
    elif isinstance(form, ExternalAmount):
        out.update(source={"expression": form.source.source, "value": json_value(detail)})
    elif isinstance(form, BandsAmount):
        base, band = detail
        out.update(
            base={"expression": form.of.source, "value": json_value(base)},
            band=None
            if band is None
            else {
                "from": format_money(band.start),
                "amount": None if band.amount is None else format_money(band.amount),
                "rate": None if band.rate is None else str(band.rate),
            },
        )
    elif isinstance(form, PerUnitAmount):
        count, used = detail
        out.update(
            per_unit=format_money(form.per_unit),
            count={"expression": form.count.source, "value": count},
            counted=used,
            max_count=form.max_count,
        )
    elif isinstance(form, LeastAmount):
        out.update(candidates=[format_money(v) for v in detail])
    return out


# long because: one flat branch per trace step kind, each a dict literal to read beside its step layout; one if-chain
# and no call per step, as it serialises every step of every decision.
def step_to_dict(step: tuple[Any, ...], rule: Rule | None, I: Any, A: Any, C: Any) -> dict[str, Any]:
    kind = step[0]
    if kind == "check":
        _, test, ok, missing = step
        assert isinstance(test, Test)
        return {
            "step": "check",
            "check": test.id,
            "category": test.category,
            "cites": test.cites,
            "test": test.expression.source,
            "facts": facts_used(test.expression.facts, I, A, C),
            "result": ok,
            "missing_fact": missing,
            "says": test.says.to_dict(),
        }
    if kind == "who":
        _, r, ok = step
        return {
            "step": "who",
            "rule": r.id,
            "cites": r.cites,
            "kinds": sorted(r.kinds),
            "roles": sorted(r.roles),
            "applicant_kind": A.get("kind"),
            "applicant_roles": sorted(A.get("roles", ())),
            "result": ok,
        }
    if kind == "amount":
        d = _amount_step(step, I, A, C)
        if rule is not None:
            d["cites"] = rule.cites
        return d
    if kind == "subject":
        _, subject, key, paid, before, after = step
        assert isinstance(subject, Subject)
        return {
            "step": "subject",
            "cites": subject.cites,
            "group": subject.group,
            "pays": subject.pays,
            **({"later": subject.later} if subject.later != "nothing" else {}),
            "key": json_value(key),
            "paid_before": format_money(paid),
            "asked": format_money(before),
            "after": format_money(after),
        }
    if kind == "limit":
        _, limit, scope, used, counts, counted, ok = step
        assert isinstance(limit, Limit)
        return {
            "step": "limit",
            "limit": limit.id,
            "cites": limit.cites,
            "says": limit.says.to_dict(),
            "scope": json_value(scope),
            "times": limit.times,
            "used_before": used,
            "counts": json_value(counts),
            "already_counted": counted,
            "used_after": used if (counted or not ok) else used + 1,
            "result": ok,
        }
    if kind == "cap":
        _, cap, scope, used, asked, after = step
        assert isinstance(cap, Cap)
        scoped = cap.per is not None
        return {
            "step": "cap",
            "cap": cap.id,
            "cites": cap.cites,
            "says": cap.says.to_dict(),
            "scope": json_value(scope) if scoped else "item",
            "ceiling": format_money(cap.ceiling),
            "used_before": format_money(used),
            "asked": format_money(asked),
            "granted": format_money(after),
            "used_after": format_money(used + after),
            "remaining_before": format_money(max(cap.ceiling - used, Decimal(0))),
            "remaining_after": format_money(max(cap.ceiling - used - after, Decimal(0))),
            "reduced_by": format_money(asked - after),
            "bites": after < asked,
        }
    if kind == "selection":
        _, sel, verdict = step  # verdict: an engine.deciding.selection.Verdict, None outside a round
        return {
            "step": "selection",
            "selection": sel.id,
            "cites": sel.cites,
            "says": sel.says.to_dict(),
            "first": sel.first,
            "budget": None if sel.budget is None else format_money(sel.budget),
            "in_round": verdict is not None,
            **({"rank": verdict.rank, "of": verdict.of, "selected": verdict.selected, "why": verdict.why} if verdict is not None else {}),
        }
    if kind == "documents":
        _, owner, required, missing, cites = step
        ident = owner.id
        return {
            "step": "documents",
            "check": ident,
            "cites": cites,
            "required": list(required),
            "missing": list(missing),
            "result": not missing,
            **({"says": owner.says.to_dict()} if isinstance(owner, DocumentCheck) else {}),
        }
    raise ValueError(f"unknown step {kind}")  # pragma: no cover


@dataclass(frozen=True)
class Decision:
    policy: CompiledPolicy
    claim: Claim
    items: tuple[ItemDecision, ...]
    grants: tuple[Grant, ...]
    standing_steps: tuple[Any, ...]
    standing_reasons: tuple[Reason, ...]

    @property
    @in_engine_context
    def total(self) -> Decimal:
        return sum((d.amount for d in self.items), Decimal(0)).quantize(Decimal("0.01"))

    @in_engine_context
    def totals_by_status(self) -> dict[str, str]:
        out = {s: Decimal(0) for s in STATUSES}
        for d in self.items:
            out[d.status] += d.amount if d.status in ("granted", "reduced") else (d.provisional or Decimal(0))
        return {s: format_money(v) for s, v in out.items()}

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
        if d.status == "pending_review":
            out["ceilings"] = [
                {"cap": c.id, "cites": c.cites, "ceiling": format_money(c.ceiling), "says": c.says.to_dict()} for c in d.rule.caps
            ]
            if isinstance(d.rule.amount, ExternalAmount) and d.rule.amount.pending is not None:
                out["panel_decides"] = d.rule.amount.pending.to_dict()
        out["steps"] = [step_to_dict(s, d.rule, I, A, C) for s in d.steps]
        if in_application is not None:  # split each cap's earlier use: history vs earlier items of this application
            for raw, step in zip(d.steps, out["steps"], strict=True):
                if raw[0] == "cap" and raw[1].per is not None:
                    mine = in_application.get((raw[1].id, raw[2]), Decimal(0))
                    step["used_in_application"] = format_money(mine)
                    step["used_by_history"] = format_money(raw[3] - mine)
            if d.grant is not None:
                for c in d.grant.consumes:
                    if c.kind == "cap":
                        in_application[(c.id, c.scope)] = in_application.get((c.id, c.scope), Decimal(0)) + c.amount
        return out

    @in_engine_context
    def totals_by_article(self) -> dict[str, dict[str, Any]]:
        """Per article of the text (in the clause table's order): items, amount granted, provisional amount."""
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
            a: {"items": n, "amount": format_money(amount), "provisional": format_money(prov)}
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
            "standing": {
                "result": "ok" if not self.standing_reasons else "refused",
                "reasons": [r.to_dict() for r in self.standing_reasons],
                "steps": [step_to_dict(s, None, {}, A, C) for s in self.standing_steps],
            },
            "items": [self.item_dict(d, in_application) for d in self.items],
            "total": format_money(self.total),
            "totals_by_status": self.totals_by_status(),
            "counts_by_status": self.counts_by_status(),
            "totals_by_article": self.totals_by_article(),
            "grants": [g.to_dict() for g in self.grants],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, sort_keys=False) + "\n"


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
