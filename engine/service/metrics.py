"""Prometheus text metrics of the service: requests by route and status, a latency histogram, reloads.

One worker counts in memory (a few dict updates per request; nothing on the request path touches a file).
With several workers (`--workers N`), /metrics must give the service's totals whichever worker answers the
scrape, so the workers meet in a shared folder (`Config.metrics_dir`, made by `serve` for the run):

* each worker writes its counts to `worker-<pid>.json` (atomically: a temporary file, then a rename) every
  `FLUSH_SECONDS` when they changed, when it answers a scrape, and when it stops;
* the worker answering a scrape sums every worker's file; the file of a worker that is gone (replaced on a
  reload, or died) is folded into `retired.json` under a lock, so the totals never go down when workers
  are replaced and the folder does not grow with every reload.

A scrape therefore sees the other workers' counts as of at most `FLUSH_SECONDS` ago (Prometheus itself
scrapes every 15 s or so). Why not prometheus_client's multiprocess mode: it is one more dependency, it
needs its environment variable set before the first import in every process, and every observation writes
to a memory-mapped file under a lock on the request path; our own counts are plain dicts and the files are
written off the request path.
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Histogram bucket upper bounds, seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: How often a worker writes its counts to the shared folder (when they changed).
FLUSH_SECONDS = 0.5

Counts = dict[str, Any]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _empty() -> Counts:
    return {"requests": {}, "histogram": {}, "reloads": {"ok": 0, "refused": 0}}


def _add(total: Counts, part: Counts) -> None:
    """Add `part` (a worker's counts, as written to its file) into `total`."""
    for key, n in part.get("requests", {}).items():
        total["requests"][key] = total["requests"].get(key, 0) + n
    for key, (counts, seconds) in part.get("histogram", {}).items():
        mine = total["histogram"].setdefault(key, [[0] * (len(BUCKETS) + 1), 0.0])
        mine[0] = [a + b for a, b in zip(mine[0], counts, strict=True)]
        mine[1] += seconds
    for key, n in part.get("reloads", {}).items():
        total["reloads"][key] = total["reloads"].get(key, 0) + n


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user holds the pid: not ours, but not known dead either
        return True
    return True


class Metrics:
    """One worker's counts; `render` gives the service's totals (every worker's, with a shared folder)."""

    def __init__(self, shared: str | None = None) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = {}
        #: (method, route) -> [count per bucket, the last one past every bound], sum of seconds
        self.buckets: dict[tuple[str, str], list[int]] = {}
        self.sums: dict[tuple[str, str], float] = {}
        self.started = time.time()
        self.reloads: dict[str, int] = {"ok": 0, "refused": 0}
        self.shared = Path(shared) if shared else None
        self._changed = False

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (method, route, status)
            self.requests[key] = self.requests.get(key, 0) + 1
            hk = (method, route)
            counts = self.buckets.get(hk)
            if counts is None:
                counts = self.buckets[hk] = [0] * (len(BUCKETS) + 1)
                self.sums[hk] = 0.0
            counts[bisect.bisect_left(BUCKETS, seconds)] += 1
            self.sums[hk] += seconds
            self._changed = True

    def reloaded(self, outcome: str) -> None:
        with self._lock:
            self.reloads[outcome] = self.reloads.get(outcome, 0) + 1
            self._changed = True

    def counts(self) -> Counts:
        """This worker's counts in the form its file holds (JSON: string keys)."""
        with self._lock:
            return {
                "requests": {json.dumps([m, r, s]): n for (m, r, s), n in self.requests.items()},
                "histogram": {json.dumps([m, r]): [list(c), self.sums[(m, r)]] for (m, r), c in self.buckets.items()},
                "reloads": dict(self.reloads),
            }

    # --- several workers -------------------------------------------------------------------------

    def flush(self, force: bool = False) -> None:
        """Write this worker's counts to the shared folder (if there is one and they changed)."""
        if self.shared is None or not (force or self._changed):
            return
        self._changed = False
        data = json.dumps({"pid": os.getpid(), **self.counts()})
        mine = self.shared / f"worker-{os.getpid()}.json"
        tmp = self.shared / f".worker-{os.getpid()}.tmp"
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, mine)

    @contextlib.contextmanager
    def _folder_lock(self) -> Iterator[None]:
        assert self.shared is not None
        with open(self.shared / ".lock", "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def totals(self) -> tuple[Counts, int]:
        """The service's counts (every worker's, those gone included) and how many workers are alive."""
        if self.shared is None:
            return self.counts(), 1
        self.flush(force=True)
        total, live = _empty(), 0
        with self._folder_lock():
            retired_path = self.shared / "retired.json"
            retired = json.loads(retired_path.read_text(encoding="utf-8")) if retired_path.is_file() else _empty()
            gone = False
            for path in sorted(self.shared.glob("worker-*.json")):
                try:
                    part = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue  # removed meanwhile (folded by another scrape)
                if _alive(int(part.get("pid", 0))):
                    live += 1
                    _add(total, part)
                else:  # a replaced worker: its counts stay in the totals, its file goes
                    _add(retired, part)
                    path.unlink()
                    gone = True
            if gone:
                tmp = self.shared / ".retired.tmp"
                tmp.write_text(json.dumps(retired), encoding="utf-8")
                os.replace(tmp, retired_path)
            _add(total, retired)
        return total, live

    # --- the text ----------------------------------------------------------------------------------

    def render(self, policies: int, versions: int) -> str:  # long because: one Prometheus family after another
        totals, live = self.totals()
        out = [
            "# HELP policy_engine_requests_total HTTP requests answered, by method, route and status (all workers).",
            "# TYPE policy_engine_requests_total counter",
        ]
        requests = sorted((tuple(json.loads(k)), n) for k, n in totals["requests"].items())
        for (method, route, status), n in requests:
            out.append(f'policy_engine_requests_total{{method="{method}",route="{_label(route)}",status="{status}"}} {n}')
        out += [
            "# HELP policy_engine_request_duration_seconds Time from request to response, by method and route (all workers).",
            "# TYPE policy_engine_request_duration_seconds histogram",
        ]
        for key, (counts, seconds) in sorted(totals["histogram"].items()):
            method, route = json.loads(key)
            labels = f'method="{method}",route="{_label(route)}"'
            running = 0
            for bound, n in zip((*(repr(b) for b in BUCKETS), "+Inf"), counts, strict=True):
                running += n  # Prometheus buckets are cumulative
                out.append(f'policy_engine_request_duration_seconds_bucket{{{labels},le="{bound}"}} {running}')
            out.append(f"policy_engine_request_duration_seconds_sum{{{labels}}} {seconds:.6f}")
            out.append(f"policy_engine_request_duration_seconds_count{{{labels}}} {running}")
        out += [
            "# HELP policy_engine_reloads_total Policy reloads, by outcome (all workers).",
            "# TYPE policy_engine_reloads_total counter",
            *(f'policy_engine_reloads_total{{outcome="{k}"}} {v}' for k, v in sorted(totals["reloads"].items())),
            "# HELP policy_engine_workers Worker processes serving.",
            "# TYPE policy_engine_workers gauge",
            f"policy_engine_workers {live}",
            "# HELP policy_engine_policy_versions Policy versions served (by the worker answering).",
            "# TYPE policy_engine_policy_versions gauge",
            f"policy_engine_policy_versions {versions}",
            "# HELP policy_engine_policies Policies served (by the worker answering).",
            "# TYPE policy_engine_policies gauge",
            f"policy_engine_policies {policies}",
            "# HELP policy_engine_start_time_seconds When the worker answering started (Unix time).",
            "# TYPE policy_engine_start_time_seconds gauge",
            f"policy_engine_start_time_seconds {self.started:.3f}",
        ]
        return "\n".join(out) + "\n"
