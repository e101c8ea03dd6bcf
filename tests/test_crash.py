"""Crash safety: a committing batch killed with SIGKILL half-way leaves the ledger consistent, and running
it again completes the round with no double grant -- the same grants as an uninterrupted run.
Runs against SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import APPLICANTS, ENTERPRISE_2_ID, ENTERPRISE_ID, PLATFORM_ID, POLICY_PATH, ROOT, claim, item, patent_number
from test_ledger_support import BACKENDS, make_ledger_url

from engine.records.batch import run_batch
from engine.records.ledger import Ledger

CLAIMS = 300
KILL_AFTER = 30


def write_round(path) -> None:
    ids = [ENTERPRISE_ID, ENTERPRISE_2_ID, PLATFORM_ID]
    with open(path, "w", encoding="utf-8") as f:
        for n in range(CLAIMS):
            app = dict(APPLICANTS["enterprise"], id=ids[n % 3])
            c = claim(
                item("pledge_loan_interest", "l1", loan_id=f"LOAN-{n}", annual_interest_paid="90000.00"),
                item("navigation_project", "n1", project_id=f"NAV-{n % 7}", actual_costs="40000.00"),
                item("invention_patent_grant", "p1", patent_id=patent_number(n % 50), official_fees_paid="8400.00"),
                applicant=app,
                claim_id=f"R-{n:04d}",
            )
            f.write(json.dumps(c, ensure_ascii=False) + "\n")


def batch(url, src, out):
    return [
        sys.executable,
        "-m",
        "engine",
        "batch",
        "--policy",
        str(POLICY_PATH),
        str(src),
        "--ledger",
        url,
        "--commit",
        "--out",
        str(out),
        "-q",
    ]


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    yield from make_ledger_url(request.param, tmp_path)


def test_sigkill_half_way_then_rerun(policy, url, tmp_path, capsys):
    src = tmp_path / "round.jsonl"
    write_round(src)
    with Ledger(url):
        pass
    proc = subprocess.Popen(batch(url, src, tmp_path / "o1"), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    with Ledger(url) as watch:
        while watch.counts()["commits"] < KILL_AFTER and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    with Ledger(url) as ledger:
        done = ledger.counts()["commits"]
        assert KILL_AFTER <= done < CLAIMS, "the batch must be killed half-way"
        assert ledger.verify(policy) == []
        # every commit is whole: its grants are all there, and no grant lacks its commit
        for seq, claim_id in ledger.db.query("SELECT seq, claim_id FROM commits"):
            stored = ledger.stored_decision(claim_id)
            rows = ledger.db.query("SELECT item_id, amount FROM grants WHERE commit_seq = ?", (seq,))
            assert sorted((g["item_id"], g["amount"]) for g in stored["grants"]) == sorted(rows)
        assert ledger.db.query("SELECT count(*) FROM grants WHERE commit_seq NOT IN (SELECT seq FROM commits)")[0][0] == 0
        # killed outright, the run wrote nothing as it stopped: its entry written as it started still names who ran it,
        # and the ledger's last commit then (none), so its commits are those after it
        entries = [(e["outcome"], e["detail"].get("after_seq")) for e in ledger.audit_log() if e["action"] == "batch"]
        assert entries == [("started", 0)]

    rerun = subprocess.run(batch(url, src, tmp_path / "o2"), cwd=ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads((tmp_path / "o2" / "summary.json").read_text())
    assert {k: summary["ledger"][k] for k in ("committed", "already_committed", "replaced")} == {
        "committed": CLAIMS - done,
        "already_committed": done,
        "replaced": 0,
    }

    reference = f"sqlite:///{tmp_path / 'reference.sqlite'}"
    run_batch(policy, src, tmp_path / "ref", ledger_url=reference, commit=True, quiet=True)
    with Ledger(url) as ledger, Ledger(reference) as ref:
        violations = ledger.verify(policy)
        got = sorted((g["claim_id"], g["item_id"], g["amount"]) for g in ledger.grants())
        want = sorted((g["claim_id"], g["item_id"], g["amount"]) for g in ref.grants())
        counts = ledger.counts()
    with capsys.disabled():
        print(
            f"\n[crash {url.split(':')[0]}] claims={CLAIMS} killed after {done} commits; rerun committed {CLAIMS - done}, "
            f"grants={len(got)} (uninterrupted run: {len(want)}), violations={len(violations)}"
        )
    assert violations == []
    assert counts["commits"] == counts["active_commits"] == CLAIMS
    assert got == want  # no double grant, nothing lost: the same grants as an uninterrupted run
    # and the decisions file of the rerun has every application exactly once
    decided = [json.loads(x)["claim_id"] for x in (tmp_path / "o2" / "decisions.jsonl").read_text().splitlines()]
    assert sorted(decided) == [f"R-{n:04d}" for n in range(CLAIMS)]
    with Ledger(url) as ledger:
        ended = [e for e in ledger.audit_log() if e["action"] == "batch"][2]
    assert (ended["outcome"], ended["detail"]["ledger"]["committed"]) == ("committed", CLAIMS - done)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_batch_stopped_by_sigterm_or_sighup_audits_its_stop_and_leaves_no_scratch_folder(signum, policy, tmp_path):
    """`kill` (SIGTERM, as `timeout` or a service manager sends it) or a closed terminal (SIGHUP) ended the process where
    it stood: the commits made so far stood, but the run's stop was not audited and its scratch folder stayed in the
    temporary folder. Now the run stops as on Ctrl-C: exit 128 + the signal (143, 129), the officer told
    `已被终止（SIGTERM）`, a `stopped` audit entry whose count is the ledger's own (every commit of the run is whole:
    `verify` finds nothing), and no `policy-engine-batch-*` folder left behind. SQLite only: the stop's path is the
    command line's, whatever the ledger."""
    src = tmp_path / "round.jsonl"
    write_round(src)
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    with Ledger(url):
        pass
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "POLICY_ENGINE_LANG": "zh"}
    proc = subprocess.Popen(batch(url, src, tmp_path / "o1"), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    with Ledger(url) as watch:
        while watch.counts()["commits"] < KILL_AFTER and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
    os.kill(proc.pid, signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err.decode()
    said = f"已被终止（{signal.Signals(signum).name}）"
    assert err.decode().strip().endswith(said)
    assert list(scratch.iterdir()) == []
    with Ledger(url) as ledger:
        done = ledger.counts()["commits"]
        assert KILL_AFTER <= done < CLAIMS, "the batch must be stopped half-way"
        assert ledger.verify(policy) == []
        entries = [(e["outcome"], e["detail"]) for e in ledger.audit_log() if e["action"] == "batch"]
    assert [outcome for outcome, _ in entries] == ["started", "stopped"]
    stop = entries[1][1]
    assert stop["error"] == said
    assert stop["ledger"] == {"committed": done, "replaced": 0, "seq": [1, done]}
