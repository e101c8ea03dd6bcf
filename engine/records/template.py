"""The batch workbook officers fill in (`python -m engine batch-template`): empty, or filled from claims.

Sheets, in this order (the readers find `申请人` and `事项` by name, or by their codes `applicants` and `items`, as
workbooks written before had them; the workbook opens on `说明`):

* `申请人` (`applicants`, one row per application) and `事项` (`items`, one row per item). Row 1 heads each column in Chinese
  with its code, `申请人类型（applicant.kind）`; row 2, a comment row (its application id begins with `#`), gives
  the English words. Both rows are frozen. Every column with a closed choice (a list of values, an item type,
  documents, yes/no) has a dropdown showing the policy's Chinese labels; a column taking several values
  (documents, roles) lets one type several, separated by `；`. The empty template has example rows, whose
  application id begins with `#` too, so they are never read: as near to an application the policy grants, once
  real values stand where the placeholders do, as a few mends of its documents, yes/no answers, dates and choices
  make it (the engine decides it as the rows are written, see `_example_rows`; a threshold on a number, or two
  facts that must move together, are not searched).
* `说明`: each column, what to write in it, an example, whether it is required, and the values to choose from.
* `说明（英文）`: the same in English, one row per column (its sheet, type, required, values, zh, en).
* `选项` (hidden): the lists the dropdowns show.

A filled workbook writes each closed choice as its Chinese label (a cell the reader reads back as the same code;
a label two codes share is written as the code).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.core.errors import EngineError
from engine.core.i18n import lookup, msg
from engine.core.identifiers import EXAMPLES
from engine.deciding.claims import Claim, FactConverter, Item
from engine.deciding.decision import Decision
from engine.deciding.evaluator import evaluate_claim
from engine.language.model import CompiledPolicy, FactSpec
from engine.records.tabular import (
    APPLICANTS_SHEET,
    BOOLEAN_LABELS,
    CHOICES_SHEET,
    COLUMNS_SHEET,
    GUIDE_SHEET,
    ITEMS_SHEET,
    LIST_CHOICE_TYPES,
    SHEET_TITLES,
    Altered,
    Choices,
    Columns,
    heading_text,
    safe_cell,
)

VALIDATED_ROWS = 5000  # the dropdowns cover rows 3 to this (a round is a few hundred rows)
EXAMPLE_PASSES = 4  # the example application is mended and decided again (`_settled`) at most this many times
GUIDE_LANG = "zh"  # the template is the Chinese officers' form; its `说明（英文）` sheet says the same in English


def _zh(key: str) -> str:
    return lookup(f"sheet.{key}", GUIDE_LANG)


class _Workbook:
    """What the sheets share: the policy's columns and choices, the escapes noted, the example values."""

    def __init__(self, policy: CompiledPolicy) -> None:
        self.policy = policy
        self.cols = Columns(policy)
        self.choices = Choices(policy, self.cols)
        self.specs: dict[str, FactSpec] = {**self.cols.claim, **self.cols.applicant, **self.cols.item}
        self.altered = Altered()

    def put(self, ws: Any, row: Sequence[Any], header: Sequence[str]) -> None:
        cells = [str(v) if isinstance(v, Decimal) else v for v in row]
        # the row `append` writes to: openpyxl's own count (`max_row` scans every cell written, so a round's workbook
        # took time growing with the square of its rows: 10,003 applications, 9 min 44 s)
        self.altered.note(cells, header, msg("sheet.place.in_sheet_row", sheet=ws.title, row=ws._current_row + 1))
        ws.append([safe_cell(v) for v in cells])

    def heading(self, name: str) -> str:
        return heading_text(self.cols.label(name), name)

    def choice_words(self, name: str, item_type: str | None = None) -> list[str]:
        table = self.choices.table(name, item_type) or {}
        return [t.zh for t in table.values()]

    def shown(self, name: str, item_type: str | None, value: Any) -> Any:
        """A claim's value as the workbook shows it: a closed choice as its Chinese label where that reads back as
        the same code, lists joined by `；`, yes/no as 是/否."""
        spec = self.specs.get(name)
        if isinstance(value, bool):
            return (BOOLEAN_LABELS["true"] if value else BOOLEAN_LABELS["false"]).zh
        table = self.choices.table(name, item_type) if spec is not None else None
        if table and isinstance(value, list | tuple) and spec is not None and spec.type in LIST_CHOICE_TYPES:
            text = "；".join(table[v].zh if v in table else str(v) for v in value)
            return text if self.choices.codes(name, item_type, text) == (list(value), []) else "; ".join(map(str, value))
        if table and isinstance(value, str) and value in table:
            label = table[value].zh
            return label if self.choices.code(name, item_type, label) == value else value
        if isinstance(value, list | tuple):
            return "; ".join(str(v) for v in value)
        return value


def _spec_of(book: _Workbook, name: str, item_type: str | None) -> FactSpec | None:
    """The fact a column holds (for an item, the fact of `item_type`'s items: two item types may give one name
    different choices); None for a name that is no fact (a parameter's, as a decision names what it lacks)."""
    if name.startswith("item.") and item_type is not None:
        return book.policy.item_facts[item_type].get(name.split(".", 1)[1])
    return book.specs.get(name)


def _tries(book: _Workbook, spec: FactSpec) -> list[Any]:
    """The values an example fact may take when a check it reads refuses the example, its own first: yes or no; a
    day of the first funding year, of the year after it (when applications are made) or of the year before; each
    choice. Other facts keep their example value."""
    year = book.policy.funding_years[0]
    if spec.type == "boolean":
        return [True, False]
    if spec.type == "date":
        return [f"{y}-03-05" for y in (year, year + 1, year - 1)]
    if spec.type == "enum":
        return list(spec.values or ())
    return []


def _example_value(book: _Workbook, spec: FactSpec) -> Any:
    """An example value of a fact as a claim holds it (codes, not labels), or None to leave it empty (lists of
    choices are chosen by `_example_claim` and `_filled`)."""
    if spec.type == "identifier" and spec.format in EXAMPLES:
        return EXAMPLES[spec.format]
    tries = _tries(book, spec)
    if tries:
        return tries[0]
    by_type: dict[str, Any] = {
        "money": "8400.00",
        "percent": "4.35%",
        "decimal": "0.5",
        "integer": 1,
        "count": 1,
        "string": _zh("example_text"),
        "string_list": [_zh("example_text")],
        "identifier": _zh("example_identifier"),
    }
    return by_type.get(spec.type)


def _kind_words(spec: FactSpec) -> str:
    kinds = {
        "date": "kind_date",
        "money": "kind_money",
        "integer": "kind_integer",
        "count": "kind_integer",
        "percent": "kind_percent",
        "decimal": "kind_decimal",
        "string_list": "kind_list",
        "date_list": "kind_dates",
    }
    if spec.type in LIST_CHOICE_TYPES:
        return _zh("several")
    if spec.type in ("enum", "item_type", "boolean"):
        return _zh("one_of")
    return _zh(kinds.get(spec.type, "kind_text"))


def _data_sheet(book: _Workbook, ws: Any, names: list[str], lists: dict[str, str]) -> None:
    """Header rows, frozen, widths, text formats and each closed choice's dropdown."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    book.put(ws, [book.heading(n) for n in names], names)
    book.put(ws, ["# " + book.cols.label(n).en if n == "claim_id" else book.cols.label(n).en for n in names], names)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in ws[2]:
        cell.font = Font(italic=True, color="666666")
    ws.freeze_panes = "B3"
    for i, n in enumerate(names, 1):
        letter = ws.cell(row=1, column=i).column_letter
        ws.column_dimensions[letter].width = max(14, min(40, len(book.cols.label(n).zh) * 2 + 4))
        if n == "claim_id" or book.specs[n].type in ("money", "identifier", "string", "date", "date_list"):
            ws.column_dimensions[letter].number_format = "@"
        source = lists.get(n)
        if source is None:
            continue
        several = book.specs[n].type in LIST_CHOICE_TYPES
        dv = DataValidation(
            type="list",
            formula1=source,
            allow_blank=True,
            showErrorMessage=not several,  # several values in one cell are not one of the list
            showInputMessage=True,
            promptTitle=_zh("prompt_title"),
            prompt=_zh("several") if several else _zh("one_of"),
            errorTitle=_zh("error_title"),
            error=_zh("error_text"),
        )
        dv.add(f"{letter}3:{letter}{VALIDATED_ROWS}")
        ws.add_data_validation(dv)


def _choices_sheet(book: _Workbook, ws: Any, columns: list[str]) -> dict[str, str]:
    """One column of Chinese labels per closed-choice column; returns each column's range for its dropdown."""
    from openpyxl.utils import get_column_letter

    ranges: dict[str, str] = {}
    k = 0
    for name in columns:
        words = book.choice_words(name)
        if not words or name in ranges:
            continue
        k += 1
        letter = get_column_letter(k)
        ws.cell(row=1, column=k, value=safe_cell(name))
        for r, word in enumerate(words, 2):
            ws.cell(row=r, column=k, value=safe_cell(word))
        ranges[name] = f"'{CHOICES_SHEET}'!${letter}$2:${letter}${len(words) + 1}"
    ws.sheet_state = "hidden"
    return ranges


def _types_of(book: _Workbook, name: str) -> list[str]:
    """The item types a column of the items sheet applies to (empty: all)."""
    short = name.split(".", 1)[1]
    types = [t for t, facts in book.policy.item_facts.items() if short in facts]
    return [] if len(types) == len(book.policy.item_facts) else types


def _required(book: _Workbook, sheet: str, name: str, lang: str) -> str:
    """Whether a column must be filled in, in `lang`: yes or no; for an item column some item types need and others
    have not (or need not), the types that need it, in the policy's words (in English its codes, as that sheet
    names the types a column applies to)."""
    spec = book.specs[name]
    if sheet != ITEMS_SHEET:
        return lookup("sheet.word_yes" if spec.required else "sheet.word_no", lang)
    short = name.split(".", 1)[1]
    needing = [t for t, facts in book.policy.item_facts.items() if short in facts and facts[short].required]
    if len(needing) in (0, len(book.policy.item_facts)):
        return lookup("sheet.word_yes" if needing else "sheet.word_no", lang)
    # (in Chinese parted by ；, as the sheet parts values: a type's name may hold 、 itself: 专利导航、预警、战略制定项目)
    types = "；".join(book.policy.item_type_labels[t].zh for t in needing) if lang == "zh" else ", ".join(needing)
    return msg("sheet.required_for", types=types).render(lang)


def _guide_sheet(book: _Workbook, ws: Any, sheets: list[tuple[str, list[str]]], examples: dict[str, Any]) -> None:
    from openpyxl.styles import Alignment, Font

    header = [
        _zh(k) for k in ("guide_sheet", "guide_column", "guide_code", "guide_what", "guide_example", "guide_required", "guide_values")
    ]
    ws.append([_zh("guide_title")])
    ws.append([_zh("guide_intro")])
    ws.append([])
    book.put(ws, header, header)
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells("A2:G2")
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[2].height = 60
    for cell in ws[4]:
        cell.font = Font(bold=True)
    for sheet, names in sheets:
        for n in names:
            if n == "claim_id":
                what, required, values = _zh("claim_id_note"), _zh("word_yes"), ""
            else:
                spec = book.specs[n]
                what = f"{spec.label.zh}；{_kind_words(spec)}"
                types = _types_of(book, n) if sheet == ITEMS_SHEET else []
                if types:
                    what += "（" + "；".join(book.policy.item_type_labels[t].zh for t in types) + "）"
                required = _required(book, sheet, n, "zh")
                values = "；".join(f"{t.zh}（{c}）" for c, t in (book.choices.table(n) or {}).items())
            shown = [SHEET_TITLES[sheet], book.cols.label(n).zh, n, what, examples.get(f"{sheet}:{n}"), required, values]
            book.put(ws, shown, header)
    for letter, width in zip("ABCDEFG", (12, 28, 34, 60, 24, 24, 60), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A5"


def _columns_sheet(book: _Workbook, ws: Any, sheets: list[tuple[str, list[str]]]) -> None:
    """The English documentation of every column (as the template had before the `说明` sheet)."""
    header = ["sheet", "column", "type", "required", "values", "zh", "en"]
    ws.append(header)
    for sheet, names in sheets:
        named = f"{SHEET_TITLES[sheet]} ({sheet})"  # (the tab's name, and what it is in English)
        for n in names:
            if n == "claim_id":
                book.put(
                    ws,
                    [
                        named,
                        n,
                        "string",
                        "yes",
                        "",
                        "申请编号（同一申请的各行相同）",
                        "application id (the same on every row of one application)",
                    ],
                    header,
                )
                continue
            s = book.specs[n]
            types = _types_of(book, n) if sheet == ITEMS_SHEET else []
            values = "; ".join(book.choices.table(n) or ()) if s.type != "boolean" else ""
            note = " (" + ", ".join(types) + ")" if types else ""
            kind = s.type + ("; list: a;b" if s.type.endswith("_list") else "")
            book.put(ws, [named, n, kind, _required(book, sheet, n, "en"), values, s.label.zh, s.label.en + note], header)


def _example_claim(book: _Workbook) -> dict[str, Any]:
    """The example application as a claim (`claim`, `applicant`, `items`): an applicant of the first kind the first
    item type's rule admits, an item of each of the first two item types whose rules admit that kind, a role each
    rule that asks for one needs, every fact its example value, no documents yet (`_filled` adds those the decision
    finds lacking). A fact that only checks for other kinds of applicant read (and no check for this kind) is left
    empty."""
    policy = book.policy
    types = list(policy.item_facts)
    kinds = list(policy.applicant_kinds)
    first = policy.rules_by_type.get(types[0]) if types else None
    kind = next((k for k in kinds if first is None or k in first.kinds), kinds[0] if kinds else None)
    types = [t for t in types if t in policy.rules_by_type and kind in policy.rules_by_type[t].kinds][:2] or types[:2]
    rules = [policy.rules_by_type[t] for t in types if t in policy.rules_by_type]
    roles: list[str] = []
    for r in rules:
        if r.roles and not r.roles & set(roles):
            roles.append(next(x for x in policy.applicant_roles if x in r.roles))
    tests = [*policy.applicant_checks, *(t for r in rules for t in r.when + r.item_checks)]
    others = {f for t in tests if t.kinds is not None and kind not in t.kinds for f in t.expression.facts}
    others -= {f for t in tests if t.kinds is None or kind in t.kinds for f in t.expression.facts}

    def facts(namespace: str, specs: Mapping[str, FactSpec]) -> dict[str, Any]:
        out = {}
        for short, spec in specs.items():
            value = _example_value(book, spec)
            if value is not None and (spec.required or f"{namespace}.{short}" not in others):
                out[short] = value
        return out

    claim = {**facts("claim", policy.claim_facts), "funding_year": policy.funding_years[0]}
    applicant = {**facts("applicant", policy.applicant_facts), "kind": kind}
    if roles:
        applicant["roles"] = roles
    items = [{**facts("item", policy.item_facts[t]), "id": f"i{k}", "type": t} for k, t in enumerate(types, 1)]
    return {"claim": claim, "applicant": applicant, "items": items}


def _decided(policy: CompiledPolicy, data: Mapping[str, Any]) -> Decision:
    """The engine's decision of the example claim. Its facts are converted as a claim's are, but not validated: a
    placeholder (`（代码）`) stands where the officer writes a real code, and nothing the engine decides reads it."""
    conv = FactConverter(policy)  # (its problems, the placeholders', are not the example's to say)
    claim = conv.facts("claim", policy.claim_facts, data["claim"], ())
    applicant = conv.facts("applicant", policy.applicant_facts, data["applicant"], ("applicant",))
    items = tuple(
        Item(it["id"], it["type"], i, conv.facts("item", policy.item_facts[it["type"]], it, ("items", i)))
        for i, it in enumerate(data["items"])
    )
    parsed = Claim("example", policy.funding_years[0], str(applicant.get("id")), claim, applicant, items, (), data)
    return evaluate_claim(policy, parsed, trace=False)


def _filled(book: _Workbook, data: dict[str, Any], decision: Decision) -> bool:
    """Each document an item of the example lacked added (to the application's documents when an application-level
    check requires it there), each fact it lacked given its example value. Whether any was."""
    policy = book.policy
    standing = {n.doc for c in policy.applicant_document_checks for n in c.needs} if "documents" in policy.claim_facts else set()
    order = list(policy.documents)
    held = set(data["claim"].get("documents", ()))  # (before this pass: every item lacks the application's)
    changed = False
    for d, item in zip(decision.items, data["items"], strict=True):
        for doc in d.missing_documents:
            at = data["claim"] if doc in standing and doc not in held else item
            if doc not in at.get("documents", ()):
                at["documents"] = sorted([*at.get("documents", ()), doc], key=lambda x: order.index(x) if x in order else len(order))
                changed = True
        places = {"claim": data["claim"], "applicant": data["applicant"], "item": item}
        for name in d.missing_facts:
            where, short = name.split(".", 1)
            spec = _spec_of(book, name, item["type"])
            value = _example_value(book, spec) if spec is not None else None
            if where in places and short not in places[where] and value is not None:
                places[where][short] = value
                changed = True
    return changed


def _moves(book: _Workbook, data: dict[str, Any], decision: Decision) -> list[tuple[str, int, str, Any]]:
    """The changes to try when checks refuse items of the example: each fact a refusing check reads set to each
    other value it takes (`_tries`), as (`claim`, `applicant` or `item`; the item's index; the fact; the value)."""
    tests = {t.id: t for t in book.policy.applicant_checks}
    for rule in book.policy.rules:
        tests.update((t.id, t) for t in rule.when + rule.item_checks)
    moves: dict[tuple[str, int, str, Any], None] = {}
    for k, (d, item) in enumerate(zip(decision.items, data["items"], strict=True)):
        for test in (tests[r.check] for r in d.reasons if r.check in tests):
            for name in test.expression.facts:
                where, short = name.split(".", 1)
                at = item if where == "item" else data.get(where)
                spec = _spec_of(book, name, item["type"])
                if name == "applicant.kind" or spec is None or not isinstance(at, dict) or short not in at:
                    continue
                for value in _tries(book, spec):
                    if value != at[short]:
                        moves[(where, k if where == "item" else -1, short, value)] = None
    return list(moves)


def _moved(data: dict[str, Any], move: tuple[str, int, str, Any]) -> dict[str, Any]:
    where, k, short, value = move
    out = copy.deepcopy(data)
    (out["items"][k] if where == "item" else out[where])[short] = value
    return out


def _score(decision: Decision) -> tuple[int, int]:
    """How near the example is to granted: items neither refused nor incomplete count 2, incomplete ones 1; then
    the fewer grounds of refusal the better."""
    statuses = sum(2 if d.status not in ("refused", "incomplete") else int(d.status == "incomplete") for d in decision.items)
    return statuses, -sum(len(d.reasons) for d in decision.items)


def _settled(book: _Workbook, data: dict[str, Any]) -> dict[str, Any]:
    """The example as the engine decides it best, within EXAMPLE_PASSES passes: each pass adds what items lacked
    (`_filled`), or keeps each change of `_moves` that decides the example better. The example as it stands when
    the policy cannot decide it."""
    try:
        decision = _decided(book.policy, data)
        for _ in range(EXAMPLE_PASSES):
            if _filled(book, data, decision):
                decision = _decided(book.policy, data)
                continue
            better = False
            for move in _moves(book, data, decision):
                trial = _moved(data, move)
                tried = _decided(book.policy, trial)
                if _score(tried) > _score(decision):
                    data, decision, better = trial, tried, True
            if not better:
                break
    except EngineError:
        pass
    return data


def _example_cell(book: _Workbook, name: str, item_type: str | None, facts: Mapping[str, Any]) -> Any:
    """An example row's cell of column `name`, from the example's facts (None: empty)."""
    if name == "item.type" and item_type is not None:
        return book.policy.item_type_labels[item_type].zh
    value = facts.get(name.split(".", 1)[1])
    return None if value is None or value == [] else book.shown(name, item_type, value)


def _example_rows(book: _Workbook, app_cols: list[str], item_cols: list[str]) -> tuple[list[list[Any]], list[list[Any]]]:
    """One example application with an item of each of two item types (comment rows, see `_example_claim`), as the
    engine decides it: granted, once an officer writes real values where the placeholders stand, where a few mends
    make it so (`_settled`; not searched: numbers past a threshold, two facts moved together, a dated parameter's
    first day)."""
    cid = lookup("sheet.example_id", GUIDE_LANG).replace("{n}", "1")
    data = _settled(book, _example_claim(book))
    app = [
        cid if n == "claim_id" else _example_cell(book, n, None, data["claim"] if n.startswith("claim.") else data["applicant"])
        for n in app_cols
    ]
    items = [[cid if n == "claim_id" else _example_cell(book, n, it["type"], it) for n in item_cols] for it in data["items"]]
    return [app], items


# long because: the five sheets are written in one pass, sharing the columns, the choice lists and the workbook.
def unwritable(policy: CompiledPolicy) -> Callable[[Mapping[str, Any]], list[str]]:
    """What of a claim a workbook has no column for, by name (`history`, `applicant.x`, `item.y`): a filled
    workbook read back must decide as the claims did, so what it cannot hold is said, never dropped unsaid (a claim's
    earlier grants, left out, paid an insurance premium again under a cap already used)."""
    app_cols, item_cols = _Workbook(policy).cols.header_sets()
    claim_keys = {"claim_id", "applicant", "items"} | {n.split(".", 1)[1] for n in app_cols if n.startswith("claim.")}
    app_keys = {n.split(".", 1)[1] for n in app_cols if n.startswith("applicant.")}
    item_keys = {n.split(".", 1)[1] for n in item_cols if n.startswith("item.")}

    def left_out(claim: Mapping[str, Any]) -> list[str]:
        # (a value that is nothing -- `history: []`, null -- loses nothing left out)
        out = [str(k) for k, v in claim.items() if k not in claim_keys and v not in (None, [], {})]
        app = claim.get("applicant")
        if isinstance(app, Mapping):
            out += [f"applicant.{k}" for k, v in app.items() if k not in app_keys and v not in (None, [], {})]
        items = claim.get("items")
        for it in items if isinstance(items, list) else ():
            if isinstance(it, Mapping):
                out += [f"item.{k}" for k, v in it.items() if k not in item_keys and v not in (None, [], {}) and f"item.{k}" not in out]
        return out

    return left_out


def write_workbook(
    policy: CompiledPolicy, claims: Sequence[Mapping[str, Any]] | Iterator[Mapping[str, Any]], path: str | Path
) -> str | None:
    """The batch workbook (see the module docstring); the warning naming the cells `safe_cell` had to escape, or None."""
    from openpyxl import Workbook

    book = _Workbook(policy)
    app_cols, item_cols = book.cols.header_sets()
    sheets = [(APPLICANTS_SHEET, app_cols), (ITEMS_SHEET, item_cols)]
    wb = Workbook()
    ws_a = wb.active
    assert ws_a is not None
    ws_a.title = SHEET_TITLES[APPLICANTS_SHEET]
    ws_i = wb.create_sheet(SHEET_TITLES[ITEMS_SHEET])
    ws_g = wb.create_sheet(GUIDE_SHEET)
    ws_c = wb.create_sheet(COLUMNS_SHEET)
    ws_l = wb.create_sheet(CHOICES_SHEET)
    lists = _choices_sheet(book, ws_l, app_cols + item_cols)
    _data_sheet(book, ws_a, app_cols, lists)
    _data_sheet(book, ws_i, item_cols, lists)
    claims = list(claims)
    examples: dict[str, Any] = {}
    if not claims:
        apps, items = _example_rows(book, app_cols, item_cols)
        for row in apps:
            book.put(ws_a, row, app_cols)
        for row in items:
            book.put(ws_i, row, item_cols)
        for sheet, names, rows in ((APPLICANTS_SHEET, app_cols, apps), (ITEMS_SHEET, item_cols, items)):
            for i, n in enumerate(names):
                examples[f"{sheet}:{n}"] = next((r[i] for r in rows if r[i] not in (None, "")), None)
    _guide_sheet(book, ws_g, sheets, examples)
    _columns_sheet(book, ws_c, sheets)
    for c in claims:
        app = c.get("applicant", {})
        app_row: list[Any] = []
        for n in app_cols:
            if n == "claim_id":
                app_row.append(c.get("claim_id"))
            else:
                source = app if n.startswith("applicant.") else c
                app_row.append(book.shown(n, None, source.get(n.split(".", 1)[1])))
        book.put(ws_a, app_row, app_cols)
        for it in c.get("items", []):
            kind = it.get("type") if isinstance(it.get("type"), str) else None
            item_row = [c.get("claim_id")] + [book.shown(n, kind, it.get(n.split(".", 1)[1])) for n in item_cols[1:]]
            book.put(ws_i, item_row, item_cols)
    ws_a.sheet_view.tabSelected = False  # one selected tab: Excel would otherwise edit both sheets as a group
    ws_g.sheet_view.tabSelected = True
    wb.active = wb.sheetnames.index(GUIDE_SHEET)
    wb.save(path)
    return book.altered.says(str(path))
