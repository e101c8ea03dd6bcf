"""The web service under load: requests/s and p50/p99 latency of POST /evaluate, 1, 8 and 32 concurrent clients.

    python benchmarks/bench_service.py                      # one worker and two, 10 s per level
    python benchmarks/bench_service.py --workers 1 4 --seconds 20 --trace

Starts `python -m engine serve` on a free port (policies/ as served folder), then drives it with an asyncio
client that keeps one HTTP/1.1 connection per simulated client (so the client costs little next to the server;
it still shares the machine's cores with it). The application is `generate.application(10)`: 10 items, with a
history of earlier grants. The decision is asked without its trace (`?trace=false`) unless --trace.

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


async def level(port: int, request: bytes, clients: int, seconds: float) -> tuple[float, float, float, int]:
    latencies: list[float] = []
    warm_until = time.perf_counter() + min(2.0, seconds / 5)
    await asyncio.gather(*(client(port, request, warm_until, []) for _ in range(clients)))
    start_t = time.perf_counter()
    await asyncio.gather(*(client(port, request, start_t + seconds, latencies) for _ in range(clients)))
    elapsed = time.perf_counter() - start_t
    q = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, q[49] * 1000, q[98] * 1000, len(latencies)


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
    print("| workers | clients | requests/s | p50 ms | p99 ms | requests |")
    print("|---:|---:|---:|---:|---:|---:|")
    for workers in args.workers:
        port = free_port()
        proc = start(workers, port)
        try:
            for clients in args.clients:
                rps, p50, p99, n = asyncio.run(level(port, request, clients, args.seconds))
                print(f"| {workers} | {clients} | {rps:,.0f} | {p50:.1f} | {p99:.1f} | {n:,} |", flush=True)
        finally:
            proc.terminate()
            proc.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
