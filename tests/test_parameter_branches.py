"""A dated parameter looked up on one branch of `a if c else b` is traced only when that branch is taken.

OT10 pays loan x secured share x the PBoC benchmark "of the same period and band" x 50%; its amount picks one of
three rates by the loan's maturity band. Before, the trace recorded every `param()` of the expression, so the
explanation of a loan up to one year listed the one-to-five-year and over-five-year rates too, as if they had a part
in the amount (the hand audit of session 39 found it). Rates below are the PBoC's of 26 Aug 2015 (OT10's table):
up to one year 4.60%, one to five years 5.00%, over five years 5.15%.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_localities_by_hand import OT10_CO, claim, decide, ot10_loan, policy

import engine
from engine.deciding import evaluator
from engine.language.expressions import compile_expression

UP_TO_ONE = "人民银行一年以内（含一年）贷款基准利率"
ONE_TO_FIVE = "人民银行一至五年（含五年）贷款基准利率"
OVER_FIVE = "人民银行五年以上贷款基准利率"


def parameter_steps(decision: dict[str, Any]) -> list[tuple[str, str, str]]:
    (item,) = decision["items"]
    return [(s["parameter"], s["date"], s["shown"]) for s in item["steps"] if s["step"] == "parameter"]


@pytest.mark.parametrize(
    ("band", "name", "shown", "amount"),
    [
        # 1,000,000.00 x 1.0000 x rate x a whole year (2015-09-01 to 2016-09-01: 366 of 366 days) x 50%
        ("within_one_year", "pboc_within_1y", "4.60%", "23000.00"),
        ("one_to_five_years", "pboc_1_to_5y", "5.00%", "25000.00"),
        ("over_five_years", "pboc_over_5y", "5.15%", "25750.00"),
    ],
)
def test_ot10_traces_only_the_rate_of_the_loans_band(band: str, name: str, shown: str, amount: str) -> None:
    d = decide("OT10", claim("OT10", OT10_CO, 2016, ot10_loan("L1", "1000000.00", "1.0000", band, "2015-09-01", "2016-09-01")))
    assert d["items"][0]["amount"] == amount
    assert parameter_steps(d) == [(name, "2015-09-01", shown)]


def test_ot10_explanation_names_one_rate_in_both_languages() -> None:
    p = policy("OT10")
    c = engine.parse_claim(
        p, claim("OT10", OT10_CO, 2016, ot10_loan("L1", "1000000.00", "1.0000", "within_one_year", "2015-09-01", "2016-09-01"))
    )
    zh = engine.explain(p, engine.evaluate(p, c), lang="zh")
    assert f"{UP_TO_ONE}（2015-09-01）：4.60%（自 2015-08-26 起" in zh
    assert ONE_TO_FIVE not in zh and OVER_FIVE not in zh
    en = engine.explain(p, engine.evaluate(p, c), lang="en")
    assert "PBoC benchmark lending rate, up to one year" in en
    assert "PBoC benchmark lending rate, one to five years" not in en and "PBoC benchmark lending rate, over five years" not in en


def test_the_band_unknown_traces_no_rate_and_the_item_waits_for_the_band() -> None:
    """Without the band no branch is known: no rate is traced (none was looked up) and the band is the missing fact."""
    loan = ot10_loan("L1", "1000000.00", "1.0000", "within_one_year", "2015-09-01", "2016-09-01")
    del loan["maturity_band"]
    p = policy("OT10")
    d = engine.evaluate(p, engine.parse_claim(p, claim("OT10", OT10_CO, 2016, loan), partial=True)).to_dict()
    (item,) = d["items"]
    assert item["status"] == "incomplete"
    assert "item.maturity_band" in item["missing_facts"]
    assert [s for s in item["steps"] if s["step"] == "parameter"] == []


def test_the_called_variant_traces_the_same_look_ups_as_the_inlined_one() -> None:
    """The variant an item is handed to on a runtime error (expression functions called, not inlined) must trace the
    same steps."""
    p = policy("OT10")
    c = engine.parse_claim(
        p, claim("OT10", OT10_CO, 2016, ot10_loan("L1", "1000000.00", "1.0000", "over_five_years", "2015-09-01", "2016-09-01"))
    )
    inlined = engine.evaluate(p, c).to_dict()
    called = evaluator._Context(p, inline=False)
    context = getattr(p, evaluator._SLOT)
    try:
        object.__setattr__(p, evaluator._SLOT, called)
        by_calls = engine.evaluate(p, c).to_dict()
    finally:
        object.__setattr__(p, evaluator._SLOT, context)
    assert by_calls == inlined
    assert parameter_steps(by_calls) == [("pboc_over_5y", "2015-09-01", "5.15%")]


def anything(namespace: str, fact: str) -> None:
    """A fact resolver knowing every fact."""


def look_ups(source: str) -> list[tuple[str, str, str | None]]:
    class Param:
        name, type = "r", "percent"

    return list(compile_expression(source, anything, parameters={"r": Param(), "s": Param()}).params)


def test_each_look_up_keeps_the_condition_it_is_made_under() -> None:
    """`a if c else b`: c for a, not c for b; `x and y`: y when x holds; `x or y`: y when x does not; a percent literal
    is kept as written; a look-up outside any branch has none."""
    assert look_ups('param("r", item.d) if item.short else param("s", item.d)') == [
        ("r", "item.d", "(item.short)"),
        ("s", "item.d", "not (item.short)"),
    ]
    assert look_ups('item.pledged and param("r", item.d) > 4.35%') == [("r", "item.d", "(item.pledged)")]
    assert look_ups('item.rate > 4.35% or param("r", item.d) > item.rate') == [("r", "item.d", "not (item.rate > 4.35%)")]
    assert look_ups('param("r", item.d) * (param("s", item.d) if item.a else 0 if item.b else param("s", item.e))') == [
        ("r", "item.d", None),
        ("s", "item.d", "(item.a)"),
        ("s", "item.e", "not (item.a) and not (item.b)"),
    ]


def test_one_look_up_written_in_two_branches_is_traced_whichever_is_taken() -> None:
    """The same parameter on the same date in both branches is one look-up, traced when either condition holds; a
    use without a condition makes it traced always."""
    from engine.language.compiler import merged_uses
    from engine.language.model import ParamUse

    a = compile_expression("item.d", anything)
    c1, c2 = compile_expression("item.x", anything), compile_expression("not (item.x)", anything)
    p = policy("OT10").parameters["pboc_within_1y"]
    (merged,) = merged_uses([ParamUse(p, a, (c1,)), ParamUse(p, a, (c2,))])
    assert [w.source for w in merged.when or ()] == ["item.x", "not (item.x)"]
    (always,) = merged_uses([ParamUse(p, a, (c1,)), ParamUse(p, a, None)])
    assert always.when is None


def test_coverage_marks_only_the_band_a_case_computes_with() -> None:
    """Coverage reads a case's branches from its trace (officer/coverage.py): with every band's rate traced, one loan up
    to one year marked the period of 26 Aug 2015 of all three rates as tried. Now only its own band's period."""
    from engine.officer.coverage import branches_of, hits

    p = policy("OT10")
    branches = {b.key for b in branches_of(p)}
    d = decide("OT10", claim("OT10", OT10_CO, 2016, ot10_loan("L1", "1000000.00", "1.0000", "within_one_year", "2015-09-01", "2016-09-01")))
    rule = d["items"][0]["rule"]
    assert {k for k in hits(d) if k in branches and "#param:" in k} == {f"{rule}#param:pboc_within_1y@2015-08-26"}


def test_a_look_up_later_in_a_chain_of_comparisons_keeps_the_comparisons_before_it() -> None:
    """`a < b < c` evaluates c only when a < b holds (Python's chain stops at the first that fails): a look-up there
    was traced always (session 40's note)."""
    assert look_ups('item.x < 5% < param("r", item.d)') == [("r", "item.d", "(item.x < 5%)")]
    assert look_ups('param("r", item.d) < item.x <= param("s", item.d) < 1') == [
        ("r", "item.d", None),
        ("s", "item.d", "(param('r', item.d) < item.x)"),
    ]
