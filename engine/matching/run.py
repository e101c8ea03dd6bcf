"""Matching many profiles: a generator pipeline in flat memory, on one process or several.

Profiles are read one at a time (any input `batch` reads, or a single JSON/YAML profile), matched against
every policy version in force (`Matching.match`), and each result is written as soon as it is made:
its line of `matches.jsonl`, its notices (by whoever matched it), its row of the workbook, its counts in
the `Summary`. Nothing holds all results. With `workers > 1` profiles go to a pool of processes in chunks,
at most two chunks per worker in flight, and come back in input order (profiles are independent: a match
commits nothing, so no order between them matters but the output's).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import multiprocessing
import os
import shutil
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from engine.core.errors import ClaimError, EngineError, Problem, json_kind
from engine.core.i18n import Msg, msg, tr
from engine.core.quantities import whole_written
from engine.deciding.claims import label, parse_claim
from engine.deciding.versions import PolicySet
from engine.language.expressions import suggest
from engine.language.model import CompiledPolicy
from engine.matching.matcher import ignored, likely_year, match_claim, parse_profile, unknown_types, year_ruled_out
from engine.matching.outputs import ProfileResult, Summary, Workbook, measures_of, notice_files, result_dict
from engine.records.batch import Progress, claim_problems, column_headings, said, said_problem
from engine.records.inputs import open_claims, other_record
from engine.records.ledger import Ledger
from engine.records.tabular import InputError, OutputError, Record, field_heading, output_dir
from engine.records.workers import end_with_parent

CHUNK = 64


def _year_given(data: Mapping[str, Any]) -> bool:
    """Whether a profile gives its funding year (a whole number: `true` is no year)."""
    year = data.get("funding_year")
    return isinstance(year, int) and not isinstance(year, bool)


def claim_fact_problems(sets: Sequence[PolicySet], given: Mapping[str, Any]) -> list[Problem]:
    """What is wrong with claim-level facts given for every profile (`--claim-fact NAME=VALUE`), each at its name:
    a name no policy matched has as a claim fact (with the closest one), or a value a version refuses (said as that
    version's parse says it). A name misspelt was matched as nothing, each profile listing it as ignored; a wrong
    value was blamed on each profile's file in turn."""
    versions = [v for s in sets for v in s.versions]
    names = sorted({n for v in versions for n in v.claim_facts})
    problems: list[Problem] = []
    for name, value in given.items():
        if name not in names:
            close = suggest(name, names)
            said = msg("match.claim_fact.unknown_close", name=name, close=close) if close else msg("match.claim_fact.unknown", name=name)
            problems.append(Problem(said, path=(name,), expected=msg("match.claim_fact.names", names=names), code="match.claim_fact"))
            continue
        for v in versions:
            if name not in v.claim_facts:
                continue
            try:
                parse_claim(v, {name: value, "applicant": {}, "items": []}, partial=True)
            except EngineError as err:
                own = [p for p in err.problems if tuple(p.path) == (name,)]
                whole = whole_written(value) if isinstance(value, str) and v.claim_facts[name].type == "integer" else None
                if whole is not None:  # 2021年, ２０２１: the number to write (an option's value has no quotes to take off)
                    problems.append(
                        Problem(msg("input.not_whole_fix", value=repr(value), fix=whole), path=(name,), code="match.claim_fact")
                    )
                    break
                if own:
                    problems.append(dataclasses.replace(own[0], code="match.claim_fact"))
                    break
    return problems


@dataclass
class Matching:
    """The policies (one set of versions per policy id) and the ledger a match reads its history from."""

    sets: Sequence[PolicySet]
    ledger: Ledger | None = None
    #: claim-level facts for every profile that does not give them (the round's: `--claim-fact submission_date=...`)
    claim_facts: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        """A program's slip said as what to give: a PolicySet alone was "'PolicySet' object is not iterable", a
        version "'CompiledPolicy' object has no attribute 'covering'" at the first match."""
        if isinstance(self.sets, PolicySet):
            raise TypeError(msg("match.set_alone"))
        if not isinstance(self.sets, Sequence) or isinstance(self.sets, str):  # (None: "'NoneType' object is not iterable")
            raise TypeError(msg("match.not_sets", kind=type(self.sets).__name__))
        for given in self.sets:
            if not isinstance(given, PolicySet):
                raise TypeError(msg("match.not_sets", kind=type(given).__name__))
        if self.ledger is not None and not isinstance(self.ledger, Ledger):  # (its URL: "'str' object has no attribute
            raise TypeError(msg("match.not_ledger", kind=type(self.ledger).__name__))  # 'with_facts_on_record'")

    @functools.cached_property
    def policies(self) -> dict[str, tuple[CompiledPolicy, ...]]:
        """Each policy id -> its versions (a notice names a policy of an error by its title: `policy_named`)."""
        return {s.id: s.versions for s in self.sets}

    @functools.cached_property
    def item_types(self) -> frozenset[str]:
        """Every item type some policy matched has: an item of another policy's type is left out of a policy's
        match, one of a type none has is a slip the match refuses (`project`)."""
        return frozenset(t for s in self.sets for v in s.versions for t in v.rules_by_type)

    def versions_for(self, data: Mapping[str, Any]) -> tuple[list[tuple[CompiledPolicy, int]], list[dict[str, Any]]]:
        """(version, funding year) pairs to match: the version in force for the profile's funding year, or, when
        it gives none, every version at the latest funding year its facts allow (`likely_year`); and an error for
        a policy with none in force (for the year given, or for any year the facts allow)."""
        year = data.get("funding_year")
        pairs: list[tuple[CompiledPolicy, int]] = []
        errors: list[dict[str, Any]] = []
        for s in self.sets:
            if _year_given(data) and isinstance(year, int):
                found = s.covering(year)
                pairs += [(p, year) for p in found]
                if not found:
                    why = msg("match.not_in_force", policy=label(s.newest.title), year=year)  # (its title, not its id)
                    errors.append({"policy": s.id, "message": str(why), "said": said(why)})
            else:
                found_at = [(p, y) for p in s.versions if (y := likely_year(p, data, self.item_types)) is not None]
                pairs += found_at
                if not found_at:
                    errors.append(self._no_year(s, data))
        return pairs, errors

    def _no_year(self, versions: PolicySet, data: Mapping[str, Any]) -> dict[str, Any]:
        """The error of a profile with no funding year whose facts rule out every year of every version (`likely_year`
        None): which check fails (at the latest version's last year), and to give the year."""
        last = versions.versions[-1]
        check = year_ruled_out(last, data, last.funding_years[1], self.item_types)
        assert check is not None  # (likely_year said so at that year)
        years = [f"{v.funding_years[0]}-{v.funding_years[1]}" for v in versions.versions]
        why = msg("match.no_year_in_force", policy=label(last.title), years=years, says=check.says, cites=check.cites)
        return {"policy": versions.id, "message": str(why), "said": said(why)}

    def match(
        self,
        data: Mapping[str, Any],
        number: int,
        locate: Callable[[EngineError], EngineError] | None = None,
        place: Callable[[EngineError], list[dict[str, Any]]] | None = None,
    ) -> ProfileResult:
        """`locate`: places a profile's problems at their line and column in its text (a web request's body);
        `place`: says them as an input's record places them (file and line, or sheet and row, and the field)."""
        if not isinstance(data, Mapping):  # (an embedding program's list or text: it was an AttributeError)
            problem = Problem(msg("input.not_object", kind=json_kind(data)), code="claim.type")
            raise ClaimError([problem], msg("claim.invalid"))
        if self.claim_facts:  # (a profile's own value wins; its null -- not known -- leaves the round's)
            data = {**self.claim_facts, **{k: v for k, v in data.items() if v is not None or k not in self.claim_facts}}
        applicant = data.get("applicant") if isinstance(data.get("applicant"), Mapping) else {}  # (a read-only view: named)
        assert isinstance(applicant, Mapping)
        profile_id = data.get("claim_id") if isinstance(data.get("claim_id"), str) else str(applicant.get("id", number))
        result = ProfileResult(str(profile_id), str(applicant.get("id", "")), str(applicant.get("name", applicant.get("id", ""))))
        pairs, result.errors = self.versions_for(data)
        result.policies = self.policies
        types_left_out = unknown_types(data, self.item_types)  # (of the profile: no policy matched has them)
        for policy, year in pairs:
            try:
                joined = self.ledger.with_facts_on_record(policy, data) if self.ledger is not None else data
                claim = parse_profile(policy, dict(joined), year, self.item_types)
                history = self.ledger.history_for(policy, claim) if self.ledger is not None else []
                found = match_claim(policy, claim, history)
                result.matches.append(
                    dataclasses.replace(found, ignored=ignored(policy, data), ignored_types=types_left_out, year_given=_year_given(data))
                )
            except EngineError as err:
                if place is not None:
                    problems = [said_problem(p) for p in place(err)]
                else:
                    located = locate(err) if locate is not None else err
                    problems = [said_problem({**p.to_dict(), "message": p.message, "expected": p.expected}) for p in located.problems]
                result.errors.append({"policy": policy.id, "version": policy.version, "problems": _with_fields(problems, policy)})
        return result


def _with_fields(problems: list[dict[str, Any]], policy: CompiledPolicy) -> list[dict[str, Any]]:
    """Each problem's field also said in words, in every language (`said`'s `field`: the column's heading, as batch
    names it, `第 1 个事项的事项发生日期（item.date）`): a notice is read by the applicant, who knows no `items[0].date`."""
    headings = column_headings(policy)
    for p in problems:
        field = p.get("field") or p.get("path")
        if isinstance(field, str) and field:
            for lang, words in p["said"].items():
                words["field"] = field_heading(field, headings, lang)
    return problems


def open_profiles(
    path: str | Path, policy: CompiledPolicy
) -> tuple[Iterator[Record], Callable[[], float | None], Callable[[], None], Callable[[], list[Msg]]]:
    """The profiles of an input -- any input `batch` reads (`open_claims`: a single profile as a JSON or YAML
    object, a list, JSON Lines, CSV, XLSX, a folder of them, `FILE:N`) -- with how far reading has got (0..1, None
    when unknown), how to close it, and what the reader noticed (a workbook's hidden rows, matched as the others).
    InputError when it cannot be read, or held no profile."""
    try:
        reader = open_claims(path, policy, once=False)  # (profiles of one applicant may share an id: each is matched)
    except InputError as err:
        raise _of_profiles(err) from None
    return _read_profiles(reader), reader.fraction, reader.close, lambda: _as_profiles(reader.notices())


#: the reader's errors that say "no application" -> the same said of profiles
_NO_PROFILES = {"input.empty": "match.empty", "input.empty_folder": "match.empty_folder"}


def _read_profiles(reader: Iterable[Record]) -> Iterator[Record]:
    try:
        yield from reader
    except InputError as err:
        raise _of_profiles(err) from None


def _of_profiles(err: InputError) -> InputError:
    """`err` in a match's words: an input with no profile (a template with its headings alone) was said to hold no
    application, nothing decided."""
    said = err.args[0] if err.args else None
    if isinstance(said, Msg) and said.key in _NO_PROFILES:
        return InputError(msg(_NO_PROFILES[said.key], **said.params))
    return err


#: the reader's notices that say what a sheet's missing columns do to a decision (材料不全; read as the default)
_MISSING_COLUMNS = ("sheet.missing_columns", "sheet.missing_columns_blank")


def _as_profiles(notices: list[Msg]) -> list[Msg]:
    """A reader's notices as they hold for a match: a column a sheet lacks is a fact not known, never the default,
    and documents are taken as to be provided -- one notice for a sheet's missing columns (batch's two said of
    profiles what holds of applications: 判为材料不全, 按默认值处理)."""
    out: list[Msg | None] = []
    missing: dict[str, tuple[int, Any, list[Any]]] = {}  # where -> (its place in out, where, its columns)
    for notice in notices:
        if getattr(notice, "key", None) not in _MISSING_COLUMNS:
            out.append(notice)
            continue
        where = notice.params["where"]
        if str(where) not in missing:
            missing[str(where)] = (len(out), where, [])
            out.append(None)
        missing[str(where)][2].extend(notice.params["columns"])
    for at, where, columns in missing.values():
        out[at] = msg("match.missing_columns", where=where, n=len(columns), columns=columns)
    return [m for m in out if m is not None]


# --- one process's work --------------------------------------------------------------------------------

_STATE: dict[str, Any] = {}


def _setup(
    sets: Sequence[PolicySet], ledger_url: str | None, notices: Path | None, claim_facts: Mapping[str, Any], parent: int | None = None
) -> None:
    """The matching state of this process; `parent`: the run that forked it (a pool's process ends with it)."""
    if parent is not None:
        end_with_parent(parent)
    _STATE["matching"] = Matching(sets, Ledger(ledger_url, create=False) if ledger_url else None, claim_facts)
    _STATE["notices"] = notices


def _placing(rec: Record) -> Callable[[EngineError], list[dict[str, Any]]]:
    """A profile's problems placed as batch places a claim's (`claim_problems`): a spreadsheet's sheet and row (an
    item's on the items sheet) and the field as the input spells it, a JSON Lines line; path and item kept."""

    def place(err: EngineError) -> list[dict[str, Any]]:
        out = []
        for p, placed in zip(err.problems, claim_problems(rec, err), strict=True):
            kept = {k: v for k, v in p.to_dict().items() if k not in ("file", "line", "column", "message", "expected")}
            out.append({**kept, **placed})
        return out

    return place


def _one(
    number: int,
    data: Any,
    where: dict[str, Any],
    problems: list[Any],
    item_where: list[dict[str, Any]],
    key: str | None,
    text: str | None = None,
    lines: Mapping[tuple[Any, ...], int] | None = None,
) -> dict[str, Any]:
    other = other_record(data)  # (a decision line or an error record: not a profile)
    if other is not None:
        data, problems = None, [{"field": None, "message": other, **where}]
    if not isinstance(data, dict):
        # a profile that could not be read: named by its claim id as read (a sheet's row), else its number; its
        # fields by the newest version's columns, as a matched one's
        newest = _STATE["matching"].sets[0].newest
        errors = [{"input": where, "problems": _with_fields([said_problem(p) for p in problems], newest)}]
        return {"profile": key or str(number), "applicant_id": "", "name": "", "matches": [], "errors": errors}
    placed = Record(number, where, data, problems, item_where, text=text, lines=lines)
    result: ProfileResult = _STATE["matching"].match(data, number, place=_placing(placed))
    notices: Path | None = _STATE["notices"]
    if notices is not None and result.matches:
        _write_notices(notices, result, number)
    record = result_dict(result)
    record["input"] = where
    return record


def _write_notices(folder: Path, result: ProfileResult, number: int) -> None:
    """The notices under the profile's id; a second profile with the same id (or the same id once made safe for
    a file name) gets its input number added: the first file is created exclusively, so no notice overwrites
    another, whichever worker writes first."""
    files = notice_files(result)
    first = next(iter(files))
    stem = first.split(".", 1)[0]
    try:
        with open(folder / first, "x", encoding="utf-8") as f:
            f.write(files[first])
        name = stem
    except FileExistsError:
        name = f"{stem}-{number}"
        (folder / first.replace(stem, name, 1)).write_text(files[first], encoding="utf-8")
    for file, text in files.items():
        if file != first or name != stem:
            (folder / file.replace(stem, name, 1)).write_text(text, encoding="utf-8")


#: a Record's fields, sent to a worker (its text and lines: where a problem of a pretty-printed profile stands)
_Read = tuple[int, Any, dict[str, Any], list[Any], list[dict[str, Any]], str | None, str | None, Mapping[tuple[Any, ...], int] | None]


def _chunk(items: list[_Read]) -> list[str]:
    return [json.dumps(_one(*item), ensure_ascii=False) for item in items]


def _chunks(source: Iterator[Record]) -> Iterator[list[_Read]]:
    chunk: list[_Read] = []
    for rec in source:
        chunk.append((rec.number, rec.data, rec.where, rec.problems, rec.item_where, rec.claim_id, rec.text, rec.lines))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _lines(
    source: Iterator[Record],
    sets: Sequence[PolicySet],
    ledger_url: str | None,
    notices: Path | None,
    workers: int,
    claim_facts: Mapping[str, Any],
) -> Iterator[str]:
    """Each profile's JSON line, in input order."""
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        _setup(sets, ledger_url, notices, claim_facts)
        for chunk in _chunks(source):
            yield from _chunk(chunk)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_setup, initargs=(sets, ledger_url, notices, claim_facts, os.getpid())
    ) as pool:
        pending: deque[Future[list[str]]] = deque()
        for chunk in _chunks(source):
            pending.append(pool.submit(_chunk, chunk))
            while len(pending) >= 2 * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def _noting(source: Iterator[Record], fraction: Callable[[], float | None], read_at: deque[float | None]) -> Iterator[Record]:
    """The profiles of `source`, noting in `read_at` how far the input had been read at each: the bar's place when its
    line is written. The bar said how far reading had got, which runs ahead of matching by the chunks in flight (two
    per worker, 64 profiles each): at 100 % with 215 of 600 profiles still to match, at 42.7 % when one was."""
    for rec in source:
        read_at.append(fraction())
        yield rec


def run_match(
    sets: Sequence[PolicySet],
    input_path: str | Path,
    out_dir: str | Path,
    *,
    ledger_url: str | None = None,
    workers: int = 1,
    notices: bool = True,
    workbook: bool = True,
    lang: str = "zh",
    quiet: bool = False,
    stderr: IO[str] | None = None,
    claim_facts: Mapping[str, Any] | None = None,
) -> tuple[Summary, float]:
    """Match every profile of `input_path`; write matches.jsonl, notices/ and summary.xlsx into `out_dir`.
    Returns the summary and the seconds taken."""
    stderr = stderr if stderr is not None else sys.stderr
    started = time.monotonic()
    out = output_dir(out_dir, ("matches.jsonl", "summary.xlsx"))
    newest = [s.newest for s in sets]
    # the input opened, and its first profile read, first: one that cannot be read, or holds no profile (InputError),
    # stops the run before an earlier run's outputs are touched or a workbook is begun
    source, fraction, close, noticed = open_profiles(input_path, newest[0])
    try:
        first = next(source, None)
    except BaseException:
        close()
        raise
    if first is not None:
        source = itertools.chain((first,), source)
    notice_dir = out / "notices" if notices else None
    if notice_dir is not None and notice_dir.exists() and not notice_dir.is_dir():  # (makedirs: a FileExistsError traceback)
        close()
        raise OutputError(msg("sheet.out_not_folder", path=str(notice_dir)))
    if notice_dir is not None:
        shutil.rmtree(notice_dir, ignore_errors=True)  # an earlier run's notices must not pass for this run's
        os.makedirs(notice_dir, exist_ok=True)
    book = Workbook(out / "summary.xlsx", measures_of(v for s in sets for v in s.versions), lang) if workbook else None
    summary = Summary(policies={s.id: s.versions for s in sets})
    progress = Progress(stderr, not quiet, unit="batch.progress.profiles")
    read_at: deque[float | None] = deque()  # how far the input had been read at each profile not yet written
    try:
        with open(out / "matches.jsonl", "w", encoding="utf-8", errors="backslashreplace") as jsonl:
            for line in _lines(_noting(source, fraction, read_at), sets, ledger_url, notice_dir, workers, claim_facts or {}):
                jsonl.write(line + "\n")
                record = json.loads(line)
                summary.add(record)
                if book is not None:
                    book.add(record)
                progress.update(summary.profiles, read_at.popleft() if read_at else fraction())
    except BaseException:  # (an input broken further on): the workbook begun is ended, not left to the collector
        if book is not None:
            book.discard()
        close()
        raise
    said = noticed()  # (read to the end: a folder's every workbook)
    close()
    progress.finish()
    if book is not None:
        book.close(summary)
    for warning in said:  # as `batch` says them: after the run, on stderr
        print(tr(msg("batch.warning", warning=warning)), file=stderr)
    return summary, time.monotonic() - started
