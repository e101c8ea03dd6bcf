"""`date_of(year, month, day)`: a date built from a year (found missing by the red-team pass, issue 13).

"每年受理上年10月1日至本年9月30日期间授权的专利" needed `add_years(date("2023-10-01"), claim.funding_year - 2024)`
(and lint warned about the 2024). Now it is `date_of(claim.funding_year - 1, 10, 1) <= item.grant_date <=
date_of(claim.funding_year, 9, 30)`, and lint reads a date_of's month and day as a date, not as quantities.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

import engine
from engine.deciding.ready import load_policy
from engine.language.expressions import FUNCTIONS
from engine.officer.lint import lint_file

POLICY = textwrap.dedent(
    """\
    policy:
      id: fiscal-window
      version: "1"
      title: {zh: 年度窗口, en: window}
      source_text: window.zh.txt
      in_force: {funding_years: {from: 2025, to: 2026}}
      rounding: {quantum: "0.01", mode: half_up}
    clauses:
      第一条: {text: "第一条 每件发明专利资助3000元，每年受理上年10月1日至本年9月30日期间授权的专利。", en: window, computable: true}
    applicant_kinds: {enterprise: {zh: 企业, en: enterprise}}
    facts:
      claim:
        funding_year: {type: integer, zh: 年度, en: year}
      applicant:
        id: {type: identifier, zh: 代码, en: code}
        kind: {type: enum, values_from: applicant_kinds, zh: 类型, en: kind}
    item_facts:
      id: {type: string, zh: 编号, en: id}
      type: {type: item_type, zh: 类型, en: type}
    item_types:
      grant:
        zh: 授权
        en: grant
        facts:
          grant_date: {type: date, zh: 授权日, en: grant date}
    rules:
      - id: grant
        cites: 第一条
        item_type: grant
        who: {kinds: [enterprise]}
        when:
          - test: date_of(claim.funding_year - 1, 10, 1) <= item.grant_date <= date_of(claim.funding_year, 9, 30)
            category: time
            says: {zh: 上年10月1日至本年9月30日期间授权, en: granted from 1 October of the previous year to 30 September}
        amount: {fixed: 3000}
    """
)
TEXT = "第一条 每件发明专利资助3000元，每年受理上年10月1日至本年9月30日期间授权的专利。\n"


def write(tmp_path: Path, policy: str = POLICY) -> Path:
    (tmp_path / "window.zh.txt").write_text(TEXT, encoding="utf-8")
    path = tmp_path / "window.yaml"
    path.write_text(policy, encoding="utf-8")
    return path


def test_date_of_builds_the_window_of_a_funding_year(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path))
    items = [{"id": d, "type": "grant", "grant_date": d} for d in ("2024-09-30", "2024-10-01", "2025-09-30", "2025-10-01")]
    claim = {"claim_id": "W-1", "funding_year": 2025, "applicant": {"id": "91000000MART500010", "kind": "enterprise"}, "items": items}
    got = {i.item.id: (i.status, i.amount) for i in engine.evaluate(policy, claim).items}
    # funding year 2025: from date_of(2024, 10, 1) = 2024-10-01 to date_of(2025, 9, 30) = 2025-09-30, both included
    assert got == {
        "2024-09-30": ("refused", Decimal("0.00")),
        "2024-10-01": ("granted", Decimal("3000.00")),
        "2025-09-30": ("granted", Decimal("3000.00")),
        "2025-10-01": ("refused", Decimal("0.00")),
    }


def test_date_of_lints_without_the_month_and_day_as_quantities(tmp_path: Path) -> None:
    assert [p for p in lint_file(write(tmp_path)) if "date_of" in p.message] == []


def test_date_of_takes_whole_numbers(tmp_path: Path) -> None:
    bad = POLICY.replace("date_of(claim.funding_year - 1, 10, 1)", "date_of(item.grant_date, 10, 1)")
    with pytest.raises(engine.PolicyError) as err:
        load_policy(write(tmp_path, bad))
    (p,) = err.value.problems
    assert "date_of()" in p.message and "item.grant_date" in p.message


def test_date_of_clamps_the_day_and_refuses_a_month_outside_the_year() -> None:
    f = FUNCTIONS["date_of"]
    assert f(2025, 2, 31) == dt.date(2025, 2, 28) and f(2024, 2, 31) == dt.date(2024, 2, 29)  # the month's last day
    assert f(Decimal("2025"), 12, 31) == dt.date(2025, 12, 31)
    with pytest.raises(ValueError):
        f(2025, 13, 1)
    with pytest.raises(TypeError):
        f(Decimal("2025.5"), 1, 1)
