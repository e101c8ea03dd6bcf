"""POST /match on the real server (`python -m engine serve` in a subprocess, as tests/test_service.py starts it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from test_service import Server

EXAMPLE = ROOT / "examples" / "profile_match_2021.json"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("service-match")
    srv = Server(tmp, "--ledger", f"sqlite:///{tmp / 'ledger.sqlite'}")
    yield srv
    srv.stop()


def test_match_answers_the_worked_example(server: Server) -> None:
    """The example of docs/matching.md: l2 asks 400,000 x 50% = 200,000, the yearly cap leaves 300,000 - 130,000."""
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    answer = server.call("POST", "/match?policy=pinggu-ip-promotion", profile)
    assert answer.status == 200, answer.text
    [m] = answer.json()["matches"]  # funding year 2021: the 2020.1 version only (the 2024 draft is not in force)
    assert m["version"] == "2020.1"
    by_item = {a["item_id"]: a for a in m["answers"] if a["item_id"]}
    assert by_item["l2"]["amount"] == {"low": "170000.00", "high": "170000.00"}
    assert by_item["p1"]["answer"] == "needs" and by_item["p1"]["needs"][0]["label"]["zh"] == "获得专利权所缴纳的官方规定费用"
    with_ledger = server.call("POST", "/match?history=ledger", profile)
    assert with_ledger.status == 200 and with_ledger.json()["matches"][0]["answers"] == m["answers"]  # an empty ledger


def test_match_notice_formats_and_bad_parameters(server: Server) -> None:
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    html = server.call("POST", "/match?format=html&lang=zh", profile)
    assert html.status == 200 and html.headers["content-type"].startswith("text/html") and "170,000.00 元" in html.text
    text = server.call("POST", "/match?format=text&lang=en", profile)
    assert text.status == 200 and "CNY 170,000.00" in text.text
    bad = server.call("POST", "/match?format=pdf", profile)
    assert bad.status == 400 and bad.headers["content-type"].startswith("application/problem+json")
    assert server.call("POST", "/match", [1, 2]).status == 400


def test_match_is_in_the_openapi_document(server: Server) -> None:
    doc = server.call("GET", "/openapi.json").json()
    assert doc["paths"]["/match"]["post"]["operationId"] == "match"


def test_profile_file_is_the_example() -> None:
    assert Path(EXAMPLE).is_file()
