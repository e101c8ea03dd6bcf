"""`evaluate --no-trace` (`trace=False`) gives the same decision as with the trace, minus the trace (issue 13, point 13).

Every claim of the repository's examples and golden files, and every officers' test case (the Pinggu case files
and the fictional district's), is decided both ways and compared field by field: every field of each item's
decision but `steps`, and the whole decision JSON but the `steps` lists.
"""

from __future__ import annotations

import functools
import glob
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import ENTERPRISE_ID, ROOT

import engine
from engine.cli import EXIT_OK, main
from engine.deciding.decision import ItemDecision
from engine.deciding.evaluator import evaluate_claim
from engine.officer import casefile

FICTIONAL = ROOT / "tests" / "fixtures" / "fictional_district.yaml"

#: The fictional district's shared cap of 第七条第二款 (20万 a year for 第七条第（一）项 and 第（二）项 together)
#: cuts the second item: the exhibition gets 50% × 300,000 = 150,000; the trademark 50% × 200,000 = 100,000,
#: cut to the 200,000 − 150,000 = 50,000 left. Cut by a cap citing another clause than its rule's.
SHARED_CAP_CLAIM: dict[str, Any] = {
    "claim_id": "NT-1",
    "funding_year": 2024,
    "documents": ["business_licence"],
    "applicant": {
        "id": ENTERPRISE_ID,
        "name": "湖畔示例科技有限公司",
        "kind": "enterprise",
        "registered_in_district": True,
        "pays_tax_in_district": True,
    },
    "items": [
        {
            "id": "e",
            "type": "overseas_exhibition",
            "date": "2024-05-01",
            "fair": "F1",
            "booth_fee": "300000.00",
            "documents": ["proof", "fee_receipts"],
        },
        {
            "id": "t",
            "type": "overseas_trademark",
            "date": "2024-05-01",
            "trademark_id": "TM1",
            "registration_fee": "200000.00",
            "documents": ["proof", "fee_receipts"],
        },
    ],
}


def _claims() -> list[tuple[str, Path, Any]]:
    """(name, policy path, claim data) for every claim file of the repository's examples and golden decisions."""
    pinggu = ROOT / "policies" / "pinggu_2020.yaml"
    out: list[tuple[str, Path, Any]] = [("fictional shared cap", FICTIONAL, SHARED_CAP_CLAIM)]
    for path in [ROOT / "examples" / "claim_enterprise_2021.json", *sorted((ROOT / "tests" / "golden").glob("*.claim.json"))]:
        out.append((path.name, pinggu, engine.loads_json(path.read_text(encoding="utf-8"))))
    rounds = [*sorted((ROOT / "examples").glob("*.jsonl")), *sorted((ROOT / "tests" / "golden").glob("*.jsonl"))]
    rounds += sorted((ROOT / "policies" / "revisions").glob("*.jsonl"))
    for path in rounds:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                out.append((f"{path.name}:{n}", pinggu, engine.loads_json(line)))
    return out


def _without_steps(decision: engine.Decision) -> dict[str, Any]:
    d: dict[str, Any] = json.loads(decision.to_json())
    assert isinstance(d["standing"].pop("steps"), list)
    for item in d["items"]:
        assert isinstance(item.pop("steps"), list)
    return d


def _same_but_trace(traced: engine.Decision, lean: engine.Decision) -> None:
    """Field by field: each item decision's fields but `steps`, its clauses, then the JSON but the `steps` lists."""
    assert len(traced.items) == len(lean.items)
    for t, q in zip(traced.items, lean.items, strict=True):
        assert q.steps == ()
        for field in ItemDecision._fields:
            if field != "steps":
                assert getattr(t, field) == getattr(q, field), (t.item.id, field)
        assert t.cites == q.cites, t.item.id
    assert (traced.grants, traced.standing_reasons) == (lean.grants, lean.standing_reasons)
    assert lean.standing_steps == ()
    a, b = _without_steps(traced), _without_steps(lean)
    assert a.keys() == b.keys()
    for key in a:
        if key == "items":
            for x, y in zip(a["items"], b["items"], strict=True):
                assert x.keys() == y.keys()
                for k in x:
                    assert x[k] == y[k], (x["item"], k)
        else:
            assert a[key] == b[key], key


_POLICIES: dict[Path, engine.CompiledPolicy] = {}


def _policy(path: Path) -> engine.CompiledPolicy:
    if path not in _POLICIES:
        _POLICIES[path] = engine.load_policy(path)
    return _POLICIES[path]


CLAIMS = _claims()


@pytest.mark.parametrize(("name", "path", "data"), CLAIMS, ids=[c[0] for c in CLAIMS])
def test_claim_files_decide_the_same_without_the_trace(name: str, path: Path, data: Any) -> None:
    policy = _policy(path)
    try:
        traced = engine.evaluate(policy, data)
    except engine.ClaimError:
        with pytest.raises(engine.ClaimError):  # an invalid claim (kept in a round to show the error) is invalid both ways
            engine.evaluate(policy, data, trace=False)
        return
    _same_but_trace(traced, engine.evaluate(policy, data, trace=False))


def test_the_corpus_is_the_repositorys_claims() -> None:
    """Not vacuous: the example, the twelve golden claims and the claims of the three rounds are all there."""
    names = [c[0] for c in CLAIMS]
    assert "claim_enterprise_2021.json" in names
    assert sum(n.endswith(".claim.json") for n in names) == len(glob.glob(str(ROOT / "tests" / "golden" / "*.claim.json"))) >= 12
    assert sum(".jsonl:" in n for n in names) >= 10


CASE_FILES = [*sorted((ROOT / "policies" / "tests").glob("*.yaml")), ROOT / "tests" / "fixtures" / "fictional_cases.yaml"]
CASES = casefile.load_cases(CASE_FILES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_officers_cases_decide_the_same_without_the_trace(case: casefile.Case, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each case (its history and earlier claims included) decided as `run_case` does it, then again untraced."""
    assert case.policy_path is not None
    policy = _policy(case.policy_path)
    try:
        traced = casefile.decide_case(case, policy)
    except engine.ClaimError:  # a case expecting an error (a funding year outside the policy's)
        return
    monkeypatch.setattr(casefile, "evaluate_claim", functools.partial(evaluate_claim, trace=False))
    _same_but_trace(traced, casefile.decide_case(case, policy))


def test_a_cap_citing_another_clause_is_cited_without_the_trace() -> None:
    """The trademark item is cut by 第七条第二款's shared cap (see SHARED_CAP_CLAIM): its clauses are its rule's,
    第七条第（二）项, then the cap's, traced or not; the exhibition, not cut, cites its rule's clause only."""
    policy = _policy(FICTIONAL)
    for trace in (True, False):
        d = engine.evaluate(policy, SHARED_CAP_CLAIM, trace=trace)
        e, t = d.items
        assert (e.status, e.amount, e.cites) == ("granted", 150000, ("第七条第（一）项",))
        assert (t.status, t.amount, t.asked) == ("reduced", 50000, 100000)
        assert t.cites == ("第七条第（二）项", "第七条第二款"), trace
        assert t.cut_by == ("第七条第二款",)
        assert d.to_dict()["items"][1]["cites"] == ["第七条第（二）项", "第七条第二款"]


def test_cli_no_trace_keeps_the_cite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    claim = tmp_path / "claim.json"
    claim.write_text(json.dumps(SHARED_CAP_CLAIM, ensure_ascii=False), encoding="utf-8")
    assert main(["evaluate", "--policy", str(FICTIONAL), "--no-trace", str(claim)]) == EXIT_OK
    out = json.loads(capsys.readouterr().out)
    assert out["items"][1]["cites"] == ["第七条第（二）项", "第七条第二款"]
    assert out["items"][1]["steps"] == []
