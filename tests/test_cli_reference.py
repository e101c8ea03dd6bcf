"""docs/cli.md and docs/cli.zh.md are every command's `--help` as the program says it: a help text changed without
them fails here (remake them with `python -m engine.cli.reference`)."""

from __future__ import annotations

import pytest
from conftest import ROOT

from engine.cli.reference import FILES, reference


@pytest.mark.parametrize("lang", sorted(FILES))
def test_the_reference_is_the_programs_own_help(lang: str) -> None:
    written = (ROOT / "docs" / FILES[lang]).read_text(encoding="utf-8")
    assert written == reference(lang), f"docs/{FILES[lang]} is out of date: run python -m engine.cli.reference"


def test_the_reference_lists_every_command_and_its_exit_codes() -> None:
    from engine.cli import COMMANDS

    zh = reference("zh")
    for name in COMMANDS:
        assert f"\n## {name}\n" in zh
    assert zh.count("退出码：") == len(COMMANDS) + 1  # the program's and each command's footer
    assert "用法：policy-engine batch" in zh and "Usage" not in zh
    en = reference("en")
    assert "usage: policy-engine batch" in en and "用法" not in en
