"""A declarative policy-as-data engine for subsidy measures.

    policy = engine.load_policy("policies/<measures>.yaml")
    decision = engine.evaluate(policy, claim_dict)
    print(decision.to_json())
    print(engine.explain(policy, decision, lang="zh", format="text"))
    model = engine.explanation(policy, decision, lang="en")  # the same explanation, in no format

This module is the one facade. The engine is a pipeline of layers, each a subpackage that imports only
the layers before it (tests/test_layers.py checks it):

    core        errors, exact quantities, identifiers, JSON positions, the version
    language    policy text -> CompiledPolicy: source -> validate -> expressions -> compiler (model, load)
    deciding    claim + history -> Decision with its trace: claims, history, evaluator, decision, versions
    explaining  Decision -> words: catalogue and labels, the one explanation builder and its writers (text,
                the model that the Markdown/HTML templates write), the renderer and the report
    records     many claims: inputs, tabular readers/writers, the grants ledger, batch runs
    officer     tools for policy officers: test cases, lint, coverage, diff
    cli         the command line (python -m engine ...), above everything

See docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from engine.core.errors import ClaimError, EngineError, InputLimitError, PolicyError, Problem, refuse_flags
from engine.core.i18n import use_language
from engine.core.version import __version__ as __version__
from engine.deciding.claims import (
    Claim,
    checked_history,
    claim_for,
    claim_schema,
    loads_json,
    parse_claim,
    parse_claim_json,
    refuse_what_is_no_policy,
)
from engine.deciding.decision import Decision, ItemDecision, Reason
from engine.deciding.evaluator import evaluate_claim
from engine.deciding.history import Consumption, Grant
from engine.deciding.ready import load_policy, load_policy_text
from engine.language.model import CompiledPolicy

if TYPE_CHECKING:
    from engine.deciding.versions import PolicySet, load_versions
    from engine.explaining.render import (
        RecordedDecisionError,
        RenderError,
        ReportError,
        explain,
        explanation,
        render_report,
        write_report,
    )
    from engine.matching.run import Matching
    from engine.records.batch import run_batch
    from engine.records.ledger import AlreadyCommitted, Ledger, LedgerBusyError, LedgerError
    from engine.records.tabular import InputError, OutputError

__all__ = [
    "AlreadyCommitted",
    "Claim",
    "ClaimError",
    "CompiledPolicy",
    "Consumption",
    "Decision",
    "EngineError",
    "Grant",
    "InputError",
    "InputLimitError",
    "ItemDecision",
    "Ledger",
    "LedgerBusyError",
    "LedgerError",
    "Matching",
    "OutputError",
    "PolicyError",
    "PolicySet",
    "Problem",
    "Reason",
    "RecordedDecisionError",
    "RenderError",
    "ReportError",
    "claim_schema",
    "evaluate",
    "evaluate_claim",
    "explain",
    "explanation",
    "load_policy",
    "load_policy_text",
    "load_versions",
    "loads_json",
    "parse_claim",
    "parse_claim_json",
    "render_report",
    "run_batch",
    "use_language",
    "write_report",
]

#: Names the facade offers from outer layers, imported on first use: `import engine` stays light (no jinja2).
_LAZY = {
    "explain": "engine.explaining.render",
    "explanation": "engine.explaining.render",
    "render_report": "engine.explaining.render",
    "write_report": "engine.explaining.render",
    "run_batch": "engine.records.batch",
    "Matching": "engine.matching.run",
    "RenderError": "engine.explaining.render",
    "RecordedDecisionError": "engine.explaining.render",
    "ReportError": "engine.explaining.render",
    "Ledger": "engine.records.ledger",
    "LedgerError": "engine.records.ledger",
    "LedgerBusyError": "engine.records.ledger",
    "AlreadyCommitted": "engine.records.ledger",
    "InputError": "engine.records.tabular",
    "OutputError": "engine.records.tabular",
    "PolicySet": "engine.deciding.versions",
    "load_versions": "engine.deciding.versions",
}


if not TYPE_CHECKING:  # (hidden from type checkers, which see the names above: `engine.evalute` was Any, unflagged)

    def __getattr__(name: str) -> Any:
        if name in _LAZY:
            import importlib

            value = getattr(importlib.import_module(_LAZY[name]), name)
            globals()[name] = value
            return value
        raise AttributeError(f"module 'engine' has no attribute {name!r}")


def evaluate(
    policy: CompiledPolicy,
    claim: Mapping[str, Any] | Claim,
    history: Iterable[Grant | Mapping[str, Any]] = (),
    *,
    trace: bool = True,
) -> Decision:
    """Decide a claim (plain data or a parsed `Claim`) under `policy`, after `history` (`Grant`s, or their dict
    form, checked as a claim's own `history` is: ClaimError naming each problem)."""
    if trace is not True and trace is not False:  # ("no" was a trace: any text is true to Python)
        refuse_flags("evaluate", trace=trace)
    try:
        parsed = claim_for(policy, claim)
    except (AttributeError, TypeError):  # (off the path: a policy that is none was "'str' object has no attribute
        # 'claim_facts'"; parse_claim's own refusal would name parse_claim, which the program did not call)
        refuse_what_is_no_policy(policy, "evaluate")
        raise
    return evaluate_claim(policy, parsed, checked_history(policy, history, parsed.claim_id), trace=trace)
