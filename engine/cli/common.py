"""What every command shares: how it prints an error, and how it takes its policy versions.

Every command that takes a policy (evaluate, explain, report, batch, batch-template, ledger) takes it
the same way: `add_policy_argument` (a repeatable `--policy`, files or folders) and `policy_versions`
(overlaps refused at load and printed, gaps printed as warnings on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import Any

from engine.core.errors import EngineError, Problem
from engine.deciding.ready import load_policy
from engine.deciding.versions import PolicySet, load_versions
from engine.language.model import CompiledPolicy
from engine.records.tabular import write_text

POLICY_HELP = (
    "policy YAML file; repeat it (or give a folder of *.yaml) for several versions of the same measures: "
    "each claim is decided by the version in force for its funding year"
)


def print_error(err: EngineError, as_json: bool = False) -> None:
    """An error with every problem on stderr: as text (file:line:column, field, expected), or as JSON."""
    if as_json:
        print(
            json.dumps({"error": err.summary, "problems": [p.to_dict() for p in err.problems]}, ensure_ascii=False, indent=2),
            file=sys.stderr,
        )
    else:
        print(str(err), file=sys.stderr)


def write_output(text: str, out: str | None) -> None:
    """A command's output: to the file `out` when given (its folder created; an OutputError, exit 2, when it cannot be
    written), else to stdout."""
    if out:
        write_text(out, text)
    else:
        sys.stdout.write(text)


def add_policy_argument(parser: Any, *, required: bool = True, help: str = POLICY_HELP) -> None:
    """`--policy` as every command takes it: repeatable, files or folders (an argparse parser)."""
    parser.add_argument("--policy", required=required, action="append", metavar="POLICY", help=help)


def print_warnings(problems: Iterable[Problem]) -> None:
    """Gaps between versions, on stderr (they do not stop a command)."""
    for p in problems:
        print(f"{p.severity}: {p.location()}: {p.message}", file=sys.stderr)


def policy_versions(paths: list[str], as_json: bool = False) -> PolicySet | None:
    """The versions a command was given, warnings printed; None (the error printed) when they do not load."""
    try:
        versions, warnings = load_versions(paths)
    except EngineError as err:
        print_error(err, as_json)
        return None
    print_warnings(warnings)
    return versions


def one_policy(path: str) -> CompiledPolicy | None:
    """The one policy a command was given (no versions); None (the error printed) when it does not load."""
    try:
        return load_policy(path)
    except EngineError as err:
        print_error(err)
        return None


def add_encoding_argument(p: argparse.ArgumentParser) -> None:
    """`--encoding`: a CSV input's encoding, for a file whose encoding the engine should not tell by itself."""
    p.add_argument(
        "--encoding",
        metavar="NAME",
        help="encoding of a CSV input (utf-8, utf-8-sig, gb18030, gbk); default: told from the file "
        "(a byte-order mark, else UTF-8 if every byte is, else GB18030)",
    )
