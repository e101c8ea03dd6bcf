"""Regression tests from a review of engine/records/ledger.py: each pins a bug found and fixed, or a property checked.

* PostgreSQL commits run READ COMMITTED whatever the server's default: under a REPEATABLE READ
  default the snapshot was taken by the lock statement before it waited, so the commit that held
  the lock stayed invisible and two commits could jointly pass a limit.
* A commit that fails to get the lock (lock_timeout) no longer leaves the connection in an aborted
  transaction that fails every later commit of the same ledger (a whole batch).
* A ledger opened before fork() and used in the children: each child opens its own connection
  (PostgreSQL: a shared socket interleaved the children's protocol messages and hung or failed).
* A reversal returns at most what was granted, in total, and a positive amount.
* history_for finds every key a grant consumes, and hostile text is bound, never spliced into SQL.

Amounts by hand: 第五条（一） invention patent official fees are supported at 50% (8,400 -> 4,200),
once per patent (R8); 第七条（三） certification 5万, once.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import threading
import time
from decimal import Decimal

import pytest
from conftest import ENTERPRISE_2_ID, ENTERPRISE_ID, ROOT, SHARED_PATENT, claim, item, patent_number
from test_ledger_support import BACKENDS, make_ledger_url

from engine.core.errors import ClaimError
from engine.deciding.claims import parse_claim
from engine.deciding.evaluator import evaluate_claim
from engine.records.ledger import _LOCK_KEY, Ledger, LedgerError, key_text, possible_keys


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    yield from make_ledger_url(request.param, tmp_path)


@pytest.fixture
def pg(tmp_path):
    yield from make_ledger_url("postgresql", tmp_path)


def patent_claim(claim_id: str, applicant_id: str, patent: str = SHARED_PATENT) -> dict:
    app = {"id": applicant_id}
    return claim(item("invention_patent_grant", "p1", patent_id=patent, official_fees_paid="8400.00"), claim_id=claim_id, **app)


def _waiting_for_the_lock(conn) -> int:
    return int(conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchone()[0])


@pytest.mark.parametrize("isolation", ["repeatable%5C%20read", "serializable"])
def test_pg_commits_are_read_committed_whatever_the_server_default(policy, pg, isolation):
    # Two officers commit the same patent while a third party holds the ledger lock; both wait on it.
    # Then the lock is released: the second to get it must see the first one's grant (paid once).
    import psycopg

    url = f"{pg}%20-cdefault_transaction_isolation%3D{isolation}"
    with Ledger(url) as probe:
        assert probe.db.query("SHOW default_transaction_isolation")[0][0] == isolation.replace("%5C%20", " ")
    results: dict[str, object] = {}

    def officer(claim_id: str, applicant: str) -> None:
        try:
            with Ledger(url) as ledger:
                results[claim_id] = ledger.commit(policy, patent_claim(claim_id, applicant))
        except Exception as exc:  # reported by the assertion below
            results[claim_id] = exc

    holder = psycopg.connect(pg.split("?")[0], autocommit=True)
    try:
        holder.execute("BEGIN")
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        threads = [threading.Thread(target=officer, args=a) for a in (("RC-1", ENTERPRISE_ID), ("RC-2", ENTERPRISE_2_ID))]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while _waiting_for_the_lock(holder) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _waiting_for_the_lock(holder) == 2
        holder.execute("COMMIT")
        for t in threads:
            t.join(30)
    finally:
        holder.close()
    assert all(not isinstance(r, Exception) for r in results.values()), results
    with Ledger(url) as ledger:
        grants = list(ledger.grants())
        assert ledger.verify(policy) == []
    assert [(g["rule"], g["amount"]) for g in grants] == [("invention-patent-fees", "4200.00")]  # paid once, not twice


def test_pg_a_lock_timeout_leaves_the_ledger_usable(policy, pg):
    import psycopg

    url = f"{pg}%20-clock_timeout%3D200"
    holder = psycopg.connect(pg.split("?")[0], autocommit=True)
    with Ledger(url) as ledger:
        holder.execute("BEGIN")
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        with pytest.raises(psycopg.errors.LockNotAvailable):
            ledger.commit(policy, patent_claim("LT-1", ENTERPRISE_ID))
        holder.execute("COMMIT")
        holder.close()
        # before the fix: "current transaction is aborted" here and on every later commit
        assert ledger.commit(policy, patent_claim("LT-1", ENTERPRISE_ID)).status == "committed"
        assert ledger.counts()["grants"] == 1


def _child_commits(ledger: Ledger, policy, worker: int) -> None:
    for k in range(4):
        ledger.commit(policy, patent_claim(f"F-{worker}-{k}", ENTERPRISE_ID, patent=patent_number(100 * worker + k)))


def test_a_ledger_opened_before_fork_works_in_the_children_and_the_parent(policy, url):
    ctx = mp.get_context("fork")
    with Ledger(url) as ledger:
        ledger.commit(policy, patent_claim("F-parent", ENTERPRISE_ID, patent=patent_number(900)))
        procs = [ctx.Process(target=_child_commits, args=(ledger, policy, w)) for w in range(3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
        for p in procs:
            if p.exitcode is None:
                p.kill()
        assert [p.exitcode for p in procs] == [0, 0, 0]
        # the parent's own connection is untouched by the children
        ledger.commit(policy, patent_claim("F-parent-2", ENTERPRISE_ID, patent=patent_number(901)))
        counts = ledger.counts()
        assert ledger.verify(policy) == []
    assert (counts["commits"], counts["grants"]) == (14, 14)  # 1 + 3 x 4 + 1, each patent distinct: 4,200 each


def test_a_reversal_returns_at_most_what_was_granted(policy, url):
    with Ledger(url) as ledger:
        ledger.commit(policy, claim(item("ip_management_certification", "c1"), claim_id="RV-1"))  # 5万
        ledger.reverse("RV-1", "c1", reason="partly reclaimed", returned=Decimal("20000.00"))
        with pytest.raises(LedgerError, match="cannot be returned"):
            ledger.reverse("RV-1", "c1", reason="the rest and more", returned=Decimal("30000.01"))
        ledger.reverse("RV-1", "c1", reason="the rest", returned=Decimal("30000.00"))
        with pytest.raises(LedgerError, match="cannot be returned"):  # a second full reversal (a rerun script)
            ledger.reverse("RV-1", "c1", reason="again")
        for bad in ("0", "-1.00", "NaN", "Infinity"):
            with pytest.raises(LedgerError):
                ledger.reverse("RV-1", "c1", reason="bad", returned=Decimal(bad))
        assert [r["returned"] for r in ledger.reversals()] == ["20000.00", "30000.00"]


def test_history_for_finds_every_key_a_grant_consumes(policy):
    # Completeness: a key consumed but not among possible_keys would hide a shared cap from other applicants.
    claims = [json.loads(x) for x in (ROOT / "examples" / "round_2021.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    claims.append(json.loads((ROOT / "examples" / "claim_enterprise_2021.json").read_text(encoding="utf-8")))
    claims.extend(json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "tests" / "golden").glob("*.claim.json")))
    rules, consumed = set(), 0
    for data in claims:
        try:
            parsed = parse_claim(policy, data)
        except ClaimError:  # the example round has rows that are wrong on purpose (error records)
            continue
        keys = possible_keys(policy, parsed)
        for g in evaluate_claim(policy, parsed, []).grants:
            rules.add(g.rule)
            for c in g.consumes:
                consumed += 1
                assert key_text(c.kind, c.id, c.scope) in keys, (parsed.claim_id, g.item_id, c)
    assert consumed > 20 and len(rules) >= 10


def test_hostile_text_is_bound_not_spliced(policy, url):
    nasty = "x'); DROP TABLE grants; -- %s ? %(a)s \\"
    # (a project number is free text, keyed by a cap: a patent number has a form, N7)
    hostile = claim(item("navigation_project", "p1", project_id=nasty, actual_costs="60000.00"), claim_id=nasty, id=ENTERPRISE_ID)
    with Ledger(url) as ledger:
        r = ledger.commit(policy, hostile)
        assert r.status == "committed" and r.grants == 1
        assert ledger.commit(policy, hostile).status == "already_committed"
        [g] = list(ledger.grants())
        assert g["claim_id"] == nasty and {"cap": "project-cap", "scope": [ENTERPRISE_ID, nasty]} in [  # (the applicant's project, N10)
            {k: v for k, v in c.items() if k in ("cap", "scope")} for c in g["consumes"] if "cap" in c
        ]
        ledger.reverse(nasty, "p1", reason=nasty)
        assert ledger.reversals()[0]["reason"] == nasty and ledger.counts()["grants"] == 1
