"""`batch --workers N` (engine.records.workers): the same decisions, in the same order, and the same commits as
one worker -- on a generated round with history and a ledger, with caps and limits shared across applicants,
with a round selection and with a round budget. PostgreSQL variants skip without $POLICY_ENGINE_TEST_PG.

No timings here: the speed-up is measured by benchmarks/bench_batch.py.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import APPLICANTS, ROOT, claim, item
from test_generic_constructs import FIXTURE as LAKESIDE
from test_generic_constructs import claim as lakeside_claim
from test_generic_constructs import item as lakeside_item
from test_ledger_support import BACKENDS, make_ledger_url, policy_with_budget
from test_subjects_rounds import LEFT_OUT, ROUND, SELECTED, ranks

import engine
from engine.records.batch import run_batch
from engine.records.ledger import Ledger
from engine.records.workers import SEQ_MARK, Stored, groups, numbered

sys.path.insert(0, str(ROOT))
from benchmarks.generate import claims as generated

FALLBACK = "deciding on one process"


def write(path: Path, claims: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in claims), encoding="utf-8")
    return path


def run(policy: Any, src: Path, out: Path, workers: int, **kw: Any) -> tuple[bytes, bytes, str]:
    """decisions.jsonl and errors.jsonl as bytes, and what the run said on stderr."""
    err = io.StringIO()
    run_batch(policy, src, out, report=False, quiet=False, stderr=err, workers=workers, **kw)
    return (out / "decisions.jsonl").read_bytes(), (out / "errors.jsonl").read_bytes(), err.getvalue()


def grants(url: str) -> list[tuple[Any, ...]]:
    """The ledger's grants in commit order, without the times they were written."""
    with Ledger(url) as ledger:
        return [
            (g["commit"], g["claim_id"], g["item_id"], g["amount"], g["unscaled_amount"], json.dumps(g["consumes"]))
            for g in ledger.grants()
        ]


@pytest.fixture(params=BACKENDS)
def urls(request: Any, tmp_path: Path) -> Iterator[list[str]]:
    """Four empty ledgers on one backend: one per number of workers compared (and one spare)."""
    with ExitStack() as stack:
        out = []
        for n in range(4):
            gen = make_ledger_url(request.param, tmp_path / f"l{n}")
            (tmp_path / f"l{n}").mkdir()
            out.append(next(gen))
            stack.callback(gen.close)
        yield out


# --- the groups ------------------------------------------------------------------------------------------------


def test_applications_sharing_a_key_are_one_group_on_one_worker() -> None:
    # 0 and 2 share "a", 2 and 3 share "c": {0, 2, 3} is one group (3 applications), {1} and {4} are groups of one.
    # Largest first to the least loaded: {0, 2, 3} -> worker 0 (load 3); {1} -> worker 1 (load 1); {4} -> worker 1
    # (loads 3 and 1: the lesser).
    assert groups([["a"], ["b"], ["a", "c"], ["c"], ["d"]], 2) == ([0, 1, 0, 0, 1], 3)
    # an application with no keys (one that cannot be read) is a group of its own
    assert groups([[], [], ["x"]], 3) == ([0, 1, 2], 1)


def test_a_decision_compressed_up_to_its_commit_number_is_one_zlib_stream() -> None:
    """The worker deflates the stored decision up to the mark; the parent adds the number and the rest: what it
    stores decompresses (plain zlib.decompress, as the ledger reads it) to the text with the number in place."""
    text = (
        '{"reasons": "不符合条件 ' + "天 " * 20000 + '", "ledger": {"commit": ' + SEQ_MARK + ', "round": "第1轮", "status": "committed"}}'
    )
    for seq in (1, 42, 10**12):
        stored = Stored.of(text).packed(seq)
        assert zlib.decompress(stored).decode("utf-8") == text.replace(SEQ_MARK, str(seq)) == numbered(text, seq)


# --- a generated round with history, against an SQLite ledger --------------------------------------------------


def _history_ledger(policy: engine.CompiledPolicy, url: str) -> None:
    """An earlier round committed: history every later application is decided against (same applicants' keys)."""
    with Ledger(url) as ledger:
        for c in generated(150, seed=7):
            c["claim_id"] = "H-" + c["claim_id"]
            ledger.commit(policy, c)


def test_generated_round_same_decisions_on_1_2_3_workers(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'history.sqlite'}"
    _history_ledger(policy, url)
    src = write(tmp_path / "round.jsonl", list(generated(400)))
    one = run(policy, src, tmp_path / "w1", 1, ledger_url=url)
    assert one[0].count(b"\n") > 20 and b'"status": "not_committed"' in one[0]
    for n in (2, 3):
        got = run(policy, src, tmp_path / f"w{n}", n, ledger_url=url)
        assert FALLBACK not in got[2]  # the round really was decided on n processes
        assert got[:2] == one[:2]
    assert (tmp_path / "w1" / "summary_items.csv").read_bytes() == (tmp_path / "w3" / "summary_items.csv").read_bytes()


def test_generated_round_committed_on_2_workers_is_the_same_ledger(policy: engine.CompiledPolicy, tmp_path: Path, urls: list[str]) -> None:
    """Committing: the same decisions (commit numbers included) and the same grants, in the same commit order."""
    src = write(tmp_path / "round.jsonl", list(generated(300)))
    results = []
    for n, url in zip((1, 2, 3), urls, strict=False):
        _history_ledger(policy, url)
        got = run(policy, src, tmp_path / f"w{n}", n, ledger_url=url, commit=True)
        assert FALLBACK not in got[2]
        with Ledger(url) as ledger:  # the decisions as stored read back the same (the re-run of a committed round returns them)
            stored = {d["claim_id"]: ledger.stored_decision(d["claim_id"]) for d in map(json.loads, got[0].splitlines())}
        assert all(s is not None and s["ledger"]["status"] == "committed" for s in stored.values())
        results.append((got[0], got[1], grants(url), stored))
    assert b'"status": "committed"' in results[0][0]
    assert results[1] == results[0] and results[2] == results[0]
    # run again on 2 workers: every application is already committed, so the round goes to one process,
    # which skips them all (idempotent, as ever)
    again = run(policy, src, tmp_path / "again", 2, ledger_url=urls[1], commit=True)
    assert FALLBACK in again[2] and grants(urls[1]) == results[0][2]


# --- caps and limits shared across applicants ------------------------------------------------------------------

A, B, C = "91110117MA01ABCD1F", "91110117MA02XYHW3G", "91110117MA03PLAT5Q"


def test_caps_and_limits_crossing_applicants(tmp_path: Path) -> None:
    """湖畔区 (tests/fixtures/fictional_district.yaml): 第八条第（一）项 pays 20% of the contract, at most 30万 per
    project (item.project_id: applicants cooperating on one project share it); 第五条 rewards each PCT patent once
    (item.patent_id: co-owners share it). In input order:
      L-1 (A): project P-1, contract 100万 -> 20% = 20万 granted; patent PCT-9, 2 countries x 10万 = 20万 granted;
      L-2 (C): project P-2, contract 50万 -> 10万 granted (nothing shared with A or B);
      L-3 (B): project P-1, contract 100万 -> 20万 asked, 30万 - 20万 = 10万 left of P-1's ceiling: 10万, reduced;
      L-4 (B): patent PCT-9 again -> refused (rewarded once, to L-1).
    A and B are one group (P-1, PCT-9 and B's two applications), C another: on 2 workers L-1, L-3, L-4 are decided
    in that order on one process and L-2 on the other."""
    lakeside = engine.load_policy(LAKESIDE)
    round_ = [
        lakeside_claim(
            lakeside_item("research_cooperation", "r", project_id="P-1", contract_paid="1000000.00"),
            lakeside_item("pct_patent", "p", patent_id="PCT-9", countries=2),
            claim_id="L-1",
            id=A,
        ),
        lakeside_claim(lakeside_item("research_cooperation", "r", project_id="P-2", contract_paid="500000.00"), claim_id="L-2", id=C),
        lakeside_claim(lakeside_item("research_cooperation", "r", project_id="P-1", contract_paid="1000000.00"), claim_id="L-3", id=B),
        lakeside_claim(lakeside_item("pct_patent", "p", patent_id="PCT-9", countries=2), claim_id="L-4", id=B),
    ]
    src = write(tmp_path / "round.jsonl", round_)
    want = {
        ("L-1", "r"): ("granted", "200000.00"),
        ("L-1", "p"): ("granted", "200000.00"),
        ("L-2", "r"): ("granted", "100000.00"),
        ("L-3", "r"): ("reduced", "100000.00"),
        ("L-4", "p"): ("refused", "0.00"),
    }
    absent = f"sqlite:///{tmp_path / 'absent.sqlite'}"
    for n in (1, 2, 3):
        decisions, errors, said = run(lakeside, src, tmp_path / f"w{n}", n, ledger_url=absent)
        assert errors == b"" and (n == 1 or FALLBACK not in said)
        got = {(d["claim_id"], i["item"]): (i["status"], i["amount"]) for d in map(json.loads, decisions.splitlines()) for i in d["items"]}
        assert got == want
        assert [json.loads(x)["claim_id"] for x in decisions.splitlines()] == ["L-1", "L-2", "L-3", "L-4"]


# --- a round selection ------------------------------------------------------------------------------------------


def test_selection_round_on_workers(tmp_path: Path) -> None:
    """tests/fixtures/subjects_rounds.yaml, 第一条: at most 3 a year by first certificate date (test_subjects_rounds:
    R5, R2, R3 paid 10万 each; R1 4th and R4 5th refused). The ranking pass ranks the whole round first; the
    workers then decide with its verdicts: the same ranks, amounts and order."""
    hexi = engine.load_policy(ROOT / "tests" / "fixtures" / "subjects_rounds.yaml")
    src = write(tmp_path / "round.jsonl", ROUND)
    absent = f"sqlite:///{tmp_path / 'absent.sqlite'}"
    one = run(hexi, src, tmp_path / "w1", 1, ledger_url=absent)
    for n in (2, 3):
        got = run(hexi, src, tmp_path / f"w{n}", n, ledger_url=absent)
        assert FALLBACK not in got[2] and got[:2] == one[:2]
        decisions = [json.loads(x) for x in got[0].splitlines()]
        assert ranks(decisions) == {
            **{c: ("granted", "100000.00", r) for c, r in SELECTED.items()},
            **{c: ("refused", "0.00", r) for c, r in LEFT_OUT.items()},
        }


# --- a round budget ---------------------------------------------------------------------------------------------


def test_round_budget_scaled_after_deciding_on_workers(tmp_path: Path, urls: list[str]) -> None:
    """Budget 10万; three 北京市知识产权示范单位 awards of 5万 (第七条（二）), one per applicant, so each is its own
    group: 15万 approved, each scaled to 100,000 x 50,000 / 150,000 = 33,333.33 1/3, and the cent left over goes
    to the first in commit order -- B-1, the first in the input, however many workers decided the round."""
    budgeted = policy_with_budget(tmp_path, "10万", "第十三条")
    apps = [claim(item("beijing_ip_demonstration_unit", "u1"), applicant=dict(APPLICANTS["enterprise"], id=aid), claim_id=f"B-{n}")
            for n, aid in enumerate((A, B, C), 1)]  # fmt: skip
    src = write(tmp_path / "in.jsonl", apps)
    for n, url in zip((1, 2, 3), urls, strict=False):
        decisions, _errors, said = run(budgeted, src, tmp_path / f"w{n}", n, ledger_url=url, commit=True)
        assert n == 1 or FALLBACK not in said
        got = [(d["claim_id"], d["total"], d["total_before_scaling"]) for d in map(json.loads, decisions.splitlines())]
        assert got == [("B-1", "33333.34", "50000.00"), ("B-2", "33333.33", "50000.00"), ("B-3", "33333.33", "50000.00")]
        assert [g[3] for g in grants(url)] == ["33333.34", "33333.33", "33333.33"]
    # deciding only (the run's scratch ledger takes the workers' commits, then is scaled): the same amounts
    decisions, _errors, said = run(budgeted, src, tmp_path / "dry", 2, ledger_url=f"sqlite:///{tmp_path / 'absent.sqlite'}")
    assert FALLBACK not in said
    assert [json.loads(x)["total"] for x in decisions.splitlines()] == ["33333.34", "33333.33", "33333.33"]


def test_a_workers_commit_counts_its_grants_before_scaling_toward_its_round(tmp_path: Path) -> None:
    """What the merge adds to a round's total (`DecidedCommit.unscaled_total`, for `ScalingAhead`) is a commit's
    grants before scaling, as `Ledger.round_total` sums them: the three 5万 awards scaled to a 10万 budget above,
    B-1's commit exported after scaling holds its scaled 33,333.34 and counts 50,000.00."""
    budgeted = policy_with_budget(tmp_path, "10万", "第十三条")
    apps = [claim(item("beijing_ip_demonstration_unit", "u1"), applicant=dict(APPLICANTS["enterprise"], id=aid), claim_id=f"B-{n}")
            for n, aid in enumerate((A, B, C), 1)]  # fmt: skip
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    run(budgeted, write(tmp_path / "in.jsonl", apps), tmp_path / "out", 1, ledger_url=url, commit=True)
    with Ledger(url) as ledger:
        first = ledger.export_commit(1)
        assert first.commit[0] == "B-1" and [row[6] for row, _keys in first.grants] == ["33333.34"]
        assert first.unscaled_total() == Decimal("50000.00")
        assert ledger.round_total(first.commit[3]) == Decimal("150000.00")


# --- when one process decides -----------------------------------------------------------------------------------


def test_a_claim_id_twice_is_decided_on_one_process(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    apps = [claim(item("beijing_ip_demonstration_unit", "u1"), claim_id="D-1"), claim(item("national_ip_title", "t1"), claim_id="D-1")]
    src = write(tmp_path / "in.jsonl", apps)
    absent = f"sqlite:///{tmp_path / 'absent.sqlite'}"
    one = run(policy, src, tmp_path / "w1", 1, ledger_url=absent)
    two = run(policy, src, tmp_path / "w2", 2, ledger_url=absent)
    assert "--workers 2: deciding on one process: a claim id appears more than once in the input" in two[2]
    assert two[:2] == one[:2]


def test_workers_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", [claim(item("beijing_ip_demonstration_unit", "u1"))])
    for bad in ("0", "65"):
        r = subprocess.run(
            [sys.executable, "-m", "engine", "batch", "--policy", str(ROOT / "policies" / "pinggu_2020.yaml"), str(src), "--workers", bad],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
        assert r.returncode == 2 and "--workers must be between 1 and 64" in r.stderr


def test_the_cli_passes_workers(tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", [claim(item("beijing_ip_demonstration_unit", "u1"), claim_id=f"K-{n}") for n in (1, 2)])
    shutil.rmtree(tmp_path / "out", ignore_errors=True)
    r = subprocess.run(
        [sys.executable, "-m", "engine", "batch", "--policy", str(ROOT / "policies" / "pinggu_2020.yaml"), str(src), "--workers", "2",
         "--out", str(tmp_path / "out"), "--ledger", f"sqlite:///{tmp_path / 'l.sqlite'}", "--commit", "--no-report"],
        capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert FALLBACK not in r.stderr and "2 committed" in r.stdout


def _killed_worker(k: int) -> tuple[str, float]:
    """A deciding worker that dies as one killed by the system would (SIGKILL: no exception, no clean-up)."""
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def test_a_killed_worker_gives_a_clean_note_and_the_round_decided_on_one_process(
    policy: engine.CompiledPolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # issue 14: a worker process that dies (BrokenProcessPool) must not end the batch in a traceback; nothing of the
    # workers' part has been merged then, so the round is decided again on one process, with a note saying why
    from engine.records import workers as parallel

    src = write(tmp_path / "round.jsonl", list(generated(60)))
    absent = f"sqlite:///{tmp_path / 'absent.sqlite'}"
    one = run(policy, src, tmp_path / "w1", 1, ledger_url=absent)
    monkeypatch.setattr(parallel, "_decide", _killed_worker)  # the forked workers look the function up by name
    two = run(policy, src, tmp_path / "w2", 2, ledger_url=absent)
    assert "--workers 2: deciding on one process: a worker process ended abruptly" in two[2]
    assert "Traceback" not in two[2] and "BrokenProcessPool" not in two[2]
    assert two[:2] == one[:2] and one[0].count(b"\n") > 3


def test_a_killed_worker_while_committing_commits_each_application_once(
    policy: engine.CompiledPolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.records import workers as parallel

    src = write(tmp_path / "round.jsonl", list(generated(60)))
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    monkeypatch.setattr(parallel, "_decide", _killed_worker)
    got = run(policy, src, tmp_path / "w2", 2, ledger_url=url, commit=True)
    assert "deciding on one process: a worker process ended abruptly" in got[2]
    apps = [json.loads(x) for x in src.read_text(encoding="utf-8").splitlines()]
    decided = [json.loads(x) for x in got[0].decode().splitlines()]
    # every application decided once, in input order, and committed once (commit numbers 1, 2, 3, ...)
    assert [d["claim_id"] for d in decided] == [a["claim_id"] for a in apps]
    assert [d["ledger"]["commit"] for d in decided] == list(range(1, len(apps) + 1))


def _dies_part_way(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each deciding worker dies (SIGKILL) at its 8th application, a second after its 7th: the merge, beside
    deciding, has merged the first ones by then. Returns, for each round put back before it was decided again on
    one process (`_Before.restore`), how many applications the merge had written."""
    import os
    import signal
    import time

    from engine.records import workers as parallel

    real, calls = parallel.decide_one, [0]

    def decide_one(*a: Any, **k: Any) -> Any:
        calls[0] += 1  # (in the forked worker: its own count)
        if calls[0] == 8:
            time.sleep(1.0)
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*a, **k)

    monkeypatch.setattr(parallel, "decide_one", decide_one)
    restored: list[int] = []
    restore = parallel._Before.restore

    def spied(self: Any) -> None:
        restored.append(self.summary.applications)
        restore(self)

    monkeypatch.setattr(parallel._Before, "restore", spied)
    return restored


def test_a_worker_killed_part_way_leaves_nothing_of_what_was_merged(
    policy: engine.CompiledPolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the merge runs beside deciding, so a worker that dies part way does so after some of the round is written:
    # decisions, errors, the run's scratch ledger and the counts are put back as they were, and the round decided
    # again on one process gives one worker's files
    src = write(tmp_path / "round.jsonl", list(generated(400)))  # (40 applications: 20 or so a worker)
    absent = f"sqlite:///{tmp_path / 'absent.sqlite'}"
    one = run(policy, src, tmp_path / "w1", 1, ledger_url=absent)
    restored = _dies_part_way(monkeypatch)
    err = io.StringIO()
    s = run_batch(policy, src, tmp_path / "w2", quiet=False, stderr=err, workers=2, ledger_url=absent)
    assert "--workers 2: deciding on one process: a worker process ended abruptly" in err.getvalue()
    assert len(restored) == 1 and restored[0] > 0  # (some of the round had been merged)
    assert (tmp_path / "w2" / "decisions.jsonl").read_bytes() == one[0]
    assert (tmp_path / "w2" / "errors.jsonl").read_bytes() == one[1]
    for name in ("summary_items.csv", "summary_applications.csv"):  # (the rows merged before are not kept either)
        assert (tmp_path / "w2" / name).read_bytes() == (tmp_path / "w1" / name).read_bytes()
    assert s.applications == len(src.read_text(encoding="utf-8").splitlines()) and s.decided + s.failed == s.applications


def test_a_worker_killed_part_way_while_committing_commits_each_application_once(
    policy: engine.CompiledPolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # committing: what the merge had written into the run's ledger is rolled back with the round's transaction,
    # and the round committed again on one process commits each application once (commit numbers 1, 2, 3, ...)
    src = write(tmp_path / "round.jsonl", list(generated(400)))  # (40 applications: 20 or so a worker)
    one_url, url = f"sqlite:///{tmp_path / 'one.sqlite'}", f"sqlite:///{tmp_path / 'l.sqlite'}"
    run(policy, src, tmp_path / "w1", 1, ledger_url=one_url, commit=True)
    restored = _dies_part_way(monkeypatch)
    got = run(policy, src, tmp_path / "w2", 2, ledger_url=url, commit=True)
    assert "deciding on one process: a worker process ended abruptly" in got[2]
    assert len(restored) == 1 and restored[0] > 0
    apps = [json.loads(x) for x in src.read_text(encoding="utf-8").splitlines()]
    decided = [json.loads(x) for x in got[0].decode().splitlines()]
    assert [d["claim_id"] for d in decided] == [a["claim_id"] for a in apps]
    assert [d["ledger"]["commit"] for d in decided] == list(range(1, len(apps) + 1))
    assert grants(url) == grants(one_url)


def _killed_key_worker(k: int) -> tuple[list[list[str]], bool, float]:
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def test_a_worker_killed_while_listing_keys_gives_the_same_clean_note(
    policy: engine.CompiledPolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.records import workers as parallel

    src = write(tmp_path / "round.jsonl", list(generated(40)))
    absent = f"sqlite:///{tmp_path / 'absent.sqlite'}"
    one = run(policy, src, tmp_path / "w1", 1, ledger_url=absent)
    monkeypatch.setattr(parallel, "_keys", _killed_key_worker)
    two = run(policy, src, tmp_path / "w2", 2, ledger_url=absent)
    assert "--workers 2: deciding on one process: a worker process ended abruptly" in two[2]
    assert two[:2] == one[:2]


def test_the_workers_end_with_a_run_that_is_killed(tmp_path: Path) -> None:
    # kill -9 (or SIGTERM from `timeout` or a service manager) of a `--workers 2` run: its pool's processes, blocked on
    # queues whose pipes they had inherited, stayed behind for good, holding the ledger and the outputs open
    import os
    import signal
    import time

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import claims

    path = tmp_path / "round.jsonl"
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in claims(20000, seed=5)), encoding="utf-8")
    run = subprocess.Popen(
        [sys.executable, "-m", "engine", "batch", "--policy", str(ROOT / "policies" / "pinggu_2020.yaml"), str(path), "-q"]
        + ["--workers", "2", "--commit", "--ledger", f"sqlite:///{tmp_path / 'l.sqlite'}", "--out", str(tmp_path / "o")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    kids: list[int] = []
    deadline = time.monotonic() + 60
    while len(kids) < 2 and run.poll() is None and time.monotonic() < deadline:  # (the pool's two processes)
        found = subprocess.run(["pgrep", "-P", str(run.pid)], capture_output=True, text=True, check=False).stdout.split()
        kids = [int(k) for k in found]
        time.sleep(0.05)
    assert len(kids) >= 2 and run.poll() is None, "the run ended before its workers could be seen"
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 20
    alive = kids
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [k for k in kids if _running(k)]
    assert alive == []


def _running(pid: int) -> bool:
    """Whether `pid` is a process that has not ended (a zombie left to init has ended)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
