"""A policy with a round budget: a copy of a policy file with `round_budget` added, for the benchmarks and the tests
that need a round a budget scales (the Pinggu measures have none; docs/ledger-and-batch.md, "Round budget")."""

from __future__ import annotations

import shutil
from pathlib import Path

from engine import load_policy
from engine.language.model import CompiledPolicy

#: the line of the policy's head the budget is put after (every Pinggu version has it)
ANCHOR = "  currency: CNY\n"


def with_round_budget(source: Path, folder: Path, amount: str, cites: str | None = None, rounding: str | None = None) -> CompiledPolicy:
    """The policy file `source` copied into `folder` (beside a copy of its texts/ folder: several versions can share
    it) with `round_budget: {amount, cites, rounding}`, loaded. `rounding`: the budget's `rounding:` mapping as YAML
    flow text, e.g. "{mode: half_up, remainder: unallocated}". ValueError when `source` has no `ANCHOR` line."""
    text = source.read_text(encoding="utf-8")
    if ANCHOR not in text:
        raise ValueError(f"no {ANCHOR.strip()!r} line in {source} to put the round budget after")
    fields = [f"amount: {amount}"] + ([f"cites: {cites}"] if cites else []) + ([f"rounding: {rounding}"] if rounding else [])
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source.parent / "texts", folder / "texts", dirs_exist_ok=True)
    copy = folder / source.name
    copy.write_text(text.replace(ANCHOR, ANCHOR + "  round_budget: {" + ", ".join(fields) + "}\n", 1), encoding="utf-8")
    return load_policy(copy)
