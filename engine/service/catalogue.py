"""The policies a service serves: every version of every policy in one folder, loaded and validated as a whole.

A `Catalogue` is immutable. The service holds one reference to the catalogue in force; a reload builds a
new one completely (every file loaded, validated and compiled, versions checked for overlaps) and only
then replaces the reference, in one assignment: a request sees the old set or the new one, never a mix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.errors import ClaimError, EngineError, PolicyError, Problem
from engine.core.i18n import msg
from engine.deciding.claims import claim_schema
from engine.deciding.ready import load_policy
from engine.deciding.versions import PolicySet
from engine.language.model import CompiledPolicy

MAX_POLICY_FILES = 200  # a folder of more is refused (each file is compiled at every load)


@dataclass(frozen=True)
class Catalogue:
    folder: str
    sets: dict[str, PolicySet]  # policy id -> its versions
    loaded_at: str
    generation: int

    def policy_set(self, policy_id: str | None) -> PolicySet:
        """The versions of `policy_id`; with no id, the only policy served (ClaimError otherwise)."""
        if policy_id is None:
            if len(self.sets) == 1:
                return next(iter(self.sets.values()))
            raise ClaimError(
                [
                    Problem(
                        msg("service.policy.which"),
                        path=("policy",),
                        expected=" | ".join(sorted(self.sets)),
                        code="service.policy",
                    )
                ],
                msg("service.policy.which_summary"),
            )
        found = self.sets.get(policy_id)
        if found is None:
            raise ClaimError(
                [
                    Problem(
                        msg("service.policy.unknown", id=policy_id),
                        path=("policy",),
                        expected=" | ".join(sorted(self.sets)),
                        code="service.policy",
                    )
                ],
                msg("service.policy.unknown_summary"),
            )
        return found

    def version(self, policy_id: str, version: str) -> CompiledPolicy | None:
        pset = self.sets.get(policy_id)
        return next((p for p in pset.versions if p.version == version), None) if pset else None

    def all_versions(self) -> list[CompiledPolicy]:
        return [p for pid in sorted(self.sets) for p in self.sets[pid].versions]

    @property
    def fingerprint(self) -> str:
        """The set served, the same in every worker that loaded the same files: a hash of the versions' content hashes."""
        joined = "\n".join(sorted(p.content_hash for p in self.all_versions()))
        return "sha256:" + hashlib.sha256(joined.encode("utf-8")).hexdigest()

    def listing(self) -> list[dict[str, Any]]:
        return [
            {
                "id": pid,
                "versions": [
                    {
                        "version": p.version,
                        "title": {"zh": p.title.zh, "en": p.title.en},
                        "funding_years": {"from": p.funding_years[0], "to": p.funding_years[1]},
                        "hash": p.content_hash,
                        "rules": len(p.rules),
                        "clauses": len(p.clauses),
                        "file": Path(p.file).name,
                    }
                    for p in self.sets[pid].versions
                ],
            }
            for pid in sorted(self.sets)
        ]

    def claim_schemas(self) -> dict[str, dict[str, Any]]:
        """(policy id, version) component name -> that version's generated claim schema."""
        return {schema_name(p): claim_schema(p) for p in self.all_versions()}


def schema_name(policy: CompiledPolicy) -> str:
    """An OpenAPI component name for a version's claim schema (letters, digits, `.`, `-`, `_` only)."""
    raw = f"Claim.{policy.id}.{policy.version}"
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in ".-_") else "_" for ch in raw)


def clauses(policy: CompiledPolicy) -> list[dict[str, Any]]:
    return [
        {"id": cid, "citation": c.citation, "article": c.article, "text": c.text, "en": c.en, "computable": c.computable}
        for cid, c in policy.clauses.items()
    ]


def load_catalogue(folder: str | Path, generation: int = 1) -> Catalogue:
    """Every *.yaml directly in `folder`, grouped by policy id; PolicyError with every problem of every file."""
    root = Path(folder)
    if not root.is_dir():  # (each was "nope is not a folder", said of a folder mistyped as of a file given for one)
        said = (
            msg("service.policy.file_not_folder", parent=str(root.parent))
            if root.is_file()
            else msg("service.policy.missing_folder")
            if not root.exists()
            else msg("service.policy.not_folder", folder=str(root))
        )
        raise PolicyError([Problem(said, file=str(root), code="service.policies")], msg("service.policy.no_folder"))
    files = sorted(p for p in root.glob("*.yaml") if p.is_file())
    problems: list[Problem] = []
    if not files:
        problems.append(Problem(msg("service.policy.no_yaml"), file=str(root), code="service.policies"))
    if len(files) > MAX_POLICY_FILES:
        too_many = msg("service.policy.too_many", count=len(files), limit=MAX_POLICY_FILES)
        problems.append(Problem(too_many, file=str(root), code="service.policies"))
        files = []
    by_id: dict[str, list[CompiledPolicy]] = {}
    for f in files:
        try:
            p = load_policy(f)
        except EngineError as err:
            problems.extend(err.problems)
            continue
        by_id.setdefault(p.id, []).append(p)
    sets: dict[str, PolicySet] = {}
    for pid, versions in by_id.items():
        pset = PolicySet(tuple(versions))
        problems.extend(p for p in pset.report() if p.severity == "error")
        sets[pid] = pset
    if problems:
        raise PolicyError(problems, msg("service.policy.invalid", folder=str(root)))
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return Catalogue(str(root), sets, now, generation)
