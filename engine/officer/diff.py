"""Revision diff in the officer's terms, and its impact on a round of applications.

    changes = diff_policies(old, new)          # [Change("<clause>", "cap", "<cap-id>", "12万", "15万"), ...]
    result = impact(old, new, claims)           # per decision and per article, old vs new

Not a line diff: clauses are compared by their citation, rules, checks, caps
and limits by their ids, amounts as exact numbers (rate 50% -> 60%, cap 30万
-> 50万), conditions by their expressions. The impact decides the round
under both versions, as `batch` decides a round (selections, a round budget, an applicant's claims sharing its
caps); a claim outside a version's window is decided as if that
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

from engine.core.errors import EngineError, Problem
from engine.core.i18n import Msg, language, lookup, msg, tr
from engine.core.quantities import QuantityError, format_money, parse_amount, said_money
from engine.deciding.claims import coded, parse_claim
from engine.deciding.claims import label as policy_words
from engine.deciding.decision import STATUSES
from engine.language import model
from engine.language.expressions import CompiledExpression
from engine.language.walk import PolicyVisitor, Site, walk
from engine.officer.lint import TEN_THOUSAND, percent, wan
from engine.records.batch import Steps, claim_problems, decide_in_memory, error_record, headings_of, in_language, problem_said
from engine.records.inputs import open_claims, where_text
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
        """The change as JSON holds it: its words in the reader's language."""
        return {k: tr(v) if isinstance(v, str) else v for k, v in dataclasses.asdict(self).items()}


_Part = TypeVar("_Part", model.Cap, model.Limit)  # a rule's constructs matched by id between two versions


#: characters of each changed middle compared character by character: SequenceMatcher's time grows with the square
#: of the length (67 s for two notes of 20,000 characters); a longer change is shown whole, between what is the same
FINE_DIFF_CHARS = 2_000

#: and in one diff, all texts together, at most this many cells (a middle's characters times the other's) compared
#: character by character; past them a change is shown whole between what is the same. SequenceMatcher costs up to
#: about 0.1 µs a cell: 40 texts of 2,000 changed characters (20 readings, two 0.24 MB policies) took 12 s, 400 (two
#: 1.7 MB policies) 147 s. the shipped policy's revision compares 7 cells
MAX_FINE_DIFF_CELLS = 10_000_000


#: texts this short are shown whole by `_snip`: a `says`, a label
SHORT_TEXT = 40


def _snip(old: str, new: str, context: int = 8, cells: list[int] | None = None) -> tuple[str, str]:
    """The changed parts of two texts, with a little context: ('…不超过 30 万元', '…不超过 50 万元'); two short
    texts whole (the parts' contexts overlap in a short text, and showed words twice). `cells`: those a diff has left
    to compare character by character (MAX_FINE_DIFF_CELLS), taken from as they are."""
    if len(old) <= SHORT_TEXT and len(new) <= SHORT_TEXT:
        return old, new
    start, shorter = 0, min(len(old), len(new))
    while start < shorter and old[start] == new[start]:
        start += 1
    end = 0  # (characters the same at the end, after the same start)
    while end < shorter - start and old[-1 - end] == new[-1 - end]:
        end += 1
    a_end, b_end = len(old) - end, len(new) - end
    left = cells if cells is not None else [MAX_FINE_DIFF_CELLS]
    if a_end - start <= FINE_DIFF_CHARS and b_end - start <= FINE_DIFF_CHARS and (a_end - start) * (b_end - start) <= left[0]:
        left[0] -= (a_end - start) * (b_end - start)
        sm = difflib.SequenceMatcher(a=old[start:a_end], b=new[start:b_end], autojunk=False)
        ops = [(t, i1 + start, i2 + start, j1 + start, j2 + start) for t, i1, i2, j1, j2 in sm.get_opcodes()]
    else:
        ops = [("replace", start, a_end, start, b_end)]
    a_parts, b_parts = [], []
    for tag, i1, i2, j1, j2 in ops:
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
    otherwise = [msg("diff.w.otherwise", value=_amount(t.otherwise))] if t.otherwise is not None else []
    return msg(
        "diff.w.of_table", by=t.by.source, entries=[*(msg("diff.w.entry", key=k, value=_amount(v)) for k, v in t.table.items()), *otherwise]
    )


def describe_amount(form: model.AmountForm | None) -> str:
    if form is None:
        return msg("diff.w.no_amount")
    if isinstance(form, model.RateAmount) and form.rate_table is not None:
        t = form.rate_table
        rates = [
            *(f"{k} {percent(v)}" for k, v in t.table.items()),
            *([msg("diff.w.otherwise", value=percent(t.otherwise))] if t.otherwise is not None else []),
        ]
        return msg("diff.w.rate_table", by=t.by.source, rates=rates, of=_of(form))
    if isinstance(form, model.RateAmount):
        return msg("diff.w.rate", rate=percent(form.rate), of=_of(form))
    if isinstance(form, model.FixedAmount):
        return _amount(form.value)
    if isinstance(form, model.TableAmount):
        otherwise = [msg("diff.w.otherwise", value=_amount(form.otherwise))] if form.otherwise is not None else []
        return msg(
            "diff.w.table",
            by=form.by.source,
            entries=[*(msg("diff.w.entry", key=k, value=_amount(v)) for k, v in form.table.items()), *otherwise],
        )
    if isinstance(form, model.ExternalAmount):
        return msg("diff.w.external", source=form.source.source)
    if isinstance(form, model.BandsAmount):
        bands = [
            msg("diff.w.band", start=_amount(b.start), value=_amount(b.amount) if b.amount is not None else percent(b.rate or ZERO))
            for b in form.bands
        ]
        return msg("diff.w.bands", of=form.of.source, bands=bands)
    if isinstance(form, model.PerUnitAmount):
        at_most = msg("diff.w.at_most", n=form.max_count) if form.max_count else ""
        each: Any = _amount(form.per_unit)
        if form.per_unit_table is not None:
            each = describe_amount(form.per_unit_table)
        elif form.per_unit_of is not None:
            each = form.per_unit_of.source
            if form.per_unit_base is not None:  # (what it is in words, the expression after)
                each = msg("diff.w.labelled", label=form.per_unit_base, expression=each)
        if form.unit is not None:
            each = msg("diff.w.each_unit", unit=form.unit, each=each)
        return msg("diff.w.per_unit", each=each, count=form.count.source, at_most=at_most)
    assert isinstance(form, model.LeastAmount)
    return msg("diff.w.least", parts=_semi(describe_amount(p) for p in form.parts))


def _parameters_in(part: object) -> Iterator[str]:
    """The names of the dated parameters an amount form (or any part of a rule) looks up, found by its fields, in the
    order written. Bounded by the part's size."""
    if isinstance(part, CompiledExpression):
        yield from part.parameter_names
    elif isinstance(part, tuple | list):
        for x in part:
            yield from _parameters_in(x)
    elif dataclasses.is_dataclass(part) and not isinstance(part, type):
        for f in dataclasses.fields(part):
            yield from _parameters_in(getattr(part, f.name))


def _with_values(said: Any, policy: model.CompiledPolicy, part: object) -> Any:
    """`said` (an amount or a base, as the diff says it), followed by the values by date of each dated parameter `part`
    looks up: an expression `item.loan_amount * param("lpr_1y", item.loan_date)` alone tells an officer neither what
    the rate is nor when it changes. The first six values of each, as an added parameter's are said."""
    shown = []
    for name in dict.fromkeys(_parameters_in(part)):
        p = policy.parameters.get(name)
        if p is not None:
            values: list[Msg | str] = [msg("diff.parameter.from", day=str(v.start), value=_parameter_value(p, v)) for v in p.values[:6]]
            shown.append(msg("diff.w.parameter_values", name=name, label=p.label, values=values + ["…"] * (len(p.values) > 6)))
    return msg("diff.w.with_values", said=said, values=shown) if shown else said  # (a list: said in the reader's words)


def _amounts(old: Decimal | None, new: Decimal | None) -> tuple[str, str]:
    """Two amounts of one change in one form: as the clause writes them (30万 → 50万) when both are whole 万, else
    both as diff says any other amount, yuan with fen (300,000.00 元 → 300,000.50 元), never one of each."""
    whole = all(v and v % TEN_THOUSAND == 0 for v in (old, new) if v is not None)

    def said(v: Decimal | None) -> str:
        return msg("diff.w.none") if v is None else wan(v) if whole else said_money(v)

    return said(old), said(new)


def _amount(value: Decimal) -> str:
    """One amount said alone (a cap added, a budget, a table's entry) in the form of a changed pair's: 30万 when whole
    万, else 4,200.50 元 (it was lint's 4200.50元 beside the pairs' 4,200.50 元)."""
    return _amounts(value, None)[0]


def _semi(parts: Iterable[str]) -> str:
    """Parts joined by the reader's semicolon ("; " or "；")."""
    return lookup("diff.w.semicolon").join(tr(p) for p in parts)


def _scope(per: tuple[Any, ...] | None) -> str:
    """A scope by its codes (按 applicant.id、claim.funding_year): what a change compares and its `old`/`new` hold."""
    return msg("diff.w.per_item") if per is None else msg("diff.w.per", keys=[e.source for e in per])


def _scope_words(policy: model.CompiledPolicy, rid: str, per: tuple[Any, ...] | None) -> str:
    """A scope in words, as a change's text says it (按申请人、申报年度): each fact as an explanation names it
    (`Labels.fact_label`), the applicant's id as the applicant (the explanation's word); an expression that is no
    single fact as written."""
    if per is None:
        return msg("diff.w.per_item")
    rule = next((r for r in policy.rules if r.id == rid), None)
    item_type = rule.item_type if rule is not None else None
    return msg("diff.w.per_words", keys=[_scope_part(policy, item_type, e) for e in per])


def _scope_part(policy: model.CompiledPolicy, item_type: str | None, e: CompiledExpression) -> Any:
    from engine.explaining.render import renderer  # (the explanations' words for facts)

    fact = e.source.strip()
    if (fact,) != tuple(e.facts):
        return e.source
    said = []
    for lang in ("zh", "en"):
        r = renderer(policy, lang)
        if fact == "applicant.id":  # (the applicant itself; its id's label is 统一社会信用代码…, not whom a cap is per)
            word = str(r.m["applicant"])
            said.append(word if lang == "zh" else word[:1].lower() + word[1:])
        else:
            said.append(r.labels.fact_label(fact, item_type))
    return policy_words(model.Text(*said))


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
        what = msg("coverage.enc.check", id=test.id)
        known = what in self.shaped  # (a check of several rules is visited once for each)
        self.shapes(what, test.cites, test.readings, test.notes)
        if test.readings_when and not known:  # a reading named only where a condition holds: said with it (a new condition is a change)
            cites, readings, notes = self.shaped[what]
            chosen = tuple(msg("diff.w.reading_when", id=r, when=e.source) for r, e in test.readings_when)
            self.shaped[what] = (cites, readings + chosen, notes)
            for r, _ in test.readings_when:
                self.clause_of.setdefault(r, test.cites)

    def visit_document_check(self, check: model.DocumentCheck, at: Site) -> None:
        needs = ", ".join(x.doc for x in check.needs)
        self.checks[check.id] = (check.cites, needs, check.kinds, None if at.rule is None else check.item_types)
        self.shapes(msg("coverage.enc.check", id=check.id), check.cites, check.readings, check.notes)

    def enter_rule(self, rule: model.Rule, at: Site) -> None:
        self.rules[rule.id] = self.parts = _RuleParts(rule)
        self.shapes(msg("coverage.enc.rule", id=rule.id), rule.cites, rule.readings, rule.notes)

    def visit_condition(self, test: model.Test, at: Site) -> None:
        self.parts.conditions.append(test)
        self.shapes(msg("coverage.enc.condition", id=test.id), test.cites, test.readings, test.notes)

    def visit_subject(self, subject: model.Subject, at: Site) -> None:
        assert at.rule is not None
        self.shapes(msg("coverage.enc.subject", id=at.rule.id), subject.cites, subject.readings, subject.notes)

    def visit_cap(self, cap: model.Cap, at: Site) -> None:
        self.parts.caps.append(cap)
        self.shapes(msg("coverage.enc.cap", id=cap.id), cap.cites, cap.readings, cap.notes)

    def visit_limit(self, limit: model.Limit, at: Site) -> None:
        self.parts.limits.append(limit)
        self.shapes(msg("coverage.enc.limit", id=limit.id), limit.cites, limit.readings, limit.notes)

    def visit_document_need(self, need: model.DocumentNeed, at: Site) -> None:
        self.parts.documents.append(need)


class _Differ:
    def __init__(self, old: model.CompiledPolicy, new: model.CompiledPolicy) -> None:
        self.old, self.new = old, new
        self.old_index, self.new_index = _Index(old), _Index(new)
        self.changes: list[Change] = []
        self.cells = [MAX_FINE_DIFF_CELLS]  # (left to compare character by character, all texts together)

    def add(self, clause: str, kind: str, subject: str, old: str | None, new: str | None, text: str) -> None:
        self.changes.append(Change(clause, kind, subject, old, new, text))

    def entry_words(self, rid: str, by: str, key: Any) -> Any:
        """A table's entry said as the policy words the value it is looked up by (金奖（gold）, as a claim's refused
        choice is said), else as written."""
        from engine.explaining.render import renderer  # (the explanations' words for a fact's values)

        rule = next((r for r in self.new.rules if r.id == rid), None)
        item_type = rule.item_type if rule is not None else None
        zh, en = (renderer(self.new, lang).labels.value_label(by, item_type, key) for lang in ("zh", "en"))
        return policy_words(coded(model.Text(zh, en), str(key))) if zh != str(key) else key

    def words_for(self, table: str) -> dict[str, model.Text]:
        """The policy's words for the codes of one of its tables (`applicant_kinds`, `documents`, ...): the new
        version's, else the old's (a code the new version dropped)."""
        return {**getattr(self.old, table), **getattr(self.new, table)}

    def run(self) -> list[Change]:
        o, n = self.old, self.new
        if o.id != n.id:
            self.add(POLICY, "policy.id", "policy", o.id, n.id, msg("diff.policy_id", old=o.id, new=n.id))
        if o.version != n.version:
            self.add(POLICY, "version", "policy", o.version, n.version, msg("diff.version", old=o.version, new=n.version))
        for lang in ("zh", "en"):
            a, b = getattr(o.title, lang), getattr(n.title, lang)
            if a != b:
                self.add(POLICY, "title", f"policy.title.{lang}", a, b, msg("diff.title", lang=lang, old=a, new=b))
        if o.funding_years != n.funding_years:
            ow, nw = "–".join(map(str, o.funding_years)), "–".join(map(str, n.funding_years))
            self.add(n.in_force_cites or POLICY, "window", "policy.in_force", ow, nw, msg("diff.window", old=ow, new=nw))
        self.clauses()
        start = len(self.changes)
        self.parameters()
        self.parameter_users(start)
        self.vocabulary()
        self.checks()
        self.rules()
        self.texts("reading", {r.id: r.text for r in o.readings}, {r.id: r.text for r in n.readings})
        self.texts("note", {x.id: x.text for x in o.notes}, {x.id: x.text for x in n.notes})
        self.shaped()
        self.sections()
        self.words()
        return self.changes

    def words(self) -> None:
        """The words a decision quotes (a check's or condition's `says`, a cap's, a limit's, a fact's or an item
        type's label, an amount's base, a pending text) where both versions have the part: its old and new words.
        An explanation quotes them to applicants; a changed `says` was no change at all to diff (共 0 处变化)."""
        old, new = dict(_words_of(self.old.data, _WORDS_IN)), dict(_words_of(self.new.data, _WORDS_IN))
        for subject, (cites, text) in new.items():
            if subject not in old or old[subject][1] == text:
                continue
            clause = cites if cites in self.new.clauses else POLICY
            if clause == POLICY and subject.startswith("item_types."):  # (an item type's words: its rule's clause)
                clause = self._clause_of_type(self.new, subject.split(".")[1])
            s, t = _snip(old[subject][1], text, cells=self.cells)
            said = msg("diff.words.changed", subject=subject_words(subject), old=s, new=t)
            self.add(clause, "words.changed", subject, old[subject][1], text, said)

    def texts(self, kind: str, a: dict[str, model.Text], b: dict[str, model.Text]) -> None:
        """Readings or notes by id: removed, added, their words changed; under the clause of the first part citing
        them (in the new version, else the old), or the policy."""
        where = {**self.old_index.clause_of, **self.new_index.clause_of}
        for i in [x for x in a if x not in b]:
            self.add(where.get(i, POLICY), f"{kind}.removed", i, a[i].zh, None, msg(f"diff.{kind}.removed", id=i, text=a[i]))
        for i in [x for x in b if x not in a]:
            self.add(where.get(i, POLICY), f"{kind}.added", i, None, b[i].zh, msg(f"diff.{kind}.added", id=i, text=b[i]))
        for i in [x for x in b if x in a]:
            for lang in ("zh", "en"):
                x, y = getattr(a[i], lang), getattr(b[i], lang)
                if x != y:
                    s, t = _snip(x, y, cells=self.cells)
                    self.add(
                        where.get(i, POLICY),
                        f"{kind}.text",
                        f"{i}.{lang}",
                        x,
                        y,
                        msg(f"diff.{kind}.changed", id=i, lang=lang, old=s, new=t),
                    )

    def shaped(self) -> None:
        """The readings and notes each rule, check, condition, subject, cap and limit rests on, where both versions have it."""
        o, n = self.old_index.shaped, self.new_index.shaped
        for what in [w for w in n if w in o]:
            (_, ra, na), (cites, rb, nb) = o[what], n[what]
            for kind, x, y in (("readings", ra, rb), ("notes", na, nb)):
                if x != y:  # (said as lists: in the reader's separator, a reading's condition in the reader's words)
                    a, b = ", ".join(x) or msg("diff.w.none"), ", ".join(y) or msg("diff.w.none")
                    said = msg(f"diff.shaped.{kind}", what=what, old=list(x) or a, new=list(y) or b)
                    self.add(cites, kind, what, a, b, said)

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
                said = _HEADER_WORDS.get(subject, _said)
                if x is None:
                    self.add(clause, f"{name}.added", subject, None, _shown(y), msg("diff.section.added", subject=subject, value=said(y)))
                elif y is None:
                    self.add(
                        clause, f"{name}.removed", subject, _shown(x), None, msg("diff.section.removed", subject=subject, value=said(x))
                    )
                else:
                    if str(said(x)) == str(said(y)):  # (only what the words leave out changed: a rounding's readings)
                        said = _said
                    self.add(
                        clause,
                        f"{name}.changed",
                        subject,
                        _shown(x),
                        _shown(y),
                        msg("diff.section.changed", subject=subject, old=said(x), new=said(y)),
                    )

    def clauses(self) -> None:
        o, n = self.old.clauses, self.new.clauses
        for key in o.keys() - n.keys():
            self.add(key, "clause.removed", key, o[key].text, None, msg("diff.clause.removed", clause=key))
        for key in n:
            if key not in o:
                self.add(key, "clause.added", key, None, n[key].text, msg("diff.clause.added", clause=key, text=n[key].text))
                continue
            if o[key].text != n[key].text:
                a, b = _snip(o[key].text, n[key].text, cells=self.cells)
                self.add(key, "clause.text", key, o[key].text, n[key].text, msg("diff.clause.text", old=a, new=b))
            if o[key].computable != n[key].computable:
                self.add(
                    key,
                    "clause.computable",
                    key,
                    str(o[key].computable),
                    str(n[key].computable),
                    msg("diff.clause.computable", old=str(o[key].computable), new=str(n[key].computable)),
                )

    def parameters(self) -> None:
        """Dated parameters by name; their values by the date they are in force from (value, source)."""
        o, n = self.old_index.parameters, self.new_index.parameters
        for name in sorted(o.keys() - n.keys()):
            self.add(
                POLICY, "parameter.removed", name, o[name].label.zh, None, msg("diff.parameter.removed", name=name, label=o[name].label)
            )
        for name in sorted(n.keys() - o.keys()):
            p = n[name]
            # (each value with its date, as an added value of a parameter kept is said: "2 个取值" alone said neither)
            values: list[Msg | str] = [msg("diff.parameter.from", day=str(v.start), value=_parameter_value(p, v)) for v in p.values[:6]]
            said = msg("diff.parameter.added", name=name, label=p.label, n=len(p.values), values=values + ["…"] * (len(p.values) > 6))
            self.add(POLICY, "parameter.added", name, None, p.label.zh, said)
        for name in sorted(o.keys() & n.keys()):
            a, b = {v.start: v for v in o[name].values}, {v.start: v for v in n[name].values}
            if o[name].type != n[name].type:
                self.add(
                    POLICY,
                    "parameter.type",
                    name,
                    o[name].type,
                    n[name].type,
                    msg("diff.parameter.type", name=name, old=o[name].type, new=n[name].type),
                )
            label = n[name].label
            self.known_until(name, label, o[name].known_until, n[name].known_until)
            for day in sorted(a.keys() | b.keys()):
                va, vb = a.get(day), b.get(day)
                old, new = (None if va is None else va.shown), (None if vb is None else vb.shown)
                # (said as an officer reads an amount, 8,000.00 元, and the parameter by its words too)
                old_said, new_said = (None if v is None else _parameter_value(n[name], v) for v in (va, vb))
                if va is None:
                    self.add(
                        POLICY,
                        "parameter.value",
                        name,
                        None,
                        new,
                        msg(
                            "diff.parameter.value_added",
                            name=name,
                            label=label,
                            value=new_said,
                            day=str(day),
                            source=vb.source if vb else "",
                        ),
                    )
                elif vb is None:
                    self.add(
                        POLICY,
                        "parameter.value",
                        name,
                        old,
                        None,
                        msg("diff.parameter.value_removed", name=name, label=label, value=old_said, day=str(day)),
                    )
                elif va.value != vb.value or va.source != vb.source:
                    self.add(
                        POLICY,
                        "parameter.value",
                        name,
                        old,
                        new,
                        msg("diff.parameter.value", name=name, label=label, day=str(day), old=old_said, new=new_said),
                    )

    def parameter_users(self, start: int) -> None:
        """A value of a parameter changed, added or removed (the changes from `start`), followed by the rules of the
        new version whose expressions look it up: "lpr_1y from 2022-01-20: 3.70% → 3.75%" alone did not say which
        amounts it moves."""
        users: dict[str, list[str]] = {}
        for rule in self.new.rules:
            for name in dict.fromkeys(_parameters_in(rule)):
                users.setdefault(name, []).append(rule.id)
        for i in range(start, len(self.changes)):
            c = self.changes[i]
            if c.kind == "parameter.value" and users.get(c.subject):
                self.changes[i] = dataclasses.replace(c, text=msg("diff.parameter.used_by", said=c.text, rules=users[c.subject]))

    def known_until(self, name: str, label: Any, old: Any, new: Any) -> None:
        """A parameter's `known_until:` written, moved or taken out (a date past it has no value: items wait)."""
        if old != new:
            said = [str(d) if d is not None else msg("diff.parameter.open") for d in (old, new)]
            written = (None if old is None else str(old), None if new is None else str(new))
            self.add(
                POLICY,
                "parameter.known_until",
                name,
                *written,
                msg("diff.parameter.known_until", name=name, label=label, old=said[0], new=said[1]),
            )

    def vocabulary(self) -> None:
        o, n = self.old, self.new
        for t in sorted(o.item_facts.keys() - n.item_facts.keys()):
            self.add(
                self._clause_of_type(o, t),
                "item_type.removed",
                t,
                t,
                None,
                msg("diff.item_type.removed", type=t, label=o.item_type_labels[t]),
            )
        for t in sorted(n.item_facts.keys() - o.item_facts.keys()):
            self.add(
                self._clause_of_type(n, t),
                "item_type.added",
                t,
                None,
                t,
                msg("diff.item_type.added", type=t, label=n.item_type_labels[t]),
            )
        for t in sorted(o.item_facts.keys() & n.item_facts.keys()):
            of, nf = o.item_facts[t], n.item_facts[t]
            clause = self._clause_of_type(n, t)
            for f in sorted(of.keys() - nf.keys()):
                self.add(clause, "fact.removed", f"{t}.{f}", f, None, msg("diff.fact.removed", fact=f, type=t))
            for f in sorted(nf.keys() - of.keys()):
                req = msg("diff.w.required" if nf[f].required else "diff.w.optional")
                self.add(
                    clause,
                    "fact.added",
                    f"{t}.{f}",
                    None,
                    f,
                    msg("diff.fact.added", fact=f, type=t, fact_type=nf[f].type, required=req, label=nf[f].label),
                )
            for f in sorted(of.keys() & nf.keys()):
                if (of[f].type, of[f].values, of[f].required) != (nf[f].type, nf[f].values, nf[f].required):
                    self.add(
                        clause,
                        "fact.changed",
                        f"{t}.{f}",
                        of[f].type,
                        nf[f].type,
                        msg("diff.fact.changed", fact=f, type=t),
                    )

    @staticmethod
    def _clause_of_type(p: model.CompiledPolicy, item_type: str) -> str:
        rule = p.rules_by_type.get(item_type)
        return rule.cites if rule is not None else POLICY

    def checks(self) -> None:
        o, n = self.old_index.checks, self.new_index.checks
        for cid in sorted(o.keys() - n.keys()):
            self.add(o[cid][0], "check.removed", cid, o[cid][1], None, msg("diff.check.removed", id=cid, test=o[cid][1]))
        for cid in sorted(n.keys() - o.keys()):
            self.add(n[cid][0], "check.added", cid, None, n[cid][1], msg("diff.check.added", id=cid, test=n[cid][1]))
        for cid in sorted(o.keys() & n.keys()):
            (oc, ot, ok, oa), (nc, nt, nk, na) = o[cid], n[cid]
            if ot != nt:
                self.add(nc, "check.test", cid, ot, nt, msg("diff.check.test", id=cid, old=ot, new=nt))
            if oc != nc:
                self.add(nc, "check.cites", cid, oc, nc, msg("diff.check.cites", id=cid, old=oc, new=nc))
            if ok != nk:
                kinds = self.words_for("applicant_kinds")
                said = msg("diff.check.who", id=cid, old=_set(ok, kinds), new=_set(nk, kinds))
                self.add(nc, "check.who", cid, _set(ok), _set(nk), said)
            if oa != na:
                types = self.words_for("item_type_labels")
                said = msg("diff.check.applies_to", id=cid, old=_set(oa, types), new=_set(na, types))
                self.add(nc, "check.applies_to", cid, _set(oa), _set(na), said)

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
                msg("diff.rule.retired", rule=rid, amount=describe_amount(r.amount), type=r.item_type),
            )
        for rid in [r for r in n if r not in o]:
            r = n[rid].rule
            caps = [msg("diff.w.cap", id=c.id, ceiling=_amount(c.ceiling), scope=_scope_words(self.new, rid, c.per)) for c in n[rid].caps]
            self.add(
                r.cites,
                "rule.added",
                rid,
                None,
                describe_amount(r.amount),
                msg(
                    "diff.rule.added_caps" if caps else "diff.rule.added",
                    rule=rid,
                    type=r.item_type,
                    amount=describe_amount(r.amount),
                    caps=_semi(caps),
                ),
            )
        for rid in [r for r in n if r in o]:
            self.rule(o[rid], n[rid])

    def rule(self, pa: _RuleParts, pb: _RuleParts) -> None:
        a, b = pa.rule, pb.rule
        c, rid = b.cites, b.id
        if a.cites != b.cites:
            self.add(c, "rule.cites", rid, a.cites, b.cites, msg("diff.rule.cites", rule=rid, old=a.cites, new=b.cites))
        if a.item_type != b.item_type:
            self.add(
                c, "rule.item_type", rid, a.item_type, b.item_type, msg("diff.rule.item_type", rule=rid, old=a.item_type, new=b.item_type)
            )
        kinds, roles = self.words_for("applicant_kinds"), self.words_for("applicant_roles")
        for k in sorted(b.kinds - a.kinds):
            self.add(c, "who.added", rid, None, k, msg("diff.who.added", rule=rid, kind=_coded_word(kinds, k)))
        for k in sorted(a.kinds - b.kinds):
            self.add(c, "who.removed", rid, k, None, msg("diff.who.removed", rule=rid, kind=_coded_word(kinds, k)))
        if a.roles != b.roles:
            old, new = _set(a.roles, roles), _set(b.roles, roles)
            self.add(c, "who.roles", rid, _set(a.roles), _set(b.roles), msg("diff.who.roles", rule=rid, old=old, new=new))
        self.conditions(rid, c, pa.conditions, pb.conditions)
        self.amount(rid, c, a.amount, b.amount)
        if (a.referral is None) != (b.referral is None):
            self.add(
                c,
                "referral",
                rid,
                str(a.referral is not None),
                str(b.referral is not None),
                msg("diff.referral.added" if b.referral else "diff.referral.removed", rule=rid),
            )
        self.caps(rid, pa.caps, pb.caps)
        self.limits(rid, pa.limits, pb.limits)
        self.subject_and_selection(rid, a, b)
        ad, bd = {d.doc for d in pa.documents}, {d.doc for d in pb.documents}
        docs = self.words_for("documents")
        for d in sorted(bd - ad):
            self.add(c, "documents.added", rid, None, d, msg("diff.documents.added", rule=rid, document=_coded_word(docs, d)))
        for d in sorted(ad - bd):
            self.add(c, "documents.removed", rid, d, None, msg("diff.documents.removed", rule=rid, document=_coded_word(docs, d)))
        if a.documents_required != b.documents_required:
            self.add(
                c,
                "documents.required",
                rid,
                str(a.documents_required),
                str(b.documents_required),
                msg("diff.documents.required", rule=rid, old=str(a.documents_required), new=str(b.documents_required)),
            )

    def conditions(self, rid: str, clause: str, a: list[model.Test], b: list[model.Test]) -> None:
        sa = {t.expression.source: t for t in a}
        sb = {t.expression.source: t for t in b}
        for src in sa.keys() - sb.keys():
            self.add(clause, "condition.removed", rid, src, None, msg("diff.condition.removed", rule=rid, test=src, says=sa[src].says))
        for src in sb.keys() - sa.keys():
            self.add(clause, "condition.added", rid, None, src, msg("diff.condition.added", rule=rid, test=src, says=sb[src].says))

    def amount(self, rid: str, clause: str, a: model.AmountForm | None, b: model.AmountForm | None) -> None:
        if isinstance(a, model.RateAmount) and isinstance(b, model.RateAmount):
            if a.rate != b.rate:
                self.add(
                    clause,
                    "rate",
                    rid,
                    percent(a.rate),
                    percent(b.rate),
                    msg("diff.rate", rule=rid, old=percent(a.rate), new=percent(b.rate)),
                )
            if _of(a) != _of(b):
                sa, sb = (_with_values(_labelled(f), p, f.of) for f, p in ((a, self.old), (b, self.new)))
                self.add(clause, "rate.base", rid, _of(a), _of(b), msg("diff.rate_base", rule=rid, old=sa, new=sb))
        elif isinstance(a, model.FixedAmount) and isinstance(b, model.FixedAmount):
            if a.value != b.value:
                sa, sb = _amounts(a.value, b.value)
                self.add(clause, "amount", rid, sa, sb, msg("diff.amount", rule=rid, old=sa, new=sb))
        elif isinstance(a, model.TableAmount) and isinstance(b, model.TableAmount):
            for k in a.table.keys() | b.table.keys():
                va, vb = a.table.get(k), b.table.get(k)
                if va != vb:
                    sa, sb = _amounts(va, vb)
                    entry = self.entry_words(rid, b.by.source, k)
                    self.add(clause, "amount", f"{rid}[{k}]", sa, sb, msg("diff.amount_for", rule=rid, entry=entry, old=sa, new=sb))
        elif _same_count(a, b):
            assert isinstance(a, model.PerUnitAmount) and isinstance(b, model.PerUnitAmount)
            self.per_unit(rid, clause, a, b)
        elif describe_amount(a) != describe_amount(b):
            sa, sb = _with_values(describe_amount(a), self.old, a), _with_values(describe_amount(b), self.new, b)
            self.add(clause, "amount.form", rid, describe_amount(a), describe_amount(b), msg("diff.amount", rule=rid, old=sa, new=sb))

    def per_unit(self, rid: str, clause: str, a: model.PerUnitAmount, b: model.PerUnitAmount) -> None:
        """Two sums per unit of one count, said as a pair (10,000.00 元 → 15,000.00 元, not 1万 → 15,000.00 元 × the count
        twice), each per its unit; and the ceiling on the count."""
        unit = b.unit or msg("diff.w.unit_item")
        if a.per_unit != b.per_unit:
            sa, sb = _amounts(a.per_unit, b.per_unit)
            said = msg("diff.per_unit", rule=rid, unit=unit, count=b.count.source, old=sa, new=sb)
            self.add(clause, "amount", rid, sa, sb, said)
        if a.max_count != b.max_count:
            ma, mb = (msg("diff.w.no_max_count") if m is None else str(m) for m in (a.max_count, b.max_count))
            self.add(clause, "max_count", rid, ma, mb, msg("diff.max_count", rule=rid, unit=unit, old=ma, new=mb))

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
            self.add(x.cites, f"{kind}.removed", xid, value(x), None, removed(x))
        for xid in pb.keys() - pa.keys():
            x = pb[xid]
            self.add(x.cites, f"{kind}.added", xid, None, value(x), added(x))
        for xid in pa.keys() & pb.keys():
            yield pa[xid], pb[xid]

    def caps(self, rid: str, a: list[model.Cap], b: list[model.Cap]) -> None:
        def ceiling(c: model.Cap) -> str:
            return _amount(c.ceiling) if c.computed is None else msg("diff.w.computed", amount=describe_amount(c.computed))

        def removed(c: model.Cap) -> str:
            return msg("diff.cap.removed", rule=rid, id=c.id, ceiling=ceiling(c), scope=_scope_words(self.old, rid, c.per))

        def added(c: model.Cap) -> str:
            return msg("diff.cap.added", rule=rid, id=c.id, ceiling=ceiling(c), scope=_scope_words(self.new, rid, c.per))

        for x, y in self.by_id(rid, "cap", a, b, ceiling, removed, added):
            if ceiling(x) != ceiling(y):
                sa, sb = _amounts(x.ceiling, y.ceiling) if x.computed is None and y.computed is None else (ceiling(x), ceiling(y))
                self.add(
                    y.cites,
                    "cap",
                    x.id,
                    sa,
                    sb,
                    msg("diff.cap.ceiling", rule=rid, id=x.id, scope=_scope_words(self.new, rid, y.per), old=sa, new=sb),
                )
            if _scope(x.per) != _scope(y.per):
                self.add(
                    y.cites,
                    "cap.scope",
                    x.id,
                    _scope(x.per),
                    _scope(y.per),
                    msg(
                        "diff.cap.scope", rule=rid, id=x.id, old=_scope_words(self.old, rid, x.per), new=_scope_words(self.new, rid, y.per)
                    ),
                )
            if _applies(x) != _applies(y):
                self.add(
                    y.cites,
                    "cap.applies",
                    x.id,
                    _applies(x),
                    _applies(y),
                    msg("diff.cap.applies", rule=rid, id=x.id, old=_applies(x), new=_applies(y)),
                )

    def limits(self, rid: str, a: list[model.Limit], b: list[model.Limit]) -> None:
        def times(x: model.Limit) -> str:
            return str(x.times)

        def unit(x: model.Limit) -> Any:  # (what one counting is: 年, else 次)
            return x.unit if x.unit is not None else msg("casetest.step.times")

        def removed(x: model.Limit) -> str:
            return msg("diff.limit.removed", rule=rid, id=x.id, times=x.times, unit=unit(x))

        def added(x: model.Limit) -> str:
            return msg("diff.limit.added", rule=rid, id=x.id, times=x.times, unit=unit(x), scope=_scope_words(self.new, rid, x.per))

        for x, y in self.by_id(rid, "limit", a, b, times, removed, added):
            if x.times != y.times:
                said = msg("diff.limit.times", rule=rid, id=x.id, old=x.times, new=y.times, unit=unit(y))
                self.add(y.cites, "limit", x.id, times(x), times(y), said)
            if x.unit != y.unit:
                old, new = (_shown(u.to_dict()) if u is not None else None for u in (x.unit, y.unit))
                self.add(y.cites, "limit.unit", x.id, old, new, msg("diff.limit.unit", rule=rid, id=x.id, old=unit(x), new=unit(y)))
            if x.consecutive != y.consecutive:
                said = msg(
                    "diff.limit.consecutive" if y.consecutive else "diff.limit.not_consecutive",
                    rule=rid,
                    id=x.id,
                    times=y.times,
                    unit=unit(y),
                )
                self.add(y.cites, "limit.consecutive", x.id, str(x.consecutive).lower(), str(y.consecutive).lower(), said)
            if _scope(x.per) != _scope(y.per) or _scope(x.counting) != _scope(y.counting):
                self.add(y.cites, "limit.scope", x.id, _scope(x.per), _scope(y.per), msg("diff.limit.scope", rule=rid, id=x.id))
            if _applies(x) != _applies(y):
                self.add(
                    y.cites,
                    "limit.applies",
                    x.id,
                    _applies(x),
                    _applies(y),
                    msg("diff.limit.applies", rule=rid, id=x.id, old=_applies(x), new=_applies(y)),
                )

    def subject_and_selection(self, rid: str, a: model.Rule, b: model.Rule) -> None:
        """Only the highest / 补差 and the round selection, each in words; a change of either is one change."""
        said = (_subject_words(a.subject), _subject_words(b.subject))
        if said[0] != said[1]:
            subject = b.subject or a.subject
            cites = subject.cites if subject is not None else b.cites
            self.add(cites, "subject", rid, said[0], said[1], msg("diff.subject", rule=rid, old=said[0], new=said[1]))
        said = (_selection_words(a.selection), _selection_words(b.selection))
        if said[0] != said[1]:
            sel = b.selection or a.selection
            words = (
                _selection_words(a.selection, lambda per: _scope_words(self.old, rid, per)),
                _selection_words(b.selection, lambda per: _scope_words(self.new, rid, per)),
            )
            self.add(
                sel.cites if sel else b.cites,
                "selection",
                rid,
                said[0],
                said[1],
                msg("diff.selection", rule=rid, old=words[0], new=words[1]),
            )


def _subject_words(s: model.Subject | None) -> str:
    if s is None:
        return msg("diff.w.none")
    later = msg("diff.w.later_difference") if s.later == "difference" else ""
    earlier = msg("diff.w.requires_earlier") if s.requires_earlier else ""
    pays = msg("diff.w.highest" if s.pays == "highest" else "diff.w.difference")
    return msg("diff.w.subject", pays=pays, later=later, earlier=earlier, group=s.group, keys=[k.source for k in s.key])


def _applies(x: model.Cap | model.Limit) -> str:
    """Whom and when a cap or limit applies to (`who:` / `when:`), in words."""
    parts = [
        msg("diff.w.for", kinds=sorted(x.kinds)) if x.kinds is not None else "",
        msg("diff.w.when", test=x.applies_when.source) if x.applies_when else "",
    ]
    said = [p for p in parts if p]
    if not said:
        return msg("diff.w.always")
    return said[0] if len(said) == 1 else msg("diff.w.for_when", who=said[0], when=said[1])


def _selection_words(s: model.Selection | None, scope: Callable[[tuple[Any, ...]], str] = _scope) -> str:
    if s is None:
        return msg("diff.w.none")
    parts: list[str] = [
        msg("diff.w.first", n=s.first) if s.first is not None else "",
        msg("diff.w.within", budget=_amount(s.budget)) if s.budget is not None else "",
    ]
    keys = [msg("diff.w.descending", by=k.by.source) if k.descending else k.by.source for k in s.order]
    parts.append(msg("diff.w.by", keys=keys))
    if s.per:
        parts.append(scope(s.per))
    return _semi(p for p in parts if p)


def _shown(value: Any, limit: int = 300) -> str:
    """A value of the policy document as a diff line shows it: compact JSON, at most `limit` characters."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str, separators=(", ", ": "))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _said(value: Any) -> Any:
    """A value as a diff line says it: words in both languages (`{zh, en}`, a policy's words) in the reader's, quoted;
    anything else as `_shown` (the JSON output keeps `_shown` for both)."""
    if isinstance(value, dict) and set(value) == {"zh", "en"} and all(isinstance(v, str) for v in value.values()):
        return model.Text(_quoted(value["zh"]), _quoted(value["en"]))
    return _shown(value)


def _rounding_words(value: Any) -> Any:
    """A policy's `rounding:` as an officer reads it (四舍五入至 0.01 元), not as JSON; its readings are said apart."""
    if not isinstance(value, dict):
        return _said(value)
    mode, quantum = value.get("mode", "half_up"), value.get("quantum", "0.01")
    return msg("diff.w.rounding", mode=msg(f"rounding_mode.{mode}"), quantum=quantum)


def _order_words(value: Any) -> Any:
    """A policy's `refusal_order:` as its categories' words, in order (申请人资格、支持范围、…（依次）)."""
    if not isinstance(value, list):
        return _said(value)
    return msg("diff.w.order", items=[msg(f"diff.w.category.{c}") for c in value])


def _budget_words(value: Any) -> Any:
    """A round budget as an officer reads it (500万（第N条）); how its scaled grants are rounded, as written."""
    try:
        amount = parse_amount(value["amount"]) if isinstance(value, dict) else None
    except QuantityError:
        amount = None
    if amount is None or set(value) - {"amount", "cites"}:
        return _said(value)
    return msg("diff.w.budget", amount=_amount(amount), cites=value.get("cites") or msg("diff.w.none"))


def _behaviour_words(value: Any) -> Any:
    """A policy's `behaviours:` as an officer reads them: each behaviour's words and the readings and notes it rests
    on (封顶额度用尽：R21；缺少事实：N4), not as JSON."""
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        return _said(value)
    parts = [
        msg(
            "diff.w.behaviour",
            name=msg(f"diff.w.behaviour_name.{k}"),
            ids=[*v.get("readings", ()), *v.get("notes", ())] or msg("diff.w.none"),
        )
        for k, v in value.items()
    ]
    # (in both languages, as a policy's words are: said in the reader's when the line is)
    return model.Text(*(lookup("diff.w.semicolon", lang).join(p.render(lang) for p in parts) for lang in ("zh", "en")))


#: how an entry of the policy's header is said where its own words are clearer than its JSON (else `_said`)
_HEADER_WORDS: dict[str, Callable[[Any], Any]] = {
    "policy.rounding": _rounding_words,
    "policy.refusal_order": _order_words,
    "policy.round_budget": _budget_words,
    "policy.behaviours": _behaviour_words,
}


def _quoted(text: str, limit: int = 300) -> str:
    """A policy's words in quotes, at most `limit` characters of them (as `_shown` bounds a value)."""
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


def _set(values: Any, words: Mapping[str, model.Text] | None = None) -> Any:
    """A set of codes, or every one (None): as codes (a change's old and new), or, given the policy's `words` for
    them, each said 事业单位（public_institution） (a change's text: a reviewer reads no codes)."""
    if values is None:
        return msg("diff.w.all")
    if words is None:
        return "[" + ", ".join(sorted(values)) + "]"
    return [_coded_word(words, v) for v in sorted(values)]


def _coded_word(words: Mapping[str, model.Text], code: str) -> Any:
    """A code said in the policy's words with the code: 事业单位（public_institution）; the code alone without words."""
    return policy_words(coded(words[code], code)) if code in words else code


#: the sections whose words `_Differ.words` compares (the clauses' texts, the readings and notes, the header and the
#: other sections are compared on their own)
_WORDS_IN = ("item_facts", "item_types", "checks", "rules", "shared_caps", "shared_limits", "parameters")
#: the keys whose text is words a decision or an explanation shows
_WORD_KEYS = frozenset({"zh", "en", "says", "pending"})


#: a part of a policy named by its id in brackets (`rules[pledge-loan-interest]`), as a subject's words say it
_BRACKETED = {
    "rules": "rule",
    "when": "condition",
    "checks": "check",
    "caps": "cap",
    "shared_caps": "cap",
    "limits": "limit",
    "shared_limits": "limit",
    "documents": "document",
}
#: a part named by its key after a dot (`item_types.pledge_loan`)
_KEYED = {"item_types": "item_type", "item_facts": "fact", "facts": "fact", "parameters": "parameter"}
#: the words a part holds, by their key
_HELD = frozenset({"amount", "subject", "selection", "referral", "to", "says", "base", "unit", "pending"})


def _path_segments(path: str) -> list[tuple[str, str | None]]:
    """`rules[a].when[item.x in ["b"]].says.en` -> [("rules", "a"), ("when", 'item.x in ["b"]'), ("says", None),
    ("en", None)]: the bracket's text may hold brackets and dots of its own (a condition's test)."""
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < len(path):
        j = i
        while j < len(path) and path[j] not in ".[":
            j += 1
        name, key = path[i:j], None
        if j < len(path) and path[j] == "[":
            depth, k = 0, j
            while k < len(path):
                depth += {"[": 1, "]": -1}.get(path[k], 0)
                if depth == 0:
                    break
                k += 1
            key, j = path[j + 1 : k], k + 1
        out.append((name, key))
        i = j + 1 if j < len(path) and path[j] == "." else j
    return out


def subject_words(path: str) -> Msg | str:
    """Where a changed text is, in an officer's words: `rules[invention-patent-fees].when[item.kind == "x"].says.en`
    is "rule invention-patent-fees › condition item.kind == "x" › says (English)"; a part it does not know, as written."""
    parts: list[Msg | str] = []
    segments = _path_segments(path)
    i = 0
    while i < len(segments):
        name, key = segments[i]
        if key is not None:
            parts.append(msg(f"diff.where.{_BRACKETED[name]}", id=key) if name in _BRACKETED else f"{name}[{key}]")
        elif name in _KEYED and i + 1 < len(segments) and segments[i + 1][1] is None:
            i += 1
            parts.append(msg(f"diff.where.{_KEYED[name]}", id=segments[i][0]))
        elif name in _HELD:
            parts.append(msg(f"diff.where.{name}"))
        elif name in ("zh", "en") and i == len(segments) - 1:
            held = parts and isinstance(parts[-1], Msg) and parts[-1].key.rsplit(".", 1)[-1] in _HELD
            what = parts.pop() if held else msg("diff.where.label")
            parts.append(msg(f"diff.where.{name}", what=what))
        else:
            parts.append(name)
        i += 1
    said = parts[0] if parts else path
    for part in parts[1:]:
        said = msg("diff.where.in", outer=said, inner=part)
    return said


def _words_of(data: Any, sections: Iterable[str]) -> Iterator[tuple[str, tuple[str | None, str]]]:
    """(where, (the clause cited there, the words)) of every text under `_WORD_KEYS` in `sections` of a policy
    document; a list's element named by its id where it has one: rules[pledge-loan-interest].caps[...].says.zh."""
    stack: list[tuple[Any, str, str | None]] = [(data.get(name), name, None) for name in sections if isinstance(data, dict)]
    while stack:
        node, path, cites = stack.pop()
        if isinstance(node, dict):
            here = node.get("cites") if isinstance(node.get("cites"), str) else cites
            for k, v in node.items():
                if isinstance(v, str) and k in _WORD_KEYS:
                    yield f"{path}.{k}", (here, v)
                elif isinstance(v, dict | list):
                    stack.append((v, f"{path}.{k}", here))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                # an element by its id, a condition by its test (a condition inserted shifted every later one's
                # place, and each was said changed), else by its place
                key = v.get("id") if isinstance(v, dict) and isinstance(v.get("id"), str) else i
                if isinstance(v, dict) and isinstance(v.get("test"), str) and key == i:
                    key = v["test"]
                stack.append((v, f"{path}[{key}]", cites))


def diff_policies(old: model.CompiledPolicy, new: model.CompiledPolicy) -> list[Change]:
    """Every change from `old` to `new`, in the officer's terms, grouped in clause order."""
    changes = _Differ(old, new).run()
    order = {k: i for i, k in enumerate([*old.clauses, *[k for k in new.clauses if k not in old.clauses]])}
    return sorted(changes, key=lambda ch: -1 if ch.clause == POLICY else order.get(ch.clause, len(order)))


def same_version(old: model.CompiledPolicy, new: model.CompiledPolicy, changes: list[Change]) -> Msg | None:
    """`diff.same_version` when the two files are versions of one policy under one version label and differ: most
    likely the revision's label was never bumped, and its decisions and ledger rows would name the version the old
    file's do. None otherwise (two files the same but for their layout are rightly one version; two policies'
    ids differ, said as a change)."""
    if old.id != new.id or old.version != new.version or not changes:
        return None
    return msg("diff.same_version", version=old.version, new_file=new.file, n=len(changes))


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
    type_label: model.Text | None = None  # the item type's words (said in the reader's language; its code in JSON)

    @property
    def delta(self) -> Decimal:
        return self.new_amount - self.old_amount

    @property
    def changed(self) -> bool:
        return self.old_status != self.new_status or self.old_amount != self.new_amount

    def text(self) -> str:
        return msg(
            "diff.impact.item",
            claim=self.claim_id,
            item=self.item_id,
            type=self.type_label or self.item_type,
            old_status=_status_word(self.old_status),
            old=said_money(self.old_amount),
            new_status=_status_word(self.new_status),
            new=said_money(self.new_amount),
            delta=said_money(self.delta, signed=True),
        )


@dataclass
class Impact:
    items: list[ItemImpact] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)  # error records, as a batch writes them
    claims: int = 0
    headings: dict[str, Any] = field(default_factory=dict)  # both versions' columns' words (`headings_of`): a field's name

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
            "notes": [tr(n) for n in self.notes],
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


CLAIM_FORMATS = msg("diff.claim_formats")


def read_claims(
    path: str | Path, *policies: model.CompiledPolicy, encoding: str | None = None, noticed: list[Msg] | None = None
) -> list[Record]:
    """Claims of a round, read as a batch reads them (`engine.records.inputs.open_claims`): one `Record` per
    application, with where it came from (line, or sheet and row) and any reading problems.

    Formats: see CLAIM_FORMATS. CSV and XLSX columns are the policy's fact names: `policies` are tried in
    order (the version in force first, then the revision) and the first whose vocabulary accepts the
    columns reads the file. Raises `InputError` when the input as a whole cannot be read, or holds no application.
    """
    p = Path(path)
    if p.suffix.lower() in (".csv", ".xlsx") and not policies:
        raise InputError(msg("diff.needs_policy", path=str(p)))
    first: InputError | None = None
    for policy in policies or (cast(model.CompiledPolicy, None),):  # JSON and YAML readers do not use the policy
        try:
            reader = open_claims(p, policy, encoding)
        except InputError as exc:
            first = first or exc
            continue
        try:
            records = list(reader)
            if noticed is not None:  # what the reader noticed (cells read as Excel shows them, hidden rows)
                noticed += reader.notices()
            return records
        except InputError as exc:
            first = first or exc
        finally:
            reader.close()
    assert first is not None
    raise first


def _in_whole_claim(problem: Problem, kept_at: list[int]) -> Problem:
    """A problem of a claim with its retired items left out, its path (`items[0].x`) as the whole claim has it
    (`items[1].x`, the retired item first): "第 1 个事项" named the retired item."""
    path = problem.path
    if len(path) > 1 and path[0] == "items" and isinstance(path[1], int) and 0 <= path[1] < len(kept_at):
        return dataclasses.replace(problem, path=("items", kept_at[path[1]], *path[2:]))
    return problem


def _widen(policy: model.CompiledPolicy, years: Iterable[int]) -> model.CompiledPolicy:
    ys = list(years)
    lo, hi = policy.funding_years
    if not ys or all(lo <= y <= hi for y in ys):
        return policy
    return dataclasses.replace(policy, funding_years=(min(lo, *ys), max(hi, *ys)))


def _article(policy: model.CompiledPolicy, cites: str) -> str:
    clause = policy.clauses.get(cites)
    return clause.article if clause is not None else cites


def _decide_round(
    policy: model.CompiledPolicy, claims: list[Mapping[str, Any]], label: Msg, steps: Steps | None
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """The claims decided as one round, as `batch` decides it (`decide_in_memory`): each claim's decision, and each
    error record, by the claim's place in `claims`. Said as a step on `steps`, if given (the version as `label`)."""
    said = None
    if steps is not None:
        steps.start(msg("diff.step.round", label=label, version=policy.version, n=len(claims)))
        said = lambda n: steps.progress(n, len(claims), "batch.progress.applications")  # noqa: E731
    decisions, errors = decide_in_memory(policy, claims, said)
    return {int(d["input"]["line"]) - 1: d for d in decisions}, {int(e["where"]["line"]) - 1: e for e in errors}


# long because: both versions' rounds, then each claim's items compared in the input's order, retired types and
# errors in their places
def impact(old: model.CompiledPolicy, new: model.CompiledPolicy, claims: Iterable[Record], steps: Steps | None = None) -> Impact:
    """Decide the round under both versions and compare, item by item.

    The round is decided as `batch` decides it, once per version: an applicant's claims share its caps and limits,
    round selections (first N, top N) are ranked over the round and a round budget scales it (deciding each claim
    alone missed all three: a revision that let a sixth project into a top-5 selection, and the budget's new scaling,
    showed as "no decision changes"). No ledger's history counts. A claim that cannot be read, or is invalid under
    either version, gets an error record as a batch writes it (application number, claim id, where, and each
    problem with its line or row and field), and is left out of that version's round. `steps`: each round said as a
    step, with a bar once it is long (the CLI's, on a terminal).
    """
    records = list(claims)
    result = Impact(claims=len(records), headings=headings_of((old, new)))
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
    for label, pol in ((msg("diff.impact.old"), old), (msg("diff.impact.new"), new)):
        outside = [y for y in years if not pol.covers(y)]
        if outside:
            lo, hi = pol.funding_years
            result.notes.append(
                msg("diff.impact.what_if", label=label, version=pol.version, first=lo, last=hi, years=[str(y) for y in outside])
            )
    retired_types = set(old.item_facts) - set(new.item_facts)
    added_types = set(new.item_facts) - set(old.item_facts)
    # each record read under both versions first (its errors where it was read); the valid ones make each round
    compared: list[tuple[Record, int | None, int | None]] = []  # (record, its place in the old round, in the new one)
    old_round: list[Mapping[str, Any]] = []
    new_round: list[Mapping[str, Any]] = []
    for rec in records:
        if rec.data is None:
            result.errors.append(error_record(rec, rec.problems, msg("diff.impact.unreadable")))
            continue
        # an item of a type the old version lacks (an article the revision adds) is no error of the claim: the old
        # version pays it nothing (`added`), as the new one pays a retired type's item nothing (`retired`)
        at_old = _read_under(wide_old, rec, added_types, old_round, result, "OLD")
        if at_old is _INVALID:
            continue
        at_new = _read_under(wide_new, rec, retired_types, new_round, result, "NEW")
        at_new = None if at_new is _INVALID else at_new
        if at_old is not None or at_new is not None:
            compared.append((rec, cast(int | None, at_old), cast(int | None, at_new)))
    decided_old, refused_old = _decide_round(wide_old, old_round, msg("diff.impact.old"), steps) if old_round else ({}, {})
    decided_new, _ = _decide_round(wide_new, new_round, msg("diff.impact.new"), steps) if new_round else ({}, {})
    if steps is not None:
        steps.done()
    for rec, at_old, at_new in compared:
        d_old = decided_old.get(at_old) if at_old is not None else None
        if at_old is not None and d_old is None:  # (the round refused it: its own error record's words and problems)
            refused = refused_old.get(at_old, {})
            problems = [{**p, **rec.where} for p in refused.get("problems", [])]  # (not the temporary round's file)
            result.errors.append({**error_record(rec, problems, refused.get("error") or msg("diff.impact.unreadable")), "under": "OLD"})
            continue
        d_new = decided_new.get(at_new) if at_new is not None else None
        result.items.extend(_item_impacts(old, new, rec, d_old, d_new, retired_types, added_types))
    return result


#: what `_read_under` answers for a claim invalid under the version
_INVALID = object()


def _labelled(form: model.RateAmount) -> Any:
    """A rate form's base by its words (`base:`), the expression after: 贷款金额按一年期LPR计算的一年利息（item.loan_amount * …）."""
    return _of(form) if form.base is None or form.of_table is not None else msg("diff.w.labelled", label=form.base, expression=_of(form))


def _same_count(a: model.AmountForm | None, b: model.AmountForm | None) -> bool:
    """Two per-unit amounts of a constant sum per unit that count the same thing in the same unit (their sums and
    ceilings compared apart)."""
    if not (isinstance(a, model.PerUnitAmount) and isinstance(b, model.PerUnitAmount) and a.fixed_per_unit and b.fixed_per_unit):
        return False
    return (a.count.source, a.unit, a.base) == (b.count.source, b.unit, b.base)


def _parameter_value(p: model.Parameter, v: model.ParameterValue) -> str:
    """A parameter's value as the diff says it: an amount as an officer reads one (80,000.00 元), else as written."""
    return said_money(Decimal(v.value)) if p.type == "money" else v.shown


def _read_under(
    policy: model.CompiledPolicy,
    rec: Record,
    left_out: set[str],
    round_: list[Mapping[str, Any]],
    result: Impact,
    side: str,
) -> int | object | None:
    """The claim of `rec` without its items of the types `left_out`, checked under `policy` and added to `round_`: its
    place there; None when no item is left; `_INVALID` when it is invalid (its error record, each problem placed by
    its item's place in the whole claim, added to `result` under `side`)."""
    data = rec.data or {}
    items = data.get("items", [])
    kept_at = [i for i, it in enumerate(items) if not (isinstance(it, Mapping) and it.get("type") in left_out)]
    if not kept_at and items:
        return None
    kept = data if len(kept_at) == len(items) else {**data, "items": [items[i] for i in kept_at]}
    try:
        parse_claim(policy, kept, file=rec.where.get("file"))
    except EngineError as err:
        whole = EngineError([_in_whole_claim(p, kept_at) for p in err.problems], err.summary)
        result.errors.append({**error_record(rec, claim_problems(rec, whole), err.summary), "under": side})
        return _INVALID
    round_.append(kept)
    return len(round_) - 1


def _item_impacts(
    old: model.CompiledPolicy,
    new: model.CompiledPolicy,
    rec: Record,
    d_old: Mapping[str, Any] | None,
    d_new: Mapping[str, Any] | None,
    retired_types: set[str],
    added_types: set[str],
) -> Iterator[ItemImpact]:
    """Each item of the claim of `rec`, in the claim's order, as decided under each version: `retired` under the new
    one for a type it retired, `added` under the old one for a type the new one adds, `error` where the other
    version's round refused the claim."""
    cites_old = {r.id: r.cites for r in old.rules}
    cites_new = {r.id: r.cites for r in new.rules}
    by_old = {d["item"]: d for d in d_old["items"]} if d_old is not None else {}
    by_new = {d["item"]: d for d in d_new["items"]} if d_new is not None else {}
    claim_id = (d_old or d_new or {}).get("claim_id") or rec.claim_id or ""
    for it in (rec.data or {}).get("items", []):
        if not isinstance(it, Mapping):
            continue
        item_id, kind = str(it.get("id")), str(it.get("type"))
        do, dn = by_old.get(item_id), by_new.get(item_id)
        if do is None and kind not in added_types:
            continue
        old_side = (do["status"], Decimal(do["amount"]), _article(old, cites_old.get(do["rule"], ""))) if do else ("added", ZERO, None)
        new_side = (dn["status"], Decimal(dn["amount"]), _article(new, cites_new.get(dn["rule"], ""))) if dn else None
        status, amount, article = new_side or ("retired" if kind in retired_types else "error", ZERO, None)
        label = old.item_type_labels.get(kind) or new.item_type_labels.get(kind)
        yield ItemImpact(claim_id, item_id, kind, old_side[2], article, old_side[0], old_side[1], status, amount, label)


def error_lines(error: Mapping[str, Any], headings: Mapping[str, Any] | None = None) -> list[str]:
    """An impact error record in words: the application, then each problem as batch's console says it
    (`problem_said`: its place, the field by its column's words in `headings`, what is wrong, and the fix)."""
    side = error.get("under")  # (OLD or NEW in the record, for programs; said in the reader's words)
    under = msg("diff.impact.under", version=msg(f"diff.impact.{side.lower()}") if side in ("OLD", "NEW") else side) if side else ""
    cid = f" {error['claim_id']}" if error.get("claim_id") else ""
    lang = language()
    said, problems = in_language(error, lang)  # the record's words in the reader's language (`said`)
    lines = [tr(msg("diff.impact.not_compared", where=where_text(error["where"]), claim=cid, error=said, under=under))]
    for p in problems:
        line, fix = problem_said(p, error, said, headings or {}, lang)
        lines.append("  " + (line if fix is None else tr(msg("batch.problem_with_fix", problem=line, fix=fix), lang)))
    return lines


def format_changes(old: model.CompiledPolicy, new: model.CompiledPolicy, changes: list[Change]) -> str:
    # (the measures by their title, the newer's, as `versions` heads its listing: it was the policy's id, a code)
    named = policy_words(new.title)
    lines = [tr(msg("diff.heading", policy=named, old=old.version, old_file=old.file, new=new.version, new_file=new.file, n=len(changes)))]
    current = None
    for ch in changes:
        if ch.clause != current:
            current = ch.clause
            lines.append(tr(msg("diff.w.policy")) if current == POLICY else current)
        lines.append(f"  - {tr(ch.text)}")
    return "\n".join(lines) + "\n"


def format_impact(result: Impact) -> str:
    lines = [tr(msg("diff.impact.heading", n=result.claims))]
    lines += ["  " + tr(msg("diff.impact.note", note=n)) for n in result.notes]
    if result.errors:
        lines.append("  " + tr(msg("diff.impact.errors", n=len(result.errors))))
        lines += [f"    {line}" for e in result.errors for line in error_lines(e, result.headings)]
    changed = result.changed
    lines.append("  " + tr(msg("diff.impact.changed", n=len(changed)) if changed else msg("diff.impact.unchanged")))
    lines += [f"    {tr(i.text())}" for i in changed]
    lines.append("  " + tr(msg("diff.impact.by_article")))
    for art, (a, b) in result.by_article().items():
        lines.append(
            "    " + tr(msg("diff.impact.article", article=art, old=said_money(a), new=said_money(b), delta=said_money(b - a, signed=True)))
        )
    total = msg(
        "diff.impact.total",
        old=said_money(result.total_old),
        new=said_money(result.total_new),
        delta=said_money(result.total_new - result.total_old, signed=True),
    )
    lines.append("  " + tr(total))
    return "\n".join(lines) + "\n"


def _status_word(status: str) -> Msg:
    """A decision's status in the reader's words (`granted` -> 支持); the impact's own `retired` and `error` too."""
    return msg(f"status_short.{status}") if status in STATUSES else msg(f"diff.impact.status.{status}")


def to_json(changes: list[Change], result: Impact | None, warnings: Iterable[Msg] = ()) -> str:
    """`diff --json`: the changes, the warnings the text diff says on stderr (each its catalogue key as `code` and its
    words in the reader's language: the version label not changed, what the claims' reader noticed), the impact."""
    out: dict[str, Any] = {"changes": [c.to_dict() for c in changes], "warnings": [{"code": w.key, "message": tr(w)} for w in warnings]}
    if result is not None:
        out["impact"] = result.to_dict()
    return json.dumps(out, ensure_ascii=False, indent=2) + "\n"
