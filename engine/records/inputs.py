"""Reading applications: one claim file (JSON with exact decimals, or YAML, able to say where a value stands), and
`open_claims`, the one reader of a command's input of applications (every format a batch reads, folders, `FILE:N`)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from engine.core.errors import ClaimError, EngineError, PathPart, Problem, format_path, json_kind
from engine.core.i18n import Msg, msg, tr
from engine.core.jsonpos import Positions, json_positions, locate_in
from engine.deciding.claims import loads_json, not_claim_json
from engine.deciding.decision import DECISION_FORMAT
from engine.language.model import CompiledPolicy
from engine.language.source import Source, parse_yaml, read_text
from engine.records.tabular import InputError, Reader, Record, lines_of_elements, lines_within, open_input


class Locator(Protocol):
    def where(self, path: tuple[PathPart, ...]) -> tuple[int | None, int | None]: ...


class JsonText:
    """A JSON document's text; positions are worked out only if an error needs them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._positions: Positions | None = None

    def where(self, path: tuple[PathPart, ...]) -> tuple[int | None, int | None]:
        if self._positions is None:
            self._positions = json_positions(self.text)
        return locate_in(self._positions, path)


#: a UTF-8 byte order mark, as text: what Windows' editors put before a UTF-8 file's first character
_BOM = "\ufeff"


#: the format a decision line names, of any version (`DECISION_FORMAT` is this one's)
_DECISION_FORMATS = (DECISION_FORMAT.partition("@")[0] + "@",)


def other_record(data: Any) -> Any:
    """Why `data` is not an application though it is a JSON object a batch writes (a decision line, an error
    record), as a message; None for anything else (an application, or something its own checks will name)."""
    if not isinstance(data, Mapping):
        return None
    form = data.get("format")
    if isinstance(form, str) and form.startswith(_DECISION_FORMATS):
        return msg("input.a_decision")
    if {"error", "problems", "where"} <= data.keys() and "items" not in data:
        return msg("input.an_error_record")
    return None


def read_document(path: str | Path) -> tuple[Any, Locator]:
    """Data of a JSON or YAML file, and what can put line numbers on its claim errors."""
    text = read_text(path)
    name = str(path)
    if name.endswith(".json"):
        text = text.removeprefix(_BOM)  # (Notepad and PowerShell 5 write UTF-8 with a BOM; YAML's reader skips it itself)
        try:
            return loads_json(text), JsonText(text)
        except ValueError as exc:
            raise not_claim_json(exc, name) from None
    source = parse_yaml(text, name)
    return source.data, source


def locate(error: EngineError, source: Locator | None, file: str) -> EngineError:
    """Add file, line and column to problems that only know their path."""
    located = []
    for p in error.problems:
        line, col = source.where(p.path) if source is not None else (p.line, p.column)
        place = source.file_of(p.path) if isinstance(source, RecordLocator) else None  # a record's own file, sheet, row
        located.append(dataclasses.replace(p, file=place or p.file or file, line=p.line or line, column=p.column or col))
    return type(error)(located, error.summary)


# --- every command's reader of applications ------------------------------------------------------------------

#: the files a folder of applications is read from (each by its own suffix), in name order
INPUT_SUFFIXES = (".json", ".jsonl", ".ndjson", ".yaml", ".yml", ".csv", ".xlsx")
_SELECTOR = re.compile(r"^(?P<path>.+):(?P<selector>[^:/\\]+)$")


def split_selector(path: str | Path) -> tuple[Path, str | None]:
    """`round.jsonl:3` -> (round.jsonl, "3"); a path that exists as written has no selector."""
    text = str(path)
    if Path(text).exists():
        return Path(text), None
    m = _SELECTOR.match(text)
    if m and Path(m.group("path")).exists():
        return Path(m.group("path")), m.group("selector")
    return Path(text), None


def open_claims(path: str | Path, policy: CompiledPolicy, encoding: str | None = None, *, once: bool = True) -> Reader:
    """The applications of an input, one `Record` each in input order: what every command reads (batch, report,
    explain, evaluate, diff --claims, batch-template --from).

    `path`: a JSON Lines file, a JSON list or one claim (.json), a YAML list or one claim, a CSV file, an Excel
    workbook (the batch template's sheets), or a folder of such files (read in name order); `FILE:N` picks one
    application (N: the line of a .jsonl file, else the application's number; or its claim id). `encoding`: a CSV
    file's, when it is not to be told from its bytes (`tabular.csv_encoding`). `policy`: its vocabulary names the
    columns of CSV and XLSX files.

    InputError when the input as a whole cannot be read, and, at the end of reading, when it held no application.
    `once`: a claim id given again is that record's error (not for `match`, whose profiles may share an id).
    """
    real, selector = split_selector(path)
    if not real.exists():
        raise InputError(msg("input.no_such_input", file=str(path)))
    reader: Reader = _FolderReader(real, policy, encoding) if real.is_dir() else _open_file(real, policy, encoding)
    if selector is not None:
        reader = _Selected(reader, real, selector)
    return _NonEmpty(reader, str(path), once)


def _open_file(path: Path, policy: CompiledPolicy, encoding: str | None) -> Reader:
    suffix = path.suffix.lower()
    if suffix == ".json" and _starts_with_object(path):
        return _OneClaim(path)
    if suffix in (".yaml", ".yml"):
        return _YamlReader(path)
    return open_input(path, policy, encoding=encoding)


def _starts_with_object(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{")


class _OneClaim(Reader):
    """A file holding one claim (a JSON object, or a YAML mapping), as `evaluate` takes it."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.total = 1

    def __iter__(self) -> Iterator[Record]:
        where: dict[str, Any] = {"file": self.path, "line": 1}
        try:
            data, source = read_document(self.path)
        except EngineError as err:
            yield Record(1, where, None, [_problem_dict(p, where) for p in err.problems])
            return
        text = source.text if isinstance(source, JsonText) else None
        lines = lines_within(source.positions) if isinstance(source, Source) else None
        yield (
            Record(1, where, data, text=text, lines=lines)
            if isinstance(data, dict)
            else Record(1, where, None, [{"field": None, "message": msg("input.not_object", kind=json_kind(data)), **where}])
        )


class _YamlReader(Reader):
    """A YAML file: a list of claims, or one claim (a mapping)."""

    def __init__(self, path: Path) -> None:
        from engine.language.source import load_yaml_file

        self.path = str(path)
        try:
            self.source: Any = load_yaml_file(path)
        except EngineError as err:
            raise InputError(msg("input.unreadable", file=self.path, problems=[str(p) for p in err.problems])) from None
        data = self.source.data
        if data is None:
            data = []
        if not isinstance(data, list | dict):
            raise InputError(msg("input.yaml_list", file=self.path))
        self.data: Any = data
        self.total = 1 if isinstance(data, dict) else len(data)
        self.done = 0

    def fraction(self) -> float | None:
        return self.done / max(self.total or 1, 1)

    def __iter__(self) -> Iterator[Record]:
        entries = [self.data] if isinstance(self.data, dict) else list(self.data)
        positions = self.source.positions
        by_element = {0: lines_within(positions)} if isinstance(self.data, dict) else lines_of_elements(positions)
        for i, data in enumerate(entries):
            self.done = i + 1
            line, _ = self.source.where(() if isinstance(self.data, dict) else (i,))
            where = {"file": self.path, "line": line, **({} if isinstance(self.data, dict) else {"element": i})}
            if isinstance(data, dict):
                yield Record(i + 1, where, data, lines=by_element.get(i, {}))
            else:
                yield Record(i + 1, where, None, [{"field": None, "message": msg("input.not_mapping"), **where}])


def _problem_dict(p: Problem, where: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {**where, "field": format_path(p.path) if p.path else None, "message": p.message}
    if p.line is not None:
        out["line"] = p.line
    if p.expected:
        out["expected"] = p.expected
    return out


def _lock_or_metadata(name: str) -> bool:
    """A file an office program or a Mac writes beside a workbook, never an input: Excel's and WPS's owner file of an
    open workbook (`~$name.xlsx`, a few hundred bytes naming who has it open), LibreOffice's lock (`.~lock.name#`) and
    macOS's AppleDouble metadata (`._name.xlsx`)."""
    return name.startswith(("~$", "._", ".~lock."))


#: files an operating system leaves in a folder, never an officer's: not said among what a folder read leaves out
_SYSTEM_FILES = frozenset({"Thumbs.db", "desktop.ini", "Desktop.ini"})


class _FolderReader(Reader):
    """Every input file of a folder (INPUT_SUFFIXES), in name order, numbered as one input; not the lock files of
    workbooks open in Excel or WPS while the round is run (`_lock_or_metadata`)."""

    def __init__(self, folder: Path, policy: CompiledPolicy, encoding: str | None) -> None:
        self.folder = folder
        entries = [p for p in folder.iterdir() if not _lock_or_metadata(p.name) and not p.name.startswith(".")]
        self.files = sorted(p for p in entries if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
        if not self.files:
            raise InputError(msg("input.empty_folder", file=str(folder)))
        self.policy = policy
        self.encoding = encoding
        self.done = 0
        self.current: Reader | None = None
        self.noticed: list[Msg] = []  # of the files read so far; first, what the folder holds that is not read
        # (an old .xls, a subfolder, a file of another kind: said, as their applications would be missed unseen)
        skipped = sorted(p.name + ("/" if p.is_dir() else "") for p in entries if p not in self.files and p.name not in _SYSTEM_FILES)
        if skipped:
            shown = skipped[:5] + ([f"… (+{len(skipped) - 5})"] if len(skipped) > 5 else [])
            self.noticed.append(msg("input.folder_skipped", folder=str(folder), n=len(skipped), names=shown))

    def fraction(self) -> float | None:
        return self.done / len(self.files)

    def notices(self) -> list[Msg]:
        return list(self.noticed)

    def __iter__(self) -> Iterator[Record]:
        n = 0
        for f in self.files:
            current = self.current = _open_file(f, self.policy, self.encoding)
            self.noticed += current.notices()
            try:
                for rec in current:
                    n += 1
                    rec.number = n
                    yield rec
            finally:  # (also when `close()` came first, from outside, while this generator was suspended)
                current.close()
                self.current = None
            self.done += 1

    def close(self) -> None:
        if self.current is not None:
            self.current.close()


class _Selected(Reader):
    """The one application `selector` names: a line of a JSON Lines file, else an application's number; or a claim id."""

    def __init__(self, inner: Reader, path: Path, selector: str) -> None:
        self.inner = inner
        self.path = path
        self.selector = selector
        self.total = 1

    def __iter__(self) -> Iterator[Record]:
        by_line = self.path.suffix.lower() in (".jsonl", ".ndjson")
        seen = 0
        for rec in self.inner:
            seen += 1
            if self.selector.isdigit():
                number = rec.where.get("line") if by_line else rec.number
                if number == int(self.selector):
                    yield rec
                    return
            elif rec.claim_id == self.selector:
                yield rec
                return
        raise InputError(msg("input.no_selected", file=str(self.path), selector=self.selector, n=seen))

    def notices(self) -> list[Msg]:  # (of the whole file: its hidden rows may be the selected application's)
        return self.inner.notices()

    def close(self) -> None:
        self.inner.close()


def place_of(where: Mapping[str, Any], file: str | None = None) -> Msg | str:
    """Where a record or a problem is: `file:line`, `file[element]` (an element of a JSON or YAML list), the file
    alone, or a workbook's sheet and row or a CSV file's row, said in the reader's language (`round.xlsx 工作表 事项
    第 15 行`); `file` names the file another way (its base name)."""
    file = str(where.get("file")) if file is None else file
    if "sheet" in where:
        return msg("sheet.place.sheet_row", file=file, sheet=str(where["sheet"]), row=str(where.get("row")))
    if "row" in where:
        return msg("sheet.place.row", file=file, row=str(where["row"]))
    if where.get("line") is not None:
        return f"{file}:{where['line']}"
    if where.get("element") is not None:
        return f"{file}[{where['element']}]"
    return file


def where_text(where: Mapping[str, Any], lang: str | None = None) -> str:
    """`place_of(where)` in a line, in `lang` (default: the reader's language)."""
    return tr(place_of(where), lang)


class _NonEmpty(Reader):
    """Its reader's records; InputError at the end when there was none (an empty input is an error, never a round
    of nothing). A claim id given again (in another file of a folder, on another line) is that record's error: an
    application is decided once in a round, and a repeat decided again doubled the round's totals."""

    def __init__(self, inner: Reader, label: str, once: bool = True) -> None:
        self.inner = inner
        self.label = label
        self.once = once
        self.total = inner.total

    def fraction(self) -> float | None:
        return self.inner.fraction()

    def notices(self) -> list[Msg]:
        return self.inner.notices()

    def __iter__(self) -> Iterator[Record]:
        n = 0
        seen: dict[str, dict[str, Any]] = {}  # claim id -> where it was first given
        for rec in self.inner:
            n += 1
            cid = rec.claim_id if rec.data is not None and self.once else None
            if cid is not None:
                first = seen.setdefault(cid, rec.where)
                if first is not rec.where:
                    # (`replace`: the command line's words; a run says its caller's, `batch.decide_one`)
                    problem = msg("input.claim_id_again", claim_id=repr(cid), first=place_of(first), replace="batch --commit --replace")
                    rec.problems.append({"field": "claim_id", "message": problem, **rec.where})
                    rec.data = rec.text = None
                    rec.key = cid
            yield rec
        if n == 0:
            raise InputError(msg("input.empty", file=self.label))

    def close(self) -> None:
        self.inner.close()


class RecordLocator:
    """Where a claim path of a record read by `open_claims` stands: the file and its line, or the file, sheet and
    row of a spreadsheet (for `locate`)."""

    def __init__(self, record: Record) -> None:
        self.record = record

    def where(self, path: tuple[PathPart, ...]) -> tuple[int | None, int | None]:
        at, _ = self.record.locate(path)
        line = at.get("line")
        return (line if isinstance(line, int) and "row" not in at else None), None

    def file_of(self, path: tuple[PathPart, ...]) -> str | None:
        """The file, and for a row of a CSV file or a workbook its sheet and row: `round.xlsx sheet 事项 row 15`."""
        at, _ = self.record.locate(path)
        if "sheet" in at or "row" in at:
            return place_of(at, str(at.get("file", "")))
        return str(at.get("file", "")) or None


def record_label(rec: Record) -> Msg | str:
    """Where a record came from, for a person: `round.jsonl:3`, `round.xlsx sheet 事项 row 5`, `claim.json` (a row
    said in the reader's language: a `Msg`)."""
    where = rec.where
    name = Path(str(where.get("file", ""))).name
    if "sheet" in where or "row" in where:
        return place_of(where, name)
    if "element" in where or str(where.get("file", "")).lower().endswith((".jsonl", ".ndjson")):
        return place_of(where, name)  # its line, else its element (a list whose positions were not read), else the file
    return name


def record_problems(rec: Record) -> list[Problem]:
    """A record's reading problems as `Problem`s (file, line or row, field)."""
    out = []
    for p in rec.problems:
        line = p.get("line", p.get("row"))
        file = str(p.get("file", ""))
        if "sheet" in p:
            file = msg("sheet.place.sheet", file=file, sheet=str(p["sheet"]))
        out.append(
            Problem(p.get("message") or "", (p["field"],) if p.get("field") else (), file, line if isinstance(line, int) else None,
                    p.get("column"), expected=p.get("expected"), code="input")
        )  # fmt: skip
    return out


def read_one(path: str | Path, policy: CompiledPolicy, encoding: str | None = None) -> tuple[Any, Locator, str]:
    """One application (or one recorded decision) for `evaluate` and `explain`: its data, what locates its errors,
    and the file to name in them. Any input `open_claims` reads; one holding several needs `FILE:N`.

    InputError (exit 1) when the input cannot be read, holds none, or holds several; ClaimError when the one
    application read has reading problems (a cell that is not a date, say)."""
    real, selector = split_selector(path)
    if selector is None and real.is_file() and real.suffix.lower() in (".json", ".yaml", ".yml"):
        if not real.read_bytes().strip():
            raise InputError(msg("input.empty", file=str(path)))
        data, source = read_document(real)
        if not isinstance(data, list):
            return data, source, str(path)
        if len(data) != 1:
            raise InputError(msg("input.empty", file=str(path)) if not data else _many(path, len(data)))
        return data[0], source, str(path)
    reader = open_claims(path, policy, encoding)
    records: list[Record] = []
    try:
        read = iter(reader)
        for rec in read:
            records.append(rec)
            if len(records) > 1:  # (the rest counted on the same pass: a second `iter(reader)` starts again)
                raise _many(path, len(records) + sum(1 for _ in read))
    finally:
        reader.close()
    (rec,) = records
    if rec.data is None:
        raise ClaimError(record_problems(rec), msg("core.invalid_input"))
    return rec.data, RecordLocator(rec), str(rec.where.get("file", real))


def _many(path: str | Path, n: int) -> InputError:
    return InputError(msg("input.many", file=str(path), n=n, example=f"{path}:1"))
