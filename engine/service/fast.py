"""The lean path of POST /evaluate: a plain ASGI handler in front of Starlette for the request the service
answers most, a small application decided as it is sent.

It takes the request only when it is the common case, and answers it with the same decision the full
route gives (`evaluate_claim(...).to_json()`, compact): the body read whole in one message, the claim read
from the raw bytes by the engine's fast intake (`parse_claim_json`), at most `Limits.inline_items` items,
decided on the event loop (a 10-item application takes well under a millisecond: handing it to a thread
and back costs more than deciding it, and the GIL lets only one of them run anyway), its JSON written by
the engine's decision writer. No routing table, no Request object, no middleware, no thread hop.

A bearer token is checked as the full route checks it (any valid token may read); a missing one where reads
need a token, an unknown one, and everything else -- any problem with the request, a query parameter it does
not know, `?history=ledger`, a larger claim, a body that comes in pieces -- goes to the full Starlette route with the body read so far
replayed, so every refusal (its status, its located problems, its language) is the full route's own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from engine.core.errors import EngineError
from engine.core.i18n import msg
from engine.deciding.claims import parse_claim_json
from engine.deciding.evaluator import evaluate_claim
from engine.language.model import CompiledPolicy
from engine.service.problems import MEDIA, pick_lang, problem_body

try:  # the fast intake's decoder; without it, a claim's funding year is read by the full path
    import msgspec
except ModuleNotFoundError:  # pragma: no cover - msgspec comes with the engine's fast intake
    msgspec = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from engine.service.app import Service

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGI = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON_HEADERS = [(b"content-type", b"application/json")]
TRACE = {b"true": True, b"1": True, b"yes": True, b"false": False, b"0": False, b"no": False}

if msgspec is not None:

    class _Year(msgspec.Struct):
        funding_year: int | None = None

    _YEAR = msgspec.json.Decoder(_Year)


def funding_year(body: bytes) -> int | None:
    """The claim's funding year, read without decoding the rest (None: not there, or not a number)."""
    if msgspec is None:
        return None
    try:
        year = _YEAR.decode(body).funding_year
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return year if isinstance(year, int) and not isinstance(year, bool) else None


def replaying(chunks: list[bytes], more: bool, receive: Receive) -> Receive:
    """A `receive` that first gives back the body read so far, then goes on with the connection's own."""
    pending = [*chunks]
    if not pending:
        return receive

    async def again() -> Message:
        if pending:
            body = pending.pop(0)
            return {"type": "http.request", "body": body, "more_body": more or bool(pending)}
        return await receive()

    return again


class FastEvaluate:
    """ASGI: POST /evaluate in the common case answered here; every other request passed to `app` unchanged."""

    def __init__(self, app: ASGI, svc: Service) -> None:
        self.app, self.svc = app, svc
        self.state = getattr(app, "state", None)  # the Starlette app's state (tests and the command reach the service)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["policy_engine_service"] = self.svc
        if scope["type"] != "http" or scope["path"] != "/evaluate" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        asked = self.asked(scope)
        if asked is None:
            await self.app(scope, receive, send)
            return
        trace, policy_id, lang = asked
        limits = self.svc.config.limits
        try:
            async with asyncio.timeout(limits.body_seconds):
                message = await receive()
        except TimeoutError:  # not one byte of the body came in time: the full route would only wait again
            await self.refuse(send, scope, "slow-body", lang, started)
            return
        body: bytes = message.get("body", b"")
        if message.get("more_body", False) or message["type"] != "http.request" or len(body) > limits.max_body_bytes:
            await self.app(scope, replaying([body], message.get("more_body", False), receive), send)
            return
        answer = self.decide(body, policy_id, trace)
        if answer is None:  # a problem, or more than the lean path takes: the full route answers
            await self.app(scope, replaying([body], False, receive), send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": [*JSON_HEADERS, (b"content-length", b"%d" % len(answer))]})
        await send({"type": "http.response.body", "body": answer})
        self.svc.metrics.observe("POST", "/evaluate", 200, time.perf_counter() - started)

    def asked(self, scope: Scope) -> tuple[bool, str | None, str | None] | None:
        """(trace, policy, lang) of a request the lean path may answer; None: let the full route have it."""
        svc = self.svc
        auth = accept = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth = value
            elif name == b"accept-language":
                accept = value
        if svc.config.limits.inline_items == 0:
            return None
        if auth is not None:  # a valid token may read (as `Service.may_read`); any other goes to the full route's 401
            scheme, _, token = auth.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or svc.tokens.who(token.strip()) is None:
                return None
        elif svc.config.reads != "open":
            return None  # no token where one is needed: the full route answers 401 in the caller's language
        trace, policy_id, lang = True, None, None
        query: bytes = scope.get("query_string", b"")
        if query:
            for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                if key == "trace" and value.encode() in TRACE:
                    trace = TRACE[value.encode()]
                elif key == "policy":
                    policy_id = value
                elif key == "lang":
                    lang = value
                else:
                    return None
        return trace, policy_id, pick_lang({"lang": lang} if lang else {}, accept.decode("latin-1") if accept else None, svc.config.lang)

    def decide(self, body: bytes, policy_id: str | None, trace: bool) -> bytes | None:
        """The decision's JSON, or None when the full route must answer (a problem, or a larger claim)."""
        cat = self.svc.catalogue
        pset = cat.sets.get(policy_id) if policy_id is not None else next(iter(cat.sets.values())) if len(cat.sets) == 1 else None
        if pset is None:
            return None
        policy: CompiledPolicy
        if len(pset.versions) == 1:
            policy = pset.versions[0]
        else:
            year = funding_year(body)
            if year is None:
                return None
            try:
                policy = pset.for_year(year)
            except EngineError:
                return None
        try:
            claim = parse_claim_json(policy, body.decode("utf-8"), file="request")
            if len(claim.items) > self.svc.config.limits.inline_items or len(claim.items) > self.svc.config.limits.max_items:
                return None
            return evaluate_claim(policy, claim, trace=trace).to_json(indent=None).encode("utf-8")
        except Exception:  # whatever it is, the full route meets it again and answers it properly
            return None

    async def refuse(self, send: Send, scope: Scope, kind: str, lang: str | None, started: float) -> None:
        seconds = self.svc.config.limits.body_seconds
        status, body = problem_body(
            kind, lang or self.svc.config.lang, msg("service.detail.slow_body", limit=seconds), instance=scope["path"]
        )
        headers = [(b"content-type", MEDIA.encode()), (b"content-length", b"%d" % len(body)), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        self.svc.metrics.observe("POST", "/evaluate", status, time.perf_counter() - started)
