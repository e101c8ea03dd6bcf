"""The web service under load: requests/s and p50/p99 latency of POST /evaluate, 1, 8 and 32 concurrent clients.

    python benchmarks/bench_service.py                      # one worker and two, 10 s per level
    python benchmarks/bench_service.py --workers 1 4 --seconds 20 --trace

Starts `python -m engine serve` on a free port (policies/ as served folder), then drives it with an asyncio
client that keeps one HTTP/1.1 connection per simulated client (so the client costs little next to the server;
it still shares the machine's cores with it). The application is `generate.application(10)`: 10 items, with a
history of earlier grants. The decision is asked without its trace (`?trace=false`) unless --trace.

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
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate import application  # noqa: E402


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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` and its children (the workers), from /proc (Linux)."""
    total = 0.0
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
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(workers: int, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "engine", "serve", "--policies", str(ROOT / "policies"), "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen([*cmd, "--log-level", "warning"], env=env)
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


async def level(port: int, request: bytes, clients: int, seconds: float, pid: int) -> tuple[float, float, float, int, float]:
    latencies: list[float] = []
    warm_until = time.perf_counter() + min(2.0, seconds / 5)
    await asyncio.gather(*(client(port, request, warm_until, []) for _ in range(clients)))
    cpu0 = cpu_seconds(pid)
    start_t = time.perf_counter()
    await asyncio.gather(*(client(port, request, start_t + seconds, latencies) for _ in range(clients)))
    elapsed = time.perf_counter() - start_t
    cpu = (cpu_seconds(pid) - cpu0) / len(latencies)
    q = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, q[49] * 1000, q[98] * 1000, len(latencies), cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--trace", action="store_true", help="ask for the decision with its trace")
    args = ap.parse_args(argv)
    body = json.dumps(application(10), ensure_ascii=False, default=str).encode("utf-8")
    path = "/evaluate" if args.trace else "/evaluate?trace=false"
    request = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    )
    print(f"POST {path}, a 10-item application ({len(body)} bytes), {args.seconds:g} s per level, {os.cpu_count()} CPUs")
    engine_s = engine_cost(body, args.trace)
    print(f"engine alone (parse_claim_json + evaluate_claim + compact JSON), in process: {engine_s * 1000:.3f} ms CPU per request")
    print(
        "| workers | clients | requests/s | p50 ms | p99 ms | requests | server CPU ms/request | per worker-CPU-second | service overhead ms |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for workers in args.workers:
        port = free_port()
        proc = start(workers, port)
        try:
            for clients in args.clients:
                rps, p50, p99, n, cpu = asyncio.run(level(port, request, clients, args.seconds, proc.pid))
                print(
                    f"| {workers} | {clients} | {rps:,.0f} | {p50:.1f} | {p99:.1f} | {n:,} | {cpu * 1000:.3f} | {1 / cpu:,.0f} |"
                    f" {(cpu - engine_s) * 1000:.3f} |",
                    flush=True,
                )
        finally:
            proc.terminate()
            proc.wait(30)
    print(f"engine alone again, after the levels: {engine_cost(body, args.trace) * 1000:.3f} ms CPU per request")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
