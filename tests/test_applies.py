"""A condition that does not apply to an item is said so (`applies:`), not ticked.

第五条（一） with N7: a Chinese patent number's kind digit (the 5th of 12 digits) must say the kind of patent given.
Another office's number (US11000001) has no kind digit, so the check cannot be made; the old test
`patent_kind(item.patent_id) in ("", item.patent_kind)` passed it and the explanation showed a ✓, as if the digit had
been checked (review40's and review41's finding). Now the condition reads `applies: patent_kind(item.patent_id) != ""`:
the item still passes, and the line says 不适用 / not applicable with the facts that say so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import claim, item, load_refused, patent_number, policy_edited

import engine
from engine.core.identifiers import cn_patent_check_char
from engine.explaining.render import explain

LINE = "第五条第（一）项：专利号中表示专利类型的一位（12 位申请号的第 5 位，8 位的第 3 位）须与所填专利类型一致"
LINE_EN = "第五条第（一）项: the patent number's kind digit (the 5th of 12 digits, the 3rd of 8) must say the kind of patent given"


def _utility_number(n: int) -> str:
    digits = f"20212{n:07d}"  # kind digit 2: a utility model
    return f"ZL{digits}.{cn_patent_check_char(digits)}"


def _claim() -> dict[str, Any]:
    # fees 8,400.00 × 50% = 4,200.00 each granted item
    return claim(
        item("invention_patent_grant", "cn", patent_id=patent_number(301)),
        item("invention_patent_grant", "us", patent_id="US11000001"),
        item("invention_patent_grant", "um", patent_id=_utility_number(302)),
        item("invention_patent_grant", "us2", patent_id="US11000002"),
    )


def _kind_step(item_json: dict[str, Any]) -> dict[str, Any]:
    (step,) = [s for s in item_json["steps"] if s.get("check") == "invention-patent-fees#when2"]
    return step


def test_the_decision_is_unchanged_and_records_where_the_check_did_not_apply(policy: engine.CompiledPolicy) -> None:
    decision = engine.evaluate(policy, _claim())
    data = decision.to_dict()
    got = {it["item"]: (it["status"], it["amount"], _kind_step(it)["result"], _kind_step(it).get("applies")) for it in data["items"]}
    assert got == {
        "cn": ("granted", "4200.00", True, None),  # kind digit 1, an invention: checked and held
        "us": ("granted", "4200.00", True, False),  # no kind digit: not applicable, the item passes
        "um": ("refused", "0.00", False, None),  # kind digit 2 says utility model, claimed as invention
        "us2": ("granted", "4200.00", True, False),
    }
    assert json.loads(decision.to_json()) == data  # the fast JSON writer writes the same


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_line_says_not_applicable_with_the_facts(policy: engine.CompiledPolicy, lang: str) -> None:
    text = explain(policy, engine.evaluate(policy, _claim()), lang=lang)
    if lang == "zh":
        assert f"     ✓ {LINE}\n" in text  # cn
        assert f"     – {LINE}：不适用（申报事实：专利号为 US11000001；专利类型为发明专利）\n" in text
        assert f"     – {LINE}：不适用（申报事实：专利号为 US11000002；专利类型为发明专利）\n" in text
        assert f"     ✗ {LINE}（申报事实：专利号为 {_utility_number(302)}；专利类型为发明专利）\n" in text
        assert text.count(f"✓ {LINE}") == 1
    else:
        assert f"     ✓ {LINE_EN}\n" in text
        assert f"     – {LINE_EN}: not applicable (as claimed: patent number: US11000001; kind of patent: invention patent)\n" in text
        assert text.count(f"✓ {LINE_EN}") == 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_recorded_decision_says_the_same(policy: engine.CompiledPolicy, lang: str) -> None:
    decision = engine.evaluate(policy, _claim())
    for fmt in ("text", "html", "md"):
        assert explain(policy, json.loads(decision.to_json()), lang=lang, format=fmt) == explain(policy, decision, lang=lang, format=fmt)


APPLIES = '        applies: patent_kind(item.patent_id) != ""  # another office\'s number says no kind: not applicable (N7)\n'


def test_applies_must_be_yes_or_no(tmp_path: Path) -> None:
    said = load_refused(policy_edited(tmp_path, APPLIES, "        applies: patent_kind(item.patent_id)\n"))
    assert "when[1].applies" in said and "`applies` must be yes/no" in said


def test_applies_on_an_applicant_check_is_refused(tmp_path: Path) -> None:
    old = "    test: year(claim.submission_date) == claim.funding_year + 1\n"
    said = load_refused(policy_edited(tmp_path, old, old + "    applies: claim.funding_year > 2020\n"))
    assert "applies: is for item-level checks and a rule's conditions only" in said
