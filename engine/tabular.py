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

import csv
import datetime as _dt
import difflib
import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from .claims import DuplicateKeyError, loads_json, raw_decode_json
from .errors import format_path
from .model import CompiledPolicy, FactSpec

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LIST_SPLIT = re.compile(r"[;；\n]")
TRUE_WORDS = {"true", "yes", "y", "1", "是", "对", "√"}
FALSE_WORDS = {"false", "no", "n", "0", "否", "×"}


class InputError(Exception):
    """The input as a whole cannot be read (unknown format, missing sheet, unknown columns)."""


@dataclass
class Record:
    """One application as read: its data (None if unreadable), where it came from, and reading problems."""

    number: int
    where: dict[str, Any]
    data: dict[str, Any] | None
    problems: list[dict[str, Any]] = field(default_factory=list)
    item_where: list[dict[str, Any]] = field(default_factory=list)
    key: str | None = None  # the claim id as read, when the data could not be built

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
        return self.where, _dotted(parts)


def _dotted(parts: Sequence[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


# --- formula injection -------------------------------------------------------------


def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe; everything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


# --- readers -----------------------------------------------------------------------


class Reader:
    """Iterate records; `fraction()` estimates progress (0..1) when it can."""

    total: int | None = None

    def __iter__(self) -> Iterator[Record]:  # pragma: no cover - interface
        raise NotImplementedError

    def fraction(self) -> float | None:
        return None

    def close(self) -> None:
        pass


def open_input(path: str | Path, policy: CompiledPolicy) -> Reader:
    name = str(path).lower()
    if not Path(path).is_file():
        raise InputError(f"{path}: no such file")
    if name.endswith((".jsonl", ".ndjson")):
        return JsonLinesReader(path)
    if name.endswith(".json"):
        return JsonListReader(path)
    if name.endswith((".yaml", ".yml")):
        return YamlListReader(path)
    if name.endswith(".csv"):
        return CsvReader(path, policy)
    if name.endswith(".xlsx"):
        return XlsxReader(path, policy)
    raise InputError(f"{path}: unknown input format (use .jsonl, .json, .yaml, .csv or .xlsx)")


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
        for lineno, raw in enumerate(self.f, 1):
            if not raw.strip():
                continue
            n += 1
            where = {"file": self.path, "line": lineno}
            try:
                data = loads_json(raw.decode("utf-8"))
            except DuplicateKeyError as exc:
                yield Record(n, where, None, [_duplicate_problem(exc, where)])
                continue
            except (UnicodeDecodeError, ValueError) as exc:
                yield Record(n, where, None, [{"field": None, "message": f"not valid JSON: {getattr(exc, 'msg', exc)}", **where}])
                continue
            if not isinstance(data, dict):
                yield Record(n, where, None, [{"field": None, "message": f"a claim must be an object, not {type(data).__name__}", **where}])
                continue
            yield Record(n, where, data)


def _duplicate_problem(exc: DuplicateKeyError, where: dict[str, Any], column_known: bool = True) -> dict[str, Any]:
    """A JSON object naming a key twice, as a reading problem: its field, file line and column.

    `where["line"]` is the file line where the JSON text read starts; a column is given only where it
    counts from a line start (`column_known` is False for a text starting mid-line).
    """

    def col(line: int, column: int) -> int | None:
        return column if column_known or line > 1 else None

    first_line, first_column = exc.first
    at = {**where, "line": where["line"] + exc.lineno - 1}
    column = col(exc.lineno, exc.colno)
    if column is not None:
        at["column"] = column
    message = exc.describe(exc.key, where["line"] + first_line - 1, col(first_line, first_column))
    return {**at, "field": format_path(exc.path) if exc.path else None, "message": message, "expected": "each key once per object"}


#: only to find where a refused element of a JSON list ends
_LENIENT = json.JSONDecoder()


class JsonListReader(_BytesProgress):
    """A JSON array of claims, decoded one element at a time (the array is never held whole)."""

    CHUNK = 1 << 16

    def __iter__(self) -> Iterator[Record]:
        buf = ""
        line = 1
        eof = False
        started = False
        n = 0

        def fill() -> bool:
            nonlocal buf, eof
            if eof:
                return False
            chunk = self.f.read(self.CHUNK)
            if not chunk:
                eof = True
                return False
            buf += chunk.decode("utf-8", errors="replace")
            return True

        def skip_space() -> None:
            nonlocal buf, line
            i = 0
            while i < len(buf) and buf[i] in " \t\r\n":
                i += 1
            line += buf.count("\n", 0, i)
            buf = buf[i:]

        while True:
            skip_space()
            while not buf and fill():
                skip_space()
            if not buf:
                break
            if not started:
                if buf[0] != "[":
                    raise InputError(f"{self.path}:{line}: a JSON input must be a list of claims [ {{...}}, ... ] (or use .jsonl)")
                buf = buf[1:]
                started = True
                continue
            if buf[0] == ",":
                buf = buf[1:]
                continue
            if buf[0] == "]":
                break
            refused: ValueError | None = None  # an element read whole but refused: reported, and the list goes on
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
                            raise InputError(f"{self.path}:{line}: not valid JSON: {exc}") from None
                        refused, data = exc, None
                    if end == len(buf) and not eof and fill():  # a number could continue in the next chunk
                        continue
                    break
                except json.JSONDecodeError as exc:
                    if fill():
                        continue
                    raise InputError(f"{self.path}:{line + exc.lineno - 1}: not valid JSON: {exc.msg}") from None
            n += 1
            where = {"file": self.path, "line": line, "element": n - 1}
            line += buf.count("\n", 0, end)
            buf = buf[end:]
            if isinstance(refused, DuplicateKeyError):
                yield Record(n, where, None, [_duplicate_problem(refused, where, column_known=False)])
            elif refused is not None:
                yield Record(n, where, None, [{"field": None, "message": f"not valid JSON: {refused}", **where}])
            elif isinstance(data, dict):
                yield Record(n, where, data)
            else:
                yield Record(n, where, None, [{"field": None, "message": f"a claim must be an object, not {type(data).__name__}", **where}])


class YamlListReader(Reader):
    """A YAML list of claims (loaded whole, with line numbers for every field)."""

    def __init__(self, path: str | Path) -> None:
        from .source import load_yaml_file

        self.path = str(path)
        self.source = load_yaml_file(path)
        data = self.source.data
        if not isinstance(data, list):
            raise InputError(f"{path}: a YAML input must be a list of claims")
        self.data: list[Any] = data
        self.total = len(data)
        self.done = 0

    def fraction(self) -> float | None:
        return self.done / max(self.total or 1, 1)

    def __iter__(self) -> Iterator[Record]:
        for i, data in enumerate(self.data):
            self.done = i + 1
            line, _ = self.source.where((i,))
            where = {"file": self.path, "line": line, "element": i}
            if isinstance(data, dict):
                rec = Record(i + 1, where, data)
                rec.item_where = []
                yield rec
            else:
                yield Record(i + 1, where, None, [{"field": None, "message": "a claim must be a mapping", **where}])

    def close(self) -> None:
        self.data = []


# --- tabular (CSV, XLSX) -----------------------------------------------------------


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

    def check(self, header: Sequence[str], allowed: Sequence[str], where: str) -> None:
        unknown = [h for h in header if h and h not in allowed]
        if unknown:
            hints = []
            for h in unknown:
                close = difflib.get_close_matches(h, allowed, n=1)
                hints.append(f"{h!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise InputError(f"{where}: unknown column(s) {', '.join(hints)}; columns are: {', '.join(allowed)}")
        if "claim_id" not in header:
            raise InputError(f"{where}: no claim_id column")

    def convert(self, spec: FactSpec, value: Any) -> tuple[Any, str | None]:
        """A cell as a claim value (JSON-like), or an error message."""
        t = spec.type
        if isinstance(value, str) and t not in ("string", "identifier", "string_list"):
            value = value.strip()
        if value is None or value == "":
            return None, None
        if t in ("enum_list", "document_list", "string_list"):
            if isinstance(value, str):
                parts = [p.strip() for p in LIST_SPLIT.split(value)]
                return [p for p in parts if p], None
            return [str(value)], None
        if t == "boolean":
            if isinstance(value, bool):
                return value, None
            if isinstance(value, int | float) and value in (0, 1):
                return bool(value), None
            word = str(value).strip().lower()
            if word in TRUE_WORDS:
                return True, None
            if word in FALSE_WORDS:
                return False, None
            return None, f"{value!r} is not yes/no (true/false, 是/否)"
        if t == "integer":
            if isinstance(value, bool):
                return None, f"{value!r} is not a whole number"
            if isinstance(value, int):
                return value, None
            if isinstance(value, float) and value.is_integer():
                return int(value), None
            if isinstance(value, str) and re.fullmatch(r"[0-9]+", value):
                return int(value), None
            return None, f"{value!r} is not a whole number"
        if t == "money":
            if isinstance(value, bool):
                return None, f"{value!r} is not an amount"
            if isinstance(value, int):
                return str(value), None
            if isinstance(value, float):  # a numeric spreadsheet cell: its shortest decimal form, never binary arithmetic
                try:
                    return str(Decimal(repr(value))), None
                except InvalidOperation:
                    return None, f"{value!r} is not an amount"
            return str(value), None
        if t == "date":
            if isinstance(value, _dt.datetime):
                if value.time() != _dt.time():
                    return None, f"{value} has a time of day; a date is expected"
                return value.date().isoformat(), None
            if isinstance(value, _dt.date):
                return value.isoformat(), None
            return str(value), None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value), None


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

    def count(self, kind: str) -> int:
        return int(self.db.execute("SELECT count(DISTINCT claim_id) FROM rows WHERE kind = ?", (kind,)).fetchone()[0])

    def rows(self, kind: str, claim_id: str) -> list[tuple[int, dict[str, Any]]]:
        cur = self.db.execute("SELECT rowno, cells FROM rows WHERE kind = ? AND claim_id = ? ORDER BY seq", (kind, claim_id))
        return [(r, _cells_from_json(c)) for r, c in cur]

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
        return d

    out = json.loads(text, object_hook=hook)
    assert isinstance(out, dict)
    return out


class _TabularReader(Reader):
    def __init__(self, path: str | Path, policy: CompiledPolicy) -> None:
        self.path = str(path)
        self.cols = Columns(policy)
        self.spool = _Spool()
        self.done = 0

    def fraction(self) -> float | None:
        return self.done / max(self.total or 1, 1)

    def close(self) -> None:
        self.spool.close()

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
            v, err = self.cols.convert(spec, value)
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
            for name, value in icells.items():
                spec = self.cols.item.get(name)
                if spec is None:
                    continue
                v, err = self.cols.convert(spec, value)
                if err:
                    problems.append({"field": name, "message": err, **iwhere})
                elif v is not None:
                    item[name.split(".", 1)[1]] = v
            out_items.append(item)
            item_where.append(iwhere)
        data["items"] = out_items
        if not items:
            problems.append({"field": "items", "message": f"no item rows for claim {claim_id}", **where})
        return Record(n, where, None if problems else data, problems, item_where, claim_id)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class CsvReader(_TabularReader):
    """One row per item; the claim and applicant columns repeat on each row of a claim (the first row's count)."""

    def __init__(self, path: str | Path, policy: CompiledPolicy) -> None:
        super().__init__(path, policy)
        apps, items = self.cols.header_sets()
        allowed = list(dict.fromkeys(apps + items))
        self.orphans: list[tuple[int, str]] = []
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise InputError(f"{path}: empty CSV file")
            header = [h.strip() for h in header]
            self.cols.check(header, allowed, str(path))
            key = header.index("claim_id")
            for rowno, row in enumerate(reader, 2):
                if not any(c.strip() for c in row):
                    continue
                cid = row[key].strip() if key < len(row) else ""
                if cid.startswith("#"):
                    continue
                cells = {h: (row[i] if i < len(row) else "") for i, h in enumerate(header) if h and h != "claim_id"}
                self.spool.add("row", cid, rowno, cells)
        self.spool.index()
        self.total = self.spool.count("row")

    def __iter__(self) -> Iterator[Record]:
        for n, cid in enumerate(self.spool.claims("row"), 1):
            self.done = n
            rows = self.spool.rows("row", cid)
            first_row, first = rows[0]
            where = {"file": self.path, "row": first_row}
            if not cid:
                yield Record(n, where, None, [{"field": "claim_id", "message": f"{len(rows)} row(s) without a claim_id", **where}])
                continue
            head = {k: v for k, v in first.items() if k in self.cols.claim or k in self.cols.applicant}
            conflicts = []
            for rowno, cells in rows[1:]:
                for k, v in cells.items():
                    if k in head and str(v).strip() and str(v).strip() != str(head[k]).strip():
                        conflicts.append(
                            {
                                "field": k,
                                "message": f"{v!r} differs from {head[k]!r} on row {first_row} of the same claim",
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


class XlsxReader(_TabularReader):
    """A workbook with an `applicants` sheet (one row per application) and an `items` sheet (one row per item)."""

    def __init__(self, path: str | Path, policy: CompiledPolicy) -> None:
        super().__init__(path, policy)
        try:
            from openpyxl import load_workbook
        except ModuleNotFoundError:  # pragma: no cover
            raise InputError("reading .xlsx needs openpyxl (pip install openpyxl)") from None
        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise InputError(f"{path}: not a readable .xlsx workbook ({exc})") from None
        try:
            for sheet in (APPLICANTS_SHEET, ITEMS_SHEET):
                if sheet not in wb.sheetnames:
                    raise InputError(
                        f"{path}: no sheet named {sheet!r} (sheets: {', '.join(wb.sheetnames)}); see examples/round_template.xlsx"
                    )
            apps, items = self.cols.header_sets()
            for sheet, allowed in ((APPLICANTS_SHEET, apps), (ITEMS_SHEET, items)):
                rows = wb[sheet].iter_rows(values_only=True)
                header_row = next(rows, None)
                header = [_cell_text(h) for h in (header_row or ())]
                self.cols.check(header, allowed, f"{path} sheet {sheet}")
                key = header.index("claim_id")
                for rowno, row in enumerate(rows, 2):
                    if row is None or all(c is None or (isinstance(c, str) and not c.strip()) for c in row):
                        continue
                    cid = _cell_text(row[key] if key < len(row) else None)
                    if cid.startswith("#"):
                        continue
                    cells = {h: row[i] for i, h in enumerate(header) if h and h != "claim_id" and i < len(row)}
                    self.spool.add(sheet, cid, rowno, cells)
        finally:
            wb.close()
        self.spool.index()
        self.total = self.spool.count(APPLICANTS_SHEET)
        self.total += int(
            self.spool.db.execute(
                "SELECT count(DISTINCT claim_id) FROM rows i WHERE kind = ? AND NOT EXISTS (SELECT 1 FROM rows a WHERE a.kind = ? AND a.claim_id = i.claim_id)",
                (ITEMS_SHEET, APPLICANTS_SHEET),
            ).fetchone()[0]
        )

    def __iter__(self) -> Iterator[Record]:
        n = 0
        for cid in self.spool.claims(APPLICANTS_SHEET):
            n += 1
            self.done = n
            heads = self.spool.rows(APPLICANTS_SHEET, cid)
            first_row, head = heads[0]
            where = {"file": self.path, "sheet": APPLICANTS_SHEET, "row": first_row}
            if not cid:
                yield Record(
                    n, where, None, [{"field": "claim_id", "message": f"{len(heads)} applicant row(s) without a claim_id", **where}]
                )
                continue
            items = [(cells, {"file": self.path, "sheet": ITEMS_SHEET, "row": r}) for r, cells in self.spool.rows(ITEMS_SHEET, cid)]
            rec = self._build(n, cid, (head, where), items)
            if len(heads) > 1:
                rec.problems.append(
                    {
                        "field": "claim_id",
                        "message": f"claim id {cid!r} appears on {len(heads)} applicant rows: {', '.join(str(r) for r, _ in heads)}",
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
            where = {"file": self.path, "sheet": ITEMS_SHEET, "row": row}
            message = (
                f"{count} item row(s) of claim {cid!r} have no row in the applicants sheet"
                if cid
                else f"{count} item row(s) without a claim_id"
            )
            yield Record(n, where, None, [{"field": "claim_id", "message": message, **where}], key=cid or None)


# --- writers -----------------------------------------------------------------------


class CsvOut:
    """A CSV file (UTF-8 with BOM, which Excel needs for Chinese) whose text cells cannot run as formulas."""

    def __init__(self, path: str | Path, header: Sequence[str]) -> None:
        self.f = open(path, "w", encoding="utf-8-sig", newline="")  # closed in close()
        self.w = csv.writer(self.f)
        self.w.writerow([safe_cell(h) for h in header])

    def row(self, values: Sequence[Any]) -> None:
        self.w.writerow(["" if v is None else safe_cell(v) for v in values])

    def close(self) -> None:
        self.f.close()


_MONEY_CELL = re.compile(r"^-?[0-9]{1,13}(\.[0-9]{1,2})?$")
MONEY_FORMAT = "#,##0.00"


class XlsxOut:
    """A workbook written row by row (openpyxl write-only mode: rows go to disk, memory stays flat).

    Columns named in `sheet(..., money=...)` hold amounts: a cell there that is an amount (a Decimal, or
    the text of one, at most two decimals) is written as a number cell shown with two decimals, so a
    spreadsheet can sum it. The cell's XML holds the decimal text itself (`<v>1492200.00</v>`), never a
    float's rendering of it; anything else stays text.
    """

    def __init__(self, path: str | Path) -> None:
        from openpyxl import Workbook

        self.path = str(path)
        self.wb = Workbook(write_only=True)
        self.sheets: dict[str, Any] = {}
        self.money: dict[str, frozenset[int]] = {}

    def sheet(self, name: str, header: Sequence[str], money: Sequence[str] = ()) -> None:
        ws = self.wb.create_sheet(name)
        ws.append([safe_cell(h) for h in header])
        self.sheets[name] = ws
        self.money[name] = frozenset(i for i, h in enumerate(header) if h in money)

    def row(self, sheet: str, values: Sequence[Any]) -> None:
        money = self.money[sheet]
        self.sheets[sheet].append(
            [None if v is None else self._amount(sheet, v) if i in money else safe_cell(v) for i, v in enumerate(values)]
        )

    def _amount(self, sheet: str, value: Any) -> Any:
        from openpyxl.cell import WriteOnlyCell

        if isinstance(value, str) and _MONEY_CELL.match(value):
            value = Decimal(value)
        if not isinstance(value, Decimal) or not value.is_finite():
            return safe_cell(value)
        cell = WriteOnlyCell(self.sheets[sheet])
        # the decimal's own text in <v>: openpyxl would format a Decimal through a float with 16 significant
        # digits, which is not exact (99999999999.99 -> 99999999999.99001); a text value of type "n" is written as is
        cell._value = format(value, "f")
        cell.data_type = "n"
        cell.number_format = MONEY_FORMAT
        return cell

    def close(self) -> None:
        self.wb.save(self.path)


def _list_text(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_claims_workbook(
    policy: CompiledPolicy, claims: Sequence[Mapping[str, Any]] | Iterator[Mapping[str, Any]], path: str | Path
) -> None:
    """A batch workbook: `applicants` and `items` sheets (with a label row), plus a `columns` sheet documenting each column.

    With no claims it is the empty template officers fill in.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    cols = Columns(policy)
    app_cols, item_cols = cols.header_sets()
    wb = Workbook()
    ws_a = wb.active
    assert ws_a is not None
    ws_a.title = APPLICANTS_SHEET
    ws_i = wb.create_sheet(ITEMS_SHEET)
    ws_c = wb.create_sheet("columns")
    specs: dict[str, FactSpec] = {**cols.claim, **cols.applicant, **cols.item}

    def label(name: str) -> str:
        if name == "claim_id":
            return "# 申请编号 / application id"
        s = specs[name]
        return f"{s.label.zh} / {s.label.en}"

    for ws, names in ((ws_a, app_cols), (ws_i, item_cols)):
        ws.append(names)
        ws.append([label(n) for n in names])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for cell in ws[2]:
            cell.font = Font(italic=True, color="666666")
        ws.freeze_panes = "B3"
        for i, n in enumerate(names, 1):
            letter = ws.cell(row=1, column=i).column_letter
            ws.column_dimensions[letter].width = max(14, min(40, len(n) + 4))
            if n == "claim_id" or specs[n].type in ("money", "identifier", "string", "date"):
                ws.column_dimensions[letter].number_format = "@"
    ws_c.append(["sheet", "column", "type", "required", "values", "zh", "en"])
    for sheet, names in ((APPLICANTS_SHEET, app_cols), (ITEMS_SHEET, item_cols)):
        for n in names:
            if n == "claim_id":
                ws_c.append(
                    [
                        sheet,
                        n,
                        "string",
                        "yes",
                        "",
                        "申请编号（同一申请的各行相同）",
                        "application id (the same on every row of one application)",
                    ]
                )
                continue
            s = specs[n]
            types = [t for t, facts in policy.item_facts.items() if n.split(".", 1)[1] in facts] if sheet == ITEMS_SHEET else []
            values = "; ".join(s.values or ())
            if n == "item.type":
                values = "; ".join(sorted(policy.item_type_labels))
            note = "" if not types or len(types) == len(policy.item_facts) else " (" + ", ".join(types) + ")"
            ws_c.append(
                [
                    sheet,
                    n,
                    s.type + ("; list: a;b" if s.type.endswith("_list") else ""),
                    "yes" if s.required else "no",
                    values,
                    s.label.zh,
                    s.label.en + note,
                ]
            )
    for c in claims:
        app = c.get("applicant", {})
        row: list[Any] = []
        for n in app_cols:
            if n == "claim_id":
                row.append(c.get("claim_id"))
            elif n.startswith("applicant."):
                row.append(_list_text(app.get(n.split(".", 1)[1])))
            else:
                row.append(_list_text(c.get(n.split(".", 1)[1])))
        ws_a.append([safe_cell(str(v)) if isinstance(v, Decimal) else safe_cell(v) for v in row])
        for it in c.get("items", []):
            irow = [c.get("claim_id")] + [_list_text(it.get(n.split(".", 1)[1])) for n in item_cols[1:]]
            ws_i.append([safe_cell(str(v)) if isinstance(v, Decimal) else safe_cell(v) for v in irow])
    wb.save(path)
