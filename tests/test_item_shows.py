"""An item-level check may show values derived from its facts (`shows:`), as an applicant-level check does.

Before, `shows:` on an item-level check did not load ("shows is for applicant-level checks only"): other districts'
measures set deadlines from an item's own dates (申报须在授权后一年内提出), and a reviewer wants the deadline beside
the date. Here Pinggu's 第十一条 check (the item occurred in the funding year) is given, for the test, a value: the
last day of the funding year, `date_of(claim.funding_year, 12, 31)` -- 2021-12-31 for funding year 2021.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import claim, item, patent_number, policy_edited

import engine
from engine.explaining.render import explain

CHECK = "    test: year(item.date) == claim.funding_year\n"
SHOWS = (
    "    shows:\n"
    '      - value: "date_of(year(item.date), 12, 31)"\n'
    "        zh: 事项发生年度末为 {value}\n"
    '        en: "the end of the item\'s year: {value}"\n'
)


@pytest.fixture(scope="module")
def showing(tmp_path_factory: pytest.TempPathFactory) -> engine.CompiledPolicy:
    folder = tmp_path_factory.mktemp("shows")
    return engine.load_policy(policy_edited(folder, CHECK, CHECK + SHOWS))


def _claim() -> dict[str, Any]:
    return claim(
        item("invention_patent_grant", "in", date="2021-06-18", patent_id=patent_number(501)),
        item("invention_patent_grant", "out", date="2020-12-28", patent_id=patent_number(502)),
        item("invention_patent_grant", "in2", date="2021-03-02", patent_id=patent_number(503)),
    )


def test_the_step_records_the_value_whatever_the_result(showing: engine.CompiledPolicy) -> None:
    decision = engine.evaluate(showing, _claim())
    data = decision.to_dict()
    shown = {}
    for it in data["items"]:
        (step,) = [s for s in it["steps"] if s.get("check") == "occurred-in-funding-year"]
        shown[it["item"]] = (step["result"], [v["value"] for v in step["shows"]])
    assert shown == {"in": (True, ["2021-12-31"]), "out": (False, ["2020-12-31"]), "in2": (True, ["2021-12-31"])}
    assert json.loads(decision.to_json()) == data  # the fast writers write the same


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_items_line_shows_its_own_value(showing: engine.CompiledPolicy, lang: str) -> None:
    decision = engine.evaluate(showing, _claim())
    text = explain(showing, decision, lang=lang)
    if lang == "zh":
        assert (
            "     ✓ 第十一条：事项须发生在申报年度（上一年度）内（申报事实：事项发生日期为 2021-06-18；申报年度为 2021 年度；事项发生年度末为 2021-12-31）\n"
            in text
        )
        assert (
            "     ✗ 第十一条：事项须发生在申报年度（上一年度）内（申报事实：事项发生日期为 2020-12-28；申报年度为 2021 年度；事项发生年度末为 2020-12-31）\n"
            in text
        )
        assert "事项发生日期为 2021-03-02；申报年度为 2021 年度；事项发生年度末为 2021-12-31）\n" in text
    else:
        assert "the end of the item's year: 2020-12-31" in text
    recorded = explain(showing, json.loads(decision.to_json()), lang=lang)
    assert recorded == text
    assert explain(showing, json.loads(decision.to_json()), lang=lang, format="html") == explain(
        showing, decision, lang=lang, format="html"
    )
