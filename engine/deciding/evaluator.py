"""Stage 4, evaluate: a claim and its history into a decision with a trace.

Items are decided in the order given; each grant consumes the caps and
limits it falls under before the next item is decided, and history consumes
them first. Every ground for refusal is collected (not just the first), and
the main reason is chosen by the policy's `refusal_order`.

The hot path is dictionary look-ups and pre-compiled expression functions.
Trace steps are cheap tuples holding references to the compiled policy
objects; `decision.py` turns them into rich JSON only when asked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from decimal import getcontext as _getcontext
from decimal import setcontext as _setcontext
from types import CodeType
from typing import Any

from engine.core.errors import ClaimError, Problem
from engine.core.quantities import ROUNDING_MODES
from engine.deciding.claims import Claim, Item
from engine.deciding.codegen import RuleWriter, StandingWriter
from engine.deciding.decision import ENGINE_CONTEXT, Decision, ItemDecision, Reason, in_engine_context, make_decision
from engine.deciding.history import Consumption, Grant, Usage
from engine.language.expressions import RUNTIME_ERRORS, Facts, MissingFact
from engine.language.model import (
    AmountForm,
    BandsAmount,
    CompiledPolicy,
    DocumentNeed,
    ExternalAmount,
    FixedAmount,
    LeastAmount,
    PerUnitAmount,
    RateAmount,
    Rule,
    TableAmount,
    Test,
    Text,
    scope_key,
)

ZERO = Decimal(0)
_NO_ITEM = Facts("item")  # the item namespace of applicant-level checks: empty, only read
_NO_DOCS: frozenset[str] = frozenset()
_NO_LOSERS: frozenset[str] = frozenset()


class PendingAmount(Exception):
    """The amount comes from outside (a panel) and is not known yet."""


class _Context:
    """Per-policy constants for the hot path, computed once."""

    def __init__(self, policy: CompiledPolicy) -> None:
        self.policy = policy
        self.quantum = policy.quantum
        self.mode = ROUNDING_MODES[policy.rounding]
        self.zero = ZERO.quantize(self.quantum)  # amounts in decisions are on the policy's quantum, zero included
        self.rank = {c: i for i, c in enumerate(policy.refusal_order)}
        self.highest = any(r.subject and r.subject.pays == "highest" for r in policy.rules)
        self.plans = {r.id: _Plan(r, policy, self) for r in policy.rules}
        for rule in policy.rules:
            plan = self.plans[rule.id]
            lean, traced = _generate(rule, plan, policy, self, False), _generate(rule, plan, policy, self, True)
            plan.fast = (lean, traced) if lean is not None and traced is not None else None
        #: item type -> (lean, traced) compiled decide functions (rules on the generic path are absent)
        self.fast_by_type = {t: f for t, r in policy.rules_by_type.items() if (f := self.plans[r.id].fast) is not None}
        self.compiled_by_type = tuple({t: f[v] for t, f in self.fast_by_type.items()} for v in (0, 1))  # (lean, traced)
        self.applicant_checks = tuple(
            (t, t.expression.function, t.kinds, Reason(t.category, t.id, t.cites, t.says)) for t in policy.applicant_checks
        )
        self.standing = (_generate_standing(policy, self, False), _generate_standing(policy, self, True))

    def round(self, value: Decimal) -> Decimal:
        return value.quantize(self.quantum, rounding=self.mode)


def _scoper(functions: tuple[Callable[[Facts, Facts, Facts], Any], ...]) -> Callable[[Facts, Facts, Facts], tuple[Any, ...]]:
    """A scope key function (like Cap.scope / Limit.scope: JSON-safe values), one per key length."""
    if len(functions) == 1:
        (f0,) = functions

        def one(I: Facts, A: Facts, C: Facts) -> tuple[Any, ...]:
            v = f0(I, A, C)
            return (v if type(v) is str or type(v) is int else scope_key(v),)

        return one
    if len(functions) == 2:
        f0, f1 = functions

        def two(I: Facts, A: Facts, C: Facts) -> tuple[Any, ...]:
            v, w = f0(I, A, C), f1(I, A, C)
            return (v if type(v) is str or type(v) is int else scope_key(v), w if type(w) is str or type(w) is int else scope_key(w))

        return two

    def many(I: Facts, A: Facts, C: Facts) -> tuple[Any, ...]:
        return tuple([scope_key(f(I, A, C)) for f in functions])

    return many


class _Plan:
    """One rule prepared for the hot path: what does not depend on the claim, resolved once per policy.

    Expression functions are taken out of their wrappers, scope keys get a function of their own,
    the amount form its compute function, and every refusal reason a rule can give is built here
    (reasons are immutable, so each decision can share them).
    """

    __slots__ = (
        "amount",
        "caps",
        "checks",
        "compute",
        "docs",
        "docs_cites",
        "fast",
        "kinds",
        "limits",
        "roles",
        "subject_reasons",
        "who_reason",
        "zero_reason",
    )

    def __init__(self, rule: Rule, policy: CompiledPolicy, ctx: _Context) -> None:
        self.kinds = rule.kinds
        self.roles = rule.roles
        self.who_reason = _who_reason(rule, policy)
        self.zero_reason = Reason(
            "condition", f"{rule.id}#zero", rule.cites, Text("按规定计算的支持金额为零", "the amount computed under this clause is zero")
        )
        self.checks = tuple(
            (t, t.expression.function, t.kinds, Reason(t.category, t.id, t.cites, t.says)) for t in rule.item_checks + rule.when
        )
        self.amount = None if rule.amount is None else _on_quantum(rule.amount, ctx)
        self.compute = _COMPUTE[type(rule.amount)] if rule.amount is not None else None
        self.limits = tuple(
            (
                limit,
                _scoper(tuple(e.function for e in limit.per)),
                None if limit.counting is None else tuple(e.function for e in limit.counting),
                Reason("limit", limit.id, limit.cites, limit.says),
            )
            for limit in rule.limits
        )
        self.caps = tuple(
            (
                cap,
                None if cap.per is None else _scoper(tuple(e.function for e in cap.per)),
                Reason("cap", cap.id, cap.cites, Text("封顶额度已用尽：" + cap.says.zh, "cap exhausted: " + cap.says.en)),
                ctx.round(cap.ceiling),
            )
            for cap in rule.caps
        )
        self.docs = tuple((n.doc, None if n.when is None else n.when.function) for n in rule.documents)
        self.docs_cites = policy.documents_cites or rule.cites
        self.subject_reasons: tuple[Reason, Reason, Reason] | None = None if rule.subject is None else _subject_reasons(rule)
        self.fast: tuple[Callable[..., ItemDecision], Callable[..., ItemDecision]] | None = None  # (lean, traced), see _generate


def _subject_reasons(rule: Rule) -> tuple[Reason, Reason, Reason]:
    """A subject rule's refusals: (a higher or equal award is paid, an earlier award is not topped up, no difference left)."""
    assert rule.subject is not None
    cites = rule.subject.cites

    def reason(zh: str, en: str) -> Reason:
        return Reason("condition", f"{rule.id}#subject", cites, Text(zh, en))

    return (
        reason(
            "同一对象已有更高或同等奖励，仅支持最高一项",
            "a higher or equal award for the same subject is paid; only the highest is supported",
        ),
        reason(
            "同一对象此前已获奖励，不重复奖励（不补差）",
            "an award for the same subject was already paid; it is not awarded again (no top-up)",
        ),
        reason(
            "同一对象已按同等或更高标准支持，无差额可补",
            "the same subject was already paid at an equal or higher level; no difference to pay",
        ),
    )


def _on_quantum(form: AmountForm, ctx: _Context) -> AmountForm:
    """The amount form with its money constants on the policy's quantum (400000 -> 400000.00), so that every
    amount a decision carries is: rates are rounded to it, sums and differences of such values stay on it."""
    if isinstance(form, FixedAmount):
        return dataclasses.replace(form, value=ctx.round(form.value))
    if isinstance(form, TableAmount):
        return dataclasses.replace(form, table={k: ctx.round(v) for k, v in form.table.items()})
    if isinstance(form, PerUnitAmount):
        return dataclasses.replace(form, per_unit=ctx.round(form.per_unit))
    if isinstance(form, BandsAmount):
        return dataclasses.replace(
            form, bands=tuple(b if b.amount is None else dataclasses.replace(b, amount=ctx.round(b.amount)) for b in form.bands)
        )
    if isinstance(form, LeastAmount):
        return dataclasses.replace(form, parts=tuple(_on_quantum(p, ctx) for p in form.parts))
    return form


_SLOT = "_evaluator_context"  # where a policy keeps its _Context: on itself, so that both go together


def _context(policy: CompiledPolicy) -> _Context:
    """The policy's hot-path constants and compiled rules, made once and kept on the policy object.

    Not in a module-level table: the context (its plans, its generated functions) refers to the policy, so a
    table would keep every policy ever loaded alive. On the policy, the two form a cycle that the garbage
    collector frees when the policy is no longer used."""
    ctx: _Context | None = policy.__dict__.get(_SLOT)
    if ctx is None or ctx.policy is not policy:  # (a copy of a policy object carries its original's context)
        ctx = _Context(policy)
        object.__setattr__(policy, _SLOT, ctx)  # a frozen dataclass: its fields stay immutable, this is a cache
    return ctx


@in_engine_context
def prepare(policy: CompiledPolicy) -> None:
    """Compile the policy's rules into Python functions now (load does this), not on the first evaluation."""
    _context(policy)


@in_engine_context
def generated_sources(policy: CompiledPolicy, *, trace: bool = True) -> tuple[str, dict[str, str | None]]:
    """The Python source the policy is decided by, for a reader: (the applicant-level standing function,
    {rule id: its decide function, or None for a rule decided on the generic path}). `trace`: the variant
    that records the trace (the default of `evaluate`), or the lean one."""
    ctx = _context(policy)
    variant = 1 if trace else 0
    rules = {r.id: None if (fast := ctx.plans[r.id].fast) is None else fast[variant].source for r in policy.rules}  # type: ignore[attr-defined]
    return ctx.standing[variant].source, rules  # type: ignore[attr-defined]


def _rate(form: Any, ctx: _Context, I: Facts, A: Facts, C: Facts, steps: list[Any] | None) -> Decimal:
    base = form.of.function(I, A, C)
    value: Decimal = (base * form.rate).quantize(ctx.quantum, rounding=ctx.mode)
    if steps is not None:
        steps.append(("amount", form, base, value))
    return value


def _fixed(form: Any, ctx: _Context, I: Facts, A: Facts, C: Facts, steps: list[Any] | None) -> Decimal:
    if steps is not None:
        steps.append(("amount", form, None, form.value))
    value: Decimal = form.value
    return value


def _table(form: Any, ctx: _Context, I: Facts, A: Facts, C: Facts, steps: list[Any] | None) -> Decimal:
    key = form.by.function(I, A, C)
    value: Decimal = form.table[key]
    if steps is not None:
        steps.append(("amount", form, key, value))
    return value


def _external(form: Any, ctx: _Context, I: Facts, A: Facts, C: Facts, steps: list[Any] | None) -> Decimal:
    try:
        value = form.source.function(I, A, C)
    except MissingFact:
        raise PendingAmount() from None
    if value is None:
        raise PendingAmount()
    if steps is not None:
        steps.append(("amount", form, value, value))
    return Decimal(value).quantize(ctx.quantum, rounding=ctx.mode)


def _bands(form: Any, ctx: _Context, I: Facts, A: Facts, C: Facts, steps: list[Any] | None) -> Decimal:
    base = form.of.function(I, A, C)
    chosen = None
    for band in form.bands:
        if base >= band.start:
            chosen = band
    if chosen is None:
        value = ctx.zero
    elif chosen.amount is not None:
        value = chosen.amount
    else:
        value = ctx.round(base * (chosen.rate or ZERO))
    if steps is not None:
        steps.append(("amount", form, (base, chosen), value))
    return value


def _per_unit(form: Any, ctx: _Context, I: Facts, A: Facts, C: Facts, steps: list[Any] | None) -> Decimal:
    count = form.count.function(I, A, C)
    used = min(count, form.max_count) if form.max_count is not None else count
    value: Decimal = form.per_unit * Decimal(used)
    if steps is not None:
        steps.append(("amount", form, (count, used), value))
    return value


def _least(form: Any, ctx: _Context, I: Facts, A: Facts, C: Facts, steps: list[Any] | None) -> Decimal:
    values = [_compute(p, ctx, I, A, C, steps) for p in form.parts]
    value = min(values)
    if steps is not None:
        steps.append(("amount", form, tuple(values), value))
    return value


#: Each amount form's compute function, chosen once per rule (no isinstance chain per item).
_COMPUTE: dict[type, Callable[[Any, _Context, Facts, Facts, Facts, list[Any] | None], Decimal]] = {
    RateAmount: _rate,
    FixedAmount: _fixed,
    TableAmount: _table,
    ExternalAmount: _external,
    BandsAmount: _bands,
    PerUnitAmount: _per_unit,
    LeastAmount: _least,
}


def _compute(form: AmountForm, ctx: _Context, I: Facts, A: Facts, C: Facts, steps: list[Any] | None) -> Decimal:
    """The amount before caps. Rates are rounded per the policy (R8-style) before any cap."""
    return _COMPUTE[type(form)](form, ctx, I, A, C, steps)


def _check(test: Test, I: Facts, A: Facts, C: Facts) -> tuple[bool | None, str | None]:
    try:
        return bool(test.expression.function(I, A, C)), None
    except MissingFact as exc:
        return None, exc.fact


def _documents(needs: Sequence[DocumentNeed], have: Any, I: Facts, A: Facts, C: Facts) -> tuple[list[str], list[str], list[str]]:
    """(required, missing, unknown facts) for a list of document needs."""
    required, missing, unknown = [], [], []
    for need in needs:
        if need.when is not None:
            try:
                if not need.when.function(I, A, C):
                    continue
            except MissingFact as exc:
                unknown.append(exc.fact)
                continue
        required.append(need.doc)
        if need.doc not in have:
            missing.append(need.doc)
    return required, missing, unknown


def _who_reason(rule: Rule, policy: CompiledPolicy) -> Reason:
    kinds = [policy.applicant_kinds[k] for k in sorted(rule.kinds, key=list(policy.applicant_kinds).index)]
    roles = [policy.applicant_roles[r] for r in sorted(rule.roles, key=list(policy.applicant_roles).index)]
    zh = "本项仅限" + "、".join(k.zh for k in kinds) + "申请"
    en = "this item may be claimed only by: " + ", ".join(k.en for k in kinds)
    if roles:
        zh += "（须为" + "或".join(r.zh for r in roles) + "）"
        en += " (acting as " + " or ".join(r.en for r in roles) + ")"
    return Reason("scope", f"{rule.id}#who", rule.cites, Text(zh, en))


def evaluate_claim(
    policy: CompiledPolicy,
    claim: Claim,
    history: Iterable[Grant] = (),
    *,
    trace: bool = True,
) -> Decision:
    """Decide every item of `claim`. `history` adds to the grants the claim carries itself.

    The arithmetic is the engine's own (`ENGINE_CONTEXT`), whatever decimal context the caller set."""
    saved = _getcontext()
    if saved is ENGINE_CONTEXT:
        return _evaluate(policy, claim, history, trace)
    _setcontext(ENGINE_CONTEXT)
    try:
        return _evaluate(policy, claim, history, trace)
    finally:
        _setcontext(saved)


def _evaluate(policy: CompiledPolicy, claim: Claim, history: Iterable[Grant], trace: bool) -> Decision:
    ctx = _context(policy)
    if not policy.covers(claim.funding_year):
        lo, hi = policy.funding_years
        raise ClaimError(
            [
                Problem(
                    f"funding year {claim.funding_year} is outside {policy.id} {policy.version} (in force for funding years {lo}-{hi})",
                    path=("funding_year",),
                    expected=f"a funding year from {lo} to {hi}",
                    code="not_in_force",
                )
            ],
            "no policy version in force",
        )
    usage = Usage({}, {}, {})
    add = usage.add
    for g in claim.history:
        add(g)
    for g in history:
        add(g)
    A, C = claim.applicant, claim.claim_facts
    kind = A["kind"]
    roles = A.get("roles", frozenset())
    # Applicant-level checks, once per claim (a compiled function per policy, like the rules).
    applicant_reasons, applicant_unknown, applicant_docs_missing, standing_steps = ctx.standing[1 if trace else 0](
        A, C, kind, C.get("documents", _NO_DOCS)
    )

    # "Only the highest award for the same subject" looks across the application first.
    losers = _highest_only_losers(policy, ctx, claim) if ctx.highest else _NO_LOSERS

    decisions: list[ItemDecision] = []
    grants: list[Grant] = []
    compiled = ctx.compiled_by_type[1 if trace else 0]
    for item in claim.items:
        fast = compiled.get(item.type)
        if fast is not None and (not losers or item.id not in losers):  # the rule's compiled function; it adds its grant to `usage`
            d = fast(item.facts, A, C, kind, roles, claim, item, usage, applicant_reasons, applicant_unknown, applicant_docs_missing)
            decisions.append(d)
            if d.grant is not None:
                grants.append(d.grant)
            continue
        rule = policy.rules_by_type[item.type]
        d = _decide(
            policy,
            ctx,
            rule,
            item,
            claim,
            usage,
            A,
            C,
            kind,
            roles,
            applicant_reasons,
            applicant_unknown,
            applicant_docs_missing,
            item.id in losers,
            trace,
        )
        decisions.append(d)
        if d.grant is not None:
            usage.add(d.grant)
            grants.append(d.grant)
    return make_decision(policy, claim, tuple(decisions), tuple(grants), tuple(standing_steps), tuple(applicant_reasons))


_Standing = tuple[list[Reason], list[str], list[str], list[Any]]


def _standing(ctx: _Context, A: Facts, C: Facts, kind: str, claim_docs: Any, trace: bool) -> _Standing:
    """The applicant-level checks and documents, generically: (reasons, unknown facts, missing documents, steps)."""
    steps: list[Any] = []
    reasons: list[Reason] = []
    unknown: list[str] = []
    ok: bool | None
    for test, function, kinds, failed in ctx.applicant_checks:
        if kinds is not None and kind not in kinds:
            continue
        try:
            ok = bool(function(_NO_ITEM, A, C))
        except MissingFact as exc:
            if trace:
                steps.append(("check", test, None, exc.fact))
            if exc.fact:
                unknown.append(exc.fact)
            continue
        if trace:
            steps.append(("check", test, ok, None))
        if not ok:
            reasons.append(failed)
    docs_missing: list[str] = []  # every item that needs documents misses these too
    for dc in ctx.policy.applicant_document_checks:
        if dc.kinds is not None and kind not in dc.kinds:
            continue
        required, missing_docs, unk = _documents(dc.needs, claim_docs, _NO_ITEM, A, C)
        unknown.extend(unk)
        if trace:
            steps.append(("documents", dc, tuple(required), tuple(missing_docs), dc.cites))
        docs_missing.extend(missing_docs)
    return reasons, unknown, docs_missing, steps


def _generate_standing(policy: CompiledPolicy, ctx: _Context, trace: bool) -> Callable[[Facts, Facts, str, Any], _Standing]:
    """`_standing` for this policy as one generated function, expression bodies inlined (see `_generate`)."""
    ns: dict[str, Any] = {
        "__builtins__": {"bool": bool, "tuple": tuple},
        "MissingFact": MissingFact,
        "RUNTIME_ERRORS": RUNTIME_ERRORS,
        "NO_ITEM": _NO_ITEM,
    }
    source = StandingWriter(policy, ctx.applicant_checks, ns, trace=trace).write()
    ns["SLOW"] = lambda A, C, kind, claim_docs: _standing(ctx, A, C, kind, claim_docs, trace)
    exec(_compiled(source, f"<standing{' traced' if trace else ''}>"), ns)  # noqa: S102 -- as in _generate
    standing: Callable[[Facts, Facts, str, Any], _Standing] = ns["standing"]
    _named(standing, f"<standing{' traced' if trace else ''}>")
    standing.source = source  # type: ignore[attr-defined]
    return standing


def _highest_only_losers(policy: CompiledPolicy, ctx: _Context, claim: Claim) -> set[str]:
    best: dict[tuple[str, tuple[Any, ...]], tuple[Decimal, str]] = {}
    losers: set[str] = set()
    for item in claim.items:
        rule = policy.rules_by_type[item.type]
        if rule.subject is None or rule.subject.pays != "highest" or rule.amount is None:
            continue
        try:
            key = (rule.subject.group, rule.subject.scope(item.facts, claim.applicant, claim.claim_facts))
            value = _compute(ctx.plans[rule.id].amount or rule.amount, ctx, item.facts, claim.applicant, claim.claim_facts, None)
        except (MissingFact, PendingAmount):
            continue
        if _ineligible(rule, item, claim):  # a higher award that cannot be paid does not displace a lower one
            continue
        current = best.get(key)
        if current is None:
            best[key] = (value, item.id)
        elif value > current[0]:
            losers.add(current[1])
            best[key] = (value, item.id)
        else:
            losers.add(item.id)
    return losers


def _ineligible(rule: Rule, item: Item, claim: Claim) -> bool:
    """True if the applicant may not claim this rule, or one of the item's own checks is definitely false."""
    A = claim.applicant
    kind = A["kind"]
    if kind not in rule.kinds or (rule.roles and not (rule.roles & A.get("roles", frozenset()))):
        return True
    for test in rule.item_checks + rule.when:
        if test.kinds is not None and kind not in test.kinds:
            continue
        if _check(test, item.facts, A, claim.claim_facts)[0] is False:
            return True
    return False


def _decide(
    policy: CompiledPolicy,
    ctx: _Context,
    rule: Rule,
    item: Item,
    claim: Claim,
    usage: Usage,
    A: Facts,
    C: Facts,
    kind: str,
    roles: Any,
    applicant_reasons: list[Reason],
    applicant_unknown: list[str],
    applicant_docs_missing: list[str],
    lost_to_higher: bool,
    trace: bool,
) -> ItemDecision:
    I = item.facts
    plan = ctx.plans[rule.id]
    steps: list[Any] | None = [] if trace else None
    reasons: list[Reason] = list(applicant_reasons)
    unknown: list[str] = list(applicant_unknown)

    if kind not in plan.kinds or (plan.roles and not (plan.roles & roles)):
        reasons.append(plan.who_reason)
        if steps is not None:
            steps.append(("who", rule, False))
    elif steps is not None:
        steps.append(("who", rule, True))

    ok: bool | None
    for test, function, kinds, failed in plan.checks:
        if kinds is not None and kind not in kinds:
            continue
        try:
            ok = bool(function(I, A, C))
        except MissingFact as exc:
            if steps is not None:
                steps.append(("check", test, None, exc.fact))
            if exc.fact:
                unknown.append(exc.fact)
            continue
        if steps is not None:
            steps.append(("check", test, ok, None))
        if not ok:
            reasons.append(failed)

    if rule.referral is not None:
        return _finish(policy, ctx, rule, item, claim, reasons, unknown, [], ctx.zero, ctx.zero, False, True, (), steps)

    pending = False
    asked = ctx.zero
    assert plan.compute is not None
    try:
        asked = plan.compute(plan.amount, ctx, I, A, C, steps)
    except PendingAmount:
        pending = True
    except MissingFact as exc:
        unknown.append(exc.fact)

    # What a grant would consume, as plain tuples (kind, id, scope, counts); made into Consumptions only on a grant.
    consumes: list[tuple[str, str, tuple[Any, ...], Any]] = []
    subject = rule.subject
    if subject is not None and not pending:
        try:
            skey = subject.scope(I, A, C)
        except MissingFact as exc:
            unknown.append(exc.fact)
        else:
            paid = usage.subjects.get((subject.group, skey), ZERO)
            before = asked
            assert plan.subject_reasons is not None
            higher, no_topup, no_difference = plan.subject_reasons
            if lost_to_higher or (subject.pays == "highest" and paid > 0):
                # Without 补差 an earlier, lower award still closes the subject; say which case it is.
                reasons.append(higher if lost_to_higher or paid >= asked else no_topup)
                asked = ctx.zero
            elif subject.pays == "difference":
                asked = max(asked - paid, ctx.zero)
                if asked == 0:
                    reasons.append(no_difference)
            if steps is not None:
                steps.append(("subject", subject, skey, paid, before, asked))
            consumes.append(("subject", subject.group, skey, None))

    usage_limits = usage.limits
    for limit, scoper, counting, failed in plan.limits:
        try:
            scope = scoper(I, A, C)
            counts = tuple([f(I, A, C) for f in counting]) if counting is not None else (claim.claim_id, item.id)
        except MissingFact as exc:
            unknown.append(exc.fact)
            continue
        used = usage_limits.get((limit.id, scope), ())
        counted = tuple([scope_key(v) for v in counts]) in used  # usage holds counts as grants record them (scope_key)
        ok = counted or len(used) < limit.times
        if steps is not None:
            steps.append(("limit", limit, scope, len(used), counts, counted, ok))
        if not ok:
            reasons.append(failed)
        consumes.append(("limit", limit.id, scope, counts))

    granted = asked
    if not pending:
        bitten = None
        usage_caps = usage.caps
        for cap, scoper, exhausted, ceiling in plan.caps:  # type: ignore[assignment]
            if scoper is None:  # a ceiling on the single item
                scope, used_before = (), ZERO
            else:
                try:
                    scope = scoper(I, A, C)
                except MissingFact as exc:
                    unknown.append(exc.fact)
                    continue
                used_before = usage_caps.get((cap.id, scope), ZERO)
            room = ceiling - used_before
            if room < 0:
                room = ctx.zero
            after = granted if granted <= room else room
            if steps is not None:
                steps.append(("cap", cap, scope, used_before, granted, after))
            if after < granted and after == 0:
                bitten = exhausted
            granted = after
            if scoper is not None:
                consumes.append(("cap", cap.id, scope, None))
        if bitten is not None:  # cut to nothing by a cap: refused, and counts as no time (R21-style)
            reasons.append(bitten)
        elif asked == 0 and not reasons and not unknown:
            reasons.append(plan.zero_reason)

    missing_docs: list[str] = []
    if rule.documents_required:
        missing_docs.extend(applicant_docs_missing)
        have = I.get("documents", frozenset())
        required: list[str] = []
        miss: list[str] = []
        for doc, when in plan.docs:
            if when is not None:
                try:
                    if not when(I, A, C):
                        continue
                except MissingFact as exc:
                    unknown.append(exc.fact)
                    continue
            required.append(doc)
            if doc not in have:
                miss.append(doc)
        if steps is not None and required:
            steps.append(("documents", rule, tuple(required), tuple(miss), plan.docs_cites))
        missing_docs.extend(miss)
        for dc in rule.item_document_checks:
            if dc.kinds is not None and kind not in dc.kinds:
                continue
            required, miss, unk = _documents(dc.needs, have, I, A, C)
            unknown.extend(unk)
            if steps is not None:
                steps.append(("documents", dc, tuple(required), tuple(miss), dc.cites))
            missing_docs.extend(miss)

    return _finish(policy, ctx, rule, item, claim, reasons, unknown, missing_docs, asked, granted, pending, False, tuple(consumes), steps)


def _finish(
    policy: CompiledPolicy,
    ctx: _Context,
    rule: Rule,
    item: Item,
    claim: Claim,
    reasons: list[Reason],
    unknown: list[str],
    missing_docs: list[str],
    asked: Decimal,
    granted: Decimal,
    pending: bool,
    referral: bool,
    consumes: tuple[tuple[str, str, tuple[Any, ...], Any], ...],
    steps: list[Any] | None,
) -> ItemDecision:
    grant = None
    provisional = None
    if reasons:
        if len(reasons) > 1:
            rank = ctx.rank
            reasons.sort(key=lambda r: rank.get(r.category, len(rank)))
        status, amount = "refused", ctx.zero
    elif unknown:
        status, amount = "incomplete", ctx.zero
    elif referral:
        status, amount = "referred", ctx.zero
    elif pending:
        status, amount = "pending_review", ctx.zero
    elif missing_docs:
        status, amount, provisional = "incomplete", ctx.zero, granted
    else:
        status = "reduced" if granted < asked else "granted"
        amount = granted
        filled = tuple(
            Consumption(k, i, scope, counts=tuple([scope_key(v) for v in counts]))
            if k == "limit"
            else Consumption(k, i, scope, amount=granted)
            for k, i, scope, counts in consumes
        )
        grant = Grant(claim.claim_id, item.id, rule.id, claim.applicant_id, claim.funding_year, granted, filled)
    return ItemDecision(
        item=item,
        rule=rule,
        status=status,
        amount=amount,
        asked=asked,
        provisional=provisional,
        reasons=tuple(reasons),
        missing_facts=tuple(dict.fromkeys(unknown)) if unknown else (),
        missing_documents=tuple(dict.fromkeys(missing_docs)) if missing_docs else (),
        steps=tuple(steps) if steps is not None else (),
        grant=grant,
        documents_cites=policy.documents_cites,
    )


# --- rules compiled to Python functions ---------------------------------------------------------------
#
# Like jinja2 with templates: each rule becomes the source of one Python function, compiled once per
# policy (one variant that records the trace, one that builds no trace at all). The function does what
# `_decide` + `_finish` do for that rule, with its checks, amount, limits, caps and documents unrolled
# and their constants bound as names -- no loops over tuples, no isinstance chains, no per-item
# branching on whether to trace. Expression bodies are written into it as the text `expressions.py`
# made from the allow-list checker's rewritten syntax tree (`inline_source`): nothing here evaluates
# policy text, and no expression is parsed per item. A runtime error in an inlined body (never on facts
# of the declared types) re-runs the item on the generic path, whose expression functions raise the
# ClaimError naming the expression. The items a "highest only" rule's subject gives to a higher award
# keep the generic path, which is also the reference the generated code is tested against.
# The source is written by `codegen.RuleWriter` (one method per construct); here it is compiled and bound.


def _generate(rule: Rule, plan: _Plan, policy: CompiledPolicy, ctx: _Context, trace: bool) -> Callable[..., ItemDecision] | None:
    """One rule's decide function: its source written by `RuleWriter` in the namespace built here, compiled.
    Expression bodies are written into the function (from their checked syntax trees) instead of called."""
    if rule.amount is None and rule.referral is None:
        return None
    ns: dict[str, Any] = {
        "__builtins__": {
            "bool": bool,
            "len": len,
            "tuple": tuple,
            "list": list,
            "set": set,
            "type": type,
            "dict": dict,
            "str": str,
            "int": int,
            "max": max,
        },
        "MissingFact": MissingFact,
        "PendingAmount": PendingAmount,
        "RUNTIME_ERRORS": RUNTIME_ERRORS,
        "NEW": tuple.__new__,  # named tuples built directly, all fields given
        "ID": ItemDecision,
        "GR": Grant,
        "CO": Consumption,
        "NO_AMOUNT": Decimal(0),
        "ZERO": ZERO,
        "QZERO": ctx.zero,
        "_key": scope_key,  # the names the generated code calls (scope keys, limit counts): one function
        "_plain": scope_key,
        "_documents": _documents,
        "RULE": rule,
        "RULE_ID": rule.id,
        "KINDS": plan.kinds,
        "ROLES": plan.roles,
        "WHO": plan.who_reason,
        "SUBJECT_REASONS": plan.subject_reasons,
        "ZERO_REASON": plan.zero_reason,
        "DOCS_CITES": plan.docs_cites,
        "POLICY_DOCS_CITES": policy.documents_cites,
        "RANK": lambda r, rank=ctx.rank: rank.get(r.category, len(rank)),
        "EMPTY": frozenset(),
        "CTX": ctx,
    }
    source = RuleWriter(rule, plan, ctx.quantum, ctx.mode, ns, trace=trace).write()
    # On a runtime error in an inlined body the item is decided again by the generic path (see RuleWriter.write).
    ns["SLOW"] = _fallback(policy, ctx, rule, trace)
    filename = f"<rule {rule.id}{' traced' if trace else ''}>"
    exec(_compiled(source, filename), ns)  # noqa: S102 -- generated from the compiled rule's structure; expressions are allow-listed bodies or functions
    decide: Callable[..., ItemDecision] = ns["decide"]
    _named(decide, filename)
    decide.source = source  # type: ignore[attr-defined]
    return decide


_CODE: dict[str, CodeType] = {}  # generated source -> its code: rules of the same shape, policies loaded again


def _compiled(source: str, filename: str) -> CodeType:
    """`compile(source)`, once per distinct source text in the process (compiling is most of a policy's load time)."""
    code = _CODE.get(source)
    if code is None:
        if len(_CODE) > 2000:
            _CODE.clear()
        code = _CODE[source] = compile(source, filename, "exec")
    return code


def _named(function: Callable[..., Any], filename: str) -> None:
    """A function from shared code reports its own rule in tracebacks."""
    if function.__code__.co_filename != filename:
        function.__code__ = function.__code__.replace(co_filename=filename)


def _fallback(policy: CompiledPolicy, ctx: _Context, rule: Rule, trace: bool) -> Callable[..., ItemDecision]:
    """The generic path with a compiled rule's signature (it adds its grant to `usage`, as compiled rules do)."""

    def slow(
        I: Facts,
        A: Facts,
        C: Facts,
        kind: str,
        roles: Any,
        claim: Claim,
        item: Item,
        usage: Usage,
        app_reasons: list[Reason],
        app_unknown: list[str],
        app_docs: list[str],
    ) -> ItemDecision:
        d = _decide(policy, ctx, rule, item, claim, usage, A, C, kind, roles, app_reasons, app_unknown, app_docs, False, trace)
        if d.grant is not None:
            usage.add(d.grant)
        return d

    return slow
