"""Golden explanations: reviewed Chinese and English text for varied claims.

Each `tests/golden/NAME.claim.json` has `NAME.zh.txt` and `NAME.en.txt`, read by
hand against the measures before they were committed (see docs/explanations.md).
After an intended wording change, regenerate with `UPDATE_GOLDEN=1 pytest
tests/test_render_golden.py` and review the diff line by line.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

import engine
from engine.inputs import read_document
from engine.render import explain

GOLDEN = Path(__file__).resolve().parent / "golden"
CLAIMS = sorted(GOLDEN.glob("*.claim.json"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def _render(policy: engine.CompiledPolicy, path: Path, lang: str) -> str:
    data, _ = read_document(path)
    return explain(policy, engine.evaluate(policy, data), lang=lang, fmt="text")


def test_there_are_at_least_ten_golden_claims() -> None:
    assert len(CLAIMS) >= 10


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("claim_path", CLAIMS, ids=[p.name.removesuffix(".claim.json") for p in CLAIMS])
def test_golden(policy: engine.CompiledPolicy, claim_path: Path, lang: str) -> None:
    name = claim_path.name.removesuffix(".claim.json")
    golden = GOLDEN / f"{name}.{lang}.txt"
    got = _render(policy, claim_path, lang)
    if UPDATE:
        golden.write_text(got, encoding="utf-8")
        return
    assert golden.exists(), f"{golden.name} missing: run UPDATE_GOLDEN=1 pytest {Path(__file__).name} and review it"
    want = golden.read_text(encoding="utf-8")
    if got != want:
        diff = "\n".join(difflib.unified_diff(want.splitlines(), got.splitlines(), f"{golden.name} (reviewed)", "rendered now", lineterm=""))
        pytest.fail(f"{golden.name} differs from the reviewed explanation:\n{diff}")


def test_goldens_cover_every_status_and_every_paying_rule(policy: engine.CompiledPolicy) -> None:
    statuses: set[str] = set()
    paid_rules: set[str] = set()
    reduced_by_cap = history_used = False
    for path in CLAIMS:
        data, _ = read_document(path)
        d = engine.evaluate(policy, data).to_dict()
        for item in d["items"]:
            statuses.add(item["status"])
            if item["status"] in ("granted", "reduced", "referred", "pending_review"):
                paid_rules.add(item["rule"])
            for s in item["steps"]:
                if s["step"] == "cap" and s["bites"]:
                    reduced_by_cap = True
                if s["step"] == "cap" and s.get("used_by_history", "0.00") != "0.00":
                    history_used = True
                if s["step"] == "limit" and data.get("history") and s["used_before"] > 0:
                    history_used = True
    assert statuses == {"granted", "reduced", "refused", "incomplete", "referred", "pending_review"}
    assert paid_rules == {r.id for r in policy.rules}
    assert reduced_by_cap and history_used
