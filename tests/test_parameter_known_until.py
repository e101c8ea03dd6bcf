"""A dated parameter's `known_until:`: the last day its values are known for (policy-language.md §8a).

A rate announced monthly (the LPR) has no value yet for a day after the last announcement a policy records; before
`known_until`, the last value stood in for every later day, so OT03 paid a 2026 repayment on the 3.00% of May 2025
as if it were the December 2026 LPR (the hand audit of session 39 found it). Values below are worked by hand from
OT03's text ([F1]: 20% x min(actual rate, the one-year LPR of December of the repayment year), note OT3-N2) and its
LPR table (CFETS announcements).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from test_localities_by_hand import HERE, OT03_SMALL, claim, decide, items, ot03_loan, policy

import engine
from engine.core.i18n import tr
from engine.language.model import CompiledPolicy, Parameter, ParameterValue, Text
from engine.officer.diff import diff_policies

RATE = "一年期贷款市场报价利率（LPR）"


def test_a_day_after_known_until_has_no_value_and_the_last_value_does_not_stand_in() -> None:
    lpr = Parameter(
        "lpr_1y",
        Text("LPR", "LPR"),
        "percent",
        (ParameterValue(dt.date(2025, 5, 20), Decimal("0.03"), Text("s", "s"), "3.00%"),),
        known_until=dt.date(2025, 6, 19),
    )
    assert lpr.at(dt.date(2025, 6, 19)).value == Decimal("0.03")  # its last day: still known
    assert lpr.at(dt.date(2025, 6, 20)) is None
    assert lpr.at(dt.date(2025, 5, 19)) is None  # before the first value, as before


def test_ot03_a_repayment_whose_december_lpr_is_not_yet_known_waits_for_it() -> None:
    """Repaid 2025-03-01: the December 2025 LPR is looked up on 2025-12-31, after known_until 2025-06-19 (OT3-N6), so
    the item is incomplete, its missing fact that value; it was granted on the 3.00% of May 2025 before:
    1,000,000.00 x min(4.00%, 3.00%) x 273 / 365 days x 20% = 4,487.67."""
    loan = ot03_loan("l1", "pledge_loan", "1000000.00", "4.00%", "2024-06-01", "2025-03-01")
    d = decide("OT03", claim("OT03", OT03_SMALL, 2025, loan))
    (item,) = d["items"]
    assert (item["status"], item["amount"], item["missing_facts"]) == ("incomplete", "0.00", ["param.lpr_1y@2025-12-31"])
    (step,) = [s for s in item["steps"] if s["step"] == "parameter"]
    assert (step["date"], step["value"], step["known_until"]) == ("2025-12-31", None, "2025-06-19")


def test_ot03_a_repayment_whose_december_lpr_is_known_is_paid_as_before() -> None:
    """Repaid 2024-01-01, interest from 2023-01-01 (a whole year): the December 2024 LPR, 3.10% (CFETS 21 Oct 2024),
    is before known_until: 1,000,000.00 x 3.10% x 20% = 6,200.00. Its parameter step carries known_until too."""
    d = decide("OT03", claim("OT03", OT03_SMALL, 2024, ot03_loan("l2", "pledge_loan", "1000000.00", "4.00%", "2023-01-01", "2024-01-01")))
    assert items(d) == {"l2": ("granted", "6200.00", "6200.00", [])}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_explanation_says_the_value_is_not_yet_given_live_and_from_the_record_alike(lang: str) -> None:
    pol = policy("OT03")
    loan = ot03_loan("l1", "pledge_loan", "1000000.00", "4.00%", "2024-06-01", "2025-03-01")
    decision = engine.evaluate(pol, claim("OT03", OT03_SMALL, 2025, loan))
    line = {
        "zh": f"{RATE}：2025-12-31 的取值尚未载明（本办法所列取值截至 2025-06-19）",
        "en": "one-year loan prime rate (LPR): no value known for 2025-12-31 (the policy gives its values until 2025-06-19)",
    }[lang]
    live = engine.explain(pol, decision, lang=lang)
    recorded = engine.explain(pol, json.loads(decision.to_json()), lang=lang)
    assert line in live
    assert line in recorded
    assert "首个取值自" not in live and "the first is in force from" not in live  # (not the before-the-first line)


def _with_known_until(tmp_path: Path, until: str) -> Path:
    text = (HERE / "OT03.yaml").read_text(encoding="utf-8")
    assert 'known_until: "2025-06-19"' in text
    written = text.replace('known_until: "2025-06-19"', f"known_until: {until}")
    out = tmp_path / "OT03.yaml"
    out.write_text(written, encoding="utf-8")
    source = "OT03_fujian_2022_pledge_loan_interest_qa.txt"  # (its `source_text:`, read beside it)
    (tmp_path / source).write_bytes((HERE / source).read_bytes())
    return out


def test_known_until_before_the_last_value_is_refused_where_it_is_written(tmp_path: Path) -> None:
    """The last value is from 2025-05-20: known until 2025-05-19 would end it before it begins."""
    path = _with_known_until(tmp_path, '"2025-05-19"')
    with pytest.raises(engine.PolicyError) as err:
        engine.load_policy(path)
    (problem,) = [p for p in err.value.problems if p.path == ("parameters", "lpr_1y", "known_until")]
    assert problem.said("zh").endswith(
        "parameters.lpr_1y.known_until：known_until 2025-05-19 早于最后一个取值的起始日期 2025-05-20：最后一个取值尚未生效即已截止\n"
        "    应为 不早于 2025-05-20（最后一个取值的 from）的日期，即已知取值的最后一天"
    )
    assert problem.line is not None


def test_known_until_written_with_slashes_is_refused_with_its_iso_form(tmp_path: Path) -> None:
    path = _with_known_until(tmp_path, '"2025/6/19"')
    with pytest.raises(engine.PolicyError) as err:
        engine.load_policy(path)
    said = " ".join(p.said("zh") for p in err.value.problems if p.path[:3] == ("parameters", "lpr_1y", "known_until"))
    assert "2025-06-19" in said


def _without_known_until(policy: CompiledPolicy) -> CompiledPolicy:
    lpr = policy.parameters["lpr_1y"]
    return dataclasses.replace(policy, parameters={**policy.parameters, "lpr_1y": dataclasses.replace(lpr, known_until=None)})


def test_diff_says_when_known_until_is_written_moved_or_taken_out(tmp_path: Path) -> None:
    old = engine.load_policy(_with_known_until(tmp_path, '"2025-06-19"'))
    moved_dir = tmp_path / "moved"
    moved_dir.mkdir()
    new = engine.load_policy(_with_known_until(moved_dir, '"2025-07-20"'))
    (change,) = [c for c in diff_policies(old, new) if c.kind == "parameter.known_until"]
    assert (change.subject, change.old, change.new) == ("lpr_1y", "2025-06-19", "2025-07-20")
    assert tr(change.text, "zh") == f"参数 lpr_1y（{RATE}）：已知取值截至 2025-06-19 → 2025-07-20"
    (taken_out,) = [c for c in diff_policies(old, _without_known_until(old)) if c.kind == "parameter.known_until"]
    assert tr(taken_out.text, "zh") == f"参数 lpr_1y（{RATE}）：已知取值截至 2025-06-19 → 未写（最后一个取值一直有效）"


def test_lint_warns_where_known_until_ends_before_the_windows_last_year() -> None:
    """OT03 is in force for funding years 2022-2026 and knows the LPR until 2025-06-19: an item of 2025 or 2026 looks
    up a December LPR past it, held incomplete until the value is added; lint says so where known_until is written."""
    from engine.officer.lint import lint_file

    (warning,) = [p for p in lint_file(HERE / "OT03.yaml") if p.code == "lint.parameter_known_until_early"]
    assert (warning.severity, warning.path) == ("warning", ("parameters", "lpr_1y", "known_until"))
    assert tr(warning.message, "zh") == (
        "参数 lpr_1y 的取值已知截至 2025-06-19，而本办法的申报年度到 2026 年：查询更晚日期取值的事项查不到取值，在补录前会被判为待补正"
    )
    assert warning.line is not None
