"""The fields of the explanation model (and of `policy`, `m`) a policy's template reads that they never have.

A template gets the model as `x` (engine/explaining/model.py): named tuples whose fields are fixed, so
`{{ x.claim_idd }}`, or `{{ item.statuss }}` inside `{% for item in x.items %}`, reads a field no explanation has,
and the sandbox renders it as nothing, on every decision. So do two mappings whose keys are fixed: `policy`
(`PolicyInfo`: `{{ policy.titel }}`) and `m`, the catalogue of messages (`{{ m.claim_idd }}`, `m.meta.colln`; its
keys are the same in every language, and a policy's overrides only replace messages). Read statically from the
template's syntax tree (never rendered): those three and each loop variable over a field of the model that holds
named tuples (`x.items`,
`item.sections`, `section.lines`), and the fields read from them, however the template reads them: by a dot or a
constant index (`x.sign_off.head`, `x["sign_off"]["head"]`, `x.items[0].status`, `x.items[-1]`, `x.items[1:]`),
in any expression (a filter's value or argument, a test's, an `{% if %}`, a loop's condition), through a filter
that keeps the elements (`x.items | reverse`, `sort`, `unique`, `list`, `select`, `reject`, `selectattr`,
`rejectattr`) or picks one (`first`, `last`, `min`, `max`), and a field a filter names as a constant
(`map(attribute="status")`, `selectattr("status")`, `sort`, `groupby`, `sum`, `unique`, `min`, `max`, `join`, a
dotted path `"sections.0.head"` too), and a name the template binds once to one of those (`{% set it = x.items[0]
%}`, `{% with s = it.sections %}`), from where it is bound. Not followed (it cannot be known without the decision):
`d` (the decision's JSON: optional keys some decisions lack, and keys a batch adds that its schema does not list), a
name the template binds more than once or takes as a macro's argument, a recursive loop's variable (`loop(...)`
rebinds it to other values), an index or field name the template computes, and a test `is defined` (a deliberate
probe).

Bounded (a policy is untrusted data): one pass over the tree with a stack, each expression's type worked out once;
no recursion however deep the template nests.
"""

from __future__ import annotations

import difflib
import functools
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes

from engine.core import i18n
from engine.explaining.model import Explanation, PolicyInfo
from engine.language.templating import parse_template

#: filters whose value holds the same elements as theirs (a loop over `x.items | reverse` gets items)
_SAME_ELEMENTS = frozenset({"reverse", "sort", "unique", "list", "select", "reject", "selectattr", "rejectattr"})
#: filters whose value is one of their value's elements
_ONE_ELEMENT = frozenset({"first", "last", "min", "max"})
#: filters that read a field of each element by its name (jinja2's `attribute`): where the name is given, as
#: (position among the filter's arguments or None, keyword or None)
_ATTRIBUTE_ARGUMENT: dict[str, tuple[int | None, str | None]] = {
    "map": (None, "attribute"),
    "selectattr": (0, None),
    "rejectattr": (0, None),
    "sort": (2, "attribute"),
    "groupby": (0, "attribute"),
    "sum": (0, "attribute"),
    "unique": (1, "attribute"),
    "min": (1, "attribute"),
    "max": (1, "attribute"),
    "join": (1, "attribute"),
}

#: the longest an expression is written in a finding (`x.items[0].sections[0]`)
_WRITTEN_CHARS = 80
#: the most names listed as the ones there are (more: the nearest), the longest name compared to them, and the
#: findings of one template that get the nearest names (comparing with `m`'s hundreds of keys takes about 0.5 ms)
_LISTED = 20
_LONGEST_GUESSED = 100
_GUESSED = 200


@dataclass(frozen=True)
class UnknownField:
    """`written.attr` at `line` of the template: `written` (x, item, x.sign_off) has none of that name. With `filter`:
    the field `attr` (a dotted path as written) that filter reads of each element of `written`, and `fields` the
    paths it could read instead."""

    line: int
    written: str
    attr: str
    fields: tuple[str, ...]  # the fields `written` has
    guess: str | None  # the nearest of them
    filter: str | None = None


def _classes(hint: Any) -> tuple[type, ...] | None:
    """The named tuples a value of type `hint` is (`Line | CapRow`: both; `SignOff | None`: SignOff); None when it
    may be anything else (a text, a number), whose attributes are not the model's to say."""
    union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
    members = tuple(m for m in (typing.get_args(hint) if union else (hint,)) if m is not type(None))
    model = all(isinstance(m, type) and issubclass(m, tuple) and hasattr(m, "_fields") for m in members)
    return members if members and model else None


def _element(hint: Any) -> Any:
    """The type of each element of a `tuple[T, ...]` field; None for anything else."""
    args = typing.get_args(hint)
    return args[0] if typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis else None


class _Keys:
    """A mapping whose keys are fixed (`m`, the catalogue of messages): each key's own `_Keys` when it is one too."""

    def __init__(self, keys: dict[str, _Keys | None]) -> None:
        self.keys = keys


def _keys(data: Any) -> _Keys | None:
    """The keys of a catalogue and of every mapping in it (the catalogue is the engine's, of bounded size)."""
    return _Keys({str(k): _keys(v) for k, v in data.items()}) if isinstance(data, dict) else None


@functools.cache
def _messages() -> _Keys:
    """`m` of a template: the keys of the engine's catalogues, in any language (each has the same keys; a policy's
    overrides only replace messages)."""
    merged: dict[str, Any] = {}
    for lang in i18n.languages():
        merged |= i18n.catalogue(lang)
    return _Keys({str(k): _keys(v) for k, v in merged.items()})


def _mapping(hint: Any) -> bool:
    return isinstance(hint, _Keys) or typing.is_typeddict(hint)


def _names(hint: Any) -> tuple[str, ...] | None:
    """The fields (a named tuple's, all of a union's) or keys (`policy`, `m`) a value of type `hint` has; None when it
    may be anything else (a text, a number), whose attributes are not the model's to say."""
    if isinstance(hint, _Keys):
        return tuple(hint.keys)
    if typing.is_typeddict(hint):
        return tuple(typing.get_type_hints(hint))
    classes = _classes(hint)
    return tuple(dict.fromkeys(f for c in classes for f in c._fields)) if classes else None  # type: ignore[attr-defined]


def _has(hint: Any, attr: str) -> bool:
    """A value of type `hint` gives something for `attr`: a field or key, or a method the sandbox lets it call."""
    public = not attr.startswith("_")
    if _mapping(hint):
        return attr in (_names(hint) or ()) or (public and hasattr(dict, attr))
    return any(attr in c._fields or (public and hasattr(c, attr)) for c in _classes(hint) or ())  # type: ignore[attr-defined]


def _field(hint: Any, attr: str) -> Any:
    """The type of field or key `attr` of a value of type `hint`, when it is one named tuple or a mapping of fixed
    keys (a union is not followed)."""
    if isinstance(hint, _Keys):
        return hint.keys.get(attr)
    if typing.is_typeddict(hint):
        return typing.get_type_hints(hint).get(attr)
    classes = _classes(hint)
    return typing.get_type_hints(classes[0]).get(attr) if classes and len(classes) == 1 else None


def _listed(names: tuple[str, ...], attr: str, guessing: bool) -> tuple[tuple[str, ...], str | None]:
    """The names to list for a misspelt `attr` (all of them, or the nearest when there are many: `m` has hundreds)
    and the nearest one, if any is near (when `guessing`)."""
    near = difflib.get_close_matches(attr, names, n=_LISTED // 2, cutoff=0.6) if guessing and len(attr) <= _LONGEST_GUESSED else []
    return (names if len(names) <= _LISTED else (*near, "…")), (near[0] if near else None)


def _constant(node: nodes.Node | None) -> Any:
    """The value of a constant index or name (`0`, `-1`, `"head"`); None for anything the template computes."""
    if isinstance(node, nodes.Neg) and isinstance(node.node, nodes.Const) and type(node.node.value) is int:
        return -node.node.value
    return node.value if isinstance(node, nodes.Const) and type(node.value) in (int, str) else None


def _all_nodes(tree: nodes.Node) -> Iterator[nodes.Node]:
    """Every node of the tree, with a stack (jinja2's own `find_all` recurses, once per level of nesting)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.iter_child_nodes())


def _rebound(all_nodes: list[nodes.Node]) -> set[str]:
    """The names a template binds other than as a loop's one variable: `{% set %}`, `{% with %}`, a macro's or a
    call block's arguments, an import's names, a loop's unpacked variables (`for a, b in ...`)."""
    loops = {id(n.target) for n in all_nodes if isinstance(n, nodes.For) and isinstance(n.target, nodes.Name)}
    out = {n.name for n in all_nodes if isinstance(n, nodes.Name) and n.ctx in ("store", "param") and id(n) not in loops}
    for n in all_nodes:
        if isinstance(n, nodes.Import):
            out.add(n.target)
        elif isinstance(n, nodes.FromImport):
            out.update(name if isinstance(name, str) else name[1] for name in n.names)
    return out


def _bound_once(all_nodes: list[nodes.Node]) -> frozenset[str]:
    """The names a template binds exactly once, by `{% set name = ... %}` or `{% with name = ... %}`: each has the one
    value it is given there wherever it is read after (a name bound twice, or also a loop's variable or a macro's
    argument, may hold another)."""
    bindings: dict[str, int] = {}
    for n in all_nodes:
        if isinstance(n, nodes.Name) and n.ctx in ("store", "param"):
            bindings[n.name] = bindings.get(n.name, 0) + 1
    given = {n.target.name for n in all_nodes if isinstance(n, nodes.Assign) and isinstance(n.target, nodes.Name)}
    given |= {t.name for n in all_nodes if isinstance(n, nodes.With) for t in n.targets if isinstance(t, nodes.Name)}
    return frozenset(name for name in given if bindings.get(name) == 1)


def _attribute_argument(node: nodes.Filter) -> Any:
    """The field a filter names for each element (`map(attribute="status")`: "status"), when a constant."""
    position, keyword = _ATTRIBUTE_ARGUMENT.get(node.name, (None, None))
    given = next((kw.value for kw in node.kwargs if kw.key == keyword), None) if keyword else None
    if given is None and position is not None and position < len(node.args):
        given = node.args[position]
    return _constant(given)


class _Reader:
    """One walk of a template's tree, with the type of each name known at each point (`x`, the loop variables)."""

    def __init__(self, rebound: set[str], once: frozenset[str] = frozenset()) -> None:
        self.rebound = rebound
        self.once = once
        self.found: list[UnknownField] = []
        #: each expression's type and how the template writes it (None: not the model's), worked out once
        self.types: dict[int, tuple[Any, str] | None] = {}

    def type_of(self, node: nodes.Node, scope: dict[str, Any]) -> tuple[Any, str] | None:
        """The type of an expression and how the template writes it (`x.sign_off`), when the model's: down the chain
        of fields, indexes and filters to its name, then back up, each link once."""
        chain: list[nodes.Node] = []
        below: nodes.Node | None = node
        while below is not None and id(below) not in self.types:
            chain.append(below)
            below = below.node if isinstance(below, nodes.Getattr | nodes.Getitem | nodes.Filter) else None
        typed = self.types[id(below)] if below is not None else None
        for link in reversed(chain):
            typed = self.step(link, typed, scope)
            self.types[id(link)] = typed
        return typed

    @staticmethod
    def step(node: nodes.Node, base: tuple[Any, str] | None, scope: dict[str, Any]) -> tuple[Any, str] | None:
        """The type of `node` from the type of the expression it reads (`base`); how it is written clipped, so that a
        chain of thousands of filters is not written out again at each link."""
        typed = _Reader.link(node, base, scope)
        if typed is None or typed[0] is None:
            return None
        return typed if len(typed[1]) <= _WRITTEN_CHARS else (typed[0], typed[1][: _WRITTEN_CHARS - 1] + "…")

    @staticmethod
    def link(node: nodes.Node, base: tuple[Any, str] | None, scope: dict[str, Any]) -> tuple[Any, str] | None:
        if isinstance(node, nodes.Name):
            return (scope[node.name], node.name) if node.name in scope else None
        if base is None:
            return None
        hint, written = base
        if isinstance(node, nodes.Getattr):
            return (_field(hint, node.attr), f"{written}.{node.attr}")
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Slice):
            return (hint if _element(hint) is not None else None, f"{written}[…]")
        if isinstance(node, nodes.Getitem):
            key = _constant(node.arg)
            found = _field(hint, key) if isinstance(key, str) else _element(hint) if isinstance(key, int) else None
            return (found, f"{written}[{key!r}]")
        if isinstance(node, nodes.Filter) and node.name in _SAME_ELEMENTS:
            return (hint if _element(hint) is not None else None, f"({written} | {node.name})")
        if isinstance(node, nodes.Filter) and node.name in _ONE_ELEMENT:
            return (_element(hint), f"({written} | {node.name})")
        return None

    def check(self, node: nodes.Node, attr: Any, scope: dict[str, Any]) -> None:
        """`attr` read of `node`: said when `node` is the model's and has no such field."""
        typed = self.type_of(node, scope)
        fields = _names(typed[0]) if typed else None
        if typed is None or fields is None or not isinstance(attr, str) or _has(typed[0], attr):
            return
        self.found.append(UnknownField(node.lineno, typed[1], attr, *_listed(fields, attr, len(self.found) < _GUESSED)))

    def check_attribute(self, node: nodes.Filter, scope: dict[str, Any]) -> None:
        """The field `map(attribute=...)`, `selectattr(...)`, `sort(attribute=...)`, ... read of each element of the
        filter's value (a dotted path, `sort`'s comma-separated ones too), when the elements are the model's."""
        attribute = _attribute_argument(node)
        typed = self.type_of(node.node, scope) if node.node is not None and attribute is not None else None
        if typed is None or _element(typed[0]) is None:
            return
        paths = attribute.split(",") if node.name == "sort" and isinstance(attribute, str) else [attribute]
        for path in paths:
            self.check_path(node, typed[1], _element(typed[0]), path)

    def check_path(self, node: nodes.Filter, written: str, element: Any, path: str | int) -> None:
        parts = [int(p) if p.isdigit() else p for p in path.split(".")] if isinstance(path, str) else [path]
        hint = element
        for i, part in enumerate(parts):
            if isinstance(part, int):
                hint = _element(hint)
                continue
            names = _names(hint)
            if names is None or _has(hint, part):
                hint = _field(hint, part) if names else None
                continue
            before = "".join(f"{p}." for p in parts[:i])
            fields, near = _listed(names, part, len(self.found) < _GUESSED)
            listed = tuple(f if f == "…" else before + f for f in fields)
            self.found.append(UnknownField(node.lineno, written, str(path), listed, before + near if near else None, node.name))
            return

    def walk(self, tree: nodes.Node, scope: dict[str, Any]) -> None:
        """Every node in the template's order, each with the names known where it is (a loop's body: its variable)."""
        stack: list[tuple[nodes.Node, dict[str, Any]]] = [(tree, scope)]
        while stack:
            node, scope = stack.pop()
            if isinstance(node, nodes.For):
                stack.extend(reversed(self.loop(node, scope)))
                continue
            if isinstance(node, nodes.With):
                stack.extend(reversed(self.with_block(node, scope)))
                continue
            if isinstance(node, nodes.Macro | nodes.CallBlock):
                scope = dict(scope)  # (what its body sets stays in it)
            elif isinstance(node, nodes.Assign) and isinstance(node.target, nodes.Name):
                self.bind(node.target.name, node.node, scope, scope)  # (siblings after it share `scope`, as jinja2's do)
            if isinstance(node, nodes.Test) and node.name in ("defined", "undefined"):
                continue  # `x.sign_off is defined`: asked on purpose
            if isinstance(node, nodes.Getattr):
                self.check(node.node, node.attr, scope)
            elif isinstance(node, nodes.Getitem):
                self.check(node.node, _constant(node.arg), scope)
            elif isinstance(node, nodes.Filter) and node.name in _ATTRIBUTE_ARGUMENT:
                self.check_attribute(node, scope)
            stack.extend((child, scope) for child in reversed(list(node.iter_child_nodes())))

    def bind(self, name: str, value: nodes.Node, scope: dict[str, Any], into: dict[str, Any]) -> None:
        """`name`, bound once to `value` (read in `scope`), has its type in `into` from here on, when the model's."""
        typed = self.type_of(value, scope) if name in self.once else None
        if typed is not None:
            into[name] = typed[0]

    def with_block(self, node: nodes.With, scope: dict[str, Any]) -> list[tuple[nodes.Node, dict[str, Any]]]:
        """A `{% with %}` block's values, read where it stands, then its body with the names it binds."""
        inner = dict(scope)
        for target, value in zip(node.targets, node.values, strict=False):
            if isinstance(target, nodes.Name):
                self.bind(target.name, value, scope, inner)
        return [*((v, scope) for v in node.values), *((c, inner) for c in node.body)]

    def loop(self, node: nodes.For, scope: dict[str, Any]) -> list[tuple[nodes.Node, dict[str, Any]]]:
        """A loop's parts in order, each with its names: the loop's variable is an element of what it loops over
        when that is the model's (not in a recursive loop: `loop(...)` gives it other values)."""
        typed = self.type_of(node.iter, scope)
        inner = {k: v for k, v in scope.items() if k not in {n.name for n in _all_nodes(node.target) if isinstance(n, nodes.Name)}}
        element = _element(typed[0]) if typed else None
        if isinstance(node.target, nodes.Name) and node.target.name not in self.rebound and element is not None and not node.recursive:
            inner[node.target.name] = element
        inside = [*([node.test] if node.test else []), *node.body]
        return [(node.iter, scope), *((c, inner) for c in inside), *((c, scope) for c in node.else_)]


def unknown_fields(source: str, name: str) -> Iterator[UnknownField]:
    """Each field a template reads of the explanation model that the model has not (see the module's text), in the
    template's order; nothing for a template that does not parse (validate says why)."""
    tree = parse_template(source, name)
    if tree is None:
        return
    every = list(_all_nodes(tree))
    rebound = _rebound(every)
    reader = _Reader(rebound, _bound_once(every))
    roots = {"x": Explanation, "policy": PolicyInfo, "m": _messages()}
    reader.walk(tree, {k: v for k, v in roots.items() if k not in rebound})
    yield from reader.found
