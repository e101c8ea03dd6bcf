"""Recorded decisions explained one after another keep the explainer's pieces (issue 14 point 5, session 8).

A batch that makes its outputs after deciding explains every decision from its JSON line. `from_record` given a
`Kept` hands out one object per content (a check, a limit, a cap, a rule, ... as the record states it), so the
explainer keeps what it wrote for those objects from one record to the next instead of forgetting everything
before each record. These tests hold that: the same content is the same object; anything a record states
otherwise -- even a value Python finds equal (1 and 1.0, True and 1, the same words in another key order) -- is
explained as that record alone would be; and a round explained record after record is the live explanation.
"""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

import pytest
from conftest import ROOT

import engine
from engine.explaining import recorded, render
from engine.explaining.recorded import Kept, from_record


def _round(policy: engine.CompiledPolicy, n: int, seed: int) -> list[engine.Decision]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import claims  # the benchmark's seeded round: every item type, histories, every status

    return [engine.evaluate_claim(policy, engine.parse_claim(policy, raw)) for raw in claims(n, seed=seed)]


def _steps(d: Any, kind: str) -> list[tuple[Any, ...]]:
    return [s for i in d.items for s in i.steps if s[0] == kind]


def test_a_records_objects_are_kept_for_the_next_record_that_states_them(policy: engine.CompiledPolicy) -> None:
    records = [json.loads(d.to_json()) for d in _round(policy, 60, seed=5)]
    kept = Kept()
    first, second = from_record(records[0], kept), from_record(records[1], kept)
    assert first.kept is kept.generation and second.kept is kept.generation
    tests = {s[1].id: s[1] for s in _steps(first, "check")}
    # (a check that names readings by a condition states them per item: its object is kept with them, `named`)
    same = lambda t: t.id in tests and getattr(t, "named", None) == getattr(tests[t.id], "named", None)  # noqa: E731
    again = [s[1] for s in _steps(second, "check") if same(s[1])]
    assert again and all(t is tests[t.id] for t in again)  # the same check as recorded: the same object
    # without a Kept: this record's own objects, and no generation (the explainer forgets before and after it)
    alone = from_record(records[1])
    assert alone.kept is None
    assert all(s[1] is not tests.get(s[1].id) for s in _steps(alone, "check"))
    # the same words under the same id in another record are one object; other words under that id another one
    edited = copy.deepcopy(records[1])
    check = next(s for i in edited["items"] for s in i["steps"] if s["step"] == "check")
    check["says"] = {"zh": "另一种说法", "en": "other words"}
    other = from_record(edited, kept)
    changed = next(s[1] for s in _steps(other, "check") if s[1].says == check["says"])
    assert changed is not tests.get(changed.id) and changed.says == {"zh": "另一种说法", "en": "other words"}


def test_a_full_table_starts_a_new_generation(policy: engine.CompiledPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    records = [json.loads(d.to_json()) for d in _round(policy, 30, seed=5)]
    monkeypatch.setattr(recorded, "KEPT_OBJECTS", 5)
    kept = Kept()
    first = from_record(records[0], kept)
    second = from_record(records[1], kept)  # (the first filled the table past 5: cleared before the second)
    assert first.kept is not second.kept and second.kept is kept.generation


def _edits() -> list[tuple[str, Any]]:
    """Values a hand-edited record may give that Python finds equal to the engine's, but that are written otherwise."""
    return [
        ("limit used 1.0", ("limit", "used_before", 1.0)),
        ("check result 1", ("check", "result", 1)),
        ("who result 1", ("who", "result", 1)),
    ]


@pytest.mark.parametrize("name,edit", _edits())
def test_a_value_equal_but_written_otherwise_is_explained_as_its_record_says(
    policy: engine.CompiledPolicy, name: str, edit: tuple[str, str, Any]
) -> None:
    kind, key, value = edit
    records = [json.loads(d.to_json()) for d in _round(policy, 80, seed=11)]
    engine_value = {"limit": 1, "check": True, "who": True}[kind]
    base = next(r for r in records if any(s["step"] == kind and s[key] == engine_value for i in r["items"] for s in i["steps"]))
    edited = copy.deepcopy(base)
    for i in edited["items"]:
        for s in i["steps"]:
            if s["step"] == kind and s[key] == engine_value:
                s[key] = value
    alone = render.Renderer(policy, "zh")
    want = [alone.explain(edited, "text"), str(alone.body_html(edited, "app-1"))]
    shared = render.Renderer(policy, "zh")
    for r in records:
        shared.explain(r, "text")
        shared.body_html(r, "app-1")
    assert [shared.explain(edited, "text"), str(shared.body_html(edited, "app-1"))] == want, name
    # and the engine's own record after it, as alone
    assert shared.explain(base, "text") == render.Renderer(policy, "zh").explain(base, "text")


def test_words_in_another_key_order_are_explained_as_their_record_says(policy: engine.CompiledPolicy) -> None:
    # a label with neither of the reader's languages shows its first value: {"fr", "de"} and {"de", "fr"} are
    # equal dicts but say different words
    records = [json.loads(d.to_json()) for d in _round(policy, 40, seed=3)]
    base = next(r for r in records if any(s["step"] == "check" for i in r["items"] for s in i["steps"]))
    one, two = copy.deepcopy(base), copy.deepcopy(base)
    for r, says in ((one, {"fr": "premier", "de": "zweite"}), (two, {"de": "zweite", "fr": "premier"})):
        for i in r["items"]:
            for s in i["steps"]:
                if s["step"] == "check":
                    s["says"] = dict(says)
    shared = render.Renderer(policy, "zh")
    assert "premier" in shared.explain(one, "text")
    text = shared.explain(two, "text")
    assert text == render.Renderer(policy, "zh").explain(two, "text")
    assert "zweite" in text and "premier" not in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_round_explained_record_after_record_is_the_live_explanation(policy: engine.CompiledPolicy, lang: str) -> None:
    """Every record of a round through one renderer (its objects kept from record to record): each text and each
    report body is the one its live decision gives, byte for byte."""
    decisions = _round(policy, 1200, seed=29)
    shared = render.Renderer(policy, lang)
    live = render.Renderer(policy, lang)
    statuses: set[str] = set()
    for n, d in enumerate(decisions):
        record = json.loads(d.to_json())
        assert shared.explain(record, "text") == live.explain(d, "text"), d.claim.claim_id
        assert str(shared.body_html(record, f"app-{n}")) == str(live.body_html(d, f"app-{n}")), d.claim.claim_id
        statuses.update(i.status for i in d.items)
    assert statuses == {"granted", "reduced", "refused", "incomplete", "referred", "pending_review"}


@pytest.mark.parametrize("pieces", [1, 3, 100000])
def test_a_spooled_page_is_the_same_file_however_its_pieces_are_joined(
    policy: engine.CompiledPolicy, pieces: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setattr(render, "WRITE_PIECES", pieces)
    records = [json.loads(d.to_json()) for d in _round(policy, 25, seed=7)]
    entries = [*records, render.ReportError("line 7", "not JSON", ["line 7: expected a value"])]
    expected = render.render_report(policy, entries, "zh")
    page = render.ReportPage(policy, "zh", spool=True)
    for e in entries:
        page.add(e)
    assert page.write(tmp_path / "page.html").read_text(encoding="utf-8") == expected
