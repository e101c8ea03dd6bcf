"""Batch runs: decide a whole round of applications, stream the results, optionally commit them to the ledger.

    summary = run_batch(policy, "round.xlsx", "out/", ledger_url="sqlite:///ledger.sqlite", commit=True)

Every application in the input yields exactly one decision (decisions.jsonl) or
one error record naming its line or sheet and row and the field
(errors.jsonl). Decisions are written as they are made; only aggregates are
kept in memory. Without `commit` the round is decided against the ledger's
history plus the earlier applications of the same input (a scratch ledger on
disk), and nothing is recorded.

Several versions of a policy (an `engine.deciding.versions.PolicySet`): each
application is decided by the version in force for its funding year; one no
version covers gets an error record naming the windows that exist.

Rounds. A round is the set of grants sharing a round label: `round_label` if
given, else one per policy id and funding year (`<policy id>/<year>`, the
yearly application round). A round's budget, and how its scaled grants are
rounded, come from the version in force for the round's funding year; a
labelled round spanning several funding years takes the version of its latest
year (the scaling record names the version used).

A round with a budget: when the round's approved total exceeds it, every
grant of the round is scaled by budget / total after all items are decided
(rounded to the policy's quantum by its mode; the remainder handed out by
largest remainder, or left unallocated: see `Ledger.scale_round`), recorded in
the ledger, and shown in each decision (`scaling`).

Outputs in the output directory: decisions.jsonl, errors.jsonl,
summary_applications.csv, summary_items.csv, summary.xlsx (applications,
items, budget and errors sheets), summary.json, and the reviewers' HTML
reports when the renderer is installed.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import gc
import hashlib
import io
import itertools
import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import IO, TYPE_CHECKING, Any

import msgspec

from engine.core.errors import ClaimError, EngineError, Problem, refuse_count, refuse_flags
from engine.core.i18n import FALLBACK, CatalogueError, Msg, language, languages, lookup, msg, tr
from engine.core.quantities import format_money, round_units, said_money
from engine.deciding.claims import Claim, parse_claim, parse_claim_json, refuse_own_history
from engine.deciding.decision import in_engine_context
from engine.deciding.selection import Verdict, claim_verdicts
from engine.deciding.versions import PolicySet
from engine.language.model import CompiledPolicy, Text
from engine.records.inputs import open_claims, other_record, split_selector, where_text
from engine.records.ledger import (
    LEDGER_ENV,
    AlreadyCommitted,
    Audit,
    CommitResult,
    DecidedCommit,
    Ledger,
    LedgerBusyError,
    LedgerError,
    check_words,
    default_url,
    masked_url,
    rank_round,
    refuse_url_not_text,
    sqlite_path,
)
from engine.records.tabular import (
    Columns,
    CsvOut,
    CsvRows,
    InputError,
    OutputError,
    Record,
    XlsxOut,
    field_heading,
    output_dir,
    storable,
)

if TYPE_CHECKING:  # (the report is drawn by engine.explaining, imported when a report is drawn)
    from engine.explaining.render import ReportError

ZERO = Decimal(0)
STATUSES = ("granted", "reduced", "refused", "incomplete", "referred", "pending_review")


# --- progress ----------------------------------------------------------------------


class Progress:
    """A one-line progress bar with rate and ETA, on a terminal only."""

    def __init__(self, stream: IO[str], enabled: bool, unit: str = "batch.progress.applications") -> None:
        self.stream = stream
        self.enabled = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.unit = unit
        #: what the rate counts: 份 of applications, 家 of profiles ("12 家 每秒 30 份" mixed them)
        self.per = msg(unit.replace("batch.progress.", "batch.progress.per.", 1))
        self.start = time.monotonic()
        self.last = 0.0
        self.ended = False  # `finish`ed: the steps after it are said on the same stream
        self.full = False  # 100 % drawn: the bar's last state stays on screen while what follows it runs

    def update(self, done: int, fraction: float | None, force: bool = False) -> None:
        if not self.enabled or self.ended:
            return
        now = time.monotonic()
        if fraction is not None and fraction >= 1.0 and not self.full:
            force = self.full = True  # (drawn whenever it comes: a report's page is written after its last entry)
        if not force and now - self.last < 0.1:
            return
        self.last = now
        elapsed = max(now - self.start, 1e-9)
        rate = done / elapsed
        width = 30
        if fraction is not None and fraction > 0:
            fill = int(width * min(fraction, 1.0))
            eta = elapsed * (1 - fraction) / fraction
            bar = "#" * fill + "-" * (width - fill)
            said = msg(
                "batch.progress.bar",
                bar=bar,
                percent=f"{fraction * 100:5.1f}",
                done=msg(self.unit, n=done),
                rate=f"{rate:,.0f}",
                per=self.per,
                eta=_clock(eta),
            )
        else:
            said = msg("batch.progress.count", done=msg(self.unit, n=done), rate=f"{rate:,.0f}", per=self.per, elapsed=_clock(elapsed))
        text = f"\r{tr(said)} "
        self.stream.write(text)
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and not self.ended:
            self.stream.write("\r" + " " * 79 + "\r")
            self.stream.flush()
        self.ended = True


#: seconds a step runs before it draws a progress bar of its own (`Steps.progress`): a quick step is said in one
#: line, without a bar flashing by
LONG_STEP = 1.0


class Steps:
    """The steps said beside deciding's progress bar, on `stream` one line each (`writing summary.xlsx ... 1.2 s`):
    the output steps after it, and the foresight of a round budget before it. The step as it starts, its time when
    the next one starts or `done()` is called. Like the progress bar: on a terminal only, and not when `enabled` is
    false (--quiet). A step that counts what it has done (`progress`) and runs longer than `LONG_STEP` ends its line
    and draws a bar under it, as deciding's; its time is then said on the bar's line, in place of the bar.

    `told` (a caller that watches the run some other way: a service's round) is told each step as it starts (its
    words in the run's language, 0, None) and, for a step that counts, how far it is (words, done, total), terminal
    or not, quiet or not."""

    def __init__(self, stream: IO[str], enabled: bool, told: Callable[[str, int, int | None], None] | None = None) -> None:
        self.stream = stream
        self.enabled = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.started: float | None = None
        self.bar: Progress | None = None
        self.told = told
        self.words = ""

    def start(self, text: str) -> None:
        self.done()
        if self.told is not None:
            self.words = str(tr(text))
            self.told(self.words, 0, None)
        if self.enabled:
            self.stream.write(tr(text) + " ...")
            self.stream.flush()
            self.started = time.monotonic()

    def progress(self, done: int, total: int, unit: str, fraction: float | None = None) -> None:
        """How far the step is: `done` of `total` (counted in catalogue message `unit`), drawn once it is long; or
        `done` so far and the `fraction` of the work that is (`total` 0: not known)."""
        if self.told is not None:
            self.told(self.words, done, total or None)
        if self.started is None:
            return
        if self.bar is None:
            if time.monotonic() - self.started < LONG_STEP:
                return
            self.stream.write("\n")
            self.bar = Progress(self.stream, True, unit)
            self.bar.start = self.started  # (its rate and ETA: the step's)
        self.bar.update(done, fraction if fraction is not None else done / total if total else None)

    def done(self) -> None:
        if self.started is not None:
            if self.bar is not None:
                self.bar.finish()  # (its line cleared: the time is said there)
                self.bar = None
            self.stream.write(f" {time.monotonic() - self.started:.1f} s\n")
            self.stream.flush()
            self.started = None


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


# --- summary -----------------------------------------------------------------------


@dataclass
class BudgetLine:
    count: int = 0
    total: Decimal = ZERO


@dataclass
class BatchSummary:
    applications: int = 0
    decided: int = 0
    failed: int = 0
    items: int = 0
    committed: int = 0
    already_committed: int = 0
    #: the ledger read (and committed into), its password masked; None: none read
    ledger_url: str | None = None
    #: the run made it: it was not there before (a mistyped path is a new, empty ledger)
    ledger_new: bool = False
    #: the claims this run replaced (`--replace`), in input order
    replaced_ids: list[str] = field(default_factory=list)
    #: each replaced claim's grants before and after (as committed: a later scaling of the round is not in them)
    replaced_totals: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)
    #: the rounds the replaced commits were in (scaled again after deciding: a claim may have left one)
    left_rounds: set[str] = field(default_factory=set)
    replaced: int = 0
    approved_total: Decimal = ZERO  # after any scaling
    by_status: dict[str, BudgetLine] = field(default_factory=lambda: {s: BudgetLine() for s in STATUSES})
    by_item: dict[tuple[str, str], dict[str, BudgetLine]] = field(default_factory=dict)  # (article, item type) -> status -> line
    held_incomplete: Decimal = ZERO
    held_pending: Decimal = ZERO  # at most: the room left under the ceilings of items awaiting review
    scaling: dict[str, dict[str, str]] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)  # item type -> its rule's place in the policy
    outputs: dict[str, str] = field(default_factory=dict)
    report: str = "not drawn"  # the HTML report: "written", "not drawn (--no-report)", "skipped: <why>", "failed: <why>"
    warnings: list[str] = field(default_factory=list)  # e.g. cells of the summaries written escaped
    seconds: float = 0.0

    def add_item(self, article: str, item_type: str, status: str, amount: Decimal) -> None:
        self.by_status[status].count += 1
        self.by_status[status].total += amount
        lines = self.by_item.setdefault((article, item_type), {s: BudgetLine() for s in STATUSES})
        lines[status].count += 1
        lines[status].total += amount

    def add_part(self, part: BatchSummary) -> None:
        """The item totals of `part` (`_rows` of some decisions, counted apart) added to these, as if counted here: the
        same counts and sums (exact: Decimal), item types in the order first met."""
        self.items += part.items
        self.approved_total += part.approved_total
        self.held_incomplete += part.held_incomplete
        self.held_pending += part.held_pending
        for s, line in part.by_status.items():
            if line.count:
                self.by_status[s].count += line.count
                self.by_status[s].total += line.total
        for key, lines in part.by_item.items():
            mine = self.by_item.setdefault(key, {s: BudgetLine() for s in STATUSES})
            for s, line in lines.items():
                if line.count:
                    mine[s].count += line.count
                    mine[s].total += line.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "applications": self.applications,
            "decided": self.decided,
            "failed": self.failed,
            "items": self.items,
            "ledger": {
                "committed": self.committed,
                "already_committed": self.already_committed,
                "replaced": self.replaced,
                **({"url": self.ledger_url, "new": self.ledger_new} if self.ledger_url is not None else {}),
            },
            "approved_total": format_money(self.approved_total),
            "by_status": {s: {"count": v.count, "total": format_money(v.total)} for s, v in self.by_status.items()},
            "by_item": [
                {"article": a, "item_type": t, **{s: {"count": v.count, "total": format_money(v.total)} for s, v in lines.items()}}
                # (in the policy's order, as the console's table and the workbook list them: sorted by code point, an
                # article numbered 七 came before one numbered 五)
                for (a, t), lines in sorted(self.by_item.items(), key=lambda kv: (self.order.get(kv[0][1], 1 << 30), kv[0]))
            ],
            "held_back": {"incomplete": format_money(self.held_incomplete), "pending_review_at_most": format_money(self.held_pending)},
            "scaling": self.scaling,
            "outputs": self.outputs,
            "report": self.report,
            "warnings": self.warnings,  # English, as errors.jsonl's words; in every language below (as its `said`)
            "warnings_said": [said(w) for w in self.warnings],
            "seconds": round(self.seconds, 3),
        }


# --- the run -----------------------------------------------------------------------


def said(text: Any) -> dict[str, str]:
    """`text` in every language of the catalogue: a message (`Msg`) said in each, any other text as it is."""
    return {lang: tr(text, lang) for lang in languages()}


def said_problem(problem: Mapping[str, Any]) -> dict[str, Any]:
    """An error record's problem (batch's errors.jsonl, match's errors) with its words in every language (`said`):
    `message` and `expected` stay English."""
    out = {k: (str(v) if isinstance(v, Msg) else v) for k, v in problem.items() if k != "said"}
    words = {k: problem[k] for k in ("message", "expected") if problem.get(k) is not None}
    out["said"] = {lang: {k: tr(v, lang) for k, v in words.items()} for lang in languages()}
    return out


def error_record(rec: Record, problems: list[dict[str, Any]], summary: str) -> dict[str, Any]:
    """The errors.jsonl record of an application that got no decision (batch runs and diff's impact).

    `error` and each problem's `message` and `expected` are English, as ever; `said` holds them in every language
    of the catalogue (`{"zh": ..., "en": ...}`), so a report or a summary says them in its own."""
    return {
        "application": rec.number,
        "claim_id": rec.claim_id,
        "applicant_id": applicant_code(rec),
        "where": rec.where,
        "error": str(summary),
        "said": said(summary),
        "problems": [said_problem(p) for p in problems],
    }


def applicant_code(rec: Record) -> str | None:
    """The applicant's code (统一社会信用代码) as the application gives it, where it was read -- of a sheet's row some of
    whose cells could not be read too (`Record.partial`), so that the officer finds the enterprise of an error
    record; None where it was not (the cell itself unreadable, or the input no application)."""
    read = rec.data if isinstance(rec.data, Mapping) else rec.partial
    applicant = read.get("applicant") if isinstance(read, Mapping) else None
    code = applicant.get("id") if isinstance(applicant, Mapping) else None
    if not isinstance(code, str) or not code.strip():
        return None
    return code if len(code) <= _CODE_SHOWN else code[: _CODE_SHOWN - 1] + "…"  # (no code is that long: enough to find it)


#: the most characters of an applicant's code an error record repeats (a credit code and a resident ID number are 18)
_CODE_SHOWN = 64


def in_language(record: Mapping[str, Any], lang: str) -> tuple[str, list[dict[str, Any]]]:
    """An error record's summary and problems in `lang` (a record written before `said` existed: as it is)."""
    error = str((record.get("said") or {}).get(lang, record.get("error")))
    problems = []
    for p in record.get("problems") or []:
        words = (p.get("said") or {}).get(lang, {})
        problems.append({**p, "message": words.get("message", p.get("message")), "expected": words.get("expected", p.get("expected"))})
    return error, problems


def problem_said(
    problem: Mapping[str, Any], record: Mapping[str, Any], said: str, headings: Mapping[str, Any], lang: str
) -> tuple[str, str | None]:
    """One problem of an error record (`in_language`'s, in `lang`; `said`: the record's summary there) in the reader's
    words, as every place that shows it says it (batch's and report's console, report.html): where, the field as the
    input's heading names it (`headings`: `Columns.headings`), what is wrong; and the fix, if it has one."""
    where, field, words, _ = problem_cells(problem, record, headings, lang)
    words = words or said
    line = (
        msg("batch.problem", where=where, field=field, message=words)
        if field
        else msg("batch.problem_unplaced", where=where, message=words)
    )
    fix = tr(msg("batch.problem_fix", expected=problem["expected"]), lang) if problem.get("expected") else None
    return tr(line, lang), fix


#: error records a console lists after a run's summary (batch's, report's, match's; all of them are in the run's
#: workbook and its JSON Lines)
FAILURES_SHOWN = 10


def problem_cells(problem: Mapping[str, Any], record: Mapping[str, Any], headings: Mapping[str, Any], lang: str) -> list[Any]:
    """One problem of an error record (`in_language`'s, in `lang`) as an errors sheet's cells, as `problem_said` says
    it: where, the field as the input's heading names it (`headings`, unless the problem says it in words itself:
    a match's, by its own version's columns), what is wrong, what to write instead."""
    field = problem.get("field")
    named = ((problem.get("said") or {}).get(lang) or {}).get("field")
    if isinstance(named, str) and named:
        field = named
    elif isinstance(field, str) and field:
        field = field_heading(field, headings, lang)
    return [where_text(problem or record["where"], lang), field, problem.get("message"), problem.get("expected")]


@lru_cache(maxsize=32)  # (per policy: a match names the fields of every profile in error by its version's)
def column_headings(policy: CompiledPolicy) -> Mapping[str, Any]:
    """One version's columns' headings (`Columns.headings`), read-only: every caller shares it."""
    return MappingProxyType(Columns(policy).headings())


def headings_of(versions: PolicySet | Iterable[CompiledPolicy]) -> dict[str, Any]:
    """Every version's columns' headings (`Columns.headings`), the last one's wording winning (a `PolicySet`: oldest
    first): how a problem names its field."""
    headings: dict[str, Any] = {}
    for v in versions.versions if isinstance(versions, PolicySet) else versions:
        headings.update(column_headings(v))
    return headings


def report_error(record: Mapping[str, Any], source: Mapping[str, str], headings: Mapping[str, Any]) -> ReportError:
    """The report's row (`render.ReportError`) of an application that got no decision, from its error record: its
    claim id when it has one and where it came from (`source`: language -> its words), its summary and each problem with its fix (`problem_said`), in
    every language the report may be drawn in. Raw input the record quotes (a lone surrogate no page can hold, in a
    value or a file's name) is shown escaped."""
    from engine.explaining import render

    by_language, sources = {}, {}
    named = f"{record['claim_id']} — " if record.get("claim_id") else ""  # (report's rows named no claim id; batch's did)
    for lang in languages():
        summary, problems = in_language(record, lang)
        lines = []
        for p in problems:
            line, fix = problem_said(p, record, summary, headings, lang)
            lines.append(storable(line if fix is None else tr(msg("batch.problem_with_fix", problem=line, fix=fix), lang)))
        by_language[lang] = (storable(summary), lines)
        sources[lang] = storable(named + source[lang])
    summary, lines = by_language[FALLBACK]
    return render.ReportError(sources[FALLBACK], summary, lines, said=by_language, record=record, sources=sources)


def _words(err: Exception) -> str:
    """An exception's message as a message when it is one (so it is said in every language), else its text."""
    return err.args[0] if err.args and isinstance(err.args[0], Msg) else str(err)


#: how a program calling `run_batch` commits an application as a replacement (`replace_said`'s default)
REPLACE_BY_RUN = "run_batch(..., commit=True, replace=True)"


def _refuse_arguments(policy: Any, workers: Any, output_processes: Any, ledger_url: Any, report_lang: Any) -> None:
    """`run_batch`'s arguments that are none of what it takes, refused before anything is read or written: `workers`
    and `output_processes` held to what `--workers` and `--output-processes` take (ValueError: -1, 0, 65, True or 1.5
    workers ran on one process, unsaid; 2.0 failed deep inside multiprocessing, "2" at a comparison); a policy that is
    none ("'str' object has no attribute 'id'" of a policy's path), a ledger URL that is no text (TypeError); a
    report language with no catalogue (the round ran, and its report.html failed at the end)."""
    from engine.records.workers import MAX_WORKERS

    if not isinstance(policy, CompiledPolicy | PolicySet):
        raise TypeError(msg("core.not_a_policy_or_set", call="run_batch", kind=type(policy).__name__))
    refuse_count(workers, "run_batch", "workers", 1, MAX_WORKERS)
    none = msg("batch.output_processes_none", most=OUTPUT_PROCESSES)
    refuse_count(output_processes, "run_batch", "output_processes", 0, MAX_WORKERS, none=none)
    refuse_url_not_text(ledger_url, "run_batch(ledger_url=)")
    if report_lang not in languages():
        raise ValueError(msg("batch.report_lang", lang=repr(report_lang), languages=list(languages())))


def _through(problem: dict[str, Any], replace_said: str) -> dict[str, Any]:
    """A problem whose message says how to commit as a replacement (`{replace}`), said in `replace_said`."""
    said = problem.get("message")
    if isinstance(said, Msg) and "replace" in said.params:
        return {**problem, "message": msg(said.key, **{**said.params, "replace": replace_said})}
    return problem


def claim_problems(rec: Record, err: EngineError) -> list[dict[str, Any]]:
    """A claim's problems, each placed where its input has it (line, or sheet and row) and named as the input spells it."""
    out = []
    for p in err.problems:
        where, fieldname = rec.locate(p.path)
        d: dict[str, Any] = {**where, "field": fieldname or None, "message": rec.named(p.message)}
        if p.expected:
            d["expected"] = p.expected
        absent = rec.absent and (fieldname in rec.absent or f"claim.{fieldname}" in rec.absent)  # (a claim fact: its bare name)
        if absent and getattr(p.message, "key", None) == "claim.missing":  # (no such column in its sheet)
            d["message"], d["expected"] = msg("input.no_column"), msg("input.no_column_fix")
        elif "row" in where and getattr(p.message, "key", None) == "claim.missing" and not p.expected:
            d["expected"] = msg("input.empty_cell_fix")  # (a required cell left empty: it said no fix)
        out.append(d)
    return out


@in_engine_context  # sums and scaling in the engine's own decimal context, whatever the caller set
# long because: one run in order (versions, inputs, ledger and scratch ledger, the decide loop, scaling, outputs) whose
# locals each later step uses; the loop and the final pass are already their own functions.
def run_batch(
    policy: CompiledPolicy | PolicySet,
    input_path: str | Path,
    out_dir: str | Path,
    *,
    ledger_url: str | None = None,
    commit: bool = False,
    replace: bool = False,
    round_label: str | None = None,
    trace: bool = True,
    quiet: bool = False,
    stderr: IO[str] | None = None,
    on_decided: Callable[[int], None] | None = None,
    report: bool = True,
    workers: int = 1,
    encoding: str | None = None,
    audit: Audit | None = None,
    report_lang: str = "zh",
    outputs_while_deciding: bool = True,
    output_processes: int | None = None,
    without_ledger: bool = False,
    on_step: Callable[[str, int, int | None], None] | None = None,
    own_history: bool = True,
    on_ledger: Callable[[Ledger], None] | None = None,
    replace_said: str = REPLACE_BY_RUN,
) -> BatchSummary:
    """Decide every application in `input_path`; write the outputs into `out_dir`. See the module docstring.

    `encoding`: a CSV input's encoding (`--encoding`), when it is not to be told from its bytes.
    `report_lang`: the language report.html is written in (the CLI's explanation language: `--lang`, else Chinese).
    `workers`: decide on that many processes (engine.records.workers): the same decisions in the same order,
    and the same commits, as one process; some rounds are still decided on one (the module says which).

    `policy`: one policy, or several versions of it (each application decided by the version in force
    for its funding year). `report=False`: no HTML report. A report.html left in `out_dir` by an earlier
    run is removed first, so the one there is always this run's; a round of more than `REPORT_LIMIT`
    applications gets none, which `summary.report` (and summary.json) says, and stderr too.

    `audit` (committing): who commits the round; each application committed gets its own audit entry (action,
    actor and detail from `audit`, target its claim id) in its commit's transaction. Decided on one process.

    `outputs_while_deciding`: on one process (`workers` 1), the outputs are made on a second process as the
    decisions are written (`_EarlyOutputs`), and after deciding only their last steps are left; the same files as
    writing them all after deciding (`False`, or where `fork` is not available, or if that process fails; in a
    process with other threads it is a new interpreter, engine.records.spawned, where it can be). A round budget
    that scales a round changes decisions already written: that process decides the round itself first, to foresee
    the scaling (`_DryRun`; the run waits for it before deciding, a step said as such), and what it made is kept only
    when the run scaled exactly as foreseen, else thrown away and every output made after deciding. On `workers`, each worker
    makes the outputs of the decisions it writes, and the merge writes them in their place; a round a budget may
    scale is first decided ahead by the workers, each over its own applications (engine.records.workers), and what
    they make is kept likewise only when the run scaled exactly as foreseen.

    `output_processes`: when the outputs are all made after deciding (a scaling not foreseen, no outputs made
    while deciding), how many forked processes make them (`_OutputPool`; 0 or 1: this process alone); None: one
    per core (at most 4). The same files either way.

    `without_ledger`: decide with no ledger's history at all, not even the default one (`$POLICY_ENGINE_LEDGER`,
    ./policy-engine-ledger.sqlite) that a run given no `ledger_url` reads when it exists: a service with no ledger
    answers its rounds as it answers each evaluate call. Not with `commit` or `ledger_url`.

    `on_step`: told each step as it starts (after deciding; before it, a round budget's foresight), and how far a
    step that counts is (`Steps.told`), even when `quiet` or not on a terminal.

    `own_history=False`: an application carrying a `history` of its own gets an error record (`refuse_own_history`):
    the web service's rounds on a ledger, whose history comes from the ledger alone. Decided on one process.

    `on_ledger` (committing): called with the run's ledger once it is open (made, if it was not there), before
    anything is decided or committed: the command line audits the run's start there (engine.cli.batch). What it
    raises stops the run, nothing committed.

    `replace_said`: how this run's caller commits an application as a replacement, as an error record of one already
    committed with other content says it (`AlreadyCommitted.through`): `REPLACE_BY_RUN` for a program, the command
    line's `--replace`, the service's `POST /ledger/commit?replace=true` (its rounds take no `replace`).
    """
    if without_ledger and (commit or ledger_url):
        raise ValueError(msg("batch.without_ledger"))
    _refuse_arguments(policy, workers, output_processes, ledger_url, report_lang)
    refuse_flags(
        "run_batch", commit=commit, replace=replace, trace=trace, quiet=quiet, report=report, without_ledger=without_ledger,
        outputs_while_deciding=outputs_while_deciding, own_history=own_history,
    )  # fmt: skip
    if round_label is not None:  # (once, before anything: each commit would refuse it)
        check_words(round_label, "round")
    versions = policy if isinstance(policy, PolicySet) else PolicySet((policy,))
    newest = versions.newest
    stderr = stderr if stderr is not None else sys.stderr
    started = time.monotonic()
    if Path(input_path).is_dir() and Path(out_dir).resolve() == Path(input_path).resolve():
        # (the next run would read this run's decisions.jsonl, errors.jsonl and summary.xlsx as applications)
        raise OutputError(msg("sheet.out_is_input", path=str(out_dir)))
    writes = (*OUTPUT_FILES, "errors.jsonl", "report.html")
    out = output_dir(out_dir, writes)  # (an OutputError names a path that cannot be)
    read = _input_files(input_path)
    for name in writes:  # (an officer's workbook kept in the folder as summary.xlsx: written over by the run's own)
        if _is_read(out / name, read):
            raise OutputError(msg("sheet.out_is_read", path=str(out / name)))
    # an earlier run's outputs must not pass for this run's: a run that stops before deciding (its ledger cannot be
    # opened, Ctrl-C while a selection ranks the input) left them whole beside nothing of its own
    _remove(out, writes, read)
    try:
        # tabular columns: the newest version's vocabulary; a claim id given again is an error record, with --replace
        # too (an amendment is committed in a later run)
        reader = open_claims(input_path, newest, encoding)
    except InputError as err:
        _input_failed(out, input_path, err, read)
        raise
    url = ledger_url or default_url()
    real: Ledger | None = None
    new_ledger = False
    if not without_ledger and (commit or _ledger_exists(url)):
        # a mistyped --ledger (台帐 for 台账), or none given, made a new empty ledger unsaid, and the round was decided and
        # committed against no history at all (a title rewarded again, a cap used up paid again)
        new_ledger = commit and not _ledger_exists(url)
        try:
            real = Ledger(url)
        except BaseException:
            reader.close()
            raise
        if new_ledger:
            print(tr(msg("batch.new_ledger", url=masked_url(url))), file=stderr)
        if not quiet:  # (a commit waiting for another's lock: said at once, not after minutes of silence)
            real.wait_said(lambda: print(tr(msg("batch.waiting_ledger", url=masked_url(url))), file=stderr))
        if commit and on_ledger is not None:
            try:
                on_ledger(real)
            except BaseException:
                reader.close()
                real.close()
                raise
    elif not without_ledger and (ledger_url or os.environ.get(LEDGER_ENV)):
        # deciding only against a ledger named (--ledger, or $POLICY_ENGINE_LEDGER) that is not there (a typo?): say so,
        # decide without history (no cap or limit sees an earlier grant), create nothing
        print(tr(msg("batch.no_ledger", url=masked_url(url))), file=stderr)
    scratch_dir = tempfile.mkdtemp(prefix="policy-engine-batch-")
    target = real if commit and real is not None else Ledger(f"sqlite:///{os.path.join(scratch_dir, 'scratch.sqlite')}")
    base = None if target is real else real
    order: dict[str, int] = {}
    for v in reversed(versions.versions):
        for r in v.rules:
            order.setdefault(r.item_type, len(order))
    summary = BatchSummary(order=order)
    if real is not None:
        summary.ledger_url, summary.ledger_new = masked_url(url), new_ledger
    verdicts: dict[str, dict[str, Verdict]] | None = None  # None: no rule has a round selection
    if any(r.selection is not None for v in versions.versions for r in v.rules):
        try:
            verdicts = rank_round_of_input(versions, input_path, real, round_label, encoding)
        except BaseException as err:
            reader.close()
            if real is not None:
                real.close()
            shutil.rmtree(scratch_dir, ignore_errors=True)
            if isinstance(err, InputError):  # (it breaks off as the ranking reads it whole: nothing decided yet)
                _input_failed(out, input_path, err, read)
            raise
    progress = Progress(stderr, not quiet)
    steps = Steps(stderr, not quiet, on_step)  # each step says what it is doing (the outputs', a budget's foresight)
    raw_path = out / "decisions.partial.jsonl"
    rounds: dict[str, dict[int, CompiledPolicy]] = {}  # round -> funding year -> the version that decided it
    early: _EarlyOutputs | None = None  # the outputs being made while deciding, if they are
    seen: list[tuple[str, str]] | None = None  # each decision's (claim id, round) as written, when `early` foresaw a scaling
    merged: list[_Outputs] = []  # the outputs made on the workers (`--workers`), merged in input order, if they are
    noticed: list[Msg] = []
    ended = False  # (every output written: else the run stopped part way, `_stopped_part_way`)

    def merged_outputs(foreseen: Foreseen | None = None) -> _Outputs:
        # totals of their own: thrown away with the files if a budget scales the round otherwise than `foreseen` (the
        # workers' foresight: they made each decision's outputs scaled as foreseen)
        made = _Outputs(versions, out, None, foreseen.records if foreseen else {}, BatchSummary(order=order), report, report_lang)
        made.foreseen = foreseen
        merged.append(made)
        return made

    try:
        # backslashreplace: an error record quotes raw input, which may hold a lone surrogate no UTF-8 file can;
        # inside a JSON string its escape (\ud800) reads back as the same text
        with (
            open(raw_path, "w", encoding="utf-8", errors="backslashreplace") as dec_f,
            open(out / "errors.jsonl", "w", encoding="utf-8", errors="backslashreplace") as err_f,
        ):

            def made_while_deciding() -> None:  # (the outputs' process for the deciding loop on this process)
                nonlocal early, seen
                dry = None
                if any(v.round_budget is not None for v in versions.versions):  # (a round it may scale: foreseen)
                    dry = _DryRun(versions, input_path, encoding, real, replace, round_label, verdicts, commit, own_history)
                streams = (stderr, sys.stdout, sys.stderr)
                early = _EarlyOutputs.start(versions, out, raw_path, summary, report, report_lang, streams, dry, output_processes, steps)
                seen = [] if early is not None and early.foresaw_scaling() else None
                progress.start = time.monotonic()  # (the bar's rate and ETA: deciding's, not the wait's)

            if outputs_while_deciding and workers <= 1:  # (on workers, every line is written when the round is decided)
                made_while_deciding()
            try:
                parallel = workers > 1 and audit is None and own_history and _decide_on_workers(
                    workers, versions, input_path, real, target, commit, replace, round_label, trace, verdicts,
                    dec_f, err_f, summary, rounds, progress, on_decided, stderr, quiet, encoding,
                    merged_outputs if outputs_while_deciding else None, (report, report_lang), steps, noticed,
                )  # fmt: skip
                if not parallel and merged:  # (the workers' round given up part way, to one process: made again)
                    merged.pop().discard()
                if not parallel and workers > 1 and outputs_while_deciding:  # (given to this process: nothing written yet)
                    made_while_deciding()
                for rec in () if parallel else reader:
                    summary.applications += 1
                    error = decide_one(
                        versions, rec, target, base, real, replace, round_label, trace, dec_f, summary, rounds, verdicts, audit,
                        own_history, replace_said, seen,
                    )  # fmt: skip
                    if error is not None:
                        summary.failed += 1
                        err_f.write(json.dumps(error, ensure_ascii=False, default=str) + "\n")
                    else:
                        summary.decided += 1
                    if on_decided is not None:
                        on_decided(summary.applications)
                    progress.update(summary.applications, reader.fraction())
            except InputError as err:  # the input breaks off (e.g. a JSON list cut short): said in errors.jsonl too
                err_f.write(json.dumps(_input_error_record(input_path, err), ensure_ascii=False) + "\n")
                raise
            progress.update(summary.applications, 1.0, force=True)
        progress.finish()
        if not parallel:  # (a workbook's hidden rows, decided as the others: said first among the warnings)
            noticed += reader.notices()
        left = columns_left_incomplete(versions, noticed, raw_path, summary.decided, steps)
        if left:  # (each right after the notice naming its sheet's missing columns)
            noticed[:] = [m for i, n in enumerate(noticed) for m in ((n, left[i]) if i in left else (n,))]
        if base is not None and any(v.round_budget is not None for v in versions.versions):
            target = previewed(target, base, rounds.keys(), os.path.join(scratch_dir, "preview.sqlite"), replace)
        scaled: dict[str, dict[str, str]] = {}
        for rnd in sorted(rounds.keys() | summary.left_rounds):  # (and the rounds replaced claims left)
            unknown: list[int] = []
            years = round_years(target, rnd, rounds.get(rnd, {}), versions, unknown)
            if unknown and not years:  # (a round a replaced claim left, of years the run was not given: left as it is)
                noticed.append(msg("batch.round_versions_not_given", round=rnd, years=unknown))
                continue
            beyond = [y for y in unknown if y > max(years)]
            if beyond:  # (its budget is a later year's version's, which the run was not given)
                said = round_policy(years)
                noticed.append(msg("batch.round_year_not_given", round=rnd, years=beyond, year=max(years), version=said.version))
            if years and round_policy(years).round_budget is not None:
                steps.start(msg("batch.step.budget", round=rnd))
            record = scale_round(target, rnd, years)
            if record is not None:
                scaled[rnd] = record
        summary.scaling = scaled
        for claim_id, before, after in summary.replaced_totals[:LATER_SHOWN]:
            diff = said_money(after - before, signed=True)
            noticed.append(msg("batch.replaced_total", claim=claim_id, before=said_money(before), after=said_money(after), diff=diff))
        if real is not None and summary.replaced_ids:  # (decisions that read a replaced claim's grants as history)
            later = real.later_sharing(summary.replaced_ids)
            if later:
                shown = [msg("batch.later_claim", claim=c, year=y) for c, y in later[:LATER_SHOWN]]
                more = msg("batch.later_more", n=len(later) - LATER_SHOWN) if len(later) > LATER_SHOWN else ""
                noticed.append(msg("batch.later_affected", n=len(later), claims=shown, more=more))
        # made from decisions that scaling has changed (unless that process foresaw the very same scaling): thrown
        # away, made again
        agreed = early is not None and early.agrees(scaled, target, raw_path, seen)
        if early is not None and not agreed:
            early.cancel()
        if merged and (merged[0].abandoned or not merged[0].agrees(scaled, target, raw_path)):  # likewise (abandoned:
            merged.pop().discard()  # the merge knew it would be scaled, or met a decision its worker made nothing of)
        if merged:  # made on the workers and merged in order: only the last steps are left
            made = merged[0].summary
            made.applications, made.decided, made.failed = summary.applications, summary.decided, summary.failed
            merged[0].finish(raw_path, steps)
            for name in _OUTPUT_FIELDS:
                setattr(summary, name, getattr(made, name))
        elif early is None or not agreed or not early.finish(out, raw_path, summary, steps):
            if early is not None and early.failed is not None:
                if not scaled:  # (scaled, every output is made after deciding anyway)
                    summary.warnings.append(msg("batch.report.early_stopped", why=early.failed))
                if not quiet:  # (why the outputs take longer now)
                    steps.done()
                    print(tr(msg("batch.early_failed", why=early.failed)), file=stderr)
            _final_pass(
                versions,
                out,
                raw_path,
                target,
                scaled,
                summary,
                report,
                steps,
                report_lang,
                (stderr, sys.stdout, sys.stderr),
                output_processes,
            )
        ended = True
    finally:
        if early is not None:
            early.stop()
        if not ended:
            _stopped_part_way(out, raw_path, read)
        steps.done()
        reader.close()
        if target is not real:
            target.close()
        if real is not None:
            real.close()
        shutil.rmtree(scratch_dir, ignore_errors=True)
    summary.seconds = time.monotonic() - started
    summary.warnings[:0] = noticed
    if summary.report.startswith("skipped") or summary.report.startswith("failed"):
        print(tr(msg("batch.report.said", report=summary.report)), file=stderr)
    for warning in summary.warnings:
        print(tr(msg("batch.warning", warning=warning)), file=stderr)
    try:
        (out / "summary.json").write_text(
            json.dumps(summary.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8", errors="backslashreplace"
        )
    except BaseException:  # (a disk full at the last file: no summary left, an empty summary.json beside the others)
        _stopped_part_way(out, raw_path, read)
        raise
    summary.outputs["summary_json"] = str(out / "summary.json")
    return summary


def columns_left_incomplete(
    versions: PolicySet, noticed: Sequence[Msg], decisions: Path, decided: int, steps: Steps | None = None
) -> dict[int, Msg]:
    """For each notice of the columns a sheet lacks (`sheet.missing_columns` among what was `noticed`, keyed by its
    place there), how many of the applications decided from that sheet's file (`decisions`: their lines, each with
    its `input.file`) the columns left incomplete: those with an item decided incomplete for a fact of such a column,
    or for documents when a documents column is missing; and the columns that did. Each file's applications are
    counted alone: a folder's files were all counted against each notice, and named another file's applications.
    When every application decided from the file is one of them, it is said as what it most likely is, columns
    deleted from the sheet (`sheet.missing_columns_all`), not applicants who all failed to give the same facts; no
    entry when none is. Read again from the decisions file only when a column is missing."""
    notices = {i: m for i, m in enumerate(noticed) if getattr(m, "key", None) == "sheet.missing_columns"}
    if not notices or not decided:
        return {}
    if steps is not None:  # (after the bar, each step is said: the decisions are read back)
        steps.start(msg("batch.step.missing_columns", n=decided))
    documents = set()  # the missing columns of documents (an item missing any document is incomplete for them)
    for policy in versions.versions:
        cols = Columns(policy)
        for code in {c.params["code"] for m in notices.values() for c in m.params["columns"]}:
            spec = cols.claim.get(code) or cols.applicant.get(code) or cols.item.get(code)
            documents |= {code} if spec is not None and spec.type == "document_list" else set()
    per_file, wanting = _incomplete_by_file(decisions)
    said: dict[int, Msg] = {}
    for i, notice in notices.items():
        where = notice.params["where"]
        file = where.params["file"] if isinstance(where, Msg) else str(where)
        named = {c.params["code"]: c for c in notice.params["columns"]}
        causes: dict[str, None] = {}  # the columns that left an application incomplete, in the notice's order
        left = []  # the claim ids of those applications
        for claim_id, facts in wanting.get(file, ()):
            why = {c for c in named if c in facts or (c in documents and _DOCUMENTS in facts)}
            if why:
                left.append(claim_id)
                causes.update(dict.fromkeys(c for c in named if c in why))
        columns = [named[c] for c in causes]
        if left and len(left) == per_file[file]:
            said[i] = msg("sheet.missing_columns_all", where=where, n=len(left), columns=columns)
        elif left:
            said[i] = msg("sheet.missing_columns_decided", where=where, n=len(left), decided=per_file[file], first=left[0], columns=columns)
    return said


_DOCUMENTS = "<documents>"  # (among an application's missing facts: an item of it misses documents)


def _incomplete_by_file(decisions: Path) -> tuple[collections.Counter[str], dict[str, list[tuple[str, set[str]]]]]:
    """Of the decisions file: how many applications were decided from each input file, and per file each application
    with an item decided incomplete (its claim id, the facts those items miss, `_DOCUMENTS` when documents)."""
    per_file: collections.Counter[str] = collections.Counter()
    wanting: dict[str, list[tuple[str, set[str]]]] = {}
    decoder = json.JSONDecoder()
    with open(decisions, encoding="utf-8") as f:
        for line in f:
            at = line.rfind(', "input": ')  # (written last, `decision_line`; a quote inside a string is escaped)
            file = str(decoder.raw_decode(line, at + 11)[0].get("file")) if at >= 0 else ""
            per_file[file] += 1
            if '"incomplete"' not in line:
                continue
            d = json.loads(line)
            facts: set[str] = set()
            for item in d.get("items") or ():
                if item.get("status") == "incomplete":
                    facts.update(item.get("missing_facts") or ())
                    facts.update((_DOCUMENTS,) if item.get("missing_documents") else ())
            if facts:
                wanting.setdefault(file, []).append((str(d.get("claim_id")), facts))
    return per_file, wanting


#: at most this many later claims a replacement may have changed are named (the rest counted)
LATER_SHOWN = 20

#: What a run writes into its output folder (report.html aside): an input that cannot be read leaves none of an earlier run's.
OUTPUT_FILES = (
    "decisions.jsonl",
    "decisions.partial.jsonl",
    "summary_items.csv",
    "summary_applications.csv",
    "summary.xlsx",
    "summary.json",
)


def _input_error_record(input_path: str | Path, err: InputError) -> dict[str, Any]:
    where = {"file": str(input_path)}
    summary = msg("batch.error.input")
    return {
        "application": None,
        "claim_id": None,
        "where": where,
        "error": str(summary),
        "said": said(summary),
        # (a workbook refused for several problems at once: each its own, as the officer mends them one by one)
        "problems": [said_problem({**where, "field": None, "message": m}) for m in err.problems or (_words(err),)],
    }


def _input_failed(out: Path, input_path: str | Path, err: InputError, read: set[tuple[int, int]] | None) -> None:
    """The input as a whole cannot be read: errors.jsonl holds that one record, and no earlier run's output is left
    (`read`: the files the input reads, never removed, `_remove`)."""
    _remove(out, OUTPUT_FILES, read)
    with open(out / "errors.jsonl", "w", encoding="utf-8", errors="backslashreplace") as f:
        f.write(json.dumps(_input_error_record(input_path, err), ensure_ascii=False) + "\n")


#: what a run that stops part way removes (`_stopped_part_way`): summaries made part way, or an earlier run's
_SUMMARIES = ("summary_items.csv", "summary_applications.csv", "summary.xlsx", "summary.json", "report.html")


def _stopped_part_way(out: Path, raw_path: Path, read: set[tuple[int, int]] | None) -> None:
    """A run stopped before its end (its input broke off, Ctrl-C, a ledger or disk error): it leaves errors.jsonl and
    what it decided (decisions.partial.jsonl; decisions.jsonl once that was whole), no summary. The summaries an
    outputs' process was making while deciding would be cut short, and an earlier run's in the same folder (its
    workbook, its decisions.jsonl while this run's is not written) would pass for this run's. The input is never
    removed (a workbook named summary.xlsx, read from the output folder; `FILE:N` of it; a folder's file linked to
    one: `_input_files`)."""
    _remove(out, [*_SUMMARIES, "decisions.jsonl"] if raw_path.exists() else _SUMMARIES, read)


def _remove(out: Path, names: Sequence[str], read: set[tuple[int, int]] | None) -> None:
    """The files `names` in `out` removed, but never one the input reads (`read`, `_input_files`; None: that cannot
    be told, and nothing is removed rather than it): an officer's workbook read from the output folder as
    summary.xlsx, refused whole (its sheets misnamed), was removed with the earlier run's."""
    if read is None:
        return
    for name in names:
        path = out / name
        if not _is_read(path, read):
            with contextlib.suppress(OSError):  # (in the run's `finally`: never in place of what stopped it)
                path.unlink()


def _is_read(path: Path, read: set[tuple[int, int]] | None) -> bool:
    """Whether `path` is (through any link) one of the files the input reads (`_input_files`); False if not there."""
    try:
        st = path.stat()
    except OSError:  # (not there; or a link to nothing)
        return False
    return read is not None and (st.st_dev, st.st_ino) in read


def _input_files(input_path: str | Path) -> set[tuple[int, int]] | None:
    """(device, inode) of each file the input reads, through any link: the file of `FILE:N` (a selector is no path:
    review45 found `samefile(path, "round.jsonl:3")` raise, and nothing removed), or each file of a folder. None when
    that cannot be told (the input's own error is said as it is opened)."""
    try:
        real = split_selector(input_path)[0]
    except ValueError:
        return None
    files = [real]
    with contextlib.suppress(OSError):
        if real.is_dir():
            files = list(real.iterdir())
    read = set()
    for f in files:
        with contextlib.suppress(OSError):
            st = f.stat()
            read.add((st.st_dev, st.st_ino))
    return read


def decide_in_memory(
    policy: CompiledPolicy | PolicySet, claims: Sequence[Mapping[str, Any]], on_decided: Callable[[int], None] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`claims` decided together as a batch decides a round (round selections ranked, a round budget's scaling, an
    applicant's claims sharing its caps and limits), with no ledger's history and no outputs kept: (the decisions as
    decisions.jsonl holds them, the error records as errors.jsonl does), each with its claim's line (1-based) in
    `input.line` / `where.line`. For the officers' round cases and diff's impact. `on_decided`: as `run_batch`'s."""
    with tempfile.TemporaryDirectory(prefix="policy-engine-round-") as tmp:
        src = Path(tmp) / "round.jsonl"
        with open(src, "w", encoding="utf-8") as f:
            for c in claims:
                f.write(json.dumps(c, ensure_ascii=False, default=str) + "\n")
        out = Path(tmp) / "out"
        run_batch(
            policy,
            src,
            out,
            without_ledger=True,
            report=False,
            quiet=True,
            stderr=io.StringIO(),
            outputs_while_deciding=False,
            output_processes=0,
            on_decided=on_decided,
        )
        decisions = [json.loads(line) for line in (out / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
        errors = [json.loads(line) for line in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    return decisions, errors


class ScalingAhead:
    """Whether a round is already certain to be scaled while its decisions are still being merged (`batch --workers`):
    once this run's own grants in it add up to more than any budget that could govern it. The ledger's total of the
    round holds at least this run's grants (an earlier run's only add to it), and the version that governs it is
    known only at the end (`round_policy`: its latest funding year's), so the bound is the largest budget of any
    version, and a version without a budget makes it never certain. Only a shortcut: the round is still scaled, or
    not, by `scale_round`, and outputs left unmade because of it are made after deciding either way."""

    def __init__(self, versions: PolicySet) -> None:
        budgets = [v.round_budget for v in versions.versions]
        self.most: Decimal | None = None if any(b is None for b in budgets) else max(b for b in budgets if b is not None)
        self.totals: dict[str, Decimal] = {}

    def certain(self, rnd: str, amount: Decimal) -> bool:
        """`amount` (a decision's grants before scaling) added to round `rnd`: whether it is now certain to be scaled."""
        if self.most is None:
            return False
        total = self.totals[rnd] = self.totals.get(rnd, ZERO) + amount
        return total > self.most


def round_policy(years: dict[int, CompiledPolicy]) -> CompiledPolicy:
    """The version whose budget governs a round: the one in force for the round's (latest) funding year."""
    return years[max(years)]


def round_years(
    target: Ledger, rnd: str, years: Mapping[int, CompiledPolicy], versions: PolicySet, unknown: list[int] | None = None
) -> dict[int, CompiledPolicy]:
    """Round `rnd`'s funding years and the version of each: this run's (`years`), and those only the grants `target`
    already holds in the round have (an earlier batch's, committed into it), each the version in force for its year.
    A labelled round's budget is its latest year's, whatever order its batches came in. A year no version given
    covers is left out (its budget is not known here) and added to `unknown`, if given; with one version, a year
    outside its window too (though that version decides every claim of the run): the run says so
    (`batch.round_year_not_given`) rather than take that version's budget as the round's in silence."""
    out = dict(years)
    for year in target.round_years(rnd):
        if year in out:
            continue
        found = versions.covering(year)
        if len(found) == 1:
            out[year] = found[0]
        elif unknown is not None:
            unknown.append(year)
    return out


def scale_round(target: Ledger, rnd: str, years: dict[int, CompiledPolicy]) -> dict[str, str] | None:
    """Scale round `rnd` by the budget of its version (see `round_policy`; `years` as `round_years` gives them); the
    scaling record, or None. A round scaled before that now has no years left (a replacement took its every grant
    elsewhere) or whose version has no budget is unscaled."""
    policy = round_policy(years) if years else None
    if policy is None or policy.round_budget is None:
        if target.round_record(rnd) is not None:  # (scaled before, by a budget that no longer governs it)
            target.unscale_round(rnd)
        return None
    record = target.scale_round_by_policy(rnd, policy)
    if record is None:
        return None
    cites = policy.round_budget_cites
    if cites:
        record["cites"] = cites
    used = sorted({p.version for p in years.values()})
    if len(used) > 1:
        record["decided_by_versions"] = ", ".join(used)
    return record


def rank_round_of_input(
    versions: PolicySet,
    input_path: str | Path,
    real: Ledger | None,
    round_label: str | None,
    encoding: str | None = None,
) -> dict[str, dict[str, Verdict]]:
    """The verdicts of the rules' round selections for the applications of the input, in input order
    (`engine.records.ledger.rank_round`); applications that cannot be read or decided take no place."""

    def claims() -> Iterator[tuple[CompiledPolicy, Claim]]:
        reader = open_claims(input_path, versions.newest, encoding)
        try:
            for rec in reader:
                if rec.data is None:
                    continue
                try:
                    policy = versions.pick(rec.data)
                    yield policy, read_claim(policy, rec)
                except EngineError:
                    continue
        finally:
            reader.close()

    return rank_round(claims(), real, round_label)


def _decide_on_workers(
    workers: int,
    versions: PolicySet,
    input_path: str | Path,
    real: Ledger | None,
    target: Ledger,
    commit: bool,
    replace: bool,
    round_label: str | None,
    trace: bool,
    verdicts: Mapping[str, Mapping[str, Verdict]] | None,
    dec_f: IO[str],
    err_f: IO[str],
    summary: BatchSummary,
    rounds: dict[str, dict[int, CompiledPolicy]],
    progress: Progress,
    on_decided: Callable[[int], None] | None,
    stderr: IO[str],
    quiet: bool,
    encoding: str | None = None,
    outputs: Callable[[Foreseen | None], _Outputs] | None = None,
    report: tuple[bool, str] = (True, "zh"),
    steps: Steps | None = None,
    noticed: list[Msg] | None = None,
) -> bool:
    """The deciding loop on `workers` processes (engine.records.workers); False when the round must be decided
    on one process instead (said on stderr unless quiet; nothing has been written then). `outputs`: the run's
    outputs, made when the merge starts (given the scaling the workers foresaw, if they did): each worker makes the
    rows and explanation of each decision it writes, and the merge writes them in their place (`report`: whether a
    report is drawn, and its language). `noticed`:
    gets what the workers' reader noticed in the input (`Reader.notices`)."""
    from engine.records import workers as parallel

    folder = parallel.new_folder()
    job = parallel.Job(
        versions, input_path, real, commit, replace, round_label, trace, verdicts, workers, folder, encoding=encoding,
        outputs=report if outputs is not None else None,
    )  # fmt: skip
    try:
        parallel.decide_round(job, target, dec_f, err_f, summary, rounds, progress, on_decided, outputs, steps)
        if noticed is not None:
            noticed += job.noticed
    except parallel.Fallback as why:
        if not quiet:
            print(tr(msg("batch.one_process", workers=workers, why=_words(why))), file=stderr)
        return False
    finally:
        parallel.cleanup(folder)
    return True


def _ledger_exists(url: str) -> bool:
    """Whether there is a ledger to read at `url`: an SQLite file (written as a URL or as a bare path, as `Ledger` takes
    both), or any server's URL (PostgreSQL: its own errors say what is wrong)."""
    path = sqlite_path(url)
    if path is not None:
        return path == ":memory:" or Path(path).exists()
    return "://" in url


def read_claim(policy: CompiledPolicy, rec: Record) -> Claim:
    """The claim of a record that has data: from its JSON text by the fast intake when the input is JSON (the same
    claim, or the same problems, as `parse_claim` of its data: tests/test_fast_intake.py), else from its data."""
    try:
        if rec.text is not None:
            return parse_claim_json(policy, rec.text, file=rec.where.get("file"))
        return parse_claim(policy, rec.data, file=rec.where.get("file"))
    except ClaimError:
        other = other_record(rec.data)  # (a decision line or an error record given as an application: said as such)
        if other is None:
            raise
        raise ClaimError([Problem(other, file=rec.where.get("file"))], other) from None


def commit_record(
    versions: PolicySet,
    rec: Record,
    target: Ledger,
    base: Ledger | None,
    replace: bool,
    round_label: str | None,
    trace: bool,
    verdicts: Mapping[str, Mapping[str, Verdict]] | None,
    audit: Audit | None = None,
    read: tuple[CompiledPolicy, Claim] | None = None,
) -> tuple[CompiledPolicy, Claim, CommitResult]:
    """An application (a record with data) decided and committed into `target`: the version that decided it, its
    claim and the commit. Raises what `decide_one` records as the application's error. `read`: its version and
    claim, when the caller has read them (`read_application`)."""
    policy, claim = read if read is not None else read_application(versions, rec)
    # the facts the ledger holds about the applicant join the application inside commit: the real ledger's
    # whether it is the target (committing) or the base under a scratch one (deciding only)
    selection = claim_verdicts(policy, claim, verdicts) if verdicts is not None else None
    audited = dataclasses.replace(audit, target=claim.claim_id) if audit is not None else None
    result = target.commit(policy, claim, replace=replace, round=round_label, base=base, trace=trace, selection=selection, audit=audited)
    return policy, claim, result


def read_application(versions: PolicySet, rec: Record) -> tuple[CompiledPolicy, Claim]:
    """An application's version (a funding year no version covers: a ClaimError naming the windows) and its claim."""
    policy = versions.pick(rec.data)
    return policy, read_claim(policy, rec)


def _rest_of(versions: PolicySet, rec: Record) -> list[dict[str, Any]]:
    """The problems of the rest of an application some of whose cells could not be read (`Record.partial`): those
    of other cells than the unread ones. A sheet with '12件' in one cell and '300,000元' and '2026年5月1日' in others
    said only the first; the other two came after it was mended, a run later."""
    if rec.partial is None:
        return []

    def cell(p: Mapping[str, Any]) -> tuple[Any, ...]:  # (a claim fact's field is its bare name in a claim's problem)
        return p.get("sheet"), p.get("row"), str(p.get("field")).removeprefix("claim.")

    unread = {cell(p) for p in rec.problems}
    try:
        parse_claim(versions.pick(rec.partial), rec.partial, file=rec.where.get("file"))
    except EngineError as err:
        return [p for p in claim_problems(dataclasses.replace(rec, data=rec.partial), err) if cell(p) not in unread]
    return []


def decide_one(
    versions: PolicySet,
    rec: Record,
    target: Ledger,
    base: Ledger | None,
    real: Ledger | None,
    replace: bool,
    round_label: str | None,
    trace: bool,
    dec_f: IO[str],
    summary: BatchSummary,
    rounds: dict[str, dict[int, CompiledPolicy]],
    verdicts: Mapping[str, Mapping[str, Verdict]] | None = None,
    audit: Audit | None = None,
    own_history: bool = True,
    replace_said: str = REPLACE_BY_RUN,
    seen: list[tuple[str, str]] | None = None,
) -> dict[str, Any] | None:
    """One application decided and its line written (None), or its error record. `seen`: given each written
    decision's (claim id, round), for `_EarlyOutputs.agrees`."""
    if rec.data is None:  # (a claim id given again says how to replace in the words of the run's caller)
        problems = [_through(p, replace_said) for p in rec.problems]
        return error_record(rec, problems + _rest_of(versions, rec), msg("batch.error.application"))
    try:
        if not own_history:
            refuse_own_history(rec.data)
        policy, claim, result = commit_record(
            versions, rec, target, base, replace, round_label, trace, verdicts, audit if target is real else None
        )
    except EngineError as err:
        return error_record(rec, claim_problems(rec, err), err.summary)
    except AlreadyCommitted as err:  # (what to do, in the words of the door the run came through: `replace_said`)
        return error_record(rec, [{**rec.where, "field": "claim_id", "message": err.through(replace_said)}], msg("batch.error.committed"))
    except LedgerBusyError:  # (held by another past its busy timeout: so would every application after it be)
        raise
    except LedgerError as err:
        return error_record(rec, [{**rec.where, "field": None, "message": _words(err)}], msg("batch.error.ledger"))
    except sqlite3.DatabaseError:  # the ledger's file failed (damaged, a disk error), not the application: every
        raise  # application after it would fail the same way, so the run stops and says it once (`ledger.database_failed`)
    except Exception as err:  # one bad application never sinks the batch
        internal = msg("batch.error.internal_detail", kind=type(err).__name__, detail=str(err))
        return error_record(rec, [{**rec.where, "field": None, "message": internal}], msg("batch.error.internal"))
    if target is real:
        if result.status == "committed":
            summary.committed += 1
        elif result.status == "replaced":
            summary.replaced += 1
            summary.replaced_ids.append(claim.claim_id)
            if real is not None and "replaces" in result.ledger:  # what finance recovers or pays: the difference
                before, after = real.granted_by_commit(int(result.ledger["replaces"])), real.granted_by_commit(result.seq)
                summary.replaced_totals.append((claim.claim_id, before, after))
                summary.left_rounds.add(real.round_of_commit(int(result.ledger["replaces"])))
        else:
            summary.already_committed += 1
    rounds.setdefault(result.round, {})[claim.funding_year] = policy
    dec_f.write(decision_line(result, rec.where, committed=target is real))
    if seen is not None:
        seen.append((claim.claim_id, result.round))
    return None


def decision_line(result: CommitResult, where: Mapping[str, Any], committed: bool) -> str:
    """A line of decisions.jsonl: the decision as committed, its `ledger` (when not `committed`: only its round and
    "not_committed"), then `input`, where it was read; `json.dumps` of that dict, and a newline, joined from the
    decision's text as `CommitResult.text_with` joins its ledger."""
    if not committed:  # (with the facts on record it was decided on, as a committed decision names them)
        on_record = result.ledger.get("facts_on_record")
        text = result.text_with({"round": result.round, "status": "not_committed", **({"facts_on_record": on_record} if on_record else {})})
    elif result.status == "already_committed":  # (the stored decision's member said "committed": a re-run's sheet
        text = result.text_with({**result.ledger, "status": "already_committed"})  # said 已记入台账 of every row)
    else:
        text = result.text
    return text[:-1] + ', "input": ' + json.dumps(where, ensure_ascii=False) + "}\n"


# --- scaling and the final pass ----------------------------------------------------


def scaling_says(policy: CompiledPolicy) -> dict[str, str]:
    """The scaling step's sentence in every language of the catalogue (`scaling_says`), with the policy's own wording if it overrides it."""
    from engine.explaining import render

    return {lang: str(render.Renderer(policy, lang).m["scaling_says"]) for lang in render.languages()}


def rounded_share(before: Decimal, record: Mapping[str, str]) -> str | None:
    """An item's exact share of its round's budget, before × budget ÷ approved total, rounded as the round's scaling
    rounded it before the remainder's quantum was given or taken (`Ledger.scale_round`, by the same `round_units`);
    None for a record without those figures."""
    try:
        figures = [Decimal(v).scaleb(2) for v in (before, record["budget"], record["approved_total"], record["quantum"])]
    except (KeyError, ArithmeticError, TypeError, ValueError):
        return None
    if any(not f.is_finite() or f != f.to_integral_value() for f in figures):
        return None
    cents, budget, total, quantum = (int(f) for f in figures)
    if total <= 0 or quantum <= 0:
        return None
    return format_money(Decimal(round_units(cents * budget, total * quantum, record.get("mode") or "floor") * quantum).scaleb(-2))


def apply_scaling(
    decision: dict[str, Any],
    record: dict[str, str],
    amounts: dict[str, tuple[Decimal, Decimal]],
    articles: Mapping[str, str] | None = None,
    says: Mapping[str, str] | None = None,
) -> None:
    """Show a round's scaling in one decision: each granted item's amount before and after, and the round's figures.

    `articles` (rule id -> article) lets the per-article totals follow the scaled amounts;
    `says` is the step's sentence by language (`scaling_says`).
    """
    said = dict(says or {})
    total = ZERO
    by_article = decision.get("totals_by_article") or {}
    for item in decision["items"]:
        if item["status"] in ("granted", "reduced") and item["item"] in amounts:
            after, before = amounts[item["item"]]
            entry = {"before": format_money(before), "after": format_money(after), "factor": record["factor"]}
            item["scaling"] = entry
            # the step (the trace) also keeps the share as rounded before the remainder: the explanation works the
            # amount out from the trace's own figures
            rounded = rounded_share(before, record)
            worked = {"rounded": rounded} if rounded is not None else {}
            item["amount"] = format_money(after)
            article = articles.get(item.get("rule", "")) if articles is not None else None
            if article in by_article:
                row = by_article[article]
                row["amount"] = format_money(Decimal(row["amount"]) - before + after)
            item.setdefault("steps", []).append(
                {"step": "scaling", **({"cites": record["cites"]} if "cites" in record else {}), **entry, **worked, "says": said}
            )
            total += after
        elif item["status"] in ("granted", "reduced"):
            total += Decimal(item["amount"])
    for g in decision.get("grants", []):
        if g["item_id"] in amounts:
            g["amount"] = format_money(amounts[g["item_id"]][0])
            for c in g.get("consumes", []):
                if "amount" in c:
                    c["amount"] = g["amount"]
    decision["total_before_scaling"] = decision["total"]
    decision["total"] = format_money(total)
    by_status = decision.get("totals_by_status", {})
    for s in ("granted", "reduced"):
        if s in by_status:
            by_status[s] = format_money(sum((Decimal(i["amount"]) for i in decision["items"] if i["status"] == s), ZERO))
    decision["scaling"] = {**record, "says": said}


ITEM_COLUMNS = [
    "claim_id",
    "applicant_id",
    "applicant_name",
    "funding_year",
    "item",
    "type",
    "type_zh",
    "rule",
    "article",
    "cites",
    "status",
    "asked",
    "amount",
    "before_scaling",
    "provisional_amount",
    "pending_at_most",  # a pending item's at most: the least room its ceilings have left (the budget's held back)
    "main_reason_zh",
    "main_reason_en",
    "missing_facts",
    "missing_documents",
]
APPLICATION_COLUMNS = [
    "claim_id",
    "applicant_id",
    "applicant_name",
    "funding_year",
    "items",
    *STATUSES,
    "total",
    "total_before_scaling",
    "ledger",
    "input",
]
BUDGET_COLUMNS = [
    "article",
    "item_type",
    "type_zh",
    "items",
    "approved",
    "approved_total",
    "incomplete",
    "held_incomplete",
    "pending_review",
    "held_pending_at_most",
    "refused",
    "referred",
]


MONEY_COLUMNS = (  # written as number cells in summary.xlsx
    "asked",
    "amount",
    "before_scaling",
    "provisional_amount",
    "pending_at_most",
    "total",
    "total_before_scaling",
    "approved_total",
    "held_incomplete",
    "held_pending_at_most",
)
STATUS_TOTAL_IS = {  # what a status's total in the budget view is
    "granted": "approved",
    "reduced": "approved",
    "refused": "",
    "incomplete": "held back (provisional)",
    "referred": "",
    "pending_review": "held back (at most)",
}


ERROR_COLUMNS = ["application", "claim_id", "applicant_id", "where", "field", "message", "expected"]


_STATUS_AT = ITEM_COLUMNS.index("status")
_DOCUMENTS_AT = ITEM_COLUMNS.index("missing_documents")
_FACTS_AT = ITEM_COLUMNS.index("missing_facts")
_LEDGER_AT = APPLICATION_COLUMNS.index("ledger")
#: what a decision's `ledger.status` can be (`Ledger.commit`, and a run that does not commit)
LEDGER_STATUSES = ("committed", "already_committed", "replaced", "not_committed")


def _reducing_cap(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """A reduced item's main reason in the summaries: the words of the first cap that cut it, the first of those its
    explanation's "why not more" lists (a reduced item has no refusal ground, and its row said nothing of the 30万
    cap that took half of it). A decision without its trace (`--no-trace`) records no cap's words: none then."""
    for step in item.get("steps") or ():
        if step.get("step") == "cap" and Decimal(step["granted"]) < Decimal(step["asked"]):
            says = step.get("says")
            return says if isinstance(says, Mapping) else {}
    return {}


def _scaled(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """A granted item's main reason in the summaries when the round's budget scaled it: the scaling step's sentence
    (its amount is less than the rule gives, and its row said nothing of why). Nothing for an unscaled item."""
    if "scaling" not in item:
        return {}
    for step in reversed(item.get("steps") or ()):
        if step.get("step") == "scaling":
            says = step.get("says")
            return says if isinstance(says, Mapping) else {}
    return {}


class SheetWords:
    """summary.xlsx in the run's language (`engine.core.i18n.language()`): its column headings, and in Chinese the
    statuses and the budget sheet's status table in words (English keeps the status codes, as the CSV files keep every code)."""

    def __init__(self, documents: Mapping[str, str] | None = None, facts: Mapping[str, str] | None = None) -> None:
        self.lang = language()
        self.said: dict[str, Any] = {}  # a status code's word (`status`), kept: a row's look-up is per item
        self.documents = dict(documents or {})  # a document code's name in the run's language
        self.facts = dict(facts or {})  # a missing fact's column heading (`item.patent_id` -> 专利号), in a Chinese run
        self.ledger = {s: lookup(f"sheet.ledger_status.{s}", self.lang) for s in LEDGER_STATUSES}

    def titles(self, columns: Sequence[str]) -> list[str]:
        return [lookup(f"sheet.columns.{c}", self.lang) for c in columns]

    def tab(self, sheet: str) -> str:
        """A sheet's tab in the run's language (English keeps the sheet's code, as the CSV files keep every code)."""
        return str(lookup(f"sheet.tabs.{sheet}", self.lang))

    def status(self, code: Any) -> Any:
        return lookup(f"status_short.{code}", self.lang) if self.lang != "en" and code in STATUS_TOTAL_IS else code

    def item_row(self, row: list[Any]) -> list[Any]:
        if self.lang == "en":
            return row
        at = _STATUS_AT
        code = row[at]
        word = self.said.get(code) if type(code) is str else None
        if word is None:
            word = self.status(code)
            if type(code) is str and len(self.said) < 64:  # (the statuses; a hand-edited file may have others)
                self.said[code] = word
        row = [*row[:at], word, *row[at + 1 :]]
        if row[_DOCUMENTS_AT]:  # codes joined by "; " (the CSV's cell): the documents' names
            names = self.documents
            row[_DOCUMENTS_AT] = "；".join([names.get(c, c) for c in row[_DOCUMENTS_AT].split("; ")])
        if row[_FACTS_AT]:  # the same for the facts: the headings an officer fills them under (codes were said)
            facts = self.facts
            row[_FACTS_AT] = "；".join([facts.get(c, c) for c in row[_FACTS_AT].split("; ")])
        return row

    def application_row(self, row: list[Any]) -> list[Any]:
        if row[_LEDGER_AT] not in self.ledger:  # (in English too: the status in words, not its code)
            return row
        return [*row[:_LEDGER_AT], self.ledger[row[_LEDGER_AT]], *row[_LEDGER_AT + 1 :]]

    def budget_row(self, row: list[Any]) -> list[Any]:
        """The budget sheet's total row (`budget_rows`: article `total`, no item type) headed in the run's language."""
        if self.lang != "en" and row[0] == "total" and not row[1]:  # (its 合计 under type_zh said once, in front)
            return [lookup("sheet.total_row", self.lang), "", "", *row[3:]]
        return row

    def status_row(self, row: list[Any]) -> list[Any]:
        if self.lang == "en" or not row:
            return row
        if row[0] == "status":  # the heading row of the status table
            heading = self.titles(["status", "items", "total"])
            return [heading[0], "", lookup("sheet.total_is", self.lang), heading[1], "", heading[2]]
        total_is = {"approved": "sheet.total_is_approved", "held back (provisional)": "sheet.total_is_provisional"}
        total_is["held back (at most)"] = "sheet.total_is_at_most"
        said = lookup(total_is[row[2]], self.lang) if row[2] in total_is else row[2]
        return [self.status(row[0]), row[1], said, *row[3:]]


def status_rows(summary: BatchSummary) -> list[list[Any]]:
    """The totals by status, after the budget sheet's total row: a blank row, a heading row, then one row per status
    (its item count under `items`, its total under `approved_total`: approved for granted and reduced, held back
    for incomplete and pending review, nothing for refused and referred)."""
    rows: list[list[Any]] = [[], ["status", "", "total is", "items", "", "total"]]
    for s, v in summary.by_status.items():
        rows.append([s, "", STATUS_TOTAL_IS.get(s, ""), v.count, None, format_money(v.total)])
    return rows


REPORT_LIMIT = 10_000  # the HTML report holds every application on one page (and in memory): larger rounds skip it


def _slim(d: dict[str, Any]) -> None:
    """Cut a decision already drawn in the report down to what the report's index row shows (in place).

    The renderer keeps every decision until the page is written; its explanation is drawn as soon as it
    is read, and the index needs only the applicant, claim id, item count and totals.
    """
    app = d.get("applicant") or {}
    kept = {
        "applicant": {k: app.get(k) for k in ("id", "name", "kind")},
        "claim_id": d.get("claim_id"),
        "items": [None] * len(d.get("items") or ()),
        "total": d.get("total"),
        **({"total_before_scaling": d["total_before_scaling"]} if "total_before_scaling" in d else {}),
    }
    d.clear()
    d.update(kept)


def _report_errors(out: Path, headings: Mapping[str, Any]) -> Iterator[Any]:
    """The report's rows of the applications that got no decision (errors.jsonl), in order (`report_error`)."""
    with open(out / "errors.jsonl", encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            yield report_error(e, {lang: where_text(e["where"], lang) for lang in languages()}, headings)


def write_html_report(policy: CompiledPolicy | PolicySet, out: Path, summary: BatchSummary, lang: str = "zh") -> str | None:
    """The reviewers' HTML report (engine.explaining.render), from decisions.jsonl and errors.jsonl; None when unavailable or too large.

    A batch run draws it in its final pass instead (`_Outputs`), each decision as it reads it: the same page."""
    try:
        from engine.explaining import render
    except ImportError:  # pragma: no cover - the renderer is part of the package
        return None
    if summary.applications > REPORT_LIMIT:
        return None
    versions = policy if isinstance(policy, PolicySet) else PolicySet((policy,))
    many = len(versions.versions) > 1
    page = render.ReportPage(versions.newest, lang, policy_for=versions.for_decision if many else None, spool=True)
    with open(out / "decisions.jsonl", encoding="utf-8") as f:
        for line in f:
            d = _decoded(line)[0]
            page.add(d)  # drawn (its explanation rendered to a string) before the next one is read
            _slim(d)
    for e in _report_errors(out, headings_of(versions)):
        page.add(e)
    path = out / "report.html"
    page.write(path)
    return str(path)


def _articles(policy: CompiledPolicy) -> dict[str, str]:
    return {r.id: (policy.clauses[r.cites].article if r.cites in policy.clauses else r.cites) for r in policy.rules}


class _Outputs:
    """Every output made from the decisions' lines -- decisions.jsonl, both summary CSVs, summary.xlsx, the
    totals of `summary` and report.html -- one line at a time (`line`), each line read once for all of them, and
    the rest when every line is in (`finish`). A decision's explanation is drawn into the report as its line is
    read; the page around them is written at the end (`ReportPage`: the same page as drawing it from
    decisions.jsonl afterwards)."""

    def __init__(
        self,
        versions: PolicySet,
        out: Path,
        target: Ledger | None,
        scaled: dict[str, dict[str, str]],
        summary: BatchSummary,
        report: bool,
        report_lang: str,
    ) -> None:
        self.versions, self.out, self.target, self.scaled, self.summary = versions, out, target, scaled, summary
        self.by_version = {v.content_hash: _articles(v) for v in versions.versions}  # a rule's article, in the version that decided
        self.says = {v.content_hash: scaling_says(v) for v in versions.versions} if scaled else {}
        self.labels: dict[str, str] = {}
        self.headings: dict[str, Text] = {}  # a column's words, for the field an error names (as its input's heading)
        documents: dict[str, str] = {}
        for v in versions.versions:  # oldest first: the newest wording wins
            self.labels.update({k: t.zh for k, t in v.item_type_labels.items()})
            self.headings.update(Columns(v).headings())
            documents.update({k: t.zh for k, t in v.documents.items()})  # (said only in a Chinese run)
        self.items_csv = CsvOut(out / "summary_items.csv", ITEM_COLUMNS)
        self.apps_csv = CsvOut(out / "summary_applications.csv", APPLICATION_COLUMNS)
        self.xlsx = xlsx = XlsxOut(out / "summary.xlsx")
        self.words = words = SheetWords(documents, {code: heading.zh for code, heading in self.headings.items()})
        xlsx.sheet(
            "applications",
            APPLICATION_COLUMNS,
            money=MONEY_COLUMNS,
            titles=words.titles(APPLICATION_COLUMNS),
            tab=words.tab("applications"),
        )
        xlsx.sheet("items", ITEM_COLUMNS, money=MONEY_COLUMNS, titles=words.titles(ITEM_COLUMNS), tab=words.tab("items"))
        # unscaled, a line is already the decision's JSON text (json.dumps of json.loads of json.dumps' text is that
        # text): with no round scaled, decisions.jsonl is the decisions' file itself (`finish`), else written here
        self.dst = open(out / "decisions.jsonl", "w", encoding="utf-8", errors="backslashreplace") if scaled else None
        self.report = report
        self.page: Any = None  # the report being drawn (render.ReportPage), None when none is
        self.pool: _OutputPool | None = None  # processes making the outputs of each line (`use_pool`), if any
        self.raw_path: Path | None = None  # decisions.partial.jsonl, where lines sent by `span` are read
        self.source: IO[bytes] | None = None  # it, opened to read them
        self.drawn = 0
        self.written = 0  # decisions whose outputs are written
        #: told `written` each time it grows (the outputs step's progress bar: `_final_pass`, `_outputs_process`)
        self.on_written: Callable[[int], None] | None = None
        #: the merge of a round on workers stopped writing what they made (`ScalingAhead`): made after deciding
        self.abandoned = False
        #: the scaling the workers foresaw and made these outputs with (`batch --workers` with a round budget)
        self.foreseen: Foreseen | None = None
        #: each merged decision's (claim id, round), in order, as the merge wrote them (None: `agrees` reads them back
        #: from decisions.partial.jsonl, a second pass over every line after the bar)
        self.merged_claims: list[tuple[str, str]] | None = None
        self.failed: Exception | None = None  # why the report could not be drawn
        if report:
            try:
                from engine.explaining import render

                many = len(versions.versions) > 1
                self.page = render.ReportPage(versions.newest, report_lang, policy_for=versions.for_decision if many else None, spool=True)
            except Exception as exc:  # a report that cannot be drawn must not lose the decisions
                self.failed = exc

    def _draw(self, entry: Any, body: str | bytes | None = None) -> None:
        try:
            self.page.add(entry, body)
        except Exception as exc:  # a report that cannot be drawn must not lose the decisions
            self.failed, self.page = exc, None

    def agrees(self, scaled: dict[str, dict[str, str]], target: Ledger, raw_path: Path) -> bool:
        """Whether outputs merged from the workers (`batch --workers`) are what the run's rounds need, once every
        round is scaled (`scaled`, in `target`): nothing scaled and nothing foreseen, or exactly the scaling the
        workers foresaw (the same rounds' records, and for each decision of a scaled round, in order, the same grants
        of its claim: as `_EarlyOutputs.agrees` holds the outputs made while deciding on one process)."""
        foreseen = self.foreseen
        if foreseen is None:
            return not scaled
        if foreseen.records != scaled:
            return False
        claims = self.merged_claims if self.merged_claims is not None else _claims_and_rounds(raw_path)
        return foreseen.digest == scaled_grants_digest(target, claims, scaled)

    def drop_report(self) -> None:
        """No report is drawn after all (the merge of a round on workers over `REPORT_LIMIT`: `finish` says so)."""
        if self.page is not None and self.page.spool is not None:
            self.page.spool.close()
        self.page = None

    def discard(self) -> None:
        """What was made is not wanted (a budget scaled the round after it was made): its files closed as they
        are, for `_final_pass` to write again."""
        self.stop_pool()
        for f in self._open_files():
            f.close()

    def _open_files(self) -> list[IO[Any]]:
        """The files this writes as lines come: the CSVs, the workbook's spooled sheets, decisions.jsonl (when it
        writes it) and the report's spool."""
        files = [self.items_csv.f, self.apps_csv.f, *self.xlsx.sheets.values(), self.dst, self.page and self.page.spool]
        return [f for f in files if f is not None]

    def stop_pool(self) -> None:
        if self.pool is not None:
            self.pool.stop()
            self.pool = None
        if self.source is not None:
            self.source.close()
            self.source = None

    def _pool_died(self) -> None:
        """An outputs' process ended without what it owed: the run makes every line still owed, in order, itself
        (each as `line` would have, its place in the report counted: scaled and written to decisions.jsonl here)."""
        pool = self.pool
        assert pool is not None
        self.pool = None
        pool.stop()
        self.summary.warnings.append(msg("batch.report.process_died"))
        for line, place, _ in pool.owed():
            self._use(self._read(self._line(line))[0], place)

    def _line(self, line: str | tuple[int, int]) -> str:
        """A decision line sent to the pool: itself, or read from where it is in decisions.partial.jsonl."""
        if isinstance(line, str):
            return line
        if self.source is None:
            assert self.raw_path is not None  # (`use_pool` was given it)
            self.source = open(self.raw_path, "rb")  # closed by `stop_pool`
        self.source.seek(line[0])
        return self.source.read(line[1]).decode("utf-8")

    def line(self, line: str) -> None:
        """One decision's line (of decisions.partial.jsonl): its rows, totals, line of decisions.jsonl and report
        entry, made here (without the pool: `span` sends a line to it)."""
        assert self.pool is None
        d = self._read(line)[0]
        self._use(d, self._counted())

    def span(self, at: int, size: int, scaling: _Scaling | None = None) -> None:
        """`line` of the decision line at bytes `at`..`at + size` of decisions.partial.jsonl, with the pool
        (`use_pool`): its outputs' process reads it there, and scales it by `scaling` (`scaling_of`), and the run
        writes its line of decisions.jsonl when the process's answer comes back (the run does not read it at all)."""
        self._send((at, size), scaling)

    def scaling_of(self, line: bytes) -> _Scaling | None:
        """What an outputs' process needs to scale a decision line as `_read` would: its round and its claim's grants
        in the ledger (this process's: a scratch ledger is in its memory). None when its round is not scaled. The
        line is read only for its claim id and round (`_claim_and_round`)."""
        claim_id, rnd = _claim_and_round(line)
        if rnd not in self.scaled:
            return None
        assert self.target is not None  # a round is scaled in the ledger its grants are in
        return rnd, self.target.claim_grant_amounts(claim_id)

    def _send(self, line: str | tuple[int, int], scaling: _Scaling | None = None) -> None:
        if self.pool is None:  # it ended (`_pool_died`): the run makes the rest itself
            self._use(self._read(self._line(line))[0], self._counted())
            return
        try:
            self.pool.put((line, self._counted(), scaling), self._take)
        except _PoolDied:
            self._pool_died()

    def _read(self, line: str) -> tuple[dict[str, Any], str]:
        """A decision's line read, scaled if its round was, and written to decisions.jsonl (when that is written)."""
        d, by_msgspec = _decoded(line)
        rnd = d.get("ledger", {}).get("round", "")
        if rnd in self.scaled:
            assert self.target is not None  # a round is scaled in the ledger its grants are in
            line = self._scaled(d, (rnd, self.target.claim_grant_amounts(d["claim_id"])), by_msgspec)
        if self.dst is not None:
            self.dst.write(line)
        return d, line

    def _scaled(self, d: dict[str, Any], scaling: _Scaling, by_msgspec: bool) -> str:
        """The decision `d` scaled in place by its round's record and its claim's grants (`scaling`); its new line
        (`by_msgspec`: as `_decoded` says of `d`)."""
        versions = self.versions
        apply_scaling(
            d,
            self.scaled[scaling[0]],
            scaling[1],
            self.by_version.get(d.get("policy", {}).get("hash")) or _articles(versions.for_decision(d)),
            self.says.get(d.get("policy", {}).get("hash")) or scaling_says(versions.for_decision(d)),
        )
        return _line_text(d, by_msgspec)

    def _counted(self) -> int:
        """The next decision's place in the report (its anchor `app-<n>`), 0 when it gets none: no report, a report
        that failed, or more decisions than a report holds (the report is then given up)."""
        if self.page is None:
            return 0
        self.drawn += 1
        if self.drawn > REPORT_LIMIT:  # too many for one page: no report (`finish` says so)
            self.page = None
            return 0
        return self.drawn

    def _use(self, d: dict[str, Any], drawn: int) -> None:
        """A decision's rows and totals, and its explanation drawn into the report (`drawn`: its place, 0 for none)."""
        items, app_row = self._rows(d, self.summary)
        words, items_csv, xlsx = self.words, self.items_csv, self.xlsx
        for row in items:
            items_csv.row(row)
            xlsx.row("items", words.item_row(row))
        self.apps_csv.row(app_row)
        xlsx.row("applications", words.application_row(app_row))
        if drawn and self.page is not None:
            self._draw(d)
            _slim(d)
        self._wrote(1)

    def _wrote(self, n: int) -> None:
        self.written += n
        if self.on_written is not None:
            self.on_written(self.written)

    def _rows(self, d: dict[str, Any], summary: BatchSummary) -> tuple[list[list[Any]], list[Any]]:
        """A decision's item rows and application row (of the CSVs; the workbook's in its words), its items counted
        into `summary`'s totals."""
        articles = self.by_version.get(d.get("policy", {}).get("hash")) or _articles(self.versions.for_decision(d))
        A = d["applicant"]
        counts = dict.fromkeys(STATUSES, 0)
        labels = self.labels
        rows = []
        for it in d["items"]:
            summary.items += 1
            status = it["status"]
            counts[status] += 1
            amount = Decimal(it["amount"])
            held = ZERO
            if status == "incomplete":
                held = Decimal(it.get("provisional_amount", "0"))
                summary.held_incomplete += held
            elif status == "pending_review":
                # the room each ceiling has left (a record written before the room was recorded: the ceiling)
                ceilings = [Decimal(c.get("remaining", c["ceiling"])) for c in it.get("ceilings", [])]
                held = min(ceilings) if ceilings else ZERO
                summary.held_pending += held
            if status in ("granted", "reduced"):
                summary.approved_total += amount
            summary.add_item(articles.get(it["rule"], ""), it["type"], status, amount if status in ("granted", "reduced") else held)
            main = it["reasons"][0]["says"] if it.get("reasons") else _reducing_cap(it) if status == "reduced" else _scaled(it)
            rows.append(
                [
                    d["claim_id"],
                    A.get("id"),
                    A.get("name"),
                    d.get("funding_year"),
                    it["item"],
                    it["type"],
                    labels.get(it["type"]),
                    it["rule"],
                    articles.get(it["rule"]),
                    " ".join(it.get("cites", [])),
                    status,
                    it.get("asked"),
                    it["amount"],
                    it.get("scaling", {}).get("before"),
                    it.get("provisional_amount"),
                    format_money(held) if status == "pending_review" else None,
                    main.get("zh"),
                    main.get("en"),
                    "; ".join(it.get("missing_facts", [])),
                    "; ".join(it.get("missing_documents", [])),
                ]
            )
        app_row = [
            d["claim_id"],
            A.get("id"),
            A.get("name"),
            d.get("funding_year"),
            len(d["items"]),
            *[counts[s] for s in STATUSES],
            d["total"],
            d.get("total_before_scaling"),
            d.get("ledger", {}).get("status"),
            where_text(d.get("input", {})),
        ]
        return rows, app_row

    def made(self, chunk: Sequence[_PoolItem], unplaced: bool = False) -> _Made:
        """On an outputs' process (`_OutputPool`): what `_use` would do with each (decision line, place in the report,
        scaling) of `chunk`, made as text for the run to write in its place (`_take`): the CSVs' rows, the workbook's
        rows (cut where their row numbers go), each explanation drawn with its index row's data, and the totals; and
        in a run with a scaled round, each line of decisions.jsonl (scaled by `_scaled` where `scaling` says).
        `unplaced` (on a deciding worker, `batch --workers`): each place is only whether to draw; the explanation's
        anchor is `UNPLACED`, which `placed` sets when the run knows the place."""
        part = BatchSummary()
        items_csv, apps_csv = CsvRows(), CsvRows()
        sheets: list[tuple[str, list[bytes] | tuple[Any, ...]]] = []
        drawn: list[tuple[dict[str, Any], bytes | str | Exception]] = []
        words, xlsx, page = self.words, self.xlsx, self.page
        lines: list[str] = []
        for where, place, scaling in chunk:
            line = self._line(where)
            d, by_msgspec = _decoded(line)
            if self.dst is not None:  # (a run with a round scaled: it writes decisions.jsonl)
                lines.append(self._scaled(d, scaling, by_msgspec) if scaling is not None else line)
            items, app_row = self._rows(d, part)
            for row in items:
                items_csv.row(row)
                sheets.append(("items", xlsx.parts("items", words.item_row(row))))
            apps_csv.row(app_row)
            sheets.append(("applications", xlsx.parts("applications", words.application_row(app_row))))
            if place and page is not None:
                try:
                    body = str(page.draw(d, UNPLACED if unplaced else f"app-{place}"))
                except Exception as exc:  # the run fails the report with it, as if drawn there
                    drawn.append(({}, exc))
                    page = None
                    continue
                try:
                    drawn.append((_index_row(d), body.encode("utf-8")))  # the bytes the page's spool keeps
                except UnicodeEncodeError:  # no UTF-8 file can hold it: the run's page fails with it as always
                    drawn.append((_index_row(d), body))
        return _Made(items_csv.done(), apps_csv.done(), sheets, drawn, part, lines, len(chunk))

    def placed(self, line: str, made: _Made | None) -> None:
        """A decision line merged in input order (`batch --workers`) with what its worker made of it (`made`, drawn
        `unplaced`): written in its place, its explanation's anchor set to its place in the report. Made here
        when its worker could not (None), or drew no explanation where the report holds one."""
        place = self._counted()
        if made is None or (place and self.page is not None and not made.drawn):
            if self.dst is not None:  # (made with a foreseen scaling: this process has no ledger to scale it by)
                self.abandoned = True  # every output is made after deciding instead
                return
            self._use(_decoded(line)[0], place)
            return
        if place and made.drawn:
            # `id="` never stands in an explanation's text (a quote there is escaped): only before its anchor
            entry, body = made.drawn[0]
            here = f' id="app-{place}'
            if isinstance(body, bytes):
                made.drawn[0] = (entry, body.replace(_UNPLACED_ID, here.encode()))
            elif isinstance(body, str):
                made.drawn[0] = (entry, body.replace(_UNPLACED_ID.decode(), here))
        self._take(made)

    def _take(self, made: _Made) -> None:
        """What an outputs' process made of a chunk of lines (`made`), written in its place."""
        if self.dst is not None:
            self.dst.writelines(made.lines)
        self.items_csv.take(made.items_csv)
        self.apps_csv.take(made.apps_csv)
        xlsx = self.xlsx
        for sheet, row in made.sheets:
            xlsx.put(sheet, row)
        for entry, body in made.drawn:
            if self.page is None:
                break
            if isinstance(body, Exception):
                self.failed, self.page = body, None
                break
            self._draw(entry, body)
            _slim(entry)
        self.summary.add_part(made.part)
        self._wrote(made.decisions)

    def use_pool(self, processes: int, streams: Sequence[IO[str]] = (), source: Path | None = None) -> None:
        """Make the outputs of each line on `processes` forked processes (`_OutputPool`) where that can be done:
        `fork`, no other thread in this process, and no report or one with the engine's own templates (a spooled
        page: a policy's own templates are drawn here, under their render budget). `source`: decisions.partial.jsonl,
        where the processes read the lines given by `span`."""
        self.raw_path = source
        if processes > 1 and (self.page is None or self.page.spool is not None):
            for f in self._open_files():
                f.flush()  # (a copy of what a buffer holds would be written again by the process)
            self.pool = _OutputPool.start(self, processes, streams)

    def _pool_done(self) -> None:
        """Every line still owed by the pool, written in order; the pool ended."""
        if self.pool is None:
            return
        try:
            self.pool.drain(self._take)
        except _PoolDied:
            self._pool_died()
        self.stop_pool()

    # long because: the steps after the last line in order (the decisions' file, the CSVs, the workbook's budget and
    # errors sheets, its warnings, the report's error rows and page), each said as it starts.
    def finish(self, raw_path: Path, steps: Steps, keep_raw: bool = False) -> None:
        """Every line is in: close the CSVs, write the workbook's last sheets and the report. `keep_raw`: leave
        decisions.partial.jsonl for the caller (to make decisions.jsonl of, with none scaled; or to remove)."""
        summary, out, xlsx, words = self.summary, self.out, self.xlsx, self.words
        self._pool_done()
        if self.dst is not None:
            self.dst.close()
            if not keep_raw:
                raw_path.unlink()
        elif not keep_raw:
            os.replace(raw_path, out / "decisions.jsonl")
        self.items_csv.close()
        self.apps_csv.close()
        steps.start(msg("batch.step.workbook"))
        xlsx.sheet(
            "budget", BUDGET_COLUMNS, money=MONEY_COLUMNS, titles=words.titles(BUDGET_COLUMNS), autofilter=False, tab=words.tab("budget")
        )
        for row in budget_rows(summary, self.labels):
            xlsx.row("budget", words.budget_row(row))
        for row in status_rows(summary):
            xlsx.row("budget", words.status_row(row))
        xlsx.sheet("errors", ERROR_COLUMNS, titles=words.titles(ERROR_COLUMNS), tab=words.tab("errors"))
        with open(out / "errors.jsonl", encoding="utf-8") as ef:
            for line in ef:
                e = json.loads(line)
                _, problems = in_language(e, language())  # the run's language
                for p in problems or [{}]:  # (as the console says it: `problem_said`)
                    cells = problem_cells(p, e, self.headings, language())
                    xlsx.row("errors", [e["application"], e.get("claim_id"), e.get("applicant_id"), *cells])
        xlsx.close()
        for name, writer in (("summary_items.csv", self.items_csv), ("summary_applications.csv", self.apps_csv), ("summary.xlsx", xlsx)):
            said = writer.altered.says(name)
            if said is not None:
                summary.warnings.append(said)
        summary.outputs.update(
            decisions=str(out / "decisions.jsonl"),
            errors=str(out / "errors.jsonl"),
            summary_items_csv=str(out / "summary_items.csv"),
            summary_applications_csv=str(out / "summary_applications.csv"),
            summary_xlsx=str(out / "summary.xlsx"),
        )
        if not self.report:
            summary.report = msg("batch.report.not_drawn")
            return
        if summary.applications > REPORT_LIMIT:
            summary.report = msg("batch.report.too_many", n=summary.applications, most=REPORT_LIMIT)
            return
        steps.start(msg("batch.step.report", n=summary.applications))
        if self.page is not None:
            for entry in _report_errors(out, self.headings):
                self._draw(entry)
                if self.page is None:
                    break
        if self.page is not None:
            try:
                self.page.write(out / "report.html")
            except Exception as exc:  # a report that cannot be drawn must not lose the decisions
                self.failed = exc
            else:
                summary.outputs["report"] = str(out / "report.html")
                summary.report = msg("batch.report.written")
                return
        failed = self.failed
        assert failed is not None  # no page: it failed (too many applications returned above)
        summary.outputs["report_error"] = f"{type(failed).__name__}: {failed}"
        summary.report = msg("batch.report.failed", kind=type(failed).__name__, detail=str(failed))


def _final_pass(
    versions: PolicySet,
    out: Path,
    raw_path: Path,
    target: Ledger,
    scaled: dict[str, dict[str, str]],
    summary: BatchSummary,
    report: bool = True,
    steps: Steps | None = None,
    report_lang: str = "zh",
    streams: Sequence[IO[str]] = (),
    processes: int | None = None,
) -> None:
    """The outputs after deciding: every line of decisions.partial.jsonl through `_Outputs`, made on
    `output_processes(processes)` forked processes (`_OutputPool`) for a round of more than `POOL_FROM` decisions
    where that can be done, else in this process."""
    steps = steps if steps is not None else Steps(sys.stderr, False)
    steps.start(msg("batch.step.outputs", n=summary.decided))
    outputs = _Outputs(versions, out, target, scaled, summary, report, report_lang)
    outputs.on_written = lambda n: steps.progress(n, summary.decided, "batch.progress.decisions")
    if summary.decided > POOL_FROM:
        outputs.use_pool(output_processes(processes), streams, raw_path)
    try:
        if outputs.pool is not None:  # the lines are read (and scaled) by the pool's processes: only where they are
            with open(raw_path, "rb") as raw:
                at = 0
                for line_bytes in raw:
                    outputs.span(at, len(line_bytes), outputs.scaling_of(line_bytes) if scaled else None)
                    at += len(line_bytes)
        else:
            with open(raw_path, encoding="utf-8") as src:
                for line in src:
                    outputs.line(line)
        outputs.finish(raw_path, steps)
    finally:
        outputs.stop_pool()


def worker_outputs(versions: PolicySet, folder: Path, report: bool, report_lang: str, foreseen: Foreseen | None = None) -> _Outputs | None:
    """A deciding worker's copy of the run's outputs (`batch --workers`), over files of its own in `folder` that
    nothing writes: what it makes of each decision it writes (`_Outputs.made`, unplaced) the run's merge writes in
    its place (`_Outputs.placed`). None when the run makes every output: a report drawn with the policy's own
    templates (drawn by the run alone, under their render budget, as `_Outputs.use_pool` does). `foreseen`: the
    round budget's scaling foreseen before deciding; each decision of a scaled round is then made scaled so (its
    line of decisions.jsonl too), given its claim's foreseen grants (`Foreseen.scaling`)."""
    mine = _Outputs(versions, folder, None, foreseen.records if foreseen else {}, BatchSummary(), report, report_lang)
    if mine.page is not None and mine.page.spool is None:
        return None
    return mine


#: the anchor of an explanation drawn before its place in the report is known (on a deciding worker), and how it
#: begins its section's and items' `id` attributes, where `_Outputs.placed` puts the place in
UNPLACED = "app-unplaced"
_UNPLACED_ID = f' id="{UNPLACED}'.encode()

#: how an outputs' process scales a decision line of a scaled round (`_Outputs.scaling_of`): the round, and the
#: claim's grants in the ledger (item id -> amount now, amount before scaling)
_Scaling = tuple[str, dict[str, Any]]
#: what an outputs' process is sent per decision: its line (or where it is in decisions.partial.jsonl), its place in
#: the report (0: none), and its scaling (None: its round is not scaled)
_PoolItem = tuple[str | tuple[int, int], int, _Scaling | None]


class _Round(msgspec.Struct):
    round: str = ""


class _LedgerRound(msgspec.Struct):
    """What `_Outputs.scaling_of` reads of a decision line: its claim id and its ledger round."""

    claim_id: Any = None
    ledger: _Round | None = None


_LEDGER_ROUND = msgspec.json.Decoder(_LedgerRound)


def _claim_and_round(line: bytes) -> tuple[Any, str]:
    """A decision line's claim id and ledger round: read by msgspec, which skips the rest of the line; by json when
    msgspec refuses the line (an escaped lone surrogate: the name of an input file that is not UTF-8, say)."""
    try:
        where = _LEDGER_ROUND.decode(line)
    except (msgspec.DecodeError, ValueError):
        d = json.loads(line)
        return d.get("claim_id"), (d.get("ledger") or {}).get("round", "")
    return where.claim_id, where.ledger.round if where.ledger is not None else ""


class _FloatInLine(Exception):
    """A decision line holds a number with a fraction or exponent (`_decoded`)."""


def _no_float(text: str) -> Any:
    raise _FloatInLine(text)


#: a decision line's tree, as `json.loads` makes it, but refusing floats (`_decoded`)
_TREE = msgspec.json.Decoder(float_hook=_no_float)
_TREE_TEXT = msgspec.json.Encoder()


def _decoded(line: str) -> tuple[dict[str, Any], bool]:
    """`json.loads(line)`, and whether `_line_text` may write the tree with msgspec. A decision line of 30 KB is
    read by msgspec in ~60 % of json.loads' time, into the same tree: the same types (integers of any size), the
    same texts, the last of a repeated key. A float (msgspec writes `1e16` where json.dumps writes `1e+16`), a
    lone surrogate (escaped, or in a line handed over as text) or `NaN`, which msgspec refuses, leaves the line to
    json.loads and its tree to json.dumps."""
    try:
        return _TREE.decode(line), True
    except (msgspec.DecodeError, _FloatInLine, UnicodeEncodeError):
        return json.loads(line), False


def _line_text(d: dict[str, Any], by_msgspec: bool) -> str:
    """A line of decisions.jsonl: `json.dumps(d, ensure_ascii=False)` and its newline. For a tree `_decoded` read
    with msgspec (no float in it) and then given only texts, lists and dicts (`apply_scaling`), msgspec's text with
    json.dumps' separators (`format`, indent 0) is that text, in ~40 % of its time: every character is escaped
    alike (tests/test_batch_outputs.py holds all of them), and integers of any size are written alike."""
    if by_msgspec:
        try:
            return msgspec.json.format(_TREE_TEXT.encode(d), indent=0).decode("utf-8") + "\n"
        except (TypeError, UnicodeEncodeError, msgspec.EncodeError):  # (a lone surrogate: json.dumps writes it)
            pass
    return json.dumps(d, ensure_ascii=False, check_circular=False) + "\n"  # (a tree json.loads made: no cycle)


#: a round of more decisions than this makes its outputs on processes after deciding (`_OutputPool`)
POOL_FROM = 200
#: the most processes a round's outputs are made on by default (one per core)
OUTPUT_PROCESSES = 4


def output_processes(chosen: int | None = None) -> int:
    """How many processes make a round's outputs after deciding: `chosen` (`batch --output-processes N`; 0 or 1:
    the run makes them itself), else one per core this process may use (at most 4); 0 on a single core."""
    if chosen is not None:
        return chosen if chosen > 1 else 0
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return min(cores, OUTPUT_PROCESSES) if cores > 1 else 0


class _PoolDied(Exception):
    """An `_OutputPool` process ended (killed, out of memory), its pipe broke, or it could not make a chunk."""


#: decision lines sent to an outputs' process at a time; one chunk in flight per process (bounds the decisions held).
#: Never two: a chunk and a process's answer are both larger than a pipe holds, so the run sending a second chunk
#: while the process sends its answer to the first would wait on each other forever.
POOL_CHUNK = 16


def _fork_context(streams: Sequence[IO[str]]) -> Any:
    """The `fork` context for a process of the outputs, with `streams` flushed; None where forking is not safe.

    A process with other threads (an embedding program's; the service runs each round in a process of its own,
    engine.service.roundjob) is not forked: a lock another thread holds would stay held in the copy. What is still
    buffered in `streams` would be written twice (the child flushes them as it ends), so they are flushed first."""
    import multiprocessing
    import threading

    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return None
    for stream in streams:
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    return multiprocessing.get_context("fork")


@dataclass
class _Made:
    """What an outputs' process made of a chunk of decision lines (`_Outputs.made`), for `_Outputs._take`."""

    items_csv: list[tuple[bytes, int] | list[Any]]  # `CsvRows.done` of summary_items.csv
    apps_csv: list[tuple[bytes, int] | list[Any]]  # and of summary_applications.csv
    sheets: list[tuple[str, list[bytes] | tuple[Any, ...]]]  # (sheet, `XlsxOut.parts`) in the order written
    drawn: list[tuple[dict[str, Any], bytes | str | Exception]]  # (index row's data, explanation), or what stopped them
    part: BatchSummary  # the chunk's totals
    lines: list[str] = field(default_factory=list)  # its lines of decisions.jsonl, when the run writes that (a round scaled)
    decisions: int = 0  # how many decision lines the chunk had

    def failure_in_words(self) -> bool:
        """Its last explanation's exception (one that cannot be pickled) put as its words; False if it has none."""
        failed = self.drawn[-1][1] if self.drawn else None
        if not isinstance(failed, Exception):
            return False
        self.drawn[-1] = ({}, RuntimeError(f"{type(failed).__name__}: {failed}"))
        return True


def _index_row(d: Mapping[str, Any]) -> dict[str, Any]:
    """What `ReportPage.add` reads of a decision whose explanation is given (its index row: `_slim`'s keys, and the
    statuses, standing and scaling its flags are made of): sent in place of the whole decision."""
    row = {k: d[k] for k in ("applicant", "claim_id", "total", "total_before_scaling", "counts_by_status", "standing", "scaling") if k in d}
    row["items"] = [None] * len(d.get("items") or ())
    return row


class _OutputPool:
    """A round's outputs made on forked processes after deciding, in order (`_Outputs.use_pool`).

    Each process has a copy of the run's `_Outputs` (the versions, words, workbook's columns and report page) and a
    pipe: it is sent chunks of (decision line, place in the report) and sends back what `_Outputs.made` made of
    them -- the CSVs' and the workbook's rows as text, each explanation drawn, the chunk's totals -- which the run
    writes in its place (`_Outputs._take`), so each line is read once, on one process. Chunks go to the processes
    in turn and are read back in the same turn, so everything comes back in the decisions' order; one chunk per
    process is in flight, so memory is bounded whatever the round's size. A process that dies, or cannot make a
    chunk, is `_PoolDied`: the run makes what it owed itself and says so (batch.report.process_died); nothing is
    left out."""

    def __init__(self, processes: list[Any], conns: list[Any]) -> None:
        self.processes, self.conns = processes, conns
        self.chunk: list[_PoolItem] = []  # (line or where it is, place, scaling) not yet sent
        self.sent: collections.deque[tuple[int, list[_PoolItem]]] = collections.deque()  # (process, chunk)
        self.turn = 0

    @classmethod
    def start(cls, outputs: _Outputs, n: int, streams: Sequence[IO[str]]) -> _OutputPool | None:
        ctx = _fork_context(streams)
        if ctx is None:
            return None
        processes: list[Any] = []
        conns: list[Any] = []
        try:
            for _ in range(n):
                here, there = ctx.Pipe()
                process = ctx.Process(target=_pool_process, args=(there, here, conns[:], outputs), daemon=True)
                process.start()
                there.close()
                processes.append(process)
                conns.append(here)
        except OSError:
            cls(processes, conns).stop()
            return None
        return cls(processes, conns)

    def put(self, item: _PoolItem, take: Callable[[_Made], None]) -> None:
        self.chunk.append(item)
        if len(self.chunk) >= POOL_CHUNK:
            self._send(take)

    def drain(self, take: Callable[[_Made], None]) -> None:
        if self.chunk:
            self._send(take)
        while self.sent:
            self._receive(take)

    def owed(self) -> list[_PoolItem]:
        """The lines sent or waiting whose outputs did not come back, in order."""
        out = [item for _, chunk in self.sent for item in chunk] + self.chunk
        self.sent.clear()
        self.chunk = []
        return out

    def _send(self, take: Callable[[_Made], None]) -> None:
        """The chunk sent to the next process in turn, once that process's answer to its last chunk is taken (never
        two in flight to one process: see POOL_CHUNK; the last, short chunk too)."""
        if len(self.sent) >= len(self.conns):
            self._receive(take)
        k = self.turn
        try:
            self.conns[k].send(self.chunk)
        except (OSError, ValueError) as exc:
            raise _PoolDied() from exc
        self.sent.append((k, self.chunk))
        self.chunk = []
        self.turn = (k + 1) % len(self.conns)

    def _receive(self, take: Callable[[_Made], None]) -> None:
        k = self.sent[0][0]
        try:
            made = self.conns[k].recv()
        except (EOFError, OSError) as exc:
            raise _PoolDied() from exc
        if not isinstance(made, _Made):  # the process could not make the chunk (it said so and ended)
            raise _PoolDied()
        self.sent.popleft()
        take(made)

    def stop(self) -> None:
        # (closed, not sent None: a process that is itself sending a large answer would never read it, and the send
        # would wait forever; on its closed pipe a process's `recv` ends, and its `send` fails, and it returns)
        for conn in self.conns:
            conn.close()
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()


def _pool_process(conn: Any, other: Any, others: list[Any], outputs: _Outputs) -> None:
    """An `_OutputPool` process: each chunk made by its copy of the run's outputs (`_Outputs.made`) and sent back.
    A chunk it cannot make (an error that is not an explanation's) is answered with None, and the process ends:
    the run makes that chunk itself (and meets the same error, if it is one)."""
    other.close()
    for c in others:  # the pipes of the processes started before it
        c.close()
    gc.freeze()  # the run's objects, copied: never garbage, so no collection walks them again
    while True:
        try:
            chunk = conn.recv()
        except (EOFError, OSError):  # the run closed the pipe (`_OutputPool.stop`)
            return
        try:
            made: _Made | None = outputs.made(chunk)
        except Exception:
            made = None
        try:
            conn.send(made)
        except (OSError, ValueError):  # the run closed the pipe (it stopped the pool)
            return
        except Exception:  # an explanation's exception that cannot be pickled: sent as its words
            assert made is not None
            made.failure_in_words()
            try:
                conn.send(made)
            except (OSError, ValueError):
                return
        if made is None:
            return


#: What `_Outputs` sets in a run's summary (sent back by the process that made the outputs while deciding).
_OUTPUT_FIELDS = ("items", "approved_total", "by_status", "by_item", "held_incomplete", "held_pending", "outputs", "report", "warnings")


#: the application at which the outputs' process tells from how far into the input it is whether the round is
#: surely larger than it foresees (half as large again as `FORESEE_LIMIT`): then the run does not wait for it
ESTIMATE_AT = 500

#: seconds the run waits for the outputs' process to take its snapshot of the ledger (`_DryRun`) before deciding
_SNAPSHOT_WAIT = 60.0
#: the most applications whose scaling is foreseen (`_DryRun`: its ledger is in the process's memory); twice as
#: many as a report holds, past which no explanation is drawn and the outputs after deciding are rows and lines
FORESEE_LIMIT = 2 * REPORT_LIMIT


@dataclass(frozen=True)
class Foreseen:
    """A round budget's scaling foreseen before deciding, by deciding the round ahead without the trace
    (`batch --workers`: engine.records.workers, each worker over its own groups): the scaled rounds' records, each
    claim's grants in them as scaled there (item -> (amount, amount before scaling), as `claim_grant_amounts`), and
    `scaled_grants_digest` of them in input order, for `_Outputs.agrees`."""

    records: dict[str, dict[str, str]]
    grants: dict[str, dict[str, tuple[Decimal, Decimal]]]
    digest: str

    def scaling(self, claim_id: str, rnd: str) -> _Scaling | None:
        """How a decision of `claim_id` in round `rnd` is scaled (`_Outputs.made`); None when its round is not.
        KeyError for a claim the foresight did not decide (its worker then makes nothing of it, and the merge
        leaves every output to after deciding)."""
        return (rnd, self.grants[claim_id]) if rnd in self.records else None


def earlier_share(
    base: Ledger | None, rounds: Iterable[str], own: Mapping[str, str], replace: bool, stands: Mapping[str, bool] | None = None
) -> tuple[list[DecidedCommit], set[str]]:
    """What a run's scaling of `rounds` counts besides its own grants, as committing counts it: the commits of the run's
    ledger (`base`) with active grants in those rounds, in commit order; and which of the run's own claims (`own`:
    claim id -> content hash) count by the ledger's commit, not the run's decision of them. A claim the ledger holds
    in force keeps its commit, in its place, when committing would refuse it (no `replace`; or grants of it with funds
    returned) or find it already committed (the same hash); with `replace` and other content the run's decision
    replaces it, and its old commit does not count. A foresight imports the earlier commits ahead of the run's own
    (`foresight_ledger`), so that a round that already holds an earlier run's grants (a second batch of the same
    round) is foreseen as the run scales it; a run that only decides scales its rounds so (`previewed`). `stands`:
    what deciding over `base` found of the claims it holds (`Ledger.stands_below`: every hash form an application was
    ever committed under compared, as committing compares them); a claim it does not name is compared by `own`'s hash."""
    if base is None:
        return [], set()
    held = base.active_hashes(own)
    stands = stands or {}
    kept = {c for c, h in held.items() if (stands[c] if c in stands else not replace or h == own[c])}
    kept |= base.reversed_claims(held.keys() - kept)  # (a replacement of grants with funds returned is refused)
    replaced = held.keys() - kept
    return [c for c in map(base.export_commit, base.round_commits(rounds)) if c.commit[0] not in replaced], kept


def _counted(scratch: Ledger, rounds: Iterable[str], kept: set[str]) -> list[DecidedCommit]:
    """The run's own commits with grants in `rounds`, in order, but those of claims whose ledger commit counts (`kept`)."""
    return [c for c in map(scratch.export_commit, scratch.round_commits(rounds)) if c.commit[0] not in kept]


def foresight_ledger(earlier: Iterable[DecidedCommit], own: Iterable[DecidedCommit], url: str = "sqlite:///:memory:") -> Ledger:
    """A ledger (in this process's memory, or at `url`) holding `earlier` (`earlier_share`), then the run's `own`
    commits in the order the run commits them: the commit order a scaling's ties are broken by is the run's ledger's."""
    ledger = Ledger(url)
    ledger.store_decisions = False
    with ledger.db.locked():
        for rows in itertools.chain(earlier, own):
            ledger.import_commit(rows)
    return ledger


def previewed(scratch: Ledger, base: Ledger, rounds: Iterable[str], path: str, replace: bool) -> Ledger:
    """The ledger a run that only decides scales its rounds in: its own scratch one, unless the run's ledger (`base`)
    already holds grants in those rounds (an earlier batch). Then a new one at `path` holding those, then the run's
    own commits in order (`foresight_ledger`), so that the run's scaling, its outputs and its summary are what
    committing the same input would give (a claim the ledger already holds counted as committing counts it:
    `earlier_share`); `scratch` is closed. A preview of a second batch scaled its own grants alone, and paid more than
    committing it would."""
    rounds = list(rounds)
    earlier, kept = earlier_share(base, rounds, scratch.active_hashes(None), replace, scratch.stands_below)
    if not earlier and not kept:
        return scratch
    own = _counted(scratch, rounds, kept)
    scratch.close()
    return foresight_ledger(earlier, own, f"sqlite:///{path}")


@dataclass
class _DryRun:
    """A round decided ahead, by the outputs' process of `_EarlyOutputs`, to foresee how a round budget scales it:
    the run's own input, versions, round selection and ledger (`base`: its history, read in one snapshot taken before
    the run decides anything), each application committed as the run commits it (`commit_record`), without the
    trace, into a ledger in the process's memory, whose rounds are then scaled as the run scales its own
    (`scale_round`; its rounds with what the ledger already holds in them, `earlier_share`). A committing run's
    refusals are foreseen (`Ledger.committed_round`: an application the ledger holds with other content, or whose
    grants had funds returned), and so is an application it finds already committed (counted in its committed round);
    with `own_history=False`, an application carrying a history of its own (`refuse_own_history`). A replacement's
    old round is scaled again as the run scales it (a round it left, `summary.left_rounds`).
    A foreseen scaling is only kept if the run scaled exactly so (`_EarlyOutputs.agrees`): a commit made by someone
    else meanwhile, an application that fails in one and not the other, all make it differ."""

    versions: PolicySet
    input_path: str | Path
    encoding: str | None
    base: Ledger | None
    replace: bool
    round_label: str | None
    verdicts: Mapping[str, Mapping[str, Verdict]] | None
    commit: bool  # the run commits into `base`: it refuses what the ledger holds with other content, as foreseen
    own_history: bool = True  # False: an application carrying a history of its own is refused, as the run refuses it

    def foresee(self, conn: Any) -> tuple[Ledger | None, dict[str, dict[str, str]]]:
        """The ledger that holds the foreseen grants and the scaled rounds' records; ("ready", None) is sent once
        the snapshot is taken, ("progress", (applications read, fraction of the input)) at most every 0.1 s while
        the run waits, then ("foreseen", (records, `scaled_grants_digest`)), or ("foreseen", None) when the input
        breaks off or is larger than `FORESEE_LIMIT` (then nothing is foreseen)."""
        scratch = Ledger("sqlite:///:memory:")
        scratch.store_decisions = False  # (only its grants are read)
        base = self.base
        decided: list[tuple[str, str]] = []
        rounds: dict[str, dict[int, CompiledPolicy]] = {}
        with contextlib.ExitStack() as reading:
            if base is not None:  # (read on this process's own connection, closed once the round is decided)
                reading.enter_context(base)
                reading.enter_context(base.db.read())
                base.db.query("SELECT count(*) FROM commits")  # (SQLite takes a read's snapshot at its first read)
            conn.send(("ready", None))
            try:
                reader = open_claims(self.input_path, self.versions.newest, self.encoding)
                said = time.monotonic()
                try:
                    for n, rec in enumerate(reader, 1):
                        if n > FORESEE_LIMIT:  # (its ledger is in memory: a larger round is left to after deciding)
                            conn.send(("foreseen", None))
                            return None, {}
                        if n == ESTIMATE_AT and (fraction := reader.fraction()) and n / fraction > 1.5 * FORESEE_LIMIT:
                            conn.send(("foreseen", None))  # (surely larger, told from how far into the input it is)
                            return None, {}
                        if time.monotonic() - said >= 0.1:  # (the run waits, and draws how far it is)
                            said = time.monotonic()
                            conn.send(("progress", (n - 1, reader.fraction())))
                        if rec.data is None:
                            continue
                        try:
                            if not self.own_history:  # (the run's error record: `decide_one`)
                                refuse_own_history(rec.data)
                            policy, claim = read = read_application(self.versions, rec)
                            # as committing meets a claim the ledger holds: refused with other content (raises), or
                            # the same application already committed (the run writes that decision, in its round)
                            rnd = base.committed_round(policy, claim, self.replace) if self.commit and base is not None else None
                            if rnd is None:
                                rnd = commit_record(
                                    self.versions, rec, scratch, base, self.replace, self.round_label, False, self.verdicts, read=read
                                )[2].round
                        except Exception:  # noqa: S112 - the run records it as the application's error
                            continue
                        rounds.setdefault(rnd, {})[claim.funding_year] = policy
                        decided.append((claim.claim_id, rnd))
                finally:
                    reader.close()
            except InputError:  # (the run says it)
                conn.send(("foreseen", None))
                return None, {}
            if self.commit and self.replace and base is not None:  # the rounds its replacements leave: the run scales
                for replaced in base.active_hashes(scratch.active_hashes(None)):  # them again (`summary.left_rounds`)
                    held = base.active_commit(replaced)
                    if held is not None:
                        rounds.setdefault(base.round_of_commit(held[0]), {})
            earlier, kept = earlier_share(base, rounds, scratch.active_hashes(None), self.replace, scratch.stands_below)
            if earlier or kept:  # (read in the same snapshot as the history the round was decided against)
                own = _counted(scratch, rounds, kept)
                scratch.close()
                scratch = foresight_ledger(earlier, own)
        scaled: dict[str, dict[str, str]] = {}
        for rnd in sorted(rounds):
            record = scale_round(scratch, rnd, round_years(scratch, rnd, rounds[rnd], self.versions))
            if record is not None:
                scaled[rnd] = record
        conn.send(("foreseen", (scaled, scaled_grants_digest(scratch, decided, scaled))))
        return scratch, scaled


def _claims_and_rounds(path: Path) -> Iterator[tuple[str, str]]:
    """Each decision line's claim id and round, in order (msgspec's decoder skips the rest of the line)."""
    with open(path, "rb") as f:
        for line in f:
            yield _claim_and_round(line)


def scaled_grants_digest(ledger: Ledger, decided: Iterable[tuple[str, str]], scaled: Mapping[str, Any]) -> str:
    """What scaling a round's decisions reads of the ledger (`_Outputs._read`), as one digest: for each decision of a
    scaled round, in order, its claim id, round and its claim's grants (item, amount, amount before scaling)."""
    digest = hashlib.sha256()
    amounts = ledger.round_grant_amounts(sorted(scaled))  # (a claim's active grants are all in its commit's round)
    for claim_id, rnd in decided:
        if rnd in scaled:
            grants = sorted(amounts.get(claim_id, {}).items())
            digest.update(repr((claim_id, rnd, grants)).encode("utf-8", "backslashreplace"))
    return digest.hexdigest()


class _EarlyOutputs:
    """The outputs made on a second process while the round is decided: `_Outputs` over decisions.partial.jsonl
    as the deciding loop writes it, so that after deciding only the workbook's last sheets and the report's page
    are left. Used when no round is scaled after deciding (a round that is changes decisions already written:
    `cancel`, and `_final_pass` makes every output); the files are those `_final_pass` writes after deciding
    (tests/test_batch_outputs.py).

    The process is forked (it inherits the policy versions, the language and the summary so far) and told over a
    pipe when every decision is written; it says each step it starts (said by the run) and sends back what it set
    in the summary. In a process with other threads, which is not forked, it is a new interpreter given what a fork
    inherits (engine.records.spawned). If it cannot be started (no `fork`; what the new interpreter cannot be given),
    fails or dies, the run writes every output after deciding instead.

    A round a budget may scale (`_DryRun`): the process first decides the whole input on its own, without the trace,
    into a ledger in its memory over a snapshot of the run's ledger, and scales it as the run will; the run waits
    for it before deciding anything (`wait_for_foresight`). It makes every output from that foreseen scaling, and
    the run keeps them only when it scaled exactly so (`agrees`: the same rounds' records, and for each decision of
    a scaled round, in order, the same grants of its claim), else they are thrown away as above."""

    def __init__(self, process: Any, conn: Any, foreseeing: bool = False) -> None:
        self.process = process
        self.conn = conn
        self.failed: str | Msg | None = None  # why the process stopped, when it did (`finish` said False)
        self.foreseeing = foreseeing  # it decides the round first, to foresee its scaling (`_DryRun`)
        self.foreseen: dict[str, dict[str, str]] = {}  # the scaling it made the outputs with (when `agrees`)
        self.ahead: tuple[str, Any] | None = None  # what it said once it had decided the round ahead (`wait_for_foresight`)

    @classmethod
    def start(
        cls,
        versions: PolicySet,
        out: Path,
        raw_path: Path,
        summary: BatchSummary,
        report: bool,
        report_lang: str,
        streams: Sequence[IO[str]],
        dry: _DryRun | None = None,
        processes: int | None = None,
        steps: Steps | None = None,
    ) -> _EarlyOutputs | None:
        """The process started (None where it cannot be). With `dry`, it is waited for until its snapshot of the
        ledger is taken (None if it fails to take one), and then until it has decided the round ahead (said on
        `steps`): the run commits nothing before. `processes`: the run's `output_processes`, for what the process
        has left once the run has decided."""
        ctx = _fork_context(streams)
        args = (out, raw_path, summary, report, report_lang)
        if ctx is None:  # (a program with other threads: a new interpreter, where it can be given what a fork inherits)
            from engine.records import spawned

            given = spawned.recipe(versions, args, dry, processes)
            child = spawned.start(given) if given is not None else None
            if child is None:
                return None
            process, here = child
        else:
            here, there = ctx.Pipe()
            # (not a daemon: it may start processes of its own for what is left after deciding; the run always ends
            # it, `stop`, and a process of its own ends when its pipe does)
            process = ctx.Process(target=_outputs_process, args=(there, here, versions, *args, dry, processes))
            try:
                process.start()
            except OSError:
                here.close()
                there.close()
                return None
            there.close()
        started = cls(process, here, dry is not None)
        if dry is not None:
            try:
                try:
                    ready = here.poll(_SNAPSHOT_WAIT) and here.recv()[0] == "ready"
                except (EOFError, OSError):
                    ready = False
                if not ready:  # (it could not read the ledger: every output is made after deciding, as without it)
                    started.cancel()
                    started.stop()
                    return None
                started.wait_for_foresight(steps if steps is not None else Steps(sys.stderr, False))
            except BaseException:  # (stopped while waiting, Ctrl-C or SIGTERM: the run never holds the process, which
                started.cancel()  # went on and wrote its files into the folder after the run had stopped)
                started.stop()
                raise
        return started

    def wait_for_foresight(self, steps: Steps) -> None:
        """Wait until the process has decided the round ahead, said as a step (with a bar when it is long); what it
        then says (the foreseen scaling, or that it failed) is kept for `agrees`.

        Waited for before deciding, not beside it: on a machine whose cores are all busy (the run deciding, the
        process making outputs) a round's total work is the same either way, and what the process foresees first
        is then made beside deciding, not after it (docs/performance.md, "Issue 14, session 14")."""
        steps.start(msg("batch.step.foresight"))
        try:
            while True:
                kind, value = self.conn.recv()
                if kind != "progress":
                    self.ahead = (kind, value)
                    break
                steps.progress(value[0], 0, "batch.progress.applications", fraction=value[1])
        except (EOFError, OSError):  # it died: `agrees` says so
            pass
        steps.done()

    def foresaw_scaling(self) -> bool:
        """Whether the process foresaw a round scaled (so `agrees` will check each decision's claim and round)."""
        return self.ahead is not None and self.ahead[0] == "foreseen" and bool(self.ahead[1] and self.ahead[1][0])

    def agrees(self, scaled: dict[str, dict[str, str]], target: Ledger, raw_path: Path, seen: list[tuple[str, str]] | None = None) -> bool:
        """Whether what the process makes is what the run's rounds need, once every decision is made (its line in
        `raw_path`) and every round scaled (`scaled`, in `target`): nothing scaled, or a process that foresaw exactly
        this scaling (`wait_for_foresight` kept what it said). False when it failed. `seen`: each decision's (claim
        id, round) as the run wrote it (else read back from `raw_path`, a second pass over every line)."""
        if not self.foreseeing:
            return not scaled
        if self.ahead is None:  # it died (killed, out of memory) before it had foreseen
            self.failed = msg("batch.early_died")
            return False
        kind, value = self.ahead
        if kind != "foreseen":  # "failed"
            self.failed = value
            return False
        if value is None:  # it could not decide the round (the input broke off): it made the outputs unscaled
            return not scaled
        records, digest = value
        decided = seen if seen is not None else _claims_and_rounds(raw_path)
        if records != scaled or (scaled and digest != scaled_grants_digest(target, decided, scaled)):
            return False
        self.foreseen = scaled
        return True

    def finish(self, out: Path, raw_path: Path, summary: BatchSummary, steps: Steps) -> bool:
        """Every decision and error is written (both files closed): the outputs' last steps, each said as the process
        starts it. True when every output is written; False when the process failed (the caller writes them all)."""
        steps.start(msg("batch.step.outputs", n=summary.decided))
        try:
            self.conn.send((summary.applications, summary.decided, summary.failed))
            while True:
                kind, value = self.conn.recv()
                if kind == "step":
                    steps.start(value)
                elif kind == "progress":
                    steps.progress(*value)
                elif kind == "done":
                    break
                else:  # "failed": nothing it wrote is relied on
                    self.failed = value
                    return False
        except (EOFError, OSError):  # it died (killed, out of memory)
            self.failed = msg("batch.early_died")
            return False
        for name in _OUTPUT_FIELDS:
            setattr(summary, name, value[name])
        if self.foreseen:  # the process wrote decisions.jsonl, each line scaled
            raw_path.unlink()
        else:
            os.replace(raw_path, out / "decisions.jsonl")  # unscaled: the decisions' lines are decisions.jsonl as they are
        return True

    def cancel(self) -> None:
        """What the process made is not wanted (a round was scaled): it is ended now, before the run writes the same
        files (it writes none but the CSVs and the workbook's spooled rows before it is told to finish)."""
        self.process.kill()
        self.process.join()

    def stop(self) -> None:
        """The process ended (it has, unless the run stopped early), and the pipe closed."""
        self.conn.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class _SentSteps(Steps):
    """The steps of the outputs' process: each sent to the run, which says it; and how far the step is, at most
    every 0.1 s (only once the run has decided: before, nobody reads the pipe)."""

    def __init__(self, conn: Any) -> None:
        super().__init__(sys.stderr, False)
        self.conn = conn
        self.sent = 0.0

    def start(self, text: str) -> None:
        self.conn.send(("step", text))

    def progress(self, done: int, total: int, unit: str, fraction: float | None = None) -> None:
        now = time.monotonic()
        if done >= total or now - self.sent >= 0.1:
            self.sent = now
            self.conn.send(("progress", (done, total, unit)))


def _growing(path: Path, conn: Any, summary: BatchSummary, ended: list[bool] | None = None) -> Iterator[tuple[bytes, int]]:
    """The lines of `path` as they are written (each whole line's bytes, and where in the file it starts), until the
    run says every line is (then the counts of the round, and `ended` holds True).

    Read as bytes, each line given once it is whole: the file may end inside a character the run has not finished
    writing (its buffer is flushed at any byte), which a text reader at the end of the file would take for a
    truncated character and fail on."""
    done = False
    at = 0
    with open(path, "rb") as f:
        pending = b""
        while True:
            data = f.readline()
            if data:
                if data.endswith(b"\n"):
                    whole = pending + data
                    yield whole, at
                    at += len(whole)
                    pending = b""
                else:  # the rest of the line is still being written
                    pending += data
                if done or not conn.poll(0):  # (said as soon as it is: a process behind may share the rest)
                    continue
            elif done:
                break
            elif not conn.poll(0.05):
                continue
            summary.applications, summary.decided, summary.failed = conn.recv()
            done = True  # the file is closed: what is left of it is read, then no more
            if ended is not None:
                ended.append(True)
    if pending:  # pragma: no cover - every line the run writes ends in a line feed
        yield pending, at


def _outputs_process(
    conn: Any,
    other: Any | None,
    versions: PolicySet,
    out: Path,
    raw_path: Path,
    summary: BatchSummary,
    report: bool,
    report_lang: str,
    dry: _DryRun | None = None,
    processes: int | None = None,
) -> None:
    """The process of `_EarlyOutputs`: `_Outputs` over the decisions' lines as they come, then its last steps;
    with `dry`, the round decided first and its scaling foreseen (`_DryRun.foresee`), each line scaled by it.

    It runs at a lower priority than the deciding loop: with a free core it keeps up beside it; without one (a
    busy machine) deciding keeps its speed and this process takes what is left, catching up after deciding. What is
    left once the run has decided (more than `POOL_FROM` decisions: a round it foresaw, say) is shared with
    processes of its own (`_OutputPool`), as the run's outputs after deciding are."""
    if other is not None:  # (the run's end of the pipe, inherited by a fork)
        other.close()
    try:
        os.nice(10)
    except OSError:  # pragma: no cover - not allowed here: the same work at the same priority
        pass
    gc.freeze()  # the run's objects, copied: never garbage, so no collection walks them again (as `_pool_process`)
    try:
        target, scaled = dry.foresee(conn) if dry is not None else (None, {})
        if dry is not None:  # (what deciding the round left, frozen too: its ledger lives as long as the process)
            gc.collect()
            gc.freeze()
        outputs = _Outputs(versions, out, target, scaled, summary, report, report_lang)
        ended: list[bool] = []
        made, pooled = 0, False
        steps = _SentSteps(conn)
        for data, at in _growing(raw_path, conn, summary, ended):
            if ended and not pooled:  # (the round is decided: the run now waits for what is left, and says how far)
                pooled = True
                outputs.on_written = lambda n: steps.progress(n, summary.decided, "batch.progress.decisions")
                if summary.decided - made > POOL_FROM:
                    outputs.use_pool(output_processes(processes), (), raw_path)
            if outputs.pool is not None:
                outputs.span(at, len(data), outputs.scaling_of(data) if scaled else None)
            else:
                outputs.line(data.decode("utf-8"))
            made += 1
        outputs.finish(raw_path, steps, keep_raw=True)
        conn.send(("done", {name: getattr(summary, name) for name in _OUTPUT_FIELDS}))
    except BaseException as exc:  # said to the run, which writes every output itself
        try:
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        except (OSError, ValueError):
            pass


def outputs_not_forked(
    conn: Any,
    versions: PolicySet,
    args: tuple[Path, Path, BatchSummary, bool, str],
    dry: Mapping[str, Any] | None,
    base: Ledger | None,
    processes: int | None,
) -> None:
    """`_outputs_process` in a process that was not forked (engine.records.spawned): `args` its arguments between the
    versions and `dry`; `dry` the `_DryRun`'s fields but its versions and ledger (`base`), when it foresees."""
    foresight = _DryRun(versions=versions, base=base, **dry) if dry is not None else None
    _outputs_process(conn, None, versions, *args, foresight, processes)


def _word(group: str, code: str) -> Msg | str:
    """A code's words in the reader's language (a rounding mode: the explanation's `rounding_mode`; a remainder method:
    `batch.table.method`), the code itself if the catalogue has none."""
    try:
        lookup(f"{group}.{code}")
    except CatalogueError:
        return code
    return msg(f"{group}.{code}")


def budget_rows(summary: BatchSummary, labels: dict[str, str]) -> list[list[Any]]:
    """The budget view: one row per article and item type, then the totals by status (the fund-use plan of a round)."""
    rows: list[list[Any]] = []

    def line(article: str, type_name: str, label: str, lines: dict[str, BudgetLine]) -> list[Any]:
        approved = lines["granted"].count + lines["reduced"].count
        return [
            article,
            type_name,
            label,
            sum(v.count for v in lines.values()),
            approved,
            format_money(lines["granted"].total + lines["reduced"].total),
            lines["incomplete"].count,
            format_money(lines["incomplete"].total),
            lines["pending_review"].count,
            format_money(lines["pending_review"].total),
            lines["refused"].count,
            lines["referred"].count,
        ]

    for (article, type_name), lines in sorted(summary.by_item.items(), key=lambda kv: (summary.order.get(kv[0][1], 1 << 30), kv[0])):
        rows.append(line(article, type_name, labels.get(type_name, ""), lines))
    rows.append(line("total", "", "合计", summary.by_status))
    return rows


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(width - _width(text), 0)
    return gap + text if right else text + gap


def _grouped(cell: Any) -> str:
    """A table's cell as a terminal shows it: an amount grouped as the sheets show it (1,492,200.00), a count as is."""
    return f"{Decimal(cell):,}" if isinstance(cell, str) and _AMOUNT_CELL.fullmatch(cell) else str(cell)


_AMOUNT_CELL = re.compile(r"-?[0-9]+\.[0-9]{2}")


def budget_table(summary: BatchSummary, policy: CompiledPolicy | PolicySet) -> str:
    """The budget view as a terminal table."""
    labels: dict[str, str] = {}
    for v in policy.versions if isinstance(policy, PolicySet) else (policy,):  # oldest first: the newest wording wins
        labels.update({k: t.zh for k, t in v.item_type_labels.items()})
    head = [
        tr(msg(f"batch.table.{column}"))
        for column in (
            "article",
            "item_type",
            "items",
            "approved",
            "approved_total",
            "incomplete",
            "held_incomplete",
            "pending",
            "held_pending",
            "refused",
            "referred",
        )
    ]
    body = []
    for r in budget_rows(summary, labels):
        article = tr(msg("batch.table.total")) if r[0] == "total" and not r[1] else str(r[0])
        body.append([article, str(r[2] or r[1]), *[_grouped(x) for x in r[3:]]])
    widths = [max(_width(h), *(_width(b[i]) for b in body)) for i, h in enumerate(head)]
    lines = ["  ".join(_pad(h, widths[i], i >= 2) for i, h in enumerate(head))]
    lines.append("  ".join("-" * w for w in widths))
    for n, b in enumerate(body):
        if n == len(body) - 1:
            lines.append("  ".join("-" * w for w in widths))
        lines.append("  ".join(_pad(x, widths[i], i >= 2) for i, x in enumerate(b)))
    out = "\n".join(lines) + "\n"
    statuses = [
        msg("batch.table.status", status=msg(f"status_short.{s}"), n=v.count, total=_grouped(format_money(v.total)))
        for s, v in summary.by_status.items()
    ]
    out += tr(msg("batch.table.by_status", statuses=statuses)) + "\n"
    for rnd, rec in summary.scaling.items():
        unallocated = msg("batch.table.unallocated", amount=_grouped(rec["unallocated"])) if Decimal(rec["unallocated"]) else ""
        scaled = msg(
            "batch.table.scaled",
            round=rnd,
            approved=_grouped(rec["approved_total"]),
            budget=_grouped(rec["budget"]),
            factor=rec["factor"],
            mode=_word("rounding_mode", rec["mode"]),
            quantum=rec["quantum"],
            method=_word("batch.table.method", rec["method"]),
            unallocated=unallocated,
            version=rec["policy_version"],
        )
        out += tr(scaled) + "\n"
    return out
