"""An applicant's statement from the ledger (`ledger statement`): each grant in force by funding year, claim and clause,
with what was returned of it; each cap's room and each limit's count as they stand; the reversals and findings on
record. What an auditor asks of one enterprise ("what did it receive under which clause, and what is left of its
caps?"), answered from the ledger alone in the reader's words, on the console or as a workbook.

The use of caps and limits is summed from the grants' own consumptions, each under the version that made it (its
ceiling, its words): the same figures the service's `GET /ledger/applicants/{id}` answers (`engine.service.app`
builds its JSON from `rooms`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.core.i18n import msg, tr
from engine.core.quantities import format_money
from engine.language.model import CompiledPolicy, FactSpec, Text
from engine.records.ledger import Ledger
from engine.records.tabular import XlsxOut

ZERO = Decimal(0)


@dataclass(frozen=True)
class GrantLine:
    """One grant in force: its funding year, claim, item, rule and clause, the item type's words (None: the version
    that made it is not among those given), the amount granted and what was returned of it."""

    funding_year: int
    claim_id: str
    item_id: str
    rule: str
    cites: str
    item_type: Text | None
    amount: Decimal
    returned: Decimal
    commit: int

    @property
    def net(self) -> Decimal:
        return self.amount - self.returned


@dataclass(frozen=True)
class Room:
    """A cap's or a limit's use in one scope: a cap's money used against its ceiling, a limit's distinct countings
    against its times. `ceiling` None: a computed ceiling, or a version not given (its words unknown too). Returned
    funds free nothing (a reversal keeps counting: docs/ledger-and-batch.md), so they are not taken off `used`."""

    kind: str  # "cap" | "limit"
    id: str
    scope: tuple[Any, ...]
    used: Decimal | int
    ceiling: Decimal | int | None
    says: Text | None
    cites: str | None
    consecutive: bool = False  # a limit of years in a row: `used` counts its years in all, `left` is not said
    counted: tuple[Any, ...] = ()  # a limit's distinct countings, in the order first counted
    #: each part of `scope` in words, its code after (`scope_words`); None for a part said as it is (a patent number)
    words: tuple[Text | None, ...] = ()

    @property
    def left(self) -> Decimal | int | None:
        if self.ceiling is None or self.consecutive:
            return None
        return max(self.ceiling - self.used, ZERO if self.kind == "cap" else 0)


@dataclass(frozen=True)
class Statement:
    applicant_id: str
    year: int | None  # the funding year the grant lines are of (None: every year); rooms are always as they stand
    grants: tuple[GrantLine, ...]
    rooms: tuple[Room, ...]
    reversals: tuple[Mapping[str, Any], ...]
    findings: tuple[Mapping[str, Any], ...]
    name: str | None = None  # the applicant's name as its latest decision on record gives it (None: none on record)
    applications: int = 0  # the applicant's applications on record (0 with no grant: the ledger has no record of it)
    replaced: int = 0  # its grants replaced by a later decision of their claim (not in force)

    @property
    def applicant(self) -> Text | str:
        """The applicant as the statement is headed: by its name, its id after (as a scope is said), else its id."""
        return named(self.name, self.applicant_id) if self.name else self.applicant_id

    @property
    def granted(self) -> Decimal:
        return sum((g.amount for g in self.grants), ZERO)

    @property
    def returned(self) -> Decimal:
        return sum((g.returned for g in self.grants), ZERO)

    @property
    def net(self) -> Decimal:
        return self.granted - self.returned


def rooms(grants: Iterable[Mapping[str, Any]], versions: Iterable[CompiledPolicy], names: Mapping[str, str] | None = None) -> list[Room]:
    """The caps and limits the grants (in their JSON form, as `Ledger.grants` gives them) used, in the order first
    used, each with its ceiling and words under the version that made the grant that last used it (`names`: an
    applicant's name by id, to say a scope of the applicant by it)."""
    by_hash = {p.content_hash: p for p in versions}
    caps: dict[tuple[str, str], dict[str, Any]] = {}
    limits: dict[tuple[str, str], dict[str, Any]] = {}
    # each version's caps and limits by id, made once a version (they were made again for every grant)
    cap_ids = {h: {c.id: (r, c) for r in p.rules for c in r.caps} for h, p in by_hash.items()}
    limit_ids = {h: {lim.id: (r, lim) for r in p.rules for lim in r.limits} for h, p in by_hash.items()}
    for g in grants:
        made_in = str(g.get("policy_hash", ""))
        made_by, cap_of, limit_of = by_hash.get(made_in), cap_ids.get(made_in, {}), limit_ids.get(made_in, {})
        for c in g["consumes"]:
            scope = tuple(c["scope"])
            key = json.dumps(c["scope"], ensure_ascii=False)
            if "cap" in c:
                entry = caps.setdefault((c["cap"], key), {"id": c["cap"], "scope": scope, "used": ZERO})
                entry["used"] += Decimal(c["amount"])
                rule, cap = cap_of.get(c["cap"], (None, None))
                if rule is not None and cap is not None and made_by is not None:
                    entry.update(ceiling=cap.ceiling if cap.computed is None else None, says=cap.says, cites=cap.cites)
                    entry.update(words=scope_words(made_by, rule.item_type, cap.per or (), scope, names or {}))
            elif "limit" in c:
                entry = limits.setdefault((c["limit"], key), {"id": c["limit"], "scope": scope, "counted": []})
                if c["counts"] not in entry["counted"]:
                    entry["counted"].append(c["counts"])
                rule, limit = limit_of.get(c["limit"], (None, None))
                if rule is not None and limit is not None and made_by is not None:
                    entry.update(ceiling=limit.times, says=limit.says, cites=limit.cites, consecutive=limit.consecutive)
                    entry.update(words=scope_words(made_by, rule.item_type, limit.per, scope, names or {}))
    return _rooms_of(caps, limits)


def _rooms_of(caps: Mapping[Any, Mapping[str, Any]], limits: Mapping[Any, Mapping[str, Any]]) -> list[Room]:
    out = [
        Room("cap", e["id"], e["scope"], e["used"], e.get("ceiling"), e.get("says"), e.get("cites"), words=e.get("words", ()))
        for e in caps.values()
    ]
    out += [
        Room(
            "limit",
            e["id"],
            e["scope"],
            len(e["counted"]),
            e.get("ceiling"),
            e.get("says"),
            e.get("cites"),
            e.get("consecutive", False),
            tuple(e["counted"]),
            e.get("words", ()),
        )
        for e in limits.values()
    ]
    return out


def scope_words(
    policy: CompiledPolicy, item_type: str, per: Sequence[Any], scope: Sequence[Any], names: Mapping[str, str]
) -> tuple[Text | None, ...]:
    """Each part of a cap's or limit's scope in words, its code after, where the part is one fact that has words:
    the applicant's id by the applicant's name (`names`), a value of a closed choice (a title) by the policy's words
    for it, an item type by its name; None for a part said as it is (a patent number, a year)."""
    out: list[Text | None] = []
    for expression, value in zip(per, scope, strict=False):
        fact = expression.source.strip()
        spec = _spec_of(policy, item_type, fact) if (fact,) == tuple(expression.facts) else None
        words = dict(spec.value_words) if spec is not None else {}
        if spec is not None and spec.type == "item_type":
            words = dict(policy.item_type_labels)
        if fact == "applicant.id" and str(value) in names:
            out.append(named(names[str(value)], str(value)))
        elif str(value) in words:
            said = words[str(value)]
            out.append(Text(f"{said.zh}（{value}）", f"{said.en or said.zh} ({value})"))
        else:
            out.append(None)
    return tuple(out)


def named(name: str, applicant_id: str) -> Text:
    """An applicant by its name, its id after: 名称（统一社会信用代码）, name (id)."""
    return Text(f"{name}（{applicant_id}）", f"{name} ({applicant_id})")


def _spec_of(policy: CompiledPolicy, item_type: str, fact: str) -> FactSpec | None:
    namespace, _, name = fact.partition(".")
    specs = {"claim": policy.claim_facts, "applicant": policy.applicant_facts, "item": policy.item_facts.get(item_type, {})}
    return specs.get(namespace, {}).get(name)


def statement(ledger: Ledger, versions: Sequence[CompiledPolicy], applicant_id: str, year: int | None = None) -> Statement:
    """`applicant_id`'s statement from `ledger`, its words from `versions` (each grant's own version, found by hash)."""
    by_hash = {p.content_hash: p for p in versions}
    reversals = ledger.reversals(applicant_id)
    returned: dict[int, Decimal] = {}
    for r in reversals:
        if r.get("withdrawn") is None:  # (one withdrawn was recorded by mistake: listed, not counted)
            returned[int(r["grant_id"])] = returned.get(int(r["grant_id"]), ZERO) + Decimal(str(r["returned"]))
    every = list(ledger.grants(applicant_id=applicant_id, include_superseded=True))
    grants = [g for g in every if not g.get("superseded")]
    lines = []
    for g in grants:
        if year is not None and g["funding_year"] != year:
            continue
        made_by = by_hash.get(str(g.get("policy_hash", "")))
        rule = next((r for r in made_by.rules if r.id == g["rule"]), None) if made_by else None
        kind = made_by.item_type_labels.get(rule.item_type) if made_by is not None and rule is not None else None
        lines.append(
            GrantLine(
                funding_year=int(g["funding_year"]),
                claim_id=str(g["claim_id"]),
                item_id=str(g["item_id"]),
                rule=str(g["rule"]),
                cites=rule.cites if rule is not None else "",
                item_type=kind,
                amount=Decimal(str(g["amount"])),
                returned=returned.get(int(g["id"]), ZERO),
                commit=int(g["commit"]),
            )
        )
    lines.sort(key=lambda x: (x.funding_year, x.commit))  # (stable: a commit's grants in the ledger's order, its items')
    name = _name_of(ledger, grants)
    names = {applicant_id: name} if name else {}
    found = tuple(ledger.findings(applicant_id))
    used = tuple(rooms(grants, versions, names))
    on_record = ledger.applications_of(applicant_id)
    return Statement(applicant_id, year, tuple(lines), used, tuple(reversals), found, name, on_record, len(every) - len(grants))


def _name_of(ledger: Ledger, grants: Sequence[Mapping[str, Any]]) -> str | None:
    """The applicant's name as its latest decision on record gives it (None: no grant, or no name given)."""
    if not grants:
        return None
    latest = max(grants, key=lambda g: int(g["commit"]))
    decision = ledger.stored_decision(str(latest["claim_id"])) or {}
    applicant = decision.get("applicant")
    name = applicant.get("name") if isinstance(applicant, Mapping) else None
    return name.strip() if isinstance(name, str) and name.strip() else None


def _money(value: Decimal | int) -> str:
    """An amount grouped, to the cent (1,492,200.00): a ceiling is held as the policy wrote it, without its cents."""
    return f"{Decimal(value).quantize(Decimal('0.01')):,}"


def _words(text: Text | None, lang: str) -> str:
    return "" if text is None else (text.en if lang == "en" and text.en else text.zh)


def _scope(room: Room, lang: str) -> str:
    """A room's scope as said: each part in words with its code after where it has words, else as it is."""
    words = [*room.words, *([None] * (len(room.scope) - len(room.words)))]
    return ("、" if lang == "zh" else ", ").join(str(s) if w is None else _words(w, lang) for s, w in zip(room.scope, words, strict=False))


def statement_text(s: Statement, lang: str) -> str:
    """The statement as the console shows it: the grants, the totals, the rooms, the reversals and findings."""

    def said_as(key: str, **kw: Any) -> str:
        return tr(msg(f"statement.{key}", **kw), lang)

    out = [said_as("head" if s.year is None else "head_year", applicant=s.applicant, year=s.year)]
    out += [said_as(key, **kw) for key, kw in _nothing_in_force(s)]
    for g in s.grants:
        returned = said_as("returned", amount=_money(g.returned)) if g.returned else ""
        line = dict(year=g.funding_year, claim=g.claim_id, item=g.item_id, amount=_money(g.amount), returned=returned)
        if g.item_type is None:  # (its version not given: the rule's id alone, once)
            out.append(said_as("grant_bare", rule=g.rule, **line))
        else:
            out.append(said_as("grant", cites=g.cites or g.rule, type=_words(g.item_type, lang), **line))
    if s.grants and s.returned and not s.net:
        out.append(said_as("all_returned", net=_money(s.net)))
    out.append(said_as("totals", granted=_money(s.granted), returned=_money(s.returned), net=_money(s.net)))
    if s.rooms:
        out.append(said_as("rooms"))
    for r in s.rooms:
        left = "" if r.left is None else said_as(f"{r.kind}_left", left=_money(r.left) if r.kind == "cap" else r.left)
        words = _words(r.says, lang) or r.id
        bare = "" if r.cites is not None else "_bare"  # (the version that made its grants not given: no clause, no words)
        if r.kind == "cap":
            if r.ceiling is not None:
                ceiling = said_as("cap_ceiling", ceiling=_money(r.ceiling))
            else:  # (a computed ceiling; or, the version not given, one nothing is known of: it was said computed)
                ceiling = said_as("computed" if not bare else "ceiling_unknown")
            out.append(
                said_as(f"cap{bare}", words=words, cites=r.cites, scope=_scope(r, lang), used=_money(r.used), ceiling=ceiling, left=left)
            )
        else:
            at_most = said_as("limit_at_most" if not r.consecutive else "limit_in_a_row", times=r.ceiling) if r.ceiling is not None else ""
            out.append(said_as(f"limit{bare}", words=words, cites=r.cites, scope=_scope(r, lang), used=r.used, at_most=at_most, left=left))
    for v in s.reversals:
        said = said_as(
            "reversal",
            id=v["id"],
            claim=v["claim_id"],
            item=v["item_id"],
            amount=_money(Decimal(str(v["returned"]))),
            date=v["decided_on"] or "—",
            reason=v["reason"],
        )
        out.append(said + _withdrawn(v, lang))
    for f in s.findings:
        said = said_as("finding", id=f["id"], fact=f["fact"], value=f["value"], reason=f["reason"], at=str(f["recorded_at"])[:10])
        out.append(said + _withdrawn(f, lang))
    return "\n".join(out) + "\n"


def _nothing_in_force(s: Statement) -> list[tuple[str, dict[str, Any]]]:
    """With no grant line to show, lines saying plainly that the ledger holds no grant in force for the applicant, and
    why (no application on record, none granted, its grants replaced, none that year), and its reversals if it has
    any (an applicant with none was headed by its code and "no grant in force" alone, read as a slip of the code or as
    "received nothing" alike)."""
    returned = [v for v in s.reversals if v.get("withdrawn") is None]
    if s.grants:
        return []
    if s.year is not None and s.applications:
        out = [("no_grants_year", {"year": s.year})]
    elif s.replaced:
        out = [("no_grants_replaced", {"n": s.replaced})]
    elif s.applications:
        out = [("no_grants", {"n": s.applications})]
    else:
        out = [("not_on_record", {})]
    return out + ([("reversals_below", {"n": len(returned)})] if returned else [])


def _withdrawn(record: Mapping[str, Any], lang: str) -> str:
    """ " (withdrawn: why, when)" after a reversal or finding withdrawn as recorded by mistake; else nothing."""
    w = record.get("withdrawn")
    if not w:
        return ""
    return tr(msg("statement.withdrawn", reason=w.get("reason", ""), at=str(w.get("at", ""))[:10]), lang)


def write_statement(s: Statement, path: str | Path, lang: str) -> None:
    """The statement as a workbook: the grants (amounts as numbers, a totals row), the rooms, the reversals and
    findings, each sheet headed in the reader's words."""

    def said_as(key: str) -> str:
        return tr(msg(f"statement.sheet.{key}"), lang)

    book = XlsxOut(path)
    grant_cols = ["funding_year", "claim_id", "item_id", "cites", "item_type", "amount", "returned", "net"]
    book.sheet("grants", grant_cols, money=("amount", "returned", "net"), titles=[said_as(c) for c in grant_cols], tab=said_as("grants"))
    for g in s.grants:
        book.row(
            "grants", [g.funding_year, g.claim_id, g.item_id, g.cites or g.rule, _words(g.item_type, lang), g.amount, g.returned, g.net]
        )
    book.row("grants", [said_as("total"), "", "", "", "", s.granted, s.returned, s.net])
    room_cols = ["kind", "words", "cites", "scope", "used", "ceiling", "left"]
    book.sheet("rooms", room_cols, money=("used", "ceiling", "left"), titles=[said_as(c) for c in room_cols], tab=said_as("rooms"))
    for r in s.rooms:  # (a cap's figures are money, a limit's are counts)
        shown = [("" if v is None else Decimal(v).quantize(Decimal("0.01")) if r.kind == "cap" else v) for v in (r.used, r.ceiling, r.left)]
        book.row("rooms", [said_as(r.kind), _words(r.says, lang) or r.id, r.cites or "", _scope(r, lang), *shown])
    record_cols = ["record", "claim_id", "item_id", "detail", "date", "reason"]
    book.sheet("records", record_cols, titles=[said_as(c) for c in record_cols], tab=said_as("records"))
    for v in s.reversals:
        returned = format_money(Decimal(str(v["returned"])))
        book.row(
            "records",
            [said_as("reversal"), v["claim_id"], v["item_id"], returned, v["decided_on"] or "", v["reason"] + _withdrawn(v, lang)],
        )
    for f in s.findings:
        detail = f"{f['fact']} = {f['value']}"
        book.row("records", [said_as("finding"), "", "", detail, str(f["recorded_at"])[:10], f["reason"] + _withdrawn(f, lang)])
    book.close()
