"""What a program embedding the engine meets when it gives a call the wrong thing (session 41): each refusal says, in
the caller's words and in both languages, what was given and what to call or give instead; none is a traceback from
deep inside. Every expected text is written out here by hand."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from conftest import ROOT
from test_embedding import EXAMPLE, example

import engine

# (the Pinggu policy: conftest's `policy` fixture; the example claim: test_embedding's)


# --- 1. a claim given where a decision is expected -----------------------------------------------------------------

CLAIM_EN = (
    "explain() takes a decision, not a claim (this has no 'format' and no 'standing', which every decision has): decide "
    "the claim first, decision = engine.evaluate(policy, claim), then explain(policy, decision) (a line of a batch's "
    "decisions.jsonl, read as data, is a decision too)"
)
CLAIM_ZH = (
    "explain() 接受判定结果，而不是申请材料（这份数据没有每个判定结果都有的 'format' 和 'standing'）：请先判定该申请，"
    "decision = engine.evaluate(policy, claim)，再调用 explain(policy, decision)（批量审核写出的 decisions.jsonl 中的一行，"
    "读作数据后，也是判定结果）"
)


@pytest.mark.parametrize("fmt", ["text", "md", "html", "json"])
def test_explain_given_a_claim_says_it_is_a_claim_and_to_evaluate_it_first(policy: engine.CompiledPolicy, fmt: str) -> None:
    """Before: "this decision cannot be explained as recorded (a field the engine writes, 'standing', has been taken
    out of it)" (a RecordedDecisionError), and with format="json" the claim itself came back as if it were the
    decision."""
    with pytest.raises(engine.RenderError) as given:
        engine.explain(policy, example(), lang="zh", format=fmt)
    assert not isinstance(given.value, engine.RecordedDecisionError)  # (nothing was recorded, nor edited)
    assert given.value.said("en") == CLAIM_EN
    assert given.value.said("zh") == CLAIM_ZH


def test_a_parsed_claim_is_a_claim_too_and_the_decision_of_it_is_explained(policy: engine.CompiledPolicy) -> None:
    """Before: "'Claim' object has no attribute 'get'" (AttributeError from refuse_other_policy)."""
    claim = engine.parse_claim(policy, example())
    with pytest.raises(engine.RenderError) as given:
        engine.explain(policy, claim)
    assert given.value.said("en") == CLAIM_EN
    decision = engine.evaluate(policy, claim)  # what the message says to call: then it explains
    assert "4,200.00" in engine.explain(policy, decision, lang="en")  # p1: 50% of 8,400.00 of official fees


def test_explanation_and_a_report_given_a_claim_name_themselves(policy: engine.CompiledPolicy) -> None:
    """Before: explanation() said "this decision cannot be explained as recorded ('standing' ...)"; render_report()
    of a claim was a bare KeyError: 'standing' from engine/explaining/recorded.py."""
    with pytest.raises(engine.RenderError) as model:
        engine.explanation(policy, example(), lang="en")
    assert model.value.said("en").startswith("explanation() takes a decision, not a claim (")
    assert "then explanation(policy, decision) (" in model.value.said("en")
    with pytest.raises(engine.RenderError) as report:
        engine.render_report(policy, [example()], "zh")
    assert report.value.said("zh").startswith("render_report() 接受判定结果，而不是申请材料（")
    assert "再调用 render_report(policy, [decision])（" in report.value.said("zh")


@pytest.mark.parametrize(("given", "kind"), [(None, "NoneType"), ('{"format": "policy-engine/decision@1"}', "str"), ([], "list")])
def test_explain_given_no_decision_at_all_says_what_it_takes(policy: engine.CompiledPolicy, given: Any, kind: str) -> None:
    """Before: "'NoneType' object has no attribute 'get'" (AttributeError), likewise for a decision's JSON text."""
    with pytest.raises(TypeError) as err:
        engine.explain(policy, given)
    assert str(err.value) == (
        "explain() takes a decision (what engine.evaluate returns, or a line of a batch's decisions.jsonl read as data"
        f" with engine.loads_json), not {kind}"
    )


def test_explain_given_no_policy_says_what_it_takes(policy: engine.CompiledPolicy) -> None:
    """Before: "'str' object has no attribute 'id'" (the policy's path given for the policy)."""
    decision = engine.evaluate(policy, example())
    with pytest.raises(TypeError) as err:
        engine.explain(str(ROOT / "policies" / "pinggu_2020.yaml"), decision)
    assert str(err.value) == (
        "explain() takes a loaded policy (engine.load_policy(path), or engine.PolicySet.load(path).pick(claim)), not str"
    )


def test_a_report_given_one_decision_not_a_list_says_to_put_it_in_one(policy: engine.CompiledPolicy) -> None:
    """Before: "'Decision' object is not iterable"."""
    decision = engine.evaluate(policy, example())
    with pytest.raises(TypeError) as err:
        engine.render_report(policy, decision, "en")
    assert str(err.value) == (
        "render_report() takes the entries as a list (each a decision, a decision as data, or an engine.ReportError),"
        " not Decision: one decision is [decision]"
    )
    assert engine.render_report(policy, [decision], "en").startswith("<!DOCTYPE html>")


def test_a_decision_as_data_is_still_explained_as_recorded(policy: engine.CompiledPolicy) -> None:
    """The line of decisions.jsonl (its `format` and `standing` there) is no claim: explained as before."""
    recorded = engine.loads_json(engine.evaluate(policy, example()).to_json())
    assert "4,200.00" in engine.explain(policy, recorded, lang="en")
    edited = {k: v for k, v in recorded.items() if k != "standing"}  # (an edit past its form: said as before)
    with pytest.raises(engine.RecordedDecisionError, match="'standing', has been taken out of it"):
        engine.explain(policy, edited, lang="en")


# --- 2. a claim committed with other content: what to do, in the words of the door it came through -------------------


def _committed_then_amended(policy: engine.CompiledPolicy, tmp_path: Any) -> tuple[str, Any]:
    """A ledger holding the example application (commit 1), and the application amended (its submission date moved)
    written as a one-line round: committing it again is refused as already committed with other content."""
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    with engine.Ledger(url) as ledger:
        assert ledger.commit(policy, example()).status == "committed"
    amended = tmp_path / "amended.jsonl"
    amended.write_text(json.dumps({**example(), "submission_date": "2022-03-16"}, ensure_ascii=False) + "\n", encoding="utf-8")
    return url, amended


def test_a_programs_run_batch_says_how_a_program_replaces(policy: engine.CompiledPolicy, tmp_path: Any) -> None:
    """Before: errors.jsonl of `run_batch` told the program to use `--replace`, a command-line flag."""
    url, amended = _committed_then_amended(policy, tmp_path)
    summary = engine.run_batch(policy, amended, tmp_path / "o", ledger_url=url, commit=True, quiet=True, report=False)
    assert (summary.applications, summary.failed, summary.committed) == (1, 1, 0)
    [error] = [json.loads(line) for line in (tmp_path / "o" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    said = error["problems"][0]["said"]
    assert said["en"]["message"] == (
        "claim PG-2022-0001 is already committed with different content (commit 1); if this is the amended application, "
        "commit it as a replacement: run_batch(..., commit=True, replace=True)"
    )
    assert said["zh"]["message"] == (
        "申请 PG-2022-0001 已以不同的内容记入台账（记录 1）；如本次提交的是修改后的申请，请作为替换提交：run_batch(..., commit=True, replace=True)"
    )


def test_the_command_line_and_the_service_round_say_their_own_words(policy: engine.CompiledPolicy, tmp_path: Any) -> None:
    """One catalogue entry per case (ledger.already_committed*), the door's words its `{replace}`: the command line's
    batch, and a service round, which takes no `replace` (its errors.jsonl said `--replace`, which its caller cannot
    give), each say theirs; Ledger.commit says a program's."""
    from engine.records.ledger import REPLACE_BY_COMMIT
    from engine.service.roundjob import REPLACE_BY_REQUEST

    url, amended = _committed_then_amended(policy, tmp_path)
    with engine.Ledger(url) as ledger, pytest.raises(engine.AlreadyCommitted) as err:
        ledger.commit(policy, {**example(), "submission_date": "2022-03-16"})
    assert REPLACE_BY_COMMIT == "ledger.commit(policy, claim, replace=True)"
    assert err.value.said("en").endswith("commit it as a replacement: ledger.commit(policy, claim, replace=True)")
    assert REPLACE_BY_REQUEST == "POST /ledger/commit?replace=true"
    assert err.value.through(REPLACE_BY_REQUEST).render("zh").endswith("请作为替换提交：POST /ledger/commit?replace=true")
    for door in ("batch --commit --replace", REPLACE_BY_REQUEST):
        engine.run_batch(policy, amended, tmp_path / "o", ledger_url=url, commit=True, quiet=True, report=False, replace_said=door)
        [error] = [json.loads(line) for line in (tmp_path / "o" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
        assert error["problems"][0]["message"].endswith(f"commit it as a replacement: {door}")


# --- 3. a ledger opened not to be made, missing: said to a program in a program's words ---------------------------


def test_a_missing_ledger_opened_with_create_false_tells_a_program_what_to_give(tmp_path: Any) -> None:
    """Before: a Python caller was told "(nothing is created by a read-only command)", the command line's words."""
    url = f"sqlite:///{tmp_path}/none.sqlite"
    with pytest.raises(engine.LedgerError) as missing:
        engine.Ledger(url, create=False)
    assert missing.value.said("en") == (
        f"no ledger at {url}: {tmp_path}/none.sqlite does not exist (Ledger(url, create=False) makes none: give the URL of"
        " an existing ledger, or create=True to make a new one)"
    )
    assert missing.value.said("zh") == (
        f"{url} 处没有台账：{tmp_path}/none.sqlite 不存在（Ledger(url, create=False) 不会新建台账：请给出已有台账的地址，或用 create=True 新建）"
    )
    (tmp_path / "empty.sqlite").write_bytes(b"")  # (a file, but no ledger's tables in it)
    with pytest.raises(engine.LedgerError) as empty:
        engine.Ledger(f"sqlite:///{tmp_path}/empty.sqlite", create=False)
    assert empty.value.said("en").endswith(
        "it holds no ledger tables (Ledger(url, create=False) makes none: give the URL of an existing ledger, or create=True"
        " to make a new one)"
    )


def test_the_command_line_keeps_its_words_for_a_missing_ledger(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import main
    from engine.core.i18n import use_language

    url = f"sqlite:///{tmp_path}/none.sqlite"
    with use_language("en"):
        assert main(["ledger", "info", "--ledger", url]) == 1
    assert (
        capsys.readouterr().err
        == f"error: no ledger at {url}: {tmp_path}/none.sqlite does not exist (nothing is created by a read-only command)\n"
    )
    assert not (tmp_path / "none.sqlite").exists()
    with use_language("zh"):
        assert main(["match", "--policy", str(ROOT / "policies" / "pinggu_2020.yaml"), str(ROOT / "examples" / "profile_match_2021.json"),
                     "--out", str(tmp_path / "m"), "-q", "--ledger", url]) == 1  # fmt: skip
    assert capsys.readouterr().err == f"错误：{url} 处没有台账：{tmp_path}/none.sqlite 不存在（只读的命令不会新建台账）\n"


# --- 4. a count given to the Python API is held to what the command line takes ------------------------------------

ROUND = ROOT / "examples" / "round_2021.jsonl"


@pytest.mark.parametrize("workers", [-1, 0, 65, True, 1.5, 2.0, "2", None])
def test_run_batch_refuses_workers_the_command_line_refuses(policy: engine.CompiledPolicy, tmp_path: Any, workers: Any) -> None:
    """Before: -1, 0, 65, True and 1.5 ran on one process, unsaid (`--workers -1` is refused); 2.0 failed inside
    multiprocessing ("'float' object cannot be interpreted as an integer"), "2" and None at a comparison in batch.py."""
    with pytest.raises(ValueError) as err:
        engine.run_batch(policy, ROUND, tmp_path / "o", quiet=True, report=False, without_ledger=True, workers=workers)
    assert str(err.value) == f"run_batch(workers={workers!r}): workers takes a whole number from 1 to 64"
    assert not (tmp_path / "o").exists()  # (refused before anything is written)


@pytest.mark.parametrize("processes", [-1, 65, True, 1.5, "2"])
def test_run_batch_refuses_output_processes_the_command_line_refuses(policy: engine.CompiledPolicy, tmp_path: Any, processes: Any) -> None:
    """Before: every one of them ran (-1 and True as "by the run alone", "2" as two processes)."""
    with pytest.raises(ValueError) as err:
        engine.run_batch(policy, ROUND, tmp_path / "o", quiet=True, report=False, without_ledger=True, output_processes=processes)
    assert str(err.value) == (
        f"run_batch(output_processes={processes!r}): output_processes takes a whole number from 0 to 64, or None (one per core, at most 4)"
    )
    from engine.core.i18n import tr

    assert tr(err.value.args[0], "zh") == (
        f"run_batch(output_processes={processes!r})：output_processes 应为 0 到 64 之间的整数，或 None（每个 CPU 核一个，至多 4 个）"
    )


def test_run_batch_takes_the_counts_the_command_line_takes(policy: engine.CompiledPolicy, tmp_path: Any) -> None:
    """The bounds themselves, and None for the outputs' processes: the example round, 7 applications, one of them an
    error record (its line is no claim), the same on 64 workers and 0 output processes as on one."""
    for workers, processes in ((1, None), (64, 0)):
        s = engine.run_batch(
            policy, ROUND, tmp_path / f"o{workers}", quiet=True, report=False, without_ledger=True, workers=workers,
            output_processes=processes,
        )  # fmt: skip
        assert (s.applications, s.decided, s.failed) == (7, 6, 1)


def test_the_ledgers_counts_are_whole_numbers_in_range(tmp_path: Any) -> None:
    """Before: audit_log(limit=-1) gave every entry (SQL's "no limit"), limit=1.5 and True one; applicants_like(most=0)
    was difflib's "n must be > 0: 0"; withdraw("finding", True) withdrew finding 1 (SQLite reads True as 1)."""
    with engine.Ledger(f"sqlite:///{tmp_path}/l.sqlite") as ledger:
        ledger.record_audit("王科员", ["officer"], "commit", "PG-1", "committed", {})
        ledger.record_audit("王科员", ["officer"], "commit", "PG-2", "committed", {})
        assert [e["target"] for e in ledger.audit_log(limit=1)] == ["PG-2"]  # the latest one
        for limit in (-1, 1.5, True):
            with pytest.raises(ValueError, match=rf"^audit_log\(limit={limit!r}\): limit takes a whole number, 0 or more$"):
                ledger.audit_log(limit=limit)
        with pytest.raises(ValueError, match=r"^applicants_like\(most=0\): most takes a whole number, 1 or more$"):
            ledger.applicants_like("91110117MA01ABCD1X", most=0)
        assert ledger.record_finding("91110117MA01ABCD1F", "fraud_finding_dates", "2021-05-01", reason="核查") == 1
        for number in (True, 1.0):
            with pytest.raises(ValueError, match=rf"^withdraw\(number={number!r}\): number takes a whole number, 0 or more$"):
                ledger.withdraw("finding", number, reason="误录")
        assert [f["id"] for f in ledger.findings()] == [1]  # still in force
        assert [f["withdrawn"] for f in ledger.findings()] == [None]


# --- 5. the rest of the facade, given the wrong kind of thing ----------------------------------------------------------


def test_a_round_label_that_is_no_text_is_not_said_to_be_empty(policy: engine.CompiledPolicy, tmp_path: Any) -> None:
    """Before: round=2021 (a number) was "the round label is empty: say it in words" (轮次标签为空)."""
    with engine.Ledger(f"sqlite:///{tmp_path}/l.sqlite") as ledger, pytest.raises(engine.LedgerError) as err:
        ledger.commit(policy, example(), round=2021)  # type: ignore[arg-type]
    assert err.value.said("en") == "the round label is a number, not text: say it in words (2021)"
    assert err.value.said("zh") == "轮次标签是数字，不是文字：请用文字填写（2021）"
    with pytest.raises(engine.LedgerError, match=r"^the round label is a number, not text: say it in words \(2021\)$"):
        engine.run_batch(policy, ROUND, tmp_path / "o", quiet=True, report=False, without_ledger=True, round_label=2021)  # type: ignore[arg-type]


def test_a_ledger_url_that_is_no_text_says_what_to_give(policy: engine.CompiledPolicy, tmp_path: Any) -> None:
    """Before: Ledger(5) and run_batch(ledger_url=5) were "'int' object has no attribute 'startswith'"."""
    with pytest.raises(TypeError) as err:
        engine.Ledger(PurePosixPath("ledgers/l.sqlite"))  # type: ignore[arg-type]
    assert str(err.value) == (
        "Ledger() takes the ledger's URL as text (sqlite:///path or postgresql://...), not PurePosixPath: PurePosixPath('ledgers/l.sqlite')"
    )
    with pytest.raises(TypeError, match=r"^run_batch\(ledger_url=\) takes the ledger's URL as text .*, not int: 5$"):
        engine.run_batch(policy, ROUND, tmp_path / "o", quiet=True, report=False, ledger_url=5)  # type: ignore[arg-type]


def test_run_batch_given_a_policys_path_or_a_language_without_words_says_so_first(policy: engine.CompiledPolicy, tmp_path: Any) -> None:
    """Before: a policy's path was "'str' object has no attribute 'id'" (engine/deciding/versions.py); report_lang="fr"
    decided the whole round and then printed "report.html failed: RenderError: no message catalogue ..."."""
    with pytest.raises(TypeError) as path:
        engine.run_batch(str(ROOT / "policies" / "pinggu_2020.yaml"), ROUND, tmp_path / "o", quiet=True, without_ledger=True)  # type: ignore[arg-type]
    assert str(path.value) == (
        "run_batch() takes a loaded policy or its versions (engine.load_policy(path), engine.PolicySet.load(path or folder)), not str"
    )
    with pytest.raises(ValueError) as lang:
        engine.run_batch(policy, ROUND, tmp_path / "o", quiet=True, without_ledger=True, report_lang="fr")
    assert str(lang.value) == "run_batch(report_lang='fr'): the report is written in one of en, zh"
    from engine.core.i18n import tr

    assert tr(lang.value.args[0], "zh") == "run_batch(report_lang='fr')：报告只能用以下语言之一写出：en、zh"
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("lang", ["fr", "ZH", None])
def test_a_language_without_a_catalogue_is_said_in_the_readers_language(policy: engine.CompiledPolicy, lang: Any) -> None:
    """Before: "no message catalogue for language 'fr'; available: en, zh" in English whatever the reader's language
    (err.said("zh") too), and lang=None was "unsupported operand type(s) for /: 'PosixPath' and 'NoneType'"."""
    decision = engine.evaluate(policy, example())
    with pytest.raises(engine.RenderError) as err:
        engine.explain(policy, decision, lang=lang)
    assert err.value.said("zh") == f"没有语言 {lang!r} 的消息目录；可用的语言为：en、zh"
    assert err.value.said("en") == f"no message catalogue for language {lang!r}; available: en, zh"
    with engine.use_language("zh"):  # (the reader's language chosen around the slip: said in it)
        with pytest.raises(Exception) as chosen, engine.use_language(lang or "fr"):
            pass
        assert str(chosen.value) == f"没有语言 {lang or 'fr'!r} 的消息目录；可用的语言为：en、zh"


def test_matching_given_a_ledgers_url_or_no_list_says_what_to_give(policy: engine.CompiledPolicy) -> None:
    """Before: Matching(sets, ledger="sqlite:///l.sqlite") matched, then failed at the first profile: "'str' object
    has no attribute 'with_facts_on_record'"; Matching(None) was "'NoneType' object is not iterable"."""
    versions = engine.PolicySet((policy,))
    with pytest.raises(TypeError) as url:
        engine.Matching([versions], ledger="sqlite:///l.sqlite")  # type: ignore[arg-type]
    assert str(url.value) == "Matching(ledger=) takes an open ledger, engine.Ledger(url, create=False), not str"
    with pytest.raises(TypeError, match=r"^Matching\(\) takes a list of PolicySets, one per measure, not of NoneType: "):
        engine.Matching(None)  # type: ignore[arg-type]


def test_the_ledgers_calls_given_a_policys_path_or_a_claims_data_say_what_they_take(policy: engine.CompiledPolicy, tmp_path: Any) -> None:
    """Before: verify("policies/x.yaml") was "'str' object has no attribute 'content_hash'" (read as a list of its
    characters), record_finding(policy=path) "... no attribute 'funding_years'", history_for(policy, data) "'dict'
    object has no attribute 'applicant'"."""
    path = str(ROOT / "policies" / "pinggu_2020.yaml")
    with engine.Ledger(f"sqlite:///{tmp_path}/l.sqlite") as ledger:
        with pytest.raises(TypeError) as verify:
            ledger.verify(path)  # type: ignore[arg-type]
        assert str(verify.value) == (
            "verify() takes a loaded policy (engine.load_policy(path), or engine.PolicySet.load(path).pick(claim)), not str"
        )
        with pytest.raises(TypeError, match=r"^record_finding\(\) takes a loaded policy .*, not str$"):
            ledger.record_finding("91110117MA01ABCD1F", "fraud_finding_dates", "2021-05-01", reason="核查", policy=path)  # type: ignore[arg-type]
        assert ledger.findings() == []  # (nothing recorded)
        with pytest.raises(TypeError) as history:
            ledger.history_for(policy, example())  # type: ignore[arg-type]
        assert str(history.value) == "history_for() takes a parsed Claim, engine.parse_claim(policy, data), not a dict"
        assert ledger.verify([policy]) == []  # (a list of loaded versions, as before)


@pytest.mark.parametrize("flag", ["false", "no", 0, None])
def test_a_flag_given_as_anything_but_true_or_false_is_refused(policy: engine.CompiledPolicy, tmp_path: Any, flag: Any) -> None:
    """Before: any text is true to Python: run_batch(commit="false") committed the round into the default ledger,
    Ledger(url, create="no") made a ledger, evaluate(trace="no") traced; 0 and None were False, unsaid."""
    url = f"sqlite:///{tmp_path}/l.sqlite"
    with pytest.raises(ValueError) as run:
        engine.run_batch(policy, ROUND, tmp_path / "o", ledger_url=url, commit=flag, quiet=True, report=False)
    assert str(run.value) == f"run_batch(commit={flag!r}): commit takes True or False"
    with pytest.raises(ValueError, match=rf"^Ledger\(create={flag!r}\): create takes True or False$"):
        engine.Ledger(url, create=flag)
    assert not (tmp_path / "l.sqlite").exists()  # (neither made a ledger)
    with pytest.raises(ValueError) as trace:
        engine.evaluate(policy, example(), trace=flag)
    from engine.core.i18n import tr

    assert tr(trace.value.args[0], "zh") == f"evaluate(trace={flag!r})：trace 应为 True 或 False"
    with engine.Ledger(url) as ledger, pytest.raises(ValueError, match=rf"^commit\(replace={flag!r}\): replace takes True or False$"):
        ledger.commit(policy, example(), replace=flag)


# --- 6. the deciding calls given the wrong kind of thing -------------------------------------------------------------

POLICY_FILE = ROOT / "policies" / "pinggu_2020.yaml"
NOT_A_POLICY = "{call}() takes a loaded policy (engine.load_policy(path), or engine.PolicySet.load(path).pick(claim)), not NoneType"
NOT_A_POLICY_ZH = "{call}() 接受已加载的政策（engine.load_policy(路径)，或 engine.PolicySet.load(路径).pick(申请)），而不是 NoneType"


def _said(err: pytest.ExceptionInfo[Exception], lang: str) -> str:
    from engine.core.i18n import tr

    return tr(err.value.args[0], lang)


@pytest.mark.parametrize("given", [None, {"policy": {"id": "x"}}, POLICY_FILE])
def test_load_policy_text_given_no_text_says_what_it_takes(given: Any) -> None:
    """Before: "'NoneType' object has no attribute 'encode'" (engine/language/source.py), for a dict and a path too."""
    with pytest.raises(TypeError) as err:
        engine.load_policy_text(given)
    kind = type(given).__name__
    assert _said(err, "en") == (
        f"load_policy_text() takes the policy's YAML as text (or its UTF-8 bytes), not {kind}: a policy file is loaded"
        " with engine.load_policy(path)"
    )
    assert _said(err, "zh") == (
        f"load_policy_text() 接受政策的 YAML 文本（或其 UTF-8 字节串），而不是 {kind}：政策文件请用 engine.load_policy(路径) 加载"
    )


def test_load_policy_text_reads_utf8_bytes_as_a_policy_file_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: bytes were "'bytes' object has no attribute 'encode'". Now read as UTF-8, as `loads_json` reads them and
    as `load_policy` reads the file's own bytes: the same policy; a byte that is not UTF-8 the same PolicyError."""
    monkeypatch.chdir(POLICY_FILE.parent)  # (its source_text is read relative to the current directory)
    policy = engine.load_policy_text(POLICY_FILE.read_bytes(), file="pinggu_2020.yaml")
    assert (policy.id, policy.version, policy.funding_years) == ("pinggu-ip-promotion", "2020.1", (2021, 2023))
    assert policy.content_hash == engine.load_policy(POLICY_FILE).content_hash
    with pytest.raises(engine.PolicyError) as err:
        engine.load_policy_text(b"policy:\n  id: \xe5\xb9\xb3\xff\n", file="draft.yaml")
    [problem] = err.value.problems
    assert (problem.file, problem.line, problem.code) == ("draft.yaml", 2, "encoding")
    from engine.core.i18n import tr

    assert tr(problem.message, "en") == "not valid UTF-8: byte 0xff at offset 17"  # (policy:\n, 8 bytes; "  id: ", 6; 平, 3)


def test_claim_schema_and_parse_claim_json_given_no_policy_say_what_they_take() -> None:
    """Before: "'NoneType' object has no attribute 'item_facts'" (claim_schema), "... 'claim_facts'" (parse_claim_json)."""
    with pytest.raises(TypeError) as schema:
        engine.claim_schema(None)  # type: ignore[arg-type]
    assert _said(schema, "en") == NOT_A_POLICY.format(call="claim_schema")
    assert _said(schema, "zh") == NOT_A_POLICY_ZH.format(call="claim_schema")
    with pytest.raises(TypeError) as parsed:
        engine.parse_claim_json(None, EXAMPLE.read_text(encoding="utf-8"))  # type: ignore[arg-type]
    assert _said(parsed, "en") == NOT_A_POLICY.format(call="parse_claim_json")
    assert _said(parsed, "zh") == NOT_A_POLICY_ZH.format(call="parse_claim_json")


def test_evaluate_claim_given_no_policy_says_what_it_takes(policy: engine.CompiledPolicy) -> None:
    """Before: "'NoneType' object has no attribute '__dict__'" (engine/deciding/evaluator.py), and a PolicySet given
    for the policy failed deeper still."""
    claim = engine.parse_claim(policy, example())
    with pytest.raises(TypeError) as err:
        engine.evaluate_claim(None, claim)  # type: ignore[arg-type]
    assert _said(err, "en") == NOT_A_POLICY.format(call="evaluate_claim")
    assert _said(err, "zh") == NOT_A_POLICY_ZH.format(call="evaluate_claim")
    with pytest.raises(TypeError, match=r"^evaluate_claim\(\) takes a loaded policy .*, not PolicySet$"):
        engine.evaluate_claim(engine.PolicySet((policy,)), claim)  # type: ignore[arg-type]


def test_evaluate_claim_given_grants_as_dicts_says_how_to_give_them(policy: engine.CompiledPolicy) -> None:
    """Before: "'dict' object has no attribute 'consumes'" (engine/deciding/history.py). The message's way out works:
    the same dicts given to engine.evaluate decide the later claim on them."""
    first = engine.evaluate(policy, example())
    later = engine.parse_claim(policy, {**example(), "claim_id": "PG-2022-0099"})
    as_data = [g.to_dict() for g in first.grants]
    with pytest.raises(TypeError) as err:
        engine.evaluate_claim(policy, later, as_data)  # type: ignore[arg-type]
    assert _said(err, "en") == (
        "evaluate_claim() takes the history as Grants (decision.grants, or ledger.history_for(policy, claim)), not dict:"
        " grants as data (grant.to_dict(), ledger.grants()) are checked and taken by engine.evaluate(policy, claim,"
        " history), or made Grants by engine.deciding.history.parse_grants(dicts)"
    )
    assert _said(err, "zh") == (
        "evaluate_claim() 的历史记录应为 Grant（decision.grants，或 ledger.history_for(policy, claim)），而不是 dict："
        "数据形式的资助记录（grant.to_dict()、ledger.grants()）可交给 engine.evaluate(policy, claim, history) 检查后使用，"
        "或用 engine.deciding.history.parse_grants(dicts) 转为 Grant"
    )
    with pytest.raises(TypeError, match=r"^evaluate_claim\(\) takes the history as Grants .*, not int: "):
        engine.evaluate_claim(policy, later, 5)  # type: ignore[arg-type]
    from engine.deciding.history import parse_grants

    grants, problems = parse_grants(as_data)
    assert problems == []
    on_grants = engine.evaluate_claim(policy, later, grants)
    assert on_grants.total == engine.evaluate(policy, later, as_data).total == 0  # (all used up by the first, as in docs)
    with pytest.raises(TypeError, match=r"^evaluate_claim\(\) takes the history as Grants .*, not NoneType: "):
        engine.evaluate_claim(policy, later, [*grants, None])  # type: ignore[list-item]


def test_one_grant_given_as_the_whole_history_is_said_to_be_one_grant(policy: engine.CompiledPolicy) -> None:
    """Before: engine.evaluate_claim(policy, claim, grant) said "... not str" (a Grant is a tuple: its first field, the
    claim id, was read as the first grant), and engine.evaluate(policy, claim, grant) "history must be a list of grants",
    which did not say that one grant had been given. Each now says so, and to put it in a list; in a list it decides."""
    first = engine.evaluate(policy, example())
    grant = first.grants[1]  # l1's 250,000.00 of the pledge cap
    later = {**example(), "claim_id": "PG-2022-0099"}
    parsed = engine.parse_claim(policy, later)
    with pytest.raises(TypeError) as err:
        engine.evaluate_claim(policy, parsed, grant)  # type: ignore[arg-type]
    assert _said(err, "en") == (
        "evaluate_claim() takes the history as a list of Grants, and was given one Grant alone: put it in a list, [grant]"
        " (decision.grants is such a list already)"
    )
    assert _said(err, "zh") == (
        "evaluate_claim() 的历史记录应为 Grant 的列表，这里却单独给出了一个 Grant：请把它放进列表，写作 [grant]"
        "（decision.grants 本身已是这样的列表）"
    )
    with pytest.raises(TypeError, match=r"^evaluate_claim\(\) takes the history as Grants .*, not dict: "):
        engine.evaluate_claim(policy, parsed, grant.to_dict())  # type: ignore[arg-type]  (was "not str": a key)
    for alone in (grant, grant.to_dict()):
        with pytest.raises(engine.ClaimError) as claim_err:
            engine.evaluate(policy, later, alone)  # type: ignore[arg-type]
        (problem,) = claim_err.value.problems
        assert problem.path == ("history",)
        assert problem.said("en") == (
            "<input>: history: history must be a list of grants, and one grant was given alone: put it in a list, [grant]"
            " (several: [grant1, grant2])"
        )
        assert problem.said("zh") == (
            "<输入>: history：history 应是以往支持记录的列表，这里却单独给出了一条记录：请把它放进列表，写作 [grant]"
            "（多条：[grant1, grant2]）"
        )
    with pytest.raises(engine.ClaimError) as other:
        engine.evaluate(policy, later, {"claim_id": "PG-2022-0001"})  # type: ignore[arg-type]  (no grant: as before)
    assert other.value.problems[0].said("en") == "<input>: history: history must be a list of grants"
    # put in a list, the grant decides: l1's pledge interest is held to 300,000.00 - 250,000.00 = 50,000.00
    assert engine.evaluate_claim(policy, parsed, [grant]).items[1].amount == Decimal("50000.00")
    assert engine.evaluate(policy, later, [grant.to_dict()]).items[1].amount == Decimal("50000.00")


def test_versions_given_no_paths_a_year_as_text_or_no_decision_say_what_they_take(policy: engine.CompiledPolicy) -> None:
    """Before: load_versions(None) was "'NoneType' object is not iterable"; for_year("2021") "'<=' not supported
    between instances of 'int' and 'str'" (and 2021.0 was taken as 2021); for_decision(None) "'NoneType' object has
    no attribute 'get'"."""
    with pytest.raises(TypeError) as paths:
        engine.load_versions(None)  # type: ignore[arg-type]
    assert _said(paths, "en") == (
        "load_versions() takes the path of a policy file or folder (text or a pathlib.Path), or a list of them, not NoneType"
    )
    assert _said(paths, "zh") == "load_versions() 接受政策文件或文件夹的路径（文本或 pathlib.Path），或由其组成的列表，而不是 NoneType"
    with pytest.raises(TypeError, match=r"^PolicySet\.load\(\) takes the path .*, not list holding NoneType$"):
        engine.PolicySet.load([POLICY_FILE, None])  # type: ignore[list-item]
    versions = engine.PolicySet((policy,))
    with pytest.raises(TypeError) as year:
        versions.for_year("2021")  # type: ignore[arg-type]
    assert _said(year, "en") == "for_year('2021'): takes the funding year as a whole number, not str: give 2021"
    assert _said(year, "zh") == "for_year('2021')：申报年度应为整数，而不是 str：请给出 2021"
    for given in (2021.0, True, "二〇二一"):
        with pytest.raises(TypeError) as other:
            versions.for_year(given)  # type: ignore[arg-type]
        meant = "2021" if given == 2021.0 else "the year's number, such as 2021"
        assert _said(other, "en").endswith(f"not {type(given).__name__}: give {meant}")
    assert versions.for_year(2021) is policy
    with pytest.raises(TypeError) as decision:
        versions.for_decision(None)  # type: ignore[arg-type]
    assert _said(decision, "en") == (
        "for_decision() takes a decision as data (a line of decisions.jsonl read with engine.loads_json, or"
        " decision.to_dict()), not NoneType"
    )
    assert _said(decision, "zh") == (
        "for_decision() 接受读作数据的判定结果（用 engine.loads_json 读入的 decisions.jsonl 中的一行，或 decision.to_dict()），而不是 NoneType"
    )


def test_covering_a_year_that_is_no_whole_number_says_so_as_for_year_does(policy: engine.CompiledPolicy) -> None:
    """Before: versions.covering("2021") was "'<=' not supported between instances of 'int' and 'str'", covering(2021.0)
    returned the 2020.1 version as if 2021 were given, and covering(True) returned [] (True is the year 1 to Python):
    a caller checking for an overlap or a gap was told nothing was wrong. It now refuses each as for_year does."""
    versions = engine.PolicySet((policy,))
    with pytest.raises(TypeError) as text:
        versions.covering("2021")  # type: ignore[arg-type]
    assert _said(text, "en") == "covering('2021'): takes the funding year as a whole number, not str: give 2021"
    assert _said(text, "zh") == "covering('2021')：申报年度应为整数，而不是 str：请给出 2021"
    with pytest.raises(TypeError) as fraction:
        versions.covering(2021.0)  # type: ignore[arg-type]
    assert _said(fraction, "en") == "covering(2021.0): takes the funding year as a whole number, not float: give 2021"
    with pytest.raises(TypeError) as flag:
        versions.covering(True)
    assert _said(flag, "en") == "covering(True): takes the funding year as a whole number, not bool: give the year's number, such as 2021"
    assert _said(flag, "zh") == "covering(True)：申报年度应为整数，而不是 bool：请给出 年份的数字，如 2021"
    with pytest.raises(TypeError, match=r"^covering\(None\): takes the funding year as a whole number, not NoneType: "):
        versions.covering(None)  # type: ignore[arg-type]
    assert versions.covering(2021) == [policy] and versions.covering(2019) == []  # (the window is 2021-2023)


def test_write_report_to_a_path_it_cannot_write_says_which_and_what_to_do(policy: engine.CompiledPolicy, tmp_path: Path) -> None:
    """Before: write_report to a folder that is not there was "FileNotFoundError: [Errno 2] No such file or directory",
    a traceback from pathlib; to a folder, "IsADirectoryError". Each is now an engine.OutputError (the error records'
    folders raise too) naming the path and what to do, said before the page is drawn; nothing is written."""
    decision = engine.evaluate(policy, example())
    missing = tmp_path / "reports" / "2021"
    target = missing / "round.html"
    with pytest.raises(engine.OutputError) as err:
        engine.write_report(policy, [decision], target)
    assert err.value.said("en") == (
        f"report {target}: the folder {missing} does not exist; create it first, or give the report a path in a folder that exists"
    )
    assert err.value.said("zh") == f"报告 {target}：文件夹 {missing} 不存在；请先创建该文件夹，或把报告写到已有的文件夹中"
    assert not (tmp_path / "reports").exists()  # (no folder made on a slip of the path)
    with pytest.raises(engine.OutputError) as folder:
        engine.write_report(policy, [decision], tmp_path)
    assert folder.value.said("en") == f"report {tmp_path}: is a folder; give the report's file name, such as {tmp_path}/report.html"
    (tmp_path / "notes").write_text("a file", encoding="utf-8")
    with pytest.raises(engine.OutputError) as a_file:
        engine.write_report(policy, [decision], tmp_path / "notes" / "round.html")
    assert a_file.value.said("zh") == (
        f"报告 {tmp_path / 'notes' / 'round.html'}：{tmp_path / 'notes'} 是文件，不是文件夹；请把报告写到一个文件夹中"
    )
    from engine.records.tabular import OutputError

    assert OutputError is engine.OutputError  # (one type, records' and explaining's: a program catches it once)
    missing.mkdir(parents=True)
    assert engine.write_report(policy, [decision], target) == target
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
