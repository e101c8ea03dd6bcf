"""The command line speaks zh and en (issue 15 point 1): a global `--lang` (and explain/report's own after the command),
POLICY_ENGINE_LANG and the locale choose; every command's help, argparse's own words, summaries, warnings, errors
and exit messages are said in the chosen language; explanations stay Chinese unless a language is chosen; a closed
stdout pipe ends the command quietly (issue 15 point 4)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import POLICY_PATH, ROOT

from engine.cli import COMMANDS, EXIT_PIPE, EXIT_USAGE, build_parser, main
from engine.cli.common import wrap
from engine.core.i18n import use_language

build_parser()  # every command registered (modules with further commands register on import)
CLAIM = ROOT / "examples" / "claim_enterprise_2021.json"
HAN = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
#: Lines of help that are example command lines, written the same in every language.
EXAMPLE_LINE = re.compile(r"^\s*python -m engine ")


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


def english_runs(text: str) -> list[str]:
    """Runs of 3 or more English words: option names (`--x`), metavars and acronyms (UPPER), identifiers
    (with - _ . / : or digits), choices in braces, backticked code and example command lines do not count."""
    runs: list[str] = []
    for line in text.splitlines():
        if EXAMPLE_LINE.match(line):
            continue
        line = re.sub(r"`[^`]*`|\{[^}]*\}", " ", line)
        run: list[str] = []
        for token in line.split():  # a word glued to Chinese text or punctuation ends a run
            word = token.strip("()[],;:.'\"!?")
            if re.fullmatch(r"[A-Za-z]*[a-z][A-Za-z]*", word) and not HAN.search(token):
                run.append(word)
                continue
            if len(run) >= 3:
                runs.append(" ".join(run))
            run = []
        if len(run) >= 3:
            runs.append(" ".join(run))
    return runs


def test_the_detector_sees_english_sentences_and_lets_identifiers_through() -> None:
    assert english_runs("  --policy POLICY       policy YAML file(s)") == []
    assert english_runs("  -h, --help            show this help message and exit") == ["show this help message and exit"]
    assert english_runs("政策 YAML 文件；可重复 --policy（或给出 *.yaml 文件夹）") == []
    assert english_runs("  python -m engine coverage policies/x.yaml --tests policies/tests --min 100") == []


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_in_chinese_has_no_english_sentence(command: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, "--lang", "zh", *([command] if command else []))
    assert english_runs(text) == [], text
    assert "用法：" in text and "选项：" in text and "显示本帮助并退出" in text  # argparse's own words too
    assert "退出码：" in text  # the exit-code footer
    assert "usage:" not in text and "options:" not in text and "show this help" not in text
    assert not re.search(r"[\u3000-\u303f\uff00-\uffef\u4e00-\u9fff] +[\u4e00-\u9fff]", text)  # no stray space in Chinese


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_in_english_has_no_chinese(command: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, "--lang", "en", *([command] if command else []))
    assert not HAN.search(text), [line for line in text.splitlines() if HAN.search(line)]
    assert "usage: policy-engine" in text and "options:" in text and "exit codes:" in text


def test_the_language_flag_after_explain_and_report_chooses_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert "用法：policy-engine explain" in _help(capsys, "explain", "--lang", "zh")
    assert "usage: policy-engine report" in _help(capsys, "--lang", "zh", "report", "--lang", "en")  # the last one wins
    assert "用法：policy-engine test" in _help(capsys, "test", "--lang", "zh")  # every command takes it after itself too
    r = _run("versions", str(POLICY_PATH), "--lang", "zh")
    assert r.returncode == 0 and "平谷区知识产权促进办法：1 个版本\n" in r.stdout, r.stderr


def test_a_file_whose_name_starts_with_a_dash_gets_a_hint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `evaluate -c.json`: argparse reads it as an option and says only that CLAIM is missing
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-c.json").write_bytes((ROOT / "examples" / "claim_enterprise_2021.json").read_bytes())
    for lang, hint in (
        ("en", "'-c.json' is a file, but its name starts with '-', so it was read as an option: write ./-c.json, or put -- before it"),
        ("zh", "“-c.json”是文件，但文件名以“-”开头，被当作选项读取：请写作 ./-c.json，或在它前面加 --"),
    ):
        with pytest.raises(SystemExit) as stop:
            main(["--lang", lang, "evaluate", "--policy", str(POLICY_PATH), "-c.json"])
        assert stop.value.code == EXIT_USAGE
        assert capsys.readouterr().err.endswith(hint + "\n")
    assert main(["evaluate", "--policy", str(POLICY_PATH), "--", "-c.json"]) == 0
    assert main(["evaluate", "--policy", str(POLICY_PATH), "./-c.json"]) == 0


def test_a_misspelt_option_command_or_action_gets_a_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    # (the docs review, session 24) `batch --polcy P` said only that --policy was missing, `--wrokers 2` only that it
    # was not recognised, and `ledger verfy` named an argument "action" the help never shows
    cases = [
        (["batch", "--polcy", "p.yaml", "x.jsonl"], "缺少以下必需参数：--policy\n没有 --polcy 这个选项：是不是 --policy？\n"),
        (
            ["batch", "--policy", "p.yaml", "x.jsonl", "--wrokers=2"],
            "无法识别的参数：--wrokers=2（请用 -h 查看可用的选项）\n没有 --wrokers 这个选项：是不是 --workers？\n",
        ),
        (
            ["ledger", "verfy"],
            "参数 ACTION：无效的取值：'verfy'（可选：'verify', 'grants', 'statement', 'reverse', 'reversals', 'finding', 'findings', 'withdraw', 'info'）\n没有 verfy：是不是 verify？\n",
        ),
        (["valdate", "p.yaml"], "没有 valdate：是不是 validate？\n"),
    ]
    for args, said in cases:
        with pytest.raises(SystemExit) as stop:
            main(["--lang", "zh", *args])
        assert stop.value.code == EXIT_USAGE
        assert capsys.readouterr().err.endswith(said), args
    with pytest.raises(SystemExit):
        main(["--lang", "en", "batch", "--policy", "p.yaml", "x.jsonl", "--wrokers", "2"])
    assert capsys.readouterr().err.endswith("unrecognized arguments: --wrokers 2\nthere is no option --wrokers: did you mean --workers?\n")
    with pytest.raises(SystemExit):  # nothing like it: no hint
        main(["--lang", "en", "lint", "p.yaml", "--bogus"])
    assert "did you mean" not in capsys.readouterr().err
    with pytest.raises(SystemExit):  # an abbreviation argparse reads (`--pol` for --policy) is no slip
        main(["--lang", "en", "batch", "--pol", "p.yaml"])
    assert "--pol:" not in capsys.readouterr().err


def test_an_option_given_for_what_a_command_takes_as_it_is_says_the_command_without_it(capsys: pytest.CaptureFixture[str]) -> None:
    """`versions --policy p.yaml` (batch, match and report take --policy; versions, validate, lint and coverage take
    the file as it is) and `batch-template --out t.xlsx` (batch and match take --out) said only "无法识别的参数：
    --policy（请用 -h 查看可用的选项）". They now say the command line to write."""
    with pytest.raises(SystemExit):
        main(["--lang", "zh", "versions", "--policy", "policies/p.yaml"])
    err = capsys.readouterr().err
    assert "错误：无法识别的参数：--policy（请用 -h 查看可用的选项）\n" in err
    assert "versions 命令的 POLICY 直接写在命令后面，前面不加 --policy：policy-engine --lang zh versions policies/p.yaml\n" in err
    with pytest.raises(SystemExit):  # (a missing --tests is said by the command's own parser: the whole line still)
        main(["--lang", "zh", "coverage", "--policy=p.yaml"])
    assert (
        "coverage 命令的 POLICY 直接写在命令后面，前面不加 --policy：policy-engine --lang zh coverage p.yaml\n" in capsys.readouterr().err
    )
    with pytest.raises(SystemExit):
        main(["--lang", "en", "batch-template", "--policy", "p.yaml", "--out", "my round.xlsx"])
    err = capsys.readouterr().err
    assert (
        'batch-template takes OUT.xlsx as it is, without --out before it: policy-engine --lang en batch-template --policy p.yaml "my round.xlsx"\n'
        in err
    )
    with pytest.raises(SystemExit):  # (batch takes --policy: no such hint)
        main(["--lang", "zh", "batch", "--policy", "p.yaml"])
    assert "直接写在命令后面" not in capsys.readouterr().err


def test_a_file_given_bare_for_an_option_says_the_option_and_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    """`ledger info X.db` (the ledger given as it is, not after --ledger) and `match` without --policy said only
    "无法识别的参数：X.db" or "缺少以下必需参数：--policy". They now name the option and the command line to write."""
    with pytest.raises(SystemExit):
        main(["--lang", "zh", "ledger", "info", "X.db"])
    err = capsys.readouterr().err
    assert "错误：无法识别的参数：X.db（请用 -h 查看可用的选项）\n" in err
    assert "ledger 命令的台账要写在 --ledger 后面：policy-engine --lang zh ledger info --ledger X.db\n" in err
    with pytest.raises(SystemExit):  # (before the action: refused as one)
        main(["--lang", "zh", "ledger", "X.db", "info"])
    assert "ledger 命令的台账要写在 --ledger 后面：policy-engine --lang zh ledger --ledger X.db info\n" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--lang", "zh", "match", "policies/p.yaml", "profiles.json"])
    err = capsys.readouterr().err
    assert "错误：缺少以下必需参数：--policy\n" in err
    assert "match 命令的政策文件要写在 --policy 后面：policy-engine --lang zh match --policy policies/p.yaml profiles.json\n" in err
    with pytest.raises(SystemExit):  # no policy on the line at all
        main(["--lang", "zh", "match", "profiles.json"])
    assert (
        "match 命令要用 --policy 给出政策文件（把 POLICY 换成政策文件的路径）：policy-engine --lang zh match --policy POLICY profiles.json\n"
        in capsys.readouterr().err
    )
    with pytest.raises(SystemExit):
        main(["--lang", "en", "ledger", "info", "my ledger.sqlite"])
    assert (
        'ledger takes the ledger after --ledger: policy-engine --lang en ledger info --ledger "my ledger.sqlite"\n'
        in capsys.readouterr().err
    )
    with pytest.raises(SystemExit):  # a profile of YAML is match's own argument: no hint while --policy is given
        main(["--lang", "zh", "match", "--policy", "p.yaml", "a.yaml", "b.yaml"])
    assert "后面：" not in capsys.readouterr().err


def test_argparse_errors_in_both_languages(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--lang", "zh", "batch"])
    assert stop.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "用法：policy-engine batch" in err and "policy-engine batch：错误：缺少以下必需参数：--policy, INPUT" in err
    with pytest.raises(SystemExit):
        main(["--lang", "zh", "explain", "--policy", str(POLICY_PATH), str(CLAIM), "--format", "pdf"])
    err = capsys.readouterr().err
    assert "参数 --format：无效的取值：'pdf'（可选：'text', 'md', 'html', 'json'）" in err
    with pytest.raises(SystemExit):
        main(["--lang", "zh", "evaluat"])
    assert "policy-engine：错误：参数 COMMAND：无效的取值：'evaluat'（可选：'validate', 'evaluate'," in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--lang", "en", "batch"])
    err = capsys.readouterr().err
    assert "policy-engine batch: error: the following arguments are required: --policy, INPUT" in err and not HAN.search(err)
    with pytest.raises(SystemExit):
        main(["--lang", "zh", "batch", "--workers", "many", "x.jsonl", "--policy", "p.yaml"])
    assert "参数 --workers：值 'many' 无效（应为整数）" in capsys.readouterr().err  # (it said 应为 int 类型: the officer red team)
    with pytest.raises(SystemExit):
        main(["--lang", "en", "batch", "--workers", "many", "x.jsonl", "--policy", "p.yaml"])
    assert "argument --workers: invalid whole number value: 'many'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--lang", "zh", "coverage", "p.yaml", "--tests", "t", "--min", "120"])
    assert "参数 --min：120 不是 0 到 100 之间的百分数" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # (was "'100%' 不是数字": PERCENT, written as one writes a percent)
        main(["--lang", "zh", "coverage", "p.yaml", "--tests", "t", "--min", "100%"])
    assert "参数 --min：'100%' 不是数字：请只写数字，不带百分号，写作 100\n" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--lang", "en", "coverage", "p.yaml", "--tests", "t", "--min", "95.5％"])
    assert "argument --min: '95.5％' is not a number: write the number alone, without a percent sign: 95.5\n" in capsys.readouterr().err
    # an option no command has: argparse words it in parse_args itself, after parse_known_args (it stayed English)
    for command in (["batch", "--policy", "p.yaml", "x.jsonl"], ["lint", "p.yaml"]):
        with pytest.raises(SystemExit) as stop:
            main(["--lang", "zh", *command, "--bogus"])
        assert stop.value.code == EXIT_USAGE
        assert capsys.readouterr().err.endswith("policy-engine：错误：无法识别的参数：--bogus（请用 -h 查看可用的选项）\n")


def test_a_year_or_number_option_written_with_a_unit_says_the_number(capsys: pytest.CaptureFixture[str]) -> None:
    """ledger --year 2021年 said "值 '2021年' 无效（应为int）": argparse's word for the type, in English, and no fix.
    Every whole-number option now says it in the reader's words with the number to write (as a sheet's cell does);
    full-width digits (２０２１) are read as the number they are."""
    with pytest.raises(SystemExit):
        main(["--lang", "zh", "ledger", "statement", "--applicant", "X", "--year", "2021年"])
    err = capsys.readouterr().err
    assert "policy-engine ledger：错误：参数 --year：'2021年' 不是整数：请写作 2021\n" in err and "应为int" not in err
    with pytest.raises(SystemExit):
        main(["--lang", "en", "ledger", "withdraw", "--reversal", "3个"])
    assert "argument --reversal: '3个' is not a whole number: write 3\n" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--lang", "zh", "ledger", "withdraw", "--finding", "two"])
    assert "参数 --finding：值 'two' 无效（应为整数）" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--lang", "zh", "match", "--policy", "p.yaml", "x.json", "--workers", "２个"])
    assert "参数 --workers：'２个' 不是整数：请写作 2\n" in capsys.readouterr().err


def test_a_bad_language_is_refused_in_the_environment_s_language(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--lang", "fr", "--help"])
    assert stop.value.code == EXIT_USAGE
    assert "argument --lang: invalid choice: 'fr' (choose from 'en', 'zh')" in capsys.readouterr().err


def _run(*args: str, env: dict[str, str] | None = None, **kwargs: object) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("POLICY_ENGINE_LANG", "LC_ALL", "LC_MESSAGES", "LANG")}
    return subprocess.run(
        [sys.executable, "-m", "engine", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**base, "PYTHONPATH": str(ROOT), **(env or {})},
        check=False,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("env", "args", "chinese"),
    [
        ({"POLICY_ENGINE_LANG": "zh"}, (), True),
        ({"LANG": "zh_CN.UTF-8"}, (), True),
        ({"LC_ALL": "zh_CN.GB18030", "LANG": "en_US.UTF-8"}, (), True),
        ({"LANG": "en_US.UTF-8"}, (), False),
        ({"LANG": "C.UTF-8"}, (), False),
        ({"POLICY_ENGINE_LANG": "zh"}, ("--lang", "en"), False),  # the flag wins over the environment
        ({"LANG": "en_US.UTF-8"}, ("--lang", "zh"), True),
    ],
)
def test_the_environment_and_the_locale_choose(env: dict[str, str], args: tuple[str, ...], chinese: bool) -> None:
    r = _run(*args, "validate", "--help", env=env)
    assert r.returncode == 0, r.stderr
    assert ("检查政策文件" in r.stdout) is chinese and ("check a policy file" in r.stdout) is not chinese


def test_explanations_are_chinese_unless_a_language_is_chosen() -> None:
    # The messages follow the locale; the explanation follows --lang, else POLICY_ENGINE_LANG, else Chinese.
    english_locale = _run("explain", "--policy", str(POLICY_PATH), str(CLAIM), env={"LANG": "en_US.UTF-8"})
    assert english_locale.returncode == 0 and "申报审查说明" in english_locale.stdout
    for args, env in (
        (("--lang", "en", "explain"), {}),
        (("explain", "--lang", "en"), {"LANG": "zh_CN.UTF-8"}),
        (("explain",), {"POLICY_ENGINE_LANG": "en", "LANG": "zh_CN.UTF-8"}),
    ):
        r = _run(*args, "--policy", str(POLICY_PATH), str(CLAIM), env=env)
        assert r.returncode == 0, r.stderr
        assert "Decision explained" in r.stdout and "申报审查说明" not in r.stdout.splitlines()[0], (args, env)
    zh = _run("--lang", "zh", "explain", "--policy", str(POLICY_PATH), str(CLAIM), env={"LANG": "en_US.UTF-8"})
    assert zh.stdout.startswith("申报审查说明")


def test_summaries_and_exit_messages_in_both_languages(tmp_path: Path) -> None:
    # `test`: 1 case file of the shipped suite; every case passes (0 failed).
    for lang, words in (("zh", "个用例："), ("en", "case(s):")):
        r = _run("--lang", lang, "test", "policies/tests/general_clauses.yaml")
        assert r.returncode == 0 and words in r.stdout, r.stdout
    checks = [
        (("batch", "--policy", str(POLICY_PATH), "x.jsonl", "--replace"), 2, "--replace 须与 --commit 同用", "--replace needs --commit"),
        (
            ("report", "--policy", str(POLICY_PATH), str(tmp_path / "none"), "--out", "r.html"),
            1,  # (an input that is not there: 1, as every other command says it)
            "没有这个文件或文件夹",
            "no such file or folder",
        ),
        (("ledger", "verify"), 2, "verify 需要 --policy", "verify needs --policy"),
        (
            ("ledger", "reverse"),
            2,
            "reverse 需要 --claim、--item、--reason 和 --date",
            "reverse needs --claim, --item, --reason and --date",
        ),
        (
            ("compile", str(POLICY_PATH), "--rule", "nope"),
            1,
            "错误：pinggu-ip-promotion 2020.1 中没有规则 'nope'",
            "error: pinggu-ip-promotion 2020.1 has no rule 'nope'",
        ),
    ]
    for args, code, zh, en in checks:
        r_zh, r_en = _run("--lang", "zh", *args), _run("--lang", "en", *args)
        assert (r_zh.returncode, r_en.returncode) == (code, code), (args, r_zh.stderr, r_en.stderr)
        assert zh in r_zh.stderr and en not in r_zh.stderr, (args, r_zh.stderr)
        assert en in r_en.stderr and not HAN.search(r_en.stderr.replace("平谷", "")), (args, r_en.stderr)


def test_validate_and_lint_summaries_in_chinese() -> None:
    r = _run("--lang", "zh", "validate", str(POLICY_PATH))
    assert r.returncode == 0 and "：无误 —— pinggu-ip-promotion 2020.1" in r.stdout and "条规则" in r.stdout, r.stdout
    r = _run("--lang", "zh", "versions", str(POLICY_PATH))
    assert r.returncode == 0 and "平谷区知识产权促进办法：1 个版本\n" in r.stdout, r.stdout


def test_the_exit_codes_are_listed_in_both_languages(capsys: pytest.CaptureFixture[str]) -> None:
    zh, en = _help(capsys, "--lang", "zh"), _help(capsys, "--lang", "en")
    for code, zh_words, en_words in (
        ("0", "成功", "success"),
        ("1", "输入有误或检查未通过", "invalid input or a failed check"),
        ("2", "用法错误", "usage error"),
        ("3", "已完成，但部分输入有误", "finished, but some inputs failed"),
        ("130", "已被中断", "interrupted"),
        (str(EXIT_PIPE), "读取输出的一方已关闭管道", "the output's reader closed the pipe"),
    ):
        assert f"  {code}  {zh_words}" in zh and f"  {code}  {en_words}" in en, code


def _closed_pipe(*args: str) -> tuple[int, str]:
    """Run a command whose stdout is a pipe its reader closed before the command wrote to it (as `| head` does
    once it has its line)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8", "replace")
    return proc.wait(timeout=600), err


@pytest.mark.parametrize(
    "args",
    [
        ("test", "-v", "policies/tests"),
        ("explain", "--policy", "policies/pinggu_2020.yaml", "examples/claim_enterprise_2021.json"),
        ("evaluate", "--policy", "policies/pinggu_2020.yaml", "examples/claim_enterprise_2021.json"),
    ],
)
def test_a_closed_pipe_ends_the_command_quietly(args: tuple[str, ...]) -> None:
    code, err = _closed_pipe(*args)
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err
    assert code == EXIT_PIPE


def test_a_pipe_closed_while_a_long_output_is_written_ends_with_its_code() -> None:
    # `compile --show | head` exited 0: its 144 kB went in one write, of which a pipe its reader left takes part and an
    # unbuffered stdout (PYTHONUNBUFFERED) dropped the rest without an error; now written a function at a time, and
    # stdout is buffered whole whatever the environment (`_whole_writes_to_stdout`)
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "compile", "policies/pinggu_2020.yaml", "--show"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(1) == b"#"  # (the reader has its first byte, the writer has filled the pipe and waits)
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=600) == EXIT_PIPE and "Traceback" not in err, err


@pytest.mark.parametrize("unbuffered", ["1", ""])
def test_a_large_output_in_one_write_to_a_pipe_its_reader_left_ends_with_its_code(tmp_path: Path, unbuffered: str) -> None:
    # under PYTHONUNBUFFERED (`python -u`, many container images) stdout wrote a text in one write to the descriptor:
    # a pipe its reader left took 64 KiB of a 900 kB decision and the rest was dropped without a word, exit 0
    claim = json.loads((ROOT / "examples" / "claim_enterprise_2021.json").read_text(encoding="utf-8"))
    claim["items"] = [{**it, "id": f"{it['id']}-{n}"} for n in range(40) for it in claim["items"]][:190]
    (tmp_path / "big.json").write_text(json.dumps(claim, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": unbuffered}
    cmd = [sys.executable, "-m", "engine", "evaluate", "--policy", "policies/pinggu_2020.yaml", str(tmp_path / "big.json")]
    whole = subprocess.run(cmd, capture_output=True, cwd=ROOT, env=env, check=False, timeout=600)
    assert whole.returncode == 0 and len(whole.stdout) > 200_000 and json.loads(whole.stdout)["claim_id"] == claim["claim_id"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(1) == b"{"
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=600) == EXIT_PIPE and "Traceback" not in err and "Exception ignored" not in err, err


def test_a_program_calling_main_gets_its_own_stdout_back() -> None:
    # under PYTHONUNBUFFERED main() swapped the process's stdout for a buffered one and kept it swapped: the calling
    # program's later writes without a newline came out after those through its own reference
    script = (
        "import sys\nfrom engine.cli import main\nout = sys.stdout\n"
        "code = main(['validate', 'policies/pinggu_2020.yaml'])\n"
        "sys.stdout.write('partial ')\nout.write('line\\n')\nprint(code, sys.stdout is sys.__stdout__, sys.stdout is out)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env, check=False, timeout=600)
    assert done.stdout.endswith("partial line\n0 True True\n"), done.stdout + done.stderr


def test_a_closed_pipe_after_a_batch_ends_it_quietly(tmp_path: Path) -> None:
    code, err = _closed_pipe("batch", "--policy", "policies/pinggu_2020.yaml", "examples/round_2021.jsonl", "--out", str(tmp_path / "o"))
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err
    assert code == EXIT_PIPE
    assert (tmp_path / "o" / "decisions.jsonl").is_file()  # the round was decided and written before the summary


def test_head_in_a_shell_pipeline_sees_no_traceback() -> None:
    r = subprocess.run(
        f"{sys.executable} -m engine test -v policies/tests | head -1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert r.returncode == 0 and r.stdout.startswith("PASS ") and len(r.stdout.splitlines()) == 1
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr, r.stderr


def test_chinese_help_lines_fit_the_width() -> None:
    # 20 columns: each Chinese character takes 2, so at most 10 per line; ASCII words are never split.
    lines = wrap("政策 YAML 文件；同一办法有多个版本时可重复此选项（或给出装有 *.yaml 的文件夹）", 20)
    assert all(sum(2 if "\u4e00" <= c <= "\u9fff" or c in "；（）" else 1 for c in line) <= 20 for line in lines), lines
    assert "".join(lines).replace(" ", "") == "政策YAML文件；同一办法有多个版本时可重复此选项（或给出装有*.yaml的文件夹）"
    assert not any(line.startswith(("；", "）")) or line.endswith("（") for line in lines), lines
    assert wrap("show this help message and exit", 12) == ["show this", "help message", "and exit"]


def test_main_leaves_the_language_as_it_found_it(capsys: pytest.CaptureFixture[str]) -> None:
    with use_language("en"):
        _help(capsys, "--lang", "zh")
        from engine.core.i18n import language

        assert language() == "en"
    assert build_parser().format_usage().startswith(("usage:", "用法："))


def test_test_with_no_case_says_so_in_both_languages(tmp_path: Path) -> None:
    r_zh, r_en = _run("--lang", "zh", "test", str(tmp_path)), _run("--lang", "en", "test", str(tmp_path))
    assert r_zh.returncode == r_en.returncode == 1
    assert f"在 {tmp_path} 中没有找到测试用例" in r_zh.stderr and "0 个用例：0 个通过，0 个未通过" in r_zh.stdout
    assert f"no test case found in {tmp_path}" in r_en.stderr and "0 case(s): 0 passed, 0 failed" in r_en.stdout


def test_a_gbk_stream_gets_its_marks_not_a_traceback() -> None:
    """(The officer red team, session 23.) Python 3.11 on Chinese Windows writes a redirected stream in cp936, which has no
    ✓ or ✗: `explain > out.txt` and `coverage` ended in a UnicodeEncodeError traceback at the first mark. They write √
    and × there (both in GBK), every other character as it was."""
    gbk = {"PYTHONIOENCODING": "cp936"}
    explained = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "--lang",
            "zh",
            "explain",
            "--policy",
            str(POLICY_PATH),
            str(ROOT / "examples" / "claim_enterprise_2021.json"),
        ],
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **gbk},
        check=False,
    )
    assert explained.returncode == 0, explained.stderr.decode("gbk", "replace")
    text = explained.stdout.decode("gbk")  # (strict: every byte GBK)
    assert "  √ 第四条第二款：单位须在平谷区依法登记注册，并实际经营、依法纳税" in text and "×" in text and "✓" not in text
    covered = _run("--lang", "zh", "coverage", str(POLICY_PATH), "--tests", str(ROOT / "policies" / "tests"), env=gbk, encoding="gbk")
    assert covered.returncode == 0 and "√ 第四条第一款" in covered.stdout


def test_a_stream_without_the_wide_marks_gets_plain_ones() -> None:
    """(The session's own review.) cp1252, an English Windows console's redirect, has neither ✓ nor √: the handler's
    √ could not be written either, and `explain > out.txt` was the same traceback. There ✓ is v (and ✗ is ×, which
    cp1252 has)."""
    explained = _run(
        "--lang",
        "en",
        "explain",
        "--policy",
        str(POLICY_PATH),
        str(ROOT / "examples" / "claim_enterprise_2021.json"),
        env={"PYTHONIOENCODING": "cp1252"},
        encoding="cp1252",
    )
    assert explained.returncode == 0, explained.stderr
    lines = explained.stdout.splitlines()
    assert (
        "  v \\u7b2c\\u56db\\u6761\\u7b2c\\u4e8c\\u6b3e: an organisation must be registered in Pinggu District, actually operate there and pay tax there"
        in lines
    )
    assert any(", × originals and copies of the fee receipts (missing)" in line for line in lines)  # (cp1252 has ×, not √)
