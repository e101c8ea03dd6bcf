"""The web service under load: requests/s and p50/p99 latency of POST /evaluate, 1, 8 and 32 concurrent clients.

    python benchmarks/bench_service.py                      # one worker and two, 10 s per level, both calls
    python benchmarks/bench_service.py --workers 1 4 --seconds 20 --calls trace
    python benchmarks/bench_service.py --client python --no-pin  # the Python client, no CPU pinning

Starts `python -m engine serve` on a free port (policies/ as served folder), then drives it with one
HTTP/1.1 keep-alive connection per simulated client. The application is `generate.application(10)`: 10
items, with a history of earlier grants. Two calls, each its own rows (`--calls`): `POST /evaluate` as a
caller sends it by default (the decision without its steps), and `POST /evaluate?trace=true` (with each item's
steps: about 29 KB of JSON instead of 6 KB).

The client: `wrk` (a C load generator: `apt-get install wrk`) when it is on the PATH, one thread, a Lua script
posting the body and printing the count and the p50/p99/max latency; otherwise an asyncio client in this process
(`--client python`), which costs about as much CPU as the server it drives. With `taskset` on the PATH and
more CPUs than workers, the server (and its workers) is pinned to the first CPUs and the client to the rest
(`--no-pin` to leave both to the scheduler): on a small machine the client then does not take the server's
core. Each row also gives the 1-minute load average when the level started and how many times the server
was preempted during the level (involuntary context switches, from /proc): other work on the machine shows
in requests/s and latency, not in the CPU figures. At 32 clients every request waits for the others in
the worker's queue, so one preemption of the server (or of the client) of a few milliseconds delays the
32 requests in flight: a handful of them in a level is the p99. `--nice -10` (root) runs the server and wrk
ahead of other work, as a deployment's own core would; the rows say so.

Besides requests/s and latency (which on a small machine also measure the client, sharing its cores), each row
gives the server's own CPU time per request (user + system time of the server's processes over the level,
from /proc, divided by the requests answered) and what that makes one worker able to answer per second of
CPU; and the engine-only cost of the same request measured in this process in the same run (fast intake
`parse_claim_json` + `evaluate_claim` + the compact decision writer): the difference is the service's own
cost (HTTP parsing, the ASGI call, writing the answer, metrics).

A command, not a test: figures on a shared machine are indicative only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate import application  # noqa: E402

#: The calls measured: what each is named in the rows, and its path.
CALLS = {"default": "/evaluate", "trace": "/evaluate?trace=true"}


def engine_cost(body: bytes, trace: bool, rounds: int = 7, n: int = 300) -> float:
    """CPU seconds per request of the engine alone, in process: the median of `rounds` runs of `n` (process time,
    like the server's figure: time lost to other processes on a shared machine is in neither; the median, not
    the best, as the server's figure is a mean over the level)."""
    sys.path.insert(0, str(ROOT))
    from engine.deciding.claims import parse_claim_json
    from engine.deciding.evaluator import evaluate_claim
    from engine.deciding.ready import load_policy

    policy = load_policy(ROOT / "policies" / "pinggu_2020.yaml")
    text = body.decode("utf-8")
    runs = []
    for _ in range(rounds):
        t0 = time.process_time()
        for _ in range(n):
            evaluate_claim(policy, parse_claim_json(policy, text, file="request"), trace=trace).to_json(indent=None).encode("utf-8")
        runs.append((time.process_time() - t0) / n)
    return statistics.median(runs)


def cpu_seconds(pid: int) -> tuple[float, int]:
    """User + system CPU time of process `pid` and its children (the workers), and how many times they were
    preempted (involuntary context switches: another process took their CPU), from /proc (Linux)."""
    total, preempted = 0.0, 0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        preempted += sum(int(line.split()[1]) for line in status.splitlines() if line.startswith("nonvoluntary_ctxt_switches"))
    return total, preempted


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(workers: int, port: int, cpus: str | None, nice: list[str], extra: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    """The service on `port` (`extra`: more `serve` options), once it is ready."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "engine",
        "serve",
        "--policies",
        str(ROOT / "policies"),
        "--port",
        str(port),
        "--workers",
        str(workers),
        *extra,
    ]
    pin = ["taskset", "-c", cpus] if cpus else []  # the workers inherit the parent's CPUs
    proc = subprocess.Popen([*nice, *pin, *cmd, "--log-level", "warning"], env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as r:
                if r.status == 200:
                    time.sleep(1.0 if workers > 1 else 0.2)  # let every worker come up
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not start")


async def client(port: int, request: bytes, until: float, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            t0 = time.perf_counter()
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                raise SystemExit(f"unexpected answer: {head[:80]!r} {body[:200]!r}")
            latencies.append(time.perf_counter() - t0)
    finally:
        writer.close()


async def python_level(
    port: int, request: bytes, clients: int, seconds: float, pid: int
) -> tuple[float, float, float, float, int, float, int]:
    latencies: list[float] = []
    warm_until = time.perf_counter() + min(2.0, seconds / 5)
    await asyncio.gather(*(client(port, request, warm_until, []) for _ in range(clients)))
    cpu0, pre0 = cpu_seconds(pid)
    start_t = time.perf_counter()
    await asyncio.gather(*(client(port, request, start_t + seconds, latencies) for _ in range(clients)))
    elapsed = time.perf_counter() - start_t
    cpu1, pre1 = cpu_seconds(pid)
    q = statistics.quantiles(latencies, n=100)
    return (
        len(latencies) / elapsed,
        q[49] * 1000,
        q[98] * 1000,
        max(latencies) * 1000,
        len(latencies),
        (cpu1 - cpu0) / len(latencies),
        pre1 - pre0,
    )


#: wrk's script: POST the body; at the end one line with the count, the time and the p50/p99/max latency (ms).
WRK_SCRIPT = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open([[%s]], "rb"))
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%f %%f %%f %%f %%d %%d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, e.connect + e.read + e.write + e.timeout,
    e.status))
end
"""


def wrk_level(
    port: int, path: str, script: Path, clients: int, seconds: float, pid: int, cpus: str | None, nice: list[str]
) -> tuple[float, float, float, float, int, float, int]:
    pin = [*nice, "taskset", "-c", cpus] if cpus else nice

    def run(duration: float) -> tuple[int, float, float, float, float]:
        cmd = [*pin, "wrk", "-t1", f"-c{clients}", f"-d{max(1, round(duration))}s", "--timeout", "10s", "-s", str(script)]
        out = subprocess.run([*cmd, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
        found = re.search(r"^RESULT (\d+) (\S+) (\S+) (\S+) (\S+) (\d+) (\d+)$", out, re.M)
        if found is None:
            raise SystemExit(f"wrk said: {out}")
        n, elapsed, p50, p99, top, errors, not_ok = found.groups()
        if int(errors) or int(not_ok):
            raise SystemExit(f"wrk: {errors} socket errors, {not_ok} answers other than 2xx/3xx:\n{out}")
        return int(n), float(elapsed), float(p50), float(p99), float(top)

    run(2 if seconds >= 5 else 1)  # warm up (connections, caches), not counted
    cpu0, pre0 = cpu_seconds(pid)
    n, elapsed, p50, p99, top = run(seconds)
    cpu1, pre1 = cpu_seconds(pid)
    return n / elapsed, p50, p99, top, n, (cpu1 - cpu0) / n, pre1 - pre0


def placement(workers: int, pin: bool) -> tuple[str | None, str | None, str]:
    """CPUs for the server and for the client (None: the scheduler's choice), and a phrase saying which."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))
    if not pin or shutil.which("taskset") is None or len(cpus) <= workers:
        return None, None, "not pinned (server and client share all CPUs)"
    server, rest = cpus[:workers], cpus[workers:]
    spell = ",".join  # taskset's CPU list
    return (
        spell(map(str, server)),
        spell(map(str, rest)),
        f"server on CPU {spell(map(str, server))}, client on CPU {spell(map(str, rest))}",
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument(
        "--calls", nargs="+", choices=list(CALLS), default=list(CALLS), help="default: POST /evaluate; trace: POST /evaluate?trace=true"
    )
    ap.add_argument("--client", choices=["auto", "wrk", "python"], default="auto", help="auto: wrk when on the PATH")
    ap.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin the server and the client to CPUs")
    ap.add_argument(
        "--nice", type=int, default=None, help="run the server and wrk at this nice value (negative: ahead of other work; needs root)"
    )
    args = ap.parse_args(argv)
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk") is not None)
    if use_wrk and shutil.which("wrk") is None:
        raise SystemExit("wrk is not on the PATH (apt-get install wrk), or use --client python")
    body = json.dumps(application(10), ensure_ascii=False, default=str).encode("utf-8")
    paths = [CALLS[c] for c in args.calls]
    print(f"POST {' and '.join(paths)}, a 10-item application ({len(body)} bytes), {args.seconds:g} s per level, {os.cpu_count()} CPUs")
    print(f"client: {'wrk (one thread)' if use_wrk else 'asyncio, in this process'}; load average {load()} at the start")
    nice = ["nice", "-n", str(args.nice)] if args.nice is not None else []
    if nice:
        print(f"server and client run at nice {args.nice}")
    work = Path(tempfile.mkdtemp(prefix="bench-service-"))
    (work / "body.json").write_bytes(body)
    script = work / "post.lua"
    script.write_text(WRK_SCRIPT % (work / "body.json"), encoding="utf-8")
    engine_s = {path: engine_cost(body, "trace=true" in path) for path in paths}
    for path in paths:
        print(
            f"engine alone for {path} (parse_claim_json + evaluate_claim + compact JSON), in process: {engine_s[path] * 1000:.3f} ms CPU per request"
        )
    print(
        "| workers | call | clients | requests/s | p50 ms | p99 ms | max ms | requests | server CPU ms/request | per worker-CPU-second |"
        " service overhead ms | server preempted | load | CPUs |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    try:
        for workers in args.workers:
            server_cpus, client_cpus, where = placement(workers, args.pin)
            port = free_port()
            proc = start(workers, port, server_cpus, nice)
            try:
                for path in paths:
                    request = (
                        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
                    for clients in args.clients:
                        at = load()
                        if use_wrk:
                            rps, p50, p99, top, n, cpu, pre = wrk_level(
                                port, path, script, clients, args.seconds, proc.pid, client_cpus, nice
                            )
                        else:
                            if client_cpus and hasattr(os, "sched_setaffinity"):
                                os.sched_setaffinity(0, {int(c) for c in client_cpus.split(",")})
                            rps, p50, p99, top, n, cpu, pre = asyncio.run(python_level(port, request, clients, args.seconds, proc.pid))
                        print(
                            f"| {workers} | `{path}` | {clients} | {rps:,.0f} | {p50:.1f} | {p99:.1f} | {top:.1f} | {n:,} | {cpu * 1000:.3f} |"
                            f" {1 / cpu:,.0f} | {(cpu - engine_s[path]) * 1000:.3f} | {pre:,} | {at} | {where} |",
                            flush=True,
                        )
            finally:
                proc.terminate()
                proc.wait(30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    again = ", ".join(f"{path} {engine_cost(body, 'trace=true' in path) * 1000:.3f}" for path in paths)
    print(f"engine alone again, after the levels (ms CPU per request): {again}; load average {load()}")
    return 0


def load() -> str:
    """The 1-minute load average (what else the machine was running)."""
    return f"{os.getloadavg()[0]:.2f}"


if __name__ == "__main__":
    raise SystemExit(main())
