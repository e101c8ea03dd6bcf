"""Focused micro-benchmark of the explanations (issues 6 and 12): decide + explain, items/s.

    python benchmarks/bench_render.py                 # 20,000 items, zh text, 3 rounds, medians
    python benchmarks/bench_render.py --items 5000 --lang en --format html --profile
    python benchmarks/bench_render.py --format md --record

Times exactly what `benchmarks/run.py` reports as "decide + zh text explanation":
`engine.explaining.render.explain(policy, evaluate_claim(policy, claim), lang, fmt)` over a
generated round (claims parsed beforehand). `--format md|html` times the Markdown or HTML page
instead of the plain text; `--record` explains the decision's JSON (as a batch's decisions.jsonl
holds it, `Decision.to_dict()` included in the time) instead of the `Decision`;
`--profile` prints the top of a cProfile run.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for p in (str(HERE.parent), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

import generate  # noqa: E402

import engine  # noqa: E402
from engine.deciding.evaluator import evaluate_claim  # noqa: E402
from engine.explaining import render  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--lang", default="zh")
    ap.add_argument("--format", default="text", choices=("text", "md", "html"), help="the explanation's format (default text)")
    ap.add_argument("--record", action="store_true", help="explain the decision's JSON (a recorded decision) instead of the Decision")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    policy = engine.load_policy(HERE.parent / "policies" / "pinggu_2020.yaml")
    parsed = [engine.parse_claim(policy, raw) for raw in generate.claims(args.items)]
    n = sum(len(c.items) for c in parsed)
    fmt = args.format

    if args.record:

        def one(c: object) -> str:
            return render.explain(policy, evaluate_claim(policy, c).to_dict(), args.lang, fmt)  # type: ignore[arg-type]
    else:

        def one(c: object) -> str:
            return render.explain(policy, evaluate_claim(policy, c), args.lang, fmt)  # type: ignore[arg-type]

    one(parsed[0])  # compile everything once, up front
    times = []
    for _ in range(args.rounds):
        gc.collect()
        t0 = time.perf_counter()
        for c in parsed:
            one(c)
        times.append(time.perf_counter() - t0)
    decide = []
    for _ in range(args.rounds):
        gc.collect()
        t0 = time.perf_counter()
        for c in parsed:
            evaluate_claim(policy, c)
        decide.append(time.perf_counter() - t0)
    med, dmed = statistics.median(times), statistics.median(decide)
    path = "explain(decision's JSON)" if args.record else "explain()"
    print(f"{n:,} items, {args.lang} {fmt}, {path}: {n / med:,.0f} items/s decide+render ({med / n * 1e6:.1f} µs/item)")
    print(f"  decide alone: {n / dmed:,.0f} items/s ({dmed / n * 1e6:.1f} µs/item); render share {(med - dmed) / n * 1e6:.1f} µs/item")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for c in parsed:
            one(c)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
