"""JSON Schema errors said in zh and en (engine/language/validate.py: `schema_message`, `schema_expected`).

Each validator kind has its own catalogue key under `schema:`; the English is jsonschema's own sentence (what the
engine said before, and what its tests assert), the Chinese says the same thing to an officer, with the fix.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from conftest import POLICY_PATH, ROOT
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from engine.core.errors import PolicyError
from engine.core.i18n import Msg, tr, use_language
from engine.language.load import compile_policy_text
from engine.language.validate import schema_expected, schema_message


def _error(schema: dict[str, Any], instance: Any) -> ValidationError:
    errors = list(Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(instance))
    assert len(errors) == 1, errors
    return errors[0]


# (schema, instance, the key, the English, the Chinese)
CASES = [
    ({"type": "integer"}, "1", "schema.type", "'1' is not of type 'integer'", "'1' 的类型不对，应为整数（integer）"),
    (
        {"type": ["string", "null"]},
        1,
        "schema.type",
        "1 is not of type 'string', 'null'",
        "1 的类型不对，应为文字（string）、空值（null）",
    ),
    ({"required": ["cites"]}, {}, "schema.required", "'cites' is a required property", "缺少必填字段 'cites'，请补上"),
    (
        {"properties": {"a": {}}, "additionalProperties": False},
        {"a": 1, "b": 2},
        "schema.unknown_field",
        "unknown field(s) ('b' was unexpected)",
        "有不认识的字段 'b'：请检查拼写，或删去该字段",
    ),
    (
        {"properties": {}, "additionalProperties": False},
        {"x": 1, "y": 2},
        "schema.unknown_fields",
        "unknown field(s) ('x', 'y' were unexpected)",
        "有不认识的字段 'x'、'y'：请检查拼写，或删去这些字段",
    ),
    # the choices as a person reads them (it was Python's list, ['a', 'b'], in both languages)
    ({"enum": ["a", "b"]}, "c", "schema.enum", "'c' is not one of a, b", "'c' 不是可选的值，可选值为 a、b"),
    ({"const": "x"}, "y", "schema.const", "'x' was expected", "此处只能写 'x'"),
    ({"pattern": "^[a-z]+$"}, "A1", "schema.pattern", "'A1' does not match '^[a-z]+$'", "'A1' 的写法不对，应符合 '^[a-z]+$'"),
    ({"minimum": 0}, -1, "schema.minimum", "-1 is less than the minimum of 0", "-1 太小，不能小于 0"),
    ({"maximum": 1}, Decimal("1.5"), "schema.maximum", "1.5 is greater than the maximum of 1", "1.5 太大，不能大于 1"),
    ({"exclusiveMinimum": 0}, 0, "schema.exclusiveMinimum", "0 is less than or equal to the minimum of 0", "0 太小，须大于 0"),
    ({"exclusiveMaximum": 1}, 1, "schema.exclusiveMaximum", "1 is greater than or equal to the maximum of 1", "1 太大，须小于 1"),
    ({"multipleOf": 5}, 7, "schema.multipleOf", "7 is not a multiple of 5", "7 须为 5 的整数倍"),
    ({"minItems": 1}, [], "schema.non_empty.items", "[] should be non-empty", "[] 是空列表，请至少写一项"),
    ({"minItems": 2}, [1], "schema.too_short.items", "[1] is too short", "[1] 的项数太少"),
    ({"maxItems": 1}, [1, 2], "schema.too_many.items", "2 entries, at most 1", "有 2 项，至多 1 项"),  # (by its count)
    ({"minLength": 1}, "", "schema.non_empty.text", "'' should be non-empty", "'' 是空文字，请填写内容"),
    ({"maxLength": 2}, "abc", "schema.too_long.text", "'abc' is too long", "'abc' 太长"),
    ({"uniqueItems": True}, [1, 1], "schema.uniqueItems", "[1, 1] has non-unique elements", "[1, 1] 中有重复的项，请删去重复的"),
    ({"format": "date"}, "2021/3/5", "schema.format", "'2021/3/5' is not a 'date'", "'2021/3/5' 不是有效的 'date' 格式"),
    (
        {"dependentRequired": {"a": ["b"]}},
        {"a": 1},
        "schema.dependentRequired",
        "'b' is a dependency of 'a'",
        "写了 'a' 时，也须写 'b'",
    ),
    (
        {"oneOf": [{"type": "integer"}, {"type": "boolean"}]},
        "x",
        "schema.any_form_closest",
        "'x' does not fit any allowed form (closest: 'x' is not of type 'integer')",
        "'x' 不符合任何一种允许的写法（最接近的一种：'x' 的类型不对，应为整数（integer））",
    ),
]


@pytest.mark.parametrize(("schema", "instance", "key", "english", "chinese"), CASES, ids=[c[2] + ":" + c[3][:30] for c in CASES])
def test_each_validator_kind_is_said_in_both_languages(schema: dict[str, Any], instance: Any, key: str, english: str, chinese: str) -> None:
    m = schema_message(_error(schema, instance))
    assert isinstance(m, Msg)
    assert m.key == key
    assert m == english  # the English value, as before
    assert tr(m, "en") == english
    assert tr(m, "zh") == chinese


def test_the_english_is_jsonschemas_own_sentence() -> None:
    """Apart from the ones the engine always rewords, the English is exactly jsonschema's message; an enum's choices
    are listed as a person reads them (a, b), not as Python's list (['a', 'b']) jsonschema writes."""
    for schema, instance, key, english, _ in CASES:
        if key.startswith(("schema.unknown_field", "schema.any_form", "schema.too_many", "schema.enum")):
            continue
        error = _error(schema, instance)
        assert english == error.message.replace("Decimal('1.5')", "1.5"), key


def test_what_was_expected_is_said_in_both_languages() -> None:
    cases = [
        ({"type": "integer"}, "1", "a value of type integer", "整数（integer）"),
        ({"type": ["string", "null"]}, 1, "a value of type ['string', 'null']", "以下类型之一的值：文字（string）、空值（null）"),
        ({"enum": ["a", "b"]}, "c", "one of: a, b", "以下之一：a、b"),
        ({"pattern": "^[a-z]+$"}, "A1", "text matching ^[a-z]+$", "符合 ^[a-z]+$ 的文字"),
        ({"properties": {"a": {}, "b": {}}, "additionalProperties": False}, {"c": 1}, "one of the fields: a, b", "以下字段之一：a、b"),
        ({"minItems": 2}, [1], "at least 2 items", "至少 2 项"),
        ({"maxLength": 2}, "abc", "at most 2 characters", "至多 2 个字符"),
    ]
    for schema, instance, english, chinese in cases:
        e = schema_expected(_error(schema, instance))
        assert e is not None
        assert (str(e), tr(e, "en"), tr(e, "zh")) == (english, english, chinese)
    assert schema_expected(_error({"required": ["a"]}, {})) is None
    assert schema_expected(_error({"minItems": 1}, [])) is None  # "should be non-empty" says it all


def test_a_mapping_written_as_a_list_says_how_to_write_it() -> None:
    e = schema_expected(_error({"type": "object"}, ["gold", "silver"]))
    assert e is not None and e.startswith("a mapping, not a list")
    assert tr(e, "zh").startswith("映射而不是列表：每项单独一行，写成 `键: 值`")


def test_a_sentence_worded_otherwise_is_kept_after_a_lead_in() -> None:
    """A keyword without its own words (prefixItems' "Expected at most ...") is never mistranslated."""
    error = _error({"prefixItems": [{}], "items": False}, [1, 2])
    m = schema_message(error)
    assert m.key == "schema.other"
    assert m == error.message
    assert tr(m, "zh") == "不符合格式要求：" + error.message


def test_a_policy_schema_error_is_said_in_chinese() -> None:
    with pytest.raises(PolicyError) as info:
        compile_policy_text("policy: {id: x}\nreadingz: 1\n", "p.yaml")
    with use_language("zh"):
        text = str(info.value)
    assert "有不认识的字段 'readingz'：请检查拼写，或删去该字段" in text
    assert "应为 是否想写 `readings`？可用的字段：policy、clauses、" in text


def test_a_bilingual_schema_description_gives_a_chinese_reader_the_chinese_half() -> None:
    import pickle

    schema = {"description": "An amount: 300000 or 30万. 金额：300000、30万 等。", "oneOf": [{"type": "number"}, {"type": "boolean"}]}
    e = schema_expected(_error(schema, "x"))
    assert e is not None
    assert tr(e, "en") == "An amount: 300000 or 30万. 金额：300000、30万 等。"  # the whole, as before
    assert tr(e, "zh") == "金额：300000、30万 等。"
    assert tr(pickle.loads(pickle.dumps(e)), "zh") == "金额：300000、30万 等。"  # a worker process sends it back pickled


def test_values_are_said_as_the_document_writes_them() -> None:
    # JSON's true and null, YAML's mappings: they were said as Python writes them (True, None, {'fixed': {}})
    import engine

    text = (ROOT / "examples" / "claim_enterprise_2021.json").read_text(encoding="utf-8")
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim_json(
            engine.load_policy(ROOT / "policies" / "pinggu_2020.yaml"), text.replace('"funding_year": 2021', '"funding_year": true')
        )
    (p,) = caught.value.problems
    assert (tr(p.message, "en"), tr(p.message, "zh")) == ("true is not of type 'integer'", "true 的类型不对，应为整数（integer）")
    policy = (
        (ROOT / "policies" / "pinggu_2020.yaml").read_text(encoding="utf-8").replace("  source_text: texts/pinggu_ip_measures.zh.txt\n", "")
    )
    for old, new, said in (
        ("    mode: half_up\n", "    mode: [half_up]\n", "['half_up'] 的类型不对"),
        ("        times: 1\n", "        times: {a: null}\n", "{a: null} 的类型不对"),
    ):
        with pytest.raises(engine.PolicyError) as caught:
            engine.load_policy_text(policy.replace(old, new, 1), "p.yaml")
        assert any(tr(q.message, "zh").startswith(said) for q in caught.value.problems), [
            tr(q.message, "zh") for q in caught.value.problems
        ]


def test_a_cap_without_its_scope_is_named_by_its_id_not_quoted_whole() -> None:
    """A cap whose `per:` line was deleted: the message quoted the whole cap, its `says` texts cut off at 80
    characters, before saying what is missing. It names the cap by its id, and the missing field."""
    text = POLICY_PATH.read_text(encoding="utf-8").replace("        per: [applicant.id, claim.funding_year]\n", "", 1)
    with pytest.raises(PolicyError) as info:
        compile_policy_text(text, str(POLICY_PATH))
    (p,) = info.value.problems
    assert tr(p.message, "zh") == "{id: 'pledge-annual-cap', …} 不符合任何一种允许的写法（最接近的一种：缺少必填字段 'per'，请补上）"
    assert tr(p.message, "en") == "{id: 'pledge-annual-cap', …} does not fit any allowed form (closest: 'per' is a required property)"
