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

Kept objects (`Kept`): the builder keeps the pieces it has written per policy object (by its `id()`). A
decision's objects made anew for each record would be new ids each time, so the builder would forget every piece
before each record. Given a `Kept`, `from_record` makes each object once per content (its every field, by value and
type: `_key`) and hands out that same object for every record that states the same, so the builder keeps its pieces
from one record to the next while the `Kept` holds the objects (`RecordedDecision.kept`: the table's generation;
the builder forgets everything when it changes, or when a record has a value whose kept lines could be mistaken
for another's: `Kept.exact`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, NamedTuple

from engine.deciding.decision import Reason
from engine.deciding.history import NO_EARLIER_USE, EarlierAmount, EarlierUse


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
    #: the generation of the `Kept` whose objects the decision's are (the builder keeps its pieces while it is the
    #: same), or None: objects of this decision alone, or a value the builder's kept lines could mistake (forget all)
    kept: object | None = None


#: objects a `Kept` holds before it starts again (a new generation: the builder then forgets its pieces)
KEPT_OBJECTS = 20000


def _key(value: Any) -> Any:
    """A JSON value as a key that is equal only for the same value of the same type (True, 1 and 1.0 are equal in
    Python but written differently; a list and a dict are never the same)."""
    t = type(value)
    if t is str or value is None:
        return value
    if t is list:
        return (list, *map(_key, value))
    if t is dict:
        return (dict, *[(k, _key(v)) for k, v in value.items()])
    return (t, value)


class Kept:
    """The objects of recorded decisions, one per content (`from_record(data, kept)`), for one builder at a time.

    `exact`: False once the record being read has a value that the builder's kept lines key by equality but write
    by type (a count given as 1.0, a result as 1, a list of documents with a number, ...): that record's pieces are
    not kept past it."""

    def __init__(self) -> None:
        self.objects: dict[Any, Any] = {}
        self.generation = object()
        self.exact = True

    def start(self) -> None:
        """Before a record: start a new generation when the table is full (bounded), and assume it exact."""
        if len(self.objects) >= KEPT_OBJECTS:
            self.objects.clear()
            self.generation = object()
        self.exact = True


def _words(value: Any) -> bool:
    """Words as a record states them, which `==` tells apart exactly: text, None, or a dict or list of texts (a
    number or a bool could equal another type's value)."""
    if value is None or type(value) is str:
        return True
    if type(value) is dict:
        return all(type(v) is str for v in value.values())
    if type(value) is list:
        return all(type(v) is str for v in value)
    return False


def _order(words: tuple[Any, ...]) -> tuple[Any, ...]:
    """The order of each dict's keys among `words` (dicts equal in another order may be read otherwise: a label
    with neither language falls back to its first value)."""
    return tuple([tuple(w) if type(w) is dict else None for w in words])


def _found(objects: dict[Any, Any], key: Any, words: tuple[Any, ...]) -> Any:
    """The object kept under `key` (its plain fields) whose words (`_words`) were `words`, or None."""
    entry = objects.get(key)
    return entry[0] if entry is not None and entry[1] == words and entry[2] == _order(words) else None


def _keep(objects: dict[Any, Any], key: Any, words: tuple[Any, ...], obj: Any) -> Any:
    """`obj` kept under `key` with its words, when each is `_words` and nothing is kept there yet (an object once
    kept stays until the next generation: the builder keys its pieces by the object's id)."""
    if key not in objects and all(map(_words, words)):
        objects[key] = (obj, words, _order(words))
    return obj


def _found_said(objects: dict[Any, Any], key: Any, says: Any) -> Any:
    """`_found` of words that are one value (a check's, limit's or ground's `says`), without building a tuple."""
    entry = objects.get(key)
    if entry is not None and entry[1] == says and (type(says) is not dict or entry[2] == tuple(says)):
        return entry[0]
    return None


def _keep_said(objects: dict[Any, Any], key: Any, says: Any, obj: Any) -> Any:
    """`_keep` of words that are one value (for `_found_said`)."""
    if key not in objects and _words(says):
        objects[key] = (obj, says, tuple(says) if type(says) is dict else None)
    return obj


def _plain(value: Any) -> bool:
    """A value a kept line may be keyed by: text, None, or a whole number (not a bool, not a float)."""
    return value is None or type(value) is str or type(value) is int


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
        by, of = s.get("per_unit_by"), s.get("per_unit_of")
        form.per_unit_table = None if by is None else Recorded(by=Recorded(source=by["expression"]), base=by.get("label"))
        form.per_unit_of = None if of is None else Recorded(source=of["expression"])
        form.per_unit_base = None if of is None else of.get("label")
        detail = (s["count"]["value"], s["counted"])
        if by is not None:  # as the trace holds it: (count, counted, sum per unit, key)
            detail += (s["per_unit"], by["value"])
        elif of is not None:
            detail += (s["per_unit"],)
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


def _okey(value: Any) -> Any:
    """`_key` of a value as built (objects, tuples, Decimals): equal only for the same fields of the same values
    and types (a Decimal and a float by their text: 1.0 and 1.00, 0.0 and -0.0 are written differently)."""
    t = type(value)
    if t is str or value is None:
        return value
    if t is Recorded:
        return (Recorded, *[(k, _okey(v)) for k, v in value.__dict__.items()])
    if t is tuple or t is list:
        return (t, *map(_okey, value))
    if t is dict:
        return (dict, *[(k, _okey(v)) for k, v in value.items()])
    if t is frozenset:
        return (frozenset, frozenset((type(v), v) for v in value))
    if t is Decimal or t is float:
        return (t, str(value))
    return (t, value)


def _one(kept: Kept, obj: Any) -> Any:
    """The kept object with the fields of `obj` (`obj` itself, kept, when there is none yet)."""
    key = _okey(obj)
    found = kept.objects.get(key)
    if found is None:
        kept.objects[key] = found = obj
    return found


def _parameter(s: Mapping[str, Any], kept: Kept) -> tuple[Any, ...]:
    """A dated parameter's look-up as recorded: its words, type, the date asked and the value then in force."""
    first = s.get("first_from")
    values = () if first is None else (Recorded(start=first),)
    parameter = Recorded(label=s["label"], type=s["type"], values=values, known_until=s.get("known_until"))
    entry = None if s["value"] is None else Recorded(value=s["value"], shown=s["shown"], start=s["in_force_from"], source=s["source"])
    use = _one(kept, Recorded(parameter=parameter))
    day = s["date"]
    if not _plain(day):
        kept.exact = False
    return ("parameter", use, day, None if entry is None else _one(kept, entry))


def _selection(s: Mapping[str, Any]) -> tuple[Any, ...]:
    """A round selection step as recorded: the item's rank in its round, or None outside one."""
    sel = Recorded(id=s["selection"], cites=s["cites"], says=s["says"])
    verdict = Recorded(rank=s["rank"], of=s["of"], selected=s["selected"], why=s["why"]) if s["in_round"] else None
    return ("selection", sel, verdict)


def _check(s: Mapping[str, Any], kept: Kept) -> tuple[Any, ...]:
    ident, cites, says, given = s["check"], s["cites"], s["says"], s.get("facts")
    facts = tuple(given or ())
    result, missing = s["result"], s.get("missing_fact")
    objects = kept.objects
    shows, named, applies = s.get("shows"), s.get("readings"), s.get("applies")
    if shows is not None or named is not None or applies is not None:  # values shown beside the facts (`shows:`),
        # readings named on this item (`readings_when`), a test that did not apply: the check's object kept with them
        key = ("check", _key(ident), _key(cites), _key(says), _key(list(facts)), _key(shows), _key(named), applies is False)
        test = _kept(objects, key, ident, cites, says, facts, shows, named)
        if applies is False:
            test.not_applicable = True
        if not (result is True or result is False or result is None) or not _plain(missing):
            kept.exact = False
        return ("check", test, result, missing)
    if (
        type(ident) is str
        and type(cites) is str
        and (given is None or type(given) is dict)
        and (result is True or result is False or result is None)
        and (missing is None or type(missing) is str)
    ):  # the usual record: the whole step kept by its texts and result (a step is never changed: shared as it is)
        fast = ("check!", ident, cites, facts, result, missing)
        entry = objects.get(fast)
        if entry is not None and entry[1] == says and (type(says) is not dict or entry[2] == tuple(says)):
            return entry[0]  # type: ignore[no-any-return]
        step = ("check", _kept(objects, ("check", ident, cites, _key(says), facts), ident, cites, says, facts), result, missing)
        return _keep_said(objects, fast, says, step)  # type: ignore[no-any-return]
    test = _kept(objects, ("check", _key(ident), _key(cites), _key(says), _key(list(facts))), ident, cites, says, facts)
    if not (result is True or result is False or result is None) or not _plain(missing):
        kept.exact = False
    return ("check", test, result, missing)


def _kept(
    objects: dict[Any, Any], key: Any, ident: Any, cites: Any, says: Any, facts: tuple[Any, ...], shown: Any = None, named: Any = None
) -> Any:
    """A check's object kept under its whole content (with the values it shows, `shown`, when it shows any, and the
    readings it names on the item, `named`, when its policy chooses some by a condition)."""
    test = objects.get(key)
    if test is None:
        test = objects[key] = Recorded(id=ident, cites=cites, says=says, expression=Recorded(facts=facts))
        if shown is not None:
            test.shown = shown
        if named is not None:
            test.named = tuple(r for r in named if type(r) is str) if isinstance(named, list) else ()
    return test


def _who(s: Mapping[str, Any], kept: Kept) -> tuple[Any, ...]:
    ident, kinds = s["rule"], s["kinds"]
    kind_set = frozenset(kinds)
    roles = s["roles"]
    role_set = frozenset(roles)
    result = s["result"]
    objects = kept.objects
    fast = ("who!", ident, result) if type(ident) is str and (result is True or result is False or result is None) else None
    entry = None if fast is None else objects.get(fast)
    if entry is not None and entry[1] == kinds and entry[2] == roles:  # (lists of texts: `_words`)
        return entry[0]  # type: ignore[no-any-return]
    key = ("who", _key(ident), _key(kinds), _key(roles))
    who = objects.get(key)
    if who is None:
        who = objects[key] = Recorded(id=ident, kinds=kind_set, roles=role_set)
    step = ("who", who, result)
    if fast is None:
        if not (result is True or result is False or result is None):
            kept.exact = False
    elif fast not in objects and type(kinds) is list and type(roles) is list and _words(kinds) and _words(roles):
        objects[fast] = (step, kinds, roles)  # the whole step, shared as it is
    return step


def _limit(s: Mapping[str, Any], kept: Kept) -> tuple[Any, ...]:
    ident, cites, says, times, unit = s["limit"], s["cites"], s["says"], s["times"], s.get("unit")
    consecutive = s.get("consecutive") is True
    objects = kept.objects
    plain = type(ident) is str and type(cites) is str and type(times) is int and unit is None and not consecutive
    fast = ("limit!", ident, cites, times) if plain else None
    lim = None if fast is None else _found_said(objects, fast, says)
    if lim is None:
        if not _words(unit):
            kept.exact = False
        key = ("limit", _key(ident), _key(cites), _key(says), _key(times), _key(unit), consecutive)
        lim = objects.get(key)
        if lim is None:
            lim = objects[key] = Recorded(id=ident, cites=cites, says=says, times=times, unit=unit, consecutive=consecutive)
        if fast is not None:
            _keep_said(objects, fast, says, lim)
    used, counted, result = s["used_before"], s["already_counted"], s["result"]
    if type(used) is not int or not (counted is True or counted is False) or not (result is True or result is False):
        kept.exact = False
    return ("limit", lim, s.get("scope"), used, s.get("counts"), counted, result, _earlier_uses(s.get("used_by")))


def _earlier_uses(recorded: Any) -> tuple[EarlierUse, ...]:
    """A limit step's earlier applications as recorded (`used_by`); none on a record made before steps named
    them. (A record not of this shape fails as any other step's missing key does.)"""
    if not recorded:
        return NO_EARLIER_USE
    return tuple(EarlierUse(u["claim_id"], u["funding_year"], u["applicant_id"], u["counted"]) for u in recorded)


def _cap(s: Mapping[str, Any], kept: Kept) -> tuple[Any, ...]:
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
    cap = _one(kept, cap)
    if not (all(map(_plain, how)) if type(how) is tuple else _plain(how)):
        kept.exact = False
    mine = _money(s["used_in_application"]) if "used_in_application" in s else None
    used_before, asked, granted = _money(s["used_before"]), _money(s["asked"]), _money(s["granted"])
    return ("cap", cap, s["scope"], used_before, asked, granted, ceiling, how, _earlier_amounts(s.get("used_by")), mine)


def _earlier_amounts(recorded: Any) -> tuple[EarlierAmount, ...]:
    """A cutting cap step's earlier applications as recorded (`used_by`), as `_earlier_uses` reads a limit's."""
    if not recorded:
        return NO_EARLIER_USE
    return tuple(EarlierAmount(u["claim_id"], u["funding_year"], u["applicant_id"], _money(u["amount"])) for u in recorded)


def _documents(s: Mapping[str, Any], kept: Kept) -> tuple[Any, ...]:
    ident, says = s["check"], s.get("says")
    objects = kept.objects
    fast = ("documents!", ident) if type(ident) is str else None
    owner = None if fast is None else _found_said(objects, fast, says)
    if owner is None:
        key = ("documents", _key(ident), _key(says))
        owner = objects.get(key)
        if owner is None:
            owner = objects[key] = Recorded(id=ident, says=says)
        if fast is not None:
            _keep_said(objects, fast, says, owner)
    required, missing, cites = tuple(s["required"]), tuple(s["missing"]), s["cites"]
    if not (all(type(d) is str for d in required) and all(type(d) is str for d in missing) and type(cites) is str):
        kept.exact = False
    return ("documents", owner, required, missing, cites)


def _amount(s: Mapping[str, Any], kept: Kept) -> tuple[Any, ...]:
    form = None
    if s["form"] == "rate":  # the usual rate, of one base: kept by its text (as `_form` reads it, in its order)
        base = s["base"]
        expression, rate, label = base["expression"], s["rate"], base.get("label")
        if s.get("rate_by") is None and s.get("base_by") is None and type(expression) is str and type(rate) is str:
            if label is None or type(label) is str:
                key = ("rate!", expression, rate, label)
                form = kept.objects.get(key)
                if form is None:
                    form = kept.objects[key] = _one(
                        kept,
                        Recorded(kind="rate", of=Recorded(source=expression), rate=rate, base=label, rate_table=None, of_table=None),
                    )
                detail = base["value"]
    if form is None:
        form, detail = _form(s)
        form = _one(kept, form)
    value = s["value"]
    if not _plain(value) or (form.kind == "table" and not _plain(detail)):
        kept.exact = False
    return ("amount", form, detail, value)


def _subject(s: Mapping[str, Any], kept: Kept) -> tuple[Any, ...]:
    return ("subject", Recorded(cites=s["cites"]), s.get("key"), _money(s["paid_before"]), _money(s["asked"]), _money(s["after"]))


#: each recorded step kind's builder of its trace tuple
_STEPS: dict[str, Callable[[Mapping[str, Any], Kept], tuple[Any, ...]]] = {
    "check": _check,
    "who": _who,
    "amount": _amount,
    "subject": _subject,
    "limit": _limit,
    "cap": _cap,
    "parameter": _parameter,
    "selection": lambda s, kept: _selection(s),
    "documents": _documents,
    "scaling": lambda s, kept: ("scaling", s),
}


def _step(s: Mapping[str, Any], kept: Kept) -> tuple[Any, ...]:
    """A recorded step as the trace tuple the builder reads, its policy object kept in `kept` (`Kept`)."""
    kind = s["step"]
    try:
        build = _STEPS.get(kind)
    except TypeError:  # (not a kind: unhashable)
        build = None
    if build is None:
        raise ValueError(f"unknown step {kind!r}")  # (a value edited, not a field taken out: render._edited)
    return build(s, kept)


def _facts(steps: Any, spaces: Mapping[str, dict[str, Any]]) -> None:
    """The facts the recorded steps quote, by namespace (`item.cost` -> spaces['item']['cost'])."""
    for s in steps:
        facts = s.get("facts")
        if facts:
            for full, value in facts.items():
                ns, _, name = full.partition(".")
                space = spaces.get(ns)
                if space is not None:
                    space[name] = value


def _reasons(data: Mapping[str, Any], kept: Kept) -> tuple[Reason, ...]:
    """An item's grounds, each kept once per content (the builder keeps a ground's line while it lives)."""
    found = []
    objects = kept.objects
    for r in data.get("reasons") or ():
        reason = _reason(r)
        fast = ("reason!", reason.category, reason.check, reason.cites)
        kept_reason = _found_said(objects, fast, reason.says) if all(type(v) is str for v in fast) else None
        if kept_reason is None:
            key = ("reason", _key(reason.category), _key(reason.check), _key(reason.cites), _key(reason.says))
            kept_reason = objects.get(key)
            if kept_reason is None:
                kept_reason = objects[key] = reason
            if all(type(v) is str for v in fast):
                _keep_said(objects, fast, reason.says, kept_reason)
        found.append(kept_reason)
    return tuple(found)


def _rule(data: Mapping[str, Any], cites: tuple[Any, ...], kept: Kept) -> Any:
    """An item's rule as the record states it (its id, clause, readings, referral, what a panel decides, the
    ceilings a pending review shows), kept once per content."""
    pending = data.get("panel_decides")
    ident = data["rule"]
    cite = cites[0]
    readings, referral, ceilings = data.get("readings"), data.get("referred_to"), data.get("ceilings")
    fast = ("rule!", ident, cite) if type(ident) is str and type(cite) is str and not ceilings else None
    said = (readings, referral, pending, ceilings)
    if fast is not None:
        found = _found(kept.objects, fast, said)
        if found is not None:
            return found
    rule = Recorded(
        id=ident,
        cites=cite,
        readings=tuple(readings or ()),
        referral=referral,
        amount=Recorded(pending=pending),
        caps=tuple(
            Recorded(id=c.get("cap"), cites=c["cites"], ceiling=_money(c["ceiling"]), says=c["says"], computed=None, restricted=False)
            for c in ceilings or ()
        ),
    )
    rule = _one(kept, rule)
    if fast is not None:
        _keep(kept.objects, fast, said, rule)
    return rule


def _item(data: Mapping[str, Any], A: dict[str, Any], C: dict[str, Any], kept: Kept, scaling: Any = None) -> RecordedItem:
    I: dict[str, Any] = {}
    _facts(data.get("steps") or (), {"item": I, "applicant": A, "claim": C})
    cites = tuple(data["cites"])
    quoted = list(cites)
    for s in data.get("steps") or ():
        if s["step"] == "scaling" and s.get("cites") and s["cites"] not in quoted:
            quoted.append(s["cites"])
    rule = _rule(data, cites, kept)
    provisional = data.get("provisional_amount")
    recorded = RecordedItem(
        item=Recorded(id=data["item"], type=data["type"], facts=I),
        rule=rule,
        status=data["status"],
        amount=_money(data["amount"]),
        asked=_money(data["asked"]),
        provisional=None if provisional is None else _money(provisional),
        reasons=_reasons(data, kept),
        missing_facts=tuple(data.get("missing_facts") or ()),
        missing_documents=tuple(data.get("missing_documents") or ()),
        # (a scaling step with its round's record: budget, approved total, rounding, which work out its amount)
        steps=tuple(
            [
                ("scaling", {**s, "round": scaling}) if s["step"] == "scaling" and scaling else _step(s, kept)
                for s in data.get("steps") or ()
            ]
        ),
        grant=None,
        cites=cites,
        quoted=tuple(quoted),
        record=data,
    )
    if type(recorded.item.type) is not str:  # (an item type keys the builder's kept lines)
        kept.exact = False
    return recorded


def item_from_record(data: Mapping[str, Any]) -> RecordedItem:
    """One item of a recorded decision (its JSON form) in the shape the builder reads, its objects its own (the
    facts its steps state, without the decision's applicant and claim)."""
    return _item(data, {}, {}, Kept())


def from_record(data: Mapping[str, Any], kept: Kept | None = None) -> RecordedDecision:
    """A recorded decision (checked by `recorded_decision`) in the shape the builder reads; its policy objects kept
    in `kept` (one per content, for as long as it keeps them: `Kept`), else made for this decision alone."""
    K = Kept() if kept is None else kept
    K.start()
    applicant = data["applicant"]
    A: dict[str, Any] = {}
    C: dict[str, Any] = {}
    standing = data["standing"]
    _facts(standing.get("steps") or (), {"applicant": A, "claim": C})
    scaling = data.get("scaling") if isinstance(data.get("scaling"), Mapping) else None
    items = tuple([_item(i, A, C, K, scaling) for i in data.get("items") or ()])
    A.update(id=applicant["id"], name=applicant.get("name"), kind=applicant["kind"])
    claim = Recorded(claim_id=data["claim_id"], applicant=A, claim_facts=C, funding_year=data["funding_year"])
    standing_steps = tuple([_step(s, K) for s in standing.get("steps") or ()])
    if type(A["kind"]) is not str:
        K.exact = False
    return RecordedDecision(
        claim=claim,
        items=items,
        standing_steps=standing_steps,
        standing_reasons=() if standing["result"] == "ok" else (standing["result"],),
        record=data,
        kept=K.generation if kept is not None and K.exact else None,
    )
