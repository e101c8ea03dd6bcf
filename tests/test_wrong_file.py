"""One kind of the engine's files given where another is read: one problem saying which file it is and the command
that reads it, not a schema error for every key it has and lacks (engine/language/kinds.py).

Before: `validate` of a case file said eight schema errors ('applicants', 'cases', 'defaults' were unexpected;
'clauses' ... 'rules' required; policy not an object), of a claim nine; `evaluate` of the policy file as the claim
five (unknown fields, claim_id missing, ...); `validate` of the round's workbook "not valid UTF-8 ... save the file
as UTF-8".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import POLICY_PATH, ROOT, claim, item

import engine
from engine.cli import main
from engine.core.i18n import tr

CASES = ROOT / "tests" / "fixtures" / "localities" / "RT1.cases.yaml"
CLAIM = ROOT / "examples" / "claim_enterprise_2021.json"
WORKBOOK = ROOT / "examples" / "round_2021.xlsx"

POLICY_EXPECTED = "规则文件：含 policy:、clauses:、rules: 等的 YAML 文本"
CLAIM_EXPECTED = "申请材料：含 claim_id、applicant、funding_year、items 等的 JSON 对象"


def _policy_problem(path: Path) -> engine.Problem:
    with pytest.raises(engine.PolicyError) as caught:
        engine.load_policy(path)
    (problem,) = caught.value.problems
    return problem


def test_a_case_file_given_as_the_policy_says_so_and_how_to_run_it() -> None:
    p = _policy_problem(CASES)
    assert p.code == "not_a_policy" and p.path == ()
    assert tr(p.message, "zh") == "这是一份用例文件（有 cases:），不是规则文件。用例文件用 test 运行：python -m engine test 用例文件"
    assert (
        tr(p.message, "en")
        == "this is a case file (it has cases:), not a policy file. A case file is run by test: python -m engine test CASES"
    )
    assert tr(p.expected, "zh") == POLICY_EXPECTED


def test_a_claim_given_as_the_policy_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    p = _policy_problem(CLAIM)
    assert tr(p.message, "zh") == (
        "这是一份申请材料（有 claim_id 和 items），不是规则文件。申请材料用 evaluate 或 explain 判定："
        "python -m engine evaluate --policy 规则文件 申请材料"
    )
    assert main(["--lang", "zh", "lint", str(CLAIM)]) == 1
    said = "".join(capsys.readouterr())
    assert "这是一份申请材料" in said and "缺少必填字段" not in said and "1 个错误" in said


def test_a_decision_given_as_the_policy_or_the_claim_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = engine.load_policy(POLICY_PATH)
    decision = engine.evaluate(policy, claim(item("pledge_loan_interest", "l1", annual_interest_paid="100000.00"), claim_id="W-1"))
    path = tmp_path / "decision.json"
    path.write_text(decision.to_json(), encoding="utf-8")
    said = "这是一份判定结果（evaluate 或 batch 写出的 JSON），不是{}。判定结果由 explain 说明："
    assert tr(_policy_problem(path).message, "zh").startswith(said.format("规则文件"))
    assert main(["--lang", "zh", "evaluate", "--policy", str(POLICY_PATH), str(path)]) == 1
    err = capsys.readouterr().err
    assert said.format("申请材料") in err and f"应为 {CLAIM_EXPECTED}" in err and "Traceback" not in err
    # and what it says works: the decision is explained from its file
    assert "python -m engine explain --policy 规则文件 判定文件.json（" in err
    assert main(["--lang", "zh", "explain", "--policy", str(POLICY_PATH), str(path)]) == 0
    assert "申请编号：W-1" in capsys.readouterr().out


def test_a_round_given_as_the_policy_says_so(tmp_path: Path) -> None:
    path = tmp_path / "round.json"
    path.write_text(json.dumps([claim(claim_id="R-1"), claim(claim_id="R-2")]), encoding="utf-8")
    assert tr(_policy_problem(path).message, "zh") == (
        "这是一批申请（列表中每条有 claim_id），不是规则文件。一批申请用 batch 判定：python -m engine batch --policy 规则文件 申请文件 --out 输出文件夹"
    )


def test_a_workbook_given_as_the_policy_is_not_told_to_be_saved_as_utf8() -> None:
    p = _policy_problem(WORKBOOK)
    assert p.code == "not_text" and p.line is None
    assert tr(p.message, "zh").startswith("这是一份 Excel 工作簿（或其他压缩文件），不是文本文件。Excel 中的一批申请用 batch 判定：")
    assert "另存为 UTF-8" not in tr(p.message, "zh") + tr(p.expected, "zh")
    assert tr(p.expected, "zh") == "UTF-8 编码的文本文件（.yaml、.json、.jsonl、.csv）"


def test_the_policy_file_given_as_the_claim_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "zh", "evaluate", "--policy", str(POLICY_PATH), str(POLICY_PATH)]) == 1
    err = capsys.readouterr().err
    assert "申请材料有误（共 1 处问题）" in err
    assert "这是一份规则文件，不是申请材料。规则文件用 --policy 给出：python -m engine evaluate --policy 规则文件 申请材料" in err
    assert "claim_id: 缺少此项" not in err and "Traceback" not in err


def test_a_case_file_given_as_the_claim_says_so() -> None:
    policy = engine.load_policy(POLICY_PATH)
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim(policy, {"policy": "RT1.yaml", "cases": []})
    (p,) = caught.value.problems
    assert (
        tr(p.message, "en") == "this is a case file (it has cases:), not a claim. A case file is run by test: python -m engine test CASES"
    )


def test_a_file_of_the_right_kind_keeps_its_own_errors() -> None:
    # a policy missing its rules, a claim missing its applicant: each said as before, field by field
    policy = engine.load_policy(POLICY_PATH)
    text = POLICY_PATH.read_text(encoding="utf-8")
    with pytest.raises(engine.PolicyError) as caught:
        engine.load_policy_text(text.replace("\nrules:", "\nrulez:"), "p.yaml")
    assert [(p.path, p.code) for p in caught.value.problems] == [(("rulez",), "schema.additionalProperties")]
    bad = claim(item("pledge_loan_interest", "l1", annual_interest_paid="100000.00"))
    del bad["applicant"]
    with pytest.raises(engine.ClaimError) as claim_caught:
        engine.parse_claim(policy, bad)
    assert [p.path for p in claim_caught.value.problems] == [("applicant",)]
    # a list stays "must be an object" (a batch line holding a list is its own slip)
    with pytest.raises(engine.ClaimError, match="must be an object"):
        engine.parse_claim(policy, [bad])


def test_a_policy_as_a_line_of_a_round_is_that_line_s_error_record(tmp_path: Path) -> None:
    good = claim(item("pledge_loan_interest", "l1", annual_interest_paid="100000.00"), claim_id="OK-1")
    lines = [json.dumps(good), json.dumps({"policy": {"id": "x"}, "rules": []})]
    src = tmp_path / "round.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert (
        main(["--lang", "zh", "batch", "--policy", str(POLICY_PATH), str(src), "--out", str(out), "--quiet"]) == 3
    )  # (some applications got error records)
    decided = [json.loads(x) for x in (out / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    # 100,000.00 of interest x 50 % = 50,000.00, under the 30万 a year (the measures: pledge-loan interest subsidy)
    assert [(d["claim_id"], d["total"]) for d in decided] == [("OK-1", "50000.00")]
    (error,) = [json.loads(x) for x in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert "这是一份规则文件，不是申请材料" in json.dumps(error, ensure_ascii=False)
