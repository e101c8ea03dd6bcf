"""YAML loading (engine/source.py): safe composition only, bounded size, depth and alias expansion,
duplicate keys refused, non-UTF-8 refused -- each with a clear engine error, never a traceback."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest

import engine
from engine import source
from engine.source import MAX_BYTES, MAX_DEPTH, MAX_NODES, parse_yaml, read_text


def _billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_fails_fast_with_input_limit_error() -> None:
    text = _billion_laughs()  # 9**9 = 387 million strings if expanded; under 1 kB of text
    assert len(text) < 1000
    started = time.perf_counter()
    with pytest.raises(engine.InputLimitError) as caught:
        parse_yaml(text, "laughs.yaml")
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"took {elapsed:.2f}s"
    (p,) = caught.value.problems
    assert p.code == "too_many_nodes"
    assert f"more than {MAX_NODES} values" in p.message
    assert p.file == "laughs.yaml" and p.line is not None


def test_billion_laughs_through_the_policy_loader_and_cli(tmp_path: Path) -> None:
    f = tmp_path / "laughs.yaml"
    f.write_text(_billion_laughs(), encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(engine.InputLimitError):
        engine.load_policy(f)
    assert time.perf_counter() - started < 2.0


def test_a_wide_alias_fan_out_is_bounded_too() -> None:
    text = "a: &a [" + ", ".join(["x"] * 1000) + "]\nb: [" + ", ".join(["*a"] * 1000) + "]\n"  # 1M values
    started = time.perf_counter()
    with pytest.raises(engine.InputLimitError):
        parse_yaml(text)
    assert time.perf_counter() - started < 2.0


def test_a_self_referencing_alias_is_refused() -> None:
    with pytest.raises(engine.InputLimitError) as caught:
        parse_yaml("a: &a [*a]\n")
    assert "refers to itself" in caught.value.problems[0].message


def test_reusing_an_anchor_a_few_times_is_fine() -> None:
    data = parse_yaml("base: &b {x: 1}\none: *b\ntwo: *b\n").data
    assert data == {"base": {"x": 1}, "one": {"x": 1}, "two": {"x": 1}}


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,  # flow sequences
        "{a: " * 100 + "1" + "}" * 100,  # flow mappings
        "".join("  " * i + "- \n" for i in range(200)),  # block sequences
        "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v",  # block mappings
    ],
    ids=["flow-seq", "flow-map", "block-seq", "block-map"],
)
def test_deep_nesting_fails_fast(text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(engine.InputLimitError) as caught:
        parse_yaml(text)
    assert time.perf_counter() - started < 2.0
    assert f"nesting deeper than {MAX_DEPTH} levels" in caught.value.problems[0].message
    assert caught.value.problems[0].line is not None


def test_nesting_at_the_limit_is_accepted() -> None:
    data = parse_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH).data
    depth = 0
    while isinstance(data, list) and data:
        data, depth = data[0], depth + 1
    assert depth == MAX_DEPTH - 1


def test_oversized_text_is_refused_before_parsing() -> None:
    started = time.perf_counter()
    with pytest.raises(engine.InputLimitError) as caught:
        parse_yaml("a: " + "x" * MAX_BYTES)
    assert time.perf_counter() - started < 0.5
    assert caught.value.problems[0].code == "too_large"


def test_oversized_file_is_refused_before_decoding(tmp_path: Path) -> None:
    f = tmp_path / "big.yaml"
    f.write_bytes(b"a: " + b"x" * MAX_BYTES)
    with pytest.raises(engine.InputLimitError) as caught:
        read_text(f)
    assert f"more than the limit of {MAX_BYTES}" in caught.value.problems[0].message


@pytest.mark.parametrize(
    ("text", "first_line"),
    [("rate: 50%\nrate: 60%\n", 1), ("rules:\n  - id: a\n    max: 1\n    max: 2\n", 3)],
)
def test_duplicate_keys_are_refused(text: str, first_line: int) -> None:
    with pytest.raises(engine.PolicyError) as caught:
        parse_yaml(text, "dup.yaml")
    (p,) = caught.value.problems
    assert p.code == "duplicate_key"
    assert f"first at line {first_line}" in p.message
    assert p.line == first_line + 1


def test_duplicate_key_in_the_real_policy_is_found_with_its_line() -> None:
    text = Path("policies/pinggu_2020.yaml").read_text(encoding="utf-8")
    doubled = text.replace("  rounding:\n", "  rounding:\n    mode: down\n", 1)
    with pytest.raises(engine.PolicyError) as caught:
        engine.load_policy_text(doubled, "p.yaml")
    assert any(p.code == "duplicate_key" and p.path[-1] == "mode" for p in caught.value.problems)


@pytest.mark.parametrize(
    ("raw", "offset"),
    [(b"a: \xff\n", 3), ("a: 平谷\n".encode("gbk"), 5), ("a: b\nc: 平谷\n".encode("utf-16"), 0), (b"a: \xc3\x28\n", 3)],
    ids=["0xff", "gbk", "utf-16", "bad-continuation"],
)
def test_non_utf8_files_get_a_clear_error(tmp_path: Path, raw: bytes, offset: int) -> None:
    f = tmp_path / "p.yaml"
    f.write_bytes(raw)
    with pytest.raises(engine.PolicyError) as caught:
        engine.load_policy(f)
    (p,) = caught.value.problems
    assert p.code == "encoding"
    assert f"at offset {offset}" in p.message
    assert "UTF-8" in (p.expected or "")
    assert p.file == str(f)


def test_utf8_with_bom_is_read() -> None:
    assert parse_yaml("\ufeffa: 1\n").data == {"a": 1}


@pytest.mark.parametrize(
    "text",
    [
        "!!python/object/apply:os.system ['true']",
        "a: !!python/object/apply:subprocess.check_output [['id']]",
        "a: !!python/name:os.system",
        "a: !!python/object:collections.OrderedDict {}",
        "a: !!binary aGVsbG8=",
        "a: !!set {x, y}",
        "a: !!omap [b: 1]",
        "a: !custom x",
        "%TAG !e! tag:example.com,2000:\n---\na: !e!thing x",
    ],
)
def test_object_construction_tags_are_refused(text: str) -> None:
    with pytest.raises(engine.PolicyError) as caught:
        parse_yaml(text)
    assert any(p.code == "tag" and "is not allowed" in p.message for p in caught.value.problems)


def test_safe_composition_never_constructs_python_objects(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"a: !!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(engine.PolicyError):
        parse_yaml(text)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: yes", "yes"),
        ("a: no", "no"),
        ("a: on", "on"),
        ("a: 2021-01-01", "2021-01-01"),
        ("a: 0.1", Decimal("0.1")),
        ("a: 1_000", 1000),
        ("a: 1e3", "1e3"),
        ("a: .inf", ".inf"),
        ("a: .nan", ".nan"),
        ("a: 0x1F", "0x1F"),
        ("a: ._", "._"),
        ("a: =", "="),
        ("a: true", True),
        ("a: ~", None),
    ],
)
def test_scalars_are_decided_on_purpose(text: str, expected: object) -> None:
    value = parse_yaml(text).data["a"]
    assert value == expected and type(value) is type(expected)


def test_a_number_with_thousands_of_digits_is_refused_not_converted() -> None:
    for digits in ("9" * 5000, "1." + "1" * 5000):
        with pytest.raises(engine.PolicyError) as caught:
            parse_yaml(f"a: {digits}\n")
        assert caught.value.problems[0].code == "too_long"


def test_merge_keys_and_non_string_keys_are_refused() -> None:
    with pytest.raises(engine.PolicyError) as caught:
        parse_yaml("base: &b {x: 1}\nc:\n  <<: *b\n? [a, b]\n: 1\n1.5: x\n")
    codes = sorted(p.code for p in caught.value.problems)
    assert codes == ["key_type", "key_type", "merge"]


@pytest.mark.parametrize("text", ["a: \x00", "a: \x07", "a: 1\n---\nb: 2\n", "a: [1,", "a: 'x", "\t- a"])
def test_syntax_problems_are_policy_errors_with_a_position(text: str) -> None:
    with pytest.raises(engine.PolicyError) as caught:
        parse_yaml(text, "x.yaml")
    assert caught.value.problems[0].file == "x.yaml"


def test_limits_are_documented_in_security_md() -> None:
    from engine import claims, expressions

    doc = Path("SECURITY.md").read_text(encoding="utf-8")
    limits = {
        "MAX_BYTES": MAX_BYTES, "MAX_DEPTH": MAX_DEPTH, "MAX_NODES": MAX_NODES, "MAX_NUMBER_CHARS": source.MAX_NUMBER_CHARS,
        "MAX_SOURCE_CHARS": expressions.MAX_SOURCE_CHARS, "MAX_STRING_LITERAL": expressions.MAX_STRING_LITERAL,
        "MAX_INT_LITERAL": expressions.MAX_INT_LITERAL, "expressions.MAX_NODES": expressions.MAX_NODES,
        "expressions.MAX_DEPTH": expressions.MAX_DEPTH, "MAX_STRING": claims.MAX_STRING, "MAX_ITEMS": claims.MAX_ITEMS,
        "MAX_MONEY": claims.MAX_MONEY, "MAX_CLAIM_DEPTH": claims.MAX_CLAIM_DEPTH, "MAX_CLAIM_VALUES": claims.MAX_CLAIM_VALUES,
    }
    for name, value in limits.items():
        row = next((line for line in doc.splitlines() if line.startswith("|") and f"`{name}`" in line), None)
        assert row is not None, f"{name} not in SECURITY.md"
        shown = f"{value:_}" if isinstance(value, int) else str(value)
        assert shown in row.replace(",", "_") or str(value) in row, (name, value, row)
