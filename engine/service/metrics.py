"""Prometheus text metrics of one worker process: requests by route and status, and a latency histogram.

Each worker counts its own requests (label `worker`: its process id); Prometheus sums them when it scrapes
every worker, or the service is run with one worker per container (docs/service.md).
"""

from __future__ import annotations

import os
import threading
import time

#: Histogram bucket upper bounds, seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = {}
        self.buckets: dict[tuple[str, str], list[int]] = {}
        self.sums: dict[tuple[str, str], float] = {}
        self.started = time.time()
        self.reloads: dict[str, int] = {"ok": 0, "refused": 0}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (method, route, status)
            self.requests[key] = self.requests.get(key, 0) + 1
            hk = (method, route)
            counts = self.buckets.setdefault(hk, [0] * (len(BUCKETS) + 1))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            counts[-1] += 1  # +Inf: every observation
            self.sums[hk] = self.sums.get(hk, 0.0) + seconds

    def render(self, policies: int, versions: int) -> str:
        worker = str(os.getpid())
        out = [
            "# HELP policy_engine_requests_total HTTP requests answered, by method, route and status.",
            "# TYPE policy_engine_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), n in sorted(self.requests.items()):
                out.append(
                    f'policy_engine_requests_total{{worker="{worker}",method="{method}",route="{_label(route)}",status="{status}"}} {n}'
                )
            out += [
                "# HELP policy_engine_request_duration_seconds Time from request to response, by method and route.",
                "# TYPE policy_engine_request_duration_seconds histogram",
            ]
            for (method, route), counts in sorted(self.buckets.items()):
                labels = f'worker="{worker}",method="{method}",route="{_label(route)}"'
                for bound, n in zip((*(repr(b) for b in BUCKETS), "+Inf"), counts, strict=True):
                    out.append(f'policy_engine_request_duration_seconds_bucket{{{labels},le="{bound}"}} {n}')
                out.append(f"policy_engine_request_duration_seconds_sum{{{labels}}} {self.sums[(method, route)]:.6f}")
                out.append(f"policy_engine_request_duration_seconds_count{{{labels}}} {counts[-1]}")
            out += [
                "# HELP policy_engine_reloads_total Policy reloads, by outcome.",
                "# TYPE policy_engine_reloads_total counter",
                *(f'policy_engine_reloads_total{{worker="{worker}",outcome="{k}"}} {v}' for k, v in sorted(self.reloads.items())),
            ]
        out += [
            "# HELP policy_engine_policy_versions Policy versions served.",
            "# TYPE policy_engine_policy_versions gauge",
            f'policy_engine_policy_versions{{worker="{worker}"}} {versions}',
            "# HELP policy_engine_policies Policies served.",
            "# TYPE policy_engine_policies gauge",
            f'policy_engine_policies{{worker="{worker}"}} {policies}',
            "# HELP policy_engine_start_time_seconds When this worker started (Unix time).",
            "# TYPE policy_engine_start_time_seconds gauge",
            f'policy_engine_start_time_seconds{{worker="{worker}"}} {self.started:.3f}',
        ]
        return "\n".join(out) + "\n"
