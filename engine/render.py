"""Stage 5, render: explanations of decisions, for applicants and reviewers.

Input is a decision's JSON dict (`Decision.to_dict()`) plus the policy's
clause table and labels; jinja2 templates phrase it. Templates do no
arithmetic and decide nothing: every amount they show is a value of the
trace, passed through a formatting filter (`money`, `percent`).

Wording lives in data, not code:

* templates in `engine/templates/` (per language in `engine/templates/<lang>/`
  when a language needs its own structure), compiled once per policy and
  language and reused for every decision;
* message catalogues in `engine/messages/<lang>.yaml` -- adding a language
  is adding a catalogue (and, if wanted, templates), no Python;
* a policy's optional `templates:` mapping overrides both: under a language
  code (or `all`), a key ending in `.j2` replaces that template (its value is
  the template text, or a path to a `.j2` file next to the policy), any other
  key replaces a catalogue entry (dotted, e.g. `status.refused`).
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from jinja2 import BaseLoader, ChoiceLoader, DictLoader, Environment, FileSystemLoader, Template, pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from . import __version__
from .decision import STATUSES, Decision

if TYPE_CHECKING:
    from .model import CompiledPolicy

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
MESSAGE_DIR = Path(__file__).resolve().parent / "messages"

#: format -> template; `json` is the decision itself.
FORMATS: dict[str, str | None] = {"text": "explain.txt.j2", "md": "explain.md.j2", "html": "explain.html.j2", "json": None}
BODY_TEMPLATE = "_explain_body.html.j2"
REPORT_TEMPLATE = "report.html.j2"
HTML_ALIAS = "#html"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
TEN_THOUSAND = Decimal(10000)
CENT = Decimal("0.01")


class RenderError(ValueError):
    """A language, format or policy override the renderer cannot use; the message says what is expected."""


def languages() -> tuple[str, ...]:
    """The languages with a message catalogue, e.g. ('en', 'zh')."""
    return tuple(sorted(p.stem for p in MESSAGE_DIR.glob("*.yaml")))


@cache
def _catalogue(lang: str) -> dict[str, Any]:
    path = MESSAGE_DIR / f"{lang}.yaml"
    if not path.is_file():
        raise RenderError(f"no message catalogue for language {lang!r}; available: {', '.join(languages())}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("meta"), dict):
        raise RenderError(f"{path}: a catalogue is a mapping with a `meta:` section")
    return data


def _fill(text: str, values: Mapping[str, Any]) -> str:
    """Replace `{name}` by values[name]; only plain names, never attribute access (policy wording is data)."""
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)


def _merge(base: dict[str, Any], key: str, value: str, known: dict[str, Any]) -> bool:
    parts = key.split(".")
    node, ref = base, known
    for p in parts[:-1]:
        if not isinstance(ref.get(p), dict):
            return False
        ref = ref[p]
        node[p] = dict(node[p]) if node.get(p) is ref else node[p]
        node = node[p]
    if parts[-1] not in ref or isinstance(ref[parts[-1]], dict):
        return False
    node[parts[-1]] = value
    return True


def _to_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


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
        base = _catalogue(lang)
        messages: dict[str, Any] = dict(base)
        overrides: dict[str, str] = {}
        problems: list[str] = []
        for scope in ("all", lang):
            for key, value in (policy.templates.get(scope) or {}).items():
                if key.endswith(".j2"):
                    overrides[key] = self._template_source(value)
                elif not _merge(messages, key, value, base):
                    problems.append(f"templates.{scope}.{key}: no such message in the {lang!r} catalogue")
        if problems:
            raise RenderError("; ".join(problems))
        self.m = messages
        meta = messages["meta"]
        self.meta = meta
        self.label_field: str = meta.get("label", lang)
        self.label_fallback: str = meta.get("label_fallback", "en")
        loaders: list[Any] = []
        if overrides:
            loaders.append(DictLoader(overrides))
        loaders.append(FileSystemLoader([str(TEMPLATE_DIR / lang), str(TEMPLATE_DIR)]))
        self.env = _Environment(
            loader=_HtmlAliasLoader(ChoiceLoader(loaders)),
            autoescape=_autoescape,  # on for every HTML template (by name), off for text and Markdown
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
            extensions=["jinja2.ext.do"],
            cache_size=-1,
        )
        self._tables()
        self.env.filters.update(money=self.money, percent=self.percent, fill=_fill_filter, md=_md_escape)
        self.env.globals.update(
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
            fact=self.fact_label,
            value=self.value_label,
            fact_value=self.fact_value,
            policy=self.policy_info(),
            engine_version=__version__,
        )
        # Compiled on first use, then kept: jinja2's cache is unbounded here and never re-checks the files.
        self.templates: dict[str, Template] = {}

    def _template_source(self, value: str) -> str:
        if "\n" not in value and value.strip().endswith(".j2"):
            path = Path(self.policy.base_dir) / value.strip()
            try:
                return path.read_text(encoding="utf-8")
            except OSError as exc:
                raise RenderError(f"template override {value!r}: cannot read {path}: {exc.strerror}") from None
        return value

    # --- label tables, built once ------------------------------------------------------

    def label(self, text: Any) -> str:
        """The reader's words from a bilingual {zh, en} dict or Text."""
        if text is None:
            return ""
        if type(text) is dict or isinstance(text, Mapping):
            return str(text.get(self.label_field) or text.get(self.label_fallback) or next(iter(text.values()), ""))
        return str(getattr(text, self.label_field, None) or getattr(text, self.label_fallback, ""))

    def _tables(self) -> None:
        p = self.policy
        self.kinds = {k: self.label(t) for k, t in p.applicant_kinds.items()}
        self.roles = {k: self.label(t) for k, t in p.applicant_roles.items()}
        self.docs = {k: self.label(t) for k, t in p.documents.items()}
        self.item_types = {k: self.label(t) for k, t in p.item_type_labels.items()}
        original = self.meta.get("clause_text", "original") == "original"
        show_original = bool(self.meta.get("show_original")) and not original
        self.clauses: dict[str, dict[str, Any]] = {}
        for cite, c in p.clauses.items():
            text = c.text if original else (getattr(c, self.meta.get("clause_text", "en"), None) or c.text)
            self.clauses[cite] = {
                "citation": cite,
                "article": c.article,
                "text": text,
                "original": c.text if show_original and text != c.text else None,
            }
        self.facts: dict[tuple[str, str | None, str], str] = {}
        self.fact_types: dict[tuple[str, str | None, str], str] = {}
        for ns, t, specs in [("claim", None, p.claim_facts), ("applicant", None, p.applicant_facts)] + [
            ("item", t, specs) for t, specs in p.item_facts.items()
        ]:
            for name, spec in specs.items():
                self.facts[(ns, t, name)] = self.label(spec.label)
                self.fact_types[(ns, t, name)] = spec.type
        # enum value labels, from the policy document itself
        self.values: dict[tuple[str | None, str], dict[str, str]] = {}
        doc = p.data if isinstance(p.data, Mapping) else {}
        for t, spec in (doc.get("item_types") or {}).items():
            for name, fspec in ((spec or {}).get("facts") or {}).items():
                labels = self._value_labels(fspec, doc)
                if labels:
                    self.values[(t, name)] = labels
        for section in ("applicant", "claim"):
            for name, fspec in ((doc.get("facts") or {}).get(section) or {}).items():
                labels = self._value_labels(fspec, doc)
                if labels:
                    self.values[(None, f"{section}.{name}")] = labels

    def _value_labels(self, fspec: Any, doc: Mapping[str, Any]) -> dict[str, str]:
        if not isinstance(fspec, Mapping):
            return {}
        values = fspec.get("values")
        if values is None and fspec.get("values_from"):
            values = doc.get(fspec["values_from"])
        if not isinstance(values, Mapping):
            return {}
        return {str(k): self.label(v) for k, v in values.items() if isinstance(v, Mapping)}

    def fact_label(self, name: str, item_type: str | None = None) -> str:
        """`item.annual_interest_paid` -> the policy's words for that fact."""
        ns, _, short = name.partition(".")
        if ns == "item":
            return self.facts.get(("item", item_type, short)) or self.facts.get(("item", None, short)) or name
        return self.facts.get((ns, None, short), name)

    def value_label(self, name: str, item_type: str | None, value: Any) -> str:
        if isinstance(value, bool):
            return str(self.meta["yes_word"] if value else self.meta["no_word"])
        ns, _, short = name.partition(".")
        table = self.values.get((item_type, short)) if ns == "item" else self.values.get((None, name))
        if table and str(value) in table:
            return table[str(value)]
        return "" if value is None else str(value)

    def fact_value(self, name: str, item_type: str | None, value: Any) -> str:
        """A fact's value in the reader's words: money formatted, codes by their labels, yes/no."""
        if value is None:
            return str(self.m["fact_absent"])
        ns, _, short = name.partition(".")
        ftype = self.fact_types.get((ns, item_type if ns == "item" else None, short))
        if ftype == "money":
            return self.money(value)
        if isinstance(value, list):
            if ftype == "document_list":
                return str(self.meta["list_sep"]).join(self.docs.get(v, str(v)) for v in value)
            return str(self.meta["list_sep"]).join(self.value_label(name, item_type, v) for v in value)
        return self.value_label(name, item_type, value)

    def policy_info(self) -> dict[str, Any]:
        p = self.policy
        return {
            "id": p.id,
            "version": p.version,
            "title": self.label(p.title),
            "hash": p.content_hash,
            "from": p.funding_years[0],
            "to": p.funding_years[1],
            "cites": p.in_force_cites,
            "assumption": self.label(p.in_force_assumption) if p.in_force_assumption else None,
        }

    # --- filters -----------------------------------------------------------------

    def money(self, value: Any, cites: str | None = None) -> str:
        """`"120000.00"` -> `120,000.00 元`; `12 万元` where the clause cited writes its amounts in 万元."""
        d = _to_decimal(value)
        if d is None:
            return "" if value is None else str(value)
        wan_unit = self.meta.get("wan_unit")
        if wan_unit and cites and d and d % TEN_THOUSAND == 0:
            clause = self.policy.clauses.get(cites)
            if clause is not None and wan_unit in clause.text:
                return _fill(self.meta["wan"], {"n": f"{d / TEN_THOUSAND:,.0f}"})
        return _fill(self.meta["money"], {"n": f"{d.quantize(CENT):,}"})

    def percent(self, value: Any) -> str:
        """`"0.5"` -> `50%`."""
        d = _to_decimal(value)
        if d is None:
            return str(value)
        n = (d * 100).normalize()
        return _fill(self.meta["percent"], {"n": f"{n:f}"})

    # --- rendering -----------------------------------------------------------------

    def template(self, name: str) -> Template:
        t = self.templates.get(name)
        if t is None:
            t = self.templates[name] = self.env.get_template(name)
        return t

    def explain(self, decision: Mapping[str, Any], fmt: str) -> str:
        name = FORMATS.get(fmt)
        if name is None:
            if fmt == "json":
                return json.dumps(decision, ensure_ascii=False, indent=2) + "\n"
            raise RenderError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        return self.template(name).render(d=decision)

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


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|])")


def _md_escape(value: Any) -> str:
    """Text from a claim, made inert in Markdown (and in HTML produced from it)."""
    return _MD_SPECIAL.sub(r"\\\1", "" if value is None else str(value))


_RENDERERS: weakref.WeakKeyDictionary[CompiledPolicy, dict[str, Renderer]] = weakref.WeakKeyDictionary()


def renderer(policy: CompiledPolicy, lang: str = "zh") -> Renderer:
    """The compiled renderer of `policy` in `lang`; built on first use, then reused."""
    per_policy = _RENDERERS.get(policy)
    if per_policy is None:
        per_policy = _RENDERERS[policy] = {}
    r = per_policy.get(lang)
    if r is None:
        r = per_policy[lang] = Renderer(policy, lang)
    return r


def _as_dict(decision: Decision | Mapping[str, Any]) -> Mapping[str, Any]:
    return decision.to_dict() if isinstance(decision, Decision) else decision


def explain(policy: CompiledPolicy, decision: Decision | Mapping[str, Any], lang: str = "zh", fmt: str = "text") -> str:
    """One decision explained: `fmt` is text, md, html (one self-contained page) or json (the trace)."""
    if fmt not in FORMATS:
        raise RenderError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    d = _as_dict(decision)
    if fmt == "json":
        return json.dumps(d, ensure_ascii=False, indent=2) + "\n"
    return renderer(policy, lang).explain(d, fmt)


FLAG_ORDER = ("standing", "reduced", "refused", "incomplete", "referred", "pending_review")


def _flags(d: Mapping[str, Any]) -> list[str]:
    counts = d.get("counts_by_status") or {}
    out = ["standing"] if (d.get("standing") or {}).get("result") == "refused" else []
    out += [s for s in FLAG_ORDER[1:] if counts.get(s)]
    return out


def render_report(
    policy: CompiledPolicy,
    entries: Iterable[Decision | Mapping[str, Any] | ReportError],
    lang: str = "zh",
    *,
    title: str | None = None,
) -> str:
    """One self-contained HTML file: an index of applications (sortable, filterable) and each explanation."""
    r = renderer(policy, lang)
    rows: list[dict[str, Any]] = []
    total = Decimal(0)
    errors = 0
    for n, entry in enumerate(entries, 1):
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
                "body": r.body_html(d, anchor),
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
) -> Path:
    """`render_report` into a file (UTF-8)."""
    out = Path(path)
    out.write_text(render_report(policy, entries, lang, title=title), encoding="utf-8")
    return out


__all__: list[str] = [
    "FORMATS",
    "RenderError",
    "Renderer",
    "ReportError",
    "explain",
    "languages",
    "render_report",
    "renderer",
    "write_report",
]
