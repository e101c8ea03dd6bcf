"""The one walk of a policy visits each part exactly once (shared ones once per rule using them, `first` once).

The counts are written by hand from the YAML, not computed by the engine. How they were counted:
`grep -c '^  - id:'` inside the `rules:`, `checks:`, `shared_caps:` and `shared_limits:` sections; `level:`
and `documents:` lines inside `checks:`; and, inside `rules:`, the entries listed under each rule's
`caps:`, `limits:` and `when:` and its `subject:` keys (an awk script tracking the current section and
key). Clauses: the keys under `clauses:`. An item check without `applies_to` applies to every rule (one
rule per item type); `applies_to` names the rules' item types it applies to.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from engine.deciding.ready import load_policy
from engine.language.model import Cap, Clause, CompiledPolicy, DocumentCheck, Limit, Rule, Subject
from engine.language.model import Test as ModelTest  # not `Test`: pytest would try to collect it
from engine.language.walk import PolicyVisitor, Site, walk

ROOT = Path(__file__).resolve().parent.parent

# kind -> (distinct parts, visits). Visits differ from parts where a part is shared by several rules.
PINGGU = {
    "clause": (33, 33),
    "rule": (14, 14),
    "applicant check": (4, 4),  # standing-organisation, standing-natural-person, five-year-bar, applied-in-following-year
    "applicant document check": (1, 1),  # proof-of-standing
    # occurred-in-funding-year and no-double-benefit apply to all 14 rules, first-right-holder to 3 item
    # types, patents-and-trademarks-only to 1, underlying-right-patents-and-trademarks-only to 2 (securitisation,
    # platform transformation), alliance-costs-in-funding-year to 1: 14 + 14 + 3 + 1 + 2 + 1 = 35 visits
    "item check": (6, 35),
    "item document check": (0, 0),
    # `when` entries: invention-patent-fees' two (an invention; its number's kind), pledge-loan-interest,
    # platform-..., alliance-operation
    "condition": (5, 5),
    "subject": (0, 0),
    "cap": (7, 7),  # 7 `- id:` under rules' `caps:`, no shared_caps
    "limit": (8, 8),  # 8 `- id:` under rules' `limits:`, no shared_limits
}
FICTIONAL = {
    "clause": (24, 24),
    "rule": (11, 11),
    "applicant check": (1, 1),  # registered-and-taxed
    "applicant document check": (1, 1),  # business-licence
    "item check": (1, 11),  # in-funding-year, no applies_to: each of the 11 rules
    "item document check": (0, 0),
    "condition": (1, 1),
    "subject": (3, 3),
    # 2 caps with their own id + 1 shared cap listed ({shared: international-market-annual-cap}) by 2 rules
    "cap": (3, 4),
    # 1 limit with its own id + 1 shared limit listed ({shared: cooperation-three-projects-a-year}) by 2 rules
    "limit": (2, 3),
}


class _Count(PolicyVisitor):
    def __init__(self) -> None:
        self.visits: Counter[str] = Counter()
        self.firsts: Counter[tuple[str, str]] = Counter()  # (kind, id) -> visits with at.first
        self.sites: list[tuple[str, str, Site]] = []
        self.open: list[str] = []

    def seen(self, kind: str, ident: str, at: Site) -> None:
        self.visits[kind] += 1
        if at.first:
            self.firsts[kind, ident] += 1
        self.sites.append((kind, ident, at))

    def visit_clause(self, key: str, clause: Clause, at: Site) -> None:
        self.seen("clause", key, at)

    def visit_check(self, test: ModelTest, at: Site) -> None:
        self.seen("applicant check" if at.rule is None else "item check", test.id, at)

    def visit_document_check(self, check: DocumentCheck, at: Site) -> None:
        self.seen("applicant document check" if at.rule is None else "item document check", check.id, at)

    def enter_rule(self, rule: Rule, at: Site) -> None:
        self.open.append(rule.id)
        self.seen("rule", rule.id, at)

    def leave_rule(self, rule: Rule, at: Site) -> None:
        assert self.open.pop() == rule.id

    def visit_condition(self, test: ModelTest, at: Site) -> None:
        self.seen("condition", test.id, at)

    def visit_subject(self, subject: Subject, at: Site) -> None:
        assert at.rule is not None
        self.seen("subject", at.rule.id, at)

    def visit_cap(self, cap: Cap, at: Site) -> None:
        self.seen("cap", cap.id, at)

    def visit_limit(self, limit: Limit, at: Site) -> None:
        self.seen("limit", limit.id, at)


def _at(data: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        data = data[step]
    return data


@pytest.mark.parametrize(
    ("path", "expected"),
    [("policies/pinggu_2020.yaml", PINGGU), ("tests/fixtures/fictional_district.yaml", FICTIONAL)],
)
def test_walk_visits_every_part_once(path: str, expected: dict[str, tuple[int, int]]) -> None:
    policy: CompiledPolicy = load_policy(ROOT / path)
    count = _Count()
    walk(policy, count)
    assert not count.open
    got = {kind: (sum(1 for k, _ in count.firsts if k == kind), count.visits[kind]) for kind in expected}
    assert got == expected
    # each part is `first` exactly once, and every visited kind is one the table counts
    assert set(count.firsts.values()) == {1}
    assert set(count.visits) <= set(expected)
    for kind, ident, at in count.sites:
        node = _at(policy.data, at.path)  # the path points at where the part is written
        if kind == "clause":
            assert at.path == ("clauses", ident)
        elif kind == "condition":
            assert "test" in node and at.path[:2] == _at_rule(policy, at)
        elif kind == "subject":
            assert "key" in node
        else:
            assert node["id"] == ident, (kind, ident, at.path)
        if kind in ("cap", "limit", "item check"):
            assert at.rule is not None and at.rule.id in at.users


def _at_rule(policy: CompiledPolicy, at: Site) -> tuple[str | int, ...]:
    assert at.rule is not None
    return ("rules", [r.id for r in policy.rules].index(at.rule.id))


def test_shared_parts_name_all_their_users() -> None:
    policy = load_policy(ROOT / "tests/fixtures/fictional_district.yaml")
    count = _Count()
    walk(policy, count)
    shared = {(kind, ident): at for kind, ident, at in count.sites if kind in ("cap", "limit") and len(at.users) > 1}
    assert set(shared) == {("cap", "international-market-annual-cap"), ("limit", "cooperation-three-projects-a-year")}
    for (kind, _), at in shared.items():
        assert at.path[0] == f"shared_{kind}s" and len(at.users) == 2
