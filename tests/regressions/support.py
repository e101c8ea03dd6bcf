"""A tiny generic policy for the security tests: one rule whose `when` test is substituted."""

from __future__ import annotations

import json
from typing import Any

import engine

TINY_POLICY = """\
policy:
  id: tiny
  version: "1"
  title: {zh: 小, en: tiny}
  in_force:
    funding_years: {from: 2021, to: 2023}
  rounding: {quantum: "0.01", mode: half_up}
clauses:
  第一条: {text: 本条, en: this clause, computable: true}
applicant_kinds:
  enterprise: {zh: 企业, en: enterprise}
facts:
  claim:
    funding_year: {type: integer, zh: 年度, en: year}
  applicant:
    id: {type: string, zh: 编号, en: id}
    kind: {type: enum, values_from: applicant_kinds, zh: 类型, en: kind}
    name: {type: string, zh: 名称, en: name}
item_facts:
  id: {type: string, zh: 编号, en: id}
  type: {type: item_type, zh: 类型, en: type}
  date: {type: date, zh: 日期, en: date}
  note: {type: string, required: false, zh: 备注, en: note}
  tags: {type: string_list, default: [], zh: 标签, en: tags}
  ended: {type: date, default: null, zh: 结束日期, en: end date}
  cost: {type: money, zh: 费用, en: cost}
  count: {type: integer, zh: 数量, en: count}
item_types:
  thing:
    zh: 事项
    en: thing
    facts: {}
rules:
  - id: thing-rule
    cites: 第一条
    item_type: thing
    who: {kinds: [enterprise]}
    when:
      - test: TEST
        says: {zh: 条件, en: condition}
    amount: {rate: 50%, of: item.cost}
    documents_required: false
"""

TEST_LINE = TINY_POLICY.splitlines().index("      - test: TEST") + 1


def tiny_policy_text(test: str) -> str:
    """The tiny policy with `test` as its one condition (JSON-quoted: a valid YAML double-quoted scalar)."""
    return TINY_POLICY.replace("TEST", json.dumps(test, ensure_ascii=False))


def load_tiny(test: str) -> engine.CompiledPolicy:
    return engine.load_policy_text(tiny_policy_text(test), "tiny.yaml")


def tiny_claim(**facts: Any) -> dict[str, Any]:
    it: dict[str, Any] = {"id": "t1", "type": "thing", "date": "2021-05-01", "cost": "100.00", "count": 1}
    it.update(facts)
    return {
        "claim_id": "T-1",
        "funding_year": 2021,
        "applicant": {"id": "A1", "kind": "enterprise", "name": "甲公司"},
        "items": [it],
    }
