"""A check's values shown beside its facts (`shows:`): 第十四条's five-year bar says when it ends (reviewer finding B5).

R24: the bar runs from the finding's date through the same calendar date five years later, inclusive; 29 February
ends on 28 February. The dates below are worked by hand from R24, not read from the engine:

* found 2017-03-15, submitted 2022-03-15: barred, through 2022-03-15 (the fifth anniversary, inclusive);
* found 2016-02-29: through 2021-02-28 (2021 has no 29 February);
* found 2017-03-14, submitted 2022-03-15: not barred, its bar ended 2022-03-14;
* found 2015-01-01, 2019-06-30 and 2023-01-01, submitted 2022-03-15: the latest finding on or before the submission
  is 2019-06-30 (the 2023 one comes after it), barred through 2024-06-30.

With no finding nothing is shown, and the decision's JSON and words are those of before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import claim, decide, item, policy_beside

import engine

BAR = "five-year-bar"


def _bar_step(decision: dict[str, Any]) -> dict[str, Any]:
    (step,) = [s for s in decision["standing"]["steps"] if s.get("check") == BAR]
    return step


def _bar_line(policy: Any, decision: Any, lang: str) -> str:
    (line,) = [ln for ln in engine.explain(policy, decision, lang=lang).splitlines() if "第十四条" in ln and ("✓" in ln or "✗" in ln)]
    return line.strip()


@pytest.mark.parametrize(
    ("found", "submitted", "funding_year", "barred", "through"),
    [
        (["2017-03-15"], "2022-03-15", 2021, True, "2022-03-15"),
        (["2016-02-29"], "2021-02-28", 2021, True, "2021-02-28"),
        (["2017-03-14"], "2022-03-15", 2021, False, "2022-03-14"),
        (["2015-01-01", "2019-06-30", "2023-01-01"], "2022-03-15", 2021, True, "2024-06-30"),
    ],
)
def test_the_bar_says_when_it_ends(policy: Any, found: list[str], submitted: str, funding_year: int, barred: bool, through: str) -> None:
    data = claim(item("china_patent_award"), fraud_finding_dates=found, submission_date=submitted, funding_year=funding_year)
    d = decide(policy, data)
    step = _bar_step(d)
    assert step["result"] is (not barred)
    assert [(s["value"], s["type"]) for s in step["shows"]] == [(through, "date")]
    assert step["shows"][0]["label"] == {"zh": "限制期至 {value}（含当日）", "en": "barred through {value} (inclusive)"}
    decision = engine.evaluate(policy, engine.parse_claim(policy, data))
    zh, en = _bar_line(policy, decision, "zh"), _bar_line(policy, decision, "en")
    assert zh.startswith("✗" if barred else "✓")
    # the facts are shown on a held line too, once a value is: the finding on record and when its bar ended
    assert f"申报提交日期为 {submitted}；限制期至 {through}（含当日））" in zh
    assert f"date the application was submitted: {submitted}; barred through {through} (inclusive))" in en


def test_the_bar_of_rv_21_10_ended_the_day_before_its_submission(policy: Any) -> None:
    """RV-21-10 of the review: found 2017-03-14, submitted 2022-03-15; not barred, and the line says so in full."""
    data = claim(item("china_patent_award"), fraud_finding_dates=["2017-03-14"], submission_date="2022-03-15")
    decision = engine.evaluate(policy, engine.parse_claim(policy, data))
    assert _bar_line(policy, decision, "zh") == (
        "✓ 第十四条：因弄虚作假套取资金被认定之日起五年内不得申报（申报事实：被认定弄虚作假套取资金的日期为 2017-03-14；"
        "申报提交日期为 2022-03-15；限制期至 2022-03-14（含当日））"
    )


def test_no_finding_shows_nothing(policy: Any) -> None:
    """The common path: no finding, no value; the step has no `shows` and the line is the check's words alone."""
    data = claim(item("china_patent_award"), submission_date="2022-03-15")
    d = decide(policy, data)
    assert "shows" not in _bar_step(d)
    decision = engine.evaluate(policy, engine.parse_claim(policy, data))
    assert _bar_line(policy, decision, "zh") == "✓ 第十四条：因弄虚作假套取资金被认定之日起五年内不得申报"


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_recorded_decision_says_the_same(policy: Any, lang: str, fmt: str) -> None:
    """An explanation drawn from the decision's JSON record says what the decision's own says (text, md, html)."""
    for found in (["2017-03-15"], ["2017-03-14"], []):
        data = claim(item("china_patent_award"), fraud_finding_dates=found, submission_date="2022-03-15")
        decision = engine.evaluate(policy, engine.parse_claim(policy, data))
        record = json.loads(decision.to_json(indent=None))
        assert record == decision.to_dict()
        live, recorded = engine.explain(policy, decision, lang=lang, fmt=fmt), engine.explain(policy, record, lang=lang, fmt=fmt)
        assert live == recorded
        if found and lang == "zh":
            assert "限制期至 2022-03-1" in recorded


def test_an_item_level_check_shows_values_too(tmp_path: Path) -> None:
    """An item-level check's `shows:` reads the item's facts (it did not load before: the item's steps were written
    by generated code with no place for them; tests/test_item_shows.py holds the explanations)."""
    bad = policy_beside(tmp_path)
    text = bad.read_text(encoding="utf-8")
    anchor = "    test: year(item.date) == claim.funding_year\n"
    assert text.count(anchor) == 1
    bad.write_text(text.replace(anchor, anchor + "    shows:\n      - {value: item.date, zh: 事项日期}\n"), encoding="utf-8")
    (check,) = [t for r in engine.load_policy(bad).rules for t in r.item_checks if t.id == "occurred-in-funding-year"][:1]
    assert [(s.value.source, s.label.zh) for s in check.shows] == [("item.date", "事项日期")]
