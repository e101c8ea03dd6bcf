"""The grants ledger: what was granted before, kept across years, safe under concurrency and crashes.

A ledger is chosen by URL: ``sqlite:///path/to/file.sqlite`` (the default; the
file is created on first use) or ``postgresql://user@host:port/db`` (a shared
office; needs the ``postgres`` extra, psycopg 3).

What it records
  * commits: one per committed application (claim id, applicant, funding year,
    round, policy id/version/hash, a hash of the application's content, time,
    the decision as made -- compressed JSON -- and, for amended applications,
    which earlier commit it replaces). Exactly one commit per claim id is
    active; a replaced commit is kept and marked superseded.
  * grants: one per granted item, in the `Grant` form the evaluator emits
    (applicant, rule, funding year, amount, the cap/limit/subject keys it
    consumed), plus claim and item ids, policy id and hash, time, round, the
    amount before any round scaling, and a superseded flag. Nothing is deleted.
  * grant_keys: an index of every scope key a grant consumed, so the history
    of a claim is found by applicant id *and* by shared keys (an alliance, a
    project, a patent may be claimed by several applicants).
  * reversals: funds returned, each its own entry pointing at the grant.
    A reversal frees nothing: the reversed grant still counts against every
    cap and limit (the measures free nothing when funds are returned; see
    docs/ledger-and-batch.md).
  * findings: facts on record about an applicant (e.g. the date of a finding
    that bars it from applying); `facts_on_record` gives them back, and every
    decision made against the ledger joins them to the application as the
    policy declares (`on_record`: fill what it leaves empty, or always count).
  * rounds: the round budget scaling applied to a round (budget, approved
    total, factor, quantum, rounding mode, remainder method, allocated and
    unallocated amounts, the policy version whose budget it was).

Committing is one transaction under one lock (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: ``pg_advisory_xact_lock``): read history, evaluate, write grants.
Two officers committing for the same applicant at the same moment are
serialised, so they can never jointly exceed a cap or a limit.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import difflib
import hashlib
import json
import math
import os
import re
import sqlite3
import tempfile
import threading
import time
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit, urlunsplit

from jsonschema import Draft202012Validator, FormatChecker

from engine.core.errors import EngineError, SaidError, json_kind, refuse_count, refuse_flags
from engine.core.i18n import Msg, msg
from engine.core.quantities import amount_slip, date_slip, format_money, round_units
from engine.deciding.claims import (
    MAX_LIST,
    Claim,
    FactConverter,
    claim_schema,
    closest,
    parse_claim,
    refuse_what_is_no_policy,
    text_problem,
)
from engine.deciding.decision import Decision, in_engine_context
from engine.deciding.evaluator import evaluate_claim
from engine.deciding.history import Consumption, Grant, Usage
from engine.deciding.selection import RoundSelection, Verdict, claim_verdicts
from engine.language.expressions import MissingFact
from engine.language.model import RECORDABLE_LIST_TYPES, RECORDABLE_TYPES, CompiledPolicy, FactSpec, Text, scope_key

SCHEMA_VERSION = 6
DEFAULT_PATH = "policy-engine-ledger.sqlite"
LEDGER_ENV = "POLICY_ENGINE_LEDGER"
_LOCK_KEY = 0x504F4C4943590001  # pg_advisory_xact_lock key of every ledger commit (fits a signed bigint)


def default_url() -> str:
    """$POLICY_ENGINE_LEDGER, else an SQLite file in the current directory."""
    return os.environ.get(LEDGER_ENV) or f"sqlite:///{DEFAULT_PATH}"


class LedgerError(SaidError):
    """A ledger operation that cannot be done as asked (not a crash); its message (a `Msg`) said in the reader's
    language (`str(err)`), or in the one named (`err.said("zh")`)."""


class LedgerBusyError(LedgerError):
    """The ledger held by another connection or thread past the busy timeout (`BUSY_SECONDS`): not the application's
    fault, and every one after it would wait as long and fail alike, so a round stops and says it once."""


class LedgerUrlError(LedgerError):
    """A ledger URL of a kind the engine does not know (a usage error, not a broken ledger)."""


class LedgerMissing(LedgerError):
    """A read-only use of a ledger that does not exist (a mistyped path must not create one). Said in a program's
    words (`create=True` makes one); the command line says it in its own (`through`)."""

    def through(self, creates: Msg) -> str:
        """The message with `creates` for why none was made, in the words of the door that opened it (a Python caller
        was told of "a read-only command", the command line's words)."""
        said = self.args[0] if self.args and isinstance(self.args[0], Msg) else None
        if said is None or "creates" not in said.params:
            return str(self) if said is None else said
        return msg(said.key, **{**said.params, "creates": creates})


#: how a program calling `Ledger.commit` commits an application as a replacement (`AlreadyCommitted`'s own words)
REPLACE_BY_COMMIT = "ledger.commit(policy, claim, replace=True)"


class AlreadyCommitted(LedgerError):
    """The claim id is committed with different content; commit it as a replacement (`replace=True`). Its message
    says so in a program's words (`REPLACE_BY_COMMIT`); each door says it in its own (`through`)."""

    def through(self, replace: str) -> str:
        """The message with `replace` for how to commit as a replacement, in the words of the door the commit came
        through (run_batch's `replace=True`, the command line's `--replace`, the service's `?replace=true`): one
        catalogue entry per case, the door's words its `{replace}` (a service round's errors.jsonl said `--replace`,
        which its caller cannot give)."""
        said = self.args[0] if self.args and isinstance(self.args[0], Msg) else None
        if said is None:
            return str(self)
        return msg(said.key, **{**said.params, "replace": replace}) if "replace" in said.params else said


# --- migrations: each a list of statements; {id} {blob} are per backend ----------------

MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE commits (
            seq {id},
            claim_id TEXT NOT NULL,
            applicant_id TEXT NOT NULL,
            funding_year INTEGER NOT NULL,
            round TEXT NOT NULL,
            policy_id TEXT NOT NULL,
            policy_version TEXT NOT NULL,
            policy_hash TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            committed_at TEXT NOT NULL,
            total TEXT NOT NULL,
            replaces BIGINT,
            superseded_by BIGINT,
            decision {blob} NOT NULL)""",
        "CREATE UNIQUE INDEX commits_active_claim ON commits (claim_id) WHERE superseded_by IS NULL",
        "CREATE INDEX commits_claim ON commits (claim_id)",
        """CREATE TABLE grants (
            id {id},
            commit_seq BIGINT NOT NULL REFERENCES commits (seq),
            position INTEGER NOT NULL,
            claim_id TEXT NOT NULL,
            item_id TEXT NOT NULL,
            rule TEXT NOT NULL,
            applicant_id TEXT NOT NULL,
            funding_year INTEGER NOT NULL,
            amount TEXT NOT NULL,
            unscaled_amount TEXT NOT NULL,
            consumes TEXT NOT NULL,
            round TEXT NOT NULL,
            policy_id TEXT NOT NULL,
            policy_hash TEXT NOT NULL,
            committed_at TEXT NOT NULL,
            superseded INTEGER NOT NULL DEFAULT 0,
            scale_rem BIGINT)""",
        "CREATE INDEX grants_applicant ON grants (applicant_id)",
        "CREATE INDEX grants_claim ON grants (claim_id)",
        "CREATE INDEX grants_round ON grants (round)",
        "CREATE INDEX grants_commit ON grants (commit_seq)",
        "CREATE TABLE grant_keys (grant_id BIGINT NOT NULL REFERENCES grants (id), key TEXT NOT NULL)",
        "CREATE INDEX grant_keys_key ON grant_keys (key)",
        """CREATE TABLE reversals (
            id {id},
            grant_id BIGINT NOT NULL REFERENCES grants (id),
            claim_id TEXT NOT NULL,
            item_id TEXT NOT NULL,
            applicant_id TEXT NOT NULL,
            returned TEXT NOT NULL,
            reason TEXT NOT NULL,
            decided_on TEXT,
            recorded_at TEXT NOT NULL)""",
        """CREATE TABLE findings (
            id {id},
            applicant_id TEXT NOT NULL,
            fact TEXT NOT NULL,
            value TEXT NOT NULL,
            reason TEXT NOT NULL,
            recorded_at TEXT NOT NULL)""",
        "CREATE INDEX findings_applicant ON findings (applicant_id)",
        """CREATE TABLE rounds (
            round TEXT PRIMARY KEY,
            policy_id TEXT NOT NULL,
            policy_hash TEXT NOT NULL,
            budget TEXT NOT NULL,
            approved_total TEXT NOT NULL,
            factor TEXT NOT NULL,
            scaled_at TEXT NOT NULL)""",
    ],
    # 2: how a round's scaled grants were rounded (rounds scaled under schema 1 were floor + largest remainder)
    2: [
        "ALTER TABLE rounds ADD COLUMN quantum TEXT",
        "ALTER TABLE rounds ADD COLUMN mode TEXT NOT NULL DEFAULT 'floor'",
        "ALTER TABLE rounds ADD COLUMN remainder TEXT NOT NULL DEFAULT 'largest_remainder'",
        "ALTER TABLE rounds ADD COLUMN allocated TEXT",
        "ALTER TABLE rounds ADD COLUMN unallocated TEXT",
        "ALTER TABLE rounds ADD COLUMN policy_version TEXT",
    ],
    # 3: who changed the ledger through the web service, when, and what (every write, refused ones too)
    3: [
        """CREATE TABLE audit (
            id {id},
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            roles TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            outcome TEXT NOT NULL,
            detail TEXT NOT NULL)""",
        "CREATE INDEX audit_actor ON audit (actor)",
    ],
    # 4: a reversal's request key, so that a request sent again (its answer lost) records nothing twice
    4: [
        "ALTER TABLE reversals ADD COLUMN request_key TEXT",
        "CREATE UNIQUE INDEX reversals_request_key ON reversals (request_key)",
    ],
    # 5: a reversal or a finding recorded by mistake is withdrawn (its reason and when, as JSON): kept, never deleted,
    # and no longer counted (the funds it said were returned, the fact it put on record)
    5: [
        "ALTER TABLE reversals ADD COLUMN withdrawn TEXT",
        "ALTER TABLE findings ADD COLUMN withdrawn TEXT",
    ],
    # 6: a grant's keys found by the grant: a batch worker's export of each commit it decided (`export_commit`) read
    # every key of the ledger without it, so a round on workers took time growing with the square of its size
    6: ["CREATE INDEX grant_keys_grant ON grant_keys (grant_id)"],
}


class _Backend(Protocol):
    url: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def insert(self, sql: str, params: Sequence[Any], key: str) -> int: ...
    def locked(self) -> Any: ...
    def until(self, deadline: float | None) -> None: ...
    def read(self) -> Any: ...
    def blob(self, data: bytes) -> Any: ...
    def has_table(self, name: str) -> bool: ...
    def close(self) -> None: ...

    types: ClassVar[dict[str, str]]


class _ConnLock:
    """A connection's lock (one thread's statement or transaction at a time), and how long a thread waits for it: as
    long as the connection waits for another connection's (`busy`, its busy timeout in seconds), and never past the
    `deadline` of the work it is doing (`Ledger.until`), when it has one."""

    __slots__ = ("busy", "deadline", "lock")

    def __init__(self, busy: float) -> None:
        self.lock = threading.RLock()
        self.busy = busy
        self.deadline: float | None = None  # (time.monotonic())

    def wait(self) -> float:
        """How long to wait for a lock now: the busy timeout, or what is left before the deadline."""
        if self.deadline is None:
            return self.busy
        return max(0.0, min(self.busy, self.deadline - time.monotonic()))

    def release(self) -> None:
        self.lock.release()


def _seconds(value: Any) -> bool:
    """Whether `value` is a time to wait: a finite number 0 or more (not a bool, not text)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def _busy(seconds: float) -> LedgerBusyError:
    return LedgerBusyError(msg("ledger.busy", seconds=f"{seconds:g}"))


def _past() -> LedgerBusyError:
    return LedgerBusyError(msg("ledger.past_deadline"))


def _acquire(lock: _ConnLock) -> None:
    """A connection's lock, waited for as long as a connection waits for another's, else LedgerError: a thread of a
    shared Ledger waited for ever where another connection's commit gave up."""
    if not lock.lock.acquire(timeout=lock.wait()):
        raise _busy(lock.busy) if lock.deadline is None else _past()


class _Held:
    """`lock` held (`_acquire`) for one statement. (A class, not a generator: every statement of a commit takes it.)"""

    __slots__ = ("lock",)

    def __init__(self, lock: _ConnLock) -> None:
        self.lock = lock

    def __enter__(self) -> None:
        _acquire(self.lock)

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


class _Tx:
    """A transaction on one connection, held by one thread at a time (`lock`, the connection's): a Ledger shared by a
    program's threads had their transactions begin inside each other's, a raw sqlite3 error for 22 commits of 24."""

    def __init__(self, begin: Callable[[], object], commit: Callable[[], object], rollback: Callable[[], object], lock: _ConnLock) -> None:
        self.begin, self.commit, self.rollback, self.lock = begin, commit, rollback, lock

    def __enter__(self) -> None:
        _acquire(self.lock)
        try:
            self.begin()
        except BaseException as err:
            self.lock.release()
            # another connection (another process) held the file's lock past the busy timeout: said as a thread of
            # this one is (`_acquire`), not as sqlite3's "database is locked", which an embedding program got raw
            if isinstance(err, sqlite3.OperationalError) and sqlite_busy(err):
                raise (_busy(self.lock.busy) if self.lock.deadline is None else _past()) from None
            raise

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        deadline = self.lock.deadline
        try:
            if exc_type is None and deadline is not None and time.monotonic() > deadline:
                # the work's time ran out (a request answered 503 meanwhile): nothing of it is written
                self.rollback()
                raise _past()
            if exc_type is None:
                self.commit()
            else:
                self.rollback()
        finally:
            self.lock.release()


#: how long an SQLite connection waits for a lock another connection holds (its busy timeout), and tries to set
#: WAL mode while the file is locked (`_set_wal`)
BUSY_SECONDS = 120


#: SQLite's primary result codes an officer meets, by the name of their words in the catalogue (`sqlite_reason`)
_SQLITE_REASONS = {
    sqlite3.SQLITE_IOERR: "io",
    sqlite3.SQLITE_CANTOPEN: "cannot_open",
    sqlite3.SQLITE_CORRUPT: "corrupt",
    sqlite3.SQLITE_BUSY: "busy",
    sqlite3.SQLITE_LOCKED: "busy",
    sqlite3.SQLITE_READONLY: "read_only",
    sqlite3.SQLITE_FULL: "full",
}


def sqlite_busy(err: sqlite3.Error) -> bool:
    """Whether SQLite gave up waiting for another connection's lock (another commit or round holds the ledger)."""
    code = getattr(err, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def sqlite_reason(err: sqlite3.Error) -> Msg | str:
    """Why SQLite refused, in the reader's language (as `os_reason` says an OSError); SQLite's own words otherwise."""
    code = getattr(err, "sqlite_errorcode", None)
    name = _SQLITE_REASONS.get(code & 0xFF) if isinstance(code, int) else None  # (an extended code's primary one)
    return msg(f"ledger.sqlite.{name}") if name else str(err)


def _set_wal(conn: sqlite3.Connection, busy: float) -> None:
    """WAL mode set on a new connection. Switching a new file to WAL takes it whole, and SQLite answers "database is
    locked" at once, without its busy handler, when another connection is opening the same file at that moment (it
    does not wait where waiting could deadlock): two service workers opening a ledger that is not there yet. So it is
    tried again, every 10 ms, for as long as the busy timeout would have waited."""
    deadline = time.monotonic() + busy
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() >= deadline:
                raise
        time.sleep(0.01)


class _SQLite:
    types: ClassVar[dict[str, str]] = {"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "blob": "BLOB"}

    def __init__(self, url: str, path: str, *, create: bool = True, busy: float | None = None) -> None:
        self.url = url
        self.tx_lock = _ConnLock(BUSY_SECONDS if busy is None else busy)
        #: told once a write must wait for another connection's lock, before it waits (`Ledger.on_wait`)
        self.on_wait: Callable[[], None] | None = None
        if path != ":memory:":
            if Path(path).is_dir():
                raise LedgerError(msg("ledger.is_folder", url=url, path=path))
            if not create and not Path(path).is_file():
                raise LedgerMissing(msg("ledger.missing_file", url=url, path=path, creates=msg("ledger.creates_none.program")))
            if create and not Path(path).parent.is_dir():
                # (a folder is not made for it: a mistyped one made a new, empty ledger there, and caps and limits
                # were then checked against no history at all)
                raise LedgerError(msg("ledger.no_folder", url=url, folder=str(Path(path).parent)))
        conn = None
        try:
            # (`timeout` is the connection's busy timeout: sqlite3 sets it with sqlite3_busy_timeout)
            conn = sqlite3.connect(path, isolation_level=None, timeout=self.tx_lock.busy, check_same_thread=False)
            if create:  # a ledger's file keeps WAL mode once set; a read-only open writes nothing (an empty file stays empty)
                _set_wal(conn, self.tx_lock.busy)
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: safe against a killed process
            conn.execute("PRAGMA foreign_keys = ON")
            # (reads the file's header: a file that is not SQLite's fails here, with a message, not at its first query)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as err:
            if conn is not None:
                conn.close()
            if getattr(err, "sqlite_errorcode", None) == sqlite3.SQLITE_NOTADB:
                raise LedgerError(msg("ledger.not_sqlite", url=url, path=path)) from None
            raise LedgerError(msg("ledger.cannot_open", url=url, reason=sqlite_reason(err))) from None
        self.conn = conn

    # every statement waits for another thread's transaction on the connection to end (`_Tx`): a read outside one
    # saw a transaction's writes before they were committed, and kept them after it rolled back
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with _Held(self.tx_lock):
            return self.conn.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with _Held(self.tx_lock):
            self.conn.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with _Held(self.tx_lock):
            return list(self.conn.execute(sql, tuple(params)).fetchall())

    def insert(self, sql: str, params: Sequence[Any], key: str) -> int:
        with _Held(self.tx_lock):
            cur = self.conn.execute(sql, tuple(params))
        assert cur.lastrowid is not None
        return int(cur.lastrowid)

    def locked(self) -> _Tx:
        def begin() -> None:
            if self.on_wait is not None and self._tried_at_once():
                return
            if self.tx_lock.deadline is not None:  # (waited for no longer than the work's time: `Ledger.until`)
                self.conn.execute(f"PRAGMA busy_timeout = {max(1, int(self.tx_lock.wait() * 1000))}")
            self.conn.execute("BEGIN IMMEDIATE")

        return _Tx(begin, lambda: self.conn.execute("COMMIT"), self._rollback, self.tx_lock)

    def _tried_at_once(self) -> bool:
        """A write transaction begun without waiting (True), or, the file being held by another connection, `on_wait`
        told before the wait begins (False): a clerk waited two silent minutes behind a batch or a database browser."""
        self.conn.execute("PRAGMA busy_timeout = 0")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            return True
        except sqlite3.OperationalError as err:
            if not sqlite_busy(err):
                raise
            assert self.on_wait is not None
            self.on_wait()
            return False
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {max(1, int(self.tx_lock.busy * 1000))}")

    def until(self, deadline: float | None) -> None:
        self.tx_lock.deadline = deadline
        if deadline is None:  # (the connection's own busy timeout again)
            with _Held(self.tx_lock):
                self.conn.execute(f"PRAGMA busy_timeout = {max(1, int(self.tx_lock.busy * 1000))}")

    def read(self) -> _Tx:
        return _Tx(lambda: self.conn.execute("BEGIN"), lambda: self.conn.execute("COMMIT"), self._rollback, self.tx_lock)

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def blob(self, data: bytes) -> Any:
        return data

    def has_table(self, name: str) -> bool:
        return bool(self.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))

    def close(self) -> None:
        self.conn.close()


class _Postgres:
    types: ClassVar[dict[str, str]] = {"id": "BIGSERIAL PRIMARY KEY", "blob": "BYTEA"}

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ModuleNotFoundError:  # pragma: no cover - depends on the installation
            raise LedgerError(msg("ledger.no_psycopg")) from None
        self.url = url
        self.tx_lock = _ConnLock(BUSY_SECONDS)
        try:
            self.conn = psycopg.connect(url, autocommit=True)
        except psycopg.Error as err:
            reason = " ".join(str(err).split()) or type(err).__name__
            raise LedgerError(msg("ledger.cannot_connect", url=masked_url(url), reason=reason)) from None

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s")

    # (every statement waits for another thread's transaction on the connection to end, as on SQLite)
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with _Held(self.tx_lock):
            return self.conn.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with _Held(self.tx_lock), self.conn.cursor() as cur:
            cur.executemany(self._sql(sql), [tuple(r) for r in rows])

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with _Held(self.tx_lock), self.conn.cursor() as cur:
            cur.execute(self._sql(sql), tuple(params))
            return list(cur.fetchall())

    def insert(self, sql: str, params: Sequence[Any], key: str) -> int:
        with _Held(self.tx_lock), self.conn.cursor() as cur:
            cur.execute(self._sql(sql) + f" RETURNING {key}", tuple(params))
            row = cur.fetchone()
            assert row is not None
            return int(row[0])

    def locked(self) -> _Tx:
        def begin() -> None:
            # READ COMMITTED whatever the server's default_transaction_isolation: under REPEATABLE READ the
            # snapshot would be taken by the lock statement itself, before it waits, and the commit that held
            # the lock would stay invisible (a race past every cap); under SERIALIZABLE commits would fail.
            self.conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            try:
                if self.tx_lock.deadline is not None:  # (waited for no longer than the work's time: `Ledger.until`)
                    self.conn.execute(f"SET LOCAL lock_timeout = {max(1, int(self.tx_lock.wait() * 1000))}")
                self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            except BaseException as err:  # e.g. lock_timeout: leave no aborted transaction behind on the connection
                self.conn.execute("ROLLBACK")
                if type(err).__name__ == "LockNotAvailable" and self.tx_lock.deadline is not None:
                    raise _past() from None
                raise

        return _Tx(begin, lambda: self.conn.execute("COMMIT"), lambda: self.conn.execute("ROLLBACK"), self.tx_lock)

    def until(self, deadline: float | None) -> None:
        self.tx_lock.deadline = deadline  # (its lock waits are PostgreSQL's; nothing is committed past it: `_Tx`)

    def read(self) -> _Tx:
        return _Tx(
            lambda: self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ"),
            lambda: self.conn.execute("COMMIT"),
            lambda: self.conn.execute("ROLLBACK"),
            self.tx_lock,
        )

    def blob(self, data: bytes) -> Any:
        return data

    def has_table(self, name: str) -> bool:
        return bool(self.query("SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?", (name,)))

    def close(self) -> None:
        self.conn.close()


def masked_url(url: str) -> str:
    """`url` with any password replaced by ***, fit to print."""
    url = re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", url)
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
    if not password:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def sqlite_path(url: str) -> str | None:
    """The file of an SQLite URL as written (sqlite:///rel/path -> rel/path; sqlite:////abs/path -> /abs/path; a bare
    path -> itself); None for another kind of URL."""
    if url.startswith("sqlite://"):
        path = url[len("sqlite://") :]
        return path[1:] if path.startswith("/") else path
    return url if "://" not in url else None


def absolute_url(url: str) -> str:
    """`url` with an SQLite file's relative path made absolute from the current folder (for a process that then
    changes its folder: a round's job); any other URL as it is."""
    path = sqlite_path(url)
    if not path or path == ":memory:" or os.path.isabs(path):
        return url
    return f"sqlite:///{os.path.abspath(path)}" if url.startswith("sqlite://") else os.path.abspath(path)


def refuse_url_not_text(url: Any, call: str) -> None:
    """TypeError unless `url` is a ledger's URL as text, or None (the default ledger): Ledger(5) was "'int' object has
    no attribute 'startswith'", a `Path` likewise."""
    if url is not None and not isinstance(url, str):
        raise TypeError(msg("ledger.url_not_text", call=call, kind=type(url).__name__, value=repr(url)[:80]))


def _connect(url: str, *, create: bool = True, busy: float | None = None) -> _Backend:
    path = sqlite_path(url)
    if url.startswith("sqlite://"):
        if not path:
            raise LedgerError(msg("ledger.no_file", url=url))
        return _SQLite(url, path, create=create, busy=busy)
    if url.startswith(("postgresql://", "postgres://")):
        return _Postgres(url)
    if path is not None:  # a bare path
        return _SQLite(f"sqlite:///{url}", url, create=create, busy=busy)
    raise LedgerUrlError(msg("ledger.unknown_url", url=masked_url(url)))


#: at most this many characters in an officer's reason, and in a round's label
MAX_REASON = 2000
MAX_ROUND_LABEL = 100
#: the kinds of character no officer's words hold: controls (NUL), invisible formats (U+202E shows text reversed),
#: surrogates, private use, unassigned
_INVISIBLE = frozenset(("Cc", "Cf", "Cs", "Co", "Cn"))


def as_parsed_now(policy: CompiledPolicy, claim: Claim) -> Claim:
    """`claim` when its data (`raw`: the caller's own, not a copy) still parses under `policy` to the same claim, else
    LedgerError. The ledger hashes that data and joins facts on record into it: data a program changed after parsing
    it was committed as it read then (40,000,000.00 for a decision of 4,200.00), or hashed so the true application
    was refused as different. A parse costs little beside the commit's transaction."""
    try:
        again = parse_claim(policy, claim.raw)
    except EngineError:
        again = None
    if again != claim:
        raise LedgerError(msg("ledger.claim_changed", claim=claim.claim_id))
    return claim


def check_words(text: str, field: str) -> None:
    """An officer's words the ledger keeps (`field`: "reason", "round" for a round's label, "request_key" for a
    request's key): some text, not too long, with no invisible character; a label or a key as it will be matched (no
    space or line end around it, none inside)."""
    what = msg(f"ledger.words.{field}")
    if not isinstance(text, str):  # (round=2021 was "the round label is empty")
        raise LedgerError(msg("ledger.words.not_text", field=what, kind=json_kind(text), value=repr(text)[:40]))
    if not text.strip():
        raise LedgerError(msg("ledger.words.empty", field=what))
    label = field != "reason"  # (a round's label, a request's key: matched exactly)
    limit = MAX_ROUND_LABEL if label else MAX_REASON
    if len(text) > limit:
        raise LedgerError(msg("ledger.words.long", field=what, n=len(text), limit=limit))
    allowed = "" if label else "\n\t"  # (a reason may run over lines)
    bad = next((c for c in text if unicodedata.category(c) in _INVISIBLE and c not in allowed), None)
    if bad is not None:
        raise LedgerError(msg("ledger.words.invisible", field=what, char=f"U+{ord(bad):04X}"))
    if label and text.strip() != text:
        raise LedgerError(msg("ledger.words.spaces" if field == "round" else "ledger.words.key_spaces", label=repr(text)))


#: what may be withdrawn, by its table; the statements by table (fixed texts: no name is put into SQL)
_WITHDRAWABLE = {"reversal": "reversals", "finding": "findings"}
_WITHDRAW_READ = {t: f"SELECT id, withdrawn FROM {t} WHERE id = ?" for t in _WITHDRAWABLE.values()}  # noqa: S608 - fixed names
_WITHDRAW_WRITE = {t: f"UPDATE {t} SET withdrawn = ? WHERE id = ?" for t in _WITHDRAWABLE.values()}  # noqa: S608 - fixed names


#: the columns of a reversal's and a finding's record, and the statements reading them (fixed texts) by what selects them
_RECORD_COLUMNS = {
    "reversals": ("id", "grant_id", "claim_id", "item_id", "applicant_id", "returned", "reason", "decided_on", "recorded_at", "withdrawn"),
    "findings": ("id", "applicant_id", "fact", "value", "reason", "recorded_at", "withdrawn"),
}
_RECORDS_READ = {
    (table, by): f"SELECT {', '.join(cols)} FROM {table}" + (f" WHERE {by} = ?" if by else "") + " ORDER BY id"  # noqa: S608 - fixed names
    for table, cols in _RECORD_COLUMNS.items()
    for by in ("applicant_id", "id", None)
}


def _withdrawn_read(record: dict[str, Any]) -> dict[str, Any]:
    """A reversal's or finding's row with its `withdrawn` as it was recorded ({reason, at}), or None."""
    if record.get("withdrawn") is not None:
        record["withdrawn"] = json.loads(record["withdrawn"])
    return record


def _scope_said(scope: Sequence[Any]) -> str:
    """A cap's or limit's scope as an officer reads it: its values, 91110117MA01ABCD1F、2021."""
    return "、".join(str(v) for v in scope)


def check_reversal(
    returned: Decimal | None, decided_on: str | None, quantum: Decimal = Decimal("0.01"), today: _dt.date | None = None
) -> None:
    """A reversal's own checks: a positive amount, a whole number of `quantum` (never rounded); a real YYYY-MM-DD date
    that has come (`today`, default the machine's: 9999-12-31 was recorded as a decision already made)."""
    if returned is not None:
        if not isinstance(returned, Decimal):  # (a program's float or text: it was an AttributeError)
            raise LedgerError(msg("ledger.returned_decimal", returned=repr(returned)[:60]))
        if not returned.is_finite() or returned <= 0:
            raise LedgerError(msg("ledger.returned_positive", returned=returned))
        # in range first: a tiny 1E-999999999 is below the decimal context's least exponent, where `%` calls it 0
        exponent = returned.as_tuple().exponent
        try:
            whole = returned <= MAX_RETURNED and isinstance(exponent, int) and exponent >= -28 and returned % quantum == 0
        except ArithmeticError:  # an absurd exponent
            whole = False
        if not whole:
            raise LedgerError(msg("ledger.returned_quantum", returned=returned, quantum=quantum))
    if decided_on is not None:
        try:
            if not _DATE_RE.match(decided_on):
                raise ValueError
            day = _dt.date.fromisoformat(decided_on)
        except ValueError:
            slip = date_slip(decided_on)  # `2023/4/1`: the date to write, as a finding's and a claim's slip is said
            if slip is not None:
                raise LedgerError(msg("ledger.decided_on_slip", problem=slip[0], expected=slip[1])) from None
            raise LedgerError(msg("ledger.decided_on", date=repr(decided_on))) from None
        now = today or _dt.date.today()
        if day > now + _dt.timedelta(days=1):  # (a day's slack: the machine's clock and the officer's may be a zone apart)
            raise LedgerError(msg("ledger.decided_on_future", date=decided_on, today=now.isoformat()))


MAX_RETURNED = Decimal("999999999999.99")
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_ELEMENT_TYPE = {"date_list": "date", "string_list": "string", "enum_list": "enum"}  # a finding adds one element to a list fact


def finding_fact(policy: CompiledPolicy | Sequence[CompiledPolicy], written: str) -> str:
    """The applicant fact an officer names for a finding: its code as written, or the code whose words (zh or en, as
    the claims' form heads it) are written -- 被认定弄虚作假套取资金的日期 is fraud_finding_dates; else `written`, for
    `check_finding` to refuse with a did-you-mean. (The code was the only way, and the Chinese was refused.)"""
    versions = [policy] if isinstance(policy, CompiledPolicy) else list(policy)
    wanted = written.strip()
    for v in reversed(sorted(versions, key=lambda p: p.funding_years)):
        if wanted in v.applicant_facts:
            return wanted
        for code, spec in v.applicant_facts.items():
            words = {w for t in (spec.label.zh, spec.label.en) for w in (t, _FORM_HINT.sub("", t)) if t}
            if code != "id" and wanted in words:
                return code
    return written


#: a label's closing hint for the form (（无则留空）, (empty if none)): the words name the fact without it too
_FORM_HINT = re.compile(r"\s*[（(][^（）()]*[）)]\s*$")


def finding_fact_named(policy: CompiledPolicy | Sequence[CompiledPolicy], code: str) -> Text | str:
    """A finding's fact as its messages name it: in Chinese its words (without the form's hint) and its code,
    被认定弄虚作假套取资金的日期（fraud_finding_dates）, by the newest version that knows it; in English, and for a fact
    no version knows, the code. (The officer who named it in Chinese was answered with the code alone.)"""
    versions = [policy] if isinstance(policy, CompiledPolicy) else sorted(policy, key=lambda p: p.funding_years)
    spec = next((v.applicant_facts[code] for v in reversed(versions) if code in v.applicant_facts), None)
    if spec is None:
        return code
    return Text(f"{_FORM_HINT.sub('', spec.label.zh)}（{code}）", code) if spec.label.zh else code


def versions_given(policy: Any, call: str) -> list[CompiledPolicy]:
    """The versions a ledger's call was given (one, or a list of them), each a loaded policy (TypeError as `evaluate`
    says it: a policy's path was "'str' object has no attribute 'content_hash'", read as a list of its characters)."""
    if isinstance(policy, CompiledPolicy):
        return [policy]
    if isinstance(policy, str | bytes | os.PathLike) or not isinstance(policy, Iterable):
        refuse_what_is_no_policy(policy, call)
    versions = list(policy)
    for version in versions:
        refuse_what_is_no_policy(version, call)
    return versions


def check_finding(policy: CompiledPolicy | Sequence[CompiledPolicy], applicant_id: str, fact: str, value: str) -> None:
    """Refuse a finding the policy could not use: an applicant id not in the claims' form, a fact not in the
    applicant vocabulary (with a did-you-mean), a fact not stated as one text, or a value not of the fact's type.

    The checks are the claims' own (the applicant schema of `engine.deciding.claims` and its converter). With several
    versions, the newest that knows the fact decides.
    """
    versions = sorted(versions_given(policy, "record_finding"), key=lambda v: v.funding_years)
    if not versions:
        raise LedgerError(msg("ledger.finding.no_policy"))
    known = [v for v in reversed(versions) if fact in v.applicant_facts and fact != "id"]
    if not known:
        vocabulary = sorted({f for v in versions for f in v.applicant_facts if f != "id"})
        close = closest(fact, vocabulary)
        hint = msg("ledger.finding.did_you_mean", near=repr(close)) if close else msg("ledger.finding.facts", facts=vocabulary)
        raise LedgerError(msg("ledger.finding.unknown_fact", fact=repr(fact), hint=hint))
    chosen = known[0]
    spec = chosen.applicant_facts[fact]
    if spec.type not in RECORDABLE_TYPES | RECORDABLE_LIST_TYPES:
        raise LedgerError(msg("ledger.finding.type", fact=fact, type=spec.type))
    problems: list[Msg] = []
    for name, given in (("id", applicant_id), (fact, value)):
        id_spec = chosen.applicant_facts[name]
        schema = claim_schema(chosen)["$defs"]["applicant"]["properties"][name]
        as_claimed: Any = [given] if id_spec.type in RECORDABLE_LIST_TYPES else given  # one element of a list fact
        if any(True for _ in Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(as_claimed)):
            problems.append(_finding_problem(id_spec, finding_fact_named(chosen, name), given))
            continue
        conv = FactConverter(chosen)
        conv.value(id_spec, as_claimed, ("applicant", name))
        problems.extend(
            msg("ledger.finding.value_expected", name=finding_fact_named(chosen, name), problem=p.message, expected=p.expected)
            if p.expected
            else msg("ledger.finding.value", name=finding_fact_named(chosen, name), problem=p.message)
            for p in conv.problems
        )
    if problems:
        said = problems[0]
        for more in problems[1:]:
            said = msg("ledger.finding.problems", first=said, then=more)
        raise LedgerError(said)
    if _ELEMENT_TYPE.get(spec.type, spec.type) == "date":  # a finding is made, not foreseen: 2027 for 2023 barred until 2032
        now = _dt.date.today()
        if _dt.date.fromisoformat(value) > now + _dt.timedelta(days=1):  # (a day's slack, as a reversal's date has)
            raise LedgerError(msg("ledger.finding.future", fact=finding_fact_named(chosen, fact), value=value, today=now.isoformat()))


def _finding_problem(spec: FactSpec, name: Text | str, given: str) -> Msg:
    kind = _ELEMENT_TYPE.get(spec.type, spec.type)
    iso = kind == "date" and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", given) is not None  # (well written, no such day)
    slip = date_slip(given) if kind == "date" and not iso else amount_slip(given) if kind == "money" else None
    if slip is not None:  # `2023/4/1`, `5万`: the value to write, as a claim's slip is said
        return msg("ledger.finding.value_expected", name=name, problem=slip[0], expected=slip[1])
    expected = {
        "date": msg("ledger.finding.a_date"),
        "money": msg("ledger.finding.an_amount"),
        "enum": msg("ledger.finding.one_of", values=list(spec.values or ())),
        "identifier": msg("ledger.finding.identifier", en=spec.label.en, zh=spec.label.zh),
    }.get(kind, msg("ledger.finding.text"))
    kind_said = msg(f"ledger.finding.kind.{kind}") if kind in _KIND_WORDS else kind  # (日期, not "date" in Chinese)
    return msg("ledger.finding.not_valid", name=name, given=repr(given), kind=kind_said, expected=expected)


_KIND_WORDS = frozenset({"date", "money", "enum", "identifier", "string"})


def facts_joined(stated: Mapping[str, Any], joined: Mapping[str, Any]) -> dict[str, Any]:
    """What `Ledger.with_facts_on_record` gave the application (`stated`: as submitted, `joined`: with the facts on
    record): each applicant fact it filled, replaced or added to, by name (sorted), with the value(s) the ledger gave
    -- of a list fact, only the values it added. Empty when nothing joined. A decision's `ledger` member keeps it
    (`facts_on_record`): its explanation says those values as on record, not as what the applicant declared (a
    finding's dates read 申报事实：被认定弄虚作假套取资金的日期（无则留空）为2023-04-01)."""
    if joined is stated:
        return {}
    before, after = stated.get("applicant"), joined.get("applicant")
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        return {}
    out: dict[str, Any] = {}
    for name in sorted(k for k, v in after.items() if k not in before or before[k] != v):
        was, now = before.get(name), after[name]
        out[name] = [v for v in now if v not in was] if isinstance(was, list) and isinstance(now, list) else now
    return out


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


def key_text(kind: str, ident: str, scope: Sequence[Any]) -> str:
    """The index form of one consumed scope key."""
    return json.dumps([kind, ident, list(scope)], ensure_ascii=False, separators=(",", ":"))


def _digest(raw: Any) -> str:
    text = json.dumps(raw, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _says_its_default(spec: FactSpec | None, value: Any) -> bool:
    """An optional fact given as its default value: `"documents": []` where the default is [] (or null where it is null)."""
    if spec is None or spec.required or not spec.has_default:
        return False
    default = spec.default
    if isinstance(default, list):
        return isinstance(value, list) and value == default
    return value is None if default is None else (type(value) is type(default) and value == default)


def _without_defaults(specs: Mapping[str, FactSpec], data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not _says_its_default(specs.get(k), v)}


def _at_each_level(
    policy: CompiledPolicy, raw: Mapping[str, Any], change: Callable[[Mapping[str, FactSpec], Mapping[str, Any]], dict[str, Any]]
) -> dict[str, Any]:
    """`change(specs, data)` applied to the claim's own facts, the applicant's and each item's (by its type's specs)."""
    out = change(policy.claim_facts, raw)
    applicant = raw.get("applicant")
    if isinstance(applicant, Mapping):
        out["applicant"] = change(policy.applicant_facts, applicant)
    items = raw.get("items")
    if isinstance(items, list):
        out["items"] = [change(policy.item_facts.get(str(it.get("type")), {}), it) if isinstance(it, Mapping) else it for it in items]
    return out


def same_application(policy: CompiledPolicy, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The application as the ledger compares it: an optional fact that only states its default (an empty list of
    documents, a null) is left out, as is an empty history, so an application read from a workbook (which writes
    `"documents": []`) and the same one from JSON Lines (which leaves the key out) are the same application."""
    out = _at_each_level(policy, raw, _without_defaults)
    if out.get("history") == []:
        del out["history"]
    return out


def _with_defaults(specs: Mapping[str, FactSpec], data: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(data)
    for name, spec in specs.items():
        if name not in out and spec.has_default and not spec.required:
            out[name] = list(spec.default) if isinstance(spec.default, list) else spec.default
    return out


def stated_in_full(policy: CompiledPolicy, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The application with every optional fact it leaves out stated as its default (`"documents": []`): the form a
    commit recorded before `same_application` may hold the hash of."""
    return _at_each_level(policy, raw, _with_defaults)


def content_hash(claim: Claim, policy: CompiledPolicy | None = None) -> str:
    """The hash of an application's content: with `policy`, of the application as the ledger compares it
    (`same_application`); an application that leaves out every optional fact it does not state -- one read from
    JSON, typically -- hashes as it always did, so the hashes already in a ledger keep their meaning."""
    return _digest(claim.raw if policy is None else same_application(policy, claim.raw))


def round_of(policy: CompiledPolicy, claim: Claim) -> str:
    """The default round of a claim: one per policy and funding year (yearly application rounds are the usual)."""
    return f"{policy.id}/{claim.funding_year}"


def possible_keys(policy: CompiledPolicy, claim: Claim) -> set[str]:
    """Every cap, limit and subject key any item of `claim` could consume (those with known facts)."""
    keys: set[str] = set()
    A, C = claim.applicant, claim.claim_facts
    for item in claim.items:
        rule = policy.rules_by_type.get(item.type)
        if rule is None:
            continue
        I = item.facts
        for cap in rule.caps:
            if cap.per is None:
                continue
            try:
                keys.add(key_text("cap", cap.id, cap.scope(I, A, C)))
            except MissingFact:
                pass
        for limit in rule.limits:
            try:
                keys.add(key_text("limit", limit.id, limit.scope(I, A, C)))
            except MissingFact:
                pass
        if rule.subject is not None:
            try:
                keys.add(key_text("subject", rule.subject.group, tuple(scope_key(e(I, A, C)) for e in rule.subject.key)))
            except MissingFact:
                pass
    return keys


def _consumes_json(g: Grant) -> str:
    return json.dumps([c.to_dict() for c in g.consumes], ensure_ascii=False, separators=(",", ":"))


def _grant_from_row(claim_id: str, item_id: str, rule: str, applicant_id: str, year: int, amount: str, consumes: str) -> Grant:
    value = Decimal(amount)
    out = []
    for c in json.loads(consumes):
        kind = next(k for k in ("cap", "limit", "subject") if k in c)
        scope = tuple(c["scope"])
        if kind == "limit":
            out.append(Consumption("limit", c["limit"], scope, counts=tuple(c.get("counts", ()))))
        else:  # caps and subjects consume what was granted -- after any round scaling
            out.append(Consumption(kind, c[kind], scope, amount=value))
    return Grant(claim_id, item_id, rule, applicant_id, int(year), value, tuple(out))


@dataclass(frozen=True)
class CommitResult:
    """What committing one application did: the commit, the round it went into, and its decision as stored.

    The decision is there as its JSON text (`text`: `Decision.to_json`'s text with the `ledger` member last) and
    as a dict (`decision`), each made on first use: a batch writes its line from the text and never needs the
    dict (building it was a third of a commit's time), and a run that only foresees a round reads neither."""

    claim_id: str
    status: str  # "committed" | "already_committed" | "replaced"
    seq: int
    grants: int
    round: str
    #: the decision's `ledger` member: its commit, round, status (and the commit it replaces)
    ledger: dict[str, Any] = field(repr=False)
    #: the decision this commit made; None when the application was found already committed (then `found`)
    made: Decision | None = field(default=None, repr=False)
    #: the decision found already committed, as stored (None in a ledger that keeps none: no text, no dict)
    found: dict[str, Any] | None = field(default=None, repr=False)

    @cached_property
    def body(self) -> str | None:
        """The text of the decision this commit made up to its closing brace (no `ledger`); None when found."""
        return None if self.made is None else self.made.to_json(indent=None)[:-2]

    @cached_property
    def text(self) -> str:
        return self.text_with(self.ledger)

    def text_with(self, ledger: Mapping[str, Any]) -> str:
        """The decision's text with `ledger` as its `ledger` member (`text`: the one committed). A decision made
        here: its text with the member joined after it (`json.dumps` writes a dict as its members' texts, in order)."""
        if self.body is None:
            if self.found is None:  # found already committed in a ledger that keeps no decisions
                raise LedgerError(msg("ledger.not_stored", claim=self.claim_id, seq=self.seq))
            return json.dumps({**self.found, "ledger": ledger}, ensure_ascii=False)
        return self.body + ', "ledger": ' + json.dumps(ledger, ensure_ascii=False) + "}"

    @cached_property
    def decision(self) -> dict[str, Any]:
        if self.found is not None:
            return self.found
        value = json.loads(self.text)
        assert isinstance(value, dict)
        return value


@dataclass(frozen=True)
class Audit:
    """Who asks for a write (and what), to be recorded in the write's own transaction: the write and its audit
    entry are kept or lost together. The outcome and what the write did are added when it is done."""

    actor: str
    roles: tuple[str, ...]
    action: str
    target: str
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class DecidedCommit:
    """One committed application as rows (`Ledger.export_commit`): the commit's columns (claim id, applicant,
    funding year, round, policy id, version and hash, content hash, total) and each grant's columns with the
    scope keys it consumed. Picklable: batch workers hand these to the run's ledger."""

    commit: tuple[Any, ...]
    grants: tuple[tuple[tuple[Any, ...], tuple[str, ...]], ...]
    #: decided over a ledger below holding the same claim (`commit`'s `base`): whether that ledger's commit of it stays
    #: in force as committing would keep it (`Ledger.stands_below`); None when it holds none
    stands_below: bool | None = None

    def unscaled_total(self) -> Decimal:
        """Its grants' amounts before any scaling: what they add to their round's total (`Ledger.round_total`)."""
        return sum((Decimal(row[_UNSCALED_AT]) for row, _keys in self.grants), Decimal(0))


_GRANT_COLS = "claim_id, item_id, rule, applicant_id, funding_year, amount, consumes"
#: where `unscaled_amount` is in a grant's row of `export_commit` (its position, `_GRANT_COLS`, then it)
_UNSCALED_AT = 1 + len(_GRANT_COLS.split(","))
#: tables, in one read, of a database that holds no ledger (no `commits` table): another program's database, even one
#: with a `schema_version` table of its own, is never given a ledger's tables; a ledger holding a table of another
#: tool besides its own (Litestream's, a DBA's backup copy) is still a ledger. (Asked in two reads, the tables another
#: process was committing in between -- it creates a new ledger's tables in one transaction -- read as another's.)
_FOREIGN_TABLES = (
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'"
    " AND NOT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'commits')"
)
_INHERITED: list[_Backend] = []  # connections inherited over fork(): kept referenced so the child never closes them


class Ledger:
    """A grants ledger at a URL. Open with `Ledger(url)`; close with `close()` or use as a context manager.

    `create=False` (read-only commands): a ledger that does not exist -- no SQLite file, or no ledger
    tables on the server -- raises `LedgerMissing` instead of being created (an existing one of an
    older schema is still brought up to date); it says so to a program (`create=True` makes one), and the command
    line says it in its own words (`LedgerMissing.through`).
    """

    #: whether commits store the decision as made (every ledger does; a batch worker's private scratch ledger,
    #: whose decisions are never read back from it, does not: engine.records.workers)
    store_decisions = True

    def __init__(self, url: str | None = None, *, create: bool = True, busy_seconds: float | None = None) -> None:
        refuse_url_not_text(url, "Ledger()")
        refuse_flags("Ledger", create=create)
        self.url = url or default_url()
        if busy_seconds is not None and not _seconds(busy_seconds):  # (-1 waited for ever: a lock's "no timeout")
            raise ValueError(msg("ledger.busy_seconds", value=repr(busy_seconds), default=BUSY_SECONDS))
        #: how long an SQLite ledger's statement waits for another connection's lock (default `BUSY_SECONDS`; a
        #: service's, at most its request's time limit); work with a deadline of its own waits no longer (`until`)
        self.busy_seconds = busy_seconds
        self._db = _connect(self.url, create=create, busy=busy_seconds)
        self._pid = os.getpid()
        #: a ledger over another (`commit`'s `base`: a run's scratch ledger): claim id -> whether the commit in force
        #: of a claim it decided stays so in the ledger below, as committing would keep it (`_over`)
        self._stands_below: dict[str, bool] = {}
        try:
            if isinstance(self._db, _SQLite) and self._db.query(_FOREIGN_TABLES)[0][0]:
                # another program's SQLite database, named by mistake: never given a ledger's tables
                raise LedgerError(msg("ledger.foreign_sqlite", url=masked_url(self.url)))
            if not create and self.schema_version() == 0:
                raise LedgerMissing(msg("ledger.missing_tables", url=masked_url(self.url), creates=msg("ledger.creates_none.program")))
            self.migrate()
        except LedgerError:
            self._db.close()
            raise
        except sqlite3.Error as err:  # (a file SQLite cannot write, as /dev/null; a damaged one)
            self._db.close()
            raise LedgerError(msg("ledger.cannot_open", url=masked_url(self.url), reason=sqlite_reason(err))) from None

    def wait_said(self, tell: Callable[[], None]) -> None:
        """`tell` is called, once, when a write must wait for another connection's lock on an SQLite ledger, before it
        waits (a program says "waiting for the ledger" rather than hanging silently up to its busy timeout)."""
        told: list[bool] = []

        def once() -> None:
            if not told:
                told.append(True)
                tell()

        if isinstance(self._db, _SQLite):
            self._db.on_wait = once

    @property
    def db(self) -> _Backend:
        """The connection of this process: a ledger used in a forked child opens its own (a shared one breaks both)."""
        if self._pid != os.getpid():
            _INHERITED.append(self._db)  # never used nor closed here: it belongs to the parent
            self._db = _connect(self.url, busy=self.busy_seconds)
            self._pid = os.getpid()
        return self._db

    @contextlib.contextmanager
    def until(self, deadline: float) -> Iterator[Ledger]:
        """The ledger for work that must be done by `deadline` (`time.monotonic()`): its locks waited for no longer,
        and nothing committed past it (`LedgerBusyError`, the transaction rolled back). A service's write answered
        503 at its time limit was committed later, once the lock it waited for was let go."""
        self.db.until(deadline)
        try:
            yield self
        finally:
            self.db.until(None)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Ledger {masked_url(self.url)}>"

    def close(self) -> None:
        if self._pid == os.getpid():
            self._db.close()

    # --- schema ---------------------------------------------------------------------------

    def schema_version(self) -> int:
        if not self.db.has_table("schema_version"):
            return 0
        rows = self.db.query("SELECT max(version) FROM schema_version")
        return int(rows[0][0] or 0)

    def migrate(self) -> int:
        """Bring the schema up to date (each migration in the ledger's lock); returns the version."""
        if self.schema_version() == SCHEMA_VERSION:
            return SCHEMA_VERSION
        with self.db.locked():
            self.db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL)")
            current = int(self.db.query("SELECT coalesce(max(version), 0) FROM schema_version")[0][0])
            if current > SCHEMA_VERSION:
                raise LedgerError(msg("ledger.newer", url=self.url, current=current, ours=SCHEMA_VERSION))
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version]:
                    self.db.execute(statement.format(**self.db.types))
                self.db.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, _now()))
        return SCHEMA_VERSION

    # --- reading ------------------------------------------------------------------------

    def history_for(self, policy: CompiledPolicy, claim: Claim, *, before: int | None = None, round: str | None = None) -> list[Grant]:
        """Every active grant that can matter for `claim`: the applicant's, and any sharing a scope key it could consume.

        Grants of the claim itself are left out (a claim does not compete with itself), superseded
        grants are left out, reversed grants stay in (a reversal frees nothing). `before`: only
        grants committed before that commit sequence number. `round`: the round the claim goes into (default: its
        policy's round for its funding year, `round_of`); its grants consume their amounts as approved, before the
        round's scaling -- that scaling is not final while the round takes commits (scaled anew after each run, it can
        rise again), so room it left under a cap is never granted, and a dry run or a service's evaluation with the
        ledger's history decides as a commit would.
        """
        if type(claim) is not Claim:  # (a claim's data: "'dict' object has no attribute 'applicant'")
            raise TypeError(msg("ledger.history_not_parsed", kind=type(claim).__name__))
        keys = sorted(possible_keys(policy, claim))
        # (a grant of the round is read at its unscaled amount: the columns of `_grant_from_row`, its amount swapped)
        columns = _GRANT_COLS.replace("amount", "CASE WHEN g.round = ? THEN coalesce(g.unscaled_amount, g.amount) ELSE g.amount END", 1)
        sql = f"SELECT {columns} FROM grants g WHERE g.superseded = 0 AND g.claim_id <> ? AND (g.applicant_id = ?"  # noqa: S608 - fixed columns
        params: list[Any] = [round if round is not None else round_of(policy, claim), claim.claim_id, claim.applicant_id]
        if keys:
            sql += f" OR g.id IN (SELECT grant_id FROM grant_keys WHERE key IN ({', '.join('?' * len(keys))}))"  # noqa: S608 - placeholders only
            params.extend(keys)
        sql += ")"
        if before is not None:
            sql += " AND g.commit_seq < ?"
            params.append(before)
        sql += " ORDER BY g.id"
        return [_grant_from_row(*row) for row in self.db.query(sql, params)]

    def _why_no_grant(self, claim_id: str, item_id: str) -> Msg:
        """Why there is no grant in force to reverse, told apart: one message said all of a claim id typed otherwise
        (lower case, a space pasted from a sheet), an item of the claim that was not granted, and an item it has not."""
        stored = self.stored_decision(claim_id)
        if stored is None:
            wanted = claim_id.strip().casefold()
            close = [str(r[0]) for r in self.db.query("SELECT DISTINCT claim_id FROM commits WHERE superseded_by IS NULL")]
            near = next((c for c in close if c.casefold() == wanted), None)
            if near is not None:
                return msg("ledger.no_claim_near", claim=repr(claim_id), near=near)
            return msg("ledger.no_claim", claim=repr(claim_id))
        items = {str(i.get("item")): str(i.get("status")) for i in stored.get("items", ())}
        status = items.get(item_id) or items.get(item_id.strip())
        if status is not None:
            return msg("ledger.item_not_granted", claim=claim_id, item=item_id.strip(), status=msg(f"status_short.{status}"))
        granted = [i for i, s in items.items() if s in ("granted", "reduced")]
        return msg("ledger.no_item", claim=claim_id, item=repr(item_id), granted=granted or "—")

    def _differs(self, claim_id: str, seq: int, same: set[str]) -> Msg:
        """Why a claim committed with other content is not committed again, and what to do: a clerk re-running the
        original workbook after a correction was told to submit it "as a replacement", and doing so undid the
        correction. Said apart: the content is that of a commit the active one corrected (older: not committed, no
        need to); the active commit is itself a correction (this may be another, or the old file); else as before."""
        superseded = self.db.query("SELECT seq, content_hash FROM commits WHERE claim_id = ? AND superseded_by IS NOT NULL", (claim_id,))
        older = sorted((int(n) for n, h in superseded if h in same), reverse=True)
        replaces, at = self.db.query("SELECT replaces, committed_at FROM commits WHERE seq = ?", (seq,))[0]
        day = str(at)[:10]
        if older:
            return msg("ledger.already_committed_older", claim=claim_id, seq=seq, date=day, old=older[0], replace=REPLACE_BY_COMMIT)
        if replaces is not None:
            return msg(
                "ledger.already_committed_corrected", claim=claim_id, seq=seq, date=day, old=int(replaces), replace=REPLACE_BY_COMMIT
            )
        return msg("ledger.already_committed", claim=claim_id, seq=seq, replace=REPLACE_BY_COMMIT)

    def _in_force(self, policy: CompiledPolicy, submitted: Claim, digest: str, replace: bool) -> tuple[int, bool, bytes] | None:
        """The commit in force of `submitted`'s claim id as committing it meets it: (its seq, whether it is the same
        application -- committing finds it already committed --, its stored decision); None when there is none.
        Raises as committing refuses it: `AlreadyCommitted` (other content, no `replace`), `LedgerError` (other
        content replacing grants with funds returned)."""
        existing = self.active_commit(submitted.claim_id)
        if existing is None:
            return None
        seq, old_hash, blob = existing
        # (the other two forms only when there is a commit to compare with: each is a hash of the whole claim)
        same = {digest, content_hash(submitted), _digest(stated_in_full(policy, submitted.raw))}
        if old_hash in same:
            return seq, True, blob
        if not replace:
            raise AlreadyCommitted(self._differs(submitted.claim_id, seq, same))
        held = (
            "SELECT count(DISTINCT r.grant_id) FROM reversals r JOIN grants g ON g.id = r.grant_id"
            " WHERE g.commit_seq = ? AND r.withdrawn IS NULL"
        )
        reversed_ = int(self.db.query(held, (seq,))[0][0])  # (grants with funds returned, however many times)
        if reversed_:  # its grants superseded, the reversed money would count no more: the cap it used freed
            raise LedgerError(msg("ledger.replace_reversed", claim=submitted.claim_id, n=reversed_))
        return seq, False, blob

    def _stands(self, policy: CompiledPolicy, submitted: Claim, digest: str, replace: bool) -> bool | None:
        """Whether this ledger's commit in force of `submitted`'s claim stays so when `submitted` is committed: True for
        the same application (found already committed) or one refused (`_in_force` raises), False when it is
        replaced, None when there is none."""
        try:
            found = self._in_force(policy, submitted, digest, replace)
        except LedgerError:
            return True
        return None if found is None else found[1]

    def reversed_claims(self, claim_ids: Iterable[str]) -> set[str]:
        """Which of `claim_ids` have a commit in force with grants whose funds were returned (a reversal not withdrawn):
        committing another application under such a claim id is refused, even as a replacement."""
        sql = (
            "SELECT DISTINCT c.claim_id FROM reversals r JOIN grants g ON g.id = r.grant_id JOIN commits c ON c.seq = g.commit_seq"
            " WHERE c.superseded_by IS NULL AND r.withdrawn IS NULL AND c.claim_id IN ({})"
        )
        wanted, out = list(claim_ids), set[str]()
        for at in range(0, len(wanted), 500):
            page = wanted[at : at + 500]
            out.update(str(r[0]) for r in self.db.query(sql.format(", ".join("?" * len(page))), page))
        return out

    def _over(self, below: list[Grant], mine: list[Grant]) -> list[Grant]:
        """A claim's history in this ledger over another (`commit`'s `base`; `below`: its grants there, `mine`: here),
        as committing the claims this one decided would leave the other: of a claim both hold, the grants of the
        commit committing keeps -- the one below where committing would refuse this one or find it already
        committed, else this one's (a replacement supersedes the one below). A dry run of replacements counted a
        replaced claim's old grants beside its new ones, and one of a refused claim its fresh grants beside the
        committed ones."""
        stands = self._stands_below
        if not stands:
            return below + mine
        return [g for g in below if stands.get(g.claim_id, True)] + [g for g in mine if not stands.get(g.claim_id, False)]

    @property
    def stands_below(self) -> Mapping[str, bool]:
        """A ledger over another (a run's scratch ledger): claim id -> whether the other's commit in force of a claim
        this one decided stays so when the run commits (True: the same application, in any of its hash forms, or one
        committing refuses; False: replaced), for each claim the other holds. What a preview's round counts of the
        other ledger's commits (`batch.earlier_share`), as committing would count them."""
        return MappingProxyType(self._stands_below)

    def committed_round(self, policy: CompiledPolicy, claim: Claim, replace: bool = False) -> str | None:
        """What committing `claim` would meet in this ledger, without committing it (a run's foresight,
        `batch._DryRun`): the round of its commit in force when that is the same application (committing finds it
        already committed and writes that decision); None when committing decides it (no commit in force, or one it
        replaces). Raises as committing refuses it (`AlreadyCommitted`, `LedgerError`). `claim` is taken as read (a
        foresight's own, just parsed: not parsed again as `commit` checks a program's)."""
        if not self.active_hashes([claim.claim_id]):  # (most claims: no hash of the claim to take)
            return None
        found = self._in_force(policy, claim, content_hash(claim, policy), replace)
        if found is None or not found[1]:
            return None
        return str(self.db.query("SELECT round FROM commits WHERE seq = ?", (found[0],))[0][0])

    def active_commit(self, claim_id: str) -> tuple[int, str, bytes] | None:
        rows = self.db.query("SELECT seq, content_hash, decision FROM commits WHERE claim_id = ? AND superseded_by IS NULL", (claim_id,))
        return (int(rows[0][0]), str(rows[0][1]), bytes(rows[0][2])) if rows else None

    def stored_decision(self, claim_id: str) -> dict[str, Any] | None:
        """The decision as committed for `claim_id` (the active commit), or None."""
        found = self.active_commit(claim_id)
        return None if found is None else _unpack(found[2])

    def grants(self, *, applicant_id: str | None = None, include_superseded: bool = False) -> Iterator[dict[str, Any]]:
        """Grants as records (streamed): the `Grant` JSON form plus ledger columns."""
        where = "1 = 1"
        params: list[Any] = []
        if applicant_id is not None:
            where += " AND applicant_id = ?"
            params.append(applicant_id)
        if not include_superseded:
            where += " AND superseded = 0"
        cols = "commit_seq, claim_id, item_id, rule, applicant_id, funding_year, amount, unscaled_amount, consumes, round, policy_id, policy_hash, committed_at, superseded"
        reversed_ids = {int(r[0]) for r in self.db.query("SELECT grant_id FROM reversals WHERE withdrawn IS NULL")}
        for row in self._pages(cols, where, params):
            (gid, seq, claim_id, item_id, rule, app, year, amount, unscaled, consumes, rnd, pid, phash, at, sup) = row
            g = _grant_from_row(claim_id, item_id, rule, app, year, amount, consumes).to_dict()
            g.update(
                id=gid,
                commit=int(seq),
                unscaled_amount=unscaled,
                round=rnd,
                policy_id=pid,
                policy_hash=phash,
                committed_at=at,
                superseded=bool(sup),
                reversed=gid in reversed_ids,
            )
            yield g

    def counts(self) -> dict[str, int]:
        out = {}
        for table in ("commits", "grants", "reversals", "findings", "rounds", "audit"):
            out[table] = int(self.db.query(f"SELECT count(*) FROM {table}")[0][0])  # noqa: S608 - fixed names
        out["active_commits"] = int(self.db.query("SELECT count(*) FROM commits WHERE superseded_by IS NULL")[0][0])
        out["active_grants"] = int(self.db.query("SELECT count(*) FROM grants WHERE superseded = 0")[0][0])
        return out

    def last_commit(self) -> int:
        """The number of the ledger's latest commit (0: none yet). Commits are numbered in the order they are
        written, and no commit is ever deleted: the commits written after this moment are those numbered above it."""
        return int(self.db.query("SELECT coalesce(max(seq), 0) FROM commits")[0][0])

    def commits_after(self, seq: int) -> dict[str, Any]:
        """The commits numbered above `seq` (`last_commit` read earlier): how many are new (`committed`), how many
        replace an earlier commit of their claim (`replaced`), and the first and last number (`seq`; None: none).
        A commit rolled back (a run on workers stopped before its one transaction ended) is not there to count."""
        n, replacing, first, last = self.db.query(
            "SELECT count(*), count(replaces), min(seq), max(seq) FROM commits WHERE seq > ?", (seq,)
        )[0]
        return {
            "committed": int(n) - int(replacing),
            "replaced": int(replacing),
            "seq": [int(first), int(last)] if n else None,
        }

    def facts_on_record(self, applicant_id: str) -> dict[str, list[str]]:
        """Applicant facts recorded in the ledger (e.g. the dates of findings that bar it): every value recorded
        for each fact, oldest first, each once. How they join an application is the policy's (`with_facts_on_record`)."""
        out: dict[str, list[str]] = {}
        rows = self.db.query("SELECT fact, value FROM findings WHERE applicant_id = ? AND withdrawn IS NULL ORDER BY id", (applicant_id,))
        for fact, value in rows:
            values = out.setdefault(str(fact), [])
            if str(value) not in values:
                values.append(str(value))
        return out

    def with_facts_on_record(self, policy: CompiledPolicy, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """The application with the applicant facts on record joined to it, as each fact's `on_record` says.

        ``fills`` (the default): the latest value on record (every value, for a list fact) fills a fact the
        application leaves empty; what the applicant states stands. ``authoritative``: what is on record always
        counts and the application cannot displace it: a list fact is decided on the union of the values stated
        and every value on record; a single-valued fact on the latest value on record, whatever is stated.
        `data` itself is not changed; it is returned as is when nothing joins it.
        """
        app = data.get("applicant")
        if not isinstance(app, Mapping) or not isinstance(app.get("id"), str) or text_problem(app["id"]):
            return data  # an id no claim may hold (e.g. a lone surrogate, which no database can store): parse_claim says why
        joined: dict[str, Any] = {}
        for fact, values in self.facts_on_record(app["id"]).items():
            spec = policy.applicant_facts.get(fact)
            if spec is None or fact == "id" or not values:
                continue
            stated = app.get(fact)
            authoritative = spec.on_record == "authoritative"
            if spec.type in RECORDABLE_LIST_TYPES:
                if stated is None:
                    joined[fact] = list(values)
                elif authoritative and isinstance(stated, list):  # not a list: parse_claim reports the claim's error
                    added = [v for v in values if v not in stated]
                    if added:
                        joined[fact] = [*stated, *added]
            elif stated is None or (authoritative and stated != values[-1]):
                joined[fact] = values[-1]
        return {**data, "applicant": {**app, **joined}} if joined else data

    # --- writing ------------------------------------------------------------------------

    # long because: one locked transaction -- facts on record, the same-content check, replace, the decision, its
    # grants and the audit entry -- kept in one body so that nothing runs between the lock and the write
    @in_engine_context
    def commit(
        self,
        policy: CompiledPolicy,
        claim: Claim | Mapping[str, Any],
        *,
        replace: bool = False,
        round: str | None = None,
        base: Ledger | None = None,
        trace: bool = True,
        selection: Mapping[str, Any] | None = None,
        audit: Audit | None = None,
    ) -> CommitResult:
        """Decide `claim` against the ledger's history and record its grants, in one locked transaction.

        Committing the same application again changes nothing and returns the decision as committed.
        An application with the same claim id but different content raises `AlreadyCommitted`
        unless `replace` is set: then the earlier commit and its grants are kept, marked superseded.
        `base`: a further ledger whose history also counts (a dry run commits into a scratch ledger
        on top of the real one). `selection`: the claim's items' verdicts in their round's selection
        (item id -> `engine.deciding.selection.Verdict`; see `engine.records.batch`): an item left out is refused.
        `audit`: recorded in the same transaction, with the outcome.
        """
        refuse_flags("commit", replace=replace, trace=trace)
        if round is not None:
            check_words(round, "round")
        parsed = submitted = as_parsed_now(policy, claim) if isinstance(claim, Claim) else parse_claim(policy, claim)
        # of the application as the ledger compares it (optional facts that only state their default left out); a commit
        # recorded before the ledger compared so holds the hash of the application as submitted: that is the same too,
        # as is the application with every default it leaves out stated (a workbook's form, recorded before)
        digest = content_hash(parsed, policy)
        with self.db.locked():
            # facts on record (e.g. findings that bar an applicant) count whoever commits, not only batch runs;
            # a dry run's scratch ledger holds none of its own: those of the ledger under it count
            filled = self.with_facts_on_record(policy, parsed.raw)
            if base is not None:
                filled = base.with_facts_on_record(policy, filled)
            on_record = facts_joined(parsed.raw, filled)
            if filled is not parsed.raw:
                parsed = parse_claim(policy, filled)
            existing = self._in_force(policy, submitted, digest, replace)
            if existing is not None and existing[1]:
                seq, _same, blob = existing
                n = int(self.db.query("SELECT count(*) FROM grants WHERE commit_seq = ?", (seq,))[0][0])
                self._audit(audit, "already_committed", {"seq": seq})
                if not blob:  # (a ledger that keeps no decisions, a run's scratch one: its round, no decision)
                    rnd = str(self.db.query("SELECT round FROM commits WHERE seq = ?", (seq,))[0][0])
                    return CommitResult(parsed.claim_id, "already_committed", seq, n, rnd, {"commit": seq, "round": rnd})
                found = _unpack(blob)
                ledger = found["ledger"]
                return CommitResult(parsed.claim_id, "already_committed", seq, n, ledger["round"], ledger, found=found)
            if existing is not None:  # one active commit per claim id (a unique index): step the old one aside first
                self.db.execute("UPDATE commits SET superseded_by = -1 WHERE seq = ?", (existing[0],))
            rnd = round or round_of(policy, parsed)
            history = self.history_for(policy, parsed, round=rnd)
            if base is not None:
                stands = base._stands(policy, submitted, digest, replace) if existing is None else None
                history = self._over(base.history_for(policy, parsed, round=rnd), history)
            decision = evaluate_claim(policy, parsed, history, trace=trace, selection=selection)
            now = _now()
            seq = self.db.insert(
                "INSERT INTO commits (claim_id, applicant_id, funding_year, round, policy_id, policy_version, policy_hash,"
                " content_hash, committed_at, total, replaces, decision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    parsed.claim_id,
                    parsed.applicant_id,
                    parsed.funding_year,
                    rnd,
                    policy.id,
                    policy.version,
                    policy.content_hash,
                    digest,
                    now,
                    str(decision.total),
                    None,
                    self.db.blob(b""),
                ),
                "seq",
            )
            status = "committed"
            if base is not None and stands is not None:  # (a claim the ledger below holds; once it is committed here)
                self._stands_below[parsed.claim_id] = stands
            if existing is not None:
                self.db.execute("UPDATE commits SET superseded_by = ? WHERE seq = ?", (seq, existing[0]))
                self.db.execute("UPDATE grants SET superseded = 1 WHERE commit_seq = ?", (existing[0],))
                self.db.execute("UPDATE commits SET replaces = ? WHERE seq = ?", (existing[0], seq))
                status = "replaced"
            ledger = {"commit": seq, "round": rnd, "status": status, **({"replaces": existing[0]} if existing else {})}
            if on_record:  # which applicant facts the ledger's findings gave: an explanation says them as on record
                ledger["facts_on_record"] = on_record
            result = CommitResult(parsed.claim_id, status, seq, len(decision.grants), rnd, ledger, made=decision)
            if self.store_decisions:  # (its text: `to_json`'s, the text of `to_dict()` in a fifth of its time)
                self.db.execute("UPDATE commits SET decision = ? WHERE seq = ?", (self.db.blob(_pack(result.text)), seq))
            self._write_grants(seq, decision, policy, rnd, now)
            self._audit(audit, status, {"seq": seq, "grants": len(decision.grants), "total": str(decision.total), "round": rnd})
            return result

    def _write_grants(self, seq: int, decision: Decision, policy: CompiledPolicy, rnd: str, now: str) -> None:
        for position, g in enumerate(decision.grants):
            gid = self.db.insert(
                "INSERT INTO grants (commit_seq, position, claim_id, item_id, rule, applicant_id, funding_year, amount, unscaled_amount,"
                " consumes, round, policy_id, policy_hash, committed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    seq,
                    position,
                    g.claim_id,
                    g.item_id,
                    g.rule,
                    g.applicant_id,
                    g.funding_year,
                    format_money(g.amount),
                    format_money(g.amount),
                    _consumes_json(g),
                    rnd,
                    policy.id,
                    policy.content_hash,
                    now,
                ),
                "id",
            )
            keys = {key_text(c.kind, c.id, c.scope) for c in g.consumes}
            if keys:
                self.db.executemany("INSERT INTO grant_keys (grant_id, key) VALUES (?, ?)", [(gid, k) for k in sorted(keys)])

    # --- applications decided elsewhere (batch workers) ---------------------------------

    def export_commit(self, seq: int) -> DecidedCommit:
        """Commit `seq` and its grants as rows another ledger can take (`import_commit`): how a batch worker hands
        an application it decided in its own scratch ledger to the run's ledger (engine.records.workers)."""
        rows = self.db.query(
            "SELECT claim_id, applicant_id, funding_year, round, policy_id, policy_version, policy_hash, content_hash, total"
            " FROM commits WHERE seq = ?",
            (seq,),
        )
        keys: dict[int, list[str]] = {}
        for gid, key in self.db.query(
            "SELECT grant_id, key FROM grant_keys WHERE grant_id IN (SELECT id FROM grants WHERE commit_seq = ?) ORDER BY grant_id, key",
            (seq,),
        ):
            keys.setdefault(int(gid), []).append(str(key))
        grants = self.db.query(
            f"SELECT id, position, {_GRANT_COLS}, unscaled_amount, round, policy_id, policy_hash FROM grants"  # noqa: S608 - fixed columns
            " WHERE commit_seq = ? ORDER BY position",
            (seq,),
        )
        held = tuple((tuple(row[1:]), tuple(keys.get(int(row[0]), ()))) for row in grants)
        return DecidedCommit(tuple(rows[0]), held, self._stands_below.get(str(rows[0][0])))

    def import_commit(self, decided: DecidedCommit, decision: Callable[[int], bytes] | None = None) -> int:
        """Write an application decided elsewhere (`export_commit`) as a new commit of this ledger; its sequence number.

        Nothing is evaluated: the caller holds this ledger's lock (`db.locked()`) and guarantees that the
        history the application was decided against is this ledger's (engine.records.workers: the whole import
        runs under one lock taken before the workers read). `decision`: given the new commit's number, the
        decision as `commit` stores it (zlib-compressed JSON, its `ledger` naming that commit; `_unpack` reads it).
        """
        claim_id, applicant_id, year, rnd, policy_id, version, policy_hash, digest, total = decided.commit
        now = _now()
        seq = self.db.insert(
            "INSERT INTO commits (claim_id, applicant_id, funding_year, round, policy_id, policy_version, policy_hash,"
            " content_hash, committed_at, total, replaces, decision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (claim_id, applicant_id, year, rnd, policy_id, version, policy_hash, digest, now, total, None, self.db.blob(b"")),
            "seq",
        )
        if decision is not None:
            self.db.execute("UPDATE commits SET decision = ? WHERE seq = ?", (self.db.blob(decision(seq)), seq))
        if decided.stands_below is not None:  # (a worker's decision over the run's ledger: a preview's merge)
            self._stands_below[claim_id] = decided.stands_below
        for row, keys in decided.grants:
            gid = self.db.insert(
                "INSERT INTO grants (commit_seq, position, claim_id, item_id, rule, applicant_id, funding_year, amount, consumes,"
                " unscaled_amount, round, policy_id, policy_hash, committed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, *row, now),
                "id",
            )
            if keys:
                self.db.executemany("INSERT INTO grant_keys (grant_id, key) VALUES (?, ?)", [(gid, k) for k in keys])
        return seq

    @in_engine_context
    def reverse(
        self,
        claim_id: str,
        item_id: str,
        *,
        reason: str,
        returned: Decimal | None = None,
        decided_on: str | _dt.date | None = None,
        quantum: Decimal = Decimal("0.01"),
        audit: Audit | None = None,
        request_key: str | None = None,
    ) -> int:
        """Record that a grant's funds were (to be) returned. Its own entry; the grant keeps counting against caps and limits.

        `returned` (default: the amount granted) must be positive, a whole number of `quantum` (the policy's
        money quantum; never rounded), and all the grant's reversals together at most its amount.
        `decided_on`: the date of the decision to reclaim, a real YYYY-MM-DD date (or a `datetime.date`).
        `request_key`: the caller's key for this request (the service's `Idempotency-Key`): the same reversal asked
        again under it records nothing and returns the first one's id; another reversal under it is refused. A
        reversal of 10.00 retried after its answer was lost had counted 20.00 returned.
        """
        return self.reverse_once(
            claim_id,
            item_id,
            reason=reason,
            returned=returned,
            decided_on=decided_on,
            quantum=quantum,
            audit=audit,
            request_key=request_key,
        )[0]

    @in_engine_context
    def reverse_once(
        self,
        claim_id: str,
        item_id: str,
        *,
        reason: str,
        returned: Decimal | None = None,
        decided_on: str | _dt.date | None = None,
        quantum: Decimal = Decimal("0.01"),
        audit: Audit | None = None,
        request_key: str | None = None,
    ) -> tuple[int, bool]:
        """`reverse`, and whether this call recorded the reversal (False: its `request_key` had recorded it already),
        told by the transaction that decided it (a count of reversals before and after would take another process's
        for this one's)."""
        if isinstance(decided_on, _dt.date):  # (a program's date: it was a TypeError from the date check's pattern)
            decided_on = decided_on.isoformat()
        check_words(reason, "reason")
        check_reversal(returned, decided_on, quantum)
        if request_key is not None:
            check_words(request_key, "request_key")
        with self.db.locked():
            rows = self.db.query(
                "SELECT id, applicant_id, amount FROM grants WHERE claim_id = ? AND item_id = ? AND superseded = 0", (claim_id, item_id)
            )
            if not rows:
                raise LedgerError(self._why_no_grant(claim_id, item_id))
            gid, applicant, amount = rows[0]
            back = returned if returned is not None else Decimal(amount)
            if request_key is not None:  # (before the sum: a retry of a whole return finds nothing left to return)
                kept = self._reversal_of_request(request_key, claim_id, item_id, back, reason, decided_on)
                if kept is not None:
                    self._audit(audit, "already_recorded", {"reversal": kept})
                    return kept, False
            kept_back = self.db.query("SELECT returned FROM reversals WHERE grant_id = ? AND withdrawn IS NULL", (gid,))
            before = sum((Decimal(r) for (r,) in kept_back), Decimal(0))
            if not back.is_finite() or back <= 0 or before + back > Decimal(amount):
                left = Decimal(amount) - before
                said = msg("ledger.cannot_return", claim=claim_id, item=item_id, back=back, amount=amount, before=format_money(before))
                if left > 0:  # (after part was returned, "the rest" asked for the whole grant again: say what is left)
                    said = msg("ledger.cannot_return_left", said=said, left=format_money(left))
                raise LedgerError(said)
            rid = self.db.insert(
                "INSERT INTO reversals (grant_id, claim_id, item_id, applicant_id, returned, reason, decided_on, recorded_at, request_key)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (gid, claim_id, item_id, applicant, format_money(back), reason, decided_on, _now(), request_key),
                "id",
            )
            self._audit(audit, "recorded", {"reversal": rid, "returned": format_money(back)})
            return rid, True

    def _reversal_of_request(
        self, key: str, claim_id: str, item_id: str, returned: Decimal, reason: str, decided_on: str | None
    ) -> int | None:
        """The id of the reversal recorded under `key` when it is this one (None when none is); LedgerError when the key
        recorded another (`returned`: the amount this one returns, the whole grant's when none was given)."""
        rows = self.db.query("SELECT id, claim_id, item_id, returned, reason, decided_on FROM reversals WHERE request_key = ?", (key,))
        if not rows:
            return None
        rid, *kept = rows[0]
        same = kept[:2] == [claim_id, item_id] and kept[3:] == [reason, decided_on]
        if same and Decimal(kept[2]) == returned:
            return int(rid)
        raise LedgerError(msg("ledger.request_key_used", key=key, reversal=int(rid), claim=kept[0], item=kept[1]))

    def record_finding(
        self,
        applicant_id: str,
        fact: str,
        value: str | _dt.date,
        *,
        reason: str,
        policy: CompiledPolicy | Sequence[CompiledPolicy] | None = None,
        audit: Audit | None = None,
    ) -> int:
        """Record a fact about an applicant (e.g. the date of a finding that bars it for some years); its number.

        With `policy` (the CLI always gives it) the finding is checked first (`check_finding`). The same applicant,
        fact and value on record already (and not withdrawn) records nothing: that finding's number is returned
        (`record_finding_once` says which happened).
        """
        return int(self.record_finding_once(applicant_id, fact, value, reason=reason, policy=policy, audit=audit)[0]["id"])

    def record_finding_once(
        self,
        applicant_id: str,
        fact: str,
        value: str | _dt.date,
        *,
        reason: str,
        policy: CompiledPolicy | Sequence[CompiledPolicy] | None = None,
        audit: Audit | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """`record_finding`: the finding's record (as `findings` reads it) and whether this call recorded it. False:
        the same applicant, fact and value is on record already, not withdrawn -- that finding's record, with its
        number and when it was recorded; nothing is recorded (a finding entered twice was stored twice, numbers 2
        and 3, and listed twice). Told by the transaction that decided it. A date fact's value may be a `datetime.date`
        (it was a TypeError from inside the checks); any value not text is refused in words."""
        if isinstance(value, _dt.date):
            value = value.isoformat()
        if not isinstance(value, str):
            raise LedgerError(msg("ledger.finding.not_text", value=repr(value)[:80], kind=json_kind(value)))
        check_words(reason, "reason")
        if policy is not None:
            check_finding(policy, applicant_id, fact, value)
        with self.db.locked():
            same = self.db.query(
                "SELECT id FROM findings WHERE applicant_id = ? AND fact = ? AND value = ? AND withdrawn IS NULL ORDER BY id",
                (applicant_id, fact, value),
            )
            if same:
                self._audit(audit, "already_recorded", {"finding": int(same[0][0])})
                return self._records("findings", "id", int(same[0][0]))[0], False
            held = self.facts_on_record(applicant_id).get(fact, [])
            if len(held) >= MAX_LIST:
                # a list fact joins a claim whole; a claim's list holds at most MAX_LIST values
                raise LedgerError(msg("ledger.finding.too_many", applicant=applicant_id, n=len(held), fact=fact, most=MAX_LIST))
            fid = self.db.insert(
                "INSERT INTO findings (applicant_id, fact, value, reason, recorded_at) VALUES (?, ?, ?, ?, ?)",
                (applicant_id, fact, value, reason, _now()),
                "id",
            )
            self._audit(audit, "recorded", {"finding": fid})
            return self._records("findings", "id", fid)[0], True

    def applicants_like(self, written: str, most: int = 3) -> list[str]:
        """The applicant ids on record nearest to `written` (a check character mistyped, a case or space slip), at
        most `most`; none when nothing is near."""
        refuse_count(most, "applicants_like", "most", 1)  # (0 or -1 was difflib's own "n must be > 0: 0")
        ids = [str(r[0]) for r in self.db.query("SELECT DISTINCT applicant_id FROM commits")]
        folded = {i.casefold(): i for i in ids}
        exact = folded.get(written.strip().casefold())
        if exact is not None:
            return [exact]
        return difflib.get_close_matches(written.strip(), ids, n=most, cutoff=0.8)

    def applications_of(self, applicant_id: str) -> int:
        """How many of `applicant_id`'s applications are on record (claims committed, each counted once, whether or
        not anything was granted): an applicant with none is one the ledger has no record of."""
        return int(self.db.query("SELECT count(DISTINCT claim_id) FROM commits WHERE applicant_id = ?", (applicant_id,))[0][0])

    def granted_by_commit(self, seq: int) -> Decimal:
        """What a commit's grants granted (as they stand: a scaled round's shares), whether in force or replaced."""
        rows = self.db.query("SELECT amount FROM grants WHERE commit_seq = ?", (seq,))
        return sum((Decimal(str(a)) for (a,) in rows), Decimal(0)).quantize(Decimal("0.01"))

    def later_sharing(self, claim_ids: Sequence[str]) -> list[tuple[str, int]]:
        """The claims in force, other than `claim_ids`, committed after each of these was first committed, whose grants
        share a cap, limit or subject scope with its grants (in force or replaced), as (claim id, funding year) in
        commit order: their decisions read its grants as history, so replacing it may change what they should have
        had. A clerk lowered a 2021 grant; the 2022 grant its cap had cut stayed cut (50,000 owed), unsaid."""
        out: dict[str, int] = {}
        for claim_id in claim_ids:
            first = self.db.query("SELECT min(seq) FROM commits WHERE claim_id = ?", (claim_id,))[0][0]
            if first is None:
                continue
            rows = self.db.query(
                "SELECT DISTINCT g.claim_id, g.funding_year, g.commit_seq FROM grants g JOIN grant_keys k ON k.grant_id = g.id"
                " WHERE g.superseded = 0 AND g.claim_id <> ? AND g.commit_seq > ? AND k.key IN"
                " (SELECT k2.key FROM grant_keys k2 JOIN grants g2 ON g2.id = k2.grant_id WHERE g2.claim_id = ?)"
                " ORDER BY g.commit_seq",
                (claim_id, int(first), claim_id),
            )
            for other, year, _seq in rows:
                if str(other) not in claim_ids:
                    out.setdefault(str(other), int(year))
        return list(out.items())

    def findings(self, applicant_id: str | None = None) -> list[dict[str, Any]]:
        """The findings on record (`record_finding`), oldest first: id, applicant, fact, value, reason, when recorded,
        and its withdrawal ({reason, at}) or None."""
        return self._records("findings", "applicant_id", applicant_id)

    def reversals(self, applicant_id: str | None = None) -> list[dict[str, Any]]:
        """The reversals on record, oldest first, and each one's withdrawal ({reason, at}) or None."""
        return self._records("reversals", "applicant_id", applicant_id)

    def _records(self, table: str, by: str, value: Any) -> list[dict[str, Any]]:
        """The rows of `table` (reversals, findings) whose `by` (applicant_id, id) is `value` (None: every row)."""
        cols = _RECORD_COLUMNS[table]
        rows = self.db.query(_RECORDS_READ[(table, by if value is not None else None)], () if value is None else (value,))
        return [_withdrawn_read(dict(zip(cols, r, strict=True))) for r in rows]

    def withdraw(self, kind: str, number: int, *, reason: str, audit: Audit | None = None) -> dict[str, Any]:
        """Withdraw a reversal or a finding (`kind`) recorded by mistake: kept, marked with why and when, and no longer
        counted (a reversal's funds returned, a finding's fact on record). Nothing is deleted; a withdrawal is not
        undone (record the reversal or finding again). Returns the record as it now stands."""
        check_words(reason, "reason")
        # (True or 1.0 was record 1 to SQLite: it was withdrawn; 0 is no record's number, said as such below)
        refuse_count(number, "withdraw", "number", 0)
        table = _WITHDRAWABLE.get(kind)
        if table is None:
            raise LedgerError(msg("ledger.withdraw.kind", kind=repr(kind)))
        with self.db.locked():
            rows = self.db.query(_WITHDRAW_READ[table], (number,))
            if not rows:
                raise LedgerError(msg(f"ledger.withdraw.no_{kind}", n=number))
            if rows[0][1] is not None:
                raise LedgerError(msg(f"ledger.withdraw.already_{kind}", n=number, at=json.loads(rows[0][1]).get("at", "")[:10]))
            mark = json.dumps({"reason": reason, "at": _now()}, ensure_ascii=False)
            self.db.execute(_WITHDRAW_WRITE[table], (mark, number))
            self._audit(audit, "withdrawn", {kind: number})
        return self._records(table, "id", number)[0]

    # --- rounds: selection and budget ------------------------------------------------------

    def commit_round(
        self, policy: CompiledPolicy, claims: Sequence[Claim | dict[str, Any]], *, round: str | None = None, replace: bool = False
    ) -> list[CommitResult]:
        """Commit a whole round, in order, as `batch --commit` does: the rules' round selections ranked first
        (`rank_round`), each claim committed with its items' verdicts, then the round scaled to the policy's
        round budget if it has one. Returns each claim's result (decisions carry no scaling; see `round_record`)."""
        parsed = [c if isinstance(c, Claim) else parse_claim(policy, c) for c in claims]
        ranked = any(r.selection for r in policy.rules)
        verdicts = rank_round(((policy, c) for c in parsed), self, round) if ranked else {}
        results = [
            self.commit(policy, c, round=round, replace=replace, selection=claim_verdicts(policy, c, verdicts) if ranked else None)
            for c in parsed
        ]
        if policy.round_budget is not None and parsed:
            for rnd in dict.fromkeys(round or round_of(policy, c) for c in parsed):
                self.scale_round_by_policy(rnd, policy)
        return results

    # --- round budget ------------------------------------------------------------------

    @in_engine_context
    def round_total(self, rnd: str) -> Decimal:
        total = Decimal(0)
        for (amount,) in self.db.query("SELECT unscaled_amount FROM grants WHERE round = ? AND superseded = 0", (rnd,)):
            total += Decimal(amount)
        return total

    @in_engine_context
    def scale_round_by_policy(self, rnd: str, policy: CompiledPolicy) -> dict[str, str] | None:
        """`scale_round` to the policy's round budget, rounded as its `round_budget.rounding` says (defaults:
        the policy's quantum, floor, largest remainder). The policy must have a round budget."""
        if policy.round_budget is None:
            raise ValueError(f"policy {policy.id} {policy.version} has no round budget")
        rounding = policy.round_budget_rounding
        return self.scale_round(
            rnd,
            policy.round_budget,
            rounding.quantum if rounding else policy.quantum,
            policy,
            mode=rounding.mode if rounding else "floor",
            remainder=rounding.remainder if rounding else "largest_remainder",
        )

    # long because: the rounding of each share and the two remainder methods, read against each other, in the one
    # transaction that rewrites the round's grants and its scaling record (most of the length is its docstring)
    def scale_round(
        self,
        rnd: str,
        budget: Decimal,
        quantum: Decimal,
        policy: CompiledPolicy,
        *,
        mode: str = "floor",
        remainder: str = "largest_remainder",
    ) -> dict[str, str] | None:
        """Scale every active grant of round `rnd` to `budget`, when their (unscaled) total exceeds it.

        Each grant's exact share, amount x budget / total, is rounded to `quantum` by `mode` (floor,
        half_up, half_even). Then, with `remainder`:
          * largest_remainder: the sum is brought to exactly the budget (floored to the quantum): one
            quantum each is added to the grants with the largest remainders (exact share minus rounded
            amount) or, when rounding overshot, taken from those with the smallest; ties by commit
            order, then item position;
          * unallocated: the sum is never more than the budget (an overshoot is taken back as above);
            what is left is reported as `unallocated`.
        Scaling always starts from the unscaled amounts, so running it again gives the same result.
        Returns the round's scaling record, or None (within budget).
        """
        if mode not in _SCALE_MODES:
            raise LedgerError(msg("ledger.budget.mode", mode=repr(mode), modes=list(_SCALE_MODES)))
        if remainder not in ("largest_remainder", "unallocated"):
            raise LedgerError(msg("ledger.budget.remainder", remainder=repr(remainder)))
        q_units = _cents(quantum, msg("ledger.budget.the_quantum"))
        budget_cents = _cents(budget, msg("ledger.budget.the_budget"))
        if q_units <= 0:
            raise LedgerError(msg("ledger.budget.quantum", quantum=quantum))
        a_grant = msg("ledger.budget.a_grant")  # (made once: per grant it was a third of the round's scaling)
        with self.db.locked():
            where = "round = ? AND superseded = 0"
            total_cents = sum(_cents(Decimal(u), a_grant) for _, u in self._pages("unscaled_amount", where, (rnd,)))
            if total_cents <= budget_cents:
                self._unscaled(rnd)
                return None
            # In quanta, a grant's exact share is N / D with N = cents x budget cents and D = total cents x quantum cents.
            denominator = total_cents * q_units
            rounded = 0
            rows: list[tuple[str, int, int]] = []
            for gid, unscaled in self._pages("unscaled_amount", where, (rnd,)):
                numerator = _cents(Decimal(unscaled), a_grant) * budget_cents
                units = round_units(numerator, denominator, mode)
                rounded += units
                rows.append((format_money(quantum * units), numerator - units * denominator, gid))  # scale_rem: exact - rounded, x D
                if len(rows) >= 1000:
                    self.db.executemany("UPDATE grants SET amount = ?, scale_rem = ? WHERE id = ?", rows)
                    rows.clear()
            self.db.executemany("UPDATE grants SET amount = ?, scale_rem = ? WHERE id = ?", rows)
            budget_units = budget_cents // q_units
            step = budget_units - rounded
            if remainder == "unallocated":
                step = min(step, 0)
            while step:  # one pass suffices (each grant's rounding is off by less than a quantum); the loop is a guard
                order = "scale_rem DESC" if step > 0 else "scale_rem ASC"
                chosen = self.db.query(
                    f"SELECT id, amount FROM grants WHERE {where} ORDER BY {order}, commit_seq, position LIMIT ?",  # noqa: S608
                    (rnd, abs(step)),
                )
                if not chosen:
                    break
                delta = quantum if step > 0 else -quantum
                self.db.executemany("UPDATE grants SET amount = ? WHERE id = ?", [(format_money(Decimal(a) + delta), g) for g, a in chosen])
                step -= len(chosen) if step > 0 else -len(chosen)
            allocated = sum((Decimal(a) for _, a in self._pages("amount", where, (rnd,))), Decimal(0))
            total = Decimal(total_cents).scaleb(-2)
            record = {
                "round": rnd,
                "budget": format_money(budget),
                "approved_total": format_money(total),
                "factor": str((budget / total).quantize(Decimal("0.000001"))),
                "method": remainder,
                "mode": mode,
                "quantum": str(quantum),
                "allocated": format_money(allocated),
                "unallocated": format_money(budget - allocated),
                "policy_version": policy.version,
            }
            self.db.execute("DELETE FROM rounds WHERE round = ?", (rnd,))
            self.db.execute(
                "INSERT INTO rounds (round, policy_id, policy_hash, budget, approved_total, factor, scaled_at,"
                " quantum, mode, remainder, allocated, unallocated, policy_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rnd,
                    policy.id,
                    policy.content_hash,
                    record["budget"],
                    record["approved_total"],
                    record["factor"],
                    _now(),
                    record["quantum"],
                    mode,
                    remainder,
                    record["allocated"],
                    record["unallocated"],
                    policy.version,
                ),
            )
            return record

    def unscale_round(self, rnd: str) -> None:
        """Round `rnd` no longer scaled: its grants back at their amounts before scaling, its record gone (a round
        whose every grant a replacement took into another round: `batch`)."""
        with self.db.locked():
            self._unscaled(rnd)

    def _unscaled(self, rnd: str) -> None:
        self.db.execute("UPDATE grants SET amount = unscaled_amount, scale_rem = NULL WHERE round = ?", (rnd,))
        self.db.execute("DELETE FROM rounds WHERE round = ?", (rnd,))

    def round_years(self, rnd: str) -> list[int]:
        """The funding years of the active grants in round `rnd`, in order (which version's budget governs it)."""
        rows = self.db.query("SELECT DISTINCT funding_year FROM grants WHERE round = ? AND superseded = 0", (rnd,))
        return sorted(int(y) for (y,) in rows)

    def round_of_commit(self, seq: int) -> str:
        """The round of commit `seq`."""
        return str(self.db.query("SELECT round FROM commits WHERE seq = ?", (seq,))[0][0])

    def round_record(self, rnd: str) -> dict[str, str] | None:
        """The scaling recorded for round `rnd` (columns added in schema 2 are None for rounds scaled before)."""
        rows = self.db.query(
            "SELECT budget, approved_total, factor, scaled_at, quantum, mode, remainder, allocated, unallocated, policy_id,"
            " policy_version, policy_hash FROM rounds WHERE round = ?",
            (rnd,),
        )
        if not rows:
            return None
        cols = (
            "budget",
            "approved_total",
            "factor",
            "scaled_at",
            "quantum",
            "mode",
            "method",
            "allocated",
            "unallocated",
            "policy_id",
            "policy_version",
            "policy_hash",
        )
        return {"round": rnd, **dict(zip(cols, rows[0], strict=True))}

    def claim_grant_amounts(self, claim_id: str) -> dict[str, tuple[Decimal, Decimal]]:
        """item id -> (amount now, amount before scaling) for the active grants of `claim_id`."""
        rows = self.db.query("SELECT item_id, amount, unscaled_amount FROM grants WHERE claim_id = ? AND superseded = 0", (claim_id,))
        return {str(i): (Decimal(a), Decimal(u)) for i, a, u in rows}

    def round_grant_amounts(self, rounds: Iterable[str]) -> dict[str, dict[str, tuple[Decimal, Decimal]]]:
        """claim id -> its `claim_grant_amounts`, for every claim with active grants in `rounds`: a page of grants a
        query, where a round's checks asked once per claim (10,000 queries for a round of 10,000 applications)."""
        out: dict[str, dict[str, tuple[Decimal, Decimal]]] = {}
        for rnd in rounds:
            for _id, claim_id, item_id, amount, unscaled in self._pages(
                "claim_id, item_id, amount, unscaled_amount", "round = ? AND superseded = 0", (rnd,)
            ):
                out.setdefault(str(claim_id), {})[str(item_id)] = (Decimal(amount), Decimal(unscaled))
        return out

    def active_hashes(self, claim_ids: Iterable[str] | None) -> dict[str, str]:
        """claim id -> content hash of the commit in force, for `claim_ids` this ledger holds (None: every claim; a
        run's scratch ledger: the claims it decided)."""
        sql = "SELECT claim_id, content_hash FROM commits WHERE superseded_by IS NULL"
        if claim_ids is None:
            return {str(c): str(h) for c, h in self.db.query(sql)}
        wanted, out = list(claim_ids), {}
        for at in range(0, len(wanted), 500):
            page = wanted[at : at + 500]
            marks = ", ".join("?" * len(page))
            out.update({str(c): str(h) for c, h in self.db.query(f"{sql} AND claim_id IN ({marks})", page)})
        return out

    def round_commits(self, rounds: Iterable[str]) -> list[int]:
        """The commits with active grants in `rounds`, in commit order: what a round's scaling counts besides a
        run's own (`batch`'s foresight of a round that already holds an earlier run's grants)."""
        seqs: set[int] = set()
        for rnd in rounds:
            seqs.update(
                int(s) for (s,) in self.db.query("SELECT DISTINCT commit_seq FROM grants WHERE round = ? AND superseded = 0", (rnd,))
            )
        return sorted(seqs)

    def _pages(self, cols: str, where: str, params: Sequence[Any], page: int = 1000) -> Iterator[tuple[Any, ...]]:
        """(id, *cols) of the grants matching `where`, by id, a page at a time: flat memory on any backend."""
        last = -1
        while True:
            rows = self.db.query(f"SELECT id, {cols} FROM grants WHERE {where} AND id > ? ORDER BY id LIMIT {page}", (*params, last))  # noqa: S608
            if not rows:
                return
            for row in rows:
                yield (int(row[0]), *row[1:])
            last = int(rows[-1][0])

    # --- audit -------------------------------------------------------------------------

    def _audit(self, audit: Audit | None, outcome: str, done: Mapping[str, Any]) -> None:
        """The audit entry of a write, inside the write's transaction (the caller holds the lock)."""
        if audit is not None:
            self._insert_audit(audit.actor, audit.roles, audit.action, audit.target, outcome, {**audit.detail, **done})

    def _insert_audit(self, actor: str, roles: Sequence[str], action: str, target: str, outcome: str, detail: Mapping[str, Any]) -> int:
        return self.db.insert(
            "INSERT INTO audit (at, actor, roles, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (_now(), actor, ",".join(roles), action, target, outcome, json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)),
            "id",
        )

    def record_audit(self, actor: str, roles: Sequence[str], action: str, target: str, outcome: str, detail: Mapping[str, Any]) -> int:
        """One audit entry on its own (a refused write, a reload): who (`actor`, with the `roles` it acted in) did `action`
        on `target`, with what `outcome`, and `detail` (JSON: what was asked). Its own transaction, in the ledger's lock.
        A write done through `commit`, `reverse` or `record_finding` with `audit=` is audited in the write's transaction."""
        with self.db.locked():
            return self._insert_audit(actor, roles, action, target, outcome, detail)

    def audit_log(self, *, actor: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """The latest audit entries (newest last), of one actor or all; at most `limit` (a whole number, 0 or more: -1
        was every entry, SQL's "no limit", and 1.5 or True one)."""
        refuse_count(limit, "audit_log", "limit", 0)
        sql = "SELECT id, at, actor, roles, action, target, outcome, detail FROM audit"
        params: list[Any] = []
        if actor is not None:
            sql += " WHERE actor = ?"
            params.append(actor)
        rows = self.db.query(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
        cols = ("id", "at", "actor", "roles", "action", "target", "outcome", "detail")
        out = [dict(zip(cols, r, strict=True)) for r in reversed(rows)]
        for entry in out:
            entry["roles"] = [r for r in str(entry["roles"]).split(",") if r]
            entry["detail"] = json.loads(entry["detail"])
        return out

    @in_engine_context
    def verify(self, policy: CompiledPolicy | Sequence[CompiledPolicy]) -> list[str]:
        """Check every cap and limit against the active grants; returns the violations found (none expected).

        With several versions of the policy, a cap or limit scope is held to the ceiling of the version
        that made the latest grant in it (every commit kept the scope's total, history included, within
        its own version's ceiling); grants of a version not given are held to the version covering their
        funding year, else the newest given.
        """
        versions = versions_given(policy, "verify")
        if not versions:
            raise LedgerError(msg("ledger.verify_policy"))
        by_hash = {v.content_hash: v for v in versions}
        # (a computed ceiling depends on each item's facts: not checked here, each grant was held to its own)
        ceilings = {
            v.content_hash: {c.id: c for r in v.rules for c in r.caps if c.per is not None and c.computed is None} for v in versions
        }
        limits = {v.content_hash: {lim.id: lim for r in v.rules for lim in r.limits} for v in versions}
        newest = max(versions, key=lambda v: v.funding_years)
        usage = Usage()
        last: dict[tuple[str, str, Any], str] = {}  # (kind, id, scope) -> the hash of the version of its latest grant
        for row in self._pages(_GRANT_COLS + ", policy_hash", "superseded = 0", ()):
            grant = _grant_from_row(*row[1:8])
            usage.add(grant)
            made_by = by_hash.get(row[8])
            if made_by is None:
                made_by = next((v for v in versions if v.covers(grant.funding_year)), newest)
            for c in grant.consumes:
                last[(c.kind, c.id, c.scope)] = made_by.content_hash
        problems: list[str] = []  # each a `Msg`, said by the caller in the reader's language
        # a cap whose key a revision changed (`per`): grants recorded under a key of another shape count no more
        # against it (a navigation cap keyed anew by applicant and project gave its ceiling again); said, per cap
        # (each key held to the version that made its latest grant, as its ceiling is: an earlier version given keeps its
        # own keys)
        shapes = {v.content_hash: {c.id: len(c.per) for r in v.rules for c in r.caps if c.per is not None} for v in versions}
        stale: dict[str, tuple[int, int]] = {}  # cap id -> (keys of another shape, the shape it has now)
        for (cap_id, scope), _used in usage.caps.items():
            size = shapes[last.get(("cap", cap_id, scope), newest.content_hash)].get(cap_id)
            if size is not None and len(scope) != size:
                stale[cap_id] = (stale.get(cap_id, (0, size))[0] + 1, size)
        problems.extend(msg("ledger.verify.cap_key_changed", cap=c, n=n, size=size) for c, (n, size) in sorted(stale.items()))
        # (each said by its own words and clause, its scope as its values: an English id and a Python list were a clerk's)
        for (cap_id, scope), used in sorted(usage.caps.items(), key=str):
            cap = ceilings[last.get(("cap", cap_id, scope), newest.content_hash)].get(cap_id)
            if cap is not None and used > cap.ceiling:
                said = {"cap": cap_id, "says": cap.says, "cites": cap.cites, "scope": _scope_said(scope)}
                problems.append(msg("ledger.verify.cap", **said, used=f"{used:,.2f}", ceiling=f"{cap.ceiling:,.2f}"))
        for (limit_id, scope), counted in sorted(usage.limits.items(), key=str):
            limit = limits[last.get(("limit", limit_id, scope), newest.content_hash)].get(limit_id)
            if limit is not None and (n := limit.longest(counted)) > limit.times:  # (in a row, for a consecutive limit)
                said = {"limit": limit_id, "says": limit.says, "cites": limit.cites, "scope": _scope_said(scope)}
                problems.append(msg("ledger.verify.limit", **said, n=n, most=limit.times))
        dup = self.db.query(
            "SELECT claim_id, item_id, count(*) FROM grants WHERE superseded = 0 GROUP BY claim_id, item_id HAVING count(*) > 1"
        )
        problems.extend(msg("ledger.verify.granted_twice", claim=c, item=i, n=n) for c, i, n in dup)
        active = self.db.query("SELECT claim_id, count(*) FROM commits WHERE superseded_by IS NULL GROUP BY claim_id HAVING count(*) > 1")
        problems.extend(msg("ledger.verify.active_commits", claim=c, n=n) for c, n in active)
        # funds returned are at most what was granted: a round scaled anew after a reversal can lower the grant under it
        returned: dict[int, Decimal] = {}
        for gid, amount in self.db.query("SELECT grant_id, returned FROM reversals WHERE withdrawn IS NULL ORDER BY id"):
            returned[int(gid)] = returned.get(int(gid), Decimal(0)) + Decimal(amount)
        for gid in sorted(returned):
            for c, i, granted in self.db.query("SELECT claim_id, item_id, amount FROM grants WHERE id = ?", (gid,)):
                if returned[gid] > Decimal(granted):
                    problems.append(
                        msg("ledger.verify.returned_more", claim=c, item=i, returned=format_money(returned[gid]), granted=granted)
                    )
        return problems


_SCALE_MODES = ("floor", "half_up", "half_even")


def rank_round(
    claims: Iterable[tuple[CompiledPolicy, Claim]], base: Ledger | None, round_label: str | None
) -> dict[str, dict[str, Verdict]]:
    """The verdicts of the rules' round selections (engine.deciding.selection) for a round of claims, in round
    order: each decided on its own into a scratch ledger over `base` (as a run that only decides would: earlier
    claims of the round are history to later ones), its eligible items ranked. A claim that cannot be decided
    takes no place (committing it reports why); a repeated claim id keeps its first place."""
    ranking = RoundSelection()
    with (
        tempfile.TemporaryDirectory(prefix="policy-engine-ranking-") as tmp,
        Ledger(f"sqlite:///{Path(tmp) / 'ranking.sqlite'}") as scratch,
    ):
        for policy, claim in claims:
            try:
                result = scratch.commit(policy, claim, round=round_label, base=base, trace=False)
            except (EngineError, LedgerError):
                continue
            if result.status != "committed":
                continue
            items = {i["item"]: (i["status"], Decimal(i["amount"])) for i in result.decision["items"]}
            ranking.add(policy, claim, items, result.round)
    return ranking.verdicts()


def _cents(value: Decimal, what: str) -> int:
    """`value` in cents (money in the ledger is kept to the cent); LedgerError if it has a finer part."""
    cents = value.scaleb(2)
    if not cents.is_finite() or cents != cents.to_integral_value():
        raise LedgerError(msg("ledger.budget.cents", what=what, value=value))
    return int(cents)


def _pack(text: str) -> bytes:
    """A decision's JSON text as stored. (Its spacing is `json.dumps`' own; commits before stored compact JSON:
    both read back as the same decision.)"""
    return zlib.compress(text.encode("utf-8"), 6)


def _unpack(blob: bytes) -> dict[str, Any]:
    value = json.loads(zlib.decompress(blob).decode("utf-8"))
    assert isinstance(value, dict)
    return value
