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
    listed = server.call("POST", "/match?lang=zh", [1, 2])
    assert listed.status == 400 and "一个申请人情况对象" in listed.text  # (it said "应为 a profile object")


def test_a_profile_with_a_slip_says_so_in_its_notice_and_in_both_languages(server: Server) -> None:
    # a fee of 260000.001 (three decimals): the JSON's problem was in one language whatever ?lang= said, and the
    # notice was its header alone, an applicant's notice of nothing to claim with no word of the slip; the field is
    # named by its column's heading (it said items[2].annual_interest_paid to the applicant)
    profile = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    next(i for i in profile["items"] if i["id"] == "l1")["annual_interest_paid"] = "260000.001"
    answer = server.call("POST", "/match?policy=pinggu-ip-promotion&lang=zh", profile)
    assert answer.status == 200
    [error] = answer.json()["errors"]
    [problem] = error["problems"]
    assert problem["path"] == "items[2].annual_interest_paid"
    # placed in the body, as /evaluate places a claim's problems (it said line null, column null)
    body = json.dumps(profile, ensure_ascii=False)
    assert (problem["line"], problem["column"]) == (1, body.index('"260000.001"') + 1)
    assert problem["said"]["zh"]["message"] == "'260000.001' 不符合规定的格式：金额最多两位小数（元、角、分）"
    assert problem["said"]["en"]["message"] == "'260000.001' is not in the expected form: an amount has at most two decimals (yuan and fen)"
    text = server.call("POST", "/match?policy=pinggu-ip-promotion&format=text&lang=zh", profile).text
    assert text.endswith(
        "== 以下内容未能测算（请核对所填信息后再试）\n"
        "  - 平谷区知识产权促进办法（版本 2020.1）：第 3 个事项的申报年度内实际支付的贷款利息（item.annual_interest_paid）：'260000.001' 不符合规定的格式："
        "金额最多两位小数（元、角、分）"
        "（应为：以元为单位、最多两位小数的金额，与票据上的金额一致）\n"
    )
    page = server.call("POST", "/match?policy=pinggu-ip-promotion&format=html&lang=en", profile).text
    # (the measures by their title and version, as the notice's headings name them: it was the id, pinggu-ip-promotion 2020.1)
    assert (
        "<h2>Not worked out, for what the facts given say (check them and ask again)</h2><ul><li>"
        "Pinggu District Intellectual Property Promotion Measures, version 2020.1:" in page
    )


def test_match_is_in_the_openapi_document(server: Server) -> None:
    doc = server.call("GET", "/openapi.json").json()
    assert doc["paths"]["/match"]["post"]["operationId"] == "match"


def test_profile_file_is_the_example() -> None:
    assert Path(EXAMPLE).is_file()
