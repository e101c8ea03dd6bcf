"""`policy-engine serve` / `python -m engine serve`: the command that starts the web service under uvicorn.

This module needs neither Starlette nor uvicorn to be imported (they are the optional `service` extra, imported
when the command runs); without them, `serve` says what to install (exit 2).
"""

from __future__ import annotations

import argparse
import errno
import os
import shutil
import tempfile
from typing import Any

from engine.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, EXIT_WHEN, command
from engine.cli.common import NUMBER, WHOLE_NUMBER, say
from engine.core.errors import EngineError, os_reason
from engine.core.i18n import language, msg
from engine.service.config import Limits

#: the service's own bounds on a request: the options' defaults (one place: docs/service.md and SECURITY.md say them)
_LIMITS = Limits()

#: the longest wait taken (`--timeout`, `--body-timeout`, `--worker-start-timeout`: a day), and `--jobs-ttl` (a year)
LONGEST_WAIT, LONGEST_KEPT = 86_400.0, 366 * 86_400.0


def cmd_serve(args: argparse.Namespace) -> int:
    return _serve(args)


EXIT_WHEN["serve"] = (msg("cli.exit.when.serve"), None)


@command("serve", msg("cli.serve.help"), cmd_serve)
def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policies", required=True, metavar="DIR", help=msg("cli.serve.policies"))
    p.add_argument("--host", default="127.0.0.1", help=msg("cli.serve.host"))
    p.add_argument("--port", type=WHOLE_NUMBER, default=8000, help=msg("cli.serve.port"))
    p.add_argument("--workers", type=WHOLE_NUMBER, default=1, metavar="N", help=msg("cli.serve.workers"))
    p.add_argument("--ledger", metavar="URL", help=msg("cli.serve.ledger"))
    p.add_argument("--token-file", metavar="F", help=msg("cli.serve.token_file"))
    p.add_argument("--reads", choices=("open", "token"), default="open", help=msg("cli.serve.reads"))
    p.add_argument("--max-body", type=WHOLE_NUMBER, default=_LIMITS.max_body_bytes, metavar="BYTES", help=msg("cli.serve.max_body"))
    p.add_argument("--max-items", type=WHOLE_NUMBER, default=_LIMITS.max_items, metavar="N", help=msg("cli.serve.max_items"))
    p.add_argument("--timeout", type=NUMBER, default=_LIMITS.timeout_seconds, metavar="SECONDS", help=msg("cli.serve.timeout"))
    p.add_argument("--body-timeout", type=NUMBER, default=_LIMITS.body_seconds, metavar="SECONDS", help=msg("cli.serve.body_timeout"))
    p.add_argument("--jobs-dir", metavar="DIR", help=msg("cli.serve.jobs_dir"))
    p.add_argument(
        "--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"), help=msg("cli.serve.log_level")
    )
    p.add_argument("--jobs-ttl", type=NUMBER, default=_LIMITS.job_ttl_seconds, metavar="SECONDS", help=msg("cli.serve.jobs_ttl"))
    p.add_argument("--jobs-kept", type=WHOLE_NUMBER, default=_LIMITS.jobs_kept, metavar="N", help=msg("cli.serve.jobs_kept"))
    p.add_argument("--jobs-bytes", type=WHOLE_NUMBER, default=_LIMITS.jobs_bytes, metavar="BYTES", help=msg("cli.serve.jobs_bytes"))
    p.add_argument("--inline-items", type=WHOLE_NUMBER, default=_LIMITS.inline_items, metavar="N", help=msg("cli.serve.inline_items"))
    p.add_argument("--worker-start-timeout", type=WHOLE_NUMBER, default=60, metavar="SECONDS", help=msg("cli.serve.worker_start_timeout"))
    p.add_argument("--access-log", action="store_true", help=msg("cli.serve.access_log"))


def _serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn
        import uvicorn.protocols.http.httptools_impl  # noqa: F401

        from engine.service.config import Limits
        from engine.service.drain import protocol  # noqa: F401
    except ModuleNotFoundError as err:
        say(msg("cli.serve.needs_extra", missing=err.name or "?"), err=True)
        return EXIT_USAGE
    numbers = (
        args.worker_start_timeout,
        args.workers,
        args.max_body,
        args.max_items,
        args.timeout,
        args.body_timeout,
        args.jobs_ttl,
        args.jobs_kept,
        args.jobs_bytes,
    )
    if min(numbers) <= 0 or args.inline_items < 0:
        say(msg("cli.serve.positive"), err=True)
        return EXIT_USAGE
    bounded = (
        ("--timeout", args.timeout, LONGEST_WAIT),
        ("--body-timeout", args.body_timeout, LONGEST_WAIT),
        ("--worker-start-timeout", args.worker_start_timeout, LONGEST_WAIT),
        ("--jobs-ttl", args.jobs_ttl, LONGEST_KEPT),
    )
    for option, seconds, longest in bounded:
        # longer is a slip (milliseconds for seconds); `inf` or `nan` would let a request or a job wait for ever
        if not seconds <= longest:
            say(msg("cli.serve.too_long", option=option, value=format(seconds, "g")), err=True)
            return EXIT_USAGE
    limits = Limits(
        max_body_bytes=args.max_body,
        max_items=args.max_items,
        timeout_seconds=args.timeout,
        body_seconds=args.body_timeout,
        inline_items=args.inline_items,
        job_ttl_seconds=args.jobs_ttl,
        jobs_kept=args.jobs_kept,
        jobs_bytes=args.jobs_bytes,
    )
    if args.jobs_dir is not None and (unusable := _unusable_folder(args.jobs_dir)) is not None:
        # (checked before any worker starts: a file named there answered every round 500, after starting well)
        say(msg("cli.serve.jobs_dir_unusable", path=args.jobs_dir, reason=unusable), err=True)
        return EXIT_USAGE
    metrics_dir = tempfile.mkdtemp(prefix="policy-engine-metrics-") if args.workers > 1 else None
    try:
        return _run(args, limits, metrics_dir)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _unusable_folder(path: str) -> str | None:
    """Why rounds cannot write under `path` (made if missing), or None."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        return os_reason(exc)
    return None if os.access(path, os.W_OK | os.X_OK) else os_reason(PermissionError(errno.EACCES, "Permission denied"))


def _run(args: argparse.Namespace, limits: Any, metrics_dir: str | None) -> int:
    import uvicorn

    from engine.service.app import create_app
    from engine.service.config import CONFIG_ENV, Config
    from engine.service.drain import HEAD_SECONDS_ENV, protocol
    from engine.service.logs import log_config

    config = Config(
        policies=os.path.abspath(args.policies),
        ledger_url=args.ledger,
        token_file=args.token_file,
        reads=args.reads,
        workers=args.workers,
        jobs_dir=args.jobs_dir,
        lang=language(),  # answers say themselves in this language when a request names none
        metrics_dir=metrics_dir,
        limits=limits,
    )
    # the service's language in its environment, which every worker process starts with: what a worker says before
    # it has a request to take one from (a request that is not HTTP) is said in it, whatever --lang chose here
    os.environ["POLICY_ENGINE_LANG"] = config.lang
    os.environ[HEAD_SECONDS_ENV] = str(limits.body_seconds)  # (a request's head has as long as its body: drain.py)
    try:  # everything is checked once before any worker starts: a bad folder or token file is exit 1, not a crash loop
        app = create_app(config)
    except EngineError as err:
        say(str(err), err=True)
        return EXIT_INVALID
    common = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "access_log": args.access_log,
        "http": protocol(),  # uvicorn's httptools protocol, draining connections when a worker stops (engine/service/drain.py)
        "lifespan": "on",
        "server_header": False,
        "log_config": log_config(config.lang),  # uvicorn's lines in the officer's language (engine/service/logs.py)
    }
    try:
        if args.workers == 1:
            uvicorn.run(app, **common)
        else:
            os.environ[CONFIG_ENV] = config.to_env()
            # a replacement worker loads and validates the whole folder before it is ready: give it time (uvicorn: 5 s)
            uvicorn.run(
                "engine.service.app:app_from_env",
                factory=True,
                workers=args.workers,
                timeout_worker_healthcheck=args.worker_start_timeout,
                **common,
            )
    except SystemExit as stop:  # uvicorn's 3: it could not start (a port in use, said in its log): this command's 1
        return EXIT_INVALID if stop.code else EXIT_OK
    return EXIT_OK
