"""Round selection (a rule's `selection:`): which of a round's eligible items are paid.

"每年奖励不超过120家，按初次发证日期先后排序", "授权量前10名", "按名次在年度资金内依次安排": a rule's
selection ranks the eligible items of one round -- those decided `granted` or `reduced` when every application
of the round is decided on its own -- within each `per` scope, by its `order` keys (first key first, each
ascending unless `descending`; final ties: the claim's place in the round, then the item id). In rank order an
item is selected while it is among the `first` N and its amount fits what is left of the `budget`; the first
item that does not fit ends the selection. Everything else is refused (category `limit`) with a reason naming
the selection and the item's rank.

A round is decided twice (see `engine.records.batch`): once on its own to rank, then for good with the
verdicts (`evaluate_claim(..., selection=...)`), so an unselected item consumes no cap or limit.
Deterministic: the same round gives the same verdicts; the work is one sort per scope (n log n).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.core.i18n import msg, tr
from engine.core.quantities import format_money
from engine.deciding.claims import Claim
from engine.deciding.decision import Reason
from engine.language.expressions import MissingFact
from engine.language.model import CompiledPolicy, Selection, Text


@dataclass(frozen=True, slots=True)
class Verdict:
    """An item's place in its round's selection: rank `rank` of `of` ranked in its scope; `why` it was not
    selected ("first": beyond the N places, "budget": the budget was spent before it, "unranked": it was not
    eligible when the round was ranked, so it has no place -- rank and of are 0; "" when selected)."""

    selection: Selection
    rank: int
    of: int
    why: str
    reason: Reason | None  # the refusal when not selected

    @property
    def selected(self) -> bool:
        return not self.why


@dataclass(frozen=True, slots=True)
class _Candidate:
    keys: tuple[Any, ...]
    seq: int
    claim_id: str
    item_id: str
    amount: Decimal


def sortable(value: Any) -> tuple[Any, ...]:
    """A ranking key of any fact value, comparable with any other: none first, then yes/no, numbers, dates
    and text (a number never meets a date in one ranking unless the policy mixes them)."""
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | Decimal):
        return (2, Decimal(value))
    if isinstance(value, _dt.date):
        return (3, value.isoformat())
    return (4, str(value))


class RoundSelection:
    """The eligible items of a round's selection rules, collected claim by claim, then ranked (`verdicts`)."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, str, tuple[Any, ...]], tuple[Selection, list[_Candidate]]] = {}
        self.seq = 0

    def add(self, policy: CompiledPolicy, claim: Claim, items: Mapping[str, tuple[str, Decimal]], round_label: str) -> None:
        """One claim of the round, in round order: `items`, item id -> (status, amount) as decided on its own."""
        self.seq += 1
        A, C = claim.applicant, claim.claim_facts
        for item in claim.items:
            rule = policy.rules_by_type.get(item.type)
            got = items.get(item.id)
            if rule is None or rule.selection is None or got is None or got[0] not in ("granted", "reduced"):
                continue
            sel = rule.selection
            try:
                scope = sel.scope(item.facts, A, C)
                keys = tuple(sortable(k.by(item.facts, A, C)) for k in sel.order)
            except MissingFact:  # (a granted item has every fact its rule reads: the ranking keys included)
                continue
            group = self.groups.setdefault((round_label, sel.id, scope), (sel, []))
            group[1].append(_Candidate(keys, self.seq, claim.claim_id, item.id, got[1]))

    def verdicts(self) -> dict[str, dict[str, Verdict]]:
        """claim id -> item id -> its verdict, for every ranked item."""
        out: dict[str, dict[str, Verdict]] = {}
        for sel, candidates in self.groups.values():
            for c, verdict in rank(sel, candidates):
                out.setdefault(c.claim_id, {})[c.item_id] = verdict
        return out


def claim_verdicts(policy: CompiledPolicy, claim: Claim, verdicts: Mapping[str, Mapping[str, Verdict]]) -> dict[str, Verdict]:
    """A claim's items' verdicts in its round: those ranked, and "unranked" for every other item of a selection
    rule (one that was not eligible when the round was ranked cannot take a place afterwards: refused if it would
    be paid now, e.g. because a cap an unselected item had used is free again)."""
    out = dict(verdicts.get(claim.claim_id, {}))
    for item in claim.items:
        rule = policy.rules_by_type.get(item.type)
        if rule is not None and rule.selection is not None and item.id not in out:
            out[item.id] = _unranked(rule.selection)
    return out


def _unranked(sel: Selection) -> Verdict:
    return Verdict(sel, 0, 0, "unranked", Reason("limit", sel.id, sel.cites, _both("claim.selection.unranked", sel)))


def rank(sel: Selection, candidates: list[_Candidate]) -> list[tuple[_Candidate, Verdict]]:
    """The candidates of one scope in rank order, each with its verdict."""
    ordered = sorted(candidates, key=lambda c: (c.seq, c.item_id))  # the final ties
    for k in reversed(range(len(sel.order))):  # stable sorts, least significant key first
        ordered.sort(key=lambda c, k=k: c.keys[k], reverse=sel.order[k].descending)  # type: ignore[misc]
    n = len(ordered)
    spent = Decimal(0)
    stopped = False
    out = []
    for i, c in enumerate(ordered, 1):
        why = ""
        if sel.first is not None and i > sel.first:
            why = "first"
        elif sel.budget is not None and (stopped or spent + c.amount > sel.budget):
            why, stopped = "budget", True
        else:
            spent += c.amount
        out.append((c, Verdict(sel, i, n, why, _reason(sel, i, n, why) if why else None)))
    return out


def _reason(sel: Selection, i: int, n: int, why: str) -> Reason:
    if why == "first":
        return Reason("limit", sel.id, sel.cites, _both("claim.selection.first", sel, i=i, n=n, places=sel.first))
    budget = format_money(sel.budget or Decimal(0))
    return Reason("limit", sel.id, sel.cites, _both("claim.selection.budget", sel, i=i, n=n, budget=budget))


def _both(key: str, sel: Selection, **values: Any) -> Text:
    """A verdict's reason in Chinese and in English (a decision records both), with the selection's own words."""
    return Text(lookup_in(key, "zh", says=sel.says.zh, **values), lookup_in(key, "en", says=sel.says.en, **values))


def lookup_in(key: str, lang: str, **values: Any) -> str:
    """The message `key` in `lang`."""
    return tr(msg(key, **values), lang)
