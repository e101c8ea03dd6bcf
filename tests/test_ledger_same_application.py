"""Equal applications are equal whatever optional keys were left out (issue 15, point 4): the same application read
from a workbook (`"documents": []`) and from JSON Lines (the key left out) is one application to the ledger, on SQLite
and on PostgreSQL; the content hashes already in a ledger keep their meaning; different content is still refused.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest
from conftest import claim, item
from test_ledger_support import BACKENDS, make_ledger_url

import engine
from engine.records.ledger import AlreadyCommitted, Ledger, stated_in_full

P = "invention_patent_grant"


@pytest.fixture(params=BACKENDS)
def url(request: Any, tmp_path: Any) -> Any:
    yield from make_ledger_url(request.param, tmp_path)


def _as_json_lines() -> dict[str, Any]:
    """An application that leaves out every optional fact it does not state."""
    data = claim(item(P, "p1"), claim_id="C-SAME")
    data.pop("documents", None)
    data["applicant"].pop("roles", None)
    data["items"][0].pop("right_holders", None)
    return data


def _as_workbook() -> dict[str, Any]:
    """The same application as a workbook row set gives it: the empty lists written out."""
    data = copy.deepcopy(_as_json_lines())
    data["documents"] = []
    data["applicant"]["roles"] = []
    data["items"][0]["right_holders"] = []
    return data


def _sha(raw: dict[str, Any]) -> str:
    # the content hash as the ledger has always written it: sha256 of the sorted, compact JSON text
    return "sha256:" + hashlib.sha256(json.dumps(raw, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _stored(ledger: Ledger) -> list[str]:
    return [row[0] for row in ledger.db.query("SELECT content_hash FROM commits ORDER BY seq")]


@pytest.mark.parametrize(("first", "second"), [(_as_workbook, _as_json_lines), (_as_json_lines, _as_workbook)])
def test_the_same_application_from_a_workbook_and_json_lines_is_already_committed(
    url: str, policy: engine.CompiledPolicy, first: Any, second: Any
) -> None:
    with Ledger(url) as ledger:
        assert ledger.commit(policy, first()).status == "committed"
        again = ledger.commit(policy, second())
        assert again.status == "already_committed"
        assert ledger.counts()["commits"] == 1


def test_the_hash_of_an_application_stating_no_default_is_unchanged(url: str, policy: engine.CompiledPolicy) -> None:
    data = _as_json_lines()
    with Ledger(url) as ledger:
        ledger.commit(policy, data)
        assert _stored(ledger) == [_sha(data)]


def test_a_commit_recorded_before_keeps_matching_the_application_as_it_was_submitted(url: str, policy: engine.CompiledPolicy) -> None:
    workbook = _as_workbook()
    with Ledger(url) as ledger:
        ledger.commit(policy, workbook)
        # what an engine before this change stored: the hash of the application as submitted, empty lists included
        ledger.db.execute("UPDATE commits SET content_hash = ?", (_sha(workbook),))
        assert ledger.commit(policy, _as_workbook()).status == "already_committed"
        assert _stored(ledger) == [_sha(workbook)]  # nothing recorded is rewritten


def test_different_content_is_still_refused(url: str, policy: engine.CompiledPolicy) -> None:
    changed = _as_workbook()
    changed["items"][0]["official_fees_paid"] = "9999.00"
    with Ledger(url) as ledger:
        ledger.commit(policy, _as_json_lines())
        with pytest.raises(AlreadyCommitted, match="different content"):
            ledger.commit(policy, changed)
        named = _as_json_lines()
        named["items"][0]["right_holders"] = ["北京平谷示例科技有限公司"]  # a list that states something is content
        with pytest.raises(AlreadyCommitted, match="different content"):
            ledger.commit(policy, named)


def test_a_commit_recorded_before_in_full_matches_the_application_without_its_defaults(url: str, policy: engine.CompiledPolicy) -> None:
    # recorded before this change from a form stating every default (e.g. a workbook's); resubmitted from JSON Lines
    full = stated_in_full(policy, _as_json_lines())
    assert (full["documents"], full["applicant"]["roles"], full["applicant"]["fraud_finding_dates"]) == ([], [], [])
    assert full["items"][0]["right_holders"] == []
    with Ledger(url) as ledger:
        ledger.commit(policy, full)
        ledger.db.execute("UPDATE commits SET content_hash = ?", (_sha(full),))
        assert ledger.commit(policy, _as_json_lines()).status == "already_committed"
