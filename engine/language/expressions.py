"""Expressions over claim facts: checked against an allow-list, compiled once.

A policy writes conditions and key expressions in simpleeval's language
(`item.patent_kind == "invention"`, `year(item.date) == claim.funding_year`).
At load we parse each one with Python's `ast`, check every node against the
allow-list below, rewrite fact references `item.x` into dictionary look-ups,
and compile the result into a plain function -- the way jinja2 compiles a
template. Evaluation never walks a tree and never parses.

simpleeval stays the reference for the language: `evaluate_with_simpleeval`
runs the same expression through it (used interactively and in tests that
check both agree).
"""

from __future__ import annotations

import ast
import calendar
import copy
import datetime as _dt
import difflib
import inspect
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from simpleeval import EvalWithCompoundTypes

from engine.core.errors import ClaimError, Problem

NAMESPACES = ("claim", "applicant", "item")

#: Names an expression may use where the policy language allows them, for values the engine computes while
#: deciding an item (not facts): name -> what it is. `amount`: the item's amount after subject, limits and caps,
#: in a rule's `when` tests and in item-level document conditions (issue 13, point 8).
COMPUTED_NAMES: dict[str, str] = {"amount": "money"}
COMPUTED_WHERE = {"amount": "the item's amount after subject, limits and caps; usable in a rule's `when` tests and document conditions"}

MAX_SOURCE_CHARS = 2000
MAX_NODES = 400
MAX_STRING_LITERAL = 1000
MAX_INT_LITERAL = 10**15
MAX_DECIMAL_LITERAL = 40  # characters of a decimal literal's text (0.12345678901234567890 has 22)
MAX_DECIMAL_PLACES = 30  # digits after the point a literal may carry (1e-400 is refused)
MAX_DEPTH = 50  # nesting of the syntax tree; deeper trees are refused before any recursive walk


class MissingFact(LookupError):
    """An expression needed a fact the claim does not give: unknown, not false."""

    def __init__(self, fact: str) -> None:
        super().__init__(fact)
        self.fact = fact


class Facts(dict[str, Any]):
    """A namespace of facts. A missing key raises `MissingFact` naming `namespace.key`."""

    __slots__ = ("namespace",)

    def __init__(self, namespace: str, values: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
        super().__init__(values)
        self.namespace = namespace

    def __missing__(self, key: str) -> Any:
        raise MissingFact(f"{self.namespace}.{key}")


def _year(value: _dt.date) -> int:
    return value.year


def _add_years(value: _dt.date, years: int) -> _dt.date:
    """Same calendar date `years` later; 29 February becomes 28 February."""
    target = value.year + years
    if target > _dt.MAXYEAR:
        return _dt.date.max  # later than any real date: saturate instead of failing
    if target < _dt.MINYEAR:
        return _dt.date.min
    day = min(value.day, calendar.monthrange(target, value.month)[1])
    return value.replace(year=target, day=day)


def _latest_on_or_before(dates: list[_dt.date] | tuple[_dt.date, ...], day: _dt.date) -> _dt.date | None:
    """The most recent of `dates` on or before `day`, or None. One pass over a list a claim bounds (its
    schema caps every list), so the cost is bounded; anything but a list of dates and a date is a TypeError."""
    if not isinstance(dates, list | tuple) or not isinstance(day, _dt.date):
        raise TypeError(f"latest_on_or_before takes a list of dates and a date, not {type(dates).__name__} and {type(day).__name__}")
    latest = None
    for d in dates:
        if not isinstance(d, _dt.date):
            raise TypeError(f"latest_on_or_before takes a list of dates, not of {type(d).__name__}")
        if d <= day and (latest is None or d > latest):
            latest = d
    return latest


def _first(values: list[Any] | tuple[Any, ...]) -> Any:
    return values[0] if values else None


def _count(values: list[Any] | tuple[Any, ...]) -> int:
    return len(values)


def _mul(a: Any, b: Any) -> Any:
    """`*` on numbers only: repeating a string or list (`"x" * 10**15`) would make evaluation unbounded."""
    if not isinstance(a, int | Decimal) or not isinstance(b, int | Decimal):
        raise TypeError(f"* multiplies numbers only, not {type(a).__name__} and {type(b).__name__}")
    return a * b


#: Errors an expression may raise at run time on unexpected data (None < 5, a date out of range, x / 0).
#: They become a clean error naming the expression; MissingFact passes through (it means "unknown").
_RUNTIME_ERRORS = (ArithmeticError, TypeError, ValueError, AttributeError, IndexError, RecursionError, MemoryError)


#: The functions a policy may call. Documented in docs/policy-language.md.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "year": _year,
    "add_years": _add_years,
    "latest_on_or_before": _latest_on_or_before,
    "first": _first,
    "count": _count,
    "len": _count,
    "min": min,
    "max": max,
    "abs": abs,
}

FUNCTION_DOCS: dict[str, str] = {
    "year": "year(date) -> the calendar year of a date",
    "add_years": "add_years(date, n) -> the same calendar date n years later (29 Feb -> 28 Feb)",
    "latest_on_or_before": "latest_on_or_before(dates, date) -> the most recent of a list of dates on or before date, or None",
    "first": "first(list) -> the first element, or None for an empty list",
    "count": "count(list) -> number of elements",
    "len": "len(list) -> number of elements (same as count)",
    "min": "min(a, b, ...) -> the least value",
    "max": "max(a, b, ...) -> the greatest value",
    "abs": "abs(x) -> absolute value",
}


def _arity(function: Callable[..., Any]) -> tuple[int, int | None]:
    """(least, most) positional arguments `function` takes; most is None for any number. Builtins without a
    signature (min, max) take one or more."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except ValueError:
        return 1, None
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    least = sum(1 for p in positional if p.default is p.empty)
    most = None if any(p.kind is p.VAR_POSITIONAL for p in parameters) else len(positional)
    return least, most


#: How many arguments each function takes, derived once from the functions themselves (checked at load).
ARITY: dict[str, tuple[int, int | None]] = {name: _arity(function) for name, function in FUNCTIONS.items()}

#: The fact types a function's arguments must have where an argument is a fact itself (checked at load, so
#: `latest_on_or_before(applicant.some_date, ...)` -- a single date, not a list -- is a located load error).
ARGUMENT_TYPES: dict[str, tuple[frozenset[str], ...]] = {
    "latest_on_or_before": (frozenset({"date_list"}), frozenset({"date"})),
}


def _arguments(least: int, most: int | None) -> str:
    if most is None:
        return f"{least} or more arguments"
    if least == most:
        return f"{least} argument{'s' if least != 1 else ''}"
    return f"{least} to {most} arguments"


_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Is,
    ast.IsNot,
    ast.IfExp,
    ast.Call,
    ast.Name,
    ast.Attribute,
    ast.Constant,
    ast.Tuple,
    ast.List,
    ast.Load,
)

_NODE_WORDS = {
    ast.Lambda: "lambda functions",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Subscript: "indexing with [ ] (use first(...))",
    ast.Pow: "the power operator **",
    ast.FloorDiv: "the operator //",
    ast.Mod: "the operator %",
    ast.NamedExpr: "assignment :=",
    ast.Dict: "dictionary literals",
    ast.Set: "set literals",
    ast.JoinedStr: "f-strings",
    ast.Starred: "* unpacking",
    ast.BitAnd: "bit operators",
    ast.BitOr: "bit operators",
    ast.BitXor: "bit operators",
    ast.LShift: "bit operators",
    ast.RShift: "bit operators",
    ast.Invert: "bit operators",
    ast.Await: "await",
}


class ExpressionError(ValueError):
    """An expression outside the allowed language; `hint` says what is allowed."""

    def __init__(self, message: str, hint: str | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.column = column


#: Resolves a fact reference. Returns None if known, else a message (with a hint).
FactResolver = Callable[[str, str], "tuple[str, str | None] | None"]
#: The declared types of a fact (several when item types declare it differently; none if unknown).
FactTypes = Callable[[str, str], "Iterable[str]"]

# What an expression can yield, for refusing `*` on text or lists at load (`("x" + "y") * 10**15`): a small
# inference over the allow-listed nodes. UNKNOWN (a fact whose type was not given) is let through to the
# run-time guard `_mul`; ANY (cannot tell) counts as possibly text or a list.
NUM, TEXT, LIST, DATE, BOOL, NONE, ANY, UNKNOWN = "number", "text", "list", "date", "boolean", "None", "anything", "unknown"
_REPEATABLE = frozenset({TEXT, LIST, ANY})
_Kinds = tuple[frozenset[str], frozenset[str]]  # (what the value can be, what its elements can be if it is a list)
_NOTHING: frozenset[str] = frozenset()

#: What a fact of each declared type holds (and the elements of a list fact).
TYPE_KINDS: dict[str, _Kinds] = {
    "string": (frozenset({TEXT}), _NOTHING),
    "enum": (frozenset({TEXT}), _NOTHING),
    "identifier": (frozenset({TEXT}), _NOTHING),
    "item_type": (frozenset({TEXT}), _NOTHING),
    "integer": (frozenset({NUM}), _NOTHING),
    "money": (frozenset({NUM}), _NOTHING),
    "date": (frozenset({DATE}), _NOTHING),
    "boolean": (frozenset({BOOL}), _NOTHING),
    "enum_list": (frozenset({LIST}), frozenset({TEXT})),
    "string_list": (frozenset({LIST}), frozenset({TEXT})),
    "document_list": (frozenset({LIST}), frozenset({TEXT})),
}


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    """An expression checked and compiled once. Call with the three fact namespaces."""

    source: str
    function: Callable[[Facts, Facts, Facts], Any]
    facts: tuple[str, ...]  # "item.fee", ... in order of first use: the trace shows their values
    compares: tuple[tuple[str, tuple[Any, ...]], ...]  # (fact, literal values) pairs, for enum checks
    #: The checked, rewritten body as Python source and the Decimal constants it names: what `inline_source`
    #: turns back into code for the evaluator's generated rule functions.
    checked: tuple[str, tuple[tuple[str, Decimal], ...]] | None = field(default=None, compare=False, repr=False)
    #: computed names it uses (COMPUTED_NAMES): the function takes each as a further argument, in this order,
    #: and an inlined body reads each as the local variable `_V_<name>`
    computed: tuple[str, ...] = ()

    def __call__(self, item: Facts, applicant: Facts, claim: Facts) -> Any:
        return self.function(item, applicant, claim)


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


class _Checker(ast.NodeTransformer):
    def __init__(self, resolve: FactResolver, source: str, fact_types: FactTypes | None = None, names: Iterable[str] = ()) -> None:
        self.resolve = resolve
        self.names = frozenset(names)  # computed names (COMPUTED_NAMES) allowed here
        self.computed: list[str] = []  # those used, in order of first use
        self.fact_types = fact_types
        self.source = source  # the parsed text: a decimal literal's value is taken from its own text
        self.facts: list[str] = []
        self.constants: dict[str, Decimal] = {}
        self.compares: list[tuple[str, tuple[Any, ...]]] = []
        self.count = 0

    def fail(self, node: ast.AST, message: str, hint: str | None = None) -> ExpressionError:
        return ExpressionError(message, hint, getattr(node, "col_offset", None))

    def generic_visit(self, node: ast.AST) -> ast.AST:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(node, f"expression too complex (more than {MAX_NODES} parts)")
        if not isinstance(node, _ALLOWED_NODES):
            what = _NODE_WORDS.get(type(node), type(node).__name__)
            raise self.fail(
                node,
                f"{what} not allowed in policy expressions",
                "conditions use facts, literals, and/or/not, comparisons, + - * / and the documented functions",
            )
        return super().generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        self.count += 1
        value = node.value
        if isinstance(value, bool) or value is None:
            return node
        if isinstance(value, str):
            if len(value) > MAX_STRING_LITERAL:
                raise self.fail(node, f"string literal longer than {MAX_STRING_LITERAL} characters")
            return node
        if isinstance(value, int):
            if abs(value) > MAX_INT_LITERAL:
                raise self.fail(node, f"number {value} is larger than {MAX_INT_LITERAL}")
            return node
        if isinstance(value, float):
            # Exactness: 0.1 in an expression means Decimal('0.1'), never a binary float -- and the value is read
            # from the literal's own text, not from the float Python parsed (0.12345678901234567890 keeps its
            # 20 places, 1e400 is not infinity).
            name = f"_K{next(_CONSTANT_NUMBERS)}"  # unique in the process: inlined bodies share namespaces
            self.constants[name] = self.decimal_literal(node)
            return ast.copy_location(ast.Name(id=name, ctx=ast.Load()), node)
        raise self.fail(node, f"literal {value!r} not allowed")

    def decimal_literal(self, node: ast.Constant) -> Decimal:
        text = (ast.get_source_segment(self.source, node) or "").replace("_", "")
        if len(text) > MAX_DECIMAL_LITERAL:
            raise self.fail(node, f"number literal longer than {MAX_DECIMAL_LITERAL} characters")
        try:
            value = Decimal(text)
        except ArithmeticError:
            raise self.fail(node, f"number literal {text!r} is not a decimal number") from None
        if not value.is_finite():
            raise self.fail(node, f"number {text} is not a finite number")
        if value.copy_abs() > MAX_INT_LITERAL:  # (copy_abs: exact, whatever the decimal context)
            raise self.fail(node, f"number {text} is larger than {MAX_INT_LITERAL}")
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int)  # finite
        if exponent < -MAX_DECIMAL_PLACES:
            raise self.fail(node, f"number {text} has more than {MAX_DECIMAL_PLACES} decimal places")
        if exponent > 0:  # 1e5 means 100000, written out (a Decimal's exponent shows in what it makes)
            value = Decimal(int(value))
        return value

    def visit_Name(self, node: ast.Name) -> ast.AST:
        self.count += 1
        if node.id in NAMESPACES:
            raise self.fail(node, f"`{node.id}` alone is not a fact", f"name a fact, e.g. {node.id}.<fact>")
        if node.id.startswith("_"):
            raise self.fail(node, f"name {node.id!r} not allowed")
        if node.id in self.names:
            if node.id not in self.computed:
                self.computed.append(node.id)
            return ast.copy_location(ast.Name(id="_V_" + node.id, ctx=ast.Load()), node)
        if node.id in COMPUTED_NAMES:
            raise self.fail(node, f"`{node.id}` cannot be used here", COMPUTED_WHERE[node.id])
        raise self.fail(
            node,
            f"unknown name {node.id!r}",
            "facts are written claim.<fact>, applicant.<fact> or item.<fact>; strings need quotes",
        )

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.count += 1
        if not isinstance(node.value, ast.Name) or node.value.id not in NAMESPACES:
            raise self.fail(
                node, "attribute access is only allowed on claim, applicant and item", "write claim.<fact>, applicant.<fact> or item.<fact>"
            )
        if node.attr.startswith("_"):
            raise self.fail(node, f"name {node.attr!r} not allowed")
        namespace, fact = node.value.id, node.attr
        problem = self.resolve(namespace, fact)
        if problem is not None:
            raise self.fail(node, problem[0], problem[1])
        full = f"{namespace}.{fact}"
        if full not in self.facts:
            self.facts.append(full)
        target = {"item": "I", "applicant": "A", "claim": "C"}[namespace]
        return ast.copy_location(ast.Subscript(value=ast.Name(id=target, ctx=ast.Load()), slice=ast.Constant(fact), ctx=ast.Load()), node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        if isinstance(node.op, ast.Mult):
            self.count += 1
            for side in (node.left, node.right):
                can = self.kinds(side)[0] & _REPEATABLE
                if can:
                    what = " or ".join(k for k in (TEXT, LIST, ANY) if k in can)
                    raise self.fail(
                        node, f"repeating text or a list with * is not allowed: `{ast.unparse(side)}` can be {what}", "* multiplies numbers"
                    )
            call = ast.Call(func=ast.Name(id="_F_mul", ctx=ast.Load()), args=[node.left, node.right], keywords=[])
            call.args = [self.visit(arg) for arg in call.args]
            return ast.copy_location(call, node)
        return self.generic_visit(node)

    def kinds(self, node: ast.AST) -> _Kinds:
        """What `node` (not yet rewritten) can yield, and what its elements can be if it is a list.

        Recursion is bounded: the tree was checked against MAX_DEPTH before any walk.
        """
        if isinstance(node, ast.Constant):
            value = node.value
            kind = (
                BOOL if isinstance(value, bool) else NONE if value is None else TEXT if isinstance(value, str)
                else NUM if isinstance(value, int | float) else ANY
            )  # fmt: skip
            return frozenset({kind}), _NOTHING
        if isinstance(node, ast.List | ast.Tuple):
            return frozenset({LIST}), frozenset().union(*(self.kinds(e)[0] for e in node.elts))
        if isinstance(node, ast.Name) and node.id in COMPUTED_NAMES:
            return frozenset({NUM}), _NOTHING
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in NAMESPACES:
            declared = tuple(self.fact_types(node.value.id, node.attr)) if self.fact_types is not None else ()
            if not declared:
                return frozenset({UNKNOWN}), frozenset({UNKNOWN})
            found = [TYPE_KINDS.get(t, (frozenset({ANY}), frozenset({ANY}))) for t in declared]
            return frozenset().union(*(k for k, _ in found)), frozenset().union(*(e for _, e in found))
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Add):  # text + text is text, a list + a list a list
                (left, left_elements), (right, right_elements) = self.kinds(node.left), self.kinds(node.right)
                return left | right, left_elements | right_elements
            return frozenset({NUM}), _NOTHING  # - and / never yield text; * of text is refused
        if isinstance(node, ast.BoolOp):  # `a or b` yields a or b themselves
            parts = [self.kinds(v) for v in node.values]
            return frozenset().union(*(k for k, _ in parts)), frozenset().union(*(e for _, e in parts))
        if isinstance(node, ast.IfExp):
            (body, body_elements), (other, other_elements) = self.kinds(node.body), self.kinds(node.orelse)
            return body | other, body_elements | other_elements
        if isinstance(node, ast.UnaryOp):
            return frozenset({BOOL if isinstance(node.op, ast.Not) else NUM}), _NOTHING
        if isinstance(node, ast.Compare):
            return frozenset({BOOL}), _NOTHING
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name in ("year", "count", "len", "abs"):
                return frozenset({NUM}), _NOTHING
            if name == "add_years":
                return frozenset({DATE}), _NOTHING
            if name in ("first", "min", "max") and len(node.args) == 1:  # an element of a list, or a character of text
                kinds, elements = self.kinds(node.args[0])
                out = (elements if LIST in kinds else _NOTHING) | (kinds & {TEXT, UNKNOWN, ANY})
                return out or frozenset({NONE}), frozenset({ANY})
            if name in ("min", "max"):  # one of the arguments
                parts = [self.kinds(a) for a in node.args]
                return frozenset().union(*(k for k, _ in parts)), frozenset().union(*(e for _, e in parts))
        return frozenset({ANY}), frozenset({ANY})

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.count += 1
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, "only the documented functions may be called", ", ".join(sorted(FUNCTIONS)))
        if node.func.id not in FUNCTIONS:
            close = suggest(node.func.id, FUNCTIONS)
            hint = f"did you mean {close}()? " if close else ""
            raise self.fail(node, f"unknown function {node.func.id}()", hint + "functions: " + ", ".join(sorted(FUNCTIONS)))
        if node.keywords:
            raise self.fail(node, "keyword arguments are not allowed")
        least, most = ARITY[node.func.id]
        given = len(node.args)  # (a * unpacking among them is refused as such below)
        if (given < least or (most is not None and given > most)) and not any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(node, f"{node.func.id}() takes {_arguments(least, most)}, {given} given", FUNCTION_DOCS.get(node.func.id))
        node.args = [self.visit(arg) for arg in node.args]
        node.func = ast.copy_location(ast.Name(id="_F_" + node.func.id, ctx=ast.Load()), node.func)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        # Remember fact-vs-literal comparisons so the semantic check can test enum values.
        sides = [node.left, *node.comparators]
        for a, b in itertools.pairwise(sides):
            for fact_side, lit_side in ((a, b), (b, a)):
                if isinstance(fact_side, ast.Attribute) and isinstance(fact_side.value, ast.Name) and fact_side.value.id in NAMESPACES:
                    literals = _literals(lit_side)
                    if literals:
                        self.compares.append((f"{fact_side.value.id}.{fact_side.attr}", literals))
        return self.generic_visit(node)


def _literals(node: ast.AST) -> tuple[Any, ...]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
    return ()


def compile_expression(
    source: str, resolve: FactResolver, filename: str = "<policy>", fact_types: FactTypes | None = None, names: Iterable[str] = ()
) -> CompiledExpression:
    """Check `source` against the allow-list and compile it. Raises ExpressionError.

    `fact_types` gives each fact's declared types, so that `*` on a text or list fact is refused here; without
    it such a `*` is left to the run-time guard (`* multiplies numbers only`). `names`: the computed names
    (COMPUTED_NAMES) this expression may use.
    """
    if not isinstance(source, str):
        raise ExpressionError(f"expected an expression (text), got {type(source).__name__}")
    if len(source) > MAX_SOURCE_CHARS:
        raise ExpressionError(f"expression longer than {MAX_SOURCE_CHARS} characters")
    if not source.strip():
        raise ExpressionError("empty expression")
    text = source.strip()
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error: {exc.msg}", "a single simpleeval expression", (exc.offset or 1) - 1) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(f"expression nested deeper than {MAX_DEPTH} levels or too large") from None
    _check_depth(tree)
    checker = _Checker(resolve, text, fact_types, names)
    body = checker.visit(tree).body
    # def _expr(I, A, C):
    #     try: return <body>
    #     except _RUNTIME_ERRORS as exc: raise _fail(exc) from None
    # (a try costs nothing on the path that does not raise)
    handler = ast.ExceptHandler(
        type=ast.Name(id="_RUNTIME_ERRORS", ctx=ast.Load()),
        name="_exc",
        body=[
            ast.Raise(
                exc=ast.Call(func=ast.Name(id="_fail", ctx=ast.Load()), args=[ast.Name(id="_exc", ctx=ast.Load())], keywords=[]),
                cause=ast.Constant(None),
            )
        ],
    )
    function_def = ast.FunctionDef(
        name="_expr",
        args=ast.arguments(
            posonlyargs=[],
            args=[ast.arg("I"), ast.arg("A"), ast.arg("C"), *(ast.arg("_V_" + n) for n in checker.computed)],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[ast.Constant(None) for _ in checker.computed],
        ),
        body=[ast.Try(body=[ast.Return(value=body)], handlers=[handler], orelse=[], finalbody=[])],
        decorator_list=[],
        returns=None,
    )
    module = ast.fix_missing_locations(ast.Module(body=[function_def], type_ignores=[]))
    try:
        code = compile(module, filename, "exec")
    except (RecursionError, MemoryError, ValueError, SyntaxError) as exc:
        raise ExpressionError(f"expression cannot be compiled: {exc}") from None
    namespace: dict[str, Any] = {"__builtins__": {}}
    namespace.update({"_F_" + k: v for k, v in FUNCTIONS.items()})
    namespace["_F_mul"] = _mul
    namespace["_RUNTIME_ERRORS"] = _RUNTIME_ERRORS
    namespace["_fail"] = _runtime_failure(source.strip(), filename)
    namespace.update(checker.constants)
    exec(code, namespace)  # noqa: S102 -- code built only from allow-listed nodes above
    function = namespace["_expr"]
    # The function is compiled; the same checked tree, with three documented functions written as what they do,
    # becomes the text that generated rule code inlines (`inline_source`).
    inline = f"({ast.unparse(_Direct().visit(body))})"
    return CompiledExpression(
        source.strip(),
        function,
        tuple(checker.facts),
        tuple(checker.compares),
        (inline, tuple(checker.constants.items())),
        tuple(checker.computed),
    )


def inline_source(expression: CompiledExpression) -> tuple[str, dict[str, Any]] | None:
    """The expression's checked body as Python source, for code generated from a compiled policy.

    The text is `ast.unparse` of the tree the allow-list checker accepted and rewrote (facts as
    `I["x"]` / `A["x"]` / `C["x"]` look-ups, calls only to the documented functions as `_F_<name>`
    -- `year`, `count`, `len` and `first` of a fact written as what they do --, `*` as `_F_mul`,
    decimal literals as Decimal constants named uniquely in the process), parenthesised; nothing else
    can appear in it. Returns (source, the names it needs), or None for an expression without one.

    Inlined code has no runtime-error wrapper of its own: a generated function that inlines bodies
    must catch `RUNTIME_ERRORS` and re-run the item through the expression functions, which turn the
    error into a `ClaimError` naming the expression.
    """
    if expression.checked is None:
        return None
    text, constants = expression.checked
    if not constants:
        return text, _INLINE_NAMES
    return text, {**_INLINE_NAMES, **dict(constants)}


class _Direct(ast.NodeTransformer):
    """Calls of three documented functions written as what they do, for inlined bodies (same results, same
    errors): `year(x)` -> `x.year`, `count(x)` / `len(x)` -> `len(x)`, and `first(f)` of a fact -> `f[0] if f else None`."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.func, ast.Name) or len(node.args) != 1:
            return node
        (arg,) = node.args
        name = node.func.id
        if name == "_F_year":
            return ast.copy_location(ast.Attribute(value=arg, attr="year", ctx=ast.Load()), node)
        if name in ("_F_count", "_F_len"):
            return ast.copy_location(ast.Call(func=ast.Name(id="_B_len", ctx=ast.Load()), args=[arg], keywords=[]), node)
        if (
            name == "_F_first"
            and isinstance(arg, ast.Subscript)
            and isinstance(arg.value, ast.Name)
            and isinstance(arg.slice, ast.Constant)
        ):
            # a fact look-up: evaluating it twice is a second dictionary read
            element = ast.Subscript(value=copy.deepcopy(arg), slice=ast.Constant(0), ctx=ast.Load())
            return ast.copy_location(ast.IfExp(test=arg, body=element, orelse=ast.Constant(None)), node)
        return node


_INLINE_NAMES: dict[str, Any] = {"_F_" + k: v for k, v in FUNCTIONS.items()} | {"_F_mul": _mul, "_B_len": len}
_CONSTANT_NUMBERS = itertools.count()

#: What an inlined expression body may raise on unexpected data (see `inline_source`).
RUNTIME_ERRORS = _RUNTIME_ERRORS


def _check_depth(tree: ast.AST) -> None:
    """Refuse deeply nested trees iteratively, before any recursive walk or compile() could overflow."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"expression nested deeper than {MAX_DEPTH} levels", "split it into simpler conditions", getattr(node, "col_offset", None)
            )
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _runtime_failure(source: str, filename: str) -> Callable[[BaseException], ClaimError]:
    file, _, line = filename.rpartition(":")
    where_file, where_line = (file, int(line)) if file and line.isdigit() else (filename, None)

    def fail(exc: BaseException) -> ClaimError:
        return ClaimError(
            [
                Problem(
                    f"cannot evaluate `{source}` on this claim's facts: {type(exc).__name__}: {exc}",
                    file=where_file,
                    line=where_line,
                    code="evaluation",
                    expected="facts of the types the policy declares (a policy expression may need a guard such as `x == None or ...`)",
                )
            ],
            "cannot evaluate",
        )

    return fail


def evaluate_with_simpleeval(source: str, item: Mapping[str, Any], applicant: Mapping[str, Any], claim: Mapping[str, Any]) -> Any:
    """Evaluate with simpleeval itself: the reference semantics, for interactive use and tests."""
    evaluator = EvalWithCompoundTypes(
        functions=dict(FUNCTIONS),
        names={"item": dict(item), "applicant": dict(applicant), "claim": dict(claim)},
    )
    return evaluator.eval(source)
