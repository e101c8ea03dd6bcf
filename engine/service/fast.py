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

Under load the lean path decides one request per turn of the event loop, in the order the requests came in
(`Turns`): without it the loop decided every request one poll had read in one go, and the clients answered
last in that run, whose next request came just after the next poll, waited at the end of the run after it --
twice as long as the others (at 32 clients the p99 was 2-2.5 x the p50; docs/performance.md, session 6).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from engine.core.errors import EngineError
from engine.core.i18n import known_language, msg
from engine.deciding.claims import parse_claim_json
from engine.deciding.evaluator import evaluate_claim
from engine.language.model import CompiledPolicy
from engine.service import requestid
from engine.service.problems import send_problem

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

JSON_TYPE = (b"content-type", b"application/json")
#: the Content-Type values the lean path reads the body under as they are (another goes to the full route, which
#: judges it: `engine.service.media`); none given is read too
PLAIN_TYPES = frozenset({b"application/json", b"application/json; charset=utf-8", b"application/x-www-form-urlencoded"})
TRACE = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
#: How many distinct query strings the lean path remembers what they ask (a client sends one or two).
QUERIES_KEPT = 64
_UNSEEN = object()

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


def read_query(query: bytes) -> tuple[bool, str | None, str | None] | None:
    """(trace, policy, lang) a query string asks for; None when it has a parameter the lean path does not know
    (or a `trace` value it does not read): the full route answers it. The last of a repeated name counts."""
    trace, policy_id, lang = False, None, None  # the decision without its steps unless `?trace=true` (as the full route)
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if key == "trace" and value in TRACE:
            trace = TRACE[value]
        elif key == "policy":
            policy_id = value
        elif key == "lang" and (not value or known_language(value) is not None):  # (another: the full route refuses it)
            lang = value
        else:
            return None
    return trace, policy_id, lang


#: the scope's key for when a body must have arrived, on the event loop's clock: set when the lean path has waited
#: for the body's first part and hands the rest to the full route (which waited the whole `--body-timeout` again)
BODY_DEADLINE = "policy_engine_body_deadline"


async def within(seconds: float, receive: Receive) -> Message | None:
    """`await receive()`, or None when nothing came in `seconds`. As `asyncio.timeout`, at a fifth of its cost
    (a timer handle and a flag; the body is nearly always there already, so the timer nearly never fires)."""
    task = asyncio.current_task()
    if task is None:  # pragma: no cover - ASGI apps run in a task
        return await receive()
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    cancelling = task.cancelling()
    timer = asyncio.get_running_loop().call_later(seconds, expire)
    try:
        return await receive()
    except asyncio.CancelledError:
        if expired and task.uncancel() <= cancelling:
            return None
        raise
    finally:
        timer.cancel()


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


class Turns:
    """The lean path's decisions one per turn of the event loop, in the order their requests came in.

    The event loop reads every request that has arrived in one poll and then runs their tasks one after the
    other; a client whose answer was written last in that run has not sent its next request when the loop polls
    again, so that request comes in the poll after and goes to the END of the next run: it waits for two runs
    of every other client (at 32 clients, ~2 x 32 decisions) while the others wait one. Here each decision
    takes a turn: a request that finds the turn taken waits in a FIFO, and the turn passes to the next waiter
    only in the loop's next iteration, after the loop has polled its sockets again, so a request that arrives
    meanwhile is queued behind the ones that came before it and every request waits for about one decision of
    each other client. Its cost, one `epoll_wait` and one future more per decision, was not measurable above
    the noise (one server switching between the two every 0.5 s under 32 clients: 395 against 402 us of CPU
    per request; docs/performance.md, session 6).
    """

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.waiting: deque[asyncio.Future[None]] = deque()
        self.taken = False

    async def take(self) -> None:
        """Wait for this request's turn (at once when no decision is under way in this iteration of the loop)."""
        loop = asyncio.get_running_loop()
        if loop is not self.loop:  # the first request (or a new loop): nothing is waiting in this one
            self.loop, self.waiting, self.taken = loop, deque(), False
        if not self.taken:
            self.taken = True
            return
        turn = loop.create_future()
        self.waiting.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # given the turn, then cancelled before it could use it
                self.give()
            raise

    def give(self) -> None:
        """This request's decision is answered: the next waiter goes on in the loop's next iteration."""
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():  # (a waiter that was cancelled is skipped)
                turn.set_result(None)  # its task is resumed after the loop's next poll
                return
        assert self.loop is not None
        self.loop.call_soon(self.free)  # the turn stays taken until the loop has polled again

    def free(self) -> None:
        if self.waiting:
            self.give()
        else:
            self.taken = False


class FastEvaluate:
    """ASGI: POST /evaluate in the common case answered here; every other request passed to `app` unchanged."""

    def __init__(self, app: ASGI, svc: Service) -> None:
        self.app, self.svc = app, svc
        self.state = getattr(app, "state", None)  # the Starlette app's state (tests and the command reach the service)
        self._queries: dict[bytes, tuple[bool, str | None, str | None] | None] = {}  # query string -> what it asks
        self.turns = Turns()  # one decision per turn of the event loop, first come first answered

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["policy_engine_service"] = self.svc
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = scope[requestid.SCOPE_KEY] = requestid.take(scope["headers"])
        requestid.REQUEST_ID.set(rid)  # (in this request's own task: the log lines written while it is answered)
        if scope["path"] != "/evaluate" or scope["method"] != "POST":
            await self.app(scope, receive, requestid.tagged(send, rid))
            return
        started = time.perf_counter()
        asked = self.asked(scope)
        if asked is None:
            await self.app(scope, receive, requestid.tagged(send, rid))
            return
        trace, policy_id, _ = asked
        limits = self.svc.config.limits
        for name, value in scope["headers"]:
            # a body declared too large goes to the full route, which refuses it (413) before reading: reading it here
            # would first have the server answer `Expect: 100-continue`, and the client send it all; a body declared
            # as something else than the common JSON types, or encoded, goes there too, which checks it (415)
            if (name == b"content-length" and value.isdigit() and int(value) > limits.max_body_bytes) or (
                (name == b"content-type" and value not in PLAIN_TYPES) or name == b"content-encoding"
            ):
                await self.app(scope, receive, requestid.tagged(send, rid))
                return
        deadline = asyncio.get_running_loop().time() + limits.body_seconds
        message = await within(limits.body_seconds, receive)
        if message is None:  # not one byte of the body came in time: the full route would only wait again
            await self.refuse(requestid.tagged(send, rid), scope, "slow-body", started)
            return
        body: bytes = message.get("body", b"")
        if message.get("more_body", False) or message["type"] != "http.request" or len(body) > limits.max_body_bytes:
            scope[BODY_DEADLINE] = deadline  # the rest of the body within what is left of the time (not the time again)
            await self.app(scope, replaying([body], message.get("more_body", False), receive), requestid.tagged(send, rid))
            return
        turns = self.turns
        await turns.take()
        try:
            answer = self.decide(body, policy_id, trace)
        finally:  # given back before the answer is sent: a client slow to read it never holds up the others
            turns.give()
        if answer is None:  # a problem, or more than the lean path takes: the full route answers
            await self.app(scope, replaying([body], False, receive), requestid.tagged(send, rid))
            return
        head = [JSON_TYPE, (b"content-length", b"%d" % len(answer)), (requestid.HEADER, rid.encode("ascii"))]
        await send({"type": "http.response.start", "status": 200, "headers": head})
        await send({"type": "http.response.body", "body": answer})
        self.svc.metrics.observe("POST", "/evaluate", 200, time.perf_counter() - started)

    def asked(self, scope: Scope) -> tuple[bool, str | None, str | None] | None:
        """(trace, policy, `?lang=`) of a request the lean path may answer; None: let the full route have it."""
        svc = self.svc
        auth = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth = value
                break
        if svc.config.limits.inline_items == 0:
            return None
        if auth is not None:  # a valid token may read (as `Service.may_read`); any other goes to the full route's 401
            scheme, _, token = auth.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or svc.tokens.who(token.strip()) is None:
                return None
        elif svc.config.reads != "open":
            return None  # no token where one is needed: the full route answers 401 in the caller's language
        query: bytes = scope.get("query_string", b"")
        if not query:
            return False, None, None
        known = self._queries.get(query, _UNSEEN)
        if known is _UNSEEN:
            known = read_query(query)
            if len(self._queries) < QUERIES_KEPT:  # a few distinct query strings in practice; never more than this
                self._queries[query] = known
        return known  # type: ignore[return-value]

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

    async def refuse(self, send: Send, scope: Scope, kind: str, started: float) -> None:
        said = msg("service.detail.slow_body", limit=self.svc.config.limits.body_seconds)
        status = await send_problem(scope, send, kind, said, self.svc.config.lang, close=True)
        self.svc.metrics.observe("POST", "/evaluate", status, time.perf_counter() - started)
