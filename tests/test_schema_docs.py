"""The policy schema documents every field for an officer's editor (issue 5, point 6).

A YAML language server (VS Code's YAML extension, yamlls) shows a field's `title`
and `description` on hover and in the completion list, offers `enum` values as
completions and `examples` as snippets. These tests hold the schema to that:
every property has a title and a description in Chinese and English, closed
sets are enums, examples are valid values, and every policy file binds the
schema with its first line. What the language server really shows is checked by
tools/editor/check_language_server.py (see docs/editor-support.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from engine.core.identifiers import FORMATS, PROBLEMS
from engine.core.quantities import ROUNDING_MODES
from engine.language.compiler import DEFAULT_REFUSAL_ORDER
from engine.language.source import load_yaml_file
from engine.language.validate import schema_problems

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / "schemas" / "policy.schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))

CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORD = re.compile(r"\b[A-Za-z]{3,}\b")


def properties(node: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (JSON pointer, subschema) that is a named property anywhere in the schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    yield f"{path}/properties/{name}", sub
            yield from properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from properties(value, f"{path}/{i}")


PROPERTIES = dict(properties(SCHEMA))


def resolve(pointer: str) -> Any:
    node: Any = SCHEMA
    for part in pointer.lstrip("#/").split("/"):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def test_the_walk_sees_every_property() -> None:
    # A floor, not the exact count: other fields may be added. 140 on 2026-11-27.
    assert len(PROPERTIES) >= 130
    assert "#/$defs/rule/properties/subject/properties/pays" in PROPERTIES
    assert "#/$defs/amount/oneOf/4/properties/bands/items/properties/from" in PROPERTIES


@pytest.mark.parametrize("pointer", sorted(PROPERTIES))
def test_every_property_has_a_bilingual_title_and_description(pointer: str) -> None:
    sub = PROPERTIES[pointer]
    title, description = sub.get("title", ""), sub.get("description", "")
    assert title, f"{pointer}: no title"
    assert CJK.search(title) and ENGLISH_WORD.search(title), f"{pointer}: title is not 'English / 中文': {title!r}"
    assert description, f"{pointer}: no description"
    assert CJK.search(description), f"{pointer}: description has no Chinese: {description!r}"
    assert ENGLISH_WORD.search(description), f"{pointer}: description has no English: {description!r}"


def test_titles_follow_the_english_slash_chinese_convention() -> None:
    odd = [p for p, sub in PROPERTIES.items() if " / " not in sub["title"]]
    assert odd == []


# Closed sets, written out from docs/policy-language.md and the engine's own tables.
ENUMS = {
    "#/properties/policy/properties/rounding/properties/mode": {"half_up", "half_even", "down"},
    "#/properties/policy/properties/rounding/properties/quantum": {"1", "0.1", "0.01"},
    "#/$defs/fact/properties/type": {
        "string", "boolean", "integer", "money", "decimal", "percent", "count", "date", "enum", "enum_list",
        "string_list", "date_list", "document_list", "identifier", "item_type",
    },
    "#/$defs/fact/properties/on_record": {"fills", "authoritative"},
    "#/$defs/fact/properties/values_from": {"applicant_kinds", "applicant_roles", "documents"},
    "#/$defs/fact/properties/format": {"uscc", "resident_id", "uscc_or_resident_id", "cn_patent", "patent_number"},
    "#/$defs/check/properties/level": {"applicant", "item"},
    "#/$defs/rule/properties/subject/properties/pays": {"highest", "difference"},
    "#/properties/policy/properties/round_budget/properties/rounding/properties/mode": {"floor", "half_up", "half_even"},
    "#/properties/policy/properties/round_budget/properties/rounding/properties/remainder": {"largest_remainder", "unallocated"},
    "#/$defs/category": {"standing", "scope", "time", "double_benefit", "condition", "limit", "cap", "documents"},
}  # fmt: skip


@pytest.mark.parametrize("pointer", sorted(ENUMS))
def test_closed_sets_are_enums(pointer: str) -> None:
    assert set(resolve(pointer)["enum"]) == ENUMS[pointer]


def test_enums_agree_with_the_engine() -> None:
    assert set(ROUNDING_MODES) == ENUMS["#/properties/policy/properties/rounding/properties/mode"]
    assert set(DEFAULT_REFUSAL_ORDER) == ENUMS["#/$defs/category"]
    assert set(PROBLEMS) == set(FORMATS) == ENUMS["#/$defs/fact/properties/format"]  # (every format the schema lets through is checked)


def test_properties_citing_a_category_get_the_enum() -> None:
    for pointer in ("#/$defs/test/properties/category", "#/$defs/check/properties/category"):
        assert PROPERTIES[pointer]["$ref"] == "#/$defs/category"


def test_enum_descriptions_match_their_enums() -> None:
    def walk(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(node, dict):
            if "enumDescriptions" in node:
                yield path, node
            for k, v in node.items():
                yield from walk(v, f"{path}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, f"{path}/{i}")

    found = dict(walk(SCHEMA, "#"))
    assert "#/$defs/rule/properties/subject/properties/pays" in found
    for pointer, sub in found.items():
        assert len(sub["enumDescriptions"]) == len(sub["enum"]), pointer
        for text in sub["enumDescriptions"]:
            assert CJK.search(text) and ENGLISH_WORD.search(text), f"{pointer}: {text!r}"


def _example_cases() -> list[tuple[str, Any]]:
    cases = []
    for pointer, sub in PROPERTIES.items():
        for n, example in enumerate(sub.get("examples", [])):
            cases.append(pytest.param(pointer, example, id=f"{pointer.split('/properties/')[-1]}[{n}]"))
    return cases


@pytest.mark.parametrize(("pointer", "example"), _example_cases())
def test_examples_are_valid_values(pointer: str, example: Any) -> None:
    sub = {k: v for k, v in PROPERTIES[pointer].items() if k != "examples"}
    jsonschema.Draft202012Validator({**sub, "$defs": SCHEMA["$defs"]}).validate(example)


def test_the_officer_examples_are_there() -> None:
    """The examples the brief asks for: a cap amount, a rate, a clause citation."""
    cap_max = PROPERTIES["#/$defs/cap/properties/max"]["examples"]
    assert "30万" in cap_max and 300000 in cap_max
    assert "50%" in PROPERTIES["#/$defs/amount/oneOf/0/properties/rate"]["examples"]
    assert "第六条第（一）项" in PROPERTIES["#/$defs/rule/properties/cites"]["examples"]


def test_clause_text_example_is_verbatim_in_the_measures() -> None:
    text = (ROOT / "policies" / "texts" / "pinggu_ip_measures.zh.txt").read_text(encoding="utf-8")
    (example,) = PROPERTIES["#/properties/clauses/additionalProperties/properties/text"]["examples"]
    assert example in text


MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")
POLICY_FILES = [
    ROOT / "policies" / "pinggu_2020.yaml",
    ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml",
    ROOT / "tests" / "fixtures" / "fictional_district.yaml",
]


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.name)
def test_policy_files_bind_the_schema_on_their_first_line(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = MODELINE.match(first)
    assert match, f"{path.name}: first line is {first!r}"
    assert (path.parent / match.group(1)).resolve() == SCHEMA_PATH


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.name)
def test_the_documented_schema_still_validates_the_policies(path: Path) -> None:
    assert schema_problems(load_yaml_file(path)) == []


def test_amounts_are_one_of_two_disjoint_forms() -> None:
    """`oneOf` number | text, not `anyOf`: the YAML language server then shows an amount field's
    title once (with `anyOf` it repeats the title per branch: "Maximum || Maximum || Maximum")."""
    from decimal import Decimal

    amount = SCHEMA["$defs"]["amount_value"]
    assert [branch["type"] for branch in amount["oneOf"]] == ["number", "string"]
    validator = jsonschema.Draft202012Validator({"$ref": "#/$defs/amount_value", "$defs": SCHEMA["$defs"]})
    for good in (300000, 0, Decimal("300000.00"), Decimal("12.5"), "300000", "30万", "30万元", "12.5万", "300000元"):
        assert validator.is_valid(good), good
    for bad in (-5, "30万元x", "-5", True, None):
        assert not validator.is_valid(bad), bad


EDITOR_TOOLS = ROOT / "tools" / "editor"


def test_a_real_yaml_language_server_completes_and_documents() -> None:
    """tools/editor/check_language_server.py against yaml-language-server, when it is installed.

    .ci/start-editor.sh installs the server in CI (best effort); locally run `npm ci` in tools/editor once.
    """
    import importlib.util
    import shutil

    if shutil.which("node") is None:
        pytest.skip("node is not installed; the language-server check needs Node 18+")
    if not (EDITOR_TOOLS / "node_modules" / "yaml-language-server").is_dir():
        pytest.skip("yaml-language-server is not installed: run `npm ci` in tools/editor")
    spec = importlib.util.spec_from_file_location("check_language_server", EDITOR_TOOLS / "check_language_server.py")
    assert spec is not None and spec.loader is not None
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    out = check.run()
    assert check.expectations(out) == []
    # Hand-picked from the schema: what an officer sees hovering `max:` and completing `mode:`.
    assert out["hover"]["max"]["hover"].startswith("#### Maximum / 最高金额\n")
    assert "上限金额（元）" in out["hover"]["max"]["hover"]
    assert [i["label"] for i in out["completion_mode_value"]["items"]] == ["half_up", "half_even", "down"]
    assert {d["message"] for d in out["diagnostics_mistakes"]} == {
        "Property capps is not allowed.",
        'Value is not accepted. Valid values: "half_up", "half_even", "down".',
    }
