"""Review (session 43, review43b) of how a batch scales its rounds: a round a replaced claim left
(`BatchSummary.left_rounds`), a round's budget among all its grants (`batch.round_years`), a run that only decides
previewing a round with earlier grants (`batch.previewed`), and the foresight's agreement by the claims the run wrote
(`decide_one`'s `seen`). Every figure is worked out by hand in the case's comment."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import ENTERPRISE_2_ID, ENTERPRISE_ID, PLATFORM_ID, claim, item
from test_batch_outputs import _copy_ledger, _generated_round, _same_outputs, _spy_final_pass
from test_foresight_earlier_grants import _append, _decisions
from test_ledger_support import policy_with_budget
from test_workers_foresight import _versions

from engine.records.batch import run_batch

UNIT = "beijing_ip_demonstration_unit"  # 5万, fixed, once per enterprise (R-free: no cap shared between the ids below)
WAYS = [1, 2]


def _held(path: Path) -> list[tuple[str, str, str, str]]:
    """(claim, round, amount, amount before scaling) of every active grant, by claim."""
    with sqlite3.connect(path) as db:
        return db.execute("SELECT claim_id, round, amount, unscaled_amount FROM grants WHERE superseded = 0 ORDER BY claim_id").fetchall()


def _rounds(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [r for (r,) in db.execute("SELECT round FROM rounds ORDER BY round").fetchall()]


def _totals(out: Path) -> dict[str, str]:
    return {d["claim_id"]: d["total"] for d in _decisions(out)}


# --- a round a replaced claim left ------------------------------------------------------------------------------


def test_a_claim_replaced_out_of_a_round_still_over_budget_rescales_it_with_a_new_factor(tmp_path: Path) -> None:
    # by hand: four Beijing IP demonstration units (5万 each) in round R, budget 10万: 200,000.00, each 25,000.00
    # exactly. A1 replaced (a later submission date) under label S: R holds A2, A3, A4, 150,000.00, still over:
    # each share 50,000 x 100,000 / 150,000 = 33,333.333..., floored 33,333.33 (99,999.99), the cent to A2 (first in
    # commit order): A2 33,333.34, A3 and A4 33,333.33. S holds A1's 50,000.00 alone, within the budget: unscaled.
    # The run's scaling shows R (its new figures) and not S
    budgeted = policy_with_budget(tmp_path, "10万")
    ids = (ENTERPRISE_ID, ENTERPRISE_2_ID, PLATFORM_ID, "91110117MA07RE4W44")
    units = [claim(item(UNIT, "t1"), claim_id=f"A{n + 1}", id=i) for n, i in enumerate(ids)]
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    first = run_batch(budgeted, _append(tmp_path / "a.jsonl", units), tmp_path / "first", quiet=True, ledger_url=url, commit=True, round_label="R")  # fmt: skip
    assert _totals(tmp_path / "first") == {"A1": "25000.00", "A2": "25000.00", "A3": "25000.00", "A4": "25000.00"}
    assert first.scaling["R"]["approved_total"] == "200000.00"
    amended = _append(tmp_path / "b.jsonl", [{**units[0], "submission_date": "2022-03-16"}])
    s = run_batch(budgeted, amended, tmp_path / "o", quiet=True, ledger_url=url, commit=True, replace=True, round_label="S")
    assert s.replaced == 1 and list(s.scaling) == ["R"]
    assert (s.scaling["R"]["approved_total"], s.scaling["R"]["allocated"]) == ("150000.00", "100000.00")
    assert json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))["scaling"]["R"]["approved_total"] == "150000.00"
    assert _held(tmp_path / "l.sqlite") == [
        ("A1", "S", "50000.00", "50000.00"),
        ("A2", "R", "33333.34", "50000.00"),
        ("A3", "R", "33333.33", "50000.00"),
        ("A4", "R", "33333.33", "50000.00"),
    ]
    assert _rounds(tmp_path / "l.sqlite") == ["R"]
    assert _totals(tmp_path / "o") == {"A1": "50000.00"}


@pytest.mark.parametrize("workers", WAYS)
def test_the_left_round_rescaled_the_same_on_every_way(tmp_path: Path, monkeypatch, workers: int) -> None:
    # the case above made after deciding and by the way under test: the same files (the left round R is not among
    # the rounds the foresight decided, so its scaling is not foreseen: whatever is kept, the files are the same)
    budgeted = policy_with_budget(tmp_path, "10万")
    ids = (ENTERPRISE_ID, ENTERPRISE_2_ID, PLATFORM_ID, "91110117MA07RE4W44")
    units = [claim(item(UNIT, "t1"), claim_id=f"A{n + 1}", id=i) for n, i in enumerate(ids)]
    run_batch(budgeted, _append(tmp_path / "a.jsonl", units), tmp_path / "first", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}", commit=True, round_label="R")  # fmt: skip
    amended = _append(tmp_path / "b.jsonl", [{**units[0], "submission_date": "2022-03-16"}, *[claim(item(UNIT, "t1"), claim_id="B1", id="91110117MA08RE4W4N")]])  # fmt: skip
    one, two = _copy_ledger(tmp_path / "l.sqlite", tmp_path / "1.sqlite"), _copy_ledger(tmp_path / "l.sqlite", tmp_path / "2.sqlite")
    after = run_batch(budgeted, amended, tmp_path / "after", quiet=True, ledger_url=one, commit=True, replace=True, round_label="S", outputs_while_deciding=False)  # fmt: skip
    s = run_batch(budgeted, amended, tmp_path / "w", quiet=True, ledger_url=two, commit=True, replace=True, round_label="S", workers=workers)  # fmt: skip
    assert s.scaling == after.scaling and sorted(s.scaling) == ["R"]  # (S: A1 and B1, 100,000.00, within the budget)
    assert _same_outputs(tmp_path / "w", tmp_path / "after")
    assert _held(tmp_path / "2.sqlite") == _held(tmp_path / "1.sqlite")


def test_a_claim_replaced_within_the_same_round_is_counted_once(tmp_path: Path) -> None:
    # by hand: A1, A2, A3 (5万 each) in R, budget 10万: 33,333.34 / 33,333.33 / 33,333.33. A1 replaced into R again
    # (a later submission date): R still holds three grants of 5万, A1's now last in commit order, so the cent goes to
    # A2: A2 33,333.34, A1 and A3 33,333.33; approved total 150,000.00 (A1's superseded grant not counted)
    budgeted = policy_with_budget(tmp_path, "10万")
    units = [claim(item(UNIT, "t1"), claim_id=f"A{n}", id=i) for n, i in ((1, ENTERPRISE_ID), (2, ENTERPRISE_2_ID), (3, PLATFORM_ID))]
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    run_batch(budgeted, _append(tmp_path / "a.jsonl", units), tmp_path / "first", quiet=True, ledger_url=url, commit=True, round_label="R")  # fmt: skip
    amended = _append(tmp_path / "b.jsonl", [{**units[0], "submission_date": "2022-03-16"}])
    s = run_batch(budgeted, amended, tmp_path / "o", quiet=True, ledger_url=url, commit=True, replace=True, round_label="R")
    assert s.replaced == 1 and s.scaling["R"]["approved_total"] == "150000.00" and s.scaling["R"]["allocated"] == "100000.00"
    assert [(c, a) for c, _r, a, _u in _held(tmp_path / "l.sqlite")] == [("A1", "33333.33"), ("A2", "33333.34"), ("A3", "33333.33")]


def test_a_left_round_now_governed_by_a_version_without_a_budget_is_unscaled(tmp_path: Path) -> None:
    # by hand: the 2020 measures without a round budget, the 2024 draft with 5万. Round R holds B1 (funding year
    # 2021, 5万) and A1 (2024, 5万): its latest year is 2024, the draft governs: 100,000.00 over 50,000.00, each
    # 25,000.00. A1 is replaced (a later submission date) under label S: R now holds B1 alone, of 2021, whose version
    # (the 2020 measures) sets no budget: R is not scaled, B1 back to 50,000.00 and R's record gone (as scaling R
    # afresh gives). S holds A1's 50,000.00 under the draft's 5万: exactly the budget, not scaled
    versions = _versions(tmp_path, None, "5万")
    b1 = claim(item(UNIT, "t1"), claim_id="B1", id=ENTERPRISE_ID)
    a1 = claim(item(UNIT, "t1", date="2024-06-01"), funding_year=2024, claim_id="A1", id=ENTERPRISE_2_ID)
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    first = run_batch(versions, _append(tmp_path / "a.jsonl", [b1, a1]), tmp_path / "first", quiet=True, ledger_url=url, commit=True, round_label="R")  # fmt: skip
    assert (first.scaling["R"]["budget"], first.scaling["R"]["allocated"]) == ("50000.00", "50000.00")
    assert _totals(tmp_path / "first") == {"B1": "25000.00", "A1": "25000.00"}
    amended = _append(tmp_path / "b.jsonl", [{**a1, "submission_date": "2025-03-16"}])
    s = run_batch(versions, amended, tmp_path / "o", quiet=True, ledger_url=url, commit=True, replace=True, round_label="S")
    assert s.replaced == 1 and s.scaling == {}
    assert _held(tmp_path / "l.sqlite") == [("A1", "S", "50000.00", "50000.00"), ("B1", "R", "50000.00", "50000.00")]
    assert _rounds(tmp_path / "l.sqlite") == []


# --- previewing a round with earlier grants -----------------------------------------------------------------------


CERT = item("ip_management_certification", "c1")  # 50,000.00 to an enterprise (R17)


def _x_committed(tmp_path: Path) -> tuple[Any, dict[str, Any], list[dict[str, Any]], str]:
    """X (a certification, 50,000.00) committed into R under a budget of 100,000.01 (three such grants tie on the
    two cents left); (the policy, X, Y1 and Y2 of two other enterprises, the ledger's url)."""
    budgeted = policy_with_budget(tmp_path, "100000.01")
    x = claim(CERT, claim_id="X", id=ENTERPRISE_ID)
    ys = [claim(CERT, claim_id="Y1", id=ENTERPRISE_2_ID), claim(CERT, claim_id="Y2", id=PLATFORM_ID)]
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    run_batch(budgeted, _append(tmp_path / "a.jsonl", [x]), tmp_path / "first", quiet=True, ledger_url=url, commit=True, round_label="R")  # fmt: skip
    return budgeted, x, ys, url


def _tie_round(tmp_path: Path, where: str) -> tuple[Any, Path, str]:
    budgeted, x, ys, url = _x_committed(tmp_path)
    second = _append(tmp_path / "b.jsonl", [x, *ys] if where == "first" else [*ys, x])
    return budgeted, second, url


@pytest.mark.parametrize("workers", WAYS)
@pytest.mark.parametrize("where", ["first", "last"])
def test_a_preview_that_gives_a_committed_claim_again_pays_what_committing_pays(tmp_path: Path, workers: int, where: str) -> None:
    # by hand: X (certification, 50,000.00) committed in R first; the second batch gives Y1, Y2 (50,000.00 each) and X
    # again unchanged. Committing finds X already committed (in its place, first in commit order): 150,000.00 over
    # 100,000.01, each share 33,333.3366..., floored 33,333.33 (99,999.99), the two cents by commit order: X and Y1
    # 33,333.34, Y2 33,333.33, whatever X's place in the input. The preview must pay the same: X counted once (not
    # its old grants and a new decision of it), and the cents by the ledger's order
    budgeted, second, url = _tie_round(tmp_path, where)
    c = run_batch(budgeted, second, tmp_path / "c", quiet=True, ledger_url=_copy_ledger(tmp_path / "l.sqlite", tmp_path / "c.sqlite"), commit=True, round_label="R")  # fmt: skip
    assert _totals(tmp_path / "c") == {"X": "33333.34", "Y1": "33333.34", "Y2": "33333.33"}
    p = run_batch(budgeted, second, tmp_path / "p", quiet=True, ledger_url=url, commit=False, round_label="R", workers=workers)
    assert p.scaling["R"]["approved_total"] == "150000.00" == c.scaling["R"]["approved_total"]
    assert _totals(tmp_path / "p") == _totals(tmp_path / "c")
    assert p.approved_total == c.approved_total == Decimal("100000.01")


def test_a_preview_that_gives_a_committed_claim_again_changed_scales_as_committing_refusing_it(tmp_path: Path) -> None:
    # by hand: X (certification, 50,000.00) committed in R, budget 100,000.01. The second batch gives Y1, Y2
    # (certification, 50,000.00 each) and X again with an IP demonstration unit added (100,000.00), no --replace.
    # Committing refuses X (already committed, not the same) and keeps its old grant first in R: 150,000.00, each share
    # 33,333.3366..., floored, the two cents by commit order: X 33,333.34 (kept), Y1 33,333.34, Y2 33,333.33; the
    # approved total of this run's decisions is Y1 + Y2 = 66,666.67. The preview must scale R the same
    budgeted, _x, ys, url = _x_committed(tmp_path)
    second = _append(tmp_path / "b.jsonl", [*ys, claim(CERT, item(UNIT, "t1"), claim_id="X", id=ENTERPRISE_ID)])
    c_url = _copy_ledger(tmp_path / "l.sqlite", tmp_path / "c.sqlite")
    c = run_batch(budgeted, second, tmp_path / "c", quiet=True, ledger_url=c_url, commit=True, round_label="R")
    assert c.failed == 1 and c.scaling["R"]["approved_total"] == "150000.00" and c.approved_total == Decimal("66666.67")
    assert _totals(tmp_path / "c") == {"Y1": "33333.34", "Y2": "33333.33"}
    p = run_batch(budgeted, second, tmp_path / "p", quiet=True, ledger_url=url, commit=False, round_label="R")
    assert p.scaling["R"]["approved_total"] == "150000.00"
    assert {k: v for k, v in _totals(tmp_path / "p").items() if k != "X"} == {"Y1": "33333.34", "Y2": "33333.33"}


@pytest.mark.parametrize("workers", WAYS)
def test_a_preview_with_replace_of_a_changed_committed_claim_scales_as_committing_with_replace(tmp_path: Path, workers: int) -> None:
    # by hand: X (certification, 50,000.00) committed in R, budget 100,000.01; the second batch gives X again with an IP
    # demonstration unit added (100,000.00), then Y1, Y2 (50,000.00 each). Committing with --replace supersedes X's
    # old commit and commits X anew, in input order: R holds X 100,000.00, Y1, Y2: 200,000.00 over 100,000.01, each
    # share x 0.50000005: X 50,000.005, Y1 and Y2 25,000.0025, floored 50,000.00 + 25,000.00 + 25,000.00, the cent
    # left to the largest remainder, X's (0.5 of a cent against 0.25): X 50,000.01, Y1 25,000.00, Y2 25,000.00. A
    # run that only decides, given `replace` (the Python API; the CLI asks for --commit), previews the same
    budgeted, _x, ys, url = _x_committed(tmp_path)
    second = _append(tmp_path / "b.jsonl", [claim(CERT, item(UNIT, "t1"), claim_id="X", id=ENTERPRISE_ID), *ys])
    c_url = _copy_ledger(tmp_path / "l.sqlite", tmp_path / "c.sqlite")
    c = run_batch(budgeted, second, tmp_path / "c", quiet=True, ledger_url=c_url, commit=True, replace=True, round_label="R")
    assert c.replaced == 1 and c.scaling["R"]["approved_total"] == "200000.00"
    assert _totals(tmp_path / "c") == {"X": "50000.01", "Y1": "25000.00", "Y2": "25000.00"}
    p = run_batch(
        budgeted, second, tmp_path / "p", quiet=True, ledger_url=url, commit=False, replace=True, round_label="R", workers=workers
    )
    assert p.scaling["R"]["approved_total"] == "200000.00" and _totals(tmp_path / "p") == _totals(tmp_path / "c")


# --- the foresight's agreement by the claims the run wrote ----------------------------------------------------------


@pytest.mark.parametrize("trace", [False, True])
@pytest.mark.parametrize("commit", [False, True])
def test_a_round_with_failed_and_already_committed_applications_keeps_its_foresight(
    tmp_path: Path, monkeypatch, trace: bool, commit: bool
) -> None:
    # one process: A1..A3 (5万 each) in R, budget 10万, with an application that fails (funding year 2019, no version)
    # between them and a claim already committed (Z, committed by a first run) given again unchanged. `seen` holds
    # the (claim, round) of every line written, Z's too (its line is written), none for the error; the run's
    # scaling is foreseen: kept. By hand: R holds Z (5万, first in commit order), A1, A2, A3: 200,000.00 over
    # 100,000.00, each 25,000.00 exactly
    budgeted = policy_with_budget(tmp_path, "10万")
    z = claim(item(UNIT, "t1"), claim_id="Z", id="91110117MA08RE4W4N")
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    run_batch(budgeted, _append(tmp_path / "z.jsonl", [z]), tmp_path / "first", quiet=True, ledger_url=url, commit=True, round_label="R")  # fmt: skip
    units = [claim(item(UNIT, "t1"), claim_id=f"A{n}", id=i) for n, i in ((1, ENTERPRISE_ID), (2, ENTERPRISE_2_ID), (3, PLATFORM_ID))]
    bad = claim(item(UNIT, "t1"), claim_id="E1", id="91110117MA07RE4W44", funding_year=2019)
    inp = _append(tmp_path / "b.jsonl", [units[0], bad, z, units[1], units[2]])
    after = run_batch(budgeted, inp, tmp_path / "after", quiet=True, ledger_url=_copy_ledger(tmp_path / "l.sqlite", tmp_path / "1.sqlite"), commit=commit, round_label="R", trace=trace, outputs_while_deciding=False)  # fmt: skip
    final = _spy_final_pass(monkeypatch)
    s = run_batch(budgeted, inp, tmp_path / "o", quiet=True, ledger_url=url, commit=commit, round_label="R", trace=trace)
    assert s.failed == 1 and s.scaling == after.scaling
    assert s.scaling["R"]["approved_total"] == "200000.00" and s.scaling["R"]["allocated"] == "100000.00"
    assert _totals(tmp_path / "o") == {"A1": "25000.00", "Z": "25000.00", "A2": "25000.00", "A3": "25000.00"}
    assert _same_outputs(tmp_path / "o", tmp_path / "after")
    assert final == [] or not commit  # (committing: Z already committed keeps its place first, the foresight too)


def test_a_scaled_round_on_one_process_read_from_a_file_whose_name_is_not_utf8(tmp_path: Path, monkeypatch) -> None:
    # the one-process foresight's `seen` with a decision line naming a file whose name is not UTF-8: the same files
    # as made after deciding, kept
    import os

    budgeted = policy_with_budget(tmp_path, "10万")
    named = Path(os.fsdecode(str(tmp_path).encode() + b"/round-\xff.jsonl"))
    _generated_round(named, 19, 80)
    after = run_batch(budgeted, named, tmp_path / "after", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'a.sqlite'}", commit=True, outputs_while_deciding=False)  # fmt: skip
    final = _spy_final_pass(monkeypatch)
    s = run_batch(budgeted, named, tmp_path / "o", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'b.sqlite'}", commit=True)
    assert s.scaling == after.scaling != {} and final == []
    assert _same_outputs(tmp_path / "o", tmp_path / "after")


@pytest.mark.parametrize("workers", WAYS)
def test_a_preview_over_postgresql_pays_what_committing_pays(tmp_path: Path, workers: int) -> None:
    # by hand: X (certification, 50,000.00) committed into R on PostgreSQL, budget 100,000.01; the second batch Y1, Y2
    # (50,000.00 each): R 150,000.00, each share 33,333.3366..., floored, the two cents by commit order: X and Y1
    # 33,333.34, Y2 33,333.33. The preview (the earlier commits read from PostgreSQL into the preview's SQLite ledger)
    # pays what committing into a twin ledger pays, and records nothing
    from test_ledger_support import make_ledger_url

    budgeted = policy_with_budget(tmp_path, "100000.01")
    cert = item("ip_management_certification", "c1")
    x = claim(cert, claim_id="X", id=ENTERPRISE_ID)
    second = _append(tmp_path / "b.jsonl", [claim(cert, claim_id="Y1", id=ENTERPRISE_2_ID), claim(cert, claim_id="Y2", id=PLATFORM_ID)])
    made = [make_ledger_url("postgresql", tmp_path / "a"), make_ledger_url("postgresql", tmp_path / "b")]
    try:
        preview_url, commit_url = next(made[0]), next(made[1])
        first = _append(tmp_path / "a.jsonl", [x])
        for url, out in ((preview_url, "f1"), (commit_url, "f2")):
            run_batch(budgeted, first, tmp_path / out, quiet=True, ledger_url=url, commit=True, round_label="R")
        p = run_batch(budgeted, second, tmp_path / "p", quiet=True, ledger_url=preview_url, commit=False, round_label="R", workers=workers)  # fmt: skip
        c = run_batch(budgeted, second, tmp_path / "c", quiet=True, ledger_url=commit_url, commit=True, round_label="R")
        assert _totals(tmp_path / "c") == {"Y1": "33333.34", "Y2": "33333.33"} == _totals(tmp_path / "p")
        assert p.scaling["R"]["approved_total"] == "150000.00" == c.scaling["R"]["approved_total"] and p.committed == 0
        assert p.approved_total == c.approved_total == Decimal("66666.67")
        from engine.records.ledger import Ledger

        with Ledger(preview_url) as led:  # (nothing recorded: X alone, unscaled)
            assert led.round_years("R") == [2021] and led.round_record("R") is None
    finally:
        for m in made:
            m.close()


# --- a round's budget when the run is not given the version of its latest year ------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_run_not_given_the_version_of_the_rounds_latest_year_says_whose_budget_it_took(tmp_path: Path, lang: str) -> None:
    # by hand: the 2020 measures with 10万, the 2024 draft with 5万. A first run with both commits A1, A2 (funding
    # year 2024, IP demonstration units, 5万 each) into R: 100,000.00 over the draft's 50,000.00, each 25,000.00.
    # A second run given only the 2020 measures commits B1 (2021, 5万) into R. R's latest year's version, the draft,
    # should govern it (given both, the labelled-round case of test_foresight_earlier_grants.py), but this run does
    # not have it: it takes the budget of the latest year it can tell, 2021's (10万): 150,000.00 over 100,000.00,
    # each share 33,333.333..., floored 33,333.33 (99,999.99), the cent to the first in commit order: A1 33,333.34,
    # A2 and B1 33,333.33 -- and says so, naming the year it was not given and what to do (review43b found it silent)
    from engine.core import i18n

    versions = _versions(tmp_path, "10万", "5万")
    in_2024 = [claim(item(UNIT, "t1", date="2024-06-01"), funding_year=2024, claim_id=f"A{n}", id=i) for n, i in ((1, ENTERPRISE_ID), (2, ENTERPRISE_2_ID))]  # fmt: skip
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    first = run_batch(versions, _append(tmp_path / "a.jsonl", in_2024), tmp_path / "first", quiet=True, ledger_url=url, commit=True, round_label="R")  # fmt: skip
    assert first.scaling["R"]["budget"] == "50000.00" and first.warnings == []
    older = policy_with_budget(tmp_path / "old", "10万")
    b1 = _append(tmp_path / "b.jsonl", [claim(item(UNIT, "t1"), claim_id="B1", id=PLATFORM_ID)])
    with i18n.use_language(lang):
        s = run_batch(older, b1, tmp_path / "o", quiet=True, ledger_url=url, commit=True, round_label="R")
        said = [i18n.tr(w) for w in s.warnings]
    assert (s.scaling["R"]["approved_total"], s.scaling["R"]["budget"], s.scaling["R"]["policy_version"]) == (
        "150000.00",
        "100000.00",
        "2020.1",
    )
    assert [(c, a) for c, _r, a, _u in _held(tmp_path / "l.sqlite")] == [("A1", "33333.34"), ("A2", "33333.33"), ("B1", "33333.33")]
    assert said == [
        "轮次 R 含有申报年度 2024 的补助，本次运行没有给出适用于该年度的政策版本：该轮次的预算按 2021 年度的版本 2020.1 确定，"
        "而应按其最晚申报年度的版本确定。请同时给出所有版本重新运行（带 --commit 重新运行时，已记入的申请不会重复记入，该轮次会重新调减）"
        if lang == "zh"
        else "round R holds grants of funding year(s) 2024, for which this run was given no version of the policy: its budget"
        " was taken from the version for 2021 (2020.1), where the version of its latest funding year should govern it. Run"
        " again giving every version (with --commit, the applications already committed are not committed twice, and the"
        " round is scaled again)"
    ]


def test_a_left_round_of_years_the_run_was_not_given_is_left_as_it_is_and_said(tmp_path: Path) -> None:
    # by hand: with both versions, A1 and A2 (funding year 2024, IP demonstration units, 5万 each) in R, the draft's
    # 5万: 25,000.00 each. A run given only the 2020 measures replaces A1 by an application of 2021 under label S: R
    # now holds A2 alone, of 2024, a year no version the run was given covers: the run cannot tell R's budget, so it
    # leaves R as it is (A2 25,000.00, R's record kept) and says so; S holds A1's 50,000.00 under the 10万: unscaled
    from engine.core import i18n

    versions = _versions(tmp_path, "10万", "5万")
    in_2024 = [claim(item(UNIT, "t1", date="2024-06-01"), funding_year=2024, claim_id=f"A{n}", id=i) for n, i in ((1, ENTERPRISE_ID), (2, ENTERPRISE_2_ID))]  # fmt: skip
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    run_batch(versions, _append(tmp_path / "a.jsonl", in_2024), tmp_path / "first", quiet=True, ledger_url=url, commit=True, round_label="R")  # fmt: skip
    older = policy_with_budget(tmp_path / "old", "10万")
    again = _append(tmp_path / "b.jsonl", [claim(item(UNIT, "t1"), claim_id="A1", id=ENTERPRISE_ID)])
    with i18n.use_language("zh"):
        s = run_batch(older, again, tmp_path / "o", quiet=True, ledger_url=url, commit=True, replace=True, round_label="S")
        said = [i18n.tr(w) for w in s.warnings]
    assert s.replaced == 1 and s.scaling == {}
    assert said == [
        "轮次 R 只含有申报年度 2024 的补助，本次运行没有给出适用于这些年度的政策版本：该轮次未重新调减。请同时给出所有版本重新运行",
        "申请 A1 已替换：替换前核定 25,000.00 元，替换后 50,000.00 元，差额 +25,000.00 元（应追回或补发的金额）",
    ]
    assert [(c, r, a) for c, r, a, _u in _held(tmp_path / "l.sqlite")] == [("A1", "S", "50000.00"), ("A2", "R", "25000.00")]
    assert _rounds(tmp_path / "l.sqlite") == ["R"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_left_round_on_either_backend(tmp_path: Path, backend: str) -> None:
    # by hand: A1 and A2 (5万 each) in R, budget 3万: 100,000.00, each 15,000.00. A1 replaced (a later submission
    # date) under label S: R holds A2 alone, 50,000.00, still over: 30,000.00; S holds A1's 50,000.00: 30,000.00.
    # Then A2 replaced under S too: R is left with no active grant and no record (Ledger.unscale_round); S holds both,
    # 100,000.00: 15,000.00 each
    from test_ledger_support import make_ledger_url

    from engine.records.ledger import Ledger

    budgeted = policy_with_budget(tmp_path, "3万")
    units = [claim(item(UNIT, "t1"), claim_id=f"A{n}", id=i) for n, i in ((1, ENTERPRISE_ID), (2, ENTERPRISE_2_ID))]
    made = make_ledger_url(backend, tmp_path)
    url = next(made)
    try:
        run_batch(budgeted, _append(tmp_path / "a.jsonl", units), tmp_path / "first", quiet=True, ledger_url=url, commit=True, round_label="R")  # fmt: skip
        assert _totals(tmp_path / "first") == {"A1": "15000.00", "A2": "15000.00"}

        def held() -> list[tuple[str, str, str]]:
            with Ledger(url) as led:
                rows = led.db.query("SELECT claim_id, round, amount FROM grants WHERE superseded = 0 ORDER BY claim_id")
                return [(str(c), str(r), str(a)) for c, r, a in rows]

        one = run_batch(budgeted, _append(tmp_path / "b.jsonl", [{**units[0], "submission_date": "2022-03-16"}]), tmp_path / "o1", quiet=True, ledger_url=url, commit=True, replace=True, round_label="S")  # fmt: skip
        assert sorted(one.scaling) == ["R", "S"] and one.scaling["R"]["approved_total"] == "50000.00"
        assert held() == [("A1", "S", "30000.00"), ("A2", "R", "30000.00")]
        two = run_batch(budgeted, _append(tmp_path / "c.jsonl", [{**units[1], "submission_date": "2022-03-16"}]), tmp_path / "o2", quiet=True, ledger_url=url, commit=True, replace=True, round_label="S")  # fmt: skip
        assert list(two.scaling) == ["S"] and two.scaling["S"]["approved_total"] == "100000.00"
        assert held() == [("A1", "S", "15000.00"), ("A2", "S", "15000.00")]
        with Ledger(url) as led:
            assert led.round_record("R") is None and led.round_record("S") is not None
    finally:
        made.close()


def test_a_claim_given_twice_in_one_replacing_input_leaves_its_round_once(tmp_path: Path) -> None:
    # by hand: A1, A2, A3 (5万 each) in R, budget 10万 (scaled). One input gives A1 twice (later submission dates)
    # under label S with --replace: the first replaces A1 into S, the second is refused (its claim id again); R now
    # holds A2 and A3, 100,000.00, within its budget: back to 50,000.00 each and R's record gone; S holds A1's
    # 50,000.00, unscaled
    budgeted = policy_with_budget(tmp_path, "10万")
    units = [claim(item(UNIT, "t1"), claim_id=f"A{n}", id=i) for n, i in ((1, ENTERPRISE_ID), (2, ENTERPRISE_2_ID), (3, PLATFORM_ID))]
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    run_batch(budgeted, _append(tmp_path / "a.jsonl", units), tmp_path / "first", quiet=True, ledger_url=url, commit=True, round_label="R")  # fmt: skip
    twice = _append(tmp_path / "b.jsonl", [{**units[0], "submission_date": "2022-03-16"}, {**units[0], "submission_date": "2022-03-17"}])
    s = run_batch(budgeted, twice, tmp_path / "o", quiet=True, ledger_url=url, commit=True, replace=True, round_label="S")
    assert (s.replaced, s.failed, s.scaling) == (1, 1, {})
    assert [(c, r, a) for c, r, a, _u in _held(tmp_path / "l.sqlite")] == [
        ("A1", "S", "50000.00"),
        ("A2", "R", "50000.00"),
        ("A3", "R", "50000.00"),
    ]
    assert _rounds(tmp_path / "l.sqlite") == []
