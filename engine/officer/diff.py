"""Revision diff in the officer's terms, and its impact on a round of applications.

    changes = diff_policies(old, new)          # [Change("<clause>", "cap", "<cap-id>", "12万", "15万"), ...]
    result = impact(old, new, claims)           # per decision and per article, old vs new

Not a line diff: clauses are compared by their citation, rules, checks, caps
and limits by their ids, amounts as exact numbers (rate 50% -> 60%, cap 30万
-> 50万), conditions by their expressions. The impact re-decides each claim
under both versions; a claim outside a version's window is decided as if that
version were in force (a what-if: what this round would get under the new text),
and the report says so.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, cast

from engine.core.errors import EngineError
from engine.core.quantities import format_money
from engine.deciding.claims import parse_claim
from engine.deciding.evaluator import evaluate_claim
from engine.language import model
from engine.language.walk import PolicyVisitor, Site, walk
from engine.officer.lint import percent, wan
from engine.records.batch import claim_problems, error_record
from engine.records.inputs import open_claims
from engine.records.tabular import InputError, Record

POLICY = "(policy)"
ZERO = Decimal(0)


@dataclass(frozen=True)
class Change:
    clause: str  # the citation the change belongs to, or "(policy)"
    kind: str  # e.g. rate, cap, condition.added, rule.retired, clause.text
    subject: str  # the rule, check, cap, limit, clause or fact concerned
    old: str | None
    new: str | None
    text: str  # the change in words

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_Part = TypeVar("_Part", model.Cap, model.Limit)  # a rule's constructs matched by id between two versions


def _snip(old: str, new: str, context: int = 8) -> tuple[str, str]:
    """The changed parts of two texts, with a little context: ('…不超过 30 万元', '…不超过 50 万元')."""
    sm = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    a_parts, b_parts = [], []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        lo_a, lo_b = max(0, i1 - context), max(0, j1 - context)
        a_parts.append(("…" if lo_a else "") + old[lo_a : i2 + context] + ("…" if i2 + context < len(old) else ""))
        b_parts.append(("…" if lo_b else "") + new[lo_b : j2 + context] + ("…" if j2 + context < len(new) else ""))
    return " ".join(a_parts), " ".join(b_parts)


def _of(form: model.RateAmount) -> str:
    """A rate form's base: its expression, or its amount table (G5)."""
    t = form.of_table
    if t is None:
        return form.of.source
    otherwise = [f"otherwise {wan(t.otherwise)}"] if t.otherwise is not None else []
    return f"(by {t.by.source}: " + ", ".join([*(f"{k} {wan(v)}" for k, v in t.table.items()), *otherwise]) + ")"


def describe_amount(form: model.AmountForm | None) -> str:
    if form is None:
        return "no amount"
    if isinstance(form, model.RateAmount) and form.rate_table is not None:
        t = form.rate_table
        rates = ", ".join(
            [
                *(f"{k} {percent(v)}" for k, v in t.table.items()),
                *([f"otherwise {percent(t.otherwise)}"] if t.otherwise is not None else []),
            ]
        )
        return f"by {t.by.source}: {rates} of {_of(form)}"
    if isinstance(form, model.RateAmount):
        return f"{percent(form.rate)} of {_of(form)}"
    if isinstance(form, model.FixedAmount):
        return wan(form.value)
    if isinstance(form, model.TableAmount):
        otherwise = [f"otherwise {wan(form.otherwise)}"] if form.otherwise is not None else []
        return f"by {form.by.source}: " + ", ".join([*(f"{k} {wan(v)}" for k, v in form.table.items()), *otherwise])
    if isinstance(form, model.ExternalAmount):
        return f"external amount {form.source.source}"
    if isinstance(form, model.BandsAmount):
        return f"bands of {form.of.source}: " + ", ".join(
            f"from {wan(b.start)} {wan(b.amount) if b.amount is not None else percent(b.rate or ZERO)}" for b in form.bands
        )
    if isinstance(form, model.PerUnitAmount):
        return f"{wan(form.per_unit)} × {form.count.source}" + (f" (at most {form.max_count})" if form.max_count else "")
    assert isinstance(form, model.LeastAmount)
    return "the least of: " + "; ".join(describe_amount(p) for p in form.parts)


def _scope(per: tuple[Any, ...] | None) -> str:
    return "per item" if per is None else "per " + ", ".join(e.source for e in per)


@dataclass
class _RuleParts:
    rule: model.Rule
    conditions: list[model.Test] = field(default_factory=list)
    caps: list[model.Cap] = field(default_factory=list)
    limits: list[model.Limit] = field(default_factory=list)
    documents: list[model.DocumentNeed] = field(default_factory=list)


#: Top-level sections the diff compares construct by construct; any other section (one added to the language
#: later, such as `parameters`) is compared entry by entry, generically.
_MODELLED = frozenset(
    {"policy", "clauses", "item_facts", "item_types", "checks", "rules", "shared_caps", "shared_limits", "readings", "parameters"}
)
#: Header fields compared on their own (the rest of `policy:` generically); `in_force.funding_years` is the window.
_HEADER = frozenset({"id", "version", "title", "notes"})


class _Index(PolicyVisitor):
    """What a diff compares, gathered in one walk: the checks by id (cites, test or documents, kinds, item
    types), each rule by id with its conditions, caps, limits and document needs; the readings and notes each
    part rests on, with the clause of the first part citing each reading or note; and the document's other
    sections as written."""

    def __init__(self, policy: model.CompiledPolicy) -> None:
        self.checks: dict[str, tuple[str, str, Any, Any]] = {}
        self.rules: dict[str, _RuleParts] = {}
        self.shaped: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}  # part id -> (clause, readings, notes)
        self.clause_of: dict[str, str] = {}  # reading or note id -> the clause of the first part citing it
        self.sections: dict[str, Any] = {}
        self.parameters: dict[str, model.Parameter] = {}
        walk(policy, self)

    def visit_parameter(self, parameter: model.Parameter, at: Site) -> None:
        self.parameters[parameter.name] = parameter

    def visit_section(self, name: str, data: Any, at: Site) -> None:
        if name == "policy" and isinstance(data, dict):  # field by field; in_force's own fields one by one
            data = {k: v for k, v in data.items() if k not in _HEADER and k != "in_force"} | {
                f"in_force.{k}": v for k, v in (data.get("in_force") or {}).items() if k != "funding_years"
            }
        if name not in _MODELLED or name == "policy":
            self.sections[name] = data

    def shapes(self, what: str, cites: str, readings: tuple[str, ...], notes: tuple[str, ...]) -> None:
        if what not in self.shaped:
            self.shaped[what] = (cites, readings, notes)
        for ref in (*readings, *notes):
            self.clause_of.setdefault(ref, cites)

    def visit_check(self, test: model.Test, at: Site) -> None:
        self.checks[test.id] = (test.cites, test.expression.source, test.kinds, None if at.rule is None else test.item_types)
        self.shapes(f"check {test.id}", test.cites, test.readings, test.notes)

    def visit_document_check(self, check: model.DocumentCheck, at: Site) -> None:
        needs = ", ".join(x.doc for x in check.needs)
        self.checks[check.id] = (check.cites, needs, check.kinds, None if at.rule is None else check.item_types)
        self.shapes(f"check {check.id}", check.cites, check.readings, check.notes)

    def enter_rule(self, rule: model.Rule, at: Site) -> None:
        self.rules[rule.id] = self.parts = _RuleParts(rule)
        self.shapes(f"rule {rule.id}", rule.cites, rule.readings, rule.notes)

    def visit_condition(self, test: model.Test, at: Site) -> None:
        self.parts.conditions.append(test)
        self.shapes(f"condition {test.id}", test.cites, test.readings, test.notes)

    def visit_subject(self, subject: model.Subject, at: Site) -> None:
        assert at.rule is not None
        self.shapes(f"subject of rule {at.rule.id}", subject.cites, subject.readings, subject.notes)

    def visit_cap(self, cap: model.Cap, at: Site) -> None:
        self.parts.caps.append(cap)
        self.shapes(f"cap {cap.id}", cap.cites, cap.readings, cap.notes)

    def visit_limit(self, limit: model.Limit, at: Site) -> None:
        self.parts.limits.append(limit)
        self.shapes(f"limit {limit.id}", limit.cites, limit.readings, limit.notes)

    def visit_document_need(self, need: model.DocumentNeed, at: Site) -> None:
        self.parts.documents.append(need)


class _Differ:
    def __init__(self, old: model.CompiledPolicy, new: model.CompiledPolicy) -> None:
        self.old, self.new = old, new
        self.old_index, self.new_index = _Index(old), _Index(new)
        self.changes: list[Change] = []

    def add(self, clause: str, kind: str, subject: str, old: str | None, new: str | None, text: str) -> None:
        self.changes.append(Change(clause, kind, subject, old, new, text))

    def run(self) -> list[Change]:
        o, n = self.old, self.new
        if o.id != n.id:
            self.add(POLICY, "policy.id", "policy", o.id, n.id, f"policy id {o.id} → {n.id} (not versions of one policy)")
        if o.version != n.version:
            self.add(POLICY, "version", "policy", o.version, n.version, f"version {o.version} → {n.version}")
        for lang in ("zh", "en"):
            a, b = getattr(o.title, lang), getattr(n.title, lang)
            if a != b:
                self.add(POLICY, "title", f"policy.title.{lang}", a, b, f"title ({lang}): “{a}” → “{b}”")
        if o.funding_years != n.funding_years:
            ow, nw = "–".join(map(str, o.funding_years)), "–".join(map(str, n.funding_years))
            self.add(n.in_force_cites or POLICY, "window", "policy.in_force", ow, nw, f"in force for funding years {ow} → {nw}")
        self.clauses()
        self.parameters()
        self.vocabulary()
        self.checks()
        self.rules()
        self.texts("reading", {r.id: r.text for r in o.readings}, {r.id: r.text for r in n.readings})
        self.texts("note", {x.id: x.text for x in o.notes}, {x.id: x.text for x in n.notes})
        self.shaped()
        self.sections()
        return self.changes

    def texts(self, kind: str, a: dict[str, model.Text], b: dict[str, model.Text]) -> None:
        """Readings or notes by id: removed, added, their words changed; under the clause of the first part citing
        them (in the new version, else the old), or the policy."""
        where = {**self.old_index.clause_of, **self.new_index.clause_of}
        for i in [x for x in a if x not in b]:
            self.add(where.get(i, POLICY), f"{kind}.removed", i, a[i].zh, None, f"{kind} {i} removed: {a[i].zh}")
        for i in [x for x in b if x not in a]:
            self.add(where.get(i, POLICY), f"{kind}.added", i, None, b[i].zh, f"{kind} {i} added: {b[i].zh}")
        for i in [x for x in b if x in a]:
            for lang in ("zh", "en"):
                x, y = getattr(a[i], lang), getattr(b[i], lang)
                if x != y:
                    s, t = _snip(x, y)
                    self.add(where.get(i, POLICY), f"{kind}.text", f"{i}.{lang}", x, y, f"{kind} {i} ({lang}) changed: “{s}” → “{t}”")

    def shaped(self) -> None:
        """The readings and notes each rule, check, condition, subject, cap and limit rests on, where both versions have it."""
        o, n = self.old_index.shaped, self.new_index.shaped
        for what in [w for w in n if w in o]:
            (_, ra, na), (cites, rb, nb) = o[what], n[what]
            for kind, x, y in (("readings", ra, rb), ("notes", na, nb)):
                if x != y:
                    a, b = ", ".join(x) or "none", ", ".join(y) or "none"
                    self.add(cites, kind, what, a, b, f"{what}: {kind} {a} → {b}")

    def sections(self) -> None:
        """Every other top-level section (and the rest of the header), entry by entry: an entry added, removed or
        changed, with its value as written. A section added to the language later is diffed here unchanged."""
        o, n = self.old_index.sections, self.new_index.sections
        for name in [*o, *[k for k in n if k not in o]]:
            a, b = o.get(name), n.get(name)
            if a == b:
                continue
            if isinstance(a, dict | type(None)) and isinstance(b, dict | type(None)) and (a or b):
                a, b = a or {}, b or {}
                keys = [*a, *[k for k in b if k not in a]]
            else:
                a, b, keys = {"": a}, {"": b}, [""]
            for k in keys:
                x, y = a.get(k), b.get(k)
                if x == y:
                    continue
                subject = f"{name}.{k}" if k != "" else name
                cites = (y if isinstance(y, dict) else x if isinstance(x, dict) else {}).get("cites")
                clause = cites if isinstance(cites, str) and cites in self.new.clauses else POLICY
                if subject.startswith("policy.in_force.") and self.new.in_force_cites:  # the validity's own clause
                    clause = self.new.in_force_cites
                if x is None:
                    self.add(clause, f"{name}.added", subject, None, _shown(y), f"{subject} added: {_shown(y)}")
                elif y is None:
                    self.add(clause, f"{name}.removed", subject, _shown(x), None, f"{subject} removed (was {_shown(x)})")
                else:
                    self.add(clause, f"{name}.changed", subject, _shown(x), _shown(y), f"{subject}: {_shown(x)} → {_shown(y)}")

    def clauses(self) -> None:
        o, n = self.old.clauses, self.new.clauses
        for key in o.keys() - n.keys():
            self.add(key, "clause.removed", key, o[key].text, None, f"clause {key} removed from the text")
        for key in n:
            if key not in o:
                self.add(key, "clause.added", key, None, n[key].text, f"clause {key} added: {n[key].text}")
                continue
            if o[key].text != n[key].text:
                a, b = _snip(o[key].text, n[key].text)
                self.add(key, "clause.text", key, o[key].text, n[key].text, f"text changed: “{a}” → “{b}”")
            if o[key].computable != n[key].computable:
                self.add(
                    key,
                    "clause.computable",
                    key,
                    str(o[key].computable),
                    str(n[key].computable),
                    f"computable {o[key].computable} → {n[key].computable}",
                )

    def parameters(self) -> None:
        """Dated parameters by name; their values by the date they are in force from (value, source)."""
        o, n = self.old_index.parameters, self.new_index.parameters
        for name in sorted(o.keys() - n.keys()):
            self.add(POLICY, "parameter.removed", name, o[name].label.zh, None, f"parameter {name} ({o[name].label.zh}) removed")
        for name in sorted(n.keys() - o.keys()):
            p = n[name]
            self.add(POLICY, "parameter.added", name, None, p.label.zh, f"parameter {name} ({p.label.zh}) added, {len(p.values)} value(s)")
        for name in sorted(o.keys() & n.keys()):
            a, b = {v.start: v for v in o[name].values}, {v.start: v for v in n[name].values}
            if o[name].type != n[name].type:
                self.add(
                    POLICY, "parameter.type", name, o[name].type, n[name].type, f"parameter {name}: type {o[name].type} → {n[name].type}"
                )
            for day in sorted(a.keys() | b.keys()):
                va, vb = a.get(day), b.get(day)
                old, new = (None if va is None else va.shown), (None if vb is None else vb.shown)
                if va is None:
                    self.add(
                        POLICY,
                        "parameter.value",
                        name,
                        None,
                        new,
                        f"parameter {name}: {new} from {day} added ({vb.source.zh if vb else ''})",
                    )
                elif vb is None:
                    self.add(POLICY, "parameter.value", name, old, None, f"parameter {name}: the value {old} from {day} removed")
                elif va.value != vb.value or va.source != vb.source:
                    self.add(POLICY, "parameter.value", name, old, new, f"parameter {name} from {day}: {old} → {new}")

    def vocabulary(self) -> None:
        o, n = self.old, self.new
        for t in sorted(o.item_facts.keys() - n.item_facts.keys()):
            self.add(self._clause_of_type(o, t), "item_type.removed", t, t, None, f"item type {t} ({o.item_type_labels[t].zh}) removed")
        for t in sorted(n.item_facts.keys() - o.item_facts.keys()):
            self.add(self._clause_of_type(n, t), "item_type.added", t, None, t, f"item type {t} ({n.item_type_labels[t].zh}) added")
        for t in sorted(o.item_facts.keys() & n.item_facts.keys()):
            of, nf = o.item_facts[t], n.item_facts[t]
            clause = self._clause_of_type(n, t)
            for f in sorted(of.keys() - nf.keys()):
                self.add(clause, "fact.removed", f"{t}.{f}", f, None, f"fact item.{f} of {t} removed")
            for f in sorted(nf.keys() - of.keys()):
                req = "required" if nf[f].required else "optional"
                self.add(clause, "fact.added", f"{t}.{f}", None, f, f"fact item.{f} of {t} added ({nf[f].type}, {req}): {nf[f].label.zh}")
            for f in sorted(of.keys() & nf.keys()):
                if (of[f].type, of[f].values, of[f].required) != (nf[f].type, nf[f].values, nf[f].required):
                    self.add(
                        clause,
                        "fact.changed",
                        f"{t}.{f}",
                        of[f].type,
                        nf[f].type,
                        f"fact item.{f} of {t} changed (type, values or required)",
                    )

    @staticmethod
    def _clause_of_type(p: model.CompiledPolicy, item_type: str) -> str:
        rule = p.rules_by_type.get(item_type)
        return rule.cites if rule is not None else POLICY

    def checks(self) -> None:
        o, n = self.old_index.checks, self.new_index.checks
        for cid in sorted(o.keys() - n.keys()):
            self.add(o[cid][0], "check.removed", cid, o[cid][1], None, f"check {cid} removed ({o[cid][1]})")
        for cid in sorted(n.keys() - o.keys()):
            self.add(n[cid][0], "check.added", cid, None, n[cid][1], f"check {cid} added: {n[cid][1]}")
        for cid in sorted(o.keys() & n.keys()):
            (oc, ot, ok, oa), (nc, nt, nk, na) = o[cid], n[cid]
            if ot != nt:
                self.add(nc, "check.test", cid, ot, nt, f"check {cid}: {ot} → {nt}")
            if oc != nc:
                self.add(nc, "check.cites", cid, oc, nc, f"check {cid} now cites {nc} (was {oc})")
            if ok != nk:
                self.add(nc, "check.who", cid, _set(ok), _set(nk), f"check {cid} applies to kinds {_set(ok)} → {_set(nk)}")
            if oa != na:
                self.add(nc, "check.applies_to", cid, _set(oa), _set(na), f"check {cid} applies to item types {_set(oa)} → {_set(na)}")

    def rules(self) -> None:
        o, n = self.old_index.rules, self.new_index.rules
        for rid in [r for r in o if r not in n]:
            r = o[rid].rule
            self.add(
                r.cites,
                "rule.retired",
                rid,
                describe_amount(r.amount),
                None,
                f"rule {rid} retired (was: {describe_amount(r.amount)}, item type {r.item_type})",
            )
        for rid in [r for r in n if r not in o]:
            r = n[rid].rule
            caps = "; ".join(f"cap {c.id} {wan(c.ceiling)} {_scope(c.per)}" for c in n[rid].caps)
            self.add(
                r.cites,
                "rule.added",
                rid,
                None,
                describe_amount(r.amount),
                f"rule {rid} added for {r.item_type}: pays {describe_amount(r.amount)}" + (f"; {caps}" if caps else ""),
            )
        for rid in [r for r in n if r in o]:
            self.rule(o[rid], n[rid])

    def rule(self, pa: _RuleParts, pb: _RuleParts) -> None:
        a, b = pa.rule, pb.rule
        c, rid = b.cites, b.id
        if a.cites != b.cites:
            self.add(c, "rule.cites", rid, a.cites, b.cites, f"rule {rid} now cites {b.cites} (was {a.cites})")
        if a.item_type != b.item_type:
            self.add(c, "rule.item_type", rid, a.item_type, b.item_type, f"rule {rid} decides {b.item_type} (was {a.item_type})")
        for k in sorted(b.kinds - a.kinds):
            self.add(c, "who.added", rid, None, k, f"{rid}: applicants of kind {k} now admitted")
        for k in sorted(a.kinds - b.kinds):
            self.add(c, "who.removed", rid, k, None, f"{rid}: applicants of kind {k} no longer admitted")
        if a.roles != b.roles:
            self.add(c, "who.roles", rid, _set(a.roles), _set(b.roles), f"{rid}: required roles {_set(a.roles)} → {_set(b.roles)}")
        self.conditions(rid, c, pa.conditions, pb.conditions)
        self.amount(rid, c, a.amount, b.amount)
        if (a.referral is None) != (b.referral is None):
            self.add(
                c,
                "referral",
                rid,
                str(a.referral is not None),
                str(b.referral is not None),
                f"{rid}: referral {'added' if b.referral else 'removed'}",
            )
        self.caps(rid, pa.caps, pb.caps)
        self.limits(rid, pa.limits, pb.limits)
        self.subject_and_selection(rid, a, b)
        ad, bd = {d.doc for d in pa.documents}, {d.doc for d in pb.documents}
        for d in sorted(bd - ad):
            self.add(c, "documents.added", rid, None, d, f"{rid}: document {d} now required")
        for d in sorted(ad - bd):
            self.add(c, "documents.removed", rid, d, None, f"{rid}: document {d} no longer required")
        if a.documents_required != b.documents_required:
            self.add(
                c,
                "documents.required",
                rid,
                str(a.documents_required),
                str(b.documents_required),
                f"{rid}: documents checked {a.documents_required} → {b.documents_required}",
            )

    def conditions(self, rid: str, clause: str, a: list[model.Test], b: list[model.Test]) -> None:
        sa = {t.expression.source: t for t in a}
        sb = {t.expression.source: t for t in b}
        for src in sa.keys() - sb.keys():
            self.add(clause, "condition.removed", rid, src, None, f"{rid}: condition removed: {src} ({sa[src].says.zh})")
        for src in sb.keys() - sa.keys():
            self.add(clause, "condition.added", rid, None, src, f"{rid}: condition added: {src} ({sb[src].says.zh})")

    def amount(self, rid: str, clause: str, a: model.AmountForm | None, b: model.AmountForm | None) -> None:
        if isinstance(a, model.RateAmount) and isinstance(b, model.RateAmount):
            if a.rate != b.rate:
                self.add(clause, "rate", rid, percent(a.rate), percent(b.rate), f"{rid}: rate {percent(a.rate)} → {percent(b.rate)}")
            if _of(a) != _of(b):
                self.add(clause, "rate.base", rid, _of(a), _of(b), f"{rid}: rate applied to {_of(a)} → {_of(b)}")
        elif isinstance(a, model.FixedAmount) and isinstance(b, model.FixedAmount):
            if a.value != b.value:
                self.add(clause, "amount", rid, wan(a.value), wan(b.value), f"{rid}: amount {wan(a.value)} → {wan(b.value)}")
        elif isinstance(a, model.TableAmount) and isinstance(b, model.TableAmount):
            for k in a.table.keys() | b.table.keys():
                va, vb = a.table.get(k), b.table.get(k)
                if va != vb:
                    sa = wan(va) if va is not None else "none"
                    sb = wan(vb) if vb is not None else "none"
                    self.add(clause, "amount", f"{rid}[{k}]", sa, sb, f"{rid}: amount for {k} {sa} → {sb}")
        elif describe_amount(a) != describe_amount(b):
            self.add(
                clause,
                "amount.form",
                rid,
                describe_amount(a),
                describe_amount(b),
                f"{rid}: amount {describe_amount(a)} → {describe_amount(b)}",
            )

    def by_id(
        self,
        rid: str,
        kind: str,
        a: list[_Part],
        b: list[_Part],
        value: Callable[[_Part], str],
        removed: Callable[[_Part], str],
        added: Callable[[_Part], str],
    ) -> Iterator[tuple[_Part, _Part]]:
        """A rule's caps or limits matched by id: the removed and the added ones are reported here (`removed` and
        `added` say the end of the line), the ones on both sides are yielded as (old, new) to be compared."""
        pa, pb = {x.id: x for x in a}, {x.id: x for x in b}
        for xid in pa.keys() - pb.keys():
            x = pa[xid]
            self.add(x.cites, f"{kind}.removed", xid, value(x), None, f"{rid}: {kind} {xid} {removed(x)}")
        for xid in pb.keys() - pa.keys():
            x = pb[xid]
            self.add(x.cites, f"{kind}.added", xid, None, value(x), f"{rid}: {kind} {xid} {added(x)}")
        for xid in pa.keys() & pb.keys():
            yield pa[xid], pb[xid]

    def caps(self, rid: str, a: list[model.Cap], b: list[model.Cap]) -> None:
        def ceiling(c: model.Cap) -> str:
            return wan(c.ceiling) if c.computed is None else "computed: " + describe_amount(c.computed)

        removed, added = (lambda c: f"({ceiling(c)} {_scope(c.per)}) removed"), (lambda c: f"added: {ceiling(c)} {_scope(c.per)}")
        for x, y in self.by_id(rid, "cap", a, b, ceiling, removed, added):
            if ceiling(x) != ceiling(y):
                self.add(y.cites, "cap", x.id, ceiling(x), ceiling(y), f"{rid}: cap {x.id} ({_scope(y.per)}) {ceiling(x)} → {ceiling(y)}")
            if _scope(x.per) != _scope(y.per):
                self.add(y.cites, "cap.scope", x.id, _scope(x.per), _scope(y.per), f"{rid}: cap {x.id} {_scope(x.per)} → {_scope(y.per)}")
            if _applies(x) != _applies(y):
                self.add(y.cites, "cap.applies", x.id, _applies(x), _applies(y), f"{rid}: cap {x.id} applies {_applies(x)} → {_applies(y)}")

    def limits(self, rid: str, a: list[model.Limit], b: list[model.Limit]) -> None:
        def times(x: model.Limit) -> str:
            return str(x.times)

        removed, added = (lambda x: f"({x.times} times) removed"), (lambda x: f"added: {x.times} times {_scope(x.per)}")
        for x, y in self.by_id(rid, "limit", a, b, times, removed, added):
            if x.times != y.times:
                self.add(y.cites, "limit", x.id, times(x), times(y), f"{rid}: limit {x.id} {x.times} times → {y.times} times")
            if _scope(x.per) != _scope(y.per) or _scope(x.counting) != _scope(y.counting):
                self.add(y.cites, "limit.scope", x.id, _scope(x.per), _scope(y.per), f"{rid}: limit {x.id} scope or counting changed")
            if _applies(x) != _applies(y):
                self.add(
                    y.cites, "limit.applies", x.id, _applies(x), _applies(y), f"{rid}: limit {x.id} applies {_applies(x)} → {_applies(y)}"
                )

    def subject_and_selection(self, rid: str, a: model.Rule, b: model.Rule) -> None:
        """Only the highest / 补差 and the round selection, each in words; a change of either is one change."""
        said = (_subject_words(a.subject), _subject_words(b.subject))
        if said[0] != said[1]:
            subject = b.subject or a.subject
            cites = subject.cites if subject is not None else b.cites
            self.add(cites, "subject", rid, said[0], said[1], f"{rid}: same subject: {said[0]} → {said[1]}")
        said = (_selection_words(a.selection), _selection_words(b.selection))
        if said[0] != said[1]:
            sel = b.selection or a.selection
            self.add(sel.cites if sel else b.cites, "selection", rid, said[0], said[1], f"{rid}: round selection: {said[0]} → {said[1]}")


def _subject_words(s: model.Subject | None) -> str:
    if s is None:
        return "none"
    later = ", the difference to earlier awards" if s.later == "difference" else ""
    earlier = ", only after an earlier payment" if s.requires_earlier else ""
    pays = "only the highest" if s.pays == "highest" else "only the difference"
    return f"{pays}{later}{earlier} per {s.group} ({', '.join(k.source for k in s.key)})"


def _applies(x: model.Cap | model.Limit) -> str:
    """Whom and when a cap or limit applies to (`who:` / `when:`), in words."""
    parts = [f"for {', '.join(sorted(x.kinds))}" if x.kinds is not None else "", f"when {x.applies_when.source}" if x.applies_when else ""]
    return " ".join(p for p in parts if p) or "always"


def _selection_words(s: model.Selection | None) -> str:
    if s is None:
        return "none"
    parts = [f"first {s.first}" if s.first is not None else "", f"within {wan(s.budget)}" if s.budget is not None else ""]
    parts.append("by " + ", ".join(k.by.source + (" (descending)" if k.descending else "") for k in s.order))
    if s.per:
        parts.append(_scope(s.per))
    return "; ".join(p for p in parts if p)


def _shown(value: Any, limit: int = 300) -> str:
    """A value of the policy document as a diff line shows it: compact JSON, at most `limit` characters."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str, separators=(", ", ": "))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _set(values: Any) -> str:
    return "all" if values is None else ("[" + ", ".join(sorted(values)) + "]")


def diff_policies(old: model.CompiledPolicy, new: model.CompiledPolicy) -> list[Change]:
    """Every change from `old` to `new`, in the officer's terms, grouped in clause order."""
    changes = _Differ(old, new).run()
    order = {k: i for i, k in enumerate([*old.clauses, *[k for k in new.clauses if k not in old.clauses]])}
    return sorted(changes, key=lambda ch: -1 if ch.clause == POLICY else order.get(ch.clause, len(order)))


# --- impact on a round -----------------------------------------------------------------


@dataclass(frozen=True)
class ItemImpact:
    claim_id: str
    item_id: str
    item_type: str
    article_old: str | None
    article_new: str | None
    old_status: str
    old_amount: Decimal
    new_status: str
    new_amount: Decimal

    @property
    def delta(self) -> Decimal:
        return self.new_amount - self.old_amount

    @property
    def changed(self) -> bool:
        return self.old_status != self.new_status or self.old_amount != self.new_amount

    def text(self) -> str:
        sign = "+" if self.delta >= 0 else "−"
        return (
            f"{self.claim_id} {self.item_id} ({self.item_type}): {self.old_status} {format_money(self.old_amount)} → "
            f"{self.new_status} {format_money(self.new_amount)} ({sign}{format_money(abs(self.delta))})"
        )


@dataclass
class Impact:
    items: list[ItemImpact] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)  # error records, as a batch writes them
    claims: int = 0

    @property
    def changed(self) -> list[ItemImpact]:
        return [i for i in self.items if i.changed]

    def by_article(self) -> dict[str, tuple[Decimal, Decimal]]:
        out: dict[str, list[Decimal]] = {}
        for i in self.items:
            if i.article_old:
                out.setdefault(i.article_old, [ZERO, ZERO])[0] += i.old_amount
            if i.article_new:
                out.setdefault(i.article_new, [ZERO, ZERO])[1] += i.new_amount
        return {k: (v[0], v[1]) for k, v in out.items()}

    @property
    def total_old(self) -> Decimal:
        return sum((i.old_amount for i in self.items), ZERO)

    @property
    def total_new(self) -> Decimal:
        return sum((i.new_amount for i in self.items), ZERO)

    def to_dict(self) -> dict[str, Any]:
        return {
            "claims": self.claims,
            "notes": self.notes,
            "errors": self.errors,
            "changed": [
                {
                    "claim_id": i.claim_id,
                    "item": i.item_id,
                    "type": i.item_type,
                    "old": {"status": i.old_status, "amount": format_money(i.old_amount)},
                    "new": {"status": i.new_status, "amount": format_money(i.new_amount)},
                    "delta": format_money(i.delta),
                }
                for i in self.changed
            ],
            "by_article": {
                k: {"old": format_money(a), "new": format_money(b), "delta": format_money(b - a)} for k, (a, b) in self.by_article().items()
            },
            "total": {
                "old": format_money(self.total_old),
                "new": format_money(self.total_new),
                "delta": format_money(self.total_new - self.total_old),
            },
        }


CLAIM_FORMATS = (
    "JSON Lines (.jsonl), a JSON list or a single claim (.json), a YAML list (.yaml), CSV (.csv), "
    "an Excel workbook (.xlsx, the batch template's sheets), or a folder of such files"
)


def read_claims(path: str | Path, *policies: model.CompiledPolicy, encoding: str | None = None) -> list[Record]:
    """Claims of a round, read as a batch reads them (`engine.records.inputs.open_claims`): one `Record` per
    application, with where it came from (line, or sheet and row) and any reading problems.

    Formats: see CLAIM_FORMATS. CSV and XLSX columns are the policy's fact names: `policies` are tried in
    order (the version in force first, then the revision) and the first whose vocabulary accepts the
    columns reads the file. Raises `InputError` when the input as a whole cannot be read, or holds no application.
    """
    p = Path(path)
    if p.suffix.lower() in (".csv", ".xlsx") and not policies:
        raise InputError(f"{p}: reading CSV or XLSX needs a policy (its fact names are the columns)")
    first: InputError | None = None
    for policy in policies or (cast(model.CompiledPolicy, None),):  # JSON and YAML readers do not use the policy
        try:
            reader = open_claims(p, policy, encoding)
        except InputError as exc:
            first = first or exc
            continue
        try:
            return list(reader)
        except InputError as exc:
            first = first or exc
        finally:
            reader.close()
    assert first is not None
    raise first


def _widen(policy: model.CompiledPolicy, years: Iterable[int]) -> model.CompiledPolicy:
    ys = list(years)
    lo, hi = policy.funding_years
    if not ys or all(lo <= y <= hi for y in ys):
        return policy
    return dataclasses.replace(policy, funding_years=(min(lo, *ys), max(hi, *ys)))


def _article(policy: model.CompiledPolicy, cites: str) -> str:
    clause = policy.clauses.get(cites)
    return clause.article if clause is not None else cites


def impact(old: model.CompiledPolicy, new: model.CompiledPolicy, claims: Iterable[Record]) -> Impact:
    """Re-decide each claim under both versions and compare, item by item.

    A claim that cannot be read, or is invalid under either version, gets an error record as a batch
    writes it (application number, claim id, where, and each problem with its line or row and field).
    """
    records = list(claims)
    result = Impact(claims=len(records))
    years: list[int] = sorted(
        {
            y
            for r in records
            if isinstance(r.data, Mapping)
            for y in [r.data.get("funding_year")]
            if isinstance(y, int) and not isinstance(y, bool)
        }
    )
    wide_old, wide_new = _widen(old, years), _widen(new, years)
    for label, pol in (("OLD", old), ("NEW", new)):
        outside = [y for y in years if not pol.covers(y)]
        if outside:
            lo, hi = pol.funding_years
            result.notes.append(
                f"{label} {pol.version} is in force for funding years {lo}–{hi}; claims of funding year(s) "
                f"{', '.join(map(str, outside))} are decided as if it were in force (what-if)"
            )
    retired_types = set(old.item_facts) - set(new.item_facts)
    for rec in records:
        data = rec.data
        if data is None:
            result.errors.append(error_record(rec, rec.problems, "cannot read the application"))
            continue
        name = rec.where.get("file")
        try:
            d_old = evaluate_claim(wide_old, parse_claim(wide_old, data, file=name))
        except EngineError as err:
            result.errors.append({**error_record(rec, claim_problems(rec, err), err.summary), "under": "OLD"})
            continue
        kept_at = [i for i, it in enumerate(data.get("items", [])) if not (isinstance(it, Mapping) and it.get("type") in retired_types)]
        new_by_item: dict[str, tuple[str, Decimal, str | None]] = {}
        if kept_at:
            kept = dataclasses.replace(
                rec,
                data={**data, "items": [data["items"][i] for i in kept_at]},
                item_where=[rec.item_where[i] for i in kept_at if i < len(rec.item_where)],
            )
            try:
                d_new = evaluate_claim(wide_new, parse_claim(wide_new, kept.data or {}, file=name))
            except EngineError as err:
                result.errors.append({**error_record(kept, claim_problems(kept, err), err.summary), "under": "NEW"})
                d_new = None
            if d_new is not None:
                for dn in d_new.items:
                    new_by_item[dn.item.id] = (dn.status, dn.amount, _article(new, dn.rule.cites))
        for do in d_old.items:
            status, amount, article = new_by_item.get(do.item.id, ("retired" if do.item.type in retired_types else "error", ZERO, None))
            result.items.append(
                ItemImpact(
                    d_old.claim.claim_id,
                    do.item.id,
                    do.item.type,
                    _article(old, do.rule.cites),
                    article,
                    do.status,
                    do.amount,
                    status,
                    amount,
                )
            )
    return result


def where_text(where: Mapping[str, Any]) -> str:
    """`file:line`, or `file sheet S row R`: where an application or a field was read."""
    out = str(where.get("file", ""))
    if "sheet" in where:
        return f"{out} sheet {where['sheet']} row {where.get('row')}"
    if where.get("line") is not None:
        return f"{out}:{where['line']}"
    if where.get("element") is not None:
        return f"{out}[{where['element']}]"
    return out


def error_lines(error: Mapping[str, Any]) -> list[str]:
    """An impact error record in words: the application, then each problem with its place and field."""
    under = f" under {error['under']}" if error.get("under") else ""
    cid = f" {error['claim_id']}" if error.get("claim_id") else ""
    lines = [f"{where_text(error['where'])}{cid}: not compared, {error['error']}{under}"]
    for p in error.get("problems", []):
        field_ = f"field {p['field']}: " if p.get("field") else ""
        expected = f" (expected {p['expected']})" if p.get("expected") else ""
        lines.append(f"  {where_text(p)}: {field_}{p['message']}{expected}")
    return lines


def format_changes(old: model.CompiledPolicy, new: model.CompiledPolicy, changes: list[Change]) -> str:
    lines = [f"{old.id}: {old.version} ({old.file}) → {new.version} ({new.file}) — {len(changes)} change(s)"]
    current = None
    for ch in changes:
        if ch.clause != current:
            current = ch.clause
            lines.append(current)
        lines.append(f"  - {ch.text}")
    return "\n".join(lines) + "\n"


def format_impact(result: Impact) -> str:
    lines = [f"impact on {result.claims} claim(s):"]
    lines += [f"  note: {n}" for n in result.notes]
    if result.errors:
        lines.append(f"  {len(result.errors)} claim(s) could not be compared:")
        lines += [f"    {line}" for e in result.errors for line in error_lines(e)]
    changed = result.changed
    lines.append(f"  {len(changed)} decision(s) change:" if changed else "  no decision changes")
    lines += [f"    {i.text()}" for i in changed]
    lines.append("  budget by article (granted and reduced amounts):")
    for art, (a, b) in result.by_article().items():
        lines.append(f"    {art}: {format_money(a)} → {format_money(b)} ({_signed(b - a)})")
    lines.append(
        f"  total: {format_money(result.total_old)} → {format_money(result.total_new)} ({_signed(result.total_new - result.total_old)})"
    )
    return "\n".join(lines) + "\n"


def _signed(d: Decimal) -> str:
    return ("+" if d >= 0 else "−") + format_money(abs(d))


def to_json(changes: list[Change], result: Impact | None) -> str:
    out: dict[str, Any] = {"changes": [c.to_dict() for c in changes]}
    if result is not None:
        out["impact"] = result.to_dict()
    return json.dumps(out, ensure_ascii=False, indent=2) + "\n"
