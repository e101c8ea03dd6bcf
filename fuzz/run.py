"""Fuzz the policy loader, the claim parser, the tabular readers and the renderers for a set time.

    python fuzz/run.py --minutes-each 10                  # every target, 10 minutes each, one after another
    python fuzz/run.py --minutes 10                       # all targets, 10 minutes shared round-robin
    python fuzz/run.py --minutes-each 2 --target tabular_csv --target render --seed 7

Not run in CI: a run of every target takes (targets x minutes). Run it niced on a shared machine
(`nice -n 10 python fuzz/run.py ...`).

Hypothesis generates the inputs (generation phase only: no shrinking, no example database), in
rounds of a few hundred examples with a fresh seed each, until the time is up. Each example is a
seed for a `random.Random` that picks and combines mutations of real inputs, plus a hypothesis-made
text fragment that is spliced in. Targets:

* yaml_text     -- engine.language.source.parse_yaml on generated YAML-ish text, YAML with
                   anchors/aliases/tags/merge keys, and mutated slices of the real policy file;
* policy_text   -- engine.load_policy_text on the whole policy file with a few line-level
                   mutations (slow: the full pipeline);
* policy_data   -- the schema + compiler (engine.language.load.check_source) on the parsed policy with
                   values replaced by hostile ones (bad amounts, hostile expressions, wrong types,
                   deleted keys);
* claim_data    -- engine.parse_claim + evaluate + to_json on valid claims with values replaced
                   by hostile ones (NaN, 1e3, huge, control characters, bad identifiers, impossible
                   dates...);
* claim_text    -- engine.loads_json + parse_claim on mutated JSON text;
* tabular_csv   -- engine.records.tabular.open_input on CSV bytes: the example round as CSV with cells,
                   rows and headers mutated (hostile values, formulas, quotes, NUL, cells over the
                   csv module's field limit, ragged rows, wrong or duplicate headers), written in
                   UTF-8, UTF-8 with BOM, GBK, GB18030, UTF-16, Big5 or Latin-1, and byte-level
                   damage; every record read is then parsed and decided like a batch does;
* tabular_xlsx  -- the same on workbooks: examples/round_2021.xlsx and round_template.xlsx with
                   the XML of their sheets 申请人 (applicants, sheet1.xml) and 事项 (items,
                   sheet2.xml) mutated inside the zip (hostile strings, control characters,
                   numbers, dates, booleans, error and formula cells, shared-string cells with no
                   or a bad index, bad style indexes, huge dimension and cell references, deleted
                   or duplicated rows, renamed sheets, missing parts, truncated zips);
* render        -- valid (and mutated) claims decided, then explained in every format (text, md,
                   html, json) in zh and en through engine.explaining.render.explain, from the Decision and
                   from its JSON dict, plus the reviewer's report (render_report) for some; also
                   checks that the text explained from the Decision equals the text explained
                   from its JSON dict (the recorded route), that the HTML forms
                   escape a hostile marker, and that the json form parses;
* render_decision -- a decision as a batch's decisions.jsonl holds it, hand-edited (values replaced,
                   deleted, wrapped), written as a .json file and given back as `explain` does:
                   engine.records.inputs.read_document + engine.explaining.render.recorded_decision + explain;
* templates     -- a small policy whose `templates:` overrides are generated hostile jinja2 text
                   (attribute chains of dunder names, filters, loops, includes and extends of
                   paths, recursion, broken syntax; a quarter of them also bombs: huge ranges,
                   repetitions, paddings) or paths (in and out of the policy's folder, a symlink out
                   of it, rarely one to /dev/zero), plus catalogue overrides; loaded with
                   engine.load_policy_text from a scratch folder and rendered (text, md, html, and
                   the report when its templates are overridden). A rendered output must not show
                   a file from outside the policy's folder or Python internals (modules, frames,
                   code objects, a globals dict, `<class 'object'>`). Generated templates only READ
                   Python internals: they never name anything that could write, delete, execute or
                   open (checked by `_harmless` before use), so an engine without a sandbox cannot be
                   made to do harm by this fuzzer (only spend memory, up to --memory-mb).

A *crash* is any exception that is not a clean error -- engine.EngineError, plus for the tabular
targets engine.records.tabular.InputError (the input as a whole refused) and for the render targets
engine.explaining.render.RenderError (both are what the CLI prints as messages) -- or a broken property
(render), or an input that takes longer than --slow seconds (a *hang*: an interval timer
interrupts it in the main thread, so the run goes on). The process runs under an address-space
limit (--memory-mb, default 2048) so a memory bomb is a MemoryError crash, not a dead machine.

Each crash is written to fuzz/crashes/ as JSON (target, error, input, traceback; for the tabular
targets also the file itself) and counted once per distinct input. The summary (stdout, and --json
FILE) gives, per target, the inputs tried, wall minutes, clean errors, accepted inputs, crashes,
hangs and the exception types of the crashes. Exit status 1 if anything crashed. Keep each crash as
a regression test in tests/regressions/test_found_crashes.py.

Reproduce one input: `python fuzz/run.py --replay fuzz/crashes/<target>-<digest>.json` runs it again
(each example is `Fuzzer.<target>(random.Random(n), fragment)`; the crash file records n and fragment).
"""

from __future__ import annotations

import argparse
import copy
import csv
import hashlib
import html
import io
import json
import random
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import engine  # noqa: E402
from engine.explaining.render import MESSAGE_DIR, RenderError, explain, render_report  # noqa: E402
from engine.language.load import check_source  # noqa: E402
from engine.language.source import Source, parse_yaml  # noqa: E402
from engine.records.batch import claim_problems  # noqa: E402
from engine.records.tabular import InputError, open_input  # noqa: E402

POLICY_PATH = ROOT / "policies" / "pinggu_2020.yaml"
CRASH_DIR = ROOT / "fuzz" / "crashes"
XLSX_BASES = (ROOT / "examples" / "round_2021.xlsx", ROOT / "examples" / "round_template.xlsx")
LANGS = ("zh", "en")
FORMATS = ("text", "md", "html", "json")

# --- pools of hostile values ------------------------------------------------------

HOSTILE_EXPRESSIONS = [
    "item.__class__",
    "item.__class__.__mro__[1].__subclasses__()",
    "().__class__.__bases__[0].__subclasses__()",
    "year.__globals__",
    "getattr(item, '__class__')",
    "eval('1+1')",
    "exec('import os')",
    "open('/etc/passwd').read()",
    "__import__('os').system('true')",
    "'{0.__class__}'.format(item)",
    "'%s' % item",
    "lambda: 1",
    "[x for x in (1, 2)]",
    "{x: 1 for x in (1,)}",
    "(x := 1)",
    "f'{item}'",
    "item.patent_id[0]",
    "9**9**9",
    "'x' * 10**9",
    "'x' * 999999999999999",
    "[1] * 999999999999999",
    "item.patent_id * 999999999999999",
    "not " * 300 + "True",
    "-" * 1500 + "1",
    "1+" * 600 + "1",
    "(" * 250 + "1" + ")" * 250,
    "x" * 3000,
    "min()",
    "max(1, 'a')",
    "add_years(item.date, 99999999)",
    "year(item.patent_id)",
    "item.date > 5",
    "count(item.date)",
    "first(claim.funding_year)",
    "claim.funding_year / 0",
    "abs('a')",
    "item.date if item.date else 1",
    "1 < 'a'",
    "item",
    "_F_year",
    "I['patent_id']",
    "__builtins__",
    "",
    "   ",
    "(",
    "\x00",
    "item.patent_id == 'x' and applicant.kind == 'robot'",
]

HOSTILE_SCALARS: list[Any] = (
    [
        None,
        True,
        False,
        0,
        -1,
        1,
        2021,
        10**18,
        10**19,
        10**400,
        -(10**30),
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        Decimal("1E+3"),
        Decimal("1e999999"),
        Decimal("-0"),
        Decimal("0.001"),
        Decimal("100.10"),
        float("nan"),
        float("inf"),
        1e3,
        0.1,
        "",
        " ",
        "1e3",
        "1E3",
        "1000",
        "1000.555",
        "-5",
        "30万",
        "30万元",
        "50%",
        "-50%",
        "150%",
        "0x10",
        ".inf",
        "NaN",
        "２０２１",
        "2021-02-30",
        "2021-13-01",
        "0000-01-01",
        "9999-12-31",
        "2021-06-01T00:00:00",
        "a\x00b",
        "a\x1bb",
        "a\u202eb",
        "<script>alert(1)</script>",
        '=HYPERLINK("http://x")',
        "x" * 600,
        "x" * 20000,
        "91350100M000100Y43",
        "91350100M000100Y44",
        "11010519491231002X",
        "110105194912310021",
        "91110117ma01abcd1f",
        "第五条第（一）项",
        "invention",
        "gold",
        "enterprise",
        "proof_of_right",
        [],
        {},
        [None],
        ["x", "x"],
        {"a": 1},
        json.loads("[" * 25 + "1" + "]" * 25),  # nested 25 deep
    ]
    + HOSTILE_EXPRESSIONS[:20]
)


def _yaml_can_produce(value: Any) -> bool:
    """engine.language.source builds only str, int, bool, None, finite plain Decimals, lists and str-keyed dicts."""
    if isinstance(value, float):
        return False
    if isinstance(value, Decimal):
        return value.is_finite() and "E" not in str(value)
    if isinstance(value, list):
        return all(_yaml_can_produce(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _yaml_can_produce(v) for k, v in value.items())
    return True


#: The policy pipeline's input is YAML text: the data fuzzer uses only values the loader can produce
#: (a first run fed Decimal('NaN') straight into the schema validator, which YAML text never can).
YAML_SCALARS = [v for v in HOSTILE_SCALARS if _yaml_can_produce(v)]

YAML_TOKENS = [
    "&a ",
    "*a",
    "&b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "<<: *a",
    "!!python/object/apply:os.system ['true']",
    "!!python/name:os.system",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!custom x",
    "? [a, b]\n: 1",
    "? {a: 1}\n: 2",
    "---",
    "...",
    "%YAML 1.1\n---",
    "%TAG ! tag:x,2000:\n---",
    "\t",
    "\ufeff",
    "\x00",
    "\ud800",
    "'",
    '"',
    "|",
    ">-",
    "{",
    "[",
    "]",
    "}",
    ":",
    "- ",
    "  ",
    "#",
    "~",
    "yes",
    "no",
    "on",
    "0o17",
    "0x1F",
    "1e3",
    ".nan",
    "1_000",
    "._",
    "9" * 5000,
    "2021-01-01",
    "a: 1\na: 2",
]


def _all_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _all_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _all_paths(v, (*path, i))
    return out


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        data = data[p]
    return data


def mutate(data: Any, rnd: random.Random, pool: list[Any], n: int) -> Any:
    """Apply n random mutations (replace / delete / add field / duplicate) to a deep copy."""
    data = copy.deepcopy(data)
    for _ in range(n):
        paths = _all_paths(data)
        path = rnd.choice(paths)
        if not path:
            if rnd.random() < 0.02:
                return copy.deepcopy(rnd.choice(pool))
            continue
        parent = _get(data, path[:-1])
        key = path[-1]
        op = rnd.random()
        if op < 0.6:
            parent[key] = copy.deepcopy(rnd.choice(pool))
        elif op < 0.75:
            del parent[key]
        elif op < 0.85 and isinstance(parent, dict):
            parent[rnd.choice(["colour", "__class__", "id", "x" * 50, "类型"])] = copy.deepcopy(rnd.choice(pool))
        elif op < 0.92 and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        else:
            parent[key] = [copy.deepcopy(parent[key])] if rnd.random() < 0.5 else {"v": copy.deepcopy(parent[key])}
    return data


#: Cell text for the tabular targets: every hostile scalar as a spreadsheet user could type it, and more.
CELL_VALUES: list[str] = [
    *(str(v) for v in HOSTILE_SCALARS if not isinstance(v, list | dict)),
    "=1+1",
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1",
    "\r=1",
    '"',
    '""',
    'a"b',
    '"quoted, with comma"',
    "a,b,c",
    "line\nbreak",
    "line\r\nbreak",
    "\r",
    "\x00",
    "a\x00b",
    "\x1a",
    "\ufeffclaim_id",
    "#comment",
    "# 申请编号",
    ";;;",
    "a;b；c\nd",
    "是",
    "否",
    "√",
    "×",
    "TRUE",
    "1.0",
    "2021.0",
    "2021-06-01 00:00:00",
    "2021-06-01 13:45:00",
    "2021/06/01",
    "44348",
    "  8400.00  ",
    "8,400.00",
    "８４００",
    "￥8400",
    "x" * 131_073,  # over the csv module's default field limit (131072)
    "万" * 70_000,
]

NUMBER_TEXT = [
    "0",
    "-0",
    "1",
    "-1",
    "2021",
    "8400.5",
    "1e308",
    "1e309",
    "-1e309",
    "1E-400",
    "NaN",
    "nan",
    "INF",
    "-inf",
    "99999999999999999999999999",
    "0x10",
    "",
    " 12 ",
    "1,5",
    "44348",
    "2958466",
    "-693594",
    "1.7976931348623157e+308",
]
DATE_TEXT = [
    "2021-06-01",
    "2021-06-01T00:00:00",
    "2021-06-01T13:45:00",
    "2021-02-30",
    "2021-13-01",
    "0001-01-01",
    "9999-12-31T23:59:59",
    "10000-01-01",
    "-2021-01-01",
    "2021",
    "",
    "x",
    "2021-06-01T25:00:00",
    "2021-06-01Z",
]
ENCODINGS = ["utf-8", "utf-8", "utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "big5", "latin-1"]

#: Strings that stay valid claim text but are hostile to a renderer (markup, markdown, placeholders, bidi, width).
RENDER_STRINGS: list[str] = [
    "<b id=fz>x</b>",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</textarea></script><!--",
    "]]>",
    "&amp;&#x3c;&lt;",
    "**bold** _it_ `code` [l](javascript:alert(1)) | a | b |",
    "# heading\n\n- list\n> quote",
    "\\*\\_\\`",
    "{{ 7*7 }}",
    "{% raw %}",
    "{0}",
    "{n}",
    "{0.__class__}",
    "%s%d%%",
    "\u202eevil\u202c",
    "\u200b\u200d\u2066",
    "a\tb",
    "\x07\x1b[31m",
    "a\r\nb",
    "𝕏😀👨‍👩‍👧",
    "\ufeff",
    "x" * 5000,
    "名" * 600,
    "=cmd|' /C calc'!A0",
    "'; DROP TABLE x; --",
    "null",
    "   ",
]
#: The marker the HTML forms must never show unescaped.
HTML_MARKER = "<b id=fz>"

# --- hostile jinja2, built from a vocabulary that only reads -------------------------------
#
# Names a template can start from (the engine's globals, jinja2's own, the decision, undefined ones).
TPL_NAMES = [
    "d",
    "m",
    "lang",
    "policy",
    "label",
    "clause",
    "kind",
    "fact",
    "value",
    "steps",
    "item_cites",
    "engine_version",
    "lipsum",
    "cycler",
    "joiner",
    "namespace",
    "range",
    "dict",
    "self",
    "loop",
    "caller",
    "varargs",
    "kwargs",
    "config",
    "request",
    "nope",
    "d.items",
    "d.applicant",
    "m.meta",
]
#: Attributes read in a chain (never a method that writes, deletes, executes or opens).
TPL_ATTRS = [
    "__class__",
    "__mro__",
    "__base__",
    "__bases__",
    "__subclasses__",
    "__globals__",
    "__init__",
    "__dict__",
    "__builtins__",
    "__code__",
    "__closure__",
    "__func__",
    "__self__",
    "__module__",
    "__name__",
    "__qualname__",
    "__doc__",
    "__wrapped__",
    "__loader__",
    "__spec__",
    "__len__",
    "__weakref__",
    "mro",
    "func_globals",
    "gi_frame",
    "f_back",
    "f_globals",
    "f_locals",
    "tb_frame",
    "co_consts",
    "_TemplateReference__context",
    "environment",
    "globals",
    "filters",
    "tests",
    "loader",
    "searchpath",
    "mapping",
    "parent",
    "vars",
    "blocks",
    "items",
    "keys",
    "values",
    "upper",
    "meta",
    "rules",
    "applicant",
    "name",
    "total",
    "steps",
]
#: Of those, the ones a chain may call with no arguments (all side-effect free).
TPL_SAFE_CALLS = {"__subclasses__", "mro", "keys", "values", "items", "upper", "__len__"}
TPL_KEYS = ["'os'", "'sys'", "'__builtins__'", "'modules'", "'items'", "'meta'", "'rules'", "'applicant'", "0", "1", "-1", "99"]
TPL_NUMBERS = ["0", "1", "-1", "7", "10**6", "10**9", "9**99", "2**64", "1e308", "1e309", "(10**9)", "0.5"]
TPL_STRINGS = ["'x'", "''", "'{0.__class__}'", "'%s'", "'<script>'", "'\\x00'", "'名'", "'{{ 7*7 }}'", "'a,b'"]
TPL_FILTERS = [
    "e",
    "safe",
    "string",
    "list",
    "length",
    "first",
    "last",
    "sort",
    "reverse",
    "unique",
    "join",
    "join(', ')",
    "sum",
    "min",
    "max",
    "int",
    "float",
    "round",
    "abs",
    "default('z')",
    "title",
    "trim",
    "striptags",
    "wordcount",
    "tojson",
    "pprint",
    "dictsort",
    "items",
    "batch(3)",
    "batch(10**9)",
    "slice(10**6)",
    "center(10**9)",
    "indent(10**9)",
    "truncate(10**9)",
    "wordwrap(1)",
    "replace('', 'xx')",
    "replace('x', 'xxxx')",
    "format(1, 2)",
    "urlize",
    "xmlattr",
    "groupby('x')",
    "map('upper')",
    "map(attribute='__class__')",
    "map(attribute='__name__')",
    "select",
    "reject('none')",
    "selectattr('__class__')",
    "attr('__class__')",
    "attr('__globals__')",
    "attr('__subclasses__')",
    "attr('__init__')",
    "attr('__mro__')",
    "money",
    "percent",
    "fill(n=1)",
    "md",
    "random",
    "filesizeformat",
    "capitalize",
    "count",
]
#: Paths a template may name: in the policy's folder, out of it (relative, absolute), a symlink out of it.
TPL_PATHS = [
    "ok.j2",
    "sub/ok.j2",
    "../outside.j2",
    "escape.j2",
    "../../../../../../etc/hostname",
    "/etc/hostname",
    "/etc/passwd",
    "explain.txt.j2",
    "explain.md.j2",
    "report.html.j2",
    "_explain_body.html.j2",
    "_style.css.j2",
    "_report.js.j2",
    "../README.md",
    "nope.j2",
    "",
    ".",
    "sub",
]
#: What makes a template a bomb: a huge number (as a range, repetition, padding or size).
_BIG = re.compile(r"10\*\*[6-9]|9\*\*99|2\*\*64")
#: Template names a policy may override.
TPL_TARGETS = [
    "explain.txt.j2",
    "explain.md.j2",
    "explain.html.j2",
    "_explain_body.html.j2",
    "report.html.j2",
    "_style.css.j2",
    "_report.js.j2",
    "my_lines.j2",  # a policy's own macros (the engine's `_lines.j2` is retired: overriding it is a load error)
    "extra.j2",
]
#: Words that name anything able to write, delete, execute, open or reach the environment: a generated
#: template containing one is never used (the vocabulary above cannot produce them; this guards edits to it).
_HARMFUL = re.compile(
    r"popen|system|remove|open\(|unlink|rmdir|rmtree|exec|eval|__import__|importlib|subprocess|environ(?!ment)|getenv|putenv|"
    r"kill|write|spawn|fork|rename|replace\(['\"]/|chmod|chown|truncate\(['\"]|compile|socket|shutil|delete|clear|"
    r"update|pop|setattr|delattr|setitem|delitem|exit|quit|mkdir|makedirs|symlink|load_module|call_|run\(|start",
    re.IGNORECASE,
)


#: Where a generated template holds text data (the fragment goes in after the check).
TEXT_SLOT = "\ue000"


def _harmless(text: str) -> bool:
    return _HARMFUL.search(text) is None


class _TemplateGen:
    """Random jinja2 text from the read-only vocabulary above."""

    def __init__(self, rnd: random.Random, fragment: str) -> None:
        self.rnd = rnd
        self.text = TEXT_SLOT  # template data only: the caller puts the hypothesis fragment here after `_harmless`
        self.macros = 0
        # a quarter of the templates may hold bombs (huge ranges, repetitions, paddings): on an engine without
        # limits each costs up to --slow seconds, and the rest should get their share of the time
        self.bombs = rnd.random() < 0.25

    def pick(self, options: list[str]) -> str:
        return self.rnd.choice(options if self.bombs else [o for o in options if not _BIG.search(o)] or options)

    def chain(self) -> str:
        r = self.rnd
        out = r.choice(TPL_NAMES)
        last = ""
        for _ in range(r.randint(0, 7)):
            op = r.random()
            if op < 0.6:
                last = r.choice(TPL_ATTRS)
                out += "." + last
            elif op < 0.8:
                last = ""
                out += "[" + r.choice(TPL_KEYS) + "]"
            elif last in TPL_SAFE_CALLS:
                out += "()"
                last = ""
        return out

    def expr(self, depth: int = 0) -> str:
        r = self.rnd
        op = r.random() if depth < 3 else r.random() * 0.45
        if op < 0.25:
            return self.chain()
        if op < 0.33:
            return self.pick(TPL_NUMBERS)
        if op < 0.4:
            return r.choice(TPL_STRINGS)
        if op < 0.45 and self.bombs:
            return r.choice(
                [
                    "'x' * 10**9",
                    "'x' * 10**6",
                    "[1] * 10**9",
                    "[1, 2] * 10**7",
                    "'x' * 9**99",
                    "range(10**9)",
                    "range(10**9) | list",
                    "lipsum(10**6)",
                    "lipsum(n=10**9)",
                    "'%s' * 10**6 % ()",
                    "'ab' ~ 'x' * 10**8",
                ]
            )
        if op < 0.6:
            return f"{self.expr(depth + 1)} | {self.pick(TPL_FILTERS)}"
        if op < 0.7:
            bop = r.choice(["+", "-", "*", "/", "//", "%", "~", "and", "or", "==", "<", "in", "not in", "is"])
            rhs = r.choice(["defined", "string", "callable", "none"]) if bop == "is" else self.expr(depth + 1)
            return f"({self.expr(depth + 1)} {bop} {rhs})"
        if op < 0.75:
            return f"({self.expr(depth + 1)}) ** 2"  # never a large exponent: a huge power is not interruptible
        if op < 0.82:
            return r.choice(
                [
                    f"range({self.pick(TPL_NUMBERS)})",
                    f"lipsum({self.pick(['1', '10**3', '10**6'])})",
                    f"cycler({self.expr(depth + 1)}, 1)",
                    "joiner()",
                    f"namespace(a={self.expr(depth + 1)})",
                    "dict(a=1)",
                    f"{r.choice(TPL_STRINGS)}.format({self.expr(depth + 1)})",
                    f"'%s' % ({self.expr(depth + 1)},)",
                ]
            )
        if op < 0.9:
            return f"[{self.expr(depth + 1)}, {self.expr(depth + 1)}]" if r.random() < 0.5 else f"{{'a': {self.expr(depth + 1)}}}"
        return f"({self.expr(depth + 1)} if {self.expr(depth + 1)} else {self.expr(depth + 1)})"

    def stmt(self, depth: int = 0) -> str:
        r = self.rnd
        e = self.expr
        op = r.random() if depth < 3 else r.random() * 0.3
        if op < 0.12:
            return self.text
        if op < 0.3:
            return "{{ " + e() + " }}"
        if op < 0.4:
            return "{% for x in " + e() + " %}" + self.body(depth) + "{% endfor %}"
        if op < 0.47:
            return "{% if " + e() + " %}" + self.body(depth) + "{% else %}" + self.body(depth) + "{% endif %}"
        if op < 0.52:
            return "{% set x = " + e() + " %}{{ x }}"
        if op < 0.58:
            path = json.dumps(r.choice(TPL_PATHS))
            return r.choice(
                [
                    "{% include " + path + " %}",
                    "{% include [" + path + ", 'explain.txt.j2'] ignore missing %}",
                    "{% import " + path + " as z %}{{ z }}",
                    "{% from " + path + " import x %}",
                    "{% include " + e() + " %}",
                ]
            )
        if op < 0.61:
            return "{% extends " + json.dumps(r.choice(TPL_PATHS)) + " %}"
        if op < 0.64:
            self.macros += 1
            name = f"f{self.macros}"
            return "{% macro " + name + "(n) %}{{ " + name + "(n) }}{% endmacro %}{{ " + name + "(1) }}"
        if op < 0.67:
            return "{% for x in " + e() + " recursive %}{{ loop(x) }}{% endfor %}"
        if op < 0.7:
            return (
                "{% filter "
                + self.pick(["upper", "e", "center(10**9)", "indent(10**9)", "wordwrap(1)"])
                + " %}"
                + self.body(depth)
                + "{% endfilter %}"
            )
        if op < 0.73:
            return "{% with y = " + e() + " %}" + self.body(depth) + "{% endwith %}"
        if op < 0.76:
            return "{% set ns = namespace(l=[]) %}{% do ns.l.append(" + e() + ") %}{{ ns.l }}"
        if op < 0.79:
            return "{% block b %}" + self.body(depth) + "{% endblock %}{{ self.b() }}"
        if op < 0.82:
            return "{% call(u) " + r.choice(["lipsum", "cycler", "range"]) + "(1) %}" + self.body(depth) + "{% endcall %}"
        if op < 0.85:
            return "{% raw %}" + self.body(depth) + "{% endraw %}"
        if op < 0.88:
            return "{# " + self.text + " #}"
        return r.choice(
            [
                "{{",
                "}}",
                "{%",
                "%}",
                "{% endfor %}",
                "{% for %}",
                "{% if %}",
                "{{ }}",
                "{% break %}",
                "{% continue %}",
                "{{ x.. }}",
                "{{ 'unclosed }}",
                "{% set %}",
                "{% endblock %}",
                "{% trans %}x{% endtrans %}",
                "{%- -%}",
                "{{ (((( }}",
                "{{ " + "(" * 200 + "1" + ")" * 200 + " }}",
                "{{ " + "[" * 200 + "]" * 200 + " }}",
            ]
        )

    def body(self, depth: int) -> str:
        return "".join(self.stmt(depth + 1) for _ in range(self.rnd.randint(0, 3)))

    def template(self) -> str:
        return "".join(self.stmt() for _ in range(self.rnd.randint(1, 5)))


MESSAGE_VALUES = [
    "{0.__class__}",
    "{n.__class__.__mro__}",
    "{n}",
    "{n!r}",
    "{n:>1000000000}",
    "{{n}}",
    "{",
    "}",
    "%s",
    "{{ 7*7 }}",
    "{% for x in range(10**9) %}{% endfor %}",
    "__class__",
    "__init__",
    "__globals__",
    "zh",
    "en",
    "original",
    "x" * 10000,
    "",
    "名",
    "<b id=fz>",
]
#: Text that must never show in a policy's rendered templates: a file outside the policy's folder, or Python internals.
LEAK_MARKERS = [
    "OUTSIDE-THE-POLICY-FOLDER",
    "root:x:0:0",
    "<module '",
    "<frame ",
    "<code object",
    "<cell at ",
    "'__builtins__':",
    "<class 'object'>",
    "<class 'type'>",
]


# --- the runner ----------------------------------------------------------------------------


class Hang(BaseException):
    """Raised by the interval timer in the main thread when one input runs over --slow seconds.

    A BaseException so that no `except Exception` in the engine (e.g. around openpyxl) swallows it."""


class PropertyFailed(Exception):
    """The input was processed, but a property every output must have does not hold."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang


@dataclass
class Stats:
    tried: int = 0
    crashes: int = 0
    hangs: int = 0
    clean_errors: int = 0
    accepted: int = 0
    skipped: int = 0
    seconds: float = 0.0  # inside the target's calls
    wall: float = 0.0  # the target's rounds, generation included
    seen: set[str] = field(default_factory=set)
    kinds: dict[str, int] = field(default_factory=dict)


#: Besides engine.EngineError, the errors a target's callers print as a message (not a crash).
CLEAN: dict[str, tuple[type[BaseException], ...]] = {
    "tabular_csv": (InputError,),
    "tabular_xlsx": (InputError,),
    "render": (RenderError,),
    "render_decision": (RenderError,),
    "templates": (RenderError,),
}

_CELL = re.compile(r'<c r="([A-Z]*)([0-9]*)"([^>]*?)(/>|>.*?</c>)', re.S)
_ROW = re.compile(r"<row [^>]*?(/>|>.*?</row>)", re.S)


def _xml_text(value: str, rnd: random.Random) -> str:
    text = html.escape(value, quote=False)
    if rnd.random() < 0.5:  # OOXML's own escape for control characters; otherwise they stay raw (invalid XML)
        text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", lambda m: f"_x{ord(m.group()):04X}_", text)
    return text


class Fuzzer:
    def __init__(self, slow: float) -> None:
        self.slow = slow
        self.stats: dict[str, Stats] = {}
        self.policy_text = POLICY_PATH.read_text(encoding="utf-8")
        self.policy_lines = self.policy_text.splitlines(keepends=True)
        self.policy_source = parse_yaml(self.policy_text, str(POLICY_PATH))
        self.policy = engine.load_policy(POLICY_PATH)
        import conftest  # the test builders: valid claims to start from
        from regressions.support import tiny_claim, tiny_policy_text

        self.conftest = conftest
        self.tiny_policy = tiny_policy_text("item.count >= 1")
        self.tiny_claim = tiny_claim
        self.expression_paths = [
            p for p in _all_paths(self.policy_source.data) if p and p[-1] in ("test", "of", "by", "when", "external", "count")
        ]
        self.current: tuple[int, str] = (0, "")  # the example being run (its seed and fragment), for --replay
        self.tmp = Path(tempfile.mkdtemp(prefix="policy-engine-fuzz-"))
        self._tabular_setup()
        self._free_text_setup()
        self._templates_setup()

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_one(self, target: str, func: Callable[[], Any], payload: Callable[[], Any], suffix: str = "") -> None:
        st_ = self.stats.setdefault(target, Stats())
        st_.tried += 1
        started = time.perf_counter()
        try:
            try:
                signal.setitimer(signal.ITIMER_REAL, self.slow)
                func()
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except Hang:
            st_.seconds += time.perf_counter() - started
            st_.hangs += 1
            st_.crashes += 1
            self.record(target, f"hang: over {self.slow:g}s", payload(), traceback.format_exc(limit=-8), suffix)
            return
        except (engine.EngineError, *CLEAN.get(target, ())):
            st_.clean_errors += 1
        except Exception as exc:  # a crash: anything that is not a clean error
            st_.seconds += time.perf_counter() - started
            st_.crashes += 1
            kind = type(exc).__name__
            st_.kinds[kind] = st_.kinds.get(kind, 0) + 1
            self.record(target, f"{kind}: {exc}"[:500], payload(), traceback.format_exc(limit=-8), suffix)
            return
        else:
            st_.accepted += 1
        elapsed = time.perf_counter() - started
        st_.seconds += elapsed
        if elapsed > self.slow:  # C code the timer could not interrupt
            st_.hangs += 1
            st_.crashes += 1
            self.record(target, f"slow: {elapsed:.2f}s", payload(), "", suffix)

    def record(self, target: str, error: str, data: Any, tb: str, suffix: str = "") -> None:
        raw = data if isinstance(data, bytes) else None
        text = f"<{len(raw)} bytes: see the {suffix} file>" if raw is not None else _dump(data)
        digest = hashlib.sha256(
            target.encode() + error.split(":")[0].encode() + (raw or text.encode("utf-8", "surrogatepass"))
        ).hexdigest()[:16]
        stats = self.stats[target]
        if digest in stats.seen:
            return
        stats.seen.add(digest)
        CRASH_DIR.mkdir(parents=True, exist_ok=True)
        doc = {
            "target": target,
            "error": error,
            "replay": {"n": self.current[0], "fragment": self.current[1]},
            "input": text,
            "traceback": tb,
        }
        try:
            body = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate in the input: \u escapes keep the file valid UTF-8 and replayable
            body = json.dumps(doc, indent=1).encode("ascii")
        (CRASH_DIR / f"{target}-{digest}.json").write_bytes(body)
        if raw is not None:
            (CRASH_DIR / f"{target}-{digest}{suffix}").write_bytes(raw)
        print(f"CRASH {target}: {error[:200]}", file=sys.stderr, flush=True)

    # yaml_text
    def yaml_text(self, rnd: random.Random, fragment: str) -> None:
        kind = rnd.random()
        if kind < 0.4:
            start = rnd.randrange(len(self.policy_lines))
            lines = self.policy_lines[start : start + rnd.randint(1, 60)]
            lines = [ln for ln in lines]
            for _ in range(rnd.randint(1, 4)):
                i = rnd.randrange(len(lines) + 1)
                lines.insert(i, rnd.choice([*YAML_TOKENS, fragment]) + rnd.choice(["", "\n", ": ", " "]))
            text = "".join(lines)
        elif kind < 0.7:
            text = fragment
        else:
            parts = [rnd.choice([*YAML_TOKENS, fragment]) for _ in range(rnd.randint(1, 12))]
            text = "".join(p + rnd.choice(["", "\n", " ", ": ", "\n  ", ", "]) for p in parts)
        self.run_one("yaml_text", lambda: parse_yaml(text), lambda: text)

    # policy_text
    def policy_text_target(self, rnd: random.Random, fragment: str) -> None:
        lines = list(self.policy_lines)
        for _ in range(rnd.randint(1, 3)):
            i = rnd.randrange(len(lines))
            op = rnd.random()
            if op < 0.3:
                del lines[i]
            elif op < 0.5:
                lines.insert(i, lines[i])
            elif op < 0.8:
                head, sep, _ = lines[i].partition(": ")
                lines[i] = head + sep + rnd.choice([*HOSTILE_EXPRESSIONS, *YAML_TOKENS, fragment]).replace("\n", " ") + "\n"
            else:
                lines.insert(i, rnd.choice(YAML_TOKENS) + "\n")
        text = "".join(lines)
        self.run_one("policy_text", lambda: engine.load_policy_text(text, str(POLICY_PATH)), lambda: text)

    # policy_data
    def policy_data(self, rnd: random.Random, fragment: str) -> None:
        base = self.policy_source.data
        if rnd.random() < 0.5 and self.expression_paths:
            data = copy.deepcopy(base)
            path = rnd.choice(self.expression_paths)
            _get(data, path[:-1])[path[-1]] = rnd.choice([*HOSTILE_EXPRESSIONS, fragment])
        else:
            data = mutate(base, rnd, [*YAML_SCALARS, fragment], rnd.randint(1, 3))
        src = Source(data, self.policy_source.positions, str(POLICY_PATH), self.policy_text)
        self.run_one("policy_data", lambda: _raise_problems(check_source(src)), lambda: data)

    # claim_data
    def valid_claim(self, rnd: random.Random) -> dict[str, Any]:
        c = self.conftest
        applicant = rnd.choice(list(c.APPLICANTS))
        types = list(c.DEFAULT_FACTS)
        items = [c.item(rnd.choice(types), f"i{k}") for k in range(rnd.randint(1, 4))]
        history = None
        if rnd.random() < 0.3:
            history = [
                {
                    "claim_id": "H-1",
                    "item_id": "h1",
                    "rule": "pledge-loan-interest",
                    "applicant_id": c.APPLICANTS[applicant]["id"],
                    "funding_year": 2021,
                    "amount": "250000.00",
                    "consumes": [
                        {"cap": "pledge-annual-cap", "scope": [c.APPLICANTS[applicant]["id"], 2021], "amount": "250000.00"},
                        {"limit": "pledge-three-times", "scope": [c.APPLICANTS[applicant]["id"]], "counts": ["LOAN-0", 2020]},
                    ],
                }
            ]
        return c.claim(*items, applicant=applicant, history=history)

    def claim_data(self, rnd: random.Random, fragment: str) -> None:
        data = mutate(self.valid_claim(rnd), rnd, [*HOSTILE_SCALARS, fragment], rnd.randint(1, 3))

        def go() -> None:
            engine.evaluate(self.policy, data).to_json()

        self.run_one("claim_data", go, lambda: data)

    # claim_text
    def claim_text(self, rnd: random.Random, fragment: str) -> None:
        text = json.dumps(self.valid_claim(rnd), ensure_ascii=False)
        chars = list(text)
        for _ in range(rnd.randint(1, 5)):
            i = rnd.randrange(len(chars) + 1)
            op = rnd.random()
            if op < 0.4 and i < len(chars):
                del chars[i : i + rnd.randint(1, 8)]
            elif op < 0.8:
                chars.insert(
                    i,
                    rnd.choice(
                        [fragment, "NaN", "Infinity", "-1", "1e3", "1.5e308", "9" * 400, "[" * 3000, '"\\u0000"', '"\\ud800"', "{}", "null"]
                    ),
                )
            else:
                chars[i:i] = rnd.choice(["\x00", "\ufeff", "\\", '"'])

        def guarded() -> None:
            try:
                data = engine.loads_json("".join(chars))
            except ValueError as exc:  # loads_json's documented failure (json's syntax errors included): the CLI's ClaimError
                raise engine.ClaimError([engine.Problem(str(exc))], "cannot parse") from None
            engine.evaluate(self.policy, data).to_json()

        self.run_one("claim_text", guarded, lambda: "".join(chars))

    # --- tabular_csv and tabular_xlsx --------------------------------------------------------

    def _tabular_setup(self) -> None:
        """The example round as CSV rows (one per item, the application's cells repeated), and the workbooks' parts."""
        from openpyxl import load_workbook

        wb = load_workbook(XLSX_BASES[0], read_only=True, data_only=True)
        apps = list(wb["申请人"].iter_rows(values_only=True))  # (the template's applicants sheet)
        items = list(wb["事项"].iter_rows(values_only=True))  # (its items sheet)
        wb.close()
        app_head = [str(h) for h in apps[0]]
        item_head = [str(h) for h in items[0]]
        by_claim = {str(r[0]): r for r in apps[1:] if r and r[0] is not None}
        self.csv_header = app_head + item_head[1:]
        self.csv_rows: list[list[str]] = []
        for r in items[1:]:
            if not r or r[0] is None:
                continue
            head = by_claim.get(str(r[0])) or (str(r[0]),) + (None,) * (len(app_head) - 1)
            cells = list(head) + list(r[1:])
            self.csv_rows.append(["" if c is None else str(c) for c in cells])
        self.xlsx_bases: list[list[tuple[str, bytes]]] = []
        for path in XLSX_BASES:
            with zipfile.ZipFile(path) as z:
                parts = [(i.filename, z.read(i)) for i in z.infolist()]
            # a date and a date-time style appended (indexes 4 and 5), for numeric cells read as dates
            parts = [
                (
                    n,
                    b.replace(b'<cellXfs count="4">', b'<cellXfs count="6">').replace(
                        b"</cellXfs>",
                        b'<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
                        b'<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>',
                    ),
                )
                if n == "xl/styles.xml"
                else (n, b)
                for n, b in parts
            ]
            self.xlsx_bases.append(parts)

    def read_tabular(self, path: Path) -> None:
        """Read every record, then parse and decide each readable one, as a batch does (EngineErrors are its records)."""
        reader = open_input(path, self.policy)
        try:
            for rec in reader:
                if rec.data is None:
                    if not rec.problems:
                        raise PropertyFailed(f"record {rec.number} has no data and no problem")
                    continue
                try:
                    parsed = engine.parse_claim(self.policy, rec.data, file=str(path))
                    engine.evaluate_claim(self.policy, parsed).to_json()
                except engine.EngineError as err:
                    claim_problems(rec, err)
        finally:
            reader.close()

    def _cell(self, rnd: random.Random, fragment: str) -> str:
        return rnd.choice([*CELL_VALUES, *RENDER_STRINGS, fragment])

    def tabular_csv(self, rnd: random.Random, fragment: str) -> None:
        header = list(self.csv_header)
        rows = [list(r) for r in self.csv_rows]
        if rnd.random() < 0.3:
            rows.insert(0, ["# label"] + ["标签 / label"] * (len(header) - 1))
        for _ in range(rnd.randint(1, 4)):
            op = rnd.random()
            i = rnd.randrange(len(header))
            if op < 0.45 and rows:
                row = rnd.choice(rows)
                row += [""] * (i + 1 - len(row))
                row[i] = self._cell(rnd, fragment)
            elif op < 0.55:
                header[i] = rnd.choice(
                    [
                        "",
                        "claim_id",
                        header[(i + 1) % len(header)],
                        header[i].upper(),
                        header[i] + " ",
                        " " + header[i],
                        "item.nope",
                        "applicant.__class__",
                        "\ufeffclaim_id",
                        "claim.",
                        "item.",
                        fragment,
                        self._cell(rnd, fragment),
                    ]
                )
            elif op < 0.6:
                del header[i]
            elif op < 0.7 and rows:
                row = rnd.choice(rows)
                if rnd.random() < 0.5:
                    del row[rnd.randrange(len(row) + 1) :]
                else:
                    row += [self._cell(rnd, fragment) for _ in range(rnd.randint(1, 5))]
            elif op < 0.8 and rows:
                k = rnd.randrange(len(rows))
                choice = rnd.random()
                if choice < 0.4:
                    rows.insert(k, list(rows[k]))
                elif choice < 0.7:
                    del rows[k]
                else:
                    rows.insert(k, [""] * rnd.randint(0, len(header)))
            elif op < 0.9:
                value = self._cell(rnd, fragment)
                for row in rows:
                    if i < len(row):
                        row[i] = value
            elif rows:
                rows = rows[: rnd.randint(0, len(rows))]
        buf = io.StringIO()
        terminator = rnd.choice(["\r\n", "\n", "\r"])
        if rnd.random() < 0.15:  # hand-joined: quotes and commas inside cells left as they are
            buf.write(terminator.join(",".join(r) for r in [header, *rows]))
        else:
            quoting = rnd.choice([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
            csv.writer(buf, quoting=quoting, lineterminator=terminator).writerows([header, *rows])
        data = buf.getvalue().encode(rnd.choice(ENCODINGS), errors="replace")
        if rnd.random() < 0.2:
            data = _damage(rnd, data)
        path = self.tmp / "input.csv"
        path.write_bytes(data)
        self.run_one("tabular_csv", lambda: self.read_tabular(path), lambda: data, ".csv")

    def _xlsx_cell(self, rnd: random.Random, ref: str, fragment: str) -> str:
        kind = rnd.random()
        if kind < 0.35:
            return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_xml_text(self._cell(rnd, fragment), rnd)}</t></is></c>'
        if kind < 0.5:
            t = rnd.choice(['t="n" ', "", 's="4" ', 's="5" '])
            return f'<c r="{ref}" {t}><v>{rnd.choice(NUMBER_TEXT)}</v></c>'
        if kind < 0.6:
            return f'<c r="{ref}" t="d"><v>{rnd.choice(DATE_TEXT)}</v></c>'
        if kind < 0.65:
            return f'<c r="{ref}" t="b"><v>{rnd.choice(["0", "1", "2", "true", "x", ""])}</v></c>'
        if kind < 0.7:
            return f'<c r="{ref}" t="e"><v>{rnd.choice(["#DIV/0!", "#N/A", "#REF!", "#VALUE!", "x"])}</v></c>'
        if kind < 0.77:
            return f'<c r="{ref}" t="str"><f>SUM(A1:A9)</f><v>{_xml_text(self._cell(rnd, fragment), rnd)}</v></c>'
        if kind < 0.87:
            return f'<c r="{ref}" t="s"><v>{rnd.choice(["0", "1", "5", "-1", "99999", "x", ""])}</v></c>'
        if kind < 0.92:
            return f'<c r="{ref}" s="{rnd.choice(["9999", "-1", "x"])}"><v>1</v></c>'
        if kind < 0.96:
            return f'<c r="{ref}" t="{rnd.choice(["inlineStr", "x", ""])}"/>'
        return f'<c r="{ref}" t="inlineStr"><is><t>{_xml_text(self._cell(rnd, fragment), rnd)}</t></is>'  # unclosed

    def _xlsx_sheet(self, rnd: random.Random, xml: str, fragment: str) -> str:
        op = rnd.random()
        cells = list(_CELL.finditer(xml))
        if op < 0.5 and cells:
            m = rnd.choice(cells) if rnd.random() < 0.8 else cells[rnd.randrange(min(len(cells), 40))]  # header row more often
            ref = m.group(1) + m.group(2)
            if rnd.random() < 0.1:
                ref = rnd.choice(["XFD1048576", "A0", "", "1A", "ZZZZZ1", "A99999999999", "B2", m.group(1) + "1"])
            return xml[: m.start()] + self._xlsx_cell(rnd, ref, fragment) + xml[m.end() :]
        if op < 0.6:
            ref = rnd.choice(["A1:XFD1048576", "A1:M1048576", "A1:XFD9", "A1", "", "ZZZZZ1", "A1:A0", "X", "A1:B99999999999"])
            return re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>', xml)
        rows = list(_ROW.finditer(xml))
        if not rows:
            return xml
        m = rnd.choice(rows)
        if op < 0.7:
            new = re.sub(r'r="[0-9]+"', f'r="{rnd.choice(["1", "0", "-1", "x", "1048576", "1048577", "99999999999"])}"', m.group(), count=1)
            return xml[: m.start()] + new + xml[m.end() :]
        if op < 0.8:
            return xml[: m.start()] + xml[m.end() :]
        if op < 0.88:
            return xml[: m.end()] + m.group() + xml[m.end() :]
        if op < 0.94:
            filler = "".join(f'<row r="{k}"/>' for k in range(100, 100 + rnd.choice([10, 1000, 5000])))
            return xml.replace(
                "</sheetData>", filler + '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>Z</t></is></c></row></sheetData>'
            )
        return xml[: m.start()] + f"<row>{_xml_text(fragment, rnd)}</row>" + xml[m.end() :]

    def tabular_xlsx(self, rnd: random.Random, fragment: str) -> None:
        parts = dict(rnd.choice(self.xlsx_bases))
        for _ in range(rnd.randint(1, 4)):
            sheet = rnd.choice(["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"])
            parts[sheet] = self._xlsx_sheet(rnd, parts[sheet].decode("utf-8", "surrogatepass"), fragment).encode("utf-8", "surrogatepass")
        if rnd.random() < 0.1:
            op = rnd.random()
            if op < 0.4:
                wb = parts["xl/workbook.xml"].decode()
                # the template's tabs, 申请人 (applicants) and 事项 (items): renamed to their codes, to each other's
                # names (two sheets of one kind), or to no or a too long name
                old = rnd.choice(['name="申请人"', 'name="事项"'])
                parts["xl/workbook.xml"] = wb.replace(
                    old, f'name="{rnd.choice(["Applicants", "items", "applicants", "申请人", "事项", "", "x" * 40])}"'
                ).encode()
            elif op < 0.7:
                del parts[rnd.choice(list(parts))]
            else:
                parts[rnd.choice(list(parts))] = fragment.encode("utf-8", "surrogatepass")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, content in parts.items():
                z.writestr(name, content)
        data = buf.getvalue()
        if rnd.random() < 0.05:
            data = _damage(rnd, data)
        path = self.tmp / "input.xlsx"
        path.write_bytes(data)
        self.run_one("tabular_xlsx", lambda: self.read_tabular(path), lambda: data, ".xlsx")

    # --- render and render_decision --------------------------------------------------------

    def render_claim(self, rnd: random.Random, fragment: str) -> dict[str, Any]:
        """A claim that mostly stays valid: free-text facts replaced by text hostile to a renderer."""
        data = self.valid_claim(rnd)
        strings = [*RENDER_STRINGS, fragment]
        text_paths = [p for p in _all_paths(data) if p and isinstance(_get(data, p), str) and _text_key(p) in self.free_text]
        for _ in range(rnd.choice([0, 1, 1, 2, 3])):
            if text_paths:
                path = rnd.choice(text_paths)
                _get(data, path[:-1])[path[-1]] = rnd.choice(strings)
        if rnd.random() < 0.15:
            data = mutate(data, rnd, [*HOSTILE_SCALARS, *strings], 1)
        return data

    def _free_text_setup(self) -> None:
        """The facts that take free text (a claim with markup in them is still valid): the render target's playground."""
        self.free_text: set[str] = set()
        c = self.conftest
        data = c.claim(*[c.item(t, f"i{k}") for k, t in enumerate(c.DEFAULT_FACTS)])
        for path in _all_paths(data):
            if path and isinstance(_get(data, path), str) and "history" not in path:
                trial = copy.deepcopy(data)
                _get(trial, path[:-1])[path[-1]] = HTML_MARKER + "x</b>"
                try:
                    engine.parse_claim(self.policy, trial)
                except engine.EngineError:
                    continue
                self.free_text.add(_text_key(path))

    def render(self, rnd: random.Random, fragment: str) -> None:
        data = self.render_claim(rnd, fragment)
        report = rnd.random() < 0.15

        def go() -> None:
            decision = engine.evaluate(self.policy, data)
            d = decision.to_dict()
            for lang in LANGS:
                fast = explain(self.policy, decision, lang, "text")
                if fast != explain(self.policy, d, lang, "text"):
                    raise PropertyFailed(f"the text from the Decision and from its JSON dict differ ({lang})")
                for fmt in ("md", "html", "json"):
                    out = explain(self.policy, decision if rnd.random() < 0.5 else d, lang, fmt)
                    if fmt == "html" and HTML_MARKER in out:
                        raise PropertyFailed(f"html ({lang}) shows {HTML_MARKER!r} unescaped")
                    if fmt == "json" and json.loads(out) != json.loads(decision.to_json()):
                        raise PropertyFailed(f"json ({lang}) is not the decision")
                if report:
                    from engine.explaining.render import ReportError

                    out = render_report(self.policy, [decision, ReportError("x.json", HTML_MARKER, [HTML_MARKER])], lang, title=HTML_MARKER)
                    if HTML_MARKER in out:
                        raise PropertyFailed(f"report ({lang}) shows {HTML_MARKER!r} unescaped")

        self.run_one("render", go, lambda: data)

    def render_decision(self, rnd: random.Random, fragment: str) -> None:
        """A decision as a batch's decisions.jsonl holds it, hand-edited, given back to `explain` as a .json file."""
        data = self.valid_claim(rnd)
        try:
            d = engine.evaluate(self.policy, data).to_dict()
        except engine.EngineError:
            return
        keep = {"format": d["format"], "policy": d["policy"]}
        json_scalars = [v for v in HOSTILE_SCALARS if not isinstance(v, float | Decimal)]
        d = mutate(d, rnd, [*json_scalars, *RENDER_STRINGS, fragment], rnd.randint(1, 3))
        if isinstance(d, dict) and rnd.random() < 0.9:
            d.update(keep)  # mostly still recognised as a decision made under this policy
        text = json.dumps(d, ensure_ascii=False)
        lang, fmt = rnd.choice(LANGS), rnd.choice(FORMATS)
        path = self.tmp / "decision.json"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")  # a lone surrogate as the bytes an editor might leave

        def go() -> None:  # as engine.cli.explain.cmd_explain does with a decision
            from engine.explaining.render import recorded_decision
            from engine.records.inputs import read_document

            doc, _source = read_document(path)
            recorded = recorded_decision(self.policy, doc)
            if recorded is None:
                raise engine.ClaimError([engine.Problem("not a decision")], "not a decision")
            explain(self.policy, recorded, lang, fmt)

        self.run_one("render_decision", go, lambda: text)

    # --- templates -------------------------------------------------------------------------

    def _templates_setup(self) -> None:
        """A policy folder with templates in it and below it, one outside it, and symlinks out of it."""
        folder = self.tmp / "policy"
        (folder / "sub").mkdir(parents=True)
        (folder / "ok.j2").write_text("OK {{ d.claim_id }}\n", encoding="utf-8")
        (folder / "sub" / "ok.j2").write_text("SUB {{ d.claim_id }}\n", encoding="utf-8")
        (self.tmp / "outside.j2").write_text("OUTSIDE-THE-POLICY-FOLDER\n", encoding="utf-8")
        (folder / "escape.j2").symlink_to(self.tmp / "outside.j2")
        (folder / "zero.j2").symlink_to("/dev/zero")  # a device: must be refused before reading (memory-limited here)
        self.policy_file = str(folder / "policy.yaml")
        # (the keys a policy's `templates:` may override: the explanation catalogue's)
        self.message_keys = [k for k, v in _flatten(yaml.safe_load((MESSAGE_DIR / "en" / "explanation.yaml").read_text("utf-8")))]

    def templates(self, rnd: random.Random, fragment: str) -> None:
        overrides: dict[str, dict[str, str]] = {}
        gen = _TemplateGen(rnd, fragment)
        for _ in range(rnd.randint(1, 3)):
            scope = rnd.choice(["all", "all", "zh", "en", "fr"])
            if rnd.random() < 0.75:
                key = rnd.choice(TPL_TARGETS)
                value = gen.template() if rnd.random() < 0.8 else rnd.choice([*TPL_PATHS, "../outside.j2", "escape.j2", "sub/ok.j2"])
                if rnd.random() < 0.005:  # a symlink to /dev/zero: read until memory runs out (seconds) on an engine that reads it
                    value = "zero.j2"
            else:
                key = rnd.choice([*self.message_keys, "meta", "nope.key", "meta.__class__"])
                value = rnd.choice([*MESSAGE_VALUES, gen.template()])
            overrides.setdefault(scope, {})[key] = value
        if not _harmless(json.dumps(overrides)):
            self.stats.setdefault("templates", Stats()).skipped += 1
            return
        data_text = re.sub(r"[{}%#\ue000]", "", fragment)[:200]  # the fragment is template data, never code
        lines = [self.tiny_policy.rstrip("\n"), "templates:"]
        for scope, entries in overrides.items():
            lines.append(f"  {scope}:")
            lines += [f"    {json.dumps(k)}: {json.dumps(v.replace(TEXT_SLOT, data_text), ensure_ascii=False)}" for k, v in entries.items()]
        text = "\n".join(lines) + "\n"
        report = any(k in ("report.html.j2", "_explain_body.html.j2", "_style.css.j2") for e in overrides.values() for k in e)

        def go() -> None:
            policy = engine.load_policy_text(text, self.policy_file)
            decision = engine.evaluate(policy, self.tiny_claim())
            lang = rnd.choice([s for s in overrides if s in LANGS] or LANGS)  # one language per input: compiling is the cost
            outputs = [explain(policy, decision, lang, fmt) for fmt in ("text", "md", "html")]
            if report or rnd.random() < 0.1:
                outputs.append(render_report(policy, [decision], lang))
            for out in outputs:
                for marker in LEAK_MARKERS:
                    if marker in out:
                        raise PropertyFailed(f"a policy's template showed {marker!r}")

        self.run_one("templates", go, lambda: text)


def _damage(rnd: random.Random, data: bytes) -> bytes:
    """Byte-level damage: NULs, stray bytes, a truncation, a foreign byte-order mark."""
    b = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        op = rnd.random()
        i = rnd.randrange(len(b) + 1)
        if op < 0.3:
            b[i:i] = b"\x00" * rnd.randint(1, 3)
        elif op < 0.6 and b:
            b[min(i, len(b) - 1)] = rnd.randrange(256)
        elif op < 0.8:
            del b[i:]
        else:
            b[0:0] = rnd.choice([b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"\x81", b"\xe4\xb8"])
    return bytes(b)


def _text_key(path: tuple[Any, ...]) -> str:
    """A claim path's fact with its parent's name: `applicant.id`, `items.id`, `items.right_holders` (for any entry)."""
    return ".".join([p for p in path if isinstance(p, str)][-2:])


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in value.items():
        if isinstance(v, dict):
            out += _flatten(v, f"{prefix}{k}.")
        else:
            out.append((f"{prefix}{k}", v))
    return out


def _raise_problems(result: tuple[Any, list[Any]]) -> None:
    _policy, problems = result
    if problems:
        raise engine.PolicyError(problems, "invalid")


def _dump(data: Any) -> str:
    if isinstance(data, str):
        return data
    return repr(data)


TARGETS = (
    "yaml_text",
    "policy_data",
    "claim_data",
    "claim_text",
    "policy_text",
    "tabular_csv",
    "tabular_xlsx",
    "render",
    "render_decision",
    "templates",
)
#: Share of the rounds in a --minutes (round-robin) run.
WEIGHTS = {
    "yaml_text": 3,
    "policy_data": 2,
    "claim_data": 4,
    "claim_text": 2,
    "policy_text": 1,
    "tabular_csv": 2,
    "tabular_xlsx": 2,
    "render": 2,
    "render_decision": 1,
    "templates": 2,
}
#: Examples per hypothesis round (slow targets get short rounds so a deadline is kept).
ROUND = {"policy_text": 60, "policy_data": 60, "tabular_xlsx": 60, "render": 60, "templates": 60}
METHOD = {"policy_text": "policy_text_target"}


def _limit_memory(megabytes: int) -> None:
    if megabytes > 0:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = megabytes * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))


def replay(path: Path, slow: float, memory_mb: int) -> int:
    """Run a recorded crash's input again (same target, seed and fragment); print its outcome; 1 if it still crashes."""
    crash = json.loads(path.read_text(encoding="utf-8"))
    target, n, fragment = crash["target"], crash["replay"]["n"], crash["replay"]["fragment"]
    _limit_memory(memory_mb)
    signal.signal(signal.SIGALRM, _on_alarm)
    fuzzer = Fuzzer(slow)
    global CRASH_DIR
    CRASH_DIR = fuzzer.tmp / "crashes"  # the replay's own record, not a second copy in fuzz/crashes
    try:
        fuzzer.current = (n, fragment)
        getattr(fuzzer, METHOD.get(target, target))(random.Random(n), fragment)  # noqa: S311 -- reproducible, not crypto
        stats = fuzzer.stats.get(target, Stats())
        for record in sorted(CRASH_DIR.glob("*.json")) if CRASH_DIR.exists() else []:
            print(json.loads(record.read_text(encoding="utf-8"))["traceback"] or record.name)
        outcome = "crash" if stats.crashes else "clean error" if stats.clean_errors else "accepted" if stats.accepted else "skipped"
        print(f"{target} n={n}: {outcome}")
        return 1 if stats.crashes else 0
    finally:
        fuzzer.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    when = ap.add_mutually_exclusive_group()
    when.add_argument("--minutes", type=float, default=None, help="fuzz the targets round-robin for this long in all (default 10)")
    when.add_argument("--minutes-each", type=float, default=None, help="fuzz each target for this long, one after another")
    ap.add_argument("--target", choices=TARGETS, action="append", help="fuzz only these targets (repeatable)")
    ap.add_argument("--seed", type=int, default=None, help="seed for the first round (default: time-based)")
    ap.add_argument("--slow", type=float, default=5.0, help="seconds after which one input is a hang (default 5)")
    ap.add_argument("--memory-mb", type=int, default=2048, help="address-space limit of this process in MB; 0: none (default 2048)")
    ap.add_argument("--json", metavar="FILE", help="also write the summary as JSON")
    ap.add_argument("--replay", metavar="CRASH.json", help="run the one input a crash file records again, and show what it does")
    args = ap.parse_args(argv)
    if args.replay:
        return replay(Path(args.replay), args.slow, args.memory_mb)
    targets = list(dict.fromkeys(args.target or TARGETS))
    warnings.filterwarnings("ignore", module="openpyxl")  # its notes on odd cells would bury the crash lines
    _limit_memory(args.memory_mb)
    signal.signal(signal.SIGALRM, _on_alarm)
    fuzzer = Fuzzer(args.slow)
    base_seed = args.seed if args.seed is not None else int(time.time())
    started = time.monotonic()
    rounds = 0

    fragments = st.one_of(
        st.text(max_size=80),
        st.text(alphabet=st.sampled_from(list("[]{}:-&*!|>'\"#%@`,?~ \n\t0123456789.eE+_abcxyz万元%第条")), max_size=120),
        st.sampled_from(YAML_TOKENS + HOSTILE_EXPRESSIONS),
        st.builds(lambda n: "x" * n, st.integers(0, 5000)),
    )

    def fuzz(plan: list[str], deadline: float) -> None:
        nonlocal rounds
        while time.monotonic() < deadline:
            target = plan[rounds % len(plan)]
            rnd_seed = base_seed + rounds
            rounds += 1
            method = getattr(fuzzer, METHOD.get(target, target))

            @seed(rnd_seed)
            @settings(
                max_examples=ROUND.get(target, 300),
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(fragment=fragments, n=st.integers(0, 2**32))
            def one(fragment: str, n: int) -> None:
                if time.monotonic() >= deadline:
                    return
                fuzzer.current = (n, fragment)
                method(random.Random(n), fragment)  # noqa: B023, S311 -- called at once in this round; reproducible, not crypto

            round_started = time.monotonic()
            one()
            fuzzer.stats.setdefault(target, Stats()).wall += time.monotonic() - round_started

    try:
        if args.minutes_each is not None:
            for target in targets:
                fuzz([target], time.monotonic() + args.minutes_each * 60)
        else:
            minutes = 10.0 if args.minutes is None else args.minutes
            fuzz([t for t in targets for _ in range(WEIGHTS[t])], time.monotonic() + minutes * 60)
    finally:
        fuzzer.close()

    elapsed = time.monotonic() - started
    summary = {
        "minutes": round(elapsed / 60, 2),
        "seed": base_seed,
        "rounds": rounds,
        "slow_limit_s": args.slow,
        "inputs_tried": sum(s.tried for s in fuzzer.stats.values()),
        "crashes": sum(s.crashes for s in fuzzer.stats.values()),
        "hangs": sum(s.hangs for s in fuzzer.stats.values()),
        "targets": {
            t: {
                "tried": s.tried,
                "minutes": round(s.wall / 60, 2),
                "minutes_in_target": round(s.seconds / 60, 2),
                "clean_errors": s.clean_errors,
                "accepted": s.accepted,
                "crashes": s.crashes,
                "hangs": s.hangs,
                "distinct_crashes": len(s.seen),
                **({"skipped": s.skipped} if s.skipped else {}),
                **({"errors": dict(sorted(s.kinds.items()))} if s.kinds else {}),
            }
            for t, s in fuzzer.stats.items()
        },
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 1 if summary["crashes"] else 0


if __name__ == "__main__":
    sys.exit(main())
