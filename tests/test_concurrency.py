"""Concurrency: several processes commit conflicting decisions at the same moment; no cap or limit is ever exceeded.

Each process commits claims by the same enterprise (pledge-loan subsidies against the 30万 yearly cap and
the 3-times limit, patent insurance against the 10万 yearly cap, one shared navigation project against its
5万 cap, one shared invention patent paid once) and claims by different alliance applicants for one shared
alliance (20万 cap). All processes meet at a barrier before each of their commits, so every round of
commits is a race; afterwards every cap and limit is checked against the ledger. Runs against SQLite
and PostgreSQL.

Negative control (`test_without_the_lock_the_same_race_is_caught`): the same scenario with the
ledger's commit lock and transaction taken away must end with violations -- proof that the test
can see a race, not just that none happened.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from decimal import Decimal
from typing import Any

import pytest
from conftest import AGENCY_ID, ALLIANCE_ID, APPLICANTS, ENTERPRISE_2_ID, OTHER_ORG_ID, PLATFORM_ID, POLICY_PATH, SHARED_PATENT, claim, item
from test_ledger_support import BACKENDS, make_ledger_url

import engine
import engine.records.ledger as ledger_module
from engine.records.ledger import Ledger

PROCESSES = 6
CLAIMS_EACH = 5
ALLIANCE_APPLICANTS = [ALLIANCE_ID, ENTERPRISE_2_ID, PLATFORM_ID, AGENCY_ID, OTHER_ORG_ID]


def conflicting_claim(worker: int, k: int) -> dict:
    if k % 2 == 1:  # an alliance claim: different applicants, one alliance
        app = dict(APPLICANTS["alliance"], id=ALLIANCE_APPLICANTS[(worker + k) % len(ALLIANCE_APPLICANTS)])
        return claim(
            item("alliance_operation", "a1", alliance_id="ALLY-SHARED", actual_costs="200000.00"), applicant=app, claim_id=f"W{worker}-{k}"
        )
    return claim(
        item("pledge_loan_interest", "l1", loan_id=f"LOAN-{worker}-{k}", annual_interest_paid="200000.00"),
        item("patent_insurance", "i1", premium_paid="100000.00"),
        item("navigation_project", "n1", project_id="NAV-SHARED", actual_costs="60000.00"),
        item("invention_patent_grant", "p1", patent_id=SHARED_PATENT, official_fees_paid="8400.00"),
        claim_id=f"W{worker}-{k}",
    )


def _worker(url: str, worker: int, barrier, results) -> None:
    policy = engine.load_policy(POLICY_PATH)
    try:
        with Ledger(url) as ledger:
            granted = 0
            for k in range(CLAIMS_EACH):
                barrier.wait(60)  # every process commits its k-th claim at the same moment
                r = ledger.commit(policy, conflicting_claim(worker, k))
                granted += r.grants
            results.put((worker, granted))
    except BaseException:
        barrier.abort()  # a failed worker must not leave the others waiting at the barrier
        raise


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    yield from make_ledger_url(request.param, tmp_path)


def race(policy, url) -> dict[str, Any]:
    """Run the scenario on a fresh ledger at `url`; what the ledger holds afterwards."""
    with Ledger(url):  # create the schema once, before the race
        pass
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, w, barrier, results)) for w in range(PROCESSES)]
    for p in procs:
        p.start()
    deadline = time.monotonic() + 120
    for p in procs:
        p.join(max(deadline - time.monotonic(), 0.1))
    for p in procs:
        if p.exitcode is None:
            p.kill()
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    granted = sum(results.get(timeout=5)[1] for _ in procs)
    with Ledger(url) as ledger:
        return {"granted": granted, "violations": ledger.verify(policy), "grants": list(ledger.grants()), "counts": ledger.counts()}


def test_concurrent_commits_never_exceed_a_cap_or_limit(policy, url, capsys):
    out = race(policy, url)
    granted, violations, grants, counts = out["granted"], out["violations"], out["grants"], out["counts"]
    tried = PROCESSES * CLAIMS_EACH
    with capsys.disabled():
        print(
            f"\n[concurrency {url.split(':')[0]}] processes={PROCESSES} conflicting commits tried={tried} "
            f"items={sum(4 if k % 2 == 0 else 1 for k in range(CLAIMS_EACH)) * PROCESSES} grants={len(grants)} violations={len(violations)}"
        )
    assert violations == []
    assert counts["active_commits"] == tried and granted == len(grants)

    def total(rule: str) -> Decimal:
        return sum((Decimal(g["amount"]) for g in grants if g["rule"] == rule), Decimal(0))

    # Demand far exceeds every ceiling, so each ends exactly full -- never over:
    assert total("pledge-loan-interest") == Decimal("300000.00")  # 3 loans x 10万 = the 30万 yearly cap, and the 3-times limit
    assert sum(g["rule"] == "pledge-loan-interest" for g in grants) == 3
    assert total("patent-insurance") == Decimal("100000.00")  # 2 x 5万 = the 10万 yearly cap
    assert total("navigation-project") == Decimal("50000.00")  # 3万 + 2万 = the 5万 project cap
    assert total("invention-patent-fees") == Decimal("4200.00")  # the shared patent paid once: 50% of 8,400
    assert total("alliance-operation") == Decimal("200000.00")  # 10万 + 10万 = the alliance's 20万, across applicants


def test_without_the_lock_the_same_race_is_caught(policy, url, tmp_path, monkeypatch, capsys):
    # Take the commit lock and its transaction away (each statement commits on its own); the forked
    # workers inherit the patch. SQLite's own locking then guards single statements only, and two
    # commits read the same history before either writes. Up to 3 attempts, each on a fresh ledger:
    # races are timing, and a quiet machine may let one attempt through (measured: 60 of 60 caught).
    def unlocked(self: Any) -> Any:
        return ledger_module._Tx(lambda: None, lambda: None, lambda: None, ledger_module._ConnLock(ledger_module.BUSY_SECONDS))

    monkeypatch.setattr(ledger_module._SQLite, "locked", unlocked)
    monkeypatch.setattr(ledger_module._Postgres, "locked", unlocked)
    found: list[str] = []
    attempts = 0
    while not found and attempts < 3:
        attempts += 1
        found = race(policy, url if attempts == 1 else _fresh(url, tmp_path, attempts))["violations"]
    with capsys.disabled():
        print(
            f"\n[concurrency {url.split(':')[0]}, lock OFF] processes={PROCESSES} conflicting commits tried={PROCESSES * CLAIMS_EACH} "
            f"attempts={attempts} violations={len(found)}"
        )
    assert found, "with the lock taken away the scenario must exceed some cap or limit"


def _fresh(url: str, tmp_path, n: int) -> str:
    """Another empty ledger next to `url` (SQLite: a new file; PostgreSQL: the same schema emptied)."""
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / f'ledger-{n}.sqlite'}"
    with Ledger(url) as ledger:
        for table in ("grant_keys", "reversals", "grants", "commits", "findings", "rounds", "audit"):
            ledger.db.execute(f"DELETE FROM {table}")
    return url
