"""The plain text's kept pieces (issue 14, session 5): what each is kept by, so that a kept piece is never another's.

The text explainer keeps words it has written (headings per item type and id, grounds per ground object, the
readings block per set of decision-makers, zero amounts per sign) and gathers an item's decision-makers in the
same pass that writes its steps. These tests pin what fixes each piece: two things that are equal as keys but
written differently, or a kept entry outliving the object it was kept for, would show here. (The texts of every
generated round and case file were also compared byte for byte with the code before: docs/performance.md.)
"""

from __future__ import annotations

import dataclasses
import gc
from decimal import Decimal

import pytest
from conftest import claim, item

import engine
from engine.deciding.decision import Reason
from engine.explaining.render import explain, renderer
from engine.language.model import Text


def _decide(policy: engine.CompiledPolicy, *items: dict[str, object]) -> engine.Decision:
    return engine.evaluate(policy, claim(*items))


def test_one_item_id_under_two_item_types_gets_each_types_heading(policy: engine.CompiledPolicy) -> None:
    """Headings are kept per (item type, id): the id `i1` of an invention patent and of a Beijing award are two headings."""
    patent = explain(policy, _decide(policy, item("invention_patent_grant", "i1")), "zh", "text")
    award = explain(policy, _decide(policy, item("beijing_invention_patent_award", "i1")), "zh", "text")
    again = explain(policy, _decide(policy, item("invention_patent_grant", "i1")), "zh", "text")
    # item_heading "事项 {id} · {type}", the types' labels as the policy gives them
    assert "1. 事项 i1 · 发明专利授权\n" in patent
    assert "1. 事项 i1 · 北京市发明专利奖\n" in award
    assert "北京市发明专利奖" not in patent.split("依据条款")[0].split("三、逐项说明")[1]
    assert again == patent


def test_grounds_made_for_one_decision_are_worded_as_themselves(policy: engine.CompiledPolicy) -> None:
    """A ground is kept with its words by the ground object, the object kept alive with them: a ground made for one
    decision and dropped cannot lend its words to a later one that happens to get the same id."""
    ex = renderer(policy, "zh").text_explainer()
    assert ex is not None
    for i in range(300):
        ground = Reason("condition", f"rule#{i}", "第九条", Text(f"条件{i}", f"condition {i}"))
        # reason_line "{cites}：{says}"
        assert ex.reason(ground) == f"第九条：条件{i}"
        del ground
        gc.collect()


@pytest.mark.parametrize(
    ("lang", "value", "words"),
    [
        # a zero to the cent is 0.00 (or -0.00 for a negative zero) whatever its exponent; money "{n} 元" / "CNY {n}"
        ("zh", Decimal("0"), "0.00 元"),
        ("zh", Decimal("0.00"), "0.00 元"),
        ("zh", Decimal("0E+3"), "0.00 元"),
        ("zh", Decimal("-0"), "-0.00 元"),
        ("zh", Decimal("-0.000"), "-0.00 元"),
        ("en", Decimal("0E-7"), "CNY 0.00"),
        ("en", Decimal("-0E+2"), "CNY -0.00"),
        # and a non-zero after a zero of the same sign: 1,234.5 -> 1,234.50
        ("zh", Decimal("1234.5"), "1,234.50 元"),
    ],
)
def test_zero_amounts_are_written_by_their_sign(policy: engine.CompiledPolicy, lang: str, value: Decimal, words: str) -> None:
    labels = renderer(policy, lang).labels
    assert labels.money(value) == words
    assert labels.money(value) == words  # and the same again, once kept


def test_an_item_whose_steps_are_out_of_order_reads_as_in_order(policy: engine.CompiledPolicy) -> None:
    """Steps out of the usual order are grouped by kind; the item's readings then come from its whole trace, as
    when they are gathered in the pass over the steps: the same text, readings included."""
    granted = item("invention_patent_grant", "i1")
    refused = item("invention_patent_grant", "i2", supported_by_other_district_policy=True)
    d = _decide(policy, granted, refused)
    assert [i.status for i in d.items] == ["granted", "refused"]
    moved = []
    for it in d.items:
        docs = [s for s in it.steps if s[0] == "documents"]
        assert len(docs) == 1
        moved.append(it._replace(steps=(docs[0], *(s for s in it.steps if s[0] != "documents"))))
    shuffled = dataclasses.replace(d, items=tuple(moved))
    for lang in ("zh", "en"):
        text = explain(policy, d, lang, "text")
        assert explain(policy, shuffled, lang, "text") == text
    text = explain(policy, d, "zh", "text")
    # R9 is the reading on invention patents, R19 on benefits from other district policies: both under each item
    for block in text.split("三、逐项说明")[1].split("\n\n")[:2]:
        assert "适用读法" in block and "R9：" in block and "R19：" in block
