"""Stage 5, render: explanations of decisions, for applicants and reviewers.

A decision (a `Decision`, or its JSON as recorded) is explained once by the one builder,
`engine.explaining.explainer.Explainer`, and written by a writer: `TextWriter` for the plain text,
`ModelWriter` for the format-neutral `Explanation` (engine/explaining/model.py), which the Markdown and
HTML templates write (structure only: every sentence is already words). Nothing here does arithmetic or
decides: every amount shown is a value of the trace, formatted by `engine.explaining.labels.Labels`.
This module holds the `Renderer` of a policy and language (catalogue, labels, explainers, the jinja2
environment of the templates), `explain`, `explanation`, the checks of a recorded decision and the
reviewer's report.

Wording lives in data, not code:

* the plain text's layout in `engine/explaining/textwriter.py`; the Markdown and HTML layout in
  templates in `engine/explaining/templates/` (per language in `engine/explaining/templates/<lang>/`
  when a language needs its own structure), compiled once per policy and
  language and reused for every decision;
* message catalogues in `engine/core/messages/<lang>/` -- adding a language
  is adding a catalogue (and, if wanted, templates), no Python;
* a policy's optional `templates:` mapping overrides both: under a language
  code (or `all`), a key ending in `.j2` replaces that template (its value is
  the template text, or a path to a `.j2` file in the policy's folder, read and
  checked when the policy loads), any other key replaces a catalogue entry
  (dotted, e.g. `status.refused`).

A policy is untrusted data: when it brings any template, every template of that
policy renders in `engine.language.templating.PolicyEnvironment` (jinja2's immutable
sandbox, stricter, with a time and size budget per render). The engine's own
environment renders only the engine's own templates, which no policy text reaches
(message overrides are data, put in by `fill`, never compiled).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import re
import secrets
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, Template, TemplateError, pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from engine.core.characters import CONTROLS, FORMAT_ASTRAL, FORMAT_BMP
from engine.core.errors import ClaimError, OutputError, Problem, first_named, os_reason
from engine.core.i18n import MESSAGE_DIR, Msg, msg, tr
from engine.core.version import __version__
from engine.deciding.claims import Claim, refuse_what_is_no_policy, titled
from engine.deciding.decision import DECISION_FORMAT, STATUSES, Decision, in_engine_context
from engine.explaining.catalogue import PLACEHOLDER as _PLACEHOLDER
from engine.explaining.catalogue import Catalogue, languages
from engine.explaining.catalogue import fill as _fill
from engine.explaining.explainer import Explainer
from engine.explaining.htmlbody import BodyWriter
from engine.explaining.labels import CENT, Labels, to_decimal
from engine.explaining.model import Explanation, ModelWriter
from engine.explaining.recorded import Kept, from_record, item_from_record
from engine.explaining.textwriter import TextWriter
from engine.language.templating import (
    MAX_OUTPUT_CHARS,
    MAX_RENDER_SECONDS,
    REPORT_CHARS_PER_ROW,
    REPORT_SECONDS_PER_ROW,
    PolicyEnvironment,
    PolicyLoader,
    RenderBudget,
    RenderError,
    check_string_size,
    describe,
    render_budget,
)

if TYPE_CHECKING:
    from engine.language.model import CompiledPolicy

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
#: the report's own script, the only script a page of the engine's runs (`report.html.j2` writes it as `engine_script`)
REPORT_SCRIPT = (TEMPLATE_DIR / "_report.js.j2").read_text(encoding="utf-8")
#: what every page of the engine's states about itself (`with_page_policy`), and the service says in its header: its
#: own style and that one script, nothing loaded from anywhere. A policy's templates may write any HTML into a page
#: that lists every applicant; a script of theirs would not run.
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    f"script-src 'sha256-{base64.b64encode(hashlib.sha256(REPORT_SCRIPT.encode('utf-8')).digest()).decode('ascii')}'; "
    "base-uri 'none'; form-action 'none'"
)
_PAGE_META = f'<meta http-equiv="Content-Security-Policy" content="{PAGE_CSP}">'
#: a page's opening, up to where its policy goes: its doctype, `<html>` and `<head>` tags, whichever it starts with
_OPENING = re.compile(r"(?:\s*<!doctype[^>]*>)?(?:\s*<html\b[^>]*>)?(?:\s*<head\b[^>]*>)?", re.IGNORECASE)
_OPENING_CHARS = 1024  # (the engine's pages open in ~60; a longer opening gets its policy earlier, not later)


def with_page_policy(page: str) -> str:
    """`page` with its content security policy first, before anything a template wrote but its doctype, `<html>`
    and `<head>` tags: a policy holds for what follows it."""
    page = str.__str__(page)  # (a template's Markup would escape the tag added to it)
    found = _OPENING.match(page, 0, _OPENING_CHARS)
    at = found.end() if found is not None else 0
    return page[:at] + _PAGE_META + page[at:]


def _stating_its_policy(chunks: Iterable[str]) -> Iterator[str]:
    """A page written in pieces, with its policy first (`with_page_policy` of its opening)."""
    head = ""
    pieces = iter(chunks)
    for chunk in pieces:
        head += str.__str__(chunk)
        if len(head) >= _OPENING_CHARS or re.search(r"<(?!!|html\b|head\b|/)", head, re.IGNORECASE):
            break  # (past the opening: a tag that is none of its own)
    yield with_page_policy(head)
    yield from pieces


#: format -> template; `json` is the decision itself.
FORMATS: dict[str, str | None] = {"text": "explain.txt.j2", "md": "explain.md.j2", "html": "explain.html.j2", "json": None}
BODY_TEMPLATE = "_explain_body.html.j2"
REPORT_TEMPLATE = "report.html.j2"


def _to_decimal(value: Any) -> Decimal | None:
    return to_decimal(value)


@dataclass
class ReportError:
    """An application that could not be decided: one row of the report, never the end of the run."""

    source: str
    message: str
    problems: list[str] = field(default_factory=list)
    said: Mapping[str, tuple[str, list[str]]] = field(default_factory=dict)  # language -> (message, problems)
    #: the application's error record as a batch writes it (errors.jsonl: its claim id, each problem's place, field,
    #: words and fix), for a console to say as a batch does; None when it has none
    record: Mapping[str, Any] | None = None
    sources: Mapping[str, str] = field(default_factory=dict)  # language -> where it came from (a workbook's row)

    def in_language(self, lang: str) -> ReportError:
        """This error as the report in `lang` shows it (its place, message and problems in `lang` when it has them)."""
        source = self.sources.get(lang, self.source)
        if lang not in self.said:  # a message (`Msg`) is said in `lang` all the same, and a place (a workbook's row)
            return ReportError(tr(source, lang), tr(self.message, lang), [tr(p, lang) for p in self.problems])
        message, problems = self.said[lang]
        return ReportError(tr(source, lang), message, list(problems))


class Renderer:
    """Templates, catalogue and label tables of one policy in one language, compiled once."""

    def __init__(self, policy: CompiledPolicy, lang: str) -> None:
        self.policy = policy
        self.lang = lang
        self.catalogue = Catalogue(policy, lang)
        overrides = self.catalogue.templates
        messages = self.m = self.catalogue.m
        self.meta = self.catalogue.meta
        self.labels = labels = Labels(policy, self.catalogue)
        self.label = labels.label
        self.kinds, self.roles, self.docs, self.item_types = labels.kinds, labels.roles, labels.docs, labels.item_types
        self.clauses = labels.clauses
        self.fact_label, self.value_label, self.fact_value = labels.fact_label, labels.value_label, labels.fact_value
        self.money, self.percent, self.policy_info = labels.money, labels.percent, labels.policy_info
        options: dict[str, Any] = {
            "autoescape": _autoescape,  # on for every HTML template (by name), off for text and Markdown
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": True,
            "auto_reload": False,
            "cache_size": -1,
        }
        #: True when the policy brings a template: then every template of this renderer runs in the sandbox
        self.sandboxed = bool(overrides)
        self.env: Environment
        if self.sandboxed:
            self.env = PolicyEnvironment(loader=PolicyLoader(overrides, [TEMPLATE_DIR / lang, TEMPLATE_DIR]), **options)
        else:
            self.env = _Environment(loader=FileSystemLoader([str(TEMPLATE_DIR / lang), str(TEMPLATE_DIR)]), **options)
        filters: dict[str, Callable[..., Any]] = {
            "money": self.money,
            "percent": self.percent,
            "fill": _bounded_fill_filter if self.sandboxed else _fill_filter,
            "md": _md_escape,
            "css": _css_content,
        }
        engine_globals: dict[str, Any] = dict(
            m=messages,
            lang=lang,
            label=self.label,
            clause=self.clauses.get,
            kind=lambda k: self.kinds.get(k, k),
            role=lambda r: self.roles.get(r, r),
            doc=lambda d: self.docs.get(d, d),
            item_type=lambda t: self.item_types.get(t, t),
            kinds_in_order=lambda codes: [v for k, v in self.kinds.items() if k in codes],
            roles_in_order=lambda codes: [v for k, v in self.roles.items() if k in codes],
            steps=_steps,
            item_cites=_item_cites,
            fact=self.fact_label,
            value=self.value_label,
            fact_value=self.fact_value,
            base_value=self.labels.base_value,
            policy=self.policy_info(),
            engine_version=__version__,
            shaping=self._item_shaping,
        )
        if isinstance(self.env, PolicyEnvironment):
            self.env.add_filters(filters)
            self.env.add_globals(engine_globals)
        else:
            self.env.filters.update(filters)
            self.env.globals.update(engine_globals)
        # Compiled on first use, then kept: jinja2's cache is unbounded here and never re-checks the files.
        self.templates: dict[str, Template] = {}
        # The fast text path reproduces the engine's own text templates: not when a policy or language brings its own.
        self.text_own_templates = TEXT_TEMPLATE in overrides or (TEMPLATE_DIR / lang / TEXT_TEMPLATE).exists()
        #: a template other than the engine's may run (the policy's, or a language's own): it gets `d` too
        self.own_templates = bool(overrides) or (TEMPLATE_DIR / lang).is_dir()
        self._text: Explainer | None = None
        self._model: Explainer | None = None
        self._behaviours: Explainer | None = None  # of a policy template's `shaping` (`_item_behaviours`)
        self._record: dict[bool, Explainer] = {}  # of decisions given as data: text (False), model (True)
        self._kept: dict[bool, Kept] = {}  # their objects, kept from one record to the next (`recorded`)
        self._record_lock = threading.Lock()  # one record at a time per explainer: its kept pieces are of one `Kept`
        self._body: BodyWriter | None = None  # the engine's own body template, in Python (built on first use)

    def _item_shaping(self, item: Any) -> dict[str, list[dict[str, str]]]:
        """For a policy template written against `d`: the readings and notes of a decision's item (its JSON form) --
        of its rule and of every check, condition, limit, cap, selection, subject and document check in its trace
        or among its reasons, and of the caps whose ceilings a pending review shows -- as {"id", "text"}."""
        ids: list[str] = []
        if isinstance(item, Mapping):
            rule = item.get("rule")
            if isinstance(rule, str):
                ids.append(rule)
            for s in _list(item.get("steps")):
                if isinstance(s, Mapping):
                    kind = s.get("step")
                    key = s.get(kind) if kind in ("check", "limit", "cap", "selection") else s.get("check") if kind == "documents" else None
                    if kind == "subject" and isinstance(rule, str):
                        key = f"{rule}#subject"
                    if isinstance(key, str):
                        ids.append(key)
                        if kind == "check":  # the readings its policy names on this item by a condition (`readings_when`)
                            ids += [f"{key}?{r}" for r in _list(s.get("readings")) if isinstance(r, str)]
            ids += [r["check"] for r in _list(item.get("reasons")) if isinstance(r, Mapping) and isinstance(r.get("check"), str)]
            ids += [x["cap"] for x in _list(item.get("ceilings")) if isinstance(x, Mapping) and isinstance(x.get("cap"), str)]
            ids += self._item_behaviours(item)
        readings, notes = self.labels.shaping(tuple(dict.fromkeys(ids)))
        return {"readings": [{"id": k, "text": v} for k, v in readings], "notes": [{"id": k, "text": v} for k, v in notes]}

    def _item_behaviours(self, item: Mapping[str, Any]) -> list[str]:
        """The engine's behaviours that happened to a decision's item (its JSON form) whose readings the policy names,
        and the standing checks of a fact it is owed, as its explanation names them (`Explainer.item_behaviours` on
        the item as a record states it); none for an item its record's form cannot be read from."""
        try:
            d = item_from_record(item)
        except (TypeError, KeyError, ValueError, ArithmeticError, AttributeError):  # (a hand-made item: what it lacks)
            return []
        with self._record_lock:
            if self._behaviours is None:  # (its own: it forgets its pieces after each item, whose objects die with it)
                self._behaviours = Explainer(self.policy, self.catalogue, self.labels, ModelWriter(self.lang))
            return self._behaviours.item_behaviours(d)

    def text_explainer(self) -> Explainer | None:
        """The plain-text explainer (`Explainer` + `TextWriter`, built on first use), or None when the policy or
        language brings its own text templates."""
        if self.text_own_templates:
            return None
        if self._text is None:
            self._text = Explainer(self.policy, self.catalogue, self.labels, TextWriter(self.catalogue))
        return self._text

    def record_explainer(self, model: bool = False) -> Explainer:
        """The explainer of decisions given as data (`engine.explaining.recorded.from_record`): its own instance,
        as it forgets its kept pieces before each decision (their objects live for one explanation)."""
        found = self._record.get(model)
        if found is None:
            writer = ModelWriter(self.lang) if model else TextWriter(self.catalogue)
            found = self._record[model] = Explainer(self.policy, self.catalogue, self.labels, writer)
        return found

    def recorded(self, decision: Mapping[str, Any], model: bool = False) -> Any:
        """A decision given as data, explained by `record_explainer(model)` (text, or the `Explanation`), its
        objects kept for the next records (`recorded.Kept`: the explainer keeps its pieces while they live)."""
        with self._record_lock:
            kept = self._kept.get(model)
            if kept is None:
                kept = self._kept[model] = Kept()
            return self.record_explainer(model).render(from_record(decision, kept))

    def model_explainer(self) -> Explainer:
        """The explainer that builds the format-neutral `Explanation` (`Explainer` + `ModelWriter`), built on first use."""
        if self._model is None:
            self._model = Explainer(self.policy, self.catalogue, self.labels, ModelWriter(self.lang))
        return self._model

    # --- rendering -----------------------------------------------------------------

    def template(self, name: str) -> Template:
        t = self.templates.get(name)
        if t is None:
            try:
                t = self.templates[name] = self.env.get_template(name)
            except (TemplateError, SyntaxError, RecursionError, MemoryError, ValueError) as exc:
                if not self.sandboxed:
                    raise
                raise RenderError(describe(exc, name)) from None  # a policy's template: checked at load, reported here too
        return t

    def budget(self) -> AbstractContextManager[RenderBudget | None]:
        """The budget of one render when this renderer runs policy templates (none for the engine's own)."""
        return render_budget() if self.sandboxed else nullcontext()

    def model(self, decision: Decision | Mapping[str, Any]) -> Explanation:
        """The `Explanation` of a decision, or of a decision given as data (its JSON, as recorded)."""
        x: Explanation
        if isinstance(decision, Decision):
            x = self.model_explainer().render(decision)
        else:
            x = self.recorded(decision, model=True)
        return x

    def decision_data(self, decision: Decision | Mapping[str, Any]) -> Mapping[str, Any] | None:
        """`d` of a template: the decision's JSON, made only where a template other than the engine's may read it."""
        if not isinstance(decision, Decision):
            return decision
        return decision.to_dict() if self.own_templates else None

    @in_engine_context
    def explain(self, decision: Decision | Mapping[str, Any], format: str | None = None, *, fmt: str | None = None) -> str:
        """`format` of one decision (`fmt=`, its older name, still taken): text from the one builder (or the
        policy's own text template); md and html from their templates over the model `x` (a policy's own templates
        also get `d`, the decision's JSON)."""
        fmt = format_named(format, fmt, None)
        name = FORMATS.get(fmt)
        if name is None:
            if fmt == "json":
                data = decision.to_dict() if isinstance(decision, Decision) else decision
                return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
            raise RenderError(msg("render.unknown_format", fmt=repr(fmt), formats=list(FORMATS)))
        if fmt == "text" and not self.text_own_templates:  # the engine's plain text: the one builder
            text: str
            if isinstance(decision, Decision):
                fast = self.text_explainer()
                assert fast is not None  # no text template of the policy's own (checked above)
                text = fast.render(decision)
            else:
                text = self.recorded(decision)
            return text
        page = self.template(name).render(d=self.decision_data(decision), x=self.model(decision))
        return with_page_policy(page) if fmt == "html" else page

    @in_engine_context
    def body_html(self, decision: Decision | Mapping[str, Any], anchor: str) -> Markup:
        """An application's explanation as the report shows it (`_explain_body.html.j2` with `in_report`): written by
        `BodyWriter` where the engine's own templates are drawn (the same characters, without jinja), else by jinja."""
        if not self.own_templates:
            if self._body is None:
                self._body = BodyWriter(self.env.getattr, self.env.getitem, self.m)
            return Markup(self._body.body(self.model(decision), anchor, True))  # noqa: S704 -- every value escaped
        page = self.template(BODY_TEMPLATE).render(d=self.decision_data(decision), x=self.model(decision), anchor=anchor, in_report=True)
        return Markup(page)  # noqa: S704 -- autoescaped template output


class _Environment(Environment):
    """Looks up `x.name` on a plain dict by key first: the decision is JSON data, not objects."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        try:  # jinja2's own `Environment.getattr`, inlined (the report's hot path: a call per `x.name`)
            return getattr(obj, attribute)
        except AttributeError:
            pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)


def _list(value: Any) -> list[Any]:
    """A list of a recorded decision, or nothing when a hand edit made it something else."""
    return value if isinstance(value, list) else []


def _steps(item: Mapping[str, Any], *kinds: str) -> list[Mapping[str, Any]]:
    """The trace steps of an item of the given kinds, in order (a selection, for the templates)."""
    return [s for s in item.get("steps", ()) if s["step"] in kinds]


def _item_cites(item: Mapping[str, Any]) -> list[str]:
    """The clauses that decided an item, then the clause a later step cites (a round budget's scaling), each once."""
    cites = list(item.get("cites", ()))
    for s in item.get("steps", ()):
        if s["step"] == "scaling" and s.get("cites") and s["cites"] not in cites:
            cites.append(s["cites"])
    return cites


def _autoescape(name: str | None) -> bool:
    return name is not None and name.endswith((".html.j2", ".html"))


@pass_eval_context
def _fill_filter(ctx: EvalContext, text: str, **values: Any) -> str:
    if ctx.autoescape:  # the message is escaped, and so is every value put into it
        safe = {k: str(escape(v)) for k, v in values.items()}
        return Markup(_fill(str(escape(text)), safe))  # noqa: S704
    return _fill(text, values)


@pass_eval_context
def _bounded_fill_filter(ctx: EvalContext, text: str, **values: Any) -> str:
    """`fill` in a policy's templates: a text of many `{x}` each filled with a long value is refused before it is built."""
    source = str(text)
    size = len(source) + sum(len(str(values[m.group(1)])) for m in _PLACEHOLDER.finditer(source) if m.group(1) in values)
    check_string_size(size * (6 if ctx.autoescape else 1), "a filled message")
    return _fill_filter(ctx, text, **values)


#: (`&` too: a claim's name holding `&rlm;` was a right-to-left mark to a Markdown viewer)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|&])")


def _md_escape(value: Any) -> str:
    """Text from a claim, made inert in Markdown (and in HTML produced from it)."""
    return _MD_SPECIAL.sub(r"\\\1", "" if value is None else str(value))


_CSS_PLAIN = re.compile(r"[A-Za-z0-9 .,:;_()/#+%=!?@-]")
_CSS_COUNTER = re.compile(r"[a-z][a-z-]{0,31}")


def _css_string(text: str) -> str:
    """`text` as a CSS string literal: every ASCII character but letters, digits, spaces and `.,:;_()/#+%=!?@-`, and
    every character that does not print, as a six-digit hex escape, so no quote, backslash, `<`, `&` or newline of a
    claim's text reaches the style sheet as itself (other characters, e.g. Chinese, are kept: they end no string,
    comment or element)."""
    return '"' + "".join(ch if _CSS_PLAIN.match(ch) or (ord(ch) > 0x7F and ch.isprintable()) else f"\\{ord(ch):06x}" for ch in text) + '"'


def _css_content(text: Any, **counters: str) -> Markup:
    """A message as the value of CSS `content` (a printed page's margin box): its text as escaped CSS strings and
    each `{name}` given in `counters` as `counter(value)`, e.g. `m.print_page | css(page="page", pages="pages")`."""
    source = str(text)
    check_string_size(len(source) * 8, "a CSS text")
    out: list[str] = []
    pos = 0
    for mt in _PLACEHOLDER.finditer(source):
        counter = counters.get(mt.group(1))
        if counter is None:
            continue
        if not _CSS_COUNTER.fullmatch(counter):
            raise RenderError(msg("render.css_counter", counter=repr(counter)))
        if mt.start() > pos:
            out.append(_css_string(source[pos : mt.start()]))
        out.append(f"counter({counter})")
        pos = mt.end()
    if pos < len(source) or not out:
        out.append(_css_string(source[pos:]))
    return Markup(" ".join(out))  # noqa: S704 -- letters, digits, spaces and hex escapes inside quotes, or counter(name)


#: a policy's (or a language folder's) own plain-text template: the text is then rendered by it, through jinja2
TEXT_TEMPLATE = "explain.txt.j2"


class _OnPolicy:
    """The renderers of each policy, kept on the policy object itself (a mapping's interface, by policy).

    Not a module-level table: a renderer refers to its policy, so even a weak-keyed table would keep every
    policy ever rendered alive. On the policy, the two form a cycle the garbage collector frees together."""

    SLOT = "_renderers"

    def get(self, policy: CompiledPolicy) -> dict[str, Renderer] | None:
        found: dict[str, Renderer] | None = policy.__dict__.get(self.SLOT)
        return found

    def __setitem__(self, policy: CompiledPolicy, value: dict[str, Renderer]) -> None:
        object.__setattr__(policy, self.SLOT, value)  # a frozen dataclass: its fields stay immutable, this is a cache

    def pop(self, policy: CompiledPolicy, default: dict[str, Renderer] | None = None) -> dict[str, Renderer] | None:
        found: dict[str, Renderer] | None = policy.__dict__.pop(self.SLOT, default)
        return found


_RENDERERS = _OnPolicy()


def renderer(policy: CompiledPolicy, lang: str = "zh") -> Renderer:
    """The compiled renderer of `policy` in `lang`; built on first use, then reused."""
    per_policy = _RENDERERS.get(policy)
    r = None if per_policy is None else per_policy.get(lang)
    if r is not None and r.policy is policy:
        return r
    if per_policy is None or r is not None:  # none yet, or a copy of a policy object carrying its original's
        per_policy = {}
        _RENDERERS[policy] = per_policy
    r = per_policy[lang] = Renderer(policy, lang)
    return r


def _as_dict(decision: Decision | Mapping[str, Any]) -> Mapping[str, Any]:
    return decision.to_dict() if isinstance(decision, Decision) else decision


#: Keys a batch run adds to a decision (engine.records.batch) beyond those the decision schema lists.
_BATCH_KEYS = {"": ("ledger", "input", "total_before_scaling"), "items": ("scaling", "panel_decides")}
#: Step kinds a batch run adds (engine.records.batch.apply_scaling) that the decision schema's step list does not name.
_BATCH_STEPS = ("scaling",)
#: problems of a recorded decision named, in the order found; past them, one more says there are others. Every one was
#: named: 200,000 items `1` in a 0.42 MB decision took `explain` 175 s and 1.6 GB; 60,000 unknown keys (0.96 MB) 40 s,
#: a `POST /explain` answered 503 after 10 s while the work went on
MAX_RECORDED_PROBLEMS = 20
#: Where the decision schema lists every key: (path to the object(s), the schema's properties there).
_CLOSED = (
    ("", ()),
    ("policy", ("properties", "policy")),
    ("applicant", ("properties", "applicant")),
    ("standing", ("properties", "standing")),
)


#: what no text of a decision holds (a claim's texts refuse them, the policy's too): an explanation printed to a
#: terminal would run a control sequence an edited record carries (ESC[2J clears the screen)
_UNSEEN = re.compile(f"[{CONTROLS}\u2028\u2029{FORMAT_BMP}{FORMAT_ASTRAL}]")


def _unseen_character(value: Any, path: tuple[Any, ...]) -> tuple[tuple[Any, ...], str] | None:
    """The first text of a recorded decision (a key or a value) holding a character `_UNSEEN` finds: its path and it."""
    if isinstance(value, str):
        bad = _UNSEEN.search(value)
        return (path, bad.group()) if bad is not None else None
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        found = (_unseen_character(key, (*path, key)) if isinstance(key, str) else None) or _unseen_character(child, (*path, key))
        if found is not None:
            return found
    return None


def check_recorded_form(data: Mapping[str, Any], file: str) -> None:
    """A decision given to `explain` has the form of schemas/decision.schema.json and no key it does not know (ClaimError).

    Only the form: a decision is explained as recorded, so a value edited into another valid one is not seen here
    (`check_recorded_rules` holds its rules to the policy, and its totals to its items' amounts).
    """
    from engine.language.validate import load_schema, schema_expected, schema_message, validator_for

    problems = []
    unseen = _unseen_character(data, ())
    if unseen is not None:
        path, ch = unseen
        name = unicodedata.name(ch, "")
        character = f"U+{ord(ch):04X}{' ' + name if name else ''}"
        problems.append(
            Problem(
                msg("render.unseen", character=character), path=path, file=file, expected=msg("render.unseen_expected"), code="decision"
            )
        )
    errors = (
        e
        for e in validator_for("decision.schema.json").iter_errors(data)
        if not (e.validator == "enum" and list(e.absolute_path)[-1:] == ["step"] and e.instance in _BATCH_STEPS)
    )
    for e in sorted(itertools.islice(errors, MAX_RECORDED_PROBLEMS + 1), key=lambda e: [str(p) for p in e.absolute_path]):
        problems.append(Problem(schema_message(e), path=tuple(e.absolute_path), file=file, expected=schema_expected(e), code="decision"))
    if not problems:
        schema = load_schema("decision.schema.json")

        def unknown(obj: Any, props: Any, path: tuple[Any, ...], extra: tuple[str, ...] = ()) -> None:
            if not isinstance(obj, dict) or not isinstance(props, dict):
                return
            for key in obj:
                if key not in props and key not in extra and len(problems) <= MAX_RECORDED_PROBLEMS:
                    problems.append(
                        Problem(
                            msg("render.unknown_key", key=key),
                            path=(*path, key),
                            file=file,
                            expected=msg("render.one_of_keys", keys=[*props, *extra]),
                            code="decision",
                        )
                    )

        for where, at in _CLOSED:
            node: Any = schema
            for part in at:
                node = node.get(part, {})
            unknown(data.get(where) if where else data, node.get("properties"), (where,) if where else (), _BATCH_KEYS.get(where, ()))
        for i, item in enumerate(data.get("items") or ()):
            unknown(item, schema["$defs"]["item"].get("properties"), ("items", i), _BATCH_KEYS["items"])
    if problems:
        raise ClaimError(
            first_named(problems, MAX_RECORDED_PROBLEMS, lambda n: msg("render.more_problems", n=n), file, code="decision"),
            msg("render.not_recorded"),
        )


def check_recorded_rules(policy: CompiledPolicy, data: Mapping[str, Any], file: str) -> None:
    """Every item and grant of a recorded decision names a rule of `policy`, and the item type that rule decides."""
    rules = {r.id: r for r in policy.rules}
    problems = []
    for i, item in enumerate(data.get("items") or ()):
        rule = rules.get(item.get("rule"))
        if rule is None:
            problems.append(
                Problem(
                    msg("render.unknown_rule", rule=repr(item.get("rule")), policy=titled(policy.title, policy.version)),  # (not its id)
                    path=("items", i, "rule"),
                    file=file,
                    code="decision",
                )
            )
        elif item.get("type") != rule.item_type:
            problems.append(
                Problem(
                    msg("render.wrong_type", type=repr(item.get("type")), rule=rule.id, decides=rule.item_type),
                    path=("items", i, "type"),
                    file=file,
                    code="decision",
                )
            )
    problems += _sums_disagree(data, file)
    for i, grant in enumerate(data.get("grants") or ()):
        if grant.get("rule") not in rules:
            problems.append(
                Problem(
                    msg("render.unknown_rule", rule=repr(grant.get("rule")), policy=titled(policy.title, policy.version)),
                    path=("grants", i, "rule"),
                    file=file,
                    code="decision",
                )
            )
    if problems:
        raise ClaimError(problems, msg("render.not_recorded"))


def _sums_disagree(data: Mapping[str, Any], file: str) -> list[Problem]:
    """The decision's total, and its totals of the statuses that pay, against its items' amounts: an item's amount
    edited alone (a forged page would show it beside the true total) is named; the engine writes them equal."""
    items = data.get("items") or ()
    problems = []
    wanted: list[tuple[tuple[str, ...], Any, Any]] = [(("total",), data.get("total"), items)]
    by_status = data.get("totals_by_status") or {}
    wanted += [(("totals_by_status", s), by_status.get(s), [i for i in items if i.get("status") == s]) for s in ("granted", "reduced")]
    for path, said, of in wanted:
        if said is None:
            continue
        made = sum((Decimal(i["amount"]) for i in of), Decimal(0))
        if Decimal(said) != made:
            problems.append(Problem(msg("render.sum_disagrees", said=said, made=format(made, "f")), path=path, file=file, code="decision"))
    return problems


class RecordedDecisionError(RenderError):
    """A decision given as data (e.g. a hand-edited line of decisions.jsonl) that cannot be explained as recorded."""


def recorded_decision(policy: CompiledPolicy, data: Any, file: str = "<decision>") -> Mapping[str, Any] | None:
    """`data` if it is a decision already made (a line of a batch's decisions.jsonl, e.g. scaled to a round's
    budget) under exactly `policy`; None if it is not a decision (a claim). A decision is data anyone can edit:
    its form is checked against the decision schema and its rules against `policy` (ClaimError naming each
    problem). A decision made under another policy or another version of its text is refused (RenderError):
    its explanation would quote the wrong clauses."""
    if not isinstance(data, Mapping) or data.get("format") != DECISION_FORMAT:
        return None
    check_recorded_form(data, file)
    refuse_other_policy(policy, data if isinstance(data.get("policy"), Mapping) else {**data, "policy": {}})
    check_recorded_rules(policy, data, file)
    return data


def refuse_other_policy(policy: CompiledPolicy, decision: Decision | Mapping[str, Any]) -> None:
    """RenderError unless `decision` was made under `policy` (same id and content hash): explained under another
    version it would quote that version's clauses and caps beside amounts decided under its own (an embedding
    program's `explain(draft, decision)` did, unsaid). A decision as data without its `policy` is left to the
    explainer, which says what an edit broke."""
    made_id: Any
    made_version: Any
    made_hash: Any
    if isinstance(decision, Decision):
        made = decision.policy
        if made is policy or (made.id == policy.id and made.content_hash == policy.content_hash):
            return
        made_id, made_version, made_hash = made.id, made.version, made.content_hash
    else:
        stated = decision.get("policy")
        if not isinstance(stated, Mapping):
            return
        if stated.get("id") == policy.id and stated.get("hash") == policy.content_hash:
            return
        made_id, made_version, made_hash = stated.get("id"), stated.get("version"), stated.get("hash")
    said = {"made_id": repr(made_id), "made_version": repr(made_version), "made_hash": made_hash}
    raise RenderError(msg("render.other_policy", **said, id=policy.id, version=policy.version, hash=policy.content_hash))


def refuse_what_is_no_decision(policy: Any, decision: Any, call: str) -> None:
    """What `call` (explain, explanation, render_report) was given where a policy and a decision are expected, refused
    in words before anything reads it: a policy that is none (TypeError, as `evaluate` says it); a claim, as data or
    parsed (RenderError naming what to call first: a claim's data was "this decision cannot be explained as recorded
    ('standing' has been taken out of it)", and `format="json"` gave the claim back as if it were the decision);
    anything else that is no decision (TypeError: None or a str was "'NoneType' object has no attribute 'get'")."""
    refuse_what_is_no_policy(policy, call)
    if isinstance(decision, Decision):
        return
    if isinstance(decision, Claim) or (isinstance(decision, Mapping) and "format" not in decision and "standing" not in decision):
        then = f"{call}(policy, [decision])" if call == "render_report" else f"{call}(policy, decision)"
        raise RenderError(msg("core.claim_not_decision", call=call, then=then))
    if not isinstance(decision, Mapping):
        raise TypeError(msg("core.not_a_decision", call=call, kind=type(decision).__name__))


def _edited(exc: BaseException) -> Msg:
    """What an edit past a decision's form broke, in words (not the exception's Python name and text, which a web
    client or an officer can do nothing with): a field taken out (its name), or a value of another kind."""
    if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str):
        return msg("render.edited.missing", field=repr(exc.args[0][:60]))
    return msg("render.edited.value")


def format_named(format: str | None, fmt: str | None, default: str | None) -> str:
    """The format `explain` is asked for, by its name `format` or its older name `fmt` (one of them, or neither
    for `default`): both given is a programmer's slip, a TypeError as Python's own for an argument given twice."""
    if format is not None and fmt is not None:
        raise TypeError(f"explain() takes the format as format= or as fmt= (its older name), not both: format={format!r}, fmt={fmt!r}")
    chosen = format if format is not None else fmt if fmt is not None else default
    if chosen is None:
        raise TypeError("explain() missing its format: give format= (text, md, html or json)")
    return chosen


@in_engine_context
def explain(
    policy: CompiledPolicy,
    decision: Decision | Mapping[str, Any],
    lang: str = "zh",
    format: str | None = None,
    *,
    fmt: str | None = None,
) -> str:
    """One decision explained: `format` is text (the default), md, html (one self-contained page) or json (the
    trace), as the command line's `--format` and the service's `format` name it. `fmt=`, its older name, is still
    taken; giving both is a TypeError."""
    fmt = format_named(format, fmt, "text")
    if fmt not in FORMATS:
        raise RenderError(msg("render.unknown_format", fmt=repr(fmt), formats=list(FORMATS)))
    refuse_what_is_no_decision(policy, decision, "explain")
    refuse_other_policy(policy, decision)
    if fmt == "text" and isinstance(decision, Decision):
        fast = renderer(policy, lang).text_explainer()
        if fast is not None:
            made: str = fast.render(decision)
            return made
    if isinstance(decision, Decision):
        return renderer(policy, lang).explain(decision, fmt)
    d = decision
    try:
        if fmt == "json":  # as recorded; a number edited in (read as a Decimal) is not JSON the engine writes
            return json.dumps(d, ensure_ascii=False, indent=2) + "\n"
        return renderer(policy, lang).explain(d, fmt)
    except RenderError:
        raise
    except (TypeError, KeyError, IndexError, AttributeError, ValueError, ArithmeticError, TemplateError) as exc:
        # a decision given as data and edited past what its schema says (a step's inner fields): named, not a
        # traceback; the engine's own Decision objects are not caught here, so a bug in them still shows
        raise RecordedDecisionError(msg("render.cannot_explain_recorded", detail=_edited(exc))) from exc


@in_engine_context
def explanation(policy: CompiledPolicy, decision: Decision | Mapping[str, Any], lang: str = "zh") -> Explanation:
    """The decision explained in `lang` and in no format: the `Explanation` model (engine/explaining/model.py)
    that templates, JSON front doors and tests read. Same words as every format (one builder, `Explainer`).
    A decision given as data (its JSON, as recorded) is explained as recorded (check it first with
    `recorded_decision`)."""
    refuse_what_is_no_decision(policy, decision, "explanation")
    refuse_other_policy(policy, decision)
    if not isinstance(decision, Decision):
        try:
            return renderer(policy, lang).model(decision)
        except (TypeError, KeyError, IndexError, AttributeError, ValueError, ArithmeticError) as exc:
            raise RecordedDecisionError(msg("render.cannot_model_recorded", detail=_edited(exc))) from exc
    return renderer(policy, lang).model(decision)


FLAG_ORDER = ("standing", "reduced", "refused", "incomplete", "referred", "pending_review")


def _flags(d: Mapping[str, Any]) -> list[str]:
    counts = d.get("counts_by_status") or {}
    out = ["standing"] if (d.get("standing") or {}).get("result") == "refused" else []
    out += [s for s in FLAG_ORDER[1:] if counts.get(s)]
    if d.get("scaling") and to_decimal(d.get("total_before_scaling")) != to_decimal(d.get("total")):
        out.append("scaled")  # (only where the scaling changed something: a round's decision paying nothing is not)
    return out


@in_engine_context
def render_report(
    policy: CompiledPolicy,
    entries: Iterable[Decision | Mapping[str, Any] | ReportError],
    lang: str = "zh",
    *,
    title: str | None = None,
    policy_for: Callable[[Mapping[str, Any]], CompiledPolicy] | None = None,
    on_drawn: Callable[[int], None] | None = None,
) -> str:
    """One self-contained HTML file: an index of applications (sortable, filterable) and each explanation.

    `policy_for`: the version that made each decision, when several versions of the policy decided the entries.
    `on_drawn`: told how many entries are drawn after each one (a progress bar's).
    """
    if isinstance(entries, Decision | Mapping | ReportError | str) or not isinstance(entries, Iterable):  # (one, not a list)
        raise TypeError(msg("core.not_entries", kind=type(entries).__name__))
    with render_budget(MAX_RENDER_SECONDS, MAX_OUTPUT_CHARS) as budget:  # checked by policy templates only
        page = ReportPage(policy, lang, title=title, policy_for=policy_for, budget=budget)
        for n, entry in enumerate(entries, 1):
            if not isinstance(entry, Decision | ReportError):
                refuse_what_is_no_decision(policy, entry, "render_report")
            page.add(entry)
            if on_drawn is not None:
                on_drawn(n)
        return page.html()


#: template pieces `ReportPage.write` joins before writing them (the page without its explanations is ~800 bytes
#: per application; the explanations are copied from the spool as they are)
WRITE_PIECES = 512


class ReportPage:
    """`render_report` one entry at a time: `add` draws an application's explanation as it comes (a batch draws
    each decision as it reads it, or as it is decided), `html` the page around them. The same text as
    `render_report` of the same entries.

    The render's budget (`RenderBudget`: time and output, grown per application) counts the time spent in `add`
    and `html` only, not the time between them (when the entries come from a batch still deciding)."""

    def __init__(
        self,
        policy: CompiledPolicy,
        lang: str = "zh",
        *,
        title: str | None = None,
        policy_for: Callable[[Mapping[str, Any]], CompiledPolicy] | None = None,
        budget: RenderBudget | None = None,
        spool: bool = False,
    ) -> None:
        self.r = renderer(policy, lang)
        # `spool`: each explanation is kept as UTF-8 in a temporary file, not in memory, and `write` copies it into
        # the page where the engine's own page template puts it (a policy's or a language's own may do otherwise)
        self.spool: IO[bytes] | None = None
        self.marks: dict[str, tuple[int, int]] = {}  # a body's mark in the page -> where its bytes are in the spool
        self.mark = ""
        if spool and not self.r.own_templates and os.linesep == "\n":
            self.spool = tempfile.TemporaryFile(prefix="policy-engine-report-")  # closed by `write` or `html`
            self.mark = f"\x00{secrets.token_hex(16)}:"
        self.lang = lang
        self.title = title
        self.policy_for = policy_for
        self.budget = budget if budget is not None else RenderBudget(MAX_RENDER_SECONDS, MAX_OUTPUT_CHARS)
        self.idle_since: float | None = None if budget is not None else time.monotonic()  # own budget: waits not counted
        self.rows: list[dict[str, Any]] = []
        self.total = Decimal(0)
        self.errors = 0

    @contextmanager
    def _drawing(self) -> Iterator[None]:
        if self.idle_since is not None:
            self.budget.deadline += time.monotonic() - self.idle_since
        try:
            with render_budget(budget=self.budget):
                yield
        finally:
            if self.idle_since is not None:
                self.idle_since = time.monotonic()

    @in_engine_context
    def add(self, entry: Decision | Mapping[str, Any] | ReportError, body: str | bytes | None = None) -> None:
        """The next application of the report: its index row's data and its explanation, drawn now (or `body`: what
        `draw` gave for it at this place, `app-<n>`, elsewhere; as UTF-8 bytes only for a spooled page)."""
        with self._drawing():
            self.budget.allow(REPORT_SECONDS_PER_ROW, REPORT_CHARS_PER_ROW)  # a report's budget grows with its applications
            n = len(self.rows) + 1
            anchor = f"app-{n}"
            if isinstance(entry, ReportError):
                self.errors += 1
                self.rows.append({"n": n, "anchor": anchor, "error": entry.in_language(self.lang), "flags": ["error"]})
                return
            d = _as_dict(entry)
            self.total += _to_decimal(d.get("total")) or Decimal(0)
            counts = d.get("counts_by_status") or {}
            self.rows.append(
                {
                    "n": n,
                    "anchor": anchor,
                    "error": None,
                    "d": d,
                    "statuses": [(s, counts[s]) for s in STATUSES if counts.get(s)],
                    "flags": _flags(d),
                    "body": self._kept(self.draw(entry, anchor) if body is None else body if isinstance(body, bytes) else Markup(body)),  # noqa: S704 -- drawn by `draw`
                }
            )

    def draw(self, entry: Decision | Mapping[str, Any], anchor: str) -> Markup:
        """An application's explanation as `add` puts it at `anchor` (a batch may draw it on another process with
        a copy of this page, and hand it to `add` as `body`)."""
        made_under = self.policy_for(_as_dict(entry)) if self.policy_for else self.r.policy
        refuse_other_policy(made_under, entry)  # (the report quoted the draft's 50万 cap beside amounts cut to 30万)
        drawn = renderer(made_under, self.lang) if self.policy_for else self.r
        return drawn.body_html(entry, anchor)

    def _kept(self, body: Markup | bytes) -> Markup:
        """The body as the row keeps it: itself, or (spooled) a mark no claim text can make, for `write` to replace
        (a body given as bytes is already its UTF-8: spooled as it is)."""
        if isinstance(body, bytes):
            if self.spool is None:
                raise ValueError(msg("render.bytes_need_spool"))
            data = body
        elif self.spool is None:
            return body
        else:
            try:
                data = body.encode("utf-8")
            except UnicodeEncodeError:  # not writable as UTF-8: kept as it is, so the page fails as it always did
                return body
        start = self.spool.tell()
        self.spool.write(data)
        mark = f"{self.mark}{len(self.marks)}\x00"
        self.marks[mark] = (start, len(data))
        return Markup(mark)  # noqa: S704 -- a mark of this page, replaced by the autoescaped body in `write`

    def _unspool(self) -> None:
        """Every spooled body back in its row (the page is then drawn in memory, as `render_report` draws it)."""
        if self.spool is None:
            return
        for row in self.rows:
            found = self.marks.get(str(row.get("body")))
            if found is not None:
                self.spool.seek(found[0])
                row["body"] = Markup(self.spool.read(found[1]).decode("utf-8"))  # noqa: S704 -- autoescaped template output
        self.spool.close()
        self.spool = None

    @in_engine_context
    def html(self) -> str:
        """The page: its head, the index of every application added, and their explanations in order."""
        self._unspool()
        with self._drawing():
            page: str = self.r.template(REPORT_TEMPLATE).render(**self._values())
        return with_page_policy(page)

    def _values(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "title": self.title,
            "count": len(self.rows),
            "errors": self.errors,
            "grand_total": f"{self.total.quantize(CENT)}",
            "engine_script": Markup(REPORT_SCRIPT),  # noqa: S704 -- the engine's own file, not the policy's
        }

    def write(self, path: str | Path) -> Path:
        """The page into a file (UTF-8): `html()`'s text. Spooled, the page is written as the template makes it,
        each body's mark replaced by the body's bytes from the spool (no page-sized string is built)."""
        out = Path(path)
        if self.spool is None or any(str(row.get("body")) not in self.marks for row in self.rows if not row["error"]):
            out.write_text(self.html(), encoding="utf-8")
            return out
        spool, marks = self.spool, self.marks
        split = re.compile(f"({re.escape(self.mark)}[0-9]+\x00)")

        def put(f: IO[bytes], text: str) -> None:
            for n, part in enumerate(split.split(text)):
                if n % 2 == 0:
                    f.write(part.encode("utf-8"))
                else:
                    start, size = marks[part]
                    spool.seek(start)
                    f.write(spool.read(size))

        try:
            with self._drawing(), open(out, "wb") as f:
                # the template's pieces joined a few hundred at a time (a mark is one expression's output, so never
                # cut between two pieces): the same bytes, without a split, an encode and a write per piece
                pieces: list[str] = []
                for chunk in _stating_its_policy(self.r.template(REPORT_TEMPLATE).generate(**self._values())):
                    pieces.append(chunk)
                    if len(pieces) >= WRITE_PIECES:
                        put(f, "".join(pieces))
                        pieces.clear()
                put(f, "".join(pieces))
        except BaseException:
            out.unlink(missing_ok=True)
            raise
        finally:
            spool.close()
            self.spool = None
        return out


def write_report(
    policy: CompiledPolicy,
    entries: Iterable[Decision | Mapping[str, Any] | ReportError],
    path: str | Path,
    lang: str = "zh",
    *,
    title: str | None = None,
    policy_for: Callable[[Mapping[str, Any]], CompiledPolicy] | None = None,
) -> Path:
    """`render_report` into a file (UTF-8). A path that cannot be written is an `OutputError` naming it and what to do
    (it was an OSError traceback: "[Errno 2] No such file or directory"), said before the page is drawn where it can
    be: a folder that is not there (not made here: a slip in a path would make folders nobody meant), a folder given
    for the file, or the system's refusal (no permission, a read-only disk)."""
    out = _report_path(path)
    text = render_report(policy, entries, lang, title=title, policy_for=policy_for)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(msg("render.report_not_written", path=str(path), reason=os_reason(exc))) from None
    return out


def _report_path(path: str | Path) -> Path:
    """`path` as a report's file, or an OutputError: it is a folder, or its folder is not there (or is a file)."""
    out = Path(path)
    if out.is_dir():
        raise OutputError(msg("render.report_is_folder", path=str(path)))
    folder = out.parent
    if not folder.is_dir():
        key = "render.report_folder_is_file" if folder.exists() else "render.report_no_folder"
        raise OutputError(msg(key, path=str(path), folder=str(folder)))
    return out


__all__: list[str] = [
    "FORMATS",
    "MESSAGE_DIR",
    "RenderError",
    "Renderer",
    "ReportError",
    "ReportPage",
    "explain",
    "explanation",
    "languages",
    "recorded_decision",
    "render_report",
    "renderer",
    "write_report",
]
