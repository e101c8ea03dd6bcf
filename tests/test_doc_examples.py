"""Every code example in README.md and docs/*.md runs as written (issue 15 point 4).

* Fenced ```python blocks run, each in a fresh interpreter, in a temporary copy of the project's policies and
  examples (the blocks read `policies/...` and `examples/...` and may write files).
* Command lines -- lines of fenced or indented blocks that start with `python -m engine`, `python3 -m engine`,
  `policy-engine` or `.venv/bin/python -m engine` (also after `&&`), with `\\` continuations joined -- run in bash
  in the same kind of temporary copy, the lines of one block in order (a block's `batch --commit` is what its
  `ledger verify` reads). A line's exit code is the one its comment documents (`# ... exit 3 ...`), else 0;
  a `$ command; echo "exit $?"` line of a console transcript must print the `exit N` shown under it, and on stderr
  the other lines shown under it, as they are.
* docs/service.md's curl examples are sent to a real `serve` (`test_the_curl_examples_of_service_md_are_answered`).
* The placeholders the docs use stand for files made here: CLAIM.json / claim.json (the example claim), claims/
  (a folder holding it), round.jsonl / claims.jsonl (the example round), round.xlsx (its workbook), NEW.yaml /
  新版.yaml (the 2024 draft revision), URL (an SQLite ledger), policy_with_budget.yaml (the policy),
  bad.yaml (the policy with one word misspelt, as the text says).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

#: (docs/cli.md and docs/cli.zh.md are the program's own --help, held to it by tests/test_cli_reference.py: its lines
#: are help, and the examples in it write placeholders such as policies/<measures>.yaml)
DOCS = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name not in ("cli.md", "cli.zh.md"))]
ENGINE = re.compile(r"^(?:\.venv/bin/)?(?:python3? -m engine|policy-engine)\b")

#: Examples that need something this test does not have, with why. (file name, text the command starts with)
SKIP = {
    # `serve` starts a web server that runs until stopped; tests/test_service.py starts and queries one.
    ("README.md", "policy-engine serve"),
    ("service.md", "policy-engine serve"),
    ("service.md", "python -m engine serve"),
}
#: Shell segments of an example that install rather than run the engine (the test runs in the project's venv).
INSTALLS = re.compile(r"^(?:python3? -m venv|\.venv/bin/pip |pip install)")


@dataclass
class Block:
    file: Path
    line: int
    python: str | None = None  # the source of a python block
    commands: list[tuple[int, str, str]] = field(default_factory=list)  # (line, command, its comment)
    transcript: list[str] = field(default_factory=list)  # the lines of a console transcript after its `$` line

    @property
    def id(self) -> str:
        return f"{self.file.name}:{self.line}"


def _command(raw: str) -> tuple[str, str] | None:
    """(the engine part of a shell line, its comment), or None for a line that runs no engine command."""
    text, _, comment = raw.partition("  #")
    text = text.strip().removeprefix("$ ")
    parts = [p.strip() for p in text.split("&&")]
    kept = [p for p in parts if not INSTALLS.match(p)]
    if not any(ENGINE.match(p) or p.startswith("sed ") for p in kept) or not any(ENGINE.match(p) for p in parts):
        if not (kept and kept[0].startswith("sed ")):
            return None
    return " && ".join(kept).replace(".venv/bin/python", "python"), comment.strip()


def blocks(path: Path) -> list[Block]:
    """The examples of one Markdown file: fenced python blocks, and the command lines of fenced or indented blocks."""
    out: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)", lines[i])
        if fence:
            start, lang = i + 1, fence.group(1)
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            body = lines[start:j]
            if lang in ("python", "py"):
                out.append(Block(path, start + 1, python="\n".join(body) + "\n"))
            else:
                out.append(_shell_block(path, start, body))
            i = j + 1
            continue
        if lines[i].startswith("    ") and (i == 0 or not lines[i - 1].strip()):
            j = i
            while j < len(lines) and (lines[j].startswith("    ") or not lines[j].strip()):
                j += 1
            out.append(_shell_block(path, i, [line[4:] for line in lines[i:j]]))
            i = j
            continue
        i += 1
    return [b for b in out if b.python is not None or b.commands]


def _shell_block(path: Path, start: int, body: list[str]) -> Block:
    block = Block(path, start + 1)
    joined: list[tuple[int, str]] = []
    for n, line in enumerate(body):
        if joined and joined[-1][1].rstrip().endswith("\\"):
            joined[-1] = (joined[-1][0], joined[-1][1].rstrip()[:-1] + " " + line.strip())
        else:
            joined.append((start + n + 1, line))
    for k, (n, line) in enumerate(joined):
        if line.startswith("$ "):  # a console transcript: the command, then what it prints
            found = _command(line)
            if found:
                block.commands.append((n, *found))
                block.transcript = [t for _, t in joined[k + 1 :]]
            break
        found = _command(line)
        if found:
            block.commands.append((n, *found))
    return block


ALL = [b for doc in DOCS for b in blocks(doc)]


def test_the_examples_are_found() -> None:
    names = {b.id for b in ALL}
    assert any(n.startswith("README.md:") for n in names) and any(n.startswith("explanations.md:") for n in names)
    commands = [c for b in ALL for _, c, _ in b.commands]
    assert len([b for b in ALL if b.python]) >= 2 and len(commands) >= 20, commands
    assert all(not c.startswith(("pip", "python3 -m venv")) for c in commands)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the policies and examples, with the files the docs' placeholders name."""
    work = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "policies", work / "policies")
    shutil.copytree(ROOT / "examples", work / "examples")
    shutil.copytree(ROOT / "policies" / "texts", work / "texts")
    for f in (ROOT / "policies" / "revisions" / "texts").iterdir():
        shutil.copy(f, work / "texts" / f.name)
    claim = ROOT / "examples" / "claim_enterprise_2021.json"
    for name in ("CLAIM.json", "claim.json"):
        shutil.copy(claim, work / name)
    (work / "claims").mkdir()
    shutil.copy(claim, work / "claims" / claim.name)
    for name in ("round.jsonl", "claims.jsonl"):
        shutil.copy(ROOT / "examples" / "round_2021.jsonl", work / name)
    shutil.copy(ROOT / "examples" / "round_2021.xlsx", work / "round.xlsx")
    for name in ("NEW.yaml", "新版.yaml"):
        shutil.copy(ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml", work / name)
    shutil.copy(ROOT / "policies" / "pinggu_2020.yaml", work / "policy_with_budget.yaml")
    policy = (ROOT / "policies" / "pinggu_2020.yaml").read_text(encoding="utf-8")
    assert 'item.patent_kind == "invention"' in policy
    (work / "bad.yaml").write_text(policy.replace('item.patent_kind == "invention"', 'item.patent_kind == "invension"', 1), "utf-8")
    bin_ = work / ".bin"
    bin_.mkdir()
    for name, target in (
        ("python", f'"{sys.executable}"'),
        ("python3", f'"{sys.executable}"'),
        ("policy-engine", f'"{sys.executable}" -m engine'),
    ):
        (bin_ / name).write_text(f'#!/bin/sh\nexec {target} "$@"\n', encoding="utf-8")
        (bin_ / name).chmod(0o755)
    return work


def _env(work: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k not in ("POLICY_ENGINE_LANG", "LC_ALL", "LC_MESSAGES", "POLICY_ENGINE_LEDGER")}
    return {**keep, "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT), "PATH": f"{work / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"}


def _engine(args: list[str], cwd: Path) -> str:
    """`python -m engine ARGS` run in `cwd` as the docs run it (`_env`); its output, once it has succeeded."""
    r = subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd, env=_env(cwd), capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("block", [b for b in ALL if b.python], ids=lambda b: b.id)
def test_python_example_runs(block: Block, workdir: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-c", block.python or ""], cwd=workdir, env=_env(workdir), capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, f"{block.id}\n{block.python}\n{r.stderr}"


def _documented_exit(comment: str) -> int:
    m = re.search(r"\bexit (\d+)", comment)
    return int(m.group(1)) if m else 0


@pytest.mark.parametrize("block", [b for b in ALL if b.commands], ids=lambda b: b.id)
def test_shell_example_runs(block: Block, workdir: Path, tmp_path: Path) -> None:
    here = tmp_path / "run"
    shutil.copytree(workdir, here, symlinks=True)
    env = {**_env(workdir), "PATH": f"{here / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    if any("out/decisions.jsonl" in c for _, c, _ in block.commands):  # the batch the text says came first
        subprocess.run(
            [sys.executable, "-m", "engine", "batch", "--policy", "policies/pinggu_2020.yaml", "round.jsonl", "--out", "out"],
            cwd=here,
            env=env,
            capture_output=True,
            check=False,
        )
    for line, command, comment in block.commands:
        if any(block.file.name == f and command.startswith(s) for f, s in SKIP):
            continue
        command = command.replace("--ledger URL", "--ledger sqlite:///ledger.sqlite")
        r = subprocess.run(["bash", "-c", command], cwd=here, env=env, capture_output=True, text=True, check=False, timeout=600)
        where = f"{block.file.name}:{line}: {command}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
        if block.transcript:
            shown_exit = [t for t in block.transcript if re.fullmatch(r"exit \d+", t.strip())]
            assert shown_exit and shown_exit[0].strip() in r.stdout.splitlines(), where
            # what it says is shown whole: the problem's line and column too (the policy grew, and 679 was left standing)
            said = [t for t in block.transcript if t.strip() and not re.fullmatch(r"exit \d+", t.strip())]
            assert said == r.stderr.splitlines(), where
            continue
        assert r.returncode == _documented_exit(comment), where


def test_every_engine_call_the_docs_name_resolves_after_import_engine() -> None:
    # The issue: the README named a function (`engine.render.explain(...)`) that `import engine` does not give.
    named = sorted({m for doc in DOCS for m in re.findall(r"\bengine(?:\.[A-Za-z_]+)+(?=\()", doc.read_text(encoding="utf-8"))})
    assert "engine.explain" in named and "engine.evaluate" in named
    probe = "import engine\nfor name in {names!r}:\n    obj = engine\n    for part in name.split('.')[1:]:\n        obj = getattr(obj, part)\n    assert callable(obj), name\n"
    r = subprocess.run(
        [sys.executable, "-c", probe.format(names=named)], cwd=ROOT, env=_env(ROOT), capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, r.stderr


def _excerpt_matches(excerpt: list[str], text: list[str]) -> str | None:
    """Why `excerpt` is not `text` as the docs abridge it (None if it is): its lines are the text's from the first
    on, in order and next to one another, except that a line `...` stands for any lines (none too) and a line
    cut with `……` for any line that begins as it does."""
    at, gap = 0, False
    for shown in excerpt:
        if shown.strip() == "...":
            gap = True
            continue
        head, cut, _ = shown.partition("……")

        def same(line: str, head: str = head, cut: str = cut, shown: str = shown) -> bool:
            return line.startswith(head) if cut else line == shown

        found = next((i for i in range(at, len(text) if gap else min(at + 1, len(text))) if same(text[i])), None)
        if found is None:
            return f"not {'found after' if gap else 'next after'} line {at} of the text: {shown!r}"
        at, gap = found + 1, False
    return None


def test_the_notice_matching_md_shows_is_the_one_match_writes(workdir: Path, tmp_path: Path) -> None:
    # docs/matching.md quotes the beginning of the example profile's Chinese notice; the command it shows writes it
    doc = (ROOT / "docs" / "matching.md").read_text(encoding="utf-8").splitlines()
    start = doc.index("北京平谷示例科技有限公司可申请的支持事项")
    excerpt = doc[start : doc.index("```", start)]
    _engine(["match", "--policy", "policies/pinggu_2020.yaml", "examples/profile_match_2021.json", "--out", str(tmp_path / "m")], workdir)
    notice = (tmp_path / "m" / "notices" / "M-2021-001.zh.txt").read_text(encoding="utf-8").splitlines()
    assert _excerpt_matches(excerpt, notice) is None, _excerpt_matches(excerpt, notice)


def test_the_editor_transcript_names_the_policy_lines_as_they_are() -> None:
    # docs/editor-support.md quotes the language server's answers at lines of policies/pinggu_2020.yaml, which move
    # as the policy grows (its hover on `max` named line 564 when `max: 30万` was at 760)
    doc = (ROOT / "docs" / "editor-support.md").read_text(encoding="utf-8")
    policy = (ROOT / "policies" / "pinggu_2020.yaml").read_text(encoding="utf-8").splitlines()
    hovers = re.findall(r"^-- \w+\s+\(line (\d+): (.*)\)$", doc, re.M)
    mistakes = re.findall(r"^line (\d+): .*\((.*)\)$", doc, re.M)
    assert len(hovers) >= 4 and len(mistakes) == 2, (hovers, mistakes)
    for line, shown in hovers:
        assert policy[int(line) - 1].strip() == shown, (line, shown)
    for line, typed in mistakes:  # the line as it was before the mistake was typed into it
        assert policy[int(line) - 1].strip().startswith(typed.replace("capps", "caps").replace("half-up", "half_up")), (line, typed)


def test_each_count_in_a_heading_of_bad_inputs_md_is_the_sum_of_its_rows() -> None:
    # a heading's "(n/n)" is its table's inputs in all; rows were added without it (75 said where the rows held 77)
    sections = re.split(r"^## ", (ROOT / "docs" / "bad-inputs.md").read_text(encoding="utf-8"), flags=re.M)
    checked = 0
    for section in sections:
        heading, _, body = section.partition("\n")
        said = re.search(r"\((\d+)/\1\b", heading)
        if not said:
            continue
        rows = [
            re.split(r"(?<!\\)\|", line.strip())[1:-1]
            for line in body.splitlines()
            if line.startswith("| ") and not re.fullmatch(r"[|\s:-]+", line)
        ]
        counts = [next((int(m.group(1)) for c in row if (m := re.fullmatch(r"\s*(\d+)/\1\s*", c))), 0) for row in rows]
        assert sum(counts) == int(said.group(1)), (heading, counts)
        checked += 1
    assert checked >= 8


def _diff_of_the_worked_revision(lang: str) -> list[str]:
    revision = ["policies/pinggu_2020.yaml", "policies/revisions/pinggu_2024_draft.yaml"]
    out = _engine(["--lang", lang, "diff", *revision, "--claims", "policies/revisions/round_2021_sample.jsonl"], ROOT)
    return out.rstrip("\n").splitlines()


def _block_after(doc: str, first: str) -> list[str]:
    lines = (ROOT / "docs" / doc).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    return lines[start : lines.index("```", start)]


def test_the_worked_revisions_diff_is_shown_as_diff_prints_it() -> None:
    # the English guide shows the whole output; the Chinese one an excerpt (节选), its lines in the output's order
    # (the cap's new `says` lines were missing, and "17 change(s)" was 19)
    # (its heading names the measures by their title: it was the policy's id, pinggu-ip-promotion)
    head = "Pinggu District Intellectual Property Promotion Measures: 2020.1"
    assert _block_after("authoring.en.md", head) == _diff_of_the_worked_revision("en")
    excerpt, said = _block_after("authoring.zh.md", "第六条第（一）项"), iter(_diff_of_the_worked_revision("zh"))
    assert len(excerpt) > 10 and all(any(line == shown for line in said) for shown in excerpt), excerpt


def test_the_failing_case_the_guides_show_is_what_test_prints(tmp_path: Path) -> None:
    # the case file of tests/test_casefiles.py, whose first case forgot the annual cap: its report, in each language
    from test_casefiles import WRONG, policy_beside

    from engine.core.i18n import use_language
    from engine.officer.casefile import format_result, load_case_file, run_case

    f = tmp_path / "wrong.yaml"
    f.write_text(WRONG.format(policy=policy_beside(tmp_path)), encoding="utf-8")
    first = run_case(load_case_file(f)[0])
    for doc, lang, head in (("authoring.en.md", "en", "FAIL wrong.yaml:9"), ("authoring.zh.md", "zh", "未通过 wrong.yaml:9")):
        with use_language(lang):
            said = format_result(first).replace(f"{tmp_path}{os.sep}", "")
        assert _block_after(doc, head) == said.splitlines(), doc


def test_the_curl_examples_of_service_md_are_answered(tmp_path: Path) -> None:
    # docs/service.md's "From curl" block, each line sent to a real `serve` (the shell examples above skip `serve`):
    # every one answered 200 (curl -f fails on any status of 400 or more), $TOKEN an officer's, claim.json the example
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    pytest.importorskip("uvicorn")
    from test_service import OFFICER_TOKEN, Server

    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(f"tokens:\n  {OFFICER_TOKEN}: {{name: 王科员, roles: [officer]}}\n", encoding="utf-8")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copy(ROOT / "examples" / "claim_enterprise_2021.json", tmp_path / "claim.json")
    lines = _block_after("service.md", "curl -s localhost:8000/policies")
    assert len(lines) >= 6 and all(line.startswith("curl -s ") for line in lines), lines
    srv = Server(tmp_path, "--ledger", f"sqlite:///{tmp_path / 'ledger.sqlite'}", "--token-file", str(tokens))
    try:
        for line in lines:
            command = line.replace("curl -s ", "curl -sf ", 1).replace("localhost:8000", f"127.0.0.1:{srv.port}")
            env = {**os.environ, "TOKEN": OFFICER_TOKEN}
            r = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=120)
            assert r.returncode == 0 and r.stdout, f"{line}\nexit {r.returncode}\n{r.stderr}\n{srv.output()}"
    finally:
        srv.stop()


# --- SECURITY.md states the limits the code holds ------------------------------------------------------------------
# tests/test_security_yaml.py::test_limits_are_documented_in_security_md holds each `MAX_*` constant a table names to
# its value. These are the guards SECURITY.md states another way (a default, a schema bound, a list of names), which
# drifted unnoticed: "the nine documented functions" when a policy could call 21, "28 digits" for a context of 60.

SECURITY = ROOT / "SECURITY.md"


def _security_row(first: str) -> str:
    """The row of a SECURITY.md table whose first cell is `first`."""
    rows = [line for line in SECURITY.read_text(encoding="utf-8").splitlines() if line.startswith(f"| {first} |")]
    assert len(rows) == 1, (first, rows)
    return rows[0]


def _states(text: str, number: float, then: str) -> bool:
    """`text` writes `number` (2,000,000; 10 for 10.0) and, later in the same phrase (before a `(` or a `|`), `then`."""
    said = f"{int(number):,}" if float(number).is_integer() else str(number)
    return re.search(rf"(?<![\d,.]){re.escape(said)}(?![\d,]|\.\d)[^|(]*?" + re.escape(then), text) is not None


def test_security_md_states_the_services_bounds() -> None:
    # each bound is the service's default (Limits) and `serve`'s (its option): written twice in the code, so both
    from engine.cli import build_parser
    from engine.service.catalogue import MAX_POLICY_FILES
    from engine.service.config import Limits
    from engine.service.drain import MAX_HEAD_BYTES

    limits, serve = Limits(), build_parser().parse_args(["serve", "--policies", "p"])
    for row, field_name, option in (
        ("body size", "max_body_bytes", "--max-body"),
        ("body size", "max_round_bytes", None),
        ("items per claim", "max_items", "--max-items"),
        ("request time", "timeout_seconds", "--timeout"),
        ("body time", "body_seconds", "--body-timeout"),
        ("rounds at once", "max_jobs", None),
        ("round jobs kept", "job_ttl_seconds", "--jobs-ttl"),
        ("round jobs kept", "jobs_kept", "--jobs-kept"),
        ("round jobs kept", "jobs_bytes", "--jobs-bytes"),
        ("the lean evaluate path", "inline_items", "--inline-items"),
    ):
        value = getattr(limits, field_name)
        if option is not None:
            assert getattr(serve, option[2:].replace("-", "_")) == value, f"serve {option}'s default is not Limits.{field_name}"
        named = f"(`{option}`)" if option else f"(`Limits.{field_name}`"
        assert _states(_security_row(row), value, named), f"SECURITY.md's {row!r} row does not say {value} {named}"
    assert f"at most {MAX_POLICY_FILES} `.yaml` files" in _security_row("policy files")
    assert f"{MAX_HEAD_BYTES:,} bytes for a request's head" in _security_row("head size")


def test_security_md_states_the_bounds_of_what_runs_and_is_kept() -> None:
    from engine.deciding import jsontext
    from engine.deciding.decision import ENGINE_CONTEXT
    from engine.explaining import catalogue, explainer
    from engine.explaining.recorded import KEPT_OBJECTS
    from engine.matching.matcher import MAX_OTHER_ITEMS
    from engine.service import requestid

    text = SECURITY.read_text(encoding="utf-8")
    assert f"past the {ENGINE_CONTEXT.prec} digits of the engine's decimal context" in text
    assert f"(`decision.ENGINE_CONTEXT`:\n{ENGINE_CONTEXT.prec} digits" in text
    assert f"`KEPT_OBJECTS` ({KEPT_OBJECTS:,})" in _security_row("recorded objects kept")
    assert f"at most {MAX_OTHER_ITEMS} other items" in _security_row("matching")
    assert f"1-{requestid.MAX_LENGTH} visible ASCII characters" in _security_row("request ids")
    # the code the engine generates: writers kept per rule, fillers made per number of fields (0 to FILLED_FIELDS)
    assert jsontext._SHAPES_PER_RULE == explainer.STEP_WRITERS_PER_RULE
    assert f"at most {explainer.STEP_WRITERS_PER_RULE} writers per rule" in text
    assert f"(at most {catalogue.FILLED_FIELDS + 1} per process)" in " ".join(text.split())


def test_security_md_names_every_function_and_filter_a_policy_may_use() -> None:
    # what a policy can reach: the functions its expressions may call, the filters its templates may use
    from jinja2.defaults import DEFAULT_FILTERS

    from engine.language.expressions import FUNCTIONS, PARAM_FUNCTION
    from engine.language.templating import ALLOWED_FILTERS, ENGINE_FILTERS

    text = SECURITY.read_text(encoding="utf-8")
    may_call = text[text.index("They may call the") : text.index("Nothing else:")]
    assert set(re.findall(r"`(\w+)[`(]", may_call)) - {"FUNCTIONS"} == set(FUNCTIONS) | {PARAM_FUNCTION}
    filters = " ".join(text[text.index("Filters: `money`") :].split("\n*")[0].split())
    named, _, left_out = filters.partition("except")
    assert set(re.findall(r"`(\w+)`", named)) == set(ENGINE_FILTERS), named
    assert set(re.findall(r"`(\w+)`", left_out)) == set(DEFAULT_FILTERS) - ALLOWED_FILTERS, left_out


def test_security_md_states_the_policy_schemas_bounds_on_words_and_lists() -> None:
    # these bounds live in schemas/policy.schema.json, not in constants (SECURITY.md's "Policy-language v2" table)
    import json

    schema = json.loads((ROOT / "schemas" / "policy.schema.json").read_text(encoding="utf-8"))
    defs, top = schema["$defs"], schema["properties"]
    clause = top["clauses"]["additionalProperties"]["properties"]
    words, parameters, readings = _security_row("a policy's words"), _security_row("dated parameters"), _security_row("readings")
    assert f"at most {defs['bilingual']['properties']['zh']['maxLength']:,} characters per language" in words
    assert f"at most {clause['text']['maxLength']:,}" in words and clause["en"]["maxLength"] == clause["text"]["maxLength"]
    assert f"ids, citations and codes at most {defs['citation']['maxLength']} characters" in words
    assert f"a clause's article {clause['article']['maxLength']}" in words
    assert f"a version {top['policy']['properties']['version']['maxLength']}" in words
    assert f"at most {defs['labelled_codes']['maxProperties']:,} codes" in words
    assert f"at most {top['parameters']['maxProperties']} parameters" in parameters
    assert f"{defs['parameter']['properties']['values']['maxItems']:,} values each" in parameters
    assert f"at most {top['readings']['maxItems']} readings" in readings
    assert f"ids of at most {defs['reading_id']['maxLength']} characters" in readings
    order = defs["rule"]["properties"]["selection"]["properties"]["order"]
    assert f"at most {order['maxItems']} ranking keys" in _security_row("round selection")
    types = _security_row("item types")
    assert f"at most {top['item_types']['maxProperties']} item types" in types and f"{top['rules']['maxItems']} rules" in types


#: tests the docs still name by an earlier name (in a paragraph of its time), each with its name now, which the doc
#: gives beside it
RENAMED_TESTS = {
    "test_fast_text_is_byte_identical_to_the_templates": "test_a_decision_and_its_record_explain_identically",
    "test_a_round_with_a_budget_makes_its_outputs_while_deciding_unless_it_is_scaled": (
        "test_a_round_with_a_budget_makes_its_outputs_while_deciding_scaled_or_not"
    ),
    "test_a_round_on_workers_makes_its_outputs_after_deciding_on_the_processes": "test_a_round_on_workers_makes_its_outputs_on_the_workers",
    "test_the_round_is_foreseen_over_the_ledger_as_it_was_before_the_run_decided": "test_the_round_is_foreseen_before_the_run_commits_anything",
    "test_a_scaling_foreseen_wrongly_is_thrown_away": "test_a_round_that_already_holds_an_earlier_runs_grants",
    "test_a_budget_round_on_workers_keeps_what_they_made_unless_it_is_scaled": (
        "test_a_round_larger_than_the_foresight_takes_is_scaled_after_deciding_on_workers"
    ),
}


def test_every_test_the_docs_name_is_a_test_or_says_its_name_now() -> None:
    """docs/performance.md named tests by names they had lost (a reader searching tests/ found nothing): each name
    `test_…` in docs/*.md or README.md is a test function or file in tests/, or an earlier name whose doc gives its
    name now within the next few lines."""
    tests = ROOT / "tests"
    defined = {m for p in tests.rglob("*.py") for m in re.findall(r"def (test_[a-z0-9_]+)", p.read_text(encoding="utf-8"))}
    defined |= {p.stem for p in tests.rglob("test_*.py")}
    wrong = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        lines = doc.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines):
            for name in re.findall(r"(?<![A-Za-z0-9_/])(test_[a-z0-9_]+)", line):
                now = RENAMED_TESTS.get(name)
                if name in defined or (now in defined and now in "\n".join(lines[n : n + 4])):
                    continue
                wrong.append(f"{doc.relative_to(ROOT)}:{n + 1}: {name}")
    assert wrong == []


# --- benchmarks/README.md states what the runner does --------------------------------------------------------------


def _benchmark_runner() -> Any:
    """benchmarks/run.py as a module (it puts benchmarks/ on sys.path for its own `baseline` and `generate`)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("benchmarks_run", ROOT / "benchmarks" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmarks_agreement_check_stops_any_difference_with_exit_code_2(monkeypatch: pytest.MonkeyPatch) -> None:
    # benchmarks/README.md, step 3: "Any difference stops the run (exit code 2)". A difference in the number of items
    # raised SystemExit with a text, which exits 1
    import engine

    run = _benchmark_runner()
    policy = engine.load_policy(ROOT / "policies" / "pinggu_2020.yaml")
    raw = run.generate.application(10, seed=7)
    parsed, prepared = [engine.parse_claim(policy, raw)], [run.baseline.prepare(raw)]
    assert sum(run.check_agreement(policy, parsed, prepared).values()) >= 10  # the two agree: counted, no exit
    decide = run.baseline.decide
    for wrong in (
        lambda c: decide(c)[:-1],  # one item fewer
        lambda c: [(r[0], r[1] + 1, r[2]) if i == 0 else r for i, r in enumerate(decide(c))],  # a yuan more
    ):
        monkeypatch.setattr(run.baseline, "decide", wrong)
        with pytest.raises(SystemExit) as stopped:
            run.check_agreement(policy, parsed, prepared)
        assert stopped.value.code == 2


# --- what the docs name is there -----------------------------------------------------------------------------------
# Checks of the text alone, no command run: a link, an option, a function, a test or a lint code the docs name that
# the tree does not have is a reader sent to nothing.

#: every Markdown page a reader is sent to (docs/performance.md and the design note included: their links too)
PAGES = [ROOT / "README.md", ROOT / "SECURITY.md", ROOT / "benchmarks" / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _anchors(page: Path) -> set[str]:
    """The `#fragment`s a Markdown page's headings give, as GitHub makes them (lower case; spaces to `-`; punctuation
    other than `-` and `_` dropped, letters of any script kept)."""
    heads = re.findall(r"^#{1,6} (.*)$", page.read_text(encoding="utf-8"), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in heads}


def test_every_relative_link_of_the_docs_resolves() -> None:
    # each `[text](target)` that is no URL names a file of the tree, and its `#fragment` a heading of that page
    wrong, checked = [], 0
    for page in PAGES:
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for target in re.findall(r"\]\(([^)\s]+)\)", line):
                if re.match(r"[a-z]+:", target):
                    continue
                path, _, fragment = target.partition("#")
                linked = (page.parent / path).resolve() if path else page
                checked += 1
                if not linked.exists():
                    wrong.append(f"{page.relative_to(ROOT)}:{n}: {target}: no such file")
                elif fragment and linked.suffix == ".md" and fragment not in _anchors(linked):
                    wrong.append(f"{page.relative_to(ROOT)}:{n}: {target}: no such heading")
    assert checked >= 30 and wrong == [], wrong


def test_every_section_the_docs_send_a_reader_to_by_name_is_there() -> None:
    # `docs/performance.md, "Many cores"`, `docs/ledger-and-batch.md (*Several workers*)`: the name is a heading of
    # that page, or the bold or italic words a paragraph of it starts with (benchmarks/README.md sent readers to
    # performance.md's "Several workers", a heading of another page)
    said = re.compile(r"\b((?:docs/)?[\w.-]+\.md)(?:,\s*|\s*\(|,?\s+section\s+)[\"“*]{1,2}([^\"”*\n]{3,80})[\"”*]")
    wrong, checked = [], 0
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for m in said.finditer(text):
            target = next((t for t in (ROOT / m.group(1), page.parent / m.group(1)) if t.exists()), None)
            assert target is not None, f"{page.relative_to(ROOT)}: {m.group(1)}"
            there = target.read_text(encoding="utf-8")
            heads = re.findall(r"^#+ (.*)$", there, re.M) + re.findall(r"^(?:[-*] )?\*{1,2}([^*]+)\*", there, re.M)
            checked += 1
            if not any(m.group(2).strip().rstrip(".").lower() in re.sub(r"[`*]", "", h).lower() for h in heads):
                wrong.append(f"{page.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}: {m.group(1)} has no {m.group(2)!r}")
    assert checked >= 20 and wrong == [], wrong


def _options_by_command() -> dict[str, set[str]]:
    """Each command's options (`ledger`'s actions share its one parser), and the program's own under ""."""
    import argparse

    from engine.cli import build_parser

    found: dict[str, set[str]] = {}

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        for action in parser._actions:
            found.setdefault(name, set()).update(action.option_strings)
            if isinstance(action, argparse._SubParsersAction):
                for sub, subparser in action.choices.items():
                    walk(subparser, sub)

    walk(build_parser(), "")
    return found


#: the mistakes docs/bad-inputs.md shows on purpose (an option misspelt, or given to a command that takes none such),
#: each still refused by its command
MISTAKES = {("batch", "--polcy"), ("versions", "--policy"), ("coverage", "--policy"), ("batch-template", "--out")}


def test_every_option_the_docs_give_a_command_is_one_of_its_own() -> None:
    # `python -m engine CMD … --opt`, `policy-engine CMD … --opt` and `` `CMD … --opt` `` in the text: --opt is CMD's
    # (or the program's, --lang), up to a comment or a table's next cell
    options = _options_by_command()
    commands = "|".join(sorted((c for c in options if c), key=len, reverse=True))
    said = re.compile(rf"(?:python3? -m engine |policy-engine |`)(?:--lang \w+ )?({commands})\b([^`\n]*)")
    wrong, checked, mistakes = [], 0, set()
    for page in PAGES:
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for command, rest in said.findall(line):
                rest = rest.split("  #")[0] if command == "ledger" else rest.split("  #")[0].split("|")[0]
                for option in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", rest):
                    checked += 1
                    if option in options[command] | options[""]:
                        continue
                    if page.name == "bad-inputs.md" and (command, option) in MISTAKES:
                        mistakes.add((command, option))
                        continue
                    wrong.append(f"{page.relative_to(ROOT)}:{n}: {command} has no option {option}")
    assert checked >= 100 and wrong == [], wrong
    assert mistakes == MISTAKES  # each mistake bad-inputs.md shows is still shown, and still no option of its command


def test_the_function_table_of_policy_language_md_is_the_expression_languages() -> None:
    # docs/policy-language.md §16: "This is the whole list (`FUNCTIONS` in engine/language/expressions.py)", and the
    # bounds of an expression and of its literals
    from engine.language import expressions

    text = (ROOT / "docs" / "policy-language.md").read_text(encoding="utf-8")
    table = text[text.index("### Functions") : text.index("This is the whole list")]
    assert set(re.findall(r"^\| `(\w+)\(", table, re.M)) == set(expressions.FUNCTIONS) | {expressions.PARAM_FUNCTION}
    limits = (
        f"Limits: {expressions.MAX_SOURCE_CHARS} characters, {expressions.MAX_NODES} syntax nodes, "
        f"{expressions.MAX_DEPTH} levels of nesting."
    )
    assert limits in " ".join(text.split())
    literals = " ".join(text[text.index("### Literals") : text.index("**Percentages**")].split())
    assert f"(up to {expressions.MAX_STRING_LITERAL} characters)" in literals
    assert f"integers (up to 10¹{'⁵' if expressions.MAX_INT_LITERAL == 10**15 else '?'})" in literals
    assert f"at most {expressions.MAX_DECIMAL_LITERAL} characters, {expressions.MAX_DECIMAL_PLACES} decimal places" in literals


def test_each_test_the_docs_place_in_a_file_is_defined_there() -> None:
    # `tests/x.py::test_y` anywhere, and a bare `test_y` in docs/bad-inputs.md's Test column, whose file is its
    # section's heading ("The *Test* column names the test function in the file of the section's heading")
    def defined(files: list[str], name: str) -> bool:
        return any(f"def {name}(" in (ROOT / f).read_text(encoding="utf-8") for f in files if (ROOT / f).exists())

    wrong, checked = [], 0
    for page in PAGES:
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for file, name in re.findall(r"(tests/[\w/]+\.py)::(test_\w+)", line):
                checked += 1
                if not defined([file], name):
                    wrong.append(f"{page.relative_to(ROOT)}:{n}: {file} defines no {name}")
    sections = re.split(r"^## ", (ROOT / "docs" / "bad-inputs.md").read_text(encoding="utf-8"), flags=re.M)[1:]
    for section in sections:
        heading, _, body = section.partition("\n")
        files = re.findall(r"`(tests/[\w/]+\.py)`", heading)
        rows = [line for line in body.splitlines() if line.startswith("| ")]
        for row in rows:
            last = re.split(r"(?<!\\)\|", row.strip())[1:-1][-1]
            for name in re.findall(r"(?<![\w:/.])`(test_\w+)`", last):
                checked += 1
                if not defined(files, name):
                    wrong.append(f"bad-inputs.md, section {heading[:50]!r}: {name} is in none of {files}")
    assert checked >= 200 and wrong == [], wrong


def test_every_lint_code_the_docs_name_is_one_lint_gives() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "engine" / "officer").glob("*.py"))
    named = {code for page in PAGES for code in re.findall(r"`lint\.([a-z_]+)`", page.read_text(encoding="utf-8"))} - {"py"}
    assert len(named) >= 10
    assert sorted(c for c in named if f'"{c}"' not in source and f"'{c}'" not in source) == []
