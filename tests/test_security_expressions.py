"""Policy expressions: known sandbox escapes and denial-of-service patterns are refused at load time,
with the line of the `test:` that holds them; what can only happen at run time is bounded and clean.

The allow-list lives in engine/language/expressions.py; SECURITY.md argues why evaluation is bounded
(no loops, at most MAX_NODES nodes, no sequence repetition, bounded fact sizes).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import no_hang
from regressions.support import TEST_LINE, load_tiny, tiny_claim

import engine
from engine.language import expressions
from engine.language.expressions import MAX_DEPTH, MAX_NODES, MAX_SOURCE_CHARS, MAX_STRING_LITERAL

# (expression, words the refusal must contain)
REFUSED = [
    # attribute escapes and dunders
    ("item.__class__", "'__class__' not allowed"),
    ("item.cost.__class__", "attribute access is only allowed"),
    ("().__class__.__bases__[0].__subclasses__()", "only the documented functions may be called"),
    ("item.__class__.__mro__[1].__subclasses__()", "only the documented functions may be called"),
    ("year.__globals__", "attribute access is only allowed"),
    ("add_years.__code__", "attribute access is only allowed"),
    ("__builtins__", "not allowed"),
    ("_F_year(item.date)", "unknown function _F_year()"),
    ("I['cost']", "not allowed"),
    ("item.note.upper()", "only the documented functions may be called"),
    ("item.cost.real", "attribute access is only allowed"),
    # dangerous calls
    ("getattr(item, 'cost')", "unknown function getattr()"),
    ("eval('1')", "unknown function eval()"),
    ("exec('import os')", "unknown function exec()"),
    ("open('/etc/passwd')", "unknown function open()"),
    ("__import__('os').system('true')", "only the documented functions may be called"),
    ("__import__('os')", "unknown function __import__()"),
    ("compile('1', 'x', 'eval')", "unknown function compile()"),
    ("globals()", "unknown function globals()"),
    ("type(item)", "unknown function type()"),
    # format-string tricks
    ("'{0.__class__}'.format(item)", "only the documented functions may be called"),
    ("'%s' % item.note", "the operator %"),
    ("f'{item.note}'", "f-strings"),
    ("f'{item.__class__}'", "f-strings"),
    # functions, comprehensions, assignment, unpacking
    ("lambda: 1", "lambda"),
    ("[x for x in item.tags]", "comprehensions"),
    ("{x for x in item.tags}", "comprehensions"),
    ("{x: 1 for x in item.tags}", "comprehensions"),
    ("any(x for x in item.tags)", "unknown function any()"),
    ("(x := 1)", "assignment :="),
    ("max(*item.tags)", "* unpacking"),
    ("min(item.cost, default=0)", "keyword arguments"),
    ("{'a': 1}", "dictionary literals"),
    # subscripts
    ("item.tags[0]", "indexing"),
    ("item.note[0:1000000]", "indexing"),
    # power, repetition, bit tricks
    ("9**9**9", "power operator"),
    ("item.count ** 99", "power operator"),
    ("'x' * 999999999999999", "repeating text or a list"),
    ("999999999999999 * 'x'", "repeating text or a list"),
    ("[1] * 999999999999999", "repeating text or a list"),
    ("(1, 2) * 999999999999999", "repeating text or a list"),
    # issue 11: anything that can yield text or a list is refused as a side of * at load, not per claim
    ("('x' + 'y') * 999999999999999 == 'z'", "repeating text or a list with * is not allowed: `'x' + 'y'` can be text"),
    ("item.note * item.count != ''", "`item.note` can be text"),  # a string fact, either side
    ("item.count * item.note != ''", "`item.note` can be text"),
    ("applicant.name * 999999999999999 == ''", "`applicant.name` can be text"),
    ("item.type * 999999999999999 == ''", "`item.type` can be text"),  # an item_type fact
    ("item.tags * 999999999999999 == []", "`item.tags` can be list"),  # a string_list fact
    ("(item.tags + ['x']) * 999999999999999 == []", "`item.tags + ['x']` can be list"),
    ("first(item.tags) * 999999999999999 == ''", "`first(item.tags)` can be text"),  # an element of a string list
    ("max(item.tags) * 999999999999999 == ''", "`max(item.tags)` can be text"),
    ("min('a', 'b') * 999999999999999 == ''", "`min('a', 'b')` can be text"),
    ("first('abc') * 999999999999999 == ''", "`first('abc')` can be text"),
    ("first([[1], 2]) * 999999999999999 == []", "`first([[1], 2])` can be list"),
    ("(item.note or 0) * 999999999999999 == 0", "`item.note or 0` can be text"),  # `or` yields an operand
    ("(item.count and 'x') * 999999999999999 == 0", "`item.count and 'x'` can be text"),
    ("('x' if item.count > 1 else 1) * 999999999999999 == 0", "`'x' if item.count > 1 else 1` can be text"),
    ("2 * (3 * ('ab' + item.note)) == ''", "`'ab' + item.note` can be text"),  # nested
    ("1 << 99999999", "bit operators"),
    ("~item.count", "bit operators"),
    ("item.count // 0", "the operator //"),
    ("99999999999999999999999", "larger than"),
    ("item.cost < 1e400", "number 1e400 is larger than"),  # read as a float, it was infinity
    ("item.cost < 1.5e16", "larger than"),
    ("item.cost > 1e-400", "more than 30 decimal places"),
    ("item.cost > 0." + "0" * 30 + "1", "more than 30 decimal places"),
    ("item.cost > 1" + "0" * 40 + ".5", "number literal longer than 40 characters"),
    ("'" + "x" * (MAX_STRING_LITERAL + 1) + "'", "string literal longer"),
    # deep nesting, size
    ("not " * 300 + "True", f"nested deeper than {MAX_DEPTH}"),
    ("-" * 1500 + "1", f"nested deeper than {MAX_DEPTH}"),
    ("1+" * 600 + "1", f"nested deeper than {MAX_DEPTH}"),
    ("(" * 250 + "1" + ")" * 250, "too many nested parentheses"),
    ("min(" * 60 + "1" + ")" * 60, f"nested deeper than {MAX_DEPTH}"),
    ("item.count in (" + "1," * 410 + "1)", f"more than {MAX_NODES} parts"),
    ("item.count == 1 and " * 200 + "True", "is too long"),  # the policy schema bounds the text first
    ("x" * (MAX_SOURCE_CHARS + 1), "is too long"),
    # documented functions with the wrong number of arguments (refused at load, not on every claim)
    ("year(item.date, 1) == 2021", "year() takes 1 argument, 2 given"),
    ("year() == 2021", "year() takes 1 argument, 0 given"),
    ("add_years(item.date) > item.date", "add_years() takes 2 arguments, 1 given"),
    ("add_years(item.date, 1, 2) > item.date", "add_years() takes 2 arguments, 3 given"),
    ("first(item.tags, 'x') == 'x'", "first() takes 1 argument, 2 given"),
    ("count() > 0", "count() takes 1 argument, 0 given"),
    ("len(item.tags, item.tags) > 0", "len() takes 1 argument, 2 given"),
    ("abs(item.cost, 2) > 1", "abs() takes 1 argument, 2 given"),
    ("max() > 1", "max() takes 1 or more arguments, 0 given"),
    ("min() < 1", "min() takes 1 or more arguments, 0 given"),
    # other literals and syntax
    ("b'x'", "literal b'x' not allowed"),
    ("1j", "not allowed"),
    ("...", "not allowed"),
    ("item", "`item` alone is not a fact"),
    ("os", "unknown name 'os'"),
    ("item.no_such_fact", "unknown fact item.no_such_fact"),
    ("item.cost >", "syntax error"),
    ("import os", "syntax error"),
    ("1; 2", "syntax error"),
    ("await item.cost", "not allowed"),
    ("", "should be non-empty"),
]


def _spy_on_compile(monkeypatch, refused: str | None = None) -> list[str]:
    """Where Python's compiler is asked to compile an expression (`file:line` of each call); asked for the place
    `refused`, the spy fails the test there and then, before any code is made."""
    lines: list[str] = []

    def compile_spy(source, filename, mode, *args, **kwargs):
        lines.append(filename)
        assert filename != refused, f"compile() reached for the expression at {filename}"
        return compile(source, filename, mode, *args, **kwargs)

    monkeypatch.setattr(expressions, "compile", compile_spy, raising=False)  # (found before the builtin)
    return lines


def test_the_compile_spy_sees_a_test_compiled(monkeypatch) -> None:
    compiled = _spy_on_compile(monkeypatch)
    load_tiny("item.count >= 1")
    assert f"tiny.yaml:{TEST_LINE}" in compiled


@pytest.mark.parametrize(("expression", "words"), REFUSED, ids=[r[0][:40] for r in REFUSED])
def test_hostile_expression_is_refused_at_load_with_its_line(monkeypatch, expression: str, words: str) -> None:
    """Refused before the costly step: the hostile test never reaches Python's compiler (which folds constants and
    recurses over the tree), so no code that could run it is made."""
    compiled = _spy_on_compile(monkeypatch, refused=f"tiny.yaml:{TEST_LINE}")
    with no_hang(), pytest.raises(engine.PolicyError) as caught:
        load_tiny(expression)
    assert f"tiny.yaml:{TEST_LINE}" not in compiled
    problems = [p for p in caught.value.problems if p.code in ("expression", "schema.maxLength", "schema.minLength")]
    assert problems, caught.value
    p = problems[0]
    assert p.file == "tiny.yaml"
    assert p.line == TEST_LINE, str(p)
    assert p.path[-1] == "test"
    assert words in p.message, str(p)


def test_a_wrong_argument_count_names_the_function_and_what_it_takes() -> None:
    with pytest.raises(engine.PolicyError) as caught:
        load_tiny("year(item.date, 1) == 2021")
    (p,) = [p for p in caught.value.problems if p.code == "expression"]
    assert (p.file, p.line) == ("tiny.yaml", TEST_LINE)
    assert "year() takes 1 argument, 2 given" in p.message and "year(item.date, 1) == 2021" in p.message
    assert p.expected == expressions.FUNCTION_DOCS["year"]  # year(date) -> the calendar year of a date
    # the right counts load: min/max of several values, add_years of two
    policy = load_tiny("year(item.date) == 2021 and add_years(item.date, 1) > item.date and max(item.cost, 1, 2) == min(item.cost, 200)")
    assert engine.evaluate(policy, tiny_claim()).items[0].status == "granted"  # 2021; 2022-05-01 > 2021-05-01; 100.00 == 100.00


def test_a_benign_expression_loads_and_decides() -> None:
    policy = load_tiny("item.count >= 1 and item.note == None or item.cost > 50")
    d = engine.evaluate(policy, tiny_claim(note="x")).to_dict()
    assert (d["items"][0]["status"], d["items"][0]["amount"]) == ("granted", "50.00")  # 100.00 x 50%


@pytest.mark.parametrize("trace", [True, False])
def test_decimal_literals_keep_their_written_digits(trace: bool) -> None:
    """A literal is read from its own text, never through a binary float: 0.12345678901234567890 (20 places) times
    cost 100.00 is exactly 12.3456789012345678900000 (through a float it was 0.12345678901234568 -> 12.345678901234568)."""
    exact = load_tiny("item.cost * 0.12345678901234567890 == 12.34567890123456789")
    assert engine.evaluate(exact, tiny_claim(), trace=trace).items[0].status == "granted"
    rounded = load_tiny("item.cost * 0.12345678901234567890 == 12.345678901234568")
    assert engine.evaluate(rounded, tiny_claim(), trace=trace).items[0].status == "refused"
    # written with underscores and exponents: 1_000.5 and 1.5e3 are 1000.5 and 1500 (cost 100.00 + 1400 = 1500)
    assert (
        engine.evaluate(load_tiny("item.cost + 900.5 == 1_000.5 and item.cost + 1400 == 1.5e3"), tiny_claim()).items[0].status == "granted"
    )
    compiled = expressions.compile_expression("item.cost * 0.12345678901234567890 > 1e5", lambda ns, f: None)
    assert compiled.checked is not None
    assert sorted(str(v) for _, v in compiled.checked[1]) == ["0.12345678901234567890", "100000"]


def test_expressions_run_without_builtins() -> None:
    compiled = expressions.compile_expression("item.cost > 1", lambda ns, f: None)
    assert compiled.function.__globals__["__builtins"[:12] + "__"] == {}
    names = set(compiled.function.__code__.co_names)
    assert names <= {"_F_mul", "_RUNTIME_ERRORS", "_fail"} | {f"_F_{k}" for k in expressions.FUNCTIONS}, names


# --- run time: bounded and clean ---------------------------------------------------


def test_string_repetition_by_a_fact_is_refused_at_load() -> None:
    """Issue 11: a text fact on a side of * is known from the declared fact types; before, this loaded and failed per claim."""
    with pytest.raises(engine.PolicyError) as caught:
        load_tiny("item.note * item.count != ''")
    (p,) = [p for p in caught.value.problems if p.code == "expression"]
    assert (p.file, p.line) == ("tiny.yaml", TEST_LINE)
    assert p.expected == "* multiplies numbers"


def test_without_fact_types_string_repetition_is_still_refused_at_run_time_without_building_it() -> None:
    """Defence in depth: an expression compiled without the policy's fact types keeps the run-time guard. The note is a
    text that fails the test if it is ever asked to repeat itself: the guard refuses before the repetition is begun."""

    class Note(str):
        def __mul__(self, times):
            raise AssertionError(f"the text was asked to repeat itself {times} times")

        __rmul__ = __mul__

    compiled = expressions.compile_expression("item.note * item.count != ''", lambda ns, f: None, "tiny.yaml:9")
    with no_hang(), pytest.raises(engine.ClaimError) as caught:
        compiled(
            expressions.Facts("item", {"note": Note("x" * 500), "count": 999999999}),
            expressions.Facts("applicant"),
            expressions.Facts("claim"),
        )
    (p,) = caught.value.problems
    assert p.code == "evaluation"
    assert "* multiplies numbers only" in p.message
    assert (p.file, p.line) == ("tiny.yaml", 9)


@pytest.mark.parametrize(
    ("expression", "facts", "status"),
    [
        ("item.cost * 2 > 150", {}, "granted"),  # 100.00 x 2 = 200.00
        ("item.count * item.cost * 0.5 == 150", {"count": 3}, "granted"),  # 3 x 100.00 x 0.5
        ("(item.cost + 1) * 2 == 202", {}, "granted"),
        ("max(item.cost, 1) * abs(-2) == 200", {}, "granted"),
        ("year(item.date) * 2 == 4042", {}, "granted"),  # 2021 x 2
        ("count(item.tags) * 3 == 6", {"tags": ["a", "b"]}, "granted"),
        ("(1 if item.count > 1 else 2) * 3 == 6", {}, "granted"),
        ("first([4, 5]) * 2 == 8", {}, "granted"),
        ("-item.count * 2 == -2", {}, "granted"),
    ],
)
def test_numbers_still_multiply_whatever_their_form(expression: str, facts: dict[str, object], status: str) -> None:
    assert engine.evaluate(load_tiny(expression), tiny_claim(**facts)).items[0].status == status


def test_numbers_still_multiply() -> None:
    policy = load_tiny("item.cost * 2 > 150")
    d = engine.evaluate(policy, tiny_claim()).to_dict()  # 100.00 * 2 = 200.00 > 150
    assert d["items"][0]["status"] == "granted"


def test_large_string_facts_concatenated_build_a_bounded_text() -> None:
    """The largest text fact (500 characters, MAX_STRING) concatenated 45 times: bounded work. The note records the
    length of every text `+` makes of it: each of the 44 `+` runs once and the longest text is the 45 notes; a note one
    character longer never reaches the expression."""
    built: list[int] = []

    class Note(str):
        def __add__(self, other):
            joined = Note(str.__add__(self, other))
            built.append(len(joined))
            return joined

        def __radd__(self, other):
            joined = Note(str.__add__(other, self))
            built.append(len(joined))
            return joined

    policy = load_tiny(" + ".join(["item.note"] * 45) + " != ''")
    with no_hang():
        d = engine.evaluate(policy, tiny_claim(note=Note("字" * 500))).to_dict()
    assert d["items"][0]["status"] == "granted"
    assert (len(built), max(built)) == (44, 45 * 500), built
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, tiny_claim(note=Note("字" * 501)))
    assert caught.value.problems[0].path == ("items", 0, "note")
    assert len(built) == 44  # (no `+` ran on the longer note)


def test_string_facts_longer_than_the_limit_never_reach_an_expression() -> None:
    policy = load_tiny("item.note != ''")
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, tiny_claim(note="x" * 100_000))
    assert caught.value.problems[0].path == ("items", 0, "note")


@pytest.mark.parametrize(
    ("expression", "facts", "error"),
    [
        ("item.cost / (item.count - 1) > 0", {"count": 1}, "ZeroDivisionError: division by zero"),  # (said "DivisionByZero: [<class ...>]")
        ("item.count / (item.count - 1) > 0", {"count": 1}, "ZeroDivisionError: division by zero"),
        ("item.ended < item.date", {}, "TypeError"),  # ended defaults to null: None < date
    ],
)
def test_runtime_type_errors_are_clean_claim_errors(expression: str, facts: dict[str, object], error: str) -> None:
    policy = load_tiny(expression)
    data = tiny_claim(**facts)
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, data)
    (p,) = caught.value.problems
    assert p.code == "evaluation"
    assert error in p.message
    assert expression in p.message


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        # These three failed at evaluation (AttributeError, TypeError) until functions' arguments were typed at load.
        ("year(item.note) == 2021", "year() needs a date fact here; item.note is a string"),
        ("len(item.count) > 0", "len() needs a list fact here; item.count is an integer"),
        ("abs(item.note) > 0", "abs() needs a number fact here; item.note is a string"),
        # and these (a red team's, session 19): each passed validate and failed on every claim, blamed on its facts
        ("first(item.count) == 1", "first() needs a list fact here; item.count is an integer"),
        ("max(item.date, 1) == 1", "max(item.date, 1): a date cannot be compared with a number"),
        ("min(item.cost, item.note) > 0", "min(item.cost, item.note): a number cannot be compared with text"),
        ("date_of(2021, 13, 1) > item.date", "date_of(…, 13, 1) is no date: the month is 1 to 12 and the day at least 1"),
        ("date_of(2021, 1, 0) > item.date", "date_of(…, 1, 0) is no date"),
    ],
)
def test_wrong_typed_function_arguments_are_load_errors(expression: str, words: str) -> None:
    with pytest.raises(engine.PolicyError) as caught:
        load_tiny(expression)
    (p,) = caught.value.problems
    assert p.line == TEST_LINE and words in p.message, str(p)


@pytest.mark.parametrize(
    ("expression", "tags", "status"),
    [('count(item.tags + ["x"]) == 2', ["a"], "granted"), ('first(["x"] + item.tags) == "x"', ["a"], "granted")]
    + [("count(item.tags + item.tags) == 4", ["a", "b"], "granted"), ("count(item.tags + []) == 1", [], "refused")],
)
def test_lists_of_any_kind_join_with_plus(expression: str, tags: list[str], status: str) -> None:
    # a list fact is a tuple and a written list a list: `+` of the two failed on every claim (TypeError)
    d = engine.evaluate(load_tiny(expression), tiny_claim(tags=tags)).to_dict()
    assert d["items"][0]["status"] == status


def test_a_set_of_codes_has_no_first_and_joins_in_code_order() -> None:
    from conftest import POLICY_PATH

    text = POLICY_PATH.read_text(encoding="utf-8").replace("  source_text: texts/pinggu_ip_measures.zh.txt\n", "")
    old = '      - test: item.patent_kind == "invention"\n'
    assert old in text
    with pytest.raises(engine.PolicyError) as caught:
        engine.load_policy_text(text.replace(old, '      - test: first(item.documents) == "proof_of_right"\n'), "p.yaml")
    (p,) = caught.value.problems
    assert "first(item.documents): item.documents is a set of codes, kept in no order, so it has no first one" in p.message
    assert expressions._join(frozenset({"b", "a"}), ["c"]) == ("a", "b", "c")  # (its codes in order: the same every run)
    assert expressions._join(["a"], ["b"]) == ["a", "b"]  # two written lists: as Python joins them (a list, == a list)


@pytest.mark.parametrize(
    ("expression", "tags", "status"),
    [('item.tags == ["a"]', ["a"], "granted"), ('item.tags == ["a"]', ["a", "b"], "refused")]
    + [('["a", "b"] == item.tags', ["a", "b"], "granted"), ('item.tags == ["b", "a"]', ["a", "b"], "refused")]
    + [('item.tags != ["a"]', ["a"], "refused"), ("item.tags == []", [], "granted"), ('item.tags + ["x"] == ["a", "x"]', ["a"], "granted")]
    + [("item.tags == item.tags", ["a"], "granted"), ("item.tags != []", [], "refused")]
    + [('item.tags in (["a"], ["b"])', ["a"], "granted"), ('item.tags not in (["a"], ["b"])', ["a"], "refused")]
    + [('item.tags in (["a"], ["b"])', ["a", "b"], "refused"), ('"a" in item.tags', ["a"], "granted")],
)
def test_a_list_fact_equals_a_written_list_with_the_same_entries(expression: str, tags: list[str], status: str) -> None:
    # a list fact is a tuple and a written list a list: `item.tags == ["a"]` was False on every claim (session 19's note)
    d = engine.evaluate(load_tiny(expression), tiny_claim(tags=tags)).to_dict()
    assert d["items"][0]["status"] == status


def test_a_set_of_codes_equals_a_written_list_of_the_same_codes_in_any_order() -> None:
    assert expressions._same(frozenset({"b", "a"}), ["a", "b"]) and expressions._same(["b", "a"], frozenset({"a", "b"}))
    assert not expressions._same(frozenset({"a"}), ["a", "b"])
    assert expressions._same(("a", "b"), ["a", "b"]) and not expressions._same(("a", "b"), ["b", "a"])
    assert expressions._same(1, 1) and not expressions._same("a", ["a"])


def test_the_reference_semantics_compares_lists_as_the_engine_does() -> None:
    # the matcher evaluates a condition's parts in three values by simpleeval (the reference semantics): a list fact
    # equal to a written list there was False while the compiled expression said True, a refusal no completion makes
    for source, want in (('item.tags == ["a"]', True), ('item.tags in (["a"], ["b"])', True), ('item.tags != ["a"]', False)):
        assert expressions.evaluate_with_simpleeval(source, {"tags": ("a",)}, {}, {}) is want, source
    assert expressions.evaluate_with_simpleeval('item.codes == ["b", "a"]', {"codes": frozenset({"a", "b"})}, {}, {}) is True


def test_lists_compared_in_a_chain_are_a_load_error_saying_to_write_them_apart() -> None:
    with pytest.raises(engine.PolicyError) as caught:
        load_tiny('item.tags == ["a"] == item.tags')
    (p,) = caught.value.problems
    assert p.line == TEST_LINE and "compared as lists, which is done one pair at a time" in p.message, str(p)


def test_add_years_saturates_instead_of_overflowing() -> None:
    import datetime as dt

    assert expressions._add_years(dt.date(9999, 1, 1), 5) == dt.date.max
    assert expressions._add_years(dt.date(2020, 2, 29), 1) == dt.date(2021, 2, 28)
    policy = load_tiny("add_years(item.date, item.count) > item.date")
    d = engine.evaluate(policy, tiny_claim(date="2021-05-01", count=999999999)).to_dict()
    assert d["items"][0]["status"] == "granted"


def test_simpleeval_reference_also_refuses_the_classic_escapes() -> None:
    from simpleeval import FeatureNotAvailable, FunctionNotDefined, InvalidExpression

    for expr in ("item.__class__", "().__class__.__bases__", "open('x')", "__import__('os')"):
        with pytest.raises((FeatureNotAvailable, FunctionNotDefined, InvalidExpression, AttributeError, KeyError)):
            expressions.evaluate_with_simpleeval(expr, {"a": 1}, {}, {})


# --- an amount's base and count, and what a formula computes (red-team of hostile policies, session 17) ---------------

FEES = "    amount: {rate: 50%, of: item.official_fees_paid}"  # 第五条第（一）项 in policies/pinggu_2020.yaml


def _pinggu_with(tmp_path, old: str, new: str):
    import shutil

    from conftest import POLICY_PATH

    folder = tmp_path / "policy"
    shutil.copytree(POLICY_PATH.parent / "texts", folder / "texts")
    text = POLICY_PATH.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path = folder / "p.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path, text[: text.index(old)].count("\n") + 1


@pytest.mark.parametrize(
    "amount, said",
    [
        ("{rate: 50%, of: item.date}", "the base of this amount, 'item.date', is a date, not a number"),
        ("{rate: 50%, of: item.patent_id}", "the base of this amount, 'item.patent_id', is text, not a number"),
        ("{rate: 50%, of: \"'None'\"}", "the base of this amount, \"'None'\", is text, not a number"),
        ("{rate: 50%, of: 'item.official_fees_paid > 0'}", "the base of this amount, 'item.official_fees_paid > 0', is yes/no, not a number"),
        ("{per_unit: 3000, count: item.patent_id}", "the count of this amount, 'item.patent_id', is text, not a whole number"),
        ("{per_unit: 3000, count: item.official_fees_paid}", "the count of this amount, 'item.official_fees_paid', is an amount of money, not a whole number"),
        ("{least: [{fixed: 1000}, {rate: 50%, of: item.date}]}", "the base of this amount, 'item.date', is a date, not a number"),
    ],
)  # fmt: skip
def test_an_amount_s_base_or_count_of_another_kind_is_refused_at_load(tmp_path, amount, said) -> None:
    # `validate` and `lint` passed them; every claim then failed with a traceback (a date times a Decimal), a yes/no
    # was paid as 0 or 1 yuan, or a money count broke the decision's JSON
    path, line = _pinggu_with(tmp_path, FEES, f"    amount: {amount}")
    with pytest.raises(engine.PolicyError) as err:
        engine.load_policy(path)
    [problem] = err.value.problems
    assert (problem.line, problem.code) == (line, "amount") and said in str(problem.message), str(problem)


def test_a_formula_computing_more_than_any_amount_is_the_policy_s_error_not_a_grant(tmp_path) -> None:
    # `of: item.official_fees_paid * 10**30` granted 4,200,000,000,000,000,000,000,000,000,000,000.00 yuan for an
    # 8,400.00 fee, which `batch --commit` committed; a larger one was a decimal.InvalidOperation traceback
    from conftest import claim, item

    from engine.core.i18n import tr

    fees = item("invention_patent_grant", "p1", official_fees_paid="8400.00")
    cases = [
        ("1000000000000000 * 1000000000000000", "4200000000000000000000000000000000.00"),  # 8,400.00 x 50% x 10^30
        # 8,400.00 x 50% x 10^60 has 64 digits, past the 60 of the engine's decimal context (it said 28, Python's default)
        ("1000000000000000 * 1000000000000000 * 1000000000000000 * 1000000000000000", "a number past the engine's 60 digits"),
    ]
    for n, (factor, amount) in enumerate(cases):
        path, _ = _pinggu_with(tmp_path / str(n), FEES, f"    amount: {{rate: 50%, of: 'item.official_fees_paid * {factor}'}}")
        policy = engine.load_policy(path)
        with pytest.raises(engine.PolicyError) as err:
            engine.evaluate(policy, claim(fees, claim_id="BIG-1"))
        [problem] = err.value.problems
        assert problem.path == ("items", 0) and problem.item_id == "p1"
        assert tr(problem.message, "en") == (
            f"rule invention-patent-fees (第五条第（一）项) computes {amount} for item p1, more than any amount the engine pays "
            "(999999999999.99): the rule's amount formula is wrong; nothing is decided by it"
        )
    assert engine.evaluate(engine.load_policy(_pinggu_with(tmp_path / "plain", FEES, FEES)[0]), claim(fees)).items[0].amount == Decimal(
        "4200.00"
    )


def test_a_policy_s_words_are_bounded_as_an_explanation_repeats_them_per_item(tmp_path) -> None:
    # a check's `says` of 900,000 characters (the file under its 2 MiB bound): a 100-item claim's explanation took
    # 1.1 GB and 270 MB of text, a 1000-item claim ran out of memory; every wording is now at most 5,000 characters
    old = "      en: an organisation must be registered in Pinggu District, actually operate there and pay tax there"
    path, line = _pinggu_with(tmp_path, old, "      en: " + "x" * 900_000)
    with pytest.raises(engine.PolicyError) as err:
        engine.load_policy(path)
    [problem] = err.value.problems
    assert problem.line == line and "is too long" in str(problem.message), str(problem)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("    en: granted invention patent\n", "    en: " + "x" * 6000 + "\n"),  # an item type's name
        ('  version: "2020.1"\n', "  version: v" + "1" * 100 + "\n"),
        ("    - id: N1\n      zh: ", "    - id: N1\n      zh: " + "注" * 6000),  # a note, cited by rules
        ('en: "dates of findings that the applicant obtained funds by fraud (empty if none)"', "en: " + "x" * 6000),  # a fact
        ("  第一条:\n    article: 第一条\n", "  第一条:\n    article: " + "条" * 300 + "\n"),
    ],
    ids=["item type name", "version", "note", "fact label", "article"],
)
def test_every_wording_an_explanation_repeats_is_bounded(tmp_path, old: str, new: str) -> None:
    """SECURITY.md says a policy's wordings are at most 5,000 characters a language; an item type's and a fact's
    names, a note's text, a version, an article had no bound: a 1.9 MB label made a 1,000-item explanation of 1.9 GB
    (25 s, 5.6 GB of memory), a cited note of 1.9 MB 11.2 GB as HTML."""
    path, _ = _pinggu_with(tmp_path, old, new)
    with pytest.raises(engine.PolicyError) as err:
        engine.load_policy(path)
    assert any("is too long" in str(p.message) for p in err.value.problems), [str(p) for p in err.value.problems]


def test_only_a_computed_amount_is_held_to_the_bound_when_it_is_decided(tmp_path) -> None:
    # the bound is tested in the generated code where an amount is computed, not for every item: the Pinggu rules pay
    # fixed sums, table sums, or 50% of one claimed sum of money (at most 999,999,999,999.99 as a claim gives it)
    from engine.deciding.codegen import may_exceed

    policy = engine.load_policy(_pinggu_with(tmp_path, FEES, FEES)[0])
    assert [r.id for r in policy.rules if may_exceed(r.amount)] == []
    computed = engine.load_policy(_pinggu_with(tmp_path / "c", FEES, "    amount: {rate: 50%, of: 'item.official_fees_paid * 2'}")[0])
    assert [r.id for r in computed.rules if may_exceed(r.amount)] == ["invention-patent-fees"]


@pytest.mark.parametrize(
    "literal",
    ["'\\x1b[31mRED'", "'\\u202eevil'", "'\\x07'", "'\\u2028'"],
    ids=["escape sequence", "bidi override", "bell", "line separator"],
)
def test_a_text_in_an_expression_that_no_reader_sees_is_refused_at_load(tmp_path, literal: str) -> None:
    """An expression's own string escapes made what the YAML text may not hold as itself: `amount: {by: "'\\x1b[31mRED'
    if … else 'plain'", …}` passed validate and lint --strict, and the text explanation printed the ESC sequence."""
    old = "    test: applicant.registered_in_district and applicant.actually_operating and applicant.pays_tax_in_district\n"
    new = f"    test: applicant.name != {literal} and applicant.registered_in_district\n"
    path, line = _pinggu_with(tmp_path, old, new)
    with pytest.raises(engine.PolicyError) as err:
        engine.load_policy(path)
    [problem] = err.value.problems
    assert problem.line == line and "no reader sees as written" in str(problem.message), str(problem)


def test_diff_of_two_long_texts_is_not_quadratic(tmp_path, monkeypatch) -> None:
    """`diff` compared changed texts character by character (SequenceMatcher, autojunk off): two notes of 20,000
    random characters took 67 s, a policy of long aliased texts days. A change past 2,000 characters each way is
    shown whole between what the two texts share: SequenceMatcher is only ever given the bounded middles."""
    import difflib
    import random

    from engine.officer.diff import FINE_DIFF_CHARS, _snip, diff_policies

    rng = random.Random(7)
    first = "".join(rng.choice("ab") for _ in range(15_000))
    second = "".join(rng.choice("ab") for _ in range(15_000))
    from conftest import POLICY_PATH

    text = POLICY_PATH.read_text(encoding="utf-8").replace("  source_text: texts/pinggu_ip_measures.zh.txt\n", "")
    old = '    text: "为贯彻落实'  # 第一条's verbatim text (not held to the measures' text without source_text)
    assert text.count(old) == 1
    (tmp_path / "a.yaml").write_text(text.replace(old, f'    text: "{first}" #'), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(text.replace(old, f'    text: "{second}" #'), encoding="utf-8")
    before, after = engine.load_policy(tmp_path / "a.yaml"), engine.load_policy(tmp_path / "b.yaml")
    compared: list[tuple[int, int]] = []

    class Matcher(difflib.SequenceMatcher):
        def __init__(self, isjunk=None, a="", b="", autojunk=True):
            compared.append((len(a), len(b)))
            assert len(a) <= FINE_DIFF_CHARS and len(b) <= FINE_DIFF_CHARS, f"SequenceMatcher given {len(a)} and {len(b)} characters"
            super().__init__(isjunk, a, b, autojunk)

    monkeypatch.setattr(difflib, "SequenceMatcher", Matcher)
    with no_hang():
        [change] = [c for c in diff_policies(before, after) if c.clause == "第一条"]
    assert compared == []  # (shown whole: no character-by-character comparison at all)
    # a change of a longer text is compared character by character (a text of 40 characters or fewer is shown whole)
    clause = "对企业以专利权质押获得的银行贷款，予以贴息补助，每家企业每年享受贴息补助最高不超过 30 万元。"
    assert _snip(clause, clause.replace("30", "50")) == ("…补助最高不超过 30 万元。", "…补助最高不超过 50 万元。")
    assert compared == [(1, 1)]
    assert first[:100] in str(change.old) and second[:100] in str(change.new)


def test_a_diff_compares_ten_million_cells_at_most_over_all_its_texts(tmp_path, monkeypatch) -> None:
    """Each changed middle was compared character by character up to 2,000 characters each way, but with no bound on
    how many: 40 texts of 2,000 changed characters (20 readings, two 0.24 MB policies) took 12 s, 400 texts 147 s. One diff
    compares at most 10,000,000 cells (characters times characters) in all; past them a change is shown whole."""
    import difflib

    from engine.core.i18n import tr
    from engine.officer.diff import MAX_FINE_DIFF_CELLS, diff_policies

    assert MAX_FINE_DIFF_CELLS == 10_000_000
    from conftest import POLICY_PATH

    text = POLICY_PATH.read_text(encoding="utf-8").replace("  source_text: texts/pinggu_ip_measures.zh.txt\n", "")

    def with_readings(zh: str, name: str):
        readings = "".join(f'  - {{id: X{k}, zh: "{zh}", en: "the same"}}\n' for k in range(6))
        (tmp_path / name).write_text(text.replace("\nreadings:\n", "\nreadings:\n" + readings, 1), encoding="utf-8")
        return engine.load_policy(tmp_path / name)

    # six readings of 1,500 characters, changed from the first to the last: 2,250,000 cells each, four are 9,000,000
    before, after = with_readings("的是" * 750, "a.yaml"), with_readings("是的" * 750, "b.yaml")
    compared: list[tuple[int, int]] = []

    class Matcher(difflib.SequenceMatcher):
        def __init__(self, isjunk=None, a="", b="", autojunk=True):
            compared.append((len(a), len(b)))
            super().__init__(isjunk, a, b, autojunk)

    monkeypatch.setattr(difflib, "SequenceMatcher", Matcher)
    changes = {c.subject: c for c in diff_policies(before, after) if c.kind == "reading.text"}
    assert sorted(changes) == [f"X{k}.zh" for k in range(6)]
    assert compared == [(1500, 1500)] * 4
    assert (
        tr(changes["X0.zh"].text, "en")
        == "reading X0 (zh) changed: “的是的是的是的是… …是的是的是的是的是” → “是的是的是的是的是… …是的是的是的是的”"
    )
    for k in (4, 5):  # (past the cells: each text whole)
        assert tr(changes[f"X{k}.zh"].text, "en") == f"reading X{k} (zh) changed: “{'的是' * 750}” → “{'是的' * 750}”"


def test_a_large_enum_of_short_labels_is_within_the_words_an_item_carries(tmp_path) -> None:
    """An item shows the one value an enum fact holds: counting every value's label refused an applicant fact of the
    1,382 industries of GB/T 4754 (about 70 characters each); a list fact counts its 100 longest."""
    from engine.deciding.claims import MAX_LIST
    from engine.language.compiler import LIST_FACT_ELEMENTS

    assert LIST_FACT_ELEMENTS == MAX_LIST
    values = "".join(f"          c{i:04d}: {{zh: {'行' * 30}{i}, en: {'industry ' * 4}{i}}}\n" for i in range(1382))
    fact = "    industry:\n      type: enum\n      required: false\n      record_only: true\n      zh: 行业\n      en: industry\n      values:\n"
    path, _ = _pinggu_with(tmp_path, "  applicant:\n", "  applicant:\n" + fact + values.replace("          c", "        c"))
    policy = engine.load_policy(path)
    assert len(policy.applicant_facts["industry"].values or ()) == 1382


def test_a_fact_read_by_many_conditions_counts_for_each(tmp_path) -> None:
    """A refusal shows each failing condition's facts with their values: an enum value labelled with 5,000
    characters, read by 40 conditions, made one item's explanation 441,908 characters while its label counted once."""
    conditions = "".join(
        f'      - test: applicant.industry == "small" or {k} == {k + 1}\n        says: {{zh: 行业{k}, en: industry {k}}}\n'
        for k in range(40)
    )
    path, _ = _pinggu_with(
        tmp_path, "    when:\n      - test: item.lender_is_bank\n", "    when:\n" + conditions + "      - test: item.lender_is_bank\n"
    )
    text = path.read_text(encoding="utf-8")
    fact = "    industry:\n      type: enum\n      required: false\n      zh: 行业\n      en: industry\n      values:\n"
    fact += "        big: {zh: " + "行" * 5000 + ", en: " + "i" * 5000 + "}\n        small: {zh: 小, en: small}\n"
    path.write_text(text.replace("  applicant:\n", "  applicant:\n" + fact, 1), encoding="utf-8")
    with pytest.raises(engine.PolicyError) as err:
        engine.load_policy(path)
    assert any(p.code == "too_large" and "pledge" in str(p.message) for p in err.value.problems), [str(p) for p in err.value.problems]


def test_is_compares_only_with_none_true_or_false() -> None:
    """`item.patent_kind is "invention"` loaded and linted clean, then refused every invention patent (two equal texts
    are not one object), and Python's SyntaxWarning named a line of generated code on stderr."""
    from engine.language.expressions import ExpressionError, compile_expression

    def compiled(source: str) -> object:
        return compile_expression(source, lambda ns, f: None, fact_types=lambda ns, f: ("string",))

    for source in ('item.patent_kind is "invention"', "item.patent_kind is not item.other", '"a" is item.x'):
        with pytest.raises(ExpressionError) as caught:
            compiled(source)
        assert "not the same value" in caught.value.message
    for source in ("item.x is None", "item.x is not None", "item.flag is True", "False is item.flag"):
        compiled(source)
