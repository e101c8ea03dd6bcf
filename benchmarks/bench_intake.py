"""Claim intake micro-benchmark (issue 14 point 2a): JSON text of one application -> validated claim.

    PYTHONPATH=$PWD python benchmarks/bench_intake.py [label]

Times `parse_claim(policy, loads_json(text))` and, where the checkout has it, `parse_claim_json(policy,
text)` over the seeded 20,000-item generated round: items/s, best of 5, process time (less noisy than
wall clock on a shared machine). The engine is the one on PYTHONPATH: for an A/B, run this file alternately
with PYTHONPATH set to each checkout (e.g. a `git archive` of the parent commit) and compare the ratios.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import generate  # noqa: E402

import engine  # noqa: E402
from engine.deciding import claims  # noqa: E402


def best(n: int, fn: Callable[[str], Any], xs: list[str]) -> float:
    fastest = float("inf")
    for _ in range(5):
        t = time.process_time()
        for x in xs:
            fn(x)
        fastest = min(fastest, time.process_time() - t)
    return n / fastest


def main() -> None:
    policy = engine.load_policy(ROOT / "policies" / "pinggu_2020.yaml")
    raws = list(generate.claims(20000, generate.SEED))
    lines = [json.dumps(r, ensure_ascii=False) for r in raws]
    n = sum(len(r["items"]) for r in raws)
    out = {"parse_claim(loads_json(text))": best(n, lambda x: engine.parse_claim(policy, engine.loads_json(x)), lines)}
    if hasattr(claims, "parse_claim_json"):
        out["parse_claim_json(text)"] = best(n, lambda x: claims.parse_claim_json(policy, x), lines)
    label = sys.argv[1] if len(sys.argv) > 1 else ""
    print(label, "; ".join(f"{k} {v:,.0f} items/s" for k, v in out.items()))


if __name__ == "__main__":
    main()
