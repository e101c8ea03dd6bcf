"""POST /rounds decides each round in a process of its own (engine.service.roundjob), which a thread of the worker
waits for: the round does not share the worker's interpreter lock, and its outputs are made as the command line's
batch makes them. The worker's side (`Jobs.start`) is driven here in-process; tests/test_service.py drives rounds
over HTTP. Expected amounts are worked out by hand from the measures (written in comments)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import ENTERPRISE_ID, claim, item

pytest.importorskip("starlette")

from test_service import policy_folder

from engine.records import batch
from engine.service import roundjob, rounds
from engine.service.app import Service
from engine.service.config import Config, Principal


def _service(tmp: Path, **config: Any) -> Service:
    return Service(Config(policies=str(policy_folder(tmp)), jobs_dir=str(tmp / "jobs"), **config))


def _pledge(claim_id: str, interest: str) -> str:
    c = claim(item("pledge_loan_interest", "l1", loan_id=f"LOAN-{claim_id}", annual_interest_paid=interest), claim_id=claim_id)
    c["applicant"]["id"] = ENTERPRISE_ID
    return json.dumps(c, ensure_ascii=False)


def _finished(svc: Service, job: str) -> dict[str, Any]:
    """The job's last state, once its process and the worker's thread are both done with it."""
    deadline = time.monotonic() + 120
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = json.loads((svc.jobs.root / job / "state.json").read_text(encoding="utf-8"))
        if state["state"] != "running" and svc.jobs.running == 0:
            return state
        time.sleep(0.1)
    raise AssertionError(f"the round did not finish: {state}")


def test_a_round_is_decided_in_a_process_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = _service(tmp_path, ledger_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}")

    def not_here(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a round is run in the worker's own process")

    monkeypatch.setattr(batch, "run_batch", not_here)
    monkeypatch.setattr(roundjob, "run_batch", not_here)  # (were `run_job` called in the worker)
    monkeypatch.setattr(rounds, "run_batch", not_here, raising=False)  # (where a thread of the worker once ran it)
    body = "\n".join([_pledge("P-1", "200000.00"), _pledge("P-2", "100000.00"), "{not json"]) + "\n"
    who = Principal("王科员", ("officer",))
    job = svc.jobs.start(svc, body.encode("utf-8"), None, True, "R-2021", who)
    state = _finished(svc, job)
    assert state["state"] == "done", state
    assert (state["applications"], state["decided"], state["by"]) == (3, 3, "王科员")
    assert (state["summary"]["applications"], state["summary"]["failed"]) == (3, 1)
    assert state["summary"]["ledger"]["committed"] == 2
    folder = svc.jobs.root / job
    decisions = [json.loads(line) for line in (folder / "out" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    # R11: 50% of the annual interest; 100,000 + 50,000 = 150,000 within the enterprise's 300,000 a funding year
    assert [(d["claim_id"], d["total"]) for d in decisions] == [("P-1", "100000.00"), ("P-2", "50000.00")]
    assert {"decisions.jsonl", "errors.jsonl", "summary.json", "summary.xlsx", "report.html"} <= set(state["files"])
    # the process decided with the catalogue's own versions: each named by its file and hash
    written = (folder / rounds.JOB_FILE).read_text(encoding="utf-8")
    assert "ledger.sqlite" not in written  # a ledger's URL may hold a password: given in the environment only
    spec = json.loads(written)
    served = svc.catalogue.policy_set(None).versions
    assert spec["policies"] == [{"file": os.path.abspath(p.file), "hash": p.content_hash} for p in served]
    # what a client reads (the state) and fetches (the files) never says where the server keeps them
    # (each output by the address the service serves it at: `out/decisions.jsonl` named a folder no caller can open)
    assert state["summary"]["outputs"]["decisions"] == f"/rounds/{job}/files/decisions.jsonl"
    assert str(tmp_path) not in json.dumps(state, ensure_ascii=False)
    assert "ledger.sqlite" not in (folder / "out" / "summary.json").read_text(encoding="utf-8")  # (nor the file served)
    for name in ("decisions.jsonl", "errors.jsonl", "summary_applications.csv", "summary.json", "report.html"):
        assert str(tmp_path) not in (folder / "out" / name).read_text(encoding="utf-8"), name
    assert json.loads((folder / "out" / "errors.jsonl").read_text(encoding="utf-8"))["where"]["file"] == "input.jsonl"
    # its audit entries: one per committed application (in the commit's transaction), and the round's once it is done
    with svc.ledger_lock:
        log = svc.ledger("zh").audit_log(actor="王科员")
    assert sorted((e["action"], e["target"], e["outcome"]) for e in log) == [
        ("commit", "P-1", "committed"),
        ("commit", "P-2", "committed"),
        ("round", job, "committed"),
    ]


def test_a_committed_round_that_committed_nothing_is_not_audited_as_committed(tmp_path: Path) -> None:
    # a red team's round of one line that is not JSON, with commit=true: done, 0 committed, 1 failed, audited "committed"
    svc = _service(tmp_path, ledger_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    job = svc.jobs.start(svc, b"x\n", None, True, "R-0", Principal("王科员", ("officer",)))
    state = _finished(svc, job)
    assert state["state"] == "done" and state["summary"]["failed"] == 1 and state["summary"]["ledger"]["committed"] == 0
    with svc.ledger_lock:
        log = svc.ledger("zh").audit_log(actor="王科员")
    assert [(e["action"], e["target"], e["outcome"]) for e in log] == [("round", job, "nothing committed")]


def test_a_round_whose_policy_file_changed_since_the_service_loaded_it_fails_naming_the_file(tmp_path: Path) -> None:
    svc = _service(tmp_path)
    draft = Path(svc.catalogue.policy_set(None).versions[-1].file)
    draft.write_text(draft.read_text(encoding="utf-8") + "\n# edited after the service loaded it\n", encoding="utf-8")
    job = svc.jobs.start(svc, (_pledge("P-1", "200000.00") + "\n").encode("utf-8"), None, False, None, None)
    state = _finished(svc, job)
    assert state["state"] == "failed"
    assert draft.name in state["error"] and "POST /admin/reload" in state["error"]  # what changed, and how to go on
    assert str(draft.parent) not in json.dumps(state, ensure_ascii=False)  # (named as GET /policies names it)
    assert not (svc.jobs.root / job / "out" / "decisions.jsonl").exists()


def test_a_round_whose_process_ends_without_a_word_is_failed_with_what_it_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = _service(tmp_path, lang="en")
    ended = [sys.executable, "-c", "import sys; print('out of memory, say'); sys.exit(3)"]
    monkeypatch.setattr(rounds, "_job_command", lambda folder: ended)
    job = svc.jobs.start(svc, (_pledge("P-1", "200000.00") + "\n").encode("utf-8"), None, False, None, None)
    state = _finished(svc, job)
    assert state["state"] == "failed"
    assert state["error"] == "the round's process ended (exit code 3) before it finished; what it printed is in log"
    assert "out of memory, say" in state["log"]
    assert svc.jobs.running == 0


def test_a_round_outlives_the_worker_that_started_it(tmp_path: Path) -> None:
    """A worker stopped mid-round (a restart, a reload replacing it) leaves its round to finish: the round's
    process writes its own states. (A round in a thread of the worker died with it, left "running".)"""
    from test_service import Server

    jobs = tmp_path / "jobs"
    srv = Server(tmp_path, "--jobs-dir", str(jobs))
    try:
        lines = [_pledge(f"P-{n}", "20000.00") for n in range(3000)]
        job = srv.call("POST", "/rounds", ("\n".join(lines) + "\n").encode("utf-8")).json()["id"]
        deadline = time.monotonic() + 60
        while json.loads((jobs / job / "state.json").read_text(encoding="utf-8"))["decided"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)  # until the round is deciding
        assert json.loads((jobs / job / "state.json").read_text(encoding="utf-8"))["state"] == "running"
    finally:
        srv.stop()  # SIGTERM to the worker alone: it ends, its thread waiting for the round with it
    assert srv.proc.returncode is not None
    state = json.loads((jobs / job / "state.json").read_text(encoding="utf-8"))
    assert state["state"] == "running"  # the worker is gone, the round is not done yet
    deadline = time.monotonic() + 120
    while state["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
        state = json.loads((jobs / job / "state.json").read_text(encoding="utf-8"))
    assert state["state"] == "done" and state["decided"] == 3000
    decisions = (jobs / job / "out" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    # R11: 50% of 20,000 interest is 10,000 a loan, and an enterprise is subsidised at most 3 times ever
    totals = [json.loads(d)["total"] for d in decisions]
    assert totals[:3] == ["10000.00"] * 3 and set(totals[3:]) == {"0.00"} and len(totals) == 3000


def _deciding(svc: Service, job: str) -> dict[str, Any]:
    """The job's state once its process has started deciding."""
    deadline = time.monotonic() + 60
    state = json.loads((svc.jobs.root / job / "state.json").read_text(encoding="utf-8"))
    while state["decided"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
        state = json.loads((svc.jobs.root / job / "state.json").read_text(encoding="utf-8"))
    return state


def test_rounds_counted_before_their_bodies_arrived_cannot_start_past_the_limit(tmp_path: Path) -> None:
    # the limit was tested only before a round's body was read: eight rounds whose headers came first each found
    # none running, and all eight started (16 processes). It is tested again, under a lock, as the round starts.
    from engine.service.config import Limits

    svc = _service(tmp_path, limits=Limits(max_jobs=2))
    body = ("\n".join(_pledge(f"P-{n}", "20000.00") for n in range(2000)) + "\n").encode("utf-8")
    started = [svc.jobs.start(svc, body, None, False, None, None) for _ in range(2)]
    with pytest.raises(rounds.Busy):
        svc.jobs.start(svc, body, None, False, None, None)
    assert sorted(p.name for p in svc.jobs.root.iterdir()) == sorted(started)
    for job in started:
        assert _finished(svc, job)["state"] == "done"
    assert _finished(svc, svc.jobs.start(svc, body, None, False, None, None))["state"] == "done"  # room again


def test_a_round_whose_process_is_stopped_says_so_in_its_state(tmp_path: Path) -> None:
    svc = _service(tmp_path, lang="en")
    body = "\n".join(_pledge(f"P-{n}", "20000.00") for n in range(3000)) + "\n"
    job = svc.jobs.start(svc, body.encode("utf-8"), None, False, None, None)
    state = _deciding(svc, job)
    assert state["state"] == "running" and state["pid"] != os.getpid()  # the round's own process
    os.kill(state["pid"], signal.SIGTERM)  # as `systemctl stop` does to every process of the service
    state = _finished(svc, job)
    assert state["state"] == "failed"
    assert (
        state["error"]
        == "the round's process was stopped (SIGTERM) before it finished; the applications it had already committed stay committed"
    )


def test_a_round_given_no_ledger_url_fails_rather_than_use_the_default_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = _service(tmp_path, ledger_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    real = rounds._job_env
    monkeypatch.setattr(rounds, "_job_env", lambda url: {k: v for k, v in real(url).items() if k != roundjob.LEDGER_ENV})
    monkeypatch.chdir(tmp_path)  # where the command line's default ledger would be made
    job = svc.jobs.start(svc, (_pledge("P-1", "200000.00") + "\n").encode("utf-8"), None, True, None, Principal("王科员", ("officer",)))
    state = _finished(svc, job)
    assert state["state"] == "failed" and state["error"] == f"KeyError: '{roundjob.LEDGER_ENV}'"
    assert not (tmp_path / "policy-engine-ledger.sqlite").exists() and not (tmp_path / "ledger.sqlite").exists()


def test_a_round_on_a_damaged_ledger_fails_once_saying_what_to_do(tmp_path: Path) -> None:
    # the round gave every application an "internal error" record with SQLite's English words and was "done"; the
    # ledger fails them all alike, so the round fails, in the words the command line uses
    import sqlite3

    path = tmp_path / "ledger.sqlite"
    svc = _service(tmp_path, ledger_url=f"sqlite:///{path}", lang="en")
    officer = Principal("王科员", ("officer",))
    body = "".join(_pledge(f"P-{n}", "20000.00") + "\n" for n in range(300)).encode("utf-8")
    assert _finished(svc, svc.jobs.start(svc, body, None, True, None, officer))["state"] == "done"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert path.stat().st_size > 24000
    with open(path, "r+b") as f:  # past the header and the schema's page
        f.seek(20000)
        f.write(b"\xff" * 4000)
    again = "".join(_pledge(f"Q-{n}", "20000.00") + "\n" for n in range(3)).encode("utf-8")
    state = _finished(svc, svc.jobs.start(svc, again, None, True, None, officer))
    assert state["state"] == "failed"
    assert state["error"] == (
        "the ledger's database failed (database disk image is malformed): the file may be damaged; restore it from a "
        "backup, or check the disk it is on"
    )


def test_a_service_without_a_ledger_decides_its_rounds_without_the_default_ledgers_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a default ledger beside the service (where `batch` would read history) holding the enterprise's 300,000 of
    # pledge-loan interest subsidy for 2021 (R11: 50% of 600,000 paid, at most 300,000 a funding year)
    import engine

    svc = _service(tmp_path)  # no ledger: each evaluate call and each round is decided without history
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLICY_ENGINE_LEDGER", raising=False)
    earlier = _pledge("EARLIER", "600000.00")
    policy = svc.catalogue.policy_set(None).pick(json.loads(earlier))
    stray = f"sqlite:///{tmp_path / 'policy-engine-ledger.sqlite'}"
    with batch.Ledger(stray) as ledger:
        ledger.commit(policy, engine.parse_claim_json(policy, earlier))
        assert [g["amount"] for g in ledger.grants()] == ["300000.00"]
    job = svc.jobs.start(svc, (_pledge("P-1", "200000.00") + "\n").encode("utf-8"), None, False, None, None)
    state = _finished(svc, job)
    assert state["state"] == "done", state
    decided = json.loads((svc.jobs.root / job / "out" / "decisions.jsonl").read_text(encoding="utf-8"))
    assert decided["total"] == "100000.00"  # 50% of 200,000, the 2021 cap untouched: no history was read


def test_the_limit_of_rounds_at_once_counts_the_rounds_running_on_this_host(tmp_path: Path) -> None:
    """Whichever worker started them: a round counts while its state says running and its process is alive here."""
    svc = _service(tmp_path)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    here, now = socket.gethostname(), time.time()
    states = {
        "a" * 32: {"state": "running", "pid": os.getpid(), "host": here},  # counted: alive, here
        "b" * 32: {"state": "running", "pid": int(gone.stdout), "host": here},  # its process is gone
        "c" * 32: {"state": "running", "pid": os.getpid(), "host": "another-host"},  # counted by its own host
        "d" * 32: {"state": "running"},  # counted: started, its process not yet said its pid
        "e" * 32: {"state": "running"},  # never got as far, long ago
        "f" * 32: {"state": "done", "pid": os.getpid(), "host": here},
    }
    for job, state in states.items():
        (svc.jobs.root / job).mkdir(parents=True)
        roundjob.write_state(svc.jobs.root / job, state)
    os.utime(svc.jobs.root / ("e" * 32) / "state.json", (now - 120, now - 120))
    assert svc.jobs.running_here(now) == 2


def test_a_round_whose_process_is_gone_unseen_is_failed_when_its_state_is_read(tmp_path: Path) -> None:
    """Killed outright (SIGKILL) while the worker that started it was gone too: no one wrote its end. The next
    read of its state (GET /rounds/{id}) finds its process gone and says so."""
    svc = _service(tmp_path, lang="en")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    folder = svc.jobs.root / ("a" * 32)
    folder.mkdir(parents=True)
    roundjob.write_state(folder, {"id": "a" * 32, "state": "running", "decided": 7, "pid": int(gone.stdout), "host": socket.gethostname()})
    state = json.loads(svc.jobs.state_of(folder))
    assert (state["state"], state["decided"]) == ("failed", 7)
    assert state["error"] == (
        "the round's process ended before it finished without saying why (killed outright, or out of memory?); "
        "the applications it had already committed stay committed"
    )
    assert json.loads((folder / "state.json").read_text(encoding="utf-8"))["state"] == "failed"  # written, for every worker
    alive = svc.jobs.root / ("b" * 32)
    alive.mkdir()
    roundjob.write_state(alive, {"id": "b" * 32, "state": "running", "pid": os.getpid(), "host": socket.gethostname()})
    assert json.loads(svc.jobs.state_of(alive))["state"] == "running"


# the round's process, with the ledger's one write of the round's own audit entry broken (each application's entry is
# written in its commit's transaction, not by `record_audit`), and its niceness printed to job.log at the end
_AUDIT_BROKEN = """
import os, sys
from pathlib import Path
from engine.records.ledger import Ledger, LedgerError
from engine.service import roundjob
real = Ledger.record_audit
def record_audit(self, actor, roles, action, target, outcome, detail):
    if action == "round":
        raise LedgerError("the audit table is full, say")
    return real(self, actor, roles, action, target, outcome, detail)
Ledger.record_audit = record_audit
code = roundjob.run_job(Path(sys.argv[1]))
print("niceness", os.nice(0))
sys.exit(code)
"""


def test_a_round_whose_own_audit_entry_fails_is_failed_with_its_summary_and_its_commits_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = _service(tmp_path, ledger_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}", lang="en")
    monkeypatch.setattr(rounds, "_job_command", lambda folder: [sys.executable, "-P", "-c", _AUDIT_BROKEN, str(folder)])
    before = os.nice(0)
    body = "\n".join([_pledge("P-1", "200000.00"), _pledge("P-2", "100000.00")]) + "\n"
    job = svc.jobs.start(svc, body.encode("utf-8"), None, True, "R-2021", Principal("王科员", ("officer",)))
    state = _finished(svc, job)
    # failed, saying why, but its applications are committed and its summary kept: the round's audit came after
    assert state["state"] == "failed" and state["error"] == "the audit table is full, say"
    assert state["summary"]["ledger"]["committed"] == 2 and state["summary"]["failed"] == 0
    with svc.ledger_lock:
        ledger = svc.ledger("zh")
        log = ledger.audit_log(actor="王科员")
        # R11: 50% of the annual interest paid: 100,000.00 and 50,000.00
        grants = sorted((g["claim_id"], g["amount"]) for g in ledger.grants())
    assert sorted((e["action"], e["target"]) for e in log) == [("commit", "P-1"), ("commit", "P-2")]
    assert grants == [("P-1", "100000.00"), ("P-2", "50000.00")]
    # the round ran at the niceness above the service's that roundjob.NICENESS asks for
    printed = (svc.jobs.root / job / rounds.LOG_FILE).read_text(encoding="utf-8")
    assert f"niceness {before + roundjob.NICENESS}" in printed


# the round's process, every state it writes also kept in states.jsonl, and its outputs all made after deciding (as
# in a round a budget scales), so that the outputs' step counts its decisions
_STATES_KEPT = """
import functools, json, sys
from pathlib import Path
from engine.records import batch
from engine.service import roundjob
real = roundjob.write_state
def write_state(folder, state):
    with open(Path(folder) / "states.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(state, ensure_ascii=False) + "\\n")
    return real(folder, state)
roundjob.write_state = write_state
roundjob.run_batch = functools.partial(batch.run_batch, outputs_while_deciding=False)
sys.exit(roundjob.run_job(Path(sys.argv[1])))
"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_rounds_state_says_each_step_after_deciding_and_how_far_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    # after deciding, GET /rounds/{id} says the step the round is at, in the service's language, and how far a
    # step that counts is (the outputs' step: its decisions); the state of a round done has no step left
    svc = _service(tmp_path, ledger_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}", lang=lang)
    monkeypatch.setattr(rounds, "_job_command", lambda folder: [sys.executable, "-P", "-c", _STATES_KEPT, str(folder)])
    body = "\n".join([_pledge("P-1", "200000.00"), _pledge("P-2", "100000.00")]) + "\n"
    job = svc.jobs.start(svc, body.encode("utf-8"), None, True, "R-2021", Principal("王科员", ("officer",)))
    state = _finished(svc, job)
    assert state["state"] == "done" and "step" not in state, state
    kept = (svc.jobs.root / job / "states.jsonl").read_text(encoding="utf-8").splitlines()
    stepping = [s for s in map(json.loads, kept) if "step" in s]
    assert {s["decided"] for s in stepping} == {2}  # deciding is over: its last count, whenever it was last written
    said = [tuple(s["step"].values()) for s in stepping]
    outputs, workbook, report = {
        "en": (
            "writing decisions.jsonl, summary_items.csv, summary_applications.csv and summary.xlsx (2 decisions)",
            "writing summary.xlsx: the budget and errors sheets, saving the workbook",
            "drawing report.html (2 applications)",
        ),
        "zh": (
            "正在写入 decisions.jsonl、summary_items.csv、summary_applications.csv 和 summary.xlsx（2 份决定）",
            "正在写入 summary.xlsx：“预算”和“错误记录”工作表，保存工作簿",
            "正在生成 report.html（2 份申请）",
        ),
    }[lang]
    # each step as it starts; the outputs' step also when it ends (2 of 2 decisions; 1 of 2 only if 0.2 s apart)
    assert [s for s in said if s != (outputs, 1, 2)] == [(outputs, 0, None), (outputs, 2, 2), (workbook, 0, None), (report, 0, None)]


def test_a_round_commits_to_the_services_ledger_named_by_a_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the round's process decides from inside its job folder (so that what it writes names no server path): a ledger
    # the service was given as `sqlite:///ledger.sqlite` is still the one beside the service, not a new one there
    from engine.records.ledger import Ledger, absolute_url

    monkeypatch.chdir(tmp_path)
    assert absolute_url("sqlite:///ledger.sqlite") == f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    assert absolute_url("ledger.sqlite") == str(tmp_path / "ledger.sqlite")
    assert absolute_url("sqlite:////srv/l.sqlite") == "sqlite:////srv/l.sqlite"
    assert absolute_url("postgresql://u@h/db") == "postgresql://u@h/db"
    svc = _service(tmp_path, ledger_url="sqlite:///ledger.sqlite")
    job = svc.jobs.start(svc, (_pledge("P-1", "200000.00") + "\n").encode("utf-8"), None, True, "R-1", Principal("王科员", ("officer",)))
    state = _finished(svc, job)
    assert state["state"] == "done" and state["summary"]["ledger"]["committed"] == 1, state
    with Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", create=False) as ledger:
        assert ledger.active_commit("P-1") is not None
    assert not (svc.jobs.root / job / "ledger.sqlite").exists()


def test_a_rounds_errors_say_how_the_services_caller_replaces_a_claim(tmp_path: Path) -> None:
    """A round takes no `replace`: a claim committed with other content is committed again, as a replacement, by
    POST /ledger/commit?replace=true. Its errors.jsonl said `--replace` (the command line's flag) for a claim already
    committed with other content, and for a claim id given twice in the round."""
    svc = _service(tmp_path, ledger_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    who = Principal("王科员", ("officer",))
    first = svc.jobs.start(svc, (_pledge("P-1", "200000.00") + "\n").encode("utf-8"), None, True, "R-2021", who)
    assert _finished(svc, first)["summary"]["ledger"]["committed"] == 1
    body = "\n".join([_pledge("P-1", "100000.00"), _pledge("P-2", "100000.00"), _pledge("P-2", "100000.00")]) + "\n"
    job = svc.jobs.start(svc, body.encode("utf-8"), None, True, "R-2021", who)
    state = _finished(svc, job)
    assert (state["summary"]["applications"], state["summary"]["failed"], state["summary"]["ledger"]["committed"]) == (3, 2, 1)
    lines = (svc.jobs.root / job / "out" / "errors.jsonl").read_text(encoding="utf-8").splitlines()
    committed, again = [json.loads(line)["problems"][0]["said"] for line in lines]
    assert committed["en"]["message"] == (
        "claim P-1 is already committed with different content (commit 1); if this is the amended application, commit it "
        "as a replacement: POST /ledger/commit?replace=true"
    )
    assert committed["zh"]["message"] == (
        "申请 P-1 已以不同的内容记入台账（记录 1）；如本次提交的是修改后的申请，请作为替换提交：POST /ledger/commit?replace=true"
    )
    assert again["zh"]["message"] == (
        "申请编号 'P-2' 重复：已在 input.jsonl:2 出现；同一轮次中每份申请只审核一次，本行不再审核：请删去重复的申请"
        "（修改后的申请请在之后的运行中作为替换提交：POST /ledger/commit?replace=true）"
    )
