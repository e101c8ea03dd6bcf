"""Versions by date: several files of the same measures, each in force for a window of funding years.

    versions = PolicySet.load(["policies/<measures>.yaml", "policies/revisions/<next>.yaml"])
    policy = versions.for_year(2022)          # the version in force for funding year 2022
    decision = versions.evaluate(claim_dict)  # picks by the claim's funding_year

A funding year no version covers is a `ClaimError` naming the windows that
exist. Gaps between windows are reported as warnings, overlaps as errors: a
year two versions claim is refused rather than decided by an arbitrary one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .claims import Claim, parse_claim
from .decision import Decision
from .errors import ClaimError, PolicyError, Problem
from .evaluator import evaluate_claim
from .history import Grant
from .model import CompiledPolicy
from .policy import load_policy


def window(policy: CompiledPolicy) -> str:
    lo, hi = policy.funding_years
    return f"{policy.version} ({policy.file}): funding years {lo}-{hi}"


@dataclass(frozen=True)
class PolicySet:
    """Versions of one policy id, ordered by the start of their window."""

    versions: tuple[CompiledPolicy, ...]

    def __post_init__(self) -> None:
        if not self.versions:
            raise PolicyError([Problem("no policy version given", code="versions.empty")], "no policy versions")
        ids = sorted({p.id for p in self.versions})
        if len(ids) > 1:
            raise PolicyError(
                [
                    Problem(
                        f"versions of different policies cannot be combined: {', '.join(ids)}",
                        code="versions.mixed_ids",
                        expected="files sharing one policy.id",
                    )
                ],
                "mixed policy ids",
            )
        ordered = tuple(sorted(self.versions, key=lambda p: (p.funding_years, p.version)))
        object.__setattr__(self, "versions", ordered)

    @classmethod
    def load(cls, paths: Iterable[str | Path]) -> PolicySet:
        """Load files; a directory stands for every *.yaml directly inside it."""
        files: list[Path] = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                files.extend(sorted(p for p in path.glob("*.yaml") if p.is_file()))
            else:
                files.append(path)
        problems: list[Problem] = []
        loaded = []
        for f in files:
            try:
                loaded.append(load_policy(f))
            except PolicyError as err:
                problems.extend(err.problems)
        if problems:
            raise PolicyError(problems, "a policy version is not valid")
        return cls(tuple(loaded))

    @property
    def id(self) -> str:
        return self.versions[0].id

    def windows(self) -> list[str]:
        return [window(p) for p in self.versions]

    def covering(self, funding_year: int) -> list[CompiledPolicy]:
        return [p for p in self.versions if p.covers(funding_year)]

    def for_year(self, funding_year: int) -> CompiledPolicy:
        """The version in force for `funding_year`; ClaimError if none or several."""
        found = self.covering(funding_year)
        if len(found) == 1:
            return found[0]
        if not found:
            raise ClaimError(
                [
                    Problem(
                        f"no version of {self.id} is in force for funding year {funding_year}; versions: " + "; ".join(self.windows()),
                        path=("funding_year",),
                        expected="a funding year inside one of these windows",
                        code="not_in_force",
                    )
                ],
                "no policy version in force",
            )
        raise ClaimError(
            [
                Problem(
                    f"funding year {funding_year} is covered by {len(found)} versions of {self.id} (an overlap): "
                    + "; ".join(window(p) for p in found),
                    path=("funding_year",),
                    expected="exactly one version in force per funding year: fix the windows",
                    code="versions.overlap",
                )
            ],
            "ambiguous policy version",
        )

    def for_data(self, data: Any) -> CompiledPolicy:
        """The version for a claim given as plain data (its `funding_year`)."""
        year = data.get("funding_year") if isinstance(data, Mapping) else None
        if isinstance(year, bool) or not isinstance(year, int):
            raise ClaimError(
                [Problem("the claim has no funding_year to choose a policy version by", path=("funding_year",), code="claim.required")],
                "invalid claim",
            )
        return self.for_year(year)

    def evaluate(self, claim: Mapping[str, Any] | Claim, history: Iterable[Grant] = (), *, trace: bool = True) -> Decision:
        if isinstance(claim, Claim):
            policy = self.for_year(claim.funding_year)
            parsed = claim
        else:
            policy = self.for_data(claim)
            parsed = parse_claim(policy, claim)
        return evaluate_claim(policy, parsed, history, trace=trace)

    def report(self) -> list[Problem]:
        """Gaps (warnings) and overlaps (errors) between consecutive windows."""
        out: list[Problem] = []
        vs = self.versions
        for i, a in enumerate(vs):
            for b in vs[i + 1 :]:
                lo = max(a.funding_years[0], b.funding_years[0])
                hi = min(a.funding_years[1], b.funding_years[1])
                if lo <= hi:
                    years = f"{lo}" if lo == hi else f"{lo}-{hi}"
                    out.append(
                        Problem(
                            f"versions overlap in funding years {years}: {window(a)} and {window(b)}",
                            file=b.file,
                            code="versions.overlap",
                            severity="error",
                            expected="end the earlier window the year before the later one starts",
                        )
                    )
        reach = vs[0]
        for b in vs[1:]:
            if b.funding_years[0] > reach.funding_years[1] + 1:
                lo, hi = reach.funding_years[1] + 1, b.funding_years[0] - 1
                years = f"{lo}" if lo == hi else f"{lo}-{hi}"
                out.append(
                    Problem(
                        f"no version covers funding years {years} (between {window(reach)} and {window(b)})",
                        file=b.file,
                        code="versions.gap",
                        severity="warning",
                        expected="a version for those years, or confirm no measures applied then",
                    )
                )
            if b.funding_years[1] > reach.funding_years[1]:
                reach = b
        return out
