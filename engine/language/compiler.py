"""Stage 2b + 3, semantic checks and compile: a schema-valid document into a `CompiledPolicy`.

The checks a schema cannot express happen here, while compiling, because
compiling an expression is how we learn which facts and functions it names.
Every problem is collected with its position; nothing is compiled lazily.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.core.errors import Problem
from engine.core.quantities import MAX_AMOUNT, MAX_COUNT, QuantityError, parse_amount, parse_rate
from engine.language.expressions import (
    ARGUMENT_TYPES,
    FUNCTION_DOCS,
    NAMESPACES,
    CompiledExpression,
    ExpressionError,
    compile_expression,
    suggest,
)
from engine.language.model import (
    RECORDABLE_LIST_TYPES,
    RECORDABLE_TYPES,
    AmountForm,
    Band,
    BandsAmount,
    BudgetRounding,
    Cap,
    Clause,
    CompiledPolicy,
    DocumentCheck,
    DocumentNeed,
    ExternalAmount,
    FactSpec,
    FixedAmount,
    LeastAmount,
    Limit,
    Note,
    PerUnitAmount,
    RateAmount,
    Rule,
    Subject,
    TableAmount,
    Test,
    Text,
)
from engine.language.source import FileRefused, Source, read_beside

Path_ = tuple[str | int, ...]

DEFAULT_REFUSAL_ORDER = ("standing", "scope", "time", "double_benefit", "condition", "limit", "cap", "documents")


def _text(d: dict[str, str] | None) -> Text | None:
    return Text(d["zh"], d["en"]) if d else None


def _budget_rounding(budget: dict[str, Any], quantum: Decimal) -> BudgetRounding:
    """A round budget's rounding; defaults: the policy's quantum, floor, largest remainder."""
    r = budget.get("rounding") or {}
    return BudgetRounding(
        Decimal(r["quantum"]) if "quantum" in r else quantum, r.get("mode", "floor"), r.get("remainder", "largest_remainder")
    )


#: a template name a policy may no longer replace (docs/explanations.md, "Policy templates")
RETIRED_TEMPLATE = "_lines.j2"


def _names_a_file(value: str) -> bool:
    """A template override given as a file name (`bureau/explain.md.j2`) rather than as the template's text:
    one line, no template syntax, ending in `.j2` -- or looking like a path (`/...`, `~...`, `./`, `../`), which
    is then refused by the confinement rules instead of being shown as text."""
    v = value.strip()
    return "\n" not in v and "{" not in v and (v.endswith(".j2") or v.startswith(("/", "~", "./", "../")))


class _Compiler:
    def __init__(self, source: Source) -> None:
        self.src = source
        self.doc: dict[str, Any] = source.data
        self.problems: list[Problem] = []
        self.ids: dict[str, Path_] = {}

    # --- helpers -------------------------------------------------------------

    def error(self, path: Path_, message: str, expected: str | None = None, code: str = "semantic") -> None:
        self.problems.append(self.src.problem(path, message, expected=expected, code=code))

    def unique_id(self, ident: str, path: Path_, what: str) -> None:
        if ident in self.ids:
            line, _ = self.src.where(self.ids[ident])
            self.error(
                path,
                f"duplicate {what} id {ident!r} (already used at line {line})",
                "ids unique across rules, checks, caps and limits",
                code="duplicate_id",
            )
        else:
            self.ids[ident] = path

    def citation(self, cites: str | None, path: Path_) -> str:
        if cites is None:
            return ""
        if cites not in self.doc["clauses"]:
            close = suggest(cites, self.doc["clauses"])
            self.error(
                path,
                f"citation {cites!r} points at no clause of the clause table",
                f"{close!r}" if close else "a key of `clauses`",
                code="unknown_citation",
            )
        return cites

    def amount(self, value: Any, path: Path_) -> Decimal:
        try:
            amount = parse_amount(value)
        except QuantityError as exc:
            self.error(path, f"{exc}", f"a number of yuan (120000), or 万 notation (12万), at most {MAX_AMOUNT}", code="amount")
            return Decimal(0)
        quantum = self.quantum()
        if quantum is not None and amount % quantum != 0:
            # a ceiling or budget finer than money is paid in could never be reached exactly (nor scaled to)
            self.error(path, f"{value} is finer than the policy's rounding quantum {quantum}", f"a multiple of {quantum}", code="amount")
        return amount

    def quantum(self) -> Decimal | None:
        try:
            q = Decimal(str(self.doc["policy"]["rounding"]["quantum"]))
        except (KeyError, TypeError, ArithmeticError):
            return None  # the schema reports it
        return q if q.is_finite() and q > 0 else None

    def rate(self, value: Any, path: Path_) -> Decimal:
        try:
            return parse_rate(value)
        except QuantityError as exc:
            self.error(path, f"{exc}", "a rate such as 50% or 0.5", code="rate")
            return Decimal(0)

    def codes(self, values: Iterable[str], allowed: dict[str, Any], path: Path_, what: str) -> frozenset[str]:
        out = []
        for i, value in enumerate(values):
            if value not in allowed:
                close = suggest(value, allowed)
                hint = f"did you mean {close!r}? " if close else ""
                self.error(
                    path + (i,),
                    f"unknown {what} {value!r}",
                    hint + f"one of: {', '.join(allowed)}",
                    code=f"unknown_{what.replace(' ', '_')}",
                )
            else:
                out.append(value)
        return frozenset(out)

    # --- facts ---------------------------------------------------------------

    def fact_table(self, table: dict[str, Any], path: Path_) -> dict[str, FactSpec]:
        out = {}
        for name, spec in table.items():
            values: tuple[str, ...] | None = None
            ftype = spec["type"]
            if "values" in spec:
                values = tuple(spec["values"])
            elif "values_from" in spec:
                values = tuple(self.doc.get(spec["values_from"], {}))
            elif ftype in ("enum", "enum_list"):
                self.error(path + (name,), f"fact {name!r} is an enum without values", "`values:` or `values_from:`")
            if ftype == "document_list":
                values = tuple(self.doc.get("documents", {}))
            has_default = "default" in spec
            if ftype == "date_list" and spec.get("default", []) not in ([], None):
                # a default is not converted like a claim's value: only "none" can be written safely
                self.error(path + (name, "default"), f"the default of date_list fact {name!r} can only be [] or null", "default: []")
            on_record = spec.get("on_record", "fills")
            if "on_record" in spec and path != ("facts", "applicant"):
                self.error(
                    path + (name, "on_record"), "on_record applies to applicant facts only (the ledger records facts about applicants)"
                )
            elif "on_record" in spec and ftype not in RECORDABLE_TYPES | RECORDABLE_LIST_TYPES:
                self.error(
                    path + (name, "on_record"),
                    f"a ledger cannot hold a {ftype} fact on record",
                    "a fact of type " + ", ".join(sorted(RECORDABLE_TYPES | RECORDABLE_LIST_TYPES)),
                )
            bounds = self.fact_bounds(spec, path + (name,))
            out[name] = FactSpec(
                name=name,
                type=ftype,
                label=Text(spec["zh"], spec["en"]),
                required=spec.get("required", True) and not has_default,
                has_default=has_default,
                default=spec.get("default"),
                values=values,
                format=spec.get("format"),
                minimum=bounds[0],
                maximum=bounds[1],
                record_only=spec.get("record_only", False),
                on_record=on_record,
            )
        return out

    def fact_bounds(self, spec: dict[str, Any], path: Path_) -> tuple[Decimal | None, Decimal | None]:
        """Declared `minimum` / `maximum` of an integer or money fact."""
        out: list[Decimal | None] = []
        for key in ("minimum", "maximum"):
            if key not in spec:
                out.append(None)
                continue
            if spec["type"] not in ("integer", "money"):
                self.error(path + (key,), f"{key} only applies to integer and money facts, not {spec['type']}", "no bound")
                out.append(None)
                continue
            value = self.amount(spec[key], path + (key,))
            if spec["type"] == "integer" and value != value.to_integral_value():
                self.error(path + (key,), f"{key} of an integer fact must be a whole number, not {value}", "a whole number")
            out.append(value)
        low, high = out
        if low is not None and high is not None and low > high:
            self.error(path + ("maximum",), f"maximum {high} is below minimum {low}", f"a maximum of at least {low}")
        return low, high

    def item_tables(self, item_types: Iterable[str] | None, allow_item: bool) -> list[tuple[str, dict[str, FactSpec]]]:
        if not allow_item:
            return []
        if item_types is None:
            return [("every item", self.common_item_facts)]
        return [(t, self.item_facts.get(t, {})) for t in item_types]

    def fact_types(self, item_types: Iterable[str] | None, allow_item: bool = True) -> Any:
        """The declared types of a fact, for expressions that see these item types: what `*` may not repeat."""
        item_tables = self.item_tables(item_types, allow_item)

        def types(namespace: str, fact: str) -> tuple[str, ...]:
            if namespace == "item":
                return tuple(table[fact].type for _, table in item_tables if fact in table)
            table = self.claim_facts if namespace == "claim" else self.applicant_facts
            return (table[fact].type,) if fact in table else ()

        return types

    def resolver(self, item_types: Iterable[str] | None, allow_item: bool = True) -> Any:
        """A fact resolver for expressions that see these item types (None: the common item facts)."""
        item_tables = self.item_tables(item_types, allow_item)

        def resolve(namespace: str, fact: str) -> tuple[str, str | None] | None:
            if namespace == "item":
                if not allow_item:
                    return (f"item.{fact}: item facts cannot be used in an applicant-level check", "use applicant.* or claim.*")
                for type_name, table in item_tables:
                    if fact not in table:
                        close = suggest(fact, table)
                        hint = f"did you mean item.{close}? " if close else ""
                        return (f"unknown fact item.{fact} (for {type_name})", hint + f"facts of {type_name}: {', '.join(sorted(table))}")
                return None
            table = self.claim_facts if namespace == "claim" else self.applicant_facts
            if fact not in table:
                close = suggest(fact, table)
                hint = f"did you mean {namespace}.{close}? " if close else ""
                return (f"unknown fact {namespace}.{fact}", hint + f"{namespace} facts: {', '.join(sorted(table))}")
            return None

        return resolve

    def expr(self, source: Any, path: Path_, item_types: Iterable[str] | None, allow_item: bool = True) -> CompiledExpression | None:
        types = list(item_types) if item_types is not None else None
        line, _ = self.src.where(path)
        try:
            compiled = compile_expression(
                source, self.resolver(types, allow_item), f"{self.src.file}:{line}", self.fact_types(types, allow_item)
            )
        except ExpressionError as exc:
            self.error(path, f"{exc.message} in {source!r}", exc.hint, code="expression")
            return None
        self.check_enum_literals(compiled, path, types)
        if any(name in compiled.source for name in ARGUMENT_TYPES):
            self.check_argument_types(compiled, path, types)
        return compiled

    def fact_specs(self, namespace: str, name: str, item_types: list[str] | None) -> list[FactSpec]:
        """The declarations a fact reference may mean (an item fact: one per item type the expression sees)."""
        if namespace == "item":
            tables = [self.item_facts.get(t, {}) for t in item_types] if item_types is not None else [self.common_item_facts]
            return [t[name] for t in tables if name in t]
        table = self.claim_facts if namespace == "claim" else self.applicant_facts
        return [table[name]] if name in table else []

    def check_argument_types(self, compiled: CompiledExpression, path: Path_, item_types: list[str] | None) -> None:
        """A fact given straight to a function that declares its argument types (`ARGUMENT_TYPES`) has such a type."""
        for node in ast.walk(ast.parse(compiled.source, mode="eval")):  # already checked: small and shallow
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ARGUMENT_TYPES):
                continue
            for arg, allowed in zip(node.args, ARGUMENT_TYPES[node.func.id], strict=False):
                if not (isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id in NAMESPACES):
                    continue
                for spec in self.fact_specs(arg.value.id, arg.attr, item_types):
                    if spec.type not in allowed:
                        self.error(
                            path,
                            f"{node.func.id}() needs a {' or '.join(sorted(allowed))} fact here; {arg.value.id}.{arg.attr} is a {spec.type}",
                            FUNCTION_DOCS.get(node.func.id),
                            code="expression",
                        )

    def check_enum_literals(self, compiled: CompiledExpression, path: Path_, item_types: list[str] | None) -> None:
        for fact, literals in compiled.compares:
            namespace, name = fact.split(".", 1)
            for spec in self.fact_specs(namespace, name, item_types):
                if spec.values is None:
                    continue
                for literal in literals:
                    if literal not in spec.values:
                        close = suggest(literal, spec.values)
                        hint = f"did you mean {close!r}? " if close else ""
                        self.error(
                            path, f"{fact} is never {literal!r}", hint + f"values of {fact}: {', '.join(spec.values)}", code="unknown_value"
                        )

    # --- the document --------------------------------------------------------

    def compile(self) -> CompiledPolicy | None:
        doc = self.doc
        head = doc["policy"]
        self.vocabulary(doc)

        fy = head["in_force"]["funding_years"]
        if fy["from"] > fy["to"]:
            self.error(("policy", "in_force", "funding_years"), f"window starts ({fy['from']}) after it ends ({fy['to']})")
        in_force_cites = self.citation(head["in_force"].get("cites"), ("policy", "in_force", "cites"))
        notes = tuple(Note(n["id"], Text(n["zh"], n["en"])) for n in head.get("notes", []))
        self.note_ids = {n.id for n in notes}

        clauses = {key: Clause(key, c.get("article", key), c["text"], c["en"], c["computable"]) for key, c in doc["clauses"].items()}
        self.check_source_text(clauses)
        templates = self.templates()

        shared_caps = {c["id"]: (c, ("shared_caps", i)) for i, c in enumerate(doc.get("shared_caps", [])) if "id" in c}
        shared_limits = {c["id"]: (c, ("shared_limits", i)) for i, c in enumerate(doc.get("shared_limits", [])) if "id" in c}
        for section in ("shared_caps", "shared_limits"):
            for i, c in enumerate(doc.get(section, [])):
                if "id" not in c:
                    self.error(
                        (section, i), f"an entry of {section} must define the cap or limit itself", "id, max/times and per", code="shared"
                    )
                else:
                    self.unique_id(c["id"], (section, i, "id"), section[7:-1])
        self.compiled_caps: dict[str, Cap] = {}
        self.compiled_limits: dict[str, Limit] = {}

        applicant_checks, applicant_doc_checks, item_checks, item_doc_checks = self.checks(doc)

        rules, rules_by_type = self.rules(doc, shared_caps, shared_limits, item_checks, item_doc_checks)

        budget = head.get("round_budget")
        budget_amount = self.budget(budget) if budget else None
        if self.problems:
            return None
        quantum = Decimal(head["rounding"]["quantum"])
        return CompiledPolicy(
            id=head["id"],
            version=str(head["version"]),
            title=Text(head["title"]["zh"], head["title"]["en"]),
            file=self.src.file,
            content_hash="sha256:" + hashlib.sha256(self.src.text.encode("utf-8")).hexdigest(),
            funding_years=(fy["from"], fy["to"]),
            in_force_cites=in_force_cites or None,
            in_force_assumption=_text(head["in_force"].get("assumption")),
            quantum=quantum,
            rounding=head["rounding"]["mode"],
            refusal_order=tuple(head.get("refusal_order", DEFAULT_REFUSAL_ORDER)),
            clauses=clauses,
            applicant_kinds={k: Text(v["zh"], v["en"]) for k, v in doc["applicant_kinds"].items()},
            applicant_roles={k: Text(v["zh"], v["en"]) for k, v in doc.get("applicant_roles", {}).items()},
            documents={k: Text(v["zh"], v["en"]) for k, v in doc.get("documents", {}).items()},
            claim_facts=self.claim_facts,
            applicant_facts=self.applicant_facts,
            item_facts=self.item_facts,
            item_type_labels={k: Text(v["zh"], v["en"]) for k, v in doc["item_types"].items()},
            applicant_checks=tuple(applicant_checks),
            applicant_document_checks=tuple(applicant_doc_checks),
            rules=tuple(rules),
            rules_by_type=rules_by_type,
            notes=notes,
            round_budget=budget_amount,
            round_budget_rounding=_budget_rounding(budget, quantum) if budget else None,
            documents_cites=self.citation(head.get("documents_cites"), ("policy", "documents_cites")) or None,
            templates=templates,
            data=doc,
            base_dir=str(Path(self.src.file).resolve().parent),
            funding_years_line=self.src.where(("policy", "in_force", "funding_years"))[0],
        )

    def vocabulary(self, doc: dict[str, Any]) -> None:
        """The fact tables: claim, applicant, every item's and each item type's own."""
        self.claim_facts = self.fact_table(doc["facts"]["claim"], ("facts", "claim"))
        self.applicant_facts = self.fact_table(doc["facts"]["applicant"], ("facts", "applicant"))
        self.common_item_facts = self.fact_table(doc["item_facts"], ("item_facts",))
        self.item_facts: dict[str, dict[str, FactSpec]] = {}
        for type_name, spec in doc["item_types"].items():
            own = self.fact_table(spec["facts"], ("item_types", type_name, "facts"))
            for clash in set(own) & set(self.common_item_facts):
                self.error(("item_types", type_name, "facts", clash), f"fact {clash!r} is already a fact of every item", "a new name")
            self.item_facts[type_name] = {**self.common_item_facts, **own}
        for required in ("id", "type"):
            if required not in self.common_item_facts:
                self.error(("item_facts",), f"item_facts must define {required!r}", f"an `{required}` fact")
        for required in ("id", "kind"):
            if required not in self.applicant_facts:
                self.error(("facts", "applicant"), f"applicant facts must define {required!r}", f"an `{required}` fact")

    def checks(self, doc: dict[str, Any]) -> tuple[list[Test], list[DocumentCheck], list[Test], list[DocumentCheck]]:
        """The cross-cutting checks: applicant checks, applicant document checks, item checks, item document checks."""
        applicant_checks: list[Test] = []
        applicant_doc_checks: list[DocumentCheck] = []
        item_checks: list[Test] = []
        item_doc_checks: list[DocumentCheck] = []
        for i, check in enumerate(doc.get("checks", [])):
            path: Path_ = ("checks", i)
            self.unique_id(check["id"], path + ("id",), "check")
            cites = self.citation(check["cites"], path + ("cites",))
            kinds = self.codes(check["who"], doc["applicant_kinds"], path + ("who",), "applicant kind") if "who" in check else None
            level = check["level"]
            types = None
            if "applies_to" in check:
                if level == "applicant":
                    self.error(path + ("applies_to",), "applies_to makes no sense on an applicant-level check", "level: item")
                types = self.codes(check["applies_to"], doc["item_types"], path + ("applies_to",), "item type")
            says = Text(check["says"]["zh"], check["says"]["en"])
            readings = tuple(check.get("readings", ()))
            self.note_refs(check, path)
            if "test" in check:
                e = self.expr(check["test"], path + ("test",), sorted(types) if types is not None else None, allow_item=level == "item")
                if e is None:
                    continue
                test = Test(check["id"], cites, check["category"], e, says, readings, kinds, types)
                (applicant_checks if level == "applicant" else item_checks).append(test)
            else:
                needs = self.document_needs(check["documents"], path + ("documents",), types, level == "item")
                dc = DocumentCheck(check["id"], cites, needs, says, readings, kinds, types, check["category"])
                (applicant_doc_checks if level == "applicant" else item_doc_checks).append(dc)
        return applicant_checks, applicant_doc_checks, item_checks, item_doc_checks

    def rules(
        self,
        doc: dict[str, Any],
        shared_caps: dict[str, Any],
        shared_limits: dict[str, Any],
        item_checks: list[Test],
        item_doc_checks: list[DocumentCheck],
    ) -> tuple[list[Rule], dict[str, Rule]]:
        """The rules, one per item type; an item type with no rule and a shared cap or limit no rule uses are errors."""
        rules: list[Rule] = []
        rules_by_type: dict[str, Rule] = {}
        used_shared: set[str] = set()
        for i, r in enumerate(doc["rules"]):
            rule = self.rule(r, ("rules", i), shared_caps, shared_limits, used_shared, item_checks, item_doc_checks)
            if rule is None:
                continue
            if rule.item_type in rules_by_type:
                self.error(
                    ("rules", i, "item_type"),
                    f"item type {rule.item_type!r} already decided by rule {rules_by_type[rule.item_type].id!r}",
                    "exactly one rule per item type",
                    code="duplicate_item_type",
                )
                continue
            rules.append(rule)
            rules_by_type[rule.item_type] = rule
        for type_name in doc["item_types"]:
            if type_name not in rules_by_type and not any(p.path[:1] == ("rules",) for p in self.problems):
                self.error(("item_types", type_name), f"item type {type_name!r} has no rule", "a rule with this item_type", code="no_rule")
        for name, (_, path) in {**shared_caps, **shared_limits}.items():
            if name not in used_shared:
                self.error(
                    path,
                    f"shared cap/limit {name!r} is used by no rule: a cap on nothing",
                    "a rule listing {shared: " + name + "}",
                    code="cap_on_nothing",
                )
        return rules, rules_by_type

    def budget(self, budget: dict[str, Any]) -> Decimal:
        """The round budget, a whole number of its scaling quantum."""
        budget_amount = self.amount(budget["amount"], ("policy", "round_budget", "amount"))
        self.citation(budget.get("cites"), ("policy", "round_budget", "cites"))
        b_quantum = (budget.get("rounding") or {}).get("quantum")
        if b_quantum is not None and budget_amount % Decimal(str(b_quantum)) != 0:
            self.error(
                ("policy", "round_budget", "amount"),
                f"the budget {budget['amount']} is not a whole number of the scaling quantum {b_quantum}",
                f"a multiple of {b_quantum}",
                code="amount",
            )
        return budget_amount

    def note_refs(self, node: dict[str, Any], path: Path_) -> None:
        for j, ref in enumerate(node.get("notes", [])):
            if ref not in self.note_ids:
                self.error(path + ("notes", j), f"note {ref!r} is not among policy.notes", ", ".join(sorted(self.note_ids)) or "a note id")

    def base_dir(self) -> Path:
        return Path(self.src.file).resolve().parent

    def check_source_text(self, clauses: dict[str, Clause]) -> None:
        rel = self.doc["policy"].get("source_text")
        if not rel:
            return
        try:
            text = read_beside(self.base_dir(), rel)
        except FileRefused as exc:
            why = "" if exc.code == "io" else f": {exc.message}"  # a missing file: the message it always had
            self.error(
                ("policy", "source_text"),
                f"source text {rel!r} cannot be read{why}",
                "a path to a UTF-8 text file in the policy's folder, relative to the policy file",
            )
            return
        for key, clause in clauses.items():
            if clause.text not in text:
                self.error(
                    ("clauses", key, "text"),
                    f"clause {key} text is not verbatim in {rel}",
                    "the exact words of the measures",
                    code="clause_text",
                )

    def templates(self) -> dict[str, dict[str, str]]:
        """The `templates:` overrides, each `.j2` one as its text: a file it names read (confined to the
        policy's folder) and every template compiled in the sandbox now, so that a bad one is a load error."""
        overrides: dict[str, dict[str, str]] = self.doc.get("templates") or {}
        if not overrides:
            return {}
        from engine.language.templating import (
            MAX_TEMPLATE_CHARS,
            MAX_TEMPLATES_CHARS,
            check_template,
            engine_template_names,
            message_problems,
        )

        out: dict[str, dict[str, str]] = {}
        for scope, entries in overrides.items():
            out[scope] = {}
            for key, value in entries.items():
                path = ("templates", scope, key)
                if key == RETIRED_TEMPLATE:
                    self.error(
                        path,
                        f"template {key!r}: the engine's explanations no longer take their sentences from {key!r} (one "
                        "explanation builder, issue 12): change a sentence by overriding its catalogue message (e.g. "
                        "`calc_rate: ...`), or keep your macros in a template of your own under another name (e.g. "
                        "`my_lines.j2`) and import that from your own explain.txt.j2 / explain.md.j2",
                        "a catalogue message key, or a template name other than _lines.j2",
                        code="template",
                    )
                    continue
                if not key.endswith(".j2"):
                    for message in message_problems(value):
                        self.error(path, f"message {key!r}: {message}", code="template")
                    out[scope][key] = value
                    continue
                if _names_a_file(value):  # a file in the policy's folder
                    try:
                        value = read_beside(self.base_dir(), value.strip(), max_bytes=MAX_TEMPLATE_CHARS * 4)
                    except FileRefused as exc:
                        self.error(path, f"template {key!r}: {exc.message}", "a path to a .j2 file in the policy's folder", code="template")
                        continue
                out[scope][key] = value
        total = sum(len(v) for entries in out.values() for k, v in entries.items() if k.endswith(".j2"))
        if total > MAX_TEMPLATES_CHARS:  # compiling takes about a second per 50,000 characters: not checked one by one
            self.error(
                ("templates",),
                f"the policy's templates add up to {total} characters, more than the limit of {MAX_TEMPLATES_CHARS} (MAX_TEMPLATES_CHARS)",
                code="template",
            )
            return out
        engine = engine_template_names()
        for scope, entries in out.items():
            # what a template of this scope may include: the engine's, the policy's for every language, its own language's
            known = engine | {k for k in out.get("all", {}) if k.endswith(".j2")} | {k for k in entries if k.endswith(".j2")}
            for key, value in entries.items():
                if key.endswith(".j2"):
                    for message, line in check_template(value, key, known):
                        where = f"line {line} of the template: " if line is not None else ""
                        self.error(
                            ("templates", scope, key),
                            f"template {key!r}: {where}{message}",
                            "a jinja2 template using the engine's names and filters (see docs/explanations.md)",
                            code="template",
                        )
        return out

    def document_needs(self, needs: list[Any], path: Path_, item_types: Iterable[str] | None, allow_item: bool) -> tuple[DocumentNeed, ...]:
        out = []
        types = sorted(item_types) if item_types is not None else None
        for j, need in enumerate(needs):
            code = need if isinstance(need, str) else need["doc"]
            if code not in self.doc.get("documents", {}):
                close = suggest(code, self.doc.get("documents", {}))
                self.error(
                    path + (j,) if isinstance(need, str) else path + (j, "doc"),
                    f"unknown document {code!r}",
                    (f"did you mean {close!r}? " if close else "") + "a key of `documents`",
                    code="unknown_document",
                )
                continue
            when = None
            if isinstance(need, dict) and "when" in need:
                when = self.expr(need["when"], path + (j, "when"), types, allow_item)
            out.append(DocumentNeed(code, when))
        return tuple(out)

    def shared_scope(self, c: dict[str, Any], path: Path_, item_type: str) -> None:
        """A shared cap or limit is compiled once; its scope must also make sense for every other item type using it."""
        for field in ("per", "counting"):
            if isinstance(c.get(field), list):
                for k, e in enumerate(c[field]):
                    self.expr(e, path + (field, k), [item_type])

    def cap(self, c: dict[str, Any], path: Path_, item_type: str, rule_cites: str, shared: dict[str, Any], used: set[str]) -> Cap | None:
        if "shared" in c:
            name = c["shared"]
            if name not in shared:
                self.error(path + ("shared",), f"no shared cap {name!r}", "an id of shared_caps")
                return None
            used.add(name)
            c, path = shared[name]
            if name in self.compiled_caps:
                self.shared_scope(c, path, item_type)
                return self.compiled_caps[name]
        else:
            self.unique_id(c["id"], path + ("id",), "cap")
        self.note_refs(c, path)
        per: tuple[CompiledExpression, ...] | None
        if c["per"] == "item":
            per = None
        else:
            if not c["per"]:
                self.error(
                    path + ("per",),
                    "a cap with an empty scope is a cap on nothing",
                    "per: [applicant.id, ...] or per: item",
                    code="cap_on_nothing",
                )
                return None
            compiled = [self.expr(e, path + ("per", k), [item_type]) for k, e in enumerate(c["per"])]
            if any(e is None for e in compiled):
                return None
            per = tuple(e for e in compiled if e is not None)
        cap = Cap(
            id=c["id"],
            ceiling=self.amount(c["max"], path + ("max",)),
            per=per,
            cites=self.citation(c.get("cites"), path + ("cites",)) or rule_cites,
            says=_text(c.get("says")) or Text("", ""),
            readings=tuple(c.get("readings", ())),
        )
        self.compiled_caps[cap.id] = cap
        return cap

    def limit(
        self, c: dict[str, Any], path: Path_, item_type: str, rule_cites: str, shared: dict[str, Any], used: set[str]
    ) -> Limit | None:
        if "shared" in c:
            name = c["shared"]
            if name not in shared:
                self.error(path + ("shared",), f"no shared limit {name!r}", "an id of shared_limits")
                return None
            used.add(name)
            c, path = shared[name]
            if name in self.compiled_limits:
                self.shared_scope(c, path, item_type)
                return self.compiled_limits[name]
        else:
            self.unique_id(c["id"], path + ("id",), "limit")
        self.note_refs(c, path)
        if not c["per"]:
            self.error(
                path + ("per",), "a limit with an empty scope is a limit on nothing", "per: [applicant.id, ...]", code="cap_on_nothing"
            )
            return None
        per = [self.expr(e, path + ("per", k), [item_type]) for k, e in enumerate(c["per"])]
        counting = [self.expr(e, path + ("counting", k), [item_type]) for k, e in enumerate(c.get("counting", []))]
        if any(e is None for e in per + counting):
            return None
        limit = Limit(
            id=c["id"],
            times=c["times"],
            per=tuple(e for e in per if e is not None),
            counting=tuple(e for e in counting if e is not None) or None,
            cites=self.citation(c.get("cites"), path + ("cites",)) or rule_cites,
            says=_text(c.get("says")) or Text("", ""),
            readings=tuple(c.get("readings", ())),
        )
        self.compiled_limits[limit.id] = limit
        return limit

    def amount_form(self, a: dict[str, Any], path: Path_, item_type: str) -> AmountForm | None:
        t = [item_type]
        if "rate" in a:
            of = self.expr(a["of"], path + ("of",), t)
            return RateAmount(self.rate(a["rate"], path + ("rate",)), of) if of else None
        if "fixed" in a:
            return FixedAmount(self.amount(a["fixed"], path + ("fixed",)))
        if "table" in a:
            by = self.expr(a["by"], path + ("by",), t)
            table = {str(k): self.amount(v, path + ("table", k)) for k, v in a["table"].items()}
            if by is not None and len(by.facts) == 1 and by.source == by.facts[0]:
                spec = self.item_facts.get(item_type, {}).get(by.facts[0].split(".", 1)[1])
                if spec is not None and spec.values is not None:
                    missing = [v for v in spec.values if v not in table]
                    extra = [k for k in table if k not in spec.values]
                    if missing:
                        self.error(
                            path + ("table",), f"table has no amount for {', '.join(missing)}", f"an amount for every value of {by.source}"
                        )
                    for k in extra:
                        self.error(
                            path + ("table", k), f"{by.source} is never {k!r}", f"values: {', '.join(spec.values)}", code="unknown_value"
                        )
            return TableAmount(by, table) if by else None
        if "external" in a:
            src = self.expr(a["external"], path + ("external",), t)
            return ExternalAmount(src, _text(a.get("pending"))) if src else None
        if "bands" in a:
            of = self.expr(a["of"], path + ("of",), t)
            bands = []
            for n, b in enumerate(a["bands"]):
                bp = path + ("bands", n)
                bands.append(
                    Band(
                        self.amount(b["from"], bp + ("from",)),
                        self.amount(b["amount"], bp + ("amount",)) if "amount" in b else None,
                        self.rate(b["rate"], bp + ("rate",)) if "rate" in b else None,
                    )
                )
            starts = [b.start for b in bands]
            if starts != sorted(starts) or len(set(starts)) != len(starts):
                self.error(path + ("bands",), "bands must be in increasing order of `from`", "from: 0, then larger starts")
            return BandsAmount(of, tuple(bands)) if of else None
        if "per_unit" in a:
            count = self.expr(a["count"], path + ("count",), t)
            max_count = a.get("max_count")
            if max_count is not None and max_count > MAX_COUNT:  # it could never bind, and per_unit x it outgrows the decimal context
                self.error(
                    path + ("max_count",),
                    f"max_count {max_count} is more than {MAX_COUNT}",
                    f"a count of at most {MAX_COUNT}",
                    code="amount",
                )
            return PerUnitAmount(self.amount(a["per_unit"], path + ("per_unit",)), count, max_count) if count else None
        parts = [self.amount_form(p, path + ("least", k), item_type) for k, p in enumerate(a["least"])]
        if any(p is None for p in parts):
            return None
        return LeastAmount(tuple(p for p in parts if p is not None))

    def rule(
        self,
        r: dict[str, Any],
        path: Path_,
        shared_caps: dict[str, Any],
        shared_limits: dict[str, Any],
        used_shared: set[str],
        item_checks: list[Test],
        item_doc_checks: list[DocumentCheck],
    ) -> Rule | None:
        self.unique_id(r["id"], path + ("id",), "rule")
        cites = self.citation(r["cites"], path + ("cites",))
        item_type = r["item_type"]
        if item_type not in self.doc["item_types"]:
            close = suggest(item_type, self.doc["item_types"])
            self.error(
                path + ("item_type",),
                f"unknown item type {item_type!r}",
                (f"did you mean {close!r}? " if close else "") + "a key of `item_types`",
                code="unknown_item_type",
            )
            return None
        self.note_refs(r, path)
        kinds = self.codes(r["who"]["kinds"], self.doc["applicant_kinds"], path + ("who", "kinds"), "applicant kind")
        roles = self.codes(r["who"].get("roles", []), self.doc.get("applicant_roles", {}), path + ("who", "roles"), "applicant role")
        tests = []
        for j, w in enumerate(r.get("when", [])):
            wp = path + ("when", j)
            self.note_refs(w, wp)
            e = self.expr(w["test"], wp + ("test",), [item_type])
            if e is not None:
                tests.append(
                    Test(
                        f"{r['id']}#when{j + 1}",
                        self.citation(w.get("cites"), wp + ("cites",)) or cites,
                        w.get("category", "condition"),
                        e,
                        Text(w["says"]["zh"], w["says"]["en"]),
                        tuple(w.get("readings", ())),
                    )
                )
        amount = self.amount_form(r["amount"], path + ("amount",), item_type) if "amount" in r else None
        subject = None
        if "subject" in r:
            s = r["subject"]
            keys = [self.expr(e, path + ("subject", "key", k), [item_type]) for k, e in enumerate(s["key"])]
            self.note_refs(s, path + ("subject",))
            subject_cites = self.citation(s.get("cites"), path + ("subject", "cites")) or cites
            if all(k is not None for k in keys):
                subject = Subject(
                    s["group"], tuple(k for k in keys if k is not None), s["pays"], subject_cites, tuple(s.get("readings", ()))
                )
        caps = [self.cap(c, path + ("caps", j), item_type, cites, shared_caps, used_shared) for j, c in enumerate(r.get("caps", []))]
        limits = [
            self.limit(c, path + ("limits", j), item_type, cites, shared_limits, used_shared) for j, c in enumerate(r.get("limits", []))
        ]
        docs = self.document_needs(r.get("documents", []), path + ("documents",), [item_type], True)
        applicable = tuple(c for c in item_checks if c.item_types is None or item_type in c.item_types)
        applicable_docs = tuple(c for c in item_doc_checks if c.item_types is None or item_type in c.item_types)
        return Rule(
            id=r["id"],
            cites=cites,
            item_type=item_type,
            kinds=kinds,
            roles=roles,
            when=tuple(tests),
            amount=amount,
            referral=_text(r["referral"]["to"]) if "referral" in r else None,
            subject=subject,
            caps=tuple(c for c in caps if c is not None),
            limits=tuple(c for c in limits if c is not None),
            documents=docs,
            documents_required=r.get("documents_required", True),
            readings=tuple(r.get("readings", ())),
            item_checks=applicable,
            item_document_checks=applicable_docs,
        )


def compile_policy(source: Source) -> tuple[CompiledPolicy | None, list[Problem]]:
    compiler = _Compiler(source)
    policy = compiler.compile()
    problems = sorted(compiler.problems, key=lambda p: (p.line or 0, p.column or 0))
    return policy, problems
