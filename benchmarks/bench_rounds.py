"""A round through the web service: `POST /rounds` of N applications until its job is done, and what the round
does to the worker's other callers.

    python benchmarks/bench_rounds.py                     # 10,000 applications (100,000 items), one worker
    python benchmarks/bench_rounds.py --items 20000 --repeat 3

Starts `python -m engine serve` on a free port (policies/ as served folder, a fresh jobs folder), posts one round
of `generate.claims(--items)` (about 10 items an application) and polls `GET /rounds/{id}` every 0.1 s. Each run
says: the seconds from the POST to the job's `done`; the seconds from the first poll that saw the last progress
the job reported (written at most every 0.2 s while deciding, so this counts up to ~0.3 s of deciding) to `done`,
which is the outputs after deciding (decisions.jsonl, the summaries, the workbook, the report); and the latency of `POST /evaluate` (one 10-item application, the default call), one
call every 10 ms by one client while the round runs, against the same calls before it with nothing else running.

A command, not a test: on a shared machine the figures are indicative only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_service import free_port, load, start  # noqa: E402
from generate import application, claims  # noqa: E402


def call(port: int, method: str, path: str, body: bytes | None = None) -> bytes:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return bytes(r.read())


def evaluate_ms(port: int, one: bytes, calls: int, pause: float = 0.0) -> list[float]:
    out = []
    for _ in range(calls):
        t = time.perf_counter()
        call(port, "POST", "/evaluate", one)
        out.append((time.perf_counter() - t) * 1000)
        if pause:
            time.sleep(pause)
    return out


def one_round(port: int, body: bytes, one: bytes) -> dict[str, float]:
    idle = evaluate_ms(port, one, 300)
    busy: list[float] = []
    stop = threading.Event()

    def meanwhile() -> None:
        while not stop.is_set():
            busy.extend(evaluate_ms(port, one, 1, pause=0.01))

    started = time.perf_counter()
    job = json.loads(call(port, "POST", "/rounds", body))["id"]
    caller = threading.Thread(target=meanwhile)
    caller.start()
    decided_at = started
    seen = 0
    while True:
        state = json.loads(call(port, "GET", f"/rounds/{job}"))
        if state["state"] != "running":
            break
        if state.get("decided", 0) > seen:  # the last progress the job reported: at most 0.2 s before deciding ended
            seen, decided_at = state["decided"], time.perf_counter()
        time.sleep(0.1)
    ended = time.perf_counter()
    stop.set()
    caller.join()
    if state["state"] != "done":
        raise SystemExit(f"the round failed: {state}")
    busy.sort()
    return {
        "total_s": ended - started,
        "after_deciding_s": ended - decided_at,
        "idle_p50_ms": statistics.median(idle),
        "busy_p50_ms": statistics.median(busy),
        "busy_p90_ms": busy[int(0.9 * len(busy))],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=100_000, help="items in the round (about 10 an application)")
    ap.add_argument("--repeat", type=int, default=1, help="rounds, one after the other, on the same server")
    args = ap.parse_args(argv)
    lines = [json.dumps(c, ensure_ascii=False) for c in claims(args.items, seed=20211231)]
    body = ("\n".join(lines) + "\n").encode("utf-8")
    one = json.dumps(application(10, seed=7), ensure_ascii=False).encode("utf-8")
    port = free_port()
    jobs = tempfile.mkdtemp(prefix="bench-rounds-")
    proc = start(1, port, None, [], extra=["--jobs-dir", jobs])
    try:
        evaluate_ms(port, one, 100)  # warm
        print(f"{len(lines)} applications, {args.items} items; one worker; load average {load()}")
        for n in range(args.repeat):
            r = one_round(port, body, one)
            print(
                f"run {n + 1}: done in {r['total_s']:.2f} s, {r['after_deciding_s']:.2f} s of it after deciding; "
                f"POST /evaluate p50 {r['idle_p50_ms']:.2f} ms alone, {r['busy_p50_ms']:.2f} ms (p90 {r['busy_p90_ms']:.2f}) "
                f"during the round; load average {load()}"
            )
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(jobs, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
