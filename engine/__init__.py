"""A declarative policy-as-data engine for subsidy measures.

    policy = engine.load_policy("policies/<measures>.yaml")
    decision = engine.evaluate(policy, claim_dict)
    print(decision.to_json())

Stages, each a module with one job: `source` (YAML with positions) ->
`validate` (JSON Schema) -> `compiler` (semantic checks, expressions into
functions) -> `evaluator` (claim + history -> decision with trace) ->
`render` (explanations). `claims` parses applications; `history` holds grants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .claims import Claim, claim_schema, loads_json, parse_claim
from .decision import Decision, ItemDecision, Reason
from .errors import ClaimError, EngineError, InputLimitError, PolicyError, Problem
from .evaluator import evaluate_claim
from .history import Consumption, Grant
from .model import CompiledPolicy
from .policy import load_policy, load_policy_text

__version__ = "0.1.0"

__all__ = [
    "Claim",
    "ClaimError",
    "CompiledPolicy",
    "Consumption",
    "Decision",
    "EngineError",
    "Grant",
    "InputLimitError",
    "ItemDecision",
    "PolicyError",
    "Problem",
    "Reason",
    "claim_schema",
    "evaluate",
    "evaluate_claim",
    "load_policy",
    "load_policy_text",
    "loads_json",
    "parse_claim",
]


def evaluate(
    policy: CompiledPolicy,
    claim: Mapping[str, Any] | Claim,
    history: Iterable[Grant] = (),
    *,
    trace: bool = True,
) -> Decision:
    """Decide a claim (plain data or a parsed `Claim`) under `policy`, after `history`."""
    parsed = claim if isinstance(claim, Claim) else parse_claim(policy, claim)
    return evaluate_claim(policy, parsed, history, trace=trace)
