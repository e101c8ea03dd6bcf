"""Clause coverage: which clauses the officers' test cases exercise, and which branches of each.

For every clause of the text: the rules and checks that encode it, the cases
whose decisions cite it, and its branches -- granted, reduced by each cap,
refused when a cap is exhausted, refused by each condition, limit and
cross-cutting check, only-the-highest / 补差 (subject) refusals and reductions,
incomplete, referred, pending review, a per-unit count above its `max_count`, and each value (each period) of a
dated parameter of several values an amount looks up -- each with the
cases that reach it. Branches are read off the decision trace: a check or
limit step with result false, a cap step that bites (to a smaller amount, or
to nothing), a `who` step that fails, a subject step that lowers the amount,
and the item's final status.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.core.i18n import language, lookup, msg, tr
from engine.deciding.claims import label, titled
from engine.language import model
from engine.language.expressions import CompiledExpression
from engine.language.walk import PolicyVisitor, Site, walk
from engine.officer.casefile import Case, CaseResult


@dataclass
class Branch:
    key: str
    clause: str
    label: str
    cases: list[str] = field(default_factory=list)

    @property
    def hit(self) -> bool:
        return bool(self.cases)


@dataclass
class ClauseCoverage:
    key: str
    text: str
    computable: bool
    encoded_by: list[str] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)
    branches: list[Branch] = field(default_factory=list)

    @property
    def exercised(self) -> bool:
        return bool(self.cases)


@dataclass
class CoverageReport:
    policy: model.CompiledPolicy
    clauses: list[ClauseCoverage]
    branches: list[Branch]
    cases_run: int
    cases_failed: list[str]

    @property
    def computable(self) -> list[ClauseCoverage]:
        return [c for c in self.clauses if c.computable]

    @property
    def clause_percent(self) -> Decimal:
        comp = self.computable
        return _pct(sum(1 for c in comp if c.exercised), len(comp))

    @property
    def branch_percent(self) -> Decimal:
        return _pct(sum(1 for b in self.branches if b.hit), len(self.branches))

    def missing(self) -> list[str]:
        out: list[str] = [msg("coverage.missing_clause", clause=c.key) for c in self.computable if not c.exercised]
        out += [msg("coverage.missing_branch", branch=b.key, clause=b.clause, label=b.label) for b in self.branches if not b.hit]
        return out

    def summary(self) -> str:
        comp = self.computable
        return msg(
            "coverage.summary",
            exercised=sum(1 for c in comp if c.exercised),
            computable=len(comp),
            clause_percent=self.clause_percent,
            hit=sum(1 for b in self.branches if b.hit),
            branches=len(self.branches),
            branch_percent=self.branch_percent,
            run=self.cases_run,
            failing=len(self.cases_failed),
        )

    def to_text(self) -> str:
        # (the measures by their title and version, as officers know them: it was the policy's id, a code)
        lines = [tr(msg("coverage.title", policy=titled(self.policy.title, self.policy.version), file=self.policy.file)), ""]
        for c in self.clauses:
            if not c.computable and not c.encoded_by:
                continue
            mark = "✓" if c.exercised else ("✗" if c.computable else "·")
            lines.append(f"{mark} {c.key}{'' if c.computable else tr(msg('coverage.not_computable'))}")
            lines.append(tr(msg("coverage.encoded_by", what=list(c.encoded_by) or msg("coverage.nothing"))))
            # (the cases listed with the reader's separator: 、 in Chinese, where ", " and " (+1)" were ASCII)
            more = msg("coverage.more_cases", n=len(c.cases)) if len(c.cases) > 3 else ""
            shown = msg("coverage.cases_shown", cases=list(c.cases[:3]), more=more) if c.cases else ""
            lines.append(tr(msg("coverage.cases", n=len(c.cases), shown=shown)))
            for b in c.branches:
                also = tr(msg("coverage.also_cases", n=len(b.cases) - 1)) if len(b.cases) > 1 else ""
                first = f"  ← {b.cases[0]}{also}" if b.cases else ""
                lines.append(f"    {'✓' if b.hit else '✗'} {tr(b.label)}{first}")
        lines += ["", tr(self.summary())]
        if self.cases_failed:  # (said only as a count: which cases, and where, was for `test` to find again)
            lines += [tr(msg("coverage.failed_cases"))] + [f"  - {name}" for name in self.cases_failed]
        missing = self.missing()
        if missing:
            lines += [tr(msg("coverage.not_covered"))] + [f"  - {tr(m)}" for m in missing]
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        e = html.escape
        rows = []
        for c in self.clauses:
            if not c.computable and not c.encoded_by:
                continue
            cls = "ok" if c.exercised else ("miss" if c.computable else "ref")
            branches = "".join(
                f"<li class='{'ok' if b.hit else 'miss'}'>{e(tr(b.label))} <small>{e(', '.join(b.cases[:3]))}"
                f"{' …' if len(b.cases) > 3 else ''}</small></li>"
                for b in c.branches
            )
            rows.append(
                f"<tr class='{cls}'><td><b>{e(c.key)}</b><br><small>{e(c.text[:120])}</small></td>"
                f"<td>{e(', '.join(tr(x) for x in c.encoded_by))}</td><td>{len(c.cases)}</td><td><ul>{branches}</ul></td></tr>"
            )
        missing = "".join(f"<li>{e(tr(m))}</li>" for m in self.missing())
        lang, named = language(), titled(self.policy.title, self.policy.version)  # (its title and version, not its id)
        return (
            f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
            f"<title>{e(tr(msg('coverage.html.title', policy=named)))}</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
            "vertical-align:top}tr.ok td:first-child{border-left:6px solid #2a2}tr.miss td:first-child{border-left:6px solid #c22}"
            "tr.ref{color:#888}li.ok{color:#161}li.miss{color:#a11;font-weight:bold}ul{margin:0;padding-left:1.2em}</style></head><body>"
            f"<h1>{e(tr(msg('coverage.html.heading', policy=named)))}</h1>"
            f"<p>{e(tr(self.summary()))}</p>"
            f"<table><tr><th>{e(lookup('coverage.html.clause'))}</th><th>{e(lookup('coverage.html.encoded_by'))}</th>"
            f"<th>{e(lookup('coverage.html.cases'))}</th><th>{e(lookup('coverage.html.branches'))}</th></tr>"
            + "".join(rows)
            + "</table>"
            + (f"<h2>{e(lookup('coverage.html.not_covered'))}</h2><ul>{missing}</ul>" if missing else "")
            + "</body></html>\n"
        )


def _pct(n: int, d: int) -> Decimal:
    if d == 0:
        return Decimal("100.0")
    return (Decimal(100) * n / d).quantize(Decimal("0.1"))


def _expressions(part: object) -> Iterator[CompiledExpression]:
    """Every expression a part of a rule holds (a test, an amount form and the forms inside it, a cap's scope ...),
    found by its fields, so a field a new construct adds is seen too; an external amount's source is left out (a
    missing one makes the item pending review, not incomplete). Bounded by the part's size."""
    if isinstance(part, CompiledExpression):
        yield part
    elif isinstance(part, tuple | list):
        for x in part:
            yield from _expressions(x)
    elif dataclasses.is_dataclass(part) and not isinstance(part, type | model.ExternalAmount):
        for f in dataclasses.fields(part):
            yield from _expressions(getattr(part, f.name))


class _Branches(PolicyVisitor):
    """Every branch, in the order the report lists them: the header's, the checks' (each once), then each rule's.

    A rule's `incomplete` branch is listed only when it can happen: some fact its item's decision reads may be left
    out of a claim (`required: false` without a default), or it asks for documents (its own, an item document
    check's, or the applicant's, unless `documents_required: false`)."""

    def __init__(self) -> None:
        self.head: list[Branch] = []
        self.checks: list[Branch] = []
        self.rules: list[Branch] = []
        self.later: list[Branch] = []  # a rule's subject and caps come after its limits
        self.cap_rules: dict[str, list[Any]] = {}  # a cap's id -> the rules it applies to (a shared cap: several)
        self.cap_said: dict[str, dict[str, Any]] = {}  # a cap's id -> its words and id
        self.applicant_unknowable = False  # an applicant-level check reads a fact a claim may leave out
        self.applicant_documents = False  # an applicant-level document check exists
        self.incomplete_possible = False  # for the rule being walked
        self.incomplete_at: int | None = None  # where its incomplete branch goes in `rules`

    def visit_policy(self, policy: model.CompiledPolicy, at: Site) -> None:
        self.policy = policy
        self.all_kinds = set(policy.applicant_kinds)
        if policy.in_force_cites:
            self.head.append(Branch("error:not_in_force", policy.in_force_cites, msg("coverage.branch.not_in_force")))
        budget_cites = policy.round_budget_cites
        if policy.round_budget is not None and budget_cites:  # (a round case whose round the budget scales covers it)
            self.head.append(Branch(SCALED, budget_cites, msg("coverage.branch.scaled")))

    def unknowable(self, part: object, rule: model.Rule | None) -> bool:
        """Whether an expression of `part` reads a fact a claim may leave out (unknown, not false)."""
        p = self.policy
        for e in _expressions(part):
            if e.params:  # a dated parameter has no value before its first date: the item is then incomplete
                return True
            for full in e.facts:
                ns, _, name = full.partition(".")
                table = (
                    p.item_facts.get(rule.item_type, {})
                    if ns == "item" and rule is not None
                    else p.applicant_facts
                    if ns == "applicant"
                    else p.claim_facts
                )
                spec = table.get(name)
                if spec is not None and not spec.required and not spec.has_default:
                    return True
        return False

    def note(self, part: object, at: Site, documents: bool = False) -> None:
        """Mark what `part` (visited at `at`) adds to whether an item can be incomplete."""
        if at.rule is None:
            self.applicant_unknowable = self.applicant_unknowable or self.unknowable(part, None)
            self.applicant_documents = self.applicant_documents or documents
        elif not self.incomplete_possible:
            rule = at.rule
            self.incomplete_possible = (documents and rule.documents_required) or self.unknowable(part, rule)

    def visit_check(self, test: model.Test, at: Site) -> None:
        self.note(test, at)
        if at.first:
            self.checks.append(Branch(f"refused:{test.id}", test.cites, msg("coverage.branch.check", **_said(test))))
            self.checks += _said_branches(test)

    def visit_document_check(self, check: model.DocumentCheck, at: Site) -> None:
        self.note(check, at, documents=True)
        if at.first:
            self.checks.append(Branch(f"incomplete:{check.id}", check.cites, msg("coverage.branch.documents", **_said(check))))

    def enter_rule(self, rule: model.Rule, at: Site) -> None:
        r, n, out = rule.id, _rule(self.policy, rule), self.rules
        self.incomplete_possible = self.applicant_unknowable or (self.applicant_documents and rule.documents_required)
        self.incomplete_at = None
        if rule.referral is not None:
            out.append(Branch(f"{r}:referred", rule.cites, msg("coverage.branch.referred", rule=n)))
        else:
            out.append(Branch(f"{r}:granted", rule.cites, msg("coverage.branch.granted", rule=n)))
            if rule.amount is not None and rule.amount.kind == "external":
                out.append(Branch(f"{r}:pending_review", rule.cites, msg("coverage.branch.pending_review", rule=n)))
            self.incomplete_at = len(out)  # listed here if leave_rule finds it can happen
        if rule.kinds != self.all_kinds or rule.roles:
            out.append(Branch(f"refused:{r}#who", rule.cites, msg("coverage.branch.who", rule=n)))

    def visit_document_need(self, need: model.DocumentNeed, at: Site) -> None:
        self.note(need, at, documents=True)

    def visit_condition(self, test: model.Test, at: Site) -> None:
        assert at.rule is not None
        self.note(test, at)
        r = _rule(self.policy, at.rule)
        said = label(test.says) if test.says.zh or test.says.en else test.expression.source  # (its words, as decisions say it)
        self.rules.append(Branch(f"refused:{test.id}", test.cites, msg("coverage.branch.condition", rule=r, test=said)))
        self.rules += _said_branches(test, r)

    def visit_amount(self, form: model.AmountForm, at: Site) -> None:
        assert at.rule is not None
        self.note(form, at)
        self.table_refusal(form, at.rule)
        self.dated_values(form, at.rule)
        if isinstance(form, model.PerUnitAmount) and form.max_count is not None:
            n = form.max_count
            self.rules.append(
                Branch(f"{at.rule.id}#max_count", at.rule.cites, msg("coverage.branch.max_count", rule=_rule(self.policy, at.rule), n=n))
            )

    def dated_values(self, form: model.AmountForm, rule: model.Rule) -> None:
        """A branch per value of each dated parameter of several values the amount looks up: a case whose item is
        computed with that value (its date in the value's period) covers it; one case on one date left the others
        untried (a value typed wrong, a date at the turn of two periods)."""
        names = dict.fromkeys(name for e in _expressions(form) for name in e.parameter_names)
        for name in names:
            parameter = self.policy.parameters.get(name)
            if parameter is None or len(parameter.values) < 2:
                continue
            for v in parameter.values:
                said = msg(
                    "coverage.branch.parameter",
                    rule=_rule(self.policy, rule),
                    label=label(parameter.label),
                    name=name,
                    start=v.start.isoformat(),
                    value=v.shown or str(v.value),
                )
                self.rules.append(Branch(f"{rule.id}#param:{name}@{v.start.isoformat()}", rule.cites, said))

    def visit_ceiling(self, form: model.RateAmount | model.TableAmount, cap: model.Cap, at: Site) -> None:
        assert at.rule is not None
        self.table_refusal(form, at.rule)

    def table_refusal(self, form: Any, rule: model.Rule) -> None:
        """The refusal branch of a table that may meet a value it lists no entry for (an amount's or a ceiling's)."""
        if any(not t.complete for t in _tables(form)):
            self.rules.append(Branch(f"refused:{rule.id}#table", rule.cites, msg("coverage.branch.table", rule=_rule(self.policy, rule))))

    def visit_limit(self, limit: model.Limit, at: Site) -> None:
        assert at.rule is not None
        self.note(limit, at)
        r = _rule(self.policy, at.rule)
        unit = limit.unit or msg("coverage.branch.times")  # (a limit counting years: 2 年, as decisions say it)
        said = msg("coverage.branch.limit", rule=r, times=limit.times, unit=unit, **_said(limit))
        self.rules.append(Branch(f"refused:{limit.id}", limit.cites, said))

    def visit_subject(self, subject: model.Subject, at: Site) -> None:
        assert at.rule is not None
        self.note(subject, at)
        r, n, s = at.rule.id, _rule(self.policy, at.rule), subject
        if s.pays == "highest" and s.later == "difference":
            self.later.append(Branch(f"reduced:{r}#subject", s.cites, msg("coverage.branch.difference", rule=n)))
            self.later.append(Branch(f"refused:{r}#subject", s.cites, msg("coverage.branch.higher_or_none", rule=n)))
        elif s.pays == "difference":
            self.later.append(Branch(f"reduced:{r}#subject", s.cites, msg("coverage.branch.difference", rule=n)))
            self.later.append(Branch(f"refused:{r}#subject", s.cites, msg("coverage.branch.paid", rule=n)))
        else:
            self.later.append(Branch(f"refused:{r}#subject", s.cites, msg("coverage.branch.higher", rule=n)))

    def visit_selection(self, selection: model.Selection, at: Site) -> None:
        self.later.append(Branch(f"refused:{selection.id}", selection.cites, msg("coverage.branch.selection", id=selection.id)))

    def visit_cap(self, cap: model.Cap, at: Site) -> None:
        assert at.rule is not None
        self.note(cap, at)
        r = _rule(self.policy, at.rule)
        self.cap_rules.setdefault(cap.id, []).append(r)
        self.cap_said[cap.id] = _said(cap)
        self.later.append(Branch(f"reduced:{cap.id}", cap.cites, msg("coverage.branch.cap", rule=r, **_said(cap))))
        if cap.per is not None:
            self.later.append(Branch(f"exhausted:{cap.id}", cap.cites, msg("coverage.branch.exhausted", rule=r, **_said(cap))))

    def leave_rule(self, rule: model.Rule, at: Site) -> None:
        if self.incomplete_at is not None and self.incomplete_possible:
            self.rules.insert(
                self.incomplete_at,
                Branch(f"{rule.id}:incomplete", rule.cites, msg("coverage.branch.incomplete", rule=_rule(self.policy, rule))),
            )
        self.rules += self.later
        self.later = []

    def result(self) -> list[Branch]:
        unique: dict[str, Branch] = {}
        for b in self.head + self.checks + self.rules:
            unique.setdefault(b.key, b)  # a shared cap's branches are listed once, where its first rule is
        for key, b in unique.items():  # ... and say every rule it applies to (the first alone named the wrong one)
            kind, _, cap = key.partition(":")
            rules = list(dict.fromkeys(self.cap_rules.get(cap, ()))) if kind in ("reduced", "exhausted") else []
            if len(rules) > 1:
                unique[key] = dataclasses.replace(
                    b, label=msg(f"coverage.branch.{'cap' if kind == 'reduced' else 'exhausted'}_shared", rules=rules, **self.cap_said[cap])
                )
        return list(unique.values())


def _said_branches(test: model.Test, rule: Any = None) -> list[Branch]:
    """What a check (or the condition of `rule`) may say of an item beside its result: each reading it names where a
    condition holds (`readings_when`), and that it did not apply (`applies`): each a branch a case should reach."""
    out = [
        Branch(f"reading:{test.id}?{r}", test.cites, msg("coverage.branch.reading", reading=r, **_said(test)))
        for r, _ in test.readings_when
    ]
    if test.applies is not None:
        said = (
            msg("coverage.branch.not_applicable", **_said(test))
            if rule is None
            else msg("coverage.branch.condition_not_applicable", rule=rule, test=_said(test)["words"])
        )
        out.append(Branch(f"not_applicable:{test.id}", test.cites, said))
    return out


def _said(part: model.Test | model.DocumentCheck | model.Cap | model.Limit) -> dict[str, Any]:
    """A check's, cap's or limit's words (its `says`, as decisions say it; a condition without words: its
    expression) and id, for a message that names it in the policy's words with the id after."""
    said = part.says
    if said.zh or said.en:
        return {"words": label(said), "id": part.id}
    return {"words": part.expression.source if isinstance(part, model.Test) else part.id, "id": part.id}


def _rule(policy: model.CompiledPolicy, rule: model.Rule) -> Any:
    """A rule named by its item type's words, its id after: 发明专利授权（invention-patent-fees）."""
    words = policy.item_type_labels.get(rule.item_type)
    return msg("coverage.rule", words=label(words), id=rule.id) if words is not None else rule.id


class _Encoded(PolicyVisitor):
    """What encodes each clause, in the order the report lists it (a rule's subject after its caps and limits)."""

    def __init__(self) -> None:
        self.encoded: dict[str, list[str]] = {}
        self.later: list[tuple[str, str]] = []

    def enc(self, key: str | None, what: str) -> None:
        if key and what not in self.encoded.setdefault(key, []):
            self.encoded[key].append(what)

    def visit_policy(self, policy: model.CompiledPolicy, at: Site) -> None:
        self.policy = policy
        self.enc(policy.in_force_cites, msg("coverage.said.in_force"))
        self.enc(getattr(policy, "documents_cites", None), msg("coverage.said.documents"))
        self.enc(policy.round_budget_cites, msg("coverage.said.round_budget"))

    def visit_check(self, test: model.Test, at: Site) -> None:
        self.enc(test.cites, msg("coverage.said.check", **_said(test)))

    def visit_document_check(self, check: model.DocumentCheck, at: Site) -> None:
        if at.rule is None:  # item-level document checks are not listed (as before)
            self.enc(check.cites, msg("coverage.said.check", **_said(check)))

    def enter_rule(self, rule: model.Rule, at: Site) -> None:
        self.enc(rule.cites, msg("coverage.said.rule", rule=_rule(self.policy, rule)))

    # A rule's own parts are listed only when they cite another clause than the rule.
    def own(self, rule: model.Rule | None, cites: str, what: str) -> None:
        assert rule is not None
        if cites != rule.cites:
            self.enc(cites, what)

    def visit_condition(self, test: model.Test, at: Site) -> None:
        self.own(at.rule, test.cites, msg("coverage.said.condition", **_said(test)))

    def visit_cap(self, cap: model.Cap, at: Site) -> None:
        self.own(at.rule, cap.cites, msg("coverage.said.cap", **_said(cap)))

    def visit_limit(self, limit: model.Limit, at: Site) -> None:
        self.own(at.rule, limit.cites, msg("coverage.said.limit", **_said(limit)))

    def visit_subject(self, subject: model.Subject, at: Site) -> None:
        assert at.rule is not None
        self.later.append((subject.cites, msg("coverage.said.subject", rule=_rule(self.policy, at.rule))))

    def leave_rule(self, rule: model.Rule, at: Site) -> None:
        for cites, what in self.later:
            self.own(rule, cites, what)
        self.later = []


def _tables(form: model.AmountForm | None) -> list[model.TableAmount]:
    """The tables an amount form (or a computed ceiling) looks values up in: its own, a rate table, a `least`'s parts'."""
    if isinstance(form, model.TableAmount):
        return [form]
    if isinstance(form, model.RateAmount):
        return [t for t in (form.of_table, form.rate_table) if t is not None]
    if isinstance(form, model.PerUnitAmount):
        return [form.per_unit_table] if form.per_unit_table is not None else []
    if isinstance(form, model.LeastAmount):
        return [t for p in form.parts for t in _tables(p)]
    return []


SCALED = "scaled:round_budget"  # the branch of a round its budget scaled


def branches_of(policy: model.CompiledPolicy) -> list[Branch]:
    """Every branch the policy can take, keyed the way `hits` names them."""
    branches = _Branches()
    walk(policy, branches)
    return branches.result()


def hits(decision: dict[str, Any]) -> set[str]:
    """Branch keys a decision (its JSON dict) reaches, read off its trace."""
    out: set[str] = set()
    for s in decision.get("standing", {}).get("steps", []):
        out |= _step_hits(s)
    for item in decision["items"]:
        status = item["status"]
        if status in ("granted", "incomplete", "referred", "pending_review"):
            out.add(f"{item['rule']}:{status}")
        for s in item["steps"]:
            out |= _step_hits(s, item["rule"])
        out.update(f"refused:{r['check']}" for r in item.get("reasons", ()) if r.get("check", "").endswith("#table"))
    if "scaling" in decision:  # (a round's decision its budget scaled, as decisions.jsonl writes it)
        out.add(SCALED)
    return out


def _step_hits(s: dict[str, Any], rule: str | None = None) -> set[str]:
    kind = s["step"]
    if kind == "parameter" and s.get("in_force_from"):  # (a value found: its period exercised)
        return {f"{rule}#param:{s['parameter']}@{s['in_force_from']}"}
    if kind == "amount" and s.get("max_count") is not None and s["count"]["value"] is not None:
        return {f"{rule}#max_count"} if s["count"]["value"] > s["counted"] else set()
    if kind == "check" and s["result"] is False:
        return {f"refused:{s['check']}"} | {f"reading:{s['check']}?{r}" for r in s.get("readings", ())}
    if kind == "check" and ("readings" in s or "applies" in s):  # (what it said of the item: `_said_branches`)
        out = {f"reading:{s['check']}?{r}" for r in s.get("readings", ())}
        return out | {f"not_applicable:{s['check']}"} if s.get("applies") is False else out
    if kind == "who" and s["result"] is False:
        return {f"refused:{s['rule']}#who"}
    if kind == "limit" and s["result"] is False:
        return {f"refused:{s['limit']}"}
    if kind == "cap" and s["bites"]:
        return {f"reduced:{s['cap']}" if Decimal(s["granted"]) > 0 else f"exhausted:{s['cap']}"}
    if kind == "subject" and Decimal(s["after"]) < Decimal(s["asked"]):
        return {f"reduced:{rule}#subject" if Decimal(s["after"]) > 0 else f"refused:{rule}#subject"}
    if kind == "documents" and s["missing"]:
        return {f"incomplete:{s['check']}"}
    if kind == "selection" and s.get("selected") is False:
        return {f"refused:{s['selection']}"}
    return set()


def cited(decision: dict[str, Any]) -> set[str]:
    out = {r["cites"] for r in decision.get("standing", {}).get("reasons", [])}
    for item in decision["items"]:
        out.update(item["cites"])
    scaling = decision.get("scaling")
    if isinstance(scaling, dict) and isinstance(scaling.get("cites"), str):
        out.add(scaling["cites"])
    return out


def _where(case: Case) -> str:
    """A case as `test` names it, so that it can be found: its file as given and line, then its name
    (policies/tests/art6.yaml:120 名称; the file's name alone was ambiguous between folders of cases)."""
    return f"{case.file}:{case.line} {case.name}" if case.line else case.id


def coverage(policy: model.CompiledPolicy, results: Iterable[CaseResult]) -> CoverageReport:
    walked, encoded_by = _Branches(), _Encoded()
    walk(policy, walked, encoded_by)
    branches = walked.result()
    by_key = {b.key: b for b in branches}
    clause_cases: dict[str, list[str]] = {}
    run = 0
    failed: list[str] = []
    for res in results:
        run += 1
        name = _where(res.case)
        if not res.passed:
            failed.append(name)
            continue
        keys: set[str] = set()
        clauses: set[str] = set()
        if res.decision is not None:
            d = res.decision.to_dict()
            keys = hits(d)
            clauses = cited(d)
        for rd in res.round_decisions:  # a round case: each claim of the round
            keys |= hits(rd)
            clauses |= cited(rd)
        if res.error is not None:
            codes = {p.code for p in res.error.problems}
            if "not_in_force" in codes:
                keys.add("error:not_in_force")
                if policy.in_force_cites:
                    clauses.add(policy.in_force_cites)
        for k in keys:
            if k in by_key and name not in by_key[k].cases:
                by_key[k].cases.append(name)
        for c in clauses:
            clause_cases.setdefault(c, []).append(name)
    encoded = encoded_by.encoded
    table: list[ClauseCoverage] = []
    for key, clause in policy.clauses.items():
        table.append(
            ClauseCoverage(
                key,
                clause.text,
                clause.computable,
                encoded.get(key, []),
                clause_cases.get(key, []),
                [b for b in branches if b.clause == key],
            )
        )
    return CoverageReport(policy, table, branches, run, failed)
