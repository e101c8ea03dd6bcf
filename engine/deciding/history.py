"""Grants already made, and the running totals they imply.

A `Grant` records what one granted item consumed: for each cap its scope key
and amount, for each limit its scope key and what counted as one time. The
evaluator emits grants in exactly this form, the ledger stores them, and a
caller may pass them back with a claim as history -- one format all round.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from engine.core.errors import PathPart, Problem
from engine.core.i18n import msg
from engine.core.quantities import amount_slip, format_money

Key = tuple[Any, ...]
_ZERO = Decimal(0)


class Consumption(NamedTuple):  # immutable; a named tuple is several times cheaper to build than a frozen dataclass
    kind: str  # "cap" | "limit" | "subject"
    id: str
    scope: Key
    amount: Decimal = Decimal(0)  # caps and subjects
    counts: Key | None = None  # limits: what counted as one time

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {self.kind: self.id, "scope": list(self.scope)}
        if self.kind == "limit":
            out["counts"] = list(self.counts or ())
        else:
            out["amount"] = format_money(self.amount)
        return out


class Grant(NamedTuple):  # immutable; a named tuple is several times cheaper to build than a frozen dataclass
    claim_id: str
    item_id: str
    rule: str
    applicant_id: str
    funding_year: int
    amount: Decimal
    consumes: tuple[Consumption, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim_id": self.claim_id,
            "item_id": self.item_id,
            "rule": self.rule,
            "applicant_id": self.applicant_id,
            "funding_year": self.funding_year,
            "amount": format_money(self.amount),
            "consumes": [c.to_dict() for c in self.consumes],
        }


class EarlierUse(NamedTuple):
    """An earlier application whose grant counted towards a limit: a step whose limit refuses an item names them, so
    a reviewer sees whose use filled it (another applicant's claim to the same patent among them)."""

    claim_id: str
    funding_year: int
    applicant_id: str
    counted: int  # the countings its grants hold

    def to_dict(self) -> dict[str, Any]:
        return {"claim_id": self.claim_id, "funding_year": self.funding_year, "applicant_id": self.applicant_id, "counted": self.counted}


class EarlierAmount(NamedTuple):
    """An earlier application whose grants used a shared cap's room: a step whose cap cuts an item names them, so a
    reviewer sees whose grants took the room (`amount`: what they used of it)."""

    claim_id: str
    funding_year: int
    applicant_id: str
    amount: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim_id": self.claim_id,
            "funding_year": self.funding_year,
            "applicant_id": self.applicant_id,
            "amount": format_money(self.amount),
        }


_new = tuple.__new__  # (an EarlierUse built from its four fields at once, without the named tuple's own __new__)


def _by_year(entry: tuple[tuple[str, int, str], Any]) -> int:
    return entry[0][1]


#: a limit's or cap's step's earlier uses when it names none (the limit held or the cap did not cut; or only this
#: application's items had used it)
NO_EARLIER_USE: tuple[Any, ...] = ()


@dataclass(slots=True)
class Usage:
    """Running totals per scope: mutable, owned by one evaluation."""

    caps: dict[tuple[str, Key], Decimal] = field(default_factory=dict)
    limits: dict[tuple[str, Key], set[Key]] = field(default_factory=dict)
    subjects: dict[tuple[str, Key], Decimal] = field(default_factory=dict)
    #: the grant sequences folded in as history (the claim's own, then any given beside it), read back only by
    #: `counted_by` and `spent_by`
    history: tuple[Iterable[Grant], ...] = ()

    def counted_by(self, key: tuple[str, Key], counted: Collection[Key] | None = None) -> tuple[EarlierUse, ...]:
        """The earlier applications whose grants hold countings of the limit `key` (its id and scope) -- of `counted`
        alone when given (a consecutive limit's run of years) -- each once, by funding year. A pass over the history,
        made only for a limit used before the item (what a reviewer traces its count to)."""
        ident, scope = key
        found: dict[tuple[str, int, str], list[Key]] = {}
        for grants in self.history:
            for g in grants:
                for kind, cid, cscope, _, counts in g.consumes:
                    if cid == ident and cscope == scope and kind == "limit" and (counted is None or (counts or ()) in counted):
                        application = (g[0], g[4], g[3])  # claim id, funding year, applicant id
                        got = found.get(application)
                        if got is None:
                            found[application] = [counts or ()]
                        else:
                            got.append(counts or ())
        if not found:
            return NO_EARLIER_USE
        # by funding year (stable: the history's order within one); a counting twice in one application counts once
        ordered = sorted(found.items(), key=_by_year) if len(found) > 1 else found.items()
        return tuple([_new(EarlierUse, (*application, len(n) if len(n) == 1 else len(set(n)))) for application, n in ordered])

    def spent_by(self, key: tuple[str, Key]) -> tuple[EarlierAmount, ...]:
        """The earlier applications whose grants used the room of the cap `key` (its id and scope), with what each
        used, by funding year. A pass over the history, made only for a cap that cuts an item."""
        ident, scope = key
        found: dict[tuple[str, int, str], Decimal] = {}
        for grants in self.history:
            for g in grants:
                for kind, cid, cscope, amount, _ in g.consumes:
                    if cid == ident and cscope == scope and kind == "cap" and amount:
                        application = (g[0], g[4], g[3])  # claim id, funding year, applicant id
                        found[application] = found.get(application, _ZERO) + amount
        if not found:
            return NO_EARLIER_USE
        ordered = sorted(found.items(), key=_by_year) if len(found) > 1 else found.items()
        return tuple([_new(EarlierAmount, (*application, amount)) for application, amount in ordered])

    def add(self, grant: Grant) -> None:
        self.add_all((grant,))

    def add_all(self, grants: Iterable[Grant]) -> None:
        """`add` for each grant in turn (the same totals, in the same order), without a call per grant: a claim's
        history is folded in before every decision."""
        caps, limits, subjects = self.caps, self.limits, self.subjects
        for grant in grants:
            for kind, ident, scope, amount, counts in grant.consumes:
                if kind == "cap":
                    k = (ident, scope)
                    caps[k] = caps.get(k, _ZERO) + amount
                elif kind == "limit":
                    k = (ident, scope)
                    got = limits.get(k)
                    if got is None:
                        limits[k] = {counts or ()}
                    else:
                        got.add(counts or ())
                else:
                    k = (ident, scope)
                    subjects[k] = subjects.get(k, _ZERO) + amount

    @classmethod
    def of(cls, grants: Iterable[Grant]) -> Usage:
        usage = cls()
        if grants:
            usage.add_all(grants)
        return usage


def _money(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str):
        try:
            d = Decimal(value)
        except Exception:
            return None
        return d if d.is_finite() else None
    return None


def _scalar_key(values: Any) -> Key | None:
    if not isinstance(values, list | tuple):
        return None
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, str | int):
            return None
        out.append(v)
    return tuple(out)


def parse_grants(data: Any, path: tuple[PathPart, ...] = ()) -> tuple[tuple[Grant, ...], list[Problem]]:
    """Grants from their JSON form; every problem named by its path."""
    problems: list[Problem] = []
    if not isinstance(data, list):
        return (), [Problem(msg("claim.history.not_list"), path=path, code="history")]
    grants = []
    for i, g in enumerate(data):
        p = path + (i,)
        if not isinstance(g, Mapping):
            problems.append(Problem(msg("claim.history.not_object"), path=p, code="history"))
            continue
        missing = [k for k in ("claim_id", "item_id", "rule", "applicant_id", "funding_year", "amount") if k not in g]
        if missing:
            problems.append(
                Problem(
                    msg("claim.history.lacks", fields=missing),
                    path=p,
                    code="history",
                    expected=msg("claim.history.fields"),
                )
            )
            continue
        amount = _money(g["amount"])
        if amount is None or amount < 0:
            slip = amount_slip(g["amount"])  # 5万, 1,000, 8000元: said with the digits to write
            if slip is not None:
                problems.append(Problem(slip[0], path=p + ("amount",), code="history", expected=slip[1]))
            else:
                problems.append(Problem(msg("claim.money.not_amount", value=repr(g["amount"])), path=p + ("amount",), code="history"))
            continue
        consumes = []
        raw_consumes = g.get("consumes", [])
        if not isinstance(raw_consumes, list | tuple):
            problems.append(Problem(msg("claim.history.consumes_list"), path=p + ("consumes",), code="history"))
            continue
        for j, c in enumerate(raw_consumes):
            cp = p + ("consumes", j)
            kind = next((k for k in ("cap", "limit", "subject") if isinstance(c, Mapping) and k in c), None)
            scope = _scalar_key(c.get("scope")) if isinstance(c, Mapping) else None
            if kind is None or scope is None:
                problems.append(Problem(msg("claim.history.consumption"), path=cp, code="history"))
                continue
            if kind == "limit":
                counts = _scalar_key(c.get("counts", []))
                if counts is None:
                    problems.append(Problem(msg("claim.history.counts"), path=cp + ("counts",), code="history"))
                    continue
                consumes.append(Consumption("limit", str(c["limit"]), scope, counts=counts))
            else:
                camount = _money(c.get("amount"))
                if camount is None or camount < 0:
                    problems.append(Problem(msg("claim.history.cap_amount"), path=cp + ("amount",), code="history"))
                    continue
                consumes.append(Consumption(kind, str(c[kind]), scope, amount=camount))
        year = g["funding_year"]
        if isinstance(year, bool) or not isinstance(year, int):
            problems.append(Problem(msg("claim.history.year"), path=p + ("funding_year",), code="history"))
            continue
        grants.append(Grant(str(g["claim_id"]), str(g["item_id"]), str(g["rule"]), str(g["applicant_id"]), year, amount, tuple(consumes)))
    return tuple(grants), problems
