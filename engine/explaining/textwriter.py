"""The plain-text writer: the explanation's pieces spelled as the terminal text.

All of the plain text's layout is here and nowhere else: the rules under the title and the parts
(`=`/`-` × 72), the indents (two spaces in the summary and standing, three for an item's groups, five for
their lines), colons after labels, quoted clause text indented under its citation, and the blank lines.
Every piece is a finished string; the builder (`engine.explaining.explainer.Explainer`) keeps the pieces
that do not depend on the claim, so most lines of an item are a dictionary look-up and an append.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jinja2.filters import do_indent

from engine.explaining.catalogue import Catalogue
from engine.explaining.model import NOMARK, Line, Quote, SignOff

INDENT_ITEM = "   "
INDENT_LINE = "     "
RULE_DOUBLE = "=" * 72
RULE_SINGLE = "-" * 72


class TextWriter:
    """Pieces as text, for one catalogue (its colons, quotes and item-level labels)."""

    #: every piece is a finished `str`: the builder may join a run of pieces itself (its generated step writers)
    pieces_are_text = True

    def __init__(self, catalogue: Catalogue) -> None:
        m = catalogue.m
        meta = catalogue.meta
        self.c, self.h = meta["colon"], meta["head_colon"]
        self.quote = catalogue.compile_text(meta["quote"], "t")
        self.original = m["original"]
        note = m.get("translation_note")
        self.clauses_head = f"{INDENT_ITEM}{m['clauses']}{self.h}" + (f" {note}" if note else "") + "\n"
        self.result_head = f"{INDENT_ITEM}{m['result']}{self.c}"
        self.tails = {k: f"{INDENT_ITEM}{m[w]}{self.c}" for k, w in (("referred", "referred"), ("why", "why_not_more"))}

    def who(self, claim_id: str, applicant_id: str, applicant_name: str | None) -> str:
        return ""  # the text shows them in its fields

    def title(self, title: str, policy_title: str) -> str:
        return f"{title} · {policy_title}\n{RULE_DOUBLE}\n"

    def field(self, key: str, label: str, value: str) -> str:
        return f"{label}{self.c}{value}\n"

    def part(self, key: str, head: str) -> str:
        return f"\n{head}\n{RULE_SINGLE}\n"

    def total(self, label: str, amount: str) -> str:
        return f"  {label}{self.c}{amount}\n"

    def subhead(self, key: str, head: str) -> str:
        return f"  {head}{self.h}\n"

    def summary_line(self, text: str, key: str = "") -> str:
        return f"    {text}\n"

    def standing_line(self, text: str, mark: bool | str | None, key: str) -> str:
        return f"  {text}\n"

    def standing_result(self, ok: bool, text: str) -> str:
        return f"  {text}\n"

    def item(self, n: int, ident: str, item_type: str, heading: str, status: str, result: str) -> str:
        return f"{n}. {heading}\n{self.result_head}{result}\n"

    def clauses(self, quotes: tuple[Quote, ...]) -> str:
        out = [self.clauses_head]
        for q in quotes:
            out.append(f"{INDENT_LINE}{q.cite}\n")
            if q.text is not None:
                out.append(f"       {do_indent(self.quote(t=q.text), 7)}\n")
                if q.original:
                    out.append(f"       {self.original}{self.c}{do_indent(self.quote(t=q.original), 7)}\n")
        return "".join(out)

    def no_trace(self, text: str) -> str:
        return f"{INDENT_ITEM}{text}\n"

    def head(self, key: str, head: str) -> str:
        return f"{INDENT_ITEM}{head}{self.h}\n"

    def line(self, text: str, mark: bool | str | None = NOMARK, key: str = "") -> str:
        return f"{INDENT_LINE}{text}\n"

    def numbered(self, n: int, text: str, key: str = "reason") -> str:
        return f"{INDENT_LINE}{n}) {text}\n"

    def cap(self, line: Line, row: tuple[str, str, str, bool, str, str, str, str, str]) -> str:
        return f"{INDENT_LINE}{line.text}\n"

    def tail(self, key: str, text: str) -> str:
        return f"{self.tails[key]}{text}\n"

    def shaped_head(self, key: str, head: str) -> str:
        return f"{INDENT_ITEM}{head}{self.h}\n"

    def reading(self, text: str, key: str = "") -> str:
        return f"{INDENT_LINE}{do_indent(text, 7)}\n"

    def note(self, text: str, key: str = "") -> str:
        return f"{INDENT_LINE}{text}\n"

    def item_end(self) -> str:
        return "\n"

    def no_items(self, text: str) -> str:
        return f"  {text}\n\n"

    def footer(self, text: str) -> str:
        return text + "\n"

    def sign_off(self, words: SignOff) -> str:
        return ""  # the sign-off block is for the printed HTML page: the text has none

    def block(self, pieces: Iterable[Any]) -> str:
        return "".join(pieces)

    def finish(self, pieces: list[Any]) -> str:
        return "".join(pieces)
