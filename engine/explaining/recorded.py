"""A decision given as data (a line of a batch's decisions.jsonl, perhaps scaled to a round's budget), made
ready for the one explanation builder.

The builder (`engine.explaining.explainer.Explainer`) reads a `Decision`'s trace tuples, whose objects are
the policy's own (a `Test`, a `Cap`, a `Rule`, ...). `from_record` turns the decision's JSON into the same
shape, each policy object standing for what the record says of it (`Recorded`: its id, clause, words,
ceiling, ...), so that a recorded decision is explained as recorded, by the same code and with the same
words as a decision just made. What only a record has -- a round's scaling and the figures the batch wrote
(totals per status and per article) -- rides along on `RecordedDecision.record` / `RecordedItem.record`.

Only the decision's form has been checked (engine.explaining.render.check_recorded_form): a value edited
past its schema may fail here (TypeError, KeyError, ArithmeticError, ...), which `explain` reports as a
`RecordedDecisionError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, NamedTuple

from engine.deciding.decision import Reason


class Recorded(SimpleNamespace):
    """A policy object (check, cap, limit, rule, amount form, ...) as a recorded decision states it."""


class RecordedItem(NamedTuple):
    """An item of a recorded decision, with the fields of `ItemDecision` the builder reads."""

    item: Any
    rule: Any
    status: str
    amount: Decimal
    asked: Decimal
    provisional: Decimal | None
    reasons: tuple[Reason, ...]
    missing_facts: tuple[str, ...]
    missing_documents: tuple[str, ...]
    steps: tuple[Any, ...]
    grant: None
    cites: tuple[str, ...]  # as recorded
    quoted: tuple[str, ...]  # the clauses quoted: the recorded ones, then a scaling step's
    record: Mapping[str, Any]


class RecordedDecision(NamedTuple):
    claim: Any
    items: tuple[RecordedItem, ...]
    standing_steps: tuple[Any, ...]
    standing_reasons: tuple[Any, ...]
    record: Mapping[str, Any]


def _money(value: Any) -> Decimal:
    return value if type(value) is Decimal else Decimal(value)


def _reason(r: Mapping[str, Any]) -> Reason:
    return Reason(r["category"], r["check"], r["cites"], r["says"])


def _form(s: Mapping[str, Any]) -> tuple[Any, Any]:
    """An amount step's form (as recorded) and its detail, as the trace tuple holds them."""
    kind = s["form"]
    form = Recorded(kind=kind)
    detail: Any = None
    if kind == "rate":
        form, detail = _rate(s)
    elif kind == "table":
        form.by, form.base = Recorded(source=s["by"]["expression"]), s["by"].get("label")
        detail = s["by"]["value"]
    elif kind == "external":
        form.source = Recorded(source=s["source"]["expression"])
        detail = s["source"]["value"]
    elif kind == "bands":
        form.of, form.base = Recorded(source=s["base"]["expression"]), s["base"].get("label")
        band = s.get("band")
        detail = (
            s["base"]["value"],
            None if band is None else Recorded(start=band["from"], amount=band.get("amount"), rate=band.get("rate")),
        )
    elif kind == "per_unit":
        form.per_unit, form.count, form.max_count = s["per_unit"], Recorded(source=s["count"]["expression"]), s.get("max_count")
        form.base, form.unit = s["count"].get("label"), s.get("unit")
        detail = (s["count"]["value"], s["counted"])
    elif kind == "least":
        detail = s["candidates"]
    return form, detail


def _rate(s: Mapping[str, Any]) -> tuple[Any, Any]:
    """A rate form as recorded (an amount's or a computed ceiling's) and its detail: the base, or (base, key, rate)
    for a rate chosen by a scalar."""
    base = s["base"]
    form = Recorded(
        kind="rate", of=Recorded(source=base["expression"]), rate=s["rate"], base=base.get("label"), rate_table=None, of_table=None
    )
    by = s.get("rate_by")
    base_by = s.get("base_by")
    if base_by is not None:  # the base from an amount table (G5): (base, rate key or None, rate, base key)
        form.of_table = Recorded(by=Recorded(source=base_by["expression"]), base=base_by.get("label"))
        if by is not None:
            form.rate_table = Recorded(by=Recorded(source=by["expression"]), base=by.get("label"))
        return form, (base["value"], None if by is None else by["value"], s["rate"], base_by["value"])
    if by is None:
        return form, base["value"]
    form.rate_table = Recorded(by=Recorded(source=by["expression"]), base=by.get("label"))
    return form, (base["value"], by["value"], s["rate"])


def _ceiling(c: Mapping[str, Any] | None) -> tuple[Any, Any]:
    """How a computed ceiling was obtained (a cap step's `ceiling_from`), as the trace holds it: (form, how)."""
    if c is None:
        return None, None
    if c["form"] == "table":
        by = c["by"]
        return Recorded(kind="table", by=Recorded(source=by["expression"]), base=by.get("label")), by["value"]
    return _rate(c)


def _parameter(s: Mapping[str, Any]) -> tuple[Any, ...]:
    """A dated parameter's look-up as recorded: its words, type, the date asked and the value then in force."""
    first = s.get("first_from")
    parameter = Recorded(label=s["label"], type=s["type"], values=() if first is None else (Recorded(start=first),))
    entry = None if s["value"] is None else Recorded(value=s["value"], shown=s["shown"], start=s["in_force_from"], source=s["source"])
    return ("parameter", Recorded(parameter=parameter), s["date"], entry)


def _selection(s: Mapping[str, Any]) -> tuple[Any, ...]:
    """A round selection step as recorded: the item's rank in its round, or None outside one."""
    sel = Recorded(id=s["selection"], cites=s["cites"], says=s["says"])
    verdict = Recorded(rank=s["rank"], of=s["of"], selected=s["selected"], why=s["why"]) if s["in_round"] else None
    return ("selection", sel, verdict)


# long because: one flat branch per recorded step kind, each building the trace tuple the builder reads
def _step(s: Mapping[str, Any]) -> tuple[Any, ...]:
    kind = s["step"]
    if kind == "check":
        test = Recorded(id=s["check"], cites=s["cites"], says=s["says"], expression=Recorded(facts=tuple(s.get("facts") or ())))
        return ("check", test, s["result"], s.get("missing_fact"))
    if kind == "who":
        return ("who", Recorded(id=s["rule"], kinds=frozenset(s["kinds"]), roles=frozenset(s["roles"])), s["result"])
    if kind == "amount":
        form, detail = _form(s)
        return ("amount", form, detail, s["value"])
    if kind == "subject":
        return ("subject", Recorded(cites=s["cites"]), s.get("key"), _money(s["paid_before"]), _money(s["asked"]), _money(s["after"]))
    if kind == "limit":
        lim = Recorded(id=s["limit"], cites=s["cites"], says=s["says"], times=s["times"])
        return ("limit", lim, s.get("scope"), s["used_before"], s.get("counts"), s["already_counted"], s["result"])
    if kind == "cap":
        computed, how = _ceiling(s.get("ceiling_from"))
        ceiling = _money(s["ceiling"])
        cap = Recorded(
            id=s["cap"],
            cites=s["cites"],
            says=s["says"],
            ceiling=ceiling,
            per=None if s["scope"] == "item" else s["scope"],
            computed=computed,
        )
        mine = _money(s["used_in_application"]) if "used_in_application" in s else None
        return ("cap", cap, s["scope"], _money(s["used_before"]), _money(s["asked"]), _money(s["granted"]), ceiling, how, mine)
    if kind == "parameter":
        return _parameter(s)
    if kind == "selection":
        return _selection(s)
    if kind == "documents":
        owner = Recorded(id=s["check"], says=s.get("says"))
        return ("documents", owner, tuple(s["required"]), tuple(s["missing"]), s["cites"])
    if kind == "scaling":
        return ("scaling", s)
    raise KeyError(f"unknown step {kind!r}")


def _facts(steps: Any, spaces: Mapping[str, dict[str, Any]]) -> None:
    """The facts the recorded steps quote, by namespace (`item.cost` -> spaces['item']['cost'])."""
    for s in steps:
        for full, value in (s.get("facts") or {}).items():
            ns, _, name = full.partition(".")
            if ns in spaces:
                spaces[ns][name] = value


def _item(data: Mapping[str, Any], A: dict[str, Any], C: dict[str, Any]) -> RecordedItem:
    I: dict[str, Any] = {}
    _facts(data.get("steps") or (), {"item": I, "applicant": A, "claim": C})
    cites = tuple(data["cites"])
    quoted = list(cites)
    for s in data.get("steps") or ():
        if s["step"] == "scaling" and s.get("cites") and s["cites"] not in quoted:
            quoted.append(s["cites"])
    pending = data.get("panel_decides")
    rule = Recorded(
        id=data["rule"],
        cites=cites[0],
        readings=tuple(data.get("readings") or ()),
        referral=data.get("referred_to"),
        amount=Recorded(pending=pending),
        caps=tuple(
            Recorded(id=c.get("cap"), cites=c["cites"], ceiling=_money(c["ceiling"]), says=c["says"], computed=None, restricted=False)
            for c in data.get("ceilings") or ()
        ),
    )
    provisional = data.get("provisional_amount")
    return RecordedItem(
        item=Recorded(id=data["item"], type=data["type"], facts=I),
        rule=rule,
        status=data["status"],
        amount=_money(data["amount"]),
        asked=_money(data["asked"]),
        provisional=None if provisional is None else _money(provisional),
        reasons=tuple(_reason(r) for r in data.get("reasons") or ()),
        missing_facts=tuple(data.get("missing_facts") or ()),
        missing_documents=tuple(data.get("missing_documents") or ()),
        steps=tuple(_step(s) for s in data.get("steps") or ()),
        grant=None,
        cites=cites,
        quoted=tuple(quoted),
        record=data,
    )


def from_record(data: Mapping[str, Any]) -> RecordedDecision:
    """A recorded decision (checked by `recorded_decision`) in the shape the builder reads."""
    applicant = data["applicant"]
    A: dict[str, Any] = {}
    C: dict[str, Any] = {}
    standing = data["standing"]
    _facts(standing.get("steps") or (), {"applicant": A, "claim": C})
    items = tuple(_item(i, A, C) for i in data.get("items") or ())
    A.update(id=applicant["id"], name=applicant.get("name"), kind=applicant["kind"])
    claim = Recorded(claim_id=data["claim_id"], applicant=A, claim_facts=C, funding_year=data["funding_year"])
    return RecordedDecision(
        claim=claim,
        items=items,
        standing_steps=tuple(_step(s) for s in standing.get("steps") or ()),
        standing_reasons=() if standing["result"] == "ok" else (standing["result"],),
        record=data,
    )
