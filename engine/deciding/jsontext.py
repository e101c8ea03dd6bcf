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

import functools
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from json.encoder import encode_basestring  # the C encoder json.dumps uses (ensure_ascii=False)
from operator import is_, itemgetter
from typing import TYPE_CHECKING, Any

from engine.core.quantities import format_money
from engine.deciding import decision as dec
from engine.deciding.history import Consumption, Grant
from engine.language import model

if TYPE_CHECKING:
    from engine.deciding.decision import Decision, ItemDecision

_s: Callable[[str], str] = encode_basestring
_CENT = Decimal("0.01")
_ZERO = Decimal(0)
_CACHE_LIMIT = 50_000


class _Texts(dict[Any, str]):
    """A value's JSON text by a key that fixes it, made by `make(key)` on the first miss (`__missing__`: a hit is one
    C look-up). Values repeat across decisions (amounts, dates, reasons). Bounded: cleared at `_CACHE_LIMIT` entries."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[Any], str]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: Any) -> str:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        text = self[key] = self.make(key)
        return text


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _decimal_text(key: str) -> str:
    v = Decimal(key)
    return '"' + (format_money(v) if v == v.quantize(_CENT) else key) + '"'


def _decimal(v: Decimal) -> str:
    """A Decimal fact's text (money text when whole cents), kept by the decimal's own text, which fixes it; a text
    with two places is its own money text (`_money`)."""
    t = str(v)
    return '"' + t + '"' if 2 < len(t) <= _CENTS_MAX and t[-3] == "." else _DECIMAL_TEXT[t]


def _date(v: date) -> str:
    """A date's text, kept by the date (a value: equal dates write the same text)."""
    return _DATE_TEXT[v]


_DECIMAL_TEXT = _Texts(_decimal_text)
_DATE_TEXT = _Texts(lambda v: '"' + v.isoformat() + '"')


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
    date: _date,
}


def _raw(v: Any) -> str:
    """`json.dumps(v)` for a value written as it is (no `json_value` conversion), fast for the scalar types."""
    t = type(v)
    if t is str:
        return _s(v)
    if t is int:
        return int.__repr__(v)
    write = _RAW_SCALARS.get(t)
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


#: money's JSON text by the amount's own text (`str` tells 1.0 from 1.00 and -0 from 0, so a kept text is the one
#: `format_money` would make): amounts repeat (ceilings, fixed awards, zero), and quantize + str cost ~10x a look-up
_MONEY_TEXT = _Texts(lambda key: '"' + format_money(Decimal(key)) + '"')


#: the longest decimal text written as it is: a decimal whose text has two places (`-?digits.dd`, never with an
#: exponent: `str` writes an exponent only as `E±n` at the end) is at the cent, and `quantize` to the cent (under
#: `format_money`'s precision of 60 digits) leaves it as it is, so its money text is its own text
_CENTS_MAX = 60


def _money(v: Decimal) -> str:
    """`'"' + format_money(v) + '"'`: a text with two places as it is (no look-up: amounts are mostly unique),
    any other by the text cache."""
    t = str(v)
    return '"' + t + '"' if 2 < len(t) <= _CENTS_MAX and t[-3] == "." else _MONEY_TEXT[t]


def _text(t: model.Text) -> str:
    return '{"zh": ' + _s(t.zh) + ', "en": ' + _s(t.en) + "}"


def _bool(v: bool) -> str:
    return "true" if v else "false"


def _strings(xs: Any) -> str:
    return "[" + ", ".join([_raw(x) for x in xs]) + "]"


class _TupleTexts(_Texts):
    """`make(t)` of a tuple, kept only for a tuple of texts (`type(x) is str`: a tuple equal to one of those holds
    texts, which write as they are, so a kept text is the one `make` makes; 1 == True == Decimal(1) never meet a
    kept key). Document lists, an item's clauses and list facts repeat. Bounded like `_Texts`. A tuple holding an
    unhashable value raises TypeError: the caller writes it without the cache."""

    __slots__ = ()

    def __missing__(self, key: tuple[Any, ...]) -> str:
        text = self.make(key)
        if all(type(x) is str for x in key):
            if len(self) >= _CACHE_LIMIT:
                self.clear()
            self[key] = text
        return text


_STRINGS = _TupleTexts(_strings)


def _strings_of(xs: Any) -> str:
    """`_strings(xs)`, a tuple through `_STRINGS` (one holding an unhashable value written as it is)."""
    if type(xs) is tuple:
        try:
            return _STRINGS[xs]
        except TypeError:
            pass
    return _strings(xs)


#: `_jv(t)` of a tuple fact (a list of texts: right holders, inventors), kept by the tuple (its texts' hashes are
#: cached) instead of writing each entry
_FACT_TUPLES = _TupleTexts(_jv)


def _fact(v: Any) -> str:
    """`_jv` with the commonest fact values (text, whole numbers, booleans, absent) written without a call."""
    t = type(v)
    if t is str:
        return _s(v)
    if t is bool:
        return "true" if v else "false"
    if v is None:
        return "null"
    if t is int:
        return int.__repr__(v)
    if t is Decimal:
        return _decimal(v)
    if t is date:
        return _date(v)
    return _jv(v)


class _Facts:
    """The `facts` object of an expression: each fact's key fragment, which space it is read from (0 item,
    1 applicant, 2 claim) and its name there; `write(S)` with S = (item, applicant, claim) facts."""

    __slots__ = ("parts", "write")

    def __init__(self, facts: tuple[str, ...]) -> None:
        seen: dict[str, None] = {}
        for full in facts:  # a dict keeps a repeated key at its first place
            seen.setdefault(full, None)
        spaces = {"item": 0, "applicant": 1, "claim": 2}
        self.parts = tuple((_s(full) + ": ", spaces[full.split(".", 1)[0]], full.split(".", 1)[1]) for full in seen)
        self.write = self._writer()

    def _writer(self) -> Callable[[tuple[Any, Any, Any]], str]:
        # an absent fact and a None value are both null (json_value(None) is None); `dict.get`: a Facts namespace's
        # `__missing__` (which raises) is not asked. One closure per number of facts: no list, no join per check.
        parts, fact = self.parts, _fact
        if not parts:
            return lambda S: "{}"
        if len(parts) == 1:
            ((k0, i0, n0),) = parts
            k0 = "{" + k0
            return lambda S: k0 + fact(S[i0].get(n0)) + "}"
        if len(parts) == 2:
            (k0, i0, n0), (k1, i1, n1) = parts
            k0, k1 = "{" + k0, ", " + k1
            return lambda S: k0 + fact(S[i0].get(n0)) + k1 + fact(S[i1].get(n1)) + "}"
        if len(parts) == 3:
            (k0, i0, n0), (k1, i1, n1), (k2, i2, n2) = parts
            k0, k1, k2 = "{" + k0, ", " + k1, ", " + k2
            return lambda S: k0 + fact(S[i0].get(n0)) + k1 + fact(S[i1].get(n1)) + k2 + fact(S[i2].get(n2)) + "}"
        return lambda S: "{" + ", ".join([key + fact(S[i].get(name)) for key, i, name in parts]) + "}"


class _Fragments:
    """The JSON fragments of one policy object, made on first use."""

    __slots__ = ("a", "article", "b", "c", "d", "facts", "grants", "obj", "steps", "write")

    def __init__(self, obj: Any, a: str = "", b: str = "", c: str = "", facts: _Facts | None = None) -> None:
        self.obj, self.a, self.b, self.c, self.d, self.facts = obj, a, b, c, "", facts
        #: a rule's (policy, article it is totalled under), as `decision_json` last found it for that policy
        self.article: tuple[Any, Any] = (None, None)
        self.write: Callable[[tuple[Any, Any, Any], str], str] = _no_writer
        #: a rule's generated item writers by the number of steps, one per sequence seen (`_ItemWriter`)
        self.steps: dict[int, list[Callable[..., str | None]]] = {}
        #: a rule's generated grant writers, one per shape of what its grants consume (`_GrantWriter`)
        self.grants: list[Callable[[Any, str, str, str, str], str | None]] = []


def _no_writer(S: tuple[Any, Any, Any], end: str) -> str:
    raise AssertionError("a check's fragments have a writer")


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


def _check_frag(t: model.Test) -> _Fragments:
    head = '{"step": "check", "check": ' + _s(t.id) + ", " + '"category": ' + _s(t.category) + ", "
    head += '"cites": ' + _s(t.cites) + ', "test": ' + _s(t.expression.source) + ', "facts": '
    facts = _Facts(t.expression.facts)
    f = _Fragments(t, head, ', "says": ' + _text(t.says) + "}", facts=facts)
    f.c = ', "result": true, "missing_fact": null' + f.b  # the end of a check that held, or failed, with no fact missing
    f.d = ', "result": false, "missing_fact": null' + f.b
    f.write = _check_writer(f.a, facts.parts)
    if t.shows or t.readings_when or t.applies is not None:  # what it says beside its result, after its words
        f.write = functools.partial(_naming, t, f.write)
    return f


def _naming(test: model.Test, write: Callable[[tuple[Any, Any, Any], str], str], S: tuple[Any, Any, Any], end: str) -> str:
    """A check step's text with what it says of the item (`_said`) as its last keys."""
    return write(S, end[:-1] + _said(test, S, end) + "}")


def _said(test: model.Test, S: tuple[Any, Any, Any], end: str) -> str:
    """The keys of what a check says beside its result, each after a comma, as `step_to_dict` writes them: the
    values it shows (`shows`, those it could work out), the readings it names (`readings_when`), and
    `"applies": false` on a held step it does not apply to. `end`: the step's end (its result is read from it: the
    writers have its text, not its value)."""
    out = ""
    if test.shows and (shown := dec.shown_values(test, *S)):
        out = ', "shows": ' + _dumps(shown)
    if test.readings_when:
        out += ', "readings": ' + _STRINGS[dec.readings_named(test, *S)]
    if test.applies is not None and end.startswith(', "result": true') and not dec.applies_to_item(test, *S):
        out += ', "applies": false'
    return out


#: the names a check step's writer reads (its source holds only these and names made in `_check_writer`)
_WRITER_NAMES: dict[str, Any] = {"STR": _s, "FACT": None}


def _check_writer(head: str, parts: tuple[tuple[str, int, str], ...]) -> Callable[[tuple[Any, Any, Any], str], str]:
    """`write(S, end)`: a check step's whole text, its head, facts object and `end` (the result, missing fact and
    says), as one f-string: each fact read once and written inline (text, booleans and absent without a call; any
    other value by `_fact`). Generated code: the fact names and key fragments are bound as constants (H, K1.., N0..),
    never written into its source, so a policy's text cannot become code."""
    ns: dict[str, Any] = {**_WRITER_NAMES, "FACT": _fact, "H": head + "{"}
    lines = ["def write(S, end):"]
    pieces = ["{H}"]
    for k, (key, space, name) in enumerate(parts):
        ns[f"K{k}"], ns[f"N{k}"] = (", " if k else "") + key, name
        lines.append(f"    v{k} = S[{int(space)}].get(N{k})")
        value = f"('true' if v{k} is True else 'false' if v{k} is False else 'null' if v{k} is None else STR(v{k}) if type(v{k}) is str else FACT(v{k}))"
        pieces.append(f"{{K{k}}}{{{value}}}")
    lines.append('    return f"' + "".join(pieces) + '}}{end}"')
    exec(compile("\n".join(lines) + "\n", "<decision json check>", "exec"), ns)  # noqa: S102 - our own text, see above
    write: Callable[[tuple[Any, Any, Any], str], str] = ns["write"]
    return write


def _who_frag(r: model.Rule) -> _Fragments:
    head = '{"step": "who", "rule": ' + _s(r.id) + ', "cites": ' + _s(r.cites) + ', "kinds": ' + _strings(sorted(r.kinds))
    return _Fragments(r, head + ', "roles": ' + _strings(sorted(r.roles)) + ', "applicant_kind": ')


def _documents_frag(owner: Any) -> _Fragments:
    """A documents step's head up to its clause, and its tail (the says text of a document check)."""
    tail = ', "says": ' + _text(owner.says) + "}" if isinstance(owner, model.DocumentCheck) else "}"
    return _Fragments(owner, '{"step": "documents", "check": ' + _s(owner.id) + ', "cites": ', tail)


def _identified_frag(kind: str) -> Callable[[Any], _Fragments]:
    """a: a cap's or limit's head; b: the key of its scope; c (a limit): its times, up to the use before."""

    def make(part: Any) -> _Fragments:
        head = '{"step": "' + kind + '", "' + kind + '": ' + _s(part.id) + ', "cites": ' + _s(part.cites)
        c = ', "times": ' + _raw(part.times) + ', "used_before": ' if kind == "limit" else ""
        unit = ', "unit": ' + _text(part.unit) if kind == "limit" and part.unit is not None else ""
        unit += ', "consecutive": true' if kind == "limit" and part.consecutive else ""
        return _Fragments(part, head + ', "says": ' + _text(part.says) + unit, ', "scope": ', c)

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


def _amount(step: tuple[Any, ...], rule: model.Rule | None, S: tuple[Any, Any, Any]) -> str:
    _, form, detail, value = step
    t = type(form)
    head = _AMOUNT_HEADS.get(form.kind)
    if head is None:
        head = _AMOUNT_HEADS[form.kind] = '{"step": "amount", "form": ' + _s(form.kind) + ', "value": '
    head += _money(value)
    if t is model.FixedAmount:
        body = ""
    elif (
        (t is model.RateAmount and form.rate_table is None and form.of_table is None) or t is model.TableAmount or t is model.ExternalAmount
    ):
        f = _AMOUNTS(form)
        body = f.a + _jv(detail) + f.b + (', "facts": ' + f.facts.write(S) if f.facts is not None else "") + f.c
    else:  # the rarer forms: the dict and json.dumps (the same text)
        return _dumps(dec.step_to_dict(step, rule, *S))
    return head + body + ("}" if rule is None else _RULES(rule).d)


_AMOUNT_HEADS: dict[str, str] = {}


def _cap(step: tuple[Any, ...], S: tuple[Any, Any, Any], in_application: dict[tuple[str, Any], Decimal]) -> str:
    _, cap, scope, used, asked, after, ceiling, how, earlier = step
    f = _CAPS(cap)
    m = _money
    out = f.a + (f.b + _jv(scope) if cap.per is not None else f.b + '"item"') + ', "ceiling": ' + m(ceiling)
    out += ', "used_before": ' + m(used) + ', "asked": ' + m(asked) + ', "granted": ' + m(after) + ', "used_after": ' + m(used + after)
    out += ', "remaining_before": ' + m(max(ceiling - used, _ZERO)) + ', "remaining_after": ' + m(max(ceiling - used - after, _ZERO))
    out += ', "reduced_by": ' + m(asked - after) + (', "bites": true' if after < asked else ', "bites": false')
    if cap.computed is not None:
        out += ', "ceiling_from": ' + _dumps(dec._ceiling_detail(cap.computed, how, *S))
    if cap.per is not None:
        mine = in_application.get((cap.id, scope), _ZERO)
        out += ', "used_in_application": ' + m(mine) + ', "used_by_history": ' + m(used - mine)
    return out + ("}" if not earlier else _spent_by(earlier))


def _list(v: Any) -> str:
    """`_jv` of a scope or counts tuple (its entries: text or whole numbers, mostly)."""
    if type(v) is tuple:
        return "[" + ", ".join([_fact(x) for x in v]) + "]"
    return _jv(v)


def _step(step: tuple[Any, ...], rule: model.Rule | None, S: tuple[Any, Any, Any], who: str, inapp: dict[tuple[str, Any], Decimal]) -> str:
    kind = step[0]
    if kind == "check":
        _, test, ok, missing = step
        f = _CHECKS.entries.get(id(test))
        if f is None or f.obj is not test:
            f = _CHECKS(test)
        return f.write(S, _RESULT[ok] + (_s(missing) if missing is not None else "null") + f.b)
    if kind == "who":
        return _WHO(step[1]).a + who + _result_end(step[2])
    if kind == "documents":
        _, owner, required, missing, cites = step
        f = _DOCUMENTS(owner)
        out = f.a + (_s(cites) if type(cites) is str else _raw(cites)) + ', "required": ' + _strings(required) + ', "missing": '
        return out + (_strings(missing) + ', "result": false' if missing else '[], "result": true') + f.b
    if kind == "limit":
        _, limit, scope, used, counts, counted, ok, earlier = step
        f = _LIMITS(limit)
        out = f.a + f.b + _list(scope) + f.c + _raw(used) + ', "counts": ' + _list(counts) + _counted(counted)
        return out + _raw(used if (counted or not ok) else used + 1) + (_result_end(ok) if not earlier else _used_by(ok, earlier))
    if kind == "amount":
        return _amount(step, rule, S)
    if kind == "cap":
        return _cap(step, S, inapp)
    return _dumps(dec.step_to_dict(step, rule, *S))


def _used_by(ok: Any, earlier: Any) -> str:
    """A refusing limit step's end: its result, then the earlier applications whose grants filled it."""
    uses = [
        f'{{"claim_id": {_s(c) if type(c) is str else _raw(c)}, "funding_year": {_raw(y)}, "applicant_id": '
        f'{_s(a) if type(a) is str else _raw(a)}, "counted": {n}}}'
        for c, y, a, n in earlier
    ]
    return ', "result": ' + _raw(ok) + ', "used_by": [' + ", ".join(uses) + "]}"


def _spent_by(earlier: Any) -> str:
    """A cutting cap step's end: the earlier applications whose grants used its room."""
    uses = [
        f'{{"claim_id": {_s(c) if type(c) is str else _raw(c)}, "funding_year": {_raw(y)}, "applicant_id": '
        f'{_s(a) if type(a) is str else _raw(a)}, "amount": {_money(n)}}}'
        for c, y, a, n in earlier
    ]
    return ', "used_by": [' + ", ".join(uses) + "]}"


#: a who or limit step's result and its end, and a limit's `already_counted`, for a bool (any other value: `_raw`,
#: as before; looked up only for a bool, since 1 == True as a dict key)
_RESULT_END = (', "result": false}', ', "result": true}')
_COUNTED = (', "already_counted": false, "used_after": ', ', "already_counted": true, "used_after": ')


def _result_end(v: Any) -> str:
    return _RESULT_END[v] if v is True or v is False else ', "result": ' + _raw(v) + "}"


def _counted(v: Any) -> str:
    return _COUNTED[v] if v is True or v is False else ', "already_counted": ' + _raw(v) + ', "used_after": '


def _check_end(step: tuple[Any, ...], b: str) -> str:
    """A check step's end for a result other than a held/failed check with no fact missing (as `_step` writes it)."""
    return _RESULT[step[2]] + (_s(step[3]) if step[3] is not None else "null") + b


#: the names every generated steps writer reads; the rest are constants made by `_StepsWriter`
_STEPS_NAMES: dict[str, Any] = {
    "STR": _s,
    "INT": int.__repr__,
    "FACT": _fact,
    "RAW": _raw,
    "JV": _jv,
    "TUPLES": _FACT_TUPLES,
    "LIST": _list,
    "STRS": _strings_of,
    "MONEY": _MONEY_TEXT,
    "DATES": _DATE_TEXT,
    "DATE": date,
    "DECIMAL": Decimal,
    "DECIMAL_TEXT": _DECIMAL_TEXT,
    "ZERO": _ZERO,
    "Q": '"',
    "DOT": ".",
    "MINUS": "-",
    "STRT": str,
    "INTT": int,
    "SCALARS": None,  # `_scalars`: bound in `_ItemWriter` (defined below it)
    "SYNC": None,  # `_sync`: likewise
    "CENTS_MAX": _CENTS_MAX,
    "COUNTED": _counted,
    "COUNTED_BOOL": _COUNTED,
    "RESEND": _result_end,
    "USED_BY": _used_by,
    "SPENT_BY": _spent_by,
    "CLOSE": "}",
    "CEND": _check_end,
    "STEP": None,  # `_step`, `_cap` and `_amount`: bound in `_StepsWriter` (defined above it)
    "CAP": None,
    "AMOUNT": None,
    "RT": _RESULT_END[1],
    "RF": _RESULT_END[0],
    "BITES": (', "bites": false', ', "bites": true'),
    "MISS_NONE": '[], "result": true',
    "MISS_SOME": ', "result": false',
}
#: a rule's generated item writers (and a policy's standing writers), one per step sequence seen, kept by the number
#: of steps and tried in turn: at most this many per rule (a policy's rules each have a handful of sequences; past
#: the bound an item's steps are written one by one, as before)
_SHAPES_PER_RULE = 16


def _value(v: str, sample: Any) -> str:
    """The generated expression of a fact value's text, exactly `_fact(v)`: text, booleans and absent inline, and
    first a test for the type of `sample` (the value the first item had), written without a call when it holds."""
    generic = (
        f"('true' if {v} is True else 'false' if {v} is False else 'null' if {v} is None else STR({v}) if type({v}) is str else FACT({v}))"
    )
    t = type(sample)
    if t is date:
        return f"(DATES[{v}] if type({v}) is DATE else {generic})"
    if t is Decimal:
        return f"({_decimal_code(v)} if type({v}) is DECIMAL else {generic})"
    if t is int:
        return f"(str({v}) if type({v}) is int else {generic})"
    if t is str:
        return f"(STR({v}) if type({v}) is str else {generic})"
    return generic


def _money_code(expr: str) -> str:
    """Generated code: `format_money(expr)`'s text without its quotes (`_money`'s): a two-place text is its own."""
    return f"(t if 2 < len(t := str({expr})) <= CENTS_MAX and t[-3] == DOT else MONEY[t][1:-1])"


def _decimal_code(expr: str) -> str:
    """Generated code: the JSON text of the decimal `expr` with its quotes (`_decimal`'s)."""
    return f"(Q + t + Q if 2 < len(t := str({expr})) <= CENTS_MAX and t[-3] == DOT else DECIMAL_TEXT[t])"


class _ItemWriter:
    """Generates `write(d, A, C, who, inapp, G)` (`G`: see `decision_json`): the text of an item decision `d` of a rule whose trace has the step
    sequence of the sample item (each step's kind and policy object, tested by identity; any other sequence of
    that length gives None: another writer or `_item_by_steps` writes it), as one f-string: the item's head, the keys only some
    items have (`_item_tail`), and each step with its fixed fragments as constants; each fact the item's checks
    and amount read is read once and its text made once, and the values are written inline (a fact's or a scope
    entry's type tested first as the sample had it). Generated code, like `_check_writer`: the policy's objects,
    names and fragments are bound as constants (K..), never written into the source, so a policy's text cannot
    become code. Every value goes through the expression the loop's writers use, so the text is theirs."""

    def __init__(self, rule: model.Rule | None, d: ItemDecision | None, S: tuple[Any, Any, Any], steps: tuple[Any, ...] = ()) -> None:
        """`d`: the sample item of `rule`; None (and `rule` None): `write(steps, A, C, who, inapp)` writes a
        decision's standing steps like the sample `steps`, the items of the array only (None for another sequence)."""
        self.ns: dict[str, Any] = {
            **_STEPS_NAMES,
            "STEP": _step,
            "CAP": _cap,
            "AMOUNT": _amount,
            "SAID": _said,
            "HELD": ', "result": true',
            "NOT_HELD": "",
            "SCALARS": _scalars,
            "SYNC": _sync,
            "RULE": rule,
            "NO_FACTS": {},
        }
        steps = d.steps if d is not None else steps
        self.rule, self.S, self.sample = rule, (d.item.facts if d is not None else {}, S[1], S[2]), d
        self.tests: list[str] = []
        self.lines: list[str] = []
        self.facts: dict[tuple[int, str], str] = {}  # (space, name) -> the variable holding its text
        #: a cap's or limit's scope or counts (the expression reading it) -> the variable holding its text
        self.scoped: dict[str, str] = {}
        self.capped: set[int] = set()  # the steps written by `cap` (their values in c<i>_<k>, texts in c<i>_<x>t)
        self.needs_S = False
        # (the head first: its lines make the item's amount and asked texts, which the amount and cap steps reuse)
        head = self.head() if d is not None else ""
        pieces = [self.step(i, step) for i, step in enumerate(steps)]
        if d is None:
            code = ["def write(steps, A, C, who, inapp):", "    I = NO_FACTS"]
        else:
            fields = dec.ItemDecision._fields
            names = ["_"] * len(fields)
            for name in (
                "item",
                "grant",
                "status",
                "amount",
                "asked",
                "provisional",
                "reasons",
                "missing_facts",
                "missing_documents",
                "steps",
                "cut_by",
                "ceilings",
            ):
                names[fields.index(name)] = name
            code = ["def write(d, A, C, who, inapp, G):", f"    {', '.join(names)} = d"]
        if steps:
            code.append(f"    {', '.join(f's{i}' for i in range(len(steps)))}{',' if len(steps) == 1 else ''} = steps")
            code += [f"    if {' or '.join(self.tests)}:", "        return None"]
        if d is not None:
            code += ["    I = item.facts", "    iid, kind = item.id, item.type"] if steps else ["    iid, kind = item.id, item.type"]
        if self.needs_S:
            code.append("    S = (I, A, C)")
        code += self.lines
        if d is not None and d.grant is not None and type(d.grant.consumes) is tuple:
            code += self.grant(d.grant, steps)
        body = head + self.const(', "steps": [') + ", ".join(pieces) + "]}}" if d is not None else ", ".join(pieces)
        code.append('    return f"' + self.merged(body) + '"')
        exec(compile("\n".join(code) + "\n", "<decision json item>", "exec"), self.ns)  # noqa: S102 - see above
        self.write: Callable[..., str | None] = self.ns["write"]

    def money(self, expr: str) -> str:
        """The piece writing `'"' + format_money(expr) + '"'` (as `_money`), its quotes fixed text beside it."""
        return self.const('"') + "{" + _money_code(expr) + "}" + self.const('"')

    def sync(self) -> None:
        """Lines adding the cap uses of the earlier items' grants to `inapp` (`_sync`) before a step that reads it:
        an item writer's only (a decision's standing steps are written before any item, with no grant to add)."""
        if self.sample is not None:
            self.lines += ["    if G[9] < len(G[8]):", "        SYNC(G, inapp)"]

    def money_of(self, expr: str, item_field: str) -> str:
        """`money(expr)`, first tested to be (by identity) the item's `amount` or `asked` decimal, whose text the
        head made (`amount_text`, `asked_text`: the same object writes the same text). An item writer's only."""
        if self.sample is None:
            return self.money(expr)
        return self.const('"') + f"{{({item_field}_text if {expr} is {item_field} else {_money_code(expr)})}}" + self.const('"')

    def merged(self, body: str) -> str:
        """The f-string `body` with each run of fixed text (its literal text and `{K..}` constants) made one
        constant: fewer pieces for the f-string to join. The expressions here hold no braces, so a `{` that is not
        `{{` opens an expression up to the next `}`."""
        out: list[str] = []
        run: list[str] = []
        i = 0
        while i < len(body):
            c = body[i]
            if c in "{}" and body[i : i + 2] in ("{{", "}}"):
                run.append(c)
                i += 2
            elif c == "{":
                end = body.index("}", i)
                expr = body[i + 1 : end]
                if expr.startswith("K") and expr[1:].isdigit():
                    run.append(self.ns[expr])
                else:
                    if run:
                        out.append(self.const("".join(run)))
                        run = []
                    out.append(body[i : end + 1])
                i = end + 1
            else:
                run.append(c)
                i += 1
        if run:
            out.append(self.const("".join(run)))
        return "".join(out)

    def head(self) -> str:
        """The item's keys before its steps, as `_item_by_steps` writes them."""
        f = _RULES(self.rule)
        self.ns |= {
            "STATUS": _STATUS,
            "REASONS": _reasons,
            "CITES": _item_cites,
            "TAIL": _item_tail,
            "TAILED": _TAILED,
            "OTHER_STATUS": _other_status,
            "ONE_REASON": _one_reason,
        }
        # the item's type: the sample's text when it is the sample's (the intake keeps the policy's type names);
        # the asked amount's text is the amount's when it is the same decimal (granted in full)
        assert self.sample is not None
        sample_kind = self.sample.item.type
        ks, kt = self.const(sample_kind)[1:-1], self.const(_s(sample_kind) if type(sample_kind) is str else _raw(sample_kind))[1:-1]
        self.lines += [
            f"    kind_text = {kt} if kind is {ks} else (STR(kind) if type(kind) is str else RAW(kind))",
            f"    amount_text = {_money_code('amount')}",
            f"    asked_text = amount_text if asked is amount else {_money_code('asked')}",
        ]
        self.lines.append("    iid_text = STR(iid) if type(iid) is str else RAW(iid)")
        out = self.const('{"item": ') + "{iid_text}" + self.const(', "type": ')
        out += "{kind_text}" + self.const(f.a) + "{(STATUS.get(status) or OTHER_STATUS(status))}"
        out += self.const('"') + "{amount_text}" + self.const('", "asked": "') + "{asked_text}" + self.const('", "cites": ')
        # the clauses and reasons: an item with one ground and nothing cut or missing by the ground's identity (the
        # clauses are then the rule's and the ground's: `_item_cites`), kept in the writer (it has one rule)
        b, cb, kept = self.const(f.b)[1:-1], self.const(f.c + f.b)[1:-1], self.const({})[1:-1]
        self.lines += [
            "    if reasons:",
            "        if len(reasons) == 1 and not cut_by and not missing_documents:",
            "            r = reasons[0]",
            f"            e = {kept}.get(id(r))",
            f"            mid = e[1] if e is not None and e[0] is r else ONE_REASON(d, r, {b}, {kept})",
            "        else:",
            f"            mid = CITES(d) + {b} + REASONS(reasons)",
            "    elif cut_by or missing_documents:",
            f"        mid = CITES(d) + {b}",
            "    else:",
            f"        mid = {cb}",
        ]
        out += "{mid}]"
        tailed = "provisional is not None or missing_facts or missing_documents or status in TAILED or ceilings"
        return out + "{(TAIL(d, inapp, G) if " + tailed + " else '')}"

    def const(self, value: Any) -> str:
        """`{K..}`: a constant of the writer, as an f-string piece."""
        name = f"K{len(self.ns)}"
        self.ns[name] = value
        return "{" + name + "}"

    def fact(self, space: int, name: str) -> str:
        """`{x<k>}`: the f-string piece of a fact's text, read once into `v<k>` and written once into `x<k>`."""
        var = self.facts.get((space, name))
        if var is None:
            var = self.facts[(space, name)] = f"x{len(self.facts)}"
            v = "v" + var[1:]
            sample = self.S[space].get(name)
            self.lines.append(f"    {v} = {'IAC'[space]}.get({self.const(name)[1:-1]})")
            if type(sample) is tuple:  # (a list fact: its text kept by the tuple, `_FACT_TUPLES`)
                self.lines += [
                    f"    if type({v}) is tuple:",
                    "        try:",
                    f"            {var} = TUPLES[{v}]",
                    "        except TypeError:",
                    f"            {var} = FACT({v})",
                    "    else:",
                    f"        {var} = {_value(v, None)}",
                ]
            elif type(sample) is int:  # (the f-string formats a whole number as `int.__repr__` does)
                self.lines.append(f"    {var} = {v} if type({v}) is int else {_value(v, None)}")
            else:
                self.lines.append(f"    {var} = {_value(v, sample)}")
        return "{" + var + "}"

    def facts_object(self, parts: tuple[tuple[str, int, str], ...]) -> str:
        if not parts:
            return "{{}}"
        return (
            "".join(self.const(("{" if k == 0 else ", ") + key) + self.fact(space, name) for k, (key, space, name) in enumerate(parts))
            + "}}"
        )

    def scope(self, var: str, sample: Any) -> str:
        """`_list(var)` (a scope or counts tuple), the entries inline for a tuple of the sample's length."""
        if type(sample) is not tuple or not 0 < len(sample) <= 4:
            return "{LIST(" + var + ")}"
        y = f"y{len(self.lines)}"
        names = [f"{y}_{k}" for k in range(len(sample))]
        entries = " + ', ' + ".join(_value(e, x) for e, x in zip(names, sample, strict=True))
        self.lines.append(f"    {y} = {var}")
        self.lines.append(f"    if type({y}) is tuple and len({y}) == {len(sample)}:")
        self.lines.append(f"        {', '.join(names)}{',' if len(names) == 1 else ''} = {y}")
        self.lines.append(f"        {y} = '[' + {entries} + ']'")
        self.lines.append("    else:")
        self.lines.append(f"        {y} = LIST({y})")
        self.scoped[var] = y
        return "{" + y + "}"

    def grant(self, sample: Grant, steps: tuple[Any, ...]) -> list[str]:  # long because: one generated block, its parts in order
        """Lines setting `G[5]` to the text of the item's grant (as `_GrantWriter` writes it) when the grant is of
        the decision's claim, applicant and year (`G[0:3]`, by identity, as `decision_json` tests them) and consumes
        what the sample's grant consumes (the same number of entries, each's kind and id tested by `_same`); else
        `G[5]` is left as it is (None: `decision_json` writes the grant). The item's id and amount texts are reused
        when the grant's are the item's (identity); a scope or counts entry that is (identity) the tuple a cap or
        limit step of the item wrote is written by that step's text when each entry is a text or a whole number
        as in the sample (then `_fact` and `_scalars` write it alike), a cap's amount that is the cap step's
        granted decimal by its text; any other value as `_GrantWriter` writes it. `G`: the decision's claim id,
        applicant id, year, the grants' head and tail texts, the slot, the claim's and the applicant's id texts."""
        consumes = sample.consumes
        n = len(consumes)
        rid = self.const(sample.rule)[1:-1]
        rule_test = f"{rid} is g_r or type(g_r) is str and g_r == {rid}" if type(sample.rule) is str else f"g_r is {rid}"
        lines = [
            "    if grant is not None:",
            "        g_c, g_i, g_r, g_a, g_y, g_am, g_cs = grant",
            f"        if g_c is G[0] and g_a is G[1] and g_y is G[2] and ({rule_test}) and type(g_cs) is tuple and len(g_cs) == {n}:",
            "            g_it = iid_text if g_i is iid else (STR(g_i) if type(g_i) is str else RAW(g_i))",
        ]
        known = ((sample[0], "g_c", "G[6]"), (sample[1], "g_i", "g_it"), (sample[3], "g_a", "G[7]"))
        tests: list[str] = []
        inner: list[str] = []
        am = f"{{(amount_text if g_am is amount else {_money_code('g_am')})}}"
        q = self.const('"')
        body = "{G[3]}{g_it}" + self.const(', "rule": ' + _raw(sample.rule)) + "{G[4]}" + q + am + q
        body += self.const(', "consumes": [')
        for j, (kind, cid, scope, _, counts) in enumerate(consumes):
            k, i, sc, cam, cn = (f"g{j}_{x}" for x in ("k", "i", "sc", "am", "cn"))
            lines.append(f"            {k}, {i}, {sc}, {cam}, {cn} = g_cs[{j}]")
            tests += [_same(k, self.const(kind)[1:-1], kind), _same(i, self.const(cid)[1:-1], cid)]
            # the step of the sample that wrote this scope (and counts): its index, if any
            at = next((x for x, st in enumerate(steps) if (kind == "limit" or x in self.capped) and st[0] == kind and st[2] is scope), None)
            piece = ("{" if j == 0 else ", {") + _s(kind) + ": " + (_s(cid) if type(cid) is str else _raw(cid)) + ', "scope": '
            body += self.const(piece) + "{" + self.reused(sc, scope, f"c{at}_0" if kind == "cap" else f"s{at}[2]", at, inner, known) + "}"
            if kind == "limit":
                inner.append(f"    {cn} = {cn} or ()")
                body += self.const(', "counts": ') + "{" + self.reused(cn, counts or (), f"s{at}[4]", at, inner, known) + "}}}"
            else:
                text = f"(c{at}_gt if {cam} is c{at}_3 else {_money_code(cam)})" if at is not None else _money_code(cam)
                body += self.const(', "amount": "') + "{" + text + "}" + self.const('"}')
        lines.append(f"            if not ({' or '.join(tests)}):" if tests else "            if True:")
        lines += ["            " + x for x in inner]
        lines.append('                G[5] = f"' + self.merged(body + "]}}") + '"')
        return lines

    def reused(self, var: str, sample: Any, step_expr: str, at: int | None, lines: list[str], known: tuple[Any, ...]) -> str:
        """The variable holding `_scalars(var)` (lines into `lines`, indented as at the top): the text of the step
        value `step_expr` when `var` is it (identity) and a tuple of the sample's length whose entries have the
        sample's types, each a text or a whole number (as `_fact` writes them, `_scalars` writes them too);
        else as `_scalars_code` writes it."""
        own: list[str] = []
        y = _scalars_code(var, sample, own, known)
        text = self.scoped.get(step_expr) if at is not None else None
        if text is None or type(sample) is not tuple or not all(type(x) in (str, int) for x in sample):
            lines += own
            return y
        types = " and ".join(f"type({var}[{k}]) is {'STRT' if type(x) is str else 'INTT'}" for k, x in enumerate(sample))
        lines.append(f"    if {var} is {step_expr} and type({var}) is tuple and len({var}) == {len(sample)} and {types}:")
        lines.append(f"        {y} = {text}")
        lines.append("    else:")
        lines += ["    " + x for x in own]
        return y

    def check(self, s: str, obj: model.Test, step: tuple[Any, ...], same: str) -> str:
        """A check step's text: its end fixed as the sample's when the step is the sample's own tuple. A check that
        names readings by a condition (`readings_when`): its end without the closing brace, then the readings it
        names on this item and the brace (as `_naming` writes them)."""
        f = _CHECKS(obj)
        assert f.facts is not None
        cut = 1 if obj.shows or obj.readings_when or obj.applies is not None else 0
        c, d, b = (self.const(x[: len(x) - cut])[1:-1] for x in (f.c, f.d, f.b))
        held = self.const(
            (f.c if step[3] is None and step[2] is True else f.d if step[3] is None and step[2] is False else _check_end(step, f.b))[
                : -cut or None
            ]
        )
        end = f"{{({held[1:-1]} if {s} is {same} else {c} if {s}[3] is None and {s}[2] is True else {d} if {s}[3] is None and {s}[2] is False else CEND({s}, {b}))}}"
        if not cut:
            return self.const(f.a) + self.facts_object(f.facts.parts) + end
        self.needs_S = True
        result = f"({s}[2] is True and not {s}[3])"  # (`_said` reads whether it held from the end's text)
        said = f"{{SAID({self.const(obj)[1:-1]}, S, HELD if {result} else NOT_HELD)}}"
        return self.const(f.a) + self.facts_object(f.facts.parts) + end + said + self.const("}")

    def step(self, i: int, step: tuple[Any, ...]) -> str:
        kind, obj, s = step[0], step[1], f"s{i}"
        test = f"{s}[0] != {self.const(kind)[1:-1]} or {s}[1] is not {self.const(obj)[1:-1]}"
        if kind == "check" or (kind == "who" and obj is self.rule):
            # a check's and a who step's tuple is mostly one of the rule code's constants (held / failed): the sample
            # step itself (a tuple, immutable, held here) is tested first by identity, and its end is then fixed text
            same = self.const(step)[1:-1]
            self.tests.append(f"({s} is not {same} and ({test}))")
        else:
            self.tests.append(test)
        if kind == "check":
            return self.check(s, obj, step, same)
        if kind == "who" and obj is self.rule:
            fixed = self.const(_RESULT_END[step[2]] if step[2] is True or step[2] is False else _result_end(step[2]))[1:-1]
            return (
                self.const(_WHO(obj).a)
                + f"{{who}}{{({fixed} if {s} is {same} else RT if {s}[2] is True else RF if {s}[2] is False else RESEND({s}[2]))}}"
            )
        if kind == "documents":
            f = _DOCUMENTS(obj)
            cites = f"(STR({s}[4]) if type({s}[4]) is str else RAW({s}[4]))"
            required = f"STRS({s}[2])"
            # the clause and the required documents are mostly the rule code's constants: the sample's value (a text,
            # or a tuple of texts: immutable, held here) tested by identity first, its text fixed
            if type(step[4]) is str:
                cites = f"({self.const(_s(step[4]))[1:-1]} if {s}[4] is {self.const(step[4])[1:-1]} else {cites})"
            if type(step[2]) is tuple and all(type(x) is str for x in step[2]):
                required = f"({self.const(_strings(step[2]))[1:-1]} if {s}[2] is {self.const(step[2])[1:-1]} else {required})"
            missing = f"{{(STRS({s}[3]) + MISS_SOME if {s}[3] else MISS_NONE)}}"
            return (
                self.const(f.a)
                + "{"
                + cites
                + "}"
                + self.const(', "required": ')
                + "{"
                + required
                + "}"
                + self.const(', "missing": ')
                + missing
                + self.const(f.b)
            )
        if kind == "limit":
            f = _LIMITS(obj)
            # (`_step`'s limit text: the uses as whole numbers and a bool's keys without a call, any other by it)
            u, c, ok = f"u{i}", f"{s}[5]", f"{s}[6]"
            self.lines.append(f"    {u} = {s}[3]")
            self.lines.append(f"    {u}_after = {u} if ({c} or not {ok}) else {u} + 1")
            used = f"{{({u} if type({u}) is int else RAW({u}))}}"  # (the f-string formats a whole number as `int.__repr__`)
            after = f"{{({u}_after if type({u}_after) is int else RAW({u}_after))}}"
            counted = f"{{(COUNTED_BOOL[1] if {c} is True else COUNTED_BOOL[0] if {c} is False else COUNTED({c}))}}"
            out = self.const(f.a + f.b) + self.scope(f"{s}[2]", step[2]) + self.const(f.c) + used + self.const(', "counts": ')
            return (
                out
                + self.scope(f"{s}[4]", step[4])
                + counted
                + after
                + f"{{((RT if {ok} is True else RF if {ok} is False else RESEND({ok})) if not {s}[7] else USED_BY({ok}, {s}[7]))}}"
            )
        if kind == "amount" and self.rule is not None:
            return self.amount(obj, s, step)
        if kind == "cap" and obj.computed is None:
            return self.cap(obj, i, step)
        self.needs_S = True
        self.sync()  # (a step written by `_cap` or `_step` may read `inapp`)
        if kind == "cap":
            return f"{{CAP({s}, S, inapp)}}"
        return f"{{STEP({s}, RULE, S, who, inapp)}}"

    def amount(self, form: Any, s: str, step: tuple[Any, ...]) -> str:
        """A fixed amount or a simple rate, table or external form inline (as `_amount` writes them), any other
        form by `_amount`."""
        t = type(form)
        # (the amount step's value is mostly the item's asked decimal itself: its text)
        head = self.const('{"step": "amount", "form": ' + _s(form.kind) + ', "value": ') + self.money_of(f"{s}[3]", "asked")
        end = self.const(_RULES(self.rule).d)
        if t is model.FixedAmount:
            return head + end
        if (
            (t is model.RateAmount and form.rate_table is None and form.of_table is None)
            or t is model.TableAmount
            or t is model.ExternalAmount
        ):
            f = _AMOUNTS(form)
            # (`_value` is `_fact`'s text, which is `_jv`'s: the sample's type first -- a decimal base, a table's key)
            detail = _value(f"{s}[2]", step[2])
            for space, name in ((space, name) for _, space, name in (f.facts.parts if f.facts is not None else ())):
                if step[2] is self.S[space].get(name):  # a rate's base that is a fact as read (the same object): its text
                    x = self.fact(space, name)[1:-1]
                    detail = f"({x} if {s}[2] is v{x[1:]} else {detail})"
                    break
            out = head + self.const(f.a) + "{" + detail + "}" + self.const(f.b)
            if f.facts is not None:
                out += self.const(', "facts": ') + self.facts_object(f.facts.parts)
            return out + self.const(f.c) + end
        self.needs_S = True
        return f"{{AMOUNT({s}, RULE, S)}}"

    def cap(self, cap: model.Cap, i: int, step: tuple[Any, ...]) -> str:
        """A cap step with a fixed ceiling, as `_cap` writes it (the money through the same text cache). The texts
        are made once each and reused where the value is the same decimal or, for a zero addend, the same money
        text: the asked decimal is the item's (its text), the granted one mostly the item's amount, the ceiling
        mostly the sample's (a constant of the policy); with no use before (`not u`: a zero of either sign), the
        use after writes the granted text and the room before the ceiling's when that text has no sign (x + 0 and
        x - 0 are x but for the sign of a zero and the exponent, which `format_money`'s quantize to the cent
        removes: a sign is only at stake when that text starts with "-", and then the sum is made); granted that
        is asked leaves nothing reduced ("0.00": x - x is +0); no use in the application (`inapp`'s default, the
        `ZERO` object) writes "0.00" and the use by history as the use before."""
        f = _CAPS(cap)
        self.capped.add(i)
        sc, u, a, g, ce = (f"c{i}_{k}" for k in range(5))
        ut, at, gt, cet = (f"c{i}_{k}t" for k in ("u", "a", "g", "ce"))
        self.lines.append(f"    _, _, {sc}, {u}, {a}, {g}, {ce}, _, _ = s{i}")
        self.lines.append(f"    {ut} = {_money_code(u)}")
        item = self.sample is not None
        self.lines.append(f"    {at} = {f'asked_text if {a} is asked else ' if item else ''}{_money_code(a)}")
        self.lines.append(f"    {gt} = {f'amount_text if {g} is amount else ' if item else ''}{_money_code(g)}")
        cet_code = _money_code(ce)
        if type(step[6]) is Decimal:
            cet_code = f"{self.const(_money(step[6])[1:-1])[1:-1]} if {ce} is {self.const(step[6])[1:-1]} else {cet_code}"
        self.lines.append(f"    {cet} = {cet_code}")
        zero, q = self.const("0.00"), self.const('"')
        out = self.const(f.a + f.b) + (self.scope(sc, step[2]) if cap.per is not None else self.const('"item"'))
        out += self.const(', "ceiling": "') + "{" + cet + "}" + self.const('", "used_before": "') + "{" + ut + "}"
        out += self.const('", "asked": "') + "{" + at + "}" + self.const('", "granted": "') + "{" + gt + "}"
        out += self.const('", "used_after": "') + f"{{({gt} if not {u} and {gt}[0] != MINUS else {_money_code(f'{u} + {g}')})}}"
        out += self.const('", "remaining_before": "')
        out += f"{{({cet} if not {u} and {cet}[0] != MINUS else {_money_code(f'max({ce} - {u}, ZERO)')})}}"
        out += self.const('", "remaining_after": ') + self.money(f"max({ce} - {u} - {g}, ZERO)")
        out += self.const(', "reduced_by": ') + q + f"{{({zero[1:-1]} if {g} is {a} else {_money_code(f'{a} - {g}')})}}" + q
        out += f"{{BITES[{g} < {a}]}}"
        if cap.per is not None:
            self.sync()
            self.lines.append(f"    m{i} = inapp.get(({self.const(cap.id)[1:-1]}, {sc}), ZERO)")
            out += self.const(', "used_in_application": "') + f"{{({zero[1:-1]} if m{i} is ZERO else {_money_code(f'm{i}')})}}"
            out += self.const('", "used_by_history": "') + f"{{({ut} if m{i} is ZERO else {_money_code(f'{u} - m{i}')})}}" + q
            return out + f"{{(CLOSE if not s{i}[8] else SPENT_BY(s{i}[8]))}}"
        return out + "}}"


def _reason(r: dec.Reason) -> str:
    """A reason's text, kept by the reason's identity (a rule's reasons are constants of its compiled code: the
    same objects item after item, and hashing a reason hashes its four fields and its says text), the reason held
    in the entry so that its id cannot be reused while kept; else by the reason itself (an immutable value: equal
    reasons write the same text)."""
    e = _REASON_IDS.get(id(r))
    if e is not None and e[0] is r:
        return e[1]
    if len(_REASON_IDS) >= _CACHE_LIMIT:
        _REASON_IDS.clear()
    text = _REASONS[r]
    _REASON_IDS[id(r)] = (r, text)
    return text


def _one_reason(d: ItemDecision, r: dec.Reason, b: str, kept: dict[int, tuple[dec.Reason, str]]) -> str:
    """The clauses (`d.cites`), `b` and the reasons of an item of one rule with the one ground `r` and nothing cut or
    missing, kept in `kept` (one rule's) by the ground's identity, the ground held in the entry."""
    if len(kept) >= _REASONS_PER_RULE:
        kept.clear()
    text = _strings_of(d.cites) + b + _reason(r)
    kept[id(r)] = (r, text)
    return text


#: the texts `_one_reason` keeps per generated item writer (a rule's grounds: constants of its compiled code)
_REASONS_PER_RULE = 256


def _reasons(reasons: tuple[dec.Reason, ...]) -> str:
    """The reasons array's entries."""
    if len(reasons) == 1:
        return _reason(reasons[0])
    return ", ".join([_reason(r) for r in reasons])


_REASON_IDS: dict[int, tuple[dec.Reason, str]] = {}


def _item_cites(d: ItemDecision) -> str:
    """`_strings(d.cites)` of an item with a ground, a cut or a missing document. `ItemDecision.cites` is the rule's
    clause, then each ground's, each cut's, and the documents clause when documents are missing: with one ground and
    nothing cut or missing, a function of the rule and that reason, so its text is kept by their identities (both
    held in the entry; a rule's reasons are constants of its compiled code)."""
    reasons = d[6]
    if len(reasons) == 1 and not d.cut_by and not d[8]:
        r, rule = reasons[0], d[1]
        e = _CITES_IDS.get(id(r))
        if e is not None and e[0] is r and e[1] is rule:
            return e[2]
        if len(_CITES_IDS) >= _CACHE_LIMIT:
            _CITES_IDS.clear()
        text = _strings_of(d.cites)
        _CITES_IDS[id(r)] = (r, rule, text)
        return text
    return _strings_of(d.cites)


_CITES_IDS: dict[int, tuple[dec.Reason, model.Rule, str]] = {}


def _reason_text(r: dec.Reason) -> str:
    return '{"category": ' + _s(r.category) + ', "check": ' + _s(r.check) + ', "cites": ' + _s(r.cites) + ', "says": ' + _text(r.says) + "}"


_REASONS = _Texts(_reason_text)


def _rule_frag(rule: model.Rule) -> _Fragments:
    """a: up to the status; b: after the cites, up to the reasons; c: the cites of an item the rule alone decided;
    d: the end of an amount step (the rule's clause)."""
    f = _Fragments(rule, ', "rule": ' + _s(rule.id) + ', "status": ', ', "readings": ' + _strings(rule.readings) + ', "reasons": [')
    f.c = _strings((rule.cites,))
    f.d = ', "cites": ' + _s(rule.cites) + "}"
    return f


_RULES = _Cache(_rule_frag)
#: a status and the key after it
_STATUS = {s: _s(s) + ', "amount": ' for s in dec.STATUSES}


def _item(d: ItemDecision, f: _Fragments, S: tuple[Any, Any, Any], who: str, inapp: dict[tuple[str, Any], Decimal], G: list[Any]) -> str:
    """An item's text when none of its rule's writers for its number of steps takes it (`decision_json` tries
    them): a new generated writer for its sequence, or past the bound its steps one by one."""
    write = _new_writer(f.steps, len(d[9]), lambda: _ItemWriter(d[1], d, S).write)
    out: str | None = write(d, S[1], S[2], who, inapp, G) if write is not None else None
    if out is not None:
        return out
    if G[9] < len(G[8]):
        _sync(G, inapp)
    return _item_by_steps(d, f, S, who, inapp, G)


def _sync(G: list[Any], inapp: dict[tuple[str, Any], Decimal]) -> None:
    """Each cap's use by the grants of the earlier items of the application (what a cap step writes as its use in
    the application), added to `inapp` when a cap step (or a step written by `_step`) is to be written: the grants
    `decision_json` has seen (`G[8]`) past those already added (`G[9]`)."""
    grants = G[8]
    for grant in grants[G[9] :]:
        for kind, cid, scope, amount, _ in grant[6]:  # (the fields asserted below, at `_grants`)
            if kind == "cap":
                key = (cid, scope)
                inapp[key] = inapp.get(key, _ZERO) + amount
    G[9] = len(grants)


def _item_by_steps(
    d: ItemDecision, f: _Fragments, S: tuple[Any, Any, Any], who: str, inapp: dict[tuple[str, Any], Decimal], G: list[Any]
) -> str:
    """An item's text with its steps written one by one (a step sequence without a generated writer)."""
    item, rule, status, amount, asked, provisional, reasons, missing_facts, missing_documents, steps = d[:10]
    iid, kind = item.id, item.type
    out = '{"item": ' + (_s(iid) if type(iid) is str else _raw(iid)) + ', "type": ' + (_s(kind) if type(kind) is str else _raw(kind))
    out += f.a + (_STATUS.get(status) or _other_status(status)) + _money(amount) + ', "asked": ' + _money(asked)
    # the cites of an item with no ground, cut or missing document are the rule's own (`ItemDecision.cites`)
    out += ', "cites": ' + (_item_cites(d) if (reasons or d.cut_by or missing_documents) else f.c) + f.b
    if reasons:
        out += _reasons(reasons)
    out += "]"
    if provisional is not None or missing_facts or missing_documents or status in _TAILED or d[13]:
        out += _item_tail(d, inapp, G)
    S = (item.facts, S[1], S[2])
    return out + ', "steps": [' + _loop(steps, rule, S, who, inapp) + "]}"


def _other_status(status: Any) -> str:
    return _s(status) + ', "amount": '


#: the statuses whose item has more keys after its reasons (`_item_tail`)
_TAILED = frozenset({"referred", "pending_review"})


def _item_tail(d: ItemDecision, inapp: dict[tuple[str, Any], Decimal], G: list[Any]) -> str:
    """The keys of an item after its reasons that only some items have (the lists of missing facts and documents
    through the tuple cache, a rule's referral and what its panel decides kept per rule, `_STATUS_TAILS`; a pending
    item's ceilings, each with the room used before it: the application's use through `_sync`; and those of an item
    refused because one of them had no room left, without what the panel decides: no panel decides it)."""
    rule, status, provisional, missing_facts, missing_documents = d[1], d[2], d[5], d[7], d[8]
    out = ""
    if provisional is not None:
        out += ', "provisional_amount": ' + _money(provisional)
    if missing_facts:
        out += ', "missing_facts": ' + _strings_of(missing_facts)
    if missing_documents:
        out += ', "missing_documents": ' + _strings_of(missing_documents)
    if status == "referred":
        out += _STATUS_TAILS(rule).a
    if status == "pending_review" or d.ceilings:  # (a refused item's too: `ItemDecision.ceilings`)
        if G[9] < len(G[8]):
            _sync(G, inapp)
        out += ', "ceilings": ' + _dumps([dec.pending_ceiling(cap, scope, used, inapp) for cap, scope, used in d.ceilings])
        if status == "pending_review":
            out += _STATUS_TAILS(rule).b
    return out


def _status_tails(rule: model.Rule) -> _Fragments:
    """a: a referred item's `referred_to` (none when the rule has no referral); b: what a pending item's panel
    decides. Both are the rule's alone: made once per rule."""
    referred = ', "referred_to": ' + _text(rule.referral) if rule.referral is not None else ""
    pending = ""
    if isinstance(rule.amount, model.ExternalAmount) and rule.amount.pending is not None:
        pending = ', "panel_decides": ' + _text(rule.amount.pending)
    return _Fragments(rule, referred, pending)


_STATUS_TAILS = _Cache(_status_tails)


def _new_writer(writers: dict[int, list[Any]], n: int, make: Callable[[], Any]) -> Any:
    """A new generated writer for a sequence of `n` steps that none of `writers` (by number of steps) takes, kept
    beside them while they number fewer than `_SHAPES_PER_RULE`; else None (the caller writes step by step)."""
    if sum(map(len, list(writers.values()))) >= _SHAPES_PER_RULE:  # (a copy: another thread may add a length)
        return None
    write = make()
    writers.setdefault(n, []).append(write)
    return write


def _loop(steps: tuple[Any, ...], rule: model.Rule, S: tuple[Any, Any, Any], who: str, inapp: dict[tuple[str, Any], Decimal]) -> str:
    """An item's steps written one by one (a sequence without a generated writer)."""
    texts = []
    checks = _CHECKS.entries
    for s in steps:
        if s[0] == "check" and s[3] is None and (s[2] is True or s[2] is False):  # the commonest step, inline
            test = s[1]
            f = checks.get(id(test))
            if f is None or f.obj is not test:
                f = _CHECKS(test)
            texts.append(f.write(S, f.c if s[2] else f.d))
        else:
            texts.append(_step(s, rule, S, who, inapp))
    return ", ".join(texts)


def _scalars(xs: Any) -> str:
    """`_strings` with text entries written without a call."""
    return "[" + ", ".join([_s(x) if type(x) is str else _raw(x) for x in xs]) + "]"


def _consumption(c: Any) -> str:
    kind, cid, scope, amount, counts = c
    out = "{" + _s(kind) + ": " + (_s(cid) if type(cid) is str else _raw(cid)) + ', "scope": ' + _scalars(scope)
    if kind == "limit":
        return out + ', "counts": ' + _scalars(counts or ()) + "}"
    return out + ', "amount": ' + _money(amount) + "}"


def _grant(g: Any, head: str, tail: str) -> str:
    """One grant's text after its claim (`head`) and with its applicant and year (`tail`), entry by entry."""
    _, item_id, rule, _, _, amount, consumes = g
    return (
        f'{head}{_s(item_id) if type(item_id) is str else _raw(item_id)}, "rule": {_s(rule) if type(rule) is str else _raw(rule)}'
        f'{tail}{_money(amount)}, "consumes": [{", ".join([_consumption(x) for x in consumes])}]}}'
    )


def _grants(grants: tuple[Any, ...]) -> str:
    """The grants array entry by entry (grants `decision_json` did not write beside their items): each grant's
    claim, applicant and year written once per run of grants that share them."""
    texts = []
    claim_id = applicant_id = year = None
    head = tail = ""
    for g in grants:
        c, a, y = g[0], g[3], g[4]
        if c is not claim_id or a is not applicant_id or y is not year:
            claim_id, applicant_id, year = c, a, y
            head = '{"claim_id": ' + _raw(c) + ', "item_id": '
            tail = ', "applicant_id": ' + _raw(a) + ', "funding_year": ' + _raw(y) + ', "amount": '
        texts.append(_grant(g, head, tail))
    return ", ".join(texts)


def _grant_text(g: Any, f: _Fragments, head: str, tail: str, claim_text: str, applicant_text: str) -> str:
    """A grant's text (of the decision's claim, applicant and year: `head`, `tail` and the texts are theirs) when
    none of its rule's generated writers (`f.grants`) takes it: a new one for its shape, or past the bound
    (`_SHAPES_PER_RULE`) entry by entry."""
    if len(f.grants) < _SHAPES_PER_RULE and type(g[6]) is tuple:
        write = _GrantWriter(g).write
        f.grants.append(write)
        text = write(g, head, tail, claim_text, applicant_text)
        if text is not None:
            return text
    return _grant(g, head, tail)


def _scalars_code(var: str, sample: Any, lines: list[str], known: tuple[tuple[Any, str, str], ...] = ()) -> str:
    """Lines computing `_scalars(var)` into a new variable (named after `var`), the entries inline for a tuple of
    the sample's length (1 to 4), any other value by `_scalars`; returns the variable's name. `known`: (a value of
    the sample's, the variable holding the writer's value, the one holding its text): an entry that is (by
    identity) that value in the sample is first tested against the writer's value (an entry that is it has its
    text)."""
    y = "t_" + var
    if type(sample) is not tuple or not 0 < len(sample) <= 4:
        lines.append(f"    {y} = SCALARS({var})")
        return y
    names = [f"{y}_{k}" for k in range(len(sample))]
    exprs = []
    for e, x in zip(names, sample, strict=True):
        expr = f"(STR({e}) if type({e}) is str else RAW({e}))"
        for value, obj, text in known:
            if x is value:
                expr = f"({text} if {e} is {obj} else {expr})"
                break
        exprs.append(expr)
    entries = " + ', ' + ".join(exprs)
    lines.append(f"    if type({var}) is tuple and len({var}) == {len(sample)}:")
    lines.append(f"        {', '.join(names)}{',' if len(names) == 1 else ''} = {var}")
    lines.append(f"        {y} = '[' + {entries} + ']'")
    lines.append("    else:")
    lines.append(f"        {y} = SCALARS({var})")
    return y


def _same(var: str, const: str, sample: Any) -> str:
    """The generated test that `var` is NOT the sample's value `const`: by identity, then for a text by equality
    (equal texts write the same text: a grant read back from a record has its own id texts), else by identity only."""
    if type(sample) is str:
        return f"({var} is not {const} and (type({var}) is not str or {var} != {const}))"
    return f"{var} is not {const}"


class _GrantWriter:
    """Generates `write(g, head, tail, claim_text, applicant_text)`: the text of a grant `g` of the sample's rule (its id, tested by `_same`)
    that consumes what the sample consumes (the same number of entries, each's kind and id tested by `_same`;
    anything else gives None: another writer or `_grant` writes it), as one f-string, the scope and counts entries
    inline for tuples of the sample's length. Generated code like `_ItemWriter`'s: the rule id, kinds, ids and
    their fragments are bound as constants (K..), never written into the source."""

    def __init__(self, sample: Any) -> None:
        ns: dict[str, Any] = {
            "STR": _s,
            "RAW": _raw,
            "SCALARS": _scalars,
            "MONEY": _MONEY_TEXT,
            "CENTS_MAX": _CENTS_MAX,
            "DOT": ".",
            "Q": '"',
        }
        consumes = sample[6]
        n = len(consumes) if type(consumes) is tuple else -1

        def const(value: Any) -> str:
            name = f"K{len(ns)}"
            ns[name] = value
            return name

        def money(expr: str) -> str:  # `_money(expr)`, as `_ItemWriter.money`
            return "{Q}{" + _money_code(expr) + "}{Q}"

        lines = ["def write(g, head, tail, claim_text, applicant_text):", "    c, iid, r, a, _, amount, consumes = g"]
        lines.append(f"    if type(consumes) is not tuple or len(consumes) != {n} or {_same('r', const(sample[2]), sample[2])}:")
        lines.append("        return None")
        lines.append("    item_text = STR(iid) if type(iid) is str else RAW(iid)")
        # the claim, item and applicant ids as scope or counts entries: their texts (the caller's are of g's own)
        known = ((sample[0], "c", "claim_text"), (sample[1], "iid", "item_text"), (sample[3], "a", "applicant_text"))
        body = "{head}{item_text}{" + const(', "rule": ' + _raw(sample[2])) + "}{tail}"  # (`_raw`: a rule id not a text too)
        body += money("amount") + "{" + const(', "consumes": [') + "}"
        for j, c in enumerate(consumes if n > 0 else ()):
            kind, cid, scope, _, counts = c
            k, i, sc, am, cn = (f"{x}{j}" for x in ("k", "i", "sc", "am", "cn"))
            lines.append(f"    {k}, {i}, {sc}, {am}, {cn} = consumes[{j}]")
            lines.append(f"    if {_same(k, const(kind), kind)} or {_same(i, const(cid), cid)}:")
            lines.append("        return None")
            piece = ("{" if j == 0 else ", {") + _s(kind) + ": " + (_s(cid) if type(cid) is str else _raw(cid)) + ', "scope": '
            body += "{" + const(piece) + "}{" + _scalars_code(sc, scope, lines, known) + "}"
            if kind == "limit":
                lines.append(f"    {cn} = {cn} or ()")
                body += "{" + const(', "counts": ') + "}{" + _scalars_code(cn, counts or (), lines, known) + "}}}"
            else:
                body += "{" + const(', "amount": ') + "}" + money(am) + "}}"
        lines.append('    return f"' + body + ']}}"')
        exec(compile("\n".join(lines) + "\n", "<decision json grant>", "exec"), ns)  # noqa: S102 - our own text, see above
        self.write: Callable[[Any, str, str, str, str], str | None] = ns["write"]


# the field order `_consumption` and `_grants` unpack
assert Grant._fields == ("claim_id", "item_id", "rule", "applicant_id", "funding_year", "amount", "consumes")
assert Consumption._fields == ("kind", "id", "scope", "amount", "counts")
assert dec.ItemDecision._fields[:6] == ("item", "rule", "status", "amount", "asked", "provisional")  # `decision_json`
assert dec.ItemDecision._fields[5:9] == ("provisional", "reasons", "missing_facts", "missing_documents")  # `_item_tail`
assert dec.ItemDecision._fields[9:] == ("steps", "grant", "documents_cites", "cut_by", "ceilings")
assert dec.STATUSES == ("granted", "reduced", "refused", "incomplete", "referred", "pending_review")  # `_totals`


class _PolicyParts:
    """A policy's head fragment, its articles' order (what `Decision.totals_by_article` sorts by) and its
    generated standing writers."""

    __slots__ = ("article_parts", "articles", "head", "header", "obj", "order", "standing")

    def __init__(self, p: model.CompiledPolicy) -> None:
        self.obj = p
        #: the claim facts the header shows (`policy.header_facts`): each one's key fragment and name (`_claim_facts`)
        self.header = tuple((_s(n) + ": ", n) for n in p.header_facts)
        if self.header:  # the first key's fragment opens the object
            self.header = ((', "claim_facts": {' + self.header[0][0], self.header[0][1]), *self.header[1:])
        #: the generated writers of the standing steps by their number (`_standing`)
        self.standing: dict[int, list[Callable[..., str | None]]] = {}
        self.head = '{"format": ' + _s(dec.DECISION_FORMAT) + ', "policy": {"id": ' + _s(p.id) + ', "version": ' + _s(p.version)
        self.head += ', "hash": ' + _s(p.content_hash) + ', "funding_years": {"from": ' + _raw(p.funding_years[0])
        self.head += ', "to": ' + _raw(p.funding_years[1]) + '}}, "claim_id": '
        self.order = {c.article: i for i, c in reversed(list(enumerate(p.clauses.values())))}
        #: a rule's clause -> its article (the clause itself when the table has no such clause), as `_totals` reads it
        self.articles = {cites: (c.article if (c := p.clauses.get(cites)) is not None else cites) for cites in {r.cites for r in p.rules}}
        #: an article's place in the order (`Decision.totals_by_article`'s sort key) and the head of its totals text
        self.article_parts = {
            a: (self.order.get(a, len(self.order)), _s(a) + ': {"items": ') for a in self.articles.values() if type(a) is str
        }


_POLICIES: dict[int, _PolicyParts] = {}


def _policy(p: model.CompiledPolicy) -> _PolicyParts:
    f = _POLICIES.get(id(p))
    if f is None or f.obj is not p:
        if len(_POLICIES) >= 64:
            _POLICIES.clear()
        f = _POLICIES[id(p)] = _PolicyParts(p)
    return f


_Z = '"0.00"'  # `_money(_ZERO)`
#: the sums and counts by status `decision_json` starts from (copied: a copy of a dict is cheaper than `fromkeys`)
_SUMS: dict[str, Decimal] = dict.fromkeys(dec.STATUSES, _ZERO)
_COUNTS: dict[str, int] = dict.fromkeys(dec.STATUSES, 0)
_OK, _REFUSED = '"ok"', '"refused"'  # a standing's result


def _totals(total: Decimal, sums: dict[str, Decimal], counts: dict[str, int], acc: dict[Any, list[Any]]) -> str:
    """`total`, `totals_by_status`, `counts_by_status` and `totals_by_article` from the sums `decision_json` makes
    in its pass over the items (an untouched sum written as the constant `_Z`); `acc`: per article (in the order
    the items first name them) its items, amount, provisional amount, place in the order and text head."""
    m = _money
    s0, s1, s2, s3, s4, s5 = sums.values()
    n0, n1, n2, n3, n4, n5 = counts.values()
    out = (
        f'"total": {m(total.quantize(_CENT))}, "totals_by_status": {{"granted": {_Z if s0 is _ZERO else m(s0)}, '
        f'"reduced": {_Z if s1 is _ZERO else m(s1)}, "refused": {_Z if s2 is _ZERO else m(s2)}, '
        f'"incomplete": {_Z if s3 is _ZERO else m(s3)}, "referred": {_Z if s4 is _ZERO else m(s4)}, '
        f'"pending_review": {_Z if s5 is _ZERO else m(s5)}}}, "counts_by_status": {{"granted": {n0}, '
        f'"reduced": {n1}, "refused": {n2}, "incomplete": {n3}, "referred": {n4}, "pending_review": {n5}}}, "totals_by_article": {{'
    )
    # (a stable sort by the place: articles at the same place stay in the order the items name them, as before)
    entries = sorted(acc.values(), key=_PLACE) if len(acc) > 1 else acc.values()
    return (
        out
        + ", ".join(
            [
                f'{head}{n}, "amount": {m(amount)}, "provisional": {_Z if prov is _ZERO else m(prov)}}}'
                for n, amount, prov, _, head in entries
            ]
        )
        + "}"
    )


_PLACE = itemgetter(3)


def _article_entry(article: Any, parts: _PolicyParts, amount: Decimal, provisional: Decimal | None) -> list[Any]:
    """A new `acc` entry of `decision_json` (an article the policy's rules do not name: its place and head made)."""
    known = parts.article_parts.get(article) if type(article) is str else None
    place, head = known if known is not None else (parts.order.get(article, len(parts.order)), _s(article) + ': {"items": ')
    return [1, _ZERO + amount, _ZERO + provisional if provisional else _ZERO, place, head]


def _standing(parts: _PolicyParts, steps: tuple[Any, ...], S: tuple[Any, Any, Any], who: str, inapp: dict[tuple[str, Any], Decimal]) -> str:
    """A decision's standing steps, by the policy's generated writer for their number (as an item's steps are; a
    check that shows values beside its facts, `shows:`, writes them as an item's check does: `_said`)."""
    for write in parts.standing.get(len(steps), ()):
        text = write(steps, S[1], S[2], who, inapp)
        if text is not None:
            return text
    write = _new_writer(parts.standing, len(steps), lambda: _ItemWriter(None, None, S, steps).write)
    text = write(steps, S[1], S[2], who, inapp) if write is not None else None
    return text if text is not None else ", ".join([_step(s, None, S, who, inapp) for s in steps])


def _claim_facts(parts: _PolicyParts, C: Any) -> str:
    """The decision's `claim_facts` (the facts its explanation's header shows), key and all; none: nothing."""
    header = parts.header
    if len(header) == 1:  # (the usual one, a date: its text kept)
        ((k, n),) = header
        v = C.get(n)
        return k + (_DATE_TEXT[v] if type(v) is date else _fact(v)) + "}"
    if not header:
        return ""
    return ", ".join([k + _fact(C.get(n)) for k, n in header]) + "}"  # (the first key's fragment opens the object)


def _who_text(key: tuple[Any, ...]) -> str:
    return _raw(key[0]) + ', "applicant_roles": ' + _strings(sorted(key[1:]))


#: the who part by (kind, *roles): a few kinds and sets of roles write every applicant's (kept for texts only)
_WHO_TEXTS = _TupleTexts(_who_text)


def _who(A: Any) -> str:
    """The applicant's part of a who step (its kind and roles): the same for every who step of a decision."""
    key = (A.get("kind"), *A.get("roles", ()))
    try:
        return _WHO_TEXTS[key]
    except TypeError:  # (an unhashable kind or role: written without the table)
        return _who_text(key)


@dec.in_engine_context
def decision_json(
    decision: Decision, end: str = ""
) -> str:  # long because: one pass over the items writes them, sums the totals and writes the grants
    """`json.dumps(decision.to_dict(), ensure_ascii=False)`, written from the trace tuples, then `end` (`to_json` gives its newline: no copy of the text to add it).

    One pass over the items: each item's text (its rule's generated writers, `_item`), the sums of the totals
    (those of `Decision`, but a zero addend, a zero amount or an absent or zero provisional amount, is not added: a sum starts at
    +0 and, rounding half even, never becomes -0, and x + 0 differs from x only in its exponent, which
    `format_money`'s quantize to the cent removes), and the text of the item's grant (written by the item's writer
    into `G[5]`, else by its rule's generated grant writers), used when the decision's grants are these grants, in this order (else `_grants`)."""
    p = decision.policy
    parts = _POLICIES.get(id(p))
    if parts is None or parts.obj is not p:
        parts = _policy(p)
    claim = decision.claim
    A, C = claim.applicant, claim.claim_facts
    claim_id, applicant_id, year = claim.claim_id, claim.applicant_id, claim.funding_year
    S: tuple[Any, Any, Any] = ({}, A, C)
    inapp: dict[tuple[str, Any], Decimal] = {}
    standing, reasons = decision.standing_steps, decision.standing_reasons
    who = _who(A) if standing else ""  # (an item's who step: made at the first item with steps)
    claim_text = _raw(claim_id)
    head = (
        f'{parts.head}{claim_text}, "applicant": {{"id": {_raw(A["id"])}, "name": {_raw(A.get("name"))}, '
        f'"kind": {_raw(A["kind"])}}}, "funding_year": {_raw(year)}{_claim_facts(parts, C) if parts.header else ""}, "standing": {{"result": '
        f'{_REFUSED if reasons else _OK}, "reasons": [{", ".join([_reason(r) for r in reasons])}], "steps": ['
        f'{_standing(parts, standing, S, who, inapp) if standing else ""}]}}, "items": ['
    )
    texts = []
    rules = _RULES.entries
    articles, clauses = parts.articles, p.clauses
    sums = _SUMS.copy()
    counts = _COUNTS.copy()
    total = _ZERO
    acc: dict[Any, list[Any]] = {}
    grants: list[Grant] = []
    grant_texts: list[str] = []
    applicant_text = _raw(applicant_id)
    grant_head = '{"claim_id": ' + claim_text + ', "item_id": '
    grant_tail = ', "applicant_id": ' + applicant_text + ', "funding_year": ' + _raw(year) + ', "amount": '
    #: what an item writer needs to write the item's grant (`_ItemWriter.grant`): [0] claim id, [1] applicant id,
    #: [2] year (the grant's tested to be these by identity), [3] `grant_head`, [4] `grant_tail`, [5] the slot the
    #: writer puts the grant's text into (taken and set back to None below), [6] `claim_text`, [7] `applicant_text`;
    #: and for `_sync`: [8] the grants so far, [9] how many of them `inapp` holds
    G: list[Any] = [claim_id, applicant_id, year, grant_head, grant_tail, None, claim_text, applicant_text, grants, 0]
    for d in decision.items:
        _, rule, status, amount, _, provisional, _, _, _, steps, grant, _, _, _ = d
        f = rules.get(id(rule))
        if f is None or f.obj is not rule:
            f = _RULES(rule)
        if steps and not who:
            who = _who(A)
        out = None
        for write in f.steps.get(len(steps), ()):
            out = write(d, A, C, who, inapp, G)
            if out is not None:
                break
        texts.append(out if out is not None else _item(d, f, S, who, inapp, G))
        counts[status] += 1
        if status in ("granted", "reduced"):
            if amount:
                total += amount
                sums[status] += amount
        else:
            if amount:  # (an amount of another status: none by the evaluator, but any is summed into the total)
                total += amount
            if provisional:
                sums[status] += provisional
        known = f.article
        if known[0] is p:
            article = known[1]
        else:
            cites = rule.cites
            article = articles.get(cites) if type(cites) is str else None
            if article is None:
                clause = clauses.get(cites)
                article = clause.article if clause is not None else cites
            f.article = (p, article)
        entry = acc.get(article)
        if entry is None:
            acc[article] = _article_entry(article, parts, amount, provisional)
        else:
            entry[0] += 1
            if amount:
                entry[1] += amount
            if provisional:
                entry[2] += provisional
        if grant is not None:
            grants.append(grant)
            text = G[5]
            if text is not None:  # (written by the item's writer)
                G[5] = None
                grant_texts.append(text)
            elif grant[0] is claim_id and grant[3] is applicant_id and grant[4] is year:
                for write in f.grants:
                    text = write(grant, grant_head, grant_tail, claim_text, applicant_text)
                    if text is not None:
                        break
                if text is None:
                    text = _grant_text(grant, f, grant_head, grant_tail, claim_text, applicant_text)
                grant_texts.append(text)
    totals = _totals(total, sums, counts, acc)
    given = decision.grants
    if len(grant_texts) == len(given) and all(map(is_, grants, given)):
        grants_text = ", ".join(grant_texts)
    else:
        grants_text = _grants(given)
    if len(texts) > 1:  # (one copy of the whole text: the head joins the first item, the rest the last one)
        texts[0] = head + texts[0]
        texts[-1] = f'{texts[-1]}], {totals}, "grants": [{grants_text}]}}{end}'
        return ", ".join(texts)
    return f'{head}{", ".join(texts)}], {totals}, "grants": [{grants_text}]}}{end}'
