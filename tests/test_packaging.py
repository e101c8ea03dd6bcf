"""The package list in pyproject.toml names every engine subpackage, so an installed wheel has all of them
(setuptools is given the list because the top-level schemas/ folder is mapped into the wheel as engine.schemas)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_pyproject_lists_every_engine_package_and_the_schemas() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "engine").rglob("__init__.py")}
    assert set(config["packages"]) == on_disk | {"engine.schemas"}
    assert config["package-dir"] == {"engine.schemas": "schemas"}
    assert sorted(p.name for p in (ROOT / "schemas").glob("*.json")) == ["claim.schema.json", "decision.schema.json", "policy.schema.json"]
    assert config["package-data"]["engine.schemas"] == ["*.json"]
