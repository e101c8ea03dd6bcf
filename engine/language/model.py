"""Plain immutable data passed between the stages: the compiled policy.

The compiler builds these from a validated policy document; the evaluator
only reads them. Nothing here knows any particular district's measures.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from engine.language.expressions import CompiledExpression, Facts


@dataclass(frozen=True, slots=True)
class Text:
    """Words in Chinese and English."""

    zh: str
    en: str

    def to_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


@dataclass(frozen=True, slots=True)
class Clause:
    citation: str
    article: str
    text: str
    en: str
    computable: bool


#: Fact types a ledger can hold a value of on record (`ledger finding`): one text each, or lists of such texts
#: (each recorded value is one element).
RECORDABLE_TYPES = frozenset({"date", "string", "identifier", "enum", "money"})
RECORDABLE_LIST_TYPES = frozenset({"date_list", "string_list", "enum_list"})


@dataclass(frozen=True, slots=True)
class FactSpec:
    name: str
    type: str
    label: Text
    required: bool
    has_default: bool
    default: Any
    values: tuple[str, ...] | None = None
    format: str | None = None
    minimum: Decimal | None = None  # declared bounds of a number fact (claims outside are rejected); a percent's as its fraction
    maximum: Decimal | None = None
    record_only: bool = False  # collected for the record; no rule is meant to read it
    #: how values a ledger holds about the applicant (`ledger finding`) join the claim's: "fills" (the latest
    #: fills a fact the claim leaves empty) or "authoritative" (they always count, see Ledger.with_facts_on_record)
    on_record: str = "fills"
    places: int | None = None  # decimal and percent facts: the most decimals a claim may give and an explanation shows
    unit: Text | None = None  # count facts: the unit word shown after the number (3 件, 3 items)
    #: the name an explanation gives the fact when its label is a form's heading with filling instructions (a
    #: trailing "（无则留空）", "(entered after review)"); None: the label
    short: Text | None = None
    #: the policy's words for each code an enum, enum list or document list fact takes (as a form and a sheet's
    #: list say them), to say a code written as its words
    value_words: tuple[tuple[str, Text], ...] = ()


@dataclass(frozen=True, slots=True)
class Shown:
    """A value a check shows beside its facts (`shows:`): an expression over the same facts, and its words -- a
    label, or a text with `{value}` where the value goes. A value that cannot be computed is not shown."""

    value: CompiledExpression
    label: Text


@dataclass(frozen=True, slots=True)
class Test:
    """A condition: passes when `expression` is true. `says` is what a failure means in words."""

    id: str
    cites: str
    category: str
    expression: CompiledExpression
    says: Text
    readings: tuple[str, ...] = ()
    kinds: frozenset[str] | None = None  # applicant kinds it applies to; None: all
    item_types: frozenset[str] | None = None  # for item-level checks; None: all
    notes: tuple[str, ...] = ()  # ids of policy notes behind it
    #: values derived from its facts, shown beside them (`shows:`): computed when a decision is written or explained,
    #: never while it is made
    shows: tuple[Shown, ...] = ()
    #: readings named only on the items where a condition holds (`readings: [{id, when}]`; item-level checks):
    #: each (reading id, condition), worked out when a decision is written or explained, never while it is made
    readings_when: tuple[tuple[str, CompiledExpression], ...] = ()
    #: `applies:` (item level): where false the test does not apply -- `expression` is then `not (applies) or
    #: (test)`, so the item passes -- and an explanation says 不适用; worked out when written or explained
    applies: CompiledExpression | None = None


@dataclass(frozen=True, slots=True)
class DocumentNeed:
    doc: str
    when: CompiledExpression | None = None


@dataclass(frozen=True, slots=True)
class DocumentCheck:
    id: str
    cites: str
    needs: tuple[DocumentNeed, ...]
    says: Text
    readings: tuple[str, ...] = ()
    kinds: frozenset[str] | None = None
    item_types: frozenset[str] | None = None
    category: str = "documents"
    notes: tuple[str, ...] = ()


class Scoped:
    """A construct that keys running totals by a scope: the values of its `per` expressions, JSON-safe."""

    __slots__ = ()
    per: tuple[CompiledExpression, ...] | None

    def scope(self, item: Facts, applicant: Facts, claim: Facts) -> tuple[Any, ...]:
        if self.per is None:  # a cap on the single item
            return ()
        return tuple(scope_key(e(item, applicant, claim)) for e in self.per)


@dataclass(frozen=True, slots=True)
class Cap(Scoped):
    id: str
    ceiling: Decimal  # the constant ceiling; for a computed one (see `computed`) 0, never read
    per: tuple[CompiledExpression, ...] | None  # None: a ceiling on the single item
    cites: str
    says: Text
    readings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: a ceiling computed for each item from its facts (`max: {of:}`, `{rate:, of:}`, `{by:, table:}`): a
    #: RateAmount (rate 1 for a bare `of`) or a TableAmount; None for a constant ceiling
    computed: RateAmount | TableAmount | None = None
    #: `says` was not written: the label was generated from the ceiling and the scope (never empty)
    generated_says: bool = False
    #: `who:` -- the applicant kinds the cap applies to (None: every kind); for others it is skipped
    kinds: frozenset[str] | None = None
    #: `when:` -- a yes/no expression; when false the cap is skipped (not consumed, not shown, its facts not needed)
    applies_when: CompiledExpression | None = None

    @property
    def restricted(self) -> bool:
        """It applies only to some kinds or under a condition (`who:` / `when:`)."""
        return self.kinds is not None or self.applies_when is not None


@dataclass(frozen=True, slots=True)
class Limit(Scoped):
    id: str
    times: int
    per: tuple[CompiledExpression, ...]
    counting: tuple[CompiledExpression, ...] | None  # None: each granted item counts once
    cites: str
    says: Text
    readings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: `who:` -- the applicant kinds the limit applies to (None: every kind); for others it is skipped
    kinds: frozenset[str] | None = None
    #: `when:` -- a yes/no expression; when false the limit is skipped (the item is not counted)
    applies_when: CompiledExpression | None = None
    #: `unit:` -- what one counting is, in words (年 / year(s): "supported in at most 2 years"); None: 次 / time(s)
    unit: Text | None = None
    #: `consecutive:` -- `times` counts funding years in a row (连续支持不超过3年); its counting is the one year
    consecutive: bool = False

    def used_before(self, used: Collection[Any], counts: tuple[Any, ...] | None) -> int:
        """What the item's scope has used of the limit before it: each counting recorded (`used`: the countings of
        the grants before it); for a consecutive limit, the years next to the item's own, before and after it, that
        are granted in a row (2021-2023 granted: 3 for 2024; 2021 and 2023: 1; 2022, 2023 and 2025: 3)."""
        if not self.consecutive or counts is None or type(counts[0]) is not int:
            return len(used)
        run = 0
        for step in (-1, 1):
            year = counts[0] + step
            while (year,) in used:
                run, year = run + 1, year + step
        return run

    def counted_before(self, used: Collection[Any], counts: tuple[Any, ...] | None) -> Collection[Any]:
        """The countings `used_before` counts: all of `used`; for a consecutive limit, only the years of the run next
        to the item's (an earlier year apart from it counted nothing)."""
        if not self.consecutive or counts is None or type(counts[0]) is not int:
            return used
        run = set()
        for step in (-1, 1):
            year = counts[0] + step
            while (year,) in used:
                run.add((year,))
                year += step
        return run

    def allows(self, used: Collection[Any], counts: tuple[Any, ...] | None) -> bool:
        """Whether an item with `counts` is within the limit, its scope having used `used`: counted already (another
        item of the same counting), or its scope's use below `times`."""
        return counts in used or self.used_before(used, counts) < self.times

    def longest(self, used: Collection[Any]) -> int:
        """The most the countings `used` use of the limit, as the ledger's check reads them: their number, or for a
        consecutive limit the longest run of years in a row among them."""
        if not self.consecutive:
            return len(used)
        years = {c[0] for c in used if isinstance(c, tuple) and len(c) == 1 and type(c[0]) is int}
        return max((self.used_before(used, (y,)) + 1 for y in years if y - 1 not in years), default=len(used))


def scope_key(value: Any) -> Any:
    """A fact value as scope keys, subject keys and limit counts hold it: a JSON-safe scalar, so the ledger
    can store and compare it. str and int stay as they are; anything else (a date, a Decimal, a bool) is its
    str(), which for a date is its ISO form."""
    if isinstance(value, str | int) and not isinstance(value, bool):
        return value
    return str(value)


# --- amounts: each form knows how to compute itself and describe the arithmetic ---


@dataclass(frozen=True, slots=True)
class RateAmount:
    rate: Decimal  # the constant rate; with `rate_table`, 0 (never read)
    of: CompiledExpression
    kind: str = "rate"
    base: Text | None = None  # what `of` computes, in words (`base:`)
    #: a rate chosen by a scalar (`rate: {by:, table:}`): the rate of the entry (values are rates, not money)
    rate_table: TableAmount | None = None
    #: a base chosen by a scalar (`of: {by:, table:}`, amounts): then `of` is the table's `by`, and the step's detail
    #: is (base, rate key or None, rate, base key)
    of_table: TableAmount | None = None


@dataclass(frozen=True, slots=True)
class FixedAmount:
    value: Decimal
    kind: str = "fixed"


@dataclass(frozen=True, slots=True)
class TableAmount:
    by: CompiledExpression
    table: dict[str, Decimal]  # keys checked at load against what `by` yields, held as `table_key` text
    kind: str = "table"
    otherwise: Decimal | None = None  # the value for a key the table does not list; None: such an item is refused
    base: Text | None = None  # what `by` is, in words (`base:`)
    #: every value `by` can take has an entry (a yes/no or enum fact covered, or `otherwise`): no item is ever
    #: refused for want of an entry (coverage counts that branch only when this is False)
    complete: bool = False


def table_key(value: Any) -> str:
    """A value as a table key, the way the policy writes keys: true/false, 7 (an integral number, 7.00 too),
    0.5, or the text itself. Tables hold their keys in this form and look values up through it, so a yes/no,
    integer or text `by` finds its entry whatever Python type carries the value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal) and value.is_finite():
        return str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")
    return value if isinstance(value, str) else str(value)


@dataclass(frozen=True, slots=True)
class ExternalAmount:
    source: CompiledExpression
    pending: Text | None
    kind: str = "external"


@dataclass(frozen=True, slots=True)
class Band:
    start: Decimal
    amount: Decimal | None
    rate: Decimal | None


@dataclass(frozen=True, slots=True)
class BandsAmount:
    of: CompiledExpression
    bands: tuple[Band, ...]  # sorted by start
    kind: str = "bands"
    base: Text | None = None


@dataclass(frozen=True, slots=True)
class PerUnitAmount:
    per_unit: Decimal  # the constant sum per unit; 0, never read, when a table or an expression gives it (below)
    count: CompiledExpression
    max_count: int | None
    kind: str = "per_unit"
    base: Text | None = None  # what `count` counts, in words
    unit: Text | None = None  # the unit word (件, 次); None: 项 / item
    #: the sum per unit chosen by a scalar (`per_unit: {by:, table:}`: 每件2000元，2025年起1500元); the step's detail
    #: is then (count, counted, sum per unit, key)
    per_unit_table: TableAmount | None = None
    #: the sum per unit computed (`per_unit: {of: EXPR}`, a dated money parameter mostly); the detail is then
    #: (count, counted, sum per unit), and the product is rounded as a rate's is
    per_unit_of: CompiledExpression | None = None
    per_unit_base: Text | None = None  # what the computed sum per unit is, in words (`per_unit: {of:, base:}`)

    @property
    def fixed_per_unit(self) -> bool:
        """The sum per unit is the constant `per_unit` (the detail is (count, counted))."""
        return self.per_unit_table is None and self.per_unit_of is None


@dataclass(frozen=True, slots=True)
class LeastAmount:
    parts: tuple[AmountForm, ...]
    kind: str = "least"


AmountForm = RateAmount | FixedAmount | TableAmount | ExternalAmount | BandsAmount | PerUnitAmount | LeastAmount


@dataclass(frozen=True, slots=True)
class Subject:
    group: str
    key: tuple[CompiledExpression, ...]
    pays: str  # "highest" | "difference"
    cites: str = ""  # the clause saying so; the compiler fills in the rule's own when the policy gives none
    readings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: with pays "highest": what history already paid for the subject means -- "nothing" (no second award) or
    #: "difference" (补差: the application's highest item is paid its amount less what history paid)
    later: str = "nothing"
    #: `requires_earlier: true`: an item is refused when nothing was paid for its subject before it (history or
    #: earlier items of the claim) -- "the balance presupposes the advance"
    requires_earlier: bool = False

    def scope(self, item: Facts, applicant: Facts, claim: Facts) -> tuple[Any, ...]:
        """The subject's key, JSON-safe like a cap's scope, so grants replayed as history match it."""
        return tuple(scope_key(e(item, applicant, claim)) for e in self.key)


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One ranking key of a selection: an expression, ascending unless `descending`."""

    by: CompiledExpression
    descending: bool = False


#: At most this many ranking keys in a selection (the schema says so too).
MAX_ORDER_KEYS = 10


@dataclass(frozen=True, slots=True)
class Selection(Scoped):
    """Round selection: of a round's eligible items of the rule, ranked by `order` within each `per` scope, only
    the first `first` and/or, in rank order, those whose amounts fit `budget` are paid (see engine.deciding.selection)."""

    id: str  # "<rule id>#selection": the refusal's check id
    per: tuple[CompiledExpression, ...]
    order: tuple[OrderKey, ...]
    first: int | None
    budget: Decimal | None
    cites: str
    says: Text
    readings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    cites: str
    item_type: str
    kinds: frozenset[str]
    roles: frozenset[str]
    when: tuple[Test, ...]
    amount: AmountForm | None
    referral: Text | None
    subject: Subject | None
    caps: tuple[Cap, ...]
    limits: tuple[Limit, ...]
    documents: tuple[DocumentNeed, ...]
    documents_required: bool
    readings: tuple[str, ...]
    # The cross-cutting item checks that apply to this rule's item type, resolved once at compile time.
    item_checks: tuple[Test, ...] = ()
    item_document_checks: tuple[DocumentCheck, ...] = ()
    notes: tuple[str, ...] = ()  # ids of policy notes behind the rule as a whole
    selection: Selection | None = None  # round selection (first N, top N, within a budget)
    #: every dated-parameter look-up in the rule's expressions (its checks, amount, caps, documents), each once
    param_uses: tuple[ParamUse, ...] = ()

    def __repr__(self) -> str:  # (its checks, caps and limits in full made each item decision's repr 16 kB)
        return f"<Rule {self.id} ({self.item_type})>"


@dataclass(frozen=True, slots=True)
class ParameterValue:
    start: date  # in force from this day until the next value's
    value: Decimal | int
    source: Text
    shown: str = ""  # the value as the policy writes it (3.70%), for explanations


@dataclass(frozen=True, slots=True)
class Parameter:
    """A dated parameter (`parameters:`): a named value that changes on dates, each value with its source."""

    name: str
    label: Text
    type: str  # money | percent | decimal | count | integer
    values: tuple[ParameterValue, ...]  # ascending start
    unit: Text | None = None
    #: the last day the values are known for (`known_until:`): a rate published monthly has no value yet for a day
    #: after the last announcement the policy records, which its last value must not stand in for
    known_until: date | None = None

    def at(self, day: date) -> ParameterValue | None:
        """The value in force on `day`, or None before the first or after `known_until` (a gap of the policy)."""
        if self.known_until is not None and day > self.known_until:
            return None
        starts = [v.start for v in self.values]
        k = bisect_right(starts, day)
        return self.values[k - 1] if k else None


@dataclass(frozen=True, slots=True)
class ParamUse:
    """A `param("name", date)` in one of a rule's expressions: the trace records its look-up (the date computed
    by `date`, the value in force then, its start and its source)."""

    parameter: Parameter
    date: CompiledExpression
    #: the look-up is made only when one of these holds (`rate_a if short else rate_b`: `short` for rate_a); None:
    #: always. The trace records a look-up only where it is made, so a branch not taken shows no value.
    when: tuple[CompiledExpression, ...] | None = None


@dataclass(frozen=True, slots=True)
class Note:
    """A note (a choice made where text and readings are silent) or a reading (口径): its id and its words."""

    id: str
    text: Text


#: A reading of the measures the bureau adopted (top-level `readings:`): the same shape as a note.
Reading = Note


#: What the engine does for every rule that a policy may say its readings and notes for (`policy.behaviours`): an
#: explanation names them on the items where the behaviour happened (engine/explaining/explainer.py, `behaviours`).
#: `rounded` is not among them: a rounding's readings are `policy.rounding.readings`, compiled as `rounded`.
BEHAVIOURS = (
    "earlier_use",  # a cap or limit of the item had been used before its turn (history, earlier items)
    "reduced_by_cap",  # granted less because a cap cut it
    "cap_exhausted",  # refused because a cap leaves it nothing
    "grounds_ordered",  # refused on two or more grounds (missing documents counting as one)
    "provisional",  # incomplete, its provisional amount stated
    "refusal_over_incomplete",  # refused although documents or facts are missing too
    "documents_missing",  # lacks documents
    "facts_missing",  # lacks a fact it needs
)


@dataclass(frozen=True)
class BudgetRounding:
    """How grants scaled to a round budget are rounded: to `quantum` by `mode` (floor, half_up, half_even);
    `remainder`: largest_remainder (the sum is brought to the budget) or unallocated (the sum stays at most the budget)."""

    quantum: Decimal
    mode: str = "floor"
    remainder: str = "largest_remainder"


@dataclass(frozen=True, eq=False)  # identity equality: hashable, and cheap to use as a cache key
class CompiledPolicy:
    """A policy parsed, validated and compiled once; evaluate claims against it many times."""

    id: str
    version: str
    title: Text
    file: str
    content_hash: str
    funding_years: tuple[int, int]
    in_force_cites: str | None
    in_force_assumption: Text | None
    quantum: Decimal
    rounding: str
    refusal_order: tuple[str, ...]
    clauses: dict[str, Clause]
    applicant_kinds: dict[str, Text]
    applicant_roles: dict[str, Text]
    documents: dict[str, Text]
    claim_facts: dict[str, FactSpec]
    applicant_facts: dict[str, FactSpec]
    item_facts: dict[str, dict[str, FactSpec]]  # item type -> its facts (common ones included)
    item_type_labels: dict[str, Text]
    applicant_checks: tuple[Test, ...]
    applicant_document_checks: tuple[DocumentCheck, ...]
    rules: tuple[Rule, ...]
    rules_by_type: dict[str, Rule]
    notes: tuple[Note, ...]
    round_budget: Decimal | None
    round_budget_rounding: BudgetRounding | None = None  # set whenever round_budget is
    documents_cites: str | None = None  # the clause that lists required documents
    templates: dict[str, dict[str, str]] = field(default_factory=dict)
    data: Any = None  # the validated document, for tools (lint, diff, coverage)
    base_dir: str = "."
    funding_years_line: int | None = None  # where the window is written, for errors about versions
    version_line: int | None = None  # where `policy.version` is written (two versions under one label)
    readings: tuple[Reading, ...] = ()  # the policy's readings (口径), in file order
    parameters: dict[str, Parameter] = field(default_factory=dict)
    #: the dated-parameter look-ups of the applicant-level checks, each once (traced in the standing steps)
    applicant_param_uses: tuple[ParamUse, ...] = ()
    #: where a text is written in Chinese only (`en:` left out; the Chinese stands for it), for lint to say
    chinese_only: tuple[tuple[str | int, ...], ...] = ()
    #: a behaviour of the engine (BEHAVIOURS, and `rounded`) -> the ids of the readings and notes the policy says it
    #: rests on (`policy.behaviours`, `policy.rounding.readings`); a behaviour the policy does not name is absent
    behaviours: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)

    def __repr__(self) -> str:  # (the whole compiled policy made a decision's repr 306 kB)
        return f"<CompiledPolicy {self.id} {self.version} {self.content_hash[:19]}>"

    def covers(self, funding_year: int) -> bool:
        return self.funding_years[0] <= funding_year <= self.funding_years[1]

    @property
    def in_force_readings(self) -> tuple[str, ...]:
        """The readings behind the validity window (`policy.in_force.readings`), named beside its clause when a claim
        falls outside it."""
        head = (self.data or {}).get("policy") if isinstance(self.data, dict) else None
        in_force = head.get("in_force") if isinstance(head, dict) else None
        readings = in_force.get("readings") if isinstance(in_force, dict) else None
        return tuple(r for r in readings if isinstance(r, str)) if isinstance(readings, list) else ()

    @property
    def header_facts(self) -> tuple[str, ...]:
        """The claim facts an explanation's header shows (`policy.header_facts`, each a claim fact: checked when the
        policy loads), recorded in each decision (`claim_facts`)."""
        head = (self.data or {}).get("policy") if isinstance(self.data, dict) else None
        names = head.get("header_facts") if isinstance(head, dict) else None
        return tuple(names) if isinstance(names, list) else ()

    @property
    def round_budget_cites(self) -> str | None:
        """The clause the round budget cites (`policy.round_budget.cites`), if it names one."""
        budget = ((self.data or {}).get("policy") or {}).get("round_budget") if isinstance(self.data, dict) else None
        cites = budget.get("cites") if isinstance(budget, dict) else None
        return cites if isinstance(cites, str) else None
