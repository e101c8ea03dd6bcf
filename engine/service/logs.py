"""The service's log lines in the officer's language: uvicorn's own lines (the server started, where it listens,
a port already taken, a worker that died) said by the message catalogue, with their level in words.

uvicorn writes its lines in English and gives no hook to word them, so the formatters here read each line as
uvicorn wrote it and, when it is one they know (`_UVICORN_LINES`), say it again from the catalogue's
`service.log.*`; a line they do not know (a newer uvicorn's, a traceback) is kept as written, never dropped. The
access log keeps its request line and status as they are (they are the protocol's), with its level in words.

Every line starts with when it was written, ISO 8601 in UTC to the millisecond (`2026-12-06T08:05:03.123Z`), and a
line about a request -- its access line, a warning or error written while it was answered -- says the request's id
in brackets after the level (`[4bf92f3577b34da6a3ce929d0e0e4736]`), as its `X-Request-Id` answer header and problem
body do (engine/service/requestid.py); a line about no request (the server started, a worker replaced) has none. One
line per event (a traceback follows the line that says a request failed, as uvicorn writes it).
`serve` hands uvicorn `log_config(lang)`, which each worker process applies (a dict of import paths: it travels to
workers started by uvicorn's supervisor).
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import re
import unicodedata
from copy import copy
from typing import Any

from uvicorn.logging import AccessFormatter, DefaultFormatter

from engine.core.i18n import lookup, msg
from engine.service.requestid import REQUEST_ID

#: uvicorn's lines (as `record.getMessage()` gives them) -> the catalogue key that says them; named groups fill it.
_UVICORN_LINES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), f"service.log.{key}")
    for pattern, key in (
        (r"Started server process \[(?P<pid>\d+)\]", "started"),
        (r"Finished server process \[(?P<pid>\d+)\]", "finished"),
        (r"Started parent process \[(?P<pid>\d+)\]", "parent_started"),
        (r"Stopping parent process \[(?P<pid>\d+)\]", "parent_stopping"),
        (r"Waiting for child process \[(?P<pid>\d+)\]", "child_waiting"),
        (r"Terminated child process \[(?P<pid>\d+)\]", "child_terminated"),
        (r"Child process \[(?P<pid>\d+)\] died", "child_died"),
        (r"Child process \[(?P<pid>\d+)\] failed to start, stopping the parent process\.", "child_failed"),
        (r"Waiting for application startup\.", "app_starting"),
        (r"Application startup complete\.", "app_started"),
        (r"Application startup failed\. Exiting\.", "app_start_failed"),
        (r"Waiting for application shutdown\.", "app_stopping"),
        (r"Application shutdown complete\.", "app_stopped"),
        (r"Uvicorn running on (?P<url>\S+) \(Press CTRL\+C to quit\)", "running"),
        (r"Shutting down", "shutting_down"),
        (r"Waiting for connections to close\. \(CTRL\+C to force quit\)", "connections_closing"),
        (r"Waiting for background tasks to complete\. \(CTRL\+C to force quit\)", "tasks_finishing"),
        (r"Received (?P<signal>SIG[A-Z]+), exiting\.", "signal_exit"),
        (r"Received SIGHUP, restarting processes\.", "signal_restart"),
        (r"Invalid HTTP request received\.", "invalid_http"),
        (r"Exception in ASGI application\n?", "app_exception"),
        # asyncio's own words for a port it cannot listen on, which uvicorn logs as they are
        (
            r"\[Errno (?P<errno>\d+)\] error while attempting to bind on address "
            r"\('?(?P<host>[^',]*)'?, (?P<port>\d+)(?:, \d+, \d+)?\): (?P<reason>.*)",
            "cannot_listen",
        ),
        # the socket's own words, which uvicorn logs when it binds the port itself (several workers)
        (rf"\[Errno (?P<errno>{errno.EADDRINUSE}|{errno.EACCES}|{errno.EADDRNOTAVAIL})\] (?P<reason>[^:]*)", "cannot_listen_there"),
    )
)

_LEVELS = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warning",
    logging.ERROR: "error",
    logging.CRITICAL: "critical",
}


#: why a port cannot be listened on, by errno, in the catalogue's words (another errno: the system's own words)
_LISTEN_REASONS = {"EADDRINUSE": "in_use", "EACCES": "not_allowed", "EADDRNOTAVAIL": "no_such_address"}


def said_line(text: str, lang: str) -> str | None:
    """One of uvicorn's lines in `lang`, or None when it is not one the catalogue says."""
    for pattern, key in _UVICORN_LINES:
        found = pattern.fullmatch(text)
        if found is not None:
            values = found.groupdict()
            if ":" in (values.get("host") or ""):  # (an IPv6 address, bracketed as in a URL: [::1]:8000)
                values["host"] = f"[{values['host']}]"
            if "errno" in values:
                reason = _LISTEN_REASONS.get(errno.errorcode.get(int(values["errno"]), ""))
                if reason is not None:
                    values["reason"] = msg(f"service.log.listen_reason.{reason}")
            return msg(key, **values).render(lang)
    return None


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def level_prefix(levelno: int, levelname: str, lang: str) -> str:
    """`信息：` for INFO in Chinese, `INFO:` in English, padded as uvicorn pads it (to 9 columns)."""
    word = lookup(f"service.log.level.{_LEVELS[levelno]}", lang) if levelno in _LEVELS else levelname
    word += "：" if lang == "zh" else ":"
    return word + " " * max(1, 9 - _width(word))


class _InLanguage(logging.Formatter):
    """A formatter given the language it says things in (`lang=`, from the logging configuration); `%(asctime)s` is
    ISO 8601 in UTC, and `%(request)s` the id of the request the line is about, bracketed, or nothing."""

    def __init__(self, *args: Any, lang: str = "zh", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lang = lang

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        when = dt.datetime.fromtimestamp(record.created, dt.UTC)
        return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    @staticmethod
    def about(said: logging.LogRecord) -> None:
        """`said` given the request it is about (written in that request's task, or a thread working for it)."""
        rid = REQUEST_ID.get()
        said.__dict__["request"] = f"[{rid}] " if rid else ""


class SaidFormatter(_InLanguage, DefaultFormatter):
    """uvicorn's default formatter, its lines and levels said in `lang`."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        said = copy(record)
        words = said_line(record.getMessage(), self.lang)
        if words is not None:
            said.msg, said.args, said.message = words, (), words
            said.__dict__.pop("color_message", None)  # (uvicorn's coloured copy of the English line)
        said.__dict__["levelprefix"] = level_prefix(record.levelno, record.levelname, self.lang)
        self.about(said)
        return logging.Formatter.formatMessage(self, said)


class SaidAccessFormatter(_InLanguage, AccessFormatter):
    """uvicorn's access-log formatter, its level said in `lang` (the request line and status are the protocol's)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        said = copy(record)
        client, method, path, version, status = record.args  # type: ignore[misc]
        said.__dict__.update(
            client_addr=client,
            request_line=f"{method} {path} HTTP/{version}",
            status_code=self.get_status_code(int(str(status))),
            levelprefix=level_prefix(record.levelno, record.levelname, self.lang),
        )
        self.about(said)
        return logging.Formatter.formatMessage(self, said)


#: the service's lines, and its access lines (uvicorn's fields, after when and before the request's id)
DEFAULT_LINE = "%(asctime)s %(levelprefix)s %(request)s%(message)s"
ACCESS_LINE = '%(asctime)s %(levelprefix)s %(request)s%(client_addr)s - "%(request_line)s" %(status_code)s'


def log_config(lang: str) -> dict[str, Any]:
    """uvicorn's logging configuration (its `LOGGING_CONFIG`'s shape) with the formatters above, in `lang`; the
    service's own logger (`policy_engine.service`) writes where uvicorn's error log does."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "default": {"()": f"{__name__}.SaidFormatter", "fmt": DEFAULT_LINE, "use_colors": False, "lang": lang},
            "access": {
                "()": f"{__name__}.SaidAccessFormatter",
                "fmt": ACCESS_LINE,
                "use_colors": False,
                "lang": lang,
            },
        },
        "handlers": {
            "default": {"formatter": "default", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
            "access": {"formatter": "access", "class": "logging.StreamHandler", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "policy_engine": {"handlers": ["default"], "level": "INFO", "propagate": False},
        },
    }
