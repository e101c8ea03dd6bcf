"""`batch --workers N`: the deciding loop of a generated round on 1 and N processes, alternating.

    PYTHONPATH=. python benchmarks/bench_batch.py --items 20000 --workers 2 --repeat 3

A round of `--items` items (benchmarks/generate.py) is decided as `batch` does it (deciding only, a
scratch ledger over an SQLite ledger holding an earlier round committed as history; with `--commit`,
committed into a copy of that ledger), once with one
worker and once with N, `--repeat` times, alternating so that a shared machine's load falls on both
alike. The figure is the deciding loop: from the start of `run_batch` to the last application decided
(reading, the ranking pass if any, the workers' steps and the merge; the outputs written after it are
the same work whatever N). Every run's decisions.jsonl must be byte-identical to the first run's with one
worker, or the benchmark stops.

Two figures, both medians: wall-clock seconds, and CPU seconds on the critical path (one worker: the
process's CPU time; N workers: the parent's CPU time plus, for each parallel step, the busiest worker's).
The second is what the wall clock would be with a free core per worker: on a machine shared with other
sessions, Linux's autogroup scheduling gives one session (all the workers of one run) one share of
the CPU however many processes it starts, so the wall clock there understates the speed-up.
Prints the speed-up by both, each step's figures, the largest connected group, and the number of cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.generate import claims  # noqa: E402
from engine import load_policy  # noqa: E402
from engine.records import workers as parallel  # noqa: E402
from engine.records.batch import run_batch  # noqa: E402
from engine.records.ledger import Ledger  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=20000, help="items in the round decided (default 20000)")
    ap.add_argument("--history-items", type=int, default=5000, help="items of an earlier round committed first (default 5000)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--policy", default=str(ROOT / "policies" / "pinggu_2020.yaml"))
    ap.add_argument("--commit", action="store_true", help="commit the round (each run into its own copy of the history ledger)")
    args = ap.parse_args(argv)
    policy = load_policy(args.policy)
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'ledger.sqlite'}"
        with Ledger(url) as ledger:  # an earlier round: the history the round is decided against
            for c in claims(args.history_items, seed=7):
                c["claim_id"] = "H-" + c["claim_id"]
                ledger.commit(policy, c)
        round_path = folder / "round.jsonl"
        with open(round_path, "w", encoding="utf-8") as f:
            for c in claims(args.items):
                f.write(json.dumps(c, ensure_ascii=False) + "\n")
        figures: dict[int, list[float]] = {1: [], args.workers: []}
        cpu: dict[int, list[float]] = {1: [], args.workers: []}
        outcomes: list[parallel.Outcome] = []
        decide_round = parallel.decide_round

        def watched(*a: Any, **k: Any) -> parallel.Outcome:
            outcome = decide_round(*a, **k)
            outcomes.append(outcome)
            return outcome

        parallel.decide_round = watched  # type: ignore[assignment]
        first: bytes | None = None
        for n in range(args.repeat):
            for w in (1, args.workers) if n % 2 == 0 else (args.workers, 1):
                out = folder / f"out-{w}"
                run_url = url
                if args.commit:  # each run commits into its own copy of the ledger holding the history
                    copy = folder / f"ledger-{n}-{w}.sqlite"
                    shutil.copyfile(folder / "ledger.sqlite", copy)
                    run_url = f"sqlite:///{copy}"
                last = [0.0, 0.0]
                outcomes.clear()
                start, start_cpu = time.perf_counter(), time.process_time()
                run_batch(
                    policy,
                    round_path,
                    out,
                    ledger_url=run_url,
                    commit=args.commit,
                    quiet=True,
                    report=False,
                    workers=w,
                    on_decided=lambda _n, last=last: last.__setitem__(slice(0, 2), [time.perf_counter(), time.process_time()]),
                )
                figures[w].append(last[0] - start)
                if w == 1:
                    cpu[w].append(last[1] - start_cpu)
                else:
                    if not outcomes:
                        print(f"{w} workers: the round was decided on one process", file=sys.stderr)
                        return 1
                    o = outcomes[0]
                    cpu[w].append(last[1] - start_cpu + sum(o.busiest.values()))  # the parent's, and the busiest worker's
                    steps = ", ".join(f"{k} {o.seconds[k]:.2f} s wall / {o.cpu[k]:.2f} s cpu" for k in o.seconds)
                    print(f"    steps: {steps}; largest group {o.largest_group} of {o.applications} applications", file=sys.stderr)
                decided = (out / "decisions.jsonl").read_bytes()
                first = decided if first is None else first
                if decided != first:
                    print(f"decisions with {w} workers differ from one worker's", file=sys.stderr)
                    return 1
                print(f"  run {n + 1}, {w} worker(s): {last[0] - start:.2f} s wall, {cpu[w][-1]:.2f} s cpu", file=sys.stderr)
        one, many = statistics.median(figures[1]), statistics.median(figures[args.workers])
        one_cpu, many_cpu = statistics.median(cpu[1]), statistics.median(cpu[args.workers])
        print(
            f"{args.items} items, {os.cpu_count()} cores: wall clock 1 worker {one:.2f} s, {args.workers} workers {many:.2f} s "
            f"({one / many:.2f}x); critical-path CPU 1 worker {one_cpu:.2f} s, {args.workers} workers {many_cpu:.2f} s "
            f"({one_cpu / many_cpu:.2f}x); median of {args.repeat}, alternating; decisions identical"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
