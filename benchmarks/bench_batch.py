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
process's CPU time; N workers: the parent's CPU time plus, for each parallel step, the busiest worker's; for
deciding, which the parent's merge runs beside, the larger of the two). The second is what the wall clock would be with a free core per worker: on a machine shared with other
sessions, Linux's autogroup scheduling gives one session (all the workers of one run) one share of
the CPU however many processes it starts, so the wall clock there understates the speed-up.
Prints the speed-up by both, each step's figures, the largest connected group, and the number of cores.

    PYTHONPATH=. python benchmarks/bench_batch.py --outputs --items 100000 --repeat 2

`--outputs` (issue 14 point 5): the outputs written after deciding, per step (each step `batch` says: the
decisions, CSVs and workbook rows; the workbook's last sheets; report.html), wall clock and the run's own
process time, for a round with its report (cut to the report's limit of 10,000 applications: `--items 100000`
gives ~10,000), one worker, the outputs made while deciding (the default) and all after deciding
(`outputs_while_deciding=False`), and with `--workers N` (N > 1) on N workers, each making the outputs of the
decisions it writes (the default there), and on N workers with every output after deciding, in turn. On workers, deciding ends when the merge starts (it is said
after the bar, and writes the decisions and what the workers made of them). Every output file must be the same
every way (summary.xlsx by its parts, summary.json but its seconds), or the benchmark stops. The CPU time of the
child processes (the outputs' process, which works while the round is decided; the workers) is printed beside it.

    PYTHONPATH=. python benchmarks/bench_batch.py --outputs --items 100000 --repeat 1 --budget 1000万

`--budget AMOUNT` (with `--outputs`): the same ways for a round with a budget (a copy of the policy with
`round_budget: {amount: AMOUNT}`), each run committed into a fresh ledger, so that a budget below the round's
approved total scales the round after deciding. Made while deciding, the outputs' process first decides the round
ahead to foresee that scaling, and the run waits for it: a step said before the first application is decided,
printed as "before deciding"; the whole run's time is printed too. A scaling not foreseen throws away what was
made while deciding, and every output is made after deciding from the scaled decisions.

    PYTHONPATH=. python benchmarks/bench_batch.py --outputs --items 100000 --repeat 1 --workers 2 --budget 1000万 --earlier 20000

`--earlier ITEMS` (with `--budget`): a second batch. An earlier batch of ITEMS items (other claims) is committed
first into round `R` of a ledger, and each run commits the round into its own copy of that ledger under the same
label, so the budget scales both batches' grants together (the foresight counts the earlier batch's since session
43; before, it was thrown away and every output was made after deciding).

`--given-again N` (with `--earlier`): the round's last N applications are the earlier batch's first N instead, every
other one unchanged (already committed: the run writes its committed decision) and the rest with an item taken out
(other content, no `--replace`: refused). A run started again, in part: on workers the round is given to one process
(`batch.fallback.committed`), which since session 44 makes its outputs while deciding; the foresight refuses and
finds them as the run does (before, it decided them, and every output was made after deciding).

`--beside-thread` (with `--outputs`): each run in a process with another thread (one that waits, as an embedding
program's would): the run is not forked there, and since session 45 its outputs' process is a new interpreter
(engine.records.spawned); before, every output was made after deciding, in the run's own process.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.budgeted import with_round_budget  # noqa: E402
from benchmarks.generate import claims  # noqa: E402
from engine import load_policy  # noqa: E402
from engine.core.i18n import msg  # noqa: E402
from engine.records import batch  # noqa: E402
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
    ap.add_argument("--outputs", action="store_true", help="time the outputs after deciding, per step (see above)")
    ap.add_argument(
        "--earlier",
        type=int,
        default=0,
        help="with --budget: an earlier batch of this many items committed first into round R, each run committing the "
        "round into its own copy of that ledger under the same label",
    )
    ap.add_argument(
        "--given-again",
        type=int,
        default=0,
        help="with --earlier: the round's last N applications are the earlier batch's first N, half of them changed (see above)",
    )
    ap.add_argument(
        "--budget",
        help="with --outputs: a round budget (policy text, e.g. 1000万) written into a copy of the policy, each run committed "
        "into a fresh ledger, so that the budget scales the round after deciding",
    )
    ap.add_argument(
        "--beside-thread", action="store_true", help="with --outputs: each run beside another thread of the process (see above)"
    )
    args = ap.parse_args(argv)
    if args.budget and not args.outputs:
        ap.error("--budget goes with --outputs")
    if args.earlier and not args.budget:
        ap.error("--earlier goes with --budget")
    if args.given_again and not args.earlier:
        ap.error("--given-again goes with --earlier")
    if args.beside_thread and not args.outputs:
        ap.error("--beside-thread goes with --outputs")
    policy = load_policy(args.policy)
    if args.outputs:
        return outputs(policy, args.items, args.repeat, args.workers, args.budget, args.earlier, args.given_again, args.beside_thread)
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
                    # the parent's, and the busiest worker's in each parallel step; deciding's is the larger of the busiest
                    # worker's and the parent's merge beside it (counted once)
                    cpu[w].append(
                        last[1] - start_cpu - o.beside + sum(o.busiest.values()) + max(0.0, o.beside - o.busiest.get("deciding", 0.0))
                    )
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


def _parts(out: Path) -> dict[str, Any]:
    """Every output file's content (summary.xlsx by its parts: its zip entries carry the time they were written;
    summary.json without its seconds and with the folder's name taken out)."""
    found: dict[str, Any] = {}
    for f in sorted(out.iterdir()):
        if f.name == "summary.xlsx":
            with zipfile.ZipFile(f) as z:
                found[f.name] = {n: z.read(n) for n in z.namelist()}
        elif f.name == "summary.json":
            data = json.loads(f.read_text(encoding="utf-8"))
            data.pop("seconds")
            found[f.name] = json.dumps(data, ensure_ascii=False).replace(str(out), "<out>")
        else:
            found[f.name] = hashlib.sha256(f.read_bytes()).hexdigest()
    return found


@contextlib.contextmanager
def beside_a_thread() -> Iterator[None]:
    """Another thread in the process while the run runs (it waits): as in an embedding program, the run is not forked."""
    done = threading.Event()
    other = threading.Thread(target=done.wait)
    other.start()
    try:
        yield
    finally:
        done.set()
        other.join()


def _with_budget(policy_path: Path, amount: str, folder: Path) -> Any:
    """A copy of the policy at `policy_path` (beside its texts) with the round budget `amount`."""
    try:
        return with_round_budget(policy_path, folder, amount)
    except ValueError as err:
        raise SystemExit(f"--budget: {err}") from None


def outputs(
    policy: Any,
    items: int,
    repeat: int,
    workers: int = 1,
    budget: str | None = None,
    earlier: int = 0,
    given_again: int = 0,
    beside_thread: bool = False,
) -> int:
    """`--outputs`: the seconds after deciding, per output step, each way in turn (module docstring)."""
    marks: list[tuple[str, float, float]] = []

    class Recorded(batch.Steps):
        def __init__(self, stream: Any, enabled: bool, told: Any = None) -> None:
            super().__init__(stream, False)

        def start(self, text: str) -> None:
            marks.append((str(text).split(" (")[0], time.perf_counter(), time.process_time()))

        def done(self) -> None:
            marks.append(("", time.perf_counter(), time.process_time()))

    batch.Steps = Recorded  # type: ignore[misc]
    # (outputs made while deciding, workers): one worker with its outputs' process (the default), one worker with
    # every output after deciding, and with --workers N > 1 that many workers, each making its decisions' outputs
    # (and with `outputs_while_deciding=False` on N workers: every output made after the merge, on the pool)
    ways = [(True, 1), (False, 1), *([(True, workers), (False, workers)] if workers > 1 else [])]
    names = {(True, 1): "made while deciding", (False, 1): "all after deciding "}
    if workers > 1:
        names.update({(True, workers): f"on {workers} workers     ", (False, workers): f"{workers} workers, after "})
    with tempfile.TemporaryDirectory(prefix="bench-outputs-") as tmp:
        folder = Path(tmp)
        round_path = folder / "round.jsonl"
        with open(round_path, "w", encoding="utf-8") as f:
            for n, line in enumerate(json.dumps(c, ensure_ascii=False) for c in claims(items)):
                if n == batch.REPORT_LIMIT:
                    break
                f.write(line + "\n")
        url = f"sqlite:///{folder / 'none.sqlite'}"  # no ledger: decided without history
        if budget:  # committed, each run into a fresh ledger, for the budget to scale the round
            policy = _with_budget(Path(policy.file), budget, folder / "policy")
            url = f"sqlite:///{folder / 'round.sqlite'}"
        if earlier:  # an earlier batch of other claims committed into round R: each run commits into a copy of it
            earlier_path = folder / "earlier.jsonl"
            with open(earlier_path, "w", encoding="utf-8") as f:
                for c in claims(earlier, seed=11):
                    f.write(json.dumps({**c, "claim_id": "E-" + c["claim_id"]}, ensure_ascii=False) + "\n")
            e = run_batch(policy, earlier_path, folder / "out-earlier", ledger_url=f"sqlite:///{folder / 'earlier.sqlite'}", commit=True, quiet=True, report=False, round_label="R")  # fmt: skip
            print(f"  earlier batch: {e.committed} applications committed into round R", file=sys.stderr)
            if given_again:  # (the round's last applications: the earlier batch's first, every other one changed)
                again = [json.loads(x) for x in earlier_path.read_text(encoding="utf-8").splitlines()[:given_again]]
                again = [c if n % 2 == 0 or len(c["items"]) < 2 else {**c, "items": c["items"][:-1]} for n, c in enumerate(again)]
                lines = round_path.read_text(encoding="utf-8").splitlines()
                kept = lines[: len(lines) - len(again)]
                round_path.write_text(
                    "".join(x + "\n" for x in kept + [json.dumps(c, ensure_ascii=False) for c in again]), encoding="utf-8"
                )
                print(
                    f"  the round's last {len(again)} applications are the earlier batch's first, every other one changed", file=sys.stderr
                )
        after: dict[tuple[bool, int], list[float]] = {w: [] for w in ways}
        after_cpu: dict[tuple[bool, int], list[float]] = {w: [] for w in ways}
        waited: dict[tuple[bool, int], list[float]] = {w: [] for w in ways}  # said before deciding (a budget foreseen)
        whole: dict[tuple[bool, int], list[float]] = {w: [] for w in ways}
        first: dict[str, Any] | None = None
        for n in range(repeat):
            for early, w in ways if n % 2 == 0 else ways[::-1]:
                out = folder / f"out-{early}-{w}"
                marks.clear()
                if budget:
                    for old in folder.glob("round.sqlite*"):
                        old.unlink()
                    if earlier:
                        shutil.copyfile(folder / "earlier.sqlite", folder / "round.sqlite")
                last = [0.0, 0.0]
                begun: list[float] = []  # when the first application was decided
                children = resource.getrusage(resource.RUSAGE_CHILDREN)
                start, start_cpu = time.perf_counter(), time.process_time()

                def decided(_n: int, last: list[float] = last, begun: list[float] = begun) -> None:
                    last[:] = [time.perf_counter(), time.process_time()]
                    if not begun:
                        begun.append(last[0])

                with beside_a_thread() if beside_thread else contextlib.nullcontext():
                    s = run_batch(
                        policy,
                        round_path,
                        out,
                        ledger_url=url,
                        commit=bool(budget),
                        quiet=True,
                        outputs_while_deciding=early,
                        workers=w,
                        on_decided=decided,
                        round_label="R" if earlier else None,
                    )
                end, end_cpu = time.perf_counter(), time.process_time()
                child = resource.getrusage(resource.RUSAGE_CHILDREN)
                child_cpu = child.ru_utime + child.ru_stime - children.ru_utime - children.ru_stime
                # deciding ends at the last application decided, or (on workers) when the merge is said: the
                # merge writes the decisions and what the workers made of them after the bar, so it counts after.
                # A step said before the first application is decided (a round budget foreseen) is before deciding.
                before = [m for m in marks if begun and m[1] < begun[0]]
                if w > 1:  # (the merge calls on_decided: the steps from its own on are after the bar)
                    merge = str(msg("batch.step.merge", n=s.applications)).split(" (")[0]
                    before = before[: next((i for i, m in enumerate(before) if m[0] == merge), len(before))]
                ended = min([last, *([m[1], m[2]] for m in marks[len(before) : len(before) + 1])], key=lambda t: t[0])
                after[(early, w)].append(end - ended[0])
                after_cpu[(early, w)].append(end_cpu - ended[1])
                whole[(early, w)].append(end - start)
                waited[(early, w)].append(before[-1][1] - start if before else 0.0)
                print(
                    f"  run {n + 1}, outputs {names[(early, w)]}: {s.applications} applications, {s.items} items, report {s.report}",
                    file=sys.stderr,
                )
                prev = ("deciding", ended[0], ended[1])
                for name, wall, cpu in [*marks[: len(before)], ("deciding", ended[0], ended[1]), *marks[len(before) :], ("", end, end_cpu)]:
                    if prev[0] and prev[0] != "deciding":
                        print(f"    {prev[0]:<96} {wall - prev[1]:6.2f} s wall {cpu - prev[2]:6.2f} s cpu", file=sys.stderr)
                    prev = (name, wall, cpu) if name else ("", wall, cpu)
                print(
                    f"    before deciding {waited[(early, w)][-1]:.2f} s wall; deciding {ended[0] - start - waited[(early, w)][-1]:.2f} s wall, {ended[1] - start_cpu:.2f} s cpu; "
                    f"after deciding {end - ended[0]:.2f} s wall, {end_cpu - ended[1]:.2f} s cpu; in all {end - start:.2f} s wall; "
                    f"child processes (the outputs' process, the report's drawing processes, the workers) {child_cpu:.2f} s cpu in all",
                    file=sys.stderr,
                )
                found = _parts(out)
                first = found if first is None else first
                if found != first:
                    print("the outputs differ between the ways", file=sys.stderr)
                    return 1
        print(
            f"{items} items (at most {batch.REPORT_LIMIT} applications), {os.cpu_count()} cores, after deciding (median of {repeat}): "
            + ", ".join(
                f"{names[w].strip()} {statistics.median(after[w]):.2f} s wall / {statistics.median(after_cpu[w]):.2f} s cpu"
                f" ({statistics.median(waited[w]):.2f} s before deciding, {statistics.median(whole[w]):.2f} s in all)"
                for w in ways
            )
            + "; outputs identical"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
