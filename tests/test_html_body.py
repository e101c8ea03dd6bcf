"""`BodyWriter` (engine/explaining/htmlbody.py) writes exactly what the engine's own `_explain_body.html.j2` draws
(issue 14 point 5: the report draws it once per application). Each test compares it with the jinja template on the
same model, character for character; no timings here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import APPLICANTS, ROOT, claim, item
from markupsafe import Markup

import engine
from benchmarks.generate import claims
from engine.core.i18n import use_language
from engine.explaining import htmlbody, render
from engine.officer import casefile


def _both(r: render.Renderer, x: Any, anchor: str, in_report: bool) -> tuple[str, str]:
    jinja = r.template(render.BODY_TEMPLATE).render(d=None, x=x, anchor=anchor, in_report=in_report)
    writer = htmlbody.BodyWriter(r.env.getattr, r.env.getitem, r.m)
    return jinja, writer.body(x, anchor, in_report)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_generated_round_is_written_as_the_template_writes_it(policy: engine.CompiledPolicy, lang: str) -> None:
    # 60 generated applications (every status of the generator: granted, reduced, refused, incomplete, referred,
    # pending review), each as a Decision and as its recorded JSON, in the report (h2) and alone (h1)
    r = render.renderer(policy, lang)
    assert not r.own_templates  # the engine's own templates: where BodyWriter is used
    statuses: set[str] = set()
    for n, raw in enumerate(claims(600, seed=5)):
        decision = engine.evaluate(policy, raw)
        statuses.update(i.status for i in decision.items)
        for form in (decision, json.loads(json.dumps(decision.to_dict()))):
            x = r.model(form)
            for in_report in (True, False):
                jinja, written = _both(r, x, f"app-{n + 1}", in_report)
                assert written == jinja
    assert {"granted", "reduced", "refused", "incomplete"} <= statuses


def test_text_that_html_must_escape_is_escaped_as_the_template_escapes_it(policy: engine.CompiledPolicy) -> None:
    # every character markupsafe replaces, in a name and an id the explanation quotes
    data = claim(item("invention_patent_grant", "a<b>&'\"c"), applicant=dict(APPLICANTS["enterprise"], name='<b>A & B\'s "Co"</b>'))
    decision = engine.evaluate(policy, data)
    for lang in ("zh", "en"):
        r = render.renderer(policy, lang)
        x = r.model(decision)
        jinja, written = _both(r, x, "app-1", True)
        assert written == jinja
        assert "&lt;b&gt;A &amp; B&#39;s &#34;Co&#34;&lt;/b&gt;" in written  # escaped as markupsafe does: & < > ' "
        assert "a&lt;b&gt;&amp;&#39;&#34;c" in written


def test_values_of_other_types_are_escaped_as_escape_does() -> None:
    e = htmlbody.BodyWriter.escaper()
    assert e(7) == "7"
    assert e(None) == "None"  # as `{{ none }}` shows it
    assert e(Markup("<i>kept</i>")) == "<i>kept</i>"  # already markup: not escaped again
    assert e("<i>kept</i>") == "&lt;i&gt;kept&lt;/i&gt;"  # the same characters as a plain str: escaped
    assert e(Markup("<i>kept</i>")) == "<i>kept</i>"  # (the plain str kept above does not stand in for Markup)


def test_every_case_file_decision_is_written_as_the_template_writes_it() -> None:
    # the policies' own case files: every case decided (as a Decision and as its recorded JSON), round cases as
    # batch records them (scaled), zh and en
    files = sorted((ROOT / "policies" / "tests").glob("*.yaml")) + sorted((ROOT / "policies" / "revisions" / "tests").glob("*.yaml"))
    compared = 0
    for f in files:
        for case in casefile.load_case_file(f):
            try:
                pol = casefile._policy_for(case, None)
                if case.round:
                    forms: list[Any] = list(casefile.decide_round(case, pol)[0])
                else:
                    d = casefile.decide_case(case, pol)
                    forms = [d, json.loads(json.dumps(d.to_dict()))]
            except engine.EngineError:  # a case that expects its claim to be refused as unreadable
                continue
            for form in forms:
                for lang in ("zh", "en"):
                    r = render.renderer(pol, lang)
                    if r.own_templates:
                        continue
                    with use_language(lang):
                        jinja, written = _both(r, r.model(form), "app-3", True)
                    assert written == jinja, f"{f.name}: {case.id}"
                    compared += 1
    assert compared > 500


def test_a_report_page_uses_the_writer_only_with_the_engines_own_templates(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    decision = engine.evaluate(policy, claim(item("invention_patent_grant")))
    r = render.renderer(policy, "zh")
    body = r.body_html(decision, "app-1")
    assert str(body) == r.template(render.BODY_TEMPLATE).render(d=None, x=r.model(decision), anchor="app-1", in_report=True)
    assert r._body is not None  # drawn by BodyWriter
    # a policy that brings its own body template: drawn by that template (jinja), never by BodyWriter
    text = (ROOT / "policies" / "pinggu_2020.yaml").read_text(encoding="utf-8")
    own = tmp_path / "own.yaml"
    shutil.copytree(ROOT / "policies" / "texts", tmp_path / "texts")
    body_template = '<section id="{{ anchor }}">OWN {{ x.claim_id }}</section>\n'
    own.write_text(text + f"\ntemplates:\n  zh:\n    _explain_body.html.j2: {json.dumps(body_template)}\n", encoding="utf-8")
    mine = engine.load_policy(own)
    r2 = render.renderer(mine, "zh")
    assert r2.own_templates
    assert (
        str(r2.body_html(engine.evaluate(mine, claim(item("invention_patent_grant"))), "app-1"))
        == '<section id="app-1">OWN C-1</section>\n'
    )
    assert r2._body is None
