"""The outputs' process of a run that cannot fork: `python -m engine.records.spawned FD`, a fresh interpreter.

A run in a program with other threads (an embedding program's web framework, a GUI) is not forked: a lock another
thread holds would stay held in the copy (batch._fork_context). It made every output after deciding, in its own
process. Here the same outputs' process (`batch._outputs_process`) is started as a new interpreter instead, given
over a socket what a forked one inherits: each policy version by its file (loaded again, and refused unless it still
hashes as the run's did), the run's ledger by its URL, the language, the summary so far. It then works as the forked
one does, beside deciding, and the run keeps what it makes on the same terms.

Only for what can be given so: policies loaded from their files and not changed since in memory (`load_policy`
marks them: a copy with another budget, `dataclasses.replace`, is not one); a ledger another process can open (not
SQLite in memory). POSIX only (the socket is handed over as an inherited descriptor); elsewhere the run makes every
output after deciding, as before.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
from multiprocessing import spawn
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from engine.core.i18n import language, msg, set_language
from engine.deciding.ready import as_its_file_gives_it, load_policy
from engine.deciding.versions import PolicySet
from engine.language.model import CompiledPolicy
from engine.records.ledger import Ledger


@dataclasses.dataclass(frozen=True)
class Recipe:
    """What a spawned outputs' process is given in place of what a forked one inherits."""

    policies: tuple[tuple[str, str], ...]  # each version's (file, content hash), in the set's order
    language: str
    #: `_outputs_process`'s arguments between the versions and `dry`: out, raw path, summary, report, its language
    args: tuple[Path, Path, Any, bool, str]
    dry: dict[str, Any] | None  # the `_DryRun`'s fields but its versions, its ledger as `base_url` / `busy_seconds`
    processes: int | None  # its last: the run's `output_processes`


class Child:
    """A spawned process, as `_EarlyOutputs` ends one (a `multiprocessing.Process`'s `kill`, `join`, `is_alive`)."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen

    def kill(self) -> None:
        self.popen.kill()

    def join(self, timeout: float | None = None) -> None:
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            pass

    def is_alive(self) -> bool:
        return self.popen.poll() is None


def recipe(versions: PolicySet, args: tuple[Path, Path, Any, bool, str], dry: Any, processes: int | None) -> Recipe | None:
    """The recipe for `_outputs_process(conn, None, versions, *args, dry, processes)`; None where it cannot be given
    so."""
    if not all(as_its_file_gives_it(p) and os.path.isfile(p.file) for p in versions.versions):
        return None
    given = None
    if dry is not None:
        given = {f.name: getattr(dry, f.name) for f in dataclasses.fields(dry) if f.name not in ("versions", "base")}
        base: Ledger | None = dry.base
        if base is not None and ":memory:" in base.url:  # (another process cannot open it)
            return None
        given.update(base_url=base.url if base is not None else None, busy_seconds=base.busy_seconds if base is not None else None)
    policies = tuple((os.path.abspath(p.file), p.content_hash) for p in versions.versions)
    return Recipe(policies, language(), args, given, processes)


def start(given: Recipe) -> tuple[Child, Connection] | None:
    """The process started, and the run's end of its socket, the recipe sent; None where it cannot be."""
    if os.name != "posix":
        return None
    ours, theirs = socket.socketpair()
    here = Connection(ours.detach())
    there = theirs.detach()
    root = str(Path(__file__).resolve().parents[2])  # (where `engine` is imported from: the run's, whatever its path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
    try:
        popen = subprocess.Popen(  # noqa: S603 - this interpreter, this module, a descriptor number
            [spawn.get_executable(), "-m", "engine.records.spawned", str(there)],
            pass_fds=(there,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=env,
        )
    except OSError:
        here.close()
        return None
    finally:
        os.close(there)
    try:
        here.send(given)
    except OSError:
        here.close()
        popen.kill()
        popen.wait()
        return None
    return Child(popen), here


def main(argv: list[str]) -> int:
    """The spawned process: the recipe read, then `_outputs_process` as a forked one runs it. A policy file that no
    longer hashes as the run's did is said to the run as a failure (it then writes every output itself)."""
    from engine.records.batch import outputs_not_forked

    conn = Connection(int(argv[0]))
    given: Recipe = conn.recv()
    set_language(given.language)
    try:
        versions = PolicySet(tuple(map(_same, given.policies)))
        fields, base = None, None
        if given.dry is not None:
            fields = dict(given.dry)
            url, busy = fields.pop("base_url"), fields.pop("busy_seconds")
            base = Ledger(url, create=False, busy_seconds=busy) if url else None
    except Exception as exc:  # (said as `_outputs_process` says its own failures)
        conn.send(("failed", exc.said if isinstance(exc, _Changed) else f"{type(exc).__name__}: {exc}"))
        return 1
    outputs_not_forked(conn, versions, given.args, fields, base, given.processes)
    return 0


class _Changed(Exception):
    def __init__(self, file: str) -> None:
        self.said = msg("batch.early_policy_changed", file=file)
        super().__init__(file)


def _same(given: tuple[str, str]) -> CompiledPolicy:
    """The version the run decides by, loaded again from its file; `_Changed` if the file no longer hashes so."""
    file, digest = given
    policy = load_policy(file)
    if policy.content_hash != digest:
        raise _Changed(file)
    return policy


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
