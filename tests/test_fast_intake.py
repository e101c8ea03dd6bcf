"""Fast claim intake (msgspec, issue 14 points 2a and 3): it only ever accepts, and only what today's path accepts.

`engine.parse_claim_json(policy, text)` and `parse_claim(policy, data)` first try the policy's compiled
intake (`claims._intake`: msgspec types built from the claim vocabulary, then exact conversion). It answers
a Claim or None; on None today's path (jsonschema + FactConverter) runs and accepts or explains exactly as
before. The danger is a fast path accepting what today's path refuses, or accepting with other values. So
every claim below is put to both, and:

* when the fast path accepts, today's path accepts too, with equal facts of the same types (Decimal exact);
* `parse_claim_json` gives today's answer: the same Claim, or the same problems (path, message, expected).

The corpus: the bad-claims table and groups of test_bad_claims.py, the typed-fact claims of
test_typed_facts.py with hostile values in each fact, the claims of every fixture *.cases.yaml and the
policy's own cases, generated claims with systematic mutations, and JSON texts with what only a text can
hold (repeated keys, -0, exponents, escapes, white space between values).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import pickle
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from hypothesis import given
from hypothesis import strategies as st

import engine
from engine.deciding import claims as claims_mod
from engine.deciding.claims import ExponentNumber, parse_claim, parse_claim_json
from engine.language.expressions import Facts, MissingFact
from engine.officer.casefile import load_cases

sys.path.insert(0, str(ROOT / "tests"))
from test_bad_claims import API_CASES
from test_bad_claims import CASES as TABLE_CASES
from test_bad_claims import _base as bad_base
from test_claim_fast_validation import HOSTILE, _generated, _mutations, _shipped_claims
from test_properties import SETTINGS
from test_properties import claims as claim_strategy
from test_typed_facts import claim as typed_claim
from test_typed_facts import grant as typed_grant
from test_typed_facts import loan as typed_loan
from test_typed_facts import typed_policy

PINGGU = ROOT / "policies" / "pinggu_2020.yaml"
FICTIONAL = ROOT / "tests" / "fixtures" / "fictional_district.yaml"


@pytest.fixture(scope="module")
def pinggu() -> engine.CompiledPolicy:
    return engine.load_policy(PINGGU)


# --- the two paths ----------------------------------------------------------------------------------


def _slow(fn: Callable[[], Any]) -> Any:
    """Run `fn` with the fast intake switched off: today's path alone."""
    saved = claims_mod._intake
    claims_mod._intake = lambda policy: None  # type: ignore[assignment]
    try:
        return fn()
    finally:
        claims_mod._intake = saved


def _outcome(fn: Callable[[], engine.Claim]) -> tuple[str, Any]:
    try:
        return "claim", _claim_view(fn())
    except engine.ClaimError as e:
        return "claim error", [(p.path, p.message, p.expected, p.code, p.item_id, p.file) for p in e.problems]
    except ValueError as e:  # loads_json: not claim JSON
        return "value error", (type(e).__name__, str(e))


def _typed(value: Any) -> Any:
    """A value with its exact type and form: Decimal('1.50') is not Decimal('1.5') nor 1.5."""
    if isinstance(value, dict):
        return ("dict", sorted((k, _typed(v)) for k, v in value.items()))
    if isinstance(value, list | tuple | frozenset):
        parts = [_typed(v) for v in value]
        return (type(value).__name__, sorted(parts, key=repr) if isinstance(value, frozenset) else parts)
    if isinstance(value, Decimal):
        return ("Decimal", str(value), type(value).__name__)
    return (type(value).__name__, value)


def _claim_view(c: engine.Claim) -> Any:
    return (
        c.claim_id,
        c.funding_year,
        c.applicant_id,
        _typed(c.claim_facts),
        c.claim_facts.namespace,
        _typed(c.applicant),
        c.applicant.namespace,
        [(i.id, i.type, i.index, _typed(i.facts), i.facts.namespace) for i in c.items],
        [_typed(tuple(g)) for g in c.history],
        _typed(c.raw),
    )


def _json(value: Any) -> str | None:
    """The JSON text of decoded claim data (a Decimal as the number it is), or None if it has no JSON form."""
    if isinstance(value, ExponentNumber):
        return value.text
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, int | str):
        try:
            return json.dumps(value, ensure_ascii=False).encode("utf-8") and json.dumps(value, ensure_ascii=False)
        except UnicodeEncodeError:  # a lone surrogate: written as its \\u escape, as JSON allows
            return json.dumps(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else None
    if isinstance(value, list):
        parts = [_json(v) for v in value]
        return None if None in parts else "[" + ", ".join(parts) + "]"  # type: ignore[arg-type]
    if isinstance(value, dict):
        pairs = [(_json(k) if isinstance(k, str) else None, _json(v)) for k, v in value.items()]
        if any(k is None or v is None for k, v in pairs):
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    return None


def check(policy: engine.CompiledPolicy, data: Any) -> str:
    """Both paths on `data` (decoded) and on its JSON text; returns what the fast path did ("fast"/"deferred")."""
    fast = claims_mod._intake(policy)
    assert fast is not None
    did = "deferred"
    if type(data) is dict:
        quick = fast.from_data(copy.deepcopy(data))
        if quick is not None:
            did = "fast"
            assert _slow(lambda: _outcome(lambda: parse_claim(policy, copy.deepcopy(data)))) == ("claim", _claim_view(quick)), data
        assert _outcome(lambda: parse_claim(policy, copy.deepcopy(data))) == _slow(
            lambda: _outcome(lambda: parse_claim(policy, copy.deepcopy(data)))
        )
    text = _json(data)
    if text is not None:
        check_text(policy, text)
    return did


def check_text(policy: engine.CompiledPolicy, text: str) -> bool:
    """Both paths on a JSON text; True when the fast path accepted it."""
    fast = claims_mod._intake(policy)
    assert fast is not None
    quick = fast.from_text(text)
    if quick is not None:
        assert _slow(lambda: _outcome(lambda: parse_claim(policy, engine.loads_json(text)))) == ("claim", _claim_view(quick)), text
    # (parse_claim_json places its problems in the text, and says text that is not claim JSON as a ClaimError: the
    # same with the fast intake as without)
    assert _outcome(lambda: parse_claim_json(policy, text)) == _slow(lambda: _outcome(lambda: parse_claim_json(policy, text))), text
    return quick is not None


# --- the corpus ---------------------------------------------------------------------------------------


def test_the_fast_intake_compiles_for_the_shipped_policies(pinggu: engine.CompiledPolicy) -> None:
    assert claims_mod._intake(pinggu) is not None
    assert claims_mod._intake(engine.load_policy(FICTIONAL)) is not None
    assert claims_mod._intake(typed_policy()) is not None


def test_valid_claims_take_the_fast_path(pinggu: engine.CompiledPolicy) -> None:
    # the point of it: an ordinary claim never reaches jsonschema (if it did, the figure would not move)
    claims = _generated(300)
    assert all(check(pinggu, c) == "fast" for c in claims)


@pytest.mark.parametrize(
    ("group", "label", "change", "path", "words"), TABLE_CASES + API_CASES, ids=lambda x: x if isinstance(x, str) else ""
)
def test_every_bad_claim_of_the_corpus_gets_todays_answer(
    pinggu: engine.CompiledPolicy, group: str, label: str, change: Any, path: tuple[Any, ...], words: str
) -> None:
    # (a few are refused only when decided, e.g. a funding year outside the policy: both paths accept those)
    check(pinggu, change(bad_base()))


def test_the_fixture_and_policy_cases_get_todays_answer() -> None:
    n = 0
    for path in sorted((ROOT / "tests" / "fixtures").rglob("*.cases.yaml")) + [ROOT / "policies" / "tests"]:
        for case in load_cases([path]):
            if case.policy_path is None:
                continue
            policy = engine.load_policy(case.policy_path)
            for data in (case.claim, *case.earlier, *case.round):
                check(policy, copy.deepcopy(data))
                n += 1
    assert n > 100  # (the fixtures hold a few hundred claims)


def _typed_variants() -> Iterator[dict[str, Any]]:
    base = [typed_loan(), typed_grant()]
    yield typed_claim(*base)
    for i, facts in enumerate(base):
        for name in facts:
            for value in [*HOSTILE, "4.35%", "4.355%", "25%", "0.6500", "0.65432", 35, 51, "2021-02-29", "2024-02-29", ["2021-01-01"] * 2]:
                items = copy.deepcopy(base)
                items[i][name] = value
                yield typed_claim(*items)
            items = copy.deepcopy(base)
            del items[i][name]
            yield typed_claim(*items)


def test_typed_facts_with_hostile_values_get_todays_answer() -> None:
    policy = typed_policy()
    done = [check(policy, data) for data in _typed_variants()]
    assert "fast" in done and "deferred" in done


@pytest.mark.parametrize("which", ["pinggu", "fictional"])
def test_mutations_of_shipped_and_generated_claims_get_todays_answer(which: str) -> None:
    path = PINGGU if which == "pinggu" else FICTIONAL
    policy = engine.load_policy(path)
    claims = _shipped_claims(path) + (_generated(40) if which == "pinggu" else [])
    for c in claims:
        check(policy, c)
    for _path, _value, data in _mutations(claims, budget=3000, seed=14):
        check(policy, data)


# --- what only a JSON text can hold -------------------------------------------------------------------

GOOD = json.dumps(bad_base(), ensure_ascii=False)


def _texts() -> list[tuple[str, str, bool]]:
    """(label, text, whether the fast path may take it)."""
    a = GOOD
    return [
        ("as written", a, True),
        ("pretty-printed with tabs and CR LF", json.dumps(bad_base(), ensure_ascii=False, indent="\t").replace("\n", "\r\n"), True),
        ("repeated top-level key", a[:-1] + ', "claim_id": "C-2"}', False),
        ("repeated key in the applicant", a.replace('"applicant": {', '"applicant": {"name": "x", ', 1), False),
        (
            "repeated key in an item",
            a.replace('"type": "pledge_loan_interest"', '"type": "pledge_loan_interest", "type": "pledge_loan_interest"'),
            False,
        ),
        ("-0 funding year", a.replace('"funding_year": 2021', '"funding_year": -0'), False),
        ("-0 amount", a.replace('"annual_interest_paid": "', '"annual_interest_paid": -0, "x": "'), False),
        ("exponent amount", a.replace('"annual_interest_paid": "', '"annual_interest_paid": 1e3, "x": "'), False),
        ("JSON number amount 1000.00", a.replace('"annual_interest_paid": "', '"annual_interest_paid": 1000.00, "x": "'), False),
        ("escaped character in the name", a.replace('"name": "', '"name": "\\u5317', 1), True),  # (judged as decoded: 北)
        ("escaped control in the name", a.replace('"name": "', '"name": "\\u0000', 1), False),
        ("escaped bidi in the claim id", a.replace('"claim_id": "', '"claim_id": "\\u202e', 1), False),
        ("escaped lone surrogate", a.replace('"name": "', '"name": "\\ud800', 1), False),
        ("a colon inside a text", a.replace('"name": "', '"name": "a: b', 1), False),
        ("NaN", a.replace('"funding_year": 2021', '"funding_year": NaN'), False),
        ("not JSON", a[:-1], False),
        ("a list", "[" + a + "]", False),
        ("deep", "[" * 100_000, False),
        ("tab inside a text", a.replace('"name": "', '"name": "\t', 1), False),
        ("astral CJK in the name", a.replace('"name": "', '"name": "\U00020000', 1), True),  # accepted by both
        ("astral format character in the name", a.replace('"name": "', '"name": "\U000e0041', 1), False),
        ("ideographic space before the name", a.replace('"name": "', '"name": "\u3000', 1), False),
        ("ideographic space inside the name", a.replace('"name": "', '"name": "x\u3000', 1), True),  # accepted by both
        ("-0 after a long run of white space", a.replace('"funding_year": 2021', '"funding_year":' + " " * 60 + "-0"), False),
        ("-0 in a list", a[:-1] + ', "history": [' + json.dumps(_grant()).replace('["A", 2020]', '["A", -0]') + "]}", False),
        ("funding year 2021.0", a.replace('"funding_year": 2021', '"funding_year": 2021.0'), False),
        ("history with a grant", a[:-1] + ', "history": [' + json.dumps(_grant()) + "]}", True),
        ("history amount finer than the quantum", a[:-1] + ', "history": [' + json.dumps(_grant(amount="1.001")) + "]}", False),
        (
            "history -0 year",
            a[:-1] + ', "history": [' + json.dumps(_grant()).replace('"funding_year": 2020', '"funding_year": -0') + "]}",
            False,
        ),
        ("history extra key", a[:-1] + ', "history": [' + json.dumps(_grant(note="x")) + "]}", False),
    ]


def _edged(where: str, value: Any, last: bool = False) -> str:
    """The base claim as JSON with the applicant's or the first item's `where` set to `value` (placed last: `"}`)."""
    data = bad_base()
    obj = data["applicant"] if where in data["applicant"] else data["items"][0]
    obj.pop(where, None)
    if last:
        obj[where] = value
    else:
        rest = dict(obj)
        obj.clear()
        obj.update({where: value, **rest})
    return json.dumps(data, ensure_ascii=False)


def _edge_texts() -> list[tuple[str, str, bool]]:
    name = bad_base()["applicant"]["name"]
    return [
        ("name with a trailing space, last in its object", _edged("name", name + " ", last=True), False),
        ("name with a trailing space, first in its object", _edged("name", name + " "), False),
        ("name with a leading space", _edged("name", " " + name), False),
        ("name with a trailing ideographic space", _edged("name", name + "\u3000", last=True), False),
        ("name with a trailing NBSP", _edged("name", name + "\u00a0"), False),
        ("name with a space inside", _edged("name", "北京 平谷", last=True), True),
        ("item id with a trailing space", _edged("id", "l1 "), False),
        ("a text that is one space", _edged("name", " "), False),
        ("a text ending in space-quote-comma inside", _edged("name", 'a ", b', last=True), True),  # (an escaped quote: fine)
        ("compact separators", json.dumps(bad_base(), ensure_ascii=False, separators=(",", ":")), True),
    ]


def _grant(**changes: Any) -> dict[str, Any]:
    g = {"claim_id": "H-1", "item_id": "h1", "rule": "pledge-loan-interest", "applicant_id": "A", "funding_year": 2020, "amount": "1000.00"}
    g["consumes"] = [{"cap": "c", "scope": ["A", 2020], "amount": "1000.00"}, {"limit": "l", "scope": ["A"], "counts": [2020]}]
    return {**g, **changes}


@pytest.mark.parametrize(("label", "text", "fast"), _edge_texts(), ids=[t[0] for t in _edge_texts()])
def test_texts_with_spaces_at_their_edges_get_todays_answer(pinggu: engine.CompiledPolicy, label: str, text: str, fast: bool) -> None:
    # `_trimmed` (text facts, the claim id) catches every one that today's path refuses
    assert check_text(pinggu, text) is fast


@pytest.mark.parametrize(("label", "text", "fast"), _texts(), ids=[t[0] for t in _texts()])
def test_json_texts_get_todays_answer(pinggu: engine.CompiledPolicy, label: str, text: str, fast: bool) -> None:
    assert check_text(pinggu, text) is fast


# --- session 5: no whole-text scans (each text judged as decoded; no `-0` scan unless a 0 was read) ---------


def _rich() -> dict[str, Any]:
    """The base claim with a second item that lists right holders (a list of texts) and a history grant."""
    data = bad_base()
    data["items"].append(
        {
            "id": "p1",
            "type": "invention_patent_grant",
            "date": "2021-09-29",
            "supported_by_other_district_policy": False,
            "documents": ["proof_of_right", "fee_receipts"],
            "patent_id": "ZL202010000018.7",
            "patent_kind": "invention",
            "route": "domestic",
            "official_fees_paid": "29453.97",
            "right_holders": ["某大学", "北京平谷"],
        }
    )
    data["history"] = [_grant()]
    return data


RICH = json.dumps(_rich(), ensure_ascii=False)


def _rich_texts() -> list[tuple[str, str, bool]]:
    """(label, text, whether the fast path may take it): every one must get today's answer either way."""
    r = RICH
    holders, rule, scope, counts = '"right_holders": ["', '"rule": "', '"scope": ["A", 2020]', '"counts": [2020]'
    return [
        ("as written", r, True),
        # whole numbers: the first decoder takes none below 1; a 0 is read again, then the text searched for -0
        ("funding year 0", r.replace('"funding_year": 2021', '"funding_year": 0'), True),
        ("funding year -0", r.replace('"funding_year": 2021', '"funding_year": -0'), False),
        ("funding year -0 written -0.0", r.replace('"funding_year": 2021', '"funding_year": -0.0'), False),
        ("money 0 as a JSON number", r.replace('"official_fees_paid": "29453.97"', '"official_fees_paid": 0'), True),
        ("money -0 as a JSON number", r.replace('"official_fees_paid": "29453.97"', '"official_fees_paid": -0'), False),
        ("money 1 as a JSON number", r.replace('"official_fees_paid": "29453.97"', '"official_fees_paid": 1'), True),
        ("money 1.0 as a JSON number", r.replace('"official_fees_paid": "29453.97"', '"official_fees_paid": 1.0'), False),
        ("money as the text of a JSON number with a sign", r.replace('"29453.97"', '"+29453.97"'), False),
        ("funding year as text", r.replace('"funding_year": 2021', '"funding_year": "2021"'), False),
        ("funding year past 64 bits", r.replace('"funding_year": 2021', '"funding_year": ' + "9" * 30), False),
        ("funding year NaN", r.replace('"funding_year": 2021', '"funding_year": NaN'), False),
        ("history scope 0", r.replace(scope, '"scope": ["A", 0]'), True),
        ("history scope -0", r.replace(scope, '"scope": ["A", -0]'), False),
        ("history scope negative", r.replace(scope, '"scope": ["A", -5]'), True),
        ("history counts 0", r.replace(counts, '"counts": [0]'), True),
        ("history counts -0", r.replace(counts, '"counts": [-0]'), False),
        ("history funding year 0", r.replace('"funding_year": 2020', '"funding_year": 0'), True),
        ("history amount 0 as a JSON number", r.replace('"amount": "1000.00", "consumes"', '"amount": 0, "consumes"'), True),
        # keys written with an escape are the keys they decode to (so is a repeat)
        ("an escaped key", r.replace('"patent_id"', '"\\u0070atent_id"'), True),
        ("an escaped key repeating a key", r.replace('"patent_id"', '"\\u0070atent_id": "X", "patent_id"'), False),
        # every text judged as decoded, wherever it is
        ("escaped CJK in a right holder", r.replace(holders, holders + "\\u5317"), True),
        ("escaped control in a right holder", r.replace(holders, holders + "\\u0001"), False),
        ("bidi in a right holder", r.replace(holders, holders + "\u202e"), False),
        ("zero-width space in a right holder", r.replace(holders, holders + "x\u200b"), False),
        ("ideographic space inside a right holder", r.replace(holders, holders + "x\u3000"), True),
        ("DEL in a text fact", r.replace('"patent_id": "ZL', '"patent_id": "Z\x7fL'), False),
        ("C1 control in the history rule", r.replace(rule, rule + "\x85"), False),
        ("escaped control in a history id", r.replace('"claim_id": "H-1"', '"claim_id": "H-\\u0007"'), False),
        ("escaped CJK in a history id", r.replace('"claim_id": "H-1"', '"claim_id": "H-\\u5317"'), True),
        ("DEL in a history id", r.replace('"claim_id": "H-1"', '"claim_id": "H-\x7f"'), False),
        ("a backslash in a history id", r.replace('"claim_id": "H-1"', '"claim_id": "H-\\\\"'), True),
        ("a quote in a history id", r.replace('"claim_id": "H-1"', '"claim_id": "H-\\""'), True),
        ("CJK in a history rule", r.replace(rule, rule + "北京"), True),
        ("zero-width space in a scope text", r.replace(scope, '"scope": ["A\u200b", 2020]'), False),
        ("bidi in a counts text", r.replace(counts, '"counts": ["x\u2066", 2020]'), False),
        ("escaped bidi in a cap name", r.replace('"cap": "c"', '"cap": "\\u202ec"'), False),
        ("line separator in a limit name", r.replace('"limit": "l"', '"limit": "l\u2028"'), False),
        ("astral CJK in a history id", r.replace('"claim_id": "H-1"', '"claim_id": "H-\U00020000"'), True),
        ("astral format character in a history id", r.replace('"claim_id": "H-1"', '"claim_id": "H-\U000e0041"'), False),
        ("a number for a text fact", r.replace('"patent_id": "ZL202010000018.7"', '"patent_id": 5'), False),
        ("a number for a history id", r.replace('"claim_id": "H-1"', '"claim_id": 1'), False),
        # no whole-text scan: what stands between values is msgspec's to refuse, as json refuses it
        ("a byte order mark before the claim", "\ufeff" + r, False),
        ("a no-break space between values", r.replace(', "items"', ',\u00a0"items"'), False),
        ("a form feed between values", r.replace(', "items"', ',\x0c"items"'), False),
        ("a line separator between values", r.replace(', "items"', ',\u2028"items"'), False),
        ("a zero-width space after the claim", r + "\u200b", False),
    ]


def _history_key_texts() -> list[tuple[str, str, bool]]:
    """(label, text, whether the fast path may take it): history shapes, and a key repeated at each of its levels
    (the fast intake counts the history's keys from the grants it reads: each repeat must still be seen)."""
    r = RICH
    cap, limit, counts = '{"cap": "c", ', '{"limit": "l", ', ', "counts": [2020]'
    return [
        ("a limit without counts", r.replace(counts, ""), True),
        ("a grant without consumes", json.dumps({**_rich(), "history": [{k: v for k, v in _grant().items() if k != "consumes"}]}), True),
        ("an empty consumes", json.dumps({**_rich(), "history": [_grant(consumes=[])]}), True),
        ("an empty history", json.dumps({**_rich(), "history": []}), True),
        ("two grants", json.dumps({**_rich(), "history": [_grant(), _grant(claim_id="H-2")]}), True),
        ("a subject", json.dumps({**_rich(), "history": [_grant(consumes=[{"subject": "s", "scope": ["A"], "amount": "1000.00"}])]}), True),
        ("repeated grant key", r.replace('"rule": "', '"rule": "x", "rule": "', 1), False),
        ("repeated grant amount", r.replace('"amount": "1000.00", "consumes"', '"amount": "1.00", "amount": "1000.00", "consumes"'), False),
        ("repeated consumes", r.replace('"consumes": [', '"consumes": [], "consumes": [', 1), False),
        ("repeated cap", r.replace(cap, cap + '"cap": "c", ', 1), False),
        ("repeated cap amount", r.replace(cap, cap + '"amount": "1.00", ', 1), False),
        ("repeated scope in a cap", r.replace(cap, cap + '"scope": ["B"], ', 1), False),
        ("repeated limit", r.replace(limit, limit + '"limit": "l", ', 1), False),
        ("repeated counts", r.replace(counts, counts + counts, 1), False),
        ("repeated scope in a limit without counts", r.replace(counts, "").replace(limit, limit + '"scope": ["B"], ', 1), False),
        ("a limit with an amount", r.replace(limit, limit + '"amount": "1.00", ', 1), False),
        ("a cap with counts", r.replace(cap, cap + '"counts": [1], ', 1), False),
        ("a cap and a subject", r.replace(cap, cap + '"subject": "s", ', 1), False),
        (
            "a repeated key in a second grant",
            json.dumps({**_rich(), "history": [_grant(), _grant(claim_id="H-2")]}).replace(
                '"claim_id": "H-2"', '"claim_id": "H-2", "claim_id": "H-2"'
            ),
            False,
        ),
    ]


@pytest.mark.parametrize(("label", "text", "fast"), _history_key_texts(), ids=[t[0] for t in _history_key_texts()])
def test_history_shapes_and_repeated_history_keys_get_todays_answer(
    pinggu: engine.CompiledPolicy, label: str, text: str, fast: bool
) -> None:
    assert check_text(pinggu, text) is fast


@pytest.mark.parametrize(("label", "text", "fast"), _rich_texts(), ids=[t[0] for t in _rich_texts()])
def test_texts_judged_as_decoded_and_zeros_get_todays_answer(pinggu: engine.CompiledPolicy, label: str, text: str, fast: bool) -> None:
    assert check_text(pinggu, text) is fast


@pytest.mark.parametrize(
    ("where", "value", "fast"),
    [
        (("items", 1, "right_holders", 0), "某\x00大学", False),
        (("items", 1, "right_holders", 1), "北京\u202e", False),
        (("items", 1, "right_holders", 1), "北京\u3000平谷", True),
        (("history", 0, "rule"), "pledge\u200b", False),
        (("history", 0, "consumes", 0, "scope", 0), "A\ufeff", False),
        (("history", 0, "consumes", 1, "counts", 0), "\U000e0001", False),
        (("history", 0, "consumes", 1, "counts", 0), "\U00020000", True),
        (("claim_id",), "C-1\u2029", False),
    ],
)
def test_decoded_data_with_such_texts_gets_todays_answer(where: tuple[Any, ...], value: str, fast: bool) -> None:
    # `parse_claim(policy, data)`: the fast intake tests the same texts in decoded data (no JSON text to scan)
    data = _rich()
    target: Any = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    assert check(engine.load_policy(PINGGU), data) == ("fast" if fast else "deferred")


def test_the_first_decoder_reads_no_whole_number_below_one(pinggu: engine.CompiledPolicy) -> None:
    # so what it accepts holds no -0 (msgspec reads -0 as 0); a 0 goes to the second decoder, which is as today
    fast = claims_mod._intake(pinggu)
    assert fast is not None
    fast.decoder.decode(RICH)
    for zero in ('"funding_year": 0', '"funding_year": -0'):
        with pytest.raises(claims_mod.msgspec.ValidationError):
            fast.decoder.decode(RICH.replace('"funding_year": 2021', zero))
        assert claims_mod.msgspec.to_builtins(fast.zero_decoder.decode(RICH.replace('"funding_year": 2021', zero)))["funding_year"] == 0


@functools.lru_cache(maxsize=1)
def _insurance_builder() -> Callable[..., Any]:
    fast = claims_mod._intake(engine.load_policy(PINGGU))
    assert fast is not None
    return fast.item_facts["patent_insurance"]


def test_claims_and_items_made_directly_equal_the_constructed_ones(pinggu: engine.CompiledPolicy) -> None:
    # the fast intake makes the frozen dataclasses and the facts through twin classes of the same slots while their
    # fields are what it knows
    assert claims_mod._TWINS
    fast, slow = parse_claim_json(pinggu, RICH), _slow(lambda: parse_claim_json(pinggu, RICH))
    assert fast == slow and type(fast) is engine.Claim and [type(i) for i in fast.items] == [claims_mod.Item] * 2
    # (the claim's twin is written into `_Intake.claim`: every field the constructor's, none left unset)
    assert [getattr(fast, f) for f in claims_mod._CLAIM_FIELDS] == [getattr(slow, f) for f in claims_mod._CLAIM_FIELDS]
    assert [f.name for f in dataclasses.fields(engine.Claim)] == list(claims_mod._CLAIM_FIELDS)
    assert claims_mod._item("p1", "invention_patent_grant", 1, slow.items[1].facts) == slow.items[1]
    facts = [fast.claim_facts, fast.applicant, *(i.facts for i in fast.items)]
    assert [type(f) for f in facts] == [Facts] * 4 and [f.namespace for f in facts] == ["claim", "applicant", "item", "item"]
    assert [f.namespace for f in facts] == [f.namespace for f in (slow.claim_facts, slow.applicant, *(i.facts for i in slow.items))]
    with pytest.raises(MissingFact, match=r"item\.no_such_fact"):  # the class's own `__missing__`
        fast.items[0].facts["no_such_fact"]
    for frozen, name in ((fast, "claim_id"), (fast.items[0], "id")):  # still frozen
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(frozen, name, "x")
    assert pickle.loads(pickle.dumps(fast)) == fast and copy.deepcopy(fast) == fast


def test_a_claims_facts_are_read_only_however_they_were_made(pinggu: engine.CompiledPolicy) -> None:
    # they are part of the decision's record: a program that changed them after deciding changed what the decision's
    # JSON and explanation say it was decided on (they were dicts)
    fast, slow = parse_claim_json(pinggu, RICH), _slow(lambda: parse_claim_json(pinggu, RICH))
    decision = engine.evaluate_claim(pinggu, fast)
    before = decision.to_json()
    for claim in (fast, slow, decision.claim, pickle.loads(pickle.dumps(fast)), copy.deepcopy(slow)):
        for facts in (claim.claim_facts, claim.applicant, *(i.facts for i in claim.items)):
            changes: list[Callable[[], Any]] = [
                lambda: facts.__setitem__("x", 1),
                lambda: facts.__delitem__(next(iter(facts))),
                facts.clear,
                lambda: facts.update(x=1),
                lambda: facts.setdefault("x", 1),
                lambda: facts.pop(next(iter(facts))),
                facts.popitem,
                lambda: facts.__ior__({"x": 1}),
                lambda: facts.__init__("item", {"x": 1}),  # (made again in place)
                lambda: setattr(facts, "namespace", "claim"),
            ]
            for change in changes:
                with pytest.raises(TypeError, match="read-only"):
                    change()
            assert type(facts) is Facts and facts.namespace in ("claim", "applicant", "item")
    assert decision.to_json() == before
    assert Facts("item", {**fast.items[0].facts, "x": 1})["x"] == 1  # other facts are new ones


def test_sets_of_distinct_entries_are_kept_by_their_list_and_a_repeat_still_takes_todays_path(pinggu: engine.CompiledPolicy) -> None:
    # the item builders keep each distinct list's set (bounded); a list with a repeated entry is never kept, so it
    # still gets today's answer after the same entries came once each
    data = json.loads(RICH)
    docs = ["proof_of_right", "fee_receipts"]
    data["items"][0]["documents"] = docs
    first = parse_claim_json(pinggu, json.dumps(data))
    second = parse_claim_json(pinggu, json.dumps(data))
    assert first.items[0].facts["documents"] == frozenset(docs) and second.items[0].facts["documents"] is first.items[0].facts["documents"]
    data["items"][0]["documents"] = [*docs, "fee_receipts"]
    text = json.dumps(data)
    assert claims_mod._intake(pinggu).from_text(text) is None  # type: ignore[union-attr]
    assert _outcome(lambda: parse_claim_json(pinggu, text)) == _slow(lambda: _outcome(lambda: parse_claim_json(pinggu, text)))
    data["items"][0]["documents"] = list(reversed(docs))  # another list of the same entries: its own set, equal
    assert parse_claim_json(pinggu, json.dumps(data)).items[0].facts["documents"] == frozenset(docs)
    build = claims_mod._intake(pinggu).item_facts[data["items"][0]["type"]]  # type: ignore[union-attr]
    kept = [v for k, v in build.__globals__.items() if k.startswith("K") and isinstance(v, dict)]
    assert kept and all(len(k) <= claims_mod._SETS_KEPT for k in kept)


_NUMBER_EDGES = [
    *("0 00 01 0.0 0.00 0.000 1 1. .5 1.5 1.50 1.505 -0 -1 +1 1e2 1E2 1E+2 0E-7 1_000 1,000 ０ ١ 1\n \n1 1 1".split(" ")),
    *("NaN nan sNaN -NaN Infinity -Infinity inf 999999999999.99 999999999999.999 1000000000000 0.0000001".split(" ")),
    "",
    " 1",
    "1 ",
    "12345678901234567890123456789012345678901",
]


@SETTINGS
@given(st.lists(st.text(alphabet="0123456789.-+eE_ \nNaIfinty١０", max_size=16), max_size=20))
def test_money_and_amount_texts_are_held_to_their_patterns(texts: list[str]) -> None:
    # the fast intake reads a money text (and a history amount text) without msgspec's pattern: what it takes must
    # match the pattern today's path checks, with the same Decimal; and every matching text is taken
    for v in texts + _NUMBER_EDGES:
        for fast, pattern, bounded in [
            (claims_mod._money, claims_mod._MONEY_RE, False),
            (claims_mod._amount, claims_mod._PLAIN_AMOUNT, True),
        ]:
            try:
                got = fast(v)
                if bounded and not got <= claims_mod.MAX_MONEY:  # (the history's caller bounds it; NaN will not compare)
                    got = None
            except (claims_mod._Decline, ArithmeticError, ValueError):
                got = None
            if got is not None:
                assert pattern.match(v) and str(got) == v and got == Decimal(v), v
            elif pattern.match(v) and Decimal(v) <= claims_mod.MAX_MONEY and "E" not in str(Decimal(v)):
                raise AssertionError(f"{v!r} matches and is not taken")
    assert claims_mod._money(7) == Decimal(7) and claims_mod._amount(0) == Decimal(0)
    # the item builders have `_money` written in: the same answers
    build = _insurance_builder()
    item = {"id": "x1", "type": "patent_insurance", "date": "2021-01-01", "supported_by_other_district_policy": False}
    for v in [*texts, *_NUMBER_EDGES, 0, 7, 999999999999]:
        try:
            want: Any = claims_mod._money(v)
        except (claims_mod._Decline, ArithmeticError, ValueError):
            want = None
        try:
            got = build({**item, "insurance_policy_id": "P1", "premium_paid": v}, 0).facts["premium_paid"]
        except (claims_mod._Decline, ArithmeticError, ValueError):
            got = None
        assert (type(got), str(got)) == (type(want), str(want)), v


@SETTINGS
@given(data=claim_strategy(), mutation=st.tuples(st.integers(0, 10**6), st.sampled_from(range(len(HOSTILE) + 1))))
def test_random_valid_and_mutated_claims_get_todays_answer(data: dict[str, Any], mutation: tuple[int, int]) -> None:
    policy = engine.load_policy(PINGGU)
    check(policy, data)
    paths = list(_leaf_paths(data))
    at, which = mutation
    path = paths[at % len(paths)]
    changed = copy.deepcopy(data)
    target = changed
    for part in path[:-1]:
        target = target[part]
    if which == len(HOSTILE):
        del target[path[-1]]
    else:
        target[path[-1]] = copy.deepcopy(HOSTILE[which])
    check(policy, changed)


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaf_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaf_paths(v, (*path, i))


def test_every_character_text_problem_refuses_fails_the_quick_printable_test() -> None:
    # `_clean` lets a text through on str.isprintable() alone: it must be False for each refused character
    refused = [c for c in map(chr, range(0x110000)) if claims_mod._SUSPECT.match(c) and claims_mod.text_problem(c) is not None]
    assert len(refused) > 2000  # (controls, format characters, 2,048 surrogates, separators)
    assert [f"U+{ord(c):04X}" for c in refused if c.isprintable()] == []
    # the fast intake judges each text as decoded (`_clean`): an escape is the character it stands for
    assert not claims_mod._clean("\u200b") and not claims_mod._clean("a\u202eb") and claims_mod._clean("北京\u3000平谷")


# --- without msgspec ----------------------------------------------------------------------------------


def test_without_msgspec_every_claim_takes_todays_path(pinggu: engine.CompiledPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(claims_mod, "msgspec", None)
    claims_mod._intake.cache_clear()
    try:
        assert claims_mod._intake(pinggu) is None
        assert _claim_view(parse_claim_json(pinggu, GOOD)) == _slow(lambda: _claim_view(parse_claim(pinggu, engine.loads_json(GOOD))))
        with pytest.raises(engine.ClaimError):
            parse_claim_json(pinggu, GOOD.replace('"funding_year": 2021', '"funding_year": "2021"'))
    finally:
        claims_mod._intake.cache_clear()


def test_parse_claim_json_is_part_of_the_api() -> None:
    assert engine.parse_claim_json is parse_claim_json
    assert Path(claims_mod.__file__).name == "claims.py"


def test_keys_in_another_order_give_an_equal_claim_and_the_same_content_hash(pinggu: engine.CompiledPolicy) -> None:
    # msgspec writes a Struct's fields in their declared order, so the fast path's raw data and facts come in the
    # vocabulary's order whatever order the text gives (today's path keeps the text's). Nothing reads that order:
    # the claims are equal (dicts compare as sets of pairs) and the ledger's hashes sort the keys. Session 7 found
    # this; the test holds it so (every key of the claim, its applicant and each item written in reverse order)
    from engine.records.ledger import content_hash

    data = json.loads(RICH)
    flipped = dict(reversed(list(data.items())))
    flipped["applicant"] = dict(reversed(list(data["applicant"].items())))
    flipped["items"] = [dict(reversed(list(it.items()))) for it in data["items"]]
    text = json.dumps(flipped, ensure_ascii=False)
    fast = claims_mod._intake(pinggu).from_text(text)  # type: ignore[union-attr]
    slow = _slow(lambda: parse_claim_json(pinggu, text))
    assert fast is not None and fast == slow and fast.raw == slow.raw == flipped
    assert list(slow.raw) == list(flipped) and list(fast.raw) != list(flipped)  # (the two orders, as said above)
    assert content_hash(fast) == content_hash(slow) and content_hash(fast, pinggu) == content_hash(slow, pinggu)


def test_an_identifier_fact_is_tested_in_place_and_a_wrong_check_character_gets_todays_answer(pinggu: engine.CompiledPolicy) -> None:
    # the applicant builder tests the identifier by its cached test, written into the generated code (no call of a
    # converter per claim); the fact is the very text read, and a wrong check character still defers to today's path
    fast = claims_mod._intake(pinggu)
    assert fast is not None
    tests = {k: v for k, v in fast.applicant_facts.__globals__.items() if k.startswith("OK")}
    assert len(tests) == 1 and all(hasattr(t, "cache_info") for t in tests.values())
    data = _rich()
    good = data["applicant"]["id"]
    accepted = fast.from_text(json.dumps(data, ensure_ascii=False))
    assert accepted is not None and accepted.applicant["id"] == good and accepted.applicant["id"] is accepted.raw["applicant"]["id"]
    # the credit code's check character is the last one: any other character there is a wrong code
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    data["applicant"]["id"] = wrong
    text = json.dumps(data, ensure_ascii=False)
    assert fast.from_text(text) is None
    outcome = _outcome(lambda: parse_claim_json(pinggu, text))
    assert outcome == _slow(lambda: _outcome(lambda: parse_claim_json(pinggu, text)))
    assert outcome[0] == "claim error" and [p[0] for p in outcome[1]] == [("applicant", "id")]


def test_the_claims_own_keys_are_left_out_of_its_facts_without_a_loop(pinggu: engine.CompiledPolicy) -> None:
    # the claim builder drops claim_id, applicant, items and history (when there) one statement each, not by a loop
    # over RESERVED per claim; the facts are today's either way
    fast = claims_mod._intake(pinggu)
    assert fast is not None
    assert "RESERVED" not in fast.claim_facts.__code__.co_names
    for data in (_rich(), {k: v for k, v in _rich().items() if k != "history"}):
        text = json.dumps(data, ensure_ascii=False)
        made = fast.from_text(text)
        assert made is not None and not set(claims_mod.RESERVED) & set(made.claim_facts)
        assert check_text(pinggu, text)
