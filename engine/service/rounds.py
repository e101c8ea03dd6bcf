"""Rounds as jobs: POST /rounds starts a batch run (engine.records.batch.run_batch) in a thread; its state is a
file on disk, so any worker answers GET /rounds/{id} and serves the round's files.

A job's folder (under the jobs folder, default `<tmp>/policy-engine-rounds`) holds `input.jsonl`, `state.json`
(state, applications decided so far, the summary when done) and the batch's outputs in `out/`.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from engine.core.errors import EngineError
from engine.records.batch import run_batch
from engine.service.config import Config, Principal

if TYPE_CHECKING:
    from engine.service.app import Service

FILES = ("decisions.jsonl", "errors.jsonl", "summary.csv", "summary.xlsx", "summary.json", "report.html")
_ID = re.compile(r"^[0-9a-f]{32}$")


class Jobs:
    def __init__(self, config: Config) -> None:
        self.root = Path(config.jobs_dir or os.path.join(tempfile.gettempdir(), "policy-engine-rounds"))
        self.running = 0
        self.lock = threading.Lock()

    def folder(self, job_id: str) -> Path | None:
        return self.root / job_id if _ID.match(job_id) and (self.root / job_id).is_dir() else None

    @staticmethod
    def write_state(folder: Path, state: dict[str, Any]) -> None:
        tmp = folder / "state.json.tmp"
        tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, folder / "state.json")  # a reader sees the old state or the new one, never half

    def start(self, svc: Service, body: bytes, policy_id: str | None, commit: bool, rnd: str | None, who: Principal | None) -> str:
        pset = svc.catalogue.policy_set(policy_id)
        job_id = secrets.token_hex(16)
        folder = self.root / job_id
        folder.mkdir(parents=True)
        (folder / "input.jsonl").write_bytes(body)
        total = sum(1 for line in body.splitlines() if line.strip())
        state: dict[str, Any] = {
            "id": job_id,
            "state": "running",
            "applications": total,
            "decided": 0,
            "commit": commit,
            "by": who.name if who else None,
        }
        self.write_state(folder, state)
        last = [0.0]

        def progress(n: int) -> None:
            if time.monotonic() - last[0] > 0.2:
                last[0] = time.monotonic()
                self.write_state(folder, {**state, "decided": n})

        def run() -> None:
            log = io.StringIO()
            try:
                summary = run_batch(
                    pset,
                    folder / "input.jsonl",
                    folder / "out",
                    ledger_url=svc.config.ledger_url,
                    commit=commit,
                    round_label=rnd,
                    quiet=True,
                    stderr=log,
                    on_decided=progress,
                )
                done = summary.to_dict()
                files = [f for f in FILES if (folder / "out" / f).is_file()]
                self.write_state(folder, {**state, "state": "done", "decided": summary.applications, "summary": done, "files": files})
                if commit and who is not None:
                    svc.audit(who, "round", job_id, "committed", {"round": rnd, "ledger": done.get("ledger")})
            except (EngineError, OSError, ValueError) as err:
                self.write_state(folder, {**state, "state": "failed", "error": str(err), "log": log.getvalue()[-4000:]})
            finally:
                with self.lock:
                    self.running -= 1

        with self.lock:
            self.running += 1
        threading.Thread(target=run, name=f"round-{job_id}", daemon=True).start()
        return job_id


def routes(svc: Service, refusal: Any, read_body: Any) -> list[Route]:
    async def start(request: Request) -> Response:
        commit = request.query_params.get("commit", "false").lower() in ("true", "1", "yes")
        who = svc.may_write(request) if commit else svc.may_read(request)
        if svc.jobs.running >= svc.config.limits.max_jobs:
            raise refusal("busy", f"at most {svc.config.limits.max_jobs} rounds at once")
        if commit and svc.config.ledger_url is None:
            raise refusal("no-ledger", "start the service with --ledger to commit a round")
        body = await read_body(svc, request, svc.config.limits.max_round_bytes)
        try:
            job_id = svc.jobs.start(svc, body, request.query_params.get("policy"), commit, request.query_params.get("round"), who)
        except EngineError as err:
            raise refusal("invalid-claim", err.summary, err.problems) from None
        return JSONResponse({"id": job_id, "status": f"/rounds/{job_id}"}, status_code=202, headers={"location": f"/rounds/{job_id}"})

    async def status(request: Request) -> Response:
        svc.may_read(request)
        folder = svc.jobs.folder(request.path_params["job_id"])
        if folder is None:
            raise refusal("not-found", request.path_params["job_id"])
        return Response((folder / "state.json").read_bytes(), media_type="application/json")

    async def file(request: Request) -> Response:
        svc.may_read(request)
        folder = svc.jobs.folder(request.path_params["job_id"])
        name = request.path_params["name"]
        if folder is None or name not in FILES or not (folder / "out" / name).is_file():
            raise refusal("not-found", name)
        return FileResponse(folder / "out" / name, filename=name)

    return [
        Route("/rounds", start, methods=["POST"]),
        Route("/rounds/{job_id}", status),
        Route("/rounds/{job_id}/files/{name}", file),
    ]
