"""The source of a policy's generated decide functions, written the way jinja2's compiler writes a template.

`CodeWriter` holds the lines, the indentation and the namespace the source runs in; `RuleWriter` writes one
rule's `decide(...)` with one method per construct (who may apply, each check, each amount form, limits,
caps, documents, the result), and `StandingWriter` the applicant-level checks and documents. The writers
only write text: `evaluator` compiles it (once per distinct text) and runs it.

Decisions, grants and consumptions are written by field name (`build`); the text holds them as positional
`NEW(ID, (...))` -- `tuple.__new__`, the cheapest construction -- in the order of the class's `_fields`, so
naming costs nothing at run time and a missing or unknown field fails when the code is written.

Nothing written here evaluates policy text: expression bodies are the allow-list checker's rewritten trees
(`expressions.inline_source`), or calls to the expression's function when it has no body to inline.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from engine.core.quantities import MAX_AMOUNT
from engine.deciding.decision import ItemDecision
from engine.deciding.history import Consumption, Grant
from engine.language.expressions import CompiledExpression, inline_source
from engine.language.model import (
    AmountForm,
    BandsAmount,
    CompiledPolicy,
    DocumentCheck,
    ExternalAmount,
    FixedAmount,
    LeastAmount,
    PerUnitAmount,
    RateAmount,
    Rule,
    TableAmount,
)


class AmountBeyond(Exception):
    """An item's amount larger than any the engine pays (`MAX_AMOUNT`): its rule's formula is wrong (the evaluator says
    which rule, clause and item)."""

    def __init__(self, amount: Any) -> None:
        super().__init__(amount)
        self.amount = amount


def may_exceed(form: AmountForm | None) -> bool:
    """Whether an amount of `form` can be larger than `MAX_AMOUNT`: a constant cannot (bounded when the policy loads),
    nor a rate of at most 100% of one claimed sum of money (a claim's amounts are bounded so); anything else computed may."""
    if form is None or isinstance(form, FixedAmount | TableAmount):
        return False
    if isinstance(form, LeastAmount):
        return all(may_exceed(p) for p in form.parts)
    if isinstance(form, RateAmount):
        simple = form.rate_table is None and form.of_table is None and form.rate <= 1
        return not (simple and _one_sum(form.of))
    if isinstance(form, ExternalAmount):
        return not _one_sum(form.source)
    return True  # bands and per-unit amounts: computed


def _can_pend(form: AmountForm | None) -> bool:
    """Whether an amount of `form` can be pending: it is, or its least-of has a part that is, decided by a panel."""
    if isinstance(form, ExternalAmount):
        return True
    return isinstance(form, LeastAmount) and any(_can_pend(p) for p in form.parts)


def _one_sum(expression: Any) -> bool:
    """The expression is one fact of money and nothing else (`item.official_fees_paid`)."""
    return expression is not None and expression.type == "money" and len(expression.facts) == 1 and expression.source == expression.facts[0]


#: The name each built tuple class has in generated code (the evaluator puts them in the namespace).
TUPLE_NAMES: dict[type, str] = {ItemDecision: "ID", Grant: "GR", Consumption: "CO"}

_UNKNOWN = "(tuple(dict.fromkeys(unknown)) if unknown else ())"  # missing facts, each once, in order
_MISSING_DOCS = "(tuple(dict.fromkeys(missing_docs)) if missing_docs else ())"
_NOT_LOOKED_UP = object()  # a dated-parameter look-up on a branch not taken: no trace step


class _Block:
    """`with writer.block(head):` -- one level in for the lines written inside. A class, not a
    contextlib generator: a policy's code opens tens of thousands of blocks at load time."""

    __slots__ = ("writer",)

    def __init__(self, writer: CodeWriter) -> None:
        self.writer = writer

    def __enter__(self) -> None:
        self.writer.indent()

    def __exit__(self, *exc: object) -> None:
        self.writer.outdent()


class _Level:
    """`with writer.block_if(None):` -- the lines stay at this level."""

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        pass


_SAME_LEVEL = _Level()


class CodeWriter:
    """Python source a line at a time, with indentation, and the namespace of names it refers to."""

    def __init__(self, ns: dict[str, Any], *, trace: bool = False, inline: bool = True) -> None:
        self.ns = ns
        self.trace = trace  # the traced variant, or the lean one (no steps)
        self.inline = inline  # expression bodies written in (the fast variant), or their functions called
        self.lines: list[str] = []
        self.pad = ""  # the current indentation
        self._numbering = itertools.count()
        self._block = _Block(self)

    def writeline(self, text: str) -> None:
        self.lines.append(self.pad + text)

    def indent(self) -> None:
        self.pad += "    "

    def outdent(self) -> None:
        self.pad = self.pad[:-4]

    def block(self, head: str) -> _Block:
        """`head` ("if ...:", "try:", "else:"); the lines written inside the `with` are one level in."""
        self.writeline(head)
        return self._block

    def block_if(self, head: str | None) -> _Block | _Level:
        """A block when there is a condition, the lines at this level when there is none."""
        if head is None:
            return _SAME_LEVEL
        self.writeline(head)
        return self._block

    def bind(self, name: str, value: Any) -> str:
        """`value` in the namespace as `name` (a constant of the policy the code refers to)."""
        self.ns[name] = value
        return name

    def temporary(self, prefix: str) -> str:
        """A fresh name, unique in this source."""
        return f"{prefix}{next(self._numbering)}"

    def step(self, *values: str) -> None:
        """A trace step (a tuple literal); nothing in the lean variant."""
        if self.trace:
            self.writeline(f"steps.append(({', '.join(values)}))")

    def parameter_steps(self, uses: Iterable[Any]) -> None:
        """A trace step per dated-parameter look-up: (use, the date asked, the value in force then or None); a
        look-up made only under a condition (a branch of `a if c else b`) is recorded only where the condition holds."""
        for k, use in enumerate(uses):
            self.bind(f"PU{k}", use)
            with self.block("try:"):
                day = self.expr(use.date)
                if use.when is None:
                    self.writeline(f"pday{k} = {day}")
                else:
                    self.bind("NOT_LOOKED_UP", _NOT_LOOKED_UP)
                    made = " or ".join(self.expr(w) for w in use.when)
                    self.writeline(f"pday{k} = {day} if {made} else NOT_LOOKED_UP")
            with self.block("except MissingFact:"):
                self.writeline("pass")
            with self.block("else:"):
                with self.block_if(None if use.when is None else f"if pday{k} is not NOT_LOOKED_UP:"):
                    self.step("'parameter'", f"PU{k}", f"pday{k}", f"PLOOK(PU{k}.parameter, pday{k})")

    def visit_check(self, k: int, test: Any, function: Any, kinds: frozenset[str] | None, failed: Any) -> None:
        """A check (an item's or the applicant's): false adds its reason, a missing fact is unknown."""
        self.bind(f"T{k}", test), self.bind(f"R{k}", failed), self.bind(f"K{k}", kinds)
        code = self.expr(test.expression)
        with self.block_if(None if kinds is None else f"if kind in K{k}:"):
            with self.block("try:"):
                if self.trace:
                    self.writeline(f"ok = {code}")
                else:
                    with self.block(f"if not {code}:"):
                        self.writeline(f"reasons.append(R{k})")
            with self.block("except MissingFact as exc:"):
                self.step("'check'", f"T{k}", "None", "exc.fact")
                with self.block("if exc.fact:"):
                    self.writeline("unknown.append(exc.fact)")
            if self.trace:
                self.check_result(k, test)

    def check_result(self, k: int, test: Any) -> None:
        """`else:` of a traced check's `try`: its step, ('check', test, bool(ok), None) -- one of two constants, not a
        tuple made per item -- and its reason when `ok` is false."""
        held, failed = self.bind(f"CY{k}", ("check", test, True, None)), self.bind(f"CN{k}", ("check", test, False, None))
        with self.block("else:"):
            with self.block("if ok:"):
                self.writeline(f"steps.append({held})")
            with self.block("else:"):
                self.writeline(f"steps.append({failed})")
                self.writeline(f"reasons.append(R{k})")

    def expr(self, expression: CompiledExpression) -> str:
        """Code evaluating one expression: its checked body inlined, or a call to its function (always in the
        called variant, whose functions raise the ClaimError that names the expression on a runtime error)."""
        got = inline_source(expression) if self.inline else None
        name = self.temporary("_E")  # numbered either way, so that names do not depend on what inlines
        if got is not None:
            text, names = got
            self.ns.update(names)
            return text
        self.bind(name, expression.function)
        return f"{name}(I, A, C{''.join(', _V_' + n for n in expression.computed)})"

    def build(self, cls: type, /, **fields: str) -> str:
        """A named tuple of class `cls` from code for each of its fields, as the positional `NEW(...)`;
        every field must be given, and only fields of `cls`."""
        names: tuple[str, ...] = cls._fields  # type: ignore[attr-defined]
        if len(fields) != len(names) or not all(f in fields for f in names):
            unknown, missing = sorted(set(fields) - set(names)), [f for f in names if f not in fields]
            raise TypeError(f"{cls.__name__}: unknown fields {unknown}, missing fields {missing}")
        return f"NEW({TUPLE_NAMES[cls]}, ({', '.join([fields[f] for f in names])}))"

    def source(self) -> str:
        return "\n".join(self.lines) + "\n"

    def guarded(self, signature: str, fallback: str) -> _Guard:
        """`with writer.guarded(signature, fallback):` -- the function's body. In the inlined variant it runs
        inside `try: ... except RUNTIME_ERRORS: <fallback>`: an inlined body has no error wrapper of its own,
        so on such an error (never on facts of the declared types) the called variant decides instead, and
        its expression functions raise the ClaimError naming the expression. The called variant has no guard."""
        return _Guard(self, signature, fallback)

    def document_check(self, k: str, dc: DocumentCheck, have: str, unknown: str, out: str, *, trace: bool) -> None:
        """A document check (applicant or item level): its needs against the documents in `have`; facts it
        cannot decide go to `unknown`, missing documents to `out`, and the trace gets one step."""
        self.bind(f"DC{k}", dc)
        if dc.kinds is not None:
            self.bind(f"DK{k}", dc.kinds)
        miss = f"miss{k}" if trace else out
        with self.block_if(None if dc.kinds is None else f"if kind in DK{k}:"):
            if trace:
                self.writeline(f"required{k} = []")
                self.writeline(f"miss{k} = []")
            for m, need in enumerate(dc.needs):
                doc = self.bind(f"D{k}_{m}", need.doc)
                if need.when is not None:
                    with self.block("try:"):
                        # a condition on the computed amount is asked only when the amount is known (see RuleWriter)
                        guard = "amount_known and " if need.when.computed else ""
                        self.writeline(f"need = {guard}{self.expr(need.when)}")
                    with self.block("except MissingFact as exc:"):
                        self.writeline(f"{unknown}.append(exc.fact)")
                        self.writeline("need = False")
                with self.block_if(None if need.when is None else "if need:"):
                    if trace:
                        self.writeline(f"required{k}.append({doc})")
                    with self.block(f"if {doc} not in {have}:"):
                        self.writeline(f"{miss}.append({doc})")
            if trace:
                self.writeline(f"steps.append(('documents', DC{k}, tuple(required{k}), tuple(miss{k}) if miss{k} else (), DC{k}.cites))")
                with self.block(f"if miss{k}:"):
                    self.writeline(f"{out}.extend(miss{k})")


class _Guard:
    __slots__ = ("fallback", "signature", "writer")

    def __init__(self, writer: CodeWriter, signature: str, fallback: str) -> None:
        self.writer, self.signature, self.fallback = writer, signature, fallback

    def __enter__(self) -> None:
        w = self.writer
        w.writeline(self.signature)
        w.indent()
        if w.inline:
            w.writeline("try:")
            w.indent()

    def __exit__(self, *exc: object) -> None:
        w = self.writer
        if w.inline:
            w.outdent()
            with w.block("except RUNTIME_ERRORS:"):
                w.writeline(self.fallback)
        w.outdent()


def plain(var: str, fallback: str) -> str:
    """`var` as a key or count is recorded (str and int as they are, others through `fallback`), without a call."""
    return f"({var} if type({var}) is str or type({var}) is int else {fallback}({var}))"


class RuleWriter(CodeWriter):
    """One rule's decide function: `decide(I, A, C, kind, roles, claim, item, usage, app_reasons, app_unknown,
    app_docs, lost=False, sel=None)`, the lean variant (no trace) or the traced one, with expression bodies inlined or
    (`inline=False`) their functions called. Every item is decided by such a function; it adds its grant to
    `usage` itself. `lost`: the item loses to a higher award for the same subject in this claim (see ProbeWriter);
    `sel`: the item's verdict in its round's selection (engine.deciding.selection), None outside a round.

    `plan` is the evaluator's per-rule plan (checks with their reasons, the amount on the quantum, limits, caps,
    documents); `ns` the namespace with the runtime names (NEW, ID, MissingFact, QZERO, RULE, ...)."""

    SIGNATURE = "def decide(I, A, C, kind, roles, claim, item, usage, app_reasons, app_unknown, app_docs, lost=False, sel=None):"
    FALLBACK = "return SLOW(I, A, C, kind, roles, claim, item, usage, app_reasons, app_unknown, app_docs, lost, sel)"

    def __init__(self, rule: Rule, plan: Any, quantum: Any, mode: str, ns: dict[str, Any], *, trace: bool, inline: bool = True) -> None:
        super().__init__(ns, trace=trace, inline=inline)
        self.rule, self.plan, self.quantum, self.mode = rule, plan, quantum, mode
        self.steps = "tuple(steps)" if trace else "()"  # the decision's steps field
        # What a grant consumes: (flag, code of a Consumption) per subject, limit and cap, in order; and what Usage.add
        # would do, done here: (flag, statement). The flag says whether the part was used for this item; None for a
        # part that is whenever the item is granted (see `recorded`).
        self.consumes: list[tuple[str | None, str]] = []
        self.usage_updates: list[tuple[str | None, str]] = []
        self.cut_by = "()"  # the decision's cut_by field: `cut` once the amount can be cut (by a subject or a cap)
        self.ceilings = "()"  # a pending item's ceilings field: `pceil` when its rule has ceilings to show (`pending_caps`)
        self._forms = itertools.count(1)  # suffixes of the parts of a "least of" amount

    def write(self) -> str:
        """The whole source. Nothing changes `usage` before the last lines, which evaluate no expression, so the
        called variant can decide an item again after a runtime error in the inlined one (see `guarded`)."""
        with self.guarded(self.SIGNATURE, self.FALLBACK):
            self.visit_rule()
        return self.source()

    def decision(
        self,
        status: str,
        asked: str,
        amount: str = "QZERO",
        provisional: str = "None",
        reasons: str = "()",
        missing_facts: str = "()",
        missing_documents: str = "()",
        grant: str = "None",
        ceilings: str = "()",
    ) -> str:
        """An ItemDecision of this rule's item; the arguments are Python source, an outcome names only what it sets."""
        return self.build(
            ItemDecision,
            item="item",
            rule="RULE",
            steps=self.steps,
            documents_cites="POLICY_DOCS_CITES",
            cut_by=self.cut_by,
            status=status,
            amount=amount,
            asked=asked,
            provisional=provisional,
            reasons=reasons,
            missing_facts=missing_facts,
            missing_documents=missing_documents,
            grant=grant,
            ceilings=ceilings,
        )

    def visit_rule(self) -> None:
        self.writeline("reasons = list(app_reasons) if app_reasons else []")
        self.writeline("unknown = list(app_unknown) if app_unknown else []")
        self.visit_who()  # (the trace's `steps` list starts there)
        after_amount = []  # `when` tests on the computed amount: decided after subject, limits and caps
        for k, check in enumerate(self.plan.checks):
            if check[0].expression.computed:
                after_amount.append((k, check))
            else:
                self.visit_check(k, *check)
        if self.rule.referral is not None:  # referred elsewhere: who and checks only, no amount
            self.visit_referral()
            return
        self.visit_parameters()
        if self.reads_amount():
            self.writeline("n_unknown = len(unknown)")
        if self.rule.subject is not None or self.plan.caps:
            self.writeline("cut = ()")  # the clauses that cut the amount, traced or not (ItemDecision.cut_by)
            self.cut_by = "cut"
        self.visit_amount()
        self.visit_subject()
        if self.plan.limits:
            self.writeline("limits = usage.limits")
        for j, limit in enumerate(self.plan.limits):
            self.visit_limit(j, *limit)
        self.writeline("granted = asked")
        self.visit_caps()
        self.visit_computed_amount(after_amount)
        self.visit_documents()
        self.visit_selection()
        self.visit_finish()

    def visit_computed_amount(self, after_amount: list[tuple[int, Any]]) -> None:
        """`amount` for the conditions that read it: the amount after subject, limits and caps, known when it is
        not pending and no fact it needs is missing; the `when` tests on it are decided here, when it is known."""
        if not self.reads_amount():
            return
        self.writeline("_V_amount = granted")
        self.writeline("amount_known = not pending and len(unknown) == n_unknown")
        if after_amount:
            with self.block("if amount_known:"):
                for k, check in after_amount:
                    self.visit_check(k, *check)

    def visit_selection(self) -> None:
        """A round selection: an item its round did not select is refused; outside a round (one claim decided on
        its own) the trace says the item is subject to the selection."""
        selection = self.rule.selection
        if selection is None:
            return
        self.bind("SELECTION", selection)
        with self.block("if sel is not None:"):
            with self.block("if sel.why != 'unranked':"):
                with self.block("if sel.why:"):
                    self.writeline("reasons.append(sel.reason)")
                self.step("'selection'", "SELECTION", "sel")
            # an item with no place refuses only what would be paid: refused or incomplete already, it stays so
            with self.block("elif not (reasons or unknown or pending or missing_docs):"):
                self.writeline("reasons.append(sel.reason)")
                self.step("'selection'", "SELECTION", "sel")
        if self.trace:
            with self.block("elif not reasons:"):
                self.step("'selection'", "SELECTION", "None")

    def reads_amount(self) -> bool:
        """Whether a `when` test or a document condition of this rule reads the computed `amount`."""
        rule = self.rule
        needs = [*rule.documents, *(n for dc in rule.item_document_checks for n in dc.needs)]
        return any(t.expression.computed for t in rule.when) or any(n.when is not None and n.when.computed for n in needs)

    def visit_who(self) -> None:
        """Who may claim; the trace starts with its step (the two possible steps are constants)."""
        cond = "kind not in KINDS" + (" or not (ROLES & roles)" if self.plan.roles else "")
        with self.block(f"if {cond}:"):
            self.writeline("reasons.append(WHO)")
            if self.trace:
                self.writeline(f"steps = [{self.bind('WHO_NO', ('who', self.rule, False))}]")
        if self.trace:
            with self.block("else:"):
                self.writeline(f"steps = [{self.bind('WHO_YES', ('who', self.rule, True))}]")

    def visit_referral(self) -> None:
        self.visit_refused_or_incomplete(asked="QZERO", missing_documents="()")
        self.writeline("return " + self.decision(status="'referred'", asked="QZERO"))

    def visit_refused_or_incomplete(self, asked: str, missing_documents: str, provisional: bool = False, ceilings: str = "()") -> None:
        """The first two outcomes: refused when there is a reason (the main one first), incomplete on a missing fact.
        `provisional`: an item whose only missing facts are the applicant's (a standing fact: 是否实际经营) has its
        amount worked out, after the caps and limits as they stand, consuming nothing (R25-style), as an item missing
        only documents has; one missing a fact of its own does not (its amount may turn on it). `ceilings`: a refused
        item's ceilings (code), those of a pending item a ceiling with no room left refused (`pending_caps`)."""
        with self.block("if reasons:"):
            with self.block("if len(reasons) > 1:"):
                self.writeline("reasons.sort(key=RANK)")
            refused = self.decision(
                status="'refused'",
                asked=asked,
                reasons="tuple(reasons)",
                missing_facts=_UNKNOWN,
                missing_documents=missing_documents,
                ceilings=ceilings,
            )
            self.writeline(f"return {refused}")
        if provisional:
            with self.block("if unknown and not pending and len(unknown) == (len(app_unknown) if app_unknown else 0):"):
                standing_only = self.decision(
                    status="'incomplete'", asked=asked, provisional="granted", missing_facts=_UNKNOWN, missing_documents=missing_documents
                )
                self.writeline(f"return {standing_only}")
        with self.block("if unknown:"):
            incomplete = self.decision(status="'incomplete'", asked=asked, missing_facts=_UNKNOWN, missing_documents=missing_documents)
            self.writeline(f"return {incomplete}")

    # --- the amount ---

    def visit_parameters(self) -> None:
        """The trace's record of each dated-parameter look-up of the rule: (parameter use, the date asked, the value in
        force then or None before the first). Only in the traced variant; a date that cannot be computed (a fact
        missing) records nothing -- the expression that needs it makes the item incomplete."""
        if self.trace:
            self.parameter_steps(self.rule.param_uses)

    def visit_amount(self) -> None:
        """`asked`, before caps; `pending` when it comes from outside and is not known yet."""
        self.writeline("pending = False")
        subject = self.rule.subject is not None  # only a subject's difference reads whether the amount is known
        if subject:
            self.writeline("amount_missing = False")
        self.writeline("asked = QZERO")
        with self.block("try:"):
            self.amount(self.plan.amount, "asked", "")
        with self.block("except PendingAmount:"):
            self.writeline("pending = True")
        with self.block("except MissingFact as exc:"):
            self.writeline("unknown.append(exc.fact)")
            if subject:
                self.writeline("amount_missing = True")
        with self.block("except NoTableValue as exc:"):
            self.writeline("reasons.append(exc.reason)")
        with self.block("if asked < ZERO:"):  # the trace keeps the negative computation; nothing is paid or used
            self.writeline("asked = QZERO")
            self.writeline("reasons.append(NEGATIVE_REASON)")
        if may_exceed(self.plan.amount):  # (only a computed amount: constants and a rate of one claimed sum are bounded)
            self.bind("MAX_AMOUNT", MAX_AMOUNT)
            self.bind("AMOUNT_BEYOND", AmountBeyond)
            with self.block("if asked > MAX_AMOUNT:"):
                self.writeline("raise AMOUNT_BEYOND(asked)")

    def amount(self, form: AmountForm, target: str, s: str) -> None:
        """`target = ` the amount of `form` (its constants bound with the suffix `s`), and its trace step. Money
        is on the quantum: rates are rounded to it (R8-style) before any cap; the constants are on it already."""
        self.bind(f"FORM{s}", form)
        if isinstance(form, RateAmount):
            self.amount_rate(form, target, s)
        elif isinstance(form, FixedAmount):
            self.amount_fixed(form, target, s)
        elif isinstance(form, TableAmount):
            self.amount_table(form, target, s)
        elif isinstance(form, ExternalAmount):
            self.amount_external(form, target, s)
        elif isinstance(form, BandsAmount):
            self.amount_bands(form, target, s)
        elif isinstance(form, PerUnitAmount):
            self.amount_per_unit(form, target, s)
        else:
            self.amount_least(form, target, s)

    def base_and_rate_tables(self, form: RateAmount, base: tuple[str, str, str], rate: tuple[str, str, str], const: str) -> None:
        """A two-dimensional amount (`of:` a table): the base looked up into base[0] (its key into base[1]), then the
        rate, from its own table or the constant bound as `const` (key None). Amounts and computed ceilings share it."""
        assert form.of_table is not None
        self.lookup(form.of_table, *base)
        if form.rate_table is None:
            self.writeline(f"{rate[0]} = {self.bind(const, form.rate)}")
            self.writeline(f"{rate[1]} = None")
        else:
            self.lookup(form.rate_table, *rate)

    def amount_rate(self, form: RateAmount, target: str, s: str) -> None:
        """The base times the rate, rounded; a rate chosen by a scalar is looked up first (its step's detail is then
        (base, key, rate) instead of the base)."""
        self.bind("Q", self.quantum), self.bind("MODE", self.mode)
        if form.of_table is not None:  # two dimensions: the base from an amount table, then the rate (see RateAmount)
            self.base_and_rate_tables(form, (f"base{s}", f"okey{s}", f"O{s}"), (f"rate{s}", f"rkey{s}", f"R{s}"), f"RATE{s}")
            self.writeline(f"{target} = (base{s} * rate{s}).quantize(Q, MODE)")
            self.step("'amount'", f"FORM{s}", f"(base{s}, rkey{s}, rate{s}, okey{s})", target)
            return
        self.writeline(f"base{s} = {self.expr(form.of)}")
        if form.rate_table is None:
            self.bind(f"RATE{s}", form.rate)
            self.writeline(f"{target} = (base{s} * RATE{s}).quantize(Q, MODE)")
            self.step("'amount'", f"FORM{s}", f"base{s}", target)
            return
        self.lookup(form.rate_table, f"rate{s}", f"rkey{s}", f"R{s}")
        self.writeline(f"{target} = (base{s} * rate{s}).quantize(Q, MODE)")
        self.step("'amount'", f"FORM{s}", f"(base{s}, rkey{s}, rate{s})", target)

    def lookup(self, form: TableAmount, value: str, key: str, s: str) -> None:
        """`value = ` the table's entry for `key = <by>` (through `table_key`), its `otherwise` when it lists none, or
        the refusal `NoTableValue` naming the key when there is no `otherwise` -- never a KeyError."""
        self.bind(f"TABLE{s}", form.table), self.bind(f"OTHER{s}", form.otherwise)
        self.writeline(f"{key} = {self.expr(form.by)}")
        # a text key is its own table key (`table_key` returns a str as it is): no call for it
        self.writeline(f"got{s} = TABLE{s}.get({key} if type({key}) is str else TKEY({key}), OTHER{s})")
        with self.block(f"if got{s} is None:"):
            self.writeline(f"raise NOVALUE({key})")
        self.writeline(f"{value} = got{s}")

    def amount_fixed(self, form: FixedAmount, target: str, s: str) -> None:
        self.bind(f"VALUE{s}", form.value)
        self.writeline(f"{target} = VALUE{s}")
        self.step("'amount'", f"FORM{s}", "None", f"VALUE{s}")

    def amount_table(self, form: TableAmount, target: str, s: str) -> None:
        self.lookup(form, target, f"key{s}", s)
        self.step("'amount'", f"FORM{s}", f"key{s}", target)

    def amount_external(self, form: ExternalAmount, target: str, s: str) -> None:
        """Decided by a panel: pending while the fact is missing or null."""
        self.bind("Q", self.quantum), self.bind("MODE", self.mode)
        with self.block("try:"):
            self.writeline(f"ext{s} = {self.expr(form.source)}")
        with self.block("except MissingFact:"):
            self.writeline("raise PendingAmount() from None")
        with self.block(f"if ext{s} is None:"):
            self.writeline("raise PendingAmount()")
        self.writeline(f"{target} = DECIMAL(ext{s}).quantize(Q, MODE)")
        self.step("'amount'", f"FORM{s}", f"ext{s}", target)  # (what the panel gave, and what the policy pays of it)

    def amount_bands(self, form: BandsAmount, target: str, s: str) -> None:
        """The last band (in the order written) whose start the base reaches: its amount, or the base times its rate."""
        self.bind("Q", self.quantum), self.bind("MODE", self.mode)
        self.writeline(f"base{s} = {self.expr(form.of)}")
        head = "if"
        for n in reversed(range(len(form.bands))):
            band = form.bands[n]
            self.bind(f"BS{s}_{n}", band.start), self.bind(f"B{s}_{n}", band)
            with self.block(f"{head} base{s} >= BS{s}_{n}:"):
                self.writeline(f"chosen{s} = B{s}_{n}")
                if band.amount is not None:
                    self.writeline(f"{target} = {self.bind(f'BA{s}_{n}', band.amount)}")
                else:
                    rate = self.bind(f"BR{s}_{n}", band.rate or Decimal(0))
                    self.writeline(f"{target} = (base{s} * {rate}).quantize(Q, MODE)")
            head = "elif"
        with self.block_if("else:" if form.bands else None):
            self.writeline(f"chosen{s} = None")
            self.writeline(f"{target} = QZERO")
        self.step("'amount'", f"FORM{s}", f"(base{s}, chosen{s})", target)

    def amount_per_unit(self, form: PerUnitAmount, target: str, s: str) -> None:
        """A sum per unit times the count, the count up to its ceiling. The sum is a constant, a table's entry (its
        key in the detail) or computed (then the product is rounded to the quantum, as a rate's is)."""
        if form.per_unit_table is not None:
            self.lookup(form.per_unit_table, f"per{s}", f"pkey{s}", f"P{s}")
        elif form.per_unit_of is not None:
            self.writeline(f"per{s} = {self.expr(form.per_unit_of)}")
        else:
            self.writeline(f"per{s} = {self.bind(f'PER{s}', form.per_unit)}")
        self.writeline(f"count{s} = {self.expr(form.count)}")
        if form.max_count is not None:
            self.writeline(f"used{s} = min(count{s}, {self.bind(f'MAXC{s}', form.max_count)})")
        else:
            self.writeline(f"used{s} = count{s}")
        if form.per_unit_of is not None:
            self.bind("Q", self.quantum), self.bind("MODE", self.mode)
            self.writeline(f"{target} = (per{s} * DECIMAL(used{s})).quantize(Q, MODE)")
            self.step("'amount'", f"FORM{s}", f"(count{s}, used{s}, per{s})", target)
            return
        self.writeline(f"{target} = per{s} * DECIMAL(used{s})")
        detail = f"(count{s}, used{s}, per{s}, pkey{s})" if form.per_unit_table is not None else f"(count{s}, used{s})"
        self.step("'amount'", f"FORM{s}", detail, target)

    def amount_least(self, form: LeastAmount, target: str, s: str) -> None:
        """The least of several amounts, each computed (and traced) in turn."""
        parts = []
        for part in form.parts:
            ps = f"_{next(self._forms)}"
            self.amount(part, f"v{ps}", ps)
            parts.append(f"v{ps}")
        self.writeline(f"{target} = min({', '.join(parts)})")
        self.step("'amount'", f"FORM{s}", f"({', '.join(parts)},)", target)

    # --- subjects, limits and caps ---

    def visit_subject(self) -> None:
        """One award per subject: "highest" pays nothing once the subject was paid or when the item loses to a
        higher award in the same claim (`lost`), "difference" the rest."""
        subject = self.rule.subject
        if subject is None:
            return
        self.bind("SUBJECT", subject), self.bind("SGROUP", subject.group)
        with self.block("if not pending:"):
            with self.block("try:"):
                self.scope_key("sscope", subject.key)
            with self.block("except MissingFact as exc:"):
                self.writeline("unknown.append(exc.fact)")
            with self.block("else:"):
                self.writeline("skey = (SGROUP, sscope)")
                self.writeline("paid = usage.subjects.get(skey, ZERO)")
                self.writeline("before = asked")
                if subject.requires_earlier:  # the balance presupposes the advance: nothing paid before, nothing now
                    with self.block("if paid == ZERO:"):
                        self.writeline("reasons.append(SUBJECT_REASONS[3])")
                        self.writeline("asked = QZERO")
                with self.block_if("else:" if subject.requires_earlier else None):
                    self.subject_pays(subject)
                self.step("'subject'", "SUBJECT", "sscope", "paid", "before", "asked")
                with self.block("if asked < before:"):
                    self.writeline(f"cut += {self.bind('SUBJECT_CUT', (subject.cites,))}")
        consumption = self.build(Consumption, kind="'subject'", id="SGROUP", scope="sscope", amount="granted", counts="None")
        self.consumes.append((None, consumption))  # (a subject is always recorded when granted: see `recorded`)
        self.usage_updates.append((None, "usage.subjects[skey] = usage.subjects.get(skey, ZERO) + granted"))

    def subject_pays(self, subject: Any) -> None:
        """`asked` after what was paid for the subject (`paid`): only the highest, or the difference (补差)."""
        if subject.pays == "highest" and subject.later == "difference":
            # Only the application's highest item competes; history is topped up (补差) by it.
            with self.block("if lost:"):
                self.writeline("reasons.append(SUBJECT_REASONS[0])")
                self.writeline("asked = QZERO")
            with self.block("else:"):
                self.writeline("asked = max(asked - paid, QZERO)")
                with self.block("if asked == ZERO and not amount_missing:"):  # an unknown amount asks for its fact
                    self.writeline("reasons.append(SUBJECT_REASONS[2])")
        elif subject.pays == "highest":
            # Without 补差 an earlier, lower award still closes the subject; the reason says which case it is.
            with self.block("if lost or paid > ZERO:"):
                self.writeline("reasons.append(SUBJECT_REASONS[0] if lost or paid >= asked else SUBJECT_REASONS[1])")
                self.writeline("asked = QZERO")
        elif subject.pays == "difference":
            self.writeline("asked = max(asked - paid, QZERO)")
            with self.block("if asked == ZERO and not amount_missing:"):  # an unknown amount asks for its fact
                self.writeline("reasons.append(SUBJECT_REASONS[2])")

    def scope_key(self, target: str, expressions: tuple[CompiledExpression, ...]) -> None:
        """`target = (key, ...)`: like Cap.scope / Limit.scope, JSON-safe values."""
        names = []
        for m, e in enumerate(expressions):
            self.writeline(f"{target}_{m} = {self.expr(e)}")
            names.append(plain(f"{target}_{m}", "_key"))
        self.writeline(f"{target} = ({', '.join(names)},)")

    def applies(self, name: str, part: Any) -> str | None:
        """`name` = whether a cap or limit with `who:` / `when:` applies to this item (None: it always does). A
        condition whose fact is missing makes the item incomplete; the part is then skipped."""
        if part.kinds is None and part.applies_when is None:
            return None
        self.writeline(f"{name} = {'kind in ' + self.bind(name.upper(), part.kinds) if part.kinds is not None else 'True'}")
        if part.applies_when is not None:
            with self.block_if(f"if {name}:" if part.kinds is not None else None):
                with self.block("try:"):
                    self.writeline(f"{name} = bool({self.expr(part.applies_when)})")
                with self.block("except MissingFact as exc:"):
                    self.writeline("unknown.append(exc.fact)")
                    self.writeline(f"{name} = False")
        return f"if {name}:"

    def visit_limit(self, j: int, limit: Any, failed: Any) -> None:
        """At most `times` per scope: an item already counted (same counts) is not a new time."""
        self.bind(f"L{j}", limit), self.bind(f"LR{j}", failed), self.bind(f"LID{j}", limit.id), self.bind(f"LT{j}", limit.times)
        flag = None if self.recorded(limit) else f"has_l{j}"
        if flag:
            self.writeline(f"{flag} = False")
        with self.block_if(self.applies(f"ap_l{j}", limit)):
            self.limit_body(j, limit, flag)
        consumption = self.build(Consumption, kind="'limit'", id=f"LID{j}", scope=f"lscope{j}", amount="NO_AMOUNT", counts=f"pc{j}")
        self.consumes.append((flag, consumption))
        # the set read for the verdict takes the new count (a new set only for a scope not used before)
        self.usage_updates.append((flag, f"used{j}.add(pc{j}) if used{j} else limits.setdefault(lkey{j}, set()).add(pc{j})"))

    @staticmethod
    def recorded(part: Any) -> bool:
        """Whether a subject, limit or cap is recorded in every grant of the rule, so that its consumption and its
        update of the running totals need no flag: so when it has no `who:` / `when:`. Such a part is used for every
        item that can be granted: the only ways past it unused -- a missing fact in its scope, counts or ceiling, a
        table without the value, an amount pending review -- leave the item incomplete, refused or pending."""
        return part.kinds is None and part.applies_when is None

    def consumed(self) -> str:
        """The grant's `consumes`: the parts always recorded as one tuple literal, each flagged part added only when used
        (in the parts' order)."""
        segments: list[str] = []
        fixed: list[str] = []
        for flag, code in self.consumes:
            if flag is None:
                fixed.append(code)
                continue
            if fixed:
                segments.append(f"({', '.join(fixed)},)")
                fixed = []
            segments.append(f"(({code},) if {flag} else ())")
        if fixed:
            segments.append(f"({', '.join(fixed)},)")
        return " + ".join(segments) if segments else "()"

    def limit_body(self, j: int, limit: Any, flag: str | None) -> None:
        """The limit's scope and counts, and its verdict."""
        with self.block("try:"):
            self.scope_key(f"lscope{j}", limit.per)
            count_vars = []
            for m, e in enumerate(("claim.claim_id", "item.id") if limit.counting is None else limit.counting):
                self.writeline(f"lc{j}_{m} = {e if isinstance(e, str) else self.expr(e)}")
                count_vars.append(f"lc{j}_{m}")
            self.writeline(f"counts{j} = ({', '.join(count_vars)},)")
        with self.block("except MissingFact as exc:"):
            self.writeline("unknown.append(exc.fact)")
        with self.block("else:"):
            self.writeline(f"lkey{j} = (LID{j}, lscope{j})")
            self.writeline(f"used{j} = limits.get(lkey{j}, ())")
            # the counts as grants record them, and as `usage` holds them: the same tuple when every count is plain
            all_plain = " and ".join(f"(type({v}) is str or type({v}) is int)" for v in count_vars)
            self.writeline(f"pc{j} = counts{j} if {all_plain} else ({', '.join(plain(v, '_plain') for v in count_vars)},)")
            self.writeline(f"counted = pc{j} in used{j}")
            # (a consecutive limit's use is the years in a row next to the item's: the limit's own reckoning, `used_before`)
            self.writeline(f"n{j} = L{j}.used_before(used{j}, pc{j})" if limit.consecutive else f"n{j} = len(used{j})")
            self.writeline(f"ok = counted or n{j} < LT{j}")
            # (a limit already used names the earlier applications that used it, so that a reviewer can trace the count:
            # a pass over the history, only then)
            counted = f"L{j}.counted_before(used{j}, pc{j})" if limit.consecutive else "None"
            earlier = f"(usage.counted_by(lkey{j}, {counted}) if n{j} else NO_EARLIER_USE)"
            self.step("'limit'", f"L{j}", f"lscope{j}", f"n{j}", f"counts{j}", "counted", "ok", earlier)
            with self.block("if not ok:"):
                self.writeline(f"reasons.append(LR{j})")
            if flag:
                self.writeline(f"{flag} = True")

    def visit_caps(self) -> None:
        """Each cap cuts `granted` to the room left in its scope; one that cuts it to nothing refuses the item."""
        if not self.plan.caps:
            with self.block("if not pending and asked == ZERO and not reasons and not unknown:"):
                self.writeline("reasons.append(ZERO_REASON)")
            return
        with self.block("if not pending:"):
            self.writeline("bitten = None")
            self.writeline("caps = usage.caps")
            for j, cap in enumerate(self.plan.caps):
                self.visit_cap(j, *cap)
            with self.block("if bitten is not None:"):
                self.writeline("reasons.append(bitten)")
            with self.block("elif asked == ZERO and not reasons and not unknown:"):
                self.writeline("reasons.append(ZERO_REASON)")
        shown = [(j, cap, ceiling) for j, (cap, _, ceiling) in enumerate(self.plan.caps) if cap.computed is None and not cap.restricted]
        if shown and _can_pend(self.plan.amount):
            with self.block("else:"):
                self.pending_caps(shown)

    def pending_caps(self, shown: list[tuple[int, Any, Any]]) -> None:
        """A pending item's ceilings (`pceil`): each constant ceiling that is not restricted (`who:` / `when:` may
        not apply to it), with the room already used in its scope, consuming nothing. A ceiling with no room left
        refuses the item whatever the panel decides: the panel's amount would be cut to nothing (a cap that cuts an
        item to nothing refuses it, as `cap_room`; and as for an incomplete item's provisional amount, the refusal
        wins); its refusal keeps the ceilings (`no_room`), so that it shows where the room went, as a cap step does. A
        missing fact of a scope makes the item incomplete, as for any item."""
        self.writeline("caps = usage.caps")
        self.writeline("pceil = []")
        self.writeline("no_room = False")
        for j, cap, ceiling in shown:
            ceil = self.bind(f"PC{j}", ceiling)
            if cap.per is None:  # a ceiling on the single item: nothing used before
                self.writeline(f"pceil.append((P{j}, (), ZERO))")
                with self.block(f"if {ceil} <= ZERO:"):
                    self.writeline(f"reasons.append(PR{j})")
                    self.writeline(f"cut += {self.bind(f'PCUT{j}', (cap.cites,))}")
                    self.writeline("no_room = True")
                continue
            with self.block("try:"):
                self.scope_key(f"pscope{j}", cap.per)
            with self.block("except MissingFact as exc:"):
                self.writeline("unknown.append(exc.fact)")
            with self.block("else:"):
                self.writeline(f"used_before = caps.get((PID{j}, pscope{j}), ZERO)")
                self.writeline(f"pceil.append((P{j}, pscope{j}, used_before))")
                with self.block(f"if used_before >= {ceil}:"):
                    self.writeline(f"reasons.append(PR{j})")
                    self.writeline(f"cut += {self.bind(f'PCUT{j}', (cap.cites,))}")
                    self.writeline("no_room = True")
        self.ceilings = "tuple(pceil)"

    def visit_cap(self, j: int, cap: Any, exhausted: Any, ceiling: Any) -> None:
        self.bind(f"P{j}", cap), self.bind(f"PR{j}", exhausted), self.bind(f"PID{j}", cap.id)
        flag = None if self.recorded(cap) or cap.per is None else f"has_p{j}"  # (a ceiling on the item records nothing)
        if flag:
            self.writeline(f"{flag} = False")
        with self.block_if(self.applies(f"ap_p{j}", cap)):
            self.cap_body(j, cap, ceiling, flag)
        if cap.per is not None:
            consumption = self.build(Consumption, kind="'cap'", id=f"PID{j}", scope=f"pscope{j}", amount="granted", counts="None")
            self.consumes.append((flag, consumption))
            self.usage_updates.append((flag, f"caps[pkey{j}] = caps.get(pkey{j}, ZERO) + granted"))

    def cap_body(self, j: int, cap: Any, ceiling: Any, flag: str | None) -> None:
        """The cap's ceiling, the room left in its scope, and the cut. A fixed ceiling is the bound constant itself
        (never None, obtained no way: the step's `how` is None)."""
        if cap.computed is None:
            ceil, how, known = self.bind(f"PC{j}", ceiling), "None", None
        else:
            self.ceiling(j, ceiling)
            ceil, how, known = f"ceil{j}", f"how{j}", f"ceil{j} is not None"
        if cap.per is None:  # a ceiling on the single item: nothing used before, nothing recorded
            self.writeline(f"pscope{j} = ()")
            self.writeline("used_before = ZERO")
            with self.block_if(None if known is None else f"if {known}:"):
                self.cap_room(j, cap, ceil, how, None)
            return
        with self.block("try:"):
            self.scope_key(f"pscope{j}", cap.per)
        with self.block("except MissingFact as exc:"):
            self.writeline("unknown.append(exc.fact)")
            self.writeline(f"pscope{j} = None")
        with self.block(f"if pscope{j} is not None{'' if known is None else ' and ' + known}:"):
            self.writeline(f"pkey{j} = (PID{j}, pscope{j})")
            self.writeline(f"used_before = caps.get(pkey{j}, ZERO)")
            self.cap_room(j, cap, ceil, how, f"pkey{j}")
            if flag:
                self.writeline(f"{flag} = True")

    def ceiling(self, j: int, form: Any) -> None:
        """`ceil{j}` = a computed ceiling (money on the quantum) and `how{j}` how it was obtained (the base; or
        (base, key, rate) for a rate by a scalar; or the key of a table); None when a fact is missing (the item is
        incomplete) or a table has no entry (refused)."""
        self.bind("Q", self.quantum), self.bind("MODE", self.mode), self.bind(f"CF{j}", form)
        with self.block("try:"):
            if isinstance(form, TableAmount):
                self.lookup(form, f"ceil{j}", f"how{j}", f"_c{j}")
            elif form.of_table is not None:  # the base from an amount table: how = (base, rate key, rate, base key)
                self.base_and_rate_tables(form, (f"cbase{j}", f"cokey{j}", f"_co{j}"), (f"crate{j}", f"ckey{j}", f"_c{j}"), f"CR{j}")
                self.writeline(f"ceil{j} = (DECIMAL(cbase{j}) * crate{j}).quantize(Q, MODE)")
                self.writeline(f"how{j} = (cbase{j}, ckey{j}, crate{j}, cokey{j})")
            else:
                self.writeline(f"cbase{j} = {self.expr(form.of)}")
                if form.rate_table is None:
                    self.writeline(f"ceil{j} = (DECIMAL(cbase{j}) * {self.bind(f'CR{j}', form.rate)}).quantize(Q, MODE)")
                    self.writeline(f"how{j} = cbase{j}")
                else:
                    self.lookup(form.rate_table, f"crate{j}", f"ckey{j}", f"_c{j}")
                    self.writeline(f"ceil{j} = (DECIMAL(cbase{j}) * crate{j}).quantize(Q, MODE)")
                    self.writeline(f"how{j} = (cbase{j}, ckey{j}, crate{j})")
            with self.block(f"if ceil{j} < ZERO:"):
                self.writeline(f"ceil{j} = QZERO")
        with self.block("except MissingFact as exc:"):
            self.writeline("unknown.append(exc.fact)")
            self.writeline(f"ceil{j} = how{j} = None")
        with self.block("except NoTableValue as exc:"):
            self.writeline("reasons.append(exc.reason)")
            self.writeline(f"ceil{j} = how{j} = None")

    def cap_room(self, j: int, cap: Any, ceil: str, how: str, key: str | None) -> None:
        """The room left under the ceiling (`ceil`, code) and the cut; `how` (code): how a computed ceiling was obtained;
        `key` (code): a shared cap's key in the usage (None: a ceiling on the single item, which nothing used before)."""
        self.writeline(f"room = {ceil} - used_before")
        with self.block("if room < ZERO:"):
            self.writeline("room = QZERO")
        self.writeline("after = granted if granted <= room else room")
        # (a shared cap that cuts names the earlier applications that used its room: a pass over the history, only then)
        earlier = "NO_EARLIER_USE" if key is None else f"(NO_EARLIER_USE if after == granted or not used_before else usage.spent_by({key}))"
        self.step("'cap'", f"P{j}", f"pscope{j}", "used_before", "granted", "after", ceil, how, earlier)
        with self.block("if after < granted:"):
            self.writeline(f"cut += {self.bind(f'PCUT{j}', (cap.cites,))}")  # (the clause that cut it, a constant)
            with self.block("if after == ZERO:"):
                self.writeline(f"bitten = PR{j}")
        self.writeline("granted = after")

    # --- documents ---

    def visit_documents(self) -> None:
        """`missing_docs`: the applicant's missing documents, the rule's own, and the item document checks'. The trace
        lists the documents required: the leading needs without a condition are written as one list (a constant
        tuple when no need has a condition), the others added when their condition holds."""
        if not self.rule.documents_required:
            self.writeline("missing_docs = ()")
            return
        self.writeline("missing_docs = list(app_docs) if app_docs else []")
        self.writeline("have = I.get('documents', EMPTY)")
        if self.plan.docs:
            needs = self.rule.documents
            fixed = next((m for m, need in enumerate(needs) if need.when is not None), len(needs))  # the leading needs
            if self.trace:
                names = [self.bind(f"D{m}", needs[m].doc) for m in range(fixed)]
                if fixed == len(needs):
                    self.bind("REQUIRED", tuple(need.doc for need in needs))
                else:
                    self.writeline(f"required = [{', '.join(names)}]")
                self.writeline("miss = []")
            for m, (doc, _when) in enumerate(self.plan.docs):
                need = needs[m]
                assert need.doc == doc
                self.visit_document_need(m, doc, need.when, listed=m < fixed)
            if self.trace:
                if fixed == len(needs):
                    self.step("'documents'", "RULE", "REQUIRED", "tuple(miss) if miss else ()", "DOCS_CITES")
                else:
                    with self.block_if(None if fixed else "if required:"):
                        self.step("'documents'", "RULE", "tuple(required)", "tuple(miss) if miss else ()", "DOCS_CITES")
                with self.block("if miss:"):
                    self.writeline("missing_docs.extend(miss)")
        for m, dc in enumerate(self.rule.item_document_checks):
            self.visit_document_check(m, dc)

    def visit_document_need(self, m: int, doc: str, when: CompiledExpression | None, *, listed: bool = False) -> None:
        """One document need; `listed`: the trace's list of required documents holds it already."""
        self.bind(f"D{m}", doc)
        if when is not None:
            with self.block("try:"):
                guard = "amount_known and " if when.computed else ""  # (see visit_computed_amount)
                self.writeline(f"need = {guard}{self.expr(when)}")
            with self.block("except MissingFact as exc:"):
                self.writeline("unknown.append(exc.fact)")
                self.writeline("need = False")
        with self.block_if(None if when is None else "if need:"):
            if self.trace and not listed:
                self.writeline(f"required.append(D{m})")
            with self.block(f"if D{m} not in have:"):
                self.writeline(f"{'miss' if self.trace else 'missing_docs'}.append(D{m})")

    def visit_document_check(self, m: int, dc: DocumentCheck) -> None:
        """A policy-wide item document check, on the item's documents."""
        self.document_check(f"_{m}", dc, "have", "unknown", "missing_docs", trace=self.trace)

    # --- the result ---

    def visit_finish(self) -> None:
        """The outcomes in order: refused, incomplete (facts), pending review, incomplete (documents), granted."""
        # (a refused item's ceilings: read only on a refusal, and only by a rule whose pending items show some)
        kept = "()" if self.ceilings == "()" else f"({self.ceilings} if pending and no_room else ())"
        self.visit_refused_or_incomplete(asked="asked", missing_documents=_MISSING_DOCS, provisional=True, ceilings=kept)
        with self.block("if pending:"):
            pending = self.decision(status="'pending_review'", asked="asked", missing_documents=_MISSING_DOCS, ceilings=self.ceilings)
            self.writeline(f"return {pending}")
        with self.block("if missing_docs:"):
            provisional = self.decision(status="'incomplete'", asked="asked", provisional="granted", missing_documents=_MISSING_DOCS)
            self.writeline(f"return {provisional}")
        consumes = self.consumed()
        grant = self.build(
            Grant,
            claim_id="claim.claim_id",
            item_id="item.id",
            rule="RULE_ID",
            applicant_id="claim.applicant_id",
            funding_year="claim.funding_year",
            amount="granted",
            consumes=consumes,
        )
        self.writeline(f"grant = {grant}")
        for flag, statement in self.usage_updates:
            with self.block_if(None if flag is None else f"if {flag}:"):
                self.writeline(statement)
        # without a cap or a subject nothing cuts `granted` below `asked`
        status = "'reduced' if granted < asked else 'granted'" if self.plan.caps or self.rule.subject is not None else "'granted'"
        granted = self.decision(status=status, amount="granted", asked="asked", grant="grant")
        self.writeline(f"return {granted}")


class StandingWriter(CodeWriter):
    """The applicant-level checks and documents of a policy, once per claim: `standing(A, C, kind, claim_docs)`
    -> (reasons, unknown facts, missing documents, steps)."""

    def __init__(self, policy: CompiledPolicy, checks: tuple[Any, ...], ns: dict[str, Any], *, trace: bool, inline: bool = True) -> None:
        super().__init__(ns, trace=trace, inline=inline)
        self.policy, self.checks = policy, checks

    def write(self) -> str:
        with self.guarded("def standing(A, C, kind, claim_docs):", "return SLOW(A, C, kind, claim_docs)"):
            self.writeline("I = NO_ITEM")
            for name in ("reasons", "unknown", "docs", "steps"):
                self.writeline(f"{name} = []")
            for k, check in enumerate(self.checks):
                self.visit_check(k, *check)
            if self.trace:  # the applicant checks' dated-parameter look-ups, as an item's (RuleWriter.visit_parameters)
                self.parameter_steps(self.policy.applicant_param_uses)
            for k, dc in enumerate(self.policy.applicant_document_checks):
                self.document_check(str(k), dc, "claim_docs", "unknown", "docs", trace=self.trace)
            self.writeline("return reasons, unknown, docs, steps")
        return self.source()


class ProbeWriter(RuleWriter):
    """A "highest only" rule's probe, for the look across the claim before any item is decided:
    `probe(I, A, C, kind, roles)` -> ((subject group, subject key), amount before caps), or None when the item
    does not compete -- a fact it needs is missing, its amount is pending, or it cannot be paid anyway (the
    applicant may not claim it, or one of its own checks is false: such a higher award does not displace a
    lower one). No trace, nothing recorded."""

    SIGNATURE = "def probe(I, A, C, kind, roles):"
    FALLBACK = "return SLOW(I, A, C, kind, roles)"

    def __init__(self, rule: Rule, plan: Any, quantum: Any, mode: str, ns: dict[str, Any], *, inline: bool = True) -> None:
        super().__init__(rule, plan, quantum, mode, ns, trace=False, inline=inline)

    def visit_rule(self) -> None:
        subject = self.rule.subject
        assert subject is not None and self.plan.amount is not None
        self.bind("SGROUP", subject.group)
        with self.block("try:"):
            self.scope_key("sscope", subject.key)
            self.amount(self.plan.amount, "asked", "")
        with self.block("except (MissingFact, PendingAmount, NoTableValue):"):
            self.writeline("return None")
        with self.block("if asked < ZERO:"):  # refused anyway (below zero): it does not compete
            self.writeline("return None")
        cond = "kind not in KINDS" + (" or not (ROLES & roles)" if self.plan.roles else "")
        with self.block(f"if {cond}:"):
            self.writeline("return None")
        for k, (test, _function, kinds, _failed) in enumerate(self.plan.checks):
            if test.expression.computed:  # on the amount after subject and caps: not known before the look across
                continue
            self.bind(f"K{k}", kinds)
            code = self.expr(test.expression)
            with self.block_if(None if kinds is None else f"if kind in K{k}:"):
                with self.block("try:"):
                    with self.block(f"if not {code}:"):
                        self.writeline("return None")
                with self.block("except MissingFact:"):
                    self.writeline("pass")
        self.writeline("return (SGROUP, sscope), asked")
