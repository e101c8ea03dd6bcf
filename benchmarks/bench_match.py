"""`match`: profiles per second, on 1 and N processes, in flat memory.

    PYTHONPATH=. python benchmarks/bench_match.py --profiles 100000 --workers 2
    PYTHONPATH=. python benchmarks/bench_match.py --profiles 2000 --workers 2 --notices   # notices written too

Profiles are applications of the generated round (benchmarks/generate.py: every item type, applicants of
every kind and role) with a seeded fifth of their facts removed (history dropped: profiles are what registries
hold), streamed into a JSON Lines file first. Each is matched against every rule of the Pinggu measures, as
`policy-engine match` does (matches.jsonl and summary.xlsx written; notices only with --notices). Prints, per
worker count: wall seconds, profiles/s, real decisions run per profile, CPU seconds (parent and workers: on a
shared machine, where one session gets one share of the CPU however many processes it starts, profiles per
CPU-second is the figure that carries over), and the peak resident memory of the parent and of the largest
worker (ru_maxrss) -- flat memory means it does not grow with --profiles.
A command, not a test (timings on a shared machine are noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generate import claims

from engine.deciding.versions import PolicySet
from engine.matching.run import run_match

ROOT = Path(__file__).resolve().parent.parent
KEEP = {"claim_id", "funding_year", "applicant", "items", "id", "type", "kind"}


def profiles(n: int, seed: int) -> object:
    rng = random.Random(seed)
    made = 0
    for c in claims(n * 10, seed, min_items=1, max_items=4):
        c.pop("history", None)
        for target in (c, c["applicant"], *c["items"]):
            for key in [k for k in target if k not in KEEP]:
                if rng.random() < 0.2:
                    del target[key]
        yield c
        made += 1
        if made >= n:
            return


def _cpu(*, children: bool = True) -> float:
    """CPU seconds of this process and (children) of its finished children (the workers of a pool once shut down)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + ((kids.ru_utime + kids.ru_stime) if children else 0.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profiles", type=int, default=10000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--notices", action="store_true", help="write the notices too (4 files per profile)")
    ap.add_argument("--only", action="store_true", help="only the run with --workers (not the one-worker run too)")
    args = ap.parse_args(argv)
    sets = [PolicySet.load([ROOT / "policies" / "pinggu_2020.yaml"])]
    tmp = Path(tempfile.mkdtemp(prefix="bench-match-"))
    src = tmp / "profiles.jsonl"
    with open(src, "w", encoding="utf-8") as f:
        for p in profiles(args.profiles, args.seed):
            f.write(json.dumps(p, ensure_ascii=False, default=str) + "\n")
    print(f"{args.profiles} profiles in {src} ({os.path.getsize(src) / 1e6:.1f} MB); cores: {os.cpu_count()}")
    for workers in sorted({1, args.workers}) if not args.only else [args.workers]:
        cpu_before, parent_before = _cpu(), _cpu(children=False)
        started = time.monotonic()
        summary, _ = run_match(sets, src, tmp / f"out-{workers}", workers=workers, notices=args.notices, quiet=True)
        seconds = time.monotonic() - started
        cpu, parent = _cpu() - cpu_before, _cpu(children=False) - parent_before
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"workers {workers}: {seconds:.1f} s, {summary.profiles / seconds:,.0f} profiles/s, "
            f"{summary.evaluations / max(summary.profiles, 1):.1f} decisions/profile, errors {summary.errors}, "
            f"answers {dict(summary.answers)}, CPU {cpu:.1f} s ({summary.profiles / max(cpu, 1e-9):,.0f} profiles per CPU-second; parent {parent:.1f} s), "
            f"peak RSS parent {own:.0f} MB, largest worker {kids:.0f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
