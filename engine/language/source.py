"""Stage 1, load: YAML (or JSON) text into plain data plus a map of source positions.

Why not `yaml.safe_load`: it silently keeps the last of two duplicate keys (a
second `rate:` would change money), reads `no` as False and `2021-01-01` as a
date, turns `0.1` into a binary float, and expands aliases without bound.
Here we compose the node graph with PyYAML's safe composer and build the data
ourselves, so each of those is decided on purpose:

* duplicate mapping keys are an error;
* only `true`/`false` are booleans; `yes`, `no`, `on`, `off` stay strings
  (the schema then says "expected a boolean" where one was meant);
* unquoted dates stay strings, checked later by the schema's `format: date`;
* numbers with a fraction become `Decimal` from their exact text;
* size, nesting depth and the number of constructed nodes are bounded, so an
  alias bomb ("billion laughs") fails fast with a clear error;
* the values a document *writes* are counted on libyaml's event stream before
  any node is built, so a 2 MiB file of tiny values (`k1: 1` lines, a flow list
  `[1,1,…]`) fails in milliseconds instead of being composed (seconds, hundreds of MB);
* an integer or decimal with an underscore anywhere but between two digits
  (`1_`, `1__0`, `1_.5_`) is an error, not a number.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from engine.core.characters import BIDI, FORMAT_ASTRAL, FORMAT_BMP, HIDDEN_BREAKS, UNSHOWN
from engine.core.errors import InputLimitError, PathPart, PolicyError, Problem
from engine.core.i18n import FALLBACK, Msg, catalogue, msg
from engine.language import kinds

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 40
MAX_NODES = 200_000
#: characters of text a document may expand to (its aliases' texts counted at each use): 4x the largest file
MAX_EXPANDED_CHARS = 4 * MAX_BYTES
#: Values a policy file may write before alias expansion (`parse_yaml(..., max_nodes=MAX_POLICY_NODES)`). The largest
#: policy shipped in policies/ writes about 2,300 (47 kB); 50,000 leaves twenty times that, and a 2 MiB document of
#: tiny values is refused after counting 50,000 events instead of being composed.
MAX_POLICY_NODES = 50_000

Positions = dict[tuple[PathPart, ...], tuple[int, int]]

_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_DECIMAL = re.compile(r"^[-+]?([0-9][0-9_]*)?\.[0-9][0-9_]*$|^[-+]?[0-9][0-9_]*\.$")
#: An underscore in a number stands between two digits, as in Python (1_000_000, 1_0.5_0); `1_`, `1__0`, `1_.5_` are errors.
_STRAY_UNDERSCORE = re.compile(r"(?<![0-9])_|_(?![0-9])")
#: Longer numbers are refused, not converted: int() of thousands of digits is slow or refused by Python.
MAX_NUMBER_CHARS = 40
#: Tags a plain YAML document resolves to by itself; any other explicit tag (`!!python/object`, `!!binary`, `!foo`) is refused.
_PLAIN_TAGS = frozenset(
    "tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq", "merge", "value", "yaml")
)
_NULL = {"", "~", "null", "Null", "NULL"}
_BAD_NUMBER = object()  # what `_Builder.scalar` returns for `1__0`: build() reports it


@dataclass(frozen=True, slots=True)
class Source:
    """A loaded document: its data, where each value stands, and its bytes' identity."""

    data: Any
    positions: Positions
    file: str
    text: str

    def where(self, path: tuple[PathPart, ...]) -> tuple[int | None, int | None]:
        """Line and column (1-based) of the value at `path`, or of its nearest parent."""
        probe = tuple(path)
        while True:
            if probe in self.positions:
                return self.positions[probe]
            if not probe:
                return (None, None)
            probe = probe[:-1]

    def problem(self, path: tuple[PathPart, ...], message: str, **kw: Any) -> Problem:
        line, col = self.where(path)
        return Problem(message=message, path=tuple(path), file=self.file, line=line, column=col, **kw)


class FileRefused(Exception):
    """A file that is not read: missing, not a regular file, too large, or outside the policy's folder."""

    def __init__(self, message: Msg, code: str = "io") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _read_regular(path: Path, max_bytes: int, *, inside: Path | None = None) -> bytes:
    """The bytes of a regular file of at most `max_bytes`.

    A device (`/dev/zero`, `/dev/random`), a FIFO, a socket or a folder is refused from its `stat`
    before it is opened (opening some devices acts, reading a FIFO waits for a writer), and again
    from the opened file (non-blocking) in case it was swapped in between; a file is never read
    past `max_bytes`. With `inside` (a resolved folder holding the resolved `path`), the file is
    opened from that folder one name at a time, following no symbolic link (`_open_inside`).
    """
    try:
        fd = _open_inside(inside, path) if inside is not None and _WALKS else _open_regular(path)
    except OSError as exc:
        raise FileRefused(msg("loading.file.cannot_read", reason=_os_reason(exc))) from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused(msg("loading.file.not_regular", kind=_kind(st.st_mode)), "not_a_file")
        if st.st_size > max_bytes:
            raise FileRefused(msg("loading.file.too_large", size=st.st_size, limit=max_bytes), "too_large")
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:  # grew since its stat
        raise FileRefused(msg("loading.file.grew", limit=max_bytes), "too_large")
    return raw


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
#: Whether this system opens a file relative to an open folder without following links (every POSIX one).
_WALKS = os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd and hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY")


def _refuse_special(st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise FileRefused(msg("loading.file.not_regular", kind=_kind(st.st_mode)), "not_a_file")


def _open_regular(path: Path) -> int:
    _refuse_special(os.stat(path))
    return os.open(path, _OPEN_FLAGS)


def _open_inside(folder: Path, path: Path) -> int:
    """Open `path` from `folder`, one name at a time and following no symbolic link.

    `read_beside` checked that `path`, with every link resolved, lies in `folder`; a name swapped for a link
    after that check (someone who can write in the policy's folder, racing the load) would lead out of it if
    the resolved path were opened by name. Opened this way, such a link fails to open instead.
    """
    names = path.relative_to(folder).parts
    if not names:  # the folder itself
        return _open_regular(path)
    at = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in names[:-1]:
            inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=at)
            os.close(at)
            at = inner
        _refuse_special(os.stat(names[-1], dir_fd=at, follow_symlinks=False))
        return os.open(names[-1], _OPEN_FLAGS | os.O_NOFOLLOW, dir_fd=at)
    finally:
        os.close(at)


#: The reasons a file cannot be opened that a person can act on, in the reader's language (`loading.file.os.<name>`).
_OS_REASONS = {errno.ENOENT: "not_found", errno.EACCES: "no_permission", errno.EPERM: "no_permission", errno.EISDIR: "folder"}


def _os_reason(exc: OSError) -> Msg | str:
    """Why the system would not open a file: "No such file or directory" said as `loading.file.os.not_found`."""
    name = _OS_REASONS.get(exc.errno or 0)
    if name is None:
        return str(exc.strerror)
    worded = msg(f"loading.file.os.{name}")
    return worded if str(worded) == str(exc.strerror) else str(exc.strerror)


def _kind(mode: int) -> Msg:
    for test, name in ((stat.S_ISDIR, "folder"), (stat.S_ISCHR, "device"), (stat.S_ISBLK, "device"), (stat.S_ISFIFO, "fifo")):
        if test(mode):
            return msg(f"loading.file.kind.{name}")
    if stat.S_ISLNK(mode):  # (only `_open_inside` stats a name without following it)
        return msg("loading.file.kind.link")
    return msg("loading.file.kind.socket") if stat.S_ISSOCK(mode) else msg("loading.file.kind.special")


def read_text(path: str | Path, *, max_bytes: int = MAX_BYTES) -> str:
    """Read a regular file as strict UTF-8, with a size bound and a clear error for either (devices and FIFOs refused)."""
    try:
        if isinstance(path, str) and not path.strip():  # (Path("") is the current folder: it was "not a regular file (a folder)")
            raise FileRefused(msg("loading.file.no_name"), "not_a_file")
        raw = _read_regular(Path(path), max_bytes)
    except FileRefused as exc:
        error = InputLimitError if exc.code == "too_large" else PolicyError
        summary = msg("loading.summary.too_large") if exc.code == "too_large" else msg("loading.summary.cannot_read")
        raise error([Problem(exc.message, file=str(path), code=exc.code)], summary) from None
    return decode_utf8(raw, str(path))


def read_beside(base_dir: str | Path, name: str, *, max_bytes: int = MAX_BYTES) -> str:
    """A file a policy names (its `source_text`, a template), read only from inside the policy's own folder.

    `name` is relative to `base_dir` (the policy file's folder): no absolute path, no `..`, no symbolic
    link leading out of the folder; then a regular UTF-8 file of at most `max_bytes` (see `_read_regular`).
    Raises `FileRefused` saying which rule the name breaks; the caller locates it in the policy.
    """
    if not isinstance(name, str) or not name.strip() or "\x00" in name:
        raise FileRefused(msg("loading.file.no_name"), "path")
    name = name.replace("\\", "/")  # (texts\measures.txt, as an officer on Windows writes it: one folder on every system)
    rel = Path(name)
    if rel.is_absolute() or name.startswith("~"):
        raise FileRefused(msg("loading.file.absolute", name=repr(name)), "path")
    if ".." in rel.parts:
        raise FileRefused(msg("loading.file.goes_up", name=repr(name)), "path")
    try:
        base = Path(base_dir).resolve()
        target = (base / rel).resolve()
    except (OSError, RuntimeError) as exc:  # a symbolic link loop
        raise FileRefused(msg("loading.file.unresolved", name=repr(name), reason=str(exc)), "path") from None
    if not target.is_relative_to(base):
        raise FileRefused(msg("loading.file.outside", name=repr(name), target=str(target)), "path")
    raw = _read_regular(target, max_bytes, inside=base)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileRefused(
            msg("loading.file.not_utf8_named", name=repr(name), byte=f"0x{raw[exc.start]:02x}", offset=exc.start), "encoding"
        ) from None


def decode_utf8(raw: bytes, path: str) -> str:
    """A policy's bytes as strict UTF-8; a byte that is not is a PolicyError placing it (a workbook said as one)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if kinds.is_workbook(raw):  # ("save it as UTF-8" is no help for a workbook: say what it is and what reads it)
            problem = Problem(
                msg("loading.not_text", kind=kinds.named("workbook"), fix=kinds.read_by("workbook")),
                file=path,
                code="not_text",
                expected=msg("loading.not_text_expected"),
            )
            raise PolicyError([problem], msg("loading.summary.cannot_read")) from None
        line = raw[: exc.start].count(b"\n") + 1
        raise PolicyError(
            [
                Problem(
                    msg("loading.file.not_utf8", byte=f"0x{raw[exc.start]:02x}", offset=exc.start),
                    file=path,
                    line=line,
                    code="encoding",
                    expected=msg("loading.file.utf8_expected"),
                )
            ],
            msg("loading.summary.cannot_decode"),
        ) from None


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.positions: Positions = {}
        self.nodes = 0
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, path: tuple[PathPart, ...], depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            message = msg("loading.yaml.expands", limit=MAX_NODES)
            raise InputLimitError([self._at(node, path, message, "too_many_nodes")], msg("loading.summary.too_large"))
        if depth > MAX_DEPTH:
            too_deep = self._at(node, path, msg("loading.yaml.too_deep", limit=MAX_DEPTH), "too_deep")
            raise InputLimitError([too_deep], msg("loading.summary.too_deep"))
        self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if node.tag not in _PLAIN_TAGS:
            negated = _NEGATED_FACT.match(node.tag) if isinstance(node, yaml.ScalarNode) else None
            if negated is not None:  # `test: !item.x`: "not" as C writes it, which YAML reads as a tag
                fix = " ".join(("not", negated.group(1), str(node.value))).strip()
                self._problem(node, path, msg("loading.yaml.tag_not", tag=repr(node.tag)), "tag", msg("loading.yaml.tag_not_fix", fix=fix))
                return None
            self._problem(node, path, msg("loading.yaml.tag", tag=repr(node.tag)), "tag")
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            strays = self._comma_strays(node, path) if node.flow_style else ()
            for n, (key_node, value_node) in enumerate(node.value):
                if n in strays:
                    continue
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self._problem(key_node, path, msg("loading.yaml.merge"), "merge")
                    continue
                key = self.build(key_node, path + ("<key>",), depth + 1)
                if not isinstance(key, str | int):
                    self._problem(key_node, path, msg("loading.yaml.key_type", name=repr(key)), "key_type")
                    continue
                # a key `true:` / `false:` (a table keyed by a yes/no fact) is held as its YAML text; the compiler
                # types table keys by what the table is keyed by
                skey = ("true" if key else "false") if isinstance(key, bool) else str(key)
                if skey in out:
                    first = self.positions.get(path + (skey,), (None, None))
                    self._problem(
                        key_node,
                        path + (skey,),
                        msg("loading.yaml.duplicate_key", name=repr(skey), line=str(first[0])),
                        "duplicate_key",
                    )
                    continue
                out[skey] = self.build(value_node, path + (skey,), depth + 1)
                if isinstance(value_node, yaml.CollectionNode) and not value_node.flow_style:
                    # a block mapping or list starts at its first entry, a line below: a problem about it as a whole
                    # (a form it does not fit, a value left out of it) is said at its key (`caps:`), not that entry
                    self.positions[path + (skey,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            self.positions.pop(path + ("<key>",), None)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, path + (i,), depth + 1) for i, child in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        value = self.scalar(node)
        if node.style == '"' and (bad := _ESCAPED.search(node.value)) is not None:
            # a double-quoted text's escapes ("\e", "\x1b", "\u202e") make what the text may not hold as itself
            ch = bad.group()
            name = unicodedata.name(ch, "")
            character = f"U+{ord(ch):04X}{' ' + name if name else ''}"
            self._problem(
                node, path, msg("loading.yaml.escaped", character=character), "hidden_character", msg("loading.yaml.escaped_expected")
            )
            return None
        if value is _BAD_NUMBER:
            digits = node.value.replace("_", "")
            self._problem(
                node,
                path,
                msg("loading.yaml.underscore", value=repr(node.value)),
                "number_format",
                msg("loading.yaml.underscore_expected", digits=digits),
            )
            return None
        if isinstance(value, int | Decimal) and not isinstance(value, bool) and len(node.value) > MAX_NUMBER_CHARS:
            self._problem(node, path, msg("loading.yaml.number_too_long", limit=MAX_NUMBER_CHARS), "too_long")
            return None
        return value

    def _comma_strays(self, node: yaml.MappingNode, path: tuple[PathPart, ...]) -> set[int]:
        """In a flow mapping an unquoted comma ends the text: `{en: a, b}` is `en: a` and a key `b` with no value.
        Each run of such keys after a plain text is one problem, at its first key, with the text quoted as the fix;
        the indexes of those keys are returned (left out of the data). One pass over the mapping's pairs."""
        pairs, i = node.value, 1
        out: set[int] = set()
        while i < len(pairs):
            if not _stray(*pairs[i]):
                i += 1
                continue
            j = i
            while j < len(pairs) and _stray(*pairs[j]):
                j += 1
            key_node, value_node = pairs[i - 1]
            if isinstance(key_node, yaml.ScalarNode) and isinstance(value_node, yaml.ScalarNode) and value_node.style is None:
                out.update(range(i, j))
                names = [str(pairs[k][0].value) for k in range(i, j)]
                shown = [f"`{n}`" for n in names]
                number = "one" if len(names) == 1 else "many"
                text = value_node.value
                for n in names:  # "CNY 200,000" keeps its comma as written; "a, b" its space
                    text += ("," if text[-1:].isdigit() and len(n) == 3 and n.isdigit() else ", ") + n
                pair = f"{key_node.value}: {value_node.value}"
                # {max: 3,000}, and inside an expression: {doc: x, when: amount >= 200,000}
                # (the last group may carry its unit or cents: `per_unit: 1,000元`, `max: 300,000.00`)
                groups = all(len(n) == 3 and n.isdigit() for n in names[:-1]) and _LAST_GROUP.fullmatch(names[-1])
                if _ENDS_IN_NUMBER.search(value_node.value) and groups:
                    message = msg(f"loading.yaml.comma_number_{number}", names=shown, pair=pair)
                    fix = msg("loading.yaml.comma_fix", fix=f"{key_node.value}: {value_node.value}{''.join(names)}")
                else:
                    message = msg(f"loading.yaml.comma_text_{number}", names=shown, pair=pair)
                    quoted = f"{key_node.value}: {json.dumps(text, ensure_ascii=False)}"
                    fix = msg("loading.yaml.comma_fix", fix=quoted)
                    if _CJK.search(text):
                        chinese = f"{key_node.value}: {'，'.join([value_node.value, *names])}"
                        fix = msg("loading.yaml.comma_fix_cjk", fix=quoted, alternative=chinese)
                where = path + (names[0],)
                self._problem(pairs[i][0], where, message, "flow_comma", fix)
            i = j
        return out

    def scalar(self, node: yaml.ScalarNode) -> Any:
        text = node.value
        if node.style is not None and node.style in "'\"|>":
            return text  # quoted or block scalars are always strings
        if node.tag not in (
            "tag:yaml.org,2002:str",
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:float",
            "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:null",
            "tag:yaml.org,2002:timestamp",
        ):
            return text
        if text in _NULL:
            return None
        if text in ("true", "True", "TRUE"):
            return True
        if text in ("false", "False", "FALSE"):
            return False
        is_int = _INT.match(text) is not None
        if not is_int and _DECIMAL.match(text) is None:
            return text
        if len(text) > MAX_NUMBER_CHARS:
            return Decimal(0)  # refused by build(): never convert thousands of digits
        if "_" in text and _STRAY_UNDERSCORE.search(text):
            return _BAD_NUMBER  # refused by build(): PyYAML would read `1__0` as 10 and `1_.5_` as 1.5
        if is_int:
            value = int(text.replace("_", ""))
            # `-0` keeps its sign (as a decimal) so a claim's check can refuse it: int() would make it a plain 0
            return Decimal(text.replace("_", "")) if value == 0 and text.startswith("-") else value
        return Decimal(text.replace("_", ""))

    def _at(self, node: yaml.Node, path: tuple[PathPart, ...], message: Msg, code: str, expected: Msg | None = None) -> Problem:
        """A problem pointing at `node` (line and column counted from 1)."""
        return Problem(
            message,
            path=path,
            file=self.file,
            line=node.start_mark.line + 1,
            column=node.start_mark.column + 1,
            expected=expected,
            code=code,
        )

    def _problem(self, node: yaml.Node, path: tuple[PathPart, ...], message: Msg, code: str, expected: Msg | None = None) -> None:
        self.problems.append(self._at(node, path, message, code, expected))


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
#: a value starting `!item.x` (or `!applicant.x`, `!claim.x`): an expression's "not" written as C writes it
_NEGATED_FACT = re.compile(r"^!((?:item|applicant|claim)\.[A-Za-z_][A-Za-z0-9_]*)$")


#: a number of one to three digits, alone or after an operator of an expression: "3", "amount >= 200" (not prose:
#: "CNY 200" before ",000" is text to quote)
_ENDS_IN_NUMBER = re.compile(r"(?:^|[<>=+\-*/(]\s*)\d{1,3}$")
#: the last group of digits of a number written with thousands separators, with its cents or its unit (000, 000.00, 000元)
_LAST_GROUP = re.compile(r"\d{3}(?:\.\d+)?\s*(?:元|万元|万)?")


def _stray(key: yaml.Node, value: yaml.Node) -> bool:
    """A plain key with no colon after it in a flow mapping (`b` in `{en: a, b}`): its value is the empty null
    that starts where the key ends (after `b: ` the value would start after the colon)."""
    return (
        isinstance(key, yaml.ScalarNode)
        and key.style is None
        and isinstance(value, yaml.ScalarNode)
        and value.tag == "tag:yaml.org,2002:null"
        and value.value == ""
        and (value.start_mark.line, value.start_mark.column) == (key.end_mark.line, key.end_mark.column)
    )


def _walk_check(node: yaml.Node, depth: int, file: str) -> None:
    """Reject deep nesting before building, iteratively (no recursion limit surprises)."""
    stack: list[tuple[yaml.Node, int]] = [(node, 0)]
    seen: set[int] = set()
    while stack:
        current, d = stack.pop()
        if d > MAX_DEPTH:
            raise InputLimitError(
                [
                    Problem(
                        msg("loading.yaml.too_deep", limit=MAX_DEPTH),
                        file=file,
                        line=current.start_mark.line + 1,
                        column=current.start_mark.column + 1,
                        code="too_deep",
                    )
                ],
                msg("loading.summary.too_deep"),
            )
        if id(current) in seen:
            continue  # an alias: its expansion is bounded by MAX_NODES while building
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            for k, v in current.value:
                stack.append((k, d + 1))
                stack.append((v, d + 1))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((c, d + 1) for c in current.value)


def _check_expansion(root: yaml.Node, file: str) -> None:
    """Count the values the document expands to, and the characters of its texts, before building any: an alias
    bomb fails in milliseconds. An alias of a long text counts its characters each time: 45,000 aliases of a 1.7 MB
    text were one value each, and the build, the checks and an error's words then went through 76 GB.

    Each distinct node is sized once (aliases share nodes), so this is linear in the text.
    """
    sizes: dict[int, tuple[int, int]] = {}
    active: set[int] = set()

    def fail(node: yaml.Node, message: Msg) -> InputLimitError:
        return InputLimitError(
            [Problem(message, file=file, line=node.start_mark.line + 1, column=node.start_mark.column + 1, code="too_many_nodes")],
            msg("loading.summary.too_large"),
        )

    def size(node: yaml.Node) -> tuple[int, int]:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise fail(node, msg("loading.yaml.alias_loop"))
        active.add(key)
        total, chars = 1, len(node.value) if isinstance(node, yaml.ScalarNode) else 0
        children = [c for kv in node.value for c in kv] if isinstance(node, yaml.MappingNode) else node.value
        for child in children if isinstance(node, yaml.MappingNode | yaml.SequenceNode) else ():
            n, c = size(child)
            total, chars = total + n, chars + c
            if total > MAX_NODES or chars > MAX_EXPANDED_CHARS:
                break
        active.discard(key)
        if total > MAX_NODES:
            raise fail(node, msg("loading.yaml.expands", limit=MAX_NODES))
        if chars > MAX_EXPANDED_CHARS:
            raise fail(node, msg("loading.yaml.expands_chars", limit=f"{MAX_EXPANDED_CHARS:,}"))
        sizes[key] = (total, chars)
        return total, chars

    size(root)  # recursion depth is bounded: composing stopped at MAX_DEPTH


class _Limit(Exception):
    """A limit passed while parsing, before anything is built: `code` is too_deep or too_many_nodes."""

    def __init__(self, code: str, message: Msg, mark: Any) -> None:  # a yaml.Mark (or libyaml's), or None
        super().__init__(message)
        self.code = code
        self.message = message
        self.mark = mark


def _too_deep(mark: Any) -> _Limit:
    return _Limit("too_deep", msg("loading.yaml.too_deep", limit=MAX_DEPTH), mark)


def _too_many(max_nodes: int, mark: Any) -> _Limit:
    return _Limit("too_many_nodes", msg("loading.yaml.writes_too_many", limit=max_nodes), mark)


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's pure-Python safe composer (used only without libyaml), stopping as soon as nesting passes
    MAX_DEPTH or the document has written `max_nodes` values -- before reading on."""

    _depth = 0
    _nodes = 0
    max_nodes = MAX_NODES

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        self._nodes += 1
        try:
            if self._depth > MAX_DEPTH + 1:
                raise _too_deep(self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            if self._nodes > self.max_nodes:
                raise _too_many(self.max_nodes, self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _libyaml_loader() -> Any:
    """libyaml's safe loader, if PyYAML has it and libyaml is recent enough to bound nesting itself (0.2.5+)."""
    loader = getattr(yaml, "CSafeLoader", None)
    try:
        from yaml import _yaml

        return loader if loader is not None and tuple(_yaml.get_version()) >= (0, 2, 5) else None
    except (ImportError, AttributeError):
        return None


_C_LOADER = _libyaml_loader()
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_LEAF = (yaml.ScalarEvent, yaml.AliasEvent)


def _scan_with_libyaml(text: str, max_nodes: int) -> None:
    """Check a document with libyaml before composing it, building nothing.

    libyaml first parses the whole text in C without making a Python object (`raw_parse`: about 0.1 s
    for 2 MiB), so a syntax error anywhere -- an unclosed quote on the last line -- is found at once.
    Then its event stream is walked only up to the first value past MAX_DEPTH or `max_nodes`: a
    2 MiB flow list of a million `1`s stops after `max_nodes` events instead of being composed
    (seconds and hundreds of MB of nodes).
    """
    raw = _C_LOADER(text)
    try:
        raw.raw_parse()
    except yaml.MarkedYAMLError as exc:
        if exc.problem != "exceeded maximum nesting depth":
            raise
        # libyaml's own bound (1000 levels): the walk below stops at MAX_DEPTH, where the nesting passes it
    finally:
        raw.dispose()
    depth = nodes = 0
    first_document: Any = None
    event: Any
    try:
        for event in yaml.parse(text, Loader=_C_LOADER):
            kind = type(event)
            if kind in _CLOSE:
                depth -= 1
            elif kind in _LEAF or kind in _OPEN:
                nodes += 1
                if depth > MAX_DEPTH:
                    raise _too_deep(event.start_mark)
                if nodes > max_nodes:
                    raise _too_many(max_nodes, event.start_mark)
                if kind in _OPEN:
                    depth += 1
            elif kind is yaml.DocumentStartEvent:
                if first_document is not None:  # what compose() says, without composing the first document
                    raise yaml.composer.ComposerError(
                        "expected a single document in the stream", first_document, "but found another document", event.start_mark
                    )
                first_document = event.start_mark
    except yaml.MarkedYAMLError as exc:
        if exc.problem != "exceeded maximum nesting depth":
            raise
        # In flow context ([[[[…) libyaml's scanner reads ahead past its 1000 levels before the parser hands
        # over the event at level 41: the nesting is too deep all the same, reported where libyaml stopped.
        raise _too_deep(exc.problem_mark or exc.context_mark) from None


def _compose_libyaml(text: str) -> Any:
    """Compose with libyaml (C, about 10x faster than PyYAML's own composer), once `_scan_with_libyaml`
    has passed the text. The nodes are the same as PyYAML's (positions included); libyaml marks a plain
    scalar's style '' where PyYAML says None, which is normalised here."""
    node = yaml.compose(text, Loader=_C_LOADER)
    if node is None:
        return None
    seen: set[int] = set()
    stack: list[yaml.Node] = [node]
    while stack:
        n = stack.pop()
        if id(n) in seen:  # an alias: the node was normalised where its anchor stands
            continue
        seen.add(id(n))
        if isinstance(n, yaml.ScalarNode):
            if n.style == "":
                n.style = None
        elif isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                stack.append(k)
                stack.append(v)
        else:
            stack.extend(n.value)
    return node


def _compose_python(text: str, max_nodes: int) -> Any:
    loader = _BoundedLoader(text)
    loader.max_nodes = max_nodes
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


#: A syntax error within this many characters of the start is checked for a quote closed too late (a token scan,
#: about 0.1 s per 100,000 tokens in libyaml); past it, the error is reported where the parser found it.
_QUOTE_HINT_CHARS = 256 * 1024


def _quote_closed_late(text: str, mark: Any) -> Any:
    """Where a quoted string opens that spans lines and closes on the line of the error at `mark`, or None.

    `version: "2020.1` without its closing quote runs on to the next `"` in the file (say `quantum: "0.01"`,
    18 lines down), and the parser stumbles there: the mistake is where the string opened.
    """
    if _C_LOADER is None or mark is None or mark.index > _QUOTE_HINT_CHARS:
        return None
    last = None
    try:
        for token in yaml.scan(text, Loader=_C_LOADER):
            if token.start_mark.index > mark.index:
                break
            if isinstance(token, yaml.ScalarToken) and token.style in ("'", '"'):
                last = token
    except yaml.YAMLError:
        pass  # the scanner's own error is past the parser's: what was scanned before it is enough
    if last is not None and last.start_mark.line < last.end_mark.line == mark.line:
        return last.start_mark
    return None


def _parser_words(text: str | None) -> Msg | str:
    """A phrase of the YAML parser ("did not find expected key") in the reader's language where the catalogue has
    it (`loading.yaml.parser.<words>`), else as the parser wrote it."""
    said = str(text or "")
    named = said.lower().replace("}", " brace ").replace("]", " bracket ").replace(":", " colon ").replace("'-'", " dash ")
    slug = re.sub(r"[^a-z]+", "_", named).strip("_")
    known = catalogue(FALLBACK).get("loading", {}).get("yaml", {}).get("parser", {})
    return msg(f"loading.yaml.parser.{slug}") if known.get(slug) == said else said


def _tab_at(text: str, mark: Any) -> Any:
    """Where the tab is on the line of `mark` (a tab used to indent), or None when that line has none before it."""
    if mark is None:
        return None
    lines = text.splitlines()
    for line_no in (mark.line, mark.line - 1):  # the parser may stop at the line after the tab
        if 0 <= line_no < len(lines) and "\t" in lines[line_no].split("#")[0]:
            return SimpleNamespace(line=line_no, column=lines[line_no].index("\t"))
    return None


def _tab_under(text: str, mark: Any) -> bool:
    """A tab where the parser stopped: a line that starts with a tab is "a character that cannot start any token"."""
    if mark is None:
        return False
    lines = text.splitlines()
    return bool(0 <= mark.line < len(lines) and lines[mark.line][mark.column : mark.column + 1] == "\t")


#: a line `key: …` (or `- key: …`): its indentation, the list item's dash, the key
_KEY_LINE = re.compile(r"^( *)(- +)?([A-Za-z_][\w.\-]*):(?:\s|$)")


def _indent_fix(text: str, mark: Any) -> Msg | None:
    """How to indent the line the parser stopped at, a key put off its sibling's column on the line before (`per:` a
    space short of `times:`, `amount:` two deeper than `who:`), or None when that is not what the lines show."""
    lines = text.splitlines()
    if mark is None or not 0 < mark.line < len(lines):
        return None
    here = _KEY_LINE.match(lines[mark.line])
    before = next((k for k in range(mark.line - 1, -1, -1) if lines[k].strip() and not lines[k].lstrip().startswith("#")), None)
    if before is None:
        return None
    above = _KEY_LINE.match(lines[before])
    if here is None or here.group(2) or above is None or mark.column != len(here.group(1)):
        return None
    if not lines[before].split(" #")[0].rstrip().partition(":")[2].strip():  # `limits:` opens a block: deeper is right
        return None
    want, now = len(above.group(1)) + len(above.group(2) or ""), len(here.group(1))
    if want == now:
        return None
    return msg(
        "loading.yaml.indent_fix", line=mark.line + 1, key=here.group(3), previous=before + 1, sibling=above.group(3), want=want, now=now
    )


#: a key followed by a full-width colon (a Chinese input method's ：), which YAML does not read as `key:`
_WIDE_COLON = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w.\-]*)\s*：")


def _wide_colon_at(text: str, marks: Iterable[Any]) -> Any:
    """Where a key is followed by a full-width colon on the lines of `marks` (the parser stops at the next
    line, or where the mapping it is in began), or None."""
    lines = text.splitlines()
    for mark in marks:
        for line_no in (mark.line, mark.line - 1) if mark is not None else ():
            found = _WIDE_COLON.match(lines[line_no]) if 0 <= line_no < len(lines) else None
            if found is not None:
                return SimpleNamespace(line=line_no, column=found.end() - 1, key=found.group(1))
    return None


#: in a `{ ... }` mapping, a key whose unquoted value holds `: ` (`en: note: at most ...`): YAML stops at it
_COLON_IN_VALUE = re.compile(r"(?:^|[{,])\s*([A-Za-z_][\w.\-]*):\s+([^\"'{},]*?:\s[^}]*)")


def _colon_in_flow_value(text: str, opened: Any) -> tuple[str, str] | None:
    """(the key, its value) of an unquoted value holding `: ` in the flow mapping opened at `opened`, or None."""
    if opened is None:
        return None
    lines = text.splitlines()
    if not 0 <= opened.line < len(lines) or lines[opened.line][opened.column : opened.column + 1] != "{":
        return None
    found = _COLON_IN_VALUE.search(lines[opened.line][opened.column :])
    return (found.group(1), found.group(2).strip()) if found is not None else None


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str, text: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    opened = exc.context_mark
    problem, context = _parser_words(exc.problem), _parser_words(exc.context)
    message: Msg = msg("loading.yaml.syntax", problem=problem if exc.problem else context)
    expected: Msg | None = None
    if exc.problem and exc.context and opened is not None:  # libyaml's problems are terse: say what was being read
        line, column = opened.line + 1, opened.column + 1
        message = msg("loading.yaml.syntax_while", problem=problem, context=context, line=line, column=column)
    late = None if exc.context == "while scanning a quoted scalar" else _quote_closed_late(text, mark)
    said = str(exc.problem or "")
    tab = (
        _tab_at(text, mark) if "tab" in said or "'\\t'" in said or _tab_under(text, mark) else None
    )  # libyaml: "a tab character"; PyYAML: '\t'
    if exc.context == "while scanning a quoted scalar" and opened is not None and mark is not None and "unexpected" in (exc.problem or ""):
        # The scanner only notices at the end of the file (or the next `---`): the mistake is where the quote opened.
        message = msg("loading.yaml.quote_never_closed", problem=problem, line=mark.line + 1)
        expected = msg("loading.yaml.quote_fix")
        mark = opened
    elif late is not None and mark is not None:
        message = msg("loading.yaml.quote_runs_on", line=mark.line + 1, problem=problem if exc.problem else context)
        expected = msg("loading.yaml.quote_fix")
        mark = late
    elif tab is not None:  # `\tper: [...]`: YAML indents with spaces only
        message, expected, mark = msg("loading.yaml.tab"), msg("loading.yaml.tab_fix"), tab
    elif (wide := _wide_colon_at(text, (mark, opened))) is not None:  # `max：30万`: said at its own line
        message, expected, mark = msg("loading.yaml.wide_colon", key=wide.key), msg("loading.yaml.wide_colon_fix", key=wide.key), wide
    elif "could not find expected ':'" in said and opened is not None:  # `max 30万`: where the key is, not the line after
        mark = opened
    elif (colon := _colon_in_flow_value(text, opened)) is not None:  # `{zh: …, en: note: …}`: quotes are wanted
        message, expected = (
            msg("loading.yaml.colon_in_value", key=colon[0], value=colon[1]),
            msg("loading.yaml.colon_in_value_fix", key=colon[0]),
        )
    elif expected is None and "expected" in said:  # `       per: …` a space short of `times:` above it: which column
        expected = _indent_fix(text, mark)
    return Problem(
        message,
        file=file,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
        code="syntax",
        expected=expected,
    )


#: what a YAML text may not hold anywhere, in a comment or a quoted text too (`engine.core.characters`): a line break
#: YAML reads and no editor shows (a line that reads as a comment can carry a live field after one), or an invisible
#: format character (a bidi control reorders what a reviewer sees). A BOM is its first character only.
_HIDDEN = re.compile(f"[{HIDDEN_BREAKS}{FORMAT_BMP}{FORMAT_ASTRAL}]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: what a double-quoted text's escapes may not make: a control character (a terminal acts on ESC, BEL...; tab and
#: line break aside) or a character `_HIDDEN` refuses written as itself
_ESCAPED = UNSHOWN


def hidden_character_problem(text: str, file: str) -> Problem | None:
    """The first character of `text` that reads otherwise than it displays, located as an editor counts lines."""
    found = _HIDDEN.search(text, 1 if text.startswith("\ufeff") else 0)
    if found is None:
        return None
    at, ch = found.start(), found.group()
    breaks = list(_LINE_BREAK.finditer(text, 0, at))
    line_start = breaks[-1].end() if breaks else 0
    kind = "break" if ch in HIDDEN_BREAKS else "bidi" if ch in BIDI else "invisible"
    name = unicodedata.name(ch, "")
    return Problem(
        msg(f"loading.yaml.hidden.{kind}", character=f"U+{ord(ch):04X}{' ' + name if name else ''}"),
        file=file,
        line=len(breaks) + 1,
        column=at - line_start + 1,
        code="hidden_character",
        expected=msg("loading.yaml.hidden.expected"),
    )


def parse_yaml(text: str, file: str = "<string>", *, max_nodes: int = MAX_NODES) -> Source:
    """Parse YAML text into a `Source`; raises PolicyError with positions on any problem.

    `max_nodes` bounds the values the text itself writes (a policy passes MAX_POLICY_NODES); MAX_NODES
    bounds them after alias expansion. With libyaml, both the syntax and these limits are checked in C
    speed before a node is built; without it, PyYAML's pure-Python composer stops at the same limits.
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        too_large = Problem(msg("loading.yaml.too_large", limit=MAX_BYTES), file=file, code="too_large")
        raise InputLimitError([too_large], msg("loading.summary.too_large"))
    hidden = hidden_character_problem(text, file)
    if hidden is not None:
        raise PolicyError([hidden], msg("loading.summary.cannot_parse"))
    try:
        if _C_LOADER is not None:
            _scan_with_libyaml(text, max_nodes)
            node = _compose_libyaml(text)
        else:
            node = _compose_python(text, max_nodes)
    except _Limit as exc:
        raise InputLimitError(
            [
                Problem(
                    exc.message,
                    file=file,
                    line=exc.mark.line + 1 if exc.mark else None,
                    column=exc.mark.column + 1 if exc.mark else None,
                    code=exc.code,
                )
            ],
            msg("loading.summary.too_deep") if exc.code == "too_deep" else msg("loading.summary.too_large"),
        ) from None
    except yaml.MarkedYAMLError as exc:
        raise PolicyError([_syntax_problem(exc, file, text)], msg("loading.summary.cannot_parse")) from None
    except UnicodeEncodeError as exc:  # a lone surrogate (text given as str, not read from a file): libyaml needs UTF-8
        raise PolicyError(
            [
                Problem(
                    msg("loading.yaml.surrogate", character=f"U+{ord(text[exc.start]):04X}"),
                    file=file,
                    line=text.count("\n", 0, exc.start) + 1,
                    column=exc.start - text.rfind("\n", 0, exc.start),
                    code="encoding",
                    expected=msg("loading.yaml.surrogate_expected"),
                )
            ],
            msg("loading.summary.cannot_parse"),
        ) from None
    except yaml.reader.ReaderError as exc:  # a control character: located (libyaml counts bytes, PyYAML characters)
        before = text.encode("utf-8", "surrogatepass")[: exc.position].decode("utf-8", "replace") if _C_LOADER else text[: exc.position]
        what = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        raise PolicyError(
            [
                Problem(
                    msg("loading.yaml.control", character=what),
                    file=file,
                    line=before.count("\n") + 1,
                    column=len(before) - before.rfind("\n"),
                    code="syntax",
                    expected=msg("loading.yaml.control_expected"),
                )
            ],
            msg("loading.summary.cannot_parse"),
        ) from None
    except yaml.YAMLError as exc:
        raise PolicyError(
            [Problem(msg("loading.yaml.other", detail=str(exc)), file=file, code="syntax")], msg("loading.summary.cannot_parse")
        ) from None
    except RecursionError:
        too_deep = Problem(msg("loading.yaml.too_deep_to_parse"), file=file, code="too_deep")
        raise InputLimitError([too_deep], msg("loading.summary.too_deep")) from None
    if node is None:
        return Source(None, {(): (1, 1)}, file, text)
    _walk_check(node, 0, file)
    _check_expansion(node, file)
    builder = _Builder(file)
    data = builder.build(node, (), 0)
    if builder.problems:
        raise PolicyError(builder.problems, msg("loading.summary.cannot_load"))
    return Source(data, builder.positions, file, text)


def load_yaml_file(path: str | Path, *, max_nodes: int = MAX_NODES) -> Source:
    return parse_yaml(read_text(path), str(path), max_nodes=max_nodes)
