"""Deciding a batch round on several processes (`batch --workers N`), with the same decisions in the same order.

What makes a round parallel. A decision depends on the round's other applications only through the
history the ledger hands it (`Ledger.history_for`): the grants of the same applicant and the grants that
consumed a cap, limit or subject key that an item of the claim could consume (`possible_keys`). Two
applications that share no applicant and no such key cannot see each other's grants, whatever order
they are decided in. So the round is cut into *connected groups*: applications joined, transitively, by a
shared applicant id, claim id or scope key (a cap per alliance or per project id joins the applicants
that share the alliance or project). A group is never split: all its applications go to one worker,
which decides them in input order, exactly as one process would. Groups are spread over the workers,
largest first, to the least loaded.

The run, in three steps:

1. *Keys* (N processes): each worker reads the input and, for every N-th application, parses the claim
   (with the facts on record joined, as committing does) and lists its applicant id, claim id and
   possible scope keys.
2. *Groups* (the parent): union-find over the keys; each application's group goes to a worker.
3. *Deciding* (N processes): each worker decides its applications in input order into its own scratch
   ledger over the real one (as a run that only decides does), and writes, per application, the
   decision line or error record and the commit's rows (`Ledger.export_commit`) to its own file.
   The parent merges the files in input order as they are written (`_arriving`: after the progress bar only
   what is left of the merge remains): it writes decisions.jsonl and errors.jsonl, and writes
   every commit into the run's ledger (`Ledger.import_commit`) in input order -- the scratch ledger of
   a run that only decides, or the real ledger with `--commit` -- so commit numbers, the round's
   scaling and its tie-breaks (commit order) are those of one worker. A worker that dies part way: what
   was merged is put back (`_Before`; the commits rolled back with their transaction) and one process decides.

With the outputs made on the workers (rows and explanations, merged in their place) and a round budget that may
scale a round, a step comes between 2 and 3: *Foresight* (N processes): each worker decides its applications ahead,
without the trace, into a ledger in its memory (`_foresee`); the parent merges their commits in input order into one
(after the real ledger's commits in the same rounds) and scales its rounds as the run will (`_foresee_round`). The
workers then make each decision's outputs scaled as foreseen, and the run keeps them only if it scales exactly so
(`batch._Outputs.agrees`), else makes every output after deciding. One process does the same for a whole round
(`batch._DryRun`).

With `--commit` the parent holds the real ledger's lock (SQLite `BEGIN IMMEDIATE`, PostgreSQL
`pg_advisory_xact_lock`) from before the workers read until the last commit is written: no other commit
can come between what the workers read and what is written, so the round is one serialisable
transaction (a run killed part way commits nothing; run it again). Readers are not blocked (SQLite WAL,
PostgreSQL MVCC); other writers wait for the round.

One process decides the whole round (the ordinary loop) when a group structure cannot be trusted or
would not pay: `--workers 1`; no `fork` on this platform, or a process with other threads (not forked); fewer
than two applications; a claim id
appearing twice in the input (a replacement within one run); with `--commit`, an application of the
input already committed (a run started again: the ordinary path skips or replaces it); an input that
breaks off part way. That process then makes its outputs while deciding, as a run on one process does
(`batch._EarlyOutputs`, its foresight of a budget too). The round selection's ranking pass
(`rank_round_of_input`) runs before, on one process; its verdicts are inherited by the workers.
"""

from __future__ import annotations

import contextlib
import heapq
import io
import json
import multiprocessing
import os
import pickle
import shutil
import struct
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from engine.core.errors import EngineError
from engine.core.i18n import Msg, msg
from engine.deciding.claims import parse_claim
from engine.deciding.selection import Verdict
from engine.deciding.versions import PolicySet
from engine.language.model import CompiledPolicy
from engine.records.batch import (
    FORESEE_LIMIT,
    REPORT_LIMIT,
    BatchSummary,
    Foreseen,
    Progress,
    ScalingAhead,
    Steps,
    commit_record,
    decide_one,
    earlier_share,
    foresight_ledger,
    read_claim,
    round_years,
    scale_round,
    scaled_grants_digest,
    worker_outputs,
)
from engine.records.inputs import open_claims
from engine.records.ledger import DecidedCommit, Ledger, possible_keys
from engine.records.tabular import InputError

#: At most this many worker processes (a usage error above it): a bound on what one command line can start.
MAX_WORKERS = 64


@dataclass
class Job:
    """What the forked workers inherit: the round's inputs and, for step 3, each application's worker."""

    versions: PolicySet
    input_path: str | Path
    real: Ledger | None
    commit: bool
    replace: bool
    round_label: str | None
    trace: bool
    verdicts: Mapping[str, Mapping[str, Verdict]] | None
    workers: int
    folder: str
    assigned: list[int] = field(default_factory=list)  # application index -> worker
    #: whether the run's ledger needs each commit's rows: when committing, or when a round may be scaled to a budget
    #: (scaling reads the round's grants); a run that only decides a round with no budget needs none
    rows: bool = True
    done: Any = None  # a shared counter of applications decided (multiprocessing.Value)
    encoding: str | None = None  # a CSV input's, as `--encoding` gave it
    #: (whether a report is drawn, its language) when each worker makes the outputs of what it decides (rows and
    #: explanation, merged in their place by the run); None: the run makes every output after deciding
    outputs: tuple[bool, str] | None = None
    draw: bool = False  # whether the workers draw explanations: a report is drawn and the round fits in one
    #: what the input's reader noticed (a workbook's hidden rows): every worker reads the whole input, worker 0's
    noticed: list[Msg] = field(default_factory=list)
    #: a round budget's scaling foreseen before deciding (`_foresee_round`), that the workers make the outputs with
    foreseen: Foreseen | None = None


_JOB: Job | None = None  # set in the parent before the pool forks; read by the workers


def end_with_parent(parent: int) -> None:
    """In a pool's process: end it when the run that forked it is gone (killed, or stopped by SIGTERM from `timeout`
    or a service manager). The pool's queues are pipes whose ends each process inherited, so a process blocked on one
    never sees it close, and stayed behind for good, holding the ledger and the outputs open."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class Fallback(Exception):
    """The round is decided on one process; the message says why."""


#: Why a round is decided again on one process when a worker process dies (killed, out of memory): nothing of its
#: work has been merged or committed by then (the merge waits for every worker).


# --- step 1: keys ------------------------------------------------------------------------------


def _keys(k: int) -> tuple[list[list[str]], bool, float, list[Msg]]:
    """Worker `k`: the dependency keys of every N-th application (index = position in the list times N plus k),
    whether one of them is already committed in the real ledger, the CPU seconds it took, and what the reader
    noticed in the input (`Reader.notices`)."""
    cpu = time.process_time()
    job = _JOB
    assert job is not None
    reader = open_claims(job.input_path, job.versions.newest, job.encoding)
    out: list[list[str]] = []
    committed = False
    try:
        for i, rec in enumerate(reader):
            if i % job.workers != k:
                continue
            keys: list[str] = []
            if rec.data is not None:
                try:
                    policy = job.versions.pick(rec.data)
                    claim = read_claim(policy, rec)
                    if job.real is not None:  # as committing does: the facts on record join the claim first
                        filled = job.real.with_facts_on_record(policy, claim.raw)
                        if filled is not claim.raw:
                            claim = parse_claim(policy, filled)
                        if job.commit and job.real.active_commit(claim.claim_id) is not None:
                            committed = True
                    keys = [f"applicant {claim.applicant_id}", f"claim {claim.claim_id}", *sorted(possible_keys(policy, claim))]
                except EngineError:
                    keys = []  # an error record: its own group
            if rec.claim_id is not None:
                keys.append(f"claim {rec.claim_id}")
            out.append(keys)
        noticed = reader.notices()
    finally:
        reader.close()
    return out, committed, time.process_time() - cpu, noticed


def groups(keys: list[list[str]], workers: int) -> tuple[list[int], int]:
    """Each application's worker, and the size of the largest group. Applications sharing a key are one group
    (union-find); groups go largest first (then by first application) to the least loaded worker (then the lowest)."""
    parent = list(range(len(keys)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, ks in enumerate(keys):
        for key in ks:
            j = owner.setdefault(key, i)
            if j != i:
                a, b = find(i), find(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    members: dict[int, list[int]] = {}
    for i in range(len(keys)):
        members.setdefault(find(i), []).append(i)
    load = [0] * workers
    assigned = [0] * len(keys)
    for root, group in sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        w = min(range(workers), key=lambda n: (load[n], n))
        load[w] += len(group)
        for i in group:
            assigned[i] = w
        del root
    return assigned, max((len(g) for g in members.values()), default=0)


# --- step 3: deciding ----------------------------------------------------------------------------


def _decide(k: int) -> tuple[str, float]:
    """Worker `k`: decide its applications in input order into its own scratch ledger over the real one; write
    (index, error line) or (index, decision line, round, funding year, version, rows) records to a file; its path
    and the CPU seconds it took."""
    cpu = time.process_time()
    job = _JOB
    assert job is not None
    path = os.path.join(job.folder, f"worker-{k}.pickle")
    scratch = Ledger(f"sqlite:///{os.path.join(job.folder, f'worker-{k}.sqlite')}")
    scratch.store_decisions = False  # nothing reads them back: no claim id is decided twice in a parallel run
    reader = open_claims(job.input_path, job.versions.newest, job.encoding)
    summary = BatchSummary()
    outputs = _worker_outputs(job, k)
    # the worker's own grants in a round are part of the merge's running total of it: once they alone pass every
    # budget, the merge will have thrown away what the workers made (`_merge`), so the worker makes no more
    ahead = ScalingAhead(job.versions)
    try:
        with open(path, "wb") as f:
            for i, rec in enumerate(reader):
                if job.assigned[i] != k:
                    continue
                line = io.StringIO()
                rounds: dict[str, dict[int, CompiledPolicy]] = {}
                error = decide_one(
                    job.versions,
                    rec,
                    scratch,
                    job.real,
                    job.real,
                    job.replace,
                    job.round_label,
                    job.trace,
                    line,
                    summary,
                    rounds,
                    job.verdicts,
                )
                if error is not None:
                    entry: tuple[Any, ...] = (i, json.dumps(error, ensure_ascii=False, default=str) + "\n")
                else:
                    ((rnd, years),) = rounds.items()
                    ((year, policy),) = years.items()
                    version = next(n for n, v in enumerate(job.versions.versions) if v is policy)
                    rows = None
                    if job.rows:
                        rows = scratch.export_commit(int(scratch.db.query("SELECT max(seq) FROM commits")[0][0]))
                    text, stored = line.getvalue(), None
                    if job.commit:
                        text, form = _as_committed(text)
                        stored = Stored.of(form)
                    made = None  # (when the worker cannot make them, the run makes this line's outputs itself)
                    foreseen = job.foreseen  # (made scaled as foreseen: never left to after deciding by `ahead`)
                    if outputs is not None and foreseen is None and rows is not None and ahead.certain(rnd, rows.unscaled_total()):
                        outputs = None
                    if outputs is not None:
                        with contextlib.suppress(Exception):
                            scaling = foreseen.scaling(rows.commit[0], rnd) if foreseen is not None and rows is not None else None
                            made = _pickled_made(outputs.made([(text, 1 if job.draw else 0, scaling)], unplaced=True))
                    entry = (i, text, rnd, year, version, rows, stored, made)
                _framed(f, entry)
                with job.done.get_lock():
                    job.done.value += 1
    finally:
        reader.close()
        scratch.close()
    return path, time.process_time() - cpu


def _foresee(k: int) -> tuple[str, float]:
    """Worker `k`, before deciding: its applications decided ahead, as `batch._DryRun` decides a whole round (each
    committed as the run commits it, without the trace, into a ledger in this process's memory over the real one);
    (index, claim id, round, funding year, version, the commit's rows) of each written to a file, for the parent
    to scale the round as the run will (`_foresee_round`). An application that fails here is left out (the run
    records its error). Its path and the CPU seconds it took."""
    cpu = time.process_time()
    job = _JOB
    assert job is not None
    path = os.path.join(job.folder, f"foresee-{k}.pickle")
    scratch = Ledger("sqlite:///:memory:")
    scratch.store_decisions = False  # (only its grants are read)
    reader = open_claims(job.input_path, job.versions.newest, job.encoding)
    try:
        with open(path, "wb") as f:
            for i, rec in enumerate(reader):
                if job.assigned[i] != k:
                    continue
                with job.done.get_lock():
                    job.done.value += 1
                if rec.data is None:
                    continue
                try:
                    policy, claim, result = commit_record(
                        job.versions, rec, scratch, job.real, job.replace, job.round_label, False, job.verdicts
                    )
                except Exception:  # noqa: S112 - the run records it as the application's error
                    continue
                version = next(n for n, v in enumerate(job.versions.versions) if v is policy)
                _framed(f, (i, claim.claim_id, result.round, claim.funding_year, version, scratch.export_commit(result.seq)))
    finally:
        reader.close()
        scratch.close()
    return path, time.process_time() - cpu


def _foresee_round(job: Job, paths: list[str]) -> Foreseen | None:
    """The workers' applications decided ahead (`_foresee`), merged in input order into a ledger in this process's
    memory -- after what the real ledger already holds in the same rounds (`earlier_share`) -- and scaled as the run
    will scale its rounds (`scale_round`): what the workers then make the outputs with. None when no round is scaled
    so."""
    decided: list[tuple[str, str]] = []
    rounds: dict[str, dict[int, CompiledPolicy]] = {}
    own: list[DecidedCommit] = []
    for _i, claim_id, rnd, year, version, rows in heapq.merge(*(_entries(p) for p in paths), key=lambda e: int(e[0])):
        own.append(rows)
        decided.append((claim_id, rnd))
        rounds.setdefault(rnd, {})[year] = job.versions.versions[version]
    stands = {str(c.commit[0]): c.stands_below for c in own if c.stands_below is not None}
    earlier, kept = earlier_share(job.real, rounds, {str(c.commit[0]): str(c.commit[7]) for c in own}, job.replace, stands)
    ledger = foresight_ledger(earlier, [c for c in own if c.commit[0] not in kept])
    try:
        records: dict[str, dict[str, str]] = {}
        for rnd in sorted(rounds):
            record = scale_round(ledger, rnd, round_years(ledger, rnd, rounds[rnd], job.versions))
            if record is not None:
                records[rnd] = record
        if not records:
            return None
        amounts = ledger.round_grant_amounts(sorted(records))
        grants = {claim_id: amounts.get(claim_id, {}) for claim_id, rnd in decided if rnd in records}
        return Foreseen(records, grants, scaled_grants_digest(ledger, decided, records))
    finally:
        ledger.close()


def _workers_make_outputs(job: Job) -> bool:
    """Whether the workers will make the outputs of what they decide (`_worker_outputs` is not None): not when the
    run makes them all, nor with a report drawn with the policy's own templates (then a foresight is of no use)."""
    if job.outputs is None:
        return False
    probe = _worker_outputs(job, -1)  # (the same test, on files of its own that nothing reads)
    if probe is None:
        return False
    probe.discard()
    return True


def _worker_outputs(job: Job, k: int) -> Any:
    """Worker `k`'s copy of the run's outputs (`batch.worker_outputs`), or None when the run makes every output."""
    if job.outputs is None:
        return None
    folder = Path(job.folder) / f"outputs-{k}"
    folder.mkdir()
    return worker_outputs(job.versions, folder, *job.outputs, foreseen=job.foreseen)


def _pickled_made(made: Any) -> bytes:
    """What a worker made of a decision (`batch._Made`), pickled apart from its entry, so that the merge unpickles it
    only when it writes it (not once a round is certain to be scaled: `ScalingAhead`); an explanation's exception
    that cannot be pickled is written as its words."""
    try:
        return pickle.dumps(made, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        if not made.failure_in_words():
            raise
        return pickle.dumps(made, protocol=pickle.HIGHEST_PROTOCOL)


#: Where a committed decision's commit number goes, until the parent knows it: a JSON string no decision holds
#: elsewhere (the parent replaces the last occurrence, in the `ledger` the decision ends with).
SEQ_MARK = json.dumps("\u0000commit number\u0000")


def _as_committed(line: str) -> tuple[str, str]:
    """A decision line of the worker's scratch ledger as the run's ledger will commit it: the decisions.jsonl line and
    the stored form (the decision without `input`), each with `SEQ_MARK` for the commit number, so the parent's merge
    only puts the number in and compresses.

    A decision line ends with its `ledger` and then its `input` (`decide_one` sets them last); an unescaped
    `"ledger": ` cannot occur inside a JSON string, so the last one is that key. Only that tail is parsed and
    rewritten. The stored form keeps the line's spacing, as `commit` stores it too: it reads back as the
    same decision."""
    head, key, tail = line.rpartition('"ledger": ')
    end = json.loads("{" + key + tail)  # {"ledger": {...}, "input": {...}}
    ledger = {"commit": json.loads(SEQ_MARK), "round": end["ledger"]["round"], "status": "committed"}
    if end["ledger"].get("facts_on_record"):  # (the facts the run's ledger gave it, as a commit there names them)
        ledger["facts_on_record"] = end["ledger"]["facts_on_record"]
    text = json.dumps(ledger, ensure_ascii=False)
    return head + key + text + ", " + json.dumps({"input": end["input"]}, ensure_ascii=False)[1:] + "\n", head + key + text + "}"


def numbered(text: str, seq: int) -> str:
    """`text` with its last `SEQ_MARK` replaced by the commit number."""
    head, _mark, tail = text.rpartition(SEQ_MARK)
    return head + str(seq) + tail


@dataclass(frozen=True)
class Stored:
    """A decision's stored form, compressed on the worker up to its commit number (which only the parent knows).

    zlib's format is a header, raw deflate blocks and the Adler-32 of the text. The worker deflates the text
    before `SEQ_MARK` and ends with a full flush (byte-aligned, no reference reaches back past it); the
    parent deflates the number and the rest as the following blocks and combines the checksums. The result
    is one ordinary zlib stream (`zlib.decompress` reads it), the compression work mostly on the worker."""

    head: bytes  # raw deflate of the text before the mark, fully flushed
    adler: int  # Adler-32 of that text
    tail: str  # the text after the mark

    @classmethod
    def of(cls, text: str) -> Stored:
        before, _mark, after = text.rpartition(SEQ_MARK)
        raw = before.encode("utf-8")
        deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        return cls(deflate.compress(raw) + deflate.flush(zlib.Z_FULL_FLUSH), zlib.adler32(raw), after)

    def packed(self, seq: int) -> bytes:
        raw = (str(seq) + self.tail).encode("utf-8")
        deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = deflate.compress(raw) + deflate.flush()
        return ZLIB_HEADER + self.head + body + struct.pack(">I", zlib.adler32(raw, self.adler))


#: the two bytes that open a zlib stream of deflate with a 32 KiB window at the default level (as `zlib.compress(.., 6)`)
ZLIB_HEADER = b"\x78\x9c"


def _framed(f: IO[bytes], entry: tuple[Any, ...]) -> None:
    """An entry written to a worker's file as one frame (its length, then its pickle) and flushed: the run reads the
    file while the worker still writes it (`_arriving`), and takes an entry only once all of it is there."""
    data = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
    f.write(len(data).to_bytes(8, "little") + data)
    f.flush()


def _frame(f: IO[bytes]) -> tuple[Any, ...] | None:
    """The next whole entry of a worker's file, or None (the file left where it was) when it is not all there yet."""
    head = f.read(8)
    if len(head) == 8:
        size = int.from_bytes(head, "little")
        data = f.read(size)
        if len(data) == size:
            return pickle.loads(data)  # type: ignore[no-any-return]  # noqa: S301 - our own workers' file, in our own folder
        f.seek(-len(data), os.SEEK_CUR)
    f.seek(-len(head), os.SEEK_CUR)
    return None


def _entries(path: str) -> Iterator[tuple[Any, ...]]:
    """The entries of a worker's file that is written."""
    with open(path, "rb") as f:
        while (entry := _frame(f)) is not None:
            yield entry


def _arriving(path: str, worker: Future[tuple[str, float]], waiting: Callable[[], None]) -> Iterator[tuple[Any, ...]]:
    """The entries of a deciding worker's file as the worker writes them (`_framed`), so that the merge runs beside
    deciding; `waiting` is called while none is there yet. Ends once the worker has ended and every entry is read;
    raises what the worker raised (a process that died: BrokenProcessPool)."""
    while not os.path.exists(path):
        if worker.done():
            worker.result()  # (it raised before it made its file)
            return
        waiting()
    with open(path, "rb") as f:
        while True:
            ended = worker.done()  # (before the read: what it wrote before it ended is then read)
            entry = _frame(f)
            if entry is not None:
                yield entry
            elif ended:
                worker.result()
                return
            else:
                waiting()


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What the parallel run did: the largest group's size (in applications), each step's seconds (wall clock),
    and each step's CPU seconds on its critical path (the busiest worker's; the parent's for its own steps)."""

    largest_group: int
    applications: int
    seconds: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    busiest: dict[str, float] = field(default_factory=dict)  # the busiest worker's CPU seconds in each parallel step
    #: the parent's CPU seconds beside the workers while they decided (the merge, `_arriving`): on another core, not
    #: after them, so deciding's critical path is the larger of it and the busiest worker's (`cpu["deciding"]`)
    beside: float = 0.0


# long because: the three steps in order, each waiting on the pool, with the lock of a committing run held
# across them; the merge at the end writes in input order what the steps produced.
def decide_round(
    job: Job,
    target: Ledger,
    dec_f: IO[str],
    err_f: IO[str],
    summary: BatchSummary,
    rounds: dict[str, dict[int, CompiledPolicy]],
    progress: Progress,
    on_decided: Callable[[int], None] | None = None,
    outputs: Callable[[Foreseen | None], Any] | None = None,
    steps: Steps | None = None,
) -> Outcome:
    """Decide the round of `job` on `job.workers` processes; write decisions and errors in input order and every
    commit into `target` (the real ledger with `job.commit`). Raises `Fallback` (nothing written, nothing
    committed) when the round must be decided on one process. `outputs` (with `job.outputs`): makes the run's
    outputs (`batch._Outputs`) when the merge starts, which writes what the workers made of each decision in its
    place. `steps`: the merge is said as a step, after the progress bar."""
    global _JOB
    if job.workers < 2 or not fork_available():
        raise Fallback(msg("batch.fallback.one") if job.workers < 2 else msg("batch.fallback.no_fork"))
    if threading.active_count() > 1:  # (as `batch._fork_context`: a lock another thread holds stays held in the copy)
        raise Fallback(msg("batch.fallback.threads"))
    ctx = multiprocessing.get_context("fork")
    lock = target.db.locked() if job.commit else None
    if lock is not None:
        lock.__enter__()  # held until every commit of the round is written (see the module docstring)
    failed = True
    clock = [time.perf_counter(), time.process_time()]
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    busiest: dict[str, float] = {}

    def lap(name: str, workers_cpu: list[float] | None = None) -> None:
        now, mine = time.perf_counter(), time.process_time()
        seconds[name] = now - clock[0]
        if workers_cpu:
            busiest[name] = max(workers_cpu)
        cpu[name] = mine - clock[1] + busiest.get(name, 0.0)
        clock[:] = [now, mine]

    try:
        _JOB = job
        try:
            with ProcessPoolExecutor(job.workers, mp_context=ctx, initializer=end_with_parent, initargs=(os.getpid(),)) as pool:
                parts = [f.result() for f in [pool.submit(_keys, k) for k in range(job.workers)]]
        except InputError as err:
            raise Fallback(
                msg("batch.fallback.breaks_off", error=err.args[0] if err.args and isinstance(err.args[0], Msg) else str(err))
            ) from None
        except BrokenProcessPool:
            raise Fallback(msg("batch.fallback.broken")) from None
        lap("keys", [p[2] for p in parts])
        total = sum(len(p[0]) for p in parts)
        keys: list[list[str]] = [[] for _ in range(total)]
        for k, (part, *_rest) in enumerate(parts):
            for n, ks in enumerate(part):
                keys[n * job.workers + k] = ks
        if total < 2:
            raise Fallback(msg("batch.fallback.fewer"))
        if any(committed for _part, committed, *_rest in parts):
            raise Fallback(msg("batch.fallback.committed"))
        claim_ids = [next((key for key in ks if key.startswith("claim ")), None) for ks in keys]
        named = [c for c in claim_ids if c is not None]
        if len(set(named)) != len(named):
            raise Fallback(msg("batch.fallback.repeated"))
        job.noticed = parts[0][3]
        job.assigned, largest = groups(keys, job.workers)
        job.rows = job.commit or any(v.round_budget is not None for v in job.versions.versions)
        job.done = ctx.Value("q", 0)
        job.draw = job.outputs is not None and job.outputs[0] and total <= REPORT_LIMIT  # (a larger round has no report)
        lap("groups")
        budgets = any(v.round_budget is not None for v in job.versions.versions)
        if budgets and total <= FORESEE_LIMIT and _workers_make_outputs(job):
            # a round a budget may scale: decided ahead, so that the workers make each output scaled as it will be
            # (`batch._DryRun` does it on one process); a larger round's outputs are left to after deciding
            job.foreseen, foreseeing = _foreseen(job, ctx, total, steps)
            job.done = ctx.Value("q", 0)
            progress.start = time.monotonic()  # (the bar's rate and ETA: deciding's)
            lap("foresight", foreseeing)
        made = outputs(job.foreseen) if outputs is not None else None
        if made is not None and not job.draw and made.page is not None:  # (a round over REPORT_LIMIT: no report, and
            made.drop_report()  # the workers drew no explanation; the merge must not draw them itself either)
        merging = _Merging(total, job.done, progress, steps, lambda: lap("deciding"))
        before = _Before(dec_f, err_f, summary, rounds)
        try:
            with ProcessPoolExecutor(job.workers, mp_context=ctx, initializer=end_with_parent, initargs=(os.getpid(),)) as pool:
                futures: list[Future[tuple[str, float]]] = [pool.submit(_decide, k) for k in range(job.workers)]
                arriving = [_arriving(os.path.join(job.folder, f"worker-{k}.pickle"), f, merging.wait) for k, f in enumerate(futures)]
                _merge(job, arriving, target, dec_f, err_f, summary, rounds, on_decided, made, merging.merged)
                done = [f.result() for f in futures]
        except BrokenProcessPool:  # the whole round is decided again on one process: nothing of it is kept
            before.restore()  # (the commits merged so far are rolled back with the transaction they were written in)
            raise Fallback(msg("batch.fallback.broken")) from None
        merging.all_decided()
        # deciding's critical path: the busiest worker's CPU, or the merge's beside it if that was more
        beside = cpu.get("deciding", 0.0)
        busiest["deciding"] = max(c for _p, c in done)
        cpu["deciding"] = max(beside, busiest["deciding"])
        lap("merge")
        failed = False
        return Outcome(largest, total, seconds, cpu, busiest, beside)
    finally:
        _JOB = None
        if lock is not None:
            lock.__exit__(*((Fallback, None, None) if failed else (None, None, None)))


class _Merging:
    """The merge beside deciding (`_merge` over `_arriving` entries): the progress bar counts the applications the
    workers have decided (`done`) while any is left; once all are, the bar ends (`on_decided`: deciding's time is
    taken) and what the merge has left is said as a step of its own, with how far it is."""

    def __init__(self, total: int, done: Any, progress: Progress, steps: Steps | None, on_decided: Callable[[], None]) -> None:
        self.total, self.done, self.progress, self.steps, self.on_decided = total, done, progress, steps, on_decided
        self.deciding = True

    def wait(self) -> None:
        """No entry of the worker the merge waits for is there yet."""
        if self.deciding:
            self.merged(-1)
        time.sleep(0.002)

    def merged(self, n: int) -> None:
        """`n` applications merged (-1: none more)."""
        if self.deciding:
            decided = self.done.value
            if decided < self.total:
                self.progress.update(decided, decided / self.total)
                return
            self.all_decided()
        if self.steps is not None and n >= 0:
            self.steps.progress(n, self.total, "batch.progress.applications")

    def all_decided(self) -> None:
        if not self.deciding:
            return
        self.deciding = False
        self.on_decided()
        if self.steps is not None:  # what is left is written: said after the bar, as the output steps are
            self.progress.update(self.total, 1.0, force=True)
            self.progress.finish()
            self.steps.start(msg("batch.step.merge", n=self.total))


class _Before:
    """What the merge writes outside the ledger, as it was before it began: put back when the round is decided again
    on one process after a worker died part way (`restore`)."""

    def __init__(self, dec_f: IO[str], err_f: IO[str], summary: BatchSummary, rounds: dict[str, dict[int, CompiledPolicy]]) -> None:
        self.files = [(f, f.tell()) for f in (dec_f, err_f)]
        self.summary, self.rounds = summary, rounds
        self.counts = {name: getattr(summary, name) for name in ("applications", "failed", "decided", "committed")}
        self.rounded = {rnd: dict(years) for rnd, years in rounds.items()}

    def restore(self) -> None:
        for f, at in self.files:
            f.seek(at)
            f.truncate()
        for name, value in self.counts.items():
            setattr(self.summary, name, value)
        self.rounds.clear()
        self.rounds.update(self.rounded)


def _foreseen(job: Job, ctx: Any, total: int, steps: Steps | None) -> tuple[Foreseen | None, list[float]]:
    """The foresight's step (`_foresee` on each worker, `_foresee_round` here), said as the run on one process says
    its own, with how far it is; and each worker's CPU seconds. None when it fails (a worker process that dies, an
    error): only a shortcut, as on one process; the outputs are then made after deciding."""
    if steps is not None:
        steps.start(msg("batch.step.foresight"))
    try:
        with ProcessPoolExecutor(job.workers, mp_context=ctx, initializer=end_with_parent, initargs=(os.getpid(),)) as pool:
            futures = [pool.submit(_foresee, k) for k in range(job.workers)]
            pending: set[Future[tuple[str, float]]] = set(futures)
            while pending:
                _finished, pending = wait(pending, timeout=0.1, return_when=FIRST_EXCEPTION)
                if any(f.exception() is not None for f in _finished):
                    break
                if steps is not None:
                    steps.progress(job.done.value, total, "batch.progress.applications")
            done = [f.result() for f in futures]
        return _foresee_round(job, [p for p, _c in done]), [c for _p, c in done]
    except Exception:  # (only a shortcut, as on one process; a worker that died: deciding finds out again)
        return None, []
    finally:
        if steps is not None:
            steps.done()


def _merge(
    job: Job,
    arriving: list[Iterator[tuple[Any, ...]]],
    target: Ledger,
    dec_f: IO[str],
    err_f: IO[str],
    summary: BatchSummary,
    rounds: dict[str, dict[int, CompiledPolicy]],
    on_decided: Callable[[int], None] | None,
    outputs: Any = None,
    said: Callable[[int], None] | None = None,
) -> None:
    """The workers' entries (`_arriving`) merged in input order: decisions and errors written, commits written into `target`, and
    what the workers made of each decision written into `outputs` (`batch._Outputs.placed`), if given (its lines of
    decisions.jsonl, made scaled as foreseen, numbered with their commit as the decisions' are). `said`: told
    how many applications are merged after each one (the merge step's progress bar)."""
    scratch = None if job.commit else target.db.locked()  # the run's own scratch ledger: one transaction
    if scratch is not None:
        scratch.__enter__()
    ahead = ScalingAhead(job.versions)  # (whether a round is already certain to be scaled: its outputs left to after)
    if outputs is not None and job.foreseen is not None:  # (what `agrees` checks the foresight by, collected here)
        outputs.merged_claims = []
    failed: tuple[Any, Any, Any] = (None, None, None)
    try:
        for entry in heapq.merge(*arriving, key=lambda e: int(e[0])):
            summary.applications += 1
            if len(entry) == 2:
                summary.failed += 1
                err_f.write(entry[1])
            else:
                _i, line, rnd, year, version, decided, stored, made = entry
                if decided is None:
                    pass
                elif stored is not None:  # committing: the number of the new commit goes into both forms
                    seq = target.import_commit(decided, stored.packed)
                    line = numbered(line, seq)
                    summary.committed += 1
                else:
                    target.import_commit(decided)
                dec_f.write(line)
                if outputs is not None and job.foreseen is None and decided is not None and ahead.certain(rnd, decided.unscaled_total()):
                    outputs.abandoned = True  # the round will be scaled: what the workers made would be thrown away
                    outputs = None
                if outputs is not None and outputs.merged_claims is not None:
                    if decided is None:  # (no commit's rows to name its claim: `agrees` reads the file)
                        outputs.merged_claims = None
                    else:
                        outputs.merged_claims.append((decided.commit[0], rnd))
                if outputs is not None:
                    what = None if made is None else pickle.loads(made)  # noqa: S301 - as `_entries`
                    if what is not None and stored is not None and what.lines:  # (made scaled: its line numbered too)
                        what.lines = [numbered(text, seq) for text in what.lines]
                    outputs.placed(line, what)
                    if outputs.abandoned:  # (a decision its worker made nothing of, scaled as foreseen)
                        outputs = None
                rounds.setdefault(rnd, {})[year] = job.versions.versions[version]
                summary.decided += 1
            if on_decided is not None:
                on_decided(summary.applications)
            if said is not None:
                said(summary.applications)
    except BaseException as err:  # (a worker died part way: nothing it merged into the scratch ledger is kept)
        failed = (type(err), err, err.__traceback__)
        raise
    finally:
        if scratch is not None:
            scratch.__exit__(*failed)


def cleanup(folder: str) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def new_folder() -> str:
    return tempfile.mkdtemp(prefix="policy-engine-workers-")
