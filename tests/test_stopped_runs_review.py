"""review45: adversarial cases of session 45's two changes.

a0455582: a run that stops part way leaves errors.jsonl and what it decided (decisions.partial.jsonl, or a whole
decisions.jsonl) and no summary, neither half made nor an earlier run's (`batch._stopped_part_way`); an input kept in
the output folder is never removed. Each way a run stops is tried with an earlier run's seven files in the folder
(`_earlier`): what is left must be this run's alone.

45be8abc: a preview's round counts a held claim as committing finds it, in any hash form (`Ledger.stands_below`,
`DecidedCommit.stands_below`, `batch.earlier_share(..., stands)`): on workers and without --replace too, on
PostgreSQL, and what a reused scratch ledger or the real ledger of a committing run does with the map.

The example round (examples/round_2021.jsonl) holds PG-2022-0001 .. PG-2022-0007 in that order, one a line; decided
without a ledger the 6th, PG-2022-0006, is an error record (an official fee of '12.345': at most two decimals), the
other six are decided (checked in `_earlier`).
What is found and not mended is an `xfail(strict=True)` with its reason."""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import shutil
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import ENTERPRISE_2_ID, ENTERPRISE_ID, PLATFORM_ID, claim, item
from test_batch_outputs import _generated_round
from test_foresight_refusals_review import TIE, WAYS, _loan, _preview_both_ways, _tie_in_full, _totals, _write, _x_committed
from test_ledger_cli import batch_main, stop_at
from test_ledger_support import EXAMPLE_ROUND, make_ledger_url, policy_with_budget

import engine
from engine.core.i18n import msg, tr
from engine.records.batch import run_batch
from engine.records.inputs import InputError
from engine.records.ledger import DecidedCommit, Ledger, _digest, stated_in_full
from engine.records.tabular import OutputError

ROOT = Path(__file__).resolve().parent.parent
EARLIER = [
    "decisions.jsonl",
    "errors.jsonl",
    "report.html",
    "summary.json",
    "summary.xlsx",
    "summary_applications.csv",
    "summary_items.csv",
]
LEFT_STOPPED = ["decisions.partial.jsonl", "errors.jsonl"]  # (what a run stopped while deciding leaves: no summary)


def _earlier(policy: Any, out: Path) -> None:
    """An earlier run's seven outputs in `out`: the example round decided without a ledger (6 decisions, 0006 an error)."""
    run_batch(policy, EXAMPLE_ROUND, out, quiet=True, without_ledger=True)
    assert sorted(f.name for f in out.iterdir()) == EARLIER
    assert len(_lines(out / "decisions.jsonl")) == 6 and [e["claim_id"] for e in _lines(out / "errors.jsonl")] == ["PG-2022-0006"]


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _names(out: Path) -> list[str]:
    return sorted(f.name for f in out.iterdir())


def _stop_at(n: int, error: BaseException | None = None):  # type: ignore[no-untyped-def]
    """An `on_decided` raising `error` (Ctrl-C) once `n` applications are written."""

    def on_decided(done: int) -> None:
        if done == n:
            raise error or KeyboardInterrupt

    return on_decided


# --- what a stopped run removes: never the input ------------------------------------------------------------------


@pytest.mark.parametrize("selector", ["round.jsonl:3", "round.xlsx:PG-2022-0003"])
def test_a_stopped_run_of_one_selected_application_leaves_no_earlier_summary(policy, tmp_path: Path, selector: str) -> None:
    # batch reads `FILE:N` (one application, README "Inputs"). Stopped (Ctrl-C) once that one application is written,
    # the run must leave only its own files. Found: `_stopped_part_way` asked `os.path.samefile(out/name, "round.jsonl:3")`,
    # which raises for a path that is not there, and the OSError it suppresses skipped every removal: the earlier
    # run's decisions.jsonl (6 lines), summary.json and workbook stayed beside this run's one decision
    shutil.copy(EXAMPLE_ROUND, tmp_path / "round.jsonl")
    shutil.copy(ROOT / "examples" / "round_2021.xlsx", tmp_path / "round.xlsx")
    out = tmp_path / "o"
    _earlier(policy, out)
    with pytest.raises(KeyboardInterrupt):
        run_batch(policy, f"{tmp_path}/{selector}", out, quiet=True, without_ledger=True, on_decided=_stop_at(1))
    assert _names(out) == LEFT_STOPPED
    # the third application of either file is PG-2022-0003 (line 3 of the JSON Lines; its id picked in the workbook)
    assert [d["claim_id"] for d in _lines(out / "decisions.partial.jsonl")] == ["PG-2022-0003"]


def test_a_folder_input_inside_the_output_folder_is_kept(policy, tmp_path: Path) -> None:
    # the input a folder inside --out (allowed: only --out the input folder itself is refused): stopped at the 3rd
    # application, the run removes the earlier run's files and leaves the folder and its file as they were
    out = tmp_path / "o"
    _earlier(policy, out)
    (out / "claims").mkdir()
    shutil.copy(EXAMPLE_ROUND, out / "claims" / "round.jsonl")
    with pytest.raises(KeyboardInterrupt):
        run_batch(policy, out / "claims", out, quiet=True, without_ledger=True, on_decided=_stop_at(3))
    assert _names(out) == sorted(["claims", *LEFT_STOPPED])
    assert (out / "claims" / "round.jsonl").read_bytes() == EXAMPLE_ROUND.read_bytes()
    assert [d["claim_id"] for d in _lines(out / "decisions.partial.jsonl")] == ["PG-2022-0001", "PG-2022-0002", "PG-2022-0003"]


@pytest.mark.parametrize("given", ["link", "target", "relative"])
def test_an_input_read_through_a_link_or_a_relative_path_is_kept(policy, tmp_path: Path, monkeypatch, given: str) -> None:
    # the example workbook in the output folder under the name of a summary (summary.xlsx), read as it is (relative to
    # the working folder), or through a link to it from elsewhere; or the workbook elsewhere and a link to it named
    # summary.xlsx in the output folder, reading the workbook itself. Review45 found the stopped run kept them; since
    # then the run refuses to start (OutputError, exit 2: the run's workbook would be written over the input), and
    # nothing in the folder is touched
    out = tmp_path / "o"
    _earlier(policy, out)
    before = (ROOT / "examples" / "round_2021.xlsx").read_bytes()
    (out / "summary.xlsx").unlink()
    if given == "target":  # (the workbook elsewhere, a link to it in the folder)
        shutil.copy(ROOT / "examples" / "round_2021.xlsx", tmp_path / "round.xlsx")
        (out / "summary.xlsx").symlink_to(tmp_path / "round.xlsx")
        inp: str | Path = tmp_path / "round.xlsx"
    else:
        shutil.copy(ROOT / "examples" / "round_2021.xlsx", out / "summary.xlsx")
        (tmp_path / "link.xlsx").symlink_to(out / "summary.xlsx")
        inp = tmp_path / "link.xlsx"
        if given == "relative":
            monkeypatch.chdir(out)
            inp = "summary.xlsx"
    with pytest.raises(OutputError, match=r"summary\.xlsx"):
        run_batch(policy, inp, out if given != "relative" else ".", quiet=True, without_ledger=True, on_decided=_stop_at(2))
    assert _names(out) == EARLIER and (out / "summary.xlsx").read_bytes() == before


def test_a_file_of_a_folder_input_linked_from_the_output_folder_is_kept(policy, tmp_path: Path) -> None:
    # the folder input holds a link to a claims file kept in the output folder under a summary's name (summary.json: a
    # JSON list of the example round's first three applications). `samefile(out/summary.json, the folder)` is false:
    # found, the stopped run removed the file the input reads through its link (the link left dangling). Since then
    # the run refuses to start (OutputError, exit 2: it would write summary.json over it); nothing is touched
    out = tmp_path / "o"
    _earlier(policy, out)
    claims = [json.loads(line) for line in EXAMPLE_ROUND.read_text(encoding="utf-8").splitlines()[:3]]
    (out / "summary.json").write_text(json.dumps(claims, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "round.json").symlink_to(out / "summary.json")
    with pytest.raises(OutputError, match=r"summary\.json"):
        run_batch(policy, tmp_path / "in", out, quiet=True, without_ledger=True, on_decided=_stop_at(2))
    assert _names(out) == EARLIER
    assert json.loads((tmp_path / "in" / "round.json").read_text(encoding="utf-8")) == claims


def test_a_workbook_in_the_output_folder_refused_whole_is_kept(policy, tmp_path: Path) -> None:
    # the officer's workbook kept in the output folder as summary.xlsx, its sheets misnamed (one sheet, `other`): the
    # input as a whole cannot be read (exit 1; `_input_failed`). Found: `_input_failed` removed every output name,
    # the officer's workbook with them (the earlier path, before session 45's). Since then the run refuses to start
    # before it reads the input (OutputError, exit 2: its own summary.xlsx would be written over it), nothing touched
    import openpyxl

    out = tmp_path / "o"
    _earlier(policy, out)
    wb = openpyxl.Workbook()
    wb.active.title = "other"
    wb.active["A1"] = "claim_id"
    wb.save(out / "summary.xlsx")
    before = (out / "summary.xlsx").read_bytes()
    with pytest.raises(OutputError, match=r"summary\.xlsx"):
        run_batch(policy, out / "summary.xlsx", out, quiet=True, without_ledger=True)
    assert _names(out) == EARLIER and (out / "summary.xlsx").read_bytes() == before


# --- each way a run stops -------------------------------------------------------------------------------------------


def test_an_input_breaking_off_while_a_round_selection_ranks_it_is_said_in_errors_jsonl(tmp_path: Path) -> None:
    # a policy with a round selection (tests/fixtures/subjects_rounds.yaml) ranks the whole input before deciding any
    # of it (`rank_round_of_input`). A JSON list cut short inside its 3rd claim breaks off there. The docs: a run whose
    # input breaks off leaves errors.jsonl with the input's error last. Found: the InputError left the ranking before
    # the run's try, so errors.jsonl was not written at all and the earlier run's seven files stayed (its decisions,
    # summary.json, workbook): all passed for this run's. Now as an input that cannot be read (`_input_failed`):
    # errors.jsonl holds that one record, and nothing else is left (nothing was decided)
    from test_subjects_rounds import POLICY, ROUND

    hexi = engine.load_policy(POLICY)
    out = tmp_path / "o"
    run_batch(hexi, _write(tmp_path / "good.jsonl", ROUND), out, quiet=True, without_ledger=True)
    assert _names(out) == EARLIER
    text = json.dumps(ROUND, ensure_ascii=False)
    cut = tmp_path / "cut.json"
    cut.write_text(text[: text.index('"R3"')], encoding="utf-8")
    with pytest.raises(InputError):
        run_batch(hexi, cut, out, quiet=True, without_ledger=True)
    assert _names(out) == ["errors.jsonl"]
    (record,) = _lines(out / "errors.jsonl")
    assert record["application"] is None and record["where"] == {"file": str(cut)}


def test_stopped_while_waiting_for_the_budget_foresight_its_outputs_process_ends_with_it(tmp_path: Path) -> None:
    # a round with a budget: the outputs' process decides the round ahead while the run waits (`wait_for_foresight`).
    # Stopped there (an `on_step` raising Ctrl-C as the foresight step is said; SIGTERM to the run's process alone is
    # the same), `run_batch` never held the process (`_EarlyOutputs.start` had not returned), so it was not ended:
    # found, it went on, and after the run had stopped it wrote summary_items.csv, summary_applications.csv and
    # decisions.jsonl into the folder. Now it is ended before the stop goes on
    budgeted = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 1, 120)
    out = tmp_path / "o"
    foresight = str(tr(msg("batch.step.foresight")))

    def on_step(words: str, done: int, total: int | None) -> None:
        if words == foresight and done == 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(budgeted, inp, out, quiet=True, without_ledger=True, on_step=on_step)
    assert multiprocessing.active_children() == []
    time.sleep(1.5)  # (what a process left running would write meanwhile: the round of 120 is foreseen in well under that)
    assert _names(out) == LEFT_STOPPED and _lines(out / "decisions.partial.jsonl") == []


@pytest.mark.parametrize("while_deciding", [True, False])
def test_a_ledger_error_while_committing_leaves_what_was_committed(policy, tmp_path: Path, monkeypatch, while_deciding: bool) -> None:
    # the ledger's disk fails as PG-2022-0004 is committed (`stop_at`): 0001..0003 are committed and written, nothing
    # after; the earlier run's files go, and the outputs' process's half-made CSVs (made while deciding) with them
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    out = tmp_path / "o"
    _earlier(policy, out)
    stop_at(monkeypatch, url, "PG-2022-0004", sqlite3.OperationalError("disk I/O error"))
    with pytest.raises(sqlite3.OperationalError):
        run_batch(policy, EXAMPLE_ROUND, out, quiet=True, ledger_url=url, commit=True, outputs_while_deciding=while_deciding)
    assert _names(out) == LEFT_STOPPED
    assert [d["claim_id"] for d in _lines(out / "decisions.partial.jsonl")] == ["PG-2022-0001", "PG-2022-0002", "PG-2022-0003"]
    assert _lines(out / "errors.jsonl") == []


@pytest.mark.parametrize("while_deciding", [True, False])
def test_an_output_error_writing_the_workbook_leaves_the_whole_decisions(policy, tmp_path: Path, monkeypatch, while_deciding: bool) -> None:
    # the workbook cannot be written (a disk full as it is zipped: the file half written, then OutputError). Every
    # decision was written (six; PG-2022-0006 in errors.jsonl) (decisions.jsonl made whole from decisions.partial.jsonl before the workbook, no round
    # scaled): kept, with errors.jsonl; the half workbook, the CSVs (whole, but of a run whose summary was never
    # written) and the earlier run's summary.json and report go. Made while deciding, the outputs' process fails the
    # same way and the run makes them again after deciding, then fails: the same files
    from engine.records import tabular

    out = tmp_path / "o"
    _earlier(policy, out)

    def close(self: Any) -> None:
        Path(self.path).write_bytes(b"PK\x03\x04half")
        raise OutputError("disk full")

    monkeypatch.setattr(tabular.XlsxOut, "close", close)
    with pytest.raises(OutputError):
        run_batch(policy, EXAMPLE_ROUND, out, quiet=True, without_ledger=True, outputs_while_deciding=while_deciding)
    assert _names(out) == ["decisions.jsonl", "errors.jsonl"]
    assert [d["claim_id"] for d in _lines(out / "decisions.jsonl")] == [f"PG-2022-000{n}" for n in (1, 2, 3, 4, 5, 7)]
    assert [e["claim_id"] for e in _lines(out / "errors.jsonl")] == ["PG-2022-0006"]


@pytest.mark.parametrize("commit", [False, True])
def test_a_run_on_workers_stopped_mid_merge(policy, tmp_path: Path, commit: bool) -> None:
    # `--workers 2`, the outputs made on the workers and merged in order (`merged_outputs`); Ctrl-C once the merge has
    # written the 3rd application: 0001..0003 written; committing, the round is one transaction and nothing of it
    # stays in the ledger (the docs' workers paragraph), the decisions written so far are still what it decided
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    out = tmp_path / "o"
    _earlier(policy, out)
    kw: dict[str, Any] = {"ledger_url": url, "commit": True} if commit else {"without_ledger": True}
    with pytest.raises(KeyboardInterrupt):
        run_batch(policy, EXAMPLE_ROUND, out, quiet=True, workers=2, on_decided=_stop_at(3), **kw)
    assert _names(out) == LEFT_STOPPED
    assert [d["claim_id"] for d in _lines(out / "decisions.partial.jsonl")] == ["PG-2022-0001", "PG-2022-0002", "PG-2022-0003"]
    if commit:
        with Ledger(url) as ledger:
            assert ledger.counts()["commits"] == 0


def test_sigterm_at_the_command_line_leaves_no_summary_and_names_none(tmp_path: Path, monkeypatch, capsys) -> None:
    # `batch --commit` given SIGTERM as PG-2022-0004 is committed (as test_ledger_cli's): exit 143; the folder holds
    # the three decisions committed and errors.jsonl, none of the earlier run's files; what the officer is told (the
    # new ledger's notice, then the stop's words: 已被终止（SIGTERM）) names no output file
    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    out = tmp_path / "o"
    _earlier(engine.load_policy(ROOT / "policies" / "pinggu_2020.yaml"), out)
    committing = Ledger.commit

    def commit(self: Ledger, policy: Any, claim: Any, **kw: Any) -> Any:
        if self.url == url and claim.claim_id == "PG-2022-0004":
            os.kill(os.getpid(), signal.SIGTERM)
        return committing(self, policy, claim, **kw)

    monkeypatch.setattr(Ledger, "commit", commit)
    before = signal.getsignal(signal.SIGTERM)
    try:
        assert batch_main(tmp_path, url, EXAMPLE_ROUND, "o") == 143
    finally:
        signal.signal(signal.SIGTERM, before)
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "已被终止（SIGTERM）" and not any(name in line for line in err for name in [*EARLIER, "decisions.partial"])
    assert _names(out) == LEFT_STOPPED
    assert [d["claim_id"] for d in _lines(out / "decisions.partial.jsonl")] == ["PG-2022-0001", "PG-2022-0002", "PG-2022-0003"]


def test_a_service_round_stopped_part_way_serves_no_summary(tmp_path: Path, monkeypatch) -> None:
    # the service's round process (engine.service.roundjob) given SIGTERM as its 4th application is decided: its state
    # says failed (service.round.stopped, naming SIGTERM), with no summary and no files named; of the files the service
    # serves (FILES) only errors.jsonl is there (empty: none of 0001..0003 is an error); its decisions so far in
    # decisions.partial.jsonl, which it does not serve
    import engine.records.batch as batch_mod
    from engine.deciding.versions import PolicySet
    from engine.service import roundjob

    pinggu = engine.load_policy(ROOT / "policies" / "pinggu_2020.yaml")
    folder = tmp_path / "job"
    folder.mkdir()
    shutil.copy(EXAMPLE_ROUND, folder / "input.jsonl")
    state = {"id": "job", "state": "running", "applications": 7, "decided": 0, "commit": False, "by": None}
    spec = roundjob.job_spec(PolicySet((pinggu,)), False, False, None, None, state, "en")
    (folder / roundjob.JOB_FILE).write_text(json.dumps(spec), encoding="utf-8")
    deciding = batch_mod.decide_one

    def decide_one(versions: Any, rec: Any, *a: Any, **kw: Any) -> Any:
        if rec.data is not None and rec.data.get("claim_id") == "PG-2022-0004":
            os.kill(os.getpid(), signal.SIGTERM)
        return deciding(versions, rec, *a, **kw)

    monkeypatch.setattr(batch_mod, "decide_one", decide_one)
    monkeypatch.chdir(tmp_path)  # (the round decides from inside its folder: put back afterwards)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        assert roundjob.run_job(folder) == 1
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
    said = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    assert said["state"] == "failed" and said["error"].startswith("the round's process was stopped (SIGTERM)")
    assert "summary" not in said and "files" not in said
    assert [f for f in roundjob.FILES if (folder / "out" / f).is_file()] == ["errors.jsonl"]
    assert _names(folder / "out") == LEFT_STOPPED
    assert [d["claim_id"] for d in _lines(folder / "out" / "decisions.partial.jsonl")] == ["PG-2022-0001", "PG-2022-0002", "PG-2022-0003"]


def test_a_run_stopped_while_scaling_leaves_its_decisions_as_decided(tmp_path: Path) -> None:
    # every decision written, the run stopped as the budget's scaling step starts (Ctrl-C): decisions.partial.jsonl
    # holds every decision as decided, unscaled (the docs said "decisions.jsonl, if it stopped after writing every
    # decision": it is decisions.jsonl only once the outputs' step made it whole). By hand: the example round under a
    # budget of 1 yuan is scaled (its approved total is far above it); stopped before, no decision carries `scaling`
    budgeted = policy_with_budget(tmp_path, "1")
    out = tmp_path / "o"
    _earlier(budgeted, out)
    scaling = str(tr(msg("batch.step.budget", round="pinggu-ip-promotion/2021")))  # (no label: the funding year's round)

    def on_step(words: str, done: int, total: int | None) -> None:
        if words == scaling:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(budgeted, EXAMPLE_ROUND, out, quiet=True, without_ledger=True, on_step=on_step, outputs_while_deciding=False)
    assert _names(out) == LEFT_STOPPED
    decided = _lines(out / "decisions.partial.jsonl")
    assert [d["claim_id"] for d in decided] == [f"PG-2022-000{n}" for n in (1, 2, 3, 4, 5, 7)]
    assert not any("scaling" in d for d in decided)


def test_a_run_whose_ledger_cannot_be_opened_leaves_no_earlier_summary(policy, tmp_path: Path) -> None:
    # a ledger URL naming another program's SQLite database (refused: `ledger.foreign_sqlite`, exit 1): nothing is
    # decided; the earlier run's outputs should not be left as this run's
    from engine.records.ledger import LedgerError

    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    out = tmp_path / "o"
    _earlier(policy, out)
    with pytest.raises(LedgerError):
        run_batch(policy, EXAMPLE_ROUND, out, quiet=True, ledger_url=f"sqlite:///{other}")
    assert not {"decisions.jsonl", "summary.json", "summary.xlsx"} & set(_names(out))


def test_a_whole_run_does_not_write_over_its_input_in_the_output_folder(policy, tmp_path: Path) -> None:
    # the case of test_batch_outputs' stopped run, run to its end: the input, read from out/summary.xlsx, is the run's
    # workbook's path. README, exit 2: "an output that would be written over a file the command reads"
    out = tmp_path / "o"
    out.mkdir()
    shutil.copy(ROOT / "examples" / "round_2021.xlsx", out / "summary.xlsx")
    before = (out / "summary.xlsx").read_bytes()
    try:
        run_batch(policy, out / "summary.xlsx", out, quiet=True, without_ledger=True)
    except OutputError:
        pass
    assert (out / "summary.xlsx").read_bytes() == before


# --- 45be8abc: a held claim in another hash form, in a preview ----------------------------------------------------


@pytest.mark.parametrize("workers", WAYS)
def test_a_preview_without_replace_of_a_claim_held_under_another_hash_form_on_workers(tmp_path: Path, monkeypatch, workers: int) -> None:
    # as test_foresight_refusals_review's one-process case, on two workers too: X (held in the form stated in full) is
    # the same application; its commit counts in its place (commit 1): X 33,333.34, Y1 33,333.34, Y2 33,333.33
    # (TIE, worked there: each share 33,333.3366..., the two cents to the first two in commit order)
    budgeted, second = _tie_in_full(tmp_path)
    _s, remade = _preview_both_ways(tmp_path, monkeypatch, budgeted, second, round_label="R", workers=workers)
    assert not remade and _totals(tmp_path / "p") == TIE


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("workers", WAYS)
def test_a_preview_of_a_claim_held_under_another_hash_form_on_postgresql(tmp_path: Path, workers: int, replace: bool) -> None:
    # the same round with the ledger on PostgreSQL (the held hash rewritten there): the preview's figures are TIE
    # (worked above), with and without --replace, on one process and two; the ledger is left as it was (1 commit)
    made = make_ledger_url("postgresql", tmp_path)
    url = next(made)
    try:
        budgeted = policy_with_budget(tmp_path, "100000.01")
        cert = item("ip_management_certification", "c1")
        x = claim(cert, claim_id="X", id=ENTERPRISE_ID)
        ys = [claim(cert, claim_id="Y1", id=ENTERPRISE_2_ID), claim(cert, claim_id="Y2", id=PLATFORM_ID)]
        run_batch(budgeted, _write(tmp_path / "a.jsonl", [x]), tmp_path / "first", quiet=True, ledger_url=url, commit=True, round_label="R")  # fmt: skip
        with Ledger(url) as led, led.db.locked():
            led.db.execute("UPDATE commits SET content_hash = ?", (_digest(stated_in_full(budgeted, x)),))
        second = _write(tmp_path / "b.jsonl", [*ys, x])
        for while_deciding in (True, False):
            out = tmp_path / f"p-{while_deciding}"
            run_batch(budgeted, second, out, quiet=True, ledger_url=url, round_label="R", replace=replace, workers=workers, outputs_while_deciding=while_deciding)  # fmt: skip
            assert _totals(out) == TIE
        with Ledger(url) as led:
            assert led.counts()["commits"] == 1
    finally:
        made.close()


# --- 45be8abc: the map itself ---------------------------------------------------------------------------------------


def test_a_scratch_ledger_replacing_a_claim_then_taking_back_its_first_content(tmp_path: Path) -> None:
    # the API: a scratch ledger over the real one (`commit(base=)`), the same claim committed into it twice. The real
    # ledger holds X (400,000 of interest, R11: half, 200,000). Into the scratch: X with 200,000 of interest, replace
    # (stands False: the real commit replaced; X 100,000), then X with its first content again, replace (a replacement
    # of the scratch's own commit: the map is not touched, stays False; X decided afresh, 200,000, the real X's
    # grants not its history). Committing the same into a copy of the real ledger: X's first commit replaced, then
    # replaced again by its first content: X 200,000 in force. Either way Y (the same enterprise, 400,000 of interest,
    # 200,000 wanted) gets the cap's rest: 300,000 - 200,000 = 100,000; the scratch's round counts X's fresh commit
    # (earlier_share keeps nothing of the real one)
    from engine.records.batch import earlier_share

    budgeted = _x_committed(tmp_path)  # (l.sqlite: X committed, 200,000, round R)
    shutil.copy(tmp_path / "l.sqlite", tmp_path / "copy.sqlite")
    x_other, x_first, y = _loan("X", "200000.00"), _loan("X", "400000.00"), _loan("Y", "400000.00")
    with Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}") as real, Ledger("sqlite:///:memory:") as scratch:
        assert scratch.commit(budgeted, x_other, replace=True, round="R", base=real).status == "committed"
        assert scratch.commit(budgeted, x_first, replace=True, round="R", base=real).made.total == 200000
        assert dict(scratch.stands_below) == {"X": False}
        got_y = scratch.commit(budgeted, y, round="R", base=real).made.total
        earlier, kept = earlier_share(real, ["R"], scratch.active_hashes(None), True, scratch.stands_below)
        assert kept == set() and earlier == []
    with Ledger(f"sqlite:///{tmp_path / 'copy.sqlite'}") as copy:
        copy.commit(budgeted, x_other, replace=True, round="R")
        copy.commit(budgeted, x_first, replace=True, round="R")
        committed_y = copy.commit(budgeted, y, round="R").made.total
    assert got_y == committed_y == 100000


def test_a_committing_run_on_workers_imports_no_stands_below_into_the_real_ledger(policy, tmp_path: Path, monkeypatch) -> None:
    # the real ledger's `_over` reads `_stands_below`, which `import_commit` now fills from what it is given. A
    # committing run on workers imports into the real ledger; a claim the real ledger already holds sends the round to
    # one process (batch.fallback.committed), so no commit it imports was decided over a ledger holding its claim:
    # each carries None, and the real ledger's map stays empty. The example round committed on two workers (6 new;
    # PG-2022-0006 an error record)
    seen: list[Any] = []
    importing = Ledger.import_commit

    def import_commit(self: Ledger, decided: DecidedCommit, decision: Any = None) -> int:
        seq = importing(self, decided, decision)
        seen.append((decided.stands_below, dict(self.stands_below)))
        return seq

    monkeypatch.setattr(Ledger, "import_commit", import_commit)
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    s = run_batch(policy, EXAMPLE_ROUND, tmp_path / "o", quiet=True, ledger_url=url, commit=True, workers=2)
    assert s.committed == len(seen) == 6
    assert all(got is None and held == {} for got, held in seen)


def test_a_decided_commit_pickled_before_stands_below_reads_back_as_none(tmp_path: Path) -> None:
    # a DecidedCommit pickled by the shape before session 45 (no `stands_below` in its state: only the workers' own
    # files hold them, written and read by one version, but a pickle of the old shape must not break an import): it
    # reads back with None, and imports as before (the map untouched)
    budgeted = _x_committed(tmp_path)
    with Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}") as real:
        now = real.export_commit(1)
    old = object.__new__(DecidedCommit)
    old.__dict__.update(commit=now.commit, grants=now.grants)
    back = pickle.loads(pickle.dumps(old))
    assert back.stands_below is None and back.unscaled_total() == 200000
    with Ledger("sqlite:///:memory:") as other:
        other.import_commit(back)
        assert dict(other.stands_below) == {} and other.active_hashes(None) == {"X": now.commit[7]}
    del budgeted


def test_an_input_breaking_off_on_workers_is_said_last_in_errors_jsonl(policy, tmp_path: Path) -> None:
    # `--workers 2`: an input that breaks off sends the round to one process (batch.fallback.breaks_off), which writes
    # what it read and then the input's error, as test_batch_outputs' one-process case: a JSON list of the generated
    # round cut short in its 31st claim, so 30 applications read (each decided or an error record), then the input's
    # record last; no summary, no earlier run's file
    from benchmarks.generate import claims as generated

    out = tmp_path / "o"
    _earlier(policy, out)
    claims = list(generated(600, seed=1))
    text = json.dumps(claims, ensure_ascii=False)
    cut = tmp_path / "cut.json"
    cut.write_text(text[: text.index(f'"claim_id": "{claims[30]["claim_id"]}"')], encoding="utf-8")
    with pytest.raises(InputError):
        run_batch(policy, cut, out, quiet=True, without_ledger=True, workers=2)
    assert _names(out) == LEFT_STOPPED
    errors = _lines(out / "errors.jsonl")
    assert len(_lines(out / "decisions.partial.jsonl")) + len(errors) - 1 == 30
    assert errors[-1]["application"] is None and errors[-1]["where"] == {"file": str(cut)}


def test_stopped_during_the_workers_foresight(tmp_path: Path) -> None:
    # `--workers 2` with a budget: the workers decide the round ahead (`_foreseen`) before deciding it; Ctrl-C as the
    # foresight first says how far it is. The workers' pool is waited for (they write in the run's temporary folder
    # only), no process is left, and the folder holds the run's two files, empty (nothing decided yet)
    budgeted = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 1, 400)
    out = tmp_path / "o"
    foresight = str(tr(msg("batch.step.foresight")))

    def on_step(words: str, done: int, total: int | None) -> None:
        if words == foresight and total is not None:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(budgeted, inp, out, quiet=True, without_ledger=True, workers=2, on_step=on_step)
    assert multiprocessing.active_children() == []
    assert _names(out) == LEFT_STOPPED and _lines(out / "decisions.partial.jsonl") == [] == _lines(out / "errors.jsonl")


def test_a_disk_full_writing_summary_json_leaves_no_summary(policy, tmp_path: Path, monkeypatch) -> None:
    # summary.json is written last, after the run's `try` (every other output whole): a disk full there (the file
    # opened, emptied, then ENOSPC) left an empty summary.json beside the whole CSVs, workbook and report, where the
    # docs say a disk error leaves no summary. Now as any stop after every decision was written: decisions.jsonl (the
    # six decided) and errors.jsonl (PG-2022-0006) alone
    import errno

    writing = Path.write_text

    def write_text(self: Path, data: str, *a: Any, **kw: Any) -> int:
        if self.name == "summary.json" and self.parent.name == "o":
            self.write_bytes(b"")
            raise OSError(errno.ENOSPC, "No space left on device")
        return writing(self, data, *a, **kw)

    out = tmp_path / "o"
    _earlier(policy, out)
    monkeypatch.setattr(Path, "write_text", write_text)
    with pytest.raises(OSError):
        run_batch(policy, EXAMPLE_ROUND, out, quiet=True, without_ledger=True)
    assert _names(out) == ["decisions.jsonl", "errors.jsonl"]
    assert [d["claim_id"] for d in _lines(out / "decisions.jsonl")] == [f"PG-2022-000{n}" for n in (1, 2, 3, 4, 5, 7)]
