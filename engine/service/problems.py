"""RFC 9457 problem details (application/problem+json), in Chinese or English for the person reading them.

Every answer that is not a success is one of these: `type` names the kind (`urn:policy-engine:problem:<kind>`),
`title` and `detail` are in the caller's language (`?lang=zh|en`, else Accept-Language, else the service's
configured language), and `problems` carries the located problems the command line prints (file, line, column,
path, message, expected), each said in that language too -- on every refusal: one about the request as a whole (no
such address, no token, busy) carries one problem saying its detail, so a client reads every refusal alike.
`request_id` is the request's id (engine/service/requestid.py), as its `X-Request-Id` header says it. The words are the message catalogue's
(`engine/core/messages/<lang>/service.yaml`, top key `service:`); the engine's own problems are `Msg`s that say
themselves again in the request's language.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from engine.core.errors import Problem
from engine.core.i18n import Msg, known_language, lookup, tr, use_language
from engine.service.requestid import SCOPE_KEY

LANGS = ("zh", "en")
MEDIA = "application/problem+json"
#: what every answer said in the caller's language says: a cache keeps one answer per language it was asked in
VARY = "Accept-Language"

#: kind -> HTTP status (the title is the catalogue's `service.title.<kind>`)
KINDS: dict[str, int] = {
    "invalid-claim": 422,
    "invalid-json": 400,
    "invalid-request": 400,
    "invalid-http": 400,
    "slow-body": 408,
    "too-large": 413,
    "head-too-large": 431,
    "unsupported-media-type": 415,
    "too-many-items": 422,
    "timeout": 503,
    "unauthorized": 401,
    "forbidden": 403,
    "not-found": 404,
    "method-not-allowed": 405,
    "no-ledger": 409,
    "already-committed": 409,
    "ledger-refused": 422,
    "invalid-policies": 422,
    "not-ready": 503,
    "ledger-unavailable": 503,
    "busy": 503,
    "internal": 500,
}


def pick_lang(query: Mapping[str, str], accept_language: str | None, default: str = "zh") -> str:
    """`?lang=` if it names zh or en; else Accept-Language's most preferred language that is zh or en (by its
    `q` weight, the first listed among equals); else `default`."""
    asked = known_language(query.get("lang"))
    if asked is not None:
        return asked
    best, best_q = default, 0.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.partition(";")
        lang = tag.strip().lower()[:2]
        if lang not in LANGS:
            continue
        q = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                continue
        if q > best_q:
            best, best_q = lang, q
    return best


def title(kind: str, lang: str) -> str:
    return lookup(f"service.title.{kind}", lang)


def problem_body(
    kind: str,
    lang: str,
    detail: str | None = None,
    problems: Iterable[Problem] = (),
    instance: str | None = None,
    *,
    request_id: str | None = None,
    **extra: Any,
) -> tuple[int, bytes]:
    """(status, body) of a problem of `kind`; `detail` and the problems' words said in `lang`. With no located
    problem, one saying the detail (code `service.<kind>`): every refusal's `problems` is a list of at least one."""
    status = KINDS[kind]
    body: dict[str, Any] = {"type": f"urn:policy-engine:problem:{kind}", "title": title(kind, lang), "status": status}
    problems = list(problems) or [Problem(detail or title(kind, lang), code=f"service.{kind}")]
    with use_language(lang):
        if detail:
            body["detail"] = tr(detail)
        if instance:
            body["instance"] = instance
        if request_id:
            body["request_id"] = request_id
        body["problems"] = [p.to_dict() for p in problems]
    body.update(extra)
    return status, json.dumps(body, ensure_ascii=False).encode("utf-8")


def detail(key: str, lang: str | None = None, **values: Any) -> Msg:
    """The service's own detail `service.detail.<key>` (a `Msg`: said in the request's language when answered)."""
    return Msg(f"service.detail.{key}", values)


async def send_problem(
    scope: Any, send: Any, kind: str, detail: Msg, default_lang: str, *, close: bool = False, authenticate: bool = False
) -> int:
    """A problem answered before an app has the request (raw ASGI), in the caller's language (`?lang=`, else
    Accept-Language, else `default_lang`); `close`: the connection closed after it (a body never finished);
    `authenticate`: a 401's `WWW-Authenticate` challenge. Its status."""
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    accept = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"accept-language"), None)
    lang = pick_lang(query, accept, default_lang)
    status, body = problem_body(kind, lang, detail, instance=scope["path"], request_id=scope.get(SCOPE_KEY))
    headers = [(b"content-type", MEDIA.encode()), (b"content-length", b"%d" % len(body)), (b"content-language", lang.encode())]
    headers.append((b"vary", VARY.encode()))
    if close:
        headers.append((b"connection", b"close"))
    if authenticate:
        headers.append((b"www-authenticate", b'Bearer realm="policy-engine"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return status
