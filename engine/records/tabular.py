"""Batch inputs and tabular outputs: JSON Lines, JSON/YAML lists, CSV, Excel workbooks.

Every reader yields one `Record` per application in input order, with where it
came from (line, or sheet and row) so that an error can name it. Readers stream:
JSON Lines and JSON lists are decoded element by element; CSV and XLSX rows are
spooled into a temporary SQLite file and grouped by claim id from there, so
memory stays flat however large the input. (A YAML list is loaded whole.)

Columns of CSV files and workbooks use the policy's own fact names with their
namespace, exactly as the policy's expressions do: ``claim_id``,
``claim.<fact>``, ``applicant.<fact>``, ``item.id``, ``item.type``,
``item.<fact>``. A row whose ``claim_id`` begins with ``#`` is a comment (the
template's label row). Lists are written with ``;`` between values.
"""

from __future__ import annotations

import codecs
import collections
import csv
import datetime as _dt
import difflib
import html
import io
import itertools
import json
import math
import os
import re
import sqlite3
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

from engine.core.errors import OutputError as OutputError  # (re-exported: the outer layers and programs import it from here)
from engine.core.errors import SaidError, format_path, json_kind, json_reason, os_reason
from engine.core.i18n import Msg, clip_text, language, languages, lookup, msg, tr
from engine.core.identifiers import number_cell_problem
from engine.core.quantities import NONE_WORDS, whole_written
from engine.deciding.claims import DuplicateKeyError, RefusedJsonValue, loads_json, raw_decode_json
from engine.language.model import CompiledPolicy, FactSpec, Text

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: what a spreadsheet shows in a cell whose formula failed (a VLOOKUP that found nothing: #N/A): a value that starts
#: with '#' like the template's hint rows, which are not read, but is no hint
EXCEL_ERRORS = frozenset(
    ("#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#BUSY!")
    + ("#CONNECT!", "#UNKNOWN!", "#GETTING_DATA", "#PYTHON!")
)
LIST_SPLIT = re.compile(r"[;；\n]")
LIST_SPLIT_DATES = re.compile(r"[;；\n、，]")
# the Chinese list and clause commas: never in a name's text (the spaces around one are stripped from the parts: a
# pattern `\s*[、，]\s*` tried every run of spaces to its end at every place, 4 s for a cell of 30,000 spaces)
_ENUMERATION_COMMAS = re.compile(r"[、，]")
#: what else an input method puts between two names of a list where ； goes: a half-width comma or a slash between
#: Chinese characters (`甲科技有限公司,乙大学`), or spaces between two runs of three or more of them (a
#: name spaced as 张 三 is left alone). `Acme, Inc.` has no Chinese character beside its comma.
_CHINESE_SEPARATORS = re.compile(
    r"(?<=[\u4e00-\u9fff）)])[ \u3000]*[,/／][ \u3000]*(?=[\u4e00-\u9fff（(])|(?<=[\u4e00-\u9fff]{3})[ \u3000]+(?=[\u4e00-\u9fff]{3})"
)
_FEN = Decimal("0.01")
#: how far from a whole number of fen a formula's binary result may fall (its error is ~1e-12 of the amount; a
#: typed 12.345 is 0.005 away, and stays "more than two decimals")
_NOISE = Decimal("0.000001")
#: yes and no as officers write them: the words, and the marks (√ and × as typed in Chinese input methods, the check
#: marks ✓ ✔ and crosses ✗ ✘ as Excel's symbol table inserts them); 对 and 错 in pairs (错 was refused while 对 was read)
TRUE_WORDS = {"true", "yes", "y", "1", "是", "对", "√", "✓", "✔"}
FALSE_WORDS = {"false", "no", "n", "0", "否", "错", "×", "✗", "✘"}

# Limits on what a spreadsheet may make the reader do, checked before anything is expanded (SECURITY.md).
# For scale: a round of 20,000 items (about 2,000 applications) written by `batch-template` is a
# 1.2 MB workbook whose parts expand to 12 MB at 9-10:1; examples/round_2021.xlsx expands 5:1.
XLSX_MAX_PARTS = 1_000  # zip members (a workbook has about a dozen)
# zipfile reads a zip's whole directory (the list of its members) into objects before a member can be counted: a
# 174 MB zip of 2,000,000 empty members took 12.7 s and 1.1 GB to be refused. Its size and count are read from the
# zip's end record first (examples/round_2021.xlsx: 13 members, a directory of 1 kB).
XLSX_MAX_DIRECTORY = 1024 * 1024  # bytes of the zip's directory
XLSX_MAX_EXPANDED = 50 * 1024 * 1024  # bytes: all members together, and any one, uncompressed
# openpyxl streams worksheets but holds every other part whole (the shared strings as a list of str, the
# styles as objects): all of those together are held to a fifth of it. 10 MB of the tiniest shared strings
# (450,000 of them) take about 8 s and 75 MB, 10 MB of styles 5 s and 120 MB; a real round's are a few
# hundred kB. A worksheet is a part under xl/worksheets/ that [Content_Types].xml declares as one and as
# nothing else (openpyxl finds the shared strings by their declared type, so they cannot pass for a sheet).
XLSX_MAX_HELD = 10 * 1024 * 1024
XLSX_MAX_CONTENT_TYPES = 1024 * 1024  # [Content_Types].xml, parsed to tell worksheets from the rest (real: ~1 kB)
XLSX_MAX_RATIO = 100  # uncompressed : compressed, of a part and of the whole, over XLSX_RATIO_FROM (a zip bomb is ~1000:1)
XLSX_RATIO_FROM = 1024 * 1024
XLSX_MAX_ROWS = 100_000  # rows of a sheet (row numbers: a row 1,048,576 counts as that many)
XLSX_MAX_COLUMNS = 256  # columns of a header row, a sheet's or a CSV file's (the shipped policy's items sheet has 33)
#: values of one list cell that are none of its choices asked for the one meant, each (the others are named alone):
#: an Excel cell holds 32,767 characters, 5,000 such values, and each guess is a difflib search of the choices
MAX_VALUES_GUESSED = 20
CSV_MAX_LINE = 1024 * 1024  # characters of one physical line of a CSV file
#: bytes of one line of a JSON Lines round: one application, bounded as a claim file is (`source.MAX_BYTES`); a longer
#: line is passed over unread (a 30 MB line took 340 MB to decode), with its own error record
JSONL_MAX_LINE = 2 * 1024 * 1024
CLAIM_ID_LABEL = Text("申请编号", "application id")


class InputError(SaidError):
    """The input as a whole cannot be read (unknown format, missing sheet, unknown columns, over a limit, no application)."""

    #: each problem of an input refused for several at once (`refused`), its place in its words; empty for one
    problems: tuple[Msg, ...] = ()


def refused(file: str, problems: Sequence[Msg]) -> InputError:
    """The InputError of an input refused for `problems` (each naming its place): the one, or all of them, numbered
    one to a line, so that an officer mends them in one go (`InputError.problems` keeps each)."""
    if len(problems) == 1:
        return InputError(problems[0])
    lines = msg("sheet.problem_first", problem=problems[0])
    for n, problem in enumerate(problems[1:], 2):
        lines = msg("sheet.problem_next", before=lines, n=n, problem=problem)
    err = InputError(msg("sheet.problems", file=file, n=len(problems), problems=lines))
    err.problems = tuple(problems)
    return err


class Label(Msg):
    """A policy's label (`Text`) as a message value: its Chinese words to a Chinese reader, else its English."""

    def __new__(cls, text: Text) -> Label:
        self = str.__new__(cls, text.en)
        self.key = "input.choice"
        self.params = {}
        self.text = text
        return self

    text: Text

    def render(self, lang: str | None = None) -> str:
        return self.text.zh if (lang or language()) == "zh" else self.text.en

    def __reduce__(self) -> tuple[Any, ...]:
        return (Label, (self.text,))


def output_dir(path: str | Path, writes: Sequence[str] = ()) -> Path:
    """The folder `path`, created with its parents if missing; OutputError (not an OSError traceback) if it cannot be,
    or if a file of `writes` (the names a run writes there) is a folder or cannot be opened to write: an officer's
    summary.xlsx still open in Excel, which Windows refuses to open for writing. Said before anything is decided or
    committed: it was a traceback at the end of the run, with the round's grants already in the ledger."""
    out = Path(path)
    _make_folder(out, msg("sheet.out_not_folder", path=str(path)), msg("sheet.out_cannot_create", path=str(path)))
    try:  # a real write, not os.access: root may "access" /proc, where no file can be made
        with tempfile.TemporaryFile(dir=out, prefix=".policy-engine-probe-"):
            pass
    except OSError as exc:
        raise OutputError(msg("sheet.out_cannot_write", path=str(path), reason=os_reason(exc))) from None
    for name in writes:
        there = out / name
        if there.is_dir():
            raise OutputError(msg("sheet.is_folder", path=str(there)))
        if there.exists():
            try:
                with open(there, "ab"):  # (opened to add nothing: the file is left as it is)
                    pass
            except OSError as exc:
                raise OutputError(msg("sheet.out_file_in_use", path=str(there), reason=os_reason(exc))) from None
    return out


def output_file(path: str | Path) -> Path:
    """A file path to write: its folder is created with its parents if missing; OutputError if it cannot be written."""
    out = Path(path)
    if out.is_dir():
        raise OutputError(msg("sheet.is_folder", path=str(path)))
    parent = str(out.parent)
    _make_folder(
        out.parent,
        msg("sheet.parent_not_folder", path=str(path), parent=parent),
        msg("sheet.parent_cannot_create", path=str(path), parent=parent),
    )
    return out


def _make_folder(folder: Path, not_a_folder: Msg, cannot: Msg) -> None:
    """`folder` created with its parents if missing; OutputError with the caller's words if it cannot be."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(not_a_folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(msg("sheet.with_reason", message=cannot, reason=os_reason(exc))) from None


def write_text(path: str | Path, text: str) -> None:
    """Write `text` (UTF-8) to `path`, creating its folder; OutputError if it cannot be written."""
    out = output_file(path)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(msg("sheet.cannot_be_written", path=str(path), reason=os_reason(exc))) from None


@dataclass
class Record:
    """One application as read: its data (None if unreadable), where it came from, and reading problems."""

    number: int
    where: dict[str, Any]
    data: dict[str, Any] | None
    problems: list[dict[str, Any]] = field(default_factory=list)
    item_where: list[dict[str, Any]] = field(default_factory=list)
    key: str | None = None  # the claim id as read, when the data could not be built
    #: the JSON text `data` was decoded from (JSON Lines and JSON list inputs): the claim is read from it by the fast
    #: intake (`engine.deciding.claims.parse_claim_json`), the same claim or the same problems as from `data`
    text: str | None = None
    #: the columns its sheet has no heading for (a spreadsheet's record): a required fact missing from it is said as
    #: the column missing (`engine.records.batch.claim_problems`), not as 缺少此项 on every row
    absent: frozenset[str] = frozenset()
    #: the line of each path of `data` in its file, where its reader can tell (a YAML file); a JSON record's own
    #: `text` tells it too. A problem of a pretty-printed claim was placed at the claim's first line:
    #: `baddate.json:1` for a date on line 23.
    lines: Mapping[tuple[Any, ...], int] | None = None
    #: where each value of `text` stands (`line_of`), walked once for all of a record's problems
    _positions: Any = field(default=None, repr=False, compare=False)
    #: a sheet's application some of whose cells could not be read (`data` None): what was read of it, the cells in
    #: `problems` left out, so that the claim's other problems are said with them, not after they are mended
    partial: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def claim_id(self) -> str | None:
        if isinstance(self.data, Mapping):
            cid = self.data.get("claim_id")
            return cid if isinstance(cid, str) else None
        return self.key

    def locate(self, path: Sequence[Any]) -> tuple[dict[str, Any], str]:
        """Where a claim path points (line, or sheet and row) and the field's name as the input spells it."""
        parts = list(path)
        if self.item_where and len(parts) >= 2 and parts[0] == "items" and isinstance(parts[1], int) and parts[1] < len(self.item_where):
            rest = parts[2:]
            return self.item_where[parts[1]], "item." + ".".join(map(str, rest)) if rest else "item"
        if "sheet" in self.where or self.item_where:
            if parts and parts[0] == "applicant":
                return self.where, "applicant." + ".".join(map(str, parts[1:]))
            return self.where, ".".join(map(str, parts)) if parts else ""
        line = self.line_of(tuple(parts)) if parts else None
        return ({**self.where, "line": line} if line is not None else self.where), _dotted(parts)

    def named(self, message: Any) -> Any:
        """A claim problem's message as the input shows it: the one message naming another item by its place in the
        claim (`items[0]`: an item id used twice) names that item's row of a spreadsheet instead, the row the officer
        sees; any other message as it is."""
        if isinstance(message, Msg) and message.key == "claim.item_id_used":
            n = message.params.get("n")
            other = self.item_where[n] if isinstance(n, int) and 0 <= n < len(self.item_where) else {}
            if "row" in other:
                return msg("input.item_id_used_row", id=message.params["id"], row=other["row"])
        return message

    def line_of(self, path: tuple[Any, ...]) -> int | None:
        """The line of the file where `path` of the data stands (its nearest parent's), or None when its reader
        cannot tell."""
        if self.lines is not None:
            for n in range(len(path), 0, -1):
                if path[:n] in self.lines:
                    return self.lines[path[:n]]
            return None
        start = self.where.get("line")
        if self.text is None or not isinstance(start, int):
            return None
        from engine.core.jsonpos import json_positions, locate_in  # (only a record with a problem is walked again)

        try:
            if self._positions is None:  # (once a record: walked for each of 1,000 problems, it took 20 s)
                self._positions = json_positions(self.text)
            line = locate_in(self._positions, path)[0]
        except ValueError:  # (the text json read: never; a walk that stops is no place)
            return None
        return None if line is None else start + line - 1


def lines_within(positions: Mapping[tuple[Any, ...], tuple[int, int]]) -> dict[tuple[Any, ...], int]:
    """The line of each path of a YAML document's positions (a record of one claim: `Record.lines`)."""
    return {path: at[0] for path, at in positions.items() if path}


def lines_of_elements(positions: Mapping[tuple[Any, ...], tuple[int, int]]) -> dict[Any, dict[tuple[Any, ...], int]]:
    """The line of each path within each element of a YAML list, by the element's index, the index taken off: one
    pass over the document's positions (not one per element: a list of 10,000 claims)."""
    out: dict[Any, dict[tuple[Any, ...], int]] = {}
    for path, at in positions.items():
        if len(path) > 1:
            out.setdefault(path[0], {})[path[1:]] = at[0]
    return out


def _dotted(parts: Sequence[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


# --- formula injection -------------------------------------------------------------


#: What a worksheet cannot store (XML 1.0 has no C0 controls but tab, LF and CR, nor U+FFFE/U+FFFF) and what
#: no UTF-8 file can hold (lone surrogates). openpyxl raises IllegalCharacterError for the C0 ones (and writes
#: the others into a workbook Excel then refuses); a NUL in a CSV file cuts the line short in many programs.
UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


#: A row's text cells joined by line feeds, searched for a character `UNSTORABLE` finds and for a formula's start (at
#: the start, or after a line feed): neither, and no cell of the row has a character to escape or would run as a
#: formula, so `safe_cell` would leave every cell as it is. (A line feed inside a cell followed by `=` counts too:
#: such a row only goes the cell-by-cell way.) Three searches, not one pattern: an alternation with `(?:\A|\n)` is
#: tried at every character, ~4x slower (3.7 against 0.9 µs for an item row of 194 characters).
_FORMULA_FIRST = frozenset(FORMULA_START)
_FORMULA_AFTER_LF = re.compile("\n[" + re.escape("".join(FORMULA_START)) + "]")


def _plain_row(values: Sequence[Any]) -> bool:
    """True when `safe_cell` and `_Altered.note` would change and count nothing in `values`."""
    text = "\n".join([v for v in values if isinstance(v, str)])
    return text[:1] not in _FORMULA_FIRST and UNSTORABLE.search(text) is None and _FORMULA_AFTER_LF.search(text) is None


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def storable(text: str) -> str:
    """`text` with each character a worksheet or a UTF-8 file cannot hold written as its escape (`\\x07`, `\\ud800`)."""
    return UNSTORABLE.sub(_escape, text)


def safe_cell(value: Any) -> Any:
    """A text cell made safe to write: characters a worksheet cannot store are escaped (`storable`), and a cell a
    spreadsheet would run as a formula gets a leading apostrophe; everything else is unchanged."""
    if isinstance(value, str):
        value = storable(value)
        if value.startswith(FORMULA_START):
            return "'" + value
    return value


class Altered:
    """Counts the cells `safe_cell` had to escape, and names the first few (where, column)."""

    SHOWN = 5

    def __init__(self) -> None:
        self.count = 0
        self.first: list[str] = []

    def note(self, values: Sequence[Any], header: Sequence[str], where: str) -> None:
        for i, v in enumerate(values):
            if isinstance(v, str) and UNSTORABLE.search(v):
                self.count += 1
                if len(self.first) < self.SHOWN:
                    self.first.append(msg("sheet.place.column", where=where, column=header[i] if i < len(header) else i + 1))

    def says(self, name: str) -> str | None:
        """The warning for output `name`, or None if no cell was altered."""
        if not self.count:
            return None
        more = msg("sheet.altered_more", n=self.count - len(self.first)) if self.count > len(self.first) else ""
        return msg("sheet.altered", name=name, n=self.count, cells=list(self.first), more=more)


# --- readers -----------------------------------------------------------------------


class Reader:
    """Iterate records; `fraction()` estimates progress (0..1) when it can."""

    total: int | None = None

    def __iter__(self) -> Iterator[Record]:  # pragma: no cover - interface
        raise NotImplementedError

    def fraction(self) -> float | None:
        return None

    def notices(self) -> list[Msg]:
        """What the reader noticed in the input so far that stops nothing but the officer should know (a
        workbook's hidden rows, read as the others)."""
        return []

    def close(self) -> None:
        pass


def open_input(path: str | Path, policy: CompiledPolicy, encoding: str | None = None) -> Reader:
    """The reader of one input file by its suffix (commands read through `engine.records.inputs.open_claims`, which
    adds folders, one-claim files, `FILE:N` and the empty-input check). `encoding`: a CSV file's, else told."""
    name = str(path).lower()
    if not Path(path).is_file():
        raise InputError(msg("input.no_such_file", file=str(path)))
    if name.endswith((".jsonl", ".ndjson")):
        return JsonLinesReader(path)
    if name.endswith(".json"):
        return JsonListReader(path)
    if name.endswith((".yaml", ".yml")):
        return YamlListReader(path)
    if name.endswith(".csv"):
        return CsvReader(path, policy, encoding)
    if name.endswith(".xlsx"):
        return XlsxReader(path, policy)
    if name.endswith((".xls", ".et", ".ett", ".xlsm", ".xlsb", ".ods", ".numbers")):  # (another spreadsheet's own format)
        raise InputError(msg("input.other_spreadsheet", file=str(path), suffix=Path(path).suffix))
    raise InputError(msg("input.unknown_format", file=str(path)))


class _BytesProgress(Reader):
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.size = max(os.path.getsize(path), 1)
        self.f: IO[bytes] = open(path, "rb")  # closed in close()

    def fraction(self) -> float | None:
        try:
            return min(self.f.tell() / self.size, 1.0)
        except ValueError:
            return 1.0

    def close(self) -> None:
        self.f.close()


class JsonLinesReader(_BytesProgress):
    def __iter__(self) -> Iterator[Record]:
        n = 0
        for lineno, raw in enumerate(iter(self._line, b""), 1):
            if lineno == 1:  # (a UTF-8 byte order mark, as Notepad and PowerShell 5 write: not part of the first line)
                raw = raw.removeprefix(codecs.BOM_UTF8)
            if not raw.strip():
                continue
            n += 1
            where = {"file": self.path, "line": lineno}
            if len(raw) > JSONL_MAX_LINE and not raw.endswith(b"\n"):  # (the rest of it passed over, never held)
                size = len(raw) + self._pass_line()
                said = msg("input.jsonl_line_too_long", size=f"{size:,}", limit=f"{JSONL_MAX_LINE:,}")
                yield Record(n, where, None, [{"field": None, "message": said, "expected": msg("input.jsonl_line_too_long_fix"), **where}])
                continue
            try:
                text = raw.decode("utf-8")
                data = loads_json(text)
            except DuplicateKeyError as exc:
                yield Record(n, where, None, [_duplicate_problem(exc, where)], key=_claim_id_of(text))
                continue
            except RefusedJsonValue as exc:
                yield Record(n, where, None, [_refused_problem(exc, where)], key=_claim_id_of(text))
                continue
            except (UnicodeDecodeError, ValueError) as exc:
                yield Record(n, where, None, [{"field": None, "message": msg("input.not_json", reason=json_reason(exc)), **where}])
                continue
            if not isinstance(data, dict):
                yield Record(n, where, None, [{"field": None, "message": msg("input.not_object", kind=json_kind(data)), **where}])
                continue
            yield Record(n, where, data, text=text)

    def _line(self) -> bytes:
        """The next line, or its first `JSONL_MAX_LINE` + 1 bytes when it is longer (b"" at the file's end)."""
        return self.f.readline(JSONL_MAX_LINE + 1)

    def _pass_line(self) -> int:
        """Read past the rest of a line too long to read, a chunk at a time; its bytes (without the line's end)."""
        passed = 0
        while True:
            chunk = self.f.readline(1024 * 1024)
            passed += len(chunk)
            if not chunk:
                return passed
            if chunk.endswith(b"\n"):
                return passed - (2 if chunk.endswith(b"\r\n") else 1)


def _duplicate_problem(exc: DuplicateKeyError, where: dict[str, Any], column_known: bool = True) -> dict[str, Any]:
    """A JSON object naming a key twice, as a reading problem: its field, file line and column.

    `where["line"]` is the file line where the JSON text read starts; a column is given only where it
    counts from a line start (`column_known` is False for a text starting mid-line).
    """

    first_line, first_column = exc.first
    at = _at_line(where, exc.lineno, exc.colno, column_known)
    message = exc.describe(exc.key, where["line"] + first_line - 1, first_column if column_known or first_line > 1 else None)
    return {**at, "field": format_path(exc.path) if exc.path else None, "message": message, "expected": msg("input.duplicate_key_fix")}


def _at_line(where: dict[str, Any], line: int | None, column: int | None, column_known: bool) -> dict[str, Any]:
    """`where` moved to `line` and `column` of the JSON text read from `where["line"]`; the column only where it counts
    from a line's start (`column_known` is False for a text starting mid-line: its first line's columns are not the
    file's)."""
    if line is None:
        return dict(where)
    at = {**where, "line": where["line"] + line - 1}
    if column is not None and (column_known or line > 1):
        at["column"] = column
    return at


def _refused_problem(exc: RefusedJsonValue, where: dict[str, Any], column_known: bool = True) -> dict[str, Any]:
    """A JSON text json reads only to refuse (NaN, Infinity, nesting too deep), as a reading problem: its field,
    file line and column, and what to write instead, as a claim file's is said. A batch said only its line."""
    at = _at_line(where, exc.lineno, exc.colno, column_known)
    said = {"field": format_path(exc.path) if exc.path else None, "message": msg("input.not_json", reason=json_reason(exc))}
    return {**at, **said, **({"expected": exc.expected} if exc.expected is not None else {})}


def _placed_refusal(exc: ValueError, text: str) -> ValueError:
    """A list element's NaN or Infinity as `loads_json` refuses it in a whole text: placed in `text`, the element,
    with what to write instead (the decoder of many values leaves placing it to its reader)."""
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, Msg) and reason.key == "claim.json.not_a_number":
        return RefusedJsonValue(reason, text, msg("claim.json.digits"))
    return exc


def _claim_id_of(text: str) -> str | None:
    """The claim id of a JSON text refused for a key it names twice, for its error record (an officer finds the
    application by it): its `claim_id` when that is named once, as text; None when it is the key named twice."""
    try:
        top = json.loads(text, object_pairs_hook=_Pairs)
    except (ValueError, RecursionError):
        return None
    ids = [v for k, v in top if k == "claim_id"] if isinstance(top, _Pairs) else []  # (a list, a number: no claim)
    return ids[0] if len(ids) == 1 and isinstance(ids[0], str) else None


class _Pairs(list):  # type: ignore[type-arg]
    """A JSON object as its (key, value) pairs, every one kept (`_claim_id_of`): told apart from a JSON list."""


#: only to find where a refused element of a JSON list ends
_LENIENT = json.JSONDecoder()


#: in a JSON text outside strings: a whole string, or what opens or closes a value (a string's quote alone: the
#: string goes on past the text); inside a string, the run up to its end
_STRUCTURE = re.compile(r'"[^"\\]*(?:\\[\s\S][^"\\]*)*"|[\[\]{}"]')
_IN_STRING = re.compile(r'[^"\\]*(?:\\[\s\S][^"\\]*)*')
_SCALAR_END = re.compile(r"[,\]\s]")


def element_end(text: str, state: list[int]) -> tuple[int | None, int]:
    """Where the JSON value begun before `text` ends in it, found without decoding it: (the offset after the value,
    or None when it goes on past `text`; how much of `text` was passed over). `state` ([depth of lists and objects,
    inside a string, inside a scalar]) carries what the texts before said; an escape a text's end cuts is left
    unread, to come first in the next text. Linear in the text; nothing of the value is held."""
    depth, in_string, scalar = state
    i, n = 0, len(text)
    while i < n:
        if in_string:
            i = _IN_STRING.match(text, i).end()  # type: ignore[union-attr]  # (it matches, if only an empty run)
            if i >= n or text[i] == "\\":  # (a backslash ends the text: its escape is in the next one)
                break
            i, in_string = i + 1, 0
        elif scalar or (depth == 0 and text[i] not in '[{"'):  # a number, true, false or null as the element
            found = _SCALAR_END.search(text, i)
            if found is None:
                state[:] = [0, 0, 1]
                return None, n
            return found.start(), found.start()
        else:
            found = _STRUCTURE.search(text, i)
            if found is None:
                i = n
                break
            i, mark = found.end(), found.group()
            if mark == '"':
                in_string = 1
                continue
            depth += 1 if mark in "[{" else -1 if mark in "]}" else 0
        if depth == 0:
            return i, i
    state[:] = [depth, in_string, scalar]
    return None, i


class JsonListReader(_BytesProgress):
    """A JSON array of claims, decoded one element at a time (the array is never held whole). An element longer
    than a claim file may be (`JSONL_MAX_LINE` characters) is passed over unread, a chunk at a time, to its end."""

    CHUNK = 1 << 16

    def _text(self, decoder: codecs.IncrementalDecoder, chunk: bytes, at: int) -> str:
        """`chunk` (byte `at` of the file on) as text: a character the chunk's end cuts is completed by the next chunk,
        and bytes that are not UTF-8 (a GBK file) are an InputError, never replaced (the names would be garbled)."""
        try:
            return decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            offset = at + exc.start - (len(exc.object) - len(chunk))  # (the decoder's held bytes come first)
            raise InputError(msg("input.json_not_utf8", file=self.path, byte=f"0x{exc.object[exc.start]:02x}", offset=offset)) from None

    # long because: one pass over the list's text, a chunk at a time, with its few cursors (text, line, place) as
    # locals of the closures that move them; each element decoded, or refused in place and the list read on
    def __iter__(self) -> Iterator[Record]:
        buf = ""
        line = 1
        eof = False
        started = False
        n = 0
        decoder = codecs.getincrementaldecoder("utf-8")()
        read = 0

        def fill(doubled: bool = False) -> bool:
            """Read a chunk (`doubled`: chunks until the text held has doubled) into `buf`; False at the file's end.
            An element not yet whole is decoded again only as its text doubles, not after each chunk (a 30 MB
            element took 53 s, its time growing with the square of its length); never past a claim's bound by more
            than a chunk (an element longer is passed over, not decoded)."""
            nonlocal buf, eof, read
            parts, want, got = [buf], max(min(len(buf), JSONL_MAX_LINE + 1 - len(buf)), 1) if doubled else 1, 0
            while not eof and got < want:
                chunk = self.f.read(self.CHUNK)
                parts.append(self._text(decoder, chunk, read))
                read += len(chunk)
                got += len(chunk)
                eof = not chunk
            buf = "".join(parts)
            return got > 0

        def skip_space() -> None:
            nonlocal buf, line
            buf = buf if started else buf.removeprefix("\ufeff")  # (a UTF-8 BOM before the list, as Windows' editors write)
            i = 0
            while i < len(buf) and buf[i] in " \t\r\n":
                i += 1
            line += buf.count("\n", 0, i)
            buf = buf[i:]

        def pass_over() -> int:
            """The element at the start of `buf` passed over to its end, a chunk at a time: its length in characters."""
            nonlocal buf, line
            state, size = [0, 0, 0], 0
            while True:
                end, passed = element_end(buf, state)
                size += passed
                line += buf.count("\n", 0, passed)
                buf = buf[passed:]
                if end is not None:
                    return size
                if not fill():
                    raise InputError(msg("input.not_json_at", file=self.path, line=line, reason=msg("input.json_ends_in_element")))

        while True:
            skip_space()
            while not buf and fill():
                skip_space()
            if not buf:
                break
            if not started:
                if buf[0] != "[":
                    raise InputError(msg("input.json_list", file=self.path, line=line))
                buf = buf[1:]
                started = True
                continue
            if buf[0] == ",":
                buf = buf[1:]
                continue
            if buf[0] == "]":
                break
            refused: ValueError | None = None  # an element read whole but refused: reported, and the list goes on
            too_long = False
            while True:
                try:
                    try:
                        data, end = raw_decode_json(buf)
                    except DuplicateKeyError as exc:
                        refused, data, end = exc, None, exc.end or len(buf)
                    except json.JSONDecodeError:
                        raise
                    except ValueError as exc:  # NaN, Infinity, nested too deeply: find where the element ends
                        try:
                            end = _LENIENT.raw_decode(buf)[1]
                        except RecursionError:
                            raise InputError(msg("input.not_json_at", file=self.path, line=line, reason=json_reason(exc))) from None
                        refused, data = _placed_refusal(exc, buf[:end]), None
                    if end == len(buf) and not eof and fill():  # a number could continue in the next chunk
                        continue
                    too_long = end > JSONL_MAX_LINE  # (whole within the chunk past the bound: refused all the same)
                    break
                except json.JSONDecodeError as exc:
                    if len(buf) > JSONL_MAX_LINE:  # not whole within a claim's bound: passed over, never decoded
                        too_long = True
                        break
                    if fill(doubled=True):
                        continue
                    raise InputError(
                        msg("input.not_json_at", file=self.path, line=line + exc.lineno - 1, reason=json_reason(exc))
                    ) from None
            n += 1
            where = {"file": self.path, "line": line, "element": n - 1}
            if too_long:
                said = msg("input.json_element_too_long", size=f"{pass_over():,}", limit=f"{JSONL_MAX_LINE:,}")
                yield Record(
                    n, where, None, [{"field": None, "message": said, "expected": msg("input.json_element_too_long_fix"), **where}]
                )
                continue
            line += buf.count("\n", 0, end)
            text, buf = buf[:end], buf[end:]
            if isinstance(refused, DuplicateKeyError):
                yield Record(n, where, None, [_duplicate_problem(refused, where, column_known=False)], key=_claim_id_of(text))
            elif isinstance(refused, RefusedJsonValue):
                yield Record(n, where, None, [_refused_problem(refused, where, column_known=False)], key=_claim_id_of(text))
            elif refused is not None:
                yield Record(n, where, None, [{"field": None, "message": msg("input.not_json", reason=json_reason(refused)), **where}])
            elif isinstance(data, dict):
                yield Record(n, where, data, text=text)
            else:
                yield Record(n, where, None, [{"field": None, "message": msg("input.not_object", kind=json_kind(data)), **where}])


class YamlListReader(Reader):
    """A YAML list of claims (loaded whole, with line numbers for every field)."""

    def __init__(self, path: str | Path) -> None:
        from engine.language.source import load_yaml_file

        self.path = str(path)
        self.source = load_yaml_file(path)
        data = self.source.data
        if not isinstance(data, list):
            raise InputError(msg("input.yaml_list", file=str(path)))
        self.data: list[Any] = data
        self.total = len(data)
        self.done = 0

    def fraction(self) -> float | None:
        return self.done / max(self.total or 1, 1)

    def __iter__(self) -> Iterator[Record]:
        lines = lines_of_elements(self.source.positions)
        for i, data in enumerate(self.data):
            self.done = i + 1
            line, _ = self.source.where((i,))
            where = {"file": self.path, "line": line, "element": i}
            if isinstance(data, dict):
                rec = Record(i + 1, where, data, lines=lines.get(i, {}))
                rec.item_where = []
                yield rec
            else:
                yield Record(i + 1, where, None, [{"field": None, "message": msg("input.not_mapping"), **where}])

    def close(self) -> None:
        self.data = []


# --- tabular (CSV, XLSX) -----------------------------------------------------------


_LIST_INDEX = re.compile(r"(?:\.[0-9]+|\[[0-9]+\])+\Z")  # a list element's index in a field (`.0`; `[0]` in a JSON path)
_ITEM_PATH = re.compile(r"items\[([0-9]+)\]\.(.+)")  # a JSON claim's item fact (`items[0].date`)


def field_heading(field: str, headings: Mapping[str, Text], lang: str) -> str:
    """A problem's field as the sheet's column heading says it (`heading_text`), an element of a list column as its
    column (`applicant.some_dates.0`: that list column's cell), a JSON claim's item fact as which item and that
    column (`items[0].date`: 第 1 个事项的事项发生日期（item.date）); a field no column has as it is."""
    item = _ITEM_PATH.fullmatch(field)
    if item is not None:
        named = field_heading(f"item.{item.group(2)}", headings, lang)
        if named != f"item.{item.group(2)}":
            return tr(msg("sheet.item_field", n=int(item.group(1)) + 1, field=named), lang)
        return field
    column = _LIST_INDEX.sub("", field)
    if column not in headings and f"claim.{column}" in headings:  # (a claim fact's path is its bare name)
        column = f"claim.{column}"
    label = headings.get(column)
    return field if label is None else heading_text(label, column, lang)


def heading_text(label: Text, name: str, lang: str = "zh") -> str:
    """A column's heading as the template writes it, 申请人类型（applicant.kind）; in English, kind of applicant
    (applicant.kind). Both read back as that column."""
    return f"{label.zh}（{name}）" if lang == "zh" else f"{label.en} ({name})"


class Columns:
    """The columns a policy's vocabulary allows, and how to turn a cell into a claim value."""

    def __init__(self, policy: CompiledPolicy) -> None:
        self.policy = policy
        self.claim = {f"claim.{k}": v for k, v in policy.claim_facts.items()}
        self.applicant = {f"applicant.{k}": v for k, v in policy.applicant_facts.items()}
        item: dict[str, FactSpec] = {}
        for facts in policy.item_facts.values():
            for k, v in facts.items():
                item.setdefault(f"item.{k}", v)
        self.item = item

    def header_sets(self) -> tuple[list[str], list[str]]:
        """(applicants sheet columns, items sheet columns) in template order."""
        return ["claim_id", *self.claim, *self.applicant], ["claim_id", *self.item]

    def label(self, name: str) -> Text:
        """The policy's words for a column (`claim_id`: the application id)."""
        if name == "claim_id":
            return CLAIM_ID_LABEL
        spec = self.claim.get(name) or self.applicant.get(name) or self.item.get(name)
        return spec.label if spec is not None else Text(name, name)

    def headings(self) -> dict[str, Text]:
        """Every column's words, by its code."""
        apps, items = self.header_sets()
        return {name: self.label(name) for name in dict.fromkeys([*apps, *items])}

    def aliases(self, allowed: Sequence[str]) -> dict[str, str | None]:
        """What a header cell may say for each column, folded (`_fold`): its code (`applicant.kind`), its Chinese
        or English label (`申请人类型`), or the template's `申请人类型（applicant.kind）`. A label two columns share
        names neither (None): such a column is headed by its code."""
        codes = {_fold(c): c for c in allowed}
        out: dict[str, str | None] = dict(codes)
        for code in allowed:
            label = self.label(code)
            for word in (label.zh, label.en, f"{label.zh}({code})"):
                k = _fold(word)
                if k in codes:
                    continue
                out[k] = None if k in out and out[k] != code else code
        # a label's words before its explanation in brackets (申报年度 for 申报年度（支持所针对的上一年度）): how an
        # office heads its own sheet; a head two columns share, or that is a whole label too, names neither
        heads: dict[str, str | None] = {}
        for code in allowed:
            label = self.label(code)
            for word in (label.zh, label.en):
                k = _fold(word)
                head = k.split("(", 1)[0]
                if head and head != k and head not in codes:
                    heads[head] = None if head in heads and heads[head] != code else code
        for head, named in heads.items():
            if head not in out:
                out[head] = named
        return out

    def check(self, header: Sequence[str], allowed: Sequence[str], where: str) -> list[str]:
        """The header row with each cell as its column's code, an officer's own notes column (`notes_heading`: 备注,
        说明, remarks) as `NOTES`, never read; one InputError naming every unknown cell. A heading is first a column's:
        a policy whose column is labelled 说明 has it read. A row with no column's heading has no notes column either
        (a lone 说明 is a title row, a sheet of other headings is unknown columns, as before). A row wider than
        XLSX_MAX_COLUMNS up to its last heading is refused first, a CSV's as a sheet's: a 1 MB CSV header of 75,000
        unknown headings, each given a guess, took 104 s; of 110,000 `claim_id`, each counted among all, 22 s."""
        width = len(header)
        while width and not header[width - 1]:  # (trailing empty headings: Excel writes them for a stray cell's width)
            width -= 1
        if width > XLSX_MAX_COLUMNS:
            raise InputError(msg("sheet.too_many_columns", where=where, n=f"{width:,}", limit=f"{XLSX_MAX_COLUMNS:,}"))
        aliases = self.aliases(allowed)
        named: list[str] = []
        unknown = []
        for h in header:
            if not h:
                named.append("")
                continue
            code = _column_code(h, aliases, allowed)
            if code is None:
                unknown.append(h)
            named.append(code or h)
        if any(notes_heading(h) for h in unknown) and not set(named).isdisjoint(allowed):
            notes = {h for h in unknown if notes_heading(h)}  # (a set: a header may be thousands of cells wide)
            named = [NOTES if c in notes else c for c in named]
            unknown = [h for h in unknown if h not in notes]
        if unknown and len(unknown) == len([h for h in header if h]) == 1:  # one cell, no heading: a title row
            raise InputError(msg("sheet.title_row", where=where, title=repr(unknown[0])))
        if unknown:
            words = [w for w in aliases if aliases[w]]
            hints = []
            for h in unknown:
                close = difflib.get_close_matches(_fold(h), words, n=1)
                code = aliases[close[0]] if close else None
                # a heading written in words is offered the column's words (申请人类型（applicant.kind）), one written
                # as a code the code: 申请人类别 was asked "是否应为“applicant.kind”？", a code the officer never typed
                hint = code if code is None or h.isascii() else msg("sheet.column_named", label=Label(self.label(code)), code=code)
                hints.append(msg("sheet.unknown_column_hint", column=h, hint=hint) if hint else msg("sheet.unknown_column", column=h))
            shown = [msg("sheet.column_named", label=Label(self.label(c)), code=c) for c in allowed]
            raise InputError(msg("sheet.unknown_columns", where=where, columns=hints, allowed=shown))
        if "claim_id" not in named:
            raise InputError(msg("sheet.no_claim_id", where=where))
        seen = collections.Counter(c for c in named if c and c != NOTES)  # (备注 twice: both notes)
        twice = sorted(c for c, n in seen.items() if n > 1)
        if twice:
            raise InputError(msg("sheet.column_twice", where=where, columns=twice))
        return named

    def heads_rows(self, header: Sequence[str], allowed: Sequence[str]) -> bool:
        """Whether `header` is a heading row of these columns, as `check` would read it: every heading one of them or
        an officer's notes (`notes_heading`), the application id's among them and another's (a copy of the sheet,
        whose rows would be read, were it the sheet read; a sheet with other headings too -- a summary's -- is not,
        nor an officer's sheet of application ids and notes alone)."""
        aliases = self.aliases(allowed)
        named = [_column_code(h, aliases, allowed) for h in header if h]
        # (a copy of a sheet with a 备注 column, rows moved to it, would have its rows lost)
        named = [c for c, h in zip(named, [h for h in header if h], strict=True) if c is not None or not notes_heading(h)]
        return None not in named and "claim_id" in named and len(set(named)) > 1

    def convert(self, spec: FactSpec, value: Any) -> tuple[Any, str | None]:
        """A cell as a claim value (JSON-like), or an error message."""
        t = spec.type
        if isinstance(value, str) and t not in ("string", "identifier", "string_list"):
            value = value.strip()
        if value is None or value == "":
            return None, None
        if t == "date_list" and isinstance(value, _dt.date):  # a spreadsheet date cell: a list of one date
            day, said = _date_cell(value)
            return ([day] if said is None else None), said
        if t in ("enum_list", "document_list", "string_list", "date_list"):
            if isinstance(value, str):
                # dates are also separated by 、 and ， (no date holds one); a text by neither: 甲公司、乙公司 read as one
                # name was a right holder nobody is (refused as not the first), so the officer is told to write ；
                parts = [p.strip() for p in (LIST_SPLIT_DATES if t == "date_list" else LIST_SPLIT).split(value)]
                if t == "string_list" and any(_ENUMERATION_COMMAS.search(p) for p in parts):
                    return None, msg(
                        "input.list_commas", value=_shown(value), fix="；".join(p.strip() for p in _ENUMERATION_COMMAS.split(value))
                    )
                if t == "string_list" and any(_CHINESE_SEPARATORS.search(p) for p in parts):
                    fix = "；".join(q.strip() for q in _CHINESE_SEPARATORS.split(value))
                    return None, msg("input.list_separators", value=_shown(value), fix=fix)
                if t == "string_list" and any(p in NONE_WORDS for p in parts):
                    return None, msg("input.list_none", value=_shown(value))  # (无 was a right holder named 无)
                return [p for p in parts if p], None
            return [str(value)], None
        if t == "boolean":
            if isinstance(value, bool):
                return value, None
            if isinstance(value, int | float) and value in (0, 1):
                return bool(value), None
            word = str(value).strip().lower().replace("\ufe0f", "")  # (✔️ pasted from a phone: ✔ and its emoji selector)
            if word in TRUE_WORDS:
                return True, None
            if word in FALSE_WORDS:
                return False, None
            return None, msg("input.not_yes_no", value=_shown(value))
        if t == "percent":
            return _percent_value(value)
        if t == "decimal" and isinstance(value, float):  # a numeric cell (a 65%-formatted one is 0.65): its shortest decimal form
            return (
                (str(Decimal(repr(float(value)))), None) if math.isfinite(value) else (None, msg("input.not_number", value=_shown(value)))
            )
        if t in ("integer", "count"):
            return _whole_cell(value)
        if t == "money":
            return _amount_cell(value)
        if t == "date":
            return _date_cell(value)
        if t in ("string", "identifier") and isinstance(value, str) and any(c in value.strip() for c in "\r\n"):
            # a line break inside a name (Alt+Enter in the cell) was said as a control character, U+000A
            return None, msg("input.line_break", value=_shown(value))
        if isinstance(value, _dt.date) and t in ("string", "identifier"):  # Excel made `1-2` typed in it a date
            return None, msg("input.date_in_text", value=_shown(value))
        if t == "identifier" and isinstance(value, int | float) and not isinstance(value, bool):
            said = number_cell_problem(spec.format, value)
            if said is not None:
                return None, said
        if isinstance(value, float) and abs(value) >= _EXACT_DIGITS:  # an 18-digit ID typed into a number cell
            return None, msg("input.long_number", value=repr(value))
        if t == "identifier" and isinstance(value, str) and _SCIENTIFIC.fullmatch(value.strip()):  # (its CSV export)
            return None, number_cell_problem(spec.format, value.strip()) or msg("input.long_number", value=repr(value.strip()))
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value), None


#: the most digits a whole-number cell is read with (a year, a count): int() of 5,000 digits raised Python's own
#: ValueError (its limit is 4,300), a traceback that stopped the whole batch
_WHOLE_DIGITS = 18


def _whole_cell(value: Any) -> tuple[Any, Msg | None]:
    """A whole-number cell (a year, a count) as a claim value, or what is wrong with it and, for one written with
    full-width digits or a unit (２０２１, 2021年, 3个), how to write it."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value, None
    if isinstance(value, float) and value.is_integer():
        return int(value), None
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value):
        if len(value) > _WHOLE_DIGITS:
            return None, msg("input.too_many_digits", value=repr(clip_text(value, 100)), n=f"{len(value):,}", limit=_WHOLE_DIGITS)
        return int(value), None
    if isinstance(value, str):
        digits = whole_written(value)
        if digits:
            return None, msg("input.not_whole_fix", value=_shown(value), fix=digits)
    return None, msg("input.not_whole", value=_shown(value))


#: dates Excel counts from 1899-12-30 (its serial numbers), within the years a claim's dates can be
_EXCEL_DAY_ZERO, _SERIALS = _dt.date(1899, 12, 30), range(25569, 73051)  # 1970-01-01 .. 2099-12-31


def _date_cell(value: Any) -> tuple[Any, Msg | None]:
    """A date cell as a claim value (YYYY-MM-DD), or what is wrong with it; a date cell that lost its date format
    shows Excel's serial number (44365), said with the date it stands for."""
    if isinstance(value, _dt.datetime):
        if value.time() != _dt.time():
            return None, msg("input.time_of_day", value=str(value), date=value.date().isoformat())
        return value.date().isoformat(), None
    if isinstance(value, _dt.date):
        return value.isoformat(), None
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer() and int(value) in _SERIALS:
        day = _EXCEL_DAY_ZERO + _dt.timedelta(days=int(value))
        return None, msg("input.date_serial", value=_shown(value), date=day.isoformat())
    if isinstance(value, int | float) and not isinstance(value, bool):  # (20210305 typed in a number cell: no text)
        shown = _shown(int(value) if math.isfinite(value) and float(value).is_integer() else value)
        digits = re.fullmatch(r"([0-9]{4})([0-9]{2})([0-9]{2})", shown)
        try:
            read: _dt.date | None = _dt.date(*map(int, digits.groups())) if digits else None
        except ValueError:  # (20211399: no such day)
            read = None
        if read is None:
            return None, msg("input.date_number_form", value=shown)
        return None, msg("input.date_number", value=shown, date=read.isoformat())
    return str(value), None


def _amount_cell(value: Any) -> tuple[Any, Msg | None]:
    """An amount cell as a claim value, or what is wrong with it (a yes/no or a date cell: which, and what to do)."""
    if isinstance(value, bool):
        return None, msg("input.yes_no_not_amount", value=_shown(value))
    if isinstance(value, _dt.date):  # (a date typed, or pasted, into the column)
        return None, msg("input.date_not_amount", value=_shown(value))
    if isinstance(value, int):
        return str(value), None
    if isinstance(value, float):  # a numeric spreadsheet cell: its shortest decimal form, never binary arithmetic
        try:
            amount = Decimal(repr(value))
            near = amount.quantize(_FEN)
        except InvalidOperation:
            return None, msg("input.not_amount", value=_shown(value))
        # =A1*100 of 0.07 gives 7.000000000000001: said, not rounded (a negative amount is read as written: the
        # claim's check then says it is negative, the slip to mend first)
        if amount != near and abs(amount - near) < _NOISE and not amount.is_signed():
            return None, msg("input.formula_noise", value=repr(value), near=str(near))
        return str(amount), None
    return str(value), None


def _shown(value: Any) -> str:
    """A cell's value as a message shows it: a date cell as its date (not `datetime.datetime(2021, 1, 1, 0, 0)`), a
    text quoted, a number as written."""
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ") if value.time() != _dt.time() else value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, bool):  # (as the spreadsheet shows it, not Python's True)
        return "TRUE" if value else "FALSE"
    return repr(value)


#: a spreadsheet keeps 15 significant digits of a number: a number cell this large has lost digits of what was typed
_EXACT_DIGITS = 1e15
_SCIENTIFIC = re.compile(r"[0-9](?:\.[0-9]+)?[eE]\+[0-9]+")  # how such a cell is exported as text (1.10117E+17)


def _mangled_id(value: Any) -> bool:
    """Whether a claim id cell holds what a spreadsheet made of an id rather than the id: a number past its 15 exact
    digits, a rounded one as text (2.02203E+17), a date or time. Grouped by such ids, rows of two applications were
    decided as one (two 18-digit ids differing in their last digits both read as one rounded number)."""
    if isinstance(value, _dt.date | _dt.time):
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return abs(value) >= _EXACT_DIGITS or (isinstance(value, float) and not value.is_integer())
    return isinstance(value, str) and _SCIENTIFIC.fullmatch(value.strip()) is not None


# --- closed choices: codes and the policy's labels ----------------------------------

#: the types whose cells hold one of a closed list of codes (written in a cell as the code or its label)
CHOICE_TYPES = frozenset({"enum", "enum_list", "document_list", "item_type", "boolean"})
LIST_CHOICE_TYPES = frozenset({"enum_list", "document_list"})
BOOLEAN_LABELS = {"true": Text("是", "yes"), "false": Text("否", "no")}


def _template_hint(cid: str) -> bool:
    """Whether a claim id beginning with `#` is one the batch template writes on its hint rows: its English row's
    (`# application id`) or an example application's (`#示例-1`). Another (`#2`) is a row an officer may have meant
    read: skipped as a comment, it is said (`sheet.comment_rows`)."""
    if cid == "# " + CLAIM_ID_LABEL.en:
        return True
    for lang in languages():
        head, _, tail = lookup("sheet.example_id", lang).partition("{n}")
        if cid.startswith(head) and cid.endswith(tail) and cid[len(head) : len(cid) - len(tail)].isdigit():
            return True
    return False


def _label_of(value: Any, code: str) -> Text:
    if isinstance(value, Mapping) and isinstance(value.get("zh"), str):
        return Text(str(value["zh"]), str(value.get("en") or value["zh"]))
    if isinstance(value, Text):
        return value
    return Text(code, code)


def _fold(text: str) -> str:
    """A label as compared: no spaces, case folded, full-width brackets as ASCII ones."""
    return re.sub(r"\s+", "", text).casefold().replace("（", "(").replace("）", ")")


#: what `Columns.check` puts for an officer's own notes column (`notes_heading`): no column's code, never read
NOTES = "\n notes "
#: the headings an office gives a column of its own remarks (language, not a policy's: read past whatever the
#: policy), as `_fold` leaves them, width folded too: 备注, 附注, 说明, 备考, remark(s), note(s), comment(s); two of
#: them together (备注说明, 备注/说明), 备注栏, 备注信息; then a number or a few words in brackets, each or both (备注1, 备注（经办人）,
#: 说明2(复核)), and a colon. Nothing else after: 说明书 or 备注日期 may be a policy's fact misspelt, and is refused.
_NOTES_HEADING = re.compile(
    r"(?:备注|附注|说明|备考|remarks?|notes?|comments?)(?:[/、&]?(?:备注|附注|说明|备考|remarks?|notes?|comments?))?(?:栏|信息)?"
    r"(?:[-_#.]?[0-9]{1,3})?(?:\([^()]{0,20}\))?(?:[-_#.]?[0-9]{1,3})?:?"
)


def notes_heading(heading: str) -> bool:
    """Whether a heading is an officer's notes column's (`_NOTES_HEADING`): read past, never into a claim."""
    return _NOTES_HEADING.fullmatch(_fold(unicodedata.normalize("NFKC", heading))) is not None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


class Choices:
    """The closed choices of a policy's columns: for each column (and, for an item fact, each item type) the
    codes it takes and the policy's Chinese and English label of each, so that a cell may hold the code
    (`enterprise`) or either label (`企业`), and the template's dropdowns can show the labels."""

    def __init__(self, policy: CompiledPolicy, cols: Columns) -> None:
        doc = policy.data if isinstance(policy.data, Mapping) else {}
        self.tables: dict[tuple[str, str | None], dict[str, Text]] = {}
        for section, specs in (("claim", policy.claim_facts), ("applicant", policy.applicant_facts)):
            declared = ((doc.get("facts") or {}).get(section) or {}) if isinstance(doc.get("facts"), Mapping) else {}
            for name, spec in specs.items():
                table = self._table(policy, spec, declared.get(name), doc)
                if table is not None:
                    self.tables[(f"{section}.{name}", None)] = table
        common = _mapping(doc.get("item_facts"))
        types = _mapping(doc.get("item_types"))
        for item_type, specs in policy.item_facts.items():
            own = ((types.get(item_type) or {}).get("facts") or {}) if isinstance(types.get(item_type), Mapping) else {}
            for name, spec in specs.items():
                table = self._table(policy, spec, own.get(name, common.get(name)), doc)
                if table is not None:
                    self.tables[(f"item.{name}", item_type)] = table
        for column in cols.item:  # one table for the column: every item type's codes (the first label of a code)
            merged: dict[str, Text] = {}
            for (c, t), table in list(self.tables.items()):
                if c == column and t is not None:
                    for code, label in table.items():
                        merged.setdefault(code, label)
            if merged:
                self.tables[(column, None)] = merged
        self.types = {name: spec.type for name, spec in {**cols.claim, **cols.applicant, **cols.item}.items()}
        self.headings = cols.label  # a column's words: a refused choice names its column so (申请人类型), not by its code
        self._lookups: dict[tuple[str, str | None], dict[str, str | None]] = {}
        #: of each lookup, the most pieces between 、 one of its words has (专利导航、预警、战略制定项目: 3)
        self._spans: dict[tuple[str, str | None], int] = {}

    @staticmethod
    def _table(policy: CompiledPolicy, spec: FactSpec, declared: Any, doc: Mapping[str, Any]) -> dict[str, Text] | None:
        if spec.type not in CHOICE_TYPES:
            return None
        if spec.type == "boolean":
            return dict(BOOLEAN_LABELS)
        if spec.type == "item_type":
            return dict(policy.item_type_labels)
        labels: Any = declared.get("values") if isinstance(declared, Mapping) else None
        if not isinstance(labels, Mapping) and isinstance(declared, Mapping) and isinstance(declared.get("values_from"), str):
            labels = doc.get(declared["values_from"])
        if not isinstance(labels, Mapping) and spec.type == "document_list":
            labels = policy.documents
        codes = spec.values or (tuple(labels) if isinstance(labels, Mapping) else ())
        if not codes:
            return None
        return {str(c): _label_of(labels.get(c) if isinstance(labels, Mapping) else None, str(c)) for c in codes}

    def table(self, column: str, item_type: str | None = None) -> dict[str, Text] | None:
        """code -> label of `column` (for an item fact: of `item_type`'s, else every type's), None if it is open."""
        return self.tables.get((column, item_type)) or self.tables.get((column, None))

    def _lookup(self, column: str, item_type: str | None) -> dict[str, str | None]:
        """folded code or label -> code (None where a label names two codes)."""
        key = self._key(column, item_type)
        found = self._lookups.get(key)
        if found is None:
            table = self.tables.get(key) or {}
            codes = {_fold(c): c for c in table}
            found = dict(codes)
            for code, label in table.items():
                # its labels, and the value as the workbook's guide and a refusal list it (自然人（natural_person）,
                # natural_person (natural person)): copied from there, it was refused as not among the values it is
                for word in (label.zh, label.en, f"{label.zh}（{code}）", f"{code} ({label.en})"):
                    k = _fold(word)
                    if k in codes:  # a code is always itself
                        continue
                    found[k] = None if k in found and found[k] != code else code  # a label naming two codes names none
            self._lookups[key] = found
            self._spans[key] = max((k.count("、") for k in found), default=0) + 1
        return found

    @staticmethod
    def _guessed(table: Mapping[str, Text], word: str) -> Msg | str:
        guess = choice_guess(table, word)
        return word if guess is None else msg("input.unknown_value_guess", word=word, guess=guess)

    def _key(self, column: str, item_type: str | None) -> tuple[str, str | None]:
        """The table a column's cell is read by: its item type's own, else the column's."""
        return column, item_type if (column, item_type) in self.tables else None

    def _span(self, column: str, item_type: str | None) -> int:
        self._lookup(column, item_type)
        return self._spans[self._key(column, item_type)]

    def code(self, column: str, item_type: str | None, word: str) -> str | None:
        """The code a cell's word stands for (the code itself or a label), or None."""
        lookup = self._lookup(column, item_type)
        found = lookup.get(word)  # the code or label as written: most cells, without folding
        return found if found is not None else lookup.get(_fold(word))

    def codes(self, column: str, item_type: str | None, text: str) -> tuple[list[str], list[str]]:
        """A list cell's codes, and the words that are none: values separated by `;`, `；`, a line break or `、`
        (a label holding `、` itself is read whole)."""
        lookup, span = self._lookup(column, item_type), self._span(column, item_type)
        out: list[str] = []
        unknown: list[str] = []
        for part in (p.strip() for p in LIST_SPLIT.split(text)):
            if not part:
                continue
            pieces = [p.strip() for p in part.split("、")]
            i = 0
            while i < len(pieces):
                # the longest run of pieces that is one label, of no more pieces than a label has: every run to the
                # part's end was tried, joined and folded, from each piece (a cell of 1,000 values took 35 s)
                for j in range(min(len(pieces), i + span), i, -1):
                    words = "、".join(pieces[i:j])
                    found = lookup.get(words) or lookup.get(_fold(words))
                    if found:
                        out.append(found)
                        i = j
                        break
                else:
                    if pieces[i]:
                        unknown.append(pieces[i])
                    i += 1
        return out, unknown

    def accepted(self, column: str, item_type: str | None) -> list[Msg]:
        """The values a column accepts, each as its label and code, for a message."""
        table = self.table(column, item_type) or {}
        return [msg("input.choice", label=Label(t), code=c) for c, t in table.items()]

    def resolve(self, column: str, item_type: str | None, value: Any) -> tuple[Any, Msg | None]:
        """A cell of a closed-choice column as the claim writes it (codes), or the message naming what is accepted."""
        kind = self.types.get(column)
        if kind not in CHOICE_TYPES or kind == "boolean" or not isinstance(value, str):
            return value, None
        text = value.strip()
        if not text:
            return value, None
        if kind in LIST_CHOICE_TYPES:
            if text in NONE_WORDS:  # none at all, said (无, -): an empty cell is a list not given (unknown to a match)
                return [], None
            codes, unknown = self.codes(column, item_type, text)
            if unknown:  # each value of the cell that is none, asked as a single cell is if it is one a character off
                table = self.table(column, item_type) or {}
                words = [self._guessed(table, w) if n < MAX_VALUES_GUESSED else w for n, w in enumerate(unknown)]
                said = Label(self.headings(column))
                return None, msg("input.unknown_choices", words=words, column=said, accepted=self.accepted(column, item_type))
            return codes, None
        code = self.code(column, item_type, text)
        if code is None:
            said = Label(self.headings(column))
            accepted = self.accepted(column, item_type)
            guess = choice_guess(self.table(column, item_type) or {}, text)
            if guess is not None:  # `发明专利受权`, `invention_patent_grnt`: the value meant, by its name and code
                return None, msg("input.unknown_choice_close", word=text, column=said, guess=guess, accepted=accepted)
            return None, msg("input.unknown_choice", word=text, column=said, accepted=accepted)
        return code, None


def choice_guess(table: Mapping[str, Text], word: str, cutoff: float = 0.6) -> Msg | None:
    """The value of a closed choice (code -> its words) whose code or name (Chinese or English) is nearest `word` --
    one written a character or two off --, asked as its label and code (`是否应为“发明专利授权（invention_patent_grant）”？`);
    None when none is as near as `cutoff` (difflib's ratio). The one near-miss question: a sheet's cell, and an item
    type a match leaves out."""
    names = {_fold(w): c for c, t in table.items() for w in (c, t.zh, t.en)}
    close = difflib.get_close_matches(_fold(word), list(names), n=1, cutoff=cutoff)
    if not close:
        return None
    code = names[close[0]]
    return msg("input.choice_guess", choice=msg("input.choice", label=Label(table[code]), code=code))


_NO_SPEC = FactSpec("", "string", Text("", ""), False, False, None)


class _PercentCell(float):
    """A numeric spreadsheet cell formatted as a percentage (Excel keeps 4.35% as 0.0435 with a "0.00%" format)."""


def _percent_cell(cell: Any) -> Any:
    """A cell of a percent column: a number formatted as a percentage kept as such (`{"$percent": ...}` in the
    spool), anything else as its value."""
    value = getattr(cell, "value", None)
    if isinstance(value, int | float) and not isinstance(value, bool) and "%" in str(getattr(cell, "number_format", "") or ""):
        return {"$percent": repr(float(value))}
    return value


def _percent_value(value: Any) -> tuple[Any, str | None]:
    """A percent column's cell as the claim writes it ("4.35%"): a text "4.35%", or a number formatted as a
    percentage in Excel (0.0435 -> "4.35%"). A bare number is refused with the fix: it could be 4.35% or 0.0435%."""
    if isinstance(value, _PercentCell):
        if not math.isfinite(value):
            return None, msg("input.not_percent", value=repr(value))
        return f"{(Decimal(repr(float(value))) * 100).normalize():f}%", None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            return text.replace(" ", ""), None
        return None, msg("input.no_percent_sign", value=repr(value), text=text)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return None, msg("input.bare_percent", value=repr(value))
    return None, msg("input.not_percent", value=repr(value))


def _column_code(heading: str, aliases: Mapping[str, str | None], allowed: Sequence[str]) -> str | None:
    """The column a heading names (its code, a word of it, or `any words (code)`: the code decides), or None."""
    k = _fold(heading)
    code = aliases.get(k)
    if code is None:
        tail = re.search(r"\(([A-Za-z0-9_.]+)\)$", k)
        code = next((c for c in allowed if tail and _fold(c) == tail.group(1)), None)
    return code


#: dashes a keyboard or a word processor puts for `-` (NFKC leaves these as they are; it makes － and ﹣ a `-`)
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"))


def _standard_id(claim_id: str) -> str:
    """A claim id in its standard writing: half-width, ASCII dashes, no space or invisible character (its case kept)."""
    text = unicodedata.normalize("NFKC", claim_id).translate(_DASHES)
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) != "Cf")


def id_form(claim_id: str) -> str:
    """A claim id as written alike: its standard writing (`_standard_id`) in one case. `pg-2022-0002`, `PG–2022–0002`,
    `PG-2022- 0002` and `ＰＧ－２０２２－０００２` are `PG-2022-0002` written other ways: a sheet's rows so written were an
    application of their own, or left its items out of it."""
    return _standard_id(claim_id).casefold()


def id_forms(ids: Iterable[str]) -> dict[str, str]:
    """Each written-alike form (`id_form`) of `ids` -> the id it stands for: the first written in its standard writing
    (`_standard_id`: never `L–1` beside `L-1`), else the first; `ids` in the order the input gives them. Two in their
    standard writing that differ in case only (`L-1`, `l-1`) are both that (`only_case`): which is meant is not told."""
    out: dict[str, str] = {}
    for cid in sorted(ids, key=lambda c: _standard_id(c) != c):  # (stable: the input's order kept among each)
        out.setdefault(id_form(cid), cid)
    return out


def only_case(written: str, meant: str) -> bool:
    """`written` differs from `meant` in letter case alone: two ids each in its standard writing (`L-1`, `l-1`), of
    which neither can be told the right one (the message says so, and asks for one writing or two ids)."""
    return _standard_id(written) == written and written != meant


def written_as(claim_id: str, forms: Mapping[str, str]) -> str | None:
    """The id (of `forms`, `id_forms`) that `claim_id` is written another way, or None."""
    meant = forms.get(id_form(claim_id))
    return meant if meant is not None and meant != claim_id else None


class _Spool:
    """Rows on disk, grouped by claim id in order of first appearance."""

    def __init__(self) -> None:
        fd, self.path = tempfile.mkstemp(prefix="policy-engine-rows-", suffix=".sqlite")
        os.close(fd)
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("CREATE TABLE rows (seq INTEGER PRIMARY KEY, kind TEXT, claim_id TEXT, rowno INTEGER, cells TEXT)")
        self.seq = 0

    def add(self, kind: str, claim_id: str, rowno: int, cells: Mapping[str, Any]) -> None:
        self.seq += 1
        self.db.execute("INSERT INTO rows VALUES (?, ?, ?, ?, ?)", (self.seq, kind, claim_id, rowno, json.dumps(cells, default=_cell_json)))

    def index(self) -> None:
        self.db.execute("CREATE INDEX rows_claim ON rows (kind, claim_id, seq)")
        self.db.commit()

    def claims(self, kind: str) -> Iterator[str]:
        cur = self.db.execute("SELECT claim_id FROM rows WHERE kind = ? GROUP BY claim_id ORDER BY min(seq)", (kind,))
        for (cid,) in cur:
            yield cid

    def has(self, kind: str) -> bool:
        """Whether a row of `kind` was added."""
        return bool(self.db.execute("SELECT EXISTS (SELECT 1 FROM rows WHERE kind = ?)", (kind,)).fetchone()[0])

    def count(self, kind: str) -> int:
        return int(self.db.execute("SELECT count(DISTINCT claim_id) FROM rows WHERE kind = ?", (kind,)).fetchone()[0])

    def rows(self, kind: str, claim_id: str) -> list[tuple[int, dict[str, Any]]]:
        cur = self.db.execute("SELECT rowno, cells FROM rows WHERE kind = ? AND claim_id = ? ORDER BY seq", (kind, claim_id))
        return [(r, _cells_from_json(c)) for r, c in cur]

    def strays(self, kind: str, known: Collection[str]) -> dict[str, list[tuple[str, int]]]:
        """Rows of `kind` that may be an application's though they do not say so, by the application (of `known`):
        a row with no claim id, the application's whose row comes last before it in the sheet (an officer writing the
        id on an application's first row only); a row whose id is a known one written another way (full-width
        characters, spaces), that one's. Each as (the id written, its row)."""
        out: dict[str, list[tuple[str, int]]] = {}
        forms = id_forms(sorted(known))
        last = None  # the application of the last row with an id (None: an id of no application, not guessed at)
        for cid, rowno in self.db.execute("SELECT claim_id, rowno FROM rows WHERE kind = ? ORDER BY rowno, seq", (kind,)):
            if cid in known:
                last = cid
                continue
            meant = last if not cid else written_as(cid, forms)
            if meant is not None:
                out.setdefault(meant, []).append((cid, rowno))
            if cid:
                last = meant
        return out

    def close(self) -> None:
        self.db.close()
        try:
            os.remove(self.path)
        except OSError:  # pragma: no cover
            pass


def _cell_json(value: Any) -> Any:
    if isinstance(value, _dt.datetime | _dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, float):  # pragma: no cover - json handles floats itself
        return value
    return str(value)


def _cells_from_json(text: str) -> dict[str, Any]:
    def hook(d: dict[str, Any]) -> Any:
        if set(d) == {"$date"}:
            v = d["$date"]
            return _dt.datetime.fromisoformat(v) if "T" in v else _dt.date.fromisoformat(v)
        if set(d) == {"$decimal"}:
            return Decimal(d["$decimal"])
        if set(d) == {"$percent"}:
            return _PercentCell(d["$percent"])
        return d

    out = json.loads(text, object_hook=hook)
    assert isinstance(out, dict)
    return out


class _TabularReader(Reader):
    def __init__(self, path: str | Path, policy: CompiledPolicy) -> None:
        self.path = str(path)
        self.cols = Columns(policy)
        self.choices = Choices(policy, self.cols)
        self.spool = _Spool()
        self.done = 0
        self.absent: frozenset[str] = frozenset()  # the columns of its sheets that have no heading (`Record.absent`)
        self.noticed: list[Msg] = []  # what `notices` says
        self.notes: list[str] = []  # the headings of its officer's notes columns (`notes_heading`), as written

    def fraction(self) -> float | None:
        return self.done / max(self.total or 1, 1)

    def close(self) -> None:
        self.spool.close()

    def _item_type(self, cells: Mapping[str, Any], types: set[str]) -> None:
        """The item type a row's `item.type` cell names (its code or label) added to `types`, if it names one."""
        kind = cells.get("item.type")
        code = self.choices.code("item.type", None, kind.strip()) if isinstance(kind, str) and kind.strip() else None
        if code is not None:
            types.add(code)

    def _missing_columns(self, kind: str, where: Msg | str, allowed: Sequence[str], header: Sequence[str], types: Collection[str]) -> None:
        """The notice of the columns `batch-template` writes for a sheet (`allowed`) that its heading row lacks, once a
        row of it (of `kind` in the spool) was read (a sheet of headings alone lacks nothing): each such fact or
        document is read as given by no application, so one that needs it is decided incomplete (材料不全) as if its
        applicant had not given it -- an officer who deleted columns was never told. Only a fact the policy
        reads and does not require counts (a required one's missing column is each application's error already,
        `input.no_column`; a record-only one changes no decision); an item fact's only for an item type read
        (`types`: a round of patents alone needs no loan's columns), or for any type when no item type was read.
        Said once for the sheet; the applications are decided as they are (a round where no application has such a
        fact is right to leave its column out).
        A column whose blank is an answer -- a fact with a default (`default: []`, none), not a documents list -- is
        said apart, in a quieter word (`sheet.missing_columns_blank`): left out, it is read as its default, never as
        unknown, so it leaves nothing incomplete (a hand-made sheet without the roles or the findings columns was told
        that its applications may be decided incomplete for want of them)."""
        if not self.spool.has(kind):
            return
        policy = self.cols.policy
        read = [policy.item_facts[t] for t in types if t in policy.item_facts] or list(policy.item_facts.values())

        def specs(column: str) -> list[FactSpec]:
            if column.startswith("item."):
                return [facts[column[5:]] for facts in read if column[5:] in facts]
            return [spec for spec in (self.cols.claim.get(column) or self.cols.applicant.get(column),) if spec is not None]

        missing = [
            c for c in allowed if c != "claim_id" and c not in header and any(not s.required and not s.record_only for s in specs(c))
        ]
        blank_ok = [c for c in missing if all(s.has_default and s.type != "document_list" for s in specs(c))]
        for key, said in (("sheet.missing_columns", [c for c in missing if c not in blank_ok]), ("sheet.missing_columns_blank", blank_ok)):
            if said:
                columns = [msg("sheet.column_named", label=Label(self.cols.label(c)), code=c) for c in said]
                self.noticed.append(msg(key, where=where, n=len(said), columns=columns))

    def _notes_said(self) -> None:
        """The file's notes columns (`self.notes`) said once, in a calm word: each heading once (备注 in both sheets,
        or twice in one), as the officer wrote it. Their cells were never read: a formula's error value there
        refuses nothing."""
        if self.notes:
            columns = [msg("sheet.notes_column", column=h) for h in dict.fromkeys(self.notes)]
            self.noticed.append(msg("sheet.notes_columns", where=self.path, columns=columns))

    def _cell(self, name: str, spec: FactSpec, value: Any, item_type: str | None) -> tuple[Any, str | None]:
        """A cell as a claim value: a closed choice's label read as its code, then the cell converted by its type."""
        if value is None or value == "":  # the most common cell of a CSV file: a fact of another item type
            return None, None
        # a failed formula's #N/A was read as a name; one typed by hand may be lower case (#n/a), as Excel reads it
        if isinstance(value, str) and "#" in value and value.strip().upper() in EXCEL_ERRORS:
            return None, msg("input.error_value", value=repr(value.strip()))
        if spec.type in CHOICE_TYPES and spec.type != "boolean" and isinstance(value, str):
            resolved, err = self.choices.resolve(name, item_type, value)
            if err is not None or isinstance(resolved, list):
                return resolved, err
            value = resolved
        return self.cols.convert(spec, value)

    def _build(
        self, n: int, claim_id: str, head: tuple[dict[str, Any], dict[str, Any]], items: list[tuple[dict[str, Any], dict[str, Any]]]
    ) -> Record:
        """head: (cells, where) of the application row; items: (cells, where) of each item row."""
        cells, where = head
        problems: list[dict[str, Any]] = []
        data: dict[str, Any] = {"claim_id": claim_id}
        applicant: dict[str, Any] = {}
        for name, value in cells.items():
            spec = self.cols.claim.get(name) or self.cols.applicant.get(name)
            if spec is None:
                continue
            v, err = self._cell(name, spec, value, None)
            if err:
                problems.append({"field": name, "message": err, **where})
            elif v is not None:
                if name.startswith("applicant."):
                    applicant[name.split(".", 1)[1]] = v
                else:
                    data[name.split(".", 1)[1]] = v
        data["applicant"] = applicant
        out_items = []
        item_where = []
        for icells, iwhere in items:
            item: dict[str, Any] = {}
            kind = icells.get("item.type")
            item_type = self.choices.code("item.type", None, kind) if isinstance(kind, str) else None
            facts = self.cols.policy.item_facts.get(item_type) if isinstance(item_type, str) else None
            for name, value in icells.items():
                spec = self.cols.item.get(name)
                if spec is None:
                    continue
                if facts is not None and name[5:] not in facts and value is not None and str(value).strip():
                    # (a '/' or 0 in a column of another item type: the claim said "unknown field", naming the fact)
                    assert item_type is not None  # (`facts` is its type's)
                    label = self.cols.policy.item_type_labels.get(item_type) or item_type  # (its words in each language)
                    said = msg("input.other_type_column", type=label, value=_shown(value))
                    problems.append({"field": name, "message": said, "expected": msg("input.other_type_column_fix"), **iwhere})
                    continue
                v, err = self._cell(name, spec, value, item_type)
                if err:
                    problems.append({"field": name, "message": err, **iwhere})
                elif v is not None:
                    item[name.split(".", 1)[1]] = v
            out_items.append(item)
            item_where.append(iwhere)
        data["items"] = out_items
        if not items:
            fix = msg("input.no_items_fix", claim_id=claim_id)
            # (said of its claim id cell: `items`, no column of the sheet, reached the officer as that English code)
            problems.append({"field": "claim_id", "message": msg("input.no_items", claim_id=claim_id), "expected": fix, **where})
        partial = data if problems and items else None
        return Record(n, where, None if problems else data, problems, item_where, claim_id, absent=self.absent, partial=partial)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


#: The spool key of a CSV row that could not be read: no claim id read from a cell starts with a newline (it is stripped).
_BAD_ROW = "\n unreadable row "


class _LineTooLong(Exception):
    pass


class _BoundedLines:
    """The lines of a text file, none longer than CSV_MAX_LINE characters (a longer one is skipped and raises
    _LineTooLong), remembering the lines of the record being read so that an error can name its column."""

    def __init__(self, f: IO[str]) -> None:
        self.f = f
        self.record: list[str] = []

    def __iter__(self) -> _BoundedLines:
        return self

    def __next__(self) -> str:
        line = self.f.readline(CSV_MAX_LINE + 1)
        if not line:
            raise StopIteration
        if len(line) > CSV_MAX_LINE:
            while line and not line.endswith("\n"):  # skip the rest of it without holding it
                line = self.f.readline(CSV_MAX_LINE)
            raise _LineTooLong
        self.record.append(line)
        return line


def _csv_problem(exc: Exception, lines: _BoundedLines, header: Sequence[str]) -> tuple[str | None, Msg]:
    """(the column, what is wrong) for a CSV row the csv module could not read."""
    if isinstance(exc, _LineTooLong):
        return None, msg("input.line_too_long", limit=f"{CSV_MAX_LINE:,}")
    limit = csv.field_size_limit()
    if "field larger than field limit" in str(exc):
        i = _long_field("".join(lines.record), limit)
        column = None if i is None else header[i] if i < len(header) and header[i] else f"column {i + 1}"
        return column, msg("input.cell_too_long", limit=f"{limit:,}")
    return None, msg("input.bad_csv_row", reason=str(exc))


def _long_field(text: str, limit: int) -> int | None:
    """The 0-based index of the first field of a CSV record (excel dialect) longer than `limit` characters."""
    field = 0
    length = 0
    quoted = False
    i = 0
    while i < len(text):
        c = text[i]
        if quoted:
            if c == '"':
                if text[i + 1 : i + 2] == '"':
                    i += 1
                else:
                    quoted = False
                    i += 1
                    continue
        elif c == '"' and length == 0:
            quoted = True
            i += 1
            continue
        elif c == ",":
            field, length = field + 1, 0
            i += 1
            continue
        elif c in "\r\n":
            break
        length += 1
        if length > limit:
            return field
        i += 1
    return None


#: What Excel and WPS write for "CSV": UTF-8 (with a BOM for "CSV UTF-8"), UTF-16 for "Unicode text", and on a
#: Chinese Windows the system code page, GBK, of which GB18030 is the superset. Tried in this order, strictly.
_CSV_ENCODINGS = ("utf-8", "gb18030")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def csv_encoding(path: str | Path, chosen: str | None = None) -> str:
    """The encoding a CSV file is written in (the codec to open it with).

    `chosen` (`--encoding`): that one, checked to decode every byte. Else told from the bytes: a byte-order mark
    says it; else the first of UTF-8 and GB18030 that decodes every byte. UTF-8 first, because text that is valid
    UTF-8 is almost never GBK that happens to decode (a GBK file of Chinese text is never valid UTF-8: its
    two-byte characters break UTF-8's continuation rules), while nearly any bytes decode as GB18030. GB18030 is
    the superset of GBK and GB2312, what Excel and WPS write for "CSV" on a Chinese Windows. InputError when
    neither decodes (one message naming the file and the fix)."""
    if chosen:
        try:
            name = codecs.lookup(chosen).name
        except LookupError:
            raise InputError(msg("input.encoding_unknown_name", encoding=chosen)) from None
        name = "utf-8-sig" if name == "utf-8" else name  # a BOM is never part of the header
        problem = _undecodable(path, name)
        if problem is not None:
            raise InputError(msg("input.encoding_wrong", file=str(path), encoding=chosen, line=problem[0], reason=problem[1]))
        return name
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"PK\x03\x04":  # a zip: a workbook named .csv (`batch-template r.csv` wrote one), not a CSV file's text
        raise InputError(msg("input.workbook_named_csv", file=str(path)))
    marked = [name for bom, name in _BOMS if head.startswith(bom)][:1]
    for name in marked or _CSV_ENCODINGS:
        problem = _undecodable(path, name)
        if problem is None:
            return "utf-8-sig" if name == "utf-8" else name
        if marked:  # the file says its encoding and then breaks it
            raise InputError(msg("input.encoding_bom", file=str(path), encoding=name, reason=problem[1]))
    raise InputError(msg("input.encoding_unknown", file=str(path)))


def _undecodable(path: str | Path, name: str) -> tuple[int, str] | None:
    """(line, reason) of the first byte `name` cannot decode, or None if every byte decodes."""
    decoder = codecs.getincrementaldecoder(name)("strict")
    lines = 1
    with open(path, "rb") as f:
        chunk = b""
        try:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                decoder.decode(chunk)
                lines += chunk.count(b"\n")
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return lines + chunk[: max(exc.start, 0)].count(b"\n"), str(exc.reason)
    return None


#: a CSV cell written as a formula whose value is its text (`="ZL202110000001.6"`): how systems export ids so that
#: Excel keeps them as written (no rounding, no leading zeros lost). Excel shows the text inside; so is it read.
_TEXT_FORMULA = re.compile(r'="((?:[^"]|"")*)"')


def _text_of_formula(cell: str) -> str | None:
    """The text a `="…"` cell shows (`""` inside it is one `"`), or None for any other cell."""
    if not cell.startswith('="'):
        return None
    found = _TEXT_FORMULA.fullmatch(cell.strip())
    return found.group(1).replace('""', '"') if found is not None else None


#: how Excel and WPS write a date cell, and an amount cell formatted #,##0.00, into a CSV file they save on a Chinese
#: Windows, where the file had 2021-03-05 and 8400.00: a date in the short date form (2021/3/5; 2021-3-5 where the
#: short date is set so) or, formatted as a long date, in the Chinese one (2021年3月5日); 8,400.00. Each form its own
#: pattern, so that the file is said with the first date of each form it holds.
_EXCEL_DATES = (
    re.compile(r"[0-9]{4}/[0-9]{1,2}/[0-9]{1,2}"),
    re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"),  # (2021-03-05 is the batch's own form: `_ISO_DATE` is tried first)
    re.compile(r"[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日"),
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_GROUPED_AMOUNT = re.compile(r"-?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")


class _ExcelForms:
    """What a CSV file's date and amount cells say of how it was saved: a file opened in Excel or WPS and saved again
    as CSV has every date written as the cell showed it, 2021/3/5 or 2021年3月5日 (`_EXCEL_DATES`), and an amount
    formatted #,##0.00 as 8,400.00. Each such cell is refused
    where it stands, as before (the claim's check says the form to write); when every date of the file is in that
    form, the file is also said once (`input.excel_resaved`), the cause and how to save it so that it reads: each
    row's two refusals gave the officer the fix of each cell, never why every row had them."""

    def __init__(self, cols: Columns, header: Sequence[str]) -> None:
        kinds = [(cols.claim.get(h) or cols.applicant.get(h) or cols.item.get(h) or _NO_SPEC).type for h in header]
        self.dates = [i for i, t in enumerate(kinds) if t == "date"]  # (a date list's cell holds several: not looked at)
        self.amounts = [i for i, t in enumerate(kinds) if t == "money"]
        self.excel_dates: dict[int, tuple[int, str]] = {}  # the first date written in each of Excel's forms: (row, cell)
        self.iso_date = False  # whether a date is written 2021-03-05
        self.grouped: tuple[int, str] | None = None  # the first amount with thousands separators: (row, cell)

    def see(self, rowno: int, row: Sequence[str]) -> None:
        """A row's date and amount cells taken note of."""
        if self.iso_date:  # (a file with one date as the batch writes it was not saved by Excel: nothing to say)
            return
        for i in self.dates:
            cell = row[i].strip() if i < len(row) else ""
            if _ISO_DATE.fullmatch(cell):
                self.iso_date = True
                return
            form = next((k for k, p in enumerate(_EXCEL_DATES) if p.fullmatch(cell)), None) if cell[:4].isdigit() else None
            if form is not None and form not in self.excel_dates:
                self.excel_dates[form] = (rowno, cell)
        for i in self.amounts:
            cell = row[i].strip() if i < len(row) else ""
            if self.grouped is None and _GROUPED_AMOUNT.fullmatch(cell):
                self.grouped = (rowno, cell)

    def notice(self, where: Msg | str) -> Msg | None:
        """`input.excel_resaved` when every date of the file is written as Excel writes it, else None: the first date
        of each form it holds (2022年3月15日 in one column, 2021/6/18 in another), the row of the first of them."""
        if self.iso_date or not self.excel_dates:
            return None
        seen = list(self.excel_dates.values())  # (as found: row by row, a row's columns in order)
        row, dates = seen[0][0], [repr(cell) for _, cell in seen]
        if self.grouped is None:
            return msg("input.excel_resaved", where=where, row=row, date=dates)
        return msg(
            "input.excel_resaved_amounts", where=where, row=row, date=dates, amount_row=self.grouped[0], amount=repr(self.grouped[1])
        )


def _one_sheet(header: Sequence[str], apps: Sequence[str], items: Sequence[str]) -> tuple[str, Sequence[str]] | None:
    """A CSV file headed as one sheet of the template alone -- the application id and the items sheet's columns, none
    of the applicants sheet's, or the other way round: the notice saying so (`sheet.only_items_sheet`, ...) and that
    sheet's columns, else None. An officer who saved one sheet of the workbook as CSV was told each application's
    five missing facts (or its missing item id and type), never what the file was; the two sheets' CSV files are not
    joined (a CSV file is one row per item, its application's columns repeated), so the fix is the workbook."""
    own = {h for h in header if h and h != "claim_id"}
    has_items, has_apps = not own.isdisjoint(items), not own.isdisjoint(apps)
    if has_items == has_apps:
        return None
    return ("sheet.only_items_sheet", items) if has_items else ("sheet.only_applicants_sheet", apps)


class CsvReader(_TabularReader):
    """One row per item; the claim and applicant columns repeat on each row of a claim (the first row's count)."""

    def __init__(self, path: str | Path, policy: CompiledPolicy, encoding: str | None = None) -> None:
        super().__init__(path, policy)
        self.orphans: list[tuple[int, str]] = []
        try:
            self._read(path, encoding)
        except BaseException:  # (the rows spooled so far: a refused file left its temporary file behind)
            self.spool.close()
            raise
        self.spool.index()
        self.total = self.spool.count("row")

    # long because: one pass over the file's rows with the csv module, the header checked first and each kind of
    # cell the whole file is refused for gathered on the way (one row that cannot be read is that row's record)
    def _read(self, path: str | Path, encoding: str | None) -> None:
        apps, items = self.cols.header_sets()
        allowed = list(dict.fromkeys(apps + items))
        formulas: list[str] = []  # row:column of the `="…"` cells read as their text
        codec = csv_encoding(path, encoding)
        with open(path, encoding=codec, newline="") as f:
            lines = _BoundedLines(f)
            reader = csv.reader(lines)
            try:
                header = next(reader, None)
            except (csv.Error, _LineTooLong) as exc:
                raise InputError(msg("input.csv_header", file=str(path), problem=_csv_problem(exc, lines, [])[1])) from None
            if header is None:
                raise InputError(msg("input.empty", file=str(path)))
            if len(header) == 1 and ("\t" in header[0] or ";" in header[0]):  # (saved as "text" or in a European locale)
                separator = msg("input.tabs" if "\t" in header[0] else "input.semicolons")
                raise InputError(msg("input.csv_separator", file=str(path), separator=separator))
            written = [h.strip() for h in header]
            header = self.cols.check(written, allowed, str(path))
            self.notes += [h for h, c in zip(written, header, strict=True) if c == NOTES]
            self.absent = frozenset(allowed) - set(header)
            while header and not header[-1]:  # (a trailing empty column: Excel writes one for a stray cell's width)
                header.pop()
            key = header.index("claim_id")
            read = [(i, h) for i, h in enumerate(header) if h and h != "claim_id" and h != NOTES]  # (a notes column is not)
            noted = NOTES in header
            unheaded: list[str] = []  # row:column of values with no heading
            error_ids: list[str] = []  # rows whose claim id shows an error value
            mangled: list[str] = []  # rows whose claim id a spreadsheet rounded (`_mangled_id`)
            commented: list[tuple[int, str]] = []  # rows skipped as comments that are not the template's hints
            types: set[str] = set()  # the item types of the rows read (`_missing_columns`)
            forms = _ExcelForms(self.cols, header)  # how its dates and amounts are written
            rowno = 1
            while True:
                rowno += 1
                lines.record.clear()
                try:
                    row = next(reader, None)
                except (csv.Error, _LineTooLong) as exc:
                    # one row that cannot be read is that row's error record; the rows after it are read on
                    # (a quoted cell cut short may leave its remaining lines to be read as rows of their own)
                    column, message = _csv_problem(exc, lines, header)
                    said = {"key": message.key, "params": {k: str(v) for k, v in message.params.items()}}
                    self.spool.add("row", f"{_BAD_ROW}{rowno}", rowno, {_BAD_ROW: [column, said]})
                    continue
                if row is None:
                    break
                for i, c in enumerate(row):
                    text = _text_of_formula(c) if c[:2] == '="' else None
                    if text is not None:
                        row[i] = text
                        if i >= len(header) or header[i] != NOTES:  # (a notes cell is not read: nothing to say of it)
                            formulas.append(f"{rowno}:{i + 1}")
                if not any(c.strip() for c in row):  # (after: a row of ="" cells is a blank row, as Excel shows it)
                    continue
                cid = row[key].strip() if key < len(row) else ""
                if not cid and noted and not any(c.strip() for i, c in enumerate(row) if i >= len(header) or header[i] != NOTES):
                    continue  # (a row with a note alone, 以上已初审, is blank: nothing in it is read)
                if cid.startswith("#"):  # the template's hints are not read; an error value is not a hint
                    if cid.upper() in EXCEL_ERRORS:
                        error_ids.append(str(rowno))
                    elif not _template_hint(cid):
                        commented.append((rowno, cid))
                    continue
                if _SCIENTIFIC.fullmatch(cid):  # (a long id Excel kept as a number, exported rounded: ids run together)
                    mangled.append(str(rowno))
                    continue
                if len(row) > len(header) or "" in header:  # (a value past the headings, or under a blank one, is never read)
                    unheaded += [f"{rowno}:{i + 1}" for i, c in enumerate(row) if (i >= len(header) or not header[i]) and c.strip()]
                cells = {h: (row[i] if i < len(row) else "") for i, h in read}
                self.spool.add("row", _totals_key(cid, rowno, cells), rowno, cells)
                self._item_type(cells, types)
                forms.see(rowno, row)
        where: Any = str(path)
        # as a workbook's (`XlsxReader._read_sheet`): refused whole, naming the places, every problem at once
        kinds = (("input.unheaded", unheaded), ("input.error_value_ids", error_ids), ("input.mangled_ids", mangled))
        whole = [_cells_said(k, where, refs) for k, refs in kinds if refs]
        if whole:
            raise refused(str(path), whole)
        one = _one_sheet(header, apps, items) if self.spool.has("row") else None
        if one is not None:  # (said first: every application's error record follows from it)
            self.noticed.append(msg(one[0], where=where))
        self._missing_columns("row", where, one[1] if one else allowed, header, types)
        resaved = forms.notice(where)
        if resaved is not None:
            self.noticed.append(resaved)
        if formulas:  # (read as Excel shows them; said, as every reading the officer did not write is)
            self.noticed.append(_cells_said("input.text_formulas", where, formulas))
        if commented:
            self.noticed.append(_comment_rows(where, commented))
        self._notes_said()

    def notices(self) -> list[Msg]:
        return list(self.noticed)

    def __iter__(self) -> Iterator[Record]:
        ordered = [cid for cid in self.spool.claims("row") if cid and not cid.startswith((_BAD_ROW, _TOTALS_ROW))]
        ids, forms = set(ordered), id_forms(ordered)
        known = set(forms.values())  # (Ｌ－1 or l-1 beside L-1 is L-1 written another way)
        strays = self.spool.strays("row", known)
        for n, cid in enumerate(self.spool.claims("row"), 1):
            self.done = n
            rows = self.spool.rows("row", cid)
            first_row, first = rows[0]
            where = {"file": self.path, "row": first_row}
            if cid in strays:  # never decided without rows that may be its items (each also an error record)
                held = _stray_rows(cid, strays[cid], {"file": self.path})
                yield Record(n, where, None, [{**held, "row": first_row}], key=cid)
                continue
            meant = written_as(cid, forms) if cid in ids else None
            if meant is not None:  # its rows are the application `meant`'s, written another way: never one of their own
                key = "sheet.id_differs_in_case" if only_case(cid, meant) else "sheet.id_written_another_way"
                said = msg(key, written=repr(cid), claim_id=meant)
                yield Record(n, where, None, [{"field": "claim_id", "message": said, **where}], key=cid)
                continue
            if cid.startswith(_BAD_ROW):
                column, said = first[_BAD_ROW]
                problem = msg("input.row_not_read", problem=msg(said["key"], **said["params"]))
                yield Record(n, where, None, [{"field": column, "message": problem, **where}])
                continue
            if not cid:
                yield Record(n, where, None, [{"field": "claim_id", "message": msg("input.no_claim_id_rows", n=len(rows)), **where}])
                continue
            totals = _totals_row(n, cid, where)
            if totals is not None:
                yield totals
                continue
            head = {k: v for k, v in first.items() if k in self.cols.claim or k in self.cols.applicant}
            conflicts = []
            for rowno, cells in rows[1:]:
                for k, v in cells.items():
                    if k in head and str(v).strip() and str(v).strip() != str(head[k]).strip():
                        conflicts.append(
                            {
                                "field": k,
                                "message": msg("input.differs", value=repr(v), first=repr(head[k]), row=first_row),
                                "file": self.path,
                                "row": rowno,
                            }
                        )
            items = [({k: v for k, v in cells.items() if k in self.cols.item}, {"file": self.path, "row": rowno}) for rowno, cells in rows]
            rec = self._build(n, cid, (head, where), items)
            if conflicts:
                rec.problems.extend(conflicts)
                rec.data = None
            yield rec


APPLICANTS_SHEET = "applicants"
ITEMS_SHEET = "items"
#: the names the template gives the two sheets, in the officers' language (the reader finds a sheet by its code too)
SHEET_TITLES = {APPLICANTS_SHEET: "申请人", ITEMS_SHEET: "事项"}
#: the template's other sheets (engine/records/template.py): the guide, the guide in English, the dropdowns' lists;
#: never offered as the did-you-mean of a data sheet (选项 is one character from 事项)
GUIDE_SHEET, COLUMNS_SHEET, CHOICES_SHEET = "说明", "说明（英文）", "选项"


def check_workbook_size(path: str | Path) -> None:
    """Refuse a workbook whose parts would expand past the limits (XLSX_MAX_*), from its zip directory alone.

    zipfile never reads a member past the size its directory declares (a lie fails its CRC), so the
    declared sizes bound what openpyxl can expand.
    """
    _check_zip_directory(path)
    try:
        with zipfile.ZipFile(path) as z:
            parts = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        if isinstance(exc, zipfile.BadZipFile) and os.path.getsize(path) == 0:  # (not "not a zip: an old .xls?")
            raise InputError(msg("sheet.empty_file", file=str(path))) from None
        reason = _compound_file_reason(path) if isinstance(exc, zipfile.BadZipFile) else None
        if reason is not None and reason.key == "sheet.reason.encrypted":  # its own fix, not "save it as .xlsx"
            raise InputError(msg("sheet.not_readable", file=str(path), reason=reason)) from None
        raise InputError(msg("sheet.not_workbook", file=str(path), reason=reason or _zip_reason(exc))) from None
    if len(parts) > XLSX_MAX_PARTS:
        raise InputError(msg("sheet.too_many_parts", file=str(path), n=f"{len(parts):,}", limit=f"{XLSX_MAX_PARTS:,}"))
    total = packed = 0
    for p in parts:
        if p.flag_bits & 0x1:  # (zipfile raised RuntimeError reading it: a traceback)
            raise InputError(msg("sheet.not_workbook", file=str(path), reason=msg("sheet.reason.zip_password", part=p.filename)))
        if p.file_size > XLSX_MAX_EXPANDED:
            raise InputError(
                msg("sheet.part_too_big", file=str(path), part=p.filename, size=f"{p.file_size:,}", limit=f"{XLSX_MAX_EXPANDED:,}")
            )
        if p.file_size > XLSX_RATIO_FROM and p.file_size > XLSX_MAX_RATIO * max(p.compress_size, 1):
            raise InputError(
                msg(
                    "sheet.part_ratio",
                    file=str(path),
                    part=p.filename,
                    times=f"{p.file_size // max(p.compress_size, 1):,}",
                    packed=f"{p.compress_size:,}",
                    size=f"{p.file_size:,}",
                    limit=XLSX_MAX_RATIO,
                )
            )
        total += p.file_size
        packed += p.compress_size
    if total > XLSX_MAX_EXPANDED:
        raise InputError(msg("sheet.workbook_too_big", file=str(path), size=f"{total:,}", limit=f"{XLSX_MAX_EXPANDED:,}"))
    if total > XLSX_RATIO_FROM and total > XLSX_MAX_RATIO * max(packed, 1):  # many parts, each just under XLSX_RATIO_FROM
        raise InputError(
            msg(
                "sheet.workbook_ratio",
                file=str(path),
                times=f"{total // max(packed, 1):,}",
                packed=f"{packed:,}",
                size=f"{total:,}",
                limit=XLSX_MAX_RATIO,
            )
        )
    _refuse_dtds(path, parts)
    sheets = _worksheet_parts(path, parts)
    held = sum(p.file_size for p in parts if p.filename not in sheets)
    if held > XLSX_MAX_HELD:
        raise InputError(msg("sheet.held_too_big", file=str(path), size=f"{held:,}", limit=f"{XLSX_MAX_HELD:,}"))


def _check_zip_directory(path: str | Path) -> None:
    """Refuse a zip whose end record declares more members than XLSX_MAX_PARTS or a directory larger than
    XLSX_MAX_DIRECTORY, before zipfile reads the directory whole (it reads as many bytes as the end record says, and
    makes an object of every member in them). A file with no end record is left to zipfile, which says what it is."""
    try:
        with open(path, "rb") as f:
            end = zipfile._EndRecData(f)  # type: ignore[attr-defined]  # (zipfile's own reading of it, as ZipFile does)
    except OSError:
        return
    if not end:
        return
    count, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]  # type: ignore[attr-defined]
    if count > XLSX_MAX_PARTS:
        raise InputError(msg("sheet.too_many_parts", file=str(path), n=f"{count:,}", limit=f"{XLSX_MAX_PARTS:,}"))
    if size > XLSX_MAX_DIRECTORY:
        raise InputError(msg("sheet.directory_too_big", file=str(path), size=f"{size:,}", limit=f"{XLSX_MAX_DIRECTORY:,}"))


class _Prolog(Exception):
    """expat met a part's first element, or a DTD: what `_declares_dtd` needed to know."""


_PROLOG_CHUNK = 1 << 14


def _refuse_dtds(path: str | Path, parts: Sequence[zipfile.ZipInfo]) -> None:
    """Refuse a workbook any part of which declares a DTD. openpyxl parses the parts with ElementTree, whose expat
    expands the entities a DTD declares: it stops a billion laughs (amplification over 100:1), but a 442 kB workbook
    whose sheet referred 166,440 times to one entity of 5,000 characters (80:1) took 2.5 GB and ended in a
    MemoryError. No workbook Excel or WPS saves has a DTD, so none is read, whatever the part."""
    try:
        with zipfile.ZipFile(path) as z:
            for info in parts:
                if _declares_dtd(z, info):
                    raise InputError(msg("sheet.part_dtd", file=str(path), part=info.filename))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError):
        return  # (a damaged, encrypted or unreadable part: openpyxl meets the same bytes first, and says so)


def _declares_dtd(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether a part declares a DTD (<!DOCTYPE ...>) before its first element: read by expat, the parser openpyxl's
    ElementTree uses, so that no encoding (UTF-16, or one the XML declaration names) hides one from a byte search.
    Only the prolog is read; a part expat cannot read there (a picture) has no DTD openpyxl's parser would expand."""
    from xml.parsers import expat

    parser = expat.ParserCreate()
    found: list[bool] = []

    def doctype(*_: Any) -> None:
        found.append(True)
        raise _Prolog

    def element(*_: Any) -> None:
        raise _Prolog

    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = element
    with z.open(info) as part:
        try:
            while chunk := part.read(_PROLOG_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except (_Prolog, expat.ExpatError):
            pass
    return bool(found)


_WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def _worksheet_parts(path: str | Path, parts: Sequence[zipfile.ZipInfo]) -> set[str]:
    """The parts openpyxl streams: under xl/worksheets/, declared in [Content_Types].xml as a worksheet and as nothing else."""
    from xml.etree import ElementTree

    info = next((p for p in parts if p.filename == "[Content_Types].xml"), None)
    if info is None:
        return set()  # openpyxl refuses such a file itself
    if info.file_size > XLSX_MAX_CONTENT_TYPES:
        raise InputError(
            msg(
                "sheet.part_too_big",
                file=str(path),
                part="[Content_Types].xml",
                size=f"{info.file_size:,}",
                limit=f"{XLSX_MAX_CONTENT_TYPES:,}",
            )
        )
    try:
        with zipfile.ZipFile(path) as z:
            text = z.read(info)
        root = ElementTree.fromstring(text)  # noqa: S314 - bounded above, and no DTD (`_refuse_dtds`)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ElementTree.ParseError, ValueError) as exc:
        reason = msg("sheet.reason.in_part", part="[Content_Types].xml", reason=_zip_reason(exc))
        raise InputError(msg("sheet.not_workbook", file=str(path), reason=reason)) from None
    types: dict[str, set[str]] = {}
    for node in root:
        if node.tag.rsplit("}", 1)[-1] == "Override":
            types.setdefault(str(node.get("PartName", "")).lstrip("/"), set()).add(str(node.get("ContentType")))
    return {name for name, declared in types.items() if name.startswith("xl/worksheets/") and declared == {_WORKSHEET_TYPE}}


#: how an OLE compound file starts: an old .xls workbook, or an .xlsx that Excel or WPS encrypted with a password
_COMPOUND_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _compound_file_reason(path: str | Path) -> Msg | None:
    """Why a file that is not a zip is no .xlsx, when it is a compound file: an .xlsx with an opening password (its
    directory names the `EncryptionInfo` or `EncryptedPackage` stream) or an old .xls; None for anything else."""
    names = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
    try:
        with open(path, "rb") as f:
            head = f.read(512)
            if not head.startswith(_COMPOUND_FILE):
                return None
            # the directory's first sector, from the header (sector size 2^n at 0x1E, the directory's sector at 0x30)
            sector = 1 << min(int.from_bytes(head[0x1E:0x20], "little"), 16)
            f.seek((int.from_bytes(head[0x30:0x34], "little") + 1) * sector)
            directory = f.read(4 * sector)
    except OSError:
        return None
    return msg("sheet.reason.encrypted") if any(n in directory for n in names) else msg("sheet.reason.old_xls")


def _zip_reason(exc: BaseException) -> Msg | str:
    """Why a file is not a workbook, in the reader's language where it is one a person meets (an .xls renamed .xlsx)."""
    if isinstance(exc, zipfile.BadZipFile):
        return msg("sheet.reason.not_zip")
    if isinstance(exc, OSError) and exc.errno is not None:
        return os_reason(exc)
    if exc.args and isinstance(exc.args[0], Msg):
        return exc.args[0]
    return str(exc)  # a damaged part (zlib's, the XML parser's own words): rare, and the fix is the same


_NO_ITEM = re.compile(r"There is no item named '([^']*)' in the archive")


def _workbook_reason(exc: BaseException) -> Msg | str:
    """Why openpyxl could not read a workbook whose zip opened, in the reader's language where a person meets it: a
    zip that is no workbook (a part missing), a damaged part; else its type and words."""
    found = _NO_ITEM.search(str(exc)) if isinstance(exc, KeyError) else None
    if found is not None:
        return msg("sheet.reason.missing_part", part=found.group(1))
    if "no valid workbook part" in str(exc):  # (openpyxl's InvalidFileException: its content types name none)
        return msg("sheet.reason.missing_part", part="xl/workbook.xml")
    position = getattr(exc, "position", None)  # (ElementTree's ParseError: the line and column in the part)
    if type(exc).__name__ == "ParseError" and isinstance(position, tuple) and len(position) == 2:
        return msg("sheet.reason.bad_xml", line=position[0], column=position[1])
    if isinstance(exc, zlib.error | zipfile.BadZipFile | EOFError):
        return msg("sheet.reason.damaged")
    if isinstance(exc, OSError):
        return _zip_reason(exc)
    return f"{type(exc).__name__}: {exc}"


#: what else a batch workbook's sheets may be called (the template's own names are `SHEET_TITLES`; workbooks written
#: before it was, and programs, use the codes)
SHEET_NAMES = {APPLICANTS_SHEET: ("申请人", "申請人", "申请", "applicant"), ITEMS_SHEET: ("事项", "事項", "申报事项", "申報事項", "item")}


def _find_sheet(path: str | Path, names: Sequence[str], sheet: str) -> str:
    """The workbook's sheet for `sheet` (its code or another name of it, any case or spacing); one InputError,
    with a did-you-mean, when there is none, and one when two sheets have its names (`items` and `事项`: the rows
    of the one not read would be lost)."""
    wanted = {_fold(w) for w in (sheet, *SHEET_NAMES.get(sheet, ()))}
    found = [name for name in names if _fold(name) in wanted]
    title = SHEET_TITLES.get(sheet, sheet)
    if len(found) > 1:
        raise InputError(msg("sheet.two_sheets", file=str(path), sheet=title, sheets=found))
    if found:
        return found[0]
    others = [n for n in names if n not in (GUIDE_SHEET, COLUMNS_SHEET, CHOICES_SHEET)]
    close = [m for w in (title, sheet) for m in difflib.get_close_matches(w, others, n=1, cutoff=0.5)]
    if close:
        raise InputError(msg("sheet.no_sheet_hint", file=str(path), sheet=title, code=sheet, hint=close[0], sheets=list(names)))
    raise InputError(msg("sheet.no_sheet", file=str(path), sheet=title, code=sheet, sheets=list(names)))


def _has_value(cell: Any) -> bool:
    """A cell holding something (not empty, not only spaces)."""
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def _cells_said(key: str, where: Msg | str, refs: Sequence[str], **params: Any) -> Msg:
    """The message `key` naming the first three cells or ranges of `refs`, or its `_more` form with how many more."""
    shown = ", ".join(refs[:3])
    if len(refs) > 3:
        return msg(f"{key}_more", where=where, refs=shown, n=len(refs) - 3, **params)
    return msg(key, where=where, refs=shown, **params)


def _merges_said(where: Msg, merged: Sequence[str], id_column: int) -> list[Msg]:
    """A sheet's merged ranges (`_scan_sheet_xml`) said with their fix: unmerge, and fill the value down. A range
    merged down from the heading row (A1:A2, a heading merged over the template's hint row for looks) is said apart:
    filled down, its heading would be copied below it, and in the claim id column (`id_column`, 1-based) read as an
    application's id; its fix leaves the hint row's cells blank and the claim id's hint (`# application id`) written
    back, which the reader passes over (`_template_hint`)."""
    from openpyxl.utils.cell import range_boundaries

    bounds = {ref: range_boundaries(ref) for ref in merged}  # (first column, first row, last column, last row)
    down = [ref for ref in merged if bounds[ref][1] == 1]
    said = []
    if down:
        over_id = any(bounds[ref][0] <= id_column <= bounds[ref][2] for ref in down)
        key = "sheet.merged_heading_down_id" if over_id else "sheet.merged_heading_down"
        said.append(_cells_said(key, where, down, hint="# " + CLAIM_ID_LABEL.en) if over_id else _cells_said(key, where, down))
    rest = [ref for ref in merged if bounds[ref][1] != 1]
    return said + ([_cells_said("sheet.merged_cells", where, rest)] if rest else [])


_NS = rb"(?:[A-Za-z_][\w.-]*:)?"  # an element's namespace prefix, if any (`x:c`)
# (every run of a tag's attributes is bounded to 400 characters, so that a hostile sheet of tags that never close costs
# the scan linear time, not time squared: tests/test_security_sheets.py. A formula's text is not: `[^<]*` stops at
# the next tag, where the next match would start, and a formula may be 8,192 characters of Chinese and `&amp;`.)
#: a merge in a worksheet's XML (`<mergeCell ref="A3:A8"/>`)
_MERGE_CELL = re.compile(rb"<" + _NS + rb'mergeCell\b[^>]{0,400}?\bref="([A-Z]{1,3}[0-9]{1,7}(?::[A-Z]{1,3}[0-9]{1,7})?)"')
#: a cell holding a formula and no value (`<c r="D5"><f>B5*0.5</f><v/></c>`): a workbook a program wrote and no
#: spreadsheet saved, whose formulas were never computed; read for its values, such a cell reads as blank
_UNCOMPUTED_CELL = re.compile(
    rb"<"
    + _NS
    + rb'c\b[^>]{0,400}?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]{0,400}>\s*<'
    + _NS
    + rb"f\b[^>]{0,400}(?:/>|>[^<]*</"
    + _NS
    + rb"f>)\s*"
    rb"(?:<" + _NS + rb"v\s*/>|<" + _NS + rb"v>\s*</" + _NS + rb"v>)?\s*</" + _NS + rb"c>"
)
_FORMULA_TAG_END = re.compile(rb"f[\s/>]")  # (the cheap test that a chunk may hold one: a search for one character)
#: a row a filter or Hide Rows has hidden (`<row r="5" hidden="1">`), and its number
_HIDDEN_ROW = re.compile(rb"<" + _NS + rb'row\b[^>]{0,400}?\bhidden="(?:1|true)"[^>]{0,400}>')
_ROW_ATTRIBUTE = re.compile(rb'\br="([0-9]{1,7})"')
#: columns Hide Columns has hidden (`<col min="3" max="5" hidden="1"/>`), and their span
_HIDDEN_COLUMNS = re.compile(rb"<" + _NS + rb'col\b[^>]{0,400}?\bhidden="(?:1|true)"[^>]{0,400}>')
_COLUMN_SPAN = (re.compile(rb'\bmin="([0-9]{1,5})"'), re.compile(rb'\bmax="([0-9]{1,5})"'))


_SCAN_CHUNK = 1 << 20
_SCAN_OVERLAP = 1 << 16  # (a tag or cell cut by a chunk's end is read whole with the next: a formula is at most 8,192 characters)


def _scan_sheet_xml(ws: Any, header: Sequence[str]) -> tuple[list[str], list[str], set[int], set[int]]:
    """The data cells (below the header row, in a headed column) of a read-only worksheet that would read as blank
    though the sheet gives them something: (the merged ranges covering one, the cells with a formula never computed),
    and the rows hidden (by a filter or Hide Rows) and the headed columns hidden (Hide Columns), which are read as the
    others. An officer's notes column (`NOTES`) is never read: its merges (备注 merged over an application's rows),
    formulas and hiding are its own.
    A merge keeps its value in its first cell only; a formula's value is what a spreadsheet saved with it. openpyxl's
    read-only sheets load neither merges, formulas nor hidden rows when read for values, so the sheet's XML is
    scanned, in chunks."""
    from openpyxl.utils.cell import column_index_from_string, range_boundaries

    merged: dict[str, tuple[int, int]] = {}
    uncomputed: dict[str, tuple[int, int]] = {}
    hidden: set[int] = set()
    hidden_columns: set[int] = set()
    tail = b""
    source = getattr(ws, "_get_source", None)  # (openpyxl's; were it gone, tests/test_security_sheets.py would say so)
    if source is None:
        return [], [], hidden, hidden_columns
    columns = len(header)
    notes_to: dict[int, int] = {}  # a notes column's number -> the last of the notes columns side by side from it
    for c in range(columns, 0, -1):
        if header[c - 1] == NOTES:
            notes_to[c] = notes_to.get(c + 1, c)
    with source() as xml:  # (a member of the workbook's zip, bounded by `check_workbook_size`)
        while True:
            chunk = xml.read(_SCAN_CHUNK)
            data = tail + chunk
            for m in _MERGE_CELL.finditer(data) if b"mergeCell" in data else ():  # (one found twice, in the overlap, is the same key)
                ref = m.group(1).decode("ascii")
                min_col, min_row, max_col, max_row = range_boundaries(ref)
                if max_row >= 2 and min_col <= columns and notes_to.get(min_col, 0) < min(max_col, columns):
                    merged[ref] = (min_row, min_col)
            if _FORMULA_TAG_END.search(data):
                for m in _UNCOMPUTED_CELL.finditer(data):
                    col, row = column_index_from_string(m.group(1).decode("ascii")), int(m.group(2))
                    if row >= 2 and col <= columns and header[col - 1] and header[col - 1] != NOTES:
                        uncomputed[m.group(1).decode("ascii") + m.group(2).decode("ascii")] = (row, col)
            for m in _HIDDEN_ROW.finditer(data) if b'hidden="' in data else ():
                number = _ROW_ATTRIBUTE.search(m.group(0))
                if number is not None:
                    hidden.add(int(number.group(1)))
            for m in _HIDDEN_COLUMNS.finditer(data) if b'hidden="' in data else ():
                low, high = (p.search(m.group(0)) for p in _COLUMN_SPAN)
                if low is not None and high is not None:  # (a span past the headed columns: nothing is read there)
                    first, last = int(low.group(1)), min(int(high.group(1)), columns)
                    hidden_columns.update(c for c in range(first, last + 1) if header[c - 1] and header[c - 1] != NOTES)
            if not chunk:
                merges = [r for r, _ in sorted(merged.items(), key=_AT)]
                return merges, [r for r, _ in sorted(uncomputed.items(), key=_AT)], hidden, hidden_columns
            tail = data[-_SCAN_OVERLAP:]


_AT = itemgetter(1)  # (in the sheet's order, row by row)


def _merged_headings(ws: Any, unheaded: Sequence[str]) -> list[str]:
    """The merges of the heading row (A1:B1) over a column in which `unheaded` has a cell: a merge keeps its heading
    in its first cell only, so the officer saw a heading over a column the sheet reads as having none. Read again
    from the sheet's XML only when some cell is unheaded (`_scan_sheet_xml` keeps the merges below the headings)."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, range_boundaries

    columns = {column_index_from_string(coordinate_from_string(ref)[0]) for ref in unheaded}
    found: dict[str, int] = {}
    source = getattr(ws, "_get_source", None)
    if source is None:
        return []
    tail = b""
    with source() as xml:  # (a member of the workbook's zip, bounded by `check_workbook_size`)
        while True:
            chunk = xml.read(_SCAN_CHUNK)
            data = tail + chunk
            for m in _MERGE_CELL.finditer(data) if b"mergeCell" in data else ():
                ref = m.group(1).decode("ascii")
                min_col, min_row, max_col, _ = range_boundaries(ref)
                if min_row == 1 and any(min_col < c <= max_col for c in columns):
                    found[ref] = min_col
            if not chunk:
                return sorted(found, key=found.__getitem__)
            tail = data[-_SCAN_OVERLAP:]


def _row_runs(rows: Sequence[int], shown: int = 5) -> list[str]:
    """Row numbers in runs, the first `shown` of them (said as a list in the reader's language): `5–9, 12, …`."""
    runs: list[list[int]] = []
    for r in rows:
        if runs and r == runs[-1][1] + 1:
            runs[-1][1] = r
        else:
            runs.append([r, r])
    said = [str(a) if a == b else f"{a}–{b}" for a, b in runs[:shown]]
    return said + (["…"] if len(runs) > shown else [])


def _sheet_rows(ws: Any, width: int, percent: Collection[int]) -> Iterator[tuple[int, tuple[Any, ...], list[int]]]:
    """Each row a read-only worksheet's XML holds, in the order written: (its number, the values of its first `width`
    columns, the columns past them whose cell holds a value). A cell of a `percent` column is read with its number
    format (`_percent_cell`), any other as its value.

    Read from openpyxl's own worksheet parser, as `iter_rows` reads it, but never padded: `iter_rows` makes each row
    as wide as its last cell, so a cell in column XFD made a row of 16,384 values, and 100,000 such rows (a 0.5 MB
    workbook) took 157 s to read; here a row costs what its cells do. Unlike `iter_rows`, a row numbered as or before
    one above it is yielded too (iter_rows passed over it unsaid), and no empty row is yielded for a gap."""
    from openpyxl.cell.read_only import ReadOnlyCell
    from openpyxl.worksheet._reader import WorkSheetParser

    book = ws.parent
    with ws._get_source() as source:  # (a member of the workbook's zip, bounded by `check_workbook_size`)
        parser = WorkSheetParser(
            source,
            ws._shared_strings,
            data_only=book.data_only,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        for number, cells in parser.parse():
            values: list[Any] = [None] * width
            beyond = []
            for cell in cells:
                column = cell["column"]
                if column > width:
                    if _has_value(cell["value"]):
                        beyond.append(column)
                elif column >= 1:
                    values[column - 1] = _percent_cell(ReadOnlyCell(ws, **cell)) if column - 1 in percent else cell["value"]
            yield number, tuple(values), beyond


class XlsxReader(_TabularReader):
    """A workbook with a `申请人` sheet (one row per application) and a `事项` sheet (one row per item), or sheets named by
    their codes `applicants` and `items` (`SHEET_NAMES`)."""

    def __init__(self, path: str | Path, policy: CompiledPolicy) -> None:
        super().__init__(path, policy)
        self.titles: dict[str, str] = {}
        try:
            self._read(path)
        except BaseException:  # (the rows spooled so far: a refused workbook left its temporary file behind)
            self.spool.close()
            raise
        self.spool.index()
        self.total = self.spool.count(APPLICANTS_SHEET)
        self.total += int(
            self.spool.db.execute(
                "SELECT count(DISTINCT claim_id) FROM rows i WHERE kind = ? AND NOT EXISTS (SELECT 1 FROM rows a WHERE a.kind = ? AND a.claim_id = i.claim_id)",
                (ITEMS_SHEET, APPLICANTS_SHEET),
            ).fetchone()[0]
        )

    def _read(self, path: str | Path) -> None:
        """Both sheets into the spool; one InputError saying every problem of the workbook as a whole that was found
        (`refused`): each sheet is read on past a problem that leaves its rows readable, and the other sheet is read
        whatever this one's. It stopped at the first: an officer mended merged cells, ran it again, and met a formula."""
        try:
            from openpyxl import load_workbook
        except ModuleNotFoundError:  # pragma: no cover
            raise InputError(msg("sheet.needs_openpyxl")) from None
        check_workbook_size(path)  # before anything is expanded
        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise InputError(msg("sheet.not_workbook", file=str(path), reason=_workbook_reason(exc))) from None
        problems: list[Msg] = []
        try:
            found = {}
            for sheet in (APPLICANTS_SHEET, ITEMS_SHEET):
                try:
                    found[sheet] = _find_sheet(path, wb.sheetnames, sheet)
                except InputError as exc:
                    problems.append(exc.args[0])
            #: each sheet by the name the workbook gives it (申请人, 事项): what a row's place says, as the officer sees it
            self.titles = {sheet: str(found[sheet]) for sheet in found}
            apps, items = self.cols.header_sets()
            problems += self._rows_elsewhere(wb, found, {APPLICANTS_SHEET: apps, ITEMS_SHEET: items})
            for sheet, allowed in ((APPLICANTS_SHEET, apps), (ITEMS_SHEET, items)):
                if sheet not in found:
                    continue
                try:
                    self._read_sheet(wb[found[sheet]], sheet, allowed, problems)
                except InputError as exc:  # what ends the sheet's reading (its headings, its length): after what it found
                    problems.append(exc.args[0])
                except Exception as exc:  # openpyxl parsing a damaged part lazily: the file, not a traceback
                    problems.append(msg("sheet.sheet_unreadable", file=str(path), sheet=self.titles[sheet], reason=_workbook_reason(exc)))
        finally:
            wb.close()
        if problems:
            raise refused(str(path), problems)
        self._notes_said()  # (once for the workbook: 备注 on both sheets is one word of the officer's)

    def _rows_elsewhere(self, wb: Any, found: dict[str, str], allowed: dict[str, Sequence[str]]) -> list[Msg]:
        """For the applicants and the items sheet, the first other sheet headed as it is (an officer's copy of `items`,
        rows moved to `items (2)`): its rows would never be read, and their applications decided without them."""
        said: list[Msg] = []
        kinds = [sheet for sheet in (ITEMS_SHEET, APPLICANTS_SHEET) if sheet in found]
        for name in wb.sheetnames:
            ws = wb[name]
            if not kinds:
                break
            if name in found.values() or not hasattr(ws, "iter_rows"):  # (a chart sheet has no rows)
                continue
            ws.reset_dimensions()
            try:
                header = [_cell_text(h) for h in next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())][:XLSX_MAX_COLUMNS]
            except Exception:  # noqa: S112 - a damaged sheet that is not read: passed over, as before it was looked at
                continue
            for sheet in list(kinds):
                if self.cols.heads_rows(header, allowed[sheet]):
                    said.append(msg("sheet.rows_elsewhere", file=str(self.path), other=name, sheet=found[sheet]))
                    kinds.remove(sheet)
                    break
        return said

    def _headings(self, ws: Any, allowed: Sequence[str], where: Msg) -> tuple[list[str], list[str], list[tuple[int, str]]]:
        """A sheet's heading row: (each column's code, the headings as the sheet writes them, the columns read into a
        row's cells: (place, code), the claim id's and an officer's notes columns aside); InputError when it cannot
        head the sheet (`Columns.check`) or is wider than XLSX_MAX_COLUMNS. Its notes columns are kept in `notes`."""
        # the size a sheet declares (<dimension ref="A1:XFD1048576">) is not trusted: read_only openpyxl would pad
        # every row to its width and yield empty rows up to its height
        ws.reset_dimensions()
        header_row = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
        header = [_cell_text(h) for h in header_row]
        while header and not header[-1]:
            header.pop()
        named = self.cols.check(header, allowed, where)  # (refused past XLSX_MAX_COLUMNS)
        self.notes += [h for h, c in zip(header, named, strict=True) if c == NOTES]
        return named, header, [(i, c) for i, c in enumerate(named) if c and c != "claim_id" and c != NOTES]

    def _read_sheet(self, ws: Any, sheet: str, allowed: Sequence[str], problems: list[Msg]) -> None:
        """A sheet's rows into the spool, each problem of the sheet as a whole added to `problems`; InputError for one
        that ends its reading (its headings, rows past XLSX_MAX_ROWS)."""
        where = msg("sheet.place.sheet", file=str(self.path), sheet=self.titles.get(sheet, sheet))
        header, written, columns = self._headings(ws, allowed, where)  # (written: a hidden column is said by its own heading)
        self.absent |= frozenset(allowed) - set(header)
        merged, uncomputed, hidden, hidden_columns = _scan_sheet_xml(ws, header)
        if getattr(ws, "sheet_state", "visible") != "visible":  # (read as a shown sheet is: said, as hidden rows are)
            self.noticed.append(msg("sheet.hidden_sheet", where=where))
        if hidden_columns:
            names = [str(written[c - 1]) for c in sorted(hidden_columns)]
            self.noticed.append(msg("sheet.hidden_columns", where=where, n=len(names), columns="、".join(names)))
        problems += _merges_said(where, merged, header.index("claim_id") + 1)
        if uncomputed:
            problems.append(_cells_said("sheet.uncomputed", where, uncomputed))
        key = header.index("claim_id")
        # a percent column's cells are read with their number format (a 4.35% cell holds 0.0435); other sheets as values
        percent = {
            i
            for i, h in enumerate(header)
            if (self.cols.item.get(h) or self.cols.claim.get(h) or self.cols.applicant.get(h) or _NO_SPEC).type == "percent"
        }
        unheaded: list[str] = []  # data cells with no column heading: never read, so the workbook is refused
        error_ids: list[str] = []  # claim ids showing an error value: the row's application cannot be told
        mangled: list[str] = []  # claim ids a spreadsheet made into a rounded number or a date (`_mangled_id`)
        hidden_read: list[int] = []  # hidden rows read as the others: said, as the officer may have meant them left out
        out_of_order: list[str] = []  # rows numbered as or before a row above them: openpyxl passed over them unsaid
        commented: list[tuple[int, str]] = []  # rows skipped as comments that are not the template's hints
        types: set[str] = set()  # the item types of the rows read (`_missing_columns`)
        width = len(header)
        blank = [i for i, h in enumerate(header) if not h]  # columns within the headings whose heading is empty
        last = read = 0
        for rowno, row, beyond in _sheet_rows(ws, width, percent):
            read += 1  # (rows numbered out of order never raise the number: they are counted too)
            if rowno > XLSX_MAX_ROWS or read > XLSX_MAX_ROWS:  # (said after what the rows before it showed)
                problems.append(msg("sheet.too_many_rows", where=where, limit=f"{XLSX_MAX_ROWS:,}"))
                break
            if rowno <= last:
                out_of_order.append(str(rowno))
                continue
            last = rowno
            if rowno == 1 or (not beyond and (row.count(None) == width or not any(map(_has_value, row)))):
                continue
            raw_id = row[key] if key < len(row) else None
            cid = _cell_text(raw_id)
            if not cid and self.notes and not beyond and not any(_has_value(row[i]) for i in range(width) if header[i] != NOTES):
                continue  # (a row with a note alone, 以上已初审, is blank: nothing in it is read)
            if cid.startswith("#"):  # the template's hints are not read; an error value is not a hint
                if cid.strip().upper() in EXCEL_ERRORS:
                    error_ids.append(f"{_column_letter(key + 1)}{rowno}")
                elif not _template_hint(cid.strip()):
                    commented.append((rowno, cid))
                continue
            if _mangled_id(raw_id):
                mangled.append(f"{_column_letter(key + 1)}{rowno}")
                continue
            if blank or beyond:
                unheaded += [f"{_column_letter(i + 1)}{rowno}" for i in blank if _has_value(row[i])]
                unheaded += [f"{_column_letter(c)}{rowno}" for c in sorted(beyond)]
            cells = {h: row[i] for i, h in columns}
            self.spool.add(sheet, _totals_key(cid, rowno, cells), rowno, cells)
            self._item_type(cells, types)
            if rowno in hidden:
                hidden_read.append(rowno)
        self._missing_columns(sheet, where, allowed, header, types)
        if hidden_read:
            self.noticed.append(msg("sheet.hidden_rows", where=where, n=len(hidden_read), rows=_row_runs(hidden_read)))
        if commented:
            self.noticed.append(_comment_rows(where, commented))
        headings_merged = _merged_headings(ws, unheaded) if unheaded else []
        if headings_merged:  # (said before the cells it leaves with no heading)
            problems.append(_cells_said("sheet.merged_headings", where, headings_merged))
        for said, refs in (
            ("sheet.rows_out_of_order", out_of_order),
            ("sheet.unheaded", unheaded),
            ("sheet.error_value_ids", error_ids),
            ("sheet.mangled_ids", mangled),
        ):
            if refs:
                problems.append(_cells_said(said, where, refs))

    def notices(self) -> list[Msg]:
        return list(self.noticed)

    def __iter__(self) -> Iterator[Record]:
        n = 0
        known = {cid for cid in self.spool.claims(APPLICANTS_SHEET) if cid and not cid.startswith(_TOTALS_ROW)}
        strays = self.spool.strays(ITEMS_SHEET, known)
        for cid in self.spool.claims(APPLICANTS_SHEET):
            n += 1
            self.done = n
            heads = self.spool.rows(APPLICANTS_SHEET, cid)
            first_row, head = heads[0]
            where = {"file": self.path, "sheet": self.titles.get(APPLICANTS_SHEET, APPLICANTS_SHEET), "row": first_row}
            if not cid:
                said = {"message": msg("sheet.no_claim_id_applicants", n=len(heads)), "expected": msg("sheet.no_claim_id_applicants_fix")}
                yield Record(n, where, None, [{"field": "claim_id", **said, **where}])
                continue
            totals = _totals_row(n, cid, where)
            if totals is not None:
                yield totals
                continue
            item_sheet = self.titles.get(ITEMS_SHEET, ITEMS_SHEET)
            items = [(cells, {"file": self.path, "sheet": item_sheet, "row": r}) for r, cells in self.spool.rows(ITEMS_SHEET, cid)]
            rec = self._build(n, cid, (head, where), items)
            if cid in strays:  # never decided without rows that may be its items (each also an error record below)
                rec.problems.append(_stray_rows(cid, strays[cid], {"file": self.path, "sheet": item_sheet}))
                rec.data = None
            if len(heads) > 1:
                rec.problems.append(
                    {
                        "field": "claim_id",
                        "message": msg("sheet.claim_id_twice", claim_id=repr(cid), n=len(heads), rows=", ".join(str(r) for r, _ in heads)),
                        "expected": msg("sheet.claim_id_twice_fix", sheet=where["sheet"]),
                        **where,
                    }
                )
                rec.data = None
            yield rec
        orphans = self.spool.db.execute(
            "SELECT claim_id, min(rowno), count(*) FROM rows i WHERE kind = ? AND NOT EXISTS"
            " (SELECT 1 FROM rows a WHERE a.kind = ? AND a.claim_id = i.claim_id) GROUP BY claim_id ORDER BY min(seq)",
            (ITEMS_SHEET, APPLICANTS_SHEET),
        ).fetchall()
        for cid, row, count in orphans:
            n += 1
            self.done = n
            where = {"file": self.path, "sheet": self.titles.get(ITEMS_SHEET, ITEMS_SHEET), "row": row}
            totals = _totals_row(n, cid, where) if cid else None
            if totals is not None:
                yield totals
                continue
            if cid:
                applicants = self.titles.get(APPLICANTS_SHEET, APPLICANTS_SHEET)
                said = {"message": msg("sheet.orphan_items", n=count, claim_id=repr(cid))}
                said["expected"] = msg("sheet.orphan_items_fix", claim_id=repr(cid), sheet=applicants)
            else:
                said = {"message": msg("sheet.items_without_id", n=count), "expected": msg("sheet.items_without_id_fix")}
            yield Record(n, where, None, [{"field": "claim_id", **said, **where}], key=cid or None)


def _comment_rows(where: Msg | str, rows: Sequence[tuple[int, str]]) -> Msg:
    """The notice of rows whose claim id begins with `#` but is none of the template's hints: skipped as comments
    (the template's convention), they were dropped unsaid, an application written `#2` never decided nor in error."""
    return msg("sheet.comment_rows", where=where, n=len(rows), rows=_row_runs([r for r, _ in rows]), first=repr(rows[0][1]))


def _stray_rows(cid: str, rows: Sequence[tuple[str, int]], where: dict[str, Any]) -> dict[str, Any]:
    """The problem that holds application `cid` back: rows that may be its items do not say so (`_Spool.strays`)."""
    blank = [r for written, r in rows if not written]
    other = [(written, r) for written, r in rows if written]
    if blank:
        said = msg("sheet.stray_rows_blank", rows=_row_runs(blank), claim_id=cid)
    else:
        key = "sheet.stray_rows_case" if only_case(other[0][0], cid) else "sheet.stray_rows_written"
        said = msg(key, rows=_row_runs([r for _, r in other]), written=repr(other[0][0]), claim_id=cid)
    return {"field": "claim_id", "message": said, **where, "row": rows[0][1]}


#: what an office writes in the first column of a totals row at the foot of its sheet (compared in NFKC, lower case,
#: without spaces and colons: `合 计`, `总计：`)
_TOTALS_WORDS = frozenset(
    ("合计", "总计", "小计", "共计", "累计", "总合计", "合计金额", "total", "totals", "subtotal", "grandtotal", "sum")
)


#: The spool key of a row with no claim id and a totals row's word in another cell (`_totals_key`): no claim id read
#: from a cell starts with a newline (it is stripped)
_TOTALS_ROW = "\n totals row "


def _totals_word(text: str) -> bool:
    return re.sub(r"[\s:：]+", "", unicodedata.normalize("NFKC", text)).lower() in _TOTALS_WORDS


def _totals_key(cid: str, rowno: int, cells: Mapping[str, Any]) -> str:
    """The spool key of a row: its claim id, or for a row with none whose other text cell holds a totals row's word
    (合计 under the name column, a sum beside it) a key of its own, so that it is not read as the items of the
    application above it (`_Spool.strays`) but said as a totals row (`_totals_row`)."""
    if cid:
        return cid
    for column, value in cells.items():
        if isinstance(value, str) and value.strip() and _totals_word(value):
            return f"{_TOTALS_ROW}{rowno}\n{column}\n{value.strip()}"
    return cid


def _totals_row(n: int, cid: str, where: dict[str, Any]) -> Record | None:
    """The error record of a row whose claim id is a totals row's word (合计), said as such: it was the application
    合计, told to add an applicants row for it (or, in a CSV file, that each of its facts was missing). A row with no
    claim id and such a word in another column (`_totals_key`) is said as a totals row too, under that column."""
    if cid.startswith(_TOTALS_ROW):
        _, column, written = cid.split("\n", 3)[1:]
        said = {"message": msg("sheet.totals_row_no_id", written=repr(written)), "expected": msg("sheet.totals_row_no_id_fix")}
        return Record(n, where, None, [{"field": column, **said, **where}])
    if not _totals_word(cid):
        return None
    said = {"message": msg("sheet.totals_row", written=repr(cid)), "expected": msg("sheet.totals_row_fix")}
    return Record(n, where, None, [{"field": "claim_id", **said, **where}], key=cid)


# --- writers -----------------------------------------------------------------------


class CsvOut:
    """A CSV file (UTF-8 with BOM, which Excel needs for Chinese) whose text cells cannot run as formulas."""

    def __init__(self, path: str | Path, header: Sequence[str]) -> None:
        self.f = open(path, "w", encoding="utf-8-sig", newline="")  # closed in close()
        self.w = csv.writer(self.f)
        self.header = list(header)
        self.rows = 1
        self.altered = Altered()
        self.w.writerow([safe_cell(h) for h in header])

    def row(self, values: Sequence[Any]) -> None:
        self.rows += 1
        if _plain_row(values):  # the common row: nothing to escape or guard (one test for the row)
            self.w.writerow(["" if v is None else v for v in values])
            return
        self.altered.note(values, self.header, f"row {self.rows}")
        self.w.writerow(["" if v is None else safe_cell(v) for v in values])

    def take(self, made: Sequence[tuple[bytes, int] | list[Any]]) -> None:
        """Rows made elsewhere (`CsvRows.done`), in order: a run of plain rows' text (UTF-8) written as it is, any
        other row through `row` (so its cells are escaped and noted at its own row number, as if written here)."""
        for part in made:
            if type(part) is tuple:
                self.f.flush()  # (what was written through the text layer first)
                self.f.buffer.write(part[0])
                self.rows += part[1]
            else:
                self.row(part)

    def close(self) -> None:
        self.f.close()


class CsvRows:
    """A `CsvOut`'s rows made on another process (the outputs' processes of a batch): each plain row (`_plain_row`)
    written as `CsvOut.row` writes it, into runs of text (as UTF-8); a row with a cell to escape or guard kept as its values,
    for `CsvOut.take` to write in its place through `CsvOut.row`. `done` gives them in order and starts again."""

    def __init__(self) -> None:
        self.buf = io.StringIO(newline="")
        self.w = csv.writer(self.buf)  # the dialect of CsvOut's writer
        self.n = 0
        self.made: list[tuple[bytes, int] | list[Any]] = []

    def row(self, values: Sequence[Any]) -> None:
        if _plain_row(values):
            self.w.writerow(["" if v is None else v for v in values])
            self.n += 1
            return
        self._run()
        self.made.append(list(values))

    def _run(self) -> None:
        if self.n:
            self.made.append((self.buf.getvalue().encode("utf-8"), self.n))
            self.buf.seek(0)
            self.buf.truncate()
            self.n = 0

    def done(self) -> list[tuple[bytes, int] | list[Any]]:
        self._run()
        made, self.made = self.made, []
        return made


_MONEY_CELL = re.compile(r"-?[0-9]{1,13}(\.[0-9]{1,2})?\Z")  # (\Z: `$` would also match before a final newline)
MONEY_FORMAT = "#,##0.00"


class XlsxOut:
    """A workbook written row by row: each sheet's rows go to a temporary file as SpreadsheetML as they come (memory
    stays flat), and `close()` zips them into the .xlsx with the few parts a workbook needs (the workbook, its
    relationships, content types, and a style sheet with the money format).

    The sheet XML is written here directly rather than through openpyxl's write-only mode, which builds an element
    tree per cell: for a round of 100,000 items that was most of the seconds between the end of deciding and the
    outputs being written (docs/performance.md, "Batch outputs"). The workbook reads back in openpyxl and in
    spreadsheet programs as before: text cells (as inline strings), numbers, booleans, and amounts.

    Columns named in `sheet(..., money=...)` hold amounts: a cell there that is an amount (a Decimal, or
    the text of one, at most two decimals) is written as a number cell shown with two decimals, so a
    spreadsheet can sum it. The cell's XML holds the decimal text itself (`<v>1492200.00</v>`), never a
    float's rendering of it; anything else stays text. Every text cell goes through `safe_cell`. A value of
    another type (a date, say) is refused (TypeError), never converted silently.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.sheets: dict[str, IO[bytes]] = {}  # each sheet's rows, as UTF-8
        self.money: dict[str, frozenset[int]] = {}
        self.headers: dict[str, list[str]] = {}
        self.rows: dict[str, int] = {}
        self.letters: dict[str, list[str]] = {}
        self.filtered: dict[str, bool] = {}
        self.tabs: dict[str, str] = {}  # each sheet's tab, as the reader sees it (its name, unless given in words)
        self.altered = Altered()

    def sheet(
        self,
        name: str,
        header: Sequence[str],
        money: Sequence[str] = (),
        titles: Sequence[str] | None = None,
        autofilter: bool = True,
        tab: str | None = None,
    ) -> None:
        """A new sheet whose columns are `header` (codes; `money` names the amount columns), headed by `titles` (the
        reader's words; default the codes). The heading row is frozen, and with `autofilter` has the filter buttons.
        Rows are written to it by `name`; its tab says `tab` (the reader's word for it; default `name`)."""
        self.sheets[name] = tempfile.TemporaryFile("w+b")
        self.tabs[name] = tab or name
        self.money[name] = frozenset(i for i, h in enumerate(header) if h in money)
        self.headers[name] = list(header)
        self.rows[name] = 0
        self.letters[name] = []
        self.filtered[name] = autofilter
        self._write(name, [safe_cell(h) for h in (titles if titles is not None else header)], frozenset())

    def row(self, sheet: str, values: Sequence[Any]) -> None:
        if _plain_row(values):  # the common row: nothing to escape or guard (one test for the row)
            self._write(sheet, values, self.money[sheet], safe=_same)
            return
        self.altered.note(values, self.headers[sheet], msg("sheet.place.in_sheet_row", sheet=self.tabs[sheet], row=self.rows[sheet] + 1))
        self._write(sheet, values, self.money[sheet])

    def parts(self, sheet: str, values: Sequence[Any]) -> list[bytes] | tuple[Any, ...]:
        """A row of `sheet` made on another process (the outputs' processes of a batch), for `put`: a plain row as
        the pieces of its XML (UTF-8) around its row number (which only the writer knows), any other row as its
        values (a tuple), for `put` to write through `row` (escaped and noted in its place)."""
        if not _plain_row(values):
            return tuple(values)
        letters = self.letters[sheet]
        while len(letters) < len(values):
            letters.append(_column_letter(len(letters) + 1))
        return _row_xml(values, self.money[sheet], letters, _same).encode("utf-8").split(_ROW_NUMBER.encode())

    def put(self, sheet: str, made: list[bytes] | tuple[Any, ...]) -> None:
        """A row `parts` made, written in its place: the next row of `sheet`."""
        if type(made) is tuple:
            self.row(sheet, made)
            return
        self.rows[sheet] += 1
        self.sheets[sheet].write(str(self.rows[sheet]).encode().join(made))

    def _write(self, sheet: str, values: Sequence[Any], money: frozenset[int], safe: Callable[[Any], Any] = safe_cell) -> None:
        self.rows[sheet] += 1
        letters = self.letters[sheet]
        while len(letters) < len(values):
            letters.append(_column_letter(len(letters) + 1))
        self.sheets[sheet].write(_row_xml(values, money, letters, safe).replace(_ROW_NUMBER, str(self.rows[sheet])).encode("utf-8"))

    def _filter_range(self, name: str) -> str:
        """The filter's range: the heading row and every row below it, over the heading's columns."""
        return _filter_range_of(len(self.headers[name]), self.rows[name])

    def discard(self) -> None:
        """No workbook after all (its run failed): the sheets' temporary files closed, nothing written."""
        for f in self.sheets.values():
            f.close()

    def close(self) -> None:
        names = list(self.sheets)
        with zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            z.writestr("[Content_Types].xml", _xlsx_content_types(len(names)))
            z.writestr("_rels/.rels", _XLSX_RELS)
            filters = {k: self._filter_range(name) for k, name in enumerate(names) if self.filtered[name]}
            z.writestr("xl/workbook.xml", _xlsx_workbook([self.tabs[name] for name in names], filters))
            z.writestr("xl/_rels/workbook.xml.rels", _xlsx_workbook_rels(len(names)))
            z.writestr("xl/styles.xml", _XLSX_STYLES)
            for k, name in enumerate(names, 1):
                f = self.sheets[name]
                f.seek(0)
                cols = _cols_xml(column_widths(f, self.filtered[name]))
                f.seek(0)
                with z.open(f"xl/worksheets/sheet{k}.xml", "w") as out:
                    out.write((_XLSX_SHEET_VIEWS + cols + "<sheetData>").encode("utf-8"))
                    while chunk := f.read(1 << 20):
                        out.write(chunk)
                    tail = f'<autoFilter ref="{filters[k - 1]}"/>' if k - 1 in filters else ""
                    out.write(f"</sheetData>{tail}</worksheet>".encode())
                f.close()


#: a column's width, in Excel's units (the width of a digit): from what its first rows show, within these bounds
WIDTH_SAMPLE_ROWS, WIDTH_SAMPLE_BYTES = 200, 1 << 19
NARROWEST, WIDEST, WIDTH_PAD, FILTER_BUTTON = 6, 60, 2, 2  # (a column's width in characters: layout, not a limit)
#: a cell of the rows `_row_xml` wrote: its column, its style (1: money), and its inline text or its value
_CELL_XML = re.compile(r'<c r="([A-Z]+)[0-9]+"( s="1")?[^>]*>(?:<is><t[^>]*>([^<]*)</t></is>|<v>([^<]*)</v>)</c>')


def display_width(text: str) -> int:
    """How many digit widths `text` takes in a cell: a wide character (CJK, full-width) two, others one; of a text
    of several lines, its longest."""
    return max((sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line) for line in text.split("\n")), default=0)


def column_widths(rows: IO[bytes], filtered: bool) -> dict[int, int]:
    """Each column's width (column number -> digit widths) from the sheet's rows as `_row_xml` wrote them: its heading
    and at most `WIDTH_SAMPLE_ROWS` rows (at most `WIDTH_SAMPLE_BYTES` read) -- the widest text, an amount as its
    money format shows it (1,492,200.00), plus a margin (and room for the heading's filter button), within
    `NARROWEST` and `WIDEST`. Every column was Excel's default, 8.43: 申请人名称 and every amount cut off."""
    rows.seek(0)
    head = rows.read(WIDTH_SAMPLE_BYTES)
    ends = list(itertools.islice(re.finditer(rb"</row>", head), WIDTH_SAMPLE_ROWS + 1))  # (the heading and the rows)
    text = head[: ends[-1].end()].decode("utf-8", "replace") if ends else ""
    widths: dict[int, int] = {}
    first_row_end = text.find("</row>")
    for m in _CELL_XML.finditer(text):
        letters, money, inline, value = m.groups()
        if inline is not None:
            shown = display_width(html.unescape(inline))
        elif money and value:
            shown = len(f"{Decimal(value):,.2f}")
        else:
            shown = len(value or "")
        if filtered and m.start() < first_row_end:  # (the heading: its filter button covers its right end)
            shown += FILTER_BUTTON
        column = _column_number(letters)
        widths[column] = max(widths.get(column, 0), shown)
    return {c: min(max(w + WIDTH_PAD, NARROWEST), WIDEST) for c, w in sorted(widths.items())}


def _column_number(letters: str) -> int:
    """A -> 1, AA -> 27 (`_column_letter`'s inverse)."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _cols_xml(widths: Mapping[int, int]) -> str:
    """A sheet's `<cols>`: each column's width, set (customWidth) so that a spreadsheet program keeps it."""
    if not widths:
        return ""
    cols = "".join(f'<col min="{c}" max="{c}" width="{w}" customWidth="1"/>' for c, w in widths.items())
    return f"<cols>{cols}</cols>"


def _filter_range_of(columns: int, rows: int) -> str:
    return f"A1:{_column_letter(max(columns, 1))}{max(rows, 1)}"


def _absolute(ref: str) -> str:
    """A1:S14 -> $A$1:$S$14."""
    return ":".join(re.sub(r"^([A-Z]+)([0-9]+)$", r"$\1$\2", part) for part in ref.split(":"))


def _same(value: Any) -> Any:
    return value


def _column_letter(n: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


#: where a row's number goes in `_row_xml`'s text: a character no cell written holds (`safe_cell` escapes it, and
#: `_plain_row` finds it in any text of a row written as it is)
_ROW_NUMBER = "\x00"


#: a plain row's text cell, its XML after its reference (`<c r="A1` + this), by its text: one table for the money
#: columns (an amount's number cell), one for the others. Texts repeat down a column (rule ids, labels, statuses,
#: clauses, reasons, amounts): a look-up in place of the escaping. Bounded: cleared at `_CELLS_KEPT` entries.
_TEXT_CELLS: dict[str, str] = {}
_MONEY_TEXT_CELLS: dict[str, str] = {}
_CELLS_KEPT = 20_000


def _text_cell(v: str, in_money: bool, safe: Callable[[Any], Any]) -> str:
    """A text cell's XML after its reference: in a money column an amount's text is a number cell of its own text
    with the money style, any other text an inline string (`safe(v)`)."""
    if in_money and _MONEY_CELL.match(v):
        return _money_after_ref(Decimal(v))
    return _xml_cell_after_ref(safe(v))


def _kept_text_cell(v: str, in_money: bool) -> str:
    """`_text_cell` of a plain row's text (written as it is), kept by the text (`_TEXT_CELLS`)."""
    kept = _MONEY_TEXT_CELLS if in_money else _TEXT_CELLS
    cell = kept.get(v)
    if cell is None:
        if len(kept) >= _CELLS_KEPT:
            kept.clear()
        cell = kept[v] = _text_cell(v, in_money, _same)
    return cell


def _row_xml(values: Sequence[Any], money: frozenset[int], letters: Sequence[str], safe: Callable[[Any], Any]) -> str:
    """A row's XML with `_ROW_NUMBER` where its number goes (`<row r="N">`, and in each cell's reference `A N`).
    No cell for None or an empty text (as openpyxl: it reads back as None); in a `money` column an amount (a
    Decimal, or the text of one) is a number cell of its own text with the money style."""
    n = _ROW_NUMBER
    out = [f'<row r="{n}">']
    plain = safe is _same  # (a plain row's texts are written as they are: their cells are kept, `_kept_text_cell`)
    for i, v in enumerate(values):
        if v is None:
            continue
        if type(v) is str:  # (the common cell, the short way: what the general way below does with a text)
            if not v:  # no cell, as openpyxl writes an empty text: reads back as None
                continue
            cell = _kept_text_cell(v, i in money) if plain else _text_cell(v, i in money, safe)
            out.append(f'<c r="{letters[i]}{n}{cell}')
            continue
        if i in money:
            amount = _MONEY_CELL.match(v) and Decimal(v) if isinstance(v, str) else v
            if isinstance(amount, Decimal) and amount.is_finite():
                out.append(_money_cell(letters[i], amount))
                continue
        cell = _xml_cell_after_ref(safe(v))
        if cell:  # ("" for a number with no value: no cell)
            out.append(f'<c r="{letters[i]}{n}{cell}')
    out.append("</row>")
    return "".join(out)


def _money_cell(letter: str, amount: Decimal) -> str:
    """A money column's number cell (`_row_xml`'s): the decimal's own text, never a float's rendering of it
    (99999999999.99 stays exact), in the money style."""
    return f'<c r="{letter}{_ROW_NUMBER}{_money_after_ref(amount)}'


def _money_after_ref(amount: Decimal) -> str:
    return f'" s="1"><v>{format(amount, "f")}</v></c>'


def _xml_cell_after_ref(v: Any) -> str:
    """One cell's XML after its reference's text (`<c r="A1` + this): text as an inline string, numbers and
    booleans as such; "" for no cell at all."""
    if isinstance(v, str):
        return f'" t="inlineStr"><is><t xml:space="preserve">{_xml_text(v)}</t></is></c>'
    if isinstance(v, bool):
        return f'" t="b"><v>{int(v)}</v></c>'
    if isinstance(v, int):
        return f'" t="n"><v>{v}</v></c>'
    if isinstance(v, float | Decimal):
        if not math.isfinite(v):
            return ""  # as openpyxl wrote it: a number with no value
        return f'" t="n"><v>{repr(v) if isinstance(v, float) else format(v, "f")}</v></c>'
    raise TypeError(f"a workbook cell cannot hold a {type(v).__name__} ({v!r})")


_SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
#: every sheet's heading row is frozen (it stays in view as one scrolls)
_XLSX_SHEET_VIEWS = (
    _XML_HEAD + f'<worksheet xmlns="{_SML}"><sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/>'
    "</sheetView></sheetViews>"
)  # (then the columns' widths, `<cols>`, and `<sheetData>`: SpreadsheetML's order)
_XLSX_RELS = (
    _XML_HEAD
    + f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
#: one cell style besides the default: built-in number format 4, "#,##0.00" (`MONEY_FORMAT`)
_XLSX_STYLES = (
    _XML_HEAD + f'<styleSheet xmlns="{_SML}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


def _xlsx_content_types(sheets: int) -> str:
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = "".join(f'<Override PartName="/xl/worksheets/sheet{k}.xml" ContentType="{ct}.worksheet+xml"/>' for k in range(1, sheets + 1))
    return (
        _XML_HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{ct}.styles+xml"/>{parts}</Types>'
    )


def _xlsx_workbook(names: list[str], filters: Mapping[int, str] | None = None) -> str:
    """The workbook part: its sheets, and the defined name Excel keeps for each sheet's filter (0-based sheet index)."""
    sheets = "".join(
        f'<sheet name="{_xml_text(n).replace(chr(34), "&quot;")}" sheetId="{k}" r:id="rId{k}"/>' for k, n in enumerate(names, 1)
    )
    defined = ""
    if filters:
        names_xml = {k: "'" + _xml_text(names[k]).replace(chr(34), "&quot;").replace("'", "''") + "'" for k in filters}
        defined = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{k}" hidden="1">{names_xml[k]}!{_absolute(ref)}</definedName>'
            for k, ref in filters.items()
        )
        defined = f"<definedNames>{defined}</definedNames>"
    return _XML_HEAD + f'<workbook xmlns="{_SML}" xmlns:r="{_REL}"><sheets>{sheets}</sheets>{defined}</workbook>'


def _xlsx_workbook_rels(sheets: int) -> str:
    rels = "".join(f'<Relationship Id="rId{k}" Type="{_REL}/worksheet" Target="worksheets/sheet{k}.xml"/>' for k in range(1, sheets + 1))
    rels += f'<Relationship Id="rId{sheets + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
    return _XML_HEAD + f'<Relationships xmlns="{_PKG}">{rels}</Relationships>'


def write_claims_workbook(
    policy: CompiledPolicy, claims: Sequence[Mapping[str, Any]] | Iterator[Mapping[str, Any]], path: str | Path
) -> str | None:
    """The batch workbook officers fill in (`engine.records.template.write_workbook`): with no claims, the empty
    template with example rows. Returns the warning naming the cells `safe_cell` had to escape, None if none."""
    from engine.records.template import write_workbook

    return write_workbook(policy, claims, path)
