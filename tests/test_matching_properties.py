"""Matching is sound: for random profiles and random completions of their unknown facts, the real decision agrees.

A profile is an officer's case (a complete claim of the Pinggu policy, the fictional district or one of the
localities' policies) with a random subset of its facts removed. The match is run once; then random completions
fill every fact the profile leaves unknown (the removed ones, and every fact of the hypothetical items the match
adds for rules the profile has no item for) -- with the original value or any value of the fact's type, small
pools for identifiers so that caps and limits are shared -- and the real decision (`evaluate_claim`, the same
history) is run on each. For every item:

* eligible: the decision grants (granted or reduced) an amount in [low, high], or refers it;
* not eligible: the decision refuses it;
* needs: if the decision grants it, the amount is in [low, high] (high None: any amount).

`COMPLETIONS` counts the completions run (printed at the end of the module; the notes quote a run).
Runs are short by default; raise HYPOTHESIS_MAX_EXAMPLES for a longer run.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.core.errors import ClaimError
from engine.deciding.claims import STRUCTURAL, parse_claim
from engine.deciding.evaluator import evaluate_claim
from engine.deciding.history import Grant
from engine.deciding.ready import load_policy
from engine.language.model import CompiledPolicy, FactSpec
from engine.matching.matcher import ELIGIBLE, NEEDS, NOT_ELIGIBLE, match_claim, parse_profile, project
from engine.officer.casefile import Case, load_cases

EXAMPLES = int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
COMPLETIONS_PER_PROFILE = 12
COUNT = {"profiles": 0, "tried": 0, "completions": 0, "items": 0}

FIXTURES = ROOT / "tests" / "fixtures"
SUITES: dict[str, tuple[Path, list[Path]]] = {
    "pinggu": (ROOT / "policies" / "pinggu_2020.yaml", sorted((ROOT / "policies" / "tests").glob("*.yaml"))),
    "fictional": (FIXTURES / "fictional_district.yaml", [FIXTURES / "fictional_cases.yaml"]),
    **{
        p.stem: (p, [p.with_suffix(".cases.yaml")])
        for p in sorted((FIXTURES / "localities").glob("*.yaml"))
        if not p.name.endswith(".cases.yaml") and p.with_suffix(".cases.yaml").exists()
    },
}
_LOADED: dict[str, tuple[CompiledPolicy, list[Case]]] = {}


def suite(name: str) -> tuple[CompiledPolicy, list[Case]]:
    if name not in _LOADED:
        path, case_files = SUITES[name]
        _LOADED[name] = (load_policy(path), [c for c in load_cases(case_files) if not c.round])
    return _LOADED[name]


def history_of(policy: CompiledPolicy, case: Case) -> tuple[Grant, ...]:
    grants: tuple[Grant, ...] = ()
    for earlier in case.earlier:
        try:
            grants += evaluate_claim(policy, parse_claim(policy, copy.deepcopy(earlier)), grants, trace=False).grants
        except Exception:
            return ()
    return grants


def random_value(spec: FactSpec, rng: random.Random, year: int, original: Any, pools: dict[str, list[Any]]) -> Any:
    """A value of the fact's type: the original half of the time, else anything the claim schema accepts."""
    if original is not None and rng.random() < 0.4:
        return copy.deepcopy(original)
    t = spec.type
    if t == "boolean":
        return rng.random() < 0.5
    if t == "enum":
        return rng.choice(list(spec.values or ()))
    if t in ("enum_list", "document_list"):
        values = list(spec.values or ())
        return rng.sample(values, rng.randint(0, len(values))) if t == "enum_list" else values
    if t in ("money", "integer", "count", "decimal", "percent"):
        lo = spec.minimum if spec.minimum is not None else Decimal(0)
        hi = spec.maximum if spec.maximum is not None else Decimal(5_000_000)
        if t in ("integer", "count"):
            return rng.choice([int(lo), int(lo) + 1, rng.randint(int(lo), int(min(hi, lo + 30)))])
        if t == "percent":
            return f"{rng.choice(['0', '1', '2.5', '3.45', '4.8', '10', '50'])}%"
        places = spec.places if t == "decimal" and spec.places is not None else 2
        value = Decimal(rng.choice([0, 1, rng.randint(0, 100), rng.randint(0, 100_000), rng.randint(0, 5_000_000)]))
        value = min(max(value + Decimal(rng.randint(0, 99)) / 100, lo), hi)
        return str(value.quantize(Decimal(1).scaleb(-places)))
    if t == "date":
        return (dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(-200, 560))).isoformat()
    if t == "date_list":
        return rng.choice([[], [(dt.date(year - 3, 6, 1) + dt.timedelta(days=rng.randint(0, 2000))).isoformat()]])
    if t == "string_list":
        return rng.choice([[], [pools["name"][0]], [pools["name"][0], "其他权利人"], ["其他权利人"]])
    if t == "identifier":  # (a number of the fact's form, check character and all: one the cases give)
        return rng.choice(pools.get(spec.name) or pools["id"])
    return rng.choice(["K1", "K2", "K3"])  # strings: small pools, so that limits and caps are shared


def identifier_pools(cases: list[Case]) -> dict[str, list[Any]]:
    """Every identifier the cases' items give, by fact name: valid values to fill an unknown one with (the applicant's
    id filled a patent number, which the claim refused as a number of no form: 9 completions of 3,516 were run)."""
    out: dict[str, list[Any]] = {}
    for case in cases:
        for it in case.claim.get("items", []):
            for name, value in it.items():
                if name not in STRUCTURAL and isinstance(value, str) and value not in out.setdefault(name, []):
                    out[name].append(value)
    return out


def make_profile(policy: CompiledPolicy, case: Case, rng: random.Random) -> tuple[dict[str, Any], dict[tuple[Any, ...], Any]]:
    """The case's claim with random facts removed; and what was removed (path -> original value)."""
    data = copy.deepcopy(case.claim)
    data.pop("history", None)
    removed: dict[tuple[Any, ...], Any] = {}
    share = rng.choice([0.1, 0.3, 0.6])
    for name in list(data):
        if name in policy.claim_facts and name not in STRUCTURAL and rng.random() < share:
            removed[("claim", name)] = data.pop(name)
    for name in list(data["applicant"]):
        if name in policy.applicant_facts and name not in STRUCTURAL and rng.random() < share:
            removed[("applicant", name)] = data["applicant"].pop(name)
    for i, it in enumerate(data["items"]):
        for name in list(it):
            if name not in STRUCTURAL and rng.random() < share:
                removed[("item", i, name)] = it.pop(name)
    return data, removed


def unknown(spec: FactSpec) -> bool:
    """Whether a fact a profile leaves out is unknown to the match: every fact, one with a default too, but one whose
    record the ledger keeps with authority (its default: nothing on record)."""
    return not spec.has_default or spec.on_record != "authoritative"


def complete(
    policy: CompiledPolicy, profile: dict[str, Any], removed: dict[Any, Any], rng: random.Random, identifiers: dict[str, list[Any]]
) -> dict[str, Any]:
    """Every unknown fact of the projected profile filled (a fact with a default too: the match does not take it)."""
    data = copy.deepcopy(profile)
    year = data["funding_year"]
    pools = {**identifiers, "name": [data["applicant"].get("name", "甲")], "id": [data["applicant"]["id"]]}
    for name, spec in policy.claim_facts.items():
        if name not in data and unknown(spec):
            data[name] = random_value(spec, rng, year, removed.get(("claim", name)), pools)
    for name, spec in policy.applicant_facts.items():
        if name not in data["applicant"] and unknown(spec):
            data["applicant"][name] = random_value(spec, rng, year, removed.get(("applicant", name)), pools)
    pools["name"] = [data["applicant"].get("name", "甲")]
    for i, it in enumerate(data["items"]):
        for name, spec in policy.item_facts[it["type"]].items():
            if name not in it and unknown(spec) and name not in STRUCTURAL:
                it[name] = random_value(spec, rng, year, removed.get(("item", i, name)), pools)
    return data


def check_sound(policy: CompiledPolicy, case: Case, seed: int, identifiers: dict[str, list[Any]]) -> None:
    rng = random.Random(seed)
    profile, removed = make_profile(policy, case, rng)
    history = history_of(policy, case)
    if not policy.covers(profile["funding_year"]):
        return  # a case of another version of the measures
    try:
        parsed = parse_profile(policy, profile)
    except Exception:
        return
    match = match_claim(policy, parsed, history)
    projected = project(policy, profile)
    COUNT["profiles"] += 1
    for _ in range(COMPLETIONS_PER_PROFILE):
        data = complete(policy, projected, removed, rng, identifiers)
        COUNT["tried"] += 1
        try:
            claim = parse_claim(policy, data)
        except ClaimError:
            continue
        decision = evaluate_claim(policy, claim, history, trace=False)
        COUNT["completions"] += 1
        for answer, d in zip(match.answers, decision.items, strict=True):
            COUNT["items"] += 1
            where = f"{policy.id} case {case.name!r} seed {seed} item {d.item.id}: {answer.answer} [{answer.low}, {answer.high}] vs {d.status} {d.amount}"
            granted = d.status in ("granted", "reduced")
            in_range = answer.low <= d.amount and (answer.high is None or d.amount <= answer.high)
            if answer.answer == ELIGIBLE:
                assert (granted and in_range) or (answer.referral and d.status == "referred"), where
            elif answer.answer == NOT_ELIGIBLE:
                assert d.status == "refused", where
            else:
                assert answer.answer == NEEDS
                assert not granted or in_range, where


@pytest.mark.parametrize("name", sorted(SUITES))
@SETTINGS
@given(data=st.data())
def test_match_is_sound_for_every_completion(name: str, data: st.DataObject) -> None:
    policy, cases = suite(name)
    if not cases:
        return
    case = cases[data.draw(st.integers(0, len(cases) - 1), label="case")]
    check_sound(policy, case, data.draw(st.integers(0, 2**32 - 1), label="seed"), identifier_pools(cases))


def test_zz_completions_were_run() -> None:
    """Runs after the property tests in this module (alphabetical within the file's order): they ran completions."""
    print(
        f"\nmatching soundness: {COUNT['profiles']} profiles, {COUNT['completions']} completions of {COUNT['tried']} "
        f"made (the rest not valid claims), {COUNT['items']} item checks"
    )
    if COUNT["profiles"]:  # (most completions must be claims: a check that skips them all proves nothing)
        assert COUNT["completions"] >= COUNT["tried"] // 2, COUNT
