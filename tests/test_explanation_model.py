"""The one explanation model (issue 12, point 2): one builder (`Explainer`) walks a decision's trace once; the
`TextWriter` spells the pieces as the plain text, the `ModelWriter` keeps them as the format-neutral
`Explanation` (sections, lines with their marks, cap rows with every figure, clauses quoted, reasons).

The model must carry every word of the text: the plain text written as a template over the model
(tests/fixtures/explanation_model.txt.j2) gives the text explanation byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jinja2
import pytest

import engine
from engine.explaining.catalogue import fill
from engine.explaining.model import NOMARK, CapRow, Explanation, Line
from engine.explaining.render import explain, explanation, renderer
from engine.records.inputs import read_document

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"


def _decision(policy: engine.CompiledPolicy, name: str) -> engine.Decision:
    data, _ = read_document(GOLDEN / f"{name}.claim.json")
    return engine.evaluate(policy, data)


def _model_as_text(policy: engine.CompiledPolicy, x: Explanation, lang: str) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ROOT / "tests" / "fixtures")), trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True
    )
    env.filters["fill"] = lambda text, **values: fill(text, values)
    return env.get_template("explanation_model.txt.j2").render(x=x, m=renderer(policy, lang).m)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_model_carries_every_word_of_the_text(policy: engine.CompiledPolicy, lang: str) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import claims  # the benchmark's seeded round: every item type, histories, every status

    decisions = [_decision(policy, p.name.removesuffix(".claim.json")) for p in sorted(GOLDEN.glob("*.claim.json"))]
    decisions += [engine.evaluate_claim(policy, engine.parse_claim(policy, raw)) for raw in claims(1500, seed=23)]
    statuses = set()
    for d in decisions:
        x = explanation(policy, d, lang)
        assert _model_as_text(policy, x, lang) == explain(policy, d, lang, "text"), d.claim.claim_id
        statuses.update(i.status for i in x.items)
    assert statuses == {"granted", "reduced", "refused", "incomplete", "referred", "pending_review"}


def test_the_model_of_a_cap_that_bites(policy: engine.CompiledPolicy) -> None:
    """golden 01, item 3 (l2, 知识产权质押贷款贴息, 第六条第（一）项), worked by hand:
    l1 before it was granted 500,000.00 × 50% = 250,000.00 under the yearly cap of 30 万元 per enterprise;
    l2 asks 200,000.00 × 50% = 100,000.00; room left 300,000.00 − 250,000.00 = 50,000.00, so it is cut to
    50,000.00 (reduced by 100,000.00 − 50,000.00 = 50,000.00); the 250,000.00 used is all this application's
    (history 0.00). Total of the claim: 4,200 + 250,000 + 50,000 + 100,000 + 50,000 = 454,200.00."""
    x = explanation(policy, _decision(policy, "01-pledge-cap-bites"), "zh")
    assert x.lang == "zh" and x.total == "454,200.00 元"
    keys = ["claim_id", "applicant", "funding_year", "claim_fact", "policy", "validity", "assumption", "policy_hash"]
    assert [f.key for f in x.fields] == keys
    assert (x.fields[3].label, x.fields[3].value) == ("申报提交日期", "2022-03-15")  # policy.header_facts
    assert x.fields[0].value == "G-01"
    item = x.items[2]
    assert (item.n, item.id, item.status, item.result) == (3, "l2", "reduced", "核减后给予支持，50,000.00 元")
    assert [q.cite for q in item.clauses] == ["第六条第（一）项"]
    sections = {s.key: s for s in item.sections}
    assert list(sections) == ["checks", "calculation", "limits", "caps", "documents"]
    assert all(isinstance(line, Line) and line.mark is True for line in sections["checks"].lines)
    [calc] = sections["calculation"].lines
    assert isinstance(calc, Line) and calc.mark == NOMARK and calc.key == "amount"
    assert "200,000.00 元 × 50% = 100,000.00 元" in calc.text
    [row] = sections["caps"].lines
    assert isinstance(row, CapRow)
    assert (row.cites, row.ceiling, row.per_item) == ("第六条第（一）项", "300,000.00 元", False)  # 30万, as its row's other amounts
    assert (row.used, row.left, row.asked, row.granted) == ("250,000.00 元", "50,000.00 元", "100,000.00 元", "50,000.00 元")
    assert row.split == "（此前申请 0.00 元，本申请前序事项 250,000.00 元）"
    assert item.why is not None and "核减 50,000.00 元" in item.why
    # the readings that shaped the item, each with its words (tests/golden/01-pledge-cap-bites.zh.txt, reviewed): of the
    # rule (R2, R11, R29), of the checks held (R3 第四条第一款, R6 the funding year, R19 第九条), and of what the
    # engine did to it (the policy's `behaviours`): l1 used 250,000 of the cap before it (R20: in the order given) and
    # the cap cut it (R22: a reduced item says its cap) -- in the policy's order; no notes. Not R21: the cap cut it to
    # 50,000.00, not to 0 (R21 is said, by `behaviours.cap_exhausted`, on an item refused because the cap is used up)
    [readings] = item.shaped
    assert (readings.key, readings.head) == ("readings", "适用读法")
    assert [line.text.partition("：")[0] for line in readings.lines] == ["R2", "R3", "R6", "R11", "R19", "R20", "R22", "R29"]
    assert (
        readings.lines[1].text
        == "R3：仅专利和商标计入（第四条第一款）。以其他任何权利（著作权、软件著作权、植物新品种权等）为基础的事项不在本办法范围之内。"
    )
    assert x.standing_ok and x.standing[-1].key == "documents" and x.standing[-1].mark is True


def test_the_model_of_a_refusal_numbers_its_grounds(policy: engine.CompiledPolicy) -> None:
    x = explanation(policy, _decision(policy, "03-refusals"), "en")
    refused = [i for i in x.items if i.status == "refused"]
    assert refused
    for i in refused:
        [reasons] = [s for s in i.sections if s.key == "reasons"]
        assert reasons.lines and all(isinstance(r, Line) and r.mark is False and r.key == "reason" for r in reasons.lines)
        assert i.why


def test_a_policy_may_no_longer_replace_lines_j2_and_is_told_what_to_do(tmp_path: Path) -> None:
    """_lines.j2 was the sentence macros of the old text template; the sentences are now catalogue messages
    spelled by the one builder, so an override of _lines.j2 is a load error naming the way out."""
    import shutil

    from engine.core.errors import PolicyError

    shutil.copytree(ROOT / "policies" / "texts", tmp_path / "texts")
    text = (ROOT / "policies" / "pinggu_2020.yaml").read_text(encoding="utf-8")
    path = tmp_path / "p.yaml"
    path.write_text(text + '\ntemplates:\n  zh:\n    _lines.j2: "{% macro calc(s, t) %}x{% endmacro %}"\n', encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        engine.load_policy(path)
    [p] = [p for p in err.value.problems if p.path == ("templates", "zh", "_lines.j2")]
    assert "overriding its catalogue message" in p.message and "my_lines.j2" in p.message
    # the way out: the macros under another name, imported by the policy's own text template
    path.write_text(
        text + "\ntemplates:\n  zh:\n"
        '    my_lines.j2: "{% macro hello(x) %}Hello {{ x }}{% endmacro %}"\n'
        "    explain.txt.j2: \"{% import 'my_lines.j2' as L %}{{ L.hello(d.claim_id) }}\"\n",
        encoding="utf-8",
    )
    own = engine.load_policy(path)
    data, _ = read_document(GOLDEN / "01-pledge-cap-bites.claim.json")
    assert explain(own, engine.evaluate(own, data), "zh", "text") == "Hello G-01"


def test_a_decision_and_its_record_have_the_same_model(policy: engine.CompiledPolicy) -> None:
    """The facade gives the model (engine.explanation) of a Decision and of its JSON as recorded: equal."""
    for path in sorted(GOLDEN.glob("*.claim.json")):
        d = _decision(policy, path.name.removesuffix(".claim.json"))
        for lang in ("zh", "en"):
            assert engine.explanation(policy, d, lang) == engine.explanation(policy, d.to_dict(), lang), (path.name, lang)


def test_a_note_under_an_item_has_a_home_in_every_format(policy: engine.CompiledPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    """The slot for lines under an item (a reading's text, a round-selection note): `writer.note(text, key)`
    before the item ends lands in `ItemExplanation.notes` and in the text, Markdown and HTML."""
    from engine.explaining import render
    from engine.explaining.explainer import Explainer

    original = Explainer.item

    def item_with_a_note(self: Explainer, out: list[object], *args: object) -> None:
        original(self, out, *args)  # type: ignore[arg-type]
        out.insert(len(out) - 1, self.w.note("R3: <a reading's words>", "reading"))  # before the item's end

    monkeypatch.setattr(Explainer, "item", item_with_a_note)
    render._RENDERERS.pop(policy, None)
    try:
        d = _decision(policy, "06-agency-pending-review")
        x = explanation(policy, d, "en")
        assert all(i.notes == (Line("R3: <a reading's words>", NOMARK, "reading"),) for i in x.items)
        assert "\n     R3: <a reading's words>\n\n" in explain(policy, d, "en", "text")
        assert "\n- R3: \\<a reading's words\\>\n" in explain(policy, d, "en", "md")
        assert '<p class="note">R3: &lt;a reading&#39;s words&gt;</p></article>' in explain(policy, d, "en", "html")
    finally:
        render._RENDERERS.pop(policy, None)


def test_the_model_as_json_data(policy: engine.CompiledPolicy) -> None:
    """For a JSON front door: named tuples become objects by field name; every leaf is text, a number, a bool or null."""
    import json

    from engine.explaining.model import to_data

    data = to_data(explanation(policy, _decision(policy, "01-pledge-cap-bites"), "zh"))
    again = json.loads(json.dumps(data, ensure_ascii=False))
    assert again == data
    caps = next(s for s in data["items"][2]["sections"] if s["key"] == "caps")
    assert caps["lines"][0]["granted"] == "50,000.00 元" and caps["lines"][0]["line"]["key"] == "cap"  # l2: cut to 50,000.00
    assert data["fields"][0] == {"key": "claim_id", "label": "申请编号", "value": "G-01"}


def _model_keys(x: Explanation) -> set[str]:
    """What the model's lines say (their keys), the shaped sections' keys, and "computed_ceiling" for a cap row
    whose ceiling says how it was obtained."""
    keys = {line.key for line in x.standing}
    for i in x.items:
        keys.update(s.key for s in i.shaped)
        for s in i.sections:
            for line in s.lines:
                keys.add(line.line.key if isinstance(line, CapRow) else line.key)
                if isinstance(line, CapRow) and line.ceiling.endswith(("）", ")")):
                    keys.add("computed_ceiling")
    return keys


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_model_carries_every_word_of_the_merged_lines(lang: str) -> None:
    """The lines the four branches merged into main added to the old text path -- dated parameters, computed
    ceilings, rates chosen by a fact, counts with their units, round selections (alone, selected, not selected),
    the readings' and notes' words -- are pieces of the one model: the plain text written over the model equals
    the text, for the fixtures' decisions and for their records (the case files' round decisions as batch wrote
    them)."""
    from test_parameters_tables import FIXTURE as BROOKHILL
    from test_parameters_tables import _round
    from test_subjects_rounds import POLICY as HEXI
    from test_subjects_rounds import ROUND

    from engine.deciding.selection import RoundSelection
    from engine.officer.casefile import decide_case, decide_round, load_case_file

    brookhill, hexi = engine.load_policy(BROOKHILL), engine.load_policy(HEXI)
    cases: list[tuple[engine.CompiledPolicy, object]] = [(brookhill, d) for d in _round(brookhill)]
    ranking = RoundSelection()
    parsed = [engine.parse_claim(hexi, c) for c in ROUND]
    for c in parsed:
        alone = engine.evaluate_claim(hexi, c)
        cases.append((hexi, alone))
        ranking.add(hexi, c, {i.item.id: (i.status, i.amount) for i in alone.items}, "r")
    verdicts = ranking.verdicts()
    cases += [(hexi, engine.evaluate_claim(hexi, c, selection=verdicts[c.claim_id])) for c in parsed]
    for path in sorted((ROOT / "tests" / "fixtures" / "localities").glob("*.cases.yaml")):
        for case in load_case_file(path):
            policy = engine.load_policy(case.policy_path)
            if case.round:
                cases += [(policy, d) for d in decide_round(case, policy)[0]]
            elif "error" not in case.expect:
                cases.append((policy, decide_case(case, policy)))
    keys: set[str] = set()
    for policy, d in cases:
        x = explanation(policy, d, lang)
        assert _model_as_text(policy, x, lang) == explain(policy, d, lang, "text")
        if isinstance(d, engine.Decision):
            assert explanation(policy, d.to_dict(), lang) == x  # and its record: the same model
        keys |= _model_keys(x)
    assert {"parameter", "selection", "readings", "notes_applied", "computed_ceiling"} <= keys
