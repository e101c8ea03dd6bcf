"""Versions by date: several files of the same measures, each in force for a window of funding years.

    versions = PolicySet.load(["policies/<measures>.yaml", "policies/revisions/<next>.yaml"])
    policy = versions.for_year(2022)          # the version in force for funding year 2022
    decision = versions.evaluate(claim_dict)  # picks by the claim's funding_year

A funding year no version covers is a `ClaimError` naming the windows that
exist. Gaps between windows are reported as warnings, overlaps as errors: a
year two versions claim is refused rather than decided by an arbitrary one.

Every command that takes a policy takes its versions through `load_versions` (overlaps
refused at load, gaps returned as warnings; the command line's side of it is
engine.cli.common); `PolicySet.pick` then gives each claim its version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from os import PathLike
from pathlib import Path
from typing import Any

from engine.core.errors import ClaimError, PolicyError, Problem, json_kind
from engine.core.i18n import Msg, msg, tr
from engine.core.quantities import said_in_digits
from engine.deciding.claims import Claim, checked_history, claim_for, label, parse_claim
from engine.deciding.decision import Decision
from engine.deciding.evaluator import evaluate_claim
from engine.deciding.history import Grant
from engine.deciding.ready import load_policy
from engine.language.model import CompiledPolicy


def _as_written(value: Any) -> str:
    """A claim's value as JSON writes it (2021.0, true, null, "2021"), not as Python does (Decimal('2021.0'), True)."""
    if isinstance(value, Decimal):
        return said_in_digits(value)
    if isinstance(value, bool | None) or isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)[:80]
    return str(value)[:80]


def _problem_key(p: Problem) -> tuple[Any, ...]:
    """A problem as two versions' findings are compared: where, what kind, and its words in both languages."""
    return (p.path, p.code, tr(p.message, "zh"), tr(p.message, "en"))


def window(policy: CompiledPolicy, *, where: bool = False) -> str:
    """A version's funding years, naming its file; `where`: by its path (an officer's `versions` listing). A claim's
    error names the file alone: it reaches applicants and HTTP clients, who are not told where the server keeps it."""
    lo, hi = policy.funding_years
    file = str(policy.file) if where else Path(str(policy.file)).name
    return msg("claim.versions.window", version=policy.version, file=file, first=lo, last=hi)


@dataclass(frozen=True)
class PolicySet:
    """Versions of one policy id, ordered by the start of their window."""

    versions: tuple[CompiledPolicy, ...]

    def __post_init__(self) -> None:
        if not self.versions:
            raise PolicyError([Problem(msg("claim.versions.none_given"), code="versions.empty")], msg("claim.versions.none"))
        ids = sorted({p.id for p in self.versions})
        if len(ids) > 1:
            raise PolicyError(
                [
                    Problem(
                        msg("claim.versions.mixed", ids=ids),
                        code="versions.mixed_ids",
                        expected=msg("claim.versions.one_id"),
                    )
                ],
                msg("claim.versions.mixed_summary"),
            )
        ordered = tuple(sorted(self.versions, key=lambda p: (p.funding_years, p.version)))
        object.__setattr__(self, "versions", ordered)

    @classmethod
    def load(cls, paths: Iterable[str | Path] | str | Path) -> PolicySet:
        """Load files; a directory stands for every *.yaml directly inside it. One path may be given alone (a text
        was taken as its characters, each a path)."""
        files, problems = policy_files(_paths_given(paths, "PolicySet.load"))
        loaded = []
        for f in files:
            try:
                loaded.append(load_policy(f))
            except PolicyError as err:
                problems.extend(err.problems)
        if problems:
            raise PolicyError(problems, msg("claim.versions.invalid"))
        return cls(tuple(loaded))

    @property
    def id(self) -> str:
        return self.versions[0].id

    def windows(self, *, where: bool = False) -> list[str]:
        return [window(p, where=where) for p in self.versions]

    def covering(self, funding_year: int) -> list[CompiledPolicy]:
        """The versions in force for `funding_year` (none, one, or several that overlap). A year that is no whole
        number is a TypeError, as `for_year` says it: the text "2021" was "'<=' not supported between instances of
        'int' and 'str'", 2021.0 was taken as 2021 and True as the year 1 (no version: [])."""
        _refuse_no_year(funding_year, "covering")
        return [p for p in self.versions if p.covers(funding_year)]

    def for_year(self, funding_year: int) -> CompiledPolicy:
        """The version in force for `funding_year`; ClaimError if none or several. A year that is no whole number is a
        TypeError (the text "2021" was "'<=' not supported between instances of 'int' and 'str'", 2021.0 was taken)."""
        _refuse_no_year(funding_year, "for_year")
        found = self.covering(funding_year)
        if len(found) == 1:
            return found[0]
        if not found:
            raise ClaimError(
                [
                    Problem(
                        msg(
                            "claim.versions.not_in_force",
                            policy=label(self.newest.title),  # (its title, as notices and summary.xlsx name it; not its id)
                            year=funding_year,
                            windows=_joined([_based(p) for p in self.versions]),
                        ),
                        path=("funding_year",),
                        expected=msg("claim.versions.inside"),
                        code="not_in_force",
                    )
                ],
                msg("claim.versions.not_in_force_summary"),
            )
        raise ClaimError(
            [
                Problem(
                    msg("claim.versions.covered", year=funding_year, n=len(found), id=self.id, windows=_joined([window(p) for p in found])),
                    path=("funding_year",),
                    expected=msg("claim.versions.exactly_one"),
                    code="versions.overlap",
                )
            ],
            msg("claim.versions.ambiguous"),
        )

    def for_data(self, data: Any) -> CompiledPolicy:
        """The version for a claim given as plain data (its `funding_year`); data that is no object is said so, as
        `parse_claim` says it (a list was "the claim has no funding_year to choose a policy version by")."""
        if not isinstance(data, Mapping):
            raise ClaimError([Problem(msg("claim.not_object", kind=json_kind(data)), code="claim")], msg("claim.invalid"))
        year = data.get("funding_year")
        if isinstance(year, bool) or not isinstance(year, int):
            missing = "funding_year" not in data
            said = msg("claim.versions.no_year") if missing else msg("claim.versions.year_not_whole", value=_as_written(year))
            code = "claim.required" if missing else "claim.type"
            problems = [Problem(said, path=("funding_year",), code=code), *self.problems_in_every_version(data)]
            raise ClaimError(problems, msg("claim.invalid"))
        return self.for_year(year)

    def problems_in_every_version(self, data: Mapping[str, Any]) -> list[Problem]:
        """A claim's problems, other than its funding year's, that every version finds in it (a date that is no date, an
        amount written 8,400元, an identifier's check character), in the first version's order: with no year to choose
        a version by, they were left unsaid until the year was mended, a run later. A problem one version finds and
        another does not (a fact only one of them has) depends on the version, and is not said."""
        common: dict[tuple[Any, ...], Problem] | None = None
        for policy in self.versions:
            try:
                parse_claim(policy, dict(data))
            except ClaimError as err:
                found = {_problem_key(p): p for p in err.problems if p.path[:1] != ("funding_year",)}
            else:
                return []  # (one version reads it whole: nothing every version finds)
            common = found if common is None else {k: p for k, p in common.items() if k in found}
        return list((common or {}).values())

    def evaluate(
        self, claim: Mapping[str, Any] | Claim, history: Iterable[Grant | Mapping[str, Any]] = (), *, trace: bool = True
    ) -> Decision:
        """As `engine.evaluate`, by the version in force for the claim's funding year."""
        if isinstance(claim, Claim):
            policy = self.versions[0] if len(self.versions) == 1 else self.for_year(claim.funding_year)
        else:
            policy = self.pick(claim)
        parsed = claim_for(policy, claim)
        return evaluate_claim(policy, parsed, checked_history(policy, history, parsed.claim_id), trace=trace)

    def pick(self, data: Any) -> CompiledPolicy:
        """The version deciding a claim given as plain data.

        With a single version, that version decides every claim (its own in-force check names its
        window for a year outside it, as before versions existed); with several, the one in force
        for the claim's funding year (`for_data`: a ClaimError naming the windows when none is).
        """
        if len(self.versions) == 1:
            return self.versions[0]
        return self.for_data(data)

    @property
    def newest(self) -> CompiledPolicy:
        """The version whose window starts last (templates and vocabularies default to it)."""
        return self.versions[-1]

    def by_hash(self, content_hash: Any) -> CompiledPolicy | None:
        """The version with this content hash (a decision's `policy.hash`), or None."""
        return next((p for p in self.versions if p.content_hash == content_hash), None)

    def for_decision(self, decision: Mapping[str, Any]) -> CompiledPolicy:
        """The version that made a decision (by its `policy.hash`; else by its funding year; else the newest)."""
        if not isinstance(decision, Mapping):  # (None was "'NoneType' object has no attribute 'get'")
            raise TypeError(msg("core.not_decision_data", kind=type(decision).__name__))
        info = decision.get("policy") or {}
        found = self.by_hash(info.get("hash") if isinstance(info, Mapping) else None)
        if found is not None:
            return found
        year = decision.get("funding_year")
        covering = self.covering(year) if isinstance(year, int) and not isinstance(year, bool) else []
        return covering[0] if len(covering) == 1 else self.newest

    def report(self) -> list[Problem]:
        """Gaps (warnings) and overlaps (errors) between consecutive windows; two versions under one label (warnings)."""
        out: list[Problem] = []
        vs = self.versions
        for i, a in enumerate(vs):
            for b in vs[i + 1 :]:
                if a.version == b.version and a.content_hash != b.content_hash:  # (decisions name a version by its label)
                    what = msg("claim.versions.same_label", version=a.version, first=a.file, second=b.file)
                    out.append(
                        Problem(
                            what,
                            file=b.file,
                            line=b.version_line,
                            path=("policy", "version"),
                            code="versions.same_label",
                            severity="warning",
                            expected=msg("claim.versions.same_label_fix", version=a.version),
                        )
                    )
                lo = max(a.funding_years[0], b.funding_years[0])
                hi = min(a.funding_years[1], b.funding_years[1])
                if lo <= hi:
                    what = msg("claim.versions.overlap", years=_years(lo, hi), first=window(a), second=window(b))
                    out.append(_window_problem(b, what, "overlap", "error", msg("claim.versions.overlap_fix")))
        reach = vs[0]
        for b in vs[1:]:
            if b.funding_years[0] > reach.funding_years[1] + 1:
                lo, hi = reach.funding_years[1] + 1, b.funding_years[0] - 1
                what = msg("claim.versions.gap", years=_years(lo, hi), first=window(reach), second=window(b))
                out.append(_window_problem(b, what, "gap", "warning", msg("claim.versions.gap_fix")))
            if b.funding_years[1] > reach.funding_years[1]:
                reach = b
        return out


def _based(policy: CompiledPolicy) -> Msg | str:
    """A version's window (`window`) with the clause and readings it rests on (`policy.in_force.cites` / `readings`),
    when it names them: the window, then (the clause; reading R7) in the reader's words."""
    said = window(policy)
    readings = list(policy.in_force_readings)
    if policy.in_force_cites:
        basis: Msg | str = policy.in_force_cites
        if readings:
            basis = msg("render.window_readings", before=basis, ids=readings)
    elif readings:
        basis = msg("claim.versions.readings_only", ids=readings)
    else:
        return said
    return msg("claim.versions.window_basis", window=said, basis=basis)


def _joined(windows: list[Msg | str]) -> Msg | str:
    """Windows one after the other, separated by semicolons (said in the reader's language)."""
    said: Msg | str = windows[0] if windows else ""
    for more in windows[1:]:
        said = msg("claim.versions.then", first=said, then=more)
    return said


def _years(lo: int, hi: int) -> str:
    return f"{lo}" if lo == hi else f"{lo}-{hi}"


def _window_problem(version: CompiledPolicy, message: str, code: str, severity: str, expected: str) -> Problem:
    """A problem between two versions' windows, pointing at the later version's `funding_years`."""
    return Problem(
        message,
        file=version.file,
        line=version.funding_years_line,
        path=("policy", "in_force", "funding_years"),
        code=f"versions.{code}",
        severity=severity,
        expected=expected,
    )


def _refuse_no_year(funding_year: Any, call: str) -> None:
    """A TypeError saying what `call` (`for_year`, `covering`) takes, unless `funding_year` is a whole number (an int:
    not a bool, a float, a Decimal or a text), and what to give instead."""
    if type(funding_year) is not int:
        kind = type(funding_year).__name__
        raise TypeError(msg("core.not_a_year", call=call, value=repr(funding_year)[:40], kind=kind, year=_year_meant(funding_year)))


def _year_meant(given: Any) -> Any:
    """The whole number a year given as text or a fraction writes ("2021", 2021.0), or what to give when none."""
    text = given.strip() if isinstance(given, str) else ""
    if text.isascii() and text.isdigit():
        return int(text)
    whole_float = isinstance(given, float) and given.is_integer()
    if whole_float or (isinstance(given, Decimal) and given.is_finite() and given == given.to_integral_value()):
        return int(given)
    return msg("core.a_year")


def _paths_given(paths: Any, call: str) -> list[Any]:
    """The paths a program gave `call`: one (text or a pathlib.Path), or a list of them; anything else a TypeError
    saying what to give (None was "'NoneType' object is not iterable", a number as much)."""
    if isinstance(paths, str | PathLike):
        return [paths]
    if isinstance(paths, bytes | Mapping) or not isinstance(paths, Iterable):
        raise TypeError(msg("core.not_paths", call=call, kind=type(paths).__name__))
    items = list(paths)
    others = [p for p in items if not isinstance(p, str | PathLike)]  # (None among them: no `next(..., None)`)
    if others:
        held = msg("core.holding", outer=type(paths).__name__, inner=type(others[0]).__name__)
        raise TypeError(msg("core.not_paths", call=call, kind=held))
    return items


def policy_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    """The policy files a command was given: a folder stands for every *.yaml directly inside it, and a file given
    twice (or by its folder too) is one version; a folder with none in it is a problem."""
    files: list[Path] = []
    seen: set[Path] = set()
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        inside = sorted(p for p in path.glob("*.yaml") if p.is_file()) if path.is_dir() else [path]
        if not inside:  # (a folder given with no policy in it: named, not "no policy version given")
            problems.append(Problem(msg("claim.versions.empty_folder"), file=str(path), code="versions.empty_folder"))
        for f in inside:
            if f.resolve() not in seen:
                seen.add(f.resolve())
                files.append(f)
    return files, problems


def load_versions(paths: str | Path | Iterable[str | Path]) -> tuple[PolicySet, list[Problem]]:
    """Load the versions a command was given: one file, several, or folders (every *.yaml directly inside).

    One behaviour for every command: an overlap between two windows is a `PolicyError` at load (a
    year two versions claim has no answer); a gap is returned as a warning (a claim of a year in the
    gap gets its own error naming the windows). Invalid files are a `PolicyError` listing every problem.
    """
    versions = PolicySet.load(_paths_given(paths, "load_versions"))
    return versions, checked_windows(versions)


def checked_windows(versions: PolicySet) -> list[Problem]:
    """`load_versions`' check of versions loaded some other way: a `PolicyError` for an overlap, the gaps returned."""
    problems = versions.report()
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise PolicyError(errors, msg("claim.versions.overlap_summary"))
    return [p for p in problems if p.severity != "error"]
