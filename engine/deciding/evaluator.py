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
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation, Overflow
from decimal import getcontext as _getcontext
from decimal import setcontext as _setcontext
from types import CodeType
from typing import Any, NamedTuple, cast

from engine.core.errors import ClaimError, PolicyError, Problem
from engine.core.i18n import Msg, msg
from engine.core.quantities import MAX_AMOUNT, ROUNDING_MODES
from engine.deciding.claims import Claim, label, refuse_what_is_no_policy
from engine.deciding.codegen import AmountBeyond, ProbeWriter, RuleWriter, StandingWriter
from engine.deciding.decision import ENGINE_CONTEXT, Decision, ItemDecision, Reason, in_engine_context, make_decision
from engine.deciding.history import NO_EARLIER_USE, Consumption, Grant, Usage
from engine.language.expressions import RUNTIME_ERRORS, Facts, MissingFact
from engine.language.model import (
    AmountForm,
    BandsAmount,
    Cap,
    CompiledPolicy,
    FixedAmount,
    LeastAmount,
    Limit,
    Parameter,
    ParameterValue,
    PerUnitAmount,
    Rule,
    TableAmount,
    Text,
    scope_key,
    table_key,
)

ZERO = Decimal(0)
#: the grounds a rule refuses on by itself, each a reason's check `<rule id>#<ground>` (below): who may claim, a table
#: with no value, a subject paid before, an amount of zero or less. Kept beside the reasons made here, as the one list
#: a case file's expected reasons are read against (`casefile._ReasonIds`): a ground added here is added there
RULE_GROUNDS = ("who", "table", "subject", "zero")
_NO_ITEM = Facts("item")  # the item namespace of applicant-level checks: empty, only read
_NO_DOCS: frozenset[str] = frozenset()
_NO_LOSERS: frozenset[str] = frozenset()
_NO_ROLES: frozenset[str] = frozenset()


class PendingAmount(Exception):
    """The amount comes from outside (a panel) and is not known yet."""


class NoTableValue(Exception):
    """A table (of amounts, rates or ceilings) has no entry and no `otherwise` for the value its `by` gave: the item
    is refused with this reason (never a KeyError)."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.says.en)
        self.reason = reason


def _parameter_at(parameter: Parameter, day: Any) -> ParameterValue | None:
    """The value of `parameter` in force on `day` for the trace (None before the first, or for no date)."""
    return parameter.at(day) if isinstance(day, date) else None


def _no_table_value(rule: Rule) -> Callable[[Any], NoTableValue]:
    """The generated code's `NOVALUE(key)`: the refusal of an item whose table value is missing, naming the value."""

    def no_value(key: Any) -> NoTableValue:
        shown = table_key(key)
        if len(shown) > 60:
            shown = shown[:50] + "…"
        text = Text(f"按规定的对应表中没有“{shown}”对应的数值", f"the table has no amount for {shown}")
        return NoTableValue(Reason("condition", f"{rule.id}#table", rule.cites, text))

    return no_value


class _Context:
    """Per-policy constants for the hot path, computed once, and the generated functions that decide.

    `inline=False`: every generated function calls the expression functions instead of holding their bodies
    (the variant an inlined function hands an item to on a runtime error; tests compare the two)."""

    def __init__(self, policy: CompiledPolicy, *, inline: bool = True) -> None:
        self.policy = policy
        self.inline = inline
        self.quantum = policy.quantum
        self.first_year, self.last_year = policy.funding_years  # (what `policy.covers` compares, read once)
        self.mode = ROUNDING_MODES[policy.rounding]
        self.zero = ZERO.quantize(self.quantum)  # amounts in decisions are on the policy's quantum, zero included
        self.rank = {c: i for i, c in enumerate(policy.refusal_order)}
        self.highest = any(r.subject and r.subject.pays == "highest" for r in policy.rules)
        self.plans = {r.id: _Plan(r, policy, self) for r in policy.rules}
        for rule in policy.rules:
            plan = self.plans[rule.id]
            plan.fast = (_generate(rule, plan, policy, self, False, inline), _generate(rule, plan, policy, self, True, inline))
        #: item type -> (lean, traced) decide functions
        self.fast_by_type = {t: self.plans[r.id].fast for t, r in policy.rules_by_type.items()}
        self.compiled_by_type = tuple({t: f[v] for t, f in self.fast_by_type.items()} for v in (0, 1))  # (lean, traced)
        #: item type -> the probe of its "highest only" rule (see codegen.ProbeWriter)
        self.probes = {
            t: _generate_probe(r, self.plans[r.id], self, inline)
            for t, r in policy.rules_by_type.items()
            if r.subject is not None and r.subject.pays == "highest" and r.amount is not None
        }
        self.applicant_checks = tuple(
            (t, t.expression.function, t.kinds, Reason(t.category, t.id, t.cites, t.says)) for t in policy.applicant_checks
        )
        self.standing = (_generate_standing(policy, self, False, inline), _generate_standing(policy, self, True, inline))

    def round(self, value: Decimal) -> Decimal:
        return value.quantize(self.quantum, rounding=self.mode)


class _Plan:
    """One rule prepared for the hot path: what does not depend on the claim, resolved once per policy.

    The amount's money constants are put on the quantum, and every refusal reason a rule can give is built
    here (reasons are immutable, so each decision can share them).
    """

    __slots__ = (
        "amount",
        "caps",
        "checks",
        "docs",
        "docs_cites",
        "fast",
        "kinds",
        "limits",
        "negative_reason",
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
        # a base that comes out below zero ("按差额补足" when more was paid elsewhere) pays nothing, never a negative sum
        self.negative_reason = Reason(
            "condition",
            f"{rule.id}#zero",
            rule.cites,
            Text("按规定计算的支持金额不足零，不予支持", "the amount computed under this clause is below zero: nothing is paid"),
        )
        self.checks = tuple(
            (t, t.expression.function, t.kinds, Reason(t.category, t.id, t.cites, t.says)) for t in rule.item_checks + rule.when
        )
        self.amount = None if rule.amount is None else _on_quantum(rule.amount, ctx)
        self.limits = tuple((limit, reached(limit)) for limit in rule.limits)
        self.caps = tuple(
            (
                cap,
                exhausted(cap),
                ctx.round(cap.ceiling) if cap.computed is None else _on_quantum(cap.computed, ctx),
            )
            for cap in rule.caps
        )
        self.docs = tuple((n.doc, None if n.when is None else n.when.function) for n in rule.documents)
        self.docs_cites = policy.documents_cites or rule.cites
        self.subject_reasons: tuple[Reason, Reason, Reason, Reason] | None = None if rule.subject is None else _subject_reasons(rule)
        self.fast: tuple[Callable[..., ItemDecision], Callable[..., ItemDecision]]  # (lean, traced): set by _Context, see _generate


def _subject_reasons(rule: Rule) -> tuple[Reason, Reason, Reason, Reason]:
    """A subject rule's refusals: (a higher or equal award is paid, an earlier award is not topped up, no difference
    left, nothing was paid before for the subject though `requires_earlier`)."""
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
        reason(
            "同一对象此前未获支持：本项以此前的支持为前提（如先拨付首期、后拨付余款），不予支持",
            "nothing was paid for the same subject before: this item presupposes an earlier payment (the balance presupposes the advance)",
        ),
    )


def reached(limit: Limit) -> Reason:
    """The ground of an item a limit refuses (its times already used in its scope), as a decision and a match say it."""
    return Reason("limit", limit.id, limit.cites, limit.says)


def exhausted(cap: Cap) -> Reason:
    """The ground of an item a cap cut to nothing (refused: "cap exhausted"), as a decision and a match say it."""
    # (the says in brackets: after a clause's citation and its colon, a second colon read as two heads, "…：封顶额度已用尽：…")
    return Reason("cap", cap.id, cap.cites, Text(f"封顶额度已用尽（{cap.says.zh}）", f"cap exhausted ({cap.says.en})"))


def _on_quantum(form: AmountForm, ctx: _Context) -> AmountForm:
    """The amount form with its money constants on the policy's quantum (400000 -> 400000.00), so that every
    amount a decision carries is: rates are rounded to it, sums and differences of such values stay on it."""
    if isinstance(form, FixedAmount):
        return dataclasses.replace(form, value=ctx.round(form.value))
    if isinstance(form, TableAmount):
        otherwise = None if form.otherwise is None else ctx.round(form.otherwise)
        return dataclasses.replace(form, table={k: ctx.round(v) for k, v in form.table.items()}, otherwise=otherwise)
    if isinstance(form, PerUnitAmount):
        table = None if form.per_unit_table is None else cast(TableAmount, _on_quantum(form.per_unit_table, ctx))
        return dataclasses.replace(form, per_unit=ctx.round(form.per_unit), per_unit_table=table)
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


class GeneratedSource(NamedTuple):
    """One generated function's source, for a reader: `function` is "standing" (the applicant-level checks and
    documents), "decide" (a rule's) or "probe" (a "highest only" rule's look across the claim, see
    codegen.ProbeWriter); `rule` is None for the standing function; `called` marks the called variant (expression
    functions called instead of their bodies written in) that an inlined function hands its arguments to on a
    runtime error; `traced`: whether it records the trace (a probe never does)."""

    function: str
    rule: Rule | None
    called: bool
    traced: bool
    source: str


@in_engine_context
def generated_sources(policy: CompiledPolicy, *, trace: bool = True) -> tuple[GeneratedSource, ...]:
    """The Python source the policy is decided by, for a reader, in order: the applicant-level standing function,
    then per rule its decide function, and its probe when it has one; each inlined variant followed by its called
    variant. `trace`: the variant that records the trace (the default of `evaluate`), or the lean one."""
    ctx = _context(policy)
    variant = 1 if trace else 0
    out = [
        GeneratedSource("standing", None, False, trace, ctx.standing[variant].source),  # type: ignore[attr-defined]
        GeneratedSource("standing", None, True, trace, _generate_standing(policy, ctx, trace, False).source),  # type: ignore[attr-defined]
    ]
    probes = {policy.rules_by_type[t].id: probe for t, probe in ctx.probes.items()}
    for rule in policy.rules:
        plan = ctx.plans[rule.id]
        out.append(GeneratedSource("decide", rule, False, trace, plan.fast[variant].source))  # type: ignore[attr-defined]
        out.append(GeneratedSource("decide", rule, True, trace, _generate(rule, plan, policy, ctx, trace, False).source))  # type: ignore[attr-defined]
        probe = probes.get(rule.id)
        if probe is not None:
            out.append(GeneratedSource("probe", rule, False, False, probe.source))  # type: ignore[attr-defined]
            out.append(GeneratedSource("probe", rule, True, False, _generate_probe(rule, plan, ctx, False).source))  # type: ignore[attr-defined]
    return tuple(out)


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
    selection: Mapping[str, Any] | None = None,
) -> Decision:
    """Decide every item of `claim`. `history` adds to the grants the claim carries itself. `selection`: item id
    -> its `engine.deciding.selection.Verdict` when the claim is decided as part of a round (an item its round's
    selection leaves out is refused).

    The arithmetic is the engine's own (`ENGINE_CONTEXT`), whatever decimal context the caller set (the caller's
    is set back after). The decide is written in here, not called from a wrapper: one call fewer per claim."""
    if type(claim) is not Claim:  # (a dict met `claim.funding_year`: AttributeError; `engine.evaluate` parses data)
        raise TypeError(msg("claim.not_parsed", kind=type(claim).__name__))
    saved = _getcontext()
    if saved is not ENGINE_CONTEXT:
        _setcontext(ENGINE_CONTEXT)
    try:
        try:
            ctx = _context(policy)
        except (AttributeError, TypeError):  # (off the path: None, a path or a PolicySet given for the policy)
            refuse_what_is_no_policy(policy, "evaluate_claim")
            raise
        if not ctx.first_year <= claim.funding_year <= ctx.last_year:  # policy.covers
            _outside_window(policy, claim)
        usage = Usage({}, {}, {})
        if claim.history:
            usage.add_all(claim.history)
        if history:
            try:
                if type(history) is not tuple and type(history) is not list:  # (a generator is read once: kept)
                    if isinstance(history, Grant | Mapping):  # (one grant alone: tuple() would take its fields)
                        refuse_no_grants(history)
                    history = tuple(history)
                usage.add_all(history)
            except (AttributeError, TypeError, ValueError):  # (off the path: dicts, a grant's data, given as history)
                refuse_no_grants(history)
                raise
            usage.history = (claim.history, history)
        elif claim.history:
            usage.history = (claim.history,)
        A, C = claim.applicant, claim.claim_facts
        kind = A["kind"]
        roles = A.get("roles", _NO_ROLES)
        # Applicant-level checks, once per claim (a compiled function per policy, like the rules).
        standing = ctx.standing[1 if trace else 0](A, C, kind, C.get("documents", _NO_DOCS))
        app_reasons, app_unknown, app_docs, standing_steps = standing

        # "Only the highest award for the same subject" looks across the application first.
        losers = _highest_only_losers(policy, ctx, claim) if ctx.highest else _NO_LOSERS

        compiled = ctx.compiled_by_type[1 if trace else 0]
        if selection or losers:
            decisions, grants = _decide_selected(policy, compiled, claim, usage, standing, losers, selection)
        else:  # (the common case: the same calls, without the two look-ups per item)
            decisions, grants = [], []
            keep, keep_grant = decisions.append, grants.append
            for item in claim.items:
                try:  # (costs nothing unless it raises)
                    d = compiled[item.type](item.facts, A, C, kind, roles, claim, item, usage, app_reasons, app_unknown, app_docs)
                except _BEYOND as exc:
                    raise _beyond(policy, claim, item, exc) from None
                keep(d)
                grant = d.grant
                if grant is not None:
                    keep_grant(grant)
        return make_decision(policy, claim, tuple(decisions), tuple(grants), tuple(standing_steps), tuple(app_reasons))
    finally:
        if saved is not ENGINE_CONTEXT:
            _setcontext(saved)


def refuse_no_grants(history: Any) -> None:
    """A TypeError saying what `evaluate_claim`'s history takes, when what it was given holds something that is no
    Grant (their dicts, a ledger's rows: "'dict' object has no attribute 'consumes'"); `engine.evaluate` takes those."""
    if isinstance(history, Grant):  # (one grant alone: it was said as "not str", the type of its first field)
        raise TypeError(msg("core.one_grant")) from None
    if isinstance(history, Mapping) or not isinstance(history, Iterable):
        raise TypeError(msg("core.not_grants", kind=type(history).__name__)) from None
    others = [g for g in history if not isinstance(g, Grant)]  # (None among them: no `next(..., None)`)
    if others:
        raise TypeError(msg("core.not_grants", kind=type(others[0]).__name__)) from None


def _decide_selected(
    policy: CompiledPolicy,
    compiled: Mapping[str, Callable[..., ItemDecision]],
    claim: Claim,
    usage: Usage,
    standing: _Standing,
    losers: set[str] | frozenset[str],
    selection: Mapping[str, Any] | None,
) -> tuple[list[ItemDecision], list[Grant]]:
    """The item loop of `evaluate_claim` when a round's selection or a "highest only" loser is in play."""
    A, C = claim.applicant, claim.claim_facts
    kind = A["kind"]
    roles = A.get("roles", _NO_ROLES)
    app_reasons, app_unknown, app_docs, _ = standing
    decisions: list[ItemDecision] = []
    grants: list[Grant] = []
    for item in claim.items:
        decide = compiled[item.type]  # the rule's generated function; it adds its grant to `usage`
        lost = item.id in losers
        try:
            if selection and item.id in selection:
                d = decide(item.facts, A, C, kind, roles, claim, item, usage, app_reasons, app_unknown, app_docs, lost, selection[item.id])
            else:
                d = decide(item.facts, A, C, kind, roles, claim, item, usage, app_reasons, app_unknown, app_docs, lost)
        except _BEYOND as exc:
            raise _beyond(policy, claim, item, exc) from None
        decisions.append(d)
        if d.grant is not None:
            grants.append(d.grant)
    return decisions, grants


#: what an item's rule raises when its formula computes more than any amount the engine pays (the generated code's
#: test, where the amount is computed: `codegen.may_exceed`), or a number past the engine's decimal context
_BEYOND = (AmountBeyond, InvalidOperation, Overflow)


def _beyond(policy: CompiledPolicy, claim: Claim, item: Any, exc: Exception) -> PolicyError:
    """The policy's error for an item whose rule computed past what the engine pays: the formula is wrong, not the
    claim, and nothing is decided by it (such an amount was granted, and committed)."""
    amount = exc.amount if isinstance(exc, AmountBeyond) else None
    rule = policy.rules_by_type.get(item.type)
    said = msg(
        "render.amount_beyond",
        rule=rule.id if rule is not None else item.type,
        cites=rule.cites if rule is not None else "",
        item=item.id,
        amount=amount if amount is not None else msg("render.amount_beyond_digits", digits=ENGINE_CONTEXT.prec),
        most=MAX_AMOUNT,
    )
    index = next((i for i, it in enumerate(claim.items) if it is item), 0)
    return PolicyError([Problem(said, path=("items", index), code="policy.amount", item_id=item.id)], msg("render.amount_beyond_summary"))


def _outside_window(policy: CompiledPolicy, claim: Claim) -> None:
    """The claim's funding year is not in the version's window: an error naming the window, and the clause and
    readings the window rests on (`policy.in_force.cites` / `readings`) when the policy names them."""
    lo, hi = policy.funding_years
    basis: Msg | str = ""
    if policy.in_force_cites:
        basis = msg("render.window_cites", before=basis, cites=policy.in_force_cites)
    if policy.in_force_readings:
        basis = msg("render.window_readings", before=basis, ids=list(policy.in_force_readings))
    raise ClaimError(
        [
            Problem(
                msg(
                    "render.outside_window",
                    year=claim.funding_year,
                    policy=label(policy.title),  # (its title, as the notices and summary.xlsx name it; was its id)
                    version=policy.version,
                    first=lo,
                    last=hi,
                    basis=basis,
                ),
                path=("funding_year",),
                expected=msg("render.year_from_to", first=lo, last=hi),
                code="not_in_force",
            )
        ],
        msg("render.no_version"),
    )


_Standing = tuple[list[Reason], list[str], list[str], list[Any]]


def _highest_only_losers(policy: CompiledPolicy, ctx: _Context, claim: Claim) -> set[str]:
    """The items of "highest only" rules that lose to a higher award for the same subject in this claim
    (a tie: the lowest item id wins, so the result does not depend on the order items are listed in). Items that cannot be paid anyway do not compete (see ProbeWriter)."""
    best: dict[tuple[str, tuple[Any, ...]], tuple[Decimal, str]] = {}
    losers: set[str] = set()
    probes = ctx.probes
    A, C = claim.applicant, claim.claim_facts
    kind = A["kind"]
    roles = A.get("roles", frozenset())
    for item in claim.items:
        probe = probes.get(item.type)
        if probe is None:
            continue
        got = probe(item.facts, A, C, kind, roles)
        if got is None:
            continue
        key, value = got
        current = best.get(key)
        if current is None:
            best[key] = (value, item.id)
        elif value > current[0] or (value == current[0] and item.id < current[1]):
            losers.add(current[1])
            best[key] = (value, item.id)
        else:
            losers.add(item.id)
    return losers


# --- rules compiled to Python functions ---------------------------------------------------------------
#
# Like jinja2 with templates: each rule becomes the source of one Python function, compiled once per
# policy (one variant that records the trace, one that builds no trace at all). Every item is decided by
# such a function: its checks, amount, limits, caps and documents unrolled and their constants bound as
# names -- no loops over tuples, no isinstance chains, no per-item branching on whether to trace. Expression
# bodies are written into it as the text `expressions.py` made from the allow-list checker's rewritten syntax
# tree (`inline_source`): nothing here evaluates policy text, and no expression is parsed per item. A runtime
# error in an inlined body (never on facts of the declared types) hands the item to the called variant of the
# same function, generated on the first such error, whose expression functions raise the ClaimError naming the
# expression. The standing function and the "highest only" probes are generated the same way.
# The source is written by `codegen` (one method per construct); here it is compiled and bound.


def _namespace(ctx: _Context, builtins: dict[str, Any]) -> dict[str, Any]:
    return {
        "__builtins__": builtins,
        "MissingFact": MissingFact,
        "PendingAmount": PendingAmount,
        "NoTableValue": NoTableValue,
        "TKEY": table_key,
        "RUNTIME_ERRORS": RUNTIME_ERRORS,
        "QZERO": ctx.zero,
        "ZERO": ZERO,
    }


_BUILTINS: dict[str, Any] = {
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
    "min": min,
}


def _rule_namespace(rule: Rule, plan: _Plan, policy: CompiledPolicy, ctx: _Context) -> dict[str, Any]:
    ns = _namespace(ctx, _BUILTINS)
    ns.update(
        {
            "NEW": tuple.__new__,  # named tuples built directly, all fields given
            "ID": ItemDecision,
            "GR": Grant,
            "CO": Consumption,
            "DECIMAL": Decimal,
            "NO_AMOUNT": Decimal(0),
            "NO_EARLIER_USE": NO_EARLIER_USE,
            "_key": scope_key,  # the names the generated code calls (scope keys, limit counts): one function
            "_plain": scope_key,
            "RULE": rule,
            "RULE_ID": rule.id,
            "KINDS": plan.kinds,
            "ROLES": plan.roles,
            "WHO": plan.who_reason,
            "SUBJECT_REASONS": plan.subject_reasons,
            "ZERO_REASON": plan.zero_reason,
            "NEGATIVE_REASON": plan.negative_reason,
            "NOVALUE": _no_table_value(rule),
            "PLOOK": _parameter_at,
            "DOCS_CITES": plan.docs_cites,
            "POLICY_DOCS_CITES": policy.documents_cites,
            "RANK": _ranker(ctx.rank),
            "EMPTY": frozenset(),
        }
    )
    return ns


def _ranker(rank: dict[str, int]) -> Callable[[Reason], int]:
    """The sort key of refusal reasons: their category's place in the policy's `refusal_order` (after all: none)."""
    get, last = rank.get, len(rank)

    def key(reason: Reason) -> int:
        return get(reason.category, last)

    return key


def _build(source: str, name: str, filename: str, ns: dict[str, Any], called: Callable[[], Callable[..., Any]] | None) -> Any:
    """Compile `source` in `ns` and return its function `name`. `called`: makes the called variant, which the
    inlined one hands its arguments to on a runtime error (SLOW); made on the first such error, then kept."""
    if called is not None:

        def slow(*args: Any) -> Any:
            function = ns["SLOW"] = called()
            return function(*args)

        ns["SLOW"] = slow
    exec(_compiled(source, filename), ns)  # noqa: S102 -- generated from the compiled policy's structure; expressions are allow-listed bodies or functions
    function = ns[name]
    _named(function, filename)
    function.source = source
    return function


def _generate(
    rule: Rule, plan: _Plan, policy: CompiledPolicy, ctx: _Context, trace: bool, inline: bool = True
) -> Callable[..., ItemDecision]:
    """One rule's decide function: its source written by `RuleWriter` in the namespace built here, compiled."""
    ns = _rule_namespace(rule, plan, policy, ctx)
    source = RuleWriter(rule, plan, ctx.quantum, ctx.mode, ns, trace=trace, inline=inline).write()
    suffix = ("" if inline else " called") + (" traced" if trace else "")
    called = (lambda: _generate(rule, plan, policy, ctx, trace, False)) if inline else None
    decide: Callable[..., ItemDecision] = _build(source, "decide", f"<rule {rule.id}{suffix}>", ns, called)
    return decide


def _generate_probe(rule: Rule, plan: _Plan, ctx: _Context, inline: bool = True) -> Callable[..., Any]:
    """A "highest only" rule's probe (see `ProbeWriter`), compiled like the rule."""
    ns = _rule_namespace(rule, plan, ctx.policy, ctx)
    source = ProbeWriter(rule, plan, ctx.quantum, ctx.mode, ns, inline=inline).write()
    called = (lambda: _generate_probe(rule, plan, ctx, False)) if inline else None
    probe: Callable[..., Any] = _build(source, "probe", f"<probe {rule.id}{'' if inline else ' called'}>", ns, called)
    return probe


def _generate_standing(
    policy: CompiledPolicy, ctx: _Context, trace: bool, inline: bool = True
) -> Callable[[Facts, Facts, str, Any], _Standing]:
    """The applicant-level checks and documents of the policy as one generated function (see `StandingWriter`)."""
    ns = _namespace(ctx, {"bool": bool, "tuple": tuple})
    ns["NO_ITEM"] = _NO_ITEM
    ns["PLOOK"] = _parameter_at
    source = StandingWriter(policy, ctx.applicant_checks, ns, trace=trace, inline=inline).write()
    called = (lambda: _generate_standing(policy, ctx, trace, False)) if inline else None
    filename = f"<standing{'' if inline else ' called'}{' traced' if trace else ''}>"
    standing: Callable[[Facts, Facts, str, Any], _Standing] = _build(source, "standing", filename, ns, called)
    return standing


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
