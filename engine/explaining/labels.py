"""The reader's words for a policy's codes and values: labels, clause texts, money, percent, fact values.

One `Labels` per policy and language (built by the renderer from its `Catalogue`). It is the one formatter of
values in every explanation: `money` (with 万 where the clause cited writes its amounts in 万元), `percent`,
`fact_value` (a fact's value in words: money formatted, enum codes by their labels, yes/no, document lists),
`fact_label`, and the label tables of applicant kinds, roles, documents and item types. The explanation
builder (`engine.explaining.explainer`) and the templates (as filters and globals) both use these.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from engine.core.i18n import msg
from engine.explaining.catalogue import Catalogue, fill, formatter
from engine.explaining.model import PolicyInfo
from engine.language.templating import RenderError

if TYPE_CHECKING:
    from engine.language.model import CompiledPolicy, FactSpec

TEN_THOUSAND = Decimal(10000)
CENT = Decimal("0.01")
#: Fact types shown as numbers in their own form (`Labels.quantity`).
QUANTITY_TYPES = frozenset({"money", "percent", "decimal", "count", "integer"})
MONEY_CACHE = 20000  # formatted amounts kept per policy and language (bounded: a long batch sees many distinct amounts)
#: the claim's funding year, a fact the engine itself requires (an integer): its value is a year, said as the header
#: says it (`2021 年度`), where every other integer is a plain number
FUNDING_YEAR = ("claim", None, "funding_year")


def to_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    # no amount has a hundred digits: `1e999999` is shown as written, not expanded into a million zeros
    return d if d.is_finite() and abs(d.adjusted()) <= 100 else None


def label_field(name: Any) -> str:
    """A catalogue's `meta.label` (which field of a bilingual text to show): `zh`, `en` or another language code."""
    if not isinstance(name, str) or not re.fullmatch(r"[a-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})?", name):
        raise RenderError(msg("render.meta_label", name=repr(name)))
    return name


class Labels:
    """Label tables and value formatters of one policy in one language, built once."""

    def __init__(self, policy: CompiledPolicy, catalogue: Catalogue) -> None:
        self.policy = policy
        self.catalogue = catalogue
        meta = catalogue.meta
        self.meta = meta
        # which label of a bilingual {zh, en} text to show: a field name, never an attribute chosen by a policy
        self.label_field: str = label_field(meta.get("label", catalogue.lang))
        self.label_fallback: str = label_field(meta.get("label_fallback", "en"))
        self.money_fmt = catalogue.compile_text(meta["money"], "n")
        self.wan_fmt = catalogue.compile_text(meta["wan"], "n")
        # the same message with the digits grouped by the format itself: "{n:,}".format(n=q) is f"{q:,}" put in
        self.money_grouped = formatter(str(meta["money"]), ("n",), None, {"n": ","})
        wan_unit = meta.get("wan_unit")
        self.wan_cites = frozenset(c for c, cl in policy.clauses.items() if wan_unit and wan_unit in cl.text)
        self.money_cache: dict[str, str] = {}  # by the Decimal's text
        self.money_texts: dict[str, str] = {}  # an amount given as text (a recorded decision's), by that text
        # a zero to the cent is 0.00 or -0.00, whatever its exponent: by its sign (0 and -0 are equal keys)
        self.zero_texts = {sign: self.money_fmt(n=f"{Decimal(sign + '0').quantize(CENT):,}") for sign in ("", "-")}
        self.year_fmt = catalogue.compile("funding_year_value", "year")
        self._tables()
        self._shapers()

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
        translation = self.meta.get("clause_text", "en")  # a Clause holds the original and `en` (no attribute lookup by name)
        self.clauses: dict[str, dict[str, Any]] = {}
        for cite, c in p.clauses.items():
            text = c.text if original else (c.en if translation == "en" else None) or c.text
            self.clauses[cite] = {
                "citation": cite,
                "article": c.article,
                "text": text,
                "original": c.text if show_original and text != c.text else None,
            }
        self.facts: dict[tuple[str, str | None, str], str] = {}
        self.fact_types: dict[tuple[str, str | None, str], str] = {}
        self.fact_specs: dict[tuple[str, str | None, str], FactSpec] = {}
        for ns, t, specs in [("claim", None, p.claim_facts), ("applicant", None, p.applicant_facts)] + [
            ("item", t, specs) for t, specs in p.item_facts.items()
        ]:
            for name, spec in specs.items():
                # explained by its short name where it has one (the label may carry the form's filling instructions)
                self.facts[(ns, t, name)] = self.label(spec.short or spec.label)
                self.fact_types[(ns, t, name)] = spec.type
                self.fact_specs[(ns, t, name)] = spec
        self.base_types = self._base_types()
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

    def _shapers(self) -> None:
        """What each decision-maker of the policy rests on: its id (a rule, check, condition `rule#whenN`, cap,
        limit, subject `rule#subject`, who `rule#who`, selection, a behaviour of the engine `@name`) -> the ids of
        its readings and notes; and each
        reading's and note's words in the reader's language, in the policy's order."""
        p = self.policy
        self.reading_words = {r.id: self.label(r.text) for r in p.readings}
        self.note_words = {n.id: self.label(n.text) for n in p.notes}
        self.shapers: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        owners: list[Any] = [*p.applicant_checks, *p.applicant_document_checks]
        for rule in p.rules:
            self.shapers[rule.id] = self.shapers[f"{rule.id}#who"] = (rule.readings, rule.notes)
            if rule.subject is not None:
                self.shapers[f"{rule.id}#subject"] = (rule.subject.readings, rule.subject.notes)
            if rule.selection is not None:
                self.shapers[rule.selection.id] = (rule.selection.readings, rule.selection.notes)
            owners += [*rule.item_checks, *rule.item_document_checks, *rule.when, *rule.caps, *rule.limits]
        for o in owners:
            self.shapers[o.id] = (o.readings, o.notes)
            # a check naming some readings only where a condition holds: each reading it may name on an item, by
            # "id?reading" (`Explainer.named`; never an id: ids have no "?")
            for r in (*o.readings, *(r for r, _ in getattr(o, "readings_when", ()))):
                self.shapers[f"{o.id}?{r}"] = ((r,), ())
        # a behaviour of the engine by its name after "@" (never an id: ids have no "@"), as `Explainer.behaviours` adds it
        for name, said in p.behaviours.items():
            self.shapers["@" + name] = said

    def shaping(self, ids: tuple[str, ...]) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
        """The readings and notes behind the decision-makers `ids` (unknown ids add nothing): each once, in the
        policy's order, as (id, words in the reader's language)."""
        readings: set[str] = set()
        notes: set[str] = set()
        for i in ids:
            r, n = self.shapers.get(i, ((), ()))
            readings.update(r)
            notes.update(n)
        return (
            tuple((k, v) for k, v in self.reading_words.items() if k in readings),
            tuple((k, v) for k, v in self.note_words.items() if k in notes),
        )

    def _base_types(self) -> dict[tuple[str, str], tuple[str | None, FactSpec | None]]:
        """(item type, expression) -> its type and, when it is one fact, that fact's declaration: for each base
        an amount form computes from (`of`, `count`), so that `base_value` shows it in its own form."""
        out: dict[tuple[str, str], tuple[str | None, FactSpec | None]] = {}
        for rule in self.policy.rules:
            forms = [rule.amount]
            while forms:
                form = forms.pop()
                if form is None:
                    continue
                forms.extend(getattr(form, "parts", ()))
                for expression in (getattr(form, "of", None), getattr(form, "count", None)):
                    if expression is None:
                        continue
                    spec = None
                    if expression.facts == (expression.source,):
                        ns, _, short = expression.source.partition(".")
                        spec = self.fact_specs.get((ns, rule.item_type if ns == "item" else None, short))
                    out[(rule.item_type, expression.source)] = (spec.type if spec is not None else expression.type, spec)
        return out

    def base_value(self, expression: str, item_type: str | None, value: Any, cites: str | None = None) -> str:
        """The value of an amount form's base (`of`, `count`) or a band's start, in the base's own form: a count
        as "35 件", money as money (what a base of unknown type is shown as)."""
        ftype, spec = self.base_types.get((item_type or "", expression), (None, None))
        if ftype not in QUANTITY_TYPES:  # a base whose type cannot be told: a count of units as it is, else money
            ftype = "integer" if isinstance(value, int) and not isinstance(value, bool) else "money"
        return self.quantity(ftype, value, spec, cites)

    def quantity(self, ftype: str | None, value: Any, spec: FactSpec | None = None, cites: str | None = None) -> str:
        """A number in its own form, by its type: money "1,234.50 元" (万元 where the clause cited writes 万元),
        percent "4.35%" (the fraction 0.0435 shown with the fact's places), count "3 件" / "3 items" (the
        fact's unit), decimal "0.6500" (its places), integer and plain numbers as they are."""
        d = to_decimal(value)
        if d is None or ftype not in QUANTITY_TYPES:
            return "" if value is None else str(value)
        if ftype == "money":
            return self.money(d, cites)
        places = spec.places if spec is not None else None
        if ftype == "percent":
            n = d.scaleb(2)
            shown = n.quantize(Decimal(1).scaleb(-places)) if places is not None else n.normalize()
            return fill(self.meta["percent"], {"n": f"{shown:f}"})
        if ftype == "decimal":
            return f"{d.quantize(Decimal(1).scaleb(-places)) if places is not None else d:f}"
        whole = d.to_integral_value() if d == d.to_integral_value() else d  # a band's start is recorded as 30.00
        if ftype == "count" and spec is not None and spec.unit is not None:
            return fill(self.meta["count"], {"n": f"{whole:f}", "unit": self.label(spec.unit)})
        return f"{whole:f}"

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
        """`item.annual_interest_paid` -> the policy's words for that fact; `param.<name>@<date>` (a dated parameter
        with no value on that date) -> the parameter's words and the date."""
        ns, _, short = name.partition(".")
        if ns == "param":
            pname, _, day = short.partition("@")
            parameter = self.policy.parameters.get(pname)
            label = self.label(parameter.label) if parameter is not None else pname
            return fill(str(self.catalogue.m["param_missing"]), {"label": label, "date": day})
        if ns == "item":
            found = self.facts.get(("item", item_type, short)) or self.facts.get(("item", None, short))
            if found is None and item_type is None:  # (a computed ceiling's words: the first item type declaring it)
                found = next((v for (n, _t, f), v in self.facts.items() if n == "item" and f == short), None)
            return found or name
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
        """A fact's value in the reader's words: each number in its own form (`quantity`), the claim's funding year as a
        year (`2021 年度`), codes by their labels, yes/no."""
        if value is None:
            return str(self.catalogue.m["fact_absent"])
        ns, _, short = name.partition(".")
        key = (ns, item_type if ns == "item" else None, short)
        ftype = self.fact_types.get(key)
        if key == FUNDING_YEAR and type(value) is int:  # 申报年度为 2021 年度, as the header's 申报年度：2021 年度
            return self.year_fmt(year=value)
        if ftype in QUANTITY_TYPES:
            return self.quantity(ftype, value, self.fact_specs.get(key))
        if isinstance(value, list):
            if ftype == "document_list":
                return str(self.meta["list_sep"]).join(self.docs.get(v, str(v)) for v in value)
            return str(self.meta["list_sep"]).join(self.value_label(name, item_type, v) for v in value)
        return self.value_label(name, item_type, value)

    def shown_value(self, vtype: str | None, value: Any) -> str:
        """A value a check shows (`shows:`), as its decision's JSON records it, in words by its expression's type: a
        date as written (2022-03-15), a number in its own form (`quantity`), yes/no, a list joined."""
        if isinstance(value, bool):
            return str(self.meta["yes_word"] if value else self.meta["no_word"])
        if isinstance(value, list):
            return str(self.meta["list_sep"]).join(self.shown_value(None, v) for v in value)
        if vtype in QUANTITY_TYPES:
            return self.quantity(vtype, value)
        return "" if value is None else str(value)

    def policy_info(self) -> PolicyInfo:
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

    def money(self, value: Any, cites: str | None = None) -> str:
        """`Decimal("120000.00")` or `"120000.00"` -> `120,000.00 元`; `12 万元` where the clause cited writes its
        amounts in 万元. A Decimal of the trace is formatted once and kept (bounded)."""
        if cites is None and type(value) is Decimal:  # the common case first: an amount of the trace, kept
            # kept by its text: a Decimal's hash is computed once per object (~0.6 µs: a modular power), and the
            # trace's amounts are fresh objects; equal texts are equal Decimals with the same exponent
            key = str(value)
            text = self.money_cache.get(key)
            if text is not None:
                return text
        else:
            key = None
        if type(value) is not Decimal:
            by_text = cites is None and type(value) is str  # an amount of a recorded decision: kept by its text
            if by_text:
                text = self.money_texts.get(value)
                if text is not None:
                    return text
            d = to_decimal(value)
            if d is None:
                return "" if value is None else str(value)
            if cites and d and cites in self.wan_cites and d % TEN_THOUSAND == 0:
                return self.wan_fmt(n=f"{d / TEN_THOUSAND:,.0f}")
            text = self.money_fmt(n=f"{d.quantize(CENT):,}")
            if by_text:
                if len(self.money_texts) >= MONEY_CACHE:
                    self.money_texts.clear()
                self.money_texts[value] = text
            return text
        if not value:  # 0 and -0 are equal keys but print differently: by the sign
            return self.zero_texts["-" if value.is_signed() else ""]
        if cites is not None and cites in self.wan_cites and value % TEN_THOUSAND == 0:
            return self.wan_fmt(n=f"{value / TEN_THOUSAND:,.0f}")
        if key is None:
            key = str(value)
            text = self.money_cache.get(key)
            if text is not None:
                return text
        if len(self.money_cache) >= MONEY_CACHE:
            self.money_cache.clear()
        text = self.money_cache[key] = self.money_grouped(n=value.quantize(CENT))
        return text

    def percent(self, value: Any) -> str:
        """`"0.5"` -> `50%`."""
        d = to_decimal(value)
        if d is None:
            return str(value)
        n = (d * 100).normalize()
        return fill(self.meta["percent"], {"n": f"{n:f}"})
