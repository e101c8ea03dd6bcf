"""Issue 14, second pass (perf2): the faster check characters and fast-intake building give exactly what the slower
code gave. Timings live in benchmarks/run.py, never here."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any

import pytest
from conftest import ROOT
from hypothesis import given
from hypothesis import strategies as st

import engine
from engine.core import identifiers as ids
from engine.deciding import claims as claims_mod
from engine.deciding.claims import parse_claim, parse_claim_json
from engine.deciding.history import Consumption, Grant
from engine.language.expressions import Facts, MissingFact

sys.path.insert(0, str(ROOT / "tests"))
from test_bad_claims import _base as bad_base
from test_properties import SETTINGS

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@SETTINGS
@given(st.text(alphabet=USCC_CHARS, min_size=17, max_size=17))
def test_the_credit_code_check_character_is_the_standards_sum(first17: str) -> None:
    # GB 32100-2015: C18 = 31 - (sum of value(Ci) * Wi) mod 31, 31 written as 0; values are the places in USCC_CHARS
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = 0
    for c, w in zip(first17, weights, strict=True):
        total += USCC_CHARS.index(c) * w
    assert ids.uscc_check_char(first17) == USCC_CHARS[(31 - total % 31) % 31]


@SETTINGS
@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_the_resident_id_check_digit_is_the_standards_sum(first17: str) -> None:
    # GB 11643-1999 (ISO 7064 MOD 11-2): the sum of digit x weight, mod 11, indexes "10X98765432"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = 0
    for c, w in zip(first17, weights, strict=True):
        total += int(c) * w
    assert ids.resident_id_check_char(first17) == "10X98765432"[total % 11]


def test_known_check_characters_and_refusals() -> None:
    # 91350100M000100Y4: 9*1 + 1*3 + 3*9 + 5*27 + 1*26 + M(21)*20 + 1*8 + Y(30)*30 + 4*28 (the zeros left out)
    # = 9 + 3 + 27 + 135 + 26 + 420 + 8 + 900 + 112 = 1640; 1640 mod 31 = 28 (31*52 = 1612); 31 - 28 = 3 -> "3"
    first17 = "91350100M000100Y4"
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)))
    assert total == 1640
    assert ids.uscc_check_char(first17) == USCC_CHARS[(31 - total % 31) % 31] == "3"
    for bad in ("9135010", "91350100M000100Y4X", "91350100I000100Y4", "91350100m000100Y4"):
        with pytest.raises(ValueError):
            ids.uscc_check_char(bad)
    with pytest.raises(ValueError):
        ids.resident_id_check_char("1101051949123100")  # 16 digits
    # a character outside the table is not a credit code; a full-width digit is still read as a digit (as before)
    assert not ids._uscc_form("91350100I000100Y43")
    assert ids.resident_id_check_char("１1010519491231002") == ids.resident_id_check_char("11010519491231002") == "X"


def _numbers_to_judge() -> list[str]:
    """Credit codes, resident IDs and patent numbers: every applicant id of a generated round, each with every one of its characters
    replaced in turn, and made-up ones (implausible parts, birth dates, full-width digits, wrong lengths)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import generate

    real = sorted({c["applicant"]["id"] for c in generate.claims(3000, 14)})
    out = list(real)
    for code in real[:40]:
        for i in range(len(code)):
            out += [code[:i] + c + code[i + 1 :] for c in "0X9A1Y"]
    first = ["91350100M000100Y4", "11010519491231002", "99350100M000100Y4", "91000000M000100Y4", "11010520991231002"]
    first += ["00010519491231002", "83000019800101001", "11010518991231002", "1101051949123100２", "91350100I000100Y4"]
    for f in first:
        for check in "0123456789XYA":
            out.append(f + check)
    out += ["", "X", "９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43 ", "9135010"]
    # patent numbers: the round's, each with its check character and its kind digit replaced in turn, eight-digit
    # ones of every year, and other offices' numbers and their slips
    patents = sorted({i["patent_id"] for c in generate.claims(3000, 14) for i in c["items"] if "patent_id" in i})
    for code in patents[:60]:
        out += [code[:-1] + c for c in "0123456789X"] + [code[:6] + k + code[7:] for k in "0123456789"]
    out += [f"ZL{y:02d}1{s:05d}.{c}" for y in range(0, 100, 3) for s in (1, 4242) for c in "0123456789X"]
    out += ["US11000001", "EP1234567", "USRE49000", "TWI123456", "US011000001", "EP1234567A1", "ZZ0000", "US0123"]
    out += ["WO2020123456", "WO2020123456A1", "US20210123456A1", "JP2016123456A", "KR1020150012345A", "USRE049000E"]
    out += ["US11000001B2", "EP1234567B1", "CN113456789B", "ZL1234", "us 11,000,001 b2", "ZL 2021 1 0000002.0", "ZL202110000002。0"]
    return out


def test_the_yes_no_view_of_each_identifier_format_is_its_problem_being_none() -> None:
    # FORMATS (what the fast intake asks) must say yes exactly when PROBLEMS (what today's path says) finds nothing
    numbers = _numbers_to_judge()
    assert len(numbers) > 2000
    valid = 0
    for name, (problem, _expected) in ids.PROBLEMS.items():
        yes = ids.FORMATS[name][0]
        for code in numbers:
            assert yes(code) == (problem(code) is None), (name, code)
            valid += yes(code)
    assert valid > 300  # (the round's own ids, and a few made-up ones with the right check character)


@pytest.fixture(scope="module")
def pinggu() -> engine.CompiledPolicy:
    return engine.load_policy(ROOT / "policies" / "pinggu_2020.yaml")


def _with_history() -> dict[str, Any]:
    data = bad_base()
    applicant = data["applicant"]["id"]
    data["history"] = [
        {
            "claim_id": "H-1",
            "item_id": "h1",
            "rule": "pledge-loan-interest",
            "applicant_id": applicant,
            "funding_year": 2020,
            "amount": "1000.50",
            "consumes": [
                {"cap": "c", "scope": [applicant, 2020], "amount": "1000.50"},
                {"limit": "l", "scope": [applicant], "counts": [2020]},
                {"subject": "s", "scope": ["P-1"], "amount": 7},
            ],
        }
    ]
    return data


def test_the_fast_intake_builds_the_same_facts_items_and_history(pinggu: engine.CompiledPolicy) -> None:
    data = _with_history()
    text = json.dumps(data, ensure_ascii=False)
    fast = claims_mod._intake(pinggu)
    assert fast is not None and fast.from_text(text) is not None  # the fast path vouches for this claim
    got, slow = parse_claim_json(pinggu, text), parse_claim(pinggu, json.loads(text))
    for ns, a, b in [("claim", got.claim_facts, slow.claim_facts), ("applicant", got.applicant, slow.applicant)] + [
        ("item", x.facts, y.facts) for x, y in zip(got.items, slow.items, strict=True)
    ]:
        assert type(a) is Facts and a.namespace == ns and dict(a) == dict(b)
        assert {k: type(v) for k, v in a.items()} == {k: type(v) for k, v in b.items()}
        with pytest.raises(MissingFact, match=rf"^{ns}\.no_such_fact$"):
            a["no_such_fact"]
    assert [(i.id, i.type, i.index) for i in got.items] == [(i.id, i.type, i.index) for i in slow.items]
    (grant,) = got.history
    assert type(grant) is Grant and grant == slow.history[0]
    cap, limit, subject = grant.consumes
    # amounts exact: "1000.50" -> Decimal("1000.50"); 7 -> Decimal(7); a limit has the default amount 0 and its counts
    assert grant.amount == Decimal("1000.50") and str(grant.amount) == "1000.50"
    assert cap == Consumption("cap", "c", (data["applicant"]["id"], 2020), amount=Decimal("1000.50"))
    assert limit == Consumption("limit", "l", (data["applicant"]["id"],), counts=(2020,))
    assert subject == Consumption("subject", "s", ("P-1",), amount=Decimal(7)) and subject.counts is None
    assert all(type(c) is Consumption for c in grant.consumes)


def test_a_consumption_naming_two_things_is_left_to_todays_path(pinggu: engine.CompiledPolicy) -> None:
    data = _with_history()
    data["history"][0]["consumes"][0]["limit"] = "l"  # a cap and a limit at once
    text = json.dumps(data, ensure_ascii=False)
    fast = claims_mod._intake(pinggu)
    assert fast is not None and fast.from_text(text) is None
