"""Every crash found while probing and fuzzing (python fuzz/run.py), kept as a regression test.

Each input below once raised something other than an engine.EngineError (or was too slow);
it must now fail cleanly (or, where the input is legitimate, succeed).
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import claim, item

import engine
from engine.expressions import compile_expression
from engine.source import parse_yaml

from .support import load_tiny, tiny_claim

P = "pledge_loan_interest"


def _free(namespace: str, fact: str) -> None:
    return None


# --- YAML loader ---------------------------------------------------------------------------------


def test_yaml_integer_of_5000_digits() -> None:  # was ValueError: Exceeds the limit (4300 digits)
    with pytest.raises(engine.PolicyError) as caught:
        parse_yaml("a: " + "9" * 5000)
    assert caught.value.problems[0].code == "too_long"


def test_yaml_dot_underscore_scalar() -> None:  # was decimal.InvalidOperation: Decimal(".")
    assert parse_yaml("a: ._").data == {"a": "._"}
    assert parse_yaml("a: 1_0.5_0").data == {"a": Decimal("10.50")}


def test_yaml_deep_flow_nesting_is_quick() -> None:  # was 1.4 s through a RecursionError
    started = time.perf_counter()
    with pytest.raises(engine.InputLimitError):
        parse_yaml("[" * 1_000_000)
    assert time.perf_counter() - started < 1.0


def test_yaml_alias_bomb_is_quick() -> None:  # was 0.4 s idle, 3.9 s on a loaded machine: sized before building
    text = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    started = time.perf_counter()
    with pytest.raises(engine.InputLimitError):
        parse_yaml(text)
    assert time.perf_counter() - started < 0.5


def test_yaml_python_tag_is_refused_not_silently_dropped() -> None:  # was accepted as a plain list
    with pytest.raises(engine.PolicyError):
        parse_yaml("!!python/object/apply:os.system ['true']")


def test_yaml_never_yields_non_finite_decimals() -> None:
    # fuzz policy_data-0b2d55729fd61eaa: Decimal('NaN') placed straight into the policy data made the schema
    # validator raise decimal.InvalidOperation. YAML text cannot produce it: these all stay strings.
    for text in (".nan", ".NaN", "NaN", ".inf", "-.inf", "Infinity", "1e999", "1E+3", "sNaN"):
        value = parse_yaml(f"a: {text}").data["a"]
        assert value == text and isinstance(value, str)


# --- expressions ---------------------------------------------------------------------------------


def test_expression_of_600_additions() -> None:  # was RecursionError in the checker
    with pytest.raises(Exception) as caught:
        compile_expression("1+" * 600 + "1", _free)
    assert type(caught.value).__name__ == "ExpressionError"


def test_string_repetition_literal() -> None:  # was compiled, then MemoryError when evaluated
    with pytest.raises(engine.PolicyError):
        load_tiny("'x' * 999999999999999 == ''")


def test_fraud_finding_in_year_9999(policy: engine.CompiledPolicy) -> None:  # was ValueError: year 10004 out of range (add_years)
    d = engine.evaluate(policy, claim(item("invention_patent_grant"), fraud_finding_dates=["9999-01-01"])).to_dict()
    # a finding made after the submission (2022-03-15) does not bar it (R24): fees 8,400 × 50% = 4,200.00
    assert d["standing"]["result"] == "ok" and d["items"][0]["amount"] == "4200.00"
    # the overflow itself: submitted on the finding's day, the bar runs to the end of time (add_years saturates)
    late = claim(item("invention_patent_grant"), fraud_finding_dates=["9999-01-01"], submission_date="9999-01-01")
    assert engine.evaluate(policy, late).to_dict()["standing"]["reasons"][0]["check"] == "five-year-bar"


def test_runtime_type_error_in_an_expression() -> None:  # was TypeError out of evaluate()
    policy = load_tiny("item.ended < item.date")
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, tiny_claim())
    assert caught.value.problems[0].code == "evaluation"


# --- claims --------------------------------------------------------------------------------------


def test_history_consumes_not_a_list(policy: engine.CompiledPolicy) -> None:
    # fuzz claim_data (run 0): 'consumes': -1 was TypeError: 'int' object is not iterable (history.parse_grants)
    data = claim(item("national_ip_title", "i0"), applicant="public_institution")
    data["history"] = [
        {"claim_id": "H-1", "item_id": "h1", "rule": "pledge-loan-interest", "applicant_id": "12110117400000001X",
         "funding_year": 2021, "amount": "250000.00", "consumes": -1}
    ]
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, data)
    assert caught.value.problems[0].path == ("history", 0, "consumes")


def test_history_negative_cap_consumption(policy: engine.CompiledPolicy) -> None:  # was accepted: it freed cap room
    data = claim(item(P))
    data["history"] = [
        {"claim_id": "H", "item_id": "h", "rule": "pledge-loan-interest", "applicant_id": "91110117MA01ABCD1F", "funding_year": 2021,
         "amount": "1", "consumes": [{"cap": "pledge-annual-cap", "scope": ["91110117MA01ABCD1F", 2021], "amount": "-9999999"}]}
    ]
    with pytest.raises(engine.ClaimError):
        engine.evaluate(policy, data)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity")])
def test_decimal_nan_amount(policy: engine.CompiledPolicy, value: Decimal) -> None:  # was decimal.InvalidOperation in jsonschema
    with pytest.raises(engine.ClaimError):
        engine.evaluate(policy, claim(item(P, annual_interest_paid=value)))


def test_integer_of_5000_digits_in_a_claim(policy: engine.CompiledPolicy) -> None:  # repr() of it raised ValueError
    with pytest.raises(engine.ClaimError):
        engine.evaluate(policy, claim(item(P, annual_interest_paid=10**5000)))


def test_json_nested_100000_deep() -> None:  # was RecursionError out of loads_json (and the CLI)
    with pytest.raises(ValueError, match="nested too deeply"):
        engine.loads_json("[" * 100_000)


def test_claim_nested_deeply_as_python_data(policy: engine.CompiledPolicy) -> None:
    deep: list[object] = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(engine.ClaimError):
        engine.evaluate(policy, claim(item(P, loan_id=deep)))
