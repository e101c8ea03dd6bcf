"""`policy-engine serve` / `python -m engine serve`: the command that starts the web service under uvicorn.

This module needs neither Starlette nor uvicorn to be imported (they are the optional `service` extra, imported
when the command runs); without them, `serve` says what to install (exit 2).
"""

from __future__ import annotations

import argparse
import os

from engine.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, EXIT_WHEN, command
from engine.cli.common import say
from engine.core.errors import EngineError
from engine.core.i18n import msg


def cmd_serve(args: argparse.Namespace) -> int:
    return _serve(args)


EXIT_WHEN["serve"] = (msg("cli.exit.when.serve"), None)


@command("serve", msg("cli.serve.help"), cmd_serve)
def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policies", required=True, metavar="DIR", help=msg("cli.serve.policies"))
    p.add_argument("--host", default="127.0.0.1", help=msg("cli.serve.host"))
    p.add_argument("--port", type=int, default=8000, help=msg("cli.serve.port"))
    p.add_argument("--workers", type=int, default=1, metavar="N", help=msg("cli.serve.workers"))
    p.add_argument("--ledger", metavar="URL", help=msg("cli.serve.ledger"))
    p.add_argument("--token-file", metavar="F", help=msg("cli.serve.token_file"))
    p.add_argument("--reads", choices=("open", "token"), default="open", help=msg("cli.serve.reads"))
    p.add_argument("--max-body", type=int, default=2_000_000, metavar="BYTES", help=msg("cli.serve.max_body"))
    p.add_argument("--max-items", type=int, default=200, metavar="N", help=msg("cli.serve.max_items"))
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help=msg("cli.serve.timeout"))
    p.add_argument("--body-timeout", type=float, default=30.0, metavar="SECONDS", help=msg("cli.serve.body_timeout"))
    p.add_argument("--jobs-dir", metavar="DIR", help=msg("cli.serve.jobs_dir"))
    p.add_argument(
        "--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"), help=msg("cli.serve.log_level")
    )


def _serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from engine.service.app import create_app
        from engine.service.config import CONFIG_ENV, Config, Limits
    except ModuleNotFoundError as err:
        say(msg("cli.serve.needs_extra", missing=err.name or "?"), err=True)
        return EXIT_USAGE
    if args.workers < 1 or args.max_body < 1 or args.max_items < 1 or args.timeout <= 0 or args.body_timeout <= 0:
        say(msg("cli.serve.positive"), err=True)
        return EXIT_USAGE
    limits = Limits(max_body_bytes=args.max_body, max_items=args.max_items, timeout_seconds=args.timeout, body_seconds=args.body_timeout)
    config = Config(
        policies=os.path.abspath(args.policies),
        ledger_url=args.ledger,
        token_file=args.token_file,
        reads=args.reads,
        workers=args.workers,
        jobs_dir=args.jobs_dir,
        limits=limits,
    )
    try:  # everything is checked once before any worker starts: a bad folder or token file is exit 1, not a crash loop
        app = create_app(config)
    except EngineError as err:
        say(str(err), err=True)
        return EXIT_INVALID
    common = {"host": args.host, "port": args.port, "log_level": args.log_level, "lifespan": "on", "server_header": False}
    if args.workers == 1:
        uvicorn.run(app, **common)
    else:
        os.environ[CONFIG_ENV] = config.to_env()
        uvicorn.run("engine.service.app:app_from_env", factory=True, workers=args.workers, **common)
    return EXIT_OK
