"""A policy ready to decide: the policy language's load pipeline, then its rules compiled to Python
functions at once (issue 6), so that no claim pays for that. `engine.load_policy` is this one."""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

from engine.core.errors import PolicyError, Problem
from engine.core.i18n import msg
from engine.deciding.evaluator import prepare
from engine.language.load import compile_policy_file, compile_policy_text
from engine.language.model import CompiledPolicy
from engine.language.source import decode_utf8

#: the policies as `load_policy` gave them, by object (a copy changed in memory, `dataclasses.replace`, is another)
_AS_LOADED: weakref.WeakValueDictionary[int, CompiledPolicy] = weakref.WeakValueDictionary()


def as_its_file_gives_it(policy: CompiledPolicy) -> bool:
    """Whether `policy` is what `load_policy` read from its file (unchanged in memory since): another process loading
    that file again, if it still hashes so, has the same policy (engine.records.spawned)."""
    return _AS_LOADED.get(id(policy)) is policy


def load_policy(path: str | Path) -> CompiledPolicy:
    """Load, validate and compile a policy file, its rules ready to decide. Raises PolicyError listing every
    problem found."""
    if str(path) != "" and Path(path).is_dir():  # (a folder was "not a regular file": said, not where versions are read)
        said = msg("loading.file.not_regular", kind=msg("loading.file.kind.folder"))
        problem = Problem(said, file=str(path), code="not_a_file", expected=msg("loading.file.folder_of_versions"))
        raise PolicyError([problem], msg("loading.summary.cannot_read"))
    policy = compile_policy_file(path)
    prepare(policy)
    _AS_LOADED[id(policy)] = policy
    return policy


def load_policy_text(text: str | bytes, file: str = "<string>") -> CompiledPolicy:
    """Like load_policy, for YAML text (relative paths resolve against the current directory). Bytes are read as
    UTF-8 as a policy file's are (a web framework's upload: `loads_json` takes them too), a byte that is not UTF-8
    the same PolicyError placing it; anything else a TypeError saying what to give (it was "'NoneType' object has no
    attribute 'encode'")."""
    if not isinstance(text, str):
        text = _policy_text(text, file)
    policy = compile_policy_text(text, file)
    prepare(policy)
    return policy


def _policy_text(given: Any, file: str) -> str:
    if isinstance(given, bytes | bytearray | memoryview):
        return decode_utf8(bytes(given), file)
    raise TypeError(msg("core.not_policy_text", kind=type(given).__name__))
