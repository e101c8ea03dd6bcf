"""Every word the engine says to a person, in the language of the person who reads it.

One message catalogue per language: `engine/core/messages/<lang>/*.yaml`, merged into one mapping per language.
`explanation.yaml` holds the explanations' words (the explaining layer reads it, with a policy's overrides);
the other files hold what commands, errors and tools say, one file per area (`core.yaml`, `cli.yaml`, ...), each
under its own top-level keys. A key written in one language only is a test failure (tests/test_i18n.py).

A message is made where the problem is found, as `msg("claim.not_object", path=...)`: a `Msg`, which is a `str`
whose value is the English text (so logs, `in` tests and existing callers keep working) and which remembers its
key and values, so that `tr(m)` says it in the reader's language at the edge (the CLI, the service, a report).

The reader's language: `use_language(...)` (the CLI's `--lang`, the service's request) over `POLICY_ENGINE_LANG`
over the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`: `zh_*` is Chinese), else English.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml

MESSAGE_DIR = Path(__file__).resolve().parent / "messages"
FALLBACK = "en"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CHOSEN: ContextVar[str | None] = ContextVar("policy_engine_language", default=None)


def _read_yaml(text: str) -> Any:
    """A catalogue file's values, read by libyaml's safe loader where PyYAML has it: the engine's own catalogues (430
    kB, both languages) took 0.76 s of CPU to read in Python, at the start of every command, worker and test process
    that says a message; 0.06 s in C."""
    if hasattr(yaml, "CSafeLoader"):
        return yaml.load(text, Loader=yaml.CSafeLoader)
    return yaml.safe_load(text)


class CatalogueError(Exception):
    """The engine's own catalogue is broken (a bug caught by the tests), or a language asked for has none
    (`no_catalogue`: said as a `Msg`, in the reader's language)."""

    def __str__(self) -> str:
        return tr(self.args[0]) if self.args and isinstance(self.args[0], Msg) else super().__str__()


def no_catalogue(lang: object) -> CatalogueError:
    """A language asked for that has no catalogue ('fr', 'ZH', None where a language is taken), in words: it was
    English whatever the reader's language, and `explain(..., lang=None)` was "unsupported operand type(s) for /"."""
    return CatalogueError(msg("core.no_language", lang=repr(lang), languages=list(languages())))


def languages() -> tuple[str, ...]:
    """The languages with a catalogue, e.g. ('en', 'zh')."""
    return languages_in(MESSAGE_DIR)


@cache
def languages_in(folder: Path) -> tuple[str, ...]:
    """The languages with a catalogue in `folder`, listed once per folder: `language()` asks for them for every message
    said with no language chosen, and a listing each time was ~45 µs a message (a long problem list's largest cost)."""
    return tuple(sorted(p.name for p in folder.iterdir() if p.is_dir() and (p / "explanation.yaml").is_file()))


@cache
def catalogue(lang: str) -> dict[str, Any]:
    """The merged catalogue of `lang`, read once per process (a top-level key in two files is an error)."""
    if lang not in languages():  # (a language's folder by its name: none other is read, nor None, nor '../x')
        raise no_catalogue(lang)
    folder = MESSAGE_DIR / lang
    merged: dict[str, Any] = {}
    where: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        data = _read_yaml(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise CatalogueError(f"{path}: a catalogue file is a mapping")
        for key, value in data.items():
            if key in merged:
                raise CatalogueError(f"{path}: top-level key {key!r} is already in {where[key]}")
            merged[key] = value
            where[key] = path.name
    if not isinstance(merged.get("meta"), dict):
        raise CatalogueError(f"{folder}: the catalogue has no `meta:` section")
    return merged


@cache
def message_keys(lang: str) -> frozenset[str]:
    """Every dotted key of `lang`'s catalogue that holds a message (text, not a section): what a policy's
    `templates:` may override."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [("", catalogue(lang))]
    while stack:
        prefix, node = stack.pop()
        for k, v in node.items():
            if isinstance(v, dict):
                stack.append((f"{prefix}{k}.", v))
            elif isinstance(v, str):
                found.append(f"{prefix}{k}")
    return frozenset(found)


def lookup(key: str, lang: str | None = None) -> str:
    """The text of dotted `key` in `lang` (default: the reader's), falling back to English, then to the key."""
    for language_ in (lang or language(), FALLBACK):
        node: Any = catalogue(language_)
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, str):
            return node
    raise CatalogueError(f"no message {key!r} in the catalogue")


#: how far from the decimal point a number's digits may reach and still be written out in full (`_say`)
_DIGITS_SAID = 40


def _say(value: Any, lang: str) -> str:
    if isinstance(value, Msg):
        return value.render(lang)
    if isinstance(value, (list, tuple)):
        return str(catalogue(lang)["meta"]["list_sep"]).join(_say(v, lang) for v in value)
    if isinstance(value, Decimal):
        # written out in full, as an amount is; an absurd exponent from outside (`1e999999999`, never an amount) is
        # said as written: its digits written out would be a billion characters, and take seconds and gigabytes
        exponent = value.as_tuple().exponent  # (a letter for an infinity or a NaN)
        if isinstance(exponent, int) and exponent > -_DIGITS_SAID and value.adjusted() < _DIGITS_SAID:
            return format(value, "f")
        return str(value)
    if isinstance(getattr(value, "zh", None), str) and isinstance(getattr(value, "en", None), str):
        return str(getattr(value, lang, None) or value.en)  # a policy's words in both languages (its `Text`)
    return str(value)


def _fill(text: str, params: Mapping[str, Any], lang: str, key: str) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in params:
            raise CatalogueError(f"message {key!r} ({lang}) has {{{name}}} but no value was given for it")
        return _say(params[name], lang)

    return _PLACEHOLDER.sub(one, text)


class Msg(str):
    """A message for a person: the English text as the `str` value, plus its key and values for `tr`."""

    key: str
    params: Mapping[str, Any]

    def __new__(cls, key: str, params: Mapping[str, Any], /) -> Msg:
        self = super().__new__(cls, _fill(lookup(key, FALLBACK), params, FALLBACK, key))
        self.key = key
        self.params = params
        return self

    def render(self, lang: str | None = None) -> str:
        """The message in `lang` (default: the reader's language)."""
        lang = lang or language()
        return _fill(lookup(self.key, lang), self.params, lang, self.key)

    def __reduce__(self) -> tuple[Any, ...]:  # worker processes send errors back pickled
        return (Msg, (self.key, dict(self.params)))


def clip_text(text: str, limit: int) -> str:
    """`text` shortened to `limit` characters, its end kept ("… is too long")."""
    return text if len(text) <= limit else text[: limit - 81] + " … " + text[-78:]


class Clipped(Msg):
    """A message quoting an enormous value (a number of a thousand digits), shortened to `limit` in every language:
    shortened once in English, a Chinese reader was given the English."""

    inner: Msg
    limit: int

    def __new__(cls, inner: Msg, limit: int) -> Clipped:
        self = str.__new__(cls, clip_text(str(inner), limit))
        self.key, self.params, self.inner, self.limit = inner.key, inner.params, inner, limit
        return self

    def render(self, lang: str | None = None) -> str:
        return clip_text(self.inner.render(lang), self.limit)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Clipped, (self.inner, self.limit))


def msg(key: str, /, **params: Any) -> Msg:
    """The message `key` of the catalogue with `params` for its `{placeholders}`."""
    return Msg(key, params)


def tr(text: str | None, lang: str | None = None) -> str:
    """`text` in the reader's language (or `lang`): a `Msg` is said again; any other text is returned as it is."""
    if text is None:
        return ""
    return text.render(lang) if isinstance(text, Msg) else str(text)


def known_language(value: str | None) -> str | None:
    """'zh_CN.UTF-8' -> 'zh'; 'en_US' -> 'en'; 'C', 'POSIX', '' or a language with no catalogue -> None."""
    if not value:
        return None
    code = value.strip().split(".")[0].split("_")[0].split("-")[0].lower()
    code = _ALIASES.get(code, code)
    return code if code in languages() else None


#: what people also write for a language the engine speaks (POLICY_ENGINE_LANG=cn fell back to English unsaid)
_ALIASES = {"cn": "zh", "chs": "zh", "chinese": "zh", "中文": "zh", "english": "en"}


def language_from_environment(environ: Mapping[str, str] | None = None, system: Callable[[], str | None] | None = None) -> str:
    """POLICY_ENGINE_LANG, else the locale (the first of LC_ALL, LC_MESSAGES, LANG that is set), else the system's
    display language where it sets no locale variable (Windows: `system`, default `system_language`), else English."""
    env = os.environ if environ is None else environ
    chosen = known_language(env.get("POLICY_ENGINE_LANG"))
    if chosen:
        return chosen
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(var):
            return known_language(env[var]) or FALLBACK
    return (system or system_language)() or FALLBACK


#: a Windows language id's primary language (its low ten bits) -> the catalogue that speaks it
_WINDOWS_LANGUAGES = {0x04: "zh", 0x09: "en"}


@cache
def system_language() -> str | None:
    """The user's display language on Windows, which sets no LANG (an officer's Chinese Windows: Chinese), else None.
    Asked once: `language()` runs for every message."""
    if sys.platform != "win32":
        return None
    try:
        import ctypes

        langid = int(ctypes.windll.kernel32.GetUserDefaultUILanguage())
    except (AttributeError, OSError, ValueError):
        return None
    return windows_language(langid)


def windows_language(langid: int) -> str | None:
    """A Windows language id (0x0804 zh-CN, 0x0404 zh-TW, 0x0409 en-US) -> 'zh', 'en'; None for one without a catalogue."""
    return _WINDOWS_LANGUAGES.get(langid & 0x3FF)


def language() -> str:
    """The reader's language: the one chosen for this context (`use_language`), else the environment's."""
    return _CHOSEN.get() or language_from_environment()


@contextmanager
def use_language(lang: str | None) -> Iterator[str]:
    """Say everything inside in `lang` (None: keep the language already chosen, or the environment's)."""
    if lang is not None and lang not in languages():
        raise no_catalogue(lang)
    token = _CHOSEN.set(lang if lang is not None else _CHOSEN.get())
    try:
        yield language()
    finally:
        _CHOSEN.reset(token)


def set_language(lang: str | None) -> None:
    """Choose the language for the rest of this context (the CLI calls it once, from `--lang`)."""
    if lang is not None and lang not in languages():
        raise no_catalogue(lang)
    _CHOSEN.set(lang)
