"""`batch --workers N` with a round budget: the workers foresee the round's scaling and make every output scaled as
foreseen (engine.records.workers `_foresee`, `_foresee_round`; engine.records.batch `Foreseen`, `_Outputs.agrees`).
Whatever the case, every output file is the file one process writes making every output after deciding (summary.xlsx
by its parts); what the workers made is kept only when the run scaled exactly as foreseen (`_final_pass` not called),
else made again after deciding (`_final_pass` called once). No timings here."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from test_batch_outputs import (
    _before_scaling,
    _copy_ledger,
    _files,
    _generated_round,
    _made_after,
    _renamed,
    _same_outputs,
    _spy_agreement_check,
    _spy_final_pass,
    _spy_placed,
)
from test_ledger_support import policy_with_budget

from engine.records.batch import run_batch
from engine.records.ledger import Ledger

ROOT = Path(__file__).resolve().parent.parent


def _after(policy, inp: Path, out: Path, url: str, **kw):  # type: ignore[no-untyped-def]
    """One process, every output made after deciding: what the workers' run is held to."""
    return run_batch(policy, inp, out, quiet=True, ledger_url=url, outputs_while_deciding=False, **kw)


def _two(policy, inp: Path, out: Path, url: str, **kw):  # type: ignore[no-untyped-def]
    return run_batch(policy, inp, out, quiet=True, ledger_url=url, workers=2, **kw)


def _versions(tmp_path: Path, b2020: str | None, b2024: str | None):  # type: ignore[no-untyped-def]
    """The 2020 measures (funding years to 2023) and the 2024 draft (2024 on), each with the round budget given (None:
    none), each copied into a folder of its own (their texts/ folders differ)."""
    from engine import load_policy
    from engine.deciding.versions import PolicySet

    src = (ROOT / "policies" / "pinggu_2020.yaml", ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml")
    chosen = []
    for n, (source, budget) in enumerate(zip(src, (b2020, b2024), strict=True)):
        chosen.append(policy_with_budget(tmp_path / f"v{n}", budget, source=source) if budget else load_policy(source))
    return PolicySet(tuple(chosen))


def _with_2024(inp: Path) -> Path:
    """Every third application of the round moved to the draft's first funding year, 2024, and one to 2019, which
    no version covers (an error record in the middle of the round)."""
    lines = inp.read_text(encoding="utf-8").splitlines()
    for n in range(0, len(lines) - 2, 3):
        lines[n] = json.dumps({**json.loads(lines[n]), "funding_year": 2024}, ensure_ascii=False)
    lines[4] = json.dumps({**json.loads(lines[4]), "funding_year": 2019}, ensure_ascii=False)
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return inp


@pytest.mark.parametrize("label", [None, "R"])
@pytest.mark.parametrize(("b2020", "b2024"), [("10万", None), (None, "5万"), ("10万", "5万"), ("1000000000", "5万")])
def test_several_versions_with_their_own_budgets_or_none(tmp_path: Path, monkeypatch, b2020, b2024, label) -> None:
    # two versions with different budgets, or one with none, across funding years 2021-2024; each year its own
    # round, or all in one (`round_label`: governed by the version of its latest funding year, 2024's). The files
    # are one process's after deciding; a scaling foreseen is kept (nothing made after deciding)
    versions = _versions(tmp_path, b2020, b2024)
    inp = _with_2024(_generated_round(tmp_path / "in.jsonl", 11, 160))
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    after = _after(versions, inp, tmp_path / "after", url, round_label=label)
    final, placed = _spy_final_pass(monkeypatch), _spy_placed(monkeypatch)
    two = _two(versions, inp, tmp_path / "two", url, round_label=label)
    assert two.scaling == after.scaling and two.approved_total == after.approved_total
    assert two.failed == after.failed >= 3  # (not JSON, not a claim, 2019)
    if label is None:  # each funding year's round by its own version's budget (2024's approves nothing: its
        # applications' dates are still those of their first years)
        assert {r.rsplit("/", 1)[1] for r in two.scaling} == ({"2021", "2022", "2023"} if b2020 == "10万" else set())
    else:  # one round, 2024's version governs it
        assert list(two.scaling) == (["R"] if b2024 else [])
        if b2024:
            assert two.scaling["R"]["budget"] == "50000.00" and two.approved_total == Decimal("50000.00")
    assert final == [] and len(placed) == two.decided and all(placed)
    assert _files(tmp_path / "two") == _files(tmp_path / "after")


@pytest.mark.parametrize(
    ("rounding", "budget"),
    [
        ("{mode: half_up}", "100000.01"),
        ("{remainder: unallocated}", "100000.01"),
        ("{mode: half_up, remainder: unallocated}", "100000.01"),
        ("{mode: half_even, quantum: '1'}", "100001"),
    ],
)
def test_each_rounding_of_a_budget(tmp_path: Path, monkeypatch, rounding: str, budget: str) -> None:
    # the budget's rounding (mode, what is left unallocated, its quantum) is the ledger's, on the foresight's ledger
    # as on the run's: the same records, so what the workers made is kept; the files are one process's
    chosen = policy_with_budget(tmp_path, budget, rounding=rounding)
    inp = _generated_round(tmp_path / "in.jsonl", 12, 150)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    after = _after(chosen, inp, tmp_path / "after", url)
    final = _spy_final_pass(monkeypatch)
    two = _two(chosen, inp, tmp_path / "two", url)
    assert two.scaling == after.scaling and len(two.scaling) == 3 and final == []
    for record in two.scaling.values():
        assert Decimal(record["allocated"]) + Decimal(record["unallocated"]) == Decimal(budget)
        if "unallocated" in rounding:  # never more than the budget, what is left said
            assert record["method"] == "unallocated" and Decimal(record["allocated"]) <= Decimal(budget)
        else:  # the largest remainders: exactly the budget
            assert record["method"] == "largest_remainder" and record["allocated"] == format(Decimal(budget), ".2f")
        if "quantum" in rounding:  # whole yuan
            assert record["quantum"] == "1" and record["mode"] == "half_even"
    assert _files(tmp_path / "two") == _files(tmp_path / "after")


@pytest.mark.parametrize("report", [False, True])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_report_or_a_report_in_either_language(tmp_path: Path, monkeypatch, report: bool, lang: str) -> None:
    chosen = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 13, 120)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    after = _after(chosen, inp, tmp_path / "after", url, report=report, report_lang=lang)
    final = _spy_final_pass(monkeypatch)
    two = _two(chosen, inp, tmp_path / "two", url, report=report, report_lang=lang)
    assert two.scaling and final == [] and two.report == after.report and two.report.startswith("written" if report else "not drawn")
    assert (tmp_path / "two" / "report.html").exists() is report
    assert _files(tmp_path / "two") == _files(tmp_path / "after")


@pytest.mark.parametrize("counted", [True, False], ids=["earlier-grants-foreseen", "earlier-grants-left-out"])
def test_a_commit_into_a_round_that_already_holds_an_earlier_runs_grants(tmp_path: Path, monkeypatch, counted: bool) -> None:
    # the ledger already holds an earlier run's grants in round R (a second batch of the same round): the run scales
    # R over both runs' grants, and so does the foresight, which imports the earlier run's commits in R ahead of this
    # input's (`earlier_share`): what the workers made is kept. Left out (as before session 43), the foresight scales
    # this input's grants alone, its records differ, what the workers made is thrown away and every output is made
    # after deciding. Either way the files are one process's
    import engine.records.workers as workers_mod

    chosen = policy_with_budget(tmp_path, "10万")
    first, second = _generated_round(tmp_path / "a.jsonl", 1, 60), _renamed(_generated_round(tmp_path / "b.jsonl", 2, 60), "B-")
    run_batch(chosen, first, tmp_path / "first", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}", commit=True, round_label="R")
    one, two_url = _copy_ledger(tmp_path / "l.sqlite", tmp_path / "1.sqlite"), _copy_ledger(tmp_path / "l.sqlite", tmp_path / "2.sqlite")
    after = _made_after(chosen, second, tmp_path / "after", one, round_label="R")
    if not counted:
        monkeypatch.setattr(workers_mod, "earlier_share", lambda base, rounds, own_claims: [])
    final, said = _spy_final_pass(monkeypatch), []
    two = _two(chosen, second, tmp_path / "two", two_url, commit=True, round_label="R", on_step=lambda t, _d, _n: said.append(t))
    assert two.scaling == after.scaling != {} and two.committed == after.committed > 0 and final == ([] if counted else [1])
    assert any("foresee" in t for t in said)  # (on the workers: foreseen, then kept or thrown away)
    # the round's approved total is both runs' own, before scaling; scaled to exactly the budget
    assert Decimal(two.scaling["R"]["approved_total"]) == _before_scaling(tmp_path / "first") + _before_scaling(tmp_path / "two")
    assert _before_scaling(tmp_path / "first") > 0 and two.scaling["R"]["allocated"] == "100000.00"
    assert _same_outputs(tmp_path / "two", tmp_path / "after")


@pytest.mark.parametrize("counted", [True, False], ids=["earlier-grants-foreseen", "earlier-grants-left-out"])
def test_a_commit_that_alone_fits_the_budget_but_not_with_the_earlier_runs_grants(
    policy, tmp_path: Path, monkeypatch, counted: bool
) -> None:
    # this input alone approves exactly the budget; the earlier run's grants in the same round take the round past
    # it: the run scales it. Foreseen with the earlier run's grants, the workers make the outputs scaled and they are
    # kept; foreseen without them (nothing scaled), what the workers made unscaled is thrown away
    import engine.records.workers as workers_mod

    first, second = _generated_round(tmp_path / "a.jsonl", 1, 60), _renamed(_generated_round(tmp_path / "b.jsonl", 2, 60), "B-")
    run_batch(policy, first, tmp_path / "first", quiet=True, ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}", commit=True, round_label="R")
    own = run_batch(policy, second, tmp_path / "own", quiet=True, ledger_url=_copy_ledger(tmp_path / "l.sqlite", tmp_path / "0.sqlite"))
    chosen = policy_with_budget(tmp_path, str(own.approved_total))  # (decided against the earlier run's history)
    one, two_url = _copy_ledger(tmp_path / "l.sqlite", tmp_path / "1.sqlite"), _copy_ledger(tmp_path / "l.sqlite", tmp_path / "2.sqlite")
    after = _made_after(chosen, second, tmp_path / "after", one, round_label="R")
    if not counted:
        monkeypatch.setattr(workers_mod, "earlier_share", lambda base, rounds, own_claims: [])
    final, said = _spy_final_pass(monkeypatch), []
    two = _two(chosen, second, tmp_path / "two", two_url, commit=True, round_label="R", on_step=lambda t, _d, _n: said.append(t))
    assert two.scaling == after.scaling != {} and final == ([] if counted else [1])
    assert Decimal(two.scaling["R"]["approved_total"]) > own.approved_total > 0
    assert Decimal(two.scaling["R"]["approved_total"]) == _before_scaling(tmp_path / "first") + own.approved_total
    assert any("foresee" in t for t in said)
    assert _same_outputs(tmp_path / "two", tmp_path / "after")


def test_the_foresight_is_checked_by_the_claims_the_merge_wrote_not_by_reading_the_decisions_again(tmp_path: Path, monkeypatch) -> None:
    # after the bar, the check that the run scaled as foreseen takes each decision's claim id and round from what
    # the merge collected as it wrote them (`_Outputs.merged_claims`), in the order of decisions.jsonl, where it read
    # every line of decisions.partial.jsonl back (`_claims_and_rounds`: ~1.3 s of 8.3 s for 10,000 traced decisions)

    chosen = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 18, 150)
    _made_after(chosen, inp, tmp_path / "after", f"sqlite:///{tmp_path / 'a.sqlite'}", round_label="R")
    read_back, checked = _spy_agreement_check(monkeypatch)
    final = _spy_final_pass(monkeypatch)
    two = _two(chosen, inp, tmp_path / "two", f"sqlite:///{tmp_path / 'b.sqlite'}", commit=True, round_label="R")
    assert list(two.scaling) == ["R"] and final == [] and read_back == []
    lines = [json.loads(x) for x in (tmp_path / "two" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert checked == [[(d["claim_id"], "R") for d in lines]] and len(lines) == two.decided > 0
    assert _same_outputs(tmp_path / "two", tmp_path / "after")


def test_a_committed_round_under_its_own_label_with_the_trace(tmp_path: Path, monkeypatch) -> None:
    # `--commit --round R --trace` into an empty ledger: the foresight decides without the trace, the workers with
    # it; one round R of every funding year, scaled to 10万; the scaled lines numbered at the merge (commit n on
    # the n-th line). The files are one process's; the foresight is kept
    chosen = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 16, 150)
    after = _made_after(chosen, inp, tmp_path / "after", f"sqlite:///{tmp_path / 'a.sqlite'}", round_label="R", trace=True)
    final = _spy_final_pass(monkeypatch)
    two = _two(chosen, inp, tmp_path / "two", f"sqlite:///{tmp_path / 'b.sqlite'}", commit=True, round_label="R", trace=True)
    assert list(two.scaling) == ["R"] and two.approved_total == Decimal("100000.00") and final == []
    lines = [json.loads(x) for x in (tmp_path / "two" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(d["ledger"]["commit"], d["ledger"]["round"]) for d in lines] == [(n, "R") for n in range(1, two.committed + 1)]
    assert all("scaling" in d for d in lines) and two.committed == after.committed > 0
    assert _same_outputs(tmp_path / "two", tmp_path / "after")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_committed_scaled_round_on_either_backend(tmp_path: Path, monkeypatch, backend: str) -> None:
    # the foresight's ledger is SQLite in memory, over the run's real one (PostgreSQL when $POLICY_ENGINE_TEST_PG
    # is set): what it reads there, the grants it scales and their digest are the run's, so it is kept; the
    # files are one process's committing into SQLite (summary.json aside: it names the ledger)
    from test_ledger_support import make_ledger_url

    chosen = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 17, 150)
    after = _made_after(chosen, inp, tmp_path / "after", f"sqlite:///{tmp_path / 'a.sqlite'}")
    urls = make_ledger_url(backend, tmp_path)
    url = next(urls)
    try:
        final = _spy_final_pass(monkeypatch)
        two = _two(chosen, inp, tmp_path / "two", url, commit=True)
        assert two.scaling == after.scaling != {} and two.committed == after.committed > 0 and final == []
        assert _same_outputs(tmp_path / "two", tmp_path / "after")
    finally:
        urls.close()


@pytest.mark.parametrize("commit", [False, True])
def test_facts_on_record_in_the_ledger(tmp_path: Path, monkeypatch, commit: bool) -> None:
    # findings on record for three of the round's applicants (a fraud finding of 2019-06-01: R24's five-year bar):
    # the foresight joins them to the applications as the run does (over the real ledger); each of their decisions
    # names them (`facts_on_record`), committed or not. The files are one process's; the foresight is kept
    chosen = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 14, 150)
    ids = list(dict.fromkeys(json.loads(x)["applicant"]["id"] for x in inp.read_text(encoding="utf-8").splitlines()[:-2]))[:3]
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    with Ledger(url) as ledger:
        for applicant in ids:
            ledger.record_finding(applicant, "fraud_finding_dates", "2019-06-01", reason="弄虚作假", policy=chosen)
    one, two_url = _copy_ledger(tmp_path / "l.sqlite", tmp_path / "1.sqlite"), _copy_ledger(tmp_path / "l.sqlite", tmp_path / "2.sqlite")
    after = _after(chosen, inp, tmp_path / "after", one, commit=commit)
    final = _spy_final_pass(monkeypatch)
    two = _two(chosen, inp, tmp_path / "two", two_url, commit=commit)
    lines = [json.loads(x) for x in (tmp_path / "two" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    on_record = [d for d in lines if d["ledger"].get("facts_on_record")]
    assert {d["applicant"]["id"] for d in on_record} == set(ids)
    assert all(d["ledger"]["facts_on_record"] == {"fraud_finding_dates": ["2019-06-01"]} for d in on_record)
    assert two.scaling == after.scaling != {} and final == []
    assert _same_outputs(tmp_path / "two", tmp_path / "after")


def test_a_round_selection_and_a_budget(tmp_path: Path, monkeypatch) -> None:
    # the fictional Hexi measures' round selections (tests/fixtures/subjects_rounds.yaml), ranked before deciding
    # and inherited by the foresight as by the workers, with a round budget of 25万 added. By hand: 第一条 selects
    # R5, R2, R3 (10万 each), 第二条 P7 (30 patents: 20万; P6's 25 is past its 30万); 50万 approved, scaled x 0.5:
    # 5万 each and 10万. The files are one process's; the foresight is kept
    from test_subjects_rounds import POLICY, ROUND, claim

    from engine import load_policy

    text = POLICY.read_text(encoding="utf-8")
    head = '  rounding: {quantum: "0.01", mode: half_up}\n'
    assert text.count(head) == 1
    (tmp_path / "hexi.yaml").write_text(text.replace(head, head + "  round_budget: {amount: 25万}\n"), encoding="utf-8")
    hexi = load_policy(tmp_path / "hexi.yaml")
    leaders = [claim({"id": "p", "type": "patent_leader", "patents_granted": k}, n=n, claim_id=f"P{n}") for n, k in ((6, 25), (7, 30))]
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in [*ROUND, *leaders]), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    after = _after(hexi, inp, tmp_path / "after", url)
    final, said = _spy_final_pass(monkeypatch), []
    two = _two(hexi, inp, tmp_path / "two", url, on_step=lambda t, _d, _n: said.append(t))
    assert any("foresee" in t for t in said) and final == []
    ((rnd, record),) = two.scaling.items()
    assert record["approved_total"] == "500000.00" and record["factor"] == "0.500000" and two.approved_total == Decimal("250000.00")
    lines = {json.loads(x)["claim_id"]: json.loads(x) for x in (tmp_path / "two" / "decisions.jsonl").read_text().splitlines()}
    assert {c: d["total"] for c, d in lines.items()} == {
        "R1": "0.00", "R2": "50000.00", "R3": "50000.00", "R4": "0.00", "R5": "50000.00", "P6": "0.00", "P7": "100000.00",
    }  # fmt: skip
    assert two.scaling == after.scaling and rnd.endswith("2025")
    assert _files(tmp_path / "two") == _files(tmp_path / "after")


def test_replace_with_nothing_committed_before_and_with_the_round_committed_before(tmp_path: Path, monkeypatch) -> None:
    # `--replace`: into an empty ledger it commits as `--commit` does (foreseen and kept, commit n on the n-th
    # line); into a ledger holding the same claim ids committed with other content, the round is decided on one
    # process (a replacement), which foresees the round and makes its outputs while deciding, as a run on one process
    # does (before session 44: every output after deciding). The files are one process's either way
    chosen = policy_with_budget(tmp_path, "10万")
    first, second = _generated_round(tmp_path / "a.jsonl", 1, 60), _generated_round(tmp_path / "b.jsonl", 2, 60)
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    after = _made_after(chosen, first, tmp_path / "after", url, replace=True)
    final, said = _spy_final_pass(monkeypatch), []
    two = _two(chosen, first, tmp_path / "two", f"sqlite:///{tmp_path / 'm.sqlite'}", commit=True, replace=True)
    assert two.scaling and final == [] and two.committed == after.committed > 0
    lines = [json.loads(x) for x in (tmp_path / "two" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [d["ledger"]["commit"] for d in lines] == list(range(1, two.committed + 1))
    assert _same_outputs(tmp_path / "two", tmp_path / "after")
    # the same claim ids again (seed 2 numbers its claims as seed 1 does), other content: replacements
    one, two_url = _copy_ledger(tmp_path / "l.sqlite", tmp_path / "1.sqlite"), _copy_ledger(tmp_path / "l.sqlite", tmp_path / "2.sqlite")
    again = _made_after(chosen, second, tmp_path / "again-after", one, replace=True)
    final.clear()
    two = _two(chosen, second, tmp_path / "again-two", two_url, commit=True, replace=True, on_step=lambda t, _d, _n: said.append(t))
    assert two.replaced == again.replaced > 0 and two.scaling == again.scaling != {} and final == []
    assert any("foresee" in t for t in said)  # (the one process foresaw the round)
    assert _same_outputs(tmp_path / "again-two", tmp_path / "again-after")


def _own_templates(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The budgeted policy with a template of its own (any: the report is then drawn by the run alone)."""
    from engine import load_policy

    policy_with_budget(tmp_path, "10万")  # (its copy, with its texts/ folder, then given the template)
    path = tmp_path / "policy" / "pinggu_2020.yaml"
    path.write_text(
        path.read_text(encoding="utf-8") + '\ntemplates:\n  all:\n    explain.md.j2: "Own Markdown for {{ d.claim_id }}\\n"\n',
        encoding="utf-8",
    )
    return load_policy(path)


def test_a_report_drawn_with_the_policys_own_templates(tmp_path: Path, monkeypatch) -> None:
    # the workers make nothing (`worker_outputs` is None: the run alone draws a policy's own templates), and a
    # scaled decision cannot be made by the merge (no ledger to scale it by): every output after deciding, the
    # files one process's
    chosen = _own_templates(tmp_path)
    inp = _generated_round(tmp_path / "in.jsonl", 15, 120)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    after = _after(chosen, inp, tmp_path / "after", url)
    final, placed = _spy_final_pass(monkeypatch), _spy_placed(monkeypatch)
    two = _two(chosen, inp, tmp_path / "two", url)
    assert two.scaling and final == [1] and not any(placed) and two.report == after.report == "written"
    assert _files(tmp_path / "two") == _files(tmp_path / "after")


def test_no_foresight_when_the_workers_make_no_outputs(tmp_path: Path, monkeypatch) -> None:
    # with a policy's own templates the workers make nothing (`worker_outputs` is None), so what they foresee is
    # never used: the run should not decide the round twice for it (the foresight costs a whole deciding pass)
    chosen = _own_templates(tmp_path)
    inp = _generated_round(tmp_path / "in.jsonl", 15, 120)
    said: list[str] = []
    _two(chosen, inp, tmp_path / "two", f"sqlite:///{tmp_path / 'none.sqlite'}", on_step=lambda t, _d, _n: said.append(t))
    assert not any("foresee" in t for t in said)


def _small_report_limit(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import engine.records.batch as batch_mod
    import engine.records.workers as workers_mod

    monkeypatch.setattr(batch_mod, "REPORT_LIMIT", 10)  # (the round: 16 applications; the foresight's limit stays)
    monkeypatch.setattr(workers_mod, "REPORT_LIMIT", 10)


@pytest.mark.parametrize("report", [True, False])
def test_a_round_over_the_report_limit_but_within_the_foresights(tmp_path: Path, monkeypatch, report: bool) -> None:
    # more applications than a report holds (none is drawn), fewer than the foresight takes: the files are one
    # process's, the report said skipped alike (or not drawn). Without a report the merge gives no decision a
    # place, and what the workers made scaled is kept (with one asked for: the test below)
    chosen = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 7, 150)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    _small_report_limit(monkeypatch)
    after = _after(chosen, inp, tmp_path / "after", url, report=report)
    final = _spy_final_pass(monkeypatch)
    two = _two(chosen, inp, tmp_path / "two", url, report=report)
    assert two.applications == 16 and two.scaling and two.report == after.report
    assert two.report.startswith("skipped" if report else "not drawn") and not (tmp_path / "two" / "report.html").exists()
    if not report:
        assert final == []
    assert _files(tmp_path / "two") == _files(tmp_path / "after")


def test_a_round_over_the_report_limit_keeps_what_the_workers_made_scaled(tmp_path: Path, monkeypatch) -> None:
    # REPORT_LIMIT < applications <= FORESEE_LIMIT, the report asked for (the default): the workers draw no
    # explanation (`job.draw`: the round has no report), the merge's own page still gives the first decisions a
    # place, finds no explanation drawn and, a scaled round's line being one it cannot scale, gives up what the
    # workers made: the foresight (a whole deciding pass) was for nothing, and every output is made after deciding
    chosen = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 7, 150)
    _small_report_limit(monkeypatch)
    final, placed = _spy_final_pass(monkeypatch), _spy_placed(monkeypatch)
    two = _two(chosen, inp, tmp_path / "two", f"sqlite:///{tmp_path / 'none.sqlite'}")
    assert two.scaling and all(placed) and len(placed) == two.decided
    assert final == []


def test_a_foresight_that_fails_leaves_the_outputs_to_after_deciding(tmp_path: Path, monkeypatch) -> None:
    # the foresight is only a shortcut, as the outputs' process's `_DryRun` is on one process (its failure leaves
    # every output to after deciding): an exception in it (here in the parent's `_foresee_round`; in a worker's
    # `_foresee`, outside the deciding it guards, as `export_commit`) should not end a run that can decide
    import engine.records.workers as workers_mod

    chosen = policy_with_budget(tmp_path, "10万")
    inp = _generated_round(tmp_path / "in.jsonl", 7, 150)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    after = _after(chosen, inp, tmp_path / "after", url)

    def fails(*_a, **_k):  # type: ignore[no-untyped-def]
        raise RuntimeError("the foresight failed")

    monkeypatch.setattr(workers_mod, "_foresee_round", fails)
    final = _spy_final_pass(monkeypatch)
    two = _two(chosen, inp, tmp_path / "two", url)
    assert two.scaling == after.scaling and final == [1]
    assert _files(tmp_path / "two") == _files(tmp_path / "after")


@pytest.mark.parametrize("budget", [None, "1000000000"])
def test_a_round_over_the_report_limit_merged_makes_nothing_itself(policy, tmp_path: Path, monkeypatch, budget) -> None:
    # unscaled (no budget, or one it stays within), more applications than a report holds: the workers make
    # every decision's rows (no explanation: `job.draw`), but the merge's page, not yet given up, counts the first
    # REPORT_LIMIT decisions a place, finds no explanation drawn and makes each of them again itself (its rows
    # and an explanation drawn into a page that `finish` then never writes): up to 10,000 decisions' outputs on
    # the one process, after the bar. The files are right; the work is thrown away
    import engine.records.batch as batch_mod

    chosen = policy if budget is None else policy_with_budget(tmp_path, budget)
    inp = _generated_round(tmp_path / "in.jsonl", 7, 150)
    _small_report_limit(monkeypatch)
    used: list[int] = []
    real = batch_mod._Outputs._use

    def spied(self, d, drawn):  # type: ignore[no-untyped-def]
        used.append(drawn)
        return real(self, d, drawn)

    monkeypatch.setattr(batch_mod._Outputs, "_use", spied)
    final = _spy_final_pass(monkeypatch)
    two = _two(chosen, inp, tmp_path / "two", f"sqlite:///{tmp_path / 'none.sqlite'}")
    assert not two.scaling and final == [] and two.report.startswith("skipped")
    assert used == []  # (as it is: [1, 2, ..., 10], each drawn)


def test_a_scaling_foreseen_that_the_run_does_not_make(tmp_path: Path, monkeypatch) -> None:
    # the other way round from test_batch_outputs' wrong foresight (another factor): the foresight scales the
    # rounds (here to 10万: its `scale_round` made so), the run, within its budget of 1 billion, scales none. The
    # workers made every line scaled, the merge wrote them into decisions.jsonl; all thrown away, and every output
    # made after deciding: decisions.jsonl is then the decisions as decided, unscaled, the files one process's
    import engine.records.workers as workers_mod
    from engine.records.batch import scale_round

    chosen = policy_with_budget(tmp_path, "1000000000")
    inp = _generated_round(tmp_path / "in.jsonl", 18, 150)
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    after = _after(chosen, inp, tmp_path / "after", url)
    tight = policy_with_budget(tmp_path / "tight", "10万")

    def foreseen_tight(target, rnd, years):  # type: ignore[no-untyped-def]
        return scale_round(target, rnd, dict.fromkeys(years, tight))

    monkeypatch.setattr(workers_mod, "scale_round", foreseen_tight)
    final, placed = _spy_final_pass(monkeypatch), _spy_placed(monkeypatch)
    two = _two(chosen, inp, tmp_path / "two", url)
    assert two.scaling == after.scaling == {} and final == [1] and len(placed) == two.decided and all(placed)
    lines = (tmp_path / "two" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines and not any("scaling" in json.loads(x) for x in lines)
    assert _files(tmp_path / "two") == _files(tmp_path / "after")


@pytest.mark.parametrize("commit", [False, True])
def test_a_scaled_round_on_workers_read_from_a_file_whose_name_is_not_utf8(tmp_path: Path, monkeypatch, commit: bool) -> None:
    # each decision line names its input file; a name that is not UTF-8 is a lone surrogate in the line (escaped
    # in the files), which msgspec refuses: the workers scale such a line by json (as `_final_pass` does), and the
    # merge numbers it (committed). The files are one process's; the foresight is kept
    import os

    chosen = policy_with_budget(tmp_path, "10万")
    named = Path(os.fsdecode(str(tmp_path).encode() + b"/round-\xff.jsonl"))
    _generated_round(named, 19, 120)
    after = _after(chosen, named, tmp_path / "after", f"sqlite:///{tmp_path / 'a.sqlite'}", commit=commit)
    final = _spy_final_pass(monkeypatch)
    two = _two(chosen, named, tmp_path / "two", f"sqlite:///{tmp_path / 'b.sqlite'}", commit=commit)
    assert two.scaling == after.scaling != {} and final == []
    lines = [json.loads(x) for x in (tmp_path / "two" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(lines) == two.decided and all(d["input"]["file"] == str(named) and "scaling" in d for d in lines)
    if commit:
        assert [d["ledger"]["commit"] for d in lines] == list(range(1, two.committed + 1))
    assert _same_outputs(tmp_path / "two", tmp_path / "after")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_scaled_round_read_from_a_workbook(tmp_path: Path, monkeypatch, lang: str) -> None:
    # the example round's workbook (examples/round_2021.xlsx: 7 applications, 6 decided, 1 error naming its
    # sheet and row), every worker reading it whole in the foresight as in deciding, its round scaled to 5万 (it
    # approves more): the files are one process's, the foresight kept
    chosen = policy_with_budget(tmp_path, "5万")
    inp = ROOT / "examples" / "round_2021.xlsx"
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    after = _after(chosen, inp, tmp_path / "after", url, report_lang=lang)
    final = _spy_final_pass(monkeypatch)
    two = _two(chosen, inp, tmp_path / "two", url, report_lang=lang)
    assert two.scaling == after.scaling != {} and two.decided == 6 and two.failed == 1 and final == []
    assert two.approved_total == Decimal("50000.00") and two.report == "written"
    assert _files(tmp_path / "two") == _files(tmp_path / "after")
