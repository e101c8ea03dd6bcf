"""An explanation's header shows the claim facts the policy names (`policy.header_facts`) -- Pinggu: the submission
date, against which 第十一条 and 第十四条 are checked -- and a recorded decision's ledger record number (reviewer
finding C3). The decision records those facts (`claim_facts`), so an explanation drawn from the record says the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import claim, decide, item, policy_beside

import engine


def _header(text: str) -> list[str]:
    return text.split("\n\n", 1)[0].splitlines()


def test_the_header_shows_the_submission_date(policy: Any) -> None:
    data = claim(item("china_patent_award"), submission_date="2022-03-15")
    assert decide(policy, data)["claim_facts"] == {"submission_date": "2022-03-15"}
    decision = engine.evaluate(policy, engine.parse_claim(policy, data))
    zh = _header(engine.explain(policy, decision, lang="zh"))
    assert zh[4:6] == ["申报年度：2021 年度", "申报提交日期：2022-03-15"]
    en = _header(engine.explain(policy, decision, lang="en"))
    assert en[4:6] == ["Funding year: 2021", "Date the application was submitted: 2022-03-15"]
    assert not any("台账记录号" in line for line in zh)  # a decision just made is in no ledger


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_a_recorded_decision_shows_its_ledger_record(policy: Any, fmt: str) -> None:
    data = claim(item("china_patent_award"), submission_date="2022-03-15")
    decision = engine.evaluate(policy, engine.parse_claim(policy, data))
    record = json.loads(decision.to_json(indent=None))
    assert engine.explain(policy, record, lang="zh", fmt=fmt) == engine.explain(policy, decision, lang="zh", fmt=fmt)
    record["ledger"] = {"commit": 7, "round": "pinggu-ip-promotion/2021", "status": "committed"}
    text = engine.explain(policy, record, lang="zh", fmt=fmt)
    assert "申报提交日期" in text and "2022-03-15" in text
    assert "台账记录号" in text
    if fmt == "text":
        assert _header(text)[5:7] == ["申报提交日期：2022-03-15", "台账记录号：7"]
        assert _header(engine.explain(policy, record, lang="en"))[6] == "Ledger record no.: 7"


def test_no_header_facts_no_claim_facts(tmp_path: Path) -> None:
    """A policy naming no header facts: no `claim_facts` in its decisions, and the header as before."""
    path = policy_beside(tmp_path)
    text = path.read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines(keepends=True) if ln.startswith("  header_facts:"))
    path.write_text(text.replace(line, ""), encoding="utf-8")
    policy = engine.load_policy(path)
    data = claim(item("china_patent_award"), submission_date="2022-03-15")
    assert "claim_facts" not in decide(policy, data)
    assert not any("申报提交日期" in ln for ln in _header(engine.explain(policy, engine.evaluate(policy, data))))


def test_a_header_fact_must_be_a_claim_fact(tmp_path: Path) -> None:
    path = policy_beside(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("header_facts: [submission_date]", "header_facts: [submision_date]"), encoding="utf-8")
    with pytest.raises(engine.PolicyError) as raised:
        engine.load_policy(path)
    assert [(p.code, p.path) for p in raised.value.problems] == [("unknown_fact", ("policy", "header_facts", 0))]
    assert "submission_date" in str(raised.value.problems[0].expected)


def test_two_header_facts_are_written_as_the_dict_has_them(tmp_path: Path) -> None:
    """The compact JSON writer (engine.deciding.jsontext) writes `claim_facts` as `to_dict` has it, with two facts."""
    path = policy_beside(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("header_facts: [submission_date]", "header_facts: [submission_date, funding_year]"), encoding="utf-8")
    policy = engine.load_policy(path)
    decision = engine.evaluate(policy, claim(item("china_patent_award"), submission_date="2022-03-15"))
    assert decision.to_dict()["claim_facts"] == {"submission_date": "2022-03-15", "funding_year": 2021}
    assert decision.to_json(indent=None) == json.dumps(decision.to_dict(), ensure_ascii=False) + "\n"
    header = _header(engine.explain(policy, decision, lang="zh"))
    # the funding year by its short name, said as a year as the header's own line says it (申报年度：2021 年度)
    assert header[5:7] == ["申报提交日期：2022-03-15", "申报年度：2021 年度"]
