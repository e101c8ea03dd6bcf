"""Findings are authoritative (issue 11, point 5): a claim can never displace a 第十四条 finding the ledger holds.

第十四条: 申请人在申报支持或奖励资金过程中弄虚作假套取资金的，……取消五年内申报支持或奖励资金的资格。
R5: every item is refused for five years from the date of the finding. R24: the bar runs from the finding's date to
the same calendar date five years later, inclusive (29 Feb -> 28 Feb), compared with the submission date; so a finding
made after the submission does not bar it. Note N6 of the policy: the applicant may state findings, but the decision
takes every finding stated and every finding on record.

R7: the 2020 measures decide funding years 2021-2023 (applications made 2022-2024), the 2024 draft 2024-2026
(applications 2025-2027): every date below is picked inside those windows. Amounts: 第五条(一) pays 50% of the
official fees; conftest's invention patent paid 8,400.00, so a free applicant is granted 4,200.00.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import APPLICANTS, ENTERPRISE_ID, POLICY_PATH, ROOT, claim, item
from test_ledger_support import BACKENDS, make_ledger_url

import engine
from engine.deciding import evaluator
from engine.explaining import render
from engine.language import expressions
from engine.language.expressions import Facts
from engine.records.ledger import Ledger, LedgerError, check_finding

DRAFT_PATH = ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml"
FACT = "fraud_finding_dates"
BAR = "five-year-bar"
D = dt.date.fromisoformat


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from make_ledger_url(request.param, tmp_path)


@pytest.fixture(scope="module")
def draft() -> engine.CompiledPolicy:
    return engine.load_policy(DRAFT_PATH)


def standing(decision: dict[str, Any]) -> tuple[str, list[str]]:
    return decision["standing"]["result"], [r["check"] for r in decision["standing"]["reasons"]]


def bar_facts(decision: dict[str, Any]) -> dict[str, Any]:
    """The facts the five-year bar was decided on, as the decision's trace records them."""
    (step,) = [s for s in decision["standing"]["steps"] if s.get("check") == BAR]
    facts: dict[str, Any] = step["facts"]
    return facts


def patent(year: int = 2021, **kw: Any) -> dict[str, Any]:
    return item("invention_patent_grant", "p1", date=f"{year}-06-01", **kw)


def called(policy: engine.CompiledPolicy) -> Any:
    """The policy's evaluation context with every generated function calling the expression functions instead of
    holding their inlined bodies (the variant an inlined function hands an item to on a runtime error)."""
    return evaluator._Context(policy, inline=False)


@pytest.fixture(params=["inlined", "called"])
def on_path(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Decide on the generated code with expression bodies inlined, or on its called variant."""
    swapped: list[tuple[engine.CompiledPolicy, Any]] = []

    def decide(policy: engine.CompiledPolicy, data: dict[str, Any]) -> dict[str, Any]:
        if request.param == "called" and all(p is not policy for p, _ in swapped):
            swapped.append((policy, evaluator._context(policy)))
            object.__setattr__(policy, evaluator._SLOT, called(policy))
        return engine.evaluate(policy, data).to_dict()

    try:
        yield decide
    finally:
        for policy, ctx in swapped:
            object.__setattr__(policy, evaluator._SLOT, ctx)


# --- the function and the reading ----------------------------------------------------------------------


def test_latest_on_or_before_by_hand() -> None:
    f = expressions.FUNCTIONS["latest_on_or_before"]
    dates = (D("2010-01-10"), D("2019-06-01"), D("2022-06-01"))
    assert f(dates, D("2022-03-15")) == D("2019-06-01")  # the finding after the day is passed over
    assert f(dates, D("2019-06-01")) == D("2019-06-01")  # on the day itself: on or before
    assert f(dates, D("2019-05-31")) == D("2010-01-10")
    assert f(dates, D("2010-01-09")) is None
    assert f((), D("2022-03-15")) is None
    assert f(list(reversed(dates)), D("2030-01-01")) == D("2022-06-01")  # order of the list does not matter
    assert expressions.ARITY["latest_on_or_before"] == (2, 2)
    for bad in (("2019-06-01",), D("2019-06-01")):
        with pytest.raises(TypeError):
            f(bad, D("2022-03-15"))


def test_add_years_keeps_the_order_of_dates() -> None:
    """Why the latest finding on or before the submission decides whether any finding bars it: add_years(·, 5) never
    puts a later finding's end before an earlier one's. Checked day by day over 2012-2029 (five leap days), and the
    leap-day case by hand (R24: a finding on 29 Feb ends on 28 Feb)."""
    add = expressions.FUNCTIONS["add_years"]
    day = D("2012-01-01")
    while day < D("2029-12-31"):
        nxt = day + dt.timedelta(days=1)
        assert add(day, 5) <= add(nxt, 5), day
        day = nxt
    assert add(D("2016-02-28"), 5) == add(D("2016-02-29"), 5) == D("2021-02-28")
    assert add(D("2016-03-01"), 5) == D("2021-03-01")
    assert add(D("2020-02-29"), 5) == D("2025-02-28")


def test_the_policy_bar_is_any_finding_within_its_five_years(policy: engine.CompiledPolicy) -> None:
    """The Pinggu check, evaluated as compiled from the policy, against the reading written plainly: barred exactly
    when some finding d has d <= submission <= d + 5 years (R5, R24). 4,000 seeded cases, leap days included."""
    (check,) = [t for t in policy.applicant_checks if t.id == BAR]
    rng = random.Random(115)
    leap_days = [D("2016-02-29"), D("2020-02-29"), D("2024-02-29")]
    start = D("2013-01-01")
    for _ in range(4000):
        findings = [start + dt.timedelta(days=rng.randrange(14 * 366)) for _ in range(rng.randrange(5))]
        if findings and rng.random() < 0.3:
            findings[0] = rng.choice(leap_days)
        pivot = rng.choice(findings) if findings and rng.random() < 0.5 else None
        submitted = start + dt.timedelta(days=rng.randrange(14 * 366))
        if pivot is not None:  # aim at the edges: the finding's own day, its fifth anniversary and the days around
            submitted = rng.choice([pivot, expressions._add_years(pivot, 5)]) + dt.timedelta(days=rng.choice((-1, 0, 1)))
        passes = check.expression(
            Facts("item"), Facts("applicant", {FACT: tuple(sorted(set(findings)))}), Facts("claim", {"submission_date": submitted})
        )
        barred = any(d <= submitted <= expressions._add_years(d, 5) for d in findings)
        assert passes is (not barred), (findings, submitted)


# --- the reading through whole decisions (no ledger), on the inlined and the called variant -----------------


def test_a_finding_made_after_the_submission_does_not_bar_it(policy: engine.CompiledPolicy, on_path: Any) -> None:
    """R24 compares the submission date: found 2022-06-01, an application submitted 2022-03-01 (funding year 2021) is
    not barred (granted 4,200.00); one submitted 2023-03-01 (funding year 2022) is (the bar runs to 2027-06-01)."""
    before = on_path(policy, claim(patent(), submission_date="2022-03-01", **{FACT: ["2022-06-01"]}))
    assert standing(before) == ("ok", [])
    assert (before["items"][0]["status"], before["items"][0]["amount"]) == ("granted", "4200.00")
    after = on_path(policy, claim(patent(2022), funding_year=2022, submission_date="2023-03-01", **{FACT: ["2022-06-01"]}))
    assert standing(after) == ("refused", [BAR])
    assert (after["items"][0]["status"], after["items"][0]["amount"]) == ("refused", "0.00")


def test_the_fifth_anniversary_is_still_barred(policy: engine.CompiledPolicy, on_path: Any) -> None:
    """R24: found 2017-06-01 -> barred through 2022-06-01 inclusive; submitted 2022-06-02 -> granted 4,200.00."""
    on = on_path(policy, claim(patent(), submission_date="2022-06-01", **{FACT: ["2017-06-01"]}))
    assert standing(on) == ("refused", [BAR])
    free = on_path(policy, claim(patent(), submission_date="2022-06-02", **{FACT: ["2017-06-01"]}))
    assert standing(free) == ("ok", []) and free["items"][0]["amount"] == "4200.00"


def test_a_29_february_finding_ends_on_28_february(draft: engine.CompiledPolicy, on_path: Any) -> None:
    """R24 (a finding on 29 Feb ends on 28 Feb), in years the 2024 draft decides (R7: funding year 2024, submitted
    2025): found 2020-02-29 -> barred on 2025-02-28, free on 2025-03-01 (50% of 8,400.00 = 4,200.00)."""
    on = on_path(draft, claim(patent(2024), funding_year=2024, submission_date="2025-02-28", **{FACT: ["2020-02-29"]}))
    assert standing(on) == ("refused", [BAR])
    free = on_path(draft, claim(patent(2024), funding_year=2024, submission_date="2025-03-01", **{FACT: ["2020-02-29"]}))
    assert standing(free) == ("ok", []) and free["items"][0]["amount"] == "4200.00"


def test_each_finding_bars_on_its_own(policy: engine.CompiledPolicy, on_path: Any) -> None:
    """Several findings: 2010-01-10 (expired 2015-01-10) and 2019-06-01 (bars through 2024-06-01) -> an application of
    2022-03-15 is barred whichever order they are given in; 2010-01-10 and 2016-06-01 (expired 2021-06-01) -> free."""
    for dates in (["2010-01-10", "2019-06-01"], ["2019-06-01", "2010-01-10"]):
        d = on_path(policy, claim(patent(), **{FACT: dates}))
        assert standing(d) == ("refused", [BAR]), dates
        assert bar_facts(d) == {f"applicant.{FACT}": ["2010-01-10", "2019-06-01"], "claim.submission_date": "2022-03-15"}
    free = on_path(policy, claim(patent(), **{FACT: ["2010-01-10", "2016-06-01"]}))
    assert standing(free) == ("ok", []) and free["items"][0]["amount"] == "4200.00"


@pytest.mark.parametrize(
    ("stated", "path", "message"),
    [
        (["2019-06-01", "2019-06-01"], (), "has non-unique elements"),
        (["2021-02-29"], (0,), "'2021-02-29' is not a real calendar date"),
        (["2019-6-1"], (0,), "'2019-6-1' is not in the expected form"),
        ("2019-06-01", (), "is not of type 'array'"),
        (None, (), "null is not of type 'array'"),  # (said as JSON writes it, not Python's None)
        ([f"2000-01-{d:02d}" for d in range(1, 32)] + [f"2000-03-{d:02d}" for d in range(1, 32)] + [f"2000-05-{d:02d}" for d in range(1, 32)]
         + [f"2000-07-{d:02d}" for d in range(1, 9)], (), "101 entries, at most 100"),  # (31 + 31 + 31 + 8)
    ],
)  # fmt: skip
def test_stated_finding_dates_are_checked_never_coerced(
    policy: engine.CompiledPolicy, stated: Any, path: tuple[int, ...], message: str
) -> None:
    """A claim's list of dates: distinct real dates YYYY-MM-DD, at most 100 (the bound on what latest_on_or_before
    walks); anything else is a located claim error."""
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim(policy, claim(patent(), **{FACT: stated}))
    assert any(p.path == ("applicant", FACT, *path) and message in p.message for p in caught.value.problems), caught.value.problems


# --- against a ledger (SQLite, and PostgreSQL when $POLICY_ENGINE_TEST_PG is set) ---------------------------


def test_a_claim_stating_an_older_finding_is_still_barred_by_the_ledger(policy: engine.CompiledPolicy, url: str) -> None:
    """On record: found 2019-06-01 (bars through 2024-06-01). The claim states only 2012-01-10 (expired 2017-01-10):
    the decision takes both, and the application of 2022-03-15 is refused."""
    with Ledger(url) as ledger:
        ledger.record_finding(ENTERPRISE_ID, FACT, "2019-06-01", reason="fraud found", policy=policy)
        result = ledger.commit(policy, claim(patent(), claim_id="F-1", **{FACT: ["2012-01-10"]}))
        assert standing(result.decision) == ("refused", [BAR])
        assert bar_facts(result.decision)[f"applicant.{FACT}"] == ["2012-01-10", "2019-06-01"]
        assert result.grants == 0 and list(ledger.grants()) == []


@pytest.mark.parametrize("stated", [[], ...], ids=["states-none", "leaves-it-out"])
def test_a_claim_stating_no_finding_is_barred_by_the_ledger(policy: engine.CompiledPolicy, url: str, stated: Any) -> None:
    """On record: found 2019-06-01. A claim saying "no findings" ([]) or leaving the fact out is refused all the same."""
    with Ledger(url) as ledger:
        ledger.record_finding(ENTERPRISE_ID, FACT, "2019-06-01", reason="fraud found", policy=policy)
        result = ledger.commit(policy, claim(patent(), claim_id="F-1", **{FACT: stated}))
        assert standing(result.decision) == ("refused", [BAR])
        assert bar_facts(result.decision)[f"applicant.{FACT}"] == ["2019-06-01"]


def test_two_findings_on_record_the_later_recorded_one_expired(policy: engine.CompiledPolicy, url: str) -> None:
    """On record, in this order: 2019-06-01 (bars through 2024-06-01), then an old one, 2010-01-10 (expired
    2015-01-10). Every value on record counts, not only the last recorded: the application of 2022-03-15 is refused."""
    with Ledger(url) as ledger:
        ledger.record_finding(ENTERPRISE_ID, FACT, "2019-06-01", reason="fraud found", policy=policy)
        ledger.record_finding(ENTERPRISE_ID, FACT, "2010-01-10", reason="an older case entered late", policy=policy)
        assert ledger.facts_on_record(ENTERPRISE_ID) == {FACT: ["2019-06-01", "2010-01-10"]}
        result = ledger.commit(policy, claim(patent(), claim_id="F-1"))
        assert standing(result.decision) == ("refused", [BAR])
        assert bar_facts(result.decision)[f"applicant.{FACT}"] == ["2010-01-10", "2019-06-01"]


def test_a_finding_on_record_after_the_submission_does_not_bar_it(policy: engine.CompiledPolicy, url: str) -> None:
    """On record: found 2022-06-01. Submitted 2022-03-01 (funding year 2021) -> granted 4,200.00; submitted 2023-03-01
    (funding year 2022; a second patent, 第五条(一) pays once per patent) -> refused."""
    with Ledger(url) as ledger:
        ledger.record_finding(ENTERPRISE_ID, FACT, "2022-06-01", reason="fraud found", policy=policy)
        before = ledger.commit(policy, claim(patent(), claim_id="F-2021", submission_date="2022-03-01"))
        assert standing(before.decision) == ("ok", []) and before.decision["items"][0]["amount"] == "4200.00"
        later = claim(patent(2022, patent_id="ZL202110000909.7"), claim_id="F-2022", funding_year=2022, submission_date="2023-03-01")
        after = ledger.commit(policy, later)
        assert standing(after.decision) == ("refused", [BAR])
        assert [g["claim_id"] for g in ledger.grants()] == ["F-2021"]


def test_a_dry_run_on_a_scratch_ledger_counts_the_findings_under_it(policy: engine.CompiledPolicy, url: str, tmp_path: Path) -> None:
    """Deciding only: the scratch ledger holds no findings, the real one under it (base) does: refused."""
    with Ledger(url) as real, Ledger(f"sqlite:///{tmp_path / 'scratch.sqlite'}") as scratch:
        real.record_finding(ENTERPRISE_ID, FACT, "2019-06-01", reason="fraud found", policy=policy)
        result = scratch.commit(policy, claim(patent(), claim_id="F-1", **{FACT: []}), base=real)
        assert standing(result.decision) == ("refused", [BAR])


def test_a_finding_from_the_ledger_is_explained_as_on_record_not_as_declared(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    """The clerk's explanation of enterprise A's next application said the ledger's finding as if A had declared it:
    ✗ 第十四条：…（申报事实：被认定弄虚作假套取资金的日期（无则留空）为 2023-04-01、申报提交日期为 2024-03-15）. The fact
    came from the ledger's findings (on_record: authoritative); the decision now names it in its `ledger` member
    (facts_on_record) and the explanation says it as on record (台账认定事实), the submission date still as declared.
    Found 2019-06-01, submitted 2022-03-15: inside the five years (R24), refused."""
    words = policy.applicant_facts[FACT].short
    assert words is not None  # (an explanation says the fact by its short name, without the form's hint)
    label = words.zh
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    with Ledger(url) as ledger:
        ledger.record_finding(ENTERPRISE_ID, FACT, "2019-06-01", reason="弄虚作假", policy=policy)
        result = ledger.commit(policy, claim(patent(), claim_id="F-1"))
        assert standing(result.decision) == ("refused", [BAR]) and result.ledger["facts_on_record"] == {FACT: ["2019-06-01"]}
        stored = ledger.stored_decision("F-1")
        free = ledger.commit(policy, claim(patent(patent_id="ZL202010000777.3"), claim_id="F-2", applicant="natural_person"))
        assert "facts_on_record" not in free.ledger  # (nothing on record for that applicant: nothing named)
    assert stored is not None and stored["ledger"]["facts_on_record"] == {FACT: ["2019-06-01"]}
    zh = render.explain(policy, stored, lang="zh")
    [line] = [x for x in zh.splitlines() if x.lstrip().startswith("✗ 第十四条")]
    assert f"（台账认定事实：{label}为 2019-06-01；申报事实：" in line, line
    assert line.endswith("为 2022-03-15；限制期至 2024-06-01（含当日））"), line  # (the bar's end: 2019-06-01 + 5 years, R24)
    assert f"申报事实：{label}" not in zh
    en = render.explain(policy, stored, lang="en")
    assert f"(on record in the ledger: {words.en}: 2019-06-01; as claimed: " in en, en
    # the same date stated by the applicant, decided without a ledger: declared, as before
    own = engine.evaluate(policy, claim(patent(), claim_id="F-3", **{FACT: ["2019-06-01"]}))
    said = render.explain(policy, own, lang="zh")
    assert f"（申报事实：{label}为 2019-06-01；" in said and "台账认定事实" not in said
    # a batch deciding only, against the ledger: its decisions.jsonl line names the fact too, and explains it so
    (tmp_path / "c.json").write_text(json.dumps(claim(patent(), claim_id="F-4"), ensure_ascii=False), encoding="utf-8")
    import io

    from engine.records.batch import run_batch

    run_batch(policy, tmp_path / "c.json", tmp_path / "o", ledger_url=url, stderr=io.StringIO())
    line_of_batch = json.loads((tmp_path / "o" / "decisions.jsonl").read_text(encoding="utf-8"))
    assert line_of_batch["ledger"] == {
        "round": line_of_batch["ledger"]["round"],
        "status": "not_committed",
        "facts_on_record": {FACT: ["2019-06-01"]},
    }
    assert f"（台账认定事实：{label}为 2019-06-01；申报事实：" in render.explain(policy, line_of_batch, lang="zh")
    # committed on two workers: each line, and the decision stored, name it as one process does
    claims = [claim(patent(patent_id=p), claim_id=f"W-{n}") for n, p in enumerate(("ZL202010000001.1", "ZL202010000777.3"))]
    (tmp_path / "w.jsonl").write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in claims), encoding="utf-8")
    run_batch(policy, tmp_path / "w.jsonl", tmp_path / "w", ledger_url=url, commit=True, workers=2, stderr=io.StringIO())
    lines = [json.loads(x) for x in (tmp_path / "w" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [d["ledger"].get("facts_on_record") for d in lines] == [{FACT: ["2019-06-01"]}] * 2
    with Ledger(url) as ledger:
        assert ledger.stored_decision("W-1")["ledger"]["facts_on_record"] == {FACT: ["2019-06-01"]}  # type: ignore[index]


def test_recorded_values_of_one_fact_are_bounded(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    """A list fact joins a claim whole, and a claim's list holds at most 100 values: the 101st distinct value of one
    fact for one applicant is refused (the same value again is harmless)."""
    with Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}") as ledger:
        first = D("2000-01-01")
        for n in range(100):
            ledger.record_finding(ENTERPRISE_ID, FACT, (first + dt.timedelta(days=n)).isoformat(), reason="x")
        ledger.record_finding(ENTERPRISE_ID, FACT, "2000-01-01", reason="recorded twice")
        with pytest.raises(LedgerError, match=r"already has 100 values of fraud_finding_dates on record \(at most 100\)"):
            ledger.record_finding(ENTERPRISE_ID, FACT, "2019-06-01", reason="x")
        assert len(ledger.facts_on_record(ENTERPRISE_ID)[FACT]) == 100


def test_check_finding_takes_one_date_of_a_list_fact(policy: engine.CompiledPolicy) -> None:
    check_finding(policy, ENTERPRISE_ID, FACT, "2019-06-01")
    with pytest.raises(
        LedgerError, match=r"applicant fraud_finding_dates '2021-02-29' is not a valid date \(expected a date YYYY-MM-DD that exists\)"
    ):
        check_finding(policy, ENTERPRISE_ID, FACT, "2021-02-29")
    with pytest.raises(LedgerError, match="is not a valid date"):
        check_finding(policy, ENTERPRISE_ID, FACT, "2019-06-01; 2010-01-10")  # one finding at a time
    with pytest.raises(LedgerError, match="did you mean 'fraud_finding_dates'"):
        check_finding(policy, ENTERPRISE_ID, "fraud_finding_date", "2019-06-01")
    # written another way: the date to write, and the kind in the reader's words (it said "不是有效的 date")
    from engine.core.i18n import tr

    with pytest.raises(LedgerError) as caught:
        check_finding(policy, ENTERPRISE_ID, FACT, "2023/4/1")
    assert 'expected the date written YYYY-MM-DD: "2023-04-01"' in str(caught.value)
    with pytest.raises(LedgerError) as caught:
        check_finding(policy, ENTERPRISE_ID, FACT, "2021-02-29")
    assert (
        tr(caught.value.args[0], "zh")
        == "申请人 被认定弄虚作假套取资金的日期（fraud_finding_dates） '2021-02-29' 不是有效的日期（应为 格式为 YYYY-MM-DD 且真实存在的日期）"
    )


# --- the command line: ledger finding, batch (deciding only and committing), the explanation ----------------


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=cwd, check=False, env=env)


def test_ledger_finding_and_batch_on_the_command_line(policy: engine.CompiledPolicy, url: str, tmp_path: Path) -> None:
    """`ledger finding` records 2019-06-01, then 2010-01-10; the application states only 2012-01-10. `batch --ledger`
    deciding only and then committing both refuse it (five-year bar, R5, R24); another applicant with no finding is
    granted 4,200.00. The explanation shows every finding date it was decided on."""
    for value in ("2019-06-01", "2010-01-10"):
        r = run(tmp_path, "ledger", "finding", "--policy", str(POLICY_PATH), "--applicant", ENTERPRISE_ID, "--fact", FACT,
                "--value", value, "--reason", "fraud found", "--ledger", url)  # fmt: skip
        assert r.returncode == 0, r.stderr
    r = run(tmp_path, "ledger", "finding", "--policy", str(POLICY_PATH), "--applicant", ENTERPRISE_ID, "--fact", FACT,
            "--value", "2019-06-01;2010-01-10", "--reason", "x", "--ledger", url)  # fmt: skip
    assert r.returncode == 1 and "is not a valid date" in r.stderr and "Traceback" not in r.stderr
    barred = claim(patent(), claim_id="B-1", **{FACT: ["2012-01-10"]})
    other = claim(patent(), claim_id="B-2", applicant=dict(APPLICANTS["enterprise"], id="91110117MA02XYHW3G"))
    (tmp_path / "round.jsonl").write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in (barred, other)), encoding="utf-8")
    for extra in ((), ("--commit",)):
        out = tmp_path / ("commit" if extra else "dry")
        r = run(tmp_path, "batch", "--policy", str(POLICY_PATH), "round.jsonl", "-q", "--ledger", url, "--out", str(out), *extra)
        assert r.returncode == 0, r.stderr
        decisions = {d["claim_id"]: d for d in map(json.loads, (out / "decisions.jsonl").read_text(encoding="utf-8").splitlines())}
        assert standing(decisions["B-1"]) == ("refused", [BAR]), extra
        assert bar_facts(decisions["B-1"])[f"applicant.{FACT}"] == ["2010-01-10", "2012-01-10", "2019-06-01"]
        assert decisions["B-2"]["items"][0]["amount"] == "4200.00"
    with Ledger(url) as ledger:
        assert [g["claim_id"] for g in ledger.grants()] == ["B-2"]
    # the dates on record said as on record, the one the application stated (2012-01-10) as declared, with the
    # submission date
    shown = {
        # (the facts apart by "；" / "; ", the dates of one fact by "、" / ", "; the fact by its short name, without
        # the form's filling hint "（无则留空）")
        ("en", "text"): "on record in the ledger: dates of findings that the applicant obtained funds by fraud: 2010-01-10, "
        "2019-06-01; as claimed: dates of findings that the applicant obtained funds by fraud: 2012-01-10; "
        "date the application was submitted: 2022-03-15",
        ("zh", "text"): "台账认定事实：被认定弄虚作假套取资金的日期为 2010-01-10、2019-06-01；"
        "申报事实：被认定弄虚作假套取资金的日期为 2012-01-10；申报提交日期为 2022-03-15",
        ("en", "md"): "2010-01-10, 2019-06-01; as claimed: ",
        ("zh", "html"): "2010-01-10、2019-06-01；申报事实：",
    }
    for (lang, fmt), words in shown.items():
        assert words in render.explain(policy, decisions["B-1"], lang, fmt), (lang, fmt)
    assert decisions["B-1"]["ledger"]["facts_on_record"] == {FACT: ["2019-06-01", "2010-01-10"]}  # (what the ledger added, as recorded)


def test_a_spreadsheet_cell_lists_several_findings(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    """CSV: `applicant.fraud_finding_dates` holds "2010-01-10; 2019-06-01" (list cells split on ;) -> barred."""
    from test_batch import _csv, _row

    from engine.records.batch import run_batch

    docs = "proof_of_right; fee_receipts; sealed_receipt_copies"
    row = _row("S-1", **{"applicant.fraud_finding_dates": "2010-01-10; 2019-06-01", "item.id": "p1", "item.type": "invention_patent_grant",
                         "item.patent_id": "ZL202010000001.1", "item.patent_kind": "invention", "item.route": "domestic",
                         "item.official_fees_paid": "8400.00", "item.documents": docs})  # fmt: skip
    run_batch(policy, _csv(tmp_path, [row]), tmp_path / "out", quiet=True)
    (d,) = map(json.loads, (tmp_path / "out" / "decisions.jsonl").read_text(encoding="utf-8").splitlines())
    assert standing(d) == ("refused", [BAR])
    assert bar_facts(d)[f"applicant.{FACT}"] == ["2010-01-10", "2019-06-01"]


# --- the mechanism is the policy's, and checked when it loads ---------------------------------------------


def variant(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """A copy of the Pinggu policy (next to its texts/) with `edits` applied, each old text found exactly once."""
    import shutil

    shutil.copytree(POLICY_PATH.parent / "texts", tmp_path / "texts", dirs_exist_ok=True)
    text = POLICY_PATH.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "variant.yaml"
    path.write_text(text, encoding="utf-8")
    return path


BAR_TEST = "latest_on_or_before(applicant.fraud_finding_dates, claim.submission_date) == None\n"
FACT_LINE = "fraud_finding_dates: {type: date_list, default: [], on_record: authoritative,"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            (BAR_TEST, "latest_on_or_before(claim.submission_date, claim.submission_date) == None\n"),
            "latest_on_or_before() needs a date_list fact here; claim.submission_date is a date",
        ),
        (
            (BAR_TEST, "latest_on_or_before(applicant.fraud_finding_dates, applicant.fraud_finding_dates) == None\n"),
            "latest_on_or_before() needs a date fact here; applicant.fraud_finding_dates is a date_list",
        ),
        ((BAR_TEST, "latest_on_or_before(applicant.fraud_finding_dates) == None\n"), "latest_on_or_before() takes 2 arguments, 1 given"),
        (
            ("submission_date: {type: date,", "submission_date: {type: date, on_record: authoritative,"),
            "on_record applies to applicant facts only",
        ),
        (
            ("    actually_operating: {type: boolean,", "    actually_operating: {type: boolean, on_record: fills,"),
            "a ledger cannot hold a boolean fact on record",
        ),
        ((FACT_LINE, FACT_LINE.replace("default: []", 'default: ["2019-06-01"]')), "can only be [] or null"),
    ],
)
def test_the_mechanism_is_checked_when_the_policy_loads(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    path = variant(tmp_path, edit)
    with pytest.raises(engine.PolicyError) as caught:
        engine.load_policy(path)
    problems = [p for p in caught.value.problems if message in p.message]
    assert problems, [p.message for p in caught.value.problems]
    assert problems[0].file and problems[0].line  # located in the policy file


SCALAR = (
    "fraud_finding_dates: {type: date_list, default: [], on_record: authoritative,",
    "fraud_finding_date: {type: date, default: null, ON_RECORD",
)
SCALAR_TEST = (
    BAR_TEST + "      or claim.submission_date > add_years(latest_on_or_before(applicant.fraud_finding_dates, claim.submission_date), 5)\n",
    "applicant.fraud_finding_date == None or claim.submission_date < applicant.fraud_finding_date\n"
    "      or claim.submission_date > add_years(applicant.fraud_finding_date, 5)\n",
)

#: the bar's shown end (`shows:`) reads the fact too
SCALAR_SHOWS = (
    "add_years(latest_on_or_before(applicant.fraud_finding_dates, claim.submission_date), 5)\n"
    "          if latest_on_or_before(applicant.fraud_finding_dates, claim.submission_date) != None else None\n",
    "add_years(applicant.fraud_finding_date, 5) if applicant.fraud_finding_date != None else None\n",
)


@pytest.mark.parametrize(("on_record", "outcome"), [("", ("ok", [])), ("on_record: authoritative,", ("refused", [BAR]))])
def test_a_single_valued_fact_fills_or_is_authoritative_as_declared(tmp_path: Path, on_record: str, outcome: tuple[str, list[str]]) -> None:
    """The same mechanism on a single date: on record 2019-06-01, the claim states 2012-01-10 (expired 2017-01-10).
    Declared as before (fills what a claim leaves empty), the claim's date stands and the application of 2022-03-15
    is granted; declared authoritative, the value on record is decided on and it is refused."""
    policy = engine.load_policy(variant(tmp_path, (SCALAR[0], SCALAR[1].replace("ON_RECORD", on_record)), SCALAR_TEST, SCALAR_SHOWS))
    with Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}") as ledger:
        ledger.record_finding(ENTERPRISE_ID, "fraud_finding_date", "2019-06-01", reason="fraud found", policy=policy)
        result = ledger.commit(policy, claim(patent(), claim_id="F-1", fraud_finding_date="2012-01-10"))
        assert standing(result.decision) == outcome
        left_out = ledger.commit(policy, claim(patent(), claim_id="F-2", fraud_finding_date=...))
        assert standing(left_out.decision) == ("refused", [BAR])  # either way a fact left out is filled
