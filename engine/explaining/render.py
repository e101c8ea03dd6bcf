"""Stage 5, render: explanations of decisions, for applicants and reviewers.

Input is a decision's JSON dict (`Decision.to_dict()`) plus the policy's
clause table and labels; jinja2 templates phrase it. Templates do no
arithmetic and decide nothing: every amount they show is a value of the
trace, passed through a formatting filter (`money`, `percent`). The plain
text of a `Decision` object takes a faster road to the same bytes
(`TextExplainer`: the trace tuples, catalogue messages compiled once into
format strings, claim-independent text built once per policy and language);
the templates remain the reference, and a test holds the two equal.

Wording lives in data, not code:

* templates in `engine/explaining/templates/` (per language in `engine/explaining/templates/<lang>/`
  when a language needs its own structure), compiled once per policy and
  language and reused for every decision;
* message catalogues in `engine/explaining/messages/<lang>.yaml` -- adding a language
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

import json
import re
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import BaseLoader, Environment, FileSystemLoader, Template, TemplateError, pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from engine.core.errors import ClaimError, Problem
from engine.core.quantities import format_money
from engine.core.version import __version__
from engine.deciding.decision import DECISION_FORMAT, STATUSES, Decision, ItemDecision, facts_used, in_engine_context, json_value
from engine.explaining.catalogue import PLACEHOLDER as _PLACEHOLDER
from engine.explaining.catalogue import Catalogue, languages
from engine.explaining.catalogue import fill as _fill
from engine.explaining.catalogue import format_string as _format_string
from engine.explaining.labels import CENT, MONEY_CACHE, Labels, to_decimal
from engine.language.model import DocumentCheck, ExternalAmount
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
MESSAGE_DIR = Path(__file__).resolve().parent / "messages"

#: format -> template; `json` is the decision itself.
FORMATS: dict[str, str | None] = {"text": "explain.txt.j2", "md": "explain.md.j2", "html": "explain.html.j2", "json": None}
BODY_TEMPLATE = "_explain_body.html.j2"
REPORT_TEMPLATE = "report.html.j2"
HTML_ALIAS = "#html"


def _to_decimal(value: Any) -> Decimal | None:
    return to_decimal(value)


@dataclass
class ReportError:
    """An application that could not be decided: one row of the report, never the end of the run."""

    source: str
    message: str
    problems: list[str] = field(default_factory=list)


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
            self.env = _Environment(loader=_HtmlAliasLoader(FileSystemLoader([str(TEMPLATE_DIR / lang), str(TEMPLATE_DIR)])), **options)
        filters: dict[str, Callable[..., Any]] = {
            "money": self.money,
            "percent": self.percent,
            "fill": _bounded_fill_filter if self.sandboxed else _fill_filter,
            "md": _md_escape,
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
            policy=self.policy_info(),
            engine_version=__version__,
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
        self.text_own_templates = any(n in overrides for n in TEXT_TEMPLATES) or any(
            (TEMPLATE_DIR / lang / n).exists() for n in TEXT_TEMPLATES
        )
        self._text: TextExplainer | None = None

    def text_explainer(self) -> TextExplainer | None:
        """The fast plain-text renderer (built on first use), or None when the text templates are overridden."""
        if self.text_own_templates:
            return None
        if self._text is None:
            self._text = TextExplainer(self)
        return self._text

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

    @in_engine_context
    def explain(self, decision: Mapping[str, Any], fmt: str) -> str:
        name = FORMATS.get(fmt)
        if name is None:
            if fmt == "json":
                return json.dumps(decision, ensure_ascii=False, indent=2) + "\n"
            raise RenderError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        return self.template(name).render(d=decision)

    @in_engine_context
    def body_html(self, decision: Mapping[str, Any], anchor: str) -> Markup:
        return Markup(self.template(BODY_TEMPLATE).render(d=decision, anchor=anchor, in_report=True))  # noqa: S704 -- autoescaped template output


class _Environment(Environment):
    """Looks up `x.name` on a plain dict by key first: the decision is JSON data, not objects."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


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
    return name is not None and name.endswith((".html.j2", ".html", HTML_ALIAS))


class _HtmlAliasLoader(BaseLoader):
    """`_lines.j2#html` is `_lines.j2` compiled with autoescaping, for HTML templates to import.

    A macro returns its output marked safe when called from an HTML template, so
    shared macros must escape what they interpolate -- in HTML only, not in text.
    """

    def __init__(self, inner: BaseLoader) -> None:
        self.inner = inner

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        return self.inner.get_source(environment, template.removesuffix(HTML_ALIAS))

    def list_templates(self) -> list[str]:
        return self.inner.list_templates()


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


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|])")


def _md_escape(value: Any) -> str:
    """Text from a claim, made inert in Markdown (and in HTML produced from it)."""
    return _MD_SPECIAL.sub(r"\\\1", "" if value is None else str(value))


# --- the text explanation, fast path ------------------------------------------------------
#
# `explain.txt.j2` + `_lines.j2` are the reference for the plain-text explanation. Rendering
# them costs ~17 jinja2 macro calls per item and the decision's full JSON expansion; a round
# of 100,000 items took ~50 s. `TextExplainer` produces the same bytes (a test compares the
# two on the golden claims and on generated rounds) straight from the decision's trace tuples:
# every sentence is a catalogue message compiled once into a `str.format` string, and every
# claim-independent piece (clause quotes, check lines, rule headings, document lists) is built
# once per policy and language and then looked up. Used for `Decision` objects when the policy
# overrides no template; a decision given as JSON (e.g. one scaled by a round budget) and any
# policy with its own templates go through jinja2 as before.

INDENT_ITEM = "   "
INDENT_LINE = "     "
RULE_DOUBLE = "=" * 72
RULE_SINGLE = "-" * 72
TEXT_TEMPLATES = ("explain.txt.j2", "_lines.j2")
#: trace step kind -> its group in the explanation (conditions, amount, limits, caps, documents), in order
GROUP_OF = {"who": 0, "check": 0, "amount": 1, "subject": 1, "limit": 2, "cap": 3, "documents": 4}
GROUP_HEADS = ("checks", "calculation", "limits", "caps", "documents")
_ABSENT = object()  # a fact the claim does not give


def _text_key(value: Any) -> Any:
    """A fact value as a cache key for the words shown for it: a Decimal by its text (equal Decimals may print differently)."""
    return str(value) if type(value) is Decimal else value


class TextExplainer:
    """The plain-text explanation of one policy in one language, rendered from a `Decision`'s trace tuples."""

    # long because: every claim-independent piece of the text (format strings, clause quotes, rule headings) is
    # built here once per policy and language, in the order the explanation uses them; issue 12 replaces this
    # with the one explanation model
    def __init__(self, r: Renderer) -> None:
        from jinja2.filters import do_indent

        self.r = r
        m = r.m
        meta = r.meta
        self.money = r.labels.money
        self.sep = str(meta["list_sep"])
        self.paren = _format_string(meta["paren"], ("t",)).format
        c, h = m["meta"]["colon"], m["meta"]["head_colon"]
        self.c, self.h = c, h

        def f(key: str, *names: str) -> Callable[..., str]:
            return _format_string(str(m[key]), names).format

        self.f_provisional_of = f("provisional_of", "amount")
        self.f_reason = f("reason_line", "cites", "says")
        self.f_facts_given = f("facts_given", "facts")
        self.f_fact_value = f("fact_value", "fact", "value")
        self.f_missing_fact = f("missing_fact", "fact")
        self.f_calc_fixed = f("calc_fixed", "value")
        self.f_calc_table = f("calc_table", "by_label", "by_value", "value")
        self.f_calc_external = f("calc_external", "source_label", "value")
        self.f_calc_bands = f("calc_bands", "base_label", "base", "from", "band", "value")
        self.f_calc_bands_none = f("calc_bands_none", "base_label", "base", "value")
        self.f_calc_per_unit = f("calc_per_unit", "per_unit", "counted", "value", "count_label", "count", "max")
        self.f_calc_per_unit_max = f("calc_per_unit_max", "max_count")
        self.f_calc_least = f("calc_least", "candidates", "value")
        self.f_calc_subject = f("calc_subject", "paid", "asked", "after")
        self.f_cap_split = f("cap_split", "history", "earlier")
        self.f_why_limit = f("why_limit", "says", "times", "cites")
        self.f_why_refused = f("why_refused", "says", "cites")
        self.f_why_refused_asked = f("why_refused_asked", "says", "cites", "asked")
        self.f_why_facts = f("why_facts", "facts")
        self.f_why_also = f("why_also", "reasons")
        self.f_docs_line = f("docs_line", "docs", "cites")
        self.f_doc_ok = f("doc_ok", "doc")
        self.f_doc_missing = f("doc_missing", "doc")
        self.f_missing_documents = f("missing_documents", "docs", "cites")
        self.f_missing_facts = f("missing_facts", "facts")
        self.f_provisional = f("provisional", "amount")
        self.f_referred_line = f("referred_line", "to", "cites")
        self.f_pending_line = f("pending_line", "what")
        self.f_pending_ceiling = f("pending_ceiling", "ceiling", "cites", "says")
        self.f_who = f("who_ok", "kind", "kinds")
        self.f_who_roles = f("who_roles", "roles")
        self.f_status_line = f("status_line", "status", "n", "amount")
        self.f_status_line_count = f("status_line_count", "status", "n")
        self.f_count_items = f("count_items", "n")
        self.f_article_line = f("article_line", "article", "n", "amount")
        self.f_article_provisional = f("article_provisional", "amount")
        self.f_applicant = f("applicant_line", "name", "kind", "id")
        self.f_year = f("funding_year_value", "year")
        self.marks = {True: str(m["check_ok"]), False: str(m["check_fail"]), None: str(m["check_unknown"])}
        self.status = m["status"]
        self.sentence_sep = str(m["sentence_sep"])

        # claim-independent text, once
        quote = _format_string(meta["quote"], ("t",)).format
        self.clause_block: dict[str, str] = {}
        for cite in r.policy.clauses:
            cl = r.clauses[cite]
            block = f"{INDENT_LINE}{cite}\n       {do_indent(quote(t=cl['text']), 7)}\n"
            if cl["original"]:
                block += f"       {m['original']}{c}{do_indent(quote(t=cl['original']), 7)}\n"
            self.clause_block[cite] = block
        note = m.get("translation_note")
        self.clauses_head = f"{INDENT_ITEM}{m['clauses']}{h}" + (f" {note}" if note else "") + "\n"
        self.cites_cache: dict[tuple[str, ...], str] = {}
        self.check_line: dict[tuple[int, Any], str] = {}
        # keyed by id(): the policy's own objects (tests, caps, limits, rules), alive as long as this renderer's policy
        self.cap_fmts: dict[int, tuple[Callable[..., str], ...]] = {}
        self.limit_fmts: dict[int, tuple[Callable[..., str], ...]] = {}
        self.rate_fmts: dict[tuple[int, str], Callable[..., str]] = {}
        self.heading_fmts: dict[str, Callable[..., str]] = {}
        self.amount_fmts = {s: self.partial("amount_line", ("amount",), {"status": m["status"][s]}) for s in STATUSES}
        self.status_result = {s: str(m["status"][s]) for s in STATUSES}
        self.ok_lines: dict[int, str] = {}  # a check that held: its whole line
        self.reason_lines: dict[tuple[str, Any], str] = {}
        self.who_lines: dict[tuple[Any, ...], str] = {}
        self.docs_lines: dict[tuple[Any, ...], str] = {}
        self.standing_blocks: dict[tuple[Any, ...], str] = {}
        self.facts_cache: dict[Any, str] = {}
        self.fact_names: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
        self.calc_lines: dict[Any, str] = {}
        self.failed_facts: dict[int, str] = {}  # per item: a failed check step's facts in words (shown twice)
        self.limit_lines: dict[tuple[Any, ...], str] = {}
        self.cap_lines: dict[tuple[Any, ...], str] = {}
        self.who_line: dict[tuple[str, Any, Any], str] = {}
        self.docs_cache: dict[tuple[Any, ...], str] = {}
        self.rule_tail: dict[str, tuple[str, str]] = {}
        self.heads = {
            k: f"{INDENT_ITEM}{m[k]}{h}\n"
            for k in ("checks", "calculation", "limits", "caps", "documents", "reasons", "incomplete", "pending")
        }
        self.group_heads = tuple(self.heads[k] for k in GROUP_HEADS)
        self.result_head = f"{INDENT_ITEM}{m['result']}{c}"
        self.why_head = f"{INDENT_ITEM}{m['why_not_more']}{c}"
        self.referred_head = f"{INDENT_ITEM}{m['referred']}{c}"
        self.no_trace = f"{INDENT_ITEM}{m['no_trace']}\n"
        self.pending_decide = f"{INDENT_LINE}{m['pending_decide']}\n"
        self.item_types = r.item_types
        self.kinds = r.kinds
        info = r.policy_info()
        p = r.policy
        validity = (
            _fill(m["validity_line"], {"from": info["from"], "to": info["to"], "cites": info["cites"]})
            if info["cites"]
            else _fill(m["validity_line_nocite"], {"from": info["from"], "to": info["to"]})
        )
        self.title_block = f"{m['title']} · {info['title']}\n{RULE_DOUBLE}\n{m['claim_id']}{c}"
        self.applicant_head = f"{m['applicant']}{c}"
        self.year_head = f"{m['funding_year']}{c}"
        self.policy_block = (
            f"{m['policy']}{c}{_fill(m['policy_line'], {'title': info['title'], 'id': p.id, 'version': p.version})}\n"
            f"{m['validity']}{c}{validity}\n"
            + (f"{m['assumption']}{c}{info['assumption']}\n" if info["assumption"] else "")
            + f"{m['policy_hash']}{c}{p.content_hash}\n\n"
            f"{m['section_summary']}\n{RULE_SINGLE}\n  {m['total_granted']}{c}"
        )
        self.by_status_head = f"  {m['by_status']}{h}\n"
        self.by_article_head = f"  {m['by_article']}{h}\n"
        self.standing_head = f"\n{m['section_standing']}\n{RULE_SINGLE}\n"
        self.standing_result = {True: f"  {m['standing_ok']}\n", False: f"  {m['standing_refused']}\n"}
        self.items_head = f"\n{m['section_items']}\n{RULE_SINGLE}\n"
        self.no_items = f"  {m['no_items']}\n\n"
        self.footer = _fill(m["generated_by"], {"engine": f"policy-engine {__version__}", "policy": f"{p.id} {p.version}"}) + "\n"
        self.article_of = {cite: cl.article for cite, cl in p.clauses.items()}
        self.article_order = {cl.article: i for i, cl in reversed(list(enumerate(p.clauses.values())))}

    def partial(self, key: str, names: tuple[str, ...], fixed: Mapping[str, Any]) -> Callable[..., str]:
        """Catalogue message `key` with the claim-independent values `fixed` put in once; `names` filled per item."""
        return _format_string(str(self.r.m[key]), names, fixed).format

    def cap_fmt(self, cap: Any) -> tuple[Callable[..., str], ...]:
        """Per cap: its lines (paid, single item, not paid) and "why not more" sentences, its words and ceiling put in."""
        fmts = self.cap_fmts.get(id(cap))
        if fmts is None:
            fixed = {"says": self.r.label(cap.says), "ceiling": self.money(cap.ceiling, cap.cites), "cites": cap.cites}
            line = ("used", "left", "asked", "granted", "cut")
            fmts = self.cap_fmts[id(cap)] = tuple(
                self.partial(k, line, fixed) for k in ("cap_line", "cap_item", "cap_check", "why_cap", "why_cap_fresh", "why_cap_exhausted")
            )
        return fmts

    def limit_fmt(self, lim: Any) -> tuple[Callable[..., str], ...]:
        fmts = self.limit_fmts.get(id(lim))
        if fmts is None:
            fixed = {"says": self.r.label(lim.says), "times": lim.times}
            fmts = self.limit_fmts[id(lim)] = tuple(
                self.partial(k, ("used", "after"), fixed) for k in ("limit_check", "limit_same", "limit_full", "limit_line")
            )
        return fmts

    # --- values -------------------------------------------------------------------------

    def facts_of(self, facts: tuple[str, ...], t: str | None, I: Any, A: Any, C: Any) -> str:
        """The facts a check used, in words (e.g. `贷款方为否`); kept per check and fact values."""
        names = self.fact_names.get(facts)
        if names is None:
            names = self.fact_names[facts] = tuple((n.split(".", 1)[0], n.split(".", 1)[1]) for n in facts)
        spaces = {"item": I, "applicant": A, "claim": C}
        # Decimals by their text: 0.125 and 0.1250 are equal keys but are shown as given
        key: tuple[Any, ...] | None = (facts, t, *(_text_key(dict.get(spaces[ns], name, _ABSENT)) for ns, name in names))
        try:
            text = self.facts_cache.get(key)
        except TypeError:  # a list among the values: not kept
            key, text = None, None
        if text is None:
            r = self.r
            used = facts_used(facts, I, A, C)
            text = self.sep.join(self.f_fact_value(fact=r.fact_label(n, t), value=r.fact_value(n, t, v)) for n, v in used.items())
            if key is not None:
                if len(self.facts_cache) >= MONEY_CACHE:
                    self.facts_cache.clear()
                self.facts_cache[key] = text
        return text

    # --- lines -----------------------------------------------------------------------------

    def check(self, step: tuple[Any, ...], t: str | None, I: Any, A: Any, C: Any) -> str:
        _, test, ok, missing = step
        key = (id(test), ok)
        line = self.check_line.get(key)
        if line is None:
            line = self.check_line[key] = (
                f"{self.marks.get(ok, self.marks[None])} {self.f_reason(cites=test.cites, says=self.r.label(test.says))}"
            )
        if ok is False and test.expression.facts:
            facts = self.failed_facts[id(step)] = self.facts_of(test.expression.facts, t, I, A, C)
            line += self.paren(t=self.f_facts_given(facts=facts))
        if missing:
            line += self.paren(t=self.f_missing_fact(fact=self.r.fact_label(missing, t)))
        return line

    def who(self, rule: Any, ok: Any, kind: Any) -> str:
        key = (rule.id, ok, kind)
        line = self.who_line.get(key)
        if line is None:
            r = self.r
            kinds = self.sep.join(v for k, v in r.kinds.items() if k in rule.kinds)
            roles = [v for k, v in r.roles.items() if k in rule.roles]
            if roles:
                kinds += self.f_who_roles(roles=self.sep.join(roles))
            line = self.who_line[key] = f"{self.marks.get(ok, self.marks[None])} {self.f_who(kind=r.kinds.get(kind, kind), kinds=kinds)}"
        return line

    def calc(self, step: tuple[Any, ...], rule: Any, t: str) -> str:
        _, form, detail, value = step
        r = self.r
        money = self.money
        kind = form.kind
        if kind == "rate":
            fmt = self.rate_fmts.get((id(form), t))
            if fmt is None:
                src = form.of.source
                fixed = {"base_label": r.fact_label(src, t) if src in form.of.facts else src, "rate": r.percent(str(form.rate))}
                fmt = self.rate_fmts[(id(form), t)] = self.partial("calc_rate", ("base", "value"), fixed)
            return fmt(base=money(detail), value=money(value))
        cites = rule.cites
        if kind == "fixed" or kind == "table":  # few distinct lines: kept
            key: tuple[Any, ...] | None = (id(form), t, _text_key(detail), value)
            try:
                line = self.calc_lines.get(key)
            except TypeError:
                line, key = None, None
            if line is None:
                if kind == "fixed":
                    line = self.f_calc_fixed(value=money(value, cites))
                else:
                    src = form.by.source
                    by_value = r.value_label(src, t, json_value(detail))
                    line = self.f_calc_table(by_label=r.fact_label(src, t), by_value=by_value, value=money(value, cites))
                if key is not None and len(self.calc_lines) < MONEY_CACHE:
                    self.calc_lines[key] = line
            return line
        if kind == "external":
            return self.f_calc_external(source_label=r.fact_label(form.source.source, t), value=money(value))
        if kind == "bands":
            base, band = detail
            if band is None:
                return self.f_calc_bands_none(base_label=r.fact_label(form.of.source, t), base=money(base), value=money(value))
            return self.f_calc_bands(
                base_label=r.fact_label(form.of.source, t),
                base=money(base),
                band=money(band.amount, cites) if band.amount is not None else r.percent(str(band.rate)),
                value=money(value),
                **{"from": money(band.start, cites)},
            )
        if kind == "per_unit":
            count, used = detail
            return self.f_calc_per_unit(
                per_unit=money(form.per_unit, cites),
                counted=used,
                value=money(value),
                count_label=r.fact_label(form.count.source, t),
                count=count,
                max=self.f_calc_per_unit_max(max_count=form.max_count) if form.max_count is not None else "",
            )
        if kind == "least":
            return self.f_calc_least(candidates=self.sep.join(money(v) for v in detail), value=money(value))
        return ""

    def documents(self, step: tuple[Any, ...], standing: bool) -> str:
        _, owner, required, missing, cites = step
        key = (id(owner), tuple(required), tuple(missing), cites, standing)
        line = self.docs_cache.get(key)
        if line is None:
            r = self.r
            ds = self.sep.join((self.f_doc_missing if d in missing else self.f_doc_ok)(doc=r.docs.get(d, d)) for d in required)
            if standing:
                says = r.label(owner.says) if isinstance(owner, DocumentCheck) else r.m["documents"]
                line = f"{self.marks[not missing]} {self.f_reason(cites=cites, says=says)}{self.paren(t=ds)}"
            else:
                line = self.f_docs_line(docs=ds, cites=cites)
            self.docs_cache[key] = line
        return line

    def clauses(self, cites: tuple[str, ...]) -> str:
        block = self.cites_cache.get(cites)
        if block is None:
            block = self.cites_cache[cites] = self.clauses_head + "".join(
                self.clause_block.get(cite, f"{INDENT_LINE}{cite}\n") for cite in cites
            )
        return block

    def tail(self, rule: Any) -> tuple[str, str]:
        """Per rule: the pending-review block and the readings line."""
        out = self.rule_tail.get(rule.id)
        if out is None:
            r = self.r
            pending = self.heads["pending"]
            if isinstance(rule.amount, ExternalAmount) and rule.amount.pending is not None:
                pending += f"{INDENT_LINE}{self.f_pending_line(what=r.label(rule.amount.pending))}\n"
            for cap in rule.caps:
                pending += f"{INDENT_LINE}{self.f_pending_ceiling(ceiling=self.r.money(format_money(cap.ceiling), cap.cites), cites=cap.cites, says=r.label(cap.says))}\n"
            pending += self.pending_decide
            readings = f"{INDENT_ITEM}{r.m['readings']}{self.c}{self.sep.join(rule.readings)}\n" if rule.readings else ""
            out = self.rule_tail[rule.id] = (pending, readings)
        return out

    # --- the document ---------------------------------------------------------------------

    @in_engine_context
    def render(self, decision: Decision) -> str:
        claim = decision.claim
        A, C = claim.applicant, claim.claim_facts
        money = self.money
        out: list[str] = [
            self.title_block,
            f"{claim.claim_id}\n",
            self.applicant_head,
            self.f_applicant(name=A.get("name") or "", kind=self.kinds.get(A["kind"], A["kind"]), id=A["id"]),
            "\n",
            self.year_head,
            self.f_year(year=claim.funding_year),
            "\n",
            self.policy_block,
        ]
        items = decision.items
        counts = dict.fromkeys(STATUSES, 0)
        totals = dict.fromkeys(STATUSES, Decimal(0))
        articles: dict[str, list[Any]] = {}
        total = Decimal(0)
        for d in items:
            s = d.status
            counts[s] += 1
            totals[s] += d.amount if s in ("granted", "reduced") else (d.provisional or Decimal(0))
            total += d.amount
            a = self.article_of.get(d.rule.cites, d.rule.cites)
            entry = articles.get(a)
            if entry is None:
                entry = articles[a] = [0, Decimal(0), Decimal(0)]
            entry[0] += 1
            entry[1] += d.amount
            entry[2] += d.provisional or Decimal(0)
        out.append(money(total.quantize(CENT)))
        out.append("\n")
        out.append(self.by_status_head)
        for s in STATUSES:
            n = counts[s]
            if not n:
                continue
            word = self.status[s]
            ns = self.f_count_items(n=n)
            if s in ("granted", "reduced"):
                line = self.f_status_line(status=word, n=ns, amount=money(totals[s]))
            elif s == "incomplete" and totals[s].quantize(CENT) != 0:
                line = self.f_status_line(status=word, n=ns, amount=self.f_provisional_of(amount=money(totals[s])))
            else:
                line = self.f_status_line_count(status=word, n=ns)
            out.append(f"    {line}\n")
        if articles:
            out.append(self.by_article_head)
            order = self.article_order
            for a, (n, amount, prov) in sorted(articles.items(), key=lambda kv: order.get(kv[0], len(order))):
                line = self.f_article_line(article=a, n=n, amount=money(amount))
                if prov.quantize(CENT) != 0:
                    line += self.sep + self.f_article_provisional(amount=money(prov))
                out.append(f"    {line}\n")
        out.append(self.standing_head)
        out.append(self.standing(decision, A, C))
        out.append(self.standing_result[not decision.standing_reasons])
        out.append(self.items_head)
        in_application: dict[tuple[str, Any], Decimal] = {}
        for n, d in enumerate(items, 1):
            self.item(out, n, d, A, C, in_application)
        if not items:
            out.append(self.no_items)
        out.append(self.footer)
        return "".join(out)

    # long because: one item's lines in explanation order (outcome, conditions, amount, limits, caps, documents,
    # why not more), in one pass over its trace with local names bound once: this is the hot path of the text
    def item(self, out: list[str], n: int, d: ItemDecision, A: Any, C: Any, in_application: dict[tuple[str, Any], Decimal]) -> None:
        money = self.money
        if self.failed_facts:
            self.failed_facts.clear()
        status = d.status
        rule = d.rule
        t = d.item.type
        I = d.item.facts
        heading = self.heading_fmts.get(t)
        if heading is None:
            heading = self.heading_fmts[t] = self.partial("item_heading", ("id",), {"type": self.item_types.get(t, t)})
        if status == "incomplete" and d.provisional is not None:
            result = self.amount_fmts[status](amount=self.f_provisional_of(amount=money(d.provisional)))
        elif status in ("granted", "reduced"):
            result = self.amount_fmts[status](amount=money(d.amount))
        else:
            result = self.status_result[status]
        out.append(f"{n}. {heading(id=d.item.id)}\n{self.result_head}{result}\n")
        at_clauses = len(out)
        out.append("")  # the clauses, once the steps have said whether a cap bit
        steps = d.steps
        if not steps:
            out.append(self.no_trace)
        mark = len(out)
        paid = status in ("granted", "reduced")
        ok_lines = self.ok_lines
        limit_lines = self.limit_lines
        who_lines = self.who_lines
        docs_lines = self.docs_lines
        kind = A.get("kind")
        heads = self.group_heads
        group = -1
        bit = False
        for s in steps:
            k = s[0]
            g = GROUP_OF[k]
            if g != group:
                if g < group:  # steps out of the usual order: group them as the template does
                    del out[mark:]
                    self.grouped(out, d, A, C, in_application, paid)
                    bit = True  # (take the clauses from `d.cites`)
                    break
                out.append(heads[g])
                group = g
            if k == "check":
                line = ok_lines.get(id(s[1])) if s[2] is True else None
            elif k == "limit":
                line = limit_lines.get((id(s[1]), s[3], s[5], s[6], paid))
            elif k == "cap":
                bit = bit or s[5] < s[4]
                line = self.cap(s, paid, in_application)
            elif k == "who":
                line = who_lines.get((id(s[1]), s[2], kind))
            elif k == "documents":
                line = docs_lines.get((id(s[1]), s[2], s[3], s[4]))
            else:
                line = None
            out.append(line if line is not None else self.step_line(s, d, A, C, in_application, paid))
        # `d.cites` (the rule's clause, then each ground's, each biting cap's, the documents clause) only when it can differ
        cites = d.cites if (bit or d.reasons or d.missing_documents) else (rule.cites,)
        out[at_clauses] = self.clauses(cites)
        if d.grant is not None:
            for c in d.grant.consumes:
                if c.kind == "cap":
                    key = (c.id, c.scope)
                    in_application[key] = in_application.get(key, Decimal(0)) + c.amount
        if status == "refused":
            out.append(self.heads["reasons"])
            for i, reason in enumerate(d.reasons, 1):
                out.append(f"{INDENT_LINE}{i}) {self.reason(reason)}\n")
        elif status == "incomplete":
            out.append(self.heads["incomplete"])
            if d.missing_documents:
                out.append(f"{INDENT_LINE}{self.missing_documents(d, cites)}\n")
            if d.missing_facts:
                fs = self.sep.join(self.r.fact_label(x, t) for x in d.missing_facts)
                out.append(f"{INDENT_LINE}{self.f_missing_facts(facts=fs)}\n")
            if d.provisional is not None:
                out.append(f"{INDENT_LINE}{self.f_provisional(amount=money(d.provisional))}\n")
        elif status == "referred":
            to = self.r.label(rule.referral) if rule.referral is not None else ""
            out.append(f"{self.referred_head}{self.f_referred_line(to=to, cites=cites[0])}\n")
        elif status == "pending_review":
            out.append(self.tail(rule)[0])
        if status in ("reduced", "refused"):
            out.append(f"{self.why_head}{self.why(d, I, A, C)}\n")
        readings = self.tail(rule)[1]
        if readings:
            out.append(readings)
        out.append("\n")

    def step_line(
        self, s: tuple[Any, ...], d: ItemDecision, A: Any, C: Any, in_application: dict[tuple[str, Any], Decimal], paid: bool
    ) -> str:
        """One trace step of an item as its indented line."""
        k = s[0]
        if k == "cap":
            return self.cap(s, paid, in_application)
        if k == "limit":
            key = (id(s[1]), s[3], s[5], s[6], paid)
            line = self.limit_lines.get(key)
            if line is None:
                line = self.limit_lines[key] = f"{INDENT_LINE}{self.limit(s, paid)}\n"
            return line
        if k == "documents":
            line = self.docs_lines[(id(s[1]), s[2], s[3], s[4])] = f"{INDENT_LINE}{self.documents(s, False)}\n"
            return line
        if k == "who":
            line = self.who_lines[(id(s[1]), s[2], A.get("kind"))] = f"{INDENT_LINE}{self.who(s[1], s[2], A.get('kind'))}\n"
            return line
        if k == "amount":
            return f"{INDENT_LINE}{self.calc(s, d.rule, d.item.type)}\n"
        if k == "check":
            line = self.check(s, d.item.type, d.item.facts, A, C)
            if s[2] is True and not s[3]:
                self.ok_lines[id(s[1])] = f"{INDENT_LINE}{line}\n"
            return f"{INDENT_LINE}{line}\n"
        return f"{INDENT_LINE}{self.f_calc_subject(paid=self.money(s[3]), asked=self.money(s[4]), after=self.money(s[5]))}\n"

    def grouped(self, out: list[str], d: ItemDecision, A: Any, C: Any, in_application: dict[tuple[str, Any], Decimal], paid: bool) -> None:
        """The step lines grouped by kind, whatever the order of the steps (the template's way)."""
        for g, head in enumerate(self.group_heads):
            lines = [self.step_line(s, d, A, C, in_application, paid) for s in d.steps if GROUP_OF[s[0]] == g]
            if lines:
                out.append(head)
                out.extend(lines)

    def cap(self, s: tuple[Any, ...], paid: bool, in_application: dict[tuple[str, Any], Decimal]) -> str:
        _, cap, scope, used, asked, after = s
        split = paid and cap.per is not None and used.quantize(CENT) != 0
        mine = in_application.get((cap.id, scope), Decimal(0)) if split else None
        key = (id(cap), used, asked, after, paid, mine)
        line = self.cap_lines.get(key)
        if line is not None:
            return line
        money = self.money
        fmts = self.cap_fmt(cap)
        left = cap.ceiling - used
        left_text = money(left if left > 0 else Decimal(0))
        if not paid:
            text = fmts[2](used=money(used), left=left_text, asked=money(asked), granted=money(after))
        elif cap.per is None:
            text = fmts[1](asked=money(asked), granted=money(after))
        else:
            u = money(used)
            if mine is not None:
                u += self.f_cap_split(history=money(used - mine), earlier=money(mine))
            text = fmts[0](used=u, left=left_text, asked=money(asked), granted=money(after))
        if len(self.cap_lines) >= MONEY_CACHE:
            self.cap_lines.clear()
        line = self.cap_lines[key] = f"{INDENT_LINE}{text}\n"
        return line

    def limit(self, s: tuple[Any, ...], paid: bool) -> str:
        _, lim, _, used, _, counted, ok = s
        fmts = self.limit_fmt(lim)
        if not paid and ok:
            line = fmts[0](used=used)
        elif counted:
            line = fmts[1](used=used)
        elif not ok:
            line = fmts[2](used=used)
        else:
            line = fmts[3](used=used, after=used + 1)
        return f"{self.marks.get(ok, self.marks[None])} {line}"

    def standing(self, decision: Decision, A: Any, C: Any) -> str:
        """The applicant's standing checks, one line each; kept per outcome when no line quotes the claim's facts."""
        key = tuple((s[0], id(s[1]), s[2], s[3]) for s in decision.standing_steps)
        block = self.standing_blocks.get(key)
        if block is not None:
            return block
        lines = []
        quotes_facts = False
        for step in decision.standing_steps:
            if step[0] == "check":
                quotes_facts = quotes_facts or (step[2] is False and bool(step[1].expression.facts))
                lines.append(f"  {self.check(step, None, {}, A, C)}\n")
            elif step[0] == "documents":
                lines.append(f"  {self.documents(step, True)}\n")
        block = "".join(lines)
        if not quotes_facts and len(self.standing_blocks) < MONEY_CACHE:
            self.standing_blocks[key] = block
        return block

    def reason(self, reason: Any) -> str:
        """A ground of refusal in words: `clause：what it requires` (kept per clause and words)."""
        key = (reason.cites, reason.says)
        line = self.reason_lines.get(key)
        if line is None:
            line = self.reason_lines[key] = self.f_reason(cites=reason.cites, says=self.r.label(reason.says))
        return line

    def missing_documents(self, d: ItemDecision, cites: tuple[str, ...]) -> str:
        r = self.r
        ds = self.sep.join(r.docs.get(x, x) for x in d.missing_documents)
        cs: list[str] = []
        for s in d.steps:
            if s[0] == "documents" and s[3] and s[4] not in cs:
                cs.append(s[4])
        return self.f_missing_documents(docs=ds, cites=self.sep.join(cs) if cs else cites[-1])

    def why(self, d: ItemDecision, I: Any, A: Any, C: Any) -> str:
        money = self.money
        label = self.r.label
        out: list[str] = []
        steps = d.steps
        if d.status == "reduced":
            for s in steps:
                if s[0] == "cap" and s[5] < s[4]:
                    _, cap, _, used, asked, after = s
                    left = cap.ceiling - used
                    fmts = self.cap_fmt(cap)
                    fmt = fmts[4] if used.quantize(CENT) == 0 else fmts[3]
                    out.append(
                        fmt(used=money(used), left=money(left if left > 0 else Decimal(0)), asked=money(asked), cut=money(asked - after))
                    )
        elif d.reasons:
            r = d.reasons[0]
            check = r.check
            cap_step = limit_step = check_step = last_cap = None
            has_amount = False
            for s in steps:  # one pass: the main ground's own step, the last cap, whether an amount was computed
                k = s[0]
                if k == "cap":
                    last_cap = s
                    if cap_step is None and s[1].id == check:
                        cap_step = s
                elif k == "check":
                    if check_step is None and s[1].id == check:
                        check_step = s
                elif k == "limit":
                    if limit_step is None and s[1].id == check:
                        limit_step = s
                elif k == "amount":
                    has_amount = True
            category = r.category
            if category == "cap" and cap_step is not None:
                out.append(self.cap_fmt(cap_step[1])[5](used=money(cap_step[3]), asked=money(cap_step[4])))
            elif category == "limit" and limit_step is not None:
                out.append(self.f_why_limit(says=label(r.says), times=limit_step[1].times, cites=r.cites))
            else:
                would = last_cap[5] if last_cap is not None else d.asked
                if has_amount and would.quantize(CENT) != 0:
                    out.append(self.f_why_refused_asked(says=label(r.says), cites=r.cites, asked=money(would)))
                else:
                    out.append(self.f_why_refused(says=label(r.says), cites=r.cites))
            if check_step is not None and check_step[1].expression.facts:
                facts = self.failed_facts.get(id(check_step))
                if facts is None:
                    facts = self.facts_of(check_step[1].expression.facts, d.item.type, I, A, C)
                out.append(self.f_why_facts(facts=facts))
            if len(d.reasons) > 1:
                out.append(self.f_why_also(reasons=self.sep.join(self.reason(x) for x in d.reasons[1:])))
        return self.sentence_sep.join(out)


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
#: Where the decision schema lists every key: (path to the object(s), the schema's properties there).
_CLOSED = (
    ("", ()),
    ("policy", ("properties", "policy")),
    ("applicant", ("properties", "applicant")),
    ("standing", ("properties", "standing")),
)


def check_recorded_form(data: Mapping[str, Any], file: str) -> None:
    """A decision given to `explain` has the form of schemas/decision.schema.json and no key it does not know (ClaimError).

    Only the form: a decision is explained as recorded, so a value edited into another valid one is not seen here.
    """
    from engine.language.validate import expected_text, load_schema, validator_for

    problems = []
    for e in sorted(validator_for("decision.schema.json").iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        if e.validator == "enum" and list(e.absolute_path)[-1:] == ["step"] and e.instance in _BATCH_STEPS:
            continue
        problems.append(Problem(e.message, path=tuple(e.absolute_path), file=file, expected=expected_text(e), code="decision"))
    if not problems:
        schema = load_schema("decision.schema.json")

        def unknown(obj: Any, props: Any, path: tuple[Any, ...], extra: tuple[str, ...] = ()) -> None:
            if not isinstance(obj, dict) or not isinstance(props, dict):
                return
            for key in obj:
                if key not in props and key not in extra:
                    problems.append(
                        Problem(
                            f"unknown key {key!r} in a recorded decision",
                            path=(*path, key),
                            file=file,
                            expected="one of the keys: " + ", ".join([*props, *extra]),
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
        raise ClaimError(problems, "not a decision as the engine records it")


def check_recorded_rules(policy: CompiledPolicy, data: Mapping[str, Any], file: str) -> None:
    """Every item and grant of a recorded decision names a rule of `policy`, and the item type that rule decides."""
    rules = {r.id: r for r in policy.rules}
    problems = []
    where = f"policy {policy.id!r} {policy.version!r}"
    for i, item in enumerate(data.get("items") or ()):
        rule = rules.get(item.get("rule"))
        if rule is None:
            problems.append(
                Problem(f"unknown rule {item.get('rule')!r}: not a rule of {where}", path=("items", i, "rule"), file=file, code="decision")
            )
        elif item.get("type") != rule.item_type:
            problems.append(
                Problem(
                    f"item type {item.get('type')!r} is not the one rule {rule.id!r} decides ({rule.item_type!r})",
                    path=("items", i, "type"),
                    file=file,
                    code="decision",
                )
            )
    for i, grant in enumerate(data.get("grants") or ()):
        if grant.get("rule") not in rules:
            problems.append(
                Problem(
                    f"unknown rule {grant.get('rule')!r}: not a rule of {where}", path=("grants", i, "rule"), file=file, code="decision"
                )
            )
    if problems:
        raise ClaimError(problems, "not a decision as the engine records it")


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
    made: Mapping[str, Any] = data["policy"] if isinstance(data.get("policy"), Mapping) else {}
    if made.get("id") != policy.id or made.get("hash") != policy.content_hash:
        raise RenderError(
            f"this decision was made under policy {made.get('id')!r} {made.get('version')!r} ({made.get('hash')}), "
            f"not {policy.id!r} {policy.version!r} ({policy.content_hash}): explain it with the policy file it was made with"
        )
    check_recorded_rules(policy, data, file)
    return data


@in_engine_context
def explain(policy: CompiledPolicy, decision: Decision | Mapping[str, Any], lang: str = "zh", fmt: str = "text") -> str:
    """One decision explained: `fmt` is text, md, html (one self-contained page) or json (the trace)."""
    if fmt not in FORMATS:
        raise RenderError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt == "text" and isinstance(decision, Decision):
        fast = renderer(policy, lang).text_explainer()
        if fast is not None:
            return fast.render(decision)
    d = _as_dict(decision)
    if isinstance(decision, Decision):
        return json.dumps(d, ensure_ascii=False, indent=2) + "\n" if fmt == "json" else renderer(policy, lang).explain(d, fmt)
    try:
        if fmt == "json":  # as recorded; a number edited in (read as a Decimal) is not JSON the engine writes
            return json.dumps(d, ensure_ascii=False, indent=2) + "\n"
        return renderer(policy, lang).explain(d, fmt)
    except RenderError:
        raise
    except (TypeError, KeyError, IndexError, AttributeError, ValueError, ArithmeticError, TemplateError) as exc:
        # a decision given as data and edited past what its schema says (a step's inner fields): named, not a
        # traceback; the engine's own Decision objects are not caught here, so a bug in them still shows
        raise RecordedDecisionError(
            f"this decision cannot be explained as recorded ({type(exc).__name__}: {exc}); "
            "explain the claim itself, or the decision line as the batch wrote it"
        ) from exc


FLAG_ORDER = ("standing", "reduced", "refused", "incomplete", "referred", "pending_review")


def _flags(d: Mapping[str, Any]) -> list[str]:
    counts = d.get("counts_by_status") or {}
    out = ["standing"] if (d.get("standing") or {}).get("result") == "refused" else []
    out += [s for s in FLAG_ORDER[1:] if counts.get(s)]
    if d.get("scaling"):
        out.append("scaled")
    return out


@in_engine_context
def render_report(
    policy: CompiledPolicy,
    entries: Iterable[Decision | Mapping[str, Any] | ReportError],
    lang: str = "zh",
    *,
    title: str | None = None,
    policy_for: Callable[[Mapping[str, Any]], CompiledPolicy] | None = None,
) -> str:
    """One self-contained HTML file: an index of applications (sortable, filterable) and each explanation.

    `policy_for`: the version that made each decision, when several versions of the policy decided the entries.
    """
    r = renderer(policy, lang)
    with render_budget(MAX_RENDER_SECONDS, MAX_OUTPUT_CHARS) as budget:  # checked by policy templates only
        return _report(r, entries, budget, lang, title, policy_for)


def _report(
    r: Renderer,
    entries: Iterable[Decision | Mapping[str, Any] | ReportError],
    budget: RenderBudget,
    lang: str,
    title: str | None,
    policy_for: Callable[[Mapping[str, Any]], CompiledPolicy] | None,
) -> str:
    rows: list[dict[str, Any]] = []
    total = Decimal(0)
    errors = 0
    for n, entry in enumerate(entries, 1):
        budget.allow(REPORT_SECONDS_PER_ROW, REPORT_CHARS_PER_ROW)  # a report's budget grows with its applications
        anchor = f"app-{n}"
        if isinstance(entry, ReportError):
            errors += 1
            rows.append({"n": n, "anchor": anchor, "error": entry, "flags": ["error"]})
            continue
        d = _as_dict(entry)
        total += _to_decimal(d.get("total")) or Decimal(0)
        counts = d.get("counts_by_status") or {}
        rows.append(
            {
                "n": n,
                "anchor": anchor,
                "error": None,
                "d": d,
                "statuses": [(s, counts[s]) for s in STATUSES if counts.get(s)],
                "flags": _flags(d),
                "body": (renderer(policy_for(d), lang) if policy_for else r).body_html(d, anchor),
            }
        )
    return r.template(REPORT_TEMPLATE).render(
        rows=rows,
        title=title,
        count=len(rows),
        errors=errors,
        grand_total=f"{total.quantize(CENT)}",
    )


def write_report(
    policy: CompiledPolicy,
    entries: Iterable[Decision | Mapping[str, Any] | ReportError],
    path: str | Path,
    lang: str = "zh",
    *,
    title: str | None = None,
    policy_for: Callable[[Mapping[str, Any]], CompiledPolicy] | None = None,
) -> Path:
    """`render_report` into a file (UTF-8)."""
    out = Path(path)
    out.write_text(render_report(policy, entries, lang, title=title, policy_for=policy_for), encoding="utf-8")
    return out


__all__: list[str] = [
    "FORMATS",
    "RenderError",
    "Renderer",
    "ReportError",
    "explain",
    "languages",
    "recorded_decision",
    "render_report",
    "renderer",
    "write_report",
]
