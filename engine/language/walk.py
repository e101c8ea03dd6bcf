"""One walk of a compiled policy: every tool that reads a policy's parts visits them here.

    class Caps(PolicyVisitor):
        def visit_cap(self, cap: Cap, at: Site) -> None:
            print(cap.id, at.path, at.users)

    walk(policy, Caps(), OtherVisitor())     # one pass, each visitor called in turn at each part

Lint, coverage and diff each used to loop over rules, checks, caps and limits their own way. A new
construct of the language is added here once (one `visit_*` with a default that does nothing), and
no tool breaks.

Order (the order the tools print in): the policy header, each top-level section of the document as
written (`visit_section`: a tool can compare or count a section the walk does not model, such as a
section added to the language later), the clauses, the dated parameters, the round budget, the
applicant-level checks, the applicant-level document checks, then each rule: `enter_rule`, the
item-level checks and document checks that apply to it, its conditions (`when`), its amount, its
subject, its caps (a computed ceiling right after its cap, `visit_ceiling`), its limits, its document needs, `leave_rule`; and `leave_policy` last.

Parts a rule shares -- an item-level check applying to several item types, a shared cap or limit --
are visited once per rule using them (lint judges each use with the rule's own facts), with
`Site.first` true on the first visit and `Site.users` naming every rule that uses them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, NamedTuple

from engine.language import model

Path_ = tuple[str | int, ...]


class Site(NamedTuple):  # a NamedTuple: a walk makes one per part visited, and these are cheaper to make
    """Where a visited part sits."""

    rule: model.Rule | None  # the rule being walked; None at the policy level (header, clauses, applicant checks)
    path: Path_  # where it is written in the policy document, for positions: ("rules", 3, "caps", 0)
    users: tuple[str, ...] = ()  # checks, caps, limits: the ids of the rules using it, one per use
    first: bool = True  # False when a shared part is met again under another rule


class PolicyVisitor:
    """Override what you need; every method does nothing by default."""

    def visit_policy(self, policy: model.CompiledPolicy, at: Site) -> None: ...
    #: a top-level section of the policy document (`policy`, `clauses`, `readings`, ...) with its validated data
    def visit_section(self, name: str, data: Any, at: Site) -> None: ...
    def visit_clause(self, key: str, clause: model.Clause, at: Site) -> None: ...
    def visit_parameter(self, parameter: model.Parameter, at: Site) -> None: ...  # a dated parameter (`parameters:`)
    def visit_round_budget(self, amount: Decimal, rounding: model.BudgetRounding | None, at: Site) -> None: ...
    #: a check of the policy's `checks:` (`at.rule` None: applicant level, once; else: item level, once per rule it applies to)
    def visit_check(self, test: model.Test, at: Site) -> None: ...
    def visit_document_check(self, check: model.DocumentCheck, at: Site) -> None: ...
    def enter_rule(self, rule: model.Rule, at: Site) -> None: ...
    def visit_condition(self, test: model.Test, at: Site) -> None: ...  # one of the rule's `when`
    def visit_amount(self, form: model.AmountForm, at: Site) -> None: ...  # the rule's amount (a `least` holds its parts)
    def visit_subject(self, subject: model.Subject, at: Site) -> None: ...
    def visit_selection(self, selection: model.Selection, at: Site) -> None: ...  # the rule's round selection
    def visit_cap(self, cap: model.Cap, at: Site) -> None: ...
    #: a cap's computed ceiling (`max: {of:}`, `{rate:, of:}`, `{by:, table:}`), after the cap, at its `max`
    def visit_ceiling(self, form: model.RateAmount | model.TableAmount, cap: model.Cap, at: Site) -> None: ...
    def visit_limit(self, limit: model.Limit, at: Site) -> None: ...
    def visit_document_need(self, need: model.DocumentNeed, at: Site) -> None: ...  # documents the rule requires
    def leave_rule(self, rule: model.Rule, at: Site) -> None: ...
    def leave_policy(self, policy: model.CompiledPolicy) -> None: ...


class _Paths:
    """Where each part is written, read off the validated document (the model does not keep positions)."""

    def __init__(self, policy: model.CompiledPolicy) -> None:
        doc: Any = policy.data if isinstance(policy.data, dict) else {}
        self.rules: dict[str, Path_] = {r["id"]: ("rules", i) for i, r in enumerate(doc.get("rules", []))}
        self.checks: dict[str, Path_] = {c["id"]: ("checks", i) for i, c in enumerate(doc.get("checks", []))}
        self.caps: dict[str, Path_] = {}
        self.limits: dict[str, Path_] = {}
        for key, paths in (("shared_caps", self.caps), ("shared_limits", self.limits)):
            for i, c in enumerate(doc.get(key, [])):
                paths[c["id"]] = (key, i)
        for i, r in enumerate(doc.get("rules", [])):
            for part, paths in (("caps", self.caps), ("limits", self.limits)):
                for j, c in enumerate(r.get(part, [])):
                    if "id" in c:
                        paths[c["id"]] = ("rules", i, part, j)

    def rule(self, rule: model.Rule, index: int) -> Path_:
        return self.rules.get(rule.id, ("rules", index))

    def check(self, check_id: str) -> Path_:
        return self.checks.get(check_id, ())


def _users(rules: Iterable[model.Rule]) -> dict[int, tuple[str, ...]]:
    """The rules using each shared part (keyed by the part's identity: a shared part is one object)."""
    out: dict[int, list[str]] = {}
    for rule in rules:
        for part in (*rule.item_checks, *rule.item_document_checks, *rule.caps, *rule.limits):
            out.setdefault(id(part), []).append(rule.id)
    return {k: tuple(v) for k, v in out.items()}


_Calls = dict[str, list[Callable[..., None]]]


def _calls(visitors: tuple[PolicyVisitor, ...]) -> _Calls:
    """Each visitor's methods by name, leaving out the ones it does not override: most visitors want few parts."""
    names = [n for n in vars(PolicyVisitor) if n.startswith(("visit_", "enter_", "leave_"))]
    return {n: [getattr(v, n) for v in visitors if getattr(type(v), n) is not getattr(PolicyVisitor, n)] for n in names}


def walk(policy: model.CompiledPolicy, *visitors: PolicyVisitor) -> None:
    """Visit every part of `policy` in the order above, calling each visitor in turn at each part."""
    paths = _Paths(policy)
    users = _users(policy.rules)
    calls = _calls(visitors)
    top = Site(None, ())
    for f in calls["visit_policy"]:
        f(policy, top)
    if calls["visit_section"] and isinstance(policy.data, dict):
        for name, data in policy.data.items():
            at = Site(None, (name,))
            for f in calls["visit_section"]:
                f(name, data, at)
    if calls["visit_clause"]:
        for key, clause in policy.clauses.items():
            at = Site(None, ("clauses", key))
            for f in calls["visit_clause"]:
                f(key, clause, at)
    if calls["visit_parameter"]:
        for name, parameter in policy.parameters.items():
            at = Site(None, ("parameters", name))
            for f in calls["visit_parameter"]:
                f(parameter, at)
    if policy.round_budget is not None:
        at = Site(None, ("policy", "round_budget"))
        for f in calls["visit_round_budget"]:
            f(policy.round_budget, policy.round_budget_rounding, at)
    for test in policy.applicant_checks:
        at = Site(None, paths.check(test.id))
        for f in calls["visit_check"]:
            f(test, at)
    for dc in policy.applicant_document_checks:
        at = Site(None, paths.check(dc.id))
        for f in calls["visit_document_check"]:
            f(dc, at)
    seen: set[int] = set()
    for i, rule in enumerate(policy.rules):
        _walk_rule(rule, paths.rule(rule, i), paths, users, seen, calls)
    for f in calls["leave_policy"]:
        f(policy)


def _walk_rule(rule: model.Rule, rp: Path_, paths: _Paths, users: dict[int, tuple[str, ...]], seen: set[int], calls: _Calls) -> None:
    def shared(part: object, path: Path_) -> Site:
        first = id(part) not in seen
        seen.add(id(part))
        return Site(rule, path, users.get(id(part), (rule.id,)), first)

    def each(name: str, parts: Iterable[Any], site: Callable[[int, Any], Site]) -> None:
        fs = calls[name]
        for j, part in enumerate(parts):
            at = site(j, part)  # also when no visitor listens: `seen` must mark a shared part's first use
            for f in fs:
                f(part, at)

    at = Site(rule, rp)
    for f in calls["enter_rule"]:
        f(rule, at)
    each("visit_check", rule.item_checks, lambda j, t: shared(t, paths.check(t.id)))
    each("visit_document_check", rule.item_document_checks, lambda j, dc: shared(dc, paths.check(dc.id)))
    each("visit_condition", rule.when, lambda j, t: Site(rule, (*rp, "when", j)))
    if rule.amount is not None:
        each("visit_amount", (rule.amount,), lambda j, a: Site(rule, (*rp, "amount")))
    if rule.subject is not None:
        each("visit_subject", (rule.subject,), lambda j, s: Site(rule, (*rp, "subject")))
    if rule.selection is not None:
        each("visit_selection", (rule.selection,), lambda j, s: Site(rule, (*rp, "selection")))
    for cap in rule.caps:
        at = shared(cap, paths.caps.get(cap.id, rp))
        for f in calls["visit_cap"]:
            f(cap, at)
        if cap.computed is not None:
            ceiling_at = at._replace(path=(*at.path, "max"))
            for f in calls["visit_ceiling"]:
                f(cap.computed, cap, ceiling_at)
    each("visit_limit", rule.limits, lambda j, x: shared(x, paths.limits.get(x.id, rp)))
    each("visit_document_need", rule.documents, lambda j, n: Site(rule, (*rp, "documents", j)))
    for f in calls["leave_rule"]:
        f(rule, at)
