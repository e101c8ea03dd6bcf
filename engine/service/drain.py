"""Connection draining for uvicorn's HTTP protocol (httptools): when a worker stops -- uvicorn's supervisor
replacing it on a reload, or a plain shutdown -- no request already sent to it is dropped.

uvicorn's own `shutdown()` closes every connection that has no request in progress at once. A connection the
worker accepted a moment before it stopped listening, whose request bytes are on their way (or in the socket
buffer, not yet read), counts as idle and is closed with its request unanswered; so is a keep-alive connection
on which the client is just sending its next request. Here such a connection is given `GRACE_SECONDS`: a
request that arrives in that time is answered (with `Connection: close`), then the connection closes; one that
stays silent is closed at the end of it. Requests in progress finish as before (uvicorn waits for them).

It also answers a request that is not HTTP at all (bytes uvicorn's parser cannot read) as every other refusal is
answered, with a problem in the service's language, where uvicorn's own answer is English plain text.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from engine.core.i18n import language, msg
from engine.service.problems import MEDIA, problem_body
from engine.service.requestid import REQUEST_ID

#: How long a stopping worker keeps an idle connection open for a request that may be on its way.
GRACE_SECONDS = 2.0
#: the environment variable `serve` puts `--body-timeout` in for its workers: also the time a request's head has
HEAD_SECONDS_ENV = "POLICY_ENGINE_HEAD_SECONDS"
DEFAULT_HEAD_SECONDS = 30.0
#: bytes a request's head (its request line and headers) may take, counted as they arrive: httptools holds a head
#: whole and copies a header's value again at each part of it that arrives (a 60 MB header was answered 200 after
#: 5.1 s of the event loop, every other request on the worker waiting; 100 MB held 200 MB)
MAX_HEAD_BYTES = 64 * 1024


class DrainingHttpToolsProtocol(HttpToolsProtocol):
    draining = False
    #: armed while a request's head is awaited: from the connection's start, and again after each answer (uvicorn
    #: has no such bound: a connection that sent half a head, or nothing, was held for minutes, 3,000 of them
    #: holding 3,016 descriptors; its keep-alive timer is cancelled by the first byte of a next request)
    head_timer: asyncio.TimerHandle | None = None
    #: bytes of the head being received (None from its end to the next request's first byte): a part of a read that
    #: begins a request behind another (pipelined) is not counted, so a head may pass the bound by one read
    head_bytes: int | None = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def on_message_begin(self) -> None:
        if self.head_bytes is None:
            self.head_bytes = 0
        super().on_message_begin()

    def _await_head(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
        seconds = float(os.environ.get(HEAD_SECONDS_ENV) or DEFAULT_HEAD_SECONDS)
        self.head_timer = self.loop.call_later(seconds, self._head_too_slow, seconds)

    def _head_too_slow(self, seconds: float) -> None:
        self.head_timer = None
        if self.transport.is_closing() or (self.cycle is not None and not self.cycle.response_complete):
            return  # (a request being answered: its head came)
        lang = language()
        status, body = problem_body("slow-body", lang, msg("service.detail.slow_head", limit=format(seconds, "g")))
        self._close_with(status, b"Request Timeout", body, lang)

    def data_received(self, data: bytes) -> None:
        # no request's id here: a callback of this connection's can run in the context a previous request's task left
        # (its reading resumed from that task), and what it logs, or the task it starts, would carry that id
        REQUEST_ID.set(None)
        if self.head_bytes is not None:
            ends = [i for i in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if i >= 0]  # (the head's end: the body is not)
            self.head_bytes += min(ends) if ends else len(data)
            if self.head_bytes > MAX_HEAD_BYTES:
                self._head_too_large()
                return
        super().data_received(data)

    def _head_too_large(self) -> None:
        """431 (RFC 6585) in the service's language, as for bytes that are not HTTP: the head is not read, so there is
        no request to take a language from; the connection closed."""
        self.head_bytes = None
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None
        lang = language()
        status, body = problem_body("head-too-large", lang, msg("service.detail.head_limit", limit=f"{MAX_HEAD_BYTES:,}"))
        self._close_with(status, b"Request Header Fields Too Large", body, lang)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None
        super().connection_lost(exc)

    def shutdown(self) -> None:
        if self.cycle is None or self.cycle.response_complete:
            self.draining = True
            self.loop.call_later(GRACE_SECONDS, self._close_if_idle)
        else:  # a request in progress: answered, then the connection closes (uvicorn's own behaviour)
            self.cycle.keep_alive = False

    def _close_if_idle(self) -> None:
        if (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing():
            self.transport.close()

    def on_headers_complete(self) -> None:
        self.head_bytes = None
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None
        super().on_headers_complete()
        if self.draining and self.cycle is not None:
            self.cycle.keep_alive = False  # the last request on this connection: answered with Connection: close

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.draining and not self.transport.is_closing():
            self.transport.close()
        elif not self.transport.is_closing():
            self._await_head()  # (the next request's head, within the same time)

    def send_400_response(self, msg_text: str) -> None:
        # uvicorn's parser refused the bytes: there is no request to read `?lang=` or Accept-Language from, so the
        # service's own language (the one its answers default to: `serve` puts it in each worker's environment)
        lang = language()
        status, body = problem_body("invalid-http", lang, msg("service.detail.invalid_http"))
        self._close_with(status, b"Bad Request", body, lang)

    def _close_with(self, status: int, reason: bytes, body: bytes, lang: str) -> None:
        """A problem written on the connection itself (no request to answer it through), and the connection closed."""
        head = [b"HTTP/1.1 %d %s" % (status, reason), *(name + b": " + value for name, value in self.server_state.default_headers)]
        head += [b"content-type: " + MEDIA.encode(), b"content-length: %d" % len(body), b"content-language: " + lang.encode()]
        head.append(b"connection: close")
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        self.transport.close()


def protocol() -> Any:
    """What to give uvicorn as `http=`: the draining protocol (an import string, so it travels to workers)."""
    return f"{__name__}:DrainingHttpToolsProtocol"
