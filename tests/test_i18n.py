"""One message catalogue per language (engine/core/messages/<lang>/): every key in every language, with the same
placeholders; every message the code names exists; the reader's language comes from --lang, then
POLICY_ENGINE_LANG, then the locale."""

from __future__ import annotations

import ast
import pickle
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from engine.core import i18n
from engine.core.errors import ClaimError, Problem

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _leaves(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(_leaves(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: node}


def test_both_languages_have_a_catalogue() -> None:
    assert set(i18n.languages()) >= {"en", "zh"}


def test_every_message_exists_in_every_language_with_the_same_placeholders() -> None:
    leaves = {lang: _leaves(i18n.catalogue(lang)) for lang in i18n.languages()}
    keys = {lang: set(v) for lang, v in leaves.items()}
    every = set.union(*keys.values())
    missing = {lang: sorted(every - k) for lang, k in keys.items() if every - k}
    assert not missing, f"messages written in one language only: {missing}"
    for key in sorted(every):
        if key.startswith("meta."):
            continue  # formats (money, quotes) differ by language on purpose
        forms = {lang: set(PLACEHOLDER.findall(str(leaves[lang][key]))) for lang in leaves}
        assert len({frozenset(f) for f in forms.values()}) == 1, f"{key}: placeholders differ: {forms}"


def _msg_keys_in_code() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in (ROOT / "engine").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in ("msg", "lookup"):
                if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                    found.add((str(path.relative_to(ROOT)), node.args[0].value))
    return found


def test_every_message_the_code_names_is_in_the_catalogue() -> None:
    leaves = _leaves(i18n.catalogue("en"))
    unknown = sorted((f, k) for f, k in _msg_keys_in_code() if k not in leaves)
    assert not unknown, f"msg()/lookup() keys with no catalogue entry: {unknown}"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_TW"}, "zh"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),  # LC_ALL wins over LANG, as in POSIX
        ({"LC_MESSAGES": "zh_CN.GB18030", "LANG": "en_US"}, "zh"),
        ({"POLICY_ENGINE_LANG": "zh", "LC_ALL": "en_US.UTF-8"}, "zh"),  # the engine's own variable wins
        ({"POLICY_ENGINE_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"POLICY_ENGINE_LANG": "fr", "LANG": "zh_CN.UTF-8"}, "zh"),  # no French catalogue: the locale decides
        ({"POLICY_ENGINE_LANG": "cn"}, "zh"),  # (what people also write for Chinese: it fell back to English unsaid)
        ({"POLICY_ENGINE_LANG": "中文", "LANG": "en_US.UTF-8"}, "zh"),
        ({"POLICY_ENGINE_LANG": "English", "LANG": "zh_CN.UTF-8"}, "en"),
    ],
)
def test_the_language_comes_from_the_environment(environ: dict[str, str], expected: str) -> None:
    assert i18n.language_from_environment(environ) == expected


@pytest.mark.parametrize(
    ("environ", "windows", "expected"),
    [
        ({}, 0x0804, "zh"),  # Chinese (PRC) Windows, which sets no LANG: the officer's own language
        ({}, 0x0404, "zh"),  # Chinese (Taiwan)
        ({}, 0x0409, "en"),  # English (US)
        ({}, 0x0407, "en"),  # German: no catalogue, English as before
        ({"LANG": "en_US.UTF-8"}, 0x0804, "en"),  # a locale variable set still decides
        ({"POLICY_ENGINE_LANG": "en"}, 0x0804, "en"),
    ],
)
def test_without_a_locale_variable_the_systems_display_language_decides(environ: dict[str, str], windows: int, expected: str) -> None:
    # (the docs review, session 24) Windows sets no LANG, so an officer's Chinese Windows got every message in English
    assert i18n.language_from_environment(environ, system=lambda: i18n.windows_language(windows)) == expected
    assert i18n.language_from_environment({}, system=lambda: None) == "en"
    if sys.platform != "win32":
        assert i18n.system_language() is None


def test_lang_is_read_as_people_write_it(capsys: pytest.CaptureFixture[str]) -> None:
    # (the docs review, session 24) POLICY_ENGINE_LANG=cn meant Chinese, `--lang cn` was refused (exit 2)
    from conftest import POLICY_PATH

    from engine.cli import main

    assert main(["--lang", "cn", "validate", str(POLICY_PATH)]) == 0
    assert main(["validate", "--lang", "中文", str(POLICY_PATH)]) == 0
    assert capsys.readouterr().out.count("：无误") == 2
    with pytest.raises(SystemExit) as stop:
        main(["--lang", "fr", "validate", str(POLICY_PATH)])
    assert stop.value.code == 2 and "'fr'" in capsys.readouterr().err


def test_a_message_is_english_text_and_says_itself_in_chinese() -> None:
    m = i18n.msg("core.item", id="p1")
    assert m == " (item p1)"
    assert i18n.tr(m, "zh") == "（项目 p1）"
    with i18n.use_language("zh"):
        assert i18n.tr(m) == "（项目 p1）"
    with i18n.use_language("en"):
        assert i18n.tr(m) == " (item p1)"
    with i18n.use_language("zh"), i18n.use_language(None):  # None keeps the language chosen outside (`--lang` before a command)
        assert i18n.tr(m) == "（项目 p1）"
    assert i18n.tr("plain words", "zh") == "plain words"
    back = pickle.loads(pickle.dumps(m))
    assert (back.key, i18n.tr(back, "zh")) == ("core.item", "（项目 p1）")


def test_an_error_is_said_in_the_readers_language() -> None:
    err = ClaimError([Problem(i18n.msg("core.invalid_input"), path=("items", 0), item_id="p1", file="c.json", line=3)])
    with i18n.use_language("zh"):
        text = str(err)
    assert text.splitlines()[0] == "输入有误（共 1 处问题）"
    # (the place as a compiler writes it; after the field, a Chinese colon: （项目 p1）: was an ASCII one after Chinese)
    assert text.splitlines()[1] == "c.json:3: items[0]（项目 p1）：输入有误"
    with i18n.use_language("en"):
        assert str(err).splitlines()[0] == "invalid input (1 problem(s))"
        assert str(err).splitlines()[1] == "c.json:3: items[0] (item p1): invalid input"


def test_the_messages_folder_is_listed_once_however_many_messages_are_said(monkeypatch: pytest.MonkeyPatch) -> None:
    # with no language chosen, every message said asks the environment's language, which asks which languages have a
    # catalogue: a listing of the folder each time was most of the cost of a long problem list (a red team's finding)
    listed: list[Path] = []
    real = Path.iterdir

    def counting(self: Path) -> Any:
        listed.append(self)
        return real(self)

    i18n.languages_in.cache_clear()
    monkeypatch.setattr(Path, "iterdir", counting)
    monkeypatch.setenv("POLICY_ENGINE_LANG", "zh")
    said = [i18n.tr(i18n.msg("core.item", id=f"p{n}")) for n in range(1000)]
    assert said[999] == "（项目 p999）" and i18n.languages() == ("en", "zh")
    assert listed == [i18n.MESSAGE_DIR]


def test_the_catalogues_are_read_by_libyaml_as_the_python_reader_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    # read in Python, the two catalogues (430 kB) were 0.76 s of CPU at the start of every command, worker and test
    # process that says a message; libyaml's safe loader reads them in 0.06 s, and must read them to the same values
    import yaml

    if getattr(yaml, "CSafeLoader", None) is None:
        pytest.skip("PyYAML built without libyaml here: the catalogues are read in Python, as before")
    loaders: list[Any] = []
    real = yaml.load

    def spying(text: str, Loader: Any) -> Any:
        loaders.append(Loader)
        return real(text, Loader=Loader)

    i18n.catalogue.cache_clear()
    monkeypatch.setattr(yaml, "load", spying)
    assert i18n.catalogue("zh")["meta"]
    assert loaders and set(loaders) == {yaml.CSafeLoader}
    monkeypatch.undo()
    for lang in i18n.languages():
        merged: dict[str, Any] = {}
        for path in sorted((i18n.MESSAGE_DIR / lang).glob("*.yaml")):
            merged.update(yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader))
        assert i18n.catalogue(lang) == merged
        assert (
            i18n.catalogue(lang)["claim"]["more_problems"]
            == {
                "en": "more problems than the {n} named here: correct these and read it again",
                "zh": "问题不止这里列出的 {n} 个：请改正后重新读取",
            }[lang]
        )


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(i18n.CatalogueError, match="available: en, zh"), i18n.use_language("fr"):
        pass


def test_no_catalogue_file_names_a_key_twice() -> None:
    """The catalogues are read with PyYAML's safe loader, which keeps the last of two equal keys without a word: a message
    added beside an existing one of the same name replaced it unseen. The engine's own YAML reader refuses them."""
    from engine.language.source import parse_yaml

    for path in sorted((ROOT / "engine" / "core" / "messages").rglob("*.yaml")):
        parse_yaml(path.read_text(encoding="utf-8"), str(path), max_nodes=200_000)  # PolicyError naming the repeat
