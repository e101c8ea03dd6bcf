"""Shared helpers of the ledger, batch, concurrency and crash tests (no tests here).

`ledger_urls(tmp_path)` gives the ledgers to test against: a fresh SQLite file, and a fresh
schema on the PostgreSQL server named by $POLICY_ENGINE_TEST_PG (.ci/start-postgres.sh sets it;
without it the PostgreSQL cases skip, saying so).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import engine

PG_ENV = "POLICY_ENGINE_TEST_PG"
PG_SKIP = f"PostgreSQL tests need ${PG_ENV} (source .ci/start-postgres.sh to start a local server; .ci/run always does)"
BACKENDS = ["sqlite", "postgresql"]
ROOT = Path(__file__).resolve().parent.parent


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
