"""POST /match: what an applicant can claim from what is already known of it (engine.matching), over HTTP.

The body is one profile (a claim with any facts missing). `?policy=ID` matches against that policy's versions,
else against every policy served; `?history=ledger` counts what the service's ledger already granted (caps and
limits used) and joins the facts on record, as `match --ledger` does; `?format=json` (default: the JSON Lines
record of `policy-engine match`), `text` or `html` (the applicant's notice, in `?lang=` or Accept-Language).
Registered by `engine.service.app.routes`; its OpenAPI entry is `paths()`, merged by `engine.service.openapi`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine.core.errors import EngineError, json_kind
from engine.core.i18n import msg
from engine.deciding.claims import refuse_own_history
from engine.matching.outputs import notice_html, notice_text, result_dict
from engine.matching.run import Matching
from engine.records.inputs import locate
from engine.service.problems import VARY, detail

if TYPE_CHECKING:
    from engine.service.app import Service

FORMATS = {"json": "application/json", "text": "text/plain; charset=utf-8", "html": "text/html; charset=utf-8"}


def routes(svc: Service) -> list[Route]:
    from engine.service.app import Refusal, asked_policies, bounded, claim_refusal, lang_of, read_json

    async def match(request: Request) -> Response:
        svc.may_read(request)
        fmt = request.query_params.get("format", "json")
        lang = lang_of(request)  # (a `?lang=` the service does not speak was refused before: app.Observe)
        history = request.query_params.get("history", "none")
        for name, value, allowed in (("format", fmt, tuple(FORMATS)), ("history", history, ("none", "ledger"))):
            if value not in allowed:
                raise Refusal(
                    "invalid-request", detail("bad_param", lang_of(request), name=name, value=value, expected=" | ".join(allowed))
                )
        if history == "ledger" and svc.config.ledger_url is None:
            raise Refusal("no-ledger", detail("no_ledger", lang_of(request)))
        sets = [asked_policies(svc, request)] if request.query_params.get("policy") else list(svc.catalogue.sets.values())
        data, text = await read_json(request, svc)
        if not isinstance(data, dict):
            raise Refusal(
                "invalid-request",
                detail("bad_param", lang_of(request), name="body", value=json_kind(data), expected=msg("match.profile_object")),
            )
        if history == "ledger":
            try:
                refuse_own_history(data)
            except EngineError as err:
                raise claim_refusal(err, text) from None

        def work() -> str:
            def placed(err: EngineError) -> EngineError:  # (each problem at its line and column in the body)
                return locate(err, text, "request")

            if history == "ledger":
                with svc.ledger_lock:
                    result = Matching(sets, svc.ledger(lang)).match(data, 1, placed)
            else:
                result = Matching(sets).match(data, 1, placed)
            if fmt == "text":
                return notice_text(result, lang)
            if fmt == "html":
                return notice_html(result, lang)
            return json.dumps(result_dict(result), ensure_ascii=False)

        body = await bounded(svc, request, work, ledger=history == "ledger")
        return Response(body, media_type=FORMATS[fmt], headers={"content-language": lang, "vary": VARY})

    return [Route("/match", match, methods=["POST"])]


def paths(problems: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The OpenAPI 3.1 entry of POST /match; `problems` (engine.service.openapi's) writes the responses of the
    problem kinds its route gives."""
    text = {"type": "string"}
    query = [
        {"name": "policy", "in": "query", "required": False, "schema": text, "description": "a policy id; default: every policy served"},
        {"name": "history", "in": "query", "required": False, "schema": {"enum": ["none", "ledger"]}},
        {"name": "format", "in": "query", "required": False, "schema": {"enum": list(FORMATS)}},
        {"name": "lang", "in": "query", "required": False, "schema": {"enum": ["zh", "en"]}},
    ]
    return {
        "/match": {
            "post": {
                "summary": "What an applicant can claim from a profile (any facts missing): eligible, not eligible, or the facts needed",
                "operationId": "match",
                "parameters": query,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"type": "object", "description": "a profile: a claim with any facts missing"}}
                    },
                },
                "responses": {
                    "200": {
                        "description": "the answers per policy version and rule (json), or the applicant's notice (text, html)",
                        "content": {
                            "application/json": {"schema": {"type": "object"}},
                            "text/plain": {"schema": text},
                            "text/html": {"schema": text},
                        },
                    },
                    # (a bad ?policy= is 400, as every bad parameter; with history=ledger a profile carrying a history
                    # of its own is an invalid claim; the ledger and the deciding run under --timeout)
                    **problems("invalid-json", "invalid-claim", "too-many-items", "no-ledger", "ledger-unavailable", "timeout"),
                },
            }
        }
    }
