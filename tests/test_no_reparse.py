"""Regression guard for issue 6: after a policy is loaded, deciding items parses nothing.

Counted, not timed: every parser and compiler an evaluation could reach --
Python's `ast.parse`, `compile`, `exec` and `eval`, the engine's own `compile_expression`,
its rule code generators and per-policy context, simpleeval, jinja2's template parser
and compiler, and PyYAML -- is wrapped
with a counter, then a few hundred items of every type are decided (with and
without the trace), expanded to the JSON trace and, if the renderer is
installed, explained in Chinese text. Every counter must stay at zero.
"""

from __future__ import annotations

import ast
import builtins
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.deciding import evaluator
from engine.language import expressions

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import claims  # noqa: E402  (the benchmark's seeded round generator)


def _counting(counter: Counter[str], name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        counter[name] += 1
        return original(*args, **kwargs)

    return wrapper


def _explainer() -> Callable[..., str] | None:
    try:
        from engine.explaining import render
    except ImportError:
        return None
    return getattr(render, "explain", None)


def _renumbered(raw: dict[str, Any]) -> dict[str, Any]:
    """The same application under another claim number (seven digits after the year, as the generator writes them)."""
    head, number = raw["claim_id"].rsplit("-", 1)
    return {**raw, "claim_id": f"{head}-{int(number) + 5_000_000:07d}"}


def test_deciding_items_parses_no_expression_and_no_template(policy: engine.CompiledPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    raws = list(claims(600, seed=6))
    parsed = [engine.parse_claim(policy, r) for r in raws]  # claim parsing is not evaluation: it runs before the counters
    explain = _explainer()
    types = {i.type for c in parsed for i in c.items}
    assert types == set(policy.rules_by_type), "the round should hold every item type"
    # The decision JSON's and the text's writers are made once per rule and step sequence (bounded:
    # tests/test_explain_generated.py, tests/test_decision_json.py), and templates once per policy and language:
    # all made here, on the round, before counting. The counted pass decides *other* claims of the same round --
    # each renumbered, which changes no decision -- so a writer made once per claim and kept would be counted.
    for c in parsed:
        warm = engine.evaluate_claim(policy, c)
        warm.to_json()
        if explain is not None:
            explain(policy, warm, "zh", "text")
    renumbered = [engine.parse_claim(policy, _renumbered(r)) for r in raws]

    counter: Counter[str] = Counter()
    import jinja2
    import simpleeval
    import yaml

    for owner, attr in [
        (ast, "parse"),
        (builtins, "compile"),
        (expressions, "compile_expression"),
        (simpleeval.SimpleEval, "parse"),
        (simpleeval.SimpleEval, "eval"),
        (jinja2.Environment, "parse"),
        (jinja2.Environment, "_parse"),
        (jinja2.Environment, "compile"),
        (jinja2.Environment, "from_string"),
        (yaml, "compose"),
        (yaml, "load"),
        (yaml, "safe_load"),
        (yaml.composer.Composer, "compose_document"),
        # code generated per claim would not show above (generated sources are compiled once, then cached):
        (builtins, "exec"),
        (builtins, "eval"),
        (evaluator, "_generate"),
        (evaluator, "_generate_standing"),
        (evaluator, "_compiled"),
        (evaluator._Context, "__init__"),
        (evaluator._Plan, "__init__"),
    ]:
        monkeypatch.setattr(owner, attr, _counting(counter, f"{getattr(owner, '__name__', owner)}.{attr}", getattr(owner, attr)))

    items = 0
    for c, before in zip(renumbered, parsed, strict=True):
        assert c.claim_id != before.claim_id
        full = engine.evaluate_claim(policy, c)
        lean = engine.evaluate_claim(policy, c, trace=False)
        assert [d.status for d in full.items] == [d.status for d in lean.items]
        full.to_dict()
        full.to_json()
        if explain is not None:
            explain(policy, full, "zh", "text")
        items += len(c.items)
    assert items == 600
    assert sum(counter.values()) == 0, f"parsed or compiled during evaluation: {dict(counter)}"

    # And the counters do count: a fresh load parses and compiles again, and generates its rules' code.
    engine.load_policy(ROOT / "policies" / "pinggu_2020.yaml")
    assert counter["ast.parse"] > 0 and counter["engine.language.expressions.compile_expression"] + counter["builtins.compile"] > 0
    assert counter["engine.deciding.evaluator._generate"] > 0 and counter["builtins.exec"] > 0 and counter["_Context.__init__"] == 1


def test_claim_intake_builds_nothing_per_claim(policy: engine.CompiledPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14: JSON text -> claim builds its msgspec types, regular expressions and validators once per policy.

    Counted after a first claim: no type is built (msgspec.defstruct, a Decoder), no pattern compiled, no
    jsonschema validator made or run (a valid claim never reaches it), nothing parsed or compiled by Python.
    """
    import json
    import re

    import jsonschema
    import msgspec

    from engine.deciding import claims as claims_mod

    texts = [json.dumps(r, ensure_ascii=False) for r in claims(600, seed=6)]
    engine.parse_claim_json(policy, texts[0])  # the policy's intake is built here, once
    counter: Counter[str] = Counter()
    for owner, attr in [
        (msgspec, "defstruct"),
        (msgspec.json, "Decoder"),
        (re, "compile"),
        (jsonschema, "Draft202012Validator"),
        (claims_mod, "Draft202012Validator"),  # (its own name, bound at import: patching jsonschema's cannot reach it)
        (jsonschema.Draft202012Validator, "iter_errors"),
        (claims_mod, "_struct"),
        (claims_mod, "schema_problems"),
        (claims_mod, "FactConverter"),
        (ast, "parse"),
        (builtins, "compile"),
        (builtins, "exec"),
        (builtins, "eval"),
    ]:
        monkeypatch.setattr(owner, attr, _counting(counter, f"{getattr(owner, '__name__', owner)}.{attr}", getattr(owner, attr)))
    items = sum(len(engine.parse_claim_json(policy, t).items) for t in texts)
    assert items == 600
    assert sum(counter.values()) == 0, f"built or parsed per claim: {dict(counter)}"
    # and the counters count: a claim the fast path defers goes through jsonschema's explanation
    with pytest.raises(engine.ClaimError):
        engine.parse_claim_json(
            policy, texts[0].replace('"funding_year": ', '"funding_year": "', 1).replace(', "submission_date"', '", "submission_date"', 1)
        )
    assert counter["engine.deciding.claims.schema_problems"] == 1
    assert counter["Draft202012Validator.iter_errors"] > 0


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "schemas").glob("*.schema.json")))
def test_shipped_schemas_are_valid_json_schema(name: str) -> None:
    """The meta-schema check moved here from `validate.validator_for` (it took most of a policy load)."""
    import json

    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(json.loads((ROOT / "schemas" / name).read_text(encoding="utf-8")))
