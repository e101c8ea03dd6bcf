"""Rounds as jobs: POST /rounds starts a batch run (engine.records.batch.run_batch) in a process of its own
(`engine.service.roundjob`: why a process, not a thread, is said there), which a thread of the worker waits for;
its state is a file on disk, so any worker answers GET /rounds/{id} and serves the round's files.

A job's folder (under the jobs folder, default `<tmp>/policy-engine-rounds`) holds `input.jsonl`, `job.json`
(what its process runs), `state.json` (state, applications decided so far, the step it is at after deciding, or
before it when a budget is foreseen, the summary when done), `job.log` (what its process printed, kept in the state when it stopped without saying
why) and the batch's outputs in `out/`.

Finished jobs do not pile up (`Jobs.sweep`, when a job starts or ends and every `SWEEP_SECONDS`): a finished
job is removed `Limits.job_ttl_seconds` after it finished; beyond that, only the newest `Limits.jobs_kept`
finished jobs are kept, and only as many (newest first) as fit in `Limits.jobs_bytes`. A job still running is
never removed, unless its state has not moved for the TTL (its process is gone). A removed job is 404.

A committed round: every application it commits gets its own audit entry (who, when, the claim id, the round
and the job) in the same transaction as the commit (`run_batch(audit=...)`), and the round one more at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import site
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from engine.core.errors import EngineError
from engine.core.i18n import Msg, msg, tr
from engine.records.inputs import locate
from engine.records.ledger import Audit
from engine.service import media
from engine.service.config import Config, Principal
from engine.service.roundjob import FILES, JOB_FILE, LEDGER_ENV, LOG_FILE, job_spec, now, write_state

if TYPE_CHECKING:
    from engine.service.app import Service

_ID = re.compile(r"^[0-9a-f]{32}$")
#: How often a worker sweeps the jobs folder besides when a job starts or ends.
SWEEP_SECONDS = 60.0
#: How long a round whose process has not yet written its pid counts as running (it starts in well under a second).
STARTING_SECONDS = 60.0


class Busy(Exception):
    """As many rounds as the limit are running on this host (`Jobs.start`): refused with 503 `busy`."""


@contextlib.contextmanager
def _folder_lock(root: Path) -> Iterator[None]:
    """An exclusive lock of the jobs folder, shared by every worker of the host (`flock` of the folder itself, so no
    file is added to it; where there is none, only this worker's own lock, held by the caller)."""
    root.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # (the lock goes with it)


class Jobs:
    def __init__(self, config: Config) -> None:
        self.root = Path(config.jobs_dir or os.path.join(tempfile.gettempdir(), "policy-engine-rounds"))
        self.limits = config.limits
        self.lang = config.lang  # the language a job's states are said in
        self.running = 0  # this worker's threads still waiting for a round's process
        self.lock = threading.Lock()

    def sweep(self, now: float | None = None) -> list[str]:
        """Remove finished jobs past their time, then the oldest beyond the count and the bytes kept; their ids."""
        now = time.time() if now is None else now
        finished: list[tuple[float, int, Path]] = []  # (finished at, bytes, folder)
        removed: list[str] = []
        for folder in self.root.glob("*") if self.root.is_dir() else ():
            state_file = folder / "state.json"
            if not _ID.match(folder.name) or not state_file.is_file():
                continue
            try:
                at = state_file.stat().st_mtime
                state = json.loads(state_file.read_text(encoding="utf-8")).get("state")
            except (OSError, ValueError):
                continue  # being written or removed by another worker
            if now - at > self.limits.job_ttl_seconds:  # finished long ago, or running with no progress that long
                removed.append(folder.name)
                continue
            if state != "running":
                try:
                    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
                except OSError:
                    continue
                finished.append((at, size, folder))
        finished.sort(reverse=True)  # newest first
        kept_bytes = 0
        for n, (_, size, folder) in enumerate(finished):
            kept_bytes += size
            if n > 0 and (n >= self.limits.jobs_kept or kept_bytes > self.limits.jobs_bytes):  # the newest stays
                removed.append(folder.name)
        for job_id in removed:
            shutil.rmtree(self.root / job_id, ignore_errors=True)
        return removed

    def running_here(self, now: float | None = None) -> int:
        """Rounds running on this host, whichever worker started them (the limit of rounds at once is the machine's:
        each round is processes of its own). A job counts while its state says running and its process is alive
        (the `pid` and `host` its process wrote); before its process has written them, for `STARTING_SECONDS`."""
        now = time.time() if now is None else now
        host = socket.gethostname()
        count = 0
        for folder in self.root.glob("*") if self.root.is_dir() else ():
            try:
                if not _ID.match(folder.name):
                    continue
                state_file = folder / "state.json"
                at = state_file.stat().st_mtime
                state = json.loads(state_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # being written or removed
            if state.get("state") != "running" or _gone(state):
                continue
            if (now - at < STARTING_SECONDS) if state.get("pid") is None else state.get("host") == host:
                count += 1
        return count

    def state_of(self, folder: Path) -> bytes:
        """The job's state (`state.json`); a round said running whose process on this host is gone without writing its
        end (killed outright while the worker that started it was gone too) is first marked failed."""
        text = (folder / "state.json").read_bytes()
        state = json.loads(text)
        if not _gone(state):
            return text
        text = (folder / "state.json").read_bytes()  # again: it may have written its last state and ended meanwhile
        if json.loads(text).get("state") != "running":
            return text
        gone = {"state": "failed", "error": tr(msg("service.round.process_gone"), self.lang), "finished_at": now()}
        write_state(folder, {**state, **gone})
        return (folder / "state.json").read_bytes()

    def folder(self, job_id: str) -> Path | None:
        return self.root / job_id if _ID.match(job_id) and (self.root / job_id).is_dir() else None

    def start(self, svc: Service, body: bytes, policy_id: str | None, commit: bool, rnd: str | None, who: Principal | None) -> str:
        """The round's job started; `Busy` when the rounds running on this host are already at the limit. The count
        and the new job's state are taken under a lock of the jobs folder, so rounds whose bodies arrive together (each
        counted before its body was read) cannot all start past the limit, from any worker."""
        pset = svc.catalogue.policy_set(policy_id)
        self.sweep()
        job_id = secrets.token_hex(16)
        folder = self.root / job_id
        with self.lock, _folder_lock(self.root):
            if self.running_here() >= self.limits.max_jobs:
                raise Busy(self.limits.max_jobs)
            folder.mkdir(parents=True)
            write_state(folder, {"id": job_id, "state": "running"})  # (counted from here: `running_here`)
        (folder / "input.jsonl").write_bytes(body)
        total = sum(1 for line in body.split(b"\n") if line.strip())  # (lines as the batch reads them: only \n ends one)
        state: dict[str, Any] = {
            "id": job_id,
            "state": "running",
            "applications": total,
            "decided": 0,
            "commit": commit,
            "by": who.name if who else None,
        }
        audit = Audit(who.name, who.roles, "commit", job_id, {"round": rnd, "job": job_id}) if commit and who else None
        ledger_url = svc.config.ledger_url
        spec = job_spec(pset, ledger_url is not None, commit, rnd, audit, state, self.lang)
        (folder / JOB_FILE).write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        write_state(folder, state)

        def run() -> None:
            try:
                with open(folder / LOG_FILE, "wb") as log:
                    job = _job_command(folder)  # (this interpreter, a fixed module and the folder made above: no input)
                    code = subprocess.run(job, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=_job_env(ledger_url)).returncode  # noqa: S603
                last = json.loads((folder / "state.json").read_text(encoding="utf-8"))
                if last.get("state") == "running":  # it stopped without writing its end
                    said = (folder / LOG_FILE).read_text(encoding="utf-8", errors="replace")[-4000:]
                    why = tr(msg("service.round.process_ended", code=code), self.lang)
                    write_state(folder, {**last, "state": "failed", "error": why, "log": said, "finished_at": now()})
            except (OSError, ValueError) as err:  # the process could not start, or its state cannot be read
                with contextlib.suppress(OSError):  # (the folder swept away meanwhile: no one to tell)
                    write_state(folder, {**state, "state": "failed", "error": f"{type(err).__name__}: {err}", "finished_at": now()})
            finally:
                with self.lock:
                    self.running -= 1
                self.sweep()

        with self.lock:
            self.running += 1
        threading.Thread(target=run, name=f"round-{job_id}", daemon=True).start()
        return job_id


def _gone(state: dict[str, Any]) -> bool:
    """Whether a job's state says running while its process (the `pid` and `host` it wrote), on this host, is gone."""
    pid = state.get("pid")
    if state.get("state") != "running" or pid is None or state.get("host") != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)  # no signal: only whether the process is there
    except ProcessLookupError:
        return True
    except PermissionError:  # there, another user's
        return False
    return False


def _job_command(folder: Path) -> list[str]:
    """The round job's process (`engine.service.roundjob`), by the interpreter this worker runs on; `-P`: the
    current folder is not put on its path (an `engine/` folder there is not the engine this worker runs)."""
    return [sys.executable, "-P", "-m", "engine.service.roundjob", str(folder)]


def _job_env(ledger_url: str | None) -> dict[str, str]:
    """This worker's environment, with the service's ledger URL (`LEDGER_ENV`), and with the folder `engine` was
    imported from on the path when that is not where the interpreter finds installed packages anyway (a checkout
    the service was started in): the job's process imports the engine this worker runs."""
    env = dict(os.environ)
    home = Path(__file__).resolve().parents[2]  # (engine/service/rounds.py)
    installed = {Path(p).resolve() for p in (*site.getsitepackages(), site.getusersitepackages())}
    if home not in installed:
        path = env.get("PYTHONPATH")
        env["PYTHONPATH"] = f"{home}{os.pathsep}{path}" if path else str(home)
    env.pop(LEDGER_ENV, None)
    if ledger_url is not None:
        env[LEDGER_ENV] = ledger_url
    return env


def _first_line(body: bytes) -> bytes:
    """The first line of `body` that is not blank, stripped (b"" if none), without splitting the whole body."""
    start = 0
    while start < len(body):
        end = body.find(b"\n", start)
        end = len(body) if end < 0 else end
        if body[start:end].strip():
            return body[start:end].strip()
        start = end + 1
    return b""


def one_document(body: bytes) -> Msg | None:
    """Why a round's body is one JSON document rather than JSON Lines (None: it is not one): a JSON list of claims, or
    one claim written over several lines (a pretty-printed file, or the body of /evaluate sent here). Either was
    started as a round and gave an error record for each of its lines, none of which is a claim. Only a body whose
    first line is not a JSON value of its own, or opens a list, is read whole."""
    first = _first_line(body)
    if not first.startswith(b"["):
        try:
            json.loads(first)
            return None
        except (ValueError, RecursionError):
            pass
    try:
        whole = json.loads(body)
    except (ValueError, RecursionError):
        return None  # (lines that are not JSON: each its own error record, as ever)
    if isinstance(whole, list):
        return msg("service.detail.round_list", claims=len(whole))
    lines = sum(1 for line in body.splitlines() if line.strip())
    return msg("service.detail.round_one_claim", lines=lines) if isinstance(whole, dict) and lines > 1 else None


def routes(svc: Service, refusal: Any, read_body: Any, flag: Any, round_label: Any, asked_policies: Any) -> list[Route]:
    async def start(request: Request) -> Response:
        commit = flag(request, "commit", False)  # (`commit=on` is refused: it was taken as no, and nothing committed)
        who = svc.may_write(request) if commit else svc.may_read(request)
        busy = refusal("busy", msg("service.detail.busy", limit=svc.config.limits.max_jobs))
        if svc.jobs.running_here() >= svc.config.limits.max_jobs:  # (before the body is read; again as it starts)
            raise busy
        if commit and svc.config.ledger_url is None:
            raise refusal("no-ledger", msg("service.detail.no_ledger"))
        rnd = round_label(request)
        asked_policies(svc, request)  # (a policy not served is said before the round's body is read; again as it starts)
        wrong = media.refused(request.headers.get("content-type"), request.headers.get("content-encoding"), media.JSON_LINES)
        if wrong is not None:
            raise refusal("unsupported-media-type", wrong)
        body = await read_body(svc, request, svc.config.limits.max_round_bytes)
        if not body.strip():  # (it was started, and failed in its process naming the server's folder)
            raise refusal("invalid-request", msg("service.detail.empty_round"))
        if body.startswith(b"PK\x03\x04"):  # a workbook (a zip): one word for it, not an error for each of its "lines"
            raise refusal("invalid-request", msg("service.detail.round_workbook"))
        whole = one_document(body)  # a JSON list, or one claim over several lines: one word for it too
        if whole is not None:
            raise refusal("invalid-request", whole)
        try:
            job_id = svc.jobs.start(svc, body, request.query_params.get("policy"), commit, rnd, who)
        except Busy:
            raise busy from None
        except EngineError as err:  # (`?policy=` the service does not serve: a bad value of the parameter)
            raise refusal("invalid-request", err.summary, locate(err, None, "request").problems) from None
        return JSONResponse({"id": job_id, "status": f"/rounds/{job_id}"}, status_code=202, headers={"location": f"/rounds/{job_id}"})

    async def status(request: Request) -> Response:
        svc.may_read(request)
        folder = svc.jobs.folder(request.path_params["job_id"])
        if folder is None:
            raise refusal("not-found", msg("service.detail.no_job", job=request.path_params["job_id"]))
        return Response(svc.jobs.state_of(folder), media_type="application/json")

    async def file(request: Request) -> Response:
        svc.may_read(request)
        folder = svc.jobs.folder(request.path_params["job_id"])
        name = request.path_params["name"]
        if folder is None or name not in FILES or not (folder / "out" / name).is_file():
            raise refusal("not-found", msg("service.detail.no_file", name=name))
        # its own type, and saved under its name (`attachment; filename="decisions.jsonl"`; a name not ASCII would be
        # written `filename*=utf-8''...` by RFC 5987, which Starlette does: every name of FILES is ASCII)
        return FileResponse(folder / "out" / name, media_type=media.OUTPUT_MEDIA[Path(name).suffix], filename=name)

    return [
        Route("/rounds", start, methods=["POST"]),
        Route("/rounds/{job_id}", status),
        Route("/rounds/{job_id}/files/{name}", file),
    ]
