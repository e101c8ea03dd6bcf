"""The web service (issue 16), tested as a client sees it: a real `python -m engine serve` process on a free
port, spoken to over HTTP. Expected amounts are worked out by hand from the measures (written in comments).

The served folder holds two versions of the Pinggu measures: pinggu_2020.yaml (funding years 2021-2023) and
the 2024 draft (2024-2026; 第六条（一）项 annual cap 30万 -> 50万).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import ENTERPRISE_ID, ROOT, claim, item
from test_ledger_support import BACKENDS, make_ledger_url

import engine
from engine.records.inputs import locate, read_document

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

OFFICER_TOKEN = "officer-token-0123456789abcdef"
READER_TOKEN = "reader-token-0123456789abcdef"
POLICY_ID = "pinggu-ip-promotion"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def policy_folder(tmp: Path) -> Path:
    folder = tmp / "policies"
    (folder / "texts").mkdir(parents=True)
    for src in (ROOT / "policies" / "pinggu_2020.yaml", ROOT / "policies" / "revisions" / "pinggu_2024_draft.yaml"):
        shutil.copy(src, folder / src.name)
        shutil.copytree(src.parent / "texts", folder / "texts", dirs_exist_ok=True)
    return folder


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Server:
    """`python -m engine serve ...` in a subprocess, on a free port."""

    def __init__(self, tmp: Path, *args: str, folder: Path | None = None, lang: str = "zh") -> None:
        self.folder = folder or policy_folder(tmp)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(tmp / f"server-{self.port}.log", "w+b")
        env = {**os.environ, "PYTHONPATH": str(ROOT), "POLICY_ENGINE_LANG": lang}  # the service's configured language
        cmd = [sys.executable, "-m", "engine", "serve", "--policies", str(self.folder), "--port", str(self.port), *args]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=tmp)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited {self.proc.returncode}: {self.output()}")
            try:
                if self.call("GET", "/health").status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"the server did not answer: {self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-4000:]

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = None, headers: dict[str, str] | None = None) -> Answer:
        data = body if isinstance(body, bytes) else None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return Answer(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
        except urllib.error.HTTPError as err:
            return Answer(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("service")
    tokens = tmp / "tokens.yaml"
    tokens.write_text(
        f"tokens:\n  {OFFICER_TOKEN}: {{name: 王科员, roles: [officer]}}\n  {READER_TOKEN}: {{name: finance-system, roles: [reader]}}\n",
        encoding="utf-8",
    )
    srv = Server(
        tmp,
        "--ledger",
        f"sqlite:///{tmp / 'ledger.sqlite'}",
        "--token-file",
        str(tokens),
        "--max-items",
        "20",
        "--max-body",
        "300000",
        "--jobs-dir",
        str(tmp / "jobs"),
    )
    srv.ledger = tmp / "ledger.sqlite"  # type: ignore[attr-defined]
    yield srv
    srv.stop()


def pledge_claim(claim_id: str, interest: str, *, year: int = 2021, loan: str = "LOAN-1") -> dict[str, Any]:
    return claim(
        item("pledge_loan_interest", "l1", date=f"{year}-06-01", loan_id=loan, annual_interest_paid=interest),
        funding_year=year,
        claim_id=claim_id,
    )


# --- 1. the OpenAPI document and the API page -------------------------------------------------------------------


def test_openapi_is_valid_3_1_and_embeds_each_versions_generated_claim_schema(server: Server) -> None:
    from openapi_spec_validator import validate

    from engine.service.openapi import embed

    answer = server.call("GET", "/openapi.json")
    assert answer.status == 200
    doc = answer.json()
    validate(doc)  # raises on an invalid document
    assert doc["openapi"] == "3.1.0"
    schemas = doc["components"]["schemas"]
    for path, version in ((server.folder / "pinggu_2020.yaml", "2020.1"), (server.folder / "pinggu_2024_draft.yaml", "2024.1-draft")):
        name = f"Claim.{POLICY_ID}.{version}"
        assert schemas[name] == embed(engine.claim_schema(engine.load_policy(path)), name)
    decision = json.loads((ROOT / "schemas" / "decision.schema.json").read_text(encoding="utf-8"))
    assert schemas["Decision"] == embed(decision, "Decision")
    body = doc["paths"]["/evaluate"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {
        "anyOf": [
            {"$ref": f"#/components/schemas/Claim.{POLICY_ID}.2020.1"},
            {"$ref": f"#/components/schemas/Claim.{POLICY_ID}.2024.1-draft"},
        ]
    }


def test_the_api_page_needs_no_network(server: Server) -> None:
    answer = server.call("GET", "/docs")
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert "/evaluate" in page and "/ledger/commit" in page and "Claim.pinggu-ip-promotion.2020.1" in page
    assert "<script" not in page and "<link" not in page and "src=" not in page and "@import" not in page
    assert "default-src 'none'" in answer.headers["content-security-policy"]


# --- 2. policies, evaluate, explain ----------------------------------------------------------------------------


def test_policies_list_every_version_with_its_funding_years(server: Server) -> None:
    listing = server.call("GET", "/policies").json()["policies"]
    assert [p["id"] for p in listing] == [POLICY_ID]
    versions = {v["version"]: v for v in listing[0]["versions"]}
    # the windows as the two files write them: 2021-2023 and 2024-2026
    assert versions["2020.1"]["funding_years"] == {"from": 2021, "to": 2023}
    assert versions["2024.1-draft"]["funding_years"] == {"from": 2024, "to": 2026}
    assert versions["2020.1"]["title"] == {"zh": "平谷区知识产权促进办法", "en": "Pinggu District Intellectual Property Promotion Measures"}


def test_clauses_of_a_version_verbatim_and_an_unknown_version_is_a_problem(server: Server) -> None:
    clauses = {c["id"]: c for c in server.call("GET", f"/policies/{POLICY_ID}/2020.1/clauses").json()}
    assert (
        clauses["第二条"]["text"]
        == "本办法适用于本行政区域内对知识产权创造、运用、管理、服务等活动给予的资金支持或奖励。区财政部门对知识产权支持或奖励资金给予预算保障。"
    )
    missing = server.call("GET", f"/policies/{POLICY_ID}/1999.9/clauses")
    assert missing.status == 404 and missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["type"] == "urn:policy-engine:problem:not-found"


def test_evaluate_chooses_the_version_in_force_by_funding_year(server: Server) -> None:
    # 第六条（一）项: 50% of interest paid; 2020.1 caps it at 300,000 a year, the 2024 draft at 500,000.
    # 800,000 interest: 50% = 400,000 -> 300,000 in 2021 (capped), 400,000 in 2024 (under 500,000)
    d2021 = server.call("POST", "/evaluate", pledge_claim("E-1", "800000.00")).json()
    d2024 = server.call("POST", "/evaluate", pledge_claim("E-2", "800000.00", year=2024)).json()
    assert (d2021["policy"]["version"], d2021["items"][0]["amount"]) == ("2020.1", "300000.00")
    assert (d2024["policy"]["version"], d2024["items"][0]["amount"]) == ("2024.1-draft", "400000.00")
    outside = server.call("POST", "/evaluate", pledge_claim("E-3", "800000.00", year=2019))
    assert outside.status == 422 and outside.json()["problems"][0]["path"] == "funding_year"


def test_a_bad_claim_gets_problem_json_with_the_problems_the_cli_prints(server: Server, tmp_path: Path) -> None:
    bad = pledge_claim("B-1", "12.345")  # yuan take at most two decimals
    bad["items"][0]["lender_is_bank"] = "yes"  # a boolean expected
    text = json.dumps(bad, ensure_ascii=False, indent=2)
    (tmp_path / "bad.json").write_text(text, encoding="utf-8")
    data, source = read_document(tmp_path / "bad.json")  # what `evaluate` does before printing (engine/cli/__init__.py)
    with pytest.raises(engine.ClaimError) as caught:
        engine.parse_claim(engine.load_policy(server.folder / "pinggu_2020.yaml"), data, file=str(tmp_path / "bad.json"))
    printed = locate(caught.value, source, "bad.json").problems
    answer = server.call("POST", "/evaluate", text.encode("utf-8"))
    assert answer.status == 422 and answer.headers["content-type"] == "application/problem+json"
    served = answer.json()["problems"]
    assert [(p["path"], p["line"], p["column"], p["message"], p["expected"]) for p in served] == [
        (p.to_dict()["path"], p.line, p.column, p.message, p.expected) for p in printed
    ]
    assert len(served) == 2


def test_problem_titles_follow_the_callers_language(server: Server) -> None:
    zh = server.call("POST", "/evaluate", b'{"claim_id": ')
    en = server.call("POST", "/evaluate", b'{"claim_id": ', headers={"Accept-Language": "en-GB,en;q=0.9"})
    forced = server.call("POST", "/evaluate?lang=zh", b'{"claim_id": ', headers={"Accept-Language": "en"})
    assert zh.status == en.status == forced.status == 400
    assert zh.json()["title"] == "请求体不是有效的 JSON" == forced.json()["title"]
    assert en.json()["title"] == "The request body is not valid JSON"
    assert en.json()["problems"][0]["line"] == 1 and en.json()["problems"][0]["column"] == 14


def test_explain_in_every_format_and_language(server: Server) -> None:
    c = pledge_claim("X-1", "200000.00")  # 50% of 200,000 = 100,000
    text_en = server.call("POST", "/explain?format=text&lang=en", c)
    assert text_en.status == 200 and text_en.headers["content-type"].startswith("text/plain")
    assert "100,000.00" in text_en.text and "第六条" in text_en.text
    html = server.call("POST", "/explain?format=html&lang=zh", c)
    assert html.headers["content-type"].startswith("text/html") and "script-src 'unsafe-inline'" in html.headers["content-security-policy"]
    assert "100,000.00" in html.text
    md = server.call("POST", "/explain?format=md", c, headers={"Accept-Language": "en"})
    assert md.headers["content-language"] == "en" and md.headers["content-type"].startswith("text/markdown")
    js = server.call("POST", "/explain?format=json", c).json()
    assert js["items"][0]["amount"] == "100000.00"
    wrong = server.call("POST", "/explain?format=pdf&lang=en", c)
    assert wrong.status == 400 and "text | md | html | json" in wrong.json()["detail"]


# --- 4. bounds; one bad request never affects another -----------------------------------------------------------


def test_bounds_on_body_and_items_and_the_next_request_is_served(server: Server) -> None:
    big = server.call("POST", "/evaluate", b"{" + b" " * 400_000 + b"}")  # --max-body 300000
    assert big.status == 413 and big.json()["type"] == "urn:policy-engine:problem:too-large"
    many = claim(*[item("patent_insurance", f"i{n}", insurance_policy_id=f"INS-{n}") for n in range(21)])  # --max-items 20
    refused = server.call("POST", "/evaluate", many, headers={"Accept-Language": "en"})
    assert refused.status == 422 and refused.json()["problems"][0]["path"] == "items"
    assert refused.json()["detail"] == "at most 20 items per application; 21 given"
    ok = server.call("POST", "/evaluate?trace=false", pledge_claim("OK-1", "200000.00"))
    assert ok.status == 200 and ok.json()["items"][0]["amount"] == "100000.00"


def test_a_request_over_the_time_bound_is_503_and_health_still_answers(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--timeout", "0.000001")
    try:
        slow = srv.call("POST", "/explain?format=html", pledge_claim("T-1", "200000.00"))
        assert slow.status == 503 and slow.json()["type"] == "urn:policy-engine:problem:timeout"
        assert srv.call("GET", "/health").status == 200
    finally:
        srv.stop()


def test_concurrent_good_and_bad_requests_each_get_their_own_answer(server: Server) -> None:
    def one(n: int) -> tuple[int, Any]:
        if n % 2:
            a = server.call("POST", "/evaluate?trace=false", b'{"broken')
            return a.status, a.json()["type"]
        a = server.call("POST", "/evaluate?trace=false", pledge_claim(f"C-{n}", f"{2 * n + 2}0000.00"))
        return a.status, a.json()["items"][0]["amount"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(24)))
    for n, (status, what) in enumerate(results):
        # even n: interest (2n+2)*10,000, subsidy 50% of it = (n+1)*10,000
        assert (status, what) == ((400, "urn:policy-engine:problem:invalid-json") if n % 2 else (200, f"{(n + 1) * 10000}.00"))


def test_metrics_count_requests_by_route_and_status_with_a_latency_histogram(server: Server) -> None:
    server.call("GET", "/policies")
    server.call("GET", "/no-such-route")
    wrong = server.call("GET", "/evaluate")
    assert wrong.status == 405 and wrong.headers["content-type"] == "application/problem+json"
    text = server.call("GET", "/metrics").text
    assert "# TYPE policy_engine_requests_total counter" in text
    assert 'route="/policies",status="200"}' in text and 'route="(unknown)",status="404"}' in text
    assert 'method="GET",route="/evaluate",status="405"}' in text
    assert "# TYPE policy_engine_request_duration_seconds histogram" in text
    assert 'route="/policies",le="+Inf"}' in text


# --- 3. ledger: who may do what; every write audited -------------------------------------------------------------


def test_writes_need_an_officer_token_and_every_write_is_audited(server: Server) -> None:
    c = pledge_claim("L-1", "200000.00", loan="LOAN-L1")
    assert server.call("POST", "/ledger/commit", c).status == 401
    assert "bearer" in server.call("POST", "/ledger/commit", c).headers["www-authenticate"].lower()
    assert server.call("POST", "/ledger/commit", c, token="not-a-token-at-all-0000").status == 401
    assert server.call("POST", "/ledger/commit", c, token=READER_TOKEN).status == 403
    done = server.call("POST", "/ledger/commit", c, token=OFFICER_TOKEN)
    assert done.status == 200 and done.json()["status"] == "committed" and done.json()["grants"] == 1
    again = server.call("POST", "/ledger/commit", {**c, "documents": []}, token=OFFICER_TOKEN)
    assert again.status == 409 and again.json()["type"] == "urn:policy-engine:problem:already-committed"
    rev = server.call(
        "POST", "/ledger/reverse", {"claim_id": "L-1", "item_id": "l1", "reason": "审计追回", "returned": "40000.00"}, token=OFFICER_TOKEN
    )
    assert rev.status == 200
    too_much = server.call(
        "POST", "/ledger/reverse", {"claim_id": "L-1", "item_id": "l1", "reason": "x", "returned": "60000.01"}, token=OFFICER_TOKEN
    )
    assert too_much.status == 422  # 100,000 granted, 40,000 returned already: 60,000.01 is more than is left
    assert server.call("POST", "/ledger/reverse", {"claim_id": "L-1", "item_id": "l1", "reason": "x"}, token=READER_TOKEN).status == 403
    log = server.call("GET", "/ledger/audit", token=OFFICER_TOKEN).json()
    mine = [(e["actor"], e["action"], e["target"], e["outcome"]) for e in log if e["target"].startswith("L-1")]
    assert mine == [
        ("王科员", "commit", "L-1", "committed"),
        ("王科员", "commit", "L-1", "refused: already committed"),
        ("王科员", "reverse", "L-1/l1", "recorded"),
        ("王科员", "reverse", "L-1/l1", mine[3][3]),
    ]
    assert mine[3][3].startswith("refused:")
    assert all(e["at"] and e["roles"] == ["officer"] for e in log)
    assert server.call("GET", "/ledger/audit", token=READER_TOKEN).status == 403


def test_an_applicants_grants_caps_and_limits_used(server: Server) -> None:
    applicant = "91110117MA02XYHW3G"
    for n, interest in enumerate(("200000.00", "300000.00")):
        c = pledge_claim(f"U-{n}", interest, loan=f"LOAN-U{n}")
        c["applicant"]["id"] = applicant
        assert server.call("POST", "/ledger/commit", c, token=OFFICER_TOKEN).json()["status"] == "committed"
    view = server.call("GET", f"/ledger/applicants/{applicant}").json()
    # 50% of 200,000 = 100,000; 50% of 300,000 = 150,000; together 250,000 of the 300,000 yearly cap; 2 of 3 times
    assert sorted(g["amount"] for g in view["grants"]) == ["100000.00", "150000.00"]
    caps = [c for c in view["caps_used"] if c["scope"] == [applicant, 2021]]
    assert [(c["used"], c["ceiling"]) for c in caps] == [("250000.00", "300000.00")]
    limits = [lim for lim in view["limits_used"] if lim["times"] == 2]
    assert limits and limits[0]["at_most"] == 3


def test_a_finding_is_checked_recorded_and_audited(server: Server) -> None:
    policy = engine.load_policy(server.folder / "pinggu_2020.yaml")
    fact = next(name for name, spec in policy.applicant_facts.items() if spec.type in ("date", "date_list"))
    ok = server.call(
        "POST",
        "/ledger/findings",
        {"applicant_id": ENTERPRISE_ID, "fact": fact, "value": "2021-05-01", "reason": "查处"},
        token=OFFICER_TOKEN,
    )
    assert ok.status == 200
    bad = server.call(
        "POST", "/ledger/findings", {"applicant_id": ENTERPRISE_ID, "fact": fact, "value": "2021-02-30", "reason": "x"}, token=OFFICER_TOKEN
    )
    assert bad.status == 422
    extra = server.call(
        "POST",
        "/ledger/findings",
        {"applicant_id": ENTERPRISE_ID, "fact": fact, "value": "2021-05-01", "reason": "x", "x": "1"},
        token=OFFICER_TOKEN,
    )
    assert extra.status == 400 and extra.json()["problems"][0]["path"] == "x"
    view = server.call("GET", f"/ledger/applicants/{ENTERPRISE_ID}").json()
    assert view["facts_on_record"][fact] == ["2021-05-01"]
    log = server.call("GET", "/ledger/audit?actor=" + urllib.parse.quote("王科员"), token=OFFICER_TOKEN).json()
    assert [e["outcome"] for e in log if e["action"] == "finding"][-2:] == ["recorded", log[-1]["outcome"]]
    assert log[-1]["outcome"].startswith("refused:")


# --- reload -------------------------------------------------------------------------------------------------------


def test_reload_validates_first_and_a_bad_set_keeps_the_old_one(server: Server) -> None:
    before = server.call("GET", "/ready").json()["generation"]
    bad = server.folder / "zz_broken.yaml"
    bad.write_text("policy:\n  id: broken\n  version: 1\n", encoding="utf-8")
    try:
        assert server.call("POST", "/admin/reload").status == 401
        assert server.call("POST", "/admin/reload", token=READER_TOKEN).status == 403
        refused = server.call("POST", "/admin/reload", token=OFFICER_TOKEN, headers={"Accept-Language": "en"})
        assert refused.status == 422
        body = refused.json()
        assert body["title"] == "The policies are not valid; the old set stays in force" and body["generation"] == before
        assert body["problems"] and all(p["file"].endswith("zz_broken.yaml") for p in body["problems"])
        assert server.call("GET", "/ready").json()["generation"] == before
        assert server.call("POST", "/evaluate", pledge_claim("R-1", "200000.00")).status == 200
        server.proc.send_signal(signal.SIGHUP)  # the same validation: still the old set
        time.sleep(1.0)
        assert server.call("GET", "/ready").json()["generation"] == before
    finally:
        bad.unlink()
    done = server.call("POST", "/admin/reload", token=OFFICER_TOKEN)
    assert done.status == 200 and done.json()["generation"] == before + 1
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 30
    while server.call("GET", "/ready").json()["generation"] != before + 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert server.call("GET", "/ready").json()["generation"] == before + 2
    outcomes = [e["outcome"] for e in server.call("GET", "/ledger/audit", token=OFFICER_TOKEN).json() if e["action"] == "reload"]
    assert outcomes[-2:] == ["refused", "reloaded"]


# --- rounds as jobs ---------------------------------------------------------------------------------------------


def test_a_round_runs_as_a_job_with_progress_and_files(server: Server) -> None:
    lines = [
        json.dumps(pledge_claim(f"RD-{n}", "200000.00", loan=f"LOAN-RD{n}") | {"applicant": {**claim()["applicant"], "id": ENTERPRISE_ID}})
        for n in range(3)
    ]
    lines.append("{not json")
    started = server.call("POST", "/rounds", ("\n".join(lines) + "\n").encode("utf-8"))
    assert started.status == 202
    job = started.json()["id"]
    deadline = time.monotonic() + 120
    state = server.call("GET", f"/rounds/{job}").json()
    while state["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.3)
        state = server.call("GET", f"/rounds/{job}").json()
    assert state["state"] == "done", state
    assert (state["summary"]["applications"], state["summary"]["failed"]) == (4, 1)
    decisions = server.call("GET", f"/rounds/{job}/files/decisions.jsonl").text.splitlines()
    assert [json.loads(d)["claim_id"] for d in decisions] == ["RD-0", "RD-1", "RD-2"]
    errors = server.call("GET", f"/rounds/{job}/files/errors.jsonl").text.splitlines()
    assert len(errors) == 1
    assert server.call("GET", f"/rounds/{job}/files/../../etc/passwd").status == 404
    assert server.call("POST", "/rounds?commit=true", b"{}\n").status == 401
    assert server.call("POST", "/rounds?commit=true", b"{}\n", token=READER_TOKEN).status == 403
    committed = server.call("POST", "/rounds?commit=true&round=R-2021", ("\n".join(lines[:1]) + "\n").encode("utf-8"), token=OFFICER_TOKEN)
    job = committed.json()["id"]
    deadline = time.monotonic() + 120
    while server.call("GET", f"/rounds/{job}").json()["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.3)
    state = server.call("GET", f"/rounds/{job}").json()
    assert state["summary"]["ledger"]["committed"] == 1 and state["by"] == "王科员"
    log = server.call("GET", "/ledger/audit", token=OFFICER_TOKEN).json()
    assert [(e["actor"], e["action"], e["target"], e["outcome"]) for e in log if e["action"] == "round"] == [
        ("王科员", "round", job, "committed")
    ]


# --- 6. an explanation served by the service, in headless Chromium -----------------------------------------------


def test_an_explanation_served_by_the_service_opens_in_chromium(server: Server) -> None:
    from test_browser_report import _chromium, _run

    browser = _chromium()
    c = pledge_claim("BR-1", "200000.00", loan="LOAN-BR")
    c["applicant"]["id"] = "91110117MA03PLAT5Q"
    c["applicant"]["kind"] = "enterprise"
    assert server.call("POST", "/ledger/commit", c, token=OFFICER_TOKEN).status == 200
    url = f"{server.base}/ledger/claims/BR-1/explanation?format=html&lang=en"
    done = _run(browser, "--dump-dom", url)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert "BR-1" in dom and "100,000.00" in dom  # 50% of 200,000
    assert "第六条" in dom


# --- 5. under load: concurrent commits never exceed a cap or a limit ---------------------------------------------


@pytest.fixture(params=BACKENDS)
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    yield from make_ledger_url(request.param, tmp_path)


def test_concurrent_conflicting_commits_over_http_never_exceed_a_cap_or_limit(tmp_path: Path, ledger_url: str) -> None:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(f"tokens:\n  {OFFICER_TOKEN}: {{name: 王科员, roles: [officer]}}\n", encoding="utf-8")
    srv = Server(tmp_path, "--ledger", ledger_url, "--token-file", str(tokens), "--workers", "2")
    try:
        # 12 applications by one enterprise, each one pledge loan with 200,000 interest (50% = 100,000) in 2021:
        # the yearly cap 300,000 lets 3 through whole, and "3 times ever" stops the rest: 3 grants, 300,000
        def commit(n: int) -> tuple[int, str]:
            a = srv.call("POST", "/ledger/commit", pledge_claim(f"RACE-{n}", "200000.00", loan=f"LOAN-R{n}"), token=OFFICER_TOKEN)
            return a.status, a.json()["decision"]["total"] if a.status == 200 else a.text

        with ThreadPoolExecutor(12) as pool:
            results = list(pool.map(commit, range(12)))
        assert all(status == 200 for status, _ in results), results
        from decimal import Decimal

        assert sum(Decimal(total) for _, total in results) == Decimal("300000.00")
        assert sorted(total for _, total in results).count("100000.00") == 3
        reload_every_worker(srv)
    finally:
        srv.stop()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    verify = subprocess.run(
        [sys.executable, "-m", "engine", "ledger", "verify", "--ledger", ledger_url, "--policy", str(srv.folder)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "0 violation(s)" in verify.stderr


def reload_every_worker(srv: Server) -> None:
    """With several workers: a bad folder is refused and every worker keeps serving; a good one reaches every worker."""
    old = srv.call("GET", "/ready").json()["fingerprint"]
    bad = srv.folder / "zz_broken.yaml"
    bad.write_text("policy: [\n", encoding="utf-8")
    refused = srv.call("POST", "/admin/reload", token=OFFICER_TOKEN)
    assert refused.status == 422 and refused.json()["problems"][0]["file"].endswith("zz_broken.yaml")
    bad.unlink()
    # a third version, 2027-2029: the 2024 draft with its window moved on
    draft = (srv.folder / "pinggu_2024_draft.yaml").read_text(encoding="utf-8")
    later = draft.replace('version: "2024.1-draft"', 'version: "2027.1"').replace(
        "funding_years: {from: 2024, to: 2026}", "funding_years: {from: 2027, to: 2029}"
    )
    assert later != draft
    (srv.folder / "pinggu_2027.yaml").write_text(later, encoding="utf-8")
    done = srv.call("POST", "/admin/reload", token=OFFICER_TOKEN)
    assert done.status == 200 and done.json()["fingerprint"] != old and done.json()["workers"] == 2
    new = done.json()["fingerprint"]
    deadline, streak = time.monotonic() + 90, 0
    while streak < 20 and time.monotonic() < deadline:  # 20 answers in a row from the new set: every worker replaced
        try:
            answer = srv.call("GET", "/ready")
        except (ConnectionResetError, http.client.RemoteDisconnected):
            # uvicorn replaces workers one at a time; a worker shutting down may drop a connection it had just
            # accepted (a client or proxy retries an idempotent GET). What must never happen is an answer from a
            # half-loaded set, which the fingerprint check below would see.
            streak = 0
            continue
        streak = streak + 1 if answer.status == 200 and answer.json()["fingerprint"] == new else 0
        time.sleep(0.05)
    assert streak >= 20, srv.output()
    assert srv.call("POST", "/evaluate", pledge_claim("Y-2027", "800000.00", year=2027)).json()["policy"]["version"] == "2027.1"
    # SIGHUP to the supervisor with a bad folder: the replacement worker cannot load it, the serving ones stay
    bad.write_text("policy: [\n", encoding="utf-8")
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        answer = srv.call("GET", "/ready")
        assert answer.status == 200 and answer.json()["fingerprint"] == new
        time.sleep(0.2)
    assert srv.proc.poll() is None
    bad.unlink()


def test_reads_can_be_token_protected(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(f"tokens:\n  {READER_TOKEN}: {{name: portal, roles: [reader]}}\n", encoding="utf-8")
    srv = Server(tmp_path, "--reads", "token", "--token-file", str(tokens))
    try:
        assert srv.call("GET", "/policies").status == 401
        assert srv.call("POST", "/evaluate", pledge_claim("P-1", "200000.00")).status == 401
        assert srv.call("GET", "/policies", token=READER_TOKEN).status == 200
        assert (
            srv.call("POST", "/evaluate", pledge_claim("P-1", "200000.00"), token=READER_TOKEN).json()["items"][0]["amount"] == "100000.00"
        )
        assert srv.call("GET", "/health").status == 200 and srv.call("GET", "/ready").status == 200  # for the load balancer
        assert srv.call("POST", "/admin/reload", token=READER_TOKEN).status == 403
    finally:
        srv.stop()


def test_a_bad_token_file_stops_the_start_with_its_problems(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(
        "tokens:\n  short: {name: x, roles: [officer]}\n  long-enough-token-1234: {name: y, roles: [admin]}\n", encoding="utf-8"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "serve",
            "--policies",
            str(policy_folder(tmp_path)),
            "--token-file",
            str(tokens),
            "--port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "a token must be text of at least 16 characters" in done.stderr and "roles must be a list of officer, reader" in done.stderr


def test_a_body_sent_too_slowly_is_408_and_others_are_served_meanwhile(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--body-timeout", "1")
    try:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as slow:
            slow.sendall(
                b'POST /evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"claim_id": '
            )
            assert srv.call("GET", "/health").status == 200  # answered while the slow body is still owed
            answer = b""  # the rest of the body never comes; read the whole answer
            while b"slow-body" not in answer:
                chunk = slow.recv(65536)
                if not chunk:
                    break
                answer += chunk
            answer = answer.decode("utf-8")
        assert answer.startswith("HTTP/1.1 408") and "urn:policy-engine:problem:slow-body" in answer
    finally:
        srv.stop()


def test_a_write_and_its_audit_entry_are_kept_or_lost_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.records.ledger import Audit, Ledger

    policy = engine.load_policy(ROOT / "policies" / "pinggu_2020.yaml")
    who = Audit("王科员", ("officer",), "commit", "A-1", {"claim_id": "A-1"})
    with Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as ledger:
        done = ledger.commit(policy, pledge_claim("A-1", "200000.00"), audit=who)
        [entry] = ledger.audit_log()
        # 50% of 200,000 = 100,000, one grant
        assert (entry["actor"], entry["action"], entry["target"], entry["outcome"]) == ("王科员", "commit", "A-1", "committed")
        assert entry["detail"] == {
            "claim_id": "A-1",
            "seq": done.seq,
            "grants": 1,
            "total": "100000.00",
            "round": "pinggu-ip-promotion/2021",
        }

        def broken(*args: Any, **kwargs: Any) -> int:
            raise RuntimeError("the disk is full")

        monkeypatch.setattr(Ledger, "_insert_audit", broken)  # the audit entry cannot be written: neither is the commit
        with pytest.raises(RuntimeError):
            ledger.commit(
                policy, pledge_claim("A-2", "200000.00", loan="LOAN-A2"), audit=Audit("王科员", ("officer",), "commit", "A-2", {})
            )
        with pytest.raises(RuntimeError):
            ledger.reverse("A-1", "l1", reason="x", audit=Audit("王科员", ("officer",), "reverse", "A-1/l1", {}))
        assert ledger.counts()["commits"] == 1 and ledger.counts()["reversals"] == 0 and ledger.stored_decision("A-2") is None


def test_evaluate_against_the_ledgers_history_commits_nothing(server: Server) -> None:
    applicant = "91110117MA04ALLE66"
    first = pledge_claim("H-1", "400000.00", loan="LOAN-H1")
    first["applicant"]["id"] = applicant
    assert server.call("POST", "/ledger/commit", first, token=OFFICER_TOKEN).json()["decision"]["total"] == "200000.00"  # 50% of 400,000
    second = pledge_claim("H-2", "400000.00", loan="LOAN-H2")
    second["applicant"]["id"] = applicant
    alone = server.call("POST", "/evaluate", second).json()
    after = server.call("POST", "/evaluate?history=ledger", second).json()
    # alone: 200,000; after the 200,000 already granted in 2021, 100,000 of the 300,000 yearly cap is left
    assert (alone["items"][0]["amount"], after["items"][0]["amount"]) == ("200000.00", "100000.00")
    assert after["items"][0]["status"] == "reduced"
    assert len(server.call("GET", f"/ledger/applicants/{applicant}").json()["grants"]) == 1  # nothing committed
    assert server.call("POST", "/evaluate?history=yes", second).status == 400
