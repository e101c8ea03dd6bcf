"""Exit codes: one text lists every code with what triggers it (`--help`), each command's footer says its own,
and the footers agree with what the commands return."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

import pytest
from conftest import POLICY_PATH, policy_beside

from engine.cli import COMMANDS, EXIT_CODES, EXIT_INVALID, EXIT_OK, EXIT_WHEN, build_parser, exit_epilog, main


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_every_command_has_its_own_footer() -> None:
    subs = _subparsers(build_parser())
    assert set(subs) == set(COMMANDS)
    missing = sorted(set(COMMANDS) - set(EXIT_WHEN))
    assert missing == [], f"commands without an exit-code footer in engine.cli.EXIT_WHEN: {missing}"
    for name, p in subs.items():
        assert p.epilog is not None and p.epilog.endswith(exit_epilog(name)), name
        assert "invalid policy or claim" not in p.epilog  # the old one-size footer


def test_code_3_documented_exactly_where_a_command_returns_it() -> None:
    build_parser()
    for name, (_, _, run) in COMMANDS.items():
        returns_partial = "EXIT_PARTIAL" in inspect.getsource(run)
        assert returns_partial == (EXIT_WHEN[name][1] is not None), name
        assert ("  3  " in exit_epilog(name)) == returns_partial, name


def test_program_help_lists_what_triggers_each_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert EXIT_CODES in out
    for trigger in (
        "test: a case failed",
        "coverage: under --min",
        "lint: errors were found (with --strict: warnings too)",
        "batch: some applications got error records",
        "diff --claims: some claims could not be compared",
        "report: some claims got an error row",
        "2  usage error",
    ):
        assert trigger in out, trigger
    # every command whose footer has a code 3 is named under it in the program's list (match and batch-template were not)
    three = out[out.index("  3  finished") : out.index("  130  ")]
    for name, (_, partial) in EXIT_WHEN.items():
        if partial is not None:
            assert f"{name}:" in three or f"{name} --" in three, name


CASE = """policy: {policy}
defaults:
  claim: {{claim_id: C-1, funding_year: 2021, submission_date: "2022-03-15", documents: [business_licence],
          applicant: {{id: 91110117MA01ABCD1F, name: 北京平谷示例科技有限公司, kind: enterprise, registered_in_district: true,
                      actually_operating: true, pays_tax_in_district: true}}}}
  item: {{date: "2021-06-01", supported_by_other_district_policy: false, documents: [proof_of_right, fee_receipts, sealed_receipt_copies]}}
cases:
  - name: invention patent fees at 50%
    claim:
      items:
        - {{id: p1, type: invention_patent_grant, patent_id: ZL202010000001.1, patent_kind: invention, route: domestic, official_fees_paid: "8400.00"}}
    expect:
      items:
        p1: {{status: granted, amount: "{amount}"}}
"""


@pytest.mark.parametrize(("amount", "code"), [("4200.00", EXIT_OK), ("4300.00", EXIT_INVALID)])
def test_test_exits_1_when_a_case_fails(tmp_path: Path, amount: str, code: int, capsys: pytest.CaptureFixture[str]) -> None:
    # 第五条第（一）项: 50% of the official fees, 8,400.00 × 50% = 4,200.00; expecting 4,300.00 fails
    case = tmp_path / "case.yaml"
    case.write_text(CASE.format(policy=policy_beside(tmp_path).as_posix(), amount=amount), encoding="utf-8")
    assert main(["test", str(case)]) == code
    assert ("1 failed" if code else "0 failed") in capsys.readouterr().out
    assert "a case failed" in exit_epilog("test")


def test_lint_exits_1_on_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: not-a-policy\n", encoding="utf-8")
    assert main(["lint", str(bad)]) == EXIT_INVALID
    assert "error" in capsys.readouterr().out
    assert main(["lint", str(POLICY_PATH)]) == EXIT_OK  # the Pinggu policy lints clean


def test_serve_given_no_folder_of_policies_says_which_slip_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve --policies` mistyped, and given the policy file itself, each said "<path> is not a folder": a folder
    that is not there is said so, and a file is told the folder to give (the one it is in)."""
    from engine.service.drain import HEAD_SECONDS_ENV

    for name in ("POLICY_ENGINE_LANG", HEAD_SECONDS_ENV):  # (serve sets them for its workers: taken out after)
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    missing, file = tmp_path / "polcies", tmp_path / "pinggu.yaml"
    file.write_text("policy: {}\n", encoding="utf-8")
    assert main(["--lang", "en", "serve", "--policies", str(missing), "--port", "0"]) == EXIT_INVALID
    assert capsys.readouterr().err.splitlines()[1] == (
        f"{missing}: (document): no such folder (check its name and path): give the folder that holds the policy files"
    )
    assert main(["--lang", "zh", "serve", "--policies", str(file), "--port", "0"]) == EXIT_INVALID
    assert capsys.readouterr().err.splitlines()[1] == (
        f"{file}: （整个文件）：这是一个文件，而不是文件夹：请给出存放政策文件的文件夹（{tmp_path}）"
    )
