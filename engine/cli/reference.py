"""The command-line reference, docs/cli.md and docs/cli.zh.md: every command's `--help` as the parser says it, in
one language each. Generated, never written by hand, so that the reference cannot drift from the code:
`python -m engine.cli.reference` writes both files, and tests/test_cli_reference.py fails when a help text changes
without them."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from engine.cli import build_parser
from engine.core.i18n import msg, tr, use_language

#: the help's width: fixed, so that the files do not depend on the terminal they were made in
WIDTH = 100

#: the file of each language, beside the other docs
FILES = {"en": "cli.md", "zh": "cli.zh.md"}


@contextlib.contextmanager
def _columns(width: int) -> Iterator[None]:
    """argparse wraps help to $COLUMNS (shutil.get_terminal_size): set for the making, restored after."""
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


def _block(text: str) -> list[str]:
    return ["```text", text.rstrip(), "```", ""]


def reference(lang: str) -> str:
    """The reference in `lang`: the program's help, then each command's, in the order `--help` lists them."""
    with use_language(lang), _columns(WIDTH):
        parser = build_parser()
        out = [f"# {tr(msg('cli.reference.title'), lang)}", "", tr(msg("cli.reference.intro"), lang), ""]
        out += _block(parser.format_help())
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        for name, command in commands.choices.items():
            out += [f"## {name}", ""] + _block(command.format_help())
    return "\n".join(out)


def write(docs: Path) -> list[Path]:
    """Write each language's reference into `docs`; the files written."""
    written = []
    for lang, name in FILES.items():
        path = docs / name
        path.write_text(reference(lang), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # python -m engine.cli.reference [DOCS_FOLDER]
    for path in write(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "docs")):
        print(path)
