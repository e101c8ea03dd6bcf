"""The message catalogue of one language, with a policy's message overrides: every word an explanation uses.

`engine/core/messages/<lang>/explanation.yaml` (part of the language's one catalogue, `engine.core.i18n`) holds the sentences (`{placeholders}` filled per decision), headings,
status words and the `meta` section (label field, money/percent formats, list separator, colons, quotes).
A policy's `templates:` mapping may replace any message (a dotted key such as `status.refused`, under a
language code or `all`); a key ending in `.j2` is a template override, kept apart for the renderer.
`Catalogue.compile` turns a message into a filler once (`formatter`: its literal runs and fields, split once), so
that filling it per item is one call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from engine.core import i18n
from engine.core.i18n import Msg, msg
from engine.language.templating import RenderError, message_problems

if TYPE_CHECKING:
    from engine.language.model import CompiledPolicy

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def languages() -> tuple[str, ...]:
    """The languages with a message catalogue, e.g. ('en', 'zh')."""
    return i18n.languages()


def base_catalogue(lang: str) -> dict[str, Any]:
    """The engine's own catalogue of `lang` (all areas; explanations use their words), read once per process."""
    try:
        return i18n.catalogue(lang)
    except i18n.CatalogueError as exc:
        raise RenderError(exc.args[0] if exc.args else str(exc)) from None  # (a `Msg`: said in the reader's language)


def fill(text: str, values: Mapping[str, Any]) -> str:
    """Replace `{name}` by values[name]; only plain names, never attribute access (policy wording is data)."""
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)


def format_string(text: str, names: tuple[str, ...], fixed: Mapping[str, Any] | None = None, specs: Mapping[str, str] | None = None) -> str:
    """A catalogue message as a `str.format` string: `{name}` for the placeholders in `names` (`{name:spec}` for
    those in `specs`, e.g. `,` to group digits), the values of `fixed` already put in (as `fill` would), every
    other brace literal."""
    out: list[str] = []
    pos = 0
    for mt in PLACEHOLDER.finditer(text):
        out.append(text[pos : mt.start()].replace("{", "{{").replace("}", "}}"))
        name = mt.group(1)
        if fixed is not None and name in fixed:
            out.append(str(fixed[name]).replace("{", "{{").replace("}", "}}"))
        else:
            spec = specs.get(name, "") if specs is not None else ""
            out.append("{" + name + (":" + spec if spec else "") + "}" if name in names else "{{" + name + "}}")
        pos = mt.end()
    out.append(text[pos:].replace("{", "{{").replace("}", "}}"))
    return "".join(out)


#: messages with up to this many fields get a generated filler (`formatter`); more: `str.format`
FILLED_FIELDS = 16


def _maker(n: int) -> Callable[..., Callable[..., str]]:
    """For `n` fields, `make(L0, N0, S0, ..., L<n-1>, N<n-1>, S<n-1>, LAST)`: a filler that puts the keyword value
    named N<i> (formatted by spec S<i>) after each literal L<i>, then LAST, as one f-string. The source is made of
    these names only (no message text, no field name): compiled once per number of fields, on first need, and
    kept; every message's words and names are the maker's arguments."""
    make = _MAKERS.get(n)
    if make is None:
        ns: dict[str, Any] = {}
        params = "".join(f"L{i}, N{i}, S{i}, " for i in range(n)) + "LAST"
        body = "".join(f"{{L{i}}}{{kw[N{i}]:{{S{i}}}}}" for i in range(n)) + "{LAST}"
        source = f'def make({params}):\n    def fill(**kw):\n        return f"{body}"\n    return fill\n'
        exec(compile(source, "<catalogue fillers>", "exec"), ns)  # noqa: S102 - names only, see above
        make = _MAKERS[n] = ns["make"]
    return make


_MAKERS: dict[int, Callable[..., Callable[..., str]]] = {}


def formatter(
    text: str, names: tuple[str, ...], fixed: Mapping[str, Any] | None = None, specs: Mapping[str, str] | None = None
) -> Callable[..., str]:
    """`format_string(text, names, fixed, specs).format` without parsing the message on each call: the message
    split once into its literal runs and its fields, filled by a generated filler (`_maker`) -- the same text,
    the same KeyError for a field not given, other keyword values ignored."""
    parts: list[Any] = []
    literal: list[str] = []
    pos = 0
    for mt in PLACEHOLDER.finditer(text):
        literal.append(text[pos : mt.start()])
        name = mt.group(1)
        if fixed is not None and name in fixed:
            literal.append(str(fixed[name]))
        elif name in names:
            parts += ["".join(literal), name, specs.get(name, "") if specs is not None else ""]
            literal = []
        else:
            literal.append(mt.group(0))
        pos = mt.end()
    literal.append(text[pos:])
    if len(parts) // 3 > FILLED_FIELDS:
        return format_string(text, names, fixed, specs).format
    return _maker(len(parts) // 3)(*parts, "".join(literal))


def _merge(base: dict[str, Any], key: str, value: str, known: dict[str, Any]) -> bool:
    parts = key.split(".")
    node, ref = base, known
    for p in parts[:-1]:
        if not isinstance(ref.get(p), dict):
            return False
        ref = ref[p]
        node[p] = dict(node[p]) if node.get(p) is ref else node[p]
        node = node[p]
    if parts[-1] not in ref or isinstance(ref[parts[-1]], dict):
        return False
    node[parts[-1]] = value
    return True


#: How many filled messages a catalogue keeps (`Catalogue.partial`); the set is cleared when full.
PARTIALS_KEPT = 20_000


class Catalogue:
    """The messages of one language with one policy's overrides merged in (RenderError naming each bad key)."""

    def __init__(self, policy: CompiledPolicy, lang: str) -> None:
        self.lang = lang
        base = base_catalogue(lang)
        messages: dict[str, Any] = dict(base)
        #: the policy's template overrides (`*.j2` keys): name -> template text
        self.templates: dict[str, str] = {}
        problems: list[Msg] = []
        for scope in ("all", lang):
            for key, value in (policy.templates.get(scope) or {}).items():
                if key.endswith(".j2"):
                    self.templates[key] = value  # the template's text (a file it names was read, confined, when the policy loaded)
                elif not _merge(messages, key, value, base):
                    problems.append(msg("render.override.no_such", key=f"templates.{scope}.{key}", lang=repr(lang)))
                else:
                    problems += [msg("render.override.bad", key=f"templates.{scope}.{key}", problem=p) for p in message_problems(value)]
        if problems:
            said = problems[-1]
            for p in reversed(problems[:-1]):  # "a; b; c", said in the reader's language
                said = msg("render.override.then", first=p, rest=said)
            raise RenderError(said)
        self.m = messages
        self.meta: dict[str, Any] = messages["meta"]
        self.partials: dict[tuple[Any, ...], Callable[..., str]] = {}

    def __getitem__(self, key: str) -> Any:
        return self.m[key]

    def text(self, key: str) -> str:
        return str(self.m[key])

    def compile(self, key: str, *names: str) -> Callable[..., str]:
        """Message `key` as a filler (`formatter`): `{name}` filled per call for each of `names`."""
        return formatter(str(self.m[key]), names)

    def partial(self, key: str, names: tuple[str, ...], fixed: Mapping[str, Any]) -> Callable[..., str]:
        """Message `key` with the claim-independent values `fixed` put in once; `names` filled per call.

        Kept per (key, names, the text of each fixed value): `format_string` reads nothing else, so a kept one is
        the same string. (A recorded decision's explainer forgets its pieces after each decision and asks again.)"""
        memo = (key, names, tuple([(k, str(v)) for k, v in fixed.items()]))
        found = self.partials.get(memo)
        if found is None:
            if len(self.partials) >= PARTIALS_KEPT:
                self.partials.clear()
            found = self.partials[memo] = formatter(str(self.m[key]), names, fixed)
        return found

    def compile_text(self, text: str, *names: str) -> Callable[..., str]:
        """A message text (e.g. of `meta`) as a filler (`formatter`)."""
        return formatter(text, names)
