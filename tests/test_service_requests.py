"""What every answer of the service carries, tested as a client sees it (a real `python -m engine serve`, started as
tests/test_service.py starts it): the request's id (answered, in a problem, in the log with the time), `Vary` on an
answer said in the caller's language, `lang` declared where it is read, one shape for every refusal, the body's
declared type checked (415), a round's outputs named by the addresses they are served at, and `/rounds/` not
redirected. The expected words are the catalogue's (engine/core/messages/*/service.yaml), written out by hand.
"""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import json
import re
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import ENTERPRISE_ID, ROOT

pytest.importorskip("uvicorn")

from test_service import OFFICER_TOKEN, POLICY_ID, READER_TOKEN, Answer, Server, pledge_claim

from engine.core.i18n import msg
from engine.service.problems import KINDS, problem_body

HEX32 = re.compile(r"[0-9a-f]{32}")
#: a log line: when (ISO 8601, UTC, to the millisecond), then what uvicorn's line was
LINE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (.*)")
BAD_TOKEN = {"Authorization": "Bearer not-a-token-0123456789"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("service-requests")
    tokens = tmp / "tokens.yaml"
    tokens.write_text(
        f"tokens:\n  {OFFICER_TOKEN}: {{name: 王科员, roles: [officer]}}\n  {READER_TOKEN}: {{name: finance-system, roles: [reader]}}\n",
        encoding="utf-8",
    )
    srv = Server(
        tmp, "--access-log", "--token-file", str(tokens), "--ledger", f"sqlite:///{tmp / 'ledger.sqlite'}", "--jobs-dir", str(tmp / "jobs")
    )
    srv.jobs = tmp / "jobs"  # type: ignore[attr-defined]
    yield srv
    srv.stop()


def send(srv: Server, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
    """One request with exactly these headers (urllib would add its own Content-Type to a body)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    try:
        conn.request(method, path, body, headers or {})
        resp = conn.getresponse()
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def claim_bytes(claim_id: str) -> bytes:
    return json.dumps(pledge_claim(claim_id, "200000.00"), ensure_ascii=False).encode("utf-8")


def log_lines(srv: Server, containing: str) -> list[str]:
    """The server's log lines holding `containing`, once there is one (the access line is written as the answer is)."""
    deadline = time.monotonic() + 10
    while True:
        lines = Path(srv.log.name).read_text(encoding="utf-8").splitlines()
        found = [line for line in lines if containing in line]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


# --- 1. the request's id ---------------------------------------------------------------------------------------------


def test_every_answer_says_the_callers_request_id_or_one_made_for_it(server: Server) -> None:
    given = {"X-Request-Id": "portal-2026/0001;try=2"}
    answers = {
        "the lean path's decision": send(server, "POST", "/evaluate", claim_bytes("RID-1"), given),
        "the full route's explanation": send(server, "POST", "/explain?lang=en", claim_bytes("RID-2"), given),
        "a refusal of the route": send(server, "GET", "/ledger/claims/NO-SUCH/explanation", None, given),
        "a refusal before the route": send(server, "GET", "/policies?nope=1", None, given),
        "an address no route takes": send(server, "GET", "/nowhere", None, given),
    }
    assert {name: a.headers.get("x-request-id") for name, a in answers.items()} == dict.fromkeys(answers, "portal-2026/0001;try=2")
    assert [a.status for a in answers.values()] == [200, 200, 404, 400, 404]
    for name in ("a refusal of the route", "a refusal before the route", "an address no route takes"):
        assert answers[name].json()["request_id"] == "portal-2026/0001;try=2", name
    # 128 visible ASCII characters are taken; none given, or one a log line or a header could not carry as it is
    # (a space, 129 characters, a byte beyond ASCII, nothing): one made, 32 hex digits, another each time
    assert send(server, "GET", "/policies", None, {"X-Request-Id": "x" * 128}).headers["x-request-id"] == "x" * 128
    made = [
        send(server, "GET", "/policies", None, headers).headers["x-request-id"]
        for headers in (
            {},
            {},
            {"X-Request-Id": "two words"},
            {"X-Request-Id": "x" * 129},
            {"X-Request-Id": "caf\xe9"},
            {"X-Request-Id": ""},
        )
    ]
    assert all(HEX32.fullmatch(rid) for rid in made) and len(set(made)) == 6, made
    refused = send(server, "GET", "/nowhere", None, {"X-Request-Id": "two words"})
    assert refused.json()["request_id"] == refused.headers["x-request-id"] and HEX32.fullmatch(refused.headers["x-request-id"])


def test_the_log_says_when_in_utc_and_which_request_each_line_is_about(server: Server) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    send(server, "GET", "/policies", None, {"X-Request-Id": "log-probe-7"})
    after = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    [line] = log_lines(server, "[log-probe-7]")
    found = LINE.fullmatch(line)
    assert found is not None, line
    assert before <= dt.datetime.fromisoformat(found.group(1)) <= after
    # uvicorn's access line as it was (the client, the request line, the status), the id after the level
    assert re.fullmatch(r'信息：    \[log-probe-7\] 127\.0\.0\.1:\d+ - "GET /policies HTTP/1\.1" 200 OK', found.group(2)), line
    # every line starts with when it was written, the server's start too; one made id is in its request's line
    made = send(server, "GET", "/health").headers["x-request-id"]
    assert len(log_lines(server, f"[{made}] 127.0.0.1:")) == 1
    lines = Path(server.log.name).read_text(encoding="utf-8").splitlines()
    assert lines and all(LINE.fullmatch(line) for line in lines), [line for line in lines if not LINE.fullmatch(line)]
    assert any(line.endswith(" 信息：    服务已就绪") for line in lines)  # (about no request: no id)


# --- 2. Vary: Accept-Language ----------------------------------------------------------------------------------------


def test_an_answer_said_in_the_callers_language_varies_by_it(server: Server) -> None:
    profile = (ROOT / "examples" / "profile_match_2021.json").read_bytes()
    said = {
        "a problem of a route": send(server, "GET", "/ledger/claims/NO-SUCH/explanation"),
        "a problem before a route": send(server, "GET", "/policies?nope=1"),
        "a problem of a body": send(server, "POST", "/evaluate", b'{"claim_id": '),
        "an explanation": send(server, "POST", "/explain?format=text", claim_bytes("VARY-1")),
        "a notice": send(server, "POST", "/match?format=text", profile),
    }
    assert {name: (a.headers.get("vary"), a.headers.get("content-language")) for name, a in said.items()} == dict.fromkeys(
        said, ("Accept-Language", "zh")
    )
    # a decision has no words in a language: the same bytes whichever is asked for, and no Vary
    en, zh = (send(server, "POST", "/evaluate", claim_bytes("VARY-2"), {"Accept-Language": lang}) for lang in ("en", "zh"))
    assert en.status == zh.status == 200 and en.body == zh.body and "vary" not in en.headers


# --- 3. `lang` declared on every route that reads it ----------------------------------------------------------------


def test_every_route_that_reads_lang_declares_it(server: Server) -> None:
    from engine.service.app import create_app
    from engine.service.config import Config

    doc = send(server, "GET", "/openapi.json").json()
    documented = {(method, path): op for path, ops in doc["paths"].items() for method, op in ops.items()}
    # the routes the service serves are the ones the document describes (besides the document and its page)
    app: Any = create_app(Config(policies=str(server.folder))).app  # (the Starlette app behind the lean path)
    served = {(m.lower(), re.sub(r":[a-z]+}", "}", r.path)) for r in app.routes for m in r.methods - {"HEAD"}}
    assert served - {("get", "/openapi.json"), ("get", "/docs")} == set(documented)
    declaring = {key for key, op in documented.items() if any(p["name"] == "lang" and p["in"] == "query" for p in op["parameters"])}
    assert declaring == set(documented)
    # and which read it: each route asked in English and in Chinese, with a token no one has, answers in each
    reading = set()
    for method, path in documented:
        filled = path.format(
            policy_id=POLICY_ID, version="2020.1", applicant_id=ENTERPRISE_ID, claim_id="C-1", job_id="0" * 32, name="x", number="1"
        )
        titles = []
        for lang in ("en", "zh"):
            answer = send(server, method.upper(), f"{filled}?lang={lang}", b"{}" if method == "post" else None, BAD_TOKEN)
            titles.append((answer.headers.get("content-language"), answer.json().get("title") if answer.status >= 400 else None))
        if titles == [("en", "A bearer token is needed"), ("zh", "需要登录令牌")]:
            reading.add((method, path))
    # (the monitors read no query: a monitor's own parameters are let be; only a fault of theirs would be words)
    assert reading == set(documented) - {("get", "/health"), ("get", "/ready"), ("get", "/metrics")}
    assert reading <= declaring


# --- 4. every refusal has the same shape ----------------------------------------------------------------------------


def test_every_kind_of_refusal_carries_its_problems() -> None:
    for kind in KINDS:
        _, body = problem_body(kind, "en", msg("service.detail.no_route", path="/x"), instance="/x")
        # a refusal of the request as a whole: one problem saying the detail, its code the kind's
        assert json.loads(body)["problems"] == [
            {
                "code": f"service.{kind}",
                "severity": "error",
                "file": None,
                "line": None,
                "column": None,
                "path": "",  # (the request as a whole: "(document)", the text's words, before)
                "message": "no such address: /x",
                "expected": None,
            }
        ], kind


def _said_on(srv: Server, *parts: bytes) -> bytes:
    """What the service answers to these bytes, sent one part at a time, until it closes the connection."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as sock:
        try:
            for part in parts:
                sock.sendall(part)
        except ConnectionError:  # (closed once the head passed its bound: the answer is still there to read)
            pass
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return answer


def test_a_head_past_its_bound_is_431_before_it_is_read_and_a_body_is_not_counted_in_it(server: Server) -> None:
    # A request's head had no bound: httptools held a 60 MB header whole, copying it again as each part arrived, and
    # answered 200 after 5.1 s of the event loop (every other request of the worker waiting); 100 MB held 200 MB.
    mib = b"a" * (1 << 20)
    hostile = {
        "one long header": (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: ", *[mib] * 8, b"\r\n\r\n"),
        "many headers": (b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: a\r\n" % n for n in range(20_000)) + b"\r\n",),
        "a long address": (b"GET /health?x=" + mib + b" HTTP/1.1\r\nHost: x\r\n\r\n",),
    }
    problem = {
        "type": "urn:policy-engine:problem:head-too-large",
        "title": "请求头过大",
        "status": 431,
        "detail": "请求头（请求行和各请求头）超过 65,536 字节上限",
    }  # (in the service's language: the head is not read, so there is no request to take one from)
    for name, parts in hostile.items():
        head, _, body = _said_on(server, *parts).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 431 ") and b"connection: close" in head.lower(), name
        assert {k: v for k, v in json.loads(body).items() if k != "problems"} == problem, name
    # a request behind an answered one on the same connection (its head's first read aside, which is not counted)
    said = _said_on(server, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nX-A: ", *[mib] * 2)
    assert said.startswith(b"HTTP/1.1 200 ") and said.count(b"HTTP/1.1 431 ") == 1
    # within the bound a head is read; a body sent with it, of any size the body's own bound takes, is no part of it
    assert _said_on(server, b"GET /health HTTP/1.1\r\nX-A: " + b"a" * 60_000 + b"\r\nConnection: close\r\n\r\n").startswith(
        b"HTTP/1.1 200 "
    )
    body = claim_bytes("HEAD-1") + b" " * 500_000
    head = b"POST /evaluate HTTP/1.1\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
    assert _said_on(server, head + body).startswith(b"HTTP/1.1 200 ")
    assert send(server, "GET", "/health").status == 200


def test_every_refusal_answered_has_the_problem_shape(server: Server) -> None:
    import jsonschema

    schema = send(server, "GET", "/openapi.json").json()["components"]["schemas"]["Problem"]
    refusals = {
        "not-found": send(server, "GET", "/nowhere?lang=en"),
        "method-not-allowed": send(server, "DELETE", "/policies?lang=en"),
        "unauthorized": send(server, "GET", "/policies?lang=en", None, BAD_TOKEN),
        "invalid-request": send(server, "GET", "/policies?nope=1&lang=en"),
        "invalid-json": send(server, "POST", "/evaluate?lang=en", b"{"),
        "invalid-claim": send(server, "POST", "/evaluate?lang=en", b"{}"),
        "unsupported-media-type": send(server, "POST", "/evaluate?lang=en", b"{}", {"Content-Type": "text/csv"}),
        "forbidden": send(server, "POST", "/admin/reload?lang=en", None, {"Authorization": f"Bearer {READER_TOKEN}"}),
    }
    for kind, answer in refusals.items():
        body = answer.json()
        jsonschema.validate(body, schema)
        assert body["type"] == f"urn:policy-engine:problem:{kind}", (kind, body)
        assert len(body["problems"]) >= 1 and all(p["message"] for p in body["problems"]), (kind, body)
    assert refusals["not-found"].json()["problems"][0]["message"] == "no such address: /nowhere"
    # bytes that are not HTTP (answered by the connection itself, with no request to take an id from)
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    body = json.loads(raw.split(b"\r\n\r\n", 1)[1])
    jsonschema.validate(body, schema)
    assert body["status"] == 400 and body["problems"][0]["code"] == "service.invalid-http" and "request_id" not in body


# --- 5. the body's declared type -------------------------------------------------------------------------------------


def test_what_a_body_may_be_declared_as() -> None:
    from engine.service.media import JSON_LINES, refused

    read = (None, "", "Application/JSON", 'application/json; charset="UTF-8"', "application/json;charset=us-ascii", "text/plain")
    assert [refused(declared, None) for declared in read] == [None] * 6
    assert refused("application/problem+json", "identity") is None
    # a type that is not one (no slash), another type, and JSON Lines where a round's body is not asked for
    assert [refused(declared, None).key for declared in ("json", "text/csv", "application/x-ndjson")] == ["service.detail.media_type"] * 3  # type: ignore[union-attr]
    assert refused("application/x-ndjson", None, JSON_LINES) is None
    assert dict(refused("text/plain; charset=gb2312", None).params) == {"charset": "gb2312"}  # type: ignore[union-attr]
    assert dict(refused("application/json", " gzip ").params) == {"coding": "gzip"}  # type: ignore[union-attr]


def test_a_body_declared_as_json_or_as_tools_send_it_unnamed_is_read(server: Server) -> None:
    body = claim_bytes("MT-1")
    decided = send(server, "POST", "/evaluate", body, {"Content-Type": "application/json"})
    assert decided.status == 200
    for declared in (
        None,  # (http.client, a raw socket)
        "application/json; charset=UTF-8",
        "application/x-www-form-urlencoded",  # curl -d / --data-binary without -H, Python's urllib
        "text/plain;charset=UTF-8",  # a browser's fetch() of a string
        "application/vnd.api+json",
    ):
        headers = {} if declared is None else {"Content-Type": declared}
        for path in ("/evaluate", "/evaluate?history=none"):  # the lean path, and the full route (a parameter it leaves)
            answer = send(server, "POST", path, body, headers)
            assert (answer.status, answer.body) == (200, decided.body), (declared, path, answer.text)


def test_a_body_declared_as_something_else_is_refused_naming_what_is_read(server: Server) -> None:
    body = claim_bytes("MT-2")
    read = "application/json, application/x-www-form-urlencoded, text/plain"
    for declared, detail in (
        (
            "multipart/form-data; boundary=x",
            f"the body is declared as multipart/form-data, which this address does not read: send it as application/json (read here: {read})",
        ),
        (
            "application/XML",
            f"the body is declared as application/xml, which this address does not read: send it as application/json (read here: {read})",
        ),
        (
            "application/json; charset=GBK",
            "the body is declared in the charset gbk: the body is read as UTF-8 only; send it in UTF-8 (charset=utf-8, or no charset)",
        ),
    ):
        for path in ("/evaluate?lang=en", "/explain?lang=en", "/match?lang=en", "/ledger/findings?lang=en"):
            answer = send(server, "POST", path, body, {"Content-Type": declared, "Authorization": f"Bearer {OFFICER_TOKEN}"})
            assert answer.status == 415 and answer.json()["type"] == "urn:policy-engine:problem:unsupported-media-type", (path, answer.text)
            assert answer.json()["detail"] == detail, path
    zipped = send(
        server, "POST", "/evaluate?lang=en", gzip.compress(body), {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    assert zipped.status == 415 and zipped.json()["detail"] == "the body is encoded (gzip): send it as it is, without a Content-Encoding"
    zh = send(server, "POST", "/evaluate", body, {"Content-Type": "application/xml"})
    assert zh.json()["title"] == "请求体的格式不是本地址可读取的"
    assert (
        zh.json()["detail"] == f"请求体声明的格式为 application/xml，本地址不读取该格式：请以 application/json 发送（本地址可读取：{read}）"
    )
    # an officer's write refused so is audited, as a body that is not JSON is
    audit = send(server, "GET", "/ledger/audit", None, {"Authorization": f"Bearer {OFFICER_TOKEN}"}).json()
    assert any(e["action"] == "finding" and e["outcome"].startswith("refused: unsupported-media-type") for e in audit)
    # the document says it: 415 on every call with a body, and what a body may be declared as
    doc = send(server, "GET", "/openapi.json").json()
    with_body = [op for ops in doc["paths"].values() for op in ops.values() if "requestBody" in op]
    # (evaluate, explain, match, a round, and the ledger's commit, reversal, finding and the two withdrawals)
    assert len(with_body) == 9 and all("415" in op["responses"] and "415" in op["requestBody"]["description"] for op in with_body)


# --- 6. a round: JSON Lines, and its outputs by their addresses -------------------------------------------------------


def test_a_rounds_body_is_json_lines_and_its_outputs_are_named_by_their_addresses(server: Server) -> None:
    line = claim_bytes("RO-1") + b"\n"
    csv = send(server, "POST", "/rounds?lang=en", line, {"Content-Type": "text/csv"})
    assert csv.status == 415 and csv.json()["detail"] == (
        "the body is declared as text/csv, which this address does not read: send it as application/x-ndjson (read here: "
        "application/x-ndjson, application/jsonl, application/x-jsonlines, application/json, application/x-www-form-urlencoded, text/plain)"
    )
    started = send(server, "POST", "/rounds", line, {"Content-Type": "application/x-ndjson"})
    assert started.status == 202, started.text
    job = started.json()["id"]
    deadline = time.monotonic() + 120
    while (state := send(server, "GET", f"/rounds/{job}").json())["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert state["state"] == "done", state
    at = f"/rounds/{job}/files"
    assert state["summary"]["outputs"] == {
        "decisions": f"{at}/decisions.jsonl",
        "errors": f"{at}/errors.jsonl",
        "summary_items_csv": f"{at}/summary_items.csv",
        "summary_applications_csv": f"{at}/summary_applications.csv",
        "summary_xlsx": f"{at}/summary.xlsx",
        "report": f"{at}/report.html",
        "summary_json": f"{at}/summary.json",
    }
    assert [send(server, "GET", url).status for url in state["summary"]["outputs"].values()] == [200] * 7
    said = json.dumps(state, ensure_ascii=False)
    assert str(server.jobs) not in said and "out/" not in said  # type: ignore[attr-defined]


def test_a_round_sent_as_one_json_document_is_refused_in_one_word(server: Server) -> None:
    # a pretty-printed claim (the body of /evaluate) or a JSON list of claims sent as a round: each was 202, then a
    # round of "applications" that were its lines, each an error record (the example claim: 55 of them, none decided)
    jobs = set(server.jobs.iterdir()) if server.jobs.exists() else set()  # type: ignore[attr-defined]
    pretty = (ROOT / "examples" / "claim_enterprise_2021.json").read_bytes()
    one = send(server, "POST", "/rounds?lang=en", pretty, {"Content-Type": "application/json"})
    assert one.status == 400 and one.json()["detail"] == (
        "the body is one claim written over 55 lines, and /rounds reads JSON Lines, one claim a line: write each claim "
        "on one line (to decide one claim, POST it to /evaluate)"
    )
    listed = b"[" + claim_bytes("RL-1") + b",\n" + claim_bytes("RL-2") + b"]"
    many = send(server, "POST", "/rounds?lang=zh", listed, {"Content-Type": "application/x-ndjson"})
    assert many.status == 400 and many.json()["detail"] == (
        "请求体是一个 JSON 列表（共 2 项），而 /rounds 读取的是 JSON Lines（每行一份申请）：请把列表中的每份申请各写成一行，"
        "不加方括号，行与行之间不加逗号"
    )
    assert (set(server.jobs.iterdir()) if server.jobs.exists() else set()) == jobs  # type: ignore[attr-defined]
    # JSON Lines is read as ever: a first line that is a claim is not read further; a line that is not JSON is its
    # application's error record, the round started
    from engine.service.rounds import one_document

    assert one_document(b"\n" + claim_bytes("RL-3") + b"\n{not json\n") is None
    assert one_document(b"{not json\n" + claim_bytes("RL-4") + b"\n") is None
    assert one_document(claim_bytes("RL-5")) is None


def test_a_body_field_given_as_a_number_is_said_with_the_text_to_write(server: Server) -> None:
    # `"returned": 4200.00` said "returned must be text" and expected nothing; a required field given as a number
    # (`"claim_id": 5`) said "claim_id is required (text)", as if it were left out
    officer = {"Authorization": f"Bearer {OFFICER_TOKEN}"}
    body = b'{"claim_id": "PG-X", "item_id": "p1", "reason": "r", "returned": 4200.00, "decided_on": "2022-06-01"}'
    number = send(server, "POST", "/ledger/reverse?lang=zh", body, officer)
    assert number.status == 400 and [
        (p["path"], p["line"], p["column"], p["message"], p["expected"]) for p in number.json()["problems"]
    ] == [("returned", 1, 66, "returned 应为文本，不能是数字", '"4200.00"')]  # (column 66: the number)
    given = send(server, "POST", "/ledger/reverse?lang=en", b'{"claim_id": 5, "item_id": "p1", "reason": true}', officer)
    assert [(p["path"], p["message"], p["expected"]) for p in given.json()["problems"]] == [
        ("claim_id", "claim_id must be text, not a number", '"5"'),
        ("reason", "reason must be text, not true or false", None),
    ]
    left_out = send(server, "POST", "/ledger/reverse?lang=en", b'{"claim_id": null, "item_id": "p1", "reason": "r"}', officer)
    assert [p["message"] for p in left_out.json()["problems"]] == ["claim_id is required (text)"]


def test_a_browsers_preflight_from_another_origin_is_refused_as_docs_service_md_says(server: Server) -> None:
    # docs/service.md (From Java or JavaScript): no CORS headers; a preflight OPTIONS is 405, naming the method taken
    asked = {"Origin": "https://portal.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    preflight = send(server, "OPTIONS", "/evaluate?lang=en", None, asked)
    assert (preflight.status, preflight.headers["allow"], preflight.json()["detail"]) == (405, "POST", "OPTIONS is not allowed here")
    assert not any(h.startswith("access-control-") for h in preflight.headers)


def test_an_address_with_a_final_slash_is_not_found_rather_than_redirected(server: Server) -> None:
    for method in ("GET", "POST"):
        answer = send(server, method, "/rounds/?lang=en", b"{}\n" if method == "POST" else None)
        assert answer.status == 404 and "location" not in answer.headers, (method, answer.headers)
        assert answer.json()["detail"] == "no such address: /rounds/ (the address is written without its final slash: /rounds)"
    assert send(server, "GET", "/nowhere/?lang=en").json()["detail"] == "no such address: /nowhere/"
