"""Adversarial cases of a committing run's foresight of a round that already holds an earlier run's grants (session
43: `batch.earlier_share`, `batch.foresight_ledger`, `Ledger.round_commits`; on one process `batch._DryRun.foresee`,
on workers `workers._foresee_round`).

Each case commits a first batch into a ledger, changes the ledger as the case says, then commits (or decides) a
second batch into a copy of it twice: with every output made after deciding by one process (what every run is
held to), and by the way under test (one process making its outputs while deciding, or `workers=2`). Every output
file must be the same; whether the foresight was kept (`_final_pass` not called) is said case by case. The round's
figures are checked by hand from the ledger's own tables and the runs' decisions, not from `round_commits`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import ENTERPRISE_2_ID, ENTERPRISE_ID, PLATFORM_ID, claim, item
from test_batch_outputs import _before_scaling, _copy_ledger, _generated_round, _made_after, _renamed, _same_outputs, _spy_final_pass
from test_ledger_support import make_ledger_url, policy_with_budget
from test_workers_foresight import _versions, _with_2024

from engine.records.batch import run_batch
from engine.records.ledger import Ledger

WAYS = [1, 2]  # one process making the outputs while deciding (the default), two workers


def _decisions(out: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (out / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]


def _errors(out: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]


def _active(path: Path, rnd: str) -> tuple[Decimal, Decimal]:
    """(sum of amounts, sum of amounts before scaling) of the active grants of round `rnd`, read with sqlite3."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT amount, unscaled_amount FROM grants WHERE round = ? AND superseded = 0", (rnd,)).fetchall()
    return sum((Decimal(a) for a, _ in rows), Decimal(0)), sum((Decimal(u) for _, u in rows), Decimal(0))


def _grant_amounts(path: Path, claims: set[str]) -> dict[tuple[str, str], tuple[str, str]]:
    """(claim, item) -> (amount, amount before scaling) of the active grants of `claims`."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT claim_id, item_id, amount, unscaled_amount FROM grants WHERE superseded = 0").fetchall()
    return {(c, i): (a, u) for c, i, a, u in rows if c in claims}


def _first(tmp_path: Path, policy, n: int = 120, **kw) -> Path:  # type: ignore[no-untyped-def]
    """The first batch (generated round, seed 1) committed into l.sqlite; the ledger's path."""
    run_batch(policy, _generated_round(tmp_path / "a.jsonl", 1, n), tmp_path / "first", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}", commit=True, **kw)  # fmt: skip
    return tmp_path / "l.sqlite"


def _spy_fallback(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys of the reasons a workers' run gave the round to one process (`workers.Fallback`)."""
    import engine.records.workers as workers_mod

    why: list[str] = []
    real = workers_mod.decide_round

    def spied(*a, **k):  # type: ignore[no-untyped-def]
        try:
            return real(*a, **k)
        except workers_mod.Fallback as err:
            why.append(err.args[0].key)
            raise

    monkeypatch.setattr(workers_mod, "decide_round", spied)
    return why


def _second_both_ways(tmp_path: Path, monkeypatch, policy, second: Path, workers: int, fallback: str | None = None, **kw):  # type: ignore[no-untyped-def]
    """The second batch into two copies of l.sqlite: made after deciding (1.sqlite) and by the way under test
    (2.sqlite). (its summary, the one made after, whether the way under test made anything after deciding).
    `fallback`: on workers, the reason they give the round to one process, if they must (that process then makes
    every output after deciding)."""
    one = _copy_ledger(tmp_path / "l.sqlite", tmp_path / "1.sqlite")
    two = _copy_ledger(tmp_path / "l.sqlite", tmp_path / "2.sqlite")
    commit = kw.pop("commit", True)
    after = run_batch(policy, second, tmp_path / "after", quiet=True, ledger_url=one, commit=commit, outputs_while_deciding=False, **kw)
    final, why = _spy_final_pass(monkeypatch), _spy_fallback(monkeypatch)
    s = run_batch(policy, second, tmp_path / "o", quiet=True, ledger_url=two, commit=commit, workers=workers, **kw)
    assert s.scaling == after.scaling and s.warnings == after.warnings and s.failed == after.failed
    assert _same_outputs(tmp_path / "o", tmp_path / "after")
    assert why == ([fallback] if fallback and workers > 1 else [])
    return s, after, final != []


def _claim_lines(inp: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for line in inp.read_text(encoding="utf-8").splitlines():
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if isinstance(d.get("items"), list):
            out[d["claim_id"]] = d
    return out


def _append(inp: Path, claims: list[dict[str, Any]]) -> Path:
    with open(inp, "a", encoding="utf-8") as f:
        for c in claims:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    return inp


def _granted_claims(out: Path, least_items: int = 2) -> list[str]:
    """The claim ids of a run's decisions with a grant and at least `least_items` items, in order."""
    return [d["claim_id"] for d in _decisions(out) if d["grants"] and len(d["items"]) >= least_items]


# --- the earlier batch's round already scaled ------------------------------------------------------------------


@pytest.mark.parametrize("workers", WAYS)
def test_an_earlier_batch_already_scaled_is_scaled_again_with_the_second(tmp_path: Path, monkeypatch, workers: int) -> None:
    # the first batch alone asks more than 10万: its grants are scaled when committed (amount != before scaling).
    # The second batch rescales the round over both from the amounts before scaling; the foresight, which imports
    # the first batch's grants as they are (scaled), must scale them from the same start: kept
    budgeted = policy_with_budget(tmp_path, "10万")
    ledger = _first(tmp_path, budgeted, round_label="R")
    first_claims = {d["claim_id"] for d in _decisions(tmp_path / "first")}
    was = _grant_amounts(ledger, first_claims)
    assert any(a != u for a, u in was.values())  # (the premise: already scaled)
    assert _active(ledger, "R")[0] == Decimal("100000.00")
    second = _renamed(_generated_round(tmp_path / "b.jsonl", 2, 120), "B-")
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, workers, round_label="R")
    assert not remade  # (foreseen rightly: kept)
    # by hand: the round's approved total is both batches' own before scaling, read from the ledger's table
    own, earlier = _before_scaling(tmp_path / "o"), _before_scaling(tmp_path / "first")
    allocated, unscaled = _active(tmp_path / "2.sqlite", "R")
    assert own > 0 and earlier > Decimal("100000") and unscaled == own + earlier
    assert s.scaling["R"]["approved_total"] == format(own + earlier, ".2f") and s.scaling["R"]["allocated"] == "100000.00"
    assert allocated == Decimal("100000.00") and s.scaling["R"]["unallocated"] == "0.00"
    now = _grant_amounts(tmp_path / "2.sqlite", first_claims)
    assert {k: u for k, (_a, u) in now.items()} == {k: u for k, (_a, u) in was.items()}  # (before scaling: untouched)
    assert sum(Decimal(a) for a, _u in now.values()) < sum(Decimal(a) for a, _u in was.values())  # (scaled down again)


@pytest.mark.parametrize("workers", WAYS)
@pytest.mark.parametrize(
    ("rounding", "budget"), [("{mode: half_up, remainder: unallocated}", "100000.01"), ("{mode: half_even, quantum: '1'}", "100001")]
)
def test_each_rounding_of_a_round_that_holds_an_earlier_batch(
    tmp_path: Path, monkeypatch, workers: int, rounding: str, budget: str
) -> None:
    # the budget's rounding (mode, remainder, quantum) applied over both batches, in the run and the foresight: kept
    chosen = policy_with_budget(tmp_path, budget, rounding=rounding)
    _first(tmp_path, chosen, 100, round_label="R")
    second = _renamed(_generated_round(tmp_path / "b.jsonl", 2, 100), "B-")
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, chosen, second, workers, round_label="R")
    assert not remade
    record = s.scaling["R"]
    assert record["approved_total"] == format(_before_scaling(tmp_path / "o") + _before_scaling(tmp_path / "first"), ".2f")
    allocated = _active(tmp_path / "2.sqlite", "R")[0]
    assert Decimal(record["allocated"]) == allocated and allocated + Decimal(record["unallocated"]) == Decimal(budget)
    if "unallocated" in rounding:
        assert allocated <= Decimal(budget)
    else:  # whole yuan, exactly the budget
        assert allocated == Decimal(budget) and record["quantum"] == "1"


# --- reversals in the earlier batch --------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", WAYS)
def test_an_earlier_batch_with_reversals(tmp_path: Path, monkeypatch, workers: int) -> None:
    # grants of the first batch reversed (one whole, one in part): a reversal is its own entry, the grant keeps
    # counting, so the round's scaling counts it as granted, in the run and in the foresight alike: kept
    budgeted = policy_with_budget(tmp_path, "10万")
    ledger = _first(tmp_path, budgeted, round_label="R")
    grants = [(g["claim_id"], g["item_id"], Decimal(g["amount"])) for d in _decisions(tmp_path / "first") for g in d["grants"]]
    grants = [g for g in grants if g[2] >= Decimal("0.02")]
    assert len(grants) >= 2
    with Ledger(f"sqlite:///{ledger}") as led:
        led.reverse(grants[0][0], grants[0][1], reason="r", decided_on="2024-03-01")
        led.reverse(grants[1][0], grants[1][1], reason="r", returned=Decimal("0.01"), decided_on="2024-03-01")
    second = _renamed(_generated_round(tmp_path / "b.jsonl", 2, 120), "B-")
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, workers, round_label="R")
    assert not remade
    own, earlier = _before_scaling(tmp_path / "o"), _before_scaling(tmp_path / "first")
    assert s.scaling["R"]["approved_total"] == format(own + earlier, ".2f") and s.scaling["R"]["allocated"] == "100000.00"
    with sqlite3.connect(tmp_path / "2.sqlite") as db:
        assert db.execute("SELECT count(*) FROM reversals").fetchone()[0] == 2  # (kept as recorded)


# --- an earlier claim replaced: its superseded grants do not count -------------------------------------------------


@pytest.mark.parametrize("workers", WAYS)
def test_an_earlier_claim_replaced_counts_its_replacement_only(tmp_path: Path, monkeypatch, workers: int) -> None:
    # a claim of the first batch replaced (its last item taken out) by a run of its own: its superseded grants are
    # still in the grants table but count no more; the foresight imports only the active ones: kept
    budgeted = policy_with_budget(tmp_path, "10万")
    ledger = _first(tmp_path, budgeted, round_label="R")
    victim = _granted_claims(tmp_path / "first")[0]
    changed = _claim_lines(tmp_path / "a.jsonl")[victim]
    changed["items"] = changed["items"][:-1]
    fix = _append(tmp_path / "fix.jsonl", [changed])
    r = run_batch(budgeted, fix, tmp_path / "fix", quiet=True, ledger_url=f"sqlite:///{ledger}", commit=True, replace=True, round_label="R")
    assert r.replaced == 1
    with sqlite3.connect(ledger) as db:  # (the premise: superseded grants in the round)
        assert db.execute("SELECT count(*) FROM grants WHERE round = 'R' AND superseded = 1").fetchone()[0] > 0
    held = _active(ledger, "R")[1]
    first_total = _before_scaling(tmp_path / "first")
    replaced = next(d for d in _decisions(tmp_path / "first") if d["claim_id"] == victim)
    by_fix = _before_scaling(tmp_path / "fix")
    # by hand: the round holds the first batch less the old claim, plus its replacement
    assert held == first_total - Decimal(replaced.get("total_before_scaling", replaced["total"])) + by_fix
    second = _renamed(_generated_round(tmp_path / "b.jsonl", 2, 120), "B-")
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, workers, round_label="R")
    assert not remade
    own = _before_scaling(tmp_path / "o")
    assert s.scaling["R"]["approved_total"] == format(held + own, ".2f") and s.scaling["R"]["allocated"] == "100000.00"


# --- the second batch replaces some of the first batch's claims ---------------------------------------------------


@pytest.mark.parametrize("workers", WAYS)
def test_a_second_batch_replacing_claims_of_the_first(tmp_path: Path, monkeypatch, workers: int) -> None:
    # `replace=True`: the second batch (its own claims renamed) re-submits two claims of the first with an item
    # taken out. The run replaces them (their old commits superseded, the new at the end); the foresight leaves their
    # old commits out and decides them afresh over the first batch's history, which still holds their own old
    # grants (a limit once per patent then refuses what the run grants): the foresight may disagree. Whatever it
    # did, the files are those made after deciding. (workers: a claim already committed decides the round on one
    # process, batch.fallback.committed, which since session 44 makes its outputs while deciding as a run on one does)
    budgeted = policy_with_budget(tmp_path, "10万")
    _first(tmp_path, budgeted, round_label="R")
    victims = _granted_claims(tmp_path / "first")[:2]
    lines = _claim_lines(tmp_path / "a.jsonl")
    changed = [{**lines[v], "items": lines[v]["items"][:-1]} for v in victims]
    second = _append(_renamed(_generated_round(tmp_path / "b.jsonl", 2, 100), "B-"), changed)
    s, after, remade = _second_both_ways(
        tmp_path, monkeypatch, budgeted, second, workers, "batch.fallback.committed", round_label="R", replace=True
    )
    assert s.replaced == after.replaced == 2
    # one process: the foresight decides the two afresh over the snapshot, whose history leaves a claim's own grants
    # out (`history_for`), so as the run does; their new commits come last in both: foreseen rightly, kept
    assert not remade
    # by hand: the round is the first batch less the two old claims, plus this batch (the two new ones among it)
    old = sum(Decimal(d.get("total_before_scaling", d["total"])) for d in _decisions(tmp_path / "first") if d["claim_id"] in victims)
    own, earlier = _before_scaling(tmp_path / "o"), _before_scaling(tmp_path / "first")
    assert _active(tmp_path / "2.sqlite", "R")[1] == earlier - old + own
    assert s.scaling["R"]["approved_total"] == format(earlier - old + own, ".2f") and s.scaling["R"]["allocated"] == "100000.00"


@pytest.mark.parametrize("workers", WAYS)
def test_a_replacement_of_a_reversed_claim_refused_by_the_run(tmp_path: Path, monkeypatch, workers: int) -> None:
    # a claim of the first batch whose grant was reversed cannot be replaced (ledger.replace_reversed): the run
    # refuses it and its old grants stay in the round. The foresight refuses it too (`Ledger.committed_round`; before
    # session 44 it decided it afresh and counted its new grants instead: a wrong foresight, thrown away), and the
    # workers' run is given to one process (the input holds a committed claim): kept either way, the files those made after
    budgeted = policy_with_budget(tmp_path, "10万")
    ledger = _first(tmp_path, budgeted, round_label="R")
    victim = _granted_claims(tmp_path / "first")[0]
    g = next(d for d in _decisions(tmp_path / "first") if d["claim_id"] == victim)["grants"][0]
    with Ledger(f"sqlite:///{ledger}") as led:
        led.reverse(victim, g["item_id"], reason="r", decided_on="2024-03-01")
    held = _active(ledger, "R")[1]
    lines = _claim_lines(tmp_path / "a.jsonl")
    second = _append(
        _renamed(_generated_round(tmp_path / "b.jsonl", 2, 100), "B-"), [{**lines[victim], "items": lines[victim]["items"][:-1]}]
    )
    s, _after, remade = _second_both_ways(
        tmp_path, monkeypatch, budgeted, second, workers, "batch.fallback.committed", round_label="R", replace=True
    )
    assert [e["claim_id"] for e in _errors(tmp_path / "o") if e["claim_id"] == victim] == [victim]
    assert s.scaling["R"]["approved_total"] == format(held + _before_scaling(tmp_path / "o"), ".2f")
    assert not remade


# --- claims of the first batch given again -------------------------------------------------------------------------


@pytest.mark.parametrize("workers", WAYS)
def test_claims_of_the_first_batch_given_again_unchanged(tmp_path: Path, monkeypatch, workers: int) -> None:
    # two claims of the first batch given again exactly (no replace): the run finds them already committed and
    # commits nothing; their grants stay in the round at their old place in commit order. The foresight counts them
    # so too (`earlier_share`: the same content hash, their committed grants kept in place; before review43b's round
    # it committed them afresh after the first batch, the same total with other ties). Whatever it did, the files are
    # those made after deciding
    budgeted = policy_with_budget(tmp_path, "10万")
    _first(tmp_path, budgeted, round_label="R")
    victims = _granted_claims(tmp_path / "first")[:2]
    lines = _claim_lines(tmp_path / "a.jsonl")
    second = _append(_renamed(_generated_round(tmp_path / "b.jsonl", 2, 100), "B-"), [lines[v] for v in victims])
    s, after, _remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, workers, "batch.fallback.committed", round_label="R")
    own_new = _before_scaling(tmp_path / "o") - sum(
        Decimal(d.get("total_before_scaling", d["total"])) for d in _decisions(tmp_path / "o") if d["claim_id"] in victims
    )
    assert s.scaling["R"]["approved_total"] == format(_before_scaling(tmp_path / "first") + own_new, ".2f")
    assert s.committed == after.committed


@pytest.mark.parametrize("workers", WAYS)
def test_a_claim_of_the_first_batch_given_again_in_a_year_no_version_covers(tmp_path: Path, monkeypatch, workers: int) -> None:
    # a claim id of the first batch given again in funding year 2019 (no version covers it): an error in the run and
    # in the foresight alike; its old grants stay in the round and are imported (not one of the run's decided
    # claims): kept
    budgeted = policy_with_budget(tmp_path, "10万")
    _first(tmp_path, budgeted, round_label="R")
    victim = _granted_claims(tmp_path / "first")[0]
    second = _append(_renamed(_generated_round(tmp_path / "b.jsonl", 2, 100), "B-"), [{**_claim_lines(tmp_path / "a.jsonl")[victim], "funding_year": 2019}])  # fmt: skip
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, workers, "batch.fallback.committed", round_label="R")
    assert victim in {e["claim_id"] for e in _errors(tmp_path / "o")}
    own, earlier = _before_scaling(tmp_path / "o"), _before_scaling(tmp_path / "first")
    assert s.scaling["R"]["approved_total"] == format(own + earlier, ".2f")
    assert not remade  # (on workers: the round on one process, which makes its outputs while deciding)


# --- several rounds, and a round the run does not touch -----------------------------------------------------------


@pytest.mark.parametrize("workers", WAYS)
@pytest.mark.parametrize(("b2020", "b2024"), [("10万", "5万"), ("10万", None)])
def test_earlier_grants_in_several_rounds_and_in_one_the_run_does_not_touch(
    tmp_path: Path, monkeypatch, workers: int, b2020: str, b2024: str | None
) -> None:
    # no round label: each funding year its own round, each scaled by its version's budget. The first batch holds
    # grants in every year's round and, committed under a label of its own, in round OTHER, which the second batch
    # does not decide: OTHER is neither imported nor rescaled; every year's round counts both batches: kept
    versions = _versions(tmp_path, b2020, b2024)
    _first(tmp_path, versions)
    other = _renamed(_generated_round(tmp_path / "c.jsonl", 3, 60), "C-")
    run_batch(versions, other, tmp_path / "other", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}", commit=True, round_label="OTHER")  # fmt: skip
    other_was = _active(tmp_path / "l.sqlite", "OTHER")
    second = _renamed(_with_2024(_generated_round(tmp_path / "b.jsonl", 2, 150)), "B-")
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, versions, second, workers)
    assert not remade
    assert "OTHER" not in s.scaling and _active(tmp_path / "2.sqlite", "OTHER") == other_was
    # by hand, round by round: the first batch's and this one's decisions in it, before scaling
    by_round: dict[str, Decimal] = {}
    for d in [*_decisions(tmp_path / "first"), *_decisions(tmp_path / "o")]:
        rnd = d["ledger"]["round"]
        by_round[rnd] = by_round.get(rnd, Decimal(0)) + Decimal(d.get("total_before_scaling", d["total"]))
    assert len(s.scaling) >= 3  # (2021-2023 at least)
    for rnd, record in s.scaling.items():
        assert record["approved_total"] == format(by_round[rnd], ".2f") == format(_active(tmp_path / "2.sqlite", rnd)[1], ".2f")
        assert record["allocated"] == record["budget"] and Decimal(record["allocated"]) == _active(tmp_path / "2.sqlite", rnd)[0]


# --- deciding only --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", WAYS)
def test_a_decide_only_run_over_a_round_with_earlier_grants_previews_it_as_committing_would(
    tmp_path: Path, monkeypatch, workers: int
) -> None:
    # a run that does not commit decides into a scratch ledger over the real one, and scales its rounds as committing
    # the same input would: the first batch's grants in R counted, ahead of its own (`batch.previewed`), and so does
    # its foresight: kept. The ledger is unchanged; the round's figures and every decision's scaled grants are those of
    # committing the input. (Until session 43 it scaled its own grants alone, and previewed more than committing paid)
    budgeted = policy_with_budget(tmp_path, "10万")
    ledger = _first(tmp_path, budgeted, round_label="R")
    was = _active(ledger, "R")
    second = _renamed(_generated_round(tmp_path / "b.jsonl", 2, 120), "B-")
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, workers, round_label="R", commit=False)
    assert not remade and s.committed == 0
    own, earlier = _before_scaling(tmp_path / "o"), _before_scaling(tmp_path / "first")
    assert earlier > 0 and s.scaling["R"]["approved_total"] == format(own + earlier, ".2f")
    assert s.scaling["R"]["allocated"] == "100000.00"
    assert _active(tmp_path / "2.sqlite", "R") == was  # (nothing recorded)
    url = _copy_ledger(ledger, tmp_path / "3.sqlite")
    committed = run_batch(budgeted, second, tmp_path / "c", quiet=True, ledger_url=url, commit=True, round_label="R")
    assert {k: v for k, v in s.scaling["R"].items() if k != "scaled_at"} == {
        k: v for k, v in committed.scaling["R"].items() if k != "scaled_at"
    }

    def scaled(out: Path) -> list[tuple[str, str, list[tuple[str, str]]]]:
        return [(d["claim_id"], d["total"], [(g["item_id"], g["amount"]) for g in d["grants"]]) for d in _decisions(out)]

    assert scaled(tmp_path / "o") == scaled(tmp_path / "c") and s.approved_total == committed.approved_total


# --- PostgreSQL -------------------------------------------------------------------------------------------------------


@pytest.fixture
def pg_two(tmp_path: Path) -> Iterator[tuple[str, str]]:
    made = [make_ledger_url("postgresql", tmp_path / "a"), make_ledger_url("postgresql", tmp_path / "b")]
    urls = (next(made[0]), next(made[1]))
    yield urls
    for m in made:
        m.close()


@pytest.mark.parametrize("workers", WAYS)
def test_an_earlier_batch_already_scaled_on_postgresql(tmp_path: Path, monkeypatch, workers: int, pg_two) -> None:
    # the first case on PostgreSQL: the earlier commits are read from PostgreSQL (round_commits, export_commit) into
    # the foresight's SQLite ledger in memory; the files are those of the same run made after deciding: kept
    budgeted = policy_with_budget(tmp_path, "10万")
    first = _generated_round(tmp_path / "a.jsonl", 1, 120)
    second = _renamed(_generated_round(tmp_path / "b.jsonl", 2, 120), "B-")
    for url, out in zip(pg_two, ("first-1", "first-2"), strict=True):
        run_batch(budgeted, first, tmp_path / out, quiet=True, ledger_url=url, commit=True, round_label="R")
    after = _made_after(budgeted, second, tmp_path / "after", pg_two[0], round_label="R")
    final = _spy_final_pass(monkeypatch)
    s = run_batch(budgeted, second, tmp_path / "o", quiet=True, ledger_url=pg_two[1], commit=True, round_label="R", workers=workers)
    assert s.scaling == after.scaling and final == []
    own, earlier = _before_scaling(tmp_path / "o"), _before_scaling(tmp_path / "first-2")
    assert s.scaling["R"]["approved_total"] == format(own + earlier, ".2f") and s.scaling["R"]["allocated"] == "100000.00"
    assert _same_outputs(tmp_path / "o", tmp_path / "after")


@pytest.mark.parametrize("where", ["first", "last"])
def test_a_claim_given_again_unchanged_breaks_a_tie_by_its_old_place(tmp_path: Path, monkeypatch, where: str) -> None:
    # by hand: three enterprises' certification grants of 50,000.00 each (R17) in round R, budget 100,000.01.
    # Each exact share is 50,000 x 100,000.01 / 150,000 = 33,333.3366..., floored 33,333.33: 99,999.99 in all, two
    # cents short; the three remainders are equal, so the two cents go by commit order. X was committed by the first
    # batch (commit 1); the second batch gives Y1, Y2 and X again, unchanged: the run finds X already committed, so
    # the order is X, Y1, Y2: X and Y1 get 33,333.34, Y2 33,333.33. The foresight counts X as the run does, by its
    # old commit in its place (`earlier_share`'s kept claims), wherever X is in the input: kept both ways. (Before
    # review43b's round, it committed X afresh in its place in the input: given last, Y1, Y2, X, X got 33,333.33 and
    # Y2 33,333.34, and the foresight was thrown away.) The files are right either way
    budgeted = policy_with_budget(tmp_path, "100000.01")
    cert = item("ip_management_certification", "c1")
    x = claim(cert, claim_id="X", id=ENTERPRISE_ID)
    ys = [claim(cert, claim_id="Y1", id=ENTERPRISE_2_ID), claim(cert, claim_id="Y2", id=PLATFORM_ID)]
    first = _append(tmp_path / "a.jsonl", [x])
    run_batch(budgeted, first, tmp_path / "first", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}", commit=True, round_label="R")  # fmt: skip
    assert [d["total"] for d in _decisions(tmp_path / "first")] == ["50000.00"]  # (within the budget alone: not scaled)
    second = _append(tmp_path / "b.jsonl", [x, *ys] if where == "first" else [*ys, x])
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, 1, round_label="R")
    assert s.scaling["R"]["approved_total"] == "150000.00" and s.scaling["R"]["allocated"] == "100000.01"
    with sqlite3.connect(tmp_path / "2.sqlite") as db:
        held = dict(db.execute("SELECT claim_id, amount FROM grants WHERE superseded = 0 ORDER BY claim_id").fetchall())
    assert held == {"X": "33333.34", "Y1": "33333.34", "Y2": "33333.33"}
    assert {d["claim_id"]: d["total"] for d in _decisions(tmp_path / "o")} == {"X": "33333.34", "Y1": "33333.34", "Y2": "33333.33"}
    assert not remade


@pytest.mark.parametrize("workers", WAYS)
def test_claims_given_again_unchanged_into_another_round(tmp_path: Path, monkeypatch, workers: int) -> None:
    # the first batch committed under round label R; the second, without a label (each funding year its own round),
    # gives two of its claims again unchanged: the run finds them already committed, in R, and so counts R among the
    # rounds it decided and rescales it. The foresight finds them so too (`Ledger.committed_round`: their round is
    # R; before session 44 it committed them afresh into their funding years' rounds, and what it made was thrown
    # away): kept. The files are those made after deciding
    budgeted = policy_with_budget(tmp_path, "10万")
    _first(tmp_path, budgeted, round_label="R")
    victims = _granted_claims(tmp_path / "first")[:2]
    lines = _claim_lines(tmp_path / "a.jsonl")
    second = _append(_renamed(_generated_round(tmp_path / "b.jsonl", 2, 100), "B-"), [lines[v] for v in victims])
    s, _after, remade = _second_both_ways(tmp_path, monkeypatch, budgeted, second, workers, "batch.fallback.committed")
    # R: the first batch alone, its figures unchanged
    assert "R" in s.scaling and s.scaling["R"]["approved_total"] == format(_before_scaling(tmp_path / "first"), ".2f")
    assert not remade


# --- a labelled round's budget is the version of the round's latest funding year, whichever batch brought it ------


def test_a_labelled_round_holding_a_later_years_grants_keeps_that_years_budget(tmp_path: Path) -> None:
    # by hand: the 2020 measures with a round budget of 10万, the 2024 draft with 5万. The first batch commits two
    # Beijing IP demonstration units of funding year 2024 (5万 each, fixed) into round R: 100,000.00 over the
    # draft's 50,000.00, scaled x 0.5 (the draft's version named). The second commits one of 2021 (5万) into R: R
    # now spans 2021 and 2024, so its latest year's version, the draft, governs it: budget 50,000.00 over 150,000.00,
    # factor 0.333333; each share 16,666.666..., floored 16,666.66 (49,999.98), the two cents left by commit
    # order: A1 and A2 16,666.67, B1 16,666.66. (Before session 43 the run scaled R to 10万 by the 2020 measures, the
    # version of its own latest year: the total granted depended on the order the batches came in)
    versions = _versions(tmp_path, "10万", "5万")
    unit = "beijing_ip_demonstration_unit"
    in_2024 = [claim(item(unit, "t1", date="2024-06-01"), funding_year=2024, claim_id=f"A{n}", id=i) for n, i in ((1, ENTERPRISE_ID), (2, ENTERPRISE_2_ID))]  # fmt: skip
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    first = run_batch(versions, _append(tmp_path / "a.jsonl", in_2024), tmp_path / "first", quiet=True, ledger_url=url, commit=True, round_label="R")  # fmt: skip
    assert first.scaling["R"]["budget"] == "50000.00" and first.scaling["R"]["policy_version"] == "2024.1-draft"
    in_2021 = _append(tmp_path / "b.jsonl", [claim(item(unit, "t1"), claim_id="B1", id=PLATFORM_ID)])
    s = run_batch(versions, in_2021, tmp_path / "o", quiet=True, ledger_url=url, commit=True, round_label="R")
    assert s.scaling["R"]["approved_total"] == "150000.00"  # (the premise: both batches counted)
    assert (s.scaling["R"]["budget"], s.scaling["R"]["policy_version"]) == ("50000.00", "2024.1-draft")
    assert s.scaling["R"].get("decided_by_versions") == "2020.1, 2024.1-draft"
    with sqlite3.connect(tmp_path / "l.sqlite") as db:
        held = dict(db.execute("SELECT claim_id, amount FROM grants WHERE superseded = 0").fetchall())
    assert held == {"A1": "16666.67", "A2": "16666.67", "B1": "16666.66"}


def test_a_claim_replaced_into_another_round_rescales_the_round_it_left(tmp_path: Path) -> None:
    # by hand: three Beijing IP demonstration units (5万 each, fixed) in round R with a budget of 10万: 150,000.00,
    # each share 33,333.333..., floored 33,333.33 (99,999.99), the cent left to A1 (first in commit order). A1 is then
    # replaced (a later submission date) by a run under round label S: its grants in R are superseded, so R holds
    # A2 and A3, 100,000.00, within the budget: back to 50,000.00 each and no scaling record for R (as scaling R again
    # gives: it always starts from the amounts before scaling). S holds A1's 50,000.00 alone, not scaled
    budgeted = policy_with_budget(tmp_path, "10万")
    unit = "beijing_ip_demonstration_unit"
    units = [claim(item(unit, "t1"), claim_id=f"A{n}", id=i) for n, i in ((1, ENTERPRISE_ID), (2, ENTERPRISE_2_ID), (3, PLATFORM_ID))]
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    first = run_batch(budgeted, _append(tmp_path / "a.jsonl", units), tmp_path / "first", quiet=True, ledger_url=url, commit=True, round_label="R")  # fmt: skip
    assert (first.scaling["R"]["approved_total"], first.scaling["R"]["allocated"]) == ("150000.00", "100000.00")
    amended = _append(tmp_path / "b.jsonl", [{**units[0], "submission_date": "2022-03-16"}])
    s = run_batch(budgeted, amended, tmp_path / "o", quiet=True, ledger_url=url, commit=True, replace=True, round_label="S")
    assert s.replaced == 1 and s.scaling == {}
    with sqlite3.connect(tmp_path / "l.sqlite") as db:
        held = db.execute("SELECT claim_id, round, amount FROM grants WHERE superseded = 0 ORDER BY claim_id").fetchall()
        assert held[0] == ("A1", "S", "50000.00")  # (the premise: replaced into S)
        assert held[1:] == [("A2", "R", "50000.00"), ("A3", "R", "50000.00")]
        assert db.execute("SELECT count(*) FROM rounds WHERE round = 'R'").fetchone()[0] == 0


def test_a_claim_replaced_out_of_a_round_it_alone_held_leaves_it_unscaled(tmp_path: Path) -> None:
    # by hand: one Beijing IP demonstration unit (5万, fixed) in round R with a budget of 3万: scaled to 30,000.00.
    # Replaced under round label S, it leaves R with no active grant: R's scaling record goes (`Ledger.unscale_round`;
    # nothing is left to scale), and S holds its 50,000.00, over the budget: scaled to 30,000.00
    budgeted = policy_with_budget(tmp_path, "3万")
    only = claim(item("beijing_ip_demonstration_unit", "t1"), claim_id="A1")
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    first = run_batch(budgeted, _append(tmp_path / "a.jsonl", [only]), tmp_path / "first", quiet=True, ledger_url=url, commit=True, round_label="R")  # fmt: skip
    assert (first.scaling["R"]["approved_total"], first.scaling["R"]["allocated"]) == ("50000.00", "30000.00")
    amended = _append(tmp_path / "b.jsonl", [{**only, "submission_date": "2022-03-16"}])
    s = run_batch(budgeted, amended, tmp_path / "o", quiet=True, ledger_url=url, commit=True, replace=True, round_label="S")
    assert s.replaced == 1 and list(s.scaling) == ["S"]
    assert (s.scaling["S"]["approved_total"], s.scaling["S"]["allocated"]) == ("50000.00", "30000.00")
    with sqlite3.connect(tmp_path / "l.sqlite") as db:
        assert db.execute("SELECT round FROM rounds").fetchall() == [("S",)]
        held = db.execute("SELECT round, amount, unscaled_amount FROM grants WHERE superseded = 0").fetchall()
        assert held == [("S", "30000.00", "50000.00")]


# --- a replaced claim's old grants in the history of a later claim ---------------------------------------------------


@pytest.mark.parametrize("workers", WAYS)
def test_a_replaced_claims_old_grants_are_not_the_history_of_a_later_claim(tmp_path: Path, monkeypatch, workers: int) -> None:
    # R11: half the interest paid on a pledged loan, within 300,000 an enterprise a funding year. The first batch: X,
    # 400,000 of interest, 200,000. The second, `replace`: X again with 200,000 of interest (100,000), then Y of the
    # same enterprise, 400,000 (200,000 wanted). The run supersedes X's old commit before it decides X anew, so Y's
    # history is X's new 100,000: Y gets 200,000, the cap's rest. A foresight that counted X's old 200,000 beside its
    # new 100,000 gave Y 0.00 and was thrown away. The round, 20万 budget: 100,000 + 200,000 = 300,000 approved,
    # scaled by 2/3 to 66,666.67 and 133,333.33 (the first batch's X superseded, nothing else in R)
    budgeted, second = _replacing_x_then_y(tmp_path)
    s, _after, remade = _second_both_ways(
        tmp_path, monkeypatch, budgeted, second, workers, "batch.fallback.committed", round_label="R", replace=True
    )
    assert s.replaced == 1 and s.committed == 1
    assert {d["claim_id"]: (d["total_before_scaling"], d["total"]) for d in _decisions(tmp_path / "o")} == {
        "X": ("100000.00", "66666.67"),
        "Y": ("200000.00", "133333.33"),
    }
    assert s.scaling["R"]["approved_total"] == "300000.00" and s.scaling["R"]["allocated"] == "200000.00"
    assert not remade


def test_a_preview_of_replacements_decides_a_later_claim_as_committing_them_does(tmp_path: Path) -> None:
    # the case above decided only (no `commit`), with `replace`: the run's own decisions count X's new grants, not its
    # old ones beside them (`Ledger._over`), so Y's figures are those of committing: 200,000 before scaling, 133,333.33
    budgeted, second = _replacing_x_then_y(tmp_path)
    s = run_batch(budgeted, second, tmp_path / "o", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}", round_label="R", replace=True)  # fmt: skip
    assert {d["claim_id"]: (d["total_before_scaling"], d["total"]) for d in _decisions(tmp_path / "o")} == {
        "X": ("100000.00", "66666.67"),
        "Y": ("200000.00", "133333.33"),
    }
    assert s.scaling["R"]["approved_total"] == "300000.00" and _active(tmp_path / "l.sqlite", "R") == (Decimal("200000.00"),) * 2


def _replacing_x_then_y(tmp_path: Path) -> tuple[Any, Path]:
    """The policy with a 20万 round budget; X (400,000 of interest) committed into l.sqlite under round R; the second
    batch's input: X again with 200,000 of interest, then Y of the same enterprise with 400,000."""
    budgeted = policy_with_budget(tmp_path, "20万")

    def loan(claim_id: str, interest: str) -> dict[str, Any]:
        return claim(item("pledge_loan_interest", "l1", loan_id=f"LOAN-{claim_id}", annual_interest_paid=interest), claim_id=claim_id)

    first = tmp_path / "a.jsonl"
    first.write_text(json.dumps(loan("X", "400000.00")) + "\n", encoding="utf-8")
    run_batch(budgeted, first, tmp_path / "first", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}", commit=True, round_label="R")  # fmt: skip
    assert [d["total"] for d in _decisions(tmp_path / "first")] == ["200000.00"]  # (one grant, 20万 budget: not scaled)
    second = tmp_path / "b.jsonl"
    second.write_text("".join(json.dumps(c) + "\n" for c in (loan("X", "200000.00"), loan("Y", "400000.00"))), encoding="utf-8")
    return budgeted, second
