"""review44: adversarial cases of session 44's three changes (18027e01): the one-process foresight asks the ledger
what committing meets first (`Ledger.committed_round`, `Ledger._in_force`); a `--workers` round given to one process
makes its outputs while deciding (`run_batch`'s `made_while_deciding`); a replaced claim's old grants leave a scratch
run's history (`Ledger._over`).

Every run-level case holds the way under test to the files of one process making every output after deciding
(`outputs_while_deciding=False`), and says whether the foresight was kept (`_final_pass` not called). A preview (no
`commit`) is further held to what committing the same input into a copy of the ledger decides: the figures below are
worked out by hand from the measures (R11: half the interest paid on a pledged loan, at most 300,000 an enterprise a
funding year; R17: 50,000 for an IP management certification) and the round budget's rule (docs/ledger-and-batch.md,
"Round budget": floor to the cent, the cents left to the largest remainders, ties by commit order).

What is found and not mended is an `xfail(strict=True)` with its reason."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import test_foresight_earlier_grants as earlier_grants
from conftest import ENTERPRISE_2_ID, ENTERPRISE_ID, PLATFORM_ID, claim, item
from test_batch_outputs import _copy_ledger, _generated_round, _renamed, _same_outputs, _spy_final_pass
from test_foresight_earlier_grants import _append, _claim_lines, _decisions, _errors, _first, _second_both_ways, _spy_fallback
from test_ledger_support import policy_with_budget

from engine.records.batch import read_application, run_batch
from engine.records.inputs import open_claims
from engine.records.ledger import AlreadyCommitted, Audit, Ledger, LedgerError, _digest, content_hash, stated_in_full

WAYS = [1, 2]


def _loan(claim_id: str, interest: str, **kw: Any) -> dict[str, Any]:
    """A pledged-loan interest claim of the enterprise (R11: 50 % of `interest`, at most 300,000 a funding year)."""
    return claim(item("pledge_loan_interest", "l1", loan_id=f"LOAN-{claim_id}", annual_interest_paid=interest), claim_id=claim_id, **kw)


def _write(path: Path, claims: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in claims), encoding="utf-8")
    return path


def _x_committed(tmp_path: Path) -> Any:
    """The 20万-budget policy; X (400,000 of interest: 200,000, not scaled) committed into l.sqlite under round R."""
    budgeted = policy_with_budget(tmp_path, "20万")
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    run_batch(budgeted, _write(tmp_path / "a.jsonl", [_loan("X", "400000.00")]), tmp_path / "first", quiet=True, ledger_url=url, commit=True, round_label="R")  # fmt: skip
    assert [d["total"] for d in _decisions(tmp_path / "first")] == ["200000.00"]
    return budgeted


def _totals(out: Path) -> dict[str, tuple[str, str]]:
    """claim id -> (total before scaling, total) of a run's decisions."""
    return {d["claim_id"]: (d.get("total_before_scaling", d["total"]), d["total"]) for d in _decisions(out)}


def _preview_both_ways(tmp_path: Path, monkeypatch, policy, inp: Path, **kw):  # type: ignore[no-untyped-def]
    """`inp` decided only (no commit) over l.sqlite, made after deciding and while deciding: the same files; (its
    summary, whether the foresight was thrown away). The ledger is left as it was."""
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    after = run_batch(policy, inp, tmp_path / "p-after", quiet=True, ledger_url=url, outputs_while_deciding=False, **kw)
    final = _spy_final_pass(monkeypatch)
    s = run_batch(policy, inp, tmp_path / "p", quiet=True, ledger_url=url, **kw)
    monkeypatch.undo()
    assert s.scaling == after.scaling and _same_outputs(tmp_path / "p", tmp_path / "p-after")
    return s, final != []


# --- 3. a preview (no commit) of a claim the ledger holds, then a later claim of the same applicant -----------------
#
# Committing, by hand (R11, 300,000 an enterprise a year; round R, budget 200,000): X is held (200,000). Given again
# unchanged, committing finds it already committed; with other content and no --replace it refuses it; with
# --replace and funds returned on its grant it refuses it too. Each way X's old 200,000 stays and is Y's history:
# Y (400,000 of interest, 200,000 wanted) gets the cap's rest, 100,000. R holds 200,000 + 100,000 = 300,000 over
# 200,000: factor 2/3, X 133,333.333... -> 133,333.33, Y 66,666.666... -> 66,666.66 (199,999.99); the cent left goes
# to the larger remainder, Y's (.666 against .333): X 133,333.33, Y 66,666.67.

COMMITTED_Y = {"Y": ("100000.00", "66666.67")}


@pytest.mark.parametrize("workers", WAYS)
@pytest.mark.parametrize(("x_again", "replace"), [("400000.00", False), ("400000.00", True), ("200000.00", False)])
def test_committing_a_held_claim_then_a_later_one_worked_by_hand(
    tmp_path: Path, monkeypatch, workers: int, x_again: str, replace: bool
) -> None:
    # the committing side of the previews below, both ways: the foresight asks `committed_round` (X already committed
    # in R, or refused without --replace): kept; on workers the round goes to one process (X is committed)
    budgeted = _x_committed(tmp_path)
    second = _write(tmp_path / "b.jsonl", [_loan("X", x_again), _loan("Y", "400000.00")])
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, workers, "batch.fallback.committed", round_label="R", replace=replace)  # fmt: skip
    assert not remade
    assert s.scaling["R"]["approved_total"] == "300000.00" and s.scaling["R"]["allocated"] == "200000.00"
    if x_again == "400000.00":  # unchanged: already committed, its old decision rescaled
        assert _totals(tmp_path / "o") == {"X": ("200000.00", "133333.33"), **COMMITTED_Y} and s.already_committed == 1
    else:  # other content, no --replace: refused
        assert _totals(tmp_path / "o") == COMMITTED_Y and [e["claim_id"] for e in _errors(tmp_path / "o")] == ["X"]


def test_a_preview_with_replace_of_a_claim_given_again_unchanged_decides_as_committing(tmp_path: Path, monkeypatch) -> None:
    # `_over`: with --replace the preview's decision of X stands in for the ledger's commit of X in Y's history; X is
    # decided afresh (200,000, as committed: the same history) and its old grants no longer count beside it. Y:
    # 100,000 as committing (before session 44 it counted 200,000 + 200,000 and got 0.00). The round counts X's
    # committed grants in their place (`earlier_share`, the same hash): figures as committing. The foresight kept
    budgeted = _x_committed(tmp_path)
    second = _write(tmp_path / "b.jsonl", [_loan("X", "400000.00"), _loan("Y", "400000.00")])
    s, remade = _preview_both_ways(tmp_path, monkeypatch, budgeted, second, round_label="R", replace=True)
    assert not remade and s.committed == 0
    assert _totals(tmp_path / "p") == {"X": ("200000.00", "133333.33"), **COMMITTED_Y}
    assert s.scaling["R"]["approved_total"] == "300000.00"


@pytest.mark.parametrize("x_again", ["400000.00", "200000.00"])
def test_a_preview_without_replace_of_a_held_claim_decides_a_later_claim_as_committing(tmp_path: Path, monkeypatch, x_again: str) -> None:
    # what the preview shows of X itself is its fresh decision (documented); Y's must be committing's (above). Review44
    # found the preview decided X afresh into its scratch ledger and Y counted those grants beside the held ones: Y
    # 0.00 and R not scaled, where committing grants Y 100,000 (66,666.67). Mended: Y's history counts the commit
    # committing keeps (`Ledger._stands`, `Ledger._over`): the held one, which committing would keep or refuse to change
    budgeted = _x_committed(tmp_path)
    second = _write(tmp_path / "b.jsonl", [_loan("X", x_again), _loan("Y", "400000.00")])
    s, remade = _preview_both_ways(tmp_path, monkeypatch, budgeted, second, round_label="R")
    assert not remade  # (the preview's own files agree with its foresight whatever it decides)
    assert _totals(tmp_path / "p")["Y"] == COMMITTED_Y["Y"]
    assert s.scaling["R"]["approved_total"] == "300000.00"


def _x_reversed(tmp_path: Path) -> tuple[Any, Path]:
    """X committed and its grant reversed with 1,000.00 returned; the second input: X with other content (200,000 of
    interest), then Y (400,000)."""
    budgeted = _x_committed(tmp_path)
    with Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}") as led:
        led.reverse("X", "l1", reason="r", returned=Decimal("1000.00"), decided_on="2024-03-01")
    return budgeted, _write(tmp_path / "b.jsonl", [_loan("X", "200000.00"), _loan("Y", "400000.00")])


@pytest.mark.parametrize("workers", WAYS)
def test_committing_replace_of_a_reversed_claim_then_a_later_one(tmp_path: Path, monkeypatch, workers: int) -> None:
    # committing refuses X (ledger.replace_reversed): its old 200,000 stays (a reversal keeps the grant counting) and
    # is Y's history: Y 100,000, R as worked above. The foresight refuses X too (`committed_round` raises): kept
    budgeted, second = _x_reversed(tmp_path)
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, workers, "batch.fallback.committed", round_label="R", replace=True)  # fmt: skip
    assert not remade and s.replaced == 0 and s.committed == 1
    assert _totals(tmp_path / "o") == COMMITTED_Y and [e["claim_id"] for e in _errors(tmp_path / "o")] == ["X"]
    assert s.scaling["R"]["approved_total"] == "300000.00"


def test_a_preview_with_replace_of_a_reversed_claim_decides_a_later_claim_as_committing(tmp_path: Path, monkeypatch) -> None:
    # review44 found: the preview decides X (committing refuses it) and the first form of `_over` dropped its old
    # grants from Y's history: Y 200,000 (133,333.33), committing 100,000 (66,666.67); before session 44 the preview
    # counted both and gave Y 0.00. Mended: the held commit stands (`Ledger._stands`), and the round counts it in place
    # (`earlier_share`: `Ledger.reversed_claims`)
    budgeted, second = _x_reversed(tmp_path)
    _s, remade = _preview_both_ways(tmp_path, monkeypatch, budgeted, second, round_label="R", replace=True)
    assert not remade
    assert _totals(tmp_path / "p")["Y"] == COMMITTED_Y["Y"]


# --- 1. `committed_round` against `commit`: the content-hash forms, facts on record, what it must not write ----------


def _read(policy, data: dict[str, Any], tmp_path: Path):  # type: ignore[no-untyped-def]
    """(version, claim) of `data` as a run reads it (`read_application` over `open_claims`)."""
    path = _write(tmp_path / f"one-{data['claim_id']}.jsonl", [data])
    reader = open_claims(path, policy)
    try:
        (rec,) = list(reader)
    finally:
        reader.close()
    return read_application(_versions_of(policy), rec)


def _versions_of(policy):  # type: ignore[no-untyped-def]
    from engine.records.batch import PolicySet

    return PolicySet((policy,))


def _counts(path: Path) -> tuple[int, int, int]:
    with sqlite3.connect(path) as db:
        return tuple(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("commits", "grants", "audit"))  # type: ignore[return-value]


@pytest.mark.parametrize("form", ["as_compared", "as_submitted", "stated_in_full"])
def test_committed_round_finds_each_hash_form_commit_accepts(tmp_path: Path, form: str) -> None:
    # a commit recorded before the ledger compared applications so holds the hash of another form of the same
    # application (`_in_force`'s three): committed_round gives its round, R, as commit finds it already committed.
    # The claim states its documents list empty where the item's default is [] ('documents': []): the forms differ
    budgeted = _x_committed(tmp_path)
    x = _loan("X", "400000.00")
    x["items"][0]["documents"] = []  # (an optional fact stated as its default: not in the compared form)
    policy, read = _read(budgeted, x, tmp_path)
    hashes = {
        "as_compared": content_hash(read, policy),
        "as_submitted": content_hash(read),
        "stated_in_full": _digest(stated_in_full(policy, read.raw)),
    }
    assert len(set(hashes.values())) == 3  # (the premise: three different hashes)
    with sqlite3.connect(tmp_path / "l.sqlite") as db:
        db.execute("UPDATE commits SET content_hash = ?", (hashes[form],))
    was = _counts(tmp_path / "l.sqlite")
    with Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}") as led:
        assert led.committed_round(policy, read) == "R" and led.committed_round(policy, read, True) == "R"
        assert _counts(tmp_path / "l.sqlite") == was  # (nothing written)
        assert led.commit(policy, read, round="S").status == "already_committed"  # (the same answer; its round stays R)


def test_committed_round_refuses_as_commit_refuses(tmp_path: Path) -> None:
    budgeted = _x_committed(tmp_path)
    policy, other = _read(budgeted, _loan("X", "200000.00"), tmp_path)
    policy, new = _read(budgeted, _loan("Z", "200000.00"), tmp_path)
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    with Ledger(url) as led:
        assert led.committed_round(policy, new) is None and led.committed_round(policy, new, True) is None  # (none held)
        with pytest.raises(AlreadyCommitted):
            led.committed_round(policy, other)
        assert led.committed_round(policy, other, True) is None  # (committing replaces it: it decides it)
        led.reverse("X", "l1", reason="r", decided_on="2024-03-01")  # (no funds returned: a reversal all the same)
        with pytest.raises(LedgerError) as got:
            led.committed_round(policy, other, True)
        with pytest.raises(LedgerError) as committing:
            led.commit(policy, other, replace=True)
    assert str(got.value) == str(committing.value)


def test_committed_round_with_facts_on_record_joining_the_claim(tmp_path: Path, monkeypatch) -> None:
    # a finding recorded after X was committed (2022-03-01: bars an application submitted on 2022-03-15 for five
    # years, 第十四条) joins X as committing reads it, but the hash is of the application as submitted: X given again is
    # already committed (its old 200,000 stands, in R), and Y of the same enterprise is barred (0.00). The
    # foresight finds X so (committed_round: R): kept, the files those made after deciding. R: 200,000, within the
    # budget of 200,000: not scaled
    budgeted = _x_committed(tmp_path)
    with Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}") as led:
        led.record_finding(ENTERPRISE_ID, "fraud_finding_dates", "2022-03-01", reason="fraud found")
        policy, x = _read(budgeted, _loan("X", "400000.00"), tmp_path)
        assert led.committed_round(policy, x) == "R"
    second = _write(tmp_path / "b.jsonl", [_loan("X", "400000.00"), _loan("Y", "400000.00")])
    for workers in WAYS:
        s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, workers, "batch.fallback.committed", round_label="R")
        monkeypatch.undo()
        assert not remade and s.already_committed == 1
        assert _totals(tmp_path / "o") == {"X": ("200000.00", "200000.00"), "Y": ("0.00", "0.00")} and s.scaling == {}


# --- the hash forms in runs: a tie broken by commit order ------------------------------------------------------------
#
# By hand (R17, 50,000.00 each; round R, budget 100,000.01): X committed first; the second input gives Y1, Y2, then X
# again (its commit holding the hash of the form stated in full). Each share 50,000 x 100,000.01 / 150,000 =
# 33,333.3366...: floored 33,333.33 (99,999.99), two cents to the first two in commit order. Committing finds X
# already committed, in its old place: X, Y1, Y2 -> X 33,333.34, Y1 33,333.34, Y2 33,333.33.

TIE = {"X": ("50000.00", "33333.34"), "Y1": ("50000.00", "33333.34"), "Y2": ("50000.00", "33333.33")}


def _tie_in_full(tmp_path: Path) -> tuple[Any, Path]:
    budgeted = policy_with_budget(tmp_path, "100000.01")
    cert = item("ip_management_certification", "c1")
    x = claim(cert, claim_id="X", id=ENTERPRISE_ID)
    ys = [claim(cert, claim_id="Y1", id=ENTERPRISE_2_ID), claim(cert, claim_id="Y2", id=PLATFORM_ID)]
    run_batch(budgeted, _write(tmp_path / "a.jsonl", [x]), tmp_path / "first", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}", commit=True, round_label="R")  # fmt: skip
    with sqlite3.connect(tmp_path / "l.sqlite") as db:  # (as a ledger written before `same_application` holds it)
        db.execute("UPDATE commits SET content_hash = ?", (_digest(stated_in_full(budgeted, x)),))
    return budgeted, _write(tmp_path / "b.jsonl", [*ys, x])


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("workers", WAYS)
def test_a_claim_held_under_another_hash_form_keeps_its_place_committing(tmp_path: Path, monkeypatch, workers: int, replace: bool) -> None:
    # the foresight asks committed_round, which accepts every form (before session 44, with --replace, it committed X
    # afresh at the end of the round and was thrown away): kept
    budgeted, second = _tie_in_full(tmp_path)
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, workers, "batch.fallback.committed", round_label="R", replace=replace)  # fmt: skip
    assert not remade and s.already_committed == 1
    assert _totals(tmp_path / "o") == TIE


def test_a_preview_without_replace_of_a_claim_held_under_another_hash_form(tmp_path: Path, monkeypatch) -> None:
    # without --replace `earlier_share` keeps every held claim's commit in place, whatever its hash: as committing
    budgeted, second = _tie_in_full(tmp_path)
    _s, remade = _preview_both_ways(tmp_path, monkeypatch, budgeted, second, round_label="R")
    assert not remade and _totals(tmp_path / "p") == TIE


@pytest.mark.parametrize("workers", WAYS)
def test_a_preview_with_replace_of_a_claim_held_under_another_hash_form(tmp_path: Path, monkeypatch, workers: int) -> None:
    # deciding X over the ledger finds it held in the form stated in full, the same application (`_in_force` compares
    # every form): `earlier_share` reads that (`Ledger.stands_below`), keeps X's commit in its place, as committing
    # finds X already committed. Before session 45 it compared one hash form, took X for a replacement, dropped its
    # commit and counted X's fresh decision last: Y2 33,333.34 and X 33,333.33
    budgeted, second = _tie_in_full(tmp_path)
    _s, remade = _preview_both_ways(tmp_path, monkeypatch, budgeted, second, round_label="R", replace=True, workers=workers)
    assert not remade
    assert _totals(tmp_path / "p") == TIE


# --- a claim given twice in one input ----------------------------------------------------------------------------


@pytest.mark.parametrize("commit", [True, False])
@pytest.mark.parametrize("workers", WAYS)
def test_a_claim_given_twice_in_one_input_with_replace(tmp_path: Path, monkeypatch, workers: int, commit: bool) -> None:
    # Y given twice, the second time with 200,000 of interest: the reader makes the second an error record
    # (input.claim_id_again, --replace or not: an amendment is a later run's), in the run and its foresight alike. By
    # hand: X already committed (200,000); Y (first) 100,000, the cap's rest; R as worked above. Kept both ways
    budgeted = _x_committed(tmp_path)
    second = _write(tmp_path / "b.jsonl", [_loan("X", "400000.00"), _loan("Y", "400000.00"), _loan("Y", "200000.00")])
    if commit:
        s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, workers, "batch.fallback.committed", round_label="R", replace=True)  # fmt: skip
        out = tmp_path / "o"
    else:
        s, remade = _preview_both_ways(tmp_path, monkeypatch, budgeted, second, round_label="R", replace=True, workers=workers)
        out = tmp_path / "p"
    assert not remade
    assert _totals(out) == {"X": ("200000.00", "133333.33"), **COMMITTED_Y}
    assert [e["claim_id"] for e in _errors(out)] == ["Y"] and "claim_id" in json.dumps(_errors(out)[0], ensure_ascii=False)
    assert s.scaling["R"]["approved_total"] == "300000.00"


# --- 2. a workers' round given to one process ---------------------------------------------------------------------


def _given_again(tmp_path: Path) -> tuple[Any, Path]:
    """The generated first batch in round R (10万), and a second holding two of its claims again unchanged."""
    budgeted = policy_with_budget(tmp_path, "10万")
    _first(tmp_path, budgeted, round_label="R")
    lines = _claim_lines(tmp_path / "a.jsonl")
    victims = list(lines)[:2]
    return budgeted, _append(_renamed(_generated_round(tmp_path / "b.jsonl", 2, 100), "B-"), [lines[v] for v in victims])


def test_a_fallback_with_audit_makes_its_outputs_while_deciding(tmp_path: Path, monkeypatch) -> None:
    # --audit decides on one process (`run_batch` asks no worker): since session 44 a --workers 2 run with --audit
    # starts its outputs' process there too. The files are those made after deciding, kept, and the audit entries one
    # a decided application either way (2 of them already committed)
    budgeted, second = _given_again(tmp_path)
    audit = Audit("王科员", ("officer",), "commit", "round", {})
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, 2, None, round_label="R", audit=audit)
    assert not remade and s.already_committed == 2
    with sqlite3.connect(tmp_path / "1.sqlite") as a, sqlite3.connect(tmp_path / "2.sqlite") as b:
        q = "SELECT target, outcome FROM audit ORDER BY id"
        assert a.execute(q).fetchall() == b.execute(q).fetchall()
    assert _counts(tmp_path / "2.sqlite")[2] - _counts(tmp_path / "l.sqlite")[2] == s.decided


def test_a_fallback_said_on_a_terminal_leaves_no_thread_or_process(tmp_path: Path, monkeypatch, capsys) -> None:
    # not quiet: the fallback is said, then the foresight's step, the bar and the outputs' steps; the pool's threads
    # are gone before the outputs' process is forked (else `_fork_context` refuses and every output is made after)
    budgeted, second = _given_again(tmp_path)
    one = _copy_ledger(tmp_path / "l.sqlite", tmp_path / "1.sqlite")
    two = _copy_ledger(tmp_path / "l.sqlite", tmp_path / "2.sqlite")
    run_batch(budgeted, second, tmp_path / "after", quiet=True, ledger_url=one, commit=True, round_label="R", outputs_while_deciding=False)
    final, why = _spy_final_pass(monkeypatch), _spy_fallback(monkeypatch)
    said: list[str] = []
    s = run_batch(
        budgeted, second, tmp_path / "o", ledger_url=two, commit=True, round_label="R", workers=2, on_step=lambda *a: said.append(repr(a))
    )
    assert why == ["batch.fallback.committed"] and final == [] and _same_outputs(tmp_path / "o", tmp_path / "after")
    err = capsys.readouterr().err
    assert err and said  # (said: the fallback, the steps)
    assert threading.active_count() == 1 and multiprocessing.active_children() == []
    assert s.already_committed == 2


def _die(k: int) -> tuple[str, float]:  # (a worker killed while deciding: the pool breaks)
    os._exit(3)


def test_a_worker_dying_gives_the_round_to_one_process_which_makes_its_outputs_while_deciding(tmp_path: Path, monkeypatch) -> None:
    # no claim held: the workers decide (their foresight made, and the merge's outputs started) until a worker dies;
    # the round is decided again on one process (batch.fallback.broken), whose outputs' process (and foresight) start
    # then. The files are those made after deciding; kept
    import engine.records.workers as workers_mod

    budgeted = policy_with_budget(tmp_path, "10万")
    _first(tmp_path, budgeted, round_label="R")
    second = _renamed(_generated_round(tmp_path / "b.jsonl", 2, 100), "B-")
    monkeypatch.setattr(workers_mod, "_decide", _die)
    s, after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, 2, "batch.fallback.broken", round_label="R")
    assert not remade and s.committed == after.committed == s.decided > 0
    assert multiprocessing.active_children() == []


# --- a replacement leaving a round that is still over its budget ---------------------------------------------------
#
# By hand (beijing_ip_demonstration_unit, 50,000 each, fixed; budget 5万): A1, A2, A3 committed into round R: 150,000,
# each share 16,666.666..., floored 16,666.66 (49,999.98), the two cents to A1 and A2 (commit order). A1 is then
# replaced (a later submission date) under round label S: R holds A2 and A3, 100,000 over 50,000: 25,000.00 each, a
# scaling record for R (approved 100,000.00); S holds A1's 50,000.00 alone, within the budget: not scaled.


def _leaving_r(tmp_path: Path) -> tuple[Any, Path]:
    budgeted = policy_with_budget(tmp_path, "5万")
    unit = "beijing_ip_demonstration_unit"
    units = [claim(item(unit, "t1"), claim_id=f"A{n}", id=i) for n, i in ((1, ENTERPRISE_ID), (2, ENTERPRISE_2_ID), (3, PLATFORM_ID))]
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    first = run_batch(budgeted, _write(tmp_path / "a.jsonl", units), tmp_path / "first", quiet=True, ledger_url=url, commit=True, round_label="R")  # fmt: skip
    assert _totals(tmp_path / "first") == {"A1": ("50000.00", "16666.67"), "A2": ("50000.00", "16666.67"), "A3": ("50000.00", "16666.66")}
    assert first.scaling["R"]["allocated"] == "50000.00"
    return budgeted, _write(tmp_path / "b.jsonl", [{**units[0], "submission_date": "2022-03-16"}])


@pytest.mark.parametrize("workers", WAYS)
def test_a_replacement_leaving_a_round_still_over_its_budget(tmp_path: Path, monkeypatch, workers: int) -> None:
    # the files are those made after deciding, whether or not the foresight is kept (below); one application: the
    # workers give the round to one process (batch.fallback.fewer)
    budgeted, second = _leaving_r(tmp_path)
    s, _after, _remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, workers, "batch.fallback.fewer", round_label="S", replace=True)  # fmt: skip
    assert s.replaced == 1 and _totals(tmp_path / "o") == {"A1": ("50000.00", "50000.00")}
    assert list(s.scaling) == ["R"] and (s.scaling["R"]["approved_total"], s.scaling["R"]["allocated"]) == ("100000.00", "50000.00")
    with sqlite3.connect(tmp_path / "2.sqlite") as db:
        held = db.execute("SELECT claim_id, round, amount FROM grants WHERE superseded = 0 ORDER BY claim_id").fetchall()
    assert held == [("A1", "S", "50000.00"), ("A2", "R", "25000.00"), ("A3", "R", "25000.00")]


@pytest.mark.parametrize("workers", WAYS)
def test_a_replacement_leaving_a_round_still_over_its_budget_keeps_the_foresight(tmp_path: Path, monkeypatch, workers: int) -> None:
    # the run scales R again (`summary.left_rounds`); the foresight did not (R is none of its decisions' rounds): its
    # records lacked R's and it was thrown away, though no decision of the run is in R. It now scales the rounds its
    # replacements leave too (review44): kept
    budgeted, second = _leaving_r(tmp_path)
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, workers, "batch.fallback.fewer", round_label="S", replace=True)  # fmt: skip
    assert not remade and list(s.scaling) == ["R"]


# --- a workers' round given to one process when the input breaks off ----------------------------------------------


def test_an_input_breaking_off_on_workers_is_decided_on_one_process_as_made_after(tmp_path: Path, monkeypatch) -> None:
    # a JSON list cut short inside its third claim: the workers give the round to one process (breaks_off), whose
    # outputs' process and foresight now start (the foresight meets the break: nothing foreseen); the run commits X and
    # Y (200,000 and 100,000, worked above: no earlier grant) and then stops with the input's error, as made after.
    # The same errors.jsonl and grants; no process or thread left. (Made while deciding, a run that stops so leaves
    # the CSVs its outputs' process had written beside errors.jsonl -- on one worker as on two -- where one making its
    # outputs after deciding leaves none: not held here)
    from engine.records.inputs import InputError

    budgeted = policy_with_budget(tmp_path, "20万")
    text = json.dumps([_loan("X", "400000.00"), _loan("Y", "400000.00"), _loan("Z", "100000.00")])
    cut = tmp_path / "b.json"
    cut.write_text(text[: text.rfind("{") + 30], encoding="utf-8")
    grants = {}
    for name, kw in (("after", {"outputs_while_deciding": False}), ("o", {"workers": 2})):
        why, final = _spy_fallback(monkeypatch), _spy_final_pass(monkeypatch)
        with pytest.raises(InputError):
            run_batch(budgeted, cut, tmp_path / name, quiet=True, ledger_url=f"sqlite:///{tmp_path / name}.sqlite", commit=True, round_label="R", **kw)  # fmt: skip
        assert why == (["batch.fallback.breaks_off"] if name == "o" else []) and final == []
        monkeypatch.undo()
        with sqlite3.connect(tmp_path / f"{name}.sqlite") as db:
            grants[name] = db.execute("SELECT claim_id, amount FROM grants ORDER BY id").fetchall()
    assert grants["o"] == grants["after"] == [("X", "200000.00"), ("Y", "100000.00")]
    assert (tmp_path / "o" / "errors.jsonl").read_bytes() == (tmp_path / "after" / "errors.jsonl").read_bytes()
    assert threading.active_count() == 1 and multiprocessing.active_children() == []


# --- PostgreSQL ---------------------------------------------------------------------------------------------------


pg_two = earlier_grants.pg_two  # (two PostgreSQL ledgers, the fixture of tests/test_foresight_earlier_grants.py)


@pytest.mark.parametrize("workers", WAYS)
@pytest.mark.parametrize("case", ["unchanged", "reversed", "replaced"])
def test_held_claims_then_a_later_one_on_postgresql(tmp_path: Path, monkeypatch, workers: int, case: str, pg_two) -> None:
    # the X-then-Y cases with --replace on PostgreSQL (committed_round and `_in_force`'s queries there; the foresight's
    # scratch ledger in SQLite over it). By hand as above: unchanged, X already committed (133,333.33) and Y 100,000
    # (66,666.67); reversed, X refused and Y the same; replaced (X's interest 200,000, no reversal), X 100,000 and Y
    # the cap's rest 200,000: 300,000 scaled by 2/3, 66,666.67 (66,666.666..., the larger remainder) and 133,333.33
    budgeted = policy_with_budget(tmp_path, "20万")
    first = _write(tmp_path / "a.jsonl", [_loan("X", "400000.00")])
    for url, out in zip(pg_two, ("first-1", "first-2"), strict=True):
        run_batch(budgeted, first, tmp_path / out, quiet=True, ledger_url=url, commit=True, round_label="R")
        if case == "reversed":
            with Ledger(url) as led:
                led.reverse("X", "l1", reason="r", returned=Decimal("1000.00"), decided_on="2024-03-01")
    x_again = "400000.00" if case == "unchanged" else "200000.00"
    second = _write(tmp_path / "b.jsonl", [_loan("X", x_again), _loan("Y", "400000.00")])
    after = run_batch(budgeted, second, tmp_path / "after", quiet=True, ledger_url=pg_two[0], commit=True, round_label="R", replace=True, outputs_while_deciding=False)  # fmt: skip
    final, why = _spy_final_pass(monkeypatch), _spy_fallback(monkeypatch)
    s = run_batch(budgeted, second, tmp_path / "o", quiet=True, ledger_url=pg_two[1], commit=True, round_label="R", replace=True, workers=workers)  # fmt: skip
    assert s.scaling == after.scaling and _same_outputs(tmp_path / "o", tmp_path / "after")
    assert final == [] and why == (["batch.fallback.committed"] if workers > 1 else [])
    want = {
        "unchanged": {"X": ("200000.00", "133333.33"), **COMMITTED_Y},
        "reversed": COMMITTED_Y,
        "replaced": {"X": ("100000.00", "66666.67"), "Y": ("200000.00", "133333.33")},
    }[case]
    assert _totals(tmp_path / "o") == want and s.scaling["R"]["approved_total"] == "300000.00"


# --- a claim given again unchanged whose history has changed since it was committed ---------------------------------
#
# By hand (R11; round R, budget 20万): the first batch W (400,000 of interest: 200,000) then X (400,000: the cap's rest,
# 100,000); R 300,000 over 200,000. W is then replaced (200,000 of interest: 100,000); R holds X 100,000 and W
# 100,000, within the budget. The second batch gives X again unchanged, then Y (400,000). Committing (with --replace
# or without) finds X already committed (100,000): Y's history is W 100,000 + X 100,000, Y gets 100,000. R: X, W, Y
# 100,000 each, 300,000 over 200,000: each share 66,666.666..., floored 66,666.66 (199,999.98), the two cents by commit
# order (the remainders tie): X (commit 2) and W (commit 3) 66,666.67, Y 66,666.66. A preview decides X afresh over
# W's 100,000: 200,000, which is not what committing counts.


def _x_over_a_replaced_w(tmp_path: Path) -> tuple[Any, Path]:
    budgeted = policy_with_budget(tmp_path, "20万")
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    first = _write(tmp_path / "a.jsonl", [_loan("W", "400000.00"), _loan("X", "400000.00")])
    run_batch(budgeted, first, tmp_path / "first", quiet=True, ledger_url=url, commit=True, round_label="R")
    assert _totals(tmp_path / "first") == {"W": ("200000.00", "133333.33"), "X": ("100000.00", "66666.67")}
    fix = _write(tmp_path / "w.jsonl", [_loan("W", "200000.00")])
    run_batch(budgeted, fix, tmp_path / "fix", quiet=True, ledger_url=url, commit=True, round_label="R", replace=True)
    assert _totals(tmp_path / "fix") == {"W": ("100000.00", "100000.00")}  # (R back within its budget: not scaled)
    return budgeted, _write(tmp_path / "b.jsonl", [_loan("X", "400000.00"), _loan("Y", "400000.00")])


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("workers", WAYS)
def test_committing_a_claim_given_again_whose_history_changed(tmp_path: Path, monkeypatch, workers: int, replace: bool) -> None:
    budgeted, second = _x_over_a_replaced_w(tmp_path)
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, workers, "batch.fallback.committed", round_label="R", replace=replace)  # fmt: skip
    assert not remade and s.already_committed == 1
    assert _totals(tmp_path / "o") == {"X": ("100000.00", "66666.67"), "Y": ("100000.00", "66666.66")}
    assert s.scaling["R"]["approved_total"] == "300000.00"


@pytest.mark.parametrize("replace", [False, True])
def test_a_preview_of_a_claim_given_again_whose_history_changed(tmp_path: Path, monkeypatch, replace: bool) -> None:
    # review44 found: a preview decides X, given again unchanged, afresh (200,000 over W's replaced 100,000) and Y
    # counted that (with --replace instead of X's committed 100,000, without beside it), where committing finds X
    # already committed: Y 0.00 and R not scaled, committing Y 100,000 (66,666.66). Mended: X's committed commit
    # stands in Y's history (`Ledger._stands`, `Ledger._over`)
    budgeted, second = _x_over_a_replaced_w(tmp_path)
    s, remade = _preview_both_ways(tmp_path, monkeypatch, budgeted, second, round_label="R", replace=replace)
    assert not remade
    assert _totals(tmp_path / "p")["Y"] == ("100000.00", "66666.66") and s.scaling["R"]["approved_total"] == "300000.00"


@pytest.mark.parametrize(
    "kw",
    [
        {"report": False},
        {"trace": False},
        {"report_lang": "en"},
        {"output_processes": 2},
    ],
    ids=["no-report", "no-trace", "report-en", "two-output-processes"],
)
def test_a_fallback_makes_its_outputs_while_deciding_whatever_the_outputs_options(tmp_path: Path, monkeypatch, kw: dict[str, Any]) -> None:
    # a --workers 2 round given to one process (claims of the first batch given again: batch.fallback.committed; with
    # own_history=False, the service's rounds, no worker is asked) under each option of the outputs: the files those
    # made after deciding, the foresight kept
    budgeted, second = _given_again(tmp_path)
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, 2, "batch.fallback.committed", round_label="R", **kw)
    assert not remade and s.already_committed == 2 and "R" in s.scaling


@pytest.mark.parametrize("workers", WAYS)
def test_own_history_refused_is_refused_by_the_foresight_too(tmp_path: Path, monkeypatch, workers: int) -> None:
    # own_history=False (the service's rounds): an application carrying a history of its own is an error record. On
    # workers no worker is asked (since session 44 the one process makes its outputs while deciding). The second batch
    # of the generated round: 8 of its applications carry a history; the run refuses them (error records) and decides
    # the rest. The foresight refuses them too
    # (`_DryRun.own_history`; before review44 it decided them, foresaw another scaling and was thrown away): kept
    budgeted = policy_with_budget(tmp_path, "10万")
    _first(tmp_path, budgeted, round_label="R")
    second = _renamed(_generated_round(tmp_path / "b.jsonl", 2, 100), "B-")
    carrying = [c for c, d in _claim_lines(second).items() if "history" in d]
    assert len(carrying) == 8  # (the premise, counted in the input)
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, workers, round_label="R", own_history=False)
    assert set(carrying) <= {e["claim_id"] for e in _errors(tmp_path / "o")}
    assert "R" in s.scaling and s.decided > 0
    assert not remade


@pytest.mark.parametrize("x_again", ["400000.00", "200000.00"])
def test_a_preview_with_replace_on_workers(tmp_path: Path, monkeypatch, x_again: str) -> None:
    # a preview is decided on the workers (a held claim sends only a committing round to one process): X and Y of one
    # enterprise share a group, whose worker decides X into its scratch ledger and Y over it (`_over` on the worker's
    # ledger). The files are one process's made after deciding, the workers' foresight kept. By hand: X unchanged,
    # 200,000 (133,333.33) and Y 100,000 (66,666.67), worked above; X replaced (200,000 of interest), 100,000 and Y
    # the cap's rest, 200,000: 300,000 scaled by 2/3, X 66,666.67 (66,666.666..., the larger remainder), Y 133,333.33
    budgeted = _x_committed(tmp_path)
    second = _write(tmp_path / "b.jsonl", [_loan("X", x_again), _loan("Y", "400000.00")])
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, 2, round_label="R", replace=True, commit=False)
    assert not remade and s.committed == 0
    if x_again == "400000.00":
        assert _totals(tmp_path / "o") == {"X": ("200000.00", "133333.33"), **COMMITTED_Y}
    else:
        assert _totals(tmp_path / "o") == {"X": ("100000.00", "66666.67"), "Y": ("200000.00", "133333.33")}
