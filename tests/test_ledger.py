"""The grants ledger: history across years, idempotent commits, replacements, reversals, findings, schema.

Every test runs against a real SQLite file and a real PostgreSQL schema (skipped, saying why,
when $POLICY_ENGINE_TEST_PG is unset). Amounts are worked out by hand from the measures.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from conftest import ALLIANCE_ID, APPLICANTS, ENTERPRISE_2_ID, ENTERPRISE_ID, PLATFORM_ID, claim, item
from test_ledger_support import BACKENDS, make_ledger_url

from engine.core.i18n import tr
from engine.records.ledger import SCHEMA_VERSION, AlreadyCommitted, Ledger, LedgerError


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    yield from make_ledger_url(request.param, tmp_path)


def items_of(result):
    return {d["item"]: d for d in result.decision["items"]}


def test_schema_version_and_migrations_are_idempotent(url):
    with Ledger(url) as ledger:
        # 2: rounding of scaled round budgets (tests/test_batch.py); 3: the audit table (tests/test_service.py);
        # 4: a reversal's request key (below); 5: a reversal or finding withdrawn (tests/test_ledger_cli.py);
        # 6: a grant's keys indexed by the grant (below)
        assert ledger.schema_version() == SCHEMA_VERSION == 6
        assert ledger.migrate() == 6
    with Ledger(url) as again:  # reopening applies nothing twice
        assert again.schema_version() == 6
        assert again.counts()["commits"] == 0


def test_a_commit_is_exported_by_its_grants_keys_not_by_reading_every_key(tmp_path):
    # a batch worker exports each commit it decides (`export_commit`); without an index on grant_keys.grant_id,
    # SQLite read every key of the ledger for each one (a round on workers grew with the square of its size)
    with Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}") as ledger:
        plan = ledger.db.query(
            "EXPLAIN QUERY PLAN SELECT grant_id, key FROM grant_keys WHERE grant_id IN (SELECT id FROM grants WHERE commit_seq = ?)",
            (1,),
        )
        steps = [row[-1] for row in plan]
        assert "SCAN grant_keys" not in steps
        assert any(step.startswith("SEARCH grant_keys USING INDEX grant_keys_grant (grant_id=?)") for step in steps)


def test_a_newer_schema_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    with Ledger(url) as ledger:
        ledger.db.execute("INSERT INTO schema_version (version, applied_at) VALUES (99, 'later')")
    with pytest.raises(LedgerError, match="newer than this engine"):
        Ledger(url)


def _open_at(url: str, at: float, said: Any) -> None:
    import time

    while time.time() < at:  # (all at the same moment)
        pass
    try:
        Ledger(url).close()
    except Exception as exc:  # (what the process met is the finding)
        said.put(f"{type(exc).__name__}: {exc}")
    else:
        said.put("")


def test_processes_opening_a_new_sqlite_ledger_at_once_all_open_it(tmp_path):
    # two service workers (or batch runs) opening a ledger file that is not there yet: switching a new file to WAL
    # takes it whole, and SQLite said "database is locked" at once to the others (no busy wait there); before, about
    # one open in two failed in this race, 4 processes at the same moment on a fresh file (CI met it as a 500 of
    # POST /ledger/commit). 20 fresh files, 4 processes each: every open succeeds, and the file is in WAL mode
    import multiprocessing
    import sqlite3
    import time

    ctx = multiprocessing.get_context("fork")
    said = ctx.Queue()
    for k in range(20):
        path = tmp_path / f"new-{k}.sqlite"
        at = time.time() + 0.15
        procs = [ctx.Process(target=_open_at, args=(f"sqlite:///{path}", at, said)) for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert [said.get(timeout=10) for _ in procs] == ["", "", "", ""], path
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_default_url_is_an_sqlite_file_or_the_environment(monkeypatch):
    from engine.records.ledger import default_url

    monkeypatch.delenv("POLICY_ENGINE_LEDGER", raising=False)
    assert default_url().startswith("sqlite:///") and default_url().endswith(".sqlite")
    monkeypatch.setenv("POLICY_ENGINE_LEDGER", "postgresql://office/ledger")
    assert default_url() == "postgresql://office/ledger"


def test_history_across_years_insurance_two_years(policy, url):
    # 第六条（二）: 50% of premiums, at most 2 years (R12). Premium 30,000 -> 15,000 a year; the third year is refused.
    with Ledger(url) as ledger:
        results = []
        for year in (2021, 2022, 2023):
            c = claim(
                item("patent_insurance", "i1", date=f"{year}-05-01", premium_paid="30000.00"), funding_year=year, claim_id=f"INS-{year}"
            )
            results.append(ledger.commit(policy, c))
        assert [items_of(r)["i1"]["status"] for r in results] == ["granted", "granted", "refused"]
        assert [items_of(r)["i1"]["amount"] for r in results] == ["15000.00", "15000.00", "0.00"]
        assert items_of(results[2])["i1"]["reasons"][0]["check"] == "insurance-two-years"
        assert ledger.verify(policy) == []


def test_grant_record_carries_keys_policy_and_time(policy, url):
    with Ledger(url) as ledger:
        ledger.commit(policy, claim(item("pledge_loan_interest", "l1", loan_id="LOAN-9", annual_interest_paid="100000.00"), claim_id="G-1"))
        [g] = list(ledger.grants())
    assert g["claim_id"] == "G-1" and g["item_id"] == "l1" and g["rule"] == "pledge-loan-interest"
    assert g["applicant_id"] == ENTERPRISE_ID and g["funding_year"] == 2021 and g["amount"] == "50000.00"
    assert g["policy_id"] == policy.id and g["policy_hash"] == policy.content_hash and g["committed_at"]
    assert {"cap": "pledge-annual-cap", "scope": [ENTERPRISE_ID, 2021], "amount": "50000.00"} in g["consumes"]
    assert {"limit": "pledge-three-times", "scope": [ENTERPRISE_ID], "counts": ["LOAN-9", 2021]} in g["consumes"]
    assert g["superseded"] is False and g["reversed"] is False


def test_same_application_twice_grants_once(policy, url):
    c = claim(item("national_ip_title", "t1", title="demonstration"), claim_id="T-1")
    with Ledger(url) as ledger:
        first = ledger.commit(policy, c)
        second = ledger.commit(policy, c)
        assert (first.status, second.status) == ("committed", "already_committed")
        assert second.decision["total"] == first.decision["total"] == "200000.00"  # 第七条（一）: 20万, once
        assert ledger.counts()["grants"] == 1 and ledger.counts()["commits"] == 1


def test_amended_application_needs_explicit_replacement_and_keeps_the_old(policy, url):
    first = claim(item("patent_insurance", "i1", premium_paid="40000.00"), claim_id="A-1")
    amended = claim(item("patent_insurance", "i1", premium_paid="60000.00"), claim_id="A-1")
    with Ledger(url) as ledger:
        assert items_of(ledger.commit(policy, first))["i1"]["amount"] == "20000.00"
        with pytest.raises(AlreadyCommitted, match="replacement"):
            ledger.commit(policy, amended)
        r = ledger.commit(policy, amended, replace=True)
        assert r.status == "replaced" and r.decision["ledger"]["replaces"] == 1
        assert items_of(r)["i1"]["amount"] == "30000.00"  # 50% of 60,000; the replaced grant no longer counts
        grants = list(ledger.grants(include_superseded=True))
        assert [(g["amount"], g["superseded"]) for g in grants] == [("20000.00", True), ("30000.00", False)]
        assert ledger.counts()["active_commits"] == 1 and ledger.counts()["commits"] == 2
        assert ledger.stored_decision("A-1")["total"] == "30000.00"


def test_history_found_by_shared_key_across_applicants(policy, url):
    # 第六条（五）: at most 20万 per alliance, whoever applies for it (R15). Two applicants, one alliance.
    other = dict(APPLICANTS["alliance"], id="91110117MA02XYHW3G", name="另一联盟运营单位")
    with Ledger(url) as ledger:
        a = ledger.commit(
            policy,
            claim(item("alliance_operation", "a1", alliance_id="ALLY-X", actual_costs="300000.00"), applicant="alliance", claim_id="AL-1"),
        )
        b_claim = claim(item("alliance_operation", "a1", alliance_id="ALLY-X", actual_costs="300000.00"), applicant=other, claim_id="AL-2")
        from engine import parse_claim

        history = ledger.history_for(policy, parse_claim(policy, b_claim))
        assert [g.claim_id for g in history] == ["AL-1"]  # not the applicant's: found through the alliance key
        b = ledger.commit(policy, b_claim)
        assert items_of(a)["a1"]["amount"] == "150000.00"
        assert items_of(b)["a1"]["status"] == "reduced" and items_of(b)["a1"]["amount"] == "50000.00"
        assert ledger.verify(policy) == []
    assert ALLIANCE_ID != other["id"]


def test_history_for_leaves_out_unrelated_and_superseded(policy, url):
    with Ledger(url) as ledger:
        ledger.commit(policy, claim(item("navigation_project", "n1", project_id="P-1"), claim_id="N-1"))
        ledger.commit(
            policy,
            claim(
                item("navigation_project", "n1", project_id="P-2"),
                applicant=dict(APPLICANTS["enterprise"], id="91110117MA02XYHW3G"),
                claim_id="N-2",
            ),
        )
        from engine import parse_claim

        mine = parse_claim(policy, claim(item("navigation_project", "n9", project_id="P-9"), claim_id="N-3"))
        assert [g.claim_id for g in ledger.history_for(policy, mine)] == ["N-1"]  # same applicant only; N-2 shares nothing
        ledger.commit(
            policy, claim(item("navigation_project", "n1", project_id="P-1", actual_costs="20000.00"), claim_id="N-1"), replace=True
        )
        hist = ledger.history_for(policy, mine)
        assert [(g.claim_id, g.amount) for g in hist] == [("N-1", Decimal("10000.00"))]


def test_reversal_is_its_own_entry_and_frees_nothing(policy, url):
    # 第七条（三）: certification rewarded once (R17). Funds returned (第十四条) do not make it payable again.
    with Ledger(url) as ledger:
        ledger.commit(policy, claim(item("ip_management_certification", "c1"), claim_id="C-2021"))
        rid = ledger.reverse("C-2021", "c1", reason="funds reclaimed after a finding of fraud", decided_on="2022-09-01")
        assert rid == 1
        [rev] = ledger.reversals()
        assert rev["returned"] == "50000.00" and rev["claim_id"] == "C-2021"
        [g] = list(ledger.grants())
        assert g["reversed"] is True and g["amount"] == "50000.00"  # the grant itself is untouched
        later = ledger.commit(
            policy, claim(item("ip_management_certification", "c1", date="2022-05-01"), funding_year=2022, claim_id="C-2022")
        )
        assert items_of(later)["c1"]["status"] == "refused"
        assert items_of(later)["c1"]["reasons"][0]["check"] == "certification-once"
        with pytest.raises(LedgerError):
            ledger.reverse("C-2021", "nope", reason="x")


def test_a_reversal_asked_again_under_its_request_key_is_recorded_once(policy, url):
    # a red team sent a reversal of 10.00 twice (its answer lost): two were recorded, 20.00 counted returned
    with Ledger(url) as ledger:
        ledger.commit(policy, claim(item("ip_management_certification", "c1"), claim_id="K-1"))  # 50,000 (R17)
        ask = {"reason": "partial return", "returned": Decimal("10.00"), "decided_on": "2022-05-01", "request_key": "req-1"}
        first = ledger.reverse("K-1", "c1", **ask)
        assert ledger.reverse("K-1", "c1", **ask) == first  # the same one: nothing recorded twice
        assert [r["returned"] for r in ledger.reversals()] == ["10.00"]
        with pytest.raises(LedgerError) as caught:  # another reversal under the key: refused, naming the first
            ledger.reverse("K-1", "c1", **{**ask, "returned": Decimal("20.00")})
        assert str(caught.value) == (
            f"request key req-1 was used for another reversal (reversal {first}, claim K-1 item c1): give each reversal its own key"
        )
        second = ledger.reverse("K-1", "c1", **{**ask, "request_key": "req-2"})  # a second return of 10.00: its own key
        assert second != first and [r["returned"] for r in ledger.reversals()] == ["10.00", "10.00"]
        ledger.reverse("K-1", "c1", reason="x", returned=Decimal("5.00"))  # without a key: as before
        ledger.reverse("K-1", "c1", reason="x", returned=Decimal("5.00"))
        assert len(ledger.reversals()) == 4
        # the whole grant under a key used for 10.00 is another reversal (the review found it answered the 10.00's id)
        with pytest.raises(LedgerError):
            ledger.reverse("K-1", "c1", **{**ask, "returned": None})
        # a whole return retried: the same one, though nothing is left to return the second time
        ledger.commit(policy, claim(item("beijing_ip_demonstration_unit", "d1"), claim_id="K-2"))
        whole = {"reason": "fraud", "decided_on": "2022-05-01", "request_key": "req-3"}
        first_whole = ledger.reverse("K-2", "d1", **whole)
        assert ledger.reverse("K-2", "d1", **whole) == first_whole
        assert [r["claim_id"] for r in ledger.reversals()].count("K-2") == 1


def test_a_commit_with_funds_returned_cannot_be_replaced_to_free_its_cap(policy, url):
    # 第六条（三）: at most 50万 per enterprise across years (R13). 50万 granted, 10万 of it returned; the application
    # replaced (--replace) superseded the reversed grant, which then counted no more: a new claim was paid 50万 again
    whole = item("ip_securitisation", "s1", financing_id="F-1", financing_costs="1000000.00")
    with Ledger(url) as ledger:
        ledger.commit(policy, claim(whole, claim_id="A-1"))
        ledger.reverse("A-1", "s1", reason="funds reclaimed after a finding of fraud", returned=Decimal("100000.00"))
        amended = claim(item("ip_securitisation", "s2", financing_id="F-2", financing_costs="100000.00"), claim_id="A-1")
        with pytest.raises(LedgerError) as caught:
            ledger.commit(policy, amended, replace=True)
        assert "cannot be replaced: 1 of its grants have funds returned on record" in str(caught.value)
        ledger.reverse("A-1", "s1", reason="a second part returned", returned=Decimal("1.00"))  # (two reversals of one grant: one)
        with pytest.raises(LedgerError, match="cannot be replaced: 1 of its grants"):
            ledger.commit(policy, amended, replace=True)
        assert [(g["claim_id"], g["amount"], g["reversed"]) for g in ledger.grants()] == [("A-1", "500000.00", True)]
        later = ledger.commit(
            policy, claim(item("ip_securitisation", "s3", financing_id="F-3", financing_costs="100000.00"), claim_id="A-3")
        )
        assert (items_of(later)["s3"]["status"], items_of(later)["s3"]["amount"]) == ("refused", "0.00")  # the 50万 stays used


def test_finding_is_recorded_for_the_applicant(policy, url):
    with Ledger(url) as ledger:
        ledger.record_finding(ENTERPRISE_ID, "fraud_finding_dates", "2021-06-30", reason="fraud found")
        assert ledger.facts_on_record(ENTERPRISE_ID) == {"fraud_finding_dates": ["2021-06-30"]}
        assert ledger.facts_on_record("91110117MA02XYHW3G") == {}


def test_cap_state_is_read_from_the_ledger_not_the_claim(policy, url):
    # 第六条（一）: 30万 per enterprise per year. 25万 committed, then a second loan asks 10万: 5万 left.
    with Ledger(url) as ledger:
        ledger.commit(policy, claim(item("pledge_loan_interest", "l1", loan_id="L-A", annual_interest_paid="500000.00"), claim_id="P-1"))
        r = ledger.commit(
            policy, claim(item("pledge_loan_interest", "l1", loan_id="L-B", annual_interest_paid="200000.00"), claim_id="P-2")
        )
        cap = next(s for s in items_of(r)["l1"]["steps"] if s["step"] == "cap")
        assert (cap["used_before"], cap["asked"], cap["granted"]) == ("250000.00", "100000.00", "50000.00")


def test_verify_finds_funds_returned_beyond_a_grant_scaled_down_after_them(policy, tmp_path):
    # a grant of a budgeted round reversed in full, then the round scaled anew (a later run into it) below what was
    # returned: verify said nothing, and the next reversal read "300000.00 granted, 450000.00 returned already"
    url = f"sqlite:///{tmp_path / 'v.sqlite'}"
    with Ledger(url) as ledger:
        ledger.commit(policy, claim(item("ip_management_certification", "c1"), claim_id="V-1"))  # 第七条（三）: 5万
        ledger.reverse("V-1", "c1", reason="funds reclaimed")
        assert ledger.verify(policy) == []
        ledger.db.execute("UPDATE grants SET amount = '30000.00'")  # as a rescaled round leaves it
        assert [tr(p, "en") for p in ledger.verify(policy)] == [
            "claim V-1 item c1: 50000.00 returned on record, more than its 30000.00 granted (its round was scaled anew after the reversal)"
        ]


def test_verify_says_grants_keyed_as_a_cap_no_longer_is(policy, tmp_path):
    # the navigation cap keyed anew by applicant and project (N10): a grant recorded under the earlier key (the project
    # alone) counts no more against it, and an applicant's project was paid its ceiling twice with verify silent
    url = f"sqlite:///{tmp_path / 'v.sqlite'}"
    with Ledger(url) as ledger:
        ledger.commit(policy, claim(item("navigation_project", "n1", actual_costs="100000.00"), claim_id="V-1"))
        [(consumes,)] = ledger.db.query("SELECT consumes FROM grants")
        earlier = [dict(c, scope=c["scope"][1:]) if c.get("cap") == "project-cap" else c for c in json.loads(consumes)]
        ledger.db.execute("UPDATE grants SET consumes = ?", (json.dumps(earlier),))  # (as the earlier policy recorded it)
        assert [tr(p, "en") for p in ledger.verify(policy)] == [
            "cap project-cap: 1 key(s) of grants on record are not of the 2 value(s) it is keyed by now: the policy changed "
            "how it keys the cap, and those grants no longer count against it; decide them again under the new key (or keep "
            "the earlier key) before committing more"
        ]


def test_verify_finds_a_planted_violation(policy, tmp_path):
    url = f"sqlite:///{tmp_path / 'v.sqlite'}"
    with Ledger(url) as ledger:
        ledger.commit(policy, claim(item("navigation_project", "n1", actual_costs="100000.00"), claim_id="V-1"))
        assert ledger.verify(policy) == []
        ledger.db.execute("UPDATE grants SET amount = '60000.00'")  # tamper: more than the 5万 project cap
        # (the cap is the applicant's project's, N10)
        # said by the cap's words and clause, its scope as values (an English id and a Python list were a clerk's)
        assert [tr(p, "zh") for p in ledger.verify(policy)] == [
            "第六条第（六）项的封顶（每个项目支持最高不超过5万元；project-cap）范围 91110117MA01ABCD1F、NAV-1：已支持 60,000.00 元，超过上限 50,000.00 元"
        ]


def test_unknown_url_is_refused():
    with pytest.raises(LedgerError, match="unknown ledger URL"):
        Ledger("mysql://x")


def test_a_finding_on_record_bars_a_commit_made_directly(policy, url):
    # 第十四条 (R5, R24): a finding dated 2021-06-30 bars applications submitted within five years;
    # conftest's claim is submitted 2022-03-15, so Ledger.commit itself (not only a batch run) must refuse it.
    with Ledger(url) as ledger:
        ledger.record_finding(ENTERPRISE_ID, "fraud_finding_dates", "2021-06-30", reason="fraud found")
        result = ledger.commit(policy, claim(item("invention_patent_grant", "p1"), claim_id="F-1"))
        assert result.decision["standing"]["result"] == "refused"
        assert result.decision["standing"]["reasons"][0]["check"] == "five-year-bar"
        assert {i["status"] for i in result.decision["items"]} == {"refused"}
        assert result.grants == 0 and list(ledger.grants()) == []
        # another applicant is not touched by the finding: fees 8,400 × 50% = 4,200.00
        other = ledger.commit(
            policy,
            claim(item("invention_patent_grant", "p2", patent_id="ZL202010000002.6"), claim_id="F-2", applicant="public_institution"),
        )
        assert items_of(other)["p2"]["status"] == "granted" and items_of(other)["p2"]["amount"] == "4200.00"


def test_a_commits_decision_is_its_decision_json_with_its_ledger_last(policy, url):
    # the commit's text (stored, and joined into a batch line) is the decision's JSON (`to_dict()`) with the
    # `ledger` member after it; a repeated commit gives the decision as stored; the lines are `json.dumps` of it
    import json

    from engine.deciding.claims import parse_claim
    from engine.deciding.evaluator import evaluate_claim
    from engine.records.batch import decision_line

    c = claim(item("national_ip_title", "t1", title="demonstration"), claim_id="T-9")
    decided = evaluate_claim(policy, parse_claim(policy, c)).to_dict()  # no history: what the empty ledger decides
    assert decided["total"] == "200000.00"  # 第七条（一）: 20万
    with Ledger(url) as ledger:
        first = ledger.commit(policy, c)
        again = ledger.commit(policy, c)
        stored = ledger.stored_decision("T-9")
    ledger_part = {"commit": 1, "round": "pinggu-ip-promotion/2021", "status": "committed"}
    want = {**decided, "ledger": ledger_part}
    assert list(want)[-1] == "ledger"
    assert first.text == json.dumps(want, ensure_ascii=False)  # (the canonical spacing, the keys in their order)
    assert first.decision == want == stored == again.decision
    assert (first.round, again.status, again.body) == ("pinggu-ip-promotion/2021", "already_committed", None)
    where = {"file": "round.jsonl", "line": 3}
    line = json.dumps({**want, "input": where}, ensure_ascii=False) + "\n"
    assert decision_line(first, where, committed=True) == line
    # found already committed: the same decision, its ledger saying so (a re-run's lines said "committed")
    found = json.dumps({**want, "ledger": {**ledger_part, "status": "already_committed"}, "input": where}, ensure_ascii=False) + "\n"
    assert decision_line(again, where, committed=True) == found
    dry = {**want, "ledger": {"round": "pinggu-ip-promotion/2021", "status": "not_committed"}, "input": where}
    assert decision_line(first, where, committed=False) == json.dumps(dry, ensure_ascii=False) + "\n"


def test_a_rounds_commits_are_those_with_active_grants_in_it_in_commit_order(url, policy) -> None:
    # `round_commits` (what a committing run's foresight imports ahead of its own: batch.earlier_share): commits 1
    # (A), 2 (B), 3 (A), 4 (A, its one item refused: no grant), then 5 replacing 1 in A (1's grants superseded)
    with Ledger(url) as ledger:
        granted = item("ip_management_certification", "c1")  # R17: 50,000.00 to an enterprise
        ledger.commit(policy, claim(granted, claim_id="K-1"), round="A")
        ledger.commit(policy, claim(granted, claim_id="K-2", id=ENTERPRISE_2_ID), round="B")
        ledger.commit(policy, claim(granted, claim_id="K-3", id=PLATFORM_ID), round="A")
        ledger.commit(policy, claim(item("ip_management_certification", "c1", documents=[]), claim_id="K-4"), round="A")
        amended = claim(item("ip_management_certification", "c1", date="2021-07-01"), claim_id="K-1")
        assert ledger.commit(policy, amended, replace=True, round="A").status == "replaced"
        held = ledger.db.query("SELECT commit_seq, superseded FROM grants ORDER BY commit_seq")
        assert [(int(s), int(x)) for s, x in held] == [(1, 1), (2, 0), (3, 0), (5, 0)]  # (the premises: 4 none, 1 superseded)
        assert ledger.round_commits(["A"]) == [3, 5]
        assert ledger.round_commits(["B", "A"]) == [2, 3, 5]
        assert ledger.round_commits(["C"]) == [] and ledger.round_commits([]) == []


def test_a_rounds_grant_amounts_are_each_claims_read_at_once(url, policy) -> None:
    # `round_grant_amounts` (a scaled round's checks, the workers' foresight) gives for each claim with active
    # grants in the rounds asked what `claim_grant_amounts` gives claim by claim: a replaced claim's superseded
    # grants left out, a claim with none absent, another round's claims not read
    from benchmarks.generate import claims as generated

    with Ledger(url) as ledger:
        committed = []
        for c in generated(120, seed=3):
            ledger.commit(policy, c)
            committed.append(c)
        first = committed[0]
        again = json.loads(json.dumps(first))
        again["items"] = again["items"][:1]  # (the amendment keeps one item: the others' grants superseded)
        ledger.commit(policy, again, replace=True)
        rounds = {str(r) for (r,) in ledger.db.query("SELECT DISTINCT round FROM grants")}
        ((first_round,),) = ledger.db.query("SELECT DISTINCT round FROM grants WHERE claim_id = ?", (first["claim_id"],))
        asked = [str(first_round)]  # (the amended claim's round; at least one other is not asked)
        assert len(rounds - set(asked)) >= 1
        superseded = ledger.db.query("SELECT count(*) FROM grants WHERE claim_id = ? AND superseded = 1", (first["claim_id"],))
        assert superseded[0][0] >= 1  # (the amendment left grants behind that must not be read)
        got = ledger.round_grant_amounts(asked)
        claims_in = {str(c): str(r) for c, r in ledger.db.query("SELECT DISTINCT claim_id, round FROM grants WHERE superseded = 0")}
        assert set(got) == {c for c, r in claims_in.items() if r in asked} and first["claim_id"] in got
        for claim_id in got:
            assert got[claim_id] == ledger.claim_grant_amounts(claim_id)
        assert len(got[first["claim_id"]]) == 1  # (its one item kept, granted)
