"""The ASGI application: routes, authorisation, bounds, problem+json, metrics, reload.

`create_app(config)` builds it; `app_from_env()` is the factory uvicorn calls in each worker process
(the configuration travels in $POLICY_ENGINE_SERVICE_CONFIG). Work that takes CPU (deciding, explaining)
or a ledger connection runs in a worker thread under the request time bound, so the event loop always
answers health checks and one slow or bad request never holds up another.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import json
import logging
import os
import re
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from engine.core.errors import EngineError, PolicyError, Problem, format_path, json_kind, json_reason
from engine.core.i18n import Msg, known_language, msg
from engine.core.quantities import format_money, plain_amount
from engine.deciding.claims import DuplicateKeyError, loads_json, parse_claim, refuse_own_history, text_problem
from engine.deciding.decision import DECISION_FORMAT
from engine.deciding.evaluator import evaluate_claim
from engine.deciding.versions import PolicySet
from engine.explaining.render import (
    FORMATS,
    PAGE_CSP,
    RecordedDecisionError,
    RenderError,
    check_recorded_form,
    explain,
    recorded_decision,
)
from engine.language.expressions import suggest
from engine.records.inputs import JsonText, locate
from engine.records.ledger import (
    BUSY_SECONDS,
    AlreadyCommitted,
    Audit,
    Ledger,
    LedgerBusyError,
    LedgerError,
    check_finding,
    check_reversal,
    check_words,
)
from engine.records.statement import rooms
from engine.service import matching, media, requestid, rounds
from engine.service.catalogue import Catalogue, clauses, load_catalogue
from engine.service.config import OFFICER, Config, Principal, Tokens
from engine.service.fast import BODY_DEADLINE, FastEvaluate
from engine.service.metrics import FLUSH_SECONDS, Metrics
from engine.service.openapi import docs_page, openapi_document
from engine.service.problems import MEDIA, VARY, pick_lang, problem_body, send_problem
from engine.service.roundjob import REPLACE_BY_REQUEST

T = TypeVar("T")
CPU_THREADS = 2
TEXT_MEDIA = {"text": "text/plain", "md": "text/markdown", "html": "text/html", "json": "application/json"}


class Refusal(Exception):
    """A request answered with a problem (RFC 9457)."""

    def __init__(
        self, kind: str, detail_text: str | None = None, problems: list[Problem] | None = None, *, audited: bool = False, **extra: Any
    ) -> None:
        super().__init__(kind)
        self.kind, self.detail, self.problems, self.extra = kind, detail_text, problems or [], extra
        self.audited = audited  # a write's refusal its route already audited (`audit_refusals` adds no second entry)


def said(err: BaseException) -> str:
    """An error's message, as a `Msg` when it is one (so it is said in the request's language), else its text."""
    first = err.args[0] if err.args else None
    return first if isinstance(first, Msg) else str(err)


#: what a 503 (the ledger unreachable, a round too many, a request past its time) tells a client to wait
RETRY_AFTER_SECONDS = 5


def problem_response(request: Request, refusal: Refusal, allow: str | None = None) -> Response:
    lang = lang_of(request)
    rid = request.scope.get(requestid.SCOPE_KEY)
    status, body = problem_body(refusal.kind, lang, refusal.detail, refusal.problems, request.url.path, request_id=rid, **refusal.extra)
    headers = {"content-language": lang, "vary": VARY}
    if allow is not None:  # (a 405 names the methods the address takes: RFC 9110 section 15.5.6)
        headers["allow"] = allow
    if status == 401:
        headers["www-authenticate"] = 'Bearer realm="policy-engine"'
    if refusal.kind == "slow-body":  # RFC 9110 15.5.9: a 408 closes the connection (the lean path's 408 did already)
        headers["connection"] = "close"
    if status == 503:  # (worth asking again: RFC 9110 10.2.3; a client backs off this long)
        headers["retry-after"] = str(RETRY_AFTER_SECONDS)
    return Response(body, status, headers, media_type=MEDIA)


class Service:
    """One worker's state: the catalogue in force (one reference, swapped whole), tokens, the ledger, metrics."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.tokens = Tokens.load(config.token_file)
        self.metrics = Metrics(config.metrics_dir)
        self.catalogue: Catalogue = load_catalogue(config.policies)
        self._openapi: tuple[int, bytes, str] | None = None
        self._query_names: tuple[int, dict[tuple[str, str], frozenset[str]]] | None = None
        self._reload_lock = threading.Lock()
        self._ledger: Ledger | None = None
        self.ledger_lock = threading.Lock()  # one connection per worker; the ledger's own lock orders the workers
        self.jobs = rounds.Jobs(config)
        #: Threads deciding at once in this worker. Deciding is CPU work under the GIL: more threads only take
        #: turns (and starve the event loop); more throughput comes from more worker processes.
        self.cpu = anyio.CapacityLimiter(CPU_THREADS)
        self.ledger_threads = anyio.CapacityLimiter(CPU_THREADS)

    # --- policies -------------------------------------------------------------------------

    def reload(self) -> PolicyError | None:
        """Load the folder again; the new catalogue replaces the old only if all of it is valid. The error otherwise."""
        with self._reload_lock:
            try:
                new = load_catalogue(self.config.policies, self.catalogue.generation + 1)
            except PolicyError as err:
                self.metrics.reloaded("refused")
                return err
            self.catalogue = new  # one assignment: a request holds the old catalogue or the new one
            self.metrics.reloaded("ok")
            # the old catalogue can go once the requests holding it are done (each within the time bound)
            later = threading.Timer(2 * self.config.limits.timeout_seconds + 1, settle_heap, kwargs={"thaw": True})
            later.daemon = True
            later.start()
            return None

    def query_names(self) -> dict[tuple[str, str], frozenset[str]]:
        """The query parameters each route takes, (method, route) -> names, as the API page lists them."""
        cat = self.catalogue
        if self._query_names is None or self._query_names[0] != cat.generation:
            doc = openapi_document(cat)
            names = {
                (method, path): frozenset(p["name"] for p in op.get("parameters", ()) if p.get("in") == "query")
                for path, ops in doc["paths"].items()
                for method, op in ops.items()
            }
            self._query_names = (cat.generation, names)
        return self._query_names[1]

    def openapi(self) -> tuple[bytes, str]:
        cat = self.catalogue
        if self._openapi is None or self._openapi[0] != cat.generation:
            doc = openapi_document(cat)
            self._openapi = (cat.generation, json.dumps(doc, ensure_ascii=False).encode("utf-8"), docs_page(doc))
        return self._openapi[1], self._openapi[2]

    # --- who -------------------------------------------------------------------------------

    def principal(self, request: Request, lang: str) -> Principal | None:
        header = request.headers.get("authorization", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        who = self.tokens.who(token.strip()) if scheme.lower() == "bearer" else None
        if who is None:
            raise Refusal("unauthorized", msg("service.detail.bad_token"))
        return who

    def may_read(self, request: Request) -> Principal | None:
        lang = lang_of(request)
        who = self.principal(request, lang)
        if self.config.reads == "token" and who is None:
            raise Refusal("unauthorized", msg("service.detail.no_token"))
        return who

    def may_write(self, request: Request) -> Principal:
        lang = lang_of(request)
        who = self.principal(request, lang)
        if who is None:
            raise Refusal("unauthorized", msg("service.detail.no_token"))
        if OFFICER not in who.roles:
            raise Refusal("forbidden", msg("service.detail.needs_role", role=OFFICER))
        return who

    # --- ledger ----------------------------------------------------------------------------

    def ledger(self, lang: str) -> Ledger:
        """This worker's ledger connection (opened on first use; call with `ledger_lock` held)."""
        if self.config.ledger_url is None:
            raise Refusal("no-ledger", msg("service.detail.no_ledger"))
        if self._ledger is None:
            # (a statement waiting for another process's lock gives up with its request; a write, by its deadline)
            try:
                self._ledger = Ledger(self.config.ledger_url, busy_seconds=min(self.config.limits.timeout_seconds, BUSY_SECONDS))
            except LedgerError as err:  # (its server down or unreachable: a 503 to ask again later; it was a 500)
                raise self.unreachable(err, "ledger-unavailable") from None
        return self._ledger

    def unreachable(self, err: LedgerError, kind: str) -> Refusal:
        """The answer when the ledger cannot be reached: why is written to the service's log, not told to the caller
        (it names the ledger's user, host and port, and `/ready` answers anyone)."""
        logging.getLogger("policy_engine.service").warning(msg("service.log.ledger_unreachable", error=said(err)).render(self.config.lang))
        return Refusal(kind, msg("service.detail.ledger_unreachable_logged"))

    def timed_out(self) -> Refusal:
        """The answer to a request past `--timeout` (503 `timeout`): its work, or the ledger it waited for."""
        return Refusal("timeout", msg("service.detail.timeout", limit=self.config.limits.timeout_seconds))

    @contextlib.contextmanager
    def ledger_until(self, lang: str, deadline: float) -> Iterator[Ledger]:
        """The ledger for a write of a request answered by `deadline` (`time.monotonic()`, `bounded`'s limit):
        `ledger_lock` waited for no longer, and nothing committed past it (`Ledger.until`). A write answered 503
        `timeout` while another process held the ledger, or queued behind one that was, went on waiting and was
        committed once the lock was let go, after its caller had been told it timed out."""
        if not self.ledger_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise self.timed_out()
        try:
            with self.ledger(lang).until(deadline) as ledger:
                yield ledger
        finally:
            self.ledger_lock.release()

    def audit(self, who: Principal, action: str, target: str, outcome: str, what: dict[str, Any]) -> None:
        if self.config.ledger_url is None:
            return
        with self.ledger_lock:
            self.ledger("en").record_audit(who.name, who.roles, action, target, outcome, what)

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()


def lang_of(request: Request) -> str:
    """The request's language: `?lang=`, else Accept-Language, else the service's configured language."""
    svc = request.scope.get("policy_engine_service")
    default = svc.config.lang if svc is not None else "zh"
    return pick_lang(request.query_params, request.headers.get("accept-language"), default)


_YES, _NO = ("true", "1", "yes"), ("false", "0", "no")  # a flag's words (`?trace=true`)


def flag(request: Request, name: str, default: bool) -> bool:
    value = request.query_params.get(name)
    if value is None:
        return default
    if value.lower() in _YES:
        return True
    if value.lower() in _NO:
        return False
    raise Refusal("invalid-request", msg("service.detail.bad_param", name=name, value=value, expected="true | false"))


def asks_to_commit(request: Request) -> bool:
    """Whether a round's request is a write: `?commit=` given and not a no (a value `flag` refuses counts: an
    officer's attempt to commit, as `commit=on` was)."""
    value = request.query_params.get("commit")
    return value is not None and value.lower() not in _NO


async def read_body(svc: Service, request: Request, limit: int) -> bytes:
    """The body, refused (413) as soon as it is known to be over `limit` bytes: by Content-Length or while reading."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Refusal("too-large", msg("service.detail.body_limit", limit=limit))
    chunks, size = [], 0
    seconds = svc.config.limits.body_seconds
    deadline = request.scope.get(BODY_DEADLINE)  # (the lean path waited for the first part already)
    try:
        # a body sent slowly (or never finished) holds nothing for long
        with anyio.fail_at(deadline) if deadline is not None else anyio.fail_after(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise Refusal("too-large", msg("service.detail.body_limit", limit=limit))
                chunks.append(chunk)
    except TimeoutError:
        raise Refusal("slow-body", msg("service.detail.slow_body", limit=seconds)) from None
    return b"".join(chunks)


def check_media(request: Request, accepted: tuple[str, ...] = media.JSON) -> None:
    """415 for a body declared as something this address does not read (engine/service/media.py), before it is read."""
    wrong = media.refused(request.headers.get("content-type"), request.headers.get("content-encoding"), accepted)
    if wrong is not None:
        raise Refusal("unsupported-media-type", wrong)


async def read_json(request: Request, svc: Service) -> tuple[Any, JsonText]:
    """The body as JSON with exact numbers, and what places its problems at a line and column."""
    check_media(request)
    raw = await read_body(svc, request, svc.config.limits.max_body_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        # (the byte counted from 1, as a person counts: `{"a": "\xff"}` said byte 7 of its 8th)
        raise Refusal("invalid-json", msg("service.detail.not_utf8", at=err.start + 1)) from None
    if text.startswith("\ufeff"):  # a byte order mark (Notepad, PowerShell 5): the JSON after it, as the command line reads it
        text = text[1:]
    try:
        data = loads_json(text)
    except DuplicateKeyError as exc:
        expected = msg("service.problem.duplicate_key")
        problem = Problem(exc.msg, exc.path, "request", exc.lineno, exc.colno, expected=expected, code="claim.duplicate_key")
        raise Refusal("invalid-claim", problem.message, [problem]) from None
    except ValueError as exc:
        line, col, text_of = getattr(exc, "lineno", None), getattr(exc, "colno", None), json_reason(exc)
        problem = Problem(
            msg("service.problem.not_json", message=text_of),
            getattr(exc, "path", ()),  # (NaN, Infinity and nesting too deep are placed too: `RefusedJsonValue`)
            "request",
            line,
            col,
            expected=getattr(exc, "expected", None),
            code="syntax",
        )
        # (a refusal with no place, a number out of range, is said without one: it said "line None column None")
        said = (
            msg("service.detail.not_json", line=line, column=col, message=text_of)
            if line is not None
            else msg("service.detail.not_json_anywhere", message=text_of)
        )
        raise Refusal("invalid-json", said, [problem]) from None
    items = data.get("items") if isinstance(data, dict) else None
    if isinstance(items, list) and len(items) > svc.config.limits.max_items:
        limit = svc.config.limits.max_items
        problem = Problem(
            msg("service.problem.too_many_items", count=len(items), limit=limit),
            ("items",),
            "request",
            code="service.items",
            expected=msg("service.problem.at_most_items", limit=limit),
        )
        raise Refusal(
            "too-many-items", msg("service.detail.items_limit", limit=limit, count=len(items)), [located(problem, JsonText(text))]
        )
    return data, JsonText(text)


def located(problem: Problem, where: JsonText) -> Problem:
    return locate(PolicyError([problem]), where, "request").problems[0]


async def bounded(svc: Service, request: Request, work: Callable[[], T], *, ledger: bool = False) -> T:
    """`work` in a worker thread, answered 503 if it takes longer than the time bound (the thread is abandoned).
    `ledger`: work that uses the ledger connection, on threads of its own (one waiting for the ledger never
    holds up a decision that needs none)."""
    limit = svc.config.limits.timeout_seconds
    try:
        with anyio.fail_after(limit):  # the wait for a thread counts too
            return await anyio.to_thread.run_sync(work, abandon_on_cancel=True, limiter=svc.ledger_threads if ledger else svc.cpu)
    except TimeoutError:
        raise Refusal("timeout", msg("service.detail.timeout", limit=limit)) from None


def explain_options(request: Request) -> tuple[str, str]:
    """(lang, format) of an explanation: `?lang=` (else Accept-Language, else zh) and `?format=` (default text)."""
    fmt = request.query_params.get("format", "text")
    if fmt not in FORMATS:
        raise Refusal("invalid-request", msg("service.detail.bad_param", name="format", value=fmt, expected=" | ".join(FORMATS)))
    return lang_of(request), fmt  # (a `?lang=` the service does not speak was refused before: `Observe`)


def explanation_response(text: str, fmt: str, lang: str) -> Response:
    headers = {"content-language": lang, "vary": VARY}
    if fmt == "html":
        headers["content-security-policy"] = PAGE_CSP  # (as the page states it)
    return Response(text, headers=headers, media_type=TEXT_MEDIA[fmt])


def not_text(field: str, value: Any) -> Problem:
    """A body's field given as another JSON value than text, said with what was given and, for a number, the text to
    write (`"returned": 4200.00` said "returned must be text"; a required one given as a number, "is required")."""
    number = isinstance(value, int | Decimal) and not isinstance(value, bool)
    said = msg("service.problem.field_text", field=field, kind=json_kind(value))
    return Problem(said, (field,), "request", code="service.body", expected=json.dumps(str(value)) if number else None)


def not_served(cat: Catalogue, policy_id: str, version: str) -> Msg:
    """Why /policies/{id}/{version}/... is not found, naming what is served: the policy's versions, or the policies (it
    said "9.9 of <policy id> is not served", and a client mistyping a version had to ask /policies)."""
    pset = cat.sets.get(policy_id)
    if pset is not None:
        return msg("service.detail.no_version", policy=policy_id, version=version, served=", ".join(p.version for p in pset.versions))
    return msg("service.detail.no_policy_served", policy=policy_id, served=", ".join(sorted(cat.sets)))


def already_committed_here(err: AlreadyCommitted) -> str:
    """Why the ledger did not commit the claim, in the words of the request (`?replace=true`, not the command line's
    `--replace`), each of the ledger's three cases said as it says it: every one was said as the plain case, so the
    original file of a corrected claim was told to be committed as a replacement, which undoes the correction."""
    return err.through(REPLACE_BY_REQUEST)


def claim_refusal(err: EngineError, where: JsonText | None) -> Refusal:
    located_err = locate(err, where, "request")
    return Refusal("invalid-claim", err.summary, located_err.problems)


def asked_policies(svc: Service, request: Request) -> PolicySet:
    """The policy `?policy=` names (the only one served when none is named). An id the service does not serve is a
    bad value of the parameter, 400 as every other one is (it was said as an invalid claim, 422)."""
    try:
        return svc.catalogue.policy_set(request.query_params.get("policy"))
    except EngineError as err:
        raise Refusal("invalid-request", err.summary, locate(err, None, "request").problems) from None


def round_label(request: Request) -> str | None:
    """`?round=`, a label the ledger will keep: 400 naming the parameter when it could not keep it, before the body is
    read, on /ledger/commit as on /rounds (the commit's was the ledger's refusal, 422)."""
    label = request.query_params.get("round")
    if label is not None:
        try:
            check_words(label, "round")
        except LedgerError as err:
            wrong = said(err)
            raise Refusal("invalid-request", wrong, [Problem(wrong, ("round",), "request", code="service.request")]) from None
    return label


def plain_words(value: str | None, name: str) -> str | None:
    """A path or query value the ledger is asked about (an applicant's or a claim's id, an actor) with no character a
    claim's text may not hold: 400 naming it. A NUL reached PostgreSQL, which cannot hold one, and came back a 500."""
    wrong = None if value is None else text_problem(value)
    if wrong is not None:
        raise Refusal("invalid-request", wrong, [Problem(wrong, (name,), "request", code="service.request")])
    return value


def in_folder(file: str | None, folder: str) -> str | None:
    """A policy file as a client is told of it: its path within the policy folder (`revisions/x.yaml`), never where the
    server keeps the folder; a file outside it by its name."""
    if not file:
        return file
    try:
        return Path(file).resolve().relative_to(Path(folder).resolve()).as_posix()
    except (ValueError, OSError):
        return Path(file).name


Handler = Callable[[Request], Awaitable[Response]]


def routes(svc: Service) -> list[Route]:  # long because: every endpoint is a small closure over the service
    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> Response:
        cat = svc.catalogue
        info: dict[str, Any] = {
            "status": "ready",
            "policies": len(cat.sets),
            "generation": cat.generation,
            "fingerprint": cat.fingerprint,
            "loaded_at": cat.loaded_at,
            "worker": os.getpid(),
        }
        if svc.config.ledger_url is not None:

            def probe() -> int:
                with svc.ledger_lock:
                    return svc.ledger("en").schema_version()

            try:
                info["ledger_schema"] = await bounded(svc, request, probe, ledger=True)
            except LedgerError as err:
                raise svc.unreachable(err, "not-ready") from None
        return JSONResponse(info)

    async def metrics(request: Request) -> Response:
        cat = svc.catalogue
        text = await anyio.to_thread.run_sync(svc.metrics.render, len(cat.sets), len(cat.all_versions()))  # reads the workers' files
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    async def openapi(request: Request) -> Response:
        return Response(svc.openapi()[0], media_type="application/json")

    async def docs(request: Request) -> Response:
        return HTMLResponse(svc.openapi()[1], headers={"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'"})

    async def policies(request: Request) -> Response:
        svc.may_read(request)
        cat = svc.catalogue
        return JSONResponse(
            {"generation": cat.generation, "fingerprint": cat.fingerprint, "loaded_at": cat.loaded_at, "policies": cat.listing()}
        )

    def version_of(request: Request) -> Any:
        svc.may_read(request)
        pid, version = request.path_params["policy_id"], request.path_params["version"]
        policy = svc.catalogue.version(pid, version)
        if policy is None:
            raise Refusal("not-found", not_served(svc.catalogue, pid, version))
        return policy

    async def policy_clauses(request: Request) -> Response:
        return JSONResponse(clauses(version_of(request)))

    async def policy_schema(request: Request) -> Response:
        from engine.deciding.claims import claim_schema

        return JSONResponse(claim_schema(version_of(request)))

    async def read_claim_request(request: Request) -> tuple[Any, Any, Any]:
        """The request's JSON body, where its values are (lines and columns), and the policy set it asks for."""
        pset = asked_policies(svc, request)  # (before the body: a policy not served is said whatever the body holds)
        data, where = await read_json(request, svc)
        return data, where, pset

    async def evaluate(request: Request) -> Response:
        svc.may_read(request)
        trace = flag(request, "trace", False)  # the decision without its steps unless asked (the lean path's default too)
        with_history = request.query_params.get("history", "none") == "ledger"
        if request.query_params.get("history", "none") not in ("none", "ledger"):
            raise Refusal(
                "invalid-request",
                msg("service.detail.bad_param", name="history", value=request.query_params["history"], expected="none | ledger"),
            )
        if with_history and svc.config.ledger_url is None:
            raise Refusal("no-ledger", msg("service.detail.no_ledger"))
        data, where, pset = await read_claim_request(request)

        def work() -> str:
            try:
                policy = pset.pick(data)
                if not with_history:
                    return evaluate_claim(policy, parse_claim(policy, data, file="request"), trace=trace).to_json(indent=None)
                refuse_own_history(data)
                with svc.ledger_lock:  # as a batch run decides without committing: facts on record joined, history counted
                    ledger = svc.ledger(lang_of(request))
                    claim = parse_claim(policy, ledger.with_facts_on_record(policy, data), file="request")
                    history = ledger.history_for(policy, claim)
                return evaluate_claim(policy, claim, history, trace=trace).to_json(indent=None)
            except EngineError as err:
                raise claim_refusal(err, where) from None

        return Response(await bounded(svc, request, work, ledger=with_history), media_type="application/json")

    async def explain_claim(request: Request) -> Response:
        svc.may_read(request)
        lang, fmt = explain_options(request)
        data, where, pset = await read_claim_request(request)

        def work() -> str:
            try:
                is_decision = isinstance(data, dict) and data.get("format") == DECISION_FORMAT
                if is_decision:
                    check_recorded_form(data, "request")
                policy = pset.for_decision(data) if is_decision else pset.pick(data)
                recorded = recorded_decision(policy, data, "request")
                decision = recorded if recorded is not None else evaluate_claim(policy, parse_claim(policy, data, file="request"))
                return explain(policy, decision, lang=lang, format=fmt)
            except EngineError as err:
                raise claim_refusal(err, where) from None
            except (RecordedDecisionError, RenderError) as err:
                raise Refusal("invalid-claim", said(err)) from None

        return explanation_response(await bounded(svc, request, work), fmt, lang)

    async def reload(request: Request) -> Response:
        who = svc.may_write(request)
        err = await anyio.to_thread.run_sync(svc.reload)
        if err is not None:
            await anyio.to_thread.run_sync(svc.audit, who, "reload", svc.config.policies, "refused", {"problems": len(err.problems)})
            problems = [dataclasses.replace(p, file=in_folder(p.file, svc.config.policies)) for p in err.problems]
            summary = err.summary  # (the folder by its name: "the policies in /srv/... are not valid" said where it is)
            if isinstance(summary, Msg) and "folder" in summary.params:
                summary = msg(summary.key, **{**summary.params, "folder": Path(svc.config.policies).name})
            raise Refusal("invalid-policies", summary, problems, audited=True, generation=svc.catalogue.generation)
        cat = svc.catalogue
        await anyio.to_thread.run_sync(svc.audit, who, "reload", svc.config.policies, "reloaded", {"generation": cat.generation})
        if svc.config.workers > 1:  # every worker: uvicorn's supervisor replaces them one by one, each validating at start
            os.kill(os.getppid(), signal.SIGHUP)
        body = {"status": "reloaded", "generation": cat.generation, "fingerprint": cat.fingerprint, "loaded_at": cat.loaded_at}
        return JSONResponse({**body, "workers": svc.config.workers, "policies": cat.listing()})

    routes_list = [
        Route("/health", health),
        Route("/ready", ready),
        Route("/metrics", metrics),
        Route("/openapi.json", openapi),
        Route("/docs", docs),
        Route("/policies", policies),
        Route("/policies/{policy_id}/{version}/clauses", policy_clauses),
        Route("/policies/{policy_id}/{version}/schema", policy_schema),
        Route("/evaluate", evaluate, methods=["POST"]),
        Route("/explain", explain_claim, methods=["POST"]),
        Route("/admin/reload", reload, methods=["POST"]),
    ]
    every = (
        routes_list + ledger_routes(svc) + rounds.routes(svc, Refusal, read_body, flag, round_label, asked_policies) + matching.routes(svc)
    )
    return [audit_refusals(svc, r, WRITES[r.path]) if r.path in WRITES else r for r in every]


#: the writes (route -> the audit's action); `/rounds` is one only with `?commit=` (a round decided without committing
#: is a read)
WRITES = {
    "/ledger/commit": "commit",
    "/ledger/reverse": "reverse",
    "/ledger/findings": "finding",
    "/ledger/reversals/{number}/withdraw": "withdraw",
    "/ledger/findings/{number}/withdraw": "withdraw",
    "/admin/reload": "reload",
    "/rounds": "round",
}


#: refusals of a write not audited: for its token (anyone can send those, and would fill the table), and for the
#: service's own state (too large, too slow, timed out, busy, not ready, a fault): the request may be in flight still
#: (a timed-out commit's thread holds the ledger; waiting on it to audit had the 503 wait for the commit too)
#: what only an officer reads (the audit log): its token judged as a write's
_OFFICER_READS = frozenset({"/ledger/audit"})
_NOT_AUDITED = frozenset({"unauthorized", "forbidden", "too-large", "slow-body", "timeout", "busy", "not-ready", "internal"})


def officers_only(route: str, request: Request) -> bool:
    """Whether the call is an officer's: a write (a round only when it commits) or the audit log."""
    if route in _OFFICER_READS:
        return True
    return route in WRITES and request.method == "POST" and (route != "/rounds" or asks_to_commit(request))


def audit_refusals(svc: Service, route: Route, action: str) -> Route:
    """The route, with a refusal of its write by the request's own checks (a body that is not JSON, a missing or
    unknown field, a bad value of a parameter) audited as the ledger's refusals are: docs/service.md says every refused
    write is, and a reversal refused for its body left no trace. Not one refused for its token or the service's state
    (`_NOT_AUDITED`), nor one its route audited already (`Refusal.audited`); a parameter the route does not take is
    refused before the route (`Observe`), unaudited, as a request for an address that is not there."""
    handler = route.endpoint

    async def audited(request: Request) -> Response:
        try:
            return await handler(request)  # type: ignore[no-any-return]
        except Refusal as refusal:
            if refusal.audited or refusal.kind in _NOT_AUDITED or svc.config.ledger_url is None:
                raise
            if not officers_only(route.path, request):  # (a round decided without committing: a read)
                raise
            try:
                who = svc.principal(request, lang_of(request))
            except Refusal:  # (an unknown token: the refusal it would get is not an officer's write)
                raise refusal from None
            if who is not None and OFFICER in who.roles:
                what = {"query": dict(request.query_params), "problems": [str(p.path and format_path(p.path)) for p in refusal.problems]}
                # (a NUL of the query, said in the refusal: PostgreSQL stores no NUL, and answered 500)
                outcome = f"refused: {refusal.kind}: {refusal.detail or ''}".rstrip(": ").replace("\x00", "\\x00")
                try:
                    await anyio.to_thread.run_sync(svc.audit, who, action, request.url.path, outcome, what)
                except Exception:  # the ledger unreachable: the refusal is still the answer, and the log says why
                    logging.getLogger("policy_engine.service").exception(
                        msg("service.log.not_audited", action=action).render(svc.config.lang)
                    )
            raise

    return Route(route.path, audited, methods=sorted(route.methods - {"HEAD"}) if route.methods else None)


def ledger_routes(svc: Service) -> list[Route]:  # long because: every ledger endpoint is a small closure over the service
    async def applicant(request: Request) -> Response:
        svc.may_read(request)
        lang, aid = lang_of(request), str(plain_words(request.path_params["applicant_id"], "applicant_id"))
        cat = svc.catalogue

        def work() -> dict[str, Any]:
            with svc.ledger_lock:
                ledger = svc.ledger(lang)
                grants = list(ledger.grants(applicant_id=aid))
                return {
                    "applicant_id": aid,
                    "grants": grants,
                    "reversals": ledger.reversals(aid),
                    "findings": ledger.findings(aid),  # (each with its number: what a withdrawal names)
                    "facts_on_record": ledger.facts_on_record(aid),
                    **usage_of(cat, grants),
                }

        return JSONResponse(await bounded(svc, request, work, ledger=True))

    async def commit(request: Request) -> Response:
        who = svc.may_write(request)
        replace = flag(request, "replace", False)
        rnd = round_label(request)
        pset = asked_policies(svc, request)
        data, where = await read_json(request, svc)
        lang = lang_of(request)
        target = str(data.get("claim_id")) if isinstance(data, dict) else "?"

        deadline = time.monotonic() + svc.config.limits.timeout_seconds  # (as `bounded` answers it)

        def work() -> dict[str, Any]:
            asked = {"replace": replace, "round": rnd, "claim_id": target}
            with svc.ledger_until(lang, deadline) as ledger:
                try:
                    refuse_own_history(data)
                    policy = pset.pick(data)
                    result = ledger.commit(
                        policy, data, replace=replace, round=rnd, audit=Audit(who.name, who.roles, "commit", target, asked)
                    )
                except EngineError as err:
                    ledger.record_audit(who.name, who.roles, "commit", target, "refused: invalid claim", asked)
                    refused = claim_refusal(err, where)
                    refused.audited = True
                    raise refused from None
                except AlreadyCommitted as err:
                    ledger.record_audit(who.name, who.roles, "commit", target, "refused: already committed", asked)
                    raise Refusal("already-committed", already_committed_here(err), audited=True) from None
                except LedgerBusyError:  # held by another past this request's time: nothing written, nothing audited
                    raise svc.timed_out() from None
                except LedgerError as err:
                    ledger.record_audit(who.name, who.roles, "commit", target, f"refused: {err}", asked)
                    raise Refusal("ledger-refused", said(err), audited=True) from None
                return {
                    "claim_id": result.claim_id,
                    "status": result.status,
                    "seq": result.seq,
                    "grants": result.grants,
                    "decision": result.decision,
                }

        return JSONResponse(await bounded(svc, request, work, ledger=True))

    def fields(data: Any, required: tuple[str, ...], optional: tuple[str, ...], lang: str, where: JsonText) -> dict[str, str]:
        """The request's fields, or its problems each placed at its line and column in the body (`where`), as a
        claim's are (they said the field alone)."""
        if not isinstance(data, dict):
            problem = Problem(msg("service.problem.not_object"), file="request", code="service.body")
            raise Refusal("invalid-request", problem.message, [problem])
        missing = [k for k in required if data.get(k) is None]
        problems = [Problem(msg("service.problem.field_required", field=k), (k,), "request", code="service.body") for k in missing]
        problems += [
            Problem(
                msg("service.problem.field_unknown", field=k), (k,), "request", code="service.body", expected=", ".join(required + optional)
            )
            for k in data
            if k not in required + optional
        ]
        problems += [not_text(k, data[k]) for k in required + optional if k in data and k not in missing and not isinstance(data[k], str)]
        problems += [  # (ids and values as a claim's text; a reason's own words are the ledger's to check: it may run over lines)
            Problem(wrong, (k,), "request", code="service.body")
            for k, v in data.items()
            if k != "reason" and k in required + optional and isinstance(v, str) and (wrong := text_problem(v)) is not None
        ]
        if problems:
            problems = [located(p, where) for p in problems]
            raise Refusal("invalid-request", problems[0].message, problems)
        return {k: data[k] for k in required + optional if k in data}

    async def reverse(request: Request) -> Response:
        who = svc.may_write(request)
        lang = lang_of(request)
        data, where = await read_json(request, svc)
        asked = fields(data, ("claim_id", "item_id", "reason"), ("returned", "decided_on"), lang, where)
        quantum = min(p.quantum for p in svc.catalogue.all_versions())
        target = f"{asked['claim_id']}/{asked['item_id']}"
        key = request.headers.get("idempotency-key")  # (sent again under it after a lost answer: recorded once)
        detail = {**asked, "request_key": key} if key is not None else asked

        deadline = time.monotonic() + svc.config.limits.timeout_seconds  # (as `bounded` answers it)

        def work() -> dict[str, Any]:
            with svc.ledger_until(lang, deadline) as ledger:
                try:
                    returned = plain_amount(asked["returned"]) if "returned" in asked else None
                    if returned is None and "returned" in asked:  # (1e3, " 1.00", 1_000.00, full-width digits: never read)
                        raise LedgerError(msg("service.detail.not_amount"))
                    check_reversal(returned, asked.get("decided_on"), quantum)
                    rid = ledger.reverse(
                        asked["claim_id"],
                        asked["item_id"],
                        reason=asked["reason"],
                        returned=returned,
                        decided_on=asked.get("decided_on"),
                        quantum=quantum,
                        audit=Audit(who.name, who.roles, "reverse", target, detail),
                        request_key=key,
                    )
                except LedgerBusyError:  # held by another past this request's time: nothing written, nothing audited
                    raise svc.timed_out() from None
                except (LedgerError, InvalidOperation) as err:
                    ledger.record_audit(who.name, who.roles, "reverse", target, f"refused: {err}", detail)
                    raise Refusal("ledger-refused", said(err) if str(err) else msg("service.detail.not_amount"), audited=True) from None
                return {"reversal": rid, "claim_id": asked["claim_id"], "item_id": asked["item_id"]}

        return JSONResponse(await bounded(svc, request, work, ledger=True))

    async def finding(request: Request) -> Response:
        who = svc.may_write(request)
        lang = lang_of(request)
        versions = asked_policies(svc, request).versions
        data, where = await read_json(request, svc)
        asked = fields(data, ("applicant_id", "fact", "value", "reason"), (), lang, where)

        deadline = time.monotonic() + svc.config.limits.timeout_seconds  # (as `bounded` answers it)

        def work() -> dict[str, Any]:
            with svc.ledger_until(lang, deadline) as ledger:
                try:
                    check_finding(versions, asked["applicant_id"], asked["fact"], asked["value"])
                    record, recorded = ledger.record_finding_once(
                        asked["applicant_id"],
                        asked["fact"],
                        asked["value"],
                        reason=asked["reason"],
                        policy=versions,
                        audit=Audit(who.name, who.roles, "finding", asked["applicant_id"], asked),
                    )
                except LedgerBusyError:  # held by another past this request's time: nothing written, nothing audited
                    raise svc.timed_out() from None
                except LedgerError as err:
                    ledger.record_audit(who.name, who.roles, "finding", asked["applicant_id"], f"refused: {err}", asked)
                    raise Refusal("ledger-refused", said(err), audited=True) from None
                # (the same finding sent again: `recorded` false, the number and date of the one on record; nothing stored)
                return {"finding": record["id"], **asked, "recorded": recorded, "recorded_at": record["recorded_at"]}

        return JSONResponse(await bounded(svc, request, work, ledger=True))

    def withdraw(kind: str) -> Callable[[Request], Awaitable[Response]]:
        """`POST /ledger/{reversals|findings}/{number}/withdraw`: a reversal or finding recorded by mistake withdrawn
        (`Ledger.withdraw`, as `ledger withdraw` does at the command line), audited with its officer; its record as it
        now stands. The CLI and the Python API could withdraw one; the service could not."""

        async def route(request: Request) -> Response:
            who = svc.may_write(request)
            lang = lang_of(request)
            written = str(plain_words(request.path_params["number"], "number"))
            if not (written.isascii() and written.isdigit() and len(written) <= 18):  # (١٢, 1e3, -1: no record's number)
                wrong = msg("service.problem.not_number", value=repr(written[:40]))
                raise Refusal("invalid-request", wrong, [Problem(wrong, ("number",), "request", code="service.request")])
            data, where = await read_json(request, svc)
            asked = fields(data, ("reason",), (), lang, where)
            number, target = int(written), f"{kind} {int(written)}"
            deadline = time.monotonic() + svc.config.limits.timeout_seconds  # (as `bounded` answers it)

            def work() -> dict[str, Any]:
                with svc.ledger_until(lang, deadline) as ledger:
                    try:
                        return ledger.withdraw(
                            kind, number, reason=asked["reason"], audit=Audit(who.name, who.roles, "withdraw", target, asked)
                        )
                    except LedgerBusyError:  # held by another past this request's time: nothing written, nothing audited
                        raise svc.timed_out() from None
                    except LedgerError as err:
                        ledger.record_audit(who.name, who.roles, "withdraw", target, f"refused: {err}", asked)
                        words = err.args[0] if err.args else None
                        if isinstance(words, Msg) and words.key == f"ledger.withdraw.no_{kind}":  # (in the service's words)
                            raise Refusal("not-found", msg(f"service.detail.no_{kind}", n=number), audited=True) from None
                        raise Refusal("ledger-refused", said(err), audited=True) from None

            return JSONResponse(await bounded(svc, request, work, ledger=True))

        return route

    async def claim_explanation(request: Request) -> Response:
        """A committed decision, as committed, explained (a page an officer can open in a browser)."""
        svc.may_read(request)
        lang, fmt = explain_options(request)
        claim_id = str(plain_words(request.path_params["claim_id"], "claim_id"))
        if not claim_id:  # (`{claim_id:path}` takes an empty one: /ledger/claims//explanation is no address)
            raise Refusal("not-found", msg("service.detail.no_route", path=request.url.path))
        cat = svc.catalogue

        def work() -> str:
            with svc.ledger_lock:
                stored = svc.ledger(lang).stored_decision(claim_id)
            if stored is None:
                raise Refusal("not-found", msg("service.detail.no_claim", claim_id=claim_id))
            policy = cat.policy_set(stored.get("policy", {}).get("id")).by_hash(stored.get("policy", {}).get("hash"))
            if policy is None:
                raise Refusal("not-found", msg("service.detail.version_gone", claim_id=claim_id))
            return explain(policy, stored, lang=lang, format=fmt)

        return explanation_response(await bounded(svc, request, work, ledger=True), fmt, lang)

    async def audit(request: Request) -> Response:
        svc.may_write(request)
        lang = lang_of(request)

        def work() -> list[dict[str, Any]]:
            with svc.ledger_lock:
                return svc.ledger(lang).audit_log(actor=plain_words(request.query_params.get("actor"), "actor"))

        return JSONResponse(await bounded(svc, request, work, ledger=True))

    return [
        Route("/ledger/applicants/{applicant_id}", applicant),
        Route("/ledger/commit", commit, methods=["POST"]),
        Route("/ledger/reverse", reverse, methods=["POST"]),
        Route("/ledger/findings", finding, methods=["POST"]),
        Route("/ledger/reversals/{number}/withdraw", withdraw("reversal"), methods=["POST"]),
        Route("/ledger/findings/{number}/withdraw", withdraw("finding"), methods=["POST"]),
        Route("/ledger/audit", audit),
        # (`:path`: a claim id may hold a slash, PG/2022/0009, and is committed so; its page was 404 "no such address")
        Route("/ledger/claims/{claim_id:path}/explanation", claim_explanation),
    ]


def usage_of(cat: Catalogue, grants: list[dict[str, Any]]) -> dict[str, Any]:
    """Caps and limits an applicant's active grants used, each with its ceiling under the version that granted it
    (`engine.records.statement.rooms`, which `ledger statement` says too). A cap's `ceiling_is` says why a ceiling
    is null: `computed` (from each claim's facts) or `unknown` (the version that made the grants is not served)."""
    caps, limits = [], []
    for r in rooms(grants, cat.all_versions()):
        if r.kind == "cap":
            ceiling = None if r.ceiling is None else format_money(Decimal(r.ceiling))
            ceiling_is = "fixed" if ceiling is not None else "unknown" if r.cites is None else "computed"
            used = format_money(Decimal(r.used))
            caps.append({"cap": r.id, "scope": list(r.scope), "used": used, "ceiling": ceiling, "ceiling_is": ceiling_is})
        else:
            limit: dict[str, Any] = {"limit": r.id, "scope": list(r.scope), "counted": list(r.counted), "at_most": r.ceiling}
            if r.ceiling is not None:  # (a consecutive limit's at_most counts years in a row, not its years in all)
                limit["consecutive"] = r.consecutive
            limits.append({**limit, "times": r.used})
    return {"caps_used": caps, "limits_used": limits}


#: routes whose query string is not read at all (a monitor may add its own parameters)
_ANY_QUERY = frozenset({"/health", "/ready", "/metrics", "/openapi.json", "/docs"})


_CONVERTOR = re.compile(r":[a-z]+}")


class Observe:
    """ASGI middleware: metrics by route template and status; any refusal or crash becomes problem+json."""

    def __init__(self, app: ASGIApp, svc: Service, table: list[Route]) -> None:
        self.app, self.svc, self.table = app, svc, table

    def route_of(self, scope: Scope) -> str:
        for route in self.table:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return _CONVERTOR.sub("}", route.path)  # (the address as the API page writes it: {claim_id})
        return "(unknown)"

    def refused_caller(self, scope: Scope, route: str) -> Refusal | None:
        """The refusal the route would give the caller for its token (401, 403), or None."""
        request = Request(scope)
        try:
            self.svc.may_write(request) if officers_only(route, request) else self.svc.may_read(request)
        except Refusal as refusal:
            return refusal
        return None

    def unknown_query(self, scope: Scope, route: str) -> Msg | None:
        """What is wrong with the query string, if anything: a parameter the route does not take (as the API page
        lists them; `lang` on every route) or a `lang` the service does not speak. Either was ignored unsaid: a
        misspelt `?histroy=ledger` decided without the ledger's history, `?lang=fr` answered in the default."""
        query = scope.get("query_string", b"")
        if not query or route in _ANY_QUERY:
            return None
        taken = self.svc.query_names().get((scope["method"].lower(), route))
        if taken is None:  # (a route the API page does not describe: its own words)
            return None
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if name == "lang" and value and known_language(value) is None:  # (an empty one: as if not given)
                return msg("service.detail.bad_param", name="lang", value=value, expected="zh | en")
            if name != "lang" and name not in taken:
                close = suggest(name, taken)
                known = sorted({*taken, "lang"})
                if close:
                    return msg("service.detail.unknown_param_hint", name=repr(name), hint=close, known=known)
                return msg("service.detail.unknown_param", name=repr(name), known=known)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        route = self.route_of(scope)
        wrong = self.unknown_query(scope, route)
        if wrong is not None:
            # the caller's own refusal first (401, 403), as the route gives it before it reads a parameter: a caller
            # with no token learnt the route's parameters from a 400, and was refused for a typo, not for the token
            caller = self.refused_caller(scope, route)
            kind = caller.kind if caller is not None else "invalid-request"
            said = caller.detail if caller is not None and isinstance(caller.detail, Msg) else wrong
            answered = await send_problem(scope, send, kind, said, self.svc.config.lang, authenticate=kind == "unauthorized")
            self.svc.metrics.observe(scope["method"], route, answered, time.perf_counter() - started)
            return
        status = [500]

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.svc.metrics.observe(scope["method"], self.route_of(scope), status[0], time.perf_counter() - started)


def create_app(config: Config) -> ASGIApp:
    svc = Service(config)
    table = routes(svc)

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refusal)
        return problem_response(request, exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return problem_response(request, Refusal("not-found", no_route(request, table)))
        if exc.status_code == 405:
            allow = (exc.headers or {}).get("Allow")
            return problem_response(request, Refusal("method-not-allowed", msg("service.detail.method", method=request.method)), allow)
        return problem_response(request, Refusal("invalid-request", str(exc.detail)))

    async def crashed(request: Request, exc: Exception) -> Response:
        return problem_response(request, Refusal("internal", msg("service.detail.internal", name=type(exc).__name__)))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        try:  # SIGHUP: reload this worker (several workers: uvicorn's supervisor replaces them, each loading anew)
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.run_in_executor(None, svc.reload))
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
            pass
        settle_heap()
        chores = [asyncio.create_task(flush_metrics(svc)), asyncio.create_task(sweep_jobs(svc))]
        yield
        for chore in chores:
            chore.cancel()
        svc.metrics.flush(force=True)  # what this worker counted stays in the service's totals after it stops
        svc.close()

    app = Starlette(
        routes=table,
        exception_handlers={Refusal: refused, HTTPException: http_error, Exception: crashed},
        lifespan=lifespan,
    )
    # `/rounds/` is not `/rounds`: a 404 naming the address meant, not Starlette's 307 to it, whose Location is built
    # from the Host header and the scheme uvicorn saw (behind a TLS proxy, an http:// address the body was sent on to)
    app.router.redirect_slashes = False
    app.state.service = svc
    app.add_middleware(Observe, svc=svc, table=table)
    return FastEvaluate(app, svc)  # POST /evaluate's common case answered before Starlette (engine/service/fast.py)


def no_route(request: Request, table: list[Route]) -> Msg:
    """What a 404 for an address no route takes says: the address without its final slash, when a route takes that."""
    path = request.url.path
    bare = path.rstrip("/")
    if bare and bare != path and any(r.matches({**request.scope, "path": bare})[0] is not Match.NONE for r in table):
        return msg("service.detail.no_route_slash", path=path, bare=bare)
    return msg("service.detail.no_route", path=path)


def settle_heap(thaw: bool = False) -> None:
    """Move what the worker loaded (policies, schemas, the OpenAPI document, the libraries) out of the cyclic
    garbage collector's way (`gc.freeze`): each request makes many short-lived objects, and every collection of
    the oldest generation would otherwise walk the whole loaded heap again (~10-15% of a small decision's time,
    measured in process). After a reload (`thaw`, once the requests that held the old catalogue are done):
    unfreeze, collect what the old catalogue left, freeze again."""
    if thaw:
        gc.unfreeze()
        gc.collect()
    gc.freeze()


async def flush_metrics(svc: Service) -> None:
    """Write this worker's counts to the shared metrics folder now and then (several workers; metrics.py)."""
    if svc.metrics.shared is None:
        return
    while True:
        await asyncio.sleep(FLUSH_SECONDS)
        await anyio.to_thread.run_sync(svc.metrics.flush)


async def sweep_jobs(svc: Service) -> None:
    """Remove finished round jobs past their time or beyond the bounds now and then (rounds.py)."""
    while True:
        await anyio.to_thread.run_sync(svc.jobs.sweep)
        await asyncio.sleep(rounds.SWEEP_SECONDS)


def app_from_env() -> ASGIApp:
    """The factory each uvicorn worker calls (`uvicorn --factory engine.service.app:app_from_env`)."""
    return create_app(Config.from_env())
