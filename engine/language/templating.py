"""Templates a policy brings (`templates:` overrides) run in a sandbox, with every cost bounded.

A policy is untrusted data (SECURITY.md): a template it supplies must not reach Python's internals,
read files, or run without end. `PolicyEnvironment` is jinja2's `ImmutableSandboxedEnvironment`
made stricter:

* **names**: none of jinja2's default globals (`range`, `lipsum`, `cycler`, `joiner`, `namespace`,
  `dict`); only what the engine passes. No `{% do %}`. Unknown names, filters, tests and template
  names are refused when the policy loads (`check_template`).
* **attributes**: never one starting with `_`; a method only from a short list per type (`str.upper`,
  `dict.items`, ...: nothing that formats, pads, repeats or mutates); plain attributes only on data
  (numbers, strings, lists, dicts, dataclass fields) and on jinja2's own loop, macro and module objects.
  `str.format` is not offered at all.
* **calls**: only the engine's functions, macros, `loop`/`caller`/`super`, and the listed methods;
  macro calls nest at most `MAX_CALL_DEPTH` deep.
* **templates reachable**: `{% include/import/extends %}` resolve only to the engine's own template
  names and the policy's own overrides (`PolicyLoader`); never a file path.
* **cost**: one `RenderBudget` per render -- `MAX_RENDER_SECONDS` of time, checked at every loop
  iteration, call, attribute, filter and operator; `MAX_OUTPUT_CHARS` of output; and no value a
  template builds may grow past it either: strings (joins, `~`, `+`, `*`, `%`, filters) at most
  the output limit, lists/dicts at most `MAX_CONTAINER_WEIGHT` elements and characters, integers at
  most `MAX_INT_BITS` bits. Sizes are checked *before* a string or list is built wherever the
  operation could multiply it (`'x' * n`, `center(n)`, `indent`, `replace`, `join`, `format`).

Anything that goes wrong while rendering -- a limit, a refused attribute, a template bug -- is a
`RenderError` naming the template and its line, never a traceback or a hang.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import dataclasses
import difflib
import functools
import html
import inspect
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from typing import Any

from jinja2 import BaseLoader, TemplateNotFound, nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.environment import Environment, Template, TemplateModule
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError
from jinja2.filters import FILTERS as DEFAULT_FILTERS
from jinja2.meta import find_undeclared_variables
from jinja2.runtime import BlockReference, Context, LoopContext, Macro, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.tests import TESTS as DEFAULT_TESTS
from markupsafe import Markup, soft_str

from engine.core.characters import unshown_character
from engine.core.errors import SaidError
from engine.core.i18n import Msg, msg

#: Time one render of policy-supplied templates may take (a report: plus REPORT_SECONDS_PER_ROW per application).
MAX_RENDER_SECONDS = 2.0
#: Characters one render may output (a report: plus REPORT_CHARS_PER_ROW per application); also the
#: longest string a template may build.
MAX_OUTPUT_CHARS = 5_000_000
REPORT_SECONDS_PER_ROW = 0.1
REPORT_CHARS_PER_ROW = 1_000_000
#: Elements plus characters of any list, tuple or dict a template builds (counted through nesting).
MAX_CONTAINER_WEIGHT = 1_000_000
#: A string longer than this is not iterated by a filter (sort, unique, groupby, title, wordwrap, ...).
MAX_ITERATED_CHARS = 1_000_000
#: A string longer than this is not wrapped (`wordwrap` of 1,000,000 characters at width 1 took 13 s; of 100,000, 0.2 s).
MAX_WRAPPED_CHARS = 100_000
#: Bits of an integer a template computes (10**300 fits).
MAX_INT_BITS = 1024
#: Widths and precisions in a printf format (`'%5s'`), counts passed to batch/slice.
MAX_FORMAT_WIDTH = 1000
MAX_SLICES = 10_000
#: Macro (and recursive loop) calls nested inside one another.
MAX_CALL_DEPTH = 50
#: Characters of all the strings one render may build, as a multiple of its output limit (what the strings
#: a template builds but does not print may add up to: `[x|center(10**6), x|center(10**6), ...]`).
MAX_BUILT_FACTOR = 10
#: Characters of one template's source, and of all the templates of a policy (compiling is about 1 s per 50,000).
MAX_TEMPLATE_CHARS = 50_000
MAX_TEMPLATES_CHARS = 200_000
#: A message override (`templates: {zh: {status.refused: ...}}`): its length and `{placeholder}`s, so that the
#: engine's own templates and the fast text path cannot be made to multiply a value either.
MAX_MESSAGE_CHARS = 2000
MAX_MESSAGE_PLACEHOLDERS = 20
TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "explaining" / "templates"  # the engine's own, which overrides may include

#: The names every template may use: the engine's globals (render.Renderer) and the variables it renders with.
GLOBAL_NAMES = frozenset(
    {
        "m",
        "lang",
        "label",
        "clause",
        "kind",
        "role",
        "doc",
        "item_type",
        "kinds_in_order",
        "roles_in_order",
        "steps",
        "item_cites",
        "fact",
        "value",
        "fact_value",
        "base_value",
        "policy",
        "engine_version",
        "shaping",
    }
)
#: (`words`: what the sign-off block `_sign_off.html.j2` is included with, `{% with words = ... %}`)
RENDER_VARIABLES = frozenset({"d", "x", "anchor", "in_report", "rows", "title", "count", "errors", "grand_total", "words"})
_EXPLAIN = frozenset({"d", "x"})
#: the variables each template the engine renders itself is given (engine/explaining/render.py); a template it
#: only includes or imports, or a policy's own macros, may be given any of RENDER_VARIABLES
RENDERED_WITH = {
    "explain.txt.j2": _EXPLAIN,
    "explain.md.j2": _EXPLAIN,
    "explain.html.j2": _EXPLAIN,
    "_explain_body.html.j2": _EXPLAIN | {"anchor", "in_report"},  # (in the report; included by explain.html.j2: d, x)
    "report.html.j2": frozenset({"rows", "title", "count", "errors", "grand_total"}),
}
#: the filters the explaining layer gives every template (`render.Renderer`): a template using one compiles
ENGINE_FILTERS = frozenset({"money", "percent", "fill", "md", "css"})
HTML_ALIAS = "#html"

#: jinja2's filters a policy template may use; left out: `pprint` (object reprs), `random` (not reproducible),
#: `urlize` (regular expressions over arbitrary text).
ALLOWED_FILTERS = frozenset(DEFAULT_FILTERS) - {"pprint", "random", "urlize"}

#: Methods a template may call, per type: none formats, pads, repeats, encodes or mutates.
_STR_METHODS = frozenset(
    "capitalize casefold count endswith find index isalnum isalpha isdecimal isdigit islower isnumeric isspace istitle "
    "isupper lower lstrip partition removeprefix removesuffix rfind rindex rpartition rsplit rstrip split splitlines "
    "startswith strip swapcase title upper".split()
)
_SAFE_METHODS: tuple[tuple[type, frozenset[str]], ...] = (
    (str, _STR_METHODS),
    (dict, frozenset({"get", "items", "keys", "values"})),
    (list, frozenset({"count", "index"})),
    (tuple, frozenset({"count", "index"})),
    (LoopContext, frozenset({"cycle", "changed"})),
)
#: Objects whose public, non-callable attributes a template may read.
_DATA_TYPES = (str, int, float, Decimal, bool, type(None), list, tuple, dict, LoopContext, Macro, BlockReference)

#: Filters that walk their value item by item (in Python, without a clock check in between).
_ITERATING_FILTERS = frozenset(
    {"batch", "dictsort", "groupby", "join", "list", "map", "max", "min", "reject", "rejectattr", "select", "selectattr"}
    | {"slice", "sort", "sum", "striptags", "title", "unique", "wordwrap"}
)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)")


class RenderError(SaidError, ValueError):
    """A language, format or policy override the renderer cannot use; the message says what is expected, in the
    reader's language (`str(err)`) or the one named (`err.said("zh")`): it was said in English whatever the reader's."""


class LimitError(SecurityError):
    """A policy template went past one of the limits above."""


# --- the budget of one render --------------------------------------------------------------------


class RenderBudget:
    """Time and output one render may use; extended per application in a report."""

    def __init__(self, seconds: float = MAX_RENDER_SECONDS, chars: int = MAX_OUTPUT_CHARS) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.chars = chars
        self.used = 0
        self.built = 0
        self.depth = 0

    def allow(self, seconds: float, chars: int) -> None:
        self.seconds += seconds
        self.deadline += seconds
        self.chars += chars

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitError(msg("loading.template.rendering_took_longer_than", seconds=format(self.seconds, "g")))

    def emit(self, n: int) -> None:
        self.used += n
        if self.used > self.chars:
            raise LimitError(msg("loading.template.output_longer_than_characters", chars=self.chars))


_BUDGET: contextvars.ContextVar[RenderBudget | None] = contextvars.ContextVar("render_budget", default=None)


def _tick() -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.tick()


def _string_limit() -> int:
    budget = _BUDGET.get()
    return MAX_OUTPUT_CHARS if budget is None else budget.chars


def check_string_size(n: int, what: Msg | str | None = None) -> None:
    """Refuse to build a string of `n` characters past the output limit (before building it), or past what
    all the strings of this render may add up to (MAX_BUILT_FACTOR times the output limit)."""
    budget = _BUDGET.get()
    limit = MAX_OUTPUT_CHARS if budget is None else budget.chars
    if n > limit:
        what = what if what is not None else msg("loading.template.what.string")
        raise LimitError(msg("loading.template.characters_would_longer_than", what=what, n=n, limit=limit))
    if budget is not None:
        budget.tick()
        budget.built += n
        if budget.built > MAX_BUILT_FACTOR * budget.chars:
            raise LimitError(msg("loading.template.strings_built_this_render", value=MAX_BUILT_FACTOR * budget.chars))


@contextmanager
def render_budget(
    seconds: float = MAX_RENDER_SECONDS, chars: int = MAX_OUTPUT_CHARS, *, budget: RenderBudget | None = None
) -> Iterator[RenderBudget]:
    """The budget of the renders inside (a render already under a budget keeps it): a new one of `seconds` and
    `chars`, or `budget` (one render done in parts, e.g. a report drawn as its applications are decided)."""
    outer = _BUDGET.get()
    if outer is not None:
        yield outer
        return
    budget = budget if budget is not None else RenderBudget(seconds, chars)
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def _weight(value: Any, cap: int = MAX_CONTAINER_WEIGHT) -> int:
    """Elements plus characters of a value, through nesting (each reference counted), stopping past `cap`."""
    total = 0
    stack = [value]
    while stack:
        v = stack.pop()
        total += 1
        if isinstance(v, str):
            total += len(v)
        elif isinstance(v, list | tuple):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        if total > cap:
            return total
    return total


def _check_container(value: Any) -> Any:
    if isinstance(value, list | tuple | dict):
        w = _weight(value)
        if w > MAX_CONTAINER_WEIGHT:
            raise LimitError(msg("loading.template.list_mapping_larger_than", max_container_weight=MAX_CONTAINER_WEIGHT))
    return value


def _check_int(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise LimitError(msg("loading.template.integer_more_than_bits", max_int_bits=MAX_INT_BITS))
    return value


def _check_printf(fmt: str, args: Any) -> None:
    """A printf format (`%` or `|format`) may not pad or print past MAX_FORMAT_WIDTH, nor take `*` widths."""
    widths = 0
    for mt in _PRINTF.finditer(fmt):
        for part in (mt.group(1), mt.group(2)):
            if part == "*" or (part and (len(part) > 4 or int(part) > MAX_FORMAT_WIDTH)):
                raise LimitError(
                    msg(
                        "loading.template.format_width_precision_most",
                        part=repr(part),
                        value=repr(mt.group(0)),
                        max_format_width=MAX_FORMAT_WIDTH,
                    )
                )
            widths += int(part) if part else 0
    check_string_size(len(fmt) + widths + _weight(args, _string_limit()), msg("loading.template.what.formatted"))


class _GuardedIterable:
    """A loop's iterable, checking the clock at every item."""

    def __init__(self, iterable: Any) -> None:
        self.iterable = iterable

    def __iter__(self) -> Iterator[Any]:
        for item in self.iterable:
            _tick()
            yield item

    def __len__(self) -> int:  # `loop.length`; a TypeError (a generator) makes LoopContext count as it goes
        return len(self.iterable)

    def __bool__(self) -> bool:
        return bool(self.iterable) if hasattr(self.iterable, "__len__") else True


def _guarded_items(iterable: Iterable[Any]) -> Iterator[Any]:
    """A filter's lazy result (map, select, batch, ...): the clock checked and each list it yields sized."""
    for item in iterable:
        _tick()
        yield _check_container(item)


# --- code generation: loops, `~` and literals go through the checks above -------------------------------


class _BoundedCodeGenerator(CodeGenerator):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loop_iterables: set[int] = set()

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        self.loop_iterables.add(id(node.iter))  # written as `environment.guard_iter(<iterable>)` by visit()
        super().visit_For(node, frame)

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        if id(node) in self.loop_iterables:
            self.loop_iterables.discard(id(node))
            self.write("environment.guard_iter(")
            super().visit(node, *args, **kwargs)
            self.write(")")
            return None
        return super().visit(node, *args, **kwargs)

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            markup = "context.eval_ctx.volatile"
        else:
            markup = "True" if frame.eval_ctx.autoescape else "False"
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(f"), {markup})")

    def _checked(self, visit: Callable[[Any, Frame], None], node: nodes.Expr, frame: Frame) -> None:
        if getattr(node, "ctx", "load") != "load":  # an assignment target: `{% set a, b = ... %}`
            visit(node, frame)
            return
        self.write("environment.checked_container(")
        visit(node, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self._checked(super().visit_List, node, frame)

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        self._checked(super().visit_Tuple, node, frame)

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self._checked(super().visit_Dict, node, frame)


# --- templates: every render under a budget, every failure a RenderError ----------------------------


def _template_frame(tb: TracebackType | None) -> tuple[str, int] | None:
    """The innermost template line of a traceback jinja2 has rewritten to point into template sources."""
    found = None
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            found = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def describe(exc: BaseException, name: str | None = None) -> Msg:
    """`template 'x.j2', line 3: <what went wrong>` for an error raised while compiling or rendering."""
    where = _template_frame(exc.__traceback__)
    if isinstance(exc, TemplateSyntaxError) and exc.lineno:
        where = (exc.filename or exc.name or name or "?", exc.lineno)
    what: Msg | str
    if isinstance(exc, RecursionError):
        what = msg("loading.template.nested_too_deeply")
    elif isinstance(exc, MemoryError):
        what = msg("loading.template.out_of_memory")
    elif isinstance(exc, TemplateError | ArithmeticError):
        what = (exc.message if isinstance(exc, TemplateError) else str(exc)) or type(exc).__name__
    else:
        what = f"{type(exc).__name__}: {exc}"
    if where is None:
        return msg("loading.template.in_named", name=repr(name), what=what) if name else msg("loading.template.in_some", what=what)
    file, line = where
    return msg("loading.template.at_line", name=Path(file).name if "/" in file else repr(file), line=line, what=what)


#: a character reference a browser or a Markdown viewer turns into its character (&#x202E;, &#x000202e;, &rlm;)
_REFERENCE = re.compile(r"&(?:#0*[0-9]{1,8}|#[xX]0*[0-9a-fA-F]{1,8}|[A-Za-z][A-Za-z0-9]{1,31});?")
#: CSS that reorders what a reader sees with no character at all (read with its escapes decoded: `dire\63tion`)
_CSS_REORDERING = re.compile(r"unicode-bidi|direction\s*:\s*rtl", re.IGNORECASE)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)", re.DOTALL)
#: characters of a `data:` address a page check decodes and reads, and how many such addresses deep
_DATA_READ = 1_000_000
_DATA_DEPTH = 3


def _css_unescaped(css: str) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(2) is not None:
            return m.group(2)
        code = int(m.group(1), 16)
        return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"

    return _CSS_ESCAPE.sub(one, css)


#: `<link rel>` values that make a browser look up or connect to a host by itself, before any click
_REACHING = frozenset({"dns-prefetch", "preconnect", "prefetch", "prerender", "preload", "modulepreload", "next", "pingback"})


class _PageReader(HTMLParser):
    """A page as a browser reads it, for `_refuse_unshown`: its text and attribute values with their references
    decoded, its styles as CSS, its `data:` images decoded and read the same way. `found`: the first thing that
    hides or reorders words, as (its kind, what it is). A claim's words are text here, whatever they spell
    (`&lt;style&gt;` is no style: a regex over the decoded page took it for one)."""

    def __init__(self, depth: int = 0) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = depth
        self.found: tuple[str, str] | None = None
        self.styles = 0  # <style> elements open

    def read(self, text: str, css: bool = False) -> None:
        if self.found is not None:
            return
        unseen = unshown_character(text)
        if unseen is not None:
            self.found = ("unshown", unseen)
        elif css and (reordering := _CSS_REORDERING.search(text)) is not None:
            self.found = ("reordering", reordering.group())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "bdo":
            self.found = self.found or ("reordering", "<bdo>")
        if tag in ("meta", "link"):
            self.leaving(tag, {n: v or "" for n, v in attrs})
        self.styles += tag == "style"
        for name, value in attrs:
            if value is None:
                continue
            self.read(value)
            if name in ("style", "direction", "unicode-bidi"):  # (an SVG's presentation attributes are CSS too)
                self.read(_css_unescaped(f"{name}: {value}" if name != "style" else value), css=True)
            elif name == "dir" and value.strip().lower() in ("rtl", "auto"):
                self.found = self.found or ("reordering", f'dir="{value.strip()}"')
            elif value.lstrip()[:5].lower() == "data:":
                self.data_address(value.strip())

    def leaving(self, tag: str, attrs: Mapping[str, str]) -> None:
        """A tag that makes the page go or reach elsewhere by itself, which the page's content security policy does
        not stop: `<meta http-equiv>` (refresh to another address, with the applicant's id in it) and `<link rel>`
        hints that look up or connect to a host (dns-prefetch to `<applicant id>.example`). The page's own policy
        is put in by the engine, after the template: a template has no `http-equiv` of its own to write."""
        rel = set(attrs.get("rel", "").lower().split()) & _REACHING
        if tag == "meta" and "http-equiv" in attrs:
            self.found = self.found or ("leaving", f'<meta http-equiv="{attrs["http-equiv"]}">')
        elif tag == "link" and rel:
            self.found = self.found or ("leaving", f'<link rel="{" ".join(sorted(rel))}">')

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.styles -= tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style" and self.styles:
            self.styles -= 1

    def handle_data(self, data: str) -> None:
        self.read(_css_unescaped(data) if self.styles else data, css=bool(self.styles))

    def data_address(self, address: str) -> None:
        """A `data:` image (an SVG, percent- or base64-encoded): read as a page of its own (references, styles)."""
        if self.depth >= _DATA_DEPTH or self.found is not None:
            return
        head, _, payload = address[: _DATA_READ + 200].partition(",")
        if ";base64" in head.lower():
            try:
                body = base64.b64decode(re.sub(r"\s+", "", payload) + "==", validate=False).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                return
        else:
            body = urllib.parse.unquote(payload)
        inner = _PageReader(self.depth + 1)
        inner.feed(body)
        inner.close()
        self.found = inner.found


def _md_references(text: str) -> Iterator[str]:
    """The live character references of Markdown text: not one after an odd run of backslashes (`\\&rlm;` is text;
    after `\\\\`, a backslash of its own, it is live again)."""
    for m in _REFERENCE.finditer(text):
        run = 0  # (the backslashes right before it, counted back one by one: no copy of the text before it)
        while m.start() - run > 0 and text[m.start() - run - 1] == "\\":
            run += 1
        if run % 2 == 0:
            yield m.group()


def _refuse_unshown(text: str, name: str) -> None:
    """RenderError when a template's output holds what no reader sees as written: the character itself
    (`{{ "\\x1b[2J" }}`, `"%c"|format(27)`: a terminal acts on it); in Markdown its live reference too; in a page
    whatever a browser reads as one or as reordering (`&#x202E;` showed 00.0003 as 3000.00; `<bdo>`, `dir="rtl"`,
    `unicode-bidi` in a style, an SVG image's), read as a browser reads the page (`_PageReader`). Not a proof against
    a template that means to mislead: it writes the words it likes (SECURITY.md, Known limits)."""
    unseen = unshown_character(text)
    if unseen is None and name.endswith(".md.j2"):
        for ref in set(_md_references(text)):  # (few, and the same: &lt; &amp;)
            hidden = unshown_character(html.unescape(ref))
            if hidden is not None:
                unseen = f"{ref} ({hidden})"
                break
    elif unseen is None and not name.endswith(".txt.j2"):
        reader = _PageReader()
        reader.feed(text)
        reader.close()
        if reader.found is not None and reader.found[0] == "reordering":
            raise RenderError(msg("loading.template.reordering", name=repr(name), markup=reader.found[1]))
        if reader.found is not None and reader.found[0] == "leaving":
            raise RenderError(msg("loading.template.leaving", name=repr(name), markup=reader.found[1]))
        unseen = reader.found[1] if reader.found is not None else None
    if unseen is not None:
        raise RenderError(msg("loading.template.unshown", name=repr(name), character=unseen))


class _BoundedTemplate(Template):
    """A template of the sandbox: rendered piece by piece under a RenderBudget; errors become RenderError."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        with render_budget() as budget:
            out: list[str] = []
            try:
                for chunk in self.generate(*args, **kwargs):
                    budget.emit(len(chunk))
                    out.append(chunk)
                    budget.tick()
            except RenderError:
                raise
            except Exception as exc:  # a policy template's failure, whatever it is, is reported, not raised through
                raise RenderError(describe(exc, self.name)) from None
            text = "".join(out)
            _refuse_unshown(text, self.name or "")
            return text

    def make_module(
        self, vars: dict[str, Any] | None = None, shared: bool = False, locals: Mapping[str, Any] | None = None
    ) -> TemplateModule:
        # An imported template's own output is kept (and printed by `{{ module }}`): bounded like any string.
        ctx = self.new_context(vars, shared, locals)
        body: list[str] = []
        size = 0
        for chunk in self.root_render_func(ctx):
            size += len(chunk)
            check_string_size(size, msg("loading.template.what.imported"))
            body.append(chunk)
        return TemplateModule(self, ctx, body)


class PolicyEnvironment(ImmutableSandboxedEnvironment):
    """jinja2's immutable sandbox, stricter: see the module's docstring."""

    code_generator_class = _BoundedCodeGenerator
    template_class = _BoundedTemplate
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self, **options: Any) -> None:
        options.pop("extensions", None)  # no `do`, no extension at all
        super().__init__(**options)
        self.globals.clear()  # not even range, lipsum, cycler, joiner, namespace, dict
        self.filters = {name: _bounded_filter(name, f) for name, f in DEFAULT_FILTERS.items() if name in ALLOWED_FILTERS}
        self.tests = dict(DEFAULT_TESTS)
        self.engine_callables: set[int] = set()
        self._keep: list[Any] = []

    def add_globals(self, values: Mapping[str, Any]) -> None:
        """The engine's globals; the functions among them become callable from templates."""
        self.globals.update(values)
        for v in values.values():
            if callable(v):
                self._keep.append(v)
                self.engine_callables.add(id(v))

    def add_filters(self, values: Mapping[str, Callable[..., Any]]) -> None:
        self.filters.update({name: _bounded_filter(name, f) for name, f in values.items()})

    # -- attributes, items, calls ---------------------------------------------------------------

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):  # `_...`, internals, methods that mutate
            return False
        if isinstance(obj, TemplateModule):  # an imported template's macros and variables
            return True
        if callable(value) and not isinstance(value, Macro):
            for kind, names in _SAFE_METHODS:
                if isinstance(obj, kind):
                    return attr in names
            return False
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return attr in {f.name for f in dataclasses.fields(obj)}
        return isinstance(obj, _DATA_TYPES)

    def is_safe_callable(self, obj: Any) -> bool:
        if isinstance(obj, Macro | LoopContext | BlockReference) or id(obj) in self.engine_callables:
            return True
        owner = getattr(obj, "__self__", None)
        name = getattr(obj, "__name__", "")
        if owner is None or isinstance(owner, type):
            return False
        for kind, names in _SAFE_METHODS:
            if isinstance(owner, kind):
                return name in names
        return False

    def wrap_str_format(self, value: Any) -> None:
        return None  # str.format / format_map are not offered (is_safe_attribute refuses them)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(
            msg("loading.template.access_attribute_object_allowed", attribute=repr(attribute), name=repr(type(obj).__name__))
        )

    def getattr(self, obj: Any, attribute: str) -> Any:
        _tick()
        if type(obj) is dict:  # the decision and the catalogue are JSON data: a key wins over a method name
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _tick()
        return super().getitem(obj, argument)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # jinja2's signature
        budget = _BUDGET.get()
        if budget is not None:
            budget.tick()
        if isinstance(__obj, Undefined):
            return __obj()  # jinja2's own error: "'range' is undefined"
        if not __self.is_safe_callable(__obj):
            raise SecurityError(msg("loading.template.object_callable_from_policy", name=type(__obj).__name__))
        if isinstance(__obj, LoopContext) and args:  # a recursive loop: its new iterable is guarded too
            args = (_GuardedIterable(args[0]), *args[1:])
        if budget is None:
            return _checked_result(__context.call(__obj, *args, **kwargs))
        budget.depth += 1
        try:
            if budget.depth > MAX_CALL_DEPTH:
                raise LimitError(msg("loading.template.macro_calls_nested_deeper", max_call_depth=MAX_CALL_DEPTH))
            result = __context.call(__obj, *args, **kwargs)
        finally:
            budget.depth -= 1
        return result if isinstance(__obj, Macro | LoopContext | BlockReference) else _checked_result(result)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _tick()
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
            if abs(left) > 1 and (left.bit_length() - 1) * right > MAX_INT_BITS:
                raise LimitError(msg("loading.template.has_more_than_bits", left=left, right=right, max_int_bits=MAX_INT_BITS))
        elif operator == "*":
            seq, n = (left, right) if isinstance(right, int) else (right, left)
            if isinstance(n, int) and isinstance(seq, str | list | tuple) and n > 0:
                size = len(seq) if isinstance(seq, str) else _weight(seq)
                if isinstance(seq, str):
                    check_string_size(size * n, msg("loading.template.what.repeated"))
                elif size * n > MAX_CONTAINER_WEIGHT:
                    raise LimitError(msg("loading.template.repeated_list_larger_than", max_container_weight=MAX_CONTAINER_WEIGHT))
        elif operator == "+" and isinstance(left, str) and isinstance(right, str):
            check_string_size(len(left) + len(right))
        elif operator == "%" and isinstance(left, str):
            _check_printf(left, right)
        result = self.binop_table[operator](left, right)
        if isinstance(result, list | tuple):
            _check_container(result)
        return _check_int(result)

    # -- code generated by _BoundedCodeGenerator ------------------------------------------------------

    def guard_iter(self, iterable: Any) -> _GuardedIterable:
        return _GuardedIterable(iterable)

    def checked_container(self, value: Any) -> Any:
        _tick()
        return _check_container(value)

    def bounded_concat(self, parts: Iterable[Any], markup: bool) -> str:
        strings = [soft_str(p) for p in parts]
        check_string_size(sum(map(len, strings)))
        if markup and any(hasattr(s, "__html__") for s in strings):
            return Markup("").join(strings)
        return "".join(strings)

    def concat(self, parts: Iterable[str]) -> str:  # macro output, {% set %} blocks, caller()
        strings = list(parts)
        check_string_size(sum(map(len, strings)))
        return "".join(strings)


# --- filters: arguments that could multiply a string or a list are checked before the call ---------------------


def _pre_center(value: Any, width: Any = 80) -> None:
    if isinstance(width, int):
        check_string_size(width, msg("loading.template.what.centred"))


def _pre_indent(s: Any, width: Any = 4, first: bool = False, blank: bool = False) -> None:
    text = soft_str(s)
    unit = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    check_string_size(len(text) + (len(text.splitlines()) + 1) * max(unit, 0), msg("loading.template.what.indented"))


def _pre_wordwrap(s: Any, width: Any = 79, break_long_words: bool = True, wrapstring: Any = None, break_on_hyphens: bool = True) -> None:
    text = soft_str(s)
    if len(text) > MAX_WRAPPED_CHARS:  # (textwrap cuts a long word by slicing what is left of it: n²/width steps)
        raise LimitError(msg("loading.template.over_wrapped_characters_max", len=len(text), most=MAX_WRAPPED_CHARS))
    sep = len(wrapstring) if isinstance(wrapstring, str) else 1
    check_string_size(len(text) + (len(text) + 1) * sep, "a wrapped string")


def _pre_replace(s: Any, old: Any, new: Any, count: Any = None) -> None:
    text, old, new = soft_str(s), soft_str(old), soft_str(new)
    n = text.count(old)
    if isinstance(count, int) and count >= 0:
        n = min(n, count)
    check_string_size(len(text) + n * max(len(new) - len(old), 0) * 6, "a replaced string")  # x6: escaping in HTML


def _pre_join(value: Any, d: Any = "", attribute: Any = None) -> None:
    if attribute is None and isinstance(value, str | list | tuple):
        check_string_size(
            sum(len(soft_str(x)) for x in value) + max(len(value) - 1, 0) * len(soft_str(d)), msg("loading.template.what.joined")
        )


def _pre_format(value: Any, *args: Any, **kwargs: Any) -> None:
    _check_printf(soft_str(value), kwargs or args)


def _pre_batch(value: Any, linecount: Any, fill_with: Any = None) -> None:
    if isinstance(linecount, int) and (
        linecount > MAX_SLICES or (fill_with is not None and linecount * _weight(fill_with) > MAX_CONTAINER_WEIGHT)
    ):
        raise LimitError(msg("loading.template.batch_larger_than_max", linecount=linecount, max_slices=MAX_SLICES))


def _pre_slice(value: Any, slices: Any, fill_with: Any = None) -> None:
    _pre_batch(value, slices, fill_with)


def _pre_sum(iterable: Any, attribute: Any = None, start: Any = 0) -> None:
    if not isinstance(start, int | float | Decimal):  # `sum(start=[])` concatenates lists in quadratic time
        raise LimitError(msg("loading.template.sum_adds_numbers_only"))


def _pre_tojson(value: Any, indent: Any = None) -> None:
    if indent is not None and not (isinstance(indent, int) and 0 <= indent <= 8):
        raise LimitError(msg("loading.template.tojson_indent_number_from"))


#: name -> a check of the filter's arguments (without jinja2's context/environment argument), raising LimitError
_PRECHECKS: dict[str, Callable[..., None]] = {
    "center": _pre_center,
    "indent": _pre_indent,
    "wordwrap": _pre_wordwrap,
    "replace": _pre_replace,
    "join": _pre_join,
    "format": _pre_format,
    "batch": _pre_batch,
    "slice": _pre_slice,
    "sum": _pre_sum,
    "tojson": _pre_tojson,
}


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` with the clock checked, its arguments checked (`_PRECHECKS`), and its result's size checked."""
    pre = _PRECHECKS.get(name)
    passes_arg = getattr(func, "jinja_pass_arg", None) is not None
    iterates = name in _ITERATING_FILTERS

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        value: Any = args[1] if passes_arg and len(args) > 1 else args[0] if args else None
        if iterates and isinstance(value, str) and len(value) > MAX_ITERATED_CHARS:
            raise LimitError(
                msg("loading.template.over_text_characters_max", name=name, len=len(value), max_iterated_chars=MAX_ITERATED_CHARS)
            )
        if name == "join" and not isinstance(value, str | list | tuple):  # a generator: sized before it is joined
            args = (*args[:1], _check_container(list(value)), *args[2:]) if passes_arg else (_check_container(list(value)), *args[1:])
        if pre is not None:
            try:
                pre(*(args[1:] if passes_arg else args), **kwargs)
            except TypeError:  # wrong arguments: the filter itself says so
                pass
        return _checked_result(func(*args, **kwargs), name)

    return bounded


def _checked_result(result: Any, name: str = "a call") -> Any:
    """What a filter, method or engine function returned, sized like anything a template builds."""
    if isinstance(result, str):
        check_string_size(len(result), f"the result of {name}")
    elif isinstance(result, list | tuple | dict):
        _check_container(result)
    elif inspect.isgenerator(result) or isinstance(result, Iterator):
        return _guarded_items(result)
    return _check_int(result)


# --- where templates come from ---------------------------------------------------------------------------


class PolicyLoader(BaseLoader):
    """The policy's own overrides, then the engine's templates by name -- never another file.

    `name#html` is `name` compiled with autoescaping (for HTML templates to import shared macros).
    """

    def __init__(self, overrides: Mapping[str, str], engine_dirs: Iterable[Path]) -> None:
        self.overrides = dict(overrides)
        self.engine: dict[str, Path] = {}
        for folder in engine_dirs:  # first folder wins (a language's own templates before the shared ones)
            if folder.is_dir():
                for p in sorted(folder.glob("*.j2")):
                    self.engine.setdefault(p.name, p)

    def names(self) -> set[str]:
        return set(self.overrides) | set(self.engine)

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        name = template.removesuffix(HTML_ALIAS)
        if name in self.overrides:
            source = self.overrides[name]
            filename = name
        elif name in self.engine:
            path = self.engine[name]
            source, filename = path.read_text(encoding="utf-8"), str(path)
        else:
            raise TemplateNotFound(template, msg("loading.template.template_policy_template_may", template=repr(template)))
        if len(source) > MAX_TEMPLATE_CHARS:
            raise TemplateNotFound(
                template, msg("loading.template.template_longer_than_characters", name=repr(name), max_template_chars=MAX_TEMPLATE_CHARS)
            )
        return source, filename, lambda: True

    def list_templates(self) -> list[str]:
        return sorted(self.names())


# --- checked when the policy loads -------------------------------------------------------------------------


@functools.cache
def engine_template_names() -> frozenset[str]:
    """The names of the engine's own templates (shared, and each language's own)."""
    return frozenset(p.name for p in TEMPLATE_DIR.glob("*.j2")) | frozenset(p.name for p in TEMPLATE_DIR.glob("*/*.j2"))


def message_problems(text: Any) -> list[Msg]:
    """What is wrong with a message override: it is data put into the explanation, of bounded size."""
    if not isinstance(text, str):
        return [msg("loading.template.message_text")]
    out = []
    if len(text) > MAX_MESSAGE_CHARS:
        out.append(msg("loading.template.characters_more_than_limit", len=len(text), max_message_chars=MAX_MESSAGE_CHARS))
    n = len(_PLACEHOLDER.findall(text))
    if n > MAX_MESSAGE_PLACEHOLDERS:
        out.append(msg("loading.template.placeholders_more_than_limit", n=n, max_message_placeholders=MAX_MESSAGE_PLACEHOLDERS))
    return out


def _noop_filter(value: Any, *args: Any, **kwargs: Any) -> Any:
    raise LimitError(msg("loading.template.folded_compile_time"))  # the real engine filters run at render time only


@functools.cache
def _checker() -> PolicyEnvironment:
    env = PolicyEnvironment(trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, auto_reload=False)
    env.add_globals(dict.fromkeys(GLOBAL_NAMES))
    env.add_filters(dict.fromkeys(ENGINE_FILTERS, _noop_filter))
    return env


def _private(name: Any) -> bool:
    return isinstance(name, str) and any(part.startswith("_") for part in name.split("."))


#: filter -> (positional index, keyword) of its argument that names an attribute
_ATTRIBUTE_ARGS: dict[str, tuple[int | None, str]] = {
    "attr": (0, "name"),
    "selectattr": (0, "attribute"),
    "rejectattr": (0, "attribute"),
    "groupby": (0, "attribute"),
    "map": (None, "attribute"),
    "sort": (None, "attribute"),
    "unique": (None, "attribute"),
    "min": (None, "attribute"),
    "max": (None, "attribute"),
    "sum": (None, "attribute"),
    "join": (None, "attribute"),
}
#: filter -> (positional index of the filter or test it names, filters or tests)
_NAMED_ARGS: dict[str, tuple[int, str]] = {
    "map": (0, "filters"),
    "select": (0, "tests"),
    "reject": (0, "tests"),
    "selectattr": (1, "tests"),
    "rejectattr": (1, "tests"),
}


def _const(node: nodes.Node) -> Any:
    return node.value if isinstance(node, nodes.Const) else None


def _filter_arguments(node: nodes.Filter, env: PolicyEnvironment) -> list[Msg]:
    """A filter's constant arguments that name an attribute (never `_...`) or a filter or test (a known one)."""
    out = []
    spec = _ATTRIBUTE_ARGS.get(node.name)
    if spec is not None:
        pos, key = spec
        named = [_const(node.args[pos])] if pos is not None and len(node.args) > pos else []
        named += [_const(k.value) for k in node.kwargs if k.key == key]
        out += [msg("loading.template.template_may_read_name", name=node.name, n=repr(n)) for n in named if _private(n)]
    if node.name in _NAMED_ARGS:
        pos, table = _NAMED_ARGS[node.name]
        named_fn = _const(node.args[pos]) if len(node.args) > pos else None
        if isinstance(named_fn, str) and named_fn not in getattr(env, table):
            out.append(msg("loading.template.unknown", name=node.name, named_fn=repr(named_fn), value=table[:-1]))
    return out


def _refused_on_constant(env: PolicyEnvironment, node: nodes.Getattr) -> bool:
    """`'...'.format`, `(1).to_bytes`: an attribute of a literal the sandbox would refuse."""
    if not isinstance(node.node, nodes.Const):
        return False
    value = node.node.value
    try:
        attr = getattr(value, node.attr)
    except AttributeError:
        return False
    return not env.is_safe_attribute(value, node.attr, attr)


#: jinja2's words for a template's syntax errors, said in the reader's language (`loading.template.jinja.<key>`)
_JINJA_SAYS = (
    (re.compile(r"^Unexpected end of template\. .*The innermost block that needs to be closed is '(?P<block>\w+)'\.$"), "unclosed_block"),
    (
        re.compile(r"^Encountered unknown tag '(?P<tag>\w+)'\. .*The innermost block that needs to be closed is '(?P<block>\w+)'\.$"),
        "tag_in_block",
    ),
    (re.compile(r"^Encountered unknown tag '(?P<tag>\w+)'\.$"), "unknown_tag"),
    (re.compile(r"^unexpected char (?P<q>['\"])(?P<char>['\"])(?P=q) at \d+$"), "unclosed_quote"),
    (re.compile(r"^unexpected char (?P<q>['\"])(?P<char>.)(?P=q) at \d+$"), "unexpected_char"),
    (re.compile(r"^unexpected '(?P<char>[^']+)'$"), "unexpected"),
    (re.compile(r"^unexpected end of template, expected '(?P<want>[^']+)'\.$"), "ends_early"),
    (re.compile(r"^expected token '(?P<want>[^']+)', got '(?P<got>[^']+)'$"), "expected_token"),
    (re.compile(r"^Expected an expression, got '(?P<got>[^']+)'$"), "no_expression"),
)
#: jinja2's names of the tokens it expected or got, written as the person types them
_JINJA_TOKENS = {"end of print statement": "}}", "end of statement block": "%}", "end of template": "", "name": "name"}


def jinja_words(message: str) -> Msg | str:
    """A jinja2 syntax error's message in the reader's language (`{% endfi %}` -> 不认识的标签 endfi ...), or the
    message as jinja2 wrote it when it is none of the common ones."""
    for pattern, key in _JINJA_SAYS:
        m = pattern.match(message)
        if m is not None:
            found = {k: _JINJA_TOKENS.get(v, v) for k, v in m.groupdict().items() if k != "q"}
            return msg(f"loading.template.jinja.{key}", **found)
    return message


def parse_template(source: str, name: str) -> nodes.Template | None:
    """A policy template's syntax tree, parsed as the sandbox parses it (never compiled, never rendered); None when
    it does not parse (`check_template` says why), or is longer than a template may be."""
    if len(source) > MAX_TEMPLATE_CHARS:
        return None
    try:
        return _checker().parse(source, name)
    except (TemplateSyntaxError, RecursionError, MemoryError, ValueError, OverflowError):
        return None


#: what a template's author may call the names a template gets (the explanation model is `x`, the decision `d`)
_NAMES_AS_SAID = {"model": "x", "explanation": "x", "expl": "x", "decision": "d"}


def _unknown_name(name: str, variables: frozenset[str]) -> Msg:
    """A name the template is not given (it would render as nothing), with the nearest name there is: `lable` ->
    label, `modle` / `model` -> x (the explanation model's name), `decision` -> d; or the templates that are given
    it (`title` in explain.md.j2: only the report's)."""
    allowed = ", ".join(sorted(GLOBAL_NAMES | variables))
    if name in RENDER_VARIABLES:
        others = [t for t, given in RENDERED_WITH.items() if name in given]
        return msg("loading.template.name_of_other_templates", n=repr(name), templates=others, allowed=allowed)
    close = difflib.get_close_matches(name, sorted(GLOBAL_NAMES | variables | set(_NAMES_AS_SAID)), n=1, cutoff=0.7)
    if not close:
        return msg("loading.template.unknown_name_template_may", n=repr(name), allowed=allowed)
    guess = _NAMES_AS_SAID.get(close[0])
    if guess is not None:
        return msg(f"loading.template.unknown_name_is_{guess}", n=repr(name), allowed=allowed)
    return msg("loading.template.unknown_name_did_you_mean", n=repr(name), guess=close[0], allowed=allowed)


def check_template(source: str, name: str, templates: Iterable[str]) -> list[tuple[Msg, int | None]]:
    """Problems of a policy's template, each with its line in the template (None: the whole template).

    It must compile in the sandbox; use only names, filters and tests the engine provides; name only
    `templates` (the engine's and the policy's own) in include/import/extends; read no `_` attribute.
    """
    if len(source) > MAX_TEMPLATE_CHARS:
        return [(msg("loading.template.too_long", n=len(source), limit=MAX_TEMPLATE_CHARS), None)]
    env = _checker()
    try:
        ast = env.parse(source, name)
    except TemplateSyntaxError as exc:
        return [(msg("loading.template.does_compile", message=jinja_words(exc.message or "")), exc.lineno)]
    except (RecursionError, MemoryError, ValueError, OverflowError) as exc:
        return [(msg("loading.template.does_compile_2", describe=describe(exc)), None)]
    problems: list[tuple[Msg, int | None]] = []
    known = set(templates)
    try:
        for node in ast.find_all(nodes.Node):
            line = getattr(node, "lineno", None)
            if isinstance(node, nodes.Getattr) and _private(node.attr):
                problems.append((msg("loading.template.attribute_template_may_read", attr=repr(node.attr)), line))
            elif isinstance(node, nodes.Getattr) and _refused_on_constant(env, node):
                kind = type(_const(node.node)).__name__
                problems.append((msg("loading.template.available_policy_template_put", kind=kind, attr=node.attr), line))
            elif isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr) and node.node.attr in ("format", "format_map"):
                problems.append((msg("loading.template.available_policy_template_put_2", attr=node.node.attr), line))
            elif isinstance(node, nodes.Getitem) and _private(_const(node.arg)):
                problems.append((msg("loading.template.item_template_may_read", const=repr(_const(node.arg))), line))
            elif isinstance(node, nodes.Filter | nodes.Test):
                table, kind = (env.filters, "filter") if isinstance(node, nodes.Filter) else (env.tests, "test")
                if node.name not in table:
                    problems.append((msg("loading.template.unknown_2", kind=kind, name=repr(node.name)), line))
                if isinstance(node, nodes.Filter):
                    problems += [(p, line) for p in _filter_arguments(node, env)]
            elif isinstance(node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends):
                target = node.template
                names = [target] if isinstance(target, nodes.Const) else list(getattr(target, "items", ())) or [target]
                for t in names:
                    value = _const(t)
                    if not isinstance(value, str):
                        problems.append((msg("loading.template.template_include_import_extend"), line))
                    elif value.removesuffix(HTML_ALIAS) not in known:
                        problems.append((msg("loading.template.template_policy_template_may_2", value=repr(value)), line))
        if any(p.startswith("unknown filter") or p.startswith("unknown test") for p, _ in problems):
            return problems  # the name analysis below would fail on them again
        variables = RENDERED_WITH.get(name.removesuffix(HTML_ALIAS), RENDER_VARIABLES)
        unknown = find_undeclared_variables(ast) - GLOBAL_NAMES - variables
        first_use: dict[str, int] = {}
        for name_node in ast.find_all(nodes.Name):
            first_use.setdefault(name_node.name, name_node.lineno)
        for n in sorted(unknown, key=lambda n: (first_use.get(n, 0), n)):
            problems.append((_unknown_name(n, variables), first_use.get(n)))
        if not problems:
            env.compile(source, name, name)
    except TemplateSyntaxError as exc:
        problems.append((msg("loading.template.does_compile", message=exc.message), exc.lineno))
    except (RecursionError, MemoryError, SyntaxError, ValueError, OverflowError) as exc:
        problems.append((msg("loading.template.does_compile_2", describe=describe(exc)), None))
    return problems


__all__ = [
    "ALLOWED_FILTERS",
    "GLOBAL_NAMES",
    "MAX_CALL_DEPTH",
    "MAX_CONTAINER_WEIGHT",
    "MAX_INT_BITS",
    "MAX_OUTPUT_CHARS",
    "MAX_RENDER_SECONDS",
    "MAX_TEMPLATE_CHARS",
    "PolicyEnvironment",
    "PolicyLoader",
    "RenderBudget",
    "RenderError",
    "check_string_size",
    "check_template",
    "parse_template",
    "render_budget",
]
