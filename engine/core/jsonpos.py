"""Where each value of a JSON text stands: path -> (line, column), for error messages.

`json` gives no positions, so a claim error in a JSON file could only name a path.
This walks the text once more -- only when there is an error to place -- with the
same grammar `json` accepted, recording where every value starts. Strings are read
with json's own string scanner, so keys come out exactly as `json.loads` made them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from json import decoder as _decoder

from engine.core.errors import PathPart

Positions = dict[tuple[PathPart, ...], tuple[int, int]]

_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


# json.decoder's string reader (C or pure Python); typeshed does not declare it
_scanstring: Callable[[str, int], tuple[str, int]] = _decoder.scanstring  # type: ignore[attr-defined]


class _Walker:
    def __init__(self, text: str, max_depth: int | None = None) -> None:
        self.text = text
        self.max_depth = max_depth  # (a value deeper stops the walk, as NaN does)
        self.positions: Positions = {}
        #: (path of the key, offset of its first and of its repeated occurrence), in document order
        self.duplicates: list[tuple[tuple[PathPart, ...], int, int]] = []
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.reached: tuple[tuple[PathPart, ...], int] = ((), 0)  # the last value begun: where a refused walk stopped

    def where(self, offset: int) -> tuple[int, int]:
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:  # last line start <= offset
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - self.line_starts[lo] + 1

    def skip(self, i: int) -> int:
        m = _WS.match(self.text, i)
        return m.end() if m else i

    def value(self, i: int, path: tuple[PathPart, ...]) -> int:
        """Record the value starting at `i` (after white space) and return the offset after it."""
        i = self.skip(i)
        self.reached = (path, i)
        if self.max_depth is not None and len(path) > self.max_depth:
            raise ValueError(f"deeper than {self.max_depth} at offset {i}")
        self.positions[path] = self.where(i)
        ch = self.text[i : i + 1]
        if ch == "{":
            i = self.skip(i + 1)
            if self.text[i : i + 1] == "}":
                return i + 1
            seen: dict[str, int] = {}
            while True:
                i = self.skip(i)
                if self.text[i : i + 1] != '"':
                    raise ValueError(f"expected a key at offset {i}")
                start = i
                key, i = _scanstring(self.text, i + 1)
                if key in seen:
                    self.duplicates.append(((*path, key), seen[key], start))
                else:
                    seen[key] = start
                i = self.skip(i)
                i = self.value(i + 1, (*path, key))  # past the ':'
                i = self.skip(i)
                if self.text[i : i + 1] == "}":
                    return i + 1
                i += 1  # ','
        if ch == "[":
            i = self.skip(i + 1)
            if self.text[i : i + 1] == "]":
                return i + 1
            n = 0
            while True:
                i = self.value(i, (*path, n))
                n += 1
                i = self.skip(i)
                if self.text[i : i + 1] == "]":
                    return i + 1
                i += 1  # ','
        if ch == '"':
            return _scanstring(self.text, i + 1)[1]
        m = _SCALAR.match(self.text, i)
        if not m:
            raise ValueError(f"unexpected character at offset {i}")
        return m.end()


def json_positions(text: str) -> Positions:
    """Positions of every value in a JSON text that `json.loads` accepted; {} if it cannot be walked."""
    walker = _Walker(text)
    try:
        walker.value(0, ())
    except (ValueError, IndexError, RecursionError):
        return {}
    return walker.positions


def first_duplicate(text: str, start: int = 0) -> tuple[tuple[PathPart, ...], tuple[int, int], int] | None:
    """The first key repeated within one object of the JSON value at `text[start:]`, in document order.

    (its path, line and column of its first occurrence, offset of the repeat), or None. Keys compare as
    `json` decodes them, so `"a"` and `"\\u0061"` are the same key.
    """
    walker = _Walker(text)
    try:
        walker.value(start, ())
    except (ValueError, IndexError, RecursionError):
        pass  # the value ends early (e.g. in a stream): what was walked still counts
    if not walker.duplicates:
        return None
    path, first, repeat = min(walker.duplicates, key=lambda d: d[2])
    return path, walker.where(first), repeat


#: a string, or a constant JSON's grammar has and a claim may not hold, found by one scan in C
_STRING_OR_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\Z)|(NaN|-?Infinity)')  # (an unclosed one ends the text)


def where_constant(text: str) -> tuple[int, int] | None:
    """Line and column of the first NaN or Infinity outside a string: one scan, for a text too long to walk."""
    for m in _STRING_OR_CONSTANT.finditer(text):
        if m.group(1) is not None:
            at = m.start(1)
            return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1
    return None


def where_refused(text: str, max_depth: int | None = None) -> tuple[tuple[PathPart, ...], tuple[int, int]] | None:
    """The path, line and column of the value a walk of the JSON text stops at: NaN or Infinity (json's grammar has
    no such number), or the first value nested deeper than `max_depth`; None when the text walks whole."""
    walker = _Walker(text, max_depth)
    try:
        walker.value(0, ())
    except (ValueError, IndexError, RecursionError):
        path, offset = walker.reached
        return path, walker.where(offset)
    return None


def locate_in(positions: Positions, path: tuple[PathPart, ...]) -> tuple[int | None, int | None]:
    """Line and column of `path`, or of its nearest parent that has a position."""
    probe = tuple(path)
    while True:
        if probe in positions:
            return positions[probe]
        if not probe:
            return (None, None)
        probe = probe[:-1]
