"""A check names a reading only on the items where the reading's `when:` holds (`readings: [{id, when}]`).

第四条第三款 (the first right holder) rests on two readings that speak of different applicants:
- R4: several right holders, only the first listed may be supported; a claim by any other holder is refused;
- R30: an applicant who is not among the holders at all is refused like a non-first holder; an item that lists no
  holders has the applicant as its sole holder.

Before, both were named under every invention patent item, whichever applied (review40's finding). Now the check
names R4 where the applicant is among several holders, R30 where it is no holder or none is listed, and neither where
it is the sole holder listed. The expected readings below are worked from R4 and R30's words, not from the engine.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import ENTERPRISE_NAME, claim, item, load_refused, patent_number, policy_edited

import engine
from engine.explaining.render import explain

OTHER = "某大学"

#: item id -> (right holders, status, the readings the right-holder check names)
CASES: dict[str, tuple[list[str], str, list[str]]] = {
    "first": ([ENTERPRISE_NAME, OTHER], "granted", ["R4"]),  # first of several: R4
    "second": ([OTHER, ENTERPRISE_NAME], "refused", ["R4"]),  # a holder, not the first: R4 refuses it
    "absent": ([OTHER, "另一公司"], "refused", ["R30"]),  # no holder at all: R30 refuses it
    "none": ([], "granted", ["R30"]),  # none listed: R30 makes the applicant the sole holder
    "sole": ([ENTERPRISE_NAME], "granted", []),  # the sole holder listed: neither speaks of it
}


def _claim() -> dict[str, Any]:
    # one patent each (the "once per patent" limit is per patent number), fees 8,400.00 × 50% = 4,200.00
    return claim(
        *(item("invention_patent_grant", k, patent_id=patent_number(100 + i), right_holders=v[0]) for i, (k, v) in enumerate(CASES.items()))
    )


def _check_step(item_json: dict[str, Any]) -> dict[str, Any]:
    (step,) = [s for s in item_json["steps"] if s.get("check") == "first-right-holder"]
    return step


def _readings_of(text: str, item_id: str, head: str) -> list[str]:
    """The reading ids an item of a plain-text explanation names (`head`: the item line's word for 事项 / Item)."""
    block = text.split(f" {head} {item_id} · ", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^     (R\d+)[：:]", block, re.M)


def test_the_decision_records_the_readings_the_check_names_on_each_item(policy: engine.CompiledPolicy) -> None:
    decision = engine.evaluate(policy, _claim()).to_dict()
    for it in decision["items"]:
        _, status, named = CASES[it["item"]]
        assert it["status"] == status, it["item"]
        assert _check_step(it)["readings"] == named, it["item"]
    # a check that chooses no reading by a condition records none (its readings are the policy's, as before)
    (time,) = [s for s in decision["items"][0]["steps"] if s.get("check") == "occurred-in-funding-year"]
    assert "readings" not in time


def test_the_fast_json_writer_writes_what_the_decision_records(policy: engine.CompiledPolicy) -> None:
    decision = engine.evaluate(policy, _claim())
    assert json.loads(decision.to_json()) == decision.to_dict()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_item_names_only_the_reading_that_speaks_of_it(policy: engine.CompiledPolicy, lang: str) -> None:
    text = explain(policy, engine.evaluate(policy, _claim()), lang=lang)
    head = "事项" if lang == "zh" else "Item"
    for item_id, (_, _, named) in CASES.items():
        said = _readings_of(text, item_id, head)
        assert [r for r in said if r in ("R4", "R30")] == named, (item_id, said)
        assert "R6" in said  # (a check without conditions names its readings as before)
    if lang == "zh":
        assert "     R30：根本不在事项权利人之列的申请人，与非第一权利人一样不予支持（第四条第三款）；" in text
        assert "     R4：涉及多个权利人的，仅第一权利人可获支持（第四条第三款）。" in text


def test_two_granted_items_of_one_trace_shape_name_their_own_reading(policy: engine.CompiledPolicy) -> None:
    """The generated item writer keeps a readings block per trace shape: the block must follow the item's holders."""
    data = claim(
        *(
            item("invention_patent_grant", f"p{i}", patent_id=patent_number(200 + i), right_holders=h)
            for i, h in enumerate([[ENTERPRISE_NAME, OTHER], [], [ENTERPRISE_NAME, OTHER], [ENTERPRISE_NAME], []])
        )
    )
    text = explain(policy, engine.evaluate(policy, data))
    got = [[r for r in _readings_of(text, f"p{i}", "事项") if r in ("R4", "R30")] for i in range(5)]
    assert got == [["R4"], ["R30"], ["R4"], [], ["R30"]]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_recorded_decision_names_the_same_readings(policy: engine.CompiledPolicy, lang: str) -> None:
    decision = engine.evaluate(policy, _claim())
    live = explain(policy, decision, lang=lang)
    recorded = explain(policy, json.loads(decision.to_json()), lang=lang)
    assert recorded == live
    html_live = explain(policy, decision, lang=lang, fmt="html")
    html_recorded = explain(policy, json.loads(decision.to_json()), lang=lang, fmt="html")
    assert html_recorded == html_live
    sep = "：" if lang == "zh" else ":"
    assert html_live.count(f"<li>R30{sep}") == 2 and html_live.count(f"<li>R4{sep}") == 2


R4_LINE = '      - {id: R4, when: "count(item.right_holders) > 1 and same_name_in(applicant.name, item.right_holders)"}\n'


def test_a_reading_named_by_a_condition_must_be_a_reading_of_the_policy(tmp_path: Path) -> None:
    said = load_refused(policy_edited(tmp_path, R4_LINE, '      - {id: R44, when: "count(item.right_holders) > 1"}\n'))
    assert "readings[0].id" in said and "'R44'" in said


def test_a_condition_that_is_not_yes_or_no_is_refused_at_load(tmp_path: Path) -> None:
    said = load_refused(policy_edited(tmp_path, R4_LINE, '      - {id: R4, when: "count(item.right_holders)"}\n'))
    assert "readings[0].when" in said and "`when` must be yes/no" in said


def test_a_reading_with_when_on_an_applicant_check_is_refused_at_load(tmp_path: Path) -> None:
    old = "    test: year(claim.submission_date) == claim.funding_year + 1\n    says:\n      zh: 申报须在申报年度的次年提出\n      en: the application must be made in the year after the funding year\n    readings: [R6]\n"
    said = load_refused(policy_edited(tmp_path, old, old.replace("[R6]", '[{id: R6, when: "claim.funding_year > 2020"}]')))
    assert "readings[0].when" in said and "a reading with when: is for item-level checks only" in said


def test_same_name_in_compares_as_same_name() -> None:
    from engine.language.expressions import FUNCTIONS

    among = FUNCTIONS["same_name_in"]
    assert among("北京示例（平谷）科技有限公司", ["某大学", "北京示例(平谷)科技有限公司"]) is True  # full- and half-width
    assert among("北京示例科技有限公司", ["某大学"]) is False
    assert among("北京示例科技有限公司", []) is False


def test_diff_says_a_reading_with_its_condition(tmp_path: Path, policy: engine.CompiledPolicy) -> None:
    from engine.core.i18n import tr
    from engine.officer.diff import diff_policies

    r30 = '      - {id: R30, when: "count(item.right_holders) == 0 or not same_name_in(applicant.name, item.right_holders)"}\n'
    older = engine.load_policy(policy_edited(tmp_path, R4_LINE + r30, "      - R4\n      - R30\n"))
    [change] = diff_policies(older, policy)
    zh, en = tr(change.text, "zh"), tr(change.text, "en")
    when_r4 = "count(item.right_holders) > 1 and same_name_in(applicant.name, item.right_holders)"
    assert zh.startswith("审查 first-right-holder：所依据的解读 R4、R30 → R4（" + when_r4 + " 时）、R30（")
    assert en.startswith("check first-right-holder: readings R4, R30 → R4 (when " + when_r4 + "), R30 (when ")
