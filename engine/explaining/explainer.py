"""The one explanation builder: a `Decision`'s trace, walked once, into the pieces of its explanation.

`Explainer(policy, catalogue, labels, writer)` turns a decision into words: every sentence is a catalogue
message (`Catalogue.compile`: a `str.format` string made once), every value goes through the one formatter
(`Labels.money`, `percent`, `fact_value`, `fact_label`), and the writer spells each piece for its format:
`TextWriter` (engine/explaining/textwriter.py) as the plain text, `ModelWriter` (engine/explaining/model.py) as
the format-neutral `Explanation` the templates and front doors read. The writer is bound when the
Explainer is built, so the pieces that do not depend on the claim (clause quotes, check lines that held,
section heads, rule headings, document lists, a rule's pending block) are written once and kept: on the
text's hot path an item is mostly dictionary look-ups and appends.

One method per construct: `render` (the document: header, summary, standing, items, footer), `item`,
`check`, `who`, `calc` (the amount forms), `step_line` (a trace step's line, a subject's among them), `limit`,
`cap`, `documents`, `reason`, `missing_documents`, `why`, `item_tail` (a rule's pending block and readings).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from engine.core.quantities import ROUNDING_MODES, format_money
from engine.core.version import __version__
from engine.deciding.decision import (
    STATUSES,
    Decision,
    ItemDecision,
    applies_to_item,
    facts_used,
    in_engine_context,
    json_value,
    readings_named,
    shown_values,
)
from engine.explaining.catalogue import Catalogue, fill
from engine.explaining.labels import CENT, MONEY_CACHE, Labels, to_decimal
from engine.explaining.model import NOMARK, Line, Quote, SignOff
from engine.explaining.recorded import Recorded, RecordedDecision, RecordedItem
from engine.language.model import Cap, DocumentCheck, Limit, Test

if TYPE_CHECKING:
    from engine.language.model import CompiledPolicy

#: trace step kind -> its group in the explanation (conditions, amount, limits, caps, documents), in order
GROUP_OF = {
    "who": 0,
    "check": 0,
    "parameter": 1,
    "amount": 1,
    "subject": 1,
    "limit": 2,
    "cap": 3,
    "selection": 4,
    "scaling": 5,
    "documents": 6,
}
_GROUP = itemgetter(0)  # a (group, line) pair's group
GROUP_HEADS = ("checks", "calculation", "limits", "caps", "selection", "scaling", "documents")
SHAPING_CACHE = 10000  # readings-and-notes blocks kept: one per distinct set of decision-makers (bounded)
_ABSENT = object()  # a fact the claim does not give
_ZERO = Decimal(0)
_NO_FIGURE = "–"  # a cap table's cell with no figure (as the templates' for a cap on each item alone)
AnyItem = ItemDecision | RecordedItem


def _given(record: Mapping[str, Any], key: str) -> Any:
    """A value of a record as a message shows it: nothing when the record does not have it."""
    return record[key] if key in record else ""


def _iso(day: Any) -> str:
    """A date as its ISO text (a recorded decision has it as text already)."""
    return day.isoformat() if hasattr(day, "isoformat") else str(day)


def _text_key(value: Any) -> Any:
    """A fact value as a cache key for the words shown for it: a Decimal by its text (equal Decimals may print differently)."""
    return str(value) if type(value) is Decimal else value


#: where "why not more" finds an item's steps (`Explainer.why`), the same for every item of one step sequence:
#: the cap steps' indices, the last cap's, whether an amount was computed, and per check id the index of the first
#: cap, check and limit step of that id (None where there is none)
WhyLayout = tuple[tuple[int, ...], "int | None", bool, dict[str, tuple["int | None", "int | None", "int | None"]]]


def on_record_of(decision: Decision | RecordedDecision) -> dict[str, Any]:
    """The applicant facts a recorded decision names as given by the ledger's findings (its `ledger` member's
    `facts_on_record`, `Ledger.commit`: each fact's value(s) on record), by the name its checks use
    (`applicant.<fact>`); none for a decision made here."""
    if type(decision) is not RecordedDecision:
        return {}
    ledger = decision.record.get("ledger")
    given = ledger.get("facts_on_record") if isinstance(ledger, Mapping) else None
    if not isinstance(given, Mapping):
        return {}
    return {f"applicant.{name}": value for name, value in given.items() if type(name) is str}


def _why_layout(steps: tuple[Any, ...]) -> WhyLayout | None:
    """The `WhyLayout` of a step sequence; None when it has a selection step (its verdict decides, per item)."""
    if any(s[0] == "selection" for s in steps):
        return None
    caps = tuple(i for i, s in enumerate(steps) if s[0] == "cap")
    at: dict[str, list[int | None]] = {}
    for i, s in enumerate(steps):
        k = s[0]
        if k in ("cap", "check", "limit"):
            found = at.setdefault(s[1].id, [None, None, None])
            slot = ("cap", "check", "limit").index(k)
            if found[slot] is None:
                found[slot] = i
    return (
        caps,
        caps[-1] if caps else None,
        any(s[0] == "amount" for s in steps),
        {k: (v[0], v[1], v[2]) for k, v in at.items()},
    )


#: the one kind of trace step whose object is of these types
_KIND_OF_TYPE = {Test: "check", Limit: "limit", Cap: "cap"}

#: generated item writers kept per rule: one per distinct sequence of its steps (kinds and policy objects) seen
STEP_WRITERS_PER_RULE = 16
ItemWriter = Callable[..., bool]


# long because: one branch per trace step kind, each its piece of the generated f-string, then the item's other
# pieces and the source put together and compiled
def _item_writer(ex: Explainer, rule: Any, sample: ItemDecision) -> ItemWriter:
    """Generates `write(out, n, d, A, C, inapp, kind)` for the item decisions of `rule` whose trace has the step
    sequence of `sample` (each step's kind and policy object, tested by identity; for another sequence of that
    length it returns False). It appends the item as `Explainer.item` writes it, piece by piece: the writer's item
    line, the clauses (the rule's own, kept in the writer, unless a ground, a cut or a missing document adds
    some), each group's head, a check that held as its kept line, the who, document and limit lines looked up
    where the loop looks them up, any other line by the method the loop calls, the lines after the steps
    (`Explainer.tail_text`: none for a granted item), and the readings block (kept in the writer for an item
    with no ground and no pending review: its decision-makers are then the steps'). Every word comes from the
    builder's own methods and kept pieces: this writes no sentence of its own.
    Generated code like the decision JSON's item writers (engine/deciding/jsontext.py): the policy's objects and
    every piece of text are bound as constants (K..), never written into the source, so a policy's text cannot
    become code. A sequence whose steps are not in the explanation's group order gets a writer that returns
    False after the identity tests (the loop groups them)."""
    w = ex.w
    ns: dict[str, Any] = {
        "STEP": ex.step_line,
        "AMOUNT": ex.amount,
        "CAP": ex.cap,
        "WHO": ex.who_lines,
        "DOCS": ex.docs_lines,
        "LIMITS": ex.limit_lines,
        "HEADINGS": ex.headings,
        "HEADING": ex.heading,
        "AMOUNTS": ex.amount_fmts,
        "MONEY": ex.money,
        "ROUNDING": ex.rounding,
        "RESULT": ex.result,
        "CITES": ex.cites_cache,
        "CLAUSES": ex.clauses,
        "ADD_GRANT": ex.add_grant,
        "TAIL": ex.tail_text,
        "SHAPED": ex.shaped_text,
        "SHAPERS": ex.shapers_of,
        "NAMED": ex.named_all,
        "KEEP_SHAPED": _keep,
        "EX": ex,
        "ITEM": w.item,
        "LINE": w.line,
        "NOMARK": NOMARK,
    }

    def const(value: Any) -> str:
        name = f"K{len(ns)}"
        ns[name] = value
        return name

    steps = sample.steps
    tests: list[str] = []
    body: list[str] = []
    bits: list[str] = []
    runs: list[str] = []  # a run of checks: its text when all held, else each line (before the item's f-string)
    shapers: list[str] = [rule.id]
    choosing: list[str] = []  # its checks that name some readings only where a condition holds (`readings_when`)
    group = -1
    in_order = True
    run: list[tuple[str, str, str]] = []  # (step, its line when held, its piece otherwise)

    def end_run() -> None:
        if len(run) == 1:
            s, held, other = run[0]
            body.append(f"{{({const(held)} if {s}[2] is True and not {s}[3] else {other})}}")
        elif run:
            r = f"r{len(runs)}"
            held_all = " and ".join(f"{s}[2] is True" for s, _, _ in run) + f" and not ({' or '.join(f'{s}[3]' for s, _, _ in run)})"
            each = "".join(f"{{({const(held)} if {s}[2] is True and not {s}[3] else {other})}}" for s, held, other in run)
            runs.extend(
                [f"    if {held_all}:", f"        {r} = {const(''.join(h for _, h, _ in run))}", "    else:", f'        {r} = f"{each}"']
            )
            body.append("{" + r + "}")
        run.clear()

    for i, step in enumerate(steps):
        kind, obj, s = step[0], step[1], f"s{i}"
        # (the kind too, but for a check, limit or cap: their objects come in no other kind of step)
        same = f"{s}[1] is not {const(obj)}"
        tests.append(same if _KIND_OF_TYPE.get(type(obj)) == kind else f"{same} or {s}[0] != {const(kind)}")
        g = GROUP_OF[kind]
        if kind != "check" or g != group:
            end_run()
        if g != group:
            in_order = in_order and g > group
            body.append("{" + const(ex.group_heads[g]) + "}")
            group = g
        other = f"STEP({s}, d, A, C, inapp, paid)"
        if kind == "check":
            shapers.append(obj.id)
            if obj.id in ex.choosing:
                choosing.append(s)
            if obj.id in ex.per_item:  # (its held line is the item's own: said by the loop's method)
                end_run()
                body.append("{" + other + "}")
            else:
                run.append((s, w.line(ex.check(("check", obj, True, None), None, {}, {}, {}), True, "check"), other))
        elif kind == "amount" and obj.kind == "rate" and getattr(obj, "of_table", None) is None and obj.rate_table is None:
            # a simple rate (as `Explainer.amount` and `calc` write it), for items of the sample's type
            t, fmt = const(sample.item.type), const(ex.rate_fmt(obj, sample.item.type))
            said = f"{fmt}(base=MONEY({s}[2]), value=MONEY({s}[3])) + ROUNDING({s}[2], {const(obj.rate)}, {s}[3])"
            line = f"LINE({said}, NOMARK, {const('amount')})"
            body.append(f"{{({line} if t is {t} else AMOUNT({s}, d))}}")
        elif kind == "who":
            body.append(f"{{(WHO.get(({const(id(obj))}, {s}[2], kind)) or {other})}}")
        elif kind == "documents":
            shapers.append(obj.id)
            body.append(f"{{(DOCS.get(({const(id(obj))}, {s}[2], {s}[3], {s}[4])) or {other})}}")
        elif kind == "limit":
            shapers.append(obj.id)
            body.append(f"{{((LIMITS.get(({const(id(obj))}, {s}[3], {s}[5], {s}[6], paid)) if not {s}[7] else None) or {other})}}")
        elif kind == "amount":
            body.append(f"{{AMOUNT({s}, d)}}")
        elif kind == "cap":
            shapers.append(obj.id)
            bits.append(f"{s}[5] < {s}[4]")
            body.append(f"{{CAP({s}, paid, inapp, A)}}")
        else:
            if kind == "selection":
                shapers.append(obj.id)
            elif kind == "subject":
                shapers.append(f"{rule.id}#subject")
            body.append("{" + other + "}")
    end_run()
    fields = ItemDecision._fields
    names = ["_"] * len(fields)
    for name in ("item", "status", "amount", "provisional", "reasons", "missing_facts", "missing_documents", "steps", "grant", "cut_by"):
        names[fields.index(name)] = name
    code = [
        "def write(out, n, d, A, C, inapp, kind):",
        f"    {', '.join(names)} = d",
        f"    {', '.join(f's{i}' for i in range(len(steps)))}{',' if len(steps) == 1 else ''} = steps",
        f"    if {' or '.join(tests)}:",
        "        return False",
    ]
    if not in_order:
        code.append("    return False")
    else:
        base = tuple(shapers)
        own = (rule.cites,)
        # when the readings are gathered item by item (`Explainer.shapers_of`): a ground, a pending review's ceilings,
        # an incompleteness (a fact owed rests on the standing checks that read it), and where the policy names
        # readings for the engine's behaviours, a refusal, a reduction, a rounding said, an earlier use of a cap or
        # limit (a grant or referral without them shows its steps' readings, kept)
        statuses = {"pending_review", "incomplete"}
        at = tuple(i for i, step in enumerate(steps) if step[0] in ("cap", "limit"))
        named = ex.behaviours_named
        if named:
            statuses.add("refused")  # (one with no ground of its own: documents or facts it lacks)
            if "@reduced_by_cap" in named:
                statuses.add("reduced")
        shaped_when = [f"status in {const(frozenset(statuses))}", "reasons"]
        if named:
            if "@rounded" in named:
                shaped_when.append("EX.rounded")
            if "@earlier_use" in named:
                shaped_when += [f"s{i}[3]" for i in at]
        # the readings block of an item gathered item by item, kept per writer by all `shapers_of` reads of the item
        # beyond what the writer fixes (its rule and steps): its status, its grounds' checks, the facts and whether
        # documents it lacks, whether a provisional amount, a rounding said, a cap's or limit's earlier use, a cap's cut
        grounds = "() if not reasons else reasons[0].check if len(reasons) == 1 else tuple([r.check for r in reasons])"
        earlier = f"not ({' or '.join(f's{i}[3]' for i in at)})" if at else "True"
        cut = " or ".join(f"s{i}[5] < s{i}[4]" for i in at if steps[i][0] == "cap") or "False"
        key = f"(status, {grounds}, not missing_documents, missing_facts, provisional is None, EX.rounded, {earlier}, {cut}"
        key += ", named)" if choosing else ")"
        naming, plus = [], ""
        if choosing:  # (the readings those checks name on the item: gathered item by item whenever one is named)
            naming = [f"    named = NAMED(({''.join(f'{c}[1], ' for c in choosing)}), item.facts, A, C)"]
            shaped_when.append("named")
            plus = " + named"
        kept: dict[Any, str] = {}
        code += [
            "    ident, t = item.id, item.type",
            "    head = HEADINGS.get((t, ident))",
            "    if head is None:",
            "        head = HEADING(t, ident)",
            "    paid = status == 'granted' or status == 'reduced'",
            "    result = AMOUNTS[status](amount=MONEY(amount)) if paid else RESULT(d, status)",
            *runs,
            f"    if {' or '.join(bits + ['reasons', 'missing_documents', 'cut_by'])}:",
            "        cites = d.cites",
            "        clauses = CITES.get(cites)",
            "        if clauses is None:",
            "            clauses = CLAUSES(cites)",
            "    else:",
            f"        cites, clauses = {const(own)}, {const(ex.clauses(own))}",
            # the step lines as pieces of their own (each "{expr}" of `body` without its braces), before the
            # grant is added (a cap line shows the earlier items' use) and before the tail (its "why not more"
            # reads the facts a failed check's line put aside)
            f"    out.extend((ITEM(n, ident, t, head, status, result), clauses, {', '.join(b[1:-1] for b in body)}))",
            "    if grant is not None:",
            "        ADD_GRANT(grant, inapp)",
            f"    tail = '' if status == 'granted' else TAIL(d, status, cites, A, C, {const(_why_layout(steps))}, inapp)",
            *naming,
            f"    if {' or '.join(shaped_when)}:",
            f"        key = {key}",
            f"        shaped = {const(kept)}.get(key)",
            "        if shaped is None:",
            f"            shaped = KEEP_SHAPED({const(kept)}, key, SHAPED(SHAPERS(d, {const(base)}{plus}, {const(at)})))",
            "        else:",
            "            EX.rounded = False  # (as `shapers_of` would have: read for this item)",
            "    else:",
            f"        shaped = {const(ex.shaped_text(base))}",
            f"    out.extend((tail, shaped, {const(ex.item_end)}))",
            "    return True",
        ]
    exec(compile("\n".join(code) + "\n", "<explanation item>", "exec"), ns)  # noqa: S102 - only names and indices in it, see above
    write: ItemWriter = ns["write"]
    return write


#: the types of a header's claim fact whose line is kept by its value (`Explainer.header_fields`)
_PLAIN_VALUES = frozenset({str, int, date})


def _keep(kept: dict[Any, str], key: Any, text: str) -> str:
    """`text` kept in `kept` by `key` (a generated item writer's readings blocks), as many as `MONEY_CACHE`."""
    if len(kept) >= MONEY_CACHE:
        kept.clear()
    kept[key] = text
    return text


_ONE = Decimal(1)  # a panel's amount is its own product: rounded when it has more places than the quantum


class Explainer:
    """The explanation of one policy in one language, built from a `Decision`'s trace tuples for one writer."""

    # long because: every claim-independent piece (format strings, heads, the title and policy block) is built
    # here once per policy, language and writer, in the order the explanation uses them
    def __init__(self, policy: CompiledPolicy, catalogue: Catalogue, labels: Labels, writer: Any) -> None:
        self.policy = policy
        self.cat = catalogue
        self.lab = labels
        self.w = w = writer
        m = catalogue.m
        meta = catalogue.meta
        self.money = labels.money
        self.sep = str(meta["list_sep"])
        self.fact_sep = str(meta["fact_sep"])  # between the facts of one check (a fact's own value may be a list)
        self.earlier_sep = str(m["earlier_use_sep"])  # between the earlier applications a refusing limit names
        self.spent_sep = str(m["earlier_spent_sep"])  # between the earlier applications a cutting cap names
        self.paren = catalogue.compile_text(meta["paren"], "t")
        # said after a calculation whose amount is not the exact product: the policy's own rounding (its quantum, mode)
        modes = m["rounding_mode"]
        self.rounded_note = self.paren(
            t=fill(m["calc_rounded"], {"mode": modes.get(policy.rounding, policy.rounding), "quantum": str(policy.quantum)})
        )
        self.quantum, self.rounding_mode = policy.quantum, ROUNDING_MODES.get(policy.rounding, ROUND_HALF_UP)
        #: each rule's caps, by id: a ground of category `cap` is a cap's only when its check is one of them (a
        #: policy may give a condition that category too), also for a recorded decision, whose rule lists none
        self.cap_ids = {r.id: frozenset(c.id for c in r.caps) for r in policy.rules}
        f = catalogue.compile
        self.f_provisional_of = f("provisional_of", "amount")
        self.f_reason = f("reason_line", "cites", "says")
        self.f_facts_given = f("facts_given", "facts")
        self.f_facts_on_record = f("facts_on_record", "facts")
        self.f_facts_both = f("facts_both", "on_record", "given")
        self.f_facts_and_shown = f("facts_and_shown", "facts", "shown")
        self.shown_sep = str(m["shown_sep"])
        #: the applicant checks that show values beside their facts (`shows:`): the standing lines work them out
        self.showing = tuple(t for t in policy.applicant_checks if t.shows)
        #: the item checks that name some readings only where a condition holds (`readings_when`), by id
        self.choosing = frozenset(t.id for r in policy.rules for t in r.item_checks if t.readings_when)
        #: the item checks and conditions that may not apply to an item (`applies`): their held line is the item's own
        self.applying = frozenset(t.id for r in policy.rules for t in (*r.item_checks, *r.when) if t.applies is not None)
        #: the item checks that show values beside their facts (`shows:`): their line is the item's own
        self.item_showing = frozenset(t.id for r in policy.rules for t in r.item_checks if t.shows)
        self.per_item = self.applying | self.item_showing
        self.f_fact_value = f("fact_value", "fact", "value")
        self.f_fact_value_latin = f("fact_value_latin", "fact", "value")  # a value in digits or Latin letters
        self.f_fact_yes_no = f("fact_value_yes_no", "fact", "value")  # a yes/no fact, whose label is mostly a question
        self.f_missing_fact = f("missing_fact", "fact")
        self.f_calc_fixed = f("calc_fixed", "value")
        self.f_calc_table = f("calc_table", "by_label", "by_value", "value")
        self.f_calc_external = f("calc_external", "source_label", "value")
        self.f_calc_external_rounded = f("calc_external_rounded", "source_label", "given", "value")
        self.f_calc_bands = f("calc_bands", "base_label", "base", "from", "band", "value")
        self.f_calc_bands_none = f("calc_bands_none", "base_label", "base", "value")
        self.f_calc_per_unit = f("calc_per_unit", "per_unit", "counted", "value", "count_label", "count", "max")
        self.f_calc_per_unit_max = f("calc_per_unit_max", "max_count")
        self.f_calc_least = f("calc_least", "candidates", "value")
        self.f_calc_subject = f("calc_subject", "paid", "asked", "after")
        # a scaled decision's sentences, by whether the round's record cites a clause
        scaled = ("before", "factor", "after", "cites", "says")
        self.f_scaling_line = {True: f("scaling_line", *scaled), False: f("scaling_line_nocite", *scaled)}
        worked = ("before", "budget", "approved", "share", "rounding", "quantum", "rounded", "remainder", "cites", "says")
        self.f_scaling_worked = {True: f("scaling_worked", *worked), False: f("scaling_worked_nocite", *worked)}
        self.f_scaling_share_cut = f("scaling_share_cut", "share")  # an exact share that goes on past four places
        left = ("amount", "after")  # (the remainder's quantum given or taken, and the amount it makes)
        self.f_scaling_remainder = {True: f("scaling_remainder_plus", *left), False: f("scaling_remainder_minus", *left)}
        why = ("cites", "factor", "before", "after")
        self.f_why_scaled = {True: f("why_scaled", *why), False: f("why_scaled_nocite", *why)}
        rounds = ("round", "budget", "approved", "factor", "cites")
        self.f_scaling_round = {True: f("scaling_round", *rounds), False: f("scaling_round_nocite", *rounds)}
        self.f_scaling_total = f("scaling_total", "before", "after")
        self.f_calc_rate_by = f("calc_rate_by", "base_label", "base", "rate", "by_label", "by_value", "value")
        self.f_calc_per_unit_in = f("calc_per_unit_in", "unit", "per_unit", "counted", "value", "count_label", "count", "max")
        self.f_ceiling_rate = f("ceiling_rate", "base_label", "base", "rate")
        self.f_calc_rate_of_by = f("calc_rate_of_by", "base_label", "base", "base_by_label", "base_by_value", "rate", "rate_by", "value")
        self.f_calc_rate_of_by_rate = f("calc_rate_of_by_rate", "by_label", "by_value")
        self.f_ceiling_rate_of_by = f("ceiling_rate_of_by", "base_label", "base", "base_by_label", "base_by_value", "rate")
        self.f_ceiling_of = f("ceiling_of", "base_label")
        self.f_ceiling_table = f("ceiling_table", "by_label", "by_value")
        self.f_param_line = f("param_line", "label", "date", "value", "start", "source")
        self.f_param_gap = f("param_gap", "label", "date", "first")
        self.f_param_unknown = f("param_unknown", "label", "date", "until")
        self.f_selection_pending = f("selection_pending", "says", "cites")
        self.f_selection_in = f("selection_in", "says", "cites", "rank", "of")
        self.f_selection_out = f("selection_out", "says", "cites", "rank", "of")
        self.f_selection_unranked = f("selection_unranked", "says", "cites")
        self.f_why_selection = f("why_selection", "says", "cites", "rank", "of", "asked")
        self.f_reading_line = f("reading_line", "id", "words")
        self.f_cap_split = f("cap_split", "history", "earlier")
        self.f_cap_split_by = f("cap_split_by", "history", "by", "earlier")
        self.f_earlier_spent = f("earlier_spent", "year", "claim", "amount")
        self.f_earlier_spent_other = f("earlier_spent_other", "year", "claim", "amount", "applicant")
        self.f_why_limit = f("why_limit", "says", "times", "unit", "cites")
        self.f_why_limit_consecutive = f("why_limit_consecutive", "says", "times", "unit", "cites")
        self.f_why_refused = f("why_refused", "says", "cites")
        self.f_why_refused_asked = f("why_refused_asked", "says", "cites", "asked")
        self.f_why_refused_more = f("why_refused_more", "says", "cites")
        self.f_why_cut = f("why_cut", "asked", "amount", "cites")
        self.f_why_cap_none_left = f("why_cap_none_left", "cites")
        self.f_asked_rule = f("asked_rule", "amount")
        self.f_asked_external = f("asked_external", "source", "amount")
        self.f_why_facts = f("why_facts", "facts")
        self.f_why_facts_on_record = f("why_facts_on_record", "facts")
        self.f_why_also = f("why_also", "reasons")
        self.f_docs_line = f("docs_line", "docs", "cites")
        self.f_doc_ok = f("doc_ok", "doc")
        self.f_doc_missing = f("doc_missing", "doc")
        self.f_missing_documents = f("missing_documents", "docs", "cites")
        self.f_missing_facts = f("missing_facts", "facts")
        self.f_provisional = f("provisional", "amount")  # (an item waiting for documents)
        self.f_provisional_facts = f("provisional_facts", "amount")  # (for facts not given)
        self.f_provisional_both = f("provisional_both", "amount")
        self.f_referred_line = f("referred_line", "to", "cites")
        self.f_pending_line = f("pending_line", "what")
        self.f_pending_ceiling = f("pending_ceiling", "ceiling", "cites", "says")
        self.f_pending_ceiling_left = f("pending_ceiling_left", "ceiling", "cites", "says", "used", "left")
        self.f_who = f("who_ok", "kind", "kinds")
        self.f_who_roles = f("who_roles", "roles")
        self.f_status_line = f("status_line", "status", "n", "amount")
        self.f_status_line_count = f("status_line_count", "status", "n")
        self.f_count_items = f("count_items", "n")
        self.f_article_line = f("article_line", "article", "n", "amount")
        self.f_article_line_some = f("article_line_some", "article", "n", "approved", "amount")
        self.f_article_line_none = f("article_line_none", "article", "n")
        self.f_article_provisional = f("article_provisional", "amount")
        self.f_applicant = f("applicant_line", "name", "kind", "id")
        self.f_year = f("funding_year_value", "year")
        self.marks = {True: str(m["check_ok"]), False: str(m["check_fail"]), None: str(m["check_unknown"])}
        self.mark_not_applicable = str(m["check_not_applicable"])
        self.f_reason_not_applicable = f("reason_not_applicable", "cites", "says")
        self.status = m["status"]
        self.sentence_sep = str(m["sentence_sep"])

        # claim-independent pieces, once
        self.cites_cache: dict[tuple[str, ...], Any] = {}
        self.check_line: dict[tuple[int, Any], str] = {}
        # keyed by id(): the policy's own objects (tests, caps, limits, rules), alive as long as this explainer's policy
        self.cap_fmts: dict[Any, tuple[tuple[Callable[..., str], ...], tuple[str, str]]] = {}
        self.limit_fmts: dict[int, tuple[Callable[..., str], ...]] = {}
        self.rate_fmts: dict[tuple[int, str], Callable[..., str]] = {}
        self.heading_fmts: dict[str, Callable[..., str]] = {}
        self.headings: dict[tuple[str, Any], str] = {}
        self.amount_fmts = {s: catalogue.partial("amount_line", ("amount",), {"status": m["status"][s]}) for s in STATUSES}
        self.status_result = {s: str(m["status"][s]) for s in STATUSES}
        self.ok_lines: dict[int, Any] = {}  # a check that held: its whole line
        self.applied_lines: dict[int, Any] = {}  # the same of a check that may not apply (`applying`), where it did
        # keyed by id() of a ground, the ground kept with its words: alive while kept, so its id is not reused meanwhile
        self.reason_lines: dict[int, tuple[Any, str, str]] = {}
        self.count_lines: dict[tuple[str, int], str] = {}  # a status's summary line that shows no amount
        self.who_lines: dict[tuple[Any, ...], Any] = {}
        self.docs_lines: dict[tuple[Any, ...], Any] = {}
        self.standing_blocks: dict[tuple[Any, ...], Any] = {}
        self.facts_cache: dict[Any, str] = {}
        self.fact_names: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
        self.calc_lines: dict[Any, Any] = {}
        #: per item: a failed check step's facts in words (shown twice): in its line, and as the why's sentences
        self.failed_facts: dict[int, tuple[str, tuple[str, ...]]] = {}
        #: the facts of the decision being explained that the ledger's findings gave (`applicant.<fact>`, as a check
        #: names them): said as on record (台账认定事实), not as declared (申报事实). A recorded decision's `ledger`
        #: member names them (`facts_on_record`); a decision made here took none from a ledger.
        self.on_record: dict[str, Any] = {}
        self.limit_lines: dict[tuple[Any, ...], Any] = {}
        self.cap_lines: dict[tuple[Any, ...], Any] = {}
        self.who_line: dict[tuple[Any, Any, Any], str] = {}
        self.docs_cache: dict[tuple[Any, ...], str] = {}
        self.rule_tail: dict[Any, list[Any]] = {}  # per rule: the head of its pending block
        self.shaping_blocks: dict[tuple[str, ...], Any] = {}
        self.kept: object | None = None  # the generation of recorded objects the kept pieces are of (`kept_for`)
        # per rule (its id, the rule kept in the entry): its generated step writers by number of steps
        self.step_writers: dict[int, tuple[Any, dict[int, list[ItemWriter]]]] = {}
        self.generated = bool(getattr(w, "pieces_are_text", False))
        #: the engine's behaviours the policy names readings or notes for, as `behaviours` adds them ("@name")
        self.behaviours_named = frozenset("@" + name for name in policy.behaviours)
        self.rounded = False  # set by `rounding` when it says the policy's rounding; read (and reset) by `behaviours`
        #: an applicant's or claim's fact -> the standing checks that read it: an item owed one rests on them too
        self.fact_checks: dict[str, tuple[str, ...]] = {}
        for check in policy.applicant_checks:
            for fact in check.expression.facts:
                self.fact_checks[fact] = (*self.fact_checks.get(fact, ()), check.id)
        self.heads = {
            k: w.head(k, str(m[k]))
            for k in ("checks", "calculation", "limits", "caps", "selection", "scaling", "documents", "reasons", "incomplete", "pending")
        }
        self.shaping_heads = {k: w.shaped_head(k, str(m[k])) for k in ("readings", "notes_applied")}
        self.group_heads = tuple(self.heads[k] for k in GROUP_HEADS)
        self.no_trace = w.no_trace(str(m["no_trace"]))
        self.pending_decide = w.line(str(m["pending_decide"]), NOMARK, "pending_decide")
        self.item_end = w.item_end()
        self.item_types = labels.item_types
        self.kinds = labels.kinds
        info = labels.policy_info()
        p = policy
        validity = (
            fill(m["validity_line"], {"from": info["from"], "to": info["to"], "cites": info["cites"]})
            if info["cites"]
            else fill(m["validity_line_nocite"], {"from": info["from"], "to": info["to"]})
        )
        self.title_block = w.title(str(m["title"]), info["title"])
        self.claim_field = str(m["claim_id"])
        self.applicant_field = str(m["applicant"])
        self.year_field = str(m["funding_year"])
        #: the claim facts the header shows (`policy.header_facts`): each one's name and label, a header's (capitalised)
        self.header_facts = tuple((n, (label := labels.fact_label(f"claim.{n}"))[:1].upper() + label[1:]) for n in policy.header_facts)
        self.commit_field = str(m["ledger_commit"])
        self.header_lines: dict[Any, Any] = {}  # (claim fact, value) -> its header line (`header_fields`)
        policy_fields = [
            w.field("policy", str(m["policy"]), fill(m["policy_line"], {"title": info["title"], "id": p.id, "version": p.version})),
            w.field("validity", str(m["validity"]), validity),
        ]
        if info["assumption"]:  # (headed by the readings behind the window: what was assumed rests on them)
            head = str(m["assumption"]) + (self.paren(t=self.sep.join(p.in_force_readings)) if p.in_force_readings else "")
            policy_fields.append(w.field("assumption", head, info["assumption"]))
        policy_fields.append(w.field("policy_hash", str(m["policy_hash"]), p.content_hash))
        policy_fields.append(w.part("summary", str(m["section_summary"])))
        self.policy_block = w.block(policy_fields)
        self.total_label = str(m["total_granted"])
        self.by_status_head = w.subhead("by_status", str(m["by_status"]))
        self.by_article_head = w.subhead("by_article", str(m["by_article"]))
        self.scaling_head = w.subhead("scaling", str(m["scaling"]))
        self.standing_head = w.part("standing", str(m["section_standing"]))
        self.standing_result = {
            True: w.standing_result(True, str(m["standing_ok"])),
            False: w.standing_result(False, str(m["standing_refused"])),
            None: w.standing_result(True, str(m["standing_pending"])),  # not refused, but a fact or document owed
        }
        self.items_head = w.part("items", str(m["section_items"]))
        self.no_items = w.no_items(str(m["no_items"]))
        self.footer = w.footer(fill(m["generated_by"], {"engine": f"policy-engine {__version__}", "policy": f"{p.id} {p.version}"}))
        so = m["sign_off"]
        self.sign_off = w.sign_off(SignOff(str(so["head"]), str(so["opinion"]), str(so["reviewer"]), str(so["date"]), str(m["print_page"])))
        self.article_of = {cite: cl.article for cite, cl in p.clauses.items()}
        self.article_order = {cl.article: i for i, cl in reversed(list(enumerate(p.clauses.values())))}

    def forget(self) -> None:
        """Drop every kept piece: a recorded decision's objects live for one explanation, and their ids are reused."""
        for cache in (
            self.cites_cache, self.check_line, self.cap_fmts, self.shaping_blocks, self.limit_fmts, self.rate_fmts, self.ok_lines, self.applied_lines,
            self.reason_lines, self.who_lines, self.docs_lines, self.standing_blocks, self.facts_cache, self.calc_lines,
            self.failed_facts, self.limit_lines, self.cap_lines, self.who_line, self.docs_cache, self.rule_tail, self.count_lines,
            self.headings,
        ):  # fmt: skip
            cache.clear()

    def kept_for(self, decision: RecordedDecision) -> None:
        """Before a recorded decision: keep the pieces of the records before it while its objects are the same
        kept objects (`recorded.Kept`: the same generation), else forget them all. The facts' words are forgotten
        either way (a fact's value is kept by equality: a record may give 1 where another gave true)."""
        if decision.kept is None or decision.kept is not self.kept:
            self.forget()
        else:
            self.facts_cache.clear()
        self.kept = decision.kept

    def cap_fmt(self, cap: Any, ceiling: Any, how: Any) -> tuple[tuple[Callable[..., str], ...], tuple[str, str]]:
        """Per cap (and, for a computed ceiling, per ceiling): its lines (paid, single item, not paid) and "why not
        more" sentences, its words and ceiling put in -- a computed ceiling with how it was obtained; and the
        (words, ceiling) shown in its table row."""
        key = id(cap) if cap.computed is None else (id(cap), _text_key(ceiling), _text_key(how) if not isinstance(how, tuple) else how)
        found = self.cap_fmts.get(key)
        if found is None:
            shown = self.money(cap.ceiling if cap.computed is None else ceiling, cap.cites)
            if cap.computed is not None:
                shown += self.paren(t=self.ceiling_how(cap.computed, how))
            words = (self.lab.label(cap.says), shown)
            fixed = {"says": words[0], "ceiling": shown, "cites": cap.cites}
            line = ("used", "left", "asked", "granted", "cut")
            fmts = tuple(
                self.cat.partial(k, line, fixed)
                for k in ("cap_line", "cap_item", "cap_check", "why_cap", "why_cap_fresh", "why_cap_exhausted", "cap_no_amount")
            )
            if len(self.cap_fmts) >= MONEY_CACHE:
                self.cap_fmts.clear()
            found = self.cap_fmts[key] = (fmts, words)
        return found

    def ceiling_how(self, form: Any, how: Any) -> str:
        """How a computed ceiling was obtained, in words (never the raw expression)."""
        lab = self.lab
        if form.kind == "table":
            label = lab.label(form.base) if form.base is not None else lab.fact_label(form.by.source)
            return self.f_ceiling_table(by_label=label, by_value=lab.value_label(form.by.source, None, json_value(how)))
        label = self.base_label(form, None)
        if getattr(form, "of_table", None) is not None:  # the base from an amount table: what chose it
            base, _key, rate, okey = how
            by_label, by_value = self.table_key_words(form.of_table, None, okey)
            if form.rate_table is None and str(rate) == "1":  # the table's entry itself: what chose it
                return self.f_ceiling_table(by_label=by_label, by_value=by_value)
            return self.f_ceiling_rate_of_by(
                base_label=label, base=self.money(base), base_by_label=by_label, base_by_value=by_value, rate=lab.percent(str(rate))
            )
        base, rate = (how[0], how[2]) if form.rate_table is not None else (how, form.rate)
        if form.rate_table is None and str(rate) == "1":  # a bare `of:` (or 100%): the base itself
            return self.f_ceiling_of(base_label=label)
        return self.f_ceiling_rate(base_label=label, base=self.money(base), rate=lab.percent(str(rate)))

    def table_key_words(self, table: Any, t: str | None, key: Any) -> tuple[str, str]:
        """What chose a table's entry, in words: its `base:` label (else the fact's) and the key's value label."""
        lab = self.lab
        by = table.by.source
        by_label = lab.label(table.base) if table.base is not None else lab.fact_label(by, t)
        return by_label, lab.value_label(by, t, json_value(key))

    def calc_rate_of_by(self, form: Any, detail: Any, value: Any, t: str) -> str:
        """A two-dimensional amount (G5): the base from an amount table, the key that chose it, the rate (and, for a
        rate table, what chose the rate)."""
        base, rkey, rate, okey = detail
        base_by_label, base_by_value = self.table_key_words(form.of_table, t, okey)
        rate_by = ""
        if form.rate_table is not None:
            by_label, by_value = self.table_key_words(form.rate_table, t, rkey)
            rate_by = self.f_calc_rate_of_by_rate(by_label=by_label, by_value=by_value)
        return self.f_calc_rate_of_by(
            base_label=self.base_label(form, t),
            base=self.money(base),
            base_by_label=base_by_label,
            base_by_value=base_by_value,
            rate=self.lab.percent(str(rate)),
            rate_by=rate_by,
            value=self.money(value),
        ) + self.rounding(base, rate, value)

    def base_label(self, form: Any, t: str | None, source: str | None = None, computed: str = "base_computed") -> str:
        """What a form's base (or count) is: its `base:` words, the fact's words for a single fact, else "the base"
        -- never the raw expression."""
        if form.base is not None:
            return self.lab.label(form.base)
        if source is None and getattr(form, "of_table", None) is not None:  # the base is a table's entry, not `by`
            return str(self.cat.m[computed])
        src = form.of.source if source is None else source
        label = self.lab.fact_label(src, t)
        return label if label != src else str(self.cat.m[computed])

    def param_line(self, s: tuple[Any, ...]) -> str:
        """A dated parameter's look-up: its value, the date asked, since when the value is in force, its source."""
        _, use, day, entry = s
        lab = self.lab
        p = use.parameter
        label = lab.label(p.label)
        shown_day = _iso(day)
        # (after the values the policy knows; ISO texts compare as their dates do, and a recorded day is a text)
        if entry is None and p.known_until is not None and shown_day > _iso(p.known_until):
            return self.f_param_unknown(label=label, date=shown_day, until=_iso(p.known_until))
        if entry is None:
            first = _iso(p.values[0].start) if p.values else ""
            return self.f_param_gap(label=label, date=shown_day, first=first)
        value = self.money(entry.value) if p.type == "money" else entry.shown
        return self.f_param_line(label=label, date=shown_day, value=value, start=_iso(entry.start), source=lab.label(entry.source))

    def selection(self, s: tuple[Any, ...]) -> Any:
        """A round selection step: the item's rank in its round, or that it takes part in one."""
        _, sel, verdict = s
        says = self.lab.label(sel.says)
        w = self.w
        if verdict is None:
            return w.line(self.f_selection_pending(says=says, cites=sel.cites), NOMARK, "selection")
        if verdict.why == "unranked":
            return w.line(f"{self.marks[False]} {self.f_selection_unranked(says=says, cites=sel.cites)}", False, "selection")
        words = self.f_selection_in if verdict.selected else self.f_selection_out
        text = f"{self.marks[bool(verdict.selected)]} {words(says=says, cites=sel.cites, rank=verdict.rank, of=verdict.of)}"
        return w.line(text, bool(verdict.selected), "selection")

    def limit_unit(self, lim: Any) -> str:
        """What one counting of the limit is: the policy's word (年) or 次 / time(s)."""
        return self.lab.label(lim.unit) if lim.unit is not None else str(self.cat.m["limit_unit"])

    def limit_fmt(self, lim: Any) -> tuple[Callable[..., str], ...]:
        fmts = self.limit_fmts.get(id(lim))
        if fmts is None:
            fixed = {"says": self.lab.label(lim.says), "times": lim.times, "unit": self.limit_unit(lim)}
            fmts = self.limit_fmts[id(lim)] = (
                *(
                    # (a consecutive limit counts years in a row: said so, "此前已连续 3 年")
                    self.cat.partial(k + ("_consecutive" if lim.consecutive else ""), ("used", "after", "by"), fixed)
                    for k in ("limit_check", "limit_same", "limit_full", "limit_line", "limit_full_by")
                ),
                # an earlier application it names: the applicant's own, another's
                self.cat.partial("earlier_use", ("year", "claim", "counted"), {"unit": fixed["unit"]}),
                self.cat.partial("earlier_use_other", ("year", "claim", "counted", "applicant"), {"unit": fixed["unit"]}),
                # the lines of a limit used before the item, naming the earlier applications that used it
                *(
                    self.cat.partial(k + ("_consecutive" if lim.consecutive else ""), ("used", "after", "by"), fixed)
                    for k in ("limit_check_by", "limit_same_by", "limit_line_by")
                ),
            )
        return fmts

    def earlier_uses(self, earlier: tuple[Any, ...], fmts: tuple[Callable[..., str], ...], applicant_id: Any) -> str:
        """The earlier applications a limit step names with what each counted (2021 年度申请 PG-2021-0003 计
        1 次), each with its applicant when it is another's than this application's (`fmts`: the limit's)."""
        own, other = fmts[5], fmts[6]
        said = [
            own(year=y, claim=c, counted=n) if a == applicant_id else other(year=y, claim=c, counted=n, applicant=a)
            for c, y, a, n in earlier
        ]
        return said[0] if len(said) == 1 else self.earlier_sep.join(said)

    # --- values -------------------------------------------------------------------------

    def facts_of(self, facts: tuple[str, ...], t: str | None, I: Any, A: Any, C: Any) -> str:
        """The facts a check used, in words (e.g. `贷款人是否为银行：否；质押的权利为著作权`: a yes/no fact as question and
        answer, the facts apart by `fact_sep`); kept per check and fact values."""
        names = self.fact_names.get(facts)
        if names is None:
            names = self.fact_names[facts] = tuple((n.split(".", 1)[0], n.split(".", 1)[1]) for n in facts)
        spaces = {"item": I, "applicant": A, "claim": C}
        # Decimals by their text: 0.125 and 0.1250 are equal keys but are shown as given
        key: tuple[Any, ...] | None = (facts, t, *(_text_key(dict.get(spaces[ns], name, _ABSENT)) for ns, name in names))
        try:
            text = self.facts_cache.get(key)
        except TypeError:  # a list among the values: not kept
            key, text = None, None
        if text is None:
            lab = self.lab
            used = facts_used(facts, I, A, C)
            yn, said = self.f_fact_yes_no, self.fact_said
            text = self.fact_sep.join(
                yn(fact=lab.fact_label(n, t), value=lab.fact_value(n, t, v))
                if type(v) is bool
                else said(lab.fact_label(n, t), lab.fact_value(n, t, v))
                for n, v in used.items()
            )
            if key is not None:
                if len(self.facts_cache) >= MONEY_CACHE:
                    self.facts_cache.clear()
                self.facts_cache[key] = text
        return text

    def given(self, facts: tuple[str, ...], t: str | None, I: Any, A: Any, C: Any) -> tuple[str, tuple[str, ...]]:
        """A failed check's facts in words, as its line says them (申报事实：…) and as the why's sentences: the values
        the ledger's findings gave (`on_record`) said as on record (台账认定事实：…) before those declared -- of a list
        fact the applicant stated values of too, the values on record there, the applicant's here."""
        on = tuple([f for f in facts if f in self.on_record]) if self.on_record else ()
        if not on:
            said = self.facts_of(facts, t, I, A, C)
            return self.f_facts_given(facts=said), (self.f_why_facts(facts=said),)
        recorded, declared = dict(A), dict(A)  # (the values each part says)
        both = set()
        for f in on:
            name, held, kept = f.partition(".")[2], A.get(f.partition(".")[2]), self.on_record[f]
            if isinstance(held, list) and isinstance(kept, list) and any(v not in kept for v in held):
                recorded[name], declared[name] = [v for v in held if v in kept], [v for v in held if v not in kept]
                both.add(f)
        on_text = self.facts_of(on, t, I, recorded, C)
        rest = tuple([f for f in facts if f not in self.on_record or f in both])
        if not rest:
            return self.f_facts_on_record(facts=on_text), (self.f_why_facts_on_record(facts=on_text),)
        rest_text = self.facts_of(rest, t, I, declared, C)
        line = self.f_facts_both(on_record=self.f_facts_on_record(facts=on_text), given=self.f_facts_given(facts=rest_text))
        return line, (self.f_why_facts_on_record(facts=on_text), self.f_why_facts(facts=rest_text))

    # --- sentences -------------------------------------------------------------------------

    def check(self, step: tuple[Any, ...], t: str | None, I: Any, A: Any, C: Any, shown: list[Any] | None = None) -> str:
        """A check's line: its clause and words; a failed check's facts; the values it shows (`shown`: a standing
        check's, see `shown`), beside its facts whatever the result; a missing fact."""
        _, test, ok, missing = step
        key = (id(test), ok)
        line = self.check_line.get(key)
        if line is None:
            line = self.check_line[key] = (
                f"{self.marks.get(ok, self.marks[None])} {self.f_reason(cites=test.cites, says=self.lab.label(test.says))}"
            )
        if shown:
            values = self.shown_sep.join(self.shown_text(v) for v in shown)
            if test.expression.facts:
                given = self.given(test.expression.facts, t, I, A, C)
                if ok is False:
                    self.failed_facts[id(step)] = given
                values = self.f_facts_and_shown(facts=given[0], shown=values)
            line += self.paren(t=values)
        elif ok is False and test.expression.facts:
            given = self.failed_facts[id(step)] = self.given(test.expression.facts, t, I, A, C)
            line += self.paren(t=given[0])
        if missing:
            line += self.paren(t=self.f_missing_fact(fact=self.lab.fact_label(missing, t)))
        return line

    def item_check(self, s: tuple[Any, ...], d: AnyItem, A: Any, C: Any) -> Any:
        """The line of an item's check that says something of the item beside its result (`per_item`): 不适用 where
        it did not apply (`applies`), the values it shows beside its facts (`shows`); a held line that shows nothing
        kept (`applied_lines`)."""
        test, ok, I, t = s[1], s[2], d.item.facts, d.item.type
        held = ok is True and not s[3]
        if held and test.id in self.applying and not self.applies(test, I, A, C):
            return self.w.line(self.not_applicable(test, t, I, A, C), True, "check")
        shown = self.item_shown(test, I, A, C) if test.id in self.item_showing else None
        if shown or not held:
            return self.w.line(self.check(s, t, I, A, C, shown), ok, "check")
        piece = self.applied_lines.get(id(test))
        if piece is None:
            piece = self.applied_lines[id(test)] = self.w.line(self.check(s, t, I, A, C), True, "check")
        return piece

    def item_shown(self, test: Any, I: Any, A: Any, C: Any) -> list[Any]:
        """The values an item's check shows beside its facts (`shows:`): worked out for a decision just made, as its
        record states them for a recorded one."""
        return shown_values(test, I, A, C) if type(test) is Test else self.recorded_shown(test)

    @staticmethod
    def applies(test: Any, I: Any, A: Any, C: Any) -> bool:
        """Whether a check with `applies:` applied to the item: worked out for a decision just made, as its record
        states it for a recorded one (`not_applicable`)."""
        return applies_to_item(test, I, A, C) if type(test) is Test else not getattr(test, "not_applicable", False)

    def not_applicable(self, test: Any, t: str | None, I: Any, A: Any, C: Any) -> str:
        """A held check that did not apply to the item: its clause and words, 不适用, and the facts that say so."""
        line = f"{self.mark_not_applicable} {self.f_reason_not_applicable(cites=test.cites, says=self.lab.label(test.says))}"
        if test.expression.facts:
            line += self.paren(t=self.given(test.expression.facts, t, I, A, C)[0])
        return line

    @staticmethod
    def recorded_shown(test: Any) -> list[Any]:
        """The values a recorded standing check showed beside its facts, read from its record (`Recorded.shown`); a
        decision just made has them worked out from the policy's checks that show values (`standing`)."""
        return getattr(test, "shown", None) or []

    def shown_text(self, shown: Mapping[str, Any]) -> str:
        """One shown value in words: its label and value (`限制期至 2022-03-15（含当日）`: a label with `{value}` has
        the value there; any other is followed by it as a fact's value is)."""
        label = self.lab.label(shown["label"])
        value = self.lab.shown_value(shown.get("type"), shown["value"])
        if "{value}" in label:
            return label.replace("{value}", value)
        return self.fact_said(label, value)

    def fact_said(self, label: str, value: str) -> str:
        """A fact and its value (`事项发生日期为 2020-12-28`): a value that begins with a digit or a Latin letter is set
        apart from the Chinese before it as an amount is (`金额为 1,500.00 元`); it was `日期为2020-12-28`."""
        first = value[:1]
        latin = first.isascii() and first.isalnum()
        return (self.f_fact_value_latin if latin else self.f_fact_value)(fact=label, value=value)

    def who(self, rule: Any, ok: Any, kind: Any) -> str:
        key = (id(rule) if type(rule) is Recorded else rule.id, ok, kind)  # a recorded step states its own kinds and roles
        line = self.who_line.get(key)
        if line is None:
            lab = self.lab
            kinds = self.sep.join(v for k, v in lab.kinds.items() if k in rule.kinds)
            roles = [v for k, v in lab.roles.items() if k in rule.roles]
            if roles:
                kinds += self.f_who_roles(roles=self.sep.join(roles))
            line = self.who_line[key] = f"{self.marks.get(ok, self.marks[None])} {self.f_who(kind=lab.kinds.get(kind, kind), kinds=kinds)}"
        return line

    def calc(self, step: tuple[Any, ...], rule: Any, t: str) -> str:
        _, form, detail, value = step
        lab = self.lab
        money = self.money
        kind = form.kind
        if kind == "rate":
            if getattr(form, "of_table", None) is not None:
                return self.calc_rate_of_by(form, detail, value, t)
            if form.rate_table is not None:  # a rate chosen by a scalar: the rate and what chose it
                base, rkey, rate = detail
                by = form.rate_table.by.source
                by_label = lab.label(form.rate_table.base) if form.rate_table.base is not None else lab.fact_label(by, t)
                line = self.f_calc_rate_by(
                    base_label=self.base_label(form, t),
                    base=money(base),
                    rate=lab.percent(str(rate)),
                    by_label=by_label,
                    by_value=lab.value_label(by, t, json_value(rkey)),
                    value=money(value),
                )
                return line + self.rounding(base, rate, value)
            return self.rate_fmt(form, t)(base=money(detail), value=money(value)) + self.rounding(detail, form.rate, value)
        cites = rule.cites
        if kind == "fixed" or kind == "table":
            if kind == "fixed":
                return self.f_calc_fixed(value=money(value, cites))
            src = form.by.source
            by_value = lab.value_label(src, t, json_value(detail))
            by_label = lab.label(form.base) if form.base is not None else lab.fact_label(src, t)
            return self.f_calc_table(by_label=by_label, by_value=by_value, value=money(value, cites))
        if kind == "external":
            label = lab.fact_label(form.source.source, t)
            note = self.rounding(detail, _ONE, value)
            if note:  # the panel's amount has more places than the policy pays: what it gave, and what is paid
                return self.f_calc_external_rounded(source_label=label, given=money(detail), value=money(value)) + note
            return self.f_calc_external(source_label=label, value=money(value))
        if kind == "bands":
            base, band = detail
            src = form.of.source
            if band is None:
                return self.f_calc_bands_none(base_label=self.base_label(form, t), base=lab.base_value(src, t, base), value=money(value))
            line = self.f_calc_bands(
                base_label=self.base_label(form, t),
                base=lab.base_value(src, t, base),
                band=money(band.amount, cites) if band.amount is not None else lab.percent(str(band.rate)),
                value=money(value),
                **{"from": lab.base_value(src, t, band.start, cites)},
            )
            return line + self.rounding(base, band.rate, value) if band.amount is None else line
        if kind == "per_unit":
            count, used = detail[0], detail[1]
            src = form.count.source
            fields = {
                "per_unit": self.per_unit_words(form, detail, t, cites),
                "counted": used,
                "value": money(value),
                "count_label": self.base_label(form, t, src, "count_computed"),
                "count": lab.base_value(src, t, count),
                "max": self.f_calc_per_unit_max(max_count=lab.base_value(src, t, form.max_count)) if form.max_count is not None else "",
            }
            if form.unit is None:
                line = self.f_calc_per_unit(**fields)
            else:
                line = self.f_calc_per_unit_in(unit=lab.label(form.unit), **fields)
            return line + self.rounding(detail[2], Decimal(used), value) if form.per_unit_of is not None else line
        if kind == "least":
            return self.f_calc_least(candidates=self.sep.join(money(v) for v in detail), value=money(value))
        return ""

    def per_unit_words(self, form: Any, detail: Any, t: str, cites: str) -> str:
        """The sum per unit of a per-unit amount: the constant (in the clause's own unit, 万元 where it writes so), a
        table's entry with what chose it, or a computed sum with its words when the policy gives them."""
        if form.per_unit_table is not None:
            by_label, by_value = self.table_key_words(form.per_unit_table, t, detail[3])
            return self.money(detail[2], cites) + self.f_calc_rate_of_by_rate(by_label=by_label, by_value=by_value)
        if form.per_unit_of is not None:
            words = self.money(detail[2])
            return words if form.per_unit_base is None else words + self.paren(t=self.lab.label(form.per_unit_base))
        return self.money(form.per_unit, cites)

    def rounding(self, base: Any, rate: Any, value: Any) -> str:
        """The policy's rounding, said when the amount is the base times the rate rounded by it and not that product
        exactly (a rate applied to a cost is rounded before any cap): "" when it is exact, and when a recorded figure
        is not a number or not that rounding (a record says what it says; the note says only what the policy did)."""
        if type(base) is Decimal and type(value) is Decimal and type(rate) is Decimal:  # a live trace's (the common case)
            exact = base * rate
        else:
            b, r, v = to_decimal(base), to_decimal(rate), to_decimal(value)
            if b is None or r is None or v is None:
                return ""
            exact, value = b * r, v
        if exact == value:
            return ""
        try:
            if exact.quantize(self.quantum, self.rounding_mode) != value:
                return ""
        except InvalidOperation:  # (a recorded figure too large for the quantum's places)
            return ""
        self.rounded = True  # (the item being written was rounded: `behaviours` names the rounding's readings)
        return self.rounded_note

    def rate_fmt(self, form: Any, t: str) -> Callable[..., str]:
        """A simple rate's calculation line with its base's words and its rate put in (per form and item type)."""
        fmt = self.rate_fmts.get((id(form), t))
        if fmt is None:
            fixed = {"base_label": self.base_label(form, t), "rate": self.lab.percent(str(form.rate))}
            fmt = self.rate_fmts[(id(form), t)] = self.cat.partial("calc_rate", ("base", "value"), fixed)
        return fmt

    def documents(self, step: tuple[Any, ...], standing: bool) -> str:
        _, owner, required, missing, cites = step
        key = (id(owner), tuple(required), tuple(missing), cites, standing)
        line = self.docs_cache.get(key)
        if line is None:
            lab = self.lab
            ds = self.sep.join((self.f_doc_missing if d in missing else self.f_doc_ok)(doc=lab.docs.get(d, d)) for d in required)
            if standing:
                own = isinstance(owner, DocumentCheck) or (type(owner) is Recorded and owner.says is not None)
                says = lab.label(owner.says) if own else self.cat.m["documents"]
                line = f"{self.marks[not missing]} {self.f_reason(cites=cites, says=says)}{self.paren(t=ds)}"
            else:
                line = self.f_docs_line(docs=ds, cites=cites)
            self.docs_cache[key] = line
        return line

    def clauses(self, cites: tuple[str, ...]) -> Any:
        block = self.cites_cache.get(cites)
        if block is None:
            quotes = []
            for cite in cites:
                cl = self.lab.clauses.get(cite)
                quotes.append(Quote(cite, cl["text"], cl["original"]) if cl is not None else Quote(cite, None, None))
            block = self.cites_cache[cites] = self.w.clauses(tuple(quotes))
        return block

    def pending_block(self, d: AnyItem, in_application: dict[tuple[str, Any], Decimal] | None) -> Any:
        """A pending item's review block: what the panel decides (its rule's), each ceiling the panel's amount is held
        to with the room used before the item and the room left (the item's own), and what the panel must decide."""
        rule = d.rule
        key = id(rule) if type(rule) is Recorded else rule.id  # a recorded item states its own pending block
        head = self.rule_tail.get(key)
        if head is None:
            head = [self.heads["pending"]]
            what = getattr(rule.amount, "pending", None)  # an amount the panel decides says what it decides
            if what is not None:
                head.append(self.w.line(self.f_pending_line(what=self.lab.label(what)), NOMARK, "pending_line"))
            self.rule_tail[key] = head
        return self.w.block([*head, *self.pending_ceilings(d, in_application), self.pending_decide])

    def pending_ceilings(self, d: AnyItem, in_application: dict[tuple[str, Any], Decimal] | None) -> list[Any]:
        """A pending item's ceiling lines (as the decision's `ceilings`): the ceiling, the room used before the item
        (a shared cap's split into earlier applications and earlier items of this one, as a cap line's) and the room
        left. A record written before the room was recorded states the ceiling alone."""
        lab, money = self.lab, self.money
        lines = []
        for cap, used, mine in self.ceiling_rows(d, in_application):
            words = {"ceiling": lab.money(format_money(cap.ceiling), cap.cites), "cites": cap.cites, "says": lab.label(cap.says)}
            if used is None:
                text = self.f_pending_ceiling(**words)
            else:
                left = cap.ceiling - used
                text = self.f_pending_ceiling_left(
                    **words, used=money(used) + self.split(used, mine), left=money(left if left > 0 else _ZERO)
                )
            lines.append(self.w.line(text, NOMARK, "pending_ceiling"))
        return lines

    def ceiling_rows(
        self, d: AnyItem, in_application: dict[tuple[str, Any], Decimal] | None
    ) -> list[tuple[Any, Decimal | None, Decimal | None]]:
        """The decision's `ceilings` (a pending item's, or those of an item refused because one had no room left for
        the panel's amount), each (cap, room used before the item or None when a record does not state it, the use
        by the earlier items of this application or None when it is not split)."""
        if isinstance(d, RecordedItem):
            said = d.record.get("ceilings") or ()
            return [
                (c, to_decimal(r.get("used_before")), to_decimal(r.get("used_in_application")))
                for c, r in zip(d.rule.caps, said, strict=False)
            ]
        rows: list[tuple[Any, Decimal | None, Decimal | None]] = []
        for cap, scope, before in d.ceilings:
            mine = None if cap.per is None or in_application is None else in_application.get((cap.id, scope), _ZERO)
            rows.append((cap, before, mine))
        return rows

    def split(self, used: Decimal, mine: Decimal | None) -> str:
        """A shared cap's use before the item split into earlier applications and earlier items of this one (a
        cap line's, `cap_split`); nothing when it is not split or nothing was used."""
        if mine is None or used.quantize(CENT) == 0:
            return ""
        return self.f_cap_split(history=self.money(used - mine), earlier=self.money(mine))

    def refused_ceilings(self, d: AnyItem, in_application: dict[tuple[str, Any], Decimal] | None) -> list[Any]:
        """The cap lines of an item refused because a ceiling had no room left for the panel's amount (its decision's
        `ceilings`): each cap's ceiling, the room used before the item, split as a cap line's, and the room left, in a
        cap line's words without the item's amount (the panel gave none: `cap_no_amount`); in a table, no amount of the
        item and nothing it could count where nothing is left."""
        money = self.money
        lines = []
        for cap, used, mine in self.ceiling_rows(d, in_application):
            if used is None:  # (a hand-edited record without the room)
                continue
            fmts, (says, shown) = self.cap_fmt(cap, cap.ceiling, None)
            left = cap.ceiling - used
            left_text = money(left if left > 0 else _ZERO)
            u, split_text = money(used), self.split(used, mine)
            text = fmts[6](used=u + split_text, left=left_text)
            per_item = mine is None and getattr(cap, "per", None) is None  # (a record states a shared cap's split)
            row = (says, cap.cites, shown, per_item, u, split_text, left_text, _NO_FIGURE, left_text if left <= 0 else _NO_FIGURE)
            lines.append(self.w.cap(Line(text, NOMARK, "cap"), row))
        return lines

    def shaping_block(self, ids: tuple[str, ...]) -> Any:
        """The readings and notes behind the decision-makers `ids`, each with its words (Labels.shaping); None
        when there are none."""
        block = self.shaping_blocks.get(ids)
        if block is None:
            w = self.w
            pieces: list[Any] = []
            for key, found in zip(("readings", "notes_applied"), self.lab.shaping(ids), strict=True):
                if found:
                    pieces.append(self.shaping_heads[key])
                    pieces.extend(w.reading(self.f_reading_line(id=i, words=words), key) for i, words in found)
            block = w.block(pieces) if pieces else None
            if len(self.shaping_blocks) < SHAPING_CACHE:
                self.shaping_blocks[ids] = block
        return block

    def item_shapers(self, d: AnyItem) -> tuple[str, ...]:
        """The ids of the decision-makers of an item: its rule, each check, condition, limit, cap, selection,
        subject and document check of its trace, each reason's, and the caps whose ceilings a pending review shows."""
        rule = d.rule.id
        ids = [rule]
        for s in d.steps:
            k = s[0]
            if k in ("check", "limit", "cap", "documents", "selection"):
                ids.append(s[1].id)
            elif k == "subject":
                ids.append(f"{rule}#subject")
        ids += [r.check for r in d.reasons]
        if d.status == "pending_review":  # its ceilings are shown
            ids += [c.id for c in d.rule.caps if c.computed is None and not c.restricted]
        return tuple(dict.fromkeys(ids))

    # --- the document ---------------------------------------------------------------------

    @in_engine_context
    def render(self, decision: Decision | RecordedDecision) -> Any:
        """The decision's explanation: the writer's `finish` of its pieces (text for TextWriter, an Explanation for ModelWriter)."""
        claim = decision.claim
        A, C = claim.applicant, claim.claim_facts
        w = self.w
        recorded = type(decision) is RecordedDecision
        if isinstance(decision, RecordedDecision):
            self.kept_for(decision)
        self.on_record = on_record_of(decision)
        self.rounded = False
        out: list[Any] = [
            w.who(str(claim.claim_id), str(A["id"]), A.get("name")),
            self.title_block,
            w.field("claim_id", self.claim_field, str(claim.claim_id) if recorded else claim.claim_id),
            w.field(
                "applicant",
                self.applicant_field,
                self.f_applicant(name=A.get("name") or "", kind=self.kinds.get(A["kind"], A["kind"]), id=A["id"]),
            ),
            w.field("funding_year", self.year_field, self.f_year(year=claim.funding_year)),
        ]
        if self.header_facts or recorded:
            self.header_fields(out, decision, C)
        out.append(self.policy_block)
        items: tuple[AnyItem, ...] = decision.items
        if isinstance(decision, RecordedDecision):
            self.summary_recorded(out, decision.record)
        else:
            self.summary(out, decision.items)
        out.append(self.standing_head)
        out.append(self.standing(decision, A, C))
        out.append(self.standing_result[self.standing_outcome(decision)])
        out.append(self.items_head)
        in_application: dict[tuple[str, Any], Decimal] = {}
        for n, d in enumerate(items, 1):
            self.item(out, n, d, A, C, in_application)
        if not items:
            out.append(self.no_items)
        out.append(self.footer)
        out.append(self.sign_off)
        return w.finish(out)

    def header_fields(self, out: list[Any], decision: Decision | RecordedDecision, C: Any) -> None:
        """The header's fields after the funding year: the claim facts the policy names (`header_facts`; one not
        given is not shown), as a recorded decision records them (`claim_facts`); and a recorded decision's ledger
        record number, when it has one."""
        record = decision.record if isinstance(decision, RecordedDecision) else None
        given = (record.get("claim_facts") or {}) if record is not None else None
        kept = self.header_lines
        for name, label in self.header_facts:
            value = given.get(name) if given is not None else dict.get(C, name)
            if value is None:
                continue
            # (a round's applications share a few submission dates: each line made once per value of a plain type)
            key = (name, value) if type(value) in _PLAIN_VALUES else None
            line = kept.get(key) if key is not None else None
            if line is None:
                line = self.w.field("claim_fact", label, self.lab.fact_value(f"claim.{name}", None, json_value(value)))
                if key is not None:
                    if len(kept) >= MONEY_CACHE:
                        kept.clear()
                    kept[key] = line
            out.append(line)
        ledger = record.get("ledger") if record is not None else None
        commit = ledger.get("commit") if isinstance(ledger, Mapping) else None
        if commit is not None:
            out.append(self.w.field("ledger_commit", self.commit_field, str(commit)))

    def summary(self, out: list[Any], items: tuple[ItemDecision, ...]) -> None:
        """The total, the count and amount per status, and per article of the text."""
        money = self.money
        w = self.w
        counts = dict.fromkeys(STATUSES, 0)
        totals = dict.fromkeys(STATUSES, _ZERO)
        articles: dict[str, list[Any]] = {}
        article_of = self.article_of
        total = _ZERO
        of_cites: dict[str, list[Any]] = {}  # a rule's clause -> its article's entry
        for d in items:  # (adding a zero is left out: the sums are only shown to the cent)
            s = d.status
            amount = d.amount
            provisional = d.provisional
            counts[s] += 1
            cites = d.rule.cites
            entry = of_cites.get(cites)
            if entry is None:
                a = article_of.get(cites, cites)
                entry = articles.get(a)
                if entry is None:
                    entry = articles[a] = [0, _ZERO, _ZERO, 0]
                of_cites[cites] = entry
            entry[0] += 1
            if s == "granted" or s == "reduced":
                entry[3] += 1
                if amount:
                    total += amount
                    entry[1] += amount
                    totals[s] += amount
            elif amount:
                total += amount
                entry[1] += amount
            if provisional:
                entry[2] += provisional
                if s != "granted" and s != "reduced":
                    totals[s] += provisional
        out.append(w.total(self.total_label, money(total.quantize(CENT))))
        out.append(self.by_status_head)
        for s in STATUSES:
            if counts[s]:
                out.append(w.summary_line(self.status_line(s, counts[s], totals[s], totals[s].quantize(CENT) != 0), s))
        if articles:
            out.append(self.by_article_head)
            order = self.article_order
            ranked = sorted(articles.items(), key=lambda kv: order.get(kv[0], len(order))) if len(articles) > 1 else articles.items()
            for a, (n, amount, prov, approved) in ranked:
                line = self.article_line(a, n, approved, money(amount))
                if prov.quantize(CENT) != 0:
                    line += self.f_article_provisional(amount=money(prov))
                out.append(w.summary_line(line, "article"))

    def article_line(self, article: str, n: Any, approved: Any, amount: str) -> str:
        """The summary's line for one article: its items, how many of them were approved when not all were (the
        others refused, referred, incomplete or pending), and the amount approved (none: that none was)."""
        if approved == n:
            return self.f_article_line(article=article, n=n, amount=amount)
        if approved == 0:
            return self.f_article_line_none(article=article, n=n)
        return self.f_article_line_some(article=article, n=n, approved=approved, amount=amount)

    def status_line(self, status: str, n: int, total: Any, provisional: bool) -> str:
        """The summary's line for the items of one status: how many, and their amount (granted, reduced) or
        provisional amount (incomplete, when there is one). `total` is a Decimal, or money text from a record."""
        if status in ("granted", "reduced"):
            return str(self.f_status_line(status=self.status[status], n=self.f_count_items(n=n), amount=self.money(total)))
        if status == "incomplete" and provisional:
            amount = self.f_provisional_of(amount=self.money(total))
            return str(self.f_status_line(status=self.status[status], n=self.f_count_items(n=n), amount=amount))
        if type(n) is not int:  # (a recorded count is shown as given; True and 1 are equal keys)
            return str(self.f_status_line_count(status=self.status[status], n=self.f_count_items(n=n)))
        line = self.count_lines.get((status, n))
        if line is None:  # how many, and no amount: kept per status and count
            if len(self.count_lines) >= MONEY_CACHE:
                self.count_lines.clear()
            line = self.count_lines[(status, n)] = str(self.f_status_line_count(status=self.status[status], n=self.f_count_items(n=n)))
        return line

    def heading(self, t: Any, ident: Any) -> str:
        """An item's heading: its type's words and its id; kept per item type and id (claims reuse ids: i1, i2,
        ...), bounded."""
        head = self.headings.get((t, ident))
        if head is None:
            heading = self.heading_fmts.get(t)
            if heading is None:
                heading = self.heading_fmts[t] = self.cat.partial("item_heading", ("id",), {"type": self.item_types.get(t, t)})
            head = heading(id=ident)
            if type(ident) is str:  # (a recorded id of another type is shown as given, not kept: True and 1 are equal keys)
                if len(self.headings) >= MONEY_CACHE:
                    self.headings.clear()
                self.headings[(t, ident)] = head
        return head

    def result(self, d: AnyItem, status: str) -> str:
        """An item's outcome in words, with its amount (or provisional amount)."""
        if status == "incomplete" and d.provisional is not None:
            return self.amount_fmts[status](amount=self.f_provisional_of(amount=self.money(d.provisional)))
        if status in ("granted", "reduced"):
            return self.amount_fmts[status](amount=self.money(d.amount))
        return self.status_result[status]

    # long because: one item's lines in explanation order (outcome, conditions, amount, limits, caps, documents,
    # why not more), in one pass over its trace with local names bound once: this is the hot path of the text
    def item(self, out: list[Any], n: int, d: AnyItem, A: Any, C: Any, in_application: dict[tuple[str, Any], Decimal]) -> None:
        w = self.w
        if self.failed_facts:
            self.failed_facts.clear()
        kind = A.get("kind")
        if self.generated and type(d) is ItemDecision:  # by its rule's generated writer for its steps
            entry = self.step_writers.get(id(d.rule))
            if entry is not None and entry[0] is d.rule:
                for write in entry[1].get(len(d.steps), ()):
                    if write(out, n, d, A, C, in_application, kind):
                        return
            if d.steps and self.written_item(out, n, d, A, C, in_application, kind):
                return
        status = d.status
        rule = d.rule
        t = d.item.type
        I = d.item.facts
        ident = d.item.id
        out.append(w.item(n, ident, t, self.heading(t, ident), status, self.result(d, status)))
        at_clauses = len(out)
        out.append("")  # the clauses, once the steps have said whether a cap bit
        steps = d.steps
        if not steps:
            out.append(self.no_trace)
        mark = len(out)
        paid = status in ("granted", "reduced")
        ok_lines = self.ok_lines
        limit_lines = self.limit_lines
        who_lines = self.who_lines
        docs_lines = self.docs_lines
        heads = self.group_heads
        append = out.append
        group = -1
        bit = False
        rid = rule.id
        # the decision-makers whose readings and notes the item shows (as `item_shapers`), gathered in the same pass
        shapers = [rid]
        add = shapers.append
        in_order = True
        for s in steps:
            k = s[0]
            g = GROUP_OF[k]
            if g != group:
                if g < group:  # steps out of the usual order (a scaling after the documents): regrouped below
                    in_order = False
                append(heads[g])
                group = g
            if k == "check":
                add(s[1].id)
                if s[1].id in self.choosing:
                    shapers += self.named(s[1], I, A, C)
                line = ok_lines.get(id(s[1])) if s[2] is True else None
            elif k == "who":
                line = who_lines.get((id(s[1]), s[2], kind))
            elif k == "amount":
                line = self.amount(s, d)
            elif k == "documents":
                add(s[1].id)
                line = docs_lines.get((id(s[1]), s[2], s[3], s[4]))
            elif k == "limit":
                add(s[1].id)
                line = limit_lines.get((id(s[1]), s[3], s[5], s[6], paid)) if not s[7] else None
            elif k == "cap":
                add(s[1].id)
                bit = bit or s[5] < s[4]
                line = self.cap(s, paid, in_application, A)
            else:
                if k == "selection":
                    add(s[1].id)
                elif k == "subject":
                    add(f"{rid}#subject")
                line = None
            append(line if line is not None else self.step_line(s, d, A, C, in_application, paid))
        if not in_order:
            self.regroup(out, mark, steps)
            bit = True  # (take the clauses from `d.cites`)
        # `d.cites` (the rule's clause, then each ground's, each cutting cap's and subject's, the documents clause)
        # only when it can differ
        if isinstance(d, RecordedItem):
            cites = d.cites
            out[at_clauses] = self.clauses(d.quoted)
        else:
            cites = d.cites if (bit or d.reasons or d.missing_documents or d.cut_by) else (rule.cites,)
            block = self.cites_cache.get(cites)
            out[at_clauses] = block if block is not None else self.clauses(cites)
        if d.grant is not None:
            self.add_grant(d.grant, in_application)
        self.item_tail(out, d, status, cites, I, A, C, in_application=in_application)
        # (kept by the ids as gathered, repeats and all: the block depends only on which ids there are)
        shaped = self.shaped(self.shapers_of(d, tuple(shapers)) if shapers else tuple(self.item_shapers(d)))
        if shaped is not None:
            out.append(shaped)
        out.append(self.item_end)

    def named(self, test: Any, I: Any, A: Any, C: Any) -> tuple[str, ...]:
        """The decision-makers "id?reading" (Labels) of the readings a check names on this item where its policy
        chooses some by a condition (`readings_when`): worked out for a decision just made, as its record states
        them for a recorded one (`named`), so a decision and its record name the same."""
        names = readings_named(test, I, A, C) if type(test) is Test else getattr(test, "named", ())
        return tuple(f"{test.id}?{r}" for r in names)

    def named_all(self, tests: tuple[Any, ...], I: Any, A: Any, C: Any) -> tuple[str, ...]:
        """`named` of each check of a generated item writer that chooses readings by a condition, one after another."""
        return tuple(n for t in tests for n in self.named(t, I, A, C))

    def shaped(self, ids: tuple[str, ...]) -> Any:
        """The readings-and-notes block of the decision-makers `ids` (kept by the ids as gathered)."""
        shaped = self.shaping_blocks.get(ids, _ABSENT)
        return self.shaping_block(ids) if shaped is _ABSENT else shaped

    def shaped_text(self, ids: tuple[str, ...]) -> str:
        """`shaped` as text: empty when there is no block (the generated item writers' path)."""
        shaped = self.shaped(ids)
        return "" if shaped is None else str(shaped)

    def shapers_of(self, d: AnyItem, base: tuple[str, ...], at: tuple[int, ...] | None = None) -> tuple[str, ...]:
        """The ids of an item's decision-makers: `base` (its rule and its steps', as gathered), each ground's, the
        caps whose ceilings a pending review shows, the standing checks that read a fact it is owed, and the engine's
        behaviours that happened to it (`behaviours`; `at`: where its cap and limit steps are, when known)."""
        ids = list(base)
        for r in d.reasons:
            ids.append(r.check)
        if d.status == "pending_review":  # its ceilings are shown
            ids += [c.id for c in d.rule.caps if c.computed is None and not c.restricted]
        for fact in d.missing_facts:  # an applicant's fact it is owed: the standing checks that read it
            ids += self.fact_checks.get(fact, ())
        if self.behaviours_named or self.rounded:
            self.behaviours(d, ids, at)
        return tuple(ids)

    def item_behaviours(self, d: AnyItem) -> list[str]:
        """For an item outside its explanation (a policy template's `shaping`), what `shapers_of` adds to the ids its
        record names: the standing checks of a fact it is owed, and its behaviours (`behaviours`), its calculation
        written first, as its explanation writes it, for whether the policy's rounding is said. Its objects live for
        this call alone: the pieces kept by them are forgotten after."""
        self.rounded = False
        try:
            for s in d.steps:
                if s[0] == "amount":
                    self.amount(s, d)
            ids: list[str] = [c for fact in d.missing_facts for c in self.fact_checks.get(fact, ())]
            self.behaviours(d, ids)
            return ids
        finally:
            self.forget()
            self.rounded = False

    def behaviours(self, d: AnyItem, ids: list[str], at: tuple[int, ...] | None = None) -> None:
        """The behaviours of the engine that happened to item `d` (engine.language.model.BEHAVIOURS, and `rounded`),
        added to `ids` as "@name" where the policy names readings or notes for them (Labels.shaping reads them): each
        read from what the item's explanation shows, so a decision and its record name the same. `at`: where its cap
        and limit steps are (a generated item writer's, the same for every item it writes), else all are looked at."""
        named = self.behaviours_named
        add = ids.append
        if self.rounded:  # its calculation said the policy's rounding (`rounding`)
            self.rounded = False
            if "@rounded" in named:
                add("@rounded")
        earlier = cut = False
        steps = d.steps
        for s in steps if at is None else [steps[i] for i in at]:  # a cap's or limit's use before it; a cap's cut
            k = s[0]
            if k == "cap":
                earlier = earlier or bool(s[3])
                cut = cut or s[5] < s[4]
            elif k == "limit":
                earlier = earlier or bool(s[3])
        found = ["@earlier_use"] if earlier else []
        status = d.status
        if status == "reduced":
            if cut:
                found.append("@reduced_by_cap")
        elif status == "refused":
            caps = self.cap_ids.get(d.rule.id, ())
            if any(r.check in caps for r in d.reasons):
                found.append("@cap_exhausted")
            if len(d.reasons) + (1 if d.missing_documents else 0) > 1:  # (missing documents are a ground of their own)
                found.append("@grounds_ordered")
            if d.missing_documents or d.missing_facts:
                found.append("@refusal_over_incomplete")
        elif status == "incomplete" and d.provisional is not None:
            found.append("@provisional")
        if d.missing_documents:
            found.append("@documents_missing")
        if d.missing_facts:
            found.append("@facts_missing")
        for b in found:
            if b in named:
                add(b)

    @staticmethod
    def add_grant(grant: Any, in_application: dict[tuple[str, Any], Decimal]) -> None:
        """Each cap's use by this item's grant, for the later items of the application (a cap line's split)."""
        for c in grant.consumes:
            if c.kind == "cap":
                key = (c.id, c.scope)
                in_application[key] = in_application.get(key, _ZERO) + c.amount

    def item_tail(
        self,
        out: list[Any],
        d: AnyItem,
        status: str,
        cites: tuple[str, ...],
        I: Any,
        A: Any,
        C: Any,
        layout: WhyLayout | None = None,
        in_application: dict[tuple[str, Any], Decimal] | None = None,
    ) -> None:
        """An item's lines after its steps, by its outcome: the grounds of a refusal, what is missing, the referral,
        the pending review (`in_application`: each cap's use by the earlier items, for its ceilings' split), and "why
        not more"."""
        w = self.w
        if status == "refused":
            # (a ceiling with no room left for a panel's amount refused it: where the room went, as a cap line says)
            if d.record.get("ceilings") if isinstance(d, RecordedItem) else d.ceilings:
                out.append(self.heads["caps"])
                out.extend(self.refused_ceilings(d, in_application))
            out.append(self.heads["reasons"])
            for i, reason in enumerate(d.reasons, 1):
                out.append(w.numbered(i, self.reason(reason)))
            if d.missing_documents:  # (a ground too, the last in R26's order: the documents the item lacks)
                out.append(w.numbered(len(d.reasons) + 1, self.missing_documents(d, cites)))
        elif status == "incomplete":
            out.append(self.heads["incomplete"])
            if d.missing_documents:
                out.append(w.line(self.missing_documents(d, cites), False, "missing_documents"))
            if d.missing_facts:
                fs = self.sep.join(self.lab.fact_label(x, d.item.type) for x in d.missing_facts)
                out.append(w.line(self.f_missing_facts(facts=fs), False, "missing_facts"))
            if d.provisional is not None:  # (said by what it waits for: documents, facts, or both)
                said = (
                    self.f_provisional_facts
                    if not d.missing_documents
                    else self.f_provisional_both
                    if d.missing_facts
                    else self.f_provisional
                )
                out.append(w.line(said(amount=self.money(d.provisional)), NOMARK, "provisional"))
        elif status == "referred":
            rule = d.rule
            to = self.lab.label(rule.referral) if rule.referral is not None else ""
            out.append(w.tail("referred", self.f_referred_line(to=to, cites=cites[0])))
        elif status == "pending_review":
            out.append(self.pending_block(d, in_application))
        if type(d) is RecordedItem and "scaling" in d.record:
            out.append(w.tail("why", self.why_scaled(d, self.why(d, I, A, C))))
        elif status in ("reduced", "refused"):
            out.append(w.tail("why", self.why(d, I, A, C, layout)))

    def tail_text(
        self,
        d: ItemDecision,
        status: str,
        cites: tuple[str, ...],
        A: Any,
        C: Any,
        layout: WhyLayout | None,
        in_application: dict[tuple[str, Any], Decimal],
    ) -> str:
        """`item_tail`'s lines as one text (the generated item writers' path: the writer's pieces are text)."""
        out: list[str] = []
        self.item_tail(out, d, status, cites, d.item.facts, A, C, layout, in_application)
        return "".join(out)

    def written_item(
        self, out: list[Any], n: int, d: ItemDecision, A: Any, C: Any, inapp: dict[tuple[str, Any], Decimal], kind: Any
    ) -> bool:
        """An item whose step sequence none of its rule's generated writers takes (`item` tries them): written by a
        new one (`_item_writer`) while its rule has fewer than `STEP_WRITERS_PER_RULE`; else False (the caller's
        loop writes it)."""
        rule = d.rule
        entry = self.step_writers.get(id(rule))
        if entry is None or entry[0] is not rule:
            if len(self.step_writers) >= MONEY_CACHE:
                self.step_writers.clear()
            entry = self.step_writers[id(rule)] = (rule, {})
        writers = entry[1]
        steps = d.steps
        if sum(map(len, list(writers.values()))) >= STEP_WRITERS_PER_RULE:  # (a copy: another thread may add a length)
            return False
        write = _item_writer(self, rule, d)
        writers.setdefault(len(steps), []).append(write)
        return bool(write(out, n, d, A, C, inapp, kind))

    # long because: one branch per trace step kind, each writing its line and keeping it when it does not
    # depend on the claim's figures
    def step_line(self, s: tuple[Any, ...], d: AnyItem, A: Any, C: Any, in_application: dict[tuple[str, Any], Decimal], paid: bool) -> Any:
        """One trace step of an item as its line piece."""
        k = s[0]
        w = self.w
        if k == "cap":
            return self.cap(s, paid, in_application, A)
        if k == "limit":
            if s[7]:  # (the earlier applications it names: this application's own line, not kept)
                return w.line(self.limit(s, paid, A.get("id")), s[6], "limit")
            key = (id(s[1]), s[3], s[5], s[6], paid)
            line = self.limit_lines.get(key)
            if line is None:
                line = self.limit_lines[key] = w.line(self.limit(s, paid), s[6], "limit")
            return line
        if k == "documents":
            line = self.docs_lines[(id(s[1]), s[2], s[3], s[4])] = w.line(self.documents(s, False), not s[3], "documents")
            return line
        if k == "who":
            line = self.who_lines[(id(s[1]), s[2], A.get("kind"))] = w.line(self.who(s[1], s[2], A.get("kind")), s[2], "who")
            return line
        if k == "amount":
            return self.amount(s, d)
        if k == "check":
            if s[1].id in self.per_item:
                return self.item_check(s, d, A, C)
            piece = w.line(self.check(s, d.item.type, d.item.facts, A, C), s[2], "check")
            if s[2] is True and not s[3]:
                self.ok_lines[id(s[1])] = piece
            return piece
        money = self.money
        if k == "parameter":
            return w.line(self.param_line(s), NOMARK, "parameter")
        if k == "selection":
            return self.selection(s)
        if k == "scaling":
            return w.line(self.scaling_step(s[1]), NOMARK, "scaling")
        return w.line(self.f_calc_subject(paid=money(s[3]), asked=money(s[4]), after=money(s[5])), NOMARK, "subject")

    def amount(self, s: tuple[Any, ...], d: AnyItem) -> Any:
        """The calculation line; a fixed or table amount has few distinct lines, kept."""
        form = s[1]
        if form.kind != "fixed" and form.kind != "table":
            return self.w.line(self.calc(s, d.rule, d.item.type), NOMARK, "amount")
        detail, value = s[2], s[3]
        D = Decimal  # (the values by their text, as `_text_key`, inline)
        key: tuple[Any, ...] | None = (
            id(form),
            d.item.type,
            str(detail) if type(detail) is D else detail,
            str(value) if type(value) is D else value,
        )
        try:
            line = self.calc_lines.get(key)
        except TypeError:
            line, key = None, None
        if line is None:
            line = self.w.line(self.calc(s, d.rule, d.item.type), NOMARK, "amount")
            if key is not None and len(self.calc_lines) < MONEY_CACHE:
                self.calc_lines[key] = line
        return line

    def regroup(self, out: list[Any], mark: int, steps: tuple[Any, ...]) -> None:
        """The step lines `out[mark:]` (each step's line, a group's head before each change of group, as `item`
        writes them in one pass) grouped by kind, the steps of a kind in their order: the lines are not written
        again."""
        lines, group, at = [], -1, mark
        for s in steps:
            g = GROUP_OF[s[0]]
            if g != group:
                at += 1  # (a head)
                group = g
            lines.append((g, out[at]))
            at += 1
        del out[mark:]
        heads = self.group_heads
        group = -1
        for g, line in sorted(lines, key=_GROUP):  # (stable: a kind's steps keep their order)
            if g != group:
                out.append(heads[g])
                group = g
            out.append(line)

    def cap(self, s: tuple[Any, ...], paid: bool, in_application: dict[tuple[str, Any], Decimal], A: Any = None) -> Any:
        cap, scope, used, asked, after, ceiling, how, earlier = s[1:9]
        # a shared cap already used: how much of it by history, how much by earlier items of this application
        split = cap.per is not None and used.quantize(CENT) != 0
        if len(s) > 9:  # a recorded decision: its own split (when it has one)
            mine = s[9] if split else None
        else:
            mine = in_application.get((cap.id, scope), Decimal(0)) if split else None
        if earlier and mine is not None:  # (a cut it names the earlier applications of: this application's own line)
            return self.cap_line(s, paid, mine, self.spent_by(earlier, A.get("id") if A is not None else None, used - mine, mine))
        # the amounts by their text (as `_text_key`, inline): a fresh Decimal's hash costs more than the line's look-up
        D = Decimal
        key = (
            id(cap),
            str(used) if type(used) is D else used,
            str(asked) if type(asked) is D else asked,
            str(after) if type(after) is D else after,
            paid,
            str(mine) if type(mine) is D else mine,
            str(ceiling) if type(ceiling) is D else ceiling,
            how if isinstance(how, tuple) else _text_key(how),
        )
        line = self.cap_lines.get(key)
        if line is not None:
            return line
        split_text = "" if mine is None else self.f_cap_split(history=self.money(used - mine), earlier=self.money(mine))
        if len(self.cap_lines) >= MONEY_CACHE:
            self.cap_lines.clear()
        line = self.cap_lines[key] = self.cap_line(s, paid, mine, split_text)
        return line

    def cap_line(self, s: tuple[Any, ...], paid: bool, mine: Decimal | None, split_text: str) -> Any:
        """A cap step's line piece (and its table row), its use before split as `split_text` says."""
        cap, _, used, asked, after, ceiling, how = s[1:8]
        money = self.money
        fmts, (says, shown) = self.cap_fmt(cap, ceiling, how)
        left = ceiling - used
        left_text = money(left if left > 0 else Decimal(0))
        u = money(used)
        a, g = money(asked), money(after)  # (each once, for the line and its row)
        if not paid:
            text = fmts[2](used=u + split_text, left=left_text, asked=a, granted=g)  # (split as a paid line's)
        elif cap.per is None:
            text = fmts[1](asked=a, granted=g)
        else:
            text = fmts[0](used=u + split_text, left=left_text, asked=a, granted=g)
        row = (says, cap.cites, shown, cap.per is None, u, split_text, left_text, a, g)
        return self.w.cap(Line(text, NOMARK, "cap"), row)

    def spent_by(self, earlier: tuple[Any, ...], applicant_id: Any, history: Decimal, mine: Decimal) -> str:
        """A cutting cap's use before the item split as `cap_split` splits it, naming the earlier applications whose
        grants used its room with what each used (2021 年度申请 PG-2021-0003 用 200,000.00 元), each with its applicant
        when it is another's than this application's."""
        money, own, other = self.money, self.f_earlier_spent, self.f_earlier_spent_other
        said = [
            own(year=y, claim=c, amount=money(n)) if a == applicant_id else other(year=y, claim=c, amount=money(n), applicant=a)
            for c, y, a, n in earlier
        ]
        return self.f_cap_split_by(history=money(history), by=self.spent_sep.join(said), earlier=money(mine))

    def limit(self, s: tuple[Any, ...], paid: bool, applicant_id: Any = None) -> str:
        _, lim, _, used, _, counted, ok, earlier = s
        fmts = self.limit_fmt(lim)
        by = self.earlier_uses(earlier, fmts, applicant_id) if earlier else None  # (the earlier applications that used it)
        if counted:  # (the same key as an earlier time: so said whether the item is paid, waits or is refused)
            line = fmts[8](used=used, by=by) if by else fmts[1](used=used)
        elif not paid and ok:
            line = fmts[7](used=used, by=by) if by else fmts[0](used=used)
        elif not ok:
            line = fmts[4](used=used, by=by) if by else fmts[2](used=used)
        else:
            line = fmts[9](used=used, after=used + 1, by=by) if by else fmts[3](used=used, after=used + 1)
        return f"{self.marks.get(ok, self.marks[None])} {line}"

    @staticmethod
    def standing_outcome(decision: Decision | RecordedDecision) -> bool | None:
        """False: refused; None: not refused, but a standing check's fact is missing or a standing document is (the
        lines marked ? or ✗ above: "申请人资格符合" under them misled); True: established."""
        if decision.standing_reasons:
            return False
        for step in decision.standing_steps:
            if (step[0] == "check" and step[2] is None) or (step[0] == "documents" and step[3]):
                return None
        return True

    def standing(self, decision: Decision | RecordedDecision, A: Any, C: Any) -> Any:
        """The applicant's standing checks, one line each; kept per outcome when no line quotes the claim's facts."""
        key = tuple([(s[0], id(s[1]), s[2], id(s[3]) if s[0] == "parameter" else s[3]) for s in decision.standing_steps])
        shown: dict[int, list[Any]] = {}
        if self.showing:  # (a check showing values: its line quotes them, and the block is this claim's alone)
            if type(decision) is RecordedDecision:  # (read from each check's record)
                for step in decision.standing_steps:
                    if step[0] == "check" and (values := self.recorded_shown(step[1])):
                        shown[id(step)] = values
            else:  # (the policy's few checks that show values, rather than every check of every claim)
                by_test = {id(test): values for test in self.showing if (values := shown_values(test, {}, A, C))}
                if by_test:
                    shown = {
                        id(step): by_test[id(step[1])] for step in decision.standing_steps if step[0] == "check" and id(step[1]) in by_test
                    }
        block = None if shown else self.standing_blocks.get(key)
        if block is not None:
            return block
        lines = []
        quotes_facts = bool(shown)
        w = self.w
        for step in decision.standing_steps:
            if step[0] == "check":
                quotes_facts = quotes_facts or (step[2] is False and bool(step[1].expression.facts))
                lines.append(w.standing_line(self.check(step, None, {}, A, C, shown.get(id(step))), step[2], "check"))
            elif step[0] == "documents":
                lines.append(w.standing_line(self.documents(step, True), not step[3], "documents"))
            elif step[0] == "parameter":
                lines.append(w.standing_line(self.param_line(step), NOMARK, "parameter"))
        block = w.block(lines)
        if not quotes_facts and len(self.standing_blocks) < MONEY_CACHE:
            self.standing_blocks[key] = block
        return block

    def reason(self, reason: Any) -> str:
        """A ground of refusal in words: `clause：what it requires` (kept per ground)."""
        return self.said(reason)[2]

    def said(self, reason: Any) -> tuple[Any, str, str]:
        """A ground (a `Reason`), its words and its line `clause：what it requires`; kept per ground object (the
        evaluator makes most grounds once per rule), bounded."""
        found = self.reason_lines.get(id(reason))
        if found is None or found[0] is not reason:
            says = self.lab.label(reason.says)
            if len(self.reason_lines) >= MONEY_CACHE:
                self.reason_lines.clear()
            found = self.reason_lines[id(reason)] = (reason, says, self.f_reason(cites=reason.cites, says=says))
        return found

    def missing_documents(self, d: AnyItem, cites: tuple[str, ...]) -> str:
        ds = self.sep.join(self.lab.docs.get(x, x) for x in d.missing_documents)
        cs: list[str] = []
        for s in d.steps:
            if s[0] == "documents" and s[3] and s[4] not in cs:
                cs.append(s[4])
        return self.f_missing_documents(docs=ds, cites=self.sep.join(cs) if cs else cites[-1])

    def why(self, d: AnyItem, I: Any, A: Any, C: Any, layout: WhyLayout | None = None) -> str:
        """ "Why not more": the caps that cut a reduced item; a refused item's main ground (its cap, limit,
        selection or check and the facts it read, or what the item would have had), then its other grounds.
        `layout`: where its steps are, from a generated item writer (the same for every item it writes)."""
        money = self.money
        label = self.lab.label
        out: list[str] = []
        steps = d.steps
        if d.status == "reduced":
            out = self.why_reduced(d, layout)
        elif d.reasons:
            r = d.reasons[0]
            check = r.check
            cap_step = limit_step = check_step = last_cap = sel_step = None
            has_amount = False
            if layout is not None:  # where the main ground's own steps are, the last cap, whether an amount was computed
                at = layout[3].get(check)
                if at is not None:
                    cap_step, check_step, limit_step = (None if i is None else steps[i] for i in at)
                last_cap = None if layout[1] is None else steps[layout[1]]
                has_amount = layout[2]
                steps = ()  # (no selection step in a laid-out sequence: nothing more to look for)
            for s in steps:  # one pass: the main ground's own step, the last cap, whether an amount was computed
                k = s[0]
                if k == "cap":
                    last_cap = s
                    if cap_step is None and s[1].id == check:
                        cap_step = s
                elif k == "check":
                    if check_step is None and s[1].id == check:
                        check_step = s
                elif k == "limit":
                    if limit_step is None and s[1].id == check:
                        limit_step = s
                elif k == "amount":
                    has_amount = True
                elif k == "selection":
                    if s[2] is not None and s[2].why in ("first", "budget") and s[1].id == check:
                        sel_step = s
            category = r.category
            # what the item would have had is said only when its main ground is its only one (R26: every ground is
            # cited): with another ground, or documents missing, meeting the main one alone pays nothing
            alone = len(d.reasons) == 1 and not d.missing_documents
            if category == "cap" and cap_step is not None:
                asked = self.asked_words(d, money(cap_step[4]))
                out.append(self.cap_fmt(cap_step[1], cap_step[6], cap_step[7])[0][5](used=money(cap_step[3]), asked=asked))
            elif category == "cap" and check in self.cap_ids.get(d.rule.id, ()):  # a decision without its trace: no room left
                out.append(self.f_why_cap_none_left(cites=r.cites))
            elif category == "limit" and limit_step is not None:
                lim = limit_step[1]
                why = self.f_why_limit_consecutive if lim.consecutive else self.f_why_limit
                out.append(why(says=self.said(r)[1], times=lim.times, unit=self.limit_unit(lim), cites=r.cites))
            elif category == "limit" and sel_step is not None and alone:
                would = last_cap[5] if last_cap is not None else d.asked
                verdict = sel_step[2]
                says = label(sel_step[1].says)
                out.append(self.f_why_selection(says=says, cites=r.cites, rank=verdict.rank, of=verdict.of, asked=money(would)))
            else:
                would = last_cap[5] if last_cap is not None else d.asked
                says = self.said(r)[1]
                if not alone:
                    out.append(self.f_why_refused_more(says=says, cites=r.cites))
                elif has_amount and would.quantize(CENT) != 0 and category == "condition":
                    # (an amount only where the applicant can meet the ground: not who may claim, a bar, the year)
                    out.append(self.f_why_refused_asked(says=says, cites=r.cites, asked=money(would)))
                else:
                    out.append(self.f_why_refused(says=says, cites=r.cites))
            if check_step is not None and check_step[1].expression.facts:
                given = self.failed_facts.get(id(check_step))
                if given is None:
                    given = self.given(check_step[1].expression.facts, d.item.type, I, A, C)
                out.extend(given[1])
            if len(d.reasons) > 1:
                out.append(self.f_why_also(reasons=self.sep.join(self.reason(x) for x in d.reasons[1:])))
        return self.sentence_sep.join(out)

    def why_reduced(self, d: AnyItem, layout: WhyLayout | None) -> list[str]:
        """A reduced item's "why not more": each cap that cut it, with its ceiling, use and room; else (no cap step: a
        decision without its trace, or a cut by its subject, the highest only) what was asked and paid (`why_cut`)."""
        money = self.money
        out: list[str] = []
        steps = d.steps
        for s in steps if layout is None else [steps[i] for i in layout[0]]:
            if s[0] == "cap" and s[5] < s[4]:
                cap, _, used, asked, after, ceiling, how = s[1:8]
                left = ceiling - used
                fmts = self.cap_fmt(cap, ceiling, how)[0]
                fmt = fmts[4] if used.quantize(CENT) == 0 else fmts[3]
                left_text = money(left if left > 0 else Decimal(0))
                out.append(fmt(used=money(used), left=left_text, asked=self.asked_words(d, money(asked)), cut=money(asked - after)))
        return out or [self.why_cut(d)]

    def asked_words(self, d: AnyItem, amount: str) -> str:
        """What a cap cut, with whose figure it is: the rule's amount (`asked_rule`), or, for an amount given from
        outside (`external:`, e.g. a review panel's), that fact's name and figure (`asked_external`): no rule set it."""
        for s in d.steps:
            if s[0] == "amount":
                if s[1].kind == "external":
                    return self.f_asked_external(source=self.lab.fact_label(s[1].source.source, d.item.type), amount=amount)
                break
        return self.f_asked_rule(amount=amount)

    def why_cut(self, d: AnyItem) -> str:
        """A reduced item's cut said from the item alone: what was asked, what is paid (before a round's scaling), and
        the clauses that cut it (those it cites besides its rule's, else its rule's: a cap of the rule's own clause)."""
        scaling = d.record.get("scaling") if type(d) is RecordedItem else None
        before = to_decimal(scaling.get("before")) if isinstance(scaling, Mapping) else None
        paid = before if before is not None else d.amount
        cites = [d.cites] if isinstance(d.cites, str) else list(d.cites)  # (a hand-edited record's one clause as a text)
        clauses = cites[1:] or cites[:1]
        return self.f_why_cut(asked=self.money(d.asked), amount=self.money(paid), cites=self.sep.join(clauses))

    # --- what only a recorded decision has: the figures the batch wrote, a round's scaling ------------------

    def summary_recorded(self, out: list[Any], d: Mapping[str, Any]) -> None:
        """The summary of a recorded decision, from its own figures (a round's scaling changed them)."""
        money = self.money
        w = self.w
        out.append(w.total(self.total_label, money(d["total"])))
        if "scaling" in d:
            sc = d["scaling"]
            out.append(self.scaling_head)
            out.append(w.summary_line(self.scaling_round(sc), "scaling_round"))
            out.append(w.summary_line(self.scaling_method(sc), "scaling_method"))
            total = self.f_scaling_total(before=money(d.get("total_before_scaling")), after=money(d["total"]))
            out.append(w.summary_line(total, "scaling_total"))
            counts = d.get("counts_by_status") or {}
            if counts.get("incomplete") or counts.get("pending_review"):  # (their figures are not the scaled ones)
                out.append(w.summary_line(str(self.cat.m["scaling_unsettled"]), "scaling_unsettled"))
        out.append(self.by_status_head)
        totals = d["totals_by_status"]
        for s, n in d["counts_by_status"].items():
            if n:
                out.append(w.summary_line(self.status_line(s, n, totals[s], totals[s] != "0.00"), s))
        if d.get("totals_by_article"):
            out.append(self.by_article_head)
            approved = self.approved_by_article(d)
            for a, v in d["totals_by_article"].items():
                # (an article the items do not map to, as a record of another version's clauses: the line without counts)
                ok = approved.get(a, 0 if v["amount"] == "0.00" else v["items"])
                line = self.article_line(a, v["items"], ok, money(v["amount"]))
                if v["provisional"] != "0.00":
                    line += self.f_article_provisional(amount=money(v["provisional"]))
                out.append(w.summary_line(line, "article"))

    def approved_by_article(self, d: Mapping[str, Any]) -> dict[str, int]:
        """A recorded decision's approved (granted or reduced) items per article, each by its rule's clause (the first
        it cites), as `totals_by_article` groups them."""
        out: dict[str, int] = {}
        for it in d.get("items") or ():
            if not isinstance(it, Mapping) or it.get("status") not in ("granted", "reduced"):
                continue
            cites = it.get("cites")
            if isinstance(cites, list) and cites and type(cites[0]) is str:
                a = self.article_of.get(cites[0], cites[0])
                out[a] = out.get(a, 0) + 1
        return out

    def scaling_round(self, sc: Mapping[str, Any]) -> str:
        """The round: its budget, the total approved, the factor, the clause on the budget."""
        money = self.money
        return self.f_scaling_round[bool(sc.get("cites"))](
            round=_given(sc, "round"),
            budget=money(sc.get("budget")),
            approved=money(sc.get("approved_total")),
            factor=_given(sc, "factor"),
            cites=sc.get("cites") or "",
        )

    def scaling_method(self, sc: Mapping[str, Any]) -> str:
        """The rounding mode and the remainder method of the record (floor and largest_remainder when not given)."""
        m = self.cat.m
        methods, modes = m["scaling_method"], m["rounding_mode"]
        mode = sc.get("mode") or "floor"
        method = sc.get("method") or "largest_remainder"
        rounded = f"{method}_rounded"
        key = rounded if mode != "floor" and rounded in methods else method
        quantum = self.money(sc.get("quantum"))
        if key in methods:
            unallocated = self.money(sc["unallocated"]) if "unallocated" in sc else ""
            return fill(methods[key], {"quantum": quantum, "mode": modes[mode] if mode in modes else mode, "unallocated": unallocated})
        return fill(m["scaling_method_other"], {"method": sc.get("method") or "", "quantum": quantum})

    def scaling_step(self, s: Mapping[str, Any]) -> str:
        """An item's scaling, citing the budget clause: worked out from its round's record when the step carries it
        (before × budget ÷ approved total = the exact share, rounded as the round was, the remainder's quantum given or
        taken), else before × factor → after. The factor is shown to six places: 250,000.00 × 0.857143 is 214,285.75,
        where the ledger paid 214,285.72 (the share 214,285.714… rounded down, and one 0.01 of the remainder)."""
        worked = self.scaling_worked(s)
        if worked is not None:
            return worked
        money = self.money
        return self.f_scaling_line[bool(s.get("cites"))](
            before=money(s.get("before")),
            factor=_given(s, "factor"),
            after=money(s.get("after")),
            cites=s.get("cites") or "",
            says=self.lab.label(s["says"]) if "says" in s else "",
        )

    def scaling_worked(self, s: Mapping[str, Any]) -> str | None:
        """`scaling_step`'s worked line from the step's figures (`rounded`: the share rounded as the round was, which
        the batch records) and its round's record; None for a step recorded without them."""
        sc = s.get("round")
        figures = [to_decimal(v) for v in (s.get("before"), s.get("rounded"), s.get("after"))]
        if not isinstance(sc, Mapping) or any(v is None for v in figures):
            return None
        before, rounded, after = (v for v in figures if v is not None)
        budget, approved = to_decimal(sc.get("budget")), to_decimal(sc.get("approved_total"))
        if budget is None or approved is None or approved <= 0:
            return None
        # the exact share to four places, cut, said so when it goes on (worked out from figures of the trace: the
        # amounts it shows, before, rounded and after, are all recorded)
        with localcontext(Context(prec=80)):
            share = before * budget / approved
            cut = share.quantize(Decimal("0.0001"), rounding=ROUND_DOWN)
        left = after - rounded
        money = self.money
        return self.f_scaling_worked[bool(s.get("cites"))](
            before=money(before),
            budget=money(budget),
            approved=money(approved),
            share=f"{cut:,}" if cut == share else self.f_scaling_share_cut(share=f"{cut:,}"),  # (a quotient: without the unit)
            rounding=self.cat.m["rounding_mode"].get(str(sc.get("mode") or "floor"), sc.get("mode")),
            quantum=money(sc.get("quantum")),
            rounded=money(rounded),
            remainder=self.f_scaling_remainder[left > 0](amount=money(abs(left)), after=money(after)) if left else "",
            cites=s.get("cites") or "",
            says=self.lab.label(s["says"]) if "says" in s else "",
        )

    def why_scaled(self, d: RecordedItem, head: str) -> str:
        """ "Why not more" of a scaled item: its own grounds, then each scaling."""
        money = self.money
        out = [head] if head else []
        for s in d.steps:
            if s[0] == "scaling":
                st = s[1]
                cites = st.get("cites")
                out.append(
                    self.f_why_scaled[bool(cites)](
                        cites=cites or "", factor=_given(st, "factor"), before=money(st.get("before")), after=money(st.get("after"))
                    )
                )
        return self.sentence_sep.join(out)
