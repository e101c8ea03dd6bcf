"""The OpenAPI 3.1 document, generated from the policies served, and a self-contained page that reads it.

OpenAPI 3.1 Schema Objects are JSON Schema 2020-12, the dialect of the engine's own schemas, so the claim
schema each policy version generates (`claim_schema`) and schemas/decision.schema.json are embedded as
they are: only their `$schema`/`$id` are dropped and their local `$ref`s re-pointed into components.
"""

from __future__ import annotations

import copy
import html
import json
from typing import Any

from engine.core.version import __version__
from engine.language.validate import load_schema
from engine.service.catalogue import Catalogue
from engine.service.matching import paths as match_paths
from engine.service.media import OUTPUT_MEDIA
from engine.service.problems import KINDS, title


def embed(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """`schema` as the component `name`: `#/...` references re-pointed to `#/components/schemas/<name>/...`."""
    out = copy.deepcopy(schema)
    out.pop("$schema", None)
    out.pop("$id", None)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                node["$ref"] = f"#/components/schemas/{name}/{ref[2:]}"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(out)
    return out


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _problems(*kinds: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in dict.fromkeys(kinds):  # (each once: a call with a body and parameters may be refused 400 for either)
        status = KINDS[kind]
        entry = out.setdefault(str(status), {"description": "", "content": {"application/problem+json": {"schema": _ref("Problem")}}})
        entry["description"] = (entry["description"] + "; " if entry["description"] else "") + title(kind, "en")
    return out


#: the problems any call of its kind may get, besides those its route says (`_may_also`): every call (a server
#: fault; a token asked for where reads need one, `--reads token`), a call with a body (not JSON, or not the fields
#: asked; too large, too slow), a call with query parameters (one that is not one of its values), an officer's write
_EVERY_CALL = ("internal", "unauthorized", "invalid-request")  # (a query parameter the route does not take: any route)
_WITH_BODY = ("invalid-json", "invalid-request", "too-large", "slow-body", "unsupported-media-type")
_WITH_PARAMETERS = ("invalid-request",)
_OFFICER_WRITE = ("forbidden",)
#: the monitors: open whatever `--reads` says and reading no query (a monitor's own parameters are let be), so a
#: server fault is the one problem they may answer (the document said 401 and 400 too, which none of them gives)
_MONITORS = ("health", "ready", "metrics")


def _may_also(op: dict[str, Any]) -> None:
    """`op`'s responses with every problem a call of its kind may get (each status once, its kinds' titles joined), and
    the parameters every call takes: `lang` (every answer's words, a refusal's at least, are said in it) and the
    `X-Request-Id` header."""
    params = op.get("parameters", [])  # (a list of its own: two routes may have been given the same one)
    lang = [] if any(p["name"] == "lang" and p["in"] == "query" for p in params) else [LANG]
    op["parameters"] = [*params, *lang, REQUEST_ID]
    if op.get("operationId") in _MONITORS:
        kinds = ["internal"]
    else:
        kinds = [*_EVERY_CALL, *(_WITH_PARAMETERS if op.get("parameters") else ())]
    if "requestBody" in op:
        kinds += _WITH_BODY
        op["requestBody"].setdefault("description", BODY_TYPES)
    if op.get("security"):
        kinds += _OFFICER_WRITE
    responses = op.setdefault("responses", {})
    for status, entry in _problems(*kinds).items():
        have = responses.get(status)
        if have is None:
            responses[status] = entry
            continue
        said = [t for t in entry["description"].split("; ") if t not in have.get("description", "").split("; ")]
        if said:
            have["description"] = "; ".join(filter(None, [have.get("description", ""), *said]))
        have.setdefault("content", entry["content"])


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """A required JSON request body: an object of exactly these properties."""
    schema = {"type": "object", "required": required, "additionalProperties": False, "properties": properties}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _explanation(text: dict[str, Any], *formats: str) -> dict[str, Any]:
    """An explanation response: text in each of `formats`, or the format-neutral model as JSON."""
    content: dict[str, Any] = {f: {"schema": text} for f in formats}
    content["application/json"] = {"schema": {"type": "object"}}
    return {"description": "the explanation", "content": content}


LANG = {
    "name": "lang",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": ["zh", "en"]},
    "description": "language of words",
}
REQUEST_ID = {
    "name": "X-Request-Id",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": "^[!-~]{1,128}$"},
    "description": "the caller's id for the request (1-128 visible ASCII characters, no space), else one the service makes: "
    "answered in the X-Request-Id header and a problem's request_id, and written in the service's log lines about the request",
}
#: what a body may be declared as besides JSON itself (engine/service/media.py)
BODY_TYPES = (
    "JSON in UTF-8. Content-Type: application/json (or any application/*+json); none, and application/x-www-form-urlencoded "
    "(curl -d, urllib) and text/plain (fetch of a string), are read as JSON too. Another type, a charset other than UTF-8, "
    "or a Content-Encoding is refused, 415"
)
POLICY = {
    "name": "policy",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "policy id (needed only when several policies are served); the version in force for the claim's funding year decides",
}
PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details; `problems` are the located problems the command line prints (at least one: "
    "a refusal of the request as a whole has one saying its detail)",
    "required": ["type", "title", "status", "problems"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "the address asked"},
        "request_id": {"type": "string", "description": "the request's id, as its X-Request-Id answer header says it"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "severity": {"type": "string"},
                    "file": {"type": ["string", "null"]},
                    "line": {"type": ["integer", "null"]},
                    "column": {"type": ["integer", "null"]},
                    "path": {"type": "string"},
                    "message": {"type": "string"},
                    "expected": {"type": ["string", "null"]},
                    "item_id": {"type": "string"},
                },
            },
        },
    },
}
WRITE: list[dict[str, list[str]]] = [{"bearer": []}]


def _ledger_paths(claim_any: dict[str, Any]) -> dict[str, Any]:  # long because: one literal part of the document
    text = {"type": "string"}
    return {
        "/ledger/applicants/{applicant_id}": {
            "get": {
                "summary": "An applicant's grants, reversals, facts on record, and the caps and limits used",
                "operationId": "ledgerApplicant",
                "parameters": [{"name": "applicant_id", "in": "path", "required": True, "schema": text}],
                "responses": {
                    "200": _json({"type": "object"}, "the applicant in the ledger"),
                    **_problems("unauthorized", "no-ledger", "ledger-unavailable", "timeout"),
                },
            }
        },
        "/ledger/commit": {
            "post": {
                "summary": "Decide a claim against the ledger and record its grants (officer)",
                "operationId": "ledgerCommit",
                "security": WRITE,
                "parameters": [
                    POLICY,
                    {"name": "replace", "in": "query", "schema": {"type": "boolean"}, "description": "commit an amended application"},
                    {"name": "round", "in": "query", "schema": text},
                ],
                "requestBody": {"required": True, "content": {"application/json": {"schema": claim_any}}},
                "responses": {
                    "200": _json({"type": "object"}, "the commit: status, sequence, decision as committed"),
                    **_problems(
                        "invalid-claim",
                        "too-many-items",
                        "ledger-refused",
                        "unauthorized",
                        "forbidden",
                        "already-committed",
                        "no-ledger",
                        "too-large",
                        "ledger-unavailable",
                        "timeout",
                    ),
                },
            }
        },
        "/ledger/reverse": {
            "post": {
                "summary": "Record funds returned for one granted item (officer)",
                "operationId": "ledgerReverse",
                "security": WRITE,
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "schema": {"type": "string", "maxLength": 100},
                        "description": "the caller's key for this reversal: sent again under it (an answer lost), it is recorded once and "
                        "its id answered; another reversal under it is refused",
                    }
                ],
                "requestBody": _body(
                    ["claim_id", "item_id", "reason"],
                    {
                        "claim_id": text,
                        "item_id": text,
                        "reason": text,
                        "returned": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"},
                        "decided_on": {"type": "string", "format": "date"},
                    },
                ),
                "responses": {
                    "200": _json({"type": "object"}, "the reversal's id"),
                    **_problems("ledger-refused", "unauthorized", "forbidden", "no-ledger", "ledger-unavailable", "timeout"),
                },
            }
        },
        "/ledger/findings": {
            "post": {
                "summary": "Record a fact about an applicant, e.g. a finding that bars it (officer)",
                "operationId": "ledgerFinding",
                "security": WRITE,
                "parameters": [POLICY],
                "requestBody": _body(
                    ["applicant_id", "fact", "value", "reason"], {"applicant_id": text, "fact": text, "value": text, "reason": text}
                ),
                "responses": {
                    "200": _json(
                        {"type": "object"},
                        "the finding's id (`finding`), `recorded` (false: the same applicant, fact and value was on record "
                        "already -- its id -- and nothing was recorded) and `recorded_at`",
                    ),
                    **_problems(
                        "ledger-refused", "invalid-claim", "unauthorized", "forbidden", "no-ledger", "ledger-unavailable", "timeout"
                    ),
                },
            }
        },
        **{
            f"/ledger/{table}/{{number}}/withdraw": {
                "post": {
                    "summary": f"Withdraw a {kind} recorded by mistake: kept, marked with why and when, no longer counted (officer)",
                    "operationId": f"ledgerWithdraw{kind.title()}",
                    "security": WRITE,
                    "parameters": [
                        {
                            "name": "number",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                            "description": f"the {kind}'s number, as recorded (GET /ledger/applicants/{{applicant_id}} lists them)",
                        }
                    ],
                    "requestBody": _body(["reason"], {"reason": text}),
                    "responses": {
                        "200": _json({"type": "object"}, f"the {kind} as it now stands, its `withdrawn` {{reason, at}}"),
                        **_problems(
                            "not-found", "ledger-refused", "unauthorized", "forbidden", "no-ledger", "ledger-unavailable", "timeout"
                        ),
                    },
                }
            }
            for kind, table in (("reversal", "reversals"), ("finding", "findings"))
        },
        "/ledger/claims/{claim_id}/explanation": {
            "get": {
                "summary": "A committed decision, as committed, explained (text, md, html, json; zh/en)",
                "operationId": "ledgerExplanation",
                "parameters": [
                    {"name": "claim_id", "in": "path", "required": True, "schema": text},
                    {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["text", "md", "html", "json"]}},
                    LANG,
                ],
                "responses": {
                    "200": _explanation(text, "text/plain", "text/html"),
                    **_problems("not-found", "no-ledger", "ledger-unavailable", "timeout"),
                },
            }
        },
        "/ledger/audit": {
            "get": {
                "summary": "The latest audit entries: who changed what, when (officer)",
                "operationId": "ledgerAudit",
                "security": WRITE,
                "parameters": [
                    {"name": "actor", "in": "query", "schema": {"type": "string"}, "description": "only this officer's entries"}
                ],
                "responses": {
                    "200": _json({"type": "array", "items": {"type": "object"}}, "audit entries"),
                    **_problems("forbidden", "no-ledger", "ledger-unavailable", "timeout"),
                },
            }
        },
    }


def _round_file() -> dict[str, Any]:
    """The answer of GET /rounds/{id}/files/{name}: the file as its own media type (by its name's end), to be saved."""
    disposition = {
        "description": 'attachment; filename="NAME" (the file\'s name: decisions.jsonl, ...), to be saved under it',
        "schema": {"type": "string"},
    }
    by_end = ", ".join(f"{end}: {media}" for end, media in OUTPUT_MEDIA.items())
    return {
        "description": f"the file, as its media type by the end of its name ({by_end})",
        "headers": {"Content-Disposition": disposition},
        "content": {media: {"schema": {"type": "string"}} for media in dict.fromkeys(OUTPUT_MEDIA.values())},
    }


def _round_paths() -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "/rounds": {
            "post": {
                "summary": "Decide a round (JSON Lines, one claim a line) as a job; with commit=true record it (officer)",
                "operationId": "roundStart",
                "parameters": [
                    POLICY,
                    {"name": "commit", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "round", "in": "query", "schema": text},
                ],
                "requestBody": {
                    "required": True,
                    "description": "JSON Lines in UTF-8, one claim a line. Content-Type: application/x-ndjson (application/jsonl, "
                    "application/x-jsonlines and application/json are read too; none, application/x-www-form-urlencoded and "
                    "text/plain as well). Another type, a charset other than UTF-8, or a Content-Encoding is refused, 415",
                    "content": {"application/x-ndjson": {"schema": text}},
                },
                "responses": {
                    "202": _json({"type": "object"}, "the job: id and where to follow it"),
                    **_problems("too-large", "busy", "forbidden", "no-ledger", "invalid-claim", "ledger-unavailable", "timeout"),
                },
            }
        },
        "/rounds/{job_id}": {
            "get": {
                "summary": "A round's progress, summary and files",
                "operationId": "roundStatus",
                "parameters": [{"name": "job_id", "in": "path", "required": True, "schema": text}],
                "responses": {
                    "200": _json(
                        {"type": "object"},
                        "state, decided so far, the step after deciding, or before it when a budget is foreseen (`step`: doing, done, total), files",
                    ),
                    **_problems("not-found"),
                },
            }
        },
        "/rounds/{job_id}/files/{name}": {
            "get": {
                "summary": "One of the round's files (decisions.jsonl, errors.jsonl, summary_items.csv, summary_applications.csv, summary.xlsx, summary.json, report.html)",
                "operationId": "roundFile",
                "parameters": [
                    {"name": "job_id", "in": "path", "required": True, "schema": text},
                    {"name": "name", "in": "path", "required": True, "schema": text},
                ],
                "responses": {"200": _round_file(), **_problems("not-found")},
            }
        },
    }


def openapi_document(catalogue: Catalogue) -> dict[str, Any]:  # long because: the API is one literal document
    claims = catalogue.claim_schemas()
    components: dict[str, Any] = {name: embed(schema, name) for name, schema in claims.items()}
    components["Decision"] = embed(load_schema("decision.schema.json"), "Decision")
    components["Problem"] = PROBLEM
    claim_any: dict[str, Any] = {"anyOf": [_ref(name) for name in claims]} if len(claims) > 1 else _ref(next(iter(claims)))
    text = {"type": "string"}
    version_params = [
        {"name": "policy_id", "in": "path", "required": True, "schema": text},
        {"name": "version", "in": "path", "required": True, "schema": text},
    ]
    paths: dict[str, Any] = {
        "/policies": {
            "get": {
                "summary": "The policies served: ids, versions, titles, funding years",
                "operationId": "listPolicies",
                "responses": {"200": _json({"type": "object"}, "policies and their versions")},
            }
        },
        "/policies/{policy_id}/{version}/clauses": {
            "get": {
                "summary": "The clauses of one version, verbatim",
                "operationId": "listClauses",
                "parameters": version_params,
                "responses": {"200": _json({"type": "array", "items": {"type": "object"}}, "clauses"), **_problems("not-found")},
            }
        },
        "/policies/{policy_id}/{version}/schema": {
            "get": {
                "summary": "The claim JSON Schema this version generates",
                "operationId": "claimSchema",
                "parameters": version_params,
                "responses": {"200": _json({"type": "object"}, "a JSON Schema 2020-12"), **_problems("not-found")},
            }
        },
        "/evaluate": {
            "post": {
                "summary": "Decide one claim (the version in force for its funding year decides)",
                "operationId": "evaluate",
                "parameters": [
                    POLICY,
                    {
                        "name": "trace",
                        "in": "query",
                        "schema": {"type": "boolean", "default": False},
                        "description": "true: each item's steps (the trace: every check, value and clause that decided it) in `steps`;"
                        " default false: the decision without them (`steps` empty; statuses, amounts, reasons, cites, readings,"
                        " totals and grants as ever). For the reasons in words use /explain",
                    },
                    {
                        "name": "history",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["none", "ledger"]},
                        "description": "ledger: decide after the grants and facts the ledger holds, without committing (default none)",
                    },
                    LANG,
                ],
                "requestBody": {"required": True, "content": {"application/json": {"schema": claim_any}}},
                "responses": {
                    "200": _json(_ref("Decision"), "the decision"),
                    **_problems(
                        "invalid-json",
                        "invalid-claim",
                        "too-large",
                        "too-many-items",
                        "timeout",
                        "unauthorized",
                        "no-ledger",
                        "ledger-unavailable",
                    ),
                },
            }
        },
        "/explain": {
            "post": {
                "summary": "Decide one claim (or take a decision as recorded) and explain it clause by clause",
                "operationId": "explain",
                "parameters": [
                    POLICY,
                    {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["text", "md", "html", "json"]}},
                    LANG,
                ],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"anyOf": [claim_any, _ref("Decision")]}}}},
                "responses": {
                    "200": _explanation(text, "text/plain", "text/markdown", "text/html"),
                    **_problems("invalid-json", "invalid-claim", "too-large", "too-many-items", "timeout", "unauthorized"),
                },
            }
        },
        "/admin/reload": {
            "post": {
                "summary": "Load the policy folder again: validated first, switched atomically; a bad set leaves the old one in force (officer)",
                "operationId": "reload",
                "security": WRITE,
                "responses": {
                    "200": _json({"type": "object"}, "the new set"),
                    **_problems("invalid-policies", "unauthorized", "forbidden"),
                },
            }
        },
        "/health": {
            "get": {"summary": "The process answers", "operationId": "health", "responses": {"200": _json({"type": "object"}, "alive")}}
        },
        "/ready": {
            "get": {
                "summary": "Policies loaded (and the ledger reachable, when configured)",
                "operationId": "ready",
                "responses": {"200": _json({"type": "object"}, "ready"), **_problems("not-ready")},
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus text metrics",
                "operationId": "metrics",
                "responses": {"200": {"description": "metrics", "content": {"text/plain": {"schema": text}}}},
            }
        },
        **_ledger_paths(claim_any),
        **_round_paths(),
        **match_paths(_problems),
    }
    for ops in paths.values():
        for op in ops.values():
            _may_also(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "policy-engine",
            "version": __version__,
            "summary": "Subsidy measures as data: decide and explain applications, record grants",
            "description": "Policies served: "
            + "; ".join(
                f"{p.id} {p.version} ({p.title.zh} / {p.title.en}), funding years {p.funding_years[0]}-{p.funding_years[1]}"
                for p in catalogue.all_versions()
            ),
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def docs_page(document: dict[str, Any]) -> str:
    """A human-readable page of the API, self-contained (no script, no font, nothing fetched from anywhere)."""
    e = html.escape
    rows = []
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            params = ", ".join(f"{p['name']} ({p['in']})" for p in op.get("parameters", []))
            body = op.get("requestBody", {}).get("content", {})
            codes = ", ".join(sorted(op.get("responses", {})))
            lock = " 🔒" if op.get("security") else ""
            rows.append(
                f"<section id='{e(op.get('operationId', ''))}'><h3><code class='m {e(method)}'>{e(method.upper())}</code> <code>{e(path)}</code>{lock}</h3>"
                f"<p>{e(op.get('summary', ''))}</p>"
                + (f"<p><b>parameters</b>: {e(params)}</p>" if params else "")
                + (f"<p><b>body</b>: {e(', '.join(body))}</p>" if body else "")
                + f"<p><b>responses</b>: {e(codes)}</p></section>"
            )
    schemas = "".join(
        f"<details><summary><code>{e(name)}</code></summary><pre>{e(json.dumps(schema, ensure_ascii=False, indent=2)[:200_000])}</pre></details>"
        for name, schema in document["components"]["schemas"].items()
    )
    info = document["info"]
    return (
        "<!doctype html><html lang='zh'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
        f"<title>{e(info['title'])} API</title><style>"
        "body{font:15px/1.5 system-ui,'Noto Sans CJK SC',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "code{background:#f3f3f3;padding:0 .25rem}.m{color:#fff;border-radius:3px}.get{background:#2a6}.post{background:#26a}"
        "section{border-top:1px solid #ddd}pre{background:#f8f8f8;padding:.5rem;overflow:auto;max-height:30rem}"
        "</style></head><body>"
        f"<h1>{e(info['title'])} <small>{e(info['version'])}</small></h1><p>{e(info.get('summary', ''))}</p>"
        f"<p>{e(info.get('description', ''))}</p><p>OpenAPI {e(document['openapi'])}: <a href='/openapi.json'>/openapi.json</a>. "
        "🔒: needs a bearer token with the officer role.</p>"
        "<h2>Endpoints</h2>" + "".join(rows) + "<h2>Schemas</h2>" + schemas + "</body></html>"
    )
