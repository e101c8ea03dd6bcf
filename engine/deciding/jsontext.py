"""A decision's compact canonical JSON text, written straight from the evaluator's trace tuples.

`decision_json(decision)` returns exactly `json.dumps(decision.to_dict(), ensure_ascii=False)` -- the same bytes,
key order and separators -- without building the dict first. The rule, check, cap and limit ids, their clauses,
expressions, labels and says texts are constants of the compiled policy: each policy object's JSON fragments are
encoded once (`_Fragments`, cached by the object's identity, the object kept alive beside them) and a decision
only joins them with its own values (amounts, fact values, results). Strings go through the json module's own C
string encoder, so escaping is json.dumps's. Step kinds and amount forms without a writer here (rare ones:
bands, per unit, least, a rate chosen by a table, parameters, selections) are written by `step_to_dict` +
`json.dumps`, which is the same text by construction.

Why not a compiled encoder (msgspec, orjson) over `to_dict()`: building the dict is most of the cost (see
docs/performance.md, "Decision JSON"), and orjson/msgspec write `", "`-less compact JSON, so the canonical
separators would need a second pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from json.encoder import encode_basestring  # the C encoder json.dumps uses (ensure_ascii=False)
from typing import TYPE_CHECKING, Any

from engine.core.quantities import format_money
from engine.deciding import decision as dec
from engine.language import model

if TYPE_CHECKING:
    from engine.deciding.decision import Decision, ItemDecision

_s: Callable[[str], str] = encode_basestring
_CENT = Decimal("0.01")
_ZERO = Decimal(0)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _decimal(v: Decimal) -> str:
    return '"' + (format_money(v) if v == v.quantize(_CENT) else str(v)) + '"'


#: JSON text of the scalar types, by exact type (bool is not int here): one table for both writers below
_RAW_SCALARS: dict[type, Callable[[Any], str]] = {
    str: _s,
    int: int.__repr__,
    bool: lambda v: "true" if v else "false",
    type(None): lambda v: "null",
}
_TRACE_SCALARS: dict[type, Callable[[Any], str]] = {
    **_RAW_SCALARS,
    Decimal: _decimal,
    date: lambda v: '"' + v.isoformat() + '"',
}


def _raw(v: Any) -> str:
    """`json.dumps(v)` for a value written as it is (no `json_value` conversion), fast for the scalar types."""
    write = _RAW_SCALARS.get(type(v))
    return write(v) if write is not None else _dumps(v)


def _jv(v: Any) -> str:
    """`json.dumps(json_value(v))`: the trace's value as the decision writes it."""
    t = type(v)
    write = _TRACE_SCALARS.get(t)
    if write is not None:
        return write(v)
    if t is tuple or t is list:
        return "[" + ", ".join([_jv(x) for x in v]) + "]"
    return _dumps(dec.json_value(v))


def _money(v: Decimal) -> str:
    return '"' + format_money(v) + '"'


def _text(t: model.Text) -> str:
    return '{"zh": ' + _s(t.zh) + ', "en": ' + _s(t.en) + "}"


def _bool(v: bool) -> str:
    return "true" if v else "false"


def _strings(xs: Any) -> str:
    return "[" + ", ".join([_raw(x) for x in xs]) + "]"


class _Facts:
    """The `facts` object of an expression: each fact's key fragment, which space it is read from (0 item,
    1 applicant, 2 claim) and its name there."""

    __slots__ = ("parts",)

    def __init__(self, facts: tuple[str, ...]) -> None:
        seen: dict[str, None] = {}
        for full in facts:  # a dict keeps a repeated key at its first place
            seen.setdefault(full, None)
        spaces = {"item": 0, "applicant": 1, "claim": 2}
        self.parts = tuple((_s(full) + ": ", spaces[full.split(".", 1)[0]], full.split(".", 1)[1]) for full in seen)

    def write(self, spaces: tuple[Any, Any, Any]) -> str:
        # an absent fact and a None value are both null (json_value(None) is None)
        return "{" + ", ".join([key + _jv(dict.get(spaces[i], name)) for key, i, name in self.parts]) + "}"


class _Fragments:
    """The JSON fragments of one policy object, made on first use."""

    __slots__ = ("a", "b", "c", "facts", "obj")

    def __init__(self, obj: Any, a: str = "", b: str = "", c: str = "", facts: _Facts | None = None) -> None:
        self.obj, self.a, self.b, self.c, self.facts = obj, a, b, c, facts


class _Cache:
    """id(policy object) -> its fragments, one cache per kind of fragment. The object is held in its entry, so its id
    cannot be reused while cached. Bounded: cleared when it outgrows `_CACHE_LIMIT` entries (a policy has a few
    hundred objects)."""

    __slots__ = ("entries", "make")

    def __init__(self, make: Callable[[Any], _Fragments]) -> None:
        self.entries: dict[int, _Fragments] = {}
        self.make = make

    def __call__(self, obj: Any) -> _Fragments:
        f = self.entries.get(id(obj))
        if f is None or f.obj is not obj:
            if len(self.entries) >= _CACHE_LIMIT:
                self.entries.clear()
            f = self.entries[id(obj)] = self.make(obj)
        return f


_CACHE_LIMIT = 50_000


def _check_frag(t: model.Test) -> _Fragments:
    head = '{"step": "check", "check": ' + _s(t.id) + ", " + '"category": ' + _s(t.category) + ", "
    head += '"cites": ' + _s(t.cites) + ', "test": ' + _s(t.expression.source) + ', "facts": '
    return _Fragments(t, head, ', "says": ' + _text(t.says) + "}", facts=_Facts(t.expression.facts))


def _who_frag(r: model.Rule) -> _Fragments:
    head = '{"step": "who", "rule": ' + _s(r.id) + ', "cites": ' + _s(r.cites) + ', "kinds": ' + _strings(sorted(r.kinds))
    return _Fragments(r, head + ', "roles": ' + _strings(sorted(r.roles)) + ', "applicant_kind": ')


def _documents_frag(owner: Any) -> _Fragments:
    """A documents step's head up to its clause, and its tail (the says text of a document check)."""
    tail = ', "says": ' + _text(owner.says) + "}" if isinstance(owner, model.DocumentCheck) else "}"
    return _Fragments(owner, '{"step": "documents", "check": ' + _s(owner.id) + ', "cites": ', tail)


def _identified_frag(kind: str) -> Callable[[Any], _Fragments]:
    def make(part: Any) -> _Fragments:
        head = '{"step": "' + kind + '", "' + kind + '": ' + _s(part.id) + ', "cites": ' + _s(part.cites)
        return _Fragments(part, head + ', "says": ' + _text(part.says))

    return make


def _label(base: model.Text | None) -> str:
    return "" if base is None else ', "label": ' + _text(base)


def _amount_frag(form: Any) -> _Fragments:
    """a: the form's fixed part before the variable value; b: after it; c: the fixed tail (table, otherwise)."""
    if isinstance(form, model.RateAmount):
        assert form.rate_table is None
        return _Fragments(
            form,
            ', "rate": ' + _s(str(form.rate)) + ', "base": {"expression": ' + _s(form.of.source) + ', "value": ',
            _label(form.base) + "}",
            facts=_Facts(form.of.facts),
        )
    if isinstance(form, model.TableAmount):
        tail = ', "table": {' + ", ".join(_s(k) + ": " + _money(v) for k, v in form.table.items()) + "}"
        if form.otherwise is not None:
            tail += ', "otherwise": ' + _money(form.otherwise)
        return _Fragments(form, ', "by": {"expression": ' + _s(form.by.source) + ', "value": ', _label(form.base) + "}", tail)
    assert isinstance(form, model.ExternalAmount)
    return _Fragments(form, ', "source": {"expression": ' + _s(form.source.source) + ', "value": ', "}")


_CHECKS, _WHO, _CAPS, _LIMITS = _Cache(_check_frag), _Cache(_who_frag), _Cache(_identified_frag("cap")), _Cache(_identified_frag("limit"))
_AMOUNTS, _DOCUMENTS = _Cache(_amount_frag), _Cache(_documents_frag)
#: a check's result (True, False, or None when a fact is missing) and the key after it
_RESULT = {
    True: ', "result": true, "missing_fact": ',
    False: ', "result": false, "missing_fact": ',
    None: ', "result": null, "missing_fact": ',
}


def _amount(step: tuple[Any, ...], rule: model.Rule | None, I: Any, A: Any, C: Any) -> str:
    _, form, detail, value = step
    t = type(form)
    head = '{"step": "amount", "form": ' + _s(form.kind) + ', "value": ' + _money(value)
    if t is model.FixedAmount:
        body = ""
    elif (
        (t is model.RateAmount and form.rate_table is None and form.of_table is None) or t is model.TableAmount or t is model.ExternalAmount
    ):
        f = _AMOUNTS(form)
        body = f.a + _jv(detail) + f.b + (', "facts": ' + f.facts.write((I, A, C)) if f.facts is not None else "") + f.c
    else:  # the rarer forms: the dict and json.dumps (the same text)
        return _dumps(dec.step_to_dict(step, rule, I, A, C))
    return head + body + ("" if rule is None else ', "cites": ' + _s(rule.cites)) + "}"


def _cap(step: tuple[Any, ...], I: Any, A: Any, C: Any, in_application: dict[tuple[str, Any], Decimal]) -> str:
    _, cap, scope, used, asked, after, ceiling, how = step
    f = _CAPS(cap)
    out = [f.a, ', "scope": ', _jv(scope) if cap.per is not None else '"item"']
    out += [', "ceiling": ', _money(ceiling), ', "used_before": ', _money(used), ', "asked": ', _money(asked)]
    out += [', "granted": ', _money(after), ', "used_after": ', _money(used + after)]
    out += [
        ', "remaining_before": ',
        _money(max(ceiling - used, _ZERO)),
        ', "remaining_after": ',
        _money(max(ceiling - used - after, _ZERO)),
    ]
    out += [', "reduced_by": ', _money(asked - after), ', "bites": ', _bool(after < asked)]
    if cap.computed is not None:
        out += [', "ceiling_from": ', _dumps(dec._ceiling_detail(cap.computed, how, I, A, C))]
    if cap.per is not None:
        mine = in_application.get((cap.id, scope), _ZERO)
        out += [', "used_in_application": ', _money(mine), ', "used_by_history": ', _money(used - mine)]
    out.append("}")
    return "".join(out)


def _step(step: tuple[Any, ...], rule: model.Rule | None, I: Any, A: Any, C: Any, who: str, inapp: dict[tuple[str, Any], Decimal]) -> str:
    kind = step[0]
    if kind == "check":
        _, test, ok, missing = step
        f = _CHECKS.entries.get(id(test))
        if f is None or f.obj is not test:
            f = _CHECKS(test)
        assert f.facts is not None
        return f.a + f.facts.write((I, A, C)) + _RESULT[ok] + (_s(missing) if missing is not None else "null") + f.b
    if kind == "who":
        return _WHO(step[1]).a + who + ', "result": ' + _raw(step[2]) + "}"
    if kind == "documents":
        _, owner, required, missing, cites = step
        f = _DOCUMENTS(owner)
        out = f.a + _raw(cites) + ', "required": ' + _strings(required) + ', "missing": '
        return out + (_strings(missing) + ', "result": false' if missing else '[], "result": true') + f.b
    if kind == "limit":
        _, limit, scope, used, counts, counted, ok = step
        out = _LIMITS(limit).a + ', "scope": ' + _jv(scope) + ', "times": ' + _raw(limit.times)
        out += ', "used_before": ' + _raw(used) + ', "counts": ' + _jv(counts) + ', "already_counted": ' + _raw(counted)
        return out + ', "used_after": ' + _raw(used if (counted or not ok) else used + 1) + ', "result": ' + _raw(ok) + "}"
    if kind == "amount":
        return _amount(step, rule, I, A, C)
    if kind == "cap":
        return _cap(step, I, A, C, inapp)
    return _dumps(dec.step_to_dict(step, rule, I, A, C))


def _reason(r: dec.Reason) -> str:
    return '{"category": ' + _s(r.category) + ', "check": ' + _s(r.check) + ', "cites": ' + _s(r.cites) + ', "says": ' + _text(r.says) + "}"


def _rule_frag(rule: model.Rule) -> _Fragments:
    return _Fragments(rule, ', "rule": ' + _s(rule.id) + ", ", ', "readings": ' + _strings(rule.readings))


_RULES = _Cache(_rule_frag)


def _item(d: ItemDecision, C: Any, A: Any, who: str, inapp: dict[tuple[str, Any], Decimal]) -> str:
    rule = d.rule
    f = _RULES(rule)
    out = ['{"item": ', _raw(d.item.id), ', "type": ', _raw(d.item.type), f.a, '"status": ', _s(d.status)]
    out += [', "amount": ', _money(d.amount), ', "asked": ', _money(d.asked), ', "cites": ', _strings(d.cites), f.b]
    out += [', "reasons": [', ", ".join([_reason(r) for r in d.reasons]), "]"]
    if d.provisional is not None:
        out += [', "provisional_amount": ', _money(d.provisional)]
    if d.missing_facts:
        out += [', "missing_facts": ', _strings(d.missing_facts)]
    if d.missing_documents:
        out += [', "missing_documents": ', _strings(d.missing_documents)]
    if d.status == "referred" and rule.referral is not None:
        out += [', "referred_to": ', _text(rule.referral)]
    if d.status == "pending_review":
        ceilings = [
            {"cap": c.id, "cites": c.cites, "ceiling": format_money(c.ceiling), "says": c.says.to_dict()}
            for c in rule.caps
            if c.computed is None and not c.restricted
        ]
        out += [', "ceilings": ', _dumps(ceilings)]
        if isinstance(rule.amount, model.ExternalAmount) and rule.amount.pending is not None:
            out += [', "panel_decides": ', _text(rule.amount.pending)]
    I = d.item.facts
    out += [', "steps": [', ", ".join([_step(s, rule, I, A, C, who, inapp) for s in d.steps]), "]}"]
    if d.grant is not None:
        for c in d.grant.consumes:
            if c.kind == "cap":
                inapp[(c.id, c.scope)] = inapp.get((c.id, c.scope), _ZERO) + c.amount
    return "".join(out)


def _consumption(c: Any) -> str:
    out = "{" + _s(c.kind) + ": " + _raw(c.id) + ', "scope": ' + "[" + ", ".join([_raw(x) for x in c.scope]) + "]"
    if c.kind == "limit":
        return out + ', "counts": [' + ", ".join([_raw(x) for x in (c.counts or ())]) + "]}"
    return out + ', "amount": ' + _money(c.amount) + "}"


def _grant(g: Any) -> str:
    out = '{"claim_id": ' + _raw(g.claim_id) + ', "item_id": ' + _raw(g.item_id) + ', "rule": ' + _raw(g.rule)
    out += ', "applicant_id": ' + _raw(g.applicant_id) + ', "funding_year": ' + _raw(g.funding_year) + ', "amount": ' + _money(g.amount)
    return out + ', "consumes": [' + ", ".join([_consumption(c) for c in g.consumes]) + "]}"


class _PolicyParts:
    """A policy's head fragment and its articles' order (what `Decision.totals_by_article` sorts by)."""

    __slots__ = ("head", "obj", "order")

    def __init__(self, p: model.CompiledPolicy) -> None:
        self.obj = p
        self.head = '{"format": ' + _s(dec.DECISION_FORMAT) + ', "policy": {"id": ' + _s(p.id) + ', "version": ' + _s(p.version)
        self.head += ', "hash": ' + _s(p.content_hash) + ', "funding_years": {"from": ' + _raw(p.funding_years[0])
        self.head += ', "to": ' + _raw(p.funding_years[1]) + '}}, "claim_id": '
        self.order = {c.article: i for i, c in reversed(list(enumerate(p.clauses.values())))}


_POLICIES: dict[int, _PolicyParts] = {}


def _policy(p: model.CompiledPolicy) -> _PolicyParts:
    f = _POLICIES.get(id(p))
    if f is None or f.obj is not p:
        if len(_POLICIES) >= 64:
            _POLICIES.clear()
        f = _POLICIES[id(p)] = _PolicyParts(p)
    return f


def _totals(decision: Decision, order: dict[str, int]) -> str:
    """`total`, `totals_by_status`, `counts_by_status` and `totals_by_article`, in one pass over the items."""
    clauses = decision.policy.clauses
    sums = dict.fromkeys(dec.STATUSES, _ZERO)
    counts = dict.fromkeys(dec.STATUSES, 0)
    total = _ZERO
    acc: dict[str, list[Any]] = {}
    for d in decision.items:
        total += d.amount
        status = d.status
        counts[status] += 1
        sums[status] += d.amount if status in ("granted", "reduced") else (d.provisional or _ZERO)
        clause = clauses.get(d.rule.cites)
        entry = acc.setdefault(clause.article if clause is not None else d.rule.cites, [0, _ZERO, _ZERO])
        entry[0] += 1
        entry[1] += d.amount
        entry[2] += d.provisional or _ZERO
    out = ['"total": ', _money(total.quantize(_CENT)), ', "totals_by_status": {']
    out.append(", ".join(['"' + s + '": ' + _money(v) for s, v in sums.items()]))
    out.append('}, "counts_by_status": {' + ", ".join(['"' + s + '": ' + str(n) for s, n in counts.items()]))
    articles = sorted(acc.items(), key=lambda kv: order.get(kv[0], len(order)))
    out.append('}, "totals_by_article": {')
    out.append(
        ", ".join(
            [
                _s(a) + ': {"items": ' + str(n) + ', "amount": ' + _money(amount) + ', "provisional": ' + _money(prov) + "}"
                for a, (n, amount, prov) in articles
            ]
        )
    )
    out.append("}")
    return "".join(out)


@dec.in_engine_context
def decision_json(decision: Decision) -> str:
    """`json.dumps(decision.to_dict(), ensure_ascii=False)`, written from the trace tuples (no newline)."""
    p = decision.policy
    parts = _policy(p)
    claim = decision.claim
    A, C = claim.applicant, claim.claim_facts
    who = _raw(A.get("kind")) + ', "applicant_roles": ' + _strings(sorted(A.get("roles", ())))
    out = [parts.head, _raw(claim.claim_id), ', "applicant": {"id": ', _raw(A["id"]), ', "name": ', _raw(A.get("name"))]
    out += [', "kind": ', _raw(A["kind"]), '}, "funding_year": ', _raw(claim.funding_year), ', "standing": {"result": ']
    out += [
        '"ok"' if not decision.standing_reasons else '"refused"',
        ', "reasons": [',
        ", ".join([_reason(r) for r in decision.standing_reasons]),
    ]
    inapp: dict[tuple[str, Any], Decimal] = {}
    out += ['], "steps": [', ", ".join([_step(s, None, {}, A, C, who, inapp) for s in decision.standing_steps]), ']}, "items": [']
    out += [", ".join([_item(d, C, A, who, inapp) for d in decision.items]), "], ", _totals(decision, parts.order)]
    out += [', "grants": [', ", ".join([_grant(g) for g in decision.grants]), "]}"]
    return "".join(out)
