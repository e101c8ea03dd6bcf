"""An amount whose base comes out below zero pays nothing (found by the red-team pass, issue 13).

"已获得市级资助的，按区级标准与市级资助的差额补足" is naturally written `of: "item.pieces * 3000 - item.municipal_paid"`.
When the municipal award is larger, the base is negative: before, the item was GRANTED a negative amount
(-2,000.00) and a cap's room grew by it (used -2,000, remaining 62,000 of 60,000). Now it is refused (`<rule>#zero`,
"below zero"), consumes nothing, takes no part in "only the highest", and the trace still shows the computation.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import engine
from engine.deciding.ready import load_policy

POLICY = textwrap.dedent(
    """\
    policy:
      id: negative
      version: "1"
      title: {zh: 差额补足, en: top-up}
      in_force: {funding_years: {from: 2025, to: 2025}}
      rounding: {quantum: "0.01", mode: half_up}
    clauses:
      第一条: {text: "对获得授权的发明专利每件资助3000元，已获得市级资助的按差额补足，每家每年最高6万元。", en: top-up, computable: true}
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
      grants:
        zh: 授权
        en: grants
        facts:
          pieces: {type: count, unit: {zh: 件, en: patents}, zh: 件数, en: pieces}
          municipal_paid: {type: money, zh: 市级已资助, en: municipal award}
          project: {type: string, zh: 项目, en: project}
    rules:
      - id: grants
        cites: 第一条
        item_type: grants
        who: {kinds: [enterprise]}
        amount: {rate: 100%, of: "item.pieces * 3000 - item.municipal_paid"}
        subject: {group: project, key: [item.project], pays: highest}
        caps:
          - {id: yearly, max: 6万, per: [applicant.id, claim.funding_year]}
    """
)


def claim(*items: dict[str, object]) -> dict[str, object]:
    return {"claim_id": "N-1", "funding_year": 2025, "applicant": {"id": "91000000MART500009", "kind": "enterprise"}, "items": list(items)}


def decide(tmp_path: Path, c: dict[str, object], trace: bool = True) -> dict[str, object]:
    path = tmp_path / "negative.yaml"
    path.write_text(POLICY, encoding="utf-8")
    decision = engine.evaluate(load_policy(path), c, trace=trace)
    return {i.item.id: i for i in decision.items}


def test_a_base_below_zero_is_refused_and_uses_no_cap(tmp_path: Path) -> None:
    c = claim(
        {"id": "g1", "type": "grants", "pieces": 2, "municipal_paid": "8000.00", "project": "A"},  # 2 × 3,000 - 8,000 = -2,000
        {"id": "g2", "type": "grants", "pieces": 20, "municipal_paid": "0.00", "project": "B"},  # 20 × 3,000 = 60,000
    )
    for trace in (True, False):
        items = decide(tmp_path, c, trace)
        g1, g2 = items["g1"], items["g2"]
        assert (g1.status, g1.amount) == ("refused", Decimal("0.00"))
        assert [r.check for r in g1.reasons] == ["grants#zero"] and "below zero" in g1.reasons[0].says.en
        # g1 used nothing: the 60,000 cap has exactly 60,000 of room left for g2 (before: 62,000)
        assert (g2.status, g2.amount) == ("granted", Decimal("60000.00"))
    path = tmp_path / "negative.yaml"
    (g1,) = [i for i in engine.evaluate(load_policy(path), c).to_dict()["items"] if i["item"] == "g1"]
    (amount,) = [s for s in g1["steps"] if s["step"] == "amount"]
    assert amount["value"] == "-2000.00"  # the computation stays in the trace


def test_a_negative_item_does_not_win_only_the_highest(tmp_path: Path) -> None:
    # both items for project A: a (2 × 3,000 - 8,000 = -2,000) and b (1 × 3,000 = 3,000); b is the highest
    items = decide(
        tmp_path,
        claim(
            {"id": "a", "type": "grants", "pieces": 2, "municipal_paid": "8000.00", "project": "A"},
            {"id": "b", "type": "grants", "pieces": 1, "municipal_paid": "0.00", "project": "A"},
        ),
    )
    assert (items["b"].status, items["b"].amount) == ("granted", Decimal("3000.00"))
    assert (items["a"].status, items["a"].amount) == ("refused", Decimal("0.00"))
