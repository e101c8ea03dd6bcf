"""A run in a program with other threads: its outputs' process is a new interpreter (engine.records.spawned), not a
fork, given each policy version by its file and the ledger by its URL. Each case runs the same input twice, alone
(forked as ever) and beside a waiting thread, and holds the files to each other; whether the spawned process made
them is told by the run's own process not making them after deciding (`_final_pass` not called)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest
from test_batch_outputs import _copy_ledger, _generated_round, _same_outputs, _spy_final_pass
from test_ledger_support import policy_with_budget

from benchmarks.bench_batch import beside_a_thread
from engine.records.batch import run_batch


def test_a_committed_round_its_budget_scales_is_foreseen_in_the_new_interpreter(tmp_path: Path, monkeypatch) -> None:
    # a budget of 10万 under the round's approved total (the generated round asks far more: scaled), committed into two
    # copies of an empty ledger: the spawned process reads the ledger by its URL, decides the round ahead and foresees
    # the scaling, which the run then makes: kept (no output made after deciding), the files the same
    budgeted = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 4, 300)
    alone = run_batch(budgeted, inp, tmp_path / "alone", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'a.sqlite'}", commit=True, round_label="R")  # fmt: skip
    calls = _spy_final_pass(monkeypatch)
    with beside_a_thread():
        beside = run_batch(budgeted, inp, tmp_path / "beside", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'b.sqlite'}", commit=True, round_label="R")  # fmt: skip
    assert calls == []
    assert beside.scaling == alone.scaling and beside.scaling["R"]["budget"] == "100000.00"
    assert Decimal(beside.scaling["R"]["approved_total"]) > Decimal("100000.00")  # (it was scaled)
    assert _same_outputs(tmp_path / "beside", tmp_path / "alone")


def test_a_second_batch_of_the_round_counts_the_ledgers_grants_in_the_new_interpreter(tmp_path: Path, monkeypatch) -> None:
    # the ledger already holds a first batch in round R: the spawned foresight reads it in its snapshot, as a forked one
    budgeted = policy_with_budget(tmp_path, "10万")
    first = _generated_round(tmp_path / "first.jsonl", 5, 200)
    run_batch(budgeted, first, tmp_path / "first", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}", commit=True, round_label="R")  # fmt: skip
    second = tmp_path / "second.jsonl"
    second.write_text(
        "".join(line.replace('"claim_id": "', '"claim_id": "B-') for line in _generated_round(tmp_path / "g.jsonl", 6, 200).read_text(encoding="utf-8").splitlines(keepends=True)),
        encoding="utf-8",
    )  # fmt: skip
    one, two = _copy_ledger(tmp_path / "l.sqlite", tmp_path / "1.sqlite"), _copy_ledger(tmp_path / "l.sqlite", tmp_path / "2.sqlite")
    alone = run_batch(budgeted, second, tmp_path / "alone", quiet=True, ledger_url=one, commit=True, round_label="R")
    calls = _spy_final_pass(monkeypatch)
    with beside_a_thread():
        beside = run_batch(budgeted, second, tmp_path / "beside", quiet=True, ledger_url=two, commit=True, round_label="R")
    assert calls == [] and beside.scaling == alone.scaling and "R" in beside.scaling
    assert _same_outputs(tmp_path / "beside", tmp_path / "alone")


def test_a_policy_changed_in_memory_is_not_given_to_a_new_interpreter(policy, tmp_path: Path, monkeypatch) -> None:
    # a copy of the policy with another budget (as an officer's round case makes one: engine.officer.casefile) is not
    # what its file gives: a new interpreter would decide by the file. Every output is made after deciding, as before
    changed = dataclasses.replace(policy, funding_years=policy.funding_years)
    inp = _generated_round(tmp_path / "in.jsonl", 2, 60)
    run_batch(changed, inp, tmp_path / "alone", quiet=True, without_ledger=True)
    calls = _spy_final_pass(monkeypatch)
    with beside_a_thread():
        run_batch(changed, inp, tmp_path / "beside", quiet=True, without_ledger=True)
    assert calls == [1]
    assert _same_outputs(tmp_path / "beside", tmp_path / "alone")


def test_a_policy_file_changed_after_the_run_loaded_it_is_said_and_the_outputs_made_after(tmp_path: Path, monkeypatch) -> None:
    # the file is edited once the run has loaded it (an officer saving a draft): the new interpreter loads it again,
    # finds another hash and says so; the run makes every output itself after deciding, by the version it loaded,
    # and says why in its warnings
    import shutil

    from engine.deciding.ready import load_policy

    root = Path(__file__).resolve().parent.parent / "policies"
    shutil.copytree(root / "texts", tmp_path / "texts")
    shutil.copy(root / "pinggu_2020.yaml", tmp_path / "p.yaml")
    policy = load_policy(tmp_path / "p.yaml")
    inp = _generated_round(tmp_path / "in.jsonl", 2, 60)
    run_batch(policy, inp, tmp_path / "alone", quiet=True, without_ledger=True)
    (tmp_path / "p.yaml").write_text((tmp_path / "p.yaml").read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    calls = _spy_final_pass(monkeypatch)
    with beside_a_thread():
        s = run_batch(policy, inp, tmp_path / "beside", quiet=True, without_ledger=True)
    assert calls == [1]
    assert _same_outputs(tmp_path / "beside", tmp_path / "alone")
    assert [w.params["why"].params["file"] for w in s.warnings] == [str(tmp_path / "p.yaml")]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_new_interpreter_writes_in_the_runs_language(policy, tmp_path: Path, monkeypatch, lang: str) -> None:
    # the workbook's headings and the report are in the run's language (set in the run's context, not the
    # environment): the new interpreter is told it
    from engine.core.i18n import use_language

    inp = _generated_round(tmp_path / "in.jsonl", 3, 60)
    with use_language(lang):
        run_batch(policy, inp, tmp_path / "alone", quiet=True, without_ledger=True, report_lang=lang)
        calls = _spy_final_pass(monkeypatch)
        with beside_a_thread():
            run_batch(policy, inp, tmp_path / "beside", quiet=True, without_ledger=True, report_lang=lang)
    assert calls == []
    assert _same_outputs(tmp_path / "beside", tmp_path / "alone")


def test_workers_beside_other_threads_decide_on_one_process_and_say_why(tmp_path: Path, monkeypatch) -> None:
    # --workers 2 in a process with other threads: the workers are never forked there (before session 45 they were,
    # where the outputs' process was not); the round is decided on one process, which says why, and its outputs are
    # made beside deciding in a new interpreter, foresight included: the same files as two workers alone
    from test_foresight_earlier_grants import _spy_fallback

    budgeted = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 4, 300)
    run_batch(budgeted, inp, tmp_path / "alone", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'a.sqlite'}", commit=True, round_label="R", workers=2)  # fmt: skip
    why, calls = _spy_fallback(monkeypatch), _spy_final_pass(monkeypatch)
    with beside_a_thread():
        run_batch(budgeted, inp, tmp_path / "beside", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'b.sqlite'}", commit=True, round_label="R", workers=2)  # fmt: skip
    assert why == ["batch.fallback.threads"] and calls == []
    assert _same_outputs(tmp_path / "beside", tmp_path / "alone")
