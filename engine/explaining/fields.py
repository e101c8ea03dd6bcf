"""The fields of the explanation model a policy's template reads that the model never has.

A template gets the model as `x` (engine/explaining/model.py): named tuples whose fields are fixed, so
`{{ x.claim_idd }}`, or `{{ item.statuss }}` inside `{% for item in x.items %}`, reads a field no explanation has,
and the sandbox renders it as nothing, on every decision. Read statically from the template's syntax tree (never
rendered): `x` and each loop variable over a field of the model that holds named tuples (`x.items`,
`item.sections`, `section.lines`), and the fields read from them (`x.sign_off.head`). Not followed: `d` (the
decision's JSON, whose optional keys some decisions lack), a name the template sets itself or takes as a macro's
argument, an element taken by index (`x.items[0]`) or through a filter, and a test `is defined` (a deliberate probe).
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes

from engine.explaining.model import Explanation
from engine.language.templating import parse_template


@dataclass(frozen=True)
class UnknownField:
    """`written.attr` at `line` of the template: `written` (x, item, x.sign_off) has none of that name."""

    line: int
    written: str
    attr: str
    fields: tuple[str, ...]  # the fields `written` has
    guess: str | None  # the nearest of them


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


def _field(hint: Any, attr: str) -> Any:
    """The type of field `attr` of a value of type `hint`, when it is one named tuple (a union is not followed)."""
    classes = _classes(hint)
    return typing.get_type_hints(classes[0]).get(attr) if classes and len(classes) == 1 else None


def _has(cls: type, attr: str) -> bool:
    return attr in cls._fields or (not attr.startswith("_") and hasattr(cls, attr))  # type: ignore[attr-defined]


def _rebound(tree: nodes.Template) -> set[str]:
    """The names a template binds other than as a loop's one variable: `{% set %}`, `{% with %}`, a macro's or a
    call block's arguments, an import's names, a loop's unpacked variables (`for a, b in ...`)."""
    loops = {id(f.target) for f in tree.find_all(nodes.For) if isinstance(f.target, nodes.Name)}
    out = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param") and id(n) not in loops}
    out.update(imp.target for imp in tree.find_all(nodes.Import))
    for from_import in tree.find_all(nodes.FromImport):
        out.update(n if isinstance(n, str) else n[1] for n in from_import.names)
    return out


class _Reader:
    """One walk of a template's tree, with the type of each name known at each point (`x`, the loop variables)."""

    def __init__(self, rebound: set[str]) -> None:
        self.rebound = rebound
        self.found: list[UnknownField] = []

    def type_of(self, node: nodes.Node, scope: dict[str, Any]) -> tuple[Any, str] | None:
        """The type of an expression and how the template writes it (`x.sign_off`), when the model's."""
        if isinstance(node, nodes.Name) and node.name in scope:
            return scope[node.name], node.name
        if isinstance(node, nodes.Getattr):
            base = self.type_of(node.node, scope)
            hint = _field(base[0], node.attr) if base else None
            return (hint, f"{base[1]}.{node.attr}") if base and hint is not None else None
        return None

    def check(self, node: nodes.Node, attr: Any, scope: dict[str, Any]) -> None:
        typed = self.type_of(node, scope)
        classes = _classes(typed[0]) if typed else None
        if typed is None or classes is None or not isinstance(attr, str) or any(_has(c, attr) for c in classes):
            return
        fields = tuple(dict.fromkeys(f for c in classes for f in c._fields))  # type: ignore[attr-defined]
        guess = next(iter(difflib.get_close_matches(attr, fields, n=1, cutoff=0.6)), None)
        self.found.append(UnknownField(node.lineno, typed[1], attr, fields, guess))

    def walk(self, node: nodes.Node, scope: dict[str, Any]) -> None:
        if isinstance(node, nodes.For):
            self.walk(node.iter, scope)
            typed = self.type_of(node.iter, scope)
            inner = {k: v for k, v in scope.items() if k not in {n.name for n in node.target.find_all(nodes.Name)}}
            element = _element(typed[0]) if typed else None
            if isinstance(node.target, nodes.Name) and node.target.name not in self.rebound and element is not None:
                inner[node.target.name] = element
            for child in [*node.body, *([node.test] if node.test else [])]:
                self.walk(child, inner)
            for child in node.else_:
                self.walk(child, scope)
            return
        if isinstance(node, nodes.Test) and node.name in ("defined", "undefined"):
            return  # `x.sign_off is defined`: asked on purpose
        if isinstance(node, nodes.Getattr):
            self.check(node.node, node.attr, scope)
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            self.check(node.node, node.arg.value, scope)
        for child in node.iter_child_nodes():
            self.walk(child, scope)


def unknown_fields(source: str, name: str) -> Iterator[UnknownField]:
    """Each field a template reads of the explanation model that the model has not (see the module's text), in the
    template's order; nothing for a template that does not parse (validate says why)."""
    tree = parse_template(source, name)
    if tree is None:
        return
    rebound = _rebound(tree)
    reader = _Reader(rebound)
    try:
        reader.walk(tree, {} if "x" in rebound else {"x": Explanation})
    except RecursionError:  # (a template nested deeper than Python walks: validate's compile refuses it)
        return
    yield from reader.found
