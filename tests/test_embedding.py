"""The Python API as an embedding program meets it (a red team of the facade, session 22).

Values by hand from the measures: the example application (examples/claim_enterprise_2021.json) asks 8,400.00 of
official fees for p1 (第五条第（一）项: 50% -> 4,200.00), and its two pledge loans use 250,000.00 + 50,000.00 of the
applicant's 300,000.00 a year (第六条第（一）项).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from conftest import ROOT
from test_ledger_support import BACKENDS, make_ledger_url

import engine
from engine.core.i18n import tr

EXAMPLE = ROOT / "examples" / "claim_enterprise_2021.json"
APPLICANT = "91110117MA01ABCD1F"


@pytest.fixture(scope="module")
def policy() -> engine.CompiledPolicy:
    return engine.load_policy(ROOT / "policies" / "pinggu_2020.yaml")


def example() -> dict[str, Any]:
    data: dict[str, Any] = engine.loads_json(EXAMPLE.read_text(encoding="utf-8"))
    return data


# --- a parsed claim's data changed afterwards --------------------------------------------------------------------


@pytest.mark.parametrize("with_finding", [True, False], ids=["a finding on record", "no finding"])
def test_a_claim_whose_data_changed_after_parsing_is_not_committed(
    policy: engine.CompiledPolicy, tmp_path: Path, with_finding: bool
) -> None:
    """The claim keeps the caller's dict (`raw`); the ledger read it again: with a finding on record it committed
    p1 at 40,000,000.00 (half of the 80,000,000.00 written in after parsing) where the parsed claim asks 4,200.00,
    and without one it hashed the changed data, so the true application was then refused as different."""
    data = example()
    claim = engine.parse_claim(policy, data)
    assert engine.evaluate(policy, claim).items[0].amount == Decimal("4200.00")
    data["items"][0]["official_fees_paid"] = "80000000.00"  # the program reuses its dict for the next application
    with engine.Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as ledger:
        if with_finding:  # (a finding years before: it bars nothing in 2021, but facts on record are joined in)
            ledger.record_finding(APPLICANT, "fraud_finding_dates", "2015-01-01", reason="核查", policy=policy)
        with pytest.raises(engine.LedgerError) as refused:
            ledger.commit(policy, claim)
        assert "changed since it was parsed" in str(refused.value) or "解析之后" in str(refused.value)
        assert ledger.commit(policy, example()).decision["total"] == "804200.00"  # the true application, as data
        again = ledger.commit(policy, engine.parse_claim(policy, example()))  # and parsed afresh: the same application
        assert again.status == "already_committed"


def test_a_claim_parsed_under_another_policy_is_refused_by_evaluate_and_the_ledger(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    other = engine.load_policy(ROOT / "tests" / "fixtures" / "fictional_district.yaml")
    claim = engine.parse_claim(policy, example())
    with pytest.raises(engine.ClaimError) as caught:  # (it was a KeyError from deep in the rules)
        engine.evaluate(other, claim)
    [problem] = caught.value.problems
    assert tuple(problem.path) == ("items", 0, "type") and "invention_patent" in problem.message
    with engine.Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as ledger, pytest.raises(engine.LedgerError):
        ledger.commit(other, claim)


def test_a_claim_parsed_under_a_version_typing_a_fact_otherwise_is_refused(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    """The same item types, but official_fees_paid text in the other version: a TypeError from inside the rules."""
    text = (ROOT / "policies" / "pinggu_2020.yaml").read_text(encoding="utf-8")
    text = text.replace("official_fees_paid: {type: money,", "official_fees_paid: {type: string,", 1)
    text = text.replace("amount: {rate: 50%, of: item.official_fees_paid}", "amount: {fixed: 100}")
    shutil.copytree(ROOT / "policies" / "texts", tmp_path / "texts")
    (tmp_path / "b.yaml").write_text(text.replace('version: "2020.1"', 'version: "2020.2"'), encoding="utf-8")
    other = engine.load_policy(tmp_path / "b.yaml")
    data = example()
    data["items"][0]["official_fees_paid"] = "a lot"
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, engine.parse_claim(other, data))
    [problem] = caught.value.problems
    assert tuple(problem.path) == ("items", 0, "official_fees_paid") and "money" in problem.message


def test_a_claim_holding_a_value_this_version_does_not_know_is_refused(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    """A kind of applicant only another version has was decided under this one (refused: scope) and explained as
    "Applicant kind: foreign_body"; as data, this version refuses the claim."""
    text = (ROOT / "policies" / "pinggu_2020.yaml").read_text(encoding="utf-8")
    text = text.replace("applicant_kinds:\n", "applicant_kinds:\n  foreign_body: {zh: 境外主体, en: foreign body}\n", 1)
    shutil.copytree(ROOT / "policies" / "texts", tmp_path / "texts")
    (tmp_path / "b.yaml").write_text(text.replace('version: "2020.1"', 'version: "2020.2"'), encoding="utf-8")
    other = engine.load_policy(tmp_path / "b.yaml")
    data = example()
    data["applicant"]["kind"] = "foreign_body"
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, engine.parse_claim(other, data))
    assert tuple(caught.value.problems[0].path) == ("applicant", "kind")


def test_a_claim_given_as_any_mapping_is_decided_as_the_same_dict(policy: engine.CompiledPolicy) -> None:
    """`evaluate` is typed `Mapping`: a read-only view was refused as "not of type 'object'"."""
    assert engine.evaluate(policy, MappingProxyType(example())).total == Decimal("804200.00")
    versions = engine.PolicySet.load(ROOT / "policies" / "pinggu_2020.yaml")
    assert versions.evaluate(MappingProxyType(example())).total == Decimal("804200.00")  # (the same road)


def test_parse_claim_the_ledger_and_matching_take_any_mapping_as_evaluate_does(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    """`parse_claim` (which docs/embedding.md hands to `Ledger.history_for`) and `Ledger.commit` refused a read-only
    view as "(document): mappingproxy({...}) is not of type 'object'", a mapping said not to be one, where `evaluate`
    decided it; and `Ledger.commit` and `Matching.match` were typed `dict`, so a program typed `Mapping` failed
    `mypy --strict` (tests/test_embedding.py's typed program below)."""
    assert engine.parse_claim(policy, MappingProxyType(example())).claim_id == "PG-2022-0001"
    with engine.Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as ledger:
        done = ledger.commit(policy, MappingProxyType(example()))
        assert (done.status, done.decision["total"]) == ("committed", "804200.00")
        assert ledger.commit(policy, MappingProxyType(example())).status == "already_committed"
    profile = engine.loads_json((ROOT / "examples" / "profile_match_2021.json").read_text(encoding="utf-8"))
    versions = engine.PolicySet.load(ROOT / "policies" / "pinggu_2020.yaml")
    matched = engine.Matching([versions]).match(MappingProxyType(profile), 1).to_dict()
    assert matched["matches"][0]["answers"] == engine.Matching([versions]).match(profile, 1).to_dict()["matches"][0]["answers"]


def read_only(value: Any) -> Any:
    """`value` with every mapping in it a read-only view (a frozen request body, as some web frameworks hand it)."""
    if isinstance(value, dict):
        return MappingProxyType({k: read_only(v) for k, v in value.items()})
    return [read_only(v) for v in value] if isinstance(value, list) else value


def test_a_read_only_mapping_inside_a_claim_is_read_as_a_dict(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    """Only the claim itself was read as any Mapping: one inside it (the applicant, an item) was refused as
    "items[0] (item p1): mappingproxy({...}) is not of type 'object'", a mapping said not to be one. Read as the dict
    of its items, it is decided as the plain data is: 804,200.00 (p1's 4,200.00 and the rest, as above)."""
    frozen = read_only(example())
    assert isinstance(frozen["items"][0], MappingProxyType) and isinstance(frozen["applicant"], MappingProxyType)
    assert engine.evaluate(policy, frozen).total == Decimal("804200.00")
    parsed = engine.parse_claim(policy, frozen)
    assert parsed.raw == example() and type(parsed.raw["items"][0]) is dict  # `raw`: the data as dicts
    with engine.Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as ledger:
        assert ledger.commit(policy, frozen).status == "committed"
        assert ledger.commit(policy, example()).status == "already_committed"  # the same application
    profile = engine.loads_json((ROOT / "examples" / "profile_match_2021.json").read_text(encoding="utf-8"))
    versions = engine.PolicySet.load(ROOT / "policies" / "pinggu_2020.yaml")
    matched = engine.Matching([versions]).match(read_only(profile), 1).to_dict()
    assert matched["matches"][0]["answers"] == engine.Matching([versions]).match(profile, 1).to_dict()["matches"][0]["answers"]
    # what is wrong inside a view is said at its place, as in a dict
    wrong = read_only({**example(), "items": [{**example()["items"][0], "official_fees_paid": "8400.005"}]})
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, wrong)
    assert [p.path for p in caught.value.problems] == [("items", 0, "official_fees_paid")]


TYPED_PROGRAM = """
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import engine


def handle(versions: engine.PolicySet, claim: Mapping[str, Any], ledger: engine.Ledger) -> tuple[Decimal, str, int]:
    policy = versions.pick(claim)
    decided = engine.evaluate(policy, claim)
    parsed = engine.parse_claim(policy, claim)
    history = ledger.history_for(policy, parsed)
    committed = ledger.commit(policy, claim)
    matched = engine.Matching([versions], ledger=ledger).match(claim, 1)
    return decided.total + versions.evaluate(claim, history).total, committed.status, len(matched.matches)
"""


def test_a_program_typed_as_a_web_back_end_passes_mypy_strict(tmp_path: Path) -> None:
    """The package ships py.typed: a program handing the claim it was given (typed `Mapping[str, Any]`, as a web
    framework gives a parsed body) to every call that takes a claim passes `mypy --strict`, without casts."""
    pytest.importorskip("mypy")  # (run apart: mypy in this process raises the recursion limit for every later test)
    program = tmp_path / "back_end.py"
    program.write_text(TYPED_PROGRAM, encoding="utf-8")
    args = ["--strict", "--follow-imports=silent", "--cache-dir", str(tmp_path / "cache"), str(program)]
    run = subprocess.run([sys.executable, "-m", "mypy", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_policy_set_evaluate_checks_history_and_claims_as_evaluate_does(policy: engine.CompiledPolicy) -> None:
    versions = engine.PolicySet.load(ROOT / "policies" / "pinggu_2020.yaml")
    pledge = engine.evaluate(policy, example()).grants[1]
    with pytest.raises(engine.ClaimError) as caught:
        versions.evaluate({**example(), "claim_id": "PG-2022-0099"}, [pledge._replace(amount=Decimal("250000.001"))])
    assert tuple(caught.value.problems[0].path) == ("history", 0, "amount")
    other = engine.PolicySet.load(ROOT / "tests" / "fixtures" / "fictional_district.yaml")
    with pytest.raises(engine.ClaimError):
        other.evaluate(engine.parse_claim(policy, example()))


# --- history passed beside a claim --------------------------------------------------------------------------------


def test_history_beside_a_claim_is_checked_as_a_claims_own_history(policy: engine.CompiledPolicy) -> None:
    first = engine.evaluate(policy, example())
    later = {**example(), "claim_id": "PG-2022-0099"}
    # the first application's grants, as Grants or in their dict form: each item of the same application again is
    # refused (once per patent, award and title; the pledge cap of 300,000.00 used by 250,000.00 + 50,000.00)
    for history in (first.grants, [g.to_dict() for g in first.grants]):
        decided = engine.evaluate(policy, later, history)
        assert decided.total == Decimal("0.00")
        assert [i.status for i in decided.items[:5]] == ["refused"] * 5
        assert [r.check for r in decided.items[1].reasons] == ["pledge-annual-cap"]
    pledge = first.grants[1]  # l1: 250,000.00 of the cap
    cases: list[tuple[Any, tuple[Any, ...], str]] = [
        ([pledge._replace(amount=Decimal("250000.001"))], ("history", 0, "amount"), "finer than the policy's rounding quantum"),
        ([pledge._replace(amount=Decimal("-5"))], ("history", 0, "amount"), "is not an amount"),
        (pledge, ("history",), "history must be a list of grants"),
        ("PG-2022-0001", ("history",), "history must be a list of grants"),
    ]
    for history, path, words in cases:
        with pytest.raises(engine.ClaimError) as caught:
            engine.evaluate(policy, later, history)
        assert (tuple(caught.value.problems[0].path), words in str(caught.value.problems[0])) == (path, True), history


def test_a_claims_own_grants_are_refused_as_its_history(policy: engine.CompiledPolicy) -> None:
    """The same application decided again with its own grants passed back: every item was refused on what it had
    itself been granted (total 0.00, the pledge "cap used up" by its own 250,000.00 + 50,000.00), where the ledger
    leaves a claim's own grants out. Now refused by name, on every road a claim's history takes."""
    first = engine.evaluate(policy, example())
    assert first.total == Decimal("804200.00") and len(first.grants) == 5
    own = [g.to_dict() for g in first.grants]
    roads: list[Any] = [
        lambda: engine.evaluate(policy, example(), first.grants),
        lambda: engine.evaluate(policy, example(), own),
        lambda: engine.PolicySet.load(ROOT / "policies" / "pinggu_2020.yaml").evaluate(example(), own),
        lambda: engine.evaluate(policy, {**example(), "history": own}),
        lambda: engine.parse_claim_json(policy, json.dumps({**example(), "history": own}, default=str)),  # (fast intake)
    ]
    for road in roads:
        with pytest.raises(engine.ClaimError) as caught:
            road()
        problems = caught.value.problems
        assert [tuple(p.path) for p in problems] == [("history", i, "claim_id") for i in range(5)]
        assert "a grant of this claim itself (PG-2022-0001)" in str(problems[0])
    with engine.core.i18n.use_language("zh"):
        with pytest.raises(engine.ClaimError) as caught:
            engine.evaluate(policy, example(), own[:1])
        assert "这是本申请自己的支持记录（PG-2022-0001）" in str(caught.value.problems[0])
    # another claim's grants are its history as before: the pledge cap of 300,000.00 used up by them
    later = engine.evaluate(policy, {**example(), "claim_id": "PG-2022-0099"}, own)
    assert later.total == Decimal("0.00")


def test_a_history_scope_no_running_total_holds_is_refused(policy: engine.CompiledPolicy) -> None:
    """The yearly pledge cap (第六条第（一）项, 300,000.00 per applicant and funding year) keeps its totals per
    (applicant.id, claim.funding_year): the year is a whole number. History giving it as "2021" matched no total, so
    the 250,000.00 + 50,000.00 the first application used left the cap untouched and a second application of 2021
    was paid in full (the money review's P29: 100,000.00 where 50,000.00 was left). Now refused where it stands."""
    first = [g.to_dict() for g in engine.evaluate(policy, example()).grants]
    assert first[1]["consumes"][1] == {"cap": "pledge-annual-cap", "scope": [APPLICANT, 2021], "amount": "250000.00"}
    later = {**example(), "claim_id": "PG-2022-0099"}

    def history(change: Any) -> list[dict[str, Any]]:
        given = json.loads(json.dumps(first))
        change(given)
        return given

    as_text = history(lambda h: [u.update(scope=[str(v) for v in u["scope"]]) for g in h for u in g["consumes"] if "cap" in u])
    roads: list[Any] = [
        lambda: engine.evaluate(policy, later, as_text),
        lambda: engine.evaluate(policy, {**later, "history": as_text}),
        lambda: engine.parse_claim_json(policy, json.dumps({**later, "history": as_text})),  # (the fast intake defers)
    ]
    for road in roads:
        with pytest.raises(engine.ClaimError) as caught:
            road()
        problems = caught.value.problems
        assert [tuple(p.path) for p in problems] == [("history", 1, "consumes", 1, "scope", 1), ("history", 2, "consumes", 1, "scope", 1)]
        assert '"2021" does not match how pledge-annual-cap keeps its totals (per applicant.id, claim.funding_year)' in str(problems[0])
        assert "expected written 2021" in str(problems[0])
    short = history(lambda h: h[1]["consumes"][1].update(scope=[APPLICANT]))
    counted = history(lambda h: h[1]["consumes"][0].update(counts=["BJ-LOAN-2020-118", "2021"]))
    for given, path, words in (
        (short, ("history", 1, "consumes", 1, "scope"), "this scope has 1 value(s), but pledge-annual-cap keeps its totals per 2"),
        (counted, ("history", 1, "consumes", 0, "counts", 1), "pledge-three-times keeps its totals (per item.loan_id, claim.funding_year)"),
    ):
        with pytest.raises(engine.ClaimError) as caught:
            engine.evaluate(policy, later, given)
        assert (tuple(caught.value.problems[0].path), words in str(caught.value.problems[0])) == (path, True)
    with engine.core.i18n.use_language("zh"):
        with pytest.raises(engine.ClaimError) as caught:
            engine.evaluate(policy, later, as_text)
        assert "此处应为整数（不加引号）" in str(caught.value.problems[0]) and "写作 2021" in str(caught.value.problems[0])
    # as the engine wrote them, the same grants use up the cap: l1 and l2 of the second application are refused
    decided = engine.evaluate(policy, later, first)
    assert [(i.item.id, i.status, i.amount) for i in decided.items[1:3]] == [
        ("l1", "refused", Decimal("0.00")),
        ("l2", "refused", Decimal("0.00")),
    ]


def test_history_problems_are_not_said_at_another_grants_place(policy: engine.CompiledPolicy) -> None:
    """(The session's own review.) A grant left out for its own problem shifted the places of the grants after it: a
    claim's own grant at history[1] was said at history[0] (the malformed one). Until it is mended, nothing more is
    said of the others."""
    own = [g.to_dict() for g in engine.evaluate(policy, example()).grants]
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, example(), [{"claim_id": "X"}, own[0]])
    assert [tuple(p.path) for p in caught.value.problems] == [("history", 0)]
    with pytest.raises(engine.ClaimError) as caught:  # mended: the own grant said at its place
        engine.evaluate(policy, {**example(), "claim_id": "PG-2022-0099"}, [own[0], {**own[1], "claim_id": "PG-2022-0099"}])
    assert [tuple(p.path) for p in caught.value.problems] == [("history", 1, "claim_id")]


# --- explaining under the policy it was made under --------------------------------------------------------------


def test_a_decision_is_explained_only_under_the_policy_it_was_made_under(policy: engine.CompiledPolicy) -> None:
    """`explain(draft, decision)` quoted the draft's 50万 yearly cap beside amounts cut to the 2020 text's 30万."""
    draft = engine.load_policy(ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml")
    decision = engine.evaluate(policy, example())
    for given in (decision, json.loads(decision.to_json())):
        for call in (lambda: engine.explain(draft, given), lambda: engine.explanation(draft, given, lang="en")):
            with pytest.raises(engine.RenderError) as caught:
                call()
            assert draft.version in str(caught.value) and policy.version in str(caught.value)
    assert engine.explain(engine.load_policy(ROOT / "policies" / "pinggu_2020.yaml"), decision)  # another load of the same text


# --- small things an embedding program meets ----------------------------------------------------------------------


def test_a_reversal_amount_that_is_no_decimal_is_refused_in_words(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    with engine.Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as ledger:
        ledger.commit(policy, example())
        for returned in (1.5, "100"):
            with pytest.raises(engine.LedgerError) as caught:  # (it was an AttributeError: no is_finite)
                ledger.reverse("PG-2022-0001", "p1", returned=returned, reason="退回", decided_on="2022-01-05")  # type: ignore[arg-type]
            assert "Decimal" in str(caught.value)


def test_a_reversal_dated_by_a_date_object_is_recorded(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    """An embedding program holds dates as `datetime.date`: it was a TypeError from the date check's pattern."""
    import datetime as dt

    with engine.Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as ledger:
        ledger.commit(policy, example())
        assert ledger.reverse("PG-2022-0001", "p1", returned=Decimal("100.00"), reason="退回", decided_on=dt.date(2022, 6, 1)) > 0


def test_a_finding_dated_by_a_date_object_is_recorded_and_a_value_not_text_is_refused_in_words(
    policy: engine.CompiledPolicy, tmp_path: Path
) -> None:
    """`record_finding` of a date fact given a `datetime.date`, as `reverse` takes one: it was "TypeError: expected
    string or bytes-like object, got 'datetime.date'" from inside the checks; a number, the same TypeError."""
    import datetime as dt

    with engine.Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as ledger:
        n = ledger.record_finding(APPLICANT, "fraud_finding_dates", dt.date(2023, 4, 1), reason="弄虚作假", policy=policy)
        assert [(f["id"], f["value"]) for f in ledger.findings(APPLICANT)] == [(n, "2023-04-01")]
        assert ledger.record_finding_once(APPLICANT, "fraud_finding_dates", "2023-04-01", reason="again", policy=policy)[1] is False
        with pytest.raises(engine.LedgerError) as caught:
            ledger.record_finding(APPLICANT, "fraud_finding_dates", 20230401, reason="x", policy=policy)  # type: ignore[arg-type]
        assert str(caught.value) == (
            "a finding's value is text, as the ledger keeps it (a date as 2023-04-01, an amount as 50000.00), or a "
            "datetime.date: not 20230401 (a number)"
        )
        with engine.use_language("zh"):
            assert str(caught.value).endswith("或 datetime.date 日期：不能是 20230401（数字）")


def test_evaluate_claim_handed_data_says_it_takes_a_parsed_claim(policy: engine.CompiledPolicy) -> None:
    """`engine.evaluate_claim(policy, dict)` met `claim.funding_year`: AttributeError: 'dict' object has no attribute."""
    with pytest.raises(TypeError) as caught:
        engine.evaluate_claim(policy, example())  # type: ignore[arg-type]
    assert str(caught.value) == "evaluate_claim takes a parsed Claim (engine.parse_claim), not a dict: engine.evaluate takes a claim's data"


def test_a_set_of_several_versions_says_data_that_is_no_claim_as_one_version_does() -> None:
    """`PolicySet.pick([])` of several versions said "the claim has no funding_year to choose a policy version by",
    where one version (and `parse_claim`) says what the data is."""
    several = engine.PolicySet.load([ROOT / "policies" / "pinggu_2020.yaml", ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml"])
    one = engine.PolicySet.load(ROOT / "policies" / "pinggu_2020.yaml")
    for versions in (several, one):
        for data, kind in (([], "a list"), ("{}", "a text")):
            with pytest.raises(engine.ClaimError) as caught:
                versions.evaluate(data)  # type: ignore[arg-type]
            (problem,) = caught.value.problems
            assert problem.said("en") == f"<input>: (document): a claim must be an object, not {kind}"


def test_policy_set_load_takes_one_path_alone(policy: engine.CompiledPolicy) -> None:
    """A text was taken as its characters, each a path (18 problems, `/` among them)."""
    [version] = engine.PolicySet.load(str(ROOT / "policies" / "pinggu_2020.yaml")).versions
    assert version.content_hash == policy.content_hash


def test_bytes_for_a_claim_are_named_as_bytes(policy: engine.CompiledPolicy) -> None:
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, b"{}")  # type: ignore[arg-type]
    assert "not bytes" in str(caught.value.problems[0])  # (it said "must be an object, not an object")


def test_a_round_whose_output_cannot_be_written_raises_the_facades_output_error(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    """run_batch's folder a file: an OutputError, which the facade did not offer, so a nightly job catching the errors
    docs/embedding.md lists met it uncaught (`from engine.records.tabular import OutputError` was the only road)."""
    taken = tmp_path / "out"
    taken.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(engine.OutputError) as caught:
        engine.run_batch(policy, ROOT / "examples" / "round_2021.jsonl", taken, quiet=True, report=False, without_ledger=True)
    # (in a program's words: it said "--out PATH", the option of a command the program never ran)
    assert str(caught.value) == f"output folder {taken}: exists and is not a folder"
    assert caught.value.said("zh") == f"输出文件夹 {taken}：已存在，但不是文件夹"
    assert "OutputError" in engine.__all__


def test_the_outer_layers_errors_say_themselves_in_the_language_named(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    """`err.said("zh")` was an EngineError's and a Problem's only: an InputError, an OutputError or a LedgerError had
    no `said` (AttributeError), and a RenderError said its words in English whatever the reader's language."""
    with pytest.raises(engine.InputError) as no_input:
        engine.run_batch(policy, tmp_path / "nope.jsonl", tmp_path / "o", quiet=True, report=False, without_ledger=True)
    assert no_input.value.said("en") == f"{tmp_path / 'nope.jsonl'}: no such file or folder"
    assert no_input.value.said("zh") == f"{tmp_path / 'nope.jsonl'}：文件或文件夹不存在"
    taken = tmp_path / "out"
    taken.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(engine.OutputError) as no_output:
        engine.run_batch(policy, ROOT / "examples" / "round_2021.jsonl", taken, quiet=True, report=False, without_ledger=True)
    assert no_output.value.said("zh").endswith(f"{taken}：已存在，但不是文件夹")
    with pytest.raises(engine.LedgerError) as no_ledger:
        engine.Ledger(f"sqlite:///{tmp_path}/none.sqlite", create=False)
    assert no_ledger.value.said("zh").startswith(f"sqlite:///{tmp_path}/none.sqlite 处没有台账：")
    decision = engine.evaluate(policy, example())
    with pytest.raises(engine.RenderError) as no_format:
        engine.explain(policy, decision, format="pdf")
    assert no_format.value.said("zh") == "无法识别的格式 'pdf'；可用的格式为：text、md、html、json"
    assert no_format.value.said("en") == "unknown format 'pdf'; expected one of text, md, html, json"
    with engine.use_language("zh"):  # str() in the reader's language, as docs/embedding.md says of every one of them
        assert str(no_format.value) == "无法识别的格式 'pdf'；可用的格式为：text、md、html、json"
    assert isinstance(no_format.value, ValueError)  # (as it was: a program catching ValueError still catches it)


def test_load_policy_given_a_folder_names_where_a_folder_of_versions_is_read() -> None:
    """`load_policy("policies")` said "not a regular file (a folder): only a text file is read", and nothing of the
    PolicySet that reads a folder of versions (as the command line's --policy DIR does)."""
    with pytest.raises(engine.PolicyError) as caught:
        engine.load_policy(ROOT / "policies")
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.code) == (str(ROOT / "policies"), None, "not_a_file")
    assert problem.said("en").endswith(
        "not a regular file (a folder): only a text file is read\n    expected one policy file: a folder of a measure's versions "
        "is read by engine.PolicySet.load(folder), or by engine.load_versions(folder) as the command line's --policy DIR reads it"
    )
    assert problem.said("zh").endswith(
        "不是普通文件（文件夹）：只能读取文本文件\n    应为 一个规则文件；存放一项政策各版本的文件夹请用 engine.PolicySet.load(文件夹) 读取，"
        "或像命令行的 --policy 文件夹 那样用 engine.load_versions(文件夹) 读取"
    )
    assert engine.PolicySet.load(ROOT / "policies").pick(example()).version == "2020.1"  # (what it names reads it)


def test_the_outer_layers_errors_are_the_facades_and_a_misspelt_name_is_no_attribute() -> None:
    assert issubclass(engine.AlreadyCommitted, engine.LedgerError)
    assert issubclass(engine.RecordedDecisionError, engine.RenderError)
    assert {"Ledger", "LedgerError", "InputError", "RenderError"} <= set(engine.__all__)
    # a round, a report and matching from the facade (docs/embedding.md imported them from three modules deep)
    from engine.explaining.render import write_report
    from engine.matching.run import Matching
    from engine.records.batch import run_batch

    assert (engine.run_batch, engine.write_report, engine.Matching) == (run_batch, write_report, Matching)
    assert {"run_batch", "write_report", "Matching"} <= set(engine.__all__)
    with pytest.raises(AttributeError):
        engine.evalute  # type: ignore[attr-defined]


def test_a_ledger_shared_by_threads_commits_each_claim_and_keeps_the_cap(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    """docs/ledger-and-batch.md says to open a Ledger per thread; one shared anyway had its transactions begin inside
    each other's (a raw sqlite3 error for 22 commits of 24). Each transaction now holds the connection alone: every
    commit lands, and the applicant's pledge interest in 2021 stays within its 300,000.00 (第六条第（一）项)."""
    import threading

    failures: list[BaseException] = []
    with engine.Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as ledger:

        def commit(n: int) -> None:
            for k in range(3):
                try:
                    ledger.commit(policy, {**example(), "claim_id": f"T-{n}-{k}"})
                except BaseException as exc:
                    failures.append(exc)

        threads = [threading.Thread(target=commit, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        pledged = sum(
            (Decimal(g["amount"]) for g in ledger.grants(applicant_id=APPLICANT) if g["rule"] == "pledge-loan-interest"),
            Decimal(0),
        )
        assert pledged == Decimal("300000.00")


def test_small_things_said_plainly(policy: engine.CompiledPolicy) -> None:
    decision = engine.evaluate(policy, example())
    assert len(repr(decision)) < 60_000  # (306 kB: the whole compiled policy, and every rule in full for each item)
    assert repr(policy).startswith("<CompiledPolicy pinggu-ip-promotion 2020.1 sha256:")
    not_an_object = example()
    not_an_object["items"][0] = 5
    with pytest.raises(engine.ClaimError) as caught:  # said once, not once for each of the policy's item types
        engine.evaluate(policy, not_an_object)
    assert [tuple(p.path) for p in caught.value.problems] == [("items", 0)]
    floated = example()
    floated["items"][0]["official_fees_paid"] = 8400.0
    with pytest.raises(engine.ClaimError) as caught:  # ("8400.0 is not an amount", as if its digits were wrong)
        engine.evaluate(policy, floated)
    [problem] = caught.value.problems
    assert "binary floating-point" in str(problem.message) and '"8400.00"' in str(problem.expected)
    with pytest.raises(engine.PolicyError) as refused:  # (it said "not a regular file (a folder)": Path("") is ".")
        engine.load_policy("")
    assert "expected a file name" in str(refused.value.problems[0])


def test_a_read_on_a_shared_ledger_never_sees_another_threads_uncommitted_grants(
    policy: engine.CompiledPolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit whose writing fails after its grants are written rolls back; a thread reading the same Ledger
    meanwhile counted those 5 grants (then 0 after the rollback). Every statement now waits for the transaction."""
    import threading
    import time

    from engine.records import ledger as ledger_module

    written = threading.Event()
    real = ledger_module.Ledger._write_grants

    def slow_then_fail(self: Any, *args: Any, **kwargs: Any) -> Any:
        real(self, *args, **kwargs)
        written.set()
        time.sleep(0.3)
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(ledger_module.Ledger, "_write_grants", slow_then_fail)
    seen: list[int] = []
    with engine.Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as ledger:

        def commit() -> None:
            with pytest.raises(RuntimeError):
                ledger.commit(policy, example())

        writer = threading.Thread(target=commit)
        writer.start()
        assert written.wait(10)
        seen.append(len(list(ledger.grants())))  # (waits for the writer's transaction to roll back)
        writer.join()
    assert seen == [0]


def test_a_report_draws_no_decision_under_another_version(policy: engine.CompiledPolicy) -> None:
    """`render_report(draft, [decision])` quoted the draft's 50万 yearly cap beside amounts cut to the 2020 text's 30万."""
    draft = engine.load_policy(ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml")
    decision = engine.evaluate(policy, example())
    for given in (decision, json.loads(decision.to_json())):
        with pytest.raises(engine.RenderError):
            engine.render_report(draft, [given])
    assert "PG-2022-0001" in engine.render_report(policy, [decision])


def test_a_history_amount_past_the_maximum_is_said_once(policy: engine.CompiledPolicy) -> None:
    grant = engine.evaluate(policy, example()).grants[1].to_dict()
    grant["amount"] = "1234567890123.00"  # (said as written, and again as the grant's amount past the maximum)
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, {**example(), "claim_id": "PG-2022-0099", "history": [grant]})
    assert [tuple(p.path) for p in caught.value.problems] == [("history", 0, "amount")]


def test_a_thread_waiting_for_a_shared_ledger_gives_up_as_another_connection_would(
    policy: engine.CompiledPolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second connection gives up on a lock held past BUSY_SECONDS ("the ledger is busy"); a second thread of the
    same Ledger waited for ever (for a whole round's commits). Both now give up alike."""
    import threading
    import time

    from engine.records import ledger as ledger_module

    monkeypatch.setattr(ledger_module, "BUSY_SECONDS", 0.3)
    holding = threading.Event()
    with engine.Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as ledger:

        def hold() -> None:
            with ledger.db.locked():
                holding.set()
                time.sleep(1.5)

        holder = threading.Thread(target=hold)
        holder.start()
        assert holding.wait(10)
        with pytest.raises(engine.LedgerError, match="busy"):
            ledger.commit(policy, example())
        with pytest.raises(engine.LedgerError, match="busy"):
            list(ledger.grants())
        holder.join()
        assert ledger.commit(policy, example()).status == "committed"  # (and once it is free, as ever)


def test_another_connection_holding_the_ledger_past_the_busy_timeout_is_a_ledger_error(
    policy: engine.CompiledPolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's connection holding the file past BUSY_SECONDS reached an embedding program as sqlite3's own
    OperationalError ("database is locked"); only the command line said it in words. It is the ledger's busy error
    now, as a thread of the same Ledger gets."""
    from engine.records import ledger as ledger_module

    monkeypatch.setattr(ledger_module, "BUSY_SECONDS", 0.3)  # (each connection's busy timeout, set as it opens)
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    with engine.Ledger(url) as holder, engine.Ledger(url) as other:
        with holder.db.locked():
            with pytest.raises(engine.LedgerBusyError, match="busy") as caught:
                other.commit(policy, example())
            assert "0.3 s" in str(caught.value) and isinstance(caught.value, engine.LedgerError)
        assert other.commit(policy, example()).status == "committed"  # (and once it is free, as ever)


def test_a_ledger_told_to_wait_no_time_it_can_wait_says_what_to_give(tmp_path: Path) -> None:
    """`busy_seconds=-1` was taken, and a thread of a shared Ledger then waited for ever (a lock's -1 is "no timeout"),
    what the busy timeout is there to stop; NaN, infinity and "5" were taken too, and failed later or never."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    for wrong in (-1, float("nan"), float("inf"), "5", True):
        with pytest.raises(ValueError) as caught:
            engine.Ledger(url, busy_seconds=wrong)  # type: ignore[arg-type]
        assert str(caught.value) == (
            f"busy_seconds={wrong!r}: give the seconds to wait for a ledger held by another connection, a finite number "
            "0 or more (default 120; 0: not at all)"
        )
    assert tr(caught.value.args[0], "zh") == (
        "busy_seconds=True：请给出等待被其他连接占用的台账的秒数，为 0 或更大的有限数（默认 120；0 表示不等待）"
    )
    for right in (0, 2.5):
        with engine.Ledger(url, busy_seconds=right) as ledger:
            assert ledger.busy_seconds == right


def test_a_ledger_waits_for_another_connection_as_long_as_it_is_told(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    """`busy_seconds`: how long an SQLite ledger waits for another connection's lock (the service gives its request's
    time limit), said in its busy error."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    with engine.Ledger(url) as holder, engine.Ledger(url, busy_seconds=0.2) as other:
        with holder.db.locked():
            with pytest.raises(engine.LedgerBusyError, match=r"more than 0\.2 s"):
                other.commit(policy, example())


@pytest.mark.parametrize("backend", BACKENDS)
def test_work_until_a_deadline_waits_no_longer_and_commits_nothing_past_it(
    policy: engine.CompiledPolicy, tmp_path: Path, backend: str
) -> None:
    """`Ledger.until(deadline)`: a lock is waited for no longer than the deadline (SQLite's busy timeout, PostgreSQL's
    lock_timeout), and a transaction still open past it is rolled back (a service's write answered 503 at its time
    limit was committed later)."""
    import time

    made = make_ledger_url(backend, tmp_path)  # (held: the PostgreSQL schema is dropped when it is closed)
    url = next(made)
    try:
        with engine.Ledger(url) as holder, engine.Ledger(url) as ledger:
            with holder.db.locked():  # another connection holds the ledger past the deadline
                with ledger.until(time.monotonic() + 0.3), pytest.raises(engine.LedgerBusyError, match="nothing of it was written"):
                    ledger.commit(policy, example())
            with ledger.until(time.monotonic() - 1), pytest.raises(engine.LedgerBusyError):  # (past already: rolled back)
                ledger.commit(policy, example())
            assert list(ledger.grants()) == []  # nothing written either time
            assert ledger.commit(policy, example()).status == "committed"  # (outside `until`, as ever)
    finally:
        made.close()


def test_a_path_for_a_claim_is_named_as_a_path(policy: engine.CompiledPolicy) -> None:
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, ROOT / "examples" / "claim_enterprise_2021.json")  # type: ignore[arg-type]
    assert "not a file's path (read the file first" in str(caught.value.problems[0])  # (it said "not an object")


def test_parse_claim_json_places_each_problem_in_its_text(policy: engine.CompiledPolicy) -> None:
    """A program had the text and got problems with no line or column (the command line placed them itself), and
    text that is not JSON raised a bare ValueError. Both are ClaimErrors placed in the text now; the second is a
    ValueError still, for a program that caught it so."""
    text = (ROOT / "examples" / "claim_enterprise_2021.json").read_text(encoding="utf-8")
    bad_date = text.replace('"2021-06-18"', '"2021/06/18"', 1)
    line = next(n for n, x in enumerate(bad_date.splitlines(), 1) if "2021/06/18" in x)
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim_json(policy, bad_date, file="c.json")
    [p] = caught.value.problems
    assert (p.file, p.line, p.path) == ("c.json", line, ("items", 0, "date"))
    assert p.column == bad_date.splitlines()[line - 1].index('"2021/06/18"') + 1
    nan = text.replace('"annual_interest_paid": "500000.00"', '"annual_interest_paid": NaN')
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim_json(policy, nan, file="c.json")
    assert isinstance(caught.value, ValueError)
    [p] = caught.value.problems
    line = next(n for n, x in enumerate(nan.splitlines(), 1) if "NaN" in x)
    assert (p.code, p.line, p.path) == ("syntax", line, ("items", 1, "annual_interest_paid"))


def test_a_claims_json_as_bytes_is_read_as_utf8_text(policy: engine.CompiledPolicy) -> None:
    """A web framework hands its body over as bytes, which `json.loads` takes: `engine.loads_json` said "cannot use a
    string pattern on a bytes-like object" and `engine.parse_claim_json` "argument should be integer or bytes-like
    object, not 'str'" (TypeErrors from inside the decoder). Read as UTF-8 (a byte order mark skipped), the same claim."""
    body = EXAMPLE.read_bytes()
    assert engine.evaluate(policy, engine.parse_claim_json(policy, body)).total == Decimal("804200.00")
    assert engine.parse_claim_json(policy, b"\xef\xbb\xbf" + body, file="body").claim_id == "PG-2022-0001"
    assert engine.loads_json(b'{"fee": 12.34}') == {"fee": Decimal("12.34")}
    with pytest.raises(engine.ClaimError) as caught:  # (é in Latin-1: one byte, 0xE9, no UTF-8)
        engine.parse_claim_json(policy, '{"claim_id": "é"}'.encode("latin-1"), file="body")
    assert caught.value.said("en").splitlines()[1] == "body: (document): not valid JSON: the text is not UTF-8"
    assert caught.value.said("zh").splitlines()[1] == "body: （整个文件）：不是有效的 JSON：文字不是 UTF-8 编码"
    with pytest.raises(ValueError, match="can't decode byte 0xe9"):
        engine.loads_json('"é"'.encode("latin-1"))
    with pytest.raises(TypeError) as wrong:  # a claim already read as data: named, with where it goes
        engine.parse_claim_json(policy, example())  # type: ignore[arg-type]
    assert str(wrong.value) == (
        "parse_claim_json() takes JSON text (a str, or UTF-8 bytes), not dict: a claim already read as data is given to "
        "engine.parse_claim or engine.evaluate"
    )


def test_a_policy_or_a_set_given_where_another_is_taken_says_what_to_give(policy: engine.CompiledPolicy) -> None:
    """A policy's path handed to `evaluate` was "'str' object has no attribute 'claim_facts'"; a version handed to
    `Matching` "'CompiledPolicy' object has no attribute 'covering'" at the first match, a set alone "'PolicySet'
    object is not iterable"."""
    with pytest.raises(TypeError) as path:
        engine.evaluate("policies/pinggu_2020.yaml", example())  # type: ignore[arg-type]
    assert str(path.value) == (
        "evaluate() takes a loaded policy (engine.load_policy(path), or engine.PolicySet.load(path).pick(claim)), not str"
    )
    with pytest.raises(TypeError) as version:
        engine.Matching([policy])  # type: ignore[list-item]
    assert str(version.value) == (
        "Matching() takes a list of PolicySets, one per measure, not of CompiledPolicy: engine.PolicySet.load(path), "
        "or engine.PolicySet((policy,)) for one loaded version"
    )
    versions = engine.PolicySet((policy,))
    with pytest.raises(TypeError, match=r"Matching\(\[versions\]\), not Matching\(versions\)"):
        engine.Matching(versions)  # type: ignore[arg-type]
    # what each names works: the example profile's l2 is eligible for 170,000.00 (as in docs/embedding.md)
    profile = engine.loads_json((ROOT / "examples" / "profile_match_2021.json").read_text(encoding="utf-8"))
    answers = engine.Matching([versions]).match(profile, 1).to_dict()["matches"][0]["answers"]
    assert next(a for a in answers if a["item_id"] == "l2")["amount"] == {"low": "170000.00", "high": "170000.00"}
    # and a profile's applicant given as a read-only view is named (it was "" for its id and name)
    named = engine.Matching([versions]).match({**profile, "applicant": MappingProxyType(profile["applicant"])}, 1).to_dict()
    assert (named["applicant_id"], named["name"]) == ("91110117MA01ABCD1F", "北京平谷示例科技有限公司")


def test_a_codes_name_written_in_a_claim_says_the_code(policy: engine.CompiledPolicy) -> None:
    """`"kind": "企业"` was "not one of the values", then "one of: 企业（enterprise）, …": the word written is the
    code's name, which the message now says, with the code to write."""
    data = engine.loads_json((ROOT / "examples" / "claim_enterprise_2021.json").read_text(encoding="utf-8"))
    data["applicant"]["kind"] = "企业"
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, data)
    [p] = caught.value.problems
    assert p.path == ("applicant", "kind")
    assert (engine.core.i18n.tr(p.message, "zh"), engine.core.i18n.tr(p.message, "en")) == (
        "'企业' 是 enterprise 的名称：此处请写代码 enterprise",
        "'企业' is the name of enterprise: write the code, enterprise",
    )


def test_a_decision_and_a_ledger_say_what_they_are_in_a_line(policy: engine.CompiledPolicy) -> None:
    """repr(decision) was 34,842 characters (the policy, the claim's data, the trace); an item's 4,735; a ledger's
    its object address. 6 items: 4 granted, l2 reduced (R11's cap), the insurance incomplete; 804,200.00 in all."""
    data = engine.loads_json((ROOT / "examples" / "claim_enterprise_2021.json").read_text(encoding="utf-8"))
    d = engine.evaluate(policy, data)
    assert repr(d) == "<Decision PG-2022-0001 pinggu-ip-promotion 2020.1 total 804200.00: granted 4, reduced 1, incomplete 1>"
    assert repr(d.items[0]) == "<ItemDecision p1 invention_patent_grant granted 4200.00 of 4200.00>"
    with engine.Ledger("sqlite:///:memory:") as ledger:
        assert repr(ledger) == "<Ledger sqlite:///:memory:>"


def test_a_yes_no_fact_written_as_text_says_what_to_write_in_both_languages(policy: engine.CompiledPolicy) -> None:
    """`"lender_is_bank": "yes"` said only jsonschema's sentence in English, with nothing expected (the Chinese said more)."""
    data = example()
    data["items"][1]["lender_is_bank"] = "yes"
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, data)
    [p] = caught.value.problems
    assert p.said("en").endswith(
        "'yes' is not of type 'boolean'\n    expected true or false, without quotes (in a spreadsheet's cell, the yes or no its list offers)"
    )
    assert p.said("zh").endswith("应为 true 或 false，不加引号（表格中填“是”或“否”）")


def test_an_id_written_as_a_number_says_the_text_to_write(policy: engine.CompiledPolicy) -> None:
    """`"claim_id": 5` (a portal writing its ids as numbers) said "5 is not of type 'string'" and nothing expected.
    The text to write is said where it is of the field's form; a date written 20220315 is not ("2022-03-15" is), and
    is told nothing it would be refused for again."""
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, {**example(), "claim_id": 5})
    [p] = caught.value.problems
    assert (p.path, p.said("en")) == (
        ("claim_id",),
        "<input>: claim_id: 5 is not of type 'string'\n    expected text, in double quotes: \"5\"",
    )
    assert p.said("zh") == '<输入>: claim_id：5 的类型不对，应为文字（string）\n    应为 文字，加双引号："5"'
    loan = example()
    loan["items"][1]["loan_id"] = 20210301
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, loan)
    assert caught.value.problems[0].said("en").endswith('expected text, in double quotes: "20210301"')
    with pytest.raises(engine.ClaimError) as caught:
        engine.evaluate(policy, {**example(), "submission_date": 20220315})
    assert caught.value.problems[0].expected is None


def test_explain_takes_the_format_by_the_name_the_command_line_and_the_service_give_it(policy: engine.CompiledPolicy) -> None:
    """`engine.explain(..., fmt=...)` named the format otherwise than `--format` and the service's `format`: `format=`
    is the documented name now, `fmt=` is still taken (the same text), and both given is a TypeError naming both."""
    d = engine.evaluate(policy, example())
    md = engine.explain(policy, d, lang="en", format="md")
    assert md == engine.explain(policy, d, lang="en", fmt="md") == engine.explain(policy, d, "en", "md")
    assert md.startswith("#")  # Markdown, not the default text
    as_json = json.loads(engine.explain(policy, d, format="json"))
    assert as_json["total"] == "804200.00"
    assert engine.explain(policy, d) == engine.explain(policy, d, format="text") == engine.explain(policy, d, fmt="text")
    with pytest.raises(TypeError, match=r"format= or as fmt=.*not both: format='md', fmt='html'"):
        engine.explain(policy, d, format="md", fmt="html")
    with pytest.raises(TypeError, match="not both"):
        engine.explain(policy, d, format="md", fmt="md")
    renderer = engine.explaining.render.renderer(policy, "en")
    assert renderer.explain(d, format="md") == renderer.explain(d, fmt="md") == renderer.explain(d, "md") == md
    with pytest.raises(TypeError, match="missing its format"):
        renderer.explain(d)


def test_the_reports_error_row_is_the_facades_and_draws_its_words(policy: engine.CompiledPolicy) -> None:
    """`render_report` and `write_report` take an error row (`ReportError`: an application that got no decision) beside
    decisions, but the facade did not export it: a program imported it from engine.explaining.render."""
    from engine.explaining.render import ReportError

    assert engine.ReportError is ReportError and "ReportError" in engine.__all__
    assert not issubclass(engine.ReportError, BaseException)  # a row of the report, never raised
    row = engine.ReportError("row 7", "not valid JSON", ["row 7:1:3: expected a value"])
    page = engine.render_report(policy, [engine.evaluate(policy, example()), row], "en")
    assert "not valid JSON" in page and "row 7:1:3: expected a value" in page


@pytest.mark.parametrize("given", ["claim first", "a path", "None"])
def test_parse_claim_given_no_policy_says_what_it_takes(policy: engine.CompiledPolicy, given: str) -> None:
    """`parse_claim(claim, policy)` (the arguments swapped) said "a claim must be an object, not an object"; a policy
    file's path or None for the policy raised AttributeError ('str' object has no attribute 'claim_facts')."""
    claim = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    args = {"claim first": (claim, policy), "a path": ("policies/pinggu_2020.yaml", claim), "None": (None, claim)}[given]
    kind = {"claim first": "dict", "a path": "str", "None": "NoneType"}[given]
    with pytest.raises(TypeError) as caught:
        engine.parse_claim(*args)
    assert str(caught.value) == (
        f"parse_claim() takes a loaded policy (engine.load_policy(path), or engine.PolicySet.load(path).pick(claim)), not {kind}"
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
