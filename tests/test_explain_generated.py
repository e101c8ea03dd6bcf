"""The plain text's generated item writers and its fast pieces (issue 14, session 7): the same text, bounded, no code from data.

`Explainer.item` hands an item of a `Decision` to a writer generated per rule and step sequence
(`engine.explaining.explainer._item_writer`); the loop stays for every other item (recorded decisions, steps out
of order, a rule past its bound of writers, the Markdown/HTML model). These tests hold the generated writers to
the loop's text, bound how many are made, show that a policy's words never become their source, and pin the
fast message formatters (`engine.explaining.catalogue.formatter`) and money kept by its text to `str.format`'s.
(Every explanation of generated rounds and case files was also compared byte for byte with the code before:
docs/performance.md, "Issue 14, session 7".)
"""

from __future__ import annotations

import builtins
import shutil
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.explaining import explainer as explainer_mod
from engine.explaining.explainer import STEP_WRITERS_PER_RULE, Explainer
from engine.explaining.render import explain, renderer
from engine.explaining.textwriter import TextWriter

ROOT = Path(__file__).resolve().parents[1]
POLICY_PATH = ROOT / "policies" / "pinggu_2020.yaml"
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import claims  # noqa: E402  (benchmarks/generate.py: the seeded round generator)


def _decisions(policy: engine.CompiledPolicy, n: int, seed: int) -> list[engine.Decision]:
    return [engine.evaluate_claim(policy, engine.parse_claim(policy, raw)) for raw in claims(n, seed)]


def _explainers(policy: engine.CompiledPolicy, lang: str) -> tuple[Explainer, Explainer]:
    """A fresh text explainer with the generated item writers, and one that writes every item by the loop."""
    r = renderer(policy, lang)
    generated = Explainer(policy, r.catalogue, r.labels, TextWriter(r.catalogue))
    loop = Explainer(policy, r.catalogue, r.labels, TextWriter(r.catalogue))
    loop.generated = False
    assert generated.generated
    return generated, loop


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_generated_item_writers_write_what_the_loop_writes(policy: engine.CompiledPolicy, lang: str) -> None:
    """Two generated rounds (every item type and status, histories, cut caps, refusals): each explanation by the
    generated writers equals the loop's, character for character, and the generated writers wrote items."""
    generated, loop = _explainers(policy, lang)
    items = 0
    for seed in (3, 20211231):
        for d in _decisions(policy, 1500, seed):
            assert generated.render(d) == loop.render(d)
            items += len(d.items)
    assert items >= 3000
    made = sum(len(ws) for _, by_len in generated.step_writers.values() for ws in by_len.values())
    assert made > 0 and not loop.step_writers


def test_item_writers_are_bounded_per_rule_and_made_once(policy: engine.CompiledPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule gets one writer per step sequence seen, at most STEP_WRITERS_PER_RULE; explaining the same round
    again compiles nothing (the writers are kept with the explainer)."""
    generated, _ = _explainers(policy, "zh")
    decisions = _decisions(policy, 2000, 5)
    compiled: list[str] = []
    real = builtins.compile

    def spy(source: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        compiled.append(name)
        return real(source, name, *args, **kwargs)

    monkeypatch.setattr(explainer_mod, "compile", spy, raising=False)
    first = [generated.render(d) for d in decisions]
    made = len(compiled)
    assert 0 < made <= len(policy.rules) * STEP_WRITERS_PER_RULE
    assert set(compiled) == {"<explanation item>"}
    for rule, by_len in generated.step_writers.values():
        assert sum(map(len, by_len.values())) <= STEP_WRITERS_PER_RULE, rule.id
    assert [generated.render(d) for d in decisions] == first
    assert len(compiled) == made  # (by hand: the same sequences again, so no new writer)


def test_a_rule_past_its_bound_of_writers_is_written_by_the_loop(policy: engine.CompiledPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no room for writers (bound 0) every item goes through the loop, and the text is the same."""
    decisions = _decisions(policy, 600, 9)
    generated, _ = _explainers(policy, "zh")
    texts = [generated.render(d) for d in decisions]
    monkeypatch.setattr(explainer_mod, "STEP_WRITERS_PER_RULE", 0)
    bounded, _ = _explainers(policy, "zh")
    assert [bounded.render(d) for d in decisions] == texts
    assert all(not by_len for _, by_len in bounded.step_writers.values())


def test_a_policys_words_never_become_the_writers_source(
    policy: engine.CompiledPolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check's words made of code-like text (quotes, braces, a call): the generated item writers and the
    catalogue's fillers bind them as constants, their sources never hold them (nor any clause or message), and
    the text shows them as written."""
    hostile = "已享受{__import__('os').system('echo hi')}\\\"}{{K1}}'，不得重复享受"
    text = POLICY_PATH.read_text(encoding="utf-8")
    plain = "      zh: 已享受区内其他扶持奖励政策的，不得重复享受\n"
    assert text.count(plain) == 1
    shutil.copytree(POLICY_PATH.parent / "texts", tmp_path / "texts")
    (tmp_path / "p.yaml").write_text(text.replace(plain, f'      zh: "{hostile}"\n'), encoding="utf-8")
    own = engine.load_policy(tmp_path / "p.yaml")
    shown = "已享受{__import__('os').system('echo hi')}\"}{{K1}}'，不得重复享受"  # (the YAML's \\ and \" read as \ and ")
    sources: list[str] = []
    real = builtins.compile

    def spy(source: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        sources.append(source)
        return real(source, name, *args, **kwargs)

    from engine.explaining import catalogue

    monkeypatch.setattr(explainer_mod, "compile", spy, raising=False)
    monkeypatch.setattr(catalogue, "compile", spy, raising=False)
    monkeypatch.setattr(catalogue, "_MAKERS", {})  # (the catalogue's fillers made again, and their sources seen)
    out = [explain(own, d, "zh", "text") for d in _decisions(own, 300, 2)]
    assert any("<explanation" not in s and "def make(" in s for s in sources)  # (the fillers' sources are among them)
    assert sources and not any("__import__" in s or "echo" in s or "不得重复享受" in s or "第九条" in s for s in sources)
    assert sum(t.count(f"✓ 第九条：{shown}\n") for t in out) > 10  # the held check's line, as written


def test_fast_formatters_fill_as_str_format_does() -> None:
    """`formatter` (the catalogue's messages without `str.format`'s parsing per call) gives `str.format`'s text:
    literal braces, a field twice, a format spec, a value that is not a str, an unused value, a missing one."""
    from engine.explaining.catalogue import format_string, formatter

    cases = [
        ("{a}：上限 {b}，{{x}} {c} → {a}", ("a", "b", "c"), None, None, {"a": "甲", "b": 2, "c": Decimal("1.50")}),
        ("no fields {at all} }{", (), None, None, {"a": 1}),
        ("{n} 元", ("n",), None, {"n": ","}, {"n": Decimal("1234567.5")}),
        ("{says}（{cites}）{from}", ("says", "from"), {"cites": "第{九}条"}, None, {"says": "说", "from": "起"}),
        ("{a}{b}{a}", ("a", "b"), None, None, {"a": "", "b": True}),
    ]
    for text, names, fixed, specs, values in cases:
        fast = formatter(text, names, fixed, specs)
        assert fast(**values) == format_string(text, names, fixed, specs).format(**values), text
        assert type(fast(**values)) is str
    # by hand: "{n:,}" groups digits; "{a}{b}{a}" with a="" and b=True is "True"
    assert formatter("{n} 元", ("n",), None, {"n": ","})(n=Decimal("1234567.5")) == "1,234,567.5 元"
    assert formatter("{a}{b}{a}", ("a", "b"))(a="", b=True) == "True"
    with pytest.raises(KeyError):
        formatter("{a} {b}", ("a", "b"))(a=1)


def test_money_is_kept_by_its_text(policy: engine.CompiledPolicy) -> None:
    """Amounts are kept by their text, not by the Decimal (whose hash is worked out per fresh object): equal
    amounts with other exponents, zeros of either sign, and amounts past the cent each show as formatted."""
    labels = renderer(policy, "zh").labels
    labels.money_cache.clear()
    # by hand: 12100.265 to the cent is 12,100.26 (half even), 5E+4 is 50,000.00, -0 is -0.00
    assert labels.money(Decimal("12100.265")) == "12,100.26 元"
    assert labels.money(Decimal("5E+4")) == "50,000.00 元"
    assert labels.money(Decimal("50000.00")) == "50,000.00 元"
    assert labels.money(Decimal("-0")) == "-0.00 元"
    assert labels.money(Decimal("0.000")) == "0.00 元"
    assert labels.money(Decimal("12100.265")) == "12,100.26 元"  # (a kept one)
    assert set(labels.money_cache) == {"12100.265", "5E+4", "50000.00"}
