"""Fast accept, slow explain: the compiled claim checker says valid exactly when jsonschema finds no error.

`engine.deciding.claims.fast_schema_ok` answers only yes/no; parse_claim runs jsonschema (as before) only when it
says no, so every error message still comes from jsonschema. The proof is agreement on a large, varied
corpus: every claim the project ships or generates, every bad claim of test_bad_claims.py, and
systematic mutations (each value replaced by hostile values, or deleted) under both the Pinggu policy
and the fictional district.
"""

from __future__ import annotations

import copy
import json
import random
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from jsonschema import Draft202012Validator

import engine
from engine.deciding import claims as claims_mod
from engine.deciding.claims import _compile_fast, _fast_validator, _raw_problems, _schema_errors, _validator, claim_schema, fast_schema_ok
from engine.officer.casefile import load_cases

sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))
from generate import claims as generated_claims
from test_bad_claims import API_CASES
from test_bad_claims import CASES as TABLE_CASES
from test_bad_claims import _base as bad_base

#: the table of test_bad_claims.py and its issue-11 groups (negative zero, exponents, white space, surrogates, bidi, invisible)
BAD_CASES = TABLE_CASES + API_CASES

PINGGU = ROOT / "policies" / "pinggu_2020.yaml"
FICTIONAL = ROOT / "tests" / "fixtures" / "fictional_district.yaml"
FICTIONAL_CASES = ROOT / "tests" / "fixtures" / "fictional_cases.yaml"

HOSTILE: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.0,  # a float (YAML gives them): jsonschema counts 1.0 as an integer
    1.5,
    2021,
    999999999,
    1000000000,
    Decimal("1.5"),
    Decimal("-0.01"),
    Decimal("2021"),
    Decimal("2021.0"),
    Decimal("999999999999.99"),
    Decimal("1000000000000"),
    "",
    " ",
    "x",
    "x" * 100,
    "x" * 101,
    "x" * 500,
    "x" * 501,
    "x" * 600,
    "2021-02-30",
    "2021-02-28",
    "2021-2-28",
    "1e3",
    "8400.00",
    "8400.001",
    "-1",
    "0",
    "ZL202010000001.1",
    "91110117MA01ABCD1F",
    "invention",
    "national_ip_title",  # an item type: moves an item to another branch of the schema
    "science_award",  # an item type of the fictional district
    "proof_of_right",
    [],
    {},
    [1, 1],
    [1, True],
    [0, False],
    ["a", "a"],
    ["a", "b"],
    ["proof_of_right", "proof_of_right"],
    ["proof_of_right", "fee_receipts"],
    ["proof"],
    ["", "x"],
    [None],
    {"zz_unknown": 1},
    {"id": "q1", "type": "national_ip_title", "title": "advantage"},
    # issue 11: forms refused after the schema (negative zero, exponent numbers, characters) or by its patterns
    "-0.00",
    "-0",
    Decimal("-0.00"),
    Decimal("-0"),
    -0.0,
    2021.0,
    engine.loads_json("840000e-2"),  # an ExponentNumber: 8400.00 as a Decimal
    engine.loads_json("2.021e3"),
    "0.1E1",
    "840000e-2",
    "840000.00\n",
    "840000.00 ",
    " 840000.00",
    "8400\n",
    "2021-02-28\n",
    "91110117MA01ABCD1F\n",
    "x\ud800",
    "\ud800",
    "x\u200e",
    "x\u200b",
    "\ufeff",
    ["proof_of_right\n"],
    ["\ud800"],
]

DELETE = object()
ADD_UNKNOWN = object()
#: a list grown to 100 or 101 entries by repeating its first (probes maxItems 100 of text lists)
GROW = {object(): 100, object(): 101}


@pytest.fixture(scope="module")
def pinggu() -> engine.CompiledPolicy:
    return engine.load_policy(PINGGU)


@pytest.fixture(scope="module")
def fictional() -> engine.CompiledPolicy:
    return engine.load_policy(FICTIONAL)


def _jsonschema_ok(policy: engine.CompiledPolicy, data: Any) -> bool:
    """What parse_claim asked before: no error from the (split) validators it uses."""
    return next(iter(_schema_errors(policy, data)), None) is None


def _agree(policy: engine.CompiledPolicy, data: Any, full: bool = False) -> tuple[bool, bool]:
    fast = fast_schema_ok(policy, data)
    slow = _jsonschema_ok(policy, data)
    if full:  # the unsplit schema agrees too
        assert _validator(policy).is_valid(data) == slow
    return fast, slow


def _shipped_claims(policy_path: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if policy_path == PINGGU:
        out.append(engine.loads_json((ROOT / "examples" / "claim_enterprise_2021.json").read_text(encoding="utf-8")))
        for line in (ROOT / "examples" / "round_2021.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(engine.loads_json(line))
        for f in sorted((ROOT / "tests" / "golden").glob("*.claim.json")):
            out.append(engine.loads_json(f.read_text(encoding="utf-8")))
        cases = load_cases([ROOT / "policies" / "tests"])
    else:
        cases = load_cases([FICTIONAL_CASES])
    for case in cases:
        out.append(copy.deepcopy(case.claim))
        out.extend(copy.deepcopy(e) for e in case.earlier)
    return out


def _generated(n: int) -> list[dict[str, Any]]:
    # through JSON, as a claim arrives: money as text or exact Decimal, never float
    return [engine.loads_json(json.dumps(c, default=str, ensure_ascii=False)) for c in generated_claims(n, seed=20240601)]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a container or a leaf, the root excluded."""
    if path:
        yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*path, i))


def _mutated(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    """`data` with the value at `path` replaced (or deleted, or given an unknown key).

    Only the containers along the path are copied: the rest is shared, and neither checker changes it.
    """
    copied = copy.copy(data)
    key = path[0]
    if len(path) > 1:
        copied[key] = _mutated(data[key], path[1:], value)
    elif value is DELETE:
        del copied[key]
    elif value is ADD_UNKNOWN:
        copied[key] = {**data[key], "zz_unknown": "x"}
    elif any(value is g for g in GROW):
        copied[key] = [data[key][0]] * GROW[value]
    else:
        copied[key] = value
    return copied


def _units(claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Small claims to mutate: each claim's top level with its first item, then one claim per distinct item shape.

    A mutation inside one item is judged on a claim holding that item alone (jsonschema is slow; the
    checkers see the same item in the same place of the same schema).
    """
    out: list[dict[str, Any]] = []
    seen_top: set[str] = set()
    seen_item: set[str] = set()
    for c in claims:
        items = c.get("items") or [{}]
        top = {**c, "items": items[:1]}
        key = json.dumps({k: sorted(v) if isinstance(v, dict) else type(v).__name__ for k, v in top.items()}, sort_keys=True, default=str)
        if key not in seen_top:
            seen_top.add(key)
            out.append(copy.deepcopy(top))
        for it in items[1:]:
            ikey = json.dumps([it.get("type"), sorted(it)], default=str)
            if ikey not in seen_item:
                seen_item.add(ikey)
                out.append(copy.deepcopy({**c, "items": [it]}))
    return out


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _mutations(claims: list[dict[str, Any]], budget: int, seed: int) -> Iterator[tuple[tuple[Any, ...], Any, Any]]:
    """(path, new value, mutated claim): every path of every unit, each deleted, given an unknown key (objects)
    or replaced by each hostile value -- all of them, or a deterministic sample of `budget`."""
    units = _units(claims)
    everything = []
    for u, data in enumerate(units):
        for path in _paths(data):
            changes: list[Any] = [DELETE, *range(len(HOSTILE))]
            if isinstance(_at(data, path), dict):
                changes.append(ADD_UNKNOWN)
            if isinstance(_at(data, path), list) and _at(data, path):
                changes.extend(GROW)
            everything.extend((u, path, v) for v in changes)
    chosen = everything if len(everything) <= budget else random.Random(seed).sample(everything, budget)
    for u, path, v in chosen:
        value = HOSTILE[v] if isinstance(v, int) else v
        yield path, value, _mutated(units[u], path, value)


# --- the checker is in use, and covers the whole schema ---------------------------------------------


def _keywords(schema: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        for k, v in schema.items():
            found.add(k)
            if k in ("properties", "$defs"):
                for sub in v.values():
                    found |= _keywords(sub)
            elif k not in ("enum", "required", "const", "description", "title"):
                found |= _keywords(v)
    elif isinstance(schema, list):
        for v in schema:
            found |= _keywords(v)
    return found


@pytest.mark.parametrize("path", [PINGGU, FICTIONAL], ids=["pinggu", "fictional"])
def test_the_fast_checker_compiles_for_both_policies(path: Path) -> None:
    policy = engine.load_policy(path)
    used = _keywords(claim_schema(policy))
    assert used <= claims_mod._FAST_KEYWORDS, used - claims_mod._FAST_KEYWORDS
    # the keywords the generated schema really uses (fact minimum/maximum of the policy are checked after the schema)
    assert {"type", "properties", "required", "additionalProperties", "enum", "pattern", "format", "minimum", "maximum"} <= used
    assert {"minLength", "maxLength", "items", "uniqueItems", "maxItems", "minItems", "$ref", "allOf", "if", "then", "const"} <= used
    assert _fast_validator(policy) is not None
    assert _validator(policy).format_checker is not None  # so `format: date` is checked, and the fast checker checks it


@pytest.mark.parametrize(
    "schema",
    [
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "oneOf": [{"type": "string"}]},
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "properties": {"a": {"multipleOf": 2}}},
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "patternProperties": {"^a": {}}},
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "items": {"type": "integer"}, "uniqueItems": True},
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "enum": [1, "a"]},
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": "https://elsewhere.invalid/x.json"},
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "if": {"type": "string"}, "then": {}, "else": {}},
        {"$schema": "http://json-schema.org/draft-07/schema#", "type": "string"},
        {"type": "string"},  # no $schema: refuse rather than assume
    ],
)
def test_an_unknown_keyword_makes_the_compiler_refuse(schema: dict[str, Any]) -> None:
    assert _compile_fast(Draft202012Validator(schema)) is None


def test_without_the_fast_checker_parse_claim_uses_jsonschema_alone(pinggu: engine.CompiledPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    data = engine.loads_json((ROOT / "examples" / "claim_enterprise_2021.json").read_text(encoding="utf-8"))
    expected = engine.parse_claim(pinggu, data)
    bad = {**data, "claim_id": 5}
    with pytest.raises(engine.ClaimError) as before:
        engine.parse_claim(pinggu, bad)
    monkeypatch.setattr(claims_mod, "_fast_validator", lambda policy: None)
    assert fast_schema_ok(pinggu, data) is False
    assert engine.parse_claim(pinggu, data) == expected
    with pytest.raises(engine.ClaimError) as after:
        engine.parse_claim(pinggu, bad)
    assert after.value.problems == before.value.problems


# --- jsonschema runs only to explain ------------------------------------------------------------------


def test_valid_claims_never_reach_jsonschema(pinggu: engine.CompiledPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    original = Draft202012Validator.iter_errors

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Draft202012Validator, "iter_errors", counting)
    valid = _generated(600)
    for data in valid:
        engine.parse_claim(pinggu, data)
    assert len(valid) > 40
    assert calls == 0
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim(pinggu, {**valid[0], "funding_year": "2021"})
    assert calls > 0  # a bad claim is explained by jsonschema, as before
    assert [p.message for p in caught.value.problems] == ["'2021' is a number written in quotes, as a text"]


def test_bad_claim_errors_are_jsonschemas_own(pinggu: engine.CompiledPolicy) -> None:
    """For every bad claim of test_bad_claims.py, parse_claim reports exactly schema_problems (when the schema is at fault)."""
    for _group, _label, change, _path, _words in BAD_CASES:
        data = change(bad_base())
        if not isinstance(data, dict) or _raw_problems(data):
            continue
        schema = claims_mod.schema_problems(pinggu, data)
        if not schema:
            continue
        with pytest.raises(engine.ClaimError) as caught:
            engine.parse_claim(pinggu, data)
        assert [(p.path, p.message, p.expected, p.code) for p in caught.value.problems] == [
            (p.path, p.message, p.expected, p.code) for p in schema
        ]


# --- agreement ----------------------------------------------------------------------------------------


def test_agreement_on_every_shipped_and_generated_claim(pinggu: engine.CompiledPolicy, fictional: engine.CompiledPolicy) -> None:
    valid = 0
    for policy, path in ((pinggu, PINGGU), (fictional, FICTIONAL)):
        shipped = _shipped_claims(path)
        corpus = shipped + (_generated(20_000) if path == PINGGU else [])  # about 2,000 generated claims
        assert len(corpus) > (2000 if path == PINGGU else 3)
        for n, data in enumerate(corpus):
            fast, slow = _agree(policy, data, full=n < len(shipped) or n % 25 == 0)
            assert fast == slow, json.dumps(data, default=str, ensure_ascii=False)[:500]
            valid += slow
    assert valid > 1000  # the corpus is mostly valid claims: the checker must accept them all


def test_agreement_on_every_bad_claim_of_the_table(pinggu: engine.CompiledPolicy) -> None:
    rejected = 0
    for group, label, change, _path, _words in BAD_CASES:
        data = change(bad_base())
        if not isinstance(data, dict) or _raw_problems(data):
            continue
        fast, slow = _agree(pinggu, data, full=True)
        assert fast == slow, (group, label)
        rejected += not slow
    assert rejected > 30


@pytest.mark.parametrize(("which", "budget"), [("pinggu", 12_000), ("fictional", 1_000_000)])
def test_agreement_on_systematic_mutations(
    which: str, budget: int, pinggu: engine.CompiledPolicy, fictional: engine.CompiledPolicy
) -> None:
    policy, path = (pinggu, PINGGU) if which == "pinggu" else (fictional, FICTIONAL)
    base = _shipped_claims(path)
    if which == "pinggu":
        base += _generated(300)
    base = [c for c in base if _jsonschema_ok(policy, c)]
    counts = {True: 0, False: 0}
    for where, value, data in _mutations(base, budget, seed=7):
        fast, slow = _agree(policy, data)
        assert fast == slow, (where, value if value is not DELETE else "deleted")
        counts[slow] += 1
    # both answers occur often: the mutations probe the edges, not just the obvious failures
    total = counts[True] + counts[False]
    assert total > (10_000 if which == "pinggu" else 3000)
    assert counts[True] > total // 20 and counts[False] > total // 3, counts


# --- the raw bounds: a quick walk for clean data, the full walk (with paths) for anything else --------


class _OtherMapping(dict):  # type: ignore[type-arg]
    pass


class _Text(str):
    pass


def _nested(depth: int, leaf: Any = "x", dicts: bool = False) -> Any:
    value: Any = leaf
    for _ in range(depth):
        value = {"k": value} if dicts else [value]
    return value


#: plain JSON types only (dict, list, str, int, bool, None, Decimal): the quick walk answers exactly
RAW_EXACT: list[Any] = [
    _nested(19),
    _nested(20),
    _nested(21),
    _nested(20, dicts=True),
    _nested(21, dicts=True),
    _nested(20, leaf=[]),
    _nested(21, leaf=[]),
    _nested(20, leaf={}, dicts=True),
    _nested(21, leaf={}, dicts=True),
    _nested(20, leaf=10**18 + 1),
    _nested(20, leaf=Decimal("NaN"), dicts=True),
    {"a": _nested(19)},
    {"a": _nested(20)},
    ["x"] * (claims_mod.MAX_CLAIM_VALUES - 2),
    ["x"] * (claims_mod.MAX_CLAIM_VALUES - 1),
    ["x"] * claims_mod.MAX_CLAIM_VALUES,
    10**18,
    -(10**18),
    10**18 + 1,
    -(10**18) - 1,
    Decimal("NaN"),
    Decimal("Infinity"),
    Decimal("-Infinity"),
    Decimal("1E+30"),
    Decimal("-0"),
    Decimal("-0.00"),
    Decimal("0.00"),
    {"a\u202e": Decimal("-0")},
    {"\ud800": "x"},
]
#: anything else: the quick walk may pass it to the full walk, but never passes what the full walk refuses
RAW_ODD: list[Any] = [
    float("inf"),
    float("nan"),
    1.5,
    (1, 2),
    ((1,) * 10, [float("nan")]),
    {1: "x"},
    {("a",): "x"},
    {_Text("a"): "x"},
    _Text("a"),
    _OtherMapping(a=1),
    _OtherMapping(a=float("inf")),
    {"a"},
    b"x",
    object(),
    -0.0,
    engine.loads_json("840000e-2"),
    {"a": engine.loads_json("1e3")},
]


def test_the_quick_raw_walk_passes_only_what_the_full_walk_passes(pinggu: engine.CompiledPolicy) -> None:
    """`_raw_clean(d)` is True exactly when `_raw_problems(d)` is empty, for plain JSON data; for anything
    unusual it may say False (the full walk then decides), never True when the full walk finds a problem."""
    corpus = _shipped_claims(PINGGU) + _generated(3000)
    base = corpus[0]
    for data in corpus:
        assert claims_mod._raw_clean(data) is True
        assert _raw_problems(data) == []
    for value in RAW_EXACT + RAW_ODD:
        big = isinstance(value, list) and len(value) > 1000  # the count bound: exact at the top level
        for data in (value,) if big else (value, {**base, "zz": value}, {**base, "applicant": {**base["applicant"], "x": [value]}}):
            clean, problems = claims_mod._raw_clean(data), _raw_problems(data)
            assert not (clean and problems), repr(value)[:80]
            if any(value is v for v in RAW_EXACT):
                assert clean == (not problems), repr(value)[:80]
