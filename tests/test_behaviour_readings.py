"""Review C1 (session 30): the readings that shaped an item are named where they shaped it, also those of what the
engine does for every rule (`policy.behaviours`: an earlier use of a cap or limit, a cap that cut or used up an item,
several grounds, a provisional amount, a refusal over missing documents, missing documents or facts; a rounding's
readings are `policy.rounding.readings`). The engine knows the behaviours' names, the policy their readings.

Every expectation is worked by hand from the measures and READINGS.md (R8, R16, R20-R23, R25, R26; the policy's
N4, N10). Pinggu's navigation rule (第六条第（六）项: 50% of the cost, at most 5万 per project, N10) cites R2 and R16
only, so a reading of a behaviour shows on its items only where that behaviour happened.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import POLICY_PATH, claim, item
from test_policy_errors import TEMPLATE, col_of, line_of, mutate, only_problem, write

import engine
from engine.explaining.recorded import item_from_record
from engine.explaining.render import explain, explanation, renderer


def _shaped(x: Any) -> dict[str, list[str]]:
    """Per item id, the ids of the readings and notes its explanation names (the model's sections)."""
    return {i.id: [line.text.partition("：")[0] for s in i.shaped for line in s.lines] for i in x.items}


def _text_shaped(text: str) -> dict[str, list[str]]:
    """The same read from the plain text (its generated item writers): each item's "R..：" and "N..：" lines."""
    out: dict[str, list[str]] = {}
    ids: list[str] = []
    for line in text.splitlines():
        head = re.match(r"\d+\. 事项 (\S+) · ", line)
        if head:
            ids = out[head.group(1)] = []
        elif re.match(r"     [RN]\d+：", line):
            ids.append(line.strip().partition("：")[0])
    return out


def _nav(ident: str, cost: str, project: str = "P-1", **facts: Any) -> dict[str, Any]:
    return item("navigation_project", ident, project_id=project, actual_costs=cost, **facts)


def _both(policy: engine.CompiledPolicy, data: dict[str, Any]) -> dict[str, list[str]]:
    """The readings per item, from the model (the loop), the text (the generated writers) and the decision's record:
    the same in all three."""
    d = engine.evaluate(policy, data)
    model = _shaped(explanation(policy, d, "zh"))
    assert _text_shaped(explain(policy, d)) == model
    assert _shaped(explanation(policy, d.to_dict(), "zh")) == model  # drawn from the JSON record
    return model


def test_a_cap_that_rounds_cuts_and_then_refuses_names_r8_r22_r20_r21(policy: engine.CompiledPolicy) -> None:
    """n1: 100,000.01 × 50% = 50,000.005, half-up to 50,000.01 (R8, rounded before any cap), cut by the project's 5万
    to 50,000.00 (reduced: R22). n2, the same project after it: 10,000 × 50% = 5,000.00, the 5万 already used by n1
    (R20: in the order given), so refused, cap exhausted (R21). n3, another project (N10): 10,000 × 50% = 5,000.00,
    exact, its cap unused: granted, none of them."""
    got = _both(policy, claim(_nav("n1", "100000.01"), _nav("n2", "10000.00"), _nav("n3", "10000.00", project="P-2")))
    # every item: its rule's R2 and R16, the year check's R6, 第九条's R19, the project cap's N10 (in the policy's order)
    assert got == {
        "n1": ["R2", "R6", "R8", "R16", "R19", "R22", "N10"],
        "n2": ["R2", "R6", "R16", "R19", "R20", "R21", "N10"],
        "n3": ["R2", "R6", "R16", "R19", "N10"],
    }


def test_the_text_keeps_an_items_readings_by_what_happened_to_it(policy: engine.CompiledPolicy) -> None:
    """The zh text's item writers keep an item's readings block by what it depends on beyond the rule and its
    steps: after the claim above (its n1 reduced and rounded, n2 refused after an earlier use), the same rule and
    steps again, each item named only what happened to it. b1: 10,000 × 50% = 5,000.00, its cap unused: granted,
    none of them. b2, the same project: 100,000 × 50% = 50,000.00 exact, 5,000.00 of the 5万 used before it (R20), so
    cut to 45,000.00 (R22), no rounding (no R8). b3, another project: 100,000.01 × 50% = 50,000.005, half-up to
    50,000.01 (R8), cut to 50,000.00 (R22), its cap unused before it (no R20): n1's case again."""
    _both(policy, claim(_nav("n1", "100000.01"), _nav("n2", "10000.00"), _nav("n3", "10000.00", project="P-2")))
    got = _both(policy, claim(_nav("b1", "10000.00"), _nav("b2", "100000.00"), _nav("b3", "100000.01", project="P-3")))
    assert got == {
        "b1": ["R2", "R6", "R16", "R19", "N10"],
        "b2": ["R2", "R6", "R16", "R19", "R20", "R22", "N10"],
        "b3": ["R2", "R6", "R8", "R16", "R19", "R22", "N10"],
    }


def test_a_refusal_on_two_grounds_names_r26_and_its_missing_documents_r23_r25(policy: engine.CompiledPolicy) -> None:
    """n1 is already supported under another district policy (第九条) and lacks its receipts: refused on two grounds,
    第九条 first (R26's order: double benefit before documents), the refusal winning over the missing documents (R25),
    the documents missing (R23). n2 lacks only its receipts: incomplete, 20,000 × 50% = 10,000.00 provisional,
    consuming nothing (R25), documents missing (R23), one ground at most (no R26)."""
    no_receipts = ["sealed_receipt_copies"]
    n1 = _nav("n1", "20000.00", supported_by_other_district_policy=True, documents=no_receipts)
    n2 = _nav("n2", "20000.00", project="P-2", documents=no_receipts)
    d = engine.evaluate(policy, claim(n1, n2))
    assert [(i.status, i.provisional) for i in d.items] == [("refused", None), ("incomplete", 10000)]
    assert [r.check for r in d.items[0].reasons] == ["no-double-benefit"] and d.items[0].missing_documents == ("fee_receipts",)
    got = _both(policy, claim(n1, n2))
    assert got == {"n1": ["R2", "R6", "R16", "R19", "R23", "R25", "R26", "N10"], "n2": ["R2", "R6", "R16", "R19", "R23", "R25", "N10"]}


def test_an_item_owed_a_standing_fact_names_r1_n4_and_its_provisional_amount_r25(policy: engine.CompiledPolicy) -> None:
    """The applicant does not say whether it actually operates in the district: unknown, not false (N4), a fact of
    the standing check (第四条第二款) that R1 reads (registered, actually operating and paying tax); its
    GB/T 29490 certification (第七条第（三）项, 5万 once) is incomplete with 50,000.00 provisional (R25). No document
    is missing (no R23)."""
    data = claim(item("ip_management_certification", "c1"), actually_operating=...)
    d = engine.evaluate(policy, data)
    assert (d.items[0].status, d.items[0].provisional) == ("incomplete", 50000)
    got = _both(policy, data)
    # the rule's R2 and R17 (and its limit's N5: once per applicant and title), R6 and R19 of the checks held
    assert got == {"c1": ["R1", "R2", "R6", "R17", "R19", "R25", "N4", "N5"]}
    said = renderer(policy, "zh")._item_shaping(engine.evaluate(policy, data).to_dict()["items"][0])  # (a policy template's)
    assert [x["id"] for x in said["readings"] + said["notes"]] == got["c1"]


def test_the_header_names_the_reading_behind_the_assumed_window(policy: engine.CompiledPolicy) -> None:
    """R7: the publication day is not in the text; the window assumed is the policy's, resting on R7."""
    d = engine.evaluate(policy, claim(_nav("n1", "10000.00")))
    assert "\n适用口径（R7）：办法发布日未载明，按 2021 年初发布计" in explain(policy, d)
    assert "\nAssumption (R7): The publication day is not in the text" in explain(policy, d, lang="en")


def test_a_policy_template_reads_the_same_readings_of_an_item(policy: engine.CompiledPolicy) -> None:
    """`shaping(item)`, which a policy's own template may call on `d`, names an item's behaviours as the explanation does."""
    data = claim(_nav("n1", "100000.01"), _nav("n2", "10000.00"))
    d = engine.evaluate(policy, data)
    model = _shaped(explanation(policy, d, "zh"))
    r = renderer(policy, "zh")
    for it in d.to_dict()["items"]:
        said = r._item_shaping(it)
        assert [x["id"] for x in said["readings"]] + [x["id"] for x in said["notes"]] == model[it["item"]]
    assert item_from_record(d.to_dict()["items"][1]).status == "refused"


def test_without_behaviours_the_policy_names_none_of_them(tmp_path: Path) -> None:
    """The engine knows the behaviours, never the readings: a policy that names none gets none."""
    text = POLICY_PATH.read_text(encoding="utf-8")
    start = text.index("  behaviours:\n")
    end = text.index("  notes:\n", start)
    (tmp_path / "texts").mkdir()
    for f in (POLICY_PATH.parent / "texts").iterdir():
        (tmp_path / "texts" / f.name).write_bytes(f.read_bytes())
    path = tmp_path / "p.yaml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    bare = engine.load_policy(path)
    assert set(bare.behaviours) == {"rounded"}  # (its rounding's readings: R8)
    got = _shaped(explanation(bare, engine.evaluate(bare, claim(_nav("n1", "100000.01"), _nav("n2", "10000.00"))), "zh"))
    assert "R8" in got["n1"] and not {"R20", "R21", "R22"} & set(got["n1"] + got["n2"])


BEHAVIOURS = """  rounding: {quantum: "0.01", mode: half_up}
  behaviours:
    cap_exhausted: {readings: [K1]}
readings:
  - {id: K1, zh: 额度用尽不予支持。, en: A cap used up refuses the item.}
clauses:
"""


@pytest.mark.parametrize(
    ("wrong", "right", "code", "says"),
    [
        ("cap_exhaustd: {readings: [K1]}", "{readings: [K1]}", "schema.additionalProperties", "did you mean `cap_exhausted`?"),
        ("cap_exhausted: {readings: [K2]}", "K2", "unknown_reading", "reading 'K2' is not among the policy's readings"),
        ("cap_exhausted: {notes: [N9]}", "N9", None, "note 'N9' is not among policy.notes"),
    ],
)
def test_a_behaviour_or_reading_the_policy_does_not_know_is_refused_with_its_line(
    tmp_path: Path, wrong: str, right: str, code: str | None, says: str
) -> None:
    """An unknown behaviour (a misspelt name), reading or note id: refused where it is written, with the fix."""
    text = mutate('  rounding: {quantum: "0.01", mode: half_up}\nclauses:\n', BEHAVIOURS, TEMPLATE)
    assert engine.load_policy(write(tmp_path, text, "ok.yaml")).behaviours == {"cap_exhausted": (("K1",), ())}
    text = text.replace("cap_exhausted: {readings: [K1]}", wrong)
    p = only_problem(tmp_path, text)
    assert (p.line, p.column) == (line_of(text, right), col_of(text, right))
    if code is not None:
        assert p.code == code
    assert says in str(p)


# --- review B3: 「」 (“ ” in English) only for the measures' own words ---------------------------------------------


@pytest.mark.parametrize(("lang", "quoted"), [("zh", r"「(.*?)」"), ("en", r"“(.*?)”")])
def test_quotation_marks_hold_only_the_text_of_a_clause(policy: engine.CompiledPolicy, lang: str, quoted: str) -> None:
    """Every passage in quotation marks of the golden explanations (text and Markdown) is a clause's verbatim text,
    or its translation: a rule's own words (`says`) are written without them. "Why not more" wrapped a cap's words
    in 「」, e.g. 受「每户企业每年专利保险支持总额最高不超过10万元」封顶限制 -- words the clause writes otherwise
    (每户企业每年专利保险金额支持总额最高不超过10万元); it reads 受第六条第（二）项的封顶限制（每户企业每年……）."""
    flat = [re.sub(r"\s+", "", t) for c in policy.clauses.values() for t in (c.text, c.en)]
    golden = Path(__file__).parent / "golden"
    seen = 0
    for f in sorted([*golden.glob(f"*.{lang}.txt"), *golden.glob(f"*.{lang}.md")]):
        for q in re.findall(quoted, f.read_text(encoding="utf-8"), re.S):
            seen += 1
            assert any(re.sub(r"\s+", "", q) in t for t in flat), (f.name, q)
    assert seen > 40
    zh = explain(policy, engine.evaluate(policy, claim(item("patent_insurance", "i1", premium_paid="250000.00"))))
    assert "为何不是更多：受第六条第（二）项的封顶限制（每户企业每年专利保险支持总额最高不超过10万元）：上限 100,000.00 元；" in zh
