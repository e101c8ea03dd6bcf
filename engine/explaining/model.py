"""The explanation model: one decision explained, in one language, in no format.

`engine.explaining.explainer.Explainer` walks a decision's trace once and hands each piece of the
explanation to a writer. `TextWriter` (engine/explaining/textwriter.py) spells the pieces as the plain
text; `ModelWriter` here keeps them as the named tuples below and folds them into an `Explanation`, for
templates (Markdown, HTML, a policy's own), JSON front doors and tests. Every `str` in the model is final
words in the reader's language (catalogue messages filled, amounts formatted, labels resolved), never
escaped: a writer escapes for its format.

Where a new kind of line goes (see docs/explanations.md, "Adding a line"):
* a line of an item's conditions, calculation, limits, caps, documents, ... : a `Line` in that `Section`
  (`Explainer` calls `writer.line(text, mark, key)`), `key` naming what the line says;
* a note under an item (a reading's text, a round-selection note): a `Line` in `ItemExplanation.notes`
  (`writer.note(text, key)`);
* a line of the summary: a `Line` in a summary `Section` (`writer.subhead` + `writer.summary_line`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple, TypedDict

#: `Line.mark` of a line that states no result (a calculation, an amount): no ✓/✗ and no ok/fail class
NOMARK = "none"


class Line(NamedTuple):
    """One sentence. `mark`: True (held), False (failed), None (unknown) for a line that states a result
    (its text begins with the ✓/✗/? glyph when the format shows one), else NOMARK. `key` says what the line
    is (`check`, `who`, `amount`, `subject`, `limit`, `cap`, `documents`, `reason`, `missing_documents`,
    `missing_facts`, `provisional`, `pending_line`, `pending_ceiling`, `pending_decide`, a status for a
    summary line, `article`, ...)."""

    text: str
    mark: bool | str | None = NOMARK
    key: str = ""


class CapRow(NamedTuple):
    """A cap as a table row and as its sentence (`line`): words, clause, and every figure as shown."""

    label: str
    cites: str
    ceiling: str
    per_item: bool  # a cap on each item alone: no earlier use to show
    used: str
    split: str  # "of which history …, earlier items …" when the use is split, else ""
    left: str
    asked: str
    granted: str
    line: Line


class Quote(NamedTuple):
    """A clause cited: its citation, its text in the reader's language (None when the policy has no text for
    it) and the original text when the catalogue shows it beside a translation."""

    cite: str
    text: str | None
    original: str | None


class Section(NamedTuple):
    """A titled group of lines: `key` is the catalogue key of its heading (`checks`, `calculation`, `limits`,
    `caps`, `documents`, `reasons`, `incomplete`, `pending`; in the summary `by_status`, `by_article`)."""

    key: str
    head: str
    lines: tuple[Line | CapRow, ...]


class ItemExplanation(NamedTuple):
    n: int
    id: str
    type: str
    heading: str
    status: str
    result: str
    clauses: tuple[Quote, ...]
    no_trace: str | None  # "no trace was kept" when the decision was made without one
    sections: tuple[Section, ...]
    referred: str | None
    why: str | None
    #: the readings (口径) and notes that shaped the item: `readings` and `notes_applied` sections of "id：words" lines
    shaped: tuple[Section, ...]
    notes: tuple[Line, ...]


class Field(NamedTuple):
    key: str
    label: str
    value: str


class SignOff(NamedTuple):
    """The words of the printed page: the reviewer's sign-off block (its heading and the labels of the spaces left to
    write in: opinion, reviewer, date) and `page`, the page number in the running footer, whose `{page}` and `{pages}`
    the browser fills when it prints (the one message of the model with placeholders left in)."""

    head: str
    opinion: str
    reviewer: str
    date: str
    page: str


class Explanation(NamedTuple):
    lang: str
    claim_id: str
    applicant_id: str
    applicant_name: str | None
    title: str  # the catalogue's title word
    policy_title: str
    #: claim id, applicant, funding year, (the policy's header claim facts, a recorded decision's ledger record), policy,
    #: validity, (assumption), hash
    fields: tuple[Field, ...]
    total_label: str
    total: str
    summary: tuple[Section, ...]
    standing: tuple[Line, ...]
    standing_ok: bool
    standing_text: str
    items: tuple[ItemExplanation, ...]
    no_items: str | None
    footer: str
    sign_off: SignOff  # for print: the sign-off block and the running footer's page number


#: `policy` of a template (engine/explaining/labels.py `policy_info`): the policy's id, version, title (in the reader's
#: language), content hash, first and last funding year, the clauses that set its validity and its assumption about it
PolicyInfo = TypedDict(
    "PolicyInfo",
    {
        "id": str,
        "version": str,
        "title": str,
        "hash": str,
        "from": int,
        "to": int,
        "cites": str | None,
        "assumption": str | None,
    },
)


# --- the stream the builder hands to ModelWriter, folded by `ModelWriter.finish` ---------------------------


class _Who(NamedTuple):
    claim_id: str
    applicant_id: str
    applicant_name: str | None


class _Title(NamedTuple):
    title: str
    policy_title: str


class _Head(NamedTuple):
    level: int  # 0: a part of the document (summary, standing, items), 1: a summary group, 2: an item's group,
    # 3: the readings or notes that shaped an item (after its "why not more")
    key: str
    text: str


class _Total(NamedTuple):
    label: str
    amount: str


class _StandingResult(NamedTuple):
    ok: bool
    text: str


class _Item(NamedTuple):
    n: int
    id: str
    type: str
    heading: str
    status: str
    result: str


class _Clauses(NamedTuple):
    quotes: tuple[Quote, ...]


class _Tail(NamedTuple):
    key: str  # referred, why
    text: str


class _Note(NamedTuple):
    line: Line


class _Mark(NamedTuple):
    key: str  # no_trace, item_end
    text: str = ""


class _Block(NamedTuple):
    pieces: tuple[Any, ...]


class ModelWriter:
    """Pieces as named tuples; `finish` folds a document's stream into an `Explanation`."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def who(self, claim_id: str, applicant_id: str, applicant_name: str | None) -> Any:
        return _Who(claim_id, applicant_id, applicant_name)

    def title(self, title: str, policy_title: str) -> Any:
        return _Title(title, policy_title)

    def field(self, key: str, label: str, value: str) -> Any:
        return Field(key, label, value)

    def part(self, key: str, head: str) -> Any:
        return _Head(0, key, head)

    def total(self, label: str, amount: str) -> Any:
        return _Total(label, amount)

    def subhead(self, key: str, head: str) -> Any:
        return _Head(1, key, head)

    def summary_line(self, text: str, key: str = "") -> Any:
        return Line(text, NOMARK, key)

    def standing_line(self, text: str, mark: bool | str | None, key: str) -> Any:
        return Line(text, mark, key)

    def standing_result(self, ok: bool, text: str) -> Any:
        return _StandingResult(ok, text)

    def item(self, n: int, ident: str, item_type: str, heading: str, status: str, result: str) -> Any:
        return _Item(n, ident, item_type, heading, status, result)

    def clauses(self, quotes: tuple[Quote, ...]) -> Any:
        return _Clauses(quotes)

    def no_trace(self, text: str) -> Any:
        return _Mark("no_trace", text)

    def head(self, key: str, head: str) -> Any:
        return _Head(2, key, head)

    def line(self, text: str, mark: bool | str | None = NOMARK, key: str = "") -> Any:
        return Line(text, mark, key)

    def numbered(self, n: int, text: str, key: str = "reason") -> Any:
        return Line(text, False, key)

    def cap(self, line: Line, row: tuple[str, str, str, bool, str, str, str, str, str]) -> Any:
        return CapRow(*row, line=line)

    def tail(self, key: str, text: str) -> Any:
        return _Tail(key, text)

    def shaped_head(self, key: str, head: str) -> Any:
        return _Head(3, key, head)

    def reading(self, text: str, key: str = "") -> Any:
        return Line(text, NOMARK, key)

    def note(self, text: str, key: str = "") -> Any:
        return _Note(Line(text, NOMARK, key))

    def item_end(self) -> Any:
        return _Mark("item_end")

    def no_items(self, text: str) -> Any:
        return _Mark("no_items", text)

    def footer(self, text: str) -> Any:
        return _Mark("footer", text)

    def sign_off(self, words: SignOff) -> Any:
        return words

    def block(self, pieces: Iterable[Any]) -> Any:
        return _Block(tuple(pieces))

    # long because: one branch per kind of piece, folding the flat stream into the nested model in one pass
    def finish(self, pieces: list[Any]) -> Explanation:
        # (named tuples made by `tuple.__new__` in their fields' order: the report folds one stream per application)
        doc: dict[str, Any] = {"no_items": None, "footer": "", "sign_off": None}
        fields: list[Any] = []
        summary: list[Any] = []
        standing: list[Any] = []
        items: list[Any] = []
        part = ""
        # an item being folded: ItemExplanation's fields in order (sections and shaped as lists of (key, head, lines))
        item: list[Any] | None = None
        lines: list[Any] | None = None
        new = tuple.__new__

        def close() -> None:
            nonlocal item
            if item is not None:
                item[8] = tuple([new(Section, (k, h, tuple(ls))) for k, h, ls in item[8]])
                item[11] = tuple([new(Section, (k, h, tuple(ls))) for k, h, ls in item[11]])
                item[12] = tuple(item[12])
                items.append(new(ItemExplanation, item))
                item = None

        for p in _flat(pieces):
            kind = type(p)
            if kind is Line or kind is CapRow:
                if part == "standing":
                    standing.append(p)
                elif lines is not None:
                    lines.append(p)
            elif kind is _Head:
                if p.level == 0:
                    part, lines = p.key, None
                else:
                    lines = []
                    if item is not None and p.level >= 2:
                        item[8 if p.level == 2 else 11].append((p.key, p.text, lines))
                    else:
                        summary.append((p.key, p.text, lines))
            elif kind is _Item:
                close()
                item = [*p, (), None, [], None, None, [], []]
                lines = None
            elif kind is _Clauses:
                assert item is not None
                item[6] = p.quotes
            elif kind is _Tail:
                assert item is not None
                item[_TAIL_FIELD[p.key]] = p.text
                lines = None
            elif kind is _Note:
                assert item is not None
                item[12].append(p.line)
            elif kind is _Mark:
                if p.key == "no_trace" and item is not None:
                    item[7] = p.text
                elif p.key == "item_end":
                    close()
                    lines = None
                elif p.key in ("no_items", "footer"):
                    doc[p.key] = p.text
            elif kind is Field:
                fields.append(p)
            elif kind is _Who:
                doc["claim_id"], doc["applicant_id"], doc["applicant_name"] = p
            elif kind is _Title:
                doc["title"], doc["policy_title"] = p.title, p.policy_title
            elif kind is _Total:
                doc["total_label"], doc["total"] = p.label, p.amount
            elif kind is _StandingResult:
                doc["standing_ok"], doc["standing_text"] = p.ok, p.text
            elif kind is SignOff:
                doc["sign_off"] = p
        close()
        return Explanation(
            lang=self.lang,
            claim_id=doc["claim_id"],
            applicant_id=doc["applicant_id"],
            applicant_name=doc["applicant_name"],
            title=doc["title"],
            policy_title=doc["policy_title"],
            fields=tuple(fields),
            total_label=doc["total_label"],
            total=doc["total"],
            summary=tuple([new(Section, (k, h, tuple(ls))) for k, h, ls in summary]),
            standing=tuple(standing),
            standing_ok=doc["standing_ok"],
            standing_text=doc["standing_text"],
            items=tuple(items),
            no_items=doc["no_items"],
            footer=doc["footer"],
            sign_off=doc["sign_off"],
        )


#: where a tail's text goes in an item being folded (`ItemExplanation.referred`, `.why`)
_TAIL_FIELD = {"referred": ItemExplanation._fields.index("referred"), "why": ItemExplanation._fields.index("why")}
assert ItemExplanation._fields[6:] == ("clauses", "no_trace", "sections", "referred", "why", "shaped", "notes")
assert _Item._fields == ItemExplanation._fields[:6]


def to_data(value: Any) -> Any:
    """The model as plain JSON data (named tuples as objects by field name), e.g. for a JSON front door."""
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {k: to_data(v) for k, v in zip(value._fields, value, strict=True)}
    if isinstance(value, tuple | list):
        return [to_data(v) for v in value]
    return value


def _flat(pieces: Iterable[Any]) -> list[Any]:
    """The pieces with every block's pieces in its place (blocks nest)."""
    out: list[Any] = []
    for p in pieces:
        if type(p) is _Block:
            out.extend(_flat(p.pieces))
        else:
            out.append(p)
    return out
