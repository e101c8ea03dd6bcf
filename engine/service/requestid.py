"""Every request's id: the caller's `X-Request-Id` when it is one a log line and a header can carry as it is, else one
made here. It is answered in the `X-Request-Id` header, in every problem body (`request_id`), and written in every
log line about the request (engine/service/logs.py), so a caller's complaint, the proxy's log and ours meet on it.

The outermost ASGI layer (`FastEvaluate`, the lean path) takes it first, so the lean path's answers carry it too. It
travels in the scope (`SCOPE_KEY`, for the answers) and in a context variable (`REQUEST_ID`, for the log lines: uvicorn
writes its access line inside the request's own task, and worker threads are given the task's context by anyio).
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from contextvars import ContextVar
from typing import Any

#: the scope's key for the request's id
SCOPE_KEY = "policy_engine_request_id"
#: the request's id, for the log lines written while it is answered (None: a line about no request)
REQUEST_ID: ContextVar[str | None] = ContextVar("policy_engine_request_id", default=None)
HEADER = b"x-request-id"
#: A caller's id is taken when it is 1-128 visible ASCII characters (0x21-0x7E): no space, no control character, so
#: it stays one field of one log line and a header can carry it back; any other is replaced (the request is answered).
MAX_LENGTH = 128
_SANE = re.compile(rb"[\x21-\x7e]{1,%d}" % MAX_LENGTH)

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]


def take(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The request's id: its `X-Request-Id` if sane, else a new one (32 hex digits, as nginx's `$request_id`)."""
    for name, value in headers:
        if name == HEADER:
            if _SANE.fullmatch(value):
                return value.decode("ascii")
            break
    return os.urandom(16).hex()


def tagged(send: Send, request_id: str) -> Send:
    """`send`, with the answer's head saying the request's id."""
    header = (HEADER, request_id.encode("ascii"))

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), header]}
        await send(message)

    return sending
