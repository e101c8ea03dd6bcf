"""Shared helpers of the ledger, batch, concurrency and crash tests (no tests here).

`ledger_urls(tmp_path)` gives the ledgers to test against: a fresh SQLite file, and a fresh
schema on the PostgreSQL server named by $POLICY_ENGINE_TEST_PG (.ci/start-postgres.sh sets it;
without it the PostgreSQL cases skip, saying so).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

import engine

PG_ENV = "POLICY_ENGINE_TEST_PG"
PG_SKIP = f"PostgreSQL tests need ${PG_ENV} (source .ci/start-postgres.sh to start a local server; .ci/run always does)"
BACKENDS = ["sqlite", "postgresql"]
ROOT = Path(__file__).resolve().parent.parent
#: the example round (7 applications of 2021, the 6th a deliberate bad row) and the policy it is decided by
EXAMPLE_ROUND = ROOT / "examples" / "round_2021.jsonl"
EXAMPLE_POLICY = ROOT / "policies" / "pinggu_2020.yaml"


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m engine ARGS` in `cwd`, its output captured."""
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=cwd, check=False)


def commit_round(cwd: Path, url: str, *first: str, out: str = "o", more: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    """`batch --commit` of the example round into the ledger at `url`, quiet, into `out` (`first`: options before the
    command, --lang zh; `more`: after it, --workers 2). Exit 3: its bad row."""
    return run_cli(
        cwd, *first, "batch", "--policy", str(EXAMPLE_POLICY), str(EXAMPLE_ROUND), "-q", "--commit", "--out", out, "--ledger", url, *more
    )


def reverse_at_cli(
    cwd: Path, url: str, claim_id: str, item_id: str, *more: str, reason: str = "r", date: str = "2023-04-01", first: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """`ledger reverse` of `claim_id`'s item `item_id` in the ledger at `url` (`more`: --returned 30000, ...)."""
    said = ("--claim", claim_id, "--item", item_id, "--reason", reason, "--date", date)
    return run_cli(cwd, *first, "ledger", "reverse", "--ledger", url, *said, *more)


def pg_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def make_ledger_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty ledger on `backend`; the PostgreSQL schema is dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.sqlite'}"
        return
    base = pg_url()
    if base is None:
        pytest.skip(PG_SKIP)
    import psycopg

    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def policy_with_budget(
    tmp_path: Path, amount: str, cites: str | None = None, *, rounding: str | None = None, source: Path | None = None
) -> engine.CompiledPolicy:
    """A copy of a Pinggu policy version (default policies/pinggu_2020.yaml) with a round budget.

    `rounding`: the budget's `rounding:` mapping as YAML flow text, e.g. "{mode: half_up, remainder: unallocated}".
    Copies land in tmp_path/policy/, each next to its own texts/ folder, so several versions can share it.
    """
    from benchmarks.budgeted import with_round_budget

    return with_round_budget(source or ROOT / "policies" / "pinggu_2020.yaml", tmp_path / "policy", amount, cites, rounding)
