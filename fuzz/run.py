"""Fuzz the policy loader and the claim parser for a set time.

    python fuzz/run.py --minutes 10            # all targets, time shared round-robin
    python fuzz/run.py --minutes 2 --target claim_data --seed 7

Hypothesis generates the inputs (generation phase only: no shrinking, no
example database), in rounds of a few hundred examples with a fresh seed each,
until the time is up. Targets:

* yaml_text     -- engine.source.parse_yaml on generated YAML-ish text, YAML
                   with anchors/aliases/tags/merge keys, and mutated slices of
                   the real policy file;
* policy_text   -- engine.load_policy_text on the whole policy file with a few
                   line-level mutations (slow: the full pipeline);
* policy_data   -- the schema + compiler (engine.policy.check_source) on the
                   parsed policy with values replaced by hostile ones (bad
                   amounts, hostile expressions, wrong types, deleted keys);
* claim_data    -- engine.parse_claim + evaluate + to_json on valid claims with
                   values replaced by hostile ones (NaN, 1e3, huge, control
                   characters, bad identifiers, impossible dates...);
* claim_text    -- engine.loads_json + parse_claim on mutated JSON text.

A *crash* is any exception that is not an engine.EngineError, or an input that
takes longer than --slow seconds. Each crash is written to fuzz/crashes/ as
JSON (target, error, input) and counted; the summary gives inputs tried and
crashes per target. Exit status 1 if anything crashed. Keep each crash as a
regression test under tests/regressions/.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import random
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import engine  # noqa: E402
from engine.policy import check_source  # noqa: E402
from engine.source import Source, parse_yaml  # noqa: E402

POLICY_PATH = ROOT / "policies" / "pinggu_2020.yaml"
CRASH_DIR = ROOT / "fuzz" / "crashes"

# --- pools of hostile values ------------------------------------------------------

HOSTILE_EXPRESSIONS = [
    "item.__class__",
    "item.__class__.__mro__[1].__subclasses__()",
    "().__class__.__bases__[0].__subclasses__()",
    "year.__globals__",
    "getattr(item, '__class__')",
    "eval('1+1')",
    "exec('import os')",
    "open('/etc/passwd').read()",
    "__import__('os').system('true')",
    "'{0.__class__}'.format(item)",
    "'%s' % item",
    "lambda: 1",
    "[x for x in (1, 2)]",
    "{x: 1 for x in (1,)}",
    "(x := 1)",
    "f'{item}'",
    "item.patent_id[0]",
    "9**9**9",
    "'x' * 10**9",
    "'x' * 999999999999999",
    "[1] * 999999999999999",
    "item.patent_id * 999999999999999",
    "not " * 300 + "True",
    "-" * 1500 + "1",
    "1+" * 600 + "1",
    "(" * 250 + "1" + ")" * 250,
    "x" * 3000,
    "min()",
    "max(1, 'a')",
    "add_years(item.date, 99999999)",
    "year(item.patent_id)",
    "item.date > 5",
    "count(item.date)",
    "first(claim.funding_year)",
    "claim.funding_year / 0",
    "abs('a')",
    "item.date if item.date else 1",
    "1 < 'a'",
    "item",
    "_F_year",
    "I['patent_id']",
    "__builtins__",
    "",
    "   ",
    "(",
    "\x00",
    "item.patent_id == 'x' and applicant.kind == 'robot'",
]

HOSTILE_SCALARS: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2021,
    10**18,
    10**19,
    10**400,
    -(10**30),
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("Infinity"),
    Decimal("-Infinity"),
    Decimal("1E+3"),
    Decimal("1e999999"),
    Decimal("-0"),
    Decimal("0.001"),
    Decimal("100.10"),
    float("nan"),
    float("inf"),
    1e3,
    0.1,
    "",
    " ",
    "1e3",
    "1E3",
    "1000",
    "1000.555",
    "-5",
    "30万",
    "30万元",
    "50%",
    "-50%",
    "150%",
    "0x10",
    ".inf",
    "NaN",
    "２０２１",
    "2021-02-30",
    "2021-13-01",
    "0000-01-01",
    "9999-12-31",
    "2021-06-01T00:00:00",
    "a\x00b",
    "a\x1bb",
    "a\u202eb",
    "<script>alert(1)</script>",
    "=HYPERLINK(\"http://x\")",
    "x" * 600,
    "x" * 20000,
    "91350100M000100Y43",
    "91350100M000100Y44",
    "11010519491231002X",
    "110105194912310021",
    "91110117ma01abcd1f",
    "第五条第（一）项",
    "invention",
    "gold",
    "enterprise",
    "proof_of_right",
    [],
    {},
    [None],
    ["x", "x"],
    {"a": 1},
    json.loads("[" * 25 + "1" + "]" * 25),  # nested 25 deep
] + HOSTILE_EXPRESSIONS[:20]



def _yaml_can_produce(value: Any) -> bool:
    """engine.source builds only str, int, bool, None, finite plain Decimals, lists and str-keyed dicts."""
    if isinstance(value, float):
        return False
    if isinstance(value, Decimal):
        return value.is_finite() and "E" not in str(value)
    if isinstance(value, list):
        return all(_yaml_can_produce(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _yaml_can_produce(v) for k, v in value.items())
    return True


#: The policy pipeline's input is YAML text: the data fuzzer uses only values the loader can produce
#: (a first run fed Decimal('NaN') straight into the schema validator, which YAML text never can).
YAML_SCALARS = [v for v in HOSTILE_SCALARS if _yaml_can_produce(v)]

YAML_TOKENS = [
    "&a ",
    "*a",
    "&b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "<<: *a",
    "!!python/object/apply:os.system ['true']",
    "!!python/name:os.system",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!custom x",
    "? [a, b]\n: 1",
    "? {a: 1}\n: 2",
    "---",
    "...",
    "%YAML 1.1\n---",
    "%TAG ! tag:x,2000:\n---",
    "\t",
    "\ufeff",
    "\x00",
    "\ud800",
    "'",
    '"',
    "|",
    ">-",
    "{",
    "[",
    "]",
    "}",
    ":",
    "- ",
    "  ",
    "#",
    "~",
    "yes",
    "no",
    "on",
    "0o17",
    "0x1F",
    "1e3",
    ".nan",
    "1_000",
    "._",
    "9" * 5000,
    "2021-01-01",
    "a: 1\na: 2",
]


def _all_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _all_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _all_paths(v, (*path, i))
    return out


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        data = data[p]
    return data


def mutate(data: Any, rnd: random.Random, pool: list[Any], n: int) -> Any:
    """Apply n random mutations (replace / delete / add field / duplicate) to a deep copy."""
    data = copy.deepcopy(data)
    for _ in range(n):
        paths = _all_paths(data)
        path = rnd.choice(paths)
        if not path:
            if rnd.random() < 0.02:
                return copy.deepcopy(rnd.choice(pool))
            continue
        parent = _get(data, path[:-1])
        key = path[-1]
        op = rnd.random()
        if op < 0.6:
            parent[key] = copy.deepcopy(rnd.choice(pool))
        elif op < 0.75:
            del parent[key]
        elif op < 0.85 and isinstance(parent, dict):
            parent[rnd.choice(["colour", "__class__", "id", "x" * 50, "类型"])] = copy.deepcopy(rnd.choice(pool))
        elif op < 0.92 and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        else:
            parent[key] = [copy.deepcopy(parent[key])] if rnd.random() < 0.5 else {"v": copy.deepcopy(parent[key])}
    return data


# --- targets -----------------------------------------------------------------------


@dataclass
class Stats:
    tried: int = 0
    crashes: int = 0
    slow: int = 0
    clean_errors: int = 0
    accepted: int = 0
    seen: set[str] = field(default_factory=set)


class Fuzzer:
    def __init__(self, slow: float) -> None:
        self.slow = slow
        self.stats: dict[str, Stats] = {}
        self.policy_text = POLICY_PATH.read_text(encoding="utf-8")
        self.policy_lines = self.policy_text.splitlines(keepends=True)
        self.policy_source = parse_yaml(self.policy_text, str(POLICY_PATH))
        self.policy = engine.load_policy(POLICY_PATH)
        import conftest  # the test builders: valid claims to start from

        self.conftest = conftest
        self.expression_paths = [
            p for p in _all_paths(self.policy_source.data) if p and p[-1] in ("test", "of", "by", "when", "external", "count")
        ]

    def run_one(self, target: str, func: Callable[[], Any], payload: Callable[[], Any]) -> None:
        st_ = self.stats.setdefault(target, Stats())
        st_.tried += 1
        started = time.perf_counter()
        try:
            func()
        except engine.EngineError:
            st_.clean_errors += 1
        except Exception as exc:  # a crash: anything that is not an EngineError
            st_.crashes += 1
            self.record(target, f"{type(exc).__name__}: {exc}"[:500], payload(), traceback.format_exc(limit=6))
            return
        else:
            st_.accepted += 1
        elapsed = time.perf_counter() - started
        if elapsed > self.slow:
            st_.slow += 1
            st_.crashes += 1
            self.record(target, f"slow: {elapsed:.2f}s", payload(), "")

    def record(self, target: str, error: str, data: Any, tb: str) -> None:
        text = _dump(data)
        digest = hashlib.sha256((target + error.split(":")[0] + text).encode("utf-8", "surrogatepass")).hexdigest()[:16]
        stats = self.stats[target]
        if digest in stats.seen:
            return
        stats.seen.add(digest)
        CRASH_DIR.mkdir(parents=True, exist_ok=True)
        (CRASH_DIR / f"{target}-{digest}.json").write_text(
            json.dumps({"target": target, "error": error, "input": text, "traceback": tb}, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        print(f"CRASH {target}: {error[:200]}", file=sys.stderr, flush=True)

    # yaml_text
    def yaml_text(self, rnd: random.Random, fragment: str) -> None:
        kind = rnd.random()
        if kind < 0.4:
            start = rnd.randrange(len(self.policy_lines))
            lines = self.policy_lines[start : start + rnd.randint(1, 60)]
            lines = [ln for ln in lines]
            for _ in range(rnd.randint(1, 4)):
                i = rnd.randrange(len(lines) + 1)
                lines.insert(i, rnd.choice([*YAML_TOKENS, fragment]) + rnd.choice(["", "\n", ": ", " "]))
            text = "".join(lines)
        elif kind < 0.7:
            text = fragment
        else:
            parts = [rnd.choice([*YAML_TOKENS, fragment]) for _ in range(rnd.randint(1, 12))]
            text = "".join(p + rnd.choice(["", "\n", " ", ": ", "\n  ", ", "]) for p in parts)
        self.run_one("yaml_text", lambda: parse_yaml(text), lambda: text)

    # policy_text
    def policy_text_target(self, rnd: random.Random, fragment: str) -> None:
        lines = list(self.policy_lines)
        for _ in range(rnd.randint(1, 3)):
            i = rnd.randrange(len(lines))
            op = rnd.random()
            if op < 0.3:
                del lines[i]
            elif op < 0.5:
                lines.insert(i, lines[i])
            elif op < 0.8:
                head, sep, _ = lines[i].partition(": ")
                lines[i] = head + sep + rnd.choice([*HOSTILE_EXPRESSIONS, *YAML_TOKENS, fragment]).replace("\n", " ") + "\n"
            else:
                lines.insert(i, rnd.choice(YAML_TOKENS) + "\n")
        text = "".join(lines)
        self.run_one("policy_text", lambda: engine.load_policy_text(text, str(POLICY_PATH)), lambda: text)

    # policy_data
    def policy_data(self, rnd: random.Random, fragment: str) -> None:
        base = self.policy_source.data
        if rnd.random() < 0.5 and self.expression_paths:
            data = copy.deepcopy(base)
            path = rnd.choice(self.expression_paths)
            _get(data, path[:-1])[path[-1]] = rnd.choice([*HOSTILE_EXPRESSIONS, fragment])
        else:
            data = mutate(base, rnd, [*YAML_SCALARS, fragment], rnd.randint(1, 3))
        src = Source(data, self.policy_source.positions, str(POLICY_PATH), self.policy_text)
        self.run_one("policy_data", lambda: _raise_problems(check_source(src)), lambda: data)

    # claim_data
    def valid_claim(self, rnd: random.Random) -> dict[str, Any]:
        c = self.conftest
        applicant = rnd.choice(list(c.APPLICANTS))
        types = list(c.DEFAULT_FACTS)
        items = [c.item(rnd.choice(types), f"i{k}") for k in range(rnd.randint(1, 4))]
        history = None
        if rnd.random() < 0.3:
            history = [
                {
                    "claim_id": "H-1",
                    "item_id": "h1",
                    "rule": "pledge-loan-interest",
                    "applicant_id": c.APPLICANTS[applicant]["id"],
                    "funding_year": 2021,
                    "amount": "250000.00",
                    "consumes": [
                        {"cap": "pledge-annual-cap", "scope": [c.APPLICANTS[applicant]["id"], 2021], "amount": "250000.00"},
                        {"limit": "pledge-three-times", "scope": [c.APPLICANTS[applicant]["id"]], "counts": ["LOAN-0", 2020]},
                    ],
                }
            ]
        return c.claim(*items, applicant=applicant, history=history)

    def claim_data(self, rnd: random.Random, fragment: str) -> None:
        data = mutate(self.valid_claim(rnd), rnd, [*HOSTILE_SCALARS, fragment], rnd.randint(1, 3))

        def go() -> None:
            engine.evaluate(self.policy, data).to_json()

        self.run_one("claim_data", go, lambda: data)

    # claim_text
    def claim_text(self, rnd: random.Random, fragment: str) -> None:
        text = json.dumps(self.valid_claim(rnd), ensure_ascii=False)
        chars = list(text)
        for _ in range(rnd.randint(1, 5)):
            i = rnd.randrange(len(chars) + 1)
            op = rnd.random()
            if op < 0.4 and i < len(chars):
                del chars[i : i + rnd.randint(1, 8)]
            elif op < 0.8:
                chars.insert(i, rnd.choice([fragment, "NaN", "Infinity", "-1", "1e3", "1.5e308", "9" * 400, "[" * 3000, '"\\u0000"', '"\\ud800"', "{}", "null"]))
            else:
                chars[i:i] = rnd.choice(["\x00", "\ufeff", "\\", '"'])

        def go() -> None:
            data = engine.loads_json("".join(chars))
            engine.evaluate(self.policy, data).to_json()

        def guarded() -> None:
            try:
                go()
            except ValueError as exc:  # json's own syntax errors: the CLI turns these into ClaimError
                if type(exc).__name__ == "JSONDecodeError" or str(exc).startswith(("NaN is", "Infinity is", "-Infinity is", "JSON nested")):
                    raise engine.ClaimError([engine.Problem(str(exc))], "cannot parse") from None
                raise

        self.run_one("claim_text", guarded, lambda: "".join(chars))


def _raise_problems(result: tuple[Any, list[Any]]) -> None:
    _policy, problems = result
    if problems:
        raise engine.PolicyError(problems, "invalid")


def _dump(data: Any) -> str:
    if isinstance(data, str):
        return data
    return repr(data)


TARGETS = ("yaml_text", "policy_data", "claim_data", "claim_text", "policy_text")
WEIGHTS = {"yaml_text": 3, "policy_data": 2, "claim_data": 4, "claim_text": 2, "policy_text": 1}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0, help="how long to fuzz (default 10)")
    ap.add_argument("--target", choices=TARGETS, action="append", help="fuzz only these targets (repeatable)")
    ap.add_argument("--seed", type=int, default=None, help="seed for the first round (default: time-based)")
    ap.add_argument("--slow", type=float, default=2.0, help="seconds after which one input counts as a crash (default 2)")
    ap.add_argument("--json", metavar="FILE", help="also write the summary as JSON")
    args = ap.parse_args(argv)
    targets = args.target or list(TARGETS)
    fuzzer = Fuzzer(args.slow)
    deadline = time.monotonic() + args.minutes * 60
    base_seed = args.seed if args.seed is not None else int(time.time())
    round_no = 0
    started = time.monotonic()

    fragments = st.one_of(
        st.text(max_size=80),
        st.text(alphabet=st.sampled_from(list("[]{}:-&*!|>'\"#%@`,?~ \n\t0123456789.eE+_abcxyz万元%第条")), max_size=120),
        st.sampled_from(YAML_TOKENS + HOSTILE_EXPRESSIONS),
        st.builds(lambda n: "x" * n, st.integers(0, 5000)),
    )
    plan = [t for t in targets for _ in range(WEIGHTS[t])]

    while time.monotonic() < deadline:
        target = plan[round_no % len(plan)]
        rnd_seed = base_seed + round_no
        round_no += 1
        method = getattr(fuzzer, "policy_text_target" if target == "policy_text" else target)

        @seed(rnd_seed)
        @settings(
            max_examples=60 if target in ("policy_text", "policy_data") else 300,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(fragment=fragments, n=st.integers(0, 2**32))
        def one(fragment: str, n: int) -> None:
            if time.monotonic() >= deadline:
                return
            method(random.Random(n), fragment)  # noqa: B023, S311 -- called at once in this round; reproducible, not crypto

        one()

    elapsed = time.monotonic() - started
    total_tried = sum(s.tried for s in fuzzer.stats.values())
    total_crashes = sum(s.crashes for s in fuzzer.stats.values())
    summary = {
        "minutes": round(elapsed / 60, 2),
        "seed": base_seed,
        "rounds": round_no,
        "inputs_tried": total_tried,
        "crashes": total_crashes,
        "targets": {
            t: {"tried": s.tried, "clean_errors": s.clean_errors, "accepted": s.accepted, "crashes": s.crashes, "slow": s.slow}
            for t, s in fuzzer.stats.items()
        },
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 1 if total_crashes else 0


if __name__ == "__main__":
    sys.exit(main())
