"""What an explanation says of an item's amount: a calculation the policy's rounding changed says so (R8: a rate
applied to a cost is rounded half up to 0.01 before any cap), in every format, live and from its record, and an exact
product says nothing; a reduced item says why not more without its trace too."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

import engine
from engine.explaining.render import explain

ROOT = Path(__file__).resolve().parent.parent


def _claim(fees: str) -> dict:
    """The example application's invention patent (第五条第（一）项: 50 % of the official fees, no cap) alone."""
    data = json.loads((ROOT / "examples" / "claim_enterprise_2021.json").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data["items"] = [dict(data["items"][0], official_fees_paid=fees)]
    return data


@pytest.mark.parametrize("recorded", [False, True], ids=["decision", "record"])
def test_a_rounded_rate_line_says_how_it_was_rounded(policy: engine.CompiledPolicy, recorded: bool) -> None:
    # by hand: 8,400.01 × 50 % = 4,200.005, rounded half up to 0.01 (R8) = 4,200.01
    d = engine.evaluate(policy, _claim("8400.01"))
    assert str(d.total) == "4200.01"
    given = d.to_dict() if recorded else d
    zh = explain(policy, given, "zh", "text")
    assert "获得专利权所缴纳的官方规定费用 8,400.01 元 × 50% = 4,200.01 元（四舍五入至 0.01 元）\n" in zh
    en = explain(policy, given, "en", "text")
    assert "CNY 8,400.01 × 50% = CNY 4,200.01 (rounded half up to CNY 0.01)\n" in en
    assert "4,200.01 元（四舍五入至 0.01 元）" in explain(policy, given, "zh", "md")
    assert "4,200.01 元（四舍五入至 0.01 元）</li>" in explain(policy, given, "zh", "html")


def test_an_exact_rate_line_says_no_rounding(policy: engine.CompiledPolicy) -> None:
    # by hand: 8,400.02 × 50 % = 4,200.01 exactly: nothing was rounded
    d = engine.evaluate(policy, _claim("8400.02"))
    assert str(d.total) == "4200.01"
    for given in (d, d.to_dict()):
        zh = explain(policy, given, "zh", "text")
        assert "8,400.02 元 × 50% = 4,200.01 元\n" in zh
        assert "（四舍五入至" not in zh
        assert "(rounded half up to" not in explain(policy, given, "en", "text")


@pytest.mark.parametrize("recorded", [False, True], ids=["decision", "record"])
def test_a_reduced_item_without_its_trace_still_says_why_not_more(policy: engine.CompiledPolicy, recorded: bool) -> None:
    # (session 24) without the trace (the service's default) a reduced item's "why not more" was a heading over
    # nothing. By hand, the example application: loan l1 pays 500,000 × 50 % = 250,000.00 of the yearly 30 万 cap
    # (第六条第（一）项, R11); loan l2 asks 200,000 × 50 % = 100,000.00 and gets the 50,000.00 left
    data = json.loads((ROOT / "examples" / "claim_enterprise_2021.json").read_text(encoding="utf-8"))
    d = engine.evaluate(policy, data, trace=False)
    given = json.loads(d.to_json()) if recorded else d
    zh = explain(policy, given, "zh", "text")
    assert "为何不是更多：申请 100,000.00 元，依第六条第（一）项核减为 50,000.00 元。\n" in zh
    en = explain(policy, given, "en", "text")
    assert "Why not more: Asked CNY 100,000.00; cut to CNY 50,000.00 under 第六条第（一）项.\n" in en
    html = explain(policy, given, "zh", "html")
    assert "申请 100,000.00 元，依第六条第（一）项核减为 50,000.00 元。" in html


def _rounding_policy(tmp_path: Path, rounding: str) -> engine.CompiledPolicy:
    """The Pinggu policy with its `rounding:` replaced (a district that pays whole yuan, or rounds down)."""
    import shutil

    source = ROOT / "policies" / "pinggu_2020.yaml"
    text = source.read_text(encoding="utf-8")
    old = '  rounding:\n    quantum: "0.01"\n    mode: half_up\n'
    assert old in text
    shutil.copytree(source.parent / "texts", tmp_path / "texts")
    (tmp_path / source.name).write_text(text.replace(old, rounding, 1), encoding="utf-8")
    return engine.load_policy(tmp_path / source.name)


def test_the_note_says_the_policys_own_mode_and_quantum(tmp_path: Path) -> None:
    # (the review of session 24) `mode: down` was said as its code, "（down 0.01 元）"; a quantum of 1 as "1.00 元".
    # By hand: 8,400.03 × 50 % = 4,200.015, rounded down to 0.01 = 4,200.01; 8,401.00 × 50 % = 4,200.50, half up to 1 = 4,201
    down = _rounding_policy(tmp_path / "down", '  rounding:\n    quantum: "0.01"\n    mode: down\n')
    d = engine.evaluate(down, _claim("8400.03"))
    assert str(d.total) == "4200.01"
    assert "8,400.03 元 × 50% = 4,200.01 元（舍去尾数至 0.01 元）\n" in explain(down, d, "zh", "text")
    assert "CNY 8,400.03 × 50% = CNY 4,200.01 (rounded down (toward zero) to CNY 0.01)\n" in explain(down, d, "en", "text")
    whole = _rounding_policy(tmp_path / "whole", '  rounding:\n    quantum: "1"\n    mode: half_up\n')
    d = engine.evaluate(whole, _claim("8401.00"))
    assert d.total == Decimal("4201")
    assert "8,401.00 元 × 50% = 4,201.00 元（四舍五入至 1 元）\n" in explain(whole, d.to_dict(), "zh", "text")


def test_a_panels_amount_the_policy_rounds_says_both_and_the_rounding(tmp_path: Path) -> None:
    # (the review of session 24) the panel's 80,000.50 paid as 80,001 under a policy paying whole yuan was said as
    # "评审推荐支持金额（评审后填写） 80,000.50 元", with no word of the 80,001 paid (第八条, R18: the panel's amount)
    from conftest import claim, item

    whole = _rounding_policy(tmp_path, '  rounding:\n    quantum: "1"\n    mode: half_up\n')
    d = engine.evaluate(whole, claim(item("service_agency_performance", panel_amount="80000.50"), applicant="agency"))
    assert d.total == Decimal("80001")
    for given in (d, d.to_dict()):
        zh = explain(whole, given, "zh", "text")
        # the fact by its short name (`short:`), not the form's heading with its filling hint （评审后填写）
        assert "评审推荐金额 80,000.50 元 → 80,001.00 元（四舍五入至 1 元）\n" in zh
        assert "评审后填写" not in zh


def test_a_recorded_figure_that_is_no_rounding_gets_no_note(policy: engine.CompiledPolicy) -> None:
    # (the review of session 24) a record whose amount step was edited to 0.00 was said "8,400.01 元 × 50% = 0.00 元
    # （四舍五入至 0.01 元）": the note says only what the policy's rounding does
    record = engine.evaluate(policy, _claim("8400.01")).to_dict()
    step = next(s for s in record["items"][0]["steps"] if s["step"] == "amount")
    for value in ("0.00", "-5.00", "4200.02"):
        step["value"] = value
        zh = explain(policy, record, "zh", "text")
        assert "8,400.01 元 × 50% = " in zh and "（四舍五入至" not in zh, value


@pytest.mark.parametrize("recorded", [False, True], ids=["decision", "record"])
def test_an_item_a_cap_refused_without_its_trace_says_so(policy: engine.CompiledPolicy, recorded: bool) -> None:
    # (session 24) without the trace a cap's refusal read "未满足「封顶额度已用尽：…」；该条件满足方可支持" -- as if a
    # condition were unmet. By hand: the enterprise's 2021 pledge subsidies already total 300,000.00 (history), the
    # yearly 30 万 cap of 第六条第（一）项 (R11); loan L1's 200,000 × 50 % = 100,000.00 finds no room: refused
    from conftest import ENTERPRISE_ID, cap_use, claim, history_grant, item, limit_use

    earlier = history_grant(
        "pledge-loan-interest",
        "300000.00",
        cap_use("pledge-annual-cap", [ENTERPRISE_ID, 2021], "300000.00"),
        limit_use("pledge-three-times", [ENTERPRISE_ID], ["L0", 2021]),
    )
    d = engine.evaluate(
        policy, claim(item("pledge_loan_interest", "l1", loan_id="L1", annual_interest_paid="200000.00"), history=[earlier]), trace=False
    )
    assert [(i.status, str(i.amount)) for i in d.items] == [("refused", "0.00")]
    given = d.to_dict() if recorded else d
    assert "为何不是更多：依第六条第（一）项的封顶，额度已无剩余，本项无可支持。\n" in explain(policy, given, "zh", "text")
    assert "Why not more: The cap of 第六条第（一）项 leaves no room, so the item is paid nothing.\n" in explain(
        policy, given, "en", "text"
    )


def test_a_condition_of_category_cap_is_said_as_a_condition(tmp_path: Path) -> None:
    # (the last review of session 24) a `when:` test a policy gives `category: cap` was said as a cap with no room
    # left ("依第六条第（一）项的封顶，额度已无剩余"), hiding the unmet condition, even with the trace
    import shutil

    from conftest import claim, item

    source = ROOT / "policies" / "pinggu_2020.yaml"
    text = source.read_text(encoding="utf-8")
    old = "      - test: item.lender_is_bank\n        says: {zh: 贷款须为银行贷款, en: the loan must come from a bank}\n"
    assert old in text
    shutil.copytree(source.parent / "texts", tmp_path / "texts")
    (tmp_path / source.name).write_text(text.replace(old, old + "        category: cap\n", 1), encoding="utf-8")
    varied = engine.load_policy(tmp_path / source.name)
    for trace in (True, False):
        d = engine.evaluate(varied, claim(item("pledge_loan_interest", lender_is_bank=False)), trace=trace)
        assert [i.status for i in d.items] == ["refused"]
        for given in (d, d.to_dict()):
            zh = explain(varied, given, "zh", "text")
            assert "为何不是更多：未满足第六条第（一）项规定的条件：贷款须为银行贷款；" in zh and "额度已无剩余" not in zh
