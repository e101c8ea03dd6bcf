"""A round job's own process: `python -m engine.service.roundjob FOLDER` runs the batch a `POST /rounds` started.

Why a process of its own, not a thread of the service's worker: a thread shares the worker's interpreter lock,
so a round of 10,000 applications slowed every request the worker answered meanwhile, and was slowed by them;
and a process with other threads cannot be forked safely (a lock another thread holds would stay held in the
copy), so in a thread `run_batch` made every output itself after deciding. In a process of its own the round is
a batch like the command line's, outputs and all (`run_batch`'s processes), and the worker only waits for it. A
worker that stops (a restart, a reload replacing it) leaves the round to finish: its states are written here.

The worker writes `job.json` (what to run) and the first `state.json`; this process writes each later state (the
applications decided so far, then done or failed) the way `write_state` does, so a reader never sees half a
file. The policy files are loaded again here, and each must still hash as the catalogue's version did: a round is
decided by the versions the service serves, or fails saying which file changed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import signal
import socket
import sqlite3
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from engine.core.errors import EngineError, PolicyError, Problem
from engine.core.i18n import msg, tr, use_language
from engine.deciding.ready import load_policy
from engine.deciding.versions import PolicySet
from engine.records.batch import run_batch
from engine.records.ledger import BUSY_SECONDS, Audit, Ledger, LedgerError, absolute_url, sqlite_busy, sqlite_reason

#: what the worker asks this process to run (`job_spec`)
JOB_FILE = "job.json"
#: where this process's own stderr goes (what a failure that is not an `EngineError` printed)
LOG_FILE = "job.log"
#: the service's ledger URL, in the environment the worker gives this process
LEDGER_ENV = "POLICY_ENGINE_ROUND_LEDGER"
#: how the service's caller commits an application as a replacement, as the service's words say it (a round takes no
#: `replace`: a claim committed with other content is committed again, as a replacement, by this address)
REPLACE_BY_REQUEST = "POST /ledger/commit?replace=true"
#: how much lower than the service's own this process (and the outputs' processes it forks) runs: a round is
#: batch work, and on a busy machine the service's callers, waiting on each answer, go first
NICENESS = 5


def write_state(folder: Path, state: dict[str, Any]) -> None:
    tmp = folder / "state.json.tmp"
    tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, folder / "state.json")  # a reader sees the old state or the new one, never half


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def job_spec(
    versions: PolicySet,
    ledger: bool,
    commit: bool,
    round_label: str | None,
    audit: Audit | None,
    state: dict[str, Any],
    lang: str,
) -> dict[str, Any]:
    """What `run_job` needs, as JSON: each version's file and hash, whether the service has a ledger (its URL, which
    may hold a password, is given in the process's environment, `LEDGER_ENV`, never written to the jobs folder), the
    commit, the round, who asked (for the audit entries), the job's first state (each later state adds to it) and
    the language its states are said in (the service's own)."""
    return {
        "policies": [{"file": os.path.abspath(p.file), "hash": p.content_hash} for p in versions.versions],
        "ledger": ledger,
        "commit": commit,
        "round": round_label,
        "audit": None if audit is None else [audit.actor, list(audit.roles), audit.action, audit.target, dict(audit.detail)],
        "state": state,
        "lang": lang,
    }


def _versions(policies: list[dict[str, str]]) -> PolicySet:
    """The catalogue's versions, loaded again from their files; PolicyError if a file no longer hashes as it did."""
    loaded = []
    for entry in policies:
        p = load_policy(entry["file"])
        if p.content_hash != entry["hash"]:
            name = Path(entry["file"]).name  # (as GET /policies names it: never where the server keeps it)
            problem = Problem(msg("service.round.policy_changed", file=name), file=name, code="service.round")
            raise PolicyError([problem], msg("service.round.policy_changed", file=name))
        loaded.append(p)
    return PolicySet(tuple(loaded))


def run_job(folder: Path) -> int:
    """Run the round `folder/job.json` asks for, writing its states; 0 when it is done, 1 when it failed (said in
    its state; what was not an engine's failure also printed to stderr, `job.log`)."""
    with contextlib.suppress(OSError, AttributeError):  # (not where the system has no niceness)
        os.nice(NICENESS)
    folder = folder.resolve()  # (`_run` decides the round from inside it)
    spec = json.loads((folder / JOB_FILE).read_text(encoding="utf-8"))
    with use_language(spec["lang"]):
        return _run(folder, spec)


class _Stopped(BaseException):
    """SIGTERM or SIGINT (the service stopped with its process group, or the round's process was stopped)."""


def _stop(signum: int, frame: Any) -> None:
    raise _Stopped(signum)


def _run(folder: Path, spec: dict[str, Any]) -> int:
    # its process (to stop the round; and whether it is still running, for the limit of rounds at once)
    state: dict[str, Any] = {**spec["state"], "pid": os.getpid(), "host": socket.gethostname()}
    log = io.StringIO()
    last = [0.0]

    def progress(n: int) -> None:
        state["decided"] = n  # (kept each time: the steps after deciding say the last count, not the last written)
        if time.monotonic() - last[0] > 0.2:
            last[0] = time.monotonic()
            write_state(folder, state)

    def step(words: str, done: int, total: int | None) -> None:
        # each step as it starts and as it ends (done == total); how far it is at most every 0.2 s between
        if total is None or done >= total or time.monotonic() - last[0] > 0.2:
            last[0] = time.monotonic()
            write_state(folder, {**state, "step": {"doing": words, "done": done, "total": total}})

    asked = spec["audit"]
    audit = None if asked is None else Audit(asked[0], tuple(asked[1]), asked[2], asked[3], asked[4])
    summary = None
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stop)
    try:
        write_state(folder, state)
        ledger_url = absolute_url(os.environ[LEDGER_ENV]) if spec["ledger"] else None
        versions = _versions(spec["policies"])
        # decided from inside its folder, with the input and the outputs named from there: the state a client
        # reads and the files it fetches say `input.jsonl` and `out/decisions.jsonl`, not where the server keeps them
        os.chdir(folder)
        summary = run_batch(
            versions,
            Path("input.jsonl"),
            Path("out"),
            ledger_url=ledger_url,
            commit=spec["commit"],
            round_label=spec["round"],
            quiet=True,
            stderr=log,
            on_decided=progress,
            on_step=step,
            audit=audit,
            without_ledger=not spec["ledger"],  # (never the command line's default ledger)
            own_history=not spec["ledger"],  # (on a ledger, its history alone: as /ledger/commit)
            replace_said=REPLACE_BY_REQUEST,  # (a round takes no `replace`: its caller commits one claim at a time)
        )
        if audit is not None and spec["commit"] and ledger_url is not None:  # the round as a whole, before it is done
            with Ledger(ledger_url) as ledger:
                said = {"round": spec["round"], "ledger": summary.to_dict().get("ledger")}
                # (a round of which nothing was committed -- every application an error -- is not said "committed")
                outcome = "committed" if summary.committed or summary.already_committed or summary.replaced else "nothing committed"
                ledger.record_audit(audit.actor, audit.roles, "round", audit.target, outcome, said)
    except (Exception, _Stopped) as err:
        if isinstance(err, _Stopped):
            why: str = tr(msg("service.round.stopped", signal=signal.Signals(err.args[0]).name))
        elif isinstance(err, EngineError | LedgerError):
            why = str(err)
        elif isinstance(err, sqlite3.DatabaseError):  # the ledger's file failed (damaged, a disk error), or is busy: as the CLI says it
            why = tr(
                msg("ledger.busy", seconds=BUSY_SECONDS) if sqlite_busy(err) else msg("ledger.database_failed", reason=sqlite_reason(err))
            )
        else:  # not the engine's own words: its type says what it was, the traceback is in job.log
            traceback.print_exc()
            why = f"{type(err).__name__}: {err}"
        failed = {**state, "state": "failed", "error": why, "log": log.getvalue()[-4000:], "finished_at": now()}
        if summary is not None:  # (decided and committed: what failed came after)
            failed["summary"] = served(summary.to_dict(), folder.name)
        with contextlib.suppress(OSError):  # (the folder swept away meanwhile: no one to tell)
            write_state(folder, failed)
        return 1
    written = folder / "out" / "summary.json"
    with contextlib.suppress(OSError, ValueError):  # (the file callers fetch: without the ledger's URL, as the state)
        kept = json.loads(written.read_text(encoding="utf-8"))
        kept["ledger"] = {k: v for k, v in kept.get("ledger", {}).items() if k not in ("url", "new")}
        written.write_text(json.dumps(kept, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    files = [f for f in FILES if (folder / "out" / f).is_file()]
    done = {"state": "done", "decided": summary.applications, "summary": served(summary.to_dict(), folder.name), "files": files}
    done["finished_at"] = now()
    write_state(folder, {**state, **done})
    return 0


def served(summary: dict[str, Any], job_id: str) -> dict[str, Any]:
    """A round's summary as its caller reads it: each output file by the address the service serves it at
    (`/rounds/{id}/files/decisions.jsonl`), not by where the batch wrote it in the job's folder (`out/decisions.jsonl`,
    a place on the server no caller can open). The ledger's counts without its URL and whether the run made it: where
    the service keeps its ledger is not its callers' to know (a URL may hold a user and a host)."""
    outputs = {
        key: f"/rounds/{job_id}/files/{Path(name).name}" if key != "report_error" and Path(name).name in FILES else name
        for key, name in summary.get("outputs", {}).items()
    }
    ledger = {k: v for k, v in summary.get("ledger", {}).items() if k not in ("url", "new")}
    return {**summary, "outputs": outputs, "ledger": ledger}


#: the files a round job's `out/` may hold, served by GET /rounds/{id}/files/{name}
FILES = (
    "decisions.jsonl",
    "errors.jsonl",
    "summary_items.csv",
    "summary_applications.csv",
    "summary.xlsx",
    "summary.json",
    "report.html",
)


if __name__ == "__main__":
    raise SystemExit(run_job(Path(sys.argv[1])))
