"""One profile against one policy version: three answers per rule, every status from the one evaluator.

A profile is a claim with facts missing (what registries already hold). It is decided as a partial claim
(`parse_claim(partial=True)`): a fact the decision needs and the profile lacks makes the item `incomplete`
naming it, never false. On top of that decision the matcher does three things:

1. **Finite unknowns are tried.** An unknown yes/no or enum fact the decision asked for is filled with each of
   its values in turn and the claim decided again (a tree of real decisions, at most `MAX_LEAVES` leaves): so
   "not registered" refuses, "registered" goes on, and a table by an unknown level gives each level's amount --
   Kleene logic for free (`a or b` with `a` true never asks for `b`), and exact.
2. **Other unknowns are bounded.** Where a leaf still lacks a fact (an amount, a date, a text), the item may be
   paid anything from 0 to the upper bound of `engine.matching.ranges` (caps and history included), or refused.
3. **Items that share a cap, limit or subject are not trusted alone.** When an item of a leaf is undecided, every
   item joined to it by a shared cap, limit or subject group (transitively) may still change: its answer is
   "needs" with the range from 0 to its upper bound (coarse, sound).

Documents are not facts a registry holds: the profile is matched as if every document will be provided, and
each answer lists the documents to prepare. A rule with no item in the profile is matched on a hypothetical
item of its type with every fact unknown (its defaults aside), placed after the profile's items.

What an answer promises, for every way of filling the profile's unknown facts (tests/test_matching_properties.py):
eligible -- the decision grants (granted or reduced) an amount in [low, high], or refers the item (amount 0);
not eligible -- it refuses; needs -- anything, and if it grants, the amount is in [low, high] (high None: no
upper bound the rules state).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from engine.core.errors import ClaimError, EngineError, Problem
from engine.core.i18n import Msg, msg
from engine.deciding.claims import MAX_ITEMS, STRUCTURAL, Claim, Item, parse_claim
from engine.deciding.decision import Decision, ItemDecision, Reason
from engine.deciding.evaluator import evaluate_claim, exhausted, reached
from engine.deciding.history import Grant, Usage
from engine.language.expressions import Facts, MissingFact
from engine.language.model import Cap, CompiledPolicy, ExternalAmount, FactSpec, Limit, Rule, Test
from engine.matching.ranges import Facts3, truth, upper_bound, usage_of, used_up

MAX_LEAVES = 32  # decisions tried per profile and policy version (each leaf is one real decision)
#: other items whose missing facts an answer names (those it shares a cap, limit or subject with, in order): the
#: rest are counted (`Answer.more_items`). Named all, a profile of n items of one type made n^2 needs (200 items:
#: 199,835 of them, a 16 MB answer to a 9 KB profile), which no reader reads.
MAX_OTHER_ITEMS = 10
HYPOTHETICAL = "~"  # the id prefix of a hypothetical item (no claim's item id is checked against it here)
ELIGIBLE, NOT_ELIGIBLE, NEEDS = "eligible", "not_eligible", "needs"
_UNSTABLE_CATEGORIES = frozenset({"cap", "limit"})
_UNSTABLE_SUFFIXES = ("#subject", "#selection")
_UNDECIDED = frozenset({"incomplete", "pending_review"})
ROLES = "roles"  # the applicant fact a rule's `roles` are read from (as the evaluator reads it)
_WHO = "#who"  # the end of a who step's reason's check (`evaluator._who_reason`)
_ROLES_KEY = ("applicant", None, ROLES)


class Need(NamedTuple):
    """A fact that would decide an answer: `item_id` None for an applicant or claim fact."""

    item_id: str | None
    item_type: str | None
    fact: str  # "applicant.actually_operating", "item.official_fees_paid"


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    rule: Rule
    item_id: str | None  # the profile's item; None: a hypothetical item of the rule's type
    answer: str  # ELIGIBLE | NOT_ELIGIBLE | NEEDS
    low: Decimal
    high: Decimal | None  # None: no upper bound stated by the rules
    reasons: tuple[Reason, ...] = ()  # not eligible: why (the main reason first)
    needs: tuple[Need, ...] = ()
    documents: tuple[tuple[str, bool], ...] = ()  # (document code, certainly needed)
    referral: bool = False
    pending: bool = False  # the amount is decided by a panel (an external amount not known yet)
    more_items: int = 0  # undecided items sharing a cap, limit or subject with this one, beyond those `needs` names
    #: eligible, cut by a cap (R22): the item's decision, whose cap steps say which cap, its ceiling, what was used
    #: before and the amount before and after (the same in every way the unknown facts could be)
    reduced: ItemDecision | None = None

    @property
    def exact(self) -> bool:
        return self.high is not None and self.low == self.high


@dataclasses.dataclass(frozen=True, slots=True)
class PolicyMatch:
    """The answers of one profile against one policy version, for one funding year."""

    policy: CompiledPolicy
    funding_year: int
    answers: tuple[Answer, ...]
    evaluations: int  # real decisions run
    ignored: tuple[str, ...] = ()  # what the profile gives that this policy has no word for (see `ignored`)
    #: (path, type as written) of each item left out whose type no policy matched has (`unknown_types`): the notice
    #: asks whether it is one of this policy's types a character off (发明专利受权)
    ignored_types: tuple[tuple[str, str], ...] = ()
    #: False: the profile gave no funding year and was matched at the version's last (its answers are that year's)
    year_given: bool = True


class _Outcome(NamedTuple):
    kind: str  # granted | refused | maybe | referred
    low: Decimal
    high: Decimal | None
    reasons: tuple[Reason, ...]
    missing: tuple[Need, ...]
    pending: bool = False
    more_items: int = 0  # undecided items of its group whose facts `missing` leaves out (MAX_OTHER_ITEMS)
    reduced: ItemDecision | None = None  # a granted item a cap cut: its decision (the caps' steps say how)


_Key = tuple[str, int | None, str]  # (namespace, item index or None, fact name)


def project(
    policy: CompiledPolicy, data: Mapping[str, Any], funding_year: int | None = None, known_types: Collection[str] | None = None
) -> dict[str, Any]:
    """The profile in the policy's vocabulary: its claim, applicant and item facts the policy knows (items of
    types it has rules for), every document list filled, one hypothetical item per rule the profile has no item
    for, and the funding year when the profile gives none. An item of another type is left out (`ignored` lists
    it): a registry's record of something these measures do not support, or an item of another policy matched
    with it (`known_types`: every policy's). But an item that is no object, has no type, or whose type no policy
    has and is close to one that some policy has (invention_patent) is a slip: kept as written, for the parse to
    refuse where it stands. Such items were left out unsaid, and their place answered as if there were none."""
    claim_id = data.get("claim_id")
    given = data.get("applicant")
    applicant: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    # (a claim id, applicant or items of the wrong kind -- a number, a list, a text -- is kept as written, for the parse
    # to refuse where it stands: `"items": "abc"` was matched as a profile with no items, every rule answered on a
    # hypothetical item, and nothing said)
    out: dict[str, Any] = {"claim_id": claim_id if claim_id is not None else str(applicant.get("id", "profile"))}
    # (a fact given as null -- a registry's export of a field it has no value for -- is a fact not known)
    for name, spec in policy.claim_facts.items():
        if data.get(name) is not None:
            out[name] = data[name]
        elif spec.type == "document_list":
            out[name] = _all_documents(policy, spec)
    if funding_year is not None and data.get("funding_year") is None:
        out["funding_year"] = funding_year
    person = {k: v for k, v in applicant.items() if (k in policy.applicant_facts or k == "kind") and v is not None}
    for name, spec in policy.applicant_facts.items():
        if spec.type == "document_list" and person.get(name) is None:
            person[name] = _all_documents(policy, spec)
    out["applicant"] = person if given is None or isinstance(given, Mapping) else given
    items: list[dict[str, Any]] = []
    listed = data.get("items")
    raw_items: list[Any] = listed if isinstance(listed, list) else []
    for n in kept_items(policy, raw_items, known_types):
        raw = raw_items[n]
        items.append(_item(policy, raw) if isinstance(raw, Mapping) and raw.get("type") in policy.rules_by_type else raw)
    have = {i.get("type") for i in items if isinstance(i, Mapping)}
    for rule in policy.rules:
        if rule.item_type not in have:
            have.add(rule.item_type)
            items.append(_item(policy, {"id": HYPOTHETICAL + rule.item_type, "type": rule.item_type}))
    out["items"] = items if listed is None or isinstance(listed, list) else listed
    if "history" in data:
        out["history"] = data["history"]
    return out


#: how alike (difflib's ratio) a type must be to one a policy has to be taken for a slip of it: a letter or two off
SLIP_RATIO = 0.85


def kept_items(policy: CompiledPolicy, raw_items: Sequence[Any], known_types: Collection[str] | None) -> list[int]:
    """The places of the profile's items `project` keeps, in order: those of the policy's types, and slips -- also
    a type written as the policy's name for one of its types (the template's and the notices' words for it),
    which the parse says is a name, with its code."""
    known = policy.rules_by_type if known_types is None else known_types
    names = {_folded(t) for words in policy.item_type_labels.values() for t in (words.zh, words.en)}
    return [
        n
        for n, raw in enumerate(raw_items)
        if (isinstance(raw, Mapping) and (raw.get("type") in policy.rules_by_type or _folded(raw.get("type")) in names))
        or slipped_item(raw, known)
    ]


def _folded(text: Any) -> str | None:
    """A type or a type's name as compared: no spaces around, case folded."""
    return text.strip().casefold() if isinstance(text, str) else None


def slipped_item(raw: Any, known_types: Collection[str]) -> bool:
    """Whether a profile's item is written wrong rather than of a type these measures do not support: not an
    object, no type, or a type none of `known_types` is but one is written as a slip of it -- another case or
    separator (Invention-Patent-Grant), cut short (invention_patent), a letter or two off (invention_patent_grnat).
    A type merely like one (design_patent_grant, trademark_insurance: a registry's record of what these measures
    do not support, R9) is not: it is left out, and listed (`project`)."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("type"), str):
        return True
    written = raw["type"]
    if written in known_types:
        return False
    folded = written.strip().casefold().replace("-", "_").replace(" ", "_")
    return any(
        k == folded or (len(folded) >= 5 and k.startswith(folded)) or difflib.SequenceMatcher(None, folded, k).ratio() >= SLIP_RATIO
        for k in known_types
    )


def ignored(policy: CompiledPolicy, data: Mapping[str, Any]) -> tuple[str, ...]:
    """The paths of what the profile gives that the policy has no fact for (left out of the match, never silently:
    each record lists them) -- another policy's facts when several are matched, or a misspelt name."""
    out = [k for k in data if k not in policy.claim_facts and k not in ("claim_id", "applicant", "items", "history")]
    applicant = data.get("applicant")
    if isinstance(applicant, Mapping):
        out += [f"applicant.{k}" for k in applicant if k not in policy.applicant_facts and k != "kind"]
    items = data.get("items")
    for n, raw in enumerate(items if isinstance(items, list) else []):
        if not isinstance(raw, Mapping) or raw.get("type") not in policy.rules_by_type:
            out.append(f"items[{n}]")
        else:
            specs = policy.item_facts[raw["type"]]
            out += [f"items[{n}].{k}" for k in raw if k not in specs and k not in ("id", "type")]
    return tuple(out)


def unknown_types(data: Mapping[str, Any], known_types: Collection[str]) -> tuple[tuple[str, str], ...]:
    """(path, type as written) of each of the profile's items whose type none of `known_types` (every policy's
    matched) is: left out of every match (R9: a registry's record of what the measures do not support, such as a
    design patent; or a type's name a character off, 发明专利受权), never another matched policy's item."""
    items = data.get("items")
    return tuple(
        (f"items[{n}]", raw["type"])
        for n, raw in enumerate(items if isinstance(items, list) else [])
        if isinstance(raw, Mapping) and isinstance(raw.get("type"), str) and raw["type"] not in known_types
    )


def _item(policy: CompiledPolicy, raw: Mapping[str, Any]) -> dict[str, Any]:
    specs = policy.item_facts[raw["type"]]
    item = {k: v for k, v in raw.items() if (k in specs and v is not None) or k in ("id", "type")}
    for name, spec in specs.items():
        if spec.type == "document_list":
            item[name] = _all_documents(policy, spec)  # matched as if every document will be provided
    return item


def _all_documents(policy: CompiledPolicy, spec: FactSpec) -> list[str]:
    return list(spec.values) if spec.values else list(policy.documents)


def is_hypothetical(item_id: str) -> bool:
    return item_id.startswith(HYPOTHETICAL)


def match_claim(policy: CompiledPolicy, claim: Claim, history: Sequence[Grant] = ()) -> PolicyMatch:
    """The answers for every item of a projected, parsed profile (`project`, then `parse_claim(partial=True)`)."""
    leaves = _explore(policy, claim, history)
    bounds = _Bounds(policy, claim, usage_of([*claim.history, *history]))
    roots = _components([policy.rules_by_type[item.type] for item in claim.items])  # the same in every leaf
    per_item: list[list[_Outcome]] = [[] for _ in claim.items]
    branched: set[_Key] = set()
    for assignment, leaf, decision in leaves:
        branched.update(assignment)
        for i, outcome in enumerate(_outcomes(leaf, decision, bounds, roots)):
            per_item[i].append(outcome)
    answers = []
    for i, item in enumerate(claim.items):
        rule = policy.rules_by_type[item.type]
        keys = [k for k in branched if (k[1] is None or k[1] == i) and (k != _ROLES_KEY or _roles_matter(leaves, per_item[i]))]
        answers.append(_combine(policy, rule, claim, item, per_item[i], keys))
    _with_cuts(policy, answers, leaves, history)
    return PolicyMatch(policy, claim.funding_year, tuple(answers), len(leaves))


def _roles_matter(leaves: Sequence[tuple[dict[_Key, Any], Claim, Decision]], outcomes: Sequence[_Outcome]) -> bool:
    """Whether an item's answer differs between two leaves that differ only in the roles tried (`_roles_to_try`):
    the roles are then among the facts it needs, else they are not named for it."""
    seen: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for (assignment, _, _), o in zip(leaves, outcomes, strict=True):
        rest = tuple(sorted(((k, repr(v)) for k, v in assignment.items() if k != _ROLES_KEY), key=repr))
        result = (o.kind, o.low, o.high)
        if seen.setdefault(rest, result) != result:
            return True
    return False


#: at most this many funding years of a version's window are tried for a profile that gives none (`likely_year`)
YEARS_TRIED = 10


def likely_year(policy: CompiledPolicy, data: Mapping[str, Any], known_types: Collection[str] | None = None) -> int | None:
    """The funding year to match a profile that gives none under `policy`: the latest year of the version's window
    at which no standing check that reads the funding year is certain to fail on what the profile gives (a profile
    submitted 2022-03-15 is for 2021 where the measures say a year's application is made in the next); the latest
    year of the window when none can be told (no such check, or a window longer than the years tried). None when
    the profile's facts rule out every year of the window (submitted 2025-03-15 under a version for 2021-2023): no
    year of this version is the profile's, which R7-like windows make an error, never a refusal -- it was matched at
    the window's last year and every item refused for being applied for late. A profile that cannot be read: the
    latest year (its problems are said when it is matched)."""
    lo, hi = policy.funding_years
    if not year_checks(policy):
        return hi
    for year in range(hi, max(lo, hi - YEARS_TRIED + 1) - 1, -1):
        try:
            if year_ruled_out(policy, data, year, known_types) is None:
                return year
        except EngineError:
            return hi
    return None if hi - lo < YEARS_TRIED else hi


def year_checks(policy: CompiledPolicy) -> list[Test]:
    """The applicant's standing checks that read the funding year (a clause's "applied in the following year")."""
    return [t for t in policy.applicant_checks if "claim.funding_year" in t.expression.facts]


def year_ruled_out(policy: CompiledPolicy, data: Mapping[str, Any], year: int, known_types: Collection[str] | None = None) -> Test | None:
    """The first standing check reading the funding year that is certain to fail at `year` on what the profile
    gives (None: none is). EngineError when the profile cannot be read."""
    claim = parse_profile(policy, data, year, known_types)
    kind = claim.applicant.get("kind")
    facts = Facts3(policy, "", {}, claim.applicant, claim.claim_facts)
    applying = [t for t in year_checks(policy) if t.kinds is None or kind in t.kinds]
    return next((t for t in applying if truth(t.expression, facts) is False), None)


def parse_profile(
    policy: CompiledPolicy, data: Mapping[str, Any], funding_year: int | None = None, known_types: Collection[str] | None = None
) -> Claim:
    """The profile as a partial claim (`parse_claim(partial=True)`: a missing fact stays unknown).

    The fast way first: the facts a claim must give and the profile lacks are filled with placeholders of their
    type, the claim is parsed by the fast intake, and the placeholders are taken out again (so they are unknown,
    exactly as the slow path leaves them). Any doubt -- a placeholder cannot be made, the fast parse refuses --
    and the profile is parsed the slow way, which accepts or explains exactly as `parse_claim(partial=True)`."""
    projected = project(policy, data, funding_year, known_types)
    _check_room(projected)
    filled = _with_placeholders(policy, projected)
    if filled is not None:
        try:
            claim = parse_claim(policy, filled[0])
        except EngineError:
            claim = None
        if claim is not None:
            placeholders: dict[tuple[str, int | None], set[str]] = {}
            for namespace, index, name in filled[1]:
                where = ("item", index or 0) if namespace == "item" else (namespace, None)
                placeholders.setdefault(where, set()).add(name)
            return _defaults_unknown(policy, projected, dataclasses.replace(_without_facts(claim, placeholders), raw=projected))
    try:
        claim = parse_claim(policy, projected, partial=True)
    except EngineError as err:
        given = data.get("items")
        raise _as_given(err, kept_items(policy, given, known_types) if isinstance(given, list) else []) from None
    return _defaults_unknown(policy, projected, claim)


def _check_room(projected: Mapping[str, Any]) -> None:
    """A profile within a claim's item limit whose hypothetical items take it past: said as such. It was refused
    as having more items than it gives (995 given: "1,008 items, at most 1,000")."""
    items = projected["items"]
    hypothetical = sum(1 for i in items if isinstance(i, Mapping) and is_hypothetical(str(i.get("id", ""))))
    given = len(items) - hypothetical
    if hypothetical and given <= MAX_ITEMS < len(items):
        said = msg("match.no_room", given=f"{given:,}", hypothetical=hypothetical, most=f"{MAX_ITEMS:,}")
        raise ClaimError([Problem(said, ("items",), code="match.no_room")], msg("claim.invalid"))


def _as_given(err: EngineError, places: Sequence[int]) -> EngineError:
    """The problems of a projected profile at the paths the profile gives (`places`: the profile's place of each
    item `project` kept; the hypothetical ones come after): a problem of items[k] is said of the item, and the
    line, where it is written. It was said of the k-th item the profile gives, another item when one of another
    measures' types came before it."""
    problems = []
    for p in err.problems:
        path, message = p.path, p.message
        if len(path) >= 2 and path[0] == "items" and isinstance(path[1], int) and path[1] < len(places):
            path = ("items", places[path[1]], *path[2:])
        if isinstance(message, Msg) and message.key == "claim.item_id_used" and message.params["n"] < len(places):
            # the one message naming another item by its place: the item it names is the profile's too
            n = places[message.params["n"]]
            message = msg(message.key, **{**message.params, "n": n, "ordinal": n + 1})
        problems.append(dataclasses.replace(p, path=path, message=message))
    return type(err)(problems, err.summary)


def _defaults_unknown(policy: CompiledPolicy, projected: Mapping[str, Any], claim: Claim) -> Claim:
    """The claim with every fact the profile does not give unknown, a fact with a default too: in a claim a fact left
    out means its default (no roles, no other right holders), but a profile is only what is known, and a default
    taken as known said "not eligible" to an alliance whose roles were not given, and "eligible" to a patent whose
    holders were not. A fact whose record is authoritative (`on_record: authoritative`) keeps its default: the ledger, when given, has
    joined what is on record to the profile, and what is not on record is none."""
    applicant = projected.get("applicant")
    spaces: list[tuple[tuple[str, int | None], Mapping[str, FactSpec], Mapping[str, Any]]] = [
        (("claim", None), policy.claim_facts, projected),
        (("applicant", None), policy.applicant_facts, applicant if isinstance(applicant, Mapping) else {}),
    ]
    spaces += [
        (("item", i), policy.item_facts[item.type], raw)
        for i, (item, raw) in enumerate(zip(claim.items, projected.get("items", []), strict=False))
    ]
    defaults: dict[tuple[str, int | None], set[str]] = {}
    for where, specs, given in spaces:
        for name, spec in specs.items():
            if spec.has_default and spec.on_record != "authoritative" and name not in given and name not in STRUCTURAL:
                defaults.setdefault(where, set()).add(name)
    return _without_facts(claim, defaults)


def _without_facts(claim: Claim, names: Mapping[tuple[str, int | None], set[str]]) -> Claim:
    """The claim with the facts named per namespace (and item, by its place) taken out, so that they are unknown: as
    new facts, for a claim's own are read-only."""

    def kept(namespace: str, facts: Facts, where: tuple[str, int | None]) -> Facts:
        out = names.get(where)
        return Facts(namespace, {k: v for k, v in facts.items() if k not in out}) if out else facts

    items = tuple(
        Item(i.id, i.type, i.index, kept("item", i.facts, ("item", n))) if ("item", n) in names else i for n, i in enumerate(claim.items)
    )
    return dataclasses.replace(
        claim,
        claim_facts=kept("claim", claim.claim_facts, ("claim", None)),
        applicant=kept("applicant", claim.applicant, ("applicant", None)),
        items=items,
    )


_PLACEHOLDERS: dict[str, Any] = {
    "boolean": False,
    "money": 0,
    "integer": 0,
    "count": 0,
    "date": "2000-01-01",
    "string": "x",
    "decimal": "0",
    "percent": "0%",
}


def _placeholder(spec: FactSpec) -> Any:
    if spec.type == "enum" and spec.values:
        return spec.values[0]
    if spec.type in ("enum_list", "string_list", "date_list", "document_list"):
        return []
    return _PLACEHOLDERS.get(spec.type)


def _with_placeholders(policy: CompiledPolicy, projected: dict[str, Any]) -> tuple[dict[str, Any], list[_Key]] | None:
    """The projected profile with every required fact it lacks filled, and where; None when one cannot be."""
    added: list[_Key] = []
    out = dict(projected)
    targets: list[tuple[str, int | None, dict[str, Any], Mapping[str, FactSpec]]] = [("claim", None, out, policy.claim_facts)]
    applicant = out["applicant"] = dict(projected.get("applicant") or {})
    targets.append(("applicant", None, applicant, policy.applicant_facts))
    listed = projected.get("items", [])
    if not all(isinstance(i, Mapping) and i.get("type") in policy.item_facts for i in listed):
        return None  # (an item the parse must refuse: `project`)
    items = out["items"] = [dict(i) for i in listed]
    targets += [("item", n, it, policy.item_facts[it["type"]]) for n, it in enumerate(items)]
    for namespace, index, target, specs in targets:
        for name, spec in specs.items():
            if name in target or not spec.required or spec.has_default:
                continue
            if name in STRUCTURAL:
                return None
            value = _placeholder(spec)
            if value is None:
                return None
            target[name] = value
            added.append((namespace, index, name))
    return out, added


# --- the tree of real decisions ----------------------------------------------------------------


def _spec(policy: CompiledPolicy, claim: Claim, key: _Key) -> FactSpec | None:
    namespace, index, name = key
    if namespace == "applicant":
        return policy.applicant_facts.get(name)
    if namespace == "claim":
        return policy.claim_facts.get(name)
    if namespace != "item" or index is None:
        return None  # e.g. a dated parameter with no value for the date: nothing to try
    return policy.item_facts[claim.items[index].type].get(name)


def _values(spec: FactSpec | None) -> tuple[Any, ...]:
    if spec is None:
        return ()
    if spec.type == "boolean":
        return (True, False)
    if spec.type == "enum" and spec.values:
        return tuple(spec.values)
    return ()


def _branch(policy: CompiledPolicy, claim: Claim, decision: Decision) -> tuple[_Key, tuple[Any, ...]] | None:
    """The next unknown fact to try value by value: a yes/no or enum fact the decision asked for, the applicant's
    and the claim's first (they decide every item), then the profile's own items' in order. A hypothetical item's
    facts are never tried: the interval bound covers them. The applicant's roles, when the profile gives none and
    an item is refused only for want of one (its kind may claim it), are tried as none and as every role: a rule's
    who step reads the roles it is given, never asking for them as a missing fact."""
    roles = _roles_to_try(policy, decision)
    if roles is not None:
        return roles
    for d in decision.items:
        for fact in d.missing_facts:
            namespace, _, name = fact.partition(".")
            if namespace in ("applicant", "claim"):
                key: _Key = (namespace, None, name)
                values = _values(_spec(policy, claim, key))
                if values:
                    return key, values
    for i, d in enumerate(decision.items):
        if is_hypothetical(claim.items[i].id):
            continue
        for fact in d.missing_facts:
            namespace, _, name = fact.partition(".")
            if namespace == "item":
                key = (namespace, i, name)
                values = _values(_spec(policy, claim, key))
                if values:
                    return key, values
    return None


def _roles_to_try(policy: CompiledPolicy, decision: Decision) -> tuple[_Key, tuple[Any, ...]] | None:
    applicant = decision.claim.applicant
    spec = policy.applicant_facts.get(ROLES)
    if ROLES in applicant or spec is None or not policy.applicant_roles:
        return None
    kind = applicant.get("kind")
    for d in decision.items:
        if d.status == "refused" and d.rule.roles and kind in d.rule.kinds and any(r.check.endswith(_WHO) for r in d.reasons):
            every = frozenset(policy.applicant_roles)
            return _ROLES_KEY, (frozenset(), every if spec.type != "string_list" else tuple(sorted(every)))
    return None


def with_values(claim: Claim, assignment: Mapping[_Key, Any]) -> Claim:
    """The claim with the assigned facts filled in (no parsing: the values are of the facts' own types)."""
    if not assignment:
        return claim
    applicant, claim_facts = dict(claim.applicant), dict(claim.claim_facts)
    items = list(claim.items)
    for (namespace, index, name), value in assignment.items():
        if namespace == "applicant":
            applicant[name] = value
        elif namespace == "claim":
            claim_facts[name] = value
        else:
            assert index is not None
            old = items[index]
            items[index] = Item(old.id, old.type, old.index, Facts("item", {**old.facts, name: value}))
    return dataclasses.replace(claim, applicant=Facts("applicant", applicant), claim_facts=Facts("claim", claim_facts), items=tuple(items))


def _explore(policy: CompiledPolicy, claim: Claim, history: Sequence[Grant]) -> list[tuple[dict[_Key, Any], Claim, Decision]]:
    """The leaves of the tree: each unknown yes/no or enum fact the decision asks for tried with every value,
    while the tree stays within MAX_LEAVES leaves."""
    leaves: list[tuple[dict[_Key, Any], Claim, Decision]] = []
    stack: list[dict[_Key, Any]] = [{}]
    while stack:
        assignment = stack.pop()
        current = with_values(claim, assignment)
        decision = evaluate_claim(policy, current, history, trace=False)
        branch = _branch(policy, claim, decision)
        if branch is not None and len(leaves) + len(stack) + len(branch[1]) <= MAX_LEAVES:
            key, values = branch
            stack.extend({**assignment, key: v} for v in reversed(values))
        else:
            leaves.append((assignment, current, decision))
    return leaves


# --- one leaf: what each item's decision promises ---------------------------------------------------


def _keys_of(rule: Rule) -> set[tuple[str, str]]:
    keys = {("cap", c.id) for c in rule.caps} | {("limit", limit.id) for limit in rule.limits}
    if rule.subject is not None:
        keys.add(("subject", rule.subject.group))
    return keys


def _components(rules: Sequence[Rule]) -> list[int]:
    """Union-find of the items over shared cap, limit and subject ids: each item's component's root."""
    parent = list(range(len(rules)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple[str, str], int] = {}
    for i, rule in enumerate(rules):
        for key in _keys_of(rule):
            if key in owner:
                parent[root(i)] = root(owner[key])
            else:
                owner[key] = i
    return [root(i) for i in range(len(rules))]


def _stable(reasons: Iterable[Reason]) -> bool:
    """A refusal no other item can undo: a condition on known facts (not a cap, limit, subject or selection)."""
    return any(r.category not in _UNSTABLE_CATEGORIES and not r.check.endswith(_UNSTABLE_SUFFIXES) for r in reasons)


def _needs_of(claim: Claim, i: int, d: ItemDecision) -> tuple[Need, ...]:
    item = claim.items[i]
    out = []
    missing = list(d.missing_facts)
    if d.status == "pending_review" and isinstance(d.rule.amount, ExternalAmount):
        missing += [f for f in d.rule.amount.source.facts if f not in missing]
    for fact in missing:
        is_item = fact.startswith("item.")
        out.append(Need(item.id if is_item else None, item.type if is_item else None, fact))
    return tuple(out)


class _Bounds:
    """Upper bounds of items' amounts, each computed once per item facts: on the profile's own applicant and claim
    facts (the least known), which bound every leaf's (interval evaluation only widens with what is unknown)."""

    def __init__(self, policy: CompiledPolicy, base: Claim, usage: Usage) -> None:
        self.policy, self.base, self.usage = policy, base, usage
        self.cache: dict[tuple[int, int, tuple[tuple[str, Decimal], ...]], tuple[Decimal | None, Cap | Limit | None]] = {}
        self.truths: dict[tuple[str, int, int, int], bool | None] = {}

    def failing(self, leaf: Claim, d: ItemDecision) -> Reason | None:
        """A condition of an undecided item that fails whatever its unknown facts are (three-valued, see
        `ranges.truth`): the applicant's checks first, then the item's, as the evaluator orders them."""
        policy = self.policy
        kind = leaf.applicant.get("kind")
        facts = Facts3(policy, d.item.type, d.item.facts, leaf.applicant, leaf.claim_facts)
        applicant_level = len(policy.applicant_checks)
        for n, test in enumerate((*policy.applicant_checks, *d.rule.item_checks, *d.rule.when)):
            if test.kinds is not None and kind not in test.kinds:
                continue
            key = (test.id, 0 if n < applicant_level else id(d.item.facts), id(leaf.applicant), id(leaf.claim_facts))
            if key in self.truths:
                value = self.truths[key]
            else:
                value = self.truths[key] = truth(test.expression, facts)
            if value is False:
                return Reason(test.category, test.id, test.cites, test.says)
        return None

    def high(self, i: int, d: ItemDecision, earlier: tuple[Grant, ...] = ()) -> Decimal | None:
        """The most item i can be paid: with the history's usage, and `earlier`'s, the grants of items before it
        that are certain (R20's order: they consume their caps and limits before it is decided)."""
        return self._bound(i, d, earlier)[0]

    def used_up(self, i: int, d: ItemDecision, earlier: tuple[Grant, ...] = ()) -> Reason | None:
        """A limit or cap the history and `earlier` have used up for item i, whatever its unknown facts (it is then
        refused, as a decision refuses it), as a decision's ground; else None."""
        part = self._bound(i, d, earlier)[1]
        return None if part is None else exhausted(part) if isinstance(part, Cap) else reached(part)

    def _bound(self, i: int, d: ItemDecision, earlier: tuple[Grant, ...]) -> tuple[Decimal | None, Cap | Limit | None]:
        key = (i, id(d.item.facts), tuple((g.item_id, g.amount) for g in earlier))
        if key not in self.cache:
            usage = self.usage
            if earlier:
                usage = Usage(dict(usage.caps), {k: set(v) for k, v in usage.limits.items()}, dict(usage.subjects))
                usage.add_all(earlier)
            facts = Facts3(self.policy, d.item.type, d.item.facts, self.base.applicant, self.base.claim_facts)
            self.cache[key] = (upper_bound(self.policy, d.rule, facts, usage), used_up(self.policy, d.rule, facts, usage))
        return self.cache[key]


def _outcomes(claim: Claim, decision: Decision, bounds: _Bounds, roots: list[int]) -> list[_Outcome]:
    items = decision.items
    seeds: dict[int, set[int]] = {}
    for i, d in enumerate(items):
        if d.status in _UNDECIDED:
            seeds.setdefault(roots[i], set()).add(i)
    out = []
    #: each undecided item's missing facts, made once (an item's `others` lists those of every other undecided item
    #: of its group: made for each item anew, a profile of n items of one type cost n^2 of them per leaf)
    needs_of = {j: _needs_of(claim, j, items[j]) for group in seeds.values() for j in group}
    in_order = {root: sorted(group) for root, group in seeds.items()}
    # Items are decided in the order given, each consuming its caps and limits before the next: an undecided item
    # can change only the items after it -- unless they share a subject, whose highest item is paid whichever
    # comes first. (An item first in its group was "maybe" whenever a later one lacked a fact.)
    subjects = {roots[i] for i, d in enumerate(items) if d.rule.subject is not None}

    def bearing(i: int) -> list[int]:
        """The undecided items of i's group that can change its decision."""
        root = roots[i]
        return [j for j in in_order.get(root, ()) if j != i and (j < i or root in subjects)]

    shakes = [d.rule.selection is not None or bool(bearing(i)) for i, d in enumerate(items)]
    grant_of = {g.item_id: g for g in decision.grants}

    def earlier(i: int) -> tuple[Grant, ...]:
        """The grants of the items before i in its group that are certain: a bound of i counts them used."""
        return tuple(
            grant_of[e.item.id]
            for j, e in enumerate(items[:i])
            if roots[j] == roots[i] and not shakes[j] and e.status in ("granted", "reduced") and e.item.id in grant_of
        )

    for i, d in enumerate(items):
        shaky = shakes[i]

        def others(i: int = i) -> tuple[tuple[Need, ...], int]:
            """The missing facts of the undecided items that can change this one's decision (of the first
            MAX_OTHER_ITEMS of them), and how many more there are."""
            group = [j for j in bearing(i) if needs_of[j]]  # (one lacking no fact says nothing)
            return tuple(n for j in group[:MAX_OTHER_ITEMS] for n in needs_of[j]), max(0, len(group) - MAX_OTHER_ITEMS)

        if d.status == "referred":
            out.append(_Outcome("referred", Decimal(0), Decimal(0), (), ()))
        elif d.status in ("granted", "reduced"):
            granted = _Outcome("granted", d.amount, d.amount, (), (), reduced=d if d.status == "reduced" else None)
            if shaky:
                named, more = others()
                out.append(_Outcome("maybe", Decimal(0), bounds.high(i, d, earlier(i)), (), named, more_items=more))
            else:
                out.append(granted)
        elif d.status == "refused":
            if _stable(d.reasons) or not (shaky or d.missing_facts):
                out.append(_Outcome("refused", Decimal(0), Decimal(0), d.reasons, ()))
            elif (used := bounds.used_up(i, d, earlier(i))) is not None:
                # a limit or cap used up by history and the certain items before it: more items before it can only
                # use more of it, and what the item lacks changes nothing (it was "needs", 0 to the cap)
                out.append(_Outcome("refused", Decimal(0), Decimal(0), (used,), ()))
            else:  # a cap, limit or subject refusal with facts still unknown here or in an item it shares them with
                named, more = others()
                out.append(
                    _Outcome("maybe", Decimal(0), bounds.high(i, d, earlier(i)), (), _needs_of(claim, i, d) + named, more_items=more)
                )
        elif not is_hypothetical(d.item.id) and (failed := bounds.failing(claim, d)) is not None:
            # undecided, but a condition fails on what is known (a hypothetical item, all unknown, is not looked at)
            out.append(_Outcome("refused", Decimal(0), Decimal(0), (failed,), ()))
        elif d.status == "incomplete" and (used := bounds.used_up(i, d, earlier(i))) is not None:
            # undecided, but a cap it certainly falls under is used up, by history and the certain items before it:
            # cut to nothing whatever it lacks, it is refused (it was "needs", 0.00 at most)
            out.append(_Outcome("refused", Decimal(0), Decimal(0), (used,), ()))
        else:  # incomplete, pending review
            named, more = others()
            needs = _needs_of(claim, i, d) + named
            out.append(_Outcome("maybe", Decimal(0), bounds.high(i, d, earlier(i)), (), needs, d.status == "pending_review", more))
    return out


# --- the leaves together: one answer per item ---------------------------------------------------------


def _combine(policy: CompiledPolicy, rule: Rule, claim: Claim, item: Item, outcomes: list[_Outcome], branched: list[_Key]) -> Answer:
    kinds = {o.kind for o in outcomes}
    item_id = None if is_hypothetical(item.id) else item.id
    docs = documents(policy, rule, claim, item)
    q = policy.quantum
    outcomes = [o._replace(low=o.low.quantize(q), high=None if o.high is None else o.high.quantize(q)) for o in outcomes]
    if kinds == {"granted"}:
        least, most = min(o.low for o in outcomes), max(o.low for o in outcomes)
        cut = outcomes[0].reduced  # (its caps' words, from the traced leaves: `_with_cuts`)
        same = cut is not None and least == most and all(o.reduced is not None for o in outcomes)
        return Answer(rule, item_id, ELIGIBLE, least, most, documents=docs, reduced=cut if same else None)
    if kinds == {"referred"}:
        return Answer(rule, item_id, ELIGIBLE, Decimal(0), Decimal(0), referral=True)
    if kinds == {"refused"}:
        # the grounds every leaf gives (e.g. who may claim), else each leaf's main ground
        reasons = [r for r in outcomes[0].reasons if all(r in o.reasons for o in outcomes[1:])]
        if not reasons:
            for o in outcomes:
                for r in o.reasons[:1]:
                    if r not in reasons:
                        reasons.append(r)
        return Answer(rule, item_id, NOT_ELIGIBLE, Decimal(0), Decimal(0), reasons=tuple(reasons))
    favourable = [o for o in outcomes if o.kind != "refused"]
    low = min(o.low for o in favourable)
    highs = [o.high for o in favourable]
    high = None if any(h is None for h in highs) else max(h for h in highs if h is not None)
    needs: dict[Need, None] = {}  # (in order, each once: a list's `in` made this quadratic in the leaves' needs)
    for key in sorted(branched, key=lambda k: (k[1] is not None, k[1] or 0, k[2])):
        namespace, index, name = key
        is_item = index is not None
        needs[Need(item.id if is_item else None, item.type if is_item else None, f"{namespace}.{name}")] = None
    for o in outcomes:
        needs.update(dict.fromkeys(o.missing))
    return Answer(
        rule,
        item_id,
        NEEDS,
        low,
        high,
        needs=tuple(needs),
        documents=docs,
        referral="referred" in kinds,
        pending=any(o.pending for o in outcomes),
        more_items=max(o.more_items for o in outcomes),
    )


def _cut(d: ItemDecision) -> tuple[Any, ...]:
    """What a reduced item's cap steps say (cap, used before, asked, after, ceiling)."""
    return tuple((s[1].id, *s[3:7]) for s in d.steps if s[0] == "cap")


def _with_cuts(
    policy: CompiledPolicy, answers: list[Answer], leaves: Sequence[tuple[Any, Claim, Decision]], history: Sequence[Grant]
) -> None:
    """Each eligible answer a cap cut, given its item's traced decision (R22: which cap, its ceiling, what was used
    before, the amount before and after), when every leaf says the same of it; else none (its amount alone). The
    leaves are decided without their trace: traced again here, only for a profile with such an answer."""
    if all(a.reduced is None for a in answers):
        return
    traced = [evaluate_claim(policy, leaf, history) for _, leaf, _ in leaves]
    for i, a in enumerate(answers):
        if a.reduced is not None:
            cuts = {_cut(t.items[i]) for t in traced}
            answers[i] = dataclasses.replace(a, reduced=traced[0].items[i] if len(cuts) == 1 and () not in cuts else None)


def documents(policy: CompiledPolicy, rule: Rule, claim: Claim, item: Item) -> tuple[tuple[str, bool], ...]:
    """The documents to prepare for the item (and the applicant's proof of standing): each with whether it is
    certainly needed (False: its condition rests on a fact still unknown)."""
    needs = [*(rule.documents if rule.documents_required else ())]
    needs += [n for dc in rule.item_document_checks for n in dc.needs]
    kind = claim.applicant.get("kind")
    needs += [n for dc in policy.applicant_document_checks if dc.kinds is None or kind in dc.kinds for n in dc.needs]
    if not rule.documents_required:
        return ()
    out: list[tuple[str, bool]] = []
    for need in needs:
        certain = True
        if need.when is not None and need.when.computed:
            certain = False  # it depends on the amount computed: "if applicable"
        elif need.when is not None:
            try:
                if not need.when(item.facts, claim.applicant, claim.claim_facts):
                    continue
            except MissingFact:
                certain = False
        if all(code != need.doc for code, _ in out):
            out.append((need.doc, certain))
    return tuple(out)
